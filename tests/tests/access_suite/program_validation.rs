//! Bad input to the program and reseller RPCs: INVALID_ARGUMENT with every
//! bad field named, and nothing written.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;

fn sorted(mut fields: Vec<String>) -> Vec<String> {
    fields.sort();
    fields
}

#[tokio::test]
async fn sign_up_and_invitations_report_every_bad_field() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let status = assert_refused(
        server
            .programs_public()
            .sign_up_with_invitation(pb::SignUpWithInvitationRequest {
                request_id: "nope".into(),
                token: String::new(),
                business_info: Some(pb::BusinessInfo {
                    company_name: " ".into(),
                    registration_number: "x".repeat(65),
                    address: String::new(),
                    contact_name: "a\u{7}b".into(),
                    contact_phone: String::new(),
                }),
                agreement_accepted: false,
                master_username: "Bad Name".into(),
                master_password: "short".into(),
                contact_email: "nobody".into(),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        sorted(violated_fields(&status)),
        [
            "agreement_accepted",
            "business_info.company_name",
            "business_info.contact_name",
            "business_info.contact_phone",
            "business_info.registration_number",
            "contact_email",
            "master_password",
            "master_username",
            "request_id",
            "token",
        ]
    );

    let status = assert_refused(
        server
            .programs(&admin)
            .create_invitation(pb::CreateInvitationRequest {
                request_id: String::new(),
                email: "not an email".into(),
                program: pb::Program::Unspecified as i32,
                expire_time: Some(prost_types::Timestamp {
                    seconds: 1,
                    nanos: 0,
                }),
                ttl: Some(prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                }),
                partner_id: "usr_0190a5b0c1d27e3f8a9b0c1d2e3f4a5b".into(),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        sorted(violated_fields(&status)),
        ["email", "partner_id", "program", "request_id", "ttl"]
    );
    let status = assert_refused(
        server
            .programs(&admin)
            .revoke_invitation(pb::RevokeInvitationRequest {
                request_id: new_request_id(),
                invitation_id: "inv_123".into(),
                reason: "x".repeat(513),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        sorted(violated_fields(&status)),
        ["invitation_id", "reason"]
    );

    // Nothing was written.
    let listed = ok(server
        .programs(&admin)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    assert!(listed.invitations.is_empty());
    let partners = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert!(partners.partners.is_empty());
}

#[tokio::test]
async fn reseller_requests_refuse_bad_ids_and_foreign_page_tokens() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, first) = server
        .enrolled_partner(&admin, "first", pb::Program::Distributor)
        .await;
    let (_, second) = server
        .enrolled_partner(&admin, "second", pb::Program::Distributor)
        .await;
    server.linked_reseller(&admin, &first, "shop1").await;
    server.linked_reseller(&admin, &first, "shop2").await;
    let page = ok(server
        .resellers(&first)
        .list_resellers(pb::ListResellersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await);
    assert!(!page.next_page_token.is_empty());
    let status = assert_refused(
        server
            .resellers(&second)
            .list_resellers(pb::ListResellersRequest {
                page_size: 1,
                page_token: page.next_page_token,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["page_token"]);

    let status = assert_refused(
        server
            .resellers(&first)
            .suspend_reseller(pb::SuspendResellerRequest {
                request_id: "x".into(),
                reseller_id: "prt_".into(),
                reason: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        sorted(violated_fields(&status)),
        ["request_id", "reseller_id"]
    );
    let status = assert_refused(
        server
            .resellers(&first)
            .list_resellers(pb::ListResellersRequest {
                page_size: -1,
                distributor_id: "nope".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        sorted(violated_fields(&status)),
        ["distributor_id", "page_size"]
    );
}
