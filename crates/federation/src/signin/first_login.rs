//! What an xaccount no customer is mapped to gets on its first sign-in: the
//! IdP's policy (create the customer, or bind the xaccount to a customer
//! the partner already has) — applied only to sign-ins that may be first ones
//! (IdP-initiated, or SP-initiated with `first_login=true`), so that a stale
//! or mistyped login link never creates a customer.

use partner_accounts::partners::PartnerState;
use partner_customers::CustomersError;
use partner_customers::customers::federated::{FederatedCustomer, Profile, XaccountBinding};
use partner_customers::customers::rules;
use partner_customers::principals::SignInCustomer;
use partner_kernel::ids::CustomerId;

use crate::error::FederationError;
use crate::idps::{FirstLoginPolicy, IdentityProvider};
use crate::saml::VerifiedAssertion;
use crate::service::Federation;

impl Federation {
    /// The customer for `verified`'s unmapped xaccount, per `idp`'s policy.
    /// One that lost to a concurrent first sign-in (`XACCOUNT_TAKEN`) reads
    /// the winner's; the association check that follows decides if it counts.
    pub(crate) async fn first_login(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        may_be_first: bool,
        via: &'static str,
    ) -> Result<SignInCustomer, FederationError> {
        if !may_be_first || idp.first_login_policy == FirstLoginPolicy::Refuse {
            return Err(FederationError::XaccountNotMapped);
        }
        let xaccount_id = rules::xaccount_id(&verified.xaccount_id).map_err(|rule| {
            FederationError::FirstLoginProfile {
                attribute: "xaccount id",
                rule,
            }
        })?;
        self.partner_active(idp).await?;
        let outcome = match idp.first_login_policy {
            FirstLoginPolicy::CreateCustomer => {
                self.create(idp, verified, &xaccount_id, via).await?
            }
            FirstLoginPolicy::BindExisting => self.bind(idp, verified, &xaccount_id, via).await?,
            FirstLoginPolicy::Refuse => return Err(FederationError::XaccountNotMapped),
        };
        match outcome {
            Ok(()) | Err(CustomersError::XaccountTaken) => {}
            // Another partner's customer is not told apart from a missing one.
            Err(CustomersError::CustomerNotFound) => {
                return Err(FederationError::CustomerNotAssociated);
            }
            // The sign-in's code for a frozen customer, as when it is mapped.
            Err(CustomersError::CustomerFrozen) => {
                return Err(partner_gateway::error::GatewayError::CustomerFrozen.into());
            }
            Err(other) => return Err(other.into()),
        }
        self.customers
            .find_mapped(&idp.xaccount_type, &xaccount_id)
            .await?
            .ok_or(FederationError::XaccountNotMapped)
    }

    /// A suspended or terminated partner's IdP gets no new customers or bindings.
    async fn partner_active(&self, idp: &IdentityProvider) -> Result<(), FederationError> {
        let partner =
            partner_accounts::Accounts::partner_in(self.db.conn(), idp.partner_id).await?;
        match partner.state {
            PartnerState::Active | PartnerState::PendingVerification => Ok(()),
            PartnerState::Suspended | PartnerState::Terminated => {
                Err(FederationError::PartnerInactive)
            }
        }
    }

    /// CREATE_CUSTOMER: the customers domain's answer, once the profile the
    /// assertion carries passed its rules.
    async fn create(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        xaccount_id: &str,
        via: &'static str,
    ) -> Result<Result<(), CustomersError>, FederationError> {
        let p = &verified.profile;
        let profile = Profile::of(
            p.email.as_deref(),
            p.mobile.as_deref(),
            p.country.as_deref(),
        )
        .map_err(|(attribute, rule)| FederationError::FirstLoginProfile { attribute, rule })?;
        let customer = FederatedCustomer {
            partner_id: idp.partner_id,
            xaccount_type: idp.xaccount_type.clone(),
            xaccount_id: xaccount_id.to_owned(),
            profile,
            identity_provider_id: idp.id.clone(),
        };
        Ok(self
            .customers
            .create_federated(via, self.clock.now(), customer)
            .await
            .map(|_| ()))
    }

    /// BIND_EXISTING: the customers domain's answer for the customer the
    /// assertion names.
    async fn bind(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        xaccount_id: &str,
        via: &'static str,
    ) -> Result<Result<(), CustomersError>, FederationError> {
        let customer_id = verified
            .profile
            .customer_id
            .as_deref()
            .and_then(|raw| CustomerId::parse(raw).ok())
            .ok_or(FederationError::FirstLoginProfile {
                attribute: "customer_id",
                rule: "must name a customer (cus_…) of the partner",
            })?;
        let binding = XaccountBinding {
            partner_id: idp.partner_id,
            xaccount_type: idp.xaccount_type.clone(),
            xaccount_id: xaccount_id.to_owned(),
            customer_id,
            identity_provider_id: idp.id.clone(),
        };
        Ok(self
            .customers
            .bind_federated(via, self.clock.now(), binding)
            .await)
    }
}
