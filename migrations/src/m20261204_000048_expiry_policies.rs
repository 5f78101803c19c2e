use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What happens to a resource when its paid period ends, how it is
/// charged, and until when it stays in its current stage (grace, frozen).
#[derive(DeriveIden)]
enum Resources {
    Table,
    ExpiryPolicy,
    ChargingMode,
    StageUntil,
    Status,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len(Resources::ExpiryPolicy, 24)
                .default("GRACE")
                .to_owned(),
            string_len(Resources::ChargingMode, 24)
                .default("PERIOD")
                .to_owned(),
            timestamp_with_time_zone_null(Resources::StageUntil),
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
        // The expiry job walks resources by status and expiry.
        manager
            .create_index(
                Index::create()
                    .name("ix_resources_status_expiry")
                    .table(Resources::Table)
                    .col(Resources::Status)
                    .col(Resources::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_resources_status_expiry")
                    .table(Resources::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Resources::StageUntil,
            Resources::ChargingMode,
            Resources::ExpiryPolicy,
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
