//! A fresh, migrated database per test, on the backend the environment asks
//! for: PostgreSQL when `MAMORI_TEST_DATABASE_URL` is set (each test gets its
//! own schema), otherwise an SQLite file in a temporary directory.

use std::path::PathBuf;

use crate::{Backend, Store, StoreError};

pub const TEST_DATABASE_ENV: &str = "MAMORI_TEST_DATABASE_URL";

/// Keeps a test database alive; removes the SQLite directory when dropped.
pub struct TestDatabase {
    pub store: Store,
    pub backend: Backend,
    dir: Option<PathBuf>,
}

impl TestDatabase {
    /// The directory of an embedded (SQLite) test database, to scan its
    /// files; `None` on PostgreSQL.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// Runs one statement as it stands, bypassing the store: for tests that
    /// prove the schema itself refuses something.
    pub async fn execute_sql(&self, sql: &str) -> Result<u64, StoreError> {
        crate::on_pool!(self.store, pool => {
            Ok(sqlx::query(sql).execute(pool).await?.rows_affected())
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The PostgreSQL URL tests should use, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV)
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

pub async fn fresh_database() -> Result<TestDatabase, StoreError> {
    match postgres_url() {
        Some(url) => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let store = Store::connect_postgres_schema(&url, &schema).await?;
            store.migrate().await?;
            Ok(TestDatabase {
                store,
                backend: Backend::Postgres,
                dir: None,
            })
        }
        None => {
            let dir = std::env::temp_dir().join(format!("mamori-test-{}", uuid::Uuid::new_v4()));
            let store = Store::open_data_dir(&dir).await?;
            store.migrate().await?;
            Ok(TestDatabase {
                store,
                backend: Backend::Sqlite,
                dir: Some(dir),
            })
        }
    }
}
