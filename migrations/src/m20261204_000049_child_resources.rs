use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Child resources (a disk of a server): the order line a line's
/// resources attach to, and the main resource a resource is attached to.
#[derive(DeriveIden)]
enum Resources {
    Table,
    MainResourceId,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    MainLineId,
}

const INDEX: &str = "ix_resources_main_resource";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .add_column(string_len_null(Resources::MainResourceId, 40))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderLines::Table)
                    .add_column(string_len_null(OrderLines::MainLineId, 64))
                    .to_owned(),
            )
            .await?;
        // A main resource's children are found by it.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Resources::Table)
                    .col(Resources::MainResourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Resources::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderLines::Table)
                    .drop_column(OrderLines::MainLineId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .drop_column(Resources::MainResourceId)
                    .to_owned(),
            )
            .await
    }
}
