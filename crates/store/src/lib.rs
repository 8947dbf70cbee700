//! Persistence for Rexian: SQLite (WAL) by default, PostgreSQL for several
//! nodes, one SQL dialect over sqlx's `Any` driver with per-backend
//! migrations. Every order command appends its events and updates the read
//! model in one transaction.

mod admin;
mod attachments;
mod audit;
mod citizens;
mod deadlines;
mod error;
mod exec;
mod migrate;
mod orders;
mod snapshot;
pub mod sql;
pub mod testing;
mod users;

pub use admin::{CategoryInput, DepartmentInput};
pub use attachments::{Attachment, AttachmentLimits};
pub use audit::AuditEntry;
pub use citizens::{Citizen, CitizenTagEntry, TimelineEntry};
pub use deadlines::DeadlineRun;
pub use error::{Result, StoreError};
pub use orders::{HistoryEntry, ListPage, NewOrder, OrderFilter, OrderStats};
pub use snapshot::Snapshot;
pub use users::{AuthSession, User, UserInput};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db` or `postgres://…`
    pub url: String,
    /// Attachments and other files live under here.
    pub data_dir: PathBuf,
    /// SQLite: `FULL` fsyncs every commit (survives power loss); `NORMAL`
    /// survives a crash of the process, which is the default.
    pub sqlite_sync_full: bool,
    pub max_connections: u32,
    /// Time zone of the business calendar for a new database.
    pub time_zone: String,
}

impl StoreOptions {
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self {
            url: format!("sqlite://{}?mode=rwc", data_dir.join("rexian.db").display()),
            data_dir: data_dir.to_path_buf(),
            sqlite_sync_full: false,
            max_connections: 8,
            time_zone: "Asia/Shanghai".into(),
        }
    }
}

struct Inner {
    /// SQLite allows one writer: a pool of one connection serialises writes in
    /// the process instead of spinning on `SQLITE_BUSY`. PostgreSQL: same pool
    /// as `read`.
    write: AnyPool,
    read: AnyPool,
    backend: Backend,
    snapshot: RwLock<Arc<Snapshot>>,
    /// SQLite: the thread that runs write transactions (see `exec`).
    writer: Option<exec::Writer>,
    data_dir: PathBuf,
    time_zone: String,
}

/// The handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    pub async fn open(opts: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if opts.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL {:?}: use sqlite:// or postgres://",
                redact(&opts.url)
            )));
        };
        std::fs::create_dir_all(&opts.data_dir)?;
        let (write, read) = match backend {
            Backend::Sqlite => {
                let sync = if opts.sqlite_sync_full {
                    "FULL"
                } else {
                    "NORMAL"
                };
                let pragmas = format!(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                );
                let make = |n: u32| {
                    let pragmas = pragmas.clone();
                    AnyPoolOptions::new()
                        .max_connections(n)
                        .min_connections(1)
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(move |conn, _| {
                            let pragmas = pragmas.clone();
                            Box::pin(async move {
                                conn.execute(pragmas.as_str()).await?;
                                Ok(())
                            })
                        })
                };
                let write = make(1).connect(&opts.url).await?;
                let read = make(opts.max_connections.max(1)).connect(&opts.url).await?;
                (write, read)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(&opts.url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        migrate::run(&write, backend).await?;
        let writer = match backend {
            Backend::Sqlite => Some(exec::Writer::start(
                &sqlite_path(&opts.url),
                opts.sqlite_sync_full,
            )?),
            Backend::Postgres => None,
        };
        let store = Store {
            inner: Arc::new(Inner {
                write,
                read,
                backend,
                snapshot: RwLock::new(Arc::new(Snapshot::empty(&opts.time_zone)?)),
                writer,
                data_dir: opts.data_dir.clone(),
                time_zone: opts.time_zone.clone(),
            }),
        };
        store.ensure_defaults().await?;
        store.reload().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub(crate) fn w(&self) -> &AnyPool {
        &self.inner.write
    }

    pub(crate) fn r(&self) -> &AnyPool {
        &self.inner.read
    }

    /// Runs a write transaction: on the SQLite writer thread, or on a pooled
    /// PostgreSQL connection.
    pub(crate) async fn write<B: exec::TxBody>(&self, body: B) -> Result<B::Out> {
        match &self.inner.writer {
            Some(w) => w.run(body).await,
            None => {
                let mut tx = self.w().begin().await?;
                let out = body.run(&mut exec::AnyExec(&mut tx)).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    }

    /// The configuration currently in force (organisation, categories, rules,
    /// calendar), shared and swapped whole when an administrator changes it.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Re-reads the configuration from the database (after a change here, or
    /// periodically to see changes made on other nodes).
    pub async fn reload(&self) -> Result<()> {
        let snap = Arc::new(Snapshot::load(self, &self.inner.time_zone).await?);
        match self.inner.snapshot.write() {
            Ok(mut g) => *g = snap,
            Err(p) => *p.into_inner() = snap,
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.inner.write.close().await;
        self.inner.read.close().await;
    }

    /// A cheap liveness check of the database.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.r()).await?;
        Ok(())
    }
}

/// The file of a `sqlite://path?options` URL.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// Hides the password in a database URL for logs and `print-config`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
