//! A RESELLER customer leaving its partner takes none of the partner's
//! money with it: in the disassociation's own transaction, the available
//! cash of each of the customer's cash accounts returns to the partner,
//! recorded as a reclaim on disassociation. (Held amounts stay with the
//! orders that hold them.)

use futures::future::BoxFuture;
use partner_customers::customers::leaving::CustomerLeaving;
use partner_customers::customers::model::AssociationType;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::Change;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::post_recorded;
use crate::entity::ledger_account as account;
use crate::error::BillingError;
use crate::ledger::{Account, Kind, Operation, Owner, Posting};
use crate::service::Billing;

/// Why the money moved, as the adjustment record shows it.
const REASON: &str = "the customer left the partner";

async fn return_funds(
    tx: &DatabaseTransaction,
    m: &Mutation,
    partner: PartnerId,
    customer: CustomerId,
) -> Result<Vec<Change>, BillingError> {
    let rows = account::Entity::find()
        .filter(account::Column::OwnerId.eq(customer.to_string()))
        .filter(account::Column::Kind.eq(Kind::CustomerCash.as_str()))
        .order_by_asc(account::Column::Id)
        .lock_exclusive()
        .all(tx)
        .await?;
    let mut changes = Vec::new();
    for row in rows {
        let cash = Account::from_row(&row)?;
        let available = Money::from_minor(
            cash.balance.currency(),
            cash.balance.minor().saturating_sub(cash.pending.minor()),
        );
        if !available.is_positive() {
            continue;
        }
        let posting = Posting::transfer(
            Operation::ReclaimOnDisassociation,
            (Owner::Customer(customer), Kind::CustomerCash),
            (Owner::Partner(partner), Kind::PartnerCash),
            available,
        )?
        .of_partner(partner)
        .of_customer(customer)
        .because(REASON.to_owned());
        changes.push(post_recorded(tx, m, &posting).await?.1);
    }
    Ok(changes)
}

impl CustomerLeaving for Billing {
    fn customer_leaving<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        m: &'a Mutation,
        partner: PartnerId,
        customer: CustomerId,
        association: AssociationType,
    ) -> BoxFuture<'a, Result<Vec<Change>, KernelError>> {
        Box::pin(async move {
            if association != AssociationType::Reseller {
                return Ok(Vec::new());
            }
            return_funds(tx, m, partner, customer).await.map_err(|e| {
                if let BillingError::Kernel(k) = e {
                    k
                } else {
                    KernelError::Corrupt(format!("returning a leaving customer's funds: {e}"))
                }
            })
        })
    }
}
