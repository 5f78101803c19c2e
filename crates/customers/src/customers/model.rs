//! A customer as the domain sees it, its states, and their wire and stored
//! forms. Stored strings parse strictly: an unknown one is corruption.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId, UserId, parse_stored};

partner_kernel::state_enum!(
    /// How a customer is associated with its partner.
    AssociationType, "association type", AssociationType {
        /// The customer pays the vendor; the partner cannot fund it.
        ConsultantSale = "CONSULTANT_SALE",
        /// The partner funds the customer.
        Reseller = "RESELLER",
    }
);

partner_kernel::state_enum!(
    /// Real-name verification.
    RealNameStatus, "real-name status", RealNameStatus {
        /// Nothing submitted.
        None = "NONE",
        /// Waiting for review.
        Reviewing = "REVIEWING",
        /// Rejected; may resubmit.
        Rejected = "REJECTED",
        /// Verified.
        Verified = "VERIFIED",
    }
);

partner_kernel::state_enum!(
    /// Person or company.
    CustomerType, "customer type", CustomerType {
        /// Not known yet.
        None = "NONE",
        /// A person.
        Individual = "INDIVIDUAL",
        /// A company.
        Enterprise = "ENTERPRISE",
    }
);

partner_kernel::state_enum!(
    /// What is frozen.
    FreezeMode, "freeze mode", FreezeMode {
        /// Nothing.
        None = "NONE",
        /// The account.
        Account = "ACCOUNT",
        /// The account and its resources.
        AccountAndResources = "ACCOUNT_AND_RESOURCES",
    }
);

/// The contact person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// A customer's cloud account as its partner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    /// The associated partner; `None` once the association ended.
    pub partner_id: Option<PartnerId>,
    pub xaccount_type: String,
    pub xaccount_id: String,
    pub account_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub country: String,
    pub has_password: bool,
    pub association_type: AssociationType,
    pub associated_at: Option<DateTime<Utc>>,
    pub real_name_status: RealNameStatus,
    pub customer_type: CustomerType,
    pub freeze_mode: FreezeMode,
    pub freeze_reason: Option<String>,
    pub level: String,
    pub labels: Vec<String>,
    pub account_managers: Vec<UserId>,
    pub contact: Contact,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored list of strings (JSON array); anything else is corruption.
pub(crate) fn parse_list(raw: &str, what: &str) -> Result<Vec<String>, KernelError> {
    serde_json::from_str(raw).map_err(|e| KernelError::Corrupt(format!("stored {what}: {e}")))
}

/// The stored form of a list of strings.
pub(crate) fn store_list<T: ToString>(items: &[T]) -> String {
    serde_json::Value::from(items.iter().map(T::to_string).collect::<Vec<_>>()).to_string()
}

impl Customer {
    /// The customer from its row; of the password hash only whether there
    /// is one leaves the store.
    pub(crate) fn from_row(m: crate::entity::customer::Model) -> Result<Self, KernelError> {
        let has_password = m.password_hash.is_some();
        Ok(Self {
            id: parse_stored(&m.id, CustomerId::parse)?,
            partner_id: m
                .partner_id
                .as_deref()
                .map(|p| parse_stored(p, PartnerId::parse))
                .transpose()?,
            xaccount_type: m.xaccount_type,
            xaccount_id: m.xaccount_id,
            account_name: m.account_name,
            email: m.email,
            mobile: m.mobile,
            country: m.country,
            has_password,
            association_type: AssociationType::parse(&m.association_type)?,
            associated_at: m.associated_at,
            real_name_status: RealNameStatus::parse(&m.real_name_status)?,
            customer_type: CustomerType::parse(&m.customer_type)?,
            freeze_mode: FreezeMode::parse(&m.freeze_mode)?,
            freeze_reason: m.freeze_reason,
            level: m.level,
            labels: parse_list(&m.labels, "labels")?,
            account_managers: parse_list(&m.account_managers, "account managers")?
                .iter()
                .map(|u| parse_stored(u, UserId::parse))
                .collect::<Result<_, _>>()?,
            contact: Contact {
                name: m.contact_name,
                email: m.contact_email,
                phone: m.contact_phone,
            },
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::Customer {
        pb::Customer {
            customer_id: self.id.to_string(),
            account_name: self.account_name.clone(),
            xaccount_type: self.xaccount_type.clone(),
            xaccount_id: self.xaccount_id.clone(),
            partner_id: self.partner_id.map(|p| p.to_string()).unwrap_or_default(),
            association_type: self.association_type.to_proto().into(),
            associate_time: self.associated_at.map(to_proto_timestamp),
            real_name_status: self.real_name_status.to_proto().into(),
            customer_type: self.customer_type.to_proto().into(),
            freeze_mode: self.freeze_mode.to_proto().into(),
            freeze_reason: self.freeze_reason.clone().unwrap_or_default(),
            level: self.level.clone(),
            labels: self.labels.clone(),
            account_manager_ids: self
                .account_managers
                .iter()
                .map(ToString::to_string)
                .collect(),
            email: self.email.clone().unwrap_or_default(),
            mobile: self.mobile.clone().unwrap_or_default(),
            country: self.country.clone(),
            contact: Some(pb::Contact {
                name: self.contact.name.clone(),
                email: self.contact.email.clone(),
                phone: self.contact.phone.clone(),
            }),
            has_password: self.has_password,
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }

    /// The summary kept in audit records and carried by events. Holds no
    /// contact details beyond what the partner set itself.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "account_name": self.account_name,
            "xaccount_type": self.xaccount_type,
            "xaccount_id": self.xaccount_id,
            "partner_id": self.partner_id.map(|p| p.to_string()),
            "association_type": self.association_type.as_str(),
            "real_name_status": self.real_name_status.as_str(),
            "customer_type": self.customer_type.as_str(),
            "freeze_mode": self.freeze_mode.as_str(),
            "freeze_reason": self.freeze_reason,
            "labels": self.labels,
            "account_managers": self.account_managers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_refuse_unknowns() {
        for m in [
            FreezeMode::None,
            FreezeMode::Account,
            FreezeMode::AccountAndResources,
        ] {
            assert_eq!(FreezeMode::parse(m.as_str()).ok(), Some(m));
            assert_eq!(FreezeMode::from_wire(m.to_proto().into()), Some(m));
        }
        assert!(FreezeMode::parse("frozen").is_err());
        assert_eq!(FreezeMode::from_wire(0), None);
        assert_eq!(FreezeMode::from_wire(99), None);
        assert_eq!(
            AssociationType::from_wire(2),
            Some(AssociationType::Reseller)
        );
    }
}
