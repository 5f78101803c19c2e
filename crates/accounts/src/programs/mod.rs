//! The program catalog (development paths), enrolments and invitations as
//! the domain sees them, and their wire forms. The catalog is fixed in code:
//! programs carry rules (who invites, what joining does), not just names.

pub mod enrol;
pub mod invitations;
pub mod store;

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{InvitationId, PartnerId};

use crate::entity::{invitation, program_enrolment};
use partner_kernel::ids::parse_stored;

/// A partner program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Program {
    SolutionProvider,
    Distributor,
    Reseller,
    SoftwarePartner,
    ConsultingAndIntegration,
}

/// Who may invite to a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inviter {
    /// The platform operator.
    Operator,
    /// A partner enrolled in [`Program::Distributor`].
    Distributor,
}

impl Program {
    /// The catalog, in display order.
    pub const ALL: [Program; 5] = [
        Self::SolutionProvider,
        Self::Distributor,
        Self::Reseller,
        Self::SoftwarePartner,
        Self::ConsultingAndIntegration,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SolutionProvider => "SOLUTION_PROVIDER",
            Self::Distributor => "DISTRIBUTOR",
            Self::Reseller => "RESELLER",
            Self::SoftwarePartner => "SOFTWARE_PARTNER",
            Self::ConsultingAndIntegration => "CONSULTING_AND_INTEGRATION",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| KernelError::Corrupt(format!("program {s:?}")))
    }

    /// The name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Self::SolutionProvider => "Solution Provider",
            Self::Distributor => "Distributor (tier 1)",
            Self::Reseller => "Reseller (tier 2)",
            Self::SoftwarePartner => "Software Partner",
            Self::ConsultingAndIntegration => "Consulting and Integration",
        }
    }

    /// What the program is for.
    pub fn description(self) -> &'static str {
        match self {
            Self::SolutionProvider => {
                "Resells the vendor's cloud together with its own solutions and services."
            }
            Self::Distributor => {
                "Tier-1 distributor: recruits, funds and manages tier-2 resellers and may act for them."
            }
            Self::Reseller => {
                "Tier-2 reseller: sells through one distributor, which invites it and may act for it."
            }
            Self::SoftwarePartner => "Builds and sells software that runs on the vendor's cloud.",
            Self::ConsultingAndIntegration => {
                "Digital-transformation consulting and system integration on the vendor's cloud."
            }
        }
    }

    /// Who may invite to it: resellers are recruited by distributors, every
    /// other program by the operator.
    pub fn inviter(self) -> Inviter {
        match self {
            Self::Reseller => Inviter::Distributor,
            Self::SolutionProvider
            | Self::Distributor
            | Self::SoftwarePartner
            | Self::ConsultingAndIntegration => Inviter::Operator,
        }
    }

    /// The wire form.
    pub fn to_proto(self) -> pb::Program {
        match self {
            Self::SolutionProvider => pb::Program::SolutionProvider,
            Self::Distributor => pb::Program::Distributor,
            Self::Reseller => pb::Program::Reseller,
            Self::SoftwarePartner => pb::Program::SoftwarePartner,
            Self::ConsultingAndIntegration => pb::Program::ConsultingAndIntegration,
        }
    }

    /// Reads the wire form; UNSPECIFIED is not a program.
    pub fn from_proto(raw: i32) -> Result<Self, &'static str> {
        match pb::Program::try_from(raw) {
            Ok(pb::Program::SolutionProvider) => Ok(Self::SolutionProvider),
            Ok(pb::Program::Distributor) => Ok(Self::Distributor),
            Ok(pb::Program::Reseller) => Ok(Self::Reseller),
            Ok(pb::Program::SoftwarePartner) => Ok(Self::SoftwarePartner),
            Ok(pb::Program::ConsultingAndIntegration) => Ok(Self::ConsultingAndIntegration),
            Ok(pb::Program::Unspecified) | Err(_) => Err("required: a program of the catalog"),
        }
    }

    /// The catalog entry on the wire.
    pub fn info(self) -> pb::ProgramInfo {
        let inviter = match self.inviter() {
            Inviter::Operator => pb::Inviter::Operator,
            Inviter::Distributor => pb::Inviter::Distributor,
        };
        pb::ProgramInfo {
            program: self.to_proto().into(),
            name: self.name().to_owned(),
            description: self.description().to_owned(),
            inviter: inviter.into(),
        }
    }
}

/// A program a partner has joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub program: Program,
    pub joined_at: DateTime<Utc>,
}

impl TryFrom<program_enrolment::Model> for Enrolment {
    type Error = KernelError;
    fn try_from(m: program_enrolment::Model) -> Result<Self, KernelError> {
        Ok(Self {
            program: Program::parse(&m.program)?,
            joined_at: m.created_at,
        })
    }
}

impl Enrolment {
    /// The wire form.
    pub fn to_proto(&self) -> pb::ProgramEnrolment {
        pb::ProgramEnrolment {
            program: self.program.to_proto().into(),
            join_time: Some(to_proto_timestamp(self.joined_at)),
        }
    }
}

/// What the invitee tells about its business, checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BusinessInfo {
    pub company_name: String,
    pub registration_number: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
}

/// The stored state of an invitation. EXPIRED is not stored: it is a pending
/// invitation read after its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
}

impl InvitationState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Accepted => "ACCEPTED",
            Self::Revoked => "REVOKED",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "PENDING" => Ok(Self::Pending),
            "ACCEPTED" => Ok(Self::Accepted),
            "REVOKED" => Ok(Self::Revoked),
            other => Err(KernelError::Corrupt(format!("invitation state {other:?}"))),
        }
    }
}

/// An invitation, without its token hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub inviter_partner_id: Option<PartnerId>,
    pub program: Program,
    pub email: String,
    pub partner_id: Option<PartnerId>,
    pub state: InvitationState,
    pub expire_at: DateTime<Utc>,
    pub accepted_partner_id: Option<PartnerId>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<invitation::Model> for Invitation {
    type Error = KernelError;
    fn try_from(m: invitation::Model) -> Result<Self, KernelError> {
        let partner = |raw: Option<String>| {
            raw.as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()
        };
        Ok(Self {
            id: parse_stored(&m.id, InvitationId::parse)?,
            inviter_partner_id: partner(m.inviter_partner_id)?,
            program: Program::parse(&m.program)?,
            email: m.email,
            partner_id: partner(m.partner_id)?,
            state: InvitationState::parse(&m.state)?,
            expire_at: m.expire_at,
            accepted_partner_id: partner(m.accepted_partner_id)?,
            accepted_at: m.accepted_at,
            created_at: m.created_at,
        })
    }
}

impl Invitation {
    /// The wire form as of `now` (a pending invitation past its expiry reads EXPIRED).
    pub fn to_proto(&self, now: DateTime<Utc>) -> pb::Invitation {
        let state = match self.state {
            InvitationState::Pending if self.expire_at <= now => pb::InvitationState::Expired,
            InvitationState::Pending => pb::InvitationState::Pending,
            InvitationState::Accepted => pb::InvitationState::Accepted,
            InvitationState::Revoked => pb::InvitationState::Revoked,
        };
        let id = |p: Option<PartnerId>| p.map(|p| p.to_string()).unwrap_or_default();
        pb::Invitation {
            invitation_id: self.id.to_string(),
            program: self.program.to_proto().into(),
            email: self.email.clone(),
            partner_id: id(self.partner_id),
            inviter_partner_id: id(self.inviter_partner_id),
            state: state.into(),
            expire_time: Some(to_proto_timestamp(self.expire_at)),
            accepted_partner_id: id(self.accepted_partner_id),
            accept_time: self.accepted_at.map(to_proto_timestamp),
            create_time: Some(to_proto_timestamp(self.created_at)),
        }
    }

    /// The summary kept in audit records (never the token).
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "program": self.program.as_str(),
            "email": self.email,
            "partner_id": self.partner_id.map(|p| p.to_string()),
            "state": self.state.as_str(),
            "expire_time": self.expire_at.to_rfc3339(),
            "accepted_partner_id": self.accepted_partner_id.map(|p| p.to_string()),
        })
    }
}
