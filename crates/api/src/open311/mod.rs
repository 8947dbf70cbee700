//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>), nested
//! at `/open311/v2`: services are the active categories, service requests
//! are work orders. Every resource answers in JSON or XML by its extension
//! (`services.json`, `requests/2026010100001.xml`), and every error, down to
//! an unknown path or a malformed form body, in the spec's error format.
//!
//! | resource                | method |                                      |
//! |-------------------------|--------|--------------------------------------|
//! | `services.{fmt}`        | GET    | service list                         |
//! | `services/{code}.{fmt}` | GET    | service definition (no attributes)   |
//! | `requests.{fmt}`        | POST   | create (needs an `open311` api_key)  |
//! | `requests.{fmt}`        | GET    | query requests                       |
//! | `requests/{id}.{fmt}`   | GET    | one request (an array of one)        |
//! | `tokens/{token}.{fmt}`  | GET    | the service_request_id of a token    |

mod create;
mod error;
mod format;
mod params;
mod requests;
mod services;

use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, Method, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use error::{Open311Error, Open311Result};
use format::{Doc, Format};
use params::Params;

/// The largest POST body read (descriptions are limited to 4,000 characters).
const BODY_LIMIT: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{file}", any(top))
        .route("/services/{file}", any(service_definition))
        .route("/requests/{file}", any(one_request))
        .route("/tokens/{file}", any(token))
        .fallback(fallback)
}

type FileParam = Result<Path<String>, PathRejection>;

/// `"requests.json"` → `("requests", Json)`; `None` for an unusable path.
fn resource(file: FileParam) -> Option<(String, Format)> {
    let Path(file) = file.ok()?;
    format::split_ext(&file).map(|(stem, fmt)| (stem.to_string(), fmt))
}

fn no_resource(uri: &Uri) -> Response {
    Open311Error::not_found("no such Open311 resource (the path must end in .json or .xml)")
        .render(Format::guess(uri.path()))
}

fn reply(fmt: Format, result: Open311Result<Doc>) -> Response {
    match result {
        Ok(doc) => doc.respond(fmt, axum::http::StatusCode::OK),
        Err(e) => e.render(fmt),
    }
}

fn is_read(m: &Method) -> bool {
    m == Method::GET || m == Method::HEAD
}

/// "Implementations can ignore this parameter … if the implementation only
/// serves one jurisdiction": a missing one is fine, a different one is not.
fn check_jurisdiction(st: &AppState, p: &Params) -> Open311Result<()> {
    match p.get("jurisdiction_id") {
        Some(j) if !j.eq_ignore_ascii_case(&st.settings.jurisdiction_id) => Err(
            Open311Error::not_found(format!("jurisdiction_id {j} was not found")),
        ),
        _ => Ok(()),
    }
}

/// The query parameters of a GET, with the jurisdiction checked.
fn query(st: &AppState, req: &Request) -> Open311Result<Params> {
    let p = Params::parse(req.uri().query().unwrap_or("").as_bytes())?;
    check_jurisdiction(st, &p)?;
    Ok(p)
}

async fn top(State(st): State<AppState>, file: FileParam, req: Request) -> Response {
    let Some((stem, fmt)) = resource(file) else {
        return no_resource(req.uri());
    };
    let read = is_read(req.method());
    let post = req.method() == Method::POST;
    let result = match stem.as_str() {
        "services" if read => query(&st, &req).map(|_| services::list(&st.store.snapshot())),
        "requests" if read => match query(&st, &req) {
            Ok(p) => requests::list(&st, &p).await,
            Err(e) => Err(e),
        },
        "requests" if post => post_request(&st, req).await,
        "services" | "requests" => Err(Open311Error::method_not_allowed()),
        _ => Err(Open311Error::not_found(format!(
            "no Open311 resource {stem}"
        ))),
    };
    reply(fmt, result)
}

/// Parameters come from the form body (`application/x-www-form-urlencoded`)
/// and, for clients that send some of them there, the query string; the
/// body wins where both have one.
async fn post_request(st: &AppState, req: Request) -> Open311Result<Doc> {
    let idempotency_key = match req.headers().get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Open311Error::bad_request("Idempotency-Key must be printable ASCII"))?
                .to_string(),
        ),
    };
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let form = ct
            .to_str()
            .map(|s| {
                s.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
            .unwrap_or(false);
        if !form {
            return Err(Open311Error::bad_request(
                "send the request as Content-Type: application/x-www-form-urlencoded",
            ));
        }
    }
    let mut p = Params::parse(req.uri().query().unwrap_or("").as_bytes())?;
    let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| {
            Open311Error::bad_request("the request body is too large or could not be read")
        })?;
    p.extend(Params::parse(&body)?);
    check_jurisdiction(st, &p)?;
    create::create(st, &p, idempotency_key.as_deref()).await
}

async fn service_definition(State(st): State<AppState>, file: FileParam, req: Request) -> Response {
    let Some((code, fmt)) = resource(file) else {
        return no_resource(req.uri());
    };
    let result = if is_read(req.method()) {
        query(&st, &req).and_then(|_| services::definition(&st.store.snapshot(), &code))
    } else {
        Err(Open311Error::method_not_allowed())
    };
    reply(fmt, result)
}

async fn one_request(State(st): State<AppState>, file: FileParam, req: Request) -> Response {
    let Some((id, fmt)) = resource(file) else {
        return no_resource(req.uri());
    };
    let result = if !is_read(req.method()) {
        Err(Open311Error::method_not_allowed())
    } else {
        match query(&st, &req) {
            Ok(_) => requests::one(&st, &id).await,
            Err(e) => Err(e),
        }
    };
    reply(fmt, result)
}

async fn token(State(st): State<AppState>, file: FileParam, req: Request) -> Response {
    let Some((token, fmt)) = resource(file) else {
        return no_resource(req.uri());
    };
    let result = if !is_read(req.method()) {
        Err(Open311Error::method_not_allowed())
    } else {
        match query(&st, &req) {
            Ok(_) => requests::token(&st, &token).await,
            Err(e) => Err(e),
        }
    };
    reply(fmt, result)
}

async fn fallback(uri: Uri) -> Response {
    Open311Error::not_found("no such Open311 resource").render(Format::guess(uri.path()))
}
