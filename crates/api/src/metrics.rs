//! Prometheus metrics: request counts and latency histograms per route, and
//! (at scrape time) orders by state and light.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.requests.lock() {
            let s = m
                .entry((method.to_string(), route.to_string(), status))
                .or_default();
            s.count += 1;
            s.sum += secs;
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    pub fn render_requests(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP rexian_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE rexian_http_requests_total counter");
        let Ok(m) = self.requests.lock() else { return };
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(out, "rexian_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}", s.count);
        }
        let _ = writeln!(
            out,
            "# HELP rexian_http_request_duration_seconds Request latency."
        );
        let _ = writeln!(out, "# TYPE rexian_http_request_duration_seconds histogram");
        let mut merged: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((method, route, _), s) in m.iter() {
            let e = merged.entry((method.clone(), route.clone())).or_default();
            e.count += s.count;
            e.sum += s.sum;
            for i in 0..BUCKETS.len() {
                e.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in merged {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "rexian_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "rexian_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "rexian_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "rexian_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only standard methods get a label of their own: a client inventing
    // methods must not grow the series without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}
