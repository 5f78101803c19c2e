//! The pricing phases: `RatePeriodProducts` with 10 lines of the demo
//! catalog for a customer with two discounts (a vendor contract and the
//! partner's own rate) against Health/Check in the same run (alternating,
//! two rounds),
//! then the latency at a steady 1,000 requests/s, and the server's memory
//! around them.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use partner_api::pricing::v1 as pr;
use tokio::time::MissedTickBehavior;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::BoxError;
use crate::load::{self, Bound, Call, Clients};
use crate::raw::{RawCall, field_counts};
use crate::server::Server;
use prost::Message as _;
use tonic::codegen::http::uri::PathAndQuery;

/// Targets of the pricing phases.
const RATIO_TARGET: f64 = 0.6;
const P99_TARGET_MS: f64 = 5.0;
/// The steady rate of the latency phase.
const STEADY_RATE: u32 = 1000;
/// Lines of the rating request ([`ten_lines`]).
const LINES: usize = 10;

pub struct Setup<'a> {
    pub channels: &'a [Channel],
    pub in_flight: usize,
    pub duration: Duration,
    /// A partner user holding `pricing.read`.
    pub bearer: &'a MetadataValue<Ascii>,
    /// The operator, who gives the discounts.
    pub admin: &'a MetadataValue<Ascii>,
    /// The partner of `bearer`.
    pub partner_id: &'a str,
    pub server: &'a Server,
}

fn authorised<T>(message: T, bearer: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A customer of the partner with two discounts: a vendor contract of 10 %
/// on everything and the partner's own 15 % on compute. Returns its id.
async fn discounted_customer(s: &Setup<'_>) -> Result<String, BoxError> {
    use partner_api::accounts::v1 as accounts;
    use partner_api::accounts::v1::partner_service_client::PartnerServiceClient;
    use partner_api::customers::v1 as customers;
    use partner_api::customers::v1::customer_service_client::CustomerServiceClient;
    use partner_api::pricing::v1::discount_service_client::DiscountServiceClient;
    let channel = s.channels[0].clone();
    let rid = || uuid::Uuid::new_v4().to_string();
    let platform = PartnerServiceClient::new(channel.clone())
        .get_partner(authorised(
            accounts::GetPartnerRequest {
                partner_id: s.partner_id.to_owned(),
            },
            s.bearer,
        ))
        .await?
        .into_inner()
        .partner
        .and_then(|p| p.sales_platform_ids.into_iter().next())
        .ok_or("the partner has no sales platform")?;
    let customer = CustomerServiceClient::new(channel.clone())
        .create_customer(authorised(
            customers::CreateCustomerRequest {
                request_id: rid(),
                xaccount_type: platform,
                xaccount_id: "priced-1".into(),
                email: "priced-1@customers.example".into(),
                country: "CN".into(),
                ..Default::default()
            },
            s.bearer,
        ))
        .await?
        .into_inner()
        .customer
        .ok_or("no customer")?
        .customer_id;
    let mut discounts = DiscountServiceClient::new(channel);
    discounts
        .create_incentive_policy(authorised(
            pr::CreateIncentivePolicyRequest {
                request_id: rid(),
                partner_id: s.partner_id.to_owned(),
                max_rate_off: "0.2".into(),
                ..Default::default()
            },
            s.admin,
        ))
        .await?;
    discounts
        .create_discount(authorised(
            pr::CreateDiscountRequest {
                request_id: rid(),
                kind: pr::DiscountKind::VendorContract as i32,
                name: "Bench contract".into(),
                customer_id: customer.clone(),
                terms: Some(pr::create_discount_request::Terms::RateOff("0.1".into())),
                ..Default::default()
            },
            s.admin,
        ))
        .await?;
    discounts
        .set_customer_discount(authorised(
            pr::SetCustomerDiscountRequest {
                request_id: rid(),
                customer_id: customer.clone(),
                scope: Some(pr::ProductScope {
                    service_type: "compute".into(),
                    resource_type: String::new(),
                }),
                rate_off: "0.15".into(),
                ..Default::default()
            },
            s.bearer,
        ))
        .await?;
    Ok(customer)
}

/// Ten lines across the demo catalog: VMs, disks, bandwidth, an IP, a database.
fn ten_lines() -> pr::RatePeriodProductsRequest {
    let line = |id: &str,
                product: (&str, &str, &str),
                region: &str,
                size,
                unit: pr::PeriodUnit,
                count,
                quantity| {
        pr::PeriodProductLine {
            line_id: id.into(),
            service_type: product.0.into(),
            resource_type: product.1.into(),
            spec: product.2.into(),
            region: region.into(),
            zone: String::new(),
            size,
            period_unit: unit as i32,
            period_count: count,
            quantity,
            main_line_id: String::new(),
        }
    };
    use pr::PeriodUnit::{Month, Year};
    pr::RatePeriodProductsRequest {
        lines: vec![
            line(
                "1",
                ("compute", "vm", "c6.large.2"),
                "cn-north-1",
                0,
                Year,
                1,
                4,
            ),
            line(
                "2",
                ("compute", "vm", "c6.xlarge.2"),
                "cn-east-2",
                0,
                Month,
                6,
                2,
            ),
            line(
                "3",
                ("compute", "vm", "m6.2xlarge.8"),
                "ap-southeast-1",
                0,
                Year,
                3,
                1,
            ),
            line(
                "4",
                ("block_storage", "volume", "ssd"),
                "cn-north-1",
                200,
                Year,
                1,
                4,
            ),
            line(
                "5",
                ("block_storage", "volume", "sas"),
                "cn-east-2",
                500,
                Month,
                6,
                2,
            ),
            line(
                "6",
                ("block_storage", "volume", "sata"),
                "ap-southeast-1",
                1000,
                Year,
                3,
                1,
            ),
            line(
                "7",
                ("network", "bandwidth", "bgp"),
                "cn-north-1",
                20,
                Year,
                1,
                1,
            ),
            line(
                "8",
                ("network", "eip", "5_bgp"),
                "cn-north-1",
                0,
                Year,
                1,
                4,
            ),
            line(
                "9",
                ("database", "mysql", "mysql.x1.large.2.ha"),
                "cn-north-1",
                0,
                Year,
                1,
                1,
            ),
            line(
                "10",
                ("database", "mysql", "mysql.x1.large.2"),
                "cn-east-2",
                0,
                Month,
                3,
                2,
            ),
        ],
        ..Default::default()
    }
}

/// `request` as a [`RawCall`] with the bench user's bearer: must answer a
/// result per line and at least the customer's two discounts' results.
fn raw_rating(
    request: &pr::RatePeriodProductsRequest,
    bearer: &MetadataValue<Ascii>,
) -> Result<RawCall, BoxError> {
    if request.lines.len() != LINES {
        return Err(format!("the rating request has {} lines", request.lines.len()).into());
    }
    Ok(RawCall {
        name: "RatePeriodProducts",
        path: PathAndQuery::from_static("/partner.pricing.v1.RatingService/RatePeriodProducts"),
        request: request.encode_to_vec().into(),
        bearer: Some(bearer.clone()),
        check: |reply| {
            // Fields 1 (lines) and 4 (discount results).
            let [_, lines, _, _, discounts] = field_counts::<5>(reply)?;
            if lines != LINES {
                return Err(format!("RatePeriodProducts answered {lines} lines"));
            }
            if discounts < 2 {
                return Err("RatePeriodProducts answered without the customer's discounts".into());
            }
            Ok(())
        },
    })
}

/// Calls `call` at `rate` per second for `duration`, each in its own task
/// (an open loop: a slow answer does not slow the next call); returns every
/// latency in microseconds, ascending.
pub(crate) async fn steady(
    channels: &[Channel],
    call: &Call,
    rate: u32,
    duration: Duration,
) -> Result<Vec<u64>, BoxError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let clients: Vec<Clients> = channels.iter().map(|c| Clients::new(c.clone())).collect();
    let end = Instant::now() + duration;
    let mut n = 0;
    while Instant::now() < end {
        ticks.tick().await;
        let mut client = clients[n % clients.len()].clone();
        let (call, tx) = (call.clone(), tx.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            let answer = client.call(&call).await;
            let _ = tx.send(
                answer.map(|()| u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX)),
            );
        });
        n += 1;
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(n);
    while let Some(answer) = rx.recv().await {
        latencies.push(answer?);
    }
    latencies.sort_unstable();
    Ok(latencies)
}

pub(crate) fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

/// Runs the pricing phases; returns their section of the report.
pub async fn measure(s: &Setup<'_>) -> Result<String, BoxError> {
    let mut request = ten_lines();
    request.customer_id = discounted_customer(s).await?;
    // The throughput rounds send both calls as bytes encoded once and read
    // their answers only as far as their checks need ([`crate::raw`]); the
    // steady phase's latency is measured with the generated client.
    let (health_raw, rate_raw) = (
        Call::Raw(RawCall::health()),
        Call::Raw(raw_rating(&request, s.bearer)?),
    );
    let rate = Call::RatePeriod {
        request: Arc::new(request),
        bearer: s.bearer.clone(),
    };
    let bound = Bound {
        duration: s.duration,
        max_calls_per_worker: 10_000_000,
    };
    let before = s.server.memory()?;
    let mut rounds = Vec::new();
    for round in 0..2 {
        let mut order = [("health", &health_raw), ("rate", &rate_raw)];
        order.rotate_left(round % 2);
        let mut health = 0.0;
        let mut rating = (0.0, 0.0);
        for (name, call) in order {
            let result = load::run(s.channels, s.in_flight, call, bound).await?;
            crate::progress(&format!(
                "pricing round {}: {name} {:.0} calls/s",
                round + 1,
                result.rate()
            ));
            if name == "health" {
                health = result.rate();
            } else {
                rating = (result.rate(), result.percentile_ms(50.0));
            }
        }
        rounds.push((health, rating.0, rating.1));
    }
    let during = s.server.memory()?;
    let latencies = steady(s.channels, &rate, STEADY_RATE, s.duration).await?;
    let after = s.server.memory()?;
    let (p50, p99) = (
        percentile_ms(&latencies, 50.0),
        percentile_ms(&latencies, 99.0),
    );
    crate::progress(&format!(
        "pricing steady {STEADY_RATE}/s: p50 {p50:.2} ms, p99 {p99:.2} ms"
    ));

    let mut out = String::new();
    writeln!(out, "\n## Pricing\n")?;
    writeln!(out, "| Measurement | Figure | Target |")?;
    writeln!(out, "|---|---|---|")?;
    for (i, (health, calls, p50)) in rounds.iter().enumerate() {
        let ratio = calls / health;
        let verdict = if ratio >= RATIO_TARGET {
            "met"
        } else {
            "**missed**"
        };
        writeln!(
            out,
            "| RatePeriodProducts (10 lines, a customer with 2 discounts) ÷ Health/Check, round {} | {ratio:.3} ({calls:.0} vs {health:.0} calls/s, p50 {p50:.2} ms) | ≥ {RATIO_TARGET} — {verdict} |",
            i + 1
        )?;
    }
    let verdict = if p99 <= P99_TARGET_MS {
        "met"
    } else {
        "**missed**"
    };
    writeln!(
        out,
        "| Latency at a steady {STEADY_RATE} calls/s ({} calls) | p50 {p50:.2} ms, p99 {p99:.2} ms | p99 ≤ {P99_TARGET_MS} ms — {verdict} |",
        latencies.len()
    )?;
    writeln!(
        out,
        "| Server RSS before / after the throughput rounds / after the steady phase | {:.1} / {:.1} / {:.1} MiB | — |",
        before.rss_mib(),
        during.rss_mib(),
        after.rss_mib()
    )?;
    Ok(out)
}
