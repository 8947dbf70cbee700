//! The JSON API under `/api`, one module per resource.

pub mod admin;
pub mod auth;
pub mod citizens;
pub mod orders;
pub mod system;

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(orders::router())
        .merge(admin::router())
        .merge(citizens::router())
        .merge(crate::openapi::router())
}
