//! Writing a posting: the accounts it names are created when new and locked
//! in id order, every debit is checked against its account's floor inside
//! the write, each balance moves over the version it was read at, and the
//! transaction and its entries are appended — all in the caller's write
//! transaction.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{LedgerAccountId, LedgerEntryId, LedgerTransactionId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::model::{Kind, Owner, Posting};
use crate::entity::{ledger_account as account, ledger_entry as entry, ledger_transaction as txn};
use crate::error::BillingError;

/// An account as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub owner_id: String,
    pub kind: Kind,
    pub balance: Money,
    pub pending: Money,
    pub credit_limit: Money,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    pub fn from_row(row: &account::Model) -> Result<Self, KernelError> {
        let currency = Currency::parse(&row.currency)
            .map_err(|e| KernelError::Corrupt(format!("account {}: {e}", row.id)))?;
        let money = |minor| Money::from_minor(currency, minor);
        Ok(Self {
            id: row.id.clone(),
            owner_id: row.owner_id.clone(),
            kind: Kind::parse(&row.kind)?,
            balance: money(row.balance),
            pending: money(row.pending),
            credit_limit: money(row.credit_limit),
            version: row.version,
            updated_at: row.updated_at,
        })
    }

    /// What may be spent now: balance − pending + the credit limit.
    pub fn available(&self) -> Money {
        let minor = self
            .balance
            .minor()
            .saturating_sub(self.pending.minor())
            .saturating_add(self.credit_limit.minor());
        Money::from_minor(self.balance.currency(), minor)
    }

    pub fn to_proto(&self) -> pb::AccountBalance {
        let currency = self.balance.currency();
        let debt = Money::from_minor(currency, self.balance.minor().min(0).saturating_neg());
        pb::AccountBalance {
            kind: self.kind.to_proto() as i32,
            balance: Some(self.balance.to_proto()),
            pending: Some(self.pending.to_proto()),
            available: Some(self.available().to_proto()),
            credit_limit: Some(self.credit_limit.to_proto()),
            debt: Some(debt.to_proto()),
            owner_id: self.owner_id.clone(),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }
}

/// A written posting: its transaction and every account it touched, after.
#[derive(Debug, Clone)]
pub struct Posted {
    pub transaction_id: LedgerTransactionId,
    /// In the order of the posting's legs.
    pub accounts: Vec<Account>,
}

impl Posted {
    /// The touched accounts that belong to partners and customers (the
    /// platform's own are the operator's to read).
    pub fn owned_balances(&self) -> Vec<pb::AccountBalance> {
        self.accounts
            .iter()
            .filter(|a| a.owner_id != Owner::PLATFORM)
            .map(Account::to_proto)
            .collect()
    }
}

/// Which account: an owner's money of one kind in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey {
    pub owner: String,
    pub kind: Kind,
    pub currency: Currency,
}

impl AccountKey {
    pub fn new(owner: Owner, kind: Kind, currency: Currency) -> Self {
        Self {
            owner: owner.to_string(),
            kind,
            currency,
        }
    }

    pub(crate) fn matches(&self, row: &account::Model) -> bool {
        row.owner_id == self.owner
            && row.kind == self.kind.as_str()
            && row.currency == self.currency.code()
    }
}

async fn lock_keys(
    conn: &impl ConnectionTrait,
    keys: &[AccountKey],
) -> Result<Vec<account::Model>, BillingError> {
    let named = keys.iter().fold(Condition::any(), |any, key| {
        any.add(
            Condition::all()
                .add(account::Column::OwnerId.eq(key.owner.as_str()))
                .add(account::Column::Kind.eq(key.kind.as_str()))
                .add(account::Column::Currency.eq(key.currency.code())),
        )
    });
    Ok(account::Entity::find()
        .filter(named)
        .order_by_asc(account::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?)
}

/// Opens the accounts of `keys` not among `found` (a concurrent opening of
/// the same one wins, and this one is skipped).
async fn open_missing(
    conn: &impl ConnectionTrait,
    keys: &[AccountKey],
    found: &[account::Model],
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    for key in keys {
        if found.iter().any(|r| key.matches(r)) {
            continue;
        }
        let row = account::ActiveModel {
            id: Set(LedgerAccountId::generate().to_string()),
            owner_id: Set(key.owner.clone()),
            kind: Set(key.kind.as_str().to_owned()),
            currency: Set(key.currency.code().to_owned()),
            balance: Set(0),
            pending: Set(0),
            credit_limit: Set(0),
            version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        account::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    account::Column::OwnerId,
                    account::Column::Kind,
                    account::Column::Currency,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The accounts of `keys`, opened when new, locked until the transaction
/// ends in id order (PostgreSQL; SQLite's single writer already
/// serialises), each returned in the order of `keys`.
pub async fn locked_accounts(
    conn: &impl ConnectionTrait,
    keys: &[AccountKey],
    now: DateTime<Utc>,
) -> Result<Vec<account::Model>, BillingError> {
    let mut rows = lock_keys(conn, keys).await?;
    if rows.len() < keys.len() {
        open_missing(conn, keys, &rows, now).await?;
        rows = lock_keys(conn, keys).await?;
    }
    keys.iter()
        .map(|key| {
            rows.iter()
                .find(|r| key.matches(r))
                .cloned()
                .ok_or_else(|| {
                    KernelError::Corrupt(format!("account of {} not opened", key.owner)).into()
                })
        })
        .collect()
}

/// Writes `posting` as one journal transaction of the call `m`. Refuses a
/// debit below its account's floor with `INSUFFICIENT_FUNDS` (nothing is
/// written; the caller's transaction rolls back).
pub async fn post(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    posting: &Posting,
) -> Result<Posted, BillingError> {
    posting.check()?;
    let keys: Vec<AccountKey> = posting
        .legs
        .iter()
        .map(|leg| AccountKey::new(leg.owner, leg.kind, leg.amount.currency()))
        .collect();
    let rows = locked_accounts(conn, &keys, m.now).await?;
    post_locked(conn, m, posting, &rows, &vec![0; rows.len()]).await
}

/// [`post`] on the accounts `rows` (one per leg, in the legs' order), which
/// the caller locked in this transaction and knows as they are now; each
/// account's update also frees `freed[i]` of its pending amount (what a
/// hold captured or released in the same breath reserved).
pub(crate) async fn post_locked(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    posting: &Posting,
    rows: &[account::Model],
    freed: &[i64],
) -> Result<Posted, BillingError> {
    posting.check()?;
    let now = m.now;
    let fits = rows.len() == posting.legs.len()
        && freed.len() == rows.len()
        && posting.legs.iter().zip(rows).all(|(leg, row)| {
            AccountKey::new(leg.owner, leg.kind, leg.amount.currency()).matches(row)
        });
    if !fits {
        return Err(KernelError::Corrupt("a posting on accounts it does not name".into()).into());
    }
    let transaction_id = LedgerTransactionId::generate();
    let mut touched = Vec::with_capacity(posting.legs.len());
    let mut entries = Vec::with_capacity(posting.legs.len());
    for ((leg, row), freed) in posting.legs.iter().zip(rows).zip(freed) {
        let pending = row.pending.saturating_sub(*freed);
        let before = Account::from_row(row)?;
        let balance = before
            .balance
            .checked_add(leg.amount)
            .map_err(|_| BillingError::BalanceLimit)?;
        if leg.amount.minor() < 0
            && let Some(floor) = leg.kind.floor(row.credit_limit)
            && balance.minor().saturating_sub(pending) < floor
        {
            return Err(BillingError::InsufficientFunds {
                kind: leg.kind,
                available: before.available(),
            });
        }
        let version = row.version + 1;
        let mut update = account::Entity::update_many()
            .col_expr(account::Column::Balance, Expr::value(balance.minor()))
            .col_expr(account::Column::Version, Expr::value(version))
            .col_expr(account::Column::UpdatedAt, Expr::value(now));
        if *freed != 0 {
            update = update.col_expr(account::Column::Pending, Expr::value(pending));
        }
        let updated = update
            .filter(account::Column::Id.eq(row.id.as_str()))
            .filter(account::Column::Version.eq(row.version))
            .filter(account::Column::Pending.eq(row.pending))
            .exec(conn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(KernelError::Conflict.into());
        }
        entries.push(entry::ActiveModel {
            id: Set(LedgerEntryId::generate().to_string()),
            transaction_id: Set(transaction_id.to_string()),
            account_id: Set(row.id.clone()),
            amount: Set(leg.amount.minor()),
            balance_after: Set(balance.minor()),
            version_after: Set(version),
            effective_at: Set(now),
        });
        touched.push(Account {
            balance,
            pending: Money::from_minor(balance.currency(), pending),
            version,
            updated_at: now,
            ..before
        });
    }
    let posted_once = txn::Entity::insert(txn::ActiveModel {
        id: Set(transaction_id.to_string()),
        operation: Set(posting.operation.as_str().to_owned()),
        partner_id: Set(posting.partner.map(|p| p.to_string())),
        customer_id: Set(posting.customer.map(|c| c.to_string())),
        actor: Set(m.idempotency_caller()),
        method: Set(m.method.to_owned()),
        request_id: Set(m.request_id.to_string()),
        reason: Set(posting.reason.clone()),
        amount: Set(posting.amount.minor()),
        currency: Set(posting.amount.currency().code().to_owned()),
        reverses: Set(None),
        effective_at: Set(now),
        created_at: Set(now),
    })
    // One request posts once, even after its idempotency key was pruned:
    // a replay then is refused, not posted again.
    .on_conflict(
        OnConflict::columns([
            txn::Column::Actor,
            txn::Column::Method,
            txn::Column::RequestId,
            txn::Column::Operation,
            txn::Column::Currency,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if posted_once != 1 {
        return Err(BillingError::RequestAlreadyPosted);
    }
    entry::Entity::insert_many(entries)
        .exec_without_returning(conn)
        .await?;
    Ok(Posted {
        transaction_id,
        accounts: touched,
    })
}
