use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Failed sign-in counters per subject (`login:<username>`,
/// `access_key:<id>`), in the database so every replica sees the same count.
/// A row exists only while a subject has recent failures; success deletes it.
#[derive(DeriveIden)]
enum AuthThrottles {
    Table,
    Subject,
    Failures,
    WindowStart,
    LockedUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthThrottles::Table)
                    .col(string_len(AuthThrottles::Subject, 128).primary_key())
                    .col(integer(AuthThrottles::Failures))
                    .col(timestamp_with_time_zone(AuthThrottles::WindowStart))
                    .col(timestamp_with_time_zone_null(AuthThrottles::LockedUntil))
                    .col(timestamp_with_time_zone(AuthThrottles::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthThrottles::Table).to_owned())
            .await
    }
}
