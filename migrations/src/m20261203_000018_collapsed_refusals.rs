use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Refused sign-ins collapse into one audit record per subject and window:
/// the record counts its occurrences and says when the last one happened.
#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Occurrences,
    LastTime,
}

/// The audit record a subject's current run of refusals is counted in, and
/// the attempts charged but not settled yet (checks in flight).
#[derive(DeriveIden)]
enum AuthThrottles {
    Table,
    AuditId,
    InFlight,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .add_column(integer(AuditRecords::Occurrences).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .add_column(timestamp_with_time_zone_null(AuditRecords::LastTime))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthThrottles::Table)
                    .add_column(string_len_null(AuthThrottles::AuditId, 40))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthThrottles::Table)
                    .add_column(integer(AuthThrottles::InFlight).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuthThrottles::Table)
                    .drop_column(AuthThrottles::InFlight)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthThrottles::Table)
                    .drop_column(AuthThrottles::AuditId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .drop_column(AuditRecords::LastTime)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditRecords::Table)
                    .drop_column(AuditRecords::Occurrences)
                    .to_owned(),
            )
            .await
    }
}
