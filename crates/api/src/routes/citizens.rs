//! Citizens (CRM): profiles, tags, timeline, search, CSV import/export and
//! the blacklist/VIP lists. Centre staff only: department staff never see
//! citizens' personal data outside the orders routed to them.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Json, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use rexian_core::citizen::CitizenTag;
use rexian_core::org::Role;
use rexian_core::values::PhoneNumber;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/citizens", get(search))
        .route("/citizens/export.csv", get(export))
        .route(
            "/citizens/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024)),
        )
        .route("/citizens/{phone}", get(one).put(put))
        .route("/citizens/{phone}/timeline", get(timeline))
        .route("/citizens/{phone}/tags", post(add_tag))
        .route("/citizens/{phone}/tags/{tag}", delete(remove_tag))
        .route("/lists/{tag}", get(list_tag))
}

fn phone(p: &str) -> ApiResult<PhoneNumber> {
    Ok(PhoneNumber::parse(p)?)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name, phone number or address.
    pub q: String,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/citizens", tag = "citizens", params(SearchQuery), responses((status = 200)))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<Value>> {
    auth.require_centre()?;
    Ok(axum::Json(json!(
        state
            .store
            .search_citizens(&q.q, q.limit.unwrap_or(20))
            .await?
    )))
}

#[utoipa::path(get, path = "/api/citizens/{phone}", tag = "citizens", params(("phone" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    Path(p): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require_centre()?;
    Ok(axum::Json(json!(state.store.citizen(&phone(&p)?).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct CitizenInput {
    pub name: Option<String>,
    pub addresses: Option<Vec<String>>,
    pub note: Option<String>,
}

#[utoipa::path(put, path = "/api/citizens/{phone}", tag = "citizens", params(("phone" = String, Path)), request_body = CitizenInput, responses((status = 200)))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Path(p): Path<String>,
    Json(c): Json<CitizenInput>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(&[
        Role::Agent,
        Role::ShiftLead,
        Role::Dispatcher,
        Role::CallbackAgent,
        Role::Admin,
    ])?;
    let out = state
        .store
        .put_citizen(
            &phone(&p)?,
            c.name.as_deref(),
            c.addresses.as_deref(),
            c.note.as_deref(),
        )
        .await?;
    Ok(axum::Json(json!(out)))
}

#[utoipa::path(get, path = "/api/citizens/{phone}/timeline", tag = "citizens", params(("phone" = String, Path)), responses((status = 200)))]
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(p): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require_centre()?;
    Ok(axum::Json(json!(
        state.store.timeline(&phone(&p)?, 200).await?
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct TagInput {
    pub tag: String,
    /// Required for `blacklist`.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/citizens/{phone}/tags", tag = "citizens", params(("phone" = String, Path)), request_body = TagInput, responses((status = 200)))]
pub async fn add_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(p): Path<String>,
    Json(t): Json<TagInput>,
) -> ApiResult<axum::Json<Value>> {
    let tag = CitizenTag::parse(&t.tag)?;
    tag_permission(&auth, &tag)?;
    Ok(axum::Json(json!(
        state
            .store
            .set_citizen_tag(&phone(&p)?, &tag, &auth.actor(), t.reason.as_deref())
            .await?
    )))
}

/// Blacklist and VIP decide how calls are routed: shift leads and
/// administrators set them; agents the descriptive tags.
fn tag_permission(auth: &Auth, tag: &CitizenTag) -> ApiResult<()> {
    if matches!(tag.as_str(), CitizenTag::BLACKLIST | CitizenTag::VIP) {
        auth.require(&[Role::ShiftLead, Role::Admin, Role::Dispatcher])
    } else {
        auth.require(&[
            Role::Agent,
            Role::ShiftLead,
            Role::Dispatcher,
            Role::CallbackAgent,
            Role::Admin,
        ])
    }
}

#[utoipa::path(delete, path = "/api/citizens/{phone}/tags/{tag}", tag = "citizens", params(("phone" = String, Path), ("tag" = String, Path)), responses((status = 200)))]
pub async fn remove_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path((p, t)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let tag = CitizenTag::parse(&t)?;
    tag_permission(&auth, &tag)?;
    Ok(axum::Json(json!(
        state
            .store
            .remove_citizen_tag(&phone(&p)?, &tag, &auth.actor())
            .await?
    )))
}

/// Numbers carrying a tag, e.g. `/api/lists/blacklist`, `/api/lists/vip`.
#[utoipa::path(get, path = "/api/lists/{tag}", tag = "citizens", params(("tag" = String, Path)), responses((status = 200)))]
pub async fn list_tag(
    State(state): State<AppState>,
    auth: Auth,
    Path(t): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    auth.require_centre()?;
    Ok(axum::Json(json!(
        state.store.tagged(&CitizenTag::parse(&t)?).await?
    )))
}

#[utoipa::path(get, path = "/api/citizens/export.csv", tag = "citizens", responses((status = 200, content_type = "text/csv")))]
pub async fn export(State(state): State<AppState>, auth: Auth) -> ApiResult<impl IntoResponse> {
    auth.require(&[Role::Admin, Role::ShiftLead])?;
    let csv = state.store.export_citizens_csv().await?;
    state
        .store
        .audit(&auth.actor(), "citizens_exported", "citizens", None)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"citizens.csv\"",
            ),
        ],
        csv,
    ))
}

/// CSV with columns phone,name,addresses,tags,note; one bad line rejects the whole file.
#[utoipa::path(post, path = "/api/citizens/import", tag = "citizens", request_body(content = String, content_type = "text/csv"), responses((status = 200), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    body: String,
) -> ApiResult<axum::Json<Value>> {
    auth.require(&[Role::Admin, Role::ShiftLead])?;
    if body.len() > 20 * 1024 * 1024 {
        return Err(ApiError::bad_request("CSV larger than 20 MiB"));
    }
    let n = state
        .store
        .import_citizens_csv(&body, &auth.actor())
        .await?;
    Ok(axum::Json(json!({"imported": n})))
}
