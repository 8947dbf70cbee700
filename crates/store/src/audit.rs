//! The audit log: who read a confidential reporter, who locked an account,
//! who changed the configuration.

use crate::error::Result;
use crate::sql::{from_ms, Sql};
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::org::Actor;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

impl Store {
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        Sql::new("INSERT INTO audit_log (at, user_id, user_name, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .arg(Utc::now())
            .arg(actor.user_id.map(|u| u.0))
            .arg(actor.name.as_str())
            .arg(action)
            .arg(target)
            .arg(detail)
            .query()
            .execute(self.w())
            .await?;
        Ok(())
    }

    /// Newest first; optionally only one action or one target.
    pub async fn audit_entries(
        &self,
        action: Option<&str>,
        target: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let mut sql = Sql::new(
            "SELECT id, at, user_id, user_name, action, target, detail FROM audit_log WHERE 1=1",
        );
        if let Some(a) = action {
            sql.push(" AND action = ").bind(a);
        }
        if let Some(t) = target {
            sql.push(" AND target = ").bind(t);
        }
        sql.push(" ORDER BY id DESC LIMIT ")
            .bind(limit.clamp(1, 1000));
        sql.query()
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: from_ms(r.try_get("at")?),
                    user_id: r.try_get("user_id")?,
                    user_name: r.try_get("user_name")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
