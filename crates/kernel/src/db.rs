//! The database handle: one pool on SQLite (WAL, `synchronous=FULL`) or
//! PostgreSQL, and the write transactions every effect runs in.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::QueryTrait as _;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QuerySelect, Select, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait, TryIntoModel,
};

use crate::direct_read::DirectReads;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Connections in the pool for file-backed SQLite: readers run in parallel
/// under WAL; writers are serialised by [`Db::begin_write`].
const SQLITE_POOL: u32 = 8;
/// Connections in the pool for PostgreSQL.
const POSTGRES_POOL: u32 = 16;

/// How long a pooled PostgreSQL connection may sit idle before it is pinged
/// on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// A shared database handle.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite allows one writer at a time and answers a second with
    /// `SQLITE_BUSY` when a read transaction tries to upgrade; taking this lock
    /// before `BEGIN` makes writers queue instead of fail.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// What this process knows about the event outbox.
    outbox: Arc<crate::outbox::OutboxSignals>,
    /// Read-only connections for short reads on the calling task (a
    /// SQLite file only).
    direct: Option<Arc<DirectReads>>,
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or
    /// `postgres://…`) with the default pool size.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        Self::connect_with(url, None).await
    }

    /// Connects to `url` with at most `max_connections` pooled connections
    /// (`None`: [`SQLITE_POOL`] or [`POSTGRES_POOL`]).
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> Result<Self, DbErr> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            // A connection to a file cannot be dropped by a server, a proxy or a
            // firewall: the pool's default ping before every checkout would be
            // a round trip to the driver's worker thread for nothing.
            opts.test_before_acquire(false);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            // Each connection to an in-memory database would see its own empty one.
            opts.max_connections(if in_memory {
                1
            } else {
                max_connections.unwrap_or(SQLITE_POOL)
            })
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // PostgreSQL's LIKE is case-sensitive; make SQLite's agree.
                    .pragma("case_sensitive_like", "ON")
            });
        } else {
            opts.max_connections(max_connections.unwrap_or(POSTGRES_POOL))
                .min_connections(1)
                // The pool's default pings before *every* checkout: a second
                // round trip to the database for each statement read on the
                // pool. Only a connection idle long enough to have been dropped
                // by the server or something between is pinged.
                .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
        }
        let conn = Database::connect(opts).await?;
        let direct = match sqlite {
            true => sqlite_file(&conn)
                .await?
                .map(DirectReads::open)
                .transpose()?
                .map(Arc::new),
            false => None,
        };
        Ok(Self {
            conn,
            sqlite_writer: sqlite.then(|| Arc::new(Mutex::new(()))),
            outbox: Arc::default(),
            direct,
        })
    }

    /// The rows of `select`, which reads whole rows of `E` and a bounded
    /// number of them (one by key, one page). On a SQLite file they are read
    /// on the calling task (module `direct_read`), unless SQLite's work on
    /// them passes a millisecond: then, and elsewhere, on the pool.
    pub async fn read_all<E>(&self, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let Some(direct) = &self.direct else {
            return select.all(&self.conn).await;
        };
        let stmt = select.build(DbBackend::Sqlite);
        match direct.all::<E>(&stmt)? {
            Some(rows) => Ok(rows),
            None => {
                tracing::debug!(sql = %stmt.sql, "a direct read passed its budget: read on the pool");
                E::find().from_raw_sql(stmt).all(&self.conn).await
            }
        }
    }

    /// The first row of `select` (see [`Db::read_all`]).
    pub async fn read_one<E>(&self, select: Select<E>) -> Result<Option<E::Model>, DbErr>
    where
        E: EntityTrait,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        Ok(self.read_all(select.limit(1)).await?.into_iter().next())
    }

    /// Direct reads that were abandoned to the pool for their cost so far.
    pub fn direct_reads_abandoned(&self) -> u64 {
        self.direct.as_ref().map_or(0, |d| d.abandoned())
    }

    /// Whether [`Db::read_all`] and [`Db::read_one`] read on the calling task.
    pub fn reads_directly(&self) -> bool {
        self.direct.is_some()
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The outbox's signals: events written, positions given.
    pub fn outbox(&self) -> &crate::outbox::OutboxSignals {
        &self.outbox
    }

    /// Starts a transaction that will write.
    pub async fn begin_write(&self) -> Result<WriteTx, DbErr> {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        // IMMEDIATE takes SQLite's write lock at BEGIN, under the busy timeout. A
        // deferred transaction that reads first and writes later cannot wait for
        // the lock: it fails with SQLITE_BUSY when a previous writer's rollback
        // is still finishing on another connection.
        let options = TransactionOptions {
            sqlite_transaction_mode: guard.as_ref().map(|_| SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let tx = self.conn.begin_with_options(options).await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Runs `work`, the body of a write transaction this task began. On
    /// SQLite, where that transaction holds the one write lock there is,
    /// the task keeps its thread until the work is done
    /// (`block_in_place`): between its statements it does not wait its
    /// turn behind the other calls' reading and parsing, which every other
    /// writer would be waiting on. Elsewhere (PostgreSQL's writers run side
    /// by side, a current-thread runtime cannot give a thread away) it is
    /// awaited as usual.
    pub async fn writing<F: std::future::Future>(&self, work: F) -> F::Output {
        let handle = tokio::runtime::Handle::current();
        if self.sqlite_writer.is_some()
            && handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        {
            tokio::task::block_in_place(|| handle.block_on(work))
        } else {
            work.await
        }
    }

    /// Closes the pool (after the direct reads' connections, so that its
    /// last connection can fold the write-ahead log into the file).
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(direct) = &self.direct {
            direct.close();
        }
        self.conn.close().await
    }
}

/// The file of a SQLite database, `None` for one in memory.
async fn sqlite_file(conn: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA database_list",
        ))
        .await?;
    for row in rows {
        if row.try_get::<String>("", "name")? == "main" {
            let file: String = row.try_get("", "file")?;
            return Ok((!file.is_empty()).then_some(file));
        }
    }
    Ok(None)
}

/// A write transaction. Dropping it without [`commit`](Self::commit) rolls back.
pub struct WriteTx {
    // Field order matters: the transaction is rolled back before the writer
    // lock is released.
    tx: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits every write of the transaction at once.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// Makes transactions that name the same `key` wait for each other until
/// they end, for rules no one index can keep (a count limit, a mapping in two
/// tables). PostgreSQL takes a transaction-scoped advisory lock; SQLite's
/// writer lock already serialises every write transaction.
pub async fn lock_key(conn: &impl sea_orm::ConnectionTrait, key: &str) -> Result<(), DbErr> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
