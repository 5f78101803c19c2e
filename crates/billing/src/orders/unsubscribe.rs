//! Unsubscribing resources: each whole (it closes now, every paid period
//! of it refunded by the policy in [`super::refund`]) or only its renewed
//! periods that have not started (it runs to the end of its current
//! period). The refunds return to the accounts that paid the original
//! orders — credit first, then cash; coupons are consumed — as one
//! `ORDER_REFUND` journal transaction out of revenue, and one COMPLETED
//! UNSUBSCRIBE order records them, each line naming the order line and
//! resource it refunds. A preview runs the same plan without writing.
//!
//! A period of a resource is refunded at most once: a unique key on the
//! refund lines (resource, original order, line) says so in the database,
//! and each line's refunded amount only grows `WHERE` it stays within what
//! was paid.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_customers::customers::model::FreezeMode;
use partner_customers::customers::store as customer_store;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::error::{FieldViolation, KernelError};
use partner_kernel::ids::{CustomerId, OrderId, PartnerId, ResourceId};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::Principal;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity::{line, order, payment, resource};
use super::model::{
    ChargingMode, Order, OrderState, OrderType, PricedLine, ReasonType, RefundOf, RefundRule,
    ResourceStatus,
};
use super::read::Scope;
use super::refund::{Period, Source, into_sources, refund, share};
use crate::bills::fees;
use crate::bills::model::{BillType, cycle_at};
use crate::error::BillingError;
use crate::ledger::{AccountKey, Kind, Operation, Owner, Posting, locked_accounts, post};
use crate::service::Billing;

/// What to unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The resource with its renewed periods: it closes now.
    WithRenewals,
    /// Only its renewed periods that have not started.
    RenewalsOnly,
    /// Every paid period, as `WithRenewals`; the resource runs on,
    /// charged on demand.
    ToOnDemand,
}

/// Why a resource cannot be unsubscribed.
const CLOSED: &str = "RESOURCE_CLOSED";
const NO_RENEWALS: &str = "NO_RENEWALS_TO_REFUND";
/// Bought under a partner the customer has since left: that partner's
/// money is settled, the new one's to act on nothing of it.
const FORMER_PARTNER: &str = "RESOURCE_OF_FORMER_PARTNER";
/// Bought before lines kept what they paid and the period they bought.
const UNKNOWN: &str = "REFUND_UNKNOWN";
/// Switched to on-demand already.
const ON_DEMAND: &str = "ALREADY_ON_DEMAND";
/// A change of spec or size paid for time past the renewals' start too:
/// refunding the renewals alone would keep what it paid for them.
const CHANGED: &str = "CHANGE_SPANS_RENEWALS";

/// One period of a resource to refund, with the line that sold it.
struct PeriodPlan {
    period: Period,
    refund: i64,
    rule: RefundRule,
    line: line::Model,
}

/// One resource's unsubscribe, planned.
struct Planned {
    resource: resource::Model,
    failure: Option<&'static str>,
    periods: Vec<PeriodPlan>,
    status_after: ResourceStatus,
    /// Charged on demand afterwards.
    on_demand: bool,
    expires_after: DateTime<Utc>,
}

impl Planned {
    fn failed(resource: resource::Model, why: &'static str) -> Result<Self, KernelError> {
        let status = ResourceStatus::parse(&resource.status)?;
        let on_demand = resource.charging_mode == ChargingMode::OnDemand.as_str();
        let expires = resource.expires_at;
        Ok(Self {
            resource,
            failure: Some(why),
            periods: Vec::new(),
            status_after: status,
            on_demand,
            expires_after: expires,
        })
    }

    fn refund(&self) -> i64 {
        self.periods
            .iter()
            .fold(0i64, |a, p| a.saturating_add(p.refund))
    }

    fn to_proto(&self, currency: Currency) -> pb::UnsubscribeResult {
        let money = |minor| Some(Money::from_minor(currency, minor).to_proto());
        pb::UnsubscribeResult {
            resource_id: self.resource.id.clone(),
            failure_reason: self.failure.unwrap_or_default().to_owned(),
            periods: self
                .periods
                .iter()
                .map(|p| pb::PeriodRefund {
                    order_id: p.period.order.clone(),
                    line_no: p.period.line_no,
                    start_time: Some(to_proto_timestamp(p.period.starts)),
                    end_time: Some(to_proto_timestamp(p.period.ends)),
                    list_amount: money(p.period.list),
                    discount_amount: money(p.period.discount),
                    coupon_amount: money(p.period.coupon),
                    paid_amount: money(p.period.paid),
                    refund_amount: money(p.refund),
                    rule: p.rule.to_proto() as i32,
                })
                .collect(),
            refund_amount: money(self.refund()),
            status_after: self.status_after.to_proto() as i32,
            expire_time_after: Some(to_proto_timestamp(self.expires_after)),
        }
    }
}

/// `line`'s period as the `index`-th of `count` resources it opened.
fn period_of(
    l: &line::Model,
    count: i64,
    index: i64,
    renewal: bool,
    fallback: DateTime<Utc>,
) -> Period {
    Period {
        order: l.order_id.clone(),
        line_no: l.line_no,
        starts: l.starts_at.unwrap_or(fallback),
        ends: l.ends_at.unwrap_or(fallback),
        list: share(l.list_amount, count, index),
        discount: share(l.discount_amount, count, index),
        coupon: share(l.coupon_amount, count, index),
        paid: share(l.paid_amount, count, index),
        renewal,
    }
}

/// What unsubscribing `r` at `now` refunds.
async fn plan_one(
    conn: &impl ConnectionTrait,
    r: resource::Model,
    mode: Mode,
    partner: Option<PartnerId>,
    now: DateTime<Utc>,
) -> Result<Planned, BillingError> {
    if r.status == ResourceStatus::Closed.as_str() {
        return Ok(Planned::failed(r, CLOSED)?);
    }
    if r.partner_id != partner.map(|p| p.to_string()) {
        return Ok(Planned::failed(r, FORMER_PARTNER)?);
    }
    if r.charging_mode == ChargingMode::OnDemand.as_str() {
        return Ok(Planned::failed(r, ON_DEMAND)?);
    }
    let done: Vec<(Option<String>, Option<i32>)> = line::Entity::find()
        .select_only()
        .column(line::Column::RefundsOrderId)
        .column(line::Column::RefundsLineNo)
        .filter(line::Column::RefundsResourceId.eq(r.id.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    let refunded = |l: &line::Model| done.contains(&(Some(l.order_id.clone()), Some(l.line_no)));
    let corrupt = || KernelError::Corrupt(format!("resource {} without its order line", r.id));
    let bought = line::Entity::find_by_id((r.order_id.clone(), r.line_no))
        .one(conn)
        .await?
        .ok_or_else(corrupt)?;
    if bought.starts_at.is_none() {
        return Ok(Planned::failed(r, UNKNOWN)?);
    }
    let siblings: Vec<String> = resource::Entity::find()
        .select_only()
        .column(resource::Column::Id)
        .filter(resource::Column::OrderId.eq(r.order_id.as_str()))
        .filter(resource::Column::LineNo.eq(r.line_no))
        .order_by_asc(resource::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let count = i64::try_from(siblings.len()).unwrap_or(1);
    let index = siblings
        .iter()
        .position(|s| *s == r.id)
        .ok_or_else(corrupt)?;
    let mut candidates = Vec::new();
    if !refunded(&bought) {
        let index = i64::try_from(index).unwrap_or(0);
        candidates.push((
            period_of(&bought, count, index, false, r.effective_at),
            bought,
        ));
    }
    let renewals = line::Entity::find()
        .filter(line::Column::RenewsResourceId.eq(r.id.as_str()))
        .filter(line::Column::StartsAt.is_not_null())
        .filter(line::Column::Failure.is_null())
        .order_by_asc(line::Column::StartsAt)
        .all(conn)
        .await?;
    for l in renewals.into_iter().filter(|l| !refunded(l)) {
        candidates.push((period_of(&l, 1, 0, true, r.expires_at), l));
    }
    // What changes of its spec or size paid, each for the rest of its time.
    let changes = line::Entity::find()
        .filter(line::Column::ChangesResourceId.eq(r.id.as_str()))
        .filter(line::Column::StartsAt.is_not_null())
        .filter(line::Column::Failure.is_null())
        .order_by_asc(line::Column::StartsAt)
        .all(conn)
        .await?;
    for l in changes.into_iter().filter(|l| !refunded(l)) {
        candidates.push((period_of(&l, 1, 0, false, r.expires_at), l));
    }
    let (chosen, status_after, expires_after) = match mode {
        Mode::WithRenewals => (candidates, ResourceStatus::Closed, now),
        Mode::ToOnDemand => (candidates, ResourceStatus::InUse, now),
        Mode::RenewalsOnly => {
            let renewal = |p: &Period| p.renewal && p.starts >= now;
            let Some(from) = candidates
                .iter()
                .filter(|(p, _)| renewal(p))
                .map(|(p, _)| p.starts)
                .min()
            else {
                return Ok(Planned::failed(r, NO_RENEWALS)?);
            };
            if candidates
                .iter()
                .any(|(p, l)| l.changes_resource_id.is_some() && p.ends > from)
            {
                return Ok(Planned::failed(r, CHANGED)?);
            }
            let chosen: Vec<_> = candidates.into_iter().filter(|(p, _)| renewal(p)).collect();
            (chosen, ResourceStatus::parse(&r.status)?, from)
        }
    };
    let periods = chosen
        .into_iter()
        .map(|(period, line)| {
            let (refund, rule) = refund(&period, r.effective_at, now);
            PeriodPlan {
                period,
                refund,
                rule,
                line,
            }
        })
        .collect();
    Ok(Planned {
        resource: r,
        failure: None,
        periods,
        status_after,
        on_demand: mode == Mode::ToOnDemand,
        expires_after,
    })
}

/// The plans of `rows` of a customer whose partner is now `partner`, and
/// the one currency they were paid in.
async fn plan(
    conn: &impl ConnectionTrait,
    rows: Vec<resource::Model>,
    mode: Mode,
    partner: Option<PartnerId>,
    now: DateTime<Utc>,
) -> Result<(Vec<Planned>, Currency), BillingError> {
    let mut plans = Vec::with_capacity(rows.len());
    for r in rows {
        plans.push(plan_one(conn, r, mode, partner, now).await?);
    }
    let first = plans
        .first()
        .ok_or(BillingError::ResourceNotFound)?
        .resource
        .order_id
        .clone();
    let mut orders: Vec<String> = vec![first];
    for p in &plans {
        for pp in &p.periods {
            if !orders.contains(&pp.period.order) {
                orders.push(pp.period.order.clone());
            }
        }
    }
    let currencies: Vec<String> = order::Entity::find()
        .select_only()
        .column(order::Column::Currency)
        .filter(order::Column::Id.is_in(orders))
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    let [one] = currencies.as_slice() else {
        return Err(KernelError::Invalid(vec![FieldViolation::new(
            "resource_ids",
            "resources paid in one currency",
        )])
        .into());
    };
    let currency =
        Currency::parse(one).map_err(|e| KernelError::Corrupt(format!("order currency: {e}")))?;
    Ok((plans, currency))
}

/// The customer of the resources, as `scope` reaches it (a partner: still
/// its own), locked until the transaction ends when `lock`; its partner
/// now. A frozen customer moves no money: `CUSTOMER_FROZEN`.
async fn the_customer(
    conn: &impl ConnectionTrait,
    scope: Scope,
    customer: CustomerId,
    lock: bool,
) -> Result<Option<PartnerId>, BillingError> {
    let found = match (scope, lock) {
        (Scope::Partner(p), true) => {
            customer_store::customer_of_for_update(conn, p, customer).await?
        }
        (Scope::Partner(p), false) => customer_store::customer_of(conn, p, customer).await?,
        (Scope::Customer(_), true) => customer_store::platform_customer_for_update(conn, customer)
            .await?
            .map(|(c, _)| c),
        (Scope::Customer(_), false) => customer_store::platform_customer(conn, customer).await?,
    }
    .ok_or(BillingError::ResourceNotFound)?;
    if found.freeze_mode != FreezeMode::None {
        return Err(BillingError::CustomerFrozen);
    }
    Ok(found.partner_id)
}

/// Writes what `plans` say: the resources closed or cut back, each line's
/// refunded amount, each payment's, the money back, and the UNSUBSCRIBE
/// order. Returns the order.
async fn apply(
    tx: &DatabaseTransaction,
    m: &Mutation,
    (customer, partner): (CustomerId, Option<PartnerId>),
    plans: &[Planned],
    (currency, zone): (Currency, chrono::FixedOffset),
    reason: Option<(ReasonType, String)>,
) -> Result<Order, BillingError> {
    let now = m.now;
    let mut by_order: BTreeMap<String, i64> = BTreeMap::new();
    let mut lines = Vec::new();
    for p in plans.iter().filter(|p| p.failure.is_none()) {
        cut_back(tx, p, now).await?;
        for (k, pp) in p.periods.iter().enumerate() {
            take_from_line(tx, pp).await?;
            let total = by_order.entry(pp.period.order.clone()).or_insert(0);
            *total = total.saturating_add(pp.refund);
            lines.push(refund_line(p, k, pp, currency));
        }
    }
    let transaction = pay_back(tx, m, customer, partner, &by_order, currency).await?;
    let header = order::Model {
        id: OrderId::generate().to_string(),
        partner_id: partner.map(|p| p.to_string()),
        customer_id: customer.to_string(),
        order_type: if plans.iter().any(|p| p.on_demand) {
            OrderType::ToOnDemand
        } else {
            OrderType::Unsubscribe
        }
        .as_str()
        .to_owned(),
        state: OrderState::Completed.as_str().to_owned(),
        currency: currency.code().to_owned(),
        list_total: 0,
        discount_total: 0,
        final_total: 0,
        quote_id: None,
        discount_id: None,
        catalog_version: 0,
        created_by: m.principal.actor_id(),
        created_at: now,
        payment_deadline: now,
        closed_at: None,
        cancel_reason: reason.as_ref().map(|r| r.1.clone()).unwrap_or_default(),
        coupon_total: 0,
        paid_total: 0,
        agreement_id: None,
        paid_at: None,
        completed_at: Some(now),
        updated_at: now,
        reason_type: reason.as_ref().map(|r| r.0.as_str().to_owned()),
        auto_renew_key: None,
        adjustment_reason: None,
        adjusted_by: None,
        adjusted_at: None,
    };
    let o = Order { header, lines };
    super::create::write_order(tx, &o).await?;
    refund_fees(tx, &o, transaction, zone).await?;
    Ok(o)
}

/// The fee records of what the unsubscribe order `o` refunded: one per
/// refunded period of a resource, below zero.
async fn refund_fees(
    tx: &DatabaseTransaction,
    o: &Order,
    transaction: Option<String>,
    zone: chrono::FixedOffset,
) -> Result<(), BillingError> {
    let now = o.header.created_at;
    let billed = fees::Billed {
        cycle: cycle_at(now, zone),
        customer_id: &o.header.customer_id,
        partner_id: o.header.partner_id.as_deref(),
        bill_type: BillType::Refund,
        source_id: &o.header.id,
        transaction_id: transaction,
        now,
    };
    let mut rows = Vec::new();
    for l in o.lines.iter().filter(|l| l.refunded.is_positive()) {
        let back = l
            .refunded
            .checked_neg()
            .map_err(|_| BillingError::BalanceLimit)?;
        let resource: Vec<String> = l.refunds.iter().map(|r| r.resource.clone()).collect();
        rows.extend(fees::line_fees(&billed, l, &resource, (back, back)));
    }
    fees::insert(tx, rows).await
}

/// Closes the resource, switches it to on-demand, or moves its expiry back
/// to where its refunded renewals began — only if nothing moved it
/// meanwhile.
async fn cut_back(
    tx: &DatabaseTransaction,
    p: &Planned,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let mut update = resource::Entity::update_many()
        .col_expr(resource::Column::ExpiresAt, Expr::value(p.expires_after))
        .col_expr(resource::Column::UpdatedAt, Expr::value(now))
        .filter(resource::Column::Id.eq(p.resource.id.as_str()))
        .filter(resource::Column::Status.eq(p.resource.status.as_str()))
        .filter(resource::Column::ExpiresAt.eq(p.resource.expires_at));
    if p.status_after == ResourceStatus::Closed {
        update = update
            .col_expr(
                resource::Column::Status,
                Expr::value(ResourceStatus::Closed.as_str()),
            )
            .col_expr(resource::Column::ClosedAt, Expr::value(Some(now)));
    }
    if p.on_demand {
        update = update
            .col_expr(
                resource::Column::Status,
                Expr::value(ResourceStatus::InUse.as_str()),
            )
            .col_expr(
                resource::Column::ChargingMode,
                Expr::value(ChargingMode::OnDemand.as_str()),
            )
            .col_expr(
                resource::Column::StageUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
    }
    // Auto-renew stops (set it again to renew what is left), and the
    // periods it renewed may be renewed again.
    update = update.col_expr(
        resource::Column::AutoRenewUnit,
        Expr::value(Option::<String>::None),
    );
    if update.exec(tx).await?.rows_affected != 1 {
        return Err(KernelError::Conflict.into());
    }
    super::auto_renew::forget(tx, &p.resource.id).await
}

/// Adds the refund to the line's refunded amount, within what it paid.
async fn take_from_line(tx: &DatabaseTransaction, pp: &PeriodPlan) -> Result<(), BillingError> {
    let refunded = Expr::col(line::Column::RefundedAmount).add(pp.refund);
    let done = line::Entity::update_many()
        .col_expr(line::Column::RefundedAmount, refunded.clone())
        .filter(line::Column::OrderId.eq(pp.line.order_id.as_str()))
        .filter(line::Column::LineNo.eq(pp.line.line_no))
        .filter(Expr::expr(refunded).lte(Expr::col(line::Column::PaidAmount)))
        .exec(tx)
        .await?;
    if done.rows_affected != 1 {
        return Err(KernelError::Corrupt(format!(
            "order {} line {}: a refund above what it paid",
            pp.line.order_id, pp.line.line_no
        ))
        .into());
    }
    Ok(())
}

/// The unsubscribe order's line for the `k`-th period of `p`.
fn refund_line(p: &Planned, k: usize, pp: &PeriodPlan, currency: Currency) -> PricedLine {
    let r = &p.resource;
    let zero = Money::zero(currency);
    let unit = pricing_pb::PeriodUnit::from_str_name(&pp.line.period_unit)
        .unwrap_or(pricing_pb::PeriodUnit::Unspecified);
    PricedLine {
        product: pricing_pb::PeriodProductLine {
            line_id: format!("{}/{k}", r.id),
            service_type: r.service_type.clone(),
            resource_type: r.resource_type.clone(),
            spec: r.spec.clone(),
            region: r.region.clone(),
            zone: r.zone.clone(),
            size: r.size,
            period_unit: unit as i32,
            period_count: pp.line.period_count,
            quantity: 1,
            main_line_id: String::new(),
        },
        unit_price: zero.to_proto(),
        list: zero,
        discount: zero,
        resources: Vec::new(),
        failure: None,
        renews: None,
        coupon: zero,
        paid: zero,
        refunded: Money::from_minor(currency, pp.refund),
        period: Some((pp.period.starts, pp.period.ends)),
        refunds: Some(RefundOf {
            order: pp.period.order.clone(),
            line_no: pp.period.line_no,
            resource: r.id.clone(),
            rule: pp.rule,
        }),
        changes: None,
    }
}

/// Returns each original order's refund to the accounts that paid it
/// (credit first, up to what the credit account still owes; then cash),
/// as one journal transaction out of revenue (its id; none when nothing
/// was paid back).
async fn pay_back(
    tx: &DatabaseTransaction,
    m: &Mutation,
    customer: CustomerId,
    partner: Option<PartnerId>,
    by_order: &BTreeMap<String, i64>,
    currency: Currency,
) -> Result<Option<String>, BillingError> {
    let mut into: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (order_id, amount) in by_order.iter().filter(|(_, a)| **a > 0) {
        let paid = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order_id.as_str()))
            .filter(payment::Column::Source.ne("COUPON"))
            .order_by_asc(payment::Column::Seq)
            .all(tx)
            .await?;
        let sources: Vec<Source> = paid
            .iter()
            .map(|p| Source {
                seq: p.seq,
                source: p.source.clone(),
                amount: p.amount,
                refunded: p.refunded,
            })
            .collect();
        let parts = into_sources(&sources, *amount).ok_or_else(|| {
            KernelError::Corrupt(format!("order {order_id}: a refund above what was paid"))
        })?;
        for (seq, part) in parts {
            let row = paid
                .iter()
                .find(|p| p.seq == seq)
                .ok_or_else(|| KernelError::Corrupt(format!("order {order_id} payment {seq}")))?;
            let refunded = Expr::col(payment::Column::Refunded).add(part);
            let done = payment::Entity::update_many()
                .col_expr(payment::Column::Refunded, refunded.clone())
                .filter(payment::Column::OrderId.eq(order_id.as_str()))
                .filter(payment::Column::Seq.eq(seq))
                .filter(Expr::expr(refunded).lte(Expr::col(payment::Column::Amount)))
                .exec(tx)
                .await?;
            if done.rows_affected != 1 {
                return Err(KernelError::Corrupt(format!(
                    "order {order_id} payment {seq}: a refund above what it paid"
                ))
                .into());
            }
            let total = into
                .entry((row.account_owner.clone(), row.account_kind.clone()))
                .or_insert(0);
            *total = total.saturating_add(part);
        }
    }
    if into.is_empty() {
        return Ok(None);
    }
    let ins = credit_within_debt(tx, m, into, currency).await?;
    let total = ins
        .iter()
        .fold(0i64, |a, (_, _, amount)| a.saturating_add(amount.minor()));
    let mut posting = Posting::between(
        Operation::OrderRefund,
        vec![(
            Owner::Platform,
            Kind::Revenue,
            Money::from_minor(currency, total),
        )],
        ins,
    )?;
    posting.partner = partner;
    posting.customer = Some(customer);
    Ok(Some(
        post(tx, m, &posting).await?.transaction_id.to_string(),
    ))
}

/// The cash account of the owner of a paying account, and whether the
/// paying account is a credit line.
fn cash_of(kind: Kind) -> Result<(Kind, bool), BillingError> {
    match kind {
        Kind::CustomerCash => Ok((Kind::CustomerCash, false)),
        Kind::CustomerCredit => Ok((Kind::CustomerCash, true)),
        Kind::PartnerCash => Ok((Kind::PartnerCash, false)),
        Kind::PartnerCredit => Ok((Kind::PartnerCash, true)),
        Kind::ExternalFunding
        | Kind::PartnerAllocatable
        | Kind::CustomerBonus
        | Kind::CustomerDeposit
        | Kind::CouponLiability
        | Kind::Revenue
        | Kind::Breakage
        | Kind::CouponQuota
        | Kind::Promotion
        | Kind::CustomerArrears => {
            Err(KernelError::Corrupt(format!("an order paid from a {kind:?} account")).into())
        }
    }
}

/// The accounts the refund goes into: a credit account takes at most what
/// it owes (its balance below zero), the rest goes to the same owner's
/// cash. Every account the refund may touch, revenue included, is locked
/// at once in id order first, as paying locks them.
async fn credit_within_debt(
    tx: &DatabaseTransaction,
    m: &Mutation,
    into: BTreeMap<(String, String), i64>,
    currency: Currency,
) -> Result<Vec<(Owner, Kind, Money)>, BillingError> {
    let mut parts = Vec::with_capacity(into.len());
    let mut keys = vec![AccountKey::new(Owner::Platform, Kind::Revenue, currency)];
    for ((owner, kind), amount) in into {
        let (owner, kind) = (Owner::parse(&owner)?, Kind::parse(&kind)?);
        let (cash, is_credit) = cash_of(kind)?;
        keys.push(AccountKey::new(owner, kind, currency));
        keys.push(AccountKey::new(owner, cash, currency));
        parts.push((owner, kind, cash, is_credit, amount));
    }
    let rows = locked_accounts(tx, &keys, m.now).await?;
    let mut sums: BTreeMap<(Owner, &'static str), (Kind, i64)> = BTreeMap::new();
    for (i, (owner, kind, cash, is_credit, amount)) in parts.into_iter().enumerate() {
        let to_credit = if is_credit {
            // The paying account's row: keys[1 + 2i].
            let owed = rows
                .get(1 + 2 * i)
                .map_or(0, |a| Ord::max(a.balance.saturating_neg(), 0));
            Ord::min(amount, owed)
        } else {
            0
        };
        if to_credit > 0 {
            let e = sums.entry((owner, kind.as_str())).or_insert((kind, 0));
            e.1 = e.1.saturating_add(to_credit);
        }
        let to_cash = amount - to_credit;
        if to_cash > 0 {
            let e = sums.entry((owner, cash.as_str())).or_insert((cash, 0));
            e.1 = e.1.saturating_add(to_cash);
        }
    }
    Ok(sums
        .into_iter()
        .map(|((owner, _), (kind, amount))| (owner, kind, Money::from_minor(currency, amount)))
        .collect())
}

impl Billing {
    pub async fn preview_unsubscribe(
        &self,
        p: &Principal,
        ids: &[ResourceId],
        mode: Mode,
        reseller: Option<PartnerId>,
    ) -> Result<pb::PreviewUnsubscribeResponse, BillingError> {
        let (scope, _) = self.scope_of(p, reseller, false).await?;
        let conn = self.db().conn();
        let (customer, rows) = super::renewal::of_one_customer(conn, scope, ids, false).await?;
        let partner = the_customer(conn, scope, customer, false).await?;
        let (plans, currency) = plan(conn, rows, mode, partner, self.clock().now()).await?;
        let total = plans
            .iter()
            .filter(|p| p.failure.is_none())
            .fold(0i64, |a, p| a.saturating_add(p.refund()));
        Ok(pb::PreviewUnsubscribeResponse {
            results: plans.iter().map(|p| p.to_proto(currency)).collect(),
            refund_total: Some(Money::from_minor(currency, total).to_proto()),
        })
    }

    /// Unsubscribes (or, `Mode::ToOnDemand`, switches to on-demand) the
    /// resources `ids` and refunds them.
    pub async fn unsubscribe_resources(
        &self,
        mut m: Mutation,
        ids: Vec<ResourceId>,
        mode: Mode,
        reason: Option<(ReasonType, String)>,
        reseller: Option<PartnerId>,
    ) -> Result<pb::UnsubscribeResourcesResponse, BillingError> {
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        let scope = self.order_scope(&mut m, reseller, true).await?;
        let call = m.clone();
        let zone = self.billing_zone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let (customer, _) = super::renewal::of_one_customer(tx, scope, &ids, false).await?;
                let partner = the_customer(tx, scope, customer, true).await?;
                // Read again under the lock: what another unsubscribe did
                // meanwhile is seen.
                let (_, rows) = super::renewal::of_one_customer(tx, scope, &ids, false).await?;
                let (plans, currency) = plan(tx, rows, mode, partner, call.now).await?;
                let results: Vec<pb::UnsubscribeResult> =
                    plans.iter().map(|p| p.to_proto(currency)).collect();
                let resource = plans
                    .first()
                    .map(|p| p.resource.id.clone())
                    .unwrap_or_default();
                let order = if plans.iter().any(|p| p.failure.is_none()) {
                    Some(
                        apply(
                            tx,
                            &call,
                            (customer, partner),
                            &plans,
                            (currency, zone),
                            reason,
                        )
                        .await?,
                    )
                } else {
                    None
                };
                let summary = serde_json::json!({
                    "customer_id": customer.to_string(),
                    "order_id": order.as_ref().map(|o| o.header.id.clone()),
                    "original_order_ids": order.as_ref().map(Order::originals),
                    "refund_total": plans
                        .iter()
                        .filter(|p| p.failure.is_none())
                        .fold(0i64, |a, p| a.saturating_add(p.refund())),
                    "currency": currency.code(),
                    "resources": plans
                        .iter()
                        .map(|p| serde_json::json!({
                            "id": p.resource.id,
                            "failure": p.failure,
                            "refund": p.refund(),
                            "status_after": p.status_after.as_str(),
                            "on_demand": p.on_demand,
                            "expires_after": p.expires_after,
                        }))
                        .collect::<Vec<_>>(),
                });
                let target = order.as_ref().map_or(resource, |o| o.header.id.clone());
                let change = Change::of(partner, target).after(summary);
                Ok(Outcome::new(
                    pb::UnsubscribeResourcesResponse {
                        order: order.as_ref().map(Order::to_proto).transpose()?,
                        results,
                    },
                    change,
                ))
            })
        })
        .await
    }
}
