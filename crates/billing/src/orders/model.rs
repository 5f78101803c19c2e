//! Orders as the domain sees them, and their wire forms.

use chrono::{DateTime, Utc};
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
        /// Changes a resource's spec or size for the rest of its paid time.
        Change = "CHANGE",
        /// Unsubscribes resources and refunds them.
        Unsubscribe = "UNSUBSCRIBE",
        /// Switches resources to on-demand charging now, refunding their
        /// paid periods as unsubscribing would.
        ToOnDemand = "TO_ON_DEMAND",
    }
);

partner_kernel::state_enum!(
    /// Which rule set a refund (docs/billing.md, "Refund matrix").
    RefundRule, "refund rule", RefundRule {
        /// Within 5 days of the resource's purchase: all paid from balance.
        FullWithin5Days = "FULL_WITHIN_5_DAYS",
        /// A period not started: all paid from balance.
        NotStarted = "NOT_STARTED",
        /// A running period: the unused part at list price less the
        /// discount and coupons, within what was paid.
        ProRata = "PRO_RATA",
        /// An ended period: nothing.
        Ended = "ENDED",
    }
);

partner_kernel::state_enum!(
    /// Where a resource is.
    ResourceStatus, "resource status", ResourceStatus {
        /// Open and paid for until its expiry (or charged on demand).
        InUse = "IN_USE",
        /// Unsubscribed, or released after its expiry.
        Closed = "CLOSED",
        /// Stopped, its data kept until the retention ends.
        Frozen = "FROZEN",
        /// Its period ended; it runs on for the grace period.
        Expired = "EXPIRED",
    }
);

partner_kernel::state_enum!(
    /// What happens to a resource when its paid period ends.
    ExpiryPolicy, "expiry policy", ExpiryPolicy {
        /// It keeps running for the grace period (`EXPIRED`), is then
        /// frozen for the retention (`FROZEN`), then released (`CLOSED`).
        Grace = "GRACE",
        /// It runs on, charged on demand.
        ToOnDemand = "TO_ON_DEMAND",
        /// It is released at once (`CLOSED`).
        Delete = "DELETE",
        /// It is frozen at once for the retention, then released.
        Freeze = "FREEZE",
    }
);

partner_kernel::state_enum!(
    /// How a resource is charged.
    ChargingMode, "charging mode", ChargingMode {
        /// Paid ahead by the month or year.
        Period = "PERIOD",
        /// Charged for what it uses (switched from a period).
        OnDemand = "ON_DEMAND",
    }
);

partner_kernel::state_enum!(
    /// Why resources are unsubscribed.
    ReasonType, "unsubscribe reason type", UnsubscribeReasonType {
        HardToUse = "HARD_TO_USE",
        DoesNotMeetNeeds = "DOES_NOT_MEET_NEEDS",
        TooComplicated = "TOO_COMPLICATED",
        UnhappyWithService = "UNHAPPY_WITH_SERVICE",
        Other = "OTHER",
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
    /// What coupons, and the payer's cash and credit, paid of it; what was
    /// refunded since.
    pub coupon: Money,
    pub paid: Money,
    pub refunded: Money,
    /// The period it bought (or, refunding, refunds).
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// For an unsubscribe order: what it refunds.
    pub refunds: Option<RefundOf>,
    /// For a change order: what it changes.
    pub changes: Option<super::change::ChangeOf>,
}

/// The paid period a line of an unsubscribe order refunds.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundOf {
    pub order: String,
    pub line_no: i32,
    pub resource: String,
    pub rule: RefundRule,
}

impl PricedLine {
    /// Whether paying it opens new resources (not a renewal's or a
    /// change's line, which act on one that exists).
    pub fn opens_resources(&self) -> bool {
        self.renews.is_none() && self.changes.is_none()
    }

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
            coupon_amount: Set(self.coupon.minor()),
            paid_amount: Set(self.paid.minor()),
            refunded_amount: Set(self.refunded.minor()),
            starts_at: Set(self.period.map(|p| p.0)),
            ends_at: Set(self.period.map(|p| p.1)),
            refunds_order_id: Set(self.refunds.as_ref().map(|r| r.order.clone())),
            refunds_line_no: Set(self.refunds.as_ref().map(|r| r.line_no)),
            refunds_resource_id: Set(self.refunds.as_ref().map(|r| r.resource.clone())),
            refund_rule: Set(self.refunds.as_ref().map(|r| r.rule.as_str().to_owned())),
            main_line_id: Set(Some(p.main_line_id.clone()).filter(|m| !m.is_empty())),
            changes_resource_id: Set(self.changes.as_ref().map(|c| c.resource.clone())),
            changes_from_spec: Set(self.changes.as_ref().map(|c| c.from_spec.clone())),
            changes_from_size: Set(self.changes.as_ref().map(|c| c.from_size)),
            changes_until: Set(self.changes.as_ref().map(|c| c.until)),
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
                main_line_id: row.main_line_id.clone().unwrap_or_default(),
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
            coupon: Money::from_minor(currency, row.coupon_amount),
            paid: Money::from_minor(currency, row.paid_amount),
            refunded: Money::from_minor(currency, row.refunded_amount),
            period: row.starts_at.zip(row.ends_at),
            refunds: refund_of(row)?,
            changes: change_of(row),
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
            coupon_amount: Some(self.coupon.to_proto()),
            paid_amount: Some(self.paid.to_proto()),
            refunded_amount: Some(self.refunded.to_proto()),
            effective_time: self.period.map(|p| to_proto_timestamp(p.0)),
            expire_time: self.period.map(|p| to_proto_timestamp(p.1)),
            changes_resource_id: self
                .changes
                .as_ref()
                .map(|c| c.resource.clone())
                .unwrap_or_default(),
            refund: self.refunds.as_ref().map(|r| pb::LineRefund {
                original_order_id: r.order.clone(),
                original_line_no: r.line_no,
                resource_id: r.resource.clone(),
                rule: r.rule.to_proto() as i32,
            }),
        }
    }
}

fn change_of(row: &line::Model) -> Option<super::change::ChangeOf> {
    let (Some(resource), Some(from_spec), Some(from_size), Some(until)) = (
        &row.changes_resource_id,
        &row.changes_from_spec,
        row.changes_from_size,
        row.changes_until,
    ) else {
        return None;
    };
    Some(super::change::ChangeOf {
        resource: resource.clone(),
        from_spec: from_spec.clone(),
        from_size,
        until,
    })
}

fn refund_of(row: &line::Model) -> Result<Option<RefundOf>, KernelError> {
    let (Some(order), Some(line_no), Some(resource), Some(rule)) = (
        &row.refunds_order_id,
        row.refunds_line_no,
        &row.refunds_resource_id,
        &row.refund_rule,
    ) else {
        return Ok(None);
    };
    Ok(Some(RefundOf {
        order: order.clone(),
        line_no,
        resource: resource.clone(),
        rule: RefundRule::parse(rule)?,
    }))
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
            refund_total: money(
                self.lines
                    .iter()
                    .filter(|l| l.refunds.is_some())
                    .fold(0i64, |a, l| a.saturating_add(l.refunded.minor())),
            ),
            original_order_ids: self.originals(),
            unsubscribe_reason_type: h
                .reason_type
                .as_deref()
                .map(ReasonType::parse)
                .transpose()?
                .map_or(0, |r| r.to_proto() as i32),
            price_adjustment: self.adjustment_to_proto()?,
        })
    }

    /// The orders an unsubscribe order refunds, each once, in line order.
    pub fn originals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.lines.iter().filter_map(|l| l.refunds.as_ref()) {
            if !out.contains(&r.order) {
                out.push(r.order.clone());
            }
        }
        out
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
