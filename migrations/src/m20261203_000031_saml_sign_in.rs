use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What SP-initiated and browser sign-in need:
/// - each IdP's allow-list of service URLs a sign-in may land on;
/// - AuthnRequests already answered (their IDs carry their own state and a
///   MAC, so only a verified answer writes here), until they expire;
/// - one-time login codes the ACS hands the browser (stored as hashes).
#[derive(DeriveIden)]
enum FederationIdentityProviders {
    Table,
    ServiceUrls,
}

#[derive(DeriveIden)]
enum FederationAnsweredRequests {
    Table,
    Id,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum FederationLoginCodes {
    Table,
    CodeHash,
    IdpId,
    CustomerId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use FederationAnsweredRequests as Requests;
        use FederationLoginCodes as Codes;
        manager
            .alter_table(
                Table::alter()
                    .table(FederationIdentityProviders::Table)
                    .add_column(text(FederationIdentityProviders::ServiceUrls).default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .col(string_len(Requests::Id, 128).primary_key())
                    .col(timestamp_with_time_zone(Requests::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federation_answered_requests_expiry")
                    .table(Requests::Table)
                    .col(Requests::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Codes::Table)
                    .col(binary(Codes::CodeHash).primary_key())
                    .col(string_len(Codes::IdpId, 40))
                    .col(string_len(Codes::CustomerId, 40))
                    .col(timestamp_with_time_zone(Codes::CreatedAt))
                    .col(timestamp_with_time_zone(Codes::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federation_login_codes_expiry")
                    .table(Codes::Table)
                    .col(Codes::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FederationLoginCodes::Table.into_iden(),
            FederationAnsweredRequests::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(FederationIdentityProviders::Table)
                    .drop_column(FederationIdentityProviders::ServiceUrls)
                    .to_owned(),
            )
            .await
    }
}
