//! Adjustments: the operator corrects a customer's bill of a cycle — one
//! that closed, whose figures never change — with an ADJUSTMENT fee record
//! in the cycle open now, and the money moves in the same transaction: a
//! charge from the customer's cash, then credit, then into arrears; a
//! credit from revenue to what it owes, then its credit line, then its
//! cash — never more than the cycle billed it, nor than it ever paid.

use partner_api::billing::v1 as pb;
use partner_customers::customers::Customer;
use partner_customers::customers::store as customer_store;
use partner_kernel::ids::{CustomerId, PartnerId, ResourceId, parse_stored};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::entity as fee;
use super::fees::{self, fee_id};
use super::model::{BillType, cycle_at};
use super::read::{Cycle, sum};
use crate::access::PLATFORM_BILLS_ADJUST;
use crate::entity::{ledger_account as account, ledger_entry as entry, ledger_transaction as txn};
use crate::error::BillingError;
use crate::ledger::Operation;
use crate::orders::entity::resource;
use crate::orders::model::ChargingMode;
use crate::service::Billing;
use crate::usage::settlement::charge::{CUSTOMER_KINDS, Party, charge, credit};

/// What a correction is about: one of the customer's resources, or a bill
/// line (service type and charge mode) without one.
#[derive(Debug, Clone)]
pub enum Subject {
    Resource(ResourceId),
    Line {
        service_type: String,
        charge_mode: ChargingMode,
    },
}

/// An operator's correction of a customer's bill.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub customer: CustomerId,
    /// The cycle corrected.
    pub cycle: Cycle,
    pub subject: Subject,
    /// A credit returns money; otherwise it is charged.
    pub credit: bool,
    /// Above zero.
    pub amount: Money,
    pub reason: String,
}

/// What the bill line of an adjustment shows: service type, resource type,
/// spec, region and charge mode; and the partner the resource was sold
/// under.
struct Described {
    resource_id: Option<String>,
    product: [String; 4],
    charge_mode: ChargingMode,
    sold_by: Option<Option<String>>,
}

async fn described(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    subject: Subject,
) -> Result<Described, BillingError> {
    match subject {
        Subject::Line {
            service_type,
            charge_mode,
        } => Ok(Described {
            resource_id: None,
            product: [service_type, String::new(), String::new(), String::new()],
            charge_mode,
            sold_by: None,
        }),
        Subject::Resource(id) => {
            let r = resource::Entity::find_by_id(id.to_string())
                .filter(resource::Column::CustomerId.eq(customer.to_string()))
                .one(tx)
                .await?
                .ok_or(BillingError::ResourceNotFound)?;
            Ok(Described {
                charge_mode: ChargingMode::parse(&r.charging_mode)?,
                sold_by: Some(r.partner_id),
                resource_id: Some(r.id),
                product: [r.service_type, r.resource_type, r.spec, r.region],
            })
        }
    }
}

/// What `cycle` billed the customer in `currency`, net: its fee records
/// other than adjustments (which belong to the cycles they correct), and
/// the adjustments of it, wherever they were billed.
async fn billed_net(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    cycle: &str,
    currency: &str,
) -> Result<i64, BillingError> {
    let sum_where = |of: Condition| {
        fee::Entity::find()
            .select_only()
            .column_as(sum("amount_minor"), "net")
            .filter(fee::Column::CustomerId.eq(customer.to_string()))
            .filter(fee::Column::Currency.eq(currency))
            .filter(of)
            .into_tuple::<i64>()
            .one(tx)
    };
    // Two sums, each along an index: (customer, cycle) and (customer,
    // adjusts_cycle).
    let billed = sum_where(
        Condition::all()
            .add(fee::Column::Cycle.eq(cycle))
            .add(fee::Column::BillType.ne(BillType::Adjustment.as_str())),
    )
    .await?;
    let adjusted = sum_where(Condition::all().add(fee::Column::AdjustsCycle.eq(cycle))).await?;
    billed
        .unwrap_or(0)
        .checked_add(adjusted.unwrap_or(0))
        .ok_or(BillingError::BalanceLimit)
}

/// What the customer's own accounts (cash, credit, arrears) ever paid into
/// revenue in `currency`, net of what came back: orders, refunds, usage
/// and adjustments. Coupons and a payer's money are not the customer's,
/// so no credit turns them into its cash; a purchase refunded in a later
/// cycle is not credited again.
async fn paid_net(
    tx: &DatabaseTransaction,
    customer: CustomerId,
    currency: &str,
) -> Result<i64, BillingError> {
    let accounts = Query::select()
        .column(account::Column::Id)
        .from(account::Entity)
        .and_where(account::Column::OwnerId.eq(customer.to_string()))
        .and_where(account::Column::Currency.eq(currency))
        .and_where(account::Column::Kind.is_in(CUSTOMER_KINDS.iter().map(|k| k.as_str())))
        .to_owned();
    let moves = Query::select()
        .column(txn::Column::Id)
        .from(txn::Entity)
        .and_where(txn::Column::CustomerId.eq(customer.to_string()))
        .and_where(txn::Column::Operation.is_in([
            Operation::OrderPayment.as_str(),
            Operation::OrderRefund.as_str(),
            Operation::UsageCharge.as_str(),
            Operation::BillAdjustment.as_str(),
        ]))
        .to_owned();
    let net: Option<i64> = entry::Entity::find()
        .select_only()
        .column_as(sum("amount"), "net")
        .filter(entry::Column::AccountId.in_subquery(accounts))
        .filter(entry::Column::TransactionId.in_subquery(moves))
        .into_tuple()
        .one(tx)
        .await?;
    // Entries out of the customer's accounts are below zero.
    Ok(net.unwrap_or(0).saturating_neg())
}

/// The partner a correction is filed under: the one the resource was sold
/// under; else the one that billed the customer last in the corrected
/// cycle; else its partner now.
async fn billed_by(
    tx: &DatabaseTransaction,
    customer: &Customer,
    cycle: &str,
    sold_by: Option<Option<String>>,
) -> Result<Option<PartnerId>, BillingError> {
    let stored = match sold_by {
        Some(p) => p,
        None => fee::Entity::find()
            .select_only()
            .column(fee::Column::PartnerId)
            .filter(fee::Column::CustomerId.eq(customer.id.to_string()))
            .filter(fee::Column::Cycle.eq(cycle))
            .filter(fee::Column::BillType.ne(BillType::Adjustment.as_str()))
            .order_by_desc(fee::Column::Id)
            .into_tuple::<Option<String>>()
            .one(tx)
            .await?
            .unwrap_or_else(|| customer.partner_id.map(|p| p.to_string())),
    };
    Ok(stored
        .map(|p| parse_stored(&p, PartnerId::parse))
        .transpose()?)
}

impl Billing {
    /// Writes the adjustment `a` in the cycle open now, moving its money.
    pub async fn adjust_bill(
        &self,
        m: Mutation,
        a: Adjustment,
    ) -> Result<pb::AdjustBillResponse, BillingError> {
        m.principal.require(PLATFORM_BILLS_ADJUST)?;
        // A replay is answered inside the commit: a cycle that had begun
        // for the first call has begun for it too.
        if a.cycle.start > m.now {
            return Err(BillingError::CycleNotStarted {
                cycle: a.cycle.name,
            });
        }
        let billed_in = cycle_at(m.now, self.billing_zone());
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                // Locked before the accounts, as paying and settling lock
                // it: concurrent credits of one cycle see each other.
                let (customer, _) = customer_store::platform_customer_for_update(tx, a.customer)
                    .await?
                    .ok_or(BillingError::CustomerNotFound)?;
                let what = described(tx, a.customer, a.subject).await?;
                let partner = billed_by(tx, &customer, &a.cycle.name, what.sold_by).await?;
                let currency = a.amount.currency();
                let code = currency.code();
                let minor = a.amount.minor();
                let party = Party {
                    customer: a.customer,
                    partner,
                    operation: Operation::BillAdjustment,
                    reason: a.reason.clone(),
                };
                let split = if a.credit {
                    let billed = billed_net(tx, a.customer, &a.cycle.name, code).await?;
                    let creditable = billed.min(paid_net(tx, a.customer, code).await?);
                    if minor > creditable {
                        return Err(BillingError::AdjustmentAboveBilled {
                            creditable: Money::from_minor(currency, creditable.max(0)),
                        });
                    }
                    credit(tx, &call, party, a.amount).await?
                } else {
                    charge(tx, &call, party, a.amount).await?
                };
                let transaction = split.transaction.ok_or(BillingError::Unbalanced)?;
                let signed = if a.credit { -minor } else { minor };
                let [service_type, resource_type, spec, region] = what.product;
                let row = fee::Model {
                    id: fee_id(),
                    cycle: billed_in,
                    customer_id: a.customer.to_string(),
                    partner_id: partner.map(|p| p.to_string()),
                    resource_id: what.resource_id,
                    service_type,
                    resource_type,
                    spec,
                    region,
                    charge_mode: what.charge_mode.as_str().to_owned(),
                    bill_type: BillType::Adjustment.as_str().to_owned(),
                    list_minor: signed,
                    discount_minor: 0,
                    amount_minor: signed,
                    currency: code.to_owned(),
                    source_id: transaction.clone(),
                    transaction_id: Some(transaction),
                    usage_start: Some(a.cycle.start),
                    usage_end: Some(a.cycle.end),
                    occurred_at: call.now,
                    adjusts_cycle: Some(a.cycle.name.clone()),
                    reason: Some(a.reason.clone()),
                };
                fees::insert(tx, vec![row.clone().into_active_model().reset_all()]).await?;
                let record = super::read::fee_to_proto(&row)?;
                let change = Change::of(partner, &row.id)
                    .after(json!({
                        "customer_id": row.customer_id,
                        "adjusts_cycle": a.cycle.name,
                        "cycle": row.cycle,
                        "amount": Money::from_minor(currency, signed).to_string(),
                        "transaction_id": row.transaction_id,
                    }))
                    .reason(a.reason)
                    .announce("bill.adjusted");
                Ok(Outcome::new(
                    pb::AdjustBillResponse {
                        fee_record: Some(record),
                    },
                    change,
                ))
            })
        })
        .await
    }
}
