use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_orders_auto_renew_key_pattern";

/// An unsubscribed resource's auto-renew keys are cleared by prefix
/// (`res_…@%`). PostgreSQL's default collation is not bytewise, so its
/// plain index on the key cannot answer a `LIKE` prefix; a
/// `text_pattern_ops` index can, and the clearing no longer scans every
/// order inside the unsubscribe's transaction. SQLite compares bytewise and
/// reads the key range from 000057's index instead: nothing to add there.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX {INDEX} ON orders (auto_renew_key text_pattern_ops) \
                     WHERE auto_renew_key IS NOT NULL"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX {INDEX}"))
                .await?;
        }
        Ok(())
    }
}
