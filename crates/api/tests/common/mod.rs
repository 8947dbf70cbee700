//! `spawn_app()`: a server on port 0 over a throwaway SQLite database with a
//! small organisation, plus helpers to log in as each role.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rexian_api::{ApiSettings, AppState};
use rexian_core::ids::{CategoryId, DepartmentId};
use rexian_core::org::{DepartmentKind, Role};
use rexian_store::{CategoryInput, DepartmentInput, Store, StoreOptions, UserInput};
use serde_json::{json, Value};
use std::path::PathBuf;

pub const PASSWORD: &str = "test-password";
pub const OPEN311_KEY: &str = "test-open311-key";

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub dir: PathBuf,
    pub centre: DepartmentId,
    pub district: DepartmentId,
    pub street: DepartmentId,
    pub other_district: DepartmentId,
    pub water: DepartmentId,
    pub water_cat: CategoryId,
    pub outage_cat: CategoryId,
    pub roads_cat: CategoryId,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Users: agent, dispatcher, shift_lead, supervisor, callback, leader, admin
/// (centre); dh + dadmin (district), sh (street), wh (water), oh (other district).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(None).await
}

pub async fn spawn_app_with(db_url: Option<String>) -> TestApp {
    let dir = std::env::temp_dir().join(format!(
        "rexian-api-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let mut opts = StoreOptions::sqlite_in(&dir);
    if let Some(u) = db_url {
        opts.url = u;
    }
    let store = Store::open(&opts).await.unwrap();
    let d = |parent, code: &str, name: &str, kind| DepartmentInput {
        parent_id: parent,
        code: code.into(),
        name: name.into(),
        kind,
    };
    let centre = store
        .create_department(&d(None, "centre", "热线中心", DepartmentKind::Centre))
        .await
        .unwrap();
    let district = store
        .create_department(&d(None, "d1", "东城区", DepartmentKind::District))
        .await
        .unwrap();
    let street = store
        .create_department(&d(
            Some(district),
            "d1s1",
            "东华街道",
            DepartmentKind::Street,
        ))
        .await
        .unwrap();
    let other_district = store
        .create_department(&d(None, "d2", "西城区", DepartmentKind::District))
        .await
        .unwrap();
    let water = store
        .create_department(&d(None, "water", "市水务局", DepartmentKind::Functional))
        .await
        .unwrap();
    let cat = |parent, code: &str, name: &str| CategoryInput {
        parent_id: parent,
        code: code.into(),
        name: name.into(),
    };
    let water_cat = store
        .create_category(&cat(None, "water", "供水"))
        .await
        .unwrap();
    let outage_cat = store
        .create_category(&cat(Some(water_cat), "water.outage", "停水"))
        .await
        .unwrap();
    let roads_cat = store
        .create_category(&cat(None, "roads", "道路"))
        .await
        .unwrap();
    store
        .put_routing_rule(water_cat, None, water)
        .await
        .unwrap();
    store
        .put_routing_rule(roads_cat, Some(district), district)
        .await
        .unwrap();
    for (u, role, dept) in [
        ("agent", Role::Agent, centre),
        ("dispatcher", Role::Dispatcher, centre),
        ("shift_lead", Role::ShiftLead, centre),
        ("supervisor", Role::Supervisor, centre),
        ("callback", Role::CallbackAgent, centre),
        ("leader", Role::Leader, centre),
        ("admin", Role::Admin, centre),
        ("dh", Role::DepartmentHandler, district),
        ("dadmin", Role::DepartmentAdmin, district),
        ("sh", Role::DepartmentHandler, street),
        ("wh", Role::DepartmentHandler, water),
        ("oh", Role::DepartmentHandler, other_district),
    ] {
        store
            .create_user(&UserInput {
                username: u.into(),
                display_name: u.into(),
                password: PASSWORD.into(),
                role,
                department_id: dept,
            })
            .await
            .unwrap();
    }
    store
        .insert_api_key(OPEN311_KEY, "test client", "open311")
        .await
        .unwrap();
    let settings = ApiSettings {
        scheduler_interval: None,
        jurisdiction_id: "test.rexian".into(),
        header_timeout: std::time::Duration::from_secs(1),
        ..ApiSettings::default()
    };
    let state = AppState::new(store.clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(rexian_api::launch_with_listener(
        listener,
        state,
        async move {
            let _ = rx.await;
        },
    ));
    TestApp {
        base: format!("http://{addr}"),
        store,
        dir,
        centre,
        district,
        street,
        other_district,
        water,
        water_cat,
        outage_cat,
        roads_cat,
        shutdown: Some(tx),
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// An API client signed in with a bearer token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, username: &str) -> Client {
        let http = reqwest::Client::new();
        let r = http
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {username}");
        let body: Value = r.json().await.unwrap();
        Client {
            http,
            base: self.base.clone(),
            token: body["token"].as_str().unwrap().to_string(),
        }
    }
}

impl Client {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// Runs an order action and returns (status, body).
    pub async fn act(&self, id: i64, action: Value) -> (u16, Value) {
        self.post(&format!("/api/orders/{id}/actions"), action)
            .await
    }
}
