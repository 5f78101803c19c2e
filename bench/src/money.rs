//! The money phases: `TransferToCustomer` against a raw SQL loop making the
//! ledger's own writes (the same statements, one transaction each) on the
//! same database in the same run; the latency at half the measured peak;
//! one hot account drained by every worker at once; and the operator's
//! reconciliation of everything the phases wrote.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use partner_api::billing::v1 as billing;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::ledger_service_client::LedgerServiceClient;
use partner_api::customers::v1 as customers;
use partner_api::customers::v1::customer_service_client::CustomerServiceClient;
use partner_kernel::db::Db;
use partner_kernel::ids::{LedgerEntryId, LedgerTransactionId};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::BoxError;
use crate::load::{self, Bound, Call, Clients};
use crate::pricing::{percentile_ms, steady};
use crate::server::Server;

/// The target: the API's transfers per second ÷ the raw loop's.
const RATIO_TARGET: f64 = 0.5;
/// Partners whose cash the phases move (each with one customer).
const PARTNERS: usize = 8;
/// Customers of the hot account's partner.
const HOT_CUSTOMERS: usize = 16;

pub struct Setup<'a> {
    pub channels: &'a [Channel],
    pub in_flight: usize,
    pub duration: Duration,
    /// The operator.
    pub admin: &'a MetadataValue<Ascii>,
    /// The server's database.
    pub url: &'a str,
    pub server: &'a Server,
}

pub(crate) fn authorised<T>(message: T, bearer: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A funded partner: its master's bearer, its id, and its customers.
pub(crate) struct Funded {
    pub(crate) bearer: MetadataValue<Ascii>,
    pub(crate) partner_id: String,
    pub(crate) customers: Vec<String>,
}

pub(crate) async fn funded_partner(
    s: &Setup<'_>,
    n: usize,
    customers: usize,
) -> Result<Funded, BoxError> {
    let channel = s.channels[0].clone();
    let mut clients = Clients::new(channel.clone());
    let master = format!("moneymaster{n}");
    let partner_id = clients.register_partner(s.admin, &master).await?;
    let token = clients.login(&master, load::MASTER_PASSWORD).await?;
    let bearer: MetadataValue<Ascii> = format!("Bearer {token}").parse()?;
    let platform = clients.sales_platform(&bearer, &partner_id).await?;
    let mut made = Vec::with_capacity(customers);
    for c in 0..customers {
        let customer = CustomerServiceClient::new(channel.clone())
            .create_customer(authorised(
                customers::CreateCustomerRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    xaccount_type: platform.clone(),
                    xaccount_id: format!("funded-{n}-{c}"),
                    email: format!("funded-{n}-{c}@customers.example"),
                    country: "CN".into(),
                    ..Default::default()
                },
                &bearer,
            ))
            .await?
            .into_inner()
            .customer
            .ok_or("no customer")?
            .customer_id;
        made.push(customer);
    }
    FundsServiceClient::new(channel)
        .top_up_partner(authorised(
            billing::TopUpPartnerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                partner_id: partner_id.clone(),
                amount: Some(partner_api::r#type::v1::Money {
                    currency_code: "CNY".into(),
                    units: 100_000_000,
                    nanos: 0,
                }),
                reason: "benchmark".into(),
            },
            s.admin,
        ))
        .await?;
    Ok(Funded {
        bearer,
        partner_id,
        customers: made,
    })
}

/// `?` or `$n`, as the backend numbers its parameters.
pub(crate) fn params(backend: DbBackend, from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| {
            if backend == DbBackend::Postgres {
                format!("${i}")
            } else {
                "?".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ledger's writes for one fen from `partner`'s cash to `customer`'s,
/// made by hand: lock both accounts in id order, move both balances over
/// their versions, append the transaction and its two entries; one
/// transaction.
async fn raw_transfer(db: &Db, partner: &str, customer: &str) -> Result<(), BoxError> {
    let tx = db.begin_write().await?;
    let backend = tx.get_database_backend();
    let p = |from, n| params(backend, from, n);
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let select = format!(
        "SELECT id, owner_id, balance, version FROM ledger_accounts \
         WHERE (owner_id = {} AND kind = {} AND currency = {}) \
         OR (owner_id = {} AND kind = {} AND currency = {}) ORDER BY id{lock}",
        p(1, 1),
        p(2, 1),
        p(3, 1),
        p(4, 1),
        p(5, 1),
        p(6, 1)
    );
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            select,
            [
                partner.into(),
                "PARTNER_CASH".into(),
                "CNY".into(),
                customer.into(),
                "CUSTOMER_CASH".into(),
                "CNY".into(),
            ],
        ))
        .await?;
    if rows.len() != 2 {
        return Err(format!(
            "raw loop: {} accounts for {partner} → {customer}",
            rows.len()
        )
        .into());
    }
    let now = chrono::Utc::now();
    let transaction = LedgerTransactionId::generate().to_string();
    let mut entries: Vec<Value> = Vec::new();
    for row in &rows {
        let id: String = row.try_get("", "id")?;
        let owner: String = row.try_get("", "owner_id")?;
        let balance: i64 = row.try_get("", "balance")?;
        let version: i64 = row.try_get("", "version")?;
        let amount: i64 = if owner == partner { -1 } else { 1 };
        if balance + amount < 0 {
            return Err("raw loop: the partner ran out of cash".into());
        }
        let update = format!(
            "UPDATE ledger_accounts SET balance = {}, version = {}, updated_at = {} \
             WHERE id = {} AND version = {}",
            p(1, 1),
            p(2, 1),
            p(3, 1),
            p(4, 1),
            p(5, 1)
        );
        let changed = tx
            .execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [
                    (balance + amount).into(),
                    (version + 1).into(),
                    now.into(),
                    id.clone().into(),
                    version.into(),
                ],
            ))
            .await?;
        if changed.rows_affected() != 1 {
            return Err("raw loop: an account moved under its lock".into());
        }
        entries.extend([
            LedgerEntryId::generate().to_string().into(),
            transaction.clone().into(),
            id.into(),
            amount.into(),
            (balance + amount).into(),
            (version + 1).into(),
            now.into(),
        ]);
    }
    let insert = format!(
        "INSERT INTO ledger_transactions (id, operation, partner_id, customer_id, actor, method, \
         request_id, reason, amount, currency, reverses, effective_at, created_at) VALUES ({})",
        p(1, 13)
    );
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [
            transaction.into(),
            "FUND".into(),
            partner.into(),
            customer.into(),
            "raw-loop".into(),
            "raw-loop".into(),
            uuid::Uuid::new_v4().to_string().into(),
            String::new().into(),
            1i64.into(),
            "CNY".into(),
            Value::String(None),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    let insert = format!(
        "INSERT INTO ledger_entries (id, transaction_id, account_id, amount, balance_after, \
         version_after, effective_at) VALUES ({}), ({})",
        p(1, 7),
        p(8, 7)
    );
    tx.execute_raw(Statement::from_sql_and_values(backend, insert, entries))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// `workers` tasks each calling `one(n)` with the next `n` (0, 1, 2, …)
/// until `duration` passes, `one` answers `false` (nothing left), or one
/// fails (the phase then fails); calls per second. The raw SQL loops of
/// the money and order phases.
pub(crate) async fn raw_loop<F, Fut>(
    workers: usize,
    duration: Duration,
    one: F,
) -> Result<f64, BoxError>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, BoxError>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (one, next, done, failed) = (one.clone(), next.clone(), done.clone(), failed.clone());
        handles.push(tokio::spawn(async move {
            while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
                match one(next.fetch_add(1, Ordering::Relaxed)).await {
                    Ok(true) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => return Ok(()),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e.to_string());
                    }
                }
            }
            Ok(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// [`raw_transfer`]s over `pairs` in turn for `duration`; transfers per
/// second.
async fn raw_transfers(
    db: &Db,
    pairs: &Arc<Vec<(String, String)>>,
    workers: usize,
    duration: Duration,
) -> Result<f64, BoxError> {
    let (db, pairs) = (db.clone(), pairs.clone());
    raw_loop(workers, duration, move |n| {
        let (db, pairs) = (db.clone(), pairs.clone());
        async move {
            let (partner, customer) = &pairs[n % pairs.len()];
            raw_transfer(&db, partner, customer).await?;
            Ok(true)
        }
    })
    .await
}

/// Runs the money phases; returns their section of the report.
pub async fn measure(s: &Setup<'_>) -> Result<String, BoxError> {
    let mut spread = Vec::with_capacity(PARTNERS);
    for n in 0..PARTNERS {
        spread.push(funded_partner(s, n, 1).await?);
    }
    let hot = funded_partner(s, PARTNERS, HOT_CUSTOMERS).await?;
    let api_pairs: Vec<(MetadataValue<Ascii>, String)> = spread
        .iter()
        .map(|f| (f.bearer.clone(), f.customers[0].clone()))
        .collect();
    let raw_pairs: Arc<Vec<(String, String)>> = Arc::new(
        spread
            .iter()
            .map(|f| (f.partner_id.clone(), f.customers[0].clone()))
            .collect(),
    );
    // Every customer's account opens with a first transfer, outside the timing.
    let warm = Bound {
        duration: Duration::from_secs(30),
        max_calls_per_worker: 1,
    };
    let transfer = Call::Transfer {
        pairs: Arc::new(api_pairs),
        next: Arc::default(),
    };
    load::run(
        s.channels,
        PARTNERS.div_ceil(s.channels.len()),
        &transfer,
        warm,
    )
    .await?;
    let bound = Bound {
        duration: s.duration,
        max_calls_per_worker: 10_000_000,
    };
    let workers = s.channels.len() * s.in_flight;
    let db = Db::connect(s.url).await?;
    let before = s.server.memory()?;
    let mut rounds = Vec::new();
    for round in 0..2 {
        let api_first = round % 2 == 0;
        let mut api = (0.0, 0.0);
        let mut raw = 0.0;
        for phase in 0..2 {
            if (phase == 0) == api_first {
                let result = load::run(s.channels, s.in_flight, &transfer, bound).await?;
                api = (result.rate(), result.percentile_ms(50.0));
                crate::progress(&format!(
                    "money round {}: TransferToCustomer {:.0}/s",
                    round + 1,
                    api.0
                ));
            } else {
                raw = raw_transfers(&db, &raw_pairs, workers, s.duration).await?;
                crate::progress(&format!(
                    "money round {}: raw SQL loop {raw:.0}/s",
                    round + 1
                ));
            }
        }
        rounds.push((api.0, raw, api.1));
    }
    db.close().await?;
    let peak = rounds.iter().map(|r| r.0).fold(0.0, f64::max);
    let half = (peak / 2.0).max(1.0) as u32;
    let latencies = steady(s.channels, &transfer, half, s.duration).await?;
    let (p50, p99) = (
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 99.0),
    );
    crate::progress(&format!(
        "money steady {half}/s: p50 {p50:.2} ms, p99 {p99:.2} ms"
    ));
    let hot_call = Call::Transfer {
        pairs: Arc::new(
            hot.customers
                .iter()
                .map(|c| (hot.bearer.clone(), c.clone()))
                .collect(),
        ),
        next: Arc::default(),
    };
    load::run(s.channels, 1, &hot_call, warm).await?;
    let hot_result = load::run(s.channels, s.in_flight, &hot_call, bound).await?;
    crate::progress(&format!("money hot account: {:.0}/s", hot_result.rate()));
    let after = s.server.memory()?;
    let check = LedgerServiceClient::new(s.channels[0].clone())
        .check_ledger(authorised(billing::CheckLedgerRequest {}, s.admin))
        .await?
        .into_inner();
    if !check.violations.is_empty() {
        return Err(format!(
            "the ledger is not sound after the money phases: {:?}",
            check.violations
        )
        .into());
    }

    let mut out = String::new();
    writeln!(out, "\n## Money\n")?;
    writeln!(out, "| Measurement | Figure | Target |")?;
    writeln!(out, "|---|---|---|")?;
    for (i, (api, raw, p50)) in rounds.iter().enumerate() {
        let ratio = api / raw;
        let verdict = if ratio >= RATIO_TARGET {
            "met"
        } else {
            "**missed**"
        };
        writeln!(
            out,
            "| TransferToCustomer ({PARTNERS} partners, {workers} in flight) ÷ raw SQL loop of the ledger's writes, round {} | {ratio:.3} ({api:.0} vs {raw:.0} transfers/s, p50 {p50:.2} ms) | ≥ {RATIO_TARGET} — {verdict} |",
            i + 1
        )?;
    }
    writeln!(
        out,
        "| Latency at half the peak ({half} transfers/s, {} calls) | p50 {p50:.2} ms, p99 {p99:.2} ms | reported |",
        latencies.len()
    )?;
    writeln!(
        out,
        "| Hot account: {workers} in flight out of one partner's cash to {HOT_CUSTOMERS} customers | {:.0} transfers/s, p50 {:.2} ms, p99 {:.2} ms | reported |",
        hot_result.rate(),
        hot_result.percentile_ms(50.0),
        hot_result.percentile_ms(99.0)
    )?;
    writeln!(
        out,
        "| CheckLedger after the phases | {} transactions, {} entries, no violation | clean |",
        check.transactions, check.entries
    )?;
    writeln!(
        out,
        "| Server RSS before / after the money phases | {:.1} / {:.1} MiB | — |",
        before.rss_mib(),
        after.rss_mib()
    )?;
    Ok(out)
}
