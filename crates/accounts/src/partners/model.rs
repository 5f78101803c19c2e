//! A partner as the domain sees it, its states, and its wire form.

use chrono::{DateTime, Utc};
use partner_api::accounts::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, UserId, parse_stored};

use crate::entity::partner;
use crate::programs::Enrolment;

/// Where a partner stands with the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerState {
    /// Registered, waiting for verification.
    PendingVerification,
    /// Trading normally.
    Active,
    /// Temporarily barred.
    Suspended,
    /// The relationship has ended.
    Terminated,
}

impl PartnerState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingVerification => "PENDING_VERIFICATION",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Terminated => "TERMINATED",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "PENDING_VERIFICATION" => Ok(Self::PendingVerification),
            "ACTIVE" => Ok(Self::Active),
            "SUSPENDED" => Ok(Self::Suspended),
            "TERMINATED" => Ok(Self::Terminated),
            other => Err(KernelError::Corrupt(format!("partner state {other:?}"))),
        }
    }

    /// The wire form.
    pub fn to_proto(self) -> pb::PartnerState {
        match self {
            Self::PendingVerification => pb::PartnerState::PendingVerification,
            Self::Active => pb::PartnerState::Active,
            Self::Suspended => pb::PartnerState::Suspended,
            Self::Terminated => pb::PartnerState::Terminated,
        }
    }

    /// A list filter from the wire: `None` for UNSPECIFIED (any state).
    pub fn filter_from_proto(raw: i32) -> Result<Option<Self>, &'static str> {
        match pb::PartnerState::try_from(raw) {
            Ok(pb::PartnerState::Unspecified) => Ok(None),
            Ok(pb::PartnerState::PendingVerification) => Ok(Some(Self::PendingVerification)),
            Ok(pb::PartnerState::Active) => Ok(Some(Self::Active)),
            Ok(pb::PartnerState::Suspended) => Ok(Some(Self::Suspended)),
            Ok(pb::PartnerState::Terminated) => Ok(Some(Self::Terminated)),
            Err(_) => Err("unknown partner state"),
        }
    }
}

/// Whether a partner's cloud account belongs to an enterprise account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterpriseMembership {
    /// Not part of one.
    None,
    /// The enterprise's master account.
    Master,
    /// A sub account of an enterprise.
    Sub,
}

impl EnterpriseMembership {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Master => "MASTER",
            Self::Sub => "SUB",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Result<Self, KernelError> {
        match s {
            "NONE" => Ok(Self::None),
            "MASTER" => Ok(Self::Master),
            "SUB" => Ok(Self::Sub),
            other => Err(KernelError::Corrupt(format!(
                "enterprise membership {other:?}"
            ))),
        }
    }

    /// The wire form.
    pub fn to_proto(self) -> pb::EnterpriseMembership {
        match self {
            Self::None => pb::EnterpriseMembership::None,
            Self::Master => pb::EnterpriseMembership::Master,
            Self::Sub => pb::EnterpriseMembership::Sub,
        }
    }

    /// Reads the wire form; UNSPECIFIED is not a value.
    pub fn from_proto(raw: i32) -> Result<Self, &'static str> {
        match pb::EnterpriseMembership::try_from(raw) {
            Ok(pb::EnterpriseMembership::None) => Ok(Self::None),
            Ok(pb::EnterpriseMembership::Master) => Ok(Self::Master),
            Ok(pb::EnterpriseMembership::Sub) => Ok(Self::Sub),
            Ok(pb::EnterpriseMembership::Unspecified) | Err(_) => Err("one of NONE, MASTER, SUB"),
        }
    }
}

/// A partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: PartnerId,
    pub display_name: String,
    pub contact_email: String,
    pub state: PartnerState,
    pub master_user_id: UserId,
    pub suspend_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Owes the vendor money (set by the operator until billing owns it).
    pub in_arrears: bool,
    /// Enterprise membership of the account (set by the operator).
    pub enterprise_membership: EnterpriseMembership,
    /// Holds a credit account (set by the operator).
    pub has_credit_account: bool,
    /// In marketing programme 2.0: dispatched leads' contacts are masked
    /// (set by the operator).
    pub marketing_programme_v2: bool,
    /// Programs joined, oldest first. Filled by the loaders in `store.rs`;
    /// a bare row converts with none.
    pub programs: Vec<Enrolment>,
    /// Sales-platform ids (`xaccount_type`), oldest first; filled by the
    /// same loaders.
    pub sales_platform_ids: Vec<String>,
}

impl TryFrom<partner::Model> for Partner {
    type Error = KernelError;
    fn try_from(m: partner::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: parse_stored(&m.partner_id, PartnerId::parse)?,
            display_name: m.display_name,
            contact_email: m.contact_email,
            state: PartnerState::parse(&m.state)?,
            master_user_id: parse_stored(&m.master_user_id, UserId::parse)?,
            suspend_reason: m.suspend_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
            in_arrears: m.in_arrears,
            enterprise_membership: EnterpriseMembership::parse(&m.enterprise_membership)?,
            has_credit_account: m.has_credit_account,
            marketing_programme_v2: m.marketing_programme_v2,
            programs: Vec::new(),
            sales_platform_ids: Vec::new(),
        })
    }
}

impl Partner {
    /// The wire form.
    pub fn to_proto(&self) -> pb::Partner {
        pb::Partner {
            partner_id: self.id.to_string(),
            display_name: self.display_name.clone(),
            contact_email: self.contact_email.clone(),
            state: self.state.to_proto().into(),
            master_user_id: self.master_user_id.to_string(),
            suspend_reason: self.suspend_reason.clone().unwrap_or_default(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
            in_arrears: self.in_arrears,
            enterprise_membership: self.enterprise_membership.to_proto().into(),
            has_credit_account: self.has_credit_account,
            marketing_programme_v2: self.marketing_programme_v2,
            programs: self.programs.iter().map(Enrolment::to_proto).collect(),
            sales_platform_ids: self.sales_platform_ids.clone(),
        }
    }

    /// The summary kept in audit records.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "display_name": self.display_name,
            "contact_email": self.contact_email,
            "state": self.state.as_str(),
            "suspend_reason": self.suspend_reason,
            "in_arrears": self.in_arrears,
            "enterprise_membership": self.enterprise_membership.as_str(),
            "has_credit_account": self.has_credit_account,
            "marketing_programme_v2": self.marketing_programme_v2,
            "programs": self.programs.iter().map(|e| e.program.as_str()).collect::<Vec<_>>(),
            "sales_platform_ids": self.sales_platform_ids,
        })
    }
}
