//! Taking a charge (a settlement's, or an operator's adjustment): from the
//! customer's cash, then its credit line, then into arrears, all into
//! revenue — the four accounts locked together in id order, as every
//! posting locks them; counting a settlement against the budget, which may
//! freeze the customer.

use chrono::{DateTime, Utc};
use partner_customers::budgets::store as budget_store;
use partner_customers::customers::store as customer_store;
use partner_customers::customers::{Customer, FreezeMode};
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::Change;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseTransaction, EntityTrait, Set};

use crate::arrears::entity as arrears;
use crate::error::BillingError;
use crate::ledger::post::post_locked;
use crate::ledger::{Account, AccountKey, Kind, Operation, Owner, Posting, locked_accounts};

/// Why an over-budget customer was frozen.
const BUDGET_FREEZE_REASON: &str = "budget exceeded by on-demand charges (auto-freeze)";

/// Where a charge was taken from, in minor units, and its transaction.
#[derive(Debug, Default)]
pub struct Split {
    pub cash: i64,
    pub credit: i64,
    pub arrears: i64,
    pub transaction: Option<String>,
}

/// Charges `amount` (above zero) to the customer as `operation`: what its
/// cash holds, then what its credit line leaves, then the rest into
/// arrears (noted as owed since now); all into revenue.
pub async fn charge(
    tx: &DatabaseTransaction,
    m: &Mutation,
    (customer, partner): (CustomerId, Option<PartnerId>),
    amount: Money,
    (operation, reason): (Operation, String),
) -> Result<Split, BillingError> {
    let owner = Owner::Customer(customer);
    let currency = amount.currency();
    let kinds = [
        Kind::CustomerCash,
        Kind::CustomerCredit,
        Kind::CustomerArrears,
    ];
    let mut keys: Vec<AccountKey> = kinds
        .iter()
        .map(|k| AccountKey::new(owner, *k, currency))
        .collect();
    keys.push(AccountKey::new(Owner::Platform, Kind::Revenue, currency));
    let rows = locked_accounts(tx, &keys, m.now).await?;
    let available = |i: usize| -> Result<i64, BillingError> {
        Ok(Account::from_row(&rows[i])?.available().minor().max(0))
    };
    let mut left = amount.minor();
    let cash = left.min(available(0)?);
    left -= cash;
    let credit = left.min(available(1)?);
    let owed = left - credit;
    // The legs in the posting's order (into revenue first), each with its
    // locked account.
    let mut legs = vec![(Owner::Platform, Kind::Revenue, amount, rows[3].clone())];
    for (i, minor) in [cash, credit, owed].into_iter().enumerate() {
        if minor > 0 {
            legs.push((
                owner,
                kinds[i],
                Money::from_minor(currency, minor),
                rows[i].clone(),
            ));
        }
    }
    let (ins, outs) = legs.split_at(1);
    let mut posting = Posting::between(
        operation,
        outs.iter().map(|(o, k, m, _)| (*o, *k, *m)).collect(),
        ins.iter().map(|(o, k, m, _)| (*o, *k, *m)).collect(),
    )?
    .of_customer(customer)
    .because(reason);
    if let Some(partner) = partner {
        posting = posting.of_partner(partner);
    }
    let locked: Vec<_> = legs.into_iter().map(|(.., row)| row).collect();
    let posted = post_locked(tx, m, &posting, &locked, &vec![0; locked.len()]).await?;
    if owed > 0 {
        into_arrears(tx, customer, currency, m.now).await?;
    }
    Ok(Split {
        cash,
        credit,
        arrears: owed,
        transaction: Some(posted.transaction_id.to_string()),
    })
}

/// Notes the customer as owing in `currency` since `now`, unless it
/// already was.
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
        OnConflict::columns([arrears::Column::CustomerId, arrears::Column::Currency])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// Counts `charged` against the customer's budget with `partner`, if it
/// has one; when that takes an auto-freeze budget over its amount for the
/// first time, freezes the customer's account (`buyer`, read under its row
/// lock, is kept in step): the change to audit.
pub async fn consume_budget(
    tx: &DatabaseTransaction,
    partner: PartnerId,
    buyer: &mut Customer,
    charged: Money,
    now: DateTime<Utc>,
) -> Result<Option<Change>, BillingError> {
    let Some(before) = budget_store::budget_of(tx, partner, buyer.id).await? else {
        return Ok(None);
    };
    let was_over = before.used.minor() > before.amount.minor();
    let after = budget_store::consume(tx, partner, before, charged, now).await?;
    let over = after.used.minor() > after.amount.minor();
    let current = buyer.partner_id == Some(partner);
    if !after.auto_freeze || was_over || !over || !current || buyer.freeze_mode != FreezeMode::None
    {
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
    let change = Change::of(Some(partner), buyer.id)
        .reason(reason)
        .before(buyer.audit_summary())
        .after(frozen.audit_summary())
        .announce("customer.frozen");
    *buyer = frozen;
    Ok(Some(change))
}
