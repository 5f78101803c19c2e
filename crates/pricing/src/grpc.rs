//! `CatalogService` and `RatingService` (`DiscountService` is in
//! `discounts::grpc`): translate the request, let the
//! domain authorize and act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::catalog_service_server::CatalogService;
use partner_api::pricing::v1::rating_service_server::RatingService;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::CustomerId;
use partner_kernel::money::Money;
use partner_kernel::mutation::Calls;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use crate::catalog::document;
use crate::discounts::apply::{self, Priced};
use crate::error::PricingError;
use crate::rating::{self, Line, rounding};
use crate::service::Pricing;

/// Serves `CatalogService`, `RatingService` and `DiscountService`.
#[derive(Debug, Clone)]
pub struct PricingApi {
    pricing: Pricing,
    calls: Calls,
}

impl PricingApi {
    pub fn new(pricing: Pricing, calls: Calls) -> Self {
        Self { pricing, calls }
    }

    pub(crate) fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    pub(crate) fn calls(&self) -> &Calls {
        &self.calls
    }
}

fn filter(v: &mut Violations, field: &str, raw: &str) -> Option<Option<String>> {
    v.take(field, validate::filter(raw.to_owned(), 64))
}

fn money(amount: Money) -> partner_api::r#type::v1::Money {
    amount.to_proto()
}

fn resource_type(t: &document::ResourceType) -> pb::ResourceType {
    pb::ResourceType {
        id: t.id.clone(),
        service_type: t.service_type.clone(),
        name: t.name.clone(),
        periods: t
            .periods
            .iter()
            .map(|p| pb::PeriodLimit {
                unit: rating::period_unit_to_proto(p.unit) as i32,
                min_count: p.min,
                max_count: p.max,
            })
            .collect(),
        size: t.size.as_ref().map(|s| pb::SizeRule {
            unit: s.unit.clone(),
            min: s.min,
            max: s.max,
            step: s.step,
        }),
        max_quantity: t.max_quantity,
    }
}

#[tonic::async_trait]
impl CatalogService for PricingApi {
    async fn list_service_types(
        &self,
        req: Request<pb::ListServiceTypesRequest>,
    ) -> Result<Response<pb::ListServiceTypesResponse>, Status> {
        let catalog = self.pricing.catalog(&Principal::from_request(&req)?)?;
        Ok(Response::new(pb::ListServiceTypesResponse {
            service_types: catalog
                .doc
                .service_types
                .iter()
                .map(|s| pb::ServiceType {
                    id: s.id.clone(),
                    name: s.name.clone(),
                })
                .collect(),
            catalog_version: catalog.version,
            effective_time: Some(to_proto_timestamp(catalog.effective_from)),
        }))
    }

    async fn list_resource_types(
        &self,
        req: Request<pb::ListResourceTypesRequest>,
    ) -> Result<Response<pb::ListResourceTypesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let service = filter(&mut v, "service_type", &req.get_ref().service_type);
        let service = v.finish_with(service)?;
        let catalog = self.pricing.catalog(&principal)?;
        Ok(Response::new(pb::ListResourceTypesResponse {
            resource_types: catalog
                .doc
                .resource_types
                .iter()
                .filter(|t| service.as_ref().is_none_or(|s| *s == t.service_type))
                .map(resource_type)
                .collect(),
            catalog_version: catalog.version,
        }))
    }

    async fn list_resource_specs(
        &self,
        req: Request<pb::ListResourceSpecsRequest>,
    ) -> Result<Response<pb::ListResourceSpecsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.get_ref();
        let mut v = Violations::new();
        let service = filter(&mut v, "service_type", &r.service_type);
        let kind = filter(&mut v, "resource_type", &r.resource_type);
        let region = filter(&mut v, "region", &r.region);
        let parsed = (|| Some((service?, kind?, region?)))();
        let (service, kind, region) = v.finish_with(parsed)?;
        let catalog = self.pricing.catalog(&principal)?;
        let currency = catalog.currency;
        let specs = catalog
            .doc
            .specs
            .iter()
            .filter(|s| service.as_ref().is_none_or(|x| *x == s.service_type))
            .filter(|s| kind.as_ref().is_none_or(|x| *x == s.resource_type))
            .filter(|s| region.as_ref().is_none_or(|x| s.prices.contains_key(x)))
            .map(|s| {
                // The prices parsed when the version was loaded, in the document's order.
                let parsed = catalog
                    .spec(&s.service_type, &s.resource_type, &s.id)
                    .map(|(_, prices)| prices);
                let prices = s
                    .prices
                    .iter()
                    .filter(|(r, _)| region.as_ref().is_none_or(|x| x == *r))
                    .flat_map(|(r, by_unit)| {
                        by_unit.keys().filter_map(move |unit| {
                            let amount = parsed?.get(r)?.get(unit)?;
                            Some(pb::SpecPrice {
                                region: r.clone(),
                                unit: rating::period_unit_to_proto(*unit) as i32,
                                amount: Some(rounding::exact(*amount, currency)),
                            })
                        })
                    })
                    .collect();
                pb::ResourceSpec {
                    id: s.id.clone(),
                    service_type: s.service_type.clone(),
                    resource_type: s.resource_type.clone(),
                    name: s.name.clone(),
                    prices,
                }
            })
            .collect();
        Ok(Response::new(pb::ListResourceSpecsResponse {
            specs,
            catalog_version: catalog.version,
        }))
    }

    async fn list_regions(
        &self,
        req: Request<pb::ListRegionsRequest>,
    ) -> Result<Response<pb::ListRegionsResponse>, Status> {
        let catalog = self.pricing.catalog(&Principal::from_request(&req)?)?;
        Ok(Response::new(pb::ListRegionsResponse {
            regions: catalog
                .doc
                .regions
                .iter()
                .map(|r| pb::Region {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    zones: r.zones.clone(),
                })
                .collect(),
            catalog_version: catalog.version,
        }))
    }

    async fn list_usage_factors(
        &self,
        req: Request<pb::ListUsageFactorsRequest>,
    ) -> Result<Response<pb::ListUsageFactorsResponse>, Status> {
        let catalog = self.pricing.catalog(&Principal::from_request(&req)?)?;
        Ok(Response::new(pb::ListUsageFactorsResponse {
            usage_factors: catalog
                .doc
                .usage_factors
                .iter()
                .map(|f| pb::UsageFactor {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    base_unit: f.base_unit.clone(),
                })
                .collect(),
            catalog_version: catalog.version,
        }))
    }

    async fn list_measure_units(
        &self,
        req: Request<pb::ListMeasureUnitsRequest>,
    ) -> Result<Response<pb::ListMeasureUnitsResponse>, Status> {
        let catalog = self.pricing.catalog(&Principal::from_request(&req)?)?;
        Ok(Response::new(pb::ListMeasureUnitsResponse {
            measure_units: catalog
                .doc
                .measure_units
                .iter()
                .map(|u| pb::MeasureUnit {
                    id: u.id.clone(),
                    usage_factor: u.usage_factor.clone(),
                    to_base: u.to_base.clone(),
                })
                .collect(),
            catalog_version: catalog.version,
        }))
    }
}

/// A product id of line `i`: 1 to 64 characters, taken as given (no
/// trimming: an id echoed back is the one sent). The field's name is
/// formatted only for a violation (a request has up to 600 of these).
fn product_id(v: &mut Violations, i: usize, field: &str, raw: &str) -> Option<String> {
    let checked = if raw.trim() == raw {
        validate::text(raw, 1, 64)
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

fn line(v: &mut Violations, i: usize, l: &pb::PeriodProductLine) -> Option<Line> {
    let line_id = product_id(v, i, "line_id", &l.line_id);
    let service_type = product_id(v, i, "service_type", &l.service_type);
    let resource_type = product_id(v, i, "resource_type", &l.resource_type);
    let spec = product_id(v, i, "spec", &l.spec);
    let region = product_id(v, i, "region", &l.region);
    let zone = if l.zone.is_empty() {
        Some(String::new())
    } else {
        product_id(v, i, "zone", &l.zone)
    };
    let period_unit = rating::period_unit(l.period_unit);
    if period_unit.is_none() {
        v.add(
            &format!("lines[{i}].period_unit"),
            "HOUR, DAY, MONTH or YEAR",
        );
    }
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

#[tonic::async_trait]
impl RatingService for PricingApi {
    async fn rate_period_products(
        &self,
        req: Request<pb::RatePeriodProductsRequest>,
    ) -> Result<Response<pb::RatePeriodProductsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        if r.lines.len() > rating::MAX_LINES {
            v.add("lines", format!("1 to {} lines", rating::MAX_LINES));
        }
        let lines: Vec<Option<Line>> = r
            .lines
            .iter()
            .take(rating::MAX_LINES)
            .enumerate()
            .map(|(i, l)| line(&mut v, i, l))
            .collect();
        let lines: Option<Vec<Line>> = lines.into_iter().collect();
        let customer = if r.customer_id.is_empty() {
            None
        } else {
            v.take("customer_id", CustomerId::parse(&r.customer_id))
        };
        let lines = v.finish_with(lines)?;
        let rating = self
            .pricing
            .rate_period(&principal, &lines, customer)
            .await?;
        let too_large = || {
            Status::from(PricingError::Kernel(KernelError::Invalid(vec![
                FieldViolation::new("lines", "the total is too large"),
            ])))
        };
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
        let offers =
            apply::offers(&rating.discounts, &priced, r.auto_pay).map_err(|_| too_large())?;
        let discount_results = offers.iter().map(|o| discount_result(o, &lines)).collect();
        Ok(Response::new(pb::RatePeriodProductsResponse {
            lines: rating
                .lines
                .into_iter()
                .map(|l| pb::RatedLine {
                    line_id: l.line_id,
                    unit_price: Some(rounding::exact(l.unit_price, rating.currency)),
                    list_amount: Some(money(l.list_amount)),
                })
                .collect(),
            list_total: Some(money(total)),
            catalog_version: rating.catalog_version,
            discount_results,
        }))
    }
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
        list_total: Some(money(o.list_total)),
        discount_total: Some(money(o.off_total)),
        final_total: Some(money(o.final_total)),
        best_offer: o.best,
        lines: lines
            .iter()
            .zip(&o.lines)
            .map(|(l, under)| pb::DiscountedLine {
                line_id: l.line_id.clone(),
                list_amount: Some(money(under.list)),
                discount_amount: Some(money(under.off)),
                final_amount: Some(money(under.final_amount)),
            })
            .collect(),
    }
}
