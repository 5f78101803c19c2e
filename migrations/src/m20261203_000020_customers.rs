use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Customers' cloud accounts, each mapped to one sales-platform account and
/// associated with at most one partner (`partner_id`; NULL once the
/// association ended). Login names, emails and mobiles are unique across the
/// platform; the mapping `(xaccount_type, xaccount_id)` is unique.
#[derive(DeriveIden, Clone)]
enum Customers {
    Table,
    Id,
    PartnerId,
    XaccountType,
    XaccountId,
    AccountName,
    Email,
    Mobile,
    Country,
    PasswordHash,
    AssociationType,
    AssociatedAt,
    RealNameStatus,
    CustomerType,
    FreezeMode,
    FreezeReason,
    Level,
    Labels,
    AccountManagers,
    ContactName,
    ContactEmail,
    ContactPhone,
    RegisteredOnOtherSite,
    Reported,
    InSubsidyProgram,
    CreatedAt,
    UpdatedAt,
}

/// One row per label of a customer, so that a label filter is an index seek.
#[derive(DeriveIden)]
enum CustomerLabels {
    Table,
    PartnerId,
    Label,
    CustomerId,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

#[derive(DeriveIden)]
enum SalesPlatformIds {
    Table,
    SalesPlatformId,
}

fn index(name: &str, cols: &[Customers]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Customers::Table);
    for c in cols {
        i.col(c.clone());
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Account names are compared bytewise on both backends, so that a
        // name prefix is a range of the name index (SQLite's default BINARY;
        // PostgreSQL's database collation would order `_` and `-` otherwise).
        let mut account_name = string_len(Customers::AccountName, 32);
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            account_name.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(string_len(Customers::Id, 40).primary_key())
                    .col(string_len_null(Customers::PartnerId, 40))
                    .col(string_len(Customers::XaccountType, 32))
                    .col(string_len(Customers::XaccountId, 64))
                    .col(account_name)
                    .col(string_len_null(Customers::Email, 254))
                    .col(string_len_null(Customers::Mobile, 16))
                    .col(string_len(Customers::Country, 2))
                    .col(string_len_null(Customers::PasswordHash, 256))
                    .col(string_len(Customers::AssociationType, 24))
                    .col(timestamp_with_time_zone_null(Customers::AssociatedAt))
                    .col(string_len(Customers::RealNameStatus, 16))
                    .col(string_len(Customers::CustomerType, 16))
                    .col(string_len(Customers::FreezeMode, 24))
                    .col(string_len_null(Customers::FreezeReason, 2048))
                    .col(string_len(Customers::Level, 4))
                    .col(text(Customers::Labels))
                    .col(text(Customers::AccountManagers))
                    .col(string_len(Customers::ContactName, 256))
                    .col(string_len(Customers::ContactEmail, 254))
                    .col(string_len(Customers::ContactPhone, 32))
                    .col(boolean(Customers::RegisteredOnOtherSite))
                    .col(boolean(Customers::Reported))
                    .col(boolean(Customers::InSubsidyProgram))
                    .col(timestamp_with_time_zone(Customers::CreatedAt))
                    .col(timestamp_with_time_zone(Customers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customers_partner")
                            .from(Customers::Table, Customers::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customers_sales_platform")
                            .from(Customers::Table, Customers::XaccountType)
                            .to(SalesPlatformIds::Table, SalesPlatformIds::SalesPlatformId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let unique = [
            (
                "ux_customers_xaccount",
                vec![Customers::XaccountType, Customers::XaccountId],
            ),
            ("ux_customers_account_name", vec![Customers::AccountName]),
            ("ux_customers_email", vec![Customers::Email]),
            ("ux_customers_mobile", vec![Customers::Mobile]),
        ];
        for (name, cols) in unique {
            manager
                .create_index(index(name, &cols).unique().to_owned())
                .await?;
        }
        // Listing pages in id order, by name prefix, by association time.
        let plain = [
            (
                "ix_customers_partner_id",
                vec![Customers::PartnerId, Customers::Id],
            ),
            (
                "ix_customers_partner_name",
                vec![Customers::PartnerId, Customers::AccountName],
            ),
            (
                "ix_customers_partner_associated",
                vec![Customers::PartnerId, Customers::AssociatedAt],
            ),
        ];
        for (name, cols) in plain {
            manager.create_index(index(name, &cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CustomerLabels::Table)
                    .col(string_len(CustomerLabels::PartnerId, 40))
                    .col(string_len(CustomerLabels::Label, 128))
                    .col(string_len(CustomerLabels::CustomerId, 40))
                    .primary_key(
                        Index::create()
                            .col(CustomerLabels::PartnerId)
                            .col(CustomerLabels::Label)
                            .col(CustomerLabels::CustomerId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_labels_customer")
                            .from(CustomerLabels::Table, CustomerLabels::CustomerId)
                            .to(Customers::Table, Customers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustomerLabels::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Customers::Table).to_owned())
            .await
    }
}
