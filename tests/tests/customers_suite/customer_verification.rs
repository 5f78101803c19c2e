//! Real-name verification through the real server: a partner submits, the
//! operator approves or rejects, the customer's status follows; a rejected
//! customer submits again; a verified individual changes to an enterprise;
//! partners see document numbers masked, the operator in full.

use partner_api::customers::v1 as cu;
use partner_tests::*;
use tonic::Code;

fn person(customer_id: &str) -> cu::SubmitIndividualVerificationRequest {
    cu::SubmitIndividualVerificationRequest {
        request_id: new_request_id(),
        customer_id: customer_id.into(),
        individual: Some(cu::IndividualDetails {
            full_name: "Li Lei".into(),
            document_type: cu::IdentityDocumentType::IdCard as i32,
            document_number: "110101199003074512".into(),
        }),
        reseller_id: String::new(),
    }
}

fn company() -> Option<cu::EnterpriseDetails> {
    Some(cu::EnterpriseDetails {
        company_name: "Li Lei Trading Co.".into(),
        registration_number: "91110000MA01ABCD1X".into(),
        licence_file_ref: "obs://licences/li-lei.pdf".into(),
    })
}

fn review(id: &str, approve: bool, reason: &str) -> cu::ReviewVerificationRequest {
    cu::ReviewVerificationRequest {
        request_id: new_request_id(),
        verification_id: id.into(),
        approve,
        reason: reason.into(),
    }
}

async fn status(server: &TestServer, token: &str, id: &str) -> (i32, i32) {
    let c = ok(server
        .customers(token)
        .get_customer(cu::GetCustomerRequest {
            customer_id: id.into(),
            reseller_id: String::new(),
        })
        .await)
    .customer
    .unwrap_or_default();
    (c.real_name_status, c.customer_type)
}

#[tokio::test]
async fn submissions_are_reviewed_and_the_customer_follows() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (_, globex_master) = server.register_partner(&admin, "globex").await;
    let c = server.create_customer(&master, &acme, "crm-1").await;
    let id = c.customer_id.clone();
    let get = || cu::GetVerificationReviewRequest {
        customer_id: id.clone(),
        reseller_id: String::new(),
    };
    assert_refused(
        server
            .customers(&master)
            .get_verification_review(get())
            .await,
        Code::NotFound,
        "VERIFICATION_NOT_FOUND",
    );

    let first = ok(server
        .customers(&master)
        .submit_individual_verification(person(&id))
        .await)
    .review
    .unwrap_or_default();
    assert_eq!(first.state, cu::VerificationState::Reviewing as i32);
    let shown = first.individual.clone().unwrap_or_default();
    assert_eq!(shown.document_number, "**************4512");
    assert_eq!(
        status(&server, &master, &id).await,
        (
            cu::RealNameStatus::Reviewing as i32,
            cu::CustomerType::None as i32
        )
    );
    // The customer cannot be let go while its review is pending.
    assert_refused(
        server
            .customers(&master)
            .disassociate_customer(cu::DisassociateCustomerRequest {
                request_id: new_request_id(),
                customer_id: id.clone(),
                reason: "leaving".into(),
                reseller_id: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_STATE_CONFLICT",
    );
    // Not twice while under review; not by another partner.
    assert_refused(
        server
            .customers(&master)
            .submit_individual_verification(person(&id))
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_STATE_CONFLICT",
    );
    assert_refused(
        server
            .customers(&globex_master)
            .submit_individual_verification(person(&id))
            .await,
        Code::NotFound,
        "CUSTOMER_NOT_FOUND",
    );
    // Only the operator reviews; it sees the number in full.
    assert_refused(
        server
            .customers(&master)
            .review_verification(review(&first.verification_id, true, ""))
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let full = ok(server
        .customers(&admin)
        .get_verification_review(get())
        .await)
    .review
    .unwrap_or_default();
    assert_eq!(
        full.individual.unwrap_or_default().document_number,
        "110101199003074512"
    );
    // A rejection needs a reason, then the customer may submit again.
    assert_refused(
        server
            .customers(&admin)
            .review_verification(review(&first.verification_id, false, ""))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let rejected = ok(server
        .customers(&admin)
        .review_verification(review(&first.verification_id, false, "photo unreadable"))
        .await)
    .review
    .unwrap_or_default();
    assert_eq!(rejected.state, cu::VerificationState::Rejected as i32);
    assert_eq!(rejected.reject_reason, "photo unreadable");
    assert_eq!(
        status(&server, &master, &id).await.0,
        cu::RealNameStatus::Rejected as i32
    );
    assert_refused(
        server
            .customers(&admin)
            .review_verification(review(&first.verification_id, true, ""))
            .await,
        Code::FailedPrecondition,
        "VERIFICATION_STATE_CONFLICT",
    );
    let second = ok(server
        .customers(&master)
        .submit_individual_verification(person(&id))
        .await)
    .review
    .unwrap_or_default();
    ok(server
        .customers(&admin)
        .review_verification(review(&second.verification_id, true, ""))
        .await);
    assert_eq!(
        status(&server, &master, &id).await,
        (
            cu::RealNameStatus::Verified as i32,
            cu::CustomerType::Individual as i32
        )
    );

    // A verified individual becomes an enterprise only once approved.
    assert_refused(
        server
            .customers(&master)
            .submit_enterprise_verification(cu::SubmitEnterpriseVerificationRequest {
                request_id: new_request_id(),
                customer_id: id.clone(),
                enterprise: company(),
                reseller_id: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "CUSTOMER_STATE_CONFLICT",
    );
    let change = ok(server
        .customers(&master)
        .change_to_enterprise_verification(cu::ChangeToEnterpriseVerificationRequest {
            request_id: new_request_id(),
            customer_id: id.clone(),
            enterprise: company(),
            reseller_id: String::new(),
        })
        .await)
    .review
    .unwrap_or_default();
    assert!(change.change_to_enterprise);
    assert_eq!(
        status(&server, &master, &id).await,
        (
            cu::RealNameStatus::Verified as i32,
            cu::CustomerType::Individual as i32
        ),
        "still a verified individual while the change is reviewed"
    );
    ok(server
        .customers(&admin)
        .review_verification(review(&change.verification_id, true, ""))
        .await);
    assert_eq!(
        status(&server, &master, &id).await,
        (
            cu::RealNameStatus::Verified as i32,
            cu::CustomerType::Enterprise as i32
        )
    );
    // The verification is an event of the partner's.
    let mut verified = false;
    for _ in 0..200 {
        let events = ok(server
            .events(&master)
            .list_events(partner_api::events::v1::ListEventsRequest {
                event_types: vec!["customer.verified".into()],
                ..Default::default()
            })
            .await)
        .events;
        if events.len() == 2 {
            verified = events.iter().all(|e| e.resource_id == id);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(verified, "two customer.verified events of the customer");
}
