//! Renewing resources: a RENEWAL order, rated by the rating in force for
//! renewals (months 1–11 or years 1–3), waiting for payment like any order.
//! Paying it moves each resource's expiry on by the period from its
//! current end, back to the day of the month it was bought on where the
//! month has it (a resource bought on the 31st ends on the 28th of
//! February, then on the 31st of March). A preview runs the same rating
//! and the same dates.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{CustomerId, OrderId, PartnerId, ResourceId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_pricing::rating::Purpose;
use partner_pricing::rating::grpc::{line, period_response};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entity::resource;
use super::model::{ChargingMode, ResourceStatus};
use super::pay::period_end;
use super::read::Scope;
use super::{NewOrder, Source};
use crate::error::BillingError;
use crate::service::Billing;

/// The end of `count` periods of `unit` after `from`, on the `anchor` day
/// of the month where the month has it (months and years).
pub fn renewal_end(
    from: DateTime<Utc>,
    unit: pricing_pb::PeriodUnit,
    count: i32,
    anchor: u32,
) -> Option<DateTime<Utc>> {
    let end = period_end(from, unit, count)?;
    match unit {
        pricing_pb::PeriodUnit::Month | pricing_pb::PeriodUnit::Year => {
            let first_of_next = if end.month() == 12 {
                NaiveDate::from_ymd_opt(end.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(end.year(), end.month() + 1, 1)?
            };
            let last = first_of_next.pred_opt()?.day();
            end.with_day(anchor.clamp(1, last))
        }
        pricing_pb::PeriodUnit::Day
        | pricing_pb::PeriodUnit::Hour
        | pricing_pb::PeriodUnit::Unspecified => Some(end),
    }
}

/// Mixed into a `RenewResources` call's key to make its payment's key.
const AUTO_PAY_KEY: u128 = 0x6175_746f_2d70_6179_2d6f_662d_7265_6e65;

fn too_large() -> BillingError {
    KernelError::Invalid(vec![FieldViolation::new(
        "resource_ids",
        "the total is too large",
    )])
    .into()
}

/// Resources a renewal may extend: charged by the period and not closed —
/// in use, or expired or frozen (a renewal brings them back).
fn renewable_now() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(resource::Column::Status.is_in([
            ResourceStatus::InUse.as_str(),
            ResourceStatus::Expired.as_str(),
            ResourceStatus::Frozen.as_str(),
        ]))
        .add(resource::Column::ChargingMode.eq(ChargingMode::Period.as_str()))
}

/// The resources `ids` within `scope`, in the order asked, all renewable
/// and all of one customer.
async fn renewable(
    conn: &impl ConnectionTrait,
    scope: Scope,
    ids: &[ResourceId],
) -> Result<(CustomerId, Vec<resource::Model>), BillingError> {
    of_one_customer(conn, scope, ids, true).await
}

/// The resources `ids` within `scope` (`in_use`: only those in use), in
/// the order asked, all of one customer; `RESOURCE_NOT_FOUND` when one is
/// not.
pub(crate) async fn of_one_customer(
    conn: &impl ConnectionTrait,
    scope: Scope,
    ids: &[ResourceId],
    in_use: bool,
) -> Result<(CustomerId, Vec<resource::Model>), BillingError> {
    let mut query = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids.iter().map(ToString::to_string)))
        .filter(super::read::resource_scope(scope));
    if in_use {
        query = query.filter(renewable_now());
    }
    let rows = query.all(conn).await?;
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        let row = rows
            .iter()
            .find(|r| r.id == id.to_string())
            .ok_or(BillingError::ResourceNotFound)?;
        if let Some(main) = &row.main_resource_id {
            return Err(BillingError::ChildResource {
                resource: row.id.clone(),
                main: main.clone(),
            });
        }
        ordered.push(row.clone());
    }
    let first = ordered.first().ok_or(BillingError::ResourceNotFound)?;
    if ordered.iter().any(|r| r.customer_id != first.customer_id) {
        return Err(BillingError::ResourcesOfManyCustomers);
    }
    let customer = partner_kernel::ids::parse_stored(&first.customer_id, CustomerId::parse)?;
    ordered.extend(children_of(conn, &ordered, in_use).await?);
    Ok((customer, ordered))
}

/// The children of `mains` that follow them (`in_use`: renewable ones;
/// otherwise every one not closed), by main in order, then by id.
async fn children_of(
    conn: &impl ConnectionTrait,
    mains: &[resource::Model],
    in_use: bool,
) -> Result<Vec<resource::Model>, BillingError> {
    let mut query = resource::Entity::find()
        .filter(resource::Column::MainResourceId.is_in(mains.iter().map(|r| r.id.clone())))
        .filter(resource::Column::Status.ne(ResourceStatus::Closed.as_str()))
        .order_by_asc(resource::Column::Id);
    if in_use {
        query = query.filter(renewable_now());
    }
    let mut children = query.all(conn).await?;
    children.sort_by_key(|c| {
        mains
            .iter()
            .position(|m| Some(&m.id) == c.main_resource_id.as_ref())
    });
    Ok(children)
}

pub(crate) fn product(
    r: &resource::Model,
    unit: pricing_pb::PeriodUnit,
    count: i32,
) -> pricing_pb::PeriodProductLine {
    pricing_pb::PeriodProductLine {
        line_id: r.id.clone(),
        service_type: r.service_type.clone(),
        resource_type: r.resource_type.clone(),
        spec: r.spec.clone(),
        region: r.region.clone(),
        zone: r.zone.clone(),
        size: r.size,
        period_unit: unit as i32,
        period_count: count,
        quantity: 1,
        main_line_id: r.main_resource_id.clone().unwrap_or_default(),
    }
}

impl Billing {
    /// The renewal lines of `resources` of `customer` and their rating.
    pub(crate) async fn rate_renewal(
        &self,
        p: &Principal,
        customer: CustomerId,
        resources: &[ResourceId],
        (unit, count): (pricing_pb::PeriodUnit, i32),
        acting: Option<PartnerId>,
    ) -> Result<
        (
            Vec<pricing_pb::PeriodProductLine>,
            pricing_pb::RatePeriodProductsResponse,
        ),
        BillingError,
    > {
        let (_, rows) = renewable(self.db().conn(), Scope::Customer(customer), resources).await?;
        let products: Vec<_> = rows.iter().map(|r| product(r, unit, count)).collect();
        let mut v = partner_kernel::validate::Violations::new();
        let parsed: Vec<_> = products
            .iter()
            .enumerate()
            .filter_map(|(i, l)| line(&mut v, i, l))
            .collect();
        if parsed.len() != products.len() {
            return Err(KernelError::Corrupt("a resource names no product".into()).into());
        }
        let rating = self
            .pricing()
            .rate_period_acting(p, &parsed, Some(customer), Purpose::Renewal, acting)
            .await?;
        let response = period_response(rating, &parsed, false).map_err(|_| too_large())?;
        Ok((products, response))
    }

    pub async fn preview_renewal(
        &self,
        p: &Principal,
        ids: &[ResourceId],
        unit: pricing_pb::PeriodUnit,
        count: i32,
        reseller: Option<PartnerId>,
    ) -> Result<pb::PreviewRenewalResponse, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let (customer, rows) = renewable(self.db().conn(), scope, ids).await?;
        let (_, rating) = self
            .rate_renewal(p, customer, ids, (unit, count), reseller)
            .await?;
        let mut results = Vec::with_capacity(rows.len());
        for (r, rated) in rows.iter().zip(&rating.lines) {
            let anchor = u32::try_from(r.anchor_day).unwrap_or(1);
            let until = renewal_end(r.expires_at, unit, count, anchor).ok_or_else(too_large)?;
            results.push(pb::RenewalResult {
                resource_id: r.id.clone(),
                list_amount: rated.list_amount.clone(),
                new_expire_time: Some(to_proto_timestamp(until)),
            });
        }
        Ok(pb::PreviewRenewalResponse {
            results,
            list_total: rating.list_total,
        })
    }

    /// Makes the RENEWAL order of `ids`; with `auto_pay`, pays it from the
    /// customer's balance at once (a payment refused for a reason of the
    /// caller's — funds, budget — leaves the order waiting, and says why).
    /// A retried call replays both steps: the payment's key is derived
    /// from the call's.
    pub async fn renew_resources(
        &self,
        m: Mutation,
        ids: Vec<ResourceId>,
        (unit, count): (pricing_pb::PeriodUnit, i32),
        auto_pay: bool,
        reseller: Option<PartnerId>,
    ) -> Result<pb::RenewResourcesResponse, BillingError> {
        let (scope, _) = self.scope_of(&m.principal, reseller, true).await?;
        let (customer, _) = renewable(self.db().conn(), scope, &ids).await?;
        let new = NewOrder {
            customer: Some(customer),
            source: Source::Renewal {
                resources: ids,
                unit,
                count,
                auto_renew_key: None,
            },
            reseller,
        };
        let (order, payment_failure) = self.order_and_pay(m, new, auto_pay).await?;
        Ok(pb::RenewResourcesResponse {
            order: Some(order),
            payment_failure,
        })
    }

    /// Makes the order `new` for the call `m` and, with `auto_pay`, pays it
    /// at once ([`Self::pay_at_once`]): the order, and why it was not paid.
    pub(crate) async fn order_and_pay(
        &self,
        m: Mutation,
        new: NewOrder,
        auto_pay: bool,
    ) -> Result<(pb::Order, String), BillingError> {
        let (paying, reseller) = (m.clone(), new.reseller);
        let order = self.create_order(m, new).await?.order.unwrap_or_default();
        if auto_pay {
            self.pay_at_once(paying, order, reseller).await
        } else {
            Ok((order, String::new()))
        }
    }

    /// Pays `order`, just made by the call `paying`, from the customer's
    /// balance. What the customer's money or standing refuses (funds,
    /// budget, freeze) leaves the order waiting and says why; anything
    /// else is the call's error. A retried call replays the payment: its
    /// key is derived from the call's.
    async fn pay_at_once(
        &self,
        mut paying: Mutation,
        order: pb::Order,
        reseller: Option<PartnerId>,
    ) -> Result<(pb::Order, String), BillingError> {
        let id = partner_kernel::ids::parse_stored(&order.id, OrderId::parse)?;
        paying.request_id = uuid::Uuid::from_u128(paying.request_id.as_u128() ^ AUTO_PAY_KEY);
        let payment = super::Payment {
            order: id,
            coupons: Vec::new(),
            discount: None,
            reseller,
            agreement: None,
        };
        match self.pay_order(paying, payment).await {
            Ok(paid) => Ok((paid.order.unwrap_or_default(), String::new())),
            Err(
                e @ (BillingError::InsufficientFunds { .. }
                | BillingError::BudgetExceeded { .. }
                | BillingError::CustomerFrozen),
            ) => Ok((order, tonic::Status::from(e).message().to_owned())),
            Err(e) => Err(e),
        }
    }
}

/// Moves the resource a paid renewal line renews on by its period: the
/// period added, or the failure to show when the resource is no longer the
/// customer's in use.
pub(crate) async fn extend(
    conn: &impl ConnectionTrait,
    customer: &str,
    renews: &str,
    l: &pricing_pb::PeriodProductLine,
    now: DateTime<Utc>,
) -> Result<Result<(DateTime<Utc>, DateTime<Utc>), String>, BillingError> {
    // Still the product the renewal was priced for: a change of spec or
    // size since would be renewed at the old price.
    let Some(r) = resource::Entity::find_by_id(renews.to_owned())
        .filter(resource::Column::CustomerId.eq(customer))
        .filter(renewable_now())
        .filter(resource::Column::Spec.eq(l.spec.as_str()))
        .filter(resource::Column::Size.eq(l.size))
        .one(conn)
        .await?
    else {
        return Ok(Err(format!(
            "resource {renews} is no longer renewable as priced (closed, on demand, or changed)"
        )));
    };
    let unit = pricing_pb::PeriodUnit::try_from(l.period_unit)
        .unwrap_or(pricing_pb::PeriodUnit::Unspecified);
    let anchor = u32::try_from(r.anchor_day).unwrap_or(1);
    let until = renewal_end(r.expires_at, unit, l.period_count, anchor).ok_or_else(|| {
        KernelError::Corrupt(format!("resource {renews}: a period without an end"))
    })?;
    resource::Entity::update_many()
        .col_expr(
            resource::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(until),
        )
        .col_expr(
            resource::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        // Expired or frozen, it is back in use.
        .col_expr(
            resource::Column::Status,
            sea_orm::sea_query::Expr::value(ResourceStatus::InUse.as_str()),
        )
        .col_expr(
            resource::Column::StageUntil,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(resource::Column::Id.eq(renews))
        .exec(conn)
        .await?;
    Ok(Ok((r.expires_at, until)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    #[test]
    fn renewals_return_to_the_day_the_resource_was_bought_on() {
        let month = pricing_pb::PeriodUnit::Month;
        // Bought on 31 January: the first period ends on 28 February …
        assert_eq!(
            renewal_end(at(2027, 1, 31), month, 1, 31),
            Some(at(2027, 2, 28))
        );
        // … and a renewal from there ends on 31 March, then 30 April.
        assert_eq!(
            renewal_end(at(2027, 2, 28), month, 1, 31),
            Some(at(2027, 3, 31))
        );
        assert_eq!(
            renewal_end(at(2027, 3, 31), month, 1, 31),
            Some(at(2027, 4, 30))
        );
        assert_eq!(
            renewal_end(at(2027, 11, 30), month, 2, 31),
            Some(at(2028, 1, 31))
        );
        let year = pricing_pb::PeriodUnit::Year;
        assert_eq!(
            renewal_end(at(2029, 2, 28), year, 1, 29),
            Some(at(2030, 2, 28))
        );
        assert_eq!(
            renewal_end(at(2031, 2, 28), year, 1, 29),
            Some(at(2032, 2, 29))
        );
        assert_eq!(
            renewal_end(at(2027, 3, 15), month, 1, 15),
            Some(at(2027, 4, 15))
        );
    }
}
