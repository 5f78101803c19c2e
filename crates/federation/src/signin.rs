//! Signing a customer in with a SAML response its partner's IdP signed.
//!
//! The response names its IdP by its Issuer; only that IdP's registered
//! certificates can verify it; the xaccount id comes from the verified
//! assertion and is looked up under the IdP's own sales-platform id, so a
//! partner's IdP can never reach another partner's customer.

use partner_api::iam::v1 as pb;
use partner_kernel::time;

use crate::error::FederationError;
use crate::idps::{FirstLoginPolicy, IdentityProvider, store};
use crate::saml::{Expected, Rejection, TrustedIdp, decode, response};
use crate::service::Federation;

/// Longer assertion ids are refused (the replay cache's column).
const MAX_ASSERTION_ID: usize = 256;

impl Federation {
    /// Verifies a base64 SAMLResponse and opens a session for the customer it names.
    pub async fn exchange_saml_response(
        &self,
        encoded: &str,
    ) -> Result<pb::ExchangeSamlResponseResponse, FederationError> {
        let now = self.clock.now();
        let xml = decode::saml_response(encoded)?;
        let parsed = response::parse(&xml)?;
        let issuer = parsed.claimed_issuer()?;
        let idp = store::by_entity_id(self.db.conn(), &issuer)
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
        let verified = parsed.verify(&trusted, &expected)?;
        if verified.assertion_id.len() > MAX_ASSERTION_ID {
            return Err(Rejection::NotAResponse("the assertion ID is longer than 256").into());
        }
        // No AuthnRequest is outstanding yet: only IdP-initiated responses.
        if verified.in_response_to.is_some() {
            return Err(Rejection::UnknownInResponseTo.into());
        }
        // Spent before anything else happens: a response signs in once.
        let tx = self.db.begin_write().await?;
        let expires_at = time::checked_add(verified.valid_until, self.sp.skew)
            .map_err(|_| Rejection::NotAResponse("a validity that ends after year 9999"))?;
        let first = store::first_use(
            &*tx,
            &idp.entity_id,
            &verified.assertion_id,
            expires_at,
            now,
        )
        .await?;
        tx.commit().await?;
        if !first {
            return Err(Rejection::Replayed.into());
        }
        let customer = match self
            .customers
            .find_mapped(&idp.xaccount_type, &verified.xaccount_id)
            .await?
        {
            Some(customer) => customer,
            None => match idp.first_login_policy {
                FirstLoginPolicy::Refuse
                | FirstLoginPolicy::CreateCustomer
                | FirstLoginPolicy::BindExisting => return Err(FederationError::XaccountNotMapped),
            },
        };
        if customer.status.partner_id != Some(idp.partner_id) {
            return Err(FederationError::CustomerNotAssociated);
        }
        let tokens = self.gateway.federated_customer_session(&customer).await?;
        Ok(pb::ExchangeSamlResponseResponse {
            tokens: Some(tokens),
            customer_id: customer.id.to_string(),
            identity_provider_id: idp.id,
        })
    }
}
