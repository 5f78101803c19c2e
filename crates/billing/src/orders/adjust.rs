//! The operator's price adjustment of an order waiting for payment (the
//! vendor's order price adjustment, discount type 609): the order's final
//! total is set below its list total, the reduction becomes the order's
//! discount (shared over its lines by their list amounts), and paying the
//! order must use it — no other discount applies to it.

use partner_api::billing::v1 as pb;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{DiscountId, OrderId, PartnerId, parse_stored};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{line, order};
use super::model::{Order, OrderState};
use crate::access::PLATFORM_ORDERS_ADJUST;
use crate::error::BillingError;
use crate::service::Billing;

/// The vendor's code of an order price adjustment.
pub const VENDOR_CODE: i32 = 609;
/// How an adjustment is named among an order's discounts.
pub const NAME: &str = "Order price adjustment";

/// `total` minor units shared over lines of `lists` by their list amounts:
/// each share rounded down, then what is left a unit at a time to the first
/// lines with room. The shares sum to `total` whenever it is within the sum
/// of `lists`, and none exceeds its line.
pub fn shares(lists: &[i64], total: i64) -> Vec<i64> {
    let sum: i128 = lists.iter().map(|l| i128::from(*l)).sum();
    let mut out: Vec<i64> = lists
        .iter()
        .map(|l| {
            if sum <= 0 {
                0
            } else {
                i64::try_from(i128::from(total) * i128::from(*l) / sum).unwrap_or(0)
            }
        })
        .collect();
    let mut left = total.saturating_sub(out.iter().fold(0i64, |a, s| a.saturating_add(*s)));
    for (share, list) in out.iter_mut().zip(lists) {
        if left <= 0 {
            break;
        }
        let more = list.saturating_sub(*share).min(left).max(0);
        *share += more;
        left -= more;
    }
    out
}

/// The order `id`, whoever's it is, with its lines.
async fn any_order(conn: &impl ConnectionTrait, id: OrderId) -> Result<Order, BillingError> {
    super::read::order_where(conn, sea_orm::Condition::all(), id).await
}

impl Order {
    /// Whether a discount may still be chosen for it: none was, it is not
    /// a quote's (which keeps the quote's terms, with or without one) and
    /// not a change (priced for the days left, which a discount rated for
    /// whole periods does not fit).
    pub fn takes_a_discount(&self) -> bool {
        let h = &self.header;
        h.discount_id.is_none()
            && h.quote_id.is_none()
            && h.order_type != super::model::OrderType::Change.as_str()
    }

    /// Whether the operator adjusted its price.
    pub fn adjusted(&self) -> bool {
        self.header.adjustment_reason.is_some()
    }

    /// Its price adjustment, as the wire shows it.
    pub fn adjustment_to_proto(&self) -> Result<Option<pb::PriceAdjustment>, KernelError> {
        let h = &self.header;
        let Some(reason) = &h.adjustment_reason else {
            return Ok(None);
        };
        Ok(Some(pb::PriceAdjustment {
            amount: Some(Money::from_minor(self.currency()?, h.discount_total).to_proto()),
            reason: reason.clone(),
            adjusted_by: h.adjusted_by.clone().unwrap_or_default(),
            adjust_time: h.adjusted_at.map(partner_kernel::clock::to_proto_timestamp),
        }))
    }
}

impl Billing {
    /// Sets the final total of the order `id`, waiting for payment, to
    /// `total`.
    pub async fn adjust_order_price(
        &self,
        m: Mutation,
        id: OrderId,
        total: Money,
        reason: String,
    ) -> Result<pb::AdjustOrderPriceResponse, BillingError> {
        m.principal.require(PLATFORM_ORDERS_ADJUST)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let mut o = any_order(tx, id).await?;
                let state = o.state()?;
                if state != OrderState::PendingPayment {
                    return Err(BillingError::OrderNotPendingPayment {
                        state: state.as_str(),
                    });
                }
                if o.header.payment_deadline <= call.now {
                    return Err(BillingError::OrderNotPendingPayment {
                        state: "PAST_DEADLINE",
                    });
                }
                // A quote's discount is the partner's word: not replaced.
                if o.header.discount_id.is_some() && !o.adjusted() {
                    return Err(BillingError::OrderDiscounted);
                }
                let currency = o.currency()?;
                if total.currency() != currency || total.minor() >= o.header.list_total {
                    return Err(KernelError::Invalid(vec![FieldViolation::new(
                        "final_total",
                        format!(
                            "in {}, below the order's list total {}",
                            currency.code(),
                            Money::from_minor(currency, o.header.list_total)
                        ),
                    )])
                    .into());
                }
                let off = o.header.list_total - total.minor();
                let lists: Vec<i64> = o.lines.iter().map(|l| l.list.minor()).collect();
                let h = &mut o.header;
                h.discount_total = off;
                h.final_total = total.minor();
                h.discount_id = Some(DiscountId::generate().to_string());
                h.adjustment_reason = Some(reason.clone());
                h.adjusted_by = Some(call.principal.actor_id());
                h.adjusted_at = Some(call.now);
                let seen = h.updated_at;
                h.updated_at = call.now;
                // The order row first, as a payment takes it (then its
                // lines): a payment and an adjustment wait for each other
                // instead of deadlocking, and the one that comes second
                // finds the order changed.
                let moved = order::Entity::update_many()
                    .col_expr(order::Column::DiscountTotal, Expr::value(h.discount_total))
                    .col_expr(order::Column::FinalTotal, Expr::value(h.final_total))
                    .col_expr(
                        order::Column::DiscountId,
                        Expr::value(h.discount_id.clone()),
                    )
                    .col_expr(
                        order::Column::AdjustmentReason,
                        Expr::value(h.adjustment_reason.clone()),
                    )
                    .col_expr(
                        order::Column::AdjustedBy,
                        Expr::value(h.adjusted_by.clone()),
                    )
                    .col_expr(order::Column::AdjustedAt, Expr::value(h.adjusted_at))
                    .col_expr(order::Column::UpdatedAt, Expr::value(call.now))
                    .filter(order::Column::Id.eq(h.id.as_str()))
                    .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
                    .filter(order::Column::UpdatedAt.eq(seen))
                    .exec(tx)
                    .await?
                    .rows_affected;
                if moved != 1 {
                    let now = any_order(tx, id).await?.state()?;
                    return Err(if now == OrderState::PendingPayment {
                        BillingError::OrderChanged
                    } else {
                        BillingError::OrderNotPendingPayment {
                            state: now.as_str(),
                        }
                    });
                }
                for (i, (l, share)) in o.lines.iter_mut().zip(shares(&lists, off)).enumerate() {
                    l.discount = Money::from_minor(currency, share);
                    line::Entity::update_many()
                        .col_expr(line::Column::DiscountAmount, Expr::value(share))
                        .col_expr(
                            line::Column::FinalAmount,
                            Expr::value(l.final_amount().minor()),
                        )
                        .filter(line::Column::OrderId.eq(o.header.id.as_str()))
                        .filter(line::Column::LineNo.eq(i32::try_from(i).unwrap_or(i32::MAX)))
                        .exec(tx)
                        .await?;
                }
                let h = &o.header;
                let partner = h
                    .partner_id
                    .as_deref()
                    .map(|p| parse_stored(p, PartnerId::parse))
                    .transpose()?;
                let summary = serde_json::json!({
                    "customer_id": h.customer_id,
                    "list_total": h.list_total,
                    "final_total": h.final_total,
                    "discount_id": h.discount_id,
                    "currency": h.currency,
                    "reason": reason,
                });
                Ok(Outcome::new(
                    pb::AdjustOrderPriceResponse {
                        order: Some(o.to_proto()?),
                    },
                    Change::of(partner, &o.header.id).after(summary),
                ))
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::shares;

    #[test]
    fn a_reduction_is_shared_by_list_amount_with_the_rest_to_the_first_lines() {
        assert_eq!(shares(&[300, 100], 100), vec![75, 25]);
        assert_eq!(shares(&[1, 1, 1], 2), vec![1, 1, 0]);
        assert_eq!(shares(&[100, 0, 50], 149), vec![100, 0, 49]);
        assert_eq!(shares(&[], 0), Vec::<i64>::new());
    }

    proptest! {
        #[test]
        fn shares_sum_to_the_reduction_and_stay_within_their_lines(
            lists in prop::collection::vec(0i64..10_000_000_000, 1..20),
            fraction in 0u32..=1000,
        ) {
            let sum: i64 = lists.iter().sum();
            let total = i64::try_from(i128::from(sum) * i128::from(fraction) / 1000).unwrap_or(0);
            let out = shares(&lists, total);
            prop_assert_eq!(out.iter().sum::<i64>(), total);
            for (s, l) in out.iter().zip(&lists) {
                prop_assert!(*s >= 0 && s <= l);
            }
        }
    }
}
