//! An agreement as the domain sees it, and its wire form.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, PaymentAgreementId, parse_stored};

use super::entity;

partner_kernel::state_enum!(
    /// Whose orders the payer pays.
    AgreementType, "payment agreement type", PaymentAgreementType {
        /// One of the payer's customers.
        Customer = "CUSTOMER",
        /// One of the payer's resellers.
        Reseller = "RESELLER",
    }
);

partner_kernel::state_enum!(
    /// Where an agreement is.
    AgreementState, "payment agreement state", PaymentAgreementState {
        /// Proposed; not accepted yet.
        Pending = "PENDING",
        /// Accepted by the payee.
        Active = "ACTIVE",
        /// Ended by either side.
        Terminated = "TERMINATED",
    }
);

/// Who takes part in an agreement's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Partner(PartnerId),
    Customer(CustomerId),
}

impl Party {
    pub fn id(self) -> String {
        match self {
            Party::Partner(p) => p.to_string(),
            Party::Customer(c) => c.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: PaymentAgreementId,
    pub agreement_type: AgreementType,
    pub state: AgreementState,
    pub payer: PartnerId,
    pub payee_id: String,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub terminated_at: Option<DateTime<Utc>>,
    pub terminated_by: Option<String>,
    pub terminate_reason: Option<String>,
}

impl Agreement {
    pub fn from_row(row: &entity::Model) -> Result<Self, KernelError> {
        Ok(Self {
            id: parse_stored(&row.id, PaymentAgreementId::parse)?,
            agreement_type: AgreementType::parse(&row.agreement_type)?,
            state: AgreementState::parse(&row.state)?,
            payer: parse_stored(&row.payer_partner_id, PartnerId::parse)?,
            payee_id: row.payee_id.clone(),
            created_at: row.created_at,
            accepted_at: row.accepted_at,
            terminated_at: row.terminated_at,
            terminated_by: row.terminated_by.clone(),
            terminate_reason: row.terminate_reason.clone(),
        })
    }

    /// The payer and the payee see it; nobody else.
    pub fn visible_to(&self, party: Party) -> bool {
        party == Party::Partner(self.payer) || party.id() == self.payee_id
    }

    /// Only the payee accepts.
    pub fn is_payee(&self, party: Party) -> bool {
        match (self.agreement_type, party) {
            (AgreementType::Customer, Party::Customer(c)) => c.to_string() == self.payee_id,
            (AgreementType::Reseller, Party::Partner(p)) => p.to_string() == self.payee_id,
            (AgreementType::Customer, Party::Partner(_))
            | (AgreementType::Reseller, Party::Customer(_)) => false,
        }
    }

    pub fn to_proto(&self) -> pb::PaymentAgreement {
        pb::PaymentAgreement {
            id: self.id.to_string(),
            r#type: self.agreement_type.to_proto() as i32,
            state: self.state.to_proto() as i32,
            payer_partner_id: self.payer.to_string(),
            payee_id: self.payee_id.clone(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            accept_time: self.accepted_at.map(to_proto_timestamp),
            terminate_time: self.terminated_at.map(to_proto_timestamp),
            terminated_by: self.terminated_by.clone().unwrap_or_default(),
            terminate_reason: self.terminate_reason.clone().unwrap_or_default(),
        }
    }

    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.agreement_type.as_str(),
            "state": self.state.as_str(),
            "payer_partner_id": self.payer.to_string(),
            "payee_id": self.payee_id,
        })
    }
}
