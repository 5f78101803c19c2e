//! Background work of one server process: rereading the signing keys (so a
//! rotation made through another replica takes effect here too), writing
//! the sign-in refusals counted in memory (`Gateway::flush_refusals`),
//! numbering committed events (`outbox::sequence`), forgetting expired
//! SAML state (`Federation::prune_expired`), delivering webhooks
//! (`webhooks::worker`), rereading the catalog (`Pricing::reload`), and
//! expiring ledger holds, coupons and unpaid orders due on the platform
//! clock (`Billing::expire_holds`, `Billing::expire_coupons`,
//! `Billing::expire_orders`), auto-renewing resources due
//! (`Billing::renew_due`) and applying expiry policies
//! (`Billing::expire_resources`) — after moving a sandbox's clock to where
//! another replica moved it (`Billing::sync_sandbox_clock`) — and forgetting
//! idempotency keys past their retention (`idempotency::prune`).

use std::time::Duration;

use partner_events::webhooks::worker::Worker;
use partner_gateway::Gateway;
use partner_kernel::db::Db;
use partner_kernel::outbox;
use tokio::task::JoinHandle;

use crate::StartError;
use crate::app::App;

/// How often each process rereads the signing keys.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);
/// How often refusals counted in memory are written, and spent sign-in
/// counters swept.
pub const REFUSAL_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// How often expired SAML state (used assertions, answered requests, login
/// codes) is deleted; until then it only takes room, never counts.
pub const SAML_PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// How often each process rereads the catalog versions (so an import made
/// through another replica is priced here too).
pub const CATALOG_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// How often due ledger holds are expired (each exactly once, whichever
/// replica gets there first).
pub const HOLD_EXPIRY_INTERVAL: Duration = Duration::from_secs(30);

/// How often the sequencer looks for events without a signal (written by
/// another replica).
pub const SEQUENCE_INTERVAL: Duration = Duration::from_secs(1);

/// How often idempotency keys past their retention are deleted.
pub const IDEMPOTENCY_PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// The running jobs; [`Jobs::stop`] ends them and writes what is pending.
pub struct Jobs {
    gateway: Gateway,
    handles: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts every job.
    pub fn start(app: &App) -> Result<Self, StartError> {
        let (gateway, db) = (&app.gateway, &app.db);
        let keys = gateway.clone();
        let reload = tokio::spawn(every(KEY_RELOAD_INTERVAL, move || {
            let gateway = keys.clone();
            async move {
                if let Err(e) = gateway.keys().reload().await {
                    tracing::warn!(error = %e, "could not reload signing keys; keeping the ring in force");
                }
            }
        }));
        let refusals = gateway.clone();
        let flush = tokio::spawn(every(REFUSAL_FLUSH_INTERVAL, move || {
            let gateway = refusals.clone();
            async move { flush(&gateway).await }
        }));
        let sequencer = tokio::spawn(sequence_events(db.clone()));
        let catalog = app.pricing.clone();
        let catalogs = tokio::spawn(every(CATALOG_RELOAD_INTERVAL, move || {
            let pricing = catalog.clone();
            async move {
                if let Err(e) = pricing.reload().await {
                    tracing::warn!(error = %e, "could not reread the catalog; keeping the one in force");
                }
            }
        }));
        let saml = app.federation.clone();
        let prune = tokio::spawn(every(SAML_PRUNE_INTERVAL, move || {
            let federation = saml.clone();
            async move {
                if let Err(e) = federation.prune_expired().await {
                    tracing::warn!(error = %e, "could not delete expired SAML state; will retry");
                }
            }
        }));
        let money = app.billing.clone();
        let holds = tokio::spawn(every(HOLD_EXPIRY_INTERVAL, move || {
            let billing = money.clone();
            async move {
                // In a sandbox, first to where another replica moved the clock.
                if let Err(e) = billing.sync_sandbox_clock().await {
                    tracing::warn!(error = %e, "could not read the sandbox clock; will retry");
                }
                if let Err(e) = billing.expire_holds().await {
                    tracing::warn!(error = %e, "could not expire due holds; will retry");
                }
                if let Err(e) = billing.expire_coupons().await {
                    tracing::warn!(error = %e, "could not expire due coupons; will retry");
                }
                if let Err(e) = billing.expire_orders().await {
                    tracing::warn!(error = %e, "could not cancel unpaid orders; will retry");
                }
                if let Err(e) = billing.renew_due().await {
                    tracing::warn!(error = %e, "could not auto-renew due resources; will retry");
                }
                if let Err(e) = billing.expire_resources().await {
                    tracing::warn!(error = %e, "could not apply due expiry policies; will retry");
                }
                if let Err(e) = billing.settle_usage().await {
                    tracing::warn!(error = %e, "could not settle on-demand use; will retry");
                }
                if let Err(e) = billing.settle_arrears().await {
                    tracing::warn!(error = %e, "could not settle arrears; will retry");
                }
            }
        }));
        let (keys_db, clock, retention) =
            (db.clone(), app.clock.clone(), app.idempotency_retention);
        let prune_keys = tokio::spawn(every(IDEMPOTENCY_PRUNE_INTERVAL, move || {
            let (db, before) = (keys_db.clone(), clock.now() - retention);
            async move {
                match partner_kernel::idempotency::prune(&db, before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "idempotency keys past their retention"),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not prune idempotency keys; will retry")
                    }
                }
            }
        }));
        let worker = Worker::new(app.webhooks.clone()).map_err(StartError::Setup)?;
        let deliveries = tokio::spawn(worker.run());
        Ok(Self {
            gateway: gateway.clone(),
            handles: vec![
                reload, flush, sequencer, prune, deliveries, catalogs, holds, prune_keys,
            ],
        })
    }

    /// Ends the jobs, then writes the refusals still pending.
    pub async fn stop(self) {
        for handle in &self.handles {
            handle.abort();
        }
        flush(&self.gateway).await;
    }
}

async fn flush(gateway: &Gateway) {
    if let Err(e) = gateway.flush_refusals().await {
        tracing::warn!(error = %e, "could not write pending sign-in refusals; will retry");
    }
}

/// Numbers committed events as they are written here, and every
/// [`SEQUENCE_INTERVAL`] for the ones other replicas wrote.
async fn sequence_events(db: Db) {
    loop {
        match outbox::sequence(&db).await {
            // A full batch: more may be waiting.
            Ok(n) if n >= outbox::SEQUENCE_BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not number events; will retry"),
        }
        tokio::select! {
            () = db.outbox().wait_written() => {}
            () = tokio::time::sleep(SEQUENCE_INTERVAL) => {}
        }
    }
}

/// Runs `job` every `period`, the first time one period from now.
async fn every<F, Fut>(period: Duration, job: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        job().await;
    }
}
