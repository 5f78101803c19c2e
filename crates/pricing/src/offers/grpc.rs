//! `OfferLinkService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::pricing::v1 as pb;
use partner_api::pricing::v1::offer_link_service_server::OfferLinkService;
use partner_kernel::ids::OfferLinkId;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::{NewLink, Product};
use crate::discounts::model;
use crate::grpc::PricingApi;
use crate::wire::{catalog_id, optional_time, required_catalog_id};

fn product(v: &mut Violations, raw: Option<&pb::OfferProduct>) -> Option<Product> {
    let empty = pb::OfferProduct::default();
    let raw = raw.unwrap_or(&empty);
    let service_type = required_catalog_id(v, "product.service_type", &raw.service_type);
    let resource_type = required_catalog_id(v, "product.resource_type", &raw.resource_type);
    let spec = catalog_id(v, "product.spec", &raw.spec);
    let region = catalog_id(v, "product.region", &raw.region);
    Some(Product {
        service_type: service_type?,
        resource_type: resource_type?,
        spec: spec?,
        region: region?,
    })
}

#[tonic::async_trait]
impl OfferLinkService for PricingApi {
    async fn create_offer_link(
        &self,
        req: Request<pb::CreateOfferLinkRequest>,
    ) -> Result<Response<pb::CreateOfferLinkResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let name = v.take("name", validate::text(&r.name, 1, 100));
        let product = product(&mut v, r.product.as_ref());
        let rate_off = if r.rate_off.is_empty() {
            Some(None)
        } else {
            v.take("rate_off", model::rate(&r.rate_off)).map(Some)
        };
        let expire_time = optional_time(&mut v, "expire_time", r.expire_time.as_ref());
        let parsed = (|| {
            Some((
                request_id?,
                NewLink {
                    name: name?,
                    product: product?,
                    rate_off: rate_off?,
                    expire_time: expire_time?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing().create_offer_link(m, cmd).await?,
        ))
    }

    async fn get_offer_link(
        &self,
        req: Request<pb::GetOfferLinkRequest>,
    ) -> Result<Response<pb::GetOfferLinkResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = v.take("id", OfferLinkId::parse(&req.get_ref().id));
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetOfferLinkResponse {
            link: Some(self.pricing().get_offer_link(&principal, id).await?),
        }))
    }

    async fn list_offer_links(
        &self,
        req: Request<pb::ListOfferLinksRequest>,
    ) -> Result<Response<pb::ListOfferLinksResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let size = v.take("page_size", page_size(r.page_size));
        let size = v.finish_with(size)?;
        let page = self
            .pricing()
            .list_offer_links(&principal, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListOfferLinksResponse {
            links: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn disable_offer_link(
        &self,
        req: Request<pb::DisableOfferLinkRequest>,
    ) -> Result<Response<pb::DisableOfferLinkResponse>, Status> {
        let call = self.calls().start(&req)?;
        let r = req.into_inner();
        let (request_id, id, _) =
            validate::verb(&r.request_id, "id", OfferLinkId::parse(&r.id), "")?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.pricing().disable_offer_link(m, id).await?,
        ))
    }

    async fn resolve_offer_link(
        &self,
        req: Request<pb::ResolveOfferLinkRequest>,
    ) -> Result<Response<pb::ResolveOfferLinkResponse>, Status> {
        let token = &req.get_ref().token;
        let mut v = Violations::new();
        let ok = token.len() <= 80
            && token.starts_with("ofr_")
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        v.check(ok, "token", "the token of an offer link (ofr_…)");
        v.finish()?;
        Ok(Response::new(
            self.pricing().resolve_offer_link(token).await?,
        ))
    }
}
