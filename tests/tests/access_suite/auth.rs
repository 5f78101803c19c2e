//! Signing in, refreshing, signing out and the published keys, through the
//! real server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as pb;
use partner_tests::*;
use serde_json::{Map, Value};
use tonic::{Code, Status};

/// An authenticated call the operator may make.
async fn list_partners(
    server: &TestServer,
    token: &str,
) -> Result<accounts::ListPartnersResponse, Status> {
    server
        .partners(token)
        .list_partners(accounts::ListPartnersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn refresh(server: &TestServer, refresh_token: &str) -> Result<pb::TokenPair, Status> {
    let resp = server
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
        })
        .await?;
    resp.into_inner()
        .tokens
        .ok_or_else(|| Status::internal("no tokens"))
}

async fn admin_pair(server: &TestServer) -> pb::TokenPair {
    server
        .login_pair("admin", ADMIN_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("login: {e:?}"))
}

/// The JSON of one segment (0 = header, 1 = payload) of a compact JWT.
fn segment(token: &str, index: usize) -> Map<String, Value> {
    let part = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("token has no segment {index}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("segment {index}: {e}"));
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => map,
        other => panic!("segment {index} is not an object: {other:?}"),
    }
}

fn claim_i64(token: &str, name: &str) -> i64 {
    segment(token, 1)
        .get(name)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("no numeric {name} claim"))
}

fn claim_str(token: &str, name: &str) -> String {
    segment(token, 1)
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {name} claim"))
        .to_owned()
}

#[tokio::test]
async fn login_issues_a_working_token_pair() {
    let server = TestServer::start().await;
    let pair = admin_pair(&server).await;
    assert_eq!(pair.token_type, "Bearer");
    assert!(pair.refresh_token.starts_with("prt_rt_"), "{pair:?}");
    assert_eq!(pair.access_token.split('.').count(), 3);
    let seconds = |t: &Option<prost_types::Timestamp>| t.as_ref().map(|t| t.seconds);
    assert!(seconds(&pair.refresh_token_expire_time) > seconds(&pair.access_token_expire_time));
    list_partners(&server, &pair.access_token)
        .await
        .unwrap_or_else(|e| panic!("fresh token: {e:?}"));
    // Two logins are two sessions with distinct tokens.
    let other = admin_pair(&server).await;
    assert_ne!(other.access_token, pair.access_token);
    assert_ne!(other.refresh_token, pair.refresh_token);
    assert_ne!(
        claim_str(&other.access_token, "sid"),
        claim_str(&pair.access_token, "sid")
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let server = TestServer::start().await;
    let wrong = assert_refused(
        server.login_pair("admin", "not-the-password").await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    let unknown = assert_refused(
        server.login_pair("nobody-here", ADMIN_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    assert_eq!(wrong.message(), unknown.message());
    // Usernames are matched exactly; a near miss is an unknown user.
    assert_refused(
        server.login_pair("admin ", ADMIN_PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    server.admin_token().await;
}

#[tokio::test]
async fn empty_username_or_password_is_a_field_violation() {
    let server = TestServer::start().await;
    let status = assert_refused(
        server.login_pair("", ADMIN_PASSWORD).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["username"]);
    let status = assert_refused(
        server.login_pair("admin", "").await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["password"]);
    let status = assert_refused(
        server.login_pair("", "").await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["username", "password"]);
    let status = assert_refused(
        server.login_pair(&"u".repeat(65), ADMIN_PASSWORD).await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["username"]);
}

#[tokio::test]
async fn refresh_rotates_the_pair() {
    let server = TestServer::start().await;
    let first = admin_pair(&server).await;
    let second = refresh(&server, &first.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    assert_eq!(second.token_type, "Bearer");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert!(second.refresh_token.starts_with("prt_rt_"));
    // The same session and user, a new token id.
    for claim in ["sid", "sub"] {
        assert_eq!(
            claim_str(&second.access_token, claim),
            claim_str(&first.access_token, claim)
        );
    }
    assert_ne!(
        claim_str(&second.access_token, "jti"),
        claim_str(&first.access_token, "jti")
    );
    // The session's end does not move with rotation. Compared to the
    // microsecond, the precision PostgreSQL stores it with.
    let micros = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .map(|t| (t.seconds, t.nanos / 1000))
            .unwrap_or_else(|| panic!("no refresh expiry"))
    };
    assert_eq!(
        micros(&second.refresh_token_expire_time),
        micros(&first.refresh_token_expire_time)
    );

    list_partners(&server, &second.access_token)
        .await
        .unwrap_or_else(|e| panic!("new access token: {e:?}"));
    // Rotation spends the refresh token, not the access tokens already out.
    list_partners(&server, &first.access_token)
        .await
        .unwrap_or_else(|e| panic!("old access token before expiry: {e:?}"));

    // The chain continues from the newest refresh token.
    let third = refresh(&server, &second.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("second refresh: {e:?}"));
    list_partners(&server, &third.access_token)
        .await
        .unwrap_or_else(|e| panic!("third access token: {e:?}"));
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_session() {
    let server = TestServer::start().await;
    let first = admin_pair(&server).await;
    let bystander = admin_pair(&server).await;
    let second = refresh(&server, &first.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));

    assert_refused(
        refresh(&server, &first.refresh_token).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_REUSED",
    );
    // The whole family is gone: the latest access and refresh tokens, and the first.
    assert_refused(
        list_partners(&server, &second.access_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        list_partners(&server, &first.access_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        refresh(&server, &second.refresh_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    // Presenting the spent token yet again finds the session already ended.
    assert_refused(
        refresh(&server, &first.refresh_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );

    // Another session of the same user is untouched.
    list_partners(&server, &bystander.access_token)
        .await
        .unwrap_or_else(|e| panic!("other session: {e:?}"));
    refresh(&server, &bystander.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("other session refresh: {e:?}"));
}

#[tokio::test]
async fn unknown_or_malformed_refresh_tokens_are_refused() {
    let server = TestServer::start().await;
    let pair = admin_pair(&server).await;
    let mut altered = pair.refresh_token.clone();
    let last = if altered.ends_with('A') { "B" } else { "A" };
    altered.replace_range(altered.len() - 1.., last);
    let unprefixed = pair.refresh_token.trim_start_matches("prt_rt_");
    assert_ne!(unprefixed, pair.refresh_token);
    for token in [
        altered.as_str(),
        unprefixed,
        "prt_rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_refused(
            refresh(&server, token).await,
            Code::Unauthenticated,
            "REFRESH_TOKEN_INVALID",
        );
    }
    let status = assert_refused(
        refresh(&server, "").await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );
    assert_eq!(violated_fields(&status), ["refresh_token"]);
    // None of that spent or revoked the real one.
    refresh(&server, &pair.refresh_token)
        .await
        .unwrap_or_else(|e| panic!("real refresh token: {e:?}"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = TestServer::start().await;
    let pair = admin_pair(&server).await;
    let bystander = admin_pair(&server).await;
    list_partners(&server, &pair.access_token)
        .await
        .unwrap_or_else(|e| panic!("before logout: {e:?}"));

    ok(server
        .auth_as(&pair.access_token)
        .logout(pb::LogoutRequest {})
        .await);

    assert_refused(
        list_partners(&server, &pair.access_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        refresh(&server, &pair.refresh_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    assert_refused(
        server
            .auth_as(&pair.access_token)
            .logout(pb::LogoutRequest {})
            .await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    list_partners(&server, &bystander.access_token)
        .await
        .unwrap_or_else(|e| panic!("other session: {e:?}"));
}

#[tokio::test]
async fn logout_needs_a_token() {
    let server = TestServer::start().await;
    assert_refused(
        server.auth().logout(pb::LogoutRequest {}).await,
        Code::Unauthenticated,
        "AUTHENTICATION_REQUIRED",
    );
}

#[tokio::test]
async fn disabled_user_cannot_log_in_and_its_token_stops_working() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let (alice, alice_token) = server.create_user(&master, "alice").await;
    let alice_pair = server
        .login_pair("alice", USER_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("alice login: {e:?}"));

    // A sub-user holds no permissions yet, so an authenticated call of hers is
    // refused by authorisation, which shows authentication passed.
    let get_self = |token: String| {
        let user_id = alice.user_id.clone();
        let mut users = server.users(&token);
        async move {
            users
                .get_user(accounts::GetUserRequest { user_id })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    assert_refused(
        get_self(alice_token.clone()).await,
        Code::PermissionDenied,
        "MISSING_PERMISSION",
    );

    ok(server
        .users(&master)
        .disable_user(accounts::DisableUserRequest {
            request_id: new_request_id(),
            user_id: alice.user_id.clone(),
            reason: "left the company".into(),
        })
        .await);

    assert_refused(
        get_self(alice_token.clone()).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
    assert_refused(
        get_self(alice_pair.access_token.clone()).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
    assert_refused(
        server.login_pair("alice", USER_PASSWORD).await,
        Code::Unauthenticated,
        "USER_DISABLED",
    );
    // The password is checked first: a wrong one says nothing about the state.
    assert_refused(
        server.login_pair("alice", "wrong-password").await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
    // Disabling ended the user's sessions, refresh tokens and all.
    assert_refused(
        refresh(&server, &alice_pair.refresh_token).await,
        Code::Unauthenticated,
        "SESSION_REVOKED",
    );
    // The master is unaffected.
    ok(server
        .users(&master)
        .get_user(accounts::GetUserRequest {
            user_id: alice.user_id.clone(),
        })
        .await);
}

#[tokio::test]
async fn get_jwks_needs_no_token_and_names_the_signing_key() {
    let server = TestServer::start().await;
    let jwks = ok(server.auth().get_jwks(pb::GetJwksRequest {}).await);
    assert_eq!(jwks.keys.len(), 1, "{jwks:?}");
    let key = &jwks.keys[0];
    assert_eq!(
        (
            key.kty.as_str(),
            key.crv.as_str(),
            key.alg.as_str(),
            key.r#use.as_str()
        ),
        ("OKP", "Ed25519", "EdDSA", "sig")
    );
    let x = URL_SAFE_NO_PAD
        .decode(&key.x)
        .unwrap_or_else(|e| panic!("x is not base64url: {e}"));
    assert_eq!(x.len(), 32);

    let token = server.admin_token().await;
    let header = segment(&token, 0);
    assert_eq!(header.get("alg").and_then(Value::as_str), Some("EdDSA"));
    assert_eq!(
        header.get("kid").and_then(Value::as_str),
        Some(key.kid.as_str())
    );

    // The published key alone verifies the token, as a relying party would.
    let decoding = DecodingKey::from_ed_components(&key.x)
        .unwrap_or_else(|e| panic!("decoding key from JWK: {e}"));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["partner-platform"]);
    validation.set_audience(&["partner-api"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(&token, &decoding, &validation)
        .unwrap_or_else(|e| panic!("token does not verify with the JWKS key: {e}"));
    assert_eq!(
        data.claims.get("typ").and_then(Value::as_str),
        Some("access")
    );

    // A token does not change what the public endpoint answers.
    let with_token = ok(server.auth_as(&token).get_jwks(pb::GetJwksRequest {}).await);
    assert_eq!(with_token, jwks);
}

#[tokio::test]
async fn well_known_jwks_over_plain_http_matches_get_jwks() {
    let server = TestServer::start().await;
    let answer = reqwest::get(format!("http://{}/.well-known/jwks.json", server.addr))
        .await
        .unwrap_or_else(|e| panic!("GET: {e}"));
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let body = answer.bytes().await.unwrap_or_else(|e| panic!("body: {e}"));
    let doc: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "JWKS body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&body)
        )
    });
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no keys array in {doc}"));

    let grpc = ok(server.auth().get_jwks(pb::GetJwksRequest {}).await);
    let from_http: Vec<pb::Jwk> = keys
        .iter()
        .map(|k| {
            let field = |name: &str| {
                k.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("key without {name}: {k}"))
                    .to_owned()
            };
            pb::Jwk {
                kty: field("kty"),
                crv: field("crv"),
                x: field("x"),
                kid: field("kid"),
                alg: field("alg"),
                r#use: field("use"),
            }
        })
        .collect();
    assert_eq!(from_http, grpc.keys);
    assert_eq!(from_http.len(), 1);
    // Only public material is published.
    for k in keys {
        assert!(k.get("d").is_none(), "private key published: {k}");
    }
}

#[tokio::test]
async fn access_token_lives_one_hour() {
    let server = TestServer::start().await;
    let before = chrono::Utc::now().timestamp();
    let pair = admin_pair(&server).await;
    let after = chrono::Utc::now().timestamp();
    let expires = pair
        .access_token_expire_time
        .as_ref()
        .unwrap_or_else(|| panic!("no access expiry"))
        .seconds;
    assert!(
        (before + 3600..=after + 3600).contains(&expires),
        "expiry {expires} not an hour after [{before}, {after}]"
    );
    let token = &pair.access_token;
    assert_eq!(claim_i64(token, "exp"), expires);
    assert_eq!(claim_i64(token, "exp") - claim_i64(token, "iat"), 3600);
    assert_eq!(claim_i64(token, "nbf"), claim_i64(token, "iat"));
    assert_eq!(claim_str(token, "typ"), "access");
    assert_eq!(claim_str(token, "iss"), "partner-platform");
    assert_eq!(claim_str(token, "aud"), "partner-api");
    assert!(claim_str(token, "sub").starts_with("usr_"));
    // The refresh token outlives it.
    let refresh_expires = pair
        .refresh_token_expire_time
        .as_ref()
        .unwrap_or_else(|| panic!("no refresh expiry"))
        .seconds;
    assert!(refresh_expires > expires + 3600, "{refresh_expires}");
}
