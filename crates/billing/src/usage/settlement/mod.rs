//! The hourly settlement: at each hour's boundary, what every customer's
//! on-demand use that ended by then costs is charged, one journal
//! transaction per customer and currency (cash first, then credit, then
//! arrears), with a fee record per resource. Records are claimed by a
//! conditional update, so two replicas never charge one twice; a customer
//! that cannot be settled now is left for the next boundary without
//! stopping the others.
//!
//! Amounts: each record is rated to 9 decimals when reported; a
//! resource's use in a cycle accrues at 9 decimals, and each settlement
//! charges the growth of its rounded total ([`lines`]) — a cycle is
//! rounded once per resource, and the charge is the sum of the fee
//! records, so fee records and the ledger agree to the minor unit.

pub mod accrual;
pub mod charge;
pub mod entity;
pub mod lines;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, DurationRound, FixedOffset, TimeDelta, Utc};
use partner_customers::customers::store as customer_store;
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};
use partner_kernel::write::record_changes;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use self::charge::{Party, Split, charge, consume_budget};
use self::lines::{Accrued, Charge, Usage, usage_of};
use super::entity as record;
use crate::bills::entity as fee;
use crate::bills::fees;
use crate::bills::model::BillType;
use crate::error::BillingError;
use crate::ledger::Operation;
use crate::orders::model::ChargingMode;

/// The job's name where a call's method would be.
const METHOD: &str = "job:UsageSettlement";
/// Customers read at a time.
const CUSTOMERS_PER_READ: u64 = 500;

/// What one pass settled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Customers charged (or whose use cost nothing yet).
    pub customers: u64,
    /// Usage records charged.
    pub records: u64,
}

/// The hour's boundary at or before `now`: usage that ended by then is due.
pub fn boundary(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
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
            // others: its records stay unclaimed for the next boundary.
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
    let usage = usage_of(&records, zone)?;
    // Locked as paying an order locks it, before the accounts: its
    // partner now, and whether it is frozen.
    let mut buyer = customer_store::platform_customer_for_update(&*tx, customer)
        .await?
        .map(|(c, _)| c);
    let partner_now = buyer.as_ref().and_then(|b| b.partner_id);
    let m = crate::job::as_platform(METHOD, now);
    let mut changes = Vec::new();
    let codes: BTreeSet<&str> = usage.iter().map(|u| u.key.currency.as_str()).collect();
    for (i, code) in codes.into_iter().enumerate() {
        let currency = Currency::parse(code)
            .map_err(|e| KernelError::Corrupt(format!("usage record currency: {e}")))?;
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
                .filter(record::Column::Currency.eq(code))
                .exec(&*tx)
                .await?;
            other
        };
        let mine: Vec<&Usage> = usage.iter().filter(|u| u.key.currency == code).collect();
        let charges = accrue(&tx, customer, &mine, currency, now).await?;
        let total = charges
            .iter()
            .try_fold(0_i64, |t, c| t.checked_add(c.amount.minor()))
            .ok_or(BillingError::BalanceLimit)?;
        let charged = Money::from_minor(currency, total);
        // Whose use it was (reported under); the partner now when mixed.
        let by_partner = by_partner(&mine, &charges)?;
        let partner = match by_partner.keys().collect::<Vec<_>>().as_slice() {
            [Some(one)] => Some(*one),
            _ => partner_now,
        };
        let split = if total > 0 {
            let party = Party {
                customer,
                partner,
                operation: Operation::UsageCharge,
                reason: format!("on-demand use through {}", through.to_rfc3339()),
            };
            charge(&tx, &m, party, charged).await?
        } else {
            Split::default()
        };
        insert_settlement(&tx, &id, (customer, partner), through, charged, &split, now).await?;
        let fee_rows = mine
            .iter()
            .zip(&charges)
            .filter(|(_, c)| !c.is_zero())
            .map(|(u, c)| fee_row(&id, customer, u, c, split.transaction.as_deref(), now))
            .collect();
        fees::insert(&*tx, fee_rows).await?;
        for (p, spent) in by_partner {
            if let (Some(p), Some(b)) = (p, buyer.as_mut())
                && let Some(change) =
                    consume_budget(&tx, (p, b), Money::from_minor(currency, spent), (now, zone))
                        .await?
            {
                changes.push(change);
            }
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

/// What each partner's share of a settlement charges, in minor units.
fn by_partner(
    usage: &[&Usage],
    charges: &[Charge],
) -> Result<BTreeMap<Option<PartnerId>, i64>, BillingError> {
    let mut out: BTreeMap<Option<PartnerId>, i64> = BTreeMap::new();
    for (u, c) in usage.iter().zip(charges) {
        let partner = u
            .key
            .partner_id
            .as_deref()
            .map(|p| parse_stored(p, PartnerId::parse))
            .transpose()?;
        let sum = out.entry(partner).or_insert(0);
        *sum = sum
            .checked_add(c.amount.minor())
            .ok_or(BillingError::BalanceLimit)?;
    }
    Ok(out)
}

/// Adds `usage` to the customer's running totals of its cycles; what each
/// key bills now (in the order of `usage`).
async fn accrue(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    usage: &[&Usage],
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<Vec<Charge>, BillingError> {
    let cycles: BTreeSet<&str> = usage.iter().map(|u| u.key.cycle.as_str()).collect();
    let mut totals: BTreeMap<(String, String), Accrued> = BTreeMap::new();
    for row in accrual::Entity::find()
        .filter(accrual::Column::CustomerId.eq(customer.to_string()))
        .filter(accrual::Column::Currency.eq(currency.code()))
        .filter(accrual::Column::Cycle.is_in(cycles))
        .all(tx)
        .await?
    {
        let accrued = Accrued::parse(&row.list_accrued, &row.amount_accrued)?;
        totals.insert((row.cycle, row.fee_key), accrued);
    }
    let mut charges = Vec::with_capacity(usage.len());
    let mut rows = Vec::with_capacity(usage.len());
    for u in usage {
        let key = (u.key.cycle.clone(), u.key.text());
        let before = totals.get(&key).copied().unwrap_or_default();
        let (after, c) = before.charge(u, currency)?;
        charges.push(c);
        rows.push(accrual::ActiveModel {
            customer_id: Set(customer.to_string()),
            cycle: Set(key.0),
            currency: Set(currency.code().to_owned()),
            fee_key: Set(key.1),
            list_accrued: Set(after.list.normalize().to_string()),
            amount_accrued: Set(after.amount.normalize().to_string()),
            updated_at: Set(now),
        });
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<accrual::ActiveModel> = rows.by_ref().take(fees::ROWS_PER_INSERT).collect();
        accrual::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([
                    accrual::Column::CustomerId,
                    accrual::Column::Cycle,
                    accrual::Column::Currency,
                    accrual::Column::FeeKey,
                ])
                .update_columns([
                    accrual::Column::ListAccrued,
                    accrual::Column::AmountAccrued,
                    accrual::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(tx)
            .await?;
    }
    Ok(charges)
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

/// The fee record of one key's charge in settlement `settlement`.
fn fee_row(
    settlement: &str,
    customer: CustomerId,
    u: &Usage,
    c: &Charge,
    transaction: Option<&str>,
    now: DateTime<Utc>,
) -> fee::ActiveModel {
    let k = &u.key;
    fee::ActiveModel {
        id: Set(fees::fee_id()),
        cycle: Set(k.cycle.clone()),
        customer_id: Set(customer.to_string()),
        partner_id: Set(k.partner_id.clone()),
        resource_id: Set(k.resource_id.clone()),
        service_type: Set(k.service_type.clone()),
        resource_type: Set(k.resource_type.clone()),
        spec: Set(k.spec.clone()),
        region: Set(k.region.clone()),
        charge_mode: Set(ChargingMode::OnDemand.as_str().to_owned()),
        bill_type: Set(BillType::OnDemand.as_str().to_owned()),
        list_minor: Set(c.list.minor()),
        discount_minor: Set(c.discount.minor()),
        amount_minor: Set(c.amount.minor()),
        currency: Set(c.amount.currency().code().to_owned()),
        transaction_id: Set(transaction.map(str::to_owned)),
        source_id: Set(settlement.to_owned()),
        usage_start: Set(Some(u.start)),
        usage_end: Set(Some(u.end)),
        occurred_at: Set(now),
        adjusts_cycle: Set(None),
        reason: Set(None),
    }
}
