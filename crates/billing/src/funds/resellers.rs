//! Money between a distributor and its resellers: the distributor funds a
//! reseller from its own cash and takes money back, over an ACTIVE link
//! checked again inside the write (a suspension either happened before and
//! stops the movement, or waits for it).

use partner_accounts::tenant::resolve_in;
use partner_kernel::ids::PartnerId;
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Outcome};

use super::{Direction, post_recorded};
use crate::access::FUNDS_TRANSFER;
use crate::error::BillingError;
use crate::ledger::{Kind, Operation, Owner, Posted, Posting};
use crate::service::Billing;

impl Billing {
    /// Moves `amount` between the caller's cash and its reseller's.
    pub async fn move_reseller_funds<R>(
        &self,
        m: Mutation,
        direction: Direction,
        reseller: PartnerId,
        amount: Money,
        reason: String,
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
        self.accounts()
            .resolve_tenant(&m.principal, FUNDS_TRANSFER, Some(reseller))
            .await?;
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                resolve_in(tx, own, Some(reseller)).await?;
                let distributor_cash = (Owner::Partner(own), Kind::PartnerCash);
                let reseller_cash = (Owner::Partner(reseller), Kind::PartnerCash);
                let (operation, from, to) = match direction {
                    Direction::Fund => (Operation::FundReseller, distributor_cash, reseller_cash),
                    Direction::Reclaim => {
                        (Operation::ReclaimReseller, reseller_cash, distributor_cash)
                    }
                };
                let posting = Posting::transfer(operation, from, to, amount)?
                    .of_partner(own)
                    .because(reason);
                // Filed under the distributor; the reseller's own trail
                // shows the movement of its account as an entry.
                let (posted, change) = post_recorded(tx, &call, &posting).await?;
                Ok(Outcome::new(respond(&posted), change))
            })
        })
        .await
    }
}
