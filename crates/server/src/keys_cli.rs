//! `partner-server keys list|rotate|retire`: the operator's console path to the
//! same key changes `SigningKeyService` makes. Prints one line per key.

use partner_gateway::signing_keys::store as rotation;
use partner_kernel::clock::{Clock, SystemClock};

use crate::app::{StartError, connect_and_migrate};
use crate::config::{Config, KeysAction};

/// Runs one `keys` action against the configured database.
pub async fn run(config: &Config, action: KeysAction) -> Result<(), StartError> {
    let db = connect_and_migrate(config).await?;
    let now = SystemClock.now();
    let sealer = config.sealer().map_err(StartError::Setup)?;
    let sealed = rotation::list(db.conn())
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?
        .iter()
        .any(|k| partner_kernel::seal::Sealer::is_sealed(&k.private_key));
    if sealed && !sealer.enabled() {
        // A key written plain here would be refused by every server.
        return Err(StartError::Setup(
            "the signing keys are sealed: configure PARTNER_MASTER_KEY (or PARTNER_MASTER_KEY_FILE)".into(),
        ));
    }
    let failed = |e: partner_gateway::GatewayError| StartError::Setup(e.to_string());
    match action {
        KeysAction::List => {}
        KeysAction::Rotate => {
            let tx = db.begin_write().await?;
            let key = rotation::rotate(&*tx, now, &sealer).await.map_err(failed)?;
            tx.commit().await?;
            println!("rotated: {} is now ACTIVE", key.kid);
        }
        KeysAction::Retire { kid } => {
            let tx = db.begin_write().await?;
            rotation::retire(&*tx, &kid, now).await.map_err(failed)?;
            tx.commit().await?;
            println!("retired: {kid}");
        }
    }
    for key in rotation::list(db.conn()).await.map_err(failed)? {
        println!(
            "{}\t{}\t{}",
            key.kid,
            key.state,
            key.created_at.to_rfc3339()
        );
    }
    db.close().await?;
    Ok(())
}
