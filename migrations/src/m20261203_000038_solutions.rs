use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Software partners' solutions and where each is in its lifecycle.
#[derive(DeriveIden)]
enum PricingSolutions {
    Table,
    Id,
    PartnerId,
    Name,
    Description,
    State,
    Design,
    Configurator,
    Origin,
    BaselineCode,
    RejectReason,
    Version,
    StateTime,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingSolutions as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(string_len(S::Id, 40).primary_key())
                    .col(string_len(S::PartnerId, 40))
                    .col(string_len(S::Name, 400))
                    .col(text(S::Description))
                    .col(string_len(S::State, 32))
                    .col(string_len(S::Design, 16))
                    .col(string_len(S::Configurator, 16))
                    .col(string_len(S::Origin, 16))
                    .col(string_len_null(S::BaselineCode, 64))
                    .col(string_len_null(S::RejectReason, 2048))
                    .col(big_integer(S::Version))
                    .col(timestamp_with_time_zone(S::StateTime))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .col(timestamp_with_time_zone(S::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pricing_solutions_partner")
                    .table(S::Table)
                    .col(S::PartnerId)
                    .col(S::Id)
                    .to_owned(),
            )
            .await?;
        // A baseline solution is registered once per partner (NULLs, the
        // partners' own solutions, never collide).
        manager
            .create_index(
                Index::create()
                    .name("ux_pricing_solutions_baseline")
                    .table(S::Table)
                    .col(S::PartnerId)
                    .col(S::BaselineCode)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PricingSolutions::Table).to_owned())
            .await
    }
}
