//! Reading quotas, coupons and their records, newest first with keyset
//! pages. A partner reads its own (a distributor: a reseller's, with
//! `reseller_id`); the operator reads any partner's quotas; a customer
//! reads its own coupons.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CouponId, CouponQuotaId, CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::entity::{coupon, coupon_record, quota, quota_record};
use super::model::{
    self, Coupon, CouponRecordType, Quota, QuotaRecordType, QuotaState, Stored, currency_of,
};
use crate::access::{COUPONS_READ, PLATFORM_FUNDS_READ, SELF_COUPONS_READ};
use crate::error::BillingError;
use crate::ledger::Kind;
use crate::service::Billing;

const LIST_QUOTAS: &str = "partner.billing.v1.CouponService/ListCouponQuotas";
const LIST_QUOTA_RECORDS: &str = "partner.billing.v1.CouponService/ListQuotaRecords";
const LIST_COUPONS: &str = "partner.billing.v1.CouponService/ListIssuedCoupons";
const LIST_COUPON_RECORDS: &str = "partner.billing.v1.CouponService/ListCouponRecords";

/// Which coupons to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CouponFilter {
    pub customer: Option<CustomerId>,
    pub quota: Option<CouponQuotaId>,
    pub state: Option<pb::CouponState>,
    pub reseller: Option<PartnerId>,
}

/// Which coupon records to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordFilter {
    pub coupon: Option<CouponId>,
    pub customer: Option<CustomerId>,
    pub kind: Option<CouponRecordType>,
    pub reseller: Option<PartnerId>,
}

/// The coupons a caller in `state` at `now` sees (see [`Coupon::state_at`]).
fn in_state(state: pb::CouponState, now: DateTime<Utc>) -> Condition {
    let open = || Condition::all().add(coupon::Column::State.eq(Stored::Open.as_str()));
    let stored = |s: Stored| Condition::all().add(coupon::Column::State.eq(s.as_str()));
    match state {
        pb::CouponState::Unspecified => Condition::all(),
        pb::CouponState::Inactive => open().add(coupon::Column::ValidFrom.gt(now)),
        pb::CouponState::Usable => open()
            .add(coupon::Column::ValidFrom.lte(now))
            .add(coupon::Column::ValidUntil.gt(now)),
        pb::CouponState::Used => stored(Stored::Used),
        pb::CouponState::Expired => Condition::any()
            .add(stored(Stored::Expired))
            .add(open().add(coupon::Column::ValidUntil.lte(now))),
        pb::CouponState::Reclaimed => stored(Stored::Reclaimed),
    }
}

fn quota_record(r: quota_record::Model) -> Result<pb::QuotaRecord, KernelError> {
    let currency = currency_of(&r.currency, &r.id)?;
    Ok(pb::QuotaRecord {
        r#type: QuotaRecordType::parse(&r.record_type)?.to_proto() as i32,
        amount: Some(Money::from_minor(currency, r.amount).to_proto()),
        counterpart_quota_id: r.counterpart_quota_id.unwrap_or_default(),
        create_time: Some(partner_kernel::clock::to_proto_timestamp(r.created_at)),
        id: r.id,
        quota_id: r.quota_id,
        partner_id: r.partner_id,
        transaction_id: r.transaction_id,
        actor_id: r.actor,
        reason: r.reason,
    })
}

fn coupon_record(r: coupon_record::Model) -> Result<pb::CouponRecord, KernelError> {
    let currency = currency_of(&r.currency, &r.id)?;
    Ok(pb::CouponRecord {
        r#type: CouponRecordType::parse(&r.record_type)?.to_proto() as i32,
        amount: Some(Money::from_minor(currency, r.amount).to_proto()),
        create_time: Some(partner_kernel::clock::to_proto_timestamp(r.created_at)),
        id: r.id,
        coupon_id: r.coupon_id,
        quota_id: r.quota_id,
        customer_id: r.customer_id,
        transaction_id: r.transaction_id,
        actor_id: r.actor,
        reason: r.reason,
    })
}

impl Billing {
    /// Whose quotas `p` reads: the operator names a partner; a partner
    /// reads its own or its reseller's.
    async fn quota_owner(
        &self,
        p: &Principal,
        partner: Option<PartnerId>,
        reseller: Option<PartnerId>,
    ) -> Result<PartnerId, BillingError> {
        if p.holds(&PLATFORM_FUNDS_READ) && p.partner_id().is_none() {
            let partner = partner.ok_or(BillingError::PartnerRequired)?;
            self.accounts().partner_record(partner).await?;
            return Ok(partner);
        }
        if partner.is_some() {
            return Err(BillingError::PartnerNotFound);
        }
        Ok(self
            .accounts()
            .resolve_tenant(p, COUPONS_READ, reseller)
            .await?
            .partner_id)
    }

    pub async fn list_quotas(
        &self,
        p: &Principal,
        state: Option<QuotaState>,
        partner: Option<PartnerId>,
        reseller: Option<PartnerId>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::CouponQuota>, BillingError> {
        let owner = self.quota_owner(p, partner, reseller).await?.to_string();
        let mut query = quota::Entity::find().filter(quota::Column::PartnerId.eq(owner.as_str()));
        let mut scope = PageScope::new(LIST_QUOTAS, &owner);
        if let Some(s) = state {
            query = query.filter(quota::Column::State.eq(s.as_str()));
            scope = scope.filter("state", s.as_str());
        }
        let page = self
            .page_by_id(query, quota::Column::Id, &scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        let balances = model::balances(
            self.db().conn(),
            Kind::CouponQuota,
            page.items.iter().map(|r| r.id.clone()),
        )
        .await?;
        Ok(page.try_map(|r| {
            let balance = balances.get(&r.id).copied().unwrap_or(0);
            Ok(Quota::from_row(&r)?.to_proto(balance))
        })?)
    }

    pub async fn list_quota_records(
        &self,
        p: &Principal,
        quota_id: Option<CouponQuotaId>,
        partner: Option<PartnerId>,
        reseller: Option<PartnerId>,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::QuotaRecord>, BillingError> {
        let owner = self.quota_owner(p, partner, reseller).await?.to_string();
        let mut query =
            quota_record::Entity::find().filter(quota_record::Column::PartnerId.eq(owner.as_str()));
        let mut scope = PageScope::new(LIST_QUOTA_RECORDS, &owner);
        if let Some(q) = quota_id {
            query = query.filter(quota_record::Column::QuotaId.eq(q.to_string()));
            scope = scope.filter("quota", q);
        }
        let page = self
            .page_by_id(query, quota_record::Column::Id, &scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        Ok(page.try_map(quota_record)?)
    }

    /// The coupons `p` reads: a customer its own; a partner those it (or
    /// its reseller) issued.
    pub async fn list_coupons(
        &self,
        p: &Principal,
        filter: CouponFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Coupon>, BillingError> {
        let mut query = coupon::Entity::find();
        let mut scope = if let Some(own) = p.customer_id() {
            p.require(SELF_COUPONS_READ)?;
            if filter.customer.is_some_and(|c| c != own) || filter.reseller.is_some() {
                return Err(BillingError::CustomerNotFound);
            }
            query = query.filter(coupon::Column::CustomerId.eq(own.to_string()));
            PageScope::new(LIST_COUPONS, &own.to_string())
        } else {
            let partner = self
                .accounts()
                .resolve_tenant(p, COUPONS_READ, filter.reseller)
                .await?
                .partner_id
                .to_string();
            query = query.filter(coupon::Column::PartnerId.eq(partner.as_str()));
            let mut scope = PageScope::new(LIST_COUPONS, &partner);
            if let Some(c) = filter.customer {
                query = query.filter(coupon::Column::CustomerId.eq(c.to_string()));
                scope = scope.filter("customer", c);
            }
            scope
        };
        let now = self.clock().now();
        if let Some(q) = filter.quota {
            query = query.filter(coupon::Column::QuotaId.eq(q.to_string()));
            scope = scope.filter("quota", q);
        }
        if let Some(s) = filter.state {
            query = query.filter(in_state(s, now));
            scope = scope.filter("state", s.as_str_name());
        }
        let page = self
            .page_by_id(query, coupon::Column::Id, &scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        let balances = model::balances(
            self.db().conn(),
            Kind::CouponLiability,
            page.items.iter().map(|r| r.id.clone()),
        )
        .await?;
        Ok(page.try_map(|r| {
            let balance = balances.get(&r.id).copied().unwrap_or(0);
            Ok(Coupon::from_row(&r)?.to_proto(balance, now))
        })?)
    }

    pub async fn list_coupon_records(
        &self,
        p: &Principal,
        filter: RecordFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::CouponRecord>, BillingError> {
        let partner = self
            .accounts()
            .resolve_tenant(p, COUPONS_READ, filter.reseller)
            .await?
            .partner_id
            .to_string();
        let mut query = coupon_record::Entity::find()
            .filter(coupon_record::Column::PartnerId.eq(partner.as_str()));
        let mut scope = PageScope::new(LIST_COUPON_RECORDS, &partner);
        if let Some(c) = filter.coupon {
            query = query.filter(coupon_record::Column::CouponId.eq(c.to_string()));
            scope = scope.filter("coupon", c);
        }
        if let Some(c) = filter.customer {
            query = query.filter(coupon_record::Column::CustomerId.eq(c.to_string()));
            scope = scope.filter("customer", c);
        }
        if let Some(k) = filter.kind {
            query = query.filter(coupon_record::Column::RecordType.eq(k.as_str()));
            scope = scope.filter("type", k.as_str());
        }
        let page = self
            .page_by_id(query, coupon_record::Column::Id, &scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        Ok(page.try_map(coupon_record)?)
    }
}
