//! Closing coupons: a partner reclaims one (its rest back to its quota),
//! a leaving customer's return to their quotas, an expired one's rest goes
//! to breakage. Each coupon closes exactly once: the caller first moves its
//! row from OPEN with a conditional update, which also locks it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use partner_accounts::tenant::resolve_in;
use partner_api::billing::v1 as pb;
use partner_kernel::ids::{CouponId, PartnerId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::entity::{coupon, coupon_record};
use super::model::{Coupon, CouponRecordType, Quota, Stored};
use super::{coupon_entry, quota_balance, quota_for_update, return_target};
use crate::access::COUPONS_MANAGE;
use crate::error::BillingError;
use crate::ledger::{AccountKey, Kind, Operation, Owner, Posting, locked_accounts, post};
use crate::service::Billing;

/// Moves the coupon `id` from OPEN to `to` if `scope` allows, at `now`;
/// `false` when it was not open (or not in scope).
pub(super) async fn close_row(
    conn: &impl ConnectionTrait,
    id: CouponId,
    to: Stored,
    scope: sea_orm::Condition,
    now: DateTime<Utc>,
) -> Result<bool, BillingError> {
    let done = coupon::Entity::update_many()
        .col_expr(coupon::Column::State, Expr::value(to.as_str()))
        .col_expr(coupon::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(coupon::Column::UpdatedAt, Expr::value(now))
        .filter(coupon::Column::Id.eq(id.to_string()))
        .filter(coupon::Column::State.eq(Stored::Open.as_str()))
        .filter(scope)
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Where each closed coupon's rest goes: its quota's return target
/// (reclaims), or breakage (expiry).
pub(super) enum Destination<'a> {
    Quotas(&'a [Quota]),
    Breakage,
}

/// Posts the remaining value of `coupons` (already closed by
/// [`close_row`]) to `to`, one journal transaction per currency, and
/// records each. Coupons with nothing left move nothing. Returns each
/// coupon with what moved, and the changes to audit.
pub(super) async fn post_rest(
    conn: &impl ConnectionTrait,
    m: &Mutation,
    coupons: &[Coupon],
    to: Destination<'_>,
    kind: CouponRecordType,
    reason: &str,
) -> Result<Vec<(CouponId, Money)>, BillingError> {
    let operation = match kind {
        CouponRecordType::Issue | CouponRecordType::Reclaim => Operation::CouponReclaim,
        CouponRecordType::Use => Operation::OrderPayment,
        CouponRecordType::ReclaimOnDisassociation => Operation::CouponReclaimOnDisassociation,
        CouponRecordType::Expiry => Operation::CouponExpiry,
    };
    let keys: Vec<AccountKey> = coupons
        .iter()
        .map(|c| {
            AccountKey::new(
                Owner::Coupon(c.id),
                Kind::CouponLiability,
                c.face_value.currency(),
            )
        })
        .collect();
    let accounts = locked_accounts(conn, &keys, m.now).await?;
    let mut by_currency: BTreeMap<&str, Vec<(&Coupon, Money)>> = BTreeMap::new();
    for (c, account) in coupons.iter().zip(&accounts) {
        if account.pending > 0 {
            return Err(BillingError::CouponNotReclaimable { state: "IN_USE" });
        }
        if account.balance > 0 {
            let rest = Money::from_minor(c.face_value.currency(), account.balance);
            by_currency
                .entry(c.face_value.currency().code())
                .or_default()
                .push((c, rest));
        }
    }
    let mut moved = Vec::new();
    for lines in by_currency.into_values() {
        let mut ins: BTreeMap<(Owner, &str), (Kind, Money)> = BTreeMap::new();
        for (c, rest) in &lines {
            let (owner, kind) = match &to {
                Destination::Breakage => (Owner::Platform, Kind::Breakage),
                Destination::Quotas(quotas) => quotas
                    .iter()
                    .find(|q| q.id == c.quota)
                    .map(return_target)
                    .ok_or(BillingError::QuotaNotFound)?,
            };
            let slot = ins
                .entry((owner, kind.as_str()))
                .or_insert((kind, Money::zero(rest.currency())));
            slot.1 = slot
                .1
                .checked_add(*rest)
                .map_err(|_| BillingError::Unbalanced)?;
        }
        let first = lines[0].0;
        let mut posting = Posting::between(
            operation,
            lines
                .iter()
                .map(|(c, rest)| (Owner::Coupon(c.id), Kind::CouponLiability, *rest))
                .collect(),
            ins.into_iter().map(|((o, _), (k, m))| (o, k, m)).collect(),
        )?
        .of_partner(first.partner)
        .because(reason.to_owned());
        // One customer's coupons (a reclaim or a leaving), or the expiry of
        // one coupon: the customer is the posting's.
        if lines.iter().all(|(c, _)| c.customer == first.customer) {
            posting = posting.of_customer(first.customer);
        }
        let transaction = post(conn, m, &posting).await?.transaction_id.to_string();
        let records: Vec<coupon_record::ActiveModel> = lines
            .iter()
            .map(|(c, rest)| {
                coupon_entry(
                    c,
                    kind,
                    *rest,
                    &transaction,
                    m.principal.actor_id(),
                    reason,
                    m.now,
                )
            })
            .collect();
        coupon_record::Entity::insert_many(records)
            .exec_without_returning(conn)
            .await?;
        moved.extend(lines.iter().map(|(c, rest)| (c.id, *rest)));
    }
    Ok(moved)
}

/// The audit change of a closed coupon.
pub(super) fn closed_change(c: &Coupon, moved: Option<Money>, reason: &str) -> Change {
    let currency: Currency = c.face_value.currency();
    Change::of(Some(c.partner), c.id)
        .after(serde_json::json!({
            "customer_id": c.customer.to_string(),
            "state": c.stored.as_str(),
            "returned": moved.unwrap_or(Money::zero(currency)).to_string(),
        }))
        .reason(reason.to_owned())
}

/// Closes the coupon `id` that `partner` issued as RECLAIMED and returns
/// its whole rest to its quota (to the promotional budget if the quota has
/// ended), in the caller's transaction: the coupon, its quota, and what
/// moved. Refused when it is not `partner`'s (`COUPON_NOT_FOUND`), or is
/// used up, expired or already reclaimed (`COUPON_NOT_RECLAIMABLE`).
pub async fn reclaim_in(
    tx: &DatabaseTransaction,
    m: &Mutation,
    id: CouponId,
    partner: PartnerId,
    reason: &str,
) -> Result<(Coupon, Quota, Money), BillingError> {
    let now = m.now;
    let scope = sea_orm::Condition::all()
        .add(coupon::Column::PartnerId.eq(partner.to_string()))
        .add(coupon::Column::ValidUntil.gt(now));
    let closed = close_row(tx, id, Stored::Reclaimed, scope, now).await?;
    let row = coupon::Entity::find_by_id(id.to_string())
        .one(tx)
        .await?
        .filter(|r| r.partner_id == partner.to_string())
        .ok_or(BillingError::CouponNotFound)?;
    let c = Coupon::from_row(&row)?;
    if !closed {
        return Err(BillingError::CouponNotReclaimable {
            state: state_name(c.state_at(now)),
        });
    }
    let q = quota_for_update(tx, c.quota).await?;
    let moved = post_rest(
        tx,
        m,
        std::slice::from_ref(&c),
        Destination::Quotas(std::slice::from_ref(&q)),
        CouponRecordType::Reclaim,
        reason,
    )
    .await?;
    let Some((_, rest)) = moved.first().copied() else {
        // Open with nothing left: it was used up.
        return Err(BillingError::CouponNotReclaimable { state: "USED" });
    };
    Ok((c, q, rest))
}

impl Billing {
    /// Takes the coupon's whole rest back to its quota.
    pub async fn reclaim_coupon(
        &self,
        mut m: Mutation,
        id: CouponId,
        reason: String,
        reseller: Option<PartnerId>,
    ) -> Result<pb::ReclaimCouponResponse, BillingError> {
        let own = m.principal.require_partner(COUPONS_MANAGE)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let tenant = self
            .accounts()
            .resolve_tenant(&m.principal, COUPONS_MANAGE, reseller)
            .await?;
        m.acting_for = tenant.acting_for();
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = resolve_in(tx, own, reseller).await?.partner_id;
                let now = call.now;
                let (c, q, rest) = reclaim_in(tx, &call, id, partner, &reason).await?;
                let balance = quota_balance(tx, &q).await?;
                Ok(Outcome::new(
                    pb::ReclaimCouponResponse {
                        coupon: Some(c.to_proto(0, now)),
                        quota: Some(q.to_proto(balance)),
                    },
                    closed_change(&c, Some(rest), &reason),
                ))
            })
        })
        .await
    }
}

/// The state's name without the enum prefix (`RECLAIMED`).
fn state_name(s: pb::CouponState) -> &'static str {
    s.as_str_name().trim_start_matches("COUPON_STATE_")
}
