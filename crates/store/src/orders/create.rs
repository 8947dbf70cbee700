//! Registering a work order: case number, idempotency key, citizen timeline,
//! all in one transaction.

use super::columns;
use crate::error::{Result, StoreError};
use crate::sql::Sql;
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{self, Command, Ctx, Event, OrderFields, WorkOrder};
use rexian_core::org::Actor;
use rexian_core::values::CaseNumber;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewOrder {
    #[serde(flatten)]
    pub fields: OrderFields,
    /// Answered on the spot (直接办结): the order is closed at once.
    pub answer: Option<String>,
}

impl Store {
    /// Registers an order. With an idempotency key, a retried request returns
    /// the order the first one created instead of a second one
    /// (`Ok((order, false))`).
    pub async fn create_order(
        &self,
        actor: &Actor,
        new: NewOrder,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(WorkOrder, bool)> {
        let owner = actor
            .user_id
            .map(|u| format!("user:{u}"))
            .unwrap_or_else(|| format!("system:{}", actor.name));
        if let Some(k) = idempotency_key {
            if k.is_empty() || k.len() > 200 {
                return Err(StoreError::Invalid(
                    "Idempotency-Key must be 1 to 200 characters".into(),
                ));
            }
        }
        let snap = self.snapshot();
        let f = &new.fields;
        if let Some(c) = f.category_id {
            if snap.categories.get(c).is_none() {
                return Err(StoreError::Invalid(format!("unknown category {c}")));
            }
        }
        for d in [f.district_id, f.street_id].into_iter().flatten() {
            if snap.org.get(d).is_none() {
                return Err(StoreError::Invalid(format!(
                    "unknown district or street {d}"
                )));
            }
        }
        let suggested = snap.suggest_department(f.category_id, f.district_id);

        let mut tx = self.w().begin().await?;
        if let Some(key) = idempotency_key {
            let claimed = Sql::new("INSERT INTO idempotency_keys (key, owner, order_id, created_at) VALUES ($1, $2, 0, $3) ON CONFLICT (owner, key) DO NOTHING RETURNING order_id")
                .arg(key)
                .arg(owner.as_str())
                .arg(now)
                .query()
                .fetch_optional(&mut *tx)
                .await?;
            if claimed.is_none() {
                tx.rollback().await?;
                let row =
                    Sql::new("SELECT order_id FROM idempotency_keys WHERE owner = $1 AND key = $2")
                        .arg(owner.as_str())
                        .arg(key)
                        .query()
                        .fetch_one(self.w())
                        .await?;
                let id = OrderId(row.try_get("order_id")?);
                return Ok((self.order(id).await?, false));
            }
        }
        let local_day = now.with_timezone(&snap.calendar.tz()).date_naive();
        let seq_row = Sql::new("INSERT INTO case_sequences (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = case_sequences.last + 1 RETURNING last")
            .arg(local_day.format("%Y%m%d").to_string())
            .query()
            .fetch_one(&mut *tx)
            .await?;
        let case = CaseNumber::new(local_day, seq_row.try_get("last")?)?;
        let kind = order::register(actor, case, new.fields, suggested)?;
        let first = Event {
            seq: 1,
            at: now,
            actor: actor.clone(),
            reason: None,
            kind,
        };
        let mut view = WorkOrder::from_registration(OrderId(0), &first)
            .ok_or_else(|| StoreError::Corrupt("registration event".into()))?;
        let mut events = vec![first];
        if let Some(answer) = &new.answer {
            let ctx = Ctx {
                now,
                calendar: &snap.calendar,
                spec: snap.deadline_spec(view.fields.category_id, view.fields.urgency),
                org: &snap.org,
                other: None,
            };
            let cmd = Command::AnswerOnTheSpot {
                answer: answer.clone(),
            };
            for kind in order::decide(&view, &cmd, None, actor, &ctx)? {
                let e = Event {
                    seq: view.version + 1,
                    at: now,
                    actor: actor.clone(),
                    reason: None,
                    kind,
                };
                view.apply(&e);
                events.push(e);
            }
        }
        let id = columns::insert(&mut tx, &view).await?;
        view.id = id;
        columns::append_events(&mut tx, id, &events).await?;
        if let Some(key) = idempotency_key {
            Sql::new("UPDATE idempotency_keys SET order_id = $1 WHERE owner = $2 AND key = $3")
                .arg(id.0)
                .arg(owner.as_str())
                .arg(key)
                .query()
                .execute(&mut *tx)
                .await?;
        }
        record_contact(&mut tx, &view, now).await?;
        tx.commit().await?;
        Ok((view, true))
    }
}

/// The citizen's profile and timeline learn of every order with a phone number.
async fn record_contact(conn: &mut AnyConnection, o: &WorkOrder, now: DateTime<Utc>) -> Result<()> {
    let Some(phone) = &o.fields.caller.phone else {
        return Ok(());
    };
    let name = o
        .fields
        .caller
        .name
        .as_deref()
        .filter(|_| !o.fields.caller.confidential);
    Sql::new("INSERT INTO citizens (phone, name, addresses, created_at, updated_at) VALUES ($1, $2, '[]', $3, $3) ON CONFLICT (phone) DO UPDATE SET name = COALESCE(citizens.name, excluded.name), updated_at = excluded.updated_at")
        .arg(phone.as_str())
        .arg(name)
        .arg(now)
        .query()
        .execute(&mut *conn)
        .await?;
    if let Some(addr) = o
        .fields
        .address
        .as_deref()
        .filter(|_| !o.fields.caller.confidential)
    {
        crate::citizens::add_address(conn, phone.as_str(), addr).await?;
    }
    Sql::new("INSERT INTO citizen_contacts (phone, at, channel, kind, ref, summary) VALUES ($1, $2, $3, 'order', $4, $5)")
        .arg(phone.as_str())
        .arg(now)
        .arg(o.fields.channel.as_str())
        .arg(o.case_number.as_str())
        .arg(o.fields.title.as_str())
        .query()
        .execute(&mut *conn)
        .await?;
    Ok(())
}
