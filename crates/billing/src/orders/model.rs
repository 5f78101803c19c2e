//! Orders as the domain sees them, and their wire forms.

use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_api::r#type::v1 as money_pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::money::{Currency, Money};
use sea_orm::Set;

use super::entity::{line, order};

partner_kernel::state_enum!(
    /// What an order does.
    OrderType, "order type", OrderType {
        /// Buys new resources.
        NewPurchase = "NEW_PURCHASE",
        /// Renews resources for more periods.
        Renewal = "RENEWAL",
    }
);

partner_kernel::state_enum!(
    /// Where an order is.
    OrderState, "order state", OrderState {
        /// Waiting for payment until its deadline.
        PendingPayment = "PENDING_PAYMENT",
        /// Cancelled by the buyer, or its deadline passed.
        Cancelled = "CANCELLED",
        /// Paid (the money held); its resources are being opened.
        Processing = "PROCESSING",
        /// Its resources are open and the money taken.
        Completed = "COMPLETED",
    }
);

/// One priced line, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub product: pricing_pb::PeriodProductLine,
    pub unit_price: money_pb::Money,
    pub list: Money,
    pub discount: Money,
    /// The resources it opened (read back; not stored with the line).
    pub resources: Vec<String>,
    /// Why its resources could not be opened (it was charged nothing).
    pub failure: Option<String>,
    /// For a renewal: the resource it renews.
    pub renews: Option<String>,
}

impl PricedLine {
    pub fn final_amount(&self) -> Money {
        Money::from_minor(
            self.list.currency(),
            self.list.minor().saturating_sub(self.discount.minor()),
        )
    }

    pub fn row(&self, order: &str, line_no: i32) -> line::ActiveModel {
        let p = &self.product;
        let unit = pricing_pb::PeriodUnit::try_from(p.period_unit)
            .unwrap_or(pricing_pb::PeriodUnit::Unspecified);
        line::ActiveModel {
            order_id: Set(order.to_owned()),
            line_no: Set(line_no),
            line_id: Set(p.line_id.clone()),
            service_type: Set(p.service_type.clone()),
            resource_type: Set(p.resource_type.clone()),
            spec: Set(p.spec.clone()),
            region: Set(p.region.clone()),
            zone: Set(p.zone.clone()),
            size: Set(p.size),
            period_unit: Set(unit.as_str_name().to_owned()),
            period_count: Set(p.period_count),
            quantity: Set(p.quantity),
            unit_price_units: Set(self.unit_price.units),
            unit_price_nanos: Set(self.unit_price.nanos),
            list_amount: Set(self.list.minor()),
            discount_amount: Set(self.discount.minor()),
            final_amount: Set(self.final_amount().minor()),
            failure: Set(self.failure.clone()),
            renews_resource_id: Set(self.renews.clone()),
        }
    }

    pub fn from_row(row: &line::Model, currency: Currency) -> Result<Self, KernelError> {
        let unit = pricing_pb::PeriodUnit::from_str_name(&row.period_unit).ok_or_else(|| {
            KernelError::Corrupt(format!(
                "order {} period unit {:?}",
                row.order_id, row.period_unit
            ))
        })?;
        Ok(Self {
            product: pricing_pb::PeriodProductLine {
                line_id: row.line_id.clone(),
                service_type: row.service_type.clone(),
                resource_type: row.resource_type.clone(),
                spec: row.spec.clone(),
                region: row.region.clone(),
                zone: row.zone.clone(),
                size: row.size,
                period_unit: unit as i32,
                period_count: row.period_count,
                quantity: row.quantity,
            },
            unit_price: money_pb::Money {
                currency_code: currency.code().to_owned(),
                units: row.unit_price_units,
                nanos: row.unit_price_nanos,
            },
            list: Money::from_minor(currency, row.list_amount),
            discount: Money::from_minor(currency, row.discount_amount),
            resources: Vec::new(),
            failure: row.failure.clone(),
            renews: row.renews_resource_id.clone(),
        })
    }

    fn to_proto(&self) -> pb::OrderLine {
        pb::OrderLine {
            product: Some(self.product.clone()),
            unit_price: Some(self.unit_price.clone()),
            list_amount: Some(self.list.to_proto()),
            discount_amount: Some(self.discount.to_proto()),
            final_amount: Some(self.final_amount().to_proto()),
            resource_ids: self.resources.clone(),
            failure_reason: self.failure.clone().unwrap_or_default(),
            renews_resource_id: self.renews.clone().unwrap_or_default(),
        }
    }
}

/// An order and its lines.
#[derive(Debug, Clone)]
pub struct Order {
    pub header: order::Model,
    pub lines: Vec<PricedLine>,
}

impl Order {
    pub fn currency(&self) -> Result<Currency, KernelError> {
        currency_of(&self.header)
    }

    pub fn state(&self) -> Result<OrderState, KernelError> {
        OrderState::parse(&self.header.state)
    }

    pub fn to_proto(&self) -> Result<pb::Order, KernelError> {
        let h = &self.header;
        let currency = self.currency()?;
        let money = |minor| Some(Money::from_minor(currency, minor).to_proto());
        Ok(pb::Order {
            id: h.id.clone(),
            customer_id: h.customer_id.clone(),
            partner_id: h.partner_id.clone().unwrap_or_default(),
            r#type: OrderType::parse(&h.order_type)?.to_proto() as i32,
            state: OrderState::parse(&h.state)?.to_proto() as i32,
            lines: self.lines.iter().map(PricedLine::to_proto).collect(),
            list_total: money(h.list_total),
            discount_total: money(h.discount_total),
            final_total: money(h.final_total),
            quote_id: h.quote_id.clone().unwrap_or_default(),
            discount_id: h.discount_id.clone().unwrap_or_default(),
            catalog_version: h.catalog_version,
            created_by: h.created_by.clone(),
            create_time: Some(to_proto_timestamp(h.created_at)),
            payment_deadline: Some(to_proto_timestamp(h.payment_deadline)),
            cancel_time: h.closed_at.map(to_proto_timestamp),
            cancel_reason: h.cancel_reason.clone(),
            coupon_total: money(h.coupon_total),
            paid_total: money(h.paid_total),
            pay_time: h.paid_at.map(to_proto_timestamp),
            complete_time: h.completed_at.map(to_proto_timestamp),
            payment_agreement_id: h.agreement_id.clone().unwrap_or_default(),
        })
    }

    pub fn audit_summary(&self) -> serde_json::Value {
        let h = &self.header;
        serde_json::json!({
            "customer_id": h.customer_id,
            "state": h.state,
            "type": h.order_type,
            "final_total": h.final_total,
            "currency": h.currency,
            "lines": self.lines.len(),
            "quote_id": h.quote_id,
        })
    }
}

pub fn currency_of(h: &order::Model) -> Result<Currency, KernelError> {
    Currency::parse(&h.currency).map_err(|e| KernelError::Corrupt(format!("order {}: {e}", h.id)))
}
