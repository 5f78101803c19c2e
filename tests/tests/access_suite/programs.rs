//! Programs and invitations through the real server: the catalog, who may
//! invite, signing up and accepting, and every refusal of a token.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;

#[tokio::test]
async fn the_catalog_lists_every_program_and_its_inviter() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    for token in [&admin, &master] {
        let listed = ok(server
            .programs(token)
            .list_programs(pb::ListProgramsRequest {})
            .await);
        let programs: Vec<_> = listed
            .programs
            .iter()
            .map(|p| (p.program, p.inviter))
            .collect();
        let operator = pb::Inviter::Operator as i32;
        assert_eq!(
            programs,
            [
                (pb::Program::SolutionProvider as i32, operator),
                (pb::Program::Distributor as i32, operator),
                (
                    pb::Program::Reseller as i32,
                    pb::Inviter::Distributor as i32
                ),
                (pb::Program::SoftwarePartner as i32, operator),
                (pb::Program::ConsultingAndIntegration as i32, operator),
            ]
        );
        assert!(
            listed
                .programs
                .iter()
                .all(|p| !p.name.is_empty() && !p.description.is_empty())
        );
    }
}

#[tokio::test]
async fn a_new_partner_signs_up_with_an_invitation() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (invitation, token) = server
        .invite(&admin, pb::Program::SoftwarePartner, "")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(token.starts_with("pit_") && token.len() > 40, "{token}");
    assert_eq!(invitation.state, pb::InvitationState::Pending as i32);
    assert!(invitation.inviter_partner_id.is_empty() && invitation.partner_id.is_empty());

    let request = sign_up_request(&token, "newco");
    let signed = ok(server
        .programs_public()
        .sign_up_with_invitation(request.clone())
        .await);
    let partner = signed.partner.unwrap_or_default();
    assert_eq!(partner.state, pb::PartnerState::Active as i32);
    assert_eq!(partner.display_name, "Example Cloud Co., Ltd.");
    let joined: Vec<_> = partner.programs.iter().map(|e| e.program).collect();
    assert_eq!(joined, [pb::Program::SoftwarePartner as i32]);
    assert!(partner.programs.iter().all(|e| e.join_time.is_some()));
    assert_eq!(signed.master_user.map(|u| u.master), Some(true));

    // The same request again is the same answer; the token itself is spent.
    let replay = ok(server
        .programs_public()
        .sign_up_with_invitation(request)
        .await);
    assert_eq!(
        replay.partner.map(|p| p.partner_id),
        Some(partner.partner_id.clone())
    );
    assert_refused(
        server
            .programs_public()
            .sign_up_with_invitation(sign_up_request(&token, "newco2"))
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );

    // The master logs in and sees its partner with the program.
    let master = server.login("newco", USER_PASSWORD).await;
    let own = ok(server
        .partners(&master)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await)
    .partner
    .unwrap_or_default();
    assert_eq!(own.programs, partner.programs);

    let listed = ok(server
        .programs(&admin)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    let got = listed.invitations.first().cloned().unwrap_or_default();
    assert_eq!(got.state, pb::InvitationState::Accepted as i32);
    assert_eq!(got.accepted_partner_id, partner.partner_id);
    assert!(got.accept_time.is_some());
}

#[tokio::test]
async fn an_existing_partner_accepts_and_cannot_join_twice() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    assert!(partner.programs.is_empty());
    let (_, token) = server
        .invite(
            &admin,
            pb::Program::ConsultingAndIntegration,
            &partner.partner_id,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let accepted = server
        .accept(&master, &token)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let enrolment = accepted.enrolment.unwrap_or_default();
    assert_eq!(
        enrolment.program,
        pb::Program::ConsultingAndIntegration as i32
    );
    assert!(enrolment.join_time.is_some());
    let seen = ok(server
        .partners(&admin)
        .get_partner(pb::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await)
    .partner
    .unwrap_or_default();
    assert_eq!(seen.programs, vec![enrolment]);

    // A second invitation to the same program is refused and stays unspent.
    let (again, token) = server
        .invite(
            &admin,
            pb::Program::ConsultingAndIntegration,
            &partner.partner_id,
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_refused(
        server.accept(&master, &token).await,
        Code::AlreadyExists,
        "PROGRAM_ALREADY_JOINED",
    );
    let listed = ok(server
        .programs(&admin)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    let state = listed
        .invitations
        .iter()
        .find(|i| i.invitation_id == again.invitation_id)
        .map(|i| i.state);
    assert_eq!(state, Some(pb::InvitationState::Pending as i32));
}

#[tokio::test]
async fn dead_unknown_and_foreign_tokens_are_refused() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, acme_master) = server.register_partner(&admin, "acme").await;
    let (_, other_master) = server.register_partner(&admin, "other").await;
    let invite = |program| server.invite(&admin, program, &acme.partner_id);

    // Expired.
    let (expired, token) = invite(pb::Program::SolutionProvider)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    expire_invitation(&server.db, &expired.invitation_id).await;
    assert_refused(
        server.accept(&acme_master, &token).await,
        Code::FailedPrecondition,
        "INVITATION_EXPIRED",
    );

    // Revoked, and a revoked one cannot be revoked again.
    let (revoked, token) = invite(pb::Program::SolutionProvider)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let revoke = |id: String| pb::RevokeInvitationRequest {
        request_id: new_request_id(),
        invitation_id: id,
        reason: "sent by mistake".into(),
    };
    let after = ok(server
        .programs(&admin)
        .revoke_invitation(revoke(revoked.invitation_id.clone()))
        .await)
    .invitation
    .unwrap_or_default();
    assert_eq!(after.state, pb::InvitationState::Revoked as i32);
    assert_refused(
        server.accept(&acme_master, &token).await,
        Code::FailedPrecondition,
        "INVITATION_REVOKED",
    );
    assert_refused(
        server
            .programs(&admin)
            .revoke_invitation(revoke(revoked.invitation_id.clone()))
            .await,
        Code::FailedPrecondition,
        "INVITATION_REVOKED",
    );

    // Unknown, and addressed to another partner: the same answer.
    let (_, token) = invite(pb::Program::SolutionProvider)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let unknown = assert_refused(
        server.accept(&acme_master, "pit_not-a-real-token").await,
        Code::NotFound,
        "INVITATION_NOT_FOUND",
    );
    let foreign = assert_refused(
        server.accept(&other_master, &token).await,
        Code::NotFound,
        "INVITATION_NOT_FOUND",
    );
    assert_eq!(unknown.message(), foreign.message());
    // A token for an existing partner does not sign a new one up.
    assert_refused(
        server
            .programs_public()
            .sign_up_with_invitation(sign_up_request(&token, "sneaky"))
            .await,
        Code::NotFound,
        "INVITATION_NOT_FOUND",
    );
    assert_refused(
        server.login_pair("sneaky", USER_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );

    // The agreement must be accepted; business information is required.
    let mut unagreed = accept_request(&token);
    unagreed.agreement_accepted = false;
    unagreed.business_info = None;
    let status = assert_refused(
        server
            .programs(&acme_master)
            .accept_invitation(unagreed)
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(
        violated_fields(&status),
        ["business_info", "agreement_accepted"]
    );

    // Reused: the first acceptance spends it.
    ok(server
        .programs(&acme_master)
        .accept_invitation(accept_request(&token))
        .await);
    assert_refused(
        server.accept(&acme_master, &token).await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
    // An accepted invitation cannot be revoked.
    let listed = ok(server
        .programs(&admin)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    let used = listed
        .invitations
        .iter()
        .find(|i| i.state == pb::InvitationState::Accepted as i32)
        .map(|i| i.invitation_id.clone())
        .unwrap_or_default();
    assert_refused(
        server
            .programs(&admin)
            .revoke_invitation(revoke(used))
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
}

#[tokio::test]
async fn only_the_operator_and_distributors_invite_and_each_only_to_its_programs() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (plain, plain_master) = server.register_partner(&admin, "plain").await;
    let (_, distributor) = server
        .enrolled_partner(&admin, "dist", pb::Program::Distributor)
        .await;
    let (_, sub_user) = server.create_user(&distributor, "dist.staff").await;

    let not_allowed = |r: Result<_, tonic::Status>| {
        assert_refused(
            r.map(|_: (pb::Invitation, String)| ()),
            Code::PermissionDenied,
            "INVITATION_NOT_ALLOWED",
        );
    };
    not_allowed(server.invite(&admin, pb::Program::Reseller, "").await);
    not_allowed(
        server
            .invite(&plain_master, pb::Program::Reseller, "")
            .await,
    );
    not_allowed(
        server
            .invite(&distributor, pb::Program::SolutionProvider, "")
            .await,
    );
    assert_refused(
        server.invite(&sub_user, pb::Program::Reseller, "").await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    let (sent, _) = server
        .invite(&distributor, pb::Program::Reseller, &plain.partner_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!sent.inviter_partner_id.is_empty());

    // A distributor lists the invitations it sent; the plain partner none.
    let mine = ok(server
        .programs(&distributor)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    assert_eq!(mine.invitations, vec![sent.clone()]);
    let none = ok(server
        .programs(&plain_master)
        .list_invitations(pb::ListInvitationsRequest::default())
        .await);
    assert!(none.invitations.is_empty());

    // Expiry bounds, an unknown program and an unknown partner.
    let mut request = pb::CreateInvitationRequest {
        request_id: new_request_id(),
        email: "x@partners.example".into(),
        program: pb::Program::SolutionProvider as i32,
        expire_time: None,
        ttl: Some(prost_types::Duration {
            seconds: 31 * 24 * 3600,
            nanos: 0,
        }),
        partner_id: String::new(),
    };
    let status = assert_refused(
        server
            .programs(&admin)
            .create_invitation(request.clone())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["ttl"]);
    request.ttl = None;
    request.program = 99;
    let status = assert_refused(
        server
            .programs(&admin)
            .create_invitation(request.clone())
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["program"]);
    request.program = pb::Program::SolutionProvider as i32;
    request.partner_id = "prt_0190a5b0c1d27e3f8a9b0c1d2e3f4a5b".into();
    assert_refused(
        server.programs(&admin).create_invitation(request).await,
        Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
}

#[tokio::test]
async fn a_replayed_creation_does_not_show_the_token_again() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let request = pb::CreateInvitationRequest {
        request_id: new_request_id(),
        email: "x@partners.example".into(),
        program: pb::Program::SolutionProvider as i32,
        expire_time: None,
        ttl: None,
        partner_id: String::new(),
    };
    let first = ok(server
        .programs(&admin)
        .create_invitation(request.clone())
        .await);
    let again = ok(server.programs(&admin).create_invitation(request).await);
    assert!(!first.token.is_empty());
    assert!(again.token.is_empty(), "the token is shown once");
    assert_eq!(first.invitation, again.invitation);
}

#[tokio::test]
async fn two_concurrent_acceptances_of_one_token_have_one_winner() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    let (_, token) = server
        .invite(&admin, pb::Program::SolutionProvider, &acme.partner_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (a, b) = tokio::join!(
        server.accept(&master, &token),
        server.accept(&master, &token)
    );
    let results = [a, b];
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    for r in results.into_iter().filter(Result::is_err) {
        assert_refused(r, Code::FailedPrecondition, "INVITATION_ALREADY_USED");
    }

    // And two concurrent sign-ups with one token: one partner, not two.
    let (_, token) = server
        .invite(&admin, pb::Program::SoftwarePartner, "")
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (mut c1, mut c2) = (server.programs_public(), server.programs_public());
    let (a, b) = tokio::join!(
        c1.sign_up_with_invitation(sign_up_request(&token, "first")),
        c2.sign_up_with_invitation(sign_up_request(&token, "second")),
    );
    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in results.into_iter().filter(Result::is_err) {
        assert_refused(r, Code::FailedPrecondition, "INVITATION_ALREADY_USED");
    }
    let all = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert_eq!(all.partners.len(), 2, "acme and one signed-up partner");
}
