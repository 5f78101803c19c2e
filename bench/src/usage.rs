//! The usage phase: `ReportUsage` in batches of 1,000 records (an hour of
//! a VM each, spread over `--usage-customers`, ten by default), sent by one call per connection
//! at a time until the phase's time is up; records stored per second. Then
//! the same batches again under new request ids — a metering pipeline
//! retrying — which must store nothing: duplicates answered per second.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use partner_api::billing::v1 as billing;
use partner_api::billing::v1::usage_service_client::UsageServiceClient;
use partner_kernel::clock::to_proto_timestamp;

use crate::BoxError;
use crate::money::{Setup, authorised, funded_partner};

/// Records per call (the most one call takes).
const BATCH: usize = 1_000;
/// The target on SQLite.
const TARGET: f64 = 20_000.0;

/// The hour every record meters: fixed for the run, so the records sent
/// again are the same.
type Hour = (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

fn batch(n: usize, customers: &[String], (start, end): Hour) -> Vec<billing::UsageRecord> {
    (0..BATCH)
        .map(|i| billing::UsageRecord {
            record_id: format!("bench-{n}-{i}"),
            customer_id: customers[i % customers.len()].clone(),
            service_type: "compute".into(),
            resource_type: "vm".into(),
            spec: "c6.large.2".into(),
            region: "cn-north-1".into(),
            usage_factor: "duration".into(),
            usage_value: "1".into(),
            usage_unit: "HOUR".into(),
            start_time: Some(to_proto_timestamp(start)),
            end_time: Some(to_proto_timestamp(end)),
            ..Default::default()
        })
        .collect()
}

/// Sends batches `0..limit` (or until the phase's time is up), one call
/// in flight per connection; (records answered with `status`, seconds).
async fn send(
    s: &Setup<'_>,
    customers: &Arc<Vec<String>>,
    hour: Hour,
    limit: usize,
    status: billing::UsageRecordStatus,
) -> Result<(usize, f64), BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + s.duration;
    let mut workers = Vec::new();
    for channel in s.channels {
        let (next, customers, admin) = (next.clone(), customers.clone(), s.admin.clone());
        let mut client = UsageServiceClient::new(channel.clone());
        workers.push(tokio::spawn(async move {
            let mut counted = 0usize;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= limit || Instant::now() >= deadline {
                    return Ok::<_, BoxError>(counted);
                }
                let answer = client
                    .report_usage(authorised(
                        billing::ReportUsageRequest {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            records: batch(n, &customers, hour),
                        },
                        &admin,
                    ))
                    .await?
                    .into_inner();
                let expected = answer
                    .results
                    .iter()
                    .filter(|r| r.status() == status)
                    .count();
                if expected != BATCH {
                    return Err(format!("batch {n}: {expected} of {BATCH} {status:?}").into());
                }
                counted += expected;
            }
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await??;
    }
    Ok((total, started.elapsed().as_secs_f64()))
}

/// Runs the usage phase; returns its section of the report.
pub async fn measure(s: &Setup<'_>, customers: usize) -> Result<String, BoxError> {
    let funded = funded_partner(s, 900, customers.max(1)).await?;
    let customers = Arc::new(funded.customers);
    let end = chrono::Utc::now();
    let hour = (end - chrono::Duration::hours(1), end);
    let (stored, secs) = send(
        s,
        &customers,
        hour,
        usize::MAX,
        billing::UsageRecordStatus::Accepted,
    )
    .await?;
    let rate = stored as f64 / secs;
    crate::progress(&format!("usage: {rate:.0} records/s stored"));
    let batches = stored / BATCH;
    let (again, again_secs) = send(
        s,
        &customers,
        hour,
        batches,
        billing::UsageRecordStatus::Duplicate,
    )
    .await?;
    let dup_rate = again as f64 / again_secs;
    crate::progress(&format!("usage: {dup_rate:.0} duplicates/s answered"));
    let mut out = String::new();
    writeln!(out, "\n## Usage\n")?;
    writeln!(out, "| Measurement | Figure | Target |")?;
    writeln!(out, "|---|---|---|")?;
    writeln!(
        out,
        "| ReportUsage, batches of {BATCH} (an hour of a VM each, {} customers), {} in flight | {rate:.0} records/s ({stored} records in {secs:.1} s) | ≥ {TARGET:.0} on SQLite — {} |",
        customers.len(),
        s.channels.len(),
        match (s.url.starts_with("sqlite"), rate >= TARGET) {
            (true, true) => "met",
            (true, false) => "**missed**",
            (false, _) => "the target is SQLite's: reported",
        }
    )?;
    writeln!(
        out,
        "| The same batches again under new request ids (all DUPLICATE) | {dup_rate:.0} records/s ({again} records in {again_secs:.1} s) | reported |"
    )?;
    Ok(out)
}
