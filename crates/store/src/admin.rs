//! Administration of the configuration: departments, categories, routing and
//! deadline rules, settings and calendar years. Each change reloads the
//! snapshot.

use crate::error::{Result, StoreError};
use crate::sql::Sql;
use crate::Store;
use rexian_core::deadline::DeadlineRule;
use rexian_core::ids::{CategoryId, DepartmentId};
use rexian_core::org::{DepartmentKind, OrgTree};
use rexian_core::routing::RoutingRule;
use rexian_core::values::bounded_text;
use rexian_core::BusinessCalendar;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The 2026 official calendar, shipped so a new installation counts holidays
/// and 调休 correctly from the start.
pub const BUNDLED_CALENDARS: &[&str] = &[include_str!("../../../calendars/cn-2026.toml")];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepartmentInput {
    pub parent_id: Option<DepartmentId>,
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryInput {
    pub parent_id: Option<CategoryId>,
    pub code: String,
    pub name: String,
}

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let row = Sql::new("SELECT value FROM settings WHERE key = $1")
            .arg(key)
            .query()
            .fetch_optional(self.r())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("value")?),
            None => None,
        })
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        Sql::new("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .arg(key)
            .arg(value)
            .query()
            .execute(self.w())
            .await?;
        Ok(())
    }

    /// On a new database: the bundled calendar years and the default deadline rules.
    pub(crate) async fn ensure_defaults(&self) -> Result<()> {
        if self.setting("initialised").await?.is_some() {
            return Ok(());
        }
        for text in BUNDLED_CALENDARS {
            self.put_calendar_year_inner(text).await?;
        }
        let defaults = rexian_core::deadline::DeadlinePolicy::default();
        self.replace_deadline_rules_inner(&defaults.rules).await?;
        self.set_setting(
            "deadline.yellow_percent",
            &defaults.yellow_percent.to_string(),
        )
        .await?;
        self.set_setting("initialised", &chrono::Utc::now().to_rfc3339())
            .await?;
        Ok(())
    }

    pub async fn create_department(&self, input: &DepartmentInput) -> Result<DepartmentId> {
        let code = bounded_text("code", &input.code, 50, true)?;
        let name = bounded_text("name", &input.name, 100, true)?;
        let snap = self.snapshot();
        let parent = match input.parent_id {
            Some(p) => Some(
                snap.org
                    .get(p)
                    .cloned()
                    .ok_or_else(|| StoreError::NotFound(format!("department {p}")))?,
            ),
            None => None,
        };
        if input.kind == DepartmentKind::Centre && snap.org.centre().is_some() {
            return Err(StoreError::Invalid(
                "there is already a hotline centre".into(),
            ));
        }
        let mut tx = self.w().begin().await?;
        let row = Sql::new(
            "INSERT INTO departments (parent_id, code, name, kind, path, active) VALUES ($1, $2, $3, $4, '', 1) ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .arg(input.parent_id.map(|p| p.0))
        .arg(code.as_str())
        .arg(name)
        .arg(input.kind.as_str())
        .query()
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Duplicate(format!("department code {code}")));
        };
        let id = DepartmentId(row.try_get("id")?);
        Sql::new("UPDATE departments SET path = $1 WHERE id = $2")
            .arg(OrgTree::child_path(parent.as_ref(), id))
            .arg(id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.reload().await?;
        Ok(id)
    }

    /// Renames or (de)activates a department; the tree position is fixed so
    /// that history stays meaningful.
    pub async fn update_department(
        &self,
        id: DepartmentId,
        name: Option<&str>,
        active: Option<bool>,
    ) -> Result<()> {
        self.rename_or_toggle("departments", "department", id.0, name, active)
            .await
    }

    pub async fn update_category(
        &self,
        id: CategoryId,
        name: Option<&str>,
        active: Option<bool>,
    ) -> Result<()> {
        self.rename_or_toggle("categories", "category", id.0, name, active)
            .await
    }

    /// `table` is one of ours, never user input.
    async fn rename_or_toggle(
        &self,
        table: &str,
        what: &str,
        id: i64,
        name: Option<&str>,
        active: Option<bool>,
    ) -> Result<()> {
        let mut sql = Sql::new(&format!("UPDATE {table} SET id = id"));
        if let Some(n) = name {
            sql.push(", name = ")
                .bind(bounded_text("name", n, 100, true)?);
        }
        if let Some(a) = active {
            sql.push(", active = ").bind(a);
        }
        sql.push(" WHERE id = ").bind(id);
        if sql.query().execute(self.w()).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("{what} {id}")));
        }
        self.reload().await
    }

    pub async fn department_by_code(&self, code: &str) -> Option<DepartmentId> {
        let row = Sql::new("SELECT id FROM departments WHERE code = $1")
            .arg(code)
            .query()
            .fetch_optional(self.r())
            .await
            .ok()??;
        row.try_get::<i64, _>("id").ok().map(DepartmentId)
    }

    pub async fn department_codes(&self) -> Result<Vec<(DepartmentId, String)>> {
        let rows = sqlx::query("SELECT id, code FROM departments ORDER BY id")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| Ok((DepartmentId(r.try_get("id")?), r.try_get("code")?)))
            .collect()
    }

    pub async fn create_category(&self, input: &CategoryInput) -> Result<CategoryId> {
        let code = bounded_text("code", &input.code, 50, true)?;
        let name = bounded_text("name", &input.name, 100, true)?;
        if let Some(p) = input.parent_id {
            if self.snapshot().categories.get(p).is_none() {
                return Err(StoreError::NotFound(format!("category {p}")));
            }
        }
        let row = Sql::new(
            "INSERT INTO categories (parent_id, code, name, active) VALUES ($1, $2, $3, 1) ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .arg(input.parent_id.map(|p| p.0))
        .arg(code.as_str())
        .arg(name)
        .query()
        .fetch_optional(self.w())
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Duplicate(format!("category code {code}")));
        };
        let id = CategoryId(row.try_get("id")?);
        self.reload().await?;
        Ok(id)
    }

    /// Adds a routing rule, replacing one for the same category and district.
    pub async fn put_routing_rule(
        &self,
        category: CategoryId,
        district: Option<DepartmentId>,
        department: DepartmentId,
    ) -> Result<RoutingRule> {
        let snap = self.snapshot();
        if snap.categories.get(category).is_none() {
            return Err(StoreError::NotFound(format!("category {category}")));
        }
        for d in district.iter().chain(std::iter::once(&department)) {
            if snap.org.get(*d).is_none() {
                return Err(StoreError::NotFound(format!("department {d}")));
            }
        }
        let mut tx = self.w().begin().await?;
        let mut del = Sql::new("DELETE FROM routing_rules WHERE category_id = ");
        del.bind(category.0);
        match district {
            Some(d) => del.push(" AND district_id = ").bind(d.0),
            None => del.push(" AND district_id IS NULL"),
        };
        del.query().execute(&mut *tx).await?;
        let row = Sql::new("INSERT INTO routing_rules (category_id, district_id, department_id) VALUES ($1, $2, $3) RETURNING id")
            .arg(category.0)
            .arg(district.map(|d| d.0))
            .arg(department.0)
            .query()
            .fetch_one(&mut *tx)
            .await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        self.reload().await?;
        Ok(RoutingRule {
            id,
            category_id: category,
            district_id: district,
            department_id: department,
        })
    }

    pub async fn delete_routing_rule(&self, id: i64) -> Result<()> {
        let r = Sql::new("DELETE FROM routing_rules WHERE id = $1")
            .arg(id)
            .query()
            .execute(self.w())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("routing rule {id}")));
        }
        self.reload().await
    }

    async fn replace_deadline_rules_inner(&self, rules: &[DeadlineRule]) -> Result<()> {
        let mut tx = self.w().begin().await?;
        sqlx::query("DELETE FROM deadline_rules")
            .execute(&mut *tx)
            .await?;
        for r in rules {
            Sql::new("INSERT INTO deadline_rules (category_id, urgency, sign_span, reply_span, callback_span) VALUES ($1, $2, $3, $4, $5)")
                .arg(r.category_id.map(|c| c.0))
                .arg(r.urgency.map(|u| u.as_str()))
                .arg(String::from(r.sign))
                .arg(String::from(r.reply))
                .arg(String::from(r.callback))
                .query()
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces all deadline rules and the yellow threshold. A catch-all rule
    /// (no category, no urgency) is required so every order has deadlines.
    pub async fn replace_deadline_rules(
        &self,
        rules: &[DeadlineRule],
        yellow_percent: u8,
    ) -> Result<()> {
        if !rules
            .iter()
            .any(|r| r.category_id.is_none() && r.urgency.is_none())
        {
            return Err(StoreError::Invalid(
                "a catch-all rule (no category, no urgency) is required".into(),
            ));
        }
        if !(1..=99).contains(&yellow_percent) {
            return Err(StoreError::Invalid("yellow_percent must be 1 to 99".into()));
        }
        let snap = self.snapshot();
        for r in rules {
            if let Some(c) = r.category_id {
                if snap.categories.get(c).is_none() {
                    return Err(StoreError::NotFound(format!("category {c}")));
                }
            }
        }
        self.replace_deadline_rules_inner(rules).await?;
        self.set_setting("deadline.yellow_percent", &yellow_percent.to_string())
            .await?;
        self.reload().await
    }

    async fn put_calendar_year_inner(&self, toml_text: &str) -> Result<i32> {
        // Validate against a scratch calendar before storing.
        let mut scratch =
            BusinessCalendar::new("UTC", &[("09:00".to_string(), "17:00".to_string())])
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let year = scratch
            .load_year_toml(toml_text)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Sql::new("INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, $2, $3) ON CONFLICT (year) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at")
            .arg(i64::from(year))
            .arg(toml_text)
            .arg(chrono::Utc::now())
            .query()
            .execute(self.w())
            .await?;
        Ok(year)
    }

    /// Loads (or replaces) one year's holidays and adjusted working days from
    /// the TOML format of `calendars/cn-2026.toml`.
    pub async fn put_calendar_year(&self, toml_text: &str) -> Result<i32> {
        let y = self.put_calendar_year_inner(toml_text).await?;
        self.reload().await?;
        Ok(y)
    }

    /// Working hours of a day, e.g. `[("09:00","12:00"),("13:00","18:00")]`, and the time zone.
    pub async fn set_working_hours(&self, tz: &str, hours: &[(String, String)]) -> Result<()> {
        BusinessCalendar::new(tz, hours).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.set_setting("calendar.time_zone", tz).await?;
        self.set_setting("calendar.hours", &serde_json::to_string(hours)?)
            .await?;
        self.reload().await
    }
}
