//! `partner-server`: `serve` (default) or `migrate`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use partner_server::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

/// jemalloc hands freed memory back to the system; glibc's allocator keeps the
/// 19 MiB blocks of every Argon2 hash, and the server's idle memory would grow
/// with each burst of logins (see docs/benchmarks.md). It is the C code's
/// `malloc` too (SQLite's column values are allocated on the driver's
/// threads and freed on the runtime's; decision 184).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PARTNER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.config.log_format);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Keys { action } => partner_server::keys_cli::run(&cli.config, action).await,
        Command::Catalog { action } => partner_server::catalog_cli::run(&cli.config, action).await,
        Command::Ledger { action } => partner_server::ledger_cli::run(&cli.config, action).await,
        Command::Migrate => partner_server::app::connect_and_migrate(&cli.config)
            .await
            .map(|_| {
                tracing::info!("migrations applied");
            }),
        Command::Serve => match tokio::net::TcpListener::bind(cli.config.listen).await {
            Ok(listener) => {
                let grace = Duration::from_millis(u64::from(cli.config.shutdown_grace_ms));
                partner_server::run(cli.config, listener, grace, shutdown_signal()).await
            }
            Err(e) => Err(e.into()),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "partner-server failed");
            ExitCode::FAILURE
        }
    }
}
