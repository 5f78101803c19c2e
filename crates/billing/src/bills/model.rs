//! What a fee record is, and the billing cycle it falls in.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use partner_api::billing::v1 as pb;

partner_kernel::state_enum!(
    /// What a fee record bills.
    BillType, "bill type", BillType {
        /// A new purchase.
        Purchase = "PURCHASE",
        /// A renewal.
        Renewal = "RENEWAL",
        /// A change of spec.
        Change = "CHANGE",
        /// A refund (amounts below zero).
        Refund = "REFUND",
        /// On-demand use, charged at the hourly settlement.
        OnDemand = "ON_DEMAND",
        /// A correction of a closed cycle, billed in the next.
        Adjustment = "ADJUSTMENT",
    }
);

/// How long after a cycle ends usage of it is still accepted (a meter
/// reports the last hour after midnight); the cycle closes after it.
pub const LATE_USAGE_GRACE: Duration = Duration::hours(3);

/// The billing cycle (`YYYY-MM` in the billing time zone `zone`) of what
/// ended at `end`: usage that ends exactly at midnight on the first
/// belongs to the month before.
pub fn cycle_of_end(end: DateTime<Utc>, zone: FixedOffset) -> String {
    cycle_at(end - Duration::microseconds(1), zone)
}

/// The billing cycle open at `at`.
pub fn cycle_at(at: DateTime<Utc>, zone: FixedOffset) -> String {
    partner_kernel::clock::month_in(at, zone)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_cycle_is_the_month_in_the_billing_zone_and_ends_at_its_midnight() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        // 16:00 UTC on 31 Jan is midnight on 1 Feb in UTC+8.
        let midnight = Utc.with_ymd_and_hms(2026, 1, 31, 16, 0, 0).unwrap();
        assert_eq!(cycle_at(midnight, utc8), "2026-02");
        assert_eq!(cycle_of_end(midnight, utc8), "2026-01");
        assert_eq!(
            cycle_of_end(midnight + Duration::seconds(1), utc8),
            "2026-02"
        );
        assert_eq!(
            cycle_at(midnight, FixedOffset::east_opt(0).unwrap()),
            "2026-01"
        );
    }
}
