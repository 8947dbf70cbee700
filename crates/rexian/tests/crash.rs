//! Kill -9 the server during a burst of creates and dispatches, restart it
//! on the same data directory: every acknowledged order is there with its
//! full acknowledged history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rexian"))
        .arg("serve")
        .env("REXIAN_DATA_DIR", dir)
        .env("REXIAN_LISTEN", "127.0.0.1:0")
        .env("REXIAN_LOG", "warn")
        .env("REXIAN_CALENDARS_DIR", dir.join("no-calendars"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.trim().strip_prefix("API:") {
            let url = rest.split_whitespace().next().unwrap();
            break url.trim_end_matches("/api/").to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let r: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": user, "password": "rexian-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

#[derive(Debug, Clone)]
struct Acked {
    id: i64,
    case: String,
    version: i64,
}

#[tokio::test]
async fn kill_dash_nine_loses_nothing_acknowledged() {
    let dir = std::env::temp_dir().join(format!("rexian-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, base) = start(&dir);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let agent = login(&http, &base, "agent").await;
    let dispatcher = login(&http, &base, "dispatcher").await;
    let me: Value = http
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "dispatcher");
    let depts: Value = http
        .get(format!("{base}/api/departments"))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let district = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "district")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut tasks = vec![];
    for c in 0..8 {
        let (http, base, agent, dispatcher, acked) = (
            http.clone(),
            base.clone(),
            agent.clone(),
            dispatcher.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"channel": "web", "order_type": "help", "urgency": "normal",
                    "title": format!("压力测试 {c}-{i}"), "content": "kill -9 测试", "caller": {"phone": format!("1390000{c:04}")}});
                let Ok(r) = http.post(format!("{base}/api/orders")).bearer_auth(&agent).json(&body).send().await else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(o) = r.json::<Value>().await else { return };
                let id = o["id"].as_i64().unwrap();
                let case = o["case_number"].as_str().unwrap().to_string();
                acked.lock().unwrap().push(Acked { id, case: case.clone(), version: 1 });
                let Ok(r) = http
                    .post(format!("{base}/api/orders/{id}/actions"))
                    .bearer_auth(&dispatcher)
                    .json(&json!({"action": "dispatch", "main_department_id": district, "version": 1}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() == 200 {
                    let mut a = acked.lock().unwrap();
                    if let Some(x) = a.iter_mut().find(|x| x.id == id) {
                        x.version = 2;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "the burst acknowledged only {} orders",
        acked.len()
    );

    let (mut child, base) = start(&dir);
    let dispatcher = login(&http, &base, "dispatcher").await;
    for a in &acked {
        let r = http
            .get(format!("{base}/api/orders/{}", a.id))
            .bearer_auth(&dispatcher)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "order {} lost", a.case);
        let o: Value = r.json().await.unwrap();
        assert_eq!(o["case_number"], a.case.as_str());
        assert!(
            o["version"].as_i64().unwrap() >= a.version,
            "{} lost an acknowledged dispatch",
            a.case
        );
        let h: Value = http
            .get(format!("{base}/api/orders/{}/history", a.id))
            .bearer_auth(&dispatcher)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            h.as_array().unwrap().len() as i64,
            o["version"].as_i64().unwrap(),
            "history of {}",
            a.case
        );
    }
    // Case numbers stayed unique through the crash.
    let mut cases: Vec<&str> = acked.iter().map(|a| a.case.as_str()).collect();
    cases.sort();
    cases.dedup();
    assert_eq!(cases.len(), acked.len());
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{} acknowledged orders survived kill -9", acked.len());
}
