//! The partner lifecycle through the real server.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

#[tokio::test]
async fn register_get_update_suspend_reinstate() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    assert!(partner.partner_id.starts_with("prt_"));
    assert_eq!(partner.state, pb::PartnerState::Active as i32);

    // The operator and the partner's own master read it.
    let got = ok(server
        .partners(&admin)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(got.partner.as_ref(), Some(&partner));
    let own = ok(server
        .partners(&master)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(
        own.partner.as_ref().map(|p| &p.display_name),
        Some(&partner.display_name)
    );

    // The master updates its display name through a field mask; the e-mail stays.
    let updated = ok(server
        .partners(&master)
        .update_partner(pb::UpdatePartnerRequest {
            request_id: new_request_id(),
            partner: Some(pb::Partner {
                partner_id: partner.partner_id.clone(),
                display_name: "Acme Cloud Ltd".into(),
                contact_email: "ignored@example.com".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await)
    .partner
    .unwrap_or_default();
    assert_eq!(updated.display_name, "Acme Cloud Ltd");
    assert_eq!(updated.contact_email, partner.contact_email);
    // Reads see the change at once (the partner cache is cleared by the update).
    let reread = ok(server
        .partners(&admin)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(
        reread.partner.map(|p| p.display_name).as_deref(),
        Some("Acme Cloud Ltd")
    );

    // Suspension: login refused, the live token refused.
    let suspended = ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: new_request_id(),
            partner_id: partner.partner_id.clone(),
            reason: "unpaid invoices".into(),
        })
        .await)
    .partner
    .unwrap_or_default();
    assert_eq!(suspended.state, pb::PartnerState::Suspended as i32);
    assert_eq!(suspended.suspend_reason, "unpaid invoices");
    assert_refused(
        server.login_pair("acme", USER_PASSWORD).await,
        Code::PermissionDenied,
        "PARTNER_SUSPENDED",
    );
    assert_refused(
        server
            .partners(&master)
            .get_partner(pb::GetPartnerRequest {
                partner_id: partner.partner_id.clone(),
            })
            .await,
        Code::PermissionDenied,
        "PARTNER_SUSPENDED",
    );
    // Suspending twice is a state conflict.
    assert_refused(
        server
            .partners(&admin)
            .suspend_partner(pb::SuspendPartnerRequest {
                request_id: new_request_id(),
                partner_id: partner.partner_id.clone(),
                reason: "again".into(),
            })
            .await,
        Code::FailedPrecondition,
        "PARTNER_STATE_CONFLICT",
    );

    // Reinstatement: the same token works again, and login too.
    let reinstated = ok(server
        .partners(&admin)
        .reinstate_partner(pb::ReinstatePartnerRequest {
            request_id: new_request_id(),
            partner_id: partner.partner_id.clone(),
            reason: String::new(),
        })
        .await)
    .partner
    .unwrap_or_default();
    assert_eq!(reinstated.state, pb::PartnerState::Active as i32);
    assert_eq!(reinstated.suspend_reason, "");
    ok(server
        .partners(&master)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    server.login("acme", USER_PASSWORD).await;
}

#[tokio::test]
async fn only_the_operator_registers_lists_and_suspends() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let partners = || server.partners(&master);
    assert_refused(
        partners().register_partner(register_request("other")).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        partners()
            .list_partners(pb::ListPartnersRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        partners()
            .suspend_partner(pb::SuspendPartnerRequest {
                request_id: new_request_id(),
                partner_id: partner.partner_id.clone(),
                reason: "self".into(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn unknown_partner_is_not_found() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let missing = partner_kernel::ids::PartnerId::generate().to_string();
    assert_refused(
        server
            .partners(&admin)
            .get_partner(pb::GetPartnerRequest {
                partner_id: missing,
            })
            .await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
}
