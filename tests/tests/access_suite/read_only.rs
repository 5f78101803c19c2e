//! Generated from the access table: a sub-user with the built-in `READ_ONLY`
//! role is refused every mutating RPC with `MISSING_PERMISSION`, and passes the
//! gate of exactly the reads its permissions name. No RPC is hand-picked: a new
//! RPC is covered the moment it is declared.

use partner_kernel::access::{Access, Effect};
use partner_tests::*;
use tonic::Code;

#[tokio::test]
async fn read_only_is_refused_every_write_and_admitted_to_its_reads() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "readers").await;
    let (_, token) = server
        .user_with_role(&master, "reader.one", "READ_ONLY")
        .await;

    // What READ_ONLY holds, as the server itself describes the role.
    let held = ok(server
        .roles(&master)
        .get_role(partner_api::accounts::v1::GetRoleRequest {
            role_id: "READ_ONLY".into(),
        })
        .await)
    .role
    .unwrap_or_else(|| panic!("no role"))
    .permission_ids;
    assert!(!held.is_empty());

    let mut writes = 0;
    let mut admitted_reads = 0;
    let table = access_table();
    for rule in table.rules() {
        let Access::AnyOf(needed) = rule.access else {
            // Public and session-only RPCs need no permission; they cannot
            // change another user's data (see access_table.rs for which).
            assert_ne!(
                (rule.effect, rule.access),
                (Effect::Write, Access::Authenticated),
                "{}: a write any caller may make",
                rule.method
            );
            continue;
        };
        let outcome = server.call_empty(rule.method, &token).await;
        let denied = matches!(&outcome, Err(s) if s.code() == Code::PermissionDenied);
        match rule.effect {
            Effect::Write => {
                writes += 1;
                let status = outcome
                    .err()
                    .unwrap_or_else(|| panic!("{}: READ_ONLY made a write", rule.method));
                assert_eq!(status.code(), Code::PermissionDenied, "{}", rule.method);
                assert_eq!(reason_of(&status), "MISSING_PERMISSION", "{}", rule.method);
            }
            Effect::Read | Effect::SignIn => {
                let holds_one = needed.iter().any(|p| held.iter().any(|h| h == p.id()));
                assert_eq!(denied, !holds_one, "{}: {outcome:?}", rule.method);
                if holds_one {
                    admitted_reads += 1;
                }
            }
        }
    }
    assert!(writes >= 10, "only {writes} writes checked");
    assert!(admitted_reads >= 5, "only {admitted_reads} reads admitted");
}

#[tokio::test]
async fn read_only_can_actually_read() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (partner, master) = server.register_partner(&admin, "viewers").await;
    let (_, token) = server
        .user_with_role(&master, "viewer.one", "READ_ONLY")
        .await;
    let got = ok(server
        .partners(&token)
        .get_partner(partner_api::accounts::v1::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(got.partner.map(|p| p.partner_id), Some(partner.partner_id));
    let users = ok(server
        .users(&token)
        .list_users(partner_api::accounts::v1::ListUsersRequest::default())
        .await);
    assert_eq!(users.users.len(), 2);
}
