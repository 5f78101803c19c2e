//! `WebhookService`: translate the request, let the domain authorize and
//! act, translate back.

use partner_api::events::v1 as pb;
use partner_api::events::v1::webhook_service_server::WebhookService;
use partner_kernel::ids::{EventId, WebhookEndpointId};
use partner_kernel::mutation::Calls;
use partner_kernel::page::page_size;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use super::Webhooks;
use super::endpoints::{EndpointChanges, NewEndpoint};
use super::model::Status as DeliveryStatus;

/// At most this many event types per endpoint.
const MAX_TYPES: usize = 20;
/// How long a rotated-out secret keeps signing unless the caller says.
const DEFAULT_PREVIOUS_SECRET_TTL: chrono::Duration = chrono::Duration::hours(24);
/// The longest a rotated-out secret may keep signing.
const MAX_PREVIOUS_SECRET_TTL: chrono::Duration = chrono::Duration::days(7);

/// How long the rotated-out secret keeps signing: unset, the default; zero
/// up to seven days.
fn previous_secret_ttl(
    v: &mut Violations,
    raw: Option<&prost_types::Duration>,
) -> Option<chrono::Duration> {
    let Some(raw) = raw else {
        return Some(DEFAULT_PREVIOUS_SECRET_TTL);
    };
    let ttl = v.take(
        "previous_secret_ttl",
        partner_kernel::time::from_proto_duration(raw),
    )?;
    let fits = ttl >= chrono::Duration::zero() && ttl <= MAX_PREVIOUS_SECRET_TTL;
    v.check(fits, "previous_secret_ttl", "from zero to 7 days");
    fits.then_some(ttl)
}

/// Serves `WebhookService`.
#[derive(Debug, Clone)]
pub struct WebhooksApi {
    webhooks: Webhooks,
    calls: Calls,
}

impl WebhooksApi {
    pub fn new(webhooks: Webhooks, calls: Calls) -> Self {
        Self { webhooks, calls }
    }
}

fn endpoint_id(v: &mut Violations, field: &str, raw: &str) -> Option<String> {
    v.take(field, WebhookEndpointId::parse(raw))
        .map(|id| id.to_string())
}

fn url(v: &mut Violations, webhooks: &Webhooks, raw: &str) -> Option<String> {
    v.take("url", webhooks.policy().check_url(raw))
        .map(String::from)
}

fn description(v: &mut Violations, raw: &str) -> Option<String> {
    if raw.is_empty() {
        return Some(String::new());
    }
    v.take("description", validate::text(raw, 1, 200))
}

fn event_types(v: &mut Violations, raw: &[String]) -> Option<Vec<String>> {
    if raw.len() > MAX_TYPES {
        v.add("event_types", format!("at most {MAX_TYPES}"));
        return None;
    }
    let mut types = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let ok = t.len() <= 64
            && !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
        if !ok {
            v.add(
                &format!("event_types[{i}]"),
                "an event type such as customer.created",
            );
            continue;
        }
        if !types.contains(t) {
            types.push(t.clone());
        }
    }
    Some(types)
}

#[tonic::async_trait]
impl WebhookService for WebhooksApi {
    async fn create_webhook_endpoint(
        &self,
        req: Request<pb::CreateWebhookEndpointRequest>,
    ) -> Result<Response<pb::CreateWebhookEndpointResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let url = url(&mut v, &self.webhooks, &r.url);
        let description = description(&mut v, &r.description);
        let types = event_types(&mut v, &r.event_types);
        let parsed = (|| {
            Some((
                request_id?,
                NewEndpoint {
                    url: url?,
                    description: description?,
                    event_types: types?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.webhooks.create(m, cmd).await?))
    }

    async fn get_webhook_endpoint(
        &self,
        req: Request<pb::GetWebhookEndpointRequest>,
    ) -> Result<Response<pb::GetWebhookEndpointResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = endpoint_id(&mut v, "id", &req.get_ref().id);
        let id = v.finish_with(id)?;
        Ok(Response::new(pb::GetWebhookEndpointResponse {
            endpoint: Some(self.webhooks.get(&principal, &id).await?),
        }))
    }

    async fn list_webhook_endpoints(
        &self,
        req: Request<pb::ListWebhookEndpointsRequest>,
    ) -> Result<Response<pb::ListWebhookEndpointsResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        Ok(Response::new(pb::ListWebhookEndpointsResponse {
            endpoints: self.webhooks.list(&principal).await?,
        }))
    }

    async fn update_webhook_endpoint(
        &self,
        req: Request<pb::UpdateWebhookEndpointRequest>,
    ) -> Result<Response<pb::UpdateWebhookEndpointResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = endpoint_id(&mut v, "id", &r.id);
        let paths = validate::mask_paths(&mut v, r.update_mask);
        let mut changes = EndpointChanges::default();
        for path in &paths {
            match path.as_str() {
                "url" => changes.url = url(&mut v, &self.webhooks, &r.url),
                "description" => changes.description = description(&mut v, &r.description),
                "event_types" => changes.event_types = event_types(&mut v, &r.event_types),
                "disabled" => changes.disabled = Some(r.disabled),
                _ => validate::not_updatable(&mut v, path),
            }
        }
        let parsed = (|| Some((request_id?, id?)))();
        let (request_id, id) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.webhooks.update(m, id, changes).await?))
    }

    async fn delete_webhook_endpoint(
        &self,
        req: Request<pb::DeleteWebhookEndpointRequest>,
    ) -> Result<Response<pb::DeleteWebhookEndpointResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = endpoint_id(&mut v, "id", &r.id);
        let parsed = (|| Some((request_id?, id?)))();
        let (request_id, id) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.webhooks.delete(m, id).await?))
    }

    async fn send_test_event(
        &self,
        req: Request<pb::SendTestEventRequest>,
    ) -> Result<Response<pb::SendTestEventResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = endpoint_id(&mut v, "endpoint_id", &r.endpoint_id);
        let parsed = (|| Some((request_id?, id?)))();
        let (request_id, id) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.webhooks.send_test(m, id).await?))
    }

    async fn list_deliveries(
        &self,
        req: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let id = endpoint_id(&mut v, "endpoint_id", &r.endpoint_id);
        let size = v.take("page_size", page_size(r.page_size));
        let status = DeliveryStatus::from_wire(r.status);
        v.check(status.is_some(), "status", "unknown value");
        let parsed = (|| Some((id?, size?, status?)))();
        let (id, size, status) = v.finish_with(parsed)?;
        let page = self
            .webhooks
            .deliveries(&principal, &id, status, size, &r.page_token)
            .await?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: page.items,
            next_page_token: page.next_page_token,
        }))
    }

    async fn rotate_webhook_secret(
        &self,
        req: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::RotateWebhookSecretResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = endpoint_id(&mut v, "id", &r.id);
        let ttl = previous_secret_ttl(&mut v, r.previous_secret_ttl.as_ref());
        let parsed = (|| Some((request_id?, id?, ttl?)))();
        let (request_id, id, ttl) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.webhooks.rotate_secret(m, id, ttl).await?,
        ))
    }

    async fn redeliver_event(
        &self,
        req: Request<pb::RedeliverEventRequest>,
    ) -> Result<Response<pb::RedeliverEventResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = endpoint_id(&mut v, "endpoint_id", &r.endpoint_id);
        let event = v.take("event_id", EventId::parse(&r.event_id));
        let parsed = (|| Some((request_id?, id?, event?)))();
        let (request_id, id, event) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.webhooks.redeliver(m, id, event).await?))
    }
}
