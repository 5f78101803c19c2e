//! Payment on behalf: a payer partner proposes, the payee accepts, either
//! side ends it; nobody else sees or touches it.

use partner_api::accounts::v1 as accounts;
use partner_api::billing::v1 as pb;
use partner_tests::*;
use tonic::Code;

fn propose(kind: pb::PaymentAgreementType, payee: &str) -> pb::CreatePaymentAgreementRequest {
    pb::CreatePaymentAgreementRequest {
        request_id: new_request_id(),
        r#type: kind as i32,
        payee_id: payee.into(),
    }
}

fn accept(id: &str) -> pb::AcceptPaymentAgreementRequest {
    pb::AcceptPaymentAgreementRequest {
        request_id: new_request_id(),
        id: id.into(),
    }
}

fn terminate(id: &str, reason: &str) -> pb::TerminatePaymentAgreementRequest {
    pb::TerminatePaymentAgreementRequest {
        request_id: new_request_id(),
        id: id.into(),
        reason: reason.into(),
    }
}

#[tokio::test]
async fn a_partner_pays_its_customers_orders_once_the_customer_accepts() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "payerco").await;
    let customer = server
        .customer_with_password(&master, &partner, "payee-1")
        .await;
    let me = server.customer_token(&customer.account_name).await;
    let mut agreements = server.payment_agreements(&master);

    let made = ok(agreements
        .create_payment_agreement(propose(
            pb::PaymentAgreementType::Customer,
            &customer.customer_id,
        ))
        .await)
    .agreement
    .unwrap_or_default();
    assert!(made.id.starts_with("pag_"), "{made:?}");
    assert_eq!(made.state, pb::PaymentAgreementState::Pending as i32);
    assert_eq!(made.payer_partner_id, partner.partner_id);
    // One open agreement between the two.
    assert_refused(
        agreements
            .create_payment_agreement(propose(
                pb::PaymentAgreementType::Customer,
                &customer.customer_id,
            ))
            .await,
        Code::AlreadyExists,
        "AGREEMENT_EXISTS",
    );
    // The payer does not accept its own proposal; the customer does, once.
    assert_refused(
        agreements.accept_payment_agreement(accept(&made.id)).await,
        Code::PermissionDenied,
        "NOT_THE_PAYEE",
    );
    let active = ok(server
        .payment_agreements(&me)
        .accept_payment_agreement(accept(&made.id))
        .await)
    .agreement
    .unwrap_or_default();
    assert_eq!(active.state, pb::PaymentAgreementState::Active as i32);
    assert!(active.accept_time.is_some());
    assert_refused(
        server
            .payment_agreements(&me)
            .accept_payment_agreement(accept(&made.id))
            .await,
        Code::FailedPrecondition,
        "AGREEMENT_NOT_PENDING",
    );
    // Both sides read it; the customer lists its own.
    let seen = ok(server
        .payment_agreements(&me)
        .list_payment_agreements(pb::ListPaymentAgreementsRequest::default())
        .await)
    .agreements;
    assert_eq!(seen, vec![active.clone()]);
    // The customer ends it; it ends once, and a new one may be proposed.
    let ended = ok(server
        .payment_agreements(&me)
        .terminate_payment_agreement(terminate(&made.id, "paying myself"))
        .await)
    .agreement
    .unwrap_or_default();
    assert_eq!(ended.state, pb::PaymentAgreementState::Terminated as i32);
    assert_eq!(ended.terminated_by, customer.customer_id);
    assert_eq!(ended.terminate_reason, "paying myself");
    assert_refused(
        agreements
            .terminate_payment_agreement(terminate(&made.id, ""))
            .await,
        Code::FailedPrecondition,
        "AGREEMENT_TERMINATED",
    );
    ok(agreements
        .create_payment_agreement(propose(
            pb::PaymentAgreementType::Customer,
            &customer.customer_id,
        ))
        .await);
    let terminated = ok(agreements
        .list_payment_agreements(pb::ListPaymentAgreementsRequest {
            state: pb::PaymentAgreementState::Terminated as i32,
            ..Default::default()
        })
        .await)
    .agreements;
    assert_eq!(terminated, vec![ended]);

    // A stranger neither reads, accepts, ends nor pays for another's customer.
    let (_, stranger) = server.register_partner(&admin, "strangepay").await;
    let mut theirs = server.payment_agreements(&stranger);
    assert_refused(
        theirs
            .get_payment_agreement(pb::GetPaymentAgreementRequest {
                id: made.id.clone(),
            })
            .await,
        Code::NotFound,
        "AGREEMENT_NOT_FOUND",
    );
    assert_refused(
        theirs
            .terminate_payment_agreement(terminate(&made.id, ""))
            .await,
        Code::NotFound,
        "AGREEMENT_NOT_FOUND",
    );
    assert_refused(
        theirs
            .create_payment_agreement(propose(
                pb::PaymentAgreementType::Customer,
                &customer.customer_id,
            ))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    let listed = ok(theirs
        .list_payment_agreements(pb::ListPaymentAgreementsRequest::default())
        .await);
    assert!(listed.agreements.is_empty());
}

#[tokio::test]
async fn a_distributor_pays_its_resellers_orders_and_only_its_own_resellers() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (distributor, d_master) = server
        .enrolled_partner(&admin, "paydist", accounts::Program::Distributor)
        .await;
    let (reseller, r_master) = server.linked_reseller(&admin, &d_master, "payres").await;
    let made = ok(server
        .payment_agreements(&d_master)
        .create_payment_agreement(propose(
            pb::PaymentAgreementType::Reseller,
            &reseller.partner_id,
        ))
        .await)
    .agreement
    .unwrap_or_default();
    let active = ok(server
        .payment_agreements(&r_master)
        .accept_payment_agreement(accept(&made.id))
        .await)
    .agreement
    .unwrap_or_default();
    assert_eq!(active.state, pb::PaymentAgreementState::Active as i32);
    assert_eq!(active.payer_partner_id, distributor.partner_id);
    // A partner that is not its reseller, and a customer id as a reseller.
    let (stranger, _) = server.register_partner(&admin, "notmine").await;
    assert_refused(
        server
            .payment_agreements(&d_master)
            .create_payment_agreement(propose(
                pb::PaymentAgreementType::Reseller,
                &stranger.partner_id,
            ))
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    let status = assert_refused(
        server
            .payment_agreements(&d_master)
            .create_payment_agreement(propose(pb::PaymentAgreementType::Reseller, "cus_0"))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["payee_id"]);
    // A proposal to a reseller whose link is suspended cannot be accepted.
    let (later, later_master) = server.linked_reseller(&admin, &d_master, "payres2").await;
    let pending = ok(server
        .payment_agreements(&d_master)
        .create_payment_agreement(propose(
            pb::PaymentAgreementType::Reseller,
            &later.partner_id,
        ))
        .await)
    .agreement
    .unwrap_or_default();
    ok(server
        .resellers(&d_master)
        .suspend_reseller(accounts::SuspendResellerRequest {
            request_id: new_request_id(),
            reseller_id: later.partner_id.clone(),
            reason: "overdue".into(),
        })
        .await);
    assert_refused(
        server
            .payment_agreements(&later_master)
            .accept_payment_agreement(accept(&pending.id))
            .await,
        Code::NotFound,
        "RESELLER_NOT_FOUND",
    );
    // The distributor ends it.
    ok(server
        .payment_agreements(&d_master)
        .terminate_payment_agreement(terminate(&made.id, "contract ended"))
        .await);
}
