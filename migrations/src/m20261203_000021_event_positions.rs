use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Events get a position in one platform-wide sequence once they are
/// committed (the sequencer assigns it in commit order, so a reader after
/// position N never finds a later-committed event below N). NULL until then.
#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Seq,
    PartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxEvents::Table)
                    .add_column(big_integer_null(OutboxEvents::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_outbox_events_seq")
                    .table(OutboxEvents::Table)
                    .col(OutboxEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_events_partner_seq")
                    .table(OutboxEvents::Table)
                    .col(OutboxEvents::PartnerId)
                    .col(OutboxEvents::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_events_partner_seq")
                    .table(OutboxEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_outbox_events_seq")
                    .table(OutboxEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OutboxEvents::Table)
                    .drop_column(OutboxEvents::Seq)
                    .to_owned(),
            )
            .await
    }
}
