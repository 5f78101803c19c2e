//! The assertion consumer service (`POST /saml/acs`, HTTP-POST binding) and
//! the one-time code it hands the browser: the browser lands on the service
//! URL with `login_code`, which the frontend exchanges over gRPC
//! (`ExchangeLoginCode`) — no token ever appears in a URL.

use chrono::Duration;
use partner_api::iam::v1 as pb;
use partner_kernel::bearer;
use partner_kernel::ids::{CustomerId, parse_stored};
use url::Url;

use super::{Accepted, store};
use crate::error::FederationError;
use crate::idps::{IdentityProvider, service_urls, store as idps};
use crate::service::Federation;

/// What a login code starts with, so that a leaked one is recognisable.
pub const CODE_PREFIX: &str = "lc_";
/// How long a login code can be exchanged.
pub const CODE_TTL_SECS: i64 = 60;
/// Largest form the ACS reads: the encoded-response cap and a RelayState.
pub const MAX_FORM_BYTES: usize = 160 * 1024;
/// Longest code accepted for exchange (ours are 46 characters).
pub const MAX_CODE_LEN: usize = 128;

/// The fields of the HTTP-POST binding's form.
fn form_fields(form: &[u8]) -> Result<(String, Option<String>), FederationError> {
    let [response, relay] = super::form::fields(form, ["SAMLResponse", "RelayState"])
        .map_err(FederationError::AcsForm)?;
    let response = response
        .filter(|r| !r.is_empty())
        .ok_or(FederationError::AcsForm("no SAMLResponse field"))?;
    Ok((response, relay.filter(|r| !r.is_empty())))
}

/// Where the browser lands: the RelayState (for an SP-initiated answer,
/// once normalised, the service the AuthnRequest was made for), else the
/// IdP's first allowed URL — always on the IdP's allow-list, and with no
/// `login_code` of its own (one could be an attacker's).
fn landing(accepted: &Accepted, relay: Option<&str>) -> Result<Url, FederationError> {
    let target = match relay {
        Some(relay) => relay.to_owned(),
        None => default_service(&accepted.idp)?,
    };
    let url = service_urls::allowed(&accepted.idp.service_urls, &target)
        .ok_or(FederationError::ServiceUrlNotAllowed)?;
    if let (Some(request), Some(_)) = (&accepted.request, relay)
        && !request.names_service(url.as_str())
    {
        return Err(FederationError::RelayStateMismatch);
    }
    Ok(without_login_code(url))
}

fn without_login_code(mut url: Url) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "login_code")
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url
}

/// Where a sign-in with no service named lands.
pub(crate) fn default_service(idp: &IdentityProvider) -> Result<String, FederationError> {
    idp.service_urls
        .first()
        .cloned()
        .ok_or(FederationError::NoServiceUrl)
}

impl Federation {
    /// Accepts a posted SAML response and answers where to send the browser:
    /// the service URL with a fresh one-time `login_code`.
    pub async fn consume_post(&self, form: &[u8]) -> Result<String, FederationError> {
        let (response, relay) = form_fields(form)?;
        let accepted = self.accept(&response, super::VIA_ACS).await?;
        let mut target = landing(&accepted, relay.as_deref())?;
        let code = bearer::new_token(CODE_PREFIX)?;
        let now = self.clock.now();
        let tx = self.db.begin_write().await?;
        store::issue_code(
            &*tx,
            bearer::token_sha256(&code),
            &accepted.idp.id,
            &accepted.customer.id.to_string(),
            now,
            now + Duration::seconds(CODE_TTL_SECS),
        )
        .await?;
        tx.commit().await?;
        target.query_pairs_mut().append_pair("login_code", &code);
        Ok(target.to_string())
    }

    /// Spends a login code and opens the customer's session, if the customer
    /// is still its IdP's partner's and may sign in.
    pub async fn exchange_login_code(
        &self,
        code: &str,
    ) -> Result<pb::ExchangeLoginCodeResponse, FederationError> {
        let now = self.clock.now();
        let tx = self.db.begin_write().await?;
        let spent = store::spend_code(&*tx, &bearer::token_sha256(code), now)
            .await?
            .ok_or(FederationError::LoginCodeInvalid)?;
        tx.commit().await?;
        // An IdP deleted since the code was issued no longer vouches.
        let idp = idps::by_id(self.db.conn(), &spent.idp_id)
            .await?
            .ok_or(FederationError::LoginCodeInvalid)?;
        let idp = IdentityProvider::of_row(idp)?;
        let id = parse_stored(&spent.customer_id, CustomerId::parse)?;
        let customer = self
            .customers
            .find_sign_in_by_id(id)
            .await?
            .ok_or(FederationError::CustomerNotAssociated)?;
        super::vouches_for(&idp, &customer)?;
        let tokens = self.gateway.federated_customer_session(&customer).await?;
        Ok(pb::ExchangeLoginCodeResponse {
            tokens: Some(tokens),
            customer_id: customer.id.to_string(),
            identity_provider_id: idp.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landing_url_keeps_no_login_code_of_its_own() {
        let url = |s: &str| Url::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            without_login_code(url(
                "https://a.example/x?login_code=evil&tab=1&login_code=2#f"
            ))
            .as_str(),
            "https://a.example/x?tab=1#f"
        );
        assert_eq!(
            without_login_code(url("https://a.example/x?login_code=evil")).as_str(),
            "https://a.example/x"
        );
    }

    #[test]
    fn the_form_needs_one_saml_response() {
        let (response, relay) =
            form_fields(b"SAMLResponse=PHg%2B&RelayState=https%3A%2F%2Fa.example%2F&x=1")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response, "PHg+");
        assert_eq!(relay.as_deref(), Some("https://a.example/"));
        assert!(form_fields(b"RelayState=x").is_err());
        assert!(form_fields(b"SAMLResponse=").is_err());
        assert!(form_fields(b"SAMLResponse=a&SAMLResponse=b").is_err());
        assert!(form_fields(b"SAMLResponse=a&RelayState=x&RelayState=y").is_err());
        assert_eq!(
            form_fields(b"SAMLResponse=a&RelayState=")
                .unwrap_or_else(|e| panic!("{e}"))
                .1,
            None
        );
    }
}
