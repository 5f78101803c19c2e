use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Whether a partner is in marketing programme 2.0: the contacts of leads
/// dispatched to it are masked, and it reaches them through brokered calls.
/// The operator sets it.
#[derive(DeriveIden)]
enum Partners {
    Table,
    MarketingProgrammeV2,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .add_column(boolean(Partners::MarketingProgrammeV2).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .drop_column(Partners::MarketingProgrammeV2)
                    .to_owned(),
            )
            .await
    }
}
