//! Charging a customer (a settlement, or an operator's adjustment): from
//! its cash, then its credit line, then into arrears, all into revenue;
//! crediting it back the other way round (an adjustment) — the four
//! accounts locked together in id order, as every posting locks them.
//! Counting a settlement against the budget, which may freeze the
//! customer.

use chrono::{DateTime, FixedOffset, Utc};
use partner_customers::budgets::model::{BUDGET_FREEZE_REASON, budget_month};
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
use crate::entity::ledger_account as account;
use crate::error::BillingError;
use crate::ledger::post::post_locked;
use crate::ledger::{Account, AccountKey, Kind, Operation, Owner, Posting, locked_accounts};

/// Where a charge was taken from, in minor units, and its transaction.
#[derive(Debug, Default)]
pub struct Split {
    pub cash: i64,
    pub credit: i64,
    pub arrears: i64,
    pub transaction: Option<String>,
}

/// The customer's accounts a charge or a credit moves, in this order.
pub const CUSTOMER_KINDS: [Kind; 3] = [
    Kind::CustomerCash,
    Kind::CustomerCredit,
    Kind::CustomerArrears,
];

/// A charge's or a credit's parties: the customer (and its partner, whose
/// operation it is filed as), what it is and why.
pub struct Party {
    pub customer: CustomerId,
    pub partner: Option<PartnerId>,
    pub operation: Operation,
    pub reason: String,
}

/// Locks the customer's cash, credit and arrears accounts in `currency`
/// and the platform's revenue, in that order (opening any missing).
async fn customer_accounts(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<Vec<account::Model>, BillingError> {
    let owner = Owner::Customer(customer);
    let mut keys: Vec<AccountKey> = CUSTOMER_KINDS
        .iter()
        .map(|k| AccountKey::new(owner, *k, currency))
        .collect();
    keys.push(AccountKey::new(Owner::Platform, Kind::Revenue, currency));
    locked_accounts(tx, &keys, now).await
}

/// Posts `minor[i]` of each of the customer's accounts (`CUSTOMER_KINDS`
/// order; zero: no leg) against revenue (`rows` from
/// [`customer_accounts`]): out of them into revenue, or, with `back`, out
/// of revenue into them. The transaction's id.
async fn post_against_revenue(
    tx: &DatabaseTransaction,
    m: &Mutation,
    party: Party,
    (rows, minor): (Vec<account::Model>, [i64; 3]),
    (total, back): (Money, bool),
) -> Result<String, BillingError> {
    let owner = Owner::Customer(party.customer);
    let currency = total.currency();
    let revenue = (Owner::Platform, Kind::Revenue, total, rows[3].clone());
    let customer: Vec<_> = (0..3)
        .filter(|i| minor[*i] > 0)
        .map(|i| {
            let amount = Money::from_minor(currency, minor[i]);
            (owner, CUSTOMER_KINDS[i], amount, rows[i].clone())
        })
        .collect();
    // Legs into accounts come first in a posting, as do their rows.
    let (ins, outs) = if back {
        (customer, vec![revenue])
    } else {
        (vec![revenue], customer)
    };
    let legs = |v: &[(Owner, Kind, Money, account::Model)]| {
        v.iter().map(|(o, k, m, _)| (*o, *k, *m)).collect()
    };
    let mut posting = Posting::between(party.operation, legs(&outs), legs(&ins))?
        .of_customer(party.customer)
        .because(party.reason);
    if let Some(partner) = party.partner {
        posting = posting.of_partner(partner);
    }
    let locked: Vec<_> = ins.into_iter().chain(outs).map(|(.., row)| row).collect();
    let posted = post_locked(tx, m, &posting, &locked, &vec![0; locked.len()]).await?;
    Ok(posted.transaction_id.to_string())
}

/// Charges `amount` (above zero) to the customer: what its cash holds,
/// then what its credit line leaves, then the rest into arrears (noted as
/// owed since now); all into revenue.
pub async fn charge(
    tx: &DatabaseTransaction,
    m: &Mutation,
    party: Party,
    amount: Money,
) -> Result<Split, BillingError> {
    let customer = party.customer;
    let currency = amount.currency();
    let rows = customer_accounts(tx, customer, currency, m.now).await?;
    let available = |i: usize| -> Result<i64, BillingError> {
        Ok(Account::from_row(&rows[i])?.available().minor().max(0))
    };
    let mut left = amount.minor();
    let cash = left.min(available(0)?);
    left -= cash;
    let credit = left.min(available(1)?);
    let owed = left - credit;
    let transaction =
        post_against_revenue(tx, m, party, (rows, [cash, credit, owed]), (amount, false)).await?;
    if owed > 0 {
        into_arrears(tx, customer, currency, m.now).await?;
    }
    Ok(Split {
        cash,
        credit,
        arrears: owed,
        transaction: Some(transaction),
    })
}

/// Returns `amount` (above zero) from revenue to the customer: first what
/// it owes (its arrears), then what its credit line has used, the rest
/// into its cash. (Arrears paid off are cleared, and resources they froze
/// run again, at the next pass of the arrears job.)
pub async fn credit(
    tx: &DatabaseTransaction,
    m: &Mutation,
    party: Party,
    amount: Money,
) -> Result<Split, BillingError> {
    let rows = customer_accounts(tx, party.customer, amount.currency(), m.now).await?;
    let mut left = amount.minor();
    let arrears = left.min(rows[2].balance.saturating_neg().max(0));
    left -= arrears;
    let credit = left.min(rows[1].balance.saturating_neg().max(0));
    let cash = left - credit;
    let transaction = post_against_revenue(
        tx,
        m,
        party,
        (rows, [cash, credit, arrears]),
        (amount, true),
    )
    .await?;
    Ok(Split {
        cash,
        credit,
        arrears,
        transaction: Some(transaction),
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
/// has one, in the month of `now` in the billing zone; when that takes an
/// auto-freeze budget over its amount for the first time, freezes the
/// customer's account (`buyer`, read under its row lock, is kept in step):
/// the change to audit.
pub async fn consume_budget(
    tx: &DatabaseTransaction,
    (partner, buyer): (PartnerId, &mut Customer),
    charged: Money,
    (now, zone): (DateTime<Utc>, FixedOffset),
) -> Result<Option<Change>, BillingError> {
    let month = budget_month(now, zone);
    let Some(before) = budget_store::budget_of(tx, partner, buyer.id, month).await? else {
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
