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
/// why (the operator's reason, shown on the bill).
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
