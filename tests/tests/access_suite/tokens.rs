//! Access-token validation against forged and malformed tokens.
//!
//! Every forgery starts from one positive control: a token signed here with the
//! server's own Ed25519 key (read from `signing_keys`) over the claims of a
//! real login. The control is accepted, so each refusal below is caused by the
//! single property a case changes, not by a mistake in the forging code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use partner_api::accounts::v1 as pb;
use partner_api::accounts::v1::partner_service_client::PartnerServiceClient;
use partner_gateway::entity::signing_key;
use partner_kernel::ids::SigningKeyId;
use partner_tests::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value, json};
use tonic::{Code, Request, Status};

/// Mirrors `MAX_TOKEN_BYTES` in the gateway.
const MAX_TOKEN_BYTES: usize = 4096;
/// Mirrors `LEEWAY_SECONDS` in the gateway.
const LEEWAY_SECONDS: i64 = 30;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).unwrap_or_else(|e| panic!("json: {e}")))
}

fn ed_key(seed: &[u8]) -> EncodingKey {
    partner_gateway::signing_keys::ring::ed25519_encoding_key(seed)
}

/// `header.payload` plus `alg`'s signature over it made with `key`.
fn sign_with(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg)
        .unwrap_or_else(|e| panic!("sign {alg:?}: {e}"));
    format!("{message}.{signature}")
}

/// `header.payload.signature` with a signature given verbatim.
fn with_raw_signature(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64_json(header), b64_json(claims))
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

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Forges tokens with the server's real signing key.
struct Forge {
    kid: String,
    key: EncodingKey,
    public: Vec<u8>,
    /// Claims of a real access token of the operator (live session).
    claims: Map<String, Value>,
}

impl Forge {
    /// Reads the active key and the claims of `real_token`.
    async fn new(server: &TestServer, real_token: &str) -> Self {
        let conn = server.db.connect().await;
        let row = signing_key::Entity::find()
            .filter(signing_key::Column::State.eq("ACTIVE"))
            .one(&conn)
            .await
            .unwrap_or_else(|e| panic!("read signing key: {e}"))
            .unwrap_or_else(|| panic!("no ACTIVE signing key"));
        let _ = conn.close().await;
        assert_eq!(row.algorithm, "EdDSA");
        assert_eq!(row.private_key.len(), 32);
        assert_eq!(segment(real_token, 0).get("kid"), Some(&json!(row.kid)));
        Self {
            kid: row.kid,
            key: ed_key(&row.private_key),
            public: row.public_key,
            claims: segment(real_token, 1),
        }
    }

    /// The header our server writes.
    fn header(&self) -> Value {
        json!({"typ": "JWT", "alg": "EdDSA", "kid": self.kid})
    }

    /// The real claims with a fresh lifetime: issued now, valid for an hour.
    fn claims(&self) -> Value {
        let mut claims = self.claims.clone();
        let t = now();
        claims.insert("iat".into(), json!(t));
        claims.insert("nbf".into(), json!(t));
        claims.insert("exp".into(), json!(t + 3600));
        Value::Object(claims)
    }

    /// The positive control with `edit` applied to its header and claims,
    /// signed with the real key.
    fn token(&self, edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>)) -> String {
        let (header, claims) = self.parts(edit);
        sign_with(&header, &claims, &self.key, Algorithm::EdDSA)
    }

    /// The control's header and claims with `edit` applied, unsigned.
    fn parts(
        &self,
        edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
    ) -> (Value, Value) {
        let (Value::Object(mut header), Value::Object(mut claims)) = (self.header(), self.claims())
        else {
            unreachable!("header and claims are objects")
        };
        edit(&mut header, &mut claims);
        (Value::Object(header), Value::Object(claims))
    }

    fn control(&self) -> String {
        self.token(|_, _| {})
    }
}

/// A server, the operator's real token, and a forge over the server's key.
async fn setup() -> (TestServer, String, Forge) {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let forge = Forge::new(&server, &admin).await;
    (server, admin, forge)
}

/// An authenticated call the operator may make: `ListPartners`.
async fn call(server: &TestServer, token: &str) -> Result<pb::ListPartnersResponse, Status> {
    server
        .partners(token)
        .list_partners(pb::ListPartnersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

#[track_caller]
fn assert_invalid(result: Result<pb::ListPartnersResponse, Status>) {
    assert_refused(result, Code::Unauthenticated, "TOKEN_INVALID");
}

#[tokio::test]
async fn positive_control_signed_here_with_the_server_key_is_accepted() {
    let (server, admin, forge) = setup().await;
    call(&server, &admin)
        .await
        .unwrap_or_else(|e| panic!("real token: {e:?}"));
    let control = forge.control();
    assert_ne!(control, admin);
    call(&server, &control)
        .await
        .unwrap_or_else(|e| panic!("control: {e:?}"));
    // Claims re-serialised in another key order are the same claims.
    let (header, claims) = forge.parts(|_, _| {});
    let Value::Object(claims) = claims else {
        unreachable!()
    };
    let reversed: Map<String, Value> = claims.into_iter().rev().collect();
    let token = sign_with(
        &header,
        &Value::Object(reversed),
        &forge.key,
        Algorithm::EdDSA,
    );
    call(&server, &token)
        .await
        .unwrap_or_else(|e| panic!("reordered control: {e:?}"));
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (server, _, forge) = setup().await;
    let control = forge.control();
    let real_signature = control.rsplit('.').next().unwrap_or_default().to_owned();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let (header, claims) = forge.parts(|h, _| {
            h.insert("alg".into(), json!(alg));
        });
        // Unsigned, as RFC 7519 writes it.
        assert_invalid(call(&server, &with_raw_signature(&header, &claims, "")).await);
        // With a signature that would be valid under our key for the EdDSA header.
        assert_invalid(
            call(
                &server,
                &with_raw_signature(&header, &claims, &real_signature),
            )
            .await,
        );
    }
    let (_, claims) = forge.parts(|_, _| {});
    let no_alg = json!({"typ": "JWT", "kid": forge.kid});
    assert_invalid(call(&server, &with_raw_signature(&no_alg, &claims, "")).await);
}

#[tokio::test]
async fn hs256_keyed_with_our_public_key_is_refused() {
    let (server, _, forge) = setup().await;
    let (header, claims) = forge.parts(|h, _| {
        h.insert("alg".into(), json!("HS256"));
    });
    let x = b64(&forge.public);
    // The raw key bytes, the JWK `x` text a client fetches from the JWKS, and
    // the JWKS document of the key itself: the usual algorithm-confusion secrets.
    let secrets: Vec<Vec<u8>> = vec![
        forge.public.clone(),
        x.clone().into_bytes(),
        json!({"kty": "OKP", "crv": "Ed25519", "x": x})
            .to_string()
            .into_bytes(),
    ];
    for secret in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = header.clone();
            header["alg"] = json!(format!("{alg:?}"));
            let token = sign_with(&header, &claims, &EncodingKey::from_secret(&secret), alg);
            assert_invalid(call(&server, &token).await);
        }
    }
}

#[tokio::test]
async fn algorithms_we_do_not_use_are_refused_before_verification() {
    let (server, _, forge) = setup().await;
    for alg in ["ES256", "ES384", "RS256", "RS512", "PS256"] {
        let (header, claims) = forge.parts(|h, _| {
            h.insert("alg".into(), json!(alg));
        });
        // An arbitrary signature of a plausible length for the algorithm.
        let len = if alg.starts_with("ES") { 64 } else { 256 };
        let junk = b64(&vec![0x5a; len]);
        assert_invalid(call(&server, &with_raw_signature(&header, &claims, &junk)).await);
        // A genuine Ed25519 signature by our key over this very header and
        // payload: valid bytes, but the header names another algorithm.
        let genuine = sign_with(&header, &claims, &forge.key, Algorithm::EdDSA);
        assert_invalid(call(&server, &genuine).await);
    }
}

#[tokio::test]
async fn unknown_and_hostile_kids_are_refused() {
    let (server, _, forge) = setup().await;
    let kids = [
        json!(SigningKeyId::generate().to_string()),
        json!("../../etc/passwd"),
        json!("/dev/zero"),
        json!("' OR 1=1 --"),
        json!("x' UNION SELECT kid FROM signing_keys --"),
        json!(""),
        json!(format!("{} ", forge.kid)),
        json!(forge.kid.to_uppercase()),
        json!(null),
        json!(1),
        json!([forge.kid]),
    ];
    for kid in kids {
        let token = forge.token(|h, _| {
            h.insert("kid".into(), kid.clone());
        });
        assert_refused(
            call(&server, &token).await,
            Code::Unauthenticated,
            "TOKEN_INVALID",
        );
    }
    // The key ring and the database survive the SQL-looking kids.
    call(&server, &forge.control())
        .await
        .unwrap_or_else(|e| panic!("control after hostile kids: {e:?}"));
}

#[tokio::test]
async fn missing_kid_is_refused() {
    let (server, _, forge) = setup().await;
    let token = forge.token(|h, _| {
        h.remove("kid");
    });
    assert_invalid(call(&server, &token).await);
}

#[tokio::test]
async fn jku_x5u_and_jwk_headers_are_ignored() {
    let (server, _, forge) = setup().await;
    let attacker_seed = [0x42u8; 32];
    let attacker_public = ed25519_dalek::SigningKey::from_bytes(&attacker_seed)
        .verifying_key()
        .to_bytes();
    let attacker_key = ed_key(&attacker_seed);
    let attacker_kid = "attacker-key-1";
    let attacker_jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "x": b64(&attacker_public),
        "kid": attacker_kid, "alg": "EdDSA", "use": "sig",
    });
    let hostile_headers: [(&str, Value); 3] = [
        (
            "jku",
            json!("https://attacker.example/.well-known/jwks.json"),
        ),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", attacker_jwk),
    ];
    let mut every = hostile_headers.to_vec();
    every.push(("all", Value::Null));

    for (name, value) in &every {
        let add = |h: &mut Map<String, Value>| {
            if *name == "all" {
                for (n, v) in &hostile_headers {
                    h.insert((*n).into(), v.clone());
                }
            } else {
                h.insert((*name).into(), value.clone());
            }
        };
        // Signed by our key: the header is accepted as inert, so the refusals
        // below are about the attacker's key and nothing else.
        let ours = forge.token(|h, _| add(h));
        call(&server, &ours)
            .await
            .unwrap_or_else(|e| panic!("{name} on a genuine token: {e:?}"));
        let (header, claims) = forge.parts(|h, _| {
            add(h);
            h.insert("kid".into(), json!(attacker_kid));
        });
        let attacker_kid_token = sign_with(&header, &claims, &attacker_key, Algorithm::EdDSA);
        assert_invalid(call(&server, &attacker_kid_token).await);
        let (header, claims) = forge.parts(|h, _| add(h));
        let our_kid_token = sign_with(&header, &claims, &attacker_key, Algorithm::EdDSA);
        assert_invalid(call(&server, &our_kid_token).await);
        let (header, claims) = forge.parts(|h, _| {
            add(h);
            h.remove("kid");
        });
        let no_kid_token = sign_with(&header, &claims, &attacker_key, Algorithm::EdDSA);
        assert_invalid(call(&server, &no_kid_token).await);
    }
}

#[tokio::test]
async fn stripped_or_truncated_signature_is_refused() {
    let (server, _, forge) = setup().await;
    let control = forge.control();
    let (message, signature) = control
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("no signature in {control}"));
    assert_invalid(call(&server, &format!("{message}.")).await);
    assert_invalid(call(&server, message).await);
    assert_invalid(
        call(
            &server,
            &format!("{message}.{}", &signature[..signature.len() - 4]),
        )
        .await,
    );
    let mut flipped = signature.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap_or_else(|e| panic!("{e}"));
    assert_invalid(call(&server, &format!("{message}.{flipped}")).await);
    // A fourth segment is not a JWS either.
    assert_invalid(call(&server, &format!("{control}.{signature}")).await);
}

#[tokio::test]
async fn payload_altered_after_signing_is_refused() {
    let (server, admin, forge) = setup().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let master_user = segment(&master, 1)
        .get("sub")
        .cloned()
        .unwrap_or_else(|| panic!("no sub"));
    let control = forge.control();
    call(&server, &control)
        .await
        .unwrap_or_else(|e| panic!("control: {e:?}"));
    let mut parts: Vec<&str> = control.split('.').collect();
    let mut claims = segment(&control, 1);
    assert_ne!(claims.get("sub"), Some(&master_user));
    claims.insert("sub".into(), master_user);
    let altered = b64_json(&Value::Object(claims));
    parts[1] = &altered;
    assert_invalid(call(&server, &parts.join(".")).await);

    // Same for a longer lifetime on the real token the server issued.
    let mut parts: Vec<&str> = admin.split('.').collect();
    let mut claims = segment(&admin, 1);
    claims.insert("exp".into(), json!(now() + 10 * 365 * 24 * 3600));
    let extended = b64_json(&Value::Object(claims));
    parts[1] = &extended;
    assert_invalid(call(&server, &parts.join(".")).await);
}

#[tokio::test]
async fn exp_missing_or_not_a_number_is_refused() {
    let (server, _, forge) = setup().await;
    let missing = forge.token(|_, c| {
        c.remove("exp");
    });
    assert_invalid(call(&server, &missing).await);
    let texts = [
        json!((now() + 3600).to_string()),
        json!(null),
        json!(true),
        json!([now() + 3600]),
        json!({"t": now() + 3600}),
    ];
    for exp in texts {
        let token = forge.token(|_, c| {
            c.insert("exp".into(), exp.clone());
        });
        assert_invalid(call(&server, &token).await);
    }
}

#[tokio::test]
async fn expiry_is_enforced_with_a_thirty_second_leeway() {
    let (server, _, forge) = setup().await;
    let expired_at = |secs_ago: i64| {
        forge.token(|_, c| {
            let t = now();
            c.insert("iat".into(), json!(t - 3600));
            c.insert("nbf".into(), json!(t - 3600));
            c.insert("exp".into(), json!(t - secs_ago));
        })
    };
    // Expired a little, within the clock-skew allowance: still accepted.
    call(&server, &expired_at(LEEWAY_SECONDS / 3))
        .await
        .unwrap_or_else(|e| panic!("expired within the leeway: {e:?}"));
    // Expired beyond it.
    assert_refused(
        call(&server, &expired_at(2 * LEEWAY_SECONDS)).await,
        Code::Unauthenticated,
        "TOKEN_EXPIRED",
    );
    assert_refused(
        call(&server, &expired_at(30 * 24 * 3600)).await,
        Code::Unauthenticated,
        "TOKEN_EXPIRED",
    );
}

#[tokio::test]
async fn nbf_in_the_future_beyond_the_leeway_is_refused() {
    let (server, _, forge) = setup().await;
    let not_before = |secs_ahead: i64| {
        forge.token(|_, c| {
            c.insert("nbf".into(), json!(now() + secs_ahead));
        })
    };
    call(&server, &not_before(LEEWAY_SECONDS / 3))
        .await
        .unwrap_or_else(|e| panic!("nbf within the leeway: {e:?}"));
    assert_invalid(call(&server, &not_before(4 * LEEWAY_SECONDS)).await);
    assert_invalid(call(&server, &not_before(24 * 3600)).await);
    let missing = forge.token(|_, c| {
        c.remove("nbf");
    });
    assert_invalid(call(&server, &missing).await);
}

#[tokio::test]
async fn wrong_or_missing_audience_is_refused() {
    let (server, _, forge) = setup().await;
    for aud in [
        json!("partner-admin"),
        json!("partner-api "),
        json!("PARTNER-API"),
        json!(""),
        json!(["other-api"]),
    ] {
        let token = forge.token(|_, c| {
            c.insert("aud".into(), aud.clone());
        });
        assert_invalid(call(&server, &token).await);
    }
    let missing = forge.token(|_, c| {
        c.remove("aud");
    });
    assert_invalid(call(&server, &missing).await);
}

#[tokio::test]
async fn wrong_or_missing_issuer_is_refused() {
    let (server, _, forge) = setup().await;
    for iss in [
        json!("attacker-platform"),
        json!("partner-platform.evil"),
        json!(""),
    ] {
        let token = forge.token(|_, c| {
            c.insert("iss".into(), iss.clone());
        });
        assert_invalid(call(&server, &token).await);
    }
    let missing = forge.token(|_, c| {
        c.remove("iss");
    });
    assert_invalid(call(&server, &missing).await);
}

#[tokio::test]
async fn token_types_other_than_access_are_refused() {
    let (server, _, forge) = setup().await;
    for typ in [
        json!("refresh"),
        json!("customer"),
        json!("Access"),
        json!(""),
    ] {
        let token = forge.token(|_, c| {
            c.insert("typ".into(), typ.clone());
        });
        assert_invalid(call(&server, &token).await);
    }
    let missing = forge.token(|_, c| {
        c.remove("typ");
    });
    assert_invalid(call(&server, &missing).await);
}

#[tokio::test]
async fn missing_or_malformed_subject_or_session_is_refused() {
    let (server, _, forge) = setup().await;
    for claim in ["sub", "sid"] {
        let missing = forge.token(|_, c| {
            c.remove(claim);
        });
        assert_invalid(call(&server, &missing).await);
        let garbage = forge.token(|_, c| {
            c.insert(claim.into(), json!("' OR 1=1 --"));
        });
        assert_invalid(call(&server, &garbage).await);
    }
}

#[tokio::test]
async fn refresh_token_is_not_a_bearer_token() {
    let server = TestServer::start().await;
    let pair = server
        .login_pair("admin", ADMIN_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("login: {e:?}"));
    call(&server, &pair.access_token)
        .await
        .unwrap_or_else(|e| panic!("access token: {e:?}"));
    assert_invalid(call(&server, &pair.refresh_token).await);
}

#[tokio::test]
async fn tokens_of_a_retired_key_are_refused_after_rotation() {
    let (server, _, forge) = setup().await;
    let old_token = server.admin_token().await;
    let old_kid = forge.kid.clone();

    // Rotate: a new ACTIVE key, the old one kept for verification only.
    let mut seed = Vec::with_capacity(32);
    seed.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let seed: [u8; 32] = seed.try_into().unwrap_or_else(|_| unreachable!());
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let new_kid = SigningKeyId::generate().to_string();
    let conn = server.db.connect().await;
    let set_state = |state: &'static str| signing_key::ActiveModel {
        kid: Set(old_kid.clone()),
        state: Set(state.to_owned()),
        retired_at: Set((state == "RETIRED").then(chrono::Utc::now)),
        ..Default::default()
    };
    set_state("VERIFY_ONLY")
        .update(&conn)
        .await
        .unwrap_or_else(|e| panic!("demote old key: {e}"));
    signing_key::ActiveModel {
        kid: Set(new_kid.clone()),
        algorithm: Set("EdDSA".into()),
        private_key: Set(seed.to_vec()),
        public_key: Set(public.to_vec()),
        state: Set("ACTIVE".into()),
        created_at: Set(chrono::Utc::now()),
        retired_at: Set(None),
    }
    .insert(&conn)
    .await
    .unwrap_or_else(|e| panic!("insert new key: {e}"));
    let server = server.restart().await;

    // While the old key verifies, its tokens still work; new tokens carry the new kid.
    call(&server, &old_token)
        .await
        .unwrap_or_else(|e| panic!("old token under VERIFY_ONLY: {e:?}"));
    let fresh = server.admin_token().await;
    assert_eq!(segment(&fresh, 0).get("kid"), Some(&json!(new_kid)));
    call(&server, &fresh)
        .await
        .unwrap_or_else(|e| panic!("token of the new key: {e:?}"));

    // Retire the old key.
    set_state("RETIRED")
        .update(&conn)
        .await
        .unwrap_or_else(|e| panic!("retire old key: {e}"));
    let _ = conn.close().await;
    let server = server.restart().await;

    assert_invalid(call(&server, &old_token).await);
    // A token signed afresh with the retired key, otherwise perfect, is refused too.
    assert_invalid(call(&server, &forge.control()).await);
    call(&server, &fresh)
        .await
        .unwrap_or_else(|e| panic!("token of the new key after restart: {e:?}"));
    let after = server.admin_token().await;
    assert_eq!(segment(&after, 0).get("kid"), Some(&json!(new_kid)));
    call(&server, &after)
        .await
        .unwrap_or_else(|e| panic!("fresh login after retirement: {e:?}"));
    let jwks = ok(server
        .auth()
        .get_jwks(partner_api::iam::v1::GetJwksRequest {})
        .await);
    let kids: Vec<_> = jwks.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, [new_kid.as_str()]);
}

/// The control padded with an extra claim until it is `target` bytes or just under.
fn padded(forge: &Forge, target: usize) -> String {
    let base = forge.control().len();
    let mut pad = target.saturating_sub(base) * 3 / 4;
    loop {
        let token = forge.token(|_, c| {
            c.insert("pad".into(), json!("x".repeat(pad)));
        });
        if token.len() <= target {
            return token;
        }
        pad -= 1;
    }
}

#[tokio::test]
async fn oversized_tokens_are_refused() {
    let (server, _, forge) = setup().await;
    // Just under the limit: a well-formed, correctly signed token still works,
    // so the refusals below are about size alone.
    let at_limit = padded(&forge, MAX_TOKEN_BYTES);
    assert!(at_limit.len() > MAX_TOKEN_BYTES - 4, "{}", at_limit.len());
    call(&server, &at_limit)
        .await
        .unwrap_or_else(|e| panic!("{}-byte token: {e:?}", at_limit.len()));

    // Over our limit but far inside the transport's 16 KiB header-list cap:
    // the request reaches the gateway, whose length check refuses it unread.
    for target in [MAX_TOKEN_BYTES + 8, 5_000, 12_000] {
        let token = padded(&forge, target);
        assert!(token.len() > MAX_TOKEN_BYTES);
        assert_invalid(call(&server, &token).await);
    }

    // Beyond the 16 KiB header-list cap the HTTP/2 layer refuses the request
    // before any of our code runs: h2 answers `431 Request Header Fields Too
    // Large` without gRPC trailers, which tonic maps to UNKNOWN. No ErrorInfo
    // exists at that level, so the assertion pins the code and the HTTP status.
    let huge = padded(&forge, 20_000);
    let status = match call(&server, &huge).await {
        Ok(_) => panic!("a {}-byte header block was accepted", huge.len()),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unknown, "{status:?}");
    assert!(status.message().contains("431"), "{status:?}");

    // The connection stays usable for well-behaved callers.
    call(&server, &forge.control())
        .await
        .unwrap_or_else(|e| panic!("control after oversized tokens: {e:?}"));
}

#[tokio::test]
async fn missing_authorization_requires_authentication() {
    let (server, admin, _) = setup().await;
    let result = PartnerServiceClient::new(server.channel.clone())
        .list_partners(pb::ListPartnersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await;
    assert_refused(result, Code::Unauthenticated, "AUTHENTICATION_REQUIRED");
    for value in ["Bearer", "Bearer ", "Bearer    ", admin.as_str()] {
        let result = with_authorization(&server, value).await;
        assert_refused(result, Code::Unauthenticated, "AUTHENTICATION_REQUIRED");
    }
}

#[tokio::test]
async fn basic_scheme_is_not_accepted() {
    let (server, admin, _) = setup().await;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"));
    for value in [
        format!("Basic {credentials}"),
        // Even a valid access token needs the Bearer scheme.
        format!("Basic {admin}"),
        format!("Token {admin}"),
        format!("Bearer{admin}"),
    ] {
        let result = with_authorization(&server, &value).await;
        assert_refused(result, Code::Unauthenticated, "AUTHENTICATION_REQUIRED");
    }
    // The scheme name is case-insensitive (RFC 9110), so the same token works as `bearer`.
    with_authorization(&server, &format!("bearer {admin}"))
        .await
        .unwrap_or_else(|e| panic!("lower-case scheme: {e:?}"));
}

/// `ListPartners` with `authorization` set to `value` verbatim.
async fn with_authorization(
    server: &TestServer,
    value: &str,
) -> Result<tonic::Response<pb::ListPartnersResponse>, Status> {
    let value: tonic::metadata::MetadataValue<tonic::metadata::Ascii> = value
        .parse()
        .unwrap_or_else(|e| panic!("header value {value:?}: {e}"));
    let mut client = PartnerServiceClient::with_interceptor(
        server.channel.clone(),
        move |mut req: Request<()>| {
            req.metadata_mut().insert("authorization", value.clone());
            Ok(req)
        },
    );
    client
        .list_partners(pb::ListPartnersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
}

#[tokio::test]
async fn a_session_of_another_user_is_refused() {
    let (server, admin, forge) = setup().await;
    let (_, master) = server.register_partner(&admin, "acme").await;
    let their_session = segment(&master, 1).get("sid").cloned().unwrap_or_default();
    let swapped = forge.token(|_, c| {
        c.insert("sid".into(), their_session);
    });
    assert_invalid(call(&server, &swapped).await);
}

#[tokio::test]
async fn extreme_times_do_not_overflow() {
    let (server, _, forge) = setup().await;
    let far_future = forge.token(|_, c| {
        c.insert("exp".into(), json!(i64::MAX));
    });
    // Signed by our key, so valid by our rules; what matters is a clean answer.
    ok(server
        .partners(&far_future)
        .list_partners(pb::ListPartnersRequest::default())
        .await);
    let ancient = forge.token(|_, c| {
        c.insert("exp".into(), json!(i64::MIN));
        c.insert("nbf".into(), json!(i64::MIN));
    });
    // Negative times are not NumericDates jsonwebtoken accepts: malformed, not expired.
    assert_refused(
        call(&server, &ancient).await,
        Code::Unauthenticated,
        "TOKEN_INVALID",
    );
}
