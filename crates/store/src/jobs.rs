//! The persistent deadline scheduler. Each running clock of an open order
//! has a warning job and an overdue job in the `jobs` table, keyed by
//! (order, kind, instant). A job is claimed by setting `fired_at` in the same
//! transaction that appends its event, so it fires once, across restarts and
//! across nodes; when a deadline moves, unfired jobs are replaced and the
//! fired ones stay as the record.

use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::orders::columns;
use crate::orders::execute::fold_new;
use crate::snapshot::Snapshot;
use crate::sql::{from_ms, ms, Sql};
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::deadline::Clock;
use rexian_core::ids::OrderId;
use rexian_core::order::{self, Command, Ctx, OrderError, WorkOrder};
use rexian_core::org::Actor;
use serde::Serialize;
use sqlx::Row;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: i64,
    pub order_id: OrderId,
    pub kind: String,
    pub due_at: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
}

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobRun {
    pub fired: usize,
    /// Jobs whose moment had passed without effect (the step was done meanwhile).
    pub skipped: usize,
    /// Jobs that hit a concurrent change and stay due for the next pass.
    pub retried: usize,
}

fn desired(o: &WorkOrder) -> Vec<(String, i64)> {
    let mut v = vec![];
    for c in Clock::ALL {
        if let Some(s) = columns::running(o, c) {
            if !o.warned.contains(&c) && s.warn_at < s.due_at {
                v.push((format!("{}_warning", c.as_str()), ms(s.warn_at)));
            }
            if !o.overdue.contains(&c) {
                v.push((format!("{}_overdue", c.as_str()), ms(s.due_at)));
            }
        }
    }
    v
}

/// Replaces the order's unfired jobs when its deadlines changed.
pub(crate) async fn reconcile<E: Exec>(
    conn: &mut E,
    before: &WorkOrder,
    after: &WorkOrder,
) -> Result<()> {
    let want = desired(after);
    if want == desired(before) {
        return Ok(());
    }
    // Drop the unfired jobs that are no longer wanted; keep the others as
    // they are so a pass already holding their ids still finds them.
    let mut del = Sql::new("DELETE FROM jobs WHERE order_id = ");
    del.bind(after.id.0).push(" AND fired_at IS NULL");
    for (kind, due) in &want {
        del.push(" AND NOT (kind = ").bind(kind.as_str());
        del.push(" AND due_at = ").bind(*due).push(")");
    }
    conn.execute(&del).await?;
    schedule_new(conn, after).await
}

/// Jobs for an order that had none (imports).
pub(crate) async fn schedule_new<E: Exec>(conn: &mut E, o: &WorkOrder) -> Result<()> {
    for (kind, due) in desired(o) {
        let sql = Sql::new("INSERT INTO jobs (order_id, kind, due_at) VALUES ($1, $2, $3) ON CONFLICT (order_id, kind, due_at) DO NOTHING")
            .arg(o.id.0)
            .arg(kind)
            .arg(due);
        conn.execute(&sql).await?;
    }
    Ok(())
}

fn parse_kind(kind: &str) -> Option<Command> {
    let (clock, what) = kind.split_once('_')?;
    let clock = Clock::parse(clock)?;
    match what {
        "warning" => Some(Command::DeadlineWarning { clock }),
        "overdue" => Some(Command::DeadlineOverdue { clock }),
        _ => None,
    }
}

impl Store {
    /// Jobs of one order, oldest first.
    pub async fn jobs_of(&self, id: OrderId) -> Result<Vec<Job>> {
        Sql::new("SELECT id, order_id, kind, due_at, fired_at FROM jobs WHERE order_id = $1 ORDER BY due_at, id")
            .arg(id.0)
            .query()
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok(Job {
                    id: r.try_get("id")?,
                    order_id: OrderId(r.try_get("order_id")?),
                    kind: r.try_get("kind")?,
                    due_at: from_ms(r.try_get("due_at")?),
                    fired_at: r.try_get::<Option<i64>, _>("fired_at")?.map(from_ms),
                })
            })
            .collect()
    }

    /// Fires every job due at `now` (at most `limit`), each in its own transaction.
    pub async fn run_due_jobs(&self, now: DateTime<Utc>, limit: i64) -> Result<JobRun> {
        let due = Sql::new("SELECT id, order_id, kind FROM jobs WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2")
            .arg(now)
            .arg(limit)
            .query()
            .fetch_all(self.r())
            .await?;
        let mut run = JobRun::default();
        for r in due {
            let id: i64 = r.try_get("id")?;
            let order_id = OrderId(r.try_get("order_id")?);
            let kind: String = r.try_get("kind")?;
            match self.fire(id, order_id, &kind, now).await {
                Ok(true) => run.fired += 1,
                Ok(false) => run.skipped += 1,
                Err(StoreError::Conflict { .. }) => run.retried += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(run)
    }

    async fn fire(&self, job: i64, id: OrderId, kind: &str, now: DateTime<Utc>) -> Result<bool> {
        self.write(Fire {
            snap: self.snapshot(),
            job,
            id,
            kind: kind.to_string(),
            now,
        })
        .await
    }
}

struct Fire {
    snap: Arc<Snapshot>,
    job: i64,
    id: OrderId,
    kind: String,
    now: DateTime<Utc>,
}

impl TxBody for Fire {
    type Out = bool;

    async fn run<E: Exec>(self, tx: &mut E) -> Result<bool> {
        let Fire {
            snap,
            job,
            id,
            kind,
            now,
        } = self;
        let claimed = tx
            .execute(
                &Sql::new("UPDATE jobs SET fired_at = $1 WHERE id = $2 AND fired_at IS NULL")
                    .arg(now)
                    .arg(job),
            )
            .await?;
        if claimed == 0 {
            // Another node fired it first.
            return Ok(false);
        }
        let Some(cmd) = parse_kind(&kind) else {
            return Ok(false);
        };
        let before = columns::load(tx, id).await?;
        let ctx = Ctx {
            now,
            calendar: &snap.calendar,
            spec: snap.deadline_spec(before.fields.category_id, before.fields.urgency),
            org: &snap.org,
            other: None,
        };
        let actor = Actor::system("scheduler");
        let kinds = match order::decide(&before, &cmd, None, &actor, &ctx) {
            Ok(k) => k,
            // The step was done or the clock moved: keep the claim, no event.
            Err(OrderError::Rule(_))
            | Err(OrderError::IllegalState { .. })
            | Err(OrderError::Suspended { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let (after, events) = fold_new(&before, kinds, &actor, None, now);
        columns::update(tx, &before, &after).await?;
        columns::append_events(tx, id, &events).await?;
        reconcile(tx, &before, &after).await?;
        Ok(true)
    }
}
