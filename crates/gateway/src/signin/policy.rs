//! The sign-in throttling policy, as pure functions over a subject's counter.
//!
//! Every attempt is **charged before its credential is checked**, atomically
//! with the decision to check it at all: concurrent attempts on one subject
//! cannot all read "not locked" and then all be checked. The first
//! [`FREE_ATTEMPTS`] attempts of a run are checked freely; charging the
//! [`FREE_ATTEMPTS`]-th locks the subject for 2 s, and each attempt charged
//! after a lock ended doubles the lock, up to [`MAX_LOCK`]. While locked,
//! attempts are refused unchecked (even with the right credential, so a
//! locked subject cannot be probed at all). A success clears the counter; so
//! does a [`QUIET`] period without attempts.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

/// Attempts of one run checked before the subject locks.
pub const FREE_ATTEMPTS: i32 = 5;
/// A run of attempts ends after this long without one.
pub const QUIET: Duration = Duration::minutes(15);
/// The longest single lock.
pub const MAX_LOCK: Duration = Duration::minutes(15);

/// A subject's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Attempts charged in this run.
    pub attempts: i32,
    /// When the run began (its refusals share one audit record).
    pub run_start: DateTime<Utc>,
    /// The last charged attempt.
    pub last_attempt: DateTime<Utc>,
    /// Attempts are refused unchecked until then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// What to do with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refuse it unchecked; a retry may be checked after this long.
    Locked(StdDuration),
    /// Check it, after storing this counter (the attempt is charged).
    Check {
        counter: Counter,
        /// The attempt opens a new run (and so a new audit record).
        new_run: bool,
    },
}

/// The verdict on an attempt at `now` by a subject whose counter is `current`.
pub fn charge(current: Option<Counter>, now: DateTime<Utc>) -> Verdict {
    if let Some(until) = current.and_then(|c| c.locked_until).filter(|u| *u > now) {
        return Verdict::Locked(round_up(until - now));
    }
    let run = current.filter(|c| !run_is_over(c, now));
    let attempts = run.map_or(0, |c| c.attempts).saturating_add(1);
    let counter = Counter {
        attempts,
        run_start: run.map_or(now, |c| c.run_start),
        last_attempt: now,
        locked_until: (attempts >= FREE_ATTEMPTS).then(|| now + lock_for(attempts)),
    };
    Verdict::Check {
        counter,
        new_run: run.is_none(),
    }
}

/// A run is over after [`QUIET`] without attempts, counted from the end of
/// its lock: probing once each time a lock ends keeps the run, and the lock
/// at its longest.
fn run_is_over(c: &Counter, now: DateTime<Utc>) -> bool {
    let last = c
        .locked_until
        .map_or(c.last_attempt, |l| l.max(c.last_attempt));
    last + QUIET <= now
}

/// `2^(attempts - FREE_ATTEMPTS + 1)` seconds, capped at [`MAX_LOCK`].
fn lock_for(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts - FREE_ATTEMPTS + 1).unwrap_or(0);
    // 2^10 s is already past the cap; larger exponents would overflow.
    let seconds = if exponent >= 10 {
        MAX_LOCK.num_seconds()
    } else {
        1 << exponent
    };
    Duration::seconds(seconds.min(MAX_LOCK.num_seconds()))
}

/// Whole seconds, rounded up, so a client that waits exactly this long is
/// let through.
fn round_up(d: Duration) -> StdDuration {
    let d = d.to_std().unwrap_or_default();
    if d.subsec_nanos() > 0 {
        StdDuration::from_secs(d.as_secs() + 1)
    } else {
        d
    }
}

/// Whether a stored counter can be forgotten at `now`: its run is over (and
/// so its lock too). Such rows are swept.
pub fn is_spent(c: &Counter, now: DateTime<Utc>) -> bool {
    run_is_over(c, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    /// Charges `n` attempts at `at`, as long as they are checked.
    fn charge_n(mut c: Option<Counter>, n: usize, at: DateTime<Utc>) -> (Option<Counter>, usize) {
        let mut checked = 0;
        for _ in 0..n {
            match charge(c, at) {
                Verdict::Check { counter, .. } => {
                    c = Some(counter);
                    checked += 1;
                }
                Verdict::Locked(_) => {}
            }
        }
        (c, checked)
    }

    #[test]
    fn five_attempts_are_checked_then_the_subject_locks() {
        let (c, checked) = charge_n(None, 60, t0());
        assert_eq!(checked, 5);
        let c = c.unwrap_or_else(|| panic!("charged"));
        assert_eq!(c.locked_until, Some(t0() + Duration::seconds(2)));
        assert_eq!(
            charge(Some(c), t0()),
            Verdict::Locked(StdDuration::from_secs(2))
        );
    }

    #[test]
    fn each_attempt_after_a_lock_doubles_it_up_to_the_cap() {
        let (mut c, _) = charge_n(None, 5, t0());
        let mut at = t0();
        for expected in [4, 8, 16, 32, 64, 128, 256, 512, 900, 900] {
            at = c.and_then(|c| c.locked_until).unwrap_or(at);
            let Verdict::Check { counter, new_run } = charge(c, at) else {
                panic!("the lock ended at {at}");
            };
            assert!(!new_run);
            assert_eq!(counter.locked_until, Some(at + Duration::seconds(expected)));
            c = Some(counter);
        }
    }

    #[test]
    fn a_quiet_period_starts_a_new_run() {
        let (c, _) = charge_n(None, 4, t0());
        let later = t0() + QUIET;
        let Verdict::Check { counter, new_run } = charge(c, later) else {
            panic!("not locked");
        };
        assert!(new_run);
        assert_eq!(counter.attempts, 1);
        assert_eq!(counter.run_start, later);
        assert_eq!(counter.locked_until, None);
    }

    #[test]
    fn attempts_close_together_stay_in_one_run() {
        let (c, _) = charge_n(None, 4, t0());
        let Verdict::Check { counter, new_run } = charge(c, t0() + Duration::minutes(14)) else {
            panic!("not locked");
        };
        assert!(!new_run);
        assert_eq!(counter.attempts, 5);
        assert_eq!(counter.run_start, t0());
    }

    #[test]
    fn spent_counters_are_the_ones_without_a_lock_or_a_run() {
        let (c, _) = charge_n(None, 5, t0());
        let c = c.unwrap_or_else(|| panic!("charged"));
        assert!(!is_spent(&c, t0() + Duration::seconds(1)));
        assert!(!is_spent(&c, t0() + Duration::minutes(10)));
        assert!(!is_spent(&c, t0() + QUIET));
        assert!(is_spent(&c, t0() + Duration::seconds(2) + QUIET));
    }
}
