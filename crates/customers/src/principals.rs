//! Customers as principals: what the gateway needs to sign a customer in
//! and to admit its tokens on every call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};

use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};

use crate::access as perm;
use crate::customers::FreezeMode;
use crate::customers::store::{self, Identity};
use crate::entity::customer;
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
    /// When it last changed its password: its sessions opened before end.
    pub password_changed_at: Option<DateTime<Utc>>,
}

impl CustomerStatus {
    fn of(row: &customer::Model) -> Result<CustomerStatus, CustomersError> {
        Ok(CustomerStatus {
            partner_id: row
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            frozen: FreezeMode::parse(&row.freeze_mode)? != FreezeMode::None,
            password_changed_at: row.password_changed_at,
        })
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

impl SignInCustomer {
    fn of(row: customer::Model) -> Result<Self, CustomersError> {
        Ok(Self {
            id: parse_stored(&row.id, CustomerId::parse)?,
            status: CustomerStatus::of(&row)?,
            password_hash: row.password_hash,
        })
    }
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
        let kind = identity_of(login);
        // Emails are stored lower-cased; the other names are exact.
        let login = match kind {
            Identity::Email => login.to_lowercase(),
            Identity::AccountName | Identity::Mobile => login.to_owned(),
        };
        store::platform_customer_by_identity(self.db().conn(), kind, &login)
            .await?
            .map(SignInCustomer::of)
            .transpose()
    }

    /// The customer mapped to `(xaccount_type, xaccount_id)`, read fresh:
    /// federation signs it in once its partner's IdP vouched for the xaccount.
    pub async fn find_mapped(
        &self,
        xaccount_type: &str,
        xaccount_id: &str,
    ) -> Result<Option<SignInCustomer>, CustomersError> {
        store::platform_customer_by_mapping(self.db().conn(), xaccount_type, xaccount_id)
            .await?
            .map(SignInCustomer::of)
            .transpose()
    }

    /// The customer `id`, read fresh: federation signs it in when a browser
    /// exchanges the one-time code its verified SAML response earned.
    pub async fn find_sign_in_by_id(
        &self,
        id: CustomerId,
    ) -> Result<Option<SignInCustomer>, CustomersError> {
        store::platform_customer_row(self.db().conn(), id)
            .await?
            .map(SignInCustomer::of)
            .transpose()
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
        let status = store::platform_customer_row(self.db().conn(), id)
            .await?
            .map(|row| CustomerStatus::of(&row))
            .transpose()?;
        self.statuses().put(ticket, id, status);
        Ok(status)
    }
}

impl Customers {
    /// The customer signed in itself changes its password; its sessions
    /// opened before end (the gateway compares them with the change time).
    pub async fn change_own_password(
        &self,
        m: Mutation,
        current: String,
        new: String,
    ) -> Result<pb::ChangeOwnPasswordResponse, CustomersError> {
        m.principal.require(perm::SELF_PASSWORD_CHANGE)?;
        let id = m
            .principal
            .customer_id()
            .ok_or(CustomersError::CustomerNotFound)?;
        if let Some(replay) = write::replayed(self.db(), &m).await? {
            return Ok(replay);
        }
        let row = store::platform_customer_row(self.db().conn(), id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)?;
        let partner = row
            .partner_id
            .as_deref()
            .map(|p| parse_stored(p, PartnerId::parse))
            .transpose()?;
        // Under the sign-in throttle: a session is no licence to guess.
        self.password_guard()
            .get()?
            .check_current(id, partner, current, row.password_hash)
            .await?;
        let hash = self.hash_password(new).await?;
        let now = m.now;
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (customer, _) = store::platform_customer_for_update(tx, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                store::platform_set_password(tx, id, hash, now).await?;
                let change = Change::of(customer.partner_id, id)
                    .after(serde_json::json!({ "password_changed": true }));
                let response = pb::ChangeOwnPasswordResponse {
                    customer_id: id.to_string(),
                    password_change_time: Some(to_proto_timestamp(now)),
                };
                Ok(Outcome::new(response, change))
            })
        })
        .await;
        self.forget_status(&answer, id);
        answer
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
