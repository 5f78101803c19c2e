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
    pub(crate) async fn first_login(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        may_be_first: bool,
        via: &'static str,
    ) -> Result<SignInCustomer, FederationError> {
        match idp.first_login_policy {
            FirstLoginPolicy::CreateCustomer if may_be_first => {
                self.create_on_first_login(idp, verified, via).await
            }
            FirstLoginPolicy::BindExisting if may_be_first => {
                self.bind_on_first_login(idp, verified, via).await
            }
            FirstLoginPolicy::CreateCustomer
            | FirstLoginPolicy::Refuse
            | FirstLoginPolicy::BindExisting => Err(FederationError::XaccountNotMapped),
        }
    }

    async fn bind_on_first_login(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        via: &'static str,
    ) -> Result<SignInCustomer, FederationError> {
        let xaccount_id = checked_xaccount_id(verified)?;
        self.partner_active(idp).await?;
        let customer_id = verified
            .profile
            .customer_id
            .as_deref()
            .and_then(|raw| CustomerId::parse(raw).ok())
            .ok_or(FederationError::FirstLoginProfile {
                attribute: "customer_id",
                rule: "must name a customer (cus_…) of the partner",
            })?;
        let bound = self
            .customers
            .bind_federated(
                via,
                self.clock.now(),
                XaccountBinding {
                    partner_id: idp.partner_id,
                    xaccount_type: idp.xaccount_type.clone(),
                    xaccount_id: xaccount_id.clone(),
                    customer_id,
                    identity_provider_id: idp.id.clone(),
                },
            )
            .await;
        self.now_mapped(idp, &xaccount_id, bound).await
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

    /// The customer mapped to the xaccount after a creation or binding. One
    /// that lost to a concurrent first sign-in (`XACCOUNT_TAKEN`) reads the
    /// winner's; the association check that follows decides if it counts.
    async fn now_mapped(
        &self,
        idp: &IdentityProvider,
        xaccount_id: &str,
        outcome: Result<(), CustomersError>,
    ) -> Result<SignInCustomer, FederationError> {
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
            .find_mapped(&idp.xaccount_type, xaccount_id)
            .await?
            .ok_or(FederationError::XaccountNotMapped)
    }

    async fn create_on_first_login(
        &self,
        idp: &IdentityProvider,
        verified: &VerifiedAssertion,
        via: &'static str,
    ) -> Result<SignInCustomer, FederationError> {
        let xaccount_id = checked_xaccount_id(verified)?;
        let p = &verified.profile;
        let profile = Profile::of(
            p.email.as_deref(),
            p.mobile.as_deref(),
            p.country.as_deref(),
        )
        .map_err(|(attribute, rule)| FederationError::FirstLoginProfile { attribute, rule })?;
        self.partner_active(idp).await?;
        let created = self
            .customers
            .create_federated(
                via,
                self.clock.now(),
                FederatedCustomer {
                    partner_id: idp.partner_id,
                    xaccount_type: idp.xaccount_type.clone(),
                    xaccount_id: xaccount_id.clone(),
                    profile,
                    identity_provider_id: idp.id.clone(),
                },
            )
            .await;
        self.now_mapped(idp, &xaccount_id, created.map(|_| ()))
            .await
    }
}

/// The xaccount id, if a customer may be mapped to it (1–64 characters, …).
fn checked_xaccount_id(verified: &VerifiedAssertion) -> Result<String, FederationError> {
    rules::xaccount_id(&verified.xaccount_id).map_err(|rule| FederationError::FirstLoginProfile {
        attribute: "xaccount id",
        rule,
    })
}
