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

#[tokio::test]
async fn a_distributor_orders_renews_and_pays_for_its_resellers_customer() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "distorderco", accounts::Program::Distributor)
        .await;
    let (reseller, r_master) = server
        .linked_reseller(&admin, &d_master, "resorderco")
        .await;
    server.top_up(&admin, &reseller.partner_id, 1_000_000).await;
    let customer = server
        .create_customer(&r_master, &reseller, "resorderco-buyer")
        .await;
    ok(server
        .funds(&r_master)
        .transfer_to_customer(fund(&customer, 500_000))
        .await);
    let r_id = reseller.partner_id.clone();
    let mut request =
        crate::orders::order(&customer.customer_id, crate::orders::lines()[1..].to_vec());
    // Without naming the reseller, the customer is not the distributor's.
    assert_refused(
        server.orders(&d_master).create_order(request.clone()).await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    request.reseller_id = r_id.clone();
    let made = ok(server.orders(&d_master).create_order(request).await)
        .order
        .unwrap_or_default();
    assert_eq!(made.partner_id, r_id);
    let discounts = ok(server
        .orders(&d_master)
        .list_order_discounts(pb::ListOrderDiscountsRequest {
            id: made.id.clone(),
            reseller_id: r_id.clone(),
        })
        .await);
    assert!(discounts.discounts.iter().all(|d| !d.mandatory));
    let mut payment = crate::orders::pay(&made.id, &[], "");
    payment.reseller_id = r_id.clone();
    let paid = ok(server.orders(&d_master).pay_order(payment).await)
        .order
        .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    let resource = paid.lines[0].resource_ids[0].clone();
    let preview = ok(server
        .resources(&d_master)
        .preview_renewal(pb::PreviewRenewalRequest {
            resource_ids: vec![resource.clone()],
            period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
            period_count: 1,
            reseller_id: r_id.clone(),
        })
        .await);
    let renewed = ok(server
        .resources(&d_master)
        .renew_resources(pb::RenewResourcesRequest {
            request_id: new_request_id(),
            resource_ids: vec![resource],
            period_unit: partner_api::pricing::v1::PeriodUnit::Month as i32,
            period_count: 1,
            auto_pay: true,
            reseller_id: r_id,
        })
        .await);
    assert_eq!(renewed.payment_failure, "");
    let order = renewed.order.unwrap_or_default();
    assert_eq!(order.state(), pb::OrderState::Completed);
    assert_eq!(order.list_total, preview.list_total);
    let _ = distributor;
    server.assert_ledger_clean().await;
}

#[tokio::test]
async fn under_a_reseller_agreement_the_distributor_pays_its_resellers_orders() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "payforresco", accounts::Program::Distributor)
        .await;
    let (reseller, r_master) = server
        .linked_reseller(&admin, &d_master, "paidforresco")
        .await;
    server
        .top_up(&admin, &distributor.partner_id, 1_000_000)
        .await;
    let r_id = reseller.partner_id.clone();
    let agreement = ok(server
        .payment_agreements(&d_master)
        .create_payment_agreement(pb::CreatePaymentAgreementRequest {
            request_id: new_request_id(),
            r#type: pb::PaymentAgreementType::Reseller as i32,
            payee_id: r_id.clone(),
        })
        .await)
    .agreement
    .unwrap_or_default();
    let customer = server
        .customer_with_password(&r_master, &reseller, "paidforresco-buyer")
        .await;
    let order = |n: usize| {
        let mut lines = crate::orders::lines()[1..].to_vec();
        lines[0].quantity = i32::try_from(n).unwrap_or(1);
        crate::orders::order(&customer.customer_id, lines)
    };
    let paying = |id: &str| {
        let mut p = crate::orders::pay(id, &[], "");
        p.payment_agreement_id = agreement.id.clone();
        p
    };
    let first = crate::orders::created(&server, &r_master, order(1)).await;
    // Proposed, not accepted: not yet.
    assert_refused(
        server.orders(&r_master).pay_order(paying(&first.id)).await,
        Code::FailedPrecondition,
        "AGREEMENT_NOT_ACTIVE",
    );
    ok(server
        .payment_agreements(&r_master)
        .accept_payment_agreement(pb::AcceptPaymentAgreementRequest {
            request_id: new_request_id(),
            id: agreement.id.clone(),
        })
        .await);
    // The reseller pays with it: the distributor's cash pays, not the
    // customer's (which has none) nor the reseller's.
    let paid = ok(server.orders(&r_master).pay_order(paying(&first.id)).await)
        .order
        .unwrap_or_default();
    assert_eq!(paid.state(), pb::OrderState::Completed);
    assert_eq!(paid.payment_agreement_id, agreement.id);
    let total = minor_of(paid.paid_total.as_ref());
    assert!(total > 0);
    let distributor_cash =
        |balances: &[pb::AccountBalance]| cash_of(balances, &distributor.partner_id);
    let mine = ok(server
        .funds(&d_master)
        .get_balances(pb::GetBalancesRequest::default())
        .await)
    .balances;
    assert_eq!(distributor_cash(&mine), 1_000_000 - total);
    // Its customer, which reads the agreement's id on its order, does not
    // spend through it: the agreement is between the two partners.
    let own = server.customer_token(&customer.account_name).await;
    let by_customer = crate::orders::created(&server, &own, order(1)).await;
    assert_refused(
        server.orders(&own).pay_order(paying(&by_customer.id)).await,
        Code::NotFound,
        "AGREEMENT_NOT_FOUND",
    );
    // The distributor, acting for the reseller, pays the next one too.
    let second = crate::orders::created(&server, &r_master, order(2)).await;
    let mut by_distributor = paying(&second.id);
    by_distributor.reseller_id = r_id.clone();
    ok(server.orders(&d_master).pay_order(by_distributor).await);
    // A suspended link pays nothing.
    let third = crate::orders::created(&server, &r_master, order(1)).await;
    ok(server
        .resellers(&d_master)
        .suspend_reseller(accounts::SuspendResellerRequest {
            request_id: new_request_id(),
            reseller_id: r_id.clone(),
            reason: "overdue".into(),
        })
        .await);
    assert_refused(
        server.orders(&r_master).pay_order(paying(&third.id)).await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    server.assert_ledger_clean().await;
}
