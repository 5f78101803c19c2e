use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tier-1 distributor ↔ tier-2 reseller links. The key leads with the
/// distributor (its tenant); the unique reseller index makes "a reseller
/// belongs to one distributor" hold even when two distributors' invitations
/// are accepted at once.
#[derive(DeriveIden)]
enum ResellerLinks {
    Table,
    DistributorId,
    ResellerId,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResellerLinks::Table)
                    .col(string_len(ResellerLinks::DistributorId, 40))
                    .col(string_len(ResellerLinks::ResellerId, 40))
                    .col(string_len(ResellerLinks::State, 16))
                    .col(timestamp_with_time_zone(ResellerLinks::CreatedAt))
                    .col(timestamp_with_time_zone(ResellerLinks::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ResellerLinks::DistributorId)
                            .col(ResellerLinks::ResellerId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reseller_links_distributor")
                            .from(ResellerLinks::Table, ResellerLinks::DistributorId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reseller_links_reseller")
                            .from(ResellerLinks::Table, ResellerLinks::ResellerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_reseller_links_reseller")
                    .table(ResellerLinks::Table)
                    .col(ResellerLinks::ResellerId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResellerLinks::Table).to_owned())
            .await
    }
}
