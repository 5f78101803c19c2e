//! A customer's budget and its wire and stored forms.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
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

/// The freeze reason of a customer frozen by its budget's auto-freeze:
/// what `SetCustomerBudget` with `lift_budget_freeze` lifts.
pub const BUDGET_FREEZE_REASON: &str = "budget exceeded by on-demand charges (auto-freeze)";

/// The month a monthly budget counts at `at`: its first day in the billing
/// time zone `zone`.
pub fn budget_month(at: DateTime<Utc>, zone: FixedOffset) -> NaiveDate {
    let local = at.with_timezone(&zone).date_naive();
    local.with_day(1).unwrap_or(local)
}

/// The stored form of a budget month, `YYYY-MM` (a billing cycle's name).
pub fn month_key(month: NaiveDate) -> String {
    month.format("%Y-%m").to_string()
}

/// A customer's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub customer_id: CustomerId,
    pub amount: Money,
    /// Consumption counted: in [`Budget::month`] for a monthly budget,
    /// since it was set for a one-off one.
    pub used: Money,
    pub budget_type: BudgetType,
    pub auto_freeze: bool,
    pub updated_at: DateTime<Utc>,
    /// The month `used` counts (its first day), for a monthly budget.
    pub month: Option<NaiveDate>,
}

impl Budget {
    /// The stored budget as it stands in `month`: a monthly budget whose
    /// consumption was counted in an earlier month starts again from zero;
    /// one counted in `month` or later keeps its count (and month).
    pub fn from_stored(m: customer_budget::Model, month: NaiveDate) -> Result<Self, KernelError> {
        let currency = Currency::parse(&m.currency)
            .map_err(|e| KernelError::Corrupt(format!("budget currency {:?}: {e}", m.currency)))?;
        let budget_type = BudgetType::parse(&m.budget_type)?;
        let counted_in = match m.used_month.as_deref() {
            None => None,
            Some(raw) => Some(
                NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").map_err(|_| {
                    KernelError::Corrupt(format!("budget month {raw:?} of {}", m.customer_id))
                })?,
            ),
        };
        let (used, month) = match (budget_type, counted_in) {
            (BudgetType::Package, _) => (m.used_minor, None),
            // Counted in an earlier month: this month has used nothing yet.
            (BudgetType::Monthly, Some(c)) if c < month => (0, Some(month)),
            // This month's count, or a later one: a call whose clock is a
            // moment behind (it waited on the customer's lock across
            // midnight, or another replica's clock lags) must not wipe the
            // new month's count.
            (BudgetType::Monthly, Some(c)) => (m.used_minor, Some(c)),
            (BudgetType::Monthly, None) => (m.used_minor, Some(month)),
        };
        Ok(Self {
            customer_id: parse_stored(&m.customer_id, CustomerId::parse)?,
            amount: Money::from_minor(currency, m.amount_minor),
            used: Money::from_minor(currency, used),
            budget_type,
            auto_freeze: m.auto_freeze,
            updated_at: m.updated_at,
            month,
        })
    }

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
            used_month: self.month.map(month_key).unwrap_or_default(),
        }
    }

    /// The summary kept in audit records and events.
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "amount": self.amount.to_string(),
            "used": self.used.to_string(),
            "budget_type": self.budget_type.as_str(),
            "auto_freeze": self.auto_freeze,
            "used_month": self.month.map(month_key),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stored(budget_type: &str, used_month: Option<&str>) -> customer_budget::Model {
        customer_budget::Model {
            customer_id: CustomerId::generate().to_string(),
            partner_id: "prt_x".into(),
            currency: "CNY".into(),
            amount_minor: 500_000,
            used_minor: 304_000,
            used_month: used_month.map(str::to_owned),
            budget_type: budget_type.into(),
            auto_freeze: false,
            updated_at: Utc::now(),
        }
    }

    fn month(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").unwrap()
    }

    fn as_of(m: customer_budget::Model, raw: &str) -> (i64, Option<String>) {
        let b = Budget::from_stored(m, month(raw)).unwrap();
        (b.used.minor(), b.month.map(month_key))
    }

    #[test]
    fn a_monthly_count_turns_over_forwards_only() {
        let jan = || stored("MONTHLY", Some("2030-01"));
        assert_eq!(as_of(jan(), "2030-01"), (304_000, Some("2030-01".into())));
        assert_eq!(as_of(jan(), "2030-02"), (0, Some("2030-02".into())));
        // A reader whose clock is still in January keeps February's count.
        let feb = stored("MONTHLY", Some("2030-02"));
        assert_eq!(as_of(feb, "2030-01"), (304_000, Some("2030-02".into())));
        // No month kept: counted as the month it is read in.
        let none = stored("MONTHLY", None);
        assert_eq!(as_of(none, "2030-03"), (304_000, Some("2030-03".into())));
        // One-off budgets never turn over.
        let once = stored("PACKAGE", Some("2029-01"));
        assert_eq!(as_of(once, "2030-03"), (304_000, None));
        assert!(Budget::from_stored(stored("MONTHLY", Some("2030-1x")), month("2030-01")).is_err());
    }

    #[test]
    fn the_month_is_the_billing_zones() {
        let utc8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            budget_month(at("2030-01-31T15:59:59Z"), utc8),
            month("2030-01")
        );
        assert_eq!(
            budget_month(at("2030-01-31T16:00:00Z"), utc8),
            month("2030-02")
        );
    }
}
