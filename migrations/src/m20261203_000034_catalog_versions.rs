use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The pricing catalog: each version a whole checked document (JSON) and
/// when it comes into force.
#[derive(DeriveIden)]
enum PricingCatalogVersions {
    Table,
    Version,
    EffectiveFrom,
    Document,
    Source,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingCatalogVersions as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(big_integer(V::Version).primary_key())
                    .col(timestamp_with_time_zone(V::EffectiveFrom))
                    .col(text(V::Document))
                    .col(string_len(V::Source, 16))
                    .col(timestamp_with_time_zone(V::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PricingCatalogVersions::Table)
                    .to_owned(),
            )
            .await
    }
}
