//! The SAML browser endpoints: our metadata, the start of an SP-initiated
//! sign-in (a redirect to the partner's IdP), and the ACS, which redirects
//! to the service URL with a one-time login code. Refusals are plain-text
//! pages naming the reason, the same reasons the RPCs give.

use http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use partner_federation::signin::acs::MAX_FORM_BYTES;
use partner_federation::{Federation, FederationError};
use tonic_types::StatusExt;

use super::{Reply, built, reply};

pub const METADATA_PATH: &str = "/saml/metadata";
pub const LOGIN_PATH: &str = "/saml/login";
pub const ACS_PATH: &str = "/saml/acs";

/// `GET /saml/metadata`.
pub async fn metadata(federation: &Federation) -> Reply {
    match federation.service_provider_metadata().await {
        Ok(m) => built(
            reply(StatusCode::OK)
                .header(http::header::CONTENT_TYPE, "application/samlmetadata+xml")
                .header(http::header::CACHE_CONTROL, "public, max-age=300")
                .body(tonic::body::Body::new(m.metadata_xml)),
        ),
        Err(e) => refused(e),
    }
}

/// `GET /saml/login?xaccount_type=…&first_login=…&service=…`: 302 to the IdP.
pub async fn login(federation: &Federation, query: &str) -> Reply {
    match federation.login_redirect(query).await {
        Ok(url) => redirect(StatusCode::FOUND, &url),
        Err(e) => refused(e),
    }
}

/// `POST /saml/acs` (form fields `SAMLResponse`, `RelayState`): 303 to the
/// service URL with `login_code`.
pub async fn acs(federation: &Federation, req: http::Request<tonic::body::Body>) -> Reply {
    let form = match Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return refused(partner_federation::saml::Rejection::TooLarge.into());
        }
        Err(_) => return refused(FederationError::AcsForm("the form could not be read")),
    };
    match federation.consume_post(&form).await {
        Ok(url) => redirect(StatusCode::SEE_OTHER, &url),
        Err(e) => refused(e),
    }
}

fn redirect(status: StatusCode, location: &str) -> Reply {
    built(
        reply(status)
            .header(http::header::LOCATION, location)
            .header(http::header::CACHE_CONTROL, "no-store")
            .body(tonic::body::Body::default()),
    )
}

/// A refusal as a page: the HTTP status nearest the gRPC code, and the reason.
fn refused(e: FederationError) -> Reply {
    let status = tonic::Status::from(e);
    let reason = status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default();
    let http_status = match status.code() {
        tonic::Code::InvalidArgument if reason == "SAML_TOO_LARGE" => StatusCode::PAYLOAD_TOO_LARGE,
        tonic::Code::InvalidArgument | tonic::Code::OutOfRange => StatusCode::BAD_REQUEST,
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::PermissionDenied | tonic::Code::FailedPrecondition => StatusCode::FORBIDDEN,
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        tonic::Code::Unavailable | tonic::Code::Aborted => StatusCode::SERVICE_UNAVAILABLE,
        tonic::Code::AlreadyExists => StatusCode::CONFLICT,
        tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => StatusCode::GATEWAY_TIMEOUT,
        tonic::Code::Ok
        | tonic::Code::Unknown
        | tonic::Code::Unimplemented
        | tonic::Code::Internal
        | tonic::Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::info!(reason, status = %http_status, "SAML browser request refused");
    built(
        reply(http_status)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(http::header::CACHE_CONTROL, "no-store")
            .body(tonic::body::Body::new(format!(
                "Sign-in refused ({reason}): {}\n",
                status.message()
            ))),
    )
}
