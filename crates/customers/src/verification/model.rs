//! A real-name verification: what was submitted, and its review.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};

use crate::entity::customer_verification;

partner_kernel::state_enum!(
    /// Whom a verification verifies.
    VerificationKind, "verification kind", VerificationKind {
        /// A person.
        Individual = "INDIVIDUAL",
        /// A company.
        Enterprise = "ENTERPRISE",
    }
);

partner_kernel::state_enum!(
    /// Where a verification stands.
    VerificationState, "verification state", VerificationState {
        /// Waiting for the operator.
        Reviewing = "REVIEWING",
        /// Approved.
        Approved = "APPROVED",
        /// Rejected.
        Rejected = "REJECTED",
    }
);

partner_kernel::state_enum!(
    /// What identifies a person.
    DocumentType, "identity document type", IdentityDocumentType {
        /// A national identity card.
        IdCard = "ID_CARD",
        /// A passport.
        Passport = "PASSPORT",
        /// A bank card.
        BankCard = "BANK_CARD",
    }
);

/// What was submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    Individual {
        full_name: String,
        document_type: DocumentType,
        document_number: String,
    },
    Enterprise {
        company_name: String,
        registration_number: String,
        licence_file_ref: String,
    },
}

impl Details {
    /// Whom the details verify.
    pub fn kind(&self) -> VerificationKind {
        match self {
            Self::Individual { .. } => VerificationKind::Individual,
            Self::Enterprise { .. } => VerificationKind::Enterprise,
        }
    }

    /// The stored form (a JSON object).
    pub fn to_stored(&self) -> String {
        match self {
            Self::Individual {
                full_name,
                document_type,
                document_number,
            } => serde_json::json!({
                "full_name": full_name,
                "document_type": document_type.as_str(),
                "document_number": document_number,
            }),
            Self::Enterprise {
                company_name,
                registration_number,
                licence_file_ref,
            } => serde_json::json!({
                "company_name": company_name,
                "registration_number": registration_number,
                "licence_file_ref": licence_file_ref,
            }),
        }
        .to_string()
    }

    fn from_stored(kind: VerificationKind, raw: &str) -> Result<Self, KernelError> {
        let corrupt = |what: &str| KernelError::Corrupt(format!("verification details: {what}"));
        let v: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| corrupt(&e.to_string()))?;
        let text = |key: &str| {
            v.get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| corrupt(key))
        };
        Ok(match kind {
            VerificationKind::Individual => Self::Individual {
                full_name: text("full_name")?,
                document_type: DocumentType::parse(&text("document_type")?)?,
                document_number: text("document_number")?,
            },
            VerificationKind::Enterprise => Self::Enterprise {
                company_name: text("company_name")?,
                registration_number: text("registration_number")?,
                licence_file_ref: text("licence_file_ref")?,
            },
        })
    }
}

/// A document number as partners see it: its last four characters, or
/// fewer for a short number (never more than half of it).
fn masked(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let keep = (chars.len() / 2).min(4);
    let hidden = chars.len() - keep;
    "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
}

/// One submission and its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub id: String,
    pub partner_id: PartnerId,
    pub customer_id: CustomerId,
    pub details: Details,
    pub state: VerificationState,
    pub reject_reason: Option<String>,
    pub change_to_enterprise: bool,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl TryFrom<customer_verification::Model> for Verification {
    type Error = KernelError;
    fn try_from(m: customer_verification::Model) -> Result<Self, KernelError> {
        let kind = VerificationKind::parse(&m.kind)?;
        Ok(Self {
            partner_id: parse_stored(&m.partner_id, PartnerId::parse)?,
            customer_id: parse_stored(&m.customer_id, CustomerId::parse)?,
            details: Details::from_stored(kind, &m.details)?,
            state: VerificationState::parse(&m.state)?,
            reject_reason: m.reject_reason,
            change_to_enterprise: m.change_to_enterprise,
            submitted_at: m.submitted_at,
            reviewed_at: m.reviewed_at,
            id: m.id,
        })
    }
}

impl Verification {
    /// The wire form; document numbers in full only for the operator (`full`).
    pub fn to_proto(&self, full: bool) -> pb::VerificationReview {
        let (individual, enterprise) = match &self.details {
            Details::Individual {
                full_name,
                document_type,
                document_number,
            } => (
                Some(pb::IndividualDetails {
                    full_name: full_name.clone(),
                    document_type: document_type.to_proto().into(),
                    document_number: if full {
                        document_number.clone()
                    } else {
                        masked(document_number)
                    },
                }),
                None,
            ),
            Details::Enterprise {
                company_name,
                registration_number,
                licence_file_ref,
            } => (
                None,
                Some(pb::EnterpriseDetails {
                    company_name: company_name.clone(),
                    registration_number: registration_number.clone(),
                    licence_file_ref: licence_file_ref.clone(),
                }),
            ),
        };
        pb::VerificationReview {
            verification_id: self.id.clone(),
            customer_id: self.customer_id.to_string(),
            kind: self.details.kind().to_proto().into(),
            state: self.state.to_proto().into(),
            individual,
            enterprise,
            reject_reason: self.reject_reason.clone().unwrap_or_default(),
            change_to_enterprise: self.change_to_enterprise,
            submit_time: Some(to_proto_timestamp(self.submitted_at)),
            review_time: self.reviewed_at.map(to_proto_timestamp),
        }
    }

    /// The summary kept in audit records: no document numbers.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "customer_id": self.customer_id.to_string(),
            "kind": self.details.kind().as_str(),
            "state": self.state.as_str(),
            "reject_reason": self.reject_reason,
            "change_to_enterprise": self.change_to_enterprise,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_numbers_show_their_last_four() {
        assert_eq!(masked("110101199003074512"), "**************4512");
        assert_eq!(masked("AB12"), "**12");
        assert_eq!(masked("E1234567"), "****4567");
    }

    #[test]
    fn details_round_trip_through_storage() {
        let d = Details::Individual {
            full_name: "Li Lei".into(),
            document_type: DocumentType::Passport,
            document_number: "E12345678".into(),
        };
        assert_eq!(Details::from_stored(d.kind(), &d.to_stored()).ok(), Some(d));
        assert!(Details::from_stored(VerificationKind::Enterprise, "{}").is_err());
    }
}
