//! The sign-in throttling policy, as pure functions over a subject's counter.
//!
//! Every attempt is **charged before its credential is checked**, atomically
//! with the decision to check it at all: an attempt in flight counts against
//! the subject's allowance exactly like a failure, so concurrent attempts on
//! one subject cannot all read "not locked" and then all be checked. At most
//! [`FREE_ATTEMPTS`] attempts of a run are checked (failed ones plus those in
//! flight), then one at a time after each lock; the attempt beyond is refused
//! unchecked. The
//! [`FREE_ATTEMPTS`]-th *failure* locks the subject for 2 s, and each failure
//! after a lock ended doubles the lock, up to [`MAX_LOCK`]. While locked,
//! attempts are refused unchecked (even with the right credential, so a
//! locked subject cannot be probed at all). A success clears the counter; an
//! attempt that never finished (its client went away) stops counting after
//! [`IN_FLIGHT_TTL`]; a [`QUIET`] period without attempts ends the run.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

/// Attempts of one run checked (failed or in flight) before the rest are refused.
pub const FREE_ATTEMPTS: i32 = 5;
/// A run of attempts ends after this long without one (counted from the end
/// of its lock).
pub const QUIET: Duration = Duration::minutes(15);
/// The longest single lock.
pub const MAX_LOCK: Duration = Duration::minutes(15);
/// How long an unfinished attempt counts: far longer than any check takes.
pub const IN_FLIGHT_TTL: Duration = Duration::seconds(30);
/// What a refusal for attempts in flight (not a lock) tells the client.
const RETRY_IN_FLIGHT: StdDuration = StdDuration::from_secs(1);

/// A subject's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Checked attempts of this run that failed.
    pub failures: i32,
    /// Attempts charged and not settled yet.
    pub in_flight: i32,
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

/// A run is over after [`QUIET`] without attempts, counted from the end of
/// its lock: probing once each time a lock ends keeps the run, and the lock
/// at its longest.
fn run_is_over(c: &Counter, now: DateTime<Utc>) -> bool {
    let last = c
        .locked_until
        .map_or(c.last_attempt, |l| l.max(c.last_attempt));
    last + QUIET <= now
}

/// The attempts still in flight at `now`: none once the last charge is
/// older than [`IN_FLIGHT_TTL`] (their clients went away, or the server that
/// checked them did).
fn in_flight(c: &Counter, now: DateTime<Utc>) -> i32 {
    if c.last_attempt + IN_FLIGHT_TTL <= now {
        0
    } else {
        c.in_flight.max(0)
    }
}

/// The verdict on an attempt at `now` by a subject whose counter is `current`.
pub fn charge(current: Option<Counter>, now: DateTime<Utc>) -> Verdict {
    if let Some(until) = current.and_then(|c| c.locked_until).filter(|u| *u > now) {
        return Verdict::Locked(round_up(until - now));
    }
    let run = current.filter(|c| !run_is_over(c, now));
    let (failures, in_flight) = run.map_or((0, 0), |c| (c.failures, in_flight(&c, now)));
    // The free attempts left, or once they are spent one at a time, each
    // after the lock its predecessor earned.
    let allowance = (FREE_ATTEMPTS - failures).max(1);
    if in_flight >= allowance {
        // Only attempts in flight can fill the allowance without a lock:
        // the one beyond waits until they settle.
        return Verdict::Locked(RETRY_IN_FLIGHT);
    }
    Verdict::Check {
        counter: Counter {
            failures,
            in_flight: in_flight + 1,
            run_start: run.map_or(now, |c| c.run_start),
            last_attempt: now,
            locked_until: None,
        },
        new_run: run.is_none(),
    }
}

/// The counter after a charged attempt failed at `now`: the
/// [`FREE_ATTEMPTS`]-th failure and every one after it lock the subject.
pub fn failed(current: Counter, now: DateTime<Utc>) -> Counter {
    let failures = current.failures.saturating_add(1);
    Counter {
        failures,
        in_flight: (current.in_flight - 1).max(0),
        locked_until: (failures >= FREE_ATTEMPTS).then(|| now + lock_for(failures)),
        ..current
    }
}

/// `2^(failures - FREE_ATTEMPTS + 1)` seconds, capped at [`MAX_LOCK`].
fn lock_for(failures: i32) -> Duration {
    let exponent = u32::try_from(failures - FREE_ATTEMPTS + 1).unwrap_or(0);
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

    /// Charges `n` attempts at `at` at once; returns the counter and how many
    /// were let through to be checked.
    fn charge_n(mut c: Option<Counter>, n: usize, at: DateTime<Utc>) -> (Option<Counter>, usize) {
        let mut checked = 0;
        for _ in 0..n {
            if let Verdict::Check { counter, .. } = charge(c, at) {
                c = Some(counter);
                checked += 1;
            }
        }
        (c, checked)
    }

    /// `n` attempts one after another, each failing before the next.
    fn fail_n(mut c: Option<Counter>, n: usize, at: DateTime<Utc>) -> Option<Counter> {
        for _ in 0..n {
            if let Verdict::Check { counter, .. } = charge(c, at) {
                c = Some(failed(counter, at));
            }
        }
        c
    }

    #[test]
    fn at_most_five_concurrent_attempts_are_checked() {
        let (c, checked) = charge_n(None, 60, t0());
        assert_eq!(checked, 5);
        let c = c.unwrap_or_else(|| panic!("charged"));
        assert_eq!(c.in_flight, 5);
        assert_eq!(c.locked_until, None, "nothing failed yet");
        assert_eq!(charge(Some(c), t0()), Verdict::Locked(RETRY_IN_FLIGHT));
        // Their failures lock the subject.
        let mut after = c;
        for _ in 0..5 {
            after = failed(after, t0());
        }
        assert_eq!(after.in_flight, 0);
        assert_eq!(after.locked_until, Some(t0() + Duration::seconds(2)));
        assert_eq!(
            charge(Some(after), t0()),
            Verdict::Locked(StdDuration::from_secs(2))
        );
    }

    #[test]
    fn five_sequential_failures_lock_then_each_one_after_a_lock_doubles_it() {
        let mut c = fail_n(None, 5, t0());
        assert_eq!(
            c.and_then(|c| c.locked_until),
            Some(t0() + Duration::seconds(2))
        );
        let mut at = t0();
        for expected in [4, 8, 16, 32, 64, 128, 256, 512, 900, 900] {
            at = c.and_then(|c| c.locked_until).unwrap_or(at);
            let Verdict::Check { counter, new_run } = charge(c, at) else {
                panic!("the lock ended at {at}");
            };
            assert!(!new_run);
            let counter = failed(counter, at);
            assert_eq!(counter.locked_until, Some(at + Duration::seconds(expected)));
            c = Some(counter);
        }
    }

    #[test]
    fn after_a_lock_one_attempt_at_a_time_is_checked() {
        let c = fail_n(None, 5, t0());
        let at = t0() + Duration::seconds(2);
        let (_, checked) = charge_n(c, 10, at);
        assert_eq!(checked, 1);
    }

    #[test]
    fn attempts_that_never_finish_stop_counting() {
        let (c, _) = charge_n(None, 5, t0());
        assert!(matches!(
            charge(c, t0() + Duration::seconds(29)),
            Verdict::Locked(_)
        ));
        let Verdict::Check { counter, new_run } = charge(c, t0() + IN_FLIGHT_TTL) else {
            panic!("abandoned attempts still count");
        };
        assert!(!new_run);
        assert_eq!((counter.failures, counter.in_flight), (0, 1));
    }

    #[test]
    fn a_quiet_period_starts_a_new_run() {
        let c = fail_n(None, 4, t0());
        let later = t0() + QUIET;
        let Verdict::Check { counter, new_run } = charge(c, later) else {
            panic!("not locked");
        };
        assert!(new_run);
        assert_eq!((counter.failures, counter.in_flight), (0, 1));
        assert_eq!(counter.run_start, later);
    }

    #[test]
    fn failures_close_together_stay_in_one_run() {
        let c = fail_n(None, 4, t0());
        let at = t0() + Duration::minutes(14);
        let Verdict::Check { counter, new_run } = charge(c, at) else {
            panic!("not locked");
        };
        assert!(!new_run);
        assert_eq!(counter.run_start, t0());
        assert_eq!(
            failed(counter, at).locked_until,
            Some(at + Duration::seconds(2))
        );
    }

    #[test]
    fn spent_counters_are_the_ones_whose_run_is_over() {
        let c = fail_n(None, 5, t0()).unwrap_or_else(|| panic!("charged"));
        assert!(!is_spent(&c, t0() + Duration::seconds(1)));
        assert!(!is_spent(&c, t0() + QUIET));
        assert!(is_spent(&c, t0() + Duration::seconds(2) + QUIET));
    }
}
