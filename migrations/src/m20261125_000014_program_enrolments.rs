use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which programs a partner has joined. The key (partner, program) makes
/// joining a program twice impossible, even for two concurrent acceptances.
#[derive(DeriveIden)]
enum ProgramEnrolments {
    Table,
    PartnerId,
    Program,
    InvitationId,
    BusinessInfo,
    AgreementAcceptedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Partners {
    Table,
    PartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgramEnrolments::Table)
                    .col(string_len(ProgramEnrolments::PartnerId, 40))
                    .col(string_len(ProgramEnrolments::Program, 40))
                    .col(string_len(ProgramEnrolments::InvitationId, 40))
                    .col(json_binary(ProgramEnrolments::BusinessInfo))
                    .col(timestamp_with_time_zone(
                        ProgramEnrolments::AgreementAcceptedAt,
                    ))
                    .col(timestamp_with_time_zone(ProgramEnrolments::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ProgramEnrolments::PartnerId)
                            .col(ProgramEnrolments::Program),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_program_enrolments_partner")
                            .from(ProgramEnrolments::Table, ProgramEnrolments::PartnerId)
                            .to(Partners::Table, Partners::PartnerId)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProgramEnrolments::Table).to_owned())
            .await
    }
}
