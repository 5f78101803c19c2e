//! Ending an order that was not paid: the buyer cancels it, or its payment
//! deadline passes and the expiry job cancels it. Either way it happens
//! once: `UPDATE … WHERE state = 'PENDING_PAYMENT'` lets one win. The
//! customer's budget no longer counts it from then.

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_kernel::db::Db;
use partner_kernel::ids::{OrderId, PartnerId};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::order;
use super::model::OrderState;
use crate::error::BillingError;
use crate::service::Billing;

/// Why a leaving customer's orders are cancelled.
const LEFT: &str = "the customer left the partner";
/// Why the expiry job cancels an order.
const EXPIRED: &str = "the payment deadline passed";
/// How many due orders are read at a time.
const EXPIRY_BATCH: u64 = 500;

/// Moves the order `id` from PENDING_PAYMENT to CANCELLED; `false` when it
/// was not waiting for payment (or `extra` excludes it).
pub(crate) async fn cancel_row(
    conn: &impl ConnectionTrait,
    id: &str,
    reason: &str,
    extra: sea_orm::Condition,
    now: DateTime<Utc>,
) -> Result<bool, BillingError> {
    let done = order::Entity::update_many()
        .col_expr(
            order::Column::State,
            Expr::value(OrderState::Cancelled.as_str()),
        )
        .col_expr(order::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(order::Column::CancelReason, Expr::value(reason))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
        .filter(extra)
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

impl Billing {
    /// Cancels an order of the caller's waiting for payment.
    pub async fn cancel_order(
        &self,
        mut m: Mutation,
        id: OrderId,
        reason: String,
        reseller: Option<PartnerId>,
    ) -> Result<pb::CancelOrderResponse, BillingError> {
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let scope = self.order_scope(&mut m, reseller, true).await?;
        let call = m.clone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                // Past its deadline it is the job's to cancel, as expired.
                let open = sea_orm::Condition::all()
                    .add(scope.condition())
                    .add(order::Column::PaymentDeadline.gt(call.now));
                let cancelled = cancel_row(tx, &id.to_string(), &reason, open, call.now).await?;
                let found = super::read::order_in(tx, scope, id).await?;
                if !cancelled {
                    return Err(BillingError::OrderNotPendingPayment {
                        state: if found.state()? == OrderState::PendingPayment {
                            "PAST_DEADLINE"
                        } else {
                            found.state()?.as_str()
                        },
                    });
                }
                let partner = found
                    .header
                    .partner_id
                    .as_deref()
                    .map(|p| partner_kernel::ids::parse_stored(p, PartnerId::parse))
                    .transpose()?;
                Ok(Outcome::new(
                    pb::CancelOrderResponse {
                        order: Some(found.to_proto()?),
                    },
                    Change::of(partner, &found.header.id)
                        .after(found.audit_summary())
                        .reason(reason.clone()),
                ))
            })
        })
        .await
    }
}

/// Cancels, in the caller's transaction, the orders of `customer` with
/// `partner` still waiting for payment: the customer is leaving the partner.
pub(crate) async fn cancel_on_leaving(
    tx: &sea_orm::DatabaseTransaction,
    partner: PartnerId,
    customer: partner_kernel::ids::CustomerId,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, BillingError> {
    let waiting: Vec<String> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::CustomerId.eq(customer.to_string()))
        .filter(order::Column::PartnerId.eq(partner.to_string()))
        .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
        .order_by_asc(order::Column::Id)
        .into_tuple()
        .all(tx)
        .await?;
    // What it bought under that partner renews no more by itself: the next
    // partner's customer decides anew.
    super::entity::resource::Entity::update_many()
        .col_expr(
            super::entity::resource::Column::AutoRenewUnit,
            Expr::value(Option::<String>::None),
        )
        .col_expr(super::entity::resource::Column::UpdatedAt, Expr::value(now))
        .filter(super::entity::resource::Column::CustomerId.eq(customer.to_string()))
        .filter(super::entity::resource::Column::PartnerId.eq(partner.to_string()))
        .filter(super::entity::resource::Column::AutoRenewUnit.is_not_null())
        .exec(tx)
        .await?;
    let mut changes = Vec::new();
    for id in waiting {
        if cancel_row(tx, &id, LEFT, sea_orm::Condition::all(), now).await? {
            changes.push(
                Change::of(Some(partner), &id)
                    .after(serde_json::json!({
                        "customer_id": customer.to_string(),
                        "state": OrderState::Cancelled.as_str(),
                    }))
                    .reason(LEFT.to_owned()),
            );
        }
    }
    Ok(changes)
}

/// Cancels the orders whose payment deadline passed by `now`, each in its
/// own write transaction (once, also with several replicas); how many.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<u64, BillingError> {
    let mut expired = 0;
    loop {
        let due: Vec<String> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
            .filter(order::Column::PaymentDeadline.lte(now))
            .order_by_asc(order::Column::PaymentDeadline)
            .limit(EXPIRY_BATCH)
            .into_tuple()
            .all(db.conn())
            .await?;
        let full = due.len() as u64 == EXPIRY_BATCH;
        for id in due {
            let tx = db.begin_write().await?;
            let deadline_passed =
                sea_orm::Condition::all().add(order::Column::PaymentDeadline.lte(now));
            if cancel_row(&*tx, &id, EXPIRED, deadline_passed, now).await? {
                tx.commit().await?;
                expired += 1;
            }
        }
        // Every row read was cancelled or closed meanwhile: the next batch
        // holds none of them.
        if !full {
            return Ok(expired);
        }
    }
}
