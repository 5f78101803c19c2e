//! Quotas: the operator grants them and pauses, resumes or ends them; a
//! distributor gives part of one to a reseller and takes it back.

use chrono::{DateTime, Utc};
use partner_accounts::tenant::resolve_in;
use partner_api::billing::v1 as pb;
use partner_kernel::ids::{CouponQuotaId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::quota;
use super::model::{CouponType, Quota, QuotaRecordType, QuotaState};
use super::{QuotaEntry, quota_balance, quota_for_update, quota_of, record_quota};
use crate::access::{COUPONS_MANAGE, PLATFORM_COUPONS_MANAGE};
use crate::error::BillingError;
use crate::ledger::{Kind, Operation, Owner, Posting, post};
use crate::service::Billing;

/// A quota the operator grants.
#[derive(Debug, Clone)]
pub struct NewQuota {
    pub partner: PartnerId,
    pub coupon_type: CouponType,
    pub value: Money,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: DateTime<Utc>,
    pub max_face_value: Option<Money>,
    pub max_per_customer: Option<u32>,
    pub service_types: Vec<String>,
    pub reason: String,
}

/// The audit change of a quota, with the transaction that moved it.
fn change(q: &Quota, balance: i64, transaction: Option<&str>, reason: &str) -> Change {
    let mut after = q.audit_summary(balance);
    if let Some(t) = transaction {
        after["transaction_id"] = t.into();
    }
    Change::of(Some(q.partner), q.id)
        .after(after)
        .reason(reason.to_owned())
}

async fn insert_quota(tx: &DatabaseTransaction, q: &Quota) -> Result<(), BillingError> {
    quota::Entity::insert(quota::ActiveModel {
        id: Set(q.id.to_string()),
        partner_id: Set(q.partner.to_string()),
        parent_quota_id: Set(q.parent.map(|p| p.to_string())),
        coupon_type: Set(q.coupon_type.as_str().to_owned()),
        state: Set(q.state.as_str().to_owned()),
        currency: Set(q.currency.code().to_owned()),
        valid_from: Set(q.valid_from),
        valid_until: Set(q.valid_until),
        max_face_value: Set(q.max_face_value.map_or(0, Money::minor)),
        max_per_customer: Set(q
            .max_per_customer
            .map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX))),
        service_types: Set(serde_json::to_string(&q.service_types).unwrap_or_default()),
        created_at: Set(q.created_at),
        updated_at: Set(q.created_at),
    })
    .on_conflict(
        OnConflict::columns([quota::Column::ParentQuotaId, quota::Column::PartnerId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// The quota `reseller` holds under `parent`, opened on the first give
/// with the parent's type, validity and limits; locked.
async fn reseller_quota(
    tx: &DatabaseTransaction,
    parent: &Quota,
    reseller: PartnerId,
    now: DateTime<Utc>,
) -> Result<Quota, BillingError> {
    let find = || {
        quota::Entity::find()
            .filter(quota::Column::ParentQuotaId.eq(parent.id.to_string()))
            .filter(quota::Column::PartnerId.eq(reseller.to_string()))
    };
    if let Some(row) = find().one(tx).await? {
        return quota_for_update(tx, Quota::from_row(&row)?.id).await;
    }
    let child = Quota {
        id: CouponQuotaId::generate(),
        partner: reseller,
        parent: Some(parent.id),
        state: QuotaState::Normal,
        created_at: now,
        ..parent.clone()
    };
    insert_quota(tx, &child).await?;
    // A concurrent first give may have opened it: read whichever won.
    let row = find().one(tx).await?.ok_or(BillingError::QuotaNotFound)?;
    quota_for_update(tx, Quota::from_row(&row)?.id).await
}

/// Opens the quota `q` with `value` from the promotional budget, in the
/// caller's transaction; the journal transaction's id.
pub async fn grant_in(
    tx: &DatabaseTransaction,
    m: &Mutation,
    q: &Quota,
    value: Money,
    reason: &str,
) -> Result<String, BillingError> {
    let posting = Posting::transfer(
        Operation::QuotaGrant,
        (Owner::Platform, Kind::Promotion),
        (Owner::Quota(q.id), Kind::CouponQuota),
        value,
    )?
    .of_partner(q.partner)
    .because(reason.to_owned());
    insert_quota(tx, q).await?;
    let transaction = post(tx, m, &posting).await?.transaction_id.to_string();
    let entry = QuotaEntry {
        quota: q,
        kind: QuotaRecordType::Grant,
        amount: value,
        counterpart: None,
        transaction: transaction.clone(),
        reason,
    };
    record_quota(tx, m, entry).await?;
    Ok(transaction)
}

async fn set_state(
    tx: &DatabaseTransaction,
    ids: &[CouponQuotaId],
    state: QuotaState,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    quota::Entity::update_many()
        .col_expr(quota::Column::State, Expr::value(state.as_str()))
        .col_expr(quota::Column::UpdatedAt, Expr::value(now))
        .filter(quota::Column::Id.is_in(ids.iter().map(ToString::to_string)))
        .exec(tx)
        .await?;
    Ok(())
}

/// What ending a quota did.
struct Ended {
    /// The journal transaction, when there was a balance to return.
    transaction: Option<String>,
    /// The quotas given from it, ended with it (after: balance zero).
    children: Vec<(Quota, i64)>,
}

/// Ends `q` (locked) and every quota given from it that has not ended:
/// their balances return to the promotional budget as one journal
/// transaction, so nothing given from an ended quota is issued later.
async fn end_quotas(
    tx: &DatabaseTransaction,
    m: &Mutation,
    q: Quota,
    reason: &str,
) -> Result<Ended, BillingError> {
    // Children after their parent, in id order.
    let rows = quota::Entity::find()
        .filter(quota::Column::ParentQuotaId.eq(q.id.to_string()))
        .filter(quota::Column::State.ne(QuotaState::Invalid.as_str()))
        .order_by_asc(quota::Column::Id)
        .all(tx)
        .await?;
    let mut children = Vec::with_capacity(rows.len());
    for row in &rows {
        children.push(quota_for_update(tx, Quota::from_row(row)?.id).await?);
    }
    let mut outs = Vec::new();
    let mut ended = Vec::new();
    for quota in std::iter::once(&q).chain(&children) {
        let balance = quota_balance(tx, quota).await?;
        if balance > 0 {
            let amount = Money::from_minor(quota.currency, balance);
            outs.push((Owner::Quota(quota.id), Kind::CouponQuota, amount));
            ended.push((quota, amount));
        }
    }
    let ids: Vec<CouponQuotaId> = std::iter::once(q.id)
        .chain(children.iter().map(|c| c.id))
        .collect();
    set_state(tx, &ids, QuotaState::Invalid, m.now).await?;
    let mut transaction = None;
    if !outs.is_empty() {
        let mut total = Money::zero(q.currency);
        for (_, _, amount) in &outs {
            total = total
                .checked_add(*amount)
                .map_err(|_| BillingError::BalanceLimit)?;
        }
        let posting = Posting::between(
            Operation::QuotaInvalidate,
            outs,
            vec![(Owner::Platform, Kind::Promotion, total)],
        )?
        .of_partner(q.partner)
        .because(reason.to_owned());
        let t = post(tx, m, &posting).await?.transaction_id.to_string();
        for (quota, amount) in ended {
            let entry = QuotaEntry {
                quota,
                kind: QuotaRecordType::Invalidate,
                amount,
                counterpart: None,
                transaction: t.clone(),
                reason,
            };
            record_quota(tx, m, entry).await?;
        }
        transaction = Some(t);
    }
    Ok(Ended {
        transaction,
        children: children
            .into_iter()
            .map(|mut c| {
                c.state = QuotaState::Invalid;
                (c, 0)
            })
            .collect(),
    })
}

impl Billing {
    /// Grants `q.partner` a new quota of `q.value`.
    pub async fn grant_quota(
        &self,
        m: Mutation,
        q: NewQuota,
    ) -> Result<pb::GrantCouponQuotaResponse, BillingError> {
        m.principal.require(PLATFORM_COUPONS_MANAGE)?;
        self.accounts().partner_record(q.partner).await?;
        let valid_from = q.valid_from.unwrap_or(m.now);
        if q.valid_until <= valid_from || q.valid_until <= m.now {
            return Err(BillingError::OutsideQuota {
                field: "valid_until",
                message: "must be after valid_from and after now".into(),
            });
        }
        let quota = Quota {
            id: CouponQuotaId::generate(),
            partner: q.partner,
            parent: None,
            coupon_type: q.coupon_type,
            state: QuotaState::Normal,
            currency: q.value.currency(),
            valid_from,
            valid_until: q.valid_until,
            max_face_value: q.max_face_value,
            max_per_customer: q.max_per_customer,
            service_types: q.service_types,
            created_at: m.now,
        };
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let transaction = grant_in(tx, &call, &quota, q.value, &q.reason).await?;
                let balance = q.value.minor();
                Ok(Outcome::new(
                    pb::GrantCouponQuotaResponse {
                        quota: Some(quota.to_proto(balance)),
                    },
                    change(&quota, balance, Some(&transaction), &q.reason),
                ))
            })
        })
        .await
    }

    /// Pauses, resumes or ends a quota; ending returns its balance to the
    /// promotional budget.
    pub async fn set_quota_state(
        &self,
        m: Mutation,
        id: CouponQuotaId,
        state: QuotaState,
        reason: String,
    ) -> Result<pb::SetCouponQuotaStateResponse, BillingError> {
        m.principal.require(PLATFORM_COUPONS_MANAGE)?;
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let mut q = quota_for_update(tx, id).await?;
                if q.state == QuotaState::Invalid {
                    return Err(BillingError::QuotaInvalid);
                }
                let mut changes = Vec::new();
                let mut transaction = None;
                if state == QuotaState::Invalid {
                    let ended = end_quotas(tx, &call, q.clone(), &reason).await?;
                    transaction = ended.transaction;
                    for (child, balance) in &ended.children {
                        changes.push(change(child, *balance, transaction.as_deref(), &reason));
                    }
                } else {
                    set_state(tx, &[id], state, call.now).await?;
                }
                q.state = state;
                let balance = quota_balance(tx, &q).await?;
                Ok(Outcome::batch(
                    pb::SetCouponQuotaStateResponse {
                        quota: Some(q.to_proto(balance)),
                    },
                    std::iter::once(change(&q, balance, transaction.as_deref(), &reason))
                        .chain(changes)
                        .collect(),
                ))
            })
        })
        .await
    }

    /// Moves `amount` between a distributor's quota and its reseller's
    /// quota under it: `give` from the distributor, else back to it.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_quota<R>(
        &self,
        m: Mutation,
        give: bool,
        quota_id: CouponQuotaId,
        reseller: Option<PartnerId>,
        amount: Money,
        reason: String,
        respond: fn(pb::CouponQuota, pb::CouponQuota) -> R,
    ) -> Result<R, BillingError>
    where
        R: prost::Message + Default + 'static,
    {
        let own = m.principal.require_partner(COUPONS_MANAGE)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        // Not the caller's (or no such quota): the same answer either way,
        // before anything of another tenant is locked.
        let named = quota_of(self.db().conn(), quota_id).await?;
        let parent_id = if give {
            (named.partner == own).then_some(named.id)
        } else {
            named.parent
        }
        .ok_or(BillingError::QuotaNotFound)?;
        if !give && quota_of(self.db().conn(), parent_id).await?.partner != own {
            return Err(BillingError::QuotaNotFound);
        }
        if amount.currency() != named.currency {
            return Err(BillingError::OutsideQuota {
                field: "amount",
                message: format!("must be in the quota's currency, {}", named.currency.code()),
            });
        }
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (parent, child) = if give {
                    let reseller = reseller.ok_or(BillingError::QuotaNotFound)?;
                    resolve_in(tx, own, Some(reseller)).await?;
                    let parent = quota_for_update(tx, parent_id).await?;
                    parent.usable_at(call.now)?;
                    let child = reseller_quota(tx, &parent, reseller, call.now).await?;
                    // An ended or paused reseller quota receives nothing.
                    child.usable_at(call.now)?;
                    (parent, child)
                } else {
                    // Parent before child, as a give locks them.
                    let parent = quota_for_update(tx, parent_id).await?;
                    let child = quota_for_update(tx, quota_id).await?;
                    if parent.partner != own {
                        return Err(BillingError::QuotaNotFound);
                    }
                    // The operator's pause of the reseller's quota holds its
                    // value where it is (an ended one holds none).
                    if child.state != QuotaState::Normal {
                        return Err(BillingError::QuotaNotUsable {
                            state: child.state.as_str(),
                        });
                    }
                    (parent, child)
                };
                let (operation, from, to) = if give {
                    (Operation::QuotaGive, &parent, &child)
                } else {
                    (Operation::QuotaTakeBack, &child, &parent)
                };
                let posting = Posting::transfer(
                    operation,
                    (Owner::Quota(from.id), Kind::CouponQuota),
                    (Owner::Quota(to.id), Kind::CouponQuota),
                    amount,
                )?
                .of_partner(own)
                .because(reason.clone());
                let posted = post(tx, &call, &posting).await?;
                let transaction = posted.transaction_id.to_string();
                let (parent_kind, child_kind) = if give {
                    (
                        QuotaRecordType::GiveToReseller,
                        QuotaRecordType::ReceiveFromDistributor,
                    )
                } else {
                    (
                        QuotaRecordType::TakeBackFromReseller,
                        QuotaRecordType::TakenBackByDistributor,
                    )
                };
                for (q, kind, other) in [
                    (&parent, parent_kind, child.id),
                    (&child, child_kind, parent.id),
                ] {
                    let entry = QuotaEntry {
                        quota: q,
                        kind,
                        amount,
                        counterpart: Some(other),
                        transaction: transaction.clone(),
                        reason: &reason,
                    };
                    record_quota(tx, &call, entry).await?;
                }
                let parent_balance = quota_balance(tx, &parent).await?;
                let child_balance = quota_balance(tx, &child).await?;
                Ok(Outcome::new(
                    respond(
                        parent.to_proto(parent_balance),
                        child.to_proto(child_balance),
                    ),
                    change(&parent, parent_balance, Some(&transaction), &reason),
                )
                .and(change(&child, child_balance, Some(&transaction), &reason)))
            })
        })
        .await
    }
}
