//! The JSON API under `/api`, one module per resource.

pub mod admin;
pub mod auth;
pub mod citizens;
pub mod orders;
pub mod system;

use crate::error::ApiError;
use crate::{ApiSettings, AppState};
use axum::http::StatusCode;
use axum::Router;

pub fn router(settings: &ApiSettings) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(orders::router(settings.attachments.max_bytes))
        .merge(admin::router())
        .merge(citizens::router())
        .merge(crate::openapi::router())
        .fallback(|| async { ApiError::not_found("this API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
}
