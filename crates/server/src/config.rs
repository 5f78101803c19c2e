//! Configuration: command-line flags and `PARTNER_*` environment variables.
//! Every default is safe on a developer laptop.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use partner_kernel::seal::{MasterKey, Sealer};

/// The partner sales platform server.
#[derive(Debug, Clone, Parser)]
#[command(name = "partner-server", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What to do.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run migrations, then serve gRPC, gRPC-Web and HTTP on one port (the default).
    Serve,
    /// Run migrations and exit.
    Migrate,
    /// Manage the token-signing keys (running servers pick changes up within 30 s).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Import or export the pricing catalog (running servers pick a new
    /// version up within 30 s).
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Inspect the money ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
}

/// What to do with the ledger.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum LedgerAction {
    /// Reconcile it: every transaction nets to zero, all accounts sum to
    /// zero, every balance is the sum of its entries, no account is below
    /// its floor. Prints each violation; exits non-zero when there is one.
    Check,
}

/// How a catalog file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFileFormat {
    Yaml,
    Csv,
}

/// What to do with the catalog.
#[derive(Debug, Clone, Subcommand)]
pub enum CatalogAction {
    /// Check a YAML or CSV catalog file as a whole and store it as the next
    /// version; every problem is printed with its line, and nothing is
    /// stored while there is one.
    Import {
        /// The file (`.yaml`, `.yml` or `.csv`, unless --format says).
        file: std::path::PathBuf,
        /// Its format, when the extension does not tell.
        #[arg(long, value_enum)]
        format: Option<CatalogFileFormat>,
        /// When it comes into force (RFC 3339); default now.
        #[arg(long)]
        effective_from: Option<String>,
    },
    /// Print the version in force now, as YAML or CSV (a starting point for
    /// the next import).
    Export {
        #[arg(long, value_enum, default_value = "yaml")]
        format: CatalogFileFormat,
    },
}

/// What to do with the signing keys.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysAction {
    /// List every key, newest first.
    List,
    /// Add a new signing key; the active one becomes verify-only.
    Rotate,
    /// Retire a verify-only key: tokens it signed are refused.
    Retire {
        /// The key id (`key_…`).
        kid: String,
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Server settings.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "PARTNER_LISTEN",
        default_value = "127.0.0.1:50051",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    /// Default: an SQLite file under `./data`, created on first start.
    #[arg(long, env = "PARTNER_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Pooled database connections; 0 means the default (8 on SQLite, 16
    /// on PostgreSQL). See docs/benchmarks.md for what the size costs.
    #[arg(
        long,
        env = "PARTNER_DB_MAX_CONNECTIONS",
        default_value_t = 0,
        global = true
    )]
    pub db_max_connections: u32,

    /// SAML responses verified or AuthnRequests signed at once (the public
    /// SAML routes' CPU); 0 means half the cores, at least one. A call waits
    /// up to 2 s for a slot, then is refused with `SAML_BUSY`.
    #[arg(
        long,
        env = "PARTNER_SAML_CONCURRENCY",
        default_value_t = 0,
        global = true
    )]
    pub saml_concurrency: u32,

    /// Log format.
    #[arg(
        long,
        env = "PARTNER_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,

    /// Password of the `admin` operator created on first start; when unset a
    /// random one is generated and printed once to stderr.
    #[arg(
        long,
        env = "PARTNER_BOOTSTRAP_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub bootstrap_password: Option<Secret>,

    /// Master key that seals the secrets kept in the database (signing-key
    /// seeds, page-token and fingerprint keys): 32 bytes as 64 hex digits or
    /// base64. Without one they are stored plain, and the server warns.
    #[arg(
        long,
        env = "PARTNER_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<Secret>,

    /// A file holding the master key (instead of `PARTNER_MASTER_KEY`).
    #[arg(long, env = "PARTNER_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// Argon2id memory cost in KiB (OWASP minimum: 19456).
    #[arg(
        long,
        env = "PARTNER_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    /// Argon2id passes (OWASP minimum with 19 MiB: 2).
    #[arg(
        long,
        env = "PARTNER_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// Password hashes (Argon2id) running at once; 0 means one per core.
    /// Each holds a core and `argon2_memory_kib` of memory while it runs.
    #[arg(
        long,
        env = "PARTNER_HASHING_SLOTS",
        default_value_t = 0,
        global = true
    )]
    pub hashing_slots: u32,

    /// Sign-ins and password changes waiting for a hashing slot; the next one
    /// is refused at once (RESOURCE_EXHAUSTED `HASHING_BUSY`, with RetryInfo).
    #[arg(
        long,
        env = "PARTNER_HASHING_QUEUE",
        default_value_t = 64,
        global = true
    )]
    pub hashing_queue: u32,

    /// Access-token lifetime in seconds.
    #[arg(
        long,
        env = "PARTNER_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub access_token_ttl_secs: u32,

    /// Where customers' association invitation links point: the frontend
    /// page that takes the token (`{url}/associate?token=…`).
    #[arg(
        long,
        env = "PARTNER_INVITE_LINK_BASE",
        default_value = partner_customers::service::DEFAULT_INVITE_LINK_BASE,
        global = true
    )]
    pub invite_link_base: String,

    /// The platform's public base URL, as identity providers reach it: the
    /// SAML entity id is `{url}/saml/metadata` and the ACS URL `{url}/saml/acs`.
    #[arg(
        long,
        env = "PARTNER_PUBLIC_URL",
        default_value = partner_federation::service::DEFAULT_PUBLIC_URL,
        global = true
    )]
    pub public_url: String,

    /// Let webhook endpoints point at loopback, private and link-local
    /// addresses, over plain http too (`1`/`true`): for development and
    /// tests only, since a partner could then reach the platform's own
    /// network.
    #[arg(
        long,
        env = "PARTNER_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub webhook_allow_private: bool,

    /// Per-request deadline in seconds.
    #[arg(
        long,
        env = "PARTNER_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u32,

    /// On SIGTERM, how long to keep answering NOT_SERVING before refusing new
    /// connections (give load balancers time to notice), in milliseconds.
    #[arg(
        long,
        env = "PARTNER_SHUTDOWN_GRACE_MS",
        default_value_t = 0,
        global = true
    )]
    pub shutdown_grace_ms: u32,

    /// How long a new order waits for payment before it is cancelled, in
    /// minutes.
    #[arg(
        long,
        env = "PARTNER_ORDER_PAYMENT_MINUTES",
        default_value_t = 1440,
        value_parser = clap::value_parser!(u32).range(1..=43_200),
        global = true
    )]
    pub order_payment_minutes: u32,

    /// The billing time zone, in hours from UTC: where billing cycles
    /// (months) begin and end. The vendor bills in UTC+8.
    #[arg(
        long,
        env = "PARTNER_BILLING_UTC_OFFSET_HOURS",
        default_value_t = partner_kernel::clock::DEFAULT_BILLING_UTC_OFFSET_HOURS,
        value_parser = clap::value_parser!(i32).range(-12..=14),
        allow_negative_numbers = true,
        global = true
    )]
    pub billing_utc_offset_hours: i32,

    /// How long a customer may owe for on-demand use, in hours, before its
    /// on-demand resources freeze (they run again once the debt is paid).
    #[arg(
        long,
        env = "PARTNER_BILLING_ARREARS_GRACE_HOURS",
        default_value_t = 24,
        value_parser = clap::value_parser!(u32).range(0..=8760),
        global = true
    )]
    pub arrears_grace_hours: u32,

    /// How long a write's idempotency key is kept, in hours (at least 24):
    /// a call retried with its key within this time answers as the first
    /// did; after it, the key is forgotten and the call runs anew.
    #[arg(
        long,
        env = "PARTNER_IDEMPOTENCY_RETENTION_HOURS",
        default_value_t = 168,
        value_parser = clap::value_parser!(u32).range(24..=87_600),
        global = true
    )]
    pub idempotency_retention_hours: u32,

    /// Specs whose resources the built-in provisioner fails to open
    /// (comma-separated): the fault hook for tests and the sandbox, so the
    /// refund of failed order lines can be seen. Empty in production.
    #[arg(
        long,
        env = "PARTNER_FAILING_SPECS",
        value_delimiter = ',',
        global = true
    )]
    pub failing_specs: Vec<String>,

    /// Sandbox mode: the operator may move the platform clock forward
    /// (`SandboxService.AdvanceClock`), running the jobs for the time
    /// crossed. Never in production.
    #[arg(
        long,
        env = "PARTNER_SANDBOX",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub sandbox: bool,
}

impl Config {
    /// The sealer of secrets at rest: with the configured master key, or
    /// plain (with one warning) when there is none.
    pub fn sealer(&self) -> Result<Sealer, String> {
        let text = match (&self.master_key, &self.master_key_file) {
            (Some(_), Some(_)) => {
                return Err("set PARTNER_MASTER_KEY or PARTNER_MASTER_KEY_FILE, not both".into());
            }
            (Some(key), None) => Some(key.0.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("master key file {}: {e}", path.display()))?,
            ),
            (None, None) => None,
        };
        match text {
            Some(text) => Ok(Sealer::new(Some(MasterKey::parse(&text)?))),
            None => {
                tracing::warn!(
                    "no master key (PARTNER_MASTER_KEY or PARTNER_MASTER_KEY_FILE): signing-key \
                     seeds and server secrets are stored in the database unsealed"
                );
                Ok(Sealer::default())
            }
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", default_sqlite_path().display()))
    }
}

/// `./data/partner.db`.
pub fn default_sqlite_path() -> PathBuf {
    PathBuf::from("data").join("partner.db")
}
