//! Holds: an amount reserved on an account (its `pending`, so `available =
//! balance − pending + credit limit`) until it is captured (in full or in
//! part, the rest released), released, or expires on the platform clock.
//! Each hold is resolved exactly once: resolving moves its state from
//! `HELD` with a conditional update, and a second resolution finds none.
//! Orders hold a customer's funds while they are paid.

use chrono::{DateTime, Utc};
use partner_kernel::db::Db;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, LedgerHoldId, PartnerId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::model::{Kind, Operation, Owner, Posting};
use super::post::{AccountKey, Posted, locked_accounts, post, post_locked};
use crate::entity::{ledger_account as account, ledger_hold as hold};
use crate::error::BillingError;

/// Where a hold is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    Held,
    Captured,
    Released,
    Expired,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Held => "HELD",
            HoldState::Captured => "CAPTURED",
            HoldState::Released => "RELEASED",
            HoldState::Expired => "EXPIRED",
        }
    }
}

/// How many due holds one expiry pass resolves.
const EXPIRY_BATCH: u64 = 100;

/// Reserves `amount` on the account of `key` until `expires_at`; refused
/// with `INSUFFICIENT_FUNDS` when the account's available money is less.
pub async fn hold(
    conn: &DatabaseTransaction,
    key: &AccountKey,
    amount: Money,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<LedgerHoldId, BillingError> {
    if !amount.is_positive() || amount.currency() != key.currency {
        return Err(BillingError::Unbalanced);
    }
    let rows = locked_accounts(conn, std::slice::from_ref(key), now).await?;
    let row = rows.first().ok_or(BillingError::Unbalanced)?;
    hold_on(conn, key, row, amount, expires_at, now).await
}

/// [`hold`] on the account `row` of `key`, which the caller locked in this
/// transaction and has not moved since (a payment locks all its accounts
/// at once, then holds on each).
pub async fn hold_on(
    conn: &DatabaseTransaction,
    key: &AccountKey,
    row: &account::Model,
    amount: Money,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<LedgerHoldId, BillingError> {
    if !amount.is_positive() || amount.currency() != key.currency || !key.matches(row) {
        return Err(BillingError::Unbalanced);
    }
    let pending = row
        .pending
        .checked_add(amount.minor())
        .ok_or(BillingError::BalanceLimit)?;
    if let Some(floor) = key.kind.floor(row.credit_limit)
        && row.balance.saturating_sub(pending) < floor
    {
        let before = super::Account::from_row(row)?;
        return Err(BillingError::InsufficientFunds {
            kind: key.kind,
            available: before.available(),
        });
    }
    move_pending(conn, &row.id, amount.minor(), now).await?;
    let id = LedgerHoldId::generate();
    hold::Entity::insert(hold::ActiveModel {
        id: Set(id.to_string()),
        account_id: Set(row.id.clone()),
        amount: Set(amount.minor()),
        state: Set(HoldState::Held.as_str().to_owned()),
        captured: Set(0),
        capture_transaction_id: Set(None),
        expires_at: Set(expires_at),
        created_at: Set(now),
        resolved_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

async fn move_pending(
    conn: &impl ConnectionTrait,
    account_id: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    account::Entity::update_many()
        .col_expr(
            account::Column::Pending,
            Expr::col(account::Column::Pending).add(by),
        )
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(account_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves the hold from `HELD` to `to` (exactly once: a hold already
/// resolved is `HOLD_RESOLVED`) and frees its pending amount. Returns the
/// hold as it was.
async fn resolve(
    conn: &impl ConnectionTrait,
    id: LedgerHoldId,
    to: HoldState,
    captured: i64,
    now: DateTime<Utc>,
) -> Result<hold::Model, BillingError> {
    let found = hold::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(BillingError::HoldNotFound)?;
    let changed = hold::Entity::update_many()
        .col_expr(hold::Column::State, Expr::value(to.as_str()))
        .col_expr(hold::Column::ResolvedAt, Expr::value(Some(now)))
        .col_expr(hold::Column::Captured, Expr::value(captured))
        .filter(hold::Column::Id.eq(found.id.as_str()))
        .filter(hold::Column::State.eq(HoldState::Held.as_str()))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(BillingError::HoldResolved);
    }
    move_pending(conn, &found.account_id, -found.amount, now).await?;
    Ok(found)
}

/// Gives the hold's whole amount back to its account's available money.
pub async fn release(
    conn: &DatabaseTransaction,
    id: LedgerHoldId,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    resolve(conn, id, HoldState::Released, 0, now)
        .await
        .map(|_| ())
}

/// Takes `amount` (at most the held amount, in its currency) of an
/// unexpired hold to `to`, as `operation` of the call `m`; the rest is
/// released. Locks as every hold resolution does, the hold first, then the
/// accounts (here both, in id order, before either moves).
pub async fn capture(
    tx: &DatabaseTransaction,
    m: &Mutation,
    id: LedgerHoldId,
    amount: Money,
    to: (Owner, Kind),
    operation: Operation,
) -> Result<Posted, BillingError> {
    let found = hold::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(tx)
        .await?
        .ok_or(BillingError::HoldNotFound)?;
    if found.state != HoldState::Held.as_str() {
        return Err(BillingError::HoldResolved);
    }
    if found.expires_at <= m.now {
        return Err(BillingError::HoldExpired);
    }
    let held = account::Entity::find_by_id(found.account_id.clone())
        .one(tx)
        .await?
        .ok_or_else(|| KernelError::Corrupt(format!("hold {} account", found.id)))?;
    let currency = Currency::parse(&held.currency)
        .map_err(|e| KernelError::Corrupt(format!("account {}: {e}", held.id)))?;
    if amount.currency() != currency || !amount.is_positive() || amount.minor() > found.amount {
        return Err(BillingError::CaptureAboveHold {
            held: Money::from_minor(currency, found.amount),
        });
    }
    let from = (Owner::parse(&held.owner_id)?, Kind::parse(&held.kind)?);
    locked_accounts(
        tx,
        &[
            AccountKey::new(from.0, from.1, currency),
            AccountKey::new(to.0, to.1, currency),
        ],
        m.now,
    )
    .await?;
    let posting = Posting::transfer(operation, from, to, amount)?;
    // The transaction id is known only once posted: resolve first (the
    // pending amount is freed, so the posting's floor check sees the money
    // the hold reserved), then post, then name the transaction.
    resolve(tx, id, HoldState::Captured, amount.minor(), m.now).await?;
    let posted = post(tx, m, &posting).await?;
    hold::Entity::update_many()
        .col_expr(
            hold::Column::CaptureTransactionId,
            Expr::value(Some(posted.transaction_id.to_string())),
        )
        .filter(hold::Column::Id.eq(id.to_string()))
        .exec(tx)
        .await?;
    Ok(posted)
}

/// A hold [`hold_on`] made in this transaction, and what to take of it.
#[derive(Debug, Clone)]
pub struct Fresh {
    pub id: LedgerHoldId,
    /// Its account as it was locked, before any hold of this transaction.
    pub account: account::Model,
    pub amount: i64,
    /// At most `amount`; the rest is released.
    pub take: i64,
}

/// Captures what each of `holds` takes (a hold taking nothing is released
/// whole) into the account `to` (locked in this transaction, not moved
/// since), as one journal transaction of `operation` — what a payment from
/// several sources takes when its order completes in the transaction that
/// held the money; `None` when nothing was taken. The account each hold
/// reserved is the one charged. Nothing is read back: the holds and their
/// accounts are as this transaction made them, so each account moves its
/// balance and frees its pending amount in one update, and each hold is
/// resolved by one conditional update (a hold resolved already is
/// `HOLD_RESOLVED`, and nothing is taken).
pub async fn capture_fresh(
    tx: &DatabaseTransaction,
    m: &Mutation,
    holds: &[Fresh],
    to: &account::Model,
    operation: Operation,
    party: (Option<PartnerId>, Option<CustomerId>),
) -> Result<Option<Posted>, BillingError> {
    let currency = Currency::parse(&to.currency)
        .map_err(|e| KernelError::Corrupt(format!("account {}: {e}", to.id)))?;
    // Per account, in first-seen order: its row as it is now (pending
    // raised by its holds), what its holds free and what they take.
    let mut accounts: Vec<(account::Model, i64, i64)> = Vec::new();
    for h in holds {
        if h.take < 0 || h.take > h.amount || h.account.currency != to.currency {
            return Err(BillingError::CaptureAboveHold {
                held: Money::from_minor(currency, h.amount),
            });
        }
        match accounts.iter_mut().find(|(a, _, _)| a.id == h.account.id) {
            Some((a, freed, taken)) => {
                a.pending = a.pending.saturating_add(h.amount);
                *freed = freed.saturating_add(h.amount);
                *taken = taken.saturating_add(h.take);
            }
            None => {
                let mut a = h.account.clone();
                a.pending = a.pending.saturating_add(h.amount);
                accounts.push((a, h.amount, h.take));
            }
        }
    }
    let total = accounts
        .iter()
        .fold(0i64, |sum, (_, _, taken)| sum.saturating_add(*taken));
    let posted = if total > 0 {
        let mut outs = Vec::new();
        let mut rows = vec![to.clone()];
        let mut freed = vec![0];
        for (a, f, taken) in accounts.iter().filter(|(_, _, taken)| *taken > 0) {
            outs.push((
                Owner::parse(&a.owner_id)?,
                Kind::parse(&a.kind)?,
                Money::from_minor(currency, *taken),
            ));
            rows.push(a.clone());
            freed.push(*f);
        }
        let ins = vec![(
            Owner::parse(&to.owner_id)?,
            Kind::parse(&to.kind)?,
            Money::from_minor(currency, total),
        )];
        let mut posting = Posting::between(operation, outs, ins)?;
        posting.partner = party.0;
        posting.customer = party.1;
        Some(post_locked(tx, m, &posting, &rows, &freed).await?)
    } else {
        None
    };
    // Accounts whose holds took nothing only get their money back.
    for (a, f, _) in accounts.iter().filter(|(_, _, taken)| *taken == 0) {
        move_pending(tx, &a.id, -*f, m.now).await?;
    }
    let transaction = posted.as_ref().map(|p| p.transaction_id.to_string());
    for h in holds {
        let state = if h.take > 0 {
            HoldState::Captured
        } else {
            HoldState::Released
        };
        let changed = hold::Entity::update_many()
            .col_expr(hold::Column::State, Expr::value(state.as_str()))
            .col_expr(hold::Column::ResolvedAt, Expr::value(Some(m.now)))
            .col_expr(hold::Column::Captured, Expr::value(h.take))
            .col_expr(
                hold::Column::CaptureTransactionId,
                Expr::value((h.take > 0).then(|| transaction.clone()).flatten()),
            )
            .filter(hold::Column::Id.eq(h.id.to_string()))
            .filter(hold::Column::State.eq(HoldState::Held.as_str()))
            .exec(tx)
            .await?
            .rows_affected;
        if changed != 1 {
            return Err(BillingError::HoldResolved);
        }
    }
    Ok(posted)
}

/// Expires the holds due at `now`, each in its own write transaction
/// (exactly once, also with several replicas: a hold another one expired
/// first is skipped). Returns how many this pass expired.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<u64, BillingError> {
    let due: Vec<String> = hold::Entity::find()
        .select_only()
        .column(hold::Column::Id)
        .filter(hold::Column::State.eq(HoldState::Held.as_str()))
        .filter(hold::Column::ExpiresAt.lte(now))
        .order_by_asc(hold::Column::ExpiresAt)
        .limit(EXPIRY_BATCH)
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut expired = 0;
    for raw in due {
        // One hold that cannot be expired (unreadable, or a database error)
        // must not stop the others: it is reported and tried again next pass.
        match expire_one(db, &raw, now).await {
            Ok(true) => expired += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(hold = %raw, error = %e, "could not expire a due hold"),
        }
    }
    Ok(expired)
}

/// Expires one due hold; `false` when another replica resolved it first.
async fn expire_one(db: &Db, raw: &str, now: DateTime<Utc>) -> Result<bool, BillingError> {
    let id = partner_kernel::ids::parse_stored(raw, LedgerHoldId::parse)?;
    let tx = db.begin_write().await?;
    match resolve(&*tx, id, HoldState::Expired, 0, now).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(true)
        }
        Err(BillingError::HoldResolved) => Ok(false),
        Err(e) => Err(e),
    }
}
