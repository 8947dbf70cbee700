//! The work-order API end to end on a server spawned on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

fn order_body(app: &TestApp, phone: &str) -> Value {
    json!({
        "channel": "phone",
        "order_type": "complaint",
        "category_id": app.outage_cat.0,
        "urgency": "normal",
        "title": "小区停水",
        "content": "幸福小区3号楼停水一天了",
        "caller": {"phone": phone, "name": "张先生"},
        "address": "幸福路1号",
        "district_id": app.district.0,
    })
}

async fn lifecycle_story(app: TestApp) {
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let dh = app.login("dh").await;
    let callback = app.login("callback").await;

    let (s, o) = agent
        .post("/api/orders?count=true", order_body(&app, "13812341234"))
        .await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_i64().unwrap();
    assert_eq!(o["status"], "registered");
    assert_eq!(
        o["suggested_department"], app.water.0,
        "routing suggests the water bureau"
    );
    assert_eq!(
        o["caller"]["phone"], "13812341234",
        "centre sees the number"
    );

    let (s, o) = dispatcher
        .act(
            id,
            json!({"action": "dispatch", "main_department_id": app.district.0, "version": 1}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["lights"]["sign"], "green");
    let (s, o) = dh.act(id, json!({"action": "sign"})).await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(
        o["caller"]["phone"], "138****1234",
        "department sees it masked"
    );
    assert_eq!(o["caller"]["name"], "张**");
    let (s, o) = dh
        .act(
            id,
            json!({"action": "request_extension", "extra": "1d", "reason": "需要协调"}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    let (s, _) = dispatcher
        .act(id, json!({"action": "approve_extension"}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = dh
        .act(id, json!({"action": "reply", "text": "已恢复供水"}))
        .await;
    assert_eq!(s, 200);
    let (s, o) = dispatcher
        .act(id, json!({"action": "order_rework", "reason": "请附照片"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(o["status"], "signed");
    let (s, _) = dh
        .act(id, json!({"action": "reply", "text": "已恢复供水，附照片"}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = dispatcher.act(id, json!({"action": "accept_reply"})).await;
    assert_eq!(s, 200);
    let (s, o) = callback
        .act(
            id,
            json!({"action": "record_callback", "satisfaction": "satisfied", "note": "满意"}),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    let (s, o) = dispatcher.act(id, json!({"action": "close"})).await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["status"], "closed");
    assert_eq!(o["status_label"], "已办结");

    let (s, h) = dispatcher.get(&format!("/api/orders/{id}/history")).await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "registered",
            "dispatched",
            "signed",
            "extension_requested",
            "extension_approved",
            "replied",
            "rework_ordered",
            "replied",
            "reply_accepted",
            "callback_recorded",
            "closed"
        ]
    );
    assert_eq!(h[6]["reason"], "请附照片");
    assert_eq!(h[0]["actor"]["name"], "agent");
    // The department's view of the history is masked too.
    let (_, h) = dh.get(&format!("/api/orders/{id}/history")).await;
    assert_eq!(h[0]["fields"]["caller"]["phone"], "138****1234");

    // Lists and filters.
    let (s, l) = dispatcher.get("/api/orders?count=true&status=closed").await;
    assert_eq!(s, 200);
    assert_eq!(l["total"], 1);
    let (_, l) = dispatcher
        .get("/api/orders?count=true&status=registered")
        .await;
    assert_eq!(l["total"], 0);
    let (_, l) = dispatcher
        .get(&format!(
            "/api/orders?count=true&district_id={}&q=停水&type=complaint&channel=phone",
            app.district.0
        ))
        .await;
    assert_eq!(l["total"], 1);
    let (_, l) = dispatcher
        .get(&format!(
            "/api/orders?count=true&category_id={}",
            app.water_cat.0
        ))
        .await;
    assert_eq!(l["total"], 1, "category filter includes subcategories");
    let (_, l) = dispatcher
        .get("/api/orders?count=true&phone=13812341234&from=2020-01-01")
        .await;
    assert_eq!(l["total"], 1);
    let (s, e) = dispatcher.get("/api/orders?count=true&status=bogus").await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_input")));
    let (_, l) = dh.get("/api/orders?count=true").await;
    assert_eq!(l["total"], 1, "the district sees its order");
    let oh = app.login("oh").await;
    let (_, l) = oh.get("/api/orders?count=true").await;
    assert_eq!(l["total"], 0, "another district does not");
}

#[tokio::test]
async fn lifecycle_on_sqlite() {
    lifecycle_story(spawn_app().await).await;
}

#[tokio::test]
async fn lifecycle_on_postgres() {
    if let Some(url) = rexian_store::testing::fresh_postgres("api").await {
        lifecycle_story(spawn_app_with(Some(url)).await).await;
    }
}

#[tokio::test]
async fn wrong_role_and_scope_are_denied_and_change_nothing() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let dh = app.login("dh").await;
    let oh = app.login("oh").await;
    let sh = app.login("sh").await;
    let leader = app.login("leader").await;
    let (_, o) = agent
        .post("/api/orders?count=true", order_body(&app, "13900001111"))
        .await;
    let id = o["id"].as_i64().unwrap();

    // A department cannot register or dispatch.
    let (s, e) = dh
        .post("/api/orders?count=true", order_body(&app, "13900001111"))
        .await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden_role")));
    let (s, e) = dh
        .act(
            id,
            json!({"action": "dispatch", "main_department_id": app.district.0}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    // Not dispatched to them: out of scope.
    let (s, e) = dh.get(&format!("/api/orders/{id}")).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("out_of_scope")));
    let (_, _) = dispatcher
        .act(
            id,
            json!({"action": "dispatch", "main_department_id": app.district.0}),
        )
        .await;
    let (s, e) = oh.act(id, json!({"action": "sign"})).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("out_of_scope")));
    let (s, e) = sh.act(id, json!({"action": "sign"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (403, Some("out_of_scope")),
        "a street cannot sign for its district"
    );
    let (s, e) = leader.act(id, json!({"action": "remind"})).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden_role")));
    // Illegal in this state: typed error naming state and command.
    let (s, e) = dh.act(id, json!({"action": "reply", "text": "x"})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("illegal_state")));
    assert_eq!(
        e["message"],
        "command reply is not allowed while the order is dispatched"
    );
    // Bad input: clear errors.
    let (s, e) = dh.act(id, json!({"action": "fly"})).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("invalid_action")));
    let (s, e) = dh.act(id, json!({"action": "sign", "extra": 1})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("invalid_action")),
        "unknown fields are refused"
    );
    let (s, e) = dh.act(id, json!({"action": "request_return"})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("reason_required")));
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/orders/{id}/actions")))
        .bearer_auth(&dh.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "invalid_json");
    let (s, e) = agent.post("/api/orders?count=true", json!({"channel": "phone", "order_type": "complaint", "urgency": "normal", "title": " ", "content": "x"})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("invalid_input")));
    let (s, e) = agent.post("/api/orders?count=true", json!({"channel": "pigeon", "order_type": "complaint", "urgency": "normal", "title": "t", "content": "x"})).await;
    assert_eq!(s, 422, "{e}");
    // None of it changed the order.
    let (_, o) = dispatcher.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["version"], 2);
    assert_eq!(o["status"], "dispatched");
    let (_, l) = dispatcher.get("/api/orders?count=true").await;
    assert_eq!(l["total"], 1);
    // No token at all.
    let r = reqwest::get(app.url("/api/orders?count=true"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn concurrent_handlers_one_wins_one_conflicts() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let dh = app.login("dh").await;
    let dadmin = app.login("dadmin").await;
    let (_, o) = agent
        .post("/api/orders?count=true", order_body(&app, "13900002222"))
        .await;
    let id = o["id"].as_i64().unwrap();
    let (_, o) = dispatcher
        .act(
            id,
            json!({"action": "dispatch", "main_department_id": app.district.0}),
        )
        .await;
    let v = o["version"].as_i64().unwrap();
    let (a, b) = tokio::join!(
        dh.act(id, json!({"action": "sign", "version": v})),
        dadmin.act(id, json!({"action": "sign", "version": v})),
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    let conflict = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(conflict["code"], "conflict");
    assert_eq!(conflict["current_version"], v + 1);
    // If-Match works the same way.
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/orders/{id}/actions")))
        .bearer_auth(&dh.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"action": "reply", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let (_, h) = dispatcher.get(&format!("/api/orders/{id}/history")).await;
    assert_eq!(h.as_array().unwrap().len(), 3, "exactly one sign event");
}

#[tokio::test]
async fn idempotent_create() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let post = |key: &'static str| {
        let agent = agent.clone();
        let body = order_body(&app, "13900003333");
        async move {
            let r = agent
                .http
                .post(format!("{}/api/orders", agent.base))
                .bearer_auth(&agent.token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let ((s1, a), (s2, b)) = tokio::join!(post("retry-1"), post("retry-1"));
    let mut codes = [s1, s2];
    codes.sort();
    assert_eq!(codes, [200, 201]);
    assert_eq!(a["id"], b["id"]);
    let (s3, c) = post("retry-2").await;
    assert_eq!(s3, 201);
    assert_ne!(a["id"], c["id"]);
    let (_, l) = agent.get("/api/orders?count=true").await;
    assert_eq!(l["total"], 2);
    // Case numbers: today's date and a daily sequence.
    let c1 = a["case_number"].as_str().unwrap();
    let c2 = c["case_number"].as_str().unwrap();
    assert_eq!(c1.len(), 13);
    assert_eq!(c2[..8], c1[..8]);
    assert_eq!(
        c2[8..].parse::<i64>().unwrap(),
        c1[8..].parse::<i64>().unwrap() + 1
    );
}

#[tokio::test]
async fn confidential_reporters_are_hidden_and_reads_audited() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let dispatcher = app.login("dispatcher").await;
    let dh = app.login("dh").await;
    let admin = app.login("admin").await;
    let mut body = order_body(&app, "13700001234");
    body["caller"]["confidential"] = json!(true);
    body["order_type"] = json!("report");
    let (s, o) = agent.post("/api/orders?count=true", body).await;
    assert_eq!(s, 201);
    let id = o["id"].as_i64().unwrap();
    dispatcher
        .act(
            id,
            json!({"action": "dispatch", "main_department_id": app.district.0}),
        )
        .await;
    let (_, o) = dh.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["caller"]["phone"], Value::Null);
    assert_eq!(o["caller"]["name"], Value::Null);
    assert_eq!(o["caller"]["hidden"], true);
    let (_, h) = dh.get(&format!("/api/orders/{id}/history")).await;
    assert_eq!(h[0]["fields"]["caller"]["phone"], Value::Null);
    // Lists hide it from everyone; opening it in the centre is audited.
    let (_, l) = dispatcher.get("/api/orders?count=true").await;
    assert_eq!(l["items"][0]["caller"]["phone"], Value::Null);
    let (_, o) = dispatcher.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["caller"]["phone"], "13700001234");
    let (s, audit) = admin.get("/api/audit?action=confidential_read").await;
    assert_eq!(s, 200);
    // The agent's create response, the dispatcher's dispatch response and GET.
    let users: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["dispatcher", "dispatcher", "agent"]);
    let (s, _) = dh.get("/api/audit").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn cookie_sessions_need_csrf_and_lockout_applies() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "agent", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let r = http.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(r.status(), 200, "cookie authenticates reads");
    let r = http
        .post(app.url("/api/orders?count=true"))
        .json(&order_body(&app, "13900004444"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_failed");
    let r = http
        .post(app.url("/api/orders?count=true"))
        .header("x-csrf-token", &csrf)
        .json(&order_body(&app, "13900004444"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(app.url("/api/auth/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    for i in 0..5 {
        let r = http
            .post(app.url("/api/auth/login"))
            .json(&json!({"username": "dh", "password": "nope"}))
            .send()
            .await
            .unwrap();
        let expect = if i < 4 { 401 } else { 423 };
        assert_eq!(r.status(), expect);
    }
    let r = http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "dh", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 423, "locked");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "account_locked");
}

#[tokio::test]
async fn attachments_citizens_admin_openapi_metrics() {
    let app = spawn_app().await;
    let agent = app.login("agent").await;
    let admin = app.login("admin").await;
    let dh = app.login("dh").await;
    let shift = app.login("shift_lead").await;
    let (_, o) = agent
        .post("/api/orders?count=true", order_body(&app, "13600001111"))
        .await;
    let id = o["id"].as_i64().unwrap();

    // Attachments.
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png.clone())
            .file_name("现场.png")
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
    let att: Value = r.json().await.unwrap();
    let r = agent
        .http
        .get(app.url(&format!("/api/attachments/{}", att["id"])))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let r = dh
        .http
        .get(app.url(&format!("/api/attachments/{}", att["id"])))
        .bearer_auth(&dh.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "not the district's order yet");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"MZ\x90\x00".to_vec())
            .file_name("a.exe")
            .mime_str("application/x-msdownload")
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
    assert_eq!(r.status(), 422);

    // Citizens.
    let (s, c) = agent.get("/api/citizens/13600001111").await;
    assert_eq!(s, 200);
    assert_eq!(c["name"], "张先生");
    let (s, _) = agent
        .post(
            "/api/citizens/13600001111/tags",
            json!({"tag": "blacklist", "reason": "x"}),
        )
        .await;
    assert_eq!(s, 403, "agents do not blacklist");
    let (s, c) = shift
        .post(
            "/api/citizens/13600001111/tags",
            json!({"tag": "vip", "reason": "人大代表"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["tags"][0]["set_by"], "shift_lead");
    let (_, l) = agent.get("/api/lists/vip").await;
    assert_eq!(l, json!(["13600001111"]));
    let (_, t) = agent.get("/api/citizens/13600001111/timeline").await;
    assert_eq!(t[0]["reference"], o["case_number"]);
    let (s, _) = dh.get("/api/citizens?q=张").await;
    assert_eq!(s, 403);
    let (_, found) = agent.get("/api/citizens?q=幸福路").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let r = admin
        .http
        .get(app.url("/api/citizens/export.csv"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("phone,name,addresses,tags,note"));
    assert!(csv.contains("13600001111,张先生,幸福路1号,vip"), "{csv}");
    let r = admin
        .http
        .post(app.url("/api/citizens/import"))
        .bearer_auth(&admin.token)
        .body("phone,name\n13500000000,赵\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 1);

    // Administration: only the admin writes; calendar arithmetic across holidays.
    let (s, _) = agent
        .post(
            "/api/departments",
            json!({"code": "x", "name": "x", "kind": "street", "parent_id": app.district.0}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, d) = admin.post("/api/departments", json!({"code": "d1s2", "name": "东风街道", "kind": "street", "parent_id": app.district.0})).await;
    assert_eq!(s, 201, "{d}");
    let (s, _) = admin
        .post(
            "/api/routing-rules",
            json!({"category_id": app.roads_cat.0, "department_id": d["id"]}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, sug) = agent
        .get(&format!(
            "/api/routing/suggest?category_id={}&district_id={}",
            app.roads_cat.0, app.other_district.0
        ))
        .await;
    assert_eq!(sug["department_id"], d["id"]);
    let (_, cal) = agent.get("/api/calendar").await;
    assert_eq!(cal["years"][0]["year"], 2026);
    // 2026-09-30 (Wed) 17:00 + 2 working hours: the National Day holiday
    // runs to 10-07; 10-08 is the next working day.
    let (_, dl) = agent
        .get("/api/calendar/deadline?from=2026-09-30T09:00:00Z&span=2h")
        .await;
    assert_eq!(dl["due"], "2026-10-08T10:00:00+08:00");
    let (s, _) = admin
        .send(
            reqwest::Method::PUT,
            "/api/deadline-rules",
            Some(json!({"rules": [], "yellow_percent": 80})),
        )
        .await;
    assert_eq!(s, 422, "a catch-all rule is required");
    let r = admin.http.put(app.url("/api/calendar/years/2027")).bearer_auth(&admin.token).body("year = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\", to = \"2027-01-03\" }]\nworkdays = []\n").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, cal) = agent.get("/api/calendar").await;
    assert_eq!(cal["years"].as_array().unwrap().len(), 2);
    let r = admin.http.put(app.url("/api/calendar/years/2028")).bearer_auth(&admin.token).body("year = 2028\nholidays = [{ name = \"x\", from = \"2027-01-01\", to = \"2027-01-03\" }]\n").send().await.unwrap();
    assert_eq!(r.status(), 422);

    // OpenAPI and metrics.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/orders/{id}/actions"]["post"].is_object());
    let cmd_schema = serde_json::to_string(&doc["components"]).unwrap();
    for action in [
        "dispatch",
        "approve_return",
        "record_callback",
        "supplement",
        "merge",
    ] {
        assert!(cmd_schema.contains(action), "OpenAPI lists {action}");
    }
    let m = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("rexian_orders{status=\"registered\"} 1"), "{m}");
    assert!(
        m.contains(
            "rexian_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/orders\""
        ),
        "{m}"
    );
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
}
