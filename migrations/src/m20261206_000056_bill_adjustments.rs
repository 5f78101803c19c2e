use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FeeRecords {
    Table,
    AdjustsCycle,
    Reason,
}

/// An adjustment's fee record names the closed cycle it corrects and says
/// why (the operator's reason, shown on the bill); a credit sums a
/// customer's adjustments of a cycle along an index.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(FeeRecords::Table)
                    .add_column(string_len_null(FeeRecords::AdjustsCycle, 7))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(FeeRecords::Table)
                    .add_column(string_len_null(FeeRecords::Reason, 500))
                    .to_owned(),
            )
            .await?;
        // Partial: only adjustments have a cycle they correct, and every
        // other fee record (each payment's, each settlement's) would pay
        // for an index entry no query reads.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_fee_records_customer_adjusts \
                 ON fee_records (customer_id, adjusts_cycle) WHERE adjusts_cycle IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_fee_records_customer_adjusts")
                    .table(FeeRecords::Table)
                    .to_owned(),
            )
            .await?;
        for column in [FeeRecords::Reason, FeeRecords::AdjustsCycle] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FeeRecords::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
