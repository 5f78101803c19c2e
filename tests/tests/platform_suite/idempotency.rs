//! Idempotent mutations: replays return the stored response and have no second
//! effect; a reused key with a different request is refused; concurrent
//! duplicates produce one effect.

use std::collections::HashSet;

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;

#[tokio::test]
async fn a_replay_returns_the_stored_response_and_changes_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let request = register_request("acme");
    let first = ok(server
        .partners(&admin)
        .register_partner(request.clone())
        .await);
    let again = ok(server
        .partners(&admin)
        .register_partner(request.clone())
        .await);
    assert_eq!(first, again, "byte-for-byte the stored response");
    let listed = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert_eq!(listed.partners.len(), 1);

    // Same key, different content.
    let mut changed = request.clone();
    changed.display_name = "Something else".into();
    assert_refused(
        server.partners(&admin).register_partner(changed).await,
        Code::FailedPrecondition,
        "IDEMPOTENCY_KEY_REUSED",
    );
    // The key is per method: the same id on another method is a new request.
    let partner_id = first.partner.map(|p| p.partner_id).unwrap_or_default();
    ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: request.request_id.clone(),
            partner_id: partner_id.clone(),
            reason: "check".into(),
        })
        .await);
    // A replayed suspension answers as it did the first time, not with a state conflict.
    let replay = ok(server
        .partners(&admin)
        .suspend_partner(pb::SuspendPartnerRequest {
            request_id: request.request_id.clone(),
            partner_id,
            reason: "check".into(),
        })
        .await);
    assert_eq!(
        replay.partner.map(|p| p.state),
        Some(pb::PartnerState::Suspended as i32)
    );
}

#[tokio::test]
async fn a_failed_request_can_be_retried_with_its_key() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    server.create_user(&master, "taken").await;
    let mut request = pb::CreateUserRequest {
        request_id: new_request_id(),
        username: "taken".into(),
        password: USER_PASSWORD.into(),
        ..Default::default()
    };
    assert_refused(
        server.users(&master).create_user(request.clone()).await,
        Code::AlreadyExists,
        "USERNAME_TAKEN",
    );
    // The refusal stored nothing under the key: the corrected request goes through.
    // (A corrected request is different content, so this proves the key was not claimed.)
    request.username = "free".into();
    let created = ok(server.users(&master).create_user(request).await);
    assert_eq!(created.user.map(|u| u.username).as_deref(), Some("free"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_duplicates_make_one_partner() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let request = register_request("racer");
    let calls = (0..20).map(|_| {
        let mut client = server.partners(&admin);
        let request = request.clone();
        tokio::spawn(async move {
            client
                .register_partner(request)
                .await
                .map(tonic::Response::into_inner)
        })
    });
    let results = futures::future::join_all(calls).await;
    let mut ids = HashSet::new();
    for r in results {
        let resp = r
            .unwrap_or_else(|e| panic!("task: {e}"))
            .unwrap_or_else(|s| panic!("call: {s:?}"));
        ids.insert(resp.partner.map(|p| p.partner_id).unwrap_or_default());
    }
    assert_eq!(ids.len(), 1, "every duplicate sees the same partner");
    let listed = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert_eq!(listed.partners.len(), 1, "one effect");
    server.login("racer", USER_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_different_requests_for_one_username_make_one_user() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let calls = (0..10).map(|_| {
        let mut client = server.partners(&admin);
        let request = register_request("contested");
        tokio::spawn(async move {
            client
                .register_partner(request)
                .await
                .map(tonic::Response::into_inner)
        })
    });
    let results = futures::future::join_all(calls).await;
    let mut won = 0;
    for r in results {
        match r.unwrap_or_else(|e| panic!("task: {e}")) {
            Ok(_) => won += 1,
            Err(status) => {
                assert_refused::<()>(Err(status), Code::AlreadyExists, "USERNAME_TAKEN");
            }
        }
    }
    assert_eq!(won, 1);
    let listed = ok(server
        .partners(&admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    assert_eq!(listed.partners.len(), 1, "no partner without its master");
}

/// Keys live their retention, then are forgotten: within it a retried
/// top-up answers as the first did; pruned, the same key is a new call —
/// and the ledger, which posts one request once forever, refuses to move
/// the money again.
#[tokio::test]
async fn keys_past_their_retention_are_pruned_and_younger_ones_still_replay() {
    use partner_api::billing::v1 as bi;
    use partner_kernel::clock::{Clock, TestClock};
    let clock = std::sync::Arc::new(TestClock::new(chrono::Utc::now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let admin = server.admin_token().await;
    let (partner, _) = server.register_partner(&admin, "keyco").await;
    let top_up = |request_id: String, token: String| {
        let (server, partner_id) = (&server, partner.partner_id.clone());
        async move {
            let r = ok(server
                .funds(&token)
                .top_up_partner(bi::TopUpPartnerRequest {
                    request_id,
                    partner_id,
                    amount: Some(cny(100)),
                    reason: "bank transfer".into(),
                })
                .await);
            minor_of(r.balances[0].balance.as_ref())
        }
    };
    let old_key = new_request_id();
    assert_eq!(top_up(old_key.clone(), admin.clone()).await, 100);
    clock.advance(chrono::Duration::days(8));
    let admin = server.admin_token().await;
    let young_key = new_request_id();
    assert_eq!(top_up(young_key.clone(), admin.clone()).await, 200);
    let db = partner_kernel::db::Db::connect(&server.db.url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let week_ago = clock.now() - chrono::Duration::days(7);
    let pruned = partner_kernel::idempotency::prune(&db, week_ago)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        pruned >= 2,
        "the first top-up's key and the setup's: {pruned}"
    );
    // Within its retention: the stored answer, no second top-up.
    assert_eq!(top_up(young_key, admin.clone()).await, 200);
    // Forgotten: a new call, which the ledger refuses.
    let again = server
        .funds(&admin)
        .top_up_partner(bi::TopUpPartnerRequest {
            request_id: old_key,
            partner_id: partner.partner_id.clone(),
            amount: Some(cny(100)),
            reason: "bank transfer".into(),
        })
        .await;
    let status = again.err().unwrap_or_else(|| panic!("posted twice"));
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(reason_of(&status), "REQUEST_ALREADY_POSTED");
    assert_eq!(top_up(new_request_id(), admin).await, 300);
    // Nothing is left to prune.
    assert_eq!(
        partner_kernel::idempotency::prune(&db, week_ago).await.ok(),
        Some(0)
    );
}
