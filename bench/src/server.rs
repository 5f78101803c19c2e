//! The server under test: a separate `partner-server` process on a free
//! 127.0.0.1 port, its readiness, its memory and CPU counters, and its
//! shutdown by SIGTERM.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::BoxError;

/// How the server process is started.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `partner-server` binary.
    pub bin: PathBuf,
    /// Value of `PARTNER_LOG` (an `EnvFilter` directive).
    pub log_filter: String,
    /// Value of `PARTNER_BOOTSTRAP_PASSWORD`.
    pub bootstrap_password: String,
    /// Further variables, set last (experiments only).
    pub extra_env: Vec<(String, String)>,
    /// How often readiness is polled.
    pub poll_interval: Duration,
    /// How long one readiness probe may wait for its answer.
    pub probe_timeout: Duration,
}

/// A running server process. Dropping it without [`Server::stop`] kills it
/// with SIGKILL, so an aborted benchmark leaves nothing behind.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    pid: u32,
    addr: SocketAddr,
    spawned_at: Instant,
    log_path: PathBuf,
}

/// Memory figures from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub vm_rss: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub vm_hwm: u64,
    pub threads: u64,
}

impl Memory {
    /// `VmRSS` in MiB.
    pub fn rss_mib(&self) -> f64 {
        kib_to_mib(self.vm_rss)
    }
}

/// KiB to MiB.
pub fn kib_to_mib(kib: u64) -> f64 {
    // Exact for any realistic process size (< 2^53 KiB).
    kib as f64 / 1024.0
}

/// A port that was free a moment ago. The server binds it itself; a
/// collision in between makes the start fail loudly, never silently.
fn free_port() -> Result<u16, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts the server on `database_url`, writing its output to `log_path`.
    /// The clock for start-up time starts right before the process is spawned.
    pub fn spawn(spec: &ServerSpec, database_url: &str, log_path: &Path) -> Result<Self, BoxError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let log = std::fs::File::create(log_path)?;
        let log_err = log.try_clone()?;
        let mut cmd = Command::new(&spec.bin);
        // Only the settings named here apply: inherited PARTNER_* variables
        // (notably PARTNER_ARGON2_*) would silently change what is measured.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PARTNER_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("serve")
            .env("PARTNER_LISTEN", addr.to_string())
            .env("PARTNER_DATABASE_URL", database_url)
            .env("PARTNER_LOG", &spec.log_filter)
            .env("PARTNER_BOOTSTRAP_PASSWORD", &spec.bootstrap_password)
            .envs(spec.extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let spawned_at = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", spec.bin.display()))?;
        Ok(Self {
            pid: child.id(),
            child: Some(child),
            addr,
            spawned_at,
            log_path: log_path.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`, for clients.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `grpc.health.v1.Health/Check` until it answers SERVING and
    /// returns the time since spawn. Each probe opens a new connection: the
    /// server binds its port before it migrates, so an early connection is
    /// accepted by the kernel but answered only once serving starts, and the
    /// probe then returns at that moment.
    pub async fn wait_serving(
        &mut self,
        spec: &ServerSpec,
        limit: Duration,
    ) -> Result<Duration, BoxError> {
        let endpoint = Endpoint::from_shared(self.uri())?
            .connect_timeout(spec.probe_timeout)
            .timeout(spec.probe_timeout);
        loop {
            if let Ok(channel) = endpoint.connect().await {
                let mut health = HealthClient::new(channel);
                let probe = health.check(HealthCheckRequest {
                    service: String::new(),
                });
                if let Ok(Ok(reply)) = tokio::time::timeout(spec.probe_timeout, probe).await
                    && reply.get_ref().status == ServingStatus::Serving as i32
                {
                    return Ok(self.spawned_at.elapsed());
                }
            }
            if let Some(status) = self.try_wait()? {
                return Err(format!(
                    "server exited during start-up ({status}); its output:\n{}",
                    self.log_tail()
                )
                .into());
            }
            if self.spawned_at.elapsed() > limit {
                return Err(format!(
                    "server not SERVING after {limit:?}; its output:\n{}",
                    self.log_tail()
                )
                .into());
            }
            tokio::time::sleep(spec.poll_interval).await;
        }
    }

    fn try_wait(&mut self) -> Result<Option<ExitStatus>, BoxError> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => Err("server already stopped".into()),
        }
    }

    /// The last lines the server wrote, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The number of lines the server wrote (its log volume during a run).
    pub fn log_lines(&self) -> usize {
        std::fs::read_to_string(&self.log_path)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// Current memory figures.
    pub fn memory(&self) -> Result<Memory, BoxError> {
        memory_of(self.pid)
    }

    /// User plus system CPU time used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> Result<u64, BoxError> {
        cpu_ticks_of(&format!("/proc/{}/stat", self.pid))
    }

    /// Sends SIGTERM (with the `kill` command) and waits for the process to
    /// exit; returns how long that took. A server that does not exit within
    /// `limit` is killed and reported as an error.
    pub async fn stop(mut self, limit: Duration) -> Result<Duration, BoxError> {
        let sent = Instant::now();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()?;
        if !status.success() {
            return Err(format!("kill -TERM {} failed: {status}", self.pid).into());
        }
        loop {
            if let Some(exit) = self.try_wait()? {
                self.child = None;
                if !exit.success() {
                    return Err(format!(
                        "server exited with {exit} after SIGTERM; its output:\n{}",
                        self.log_tail()
                    )
                    .into());
                }
                return Ok(sent.elapsed());
            }
            if sent.elapsed() > limit {
                return Err(format!("server still running {limit:?} after SIGTERM").into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// User plus system time from a `/proc/…/stat` file, in clock ticks.
pub fn cpu_ticks_of(path: &str) -> Result<u64, BoxError> {
    let stat = std::fs::read_to_string(path)?;
    // The command name (field 2) is parenthesised and may hold spaces; count
    // fields after its closing parenthesis, where field 3 (state) is index 0.
    let (_, rest) = stat
        .rsplit_once(')')
        .ok_or_else(|| format!("unexpected format of {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64, BoxError> {
        Ok(fields
            .get(i)
            .ok_or_else(|| format!("short {path}"))?
            .parse::<u64>()?)
    };
    // utime is field 14, stime field 15.
    Ok(field(11)? + field(12)?)
}

/// CPU time of the whole machine that was not idle (every process, every
/// core), in clock ticks, from the first line of `/proc/stat`.
pub fn machine_busy_ticks() -> Result<u64, BoxError> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().ok_or("empty /proc/stat")?;
    let mut values = Vec::new();
    for field in line.split_whitespace().skip(1) {
        values.push(field.parse::<u64>()?);
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice]; the
    // guest times are already counted in user and nice.
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Ok(total.saturating_sub(idle))
}

/// The load averages from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be asked.
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Current memory figures of the process `pid`.
pub fn memory_of(pid: u32) -> Result<Memory, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid))?;
    let mut m = Memory::default();
    for line in status.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let value = || -> Result<u64, BoxError> {
            let number = rest.split_whitespace().next().unwrap_or("");
            Ok(number.parse::<u64>()?)
        };
        match key {
            "VmRSS" => m.vm_rss = value()?,
            "RssAnon" => m.rss_anon = value()?,
            "RssFile" => m.rss_file = value()?,
            "VmHWM" => m.vm_hwm = value()?,
            "Threads" => m.threads = value()?,
            _ => {}
        }
    }
    if m.vm_rss == 0 {
        return Err(format!("no VmRSS in /proc/{}/status", pid).into());
    }
    Ok(m)
}
