use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum SandboxClocks {
    Table,
    Name,
    OffsetMicros,
    UpdatedAt,
}

/// Where each advance goes, fixed when it starts: a retried advance (same
/// caller and request id) finishes the same move instead of making another.
#[derive(DeriveIden)]
enum SandboxAdvances {
    Table,
    CallerId,
    RequestId,
    TargetMicros,
    CreatedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How far the sandbox clock is ahead, kept in the database: a restart
/// keeps the sandbox's time, and every replica moves to it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SandboxClocks::Table)
                    .col(string_len(SandboxClocks::Name, 32).primary_key())
                    .col(big_integer(SandboxClocks::OffsetMicros))
                    .col(timestamp_with_time_zone(SandboxClocks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SandboxAdvances::Table)
                    .col(string_len(SandboxAdvances::CallerId, 64))
                    .col(uuid(SandboxAdvances::RequestId))
                    .col(big_integer(SandboxAdvances::TargetMicros))
                    .col(timestamp_with_time_zone(SandboxAdvances::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SandboxAdvances::CallerId)
                            .col(SandboxAdvances::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SandboxAdvances::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SandboxClocks::Table).to_owned())
            .await
    }
}
