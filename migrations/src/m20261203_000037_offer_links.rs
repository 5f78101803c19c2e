use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Exclusive offer links: a partner's shareable link to a product.
#[derive(DeriveIden)]
enum PricingOfferLinks {
    Table,
    Id,
    PartnerId,
    Token,
    Name,
    ServiceType,
    ResourceType,
    Spec,
    Region,
    RateOff,
    ExpireTime,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingOfferLinks as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(string_len(L::Id, 40).primary_key())
                    .col(string_len(L::PartnerId, 40))
                    .col(string_len(L::Token, 80))
                    .col(string_len(L::Name, 400))
                    .col(string_len(L::ServiceType, 64))
                    .col(string_len(L::ResourceType, 64))
                    .col(string_len_null(L::Spec, 64))
                    .col(string_len_null(L::Region, 64))
                    .col(string_len_null(L::RateOff, 16))
                    .col(timestamp_with_time_zone_null(L::ExpireTime))
                    .col(boolean(L::Disabled))
                    .col(timestamp_with_time_zone(L::CreatedAt))
                    .col(timestamp_with_time_zone(L::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_pricing_offer_links_token")
                    .table(L::Table)
                    .col(L::Token)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pricing_offer_links_partner")
                    .table(L::Table)
                    .col(L::PartnerId)
                    .col(L::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PricingOfferLinks::Table).to_owned())
            .await
    }
}
