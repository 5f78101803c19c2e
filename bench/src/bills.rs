//! The settlement and export phases.
//!
//! Settlement: `RESOURCES` on-demand VMs spread over `CUSTOMERS` funded
//! customers (the resource rows are written straight into the database:
//! how they came to be on demand does not matter to the settlement, which
//! reads only usage records), an hour of use of each reported through
//! `ReportUsage`, then `AdvanceClock` by an hour: the hourly settlement
//! charges every customer (one journal transaction each, a fee record per
//! resource). Timed: that call, and the server's memory.
//!
//! Export: `lines` fee records of one customer in one cycle written straight
//! into the database, then `ExportBill` read to the end; timed, with the
//! server's resident memory sampled every 50 ms while it streams — and the
//! same for a tenth of the lines, to show memory does not grow with them.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use partner_api::billing::v1 as billing;
use partner_api::billing::v1::bill_service_client::BillServiceClient;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::sandbox_service_client::SandboxServiceClient;
use partner_api::billing::v1::usage_service_client::UsageServiceClient;
use partner_billing::bills::entity as fee;
use partner_billing::orders::entity::resource;
use partner_kernel::clock::to_proto_timestamp;
use partner_kernel::db::Db;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Statement};

use crate::BoxError;
use crate::money::{Setup, authorised, funded_partner};

/// Customers the resources are spread over.
const CUSTOMERS: usize = 1_000;
/// Rows per insert statement (bind parameters are limited).
const ROWS_PER_INSERT: usize = 500;
/// Records per `ReportUsage` call.
const BATCH: usize = 1_000;

fn cny(units: i64) -> partner_api::r#type::v1::Money {
    partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units,
        nanos: 0,
    }
}

/// Writes `n` on-demand VMs, spread over `customers` of `partner`; their ids.
async fn seed_resources(
    db: &Db,
    partner: &str,
    customers: &[String],
    n: usize,
) -> Result<Vec<(String, String)>, BoxError> {
    let now = chrono::Utc::now();
    let ids: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                partner_kernel::ids::ResourceId::generate().to_string(),
                customers[i % customers.len()].clone(),
            )
        })
        .collect();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|(id, customer)| resource::ActiveModel {
            id: Set(id.clone()),
            order_id: Set("ord_bench".into()),
            line_no: Set(0),
            customer_id: Set(customer.clone()),
            partner_id: Set(Some(partner.to_owned())),
            service_type: Set("compute".into()),
            resource_type: Set("vm".into()),
            spec: Set("c6.large.2".into()),
            region: Set("cn-north-1".into()),
            zone: Set(String::new()),
            size: Set(0),
            period_unit: Set("PERIOD_UNIT_MONTH".into()),
            status: Set("IN_USE".into()),
            anchor_day: Set(1),
            effective_at: Set(now),
            expires_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            closed_at: Set(None),
            auto_renew_unit: Set(None),
            auto_renew_count: Set(0),
            auto_renew_times: Set(0),
            auto_renewed: Set(0),
            expiry_policy: Set("TO_ON_DEMAND".into()),
            charging_mode: Set("ON_DEMAND".into()),
            stage_until: Set(None),
            main_resource_id: Set(None),
            frozen_for: Set(None),
        });
        resource::Entity::insert_many(rows)
            .exec_without_returning(db.conn())
            .await?;
    }
    Ok(ids)
}

/// How many usage records are still to settle.
async fn unsettled(db: &Db) -> Result<i64, BoxError> {
    let backend = db.conn().get_database_backend();
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM usage_records WHERE settlement_id IS NULL",
        ))
        .await?
        .ok_or("no count")?;
    Ok(row.try_get("", "n")?)
}

/// Runs the settlement phase over `resources` on-demand resources.
pub async fn settlement(s: &Setup<'_>, resources: usize) -> Result<String, BoxError> {
    let funded = funded_partner(s, 700, CUSTOMERS).await?;
    let mut funds = FundsServiceClient::new(s.channels[0].clone());
    for c in &funded.customers {
        funds
            .transfer_to_customer(authorised(
                billing::TransferToCustomerRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    customer_id: c.clone(),
                    amount: Some(cny(10_000)),
                    reason: "benchmark".into(),
                    ..Default::default()
                },
                &funded.bearer,
            ))
            .await?;
    }
    let db = Db::connect(s.url).await?;
    let ids = seed_resources(&db, &funded.partner_id, &funded.customers, resources).await?;
    // An hour of each, ending now.
    let end = chrono::Utc::now();
    let mut usage = UsageServiceClient::new(s.channels[0].clone());
    let reported = Instant::now();
    for (n, chunk) in ids.chunks(BATCH).enumerate() {
        let records = chunk
            .iter()
            .enumerate()
            .map(|(i, (id, customer))| billing::UsageRecord {
                record_id: format!("settle-{n}-{i}"),
                customer_id: customer.clone(),
                resource_id: id.clone(),
                service_type: "compute".into(),
                resource_type: "vm".into(),
                spec: "c6.large.2".into(),
                region: "cn-north-1".into(),
                usage_factor: "duration".into(),
                usage_value: "1".into(),
                usage_unit: "HOUR".into(),
                start_time: Some(to_proto_timestamp(end - chrono::Duration::hours(1))),
                end_time: Some(to_proto_timestamp(end)),
                ..Default::default()
            })
            .collect();
        let answer = usage
            .report_usage(authorised(
                billing::ReportUsageRequest {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    records,
                },
                s.admin,
            ))
            .await?
            .into_inner();
        if answer.accepted as usize != chunk.len() {
            let why = answer
                .results
                .iter()
                .find(|r| r.status() != billing::UsageRecordStatus::Accepted)
                .map(|r| format!("{} {} {}", r.reason, r.field, r.description))
                .unwrap_or_default();
            return Err(format!("batch {n}: {} accepted ({why})", answer.accepted).into());
        }
    }
    let reported_in = reported.elapsed();
    let memory_before = s.server.memory()?;
    let long = tonic::transport::Endpoint::from_shared(s.server.uri())?
        .connect()
        .await?;
    let started = Instant::now();
    let advanced = SandboxServiceClient::new(long)
        .advance_clock(authorised(
            billing::AdvanceClockRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                by: Some(prost_types::Duration {
                    seconds: 3_600,
                    nanos: 0,
                }),
            },
            s.admin,
        ))
        .await?
        .into_inner();
    let call_took = started.elapsed();
    let jobs = advanced.jobs.unwrap_or_default();
    // Done is when every record is settled (by this pass or, had it
    // started first, the server's own ticker's).
    loop {
        let left = unsettled(&db).await?;
        if left == 0 {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(3_600) {
            return Err(format!("{left} usage records unsettled after an hour").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    let memory_after = s.server.memory()?;
    db.close().await?;
    let rate = resources as f64 / took.as_secs_f64().max(f64::EPSILON);
    crate::progress(&format!(
        "settlement: {resources} resources in {:.1} s",
        took.as_secs_f64()
    ));
    let mut out = String::new();
    writeln!(out, "\n## Hourly settlement\n")?;
    writeln!(
        out,
        "{resources} on-demand VMs over {CUSTOMERS} customers funded with 10,000.00 each; an \
         hour of each reported through `ReportUsage` ({:.1} s), then `AdvanceClock` by an hour \
         runs every job once: the settlement charges each customer in one write transaction \
         (records claimed, running totals, fee records per resource, one `USAGE_CHARGE` journal \
         transaction, budget), customers one after the other. One settlement pass runs at a \
         time in a process: the server's own 30-second ticker, if it comes meanwhile, waits and \
         finds the hour settled. The time is until the last record was settled.\n",
        reported_in.as_secs_f64()
    )?;
    writeln!(
        out,
        "| resources | records settled by AdvanceClock's pass | AdvanceClock call | until all settled | resources/s | server RSS before → after |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|")?;
    writeln!(
        out,
        "| {resources} | {} | {:.1} s | {:.1} s | {rate:.0} | {:.0} → {:.0} MiB |",
        jobs.usage_records_settled,
        call_took.as_secs_f64(),
        took.as_secs_f64(),
        memory_before.rss_mib(),
        memory_after.rss_mib()
    )?;
    Ok(out)
}

/// Writes `lines` fee records of `customer` of `partner` in `cycle`.
async fn seed_fees(
    db: &Db,
    (partner, customer): (&str, &str),
    cycle: &str,
    lines: usize,
) -> Result<(), BoxError> {
    let now = chrono::Utc::now();
    let mut written = 0;
    while written < lines {
        let n = (lines - written).min(ROWS_PER_INSERT);
        let rows = (written..written + n).map(|i| fee::ActiveModel {
            id: Set(format!("fee_{cycle}_{i:012}")),
            cycle: Set(cycle.to_owned()),
            customer_id: Set(customer.to_owned()),
            partner_id: Set(Some(partner.to_owned())),
            resource_id: Set(Some(format!("res_{i:032x}"))),
            service_type: Set("compute".into()),
            resource_type: Set("vm".into()),
            spec: Set("c6.large.2".into()),
            region: Set("cn-north-1".into()),
            charge_mode: Set("ON_DEMAND".into()),
            bill_type: Set("ON_DEMAND".into()),
            list_minor: Set(32),
            discount_minor: Set(0),
            amount_minor: Set(32),
            currency: Set("CNY".into()),
            transaction_id: Set(Some("ltx_bench".into())),
            source_id: Set("stl_bench".into()),
            usage_start: Set(Some(now)),
            usage_end: Set(Some(now)),
            occurred_at: Set(now),
            adjusts_cycle: Set(None),
            reason: Set(None),
        });
        fee::Entity::insert_many(rows)
            .exec_without_returning(db.conn())
            .await?;
        written += n;
    }
    Ok(())
}

/// Reads the export of `cycle` to the end, sampling the server's RSS:
/// (bytes, lines, seconds, peak RSS in MiB).
async fn export(
    s: &Setup<'_>,
    bearer: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    (customer, cycle): (&str, &str),
) -> Result<(u64, u64, f64, f64), BoxError> {
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pid = s.server.pid();
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(kib) = crate::server::memory_of(pid).map(|m| m.vm_rss) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    };
    let long = tonic::transport::Endpoint::from_shared(s.server.uri())?
        .connect()
        .await?;
    let started = Instant::now();
    let mut stream = BillServiceClient::new(long)
        .export_bill(authorised(
            billing::ExportBillRequest {
                cycle: cycle.into(),
                customer_id: customer.into(),
                ..Default::default()
            },
            bearer,
        ))
        .await?
        .into_inner();
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.chunk.len() as u64;
        lines += chunk.chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let took = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    Ok((
        bytes,
        lines,
        took,
        crate::server::kib_to_mib(peak.load(Ordering::Relaxed)),
    ))
}

/// Runs the export phase over `lines` fee records (and a tenth of them).
pub async fn exports(s: &Setup<'_>, lines: usize) -> Result<String, BoxError> {
    let funded = funded_partner(s, 800, 2).await?;
    let db = Db::connect(s.url).await?;
    let small = (lines / 10).max(1);
    let seeded = Instant::now();
    seed_fees(
        &db,
        (&funded.partner_id, &funded.customers[0]),
        "2026-10",
        small,
    )
    .await?;
    seed_fees(
        &db,
        (&funded.partner_id, &funded.customers[1]),
        "2026-11",
        lines,
    )
    .await?;
    let seeded_in = seeded.elapsed();
    db.close().await?;
    let before = s.server.memory()?;
    let mut rows = Vec::new();
    for (customer, cycle, n) in [
        (&funded.customers[0], "2026-10", small),
        (&funded.customers[1], "2026-11", lines),
    ] {
        let (bytes, got, secs, peak) = export(s, &funded.bearer, (customer, cycle)).await?;
        // The header line, then one per fee record.
        if got != n as u64 + 1 {
            return Err(format!("{got} lines exported for {n} fee records").into());
        }
        crate::progress(&format!(
            "export: {n} lines in {secs:.1} s, peak RSS {peak:.0} MiB"
        ));
        rows.push((n, bytes, secs, peak));
    }
    let mut out = String::new();
    writeln!(out, "\n## Bill export\n")?;
    writeln!(
        out,
        "Fee records of one customer in one cycle, written straight into the database ({:.1} s), \
         then `ExportBill` read to the end over its own connection; the server's resident \
         memory sampled every 50 ms while it streams. Before the exports: {:.0} MiB.\n",
        seeded_in.as_secs_f64(),
        before.rss_mib()
    )?;
    writeln!(
        out,
        "| fee records | CSV | time | lines/s | server RSS peak |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|")?;
    for (n, bytes, secs, peak) in rows {
        writeln!(
            out,
            "| {n} | {:.0} MiB | {secs:.1} s | {:.0} | {peak:.0} MiB |",
            bytes as f64 / 1_048_576.0,
            n as f64 / secs.max(f64::EPSILON)
        )?;
    }
    Ok(out)
}
