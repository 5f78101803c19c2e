//! Creating an order: priced first (the rating in force at list price, or
//! the quote's kept prices and discount), then written under the buyer's
//! row lock, where the customer's freeze and budget are checked against
//! every other order waiting for payment.

use partner_accounts::tenant::resolve_in;
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_customers::budgets::store as budget_store;
use partner_customers::customers::model::FreezeMode;
use partner_customers::customers::store as customer_store;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, OrderId, PartnerId, QuoteId, ResourceId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use partner_pricing::rating::Purpose;
use partner_pricing::rating::grpc::period_response;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};

use super::entity::{line, order};
use super::model::{Order, OrderState, OrderType, PricedLine};
use crate::access::{ORDERS_MANAGE, SELF_ORDERS_MANAGE};
use crate::error::BillingError;
use crate::service::Billing;

/// What the order buys.
#[derive(Debug, Clone)]
pub enum Source {
    /// Product lines, already parsed (1 to 100, unique ids).
    Lines(Vec<(partner_pricing::rating::Line, pricing_pb::PeriodProductLine)>),
    /// One of the customer's active quotes.
    Quote(QuoteId),
    /// A change of one of the customer's resources to another spec or size.
    Change {
        resource: ResourceId,
        to: super::change::ChangeTo,
    },
    /// Renewals of the customer's resources for `count` periods of `unit`.
    Renewal {
        resources: Vec<ResourceId>,
        unit: pricing_pb::PeriodUnit,
        count: i32,
        /// For an auto-renewal: the period it pays (one live order each).
        auto_renew_key: Option<String>,
    },
}

/// An order to create.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer: Option<CustomerId>,
    pub source: Source,
    pub reseller: Option<PartnerId>,
}

/// Who buys, as the caller is allowed to.
#[derive(Debug, Clone, Copy)]
enum Buyer {
    /// A customer for itself.
    Itself(CustomerId),
    /// A partner (its own, or its reseller acted for) for its customer.
    Partner {
        own: PartnerId,
        reseller: Option<PartnerId>,
        customer: CustomerId,
    },
}

impl Buyer {
    fn customer(self) -> CustomerId {
        match self {
            Buyer::Itself(c) | Buyer::Partner { customer: c, .. } => c,
        }
    }
}

/// The priced order, before it is written.
struct Priced {
    currency: Currency,
    lines: Vec<PricedLine>,
    catalog_version: i64,
    quote: Option<QuoteId>,
    /// The partner the quote was made by: the buyer's partner must still be it.
    quote_partner: Option<String>,
    discount: Option<String>,
    /// What the order does.
    order_type: OrderType,
    auto_renew_key: Option<String>,
}

fn money(raw: Option<&partner_api::r#type::v1::Money>) -> Result<Money, BillingError> {
    let raw = raw.ok_or_else(|| KernelError::Corrupt("a rating without an amount".into()))?;
    Ok(Money::from_proto(raw)
        .map_err(|e| KernelError::Corrupt(format!("a rating's amount: {e}")))?)
}

/// Lines and their rating (list prices), with the discount chosen by a
/// quote, as order lines.
fn priced(
    products: Vec<pricing_pb::PeriodProductLine>,
    rating: &pricing_pb::RatePeriodProductsResponse,
    discount: Option<&pricing_pb::DiscountResult>,
) -> Result<Priced, BillingError> {
    let currency = money(rating.list_total.as_ref())?.currency();
    let mut lines = Vec::with_capacity(products.len());
    for (product, rated) in products.into_iter().zip(&rating.lines) {
        let list = money(rated.list_amount.as_ref())?;
        let off = match discount.and_then(|d| d.lines.iter().find(|l| l.line_id == rated.line_id)) {
            Some(l) => money(l.discount_amount.as_ref())?,
            None => Money::zero(currency),
        };
        lines.push(PricedLine {
            product,
            unit_price: rated.unit_price.clone().unwrap_or_default(),
            list,
            discount: off,
            resources: Vec::new(),
            failure: None,
            renews: None,
            coupon: Money::zero(currency),
            paid: Money::zero(currency),
            refunded: Money::zero(currency),
            period: None,
            refunds: None,
            changes: None,
        });
    }
    Ok(Priced {
        currency,
        lines,
        catalog_version: rating.catalog_version,
        quote: None,
        quote_partner: None,
        discount: discount.map(|d| d.discount_id.clone()),
        order_type: OrderType::NewPurchase,
        auto_renew_key: None,
    })
}

impl Billing {
    /// Who buys for whom, or why the caller may not.
    async fn buyer(&self, m: &mut Mutation, cmd: &NewOrder) -> Result<Buyer, BillingError> {
        if let Some(own) = m.principal.customer_id() {
            m.principal.require(SELF_ORDERS_MANAGE)?;
            if cmd.customer.is_some_and(|c| c != own) || cmd.reseller.is_some() {
                return Err(BillingError::CustomerNotFound);
            }
            return Ok(Buyer::Itself(own));
        }
        let own = m.principal.require_partner(ORDERS_MANAGE)?;
        let customer = cmd.customer.ok_or(BillingError::CustomerRequired)?;
        let tenant = self
            .accounts()
            .resolve_tenant(&m.principal, ORDERS_MANAGE, cmd.reseller)
            .await?;
        m.acting_for = tenant.acting_for();
        Ok(Buyer::Partner {
            own,
            reseller: cmd.reseller,
            customer,
        })
    }

    /// Prices the order as the caller may see it.
    async fn price(
        &self,
        p: &Principal,
        customer: CustomerId,
        source: Source,
        acting: Option<PartnerId>,
    ) -> Result<Priced, BillingError> {
        match source {
            Source::Lines(lines) => {
                let (parsed, products): (Vec<_>, Vec<_>) = lines.into_iter().unzip();
                let rating = self
                    .pricing()
                    .rate_period_acting(p, &parsed, Some(customer), Purpose::Purchase, acting)
                    .await?;
                let response = period_response(rating, &parsed, false).map_err(|_| {
                    KernelError::Invalid(vec![partner_kernel::error::FieldViolation::new(
                        "lines",
                        "the total is too large",
                    )])
                })?;
                priced(products, &response, None)
            }
            Source::Renewal {
                resources,
                unit,
                count,
                auto_renew_key,
            } => {
                let (lines, rating) = self
                    .rate_renewal(p, customer, &resources, (unit, count), acting)
                    .await?;
                let ids: Vec<String> = lines.iter().map(|l| l.line_id.clone()).collect();
                let mut out = priced(lines, &rating, None)?;
                for (l, id) in out.lines.iter_mut().zip(ids) {
                    l.renews = Some(id);
                }
                out.order_type = OrderType::Renewal;
                out.auto_renew_key = auto_renew_key;
                Ok(out)
            }
            Source::Change { resource, to } => {
                let planned = self.plan_change(p, customer, resource, &to, acting).await?;
                Ok(Priced {
                    currency: planned.currency,
                    lines: vec![planned.line],
                    catalog_version: planned.catalog_version,
                    quote: None,
                    quote_partner: None,
                    discount: None,
                    order_type: OrderType::Change,
                    auto_renew_key: None,
                })
            }
            Source::Quote(id) => {
                let quote = self.pricing().get_quote(p, id).await?;
                if quote.customer_id != customer.to_string() {
                    return Err(partner_pricing::PricingError::QuoteNotFound.into());
                }
                if quote.state() != pricing_pb::QuoteState::Active {
                    return Err(BillingError::QuoteExpired);
                }
                let rating = quote.rating.clone().unwrap_or_default();
                let discount = rating
                    .discount_results
                    .iter()
                    .find(|d| !quote.discount_id.is_empty() && d.discount_id == quote.discount_id);
                let mut out = priced(quote.lines.clone(), &rating, discount)?;
                out.quote = Some(id);
                out.quote_partner = Some(quote.partner_id.clone());
                Ok(out)
            }
        }
    }

    pub async fn create_order(
        &self,
        mut m: Mutation,
        cmd: NewOrder,
    ) -> Result<pb::CreateOrderResponse, BillingError> {
        let buyer = self.buyer(&mut m, &cmd).await?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let customer = buyer.customer();
        let acting = match buyer {
            Buyer::Partner { reseller, .. } => reseller,
            Buyer::Itself(_) => None,
        };
        let priced = self
            .price(&m.principal, customer, cmd.source, acting)
            .await?;
        let window = self.payment_window();
        let month = self.customers().budget_month(m.now);
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = lock_buyer(tx, buyer).await?;
                // A quote from a partner the customer has since left is not its.
                if let Some(q) = &priced.quote_partner
                    && partner.map(|p| p.to_string()).as_ref() != Some(q)
                {
                    return Err(partner_pricing::PricingError::QuoteNotFound.into());
                }
                let order = new_order(&call, customer, partner, priced, window);
                within_budget(tx, partner, &order, month).await?;
                write_order(tx, &order).await?;
                Ok(Outcome::new(
                    pb::CreateOrderResponse {
                        order: Some(order.to_proto()?),
                    },
                    Change::of(partner, &order.header.id).after(order.audit_summary()),
                ))
            })
        })
        .await
    }
}

/// Locks the buyer's row (again inside the write: a reseller link suspended
/// or the customer gone meanwhile stops the order) and refuses a frozen
/// buyer; the buyer's partner.
async fn lock_buyer(
    tx: &DatabaseTransaction,
    buyer: Buyer,
) -> Result<Option<PartnerId>, BillingError> {
    let found = match buyer {
        Buyer::Itself(own) => customer_store::platform_customer_for_update(tx, own)
            .await?
            .map(|(c, _)| c),
        Buyer::Partner {
            own,
            reseller,
            customer,
        } => {
            let partner = resolve_in(tx, own, reseller).await?.partner_id;
            customer_store::customer_of_for_update(tx, partner, customer).await?
        }
    }
    .ok_or(BillingError::CustomerNotFound)?;
    if found.freeze_mode != FreezeMode::None {
        return Err(BillingError::CustomerFrozen);
    }
    Ok(found.partner_id)
}

fn new_order(
    m: &Mutation,
    customer: CustomerId,
    partner: Option<PartnerId>,
    priced: Priced,
    window: chrono::Duration,
) -> Order {
    let sum =
        |f: fn(&PricedLine) -> i64| priced.lines.iter().map(f).fold(0i64, i64::saturating_add);
    let header = order::Model {
        id: OrderId::generate().to_string(),
        partner_id: partner.map(|p| p.to_string()),
        customer_id: customer.to_string(),
        order_type: priced.order_type.as_str().to_owned(),
        state: OrderState::PendingPayment.as_str().to_owned(),
        currency: priced.currency.code().to_owned(),
        list_total: sum(|l| l.list.minor()),
        discount_total: sum(|l| l.discount.minor()),
        final_total: sum(|l| l.final_amount().minor()),
        quote_id: priced.quote.map(|q| q.to_string()),
        discount_id: priced.discount,
        catalog_version: priced.catalog_version,
        created_by: m.principal.actor_id(),
        created_at: m.now,
        payment_deadline: m.now + window,
        closed_at: None,
        cancel_reason: String::new(),
        coupon_total: 0,
        paid_total: 0,
        agreement_id: None,
        paid_at: None,
        completed_at: None,
        updated_at: m.now,
        reason_type: None,
        auto_renew_key: priced.auto_renew_key,
        adjustment_reason: None,
        adjusted_by: None,
        adjusted_at: None,
    };
    Order {
        header,
        lines: priced.lines,
    }
}

/// Refuses an order the customer's budget cannot hold in `month` beside
/// the orders already waiting for payment (which it counts from their
/// creation).
async fn within_budget(
    tx: &DatabaseTransaction,
    partner: Option<PartnerId>,
    o: &Order,
    month: chrono::NaiveDate,
) -> Result<(), BillingError> {
    let Some(partner) = partner else {
        return Ok(());
    };
    let customer = o.header.customer_id.as_str();
    let id = partner_kernel::ids::parse_stored(customer, CustomerId::parse)?;
    let Some(budget) = budget_store::budget_of(tx, partner, id, month).await? else {
        return Ok(());
    };
    let remaining = budget.remaining();
    if remaining.currency().code() != o.header.currency {
        return Ok(());
    }
    // A customer has few orders waiting at once: summed here, which keeps
    // SUM's type (NUMERIC on PostgreSQL) out of the way.
    let waiting: Vec<i64> = order::Entity::find()
        .select_only()
        .column(order::Column::FinalTotal)
        .filter(order::Column::CustomerId.eq(customer))
        .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
        .filter(order::Column::Currency.eq(o.header.currency.as_str()))
        .into_tuple()
        .all(tx)
        .await?;
    let waiting = waiting.into_iter().fold(0i64, i64::saturating_add);
    let left = remaining.minor().saturating_sub(waiting);
    if o.header.final_total > left {
        return Err(BillingError::BudgetExceeded {
            left: Money::from_minor(remaining.currency(), left.max(0)),
        });
    }
    Ok(())
}

pub(crate) async fn write_order(tx: &DatabaseTransaction, o: &Order) -> Result<(), BillingError> {
    order::Entity::insert(order::ActiveModel {
        id: Set(o.header.id.clone()),
        partner_id: Set(o.header.partner_id.clone()),
        customer_id: Set(o.header.customer_id.clone()),
        order_type: Set(o.header.order_type.clone()),
        state: Set(o.header.state.clone()),
        currency: Set(o.header.currency.clone()),
        list_total: Set(o.header.list_total),
        discount_total: Set(o.header.discount_total),
        final_total: Set(o.header.final_total),
        quote_id: Set(o.header.quote_id.clone()),
        discount_id: Set(o.header.discount_id.clone()),
        catalog_version: Set(o.header.catalog_version),
        created_by: Set(o.header.created_by.clone()),
        created_at: Set(o.header.created_at),
        payment_deadline: Set(o.header.payment_deadline),
        closed_at: Set(o.header.closed_at),
        cancel_reason: Set(o.header.cancel_reason.clone()),
        coupon_total: Set(o.header.coupon_total),
        paid_total: Set(o.header.paid_total),
        agreement_id: Set(o.header.agreement_id.clone()),
        paid_at: Set(o.header.paid_at),
        completed_at: Set(o.header.completed_at),
        updated_at: Set(o.header.updated_at),
        reason_type: Set(o.header.reason_type.clone()),
        auto_renew_key: Set(o.header.auto_renew_key.clone()),
        adjustment_reason: Set(o.header.adjustment_reason.clone()),
        adjusted_by: Set(o.header.adjusted_by.clone()),
        adjusted_at: Set(o.header.adjusted_at),
    })
    .exec_without_returning(tx)
    .await?;
    let rows: Vec<line::ActiveModel> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| l.row(&o.header.id, i32::try_from(i).unwrap_or(i32::MAX)))
        .collect();
    line::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}
