//! Health and Prometheus metrics, outside `/api`.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    match state.store.order_stats(Utc::now()).await {
        Ok(s) => {
            let _ = writeln!(out, "# HELP rexian_orders Work orders by status.");
            let _ = writeln!(out, "# TYPE rexian_orders gauge");
            for (k, v) in &s.by_status {
                let _ = writeln!(out, "rexian_orders{{status=\"{k}\"}} {v}");
            }
            let _ = writeln!(out, "# HELP rexian_orders_light Open orders by the worst light of their running clocks.");
            let _ = writeln!(out, "# TYPE rexian_orders_light gauge");
            for (k, v) in &s.by_light {
                let _ = writeln!(out, "rexian_orders_light{{light=\"{k}\"}} {v}");
            }
            let _ = writeln!(
                out,
                "# HELP rexian_orders_overdue Overdue running clocks by clock."
            );
            let _ = writeln!(out, "# TYPE rexian_orders_overdue gauge");
            for (k, v) in &s.overdue_by_clock {
                let _ = writeln!(out, "rexian_orders_overdue{{clock=\"{k}\"}} {v}");
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: order stats failed"),
    }
    state.metrics.render_requests(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
