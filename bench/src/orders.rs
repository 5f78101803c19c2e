//! The order phase: `PayOrder` of orders with two lines — a VM a coupon
//! pays and a disk the customer's cash pays — against a raw SQL loop
//! making the same payment's own writes by hand (the order's moves, the two
//! holds, payment records, resources, the capture's journal transaction
//! and entries, the coupon's use, the fee records) on the same database in
//! the same run.
//! Neither side counts creating the orders: they are made beforehand.
//! The kernel's own writes of a call (idempotency, audit, outbox) are the
//! API's alone, as in the money phases.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use partner_api::billing::v1 as billing;
use partner_api::billing::v1::coupon_service_client::CouponServiceClient;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::ledger_service_client::LedgerServiceClient;
use partner_api::billing::v1::order_service_client::OrderServiceClient;
use partner_api::pricing::v1 as pr;
use partner_kernel::db::Db;
use partner_kernel::ids::{
    CouponRecordId, LedgerEntryId, LedgerHoldId, LedgerTransactionId, ResourceId,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tonic::metadata::{Ascii, MetadataValue};

use crate::BoxError;
use crate::load::{self, Bound, Call};
use crate::money::{Setup, authorised, funded_partner, params, raw_loop};

/// The target: the API's payments per second ÷ the raw loop's.
const RATIO_TARGET: f64 = 0.5;
/// Partners (each with one customer and its coupon) whose orders are paid.
const BUYERS: usize = 8;
/// Orders made for each side of each round.
const ORDERS_PER_SIDE: usize = 2_000;

/// One order waiting for payment, and what pays it.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub bearer: MetadataValue<Ascii>,
    pub order_id: String,
    pub coupon_id: String,
    customer_id: String,
    partner_id: String,
}

/// A buyer: its partner's master, the customer and its coupon.
struct Buyer {
    bearer: MetadataValue<Ascii>,
    partner_id: String,
    customer_id: String,
    coupon_id: String,
}

fn cny(units: i64) -> partner_api::r#type::v1::Money {
    partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units,
        nanos: 0,
    }
}

/// A VM for a month (the coupon pays it) and a 20 GB disk for a month (cash).
fn lines() -> Vec<pr::PeriodProductLine> {
    vec![
        pr::PeriodProductLine {
            line_id: "vm".into(),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            quantity: 1,
            main_line_id: String::new(),
            ..Default::default()
        },
        pr::PeriodProductLine {
            line_id: "disk".into(),
            service_type: "block_storage".into(),
            resource_type: "volume".into(),
            spec: "ssd".into(),
            region: "cn-north-1".into(),
            size: 20,
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            quantity: 1,
            main_line_id: String::new(),
            ..Default::default()
        },
    ]
}

async fn buyer(s: &Setup<'_>, n: usize) -> Result<Buyer, BoxError> {
    let funded = funded_partner(s, 100 + n, 1).await?;
    let channel = s.channels[0].clone();
    let customer_id = funded.customers[0].clone();
    FundsServiceClient::new(channel.clone())
        .transfer_to_customer(authorised(
            billing::TransferToCustomerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                customer_id: customer_id.clone(),
                amount: Some(cny(50_000_000)),
                ..Default::default()
            },
            &funded.bearer,
        ))
        .await?;
    let mut coupons = CouponServiceClient::new(channel);
    let quota = coupons
        .grant_coupon_quota(authorised(
            billing::GrantCouponQuotaRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                partner_id: funded.partner_id.clone(),
                r#type: billing::CouponType::Voucher as i32,
                value: Some(cny(50_000_000)),
                valid_until: Some(partner_kernel::clock::to_proto_timestamp(
                    chrono::Utc::now() + chrono::Duration::days(30),
                )),
                ..Default::default()
            },
            s.admin,
        ))
        .await?
        .into_inner()
        .quota
        .ok_or("no quota")?;
    let coupon_id = coupons
        .issue_coupons(authorised(
            billing::IssueCouponsRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                quota_id: quota.id,
                customer_ids: vec![customer_id.clone()],
                face_value: Some(cny(50_000_000)),
                service_types: vec!["compute".into()],
                ..Default::default()
            },
            &funded.bearer,
        ))
        .await?
        .into_inner()
        .results
        .into_iter()
        .next()
        .and_then(|r| r.coupon)
        .ok_or("no coupon")?
        .id;
    Ok(Buyer {
        bearer: funded.bearer,
        partner_id: funded.partner_id,
        customer_id,
        coupon_id,
    })
}

/// `n` new orders of the buyers in turn, made 16 at a time.
async fn orders(s: &Setup<'_>, buyers: &[Buyer], n: usize) -> Result<Vec<Waiting>, BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..16 {
        let channel = s.channels[w % s.channels.len()].clone();
        let next = next.clone();
        let buyers: Vec<(MetadataValue<Ascii>, String, String, String)> = buyers
            .iter()
            .map(|b| {
                (
                    b.bearer.clone(),
                    b.customer_id.clone(),
                    b.coupon_id.clone(),
                    b.partner_id.clone(),
                )
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            let mut client = OrderServiceClient::new(channel);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(made);
                }
                let (bearer, customer, coupon, partner) = &buyers[i % buyers.len()];
                let order = client
                    .create_order(authorised(
                        billing::CreateOrderRequest {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            customer_id: customer.clone(),
                            lines: lines(),
                            ..Default::default()
                        },
                        bearer,
                    ))
                    .await
                    .map_err(|e| format!("CreateOrder: {e}"))?
                    .into_inner()
                    .order
                    .ok_or("no order")?;
                made.push(Waiting {
                    bearer: bearer.clone(),
                    order_id: order.id,
                    coupon_id: coupon.clone(),
                    customer_id: customer.clone(),
                    partner_id: partner.clone(),
                });
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

fn lock(backend: DbBackend) -> &'static str {
    if backend == DbBackend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    }
}

async fn exec(
    tx: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
    expect: Option<u64>,
) -> Result<(), BoxError> {
    let backend = tx.get_database_backend();
    let done = tx
        .execute_raw(Statement::from_sql_and_values(backend, sql.clone(), values))
        .await?;
    if let Some(n) = expect
        && done.rows_affected() != n
    {
        return Err(format!("raw payment: {} rows for {sql}", done.rows_affected()).into());
    }
    Ok(())
}

/// One payment by hand: the order to PROCESSING, the buyer and the
/// coupon locked, the accounts locked in id order, a hold on the coupon
/// for the VM line and one on the cash for the disk line with their
/// payment records, the two resources, the lines' amounts and periods,
/// the holds captured into revenue as one journal transaction with its
/// three entries, the coupon's use recorded, a fee record per resource,
/// the order COMPLETED; one transaction.
async fn raw_pay(db: &Db, w: &Waiting) -> Result<(), BoxError> {
    let tx = db.begin_write().await?;
    let backend = tx.get_database_backend();
    let p = |from, n| params(backend, from, n);
    let now = chrono::Utc::now();
    exec(
        &*tx,
        format!(
            "SELECT id FROM customers WHERE id = {}{}",
            p(1, 1),
            lock(backend)
        ),
        vec![w.customer_id.clone().into()],
        None,
    )
    .await?;
    exec(
        &*tx,
        format!(
            "UPDATE orders SET state = 'PROCESSING', paid_at = {}, updated_at = {} \
             WHERE id = {} AND state = 'PENDING_PAYMENT'",
            p(1, 1),
            p(2, 1),
            p(3, 1)
        ),
        vec![now.into(), now.into(), w.order_id.clone().into()],
        Some(1),
    )
    .await?;
    let lines = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT line_no, list_amount, final_amount FROM order_lines WHERE order_id = {} \
                 ORDER BY line_no",
                p(1, 1)
            ),
            [w.order_id.clone().into()],
        ))
        .await?;
    let mut due = Vec::new();
    let mut listed = Vec::new();
    for l in &lines {
        due.push(l.try_get::<i64>("", "final_amount")?);
        listed.push(l.try_get::<i64>("", "list_amount")?);
    }
    let [vm, disk] = due.as_slice() else {
        return Err("raw payment: not two lines".into());
    };
    exec(
        &*tx,
        format!(
            "SELECT id FROM coupons WHERE id = {}{}",
            p(1, 1),
            lock(backend)
        ),
        vec![w.coupon_id.clone().into()],
        None,
    )
    .await?;
    let accounts = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT id, owner_id, kind, balance, pending, version FROM ledger_accounts \
                 WHERE currency = 'CNY' AND ((owner_id = {} AND kind = 'COUPON_LIABILITY') \
                 OR (owner_id = {} AND kind IN ('CUSTOMER_CASH', 'CUSTOMER_CREDIT')) \
                 OR (owner_id = 'platform' AND kind = 'REVENUE')) ORDER BY id{}",
                p(1, 1),
                p(2, 1),
                lock(backend)
            ),
            [w.coupon_id.clone().into(), w.customer_id.clone().into()],
        ))
        .await?;
    let find = |kind: &str| -> Result<(String, i64, i64, i64), BoxError> {
        for a in &accounts {
            if a.try_get::<String>("", "kind")? == kind {
                return Ok((
                    a.try_get("", "id")?,
                    a.try_get("", "balance")?,
                    a.try_get("", "pending")?,
                    a.try_get("", "version")?,
                ));
            }
        }
        Err(format!("raw payment: no {kind} account").into())
    };
    let coupon = find("COUPON_LIABILITY")?;
    let cash = find("CUSTOMER_CASH")?;
    let revenue = find("REVENUE")?;
    if coupon.1 - coupon.2 < *vm || cash.1 - cash.2 < *disk {
        return Err("raw payment: out of money".into());
    }
    let holds = [
        (LedgerHoldId::generate().to_string(), &coupon, *vm, "COUPON"),
        (LedgerHoldId::generate().to_string(), &cash, *disk, "CASH"),
    ];
    for (seq, (hold, account, amount, source)) in holds.iter().enumerate() {
        exec(
            &*tx,
            format!(
                "INSERT INTO ledger_holds (id, account_id, amount, state, captured, \
                 capture_transaction_id, expires_at, created_at, resolved_at) VALUES ({})",
                p(1, 9)
            ),
            vec![
                hold.clone().into(),
                account.0.clone().into(),
                (*amount).into(),
                "HELD".into(),
                0i64.into(),
                Value::String(None),
                (now + chrono::Duration::days(7)).into(),
                now.into(),
                Value::ChronoDateTimeUtc(None),
            ],
            Some(1),
        )
        .await?;
        exec(
            &*tx,
            format!(
                "UPDATE ledger_accounts SET pending = pending + {}, updated_at = {} WHERE id = {}",
                p(1, 1),
                p(2, 1),
                p(3, 1)
            ),
            vec![(*amount).into(), now.into(), account.0.clone().into()],
            Some(1),
        )
        .await?;
        exec(
            &*tx,
            format!(
                "INSERT INTO order_payments (order_id, seq, source, hold_id, account_owner, \
                 account_kind, amount, currency, refunded) VALUES ({})",
                p(1, 9)
            ),
            vec![
                w.order_id.clone().into(),
                i32::try_from(seq).unwrap_or(0).into(),
                (*source).into(),
                hold.clone().into(),
                if *source == "COUPON" {
                    w.coupon_id.clone()
                } else {
                    w.customer_id.clone()
                }
                .into(),
                if *source == "COUPON" {
                    "COUPON_LIABILITY"
                } else {
                    "CUSTOMER_CASH"
                }
                .into(),
                (*amount).into(),
                "CNY".into(),
                0i64.into(),
            ],
            Some(1),
        )
        .await?;
    }
    let ends = now + chrono::Duration::days(30);
    let specs = [
        ("compute", "vm", "c6.large.2", 0i64),
        ("block_storage", "volume", "ssd", 20i64),
    ];
    let mut opened = Vec::new();
    for (line, (service, kind, spec, size)) in specs.iter().enumerate() {
        let resource = ResourceId::generate().to_string();
        opened.push(resource.clone());
        exec(
            &*tx,
            format!(
                "INSERT INTO resources (id, order_id, line_no, customer_id, partner_id, \
                 service_type, resource_type, spec, region, zone, size, period_unit, status, \
                 anchor_day, effective_at, expires_at, created_at, updated_at) VALUES ({})",
                p(1, 18)
            ),
            vec![
                resource.into(),
                w.order_id.clone().into(),
                i32::try_from(line).unwrap_or(0).into(),
                w.customer_id.clone().into(),
                w.partner_id.clone().into(),
                (*service).into(),
                (*kind).into(),
                (*spec).into(),
                "cn-north-1".into(),
                String::new().into(),
                (*size).into(),
                "PERIOD_UNIT_MONTH".into(),
                "IN_USE".into(),
                4i32.into(),
                now.into(),
                ends.into(),
                now.into(),
                now.into(),
            ],
            Some(1),
        )
        .await?;
        let (coupon_part, paid_part) = if line == 0 { (*vm, 0) } else { (0, *disk) };
        exec(
            &*tx,
            format!(
                "UPDATE order_lines SET coupon_amount = {}, paid_amount = {}, starts_at = {}, \
                 ends_at = {} WHERE order_id = {} AND line_no = {}",
                p(1, 1),
                p(2, 1),
                p(3, 1),
                p(4, 1),
                p(5, 1),
                p(6, 1)
            ),
            vec![
                coupon_part.into(),
                paid_part.into(),
                now.into(),
                ends.into(),
                w.order_id.clone().into(),
                i32::try_from(line).unwrap_or(0).into(),
            ],
            Some(1),
        )
        .await?;
    }
    // The capture: holds resolved, balances moved, one journal transaction.
    let transaction = LedgerTransactionId::generate().to_string();
    for (hold, _, amount, _) in &holds {
        exec(
            &*tx,
            format!(
                "UPDATE ledger_holds SET state = 'CAPTURED', captured = {}, resolved_at = {}, \
                 capture_transaction_id = {} WHERE id = {} AND state = 'HELD'",
                p(1, 1),
                p(2, 1),
                p(3, 1),
                p(4, 1)
            ),
            vec![
                (*amount).into(),
                now.into(),
                transaction.clone().into(),
                hold.clone().into(),
            ],
            Some(1),
        )
        .await?;
    }
    // A hold moves no version: each account's version counts its entries.
    let moves = [(&coupon, -*vm), (&cash, -*disk), (&revenue, *vm + *disk)];
    let mut entries: Vec<Value> = Vec::new();
    for (account, amount) in moves {
        let pending = if amount < 0 { amount } else { 0 };
        exec(
            &*tx,
            format!(
                "UPDATE ledger_accounts SET balance = balance + {}, pending = pending + {}, \
                 version = version + 1, updated_at = {} WHERE id = {}",
                p(1, 1),
                p(2, 1),
                p(3, 1),
                p(4, 1)
            ),
            vec![
                amount.into(),
                pending.into(),
                now.into(),
                account.0.clone().into(),
            ],
            Some(1),
        )
        .await?;
        entries.extend([
            LedgerEntryId::generate().to_string().into(),
            transaction.clone().into(),
            account.0.clone().into(),
            amount.into(),
            (account.1 + amount).into(),
            (account.3 + 1).into(),
            now.into(),
        ]);
    }
    exec(
        &*tx,
        format!(
            "INSERT INTO ledger_transactions (id, operation, partner_id, customer_id, actor, \
             method, request_id, reason, amount, currency, reverses, effective_at, created_at) \
             VALUES ({})",
            p(1, 13)
        ),
        vec![
            transaction.clone().into(),
            "ORDER_PAYMENT".into(),
            w.partner_id.clone().into(),
            w.customer_id.clone().into(),
            "raw-loop".into(),
            "raw-loop".into(),
            uuid::Uuid::new_v4().to_string().into(),
            String::new().into(),
            (*vm + *disk).into(),
            "CNY".into(),
            Value::String(None),
            now.into(),
            now.into(),
        ],
        Some(1),
    )
    .await?;
    exec(
        &*tx,
        format!(
            "INSERT INTO ledger_entries (id, transaction_id, account_id, amount, balance_after, \
             version_after, effective_at) VALUES ({}), ({}), ({})",
            p(1, 7),
            p(8, 7),
            p(15, 7)
        ),
        entries,
        Some(3),
    )
    .await?;
    exec(
        &*tx,
        format!(
            "INSERT INTO coupon_records (id, coupon_id, quota_id, partner_id, customer_id, \
             record_type, amount, currency, transaction_id, actor, reason, created_at) \
             SELECT {}, id, quota_id, partner_id, customer_id, 'USE', {}, 'CNY', {}, 'raw-loop', \
             '', {} FROM coupons WHERE id = {}",
            p(1, 1),
            p(2, 1),
            p(3, 1),
            p(4, 1),
            p(5, 1)
        ),
        vec![
            CouponRecordId::generate().to_string().into(),
            (*vm).into(),
            transaction.clone().into(),
            now.into(),
            w.coupon_id.clone().into(),
        ],
        Some(1),
    )
    .await?;
    // A fee record per resource (the bills), one statement.
    let cycle = (now + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    let mut fees: Vec<Value> = Vec::new();
    for (line, (service, kind, spec, _)) in specs.iter().enumerate() {
        fees.extend([
            format!("fee_{}", uuid::Uuid::now_v7().simple()).into(),
            cycle.clone().into(),
            w.customer_id.clone().into(),
            w.partner_id.clone().into(),
            opened[line].clone().into(),
            (*service).into(),
            (*kind).into(),
            (*spec).into(),
            "cn-north-1".into(),
            "PERIOD".into(),
            "PURCHASE".into(),
            listed[line].into(),
            (listed[line] - due[line]).into(),
            due[line].into(),
            "CNY".into(),
            transaction.clone().into(),
            w.order_id.clone().into(),
            now.into(),
            ends.into(),
            now.into(),
        ]);
    }
    exec(
        &*tx,
        format!(
            "INSERT INTO fee_records (id, cycle, customer_id, partner_id, resource_id, \
             service_type, resource_type, spec, region, charge_mode, bill_type, list_minor, \
             discount_minor, amount_minor, currency, transaction_id, source_id, usage_start, \
             usage_end, occurred_at) VALUES ({}), ({})",
            p(1, 20),
            p(21, 20)
        ),
        fees,
        Some(2),
    )
    .await?;
    exec(
        &*tx,
        format!(
            "UPDATE orders SET state = 'COMPLETED', coupon_total = {}, paid_total = {}, \
             completed_at = {}, updated_at = {} WHERE id = {} AND state = 'PROCESSING'",
            p(1, 1),
            p(2, 1),
            p(3, 1),
            p(4, 1),
            p(5, 1)
        ),
        vec![
            (*vm).into(),
            (*disk).into(),
            now.into(),
            now.into(),
            w.order_id.clone().into(),
        ],
        Some(1),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Pays `orders` by hand until they run out or `duration` passes;
/// payments per second.
async fn raw_payments(
    db: &Db,
    orders: Arc<Vec<Waiting>>,
    workers: usize,
    duration: Duration,
) -> Result<f64, BoxError> {
    let db = db.clone();
    raw_loop(workers, duration, move |n| {
        let (db, orders) = (db.clone(), orders.clone());
        async move {
            let Some(w) = orders.get(n) else {
                return Ok(false);
            };
            raw_pay(&db, w).await?;
            Ok(true)
        }
    })
    .await
}

/// Runs the order phase; returns its section of the report.
pub async fn measure(s: &Setup<'_>) -> Result<String, BoxError> {
    let mut buyers = Vec::with_capacity(BUYERS);
    for n in 0..BUYERS {
        buyers.push(buyer(s, n).await?);
    }
    let workers = s.channels.len() * s.in_flight;
    let db = Db::connect(s.url).await?;
    let mut rounds = Vec::new();
    for round in 0..2 {
        let api_orders = orders(s, &buyers, ORDERS_PER_SIDE).await?;
        let raw_orders = Arc::new(orders(s, &buyers, ORDERS_PER_SIDE).await?);
        let call = Call::PayOrder {
            orders: Arc::new(api_orders),
            next: Arc::default(),
        };
        let bound = Bound {
            duration: s.duration,
            max_calls_per_worker: (ORDERS_PER_SIDE / workers.max(1)) as u64,
        };
        let api_first = round % 2 == 0;
        let mut api = (0.0, 0.0, 0);
        let mut raw = 0.0;
        for phase in 0..2 {
            if (phase == 0) == api_first {
                let result = load::run(s.channels, s.in_flight, &call, bound).await?;
                api = (result.rate(), result.percentile_ms(50.0), result.ok);
                crate::progress(&format!(
                    "orders round {}: PayOrder {:.0}/s",
                    round + 1,
                    api.0
                ));
            } else {
                raw = raw_payments(&db, raw_orders.clone(), workers, s.duration).await?;
                crate::progress(&format!(
                    "orders round {}: raw SQL payments {raw:.0}/s",
                    round + 1
                ));
            }
        }
        rounds.push((api.0, raw, api.1, api.2));
    }
    db.close().await?;
    let check = LedgerServiceClient::new(s.channels[0].clone())
        .check_ledger(authorised(billing::CheckLedgerRequest {}, s.admin))
        .await?
        .into_inner();
    if !check.violations.is_empty() {
        return Err(format!(
            "the ledger is not sound after the order phase: {:?}",
            check.violations
        )
        .into());
    }
    let mut out = String::new();
    writeln!(out, "\n## Orders\n")?;
    writeln!(out, "| Measurement | Figure | Target |")?;
    writeln!(out, "|---|---|---|")?;
    for (i, (api, raw, p50, calls)) in rounds.iter().enumerate() {
        let ratio = api / raw;
        let verdict = if ratio >= RATIO_TARGET {
            "met"
        } else {
            "**missed**"
        };
        writeln!(
            out,
            "| PayOrder (a coupon and cash, 2 lines; {BUYERS} customers, {workers} in flight, {calls} payments) ÷ raw SQL loop of the payment's writes, round {} | {ratio:.3} ({api:.0} vs {raw:.0} payments/s, p50 {p50:.2} ms) | ≥ {RATIO_TARGET} — {verdict} |",
            i + 1
        )?;
    }
    writeln!(
        out,
        "| CheckLedger after the phase | {} transactions, {} entries, no violation | clean |",
        check.transactions, check.entries
    )?;
    Ok(out)
}
