use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
}

/// The renewal job looks an auto-renewed period's orders up by key. The
/// unique index on the key covers only orders not cancelled, and a query
/// can use it only when its own `state <> 'CANCELLED'` is written as that
/// literal: SQLite plans each statement once, with its values bound later
/// (decision 184), so a bound state never matches the index's condition.
/// This index holds every order that has a key, which any comparison of
/// the key implies.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_orders_auto_renew_key \
                 ON orders (auto_renew_key) WHERE auto_renew_key IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_orders_auto_renew_key")
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
