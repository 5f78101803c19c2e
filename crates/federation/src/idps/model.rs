//! An identity provider as the domain sees it, and its wire and audit forms.

use base64::Engine;
use chrono::{DateTime, Utc};
use partner_api::iam::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, parse_stored};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entity::identity_provider;
use crate::saml::XaccountSource;

/// The attribute name that means "the subject's NameID".
pub const NAME_ID: &str = "NameID";
/// The attribute read when the partner names none.
pub const DEFAULT_XACCOUNT_ATTRIBUTE: &str = "xaccount_id";

/// What the first login of an unmapped xaccount does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLoginPolicy {
    CreateCustomer,
    BindExisting,
    Refuse,
}

impl FirstLoginPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateCustomer => "CREATE_CUSTOMER",
            Self::BindExisting => "BIND_EXISTING",
            Self::Refuse => "REFUSE",
        }
    }

    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "CREATE_CUSTOMER" => Ok(Self::CreateCustomer),
            "BIND_EXISTING" => Ok(Self::BindExisting),
            "REFUSE" => Ok(Self::Refuse),
            other => Err(KernelError::Corrupt(format!("first-login policy {other}"))),
        }
    }

    /// From the wire; unspecified is REFUSE, unknown numbers are `None`.
    pub fn from_wire(n: i32) -> Option<Self> {
        match pb::FirstLoginPolicy::try_from(n).ok()? {
            pb::FirstLoginPolicy::Unspecified | pb::FirstLoginPolicy::Refuse => Some(Self::Refuse),
            pb::FirstLoginPolicy::CreateCustomer => Some(Self::CreateCustomer),
            pb::FirstLoginPolicy::BindExisting => Some(Self::BindExisting),
        }
    }

    fn to_wire(self) -> pb::FirstLoginPolicy {
        match self {
            Self::CreateCustomer => pb::FirstLoginPolicy::CreateCustomer,
            Self::BindExisting => pb::FirstLoginPolicy::BindExisting,
            Self::Refuse => pb::FirstLoginPolicy::Refuse,
        }
    }
}

/// A signing certificate the IdP may sign with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Base64 of the DER.
    pub der: String,
    /// Hex SHA-256 of the DER.
    pub sha256: String,
    /// When it stops being accepted (a rollover's end).
    pub retire_at: Option<DateTime<Utc>>,
}

impl Certificate {
    pub fn of_der(der: &[u8]) -> Self {
        Self {
            der: base64::engine::general_purpose::STANDARD.encode(der),
            sha256: crate::random::hex(&Sha256::digest(der)),
            retire_at: None,
        }
    }

    pub fn accepted_at(&self, now: DateTime<Utc>) -> bool {
        self.retire_at.is_none_or(|at| now < at)
    }
}

/// A registered identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub id: String,
    pub partner_id: PartnerId,
    pub xaccount_type: String,
    pub entity_id: String,
    pub sso_url: String,
    /// An attribute name, or [`NAME_ID`].
    pub xaccount_attribute: String,
    pub first_login_policy: FirstLoginPolicy,
    pub require_signed_assertions: bool,
    pub certificates: Vec<Certificate>,
    /// Where sign-ins may land ([`super::service_urls`]); the first is the default.
    pub service_urls: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IdentityProvider {
    pub fn of_row(row: identity_provider::Model) -> Result<Self, KernelError> {
        let certificates: Vec<Certificate> = serde_json::from_str(&row.certificates)
            .map_err(|e| KernelError::Corrupt(format!("idp certificates: {e}")))?;
        let service_urls: Vec<String> = serde_json::from_str(&row.service_urls)
            .map_err(|e| KernelError::Corrupt(format!("idp service urls: {e}")))?;
        Ok(Self {
            partner_id: parse_stored(&row.partner_id, PartnerId::parse)?,
            first_login_policy: FirstLoginPolicy::parse(&row.first_login_policy)?,
            id: row.id,
            xaccount_type: row.xaccount_type,
            entity_id: row.entity_id,
            sso_url: row.sso_url,
            xaccount_attribute: row.xaccount_attribute,
            require_signed_assertions: row.require_signed_assertions,
            certificates,
            service_urls,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub fn certificates_json(&self) -> String {
        // A Vec of plain structs always serializes.
        serde_json::to_string(&self.certificates).unwrap_or_else(|_| "[]".into())
    }

    pub fn service_urls_json(&self) -> String {
        serde_json::to_string(&self.service_urls).unwrap_or_else(|_| "[]".into())
    }

    /// Where its responses carry the xaccount id.
    pub fn xaccount_source(&self) -> XaccountSource {
        if self.xaccount_attribute == NAME_ID {
            XaccountSource::NameId
        } else {
            XaccountSource::Attribute(self.xaccount_attribute.clone())
        }
    }

    /// The DER of every certificate accepted at `now`.
    pub fn accepted_certificates(&self, now: DateTime<Utc>) -> Vec<Vec<u8>> {
        self.certificates
            .iter()
            .filter(|c| c.accepted_at(now))
            .filter_map(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(&c.der)
                    .ok()
            })
            .collect()
    }

    pub fn to_proto(&self, now: DateTime<Utc>) -> pb::IdentityProvider {
        pb::IdentityProvider {
            id: self.id.clone(),
            partner_id: self.partner_id.to_string(),
            xaccount_type: self.xaccount_type.clone(),
            entity_id: self.entity_id.clone(),
            sso_url: self.sso_url.clone(),
            xaccount_attribute: self.xaccount_attribute.clone(),
            first_login_policy: self.first_login_policy.to_wire() as i32,
            require_signed_assertions: self.require_signed_assertions,
            certificates: self
                .certificates
                .iter()
                .filter(|c| c.accepted_at(now))
                .map(|c| pb::IdentityProviderCertificate {
                    sha256_fingerprint: c.sha256.clone(),
                    retire_time: c.retire_at.map(to_proto_timestamp),
                })
                .collect(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
            service_urls: self.service_urls.clone(),
            // Filled by the service, which knows the endpoints.
            notification_endpoint_id: String::new(),
        }
    }

    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "xaccount_type": self.xaccount_type,
            "entity_id": self.entity_id,
            "sso_url": self.sso_url,
            "xaccount_attribute": self.xaccount_attribute,
            "first_login_policy": self.first_login_policy.as_str(),
            "require_signed_assertions": self.require_signed_assertions,
            "service_urls": self.service_urls,
            "certificates": self.certificates.iter().map(|c| serde_json::json!({
                "sha256": c.sha256,
                "retire_at": c.retire_at,
            })).collect::<Vec<_>>(),
        })
    }
}
