use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Customers become principals. A session is held by a user or by a
/// customer (`holder_id`, a `usr_…` or `cus_…` id), and may be scoped to one
/// customer (`customer_id`: a customer signed in itself, or a partner user
/// acting as one, whose session lives only as long as the one it was opened
/// from, `parent_session_id`). The holder can no longer be a foreign key to `users`, and
/// SQLite cannot drop one, so sessions and refresh tokens move to new tables
/// (`auth_sessions`, `auth_refresh_tokens`) with their rows; users are never
/// deleted (only marked), so the old cascade never fired. Audit records name
/// the customer a customer-scoped token acted as. Whether a customer is
/// itself a partner is an operator-set fact that refuses associating it.
#[derive(DeriveIden)]
enum AuthSessions {
    Table,
    Id,
    PartnerId,
    HolderId,
    CustomerId,
    State,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    AccessKeyId,
    ParentSessionId,
}

#[derive(DeriveIden)]
enum AuthRefreshTokens {
    Table,
    TokenHash,
    SessionId,
    PartnerId,
    ExpiresAt,
    SpentAt,
    CreatedAt,
}

/// The tables as they were, for `down`.
#[derive(DeriveIden, Clone)]
enum Sessions {
    Table,
    Id,
    PartnerId,
    UserId,
    State,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    AccessKeyId,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    PartnerId,
    ExpiresAt,
    SpentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    ActorCustomerId,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    IsPartner,
    PasswordChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthSessions::Table)
                    .col(string_len(AuthSessions::Id, 40).primary_key())
                    .col(string_len_null(AuthSessions::PartnerId, 40))
                    .col(string_len(AuthSessions::HolderId, 40))
                    .col(string_len_null(AuthSessions::CustomerId, 40))
                    .col(string_len(AuthSessions::State, 16))
                    .col(timestamp_with_time_zone(AuthSessions::CreatedAt))
                    .col(timestamp_with_time_zone(AuthSessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AuthSessions::RevokedAt))
                    .col(string_len_null(AuthSessions::AccessKeyId, 40))
                    .col(string_len_null(AuthSessions::ParentSessionId, 40))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_auth_sessions_holder_id", AuthSessions::HolderId),
            ("ix_auth_sessions_access_key_id", AuthSessions::AccessKeyId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuthSessions::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuthRefreshTokens::Table)
                    .col(binary(AuthRefreshTokens::TokenHash).primary_key())
                    .col(string_len(AuthRefreshTokens::SessionId, 40))
                    .col(string_len_null(AuthRefreshTokens::PartnerId, 40))
                    .col(timestamp_with_time_zone(AuthRefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AuthRefreshTokens::SpentAt))
                    .col(timestamp_with_time_zone(AuthRefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_auth_refresh_tokens_session")
                            .from(AuthRefreshTokens::Table, AuthRefreshTokens::SessionId)
                            .to(AuthSessions::Table, AuthSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO auth_sessions (id, partner_id, holder_id, customer_id, state, \
             created_at, expires_at, revoked_at, access_key_id) \
             SELECT id, partner_id, user_id, NULL, state, created_at, expires_at, revoked_at, \
             access_key_id FROM sessions",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO auth_refresh_tokens (token_hash, session_id, partner_id, expires_at, \
             spent_at, created_at) \
             SELECT token_hash, session_id, partner_id, expires_at, spent_at, created_at \
             FROM refresh_tokens",
        )
        .await?;
        // Children first: the old refresh tokens reference the old sessions.
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .add_column(string_len_null(AuditRecords::ActorCustomerId, 40))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(boolean(Customers::IsPartner).default(false))
                    .to_owned(),
            )
            .await?;
        // A customer's sessions opened before it changed its password end.
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(timestamp_with_time_zone_null(Customers::PasswordChangedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .drop_column(Customers::PasswordChangedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .drop_column(Customers::IsPartner)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .drop_column(AuditRecords::ActorCustomerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::Id, 40).primary_key())
                    .col(string_len_null(Sessions::PartnerId, 40))
                    .col(string_len(Sessions::UserId, 40))
                    .col(string_len(Sessions::State, 16))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::AccessKeyId, 40))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_sessions_user_id", Sessions::UserId),
            ("ix_sessions_access_key_id", Sessions::AccessKeyId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Sessions::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(binary(RefreshTokens::TokenHash).primary_key())
                    .col(string_len(RefreshTokens::SessionId, 40))
                    .col(string_len_null(RefreshTokens::PartnerId, 40))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::SpentAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Only users' own sessions fit the old table; customer-scoped ones end.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO sessions (id, partner_id, user_id, state, created_at, expires_at, \
             revoked_at, access_key_id) \
             SELECT id, partner_id, holder_id, state, created_at, expires_at, revoked_at, \
             access_key_id FROM auth_sessions \
             WHERE customer_id IS NULL AND holder_id LIKE 'usr\\_%' ESCAPE '\\'",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO refresh_tokens (token_hash, session_id, partner_id, expires_at, \
             spent_at, created_at) \
             SELECT r.token_hash, r.session_id, r.partner_id, r.expires_at, r.spent_at, \
             r.created_at FROM auth_refresh_tokens r JOIN sessions s ON s.id = r.session_id",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(AuthRefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuthSessions::Table).to_owned())
            .await
    }
}
