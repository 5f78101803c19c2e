//! Issuing coupons from a quota to up to 100 customers at once: a customer
//! may be refused on its own (not the partner's, consultant sale, at its
//! limit) while the others get theirs; the quota must hold every coupon
//! issued. All issued coupons are one journal transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use partner_accounts::tenant::resolve_in;
use partner_api::billing::v1 as pb;
use partner_customers::customers::model::AssociationType;
use partner_customers::customers::store as customer_store;
use partner_kernel::ids::{CouponId, CouponQuotaId, CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::entity::{coupon, coupon_record};
use super::model::{Coupon, CouponRecordType, Quota, Stored};
use super::{coupon_entry, quota_balance, quota_for_update, quota_of};
use crate::access::COUPONS_MANAGE;
use crate::error::BillingError;
use crate::ledger::{Kind, Operation, Owner, Posting, post};
use crate::service::Billing;

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueCoupons {
    pub quota: CouponQuotaId,
    /// Distinct, at most 100.
    pub customers: Vec<CustomerId>,
    pub face_value: Money,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub memo: String,
    pub reseller: Option<PartnerId>,
}

fn outside(field: &'static str, message: impl Into<String>) -> BillingError {
    BillingError::OutsideQuota {
        field,
        message: message.into(),
    }
}

/// A coupon's validity and service types.
struct Terms {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    services: Vec<String>,
}

/// The coupon's validity and service types, within the quota's.
fn terms(q: &Quota, cmd: &IssueCoupons, now: DateTime<Utc>) -> Result<Terms, BillingError> {
    if cmd.face_value.currency() != q.currency {
        return Err(outside(
            "face_value",
            format!("must be in the quota's currency, {}", q.currency.code()),
        ));
    }
    if let Some(max) = q.max_face_value
        && cmd.face_value > max
    {
        return Err(outside("face_value", format!("at most {max} per coupon")));
    }
    let from = cmd.valid_from.unwrap_or(now.max(q.valid_from));
    let until = cmd.valid_until.unwrap_or(q.valid_until);
    if from < q.valid_from {
        return Err(outside("valid_from", "must not be before the quota's"));
    }
    if until > q.valid_until {
        return Err(outside("valid_until", "must not be after the quota's"));
    }
    if until <= from || until <= now {
        return Err(outside(
            "valid_until",
            "must be after valid_from and after now",
        ));
    }
    let services = if cmd.service_types.is_empty() {
        q.service_types.clone()
    } else {
        if let Some(other) = cmd
            .service_types
            .iter()
            .find(|s| !q.service_types.is_empty() && !q.service_types.contains(s))
        {
            return Err(outside(
                "service_types",
                format!("{other:?} is not among the quota's service types"),
            ));
        }
        cmd.service_types.clone()
    };
    Ok(Terms {
        from,
        until,
        services,
    })
}

/// Why one customer (its association with the partner, locked; `None`:
/// not the partner's) gets no coupon, or `None`.
async fn refusal(
    tx: &DatabaseTransaction,
    q: &Quota,
    customer: CustomerId,
    association: Option<AssociationType>,
) -> Result<Option<&'static str>, BillingError> {
    let Some(association) = association else {
        return Ok(Some("CUSTOMER_NOT_FOUND"));
    };
    if association != AssociationType::Reseller {
        return Ok(Some("CONSULTANT_SALE_CUSTOMER"));
    }
    if let Some(max) = q.max_per_customer {
        let held = coupon::Entity::find()
            .filter(coupon::Column::QuotaId.eq(q.id.to_string()))
            .filter(coupon::Column::CustomerId.eq(customer.to_string()))
            .count(tx)
            .await?;
        if held >= u64::from(max) {
            return Ok(Some("CUSTOMER_LIMIT_REACHED"));
        }
    }
    Ok(None)
}

/// Writes `coupons` (each of its face value, from the quota `q`) and
/// moves their value out of the quota, as one journal transaction in the
/// caller's transaction; its id. The quota's floor refuses more than it
/// holds (`QUOTA_INSUFFICIENT`).
pub async fn issue_in(
    tx: &DatabaseTransaction,
    m: &Mutation,
    q: &Quota,
    coupons: &[Coupon],
    memo: &str,
) -> Result<String, BillingError> {
    let mut total = Money::zero(q.currency);
    for c in coupons {
        total = total
            .checked_add(c.face_value)
            .map_err(|_| BillingError::BalanceLimit)?;
    }
    let ins = coupons
        .iter()
        .map(|c| (Owner::Coupon(c.id), Kind::CouponLiability, c.face_value))
        .collect();
    let posting = Posting::between(
        Operation::CouponIssue,
        vec![(Owner::Quota(q.id), Kind::CouponQuota, total)],
        ins,
    )?
    .of_partner(q.partner)
    .because(memo.to_owned());
    coupon::Entity::insert_many(coupons.iter().map(row))
        .exec_without_returning(tx)
        .await?;
    let transaction = post(tx, m, &posting).await?.transaction_id.to_string();
    let records: Vec<coupon_record::ActiveModel> = coupons
        .iter()
        .map(|c| {
            coupon_entry(
                c,
                CouponRecordType::Issue,
                c.face_value,
                &transaction,
                m.principal.actor_id(),
                memo,
                m.now,
            )
        })
        .collect();
    coupon_record::Entity::insert_many(records)
        .exec_without_returning(tx)
        .await?;
    Ok(transaction)
}

impl Billing {
    pub async fn issue_coupons(
        &self,
        mut m: Mutation,
        cmd: IssueCoupons,
    ) -> Result<pb::IssueCouponsResponse, BillingError> {
        let own = m.principal.require_partner(COUPONS_MANAGE)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let tenant = self
            .accounts()
            .resolve_tenant(&m.principal, COUPONS_MANAGE, cmd.reseller)
            .await?;
        m.acting_for = tenant.acting_for();
        if quota_of(self.db().conn(), cmd.quota).await?.partner != tenant.partner_id {
            return Err(BillingError::QuotaNotFound);
        }
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = resolve_in(tx, own, cmd.reseller).await?.partner_id;
                // Customers first, in id order, then the quota: the order
                // every coupon write takes.
                let mut sorted = cmd.customers.clone();
                sorted.sort();
                let mut refused: HashMap<CustomerId, &'static str> = HashMap::new();
                let mut associations = Vec::with_capacity(sorted.len());
                for c in &sorted {
                    let found = customer_store::customer_of_for_update(tx, partner, *c).await?;
                    associations.push((*c, found.map(|f| f.association_type)));
                }
                let q = quota_for_update(tx, cmd.quota).await?;
                if q.partner != partner {
                    return Err(BillingError::QuotaNotFound);
                }
                q.usable_at(call.now)?;
                let Terms {
                    from,
                    until,
                    services,
                } = terms(&q, &cmd, call.now)?;
                for (c, association) in associations {
                    if let Some(why) = refusal(tx, &q, c, association).await? {
                        refused.insert(c, why);
                    }
                }
                let mut issued: BTreeMap<CustomerId, Coupon> = BTreeMap::new();
                for c in sorted.iter().filter(|c| !refused.contains_key(c)) {
                    issued.insert(
                        *c,
                        Coupon {
                            id: CouponId::generate(),
                            quota: q.id,
                            partner,
                            customer: *c,
                            coupon_type: q.coupon_type,
                            stored: Stored::Open,
                            face_value: cmd.face_value,
                            valid_from: from,
                            valid_until: until,
                            service_types: services.clone(),
                            product_ids: cmd.product_ids.clone(),
                            memo: cmd.memo.clone(),
                            created_at: call.now,
                            closed_at: None,
                        },
                    );
                }
                let mut transaction = String::new();
                let mut changes = Vec::new();
                if !issued.is_empty() {
                    let coupons: Vec<Coupon> = issued.values().cloned().collect();
                    transaction = issue_in(tx, &call, &q, &coupons, &cmd.memo).await?;
                    changes = coupons
                        .iter()
                        .map(|c| {
                            Change::of(Some(partner), c.id).after(serde_json::json!({
                                "customer_id": c.customer.to_string(),
                                "quota_id": c.quota.to_string(),
                                "face_value": c.face_value.to_string(),
                                "valid_until": c.valid_until.to_rfc3339(),
                                "transaction_id": transaction,
                            }))
                        })
                        .collect();
                }
                let results = cmd
                    .customers
                    .iter()
                    .map(|c| pb::IssueResult {
                        customer_id: c.to_string(),
                        coupon: issued
                            .get(c)
                            .map(|coupon| coupon.to_proto(coupon.face_value.minor(), call.now)),
                        error_reason: refused.get(c).copied().unwrap_or_default().to_owned(),
                    })
                    .collect();
                let balance = quota_balance(tx, &q).await?;
                Ok(Outcome::batch(
                    pb::IssueCouponsResponse {
                        results,
                        quota: Some(q.to_proto(balance)),
                        transaction_id: transaction,
                    },
                    changes,
                ))
            })
        })
        .await
    }
}

fn row(c: &Coupon) -> coupon::ActiveModel {
    coupon::ActiveModel {
        id: Set(c.id.to_string()),
        quota_id: Set(c.quota.to_string()),
        partner_id: Set(c.partner.to_string()),
        customer_id: Set(c.customer.to_string()),
        coupon_type: Set(c.coupon_type.as_str().to_owned()),
        state: Set(c.stored.as_str().to_owned()),
        currency: Set(c.face_value.currency().code().to_owned()),
        face_value: Set(c.face_value.minor()),
        valid_from: Set(c.valid_from),
        valid_until: Set(c.valid_until),
        service_types: Set(serde_json::to_string(&c.service_types).unwrap_or_default()),
        product_ids: Set(serde_json::to_string(&c.product_ids).unwrap_or_default()),
        memo: Set(c.memo.clone()),
        created_at: Set(c.created_at),
        closed_at: Set(None),
        updated_at: Set(c.created_at),
    }
}
