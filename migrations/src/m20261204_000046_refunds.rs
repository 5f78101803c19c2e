use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What each line paid (coupons and balance) and had refunded, the period
/// it bought, and for an unsubscribe order's lines the line and resource
/// they refund.
#[derive(DeriveIden)]
enum OrderLines {
    Table,
    CouponAmount,
    PaidAmount,
    RefundedAmount,
    StartsAt,
    EndsAt,
    RefundsOrderId,
    RefundsLineNo,
    RefundsResourceId,
    RefundRule,
    RenewsResourceId,
}

/// What was refunded into each account that paid an order.
#[derive(DeriveIden)]
enum OrderPayments {
    Table,
    Refunded,
}

/// An unsubscribe order's reason type.
#[derive(DeriveIden)]
enum Orders {
    Table,
    ReasonType,
}

/// When a resource was closed.
#[derive(DeriveIden)]
enum Resources {
    Table,
    ClosedAt,
}

/// A segment of a resource is refunded at most once.
const REFUNDED_ONCE: &str = "ux_order_lines_refunds";
const RENEWS: &str = "ix_order_lines_renews_resource";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let line_columns = [
            big_integer(OrderLines::CouponAmount).default(0).to_owned(),
            big_integer(OrderLines::PaidAmount).default(0).to_owned(),
            big_integer(OrderLines::RefundedAmount)
                .default(0)
                .to_owned(),
            timestamp_with_time_zone_null(OrderLines::StartsAt),
            timestamp_with_time_zone_null(OrderLines::EndsAt),
            string_len_null(OrderLines::RefundsOrderId, 40),
            integer_null(OrderLines::RefundsLineNo),
            string_len_null(OrderLines::RefundsResourceId, 40),
            string_len_null(OrderLines::RefundRule, 24),
        ];
        for mut column in line_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrderLines::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(OrderPayments::Table)
                    .add_column(big_integer(OrderPayments::Refunded).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(string_len_null(Orders::ReasonType, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .add_column(timestamp_with_time_zone_null(Resources::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REFUNDED_ONCE)
                    .table(OrderLines::Table)
                    .col(OrderLines::RefundsResourceId)
                    .col(OrderLines::RefundsOrderId)
                    .col(OrderLines::RefundsLineNo)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(RENEWS)
                    .table(OrderLines::Table)
                    .col(OrderLines::RenewsResourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [RENEWS, REFUNDED_ONCE] {
            manager
                .drop_index(Index::drop().name(name).table(OrderLines::Table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Resources::Table)
                    .drop_column(Resources::ClosedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::ReasonType)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderPayments::Table)
                    .drop_column(OrderPayments::Refunded)
                    .to_owned(),
            )
            .await?;
        for column in [
            OrderLines::RefundRule,
            OrderLines::RefundsResourceId,
            OrderLines::RefundsLineNo,
            OrderLines::RefundsOrderId,
            OrderLines::EndsAt,
            OrderLines::StartsAt,
            OrderLines::RefundedAmount,
            OrderLines::PaidAmount,
            OrderLines::CouponAmount,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrderLines::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
