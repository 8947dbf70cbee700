//! The configuration in force, read whole from the database: the department
//! tree, categories, routing and deadline rules, and the business calendar.

use crate::error::{Result, StoreError};
use crate::Store;
use rexian_core::category::{Category, CategoryTree};
use rexian_core::deadline::{DeadlinePolicy, DeadlineRule, DeadlineSpec, WorkSpan};
use rexian_core::ids::{CategoryId, DepartmentId};
use rexian_core::order::Urgency;
use rexian_core::org::{Department, DepartmentKind, OrgTree};
use rexian_core::routing::RoutingRule;
use rexian_core::BusinessCalendar;
use sqlx::Row;

pub const DEFAULT_HOURS: [(&str, &str); 2] = [("09:00", "12:00"), ("13:00", "18:00")];

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub org: OrgTree,
    pub categories: CategoryTree,
    pub routing: Vec<RoutingRule>,
    pub deadlines: DeadlinePolicy,
    pub calendar: BusinessCalendar,
}

impl Snapshot {
    pub(crate) fn empty(tz: &str) -> Result<Self> {
        let hours: Vec<(String, String)> = DEFAULT_HOURS
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Ok(Self {
            org: OrgTree::default(),
            categories: CategoryTree::default(),
            routing: vec![],
            deadlines: DeadlinePolicy::default(),
            calendar: BusinessCalendar::new(tz, &hours)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        })
    }

    pub(crate) async fn load(store: &Store, default_tz: &str) -> Result<Self> {
        let pool = store.r();
        let depts = sqlx::query("SELECT id, parent_id, name, kind, path, active FROM departments")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Department {
                    id: DepartmentId(r.try_get("id")?),
                    parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(DepartmentId),
                    name: r.try_get("name")?,
                    kind: DepartmentKind::parse(&r.try_get::<String, _>("kind")?)
                        .unwrap_or(DepartmentKind::Functional),
                    path: r.try_get("path")?,
                    active: r.try_get::<i64, _>("active")? != 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let cats = sqlx::query("SELECT id, parent_id, code, name, active FROM categories")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Category {
                    id: CategoryId(r.try_get("id")?),
                    parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(CategoryId),
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    active: r.try_get::<i64, _>("active")? != 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let routing = sqlx::query(
            "SELECT id, category_id, district_id, department_id FROM routing_rules ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(RoutingRule {
                id: r.try_get("id")?,
                category_id: CategoryId(r.try_get("category_id")?),
                district_id: r
                    .try_get::<Option<i64>, _>("district_id")?
                    .map(DepartmentId),
                department_id: DepartmentId(r.try_get("department_id")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut rules = vec![];
        for r in sqlx::query(
            "SELECT category_id, urgency, sign_span, reply_span, callback_span FROM deadline_rules ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        {
            let span = |c: &str| -> Result<WorkSpan> {
                WorkSpan::parse(&r.try_get::<String, _>(c)?).map_err(StoreError::Corrupt)
            };
            rules.push(DeadlineRule {
                category_id: r.try_get::<Option<i64>, _>("category_id")?.map(CategoryId),
                urgency: r
                    .try_get::<Option<String>, _>("urgency")?
                    .and_then(|u| Urgency::parse(&u)),
                sign: span("sign_span")?,
                reply: span("reply_span")?,
                callback: span("callback_span")?,
            });
        }
        let yellow = store
            .setting("deadline.yellow_percent")
            .await?
            .and_then(|v| v.parse::<u8>().ok())
            .unwrap_or(80);
        let tz = store
            .setting("calendar.time_zone")
            .await?
            .unwrap_or_else(|| default_tz.to_string());
        let hours: Vec<(String, String)> = match store.setting("calendar.hours").await? {
            Some(h) => serde_json::from_str(&h)?,
            None => DEFAULT_HOURS
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let mut calendar =
            BusinessCalendar::new(&tz, &hours).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for r in sqlx::query("SELECT source FROM calendar_years ORDER BY year")
            .fetch_all(pool)
            .await?
        {
            calendar
                .load_year_toml(&r.try_get::<String, _>("source")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        Ok(Self {
            org: OrgTree::new(depts),
            categories: CategoryTree::new(cats),
            routing,
            deadlines: DeadlinePolicy {
                rules,
                yellow_percent: yellow,
            },
            calendar,
        })
    }

    pub fn deadline_spec(&self, category: Option<CategoryId>, urgency: Urgency) -> DeadlineSpec {
        self.deadlines
            .resolve(&self.categories.chain(category), urgency)
    }

    pub fn suggest_department(
        &self,
        category: Option<CategoryId>,
        district: Option<DepartmentId>,
    ) -> Option<DepartmentId> {
        rexian_core::routing::suggest(&self.routing, &self.categories.chain(category), district)
    }
}
