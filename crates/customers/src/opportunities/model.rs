//! An opportunity, its states and routing, and the routing table's rows.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, parse_stored};
use partner_kernel::money::{Currency, Money};

use crate::entity::{opportunity, routing_rule};

partner_kernel::state_enum!(
    /// Where an opportunity stands.
    OpportunityState, "opportunity state", OpportunityState {
        /// Waiting for the vendor.
        Submitted = "SUBMITTED",
        /// Accepted.
        Accepted = "ACCEPTED",
        /// Declined.
        Rejected = "REJECTED",
        /// Won.
        Won = "WON",
        /// Lost.
        Lost = "LOST",
    }
);

partner_kernel::state_enum!(
    /// How an opportunity was routed.
    Routing, "routing", Routing {
        /// The prospect is already the vendor's customer.
        ExistingCustomer = "EXISTING_CUSTOMER",
        /// Routed by location.
        ByLocation = "BY_LOCATION",
        /// No rule covered the location.
        Unrouted = "UNROUTED",
    }
);

/// A deal shared with the vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opportunity {
    pub id: String,
    pub partner_id: PartnerId,
    pub state: OpportunityState,
    pub customer_name: String,
    pub customer_email: String,
    pub country: String,
    pub region: String,
    pub description: String,
    pub expected_amount: Option<Money>,
    pub routing: Routing,
    pub office: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<opportunity::Model> for Opportunity {
    type Error = KernelError;
    fn try_from(m: opportunity::Model) -> Result<Self, KernelError> {
        let expected_amount = match (m.expected_currency.as_deref(), m.expected_minor) {
            (Some(c), Some(minor)) => Some(Money::from_minor(
                Currency::parse(c)
                    .map_err(|e| KernelError::Corrupt(format!("opportunity currency: {e}")))?,
                minor,
            )),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(KernelError::Corrupt(format!("opportunity {} amount", m.id)));
            }
        };
        Ok(Self {
            partner_id: parse_stored(&m.partner_id, PartnerId::parse)?,
            state: OpportunityState::parse(&m.state)?,
            routing: Routing::parse(&m.routing)?,
            id: m.id,
            customer_name: m.customer_name,
            customer_email: m.customer_email,
            country: m.country,
            region: m.region,
            description: m.description,
            expected_amount,
            office: m.office,
            reason: m.reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl Opportunity {
    /// The wire form.
    pub fn to_proto(&self) -> pb::Opportunity {
        pb::Opportunity {
            opportunity_id: self.id.clone(),
            partner_id: self.partner_id.to_string(),
            state: self.state.to_proto().into(),
            customer_name: self.customer_name.clone(),
            customer_email: self.customer_email.clone(),
            country: self.country.clone(),
            region: self.region.clone(),
            description: self.description.clone(),
            expected_amount: self.expected_amount.map(Money::to_proto),
            routing: self.routing.to_proto().into(),
            office: self.office.clone().unwrap_or_default(),
            reason: self.reason.clone().unwrap_or_default(),
            create_time: Some(to_proto_timestamp(self.created_at)),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }

    /// The summary kept in audit records and events.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state.as_str(),
            "customer_name": self.customer_name,
            "country": self.country,
            "region": self.region,
            "routing": self.routing.as_str(),
            "office": self.office,
            "reason": self.reason,
        })
    }
}

/// One rule of the routing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub country: String,
    pub region: String,
    pub office: String,
    pub updated_at: DateTime<Utc>,
}

impl From<routing_rule::Model> for RoutingRule {
    fn from(m: routing_rule::Model) -> Self {
        Self {
            country: m.country,
            region: m.region,
            office: m.office,
            updated_at: m.updated_at,
        }
    }
}

impl RoutingRule {
    /// The key of the rule's row: `{country}/{region}`.
    pub fn key(country: &str, region: &str) -> String {
        format!("{country}/{region}")
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::RoutingRule {
        pb::RoutingRule {
            country: self.country.clone(),
            region: self.region.clone(),
            office: self.office.clone(),
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }
}
