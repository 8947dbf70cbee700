//! Administration: organisation, users, categories, routing and deadline
//! rules, the business calendar, the audit log. Reads are open to signed-in
//! staff where the desk needs them; writes are the administrator's.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Json, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, put};
use axum::Router;
use chrono::{DateTime, Utc};
use rexian_core::deadline::DeadlineRule;
use rexian_core::ids::{CategoryId, DepartmentId, UserId};
use rexian_core::org::Role;
use rexian_store::{CategoryInput, DepartmentInput, UserInput};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/departments", get(departments).post(create_department))
        .route("/departments/{id}", patch(update_department))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/categories", get(categories).post(create_category))
        .route("/categories/{id}", patch(update_category))
        .route(
            "/routing-rules",
            get(routing_rules).post(create_routing_rule),
        )
        .route("/routing-rules/{id}", delete(delete_routing_rule))
        .route(
            "/deadline-rules",
            get(deadline_rules).put(put_deadline_rules),
        )
        .route("/calendar", get(calendar))
        .route("/calendar/years/{year}", put(put_calendar_year))
        .route("/calendar/hours", put(put_hours))
        .route("/calendar/deadline", get(deadline_calc))
        .route("/audit", get(audit))
}

fn admin(auth: &Auth) -> ApiResult<()> {
    auth.require(&[Role::Admin])
}

#[utoipa::path(get, path = "/api/departments", tag = "admin", responses((status = 200)))]
pub async fn departments(State(state): State<AppState>, _auth: Auth) -> axum::Json<Value> {
    let snap = state.store.snapshot();
    let mut list: Vec<_> = snap.org.all().cloned().collect();
    list.sort_by(|a, b| a.path.cmp(&b.path));
    axum::Json(json!(list))
}

#[utoipa::path(post, path = "/api/departments", tag = "admin", request_body = Object, responses((status = 201)))]
pub async fn create_department(
    State(state): State<AppState>,
    auth: Auth,
    Json(input): Json<DepartmentInput>,
) -> ApiResult<impl IntoResponse> {
    admin(&auth)?;
    let id = state.store.create_department(&input).await?;
    state
        .audit(
            &auth,
            "department_created",
            &format!("department:{id}"),
            Some(&input.name),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!(state.store.snapshot().org.get(id))),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NamedUpdate {
    pub name: Option<String>,
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/departments/{id}", tag = "admin", params(("id" = i64, Path)), request_body = NamedUpdate, responses((status = 200)))]
pub async fn update_department(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(u): Json<NamedUpdate>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    state
        .store
        .update_department(DepartmentId(id), u.name.as_deref(), u.active)
        .await?;
    state
        .audit(
            &auth,
            "department_updated",
            &format!("department:{id}"),
            None,
        )
        .await?;
    Ok(axum::Json(json!(state
        .store
        .snapshot()
        .org
        .get(DepartmentId(id)))))
}

#[utoipa::path(get, path = "/api/users", tag = "admin", responses((status = 200)))]
pub async fn users(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Value>> {
    auth.require(&[Role::Admin, Role::ShiftLead])?;
    Ok(axum::Json(json!(state.store.users().await?)))
}

#[utoipa::path(post, path = "/api/users", tag = "admin", request_body = Object, responses((status = 201)))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    Json(input): Json<UserInput>,
) -> ApiResult<impl IntoResponse> {
    admin(&auth)?;
    let u = state.store.create_user(&input).await?;
    state
        .audit(
            &auth,
            "user_created",
            &format!("user:{}", u.id),
            Some(u.role.as_str()),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!(u))))
}

#[derive(Deserialize, ToSchema)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    pub department_id: Option<i64>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UserUpdate, responses((status = 200)))]
pub async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(u): Json<UserUpdate>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    let user = state
        .store
        .update_user(
            UserId(id),
            u.display_name.as_deref(),
            u.role,
            u.department_id.map(DepartmentId),
            u.active,
            u.password.as_deref(),
        )
        .await?;
    state
        .store
        .audit(&auth.actor(), "user_updated", &format!("user:{id}"), None)
        .await?;
    Ok(axum::Json(json!(user)))
}

#[utoipa::path(get, path = "/api/categories", tag = "admin", responses((status = 200)))]
pub async fn categories(State(state): State<AppState>, _auth: Auth) -> axum::Json<Value> {
    let snap = state.store.snapshot();
    let mut list: Vec<Value> = snap
        .categories
        .all()
        .map(|c| {
            let mut v = json!(c);
            v["full_name"] = json!(snap.categories.full_name(c.id));
            v
        })
        .collect();
    list.sort_by(|a, b| a["full_name"].as_str().cmp(&b["full_name"].as_str()));
    axum::Json(json!(list))
}

#[utoipa::path(post, path = "/api/categories", tag = "admin", request_body = Object, responses((status = 201)))]
pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    Json(input): Json<CategoryInput>,
) -> ApiResult<impl IntoResponse> {
    admin(&auth)?;
    let id = state.store.create_category(&input).await?;
    state
        .audit(
            &auth,
            "category_created",
            &format!("category:{id}"),
            Some(&input.name),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!(state.store.snapshot().categories.get(id))),
    ))
}

#[utoipa::path(patch, path = "/api/categories/{id}", tag = "admin", params(("id" = i64, Path)), request_body = NamedUpdate, responses((status = 200)))]
pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(u): Json<NamedUpdate>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    state
        .store
        .update_category(CategoryId(id), u.name.as_deref(), u.active)
        .await?;
    Ok(axum::Json(json!(state
        .store
        .snapshot()
        .categories
        .get(CategoryId(id)))))
}

#[utoipa::path(get, path = "/api/routing-rules", tag = "admin", responses((status = 200)))]
pub async fn routing_rules(State(state): State<AppState>, _auth: Auth) -> axum::Json<Value> {
    axum::Json(json!(state.store.snapshot().routing))
}

#[derive(Deserialize, ToSchema)]
pub struct RoutingInput {
    pub category_id: i64,
    /// Omit for a city-wide rule.
    pub district_id: Option<i64>,
    pub department_id: i64,
}

#[utoipa::path(post, path = "/api/routing-rules", tag = "admin", request_body = RoutingInput, responses((status = 201)))]
pub async fn create_routing_rule(
    State(state): State<AppState>,
    auth: Auth,
    Json(r): Json<RoutingInput>,
) -> ApiResult<impl IntoResponse> {
    admin(&auth)?;
    let rule = state
        .store
        .put_routing_rule(
            CategoryId(r.category_id),
            r.district_id.map(DepartmentId),
            DepartmentId(r.department_id),
        )
        .await?;
    state
        .audit(
            &auth,
            "routing_rule_set",
            &format!("routing_rule:{}", rule.id),
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!(rule))))
}

#[utoipa::path(delete, path = "/api/routing-rules/{id}", tag = "admin", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn delete_routing_rule(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    state.store.delete_routing_rule(id).await?;
    state
        .audit(
            &auth,
            "routing_rule_deleted",
            &format!("routing_rule:{id}"),
            None,
        )
        .await?;
    Ok(axum::Json(json!({"ok": true})))
}

#[utoipa::path(get, path = "/api/deadline-rules", tag = "admin", responses((status = 200)))]
pub async fn deadline_rules(State(state): State<AppState>, _auth: Auth) -> axum::Json<Value> {
    let snap = state.store.snapshot();
    axum::Json(
        json!({"rules": snap.deadlines.rules, "yellow_percent": snap.deadlines.yellow_percent}),
    )
}

#[derive(Deserialize, ToSchema)]
pub struct DeadlineRulesInput {
    pub rules: Vec<DeadlineRule>,
    pub yellow_percent: u8,
}

/// Replaces the deadline rules (category × urgency → sign, reply, callback spans).
#[utoipa::path(put, path = "/api/deadline-rules", tag = "admin", request_body = DeadlineRulesInput, responses((status = 200)))]
pub async fn put_deadline_rules(
    State(state): State<AppState>,
    auth: Auth,
    Json(d): Json<DeadlineRulesInput>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    state
        .store
        .replace_deadline_rules(&d.rules, d.yellow_percent)
        .await?;
    state
        .audit(&auth, "deadline_rules_replaced", "deadline_rules", None)
        .await?;
    Ok(deadline_rules(State(state), auth).await)
}

/// Working hours, time zone, loaded years and their holidays and 调休 days.
#[utoipa::path(get, path = "/api/calendar", tag = "admin", responses((status = 200)))]
pub async fn calendar(State(state): State<AppState>, _auth: Auth) -> axum::Json<Value> {
    let snap = state.store.snapshot();
    let cal = &snap.calendar;
    let years: Vec<Value> = cal
        .years()
        .into_iter()
        .map(|y| {
            let days: Vec<Value> = cal
                .year_entries(y)
                .into_iter()
                .map(|(d, kind, name)| json!({"date": d, "kind": kind, "name": name}))
                .collect();
            json!({"year": y, "days": days})
        })
        .collect();
    axum::Json(json!({
        "time_zone": cal.tz().name(),
        "hours": cal.hours(),
        "minutes_per_day": cal.minutes_per_day(),
        "years": years,
    }))
}

/// Loads or replaces a year of holidays and adjusted working days; the body
/// is the TOML of `calendars/cn-2026.toml`.
#[utoipa::path(put, path = "/api/calendar/years/{year}", tag = "admin", params(("year" = i32, Path)),
    request_body(content = String, content_type = "application/toml"), responses((status = 200), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_calendar_year(
    State(state): State<AppState>,
    auth: Auth,
    Path(year): Path<i32>,
    body: String,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    let loaded = state.store.put_calendar_year(&body).await?;
    if loaded != year {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("the file is for {loaded}, not {year}"),
        ));
    }
    state
        .audit(
            &auth,
            "calendar_year_loaded",
            &format!("calendar:{year}"),
            None,
        )
        .await?;
    Ok(axum::Json(json!({"year": loaded})))
}

#[derive(Deserialize, ToSchema)]
pub struct HoursInput {
    pub time_zone: String,
    /// e.g. [["09:00","12:00"],["13:00","18:00"]]
    pub hours: Vec<(String, String)>,
}

#[utoipa::path(put, path = "/api/calendar/hours", tag = "admin", request_body = HoursInput, responses((status = 200)))]
pub async fn put_hours(
    State(state): State<AppState>,
    auth: Auth,
    Json(h): Json<HoursInput>,
) -> ApiResult<axum::Json<Value>> {
    admin(&auth)?;
    state
        .store
        .set_working_hours(&h.time_zone, &h.hours)
        .await?;
    state
        .store
        .audit(&auth.actor(), "working_hours_set", "calendar", None)
        .await?;
    Ok(calendar(State(state), auth).await)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineCalc {
    /// Start (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// A span such as `30m`, `2h`, `5d`.
    pub span: String,
}

/// When a span of working time starting at `from` ends, on the business calendar.
#[utoipa::path(get, path = "/api/calendar/deadline", tag = "admin", params(DeadlineCalc), responses((status = 200)))]
pub async fn deadline_calc(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<DeadlineCalc>,
) -> ApiResult<axum::Json<Value>> {
    let span = rexian_core::deadline::WorkSpan::parse(&q.span).map_err(ApiError::bad_request)?;
    let snap = state.store.snapshot();
    let from = q.from.unwrap_or_else(Utc::now);
    let due = snap
        .calendar
        .add_working_minutes(from, span.minutes(&snap.calendar));
    Ok(axum::Json(json!({
        "from": from.with_timezone(&snap.calendar.tz()).to_rfc3339(),
        "due": due.with_timezone(&snap.calendar.tz()).to_rfc3339(),
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/audit", tag = "admin", params(AuditQuery), responses((status = 200)))]
pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Value>> {
    auth.require(&[Role::Admin, Role::Supervisor])?;
    Ok(axum::Json(json!(
        state
            .store
            .audit_entries(
                q.action.as_deref(),
                q.target.as_deref(),
                q.limit.unwrap_or(100)
            )
            .await?
    )))
}
