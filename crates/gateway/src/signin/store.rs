//! Queries on `auth_throttles`: the counters of known subjects (existing
//! usernames and access keys), shared by every replica through the database.

use chrono::{DateTime, Utc};
use partner_kernel::audit::{self, Refusals};
use partner_kernel::error::KernelError;
use partner_kernel::ids::AuditId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set,
};

use super::policy::{self, Counter, QUIET, Verdict};
use crate::entity::auth_throttle;

fn counter_of(row: &auth_throttle::Model) -> Counter {
    Counter {
        failures: row.failures,
        in_flight: row.in_flight,
        run_start: row.window_start,
        last_attempt: row.updated_at,
        locked_until: row.locked_until,
    }
}

/// The audit record of the row's current run, if it has one.
fn run_record(row: &auth_throttle::Model) -> Option<AuditId> {
    row.audit_id
        .as_deref()
        .and_then(|id| AuditId::parse(id).ok())
}

/// The counter of `subject` and the audit record of its run, if it has them.
pub async fn counter(
    conn: &impl ConnectionTrait,
    subject: &str,
) -> Result<Option<(Counter, Option<AuditId>)>, DbErr> {
    Ok(auth_throttle::Entity::find_by_id(subject.to_owned())
        .one(conn)
        .await?
        .map(|row| (counter_of(&row), run_record(&row))))
}

/// Decides on an attempt of `subject` at `now` and, unless it is refused,
/// charges it, inside `tx`. The row is created if missing and then read
/// with a row lock (PostgreSQL; SQLite's single writer already serialises),
/// so concurrent attempts on several replicas are decided one at a time.
/// Also returns the audit record of the run (before this attempt).
pub async fn charge(
    tx: &impl ConnectionTrait,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(Verdict, Option<AuditId>), DbErr> {
    // A success elsewhere may delete the row between our insert (which did
    // nothing: the row was there) and our locking read (which waited for
    // that delete and then finds nothing): insert again. The delete has
    // committed by then, so the second insert creates the row.
    let mut row = None;
    for _ in 0..3 {
        insert_placeholder(tx, subject, now).await?;
        row = auth_throttle::Entity::find_by_id(subject.to_owned())
            .lock_exclusive()
            .one(tx)
            .await?;
        if row.is_some() {
            break;
        }
    }
    let row = row.ok_or_else(|| DbErr::RecordNotFound(subject.to_owned()))?;
    let current = (row.failures > 0 || row.in_flight > 0).then(|| counter_of(&row));
    let verdict = policy::charge(current, now);
    let record = run_record(&row);
    if let Verdict::Check { counter, new_run } = verdict {
        store(
            tx,
            subject,
            &counter,
            // A new run is counted in a new audit record.
            if new_run { None } else { row.audit_id },
        )
        .await?;
    }
    Ok((verdict, record))
}

/// Creates the counter row of `subject` unless it exists.
async fn insert_placeholder(
    tx: &impl ConnectionTrait,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let placeholder = auth_throttle::ActiveModel {
        subject: Set(subject.to_owned()),
        failures: Set(0),
        window_start: Set(now),
        locked_until: Set(None),
        updated_at: Set(now),
        audit_id: Set(None),
        in_flight: Set(0),
    };
    auth_throttle::Entity::insert(placeholder)
        .on_conflict(
            OnConflict::column(auth_throttle::Column::Subject)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

async fn store(
    conn: &impl ConnectionTrait,
    subject: &str,
    counter: &Counter,
    audit_id: Option<String>,
) -> Result<(), DbErr> {
    auth_throttle::ActiveModel {
        subject: Set(subject.to_owned()),
        failures: Set(counter.failures),
        in_flight: Set(counter.in_flight),
        window_start: Set(counter.run_start),
        locked_until: Set(counter.locked_until),
        updated_at: Set(counter.last_attempt),
        audit_id: Set(audit_id),
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Settles a checked attempt of `subject` as failed ([`policy::failed`]) and
/// counts `refusals` into the audit record of its run (a new one when the
/// run has none yet), inside `tx`. With `settle` false the refusals are only
/// counted (attempts that were refused unchecked).
pub async fn note_refusals(
    tx: &impl ConnectionTrait,
    subject: &str,
    refusals: Refusals,
    settle: bool,
) -> Result<(), KernelError> {
    let row = auth_throttle::Entity::find_by_id(subject.to_owned())
        .lock_exclusive()
        .one(tx)
        .await?;
    if settle && let Some(row) = &row {
        let counter = policy::failed(counter_of(row), refusals.now);
        store(tx, subject, &counter, row.audit_id.clone()).await?;
    }
    let open = row.as_ref().and_then(run_record);
    let id = audit::record_refusals(tx, open, refusals).await?;
    if let Some(row) = row
        && open != Some(id)
    {
        auth_throttle::Entity::update_many()
            .col_expr(
                auth_throttle::Column::AuditId,
                sea_orm::sea_query::Expr::value(id.to_string()),
            )
            .filter(auth_throttle::Column::Subject.eq(row.subject))
            .exec(tx)
            .await?;
    }
    Ok(())
}

/// Forgets `subject` after a successful sign-in.
pub async fn reset(conn: &impl ConnectionTrait, subject: &str) -> Result<(), DbErr> {
    auth_throttle::Entity::delete_by_id(subject.to_owned())
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes the counters whose run is over at `now` ([`policy::is_spent`]):
/// subjects that never succeed leave nothing behind. Returns how many went.
pub async fn sweep(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let quiet_since = now - QUIET;
    let lock_long_over = Condition::any()
        .add(auth_throttle::Column::LockedUntil.is_null())
        .add(auth_throttle::Column::LockedUntil.lte(quiet_since));
    Ok(auth_throttle::Entity::delete_many()
        .filter(auth_throttle::Column::UpdatedAt.lte(quiet_since))
        .filter(lock_long_over)
        .exec(conn)
        .await?
        .rows_affected)
}
