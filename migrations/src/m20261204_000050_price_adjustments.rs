use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An operator's adjustment of an order's price (vendor discount 609): why,
/// by whom, when. Its amount is the order's discount.
#[derive(DeriveIden)]
enum Orders {
    Table,
    AdjustmentReason,
    AdjustedBy,
    AdjustedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len_null(Orders::AdjustmentReason, 200),
            string_len_null(Orders::AdjustedBy, 40),
            timestamp_with_time_zone_null(Orders::AdjustedAt),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Orders::AdjustedAt,
            Orders::AdjustedBy,
            Orders::AdjustmentReason,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
