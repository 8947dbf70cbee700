//! Reading orders: one by id or case number, filtered lists, history, counts.

use super::columns;
use crate::error::{Result, StoreError};
use crate::exec::Row;
use crate::sql::Sql;
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::deadline::{Clock, Light};
use rexian_core::ids::{CategoryId, DepartmentId, OrderId};
use rexian_core::order::{Channel, Event, OrderType, Status, WorkOrder};
use rexian_core::values::{CaseNumber, PhoneNumber};
use serde::Serialize;
use sqlx::Row as _;
use std::collections::BTreeMap;

/// Lists count at most this many matches; beyond it the total is "1000+".
pub const COUNT_CAP: i64 = 1_000;

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Vec<Status>,
    pub light: Option<Light>,
    /// Restricts `light` to one clock.
    pub clock: Option<Clock>,
    /// The main department or anything below it.
    pub department: Option<DepartmentId>,
    pub district: Option<DepartmentId>,
    /// The category or any subcategory.
    pub category: Option<CategoryId>,
    pub order_type: Option<OrderType>,
    /// Any of these channels (empty: all).
    pub channels: Vec<Channel>,
    /// Exactly one of these categories, without subcategories (empty: no filter).
    pub categories_exact: Vec<CategoryId>,
    /// `Some(false)`: leave out confidential (whistleblower) orders.
    pub confidential: Option<bool>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub phone: Option<PhoneNumber>,
    pub case_number: Option<CaseNumber>,
    pub text: Option<String>,
    pub supervised: Option<bool>,
    /// Only orders whose main or co-handling department lies in this subtree
    /// (set for department staff from their own unit).
    pub scope: Option<DepartmentId>,
    pub page: i64,
    pub per_page: i64,
    /// Also count the matches (up to [`COUNT_CAP`]). Off by default: a count
    /// may have to visit many rows when the filters match sparsely, while a
    /// page of newest-first results stops after `per_page` matches.
    pub count: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub items: Vec<WorkOrder>,
    pub page: i64,
    pub per_page: i64,
    /// Matches, counted up to [`COUNT_CAP`], when asked for.
    pub total: Option<i64>,
    pub total_capped: bool,
    /// There is at least one more page.
    pub has_more: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OrderStats {
    pub by_status: BTreeMap<String, i64>,
    /// Open orders by the worst light of their running clocks.
    pub by_light: BTreeMap<String, i64>,
    /// Overdue running clocks, per clock.
    pub overdue_by_clock: BTreeMap<String, i64>,
}

fn in_list(sql: &mut Sql, col: &str, ids: &[i64]) {
    sql.push(" AND ").push(col).push(" IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    if ids.is_empty() {
        sql.push("NULL");
    }
    sql.push(")");
}

impl Store {
    pub async fn order(&self, id: OrderId) -> Result<WorkOrder> {
        let r = Sql::new("SELECT id, version, data FROM orders WHERE id = $1")
            .arg(id.0)
            .query()
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("order {id}")))?;
        columns::view_from_row(&Row::Any(r))
    }

    pub async fn order_by_case(&self, case: &CaseNumber) -> Result<WorkOrder> {
        let r = Sql::new("SELECT id, version, data FROM orders WHERE case_number = $1")
            .arg(case.as_str())
            .query()
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {case}")))?;
        columns::view_from_row(&Row::Any(r))
    }

    pub async fn order_by_external_ref(&self, r: &str) -> Result<Option<WorkOrder>> {
        let row = Sql::new("SELECT id, version, data FROM orders WHERE external_ref = $1")
            .arg(r)
            .query()
            .fetch_optional(self.r())
            .await?;
        row.map(|r| columns::view_from_row(&Row::Any(r)))
            .transpose()
    }

    pub async fn history(&self, id: OrderId) -> Result<Vec<Event>> {
        let rows = Sql::new("SELECT payload FROM order_events WHERE order_id = $1 ORDER BY seq")
            .arg(id.0)
            .query()
            .fetch_all(self.r())
            .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound(format!("order {id}")));
        }
        rows.into_iter()
            .map(|r| columns::event_from_row(&Row::Any(r)))
            .collect()
    }

    fn subtree(&self, root: DepartmentId) -> Vec<i64> {
        let snap = self.snapshot();
        snap.org
            .all()
            .filter(|d| snap.org.is_within(d.id, root))
            .map(|d| d.id.0)
            .collect()
    }

    fn where_clause(&self, f: &OrderFilter, now: DateTime<Utc>) -> Sql {
        // SQLite's planner knows only the average rows per value, not that
        // "closed" is most orders: name the one index to lead with (the most
        // selective filter present) and hide the others behind a unary `+`.
        // PostgreSQL keeps value histograms and chooses well on its own.
        let present = [
            ("phone", f.phone.is_some()),
            ("category_id", f.category.is_some()),
            ("main_department_id", f.department.is_some()),
            ("district_id", f.district.is_some()),
            ("channel", !f.channels.is_empty()),
            ("order_type", f.order_type.is_some()),
            ("status", !f.status.is_empty()),
        ];
        let lead = if f.case_number.is_some() {
            None
        } else {
            present.iter().find(|(_, p)| *p).map(|(c, _)| *c)
        };
        let sqlite = self.backend() == crate::Backend::Sqlite;
        let col = |name: &'static str| -> String {
            if sqlite && lead != Some(name) {
                format!("+{name}")
            } else {
                name.to_string()
            }
        };
        let mut sql = Sql::new(" WHERE 1=1");
        if !f.status.is_empty() {
            sql.push(&format!(" AND {} IN (", col("status")));
            for (i, s) in f.status.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(s.as_str());
            }
            sql.push(")");
        }
        if let Some(light) = f.light {
            let (warn, due) = match f.clock {
                Some(c) => (
                    format!("{}_warn", c.as_str()),
                    format!("{}_due", c.as_str()),
                ),
                None => ("next_warn".to_string(), "next_due".to_string()),
            };
            let n = now.timestamp_millis();
            match light {
                Light::Red => {
                    sql.push(&format!(" AND {due} <= ")).bind(n);
                }
                Light::Yellow => {
                    sql.push(&format!(" AND {warn} <= ")).bind(n);
                    sql.push(&format!(" AND {due} > ")).bind(n);
                }
                Light::Green => {
                    sql.push(&format!(" AND {warn} > ")).bind(n);
                    if f.clock.is_none() {
                        sql.push(" AND next_due > ").bind(n);
                    }
                }
            }
        }
        if let Some(d) = f.department {
            in_list(&mut sql, &col("main_department_id"), &self.subtree(d));
        }
        if let Some(d) = f.district {
            sql.push(&format!(" AND {} = ", col("district_id")))
                .bind(d.0);
        }
        if let Some(c) = f.category {
            let snap = self.snapshot();
            let ids: Vec<i64> = snap
                .categories
                .all()
                .filter(|x| snap.categories.chain(Some(x.id)).contains(&c))
                .map(|x| x.id.0)
                .collect();
            in_list(&mut sql, &col("category_id"), &ids);
        }
        if let Some(t) = f.order_type {
            sql.push(&format!(" AND {} = ", col("order_type")))
                .bind(t.as_str());
        }
        if !f.channels.is_empty() {
            sql.push(&format!(" AND {} IN (", col("channel")));
            for (i, c) in f.channels.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(c.as_str());
            }
            sql.push(")");
        }
        if !f.categories_exact.is_empty() {
            let ids: Vec<i64> = f.categories_exact.iter().map(|c| c.0).collect();
            in_list(&mut sql, "category_id", &ids);
        }
        if let Some(c) = f.confidential {
            sql.push(" AND confidential = ").bind(c);
        }
        if let Some(t) = f.created_from {
            sql.push(" AND created_at >= ").bind(t);
        }
        if let Some(t) = f.created_to {
            sql.push(" AND created_at < ").bind(t);
        }
        if let Some(p) = &f.phone {
            sql.push(&format!(" AND {} = ", col("phone")))
                .bind(p.as_str());
        }
        if let Some(c) = &f.case_number {
            sql.push(" AND case_number = ").bind(c.as_str());
        }
        let text: Option<String> = f
            .text
            .as_deref()
            .map(|t| t.chars().filter(|c| !c.is_control()).collect::<String>())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Some(t) = text.as_deref() {
            let escaped = t
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sql.push(" AND search_text LIKE ")
                .bind(format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
        }
        if let Some(s) = f.supervised {
            sql.push(" AND supervised = ").bind(s);
        }
        if let Some(scope) = f.scope {
            // A correlated EXISTS is a primary-key probe per candidate row;
            // `id IN (…)` would materialise every order of the subtree first.
            sql.push(
                " AND EXISTS (SELECT 1 FROM order_departments od WHERE od.order_id = orders.id",
            );
            in_list(&mut sql, "od.department_id", &self.subtree(scope));
            sql.push(")");
        }
        sql
    }

    /// Newest first, `per_page` ≤ 200.
    pub async fn list_orders(&self, f: &OrderFilter, now: DateTime<Utc>) -> Result<ListPage> {
        let per_page = f.per_page.clamp(1, 200);
        // Deep pages are refused rather than overflowing the offset.
        let page = f.page.clamp(1, 100_000);
        let w = self.where_clause(f, now);
        let mut list = Sql::new("SELECT id, version, data FROM orders");
        list.text.push_str(&w.text);
        list.args = w.args.clone();
        // One row more than the page tells whether another page exists.
        list.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(per_page + 1);
        list.push(" OFFSET ").bind((page - 1) * per_page);
        let mut items = list
            .query()
            .fetch_all(self.r())
            .await?
            .into_iter()
            .map(|r| columns::view_from_row(&Row::Any(r)))
            .collect::<Result<Vec<_>>>()?;
        let has_more = items.len() as i64 > per_page;
        items.truncate(per_page as usize);
        let (total, total_capped) = if f.count {
            // Only up to the cap: exact counts over millions of rows cost
            // more than a person paging through them needs.
            let mut count = Sql::new("SELECT COUNT(*) AS n FROM (SELECT 1 FROM orders");
            count.text.push_str(&w.text);
            count.args = w.args;
            count.push(" LIMIT ").bind(COUNT_CAP + 1).push(") AS m");
            let n: i64 = count.query().fetch_one(self.r()).await?.try_get("n")?;
            (Some(n.min(COUNT_CAP)), n > COUNT_CAP)
        } else {
            (None, false)
        };
        Ok(ListPage {
            items,
            page,
            per_page,
            total,
            total_capped,
            has_more,
        })
    }

    pub async fn order_stats(&self, now: DateTime<Utc>) -> Result<OrderStats> {
        let mut s = OrderStats::default();
        for r in sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
            .fetch_all(self.r())
            .await?
        {
            s.by_status.insert(r.try_get("status")?, r.try_get("n")?);
        }
        let n = now.timestamp_millis();
        let r = Sql::new(
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN next_due <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS red, \
             CAST(COALESCE(SUM(CASE WHEN next_due > $1 AND next_warn <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS yellow, \
             CAST(COALESCE(SUM(CASE WHEN next_warn > $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS green, \
             CAST(COALESCE(SUM(CASE WHEN sign_due <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS sign, \
             CAST(COALESCE(SUM(CASE WHEN reply_due <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS reply, \
             CAST(COALESCE(SUM(CASE WHEN callback_due <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS callback \
             FROM orders WHERE next_due IS NOT NULL",
        )
        .arg(n)
        .query()
        .fetch_one(self.r())
        .await?;
        for k in ["red", "yellow", "green"] {
            s.by_light.insert(k.into(), r.try_get(k)?);
        }
        for k in ["sign", "reply", "callback"] {
            s.overdue_by_clock.insert(k.into(), r.try_get(k)?);
        }
        Ok(s)
    }
}
