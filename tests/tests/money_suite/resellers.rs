//! Money between a distributor and its resellers, and a distributor acting
//! for its reseller's customer.

use partner_api::accounts::v1 as accounts;
use partner_api::billing::v1 as pb;
use partner_tests::*;
use tonic::Code;

use crate::funds::{cash_of, fund};

fn to_reseller(reseller: &str, minor: i64) -> pb::TransferToResellerRequest {
    pb::TransferToResellerRequest {
        request_id: new_request_id(),
        reseller_id: reseller.into(),
        amount: Some(cny(minor)),
        reason: "quarterly allocation".into(),
    }
}

fn from_reseller(reseller: &str, minor: i64) -> pb::ReclaimFromResellerRequest {
    pb::ReclaimFromResellerRequest {
        request_id: new_request_id(),
        reseller_id: reseller.into(),
        amount: Some(cny(minor)),
        reason: String::new(),
    }
}

#[tokio::test]
async fn a_distributor_funds_and_reclaims_its_reseller_over_an_active_link_only() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "distco", accounts::Program::Distributor)
        .await;
    let (reseller, r_master) = server.linked_reseller(&admin, &d_master, "resco").await;
    server.top_up(&admin, &distributor.partner_id, 10_000).await;
    let r_id = reseller.partner_id.clone();

    let sent = ok(server
        .funds(&d_master)
        .transfer_to_reseller(to_reseller(&r_id, 3_000))
        .await);
    assert_eq!(cash_of(&sent.balances, &distributor.partner_id), 7_000);
    assert_eq!(cash_of(&sent.balances, &r_id), 3_000);
    let back = ok(server
        .funds(&d_master)
        .reclaim_from_reseller(from_reseller(&r_id, 1_000))
        .await);
    assert_eq!(cash_of(&back.balances, &distributor.partner_id), 8_000);
    assert_eq!(cash_of(&back.balances, &r_id), 2_000);
    assert_refused(
        server
            .funds(&d_master)
            .reclaim_from_reseller(from_reseller(&r_id, 2_001))
            .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_FUNDS",
    );
    // The reseller sees its own cash; the distributor reads it as its reseller's.
    let own = ok(server
        .funds(&r_master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(cash_of(&own, &r_id), 2_000);
    let read = ok(server
        .funds(&d_master)
        .get_balances(pb::GetBalancesRequest {
            partner_id: r_id.clone(),
            ..Default::default()
        })
        .await)
    .balances;
    assert_eq!(cash_of(&read, &r_id), 2_000);

    // Acting for the reseller, the distributor funds the reseller's customer
    // from the reseller's cash.
    let customer = server
        .create_customer(&r_master, &reseller, "resco-buyer")
        .await;
    let mut request = fund(&customer, 500);
    request.reseller_id = r_id.clone();
    let funded = ok(server
        .funds(&d_master)
        .transfer_to_customer(request.clone())
        .await);
    assert_eq!(cash_of(&funded.balances, &r_id), 1_500);
    assert_eq!(cash_of(&funded.balances, &customer.customer_id), 500);

    // Not the other way round, not to a stranger, not once the link is suspended.
    assert_refused(
        server
            .funds(&r_master)
            .transfer_to_reseller(to_reseller(&distributor.partner_id, 1))
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    let (stranger, _) = server.register_partner(&admin, "strangerco").await;
    assert_refused(
        server
            .funds(&d_master)
            .transfer_to_reseller(to_reseller(&stranger.partner_id, 1))
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    ok(server
        .resellers(&d_master)
        .suspend_reseller(accounts::SuspendResellerRequest {
            request_id: new_request_id(),
            reseller_id: r_id.clone(),
            reason: "overdue".into(),
        })
        .await);
    assert_refused(
        server
            .funds(&d_master)
            .reclaim_from_reseller(from_reseller(&r_id, 1))
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    // A retry of a movement made while the link was active still gets its
    // answer, and moves nothing again.
    let replayed = ok(server.funds(&d_master).transfer_to_customer(request).await);
    assert_eq!(replayed, funded);
    let entries = ok(server
        .funds(&r_master)
        .list_account_entries(pb::ListAccountEntriesRequest::default())
        .await)
    .entries;
    let operations: Vec<&str> = entries.iter().map(|e| e.operation.as_str()).collect();
    assert_eq!(operations, ["FUND", "RECLAIM_RESELLER", "FUND_RESELLER"]);
    server.assert_ledger_clean().await;
}
