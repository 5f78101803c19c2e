use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Amounts reserved on an account (its `pending`) until they are captured,
/// released or expire, each exactly once.
#[derive(DeriveIden)]
enum LedgerHolds {
    Table,
    Id,
    AccountId,
    Amount,
    State,
    Captured,
    CaptureTransactionId,
    ExpiresAt,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum LedgerAccounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LedgerHolds as H;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .col(string_len(H::Id, 40).primary_key())
                    .col(string_len(H::AccountId, 40))
                    .col(big_integer(H::Amount))
                    .col(string_len(H::State, 16))
                    .col(big_integer(H::Captured))
                    .col(string_len_null(H::CaptureTransactionId, 40))
                    .col(timestamp_with_time_zone(H::ExpiresAt))
                    .col(timestamp_with_time_zone(H::CreatedAt))
                    .col(timestamp_with_time_zone_null(H::ResolvedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_holds_account")
                            .from(H::Table, H::AccountId)
                            .to(LedgerAccounts::Table, LedgerAccounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The expiry job's scan: open holds by expiry.
        manager
            .create_index(
                Index::create()
                    .name("ix_ledger_holds_state_expiry")
                    .table(H::Table)
                    .col(H::State)
                    .col(H::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ledger_holds_account")
                    .table(H::Table)
                    .col(H::AccountId)
                    .col(H::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LedgerHolds::Table).to_owned())
            .await
    }
}
