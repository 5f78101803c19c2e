//! Resources (`ResourceService`): what paid orders opened, read by the
//! customer's partner at the time (a distributor: its reseller's) and by
//! the customer itself. Renewals, expiry policies and unsubscribing will
//! act on them.

pub mod grpc;
mod settings;

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::error::BillingError;
use crate::orders::entity::resource;
use crate::orders::model::{ChargingMode, ExpiryPolicy, ResourceStatus};
use crate::orders::read::Scope;
use crate::service::Billing;

const LIST_RESOURCES: &str = "partner.billing.v1.ResourceService/ListResources";

/// Which resources to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceFilter {
    pub customer: Option<CustomerId>,
    pub status: Option<ResourceStatus>,
    pub expire_after: Option<DateTime<Utc>>,
    pub expire_before: Option<DateTime<Utc>>,
    pub reseller: Option<PartnerId>,
    /// Only main resources (`Some(true)`) or only children (`Some(false)`).
    pub main: Option<bool>,
    /// Only the children of this main resource.
    pub main_resource: Option<ResourceId>,
    /// Only those charged this way.
    pub charging_mode: Option<ChargingMode>,
}

fn within(scope: Scope) -> Condition {
    crate::orders::read::resource_scope(scope)
}

pub(crate) fn to_proto(r: &resource::Model) -> Result<pb::Resource, KernelError> {
    let status = ResourceStatus::parse(&r.status)?.to_proto();
    let policy = ExpiryPolicy::parse(&r.expiry_policy)?.to_proto();
    let charging = ChargingMode::parse(&r.charging_mode)?.to_proto();
    let unit = pricing_pb::PeriodUnit::from_str_name(&r.period_unit)
        .ok_or_else(|| KernelError::Corrupt(format!("resource {} period unit", r.id)))?;
    Ok(pb::Resource {
        id: r.id.clone(),
        customer_id: r.customer_id.clone(),
        partner_id: r.partner_id.clone().unwrap_or_default(),
        order_id: r.order_id.clone(),
        service_type: r.service_type.clone(),
        resource_type: r.resource_type.clone(),
        spec: r.spec.clone(),
        region: r.region.clone(),
        zone: r.zone.clone(),
        size: r.size,
        period_unit: unit as i32,
        status: status as i32,
        effective_time: Some(to_proto_timestamp(r.effective_at)),
        expire_time: Some(to_proto_timestamp(r.expires_at)),
        close_time: r.closed_at.map(to_proto_timestamp),
        expiry_policy: policy as i32,
        charging_mode: charging as i32,
        stage_end_time: r.stage_until.map(to_proto_timestamp),
        main_resource_id: r.main_resource_id.clone().unwrap_or_default(),
        frozen_for: r.frozen_for.clone().unwrap_or_default(),
        auto_renew: r
            .auto_renew_unit
            .as_deref()
            .and_then(pricing_pb::PeriodUnit::from_str_name)
            .map(|unit| pb::AutoRenew {
                period_unit: unit as i32,
                period_count: r.auto_renew_count,
                times: r.auto_renew_times,
                renewed: r.auto_renewed,
            }),
    })
}

impl Billing {
    pub async fn get_resource(
        &self,
        p: &Principal,
        id: ResourceId,
        reseller: Option<PartnerId>,
    ) -> Result<pb::Resource, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let row = resource::Entity::find_by_id(id.to_string())
            .filter(within(scope))
            .one(self.db().conn())
            .await?
            .ok_or(BillingError::ResourceNotFound)?;
        Ok(to_proto(&row)?)
    }

    pub async fn list_resources(
        &self,
        p: &Principal,
        filter: ResourceFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Resource>, BillingError> {
        let (scope, _) = self.scope_of(p, filter.reseller, false).await?;
        let mut query = resource::Entity::find().filter(within(scope));
        let mut page_scope = PageScope::new(LIST_RESOURCES, &scope.key());
        if let Some(c) = filter.customer {
            query = query.filter(resource::Column::CustomerId.eq(c.to_string()));
            page_scope = page_scope.filter("customer", c);
        }
        if let Some(s) = filter.status {
            query = query.filter(resource::Column::Status.eq(s.as_str()));
            page_scope = page_scope.filter("status", s.as_str());
        }
        match filter.main {
            Some(true) => {
                query = query.filter(resource::Column::MainResourceId.is_null());
                page_scope = page_scope.filter("role", "main");
            }
            Some(false) => {
                query = query.filter(resource::Column::MainResourceId.is_not_null());
                page_scope = page_scope.filter("role", "child");
            }
            None => {}
        }
        if let Some(m) = filter.main_resource {
            query = query.filter(resource::Column::MainResourceId.eq(m.to_string()));
            page_scope = page_scope.filter("main", m);
        }
        if let Some(mode) = filter.charging_mode {
            query = query.filter(resource::Column::ChargingMode.eq(mode.as_str()));
            page_scope = page_scope.filter("charging", mode.as_str());
        }
        if let Some(t) = filter.expire_after {
            query = query.filter(resource::Column::ExpiresAt.gte(t));
            page_scope = page_scope.filter("after", t.to_rfc3339());
        }
        if let Some(t) = filter.expire_before {
            query = query.filter(resource::Column::ExpiresAt.lt(t));
            page_scope = page_scope.filter("before", t.to_rfc3339());
        }
        let page = self
            .page_by_id(query, resource::Column::Id, &page_scope, size, token, |r| {
                r.id.clone()
            })
            .await?;
        Ok(page.try_map(|r| to_proto(&r))?)
    }
}
