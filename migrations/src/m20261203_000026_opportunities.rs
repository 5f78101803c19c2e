use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Opportunities partners share with the vendor, and the platform's
/// region → office routing table (key `{country}/{region}`, the region empty
/// for a whole country).
#[derive(DeriveIden)]
enum Opportunities {
    Table,
    Id,
    PartnerId,
    State,
    CustomerName,
    CustomerEmail,
    Country,
    Region,
    Description,
    ExpectedCurrency,
    ExpectedMinor,
    Routing,
    Office,
    Reason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoutingRules {
    Table,
    RuleKey,
    Country,
    Region,
    Office,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Opportunities::Table)
                    .col(string_len(Opportunities::Id, 40).primary_key())
                    .col(string_len(Opportunities::PartnerId, 40))
                    .col(string_len(Opportunities::State, 16))
                    .col(string_len(Opportunities::CustomerName, 512))
                    .col(string_len(Opportunities::CustomerEmail, 254))
                    .col(string_len(Opportunities::Country, 2))
                    .col(string_len(Opportunities::Region, 256))
                    .col(text(Opportunities::Description))
                    .col(string_len_null(Opportunities::ExpectedCurrency, 3))
                    .col(big_integer_null(Opportunities::ExpectedMinor))
                    .col(string_len(Opportunities::Routing, 24))
                    .col(string_len_null(Opportunities::Office, 256))
                    .col(string_len_null(Opportunities::Reason, 2048))
                    .col(timestamp_with_time_zone(Opportunities::CreatedAt))
                    .col(timestamp_with_time_zone(Opportunities::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, first) in [
            ("ix_opportunities_partner_id", Opportunities::PartnerId),
            ("ix_opportunities_office", Opportunities::Office),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Opportunities::Table)
                        .col(first)
                        .col(Opportunities::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RoutingRules::Table)
                    .col(string_len(RoutingRules::RuleKey, 300).primary_key())
                    .col(string_len(RoutingRules::Country, 2))
                    .col(string_len(RoutingRules::Region, 256))
                    .col(string_len(RoutingRules::Office, 256))
                    .col(timestamp_with_time_zone(RoutingRules::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoutingRules::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Opportunities::Table).to_owned())
            .await
    }
}
