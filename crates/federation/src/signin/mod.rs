//! Signing a customer in with a SAML response its partner's IdP signed:
//! through `ExchangeSamlResponse`, or a browser posting to the ACS
//! ([`acs`]) after an IdP-initiated or SP-initiated ([`login_url`]) start.
//!
//! The response names its IdP by its Issuer; only that IdP's registered
//! certificates can verify it; the xaccount id comes from the verified
//! assertion and is looked up under the IdP's own sales-platform id, so a
//! partner's IdP can never reach another partner's customer.

pub mod acs;
mod first_login;
mod form;
pub mod login_url;
pub mod request_id;
mod store;

use partner_api::iam::v1 as pb;
use partner_customers::principals::SignInCustomer;
use partner_kernel::time;

use crate::error::FederationError;
use crate::idps::{IdentityProvider, store as idps};
use crate::saml::{Expected, Rejection, TrustedIdp, decode, response};
use crate::service::Federation;
use request_id::RequestState;

/// The entry points, as the audit records of first-login creations name them.
pub const VIA_RPC: &str = "partner.iam.v1.FederationService/ExchangeSamlResponse";
pub const VIA_ACS: &str = "POST /saml/acs";

/// Longer assertion ids are refused (the replay cache's column).
const MAX_ASSERTION_ID: usize = 256;

/// A verified, unspent response and the customer it vouches for.
pub(crate) struct Accepted {
    pub idp: IdentityProvider,
    pub customer: SignInCustomer,
    /// The AuthnRequest it answered (SP-initiated), now spent.
    pub request: Option<RequestState>,
}

impl Federation {
    /// Verifies a base64 SAMLResponse and opens a session for the customer it names.
    pub async fn exchange_saml_response(
        &self,
        encoded: &str,
    ) -> Result<pb::ExchangeSamlResponseResponse, FederationError> {
        let accepted = self.accept(encoded, VIA_RPC).await?;
        let tokens = self
            .gateway
            .federated_customer_session(&accepted.customer)
            .await?;
        Ok(pb::ExchangeSamlResponseResponse {
            tokens: Some(tokens),
            customer_id: accepted.customer.id.to_string(),
            identity_provider_id: accepted.idp.id,
        })
    }

    /// Verifies a response, spends it (and the request it answers), and
    /// finds (or, on a first sign-in the IdP's policy allows, creates) the
    /// customer it vouches for. A refusal after verification leaves the
    /// spent assertion and request ids behind, nothing else.
    pub(crate) async fn accept(
        &self,
        encoded: &str,
        via: &'static str,
    ) -> Result<Accepted, FederationError> {
        // Decoding, parsing and verifying are the CPU-heavy part; the slot
        // is not held across the database read between them.
        let slot = self.slots.take().await?;
        let now = self.clock.now();
        let xml = decode::saml_response(encoded)?;
        let parsed = response::parse(&xml)?;
        let issuer = parsed.claimed_issuer()?;
        drop(slot);
        let idp = idps::by_entity_id(self.db.conn(), &issuer)
            .await?
            .ok_or(Rejection::UnknownIssuer)?;
        let idp = IdentityProvider::of_row(idp)?;
        let certificates = idp.accepted_certificates(now);
        let source = idp.xaccount_source();
        let trusted = TrustedIdp {
            entity_id: &idp.entity_id,
            certificates: &certificates,
            require_signed_assertions: idp.require_signed_assertions,
            xaccount: &source,
        };
        let expected = Expected {
            sp_entity_id: &self.sp.entity_id,
            acs_url: &self.sp.acs_url,
            now,
            skew: self.sp.skew,
        };
        let verified = {
            let _slot = self.slots.take().await?;
            parsed.verify(&trusted, &expected)?
        };
        if verified.assertion_id.len() > MAX_ASSERTION_ID {
            return Err(Rejection::NotAResponse("the assertion ID is longer than 256").into());
        }
        let expires_at = time::checked_add(verified.valid_until, self.sp.skew)
            .map_err(|_| Rejection::NotAResponse("a validity that ends after year 9999"))?;
        // Spent as soon as it verified, before the customer is looked at: a
        // response signs in once, and answers its request once.
        let request = match &verified.in_response_to {
            Some(id) => Some((
                id,
                request_id::open(&self.request_key, &idp.id, id)
                    .filter(|r| r.expires_at > now)
                    .ok_or(Rejection::UnknownInResponseTo)?,
            )),
            None => None,
        };
        let tx = self.db.begin_write().await?;
        if let Some((id, state)) = &request
            && !store::answer_request(&*tx, id, state.expires_at + self.sp.skew).await?
        {
            return Err(Rejection::UnknownInResponseTo.into());
        }
        if !idps::first_use(&*tx, &idp.entity_id, &verified.assertion_id, expires_at).await? {
            return Err(Rejection::Replayed.into());
        }
        tx.commit().await?;
        let may_be_first = request.as_ref().is_none_or(|(_, state)| state.first_login);
        let customer = match self
            .customers
            .find_mapped(&idp.xaccount_type, &verified.xaccount_id)
            .await?
        {
            Some(customer) => customer,
            None => self.first_login(&idp, &verified, may_be_first, via).await?,
        };
        vouches_for(&idp, &customer)?;
        Ok(Accepted {
            idp,
            customer,
            request: request.map(|(_, state)| state),
        })
    }

    /// Forgets what has expired: used assertions, answered requests and
    /// login codes (a job of every server; any replica's sweep serves all).
    pub async fn prune_expired(&self) -> Result<u64, FederationError> {
        let now = self.clock.now();
        let tx = self.db.begin_write().await?;
        let pruned = idps::prune_used(&*tx, now).await? + store::prune(&*tx, now).await?;
        tx.commit().await?;
        Ok(pruned)
    }
}

/// Whether `idp` may sign `customer` in now: the customer is its partner's
/// and may act (a frozen one gets neither a session nor a login code).
fn vouches_for(idp: &IdentityProvider, customer: &SignInCustomer) -> Result<(), FederationError> {
    if customer.status.partner_id != Some(idp.partner_id) {
        return Err(FederationError::CustomerNotAssociated);
    }
    partner_gateway::service::admit_customer(customer.status)?;
    Ok(())
}
