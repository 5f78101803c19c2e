//! The refund policy: what unsubscribing refunds of one paid period of a
//! resource, and into which of the accounts that paid it. Pure, so the
//! matrix in docs/billing.md ("Refund matrix") is tested cell by cell, and
//! so the preview and the action cannot differ.

use chrono::{DateTime, Duration, Utc};

use super::model::RefundRule;

/// Unsubscribed within this many days of its purchase, a resource is
/// refunded everything paid from balance.
pub const FULL_REFUND_DAYS: i64 = 5;

/// One paid period of a resource: its share of the line that sold it, in
/// minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub order: String,
    pub line_no: i32,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub list: i64,
    pub discount: i64,
    /// What coupons paid: consumed, never refunded.
    pub coupon: i64,
    /// What the payer's cash and credit paid: the most a refund returns.
    pub paid: i64,
    /// A renewed period (else the purchase).
    pub renewal: bool,
}

/// What unsubscribing at `now` refunds of `p`, of a resource bought at
/// `purchased`, and the rule that says so:
///
/// - a period that has ended, nothing;
/// - within 5 days of the purchase, everything paid from balance;
/// - a period that has not started, everything paid from balance;
/// - a running period, its unused part at list price (rounded down to the
///   minor unit) less its whole discount and coupons, never below zero nor
///   above what balance paid.
pub fn refund(p: &Period, purchased: DateTime<Utc>, now: DateTime<Utc>) -> (i64, RefundRule) {
    // An ended period is used up, even within the 5 days (an hour's or a
    // day's purchase).
    if now >= p.ends {
        return (0, RefundRule::Ended);
    }
    if now < purchased + Duration::days(FULL_REFUND_DAYS) {
        return (p.paid.max(0), RefundRule::FullWithin5Days);
    }
    if now <= p.starts {
        return (p.paid.max(0), RefundRule::NotStarted);
    }
    let total = i128::from((p.ends - p.starts).num_seconds().max(1));
    let left = i128::from((p.ends - now).num_seconds().max(0)).min(total);
    let unused = i128::from(p.list) * left / total;
    let amount = unused - i128::from(p.discount) - i128::from(p.coupon);
    let amount = amount.clamp(0, i128::from(p.paid.max(0)));
    (i64::try_from(amount).unwrap_or(0), RefundRule::ProRata)
}

/// The share of `amount` the `index`-th (from 0) of `count` resources of
/// one line carries: equal parts, the first ones a minor unit more until
/// the remainder is spent, so the shares add up to the whole.
pub fn share(amount: i64, count: i64, index: i64) -> i64 {
    if count <= 1 {
        return amount;
    }
    let base = amount / count;
    let extra = i64::from(index < amount % count);
    base + extra
}

/// One account that paid an order, as its payment record keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub seq: i32,
    /// `CASH` or `CREDIT` (coupons are never refunded).
    pub source: String,
    pub amount: i64,
    pub refunded: i64,
}

/// How `amount` of one order's refund returns to the accounts that paid
/// it: credit first (what the order borrowed is repaid), then cash, each
/// at most what it paid less what it was refunded; `(seq, part)` each.
/// `None` when they cannot take it all (more than was paid).
pub fn into_sources(sources: &[Source], amount: i64) -> Option<Vec<(i32, i64)>> {
    let mut left = amount;
    let mut out = Vec::new();
    for kind in ["CREDIT", "CASH"] {
        for s in sources.iter().filter(|s| s.source == kind).rev() {
            if left == 0 {
                break;
            }
            let room = s.amount.saturating_sub(s.refunded).max(0);
            let part = room.min(left);
            if part > 0 {
                out.push((s.seq, part));
                left -= part;
            }
        }
    }
    (left == 0).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, d, 0, 0, 0).unwrap()
    }

    /// A period of January 1–31 (30 days), list 300.00, discount 30.00,
    /// coupon 20.00, balance 250.00.
    fn january(renewal: bool) -> Period {
        Period {
            order: "ord".into(),
            line_no: 0,
            starts: day(1),
            ends: day(31),
            list: 30_000,
            discount: 3_000,
            coupon: 2_000,
            paid: 25_000,
            renewal,
        }
    }

    #[test]
    fn within_five_days_of_the_purchase_everything_paid_returns() {
        let p = january(false);
        assert_eq!(
            refund(&p, day(1), day(5)),
            (25_000, RefundRule::FullWithin5Days)
        );
        // 5 days after, the rule no longer applies.
        assert_eq!(refund(&p, day(1), day(6)).1, RefundRule::ProRata);
        // A renewal of a resource bought 2 days ago: also in full.
        assert_eq!(
            refund(&january(true), day(1), day(3)),
            (25_000, RefundRule::FullWithin5Days)
        );
    }

    #[test]
    fn a_period_used_up_within_five_days_returns_nothing() {
        // An hour bought at 10:00, unsubscribed at 12:00 the same day.
        let ten = day(3) + Duration::hours(10);
        let p = Period {
            starts: ten,
            ends: ten + Duration::hours(1),
            ..january(false)
        };
        assert_eq!(
            refund(&p, ten, ten + Duration::hours(2)),
            (0, RefundRule::Ended)
        );
        assert_eq!(
            refund(&p, ten, ten + Duration::minutes(30)).1,
            RefundRule::FullWithin5Days
        );
    }

    #[test]
    fn a_period_not_started_returns_everything_paid() {
        let mut p = january(true);
        p.starts = day(20);
        p.ends = day(31);
        assert_eq!(
            refund(&p, day(1), day(10)),
            (25_000, RefundRule::NotStarted)
        );
        assert_eq!(
            refund(&p, day(1), day(20)),
            (25_000, RefundRule::NotStarted)
        );
    }

    #[test]
    fn an_ended_period_returns_nothing() {
        let p = january(false);
        let later = Utc.with_ymd_and_hms(2027, 2, 10, 0, 0, 0).unwrap();
        assert_eq!(
            refund(&p, day(1) - Duration::days(40), later),
            (0, RefundRule::Ended)
        );
        assert_eq!(
            refund(&p, day(1) - Duration::days(40), day(31)),
            (0, RefundRule::Ended)
        );
    }

    #[test]
    fn a_running_period_returns_its_unused_part_less_discount_and_coupons() {
        let p = january(false);
        // Bought long ago (a renewal's view): on the 11th, 20 of 30 days are
        // left: 200.00 at list, less 30.00 and 20.00 = 150.00.
        let long_ago = day(1) - Duration::days(400);
        assert_eq!(refund(&p, long_ago, day(11)), (15_000, RefundRule::ProRata));
        // 6 of 30 days left: 60.00 − 50.00 = 10.00.
        assert_eq!(refund(&p, long_ago, day(25)), (1_000, RefundRule::ProRata));
        // 4 days left: 40.00 < 50.00: nothing, never below zero.
        assert_eq!(refund(&p, long_ago, day(27)), (0, RefundRule::ProRata));
        // Rounded down: 1 second in, 299.99 at list (not 300.00).
        let p = Period {
            discount: 0,
            coupon: 0,
            paid: 30_000,
            ..january(false)
        };
        let second = day(1) + Duration::seconds(1);
        assert_eq!(refund(&p, long_ago, second), (29_999, RefundRule::ProRata));
    }

    #[test]
    fn a_refund_never_exceeds_what_balance_paid() {
        // All paid by coupon: nothing from balance, nothing back.
        let p = Period {
            coupon: 27_000,
            paid: 0,
            ..january(false)
        };
        assert_eq!(refund(&p, day(1), day(2)).0, 0);
        assert_eq!(refund(&p, day(1) - Duration::days(9), day(2)).0, 0);
        // No discount nor coupon, a day in: at most what was paid.
        let p = Period {
            list: 30_000,
            discount: 0,
            coupon: 0,
            paid: 10_000,
            ..january(false)
        };
        assert_eq!(refund(&p, day(1) - Duration::days(9), day(2)).0, 10_000);
    }

    #[test]
    fn shares_of_a_line_add_up_to_the_whole() {
        for (amount, count) in [(1_000, 3), (7, 4), (0, 5), (99_999, 7), (5, 1)] {
            let sum: i64 = (0..count).map(|i| share(amount, count, i)).sum();
            assert_eq!(sum, amount);
        }
        assert_eq!(share(1_000, 3, 0), 334);
        assert_eq!(share(1_000, 3, 2), 333);
    }

    fn source(seq: i32, source: &str, amount: i64, refunded: i64) -> Source {
        Source {
            seq,
            source: source.into(),
            amount,
            refunded,
        }
    }

    #[test]
    fn refunds_repay_credit_first_then_cash_within_what_each_paid() {
        let paid = [
            source(1, "CASH", 6_000, 0),
            source(2, "CREDIT", 4_000, 1_000),
        ];
        assert_eq!(into_sources(&paid, 2_000), Some(vec![(2, 2_000)]));
        assert_eq!(
            into_sources(&paid, 5_000),
            Some(vec![(2, 3_000), (1, 2_000)])
        );
        assert_eq!(
            into_sources(&paid, 9_000),
            Some(vec![(2, 3_000), (1, 6_000)])
        );
        assert_eq!(into_sources(&paid, 9_001), None);
        assert_eq!(into_sources(&paid, 0), Some(vec![]));
    }
}
