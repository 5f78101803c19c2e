//! The write path (idempotency, audit and outbox in one transaction) against a
//! real (in-memory SQLite) database with the real migrations.

use chrono::Utc;
use partner_kernel::db::Db;
use partner_kernel::entity::{audit_record, idempotency_record, outbox_event};
use partner_kernel::error::KernelError;
use partner_kernel::ids::{PartnerId, SessionId, UserId};
use partner_kernel::mutation::Mutation;
use partner_kernel::principal::{Actor, Principal};
use partner_kernel::seal::Sealer;
use partner_kernel::secrets::{self, SecretKey};
use partner_kernel::write::{self, Change, Outcome};
use partner_migration::{Migrator, MigratorTrait};
use sea_orm::{EntityTrait, PaginatorTrait};

async fn db() -> Db {
    let db = Db::connect("sqlite::memory:")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Migrator::up(db.conn(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db
}

fn mutation(request_id: uuid::Uuid, fingerprint: [u8; 32]) -> Mutation {
    let principal = Principal {
        user_id: Some(UserId::generate()),
        session_id: SessionId::generate(),
        actor: Actor::PartnerMaster(PartnerId::generate()),
        permissions: partner_kernel::permission::PermissionSet::empty(),
    };
    Mutation::new(
        principal,
        "test.v1.TestService/Do",
        request_id,
        fingerprint,
        Utc::now(),
    )
}

/// The effect under test: one change with an event, answering with a
/// message that tells the calls apart.
async fn effect(db: &Db, m: &Mutation, answer: &str, fail: bool) -> Result<String, KernelError> {
    let answer = answer.to_owned();
    let partner = m.principal.partner_id();
    write::commit(db, m, move |_tx| {
        Box::pin(async move {
            if fail {
                return Err(KernelError::Conflict);
            }
            let change = Change::of(partner, "res_1")
                .after(serde_json::json!({ "done": true }))
                .announce("test.done");
            Ok(Outcome::new(answer, change))
        })
    })
    .await
}

#[tokio::test]
async fn a_replay_is_answered_before_the_effect_runs() {
    let db = db().await;
    let m = mutation(uuid::Uuid::new_v4(), [1; 32]);
    assert_eq!(write::replayed::<String>(&db, &m).await.ok(), Some(None));
    effect(&db, &m, "first", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        write::replayed::<String>(&db, &m).await.ok(),
        Some(Some("first".to_owned()))
    );
    let mut other = m.clone();
    other.fingerprint = [2; 32];
    assert!(matches!(
        write::replayed::<String>(&db, &other).await,
        Err(KernelError::IdempotencyKeyReused)
    ));
}

async fn counts(db: &Db) -> (u64, u64, u64) {
    let conn = db.conn();
    (
        idempotency_record::Entity::find()
            .count(conn)
            .await
            .unwrap_or(u64::MAX),
        audit_record::Entity::find()
            .count(conn)
            .await
            .unwrap_or(u64::MAX),
        outbox_event::Entity::find()
            .count(conn)
            .await
            .unwrap_or(u64::MAX),
    )
}

#[tokio::test]
async fn replay_returns_the_first_answer_without_a_second_effect() {
    let db = db().await;
    let m = mutation(uuid::Uuid::new_v4(), [1; 32]);
    let first = effect(&db, &m, "first", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = effect(&db, &m, "second", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, "first");
    assert_eq!(second, "first", "the stored response, not a new one");
    assert_eq!(counts(&db).await, (1, 1, 1));
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused() {
    let db = db().await;
    let m = mutation(uuid::Uuid::new_v4(), [1; 32]);
    effect(&db, &m, "first", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reused = m.clone();
    reused.fingerprint = [2; 32];
    let reused = effect(&db, &reused, "other", false).await;
    assert!(
        matches!(reused, Err(KernelError::IdempotencyKeyReused)),
        "{reused:?}"
    );
    assert_eq!(counts(&db).await, (1, 1, 1));
}

#[tokio::test]
async fn a_failed_effect_leaves_nothing_behind() {
    let db = db().await;
    let m = mutation(uuid::Uuid::new_v4(), [1; 32]);
    let failed = effect(&db, &m, "x", true).await;
    assert!(matches!(failed, Err(KernelError::Conflict)));
    assert_eq!(
        counts(&db).await,
        (0, 0, 0),
        "claim, audit and event rolled back together"
    );
    // The key is free again.
    let retried = effect(&db, &m, "retried", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(retried, "retried");
    assert_eq!(counts(&db).await, (1, 1, 1));
}

#[tokio::test]
async fn keys_are_per_caller() {
    let db = db().await;
    let request_id = uuid::Uuid::new_v4();
    let a = effect(&db, &mutation(request_id, [1; 32]), "a", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let b = effect(&db, &mutation(request_id, [1; 32]), "b", false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((a.as_str(), b.as_str()), ("a", "b"));
    assert_eq!(counts(&db).await, (2, 2, 2));
}

#[tokio::test]
async fn a_server_secret_is_made_once_and_then_kept() {
    let db = db().await;
    let first = secrets::load_or_create(&db, "k", Utc::now(), &Sealer::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = secrets::load_or_create(&db, "k", Utc::now(), &Sealer::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.mac(&[b"x"]), again.mac(&[b"x"]));
    let other = secrets::load_or_create(&db, "other", Utc::now(), &Sealer::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(first.mac(&[b"x"]), other.mac(&[b"x"]));
    let _: SecretKey = other;
}

#[tokio::test]
async fn plain_secrets_are_sealed_by_the_first_start_with_a_master_key() {
    use partner_kernel::entity::server_secret;
    use partner_kernel::seal::MasterKey;
    let db = db().await;
    let plain = secrets::load_or_create(&db, "k", Utc::now(), &Sealer::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stored = |db: &Db| {
        let conn = db.conn().clone();
        async move {
            server_secret::Entity::find_by_id("k".to_owned())
                .one(&conn)
                .await
                .ok()
                .flatten()
                .map(|r| r.value)
                .unwrap_or_default()
        }
    };
    assert!(!Sealer::is_sealed(&stored(&db).await));
    let key = MasterKey::parse(&"ab".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
    let sealer = Sealer::new(Some(key));
    let sealed = secrets::load_or_create(&db, "k", Utc::now(), &sealer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.mac(&[b"x"]), sealed.mac(&[b"x"]), "the same secret");
    assert!(Sealer::is_sealed(&stored(&db).await));
    // From now on it needs the key, and no other opens it.
    assert!(
        secrets::load_or_create(&db, "k", Utc::now(), &Sealer::default())
            .await
            .is_err()
    );
    let other = MasterKey::parse(&"cd".repeat(32)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        secrets::load_or_create(&db, "k", Utc::now(), &Sealer::new(Some(other)))
            .await
            .is_err()
    );
}
