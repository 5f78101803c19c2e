//! Federation errors and their one mapping to `Status`.

use partner_customers::CustomersError;
use partner_gateway::error::GatewayError;
use partner_kernel::error::{KernelError, Refusal};
use tonic::{Code, Status};

use crate::saml::Rejection;

/// What can go wrong in the federation domain.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// No such IdP, or another partner's.
    #[error("identity provider not found")]
    IdpNotFound,
    /// The sales-platform id already has an IdP, or the entity id is registered.
    #[error("identity provider already registered")]
    IdpAlreadyRegistered,
    /// New metadata names another entity id.
    #[error("the entity id cannot change")]
    EntityIdChanged,
    /// The metadata is not usable; the text says why.
    #[error("metadata: {0}")]
    Metadata(String),
    /// The SAML response was refused.
    #[error("SAML response refused: {0}")]
    Saml(#[from] Rejection),
    /// No customer is mapped to the xaccount, and the IdP's policy refuses.
    #[error("no customer is mapped to this xaccount")]
    XaccountNotMapped,
    /// A first sign-in would create a customer, but the assertion's profile breaks a rule.
    #[error("first sign-in: the {attribute} attribute {rule}")]
    FirstLoginProfile {
        attribute: &'static str,
        rule: &'static str,
    },
    /// The IdP's partner is suspended or terminated: it gets no new customers.
    #[error("the identity provider's partner is not active")]
    PartnerInactive,
    /// The mapped customer is not (or no longer) associated with the IdP's partner.
    #[error("the customer is not associated with the identity provider's partner")]
    CustomerNotAssociated,
    /// The ACS form is not a HTTP-POST binding form.
    #[error("ACS form: {0}")]
    AcsForm(&'static str),
    /// The query of `GET /saml/login` is not usable.
    #[error("login query: {field}: {problem}")]
    LoginQuery {
        field: &'static str,
        problem: &'static str,
    },
    /// An SP-initiated response came back with another RelayState than the request sent.
    #[error("the RelayState is not the one the request sent")]
    RelayStateMismatch,
    /// The service URL is not on the IdP's allow-list.
    #[error("the service URL is not on the identity provider's allow-list")]
    ServiceUrlNotAllowed,
    /// No service URL was named and the IdP's allow-list is empty.
    #[error("the identity provider has no service URLs")]
    NoServiceUrl,
    /// The login code is unknown, used or expired.
    #[error("the login code is unknown, used or expired")]
    LoginCodeInvalid,
    /// Every slot for SAML signing and verification stayed taken.
    #[error("too many SAML sign-ins at once")]
    SamlBusy,
    #[error(transparent)]
    Customers(#[from] CustomersError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The notification endpoint was refused.
    #[error(transparent)]
    Webhook(#[from] partner_events::webhooks::WebhookError),
}

impl From<sea_orm::DbErr> for FederationError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Kernel(KernelError::Database(e))
    }
}

impl From<partner_accounts::AccountsError> for FederationError {
    fn from(e: partner_accounts::AccountsError) -> Self {
        Self::Customers(CustomersError::Accounts(e))
    }
}

impl From<FederationError> for Status {
    fn from(e: FederationError) -> Status {
        let refusal = match e {
            FederationError::IdpNotFound => Refusal::new(
                Code::NotFound,
                "IDP_NOT_FOUND",
                "identity provider not found",
            ),
            FederationError::IdpAlreadyRegistered => Refusal::new(
                Code::AlreadyExists,
                "IDP_ALREADY_REGISTERED",
                "this sales-platform id has an identity provider, or this entity id is registered",
            ),
            FederationError::EntityIdChanged => Refusal::new(
                Code::InvalidArgument,
                "ENTITY_ID_CHANGED",
                "new metadata must keep the entity id; register a new identity provider instead",
            ),
            FederationError::Metadata(text) => {
                return Refusal::invalid(vec![partner_kernel::error::FieldViolation::new(
                    "metadata_xml",
                    text,
                )])
                .into();
            }
            FederationError::Saml(r) => Refusal::new(
                if r.is_malformed() {
                    Code::InvalidArgument
                } else {
                    Code::Unauthenticated
                },
                r.reason(),
                r.to_string(),
            ),
            FederationError::XaccountNotMapped => Refusal::new(
                Code::FailedPrecondition,
                "XACCOUNT_NOT_MAPPED",
                "no customer is mapped to this xaccount and the identity provider's first-login policy refuses",
            ),
            FederationError::FirstLoginProfile { attribute, rule } => Refusal::new(
                Code::FailedPrecondition,
                "FIRST_LOGIN_PROFILE_INVALID",
                format!(
                    "creating the customer on its first sign-in: the assertion's {attribute} attribute {rule}"
                ),
            ),
            FederationError::PartnerInactive => Refusal::new(
                Code::FailedPrecondition,
                "PARTNER_INACTIVE",
                "the identity provider's partner is suspended or terminated",
            ),
            FederationError::CustomerNotAssociated => Refusal::new(
                Code::FailedPrecondition,
                "CUSTOMER_NOT_ASSOCIATED",
                "the customer is not associated with the identity provider's partner",
            ),
            FederationError::AcsForm(text) => {
                Refusal::new(Code::InvalidArgument, "ACS_FORM_INVALID", text)
            }
            FederationError::LoginQuery { field, problem } => Refusal::new(
                Code::InvalidArgument,
                "LOGIN_QUERY_INVALID",
                format!("{field}: {problem}"),
            ),
            FederationError::RelayStateMismatch => Refusal::new(
                Code::InvalidArgument,
                "RELAY_STATE_MISMATCH",
                "the RelayState is not the one the sign-in request sent",
            ),
            FederationError::ServiceUrlNotAllowed => Refusal::new(
                Code::InvalidArgument,
                "SERVICE_URL_NOT_ALLOWED",
                "the service URL is not on the identity provider's allow-list (service_urls)",
            ),
            FederationError::NoServiceUrl => Refusal::new(
                Code::FailedPrecondition,
                "NO_SERVICE_URL",
                "no service URL was named and the identity provider has none registered",
            ),
            FederationError::LoginCodeInvalid => Refusal::new(
                Code::Unauthenticated,
                "LOGIN_CODE_INVALID",
                "the login code is unknown, already used or expired",
            ),
            FederationError::SamlBusy => Refusal::new(
                Code::ResourceExhausted,
                "SAML_BUSY",
                "too many SAML sign-ins at once; try again shortly",
            )
            .retry_after(std::time::Duration::from_secs(1)),
            FederationError::Customers(c) => return c.into(),
            FederationError::Gateway(g) => return g.into(),
            FederationError::Kernel(k) => Refusal::from(k),
            FederationError::Webhook(w) => return w.into(),
        };
        refusal.into()
    }
}
