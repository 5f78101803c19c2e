//! Wiring: the database, migrations, secrets, the domain services, and the
//! first-start bootstrap of the operator and the signing key.

use std::sync::Arc;

use base64::Engine;
use partner_accounts::grpc::AccountsApi;
use partner_accounts::password::Passwords;
use partner_accounts::{Accounts, HashingLimits};
use partner_billing::Billing;
use partner_billing::grpc::BillingApi;
use partner_customers::Customers;
use partner_customers::grpc::CustomersApi;
use partner_events::EventsApi;
use partner_events::webhooks::grpc::WebhooksApi;
use partner_events::webhooks::{TargetPolicy, Webhooks};
use partner_federation::grpc::FederationApi;
use partner_federation::{Federation, ServiceProvider};
use partner_gateway::grpc::IamApi;
use partner_gateway::offboarding::Credentials;
use partner_gateway::password::{Argon2Hasher, Argon2Params};
use partner_gateway::signing_keys::Keys;
use partner_gateway::signing_keys::SigningKeys;
use partner_gateway::{Gateway, TokenLifetimes};
use partner_kernel::access::AccessTable;
use partner_kernel::clock::{SharedClock, SystemClock};
use partner_kernel::db::Db;
use partner_kernel::mutation::Calls;
use partner_kernel::page::PageTokens;
use partner_kernel::secrets;
use partner_migration::{Migrator, MigratorTrait};
use partner_pricing::Pricing;
use partner_pricing::grpc::PricingApi;

use crate::config::Config;

/// Login name of the operator created on first start.
pub const BOOTSTRAP_OPERATOR: &str = "admin";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Setup(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// The platform's access table: every domain's rules and permissions.
/// Adding a domain crate adds its declaration here.
pub fn access_table() -> Result<AccessTable, String> {
    AccessTable::assemble(&[
        partner_gateway::access::ACCESS,
        partner_accounts::access::ACCESS,
        partner_customers::access::ACCESS,
        partner_events::access::ACCESS,
        partner_federation::access::ACCESS,
        partner_pricing::access::ACCESS,
        partner_billing::access::ACCESS,
    ])
}

/// Everything the transport serves.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    pub access: Arc<AccessTable>,
    pub gateway: Gateway,
    pub accounts_api: AccountsApi,
    pub iam_api: IamApi,
    pub customers_api: CustomersApi,
    pub events_api: EventsApi,
    pub federation_api: FederationApi,
    /// For the SAML HTTP routes (metadata, login, ACS).
    pub federation: Federation,
    pub webhooks_api: WebhooksApi,
    /// For the delivery worker.
    pub webhooks: Webhooks,
    pub pricing_api: PricingApi,
    /// For rereading the catalog.
    pub pricing: Pricing,
    pub billing_api: BillingApi,
    /// For the hold-expiry job.
    pub billing: Billing,
    /// The platform clock (the sandbox's, in a sandbox).
    pub clock: SharedClock,
    /// How long idempotency keys are kept.
    pub idempotency_retention: chrono::Duration,
}

/// Connects to the database and runs the migrations.
pub async fn connect_and_migrate(config: &Config) -> Result<Db, StartError> {
    let url = config.database_url();
    create_sqlite_parent(&url)?;
    let pool = (config.db_max_connections > 0).then_some(config.db_max_connections);
    let db = Db::connect_with(&url, pool).await?;
    Migrator::up(db.conn(), None).await?;
    Ok(db)
}

/// For `sqlite://some/dir/file.db?…`, creates `some/dir`.
fn create_sqlite_parent(url: &str) -> std::io::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Builds the application over a migrated database, on the system clock.
pub async fn build(config: &Config, db: Db) -> Result<App, StartError> {
    build_with_clock(config, db, Arc::new(SystemClock)).await
}

/// Builds the application on `clock`: tests pass a `TestClock` to move time
/// (token expiry, sign-in lockouts) without waiting.
pub async fn build_with_clock(
    config: &Config,
    db: Db,
    clock: SharedClock,
) -> Result<App, StartError> {
    // In a sandbox every part of the application reads the clock the
    // operator moves.
    let sandbox = config.sandbox.then(|| {
        tracing::warn!("PARTNER_SANDBOX is set: the operator may move the platform clock");
        Arc::new(partner_kernel::clock::SandboxClock::new(clock.clone()))
    });
    let setup = |e: &dyn std::fmt::Display| StartError::Setup(e.to_string());
    let clock: SharedClock = match &sandbox {
        Some(s) => {
            // Where the sandbox's time was when the server last stopped.
            let stored = partner_billing::sandbox::store::stored(db.conn())
                .await
                .map_err(|e| setup(&e))?;
            s.raise_to(stored);
            s.clone()
        }
        None => clock,
    };
    let now = clock.now();
    let access = Arc::new(access_table().map_err(|e| setup(&e))?);
    let sealer = config.sealer().map_err(|e| setup(&e))?;
    let page_key = secrets::load_or_create(&db, "page_tokens", now, &sealer)
        .await
        .map_err(|e| setup(&e))?;
    let fingerprint_key = secrets::load_or_create(&db, "request_fingerprints", now, &sealer)
        .await
        .map_err(|e| setup(&e))?;
    let request_key = secrets::load_or_create(&db, "saml_requests", now, &sealer)
        .await
        .map_err(|e| setup(&e))?;
    let params = Argon2Params {
        memory_kib: config.argon2_memory_kib,
        iterations: config.argon2_iterations,
        parallelism: 1,
    };
    let hasher = Arc::new(Argon2Hasher::new(params).map_err(|e| setup(&e))?);
    // One password check per core at a time by default: each holds 19 MiB
    // and a core for tens of ms.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let limits = HashingLimits {
        slots: match config.hashing_slots {
            0 => cores,
            n => n as usize,
        },
        queue: config.hashing_queue as usize,
    };
    let passwords = Passwords::new(hasher, limits);
    let accounts = Accounts::new(
        db.clone(),
        clock.clone(),
        passwords,
        PageTokens::new(page_key.clone()),
        access.catalog().clone(),
        Arc::new(Credentials),
    );
    bootstrap_operator(config, &accounts).await?;
    let keys = Arc::new(
        Keys::load_or_create(db.clone(), now, sealer.clone())
            .await
            .map_err(|e| setup(&e))?,
    );
    let lifetimes = TokenLifetimes {
        access: chrono::Duration::seconds(i64::from(config.access_token_ttl_secs)),
        ..TokenLifetimes::default()
    };
    let calls = Calls::new(fingerprint_key, clock.clone());
    let signing_keys = SigningKeys::new(db.clone(), keys.clone());
    let customers = Customers::new(
        db.clone(),
        clock.clone(),
        PageTokens::new(page_key.clone()),
        accounts.clone(),
    )
    .with_invite_link_base(&config.invite_link_base)
    .with_billing_zone(
        partner_kernel::clock::billing_zone(config.billing_utc_offset_hours)
            .ok_or_else(|| setup(&"PARTNER_BILLING_UTC_OFFSET_HOURS: from -12 to 14"))?,
    );
    let gateway = Gateway::new(
        accounts.clone(),
        customers.clone(),
        keys,
        clock.clone(),
        lifetimes,
        db.clone(),
    );
    let webhooks = Webhooks::new(
        db.clone(),
        clock.clone(),
        sealer.clone(),
        access.clone(),
        PageTokens::new(page_key.clone()),
        TargetPolicy {
            allow_private: config.webhook_allow_private,
        },
    );
    webhooks.seal_plain_secrets().await.map_err(|e| setup(&e))?;
    if config.webhook_allow_private {
        tracing::warn!(
            "PARTNER_WEBHOOK_ALLOW_PRIVATE is set: webhooks may reach loopback and private addresses"
        );
    }
    let federation = Federation::new(
        db.clone(),
        clock.clone(),
        customers.clone(),
        gateway.clone(),
        service_provider(&config.public_url).map_err(|e| setup(&e))?,
        request_key,
        webhooks.clone(),
    )
    .with_saml_concurrency(usize::try_from(config.saml_concurrency).unwrap_or(usize::MAX));
    federation.seal_stored_key().await.map_err(|e| setup(&e))?;
    let pricing = Pricing::load(
        db.clone(),
        clock.clone(),
        PageTokens::new(page_key.clone()),
        customers.clone(),
        accounts.clone(),
    )
    .await
    .map_err(|e| setup(&e))?
    .with_offer_link_base(&config.invite_link_base);
    let billing = Billing::new(
        db.clone(),
        clock.clone(),
        PageTokens::new(page_key.clone()),
        customers.clone(),
        accounts.clone(),
        pricing.clone(),
    )
    .with_payment_window(chrono::Duration::minutes(i64::from(
        config.order_payment_minutes,
    )))
    .with_provisioner(std::sync::Arc::new(
        partner_billing::orders::provision::BuiltIn::failing(config.failing_specs.clone()),
    ));
    let billing = billing.with_arrears_grace(chrono::Duration::hours(i64::from(
        config.arrears_grace_hours,
    )));
    let billing = match sandbox {
        Some(clock) => {
            billing.with_sandbox(Arc::new(partner_billing::sandbox::Sandbox::new(clock)))
        }
        None => billing,
    };
    // A customer leaving its partner returns the partner's funds in the
    // same transaction.
    customers
        .leaving()
        .register(Arc::new(billing.clone()))
        .map_err(|e| setup(&e))?;
    // A signed-in customer's current password is checked under its sign-in
    // throttle.
    customers
        .password_guard()
        .register(Arc::new(
            partner_gateway::signin::current_password::CustomerPasswordGuard(gateway.clone()),
        ))
        .map_err(|e| setup(&e))?;
    let access_keys = gateway.access_keys(PageTokens::new(page_key));
    let events_api = EventsApi::new(db.clone(), access.clone());
    Ok(App {
        db,
        access,
        customers_api: CustomersApi::new(customers, calls.clone()),
        events_api,
        federation_api: FederationApi::new(federation.clone(), calls.clone()),
        federation,
        webhooks_api: WebhooksApi::new(webhooks.clone(), calls.clone()),
        webhooks,
        pricing_api: PricingApi::new(pricing.clone(), calls.clone()),
        pricing,
        billing_api: BillingApi::new(billing.clone(), calls.clone()),
        billing,
        accounts_api: AccountsApi::new(accounts, calls.clone()),
        iam_api: IamApi::new(gateway.clone(), access_keys, signing_keys, calls),
        gateway,
        clock,
        idempotency_retention: chrono::Duration::hours(i64::from(
            config.idempotency_retention_hours,
        )),
    })
}

/// On an empty database, creates the `admin` operator. Without a configured
/// password a random one is generated and printed once to stderr.
async fn bootstrap_operator(config: &Config, accounts: &Accounts) -> Result<(), StartError> {
    let (password, generated) = match &config.bootstrap_password {
        Some(secret) if !secret.0.is_empty() => (secret.0.clone(), false),
        _ => (random_password()?, true),
    };
    let created = accounts
        .ensure_operator(BOOTSTRAP_OPERATOR, password.clone())
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
    if created {
        tracing::info!(
            username = BOOTSTRAP_OPERATOR,
            "created the platform operator"
        );
        if generated {
            eprintln!(
                "\n  Platform operator created: username `{BOOTSTRAP_OPERATOR}`, password `{password}`\n  \
                 (shown once; set PARTNER_BOOTSTRAP_PASSWORD to choose it)\n"
            );
        }
    }
    Ok(())
}

fn random_password() -> Result<String, StartError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| StartError::Setup(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// How the platform names itself to IdPs; a server left at the default
/// public URL says so, since every such server shares one SAML audience.
fn service_provider(public_url: &str) -> Result<ServiceProvider, String> {
    let sp = ServiceProvider::under(public_url)?;
    if public_url == partner_federation::service::DEFAULT_PUBLIC_URL {
        tracing::warn!(
            entity_id = %sp.entity_id,
            "PARTNER_PUBLIC_URL is not set: set it to the URL identity providers reach this platform at"
        );
    }
    Ok(sp)
}
