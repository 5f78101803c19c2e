//! Time as the platform sees it. Domain code asks a [`Clock`] instead of the
//! system so tests and the sandbox can move time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset, Utc};

/// The wire form of an instant.
pub fn to_proto_timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        // Sub-second nanos are below 2e9, which fits.
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The billing time zone unless configured otherwise: UTC+8, the vendor's.
pub const DEFAULT_BILLING_UTC_OFFSET_HOURS: i32 = 8;

/// The billing time zone `hours` from UTC, for −12 to 14; `None` otherwise.
pub fn billing_zone(hours: i32) -> Option<FixedOffset> {
    if !(-12..=14).contains(&hours) {
        return None;
    }
    FixedOffset::east_opt(hours.checked_mul(3600)?)
}

/// The default billing time zone.
pub fn default_billing_zone() -> FixedOffset {
    billing_zone(DEFAULT_BILLING_UTC_OFFSET_HOURS).unwrap_or_else(|| chrono::Offset::fix(&Utc))
}

/// The calendar month (`YYYY-MM`) at `at` in `zone`: a billing cycle, and
/// the month a monthly budget counts.
pub fn month_in(at: DateTime<Utc>, zone: FixedOffset) -> String {
    at.with_timezone(&zone).format("%Y-%m").to_string()
}

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// `t` at microsecond precision: what both databases store, so that what a
/// verb answers from memory equals what a later read returns.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct TestClock {
    now: Mutex<DateTime<Utc>>,
}

impl TestClock {
    /// A clock reading `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Sets the reading.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.lock() = to;
    }

    /// Moves the reading forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A poisoned lock still holds a valid timestamp.
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(*self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_when_told() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let clock = TestClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(2));
        assert_eq!(clock.now(), start + Duration::hours(2));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn readings_are_whole_microseconds() {
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1000, 0);
        let odd = DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(
            TestClock::new(odd).now().timestamp_subsec_nanos(),
            123_456_000
        );
    }

    #[test]
    fn system_clock_is_near_now() {
        let diff = SystemClock.now() - Utc::now();
        assert!(diff.num_seconds().abs() < 5);
    }
}

/// The platform clock in sandbox mode: another clock, moved forward by an
/// offset the operator advances (never back: what was done stays in the
/// past).
#[derive(Debug)]
pub struct SandboxClock {
    base: SharedClock,
    offset_micros: AtomicI64,
}

impl SandboxClock {
    /// `base` with no offset yet.
    pub fn new(base: SharedClock) -> Self {
        Self {
            base,
            offset_micros: AtomicI64::new(0),
        }
    }

    /// Moves the clock to `offset` ahead of its base, if that is further
    /// than it is (what another replica, or an earlier run, moved it to).
    pub fn raise_to(&self, offset: Duration) {
        let micros = offset.num_microseconds().unwrap_or(0);
        self.offset_micros.fetch_max(micros, Ordering::SeqCst);
    }

    /// How far ahead of its base the clock is.
    pub fn offset(&self) -> Duration {
        Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }
}

impl Clock for SandboxClock {
    fn now(&self) -> DateTime<Utc> {
        self.base.now() + self.offset()
    }
}

#[cfg(test)]
mod sandbox_tests {
    use super::*;

    #[test]
    fn a_sandbox_clock_only_moves_forward_from_its_base() {
        let start = to_micros(Utc::now());
        let base = Arc::new(TestClock::new(start));
        let clock = SandboxClock::new(base.clone());
        assert_eq!(clock.now(), start);
        clock.raise_to(Duration::days(3));
        assert_eq!(clock.now(), start + Duration::days(3));
        clock.raise_to(Duration::days(-10));
        assert_eq!(clock.offset(), Duration::days(3));
        base.advance(Duration::hours(1));
        assert_eq!(clock.now(), start + Duration::days(3) + Duration::hours(1));
        // Raised to where another replica moved it; never lowered.
        clock.raise_to(Duration::days(5));
        assert_eq!(clock.offset(), Duration::days(5));
        clock.raise_to(Duration::days(4));
        assert_eq!(clock.offset(), Duration::days(5));
    }
}
