//! `partner-bench`: measures the release `partner-server` binary as a separate
//! process on a scratch database — time from spawn to SERVING, idle memory,
//! GetPartner throughput against Health/Check throughput, and login latency
//! with the production Argon2id parameters — and prints a Markdown report.
//!
//! The client runs on the same machine as the server, so both share its
//! cores; the throughput ratio compares two calls under the same handicap.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod bills;
mod customers;
mod db;
mod load;
mod money;
mod orders;
mod pricing;
mod raw;
mod renewals;
mod server;
mod usage;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tonic::metadata::{Ascii, MetadataValue};

use crate::db::Scratch;
use crate::load::{Bound, Call, Clients, LoadResult};
use crate::server::{Memory, Server, ServerSpec};

/// Errors end the run with a message.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Password of the bootstrap operator `admin` on every scratch database.
const ADMIN_PASSWORD: &str = "benchmark-admin-password";
/// How long a start may take before the run fails.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(15);
/// Idle time between the two memory readings.
const IDLE: Duration = Duration::from_secs(1);

/// Targets.
const START_TARGET: Duration = Duration::from_secs(1);
const RSS_TARGET_MIB: f64 = 40.0;
const RATIO_TARGET: f64 = 0.6;
const GET_USER_TARGET: f64 = 0.35;
const LIST_USERS_TARGET: f64 = 0.10;
/// RSS after the abandoned logins may exceed the idle RSS by this much.
const ABANDONED_RSS_TARGET_MIB: f64 = 50.0;
/// Idle time after the abandoned logins, so work they started can end.
const ABANDONED_SETTLE: Duration = Duration::from_secs(3);

/// Benchmarks the partner-server binary. Everything runs on 127.0.0.1.
#[derive(Debug, Clone, Parser)]
#[command(name = "partner-bench", version, about)]
struct Args {
    /// The server binary to measure.
    #[arg(long, default_value = "target/release/partner-server")]
    server_bin: PathBuf,
    /// PostgreSQL URL of an existing database on a server where this user may
    /// CREATE DATABASE; scratch databases are made next to it and dropped at
    /// the end. Without it, scratch SQLite files in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// `PARTNER_LOG` of the server.
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Starts per database kind (empty, migrated) for the start-up median.
    #[arg(long, default_value_t = 5)]
    start_runs: usize,
    /// Interval between readiness probes, in milliseconds.
    #[arg(long, default_value_t = 2)]
    poll_ms: u64,
    /// Calls (half Health/Check, half GetPartner) before the idle memory reading.
    #[arg(long, default_value_t = 300)]
    warmup_calls: u64,
    /// HTTP/2 connections for the throughput phases.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Calls in flight on each connection.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Length of each throughput phase, in seconds.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Rounds of (Health/Check, GetPartner, GetUser, ListUsers), each round
    /// starting with the next call in turn.
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Upper bound on the calls of one worker in a throughput phase.
    #[arg(long, default_value_t = 10_000_000)]
    max_calls_per_worker: u64,
    /// Sequential logins for the login latency.
    #[arg(long, default_value_t = 30)]
    login_sequential: u64,
    /// Concurrency levels for login throughput.
    #[arg(long, value_delimiter = ',', default_value = "2,8")]
    login_concurrency: Vec<usize>,
    /// Logins per concurrency level (spread evenly over the concurrent callers).
    #[arg(long, default_value_t = 48)]
    login_calls: u64,
    /// Extra environment of the server, `KEY=VALUE`, repeatable; for
    /// experiments only (allocator tunables, cheaper Argon2id), as it changes
    /// what is measured. Applied after every inherited `PARTNER_*` variable
    /// is removed.
    #[arg(long = "server-env", value_name = "KEY=VALUE")]
    server_env: Vec<String>,
    /// Skip the start-up measurement.
    #[arg(long)]
    skip_start: bool,
    /// Skip the throughput phases.
    #[arg(long)]
    skip_throughput: bool,
    /// Skip the extra GetPartner phase with a malformed id (authentication
    /// without the database read).
    #[arg(long)]
    skip_auth_only: bool,
    /// Skip the login measurements.
    #[arg(long)]
    skip_login: bool,
    /// Sub-users of the benchmark partner (GetUser cycles through them;
    /// ListUsers pages them).
    #[arg(long, default_value_t = 60)]
    users: usize,
    /// Page size of the ListUsers phase.
    #[arg(long, default_value_t = 50)]
    list_page_size: i32,
    /// Logins started and abandoned in a burst for the memory reading.
    #[arg(long, default_value_t = 300)]
    abandoned_logins: usize,
    /// How long each abandoned login runs before its client gives up, in ms.
    #[arg(long, default_value_t = 20)]
    abandon_after_ms: u64,
    /// Customers seeded for the large partner of the customers phases; 0
    /// skips them.
    #[arg(long, default_value_t = 0)]
    customers: usize,
    /// Customers seeded for the small partner (the p50 at this size is the
    /// baseline of the large one's).
    #[arg(long, default_value_t = 10_000)]
    small_customers: usize,
    /// Run the pricing phases (RatePeriodProducts, 10 lines).
    #[arg(long)]
    pricing: bool,
    /// Run the money phases (TransferToCustomer against a raw SQL loop).
    #[arg(long)]
    money: bool,
    /// Run the order phase (PayOrder with a coupon and cash against a raw
    /// SQL loop).
    #[arg(long)]
    orders: bool,
    /// Run the usage phase (ReportUsage in batches of 1,000 records).
    #[arg(long)]
    usage: bool,
    /// Customers the usage phase's records are spread over.
    #[arg(long, default_value_t = 10)]
    usage_customers: usize,
    /// Run the renewal phase over this many due resources (the issue's
    /// figure is 100,000); 0 skips it. It runs the server in sandbox mode
    /// and moves its clock, so it runs last.
    #[arg(long, default_value_t = 0)]
    renewals: usize,
    /// Run the hourly settlement phase over this many on-demand resources
    /// (the figure is 100,000); 0 skips it. Sandbox mode, like the
    /// renewal phase; it runs after it.
    #[arg(long, default_value_t = 0)]
    settlement: usize,
    /// Run the bill export phase over this many fee records (the issue's
    /// figure is 1,000,000), and a tenth of them; 0 skips it.
    #[arg(long, default_value_t = 0)]
    export_lines: usize,
}

/// One throughput phase and the CPU it cost.
#[derive(Debug, Clone)]
struct Phase {
    name: &'static str,
    round: usize,
    result: LoadResult,
    server_cpu: Duration,
    client_cpu: Duration,
    /// CPU used meanwhile by every other process on the machine.
    other_cpu: Duration,
}

impl Phase {
    fn server_cpu_per_call_us(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.result.ok as f64
    }
    fn client_cpu_per_call_us(&self) -> f64 {
        self.client_cpu.as_secs_f64() * 1e6 / self.result.ok as f64
    }
    /// Other processes' CPU as a share of the machine's capacity during the phase.
    fn other_cpu_share(&self, cpus: usize) -> f64 {
        self.other_cpu.as_secs_f64() / (self.result.elapsed.as_secs_f64() * cpus.max(1) as f64)
    }
}

/// Everything measured.
#[derive(Debug, Default)]
struct Report {
    start_empty: Vec<Duration>,
    start_migrated: Vec<Duration>,
    stop_times: Vec<Duration>,
    memory_ready: Option<Memory>,
    memory_warm: Option<Memory>,
    memory_idle: Option<Memory>,
    memory_after_logins: Option<Memory>,
    warmup_calls: u64,
    phases: Vec<Phase>,
    auth_only: Option<Phase>,
    login_sequential: Option<Phase>,
    login_concurrent: Vec<(usize, Phase)>,
    /// Logins abandoned, RSS before the burst and after it settled.
    abandoned: Option<(usize, Memory, Memory)>,
    server_log_lines: usize,
    /// The customers phases' section of the report.
    customers: Option<String>,
    /// The pricing phases' section of the report.
    pricing: Option<String>,
    /// The money phases' section of the report.
    money: Option<String>,
    /// The order phase's section of the report.
    orders: Option<String>,
    renewals: Option<String>,
    usage: Option<String>,
    settlement: Option<String>,
    exports: Option<String>,
    load_before: String,
    load_after: String,
}

/// CPU counters of the server, of this process and of the whole machine.
struct CpuMark {
    server: u64,
    client: u64,
    machine: u64,
}

struct Ticks(u64);

impl Ticks {
    fn between(&self, a: u64, b: u64) -> Duration {
        Duration::from_secs_f64(b.saturating_sub(a) as f64 / self.0 as f64)
    }

    /// A finished phase with the CPU each party used between the marks.
    fn phase(
        &self,
        name: &'static str,
        round: usize,
        result: LoadResult,
        before: &CpuMark,
        after: &CpuMark,
    ) -> Phase {
        let server = after.server.saturating_sub(before.server);
        let client = after.client.saturating_sub(before.client);
        let machine = after.machine.saturating_sub(before.machine);
        Phase {
            name,
            round,
            result,
            server_cpu: self.between(0, server),
            client_cpu: self.between(0, client),
            other_cpu: self.between(server + client, machine),
        }
    }
}

fn cpu_mark(server: &Server) -> Result<CpuMark, BoxError> {
    Ok(CpuMark {
        server: server.cpu_ticks()?,
        client: server::cpu_ticks_of("/proc/self/stat")?,
        machine: server::machine_busy_ticks()?,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("partner-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn progress(message: &str) {
    eprintln!("[partner-bench] {message}");
}

async fn run(args: &Args) -> Result<String, BoxError> {
    if !args.server_bin.is_file() {
        return Err(format!(
            "no server binary at {} (build it with `cargo build --release -p partner-server`)",
            args.server_bin.display()
        )
        .into());
    }
    let spec = ServerSpec {
        bin: args.server_bin.clone(),
        log_filter: args.server_log.clone(),
        bootstrap_password: ADMIN_PASSWORD.to_owned(),
        extra_env: {
            let mut env = parse_env(&args.server_env)?;
            if args.renewals > 0 || args.settlement > 0 {
                env.extend(
                    renewals::SERVER_ENV
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
                );
            }
            env
        },
        poll_interval: Duration::from_millis(args.poll_ms),
        probe_timeout: Duration::from_millis(100),
    };
    let mut scratch = Scratch::new(args.database_url.clone())?;
    let outcome = measure(args, &spec, &mut scratch).await;
    let kind = scratch.kind();
    // Scratch data goes whatever happened; a failed measurement still wins.
    let removed = scratch.remove().await;
    let report = outcome?;
    removed?;
    render(args, &spec, kind, &report)
}

fn parse_env(pairs: &[String]) -> Result<Vec<(String, String)>, BoxError> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("--server-env {pair}: expected KEY=VALUE").into())
        })
        .collect()
}

async fn measure(
    args: &Args,
    spec: &ServerSpec,
    scratch: &mut Scratch,
) -> Result<Report, BoxError> {
    let mut report = Report {
        load_before: server::load_average(),
        ..Report::default()
    };
    let ticks = Ticks(server::clock_ticks_per_second());
    let mut log_number = 0;
    let mut log_path = |dir: &std::path::Path| {
        log_number += 1;
        dir.join(format!("server-{log_number}.log"))
    };

    if !args.skip_start {
        for run in 1..=args.start_runs {
            let url = scratch.fresh().await?;
            let mut server = Server::spawn(spec, &url, &log_path(scratch.dir()))?;
            let empty = server.wait_serving(spec, START_LIMIT).await?;
            report.stop_times.push(server.stop(STOP_LIMIT).await?);
            let mut server = Server::spawn(spec, &url, &log_path(scratch.dir()))?;
            let migrated = server.wait_serving(spec, START_LIMIT).await?;
            report.stop_times.push(server.stop(STOP_LIMIT).await?);
            progress(&format!(
                "start {run}/{}: empty {:.1} ms, migrated {:.1} ms",
                args.start_runs,
                ms(empty),
                ms(migrated)
            ));
            report.start_empty.push(empty);
            report.start_migrated.push(migrated);
        }
    }

    let url = scratch.fresh().await?;
    let mut server = Server::spawn(spec, &url, &log_path(scratch.dir()))?;
    server.wait_serving(spec, START_LIMIT).await?;
    progress(&format!("server pid {} on {}", server.pid(), server.addr()));
    report.memory_ready = Some(server.memory()?);

    let channels = load::connect(&server.uri(), args.connections.max(1)).await?;
    let mut clients = Clients::new(channels[0].clone());
    let token = clients.login("admin", ADMIN_PASSWORD).await?;
    let bearer: MetadataValue<Ascii> = format!("Bearer {token}").parse()?;
    let partner_id = clients.register_partner(&bearer, "benchmaster").await?;
    let master = clients.login("benchmaster", load::MASTER_PASSWORD).await?;
    let master: MetadataValue<Ascii> = format!("Bearer {master}").parse()?;
    progress(&format!("creating {} users", args.users));
    let user_ids = clients
        .create_users(&master, "benchuser", args.users)
        .await?;
    let health = Call::Health;
    let get_partner = Call::GetPartner {
        partner_id: partner_id.clone(),
        bearer: bearer.clone(),
    };
    let get_user = Call::GetUser {
        user_ids: std::sync::Arc::new(user_ids),
        next: std::sync::Arc::default(),
        bearer: master.clone(),
    };
    let list_users = Call::ListUsers {
        page_size: args.list_page_size,
        bearer: master.clone(),
    };

    let workers = (channels.len() * args.in_flight.max(1)) as u64;
    let per_worker = (args.warmup_calls / 2).div_ceil(workers).max(1);
    let warm = Bound {
        duration: Duration::from_secs(60),
        max_calls_per_worker: per_worker,
    };
    let a = load::run(&channels, args.in_flight.max(1), &health, warm).await?;
    let b = load::run(&channels, args.in_flight.max(1), &get_partner, warm).await?;
    report.warmup_calls = a.ok + b.ok;
    report.memory_warm = Some(server.memory()?);
    tokio::time::sleep(IDLE).await;
    report.memory_idle = Some(server.memory()?);
    progress(&format!(
        "idle RSS {:.1} MiB after {} warm-up calls",
        report.memory_idle.unwrap_or_default().rss_mib(),
        report.warmup_calls
    ));

    if !args.skip_throughput {
        let bound = Bound {
            duration: Duration::from_secs(args.duration_secs),
            max_calls_per_worker: args.max_calls_per_worker,
        };
        for round in 1..=args.rounds {
            let mut order = [
                ("Health/Check", &health),
                ("GetPartner", &get_partner),
                ("GetUser", &get_user),
                ("ListUsers", &list_users),
            ];
            // Each round starts with another call, so no call always runs
            // on a warmer (or more tired) machine than the others.
            order.rotate_left((round - 1) % 4);
            for (name, call) in order {
                let before = cpu_mark(&server)?;
                let result = load::run(&channels, args.in_flight, call, bound).await?;
                let after = cpu_mark(&server)?;
                progress(&format!(
                    "round {round}: {name} {:.0} calls/s",
                    result.rate()
                ));
                report
                    .phases
                    .push(ticks.phase(name, round, result, &before, &after));
            }
        }
        if !args.skip_auth_only {
            let call = Call::GetPartnerMalformed {
                bearer: bearer.clone(),
            };
            let before = cpu_mark(&server)?;
            let result = load::run(&channels, args.in_flight, &call, bound).await?;
            let after = cpu_mark(&server)?;
            progress(&format!(
                "GetPartner (malformed id) {:.0} calls/s",
                result.rate()
            ));
            report.auth_only = Some(ticks.phase(
                "GetPartner, malformed id (INVALID_ARGUMENT)",
                0,
                result,
                &before,
                &after,
            ));
        }
    }

    if !args.skip_login {
        let login = Call::Login {
            usernames: std::sync::Arc::new(vec!["admin".to_owned()]),
            next: std::sync::Arc::default(),
            password: ADMIN_PASSWORD.into(),
        };
        let users_login = Call::Login {
            usernames: std::sync::Arc::new(
                (0..args.users).map(|i| format!("benchuser{i}")).collect(),
            ),
            next: std::sync::Arc::default(),
            password: load::USER_PASSWORD.into(),
        };
        let sequential = Bound {
            duration: Duration::from_secs(600),
            max_calls_per_worker: args.login_sequential,
        };
        let before = cpu_mark(&server)?;
        let result = load::run(&channels[..1], 1, &login, sequential).await?;
        let after = cpu_mark(&server)?;
        progress(&format!(
            "sequential logins: p50 {:.1} ms, p99 {:.1} ms",
            result.percentile_ms(50.0),
            result.percentile_ms(99.0)
        ));
        report.login_sequential = Some(ticks.phase("Login", 0, result, &before, &after));
        for &concurrency in &args.login_concurrency {
            let concurrency = concurrency.max(1);
            let bound = Bound {
                duration: Duration::from_secs(600),
                max_calls_per_worker: args.login_calls.div_ceil(concurrency as u64),
            };
            let before = cpu_mark(&server)?;
            let result = load::run(&channels[..1], concurrency, &users_login, bound).await?;
            let after = cpu_mark(&server)?;
            progress(&format!(
                "{concurrency} concurrent logins: {:.1} logins/s",
                result.rate()
            ));
            report.login_concurrent.push((
                concurrency,
                ticks.phase("Login", 0, result, &before, &after),
            ));
        }
        tokio::time::sleep(IDLE).await;
        report.memory_after_logins = Some(server.memory()?);
    }

    if args.abandoned_logins > 0 {
        let before = server.memory()?;
        let abandoned = Clients::abandon_logins(
            &channels,
            args.abandoned_logins,
            "admin",
            ADMIN_PASSWORD,
            Duration::from_millis(args.abandon_after_ms),
        )
        .await;
        tokio::time::sleep(ABANDONED_SETTLE).await;
        let after = server.memory()?;
        progress(&format!(
            "{abandoned} abandoned logins: RSS {:.1} → {:.1} MiB",
            before.rss_mib(),
            after.rss_mib()
        ));
        report.abandoned = Some((abandoned, before, after));
    }

    if args.customers > 0 {
        let setup = customers::Setup {
            url: &url,
            channels: &channels,
            in_flight: args.in_flight,
            duration: Duration::from_secs(args.duration_secs),
            admin: &bearer,
            large: args.customers,
            small: args.small_customers,
        };
        report.customers = Some(customers::measure(&setup).await?);
    }

    if args.pricing {
        let setup = pricing::Setup {
            channels: &channels,
            in_flight: args.in_flight,
            duration: Duration::from_secs(args.duration_secs),
            bearer: &master,
            admin: &bearer,
            partner_id: &partner_id,
            server: &server,
        };
        report.pricing = Some(pricing::measure(&setup).await?);
    }

    // What the money, order, usage and renewal phases share.
    let money_setup = money::Setup {
        channels: &channels,
        in_flight: args.in_flight,
        duration: Duration::from_secs(args.duration_secs),
        admin: &bearer,
        url: &url,
        server: &server,
    };
    if args.money {
        report.money = Some(money::measure(&money_setup).await?);
    }

    if args.orders {
        report.orders = Some(orders::measure(&money_setup).await?);
    }

    if args.usage {
        report.usage = Some(usage::measure(&money_setup, args.usage_customers).await?);
    }

    if args.export_lines > 0 {
        report.exports = Some(bills::exports(&money_setup, args.export_lines).await?);
    }

    if args.renewals > 0 {
        report.renewals = Some(renewals::measure(&money_setup, args.renewals).await?);
    }

    if args.settlement > 0 {
        report.settlement = Some(bills::settlement(&money_setup, args.settlement).await?);
    }

    drop(clients);
    drop(channels);
    report.server_log_lines = server.log_lines();
    report.stop_times.push(server.stop(STOP_LIMIT).await?);
    report.load_after = server::load_average();
    Ok(report)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &[Duration]) -> Option<Duration> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**MISSED**" }
}

fn start_row(out: &mut String, label: &str, values: &[Duration]) -> Result<(), BoxError> {
    let (Some(med), Some(min), Some(max)) =
        (median(values), values.iter().min(), values.iter().max())
    else {
        return Ok(());
    };
    writeln!(
        out,
        "| {label} (median of {}) | {:.0} ms (min {:.0}, max {:.0}) | ≤ 1000 ms | {} |",
        values.len(),
        ms(med),
        ms(*min),
        ms(*max),
        verdict(med <= START_TARGET)
    )?;
    Ok(())
}

fn render(args: &Args, spec: &ServerSpec, kind: &str, r: &Report) -> Result<String, BoxError> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut out = String::new();
    writeln!(out, "## Results\n")?;
    writeln!(out, "| Measurement | Result | Target | Verdict |")?;
    writeln!(out, "|---|---|---|---|")?;
    start_row(&mut out, "Start to SERVING, empty database", &r.start_empty)?;
    start_row(
        &mut out,
        "Start to SERVING, migrated database",
        &r.start_migrated,
    )?;
    if let Some(idle) = r.memory_idle {
        writeln!(
            out,
            "| Idle RSS (after {} warm-up calls + {} s idle) | {:.1} MiB | ≤ 40 MiB | {} |",
            r.warmup_calls,
            IDLE.as_secs(),
            idle.rss_mib(),
            verdict(idle.rss_mib() <= RSS_TARGET_MIB)
        )?;
    }
    for (call, label, target) in [
        ("GetPartner", "GetPartner (cached)", RATIO_TARGET),
        ("GetUser", "GetUser (uncached)", GET_USER_TARGET),
        ("ListUsers", "ListUsers, page of 50", LIST_USERS_TARGET),
    ] {
        let ratios = ratios(&r.phases, call);
        if let Some(worst) = ratios.iter().map(|(_, x)| *x).reduce(f64::min) {
            let each = ratios
                .iter()
                .map(|(round, x)| format!("round {round}: {x:.3}"))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "| {label} ÷ Health/Check throughput (worst round) | {worst:.3} ({each}) | ≥ {target} | {} |",
                verdict(worst >= target)
            )?;
        }
    }
    if let Some((abandoned, before, after)) = r.abandoned {
        writeln!(
            out,
            "| RSS after {} logins abandoned after {} ms ({abandoned} still running when abandoned) + {} s | {:.1} MiB (before: {:.1} MiB) | ≤ before + {ABANDONED_RSS_TARGET_MIB} MiB | {} |",
            args.abandoned_logins,
            args.abandon_after_ms,
            ABANDONED_SETTLE.as_secs(),
            after.rss_mib(),
            before.rss_mib(),
            verdict(after.rss_mib() <= before.rss_mib() + ABANDONED_RSS_TARGET_MIB)
        )?;
    }
    if let Some(seq) = &r.login_sequential {
        writeln!(
            out,
            "| Login latency, {} sequential | p50 {:.1} ms, p99 {:.1} ms (server CPU {:.1} ms/login) | — | — |",
            seq.result.ok,
            seq.result.percentile_ms(50.0),
            seq.result.percentile_ms(99.0),
            seq.server_cpu_per_call_us() / 1000.0
        )?;
    }
    for (concurrency, phase) in &r.login_concurrent {
        writeln!(
            out,
            "| Login throughput, {concurrency} concurrent ({} logins) | {:.1} logins/s (p50 {:.1} ms, p99 {:.1} ms; server CPU {:.1} ms/login) | — | — |",
            phase.result.ok,
            phase.result.rate(),
            phase.result.percentile_ms(50.0),
            phase.result.percentile_ms(99.0),
            phase.server_cpu_per_call_us() / 1000.0
        )?;
    }

    if !r.phases.is_empty() || r.auth_only.is_some() {
        writeln!(out, "\n### Throughput phases\n")?;
        writeln!(
            out,
            "| Round | Call | OK calls | Seconds | Calls/s | p50 ms | p99 ms | Server CPU µs/call | Client CPU µs/call | Other processes' CPU |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|---|---|---|")?;
        for p in r.phases.iter().chain(r.auth_only.iter()) {
            let round = if p.round == 0 {
                "extra".to_owned()
            } else {
                p.round.to_string()
            };
            writeln!(
                out,
                "| {round} | {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {:.0} % |",
                p.name,
                p.result.ok,
                p.result.elapsed.as_secs_f64(),
                p.result.rate(),
                p.result.percentile_ms(50.0),
                p.result.percentile_ms(99.0),
                p.server_cpu_per_call_us(),
                p.client_cpu_per_call_us(),
                p.other_cpu_share(cpus) * 100.0
            )?;
        }
    }

    if !r.start_empty.is_empty() {
        writeln!(out, "\n### Start-up runs (ms from spawn to SERVING)\n")?;
        writeln!(out, "| Run | Empty database | Migrated database |")?;
        writeln!(out, "|---|---|---|")?;
        for (i, (e, m)) in r.start_empty.iter().zip(&r.start_migrated).enumerate() {
            writeln!(out, "| {} | {:.1} | {:.1} |", i + 1, ms(*e), ms(*m))?;
        }
    }
    if let Some(stop) = median(&r.stop_times) {
        writeln!(
            out,
            "\nSIGTERM to exit: median {:.1} ms over {} stops.",
            ms(stop),
            r.stop_times.len()
        )?;
    }

    writeln!(
        out,
        "\n### Memory of the measured server (from /proc/<pid>/status)\n"
    )?;
    writeln!(
        out,
        "| When | VmRSS MiB | RssAnon MiB | RssFile MiB | VmHWM MiB | Threads |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let readings = [
        ("just SERVING", r.memory_ready),
        ("after warm-up", r.memory_warm),
        ("after warm-up + 1 s idle", r.memory_idle),
        ("after the login phases + 1 s idle", r.memory_after_logins),
    ];
    for (when, m) in readings {
        if let Some(m) = m {
            writeln!(
                out,
                "| {when} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
                m.rss_mib(),
                server::kib_to_mib(m.rss_anon),
                server::kib_to_mib(m.rss_file),
                server::kib_to_mib(m.vm_hwm),
                m.threads
            )?;
        }
    }

    writeln!(out, "\n## Parameters\n")?;
    let command: Vec<String> = std::env::args().collect();
    writeln!(out, "- Command: `{}`", command.join(" "))?;
    writeln!(out, "- Server binary: `{}`", spec.bin.display())?;
    let db = match &args.database_url {
        Some(url) => format!(
            "PostgreSQL, a new scratch database per server next to `{}`",
            db::redact(url)
        ),
        None => format!("{kind}, a new scratch file per server in a temporary directory"),
    };
    writeln!(out, "- Database: {db}")?;
    writeln!(
        out,
        "- Server environment: `PARTNER_LOG={}`, `PARTNER_LISTEN=127.0.0.1:<free port>`, \
         `PARTNER_DATABASE_URL=<scratch>`, `PARTNER_BOOTSTRAP_PASSWORD=<set>`; every other \
         `PARTNER_*` variable removed, so Argon2id runs at the server defaults \
         (m = 19456 KiB, t = 2, p = 1). The server wrote {} log lines during the measured run.",
        args.server_log, r.server_log_lines
    )?;
    if !spec.extra_env.is_empty() {
        let extra: Vec<String> = spec
            .extra_env
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect();
        writeln!(
            out,
            "- **Experiment**: extra server environment {} (this overrides the settings above)",
            extra.join(", ")
        )?;
    }
    writeln!(
        out,
        "- Start-up: {} runs on an empty database, each followed by a run on the database it \
         just migrated; readiness polled every {} ms with `grpc.health.v1.Health/Check` \
         (service \"\"), a new connection per probe, {} ms probe timeout",
        args.start_runs,
        spec.poll_interval.as_millis(),
        spec.probe_timeout.as_millis()
    )?;
    writeln!(
        out,
        "- Memory: `VmRSS` after {} warm-up calls (half Health/Check, half GetPartner), then again after {} s idle",
        r.warmup_calls,
        IDLE.as_secs()
    )?;
    writeln!(
        out,
        "- Throughput: {} HTTP/2 connections × {} calls in flight = {} callers, {} s per phase, \
         {} rounds, each starting with the next call in turn, ≤ {} calls per caller; \
         GetPartner as the operator `admin` for one registered partner (cached); GetUser and \
         ListUsers as that partner's master, GetUser cycling through its sub-users (users are \
         not cached: every call reads the database), ListUsers the first page; only OK answers \
         counted, any other answer aborts the run",
        args.connections,
        args.in_flight,
        args.connections * args.in_flight,
        args.duration_secs,
        args.rounds,
        args.max_calls_per_worker
    )?;
    writeln!(
        out,
        "- Login: {} sequential logins of `admin` on one connection; then {} logins at each \
         concurrency of {:?}, of the partner's sub-users in turn",
        args.login_sequential, args.login_calls, args.login_concurrency
    )?;
    writeln!(
        out,
        "- Client: this process, tokio multi-thread runtime, on the same machine as the server \
         ({cpus} CPUs available); load average {} before the run, {} after. The last column \
         of the throughput table is the CPU every other process on the machine used during the \
         phase, as a share of all cores: other work there skews the figures.",
        r.load_before, r.load_after
    )?;
    if let Some(section) = &r.customers {
        out.push_str(section);
    }
    if let Some(section) = &r.pricing {
        out.push_str(section);
    }
    if let Some(section) = &r.money {
        out.push_str(section);
    }
    if let Some(section) = &r.orders {
        out.push_str(section);
    }
    if let Some(section) = &r.usage {
        out.push_str(section);
    }
    if let Some(section) = &r.renewals {
        out.push_str(section);
    }
    if let Some(section) = &r.settlement {
        out.push_str(section);
    }
    if let Some(section) = &r.exports {
        out.push_str(section);
    }
    Ok(out)
}

/// `call` ÷ Health/Check per round.
fn ratios(phases: &[Phase], call: &str) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    let rounds = phases.iter().map(|p| p.round).max().unwrap_or(0);
    for round in 1..=rounds {
        let rate = |name: &str| {
            phases
                .iter()
                .find(|p| p.round == round && p.name == name)
                .map(|p| p.result.rate())
        };
        if let (Some(h), Some(g)) = (rate("Health/Check"), rate(call)) {
            out.push((round, g / h));
        }
    }
    out
}
