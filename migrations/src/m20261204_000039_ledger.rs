use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One owner's money of one kind in one currency. `balance` is the sum of
/// the account's entries and `version` their count (the reconciliation
/// checks both); `pending` is what holds reserve.
#[derive(DeriveIden)]
enum LedgerAccounts {
    Table,
    Id,
    OwnerId,
    Kind,
    Currency,
    Balance,
    Pending,
    CreditLimit,
    Version,
    CreatedAt,
    UpdatedAt,
}

/// One business operation: its entries net to zero per currency.
#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    Operation,
    PartnerId,
    CustomerId,
    Actor,
    Method,
    RequestId,
    Reason,
    Amount,
    Currency,
    Reverses,
    EffectiveAt,
    CreatedAt,
}

/// One account's movement in one transaction.
#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    TransactionId,
    AccountId,
    Amount,
    BalanceAfter,
    VersionAfter,
    EffectiveAt,
}

/// The database refuses to change or remove a transaction or an entry:
/// corrections are reversing transactions.
const SQLITE_APPEND_ONLY: &[&str] = &[
    "CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions \
     BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END",
    "CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions \
     BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END",
    "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END",
    "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END",
];

const POSTGRES_APPEND_ONLY: &[&str] = &[
    "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'ledger rows are append-only (%)', TG_TABLE_NAME; END $$",
    "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions \
     FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
    "CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions \
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
    "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries \
     FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
    "CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries \
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LedgerAccounts as A;
        use LedgerEntries as E;
        use LedgerTransactions as T;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(string_len(A::Id, 40).primary_key())
                    .col(string_len(A::OwnerId, 40))
                    .col(string_len(A::Kind, 32))
                    .col(string_len(A::Currency, 3))
                    .col(big_integer(A::Balance))
                    .col(big_integer(A::Pending))
                    .col(big_integer(A::CreditLimit))
                    .col(big_integer(A::Version))
                    .col(timestamp_with_time_zone(A::CreatedAt))
                    .col(timestamp_with_time_zone(A::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_ledger_accounts_owner")
                    .table(A::Table)
                    .col(A::OwnerId)
                    .col(A::Kind)
                    .col(A::Currency)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(string_len(T::Id, 40).primary_key())
                    .col(string_len(T::Operation, 40))
                    .col(string_len_null(T::PartnerId, 40))
                    .col(string_len_null(T::CustomerId, 40))
                    .col(string_len(T::Actor, 80))
                    .col(string_len(T::Method, 160))
                    .col(string_len(T::RequestId, 40))
                    .col(string_len(T::Reason, 2048))
                    .col(big_integer(T::Amount))
                    .col(string_len(T::Currency, 3))
                    .col(string_len_null(T::Reverses, 40))
                    .col(timestamp_with_time_zone(T::EffectiveAt))
                    .col(timestamp_with_time_zone(T::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One business operation per caller, method and request id (and
        // currency: an operation moving two currencies is a transaction in
        // each), kept by the database as well as by the idempotency record.
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
            .create_index(
                Index::create()
                    .name("ix_ledger_transactions_partner")
                    .table(T::Table)
                    .col(T::PartnerId)
                    .col(T::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(string_len(E::Id, 40).primary_key())
                    .col(string_len(E::TransactionId, 40))
                    .col(string_len(E::AccountId, 40))
                    .col(big_integer(E::Amount))
                    .col(big_integer(E::BalanceAfter))
                    .col(big_integer(E::VersionAfter))
                    .col(timestamp_with_time_zone(E::EffectiveAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_entries_transaction")
                            .from(E::Table, E::TransactionId)
                            .to(T::Table, T::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_entries_account")
                            .from(E::Table, E::AccountId)
                            .to(A::Table, A::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // An account's history in order; a version is written once.
        manager
            .create_index(
                Index::create()
                    .name("ux_ledger_entries_account_version")
                    .table(E::Table)
                    .col(E::AccountId)
                    .col(E::VersionAfter)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ledger_entries_transaction")
                    .table(E::Table)
                    .col(E::TransactionId)
                    .to_owned(),
            )
            .await?;
        let statements = if manager.get_database_backend() == DatabaseBackend::Postgres {
            POSTGRES_APPEND_ONLY
        } else {
            SQLITE_APPEND_ONLY
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ledger_entries", "ledger_transactions", "ledger_accounts"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION ledger_append_only()")
                .await?;
        }
        Ok(())
    }
}
