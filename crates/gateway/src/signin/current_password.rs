//! The customers domain's check of a signed-in customer's current password
//! (`ChangeOwnPassword`): charged to the customer's sign-in throttle like a
//! `CustomerLogin`, so guesses through a session lock the same counter as
//! guesses at the sign-in page, and are audited with them.

use futures::future::BoxFuture;
use partner_customers::error::CustomersError;
use partner_customers::password_guard::PasswordGuard;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};

use super::pending::Refused;
use super::store;
use crate::error::GatewayError;
use crate::holder::Holder;
use crate::service::Gateway;

pub(crate) const CHANGE_OWN_PASSWORD: &str =
    "partner.customers.v1.CustomerService/ChangeOwnPassword";

impl Gateway {
    /// Checks `password` against the customer's `hash` under its sign-in
    /// throttle; a match clears the counter, as a sign-in does.
    pub async fn check_customer_password(
        &self,
        customer: CustomerId,
        partner: Option<PartnerId>,
        password: String,
        hash: Option<String>,
    ) -> Result<(), GatewayError> {
        let now = self.clock.now();
        let hashing = self.reserve_hashing()?;
        let who = Refused {
            method: CHANGE_OWN_PASSWORD,
            subject: format!("customer_login:{customer}"),
            presented: customer.to_string(),
            target: Some((Holder::Customer(customer), partner)),
        };
        self.check_password(&who, hashing, password, hash, Some(()), now)
            .await?;
        let tx = self.db.begin_write().await?;
        store::reset(&*tx, &who.subject).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The gateway registered as the customers domain's [`PasswordGuard`].
#[derive(Debug, Clone)]
pub struct CustomerPasswordGuard(pub Gateway);

impl PasswordGuard for CustomerPasswordGuard {
    fn check_current<'a>(
        &'a self,
        customer: CustomerId,
        partner: Option<PartnerId>,
        password: String,
        hash: Option<String>,
    ) -> BoxFuture<'a, Result<(), CustomersError>> {
        Box::pin(async move {
            self.0
                .check_customer_password(customer, partner, password, hash)
                .await
                .map_err(into_customers)
        })
    }
}

fn into_customers(e: GatewayError) -> CustomersError {
    match e {
        GatewayError::InvalidCredentials => CustomersError::InvalidCredentials,
        GatewayError::TooManyFailedAttempts { retry_after } => {
            CustomersError::TooManyFailedAttempts { retry_after }
        }
        GatewayError::Accounts(a) => CustomersError::Accounts(a),
        GatewayError::Customers(c) => c,
        GatewayError::Kernel(k) => CustomersError::Kernel(k),
        // None of these comes out of a password check.
        other @ (GatewayError::UnknownMethod
        | GatewayError::TokenMissing
        | GatewayError::TokenInvalid
        | GatewayError::TokenExpired
        | GatewayError::SessionRevoked
        | GatewayError::RefreshTokenInvalid
        | GatewayError::RefreshTokenReused
        | GatewayError::UserDisabled
        | GatewayError::UserDeleted
        | GatewayError::PartnerSuspended
        | GatewayError::PartnerTerminated
        | GatewayError::SigningKeyNotFound
        | GatewayError::SigningKeyStateConflict { .. }
        | GatewayError::AccessKeyNotFound
        | GatewayError::AccessKeyInvalid
        | GatewayError::AccessKeyDisabled
        | GatewayError::AccessKeyStateConflict { .. }
        | GatewayError::AccessKeyLimitReached { .. }
        | GatewayError::CustomerFrozen
        | GatewayError::Keys(_)) => CustomersError::Kernel(KernelError::Corrupt(format!(
            "checking a customer's password: {other}"
        ))),
    }
}
