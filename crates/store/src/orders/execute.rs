//! Running a lifecycle command: load, decide (in `core`), append the events,
//! update the view (with its next deadline instant), all in one transaction.

use super::columns;
use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::snapshot::Snapshot;
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{self, Command, Ctx, Event, EventKind, WorkOrder};
use rexian_core::org::Actor;
use rexian_core::values::bounded_text;
use std::sync::Arc;

struct Execute {
    snap: Arc<Snapshot>,
    id: OrderId,
    expected_version: Option<i64>,
    actor: Actor,
    cmd: Command,
    reason: Option<String>,
    now: DateTime<Utc>,
}

impl TxBody for Execute {
    type Out = WorkOrder;

    async fn run<E: Exec>(self, tx: &mut E) -> Result<WorkOrder> {
        let Execute {
            snap,
            id,
            expected_version,
            actor,
            cmd,
            reason,
            now,
        } = self;
        let before = columns::load(tx, id).await?;
        // Department staff act only on orders routed to their part of the tree.
        if let Some(scope) = actor.department_id.filter(|_| !actor.is_centre()) {
            if !before
                .departments()
                .iter()
                .any(|d| snap.org.is_within(*d, scope))
            {
                return Err(rexian_core::order::OrderError::OutOfScope {
                    command: cmd.name(),
                }
                .into());
            }
        }
        if let Some(v) = expected_version {
            if v != before.version {
                return Err(StoreError::Conflict {
                    current: before.version,
                });
            }
        }
        let other = match cmd.other_order() {
            Some(oid) if oid != id => match columns::load(tx, oid).await {
                Ok(o) => Some(o),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            },
            _ => None,
        };
        let ctx = Ctx {
            now,
            calendar: &snap.calendar,
            spec: snap.deadline_spec(before.fields.category_id, before.fields.urgency),
            org: &snap.org,
            other: other.as_ref(),
        };
        let kinds = order::decide(&before, &cmd, reason.as_deref(), &actor, &ctx)?;
        let (after, events) = fold_new(&before, kinds, &actor, reason.as_deref(), now);
        columns::update(tx, &before, &after).await?;
        columns::append_events(tx, id, &events).await?;
        columns::sync_departments(tx, Some(&before), &after).await?;

        // The other side of a merge or link learns of it too.
        if let Some(target) = other {
            let kind = events.iter().find_map(|e| match &e.kind {
                EventKind::MergedInto { .. } => Some(EventKind::MergedFrom {
                    source: before.id,
                    source_case: before.case_number.clone(),
                }),
                EventKind::Linked { .. } if !target.links.contains(&before.id) => {
                    Some(EventKind::Linked {
                        other: before.id,
                        other_case: before.case_number.clone(),
                    })
                }
                _ => None,
            });
            if let Some(kind) = kind {
                let (t_after, t_events) =
                    fold_new(&target, vec![kind], &actor, reason.as_deref(), now);
                columns::update(tx, &target, &t_after).await?;
                columns::append_events(tx, target.id, &t_events).await?;
            }
        }
        Ok(after)
    }
}

impl Store {
    /// Runs `cmd` on order `id`. Department staff may act only on orders
    /// routed to their unit or below (`out_of_scope` otherwise, before any
    /// other check, so nothing about the order leaks). With `expected_version`, the command is
    /// refused with [`StoreError::Conflict`] if the order changed since the
    /// caller read it; without, it still fails with a conflict if another
    /// command lands between our read and our write.
    pub async fn execute(
        &self,
        id: OrderId,
        expected_version: Option<i64>,
        actor: &Actor,
        cmd: &Command,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder> {
        let reason = match reason {
            Some(r) => Some(bounded_text("reason", r, 2000, false)?).filter(|s| !s.is_empty()),
            None => None,
        };
        self.write(Execute {
            snap: self.snapshot(),
            id,
            expected_version,
            actor: actor.clone(),
            cmd: cmd.clone(),
            reason,
            now,
        })
        .await
    }
}

/// Appends one event outside the lifecycle rules (an attachment record).
pub(crate) async fn append_system_event<E: Exec>(
    tx: &mut E,
    id: OrderId,
    actor: &Actor,
    kind: EventKind,
    now: DateTime<Utc>,
) -> Result<WorkOrder> {
    let before = columns::load(tx, id).await?;
    let (after, events) = fold_new(&before, vec![kind], actor, None, now);
    columns::update(tx, &before, &after).await?;
    columns::append_events(tx, id, &events).await?;
    Ok(after)
}

/// Numbers new events after the view's version and applies them.
pub(crate) fn fold_new(
    before: &WorkOrder,
    kinds: Vec<EventKind>,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> (WorkOrder, Vec<Event>) {
    let mut after = before.clone();
    let mut events = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let e = Event {
            seq: after.version + 1,
            at: now,
            actor: actor.clone(),
            reason: reason.map(str::to_string),
            kind,
        };
        after.apply(&e);
        events.push(e);
    }
    (after, events)
}
