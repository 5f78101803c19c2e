//! Association invitations as the domain sees them.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, parse_stored};

use crate::customers::AssociationType;
use crate::entity::association_invite;

/// Invitation tokens start with this.
pub const TOKEN_PREFIX: &str = "prt_ai_";
/// Invitation ids start with this.
pub const ID_PREFIX: &str = "ainv_";
/// Refused sign-ups an invitation survives: each tells its holder whether
/// an email, mobile or name is taken, so they are few.
pub const MAX_FAILED_SIGN_UPS: i32 = 10;

/// A stored invitation.
#[derive(Debug, Clone)]
pub struct Invite {
    pub id: String,
    pub partner_id: PartnerId,
    pub association_type: AssociationType,
    /// The sales-platform account it was made for, if any.
    pub xaccount: Option<(String, String)>,
    pub max_uses: i32,
    pub uses: i32,
    pub failed_sign_ups: i32,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Invite {
    pub(crate) fn from_row(m: association_invite::Model) -> Result<Invite, KernelError> {
        let xaccount = match (m.xaccount_type, m.xaccount_id) {
            (Some(t), Some(id)) => Some((t, id)),
            (None, None) => None,
            _ => {
                return Err(KernelError::Corrupt(format!(
                    "invite {}: half a mapping",
                    m.id
                )));
            }
        };
        Ok(Invite {
            partner_id: parse_stored(&m.partner_id, PartnerId::parse)?,
            association_type: AssociationType::parse(&m.association_type)?,
            xaccount,
            max_uses: m.max_uses,
            uses: m.uses,
            failed_sign_ups: m.failed_sign_ups,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            created_at: m.created_at,
            id: m.id,
        })
    }

    /// Whether it can be used at `now`.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.uses < self.max_uses
            && self.failed_sign_ups < MAX_FAILED_SIGN_UPS
            && now < self.expires_at
    }

    pub fn to_proto(&self) -> pb::AssociationInvite {
        let (xaccount_type, xaccount_id) = self.xaccount.clone().unwrap_or_default();
        pb::AssociationInvite {
            invite_id: self.id.clone(),
            partner_id: self.partner_id.to_string(),
            association_type: self.association_type.to_proto().into(),
            xaccount_type,
            xaccount_id,
            max_uses: self.max_uses,
            uses: self.uses,
            expire_time: Some(to_proto_timestamp(self.expires_at)),
            revoke_time: self.revoked_at.map(to_proto_timestamp),
            create_time: Some(to_proto_timestamp(self.created_at)),
        }
    }

    pub fn audit_summary(&self) -> serde_json::Value {
        let (xaccount_type, xaccount_id) = self.xaccount.clone().unwrap_or_default();
        serde_json::json!({
            "association_type": self.association_type.as_str(),
            "xaccount_type": xaccount_type,
            "xaccount_id": xaccount_id,
            "max_uses": self.max_uses,
            "uses": self.uses,
            "expire_time": self.expires_at.to_rfc3339(),
            "revoked": self.revoked_at.is_some(),
        })
    }
}

/// Parses an `ainv_…` id.
pub fn parse_id(raw: &str) -> Result<String, &'static str> {
    let ok = raw.strip_prefix(ID_PREFIX).is_some_and(|b| {
        b.len() == 32
            && b.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("expected an id starting with `ainv_`")
    }
}
