//! `rexian bench …`: load generators that print numbers. Performance targets
//! live here, never in timed test assertions.

use crate::config::Config;
use anyhow::{bail, Context, Result};
use chrono::{Duration as CDuration, Utc};
use clap::Subcommand;
use rexian_api::{ApiSettings, AppState};
use rexian_core::ids::{CategoryId, DepartmentId, OrderId, UserId};
use rexian_core::order::{
    self, Caller, Channel, Command, Ctx, Event, OrderFields, OrderType, Satisfaction, Urgency,
    WorkOrder,
};
use rexian_core::org::{Actor, DepartmentKind, Role};
use rexian_core::values::{CaseNumber, PhoneNumber};
use rexian_store::{Store, StoreOptions, UserInput};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Full lifecycles (register → dispatch → sign → reply → review →
    /// callback → close) through the HTTP API with concurrent clients.
    Orders {
        /// A running server seeded with the demo city; default: start one on a fresh SQLite store.
        #[arg(long)]
        url: Option<String>,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 2000)]
        lifecycles: usize,
        /// Demo password of the server's accounts (with --url).
        #[arg(long, default_value = crate::demo::DEMO_PASSWORD)]
        password: String,
    },
    /// A filtered list/query mix through the HTTP API against a store holding many orders.
    List {
        /// Orders in the store (generated once and kept in --dir).
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        #[arg(long, default_value = "./data-bench")]
        dir: PathBuf,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// Also ask every list for its (capped) total.
        #[arg(long)]
        count: bool,
    },
}

pub async fn run(cmd: BenchCmd, cfg: &Config) -> Result<()> {
    match cmd {
        BenchCmd::Orders {
            url,
            clients,
            lifecycles,
            password,
        } => orders(url, clients, lifecycles, &password, cfg).await,
        BenchCmd::List {
            orders,
            dir,
            clients,
            rounds,
            count,
        } => list(orders, dir, clients, rounds, count, cfg).await,
    }
}

const BENCH_PASSWORD: &str = "bench-password";

/// A server on a free port over `dir`, seeded with the demo city and one
/// bench account per role the lifecycle needs.
async fn self_hosted(dir: PathBuf, cfg: &Config) -> Result<(String, Store)> {
    let opts = StoreOptions {
        time_zone: cfg.time_zone.clone(),
        ..StoreOptions::sqlite_in(&dir)
    };
    let store = Store::open(&opts).await?;
    crate::demo::seed(&store).await?;
    let snap = store.snapshot();
    let centre = snap.org.centre().context("demo centre")?.id;
    let district = snap
        .org
        .all()
        .filter(|d| d.kind == DepartmentKind::District)
        .map(|d| d.id)
        .min()
        .context("demo district")?;
    for (u, role, dept) in [
        ("bench.agent", Role::Agent, centre),
        ("bench.dispatcher", Role::Dispatcher, centre),
        ("bench.callback", Role::CallbackAgent, centre),
        ("bench.handler", Role::DepartmentHandler, district),
    ] {
        let _ = store
            .create_user(&UserInput {
                username: u.into(),
                display_name: u.into(),
                password: BENCH_PASSWORD.into(),
                role,
                department_id: dept,
            })
            .await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store.clone(), ApiSettings::default());
    tokio::spawn(rexian_api::launch_with_listener(
        listener,
        state,
        std::future::pending(),
    ));
    Ok((base, store))
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn login(&self, user: &str, password: &str) -> Result<String> {
        let r: Value = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("login {user}"))?
            .json()
            .await?;
        Ok(r["token"].as_str().context("token")?.to_string())
    }

    /// Sends a request and decodes the answer into `T` (a small struct or
    /// `IgnoredAny`, so the client spends little time on JSON).
    async fn call<T: DeserializeOwned>(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        lat: &mut Vec<f64>,
    ) -> Result<T> {
        let t = Instant::now();
        let mut rb = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("{path}: {status} {}", String::from_utf8_lossy(&bytes));
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// The part of an order's JSON a lifecycle needs.
#[derive(Deserialize)]
struct Ack {
    id: i64,
    version: i64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn orders(
    url: Option<String>,
    clients: usize,
    lifecycles: usize,
    password: &str,
    cfg: &Config,
) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("rexian-bench-orders-{}", std::process::id()));
    let (base, users, pw) = match url {
        Some(u) => (
            u,
            ["agent", "dispatcher", "d1.handler", "callback"],
            password.to_string(),
        ),
        None => {
            let _ = std::fs::remove_dir_all(&dir);
            let (b, _store) = self_hosted(dir.clone(), cfg).await?;
            (
                b,
                [
                    "bench.agent",
                    "bench.dispatcher",
                    "bench.handler",
                    "bench.callback",
                ],
                BENCH_PASSWORD.to_string(),
            )
        }
    };
    let api = Arc::new(Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(clients * 2)
            .build()?,
        base,
    });
    let mut tokens = vec![];
    for u in users {
        tokens.push(api.login(u, &pw).await?);
    }
    let me: Value = api
        .call(
            &tokens[2],
            reqwest::Method::GET,
            "/api/auth/me",
            None,
            &mut vec![],
        )
        .await?;
    let dept = me["department_id"].as_i64().context("handler department")?;
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    println!(
        "bench orders: {lifecycles} lifecycles, {clients} clients, server {}",
        api.base
    );
    let started = Instant::now();
    let mut tasks = vec![];
    for c in 0..clients {
        let (api, tokens, next) = (api.clone(), tokens.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < lifecycles {
                lifecycle(&api, &tokens, dept, c, &mut lat).await?;
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    println!("  elapsed        {secs:.2} s");
    println!("  lifecycles/s   {:.0}", lifecycles as f64 / secs);
    println!("  requests/s     {:.0}", all.len() as f64 / secs);
    println!(
        "  latency ms     p50 {:.2}  p99 {:.2}  max {:.2}",
        pct(&all, 0.5),
        pct(&all, 0.99),
        pct(&all, 1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn lifecycle(
    api: &Api,
    t: &[String],
    dept: i64,
    client: usize,
    lat: &mut Vec<f64>,
) -> Result<()> {
    use reqwest::Method as M;
    let o: Ack = api
        .call(
            &t[0],
            M::POST,
            "/api/orders",
            Some(json!({
                "channel": "phone", "order_type": "complaint", "urgency": "normal",
                "title": "压测工单", "content": format!("客户端 {client} 的压测工单：小区路灯不亮"),
                "caller": {"phone": format!("139{:08}", client)},
            })),
            lat,
        )
        .await?;
    let id = o.id;
    let path = format!("/api/orders/{id}/actions");
    let steps: [(usize, Value); 6] = [
        (1, json!({"action": "dispatch", "main_department_id": dept})),
        (2, json!({"action": "sign"})),
        (2, json!({"action": "reply", "text": "已修复"})),
        (1, json!({"action": "accept_reply"})),
        (
            3,
            json!({"action": "record_callback", "satisfaction": "satisfied"}),
        ),
        (1, json!({"action": "close"})),
    ];
    let mut version = o.version;
    for (who, mut body) in steps {
        body["version"] = json!(version);
        let v: Ack = api.call(&t[who], M::POST, &path, Some(body), lat).await?;
        version = v.version;
    }
    Ok(())
}

/// Histories of `n` synthetic orders spread over the last year: most closed,
/// the rest at every stage, across districts, categories, types and channels.
fn synth_histories(store: &Store, start: usize, n: usize) -> Result<Vec<Vec<Event>>> {
    let snap = store.snapshot();
    let centre = snap.org.centre().context("centre")?.id;
    let depts: Vec<DepartmentId> = snap
        .org
        .all()
        .filter(|d| d.kind != DepartmentKind::Centre)
        .map(|d| d.id)
        .collect();
    let districts: Vec<DepartmentId> = snap
        .org
        .all()
        .filter(|d| d.kind == DepartmentKind::District)
        .map(|d| d.id)
        .collect();
    let cats: Vec<CategoryId> = snap.categories.all().map(|c| c.id).collect();
    anyhow::ensure!(
        !depts.is_empty() && !districts.is_empty() && !cats.is_empty(),
        "seed the demo city first"
    );
    let agent = Actor::user(UserId(1), "压测坐席", Role::Agent, centre);
    let dispatcher = Actor::user(UserId(2), "压测派单", Role::Dispatcher, centre);
    let callback = Actor::user(UserId(3), "压测回访", Role::CallbackAgent, centre);
    let words = [
        "噪音扰民",
        "路灯不亮",
        "停水",
        "垃圾清运",
        "占道经营",
        "违章建筑",
        "物业服务",
        "供暖不热",
        "燃气异味",
        "公交线路",
    ];
    // One order every 30 s from local midnight a year ago: 2,880 a day, in
    // registration order like a real archive.
    let tz = snap.calendar.tz();
    let start_day = Utc::now().with_timezone(&tz).date_naive() - CDuration::days(366);
    let t0 = start_day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .context("local midnight")?
        .with_timezone(&Utc);
    let mut out = Vec::with_capacity(n);
    for k in start..start + n {
        let h = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let pick = |m: usize, salt: u64| {
            ((h >> (salt % 40)) as usize ^ (h as usize).rotate_left(salt as u32)) % m
        };
        let at = t0 + CDuration::seconds(30 * k as i64);
        let case = CaseNumber::new(at.with_timezone(&tz).date_naive(), (k % 2880) as i64 + 1)?;
        let district = districts[pick(districts.len(), 3)];
        let word = words[pick(words.len(), 7)];
        let fields = OrderFields {
            channel: Channel::ALL[pick(Channel::ALL.len(), 11)],
            order_type: OrderType::ALL[pick(OrderType::ALL.len(), 13)],
            category_id: Some(cats[pick(cats.len(), 17)]),
            urgency: if pick(10, 19) == 0 {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            title: format!("{word}（第{k}号）"),
            content: format!("市民反映{word}问题，已持续多日，请相关部门尽快处理。编号{k}"),
            caller: Caller {
                phone: Some(PhoneNumber::parse(&format!("13{:09}", k % 1_000_000_000))?),
                name: Some("市民".into()),
                ..Caller::default()
            },
            address: Some(format!("示范路{}号", k % 997)),
            district_id: Some(district),
            street_id: None,
            location: None,
            tags: vec![],
            custom: Default::default(),
            call_id: None,
            external_ref: None,
        };
        let first = Event {
            seq: 1,
            at,
            actor: agent.clone(),
            reason: None,
            kind: order::register(&agent, case, fields, None)?,
        };
        let mut view = WorkOrder::from_registration(OrderId(0), &first).context("fold")?;
        let mut events = vec![first];
        let stage = pick(100, 23);
        let main = depts[pick(depts.len(), 29)];
        let handler = Actor::user(UserId(4), "压测承办", Role::DepartmentHandler, main);
        let plan: Vec<(&Actor, Command)> = vec![
            (
                &dispatcher,
                Command::Dispatch {
                    main_department_id: main,
                    co_department_ids: vec![],
                    instructions: None,
                },
            ),
            (&handler, Command::Sign),
            (
                &handler,
                Command::Reply {
                    text: "已处理完毕".into(),
                },
            ),
            (&dispatcher, Command::AcceptReply),
            (
                &callback,
                Command::RecordCallback {
                    satisfaction: Satisfaction::Satisfied,
                    note: None,
                    reopen: false,
                },
            ),
            (&dispatcher, Command::Close),
        ];
        // 80 % closed, the rest spread over the earlier stages.
        let steps = if stage < 80 {
            plan.len()
        } else {
            (stage - 80) % plan.len()
        };
        for (actor, cmd) in plan.into_iter().take(steps) {
            let ctx = Ctx {
                now: at,
                calendar: &snap.calendar,
                spec: snap.deadline_spec(view.fields.category_id, view.fields.urgency),
                org: &snap.org,
                other: None,
            };
            for kind in order::decide(&view, &cmd, None, actor, &ctx)? {
                let e = Event {
                    seq: view.version + 1,
                    at,
                    actor: actor.clone(),
                    reason: None,
                    kind,
                };
                view.apply(&e);
                events.push(e);
            }
        }
        out.push(events);
    }
    Ok(out)
}

async fn list(
    n: usize,
    dir: PathBuf,
    clients: usize,
    rounds: usize,
    count: bool,
    cfg: &Config,
) -> Result<()> {
    std::fs::create_dir_all(&dir)?;
    let (base, store) = self_hosted(dir.clone(), cfg).await?;
    let existing = count_all(&store).await?;
    if existing < n {
        println!("generating {} orders in {} …", n - existing, dir.display());
        let t = Instant::now();
        let mut done = existing;
        while done < n {
            let batch = (n - done).min(5000);
            let h = synth_histories(&store, done, batch)?;
            store.import_orders(h).await?;
            done += batch;
            if done % 100_000 < batch {
                println!(
                    "  {done} orders ({:.0}/s)",
                    (done - existing) as f64 / t.elapsed().as_secs_f64()
                );
            }
        }
    }
    if existing < n {
        store.analyze().await?;
    }
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        base,
    });
    let token = api.login("bench.dispatcher", BENCH_PASSWORD).await?;
    let dtoken = api.login("bench.handler", BENCH_PASSWORD).await?;
    let snap = store.snapshot();
    let district = snap
        .org
        .all()
        .filter(|d| d.kind == DepartmentKind::District)
        .map(|d| d.id.0)
        .min()
        .unwrap_or(0);
    let dept = snap
        .org
        .all()
        .filter(|d| d.kind == DepartmentKind::Functional)
        .map(|d| d.id.0)
        .min()
        .unwrap_or(0);
    let cat = snap
        .categories
        .all()
        .filter(|c| c.parent_id.is_none())
        .map(|c| c.id.0)
        .min()
        .unwrap_or(0);
    let sample = store
        .list_orders(
            &rexian_store::OrderFilter {
                per_page: 1,
                page: 5000,
                ..Default::default()
            },
            Utc::now(),
        )
        .await?;
    let (case, phone) = sample
        .items
        .first()
        .map(|o| {
            (
                o.case_number.to_string(),
                o.fields
                    .caller
                    .phone
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let today = Utc::now().with_timezone(&snap.calendar.tz()).date_naive();
    let week_ago = today - CDuration::days(7);
    let mix: Vec<(&str, String, bool)> = vec![
        (
            "status",
            "/api/orders?status=dispatched,signed".into(),
            false,
        ),
        ("light red", "/api/orders?light=red".into(), false),
        (
            "department",
            format!("/api/orders?department_id={dept}"),
            false,
        ),
        (
            "district",
            format!("/api/orders?district_id={district}"),
            false,
        ),
        (
            "category tree",
            format!("/api/orders?category_id={cat}"),
            false,
        ),
        ("type", "/api/orders?type=complaint".into(), false),
        ("channel", "/api/orders?channel=wechat".into(), false),
        (
            "date range",
            format!("/api/orders?from={week_ago}&to={today}"),
            false,
        ),
        ("phone", format!("/api/orders?phone={phone}"), false),
        (
            "case number",
            format!("/api/orders?case_number={case}"),
            false,
        ),
        ("text", "/api/orders?q=%E8%B7%AF%E7%81%AF".into(), false),
        (
            "combined",
            format!("/api/orders?status=closed&district_id={district}&type=complaint&page=3"),
            false,
        ),
        ("dept scope", "/api/orders?status=dispatched".into(), true),
    ];
    let mix: Vec<(&str, String, bool)> = mix
        .into_iter()
        .map(|(name, path, dept)| {
            let path = if count {
                format!("{path}&count=true")
            } else {
                path
            };
            (name, path, dept)
        })
        .collect();
    let mix = Arc::new(mix);
    println!(
        "bench list: {n} orders, {clients} clients × {rounds} rounds of {} queries",
        mix.len()
    );
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..clients {
        let (api, mix, token, dtoken) = (api.clone(), mix.clone(), token.clone(), dtoken.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<Vec<f64>> = vec![vec![]; mix.len()];
            for _ in 0..rounds {
                for (i, (_, path, dept_user)) in mix.iter().enumerate() {
                    let tok = if *dept_user { &dtoken } else { &token };
                    api.call::<IgnoredAny>(tok, reqwest::Method::GET, path, None, &mut lat[i])
                        .await?;
                }
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut per: Vec<Vec<f64>> = vec![vec![]; mix.len()];
    for t in tasks {
        for (i, l) in t.await??.into_iter().enumerate() {
            per[i].extend(l);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let mut all: Vec<f64> = per.iter().flatten().copied().collect();
    all.sort_by(|a, b| a.total_cmp(b));
    println!("  {:<14} {:>9} {:>9}", "query", "p50 ms", "p99 ms");
    for (i, (name, _, _)) in mix.iter().enumerate() {
        per[i].sort_by(|a, b| a.total_cmp(b));
        println!(
            "  {:<14} {:>9.2} {:>9.2}",
            name,
            pct(&per[i], 0.5),
            pct(&per[i], 0.99)
        );
    }
    println!(
        "  {:<14} {:>9.2} {:>9.2}",
        "all",
        pct(&all, 0.5),
        pct(&all, 0.99)
    );
    println!("  requests/s     {:.0}", all.len() as f64 / secs);
    Ok(())
}

async fn count_all(store: &Store) -> Result<usize> {
    let s = store.order_stats(Utc::now()).await?;
    Ok(s.by_status.values().sum::<i64>() as usize)
}
