//! The `partner-server` binary's library half: configuration, wiring, the
//! transport and its layer stack, graceful shutdown. Tests start the real
//! server through [`run`].
//!
//! This crate wires the domains together; it holds no business rules.

pub mod app;
pub mod catalog_cli;
pub mod codec_errors;
pub mod config;
pub mod http_routes;
pub mod jobs;
pub mod keys_cli;
pub mod ledger_cli;
pub mod request_id;
pub mod transport;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use partner_kernel::clock::{SharedClock, SystemClock};
use tokio::net::TcpListener;

pub use app::{App, StartError, access_table};
pub use config::Config;

/// Connects, migrates, bootstraps and serves on `listener` until `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    run_with_clock(config, Arc::new(SystemClock), listener, grace, shutdown).await
}

/// [`run`] on `clock` instead of the system clock (tests move time with a
/// `TestClock`).
pub async fn run_with_clock(
    config: Config,
    clock: SharedClock,
    listener: TcpListener,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let db = app::connect_and_migrate(&config).await?;
    let app = app::build_with_clock(&config, db, clock).await?;
    let timeout = Duration::from_secs(u64::from(config.request_timeout_secs));
    tracing::info!(addr = %listener.local_addr()?, "serving gRPC, gRPC-Web and HTTP");
    transport::serve(app, listener, timeout, grace, shutdown).await
}
