//! Open311 GeoReport v2 at `/open311/v2`: services, service definitions,
//! creating and querying requests, tokens, and the spec's error format in
//! both JSON and XML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{spawn_app, TestApp, OPEN311_KEY};
use rexian_core::ids::UserId;
use rexian_core::order::{Caller, Channel, OrderFields, OrderType, Status, Urgency};
use rexian_core::org::{Actor, Role};
use rexian_core::values::{CaseNumber, PhoneNumber};
use rexian_store::NewOrder;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const XML_DECL: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

// ---------------------------------------------------------------------------
// The shipped JSON Schemas (open311-georeport-v2: service.json,
// service-definition.json, request.json), transcribed without descriptions,
// and just enough of a validator for them.
// ---------------------------------------------------------------------------

fn str_or_null() -> Value {
    json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
}

fn service_schema() -> Value {
    json!({
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string"},
            "service_name": {"type": "string"},
            "description": str_or_null(),
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": str_or_null(),
            "group": str_or_null()
        }
    })
}

fn service_definition_schema() -> Value {
    json!({
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {"type": "array", "items": {
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
                    "required": {"type": "boolean"}
                }
            }}
        }
    })
}

fn request_schema() -> Value {
    let dt_or_null =
        json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
    let num_or_null = json!({"anyOf": [{"type": "number"}, {"type": "null"}]});
    json!({
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": str_or_null(),
            "service_name": str_or_null(),
            "service_code": {"type": "string"},
            "description": {"anyOf": [{"type": "string", "maxLength": 4000}, {"type": "null"}]},
            "agency_responsible": str_or_null(),
            "service_notice": str_or_null(),
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": dt_or_null.clone(),
            "expected_datetime": dt_or_null,
            "address": str_or_null(),
            "address_id": str_or_null(),
            "zipcode": str_or_null(),
            "lat": num_or_null.clone(),
            "long": num_or_null,
            "media_url": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]}
        }
    })
}

/// Errors of `v` against the subset of JSON Schema the files above use.
fn validate(v: &Value, schema: &Value, at: &str) -> Vec<String> {
    let mut errs = vec![];
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        if alts.iter().all(|s| !validate(v, s, at).is_empty()) {
            errs.push(format!("{at}: {v} matches no alternative"));
        }
        return errs;
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            "null" => v.is_null(),
            other => panic!("schema type {other}"),
        };
        if !ok {
            errs.push(format!("{at}: {v} is not of type {t}"));
            return errs;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(v) {
            errs.push(format!("{at}: {v} not in {allowed:?}"));
        }
    }
    if let (Some(max), Some(s)) = (schema.get("maxLength").and_then(Value::as_u64), v.as_str()) {
        if s.chars().count() as u64 > max {
            errs.push(format!("{at}: longer than {max}"));
        }
    }
    match (schema.get("format").and_then(Value::as_str), v.as_str()) {
        (Some("date-time"), Some(s)) if DateTime::parse_from_rfc3339(s).is_err() => {
            errs.push(format!("{at}: {s} is not a date-time"));
        }
        (Some("uri"), Some(s)) if !s.contains("://") => {
            errs.push(format!("{at}: {s} is not a URI"))
        }
        _ => {}
    }
    if let Some(items) = schema.get("items") {
        for (i, x) in v.as_array().into_iter().flatten().enumerate() {
            errs.extend(validate(x, items, &format!("{at}[{i}]")));
        }
    }
    if schema.get("required").is_some() || schema.get("properties").is_some() {
        let Some(obj) = v.as_object() else {
            errs.push(format!("{at}: {v} is not an object"));
            return errs;
        };
        for r in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap()) {
                errs.push(format!("{at}: missing required {r}"));
            }
        }
        for (k, s) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(x) = obj.get(k) {
                errs.extend(validate(x, s, &format!("{at}.{k}")));
            }
        }
    }
    errs
}

fn assert_valid_list(v: &Value, item_schema: &Value) {
    let items = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    for (i, x) in items.iter().enumerate() {
        let errs = validate(x, item_schema, &format!("[{i}]"));
        assert!(errs.is_empty(), "{errs:?}");
    }
}

// ---------------------------------------------------------------------------
// A small XML reader: checks the declaration and that tags balance under one
// root, and returns every leaf element as (path, text); `None` for `<x/>`.
// ---------------------------------------------------------------------------

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        let (ent, ch) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&apos;", '\''),
        ]
        .into_iter()
        .find(|(e, _)| r.starts_with(e))
        .unwrap_or_else(|| panic!("bare & in {s:?}"));
        out.push(ch);
        rest = &r[ent.len()..];
    }
    out.push_str(rest);
    out
}

fn xml_leaves(xml: &str) -> Vec<(String, Option<String>)> {
    let body = xml
        .strip_prefix(XML_DECL)
        .unwrap_or_else(|| panic!("no XML declaration: {xml}"))
        .trim();
    let mut stack: Vec<String> = vec![];
    let mut out = vec![];
    let mut rest = body;
    let mut text = String::new();
    let mut leaf = false;
    let mut roots = 0;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('<') {
            let end = r.find('>').expect("unclosed tag");
            let tag = &r[..end];
            rest = &r[end + 1..];
            assert!(!tag.contains('<') && !tag.contains(' '), "odd tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("</{name}> closes nothing"));
                assert_eq!(open, name, "mismatched tags");
                if leaf {
                    let mut path = stack.clone();
                    path.push(open);
                    out.push((path.join("/"), Some(unescape(&text))));
                }
                leaf = false;
            } else if let Some(name) = tag.strip_suffix('/') {
                assert!(!stack.is_empty(), "empty root");
                let mut path = stack.clone();
                path.push(name.to_string());
                out.push((path.join("/"), None));
                leaf = false;
            } else {
                if stack.is_empty() {
                    roots += 1;
                }
                stack.push(tag.to_string());
                leaf = true;
            }
            text.clear();
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let t = &rest[..end];
            assert!(!t.contains('>'), "bare > in text {t:?}");
            assert!(
                !stack.is_empty() || t.trim().is_empty(),
                "text outside the root"
            );
            text.push_str(t);
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "one root element");
    out
}

/// Texts of the leaves at `path`.
fn xml_values(leaves: &[(String, Option<String>)], path: &str) -> Vec<String> {
    leaves
        .iter()
        .filter(|(p, _)| p == path)
        .map(|(_, t)| t.clone().unwrap_or_default())
        .collect()
}

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

fn v2(app: &TestApp, path: &str) -> String {
    app.url(&format!("/open311/v2/{path}"))
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = reqwest::get(v2(app, path)).await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let (s, ct, body) = get_text(app, path).await;
    assert_eq!(ct, "application/json; charset=utf-8", "{path}: {body}");
    (
        s,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
    )
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .post(v2(app, path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

/// A valid submission for `service_code`, with `extra` added or overriding.
fn form<'a>(service_code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("api_key", OPEN311_KEY),
        ("service_code", service_code),
        ("lat", "39.9042"),
        ("long", "116.4074"),
        ("description", "No water since 8am & the pipe <leaks>"),
    ];
    for (k, v) in extra {
        match f.iter_mut().take(5).find(|(x, _)| x == k) {
            Some(base) => base.1 = *v,
            None => f.push((*k, *v)),
        }
    }
    f
}

/// Creates a request through the API and returns its service_request_id.
async fn submit(app: &TestApp, service_code: &str, extra: &[(&str, &str)]) -> String {
    let (s, _, body) = post_form(app, "requests.json", &form(service_code, extra)).await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v[0]["service_request_id"].as_str().unwrap().to_string()
}

/// Asserts a spec error in `fmt` ("json" or "xml") with HTTP `status` and the same code in the body.
fn assert_error(status: u16, ct: &str, body: &str, want: u16, fmt: &str) {
    assert_eq!(status, want, "{body}");
    if fmt == "json" {
        assert_eq!(ct, "application/json; charset=utf-8");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let errs = v.as_array().expect("an array of errors");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0]["code"], json!(want));
        assert!(!errs[0]["description"].as_str().unwrap().is_empty());
        assert_eq!(errs[0].as_object().unwrap().len(), 2, "{body}");
    } else {
        assert_eq!(ct, "text/xml; charset=utf-8");
        let leaves = xml_leaves(body);
        assert_eq!(
            xml_values(&leaves, "errors/error/code"),
            vec![want.to_string()]
        );
        let d = xml_values(&leaves, "errors/error/description");
        assert_eq!(d.len(), 1);
        assert!(!d[0].is_empty());
        assert_eq!(leaves.len(), 2, "{body}");
    }
}

async fn expect_get_error(app: &TestApp, path: &str, want: u16) {
    let (s, ct, body) = get_text(app, path).await;
    let fmt = if path.split('?').next().unwrap().ends_with(".json") {
        "json"
    } else {
        "xml"
    };
    assert_error(s, &ct, &body, want, fmt);
}

async fn expect_post_error(app: &TestApp, fmt: &str, f: &[(&str, &str)], want: u16) {
    let (s, ct, body) = post_form(app, &format!("requests.{fmt}"), f).await;
    assert_error(s, &ct, &body, want, fmt);
}

/// Registers an order straight in the store (another channel), as an agent;
/// with an answer it is closed on the spot.
async fn store_order(
    app: &TestApp,
    f: impl FnOnce(&mut OrderFields),
    answer: Option<&str>,
) -> String {
    let mut fields = OrderFields {
        channel: Channel::Web,
        order_type: OrderType::Complaint,
        category_id: Some(app.roads_cat),
        urgency: Urgency::Normal,
        title: "pothole".into(),
        content: "pothole on the main road".into(),
        caller: Caller::default(),
        address: Some("1 Main Road".into()),
        district_id: None,
        street_id: None,
        location: None,
        tags: vec![],
        custom: Default::default(),
        call_id: None,
        external_ref: None,
    };
    f(&mut fields);
    let new = NewOrder {
        fields,
        answer: answer.map(str::to_string),
    };
    let agent = Actor::user(UserId(1), "agent", Role::Agent, app.centre);
    let (o, _) = app
        .store
        .create_order(&agent, new, None, Utc::now())
        .await
        .unwrap();
    o.case_number.to_string()
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

#[tokio::test]
async fn services_json_follow_the_schema() {
    let app = spawn_app().await;
    let (s, v) = get_json(&app, "services.json").await;
    assert_eq!(s, 200);
    assert_valid_list(&v, &service_schema());
    let codes: BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, BTreeSet::from(["roads", "water", "water.outage"]));
    let outage = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_code"] == "water.outage")
        .unwrap();
    assert_eq!(outage["service_name"], "停水");
    assert_eq!(outage["description"], "供水 / 停水");
    assert_eq!(outage["group"], "供水");
    assert_eq!(outage["metadata"], false);
    assert_eq!(outage["type"], "realtime");
    let roads = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_code"] == "roads")
        .unwrap();
    assert_eq!(roads["group"], "道路");

    // With our own jurisdiction it is the same list; another is not found.
    let (s, same) = get_json(&app, "services.json?jurisdiction_id=test.rexian").await;
    assert_eq!((s, &same), (200, &v));
    expect_get_error(&app, "services.json?jurisdiction_id=elsewhere.gov", 404).await;
    expect_get_error(&app, "services.xml?jurisdiction_id=elsewhere.gov", 404).await;
}

#[tokio::test]
async fn services_xml_is_well_formed() {
    let app = spawn_app().await;
    let (s, ct, body) = get_text(&app, "services.xml").await;
    assert_eq!(s, 200);
    assert_eq!(ct, "text/xml; charset=utf-8");
    let leaves = xml_leaves(&body);
    let codes: BTreeSet<String> = xml_values(&leaves, "services/service/service_code")
        .into_iter()
        .collect();
    assert_eq!(
        codes,
        BTreeSet::from(["roads".to_string(), "water".into(), "water.outage".into()])
    );
    assert_eq!(
        xml_values(&leaves, "services/service/metadata"),
        vec!["false"; 3]
    );
    assert_eq!(
        xml_values(&leaves, "services/service/type"),
        vec!["realtime"; 3]
    );
    assert!(
        xml_values(&leaves, "services/service/description").contains(&"供水 / 停水".to_string())
    );
}

#[tokio::test]
async fn service_definitions() {
    let app = spawn_app().await;
    let (s, v) = get_json(&app, "services/water.outage.json").await;
    assert_eq!(s, 200);
    assert!(validate(&v, &service_definition_schema(), "").is_empty());
    assert_eq!(v, json!({"service_code": "water.outage", "attributes": []}));

    let (s, ct, body) = get_text(&app, "services/water.outage.xml").await;
    assert_eq!((s, ct.as_str()), (200, "text/xml; charset=utf-8"));
    assert!(body.contains("<service_definition>"), "{body}");
    assert_eq!(
        xml_values(&xml_leaves(&body), "service_definition/service_code"),
        vec!["water.outage"]
    );

    expect_get_error(&app, "services/nope.json", 404).await;
    expect_get_error(&app, "services/nope.xml", 404).await;
    expect_get_error(
        &app,
        "services/water.json?jurisdiction_id=elsewhere.gov",
        404,
    )
    .await;
}

// ---------------------------------------------------------------------------
// Creating and reading requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_submission_becomes_a_work_order_and_reads_back() {
    let app = spawn_app().await;
    let f = form(
        "water.outage",
        &[
            ("jurisdiction_id", "test.rexian"),
            ("address_string", "12 Dongzhimen St"),
            ("address_id", "A-778"),
            ("first_name", "Ming"),
            ("last_name", "Li"),
            ("phone", "138-0013-8000"),
            ("email", "li.ming@example.org"),
            ("device_id", "dev-1"),
            ("account_id", "acct-9"),
            ("media_url", "https://example.org/photo.jpg"),
            ("attribute[FLOOR]", "3"),
            ("attribute[SIDES][]", "north"),
            ("attribute[SIDES][]", "east"),
        ],
    );
    let (s, ct, body) = post_form(&app, "requests.json", &f).await;
    assert_eq!(
        (s, ct.as_str()),
        (200, "application/json; charset=utf-8"),
        "{body}"
    );
    let created: Value = serde_json::from_str(&body).unwrap();
    let created = created.as_array().unwrap();
    assert_eq!(created.len(), 1);
    let id = created[0]["service_request_id"]
        .as_str()
        .expect("service_request_id is a string")
        .to_string();
    assert!(created[0]["service_notice"].is_string());
    assert!(created[0]["account_id"].is_null());
    assert!(
        created[0].get("token").is_none(),
        "no token next to a service_request_id"
    );

    // An ordinary work order from the Open311 channel.
    let order = app
        .store
        .order_by_case(&CaseNumber::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(order.fields.channel, Channel::Open311);
    assert_eq!(order.status, Status::Registered);
    assert_eq!(order.fields.category_id, Some(app.outage_cat));
    assert_eq!(
        order.fields.content,
        "No water since 8am & the pipe <leaks>"
    );
    assert!(
        order.fields.title.starts_with("停水"),
        "{}",
        order.fields.title
    );
    assert_eq!(
        order.fields.caller.phone,
        Some(PhoneNumber::parse("13800138000").unwrap())
    );
    assert_eq!(order.fields.caller.name.as_deref(), Some("Ming Li"));
    assert_eq!(
        order.fields.caller.email.as_deref(),
        Some("li.ming@example.org")
    );
    assert_eq!(order.fields.address.as_deref(), Some("12 Dongzhimen St"));
    let loc = order.fields.location.unwrap();
    assert_eq!((loc.lat, loc.lng), (39.9042, 116.4074));
    assert_eq!(
        order.fields.custom["open311_attributes"],
        json!({"FLOOR": "3", "SIDES": ["north", "east"]})
    );
    assert!(
        order.created_by.starts_with("open311:"),
        "{}",
        order.created_by
    );
    let token = order.fields.external_ref.clone().expect("a token");

    // GET requests/{id}.json
    let (s, v) = get_json(&app, &format!("requests/{id}.json")).await;
    assert_eq!(s, 200);
    assert_valid_list(&v, &request_schema());
    let r = &v[0];
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "water.outage");
    assert_eq!(r["service_name"], "停水");
    assert_eq!(r["description"], "No water since 8am & the pipe <leaks>");
    assert_eq!(r["address"], "12 Dongzhimen St");
    assert_eq!(r["address_id"], "A-778");
    assert_eq!(r["media_url"], "https://example.org/photo.jpg");
    assert_eq!(
        (r["lat"].as_f64(), r["long"].as_f64()),
        (Some(39.9042), Some(116.4074))
    );
    let requested = r["requested_datetime"].as_str().unwrap();
    assert!(
        requested.ends_with("+08:00"),
        "local time with offset: {requested}"
    );
    assert!(
        (DateTime::parse_from_rfc3339(requested)
            .unwrap()
            .with_timezone(&Utc)
            - Utc::now())
        .num_seconds()
        .abs()
            < 60
    );
    // Who called stays private.
    let text = v.to_string();
    for private in [
        "13800138000",
        "Ming",
        "li.ming@example.org",
        "dev-1",
        "acct-9",
        &token,
    ] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }

    // GET requests/{id}.xml
    let (s, ct, body) = get_text(&app, &format!("requests/{id}.xml")).await;
    assert_eq!((s, ct.as_str()), (200, "text/xml; charset=utf-8"));
    let leaves = xml_leaves(&body);
    assert_eq!(
        xml_values(&leaves, "service_requests/request/service_request_id"),
        vec![id.clone()]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/status"),
        vec!["open"]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/service_code"),
        vec!["water.outage"]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/description"),
        vec!["No water since 8am & the pipe <leaks>"]
    );
    assert!(body.contains("&amp; the pipe &lt;leaks&gt;"), "{body}");

    // The token resolves to the request, in both formats.
    let (s, v) = get_json(&app, &format!("tokens/{token}.json")).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!([{"service_request_id": id, "token": token}]));
    let (s, _, body) = get_text(&app, &format!("tokens/{token}.xml")).await;
    assert_eq!(s, 200);
    let leaves = xml_leaves(&body);
    assert_eq!(
        xml_values(&leaves, "service_requests/request/service_request_id"),
        vec![id.clone()]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/token"),
        vec![token.clone()]
    );
    expect_get_error(&app, "tokens/0123456789abcdef.json", 404).await;
    expect_get_error(&app, "tokens/0123456789abcdef.xml", 404).await;
}

#[tokio::test]
async fn a_submission_in_xml_round_trips() {
    let app = spawn_app().await;
    let f = form(
        "roads",
        &[
            ("address_string", "Gate \"A\" & 'B'"),
            ("lat", ""),
            ("long", ""),
        ],
    );
    let (s, ct, body) = post_form(&app, "requests.xml", &f).await;
    assert_eq!((s, ct.as_str()), (200, "text/xml; charset=utf-8"), "{body}");
    let leaves = xml_leaves(&body);
    let ids = xml_values(&leaves, "service_requests/request/service_request_id");
    assert_eq!(ids.len(), 1);
    assert!(
        leaves.contains(&("service_requests/request/account_id".to_string(), None)),
        "{body}"
    );
    let id = &ids[0];

    let (s, _, body) = get_text(&app, &format!("requests/{id}.xml")).await;
    assert_eq!(s, 200);
    let leaves = xml_leaves(&body);
    assert_eq!(
        xml_values(&leaves, "service_requests/request/status"),
        vec!["open"]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/address"),
        vec!["Gate \"A\" & 'B'"]
    );
    assert!(
        body.contains("Gate &quot;A&quot; &amp; &apos;B&apos;"),
        "{body}"
    );
    // No coordinates: empty elements.
    assert!(leaves.contains(&("service_requests/request/lat".to_string(), None)));

    let (s, v) = get_json(&app, &format!("requests/{id}.json")).await;
    assert_eq!(s, 200);
    assert_valid_list(&v, &request_schema());
    assert_eq!(v[0]["service_code"], "roads");
    assert!(v[0]["lat"].is_null());
}

#[tokio::test]
async fn an_idempotency_key_makes_retries_safe() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let send = || {
        http.post(v2(&app, "requests.json"))
            .header("Idempotency-Key", "retry-1")
            .form(&form("water", &[]))
            .send()
    };
    let a: Value = send().await.unwrap().json().await.unwrap();
    let b: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(a[0]["service_request_id"], b[0]["service_request_id"]);
    let c = submit(&app, "water", &[]).await;
    assert_ne!(a[0]["service_request_id"], json!(c));
}

// ---------------------------------------------------------------------------
// Querying requests
// ---------------------------------------------------------------------------

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["service_request_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn requests_are_filtered_by_service_status_and_date() {
    let app = spawn_app().await;
    let water = submit(&app, "water", &[]).await;
    let outage = submit(&app, "water.outage", &[]).await;
    let roads = submit(&app, "roads", &[]).await;
    let closed = store_order(&app, |_| {}, Some("Filled the pothole.")).await;

    // Everything of the last 90 days, newest first.
    let (s, all) = get_json(&app, "requests.json").await;
    assert_eq!(s, 200);
    assert_valid_list(&all, &request_schema());
    assert_eq!(
        ids_of(&all),
        vec![closed.clone(), roads.clone(), outage.clone(), water.clone()]
    );
    let c = &all[0];
    assert_eq!(c["status"], "closed");
    assert_eq!(c["status_notes"], "Filled the pothole.");

    // service_code: exact services, a list of them.
    let (_, v) = get_json(&app, "requests.json?service_code=water").await;
    assert_eq!(
        ids_of(&v),
        vec![water.clone()],
        "a parent service does not include its children"
    );
    let (_, v) = get_json(&app, "requests.json?service_code=water.outage,roads").await;
    assert_eq!(
        ids_of(&v),
        vec![closed.clone(), roads.clone(), outage.clone()]
    );
    let (_, v) = get_json(&app, "requests.json?service_code=nope").await;
    assert_eq!(v, json!([]));

    // status
    let (_, v) = get_json(&app, "requests.json?status=open").await;
    assert_eq!(
        ids_of(&v),
        vec![roads.clone(), outage.clone(), water.clone()]
    );
    let (_, v) = get_json(&app, "requests.json?status=closed").await;
    assert_eq!(ids_of(&v), vec![closed.clone()]);
    let (_, v) = get_json(&app, "requests.json?status=open,closed").await;
    assert_eq!(v.as_array().unwrap().len(), 4);
    let (_, v) = get_json(&app, "requests.json?status=closed&service_code=water").await;
    assert_eq!(v, json!([]));

    // Dates (W3C, with offsets; "+" must be escaped in a query string).
    let fmt = |t: DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    let now = Utc::now();
    let (_, v) = get_json(
        &app,
        &format!(
            "requests.json?start_date={}&end_date={}",
            fmt(now - Duration::hours(1)),
            fmt(now + Duration::hours(1))
        ),
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 4);
    let (_, v) = get_json(
        &app,
        &format!("requests.json?start_date={}", fmt(now + Duration::hours(1))),
    )
    .await;
    assert_eq!(v, json!([]));
    let (_, v) = get_json(&app, "requests.json?end_date=2010-01-01T00:00:00Z").await;
    assert_eq!(v, json!([]));
    let (_, v) = get_json(
        &app,
        &format!(
            "requests.json?start_date={}",
            (now - Duration::days(1)).format("%Y-%m-%d")
        ),
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 4);

    // service_request_id overrides every other argument.
    let (_, v) = get_json(&app, &format!("requests.json?service_request_id={water},{closed},20200101099999&status=open&service_code=roads&end_date=2010-01-01T00:00:00Z")).await;
    assert_eq!(ids_of(&v), vec![water.clone(), closed.clone()]);

    // XML list.
    let (s, _, body) = get_text(&app, "requests.xml?service_code=roads").await;
    assert_eq!(s, 200);
    let leaves = xml_leaves(&body);
    assert_eq!(
        xml_values(&leaves, "service_requests/request/service_request_id"),
        vec![closed.clone(), roads.clone()]
    );
    assert_eq!(
        xml_values(&leaves, "service_requests/request/status"),
        vec!["closed", "open"]
    );

    // Bad filters.
    for fmt in ["json", "xml"] {
        expect_get_error(&app, &format!("requests.{fmt}?status=pending"), 400).await;
        expect_get_error(&app, &format!("requests.{fmt}?start_date=yesterday"), 400).await;
        expect_get_error(
            &app,
            &format!(
                "requests.{fmt}?start_date=2010-01-01T00:00:00Z&end_date=2010-12-31T00:00:00Z"
            ),
            400,
        )
        .await;
        expect_get_error(
            &app,
            &format!(
                "requests.{fmt}?start_date=2010-02-01T00:00:00Z&end_date=2010-01-01T00:00:00Z"
            ),
            400,
        )
        .await;
        expect_get_error(
            &app,
            &format!("requests.{fmt}?jurisdiction_id=elsewhere.gov"),
            404,
        )
        .await;
    }
}

#[tokio::test]
async fn private_orders_stay_private() {
    let app = spawn_app().await;
    let phoned = store_order(
        &app,
        |f| {
            f.caller = Caller {
                phone: Some(PhoneNumber::parse("13912345678").unwrap()),
                name: Some("Zhang San".into()),
                email: Some("zs@example.org".into()),
                ..Caller::default()
            }
        },
        None,
    )
    .await;
    let secret = store_order(
        &app,
        |f| {
            f.caller.confidential = true;
            f.content = "whistleblower report".into();
        },
        None,
    )
    .await;
    // Taken by phone: not in the public list, but its number can be looked up.
    let by_phone = store_order(&app, |f| f.channel = Channel::Phone, None).await;
    let (_, v) = get_json(&app, "requests.json").await;
    assert_eq!(ids_of(&v), vec![phoned.clone()]);
    let (s, one) = get_json(&app, &format!("requests/{by_phone}.json")).await;
    assert_eq!(s, 200);
    assert_eq!(ids_of(&one), vec![by_phone]);
    let text = v.to_string();
    for private in [
        "13912345678",
        "Zhang San",
        "zs@example.org",
        "whistleblower",
    ] {
        assert!(!text.contains(private), "{private} leaked: {text}");
    }
    expect_get_error(&app, &format!("requests/{secret}.json"), 404).await;
    let (_, v) = get_json(&app, &format!("requests.json?service_request_id={secret}")).await;
    assert_eq!(v, json!([]));
    // Another channel's external reference is no Open311 token.
    store_order(&app, |f| f.external_ref = Some("wechat-msg-1".into()), None).await;
    expect_get_error(&app, "tokens/wechat-msg-1.json", 404).await;
}

// ---------------------------------------------------------------------------
// Errors, in the spec's format and both formats
// ---------------------------------------------------------------------------

#[tokio::test]
async fn submission_errors() {
    let app = spawn_app().await;
    for fmt in ["json", "xml"] {
        let mut no_key = form("water", &[]);
        no_key.retain(|(k, _)| *k != "api_key");
        expect_post_error(&app, fmt, &no_key, 403).await;
        expect_post_error(&app, fmt, &form("water", &[("api_key", "wrong-key")]), 403).await;
        expect_post_error(&app, fmt, &form("water", &[("api_key", "")]), 403).await;
        expect_post_error(&app, fmt, &form("nope", &[]), 404).await;
        expect_post_error(&app, fmt, &form("", &[]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("lat", ""), ("long", "")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("long", "")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("lat", "north")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("lat", "91")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("long", "NaN")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("phone", "call me")]), 400).await;
        expect_post_error(&app, fmt, &form("water", &[("email", "nobody")]), 400).await;
        expect_post_error(
            &app,
            fmt,
            &form("water", &[("media_url", "javascript:alert(1)")]),
            400,
        )
        .await;
        let long = "x".repeat(4001);
        expect_post_error(&app, fmt, &form("water", &[("description", &long)]), 400).await;
        expect_post_error(
            &app,
            fmt,
            &form("water", &[("jurisdiction_id", "elsewhere.gov")]),
            404,
        )
        .await;

        // Bodies that are not a proper form.
        let http = reqwest::Client::new();
        let url = v2(&app, &format!("requests.{fmt}"));
        let r = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "api_key={OPEN311_KEY}&service_code=water&address_string=%FF%FE"
            ))
            .send()
            .await
            .unwrap();
        let (s, ct) = (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap().to_string(),
        );
        assert_error(s, &ct, &r.text().await.unwrap(), 400, fmt);
        let r = http
            .post(&url)
            .json(&json!({"api_key": OPEN311_KEY}))
            .send()
            .await
            .unwrap();
        let (s, ct) = (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap().to_string(),
        );
        assert_error(s, &ct, &r.text().await.unwrap(), 400, fmt);
    }
    // Nothing was registered by any of that.
    let (_, v) = get_json(&app, "requests.json").await;
    assert_eq!(v, json!([]));
    // An empty description falls back to the service name.
    let id = submit(&app, "water", &[("description", "")]).await;
    let (_, v) = get_json(&app, &format!("requests/{id}.json")).await;
    assert_eq!(v[0]["description"], "供水");
}

#[tokio::test]
async fn lookup_and_routing_errors() {
    let app = spawn_app().await;
    for fmt in ["json", "xml"] {
        expect_get_error(&app, &format!("requests/20200101099999.{fmt}"), 404).await;
        expect_get_error(&app, &format!("requests/not-a-case.{fmt}"), 404).await;
        expect_get_error(
            &app,
            &format!("requests/20200101099999.{fmt}?jurisdiction_id=elsewhere.gov"),
            404,
        )
        .await;
        expect_get_error(
            &app,
            &format!("tokens/x.{fmt}?jurisdiction_id=elsewhere.gov"),
            404,
        )
        .await;
        expect_get_error(&app, &format!("nothing.{fmt}"), 404).await;
        expect_get_error(&app, &format!("deep/er/path.{fmt}"), 404).await;
    }
    // Unknown or missing extensions: 404, in XML (the spec's required format).
    expect_get_error(&app, "services.html", 404).await;
    expect_get_error(&app, "services", 404).await;
    expect_get_error(&app, "services/water.yaml", 404).await;
    // Wrong methods get the error format too.
    let r = reqwest::Client::new()
        .delete(v2(&app, "services.json"))
        .send()
        .await
        .unwrap();
    let (s, ct) = (
        r.status().as_u16(),
        r.headers()["content-type"].to_str().unwrap().to_string(),
    );
    assert_error(s, &ct, &r.text().await.unwrap(), 405, "json");
    let r = reqwest::Client::new()
        .post(v2(&app, "services.xml"))
        .send()
        .await
        .unwrap();
    let (s, ct) = (
        r.status().as_u16(),
        r.headers()["content-type"].to_str().unwrap().to_string(),
    );
    assert_error(s, &ct, &r.text().await.unwrap(), 405, "xml");
    // A malformed query string is a 400, not a framework error.
    expect_get_error(&app, "requests.json?status=%FF", 400).await;
}
