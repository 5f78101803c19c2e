use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A resource's auto-renew settings and how often it renewed so.
#[derive(DeriveIden)]
enum Resources {
    Table,
    AutoRenewUnit,
    AutoRenewCount,
    AutoRenewTimes,
    AutoRenewed,
}

/// The auto-renewal period an order pays (`res_…@period end`).
#[derive(DeriveIden)]
enum Orders {
    Table,
    AutoRenewKey,
}

/// One auto-renewal of one period of one resource: the job's lease on it,
/// its attempts, and when it was done.
#[derive(DeriveIden)]
enum RenewalRuns {
    Table,
    Key,
    ResourceId,
    PeriodEnd,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    OrderId,
    LastError,
    DoneAt,
}

/// At most one order not cancelled per auto-renewed period: the database,
/// not only the job, keeps a period from being charged twice.
const ONE_LIVE_ORDER: &str = "CREATE UNIQUE INDEX ux_orders_auto_renew_key \
     ON orders (auto_renew_key) WHERE state <> 'CANCELLED'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len_null(Resources::AutoRenewUnit, 32),
            integer(Resources::AutoRenewCount).default(0).to_owned(),
            integer(Resources::AutoRenewTimes).default(0).to_owned(),
            integer(Resources::AutoRenewed).default(0).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Resources::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_len_null(Orders::AutoRenewKey, 80))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(ONE_LIVE_ORDER)
            .await?;
        use RenewalRuns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(string_len(R::Key, 80).primary_key())
                    .col(string_len(R::ResourceId, 40))
                    .col(timestamp_with_time_zone(R::PeriodEnd))
                    .col(integer(R::Attempts))
                    .col(timestamp_with_time_zone(R::NextAttemptAt))
                    .col(string_len_null(R::LeaseOwner, 40))
                    .col(timestamp_with_time_zone_null(R::LeaseUntil))
                    .col(string_len_null(R::OrderId, 40))
                    .col(string_len(R::LastError, 2048))
                    .col(timestamp_with_time_zone_null(R::DoneAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_renewal_runs_resource")
                    .table(R::Table)
                    .col(R::ResourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RenewalRuns::Table).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX ux_orders_auto_renew_key")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::AutoRenewKey)
                    .to_owned(),
            )
            .await?;
        for column in [
            Resources::AutoRenewed,
            Resources::AutoRenewTimes,
            Resources::AutoRenewCount,
            Resources::AutoRenewUnit,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Resources::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
