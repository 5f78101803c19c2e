//! The sandbox clock's offset as stored: one row, moved only forward — so a
//! restart keeps the sandbox's time, and every replica can move to it.

use chrono::{DateTime, Duration, Utc};
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// The one clock there is.
const NAME: &str = "platform";

pub mod entity {
    //! How far the sandbox clock is ahead of the real one.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_clocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub offset_micros: i64,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod advance {
    //! Where one advance goes.

    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_advances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: Uuid,
        pub target_micros: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The offset the advance `(caller, request)` moves the clock to: `target`
/// the first time it is asked, what that first time said afterwards (a
/// retry, through this replica or another, finishes the same move).
pub async fn target_of(
    conn: &impl ConnectionTrait,
    (caller, request): (&str, uuid::Uuid),
    target: Duration,
    now: DateTime<Utc>,
) -> Result<Duration, KernelError> {
    advance::Entity::insert(advance::ActiveModel {
        caller_id: Set(caller.to_owned()),
        request_id: Set(request),
        target_micros: Set(target.num_microseconds().unwrap_or(i64::MAX)),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([advance::Column::CallerId, advance::Column::RequestId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let row = advance::Entity::find_by_id((caller.to_owned(), request))
        .one(conn)
        .await?
        .ok_or_else(|| KernelError::Corrupt("a sandbox advance not stored".into()))?;
    Ok(Duration::microseconds(row.target_micros))
}

/// The stored offset (none before the first advance).
pub async fn stored(conn: &impl ConnectionTrait) -> Result<Duration, KernelError> {
    let row = entity::Entity::find_by_id(NAME.to_owned())
        .one(conn)
        .await?;
    Ok(row.map_or(Duration::zero(), |r| {
        Duration::microseconds(r.offset_micros)
    }))
}

/// Moves the stored offset up to `offset` (never down); the offset after,
/// which another replica may have moved further.
pub async fn raise(db: &Db, offset: Duration, now: DateTime<Utc>) -> Result<Duration, KernelError> {
    let micros = offset.num_microseconds().unwrap_or(0).max(0);
    let tx = db.begin_write().await?;
    entity::Entity::insert(entity::ActiveModel {
        name: Set(NAME.to_owned()),
        offset_micros: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(entity::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&*tx)
    .await?;
    entity::Entity::update_many()
        .col_expr(entity::Column::OffsetMicros, Expr::value(micros))
        .col_expr(entity::Column::UpdatedAt, Expr::value(now))
        .filter(entity::Column::Name.eq(NAME))
        .filter(entity::Column::OffsetMicros.lt(micros))
        .exec(&*tx)
        .await?;
    let after = stored(&*tx).await?;
    tx.commit().await?;
    Ok(after)
}
