use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerBudgets {
    Table,
    UsedMonth,
}

/// A monthly budget's consumption is counted per month: the month it
/// counts (`YYYY-MM` in the billing time zone) is kept beside it, and the
/// first consumption or read in a later month starts from zero. Budgets
/// stored before have none and count the month they are next read in.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CustomerBudgets::Table)
                    .add_column(
                        ColumnDef::new(CustomerBudgets::UsedMonth)
                            .string_len(7)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CustomerBudgets::Table)
                    .drop_column(CustomerBudgets::UsedMonth)
                    .to_owned(),
            )
            .await
    }
}
