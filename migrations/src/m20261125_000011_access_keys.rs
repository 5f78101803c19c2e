use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Access keys (AK/SK) of partners' systems. Only the SHA-256 of each secret
/// is kept; a key belongs to one user of one partner.
#[derive(DeriveIden)]
enum AccessKeys {
    Table,
    Id,
    PartnerId,
    UserId,
    Description,
    SecretHash,
    State,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
}

/// Sessions opened by exchanging an access key name the key, so disabling or
/// deleting it can revoke them in the same transaction.
#[derive(DeriveIden)]
enum Sessions {
    Table,
    AccessKeyId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessKeys::Table)
                    .col(string_len(AccessKeys::Id, 40).primary_key())
                    .col(string_len(AccessKeys::PartnerId, 40))
                    .col(string_len(AccessKeys::UserId, 40))
                    .col(string_len(AccessKeys::Description, 256))
                    .col(binary(AccessKeys::SecretHash))
                    .col(string_len(AccessKeys::State, 16))
                    .col(timestamp_with_time_zone(AccessKeys::CreatedAt))
                    .col(timestamp_with_time_zone(AccessKeys::UpdatedAt))
                    .col(timestamp_with_time_zone_null(AccessKeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_keys_user")
                            .from(AccessKeys::Table, AccessKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Tenant listings (by partner, optionally by user) page by id.
        manager
            .create_index(
                Index::create()
                    .name("ix_access_keys_partner_user")
                    .table(AccessKeys::Table)
                    .col(AccessKeys::PartnerId)
                    .col(AccessKeys::UserId)
                    .col(AccessKeys::Id)
                    .to_owned(),
            )
            .await?;
        // A plain nullable column, no foreign key: SQLite cannot add one to an
        // existing table, and a deleted key's sessions are revoked, not deleted.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_len_null(Sessions::AccessKeyId, 40))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_access_key_id")
                    .table(Sessions::Table)
                    .col(Sessions::AccessKeyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_sessions_access_key_id")
                    .table(Sessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AccessKeyId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AccessKeys::Table).to_owned())
            .await
    }
}
