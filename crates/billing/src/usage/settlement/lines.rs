//! What a settlement bills, worked out before the database is touched:
//! the claimed records summed per fee key at 9 decimals ([`usage_of`]),
//! then each key's growth of its rounded running total for the cycle
//! ([`Accrued::charge`]) — so a cycle's use of a resource is rounded once,
//! however many hours it was settled in.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use partner_kernel::error::KernelError;
use partner_kernel::money::{Currency, Money};
use partner_pricing::rating::rounding::to_minor;
use rust_decimal::Decimal;

use crate::bills::model::cycle_of_end;
use crate::usage::entity as record;

/// What a fee record is of: a cycle, a currency, the partner the use was
/// reported under, and the resource (or, without one, the product).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeeKey {
    pub cycle: String,
    pub currency: String,
    pub partner_id: Option<String>,
    pub resource_id: Option<String>,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
}

impl FeeKey {
    /// The key of an accrual within its customer, cycle and currency.
    pub fn text(&self) -> String {
        [
            self.partner_id.as_deref().unwrap_or_default(),
            self.resource_id.as_deref().unwrap_or_default(),
            &self.service_type,
            &self.resource_type,
            &self.spec,
            &self.region,
        ]
        .join("|")
    }
}

/// One key's use in a settlement, at 9 decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub key: FeeKey,
    pub list: Decimal,
    pub amount: Decimal,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn decimal(raw: &str, what: &str) -> Result<Decimal, KernelError> {
    raw.parse::<Decimal>()
        .map_err(|e| KernelError::Corrupt(format!("usage {what} {raw:?}: {e}")))
}

fn overflow() -> KernelError {
    KernelError::Corrupt("usage amounts beyond what a decimal holds".into())
}

/// The claimed `records` summed per fee key, in key order.
pub fn usage_of(records: &[record::Model], zone: FixedOffset) -> Result<Vec<Usage>, KernelError> {
    let mut sums: BTreeMap<FeeKey, Usage> = BTreeMap::new();
    for r in records {
        let key = FeeKey {
            cycle: cycle_of_end(r.ends_at, zone),
            currency: r.currency.clone(),
            partner_id: r.partner_id.clone(),
            resource_id: r.resource_id.clone(),
            service_type: r.service_type.clone(),
            resource_type: r.resource_type.clone(),
            spec: r.spec.clone(),
            region: r.region.clone(),
        };
        let (list, amount) = (
            decimal(&r.list_amount, "list")?,
            decimal(&r.amount, "amount")?,
        );
        let sum = sums.entry(key.clone()).or_insert(Usage {
            key,
            list: Decimal::ZERO,
            amount: Decimal::ZERO,
            start: r.starts_at,
            end: r.ends_at,
        });
        sum.list = sum.list.checked_add(list).ok_or_else(overflow)?;
        sum.amount = sum.amount.checked_add(amount).ok_or_else(overflow)?;
        sum.start = sum.start.min(r.starts_at);
        sum.end = sum.end.max(r.ends_at);
    }
    Ok(sums.into_values().collect())
}

/// A key's running totals in its cycle, at 9 decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accrued {
    pub list: Decimal,
    pub amount: Decimal,
}

/// What a settlement bills for one key: the growth of its rounded running
/// totals. `discount` is `list − amount` (it may be −0.01 in a settlement
/// where the two round apart; a cycle's discounts add up to the rounded
/// list less the rounded amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub list: Money,
    pub discount: Money,
    pub amount: Money,
}

impl Charge {
    pub fn is_zero(&self) -> bool {
        self.list.minor() == 0 && self.amount.minor() == 0
    }
}

impl Accrued {
    pub fn parse(list: &str, amount: &str) -> Result<Self, KernelError> {
        Ok(Self {
            list: decimal(list, "accrued list")?,
            amount: decimal(amount, "accrued amount")?,
        })
    }

    /// The totals after `u` is added, and what that bills.
    pub fn charge(self, u: &Usage, currency: Currency) -> Result<(Self, Charge), KernelError> {
        let after = Self {
            list: self.list.checked_add(u.list).ok_or_else(overflow)?,
            amount: self.amount.checked_add(u.amount).ok_or_else(overflow)?,
        };
        let round = |d: Decimal| {
            to_minor(d, currency)
                .map(|m| m.minor())
                .ok_or_else(|| KernelError::Corrupt("a usage amount beyond Money".into()))
        };
        let list = round(after.list)? - round(self.list)?;
        let amount = round(after.amount)? - round(self.amount)?;
        let money = |minor| Money::from_minor(currency, minor);
        Ok((
            after,
            Charge {
                list: money(list),
                discount: money(list - amount),
                amount: money(amount),
            },
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, h, 0, 0).unwrap()
    }

    fn rec(resource: &str, ends: DateTime<Utc>, list: &str, amount: &str) -> record::Model {
        record::Model {
            record_id: format!("{resource}-{}", ends.timestamp()),
            fingerprint: Vec::new(),
            partner_id: Some("prt_x".into()),
            customer_id: "cus_x".into(),
            resource_id: Some(resource.into()).filter(|r: &String| !r.is_empty()),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            zone: String::new(),
            size: 0,
            usage_factor: "duration".into(),
            usage_value: "1".into(),
            usage_unit: "HOUR".into(),
            starts_at: ends - TimeDelta::hours(1),
            ends_at: ends,
            list_amount: list.into(),
            currency: "CNY".into(),
            catalog_version: 1,
            reported_at: ends,
            discount_id: None,
            discount_amount: "0".into(),
            amount: amount.into(),
            settlement_id: None,
        }
    }

    #[test]
    fn records_are_summed_per_resource_and_cycle_at_9_decimals() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        // 16:00 UTC on 31 March is midnight on 1 April in UTC+8: the
        // third hour ends in April.
        let records = [
            rec("res_a", at(15), "0.316", "0.2528"),
            rec("res_a", at(16), "0.316", "0.2528"),
            rec("res_a", at(17), "0.316", "0.2528"),
            rec("res_b", at(15), "0.0014", "0.0014"),
            rec("", at(15), "0.005", "0.005"),
        ];
        let usage = usage_of(&records, utc8).unwrap();
        let seen: Vec<(&str, Option<&str>, Decimal, Decimal)> = usage
            .iter()
            .map(|u| {
                (
                    u.key.cycle.as_str(),
                    u.key.resource_id.as_deref(),
                    u.list,
                    u.amount,
                )
            })
            .collect();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            seen,
            vec![
                ("2026-03", None, d("0.005"), d("0.005")),
                ("2026-03", Some("res_a"), d("0.632"), d("0.5056")),
                ("2026-03", Some("res_b"), d("0.0014"), d("0.0014")),
                ("2026-04", Some("res_a"), d("0.316"), d("0.2528")),
            ]
        );
        assert_eq!(usage[1].start, at(14));
        assert_eq!(usage[1].end, at(16));
    }

    #[test]
    fn a_cycle_is_rounded_once_however_many_settlements_charge_it() {
        // A disk at 0.0014 an hour: nothing in each hour alone, yet 720
        // hours are 1.008 → 1.01, charged as the total crosses each cent.
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let mut accrued = Accrued::default();
        let mut charged = 0;
        let mut discount = 0;
        for h in 0..720 {
            let end = at(0) - TimeDelta::days(30) + TimeDelta::hours(h);
            let usage = usage_of(&[rec("res_d", end, "0.0014", "0.00112")], utc8).unwrap();
            let (after, c) = accrued.charge(&usage[0], Currency::Cny).unwrap();
            accrued = after;
            charged += c.amount.minor();
            discount += c.discount.minor();
            assert_eq!(c.list.minor() - c.discount.minor(), c.amount.minor());
        }
        // 1.008 → 1.01 listed; 0.8064 → 0.81 charged.
        assert_eq!(charged, 81);
        assert_eq!(discount, 101 - 81);
    }
}
