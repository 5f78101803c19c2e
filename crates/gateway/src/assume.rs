//! Acting as a customer: a partner user holding `customers.assume` gets a
//! short-lived token scoped to one of its partner's customers. The token
//! reaches only that customer's data, with the customer permissions marked
//! assumable; it and every audit record it produces name both the user and
//! the customer. It has no refresh token, and stops working as soon as the
//! user loses the permission, the customer leaves the partner or is frozen.

use partner_api::iam::v1 as pb;
use partner_customers::CustomersError;
use partner_customers::customers::FreezeMode;
use partner_customers::customers::store as customer_store;
use partner_kernel::audit::{self, SignInRecord};
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::ids::CustomerId;
use partner_kernel::principal::Principal;
use partner_kernel::time;

use crate::access::CUSTOMERS_ASSUME;
use crate::error::GatewayError;
use crate::holder::Holder;
use crate::service::Gateway;
use crate::sessions::{NewSession, insert_session};
use crate::tokens::{self, Subject};

pub(crate) const ASSUME: &str = "partner.iam.v1.AuthService/AssumeCustomer";

impl Gateway {
    /// Opens a session of `principal` acting as `customer`, one of its
    /// partner's customers (another partner's is `CUSTOMER_NOT_FOUND`).
    pub async fn assume_customer(
        &self,
        principal: &Principal,
        customer: CustomerId,
        reason: Option<String>,
    ) -> Result<pb::AssumeCustomerResponse, GatewayError> {
        let partner = principal.require_partner(CUSTOMERS_ASSUME)?;
        let user = principal.user()?;
        let now = self.clock.now();
        let expires_at = time::checked_add(now, self.lifetimes.assumed)
            .map_err(|e| GatewayError::Keys(format!("token lifetime: {e}")))?;
        let tx = self.db.begin_write().await?;
        // Locked: a concurrent freeze or disassociation either sees this
        // session's token refused from its next call, or wins and we stop.
        let found = customer_store::customer_of_for_update(&*tx, partner, customer)
            .await?
            .ok_or(CustomersError::CustomerNotFound)?;
        if found.freeze_mode != FreezeMode::None {
            return Err(GatewayError::CustomerFrozen);
        }
        let new = NewSession {
            holder: Holder::User(user),
            partner: Some(partner),
            customer: Some(customer),
            access_key: None,
            // It ends with the session it was opened from (logout, a
            // disabled access key, a reused refresh token).
            parent: Some(principal.session_id),
        };
        let session = insert_session(&*tx, new, now, expires_at).await?;
        audit::record_sign_in(
            &*tx,
            SignInRecord {
                principal,
                customer_id: Some(customer),
                method: ASSUME,
                partner_id: Some(partner),
                resource_id: customer.to_string(),
                reason,
                after: serde_json::json!({
                    "session_id": session.to_string(),
                    "customer_id": customer.to_string(),
                    "expire_time": expires_at.to_rfc3339(),
                }),
                now,
            },
        )
        .await?;
        tx.commit().await?;
        let subject = Subject {
            holder: Holder::User(user),
            session,
            customer: Some(customer),
        };
        let (access, access_expires) =
            tokens::issue(&self.keys.ring(), subject, now, self.lifetimes.assumed)?;
        Ok(pb::AssumeCustomerResponse {
            access_token: access,
            access_token_expire_time: Some(to_proto_timestamp(access_expires)),
            token_type: "Bearer".into(),
            customer_id: customer.to_string(),
        })
    }
}
