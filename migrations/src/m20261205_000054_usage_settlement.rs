use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    DiscountId,
    DiscountAmount,
    Amount,
    SettlementId,
    EndsAt,
    ListAmount,
}

#[derive(DeriveIden)]
enum UsageSettlements {
    Table,
    Id,
    CustomerId,
    PartnerId,
    SettledThrough,
    Currency,
    AmountMinor,
    CashMinor,
    CreditMinor,
    ArrearsMinor,
    TransactionId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeeRecords {
    Table,
    Id,
    Cycle,
    CustomerId,
    PartnerId,
    ResourceId,
    ServiceType,
    ResourceType,
    Spec,
    Region,
    ChargeMode,
    BillType,
    ListMinor,
    DiscountMinor,
    AmountMinor,
    Currency,
    TransactionId,
    SourceId,
    UsageStart,
    UsageEnd,
    OccurredAt,
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
enum Resources {
    Table,
    FrozenFor,
}

/// Settling rated usage each hour: a record's discount and final amount,
/// the settlement that charged it; the settlements (one ledger transaction
/// each); fee records, what bills are summed from; customers in arrears;
/// and why a resource is frozen when it is not its period's end.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len_null(UsageRecords::DiscountId, 40),
            string_len(UsageRecords::DiscountAmount, 48)
                .default("0")
                .to_owned(),
            string_len(UsageRecords::Amount, 48).default("0").to_owned(),
            string_len_null(UsageRecords::SettlementId, 40),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(UsageRecords::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Records stored before discounts applied were charged at list.
        manager
            .exec_stmt(
                Query::update()
                    .table(UsageRecords::Table)
                    .value(UsageRecords::Amount, Expr::col(UsageRecords::ListAmount))
                    .to_owned(),
            )
            .await?;
        // What is still to settle, by when it ended.
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_records_settlement_end")
                    .table(UsageRecords::Table)
                    .col(UsageRecords::SettlementId)
                    .col(UsageRecords::EndsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageSettlements::Table)
                    .col(string_len(UsageSettlements::Id, 40).primary_key())
                    .col(string_len(UsageSettlements::CustomerId, 40))
                    .col(string_len_null(UsageSettlements::PartnerId, 40))
                    .col(timestamp_with_time_zone(UsageSettlements::SettledThrough))
                    .col(string_len(UsageSettlements::Currency, 3))
                    .col(big_integer(UsageSettlements::AmountMinor))
                    .col(big_integer(UsageSettlements::CashMinor))
                    .col(big_integer(UsageSettlements::CreditMinor))
                    .col(big_integer(UsageSettlements::ArrearsMinor))
                    .col(string_len_null(UsageSettlements::TransactionId, 40))
                    .col(timestamp_with_time_zone(UsageSettlements::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A customer is settled once per boundary and currency, whoever runs it.
        manager
            .create_index(
                Index::create()
                    .name("ux_usage_settlements_customer_through")
                    .table(UsageSettlements::Table)
                    .col(UsageSettlements::CustomerId)
                    .col(UsageSettlements::SettledThrough)
                    .col(UsageSettlements::Currency)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FeeRecords::Table)
                    .col(string_len(FeeRecords::Id, 40).primary_key())
                    .col(string_len(FeeRecords::Cycle, 7))
                    .col(string_len(FeeRecords::CustomerId, 40))
                    .col(string_len_null(FeeRecords::PartnerId, 40))
                    .col(string_len_null(FeeRecords::ResourceId, 40))
                    .col(string_len(FeeRecords::ServiceType, 64))
                    .col(string_len(FeeRecords::ResourceType, 64))
                    .col(string_len(FeeRecords::Spec, 64))
                    .col(string_len(FeeRecords::Region, 64))
                    .col(string_len(FeeRecords::ChargeMode, 16))
                    .col(string_len(FeeRecords::BillType, 16))
                    .col(big_integer(FeeRecords::ListMinor))
                    .col(big_integer(FeeRecords::DiscountMinor))
                    .col(big_integer(FeeRecords::AmountMinor))
                    .col(string_len(FeeRecords::Currency, 3))
                    .col(string_len_null(FeeRecords::TransactionId, 40))
                    .col(string_len(FeeRecords::SourceId, 40))
                    .col(timestamp_with_time_zone_null(FeeRecords::UsageStart))
                    .col(timestamp_with_time_zone_null(FeeRecords::UsageEnd))
                    .col(timestamp_with_time_zone(FeeRecords::OccurredAt))
                    .to_owned(),
            )
            .await?;
        for (name, lead) in [
            ("ix_fee_records_customer_cycle", FeeRecords::CustomerId),
            ("ix_fee_records_partner_cycle", FeeRecords::PartnerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(FeeRecords::Table)
                        .col(lead)
                        .col(FeeRecords::Cycle)
                        .col(FeeRecords::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_fee_records_cycle")
                    .table(FeeRecords::Table)
                    .col(FeeRecords::Cycle)
                    .col(FeeRecords::Id)
                    .to_owned(),
            )
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
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .add_column(string_len_null(Resources::FrozenFor, 16))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .drop_column(Resources::FrozenFor)
                    .to_owned(),
            )
            .await?;
        for table in [
            CustomerArrears::Table.into_iden(),
            FeeRecords::Table.into_iden(),
            UsageSettlements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_usage_records_settlement_end")
                    .table(UsageRecords::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            UsageRecords::SettlementId,
            UsageRecords::Amount,
            UsageRecords::DiscountAmount,
            UsageRecords::DiscountId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(UsageRecords::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
