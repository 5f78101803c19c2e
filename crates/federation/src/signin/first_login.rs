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
        match bound {
            // Taken: a concurrent first sign-in bound it a moment ago (the
            // association check that follows decides whether it counts).
            Ok(()) | Err(CustomersError::XaccountTaken) => {}
            Err(CustomersError::CustomerNotFound) => {
                return Err(FederationError::CustomerNotAssociated);
            }
            Err(other) => return Err(other.into()),
        }
        self.customers
            .find_mapped(&idp.xaccount_type, &xaccount_id)
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
        let partner =
            partner_accounts::Accounts::partner_in(self.db.conn(), idp.partner_id).await?;
        match partner.state {
            PartnerState::Active | PartnerState::PendingVerification => {}
            PartnerState::Suspended | PartnerState::Terminated => {
                return Err(FederationError::PartnerInactive);
            }
        }
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
        match created {
            // Taken: a concurrent first sign-in created it a moment ago.
            Ok(_) | Err(CustomersError::XaccountTaken) => {}
            Err(other) => return Err(other.into()),
        }
        self.customers
            .find_mapped(&idp.xaccount_type, &xaccount_id)
            .await?
            .ok_or(FederationError::XaccountNotMapped)
    }
}

/// The xaccount id, if a customer may be mapped to it (1–64 characters, …).
fn checked_xaccount_id(verified: &VerifiedAssertion) -> Result<String, FederationError> {
    rules::xaccount_id(&verified.xaccount_id).map_err(|rule| FederationError::FirstLoginProfile {
        attribute: "xaccount id",
        rule,
    })
}
