//! Citizens (CRM): a profile per phone number, tags with who set them and
//! why, every order and contact in one timeline, fuzzy search, CSV in and out.

use crate::error::{Result, StoreError};
use crate::exec::Exec;
use crate::sql::{from_ms, Sql};
use crate::Store;
use chrono::{DateTime, Utc};
use rexian_core::citizen::CitizenTag;
use rexian_core::org::Actor;
use rexian_core::values::{bounded_text, PhoneNumber};
use serde::{Deserialize, Serialize};
use sqlx::Row;

pub const MAX_ADDRESSES: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitizenTagEntry {
    pub tag: CitizenTag,
    pub set_by: String,
    pub reason: Option<String>,
    pub set_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citizen {
    pub phone: PhoneNumber,
    pub name: Option<String>,
    pub addresses: Vec<String>,
    pub note: Option<String>,
    pub tags: Vec<CitizenTagEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a citizen's history, whatever the channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub channel: String,
    /// `order`, `call`, `chat`, `sms` …
    pub kind: String,
    /// A case number, call id …
    pub reference: Option<String>,
    pub summary: Option<String>,
}

pub(crate) async fn add_address<E: Exec>(tx: &mut E, phone: &str, addr: &str) -> Result<()> {
    let row = tx
        .fetch_optional(&Sql::new("SELECT addresses FROM citizens WHERE phone = $1").arg(phone))
        .await?;
    let mut list: Vec<String> = match row {
        Some(r) => serde_json::from_str(&r.string("addresses")?)?,
        None => return Ok(()),
    };
    if list.iter().any(|a| a == addr) {
        return Ok(());
    }
    list.insert(0, addr.to_string());
    list.truncate(MAX_ADDRESSES);
    tx.execute(
        &Sql::new("UPDATE citizens SET addresses = $1 WHERE phone = $2")
            .arg(serde_json::to_string(&list)?)
            .arg(phone),
    )
    .await?;
    Ok(())
}

fn clean_addresses(list: &[String]) -> Result<Vec<String>> {
    let mut out = vec![];
    for a in list {
        let a = bounded_text("addresses", a, 500, false)?;
        if !a.is_empty() && !out.contains(&a) {
            out.push(a);
        }
    }
    if out.len() > MAX_ADDRESSES {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_ADDRESSES} addresses"
        )));
    }
    Ok(out)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) gets a
/// leading apostrophe, so an exported name cannot become a live link.
fn spreadsheet_safe(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

fn like(q: &str) -> String {
    let e = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{e}%")
}

impl Store {
    pub async fn citizen(&self, phone: &PhoneNumber) -> Result<Citizen> {
        let r = Sql::new("SELECT phone, name, addresses, note, created_at, updated_at FROM citizens WHERE phone = $1")
            .arg(phone.as_str())
            .query()
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("citizen {}", phone.masked())))?;
        let tags = Sql::new(
            "SELECT tag, set_by, reason, set_at FROM citizen_tags WHERE phone = $1 ORDER BY set_at",
        )
        .arg(phone.as_str())
        .query()
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|t| {
            Ok(CitizenTagEntry {
                tag: CitizenTag::parse(&t.try_get::<String, _>("tag")?)?,
                set_by: t.try_get("set_by")?,
                reason: t.try_get("reason")?,
                set_at: from_ms(t.try_get("set_at")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Citizen {
            phone: PhoneNumber::parse(&r.try_get::<String, _>("phone")?)?,
            name: r.try_get("name")?,
            addresses: serde_json::from_str(&r.try_get::<String, _>("addresses")?)?,
            note: r.try_get("note")?,
            tags,
            created_at: from_ms(r.try_get("created_at")?),
            updated_at: from_ms(r.try_get("updated_at")?),
        })
    }

    /// Creates or updates a profile; `None` leaves a field as it is.
    pub async fn put_citizen(
        &self,
        phone: &PhoneNumber,
        name: Option<&str>,
        addresses: Option<&[String]>,
        note: Option<&str>,
    ) -> Result<Citizen> {
        let name = name
            .map(|n| bounded_text("name", n, 100, false))
            .transpose()?;
        let note = note
            .map(|n| bounded_text("note", n, 2000, false))
            .transpose()?;
        let addresses = addresses.map(clean_addresses).transpose()?;
        let now = Utc::now();
        let mut tx = self.w().begin().await?;
        Sql::new("INSERT INTO citizens (phone, addresses, created_at, updated_at) VALUES ($1, '[]', $2, $2) ON CONFLICT (phone) DO NOTHING")
            .arg(phone.as_str())
            .arg(now)
            .query()
            .execute(&mut *tx)
            .await?;
        let mut sql = Sql::new("UPDATE citizens SET updated_at = ");
        sql.bind(now);
        if let Some(n) = name {
            sql.push(", name = ")
                .bind(Some(n).filter(|s| !s.is_empty()));
        }
        if let Some(n) = note {
            sql.push(", note = ")
                .bind(Some(n).filter(|s| !s.is_empty()));
        }
        if let Some(a) = addresses {
            sql.push(", addresses = ").bind(serde_json::to_string(&a)?);
        }
        sql.push(" WHERE phone = ").bind(phone.as_str());
        sql.query().execute(&mut *tx).await?;
        tx.commit().await?;
        self.citizen(phone).await
    }

    pub async fn set_citizen_tag(
        &self,
        phone: &PhoneNumber,
        tag: &CitizenTag,
        actor: &Actor,
        reason: Option<&str>,
    ) -> Result<Citizen> {
        let reason = reason
            .map(|r| bounded_text("reason", r, 500, false))
            .transpose()?;
        if tag.as_str() == CitizenTag::BLACKLIST && reason.as_deref().is_none_or(str::is_empty) {
            return Err(StoreError::Invalid("blacklisting needs a reason".into()));
        }
        let now = Utc::now();
        let mut tx = self.w().begin().await?;
        Sql::new("INSERT INTO citizens (phone, addresses, created_at, updated_at) VALUES ($1, '[]', $2, $2) ON CONFLICT (phone) DO NOTHING")
            .arg(phone.as_str())
            .arg(now)
            .query()
            .execute(&mut *tx)
            .await?;
        Sql::new("INSERT INTO citizen_tags (phone, tag, set_by, reason, set_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (phone, tag) DO UPDATE SET set_by = excluded.set_by, reason = excluded.reason, set_at = excluded.set_at")
            .arg(phone.as_str())
            .arg(tag.as_str())
            .arg(actor.name.as_str())
            .arg(reason)
            .arg(now)
            .query()
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.audit(
            actor,
            "citizen_tag_set",
            &format!("citizen:{phone}"),
            Some(tag.as_str()),
        )
        .await?;
        self.citizen(phone).await
    }

    pub async fn remove_citizen_tag(
        &self,
        phone: &PhoneNumber,
        tag: &CitizenTag,
        actor: &Actor,
    ) -> Result<Citizen> {
        let r = Sql::new("DELETE FROM citizen_tags WHERE phone = $1 AND tag = $2")
            .arg(phone.as_str())
            .arg(tag.as_str())
            .query()
            .execute(self.w())
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "tag {} on {}",
                tag.as_str(),
                phone.masked()
            )));
        }
        self.audit(
            actor,
            "citizen_tag_removed",
            &format!("citizen:{phone}"),
            Some(tag.as_str()),
        )
        .await?;
        self.citizen(phone).await
    }

    /// Numbers carrying `tag` (the blacklist and VIP lists telephony uses).
    pub async fn tagged(&self, tag: &CitizenTag) -> Result<Vec<PhoneNumber>> {
        Sql::new("SELECT phone FROM citizen_tags WHERE tag = $1 ORDER BY phone")
            .arg(tag.as_str())
            .query()
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| Ok(PhoneNumber::parse(&r.try_get::<String, _>("phone")?)?))
            .collect()
    }

    pub async fn has_tag(&self, phone: &PhoneNumber, tag: &CitizenTag) -> Result<bool> {
        Ok(
            Sql::new("SELECT 1 AS one FROM citizen_tags WHERE phone = $1 AND tag = $2")
                .arg(phone.as_str())
                .arg(tag.as_str())
                .query()
                .fetch_optional(self.r())
                .await?
                .is_some(),
        )
    }

    /// Fuzzy search over phone, name and addresses.
    pub async fn search_citizens(&self, q: &str, limit: i64) -> Result<Vec<Citizen>> {
        let q: String = q.chars().filter(|c| !c.is_control()).collect();
        let q = q.trim();
        if q.is_empty() {
            return Ok(vec![]);
        }
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        let mut sql = Sql::new("SELECT phone FROM citizens WHERE name LIKE ");
        sql.bind(like(q))
            .push(" ESCAPE '\\' OR addresses LIKE ")
            .bind(like(q))
            .push(" ESCAPE '\\'");
        if digits.len() >= 3 {
            sql.push(" OR phone LIKE ")
                .bind(like(&digits))
                .push(" ESCAPE '\\'");
        }
        sql.push(" ORDER BY updated_at DESC LIMIT ")
            .bind(limit.clamp(1, 200));
        let phones: Vec<String> = sql
            .query()
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| r.try_get("phone"))
            .collect::<Result<_, _>>()?;
        let mut out = vec![];
        for p in phones {
            out.push(self.citizen(&PhoneNumber::parse(&p)?).await?);
        }
        Ok(out)
    }

    /// A contact outside work orders (a call, a chat) for the timeline.
    pub async fn record_contact(&self, phone: &PhoneNumber, entry: &TimelineEntry) -> Result<()> {
        Sql::new("INSERT INTO citizen_contacts (phone, at, channel, kind, ref, summary) VALUES ($1, $2, $3, $4, $5, $6)")
            .arg(phone.as_str())
            .arg(entry.at)
            .arg(entry.channel.as_str())
            .arg(entry.kind.as_str())
            .arg(entry.reference.as_deref())
            .arg(entry.summary.as_deref())
            .query()
            .execute(self.w())
            .await?;
        Ok(())
    }

    /// Everything this number did, newest first.
    pub async fn timeline(&self, phone: &PhoneNumber, limit: i64) -> Result<Vec<TimelineEntry>> {
        Sql::new("SELECT at, channel, kind, ref, summary FROM citizen_contacts WHERE phone = $1 ORDER BY at DESC, id DESC LIMIT $2")
            .arg(phone.as_str())
            .arg(limit.clamp(1, 1000))
            .query()
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok(TimelineEntry {
                    at: from_ms(r.try_get("at")?),
                    channel: r.try_get("channel")?,
                    kind: r.try_get("kind")?,
                    reference: r.try_get("ref")?,
                    summary: r.try_get("summary")?,
                })
            })
            .collect()
    }

    /// CSV with a header: phone,name,addresses,tags,note (lists joined by `;`).
    pub async fn export_citizens_csv(&self) -> Result<String> {
        let rows = sqlx::query("SELECT phone FROM citizens ORDER BY phone")
            .fetch_all(self.r())
            .await?;
        let mut w = csv::Writer::from_writer(vec![]);
        w.write_record(["phone", "name", "addresses", "tags", "note"])
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        for r in rows {
            let c = self
                .citizen(&PhoneNumber::parse(&r.try_get::<String, _>("phone")?)?)
                .await?;
            let tags: Vec<&str> = c.tags.iter().map(|t| t.tag.as_str()).collect();
            w.write_record([
                c.phone.as_str().to_string(),
                spreadsheet_safe(c.name.as_deref().unwrap_or("")),
                spreadsheet_safe(&c.addresses.join(";")),
                spreadsheet_safe(&tags.join(";")),
                spreadsheet_safe(c.note.as_deref().unwrap_or("")),
            ])
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// Imports the export format. Every line is checked first; one bad line
    /// rejects the whole file and nothing changes.
    pub async fn import_citizens_csv(&self, text: &str, actor: &Actor) -> Result<usize> {
        struct Line {
            phone: PhoneNumber,
            name: Option<String>,
            addresses: Vec<String>,
            tags: Vec<CitizenTag>,
            note: Option<String>,
        }
        let mut rd = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let headers = rd
            .headers()
            .map_err(|e| StoreError::Invalid(format!("CSV header: {e}")))?
            .clone();
        let col = |n: &str| headers.iter().position(|h| h.trim() == n);
        let phone_col =
            col("phone").ok_or_else(|| StoreError::Invalid("CSV needs a 'phone' column".into()))?;
        let (name_c, addr_c, tags_c, note_c) =
            (col("name"), col("addresses"), col("tags"), col("note"));
        let mut lines = vec![];
        for (i, rec) in rd.records().enumerate() {
            let line_no = i + 2;
            let rec = rec.map_err(|e| StoreError::Invalid(format!("line {line_no}: {e}")))?;
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).unwrap_or("");
            let err = |e: String| StoreError::Invalid(format!("line {line_no}: {e}"));
            let phone = PhoneNumber::parse(get(Some(phone_col))).map_err(|e| err(e.to_string()))?;
            let split = |s: &str| -> Vec<String> {
                s.split(';')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let tags = split(get(tags_c))
                .iter()
                .map(|t| CitizenTag::parse(t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(e.to_string()))?;
            let addresses = clean_addresses(&split(get(addr_c))).map_err(|e| err(e.to_string()))?;
            let name =
                bounded_text("name", get(name_c), 100, false).map_err(|e| err(e.to_string()))?;
            let note =
                bounded_text("note", get(note_c), 2000, false).map_err(|e| err(e.to_string()))?;
            lines.push(Line {
                phone,
                name: Some(name).filter(|s| !s.is_empty()),
                addresses,
                tags,
                note: Some(note).filter(|s| !s.is_empty()),
            });
        }
        let now = Utc::now();
        let mut tx = self.w().begin().await?;
        for l in &lines {
            Sql::new("INSERT INTO citizens (phone, name, addresses, note, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (phone) DO UPDATE SET name = COALESCE(excluded.name, citizens.name), addresses = excluded.addresses, note = COALESCE(excluded.note, citizens.note), updated_at = excluded.updated_at")
                .arg(l.phone.as_str())
                .arg(l.name.as_deref())
                .arg(serde_json::to_string(&l.addresses)?)
                .arg(l.note.as_deref())
                .arg(now)
                .query()
                .execute(&mut *tx)
                .await?;
            for t in &l.tags {
                Sql::new("INSERT INTO citizen_tags (phone, tag, set_by, reason, set_at) VALUES ($1, $2, $3, 'CSV import', $4) ON CONFLICT (phone, tag) DO NOTHING")
                    .arg(l.phone.as_str())
                    .arg(t.as_str())
                    .arg(actor.name.as_str())
                    .arg(now)
                    .query()
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.audit(
            actor,
            "citizens_imported",
            "citizens",
            Some(&lines.len().to_string()),
        )
        .await?;
        Ok(lines.len())
    }
}
