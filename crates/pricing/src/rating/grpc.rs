//! `RatingService`: translate the request, let the domain authorize and
//! rate, translate back (with each discount's result).

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::rating_service_server::RatingService;
use partner_api::r#type::v1 as money_pb;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::CustomerId;
use partner_kernel::money::{Currency, Money};
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::on_demand::{self, UsageLine};
use super::{Line, MAX_LINES, Purpose, rounding};
use crate::discounts::apply::{self, Priced};
use crate::error::PricingError;
use crate::grpc::PricingApi;
use crate::service::PeriodRating;
use crate::wire::optional_id;

/// A product id of line `i`: 1 to 64 characters, taken as given (no
/// trimming: an id echoed back is the one sent). The field's name is
/// formatted only for a violation (a request has up to 600 of these).
fn product_id(v: &mut Violations, i: usize, field: &str, raw: String) -> Option<String> {
    // The ids callers send are short printable ASCII words: those pass
    // without the general check (and keep their allocation).
    if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Some(raw);
    }
    let checked = if raw.trim() == raw {
        validate::text(&raw, 1, 64)
    } else {
        Err("no leading or trailing spaces".to_owned())
    };
    match checked {
        Ok(id) => Some(id),
        Err(e) => {
            v.add(&format!("lines[{i}].{field}"), e);
            None
        }
    }
}

fn zone(v: &mut Violations, i: usize, raw: String) -> Option<String> {
    if raw.is_empty() {
        Some(raw)
    } else {
        product_id(v, i, "zone", raw)
    }
}

fn period_unit(
    v: &mut Violations,
    i: usize,
    raw: i32,
) -> Option<crate::catalog::document::PeriodUnit> {
    let unit = super::period_unit(raw);
    if unit.is_none() {
        v.add(
            &format!("lines[{i}].period_unit"),
            "HOUR, DAY, MONTH or YEAR",
        );
    }
    unit
}

/// Line `i` of a request that is kept (see [`owned_line`]).
pub fn line(v: &mut Violations, i: usize, l: &pb::PeriodProductLine) -> Option<Line> {
    owned_line(v, i, l.clone())
}

/// Line `i`, its ids moved into the [`Line`].
pub fn owned_line(v: &mut Violations, i: usize, l: pb::PeriodProductLine) -> Option<Line> {
    let line_id = product_id(v, i, "line_id", l.line_id);
    let service_type = product_id(v, i, "service_type", l.service_type);
    let resource_type = product_id(v, i, "resource_type", l.resource_type);
    let spec = product_id(v, i, "spec", l.spec);
    let region = product_id(v, i, "region", l.region);
    let zone = zone(v, i, l.zone);
    let period_unit = period_unit(v, i, l.period_unit);
    Some(Line {
        line_id: line_id?,
        service_type: service_type?,
        resource_type: resource_type?,
        spec: spec?,
        region: region?,
        zone: zone?,
        size: l.size,
        period_unit: period_unit?,
        period_count: l.period_count,
        quantity: l.quantity,
    })
}

fn renewal_line(v: &mut Violations, i: usize, l: pb::RenewalLine) -> Option<Line> {
    owned_line(
        v,
        i,
        pb::PeriodProductLine {
            line_id: l.line_id,
            service_type: l.service_type,
            resource_type: l.resource_type,
            spec: l.spec,
            region: l.region,
            zone: String::new(),
            size: l.size,
            period_unit: l.period_unit,
            period_count: l.period_count,
            quantity: l.quantity,
            main_line_id: String::new(),
        },
    )
}

fn usage_line(v: &mut Violations, i: usize, l: pb::OnDemandProductLine) -> Option<UsageLine> {
    let line_id = product_id(v, i, "line_id", l.line_id);
    let service_type = product_id(v, i, "service_type", l.service_type);
    let resource_type = product_id(v, i, "resource_type", l.resource_type);
    let spec = product_id(v, i, "spec", l.spec);
    let region = product_id(v, i, "region", l.region);
    let zone = zone(v, i, l.zone);
    let usage_factor = product_id(v, i, "usage_factor", l.usage_factor);
    let usage_unit = product_id(v, i, "usage_unit", l.usage_unit);
    let usage_value = match on_demand::usage_value(&l.usage_value) {
        Ok(d) => Some(d),
        Err(e) => {
            v.add(&format!("lines[{i}].usage_value"), e);
            None
        }
    };
    Some(UsageLine {
        line_id: line_id?,
        service_type: service_type?,
        resource_type: resource_type?,
        spec: spec?,
        region: region?,
        zone: zone?,
        size: l.size,
        usage_factor: usage_factor?,
        usage_value: usage_value?,
        usage_unit: usage_unit?,
        quantity: l.quantity,
    })
}

/// Parses at most [`MAX_LINES`] lines (more is a violation) and the
/// optional customer.
pub(crate) fn lines_and_customer<W, T>(
    raw: Vec<W>,
    customer: &str,
    parse: impl Fn(&mut Violations, usize, W) -> Option<T>,
) -> Result<(Vec<T>, Option<CustomerId>), Status> {
    let mut v = Violations::new();
    if raw.len() > MAX_LINES {
        v.add("lines", format!("1 to {MAX_LINES} lines"));
    }
    let lines: Vec<Option<T>> = raw
        .into_iter()
        .take(MAX_LINES)
        .enumerate()
        .map(|(i, l)| parse(&mut v, i, l))
        .collect();
    let lines: Option<Vec<T>> = lines.into_iter().collect();
    let customer = optional_id(&mut v, "customer_id", customer, CustomerId::parse);
    let parsed = (|| Some((lines?, customer?)))();
    Ok(v.finish_with(parsed)?)
}

/// Period lines and the optional customer: [`lines_and_customer`], then
/// the lines' attachments ([`super::check_attachments`]).
pub(crate) fn period_lines_and_customer(
    raw: Vec<pb::PeriodProductLine>,
    customer: &str,
) -> Result<(Vec<Line>, Option<CustomerId>), Status> {
    let attachments = super::check_attachments(&raw);
    let parsed = lines_and_customer(raw, customer, owned_line)?;
    if !attachments.is_empty() {
        return Err(PricingError::Kernel(KernelError::Invalid(attachments)).into());
    }
    Ok(parsed)
}

fn too_large() -> Status {
    Status::from(PricingError::Kernel(KernelError::Invalid(vec![
        FieldViolation::new("lines", "the total is too large"),
    ])))
}

/// The answer to a period rating: the list prices and each discount's result.
pub fn period_response(
    rating: PeriodRating,
    lines: &[Line],
    auto_pay: bool,
) -> Result<pb::RatePeriodProductsResponse, Status> {
    let mut total = Money::zero(rating.currency);
    for line in &rating.lines {
        total = total
            .checked_add(line.list_amount)
            .map_err(|_| too_large())?;
    }
    let priced: Vec<Priced<'_>> = lines
        .iter()
        .zip(&rating.lines)
        .map(|(l, rated)| Priced {
            service_type: &l.service_type,
            resource_type: &l.resource_type,
            list: rated.list_amount,
        })
        .collect();
    let offers = apply::offers(&rating.discounts, &priced, auto_pay).map_err(|_| too_large())?;
    let discount_results = offers.iter().map(|o| discount_result(o, lines)).collect();
    Ok(pb::RatePeriodProductsResponse {
        lines: rating
            .lines
            .into_iter()
            .map(|l| pb::RatedLine {
                line_id: l.line_id,
                unit_price: Some(rounding::exact(l.unit_price, rating.currency)),
                list_amount: Some(l.list_amount.to_proto()),
            })
            .collect(),
        list_total: Some(total.to_proto()),
        catalog_version: rating.catalog_version,
        discount_results,
    })
}

/// The wire form of one discount's offer.
fn discount_result(o: &apply::Offer<'_>, lines: &[Line]) -> pb::DiscountResult {
    let d = o.discount;
    pb::DiscountResult {
        discount_id: d.id.to_string(),
        kind: d.kind.to_proto().into(),
        vendor_code: d.kind.vendor_code(),
        name: d.name.clone(),
        discount_version: d.version,
        list_total: Some(o.list_total.to_proto()),
        discount_total: Some(o.off_total.to_proto()),
        final_total: Some(o.final_total.to_proto()),
        best_offer: o.best,
        lines: lines
            .iter()
            .zip(&o.lines)
            .map(|(l, under)| pb::DiscountedLine {
                line_id: l.line_id.clone(),
                list_amount: Some(under.list.to_proto()),
                discount_amount: Some(under.off.to_proto()),
                final_amount: Some(under.final_amount.to_proto()),
            })
            .collect(),
    }
}

fn nanos(amount: Decimal, currency: Currency) -> money_pb::Money {
    rounding::exact(amount, currency)
}

#[tonic::async_trait]
impl RatingService for PricingApi {
    async fn rate_period_products(
        &self,
        req: Request<pb::RatePeriodProductsRequest>,
    ) -> Result<Response<pb::RatePeriodProductsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut r = req.into_inner();
        let (lines, customer) =
            period_lines_and_customer(std::mem::take(&mut r.lines), &r.customer_id)?;
        let rating = self
            .pricing()
            .rate_period(&principal, &lines, customer, Purpose::Purchase)
            .await?;
        Ok(Response::new(period_response(rating, &lines, r.auto_pay)?))
    }

    async fn rate_renewal(
        &self,
        req: Request<pb::RateRenewalRequest>,
    ) -> Result<Response<pb::RateRenewalResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut r = req.into_inner();
        let (lines, customer) =
            lines_and_customer(std::mem::take(&mut r.lines), &r.customer_id, renewal_line)?;
        let rating = self
            .pricing()
            .rate_period(&principal, &lines, customer, Purpose::Renewal)
            .await?;
        let rated = period_response(rating, &lines, r.auto_pay)?;
        Ok(Response::new(pb::RateRenewalResponse {
            lines: rated.lines,
            list_total: rated.list_total,
            catalog_version: rated.catalog_version,
            discount_results: rated.discount_results,
        }))
    }

    async fn rate_on_demand_products(
        &self,
        req: Request<pb::RateOnDemandProductsRequest>,
    ) -> Result<Response<pb::RateOnDemandProductsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut r = req.into_inner();
        let (lines, customer) =
            lines_and_customer(std::mem::take(&mut r.lines), &r.customer_id, usage_line)?;
        let rating = self
            .pricing()
            .rate_on_demand(&principal, &lines, customer)
            .await?;
        let currency = rating.currency;
        let (mut list_total, mut discount_total) = (Decimal::ZERO, Decimal::ZERO);
        let mut out = Vec::with_capacity(lines.len());
        for (line, rated) in lines.iter().zip(rating.lines) {
            let offers = apply::usage_offers(
                &rating.discounts,
                &line.service_type,
                &line.resource_type,
                rated.list_amount,
            );
            let off = offers.first().map_or(Decimal::ZERO, |o| o.off);
            list_total = list_total
                .checked_add(rated.list_amount)
                .ok_or_else(too_large)?;
            discount_total = discount_total.checked_add(off).ok_or_else(too_large)?;
            out.push(pb::RatedUsageLine {
                line_id: rated.line_id,
                unit_price: Some(nanos(rated.unit_price, currency)),
                price_unit: rated.price_unit,
                list_amount: Some(nanos(rated.list_amount, currency)),
                discount_amount: Some(nanos(off, currency)),
                amount: Some(nanos(rated.list_amount - off, currency)),
                discount_results: offers
                    .iter()
                    .map(|o| pb::UsageDiscountResult {
                        discount_id: o.discount.id.to_string(),
                        kind: o.discount.kind.to_proto().into(),
                        vendor_code: o.discount.kind.vendor_code(),
                        name: o.discount.name.clone(),
                        discount_amount: Some(nanos(o.off, currency)),
                        amount: Some(nanos(o.amount, currency)),
                    })
                    .collect(),
            });
        }
        Ok(Response::new(pb::RateOnDemandProductsResponse {
            lines: out,
            list_total: Some(nanos(list_total, currency)),
            discount_total: Some(nanos(discount_total, currency)),
            total: Some(nanos(list_total - discount_total, currency)),
            catalog_version: rating.catalog_version,
        }))
    }
}
