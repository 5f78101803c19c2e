//! Roles through the real server: the catalog, built-in and custom roles,
//! membership, effect on the member's very next call, escalation limits,
//! deletion rules and audit.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::Code;

async fn create_role(server: &TestServer, token: &str, name: &str, perms: &[&str]) -> pb::Role {
    ok(server
        .roles(token)
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: name.into(),
                description: format!("{name} role"),
                permission_ids: perms.iter().map(|p| (*p).to_owned()).collect(),
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_else(|| panic!("no role"))
}

async fn assign(
    server: &TestServer,
    token: &str,
    role_id: &str,
    user_id: &str,
) -> Result<Vec<String>, tonic::Status> {
    server
        .roles(token)
        .assign_role(pb::AssignRoleRequest {
            request_id: new_request_id(),
            role_id: role_id.into(),
            user_id: user_id.into(),
        })
        .await
        .map(|r| r.into_inner().role_ids)
}

async fn unassign(
    server: &TestServer,
    token: &str,
    role_id: &str,
    user_id: &str,
) -> Result<Vec<String>, tonic::Status> {
    server
        .roles(token)
        .unassign_role(pb::UnassignRoleRequest {
            request_id: new_request_id(),
            role_id: role_id.into(),
            user_id: user_id.into(),
        })
        .await
        .map(|r| r.into_inner().role_ids)
}

async fn list_users(
    server: &TestServer,
    token: &str,
) -> Result<pb::ListUsersResponse, tonic::Status> {
    server
        .users(token)
        .list_users(pb::ListUsersRequest::default())
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_catalog_lists_every_permission_with_scope_and_domain() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let catalog = ok(server
        .roles(&admin)
        .list_permissions(pb::ListPermissionsRequest {})
        .await)
    .permissions;
    assert_eq!(catalog.len(), access_table().catalog().all().len());
    for p in &catalog {
        assert!(!p.description.is_empty() && !p.domain.is_empty(), "{p:?}");
        let want = if p.permission_id.starts_with("platform.") {
            pb::PermissionScope::Platform
        } else if p.permission_id.starts_with("self.") {
            pb::PermissionScope::Customer
        } else {
            pb::PermissionScope::Partner
        };
        assert_eq!(p.scope(), want, "{p:?}");
    }
    assert!(catalog.iter().any(|p| p.permission_id == "users.create"));
    assert!(
        catalog
            .iter()
            .any(|p| p.permission_id == "self.account.read")
    );
}

#[tokio::test]
async fn built_in_roles_are_listed_with_member_counts_and_cannot_change() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "builtin").await;
    server.user_with_role(&master, "sales.one", "SALES").await;
    server.user_with_role(&master, "sales.two", "SALES").await;
    server.user_with_role(&master, "fin.one", "FINANCE").await;
    let custom = create_role(&server, &master, "Auditors", &["audit.read"]).await;

    let roles = ok(server
        .roles(&master)
        .list_roles(pb::ListRolesRequest::default())
        .await)
    .roles;
    let ids: Vec<_> = roles.iter().map(|r| r.role_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ADMIN",
            "FINANCE",
            "OPERATIONS",
            "READ_ONLY",
            "SALES",
            custom.role_id.as_str()
        ]
    );
    let count = |id: &str| {
        roles
            .iter()
            .find(|r| r.role_id == id)
            .map(|r| r.member_count)
    };
    assert_eq!(count("SALES"), Some(2));
    assert_eq!(count("FINANCE"), Some(1));
    assert_eq!(count("ADMIN"), Some(0));
    assert!(
        roles
            .iter()
            .take(5)
            .all(|r| r.system && r.create_time.is_none())
    );
    assert!(!roles[5].system);

    let admin_role = ok(server
        .roles(&master)
        .get_role(pb::GetRoleRequest {
            role_id: "ADMIN".into(),
        })
        .await)
    .role
    .unwrap_or_else(|| panic!("no role"));
    assert!(
        admin_role
            .permission_ids
            .contains(&"roles.assign".to_owned())
    );
    assert!(
        !admin_role
            .permission_ids
            .iter()
            .any(|p| p.starts_with("platform."))
    );

    let update = server
        .roles(&master)
        .update_role(pb::UpdateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                role_id: "SALES".into(),
                display_name: "Mine now".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await;
    assert_refused(update, Code::FailedPrecondition, "SYSTEM_ROLE_READ_ONLY");
    let delete = server
        .roles(&master)
        .delete_role(pb::DeleteRoleRequest {
            request_id: new_request_id(),
            role_id: "READ_ONLY".into(),
            force: true,
        })
        .await;
    assert_refused(delete, Code::FailedPrecondition, "SYSTEM_ROLE_READ_ONLY");
}

#[tokio::test]
async fn list_roles_pages_across_built_in_and_custom_roles() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "pager").await;
    for i in 0..7 {
        create_role(&server, &master, &format!("Role {i}"), &["users.read"]).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(server
            .roles(&master)
            .list_roles(pb::ListRolesRequest {
                page_size: 4,
                page_token: token,
            })
            .await);
        assert!(page.roles.len() <= 4);
        seen.extend(page.roles.into_iter().map(|r| r.role_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12);
}

#[tokio::test]
async fn granting_and_revoking_changes_what_the_user_can_do_on_its_next_call() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "grants").await;
    let (user, token) = server.create_user(&master, "grant.user").await;

    // No roles: nothing.
    assert_refused(
        list_users(&server, &token).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    // A custom role with users.read: the same token now lists users.
    let readers = create_role(&server, &master, "Readers", &["users.read"]).await;
    assert_eq!(
        assign(&server, &master, &readers.role_id, &user.user_id)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        vec![readers.role_id.clone()]
    );
    assert_eq!(
        list_users(&server, &token)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
            .users
            .len(),
        2
    );

    // Changing the role's permissions applies at once, too.
    ok(server
        .roles(&master)
        .update_role(pb::UpdateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                role_id: readers.role_id.clone(),
                permission_ids: vec!["audit.read".into()],
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["permission_ids".into()],
            }),
        })
        .await);
    assert_refused(
        list_users(&server, &token).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    ok(server
        .audit(&token)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await);

    // Permissions are the union of the roles.
    assign(&server, &master, "SALES", &user.user_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(list_users(&server, &token).await.is_ok());
    ok(server
        .audit(&token)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await);

    // Revoking takes it away on the next call, without a new login.
    let left = unassign(&server, &master, "SALES", &user.user_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(left, vec![readers.role_id.clone()]);
    assert_refused(
        list_users(&server, &token).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // Unassigning what is not held changes nothing and succeeds.
    assert_eq!(
        unassign(&server, &master, "SALES", &user.user_id)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        vec![readers.role_id.clone()]
    );
}

#[tokio::test]
async fn a_role_manager_cannot_reach_beyond_its_own_permissions() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "reach").await;
    // A delegate that may assign roles and create users, nothing else.
    let delegates = create_role(
        &server,
        &master,
        "Delegates",
        &["roles.assign", "roles.manage", "roles.read", "users.read"],
    )
    .await;
    let (me, token) = server
        .user_with_role(&master, "delegate", &delegates.role_id)
        .await;
    let (other, _) = server.create_user(&master, "other").await;

    // Giving itself or anyone ADMIN would be an escalation.
    let status = assert_refused(
        assign(&server, &token, "ADMIN", &me.user_id).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // It names the first permission it lacks, by id.
    assert!(
        status.message().contains("access_keys.create"),
        "{status:?}"
    );
    assert_refused(
        assign(&server, &token, "ADMIN", &other.user_id).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    // Nor may it mint a role with permissions it lacks.
    let minted = server
        .roles(&token)
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: "Sneaky".into(),
                permission_ids: vec!["users.create".into()],
                ..Default::default()
            }),
        })
        .await;
    assert_refused(minted, Code::PermissionDenied, "MISSING_PERMISSION");
    // Within its reach it works.
    let readers = create_role(&server, &token, "Readers", &["users.read"]).await;
    assign(&server, &token, &readers.role_id, &other.user_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    // The master is beyond roles altogether.
    let master_user = list_users(&server, &master)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .users
        .into_iter()
        .find(|u| u.master)
        .unwrap_or_else(|| panic!("no master"));
    assert_refused(
        assign(&server, &master, "SALES", &master_user.user_id).await,
        Code::FailedPrecondition,
        "MASTER_USER_IMMUTABLE",
    );
}

#[tokio::test]
async fn deleting_a_role_with_members_needs_force_and_unassigns_them() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "deleter").await;
    let role = create_role(&server, &master, "Temps", &["users.read"]).await;
    let (_, token) = server
        .user_with_role(&master, "temp.one", &role.role_id)
        .await;
    assert!(list_users(&server, &token).await.is_ok());

    let delete = |force: bool| pb::DeleteRoleRequest {
        request_id: new_request_id(),
        role_id: role.role_id.clone(),
        force,
    };
    let status = assert_refused(
        server.roles(&master).delete_role(delete(false)).await,
        Code::FailedPrecondition,
        "ROLE_HAS_MEMBERS",
    );
    assert!(status.message().contains('1'), "{status:?}");
    let members = ok(server
        .roles(&master)
        .list_role_members(pb::ListRoleMembersRequest {
            role_id: role.role_id.clone(),
            ..Default::default()
        })
        .await);
    assert_eq!(members.users.len(), 1);

    let deleted = ok(server.roles(&master).delete_role(delete(true)).await);
    assert_eq!(deleted.unassigned_count, 1);
    assert_refused(
        list_users(&server, &token).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
    assert_refused(
        server
            .roles(&master)
            .get_role(pb::GetRoleRequest {
                role_id: role.role_id.clone(),
            })
            .await,
        Code::NotFound,
        "ROLE_NOT_FOUND",
    );
    // The name is free again.
    create_role(&server, &master, "Temps", &[]).await;
}

#[tokio::test]
async fn role_input_is_validated() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "validator").await;
    create_role(&server, &master, "Taken", &[]).await;
    let create = |name: &str, perms: &[&str]| pb::CreateRoleRequest {
        request_id: new_request_id(),
        role: Some(pb::Role {
            display_name: name.into(),
            permission_ids: perms.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        }),
    };
    let status = assert_refused(
        server
            .roles(&master)
            .create_role(create("", &["no.such", "platform.partners.register"]))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    let fields = violated_fields(&status);
    assert!(
        fields.contains(&"role.display_name".to_owned()),
        "{fields:?}"
    );
    assert_eq!(
        fields
            .iter()
            .filter(|f| *f == "role.permission_ids")
            .count(),
        2,
        "{fields:?}"
    );
    assert_refused(
        server
            .roles(&master)
            .create_role(create("Taken", &[]))
            .await,
        Code::AlreadyExists,
        "ROLE_NAME_TAKEN",
    );
    assert_refused(
        assign(&server, &master, "SUPERUSER", "usr_0").await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    // The operator has no partner roles.
    assert_refused(
        server
            .roles(&admin)
            .list_roles(pb::ListRolesRequest::default())
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}

#[tokio::test]
async fn role_changes_are_audited_with_before_and_after() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "audited").await;
    let (user, _) = server.create_user(&master, "aud.user").await;
    assign(&server, &master, "FINANCE", &user.user_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let records = ok(server
        .audit(&master)
        .list_audit_records(pb::ListAuditRecordsRequest {
            method: "partner.accounts.v1.RoleService/AssignRole".into(),
            ..Default::default()
        })
        .await)
    .audit_records;
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.resource_id, user.user_id);
    let roles_in = |s: &Option<prost_types::Struct>| {
        s.as_ref()
            .and_then(|s| s.fields.get("role_ids"))
            .map(|v| format!("{v:?}"))
            .unwrap_or_default()
    };
    assert!(!roles_in(&r.before).contains("FINANCE"), "{r:?}");
    assert!(roles_in(&r.after).contains("FINANCE"), "{r:?}");
}

#[tokio::test]
async fn role_members_page_by_user_id_and_hold_only_members() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "members").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let (user, _) = server
            .user_with_role(&master, &format!("member.{i}"), "FINANCE")
            .await;
        expected.push(user.user_id);
    }
    // A user without the role stays out of the list.
    server.user_with_role(&master, "outsider", "SALES").await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = ok(server
            .roles(&master)
            .list_role_members(pb::ListRoleMembersRequest {
                role_id: "FINANCE".into(),
                page_size: 2,
                page_token: token,
            })
            .await);
        assert!(page.users.len() <= 2, "{page:?}");
        seen.extend(page.users.into_iter().map(|u| u.user_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    expected.sort();
    assert_eq!(seen, expected);
}
