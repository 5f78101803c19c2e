use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partners' SAML identity providers, one per sales-platform id (which is
/// global, so `xaccount_type` is unique), and entity ids registered once on
/// the platform, since an ACS response names its IdP only by its Issuer.
/// `certificates` is a JSON array of `{der, sha256, retire_at}`.
#[derive(DeriveIden)]
enum FederationIdentityProviders {
    Table,
    Id,
    PartnerId,
    XaccountType,
    EntityId,
    SsoUrl,
    XaccountAttribute,
    FirstLoginPolicy,
    RequireSignedAssertions,
    Certificates,
    CreatedAt,
    UpdatedAt,
}

/// Assertion ids already used, per IdP, until they could no longer be
/// presented; the primary key is what refuses a replay, on every replica.
#[derive(DeriveIden)]
enum FederationSeenAssertions {
    Table,
    IdpId,
    AssertionId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

/// The replay cache as this migration made it (also what undoing
/// migration 030 puts back).
pub(crate) async fn create_seen_assertions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use FederationSeenAssertions as Seen;
    manager
        .create_table(
            Table::create()
                .table(Seen::Table)
                .col(string_len(Seen::IdpId, 40))
                .col(string_len(Seen::AssertionId, 256))
                .col(timestamp_with_time_zone(Seen::ExpiresAt))
                .primary_key(Index::create().col(Seen::IdpId).col(Seen::AssertionId))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_federation_seen_assertions_expiry")
                .table(Seen::Table)
                .col(Seen::ExpiresAt)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use FederationIdentityProviders as Idp;
        manager
            .create_table(
                Table::create()
                    .table(Idp::Table)
                    .col(string_len(Idp::Id, 40).primary_key())
                    .col(string_len(Idp::PartnerId, 40))
                    .col(string_len(Idp::XaccountType, 32).unique_key())
                    .col(string_len(Idp::EntityId, 1024).unique_key())
                    .col(text(Idp::SsoUrl))
                    .col(string_len(Idp::XaccountAttribute, 128))
                    .col(string_len(Idp::FirstLoginPolicy, 24))
                    .col(boolean(Idp::RequireSignedAssertions))
                    .col(text(Idp::Certificates))
                    .col(timestamp_with_time_zone(Idp::CreatedAt))
                    .col(timestamp_with_time_zone(Idp::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_federation_idps_partner")
                            .from(Idp::Table, Idp::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federation_idps_partner")
                    .table(Idp::Table)
                    .col(Idp::PartnerId)
                    .col(Idp::Id)
                    .to_owned(),
            )
            .await?;
        create_seen_assertions(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(FederationSeenAssertions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(FederationIdentityProviders::Table)
                    .to_owned(),
            )
            .await
    }
}
