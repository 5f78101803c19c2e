use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Account facts the program eligibility rules read. Billing does not exist
/// yet, so the operator keeps them on the partner; billing will own
/// `in_arrears` once it does.
#[derive(DeriveIden)]
enum Partners {
    Table,
    InArrears,
    EnterpriseMembership,
    HasCreditAccount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .add_column(boolean(Partners::InArrears).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .add_column(string_len(Partners::EnterpriseMembership, 16).default("NONE"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Partners::Table)
                    .add_column(boolean(Partners::HasCreditAccount).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Partners::InArrears,
            Partners::EnterpriseMembership,
            Partners::HasCreditAccount,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Partners::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
