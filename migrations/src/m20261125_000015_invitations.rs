use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Invitations to join a program. Only the SHA-256 of the single-use token is
/// kept, unique so that a token names at most one invitation.
#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    InviterPartnerId,
    InviterUserId,
    Program,
    Email,
    PartnerId,
    TokenHash,
    State,
    ExpireAt,
    AcceptedPartnerId,
    AcceptedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(string_len(Invitations::Id, 40).primary_key())
                    // NULL when the operator invited; else the inviting distributor.
                    .col(string_len_null(Invitations::InviterPartnerId, 40))
                    .col(string_len(Invitations::InviterUserId, 40))
                    .col(string_len(Invitations::Program, 40))
                    .col(string_len(Invitations::Email, 254))
                    // NULL when a new partner is to sign up with it.
                    .col(string_len_null(Invitations::PartnerId, 40))
                    .col(string_len_uniq(Invitations::TokenHash, 64))
                    .col(string_len(Invitations::State, 16))
                    .col(timestamp_with_time_zone(Invitations::ExpireAt))
                    .col(string_len_null(Invitations::AcceptedPartnerId, 40))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // A distributor lists the invitations it sent, in id order.
        manager
            .create_index(
                Index::create()
                    .name("ix_invitations_inviter_id")
                    .table(Invitations::Table)
                    .col(Invitations::InviterPartnerId)
                    .col(Invitations::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}
