//! The hourly settlement: at each hour's boundary, what every customer's
//! on-demand use that ended by then costs is charged, one journal
//! transaction per customer (cash first, then credit, then arrears), with
//! a fee record per resource. Records are claimed by a conditional update,
//! so two replicas never charge one twice; a customer that cannot be
//! settled now is left for the next pass without stopping the others.
//!
//! Amounts: each record is rated to 9 decimals when reported; a fee
//! record sums a resource's records of one billing cycle at 9 decimals and
//! rounds once, half-up, to the minor unit; the charge is the sum of the
//! fee records — so fee records and the ledger agree to the minor unit.

pub mod entity;

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, FixedOffset, TimeDelta, Utc};
use partner_customers::budgets::store as budget_store;
use partner_customers::customers::store as customer_store;
use partner_customers::customers::{Customer, FreezeMode};
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{Change, record_changes};
use partner_pricing::rating::rounding::to_minor;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity as record;
use crate::arrears::entity as arrears;
use crate::bills::entity as fee;
use crate::bills::model::{BillType, cycle_of_end};
use crate::error::BillingError;
use crate::ledger::{Account, AccountKey, Kind, Operation, Owner, Posting, locked_accounts, post};
use crate::orders::model::ChargingMode;

/// The job's name where a call's method would be.
const METHOD: &str = "job:UsageSettlement";
/// Customers read at a time.
const CUSTOMERS_PER_READ: u64 = 500;
/// Why an over-budget customer was frozen.
const BUDGET_FREEZE_REASON: &str = "budget exceeded by on-demand charges (auto-freeze)";

/// What one pass settled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Customers charged (or whose use cost nothing).
    pub customers: u64,
    /// Usage records charged.
    pub records: u64,
    /// Customers whose charge went (partly) into arrears.
    pub into_arrears: u64,
    /// Customers frozen for going over an auto-freeze budget.
    pub budget_frozen: u64,
}

/// The hour's boundary at or before `now`: usage that ended by then is due.
pub fn boundary(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
}

/// One fee record to write: a resource's (or, without one, a product's)
/// use in one billing cycle, summed at 9 decimals and rounded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    pub cycle: String,
    pub currency: Currency,
    pub resource_id: Option<String>,
    pub service_type: String,
    pub resource_type: String,
    pub spec: String,
    pub region: String,
    pub list: Money,
    pub discount: Money,
    pub amount: Money,
    pub usage_start: DateTime<Utc>,
    pub usage_end: DateTime<Utc>,
}

/// What a fee line is keyed by: cycle, currency, then the resource or the
/// product.
type FeeKey = (String, String, String, String, String, String, String);

fn decimal(raw: &str, what: &str) -> Result<Decimal, KernelError> {
    raw.parse::<Decimal>()
        .map_err(|e| KernelError::Corrupt(format!("usage record {what} {raw:?}: {e}")))
}

/// The fee lines of `records` (in a stable order: by cycle, currency, then
/// resource or product).
pub fn fee_lines(
    records: &[record::Model],
    zone: FixedOffset,
) -> Result<Vec<FeeLine>, KernelError> {
    struct Sum {
        first: usize,
        list: Decimal,
        amount: Decimal,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    }
    let mut sums: BTreeMap<FeeKey, Sum> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let key = (
            cycle_of_end(r.ends_at, zone),
            r.currency.clone(),
            r.resource_id.clone().unwrap_or_default(),
            r.service_type.clone(),
            r.resource_type.clone(),
            r.spec.clone(),
            r.region.clone(),
        );
        let (list, amount) = (
            decimal(&r.list_amount, "list")?,
            decimal(&r.amount, "amount")?,
        );
        let sum = sums.entry(key).or_insert(Sum {
            first: i,
            list: Decimal::ZERO,
            amount: Decimal::ZERO,
            start: r.starts_at,
            end: r.ends_at,
        });
        let overflow = || KernelError::Corrupt("usage amounts beyond what a decimal holds".into());
        sum.list = sum.list.checked_add(list).ok_or_else(overflow)?;
        sum.amount = sum.amount.checked_add(amount).ok_or_else(overflow)?;
        sum.start = sum.start.min(r.starts_at);
        sum.end = sum.end.max(r.ends_at);
    }
    sums.into_iter()
        .map(|((cycle, currency, ..), s)| {
            let r = &records[s.first];
            let currency = Currency::parse(&currency)
                .map_err(|e| KernelError::Corrupt(format!("usage record currency: {e}")))?;
            let round = |d: Decimal| {
                to_minor(d, currency)
                    .ok_or_else(|| KernelError::Corrupt("a usage amount beyond Money".into()))
            };
            let (list, amount) = (round(s.list)?, round(s.amount)?);
            // Rounded once each, so list = discount + amount exactly.
            let discount = Money::from_minor(currency, list.minor() - amount.minor());
            Ok(FeeLine {
                cycle,
                currency,
                resource_id: r.resource_id.clone(),
                service_type: r.service_type.clone(),
                resource_type: r.resource_type.clone(),
                spec: r.spec.clone(),
                region: r.region.clone(),
                list,
                discount,
                amount,
                usage_start: s.start,
                usage_end: s.end,
            })
        })
        .collect()
}

/// Settles every customer's use that ended by the hour's boundary at or
/// before `now`.
pub async fn settle_due(
    db: &Db,
    zone: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Settled, BillingError> {
    let through = boundary(now);
    let mut out = Settled::default();
    let mut after: Option<String> = None;
    loop {
        let mut q = record::Entity::find()
            .select_only()
            .column(record::Column::CustomerId)
            .distinct()
            .filter(record::Column::SettlementId.is_null())
            .filter(record::Column::EndsAt.lte(through));
        if let Some(after) = &after {
            q = q.filter(record::Column::CustomerId.gt(after.as_str()));
        }
        let due: Vec<String> = q
            .order_by_asc(record::Column::CustomerId)
            .limit(CUSTOMERS_PER_READ)
            .into_tuple()
            .all(db.conn())
            .await?;
        let full = due.len() as u64 == CUSTOMERS_PER_READ;
        for raw in due {
            // One customer that cannot be settled now must not stop the
            // others: its records stay unclaimed for the next pass.
            if let Err(e) = settle_customer(db, &raw, (through, zone, now), &mut out).await {
                tracing::warn!(customer = %raw, error = %e, "could not settle on-demand use");
            }
            after = Some(raw);
        }
        if !full {
            return Ok(out);
        }
    }
}

/// A settlement's id.
fn settlement_id() -> String {
    format!("stl_{}", Uuid::now_v7().simple())
}

/// Settles one customer's use that ended by `through`, in one write
/// transaction.
async fn settle_customer(
    db: &Db,
    raw: &str,
    (through, zone, now): (DateTime<Utc>, FixedOffset, DateTime<Utc>),
    out: &mut Settled,
) -> Result<(), BillingError> {
    let customer = parse_stored(raw, CustomerId::parse)?;
    let id = settlement_id();
    let tx = db.begin_write().await?;
    // Settled for this boundary already (through another replica): what
    // came in since waits for the next one.
    let settled = entity::Entity::find()
        .filter(entity::Column::CustomerId.eq(raw))
        .filter(entity::Column::SettledThrough.eq(through))
        .one(&*tx)
        .await?;
    if settled.is_some() {
        return Ok(());
    }
    let claimed = record::Entity::update_many()
        .col_expr(record::Column::SettlementId, Expr::value(Some(id.clone())))
        .filter(record::Column::CustomerId.eq(raw))
        .filter(record::Column::SettlementId.is_null())
        .filter(record::Column::EndsAt.lte(through))
        .exec(&*tx)
        .await?
        .rows_affected;
    if claimed == 0 {
        // Settled meanwhile elsewhere.
        return Ok(());
    }
    let records = record::Entity::find()
        .filter(record::Column::SettlementId.eq(id.as_str()))
        .all(&*tx)
        .await?;
    let lines = fee_lines(&records, zone)?;
    let buyer = customer_store::platform_customer(&*tx, customer).await?;
    let partner = buyer.as_ref().and_then(|b| b.partner_id);
    let m = crate::job::as_platform(METHOD, now);
    let mut changes = Vec::new();
    let mut currencies: Vec<Currency> = lines.iter().map(|l| l.currency).collect();
    currencies.dedup();
    for (i, currency) in currencies.into_iter().enumerate() {
        // A settlement per currency; the records of a second one (a
        // catalog in another currency) move to their own.
        let id = if i == 0 {
            id.clone()
        } else {
            let other = settlement_id();
            record::Entity::update_many()
                .col_expr(
                    record::Column::SettlementId,
                    Expr::value(Some(other.clone())),
                )
                .filter(record::Column::SettlementId.eq(id.as_str()))
                .filter(record::Column::Currency.eq(currency.code()))
                .exec(&*tx)
                .await?;
            other
        };
        let mine: Vec<&FeeLine> = lines.iter().filter(|l| l.currency == currency).collect();
        let total = mine
            .iter()
            .try_fold(0_i64, |t, l| t.checked_add(l.amount.minor()))
            .ok_or(BillingError::BalanceLimit)?;
        let charged = Money::from_minor(currency, total);
        let split = if total > 0 {
            charge(&tx, &m, (customer, partner), charged, through).await?
        } else {
            Split::default()
        };
        insert_settlement(&tx, &id, (customer, partner), through, charged, &split, now).await?;
        insert_fees(
            &tx,
            &id,
            (customer, partner),
            &mine,
            split.transaction.as_deref(),
            now,
        )
        .await?;
        if split.arrears > 0 {
            into_arrears(&tx, customer, currency, now).await?;
            out.into_arrears += 1;
        }
        if let (Some(partner), Some(buyer)) = (partner, &buyer)
            && let Some(change) = consume_budget(&tx, partner, buyer, charged, now).await?
        {
            changes.push(change);
            out.budget_frozen += 1;
        }
    }
    let announced = record_changes(&tx, &m, &changes).await?;
    tx.commit().await?;
    if announced {
        db.outbox().written();
    }
    out.customers += 1;
    out.records += claimed;
    Ok(())
}

/// Where a charge was taken from, in minor units, and its transaction.
#[derive(Debug, Default)]
struct Split {
    cash: i64,
    credit: i64,
    arrears: i64,
    transaction: Option<String>,
}

/// Charges `amount` to the customer: what its cash holds, then what its
/// credit line leaves, then the rest into arrears; all into revenue.
async fn charge(
    tx: &DatabaseTransaction,
    m: &Mutation,
    (customer, partner): (CustomerId, Option<PartnerId>),
    amount: Money,
    through: DateTime<Utc>,
) -> Result<Split, BillingError> {
    let owner = Owner::Customer(customer);
    let currency = amount.currency();
    let keys = [
        AccountKey::new(owner, Kind::CustomerCash, currency),
        AccountKey::new(owner, Kind::CustomerCredit, currency),
    ];
    let rows = locked_accounts(tx, &keys, m.now).await?;
    let available = |i: usize| -> Result<i64, BillingError> {
        Ok(Account::from_row(&rows[i])?.available().minor().max(0))
    };
    let mut left = amount.minor();
    let cash = left.min(available(0)?);
    left -= cash;
    let credit = left.min(available(1)?);
    let arrears = left - credit;
    let outs: Vec<(Owner, Kind, Money)> = [
        (Kind::CustomerCash, cash),
        (Kind::CustomerCredit, credit),
        (Kind::CustomerArrears, arrears),
    ]
    .into_iter()
    .filter(|(_, minor)| *minor > 0)
    .map(|(kind, minor)| (owner, kind, Money::from_minor(currency, minor)))
    .collect();
    let mut posting = Posting::between(
        Operation::UsageCharge,
        outs,
        vec![(Owner::Platform, Kind::Revenue, amount)],
    )?
    .of_customer(customer)
    .because(format!("on-demand use through {}", through.to_rfc3339()));
    if let Some(partner) = partner {
        posting = posting.of_partner(partner);
    }
    let posted = post(tx, m, &posting).await?;
    Ok(Split {
        cash,
        credit,
        arrears,
        transaction: Some(posted.transaction_id.to_string()),
    })
}

async fn insert_settlement(
    tx: &DatabaseTransaction,
    id: &str,
    (customer, partner): (CustomerId, Option<PartnerId>),
    through: DateTime<Utc>,
    charged: Money,
    split: &Split,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    entity::Entity::insert(entity::ActiveModel {
        id: Set(id.to_owned()),
        customer_id: Set(customer.to_string()),
        partner_id: Set(partner.map(|p| p.to_string())),
        settled_through: Set(through),
        currency: Set(charged.currency().code().to_owned()),
        amount_minor: Set(charged.minor()),
        cash_minor: Set(split.cash),
        credit_minor: Set(split.credit),
        arrears_minor: Set(split.arrears),
        transaction_id: Set(split.transaction.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

async fn insert_fees(
    tx: &DatabaseTransaction,
    settlement: &str,
    (customer, partner): (CustomerId, Option<PartnerId>),
    lines: &[&FeeLine],
    transaction: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let rows = lines.iter().map(|l| fee::ActiveModel {
        id: Set(crate::bills::fees::fee_id()),
        cycle: Set(l.cycle.clone()),
        customer_id: Set(customer.to_string()),
        partner_id: Set(partner.map(|p| p.to_string())),
        resource_id: Set(l.resource_id.clone()),
        service_type: Set(l.service_type.clone()),
        resource_type: Set(l.resource_type.clone()),
        spec: Set(l.spec.clone()),
        region: Set(l.region.clone()),
        charge_mode: Set(ChargingMode::OnDemand.as_str().to_owned()),
        bill_type: Set(BillType::OnDemand.as_str().to_owned()),
        list_minor: Set(l.list.minor()),
        discount_minor: Set(l.discount.minor()),
        amount_minor: Set(l.amount.minor()),
        currency: Set(l.currency.code().to_owned()),
        transaction_id: Set(transaction.map(str::to_owned)),
        source_id: Set(settlement.to_owned()),
        usage_start: Set(Some(l.usage_start)),
        usage_end: Set(Some(l.usage_end)),
        occurred_at: Set(now),
    });
    fee::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// Notes the customer as owing since `now`, unless it already was.
async fn into_arrears(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    arrears::Entity::insert(arrears::ActiveModel {
        customer_id: Set(customer.to_string()),
        currency: Set(currency.code().to_owned()),
        since: Set(now),
        frozen_at: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(arrears::Column::CustomerId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// Counts `charged` against the customer's budget with its partner, if it
/// has one; when that takes an auto-freeze budget over its amount for the
/// first time, freezes the customer's account: the change to audit.
async fn consume_budget(
    tx: &DatabaseTransaction,
    partner: PartnerId,
    buyer: &Customer,
    charged: Money,
    now: DateTime<Utc>,
) -> Result<Option<Change>, BillingError> {
    let Some(before) = budget_store::budget_of(tx, partner, buyer.id).await? else {
        return Ok(None);
    };
    let was_over = before.used.minor() > before.amount.minor();
    let after = budget_store::consume(tx, partner, before, charged, now).await?;
    let over = after.used.minor() > after.amount.minor();
    if !after.auto_freeze || was_over || !over || buyer.freeze_mode != FreezeMode::None {
        return Ok(None);
    }
    let reason = BUDGET_FREEZE_REASON.to_owned();
    let Some(frozen) = customer_store::set_freeze(
        tx,
        partner,
        buyer.id,
        FreezeMode::Account,
        Some(reason.clone()),
        now,
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(
        Change::of(Some(partner), buyer.id)
            .reason(reason)
            .before(buyer.audit_summary())
            .after(frozen.audit_summary())
            .announce("customer.frozen"),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, h, m, 0).unwrap()
    }

    fn rec(resource: &str, ends: DateTime<Utc>, list: &str, amount: &str) -> record::Model {
        record::Model {
            record_id: format!("{resource}-{}", ends.timestamp()),
            fingerprint: Vec::new(),
            partner_id: None,
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
    fn the_boundary_is_the_hour_at_or_before_now() {
        assert_eq!(boundary(at(10, 59)), at(10, 0));
        assert_eq!(boundary(at(10, 0)), at(10, 0));
    }

    #[test]
    fn a_resources_records_are_summed_at_9_decimals_then_rounded_once_per_cycle() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        // 0.316 + 0.316 + 0.316 = 0.948 → 0.95 (not 0.32 × 3 = 0.96).
        // 16:00 UTC on 31 March is midnight on 1 April in UTC+8: the third
        // hour ends in April.
        let records = [
            rec("res_a", at(15, 0), "0.316", "0.2528"),
            rec("res_a", at(16, 0), "0.316", "0.2528"),
            rec("res_a", at(17, 0), "0.316", "0.2528"),
            rec("res_b", at(15, 0), "0.0014", "0.0014"),
            rec("", at(15, 0), "0.005", "0.005"),
        ];
        let lines = fee_lines(&records, utc8).unwrap();
        let cny = |m| Money::from_minor(Currency::Cny, m);
        let seen: Vec<(&str, Option<&str>, Money, Money, Money)> = lines
            .iter()
            .map(|l| {
                (
                    l.cycle.as_str(),
                    l.resource_id.as_deref(),
                    l.list,
                    l.discount,
                    l.amount,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                // No resource: the product's line; 0.005 rounds half-up.
                ("2026-03", None, cny(1), cny(0), cny(1)),
                // 0.632 → 0.63 list, 0.5056 → 0.51 charged.
                ("2026-03", Some("res_a"), cny(63), cny(12), cny(51)),
                ("2026-03", Some("res_b"), cny(0), cny(0), cny(0)),
                ("2026-04", Some("res_a"), cny(32), cny(7), cny(25)),
            ]
        );
        assert_eq!(lines[1].usage_start, at(14, 0));
        assert_eq!(lines[1].usage_end, at(16, 0));
    }
}
