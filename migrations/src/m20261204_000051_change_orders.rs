use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A change order's line: the resource it changes, as it was when priced
/// (spec, size, expiry), so paying changes it only if it still is.
#[derive(DeriveIden)]
enum OrderLines {
    Table,
    ChangesResourceId,
    ChangesFromSpec,
    ChangesFromSize,
    ChangesUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len_null(OrderLines::ChangesResourceId, 40),
            string_len_null(OrderLines::ChangesFromSpec, 64),
            big_integer_null(OrderLines::ChangesFromSize),
            timestamp_with_time_zone_null(OrderLines::ChangesUntil),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrderLines::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Unsubscribing finds the changes a resource paid for.
        manager
            .create_index(
                Index::create()
                    .name("ix_order_lines_changes_resource")
                    .table(OrderLines::Table)
                    .col(OrderLines::ChangesResourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_order_lines_changes_resource")
                    .table(OrderLines::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            OrderLines::ChangesUntil,
            OrderLines::ChangesFromSize,
            OrderLines::ChangesFromSpec,
            OrderLines::ChangesResourceId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrderLines::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
