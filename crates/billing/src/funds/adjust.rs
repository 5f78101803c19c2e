//! Adjustment records: the partner's fundings of and reclaims from its
//! customers, read from the journal.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{CustomerId, PartnerId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::page::{Page, PageScope};
use partner_kernel::principal::Principal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::access::FUNDS_READ;
use crate::entity::ledger_transaction as txn;
use crate::error::BillingError;
use crate::ledger::Operation;
use crate::service::Billing;

const LIST_ADJUST_RECORDS: &str = "partner.billing.v1.FundsService/ListAdjustRecords";

/// What to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdjustFilter {
    pub customer: Option<CustomerId>,
    /// `None`: every type.
    pub operation: Option<Operation>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub reseller: Option<PartnerId>,
}

fn adjust_type(operation: &str) -> Result<pb::AdjustType, KernelError> {
    match operation {
        "FUND" => Ok(pb::AdjustType::Fund),
        "RECLAIM" => Ok(pb::AdjustType::Reclaim),
        "RECLAIM_ON_DISASSOCIATION" => Ok(pb::AdjustType::ReclaimOnDisassociation),
        other => Err(KernelError::Corrupt(format!("adjust record {other:?}"))),
    }
}

fn record(t: txn::Model) -> Result<pb::AdjustRecord, KernelError> {
    let currency = Currency::parse(&t.currency)
        .map_err(|e| KernelError::Corrupt(format!("transaction {}: {e}", t.id)))?;
    Ok(pb::AdjustRecord {
        r#type: adjust_type(&t.operation)? as i32,
        customer_id: t.customer_id.unwrap_or_default(),
        amount: Some(Money::from_minor(currency, t.amount).to_proto()),
        reason: t.reason,
        actor_id: t.actor,
        effective_time: Some(to_proto_timestamp(t.effective_at)),
        transaction_id: t.id,
    })
}

impl Billing {
    /// The partner's (or its reseller's) adjustment records, newest first.
    pub async fn adjust_records(
        &self,
        p: &Principal,
        filter: AdjustFilter,
        size: u64,
        token: &str,
    ) -> Result<Page<pb::AdjustRecord>, BillingError> {
        let tenant = self
            .accounts()
            .resolve_tenant(p, FUNDS_READ, filter.reseller)
            .await?;
        let partner = tenant.partner_id.to_string();
        let operations: Vec<&str> = match filter.operation {
            Some(o) => vec![o.as_str()],
            None => vec![
                Operation::Fund.as_str(),
                Operation::Reclaim.as_str(),
                Operation::ReclaimOnDisassociation.as_str(),
            ],
        };
        let mut query = txn::Entity::find()
            .filter(txn::Column::PartnerId.eq(partner.as_str()))
            .filter(txn::Column::Operation.is_in(operations.iter().copied()));
        let mut scope = PageScope::new(LIST_ADJUST_RECORDS, &partner)
            .filter("operations", operations.join(","));
        if let Some(c) = filter.customer {
            query = query.filter(txn::Column::CustomerId.eq(c.to_string()));
            scope = scope.filter("customer", c);
        }
        if let Some(start) = filter.start {
            query = query.filter(txn::Column::EffectiveAt.gte(start));
            scope = scope.filter("start", start.to_rfc3339());
        }
        if let Some(end) = filter.end {
            query = query.filter(txn::Column::EffectiveAt.lt(end));
            scope = scope.filter("end", end.to_rfc3339());
        }
        let page = self
            .page_by_id(query, txn::Column::Id, &scope, size, token, |t| {
                t.id.clone()
            })
            .await?;
        Ok(page.try_map(record)?)
    }
}
