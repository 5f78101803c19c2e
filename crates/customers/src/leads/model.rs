//! A lead, its states, and how its contact is masked.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, parse_stored};

use crate::entity::lead;

partner_kernel::state_enum!(
    /// Where a lead stands.
    LeadState, "lead state", LeadState {
        /// Not followed up yet.
        New = "NEW",
        /// Being followed up.
        Following = "FOLLOWING",
        /// Became a customer.
        Converted = "CONVERTED",
        /// Came to nothing.
        Closed = "CLOSED",
    }
);

partner_kernel::state_enum!(
    /// Where a lead came from.
    LeadSource, "lead source", LeadSource {
        /// The partner found it.
        Partner = "PARTNER",
        /// The operator dispatched it (or will).
        Dispatched = "DISPATCHED",
    }
);

impl LeadState {
    /// Whether the lead is still being worked on.
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Following)
    }
}

/// A prospective customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub id: String,
    pub partner_id: Option<PartnerId>,
    pub source: LeadSource,
    pub state: LeadState,
    pub company_name: String,
    pub contact_name: String,
    pub phone: String,
    pub email: String,
    pub description: String,
    pub customer_id: Option<CustomerId>,
    pub close_reason: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<lead::Model> for Lead {
    type Error = KernelError;
    fn try_from(m: lead::Model) -> Result<Self, KernelError> {
        Ok(Self {
            partner_id: m
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            source: LeadSource::parse(&m.source)?,
            state: LeadState::parse(&m.state)?,
            customer_id: m
                .customer_id
                .as_deref()
                .map(|c| parse_stored(c, CustomerId::parse))
                .transpose()?,
            id: m.id,
            company_name: m.company_name,
            contact_name: m.contact_name,
            phone: m.phone,
            email: m.email,
            description: m.description,
            close_reason: m.close_reason,
            dispatched_at: m.dispatched_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A phone number with all but its first three and last four characters hidden.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// An email address with its local part hidden but for its first character.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None if email.is_empty() => String::new(),
        None => "***".to_owned(),
    }
}

impl Lead {
    /// The wire form, the contact masked when `masked`.
    pub fn to_proto(&self, masked: bool) -> pb::Lead {
        let (phone, email) = if masked {
            (mask_phone(&self.phone), mask_email(&self.email))
        } else {
            (self.phone.clone(), self.email.clone())
        };
        pb::Lead {
            lead_id: self.id.clone(),
            partner_id: self.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            source: self.source.to_proto().into(),
            state: self.state.to_proto().into(),
            company_name: self.company_name.clone(),
            contact_name: self.contact_name.clone(),
            phone,
            email,
            description: self.description.clone(),
            contact_masked: masked,
            customer_id: self.customer_id.map(|c| c.to_string()).unwrap_or_default(),
            close_reason: self.close_reason.clone().unwrap_or_default(),
            dispatch_time: self.dispatched_at.map(to_proto_timestamp),
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }

    /// The summary kept in audit records and carried by events: a
    /// dispatched lead's contact is the vendor's and is always masked here,
    /// whoever reads the trail later.
    pub fn audit_summary(&self) -> serde_json::Value {
        let masked = self.source == LeadSource::Dispatched;
        let shown = self.to_proto(masked);
        serde_json::json!({
            "partner_id": shown.partner_id,
            "source": self.source.as_str(),
            "state": self.state.as_str(),
            "company_name": shown.company_name,
            "contact_name": shown.contact_name,
            "phone": shown.phone,
            "email": shown.email,
            "customer_id": shown.customer_id,
            "close_reason": self.close_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_masked() {
        assert_eq!(mask_phone("+8613812345678"), "+86*******5678");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_email("li.lei@buyer.example"), "l***@buyer.example");
        assert_eq!(mask_email(""), "");
    }
}
