use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoleMembers {
    Table,
    RoleId,
    UserId,
    PartnerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

/// Which user holds which role. `role_id` is a built-in role name or a custom
/// role's `rol_…` id, so it carries no foreign key; deleting a custom role
/// deletes its rows in the same transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoleMembers::Table)
                    .col(string_len(RoleMembers::RoleId, 40))
                    .col(string_len(RoleMembers::UserId, 40))
                    .col(string_len(RoleMembers::PartnerId, 40))
                    .col(timestamp_with_time_zone(RoleMembers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(RoleMembers::RoleId)
                            .col(RoleMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_members_user")
                            .from(RoleMembers::Table, RoleMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's roles are read on every authentication cache miss.
        manager
            .create_index(
                Index::create()
                    .name("ix_role_members_user_id")
                    .table(RoleMembers::Table)
                    .col(RoleMembers::UserId)
                    .to_owned(),
            )
            .await?;
        // Member counts and member lists go by partner and role.
        manager
            .create_index(
                Index::create()
                    .name("ix_role_members_partner_role")
                    .table(RoleMembers::Table)
                    .col(RoleMembers::PartnerId)
                    .col(RoleMembers::RoleId)
                    .col(RoleMembers::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoleMembers::Table).to_owned())
            .await
    }
}
