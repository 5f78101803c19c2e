//! The customers phases: bulk-seeds customers straight into the server's
//! database (the API would take hours for a million), then measures
//! GetCustomer on scattered ids, ListCustomers first pages at two sizes, a
//! page deep in the list, a name-prefix page, and CreateCustomer with one
//! writer and with sixteen; every ratio against Health/Check in the same run.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use partner_customers::entity::customer;
use sea_orm::{ConnectionTrait, EntityTrait, Set, TransactionTrait};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::BoxError;
use crate::load::{self, Bound, Call, Clients, LoadResult};

/// Rows per INSERT statement (27 columns: within both databases' limits on
/// bound parameters).
const ROWS_PER_INSERT: usize = 500;
/// Rows per transaction while seeding.
const ROWS_PER_TX: usize = 50_000;
/// Ids kept for GetCustomer (drawn from the whole seeded range).
const SAMPLE: usize = 100_000;

/// Targets of the customers phases.
const GET_TARGET: f64 = 0.35;
const LIST_TARGET: f64 = 0.10;
const P50_RATIO_TARGET: f64 = 1.3;

/// Inserts `count` customers of `partner` mapped from `xaccount_type`,
/// account names `{tag}_{n:07}`; returns every `count / SAMPLE`-th id.
pub async fn seed(
    url: &str,
    partner: &str,
    xaccount_type: &str,
    tag: &str,
    count: usize,
) -> Result<Vec<String>, BoxError> {
    let db = sea_orm::Database::connect(url).await?;
    let now = chrono::Utc::now();
    let step = (count / SAMPLE).max(1);
    let mut sample = Vec::with_capacity(count.min(SAMPLE) + 1);
    let mut n = 0;
    while n < count {
        let tx = db.begin().await?;
        let end = (n + ROWS_PER_TX).min(count);
        while n < end {
            let chunk_end = (n + ROWS_PER_INSERT).min(end);
            let rows: Vec<customer::ActiveModel> = (n..chunk_end)
                .map(|i| {
                    let id = format!("cus_{}", uuid::Uuid::now_v7().simple());
                    if i % step == 0 {
                        sample.push(id.clone());
                    }
                    row(id, partner, xaccount_type, tag, i, now)
                })
                .collect();
            customer::Entity::insert_many(rows).exec(&tx).await?;
            n = chunk_end;
        }
        tx.commit().await?;
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE customers").await?;
    }
    db.close().await?;
    Ok(sample)
}

fn row(
    id: String,
    partner: &str,
    xaccount_type: &str,
    tag: &str,
    i: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> customer::ActiveModel {
    customer::ActiveModel {
        id: Set(id),
        partner_id: Set(Some(partner.to_owned())),
        xaccount_type: Set(xaccount_type.to_owned()),
        xaccount_id: Set(format!("{tag}-{i}")),
        account_name: Set(format!("{tag}_{i:07}")),
        email: Set(None),
        mobile: Set(None),
        country: Set("CN".into()),
        password_hash: Set(None),
        association_type: Set("RESELLER".into()),
        associated_at: Set(Some(now)),
        real_name_status: Set("NONE".into()),
        customer_type: Set("NONE".into()),
        freeze_mode: Set("NONE".into()),
        freeze_reason: Set(None),
        level: Set("V0".into()),
        labels: Set("[]".into()),
        account_managers: Set("[]".into()),
        contact_name: Set(String::new()),
        contact_email: Set(String::new()),
        contact_phone: Set(String::new()),
        registered_on_other_site: Set(false),
        reported: Set(false),
        in_subsidy_program: Set(false),
        is_partner: Set(false),
        password_changed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// What the customers phases need from the run.
pub struct Setup<'a> {
    pub url: &'a str,
    pub channels: &'a [Channel],
    pub in_flight: usize,
    pub duration: Duration,
    pub admin: &'a MetadataValue<Ascii>,
    /// Customers of the large partner, and of the small one.
    pub large: usize,
    pub small: usize,
}

/// One measured call.
struct Measured {
    label: String,
    result: LoadResult,
}

impl Measured {
    fn p50(&self) -> f64 {
        self.result.percentile_ms(50.0)
    }
}

fn progress(message: &str) {
    eprintln!("[partner-bench] {message}");
}

/// A partner with `count` seeded customers: its master's bearer, its sales
/// platform and a sample of its customer ids.
async fn seeded_partner(
    s: &Setup<'_>,
    clients: &mut Clients,
    name: &str,
    count: usize,
) -> Result<(MetadataValue<Ascii>, String, Vec<String>), BoxError> {
    let partner = clients.register_partner(s.admin, name).await?;
    let token = clients.login(name, load::MASTER_PASSWORD).await?;
    let bearer: MetadataValue<Ascii> = format!("Bearer {token}").parse()?;
    let platform = clients.sales_platform(&bearer, &partner).await?;
    let began = Instant::now();
    let sample = seed(s.url, &partner, &platform, name, count).await?;
    progress(&format!(
        "seeded {count} customers of {name} in {:.1} s",
        began.elapsed().as_secs_f64()
    ));
    Ok((bearer, platform, sample))
}

/// Seeds, measures and returns the report section.
pub async fn measure(s: &Setup<'_>) -> Result<String, BoxError> {
    let mut clients = Clients::new(s.channels[0].clone());
    let seed_began = Instant::now();
    let (large, platform, sample) = seeded_partner(s, &mut clients, "benchlarge", s.large).await?;
    let (small, _, _) = seeded_partner(s, &mut clients, "benchsmall", s.small).await?;
    let seeding = seed_began.elapsed();
    let deep = clients.deep_token(&large, s.large / 2, 500).await?;
    let list =
        |page_token: String, prefix: &str, bearer: &MetadataValue<Ascii>| Call::ListCustomers {
            page_size: 50,
            page_token,
            prefix: prefix.to_owned(),
            bearer: bearer.clone(),
        };
    // Names `benchlarge_00012xx`: a prefix that matches 100 customers.
    let prefix = "benchlarge_00012";
    let calls: Vec<(String, Call, usize, usize)> = vec![
        (
            "Health/Check".into(),
            Call::Health,
            s.channels.len(),
            s.in_flight,
        ),
        (
            format!("GetCustomer, scattered ids of {}", s.large),
            Call::GetCustomer {
                ids: Arc::new(sample),
                next: Arc::default(),
                bearer: large.clone(),
            },
            s.channels.len(),
            s.in_flight,
        ),
        (
            format!("ListCustomers (50), first page of {}", s.large),
            list(String::new(), "", &large),
            s.channels.len(),
            s.in_flight,
        ),
        (
            format!("ListCustomers (50), first page of {}", s.small),
            list(String::new(), "", &small),
            s.channels.len(),
            s.in_flight,
        ),
        (
            format!(
                "ListCustomers (50), page after {} of {}",
                s.large / 2,
                s.large
            ),
            list(deep, "", &large),
            s.channels.len(),
            s.in_flight,
        ),
        (
            format!("ListCustomers (50), name prefix `{prefix}`"),
            list(String::new(), prefix, &large),
            s.channels.len(),
            s.in_flight,
        ),
    ];
    let bound = Bound {
        duration: s.duration,
        max_calls_per_worker: 10_000_000,
    };
    let mut measured = Vec::new();
    for (label, call, connections, in_flight) in calls {
        let result = load::run(&s.channels[..connections], in_flight, &call, bound).await?;
        progress(&format!("{label}: {:.0} calls/s", result.rate()));
        measured.push(Measured { label, result });
    }
    for (writers, connections, in_flight) in [
        (1, 1, 1),
        (16, s.channels.len(), 16 / s.channels.len().max(1)),
    ] {
        let call = Call::CreateCustomer {
            xaccount_type: platform.clone(),
            tag: format!("w{writers}"),
            next: Arc::default(),
            bearer: large.clone(),
        };
        let result = load::run(&s.channels[..connections], in_flight.max(1), &call, bound).await?;
        progress(&format!(
            "CreateCustomer, {writers} writers: {:.0} calls/s",
            result.rate()
        ));
        measured.push(Measured {
            label: format!("CreateCustomer, {writers} concurrent writer(s)"),
            result,
        });
    }
    render(s, seeding, &measured)
}

fn render(s: &Setup<'_>, seeding: Duration, m: &[Measured]) -> Result<String, BoxError> {
    let mut out = String::new();
    writeln!(out, "\n## Customers\n")?;
    writeln!(
        out,
        "Seeded {} + {} customers in {:.1} s (bulk INSERTs of {ROWS_PER_INSERT} rows).\n",
        s.large,
        s.small,
        seeding.as_secs_f64()
    )?;
    writeln!(out, "| Call | calls/s | p50 ms | p99 ms | ÷ Health/Check |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    let health = m.first().map_or(f64::NAN, |h| h.result.rate());
    for x in m {
        writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.3} |",
            x.label,
            x.result.rate(),
            x.p50(),
            x.result.percentile_ms(99.0),
            x.result.rate() / health
        )?;
    }
    let ratio = |i: usize| m.get(i).map_or(f64::NAN, |x| x.result.rate() / health);
    let p50 = |i: usize| m.get(i).map_or(f64::NAN, Measured::p50);
    writeln!(out, "\n| Target | Result | Verdict |")?;
    writeln!(out, "|---|---|---|")?;
    let rows = [
        (
            "GetCustomer ≥ 0.35 × Health/Check",
            ratio(1),
            ratio(1) >= GET_TARGET,
        ),
        (
            "ListCustomers first page ≥ 0.10 × Health/Check",
            ratio(2),
            ratio(2) >= LIST_TARGET,
        ),
        (
            "p50 first page, large ÷ small ≤ 1.3",
            p50(2) / p50(3),
            p50(2) / p50(3) <= P50_RATIO_TARGET,
        ),
        (
            "p50 deep page ÷ first page ≤ 1.3",
            p50(4) / p50(2),
            p50(4) / p50(2) <= P50_RATIO_TARGET,
        ),
        (
            "p50 name prefix ÷ first page ≤ 1.3",
            p50(5) / p50(2),
            p50(5) / p50(2) <= P50_RATIO_TARGET,
        ),
    ];
    for (label, value, met) in rows {
        writeln!(
            out,
            "| {label} | {value:.3} | {} |",
            if met { "**met**" } else { "**MISSED**" }
        )?;
    }
    Ok(out)
}
