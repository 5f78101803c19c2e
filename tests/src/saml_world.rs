//! A federated world for SAML sign-in tests: a server on a test clock, a
//! partner with a mapped customer, the local IdP ([`crate::saml_idp`])
//! registered, and a browser.

use std::sync::Arc;

use partner_api::accounts::v1 as pb;
use partner_api::customers::v1 as cu;
use partner_api::iam::v1 as iam;
use partner_kernel::clock::TestClock;

use crate::saml_idp::TestIdp;
use crate::{TestServer, ok, register_idp_request, saml_fixture_time};

pub const XACCOUNT: &str = "crm-20001";

/// A browser: it follows redirects, keeps no cookies, and can stop following.
pub fn browser(follow: bool) -> reqwest::Client {
    let policy = if follow {
        reqwest::redirect::Policy::limited(5)
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .redirect(policy)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub struct World {
    pub server: TestServer,
    pub clock: Arc<TestClock>,
    pub partner: pb::Partner,
    pub master: String,
    pub customer: cu::Customer,
    pub idp: TestIdp,
    pub sp_cert_pem: String,
}

impl World {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    pub fn xaccount_type(&self) -> String {
        self.partner.sales_platform_ids[0].clone()
    }

    /// Posts the HTTP-POST binding's form to the ACS without following the answer.
    pub async fn post_acs<K: AsRef<str>, V: AsRef<str>>(
        &self,
        fields: &[(K, V)],
    ) -> reqwest::Response {
        post_form(&self.url("/saml/acs"), fields, false).await
    }

    pub async fn exchange_code(
        &self,
        code: &str,
    ) -> Result<iam::ExchangeLoginCodeResponse, tonic::Status> {
        self.server
            .federation("")
            .exchange_login_code(iam::ExchangeLoginCodeRequest { code: code.into() })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// A server on a test clock, a partner with a customer mapped to
/// [`XACCOUNT`], and the local IdP registered with its frontend allowed
/// (first-login policy REFUSE).
pub async fn world() -> World {
    world_with(iam::FirstLoginPolicy::Refuse).await
}

/// [`world`] with another first-login policy.
pub async fn world_with(policy: iam::FirstLoginPolicy) -> World {
    world_configured(policy, |_| {}).await
}

/// [`world_with`] on a server whose configuration `configure` changed.
pub async fn world_configured(
    policy: iam::FirstLoginPolicy,
    configure: impl FnOnce(&mut partner_server::config::Config),
) -> World {
    let clock = Arc::new(TestClock::new(saml_fixture_time()));
    let server = TestServer::start_with_clock_and(clock.clone(), configure).await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let customer = server.create_customer(&master, &partner, XACCOUNT).await;
    let metadata = ok(server
        .federation("")
        .get_service_provider_metadata(iam::GetServiceProviderMetadataRequest {})
        .await);
    let idp = TestIdp::start(
        XACCOUNT,
        format!("http://{}/saml/acs", server.addr),
        metadata.signing_certificate_pem.clone(),
        saml_fixture_time(),
    )
    .await;
    ok(server
        .federation(&master)
        .register_identity_provider(iam::RegisterIdentityProviderRequest {
            metadata_xml: idp.metadata(),
            service_urls: vec![idp.app_url()],
            first_login_policy: policy as i32,
            ..register_idp_request(&partner, "idp_metadata.xml")
        })
        .await);
    World {
        server,
        clock,
        partner,
        master,
        customer,
        idp,
        sp_cert_pem: metadata.signing_certificate_pem,
    }
}

pub fn login_code(location: &str) -> String {
    let url = url::Url::parse(location).unwrap_or_else(|e| panic!("{e}"));
    url.query_pairs()
        .find(|(k, _)| k == "login_code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no login_code in {location}"))
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap_or_else(|e| panic!("{e}")).to_owned())
        .unwrap_or_else(|| panic!("no Location: {r:?}"))
}

/// Posts a form as a browser does, following the answer's redirects or not.
pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(
    action: &str,
    fields: &[(K, V)],
    follow: bool,
) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
        .finish();
    browser(follow)
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts a refusal page: `status`, no redirect, and `reason` in the text.
pub async fn assert_refused_page(r: reqwest::Response, status: u16, reason: &str) {
    assert_eq!(r.status(), status, "{reason}");
    assert!(
        r.headers().get("location").is_none(),
        "a refusal redirects nowhere"
    );
    let text = r.text().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains(reason), "{text}");
}
