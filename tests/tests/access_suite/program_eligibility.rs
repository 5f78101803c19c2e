//! The eligibility rules for joining a program, and the operator-only
//! account facts they read.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

/// Sets the account facts named in `paths` as the holder of `token`.
async fn set_facts(
    server: &TestServer,
    token: &str,
    facts: pb::Partner,
    paths: &[&str],
) -> Result<pb::Partner, tonic::Status> {
    server
        .partners(token)
        .update_partner(pb::UpdatePartnerRequest {
            request_id: new_request_id(),
            partner: Some(facts),
            update_mask: Some(FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        })
        .await
        .map(|r| r.into_inner().partner.unwrap_or_default())
}

#[tokio::test]
async fn each_account_fact_refuses_acceptance_with_its_own_reason() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    assert_eq!(
        acme.enterprise_membership,
        pb::EnterpriseMembership::None as i32
    );
    let id = acme.partner_id.clone();
    let cases = [
        (
            pb::Partner {
                partner_id: id.clone(),
                in_arrears: true,
                ..Default::default()
            },
            "in_arrears",
            "ACCOUNT_IN_ARREARS",
        ),
        (
            pb::Partner {
                partner_id: id.clone(),
                enterprise_membership: pb::EnterpriseMembership::Master as i32,
                ..Default::default()
            },
            "enterprise_membership",
            "ENTERPRISE_ACCOUNT_MEMBER",
        ),
        (
            pb::Partner {
                partner_id: id.clone(),
                enterprise_membership: pb::EnterpriseMembership::Sub as i32,
                ..Default::default()
            },
            "enterprise_membership",
            "ENTERPRISE_ACCOUNT_MEMBER",
        ),
        (
            pb::Partner {
                partner_id: id.clone(),
                has_credit_account: true,
                ..Default::default()
            },
            "has_credit_account",
            "HOLDS_CREDIT_ACCOUNT",
        ),
    ];
    let (_, token) = server
        .invite(&admin, pb::Program::SolutionProvider, &id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let clear = pb::Partner {
        partner_id: id.clone(),
        enterprise_membership: pb::EnterpriseMembership::None as i32,
        ..Default::default()
    };
    let all = ["in_arrears", "enterprise_membership", "has_credit_account"];
    for (facts, path, reason) in cases {
        let set = set_facts(&server, &admin, facts, &[path])
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:?}"));
        assert!(
            set.in_arrears
                || set.has_credit_account
                || set.enterprise_membership != pb::EnterpriseMembership::None as i32,
            "{set:?}"
        );
        assert_refused(
            server.accept(&master, &token).await,
            Code::FailedPrecondition,
            reason,
        );
        set_facts(&server, &admin, clear.clone(), &all)
            .await
            .unwrap_or_else(|e| panic!("clear: {e:?}"));
    }
    // With every fact clear, the same invitation (never spent) is accepted.
    let joined = server
        .accept(&master, &token)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(joined.partner.map(|p| p.programs.len()), Some(1));
}

#[tokio::test]
async fn only_the_operator_sets_account_facts() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (acme, master) = server.register_partner(&admin, "acme").await;
    for path in ["in_arrears", "enterprise_membership", "has_credit_account"] {
        let facts = pb::Partner {
            partner_id: acme.partner_id.clone(),
            enterprise_membership: pb::EnterpriseMembership::None as i32,
            ..Default::default()
        };
        assert_refused(
            set_facts(&server, &master, facts, &[path]).await,
            Code::PermissionDenied,
            "MISSING_PERMISSION",
        );
    }
    // UNSPECIFIED is not a membership.
    let status = assert_refused(
        set_facts(
            &server,
            &admin,
            pb::Partner {
                partner_id: acme.partner_id.clone(),
                ..Default::default()
            },
            &["enterprise_membership"],
        )
        .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["partner.enterprise_membership"]);
    // The partner still edits its own profile.
    let renamed = set_facts(
        &server,
        &master,
        pb::Partner {
            partner_id: acme.partner_id.clone(),
            display_name: "Acme Renamed".into(),
            ..Default::default()
        },
        &["display_name"],
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(renamed.display_name, "Acme Renamed");
    assert!(!renamed.in_arrears);
}

#[tokio::test]
async fn a_reseller_of_one_distributor_cannot_join_another() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, first) = server
        .enrolled_partner(&admin, "first", pb::Program::Distributor)
        .await;
    let (_, second) = server
        .enrolled_partner(&admin, "second", pb::Program::Distributor)
        .await;
    let (reseller, reseller_master) = server.linked_reseller(&admin, &first, "shop").await;
    let (_, token) = server
        .invite(&second, pb::Program::Reseller, &reseller.partner_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_refused(
        server.accept(&reseller_master, &token).await,
        Code::FailedPrecondition,
        "LINKED_TO_ANOTHER_DISTRIBUTOR",
    );
    // Its own distributor inviting again: it is already in the program.
    let (_, token) = server
        .invite(&first, pb::Program::Reseller, &reseller.partner_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_refused(
        server.accept(&reseller_master, &token).await,
        Code::AlreadyExists,
        "PROGRAM_ALREADY_JOINED",
    );
}
