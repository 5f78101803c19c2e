//! Changing a resource's spec or size for the rest of its paid time: a
//! CHANGE order (vendor order type 3) priced at creation as the difference
//! of one period's list price, new less old, for the whole days left (hours
//! for an hourly resource) out of the days a period counts (30 a month, 365
//! a year), rounded half-up. Only upgrades are sold: a change that costs
//! nothing or less is refused. Paying it changes the resource — if it is
//! still as it was priced (same spec, size and expiry, in use) — and the
//! line records the period it paid for, which unsubscribing refunds like
//! any other. A preview runs the same pricing.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_pricing::rating::Purpose;
use partner_pricing::rating::grpc::line;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::resource;
use super::model::{ChargingMode, PricedLine, ResourceStatus};
use super::read::Scope;
use super::renewal::{of_one_customer, product};
use super::{NewOrder, Source};
use crate::error::BillingError;
use crate::service::Billing;
use partner_customers::customers::store as customer_store;

/// What a resource changes to: a spec (empty: its own) and a size (0: its
/// own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTo {
    pub spec: String,
    pub size: i64,
}

/// What a change line changes, as it was when priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOf {
    pub resource: String,
    pub from_spec: String,
    pub from_size: i64,
    /// The resource's expiry: the end of what the change pays for.
    pub until: DateTime<Utc>,
}

/// A priced change.
pub(crate) struct Planned {
    pub line: PricedLine,
    pub currency: Currency,
    pub catalog_version: i64,
    pub before: Money,
    pub after: Money,
    pub left: i64,
    pub per_period: i64,
}

/// Whole units left until `until` at `now` (days, or hours for an hourly
/// resource; a part counts whole), and how many units one period counts.
pub fn time_left(
    unit: pricing_pb::PeriodUnit,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> (i64, i64) {
    let secs = (until - now).num_seconds().max(0);
    let whole = |per: i64| (secs + per - 1) / per;
    match unit {
        pricing_pb::PeriodUnit::Hour => (whole(3_600), 1),
        pricing_pb::PeriodUnit::Day => (whole(86_400), 1),
        pricing_pb::PeriodUnit::Year => (whole(86_400), 365),
        pricing_pb::PeriodUnit::Month | pricing_pb::PeriodUnit::Unspecified => (whole(86_400), 30),
    }
}

/// What a change costs in minor units: `(after − before) × left ÷ per`,
/// rounded half-up (for an upgrade, where `after > before`).
pub fn charge(before: i64, after: i64, left: i64, per: i64) -> i64 {
    let scaled = (i128::from(after) - i128::from(before)) * i128::from(left);
    let per = i128::from(per.max(1));
    i64::try_from((scaled + per / 2) / per).unwrap_or(i64::MAX)
}

fn rated_amount(
    rating: &partner_pricing::service::PeriodRating,
    i: usize,
) -> Result<Money, BillingError> {
    rating
        .lines
        .get(i)
        .map(|l| l.list_amount)
        .ok_or_else(|| KernelError::Corrupt("a rating without its line".into()).into())
}

/// Changes the resource a paid change line changes, if it is still as it
/// was priced: the period the line paid for, or why it could not.
pub(crate) async fn apply(
    conn: &impl ConnectionTrait,
    customer: &str,
    c: &ChangeOf,
    to: &pricing_pb::PeriodProductLine,
    now: DateTime<Utc>,
) -> Result<Result<(DateTime<Utc>, DateTime<Utc>), String>, BillingError> {
    let changed = resource::Entity::update_many()
        .col_expr(resource::Column::Spec, Expr::value(to.spec.as_str()))
        .col_expr(resource::Column::Size, Expr::value(to.size))
        .col_expr(resource::Column::UpdatedAt, Expr::value(now))
        .filter(resource::Column::Id.eq(c.resource.as_str()))
        .filter(resource::Column::CustomerId.eq(customer))
        .filter(resource::Column::Status.eq(ResourceStatus::InUse.as_str()))
        .filter(resource::Column::ChargingMode.eq(ChargingMode::Period.as_str()))
        .filter(resource::Column::Spec.eq(c.from_spec.as_str()))
        .filter(resource::Column::Size.eq(c.from_size))
        .filter(resource::Column::ExpiresAt.eq(c.until))
        .filter(resource::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(Err(format!(
            "resource {} changed since the order was priced (its spec, size, expiry or status)",
            c.resource
        )));
    }
    Ok(Ok((now, c.until)))
}

impl Billing {
    /// Prices changing the resource `id` of `customer` to `to` at `now`.
    pub(crate) async fn plan_change(
        &self,
        p: &Principal,
        customer: CustomerId,
        id: ResourceId,
        to: &ChangeTo,
        acting: Option<PartnerId>,
    ) -> Result<Planned, BillingError> {
        let now = self.clock().now();
        let (_, rows) =
            of_one_customer(self.db().conn(), Scope::Customer(customer), &[id], true).await?;
        let r = rows
            .into_iter()
            .next()
            .ok_or(BillingError::ResourceNotFound)?;
        if r.status != ResourceStatus::InUse.as_str() || r.expires_at <= now {
            return Err(BillingError::ResourceNotInUse);
        }
        // Bought under a partner the customer has since left: the new
        // partner changes nothing of it (it could never refund the change).
        let now_with = customer_store::platform_customer(self.db().conn(), customer)
            .await?
            .ok_or(BillingError::ResourceNotFound)?
            .partner_id;
        if r.partner_id != now_with.map(|p| p.to_string()) {
            return Err(BillingError::ResourceNotFound);
        }
        let unit = pricing_pb::PeriodUnit::from_str_name(&r.period_unit)
            .ok_or_else(|| KernelError::Corrupt(format!("resource {} period unit", r.id)))?;
        let mut after = product(&r, unit, 1);
        if !to.spec.is_empty() {
            after.spec = to.spec.clone();
        }
        if to.size != 0 {
            after.size = to.size;
        }
        after.main_line_id = String::new();
        if (after.spec.as_str(), after.size) == (r.spec.as_str(), r.size) {
            return Err(KernelError::Invalid(vec![FieldViolation::new(
                "spec",
                "a spec or size other than the resource's",
            )])
            .into());
        }
        let mut before = product(&r, unit, 1);
        before.line_id = format!("{}-before", r.id);
        before.main_line_id = String::new();
        let mut v = partner_kernel::validate::Violations::new();
        let parsed: Vec<_> = [&after, &before]
            .iter()
            .enumerate()
            .filter_map(|(i, l)| line(&mut v, i, l))
            .collect();
        let parsed = v.finish_with((parsed.len() == 2).then_some(parsed))?;
        let rating = self
            .pricing()
            .rate_period_acting(p, &parsed, Some(customer), Purpose::Purchase, acting)
            .await?;
        let (new_price, old_price) = (rated_amount(&rating, 0)?, rated_amount(&rating, 1)?);
        if new_price.minor() <= old_price.minor() {
            return Err(BillingError::NotAnUpgrade);
        }
        let (left, per_period) = time_left(unit, now, r.expires_at);
        let currency = rating.currency;
        let amount = charge(old_price.minor(), new_price.minor(), left, per_period);
        // Too little left for the difference to reach a minor unit: not sold
        // (a change is never free).
        if amount <= 0 {
            return Err(BillingError::NotAnUpgrade);
        }
        let zero = Money::zero(currency);
        let line = PricedLine {
            product: after,
            unit_price: Money::from_minor(currency, new_price.minor() - old_price.minor())
                .to_proto(),
            list: Money::from_minor(currency, amount),
            discount: zero,
            resources: Vec::new(),
            failure: None,
            renews: None,
            coupon: zero,
            paid: zero,
            refunded: zero,
            period: None,
            refunds: None,
            changes: Some(ChangeOf {
                resource: r.id.clone(),
                from_spec: r.spec.clone(),
                from_size: r.size,
                until: r.expires_at,
            }),
        };
        Ok(Planned {
            line,
            currency,
            catalog_version: rating.catalog_version,
            before: old_price,
            after: new_price,
            left,
            per_period,
        })
    }

    pub async fn preview_change(
        &self,
        p: &Principal,
        id: ResourceId,
        to: ChangeTo,
        reseller: Option<PartnerId>,
    ) -> Result<pb::PreviewChangeResponse, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let (customer, _) = of_one_customer(self.db().conn(), scope, &[id], true).await?;
        let planned = self.plan_change(p, customer, id, &to, reseller).await?;
        Ok(pb::PreviewChangeResponse {
            list_amount: Some(planned.line.list.to_proto()),
            period_price_before: Some(planned.before.to_proto()),
            period_price_after: Some(planned.after.to_proto()),
            units_left: planned.left,
            units_per_period: planned.per_period,
            expire_time: planned
                .line
                .changes
                .as_ref()
                .map(|c| to_proto_timestamp(c.until)),
        })
    }

    /// Makes the CHANGE order of the resource `id`; with `auto_pay`, pays
    /// it at once.
    pub async fn change_resource(
        &self,
        m: Mutation,
        id: ResourceId,
        to: ChangeTo,
        auto_pay: bool,
        reseller: Option<PartnerId>,
    ) -> Result<pb::ChangeResourceResponse, BillingError> {
        let (scope, _) = self.scope_of(&m.principal, reseller, true).await?;
        let (customer, _) = of_one_customer(self.db().conn(), scope, &[id], true).await?;
        let new = NewOrder {
            customer: Some(customer),
            source: Source::Change { resource: id, to },
            reseller,
        };
        let (order, payment_failure) = self.order_and_pay(m, new, auto_pay).await?;
        Ok(pb::ChangeResourceResponse {
            order: Some(order),
            payment_failure,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn days_left_count_whole_and_a_period_counts_30_or_365() {
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).single();
        let now = now.unwrap_or_else(Utc::now);
        let month = pricing_pb::PeriodUnit::Month;
        assert_eq!(time_left(month, now, now + Duration::days(30)), (30, 30));
        assert_eq!(
            time_left(month, now, now + Duration::days(29) + Duration::seconds(1)),
            (30, 30)
        );
        assert_eq!(time_left(month, now, now - Duration::days(1)), (0, 30));
        let year = pricing_pb::PeriodUnit::Year;
        assert_eq!(time_left(year, now, now + Duration::days(100)), (100, 365));
        let hour = pricing_pb::PeriodUnit::Hour;
        assert_eq!(time_left(hour, now, now + Duration::minutes(61)), (2, 1));
    }

    #[test]
    fn a_change_costs_the_difference_for_the_days_left_rounded_half_up() {
        // 100.00 a month more, 15 days of 30 left: 50.00.
        assert_eq!(charge(10_000, 20_000, 15, 30), 5_000);
        // 0.01 more for 1 day of 30: 0.0033… rounds to 0; 0.15 → 0.005 → 0.01.
        assert_eq!(charge(0, 1, 1, 30), 0);
        assert_eq!(charge(0, 15, 1, 30), 1);
        // Two months paid ahead: more than one period's difference.
        assert_eq!(charge(10_000, 13_000, 45, 30), 4_500);
    }
}
