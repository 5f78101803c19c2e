//! Quotas and coupons as the domain sees them, and their wire forms. A
//! balance is never stored here: it is read from the ledger account the
//! quota or coupon owns, and passed in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CouponId, CouponQuotaId, CustomerId, PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{coupon, quota};
use crate::entity::ledger_account as account;
use crate::error::BillingError;
use crate::ledger::Kind;

partner_kernel::state_enum!(
    /// What a coupon pays for.
    CouponType, "coupon type", CouponType {
        /// 代金券: part of an order of the products it names.
        Voucher = "VOUCHER",
        /// 现金券: like cash within its limits.
        CashCoupon = "CASH_COUPON",
    }
);

partner_kernel::state_enum!(
    /// Where a quota is.
    QuotaState, "coupon quota state", CouponQuotaState {
        /// Issues and gives.
        Normal = "NORMAL",
        /// Paused while the operator revises it.
        Adjusting = "ADJUSTING",
        /// Paused by the operator.
        Frozen = "FROZEN",
        /// Ended; its balance went back (final).
        Invalid = "INVALID",
    }
);

partner_kernel::state_enum!(
    /// What moved a quota.
    QuotaRecordType, "quota record type", QuotaRecordType {
        Grant = "GRANT",
        Invalidate = "INVALIDATE",
        GiveToReseller = "GIVE_TO_RESELLER",
        ReceiveFromDistributor = "RECEIVE_FROM_DISTRIBUTOR",
        TakeBackFromReseller = "TAKE_BACK_FROM_RESELLER",
        TakenBackByDistributor = "TAKEN_BACK_BY_DISTRIBUTOR",
    }
);

partner_kernel::state_enum!(
    /// What moved a coupon.
    CouponRecordType, "coupon record type", CouponRecordType {
        Issue = "ISSUE",
        Reclaim = "RECLAIM",
        ReclaimOnDisassociation = "RECLAIM_ON_DISASSOCIATION",
        Expiry = "EXPIRY",
        /// Spent paying an order.
        Use = "USE",
    }
);

/// A coupon's stored state: open until its value is used up, reclaimed
/// or expired. What callers see ([`pb::CouponState`]) also depends on the
/// time: an open coupon is INACTIVE before its validity, USABLE within it,
/// and EXPIRED after it (until the expiry job closes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Open,
    Used,
    Reclaimed,
    Expired,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::Open => "OPEN",
            Stored::Used => "USED",
            Stored::Reclaimed => "RECLAIMED",
            Stored::Expired => "EXPIRED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "OPEN" => Ok(Stored::Open),
            "USED" => Ok(Stored::Used),
            "RECLAIMED" => Ok(Stored::Reclaimed),
            "EXPIRED" => Ok(Stored::Expired),
            other => Err(KernelError::Corrupt(format!("coupon state {other:?}"))),
        }
    }
}

fn codes(raw: &str, what: &str) -> Result<Vec<String>, KernelError> {
    serde_json::from_str(raw).map_err(|e| KernelError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn currency_of(raw: &str, what: &str) -> Result<Currency, KernelError> {
    Currency::parse(raw).map_err(|e| KernelError::Corrupt(format!("{what}: {e}")))
}

#[derive(Debug, Clone)]
pub struct Quota {
    pub id: CouponQuotaId,
    pub partner: PartnerId,
    pub parent: Option<CouponQuotaId>,
    pub coupon_type: CouponType,
    pub state: QuotaState,
    pub currency: Currency,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// `None`: no limit below the balance.
    pub max_face_value: Option<Money>,
    /// `None`: no limit.
    pub max_per_customer: Option<u32>,
    pub service_types: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl Quota {
    pub fn from_row(row: &quota::Model) -> Result<Self, KernelError> {
        let currency = currency_of(&row.currency, &row.id)?;
        Ok(Self {
            id: parse_stored(&row.id, CouponQuotaId::parse)?,
            partner: parse_stored(&row.partner_id, PartnerId::parse)?,
            parent: row
                .parent_quota_id
                .as_deref()
                .map(|p| parse_stored(p, CouponQuotaId::parse))
                .transpose()?,
            coupon_type: CouponType::parse(&row.coupon_type)?,
            state: QuotaState::parse(&row.state)?,
            currency,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            max_face_value: (row.max_face_value > 0)
                .then(|| Money::from_minor(currency, row.max_face_value)),
            max_per_customer: u32::try_from(row.max_per_customer).ok().filter(|n| *n > 0),
            service_types: codes(&row.service_types, &row.id)?,
            created_at: row.created_at,
        })
    }

    /// Refuses issuing or giving from a quota that is paused, ended, or past
    /// its validity at `now`.
    pub fn usable_at(&self, now: DateTime<Utc>) -> Result<(), BillingError> {
        if self.state != QuotaState::Normal {
            return Err(BillingError::QuotaNotUsable {
                state: self.state.as_str(),
            });
        }
        if now >= self.valid_until {
            return Err(BillingError::QuotaExpired);
        }
        Ok(())
    }

    pub fn to_proto(&self, balance: i64) -> pb::CouponQuota {
        pb::CouponQuota {
            id: self.id.to_string(),
            partner_id: self.partner.to_string(),
            parent_quota_id: self.parent.map(|p| p.to_string()).unwrap_or_default(),
            r#type: self.coupon_type.to_proto() as i32,
            state: self.state.to_proto() as i32,
            balance: Some(Money::from_minor(self.currency, balance).to_proto()),
            valid_from: Some(to_proto_timestamp(self.valid_from)),
            valid_until: Some(to_proto_timestamp(self.valid_until)),
            max_face_value: Some(
                self.max_face_value
                    .unwrap_or(Money::zero(self.currency))
                    .to_proto(),
            ),
            max_coupons_per_customer: self
                .max_per_customer
                .map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX)),
            service_types: self.service_types.clone(),
            create_time: Some(to_proto_timestamp(self.created_at)),
        }
    }

    pub fn audit_summary(&self, balance: i64) -> serde_json::Value {
        serde_json::json!({
            "partner_id": self.partner.to_string(),
            "type": self.coupon_type.as_str(),
            "state": self.state.as_str(),
            "balance": Money::from_minor(self.currency, balance).to_string(),
            "valid_until": self.valid_until.to_rfc3339(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Coupon {
    pub id: CouponId,
    pub quota: CouponQuotaId,
    pub partner: PartnerId,
    pub customer: CustomerId,
    pub coupon_type: CouponType,
    pub stored: Stored,
    pub face_value: Money,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Coupon {
    pub fn from_row(row: &coupon::Model) -> Result<Self, KernelError> {
        let currency = currency_of(&row.currency, &row.id)?;
        Ok(Self {
            id: parse_stored(&row.id, CouponId::parse)?,
            quota: parse_stored(&row.quota_id, CouponQuotaId::parse)?,
            partner: parse_stored(&row.partner_id, PartnerId::parse)?,
            customer: parse_stored(&row.customer_id, CustomerId::parse)?,
            coupon_type: CouponType::parse(&row.coupon_type)?,
            stored: Stored::parse(&row.state)?,
            face_value: Money::from_minor(currency, row.face_value),
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            service_types: codes(&row.service_types, &row.id)?,
            product_ids: codes(&row.product_ids, &row.id)?,
            memo: row.memo.clone(),
            created_at: row.created_at,
            closed_at: row.closed_at,
        })
    }

    /// What a caller sees at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> pb::CouponState {
        match self.stored {
            Stored::Used => pb::CouponState::Used,
            Stored::Reclaimed => pb::CouponState::Reclaimed,
            Stored::Expired => pb::CouponState::Expired,
            Stored::Open if now >= self.valid_until => pb::CouponState::Expired,
            Stored::Open if now < self.valid_from => pb::CouponState::Inactive,
            Stored::Open => pb::CouponState::Usable,
        }
    }

    pub fn to_proto(&self, balance: i64, now: DateTime<Utc>) -> pb::Coupon {
        pb::Coupon {
            id: self.id.to_string(),
            quota_id: self.quota.to_string(),
            partner_id: self.partner.to_string(),
            customer_id: self.customer.to_string(),
            r#type: self.coupon_type.to_proto() as i32,
            state: self.state_at(now) as i32,
            face_value: Some(self.face_value.to_proto()),
            balance: Some(Money::from_minor(self.face_value.currency(), balance).to_proto()),
            valid_from: Some(to_proto_timestamp(self.valid_from)),
            valid_until: Some(to_proto_timestamp(self.valid_until)),
            service_types: self.service_types.clone(),
            product_ids: self.product_ids.clone(),
            memo: self.memo.clone(),
            issue_time: Some(to_proto_timestamp(self.created_at)),
            close_time: self.closed_at.map(to_proto_timestamp),
        }
    }
}

/// The balances (minor units) of the `kind` accounts the owners `ids` hold;
/// an owner without an account yet holds nothing.
pub async fn balances(
    conn: &impl ConnectionTrait,
    kind: Kind,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, BillingError> {
    let ids: Vec<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = account::Entity::find()
        .filter(account::Column::OwnerId.is_in(ids))
        .filter(account::Column::Kind.eq(kind.as_str()))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.owner_id, r.balance)).collect())
}
