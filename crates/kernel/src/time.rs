//! Checked conversions between the wire's `Timestamp` / `Duration` and the
//! platform's time types, and checked date arithmetic. Every client-supplied
//! time goes through here: a client that does not validate its Durations can
//! send nine quintillion seconds, and unchecked arithmetic on that panics.

use chrono::{DateTime, Duration, TimeDelta, Utc};

/// The largest Duration the protobuf well-known type allows: ±10,000 years.
const MAX_PROTO_DURATION_SECONDS: i64 = 315_576_000_000;

/// A wire `Timestamp` as an instant: nanos in `0..1e9` and the instant
/// within the calendar the platform stores (years 1–9999).
pub fn from_proto_timestamp(t: &prost_types::Timestamp) -> Result<DateTime<Utc>, &'static str> {
    let nanos = u32::try_from(t.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or("nanos must be 0-999,999,999")?;
    let at = DateTime::from_timestamp(t.seconds, nanos).ok_or("not a representable time")?;
    storable(at)
}

/// 0001-01-01 to 9999-12-31: what both databases and RFC 3339 can hold.
fn storable(at: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
    if (-62_135_596_800..=253_402_300_799).contains(&at.timestamp()) {
        Ok(at)
    } else {
        Err("must fall between the years 1 and 9999")
    }
}

/// A wire `Duration` as a span: within ±10,000 years, and nanos of the same
/// sign as the seconds, below a second.
pub fn from_proto_duration(d: &prost_types::Duration) -> Result<Duration, &'static str> {
    if d.seconds.unsigned_abs() > MAX_PROTO_DURATION_SECONDS.unsigned_abs() {
        return Err("at most 10,000 years");
    }
    if d.nanos.unsigned_abs() >= 1_000_000_000
        || (d.seconds > 0 && d.nanos < 0)
        || (d.seconds < 0 && d.nanos > 0)
    {
        return Err("nanos must be below a second and of the seconds' sign");
    }
    let seconds = TimeDelta::try_seconds(d.seconds).ok_or("too long")?;
    seconds
        .checked_add(&TimeDelta::nanoseconds(i64::from(d.nanos)))
        .ok_or("too long")
}

/// `at + by`, or an error when the result leaves the calendar the platform
/// stores (years 1–9999).
pub fn checked_add(at: DateTime<Utc>, by: Duration) -> Result<DateTime<Utc>, &'static str> {
    at.checked_add_signed(by)
        .ok_or("too far in the future or past")
        .and_then(storable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos }
    }

    fn dur(seconds: i64, nanos: i32) -> prost_types::Duration {
        prost_types::Duration { seconds, nanos }
    }

    #[test]
    fn timestamps_at_and_beyond_the_limits_are_refused_not_panicking() {
        assert!(from_proto_timestamp(&ts(1_700_000_000, 5)).is_ok());
        for bad in [
            ts(i64::MAX, 0),
            ts(i64::MIN, 0),
            ts(0, -1),
            ts(0, 1_000_000_000),
            ts(0, i32::MAX),
            ts(253_402_300_800, 0),
            ts(-62_135_596_801, 0),
            ts(8_210_266_876_799, 0),
        ] {
            assert!(from_proto_timestamp(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_at_and_beyond_the_limits_are_refused_not_panicking() {
        assert_eq!(from_proto_duration(&dur(60, 0)), Ok(Duration::minutes(1)));
        assert!(from_proto_duration(&dur(-1, -5)).is_ok());
        for bad in [
            dur(i64::MAX, 0),
            dur(i64::MIN, 0),
            dur(9_223_372_036_854, 0),
            dur(1, -1),
            dur(-1, 1),
            dur(0, 1_000_000_000),
            dur(0, i32::MIN),
        ] {
            assert!(from_proto_duration(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn additions_past_the_calendar_are_errors() {
        let now = Utc::now();
        assert!(checked_add(now, Duration::days(1)).is_ok());
        let ten_thousand_years = from_proto_duration(&dur(MAX_PROTO_DURATION_SECONDS, 0));
        assert!(ten_thousand_years.is_ok_and(|d| checked_add(now, d).is_err()));
        assert!(checked_add(now, TimeDelta::MAX).is_err());
    }
}
