//! The migrations run down and up again on the test backend (SQLite, or
//! PostgreSQL with `TEST_DATABASE_URL`), so every `down` really undoes its `up`.

use partner_migration::{Migrator, MigratorTrait};
use partner_tests::TestDb;

#[tokio::test]
async fn every_migration_goes_down_and_up_again() {
    let db = TestDb::fresh().await;
    let conn = db.connect().await;
    Migrator::up(&conn, None)
        .await
        .unwrap_or_else(|e| panic!("up: {e}"));
    Migrator::down(&conn, None)
        .await
        .unwrap_or_else(|e| panic!("down: {e}"));
    Migrator::up(&conn, None)
        .await
        .unwrap_or_else(|e| panic!("up again: {e}"));
    let applied = Migrator::get_applied_migrations(&conn)
        .await
        .unwrap_or_else(|e| panic!("status: {e}"));
    assert_eq!(applied.len(), Migrator::migrations().len());
    let _ = conn.close().await;
}
