//! Adjustments: the operator corrects a customer's bill of a cycle — one
//! that closed, whose figures never change — with an ADJUSTMENT fee record
//! in the cycle open now, and the money moves in the same transaction: a
//! charge from the customer's cash, then credit, then into arrears; a
//! credit from revenue into its cash, never more than the cycle billed it.

use partner_api::billing::v1 as pb;
use partner_customers::customers::store as customer_store;
use partner_kernel::ids::{CustomerId, ResourceId};
use partner_kernel::money::Money;
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use serde_json::json;

use super::entity as fee;
use super::fees::{self, fee_id};
use super::model::{BillType, cycle_at};
use super::read::{Cycle, sum};
use crate::access::PLATFORM_BILLS_ADJUST;
use crate::error::BillingError;
use crate::ledger::{Kind, Operation, Owner, Posting, post};
use crate::orders::entity::resource;
use crate::orders::model::ChargingMode;
use crate::service::Billing;
use crate::usage::settlement::charge::charge;

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
/// spec, region and charge mode.
struct Described {
    resource_id: Option<String>,
    product: [String; 4],
    charge_mode: ChargingMode,
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
        }),
        Subject::Resource(id) => {
            let r = resource::Entity::find_by_id(id.to_string())
                .filter(resource::Column::CustomerId.eq(customer.to_string()))
                .one(tx)
                .await?
                .ok_or(BillingError::ResourceNotFound)?;
            Ok(Described {
                charge_mode: ChargingMode::parse(&r.charging_mode)?,
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
    let of_cycle = Condition::any()
        .add(
            Condition::all()
                .add(fee::Column::Cycle.eq(cycle))
                .add(fee::Column::BillType.ne(BillType::Adjustment.as_str())),
        )
        .add(fee::Column::AdjustsCycle.eq(cycle));
    let net: Option<i64> = fee::Entity::find()
        .select_only()
        .column_as(sum("amount_minor"), "net")
        .filter(fee::Column::CustomerId.eq(customer.to_string()))
        .filter(fee::Column::Currency.eq(currency))
        .filter(of_cycle)
        .into_tuple()
        .one(tx)
        .await?;
    Ok(net.unwrap_or(0))
}

impl Billing {
    /// Writes the adjustment `a` in the cycle open now, moving its money.
    pub async fn adjust_bill(
        &self,
        m: Mutation,
        a: Adjustment,
    ) -> Result<pb::AdjustBillResponse, BillingError> {
        m.principal.require(PLATFORM_BILLS_ADJUST)?;
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
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
                let currency = a.amount.currency();
                let code = currency.code();
                let minor = a.amount.minor();
                let transaction = if a.credit {
                    let net = billed_net(tx, a.customer, &a.cycle.name, code).await?;
                    if minor > net {
                        return Err(BillingError::AdjustmentAboveBilled {
                            creditable: Money::from_minor(currency, net.max(0)),
                        });
                    }
                    let mut posting = Posting::transfer(
                        Operation::BillAdjustment,
                        (Owner::Platform, Kind::Revenue),
                        (Owner::Customer(a.customer), Kind::CustomerCash),
                        a.amount,
                    )?
                    .of_customer(a.customer)
                    .because(a.reason.clone());
                    if let Some(p) = customer.partner_id {
                        posting = posting.of_partner(p);
                    }
                    post(tx, &call, &posting).await?.transaction_id.to_string()
                } else {
                    let split = charge(
                        tx,
                        &call,
                        (a.customer, customer.partner_id),
                        a.amount,
                        (Operation::BillAdjustment, a.reason.clone()),
                    )
                    .await?;
                    split.transaction.ok_or(BillingError::Unbalanced)?
                };
                let signed = if a.credit { -minor } else { minor };
                let [service_type, resource_type, spec, region] = what.product;
                let row = fee::Model {
                    id: fee_id(),
                    cycle: billed_in,
                    customer_id: a.customer.to_string(),
                    partner_id: customer.partner_id.map(|p| p.to_string()),
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
                let change = Change::of(customer.partner_id, &row.id)
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
