//! Whole rows of an entity read from PostgreSQL by column position.
//!
//! sea-orm's generated decoding finds every column of every row by name: it
//! formats the name, hashes it and compares it in the driver's column map
//! before decoding the value. For a page of 51 customers that is 1,479 such
//! lookups, a tenth of the server's CPU on the page (docs/benchmarks.md).
//! Here the statement's columns are checked once against the entity's, in
//! order, and each value is decoded by its position into the type of the
//! entity's column, then set on the model as sea-orm's own decoding would
//! (`ActiveModel::try_set` refuses a value of another type).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ColumnType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IdenStatic, Iterable, QueryResult, Statement, TryIntoModel, Value,
};

/// How a column of a given type is decoded; `None` for a type read only by
/// name (then the whole select is).
fn decoder(ty: &ColumnType) -> Option<fn(&QueryResult, usize) -> Result<Value, DbErr>> {
    use ColumnType as T;
    // sea-query's types have dozens of kinds and more to come; a kind not
    // named here is read by sea-orm's own decoding.
    #[allow(clippy::wildcard_enum_match_arm)]
    let decode: fn(&QueryResult, usize) -> Result<Value, DbErr> = match ty {
        T::String(_) | T::Text | T::Char(_) => {
            |r, i| Ok(Value::String(r.try_get_by_index::<Option<String>>(i)?))
        }
        T::BigInteger => |r, i| Ok(Value::BigInt(r.try_get_by_index::<Option<i64>>(i)?)),
        T::Integer => |r, i| Ok(Value::Int(r.try_get_by_index::<Option<i32>>(i)?)),
        T::Boolean => |r, i| Ok(Value::Bool(r.try_get_by_index::<Option<bool>>(i)?)),
        T::TimestampWithTimeZone => |r, i| {
            Ok(Value::ChronoDateTimeUtc(
                r.try_get_by_index::<Option<DateTime<Utc>>>(i)?,
            ))
        },
        _ => return None,
    };
    Some(decode)
}

/// The decoders of `E`'s columns in order, or `None` when one of them is of
/// a type not decoded here.
type Decoders<E> = Vec<(
    <E as EntityTrait>::Column,
    fn(&QueryResult, usize) -> Result<Value, DbErr>,
)>;

fn decoders<E: EntityTrait>() -> Option<Decoders<E>> {
    E::Column::iter()
        .map(|c| decoder(c.def().get_column_type()).map(|d| (c, d)))
        .collect()
}

/// The rows of `stmt`, a select of `E`'s whole rows in `E`'s column order,
/// decoded by position; `None` when `E` has a column of a type not decoded
/// here (the caller reads by name then).
pub async fn read_all<E>(
    conn: &DatabaseConnection,
    stmt: Statement,
) -> Result<Option<Vec<E::Model>>, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let Some(decoders) = decoders::<E>() else {
        return Ok(None);
    };
    let rows = conn.query_all_raw(stmt).await?;
    if let Some(first) = rows.first() {
        check_columns::<E>(&first.column_names())?;
    }
    let mut models = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut model = <E::ActiveModel as ActiveModelTrait>::default();
        for (i, (column, decode)) in decoders.iter().enumerate() {
            let value = decode(row, i).map_err(|e| {
                DbErr::Type(format!(
                    "{}.{}: {e}",
                    E::default().table_name(),
                    column.as_str()
                ))
            })?;
            model.try_set(*column, value)?;
        }
        models.push(model.try_into_model()?);
    }
    Ok(Some(models))
}

/// Refuses a statement whose columns are not `E`'s, in order: a select of
/// part of a row would otherwise be misread.
fn check_columns<E: EntityTrait>(names: &[String]) -> Result<(), DbErr> {
    let expected: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
    if names
        .iter()
        .map(String::as_str)
        .eq(expected.iter().copied())
    {
        Ok(())
    } else {
        Err(DbErr::Custom(format!(
            "a read of whole {} rows selected {names:?}",
            E::default().table_name()
        )))
    }
}
