//! `FederationService`: translate the request, let the domain authorize and
//! act, translate back.

use chrono::Duration;
use partner_api::iam::v1 as pb;
use partner_api::iam::v1::federation_service_server::FederationService;
use partner_customers::customers::rules;
use partner_kernel::ids::IdentityProviderId;
use partner_kernel::mutation::Calls;
use partner_kernel::principal::Principal;
use partner_kernel::validate::{self, Violations};
use tonic::{Request, Response, Status};

use crate::idps::model::DEFAULT_XACCOUNT_ATTRIBUTE;
use crate::idps::{FirstLoginPolicy, IdpChanges, NewIdp, service_urls};
use crate::saml::metadata::{self, IdpMetadata};
use crate::service::Federation;
use crate::signin::acs::MAX_CODE_LEN;
use crate::signin::login_url::check_start;

/// Replaced certificates stay accepted at most this long.
const MAX_OVERLAP_SECS: i64 = 30 * 24 * 3600;

/// Serves `FederationService`.
#[derive(Debug, Clone)]
pub struct FederationApi {
    federation: Federation,
    calls: Calls,
}

impl FederationApi {
    /// The API over `federation`; `calls` starts its mutations.
    pub fn new(federation: Federation, calls: Calls) -> Self {
        Self { federation, calls }
    }
}

fn idp_id(v: &mut Violations, raw: &str) -> Option<String> {
    v.take("id", IdentityProviderId::parse(raw))
        .map(|id| id.to_string())
}

fn metadata_xml(v: &mut Violations, raw: &str) -> Option<IdpMetadata> {
    v.take("metadata_xml", metadata::parse(raw))
}

/// An attribute name (or "NameID"); empty: the default.
fn xaccount_attribute(v: &mut Violations, raw: &str) -> Option<String> {
    if raw.trim().is_empty() {
        return Some(DEFAULT_XACCOUNT_ATTRIBUTE.to_owned());
    }
    v.take("xaccount_attribute", validate::text(raw, 1, 128))
}

fn allow_list(v: &mut Violations, raw: &[String]) -> Option<Vec<String>> {
    v.take("service_urls", service_urls::parse_entries(raw))
}

/// A notification URL; empty: none.
fn notification_url(v: &mut Violations, api: &FederationApi, raw: &str) -> Option<Option<String>> {
    if raw.is_empty() {
        return Some(None);
    }
    v.take(
        "notification_url",
        api.federation.webhook_policy().check_url(raw),
    )
    .map(|url| Some(url.into()))
}

fn policy(v: &mut Violations, raw: i32) -> Option<FirstLoginPolicy> {
    match FirstLoginPolicy::from_wire(raw) {
        Some(policy) => Some(policy),
        None => {
            v.add("first_login_policy", "unknown value");
            None
        }
    }
}

#[tonic::async_trait]
impl FederationService for FederationApi {
    async fn register_identity_provider(
        &self,
        req: Request<pb::RegisterIdentityProviderRequest>,
    ) -> Result<Response<pb::RegisterIdentityProviderResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let xaccount_type = v.take("xaccount_type", rules::xaccount_type(&r.xaccount_type));
        let metadata = metadata_xml(&mut v, &r.metadata_xml);
        let attribute = xaccount_attribute(&mut v, &r.xaccount_attribute);
        let policy = policy(&mut v, r.first_login_policy);
        let urls = allow_list(&mut v, &r.service_urls);
        let notification = notification_url(&mut v, self, &r.notification_url);
        let parsed = (|| {
            Some((
                request_id?,
                NewIdp {
                    xaccount_type: xaccount_type?,
                    metadata: metadata?,
                    xaccount_attribute: attribute?,
                    first_login_policy: policy?,
                    require_signed_assertions: !r.allow_unsigned_assertions,
                    service_urls: urls?,
                    notification_url: notification?,
                },
            ))
        })();
        let (request_id, cmd) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.federation.register_idp(m, cmd).await?))
    }

    async fn get_identity_provider(
        &self,
        req: Request<pb::GetIdentityProviderRequest>,
    ) -> Result<Response<pb::GetIdentityProviderResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        let mut v = Violations::new();
        let id = idp_id(&mut v, &req.get_ref().id);
        let id = v.finish_with(id)?;
        let idp = self.federation.get_idp(&principal, &id).await?;
        Ok(Response::new(pb::GetIdentityProviderResponse {
            identity_provider: Some(idp),
        }))
    }

    async fn list_identity_providers(
        &self,
        req: Request<pb::ListIdentityProvidersRequest>,
    ) -> Result<Response<pb::ListIdentityProvidersResponse>, Status> {
        let principal = Principal::from_request(&req)?;
        Ok(Response::new(pb::ListIdentityProvidersResponse {
            identity_providers: self.federation.list_idps(&principal).await?,
        }))
    }

    async fn update_identity_provider(
        &self,
        req: Request<pb::UpdateIdentityProviderRequest>,
    ) -> Result<Response<pb::UpdateIdentityProviderResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = idp_id(&mut v, &r.id);
        let paths = validate::mask_paths(&mut v, r.update_mask);
        let mut changes = IdpChanges::default();
        for path in &paths {
            match path.as_str() {
                "metadata_xml" => changes.metadata = metadata_xml(&mut v, &r.metadata_xml),
                "xaccount_attribute" => {
                    changes.xaccount_attribute = xaccount_attribute(&mut v, &r.xaccount_attribute);
                }
                "first_login_policy" => {
                    changes.first_login_policy = policy(&mut v, r.first_login_policy);
                }
                "allow_unsigned_assertions" => {
                    changes.require_signed_assertions = Some(!r.allow_unsigned_assertions);
                }
                "service_urls" => changes.service_urls = allow_list(&mut v, &r.service_urls),
                "notification_url" => {
                    changes.notification_url = notification_url(&mut v, self, &r.notification_url);
                }
                _ => validate::not_updatable(&mut v, path),
            }
        }
        v.check(
            (0..=MAX_OVERLAP_SECS).contains(&r.rollover_overlap_seconds),
            "rollover_overlap_seconds",
            "0 to 2592000 (30 days)",
        );
        v.check(
            r.rollover_overlap_seconds == 0 || paths.iter().any(|p| p == "metadata_xml"),
            "rollover_overlap_seconds",
            "only with metadata_xml in update_mask",
        );
        changes.rollover_overlap =
            Duration::seconds(r.rollover_overlap_seconds.clamp(0, MAX_OVERLAP_SECS));
        let parsed = (|| Some((request_id?, id?)))();
        let (request_id, id) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(
            self.federation.update_idp(m, id, changes).await?,
        ))
    }

    async fn delete_identity_provider(
        &self,
        req: Request<pb::DeleteIdentityProviderRequest>,
    ) -> Result<Response<pb::DeleteIdentityProviderResponse>, Status> {
        let call = self.calls.start(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let request_id = v.take("request_id", validate::request_id(&r.request_id));
        let id = idp_id(&mut v, &r.id);
        let parsed = (|| Some((request_id?, id?)))();
        let (request_id, id) = v.finish_with(parsed)?;
        let m = call.mutation(request_id)?;
        Ok(Response::new(self.federation.delete_idp(m, id).await?))
    }

    async fn exchange_saml_response(
        &self,
        req: Request<pb::ExchangeSamlResponseRequest>,
    ) -> Result<Response<pb::ExchangeSamlResponseResponse>, Status> {
        let r = req.into_inner();
        let mut v = Violations::new();
        v.check(!r.saml_response.is_empty(), "saml_response", "required");
        v.finish()?;
        Ok(Response::new(
            self.federation
                .exchange_saml_response(&r.saml_response)
                .await?,
        ))
    }

    async fn get_service_provider_metadata(
        &self,
        _req: Request<pb::GetServiceProviderMetadataRequest>,
    ) -> Result<Response<pb::GetServiceProviderMetadataResponse>, Status> {
        Ok(Response::new(
            self.federation.service_provider_metadata().await?,
        ))
    }

    async fn create_login_url(
        &self,
        req: Request<pb::CreateLoginUrlRequest>,
    ) -> Result<Response<pb::CreateLoginUrlResponse>, Status> {
        let r = req.into_inner();
        let mut v = Violations::new();
        if let Err((field, problem)) = check_start(&r.xaccount_type, &r.service) {
            v.add(field, problem);
        }
        v.finish()?;
        Ok(Response::new(
            self.federation
                .create_login_url(&r.xaccount_type, r.first_login, &r.service)
                .await?,
        ))
    }

    async fn exchange_login_code(
        &self,
        req: Request<pb::ExchangeLoginCodeRequest>,
    ) -> Result<Response<pb::ExchangeLoginCodeResponse>, Status> {
        let r = req.into_inner();
        let mut v = Violations::new();
        v.check(!r.code.is_empty(), "code", "required");
        v.check(
            r.code.len() <= MAX_CODE_LEN,
            "code",
            "at most 128 characters",
        );
        v.finish()?;
        Ok(Response::new(
            self.federation.exchange_login_code(&r.code).await?,
        ))
    }
}
