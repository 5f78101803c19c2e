//! Customer budgets: what a customer may spend (monthly or one-off), what it
//! has used, and every change as a record. Billing counts consumption and
//! enforces the budget; this module keeps it.

pub mod model;
pub mod store;

pub use model::{BUDGET_FREEZE_REASON, Budget, BudgetType};

use partner_accounts::tenant::resolve_in;
use partner_api::customers::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};

use crate::access as perm;
use crate::customers::FreezeMode;
use crate::customers::freeze::{FreezeChange, freeze_one};
use crate::customers::store as customer_store;
use crate::error::CustomersError;
use crate::service::{Customers, PageRequest};

/// A budget to set, after parsing.
#[derive(Debug, Clone, Copy)]
pub struct NewBudget {
    pub amount: Money,
    pub budget_type: BudgetType,
    pub auto_freeze: bool,
    /// Also lift a freeze the budget's auto-freeze put on the customer.
    pub lift_budget_freeze: bool,
}

impl Customers {
    /// Sets a customer's budget; consumption already counted stays counted
    /// (a different currency is refused while any is).
    pub async fn set_budget(
        &self,
        mut m: Mutation,
        id: CustomerId,
        budget: NewBudget,
        reseller: Option<PartnerId>,
    ) -> Result<pb::SetCustomerBudgetResponse, CustomersError> {
        let tenant = self
            .tenant(&m.principal, perm::CUSTOMERS_BUDGET, reseller)
            .await?;
        let own = m.principal.require_partner(perm::CUSTOMERS_BUDGET)?;
        if budget.lift_budget_freeze {
            // Lifting a freeze is what UnfreezeCustomers takes.
            m.principal.require_partner(perm::CUSTOMERS_FREEZE)?;
        }
        m.acting_for = tenant.acting_for();
        let now = m.now;
        let month = self.budget_month(now);
        let actor = m.principal.user()?;
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = resolve_in(tx, own, reseller).await?.partner_id;
                let customer = customer_store::customer_of_for_update(tx, partner, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                let before = store::budget_of(tx, partner, id, month).await?;
                let used = match before {
                    // A new kind of budget starts counting afresh: a one-off
                    // budget's lifetime count is not a month's, nor the
                    // reverse.
                    Some(b) if b.budget_type != budget.budget_type => {
                        Money::zero(budget.amount.currency())
                    }
                    Some(b) if b.used.currency() == budget.amount.currency() => b.used,
                    Some(b) if b.used.minor() != 0 => {
                        return Err(CustomersError::BudgetCurrencyConflict {
                            currency: b.used.currency().code(),
                        });
                    }
                    Some(_) | None => Money::zero(budget.amount.currency()),
                };
                let after = Budget {
                    customer_id: id,
                    amount: budget.amount,
                    used,
                    budget_type: budget.budget_type,
                    auto_freeze: budget.auto_freeze,
                    updated_at: now,
                    // The month counted, never moved back (see `from_stored`).
                    month: (budget.budget_type == BudgetType::Monthly).then(|| {
                        before
                            .and_then(|b| b.month)
                            .map_or(month, |counted| counted.max(month))
                    }),
                };
                store::upsert(tx, partner, &after, before.is_some()).await?;
                store::insert_record(tx, partner, &after, actor, now).await?;
                let mut change = Change::of(Some(partner), id)
                    .after(after.audit_summary())
                    .announce("customer.budget_changed");
                if let Some(before) = before {
                    change = change.before(before.audit_summary());
                }
                let frozen_by_budget = customer.freeze_mode != FreezeMode::None
                    && customer.freeze_reason.as_deref() == Some(BUDGET_FREEZE_REASON);
                let lift = budget.lift_budget_freeze && frozen_by_budget;
                let response = pb::SetCustomerBudgetResponse {
                    budget: Some(after.to_proto()),
                    unfrozen: lift,
                };
                let mut outcome = Outcome::new(response, change);
                if lift {
                    let (_, unfrozen) = freeze_one(
                        tx,
                        partner,
                        customer,
                        &FreezeChange::Unfreeze,
                        "budget freeze lifted with the budget",
                        now,
                    )
                    .await?;
                    outcome = outcome.and(unfrozen);
                }
                Ok(outcome)
            })
        })
        .await;
        // An unfrozen customer's tokens work again from its next call.
        self.forget_status(&answer, id);
        answer
    }

    /// A customer's budget.
    pub async fn get_budget(
        &self,
        p: &Principal,
        id: CustomerId,
        reseller: Option<PartnerId>,
    ) -> Result<Budget, CustomersError> {
        let conn = self.db().conn();
        let month = self.budget_month(self.clock().now());
        if let Some(own) = self.own_account(p, id, reseller).await? {
            // The budget its current partner set, if it has one.
            let partner = own.partner_id.ok_or(CustomersError::BudgetNotSet)?;
            return store::budget_of(conn, partner, id, month)
                .await?
                .ok_or(CustomersError::BudgetNotSet);
        }
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        // The customer first: a budget outlives nothing, but it must never be
        // read through a partner the customer has left.
        customer_store::customer_of(conn, tenant.partner_id, id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)?;
        store::budget_of(conn, tenant.partner_id, id, month)
            .await?
            .ok_or(CustomersError::BudgetNotSet)
    }

    /// Budgets of up to 100 customers, a result per id in the order asked.
    pub async fn batch_get_budgets(
        &self,
        p: &Principal,
        ids: Vec<CustomerId>,
        reseller: Option<PartnerId>,
    ) -> Result<Vec<pb::BudgetResult>, CustomersError> {
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        let conn = self.db().conn();
        let month = self.budget_month(self.clock().now());
        let mut budgets = store::budgets_among(conn, tenant.partner_id, &ids, month).await?;
        let known: std::collections::HashSet<CustomerId> =
            customer_store::customers_among(conn, tenant.partner_id, &ids)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
        Ok(ids
            .into_iter()
            .map(|id| {
                let (budget, error) = match (known.contains(&id), budgets.remove(&id)) {
                    (true, Some(b)) => (Some(b.to_proto()), String::new()),
                    (true, None) => (None, CustomersError::BudgetNotSet.reason().to_owned()),
                    (false, _) => (None, CustomersError::CustomerNotFound.reason().to_owned()),
                };
                pb::BudgetResult {
                    customer_id: id.to_string(),
                    budget,
                    error_reason: error,
                }
            })
            .collect())
    }

    /// A page of one customer's budget records, oldest first.
    pub async fn list_budget_records(
        &self,
        p: &Principal,
        id: CustomerId,
        reseller: Option<PartnerId>,
        page: PageRequest,
    ) -> Result<Page<pb::BudgetRecord>, CustomersError> {
        let tenant = self.tenant(p, perm::CUSTOMERS_READ, reseller).await?;
        let conn = self.db().conn();
        customer_store::customer_of(conn, tenant.partner_id, id)
            .await?
            .ok_or(CustomersError::CustomerNotFound)?;
        let scope = PageScope::new("ListBudgetRecords", &tenant.partner_id.to_string())
            .filter("customer", id);
        let after = self
            .pages()
            .decode(&scope, &page.token, self.clock().now())?;
        let rows =
            store::list_records(conn, tenant.partner_id, id, after.as_deref(), page.size + 1)
                .await?;
        let page = self.paginate(rows, page.size, &scope, |r| r.record_id.clone());
        Ok(Page {
            items: page.items,
            next_page_token: page.next_page_token,
        })
    }
}
