//! Funds (`FundsService`): the operator credits what partners pay in; a
//! partner funds its RESELLER customers from its cash and reclaims from
//! them; partners, customers and the operator read balances and movements.
//! Every movement is one ledger posting in the call's write transaction.

mod adjust;
mod credit;
pub mod grpc;
mod leaving;
mod owner;
mod read;
mod resellers;

use partner_accounts::tenant::resolve_in;
use partner_customers::customers::model::AssociationType;
use partner_customers::customers::store as customer_store;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use serde_json::json;

use crate::access::{FUNDS_TRANSFER, PLATFORM_FUNDS_MANAGE};
use crate::error::BillingError;
use crate::ledger::{Kind, Operation, Owner, Posted, Posting, post};
use crate::service::Billing;

pub use adjust::AdjustFilter;
pub use owner::Named;

/// Which way money moves between a partner and its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Partner cash → customer cash (拨款).
    Fund,
    /// Customer cash → partner cash.
    Reclaim,
}

/// The audit summary of a posting, filed under its partner: the platform's
/// own legs are left out (their balances would tell the partner how much
/// money every partner holds).
pub(crate) fn summary(posting: &Posting, posted: &Posted) -> serde_json::Value {
    json!({
        "transaction_id": posted.transaction_id.to_string(),
        "operation": posting.operation.as_str(),
        "amount": posting.amount.to_string(),
        "legs": posting.legs.iter().zip(&posted.accounts).filter(|(leg, _)| leg.owner != Owner::Platform).map(|(leg, account)| json!({
            "owner_id": account.owner_id,
            "kind": leg.kind.as_str(),
            "amount": leg.amount.to_string(),
            "balance_after": account.balance.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// Writes `posting` (whose partner it is filed under) and the audit change
/// that records it, with the posting's reason.
pub(crate) async fn post_recorded(
    tx: &sea_orm::DatabaseTransaction,
    m: &Mutation,
    posting: &Posting,
) -> Result<(Posted, Change), BillingError> {
    let posted = post(tx, m, posting).await?;
    let change = Change::of(posting.partner, posted.transaction_id)
        .after(summary(posting, &posted))
        .reason(posting.reason.clone());
    Ok((posted, change))
}

impl Billing {
    /// Credits `amount` a partner paid in to its cash account.
    pub async fn top_up_partner<R>(
        &self,
        m: Mutation,
        partner: PartnerId,
        amount: Money,
        reason: String,
        respond: fn(&Posted) -> R,
    ) -> Result<R, BillingError>
    where
        R: prost::Message + Default + 'static,
    {
        m.principal.require(PLATFORM_FUNDS_MANAGE)?;
        self.accounts().partner_record(partner).await?;
        let posting = Posting::transfer(
            Operation::TopUp,
            (Owner::Platform, Kind::ExternalFunding),
            (Owner::Partner(partner), Kind::PartnerCash),
            amount,
        )?
        .of_partner(partner)
        .because(reason);
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (posted, change) = post_recorded(tx, &call, &posting).await?;
                Ok(Outcome::new(respond(&posted), change))
            })
        })
        .await
    }

    /// Moves `amount` between the partner's cash (a reseller's, for its
    /// distributor) and its RESELLER customer's cash.
    #[allow(clippy::too_many_arguments)]
    pub async fn move_funds<R>(
        &self,
        mut m: Mutation,
        direction: Direction,
        customer: CustomerId,
        amount: Money,
        reason: String,
        reseller: Option<PartnerId>,
        respond: fn(&Posted) -> R,
    ) -> Result<R, BillingError>
    where
        R: prost::Message + Default + 'static,
    {
        let own = m.principal.require_partner(FUNDS_TRANSFER)?;
        // A replay answers first: the reseller link may have been suspended
        // since, and the movement it answers was made while it was active.
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let tenant = self
            .accounts()
            .resolve_tenant(&m.principal, FUNDS_TRANSFER, reseller)
            .await?;
        m.acting_for = tenant.acting_for();
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                // Again inside the write: a reseller link suspended or a
                // customer disassociated meanwhile stops the movement.
                let partner = resolve_in(tx, own, reseller).await?.partner_id;
                let found = customer_store::customer_of_for_update(tx, partner, customer)
                    .await?
                    .ok_or(BillingError::CustomerNotFound)?;
                if found.association_type != AssociationType::Reseller {
                    return Err(BillingError::ConsultantSale);
                }
                let partner_cash = (Owner::Partner(partner), Kind::PartnerCash);
                let customer_cash = (Owner::Customer(customer), Kind::CustomerCash);
                let (operation, from, to) = match direction {
                    Direction::Fund => (Operation::Fund, partner_cash, customer_cash),
                    Direction::Reclaim => (Operation::Reclaim, customer_cash, partner_cash),
                };
                let posting = Posting::transfer(operation, from, to, amount)?
                    .of_partner(partner)
                    .of_customer(customer)
                    .because(reason);
                let (posted, change) = post_recorded(tx, &call, &posting).await?;
                Ok(Outcome::new(respond(&posted), change))
            })
        })
        .await
    }
}
