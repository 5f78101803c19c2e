use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PartnerId,
    Username,
    DisplayName,
    Email,
    PasswordHash,
    State,
    IsMaster,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(string_len(Users::Id, 40).primary_key())
                    // NULL only for platform operators, who belong to no partner.
                    .col(string_len_null(Users::PartnerId, 40))
                    // Login names are one namespace across the platform: a login
                    // form asks for a username, not for a partner.
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len(Users::DisplayName, 256))
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::PasswordHash, 256))
                    .col(string_len(Users::State, 32))
                    .col(boolean(Users::IsMaster))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_partner")
                            .from(Users::Table, Users::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_partner_id")
                    .table(Users::Table)
                    .col(Users::PartnerId)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
