//! Acting on another user: a caller may act on itself, on a sub-user whose
//! permissions it holds all of, and never on the master unless it is the
//! master — for access keys (create, disable, delete), users (update,
//! disable, enable, delete) and roles (assign, unassign). Refusals are
//! PERMISSION_DENIED `TARGET_OUTRANKS_CALLER` and change nothing.

use partner_api::accounts::v1 as pb;
use partner_api::iam::v1 as iam;
use partner_tests::*;
use prost_types::FieldMask;
use tonic::{Code, Status};

const OUTRANKS: &str = "TARGET_OUTRANKS_CALLER";

struct Team {
    server: TestServer,
    master: String,
    master_id: String,
    /// OPERATIONS: holds access_keys.*, users.create/disable/update — not everything.
    ops: String,
    ops_id: String,
    admin_user_id: String,
    sales_id: String,
}

async fn team() -> Team {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "acme").await;
    let (ops, ops_token) = server.user_with_role(&master, "ops", "OPERATIONS").await;
    let (boss, _) = server.user_with_role(&master, "boss", "ADMIN").await;
    let (sales, _) = server.user_with_role(&master, "seller", "SALES").await;
    Team {
        server,
        master,
        master_id: partner.master_user_id,
        ops: ops_token,
        ops_id: ops.user_id,
        admin_user_id: boss.user_id,
        sales_id: sales.user_id,
    }
}

fn key_for(user_id: &str) -> iam::CreateAccessKeyRequest {
    iam::CreateAccessKeyRequest {
        request_id: new_request_id(),
        user_id: user_id.into(),
        description: String::new(),
    }
}

async fn create_key(t: &Team, token: &str, user_id: &str) -> Result<iam::AccessKey, Status> {
    let created = t
        .server
        .access_keys(token)
        .create_access_key(key_for(user_id))
        .await?
        .into_inner();
    created.access_key.ok_or_else(|| Status::internal("no key"))
}

#[track_caller]
fn outranked<T: std::fmt::Debug>(result: Result<T, Status>) {
    assert_refused(result, Code::PermissionDenied, OUTRANKS);
}

#[tokio::test]
async fn operations_cannot_mint_keys_for_the_master_or_an_admin() {
    let t = team().await;
    outranked(create_key(&t, &t.ops, &t.master_id).await);
    outranked(create_key(&t, &t.ops, &t.admin_user_id).await);
    // Itself, and a user whose permissions it holds all of, are fine.
    create_key(&t, &t.ops, &t.ops_id)
        .await
        .unwrap_or_else(|e| panic!("own key: {e:?}"));
    create_key(&t, &t.ops, &t.sales_id)
        .await
        .unwrap_or_else(|e| panic!("a sales user's key: {e:?}"));
    // Nothing was made for the master or the admin.
    let keys = ok(t
        .server
        .access_keys(&t.master)
        .list_access_keys(iam::ListAccessKeysRequest::default())
        .await)
    .access_keys;
    assert!(
        keys.iter()
            .all(|k| k.user_id != t.master_id && k.user_id != t.admin_user_id),
        "{keys:?}"
    );
    // The master may act on everyone.
    create_key(&t, &t.master, &t.admin_user_id)
        .await
        .unwrap_or_else(|e| panic!("master for admin: {e:?}"));
}

#[tokio::test]
async fn operations_cannot_disable_or_delete_keys_it_outranks_not() {
    let t = team().await;
    let master_key = create_key(&t, &t.master, &t.master_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let admin_key = create_key(&t, &t.master, &t.admin_user_id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for key in [&master_key, &admin_key] {
        outranked(
            t.server
                .access_keys(&t.ops)
                .disable_access_key(iam::DisableAccessKeyRequest {
                    request_id: new_request_id(),
                    access_key_id: key.access_key_id.clone(),
                    reason: String::new(),
                })
                .await,
        );
        outranked(
            t.server
                .access_keys(&t.ops)
                .delete_access_key(iam::DeleteAccessKeyRequest {
                    request_id: new_request_id(),
                    access_key_id: key.access_key_id.clone(),
                    reason: String::new(),
                })
                .await,
        );
    }
    let keys = ok(t
        .server
        .access_keys(&t.master)
        .list_access_keys(iam::ListAccessKeysRequest::default())
        .await)
    .access_keys;
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|k| k.state == iam::AccessKeyState::Active as i32)
    );
}

#[tokio::test]
async fn operations_cannot_change_users_who_outrank_it() {
    let t = team().await;
    let users = t.server.users(&t.ops);
    for target in [&t.master_id, &t.admin_user_id] {
        outranked(
            users
                .clone()
                .disable_user(pb::DisableUserRequest {
                    request_id: new_request_id(),
                    user_id: target.clone(),
                    reason: String::new(),
                })
                .await,
        );
        outranked(
            users
                .clone()
                .update_user(pb::UpdateUserRequest {
                    request_id: new_request_id(),
                    user: Some(pb::User {
                        user_id: target.clone(),
                        email: "attacker@evil.example".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["email".into()],
                    }),
                })
                .await,
        );
    }
    // The admin user is still active and unchanged; the master too.
    for target in [&t.master_id, &t.admin_user_id] {
        let user = ok(t
            .server
            .users(&t.master)
            .get_user(pb::GetUserRequest {
                user_id: target.clone(),
            })
            .await)
        .user
        .unwrap_or_default();
        assert_eq!(user.state, pb::UserState::Active as i32);
        assert_ne!(user.email, "attacker@evil.example");
    }
    // A user it outranks is fine.
    ok(users
        .clone()
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: t.sales_id.clone(),
            reason: String::new(),
        })
        .await);
    ok(users
        .clone()
        .enable_user(pb::EnableUserRequest {
            request_id: new_request_id(),
            user_id: t.sales_id.clone(),
            reason: String::new(),
        })
        .await);
}

#[tokio::test]
async fn enabling_and_deleting_follow_the_same_rule() {
    let t = team().await;
    // The master disables the admin user; a deleter that is not an admin
    // may neither enable nor delete it.
    ok(t.server
        .users(&t.master)
        .disable_user(pb::DisableUserRequest {
            request_id: new_request_id(),
            user_id: t.admin_user_id.clone(),
            reason: String::new(),
        })
        .await);
    let roles = t.server.roles(&t.master);
    let deleters = ok(roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: "Deleters".into(),
                permission_ids: vec!["users.delete".into(), "users.disable".into()],
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_default();
    let (deleter_user, deleter) = t
        .server
        .user_with_role(&t.master, "deleter", &deleters.role_id)
        .await;
    outranked(
        t.server
            .users(&deleter)
            .enable_user(pb::EnableUserRequest {
                request_id: new_request_id(),
                user_id: t.admin_user_id.clone(),
                reason: String::new(),
            })
            .await,
    );
    outranked(
        t.server
            .users(&deleter)
            .delete_user(pb::DeleteUserRequest {
                request_id: new_request_id(),
                user_id: t.master_id.clone(),
                reason: String::new(),
            })
            .await,
    );
    // The deleter may delete itself: a caller may always act on itself.
    ok(t.server
        .users(&deleter)
        .delete_user(pb::DeleteUserRequest {
            request_id: new_request_id(),
            user_id: deleter_user.user_id.clone(),
            reason: "leaving".into(),
        })
        .await);
    assert_refused(
        t.server
            .users(&deleter)
            .get_user(pb::GetUserRequest {
                user_id: deleter_user.user_id,
            })
            .await,
        Code::Unauthenticated,
        "USER_DELETED",
    );
}

#[tokio::test]
async fn role_holders_cannot_take_roles_from_users_who_outrank_them() {
    let t = team().await;
    // A delegate that may assign SALES (it holds all of SALES' permissions)
    // but not act on the ADMIN user.
    let roles = t.server.roles(&t.master);
    // SALES as the server describes it, whatever the domains give it.
    let mut permission_ids = ok(roles
        .clone()
        .get_role(pb::GetRoleRequest {
            role_id: "SALES".into(),
        })
        .await)
    .role
    .unwrap_or_default()
    .permission_ids;
    permission_ids.push("roles.assign".into());
    let delegates = ok(roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            request_id: new_request_id(),
            role: Some(pb::Role {
                display_name: "Delegates".into(),
                permission_ids,
                ..Default::default()
            }),
        })
        .await)
    .role
    .unwrap_or_default();
    let (_, delegate) = t
        .server
        .user_with_role(&t.master, "delegate", &delegates.role_id)
        .await;
    ok(roles
        .clone()
        .assign_role(pb::AssignRoleRequest {
            request_id: new_request_id(),
            role_id: "SALES".into(),
            user_id: t.admin_user_id.clone(),
        })
        .await);
    outranked(
        t.server
            .roles(&delegate)
            .unassign_role(pb::UnassignRoleRequest {
                request_id: new_request_id(),
                role_id: "SALES".into(),
                user_id: t.admin_user_id.clone(),
            })
            .await,
    );
    // On a user it outranks, the same call works.
    ok(t.server
        .roles(&delegate)
        .unassign_role(pb::UnassignRoleRequest {
            request_id: new_request_id(),
            role_id: "SALES".into(),
            user_id: t.sales_id.clone(),
        })
        .await);
}

#[tokio::test]
async fn the_takeover_chain_stops_at_its_first_step() {
    // The attack this rule exists for: OPERATIONS mints a key for the
    // master, exchanges it, and as the master makes itself ADMIN.
    let t = team().await;
    outranked(create_key(&t, &t.ops, &t.master_id).await);
    // Its own key carries its own permissions only: it cannot grant itself ADMIN.
    let created = ok(t
        .server
        .access_keys(&t.ops)
        .create_access_key(key_for(""))
        .await);
    let key = created.access_key.unwrap_or_default();
    let token = t
        .server
        .auth()
        .exchange_access_key(iam::ExchangeAccessKeyRequest {
            access_key_id: key.access_key_id,
            secret: created.secret,
        })
        .await
        .unwrap_or_else(|e| panic!("exchange: {e:?}"))
        .into_inner()
        .access_token;
    assert_refused(
        t.server
            .roles(&token)
            .assign_role(pb::AssignRoleRequest {
                request_id: new_request_id(),
                role_id: "ADMIN".into(),
                user_id: t.ops_id.clone(),
            })
            .await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );
}
