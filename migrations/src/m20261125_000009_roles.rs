use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    PartnerId,
    DisplayName,
    Description,
    Permissions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

/// Custom roles only: the built-in roles are constants in code, so that every
/// partner sees the same ones and a release can extend them.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(string_len(Roles::Id, 40).primary_key())
                    .col(string_len(Roles::PartnerId, 40))
                    .col(string_len(Roles::DisplayName, 64))
                    .col(string_len(Roles::Description, 512))
                    // Space-separated permission ids: a role is read whole, and
                    // ids are stable strings, so a join table would buy nothing.
                    .col(text(Roles::Permissions))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .col(timestamp_with_time_zone(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roles_partner")
                            .from(Roles::Table, Roles::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Names are unique within a partner; the index also serves listing.
        manager
            .create_index(
                Index::create()
                    .name("ux_roles_partner_display_name")
                    .table(Roles::Table)
                    .col(Roles::PartnerId)
                    .col(Roles::DisplayName)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_roles_partner_id")
                    .table(Roles::Table)
                    .col(Roles::PartnerId)
                    .col(Roles::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Roles::Table).to_owned())
            .await
    }
}
