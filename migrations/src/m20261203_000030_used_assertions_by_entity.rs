use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The replay cache keyed by the IdP's entity id instead of its row:
/// deleting an IdP and registering it again must not forget which of its
/// assertions were used. Its rows live minutes, so the old table is dropped,
/// not copied (an assertion used in the minute of the upgrade is the only
/// thing forgotten, and only on a server upgraded in that minute).
#[derive(DeriveIden)]
enum FederationUsedAssertions {
    Table,
    EntityId,
    AssertionId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum FederationSeenAssertions {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use FederationUsedAssertions as Used;
        manager
            .drop_table(
                Table::drop()
                    .table(FederationSeenAssertions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Used::Table)
                    .col(string_len(Used::EntityId, 1024))
                    .col(string_len(Used::AssertionId, 256))
                    .col(timestamp_with_time_zone(Used::ExpiresAt))
                    .primary_key(Index::create().col(Used::EntityId).col(Used::AssertionId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federation_used_assertions_expiry")
                    .table(Used::Table)
                    .col(Used::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(FederationUsedAssertions::Table)
                    .to_owned(),
            )
            .await?;
        super::m20261203_000029_federation::create_seen_assertions(manager).await
    }
}
