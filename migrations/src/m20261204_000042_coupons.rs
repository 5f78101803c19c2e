use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Coupon quotas and coupons. Their balances are ledger accounts (owned by
/// the quota or the coupon); these tables hold what the ledger does not:
/// type, state, validity, limits, and the records partners read.
#[derive(DeriveIden)]
enum CouponQuotas {
    Table,
    Id,
    PartnerId,
    ParentQuotaId,
    CouponType,
    State,
    Currency,
    ValidFrom,
    ValidUntil,
    MaxFaceValue,
    MaxPerCustomer,
    ServiceTypes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CouponQuotaRecords {
    Table,
    Id,
    QuotaId,
    PartnerId,
    RecordType,
    Amount,
    Currency,
    CounterpartQuotaId,
    TransactionId,
    Actor,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Coupons {
    Table,
    Id,
    QuotaId,
    PartnerId,
    CustomerId,
    CouponType,
    State,
    Currency,
    FaceValue,
    ValidFrom,
    ValidUntil,
    ServiceTypes,
    ProductIds,
    Memo,
    CreatedAt,
    ClosedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CouponRecords {
    Table,
    Id,
    CouponId,
    QuotaId,
    PartnerId,
    CustomerId,
    RecordType,
    Amount,
    Currency,
    TransactionId,
    Actor,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Actor,
    Method,
    RequestId,
    Operation,
    Currency,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for col in cols {
        index.col(Alias::new(*col));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CouponQuotas as Q;
        manager
            .create_table(
                Table::create()
                    .table(Q::Table)
                    .col(string_len(Q::Id, 40).primary_key())
                    .col(string_len(Q::PartnerId, 40))
                    .col(string_len_null(Q::ParentQuotaId, 40))
                    .col(string_len(Q::CouponType, 16))
                    .col(string_len(Q::State, 16))
                    .col(string_len(Q::Currency, 3))
                    .col(timestamp_with_time_zone(Q::ValidFrom))
                    .col(timestamp_with_time_zone(Q::ValidUntil))
                    .col(big_integer(Q::MaxFaceValue))
                    .col(integer(Q::MaxPerCustomer))
                    .col(text(Q::ServiceTypes))
                    .col(timestamp_with_time_zone(Q::CreatedAt))
                    .col(timestamp_with_time_zone(Q::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_coupon_quotas_partner",
            "coupon_quotas",
            &["partner_id", "id"],
            false,
        )
        .await?;
        // One quota per reseller under each of its distributor's quotas:
        // giving more tops it up.
        index(
            manager,
            "ux_coupon_quotas_parent_partner",
            "coupon_quotas",
            &["parent_quota_id", "partner_id"],
            true,
        )
        .await?;

        use CouponQuotaRecords as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(string_len(R::Id, 40).primary_key())
                    .col(string_len(R::QuotaId, 40))
                    .col(string_len(R::PartnerId, 40))
                    .col(string_len(R::RecordType, 40))
                    .col(big_integer(R::Amount))
                    .col(string_len(R::Currency, 3))
                    .col(string_len_null(R::CounterpartQuotaId, 40))
                    .col(string_len(R::TransactionId, 40))
                    .col(string_len(R::Actor, 64))
                    .col(string_len(R::Reason, 2048))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_coupon_quota_records_partner",
            "coupon_quota_records",
            &["partner_id", "id"],
            false,
        )
        .await?;

        use Coupons as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(string_len(C::Id, 40).primary_key())
                    .col(string_len(C::QuotaId, 40))
                    .col(string_len(C::PartnerId, 40))
                    .col(string_len(C::CustomerId, 40))
                    .col(string_len(C::CouponType, 16))
                    .col(string_len(C::State, 16))
                    .col(string_len(C::Currency, 3))
                    .col(big_integer(C::FaceValue))
                    .col(timestamp_with_time_zone(C::ValidFrom))
                    .col(timestamp_with_time_zone(C::ValidUntil))
                    .col(text(C::ServiceTypes))
                    .col(text(C::ProductIds))
                    .col(string_len(C::Memo, 2048))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone_null(C::ClosedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_coupons_partner",
            "coupons",
            &["partner_id", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_coupons_customer",
            "coupons",
            &["customer_id", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_coupons_quota_customer",
            "coupons",
            &["quota_id", "customer_id"],
            false,
        )
        .await?;
        // The expiry job's scan: open coupons by the end of their validity.
        index(
            manager,
            "ix_coupons_state_valid_until",
            "coupons",
            &["state", "valid_until"],
            false,
        )
        .await?;

        use CouponRecords as CR;
        manager
            .create_table(
                Table::create()
                    .table(CR::Table)
                    .col(string_len(CR::Id, 40).primary_key())
                    .col(string_len(CR::CouponId, 40))
                    .col(string_len(CR::QuotaId, 40))
                    .col(string_len(CR::PartnerId, 40))
                    .col(string_len(CR::CustomerId, 40))
                    .col(string_len(CR::RecordType, 40))
                    .col(big_integer(CR::Amount))
                    .col(string_len(CR::Currency, 3))
                    .col(string_len(CR::TransactionId, 40))
                    .col(string_len(CR::Actor, 64))
                    .col(string_len(CR::Reason, 2048))
                    .col(timestamp_with_time_zone(CR::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_coupon_records_partner",
            "coupon_records",
            &["partner_id", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_coupon_records_coupon",
            "coupon_records",
            &["coupon_id", "id"],
            false,
        )
        .await?;

        // One journal transaction per business operation of a request and
        // currency: a customer leaving returns its cash and its coupons in
        // one call, as two operations. The wider key is made under a new
        // name before the old one goes, so no statement reuses a name
        // another pooled SQLite connection may still see.
        use LedgerTransactions as T;
        manager
            .create_index(
                Index::create()
                    .name("ux_ledger_transactions_operation")
                    .table(T::Table)
                    .col(T::Actor)
                    .col(T::Method)
                    .col(T::RequestId)
                    .col(T::Operation)
                    .col(T::Currency)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_ledger_transactions_request")
                    .table(T::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LedgerTransactions as T;
        manager
            .create_index(
                Index::create()
                    .name("ux_ledger_transactions_request")
                    .table(T::Table)
                    .col(T::Actor)
                    .col(T::Method)
                    .col(T::RequestId)
                    .col(T::Currency)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_ledger_transactions_operation")
                    .table(T::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            "coupon_records",
            "coupons",
            "coupon_quota_records",
            "coupon_quotas",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
