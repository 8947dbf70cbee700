//! The read model's row: the view as JSON plus the columns lists filter on.

use crate::error::{Result, StoreError};
use crate::exec::{Exec, Row};
use crate::sql::{Sql, Val};
use rexian_core::deadline::{Clock, ClockState};
use rexian_core::ids::OrderId;
use rexian_core::order::{Event, WorkOrder};

/// Warning and due instants of a clock while it runs (not done, not paused,
/// order open and not suspended); `None` otherwise, so the light of a list
/// row is a comparison with now.
pub(crate) fn running(o: &WorkOrder, c: Clock) -> Option<&ClockState> {
    if o.suspended || o.status.is_terminal() {
        return None;
    }
    o.clock(c).filter(|s| s.is_running())
}

fn search_text(o: &WorkOrder) -> String {
    let f = &o.fields;
    let mut s = String::with_capacity(f.title.len() + f.content.len() + 64);
    s.push_str(&f.title);
    s.push('\n');
    s.push_str(&f.content);
    if let Some(a) = &f.address {
        s.push('\n');
        s.push_str(a);
    }
    if let Some(r) = &o.reply_text {
        s.push('\n');
        s.push_str(r);
    }
    s.to_lowercase()
}

const COLS: [&str; 29] = [
    "version",
    "status",
    "suspended",
    "supervised",
    "channel",
    "order_type",
    "category_id",
    "urgency",
    "district_id",
    "street_id",
    "main_department_id",
    "phone",
    "caller_name",
    "confidential",
    "external_ref",
    "search_text",
    "updated_at",
    "closed_at",
    "sign_warn",
    "sign_due",
    "reply_warn",
    "reply_due",
    "callback_warn",
    "callback_due",
    "next_warn",
    "next_due",
    "next_event_at",
    "data",
    "created_at",
];

/// The column values of `COLS` for a view; `data` only when asked (it is
/// the one that always changes).
fn values(o: &WorkOrder, with_data: bool) -> Result<Vec<Val>> {
    let f = &o.fields;
    let clocks: Vec<Option<&ClockState>> = Clock::ALL.iter().map(|c| running(o, *c)).collect();
    let next_warn = clocks.iter().flatten().map(|c| c.warn_at).min();
    let next_due = clocks.iter().flatten().map(|c| c.due_at).min();
    let data: Val = if with_data {
        serde_json::to_string(o)?.into()
    } else {
        Val::Text(None)
    };
    Ok(vec![
        o.version.into(),
        o.status.as_str().into(),
        o.suspended.into(),
        o.supervised.into(),
        f.channel.as_str().into(),
        f.order_type.as_str().into(),
        f.category_id.map(|c| c.0).into(),
        f.urgency.as_str().into(),
        f.district_id.map(|d| d.0).into(),
        f.street_id.map(|d| d.0).into(),
        o.main_department.map(|d| d.0).into(),
        f.caller.phone.as_ref().map(|p| p.as_str()).into(),
        f.caller.name.as_deref().into(),
        f.caller.confidential.into(),
        f.external_ref.as_deref().into(),
        search_text(o).into(),
        o.updated_at.into(),
        o.closed_at.into(),
        clocks[0].map(|c| c.warn_at).into(),
        clocks[0].map(|c| c.due_at).into(),
        clocks[1].map(|c| c.warn_at).into(),
        clocks[1].map(|c| c.due_at).into(),
        clocks[2].map(|c| c.warn_at).into(),
        clocks[2].map(|c| c.due_at).into(),
        next_warn.into(),
        next_due.into(),
        o.pending_deadlines().first().map(|(at, _, _)| *at).into(),
        data,
        o.created_at.into(),
    ])
}

pub(crate) async fn insert<E: Exec>(conn: &mut E, o: &WorkOrder) -> Result<OrderId> {
    let mut sql = Sql::new("INSERT INTO orders (case_number, ");
    sql.push(&COLS.join(", ")).push(") VALUES (");
    sql.bind(o.case_number.as_str());
    for v in values(o, true)? {
        sql.push(", ").bind(v);
    }
    sql.push(") RETURNING id");
    let row = conn
        .fetch_optional(&sql)
        .await?
        .ok_or_else(|| StoreError::Corrupt("insert returned no id".into()))?;
    Ok(OrderId(row.i64("id")?))
}

/// Writes the new view if nobody wrote since `before` was read. Only the
/// columns that changed are set, so SQLite rewrites only the indexes on them.
pub(crate) async fn update<E: Exec>(
    conn: &mut E,
    before: &WorkOrder,
    after: &WorkOrder,
) -> Result<()> {
    let old = values(before, false)?;
    let new = values(after, true)?;
    let mut sql = Sql::new("UPDATE orders SET ");
    let mut first = true;
    // The last column, created_at, never changes.
    for (i, (col, v)) in COLS.iter().zip(new).enumerate().take(COLS.len() - 1) {
        if *col != "data" && v == old[i] {
            continue;
        }
        if !first {
            sql.push(", ");
        }
        first = false;
        sql.push(col).push(" = ").bind(v);
    }
    sql.push(" WHERE id = ").bind(after.id.0);
    sql.push(" AND version = ").bind(before.version);
    let o = after;
    if conn.execute(&sql).await? == 0 {
        let current = conn
            .fetch_optional(&Sql::new("SELECT version FROM orders WHERE id = $1").arg(o.id.0))
            .await?;
        return match current {
            Some(r) => Err(StoreError::Conflict {
                current: r.i64("version")?,
            }),
            None => Err(StoreError::NotFound(format!("order {}", o.id))),
        };
    }
    Ok(())
}

pub(crate) fn view_from_row(r: &Row) -> Result<WorkOrder> {
    let data = r.string("data")?;
    let mut o: WorkOrder = serde_json::from_str(&data)?;
    o.id = OrderId(r.i64("id")?);
    o.version = r.i64("version")?;
    Ok(o)
}

pub(crate) async fn load<E: Exec>(conn: &mut E, id: OrderId) -> Result<WorkOrder> {
    let r = conn
        .fetch_optional(&Sql::new("SELECT id, version, data FROM orders WHERE id = $1").arg(id.0))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("order {id}")))?;
    view_from_row(&r)
}

pub(crate) async fn append_events<E: Exec>(
    conn: &mut E,
    id: OrderId,
    events: &[Event],
) -> Result<()> {
    for e in events {
        let sql = Sql::new("INSERT INTO order_events (order_id, seq, kind, actor_id, actor_name, at, reason, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .arg(id.0)
            .arg(e.seq)
            .arg(e.kind.name())
            .arg(e.actor.user_id.map(|u| u.0))
            .arg(e.actor.name.as_str())
            .arg(e.at)
            .arg(e.reason.as_deref())
            .arg(serde_json::to_string(e)?);
        conn.execute(&sql).await?;
    }
    Ok(())
}

/// Keeps `order_departments` (who may see the order) in step with the view.
pub(crate) async fn sync_departments<E: Exec>(
    conn: &mut E,
    before: Option<&WorkOrder>,
    after: &WorkOrder,
) -> Result<()> {
    let same = before.is_some_and(|b| {
        b.main_department == after.main_department && b.co_departments == after.co_departments
    });
    if same {
        return Ok(());
    }
    conn.execute(&Sql::new("DELETE FROM order_departments WHERE order_id = $1").arg(after.id.0))
        .await?;
    for (i, d) in after.departments().iter().enumerate() {
        let sql = Sql::new("INSERT INTO order_departments (order_id, department_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .arg(after.id.0)
            .arg(d.0)
            .arg(if i == 0 { "main" } else { "co" });
        conn.execute(&sql).await?;
    }
    Ok(())
}

pub(crate) fn event_from_row(r: &Row) -> Result<Event> {
    Ok(serde_json::from_str(&r.string("payload")?)?)
}
