//! Short reads of whole rows on file-backed SQLite, run on the calling task
//! through read-only connections of this module's own, instead of through
//! the pool.
//!
//! Why: the pool's driver runs every SQLite connection on a thread of its
//! own, and every statement and every row crosses a channel to that thread
//! and back. On a GetCustomer, a point read served from SQLite's page cache
//! in a few microseconds, those hand-offs were a quarter of the server's CPU
//! (docs/benchmarks.md, decision 191). Here the statement runs where the
//! caller is.
//!
//! What may come here: a `Select` of one entity's whole rows (the columns
//! `Entity::find()` selects) that reads a bounded number of rows — one row
//! by key, one page. Such a read holds the runtime's thread for as long as
//! SQLite needs, so long scans and everything in a transaction stay on the
//! pool. The rows are decoded into the entity's model field by field
//! (`ActiveModelTrait::try_set`, which refuses a value of another type than
//! the field's), from values typed by the entity's column definitions,
//! with the formats the pool's driver writes (times as RFC 3339 text, UUIDs
//! as 16-byte blobs, JSON as text, booleans as 0 and 1).
//!
//! Under WAL a reader sees every transaction committed before its statement
//! began, as a pooled connection would, and never waits for a writer.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, DbErr, EntityTrait, IdenStatic, Iterable, Statement,
    TryIntoModel,
};

/// Idle connections kept for the next reads. A read holds its connection
/// without yielding, so about as many are in use at once as there are
/// threads running tasks; a connection beyond these is closed after its
/// read.
const IDLE_KEPT: usize = 16;
/// How long SQLite may work on a direct read before it is interrupted and
/// the read is made on the pool instead. A read by key or a page through an
/// index takes tens of microseconds; one whose filter makes SQLite walk many
/// rows (a status no index holds, a short name prefix) must not hold a
/// runtime thread for longer than this.
const WORK_BUDGET: Duration = Duration::from_millis(1);
/// SQLite's virtual-machine steps between two looks at the budget.
const BUDGET_CHECK_EVERY: std::os::raw::c_int = 1000;
/// Statements each connection keeps prepared.
const STATEMENTS_KEPT: usize = 128;
/// How much of the database file each connection reads through a memory
/// mapping: address space over the kernel's page cache, not memory of its
/// own. (A mapped page that cannot be read, a failing disk, kills the
/// process with SIGBUS where a copied one would fail the read; the pool's
/// own connections do not map.)
const MMAP_SIZE: i64 = 1 << 30;
/// How long a read waits on a lock (under WAL only while SQLite recovers
/// its shared index after a crash).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read-only connections to one SQLite file.
pub(crate) struct DirectReads {
    path: String,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
    abandoned: AtomicU64,
}

impl std::fmt::Debug for DirectReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectReads")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DirectReads {
    /// Opens a first connection to the database file at `path`, to fail at
    /// start-up rather than at the first read.
    pub(crate) fn open(path: String) -> Result<Self, DbErr> {
        let first = connect(&path)?;
        Ok(Self {
            path,
            idle: Mutex::new(vec![first]),
            closed: AtomicBool::new(false),
            abandoned: AtomicU64::new(0),
        })
    }

    /// Every row `stmt` (a `Select` of `E`'s whole rows) reads, decoded into
    /// `E`'s model; `None` when SQLite's work on it passed [`WORK_BUDGET`]
    /// (or the reads were closed), for the caller to read it on the pool.
    pub(crate) fn all<E>(&self, stmt: &Statement) -> Result<Option<Vec<E::Model>>, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let params = match &stmt.values {
            Some(values) => values
                .iter()
                .cloned()
                .map(param)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let read = self.with_connection(|conn| {
            let deadline = Instant::now() + WORK_BUDGET;
            conn.progress_handler(BUDGET_CHECK_EVERY, Some(move || Instant::now() > deadline))
                .map_err(driver)?;
            let read = read_models::<E>(conn, &stmt.sql, params);
            conn.progress_handler(0, None::<fn() -> bool>)
                .map_err(driver)?;
            read
        });
        match read {
            Err(Failure::OverBudget) => {
                self.abandoned.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
            Err(Failure::Closed) => Ok(None),
            Err(Failure::Db(e)) => Err(e),
            Ok(models) => Ok(Some(models)),
        }
    }

    /// Reads abandoned to the pool for their cost so far.
    pub(crate) fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Closes every connection and makes later reads go to the pool, so
    /// that the pool's last connection, closing after, may checkpoint the
    /// write-ahead log into the file and remove it (a connection that sees
    /// another still open cannot).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Failure::Closed);
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let out = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_KEPT && !self.closed.load(Ordering::SeqCst) {
            idle.push(conn);
        }
        out
    }
}

/// Why a direct read gave no rows.
enum Failure {
    /// SQLite's work passed the budget: the read belongs on the pool.
    OverBudget,
    /// The reads were closed: so is the pool, which will say so.
    Closed,
    Db(DbErr),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Failure::Db(e)
    }
}

fn read_models<E>(
    conn: &Connection,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<E::Model>, Failure>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let step = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::OperationInterrupted) => Failure::OverBudget,
        _ => Failure::Db(driver(e)),
    };
    let mut prepared = conn.prepare_cached(sql).map_err(step)?;
    let types = column_types::<E>(&prepared)?;
    let mut rows = prepared
        .query(rusqlite::params_from_iter(params))
        .map_err(step)?;
    let mut models = Vec::new();
    while let Some(row) = rows.next().map_err(step)? {
        let mut model = <E::ActiveModel as ActiveModelTrait>::default();
        for (i, (column, ty)) in types.iter().enumerate() {
            let value = value_of(row.get_ref(i).map_err(driver)?, ty)
                .map_err(|e| DbErr::Type(format!("column {}: {e}", column.as_str())))?;
            // Refuses a value of another type than the field's.
            model.try_set(*column, value)?;
        }
        models.push(model.try_into_model()?);
    }
    Ok(models)
}

fn connect(path: &str) -> Result<Connection, DbErr> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(driver)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(driver)?;
    // As on the pool's connections (crate::db): PostgreSQL's LIKE is
    // case-sensitive, and SQLite's must agree.
    conn.pragma_update(None, "case_sensitive_like", "ON")
        .map_err(driver)?;
    // Pages are read from a mapping of the file instead of copied by a
    // system call into each connection's own cache: a point read among
    // 100,000 customers missed that cache and spent 5 % of the server's
    // CPU in `pread` (docs/benchmarks.md).
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)
        .map_err(driver)?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(conn)
}

/// A database that is busy, locked or cannot be opened is unavailable
/// (a client may retry); any other failure is the query's or the data's.
fn driver(e: rusqlite::Error) -> DbErr {
    #[allow(clippy::wildcard_enum_match_arm)] // SQLite's codes are many and open-ended.
    let unavailable = matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DatabaseBusy
                | rusqlite::ErrorCode::DatabaseLocked
                | rusqlite::ErrorCode::CannotOpen
        )
    );
    let text = format!("sqlite: {e}");
    if unavailable {
        DbErr::Conn(sea_orm::RuntimeErr::Internal(text))
    } else {
        DbErr::Custom(text)
    }
}

/// The statement's columns, which must be `E`'s, in `E`'s order (what
/// `Entity::find()` selects), with their types.
fn column_types<E: EntityTrait>(
    stmt: &rusqlite::Statement<'_>,
) -> Result<Vec<(E::Column, ColumnType)>, DbErr> {
    let names = stmt.column_names();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    if names.len() != columns.len() {
        return Err(DbErr::Custom(format!(
            "a direct read selects {} columns, not the {} of {}",
            names.len(),
            columns.len(),
            E::default().table_name()
        )));
    }
    names
        .iter()
        .zip(columns)
        .map(|(name, column)| {
            if *name == column.as_str() {
                Ok((column, column.def().get_column_type().clone()))
            } else {
                Err(DbErr::Custom(format!(
                    "a direct read selects {name} where {} has {}",
                    E::default().table_name(),
                    column.as_str()
                )))
            }
        })
        .collect()
}

/// A stored value as the value of a column of type `ty`.
// sea-query's types have dozens of kinds and more to come; every kind not
// named here is refused, which a new one must be too.
#[allow(clippy::wildcard_enum_match_arm)]
fn value_of(v: ValueRef<'_>, ty: &ColumnType) -> Result<Value, String> {
    use ColumnType as T;
    let null = matches!(v, ValueRef::Null);
    let int = || v.as_i64().map_err(|e| e.to_string());
    let text = || v.as_str().map_err(|e| e.to_string());
    Ok(match ty {
        T::String(_) | T::Text | T::Char(_) => {
            Value::String(if null { None } else { Some(text()?.to_owned()) })
        }
        T::BigInteger => Value::BigInt(if null { None } else { Some(int()?) }),
        T::Integer => Value::Int(if null {
            None
        } else {
            Some(i32::try_from(int()?).map_err(|e| e.to_string())?)
        }),
        T::Boolean => Value::Bool(if null { None } else { Some(int()? != 0) }),
        T::TimestampWithTimeZone => Value::ChronoDateTimeUtc(match v {
            ValueRef::Null => None,
            ValueRef::Text(_) => Some(timestamp(text()?).ok_or("not a time")?),
            // What the pool's driver also reads: Unix seconds, Julian days.
            ValueRef::Integer(secs) => {
                Some(Utc.timestamp_opt(secs, 0).single().ok_or("not a time")?)
            }
            ValueRef::Real(days) => Some(julian(days).ok_or("not a time")?),
            ValueRef::Blob(_) => return Err("a blob is not a time".into()),
        }),
        T::Binary(_) | T::VarBinary(_) | T::Blob => {
            Value::Bytes(if null { None } else { Some(blob(v)?.to_vec()) })
        }
        T::Uuid => Value::Uuid(if null {
            None
        } else {
            Some(uuid::Uuid::from_slice(blob(v)?).map_err(|e| e.to_string())?)
        }),
        T::Json | T::JsonBinary => Value::Json(if null {
            None
        } else {
            Some(Box::new(
                serde_json::from_str(text()?).map_err(|e| e.to_string())?,
            ))
        }),
        other => return Err(format!("{other:?} is not read directly")),
    })
}

fn blob<'a>(v: ValueRef<'a>) -> Result<&'a [u8], String> {
    v.as_blob().map_err(|e| e.to_string())
}

/// A stored time, in any of the forms the pool's driver reads.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|format| {
        DateTime::<FixedOffset>::parse_from_str(text, format)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, format)
                    .ok()
                    .map(|t| Utc.from_utc_datetime(&t))
            })
    })
}

/// A time given in Julian days, as the pool's driver reads it.
fn julian(days: f64) -> Option<DateTime<Utc>> {
    const UNIX_EPOCH_IN_JULIAN_DAYS: f64 = 2_440_587.5;
    let secs = (days - UNIX_EPOCH_IN_JULIAN_DAYS) * 86_400.0;
    if !secs.is_finite() {
        return None;
    }
    // As the driver does, casts and all.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (whole, nanos) = (secs.trunc() as i64, (secs.fract() * 1e9).abs() as u32);
    Utc.timestamp_opt(whole, nanos).single()
}

/// A bound value as the pool's driver would bind it.
#[allow(clippy::wildcard_enum_match_arm)] // As in `value_of`: the rest is refused.
fn param(v: Value) -> Result<SqlValue, DbErr> {
    let or_null = |v: Option<SqlValue>| v.unwrap_or(SqlValue::Null);
    Ok(match v {
        Value::Bool(b) => or_null(b.map(|b| SqlValue::Integer(i64::from(b)))),
        Value::TinyInt(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::SmallInt(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::Int(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::BigInt(i) => or_null(i.map(SqlValue::Integer)),
        Value::TinyUnsigned(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::SmallUnsigned(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::Unsigned(i) => or_null(i.map(|i| SqlValue::Integer(i64::from(i)))),
        Value::BigUnsigned(i) => match i {
            Some(i) => SqlValue::Integer(
                i64::try_from(i).map_err(|_| DbErr::Custom(format!("{i} is out of range")))?,
            ),
            None => SqlValue::Null,
        },
        Value::String(s) => or_null(s.map(SqlValue::Text)),
        Value::Bytes(b) => or_null(b.map(SqlValue::Blob)),
        Value::ChronoDateTimeUtc(t) => {
            or_null(t.map(|t| SqlValue::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))))
        }
        Value::Uuid(u) => or_null(u.map(|u| SqlValue::Blob(u.as_bytes().to_vec()))),
        Value::Json(j) => or_null(j.map(|j| SqlValue::Text(j.to_string()))),
        other => {
            return Err(DbErr::Custom(format!(
                "{other:?} is not bound in a direct read"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_the_pool_writes_them() {
        let t = Utc.with_ymd_and_hms(2030, 1, 31, 15, 30, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        let written = t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        assert_eq!(timestamp(&written), Some(t));
        assert_eq!(
            timestamp("2030-01-31 15:30:00"),
            Some(Utc.with_ymd_and_hms(2030, 1, 31, 15, 30, 0).unwrap())
        );
        assert_eq!(timestamp("yesterday"), None);
    }

    #[test]
    fn a_busy_or_unopenable_database_is_unavailable_and_other_failures_are_not() {
        let failure = |code| {
            driver(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        for code in [
            rusqlite::ffi::SQLITE_BUSY,
            rusqlite::ffi::SQLITE_LOCKED,
            rusqlite::ffi::SQLITE_CANTOPEN,
        ] {
            assert!(matches!(failure(code), DbErr::Conn(_)), "{code}");
        }
        for code in [rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_ERROR] {
            assert!(matches!(failure(code), DbErr::Custom(_)), "{code}");
        }
        assert!(matches!(
            driver(rusqlite::Error::InvalidColumnIndex(3)),
            DbErr::Custom(_)
        ));
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error_not_a_null() {
        assert!(value_of(ValueRef::Text(b"x"), &ColumnType::BigInteger).is_err());
        assert!(value_of(ValueRef::Integer(1), &ColumnType::Text).is_err());
        assert_eq!(
            value_of(ValueRef::Null, &ColumnType::Text),
            Ok(Value::String(None))
        );
        assert_eq!(
            value_of(ValueRef::Integer(1), &ColumnType::Boolean),
            Ok(Value::Bool(Some(true)))
        );
    }
}
