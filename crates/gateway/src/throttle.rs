//! Brute-force resistance for credential checks (`Login` per username,
//! `ExchangeAccessKey` per key id).
//!
//! The counters live in the database (`auth_throttles`), not in memory, so
//! every replica counts the same failures and a restart forgets nothing.
//! Policy: [`FREE_FAILURES`] failures per [`WINDOW`] cost nothing; each
//! further failure locks the subject for `2^(n - FREE_FAILURES)` seconds, at
//! most [`MAX_LOCK`]. While locked, attempts are refused before the password
//! or secret is looked at, so a locked subject cannot be probed at all (and an
//! attacker gains nothing from sending the right guess at the wrong time).
//! Unknown usernames and key ids are counted like known ones, so the lock
//! says nothing about whether the subject exists. Success deletes the row.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use partner_kernel::ids::AccessKeyId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QuerySelect, Set};

use crate::entity::auth_throttle;

/// Failures within one window that lock nothing.
pub const FREE_FAILURES: i32 = 5;
/// The window the free failures are counted in, from the first failure.
pub const WINDOW: Duration = Duration::minutes(15);
/// The longest single lock.
pub const MAX_LOCK: Duration = Duration::minutes(15);

/// The throttle subject of a login name.
pub fn login_subject(username: &str) -> String {
    format!("login:{username}")
}

/// The throttle subject of an access key.
pub fn access_key_subject(id: AccessKeyId) -> String {
    format!("access_key:{id}")
}

/// Where a subject stands before an attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Refuse unchecked, and say to retry after this long.
    pub locked_for: Option<StdDuration>,
    /// Some failures are on record (a success must clear them).
    pub has_failures: bool,
}

/// The counter after one more failure at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i32,
    pub window_start: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Counts one failure at `now` on top of `previous` (`None`: no record).
/// A window that has run out, with no lock in force, starts again at zero.
pub fn after_failure(previous: Option<Counter>, now: DateTime<Utc>) -> Counter {
    let fresh = Counter {
        failures: 0,
        window_start: now,
        locked_until: None,
    };
    let base = match previous {
        Some(c) if c.window_start + WINDOW > now || c.locked_until.is_some_and(|l| l > now) => c,
        Some(_) | None => fresh,
    };
    let failures = base.failures.saturating_add(1);
    let locked_until = (failures > FREE_FAILURES).then(|| now + lock_for(failures));
    Counter {
        failures,
        window_start: base.window_start,
        locked_until,
    }
}

/// `2^(failures - FREE_FAILURES)` seconds, capped at [`MAX_LOCK`].
fn lock_for(failures: i32) -> Duration {
    let exponent = u32::try_from(failures - FREE_FAILURES).unwrap_or(0);
    // 2^10 s is already past the cap; larger exponents would overflow.
    let seconds = if exponent >= 10 {
        i64::MAX
    } else {
        1 << exponent
    };
    Duration::seconds(seconds.min(MAX_LOCK.num_seconds()))
}

/// Reads where `subject` stands at `now`.
pub async fn standing(
    conn: &impl ConnectionTrait,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Standing, DbErr> {
    let Some(row) = auth_throttle::Entity::find_by_id(subject.to_owned())
        .one(conn)
        .await?
    else {
        return Ok(Standing::default());
    };
    let locked_for = row
        .locked_until
        .filter(|until| *until > now)
        .and_then(|until| (until - now).to_std().ok())
        // Round up, so a client that waits exactly this long is let through.
        .map(|d| {
            if d.subsec_nanos() > 0 {
                StdDuration::from_secs(d.as_secs() + 1)
            } else {
                d
            }
        });
    Ok(Standing {
        locked_for,
        has_failures: row.failures > 0,
    })
}

/// Counts a failure of `subject` inside `tx`. The row is created if missing
/// and then read with a row lock (PostgreSQL; SQLite's single writer already
/// serialises), so concurrent failures on several replicas all count.
pub async fn record_failure(
    tx: &impl ConnectionTrait,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Counter, DbErr> {
    let placeholder = auth_throttle::ActiveModel {
        subject: Set(subject.to_owned()),
        failures: Set(0),
        window_start: Set(now),
        locked_until: Set(None),
        updated_at: Set(now),
    };
    auth_throttle::Entity::insert(placeholder)
        .on_conflict(
            OnConflict::column(auth_throttle::Column::Subject)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    let row = auth_throttle::Entity::find_by_id(subject.to_owned())
        .lock_exclusive()
        .one(tx)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(subject.to_owned()))?;
    let previous = (row.failures > 0).then_some(Counter {
        failures: row.failures,
        window_start: row.window_start,
        locked_until: row.locked_until,
    });
    let next = after_failure(previous, now);
    auth_throttle::ActiveModel {
        subject: Set(subject.to_owned()),
        failures: Set(next.failures),
        window_start: Set(next.window_start),
        locked_until: Set(next.locked_until),
        updated_at: Set(now),
    }
    .update(tx)
    .await?;
    Ok(next)
}

/// Forgets the failures of `subject` after a success.
pub async fn reset(conn: &impl ConnectionTrait, subject: &str) -> Result<(), DbErr> {
    auth_throttle::Entity::delete_by_id(subject.to_owned())
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn fail_n(n: i32, at: DateTime<Utc>) -> Counter {
        let mut c = None;
        for _ in 0..n {
            c = Some(after_failure(c, at));
        }
        c.unwrap_or_else(|| panic!("n > 0"))
    }

    #[test]
    fn five_failures_are_free_then_locks_double() {
        let now = t0();
        assert_eq!(fail_n(5, now).locked_until, None);
        assert_eq!(
            fail_n(6, now).locked_until,
            Some(now + Duration::seconds(2))
        );
        assert_eq!(
            fail_n(7, now).locked_until,
            Some(now + Duration::seconds(4))
        );
        assert_eq!(
            fail_n(14, now).locked_until,
            Some(now + Duration::seconds(512))
        );
        assert_eq!(fail_n(15, now).locked_until, Some(now + MAX_LOCK));
        assert_eq!(fail_n(60, now).locked_until, Some(now + MAX_LOCK));
    }

    #[test]
    fn a_spent_window_starts_again() {
        let c = fail_n(5, t0());
        let later = t0() + WINDOW + Duration::seconds(1);
        let next = after_failure(Some(c), later);
        assert_eq!(next.failures, 1);
        assert_eq!(next.window_start, later);
        assert_eq!(next.locked_until, None);
    }

    #[test]
    fn a_lock_in_force_keeps_the_count() {
        // The window has run out but the lock has not: the count survives.
        let c = Counter {
            locked_until: Some(t0() + WINDOW + Duration::minutes(1)),
            ..fail_n(20, t0())
        };
        let during = t0() + WINDOW + Duration::seconds(5);
        assert_eq!(after_failure(Some(c), during).failures, 21);
    }
}
