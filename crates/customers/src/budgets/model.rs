//! A customer's budget and its wire and stored forms.

use chrono::{DateTime, Utc};
use partner_api::customers::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, parse_stored};
use partner_kernel::money::{Currency, Money};

use crate::entity::customer_budget;

partner_kernel::state_enum!(
    /// How a budget runs.
    BudgetType, "budget type", BudgetType {
        /// Available again every month.
        Monthly = "MONTHLY",
        /// One-off.
        Package = "PACKAGE",
    }
);

/// A customer's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub customer_id: CustomerId,
    pub amount: Money,
    pub used: Money,
    pub budget_type: BudgetType,
    pub auto_freeze: bool,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<customer_budget::Model> for Budget {
    type Error = KernelError;
    fn try_from(m: customer_budget::Model) -> Result<Self, KernelError> {
        let currency = Currency::parse(&m.currency)
            .map_err(|e| KernelError::Corrupt(format!("budget currency {:?}: {e}", m.currency)))?;
        Ok(Self {
            customer_id: parse_stored(&m.customer_id, CustomerId::parse)?,
            amount: Money::from_minor(currency, m.amount_minor),
            used: Money::from_minor(currency, m.used_minor),
            budget_type: BudgetType::parse(&m.budget_type)?,
            auto_freeze: m.auto_freeze,
            updated_at: m.updated_at,
        })
    }
}

impl Budget {
    /// What is left: the amount less what was used, never below zero.
    pub fn remaining(&self) -> Money {
        let left = self.amount.minor().saturating_sub(self.used.minor()).max(0);
        Money::from_minor(self.amount.currency(), left)
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::CustomerBudget {
        pb::CustomerBudget {
            customer_id: self.customer_id.to_string(),
            amount: Some(self.amount.to_proto()),
            used: Some(self.used.to_proto()),
            remaining: Some(self.remaining().to_proto()),
            budget_type: self.budget_type.to_proto().into(),
            auto_freeze: self.auto_freeze,
            update_time: Some(to_proto_timestamp(self.updated_at)),
        }
    }

    /// The summary kept in audit records and events.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "amount": self.amount.to_string(),
            "used": self.used.to_string(),
            "budget_type": self.budget_type.as_str(),
            "auto_freeze": self.auto_freeze,
        })
    }
}
