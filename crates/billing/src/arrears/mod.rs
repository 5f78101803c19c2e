//! Arrears: what a customer owes when an hourly settlement found neither
//! cash nor credit enough. On every pass of the job, money that came in
//! since (cash, then credit) pays the debt; a customer still owing after
//! the grace period has its on-demand resources frozen (`FROZEN`, for
//! `ARREARS`), and they run again once the debt is paid.

pub mod entity;

use chrono::{DateTime, Duration, Utc};
use partner_customers::customers::store as customer_store;
use partner_kernel::db::Db;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{Change, record_changes};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::ledger_account;
use crate::error::BillingError;
use crate::ledger::{Account, AccountKey, Kind, Operation, Owner, Posting, locked_accounts, post};
use crate::orders::entity::resource;
use crate::orders::model::{ChargingMode, ResourceStatus};

/// The job's name where a call's method would be.
const METHOD: &str = "job:Arrears";
/// Customers in arrears (and currencies) read at a time.
const BATCH: u64 = 500;
/// Why resources are frozen here (`resources.frozen_for`).
pub const FROZEN_FOR_ARREARS: &str = "ARREARS";

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Arrears {
    /// Customers whose debt was paid in full.
    pub cleared: u64,
    /// Customers whose on-demand resources were frozen.
    pub frozen: u64,
}

/// Repays, freezes and unfreezes what is due at `now`, a customer and
/// currency at a time (one that cannot move now is tried again next pass).
pub async fn settle_due(
    db: &Db,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<Arrears, BillingError> {
    let mut out = Arrears::default();
    let mut after: Option<(String, String)> = None;
    loop {
        let mut q = entity::Entity::find();
        if let Some((customer, currency)) = &after {
            q = q.filter(
                Condition::any()
                    .add(entity::Column::CustomerId.gt(customer.as_str()))
                    .add(
                        Condition::all()
                            .add(entity::Column::CustomerId.eq(customer.as_str()))
                            .add(entity::Column::Currency.gt(currency.as_str())),
                    ),
            );
        }
        let batch = q
            .order_by_asc(entity::Column::CustomerId)
            .order_by_asc(entity::Column::Currency)
            .limit(BATCH)
            .all(db.conn())
            .await?;
        let full = batch.len() as u64 == BATCH;
        for row in batch {
            if let Err(e) = settle_one(db, &row, (grace, now), &mut out).await {
                tracing::warn!(customer = %row.customer_id, error = %e, "could not settle arrears");
            }
            after = Some((row.customer_id, row.currency));
        }
        if !full {
            return Ok(out);
        }
    }
}

/// Whether a pass has anything to do for `row`, read without a write:
/// money to repay with, or on-demand resources in use past the grace.
async fn due(
    db: &Db,
    row: &entity::Model,
    (customer, currency): (CustomerId, Currency),
    (grace, now): (Duration, DateTime<Utc>),
) -> Result<bool, BillingError> {
    let owner = Owner::Customer(customer).to_string();
    let accounts = ledger_account::Entity::find()
        .filter(ledger_account::Column::OwnerId.eq(owner))
        .filter(ledger_account::Column::Currency.eq(currency.code()))
        .filter(ledger_account::Column::Kind.is_in([
            Kind::CustomerCash.as_str(),
            Kind::CustomerCredit.as_str(),
            Kind::CustomerArrears.as_str(),
        ]))
        .all(db.conn())
        .await?;
    let mut money_in = false;
    let mut owing = false;
    for a in &accounts {
        let a = Account::from_row(a)?;
        if a.kind == Kind::CustomerArrears {
            owing = a.balance.minor() < 0;
        } else {
            money_in |= a.available().minor() > 0;
        }
    }
    if !owing || money_in {
        // Cleared elsewhere, or money to repay with.
        return Ok(true);
    }
    if row.since + grace > now {
        return Ok(false);
    }
    let running = resource::Entity::find()
        .filter(resource::Column::CustomerId.eq(customer.to_string()))
        .filter(resource::Column::ChargingMode.eq(ChargingMode::OnDemand.as_str()))
        .filter(resource::Column::Status.eq(ResourceStatus::InUse.as_str()))
        .count(db.conn())
        .await?;
    Ok(running > 0)
}

async fn settle_one(
    db: &Db,
    row: &entity::Model,
    (grace, now): (Duration, DateTime<Utc>),
    out: &mut Arrears,
) -> Result<(), BillingError> {
    let customer = parse_stored(&row.customer_id, CustomerId::parse)?;
    let currency = Currency::parse(&row.currency)
        .map_err(|e| partner_kernel::error::KernelError::Corrupt(e.to_string()))?;
    if !due(db, row, (customer, currency), (grace, now)).await? {
        return Ok(());
    }
    let m = crate::job::as_platform(METHOD, now);
    let tx = db.begin_write().await?;
    let key = (row.customer_id.clone(), row.currency.clone());
    // The row as it is under the write lock (another replica may have
    // cleared it).
    let Some(row) = entity::Entity::find_by_id(key.clone()).one(&*tx).await? else {
        return Ok(());
    };
    let partner = customer_store::platform_customer(&*tx, customer)
        .await?
        .and_then(|c| c.partner_id);
    let owed = repay(&tx, &m, (customer, partner), currency).await?;
    let mut changes = Vec::new();
    if owed == 0 {
        entity::Entity::delete_by_id(key).exec(&*tx).await?;
        // Its resources run again once nothing is owed in any currency.
        let still = entity::Entity::find()
            .filter(entity::Column::CustomerId.eq(row.customer_id.as_str()))
            .count(&*tx)
            .await?;
        let unfrozen = if still == 0 {
            unfreeze(&tx, customer, now).await?
        } else {
            0
        };
        out.cleared += 1;
        changes.push(
            Change::of(partner, customer)
                .before(serde_json::json!({
                    "in_arrears": true,
                    "currency": row.currency,
                    "since": row.since,
                }))
                .after(serde_json::json!({
                    "in_arrears": still > 0,
                    "resources_unfrozen": unfrozen,
                }))
                .announce("customer.arrears_cleared"),
        );
    } else if row.since + grace <= now {
        // Every pass: what went on demand since freezes too.
        let frozen = freeze(&tx, customer, now).await?;
        if frozen > 0 || row.frozen_at.is_none() {
            entity::Entity::update_many()
                .col_expr(entity::Column::FrozenAt, Expr::value(Some(now)))
                .col_expr(entity::Column::UpdatedAt, Expr::value(now))
                .filter(entity::Column::CustomerId.eq(row.customer_id.as_str()))
                .filter(entity::Column::Currency.eq(row.currency.as_str()))
                .exec(&*tx)
                .await?;
            out.frozen += 1;
            let owed = Money::from_minor(currency, owed);
            changes.push(
                Change::of(partner, customer)
                    .reason("in arrears past the grace period".to_owned())
                    .before(serde_json::json!({ "in_arrears": true, "since": row.since }))
                    .after(serde_json::json!({
                        "in_arrears": true,
                        "owed": owed.to_string(),
                        "resources_frozen": frozen,
                    }))
                    .announce("customer.arrears_frozen"),
            );
        }
    }
    let announced = record_changes(&tx, &m, &changes).await?;
    tx.commit().await?;
    if announced {
        db.outbox().written();
    }
    Ok(())
}

/// Pays what the customer owes from its cash, then its credit line, as
/// far as they go; what it still owes, in minor units.
async fn repay(
    tx: &DatabaseTransaction,
    m: &Mutation,
    (customer, partner): (CustomerId, Option<PartnerId>),
    currency: Currency,
) -> Result<i64, BillingError> {
    let owner = Owner::Customer(customer);
    let keys = [
        AccountKey::new(owner, Kind::CustomerCash, currency),
        AccountKey::new(owner, Kind::CustomerCredit, currency),
        AccountKey::new(owner, Kind::CustomerArrears, currency),
    ];
    let rows = locked_accounts(tx, &keys, m.now).await?;
    let accounts = rows
        .iter()
        .map(Account::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let owed = accounts[2].balance.minor().min(0).saturating_neg();
    let cash = owed.min(accounts[0].available().minor().max(0));
    let credit = (owed - cash).min(accounts[1].available().minor().max(0));
    let paid = cash + credit;
    if paid == 0 {
        return Ok(owed);
    }
    let outs: Vec<(Owner, Kind, Money)> =
        [(Kind::CustomerCash, cash), (Kind::CustomerCredit, credit)]
            .into_iter()
            .filter(|(_, minor)| *minor > 0)
            .map(|(kind, minor)| (owner, kind, Money::from_minor(currency, minor)))
            .collect();
    let mut posting = Posting::between(
        Operation::ArrearsRepayment,
        outs,
        vec![(
            owner,
            Kind::CustomerArrears,
            Money::from_minor(currency, paid),
        )],
    )?
    .of_customer(customer)
    .because("money that came in pays on-demand use owed".to_owned());
    if let Some(partner) = partner {
        posting = posting.of_partner(partner);
    }
    post(tx, m, &posting).await?;
    Ok(owed - paid)
}

/// Freezes the customer's on-demand resources in use; how many.
async fn freeze(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> Result<u64, BillingError> {
    Ok(resource::Entity::update_many()
        .col_expr(
            resource::Column::Status,
            Expr::value(ResourceStatus::Frozen.as_str()),
        )
        .col_expr(
            resource::Column::FrozenFor,
            Expr::value(Some(FROZEN_FOR_ARREARS)),
        )
        .col_expr(resource::Column::UpdatedAt, Expr::value(now))
        .filter(resource::Column::CustomerId.eq(customer.to_string()))
        .filter(resource::Column::ChargingMode.eq(ChargingMode::OnDemand.as_str()))
        .filter(resource::Column::Status.eq(ResourceStatus::InUse.as_str()))
        .exec(tx)
        .await?
        .rows_affected)
}

/// Brings back into use what [`freeze`] froze; how many.
async fn unfreeze(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> Result<u64, BillingError> {
    Ok(resource::Entity::update_many()
        .col_expr(
            resource::Column::Status,
            Expr::value(ResourceStatus::InUse.as_str()),
        )
        .col_expr(
            resource::Column::FrozenFor,
            Expr::value(Option::<String>::None),
        )
        .col_expr(resource::Column::UpdatedAt, Expr::value(now))
        .filter(resource::Column::CustomerId.eq(customer.to_string()))
        .filter(resource::Column::FrozenFor.eq(FROZEN_FOR_ARREARS))
        .filter(resource::Column::Status.eq(ResourceStatus::Frozen.as_str()))
        .exec(tx)
        .await?
        .rows_affected)
}
