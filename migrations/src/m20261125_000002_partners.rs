use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tenant table: its key is the `partner_id` every other tenant table carries.
#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
    DisplayName,
    ContactEmail,
    State,
    MasterUserId,
    SuspendReason,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Partners::Table)
                    .col(string_len(Partners::PartnerId, 40).primary_key())
                    .col(string_len(Partners::DisplayName, 256))
                    .col(string_len(Partners::ContactEmail, 254))
                    .col(string_len(Partners::State, 32))
                    .col(string_len(Partners::MasterUserId, 40))
                    .col(string_len_null(Partners::SuspendReason, 1024))
                    .col(timestamp_with_time_zone(Partners::CreatedAt))
                    .col(timestamp_with_time_zone(Partners::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Keyset listing with a state filter walks this index in id order.
        manager
            .create_index(
                Index::create()
                    .name("ix_partners_state_id")
                    .table(Partners::Table)
                    .col(Partners::State)
                    .col(Partners::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_partners_display_name")
                    .table(Partners::Table)
                    .col(Partners::DisplayName)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Partners::Table).to_owned())
            .await
    }
}
