//! `CatalogService` (`RatingService` is in `rating::grpc`, `DiscountService`
//! in `discounts::grpc`): translate the request, let the
//! domain authorize and act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::catalog_service_server::CatalogService;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::mutation::Calls;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use crate::catalog::document;
use crate::catalog::import::Format;
use crate::rating::{self, rounding};
use crate::service::Pricing;
use crate::wire::optional_time;

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
                let usage = catalog.usage_prices(&s.service_type, &s.resource_type, &s.id);
                let mut usage_prices: Vec<pb::UsagePrice> = usage
                    .into_iter()
                    .flatten()
                    .filter(|(r, _)| region.as_ref().is_none_or(|x| x == *r))
                    .flat_map(|(r, by_factor)| {
                        by_factor.iter().map(move |(factor, rate)| pb::UsagePrice {
                            region: r.clone(),
                            usage_factor: factor.clone(),
                            unit: rate.unit.clone(),
                            amount: Some(rounding::exact(rate.price, currency)),
                        })
                    })
                    .collect();
                usage_prices.sort_by(|a, b| {
                    (&a.region, &a.usage_factor).cmp(&(&b.region, &b.usage_factor))
                });
                pb::ResourceSpec {
                    id: s.id.clone(),
                    service_type: s.service_type.clone(),
                    resource_type: s.resource_type.clone(),
                    name: s.name.clone(),
                    prices,
                    usage_prices,
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

    async fn import_catalog(
        &self,
        req: Request<pb::ImportCatalogRequest>,
    ) -> Result<Response<pb::ImportCatalogResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let format = match pb::CatalogFormat::try_from(r.format) {
            Ok(pb::CatalogFormat::Yaml) => Some(Format::Yaml),
            Ok(pb::CatalogFormat::Csv) => Some(Format::Csv),
            _ => {
                v.add("format", "YAML or CSV");
                None
            }
        };
        v.check(!r.content.is_empty(), "content", "required");
        let effective = optional_time(&mut v, "effective_time", r.effective_time.as_ref());
        let parsed = (|| Some((request_id?, format?, effective?)))();
        let (request_id, format, effective) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing
                .import_catalog(m, format, r.content, effective)
                .await?,
        ))
    }

    async fn list_catalog_versions(
        &self,
        req: Request<pb::ListCatalogVersionsRequest>,
    ) -> Result<Response<pb::ListCatalogVersionsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        Ok(Response::new(pb::ListCatalogVersionsResponse {
            versions: self.pricing.catalog_versions(&principal).await?,
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
