//! The renewal phase: the auto-renew job's throughput over many due
//! resources. Monthly disks are bought and paid through the API (up to
//! 1,000 per order), their auto-renew is switched on by one SQL update
//! (setting it through `SetAutoRenew` one resource at a time would only
//! slow the setup), and the sandbox clock is moved on past the start of
//! their renewal window: `AdvanceClock` runs the jobs for every day crossed,
//! and on the day the resources fall due the renewal job makes and pays a
//! RENEWAL order for each. Renewals per second are the renewed resources
//! over the call's wall time. It moves the platform's clock (and so expires
//! every token), so it runs last.

use std::fmt::Write as _;
use std::time::Instant;

use partner_api::billing::v1 as billing;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::order_service_client::OrderServiceClient;
use partner_api::billing::v1::sandbox_service_client::SandboxServiceClient;
use partner_api::pricing::v1 as pr;
use partner_kernel::db::Db;
use sea_orm::{ConnectionTrait, Statement};

use crate::BoxError;
use crate::money::{Funded, Setup, authorised, funded_partner, params};

/// Customers the resources are spread over (each its own partner).
const CUSTOMERS: usize = 10;
/// The most resources one order opens.
const PER_ORDER: usize = 1_000;
/// Far enough for a month's resources bought now to fall due (7 days
/// before their end), not so far that they end.
const ADVANCE_DAYS: i64 = 25;

/// What the server needs for this phase: the sandbox clock, and a deadline
/// the long `AdvanceClock` call fits in.
pub const SERVER_ENV: [(&str, &str); 2] = [
    ("PARTNER_SANDBOX", "1"),
    ("PARTNER_REQUEST_TIMEOUT_SECS", "7200"),
];

fn cny(units: i64) -> partner_api::r#type::v1::Money {
    partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units,
        nanos: 0,
    }
}

/// The most resources one line buys (the catalog's rule).
const PER_LINE: usize = 100;

/// `quantity` 20 GB disks for a month, in lines of at most [`PER_LINE`].
fn disks(quantity: usize) -> Vec<pr::PeriodProductLine> {
    (0..quantity.div_ceil(PER_LINE))
        .map(|n| pr::PeriodProductLine {
            line_id: format!("disk-{n}"),
            service_type: "block_storage".into(),
            resource_type: "volume".into(),
            spec: "ssd".into(),
            region: "cn-north-1".into(),
            size: 20,
            period_unit: pr::PeriodUnit::Month as i32,
            period_count: 1,
            quantity: i32::try_from((quantity - n * PER_LINE).min(PER_LINE)).unwrap_or(1),
            ..Default::default()
        })
        .collect()
}

/// A partner whose customer has ample cash.
async fn buyer(s: &Setup<'_>, n: usize) -> Result<Funded, BoxError> {
    let funded = funded_partner(s, 300 + n, 1).await?;
    FundsServiceClient::new(s.channels[0].clone())
        .transfer_to_customer(authorised(
            billing::TransferToCustomerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                customer_id: funded.customers[0].clone(),
                amount: Some(cny(50_000_000)),
                ..Default::default()
            },
            &funded.bearer,
        ))
        .await?;
    Ok(funded)
}

/// Buys and pays `total` disks, spread over the buyers.
async fn buy(s: &Setup<'_>, buyers: &[Funded], total: usize) -> Result<(), BoxError> {
    let mut orders = OrderServiceClient::new(s.channels[0].clone());
    let mut left = total;
    let mut n = 0;
    while left > 0 {
        let b = &buyers[n % buyers.len()];
        let quantity = left.min(PER_ORDER);
        let order = orders
            .create_order(authorised(
                billing::CreateOrderRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    customer_id: b.customers[0].clone(),
                    lines: disks(quantity),
                    ..Default::default()
                },
                &b.bearer,
            ))
            .await?
            .into_inner()
            .order
            .ok_or("no order")?;
        let paid = orders
            .pay_order(authorised(
                billing::PayOrderRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    id: order.id,
                    ..Default::default()
                },
                &b.bearer,
            ))
            .await?
            .into_inner()
            .order
            .ok_or("no order")?;
        if paid.state() != billing::OrderState::Completed {
            return Err(format!("an order was left {:?}", paid.state()).into());
        }
        left -= quantity;
        n += 1;
    }
    Ok(())
}

/// Switches on monthly auto-renew, unlimited, for every resource of the
/// buyers' customers.
async fn auto_renew_all(s: &Setup<'_>, buyers: &[Funded]) -> Result<u64, BoxError> {
    let db = Db::connect(s.url).await?;
    let backend = db.conn().get_database_backend();
    let sql = format!(
        "UPDATE resources SET auto_renew_unit = 'PERIOD_UNIT_MONTH', auto_renew_count = 1, \
         auto_renew_times = 0 WHERE customer_id IN ({})",
        params(backend, 1, buyers.len())
    );
    let values: Vec<sea_orm::Value> = buyers
        .iter()
        .map(|b| b.customers[0].clone().into())
        .collect();
    let done = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    db.close().await?;
    Ok(done.rows_affected())
}

/// How many of the buyers' resources were renewed at least once.
async fn renewed(db: &Db, buyers: &[Funded]) -> Result<u64, BoxError> {
    let backend = db.conn().get_database_backend();
    let sql = format!(
        "SELECT COUNT(*) AS n FROM resources WHERE auto_renewed >= 1 AND customer_id IN ({})",
        params(backend, 1, buyers.len())
    );
    let values: Vec<sea_orm::Value> = buyers
        .iter()
        .map(|b| b.customers[0].clone().into())
        .collect();
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or("no count")?;
    let n: i64 = row.try_get("", "n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Runs the phase over `resources` due resources; its report section.
pub async fn measure(s: &Setup<'_>, resources: usize) -> Result<String, BoxError> {
    let mut buyers = Vec::with_capacity(CUSTOMERS);
    for n in 0..CUSTOMERS {
        buyers.push(buyer(s, n).await?);
    }
    let started = Instant::now();
    buy(s, &buyers, resources).await?;
    let bought_in = started.elapsed();
    let switched = auto_renew_all(s, &buyers).await?;
    if switched != resources as u64 {
        return Err(format!("auto-renew set on {switched} of {resources} resources").into());
    }
    let memory_before = s.server.memory()?;
    let started = Instant::now();
    // Its own connection: the long call outlives the shared channels'
    // per-call deadline (the server's is raised by SERVER_ENV).
    let long = tonic::transport::Endpoint::from_shared(s.server.uri())?
        .connect()
        .await?;
    let advanced = SandboxServiceClient::new(long)
        .advance_clock(authorised(
            billing::AdvanceClockRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                by: Some(prost_types::Duration {
                    seconds: ADVANCE_DAYS * 86_400,
                    nanos: 0,
                }),
            },
            s.admin,
        ))
        .await?
        .into_inner();
    let advance_took = started.elapsed();
    let jobs = advanced.jobs.unwrap_or_default();
    if jobs.renewals_failed != 0 {
        return Err(format!("{} renewals failed", jobs.renewals_failed).into());
    }
    // The server's own job ticker runs the renewal job too (every 30 s, on
    // the same clock): both passes share the due resources through their
    // leases, as two replicas would. Done is when every resource is.
    let db = Db::connect(s.url).await?;
    loop {
        let done = renewed(&db, &buyers).await?;
        if done >= resources as u64 {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(3_600) {
            return Err(format!("only {done} of {resources} renewed after an hour").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let took = started.elapsed();
    db.close().await?;
    let memory_after = s.server.memory()?;
    let rate = resources as f64 / took.as_secs_f64().max(f64::EPSILON);
    let mut out = String::new();
    writeln!(out, "\n## Renewal job\n")?;
    writeln!(
        out,
        "{resources} monthly disks of {CUSTOMERS} customers, auto-renew on; bought and paid \
         through the API in {:.1} s ({PER_ORDER} per order). `AdvanceClock` by {ADVANCE_DAYS} \
         days runs every job for each day crossed; the renewal job renews each resource on the \
         day it falls due (a RENEWAL order made and paid from the customer's balance, in its \
         own transactions); the server's own 30-second job ticker runs the renewal job too, \
         and the two passes share the due resources through their leases, as two replicas \
         would. Renewals/s count every resource over the time until the last was renewed.\n",
        bought_in.as_secs_f64()
    )?;
    writeln!(
        out,
        "| resources renewed | by AdvanceClock's pass | AdvanceClock call | until all renewed | renewals/s |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|")?;
    writeln!(
        out,
        "| {resources} | {} | {:.1} s | {:.1} s | {rate:.0} |",
        jobs.resources_renewed,
        advance_took.as_secs_f64(),
        took.as_secs_f64()
    )?;
    writeln!(
        out,
        "\nServer resident memory: {:.0} MiB before, {:.0} MiB after.",
        memory_before.rss_mib(),
        memory_after.rss_mib()
    )?;
    Ok(out)
}
