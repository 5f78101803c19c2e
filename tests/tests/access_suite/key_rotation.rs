//! Signing-key rotation through `SigningKeyService`: new tokens use the new
//! key, tokens of the previous key verify until it is retired, JWKS lists the
//! keys that verify, and each change is idempotent and audited.

use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as pb;
use partner_tests::*;
use tonic::Code;

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    json["kid"].as_str().unwrap_or_default().to_owned()
}

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let mut kids: Vec<_> = ok(server.auth().get_jwks(pb::GetJwksRequest {}).await)
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    kids.sort();
    kids
}

/// An authenticated call the operator may make.
async fn works(server: &TestServer, token: &str) -> Result<(), tonic::Status> {
    server
        .partners(token)
        .list_partners(accounts::ListPartnersRequest::default())
        .await
        .map(drop)
}

#[tokio::test]
async fn rotate_then_retire_across_live_tokens() {
    let server = TestServer::start().await;
    let old_token = server.admin_token().await;
    let old_kid = kid_of(&old_token);

    let rotate = pb::RotateSigningKeyRequest {
        request_id: new_request_id(),
        reason: "quarterly".into(),
    };
    let new_key = ok(server
        .signing_keys(&old_token)
        .rotate_signing_key(rotate.clone())
        .await)
    .signing_key
    .unwrap_or_default();
    assert_ne!(new_key.kid, old_kid);
    assert_eq!(new_key.state, pb::SigningKeyState::Active as i32);
    // A replay returns the same key and makes no third one.
    let replay = ok(server
        .signing_keys(&old_token)
        .rotate_signing_key(rotate)
        .await)
    .signing_key
    .unwrap_or_default();
    assert_eq!(replay.kid, new_key.kid);

    let listed = ok(server
        .signing_keys(&old_token)
        .list_signing_keys(pb::ListSigningKeysRequest {})
        .await)
    .signing_keys;
    let states: Vec<_> = listed.iter().map(|k| (k.kid.clone(), k.state)).collect();
    assert_eq!(
        states,
        [
            (new_key.kid.clone(), pb::SigningKeyState::Active as i32),
            (old_kid.clone(), pb::SigningKeyState::VerifyOnly as i32)
        ]
    );
    let mut both = vec![new_key.kid.clone(), old_kid.clone()];
    both.sort();
    assert_eq!(jwks_kids(&server).await, both);

    // Old tokens keep working; new ones are signed by the new key.
    works(&server, &old_token)
        .await
        .unwrap_or_else(|e| panic!("old token after rotation: {e:?}"));
    let new_token = server.admin_token().await;
    assert_eq!(kid_of(&new_token), new_key.kid);

    // The active key cannot be retired; an unknown one is not found.
    let retire = |kid: &str| pb::RetireSigningKeyRequest {
        request_id: new_request_id(),
        kid: kid.into(),
        reason: "done".into(),
    };
    assert_refused(
        server
            .signing_keys(&new_token)
            .retire_signing_key(retire(&new_key.kid))
            .await,
        Code::FailedPrecondition,
        "SIGNING_KEY_STATE_CONFLICT",
    );
    assert_refused(
        server
            .signing_keys(&new_token)
            .retire_signing_key(retire("key_0190f0e0a0b07c0d8e0f101112131415"))
            .await,
        Code::NotFound,
        "SIGNING_KEY_NOT_FOUND",
    );
    assert_refused(
        server
            .signing_keys(&new_token)
            .retire_signing_key(retire("key_nope"))
            .await,
        Code::InvalidArgument,
        "FIELD_VIOLATION",
    );

    // Retiring the old key refuses its tokens at once.
    let retired = ok(server
        .signing_keys(&new_token)
        .retire_signing_key(retire(&old_kid))
        .await)
    .signing_key
    .unwrap_or_default();
    assert_eq!(retired.state, pb::SigningKeyState::Retired as i32);
    assert!(retired.retire_time.is_some());
    assert_refused(
        works(&server, &old_token).await,
        Code::Unauthenticated,
        "TOKEN_INVALID",
    );
    works(&server, &new_token)
        .await
        .unwrap_or_else(|e| panic!("new token after retirement: {e:?}"));
    assert_eq!(jwks_kids(&server).await, vec![new_key.kid.clone()]);
    // Retiring twice is a state conflict.
    assert_refused(
        server
            .signing_keys(&new_token)
            .retire_signing_key(retire(&old_kid))
            .await,
        Code::FailedPrecondition,
        "SIGNING_KEY_STATE_CONFLICT",
    );

    // Both changes are in the audit trail.
    let audit = ok(server
        .audit(&new_token)
        .list_audit_records(accounts::ListAuditRecordsRequest::default())
        .await)
    .audit_records;
    let methods: Vec<_> = audit
        .iter()
        .map(|r| (r.method.as_str(), r.resource_id.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        methods,
        [
            (
                "partner.iam.v1.SigningKeyService/RetireSigningKey",
                old_kid.as_str(),
                "done"
            ),
            (
                "partner.iam.v1.SigningKeyService/RotateSigningKey",
                new_key.kid.as_str(),
                "quarterly"
            ),
        ]
    );

    // The new key survives a restart and still signs.
    let server = server.restart().await;
    works(&server, &new_token)
        .await
        .unwrap_or_else(|e| panic!("after restart: {e:?}"));
    assert_eq!(kid_of(&server.admin_token().await), new_key.kid);
}
