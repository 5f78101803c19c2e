use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyRecords {
    Table,
    CallerId,
    Method,
    RequestId,
    PartnerId,
    Fingerprint,
    Response,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecords::Table)
                    .col(string_len(IdempotencyRecords::CallerId, 40))
                    .col(string_len(IdempotencyRecords::Method, 128))
                    .col(uuid(IdempotencyRecords::RequestId))
                    .col(string_len_null(IdempotencyRecords::PartnerId, 40))
                    .col(binary(IdempotencyRecords::Fingerprint))
                    .col(binary(IdempotencyRecords::Response))
                    .col(timestamp_with_time_zone(IdempotencyRecords::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyRecords::CallerId)
                            .col(IdempotencyRecords::Method)
                            .col(IdempotencyRecords::RequestId),
                    )
                    .to_owned(),
            )
            .await?;
        // Expiry sweeps go by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_records_created_at")
                    .table(IdempotencyRecords::Table)
                    .col(IdempotencyRecords::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyRecords::Table).to_owned())
            .await
    }
}
