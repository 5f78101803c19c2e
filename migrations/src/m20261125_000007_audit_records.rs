use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Id,
    PartnerId,
    ActorUserId,
    ActorPartnerId,
    Method,
    ResourceId,
    RequestId,
    Reason,
    Before,
    After,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditRecords::Table)
                    .col(string_len(AuditRecords::Id, 40).primary_key())
                    .col(string_len_null(AuditRecords::PartnerId, 40))
                    .col(string_len(AuditRecords::ActorUserId, 40))
                    .col(string_len_null(AuditRecords::ActorPartnerId, 40))
                    .col(string_len(AuditRecords::Method, 128))
                    .col(string_len(AuditRecords::ResourceId, 64))
                    .col(uuid_null(AuditRecords::RequestId))
                    .col(string_len_null(AuditRecords::Reason, 1024))
                    .col(json_binary_null(AuditRecords::Before))
                    .col(json_binary_null(AuditRecords::After))
                    .col(timestamp_with_time_zone(AuditRecords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_records_partner_id")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::PartnerId)
                    .col(AuditRecords::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditRecords::Table).to_owned())
            .await
    }
}
