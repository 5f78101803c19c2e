//! `partner-server ledger check`: the operator's console path to the
//! reconciliation `LedgerService.CheckLedger` runs.

use partner_billing::ledger::check;

use crate::app::{StartError, connect_and_migrate};
use crate::config::{Config, LedgerAction};

/// Runs one `ledger` action against the configured database. A ledger with
/// violations is an error whose text lists them (so the exit code says it).
pub async fn run(config: &Config, action: LedgerAction) -> Result<(), StartError> {
    match action {
        LedgerAction::Check => {
            let db = connect_and_migrate(config).await?;
            let report = check::check(db.conn())
                .await
                .map_err(|e| StartError::Setup(e.to_string()))?;
            println!(
                "{} accounts, {} transactions, {} entries",
                report.accounts, report.transactions, report.entries
            );
            if report.violations.is_empty() {
                println!("the ledger is sound");
                return Ok(());
            }
            let listed: Vec<String> = report
                .violations
                .iter()
                .map(|v| format!("{} {}: {}", v.rule, v.subject, v.detail))
                .collect();
            Err(StartError::Setup(format!(
                "the ledger has {} violation(s):\n{}",
                listed.len(),
                listed.join("\n")
            )))
        }
    }
}
