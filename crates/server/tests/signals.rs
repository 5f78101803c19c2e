//! The real `partner-server` binary: readiness, SIGTERM, JSON logs, the
//! generated operator password, `migrate`, and SIGKILL in the middle of
//! money transfers. Always on SQLite: these tests are about the process
//! (and the file it syncs), not the database server.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use partner_api::iam::v1::LoginRequest;
use partner_api::iam::v1::auth_service_client::AuthServiceClient;
use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Endpoint;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const BIN: &str = env!("CARGO_BIN_EXE_partner-server");
const BANNER: &str = "Platform operator created";

/// A temporary directory, removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("partner-signals-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
        Self(dir)
    }

    fn database_url(&self, file: &str) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join(file).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nobody listens on right now.
fn free_port() -> SocketAddr {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local addr: {e}"))
}

/// A child `partner-server` whose stderr is collected as it is written.
struct Process {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Process {
    /// Runs the binary with `args`, a clean `PARTNER_*` environment plus `env`.
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        // Settings of the developer's shell must not leak into the test.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PARTNER_") {
                cmd.env_remove(name);
            }
        }
        cmd.envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let pipe = child
            .stderr
            .take()
            .unwrap_or_else(|| panic!("stderr not piped"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut all = sink.lock().unwrap_or_else(|e| e.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    /// `serve` on `addr` over `database_url`; `bootstrap` sets the operator password.
    fn serve(addr: SocketAddr, database_url: &str, bootstrap: Option<&str>) -> Self {
        let listen = addr.to_string();
        let mut env = vec![
            ("PARTNER_LISTEN", listen.as_str()),
            ("PARTNER_DATABASE_URL", database_url),
            ("PARTNER_LOG_FORMAT", "json"),
        ];
        if let Some(password) = bootstrap {
            env.push(("PARTNER_BOOTSTRAP_PASSWORD", password));
        }
        Self::spawn(&[], &env)
    }

    /// What the process has written to stderr so far.
    fn stderr_now(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Polls the health service until it answers SERVING.
    async fn wait_serving(&mut self, addr: SocketAddr) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap_or_else(|e| panic!("{e}"))
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2));
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "partner-server exited during start-up with {status}:\n{}",
                    self.stderr_now()
                );
            }
            if let Ok(channel) = endpoint.connect().await {
                let reply = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await;
                if reply.is_ok_and(|r| r.get_ref().status == ServingStatus::Serving as i32) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "partner-server did not become SERVING:\n{}",
            self.stderr_now()
        );
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits (at most `limit`) for the process to exit; returns its status
    /// and everything it wrote to stderr.
    async fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(None) => panic!(
                    "partner-server still running after {limit:?}:\n{}",
                    self.stderr_now()
                ),
                Err(e) => panic!("wait: {e}"),
            }
        };
        // The pipe closes with the process, so the reader ends promptly.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr_now())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A failed assertion must not leave a server running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The stderr lines that are not blank.
fn lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// The `fields.message` of every JSON log line.
fn json_messages(stderr: &str) -> Vec<String> {
    lines(stderr)
        .into_iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.pointer("/fields/message")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// The password in the one-time bootstrap banner.
fn generated_password(stderr: &str) -> Option<String> {
    let start = stderr.find("password `")? + "password `".len();
    let len = stderr[start..].find('`')?;
    Some(stderr[start..start + len].to_owned())
}

async fn login(addr: SocketAddr, password: &str) -> Result<String, tonic::Status> {
    login_as(addr, "admin", password).await
}

async fn login_as(
    addr: SocketAddr,
    username: &str,
    password: &str,
) -> Result<String, tonic::Status> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let reply = AuthServiceClient::new(channel)
        .login(LoginRequest {
            username: username.into(),
            password: password.into(),
        })
        .await?;
    Ok(reply
        .into_inner()
        .tokens
        .map(|t| t.access_token)
        .unwrap_or_default())
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_with_json_logs() {
    let dir = TempDir::new();
    let addr = free_port();
    let mut server = Process::serve(addr, &dir.database_url("p.db"), Some("signal-password-1"));
    server.wait_serving(addr).await;
    assert!(
        !login(addr, "signal-password-1")
            .await
            .unwrap_or_default()
            .is_empty()
    );

    server.terminate();
    let (status, stderr) = server.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "exit {status}:\n{stderr}");

    // Every line is a JSON object with a level and a message.
    let lines = lines(&stderr);
    assert!(!lines.is_empty(), "no log output");
    for line in &lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value.get("level").is_some_and(|l| l.is_string()), "{line}");
        assert!(value.get("timestamp").is_some(), "{line}");
    }
    let messages = json_messages(&stderr);
    for expected in [
        "serving gRPC, gRPC-Web and HTTP",
        "shutting down: reporting NOT_SERVING",
        "draining in-flight calls",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "no {expected:?} in {messages:?}"
        );
    }
    // The configured password is a secret and is never logged.
    assert!(!stderr.contains("signal-password-1"), "{stderr}");
}

#[tokio::test]
async fn generated_operator_password_is_printed_once_and_works() {
    let dir = TempDir::new();
    let url = dir.database_url("p.db");

    let addr = free_port();
    let mut first = Process::serve(addr, &url, None);
    first.wait_serving(addr).await;
    // The banner is printed before the server starts listening.
    let early = first.stderr_now();
    let password =
        generated_password(&early).unwrap_or_else(|| panic!("no generated password:\n{early}"));
    assert!(password.len() >= 20, "weak generated password {password:?}");
    let token = login(addr, &password)
        .await
        .unwrap_or_else(|e| panic!("login with the generated password: {e:?}"));
    assert!(!token.is_empty());
    first.terminate();
    let (status, stderr) = first.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "exit {status}:\n{stderr}");
    assert_eq!(stderr.matches(BANNER).count(), 1, "{stderr}");
    // Shown once, in the banner only: never in a log line.
    assert_eq!(stderr.matches(password.as_str()).count(), 1, "{stderr}");

    let addr = free_port();
    let mut second = Process::serve(addr, &url, None);
    second.wait_serving(addr).await;
    login(addr, &password)
        .await
        .unwrap_or_else(|e| panic!("login after a restart: {e:?}"));
    second.terminate();
    let (status, stderr) = second.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "exit {status}:\n{stderr}");
    assert!(!stderr.contains(BANNER), "{stderr}");
    assert!(!stderr.contains(password.as_str()), "{stderr}");
}

#[tokio::test]
async fn migrate_creates_the_database_and_exits() {
    let dir = TempDir::new();
    // A directory that does not exist yet: `migrate` creates it.
    let file: PathBuf = dir.0.join("nested").join("p.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut migrate = Process::spawn(
        &["migrate"],
        &[
            ("PARTNER_DATABASE_URL", &url),
            ("PARTNER_LOG_FORMAT", "json"),
        ],
    );
    let (status, stderr) = migrate.wait_exit(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "exit {status}:\n{stderr}");
    assert!(Path::new(&file).is_file(), "no database file:\n{stderr}");
    assert!(
        json_messages(&stderr)
            .iter()
            .any(|m| m == "migrations applied"),
        "{stderr}"
    );

    // The schema is there and nothing was bootstrapped: that is `serve`'s job.
    let conn = sea_orm::Database::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .unwrap_or_else(|e| panic!("query users: {e}"))
        .unwrap_or_else(|| panic!("no row"));
    let users: i64 = row
        .try_get("", "n")
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(users, 0);
    let _ = conn.close().await;
}

/// `message` with the bearer token.
fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    request.metadata_mut().insert("authorization", value);
    request
}

async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn fen(minor: i64) -> partner_api::r#type::v1::Money {
    partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units: minor / 100,
        nanos: i32::try_from((minor % 100) * 10_000_000).unwrap_or_else(|e| panic!("{e}")),
    }
}

/// A partner topped up with 10,000.00 and one RESELLER customer: the
/// master's token and the customer's id.
async fn funded_customer(addr: SocketAddr, admin: &str) -> (String, String) {
    use partner_api::accounts::v1 as accounts;
    use partner_api::accounts::v1::partner_service_client::PartnerServiceClient;
    use partner_api::billing::v1 as billing;
    use partner_api::billing::v1::funds_service_client::FundsServiceClient;
    use partner_api::customers::v1 as customers;
    use partner_api::customers::v1::customer_service_client::CustomerServiceClient;
    let ch = channel(addr).await;
    let partner = PartnerServiceClient::new(ch.clone())
        .register_partner(bearer(
            accounts::RegisterPartnerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                display_name: "Durable".into(),
                master_username: "durable".into(),
                master_password: "durable-password-1".into(),
                contact_email: "ops@durable.example".into(),
            },
            admin,
        ))
        .await
        .unwrap_or_else(|e| panic!("register: {e:?}"))
        .into_inner()
        .partner
        .unwrap_or_default();
    let master = login_as(addr, "durable", "durable-password-1")
        .await
        .unwrap_or_else(|e| panic!("master login: {e:?}"));
    let customer = CustomerServiceClient::new(ch.clone())
        .create_customer(bearer(
            customers::CreateCustomerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                xaccount_type: partner.sales_platform_ids[0].clone(),
                xaccount_id: "durable-1".into(),
                email: "buyer@durable.example".into(),
                country: "CN".into(),
                ..Default::default()
            },
            &master,
        ))
        .await
        .unwrap_or_else(|e| panic!("customer: {e:?}"))
        .into_inner()
        .customer
        .unwrap_or_default()
        .customer_id;
    FundsServiceClient::new(ch)
        .top_up_partner(bearer(
            billing::TopUpPartnerRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                partner_id: partner.partner_id,
                amount: Some(fen(1_000_000)),
                reason: String::new(),
            },
            admin,
        ))
        .await
        .unwrap_or_else(|e| panic!("top up: {e:?}"));
    (master, customer)
}

#[tokio::test]
async fn sigkill_during_transfers_loses_no_acknowledged_one_and_the_ledger_stays_sound() {
    use partner_api::billing::v1 as billing;
    use partner_api::billing::v1::funds_service_client::FundsServiceClient;
    use partner_api::billing::v1::ledger_service_client::LedgerServiceClient;
    let dir = TempDir::new();
    let url = dir.database_url("durable.db");
    let password = "durable-admin-1";
    let addr = free_port();
    let mut server = Process::serve(addr, &url, Some(password));
    server.wait_serving(addr).await;
    let admin = login(addr, password)
        .await
        .unwrap_or_else(|e| panic!("login: {e:?}"));
    let (master, customer) = funded_customer(addr, &admin).await;

    // Eight clients transfer one fen at a time and note every acknowledged
    // transaction; the server is killed while they do.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for _ in 0..8 {
        let mut funds = FundsServiceClient::new(channel(addr).await);
        let (master, customer, acknowledged) =
            (master.clone(), customer.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let sent = funds
                    .transfer_to_customer(bearer(
                        billing::TransferToCustomerRequest {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            customer_id: customer.clone(),
                            amount: Some(fen(1)),
                            ..Default::default()
                        },
                        &master,
                    ))
                    .await;
                match sent {
                    Ok(reply) => acknowledged
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(reply.into_inner().transaction_id),
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap_or_else(|e| e.into_inner()).len() < 150 {
        assert!(Instant::now() < deadline, "too few transfers acknowledged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server
        .child
        .kill()
        .unwrap_or_else(|e| panic!("SIGKILL: {e}"));
    let _ = server.child.wait();
    for client in clients {
        let _ = client.await;
    }
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();

    let addr = free_port();
    let mut restarted = Process::serve(addr, &url, None);
    restarted.wait_serving(addr).await;
    let admin = login(addr, password)
        .await
        .unwrap_or_else(|e| panic!("login again: {e:?}"));
    let mut funds = FundsServiceClient::new(channel(addr).await);
    let mut present = std::collections::HashSet::new();
    let mut token = String::new();
    loop {
        let page = funds
            .list_account_entries(bearer(
                billing::ListAccountEntriesRequest {
                    customer_id: customer.clone(),
                    page_size: 500,
                    page_token: token,
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap_or_else(|e| panic!("entries: {e:?}"))
            .into_inner();
        present.extend(page.entries.into_iter().map(|e| e.transaction_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|t| !present.contains(*t))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(present.len() >= acknowledged.len());
    let report = LedgerServiceClient::new(channel(addr).await)
        .check_ledger(bearer(billing::CheckLedgerRequest {}, &admin))
        .await
        .unwrap_or_else(|e| panic!("check: {e:?}"))
        .into_inner();
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    // The top-up and every transfer that committed, acknowledged or not.
    assert_eq!(report.transactions, 1 + present.len() as i64);
}
