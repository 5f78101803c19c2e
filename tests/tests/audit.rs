//! Every mutating RPC writes one audit record and one outbox event in the same
//! transaction as its change, naming the actor, method, resource and request id.

use partner_api::accounts::v1 as pb;
use partner_kernel::entity::{audit_record, outbox_event};
use partner_tests::*;
use prost_types::FieldMask;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn each_mutation_leaves_one_audit_record_and_one_event() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let register = register_request("acme");
    let resp = ok(server
        .partners(&admin)
        .register_partner(register.clone())
        .await);
    let partner = resp.partner.unwrap_or_default();
    let master_token = server.login("acme", USER_PASSWORD).await;

    let update_id = new_request_id();
    ok(server
        .partners(&master_token)
        .update_partner(pb::UpdatePartnerRequest {
            request_id: update_id.clone(),
            partner: Some(pb::Partner {
                partner_id: partner.partner_id.clone(),
                display_name: "Acme 2".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await);
    let create_id = new_request_id();
    let user = ok(server
        .users(&master_token)
        .create_user(pb::CreateUserRequest {
            request_id: create_id.clone(),
            username: "alice".into(),
            password: USER_PASSWORD.into(),
            ..Default::default()
        })
        .await)
    .user
    .unwrap_or_default();
    let disable_id = new_request_id();
    ok(server
        .users(&master_token)
        .disable_user(pb::DisableUserRequest {
            request_id: disable_id.clone(),
            user_id: user.user_id.clone(),
            reason: "left".into(),
        })
        .await);
    let suspend_id = new_request_id();
    ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: suspend_id.clone(),
            partner_id: partner.partner_id.clone(),
            reason: "arrears".into(),
        })
        .await);
    let reinstate_id = new_request_id();
    ok(server
        .partners(&admin)
        .reinstate_partner(pb::ReinstatePartnerRequest {
            request_id: reinstate_id.clone(),
            partner_id: partner.partner_id.clone(),
            reason: String::new(),
        })
        .await);
    // A replay adds nothing.
    ok(server
        .partners(&admin)
        .register_partner(register.clone())
        .await);

    let conn = server.db.connect().await;
    let records = audit_record::Entity::find()
        .filter(audit_record::Column::PartnerId.eq(partner.partner_id.clone()))
        .all(&conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = [
        (
            "partner.accounts.v1.PartnerService/RegisterPartner",
            &register.request_id,
            &partner.partner_id,
        ),
        (
            "partner.accounts.v1.PartnerService/UpdatePartner",
            &update_id,
            &partner.partner_id,
        ),
        (
            "partner.accounts.v1.UserService/CreateUser",
            &create_id,
            &user.user_id,
        ),
        (
            "partner.accounts.v1.UserService/DisableUser",
            &disable_id,
            &user.user_id,
        ),
        (
            "partner.accounts.v1.PartnerService/SuspendPartner",
            &suspend_id,
            &partner.partner_id,
        ),
        (
            "partner.accounts.v1.PartnerService/ReinstatePartner",
            &reinstate_id,
            &partner.partner_id,
        ),
    ];
    assert_eq!(records.len(), expected.len(), "{records:#?}");
    let mut sorted = records.clone();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for (record, (method, request_id, resource)) in sorted.iter().zip(expected) {
        assert_eq!(record.method, method);
        assert_eq!(
            record.request_id.map(|r| r.to_string()).as_ref(),
            Some(request_id),
            "{method}"
        );
        assert_eq!(&record.resource_id, resource, "{method}");
        assert!(record.after.is_some(), "{method}: after summary");
    }
    let by_method = |m: &str| {
        sorted
            .iter()
            .find(|r| r.method.ends_with(m))
            .cloned()
            .unwrap_or_else(|| panic!("{m}"))
    };
    let update = by_method("/UpdatePartner");
    assert_eq!(
        update
            .before
            .as_ref()
            .and_then(|b| b["display_name"].as_str()),
        Some(partner.display_name.as_str())
    );
    assert_eq!(
        update
            .after
            .as_ref()
            .and_then(|a| a["display_name"].as_str()),
        Some("Acme 2")
    );
    assert_eq!(update.actor_user_id, partner.master_user_id);
    assert_eq!(
        update.actor_partner_id.as_deref(),
        Some(partner.partner_id.as_str())
    );
    let suspend = by_method("/SuspendPartner");
    assert_eq!(suspend.reason.as_deref(), Some("arrears"));
    assert_eq!(
        suspend.actor_partner_id, None,
        "the operator belongs to no partner"
    );

    let events = outbox_event::Entity::find()
        .filter(outbox_event::Column::PartnerId.eq(partner.partner_id.clone()))
        .all(&conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut types: Vec<_> = events.iter().map(|e| e.event_type.clone()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "partner.registered",
            "partner.reinstated",
            "partner.suspended",
            "partner.updated",
            "user.created",
            "user.disabled"
        ]
    );
}
