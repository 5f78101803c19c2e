//! Ending a customer's association with its partner. The customer keeps
//! its cloud account and its mapping; the partner loses it, and the
//! `customer.disassociated` event tells other systems. Billing returns a
//! RESELLER customer's funds to the partner in the same transaction
//! ([`super::leaving`]).

use partner_accounts::tenant::resolve_in;
use partner_api::customers::v1 as pb;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};

use super::store;
use crate::access as perm;
use crate::error::CustomersError;
use crate::service::Customers;

impl Customers {
    /// Ends the association of one of the tenant's customers.
    pub async fn disassociate_customer(
        &self,
        mut m: Mutation,
        id: CustomerId,
        reason: String,
        reseller: Option<PartnerId>,
    ) -> Result<pb::DisassociateCustomerResponse, CustomersError> {
        let tenant = self
            .tenant(&m.principal, perm::CUSTOMERS_DISASSOCIATE, reseller)
            .await?;
        let own = m.principal.require_partner(perm::CUSTOMERS_DISASSOCIATE)?;
        m.acting_for = tenant.acting_for();
        let now = m.now;
        let leaving = self.leaving().hook();
        let call = m.clone();
        let answer = write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = resolve_in(tx, own, reseller).await?.partner_id;
                let before = store::customer_of_for_update(tx, partner, id)
                    .await?
                    .ok_or(CustomersError::CustomerNotFound)?;
                // A review in progress would find no customer to update.
                if let Some(pending) =
                    crate::verification::store::latest_of(tx, partner, id).await?
                    && pending.state == crate::verification::VerificationState::Reviewing
                {
                    return Err(CustomersError::CustomerStateConflict { state: "REVIEWING" });
                }
                store::disassociate(tx, partner, id, now).await?;
                let others = match leaving {
                    Some(hook) => {
                        hook.customer_leaving(tx, &call, partner, id, before.association_type)
                            .await?
                    }
                    None => Vec::new(),
                };
                // A budget is the partner's; the customer leaves without it.
                crate::budgets::store::delete_of(tx, partner, id).await?;
                // The event belongs to the partner that lost the customer:
                // it (and billing) must hear of it; the customer is no
                // longer readable through it.
                let change = Change::of(Some(partner), id)
                    .reason(reason)
                    .before(before.audit_summary())
                    .after(serde_json::json!({
                        "partner_id": partner.to_string(),
                        "association_type": before.association_type.as_str(),
                        "disassociated": true,
                    }))
                    .announce("customer.disassociated");
                let response = pb::DisassociateCustomerResponse {
                    customer_id: id.to_string(),
                    partner_id: partner.to_string(),
                    association_type: before.association_type.to_proto().into(),
                    disassociate_time: Some(partner_kernel::clock::to_proto_timestamp(now)),
                };
                Ok(others
                    .into_iter()
                    .fold(Outcome::new(response, change), Outcome::and))
            })
        })
        .await;
        self.forget_status(&answer, id);
        answer
    }
}
