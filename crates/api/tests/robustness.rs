//! Inputs found by fuzzing the API (schemathesis and by hand): each gets a
//! clear JSON error or the documented behaviour, never a dropped connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn hostile_inputs_get_json_errors() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let admin = app.login("admin").await;

    // A working-time span ending in a multi-byte character used to panic.
    for span in ["%C3%A9", "3%C3%A9", "%C2%80"] {
        let (s, e) = agent
            .get(&format!("/api/calendar/deadline?span={span}"))
            .await;
        assert_eq!(s, 400, "{span}: {e}");
    }
    let (s, _) = admin
        .send(reqwest::Method::PUT, "/api/deadline-rules", Some(json!({"rules": [{"sign": "é", "reply": "1d", "callback": "1d"}], "yellow_percent": 80})))
        .await;
    assert!(s == 400 || s == 422, "{s}");

    // Absurd pages neither overflow nor wrap around to page 1.
    let (s, l) = agent.get("/api/orders?page=9223372036854775807").await;
    assert_eq!(s, 200);
    assert_eq!(l["items"], json!([]));
    assert_eq!(l["has_more"], false);

    // Paths and routes that do not parse or exist: JSON, with a code.
    let (s, e) = agent.get("/api/orders/abc").await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_path")));
    let (s, e) = agent.get("/api/orders/9223372036854775808").await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_path")));
    let (s, e) = agent.get("/api/no-such-thing").await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")));
    let (s, e) = agent
        .send(reqwest::Method::DELETE, "/api/orders", None)
        .await;
    assert_eq!((s, e["code"].as_str()), (405, Some("method_not_allowed")));

    // A control character in a search does not match everything.
    let body = json!({"channel": "web", "order_type": "help", "urgency": "normal", "title": "t", "content": "c"});
    agent.post("/api/orders", body).await;
    let (_, l) = agent.get("/api/orders?q=%00&count=true").await;
    assert_eq!(
        l["total"], 1,
        "an empty search after removing control characters is no filter"
    );
    let (_, l) = agent.get("/api/orders?q=%00zzz&count=true").await;
    assert_eq!(l["total"], 0);

    // Coordinates out of range are refused.
    let (s, _) = agent
        .post("/api/orders", json!({"channel": "web", "order_type": "help", "urgency": "normal", "title": "t", "content": "c", "location": {"lat": 91.0, "lng": 0.0}}))
        .await;
    assert_eq!(s, 422);

    // Token lifetimes outside 1..=3650 days are refused, not clamped.
    let (s, _) = agent
        .post("/api/auth/tokens", json!({"label": "x", "days": 0}))
        .await;
    assert_eq!(s, 422);

    // Invented HTTP methods do not grow the metrics.
    let http = reqwest::Client::new();
    for i in 0..20 {
        let m = reqwest::Method::from_bytes(format!("MX{i}").as_bytes()).unwrap();
        http.request(m, app.url("/healthz")).send().await.unwrap();
    }
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("MX1"), "{metrics}");
}

#[tokio::test]
async fn idempotency_keys_are_bound_to_their_request() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let post = |title: &str| {
        agent
            .http
            .post(app.url("/api/orders"))
            .bearer_auth(&agent.token)
            .header("Idempotency-Key", "k-9")
            .json(&json!({"channel": "web", "order_type": "help", "urgency": "normal", "title": title, "content": "c"}))
            .send()
    };
    assert_eq!(post("first").await.unwrap().status(), 201);
    assert_eq!(post("first").await.unwrap().status(), 200);
    let r = post("something else").await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("Idempotency-Key"));
}

#[tokio::test]
async fn the_last_admin_stays_and_exports_are_spreadsheet_safe() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let (_, me) = admin.get("/api/auth/me").await;
    let id = me["id"].as_i64().unwrap();
    let (s, e) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/users/{id}"),
            Some(json!({"role": "agent"})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/users/{id}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(s, 422);

    let csv = "phone,name\n13500000001,=HYPERLINK(\"http://x\")\n";
    let r = admin
        .http
        .post(app.url("/api/citizens/import"))
        .bearer_auth(&admin.token)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = admin
        .http
        .get(app.url("/api/citizens/export.csv"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(out.contains("'=HYPERLINK"), "{out}");
}

#[tokio::test]
async fn uploads_up_to_the_configured_limit_and_a_documented_api() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let (_, o) = agent
        .post("/api/orders", json!({"channel": "web", "order_type": "help", "urgency": "normal", "title": "t", "content": "c"}))
        .await;
    let id = o["id"].as_i64().unwrap();
    // 3 MiB: above axum's default 2 MiB body limit, below our 20 MiB.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(3 * 1024 * 1024, 0);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png)
            .file_name("big.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = agent
        .http
        .post(app.url(&format!("/api/orders/{id}/attachments")))
        .bearer_auth(&agent.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = agent
        .http
        .get(app.url("/api/attachments/1"))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");

    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let params = doc["paths"]["/api/orders"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let action = serde_json::to_string(&doc["components"]["schemas"]["ActionRequest"]).unwrap();
    assert!(
        action.contains("version")
            && action.contains("reason")
            && action.contains("#/components/schemas/Command"),
        "{action}"
    );
    let command = serde_json::to_string(&doc["components"]["schemas"]["Command"]).unwrap();
    assert!(
        command.contains("dispatch") && command.contains("record_callback"),
        "{command}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The test server allows one second for the request head.
    let mut buf = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), slow.read(&mut buf)).await;
    match read {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => assert!(
            String::from_utf8_lossy(&buf[..n]).contains("408"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(_) => panic!("the connection was still open after 10 s"),
    }
    // Everyone else is served as before.
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
}
