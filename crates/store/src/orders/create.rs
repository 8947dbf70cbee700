//! Registering a work order: case number, idempotency key, citizen timeline,
//! all in one transaction.

use super::columns;
use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::snapshot::Snapshot;
use crate::sql::Sql;
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{self, Command, Ctx, Event, OrderFields, WorkOrder};
use rexian_core::org::Actor;
use rexian_core::values::CaseNumber;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewOrder {
    #[serde(flatten)]
    pub fields: OrderFields,
    /// Answered on the spot (直接办结): the order is closed at once.
    pub answer: Option<String>,
}

/// What the transaction found: a new order, or the one an idempotency key
/// already points to.
enum Created {
    New(Box<WorkOrder>),
    Replayed(OrderId),
}

struct Create {
    snap: Arc<Snapshot>,
    /// Fingerprint of the request, so a key reused for another body is refused.
    request_hash: String,
    actor: Actor,
    owner: String,
    new: NewOrder,
    key: Option<String>,
    now: DateTime<Utc>,
}

impl TxBody for Create {
    type Out = Created;

    async fn run<E: Exec>(self, tx: &mut E) -> Result<Created> {
        let Create {
            snap,
            request_hash,
            actor,
            owner,
            new,
            key,
            now,
        } = self;
        if let Some(key) = &key {
            let claim = Sql::new("INSERT INTO idempotency_keys (key, owner, request_hash, order_id, created_at) VALUES ($1, $2, $3, 0, $4) ON CONFLICT (owner, key) DO NOTHING")
                .arg(key.as_str())
                .arg(owner.as_str())
                .arg(request_hash.as_str())
                .arg(now);
            if tx.execute(&claim).await? == 0 {
                let row = tx
                    .fetch_optional(
                        &Sql::new("SELECT order_id, request_hash FROM idempotency_keys WHERE owner = $1 AND key = $2")
                            .arg(owner.as_str())
                            .arg(key.as_str()),
                    )
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("idempotency key vanished".into()))?;
                if row.string("request_hash")? != request_hash {
                    return Err(StoreError::Invalid(
                        "this Idempotency-Key was already used for a different request".into(),
                    ));
                }
                return Ok(Created::Replayed(OrderId(row.i64("order_id")?)));
            }
        }
        let suggested = snap.suggest_department(new.fields.category_id, new.fields.district_id);
        let local_day = now.with_timezone(&snap.calendar.tz()).date_naive();
        let seq = tx
            .fetch_optional(
                &Sql::new("INSERT INTO case_sequences (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = case_sequences.last + 1 RETURNING last")
                    .arg(local_day.format("%Y%m%d").to_string()),
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("case sequence".into()))?
            .i64("last")?;
        let case = CaseNumber::new(local_day, seq)?;
        let kind = order::register(&actor, case, new.fields, suggested)?;
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
        if let Some(answer) = new.answer {
            let ctx = Ctx {
                now,
                calendar: &snap.calendar,
                spec: snap.deadline_spec(view.fields.category_id, view.fields.urgency),
                org: &snap.org,
                other: None,
            };
            for kind in order::decide(
                &view,
                &Command::AnswerOnTheSpot { answer },
                None,
                &actor,
                &ctx,
            )? {
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
        let id = columns::insert(tx, &view).await?;
        view.id = id;
        columns::append_events(tx, id, &events).await?;
        if let Some(key) = &key {
            tx.execute(
                &Sql::new(
                    "UPDATE idempotency_keys SET order_id = $1 WHERE owner = $2 AND key = $3",
                )
                .arg(id.0)
                .arg(owner.as_str())
                .arg(key.as_str()),
            )
            .await?;
        }
        record_contact(tx, &view, now).await?;
        Ok(Created::New(Box::new(view)))
    }
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
        // The fingerprint covers what was asked, not a reference the channel
        // generated for this attempt (an Open311 token, say).
        let request_hash = {
            let mut asked = new.clone();
            asked.fields.external_ref = None;
            crate::users::token_hash(&serde_json::to_string(&asked)?)
        };
        let out = self
            .write(Create {
                snap,
                request_hash,
                actor: actor.clone(),
                owner,
                new,
                key: idempotency_key.map(str::to_string),
                now,
            })
            .await?;
        match out {
            Created::New(o) => Ok((*o, true)),
            Created::Replayed(id) => Ok((self.order(id).await?, false)),
        }
    }
}

/// The citizen's profile and timeline learn of every order with a phone number.
async fn record_contact<E: Exec>(tx: &mut E, o: &WorkOrder, now: DateTime<Utc>) -> Result<()> {
    let Some(phone) = &o.fields.caller.phone else {
        return Ok(());
    };
    let confidential = o.fields.caller.confidential;
    let name = o.fields.caller.name.as_deref().filter(|_| !confidential);
    tx.execute(
        &Sql::new("INSERT INTO citizens (phone, name, addresses, created_at, updated_at) VALUES ($1, $2, '[]', $3, $3) ON CONFLICT (phone) DO UPDATE SET name = COALESCE(citizens.name, excluded.name), updated_at = excluded.updated_at")
            .arg(phone.as_str())
            .arg(name)
            .arg(now),
    )
    .await?;
    if let Some(addr) = o.fields.address.as_deref().filter(|_| !confidential) {
        crate::citizens::add_address(tx, phone.as_str(), addr).await?;
    }
    tx.execute(
        &Sql::new("INSERT INTO citizen_contacts (phone, at, channel, kind, ref, summary) VALUES ($1, $2, $3, 'order', $4, $5)")
            .arg(phone.as_str())
            .arg(now)
            .arg(o.fields.channel.as_str())
            .arg(o.case_number.as_str())
            .arg(o.fields.title.as_str()),
    )
    .await?;
    Ok(())
}
