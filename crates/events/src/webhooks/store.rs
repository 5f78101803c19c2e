//! The webhook tables' queries.

use chrono::{DateTime, Utc};
use partner_kernel::entity::outbox_event;
use partner_kernel::ids::PartnerId;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, QueryStatementBuilder};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{delivery, endpoint};
use super::model::Status;

pub async fn insert_endpoint(
    conn: &impl ConnectionTrait,
    row: endpoint::Model,
) -> Result<(), DbErr> {
    endpoint::ActiveModel::from(row).insert(conn).await?;
    Ok(())
}

pub async fn count_of_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<u64, DbErr> {
    endpoint::Entity::find()
        .filter(endpoint::Column::PartnerId.eq(partner.to_string()))
        .count(conn)
        .await
}

pub async fn endpoint_of(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id)
        .filter(endpoint::Column::PartnerId.eq(partner.to_string()))
        .one(conn)
        .await
}

/// Like [`endpoint_of`], locked until the transaction ends (PostgreSQL;
/// SQLite's single writer already serialises): concurrent rotations of its
/// secret then follow one another instead of each replacing the same one.
pub async fn endpoint_of_for_update(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
    id: &str,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id)
        .filter(endpoint::Column::PartnerId.eq(partner.to_string()))
        .lock_exclusive()
        .one(conn)
        .await
}

pub async fn endpoint_by_id(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find_by_id(id).one(conn).await
}

pub async fn endpoint_of_idp(
    conn: &impl ConnectionTrait,
    idp: &str,
) -> Result<Option<endpoint::Model>, DbErr> {
    endpoint::Entity::find()
        .filter(endpoint::Column::IdentityProviderId.eq(idp))
        .one(conn)
        .await
}

pub async fn endpoints_of_partner(
    conn: &impl ConnectionTrait,
    partner: PartnerId,
) -> Result<Vec<endpoint::Model>, DbErr> {
    endpoint::Entity::find()
        .filter(endpoint::Column::PartnerId.eq(partner.to_string()))
        .order_by_asc(endpoint::Column::Id)
        .all(conn)
        .await
}

/// Saves the settings of `row` (not its place or lease, which the worker owns).
pub async fn save_settings(
    conn: &impl ConnectionTrait,
    row: &endpoint::Model,
) -> Result<(), DbErr> {
    changed(row)
        .col_expr(endpoint::Column::Url, Expr::value(row.url.clone()))
        .col_expr(
            endpoint::Column::Description,
            Expr::value(row.description.clone()),
        )
        .col_expr(
            endpoint::Column::EventTypes,
            Expr::value(row.event_types.clone()),
        )
        .col_expr(
            endpoint::Column::Readable,
            Expr::value(row.readable.clone()),
        )
        .col_expr(endpoint::Column::Disabled, Expr::value(row.disabled))
        .exec(conn)
        .await?;
    Ok(())
}

/// An update of `row`'s endpoint that stamps its change time.
fn changed(row: &endpoint::Model) -> sea_orm::UpdateMany<endpoint::Entity> {
    endpoint::Entity::update_many()
        .col_expr(endpoint::Column::UpdatedAt, Expr::value(row.updated_at))
        .filter(endpoint::Column::Id.eq(row.id.as_str()))
}

/// Writes an endpoint's secrets: the current one, and the one rotated out
/// with when it stops signing.
pub async fn save_secrets(conn: &impl ConnectionTrait, row: &endpoint::Model) -> Result<(), DbErr> {
    changed(row)
        .col_expr(endpoint::Column::Secret, Expr::value(row.secret.clone()))
        .col_expr(
            endpoint::Column::PreviousSecret,
            Expr::value(row.previous_secret.clone()),
        )
        .col_expr(
            endpoint::Column::PreviousSecretExpiresAt,
            Expr::value(row.previous_secret_expires_at),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes an endpoint and its deliveries. The endpoint row goes first:
/// whoever queues for it holds that row until it commits, so the deliveries
/// are deleted after every queueing that could add one (and later queueing
/// finds no endpoint).
pub async fn delete_endpoint(conn: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    endpoint::Entity::delete_by_id(id).exec(conn).await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::EndpointId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The highest event position given so far: a new endpoint starts after it.
pub async fn last_position(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Seq.max(), "max_seq")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Takes `count` queue positions of endpoint `id` (and moves its cursor to
/// `cursor` when given, if it is still at `expected`); returns the first
/// position, or `None` when the cursor had moved (another worker queued
/// those events). Row-locks the endpoint until the transaction ends.
pub async fn take_positions(
    conn: &impl ConnectionTrait,
    id: &str,
    count: i64,
    cursor: Option<(i64, i64)>,
) -> Result<Option<i64>, DbErr> {
    let mut update = endpoint::Entity::update_many()
        .col_expr(
            endpoint::Column::NextPosition,
            Expr::col(endpoint::Column::NextPosition).add(count),
        )
        .filter(endpoint::Column::Id.eq(id));
    if let Some((expected, to)) = cursor {
        update = update
            .col_expr(endpoint::Column::Cursor, Expr::value(to))
            .filter(endpoint::Column::Cursor.eq(expected));
    }
    if update.exec(conn).await?.rows_affected != 1 {
        return Ok(None);
    }
    let next = endpoint::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|e| e.next_position);
    Ok(next.map(|next| next - count))
}

pub async fn insert_delivery(
    conn: &impl ConnectionTrait,
    row: delivery::Model,
) -> Result<(), DbErr> {
    delivery::ActiveModel::from(row).insert(conn).await?;
    Ok(())
}

/// Endpoints with work due at `now` and no live lease: events after their
/// cursor, or a head of the queue (its first pending delivery) whose
/// attempt is due. Only the head counts: the deliveries behind it wait.
pub async fn due_endpoints(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let new_events = Query::select()
        .expr(Expr::val(1))
        .from(outbox_event::Entity)
        .and_where(
            Expr::col((outbox_event::Entity, outbox_event::Column::PartnerId))
                .equals((endpoint::Entity, endpoint::Column::PartnerId)),
        )
        .and_where(
            Expr::col((outbox_event::Entity, outbox_event::Column::Seq))
                .gt(Expr::col((endpoint::Entity, endpoint::Column::Cursor))),
        )
        .to_owned();
    let head = Alias::new("head");
    let head_position = Query::select()
        .expr(Expr::col((head.clone(), delivery::Column::Position)).min())
        .from_as(delivery::Entity, head.clone())
        .and_where(
            Expr::col((head.clone(), delivery::Column::EndpointId))
                .equals((endpoint::Entity, endpoint::Column::Id)),
        )
        .and_where(Expr::col((head, delivery::Column::Status)).eq(Status::Pending.as_str()))
        .to_owned();
    let due_delivery = Query::select()
        .expr(Expr::val(1))
        .from(delivery::Entity)
        .and_where(
            Expr::col((delivery::Entity, delivery::Column::EndpointId))
                .equals((endpoint::Entity, endpoint::Column::Id)),
        )
        .and_where(
            Expr::col((delivery::Entity, delivery::Column::Status)).eq(Status::Pending.as_str()),
        )
        .and_where(Expr::col((delivery::Entity, delivery::Column::NextAttemptAt)).lte(now))
        .and_where(
            Expr::col((delivery::Entity, delivery::Column::Position)).eq(Expr::SubQuery(
                None,
                Box::new(head_position.into_sub_query_statement()),
            )),
        )
        .to_owned();
    endpoint::Entity::find()
        .select_only()
        .column(endpoint::Column::Id)
        .filter(endpoint::Column::Disabled.eq(false))
        .filter(
            Condition::any()
                .add(endpoint::Column::LeasedUntil.is_null())
                .add(endpoint::Column::LeasedUntil.lt(now)),
        )
        .filter(
            Condition::any()
                .add(Expr::exists(new_events))
                .add(Expr::exists(due_delivery)),
        )
        .order_by_asc(endpoint::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await
}

/// Takes (or renews) the lease of endpoint `id` for `owner` until `until`:
/// only when it is free, lapsed, or already `owner`'s. One statement, so two
/// workers cannot both take it.
pub async fn lease(
    conn: &impl ConnectionTrait,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let taken = endpoint::Entity::update_many()
        .col_expr(endpoint::Column::LeaseOwner, Expr::value(owner))
        .col_expr(endpoint::Column::LeasedUntil, Expr::value(until))
        .filter(endpoint::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(endpoint::Column::LeasedUntil.is_null())
                .add(endpoint::Column::LeasedUntil.lt(now))
                .add(endpoint::Column::LeaseOwner.eq(owner)),
        )
        .exec(conn)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives the lease back, if `owner` still holds it.
pub async fn release(conn: &impl ConnectionTrait, id: &str, owner: &str) -> Result<(), DbErr> {
    endpoint::Entity::update_many()
        .col_expr(
            endpoint::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            endpoint::Column::LeasedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(endpoint::Column::Id.eq(id))
        .filter(endpoint::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await?;
    Ok(())
}

/// The first pending delivery of endpoint `id` in queue order.
pub async fn head(conn: &impl ConnectionTrait, id: &str) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::EndpointId.eq(id))
        .filter(delivery::Column::Status.eq(Status::Pending.as_str()))
        .order_by_asc(delivery::Column::Position)
        .one(conn)
        .await
}

/// Claims attempt number `d.attempts + 1` of `d`: only if no one claimed it
/// before (the attempt count is still `d.attempts`). The next attempt is
/// scheduled at `retry_at` already, so a worker that dies mid-send leaves a
/// delivery that is retried, not one that is lost or sent again at once.
pub async fn claim_attempt(
    conn: &impl ConnectionTrait,
    d: &delivery::Model,
    now: DateTime<Utc>,
    retry_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(d.attempts + 1))
        .col_expr(
            delivery::Column::FirstAttemptAt,
            Expr::value(Some(d.first_attempt_at.unwrap_or(now))),
        )
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(retry_at))
        // In flight: what the last attempt got no longer describes it.
        .col_expr(delivery::Column::LastResponseCode, Expr::value(0))
        .col_expr(delivery::Column::LastError, Expr::value(""))
        .col_expr(delivery::Column::LastResponseExcerpt, Expr::value(""))
        .filter(delivery::Column::Id.eq(d.id.as_str()))
        .filter(delivery::Column::Attempts.eq(d.attempts))
        .filter(delivery::Column::Status.eq(Status::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// What an attempt ended in.
#[derive(Debug)]
pub struct Outcome<'a> {
    pub status: Status,
    pub code: u16,
    pub error: &'a str,
    pub excerpt: &'a str,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Records how attempt `attempt` of delivery `id` went (unless a later
/// attempt was claimed meanwhile).
pub async fn record(
    conn: &impl ConnectionTrait,
    id: &str,
    attempt: i32,
    o: Outcome<'_>,
) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(o.status.as_str()))
        .col_expr(
            delivery::Column::LastResponseCode,
            Expr::value(i32::from(o.code)),
        )
        .col_expr(delivery::Column::LastError, Expr::value(o.error))
        .col_expr(
            delivery::Column::LastResponseExcerpt,
            Expr::value(o.excerpt),
        )
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(o.next_attempt_at),
        )
        .col_expr(delivery::Column::DeliveredAt, Expr::value(o.delivered_at))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Attempts.eq(attempt))
        .exec(conn)
        .await?;
    Ok(())
}

/// A page of endpoint `id`'s deliveries, newest first, after `after`.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    id: &str,
    status: Option<Status>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut q = delivery::Entity::find().filter(delivery::Column::EndpointId.eq(id));
    if let Some(status) = status {
        q = q.filter(delivery::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(delivery::Column::Id.lt(after));
    }
    q.order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(conn)
        .await
}

/// Endpoints whose secret is stored plain.
/// Endpoints with a secret stored plain: the current one, or the one being
/// rotated out.
pub async fn plain_secrets(conn: &impl ConnectionTrait) -> Result<Vec<endpoint::Model>, DbErr> {
    use partner_kernel::seal::Sealer;
    Ok(endpoint::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .filter(|e| {
            !Sealer::is_sealed(&e.secret)
                || e.previous_secret
                    .as_deref()
                    .is_some_and(|p| !Sealer::is_sealed(p))
        })
        .collect())
}

/// Gives up delivery `d` without another attempt (its retry window ended
/// while no attempt could finish), unless someone claimed it meanwhile.
pub async fn give_up(
    conn: &impl ConnectionTrait,
    d: &delivery::Model,
    error: &str,
) -> Result<bool, DbErr> {
    let done = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(Status::Failed.as_str()),
        )
        .col_expr(delivery::Column::LastError, Expr::value(error))
        .filter(delivery::Column::Id.eq(d.id.as_str()))
        .filter(delivery::Column::Attempts.eq(d.attempts))
        .filter(delivery::Column::Status.eq(Status::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Deletes up to `limit` finished deliveries queued before `before`;
/// returns how many.
pub async fn prune_finished(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DbErr> {
    let ids: Vec<String> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::CreatedAt.lt(before))
        .filter(delivery::Column::Status.ne(Status::Pending.as_str()))
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let gone = delivery::Entity::delete_many()
        .filter(delivery::Column::Id.is_in(ids))
        .exec(conn)
        .await?;
    Ok(gone.rows_affected)
}
