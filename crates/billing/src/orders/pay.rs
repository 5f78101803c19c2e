//! Paying an order, all or nothing, in one write transaction:
//!
//! 1. the buyer's row is locked (a frozen buyer pays nothing) and the order
//!    moves from PENDING_PAYMENT to PROCESSING before its deadline — once,
//!    whatever else pays it at the same time;
//! 2. the discount (for an order from lines) takes its share off each line;
//! 3. every account the payment touches is locked in id order, then money
//!    is held: at most three coupons first (each up to what it has left and
//!    what the lines it covers still cost), then the customer's cash, then
//!    its credit — short of the total, nothing is paid (`INSUFFICIENT_FUNDS`);
//! 4. the provisioner opens the lines' resources, and the holds are captured
//!    into revenue as one journal transaction: the order COMPLETES. Coupons
//!    spent to nothing are USED.

use chrono::{DateTime, Months, Utc};
use partner_api::billing::v1 as pb;
use partner_api::pricing::v1 as pricing_pb;
use partner_customers::budgets::model::{Budget, budget_month};
use partner_customers::budgets::store as budget_store;
use partner_customers::customers::model::FreezeMode;
use partner_customers::customers::store as customer_store;
use partner_kernel::error::KernelError;
use partner_kernel::ids::{
    CouponId, CustomerId, LedgerHoldId, OrderId, PartnerId, PaymentAgreementId, ResourceId,
};
use partner_kernel::money::{Currency, Money};
use partner_kernel::mutation::Mutation;
use partner_kernel::write::{self, Change, Outcome};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};

use super::entity::{line, order, payment, resource};
use super::model::{ChargingMode, ExpiryPolicy, Order, OrderState, OrderType, PricedLine};
use super::provision::Provisioner;
use super::read::{Scope, order_in};
use crate::bills::fees;
use crate::bills::model::{BillType, cycle_at};
use crate::coupons::coupon_entry;
use crate::coupons::entity::{coupon, coupon_record};
use crate::coupons::model::{Coupon, CouponRecordType, Stored};
use crate::entity::ledger_account;
use crate::error::BillingError;
use crate::ledger::holds::{Fresh, capture_fresh, hold_on};
use crate::ledger::{AccountKey, Kind, Operation, Owner, Posted, locked_accounts};
use crate::service::Billing;

/// At most this many coupons pay one order (the vendor's rule).
pub const MAX_COUPONS: usize = 3;
/// Resource rows written per statement.
const RESOURCE_CHUNK: usize = 500;
/// How long a payment's holds last if its order never completes.
const HOLD_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// A payment to make.
#[derive(Debug, Clone)]
pub struct Payment {
    pub order: OrderId,
    /// Distinct, at most three, applied in this order.
    pub coupons: Vec<CouponId>,
    pub discount: Option<String>,
    pub reseller: Option<PartnerId>,
    /// A payment-on-behalf agreement whose payer (the order's partner)
    /// pays instead of the customer.
    pub agreement: Option<PaymentAgreementId>,
}

/// Whose cash and credit pay what coupons leave.
#[derive(Debug, Clone, Copy)]
struct Payer {
    owner: Owner,
    cash: Kind,
    credit: Kind,
}

/// One source that pays, held.
struct Held {
    source: &'static str,
    owner: Owner,
    kind: Kind,
    amount: Money,
    /// Which lines it may pay (a coupon: those it covers; cash, credit: all).
    covers: Vec<bool>,
    /// Its account as locked, before the hold.
    account: ledger_account::Model,
    /// The coupon, when it is one.
    coupon: Option<Coupon>,
}

/// What a payment holds: its sources, and the revenue account (locked with
/// them) that the capture pays into.
struct Holding {
    held: Vec<(LedgerHoldId, Held)>,
    revenue: ledger_account::Model,
}

/// What each held source is charged for the lines that opened, and what
/// coupons paid of each line: the same allocation as when they were held —
/// sources in order, each line by line within what it covers, up to what
/// it holds — over the opened lines only, so a failed line frees the last
/// sources first and never leaves an earlier one unspent.
fn charges(held: &[(LedgerHoldId, Held)], due: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let mut due = due.to_vec();
    let mut by_coupons = vec![0i64; due.len()];
    let taken = held
        .iter()
        .map(|(_, h)| {
            let mut left = h.amount.minor();
            let mut take = 0i64;
            for (i, (d, covered)) in due.iter_mut().zip(&h.covers).enumerate() {
                if *covered && left > 0 {
                    let part = left.min(*d);
                    *d -= part;
                    left -= part;
                    take += part;
                    if h.source == "COUPON" {
                        by_coupons[i] += part;
                    }
                }
            }
            take
        })
        .collect();
    (taken, by_coupons)
}

fn parse_customer(o: &Order) -> Result<CustomerId, KernelError> {
    partner_kernel::ids::parse_stored(&o.header.customer_id, CustomerId::parse)
}

fn parse_partner(o: &Order) -> Result<Option<PartnerId>, KernelError> {
    o.header
        .partner_id
        .as_deref()
        .map(|p| partner_kernel::ids::parse_stored(p, PartnerId::parse))
        .transpose()
}

/// Whether a coupon pays for a line: no limit, or the line's service type
/// (and spec, for product limits) among its limits.
pub(crate) fn covers(c: &Coupon, l: &PricedLine) -> bool {
    let p = &l.product;
    (c.service_types.is_empty() || c.service_types.contains(&p.service_type))
        && (c.product_ids.is_empty() || c.product_ids.contains(&p.spec))
}

/// When `count` periods that start at `from` end: months and years keep
/// the day of the month where the month has it, else end on its last day.
/// (Renewals will start from the resource's stored anchor day, so a
/// resource bought on the 31st returns to the 31st.)
pub fn period_end(
    from: DateTime<Utc>,
    unit: pricing_pb::PeriodUnit,
    count: i32,
) -> Option<DateTime<Utc>> {
    let count = u32::try_from(count).ok()?;
    match unit {
        pricing_pb::PeriodUnit::Month => from.checked_add_months(Months::new(count)),
        pricing_pb::PeriodUnit::Year => {
            from.checked_add_months(Months::new(count.checked_mul(12)?))
        }
        pricing_pb::PeriodUnit::Day => {
            from.checked_add_signed(chrono::Duration::days(i64::from(count)))
        }
        pricing_pb::PeriodUnit::Hour => {
            from.checked_add_signed(chrono::Duration::hours(i64::from(count)))
        }
        pricing_pb::PeriodUnit::Unspecified => None,
    }
}

impl Billing {
    /// Each line's share of `discount` (one in force for the order's
    /// customer now), at the order's list prices.
    async fn discount_offs(
        &self,
        m: &Mutation,
        o: &Order,
        discount: &str,
    ) -> Result<Vec<Money>, BillingError> {
        if !o.takes_a_discount() {
            return Err(BillingError::DiscountNotApplicable);
        }
        let all = self.order_offers(&m.principal, o).await?;
        let offer = all
            .into_iter()
            .find(|offer| offer.discount_id == discount)
            .ok_or(BillingError::DiscountNotApplicable)?;
        Ok(offer.offs)
    }

    pub async fn pay_order(
        &self,
        mut m: Mutation,
        cmd: Payment,
    ) -> Result<pb::PayOrderResponse, BillingError> {
        if let Some(answer) = write::replayed(self.db(), &m).await? {
            return Ok(answer);
        }
        // A partner's user spending the partner's own money needs what
        // moving it takes.
        if cmd.agreement.is_some() && m.principal.customer_id().is_none() {
            m.principal.require_partner(crate::access::FUNDS_TRANSFER)?;
        }
        let scope = self.order_scope(&mut m, cmd.reseller, true).await?;
        let before = order_in(self.db().conn(), scope, cmd.order).await?;
        // An adjusted price is the order's discount, and the only one.
        let offs = match &cmd.discount {
            Some(d) if before.adjusted() => {
                if before.header.discount_id.as_ref() != Some(d) {
                    return Err(BillingError::PriceAdjusted);
                }
                None
            }
            Some(d) => Some((d.clone(), self.discount_offs(&m, &before, d).await?)),
            None => None,
        };
        let call = m.clone();
        let own = m.principal.partner_id();
        let provisioner = self.provisioner();
        let zone = self.billing_zone();
        write::commit(self.db(), &m, move |tx| {
            Box::pin(async move {
                let partner = lock_buyer(tx, &before, own, cmd.reseller).await?;
                start_processing(tx, scope, &before, call.now).await?;
                // What was read before is the order now: only paying moves a
                // pending order's lines, and the conditional move to
                // PROCESSING just made this call the one that pays it. It
                // is kept in step with every write below, so it is also the
                // answer (the tests compare it with a later GetOrder).
                let mut o = before;
                o.header.state = OrderState::Processing.as_str().to_owned();
                o.header.paid_at = Some(call.now);
                o.header.updated_at = call.now;
                if let Some((id, offs)) = offs {
                    discount(tx, &mut o, id, &offs).await?;
                }
                let month = budget_month(call.now, zone);
                let budget = check_budget(tx, partner, &o, month).await?;
                let by_customer = call.principal.customer_id().is_some();
                let payer = payer(tx, &o, partner, (cmd.agreement, by_customer)).await?;
                if let Some(agreement) = cmd.agreement {
                    o.header.agreement_id = Some(agreement.to_string());
                }
                let held = hold_payment(tx, &call, &o, &cmd.coupons, payer).await?;
                let charged =
                    complete(tx, &call, (provisioner.as_ref(), zone), &mut o, held).await?;
                if let (Some(partner), Some(budget)) = (partner, budget) {
                    let spent = Money::from_minor(o.currency()?, charged);
                    budget_store::consume(tx, partner, budget, spent, call.now).await?;
                }
                Ok(Outcome::new(
                    pb::PayOrderResponse {
                        order: Some(o.to_proto()?),
                    },
                    Change::of(parse_partner(&o)?, &o.header.id).after(o.audit_summary()),
                ))
            })
        })
        .await
    }
}

/// The fee records of what the order's lines that opened or acted on
/// their resources were charged (the journal transaction `transaction`).
async fn bill(
    tx: &DatabaseTransaction,
    o: &Order,
    failed: &[bool],
    (transaction, zone): (Option<String>, chrono::FixedOffset),
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let bill_type = match OrderType::parse(&o.header.order_type)? {
        OrderType::Renewal => BillType::Renewal,
        OrderType::Change => BillType::Change,
        OrderType::NewPurchase | OrderType::Unsubscribe | OrderType::ToOnDemand => {
            BillType::Purchase
        }
    };
    let billed = fees::Billed {
        cycle: cycle_at(now, zone),
        customer_id: &o.header.customer_id,
        partner_id: o.header.partner_id.as_deref(),
        bill_type,
        source_id: &o.header.id,
        transaction_id: transaction,
        now,
    };
    let mut rows = Vec::new();
    for (l, _) in o.lines.iter().zip(failed).filter(|(_, f)| !**f) {
        let resources: Vec<String> = match (&l.changes, &l.renews) {
            (Some(c), _) => vec![c.resource.clone()],
            (None, Some(r)) => vec![r.clone()],
            (None, None) => l.resources.clone(),
        };
        let amounts = (l.list, l.final_amount());
        rows.extend(fees::line_fees(&billed, l, &resources, amounts));
    }
    fees::insert(tx, rows).await
}

/// Locks the buyer's row and checks it may pay: not frozen, and still the
/// customer of the partner the order belongs to (for a partner caller, of
/// the caller or the reseller it acts for, over a link active now). A
/// customer that left its partner pays none of that partner's orders, and
/// the partner none of its. The order's partner.
async fn lock_buyer(
    tx: &DatabaseTransaction,
    o: &Order,
    caller: Option<PartnerId>,
    reseller: Option<PartnerId>,
) -> Result<Option<PartnerId>, BillingError> {
    let customer = parse_customer(o)?;
    let partner = parse_partner(o)?;
    let buyer = match caller {
        Some(own) => {
            let tenant = partner_accounts::tenant::resolve_in(tx, own, reseller).await?;
            if Some(tenant.partner_id) != partner {
                return Err(BillingError::OrderNotFound);
            }
            customer_store::customer_of_for_update(tx, tenant.partner_id, customer)
                .await?
                .ok_or(BillingError::OrderNotFound)?
        }
        None => {
            customer_store::platform_customer_for_update(tx, customer)
                .await?
                .ok_or(BillingError::OrderNotFound)?
                .0
        }
    };
    if buyer.partner_id != partner {
        return Err(BillingError::OrderNotFound);
    }
    if buyer.freeze_mode != FreezeMode::None {
        return Err(BillingError::CustomerFrozen);
    }
    Ok(partner)
}

/// Who pays what coupons leave: the customer, or the order's partner
/// through an ACTIVE agreement to pay that customer's orders (recorded on
/// the order).
async fn payer(
    tx: &DatabaseTransaction,
    o: &Order,
    partner: Option<PartnerId>,
    (agreement, by_customer): (Option<PaymentAgreementId>, bool),
) -> Result<Payer, BillingError> {
    let customer = parse_customer(o)?;
    let Some(id) = agreement else {
        return Ok(Payer {
            owner: Owner::Customer(customer),
            cash: Kind::CustomerCash,
            credit: Kind::CustomerCredit,
        });
    };
    let partner = partner.ok_or(BillingError::AgreementNotFound)?;
    let paying = crate::agreements::payer_of(tx, id, (partner, customer), by_customer).await?;
    order::Entity::update_many()
        .col_expr(
            order::Column::AgreementId,
            Expr::value(Some(id.to_string())),
        )
        .filter(order::Column::Id.eq(o.header.id.as_str()))
        .exec(tx)
        .await?;
    Ok(Payer {
        owner: Owner::Partner(paying),
        cash: Kind::PartnerCash,
        credit: Kind::PartnerCredit,
    })
}

/// Refuses an order the customer's budget no longer holds (it may have
/// been lowered since the order was made): `BUDGET_EXCEEDED`. The budget,
/// if the customer has one with the order's partner.
async fn check_budget(
    tx: &DatabaseTransaction,
    partner: Option<PartnerId>,
    o: &Order,
    month: chrono::NaiveDate,
) -> Result<Option<Budget>, BillingError> {
    let Some(partner) = partner else {
        return Ok(None);
    };
    let customer = parse_customer(o)?;
    let total = Money::from_minor(o.currency()?, o.header.final_total);
    let budget = budget_store::budget_of(tx, partner, customer, month).await?;
    if let Some(b) = &budget
        && b.amount.currency() == total.currency()
        && total.minor() > b.remaining().minor()
    {
        return Err(BillingError::BudgetExceeded {
            left: b.remaining(),
        });
    }
    Ok(budget)
}

/// PENDING_PAYMENT → PROCESSING before the deadline, once.
async fn start_processing(
    tx: &DatabaseTransaction,
    scope: Scope,
    seen: &Order,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let id = partner_kernel::ids::parse_stored(&seen.header.id, OrderId::parse)?;
    let moved = order::Entity::update_many()
        .col_expr(
            order::Column::State,
            Expr::value(OrderState::Processing.as_str()),
        )
        .col_expr(order::Column::PaidAt, Expr::value(Some(now)))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(id.to_string()))
        .filter(scope.condition())
        .filter(order::Column::State.eq(OrderState::PendingPayment.as_str()))
        .filter(order::Column::PaymentDeadline.gt(now))
        // As read: a price adjusted since is paid at the new price, after
        // a retry.
        .filter(order::Column::UpdatedAt.eq(seen.header.updated_at))
        .exec(tx)
        .await?
        .rows_affected;
    if moved == 1 {
        return Ok(());
    }
    let found = order_in(tx, scope, id).await?;
    let state = found.state()?;
    if state == OrderState::PendingPayment
        && found.header.payment_deadline > now
        && found.header.updated_at != seen.header.updated_at
    {
        return Err(BillingError::OrderChanged);
    }
    Err(BillingError::OrderNotPendingPayment {
        state: if state == OrderState::PendingPayment {
            "PAST_DEADLINE"
        } else {
            state.as_str()
        },
    })
}

/// Takes `offs` off the order's lines under the discount `id`.
async fn discount(
    tx: &DatabaseTransaction,
    o: &mut Order,
    id: String,
    offs: &[Money],
) -> Result<(), BillingError> {
    if offs.len() != o.lines.len() {
        return Err(BillingError::DiscountNotApplicable);
    }
    for (i, (l, off)) in o.lines.iter_mut().zip(offs).enumerate() {
        l.discount = *off;
        line::Entity::update_many()
            .col_expr(line::Column::DiscountAmount, Expr::value(off.minor()))
            .col_expr(
                line::Column::FinalAmount,
                Expr::value(l.final_amount().minor()),
            )
            .filter(line::Column::OrderId.eq(o.header.id.as_str()))
            .filter(line::Column::LineNo.eq(i32::try_from(i).unwrap_or(i32::MAX)))
            .exec(tx)
            .await?;
    }
    let sum = |f: fn(&PricedLine) -> i64| o.lines.iter().map(f).fold(0i64, i64::saturating_add);
    o.header.discount_total = sum(|l| l.discount.minor());
    o.header.final_total = sum(|l| l.final_amount().minor());
    o.header.discount_id = Some(id);
    order::Entity::update_many()
        .col_expr(
            order::Column::DiscountTotal,
            Expr::value(o.header.discount_total),
        )
        .col_expr(order::Column::FinalTotal, Expr::value(o.header.final_total))
        .col_expr(
            order::Column::DiscountId,
            Expr::value(o.header.discount_id.clone()),
        )
        .filter(order::Column::Id.eq(o.header.id.as_str()))
        .exec(tx)
        .await?;
    Ok(())
}

/// The coupons, in the order given, each usable now by the order's customer.
async fn usable_coupons(
    tx: &DatabaseTransaction,
    o: &Order,
    ids: &[CouponId],
    now: DateTime<Utc>,
) -> Result<Vec<Coupon>, BillingError> {
    // Locked in id order (coupon rows come before ledger accounts, as in
    // every coupon write), used in the order given.
    let mut sorted = ids.to_vec();
    sorted.sort();
    let mut rows = Vec::with_capacity(ids.len());
    for id in &sorted {
        rows.push(
            coupon::Entity::find_by_id(id.to_string())
                .filter(coupon::Column::CustomerId.eq(o.header.customer_id.as_str()))
                .filter(coupon::Column::PartnerId.eq(o.header.partner_id.clone()))
                .lock_exclusive()
                .one(tx)
                .await?
                .ok_or(BillingError::CouponNotFound)?,
        );
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = rows
            .iter()
            .find(|r| r.id == id.to_string())
            .ok_or(BillingError::CouponNotFound)?;
        let c = Coupon::from_row(row)?;
        let usable = c.stored == Stored::Open
            && c.valid_from <= now
            && now < c.valid_until
            && c.face_value.currency().code() == o.header.currency;
        if !usable {
            return Err(BillingError::CouponNotUsable { coupon: c.id });
        }
        out.push(c);
    }
    Ok(out)
}

/// Holds what pays the order: coupons, then cash, then credit.
async fn hold_payment(
    tx: &DatabaseTransaction,
    m: &Mutation,
    o: &Order,
    coupon_ids: &[CouponId],
    payer: Payer,
) -> Result<Holding, BillingError> {
    let currency: Currency = o.currency()?;
    let coupons = usable_coupons(tx, o, coupon_ids, m.now).await?;
    // Every account the payment touches, locked at once in id order.
    let mut keys: Vec<AccountKey> = coupons
        .iter()
        .map(|c| AccountKey::new(Owner::Coupon(c.id), Kind::CouponLiability, currency))
        .collect();
    keys.push(AccountKey::new(payer.owner, payer.cash, currency));
    keys.push(AccountKey::new(payer.owner, payer.credit, currency));
    // Revenue too, so the capture locks nothing new out of id order.
    keys.push(AccountKey::new(Owner::Platform, Kind::Revenue, currency));
    let accounts = locked_accounts(tx, &keys, m.now).await?;
    let available = |i: usize| -> i64 {
        let a = &accounts[i];
        a.balance
            .saturating_sub(a.pending)
            .saturating_add(a.credit_limit)
            .max(0)
    };
    // What each line still costs, as coupons pay for it.
    let mut due: Vec<i64> = o.lines.iter().map(|l| l.final_amount().minor()).collect();
    let mut plan = Vec::new();
    for (i, c) in coupons.iter().enumerate() {
        let mut left = available(i);
        let mut take = 0i64;
        let covered: Vec<bool> = o.lines.iter().map(|l| covers(c, l)).collect();
        for (d, covered) in due.iter_mut().zip(&covered) {
            if left == 0 {
                break;
            }
            if *covered {
                let part = left.min(*d);
                *d -= part;
                left -= part;
                take += part;
            }
        }
        if take == 0 {
            // Nothing it pays for is left to pay.
            return Err(BillingError::CouponNotUsable { coupon: c.id });
        }
        {
            plan.push(Held {
                source: "COUPON",
                owner: Owner::Coupon(c.id),
                kind: Kind::CouponLiability,
                amount: Money::from_minor(currency, take),
                covers: covered,
                account: accounts[i].clone(),
                coupon: Some(c.clone()),
            });
        }
    }
    let mut rest = due.iter().fold(0i64, |a, d| a.saturating_add(*d));
    let cash = available(coupons.len());
    let credit = available(coupons.len() + 1);
    if rest > cash.saturating_add(credit) {
        return Err(BillingError::InsufficientFunds {
            kind: payer.cash,
            available: Money::from_minor(currency, cash.saturating_add(credit)),
        });
    }
    let n = coupons.len();
    for (source, kind, have, account) in [
        ("CASH", payer.cash, cash, &accounts[n]),
        ("CREDIT", payer.credit, credit, &accounts[n + 1]),
    ] {
        let take = rest.min(have);
        if take > 0 {
            plan.push(Held {
                source,
                owner: payer.owner,
                kind,
                amount: Money::from_minor(currency, take),
                covers: vec![true; o.lines.len()],
                account: account.clone(),
                coupon: None,
            });
            rest -= take;
        }
    }
    let mut held = Vec::with_capacity(plan.len());
    for (seq, h) in plan.into_iter().enumerate() {
        let key = AccountKey::new(h.owner, h.kind, currency);
        let id = hold_on(tx, &key, &h.account, h.amount, m.now + HOLD_LIFETIME, m.now).await?;
        payment::Entity::insert(payment::ActiveModel {
            order_id: Set(o.header.id.clone()),
            seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
            source: Set(h.source.to_owned()),
            hold_id: Set(id.to_string()),
            account_owner: Set(h.owner.to_string()),
            account_kind: Set(h.kind.as_str().to_owned()),
            amount: Set(h.amount.minor()),
            currency: Set(currency.code().to_owned()),
            refunded: Set(0),
        })
        .exec_without_returning(tx)
        .await?;
        held.push((id, h));
    }
    let revenue = accounts
        .get(n + 2)
        .cloned()
        .ok_or_else(|| KernelError::Corrupt("the revenue account was not locked".into()))?;
    Ok(Holding { held, revenue })
}

/// The period a new line's resources run for from `now`.
fn new_period(
    o: &Order,
    l: &PricedLine,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), KernelError> {
    let unit = pricing_pb::PeriodUnit::try_from(l.product.period_unit)
        .unwrap_or(pricing_pb::PeriodUnit::Unspecified);
    let end = period_end(now, unit, l.product.period_count).ok_or_else(|| {
        KernelError::Corrupt(format!("order {}: a period without an end", o.header.id))
    })?;
    Ok((now, end))
}

/// For each line, the index of the line its resources attach to.
fn main_lines(lines: &[PricedLine]) -> Vec<Option<usize>> {
    lines
        .iter()
        .map(|l| {
            let main = &l.product.main_line_id;
            (!main.is_empty())
                .then(|| lines.iter().position(|m| m.product.line_id == *main))
                .flatten()
        })
        .collect()
}

/// Opens the order's resources through `provisioner` and takes the held
/// money of the lines that opened into revenue; a line that failed to open
/// is charged nothing (its share of each hold is released) and shows why.
/// The order COMPLETES; what it charged is returned.
async fn complete(
    tx: &DatabaseTransaction,
    m: &Mutation,
    (provisioner, zone): (&dyn Provisioner, chrono::FixedOffset),
    o: &mut Order,
    holding: Holding,
) -> Result<i64, BillingError> {
    let now = m.now;
    let Holding { held, revenue } = holding;
    // An auto-renewal pays for its period or not at all.
    if let Some(key) = &o.header.auto_renew_key {
        super::auto_renew::settle(tx, key, &o.header.id, now).await?;
    }
    // Renewal lines move their resource's expiry on; the others open new
    // resources through the provisioner.
    let mut failures: Vec<Option<String>> = Vec::with_capacity(o.lines.len());
    let mut periods: Vec<Option<(DateTime<Utc>, DateTime<Utc>)>> =
        Vec::with_capacity(o.lines.len());
    for l in &o.lines {
        let outcome = match (&l.changes, &l.renews) {
            (Some(c), _) => {
                super::change::apply(tx, &o.header.customer_id, c, &l.product, now).await?
            }
            (None, Some(renews)) => {
                super::renewal::extend(tx, &o.header.customer_id, renews, &l.product, now).await?
            }
            (None, None) => match provisioner.open(&l.product) {
                Ok(()) => Ok(new_period(o, l, now)?),
                Err(why) => Err(why),
            },
        };
        match outcome {
            Ok(period) => {
                failures.push(None);
                periods.push(Some(period));
            }
            Err(why) => {
                failures.push(Some(why));
                periods.push(None);
            }
        }
    }
    // A child line whose main line failed has nothing to attach to.
    let mains = main_lines(&o.lines);
    for (i, main) in mains.iter().enumerate() {
        if let Some(m) = main
            && failures[*m].is_some()
            && failures[i].is_none()
        {
            failures[i] = Some(format!(
                "the resources of line {} it attaches to could not be opened",
                o.lines[*m].product.line_id
            ));
            periods[i] = None;
        }
    }
    let failed: Vec<bool> = failures.iter().map(Option::is_some).collect();
    // Each new line's resource ids, made first so a child line's k-th
    // resource attaches to its main line's k-th.
    let ids: Vec<Vec<String>> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if failed[i] || !l.opens_resources() {
                Vec::new()
            } else {
                (0..l.product.quantity.max(0))
                    .map(|_| ResourceId::generate().to_string())
                    .collect()
            }
        })
        .collect();
    let mut resources = Vec::new();
    for (i, l) in o.lines.iter_mut().enumerate() {
        let line_no = i32::try_from(i).unwrap_or(i32::MAX);
        if let Some(why) = &failures[i] {
            l.failure = Some(why.clone());
            line::Entity::update_many()
                .col_expr(line::Column::Failure, Expr::value(Some(why.clone())))
                .filter(line::Column::OrderId.eq(o.header.id.as_str()))
                .filter(line::Column::LineNo.eq(line_no))
                .exec(tx)
                .await?;
            continue;
        }
        if !l.opens_resources() {
            continue;
        }
        let p = &l.product;
        let unit = pricing_pb::PeriodUnit::try_from(p.period_unit)
            .unwrap_or(pricing_pb::PeriodUnit::Unspecified);
        let expires = periods[i].map_or(now, |p| p.1);
        let mut opened = Vec::new();
        for (k, id) in ids[i].iter().enumerate() {
            let id = id.clone();
            opened.push(id.clone());
            let main = mains[i].and_then(|m| ids[m].get(k)).cloned();
            resources.push(resource::ActiveModel {
                id: Set(id),
                order_id: Set(o.header.id.clone()),
                line_no: Set(line_no),
                customer_id: Set(o.header.customer_id.clone()),
                partner_id: Set(o.header.partner_id.clone()),
                service_type: Set(p.service_type.clone()),
                resource_type: Set(p.resource_type.clone()),
                spec: Set(p.spec.clone()),
                region: Set(p.region.clone()),
                zone: Set(p.zone.clone()),
                size: Set(p.size),
                period_unit: Set(unit.as_str_name().to_owned()),
                status: Set("IN_USE".to_owned()),
                anchor_day: Set(i32::try_from(chrono::Datelike::day(&now)).unwrap_or(1)),
                effective_at: Set(now),
                expires_at: Set(expires),
                created_at: Set(now),
                updated_at: Set(now),
                closed_at: Set(None),
                auto_renew_unit: Set(None),
                auto_renew_count: Set(0),
                auto_renew_times: Set(0),
                auto_renewed: Set(0),
                expiry_policy: Set(ExpiryPolicy::Grace.as_str().to_owned()),
                charging_mode: Set(ChargingMode::Period.as_str().to_owned()),
                stage_until: Set(None),
                main_resource_id: Set(main),
                frozen_for: Set(None),
            });
        }
        // As a read lists them: by id.
        opened.sort();
        l.resources = opened;
    }
    // In chunks: one statement's bind parameters are limited (SQLite
    // 32,766; PostgreSQL 65,535) and a resource row has 29 columns.
    let mut resources = resources.into_iter().peekable();
    while resources.peek().is_some() {
        let chunk: Vec<resource::ActiveModel> = resources.by_ref().take(RESOURCE_CHUNK).collect();
        resource::Entity::insert_many(chunk)
            .exec_without_returning(tx)
            .await?;
    }
    if failed.iter().all(|f| *f) {
        // Nothing opened: nothing is paid, and the order still waits.
        return Err(BillingError::NothingOpened {
            reason: failures.into_iter().flatten().next().unwrap_or_default(),
        });
    }
    let due: Vec<i64> = o
        .lines
        .iter()
        .zip(&failed)
        .map(|(l, f)| if *f { 0 } else { l.final_amount().minor() })
        .collect();
    let (charged, by_coupons) = charges(&held, &due);
    // What each opened line paid, and the period it bought.
    for (i, l) in o.lines.iter_mut().enumerate() {
        let Some(period) = periods[i] else { continue };
        let currency = l.list.currency();
        l.coupon = Money::from_minor(currency, by_coupons[i]);
        l.paid = Money::from_minor(currency, due[i].saturating_sub(by_coupons[i]));
        l.period = Some(period);
        line::Entity::update_many()
            .col_expr(line::Column::CouponAmount, Expr::value(l.coupon.minor()))
            .col_expr(line::Column::PaidAmount, Expr::value(l.paid.minor()))
            .col_expr(line::Column::StartsAt, Expr::value(Some(period.0)))
            .col_expr(line::Column::EndsAt, Expr::value(Some(period.1)))
            .filter(line::Column::OrderId.eq(o.header.id.as_str()))
            .filter(line::Column::LineNo.eq(i32::try_from(i).unwrap_or(i32::MAX)))
            .exec(tx)
            .await?;
    }
    // What each source paid, as the order's payment records keep it (they
    // were written with what it held, which is what it paid unless a line
    // failed).
    for (seq, c) in charged.iter().enumerate() {
        if held.get(seq).is_some_and(|(_, h)| h.amount.minor() == *c) {
            continue;
        }
        payment::Entity::update_many()
            .col_expr(payment::Column::Amount, Expr::value(*c))
            .filter(payment::Column::OrderId.eq(o.header.id.as_str()))
            .filter(payment::Column::Seq.eq(i32::try_from(seq).unwrap_or(i32::MAX)))
            .exec(tx)
            .await?;
    }
    let sum_of = |coupons: bool| {
        held.iter()
            .zip(&charged)
            .filter(|((_, h), _)| (h.source == "COUPON") == coupons)
            .fold(0i64, |a, (_, c)| a.saturating_add(*c))
    };
    let (coupon_total, paid_total) = (sum_of(true), sum_of(false));
    let mut transaction = None;
    if !held.is_empty() {
        let holds: Vec<Fresh> = held
            .iter()
            .zip(&charged)
            .map(|((id, h), c)| Fresh {
                id: *id,
                account: h.account.clone(),
                amount: h.amount.minor(),
                take: *c,
            })
            .collect();
        let posted = capture_fresh(
            tx,
            m,
            &holds,
            &revenue,
            Operation::OrderPayment,
            (parse_partner(o)?, Some(parse_customer(o)?)),
        )
        .await?;
        if let Some(posted) = posted {
            let id = posted.transaction_id.to_string();
            record_coupon_use(tx, m, o, &held, &charged, &id).await?;
            mark_spent_coupons(tx, &held, &posted, now).await?;
            transaction = Some(id);
        }
    }
    bill(tx, o, &failed, (transaction, zone), now).await?;
    order::Entity::update_many()
        .col_expr(
            order::Column::State,
            Expr::value(OrderState::Completed.as_str()),
        )
        .col_expr(order::Column::CouponTotal, Expr::value(coupon_total))
        .col_expr(order::Column::PaidTotal, Expr::value(paid_total))
        .col_expr(order::Column::CompletedAt, Expr::value(Some(now)))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(o.header.id.as_str()))
        .filter(order::Column::State.eq(OrderState::Processing.as_str()))
        .exec(tx)
        .await?;
    o.header.state = OrderState::Completed.as_str().to_owned();
    o.header.coupon_total = coupon_total;
    o.header.paid_total = paid_total;
    o.header.completed_at = Some(now);
    o.header.updated_at = now;
    Ok(coupon_total.saturating_add(paid_total))
}

/// A coupon record of each coupon the payment spent.
async fn record_coupon_use(
    tx: &DatabaseTransaction,
    m: &Mutation,
    o: &Order,
    held: &[(LedgerHoldId, Held)],
    charged: &[i64],
    transaction: &str,
) -> Result<(), BillingError> {
    let reason = format!("order {}", o.header.id);
    let records: Vec<_> = held
        .iter()
        .zip(charged)
        .filter(|(_, spent)| **spent > 0)
        .filter_map(|((_, h), spent)| {
            h.coupon.as_ref().map(|c| {
                coupon_entry(
                    c,
                    CouponRecordType::Use,
                    Money::from_minor(h.amount.currency(), *spent),
                    transaction,
                    m.principal.actor_id(),
                    &reason,
                    m.now,
                )
            })
        })
        .collect();
    if !records.is_empty() {
        coupon_record::Entity::insert_many(records)
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
}

/// Coupons this payment spent to nothing are USED: their accounts' balances
/// are as the capture `posted` left them.
async fn mark_spent_coupons(
    tx: &DatabaseTransaction,
    held: &[(LedgerHoldId, Held)],
    posted: &Posted,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let empty: Vec<String> = held
        .iter()
        .filter_map(|(_, h)| h.coupon.as_ref())
        .filter(|c| {
            let owner = Owner::Coupon(c.id).to_string();
            posted
                .accounts
                .iter()
                .any(|a| a.owner_id == owner && a.balance.minor() == 0)
        })
        .map(|c| c.id.to_string())
        .collect();
    if !empty.is_empty() {
        coupon::Entity::update_many()
            .col_expr(coupon::Column::State, Expr::value(Stored::Used.as_str()))
            .col_expr(coupon::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(coupon::Column::UpdatedAt, Expr::value(now))
            .filter(coupon::Column::Id.is_in(empty))
            .filter(coupon::Column::State.eq(Stored::Open.as_str()))
            .exec(tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
    }

    #[test]
    fn periods_keep_the_day_or_end_on_the_last_day_of_a_shorter_month() {
        let month = pricing_pb::PeriodUnit::Month;
        assert_eq!(period_end(at(2027, 1, 31), month, 1), Some(at(2027, 2, 28)));
        assert_eq!(period_end(at(2028, 1, 31), month, 1), Some(at(2028, 2, 29)));
        assert_eq!(period_end(at(2027, 1, 31), month, 3), Some(at(2027, 4, 30)));
        assert_eq!(period_end(at(2027, 3, 15), month, 1), Some(at(2027, 4, 15)));
        let year = pricing_pb::PeriodUnit::Year;
        assert_eq!(period_end(at(2028, 2, 29), year, 1), Some(at(2029, 2, 28)));
        assert_eq!(period_end(at(2027, 3, 15), year, 3), Some(at(2030, 3, 15)));
        assert_eq!(
            period_end(at(2027, 3, 15), pricing_pb::PeriodUnit::Day, 30),
            Some(at(2027, 4, 14))
        );
        assert_eq!(period_end(at(2027, 3, 15), month, -1), None);
        assert_eq!(
            period_end(at(2027, 3, 15), pricing_pb::PeriodUnit::Unspecified, 1),
            None
        );
    }
}
