//! The store's own tests run against both backends: one set of test bodies, each taking a
//! [`Harness`], and [`both!`] makes a `sqlite` and a `postgres` test of each. PostgreSQL is the
//! real server of `tests::postgres` (a database per test).

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{Options, Store};
use std::sync::Arc;

pub enum Harness {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, db: String },
}

impl Harness {
    pub fn sqlite() -> Harness {
        Harness::Sqlite(tempfile::tempdir().unwrap())
    }

    pub fn postgres() -> Harness {
        let (url, db) = tests::postgres::PgServer::shared().fresh_database("store");
        Harness::Postgres { url, db }
    }

    /// An empty store of the same backend.
    pub fn fresh(&self) -> Harness {
        match self {
            Harness::Sqlite(_) => Harness::sqlite(),
            Harness::Postgres { .. } => Harness::postgres(),
        }
    }

    /// The store (again, after a close: the same data).
    pub async fn open(&self, options: Options) -> Arc<dyn Store> {
        match self {
            Harness::Sqlite(dir) => Arc::new(SqliteStore::open(dir.path(), options).unwrap()),
            Harness::Postgres { url, .. } => {
                Arc::new(PostgresStore::open(url, 0, options).await.unwrap())
            }
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Harness::Sqlite(_))
    }

    /// Run `sql` (statements; no results) beside the store.
    pub fn execute(&self, sql: &str) {
        match self {
            Harness::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("emg.sqlite"))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Harness::Postgres { db, .. } => {
                tests::postgres::PgServer::shared().query(db, sql);
            }
        }
    }

    /// The one number `sql` selects, read beside the store.
    pub fn count(&self, sql: &str) -> i64 {
        match self {
            Harness::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("emg.sqlite"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Harness::Postgres { db, .. } => tests::postgres::PgServer::shared()
                .query(db, sql)
                .parse()
                .unwrap(),
        }
    }
}

/// `both!(name)`: tests `name::sqlite` and `name::postgres` of `async fn name(Harness)`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::store::test_backends::Harness;
            #[tokio::test]
            async fn sqlite() {
                super::$name(Harness::sqlite()).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(Harness::postgres()).await
            }
        }
    )*};
}
pub(crate) use both;
