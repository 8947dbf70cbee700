//! GET requests, GET a request and GET a token: work orders as public
//! GeoReport service requests. The caller (phone, name, e-mail) is never
//! shown, and whistleblower (confidential) orders are not shown at all.

use super::error::{Open311Error, Open311Result};
use super::format::{Doc, Obj};
use super::params::{parse_datetime, Bound, Params};
use crate::AppState;
use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use rexian_core::ids::OrderId;
use rexian_core::order::{Channel, Status, WorkOrder};
use rexian_core::values::CaseNumber;
use rexian_store::{OrderFilter, Snapshot, Store, StoreError};
use std::collections::{HashMap, HashSet};

/// The most requests one list returns (the spec's default limit).
pub const MAX_RESULTS: usize = 1000;
/// The longest date range one query may span, in days.
pub const MAX_SPAN_DAYS: i64 = 90;
/// Store pages (of [`PAGE`]) read at most per category while filtering by an
/// exact service_code, which bounds the work of one public query.
const MAX_PAGES: i64 = 50;
const PAGE: i64 = 200;
/// The spec limits descriptions to 4,000 characters.
const DESCRIPTION_MAX: usize = 4000;

/// Custom-field keys under which Open311 intake keeps what has no order field.
pub const CUSTOM_ADDRESS_ID: &str = "open311_address_id";
pub const CUSTOM_MEDIA_URL: &str = "open311_media_url";

/// Whether an order may appear in the public API.
/// Channels whose requests appear in the public `GET requests` list.
pub const PUBLIC_CHANNELS: [Channel; 3] = [Channel::Open311, Channel::Web, Channel::Wechat];

fn is_public(o: &WorkOrder) -> bool {
    !o.fields.caller.confidential
}

pub fn open311_status(s: Status) -> &'static str {
    if s.is_terminal() {
        "closed"
    } else {
        "open"
    }
}

fn w3c<Z: TimeZone>(t: DateTime<Utc>, tz: &Z) -> String
where
    Z::Offset: std::fmt::Display,
{
    t.with_timezone(tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn custom_str<'a>(o: &'a WorkOrder, key: &str) -> Option<&'a str> {
    o.fields.custom.get(key).and_then(|v| v.as_str())
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// What the public is told about the state of things.
fn status_notes(o: &WorkOrder, merged_into: Option<&str>) -> Option<String> {
    match o.status {
        Status::Merged => Some(match merged_into {
            Some(case) => format!("Duplicate request: merged into {case}."),
            None => "Duplicate request.".to_string(),
        }),
        Status::Voided => Some("This request was withdrawn.".to_string()),
        // Only a reply the centre has accepted is public: one sent back for
        // rework stays in `reply_text` until the next reply replaces it.
        Status::AwaitingCallback | Status::CallbackDone | Status::Closed => {
            o.reply_text.clone().or_else(|| o.answer.clone())
        }
        _ => None,
    }
}

/// One order as a GeoReport `request`.
pub fn request_obj(o: &WorkOrder, snap: &Snapshot, merged_into: Option<&str>) -> Obj {
    let tz = snap.calendar.tz();
    let category = o.fields.category_id.and_then(|c| snap.categories.get(c));
    let status = open311_status(o.status);
    let updated = match (status, o.closed_at) {
        ("closed", Some(t)) => t,
        _ => o.updated_at,
    };
    Obj::new()
        .field("service_request_id", o.case_number.as_str())
        .field("status", status)
        .field("status_notes", status_notes(o, merged_into))
        .field("service_name", category.map(|c| c.name.as_str()))
        .field("service_code", category.map_or("", |c| c.code.as_str()))
        .field("description", truncate(&o.fields.content, DESCRIPTION_MAX))
        .field(
            "agency_responsible",
            o.main_department
                .and_then(|d| snap.org.get(d))
                .map(|d| d.name.as_str()),
        )
        .field("service_notice", None::<String>)
        .field("requested_datetime", w3c(o.created_at, &tz))
        .field("updated_datetime", w3c(updated, &tz))
        .field(
            "expected_datetime",
            o.reply_clock.as_ref().map(|c| w3c(c.due_at, &tz)),
        )
        .field("address", o.fields.address.as_deref())
        .field("address_id", custom_str(o, CUSTOM_ADDRESS_ID))
        .field("zipcode", None::<String>)
        .field("lat", o.fields.location.map(|p| p.lat))
        .field("long", o.fields.location.map(|p| p.lng))
        .field("media_url", custom_str(o, CUSTOM_MEDIA_URL))
}

/// Renders orders, looking up the case numbers merged orders went into.
async fn requests_doc(store: &Store, snap: &Snapshot, orders: &[WorkOrder]) -> Open311Result<Doc> {
    let mut merged: HashMap<OrderId, Option<String>> = HashMap::new();
    for o in orders {
        if let Some(target) = o.merged_into {
            if let std::collections::hash_map::Entry::Vacant(slot) = merged.entry(target) {
                let case = match store.order(target).await {
                    Ok(t) => Some(t.case_number.to_string()),
                    Err(StoreError::NotFound(_)) => None,
                    Err(e) => return Err(Open311Error::internal(e)),
                };
                slot.insert(case);
            }
        }
    }
    Ok(Doc::list(
        "service_requests",
        "request",
        orders.iter().map(|o| {
            let into = o
                .merged_into
                .and_then(|t| merged.get(&t).cloned().flatten());
            request_obj(o, snap, into.as_deref())
        }),
    ))
}

/// The public order with this case number, if any.
async fn find(store: &Store, id: &str) -> Open311Result<Option<WorkOrder>> {
    let Ok(case) = CaseNumber::parse(id) else {
        return Ok(None);
    };
    match store.order_by_case(&case).await {
        Ok(o) if is_public(&o) => Ok(Some(o)),
        Ok(_) | Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(Open311Error::internal(e)),
    }
}

/// `GET requests/{id}.{fmt}`: a list of one.
pub async fn one(st: &AppState, id: &str) -> Open311Result<Doc> {
    let o = find(&st.store, id)
        .await?
        .ok_or_else(|| Open311Error::not_found(format!("service_request_id {id} was not found")))?;
    requests_doc(&st.store, &st.store.snapshot(), &[o]).await
}

/// `GET tokens/{token}.{fmt}`: the request an Open311 submission became.
pub async fn token(st: &AppState, token: &str) -> Open311Result<Doc> {
    let not_found = || Open311Error::not_found(format!("token {token} was not found"));
    if token.len() > 200 {
        return Err(not_found());
    }
    let o = st
        .store
        .order_by_external_ref(token)
        .await
        .map_err(Open311Error::from_store)?
        // external_ref also holds other channels' references (WeChat message
        // ids…): only Open311's own tokens resolve here.
        .filter(|o| o.fields.channel == Channel::Open311 && is_public(o))
        .ok_or_else(not_found)?;
    Ok(Doc::list(
        "service_requests",
        "request",
        [Obj::new()
            .field("service_request_id", o.case_number.as_str())
            .field("token", token)],
    ))
}

/// The `[from, to)` window of `start_date` / `end_date`: the most recent 90
/// days by default, 90 days from the one given, at most 90 days in all.
fn window(
    p: &Params,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Open311Result<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = snap.calendar.tz();
    let span = Duration::days(MAX_SPAN_DAYS);
    let parse = |name: &str, bound: Bound| -> Open311Result<Option<DateTime<Utc>>> {
        p.get(name)
            .map(|raw| {
                parse_datetime(raw, &tz, bound).ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "{name} must be a W3C date-time, e.g. 2010-01-01T00:00:00Z"
                    ))
                })
            })
            .transpose()
    };
    let start = parse("start_date", Bound::From)?;
    // end_date is the latest time included; the store's bound is exclusive.
    let end = parse("end_date", Bound::Until)?;
    let (from, to) = match (start, end) {
        (None, None) => (now - span, now + Duration::milliseconds(1)),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (Some(s), Some(e)) => (s, e),
    };
    if to <= from {
        return Err(Open311Error::bad_request(
            "end_date must not be before start_date",
        ));
    }
    // A day's slack lets whole dates 90 days apart (and DST shifts) through.
    if to - from > span + Duration::days(1) {
        return Err(Open311Error::bad_request(format!(
            "start_date and end_date may not span more than {MAX_SPAN_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// Reads matching orders newest first, keeping those `keep` accepts, until
/// `limit` or the page budget is reached.
async fn scan(
    store: &Store,
    filter: &OrderFilter,
    keep: impl Fn(&WorkOrder) -> bool,
    limit: usize,
    now: DateTime<Utc>,
) -> Open311Result<Vec<WorkOrder>> {
    let mut out = vec![];
    let mut seen = HashSet::new();
    for page in 1..=MAX_PAGES {
        let f = OrderFilter {
            page,
            per_page: PAGE,
            ..filter.clone()
        };
        let items = store
            .list_orders(&f, now)
            .await
            .map_err(Open311Error::internal)?
            .items;
        let full = items.len() as i64 >= PAGE;
        for o in items {
            if keep(&o) && seen.insert(o.id) {
                out.push(o);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        if !full {
            break;
        }
    }
    Ok(out)
}

/// `GET requests.{fmt}`
pub async fn list(st: &AppState, p: &Params) -> Open311Result<Doc> {
    let store = &st.store;
    let snap = store.snapshot();
    let now = Utc::now();

    // "This overrides all other arguments."
    let ids = p.list("service_request_id");
    if !ids.is_empty() {
        let mut out = vec![];
        let mut seen = HashSet::new();
        for id in ids {
            if out.len() >= MAX_RESULTS {
                break;
            }
            if let Some(o) = find(store, id).await? {
                if seen.insert(o.id) {
                    out.push(o);
                }
            }
        }
        return requests_doc(store, &snap, &out).await;
    }

    let mut want_open = false;
    let mut want_closed = false;
    for s in p.list("status") {
        match s.to_ascii_lowercase().as_str() {
            "open" => want_open = true,
            "closed" => want_closed = true,
            _ => {
                return Err(Open311Error::bad_request(format!(
                    "status {s} is neither open nor closed"
                )))
            }
        }
    }
    let status: Vec<Status> = if want_open == want_closed {
        vec![]
    } else {
        Status::ALL
            .iter()
            .copied()
            .filter(|s| s.is_terminal() == want_closed)
            .collect()
    };
    let (from, to) = window(p, &snap, now)?;
    // The public list carries what citizens submitted online; requests taken
    // by phone (personal details in their text) are not published.
    let filter = OrderFilter {
        status,
        created_from: Some(from),
        created_to: Some(to),
        channels: PUBLIC_CHANNELS.to_vec(),
        confidential: Some(false),
        ..OrderFilter::default()
    };

    let codes = p.list("service_code");
    let filter = OrderFilter {
        categories_exact: codes
            .iter()
            .filter_map(|c| snap.categories.by_code(c).map(|c| c.id))
            .collect(),
        ..filter
    };
    if !codes.is_empty() && filter.categories_exact.is_empty() {
        return requests_doc(store, &snap, &[]).await;
    }
    let mut orders = scan(store, &filter, is_public, MAX_RESULTS, now).await?;
    orders.truncate(MAX_RESULTS);
    requests_doc(store, &snap, &orders).await
}
