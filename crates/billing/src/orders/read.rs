//! Reading orders: a customer its own; a partner those of its customers
//! (made while the customer was its), a distributor its reseller's with
//! `reseller_id`. Anything else is `ORDER_NOT_FOUND`.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::ids::{CustomerId, OrderId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{line, order, resource};
use super::model::{Order, OrderState, OrderType, PricedLine, currency_of};
use crate::access::{ORDERS_MANAGE, ORDERS_READ, SELF_ORDERS_MANAGE, SELF_ORDERS_READ};
use crate::error::BillingError;
use crate::service::Billing;

const LIST_ORDERS: &str = "partner.billing.v1.OrderService/ListOrders";

/// Whose orders a caller reaches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    Customer(CustomerId),
    Partner(PartnerId),
}

impl Scope {
    pub(crate) fn condition(self) -> Condition {
        match self {
            Scope::Customer(c) => Condition::all().add(order::Column::CustomerId.eq(c.to_string())),
            Scope::Partner(p) => Condition::all().add(order::Column::PartnerId.eq(p.to_string())),
        }
    }

    pub(crate) fn key(self) -> String {
        match self {
            Scope::Customer(c) => c.to_string(),
            Scope::Partner(p) => p.to_string(),
        }
    }
}

/// The resources `scope` reaches.
pub(crate) fn resource_scope(scope: Scope) -> Condition {
    match scope {
        Scope::Customer(c) => {
            Condition::all().add(super::entity::resource::Column::CustomerId.eq(c.to_string()))
        }
        Scope::Partner(p) => {
            Condition::all().add(super::entity::resource::Column::PartnerId.eq(p.to_string()))
        }
    }
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub customer: Option<CustomerId>,
    pub state: Option<OrderState>,
    pub order_type: Option<OrderType>,
    /// Orders with a line of this service type.
    pub service_type: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub reseller: Option<PartnerId>,
}

/// The order `id` within `scope`, with its lines.
pub(crate) async fn order_in(
    conn: &impl ConnectionTrait,
    scope: Scope,
    id: OrderId,
) -> Result<Order, BillingError> {
    order_where(conn, scope.condition(), id).await
}

/// The order `id` if it meets `condition`, with its lines.
pub(crate) async fn order_where(
    conn: &impl ConnectionTrait,
    condition: Condition,
    id: OrderId,
) -> Result<Order, BillingError> {
    let header = order::Entity::find_by_id(id.to_string())
        .filter(condition)
        .one(conn)
        .await?
        .ok_or(BillingError::OrderNotFound)?;
    with_lines(conn, vec![header])
        .await?
        .pop()
        .ok_or(BillingError::OrderNotFound)
}

/// The orders of `headers` with their lines, in the same order.
async fn with_lines(
    conn: &impl ConnectionTrait,
    headers: Vec<order::Model>,
) -> Result<Vec<Order>, BillingError> {
    let ids: Vec<String> = headers.iter().map(|h| h.id.clone()).collect();
    let mut rows = if ids.is_empty() {
        Vec::new()
    } else {
        line::Entity::find()
            .filter(line::Column::OrderId.is_in(ids))
            .order_by_asc(line::Column::OrderId)
            .order_by_asc(line::Column::LineNo)
            .all(conn)
            .await?
    };
    let opened = if headers.is_empty() {
        Vec::new()
    } else {
        resource::Entity::find()
            .filter(resource::Column::OrderId.is_in(headers.iter().map(|h| h.id.clone())))
            .order_by_asc(resource::Column::Id)
            .all(conn)
            .await?
    };
    let mut out = Vec::with_capacity(headers.len());
    for header in headers {
        let currency = currency_of(&header)?;
        let (mine, rest): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|l| l.order_id == header.id);
        rows = rest;
        let mut lines = Vec::with_capacity(mine.len());
        for l in &mine {
            let mut priced = PricedLine::from_row(l, currency)?;
            priced.resources = opened
                .iter()
                .filter(|r| r.order_id == header.id && r.line_no == l.line_no)
                .map(|r| r.id.clone())
                .collect();
            lines.push(priced);
        }
        out.push(Order { header, lines });
    }
    Ok(out)
}

impl Billing {
    /// Whose orders `p` reaches, reading or (`manage`) changing them.
    pub(crate) async fn order_scope(
        &self,
        m: &mut Mutation,
        reseller: Option<PartnerId>,
        manage: bool,
    ) -> Result<Scope, BillingError> {
        let (scope, acting_for) = self.scope_of(&m.principal, reseller, manage).await?;
        m.acting_for = acting_for;
        Ok(scope)
    }

    pub(crate) async fn scope_of(
        &self,
        p: &Principal,
        reseller: Option<PartnerId>,
        manage: bool,
    ) -> Result<(Scope, Option<PartnerId>), BillingError> {
        if let Some(own) = p.customer_id() {
            p.require(if manage {
                SELF_ORDERS_MANAGE
            } else {
                SELF_ORDERS_READ
            })?;
            if reseller.is_some() {
                return Err(BillingError::OrderNotFound);
            }
            return Ok((Scope::Customer(own), None));
        }
        let permission = if manage { ORDERS_MANAGE } else { ORDERS_READ };
        let tenant = self
            .accounts()
            .resolve_tenant(p, permission, reseller)
            .await?;
        Ok((Scope::Partner(tenant.partner_id), tenant.acting_for()))
    }

    pub async fn get_order(
        &self,
        p: &Principal,
        id: OrderId,
        reseller: Option<PartnerId>,
    ) -> Result<pb::Order, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        Ok(order_in(self.db().conn(), scope, id).await?.to_proto()?)
    }

    pub async fn list_orders(
        &self,
        p: &Principal,
        filter: OrderFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::Order>, BillingError> {
        let (scope, _) = self.scope_of(p, filter.reseller, false).await?;
        let mut query = order::Entity::find().filter(scope.condition());
        let mut page_scope = PageScope::new(LIST_ORDERS, &scope.key());
        if let Some(c) = filter.customer {
            query = query.filter(order::Column::CustomerId.eq(c.to_string()));
            page_scope = page_scope.filter("customer", c);
        }
        if let Some(s) = filter.state {
            query = query.filter(order::Column::State.eq(s.as_str()));
            page_scope = page_scope.filter("state", s.as_str());
        }
        if let Some(t) = filter.order_type {
            query = query.filter(order::Column::OrderType.eq(t.as_str()));
            page_scope = page_scope.filter("type", t.as_str());
        }
        if let Some(service) = &filter.service_type {
            let with_line = sea_orm::sea_query::Query::select()
                .column(line::Column::OrderId)
                .from(line::Entity)
                .and_where(line::Column::ServiceType.eq(service.as_str()))
                .to_owned();
            query = query.filter(order::Column::Id.in_subquery(with_line));
            page_scope = page_scope.filter("service", service);
        }
        if let Some(start) = filter.start {
            query = query.filter(order::Column::CreatedAt.gte(start));
            page_scope = page_scope.filter("start", start.to_rfc3339());
        }
        if let Some(end) = filter.end {
            query = query.filter(order::Column::CreatedAt.lt(end));
            page_scope = page_scope.filter("end", end.to_rfc3339());
        }
        let page = self
            .page_by_id(query, order::Column::Id, &page_scope, size, token, |h| {
                h.id.clone()
            })
            .await?;
        let orders = with_lines(self.db().conn(), page.items).await?;
        Ok(Page {
            items: orders
                .iter()
                .map(Order::to_proto)
                .collect::<Result<_, _>>()?,
            next_page_token: page.next_page_token,
        })
    }
}
