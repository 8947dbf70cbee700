//! Every lifecycle transition, and the illegal ones, on the pure engine.

use super::*;
use crate::calendar::BusinessCalendar;
use crate::deadline::{Clock, DeadlinePolicy, Light, WorkSpan};
use crate::ids::{DepartmentId, OrderId, UserId};
use crate::org::{Actor, Department, DepartmentKind, OrgTree, Role};
use crate::values::{CaseNumber, PhoneNumber};
use chrono::{DateTime, Duration, TimeZone, Utc};

const CENTRE: DepartmentId = DepartmentId(1);
const DISTRICT: DepartmentId = DepartmentId(2);
const STREET: DepartmentId = DepartmentId(3);
const WATER: DepartmentId = DepartmentId(4);
const OTHER_DISTRICT: DepartmentId = DepartmentId(5);

struct World {
    cal: BusinessCalendar,
    org: OrgTree,
    now: DateTime<Utc>,
    events: Vec<Event>,
    order: WorkOrder,
}

fn dept(
    id: DepartmentId,
    parent: Option<DepartmentId>,
    path: &str,
    kind: DepartmentKind,
) -> Department {
    Department {
        id,
        parent_id: parent,
        name: format!("d{id}"),
        kind,
        path: path.into(),
        active: true,
    }
}

fn actor(role: Role, dept: DepartmentId) -> Actor {
    Actor::user(
        UserId(dept.0 * 100 + role as i64),
        role.as_str(),
        role,
        dept,
    )
}

fn agent() -> Actor {
    actor(Role::Agent, CENTRE)
}
fn dispatcher() -> Actor {
    actor(Role::Dispatcher, CENTRE)
}
fn handler(d: DepartmentId) -> Actor {
    actor(Role::DepartmentHandler, d)
}

fn fields() -> OrderFields {
    OrderFields {
        channel: Channel::Phone,
        order_type: OrderType::Complaint,
        category_id: None,
        urgency: Urgency::Normal,
        title: "小区停水".into(),
        content: "幸福小区3号楼从早上开始停水,没有通知。".into(),
        caller: Caller {
            phone: Some(PhoneNumber::parse("13812341234").unwrap()),
            name: Some("张先生".into()),
            ..Caller::default()
        },
        address: Some("幸福路1号".into()),
        district_id: Some(DISTRICT),
        street_id: Some(STREET),
        location: None,
        tags: vec![],
        custom: Default::default(),
        call_id: None,
        external_ref: None,
    }
}

impl World {
    fn new() -> Self {
        let mut cal = BusinessCalendar::new(
            "Asia/Shanghai",
            &[
                ("09:00".into(), "12:00".into()),
                ("13:00".into(), "18:00".into()),
            ],
        )
        .unwrap();
        cal.load_year_toml(include_str!("../../../../calendars/cn-2026.toml"))
            .unwrap();
        let org = OrgTree::new([
            dept(CENTRE, None, "/1/", DepartmentKind::Centre),
            dept(DISTRICT, None, "/2/", DepartmentKind::District),
            dept(STREET, Some(DISTRICT), "/2/3/", DepartmentKind::Street),
            dept(WATER, None, "/4/", DepartmentKind::Functional),
            dept(OTHER_DISTRICT, None, "/5/", DepartmentKind::District),
        ]);
        // Monday 2026-11-23 10:00 in Shanghai.
        let now = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let case = CaseNumber::new(now.date_naive(), 1).unwrap();
        let kind = register(&agent(), case, fields(), Some(DISTRICT)).unwrap();
        let first = Event {
            seq: 1,
            at: now,
            actor: agent(),
            reason: None,
            kind,
        };
        let order = WorkOrder::from_registration(OrderId(1), &first).unwrap();
        Self {
            cal,
            org,
            now,
            events: vec![first],
            order,
        }
    }

    fn try_run(
        &mut self,
        who: &Actor,
        cmd: Command,
        reason: Option<&str>,
    ) -> Result<(), OrderError> {
        self.try_run_with(who, cmd, reason, None)
    }

    fn try_run_with(
        &mut self,
        who: &Actor,
        cmd: Command,
        reason: Option<&str>,
        other: Option<&WorkOrder>,
    ) -> Result<(), OrderError> {
        let ctx = Ctx {
            now: self.now,
            calendar: &self.cal,
            spec: DeadlinePolicy::default().resolve(&[], self.order.fields.urgency),
            org: &self.org,
            other,
        };
        let kinds = decide(&self.order, &cmd, reason, who, &ctx)?;
        for kind in kinds {
            let e = Event {
                seq: self.order.version + 1,
                at: self.now,
                actor: who.clone(),
                reason: reason.map(str::to_string),
                kind,
            };
            self.order.apply(&e);
            self.events.push(e);
        }
        Ok(())
    }

    fn run(&mut self, who: &Actor, cmd: Command, reason: Option<&str>) {
        self.try_run(who, cmd, reason).unwrap();
        // The stored view always equals the fold of the history.
        assert_eq!(
            WorkOrder::fold(self.order.id, &self.events).unwrap(),
            self.order
        );
    }

    fn dispatch_to(&mut self, d: DepartmentId) {
        self.run(
            &dispatcher(),
            Command::Dispatch {
                main_department_id: d,
                co_department_ids: vec![],
                instructions: None,
            },
            None,
        );
    }

    fn later(&mut self, minutes: i64) {
        self.now += Duration::minutes(minutes);
    }
}

fn illegal(r: Result<(), OrderError>, status: Status) {
    match r {
        Err(OrderError::IllegalState { status: s, .. }) => assert_eq!(s, status),
        other => panic!("expected illegal_state in {status}, got {other:?}"),
    }
}

#[test]
fn full_lifecycle_happy_path() {
    let mut w = World::new();
    assert_eq!(w.order.status, Status::Registered);
    w.dispatch_to(DISTRICT);
    assert_eq!(w.order.status, Status::Dispatched);
    assert_eq!(w.order.main_department, Some(DISTRICT));
    // Sign due 30 working minutes after dispatch.
    assert_eq!(
        w.order.sign_clock.as_ref().unwrap().due_at,
        w.now + Duration::minutes(30)
    );
    assert_eq!(w.order.clock_light(Clock::Sign, w.now), Some(Light::Green));
    w.later(10);
    w.run(&handler(DISTRICT), Command::Sign, None);
    assert_eq!(w.order.status, Status::Signed);
    assert!(!w.order.sign_clock.as_ref().unwrap().was_late());
    w.run(
        &handler(DISTRICT),
        Command::Reply {
            text: "已恢复供水".into(),
        },
        None,
    );
    assert_eq!(w.order.status, Status::Replied);
    w.run(&dispatcher(), Command::AcceptReply, None);
    assert_eq!(w.order.status, Status::AwaitingCallback);
    assert!(w.order.callback_clock.is_some());
    w.run(
        &actor(Role::CallbackAgent, CENTRE),
        Command::RecordCallback {
            satisfaction: Satisfaction::Satisfied,
            note: Some("市民表示满意".into()),
            reopen: false,
        },
        None,
    );
    assert_eq!(w.order.status, Status::CallbackDone);
    w.run(&dispatcher(), Command::Close, None);
    assert_eq!(w.order.status, Status::Closed);
    assert!(w.order.closed_at.is_some());
    assert_eq!(w.order.version, 7);
    assert_eq!(w.order.light(w.now), None);
    // Nothing more happens to a closed order.
    illegal(
        w.try_run(&dispatcher(), Command::Close, None),
        Status::Closed,
    );
    illegal(
        w.try_run(&dispatcher(), Command::Supervise, None),
        Status::Closed,
    );
}

#[test]
fn answer_on_the_spot_closes_directly() {
    let mut w = World::new();
    w.run(
        &agent(),
        Command::AnswerOnTheSpot {
            answer: "公积金提取需携带身份证".into(),
        },
        None,
    );
    assert_eq!(w.order.status, Status::Closed);
    illegal(
        w.try_run(
            &agent(),
            Command::AnswerOnTheSpot { answer: "x".into() },
            None,
        ),
        Status::Closed,
    );
}

#[test]
fn wrong_roles_and_scopes_are_refused() {
    let mut w = World::new();
    let r = w.try_run(
        &handler(DISTRICT),
        Command::Dispatch {
            main_department_id: DISTRICT,
            co_department_ids: vec![],
            instructions: None,
        },
        None,
    );
    assert!(matches!(r, Err(OrderError::Forbidden { .. })), "{r:?}");
    w.dispatch_to(DISTRICT);
    // Another district cannot sign; a street cannot sign its district's order.
    let r = w.try_run(&handler(OTHER_DISTRICT), Command::Sign, None);
    assert!(matches!(r, Err(OrderError::OutOfScope { .. })), "{r:?}");
    let r = w.try_run(&handler(STREET), Command::Sign, None);
    assert!(matches!(r, Err(OrderError::OutOfScope { .. })), "{r:?}");
    // The centre does not sign for departments.
    let r = w.try_run(&dispatcher(), Command::Sign, None);
    assert!(matches!(r, Err(OrderError::Forbidden { .. })), "{r:?}");
    // A leader only watches.
    let r = w.try_run(&actor(Role::Leader, CENTRE), Command::Remind, None);
    assert!(matches!(r, Err(OrderError::Forbidden { .. })), "{r:?}");
    // Scheduler commands are the system's.
    let r = w.try_run(
        &dispatcher(),
        Command::DeadlineOverdue { clock: Clock::Sign },
        None,
    );
    assert!(matches!(r, Err(OrderError::Forbidden { .. })), "{r:?}");
    assert_eq!(w.order.status, Status::Dispatched);
    assert_eq!(w.order.version, 2);
}

#[test]
fn illegal_transitions_name_state_and_command() {
    let mut w = World::new();
    illegal(
        w.try_run(&handler(DISTRICT), Command::Sign, None),
        Status::Registered,
    );
    illegal(
        w.try_run(&dispatcher(), Command::AcceptReply, None),
        Status::Registered,
    );
    illegal(
        w.try_run(&dispatcher(), Command::Close, Some("x")),
        Status::Registered,
    );
    w.dispatch_to(DISTRICT);
    let e = w
        .try_run(
            &handler(DISTRICT),
            Command::Reply { text: "x".into() },
            None,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "command reply is not allowed while the order is dispatched"
    );
    assert_eq!(e.code(), "illegal_state");
    illegal(
        w.try_run(&dispatcher(), Command::Void, Some("x")),
        Status::Dispatched,
    );
    illegal(
        w.try_run(
            &handler(DISTRICT),
            Command::RequestExtension {
                extra: WorkSpan::parse("1d").unwrap(),
            },
            Some("x"),
        ),
        Status::Dispatched,
    );
}

#[test]
fn return_approved_goes_back_to_the_centre() {
    let mut w = World::new();
    w.dispatch_to(WATER);
    let r = w.try_run(&handler(WATER), Command::RequestReturn, None);
    assert!(matches!(r, Err(OrderError::ReasonRequired { .. })));
    w.run(
        &handler(WATER),
        Command::RequestReturn,
        Some("不属于本单位职责"),
    );
    assert_eq!(w.order.status, Status::ReturnRequested);
    let r = w.try_run(&handler(WATER), Command::ApproveReturn, None);
    assert!(matches!(r, Err(OrderError::Forbidden { .. })));
    w.run(&dispatcher(), Command::ApproveReturn, None);
    assert_eq!(w.order.status, Status::Registered);
    assert_eq!(w.order.main_department, None);
    assert_eq!(w.order.return_count, 1);
    // Re-dispatch to the right department.
    w.dispatch_to(DISTRICT);
    assert_eq!(w.order.main_department, Some(DISTRICT));
}

#[test]
fn return_rejected_counts_against_the_department() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    w.run(&handler(DISTRICT), Command::Sign, None);
    w.run(&handler(DISTRICT), Command::RequestReturn, Some("非我辖区"));
    let r = w.try_run(&dispatcher(), Command::RejectReturn, None);
    assert!(matches!(r, Err(OrderError::ReasonRequired { .. })));
    w.run(&dispatcher(), Command::RejectReturn, Some("地址属于本辖区"));
    assert_eq!(w.order.status, Status::Signed);
    assert_eq!(w.order.rejected_return_count, 1);
}

#[test]
fn redispatch_down_the_tree_and_return_up() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    let reply_due = w.order.reply_clock.as_ref().unwrap().due_at;
    let admin = actor(Role::DepartmentAdmin, DISTRICT);
    w.run(&admin, Command::Sign, None);
    // Not sideways, not to itself.
    let r = w.try_run(
        &admin,
        Command::Dispatch {
            main_department_id: OTHER_DISTRICT,
            co_department_ids: vec![],
            instructions: None,
        },
        None,
    );
    assert!(matches!(r, Err(OrderError::Rule(_))), "{r:?}");
    w.later(30);
    w.run(
        &admin,
        Command::Dispatch {
            main_department_id: STREET,
            co_department_ids: vec![],
            instructions: Some("请街道核实处理".into()),
        },
        None,
    );
    assert_eq!(w.order.main_department, Some(STREET));
    assert_eq!(w.order.status, Status::Dispatched);
    assert_eq!(w.order.dispatched_from, Some(DISTRICT));
    // The reply deadline of the order keeps running.
    assert_eq!(w.order.reply_clock.as_ref().unwrap().due_at, reply_due);
    // A plain handler cannot pass orders down.
    w.run(&handler(STREET), Command::Sign, None);
    w.run(&handler(STREET), Command::RequestReturn, Some("需区级协调"));
    // The district decides, and the order goes back to it.
    w.run(&admin, Command::ApproveReturn, None);
    assert_eq!(w.order.main_department, Some(DISTRICT));
    assert_eq!(w.order.status, Status::Signed);
}

#[test]
fn co_handlers_contribute() {
    let mut w = World::new();
    w.run(
        &dispatcher(),
        Command::Dispatch {
            main_department_id: DISTRICT,
            co_department_ids: vec![WATER, DISTRICT],
            instructions: None,
        },
        None,
    );
    assert_eq!(w.order.co_departments, vec![WATER]);
    w.run(
        &handler(WATER),
        Command::CoReply {
            text: "管网已抢修".into(),
        },
        None,
    );
    assert_eq!(w.order.co_replies.len(), 1);
    let r = w.try_run(
        &handler(OTHER_DISTRICT),
        Command::CoReply { text: "x".into() },
        None,
    );
    assert!(matches!(r, Err(OrderError::OutOfScope { .. })));
    // A co-handler cannot sign for the main department.
    let r = w.try_run(&handler(WATER), Command::Sign, None);
    assert!(matches!(r, Err(OrderError::OutOfScope { .. })));
}

#[test]
fn extension_moves_the_reply_deadline() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    w.run(&handler(DISTRICT), Command::Sign, None);
    let before = w.order.reply_clock.as_ref().unwrap().due_at;
    w.run(
        &handler(DISTRICT),
        Command::RequestExtension {
            extra: WorkSpan::parse("2d").unwrap(),
        },
        Some("需协调供水公司"),
    );
    let r = w.try_run(
        &handler(DISTRICT),
        Command::RequestExtension {
            extra: WorkSpan::parse("1d").unwrap(),
        },
        Some("again"),
    );
    assert!(matches!(r, Err(OrderError::Rule(_))));
    w.run(&dispatcher(), Command::ApproveExtension, None);
    let after = w.order.reply_clock.as_ref().unwrap().due_at;
    assert_eq!(
        w.cal.working_minutes_between(before, after),
        2 * w.cal.minutes_per_day()
    );
    assert_eq!(w.order.extension_count, 1);
    // Reject path.
    w.run(
        &handler(DISTRICT),
        Command::RequestExtension {
            extra: WorkSpan::parse("1d").unwrap(),
        },
        Some("再延"),
    );
    w.run(&dispatcher(), Command::RejectExtension, Some("理由不充分"));
    assert_eq!(w.order.reply_clock.as_ref().unwrap().due_at, after);
    assert_eq!(w.order.pending_extension_minutes, None);
    let r = w.try_run(&dispatcher(), Command::ApproveExtension, None);
    assert!(matches!(r, Err(OrderError::Rule(_))));
}

#[test]
fn review_rework_and_unsatisfied_callback_reopen() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    w.run(&handler(DISTRICT), Command::Sign, None);
    w.run(
        &handler(DISTRICT),
        Command::Reply {
            text: "已处理".into(),
        },
        None,
    );
    w.run(&dispatcher(), Command::OrderRework, Some("答复不完整"));
    assert_eq!(w.order.status, Status::Signed);
    assert_eq!(w.order.rework_count, 1);
    w.run(
        &handler(DISTRICT),
        Command::Reply {
            text: "已处理,附照片".into(),
        },
        None,
    );
    w.run(&dispatcher(), Command::AcceptReply, None);
    let cb = actor(Role::CallbackAgent, CENTRE);
    let r = w.try_run(
        &cb,
        Command::RecordCallback {
            satisfaction: Satisfaction::Satisfied,
            note: None,
            reopen: true,
        },
        None,
    );
    assert!(matches!(r, Err(OrderError::Rule(_))));
    w.run(
        &cb,
        Command::RecordCallback {
            satisfaction: Satisfaction::Unsatisfied,
            note: Some("问题仍存在".into()),
            reopen: true,
        },
        None,
    );
    assert_eq!(w.order.status, Status::Signed);
    assert_eq!(w.order.rework_count, 2);
    assert_eq!(w.order.satisfaction, Some(Satisfaction::Unsatisfied));
}

#[test]
fn close_without_callback_needs_a_reason() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    w.run(&handler(DISTRICT), Command::Sign, None);
    w.run(
        &handler(DISTRICT),
        Command::Reply { text: "ok".into() },
        None,
    );
    w.run(&dispatcher(), Command::AcceptReply, None);
    let r = w.try_run(&dispatcher(), Command::Close, None);
    assert!(matches!(r, Err(OrderError::ReasonRequired { .. })));
    w.run(&dispatcher(), Command::Close, Some("匿名来电,无法回访"));
    assert_eq!(w.order.status, Status::Closed);
}

#[test]
fn suspension_stops_the_clock() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    w.run(&handler(DISTRICT), Command::Sign, None);
    let due = w.order.reply_clock.as_ref().unwrap().due_at;
    w.run(&dispatcher(), Command::Suspend, Some("等待司法鉴定"));
    assert!(w.order.suspended);
    assert_eq!(w.order.light(w.now + Duration::days(30)), None);
    // Everything but resume/supervise/link/supplement waits.
    let r = w.try_run(
        &handler(DISTRICT),
        Command::Reply { text: "x".into() },
        None,
    );
    assert!(matches!(r, Err(OrderError::Suspended { .. })));
    let r = w.try_run(&dispatcher(), Command::Suspend, Some("again"));
    assert!(matches!(r, Err(OrderError::Suspended { .. })));
    // Resume one working day later: the deadline moves by one working day.
    let one_day_later = w.cal.add_working_minutes(w.now, w.cal.minutes_per_day());
    w.now = one_day_later;
    w.run(&dispatcher(), Command::Resume, None);
    assert!(!w.order.suspended);
    let new_due = w.order.reply_clock.as_ref().unwrap().due_at;
    assert_eq!(
        w.cal.working_minutes_between(due, new_due),
        w.cal.minutes_per_day()
    );
    let r = w.try_run(&dispatcher(), Command::Resume, None);
    assert!(matches!(r, Err(OrderError::IllegalState { .. })));
}

#[test]
fn supervise_remind_link_merge_void_supplement() {
    let mut w = World::new();
    let mut other = World::new();
    other.order.id = OrderId(2);
    w.run(
        &actor(Role::Supervisor, CENTRE),
        Command::Supervise,
        Some("媒体关注"),
    );
    assert!(w.order.supervised);
    illegal(
        w.try_run(&actor(Role::Supervisor, CENTRE), Command::Remind, None),
        Status::Registered,
    );
    w.try_run_with(
        &agent(),
        Command::Link { other: OrderId(2) },
        None,
        Some(&other.order),
    )
    .unwrap();
    assert_eq!(w.order.links, vec![OrderId(2)]);
    let r = w.try_run_with(
        &agent(),
        Command::Link { other: OrderId(2) },
        None,
        Some(&other.order),
    );
    assert!(matches!(r, Err(OrderError::Rule(_))));
    let r = w.try_run_with(&agent(), Command::Link { other: OrderId(1) }, None, None);
    assert!(matches!(r, Err(OrderError::Rule(_))));
    w.run(
        &agent(),
        Command::Supplement {
            patch: FieldPatch {
                append: Some("来电人补充:已停水两天".into()),
                urgency: Some(Urgency::Urgent),
                ..FieldPatch::default()
            },
        },
        None,
    );
    assert!(w.order.fields.content.contains("已停水两天"));
    assert_eq!(w.order.fields.urgency, Urgency::Urgent);
    let r = w.try_run(
        &agent(),
        Command::Supplement {
            patch: FieldPatch::default(),
        },
        None,
    );
    assert!(matches!(r, Err(OrderError::Rule(_))));
    w.try_run_with(
        &agent(),
        Command::Merge { into: OrderId(2) },
        None,
        Some(&other.order),
    )
    .unwrap();
    assert_eq!(w.order.status, Status::Merged);
    assert_eq!(w.order.merged_into, Some(OrderId(2)));

    let mut v = World::new();
    let r = v.try_run(&agent(), Command::Void, None);
    assert!(matches!(r, Err(OrderError::ReasonRequired { .. })));
    v.run(&agent(), Command::Void, Some("骚扰电话"));
    assert_eq!(v.order.status, Status::Voided);
    illegal(
        v.try_run(
            &dispatcher(),
            Command::Dispatch {
                main_department_id: DISTRICT,
                co_department_ids: vec![],
                instructions: None,
            },
            None,
        ),
        Status::Voided,
    );

    let mut r = World::new();
    r.dispatch_to(DISTRICT);
    r.run(
        &actor(Role::Supervisor, CENTRE),
        Command::Remind,
        Some("请加快办理"),
    );
    assert_eq!(r.order.reminder_count, 1);
}

#[test]
fn scheduler_warnings_and_overdue_with_auto_reminders() {
    let mut w = World::new();
    w.dispatch_to(DISTRICT);
    let sys = Actor::system("scheduler");
    let r = w.try_run(&sys, Command::DeadlineOverdue { clock: Clock::Sign }, None);
    assert!(matches!(r, Err(OrderError::Rule(_))), "not yet due: {r:?}");
    w.later(24);
    assert_eq!(w.order.clock_light(Clock::Sign, w.now), Some(Light::Yellow));
    w.run(&sys, Command::DeadlineWarning { clock: Clock::Sign }, None);
    assert_eq!(w.order.warned, vec![Clock::Sign]);
    assert_eq!(w.order.reminder_count, 0);
    w.later(10);
    assert_eq!(w.order.clock_light(Clock::Sign, w.now), Some(Light::Red));
    w.run(&sys, Command::DeadlineOverdue { clock: Clock::Sign }, None);
    assert_eq!(w.order.overdue, vec![Clock::Sign]);
    assert_eq!(w.order.reminder_count, 1);
    assert_eq!(w.order.light(w.now), Some(Light::Red));
    w.run(&handler(DISTRICT), Command::Sign, None);
    assert!(w.order.sign_clock.as_ref().unwrap().was_late());
    let r = w.try_run(&sys, Command::DeadlineOverdue { clock: Clock::Sign }, None);
    assert!(
        matches!(r, Err(OrderError::Rule(_))),
        "stopped clock: {r:?}"
    );
}

#[test]
fn registration_validates_and_checks_role() {
    let case = CaseNumber::parse("2026112300001").unwrap();
    let mut f = fields();
    f.title = "   ".into();
    assert!(matches!(
        register(&agent(), case.clone(), f, None),
        Err(OrderError::Invalid(_))
    ));
    assert!(matches!(
        register(&handler(DISTRICT), case.clone(), fields(), None),
        Err(OrderError::Forbidden { .. })
    ));
    assert!(register(&Actor::system("open311"), case, fields(), None).is_ok());
}

/// Every command in every status: allowed exactly where the lifecycle says,
/// and refused with `illegal_state` (or, for the suspension pair, the
/// suspension error) everywhere else — always by an actor whose role and
/// scope would otherwise allow it, so the state is what decides.
#[test]
fn state_matrix_of_every_command() {
    use Status as S;
    // Orders in each status, reached through the lifecycle.
    let mut worlds: Vec<(Status, World)> = vec![];
    let reach = |steps: usize| {
        let mut w = World::new();
        let plan: Vec<(Actor, Command, Option<&str>)> = vec![
            (
                dispatcher(),
                Command::Dispatch {
                    main_department_id: DISTRICT,
                    co_department_ids: vec![],
                    instructions: None,
                },
                None,
            ),
            (handler(DISTRICT), Command::Sign, None),
            (
                handler(DISTRICT),
                Command::Reply { text: "ok".into() },
                None,
            ),
            (dispatcher(), Command::AcceptReply, None),
            (
                actor(Role::CallbackAgent, CENTRE),
                Command::RecordCallback {
                    satisfaction: Satisfaction::Satisfied,
                    note: None,
                    reopen: false,
                },
                None,
            ),
            (dispatcher(), Command::Close, None),
        ];
        for (a, c, r) in plan.into_iter().take(steps) {
            w.run(&a, c, r);
        }
        w
    };
    for (i, s) in [
        S::Registered,
        S::Dispatched,
        S::Signed,
        S::Replied,
        S::AwaitingCallback,
        S::CallbackDone,
        S::Closed,
    ]
    .into_iter()
    .enumerate()
    {
        let w = reach(i);
        assert_eq!(w.order.status, s);
        worlds.push((s, w));
    }
    let mut ret = reach(2);
    ret.run(
        &handler(DISTRICT),
        Command::RequestReturn,
        Some("不属于本单位"),
    );
    worlds.push((S::ReturnRequested, ret));
    let mut void = reach(0);
    void.run(&agent(), Command::Void, Some("骚扰"));
    worlds.push((S::Voided, void));
    let mut merged = reach(0);
    let target = reach(0).order;
    let mut target = target;
    target.id = OrderId(2);
    merged
        .try_run_with(
            &agent(),
            Command::Merge { into: OrderId(2) },
            None,
            Some(&target),
        )
        .unwrap();
    worlds.push((S::Merged, merged));

    let cb = actor(Role::CallbackAgent, CENTRE);
    let sup = actor(Role::Supervisor, CENTRE);
    let admin = actor(Role::DepartmentAdmin, DISTRICT);
    // (command, actor, reason, statuses where the state allows it)
    let table: Vec<(Command, Actor, Option<&str>, Vec<Status>)> = vec![
        (
            Command::AnswerOnTheSpot {
                answer: "答".into(),
            },
            agent(),
            None,
            vec![S::Registered],
        ),
        (
            Command::Dispatch {
                main_department_id: WATER,
                co_department_ids: vec![],
                instructions: None,
            },
            dispatcher(),
            None,
            vec![S::Registered, S::Dispatched, S::Signed],
        ),
        (
            Command::Dispatch {
                main_department_id: STREET,
                co_department_ids: vec![],
                instructions: None,
            },
            admin.clone(),
            None,
            vec![S::Dispatched, S::Signed],
        ),
        (Command::Sign, handler(DISTRICT), None, vec![S::Dispatched]),
        (
            Command::RequestReturn,
            handler(DISTRICT),
            Some("r"),
            vec![S::Dispatched, S::Signed],
        ),
        (
            Command::ApproveReturn,
            dispatcher(),
            None,
            vec![S::ReturnRequested],
        ),
        (
            Command::RejectReturn,
            dispatcher(),
            Some("r"),
            vec![S::ReturnRequested],
        ),
        (
            Command::RequestExtension {
                extra: WorkSpan::parse("1d").unwrap(),
            },
            handler(DISTRICT),
            Some("r"),
            vec![S::Signed],
        ),
        (
            Command::Reply { text: "t".into() },
            handler(DISTRICT),
            None,
            vec![S::Signed],
        ),
        (Command::AcceptReply, dispatcher(), None, vec![S::Replied]),
        (
            Command::OrderRework,
            dispatcher(),
            Some("r"),
            vec![S::Replied],
        ),
        (
            Command::RecordCallback {
                satisfaction: Satisfaction::Satisfied,
                note: None,
                reopen: false,
            },
            cb.clone(),
            None,
            vec![S::AwaitingCallback],
        ),
        (
            Command::Close,
            dispatcher(),
            Some("r"),
            vec![S::AwaitingCallback, S::CallbackDone],
        ),
        (
            Command::Suspend,
            dispatcher(),
            Some("r"),
            vec![S::Dispatched, S::Signed, S::AwaitingCallback],
        ),
        (
            Command::Supervise,
            sup.clone(),
            None,
            vec![
                S::Registered,
                S::Dispatched,
                S::Signed,
                S::ReturnRequested,
                S::Replied,
                S::AwaitingCallback,
                S::CallbackDone,
            ],
        ),
        (
            Command::Remind,
            sup.clone(),
            None,
            vec![S::Dispatched, S::Signed, S::ReturnRequested],
        ),
        (Command::Void, agent(), Some("r"), vec![S::Registered]),
        (
            Command::Supplement {
                patch: FieldPatch {
                    append: Some("补".into()),
                    ..FieldPatch::default()
                },
            },
            agent(),
            None,
            Status::ALL
                .iter()
                .copied()
                .filter(|s| !matches!(s, S::Voided | S::Merged))
                .collect(),
        ),
    ];
    for (status, w) in &worlds {
        for (cmd, who, reason, allowed) in &table {
            let mut probe = World {
                cal: w.cal.clone(),
                org: w.org.clone(),
                now: w.now,
                events: w.events.clone(),
                order: w.order.clone(),
            };
            let r = probe.try_run(who, cmd.clone(), *reason);
            let is_illegal = matches!(r, Err(OrderError::IllegalState { .. }));
            if allowed.contains(status) {
                assert!(
                    !is_illegal,
                    "{} should be allowed in {status}: {r:?}",
                    cmd.name()
                );
            } else {
                assert!(
                    is_illegal,
                    "{} should be illegal in {status}: {r:?}",
                    cmd.name()
                );
            }
        }
    }
}
