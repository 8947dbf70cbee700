//! One storage story, run against SQLite always and against PostgreSQL when
//! it is reachable (CI sets REXIAN_REQUIRE_PG=1 so a missing server fails).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use rexian_core::citizen::CitizenTag;
use rexian_core::deadline::{Clock, Light};
use rexian_core::ids::DepartmentId;
use rexian_core::order::{
    Caller, Channel, Command, OrderFields, OrderType, Satisfaction, Status, Urgency, WorkOrder,
};
use rexian_core::org::{Actor, DepartmentKind, Role};
use rexian_core::values::PhoneNumber;
use rexian_store::{
    CategoryInput, DepartmentInput, NewOrder, OrderFilter, Store, StoreError, StoreOptions,
    UserInput,
};

struct Org {
    centre: DepartmentId,
    district: DepartmentId,
    street: DepartmentId,
    water: DepartmentId,
    agent: Actor,
    dispatcher: Actor,
    district_handler: Actor,
    water_handler: Actor,
    callback: Actor,
}

async fn setup(store: &Store) -> Org {
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
    let water = store
        .create_department(&d(None, "water", "市水务局", DepartmentKind::Functional))
        .await
        .unwrap();
    let dup = store
        .create_department(&d(None, "water", "again", DepartmentKind::Functional))
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
    let water_cat = store
        .create_category(&CategoryInput {
            parent_id: None,
            code: "water".into(),
            name: "供水".into(),
        })
        .await
        .unwrap();
    let outage = store
        .create_category(&CategoryInput {
            parent_id: Some(water_cat),
            code: "water.outage".into(),
            name: "停水".into(),
        })
        .await
        .unwrap();
    store
        .put_routing_rule(water_cat, None, water)
        .await
        .unwrap();
    store
        .put_routing_rule(outage, Some(district), district)
        .await
        .unwrap();
    let mk = |name: &str, role, dept| UserInput {
        username: name.into(),
        display_name: name.into(),
        password: "password-123".into(),
        role,
        department_id: dept,
    };
    let mut actors = vec![];
    for (n, r, dpt) in [
        ("agent", Role::Agent, centre),
        ("dispatcher", Role::Dispatcher, centre),
        ("dh", Role::DepartmentHandler, district),
        ("wh", Role::DepartmentHandler, water),
        ("cb", Role::CallbackAgent, centre),
    ] {
        actors.push(store.create_user(&mk(n, r, dpt)).await.unwrap().actor());
    }
    // A department role cannot sit in the centre.
    assert!(store
        .create_user(&mk("bad", Role::DepartmentHandler, centre))
        .await
        .is_err());
    let snap = store.snapshot();
    assert_eq!(
        snap.suggest_department(Some(outage), Some(district)),
        Some(district)
    );
    assert_eq!(
        snap.suggest_department(Some(outage), Some(street)),
        Some(water)
    );
    let mut it = actors.into_iter();
    Org {
        centre,
        district,
        street,
        water,
        agent: it.next().unwrap(),
        dispatcher: it.next().unwrap(),
        district_handler: it.next().unwrap(),
        water_handler: it.next().unwrap(),
        callback: it.next().unwrap(),
    }
}

fn new_order(org: &Org, phone: &str, title: &str) -> NewOrder {
    NewOrder {
        fields: OrderFields {
            channel: Channel::Phone,
            order_type: OrderType::Complaint,
            category_id: None,
            urgency: Urgency::Normal,
            title: title.into(),
            content: format!("{title}，请尽快处理"),
            caller: Caller {
                phone: Some(PhoneNumber::parse(phone).unwrap()),
                name: Some("李女士".into()),
                ..Caller::default()
            },
            address: Some("东华街道幸福里5号".into()),
            district_id: Some(org.district),
            street_id: Some(org.street),
            location: None,
            tags: vec![],
            custom: Default::default(),
            call_id: None,
            external_ref: None,
        },
        answer: None,
    }
}

async fn run(
    store: &Store,
    o: &WorkOrder,
    who: &Actor,
    cmd: Command,
    now: chrono::DateTime<Utc>,
) -> WorkOrder {
    store
        .execute(o.id, Some(o.version), who, &cmd, Some("理由"), now)
        .await
        .unwrap()
}

async fn story(store: Store) {
    let org = setup(&store).await;
    // Monday 2026-11-23 10:00 Shanghai.
    let t0 = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);

    // Idempotent create: a retried POST yields the same order.
    let (a, created) = store
        .create_order(
            &org.agent,
            new_order(&org, "13800000001", "楼道积水"),
            Some("k-1"),
            t0,
        )
        .await
        .unwrap();
    assert!(created);
    let (a2, created2) = store
        .create_order(
            &org.agent,
            new_order(&org, "13800000001", "楼道积水"),
            Some("k-1"),
            t0,
        )
        .await
        .unwrap();
    assert!(!created2);
    assert_eq!(a.id, a2.id);
    assert_eq!(a.case_number.as_str(), "2026112300001");
    let (b, _) = store
        .create_order(
            &org.agent,
            new_order(&org, "13800000002", "路灯不亮"),
            None,
            t0,
        )
        .await
        .unwrap();
    assert_eq!(b.case_number.as_str(), "2026112300002");

    // Full lifecycle.
    let o = run(
        &store,
        &a,
        &org.dispatcher,
        Command::Dispatch {
            main_department_id: org.district,
            co_department_ids: vec![org.water],
            instructions: None,
        },
        t0,
    )
    .await;
    assert_eq!(o.status, Status::Dispatched);
    // Department scope: the district sees it, the street does not.
    let mut f = OrderFilter {
        scope: Some(org.district),
        per_page: 50,
        ..OrderFilter::default()
    };
    assert_eq!(
        store
            .list_orders(
                &OrderFilter {
                    count: true,
                    ..f.clone()
                },
                t0
            )
            .await
            .unwrap()
            .total
            .unwrap(),
        1
    );
    f.scope = Some(org.street);
    assert_eq!(
        store
            .list_orders(
                &OrderFilter {
                    count: true,
                    ..f.clone()
                },
                t0
            )
            .await
            .unwrap()
            .total
            .unwrap(),
        0
    );
    f.scope = Some(org.water);
    assert_eq!(
        store
            .list_orders(
                &OrderFilter {
                    count: true,
                    ..f.clone()
                },
                t0
            )
            .await
            .unwrap()
            .total
            .unwrap(),
        1,
        "co-handler sees it"
    );

    // Optimistic concurrency: a stale version is refused and changes nothing.
    let stale = store
        .execute(
            o.id,
            Some(o.version - 1),
            &org.district_handler,
            &Command::Sign,
            None,
            t0,
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "{stale:?}"
    );
    // Two handlers at once: exactly one wins.
    let (s1, s2) = tokio::join!(
        store.execute(
            o.id,
            Some(o.version),
            &org.district_handler,
            &Command::Sign,
            None,
            t0
        ),
        store.execute(
            o.id,
            Some(o.version),
            &org.district_handler,
            &Command::Sign,
            None,
            t0
        ),
    );
    let wins = [&s1, &s2].iter().filter(|r| r.is_ok()).count();
    let conflicts = [&s1, &s2]
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { .. })))
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{s1:?} {s2:?}");
    let o = s1.or(s2).unwrap();
    // Wrong role is refused.
    let denied = store
        .execute(
            o.id,
            None,
            &org.water_handler,
            &Command::Reply { text: "x".into() },
            None,
            t0,
        )
        .await;
    assert!(matches!(denied, Err(StoreError::Order(_))), "{denied:?}");
    let o = run(
        &store,
        &o,
        &org.water_handler,
        Command::CoReply {
            text: "管网正常".into(),
        },
        t0,
    )
    .await;
    let o = run(
        &store,
        &o,
        &org.district_handler,
        Command::Reply {
            text: "已清理积水".into(),
        },
        t0,
    )
    .await;
    let o = run(&store, &o, &org.dispatcher, Command::AcceptReply, t0).await;
    let o = run(
        &store,
        &o,
        &org.callback,
        Command::RecordCallback {
            satisfaction: Satisfaction::Satisfied,
            note: None,
            reopen: false,
        },
        t0,
    )
    .await;
    let o = run(&store, &o, &org.dispatcher, Command::Close, t0).await;
    assert_eq!(o.status, Status::Closed);
    let history = store.history(o.id).await.unwrap();
    assert_eq!(history.len(), 8);
    assert_eq!(
        WorkOrder::fold(o.id, &history).unwrap(),
        store.order(o.id).await.unwrap()
    );

    // Deadlines: b is dispatched and nobody signs.
    let b = run(
        &store,
        &b,
        &org.dispatcher,
        Command::Dispatch {
            main_department_id: org.district,
            co_department_ids: vec![],
            instructions: None,
        },
        t0,
    )
    .await;
    let pending = store.order(b.id).await.unwrap().pending_deadlines();
    assert_eq!(
        pending.len(),
        4,
        "sign and reply, warning and overdue: {pending:?}"
    );
    let f = OrderFilter {
        light: Some(Light::Green),
        per_page: 10,
        ..OrderFilter::default()
    };
    assert_eq!(
        store
            .list_orders(
                &OrderFilter {
                    count: true,
                    ..f.clone()
                },
                t0
            )
            .await
            .unwrap()
            .total
            .unwrap(),
        1
    );
    let t1 = t0 + Duration::minutes(31);
    let f = OrderFilter {
        light: Some(Light::Red),
        clock: Some(Clock::Sign),
        per_page: 10,
        ..OrderFilter::default()
    };
    assert_eq!(store.list_orders(&f, t1).await.unwrap().items[0].id, b.id);
    let run1 = store.run_due_deadlines(t1, 100).await.unwrap();
    assert_eq!(run1.fired, 2, "{run1:?}");
    let run2 = store.run_due_deadlines(t1, 100).await.unwrap();
    assert_eq!(run2.fired, 0, "never twice");
    let b = store.order(b.id).await.unwrap();
    assert_eq!(b.overdue, vec![Clock::Sign]);
    assert_eq!(b.reminder_count, 1);
    let stats = store.order_stats(t1).await.unwrap();
    assert_eq!(stats.overdue_by_clock["sign"], 1);
    assert_eq!(stats.by_status["closed"], 1);

    // Filters.
    let q = |f: OrderFilter| {
        let store = store.clone();
        async move {
            store
                .list_orders(
                    &OrderFilter {
                        per_page: 20,
                        count: true,
                        ..f
                    },
                    t1,
                )
                .await
                .unwrap()
                .total
                .unwrap()
        }
    };
    assert_eq!(
        q(OrderFilter {
            status: vec![Status::Closed],
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        q(OrderFilter {
            text: Some("路灯".into()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        q(OrderFilter {
            text: Some("50%".into()),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        q(OrderFilter {
            phone: Some(PhoneNumber::parse("13800000001").unwrap()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        q(OrderFilter {
            department: Some(org.district),
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        q(OrderFilter {
            case_number: Some(b.case_number.clone()),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        q(OrderFilter {
            created_from: Some(t0 + Duration::seconds(1)),
            ..Default::default()
        })
        .await,
        0
    );

    // Merge and link touch both orders.
    let (c, _) = store
        .create_order(
            &org.agent,
            new_order(&org, "13800000003", "路灯不亮（重复）"),
            None,
            t1,
        )
        .await
        .unwrap();
    let c = store
        .execute(
            c.id,
            None,
            &org.agent,
            &Command::Merge { into: b.id },
            None,
            t1,
        )
        .await
        .unwrap();
    assert_eq!(c.status, Status::Merged);
    assert_eq!(store.order(b.id).await.unwrap().merged_from, vec![c.id]);
    store
        .execute(
            a.id,
            None,
            &org.agent,
            &Command::Link { other: b.id },
            None,
            t1,
        )
        .await
        .unwrap();
    assert_eq!(store.order(b.id).await.unwrap().links, vec![a.id]);

    // Citizens: profile from the order, tags, search, CSV round trip.
    let phone = PhoneNumber::parse("13800000001").unwrap();
    let cz = store.citizen(&phone).await.unwrap();
    assert_eq!(cz.name.as_deref(), Some("李女士"));
    assert_eq!(cz.addresses, vec!["东华街道幸福里5号".to_string()]);
    assert!(store
        .set_citizen_tag(
            &phone,
            &CitizenTag::parse("blacklist").unwrap(),
            &org.agent,
            None
        )
        .await
        .is_err());
    store
        .set_citizen_tag(
            &phone,
            &CitizenTag::parse("blacklist").unwrap(),
            &org.agent,
            Some("恶意骚扰"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .tagged(&CitizenTag::parse("blacklist").unwrap())
            .await
            .unwrap(),
        vec![phone.clone()]
    );
    assert_eq!(store.search_citizens("幸福里", 10).await.unwrap().len(), 3);
    assert_eq!(store.search_citizens("0000001", 10).await.unwrap().len(), 1);
    assert_eq!(store.timeline(&phone, 10).await.unwrap().len(), 1);
    let csv = store.export_citizens_csv().await.unwrap();
    assert!(csv.contains("13800000001,李女士"), "{csv}");
    let bad = "phone,name\n13900000000,王\nnot-a-phone,李\n";
    assert!(store.import_citizens_csv(bad, &org.agent).await.is_err());
    assert!(
        store
            .citizen(&PhoneNumber::parse("13900000000").unwrap())
            .await
            .is_err(),
        "nothing imported"
    );
    let good = "phone,name,addresses,tags\n13900000000,王大爷,老街1号;新街2号,elderly;vip\n";
    assert_eq!(
        store.import_citizens_csv(good, &org.agent).await.unwrap(),
        1
    );
    let w = store
        .citizen(&PhoneNumber::parse("13900000000").unwrap())
        .await
        .unwrap();
    assert_eq!(w.tags.len(), 2);
    assert_eq!(w.addresses.len(), 2);

    // Attachments: type checked against content, stored under the data dir.
    let png = b"\x89PNG\r\n\x1a\nrest-of-image";
    let (att, view) = store
        .save_attachment(
            b.id,
            "现场.png",
            "image/png",
            png,
            &org.agent,
            &Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(view.attachments.len(), 1);
    assert_eq!(
        store
            .read_attachment(&store.attachment(att.id).await.unwrap())
            .await
            .unwrap(),
        png
    );
    assert!(store
        .save_attachment(
            b.id,
            "x.png",
            "image/png",
            b"not a png",
            &org.agent,
            &Default::default()
        )
        .await
        .is_err());
    assert!(store
        .save_attachment(
            b.id,
            "x.exe",
            "application/x-msdownload",
            b"MZ",
            &org.agent,
            &Default::default()
        )
        .await
        .is_err());

    // Logins and lockout.
    let (token, s) = store.login("agent", "password-123", t1).await.unwrap();
    assert_eq!(s.user.role, Role::Agent);
    assert!(store.session(&token, t1).await.unwrap().is_some());
    for _ in 0..4 {
        assert!(matches!(
            store.login("dh", "wrong", t1).await,
            Err(StoreError::BadCredentials)
        ));
    }
    assert!(matches!(
        store.login("dh", "wrong", t1).await,
        Err(StoreError::Locked(_))
    ));
    assert!(
        matches!(
            store.login("dh", "password-123", t1).await,
            Err(StoreError::Locked(_))
        ),
        "locked even with the right password"
    );
    assert!(store
        .login("dh", "password-123", t1 + Duration::minutes(16))
        .await
        .is_ok());
    // Sessions expire after 12 hours and are purged; so are old idempotency keys.
    let purged = store
        .purge_expired(Utc::now() + Duration::days(3))
        .await
        .unwrap();
    assert!(purged >= 3, "{purged}");
    assert!(store.session(&token, Utc::now()).await.unwrap().is_none());
    let _ = org.centre;
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("rexian-story-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&StoreOptions::sqlite_in(&dir)).await.unwrap();
    story(store.clone()).await;
    // Reopening finds everything (and runs no migration twice).
    store.close().await;
    let again = Store::open(&StoreOptions::sqlite_in(&dir)).await.unwrap();
    assert_eq!(
        again.order_stats(Utc::now()).await.unwrap().by_status["closed"],
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(url) = rexian_store::testing::fresh_postgres("story").await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("rexian-story-pg-{}", std::process::id()));
    let opts = StoreOptions {
        url,
        ..StoreOptions::sqlite_in(&dir)
    };
    let store = Store::open(&opts).await.unwrap();
    story(store).await;
    let _ = std::fs::remove_dir_all(&dir);
}
