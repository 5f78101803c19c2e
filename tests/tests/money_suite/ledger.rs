//! The ledger's guarantees through the real server: bounds under
//! concurrent debits (M3), one effect per request id (M4), a hot account,
//! append-only rows (M9) and the reconciliation itself.

use partner_api::billing::v1 as pb;
use partner_tests::*;
use tonic::Code;

use crate::funds::{cash_of, fund, funded};

#[tokio::test]
async fn parallel_debits_never_overdraw_the_account() {
    let server = TestServer::start().await;
    // B = 10.00, X = 3.00, N = 20: exactly ⌊B/X⌋ = 3 succeed.
    let f = funded(&server, "raceco", 1_000).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut client = server.funds(&f.master);
        let request = fund(&f.customer, 300);
        tasks.push(tokio::spawn(async move {
            client.transfer_to_customer(request).await
        }));
    }
    let (mut landed, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(_) => landed += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(reason_of(&status), "INSUFFICIENT_FUNDS");
                refused += 1;
            }
        }
    }
    assert_eq!((landed, refused), (3, 17));
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(cash_of(&own, &f.partner.partner_id), 100);
    assert_eq!(server.rows("ledger_transactions").await, 4);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn fifty_identical_calls_make_one_journal_transaction() {
    let server = TestServer::start().await;
    let f = funded(&server, "retryco", 10_000).await;
    let request = fund(&f.customer, 700);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut client = server.funds(&f.master);
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            client.transfer_to_customer(request).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(ok(task.await.unwrap_or_else(|e| panic!("{e}"))));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(cash_of(&answers[0].balances, &f.partner.partner_id), 9_300);
    // The top-up and this one.
    assert_eq!(server.rows("ledger_transactions").await, 2);
    // The same key with another amount is refused and moves nothing.
    let mut other = request.clone();
    other.amount = Some(cny(701));
    assert_refused(
        server.funds(&f.master).transfer_to_customer(other).await,
        Code::FailedPrecondition,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(server.rows("ledger_transactions").await, 2);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn sixteen_concurrent_transfers_out_of_one_hot_account_all_land() {
    let server = TestServer::start().await;
    let f = funded(&server, "hotco", 16_000).await;
    let mut customers = Vec::new();
    for i in 0..16 {
        customers.push(
            server
                .create_customer(&f.master, &f.partner, &format!("hotco-{i}"))
                .await,
        );
    }
    let mut tasks = Vec::new();
    for customer in &customers {
        let mut client = server.funds(&f.master);
        let request = fund(customer, 1_000);
        tasks.push(tokio::spawn(async move {
            client.transfer_to_customer(request).await
        }));
    }
    for task in tasks {
        ok(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let own = ok(server
        .funds(&f.master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(cash_of(&own, &f.partner.partner_id), 0);
    for customer in &customers {
        let theirs =
            crate::funds::balances_of_customer(&server, &f.master, &customer.customer_id).await;
        assert_eq!(cash_of(&theirs, &customer.customer_id), 1_000);
    }
    let report = server.assert_ledger_clean().await;
    assert_eq!(report.transactions, 17);
}

#[tokio::test]
async fn the_database_refuses_to_change_or_remove_ledger_rows() {
    let server = TestServer::start().await;
    let f = funded(&server, "stoneco", 2_500).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 500))
        .await);
    for sql in [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET reason = 'rewritten'",
        "DELETE FROM ledger_transactions",
    ] {
        let refused = server.execute_sql(sql).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(server.rows("ledger_entries").await, 4);
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn the_reconciliation_names_what_a_tampered_balance_breaks() {
    let server = TestServer::start().await;
    let f = funded(&server, "tamperco", 2_500).await;
    // Balances are not append-only (they move with every posting); one
    // changed behind the ledger's back is caught.
    let changed = server
        .execute_sql("UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'PARTNER_CASH'")
        .await;
    assert_eq!(changed, Ok(1));
    let admin = server.admin_token().await;
    let report = ok(server
        .ledger(&admin)
        .check_ledger(pb::CheckLedgerRequest {})
        .await);
    let mut rules: Vec<&str> = report.violations.iter().map(|v| v.rule.as_str()).collect();
    rules.sort();
    assert_eq!(
        rules,
        ["BALANCE_MISMATCH", "LEDGER_UNBALANCED"],
        "{report:?}"
    );
    let mismatch = report
        .violations
        .iter()
        .find(|v| v.rule == "BALANCE_MISMATCH")
        .unwrap_or_else(|| panic!("{report:?}"));
    assert!(mismatch.subject.starts_with("lac_"), "{mismatch:?}");
    assert_eq!(
        mismatch.detail,
        "stored balance 2501 but entries sum to 2500"
    );
    // Partners do not reconcile the platform's ledger.
    assert_refused(
        server
            .ledger(&f.master)
            .check_ledger(pb::CheckLedgerRequest {})
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn the_console_check_passes_a_sound_ledger_and_lists_a_broken_one() {
    use partner_server::config::LedgerAction;
    let server = TestServer::start().await;
    let f = funded(&server, "consoleco", 1_200).await;
    ok(server
        .funds(&f.master)
        .transfer_to_customer(fund(&f.customer, 200))
        .await);
    let config = test_config(&server.db);
    partner_server::ledger_cli::run(&config, LedgerAction::Check)
        .await
        .unwrap_or_else(|e| panic!("a sound ledger: {e}"));
    server
        .execute_sql(
            "UPDATE ledger_accounts SET balance = balance - 7 WHERE kind = 'CUSTOMER_CASH'",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = partner_server::ledger_cli::run(&config, LedgerAction::Check)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        listed.starts_with("the ledger has 2 violation(s):"),
        "{listed}"
    );
    assert!(listed.contains("BALANCE_MISMATCH lac_"), "{listed}");
    assert!(
        listed.contains("stored balance 193 but entries sum to 200"),
        "{listed}"
    );
}
