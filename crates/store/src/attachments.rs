//! Attachments (photos, documents, recordings) stored as files under the
//! data directory, referenced from the order's history. The file is written
//! and synced before the database row exists, so an acknowledged upload is
//! never a dangling row.

use crate::error::{Result, StoreError};
use crate::exec::{Exec, TxBody};
use crate::sql::{from_ms, Sql};
use crate::Store;
use chrono::{DateTime, Datelike, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{EventKind, WorkOrder};
use rexian_core::org::Actor;
use rexian_core::values::bounded_text;
use serde::Serialize;
use sqlx::Row;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct AttachmentLimits {
    pub max_bytes: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub order_id: Option<OrderId>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub stored_as: String,
}

/// Accepted types and the leading bytes their content must start with.
const TYPES: &[(&str, &[&[u8]])] = &[
    ("image/jpeg", &[b"\xFF\xD8\xFF"]),
    ("image/png", &[b"\x89PNG\r\n\x1a\n"]),
    ("image/gif", &[b"GIF87a", b"GIF89a"]),
    ("image/webp", &[b"RIFF"]),
    ("application/pdf", &[b"%PDF-"]),
    ("audio/wav", &[b"RIFF"]),
    ("audio/x-wav", &[b"RIFF"]),
    (
        "audio/mpeg",
        &[b"ID3", b"\xFF\xFB", b"\xFF\xF3", b"\xFF\xF2"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &[b"PK\x03\x04"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[b"PK\x03\x04"],
    ),
    ("text/plain", &[]),
];

fn check_type(content_type: &str, bytes: &[u8]) -> Result<()> {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    let Some((_, magics)) = TYPES.iter().find(|(t, _)| *t == ct) else {
        return Err(StoreError::Invalid(format!(
            "file type {ct:?} is not accepted (images, PDF, Word/Excel, WAV/MP3, text)"
        )));
    };
    if ct == "text/plain" {
        if std::str::from_utf8(bytes).is_err() {
            return Err(StoreError::Invalid("text file is not UTF-8".into()));
        }
        return Ok(());
    }
    if !magics.iter().any(|m| bytes.starts_with(m)) {
        return Err(StoreError::Invalid(format!(
            "file content does not look like {ct}"
        )));
    }
    Ok(())
}

struct AddAttachment {
    order: OrderId,
    name: String,
    content_type: String,
    size: i64,
    stored_as: String,
    actor: Actor,
    now: DateTime<Utc>,
}

impl TxBody for AddAttachment {
    type Out = (i64, WorkOrder);

    async fn run<E: Exec>(self, tx: &mut E) -> Result<(i64, WorkOrder)> {
        let row = tx
            .fetch_optional(
                &Sql::new("INSERT INTO attachments (order_id, name, content_type, size, stored_as, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                    .arg(self.order.0)
                    .arg(self.name.as_str())
                    .arg(self.content_type.as_str())
                    .arg(self.size)
                    .arg(self.stored_as.as_str())
                    .arg(self.actor.name.as_str())
                    .arg(self.now),
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("insert returned no id".into()))?;
        let id = row.i64("id")?;
        let view = crate::orders::execute::append_system_event(
            tx,
            self.order,
            &self.actor,
            EventKind::AttachmentAdded {
                attachment_id: id,
                name: self.name,
            },
            self.now,
        )
        .await?;
        Ok((id, view))
    }
}

impl Store {
    fn attachment_path(&self, stored_as: &str) -> PathBuf {
        self.data_dir().join("attachments").join(stored_as)
    }

    /// Stores a file for an order and records it in the order's history.
    pub async fn save_attachment(
        &self,
        order: OrderId,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        actor: &Actor,
        limits: &AttachmentLimits,
    ) -> Result<(Attachment, WorkOrder)> {
        let name = bounded_text("name", name, 200, true)?;
        if name.contains('/') || name.contains('\\') {
            return Err(StoreError::Invalid(
                "file name must not contain a path".into(),
            ));
        }
        if bytes.is_empty() {
            return Err(StoreError::Invalid("file is empty".into()));
        }
        if bytes.len() > limits.max_bytes {
            return Err(StoreError::Invalid(format!(
                "file is larger than {} MiB",
                limits.max_bytes / 1024 / 1024
            )));
        }
        check_type(content_type, bytes)?;
        let current = self.order(order).await?;
        if matches!(
            current.status,
            rexian_core::order::Status::Voided | rexian_core::order::Status::Merged
        ) {
            return Err(StoreError::Invalid(format!("order is {}", current.status)));
        }
        let now = Utc::now();
        let stored_as = format!(
            "{:04}/{:02}/{}",
            now.year(),
            now.month(),
            crate::users::random_token()
        );
        let path = self.attachment_path(&stored_as);
        let data = bytes.to_vec();
        let p2 = path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = p2.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = p2.with_extension("part");
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &p2)?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        let ct = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_lowercase();
        let result = self
            .write(AddAttachment {
                order,
                name: name.clone(),
                content_type: ct.clone(),
                size: bytes.len() as i64,
                stored_as: stored_as.clone(),
                actor: actor.clone(),
                now,
            })
            .await;
        let (id, view) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        Ok((
            Attachment {
                id,
                order_id: Some(order),
                name,
                content_type: ct,
                size: bytes.len() as i64,
                uploaded_by: actor.name.clone(),
                created_at: now,
                stored_as,
            },
            view,
        ))
    }

    pub async fn attachment(&self, id: i64) -> Result<Attachment> {
        let r = Sql::new("SELECT id, order_id, name, content_type, size, stored_as, uploaded_by, created_at FROM attachments WHERE id = $1")
            .arg(id)
            .query()
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("attachment {id}")))?;
        Ok(Attachment {
            id: r.try_get("id")?,
            order_id: r.try_get::<Option<i64>, _>("order_id")?.map(OrderId),
            name: r.try_get("name")?,
            content_type: r.try_get("content_type")?,
            size: r.try_get("size")?,
            uploaded_by: r.try_get("uploaded_by")?,
            created_at: from_ms(r.try_get("created_at")?),
            stored_as: r.try_get("stored_as")?,
        })
    }

    pub async fn read_attachment(&self, a: &Attachment) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.attachment_path(&a.stored_as)).await?)
    }
}
