//! What a partner's SAML IdP may do on the first sign-in of an unmapped
//! xaccount (the federation domain's first-login policies):
//! `CREATE_CUSTOMER` creates the customer with the rules of `CreateCustomer`,
//! its profile taken from the verified assertion and no password (it signs
//! in through the partner's SSO); `BIND_EXISTING` binds the xaccount to a
//! customer the partner already has.

use partner_api::customers::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use uuid::Uuid;

use super::model::AssociationType;
use super::rules;
use super::store::{self, NewCustomerRow};
use crate::error::CustomersError;
use crate::service::Customers;

/// A customer to create for an xaccount an IdP vouched for.
#[derive(Debug, Clone)]
pub struct FederatedCustomer {
    pub partner_id: PartnerId,
    pub xaccount_type: String,
    pub xaccount_id: String,
    pub profile: Profile,
    /// The IdP that vouched (`idp_…`), for the audit record.
    pub identity_provider_id: String,
}

/// What the assertion says about the newcomer, checked as `CreateCustomer` checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub country: String,
}

impl Profile {
    /// The profile from the assertion's `email`, `mobile` and `country`
    /// attributes; the error names the attribute and the rule it broke.
    pub fn of(
        email: Option<&str>,
        mobile: Option<&str>,
        country: Option<&str>,
    ) -> Result<Self, (&'static str, &'static str)> {
        if email.is_none() && mobile.is_none() {
            return Err(("email", rules::EMAIL_OR_MOBILE));
        }
        let email = email
            .map(rules::email)
            .transpose()
            .map_err(|e| ("email", e))?;
        let mobile = mobile
            .map(rules::mobile)
            .transpose()
            .map_err(|e| ("mobile", e))?;
        let country = rules::country(country.unwrap_or_default()).map_err(|e| ("country", e))?;
        Ok(Self {
            email,
            mobile,
            country,
        })
    }
}

/// A write the customer `id` makes through `method`, vouched for by an IdP
/// (no session, no permissions; a fresh idempotency key, since the spent
/// assertion already makes it happen once).
fn as_customer(
    id: CustomerId,
    method: &'static str,
    now: chrono::DateTime<chrono::Utc>,
) -> Mutation {
    Mutation::new(
        Principal::sessionless_customer(id),
        method,
        Uuid::new_v4(),
        [0; 32],
        now,
    )
}

impl Customers {
    /// Creates, maps and associates the customer; `method` names the entry
    /// point for the audit record. A concurrent first sign-in that created it
    /// first makes this `XACCOUNT_TAKEN`.
    pub async fn create_federated(
        &self,
        method: &'static str,
        now: chrono::DateTime<chrono::Utc>,
        cmd: FederatedCustomer,
    ) -> Result<CustomerId, CustomersError> {
        let id = CustomerId::generate();
        // The newcomer is the actor of its own creation, as in a sign-up.
        let m = as_customer(id, method, now);
        let account_name = rules::generated_account_name().map_err(|e| {
            partner_kernel::error::KernelError::Corrupt(format!("no randomness: {e}"))
        })?;
        let partner = cmd.partner_id;
        let row = NewCustomerRow {
            id,
            partner_id: partner,
            xaccount_type: cmd.xaccount_type,
            xaccount_id: cmd.xaccount_id,
            account_name,
            email: cmd.profile.email,
            mobile: cmd.profile.mobile,
            country: cmd.profile.country,
            password_hash: None,
            association_type: AssociationType::Reseller,
        };
        let idp = cmd.identity_provider_id;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                super::admissible_for(tx, partner, &row).await?;
                let customer = store::insert(tx, row, now).await?;
                let mut summary = customer.audit_summary();
                summary["identity_provider_id"] = serde_json::json!(idp);
                let change = Change::of(Some(partner), customer.id)
                    .after(summary)
                    .announce("customer.created");
                let response = pb::CreateCustomerResponse {
                    customer: Some(customer.to_proto()),
                };
                Ok::<_, CustomersError>(Outcome::new(response, change))
            })
        })
        .await?;
        Ok(id)
    }
}

/// An xaccount to bind to a customer of its IdP's partner.
#[derive(Debug, Clone)]
pub struct XaccountBinding {
    pub partner_id: PartnerId,
    pub xaccount_type: String,
    pub xaccount_id: String,
    pub customer_id: CustomerId,
    /// The IdP that vouched (`idp_…`), for the audit record.
    pub identity_provider_id: String,
}

impl Customers {
    /// Binds the xaccount to the customer, which must be associated with
    /// the partner now (else `CUSTOMER_NOT_FOUND`: another partner's
    /// customers are not told apart from missing ones), not frozen, and
    /// without an xaccount of that sales platform yet
    /// (`CUSTOMER_STATE_CONFLICT`); the platform must be the partner's. A
    /// concurrent binding or creation of the xaccount makes this
    /// `XACCOUNT_TAKEN`.
    pub async fn bind_federated(
        &self,
        method: &'static str,
        now: chrono::DateTime<chrono::Utc>,
        cmd: XaccountBinding,
    ) -> Result<(), CustomersError> {
        let customer = cmd.customer_id;
        // The customer is the actor: its partner's IdP vouched for it.
        let m = as_customer(customer, method, now);
        let partner = cmd.partner_id;
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                if !partner_accounts::Accounts::owns_sales_platform(tx, partner, &cmd.xaccount_type)
                    .await?
                {
                    return Err(CustomersError::SalesPlatformNotFound);
                }
                store::lock_xaccount(tx, &cmd.xaccount_type, &cmd.xaccount_id).await?;
                let (found, _) = store::platform_customer_for_update(tx, customer)
                    .await?
                    .filter(|(c, _)| c.partner_id == Some(partner))
                    .ok_or(CustomersError::CustomerNotFound)?;
                if found.freeze_mode != super::model::FreezeMode::None {
                    return Err(CustomersError::CustomerFrozen);
                }
                // Taken first: a concurrent binding of this very xaccount
                // is not a conflict, its winner is the answer.
                if store::platform_mapping_taken(tx, &cmd.xaccount_type, &cmd.xaccount_id).await? {
                    return Err(CustomersError::XaccountTaken);
                }
                if store::customer_on_platform(tx, &found, &cmd.xaccount_type).await? {
                    return Err(CustomersError::CustomerStateConflict {
                        state: "mapped to another account of this sales platform",
                    });
                }
                if !store::insert_link(tx, &cmd.xaccount_type, &cmd.xaccount_id, customer, now)
                    .await?
                {
                    return Err(CustomersError::XaccountTaken);
                }
                let change = Change::of(Some(partner), customer)
                    .after(serde_json::json!({
                        "xaccount_type": cmd.xaccount_type,
                        "xaccount_id": cmd.xaccount_id,
                        "identity_provider_id": cmd.identity_provider_id,
                    }))
                    .announce("customer.xaccount_bound");
                let response = pb::CreateCustomerResponse {
                    customer: Some(found.to_proto()),
                };
                Ok::<_, CustomersError>(Outcome::new(response, change))
            })
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_follows_the_create_customer_rules() {
        let ok = Profile::of(Some("A@Example.com"), None, Some("CN"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.email.as_deref(), Some("a@example.com"));
        assert_eq!(
            Profile::of(None, None, Some("CN")).map_err(|e| e.0),
            Err("email")
        );
        assert_eq!(
            Profile::of(Some("nope"), None, Some("CN")).map_err(|e| e.0),
            Err("email")
        );
        assert_eq!(
            Profile::of(None, Some("123"), Some("CN")).map_err(|e| e.0),
            Err("mobile")
        );
        assert_eq!(
            Profile::of(None, Some("+8613800000000"), None).map_err(|e| e.0),
            Err("country")
        );
        assert_eq!(
            Profile::of(None, Some("+8613800000000"), Some("cn")).map_err(|e| e.0),
            Err("country")
        );
    }
}
