use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Seals sensitive fields under the customer's key, when configured.
    pub(crate) field_sealer: Option<std::sync::Arc<crate::sealed_fields::FieldSealer>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Seals sensitive fields (see `sealed_fields`) with `sealer`.
    pub fn with_field_sealer(mut self, sealer: crate::sealed_fields::FieldSealer) -> Self {
        self.field_sealer = Some(std::sync::Arc::new(sealer));
        self
    }

    /// The sealer of sensitive fields, when the installation has one.
    pub fn field_sealer(&self) -> Option<std::sync::Arc<crate::sealed_fields::FieldSealer>> {
        self.field_sealer.clone()
    }

    /// Opens (creating if needed) the embedded database `mamori.db` in a data
    /// directory.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::BadUrl {
            url: dir.display().to_string(),
            reason: format!("cannot create the data directory: {e}"),
        })?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join("mamori.db"))
            .create_if_missing(true);
        Self::open_sqlite(options).await
    }

    /// Connects to `sqlite://…` or `postgres://…`. Any other scheme is an
    /// error: a typo must never silently create an empty database.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let bad = |reason: &str| StoreError::BadUrl {
            url: redact(url),
            reason: reason.to_string(),
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| bad(&e.to_string()))?;
            Self::open_postgres(options).await
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            if path.is_empty() {
                return Err(bad("no file name after sqlite://"));
            }
            let parent = Path::new(path).parent().unwrap_or(Path::new("."));
            if !parent.as_os_str().is_empty() && !parent.is_dir() {
                return Err(bad("the directory of the database file does not exist"));
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| bad(&e.to_string()))?
                .create_if_missing(true);
            Self::open_sqlite(options).await
        } else {
            Err(bad(
                "expected a URL starting with postgres://, postgresql:// or sqlite://",
            ))
        }
    }

    async fn open_sqlite(options: SqliteConnectOptions) -> Result<Store, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 32 MiB page cache per connection (SQLite's default is 2 MiB):
            // bulk imports touch random pages of the UUID indexes.
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            field_sealer: None,
        })
    }

    async fn open_postgres(options: PgConnectOptions) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store {
            pool: Pool::Postgres(pool),
            field_sealer: None,
        })
    }

    /// Connects to PostgreSQL with every table in `schema` (created if
    /// missing). Tests use it to give each test a database of its own.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Store, StoreError> {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::BadUrl {
                url: redact(url),
                reason: "schema names are letters, digits and underscores".into(),
            });
        }
        let admin = PgPool::connect(url).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl {
                url: redact(url),
                reason: e.to_string(),
            })?
            .options([("search_path", schema)]);
        Self::open_postgres(options).await
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema to the newest version. Runs at every start-up.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Migration versions of each backend's tree, for the test that they match.
    pub fn migration_versions(backend: Backend) -> Vec<i64> {
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// `table -> sorted column names`, read from the live database.
    pub async fn schema_columns(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, StoreError> {
        use sqlx::Row;
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let rows = sqlx::query(
                    "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
                     JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                for row in rows {
                    out.entry(row.try_get("t")?)
                        .or_default()
                        .push(row.try_get("c")?);
                }
            }
            Pool::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                for row in rows {
                    out.entry(row.try_get("t")?)
                        .or_default()
                        .push(row.try_get("c")?);
                }
            }
        }
        for cols in out.values_mut() {
            cols.sort();
        }
        Ok(out)
    }

    /// Refreshes the query planner's statistics after bulk changes, so
    /// searches pick the narrow search index. (PostgreSQL's autovacuum does
    /// this by itself.)
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if let Pool::Sqlite(pool) = &self.pool {
            // `optimize` skips tables whose size has not changed, but the
            // spread of values (e.g. next due dates filling in) changes the
            // best plan too; a bounded ANALYZE keeps the statistics honest.
            // One connection: `analysis_limit` is per connection.
            let mut conn = pool.acquire().await?;
            sqlx::query("PRAGMA optimize=0x10002")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA analysis_limit=400")
                .execute(&mut *conn)
                .await?;
            sqlx::query("ANALYZE").execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Hides a password in a database URL before it reaches a message or log.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((creds, host)) = rest.split_once('@') {
            if let Some((user, _)) = creds.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}
