//! A partner's IdP and frontend for browser sign-in tests, on one local
//! port: `/sso` answers the platform's HTTP-Redirect AuthnRequests (after
//! checking their signature with the certificate from our metadata) with a
//! signed response in an auto-submitting form, the HTTP-POST binding's
//! page; `/app/…` is the frontend the sign-in lands on.
//!
//! Responses are signed here with bergshamra from templates, because they
//! must answer requests made during the test; the independent signer's
//! fixtures (`make_fixtures.py`) remain what the verification tests use.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_cert::der::{Decode, Encode};

use crate::saml_fixture;

/// The fixtures' IdP entity id and the SSO URL its metadata names.
pub const IDP_ENTITY_ID: &str = "https://sales.example-partner.com/idp";
const FIXTURE_SSO_URL: &str = "https://sales.example-partner.com/idp/sso";
/// What the platform is configured to call itself in tests.
pub const SP_ENTITY_ID: &str = "http://localhost:50051/saml/metadata";
pub const ACS_URL: &str = "http://localhost:50051/saml/acs";

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// What a signed response says.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    pub assertion_id: String,
    pub xaccount_id: String,
    pub in_response_to: Option<String>,
    /// Whether `in_response_to` is also in the signed assertion (else only
    /// on the unsigned Response).
    pub in_response_to_signed: bool,
    pub issued_at: DateTime<Utc>,
    /// More single-valued attributes (`email`, `country`, …).
    pub attributes: Vec<(String, String)>,
}

impl ResponseSpec {
    /// A response for `xaccount_id` issued at `at`, with a fresh assertion id.
    pub fn new(xaccount_id: &str, at: DateTime<Utc>) -> Self {
        Self {
            assertion_id: format!("_a{}", uuid::Uuid::new_v4().simple()),
            xaccount_id: xaccount_id.to_owned(),
            in_response_to: None,
            in_response_to_signed: true,
            issued_at: at,
            attributes: Vec::new(),
        }
    }

    /// With the attribute `name` = `value` too.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.attributes.push((name.to_owned(), value.to_owned()));
        self
    }
}

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A Response whose Assertion is signed (enveloped, exclusive C14N,
/// RSA-SHA256) with the fixture IdP's key.
pub fn signed_response(spec: &ResponseSpec) -> String {
    let id = &spec.assertion_id;
    let irt = spec
        .in_response_to
        .as_ref()
        .map(|r| format!(r#" InResponseTo="{r}""#))
        .unwrap_or_default();
    let signed_irt = if spec.in_response_to_signed {
        irt.clone()
    } else {
        String::new()
    };
    let (at, until) = (
        instant(spec.issued_at),
        instant(spec.issued_at + Duration::minutes(5)),
    );
    let before = instant(spec.issued_at - Duration::minutes(1));
    let more: String = spec
        .attributes
        .iter()
        .map(|(n, v)| {
            format!(r#"<saml:Attribute Name="{n}"><saml:AttributeValue>{v}</saml:AttributeValue></saml:Attribute>"#)
        })
        .collect();
    let template = format!(
        r##"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{id}" Version="2.0" IssueInstant="{at}" Destination="{ACS_URL}"{irt}><saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="{id}" Version="2.0" IssueInstant="{at}"><saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer><ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">n-{xaccount}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="{ACS_URL}"{signed_irt}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{before}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{SP_ENTITY_ID}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{at}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="xaccount_id"><saml:AttributeValue>{xaccount}</saml:AttributeValue></saml:Attribute>{more}</saml:AttributeStatement></saml:Assertion></samlp:Response>"##,
        xaccount = spec.xaccount_id,
    );
    let key = bergshamra_keys::loader::load_pem_auto(saml_fixture("idp.key").as_bytes(), None)
        .unwrap_or_else(|e| panic!("idp key: {e}"));
    let mut keys = bergshamra_keys::KeysManager::new();
    keys.add_key(key);
    let context = bergshamra_dsig::DsigContext::new(keys);
    bergshamra_dsig::sign::sign(&context, &template).unwrap_or_else(|e| panic!("sign: {e}"))
}

/// `signed_response` in base64, as the HTTP-POST binding carries it.
pub fn signed_response_base64(spec: &ResponseSpec) -> String {
    base64::engine::general_purpose::STANDARD.encode(signed_response(spec))
}

/// An AuthnRequest as the IdP received it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub id: String,
    pub relay_state: Option<String>,
    pub xml: String,
}

fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn attribute(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = xml[start..].find('"')? + start;
    Some(xml[start..end].to_owned())
}

/// Reads an HTTP-Redirect AuthnRequest from its query, checking the
/// signature over the query as sent with the certificate in `sp_cert_pem`.
pub fn read_redirect(query: &str, sp_cert_pem: &str) -> SeenRequest {
    let (signed, _) = query
        .split_once("&Signature=")
        .unwrap_or_else(|| panic!("unsigned AuthnRequest: {query}"));
    assert_eq!(
        query_value(query, "SigAlg").as_deref(),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = b64
        .decode(query_value(query, "Signature").unwrap_or_default())
        .unwrap_or_else(|e| panic!("signature: {e}"));
    let der = b64
        .decode(
            sp_cert_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap_or_else(|e| panic!("certificate: {e}"));
    let cert = x509_cert::Certificate::from_der(&der).unwrap_or_else(|e| panic!("{e}"));
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap_or_else(|e| panic!("{e}"));
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap_or_else(|e| panic!("{e}"));
    let signature = Signature::try_from(signature.as_slice()).unwrap_or_else(|e| panic!("{e}"));
    VerifyingKey::<Sha256>::new(public)
        .verify(signed.as_bytes(), &signature)
        .unwrap_or_else(|e| panic!("the AuthnRequest's signature does not verify: {e}"));
    let deflated = b64
        .decode(query_value(query, "SAMLRequest").unwrap_or_default())
        .unwrap_or_else(|e| panic!("SAMLRequest: {e}"));
    let xml = miniz_oxide::inflate::decompress_to_vec(&deflated)
        .map_err(|e| format!("{e:?}"))
        .and_then(|x| String::from_utf8(x).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("inflate: {e}"));
    SeenRequest {
        id: attribute(&xml, "ID").unwrap_or_else(|| panic!("no ID in {xml}")),
        relay_state: query_value(query, "RelayState"),
        xml,
    }
}

struct IdpState {
    xaccount_id: String,
    attributes: Vec<(String, String)>,
    acs_post_url: String,
    sp_cert_pem: String,
    now: DateTime<Utc>,
    requests: Vec<SeenRequest>,
}

/// The IdP and frontend, serving until dropped with the test's runtime.
pub struct TestIdp {
    pub addr: SocketAddr,
    state: Arc<Mutex<IdpState>>,
}

impl TestIdp {
    /// Signs in `xaccount_id` whenever asked, posting to `acs_post_url` (the
    /// server's real address: tests configure another public URL) responses
    /// dated `now`.
    pub async fn start(
        xaccount_id: &str,
        acs_post_url: String,
        sp_cert_pem: String,
        now: DateTime<Utc>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let state = Arc::new(Mutex::new(IdpState {
            xaccount_id: xaccount_id.to_owned(),
            attributes: Vec::new(),
            acs_post_url,
            sp_cert_pem,
            now,
            requests: Vec::new(),
        }));
        let served = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = served.clone();
                tokio::spawn(serve(stream, state));
            }
        });
        Self { addr, state }
    }

    /// The SSO URL the IdP's metadata names.
    pub fn sso_url(&self) -> String {
        format!("http://{}/sso", self.addr)
    }

    /// The frontend's base URL (for the allow-list).
    pub fn app_url(&self) -> String {
        format!("http://{}/app", self.addr)
    }

    /// The fixture IdP's metadata, with this IdP's SSO URL.
    pub fn metadata(&self) -> String {
        saml_fixture("idp_metadata.xml").replace(FIXTURE_SSO_URL, &self.sso_url())
    }

    /// From now on, signs in `xaccount_id` with `attributes`.
    pub fn sign_in_as(&self, xaccount_id: &str, attributes: &[(&str, &str)]) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.xaccount_id = xaccount_id.to_owned();
        s.attributes = attributes
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
    }

    /// The AuthnRequests received so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requests
            .clone()
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn serve(mut stream: tokio::net::TcpStream, state: Arc<Mutex<IdpState>>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") && raw.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, content_type, body) = if path == "/sso" {
        let page = {
            let mut s = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let seen = read_redirect(query, &s.sp_cert_pem);
            let mut spec = ResponseSpec::new(&s.xaccount_id, s.now);
            spec.in_response_to = Some(seen.id.clone());
            spec.attributes = s.attributes.clone();
            let relay = seen.relay_state.clone().unwrap_or_default();
            s.requests.push(seen);
            format!(
                r#"<html><body onload="document.forms[0].submit()"><form method="post" action="{}"><input type="hidden" name="SAMLResponse" value="{}"/><input type="hidden" name="RelayState" value="{}"/></form></body></html>"#,
                html_escape(&s.acs_post_url),
                signed_response_base64(&spec),
                html_escape(&relay),
            )
        };
        ("200 OK", "text/html", page)
    } else if path.starts_with("/app") {
        ("200 OK", "text/plain", "the partner's frontend".to_owned())
    } else {
        ("404 Not Found", "text/plain", String::new())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The auto-submitting form of an IdP page: its action and fields, as a
/// browser would read them.
pub fn read_form(page: &str) -> (String, Vec<(String, String)>) {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let action = attribute(page, "action").unwrap_or_else(|| panic!("no form in {page}"));
    let fields = page
        .split("<input ")
        .skip(1)
        .filter_map(|input| {
            Some((
                attribute(&format!(" {input}"), "name")?,
                attribute(&format!(" {input}"), "value")?,
            ))
        })
        .map(|(n, v)| (unescape(&n), unescape(&v)))
        .collect();
    (unescape(&action), fields)
}
