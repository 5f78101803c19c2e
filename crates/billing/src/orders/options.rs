//! What could pay an order: the discounts in force for its customer (each
//! with its share of every line, at the order's list prices) and the
//! customer's coupons usable on it now. `PayOrder` takes its discount from
//! the same computation, so what is listed is what paying does.

use partner_api::billing::v1 as pb;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, OrderId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::principal::Principal;
use partner_pricing::discounts::apply::{Priced, offers};
use partner_pricing::rating::Purpose;
use partner_pricing::rating::grpc::line;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::model::{Order, OrderState, PricedLine};
use super::pay::{MAX_COUPONS, covers};
use super::read::order_in;
use crate::coupons::entity::coupon;
use crate::coupons::model::{Coupon, Stored};
use crate::entity::ledger_account as account;
use crate::error::BillingError;
use crate::ledger::Kind;
use crate::service::Billing;

/// One discount under which the order could be paid.
#[derive(Debug, Clone)]
pub(crate) struct OrderOffer {
    pub discount_id: String,
    pub vendor_code: i32,
    pub name: String,
    /// Its share of each line, in line order.
    pub offs: Vec<Money>,
    pub off_total: Money,
    pub final_total: Money,
    pub best: bool,
}

impl Billing {
    /// The discounts in force for the order's customer now, each applied
    /// to the order's lines at their list prices; best first.
    pub(crate) async fn order_offers(
        &self,
        p: &Principal,
        o: &Order,
    ) -> Result<Vec<OrderOffer>, BillingError> {
        let customer = partner_kernel::ids::parse_stored(&o.header.customer_id, CustomerId::parse)?;
        // A partner that reached the order (its own, or its reseller's it
        // acts for) rates as the order's partner.
        let acting = match (p.customer_id(), &o.header.partner_id) {
            (None, Some(partner)) => Some(partner_kernel::ids::parse_stored(
                partner,
                PartnerId::parse,
            )?),
            _ => None,
        };
        // The stored lines, parsed as a rating request parses them.
        let mut v = partner_kernel::validate::Violations::new();
        let lines: Vec<partner_pricing::rating::Line> = o
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| line(&mut v, i, &l.product))
            .collect();
        if lines.len() != o.lines.len() {
            return Err(
                KernelError::Corrupt(format!("order {}: unreadable lines", o.header.id)).into(),
            );
        }
        let rating = self
            .pricing()
            .rate_period_acting(p, &lines, Some(customer), Purpose::Purchase, acting)
            .await?;
        let priced: Vec<Priced<'_>> = o
            .lines
            .iter()
            .map(|l| Priced {
                service_type: &l.product.service_type,
                resource_type: &l.product.resource_type,
                list: l.list,
            })
            .collect();
        let all =
            offers(&rating.discounts, &priced, false).map_err(|_| BillingError::BalanceLimit)?;
        Ok(all
            .iter()
            .map(|offer| OrderOffer {
                discount_id: offer.discount.id.to_string(),
                vendor_code: offer.discount.kind.vendor_code(),
                name: offer.discount.name.clone(),
                offs: offer.lines.iter().map(|l| l.off).collect(),
                off_total: offer.off_total,
                final_total: offer.final_total,
                best: offer.best,
            })
            .collect())
    }

    pub async fn list_order_discounts(
        &self,
        p: &Principal,
        id: OrderId,
        reseller: Option<PartnerId>,
    ) -> Result<pb::ListOrderDiscountsResponse, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let o = order_in(self.db().conn(), scope, id).await?;
        if o.adjusted() && o.state()? == OrderState::PendingPayment {
            let currency = o.currency()?;
            return Ok(pb::ListOrderDiscountsResponse {
                discounts: vec![pb::OrderDiscount {
                    discount_id: o.header.discount_id.clone().unwrap_or_default(),
                    vendor_code: super::adjust::VENDOR_CODE,
                    name: super::adjust::NAME.to_owned(),
                    discount_amount: Some(
                        Money::from_minor(currency, o.header.discount_total).to_proto(),
                    ),
                    final_amount: Some(
                        Money::from_minor(currency, o.header.final_total).to_proto(),
                    ),
                    best_offer: true,
                    mandatory: true,
                }],
            });
        }
        let open = o.state()? == OrderState::PendingPayment && o.takes_a_discount();
        if !open {
            return Ok(pb::ListOrderDiscountsResponse::default());
        }
        let discounts = self
            .order_offers(p, &o)
            .await?
            .into_iter()
            .filter(|offer| offer.off_total.is_positive())
            .map(|offer| pb::OrderDiscount {
                discount_id: offer.discount_id,
                vendor_code: offer.vendor_code,
                name: offer.name,
                discount_amount: Some(offer.off_total.to_proto()),
                final_amount: Some(offer.final_total.to_proto()),
                best_offer: offer.best,
                mandatory: false,
            })
            .collect();
        Ok(pb::ListOrderDiscountsResponse { discounts })
    }

    pub async fn list_order_coupons(
        &self,
        p: &Principal,
        id: OrderId,
        reseller: Option<PartnerId>,
    ) -> Result<pb::ListOrderCouponsResponse, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let o = order_in(self.db().conn(), scope, id).await?;
        let mut out = pb::ListOrderCouponsResponse {
            coupons: Vec::new(),
            max_coupons: i32::try_from(MAX_COUPONS).unwrap_or(3),
        };
        let now = self.clock().now();
        if o.state()? != OrderState::PendingPayment || o.header.payment_deadline <= now {
            return Ok(out);
        }
        let rows = coupon::Entity::find()
            .filter(coupon::Column::CustomerId.eq(o.header.customer_id.as_str()))
            .filter(coupon::Column::PartnerId.eq(o.header.partner_id.clone()))
            .filter(coupon::Column::State.eq(Stored::Open.as_str()))
            .filter(coupon::Column::Currency.eq(o.header.currency.as_str()))
            .filter(coupon::Column::ValidFrom.lte(now))
            .filter(coupon::Column::ValidUntil.gt(now))
            .order_by_asc(coupon::Column::ValidUntil)
            .all(self.db().conn())
            .await?;
        let accounts = account::Entity::find()
            .filter(account::Column::OwnerId.is_in(rows.iter().map(|r| r.id.clone())))
            .filter(account::Column::Kind.eq(Kind::CouponLiability.as_str()))
            .all(self.db().conn())
            .await?;
        for row in &rows {
            let c = Coupon::from_row(row)?;
            let Some(a) = accounts.iter().find(|a| a.owner_id == row.id) else {
                continue;
            };
            let covered = o
                .lines
                .iter()
                .filter(|l| covers(&c, l))
                .map(PricedLine::final_amount)
                .fold(0i64, |sum, m| sum.saturating_add(m.minor()));
            let usable = a.balance.saturating_sub(a.pending).min(covered);
            if usable > 0 {
                out.coupons.push(pb::OrderCoupon {
                    coupon: Some(c.to_proto(a.balance, now)),
                    usable_amount: Some(
                        Money::from_minor(c.face_value.currency(), usable).to_proto(),
                    ),
                });
            }
        }
        Ok(out)
    }
}
