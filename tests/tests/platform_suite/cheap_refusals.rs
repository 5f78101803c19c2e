//! Cheap refusals come before expensive work. A server whose hashing queue
//! holds nothing refuses every password hash at once (`HASHING_BUSY`), so
//! each call below that answers anything else provably hashed nothing: a
//! taken username, a replay, a spent invitation token.

use partner_api::accounts::v1 as pb;
use partner_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn taken_names_replays_and_spent_tokens_are_refused_without_hashing() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let alice = create_user_request("alice");
    let created = ok(server.users(&master).create_user(alice.clone()).await);
    let (_, token) = server
        .invite(&admin, pb::Program::SolutionProvider, "")
        .await
        .unwrap_or_else(|e| panic!("invite: {e:?}"));
    let signup = sign_up_request(&token, "newco");
    let signed_up = ok(server
        .programs_public()
        .sign_up_with_invitation(signup.clone())
        .await);

    // The same database, served with no room to hash anything.
    let db = server.db.clone();
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    let server = TestServer::start_on(db, |c| c.hashing_queue = 0).await;

    // The control: a call that must hash is refused at once, with RetryInfo.
    let busy = assert_refused(
        server
            .users(&master)
            .create_user(create_user_request("bob"))
            .await,
        Code::ResourceExhausted,
        "HASHING_BUSY",
    );
    assert!(busy.get_error_details().retry_info().is_some(), "{busy:?}");
    assert_refused(
        server.login_pair("acme", USER_PASSWORD).await,
        Code::ResourceExhausted,
        "HASHING_BUSY",
    );

    // A taken username, for a user and for a partner's master.
    assert_refused(
        server
            .users(&master)
            .create_user(create_user_request("alice"))
            .await,
        Code::AlreadyExists,
        "USERNAME_TAKEN",
    );
    assert_refused(
        server
            .partners(&admin)
            .register_partner(register_request("acme"))
            .await,
        Code::AlreadyExists,
        "USERNAME_TAKEN",
    );
    // A replay answers the stored response.
    assert_eq!(ok(server.users(&master).create_user(alice).await), created);
    // A spent invitation token: refused, unless it is the replay of the call
    // that spent it.
    assert_refused(
        server
            .programs_public()
            .sign_up_with_invitation(sign_up_request(&token, "other"))
            .await,
        Code::FailedPrecondition,
        "INVITATION_ALREADY_USED",
    );
    assert_eq!(
        ok(server
            .programs_public()
            .sign_up_with_invitation(signup)
            .await),
        signed_up
    );
}
