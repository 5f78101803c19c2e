//! The reconciliation (RELIABILITY M1–M3): every transaction nets to zero,
//! moves one currency and has at least two entries; all accounts together sum to
//! zero per currency; each stored balance is the sum of its entries and its
//! version their count; no account is below its kind's floor. Plain SQL,
//! the same on SQLite and PostgreSQL, read in one snapshot.

use partner_api::billing::v1 as pb;
use partner_kernel::error::KernelError;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, IsolationLevel, QueryResult,
    Statement, TransactionTrait,
};

/// At most this many violations of each rule are listed.
const LISTED: u32 = 1000;

/// What the reconciliation found.
#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<pb::LedgerViolation>,
    pub accounts: i64,
    pub transactions: i64,
    pub entries: i64,
}

impl Report {
    pub fn to_proto(self) -> pb::CheckLedgerResponse {
        pb::CheckLedgerResponse {
            violations: self.violations,
            accounts: self.accounts,
            transactions: self.transactions,
            entries: self.entries,
        }
    }
}

struct Rule {
    name: &'static str,
    sql: &'static str,
    describe: fn(&QueryResult) -> Result<(String, String), DbErr>,
}

fn int(row: &QueryResult, col: &str) -> Result<i64, DbErr> {
    row.try_get::<i64>("", col)
}

fn text(row: &QueryResult, col: &str) -> Result<String, DbErr> {
    row.try_get::<String>("", col)
}

const RULES: &[Rule] = &[
    Rule {
        name: "TRANSACTION_UNBALANCED",
        sql: "SELECT e.transaction_id AS subject, a.currency AS currency, \
              CAST(SUM(e.amount) AS BIGINT) AS total \
              FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
              GROUP BY e.transaction_id, a.currency HAVING SUM(e.amount) <> 0",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "entries sum to {} minor units of {}",
                    int(r, "total")?,
                    text(r, "currency")?
                ),
            ))
        },
    },
    Rule {
        name: "TRANSACTION_INCOMPLETE",
        sql: "SELECT t.id AS subject, COUNT(e.id) AS n FROM ledger_transactions t \
              LEFT JOIN ledger_entries e ON e.transaction_id = t.id \
              GROUP BY t.id HAVING COUNT(e.id) < 2",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!("{} entries (at least two)", int(r, "n")?),
            ))
        },
    },
    Rule {
        name: "TRANSACTION_MIXED_CURRENCY",
        sql: "SELECT e.transaction_id AS subject, COUNT(DISTINCT a.currency) AS n \
              FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
              GROUP BY e.transaction_id HAVING COUNT(DISTINCT a.currency) > 1",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "entries in {} currencies (one per transaction)",
                    int(r, "n")?
                ),
            ))
        },
    },
    Rule {
        name: "LEDGER_UNBALANCED",
        sql: "SELECT currency AS subject, CAST(SUM(balance) AS BIGINT) AS total \
              FROM ledger_accounts GROUP BY currency HAVING SUM(balance) <> 0",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!("all accounts sum to {} minor units", int(r, "total")?),
            ))
        },
    },
    Rule {
        name: "BALANCE_MISMATCH",
        sql: "SELECT a.id AS subject, a.balance AS balance, \
              CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) AS total \
              FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
              GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "stored balance {} but entries sum to {}",
                    int(r, "balance")?,
                    int(r, "total")?
                ),
            ))
        },
    },
    Rule {
        name: "VERSION_MISMATCH",
        sql: "SELECT a.id AS subject, a.version AS version, COUNT(e.id) AS n \
              FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
              GROUP BY a.id, a.version HAVING a.version <> COUNT(e.id)",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "version {} but {} entries",
                    int(r, "version")?,
                    int(r, "n")?
                ),
            ))
        },
    },
    Rule {
        name: "PENDING_MISMATCH",
        sql: "SELECT a.id AS subject, a.pending AS pending, \
              CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) AS total \
              FROM ledger_accounts a LEFT JOIN ledger_holds h \
              ON h.account_id = a.id AND h.state = 'HELD' \
              GROUP BY a.id, a.pending HAVING a.pending <> COALESCE(SUM(h.amount), 0)",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "pending {} but open holds sum to {}",
                    int(r, "pending")?,
                    int(r, "total")?
                ),
            ))
        },
    },
    Rule {
        name: "ARREARS_ABOVE_ZERO",
        sql: "SELECT id AS subject, balance AS balance FROM ledger_accounts \
              WHERE kind = 'CUSTOMER_ARREARS' AND balance > 0",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!("arrears balance {} above zero", int(r, "balance")?),
            ))
        },
    },
    Rule {
        name: "BELOW_BOUND",
        sql: "SELECT id AS subject, kind AS kind, balance AS balance, pending AS pending, \
              credit_limit AS credit_limit FROM ledger_accounts \
              WHERE kind NOT IN ('EXTERNAL_FUNDING', 'PROMOTION', 'CUSTOMER_ARREARS') AND balance - pending + \
              (CASE WHEN kind IN ('PARTNER_CREDIT', 'CUSTOMER_CREDIT') THEN credit_limit ELSE 0 END) < 0",
        describe: |r| {
            Ok((
                text(r, "subject")?,
                format!(
                    "{} balance {} pending {} credit limit {}",
                    text(r, "kind")?,
                    int(r, "balance")?,
                    int(r, "pending")?,
                    int(r, "credit_limit")?
                ),
            ))
        },
    },
];

async fn count(conn: &impl ConnectionTrait, table: &str) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(table.to_owned()))?;
    int(&row, "n")
}

/// Reconciles the ledger, in one read transaction so that the rules see
/// the same moment (PostgreSQL: REPEATABLE READ, one snapshot for every
/// statement; SQLite: a read transaction is one snapshot under WAL).
pub async fn check(conn: &DatabaseConnection) -> Result<Report, KernelError> {
    let tx = if conn.get_database_backend() == DbBackend::Postgres {
        conn.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        conn.begin().await?
    };
    let backend = tx.get_database_backend();
    let mut report = Report {
        accounts: count(&tx, "ledger_accounts").await?,
        transactions: count(&tx, "ledger_transactions").await?,
        entries: count(&tx, "ledger_entries").await?,
        violations: Vec::new(),
    };
    for rule in RULES {
        let sql = format!("{} LIMIT {LISTED}", rule.sql);
        for row in tx
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let (subject, detail) = (rule.describe)(&row)?;
            report.violations.push(pb::LedgerViolation {
                rule: rule.name.to_owned(),
                subject,
                detail,
            });
        }
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Kind;

    /// The bound rule exempts exactly the kinds without a floor.
    #[test]
    fn the_bound_rule_exempts_exactly_the_unbounded_kinds() {
        let Some(rule) = RULES.iter().find(|r| r.name == "BELOW_BOUND") else {
            panic!("no bound rule");
        };
        let exempted = rule
            .sql
            .split_once("NOT IN (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(list, _)| list)
            .unwrap_or_else(|| panic!("no exemption list"));
        let kinds: Vec<Kind> = (1..64).filter_map(Kind::from_wire).collect();
        assert!(kinds.len() >= 13);
        for kind in kinds {
            let exempt = exempted.contains(&format!("'{}'", kind.as_str()));
            assert_eq!(exempt, kind.floor(0).is_none(), "{}", kind.as_str());
        }
    }
}
