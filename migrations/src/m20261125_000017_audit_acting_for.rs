use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The reseller a distributor's user acted for; NULL when acting for itself.
#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    ActingForPartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .add_column(string_len_null(AuditRecords::ActingForPartnerId, 40))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .drop_column(AuditRecords::ActingForPartnerId)
                    .to_owned(),
            )
            .await
    }
}
