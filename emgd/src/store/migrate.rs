//! `emgd --migrate-store FROM TO`: a stopped node's SQLite store copied into an empty
//! PostgreSQL database, nothing left behind: queued messages (and those being submitted),
//! open DLR entries, connector flags, SAT entries, balances and their history, the routelog,
//! the hourly summary, message history and held parts of long messages.
//!
//! The SQLite file is first brought to the newest schema (as a start would), then read in one
//! transaction (one consistent snapshot) and written table by table, each in chunks of one
//! `INSERT ... SELECT * FROM UNNEST(...)`, all in one PostgreSQL transaction: the target gets
//! everything or nothing. A target that holds messages, routelog rows or balances is refused.
//! The target's `nodes` row keeps the highest id copied, so a node starting on it never hands
//! out an id again.

use super::postgres::{self, group::Param};
use super::sqlite::SqliteStore;
use super::{Options, Store, StoreError};

use common::message::NODE_ID_FACTOR;
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};

/// PostgreSQL column types the copy converts SQLite values to.
#[derive(Clone, Copy)]
enum Ty {
    Int8,
    OptInt8,
    Int4,
    Int2,
    Bool,
    Text,
    OptText,
    Bytea,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Int8 | Ty::OptInt8 => "bigint[]",
            Ty::Int4 => "int[]",
            Ty::Int2 => "smallint[]",
            Ty::Bool => "bool[]",
            Ty::Text | Ty::OptText => "text[]",
            Ty::Bytea => "bytea[]",
        }
    }
}

use Ty::*;

/// Every table of the store with its columns, in the order they are copied.
const TABLES: &[(&str, &[(&str, Ty)])] = &[
    (
        "messages",
        &[
            ("id", Int8),
            ("target", Text),
            ("state", Int2),
            ("remote_id", OptText),
            ("status", OptText),
            ("data", Bytea),
            ("updated_us", Int8),
            ("expires_us", OptInt8),
        ],
    ),
    (
        "dlr_open",
        &[
            ("connector", Text),
            ("remote_id", Text),
            ("message_id", Int8),
            ("created_us", Int8),
            ("part_status", OptText),
            ("part_error", Int8),
        ],
    ),
    (
        "routelog",
        &[
            ("message_id", Int8),
            ("received_us", Int8),
            ("in_connector", Text),
            ("account", OptText),
            ("msgtype", Int2),
            ("source", Text),
            ("dest", Text),
            ("route", OptText),
            ("status", Text),
            ("error", OptText),
            ("updated_us", Int8),
            ("price", OptText),
            ("cost", OptText),
            ("parts", Int4),
            ("charged", Bool),
            ("route_entry", OptText),
        ],
    ),
    (
        "connector_flags",
        &[("connector", Text), ("hold", Bool), ("forceclose", Bool)],
    ),
    (
        "sat_entries",
        &[
            ("pool", Text),
            ("dest", Text),
            ("sat_addr", Text),
            ("original", Text),
            ("original_ton", Int2),
            ("original_npi", Int2),
            ("expires_us", Int8),
        ],
    ),
    (
        "balances",
        &[
            ("account", Text),
            ("micros", Int8),
            ("postpaid_limit", OptInt8),
            ("updated_us", Int8),
        ],
    ),
    (
        "balance_history",
        &[
            ("id", Int8),
            ("account", Text),
            ("amount_before", Int8),
            ("amount", Int8),
            ("created_us", Int8),
            ("created_by", Text),
        ],
    ),
    (
        "hourly_summary",
        &[
            ("account", Text),
            ("hour", Int8),
            ("prefix", Text),
            ("connector", Text),
            ("status", Text),
            ("messages", Int8),
            ("parts", Int8),
            ("price", Int8),
            ("cost", Int8),
        ],
    ),
    (
        "msg_events",
        &[
            ("message_id", Int8),
            ("at_us", Int8),
            ("kind", Int2),
            ("remote_id", Text),
            ("connector", Text),
            ("instance", OptInt8),
            ("status", Text),
            ("code", Int8),
        ],
    ),
    (
        "concat_parts",
        &[
            ("key", Text),
            ("seq", Int2),
            ("id", Int8),
            ("target", Text),
            ("received_us", Int8),
            ("data", Bytea),
        ],
    ),
];

/// Rows per `INSERT`.
const CHUNK: usize = 5_000;

/// One column's values of a chunk.
enum Col {
    I64(Vec<i64>),
    OptI64(Vec<Option<i64>>),
    I32(Vec<i32>),
    I16(Vec<i16>),
    Bool(Vec<bool>),
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    Bytes(Vec<Vec<u8>>),
}

impl Col {
    fn new(ty: Ty) -> Col {
        match ty {
            Int8 => Col::I64(Vec::new()),
            OptInt8 => Col::OptI64(Vec::new()),
            Int4 => Col::I32(Vec::new()),
            Int2 => Col::I16(Vec::new()),
            Bool => Col::Bool(Vec::new()),
            Text => Col::Text(Vec::new()),
            OptText => Col::OptText(Vec::new()),
            Bytea => Col::Bytes(Vec::new()),
        }
    }

    fn push(&mut self, row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<()> {
        match self {
            Col::I64(v) => v.push(row.get(i)?),
            Col::OptI64(v) => v.push(row.get(i)?),
            Col::I32(v) => v.push(row.get(i)?),
            Col::I16(v) => v.push(row.get(i)?),
            Col::Bool(v) => v.push(row.get::<_, i64>(i)? != 0),
            Col::Text(v) => v.push(row.get(i)?),
            Col::OptText(v) => v.push(row.get(i)?),
            Col::Bytes(v) => v.push(row.get(i)?),
        }
        Ok(())
    }

    fn param(self) -> Param {
        match self {
            Col::I64(v) => Box::new(v),
            Col::OptI64(v) => Box::new(v),
            Col::I32(v) => Box::new(v),
            Col::I16(v) => Box::new(v),
            Col::Bool(v) => Box::new(v),
            Col::Text(v) => Box::new(v),
            Col::OptText(v) => Box::new(v),
            Col::Bytes(v) => Box::new(v),
        }
    }
}

/// What was copied: rows per table, in [`TABLES`]' order.
pub struct Copied {
    pub tables: Vec<(&'static str, u64)>,
}

/// The SQLite file `from` names: `emg.sqlite` itself or the data directory holding it.
pub fn sqlite_file(from: &Path) -> PathBuf {
    if from.is_dir() {
        from.join("emg.sqlite")
    } else {
        from.to_path_buf()
    }
}

fn sq(e: rusqlite::Error) -> StoreError {
    StoreError::Database(format!("SQLite: {e}"))
}

/// Copy the SQLite store at `from` into the empty PostgreSQL database at `to`.
pub async fn sqlite_to_postgres(from: &Path, to: &str) -> Result<Copied, StoreError> {
    let file = sqlite_file(from);
    if !file.is_file() {
        return Err(StoreError::Database(format!(
            "{}: no SQLite store there",
            file.display()
        )));
    }
    // The newest schema first, as a start would make it.
    let dir = file.parent().unwrap_or(Path::new("."));
    let store = SqliteStore::open(dir, Options::default())?;
    store.close().await?;
    drop(store);
    let mut client = postgres::connect(to).await?;
    postgres::house::migrate(&mut client).await?;
    let used: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM routelog)
                 OR EXISTS (SELECT 1 FROM balances) OR EXISTS (SELECT 1 FROM dlr_open)",
            &[],
        )
        .await
        .map_err(postgres::db_err)?
        .get(0);
    if used {
        return Err(StoreError::Database(
            "the PostgreSQL database already holds a store (messages, routelog, balances or open receipts); migrate into an empty one".into(),
        ));
    }
    let mut src = rusqlite::Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sq)?;
    let snapshot = src.transaction().map_err(sq)?;
    let tx = client.transaction().await.map_err(postgres::db_err)?;
    let mut copied = Vec::new();
    for (table, cols) in TABLES {
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        let select = format!("SELECT {} FROM {table}", names.join(", "));
        let unnest: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, c.1.sql()))
            .collect();
        let insert = format!(
            "INSERT INTO {table} ({}) SELECT * FROM UNNEST({})",
            names.join(", "),
            unnest.join(", ")
        );
        let insert = tx.prepare(&insert).await.map_err(postgres::db_err)?;
        let mut stmt = snapshot.prepare(&select).map_err(sq)?;
        let mut rows = stmt.query([]).map_err(sq)?;
        let mut total = 0u64;
        loop {
            let mut chunk: Vec<Col> = cols.iter().map(|c| Col::new(c.1)).collect();
            let mut n = 0;
            while n < CHUNK {
                let Some(row) = rows.next().map_err(sq)? else {
                    break;
                };
                for (i, col) in chunk.iter_mut().enumerate() {
                    col.push(row, i).map_err(sq)?;
                }
                n += 1;
            }
            if n == 0 {
                break;
            }
            let params: Vec<Param> = chunk.into_iter().map(Col::param).collect();
            let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            tx.execute(&insert, &refs).await.map_err(postgres::db_err)?;
            total += n as u64;
            if n < CHUNK {
                break;
            }
        }
        copied.push((*table, total));
    }
    tx.batch_execute(
        "SELECT setval('balance_history_id_seq', GREATEST((SELECT MAX(id) FROM balance_history), 1))",
    )
    .await
    .map_err(postgres::db_err)?;
    // The highest id handed out, with the epochs' (rows purged since), kept for its node.
    let max_id: i64 = snapshot
        .query_row(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM messages), 0),
                        COALESCE((SELECT MAX(message_id) FROM routelog), 0),
                        COALESCE((SELECT MAX(first_id) FROM id_epochs), 0))",
            [],
            |r| r.get(0),
        )
        .map_err(sq)?;
    if max_id > 0 {
        let node = (max_id as u64 / NODE_ID_FACTOR) as i32;
        tx.execute(
            "INSERT INTO nodes (nodeid, hostname, started_us, max_id) VALUES ($1, $2, 0, $3)
             ON CONFLICT (nodeid) DO UPDATE SET max_id = GREATEST(nodes.max_id, EXCLUDED.max_id)",
            &[&node, &postgres::house::hostname(), &max_id],
        )
        .await
        .map_err(postgres::db_err)?;
    }
    tx.commit().await.map_err(postgres::db_err)?;
    snapshot.rollback().map_err(sq)?;
    Ok(Copied { tables: copied })
}
