//! A customer leaving its partner, in the disassociation's own transaction:
//! a RESELLER customer takes none of the partner's money with it (the cash
//! of each of its cash accounts returns to the partner, recorded as a
//! reclaim on disassociation), and it may not leave while money is held
//! for its orders (released later, that money would return to a customer
//! with no partner, for the next partner to reclaim). The partner's payment
//! agreements with the customer end, and the coupons it issued the
//! customer return to their quotas, and its orders waiting for payment
//! are cancelled.

use futures::future::BoxFuture;
use partner_customers::customers::leaving::{CustomerLeaving, LeavingError};
use partner_customers::customers::model::AssociationType;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
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
        if cash.pending.is_positive() {
            return Err(BillingError::HeldFundsOnLeaving);
        }
        let available = cash.balance;
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
    ) -> BoxFuture<'a, Result<Vec<Change>, LeavingError>> {
        Box::pin(async move {
            // Coupons first: their rows and quotas come before any ledger
            // account in the lock order.
            let mut changes =
                crate::coupons::leaving::return_coupons(tx, m, partner, customer).await?;
            if association == AssociationType::Reseller {
                changes.extend(return_funds(tx, m, partner, customer).await?);
            }
            changes.extend(
                crate::agreements::end_with_leaving_customer(tx, partner, customer, m.now).await?,
            );
            changes.extend(
                crate::orders::cancel::cancel_on_leaving(tx, partner, customer, m.now).await?,
            );
            Ok(changes)
        })
    }
}

impl From<BillingError> for LeavingError {
    fn from(e: BillingError) -> Self {
        if matches!(e, BillingError::HeldFundsOnLeaving) {
            return LeavingError::Refused {
                reason: "CUSTOMER_HAS_HELD_FUNDS",
                message: "money is held for the customer's orders: pay or cancel them first",
            };
        }
        if let BillingError::Kernel(k) = e {
            LeavingError::Kernel(k)
        } else {
            LeavingError::Kernel(KernelError::Corrupt(format!(
                "a leaving customer's funds: {e}"
            )))
        }
    }
}
