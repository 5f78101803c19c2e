use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    RecordId,
    Fingerprint,
    PartnerId,
    CustomerId,
    ResourceId,
    ServiceType,
    ResourceType,
    Spec,
    Region,
    Zone,
    Size,
    UsageFactor,
    UsageValue,
    UsageUnit,
    StartsAt,
    EndsAt,
    ListAmount,
    Currency,
    CatalogVersion,
    ReportedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Usage reported by the cloud services, each record once (its id is the
/// key: a retried batch finds its records there), rated when reported.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageRecords::Table)
                    .col(string_len(UsageRecords::RecordId, 64).primary_key())
                    .col(binary(UsageRecords::Fingerprint))
                    .col(string_len_null(UsageRecords::PartnerId, 40))
                    .col(string_len(UsageRecords::CustomerId, 40))
                    .col(string_len_null(UsageRecords::ResourceId, 40))
                    .col(string_len(UsageRecords::ServiceType, 64))
                    .col(string_len(UsageRecords::ResourceType, 64))
                    .col(string_len(UsageRecords::Spec, 64))
                    .col(string_len(UsageRecords::Region, 64))
                    .col(string_len(UsageRecords::Zone, 64))
                    .col(big_integer(UsageRecords::Size))
                    .col(string_len(UsageRecords::UsageFactor, 64))
                    .col(string_len(UsageRecords::UsageValue, 40))
                    .col(string_len(UsageRecords::UsageUnit, 64))
                    .col(timestamp_with_time_zone(UsageRecords::StartsAt))
                    .col(timestamp_with_time_zone(UsageRecords::EndsAt))
                    // A decimal to 9 places, as text: it may exceed what an
                    // integer count of nano-units holds.
                    .col(string_len(UsageRecords::ListAmount, 48))
                    .col(string_len(UsageRecords::Currency, 3))
                    .col(big_integer(UsageRecords::CatalogVersion))
                    .col(timestamp_with_time_zone(UsageRecords::ReportedAt))
                    .to_owned(),
            )
            .await?;
        // A customer's usage over time (bills, fee records).
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_records_customer_start")
                    .table(UsageRecords::Table)
                    .col(UsageRecords::CustomerId)
                    .col(UsageRecords::StartsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UsageRecords::Table).to_owned())
            .await
    }
}
