//! The real `partner-server` binary: readiness, SIGTERM, JSON logs, the
//! generated operator password, and `migrate`. Always on SQLite: these tests
//! are about the process, not the database.

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
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let reply = AuthServiceClient::new(channel)
        .login(LoginRequest {
            username: "admin".into(),
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
