use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    PartnerId,
    AccountName,
    Id,
}

const WITH_ID: &str = "ix_customers_partner_name_id";
const WITHOUT_ID: &str = "ix_customers_partner_name";

fn name_index(name: &str, with_id: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name)
        .table(Customers::Table)
        .col(Customers::PartnerId)
        .col(Customers::AccountName);
    if with_id {
        i.col(Customers::Id);
    }
    i.to_owned()
}

/// A page of customers by name prefix is in id order, so every customer the
/// prefix matches is sorted before the page is cut. With the id in the name
/// index, SQLite sorts the ids from the index alone and reads only the
/// page's rows (`customers::store::list`; PostgreSQL sorts the rows, which
/// is faster there).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(name_index(WITH_ID, true)).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(WITHOUT_ID)
                    .table(Customers::Table)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(name_index(WITHOUT_ID, false)).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(WITH_ID)
                    .table(Customers::Table)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
