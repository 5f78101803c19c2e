use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// More sales-platform accounts mapped to an existing customer: a partner's
/// IdP under the BIND_EXISTING policy binds an xaccount of one of its
/// sales platforms to a customer the partner already has. An xaccount maps
/// to one customer (the key); a customer has at most one xaccount per sales
/// platform, counting its own mapping (checked by the writer).
#[derive(DeriveIden)]
enum CustomerXaccountLinks {
    Table,
    XaccountType,
    XaccountId,
    CustomerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CustomerXaccountLinks as Links;
        manager
            .create_table(
                Table::create()
                    .table(Links::Table)
                    .col(string_len(Links::XaccountType, 32))
                    .col(string_len(Links::XaccountId, 64))
                    .col(string_len(Links::CustomerId, 40))
                    .col(timestamp_with_time_zone(Links::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Links::XaccountType)
                            .col(Links::XaccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_xaccount_links_customer")
                            .from(Links::Table, Links::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_customer_xaccount_links_customer_platform")
                    .table(Links::Table)
                    .col(Links::CustomerId)
                    .col(Links::XaccountType)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerXaccountLinks::Table).to_owned())
            .await
    }
}
