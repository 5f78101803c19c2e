use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Discounts as their latest version. `slot` keeps one partner-set discount
/// per partner, customer and product scope (NULL for the operator's).
#[derive(DeriveIden)]
enum PricingDiscounts {
    Table,
    Id,
    Version,
    Kind,
    Name,
    PartnerId,
    CustomerId,
    Slot,
    ServiceType,
    ResourceType,
    RateOff,
    ReductionMinor,
    Currency,
    ValidFrom,
    ValidUntil,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

/// Every version of every discount, as it was (JSON), kept for good.
#[derive(DeriveIden)]
enum PricingDiscountVersions {
    Table,
    DiscountId,
    Version,
    State,
    ChangedBy,
    ChangedAt,
}

/// How much discount a partner may give on a product scope.
#[derive(DeriveIden)]
enum PricingIncentivePolicies {
    Table,
    Id,
    PartnerId,
    ServiceType,
    ResourceType,
    MaxRateOff,
    ValidFrom,
    ValidUntil,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingDiscountVersions as V;
        use PricingDiscounts as D;
        use PricingIncentivePolicies as P;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(string_len(D::Id, 40).primary_key())
                    .col(big_integer(D::Version))
                    .col(string_len(D::Kind, 24))
                    .col(string_len(D::Name, 400))
                    .col(string_len_null(D::PartnerId, 40))
                    .col(string_len_null(D::CustomerId, 40))
                    .col(string_len_null(D::Slot, 260))
                    .col(string_len_null(D::ServiceType, 64))
                    .col(string_len_null(D::ResourceType, 64))
                    .col(string_len_null(D::RateOff, 16))
                    .col(big_integer_null(D::ReductionMinor))
                    .col(string_len_null(D::Currency, 3))
                    .col(timestamp_with_time_zone(D::ValidFrom))
                    .col(timestamp_with_time_zone_null(D::ValidUntil))
                    .col(string_len(D::UpdatedBy, 40))
                    .col(timestamp_with_time_zone(D::CreatedAt))
                    .col(timestamp_with_time_zone(D::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_pricing_discounts_customer", D::CustomerId),
            ("ix_pricing_discounts_partner", D::PartnerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(D::Table)
                        .col(col)
                        .col(D::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_pricing_discounts_slot")
                    .table(D::Table)
                    .col(D::Slot)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(string_len(V::DiscountId, 40))
                    .col(big_integer(V::Version))
                    .col(text(V::State))
                    .col(string_len(V::ChangedBy, 40))
                    .col(timestamp_with_time_zone(V::ChangedAt))
                    .primary_key(Index::create().col(V::DiscountId).col(V::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(string_len(P::Id, 40).primary_key())
                    .col(string_len(P::PartnerId, 40))
                    .col(string_len_null(P::ServiceType, 64))
                    .col(string_len_null(P::ResourceType, 64))
                    .col(string_len(P::MaxRateOff, 16))
                    .col(timestamp_with_time_zone(P::ValidFrom))
                    .col(timestamp_with_time_zone_null(P::ValidUntil))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pricing_incentive_policies_partner")
                    .table(P::Table)
                    .col(P::PartnerId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PricingIncentivePolicies::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(PricingDiscountVersions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PricingDiscounts::Table).to_owned())
            .await
    }
}
