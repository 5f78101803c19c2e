use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Webhooks: partners' endpoints (with the position of the last event
/// queued for each, and the lease a delivery worker holds on it) and the
/// deliveries queued for them, in order per endpoint.
#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    PartnerId,
    IdentityProviderId,
    Url,
    Description,
    EventTypes,
    Readable,
    Secret,
    Disabled,
    Cursor,
    NextPosition,
    LeaseOwner,
    LeasedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    PartnerId,
    Position,
    EventId,
    EventType,
    Body,
    Manual,
    Status,
    Attempts,
    FirstAttemptAt,
    NextAttemptAt,
    LastResponseCode,
    LastError,
    LastResponseExcerpt,
    DeliveredAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookDeliveries as D;
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(string_len(E::Id, 40).primary_key())
                    .col(string_len(E::PartnerId, 40))
                    .col(string_len_null(E::IdentityProviderId, 40))
                    .col(string_len(E::Url, 512))
                    .col(string_len(E::Description, 800))
                    .col(text(E::EventTypes))
                    .col(text(E::Readable))
                    .col(binary(E::Secret))
                    .col(boolean(E::Disabled))
                    .col(big_integer(E::Cursor))
                    .col(big_integer(E::NextPosition))
                    .col(string_len_null(E::LeaseOwner, 64))
                    .col(timestamp_with_time_zone_null(E::LeasedUntil))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_partner")
                    .table(E::Table)
                    .col(E::PartnerId)
                    .col(E::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_endpoints_idp")
                    .table(E::Table)
                    .col(E::IdentityProviderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(string_len(D::Id, 40).primary_key())
                    .col(string_len(D::EndpointId, 40))
                    .col(string_len(D::PartnerId, 40))
                    .col(big_integer(D::Position))
                    .col(string_len(D::EventId, 40))
                    .col(string_len(D::EventType, 64))
                    .col(text(D::Body))
                    .col(boolean(D::Manual))
                    .col(string_len(D::Status, 16))
                    .col(integer(D::Attempts))
                    .col(timestamp_with_time_zone_null(D::FirstAttemptAt))
                    .col(timestamp_with_time_zone(D::NextAttemptAt))
                    .col(integer(D::LastResponseCode))
                    .col(string_len(D::LastError, 400))
                    .col(string_len(D::LastResponseExcerpt, 400))
                    .col(timestamp_with_time_zone_null(D::DeliveredAt))
                    .col(timestamp_with_time_zone(D::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_webhook_deliveries_position")
                    .table(D::Table)
                    .col(D::EndpointId)
                    .col(D::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The head of an endpoint's queue (its first pending delivery), and
        // the sweep of old finished deliveries.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_queue")
                    .table(D::Table)
                    .col(D::EndpointId)
                    .col(D::Status)
                    .col(D::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_age")
                    .table(D::Table)
                    .col(D::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
