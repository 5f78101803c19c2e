//! A user as the domain sees it, its states, and its wire form.

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId, parse_stored};
use partner_kernel::principal::Actor;

use crate::entity::user;

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    /// May sign in.
    Active,
    /// May not sign in; may be enabled again.
    Disabled,
    /// May never sign in again; the username stays reserved.
    Deleted,
}

impl UserState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Disabled => "DISABLED",
            Self::Deleted => "DELETED",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "ACTIVE" => Ok(Self::Active),
            "DISABLED" => Ok(Self::Disabled),
            "DELETED" => Ok(Self::Deleted),
            other => Err(KernelError::Corrupt(format!("user state {other:?}"))),
        }
    }

    /// The wire form.
    pub fn to_proto(self) -> pb::UserState {
        match self {
            Self::Active => pb::UserState::Active,
            Self::Disabled => pb::UserState::Disabled,
            Self::Deleted => pb::UserState::Deleted,
        }
    }

    /// A list filter from the wire: `None` for UNSPECIFIED.
    pub fn filter_from_proto(raw: i32) -> Result<Option<Self>, &'static str> {
        match pb::UserState::try_from(raw) {
            Ok(pb::UserState::Unspecified) => Ok(None),
            Ok(pb::UserState::Active) => Ok(Some(Self::Active)),
            Ok(pb::UserState::Disabled) => Ok(Some(Self::Disabled)),
            Ok(pb::UserState::Deleted) => Ok(Some(Self::Deleted)),
            Err(_) => Err("unknown user state"),
        }
    }
}

/// A user, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub partner_id: Option<PartnerId>,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub state: UserState,
    pub is_master: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The roles it holds, sorted. Filled by the loaders that show users; a
    /// bare row converts with none.
    pub role_ids: Vec<String>,
}

impl TryFrom<user::Model> for User {
    type Error = KernelError;
    fn try_from(m: user::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: parse_stored(&m.id, UserId::parse)?,
            partner_id: m
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            username: m.username,
            display_name: m.display_name,
            email: m.email,
            state: UserState::parse(&m.state)?,
            is_master: m.is_master,
            created_at: m.created_at,
            updated_at: m.updated_at,
            role_ids: Vec::new(),
        })
    }
}

impl User {
    /// What kind of principal this user is.
    pub fn actor(&self) -> Actor {
        match (self.partner_id, self.is_master) {
            (None, _) => Actor::Operator,
            (Some(p), true) => Actor::PartnerMaster(p),
            (Some(p), false) => Actor::PartnerUser(p),
        }
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::User {
        pb::User {
            user_id: self.id.to_string(),
            partner_id: self.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            state: self.state.to_proto().into(),
            master: self.is_master,
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
            role_ids: self.role_ids.clone(),
        }
    }

    /// The summary kept in audit records.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "state": self.state.as_str(),
            "master": self.is_master,
        })
    }
}
