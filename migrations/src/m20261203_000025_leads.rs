use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Leads (a partner's, or the operator's pool until dispatched: `partner_id`
/// NULL), their follow-ups, and the brokered calls partners asked for.
#[derive(DeriveIden)]
enum Leads {
    Table,
    Id,
    PartnerId,
    Source,
    State,
    CompanyName,
    ContactName,
    Phone,
    Email,
    Description,
    CustomerId,
    CloseReason,
    DispatchedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LeadFollowUps {
    Table,
    Id,
    PartnerId,
    LeadId,
    AuthorUserId,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboundCalls {
    Table,
    Id,
    PartnerId,
    LeadId,
    RequestedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Leads::Table)
                    .col(string_len(Leads::Id, 40).primary_key())
                    .col(string_len_null(Leads::PartnerId, 40))
                    .col(string_len(Leads::Source, 16))
                    .col(string_len(Leads::State, 16))
                    .col(string_len(Leads::CompanyName, 512))
                    .col(string_len(Leads::ContactName, 256))
                    .col(string_len(Leads::Phone, 32))
                    .col(string_len(Leads::Email, 254))
                    .col(text(Leads::Description))
                    .col(string_len_null(Leads::CustomerId, 40))
                    .col(string_len_null(Leads::CloseReason, 2048))
                    .col(timestamp_with_time_zone_null(Leads::DispatchedAt))
                    .col(timestamp_with_time_zone(Leads::CreatedAt))
                    .col(timestamp_with_time_zone(Leads::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_leads_partner_id")
                    .table(Leads::Table)
                    .col(Leads::PartnerId)
                    .col(Leads::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LeadFollowUps::Table)
                    .col(string_len(LeadFollowUps::Id, 40).primary_key())
                    .col(string_len(LeadFollowUps::PartnerId, 40))
                    .col(string_len(LeadFollowUps::LeadId, 40))
                    .col(string_len(LeadFollowUps::AuthorUserId, 40))
                    .col(text(LeadFollowUps::Note))
                    .col(timestamp_with_time_zone(LeadFollowUps::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_lead_follow_ups_lead")
                    .table(LeadFollowUps::Table)
                    .col(LeadFollowUps::LeadId)
                    .col(LeadFollowUps::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboundCalls::Table)
                    .col(string_len(OutboundCalls::Id, 40).primary_key())
                    .col(string_len(OutboundCalls::PartnerId, 40))
                    .col(string_len(OutboundCalls::LeadId, 40))
                    .col(string_len(OutboundCalls::RequestedBy, 40))
                    .col(timestamp_with_time_zone(OutboundCalls::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OutboundCalls::Table.into_iden(),
            LeadFollowUps::Table.into_iden(),
            Leads::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
