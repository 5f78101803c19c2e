//! Customers as principals: what the gateway needs to sign a customer in
//! and to admit its tokens on every call.

use std::time::Duration;

use partner_kernel::ids::{CustomerId, PartnerId};

use crate::customers::store::{self, Identity};
use crate::customers::{Customer, FreezeMode};
use crate::error::CustomersError;
use crate::service::Customers;

/// How long an answer of [`Customers::principal_status`] is trusted. Freezing,
/// disassociating and associating clear this process's answers at once;
/// other replicas see the change within this time.
pub(crate) const STATUS_TTL: Duration = Duration::from_secs(2);

/// Whether a customer may act now, and whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerStatus {
    /// The associated partner, if any.
    pub partner_id: Option<PartnerId>,
    /// Frozen customers are refused sign-in and their tokens stop working.
    pub frozen: bool,
}

impl CustomerStatus {
    fn of(c: &Customer) -> CustomerStatus {
        CustomerStatus {
            partner_id: c.partner_id,
            frozen: c.freeze_mode != FreezeMode::None,
        }
    }
}

/// A customer found by the name it signs in with.
#[derive(Debug, Clone)]
pub struct SignInCustomer {
    pub id: CustomerId,
    /// `None`: it signs in only through its partner's SSO.
    pub password_hash: Option<String>,
    pub status: CustomerStatus,
}

/// Which identity a sign-in name is. The three never overlap: account
/// names hold no `@` and are not all digits; mobiles are digits with an
/// optional leading `+`.
fn identity_of(login: &str) -> Identity {
    let digits = login.strip_prefix('+').unwrap_or(login);
    if login.contains('@') {
        Identity::Email
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Identity::Mobile
    } else {
        Identity::AccountName
    }
}

impl Customers {
    /// The customer whose account name, email or mobile is `login`.
    pub async fn find_sign_in(
        &self,
        login: &str,
    ) -> Result<Option<SignInCustomer>, CustomersError> {
        let Some(row) =
            store::platform_customer_by_identity(self.db().conn(), identity_of(login), login)
                .await?
        else {
            return Ok(None);
        };
        let password_hash = row.password_hash.clone();
        let customer = Customer::from_row(row)?;
        Ok(Some(SignInCustomer {
            id: customer.id,
            password_hash,
            status: CustomerStatus::of(&customer),
        }))
    }

    /// The status of a customer presenting a token (cached for
    /// [`STATUS_TTL`]); `None` when there is no such customer.
    pub async fn principal_status(
        &self,
        id: CustomerId,
    ) -> Result<Option<CustomerStatus>, CustomersError> {
        let ticket = match self.statuses().lookup(&id) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let status = store::platform_customer(self.db().conn(), id)
            .await?
            .map(|c| CustomerStatus::of(&c));
        self.statuses().put(ticket, id, status);
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_names_are_told_apart() {
        assert_eq!(identity_of("a@b.example"), Identity::Email);
        assert_eq!(identity_of("+8613800000000"), Identity::Mobile);
        assert_eq!(identity_of("13800000000"), Identity::Mobile);
        assert_eq!(identity_of("shop_owner"), Identity::AccountName);
        assert_eq!(identity_of("+"), Identity::AccountName);
        assert_eq!(identity_of("a1234"), Identity::AccountName);
    }
}
