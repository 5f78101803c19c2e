use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageAccruals {
    Table,
    CustomerId,
    Cycle,
    Currency,
    FeeKey,
    ListAccrued,
    AmountAccrued,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerArrears {
    Table,
    CustomerId,
    Currency,
    Since,
    FrozenAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    PartnerId,
    EndsAt,
}

/// What a resource's on-demand use has cost so far in a cycle, at 9
/// decimals (each settlement charges the rounded total's growth, so a
/// cycle is rounded once, not every hour); arrears per customer and
/// currency; and the indexes a settlement's claim and a partner's usage
/// reads need.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageAccruals::Table)
                    .col(string_len(UsageAccruals::CustomerId, 40))
                    .col(string_len(UsageAccruals::Cycle, 7))
                    .col(string_len(UsageAccruals::Currency, 3))
                    .col(string_len(UsageAccruals::FeeKey, 400))
                    .col(string_len(UsageAccruals::ListAccrued, 48))
                    .col(string_len(UsageAccruals::AmountAccrued, 48))
                    .col(timestamp_with_time_zone(UsageAccruals::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(UsageAccruals::CustomerId)
                            .col(UsageAccruals::Cycle)
                            .col(UsageAccruals::Currency)
                            .col(UsageAccruals::FeeKey),
                    )
                    .to_owned(),
            )
            .await?;
        // Owed per currency: one row each (no rows were written with the
        // single-currency key outside tests).
        manager
            .drop_table(Table::drop().table(CustomerArrears::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerArrears::Table)
                    .col(string_len(CustomerArrears::CustomerId, 40))
                    .col(string_len(CustomerArrears::Currency, 3))
                    .col(timestamp_with_time_zone(CustomerArrears::Since))
                    .col(timestamp_with_time_zone_null(CustomerArrears::FrozenAt))
                    .col(timestamp_with_time_zone(CustomerArrears::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CustomerArrears::CustomerId)
                            .col(CustomerArrears::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        // What a settlement claims: a customer's records still to charge.
        // Partial, so it holds only those (and a claim never scans what
        // was charged before, nor other customers' records).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_usage_records_customer_unsettled \
                 ON usage_records (customer_id, ends_at) WHERE settlement_id IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_records_partner_end")
                    .table(UsageRecords::Table)
                    .col(UsageRecords::PartnerId)
                    .col(UsageRecords::EndsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_usage_records_partner_end",
            "ix_usage_records_customer_unsettled",
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(UsageRecords::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(UsageAccruals::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CustomerArrears::Table).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerArrears::Table)
                    .col(string_len(CustomerArrears::CustomerId, 40).primary_key())
                    .col(string_len(CustomerArrears::Currency, 3))
                    .col(timestamp_with_time_zone(CustomerArrears::Since))
                    .col(timestamp_with_time_zone_null(CustomerArrears::FrozenAt))
                    .col(timestamp_with_time_zone(CustomerArrears::UpdatedAt))
                    .to_owned(),
            )
            .await
    }
}
