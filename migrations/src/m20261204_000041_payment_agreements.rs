use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Payment-on-behalf agreements: a payer partner pays a payee's orders.
#[derive(DeriveIden)]
enum PaymentAgreements {
    Table,
    Id,
    AgreementType,
    State,
    PayerPartnerId,
    PayeeId,
    CreatedAt,
    AcceptedAt,
    TerminatedAt,
    TerminatedBy,
    TerminateReason,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PaymentAgreements as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(string_len(P::Id, 40).primary_key())
                    .col(string_len(P::AgreementType, 16))
                    .col(string_len(P::State, 16))
                    .col(string_len(P::PayerPartnerId, 40))
                    .col(string_len(P::PayeeId, 40))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone_null(P::AcceptedAt))
                    .col(timestamp_with_time_zone_null(P::TerminatedAt))
                    .col(string_len_null(P::TerminatedBy, 40))
                    .col(string_len_null(P::TerminateReason, 2048))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_payment_agreements_payer")
                    .table(P::Table)
                    .col(P::PayerPartnerId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_payment_agreements_payee")
                    .table(P::Table)
                    .col(P::PayeeId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaymentAgreements::Table).to_owned())
            .await
    }
}
