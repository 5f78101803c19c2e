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

#[tokio::test]
async fn listing_is_scoped_filtered_and_paged_newest_first() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (a, a_master) = server.register_partner(&admin, "alpha").await;
    let (b, _) = server.register_partner(&admin, "beta").await;
    let (alice, alice_token) = server.create_user(&a_master, "alice").await;
    let (bob, _) = server.create_user(&a_master, "bob").await;
    ok(server
        .users(&a_master)
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: bob.user_id.clone(),
            reason: "left".into(),
        })
        .await);

    // The operator sees every record, newest first.
    let all = ok(server
        .audit(&admin)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await);
    let methods: Vec<_> = all
        .audit_records
        .iter()
        .map(|r| r.method.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(
        methods,
        [
            "DisableUser",
            "CreateUser",
            "CreateUser",
            "RegisterPartner",
            "RegisterPartner"
        ]
    );
    let disable = &all.audit_records[0];
    assert_eq!(disable.reason, "left");
    assert_eq!(disable.resource_id, bob.user_id);
    assert_eq!(
        disable
            .before
            .as_ref()
            .and_then(|s| s.fields.get("state"))
            .and_then(|v| v.kind.clone()),
        Some(prost_types::value::Kind::StringValue("ACTIVE".into()))
    );

    // Partner A sees only its own; asking for B is NOT_FOUND.
    let own = ok(server
        .audit(&a_master)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await);
    assert_eq!(own.audit_records.len(), 4);
    assert!(
        own.audit_records
            .iter()
            .all(|r| r.partner_id == a.partner_id)
    );
    assert_refused(
        server
            .audit(&a_master)
            .list_audit_records(pb::ListAuditRecordsRequest {
                partner_id: b.partner_id.clone(),
                ..Default::default()
            })
            .await,
        tonic::Code::NotFound,
        "PARTNER_NOT_FOUND",
    );
    // Sub-users hold no audit permission until roles exist.
    assert_refused(
        server
            .audit(&alice_token)
            .list_audit_records(pb::ListAuditRecordsRequest::default())
            .await,
        tonic::Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    // Filters.
    let filtered = |req: pb::ListAuditRecordsRequest| {
        let mut client = server.audit(&admin);
        async move { ok(client.list_audit_records(req).await).audit_records }
    };
    let by_actor = filtered(pb::ListAuditRecordsRequest {
        actor_user_id: a.master_user_id.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_actor.len(), 3);
    let by_method = filtered(pb::ListAuditRecordsRequest {
        method: "partner.accounts.v1.PartnerService/RegisterPartner".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_method.len(), 2);
    let by_resource = filtered(pb::ListAuditRecordsRequest {
        resource_id: alice.user_id.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_resource.len(), 1);
    let by_partner = filtered(pb::ListAuditRecordsRequest {
        partner_id: b.partner_id.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(by_partner.len(), 1);
    let newest = all.audit_records[0].create_time.unwrap_or_default();
    let after_newest = prost_types::Timestamp {
        seconds: newest.seconds + 1,
        nanos: 0,
    };
    assert!(
        filtered(pb::ListAuditRecordsRequest {
            start_time: Some(after_newest),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        filtered(pb::ListAuditRecordsRequest {
            end_time: Some(after_newest),
            ..Default::default()
        })
        .await
        .len(),
        5
    );

    // Paging two at a time visits every record once, in the same order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(server
            .audit(&admin)
            .list_audit_records(pb::ListAuditRecordsRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await);
        paged.extend(page.audit_records.into_iter().map(|r| r.audit_record_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let ids: Vec<_> = all
        .audit_records
        .iter()
        .map(|r| r.audit_record_id.clone())
        .collect();
    assert_eq!(paged, ids);

    // Bad filters are field violations.
    let status = assert_refused(
        server
            .audit(&admin)
            .list_audit_records(pb::ListAuditRecordsRequest {
                actor_user_id: "prt_x".into(),
                ..Default::default()
            })
            .await,
        tonic::Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["actor_user_id"]);
}
