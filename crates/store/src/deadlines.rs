//! The deadline scheduler. An order's next unraised deadline event (warning
//! or overdue of a running clock) is a column of its row, `next_event_at`,
//! derived from the view in the same transaction as every change; the
//! scheduler asks the index for orders whose moment has come and raises the
//! events in a transaction that also records them in the view. So an event
//! fires once (the view remembers it), across restarts (it is all in the
//! database) and across nodes (a second node's update loses on the version).

use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::orders::columns;
use crate::orders::execute::fold_new;
use crate::snapshot::Snapshot;
use crate::sql::Sql;
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{self, Command, Ctx, DeadlineStage, OrderError};
use rexian_core::org::Actor;
use serde::Serialize;
use sqlx::Row;
use std::sync::Arc;

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineRun {
    /// Deadline events raised (warnings and overdues).
    pub fired: usize,
    /// Orders that hit a concurrent change and stay due for the next pass.
    pub retried: usize,
}

impl Store {
    /// Raises every deadline event due at `now`, for at most `limit` orders,
    /// each order in its own transaction.
    pub async fn run_due_deadlines(&self, now: DateTime<Utc>, limit: i64) -> Result<DeadlineRun> {
        let due = Sql::new(
            "SELECT id FROM orders WHERE next_event_at <= $1 ORDER BY next_event_at LIMIT $2",
        )
        .arg(now)
        .arg(limit)
        .query()
        .fetch_all(self.r())
        .await?;
        let mut run = DeadlineRun::default();
        for r in due {
            let id = OrderId(r.try_get("id")?);
            match self
                .write(Fire {
                    snap: self.snapshot(),
                    id,
                    now,
                })
                .await
            {
                Ok(n) => run.fired += n,
                Err(StoreError::Conflict { .. }) => run.retried += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(run)
    }
}

struct Fire {
    snap: Arc<Snapshot>,
    id: OrderId,
    now: DateTime<Utc>,
}

impl TxBody for Fire {
    type Out = usize;

    async fn run<E: Exec>(self, tx: &mut E) -> Result<usize> {
        let Fire { snap, id, now } = self;
        let before = columns::load(tx, id).await?;
        let actor = Actor::system("scheduler");
        let mut after = before.clone();
        let mut events = vec![];
        let mut fired = 0;
        // Earliest first, and again after each event: an overdue clock that
        // never warned gets only its overdue.
        while let Some((_, clock, stage)) = after
            .pending_deadlines()
            .into_iter()
            .find(|(at, _, _)| *at <= now)
        {
            let cmd = match stage {
                DeadlineStage::Warning => Command::DeadlineWarning { clock },
                DeadlineStage::Overdue => Command::DeadlineOverdue { clock },
            };
            let ctx = Ctx {
                now,
                calendar: &snap.calendar,
                spec: snap.deadline_spec(after.fields.category_id, after.fields.urgency),
                org: &snap.org,
                other: None,
            };
            let kinds = match order::decide(&after, &cmd, None, &actor, &ctx) {
                Ok(k) => k,
                Err(OrderError::Rule(_))
                | Err(OrderError::IllegalState { .. })
                | Err(OrderError::Suspended { .. }) => break,
                Err(e) => return Err(e.into()),
            };
            let (next, mut evs) = fold_new(&after, kinds, &actor, None, now);
            after = next;
            events.append(&mut evs);
            fired += 1;
        }
        if events.is_empty() {
            // Nothing due after all (the row was stale): rewrite next_event_at.
            columns::update(tx, &before, &after).await?;
            return Ok(0);
        }
        columns::update(tx, &before, &after).await?;
        columns::append_events(tx, id, &events).await?;
        Ok(fired)
    }
}
