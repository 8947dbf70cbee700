//! Work orders: register, list with filters, read, history, lifecycle
//! actions, attachments, routing suggestions.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Json, Query};
use crate::present;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rexian_core::deadline::{Clock, Light};
use rexian_core::ids::{CategoryId, DepartmentId, OrderId};
use rexian_core::order::{Channel, Command, OrderType, Status, WorkOrder};
use rexian_core::values::{CaseNumber, PhoneNumber};
use rexian_store::{NewOrder, OrderFilter};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

pub fn router(max_upload: usize) -> Router<AppState> {
    Router::new()
        .route("/orders", get(list).post(create))
        .route("/orders/{id}", get(get_one))
        .route("/orders/by-case/{case}", get(by_case))
        .route("/orders/{id}/history", get(history))
        .route("/orders/{id}/actions", post(act))
        .route(
            "/orders/{id}/attachments",
            // Room for the multipart framing around the largest file allowed.
            post(upload).layer(DefaultBodyLimit::max(max_upload + 64 * 1024)),
        )
        .route("/attachments/{id}", get(download))
        .route("/routing/suggest", get(suggest))
        .route("/stats/orders", get(stats))
}

/// May this caller see this order? Centre: all; departments: their subtree.
pub fn can_see(state: &AppState, auth: &Auth, o: &WorkOrder) -> bool {
    if auth.is_centre() {
        return true;
    }
    let snap = state.store.snapshot();
    o.departments()
        .iter()
        .any(|d| snap.org.is_within(*d, auth.user.department_id))
}

async fn load_visible(state: &AppState, auth: &Auth, id: i64) -> ApiResult<WorkOrder> {
    let o = state.store.order(OrderId(id)).await?;
    if can_see(state, auth, &o) {
        Ok(o)
    } else {
        Err(ApiError::out_of_scope())
    }
}

/// The body of `POST /api/orders` (documentation of `rexian_store::NewOrder`).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewOrderBody {
    #[serde(flatten)]
    fields: rexian_core::order::OrderFields,
    /// Answered on the spot (直接办结): the order is closed at once.
    answer: Option<String>,
}

/// Registers a work order. With an `Idempotency-Key` header, a retried
/// request returns the first order (200) instead of creating another (201).
#[utoipa::path(post, path = "/api/orders", tag = "orders",
    request_body = NewOrderBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, description = "Created", body = present::OrderView), (status = 200, description = "Replayed", body = present::OrderView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(body): Json<NewOrder>,
) -> ApiResult<impl IntoResponse> {
    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))
        })
        .transpose()?;
    let (o, created) = state
        .store
        .create_order(&auth.actor(), body, key, Utc::now())
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(present::order_detail(&state, &o, &auth).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated statuses, e.g. `dispatched,signed`.
    pub status: Option<String>,
    /// green | yellow | red (running clocks).
    pub light: Option<String>,
    /// Restrict `light` to sign | reply | callback.
    pub clock: Option<String>,
    /// Main department or below.
    pub department_id: Option<i64>,
    pub district_id: Option<i64>,
    /// Category or any subcategory.
    pub category_id: Option<i64>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub order_type: Option<String>,
    /// Comma-separated channels.
    pub channel: Option<String>,
    /// Created at or after (RFC 3339 or YYYY-MM-DD in the calendar's time zone).
    pub from: Option<String>,
    /// Created before (RFC 3339 or YYYY-MM-DD, exclusive).
    pub to: Option<String>,
    pub phone: Option<String>,
    pub case_number: Option<String>,
    /// Text in title, content, address or reply.
    pub q: Option<String>,
    pub supervised: Option<bool>,
    pub page: Option<i64>,
    /// 1–200, default 20.
    pub per_page: Option<i64>,
    /// Also count the matches (up to 1000; `total_capped` beyond).
    pub count: Option<bool>,
}

fn parse_time(state: &AppState, field: &str, s: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{field}: use RFC 3339 or YYYY-MM-DD")))?;
    let tz = state.store.snapshot().calendar.tz();
    d.and_hms_opt(0, 0, 0)
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::bad_request(format!("{field}: no such local time")))
}

fn filter_from(state: &AppState, q: ListQuery, auth: &Auth) -> ApiResult<OrderFilter> {
    let bad = |f: &str, v: &str| ApiError::bad_request(format!("{f}: unknown value {v:?}"));
    let mut f = OrderFilter {
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(20),
        ..OrderFilter::default()
    };
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        for part in s.split(',') {
            f.status
                .push(Status::parse(part.trim()).ok_or_else(|| bad("status", part))?);
        }
    }
    if let Some(l) = q.light {
        f.light = Some(Light::parse(&l).ok_or_else(|| bad("light", &l))?);
    }
    if let Some(c) = q.clock {
        f.clock = Some(Clock::parse(&c).ok_or_else(|| bad("clock", &c))?);
    }
    f.department = q.department_id.map(DepartmentId);
    f.district = q.district_id.map(DepartmentId);
    f.category = q.category_id.map(CategoryId);
    if let Some(t) = q.order_type {
        f.order_type = Some(OrderType::parse(&t).ok_or_else(|| bad("type", &t))?);
    }
    if let Some(c) = q.channel {
        for part in c.split(',').filter(|p| !p.is_empty()) {
            f.channels
                .push(Channel::parse(part.trim()).ok_or_else(|| bad("channel", part))?);
        }
    }
    if let Some(s) = q.from {
        f.created_from = Some(parse_time(state, "from", &s)?);
    }
    if let Some(s) = q.to {
        f.created_to = Some(parse_time(state, "to", &s)?);
    }
    if let Some(p) = q.phone.filter(|p| !p.is_empty()) {
        f.phone = Some(PhoneNumber::parse(&p)?);
    }
    if let Some(c) = q.case_number.filter(|c| !c.is_empty()) {
        f.case_number = Some(CaseNumber::parse(&c)?);
    }
    f.text = q.q;
    f.count = q.count.unwrap_or(false);
    f.supervised = q.supervised;
    if !auth.is_centre() {
        f.scope = Some(auth.user.department_id);
        if f.phone.is_some() {
            return Err(ApiError::forbidden(
                "department staff cannot search by phone number",
            ));
        }
    }
    Ok(f)
}

/// Lists orders newest first. Department staff see only their subtree's orders.
#[utoipa::path(get, path = "/api/orders", tag = "orders", params(ListQuery),
    responses((status = 200, body = present::OrderPage), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let f = filter_from(&state, q, &auth)?;
    let page = state.store.list_orders(&f, Utc::now()).await?;
    let items: Vec<Box<RawValue>> = page
        .items
        .iter()
        .map(|o| present::order_summary(&state, o, &auth))
        .collect();
    Ok(axum::Json(json!({
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "total_capped": page.total_capped,
        "has_more": page.has_more,
    })))
}

#[utoipa::path(get, path = "/api/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = present::OrderView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Box<RawValue>>> {
    let o = load_visible(&state, &auth, id).await?;
    Ok(axum::Json(present::order_detail(&state, &o, &auth).await?))
}

#[utoipa::path(get, path = "/api/orders/by-case/{case}", tag = "orders", params(("case" = String, Path)), responses((status = 200, body = present::OrderView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn by_case(
    State(state): State<AppState>,
    auth: Auth,
    Path(case): Path<String>,
) -> ApiResult<axum::Json<Box<RawValue>>> {
    let o = state
        .store
        .order_by_case(&CaseNumber::parse(&case)?)
        .await?;
    if !can_see(&state, &auth, &o) {
        return Err(ApiError::out_of_scope());
    }
    Ok(axum::Json(present::order_detail(&state, &o, &auth).await?))
}

/// Every event of the order, oldest first (actor, time, reason, payload).
#[utoipa::path(get, path = "/api/orders/{id}/history", tag = "orders", params(("id" = i64, Path)), responses((status = 200, body = Vec<rexian_core::order::Event>)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let o = load_visible(&state, &auth, id).await?;
    let events = state.store.history(o.id).await?;
    Ok(axum::Json(
        present::history(&state, &o, &events, &auth).await?,
    ))
}

/// The body of `POST /api/orders/{id}/actions`: the command's fields (tagged
/// by `action`) plus optional `version` (optimistic concurrency; also
/// `If-Match`) and `reason`. The handler reads it field by field so that
/// unknown fields are refused; this type documents it.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ActionRequest {
    #[serde(flatten)]
    pub command: Command,
    /// The order version the caller last saw.
    pub version: Option<i64>,
    /// Why (required for returns, rejections, rework, suspension, void).
    pub reason: Option<String>,
}

/// Runs a lifecycle command: dispatch, sign, request_return, approve_return,
/// reject_return, request_extension, approve_extension, reject_extension,
/// reply, co_reply, accept_reply, order_rework, record_callback, close,
/// suspend, resume, supervise, remind, merge, link, void, supplement,
/// answer_on_the_spot. An illegal one gets `illegal_state` naming the state
/// and the command; a stale `version` gets `conflict`.
#[utoipa::path(post, path = "/api/orders/{id}/actions", tag = "orders", params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, body = present::OrderView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(mut body): Json<Value>,
) -> ApiResult<axum::Json<Box<RawValue>>> {
    let obj = body
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("body must be a JSON object with an \"action\""))?;
    let version = match obj.remove("version") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| ApiError::bad_request("version must be an integer"))?,
        ),
        Some(_) => return Err(ApiError::bad_request("version must be an integer")),
    };
    let version = match (version, headers.get(header::IF_MATCH)) {
        (Some(v), _) => Some(v),
        (None, Some(h)) => Some(
            h.to_str()
                .ok()
                .map(|s| s.trim().trim_matches('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("If-Match must be the order version"))?,
        ),
        (None, None) => None,
    };
    let reason = match obj.remove("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::bad_request("reason must be a string")),
    };
    let keys: Vec<String> = obj.keys().cloned().collect();
    let cmd: Command = serde_json::from_value(body).map_err(|e| {
        let mut err = ApiError::bad_request(format!("invalid action: {e}"));
        err.code = "invalid_action";
        err
    })?;
    // Serde ignores extra keys next to a unit action; refuse them all alike.
    let known = serde_json::to_value(&cmd).unwrap_or(Value::Null);
    if let Some(k) = keys.iter().find(|k| known.get(k.as_str()).is_none()) {
        let mut err = ApiError::bad_request(format!("invalid action: unknown field `{k}`"));
        err.code = "invalid_action";
        return Err(err);
    }
    if matches!(
        cmd,
        Command::DeadlineWarning { .. } | Command::DeadlineOverdue { .. }
    ) {
        return Err(ApiError::forbidden(
            "deadline events are raised by the scheduler",
        ));
    }
    let o = load_visible(&state, &auth, id).await?;
    let after = state
        .store
        .execute(
            o.id,
            version,
            &auth.actor(),
            &cmd,
            reason.as_deref(),
            Utc::now(),
        )
        .await?;
    Ok(axum::Json(
        present::order_detail(&state, &after, &auth).await?,
    ))
}

/// Uploads a photo or document (multipart field `file`).
#[utoipa::path(post, path = "/api/orders/{id}/attachments", tag = "orders", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", content = Object), responses((status = 201), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> ApiResult<impl IntoResponse> {
    let o = load_visible(&state, &auth, id).await?;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("multipart: {e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_string();
        let ct = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes: Bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("upload: {e}")))?;
        let (att, _) = state
            .store
            .save_attachment(
                o.id,
                &name,
                &ct,
                &bytes,
                &auth.actor(),
                &state.settings.attachments,
            )
            .await?;
        return Ok((StatusCode::CREATED, axum::Json(json!(att))));
    }
    Err(ApiError::bad_request("multipart field \"file\" is missing"))
}

#[utoipa::path(get, path = "/api/attachments/{id}", tag = "orders", params(("id" = i64, Path)), responses((status = 200, description = "The file")))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let att = state.store.attachment(id).await?;
    if let Some(oid) = att.order_id {
        load_visible(&state, &auth, oid.0).await?;
    } else {
        auth.require_centre()?;
    }
    let bytes = state.store.read_attachment(&att).await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        att.name
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, att.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    pub category_id: Option<i64>,
    pub district_id: Option<i64>,
}

/// The department routing rules suggest for a category in a district.
#[utoipa::path(get, path = "/api/routing/suggest", tag = "orders", params(SuggestQuery), responses((status = 200)))]
pub async fn suggest(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<SuggestQuery>,
) -> axum::Json<Value> {
    let snap = state.store.snapshot();
    let d = snap.suggest_department(
        q.category_id.map(CategoryId),
        q.district_id.map(DepartmentId),
    );
    axum::Json(json!({
        "department_id": d,
        "department_name": d.map(|d| snap.org.name(d)),
    }))
}

/// Orders by status and light; overdue clocks counted separately.
#[utoipa::path(get, path = "/api/stats/orders", tag = "orders", responses((status = 200)))]
pub async fn stats(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Value>> {
    auth.require_centre()?;
    Ok(axum::Json(json!(
        state.store.order_stats(Utc::now()).await?
    )))
}
