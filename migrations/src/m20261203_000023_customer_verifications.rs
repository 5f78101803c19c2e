use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Real-name verification submissions and their reviews; the customer's
/// status and type on `customers` follow the reviews.
#[derive(DeriveIden)]
enum CustomerVerifications {
    Table,
    Id,
    PartnerId,
    CustomerId,
    Kind,
    State,
    Details,
    RejectReason,
    ChangeToEnterprise,
    SubmittedBy,
    ReviewedBy,
    SubmittedAt,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerVerifications::Table)
                    .col(string_len(CustomerVerifications::Id, 40).primary_key())
                    .col(string_len(CustomerVerifications::PartnerId, 40))
                    .col(string_len(CustomerVerifications::CustomerId, 40))
                    .col(string_len(CustomerVerifications::Kind, 16))
                    .col(string_len(CustomerVerifications::State, 16))
                    .col(text(CustomerVerifications::Details))
                    .col(string_len_null(CustomerVerifications::RejectReason, 2048))
                    .col(boolean(CustomerVerifications::ChangeToEnterprise))
                    .col(string_len(CustomerVerifications::SubmittedBy, 40))
                    .col(string_len_null(CustomerVerifications::ReviewedBy, 40))
                    .col(timestamp_with_time_zone(CustomerVerifications::SubmittedAt))
                    .col(timestamp_with_time_zone_null(
                        CustomerVerifications::ReviewedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_verifications_customer")
                            .from(
                                CustomerVerifications::Table,
                                CustomerVerifications::CustomerId,
                            )
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_customer_verifications_customer")
                    .table(CustomerVerifications::Table)
                    .col(CustomerVerifications::CustomerId)
                    .col(CustomerVerifications::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerVerifications::Table).to_owned())
            .await
    }
}
