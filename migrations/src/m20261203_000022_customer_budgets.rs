use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A customer's budget (one row per customer, in integer minor units), and
/// every change of it or consumption against it.
#[derive(DeriveIden)]
enum CustomerBudgets {
    Table,
    CustomerId,
    PartnerId,
    Currency,
    AmountMinor,
    UsedMinor,
    BudgetType,
    AutoFreeze,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerBudgetRecords {
    Table,
    Id,
    PartnerId,
    CustomerId,
    Kind,
    Currency,
    AmountMinor,
    BudgetType,
    AutoFreeze,
    ActorUserId,
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
        manager
            .create_table(
                Table::create()
                    .table(CustomerBudgets::Table)
                    .col(string_len(CustomerBudgets::CustomerId, 40).primary_key())
                    .col(string_len(CustomerBudgets::PartnerId, 40))
                    .col(string_len(CustomerBudgets::Currency, 3))
                    .col(big_integer(CustomerBudgets::AmountMinor))
                    .col(big_integer(CustomerBudgets::UsedMinor))
                    .col(string_len(CustomerBudgets::BudgetType, 16))
                    .col(boolean(CustomerBudgets::AutoFreeze))
                    .col(timestamp_with_time_zone(CustomerBudgets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_budgets_customer")
                            .from(CustomerBudgets::Table, CustomerBudgets::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerBudgetRecords::Table)
                    .col(string_len(CustomerBudgetRecords::Id, 40).primary_key())
                    .col(string_len(CustomerBudgetRecords::PartnerId, 40))
                    .col(string_len(CustomerBudgetRecords::CustomerId, 40))
                    .col(string_len(CustomerBudgetRecords::Kind, 16))
                    .col(string_len(CustomerBudgetRecords::Currency, 3))
                    .col(big_integer(CustomerBudgetRecords::AmountMinor))
                    .col(string_len(CustomerBudgetRecords::BudgetType, 16))
                    .col(boolean(CustomerBudgetRecords::AutoFreeze))
                    .col(string_len_null(CustomerBudgetRecords::ActorUserId, 40))
                    .col(timestamp_with_time_zone(CustomerBudgetRecords::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_budget_records_customer")
                            .from(
                                CustomerBudgetRecords::Table,
                                CustomerBudgetRecords::CustomerId,
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
                    .name("ix_customer_budget_records_customer")
                    .table(CustomerBudgetRecords::Table)
                    .col(CustomerBudgetRecords::PartnerId)
                    .col(CustomerBudgetRecords::CustomerId)
                    .col(CustomerBudgetRecords::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerBudgetRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CustomerBudgets::Table).to_owned())
            .await
    }
}
