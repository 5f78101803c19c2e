use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Quotes: a rating frozen for a customer. The quote is stored whole
/// (`body`, its encoded message); the columns beside it are what it is
/// found and listed by.
#[derive(DeriveIden)]
enum PricingQuotes {
    Table,
    Id,
    PartnerId,
    CustomerId,
    Body,
    ExpireTime,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingQuotes as Q;
        manager
            .create_table(
                Table::create()
                    .table(Q::Table)
                    .col(string_len(Q::Id, 40).primary_key())
                    .col(string_len(Q::PartnerId, 40))
                    .col(string_len(Q::CustomerId, 40))
                    .col(binary(Q::Body))
                    .col(timestamp_with_time_zone(Q::ExpireTime))
                    .col(timestamp_with_time_zone(Q::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_pricing_quotes_partner", Q::PartnerId),
            ("ix_pricing_quotes_customer", Q::CustomerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Q::Table)
                        .col(col)
                        .col(Q::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PricingQuotes::Table).to_owned())
            .await
    }
}
