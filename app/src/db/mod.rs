//! Storage: SQLite (embedded default) and PostgreSQL (production) behind one set of functions.
//!
//! Each query is written once with `$n` placeholders, which both backends accept, and compiled
//! for both by [`on_db!`] / [`on_tx!`]; there is no `AnyPool` and no runtime SQL rewriting.
//! Timestamps are epoch milliseconds and money is integer micro-dollars, so the column types
//! mean the same on both backends.

pub mod alert;
pub mod audit;
pub mod baseline;
pub mod bill;
pub mod catalog;
pub mod config_version;
pub mod evaluation;
pub mod gate;
pub mod grade;
pub mod health;
pub mod identity;
pub mod import;
pub mod outcome;
pub mod platform_cost;
pub mod price;
pub mod queue;
pub mod reprice;
pub mod retention;
pub mod rollup;
pub mod scenario;
pub mod setup;
pub mod task;
pub mod verdict;
pub mod workflow;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$conn` bound to the backend's pool; the body is compiled once per backend.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($conn, _) => $body,
            $crate::db::Db::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx, _) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// Executes a statement built by `$query` in the transaction; yields the number of rows affected.
#[macro_export]
macro_rules! execute {
    ($tx:expr, $query:expr) => {
        $crate::on_tx!($tx, conn => $query.execute(conn).await.map(|done| done.rows_affected()))
    };
}

pub use crate::{execute, on_db, on_tx};

/// A connection pool to one of the two supported backends.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Writer),
    Postgres(PgPool),
}

/// SQLite takes one writer at a time. Write transactions queue here, in order, rather than
/// polling the database's lock with sleeps in between (which idles the machine and lets a
/// late writer overtake a waiting one); reads go on beside them.
#[derive(Clone, Debug, Default)]
pub struct Writer(std::sync::Arc<tokio::sync::Mutex<()>>);

/// How long a write transaction waits for its turn before the database counts as unavailable.
const WRITER_WAIT: Duration = Duration::from_secs(10);

/// A transaction on either backend; a SQLite one holds the writer's turn until it ends, unless
/// it is a snapshot that only reads ([`Db::begin_snapshot`]).
pub enum Tx {
    Sqlite(
        sqlx::Transaction<'static, sqlx::Sqlite>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    ),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Storage failures, classified so that callers can answer with the right status code.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("a row with the same {0} already exists")]
    Conflict(String),
    #[error("{0} refers to a row that does not exist")]
    MissingReference(String),
    #[error("not found")]
    NotFound,
    /// The change reaches a day whose raw calls were removed under the retention setting: the
    /// last such day (days since 1970-01-01).
    #[error("the calls of every day up to day {0} were removed under the retention setting")]
    Pruned(i64),
    #[error("a stored value is not valid: {0}")]
    Corrupt(String),
    /// A sum the stored rows ask for is beyond what an `i64` holds (money past about
    /// $9.2 trillion): raised by the domain's checked arithmetic, or by the database's own
    /// (SQLite's "integer overflow", PostgreSQL's "out of range").
    #[error("a figure cannot be counted: its sum is beyond range")]
    Overflow,
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("the database refused the write: it is read-only or the disk is full")]
    ReadOnly(#[source] sqlx::Error),
    #[error(transparent)]
    Sqlx(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                DbError::Unavailable(err)
            }
            sqlx::Error::Database(db) => {
                let message = db.message().to_ascii_lowercase();
                if db.is_unique_violation() {
                    DbError::Conflict(db.constraint().unwrap_or("key").to_owned())
                } else if db.is_foreign_key_violation() {
                    DbError::MissingReference(db.constraint().unwrap_or("a reference").to_owned())
                } else if message.contains("readonly")
                    || message.contains("read-only")
                    || message.contains("disk")
                {
                    DbError::ReadOnly(err)
                } else if message.contains("integer overflow")
                    || db.code().as_deref() == Some("22003")
                {
                    DbError::Overflow
                } else if matches!(
                    db.code().as_deref(),
                    Some("57P01" | "57P02" | "57P03" | "08006" | "08001")
                ) {
                    DbError::Unavailable(err)
                } else if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
                    // A deadlock or serialisation failure rolled the transaction back whole:
                    // nothing was stored, and the same request sent again succeeds.
                    DbError::Unavailable(err)
                } else {
                    DbError::Sqlx(err)
                }
            }
            _ => DbError::Sqlx(err),
        }
    }
}

/// A stored spelling outside its vocabulary: the row was written by something other than this
/// application, or by a newer version of it.
impl From<crate::domain::status::UnknownValue> for DbError {
    fn from(err: crate::domain::status::UnknownValue) -> Self {
        DbError::Corrupt(err.to_string())
    }
}

impl From<crate::domain::money::MoneyOverflow> for DbError {
    fn from(_: crate::domain::money::MoneyOverflow) -> Self {
        DbError::Overflow
    }
}

pub type DbResult<T> = Result<T, DbError>;

impl Db {
    /// Opens a pool for `url` (`sqlite://path` or `postgres://...`), creating a SQLite file if
    /// needed. SQLite runs in WAL mode with foreign keys on.
    pub async fn connect(url: &str) -> DbResult<Db> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                // 32 MiB of page cache per connection (SQLite's default is 2 MiB) keeps a
                // batch's index pages in memory between its statements, and reads through a
                // 256 MiB map skip a copy per page. The write-ahead log is copied back into
                // the database every 10,000 pages (about 40 MiB) instead of every 1,000: the
                // copy runs in the turn of the writer whose commit crosses the mark, and a hot
                // index page changed by several batches is copied once. Measured in the
                // ingestion bench.
                .pragma("cache_size", "-32768")
                .pragma("mmap_size", "268435456")
                .pragma("wal_autocheckpoint", "10000");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool, Writer::default()))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(pool, _) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> DbResult<()> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(pool, Writer(turn)) => {
                let turn = tokio::time::timeout(WRITER_WAIT, turn.clone().lock_owned())
                    .await
                    .map_err(|_| DbError::Unavailable(sqlx::Error::PoolTimedOut))?;
                Tx::Sqlite(pool.begin().await?, Some(turn))
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that only reads, and reads one consistent state of the database however
    /// many statements it takes: a long read that must not hold the writer's turn. SQLite
    /// takes its snapshot at the first read (WAL mode); PostgreSQL's is repeatable read.
    pub async fn begin_snapshot(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(pool, _) => Tx::Sqlite(pool.begin().await?, None),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }

    /// This server's turn at the background job `job`, or `None` while another server over the
    /// same database has it, so that two servers never run one job at once. On PostgreSQL the
    /// turn is a transaction-scoped advisory lock on a connection of its own, released when
    /// the turn ends or, if the server dies, when its connection does. SQLite serves one
    /// process, whose jobs each run on their own schedule: the turn is always given.
    pub async fn job_turn(&self, job: &str) -> DbResult<Option<JobTurn>> {
        match self {
            Db::Sqlite(..) => Ok(Some(JobTurn(None))),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let sql = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))";
                let got: bool = sqlx::query_scalar(sql)
                    .bind(format!("finishline.job.{job}"))
                    .fetch_one(&mut *tx)
                    .await?;
                Ok(got.then_some(JobTurn(Some(tx))))
            }
        }
    }
}

/// A server's turn at a background job (see [`Db::job_turn`]): dropped or ended, it is over.
pub struct JobTurn(Option<sqlx::Transaction<'static, sqlx::Postgres>>);

impl JobTurn {
    pub async fn end(self) -> DbResult<()> {
        if let Some(tx) = self.0 {
            tx.commit().await?;
        }
        Ok(())
    }
}

impl Tx {
    pub async fn commit(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(tx, _) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Appends `values` to `query` as bound parameters separated by commas: the inside of an
/// `IN (...)` list.
pub(crate) fn push_list<'args, DB, T>(
    query: &mut sqlx::QueryBuilder<'args, DB>,
    values: impl IntoIterator<Item = T>,
) where
    DB: sqlx::Database,
    T: 'args + sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
