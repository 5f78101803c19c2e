//! Writing fee records: what orders charged and refunds returned, a record
//! per resource, in the transaction that moved the money (settlements
//! write theirs in `usage::settlement`). A line's amounts are split over
//! its resources exactly: the first ones take the remainder's minor units.

use chrono::{DateTime, Utc};
use partner_kernel::money::Money;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::entity as fee;
use super::model::BillType;
use crate::error::BillingError;
use crate::orders::model::{ChargingMode, PricedLine};

/// Rows per multi-row insert statement in billing (fee records, running
/// totals, usage records): about 9 KiB of parameters. Larger statements
/// stall about 40 ms each on PostgreSQL over TCP (the driver does not set
/// TCP_NODELAY; docs/benchmarks.md, "Usage and bills").
pub(crate) const ROWS_PER_INSERT: usize = 20;

/// A fee record's id.
pub fn fee_id() -> String {
    format!("fee_{}", Uuid::now_v7().simple())
}

/// `total` in `n` parts (n ≥ 1) that add up to it exactly, the larger
/// first.
pub fn split(total: i64, n: usize) -> Vec<i64> {
    let n = n.max(1);
    let parts = i64::try_from(n).unwrap_or(i64::MAX);
    let (base, rest) = (total / parts, total % parts);
    (0..parts)
        .map(|i| base + if i < rest.abs() { rest.signum() } else { 0 })
        .collect()
}

/// Who and what a batch of fee records bills.
#[derive(Debug, Clone)]
pub struct Billed<'a> {
    pub cycle: String,
    pub customer_id: &'a str,
    pub partner_id: Option<&'a str>,
    pub bill_type: BillType,
    /// The order the money moved for.
    pub source_id: &'a str,
    pub transaction_id: Option<String>,
    pub now: DateTime<Utc>,
}

/// One order line's fee records: its list and final amounts (signed: a
/// refund's are below zero) split over `resources` (none: one record
/// without a resource); each record's discount is what its list leaves,
/// so list = discount + amount record by record.
pub fn line_fees(
    billed: &Billed<'_>,
    l: &PricedLine,
    resources: &[String],
    (list, amount): (Money, Money),
) -> Vec<fee::ActiveModel> {
    let n = resources.len().max(1);
    let (lists, amounts) = (split(list.minor(), n), split(amount.minor(), n));
    let discounts: Vec<i64> = lists.iter().zip(&amounts).map(|(l, a)| l - a).collect();
    (0..n)
        .map(|i| {
            let p = &l.product;
            fee::ActiveModel {
                id: Set(fee_id()),
                cycle: Set(billed.cycle.clone()),
                customer_id: Set(billed.customer_id.to_owned()),
                partner_id: Set(billed.partner_id.map(str::to_owned)),
                resource_id: Set(resources.get(i).cloned()),
                service_type: Set(p.service_type.clone()),
                resource_type: Set(p.resource_type.clone()),
                spec: Set(p.spec.clone()),
                region: Set(p.region.clone()),
                charge_mode: Set(ChargingMode::Period.as_str().to_owned()),
                bill_type: Set(billed.bill_type.as_str().to_owned()),
                list_minor: Set(lists[i]),
                discount_minor: Set(discounts[i]),
                amount_minor: Set(amounts[i]),
                currency: Set(amount.currency().code().to_owned()),
                transaction_id: Set(billed.transaction_id.clone()),
                source_id: Set(billed.source_id.to_owned()),
                usage_start: Set(l.period.map(|p| p.0)),
                usage_end: Set(l.period.map(|p| p.1)),
                occurred_at: Set(billed.now),
                adjusts_cycle: Set(None),
                reason: Set(None),
            }
        })
        .collect()
}

/// Stores fee records, in chunks (bind parameters are limited).
pub async fn insert(
    conn: &impl ConnectionTrait,
    rows: Vec<fee::ActiveModel>,
) -> Result<(), BillingError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<fee::ActiveModel> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        fee::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_adds_up_exactly_with_the_remainder_first() {
        assert_eq!(split(100, 3), vec![34, 33, 33]);
        assert_eq!(split(-100, 3), vec![-34, -33, -33]);
        assert_eq!(split(5, 1), vec![5]);
        assert_eq!(split(2, 4), vec![1, 1, 0, 0]);
        assert_eq!(split(7, 0), vec![7]);
    }
}
