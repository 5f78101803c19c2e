use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A partner's invitations to associate with it. Only the SHA-256 of the
/// secret token is stored. An invite made for one sales-platform account
/// (`xaccount_type`, `xaccount_id`) also lets its invitee sign up: the new
/// customer is mapped to that account. Refused sign-ups are counted
/// (`failed_sign_ups`): after ten the invitation is spent, so that its holder
/// cannot use it to learn which emails, mobiles and names are taken.
#[derive(DeriveIden)]
enum AssociationInvites {
    Table,
    Id,
    PartnerId,
    TokenHash,
    AssociationType,
    XaccountType,
    XaccountId,
    MaxUses,
    Uses,
    FailedSignUps,
    ExpiresAt,
    RevokedAt,
    CreatedBy,
    CreatedAt,
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
                    .table(AssociationInvites::Table)
                    .col(string_len(AssociationInvites::Id, 40).primary_key())
                    .col(string_len(AssociationInvites::PartnerId, 40))
                    .col(binary_len(AssociationInvites::TokenHash, 32).unique_key())
                    .col(string_len(AssociationInvites::AssociationType, 24))
                    .col(string_len_null(AssociationInvites::XaccountType, 32))
                    .col(string_len_null(AssociationInvites::XaccountId, 64))
                    .col(integer(AssociationInvites::MaxUses))
                    .col(integer(AssociationInvites::Uses))
                    .col(integer(AssociationInvites::FailedSignUps))
                    .col(timestamp_with_time_zone(AssociationInvites::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AssociationInvites::RevokedAt))
                    .col(string_len(AssociationInvites::CreatedBy, 40))
                    .col(timestamp_with_time_zone(AssociationInvites::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_association_invites_partner")
                            .from(AssociationInvites::Table, AssociationInvites::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_association_invites_partner")
                    .table(AssociationInvites::Table)
                    .col(AssociationInvites::PartnerId)
                    .col(AssociationInvites::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AssociationInvites::Table).to_owned())
            .await
    }
}
