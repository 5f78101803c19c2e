//! Secrets at rest: with a master key, the signing-key seeds, the SAML
//! signing key, the server secrets and webhook secrets are stored sealed (a
//! copy of the database does not hold them);
//! plain rows of an older database are sealed at the next start with a key;
//! a sealed database does not start without its key, nor with another.

use std::time::Duration;

use partner_api::accounts::v1 as pb;
use partner_server::config::Secret;
use partner_tests::*;
use sea_orm::{ConnectionTrait, Statement};

const KEY: &str = "7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
const OTHER_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// Every stored secret: (row, value).
async fn stored_secrets(db: &TestDb) -> Vec<(String, Vec<u8>)> {
    let conn = db.connect().await;
    let backend = conn.get_database_backend();
    let mut out = Vec::new();
    for sql in [
        "SELECT name AS k, value AS v FROM server_secrets",
        "SELECT kid AS k, private_key AS v FROM signing_keys",
        "SELECT id AS k, secret AS v FROM webhook_endpoints",
        "SELECT id || ':previous' AS k, previous_secret AS v FROM webhook_endpoints \
         WHERE previous_secret IS NOT NULL",
    ] {
        for row in conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
        {
            let k: String = row.try_get("", "k").unwrap_or_default();
            let v: Vec<u8> = row.try_get("", "v").unwrap_or_default();
            out.push((k, v));
        }
    }
    let _ = conn.close().await;
    out
}

fn sealed(value: &[u8]) -> bool {
    value.starts_with(b"psk1")
}

/// Starts a server on `db` and stops it at once: whether it could start.
async fn starts(db: &TestDb, master_key: Option<&str>) -> Result<(), String> {
    let mut config = test_config(db);
    config.master_key = master_key.map(|k| Secret(k.to_owned()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    partner_server::run(config, listener, Duration::ZERO, async {})
        .await
        .map_err(|e| e.to_string())
}

fn with_key(key: &'static str) -> impl FnOnce(&mut partner_server::Config) {
    move |c| c.master_key = Some(Secret(key.to_owned()))
}

async fn can_read_own_partner(server: &TestServer, admin: &str) {
    ok(server
        .partners(admin)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
}

#[tokio::test]
async fn with_a_master_key_no_secret_is_stored_in_the_clear() {
    let db = TestDb::fresh().await;
    let server = TestServer::start_on(db.clone(), with_key(KEY)).await;
    let admin = server.admin_token().await;
    let jwks = ok(server
        .auth()
        .get_jwks(partner_api::iam::v1::GetJwksRequest {})
        .await)
    .keys;
    let sp = saml_metadata(&server).await;
    let (_, master) = server.register_partner(&admin, "sealed").await;
    let webhook_secret = ok(server
        .webhooks(&master)
        .create_webhook_endpoint(partner_api::events::v1::CreateWebhookEndpointRequest {
            request_id: new_request_id(),
            url: "https://hooks.example.com/".into(),
            ..Default::default()
        })
        .await)
    .secret;
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));

    let secrets = stored_secrets(&db).await;
    assert_eq!(
        secrets.len(),
        6,
        "four server secrets (the SAML signing key among them), one token-signing key, one webhook secret"
    );
    for (row, value) in &secrets {
        assert!(sealed(value), "{row} is stored plain");
        let text = String::from_utf8_lossy(value);
        assert!(
            !text.contains(&webhook_secret[6..]),
            "{row} holds the webhook secret"
        );
        // No 32 bytes of it are the seed behind the published key.
        for window in value.windows(32) {
            let seed: [u8; 32] = window.try_into().unwrap_or([0; 32]);
            let public = ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes();
            let x =
                base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, public);
            assert!(jwks.iter().all(|k| k.x != x), "{row} holds the seed");
        }
    }

    // Without its key, or with another, the database does not start.
    let refused = starts(&db, None).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("MASTER_KEY")),
        "{refused:?}"
    );
    assert!(starts(&db, Some(OTHER_KEY)).await.is_err());
    // With it, everything is as it was: the old token still verifies.
    let server = TestServer::start_on(db.clone(), with_key(KEY)).await;
    can_read_own_partner(&server, &admin).await;
    assert_eq!(saml_metadata(&server).await, sp, "the same SAML key");
}

/// The SAML signing certificate (made on first use).
async fn saml_metadata(server: &TestServer) -> String {
    ok(server
        .federation("")
        .get_service_provider_metadata(partner_api::iam::v1::GetServiceProviderMetadataRequest {})
        .await)
    .signing_certificate_pem
}

#[tokio::test]
async fn a_plain_database_is_sealed_at_the_next_start_with_a_key() {
    let db = TestDb::fresh().await;
    let server = TestServer::start_on(db.clone(), |_| {}).await;
    let admin = server.admin_token().await;
    let sp = saml_metadata(&server).await;
    let receiver = webhook_receiver::Receiver::start().await;
    let (partner, master) = server.register_partner(&admin, "plain").await;
    let webhook_secret = ok(server
        .webhooks(&master)
        .create_webhook_endpoint(partner_api::events::v1::CreateWebhookEndpointRequest {
            request_id: new_request_id(),
            url: receiver.url.clone(),
            event_types: vec!["customer.created".into()],
            ..Default::default()
        })
        .await)
    .secret;
    // Rotated with an overlap: the secret rotated out is stored plain too.
    let endpoint_id = ok(server
        .webhooks(&master)
        .list_webhook_endpoints(partner_api::events::v1::ListWebhookEndpointsRequest {})
        .await)
    .endpoints[0]
        .id
        .clone();
    let rotated_secret = ok(server
        .webhooks(&master)
        .rotate_webhook_secret(partner_api::events::v1::RotateWebhookSecretRequest {
            request_id: new_request_id(),
            id: endpoint_id,
            previous_secret_ttl: None,
        })
        .await)
    .secret;
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(stored_secrets(&db).await.iter().all(|(_, v)| !sealed(v)));

    let server = TestServer::start_on(db.clone(), with_key(KEY)).await;
    assert!(
        stored_secrets(&db).await.iter().all(|(_, v)| sealed(v)),
        "sealed at start"
    );
    // The same secrets: tokens and page tokens made before still work.
    can_read_own_partner(&server, &admin).await;
    assert_eq!(saml_metadata(&server).await, sp, "the same SAML key");
    // A key rotated now is stored sealed too.
    ok(server
        .signing_keys(&admin)
        .rotate_signing_key(partner_api::iam::v1::RotateSigningKeyRequest {
            request_id: new_request_id(),
            reason: String::new(),
        })
        .await);
    let secrets = stored_secrets(&db).await;
    assert_eq!(secrets.len(), 8);
    assert!(secrets.iter().all(|(_, v)| sealed(v)));
    can_read_own_partner(&server, &admin).await;
    // The sealed webhook secrets still sign with the values shown: the one
    // rotated out and the new one.
    let master = server.login("plain", USER_PASSWORD).await;
    server.create_customer(&master, &partner, "crm-1").await;
    let received = receiver.wait_for(1).await;
    assert!(received[0].signed_by(&webhook_secret), "{received:?}");
    assert!(received[0].signed_by(&rotated_secret), "{received:?}");
}
