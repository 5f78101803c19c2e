//! Freezing and unfreezing customers, in batches with a result per customer.
//! One transaction for the batch: every customer that changed is audited and
//! announced; the ones refused say why in their result.

use partner_api::customers::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};

use super::model::{Customer, FreezeMode};
use super::store;
use crate::access as perm;
use crate::error::CustomersError;
use crate::service::Customers;
use partner_accounts::tenant::resolve_in;

/// What a batch does to each customer.
#[derive(Debug, Clone)]
pub enum FreezeChange {
    /// Freeze in this mode (never `None`).
    Freeze(FreezeMode),
    /// Lift the freeze.
    Unfreeze,
}

impl Customers {
    /// Freezes or unfreezes up to 100 of the tenant's customers; `respond`
    /// builds the verb's answer (which a replay returns) from the results.
    pub async fn set_frozen<R>(
        &self,
        mut m: Mutation,
        ids: Vec<CustomerId>,
        change: FreezeChange,
        reason: String,
        reseller: Option<PartnerId>,
        respond: fn(Vec<pb::FreezeResult>) -> R,
    ) -> Result<R, CustomersError>
    where
        R: prost::Message + Default + Send + 'static,
    {
        let tenant = self
            .tenant(&m.principal, perm::CUSTOMERS_FREEZE, reseller)
            .await?;
        let own = m.principal.require_partner(perm::CUSTOMERS_FREEZE)?;
        m.acting_for = tenant.acting_for();
        let now = m.now;
        let touched = ids.clone();
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = resolve_in(tx, own, reseller).await?.partner_id;
                // Rows are locked in id order whatever order the caller
                // gave, so two batches over the same customers cannot
                // deadlock (PostgreSQL).
                let mut in_order = ids.clone();
                in_order.sort_unstable();
                let mut found = std::collections::HashMap::with_capacity(ids.len());
                for id in in_order {
                    if let Some(c) = store::customer_of_for_update(tx, partner, id).await? {
                        found.insert(id, c);
                    }
                }
                let mut results = Vec::with_capacity(ids.len());
                let mut changes = Vec::new();
                for id in ids {
                    let before = found.remove(&id).ok_or(CustomersError::CustomerNotFound);
                    let outcome = match before {
                        Ok(before) => freeze_one(tx, partner, before, &change, &reason, now).await,
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok((after, change)) => {
                            changes.push(change);
                            results.push(pb::FreezeResult {
                                customer_id: id.to_string(),
                                customer: Some(after),
                                error_reason: String::new(),
                            });
                        }
                        Err(
                            e @ (CustomersError::CustomerNotFound
                            | CustomersError::CustomerStateConflict { .. }),
                        ) => results.push(pb::FreezeResult {
                            customer_id: id.to_string(),
                            customer: None,
                            error_reason: e.reason().to_owned(),
                        }),
                        Err(other) => return Err(other),
                    }
                }
                Ok(Outcome::batch(respond(results), changes))
            })
        })
        .await;
        // Frozen customers' tokens stop working from their next call.
        for id in touched {
            self.forget_status(&answer, id);
        }
        answer
    }
}

/// Applies `change` to one customer (read and locked by the caller): its
/// wire form after, and the audit change.
pub(crate) async fn freeze_one(
    tx: &sea_orm::DatabaseTransaction,
    partner: PartnerId,
    before: Customer,
    change: &FreezeChange,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(pb::Customer, Change), CustomersError> {
    let id = before.id;
    let (mode, kept_reason, event) = match (change, before.freeze_mode) {
        (FreezeChange::Freeze(mode), FreezeMode::None) => {
            (*mode, Some(reason.to_owned()), "customer.frozen")
        }
        (FreezeChange::Unfreeze, FreezeMode::Account | FreezeMode::AccountAndResources) => {
            (FreezeMode::None, None, "customer.unfrozen")
        }
        (
            FreezeChange::Freeze(_),
            current @ (FreezeMode::Account | FreezeMode::AccountAndResources),
        )
        | (FreezeChange::Unfreeze, current @ FreezeMode::None) => {
            return Err(CustomersError::CustomerStateConflict {
                state: current.as_str(),
            });
        }
    };
    let after = store::set_freeze(tx, partner, id, mode, kept_reason, now)
        .await?
        .ok_or(CustomersError::CustomerNotFound)?;
    let change = Change::of(Some(partner), id)
        .reason(reason.to_owned())
        .before(before.audit_summary())
        .after(after.audit_summary())
        .announce(event);
    Ok((after.to_proto(), change))
}
