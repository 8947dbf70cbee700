//! Write transactions that run the same code on both backends.
//!
//! On PostgreSQL a transaction body runs on a pooled sqlx connection. On
//! SQLite it runs on one dedicated writer thread owning a rusqlite
//! connection, start to commit in one hop: with sqlx every statement would
//! cost two thread wake-ups, and SQLite's single write lock would be held
//! across all of them, so throughput would be bounded by context switches,
//! not by SQLite.

use crate::error::{Result, StoreError};
use crate::sql::{Sql, Val};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use std::future::Future;
use tokio::sync::oneshot;

/// A row from either backend.
pub(crate) enum Row {
    Any(AnyRow),
    Lite(Vec<(String, rusqlite::types::Value)>),
}

impl Row {
    fn lite(&self, col: &str) -> Result<&rusqlite::types::Value> {
        match self {
            Row::Lite(v) => v
                .iter()
                .find(|(n, _)| n == col)
                .map(|(_, v)| v)
                .ok_or_else(|| StoreError::Corrupt(format!("no column {col}"))),
            Row::Any(_) => Err(StoreError::Corrupt("not a SQLite row".into())),
        }
    }

    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
        use rusqlite::types::Value as V;
        match self {
            Row::Any(r) => Ok(r.try_get(col)?),
            Row::Lite(_) => match self.lite(col)? {
                V::Null => Ok(None),
                V::Integer(i) => Ok(Some(*i)),
                other => Err(StoreError::Corrupt(format!(
                    "{col}: expected integer, got {other:?}"
                ))),
            },
        }
    }

    pub fn i64(&self, col: &str) -> Result<i64> {
        self.opt_i64(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
    }

    pub fn opt_string(&self, col: &str) -> Result<Option<String>> {
        use rusqlite::types::Value as V;
        match self {
            Row::Any(r) => Ok(r.try_get(col)?),
            Row::Lite(_) => match self.lite(col)? {
                V::Null => Ok(None),
                V::Text(s) => Ok(Some(s.clone())),
                other => Err(StoreError::Corrupt(format!(
                    "{col}: expected text, got {other:?}"
                ))),
            },
        }
    }

    pub fn string(&self, col: &str) -> Result<String> {
        self.opt_string(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
    }
}

/// Runs statements inside an open transaction.
pub(crate) trait Exec: Send {
    fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64>> + Send;
    fn fetch_optional(&mut self, sql: &Sql) -> impl Future<Output = Result<Option<Row>>> + Send;
}

pub(crate) struct AnyExec<'a>(pub &'a mut AnyConnection);

impl Exec for AnyExec<'_> {
    async fn execute(&mut self, sql: &Sql) -> Result<u64> {
        Ok(sql.query().execute(&mut *self.0).await?.rows_affected())
    }
    async fn fetch_optional(&mut self, sql: &Sql) -> Result<Option<Row>> {
        Ok(sql
            .query()
            .fetch_optional(&mut *self.0)
            .await?
            .map(Row::Any))
    }
}

/// A rusqlite connection on the writer thread. Its futures are ready at once.
pub(crate) struct LiteExec<'a>(pub &'a mut rusqlite::Connection);

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, sql: &Sql) -> Result<()> {
    for (i, v) in sql.args.iter().enumerate() {
        let Some(idx) = stmt.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match v {
            Val::Int(x) => stmt.raw_bind_parameter(idx, x)?,
            Val::Real(x) => stmt.raw_bind_parameter(idx, x)?,
            Val::Text(x) => stmt.raw_bind_parameter(idx, x.as_deref())?,
        }
    }
    Ok(())
}

impl LiteExec<'_> {
    fn run(&mut self, sql: &Sql) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(&sql.text)?;
        bind(&mut stmt, sql)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn rows(&mut self, sql: &Sql, limit: usize) -> Result<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(&sql.text)?;
        bind(&mut stmt, sql)?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = stmt.raw_query();
        let mut out = vec![];
        while let Some(r) = rows.next()? {
            let mut cols = Vec::with_capacity(names.len());
            for (i, n) in names.iter().enumerate() {
                cols.push((n.clone(), r.get::<_, rusqlite::types::Value>(i)?));
            }
            out.push(Row::Lite(cols));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

impl Exec for LiteExec<'_> {
    fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64>> + Send {
        std::future::ready(self.run(sql))
    }
    fn fetch_optional(&mut self, sql: &Sql) -> impl Future<Output = Result<Option<Row>>> + Send {
        std::future::ready(self.rows(sql, 1).map(|v| v.into_iter().next()))
    }
}

/// The body of a write transaction, generic over the backend.
pub(crate) trait TxBody: Send + 'static {
    type Out: Send + 'static;
    fn run<E: Exec>(self, e: &mut E) -> impl Future<Output = Result<Self::Out>> + Send;
}

type Job = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// The SQLite writer thread.
pub(crate) struct Writer {
    tx: std::sync::mpsc::Sender<Job>,
}

impl Writer {
    pub fn start(path: &str, sync_full: bool) -> Result<Self> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;",
            if sync_full { "FULL" } else { "NORMAL" }
        ))?;
        conn.set_prepared_statement_cache_capacity(256);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                }
            })?;
        Ok(Self { tx })
    }

    /// Runs `body` in one `BEGIN IMMEDIATE … COMMIT` on the writer thread.
    pub async fn run<B: TxBody>(&self, body: B) -> Result<B::Out> {
        let (done, wait) = oneshot::channel();
        let job: Job = Box::new(move |conn: &mut rusqlite::Connection| {
            let result = (|| {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                let r = futures::executor::block_on(body.run(&mut LiteExec(conn)));
                match r {
                    Ok(v) => match conn.execute_batch("COMMIT") {
                        Ok(()) => Ok(v),
                        Err(e) => {
                            let _ = conn.execute_batch("ROLLBACK");
                            Err(e.into())
                        }
                    },
                    Err(e) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        Err(e)
                    }
                }
            })();
            let _ = done.send(result);
        });
        self.tx
            .send(job)
            .map_err(|_| StoreError::Corrupt("the SQLite writer has stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Corrupt("the SQLite writer dropped a transaction".into()))?
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}
