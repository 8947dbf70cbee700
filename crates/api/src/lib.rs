//! The HTTP face of Rexian: the JSON API (with its OpenAPI document), Open311
//! GeoReport v2, health and metrics, and the deadline scheduler that runs
//! beside them.

pub mod auth;
pub mod error;
mod extract;
mod metrics;
pub mod open311;
mod openapi;
pub mod present;
mod routes;
mod scheduler;
mod serve;

use auth::SessionCache;
use axum::Router;
use rexian_store::{AttachmentLimits, Store};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use metrics::Metrics;

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    pub attachments: AttachmentLimits,
    /// Open311 `jurisdiction_id` this server answers for.
    pub jurisdiction_id: String,
    /// How often the scheduler looks for due deadline events; `None` disables it.
    pub scheduler_interval: Option<Duration>,
    /// How often the configuration snapshot is re-read (changes made on other nodes).
    pub config_refresh: Duration,
    /// A connection must send its request head within this time.
    pub header_timeout: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            attachments: AttachmentLimits::default(),
            jurisdiction_id: "rexian.demo".into(),
            scheduler_interval: Some(Duration::from_secs(1)),
            config_refresh: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<ApiSettings>,
    pub metrics: Arc<Metrics>,
    pub sessions: Arc<SessionCache>,
}

impl AppState {
    pub fn new(store: Store, settings: ApiSettings) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            sessions: Arc::new(SessionCache::default()),
        }
    }
}

impl AppState {
    /// Records an administrative action of the caller in the audit log.
    pub async fn audit(
        &self,
        auth: &auth::Auth,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> error::ApiResult<()> {
        Ok(self
            .store
            .audit(&auth.actor(), action, target, detail)
            .await?)
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/api", routes::router(&state.settings))
        .nest("/open311/v2", open311::router())
        .merge(routes::system::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(catch_panic))
        .with_state(state)
}

/// A bug that panics in a handler answers 500 with our JSON error instead
/// of dropping the connection.
async fn catch_panic(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => error::ApiError::internal("a request handler panicked").into_response(),
    }
}

/// Serves on `listener` until `shutdown` resolves, with the scheduler and the
/// configuration refresher running beside it. The test entry point.
pub async fn launch_with_listener(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut background = vec![];
    if let Some(every) = state.settings.scheduler_interval {
        background.push(tokio::spawn(scheduler::run(
            state.store.clone(),
            every,
            stop_rx.clone(),
        )));
    }
    background.push(tokio::spawn(scheduler::refresh_config(
        state.store.clone(),
        state.settings.config_refresh,
        stop_rx,
    )));
    let header_timeout = state.settings.header_timeout;
    let app = router(state);
    let result = serve::serve(listener, app, header_timeout, shutdown).await;
    let _ = stop_tx.send(true);
    for b in background {
        let _ = b.await;
    }
    result
}
