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

/// WAL frames (of 4 KiB) beyond which the checkpointer truncates the WAL.
const WAL_TRUNCATE_FRAMES: i64 = 100_000;

/// Runs a passive WAL checkpoint every half second on its own connection
/// until the returned sender is dropped.
fn start_checkpointer(path: &str) -> Result<std::sync::mpsc::Sender<()>> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || loop {
            match wait.recv_timeout(std::time::Duration::from_millis(500)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // The result row is (busy, frames in the WAL, frames copied back).
                    let frames = |mode: &str| {
                        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                            r.get::<_, i64>(1)
                        })
                    };
                    match frames("PASSIVE") {
                        // Under a steady stream of writes a passive checkpoint
                        // never finds the WAL idle enough to start it over:
                        // past ~400 MB, wait for a gap and truncate it.
                        Ok(n) if n > WAL_TRUNCATE_FRAMES => {
                            if let Err(e) = frames("TRUNCATE") {
                                tracing::warn!(error = %e, "WAL truncate failed");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                }
                _ => return,
            }
        })?;
    Ok(stop)
}

/// Tells a waiting caller how its transaction ended, once the batch it was
/// part of has committed (or not).
type Finish = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// Runs one body inside a savepoint of the current batch.
type Job = Box<dyn FnOnce(&mut rusqlite::Connection) -> Finish + Send>;

/// Runs one job; a body that panics is rolled back to its savepoint (its
/// caller, whose reply channel is dropped, gets an error) and the writer
/// carries on with the others.
fn run_job(conn: &mut rusqlite::Connection, job: Job) -> Option<Finish> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))) {
        Ok(f) => Some(f),
        Err(_) => {
            tracing::error!("a write transaction panicked; it was rolled back");
            let _ = conn.execute_batch("ROLLBACK TO tx; RELEASE tx");
            None
        }
    }
}

/// Most transactions committed together.
const MAX_BATCH: usize = 64;

/// The SQLite writer thread. Transactions that queue up while one commits
/// are run together, each in its own savepoint, under one `COMMIT` (group
/// commit): a body that fails rolls back alone; nobody hears "done" before
/// the commit that makes their writes durable.
pub(crate) struct Writer {
    tx: std::sync::mpsc::Sender<Job>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl Writer {
    pub fn start(path: &str, sync_full: bool) -> Result<Self> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Checkpoints (copying the WAL back into the database, with fsync)
        // would otherwise run inside whichever commit crosses the threshold
        // and stall every writer behind it; a thread of their own runs them.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;",
            if sync_full { "FULL" } else { "NORMAL" }
        ))?;
        conn.set_prepared_statement_cache_capacity(256);
        // Planner statistics for tables that grew since they were last taken.
        conn.execute_batch("PRAGMA analysis_limit=1000; PRAGMA optimize=0x10002;")?;
        let checkpoints = start_checkpointer(path)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                        // Dropping the job tells its caller the writer failed it.
                        tracing::error!(error = %e, "SQLite writer cannot begin");
                        drop(first);
                        continue;
                    }
                    let mut finishers: Vec<Finish> =
                        run_job(&mut conn, first).into_iter().collect();
                    while finishers.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => finishers.extend(run_job(&mut conn, job)),
                            Err(_) => break,
                        }
                    }
                    let outcome = conn.execute_batch("COMMIT").map_err(|e| {
                        let _ = conn.execute_batch("ROLLBACK");
                        e.to_string()
                    });
                    for f in finishers {
                        f(outcome.clone());
                    }
                }
            })?;
        Ok(Self {
            tx,
            _checkpoints: checkpoints,
        })
    }

    /// Runs `body` on the writer thread in a savepoint of the next batch.
    pub async fn run<B: TxBody>(&self, body: B) -> Result<B::Out> {
        let (done, wait) = oneshot::channel::<Result<B::Out>>();
        let job: Job = Box::new(move |conn: &mut rusqlite::Connection| {
            let result = (|| {
                conn.execute_batch("SAVEPOINT tx")?;
                let r = futures::executor::block_on(body.run(&mut LiteExec(conn)));
                if r.is_err() {
                    conn.execute_batch("ROLLBACK TO tx")?;
                }
                conn.execute_batch("RELEASE tx")?;
                r
            })();
            Box::new(move |committed: std::result::Result<(), String>| {
                let _ = done.send(match committed {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::Sqlite(e)),
                });
            })
        });
        self.tx
            .send(job)
            .map_err(|_| StoreError::Corrupt("the SQLite writer has stopped".into()))?;
        wait.await.map_err(|_| {
            StoreError::Sqlite("the SQLite writer could not run the transaction".into())
        })?
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Insert(i64, bool);

    impl TxBody for Insert {
        type Out = ();
        async fn run<E: Exec>(self, e: &mut E) -> Result<()> {
            e.execute(&Sql::new("INSERT INTO t (v) VALUES ($1)").arg(self.0))
                .await?;
            if self.1 {
                return Err(StoreError::Invalid("refused after writing".into()));
            }
            Ok(())
        }
    }

    struct Panics;

    impl TxBody for Panics {
        type Out = ();
        #[allow(clippy::panic)]
        async fn run<E: Exec>(self, e: &mut E) -> Result<()> {
            e.execute(&Sql::new("INSERT INTO t (v) VALUES (99)"))
                .await?;
            panic!("a bug in a transaction body");
        }
    }

    #[tokio::test]
    async fn failed_and_panicking_bodies_roll_back_alone() {
        let dir = std::env::temp_dir().join(format!("rexian-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let _ = std::fs::remove_file(&path);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        let w = Writer::start(path.to_str().unwrap(), false).unwrap();
        // Sent together they share a batch: each stands or falls alone.
        let (a, b, c, d) = tokio::join!(
            w.run(Insert(1, false)),
            w.run(Insert(2, true)),
            w.run(Panics),
            w.run(Insert(3, false)),
        );
        assert!(a.is_ok() && d.is_ok());
        assert!(b.is_err() && c.is_err());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let vals: Vec<i64> = conn
            .prepare("SELECT v FROM t ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(vals, vec![1, 3]);
        // The writer is still there after the panic.
        w.run(Insert(4, false)).await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
