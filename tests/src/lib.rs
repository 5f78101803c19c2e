//! The end-to-end harness: starts the real `partner-server` on `127.0.0.1:0`
//! over a fresh database (a temporary SQLite file, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set) and hands out generated clients.
//!
//! Readiness is awaited on the health service, never with sleeps. Logs stay
//! quiet unless `TEST_LOG=1`.

pub mod saml_idp;
pub mod saml_world;
pub mod webhook_receiver;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use partner_api::accounts::v1 as accounts;
use partner_api::accounts::v1::audit_service_client::AuditServiceClient;
use partner_api::accounts::v1::partner_service_client::PartnerServiceClient;
use partner_api::accounts::v1::program_service_client::ProgramServiceClient;
use partner_api::accounts::v1::reseller_service_client::ResellerServiceClient;
use partner_api::accounts::v1::role_service_client::RoleServiceClient;
use partner_api::accounts::v1::user_service_client::UserServiceClient;
use partner_api::billing::v1 as billing;
use partner_api::billing::v1::bill_service_client::BillServiceClient;
use partner_api::billing::v1::coupon_service_client::CouponServiceClient;
use partner_api::billing::v1::funds_service_client::FundsServiceClient;
use partner_api::billing::v1::ledger_service_client::LedgerServiceClient;
use partner_api::billing::v1::order_service_client::OrderServiceClient;
use partner_api::billing::v1::payment_agreement_service_client::PaymentAgreementServiceClient;
use partner_api::billing::v1::resource_service_client::ResourceServiceClient;
use partner_api::billing::v1::sandbox_service_client::SandboxServiceClient;
use partner_api::billing::v1::usage_service_client::UsageServiceClient;
use partner_api::customers::v1 as customers;
use partner_api::customers::v1::customer_service_client::CustomerServiceClient;
use partner_api::customers::v1::lead_service_client::LeadServiceClient;
use partner_api::customers::v1::opportunity_service_client::OpportunityServiceClient;
use partner_api::events::v1::event_service_client::EventServiceClient;
use partner_api::events::v1::webhook_service_client::WebhookServiceClient;
use partner_api::iam::v1 as iam;
use partner_api::iam::v1::access_key_service_client::AccessKeyServiceClient;
use partner_api::iam::v1::auth_service_client::AuthServiceClient;
use partner_api::iam::v1::federation_service_client::FederationServiceClient;
use partner_api::iam::v1::signing_key_service_client::SigningKeyServiceClient;
use partner_api::pricing::v1::catalog_service_client::CatalogServiceClient;
use partner_api::pricing::v1::discount_service_client::DiscountServiceClient;
use partner_api::pricing::v1::offer_link_service_client::OfferLinkServiceClient;
use partner_api::pricing::v1::quote_service_client::QuoteServiceClient;
use partner_api::pricing::v1::rating_service_client::RatingServiceClient;
use partner_api::pricing::v1::solution_service_client::SolutionServiceClient;
use partner_kernel::clock::{SharedClock, SystemClock, TestClock};
use partner_server::config::{Config, LogFormat, Secret};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

/// Password of the bootstrap operator `admin` in every test server.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// Password given to every partner master and user the helpers create.
pub const USER_PASSWORD: &str = "user-password-1";
/// The password of customers made by [`TestServer::customer_with_password`].
pub const CUSTOMER_PASSWORD: &str = "customer-password-1";
/// The password a customer sets itself (see [`TestServer::free_customer`]).
pub const OWN_PASSWORD: &str = "the-customers-own-1";

/// A database for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// URL the server connects to.
    pub url: String,
    /// Removes the database when the last clone is dropped.
    _cleanup: std::sync::Arc<Cleanup>,
}

/// What to remove when a test's database is no longer used.
#[derive(Debug)]
enum Cleanup {
    /// The directory of an SQLite file.
    Dir(PathBuf),
    /// A PostgreSQL database, dropped through the server at `base`.
    Postgres { base: String, name: String },
    /// Another process's database: it removes it.
    Borrowed,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Borrowed => {}
            Cleanup::Postgres { base, name } => {
                // Drop cannot await; a thread with its own runtime can. FORCE ends
                // the connections a stopped test server may still hold.
                let (base, sql) = (
                    base.clone(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
                let dropped = std::thread::spawn(move || {
                    use sea_orm::ConnectionTrait;
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = sea_orm::Database::connect(&base).await {
                            let _ = admin.execute_unprepared(&sql).await;
                            let _ = admin.close().await;
                        }
                    });
                });
                let _ = dropped.join();
            }
        }
    }
}

impl TestDb {
    /// A new database holding the current schema and no rows, copied from a
    /// migrated template (see [`template`]) rather than migrated anew.
    pub async fn fresh() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => Self::fresh_postgres(&base).await,
            _ => Self::fresh_sqlite().await,
        }
    }

    /// The database at `url`, made (and removed) by another process.
    pub fn borrowed(url: String) -> Self {
        Self {
            url,
            _cleanup: std::sync::Arc::new(Cleanup::Borrowed),
        }
    }

    async fn fresh_sqlite() -> Self {
        let dir =
            std::env::temp_dir().join(format!("partner-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
        let file = dir.join("partner.db");
        std::fs::copy(template::sqlite().await, &file)
            .unwrap_or_else(|e| panic!("copy the template database: {e}"));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        Self {
            url,
            _cleanup: std::sync::Arc::new(Cleanup::Dir(dir)),
        }
    }

    async fn fresh_postgres(base: &str) -> Self {
        use sea_orm::ConnectionTrait;
        let template = template::postgres(base).await;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(base)
            .await
            .unwrap_or_else(|e| panic!("connect {base}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let _ = admin.close().await;
        Self {
            url: template::database_url(base, &name),
            _cleanup: std::sync::Arc::new(Cleanup::Postgres {
                base: base.to_owned(),
                name,
            }),
        }
    }

    /// A direct connection, for tests that inspect or tamper with stored rows.
    pub async fn connect(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"))
    }
}

/// Migrated template databases, one per schema (the migrations' sources are
/// fingerprinted at build time). Copying one costs milliseconds; migrating a
/// database costs a second on PostgreSQL, for every test.
mod template {
    use partner_migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    use tokio::sync::OnceCell;

    const FINGERPRINT: &str = env!("PARTNER_SCHEMA_FINGERPRINT");

    /// A migrated SQLite file, built once per schema and shared by every
    /// test process (it is only ever read).
    pub async fn sqlite() -> &'static std::path::Path {
        static TEMPLATE: OnceCell<std::path::PathBuf> = OnceCell::const_new();
        TEMPLATE
            .get_or_init(|| async {
                let dir = std::env::temp_dir().join("partner-test-templates");
                std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("template dir: {e}"));
                let path = dir.join(format!("schema-{FINGERPRINT}.db"));
                if !path.exists() {
                    // Built aside and renamed into place, so a concurrent test
                    // process never copies a half-migrated file.
                    let scratch = dir.join(format!("build-{}.db", uuid::Uuid::new_v4().simple()));
                    let url = format!("sqlite://{}?mode=rwc", scratch.display());
                    let conn = sea_orm::Database::connect(&url)
                        .await
                        .unwrap_or_else(|e| panic!("template: {e}"));
                    Migrator::up(&conn, None)
                        .await
                        .unwrap_or_else(|e| panic!("migrate the template: {e}"));
                    // One self-contained file: no write-ahead log beside it.
                    conn.execute_unprepared("PRAGMA journal_mode=DELETE")
                        .await
                        .unwrap_or_else(|e| panic!("template journal: {e}"));
                    let _ = conn.close().await;
                    std::fs::rename(&scratch, &path)
                        .unwrap_or_else(|e| panic!("publish the template: {e}"));
                }
                path
            })
            .await
    }

    /// The name of a migrated PostgreSQL template database on the server of
    /// `base`, created once per schema under an advisory lock (test processes
    /// may run side by side). Templates of other schemas, and scratch copies a
    /// killed process left, are dropped then.
    pub async fn postgres(base: &str) -> &'static str {
        static TEMPLATE: OnceCell<String> = OnceCell::const_new();
        TEMPLATE
            .get_or_init(|| async { create_postgres(base).await })
            .await
    }

    /// `base` with its database name replaced by `name`.
    pub fn database_url(base: &str, name: &str) -> String {
        let (prefix, _) = base.rsplit_once('/').unwrap_or((base, ""));
        format!("{prefix}/{name}")
    }

    async fn create_postgres(base: &str) -> String {
        use sea_orm::sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Row, raw_sql};
        let name = format!("t_template_{FINGERPRINT}");
        // One connection, not a pool: the advisory lock belongs to a session.
        let mut admin = PgConnection::connect(base)
            .await
            .unwrap_or_else(|e| panic!("connect {base}: {e}"));
        admin
            .execute("SELECT pg_advisory_lock(7260151)")
            .await
            .unwrap_or_else(|e| panic!("lock: {e}"));
        let existing = admin
            .fetch_all(
                "SELECT datname FROM pg_database \
                 WHERE datname LIKE 't\\_template\\_%' OR datname LIKE 't\\_build\\_%'",
            )
            .await
            .unwrap_or_else(|e| panic!("list templates: {e}"));
        let mut found = false;
        for row in existing {
            let other: String = row.get(0);
            if other == name {
                found = true;
            } else {
                let _ = admin
                    .execute(raw_sql(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {other} WITH (FORCE)"
                    ))))
                    .await;
            }
        }
        if !found {
            let scratch = format!("t_build_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute(raw_sql(AssertSqlSafe(format!("CREATE DATABASE {scratch}"))))
                .await
                .unwrap_or_else(|e| panic!("create the template: {e}"));
            let conn = sea_orm::Database::connect(&database_url(base, &scratch))
                .await
                .unwrap_or_else(|e| panic!("connect the template: {e}"));
            Migrator::up(&conn, None)
                .await
                .unwrap_or_else(|e| panic!("migrate the template: {e}"));
            let _ = conn.close().await;
            // Renamed only once complete, so nobody copies a half-migrated one.
            admin
                .execute(raw_sql(AssertSqlSafe(format!(
                    "ALTER DATABASE {scratch} RENAME TO {name}"
                ))))
                .await
                .unwrap_or_else(|e| panic!("publish the template: {e}"));
        }
        admin
            .execute("SELECT pg_advisory_unlock(7260151)")
            .await
            .unwrap_or_else(|e| panic!("unlock: {e}"));
        let _ = admin.close().await;
        name
    }
}

/// The configuration tests run with: cheap Argon2 (thousands of registrations
/// must stay fast; `bench` measures the production parameters) and a fixed
/// operator password.
pub fn test_config(db: &TestDb) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
        database_url: Some(db.url.clone()),
        log_format: LogFormat::Pretty,
        bootstrap_password: Some(Secret(ADMIN_PASSWORD.to_owned())),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        hashing_slots: 0,
        hashing_queue: 64,
        master_key: None,
        master_key_file: None,
        db_max_connections: 0,
        saml_concurrency: 0,
        access_token_ttl_secs: 3600,
        invite_link_base: "https://console.test".to_owned(),
        public_url: "http://localhost:50051".to_owned(),
        // The tests' webhook receivers listen on loopback.
        webhook_allow_private: true,
        request_timeout_secs: 30,
        shutdown_grace_ms: 0,
        order_payment_minutes: 1440,
        billing_utc_offset_hours: 8,
        arrears_grace_hours: 24,
        idempotency_retention_hours: 168,
        failing_specs: Vec::new(),
        sandbox: false,
    }
}

/// Logs to the test's output with `TEST_LOG=1`, filtered by `RUST_LOG`
/// (`info` by default; `sqlx::query=debug` shows every statement).
fn init_logging() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
            )
            .with_test_writer()
            .try_init();
    }
}

/// A running server.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its database.
    pub db: TestDb,
    /// A channel to it.
    pub channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), partner_server::StartError>>>,
}

impl TestServer {
    /// A server over a fresh database.
    pub async fn start() -> Self {
        let db = TestDb::fresh().await;
        Self::start_on(db.clone(), |_| {}).await
    }

    /// A server over a fresh database whose time is `clock`: a test moves it
    /// forward instead of sleeping (lockouts, expiry).
    pub async fn start_with_clock(clock: Arc<TestClock>) -> Self {
        Self::start_with_clock_and(clock, |_| {}).await
    }

    /// A server on a fresh database, reading `clock`, with `tweak` applied
    /// to the test configuration.
    pub async fn start_with_clock_and(
        clock: Arc<TestClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let db = TestDb::fresh().await;
        Self::start_clocked(db, tweak, clock).await
    }

    /// A server over `db` (another server's too: two replicas), reading
    /// `clock`, with `tweak` applied to the test configuration.
    pub async fn start_clocked_on(
        db: TestDb,
        clock: Arc<TestClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_clocked(db, tweak, clock).await
    }

    /// A server over `db`, with `tweak` applied to the test configuration.
    pub async fn start_on(db: TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_clocked(db, tweak, Arc::new(SystemClock)).await
    }

    async fn start_clocked(
        db: TestDb,
        tweak: impl FnOnce(&mut Config),
        clock: SharedClock,
    ) -> Self {
        init_logging();
        let mut config = test_config(&db);
        tweak(&mut config);
        let grace = Duration::from_millis(u64::from(config.shutdown_grace_ms));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(partner_server::run_with_clock(
            config,
            clock,
            listener,
            grace,
            async {
                let _ = rx.await;
            },
        ));
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap_or_else(|e| panic!("{e}"))
            .connect_lazy();
        let server = Self {
            addr,
            db,
            channel,
            shutdown: Some(tx),
            handle: Some(handle),
        };
        server.wait_serving().await;
        server
    }

    /// A server another process runs at `addr` over `db`: this one only
    /// calls it (stopping it does nothing).
    pub fn remote(addr: SocketAddr, db: TestDb) -> Self {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap_or_else(|e| panic!("{e}"))
            .connect_lazy();
        Self {
            addr,
            db,
            channel,
            shutdown: None,
            handle: None,
        }
    }

    /// Waits until the health service answers SERVING.
    pub async fn wait_serving(&self) {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let mut health = HealthClient::new(self.channel.clone());
        for _ in 0..200 {
            match health
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
            {
                Ok(r) if r.get_ref().status == ServingStatus::Serving as i32 => return,
                Ok(_) | Err(_) => {
                    if self.handle.as_ref().is_some_and(JoinHandle::is_finished) {
                        panic!("server exited during start-up");
                    }
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }
        }
        panic!("server did not become SERVING");
    }

    /// Triggers graceful shutdown and waits for the server to finish.
    pub async fn stop(mut self) -> Result<(), partner_server::StartError> {
        self.begin_stop();
        self.join().await
    }

    /// Triggers graceful shutdown without waiting.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for the server task to end.
    pub async fn join(&mut self) -> Result<(), partner_server::StartError> {
        match self.handle.take() {
            Some(h) => h.await.unwrap_or_else(|e| panic!("server task: {e}")),
            None => Ok(()),
        }
    }

    /// Stops this server and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        let db = self.db.clone();
        self.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
        Self::start_on(db, |_| {}).await
    }

    /// An unauthenticated `AuthService` client.
    pub fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
    }

    /// Logs in and returns the token pair.
    pub async fn login_pair(
        &self,
        username: &str,
        password: &str,
    ) -> Result<iam::TokenPair, Status> {
        let resp = self
            .auth()
            .login(iam::LoginRequest {
                username: username.into(),
                password: password.into(),
            })
            .await?;
        resp.into_inner()
            .tokens
            .ok_or_else(|| Status::internal("no tokens"))
    }

    /// Logs in and returns the access token, panicking on failure.
    pub async fn login(&self, username: &str, password: &str) -> String {
        self.login_pair(username, password)
            .await
            .unwrap_or_else(|e| panic!("login {username}: {e:?}"))
            .access_token
    }

    /// Rows in `table`, read straight from the database.
    pub async fn rows(&self, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = self.db.connect().await;
        let backend = conn.get_database_backend();
        let row = conn
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap_or_else(|e| panic!("count {table}: {e}"))
            .unwrap_or_else(|| panic!("no count"));
        let n: i64 = row.try_get("", "n").unwrap_or_else(|e| panic!("{e}"));
        let _ = conn.close().await;
        n
    }

    /// The operator's access token.
    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// `PartnerService` as the holder of `token`.
    pub fn partners(
        &self,
        token: &str,
    ) -> PartnerServiceClient<InterceptedService<Channel, Bearer>> {
        PartnerServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `UserService` as the holder of `token`.
    pub fn users(&self, token: &str) -> UserServiceClient<InterceptedService<Channel, Bearer>> {
        UserServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `AuditService` as the holder of `token`.
    pub fn audit(&self, token: &str) -> AuditServiceClient<InterceptedService<Channel, Bearer>> {
        AuditServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `RoleService` as the holder of `token`.
    pub fn roles(&self, token: &str) -> RoleServiceClient<InterceptedService<Channel, Bearer>> {
        RoleServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// Calls `method` (`package.Service/Method`) as the holder of `token` with
    /// an empty request message, whatever the method's request type: enough to
    /// see what the access layer, which runs before decoding, decides.
    pub async fn call_empty(&self, method: &str, token: &str) -> Result<(), Status> {
        let path: http::uri::PathAndQuery = format!("/{method}")
            .parse()
            .map_err(|e| Status::internal(format!("bad method {method}: {e}")))?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let mut req = Request::new(());
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::internal("token is not ASCII"))?;
        req.metadata_mut().insert("authorization", bearer);
        let codec = tonic_prost::ProstCodec::<(), ()>::default();
        // As a server stream, so that streaming methods (which may never end)
        // answer too: a refusal comes at once; otherwise the first message,
        // the end, or a moment of silence (a watch) means the call passed.
        let mut stream = grpc.server_streaming(req, path, codec).await?.into_inner();
        match tokio::time::timeout(Duration::from_millis(300), stream.message()).await {
            Ok(Err(status)) => Err(status),
            Ok(Ok(_)) | Err(_) => Ok(()),
        }
    }

    /// A sub-user of the master holding `master_token`, holding `role_id`;
    /// returns it and its token.
    pub async fn user_with_role(
        &self,
        master_token: &str,
        username: &str,
        role_id: &str,
    ) -> (accounts::User, String) {
        let (user, token) = self.create_user(master_token, username).await;
        ok(self
            .roles(master_token)
            .assign_role(accounts::AssignRoleRequest {
                request_id: new_request_id(),
                role_id: role_id.into(),
                user_id: user.user_id.clone(),
            })
            .await);
        (user, token)
    }

    /// `ProgramService` as the holder of `token`.
    pub fn programs(
        &self,
        token: &str,
    ) -> ProgramServiceClient<InterceptedService<Channel, Bearer>> {
        ProgramServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `ProgramService` without a token (for the public sign-up).
    pub fn programs_public(&self) -> ProgramServiceClient<Channel> {
        ProgramServiceClient::new(self.channel.clone())
    }

    /// `ResellerService` as the holder of `token`.
    pub fn resellers(
        &self,
        token: &str,
    ) -> ResellerServiceClient<InterceptedService<Channel, Bearer>> {
        ResellerServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `SigningKeyService` as the holder of `token`.
    pub fn signing_keys(
        &self,
        token: &str,
    ) -> SigningKeyServiceClient<InterceptedService<Channel, Bearer>> {
        SigningKeyServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `AccessKeyService` as the holder of `token`.
    pub fn access_keys(
        &self,
        token: &str,
    ) -> AccessKeyServiceClient<InterceptedService<Channel, Bearer>> {
        AccessKeyServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `CustomerService` as the holder of `token`.
    pub fn customers(
        &self,
        token: &str,
    ) -> CustomerServiceClient<InterceptedService<Channel, Bearer>> {
        CustomerServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `LeadService` as the holder of `token`.
    pub fn leads(&self, token: &str) -> LeadServiceClient<InterceptedService<Channel, Bearer>> {
        LeadServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `OpportunityService` as the holder of `token`.
    pub fn opportunities(
        &self,
        token: &str,
    ) -> OpportunityServiceClient<InterceptedService<Channel, Bearer>> {
        OpportunityServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `EventService` as the holder of `token`.
    pub fn events(&self, token: &str) -> EventServiceClient<InterceptedService<Channel, Bearer>> {
        EventServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn webhooks(
        &self,
        token: &str,
    ) -> WebhookServiceClient<InterceptedService<Channel, Bearer>> {
        WebhookServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn catalog(
        &self,
        token: &str,
    ) -> CatalogServiceClient<InterceptedService<Channel, Bearer>> {
        CatalogServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn rating(&self, token: &str) -> RatingServiceClient<InterceptedService<Channel, Bearer>> {
        RatingServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn offer_links(
        &self,
        token: &str,
    ) -> OfferLinkServiceClient<InterceptedService<Channel, Bearer>> {
        OfferLinkServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// `OfferLinkService` without a token (resolving a link is public).
    pub fn offer_links_anonymous(&self) -> OfferLinkServiceClient<Channel> {
        OfferLinkServiceClient::new(self.channel.clone())
    }

    pub fn funds(&self, token: &str) -> FundsServiceClient<InterceptedService<Channel, Bearer>> {
        FundsServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn payment_agreements(
        &self,
        token: &str,
    ) -> PaymentAgreementServiceClient<InterceptedService<Channel, Bearer>> {
        PaymentAgreementServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn resources(
        &self,
        token: &str,
    ) -> ResourceServiceClient<InterceptedService<Channel, Bearer>> {
        ResourceServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn orders(&self, token: &str) -> OrderServiceClient<InterceptedService<Channel, Bearer>> {
        OrderServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn coupons(&self, token: &str) -> CouponServiceClient<InterceptedService<Channel, Bearer>> {
        CouponServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn ledger(&self, token: &str) -> LedgerServiceClient<InterceptedService<Channel, Bearer>> {
        LedgerServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn sandbox(
        &self,
        token: &str,
    ) -> SandboxServiceClient<InterceptedService<Channel, Bearer>> {
        SandboxServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn usage(&self, token: &str) -> UsageServiceClient<InterceptedService<Channel, Bearer>> {
        UsageServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn bills(&self, token: &str) -> BillServiceClient<InterceptedService<Channel, Bearer>> {
        BillServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// Credits `minor` fen to the partner's cash as the operator; returns
    /// the partner's cash balance after it, in fen.
    pub async fn top_up(&self, admin: &str, partner_id: &str, minor: i64) -> i64 {
        let r = ok(self
            .funds(admin)
            .top_up_partner(billing::TopUpPartnerRequest {
                request_id: new_request_id(),
                partner_id: partner_id.into(),
                amount: Some(cny(minor)),
                reason: "bank transfer".into(),
            })
            .await);
        minor_of(r.balances[0].balance.as_ref())
    }

    /// The operator's reconciliation must find nothing wrong (RELIABILITY
    /// M1, M2, M3): every money test ends with it.
    pub async fn assert_ledger_clean(&self) -> billing::CheckLedgerResponse {
        let admin = self.admin_token().await;
        let report = ok(self
            .ledger(&admin)
            .check_ledger(billing::CheckLedgerRequest {})
            .await);
        assert!(report.violations.is_empty(), "{:#?}", report.violations);
        report
    }

    /// Runs one SQL statement straight on the database.
    pub async fn execute_sql(&self, sql: &str) -> Result<u64, String> {
        use sea_orm::ConnectionTrait;
        let conn = self.db.connect().await;
        conn.execute_unprepared(sql)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    }

    pub fn solutions(
        &self,
        token: &str,
    ) -> SolutionServiceClient<InterceptedService<Channel, Bearer>> {
        SolutionServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn quotes(&self, token: &str) -> QuoteServiceClient<InterceptedService<Channel, Bearer>> {
        QuoteServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    pub fn discounts(
        &self,
        token: &str,
    ) -> DiscountServiceClient<InterceptedService<Channel, Bearer>> {
        DiscountServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// Creates a customer for `xaccount_id` on the first sales platform of
    /// `partner`, as the holder of `token`; returns it.
    pub async fn create_customer(
        &self,
        token: &str,
        partner: &accounts::Partner,
        xaccount_id: &str,
    ) -> customers::Customer {
        self.created_customer(token, create_customer_request(partner, xaccount_id))
            .await
    }

    /// Sends `request` as the holder of `token`; returns the customer,
    /// panicking on failure.
    pub async fn created_customer(
        &self,
        token: &str,
        request: customers::CreateCustomerRequest,
    ) -> customers::Customer {
        let xaccount_id = request.xaccount_id.clone();
        self.customers(token)
            .create_customer(request)
            .await
            .unwrap_or_else(|e| panic!("create customer {xaccount_id}: {e:?}"))
            .into_inner()
            .customer
            .unwrap_or_else(|| panic!("no customer"))
    }

    /// A customer of `partner` created (as the holder of `token`) with
    /// [`CUSTOMER_PASSWORD`], so that it signs in itself.
    pub async fn customer_with_password(
        &self,
        token: &str,
        partner: &accounts::Partner,
        xaccount_id: &str,
    ) -> customers::Customer {
        let request = customers::CreateCustomerRequest {
            password: CUSTOMER_PASSWORD.into(),
            ..create_customer_request(partner, xaccount_id)
        };
        self.created_customer(token, request).await
    }

    /// A customer of nobody (created by `partner`, then let go) that signs in
    /// with [`OWN_PASSWORD`], set by itself (the partner's one ends with the
    /// association); returns its id and token.
    pub async fn free_customer(
        &self,
        master: &str,
        partner: &accounts::Partner,
        xaccount_id: &str,
    ) -> (String, String) {
        let c = self
            .customer_with_password(master, partner, xaccount_id)
            .await;
        ok(self
            .customers(&self.customer_token(&c.account_name).await)
            .change_own_password(customers::ChangeOwnPasswordRequest {
                request_id: new_request_id(),
                current_password: CUSTOMER_PASSWORD.into(),
                new_password: OWN_PASSWORD.into(),
            })
            .await);
        ok(self
            .customers(master)
            .disassociate_customer(customers::DisassociateCustomerRequest {
                request_id: new_request_id(),
                customer_id: c.customer_id.clone(),
                reason: "let go".into(),
                ..Default::default()
            })
            .await);
        let token = self
            .customer_token_with(&c.account_name, OWN_PASSWORD)
            .await;
        (c.customer_id, token)
    }

    /// Signs a customer in by `login` with [`CUSTOMER_PASSWORD`]; returns
    /// its access token, panicking on failure.
    pub async fn customer_token(&self, login: &str) -> String {
        self.customer_token_with(login, CUSTOMER_PASSWORD).await
    }

    /// Signs a customer in by `login` with `password`; returns its access
    /// token, panicking on failure.
    pub async fn customer_token_with(&self, login: &str, password: &str) -> String {
        self.auth()
            .customer_login(iam::CustomerLoginRequest {
                login: login.into(),
                password: password.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("customer login {login}: {e:?}"))
            .into_inner()
            .tokens
            .unwrap_or_else(|| panic!("no tokens"))
            .access_token
    }

    /// `FederationService` as the holder of `token` (empty: no token).
    pub fn federation(
        &self,
        token: &str,
    ) -> FederationServiceClient<InterceptedService<Channel, Bearer>> {
        FederationServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// Registers the fixture IdP (`fixtures/saml/idp_metadata.xml`) on the
    /// first sales platform of `partner`, as the holder of `token`.
    pub async fn register_fixture_idp(
        &self,
        token: &str,
        partner: &accounts::Partner,
    ) -> iam::IdentityProvider {
        self.federation(token)
            .register_identity_provider(register_idp_request(partner, "idp_metadata.xml"))
            .await
            .unwrap_or_else(|e| panic!("register idp: {e:?}"))
            .into_inner()
            .identity_provider
            .unwrap_or_else(|| panic!("no identity provider"))
    }

    /// `AuthService` as the holder of `token`.
    pub fn auth_as(&self, token: &str) -> AuthServiceClient<InterceptedService<Channel, Bearer>> {
        AuthServiceClient::with_interceptor(self.channel.clone(), Bearer::new(token))
    }

    /// Registers a partner (as the operator) with master `username` and
    /// [`USER_PASSWORD`]; returns the partner and the master's token.
    pub async fn register_partner(
        &self,
        admin: &str,
        username: &str,
    ) -> (accounts::Partner, String) {
        let resp = self
            .partners(admin)
            .register_partner(register_request(username))
            .await
            .unwrap_or_else(|e| panic!("register {username}: {e:?}"))
            .into_inner();
        let partner = resp.partner.unwrap_or_else(|| panic!("no partner"));
        let token = self.login(username, USER_PASSWORD).await;
        (partner, token)
    }

    /// Creates a sub-user as the master holding `master_token`; returns it and its token.
    pub async fn create_user(
        &self,
        master_token: &str,
        username: &str,
    ) -> (accounts::User, String) {
        let user = self
            .users(master_token)
            .create_user(create_user_request(username))
            .await
            .unwrap_or_else(|e| panic!("create user {username}: {e:?}"))
            .into_inner()
            .user
            .unwrap_or_else(|| panic!("no user"));
        let token = self.login(username, USER_PASSWORD).await;
        (user, token)
    }
}

/// Inviting and enrolling, for the programs and resellers suites.
impl TestServer {
    /// Invites to `program` as the holder of `token` (`partner_id` empty for
    /// a new partner); returns the invitation and its token.
    pub async fn invite(
        &self,
        token: &str,
        program: accounts::Program,
        partner_id: &str,
    ) -> Result<(accounts::Invitation, String), Status> {
        let resp = self
            .programs(token)
            .create_invitation(accounts::CreateInvitationRequest {
                request_id: new_request_id(),
                email: "invitee@partners.example".into(),
                program: program as i32,
                expire_time: None,
                ttl: None,
                partner_id: partner_id.into(),
            })
            .await?
            .into_inner();
        let invitation = resp
            .invitation
            .ok_or_else(|| Status::internal("no invitation"))?;
        Ok((invitation, resp.token))
    }

    /// Accepts `invitation_token` as the holder of `token`.
    pub async fn accept(
        &self,
        token: &str,
        invitation_token: &str,
    ) -> Result<accounts::AcceptInvitationResponse, Status> {
        self.programs(token)
            .accept_invitation(accept_request(invitation_token))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Registers partner `username` and enrols it in `program` through an
    /// operator invitation; returns the partner (with the program) and the
    /// master's token.
    pub async fn enrolled_partner(
        &self,
        admin: &str,
        username: &str,
        program: accounts::Program,
    ) -> (accounts::Partner, String) {
        let (partner, master) = self.register_partner(admin, username).await;
        let (_, invitation) = self
            .invite(admin, program, &partner.partner_id)
            .await
            .unwrap_or_else(|e| panic!("invite {username}: {e:?}"));
        let accepted = self
            .accept(&master, &invitation)
            .await
            .unwrap_or_else(|e| panic!("accept {username}: {e:?}"));
        let partner = accepted.partner.unwrap_or_else(|| panic!("no partner"));
        (partner, master)
    }

    /// Makes `reseller` (registered here) a reseller of the distributor whose
    /// master holds `distributor`; returns the reseller and its master's token.
    pub async fn linked_reseller(
        &self,
        admin: &str,
        distributor: &str,
        username: &str,
    ) -> (accounts::Partner, String) {
        let (partner, master) = self.register_partner(admin, username).await;
        let (_, invitation) = self
            .invite(
                distributor,
                accounts::Program::Reseller,
                &partner.partner_id,
            )
            .await
            .unwrap_or_else(|e| panic!("invite reseller {username}: {e:?}"));
        let accepted = self
            .accept(&master, &invitation)
            .await
            .unwrap_or_else(|e| panic!("accept reseller {username}: {e:?}"));
        let partner = accepted.partner.unwrap_or_else(|| panic!("no partner"));
        (partner, master)
    }
}

/// A SAML fixture (`crates/federation/fixtures/saml/{name}`).
pub fn saml_fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/federation/fixtures/saml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A SAML fixture response as the HTTP-POST binding carries it (base64).
pub fn saml_response(name: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(saml_fixture(&format!("{name}.xml")))
}

/// The instant the SAML fixtures were issued at: servers that verify them
/// run on a clock set there.
pub fn saml_fixture_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap_or_else(|e| panic!("{e}"))
        .with_timezone(&chrono::Utc)
}

/// A request registering the IdP of fixture `metadata` on `partner`'s first
/// sales platform (xaccount id in the `xaccount_id` attribute, REFUSE policy).
pub fn register_idp_request(
    partner: &accounts::Partner,
    metadata: &str,
) -> iam::RegisterIdentityProviderRequest {
    iam::RegisterIdentityProviderRequest {
        request_id: new_request_id(),
        xaccount_type: partner
            .sales_platform_ids
            .first()
            .cloned()
            .unwrap_or_default(),
        metadata_xml: saml_fixture(metadata),
        first_login_policy: iam::FirstLoginPolicy::Refuse as i32,
        ..Default::default()
    }
}

/// A request creating a customer for `xaccount_id` on `partner`'s first
/// sales platform, with an email derived from the id and no password.
pub fn create_customer_request(
    partner: &accounts::Partner,
    xaccount_id: &str,
) -> customers::CreateCustomerRequest {
    let platform = partner
        .sales_platform_ids
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("partner without a sales platform"));
    let local: String = xaccount_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    customers::CreateCustomerRequest {
        request_id: new_request_id(),
        xaccount_type: platform,
        xaccount_id: xaccount_id.into(),
        email: format!("{local}.{}@customers.example", &partner.partner_id[26..]),
        country: "CN".into(),
        ..Default::default()
    }
}

/// Moves an invitation's expiry into the past by writing its row: the server
/// runs on the system clock, and waiting out a minute is no test.
pub async fn expire_invitation(db: &TestDb, invitation_id: &str) {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let update = Query::update()
        .table(Alias::new("invitations"))
        .value(Alias::new("expire_at"), past)
        .and_where(Expr::col(Alias::new("id")).eq(invitation_id))
        .to_owned();
    let conn = db.connect().await;
    let done = conn
        .execute(&update)
        .await
        .unwrap_or_else(|e| panic!("expire invitation: {e}"));
    assert_eq!(done.rows_affected(), 1, "no invitation {invitation_id}");
}

/// An acceptance of `token` with valid business information and the agreement accepted.
pub fn accept_request(token: &str) -> accounts::AcceptInvitationRequest {
    accounts::AcceptInvitationRequest {
        request_id: new_request_id(),
        token: token.into(),
        business_info: Some(business_info()),
        agreement_accepted: true,
    }
}

/// Valid business information.
pub fn business_info() -> accounts::BusinessInfo {
    accounts::BusinessInfo {
        company_name: "Example Cloud Co., Ltd.".into(),
        registration_number: "91310000MA1FL0000X".into(),
        address: "1 Example Road".into(),
        contact_name: "Li Lei".into(),
        contact_phone: "+86 21 5555 0000".into(),
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.begin_stop();
    }
}

/// A registration request for master `username`, with a fresh request id.
pub fn register_request(username: &str) -> accounts::RegisterPartnerRequest {
    accounts::RegisterPartnerRequest {
        request_id: new_request_id(),
        display_name: format!("Partner {username}"),
        master_username: username.into(),
        master_password: USER_PASSWORD.into(),
        contact_email: format!("{username}@partners.example"),
    }
}

/// A request creating sub-user `username` with [`USER_PASSWORD`].
pub fn create_user_request(username: &str) -> accounts::CreateUserRequest {
    accounts::CreateUserRequest {
        request_id: new_request_id(),
        username: username.into(),
        password: USER_PASSWORD.into(),
        display_name: String::new(),
        email: String::new(),
        reseller_id: String::new(),
    }
}

/// A sign-up with invitation `token` for master `username`, with valid
/// business information and the agreement accepted.
pub fn sign_up_request(token: &str, username: &str) -> accounts::SignUpWithInvitationRequest {
    accounts::SignUpWithInvitationRequest {
        request_id: new_request_id(),
        token: token.into(),
        business_info: Some(business_info()),
        agreement_accepted: true,
        master_username: username.into(),
        master_password: USER_PASSWORD.into(),
        contact_email: format!("{username}@partners.example"),
    }
}

/// A fresh idempotency key.
/// `minor` fen in CNY, as sent on the wire.
pub fn cny(minor: i64) -> partner_api::r#type::v1::Money {
    partner_api::r#type::v1::Money {
        currency_code: "CNY".into(),
        units: minor / 100,
        nanos: i32::try_from((minor % 100) * 10_000_000).unwrap_or_else(|e| panic!("{e}")),
    }
}

/// An amount read back, in fen (CNY has two decimals).
pub fn minor_of(m: Option<&partner_api::r#type::v1::Money>) -> i64 {
    let m = m.unwrap_or_else(|| panic!("no amount"));
    assert_eq!(m.currency_code, "CNY");
    m.units * 100 + i64::from(m.nanos / 10_000_000)
}

pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    /// An interceptor for `token`.
    pub fn new(token: &str) -> Self {
        Self(
            format!("Bearer {token}")
                .parse()
                .unwrap_or_else(|_| MetadataValue::from_static("Bearer invalid")),
        )
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// Asserts `result` failed with `code` and ErrorInfo `reason`; returns the status.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = match result {
        Ok(v) => panic!("expected {code:?}/{reason}, got Ok({v:?})"),
        Err(s) => s,
    };
    assert_eq!(status.code(), code, "{status:?}");
    let info = status.get_error_details().error_info().cloned();
    let got = info.map(|i| i.reason).unwrap_or_default();
    assert_eq!(got, reason, "{status:?}");
    status
}

/// The fields named in a status's BadRequest violations.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// Every service of the platform (`package.Service`) with its method names,
/// from the descriptors compiled into the API crate, sorted by service.
fn partner_services() -> Vec<(String, Vec<String>)> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(partner_api::FILE_DESCRIPTOR_SET)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for file in set
        .file
        .iter()
        .filter(|f| f.package().starts_with("partner."))
    {
        for service in &file.service {
            let methods = service.method.iter().map(|m| m.name().to_owned());
            out.push((
                format!("{}.{}", file.package(), service.name()),
                methods.collect(),
            ));
        }
    }
    out.sort();
    out
}

/// Every service of the platform (`package.Service`), sorted.
pub fn every_service() -> Vec<String> {
    partner_services().into_iter().map(|(s, _)| s).collect()
}

/// Every RPC of the platform (`package.Service/Method`), sorted.
pub fn every_rpc() -> Vec<String> {
    let mut out: Vec<String> = partner_services()
        .into_iter()
        .flat_map(|(service, methods)| methods.into_iter().map(move |m| format!("{service}/{m}")))
        .collect();
    out.sort();
    out
}

/// The platform's access table, as the server assembles it.
pub fn access_table() -> partner_kernel::access::AccessTable {
    partner_server::access_table().unwrap_or_else(|e| panic!("access table: {e}"))
}

/// One ErrorInfo metadata value of a refusal.
pub fn metadata_of(status: &Status, key: &str) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get(key).cloned())
}

/// The ErrorInfo reason of a status; empty without one.
pub fn reason_of(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

/// Unwraps a response or panics with the status.
#[track_caller]
pub fn ok<T>(result: Result<tonic::Response<T>, Status>) -> T {
    match result {
        Ok(r) => r.into_inner(),
        Err(s) => panic!("call failed: {s:?}"),
    }
}
