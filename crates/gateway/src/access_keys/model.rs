//! An access key as the gateway sees it, its states, and its wire form.

use chrono::{DateTime, Utc};
use partner_api::iam::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{AccessKeyId, PartnerId, UserId, parse_stored};

use crate::entity::access_key;

/// Whether a key may be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// May be exchanged for an access token.
    Active,
    /// Refused; cannot be enabled again (create a new key).
    Disabled,
}

impl KeyState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Disabled => "DISABLED",
        }
    }

    /// Reads the stored form; anything else is corruption.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "ACTIVE" => Ok(Self::Active),
            "DISABLED" => Ok(Self::Disabled),
            other => Err(KernelError::Corrupt(format!("access key state {other:?}"))),
        }
    }

    fn to_proto(self) -> pb::AccessKeyState {
        match self {
            Self::Active => pb::AccessKeyState::Active,
            Self::Disabled => pb::AccessKeyState::Disabled,
        }
    }
}

/// An access key (never its secret, which is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: AccessKeyId,
    pub partner_id: PartnerId,
    pub user_id: UserId,
    pub description: String,
    pub state: KeyState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<access_key::Model> for AccessKey {
    type Error = KernelError;
    fn try_from(m: access_key::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: parse_stored(&m.id, AccessKeyId::parse)?,
            partner_id: parse_stored(&m.partner_id, PartnerId::parse)?,
            user_id: parse_stored(&m.user_id, UserId::parse)?,
            description: m.description,
            state: KeyState::parse(&m.state)?,
            created_at: m.created_at,
            updated_at: m.updated_at,
            last_used_at: m.last_used_at,
        })
    }
}

impl AccessKey {
    /// The wire form.
    pub fn to_proto(&self) -> pb::AccessKey {
        pb::AccessKey {
            access_key_id: self.id.to_string(),
            user_id: self.user_id.to_string(),
            partner_id: self.partner_id.to_string(),
            description: self.description.clone(),
            state: self.state.to_proto().into(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            last_used_time: self.last_used_at.map(to_proto_timestamp),
        }
    }

    /// The summary kept in audit records and events (never the secret).
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "access_key_id": self.id.to_string(),
            "user_id": self.user_id.to_string(),
            "state": self.state.as_str(),
        })
    }
}
