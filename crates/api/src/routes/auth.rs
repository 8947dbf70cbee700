//! Login (password → session cookie + CSRF token, or bearer token), logout,
//! who-am-I and API tokens.

use crate::auth::{Auth, CSRF_HEADER, SESSION_COOKIE};
use crate::error::ApiResult;
use crate::extract::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/tokens", post(create_token))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token (also set as the session cookie).
    pub token: String,
    /// Send as `X-CSRF-Token` on writes authenticated by the cookie.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub user: serde_json::Value,
}

fn user_json(u: &rexian_store::User, state: &AppState) -> serde_json::Value {
    let snap = state.store.snapshot();
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "role_label": u.role.label_zh(),
        "department_id": u.department_id,
        "department_name": snap.org.name(u.department_id),
    })
}

/// Password login. Five failures in a row lock the account for 15 minutes.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody), (status = 423, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let (token, session) = state
        .store
        .login(&req.username, &req.password, Utc::now())
        .await?;
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        (session.expires_at - Utc::now()).num_seconds().max(0)
    );
    let mut headers = HeaderMap::new();
    if let Ok(v) = cookie.parse() {
        headers.insert(SET_COOKIE, v);
    }
    if let Ok(v) = session.csrf.parse() {
        headers.insert(CSRF_HEADER, v);
    }
    let body = LoginResponse {
        token,
        csrf_token: session.csrf.clone(),
        expires_at: session.expires_at,
        user: user_json(&session.user, &state),
    };
    Ok((headers, axum::Json(body)))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 200)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<impl IntoResponse> {
    state.store.logout(&auth.token).await?;
    state.sessions.evict(&auth.token);
    let mut headers = HeaderMap::new();
    if let Ok(v) = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0").parse() {
        headers.insert(SET_COOKIE, v);
    }
    Ok((headers, axum::Json(json!({"ok": true}))))
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> axum::Json<serde_json::Value> {
    axum::Json(user_json(&auth.user, &state))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub label: String,
    /// Validity in days (1–3650, default 90).
    pub days: Option<i64>,
}

/// A long-lived bearer token acting as the caller, for API clients.
#[utoipa::path(post, path = "/api/auth/tokens", tag = "auth", request_body = TokenRequest, responses((status = 200)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<TokenRequest>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let days = req.days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(crate::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "days must be 1 to 3650",
        ));
    }
    let (token, s) = state
        .store
        .create_api_token(auth.user.id, &req.label, days)
        .await?;
    Ok(axum::Json(
        json!({"token": token, "expires_at": s.expires_at}),
    ))
}
