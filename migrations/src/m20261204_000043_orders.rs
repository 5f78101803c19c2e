use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Orders and their lines. Amounts are minor units; a line's unit price
/// is kept exact (units and nanos), as rating gave it.
#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    PartnerId,
    CustomerId,
    OrderType,
    State,
    Currency,
    ListTotal,
    DiscountTotal,
    FinalTotal,
    QuoteId,
    DiscountId,
    CatalogVersion,
    CreatedBy,
    CreatedAt,
    PaymentDeadline,
    ClosedAt,
    CancelReason,
    CouponTotal,
    PaidTotal,
    AgreementId,
    PaidAt,
    CompletedAt,
    UpdatedAt,
}

/// What paid an order: one hold each on the customer's cash, its credit,
/// or a coupon, captured when the order completes.
#[derive(DeriveIden)]
enum OrderPayments {
    Table,
    OrderId,
    Seq,
    Source,
    HoldId,
    AccountOwner,
    AccountKind,
    Amount,
    Currency,
}

/// The resources orders opened.
#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    OrderId,
    LineNo,
    CustomerId,
    PartnerId,
    ServiceType,
    ResourceType,
    Spec,
    Region,
    Zone,
    Size,
    PeriodUnit,
    Status,
    AnchorDay,
    EffectiveAt,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    LineNo,
    LineId,
    ServiceType,
    ResourceType,
    Spec,
    Region,
    Zone,
    Size,
    PeriodUnit,
    PeriodCount,
    Quantity,
    UnitPriceUnits,
    UnitPriceNanos,
    ListAmount,
    DiscountAmount,
    FinalAmount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Orders as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(string_len(O::Id, 40).primary_key())
                    .col(string_len_null(O::PartnerId, 40))
                    .col(string_len(O::CustomerId, 40))
                    .col(string_len(O::OrderType, 24))
                    .col(string_len(O::State, 24))
                    .col(string_len(O::Currency, 3))
                    .col(big_integer(O::ListTotal))
                    .col(big_integer(O::DiscountTotal))
                    .col(big_integer(O::FinalTotal))
                    .col(string_len_null(O::QuoteId, 40))
                    .col(string_len_null(O::DiscountId, 40))
                    .col(big_integer(O::CatalogVersion))
                    .col(string_len(O::CreatedBy, 40))
                    .col(timestamp_with_time_zone(O::CreatedAt))
                    .col(timestamp_with_time_zone(O::PaymentDeadline))
                    .col(timestamp_with_time_zone_null(O::ClosedAt))
                    .col(string_len(O::CancelReason, 2048))
                    .col(big_integer(O::CouponTotal))
                    .col(big_integer(O::PaidTotal))
                    .col(string_len_null(O::AgreementId, 40))
                    .col(timestamp_with_time_zone_null(O::PaidAt))
                    .col(timestamp_with_time_zone_null(O::CompletedAt))
                    .col(timestamp_with_time_zone(O::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_orders_partner", ["partner_id", "id"]),
            ("ix_orders_customer", ["customer_id", "id"]),
            // The expiry job's scan and the budget's open orders.
            ("ix_orders_state_deadline", ["state", "payment_deadline"]),
        ] {
            let mut index = Index::create();
            index.name(name).table(O::Table);
            for col in cols {
                index.col(Alias::new(col));
            }
            manager.create_index(index.to_owned()).await?;
        }
        use OrderLines as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(string_len(L::OrderId, 40))
                    .col(integer(L::LineNo))
                    .col(string_len(L::LineId, 64))
                    .col(string_len(L::ServiceType, 64))
                    .col(string_len(L::ResourceType, 64))
                    .col(string_len(L::Spec, 64))
                    .col(string_len(L::Region, 64))
                    .col(string_len(L::Zone, 64))
                    .col(big_integer(L::Size))
                    .col(string_len(L::PeriodUnit, 24))
                    .col(integer(L::PeriodCount))
                    .col(integer(L::Quantity))
                    .col(big_integer(L::UnitPriceUnits))
                    .col(integer(L::UnitPriceNanos))
                    .col(big_integer(L::ListAmount))
                    .col(big_integer(L::DiscountAmount))
                    .col(big_integer(L::FinalAmount))
                    .primary_key(Index::create().col(L::OrderId).col(L::LineNo))
                    .to_owned(),
            )
            .await?;
        use OrderPayments as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(string_len(P::OrderId, 40))
                    .col(integer(P::Seq))
                    .col(string_len(P::Source, 16))
                    .col(string_len(P::HoldId, 40))
                    .col(string_len(P::AccountOwner, 40))
                    .col(string_len(P::AccountKind, 32))
                    .col(big_integer(P::Amount))
                    .col(string_len(P::Currency, 3))
                    .primary_key(Index::create().col(P::OrderId).col(P::Seq))
                    .to_owned(),
            )
            .await?;
        use Resources as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(string_len(R::Id, 40).primary_key())
                    .col(string_len(R::OrderId, 40))
                    .col(integer(R::LineNo))
                    .col(string_len(R::CustomerId, 40))
                    .col(string_len_null(R::PartnerId, 40))
                    .col(string_len(R::ServiceType, 64))
                    .col(string_len(R::ResourceType, 64))
                    .col(string_len(R::Spec, 64))
                    .col(string_len(R::Region, 64))
                    .col(string_len(R::Zone, 64))
                    .col(big_integer(R::Size))
                    .col(string_len(R::PeriodUnit, 24))
                    .col(string_len(R::Status, 16))
                    .col(integer(R::AnchorDay))
                    .col(timestamp_with_time_zone(R::EffectiveAt))
                    .col(timestamp_with_time_zone(R::ExpiresAt))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_resources_customer", ["customer_id", "id"]),
            ("ix_resources_order", ["order_id", "line_no"]),
        ] {
            let mut index = Index::create();
            index.name(name).table(R::Table);
            for col in cols {
                index.col(Alias::new(col));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Resources::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrderPayments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrderLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}
