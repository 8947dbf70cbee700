//! Who is calling: a session cookie (browsers, with a CSRF token on writes)
//! or a bearer token (API clients). Roles are checked by the handlers and,
//! for order commands, by `core`.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use chrono::Utc;
use rexian_core::org::{Actor, Role};
use rexian_store::{AuthSession, User};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "rexian_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    /// `session` or `api`.
    pub kind: String,
    pub token: String,
}

impl Auth {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
    pub fn role(&self) -> Role {
        self.user.role
    }
    pub fn is_centre(&self) -> bool {
        self.user.role.is_centre()
    }
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not do this",
                self.user.role.as_str()
            )))
        }
    }
    pub fn require_centre(&self) -> ApiResult<()> {
        if self.is_centre() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only hotline centre staff may do this"))
        }
    }
}

/// Sessions looked up in the last few seconds, so a busy client does not
/// cost a database read per request. Logouts here evict at once; elsewhere
/// within [`SessionCache::TTL`].
#[derive(Default)]
pub struct SessionCache {
    map: Mutex<HashMap<String, (Instant, AuthSession)>>,
}

impl SessionCache {
    const TTL: Duration = Duration::from_secs(5);

    fn get(&self, token: &str) -> Option<AuthSession> {
        let map = self.map.lock().ok()?;
        map.get(token)
            .filter(|(t, s)| t.elapsed() < Self::TTL && s.expires_at > Utc::now())
            .map(|(_, s)| s.clone())
    }

    fn put(&self, token: &str, s: AuthSession) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (t, _)| t.elapsed() < Self::TTL);
            }
            map.insert(token.to_string(), (Instant::now(), s));
        }
    }

    pub fn evict(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(token);
        }
    }
}

pub fn cookie_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, from_cookie) = match bearer_token(parts) {
            Some(t) => (t, false),
            None => match cookie_token(parts) {
                Some(t) => (t, true),
                None => return Err(ApiError::unauthenticated()),
            },
        };
        let session = match state.sessions.get(&token) {
            Some(s) => s,
            None => {
                let s = state
                    .store
                    .session(&token, Utc::now())
                    .await?
                    .ok_or_else(ApiError::unauthenticated)?;
                state.sessions.put(&token, s.clone());
                s
            }
        };
        // A cookie is sent by the browser on its own: writes must also carry
        // the CSRF token the login returned, which another site cannot read.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if from_cookie && !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != session.csrf {
                let mut e = ApiError::forbidden("missing or wrong X-CSRF-Token header");
                e.code = "csrf_failed";
                return Err(e);
            }
        }
        Ok(Auth {
            user: session.user,
            kind: session.kind,
            token,
        })
    }
}
