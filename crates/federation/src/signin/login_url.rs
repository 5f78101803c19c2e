//! SP-initiated sign-in: a signed, deflated AuthnRequest for the partner's
//! IdP (HTTP-Redirect binding) whose ID ([`super::request_id`]) a response
//! must carry in `InResponseTo`; the service URL rides in RelayState.
//! Nothing is stored until a verified response answers it.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use partner_api::iam::v1 as pb;
use partner_customers::customers::rules;
use partner_kernel::clock::to_proto_timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::acs::default_service;
use super::request_id;
use crate::error::FederationError;
use crate::idps::{IdentityProvider, service_urls, store as idps};
use crate::service::{Federation, ServiceProvider};
use crate::sp::escape;
use crate::sp::key::SIG_ALG;

/// How long an AuthnRequest can be answered: the time a person takes to sign in at the IdP.
pub const REQUEST_TTL_SECS: i64 = 600;

/// RFC 3986: everything but the unreserved characters is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The AuthnRequest: our entity id as Issuer, our ACS over HTTP-POST.
fn authn_request(id: &str, now: DateTime<Utc>, destination: &str, sp: &ServiceProvider) -> String {
    format!(
        concat!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" "#,
            r#"IssueInstant="{instant}" Destination="{destination}" "#,
            r#"AssertionConsumerServiceURL="{acs}" "#,
            r#"ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">"#,
            r#"<saml:Issuer>{issuer}</saml:Issuer>"#,
            r#"<samlp:NameIDPolicy AllowCreate="true"/>"#,
            r#"</samlp:AuthnRequest>"#,
        ),
        id = id,
        instant = now.format("%Y-%m-%dT%H:%M:%SZ"),
        destination = escape::xml(destination),
        acs = escape::xml(&sp.acs_url),
        issuer = escape::xml(&sp.entity_id),
    )
}

/// What a sign-in's start must be, whether it comes as the RPC or as
/// `GET /saml/login`: the field at fault and why.
pub(crate) fn check_start(
    xaccount_type: &str,
    service: &str,
) -> Result<(), (&'static str, &'static str)> {
    rules::xaccount_type(xaccount_type).map_err(|problem| ("xaccount_type", problem))?;
    if service.len() > service_urls::MAX_LEN {
        return Err(("service", "at most 512 characters"));
    }
    Ok(())
}

/// The parameters of `GET /saml/login?xaccount_type=…&first_login=…&service=…`.
fn login_query(query: &str) -> Result<(String, bool, String), FederationError> {
    let bad = |field, problem| FederationError::LoginQuery { field, problem };
    let [xaccount_type, first_login, service] = super::form::fields(
        query.as_bytes(),
        ["xaccount_type", "first_login", "service"],
    )
    .map_err(|problem| bad("query", problem))?;
    let (xaccount_type, service) = (
        xaccount_type.unwrap_or_default(),
        service.unwrap_or_default(),
    );
    check_start(&xaccount_type, &service).map_err(|(field, problem)| bad(field, problem))?;
    let first_login = match first_login.as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(bad("first_login", "true or false")),
    };
    Ok((xaccount_type, first_login, service))
}

impl Federation {
    /// The IdP URL `GET /saml/login` redirects to.
    pub async fn login_redirect(&self, query: &str) -> Result<String, FederationError> {
        let (xaccount_type, first_login, service) = login_query(query)?;
        Ok(self
            .create_login_url(&xaccount_type, first_login, &service)
            .await?
            .login_url)
    }

    /// Where to send a browser to sign in at the IdP of `xaccount_type`, to
    /// land on `service` (empty: the IdP's first allowed URL) afterwards.
    pub async fn create_login_url(
        &self,
        xaccount_type: &str,
        first_login: bool,
        service: &str,
    ) -> Result<pb::CreateLoginUrlResponse, FederationError> {
        let now = self.clock.now();
        let idp = idps::by_xaccount_type(self.db.conn(), xaccount_type)
            .await?
            .ok_or(FederationError::IdpNotFound)?;
        let idp = IdentityProvider::of_row(idp)?;
        let target = if service.is_empty() {
            default_service(&idp)?
        } else {
            service.to_owned()
        };
        let service_url = service_urls::allowed(&idp.service_urls, &target)
            .ok_or(FederationError::ServiceUrlNotAllowed)?
            .to_string();
        let key = self.sp_keys.current().await?;
        let expires_at = now + Duration::seconds(REQUEST_TTL_SECS);
        let id = request_id::issue(
            &self.request_key,
            &idp.id,
            &service_url,
            first_login,
            expires_at,
        )?;
        let xml = authn_request(&id, now, &idp.sso_url, &self.sp);
        let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
        let b64 = base64::engine::general_purpose::STANDARD;
        // The binding signs the query exactly as sent, in this order.
        let mut query = format!(
            "SAMLRequest={}&RelayState={}&SigAlg={}",
            encode(&b64.encode(deflated)),
            encode(&service_url),
            encode(SIG_ALG),
        );
        let signature = {
            let _slot = self.slots.take().await?;
            key.sign(query.as_bytes())
        };
        query.push_str("&Signature=");
        query.push_str(&encode(&b64.encode(signature)));
        let separator = if idp.sso_url.contains('?') { '&' } else { '?' };
        Ok(pb::CreateLoginUrlResponse {
            login_url: format!("{}{separator}{query}", idp.sso_url),
            authn_request_id: id,
            expire_time: Some(to_proto_timestamp(expires_at)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_us_and_escapes_what_it_quotes() {
        let sp = ServiceProvider::under("https://sp.example").unwrap_or_else(|e| panic!("{e}"));
        let xml = authn_request("_1", Utc::now(), "https://idp.example/sso?a=1&b=\"2\"", &sp);
        assert!(xml.contains(r#"Destination="https://idp.example/sso?a=1&amp;b=&quot;2&quot;""#));
        assert!(xml.contains("<saml:Issuer>https://sp.example/saml/metadata</saml:Issuer>"));
        assert!(xml.contains(r#"AssertionConsumerServiceURL="https://sp.example/saml/acs""#));
        assert_eq!(encode("a b/+=~"), "a%20b%2F%2B%3D~");
    }

    #[test]
    fn the_login_query_is_read_strictly() {
        let (t, first, service) = login_query(
            "xaccount_type=ACME_IDP&first_login=true&service=https%3A%2F%2Fa.example%2F",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.as_str(), first, service.as_str()),
            ("ACME_IDP", true, "https://a.example/")
        );
        assert!(
            !login_query("xaccount_type=ACME_IDP")
                .map(|q| q.1)
                .unwrap_or(true)
        );
        for bad in [
            "",
            "first_login=true",
            "xaccount_type=",
            "xaccount_type=A&xaccount_type=B",
            "xaccount_type=ACME_IDP&first_login=yes",
            "xaccount_type=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(login_query(bad).is_err(), "{bad}");
        }
    }
}
