use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The sales-platform ids (`xaccount_type`) the platform issued to partners:
/// one at registration, more on the operator's request. An id belongs to one
/// partner for good, so it is the key.
#[derive(DeriveIden)]
enum SalesPlatformIds {
    Table,
    SalesPlatformId,
    PartnerId,
    CreatedAt,
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
                    .table(SalesPlatformIds::Table)
                    .col(string_len(SalesPlatformIds::SalesPlatformId, 32).primary_key())
                    .col(string_len(SalesPlatformIds::PartnerId, 40))
                    .col(timestamp_with_time_zone(SalesPlatformIds::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sales_platform_ids_partner")
                            .from(SalesPlatformIds::Table, SalesPlatformIds::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sales_platform_ids_partner")
                    .table(SalesPlatformIds::Table)
                    .col(SalesPlatformIds::PartnerId)
                    .col(SalesPlatformIds::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // Partners registered before sales-platform ids existed get theirs
        // now, from the random tail of their id (the same SQL on both backends).
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO sales_platform_ids (sales_platform_id, partner_id, created_at) \
                 SELECT 'xat_' || substr(partner_id, 21, 16), partner_id, created_at FROM partners",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SalesPlatformIds::Table).to_owned())
            .await
    }
}
