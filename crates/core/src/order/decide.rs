//! The lifecycle rules: which command may happen, by whom, in which state,
//! and which events it produces. Pure: the clock, calendar and organisation
//! come in through [`Ctx`].

use super::command::Command;
use super::error::OrderError;
use super::event::{ClockSet, EventKind};
use super::fields::OrderFields;
use super::types::{Satisfaction, Status};
use super::view::WorkOrder;
use crate::calendar::BusinessCalendar;
use crate::deadline::{Clock, ClockState, DeadlineSpec};
use crate::ids::DepartmentId;
use crate::org::{Actor, DepartmentKind, OrgTree, Role};
use crate::values::{bounded_text, CaseNumber};
use chrono::{DateTime, Utc};

pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a BusinessCalendar,
    /// Deadlines for this order's category and urgency.
    pub spec: DeadlineSpec,
    pub org: &'a OrgTree,
    /// The other order of a merge or link, loaded by the caller.
    pub other: Option<&'a WorkOrder>,
}

impl Ctx<'_> {
    fn clock(&self, span: crate::deadline::WorkSpan) -> ClockState {
        ClockState::start(
            self.calendar,
            self.now,
            span.minutes(self.calendar),
            self.spec.yellow_percent,
        )
    }
}

use Role::*;

const REGISTRARS: &[Role] = &[Agent, ShiftLead, Dispatcher, CallbackAgent];
const DISPATCHERS: &[Role] = &[Agent, ShiftLead, Dispatcher];
const REVIEWERS: &[Role] = &[ShiftLead, Dispatcher];
const DEPARTMENT: &[Role] = &[DepartmentHandler, DepartmentAdmin];

/// Validates a registration; the caller allocates the case number.
pub fn register(
    actor: &Actor,
    case_number: CaseNumber,
    fields: OrderFields,
    suggested_department: Option<DepartmentId>,
) -> Result<EventKind, OrderError> {
    if !actor.is_system() && !actor.has_role(REGISTRARS) {
        return Err(OrderError::forbidden("register", actor.role));
    }
    let fields = fields.normalise()?;
    Ok(EventKind::Registered {
        case_number,
        fields,
        suggested_department,
    })
}

fn need_role(actor: &Actor, cmd: &'static str, roles: &[Role]) -> Result<(), OrderError> {
    if actor.has_role(roles) {
        Ok(())
    } else {
        Err(OrderError::forbidden(cmd, actor.role))
    }
}

fn need_status(o: &WorkOrder, cmd: &'static str, allowed: &[Status]) -> Result<(), OrderError> {
    if allowed.contains(&o.status) {
        Ok(())
    } else {
        Err(OrderError::IllegalState {
            command: cmd,
            status: o.status,
        })
    }
}

fn need_reason<'r>(reason: Option<&'r str>, cmd: &'static str) -> Result<&'r str, OrderError> {
    match reason.map(str::trim) {
        Some(r) if !r.is_empty() => Ok(r),
        _ => Err(OrderError::ReasonRequired { command: cmd }),
    }
}

/// A department user acting on the order's main department.
fn need_main_scope(
    o: &WorkOrder,
    actor: &Actor,
    org: &OrgTree,
    cmd: &'static str,
    statuses: &[Status],
) -> Result<(), OrderError> {
    need_role(actor, cmd, DEPARTMENT)?;
    need_status(o, cmd, statuses)?;
    match (o.main_department, actor.department_id) {
        (Some(main), Some(mine)) if org.is_within(main, mine) => Ok(()),
        _ => Err(OrderError::OutOfScope { command: cmd }),
    }
}

fn text(field: &'static str, s: &str) -> Result<String, OrderError> {
    Ok(bounded_text(field, s, 20_000, true)?)
}

/// Decides the events a command produces, or why it is refused.
pub fn decide(
    o: &WorkOrder,
    cmd: &Command,
    reason: Option<&str>,
    actor: &Actor,
    ctx: &Ctx<'_>,
) -> Result<Vec<EventKind>, OrderError> {
    let name = cmd.name();
    if o.suspended
        && !matches!(
            cmd,
            Command::Resume
                | Command::Supervise
                | Command::Link { .. }
                | Command::Supplement { .. }
        )
    {
        return Err(OrderError::Suspended { command: name });
    }
    use Status as S;
    let ev = match cmd {
        Command::AnswerOnTheSpot { answer } => {
            need_role(actor, name, REGISTRARS)?;
            need_status(o, name, &[S::Registered])?;
            vec![EventKind::AnsweredOnTheSpot {
                answer: text("answer", answer)?,
            }]
        }
        Command::Dispatch {
            main_department_id,
            co_department_ids,
            instructions,
        } => dispatch(
            o,
            actor,
            ctx,
            *main_department_id,
            co_department_ids,
            instructions.as_deref(),
        )?,
        Command::Sign => {
            need_main_scope(o, actor, ctx.org, name, &[S::Dispatched])?;
            vec![EventKind::Signed]
        }
        Command::CoReply { text: t } => {
            need_role(actor, name, DEPARTMENT)?;
            need_status(o, name, &[S::Dispatched, S::Signed, S::ReturnRequested])?;
            let dept = o
                .co_departments
                .iter()
                .copied()
                .find(|d| {
                    actor
                        .department_id
                        .is_some_and(|mine| ctx.org.is_within(*d, mine))
                })
                .ok_or(OrderError::OutOfScope { command: name })?;
            vec![EventKind::CoReplied {
                department: dept,
                text: text("text", t)?,
            }]
        }
        Command::RequestReturn => {
            need_main_scope(o, actor, ctx.org, name, &[S::Dispatched, S::Signed])?;
            need_reason(reason, name)?;
            vec![EventKind::ReturnRequested {
                department: o.main_department.unwrap_or(DepartmentId(0)),
            }]
        }
        Command::ApproveReturn | Command::RejectReturn => {
            need_status(o, name, &[S::ReturnRequested])?;
            let back_to = approver_of_return(o, actor, ctx.org, name)?;
            if matches!(cmd, Command::ApproveReturn) {
                vec![EventKind::ReturnApproved { back_to }]
            } else {
                need_reason(reason, name)?;
                vec![EventKind::ReturnRejected]
            }
        }
        Command::RequestExtension { extra } => {
            need_main_scope(o, actor, ctx.org, name, &[S::Signed])?;
            need_reason(reason, name)?;
            if o.pending_extension_minutes.is_some() {
                return Err(OrderError::Rule(
                    "an extension request is already pending".into(),
                ));
            }
            vec![EventKind::ExtensionRequested {
                minutes: extra.minutes(ctx.calendar),
            }]
        }
        Command::ApproveExtension | Command::RejectExtension => {
            need_role(actor, name, REVIEWERS)?;
            need_status(o, name, &[S::Signed])?;
            let Some(minutes) = o.pending_extension_minutes else {
                return Err(OrderError::Rule("no extension request is pending".into()));
            };
            if matches!(cmd, Command::ApproveExtension) {
                let mut reply = o
                    .reply_clock
                    .clone()
                    .unwrap_or_else(|| ctx.clock(ctx.spec.reply));
                reply.extend(ctx.calendar, minutes, ctx.spec.yellow_percent);
                vec![EventKind::ExtensionApproved { minutes, reply }]
            } else {
                need_reason(reason, name)?;
                vec![EventKind::ExtensionRejected]
            }
        }
        Command::Reply { text: t } => {
            need_main_scope(o, actor, ctx.org, name, &[S::Signed])?;
            vec![EventKind::Replied {
                text: text("text", t)?,
            }]
        }
        Command::AcceptReply => {
            need_role(actor, name, REVIEWERS)?;
            need_status(o, name, &[S::Replied])?;
            vec![EventKind::ReplyAccepted {
                callback: ctx.clock(ctx.spec.callback),
            }]
        }
        Command::OrderRework => {
            need_role(actor, name, REVIEWERS)?;
            need_status(o, name, &[S::Replied])?;
            need_reason(reason, name)?;
            vec![EventKind::ReworkOrdered {
                reply: ctx.clock(ctx.spec.reply),
            }]
        }
        Command::RecordCallback {
            satisfaction,
            note,
            reopen,
        } => {
            need_role(actor, name, &[CallbackAgent, Dispatcher, ShiftLead])?;
            need_status(o, name, &[S::AwaitingCallback])?;
            if *reopen && *satisfaction != Satisfaction::Unsatisfied {
                return Err(OrderError::Rule(
                    "only an unsatisfied callback can reopen the order".into(),
                ));
            }
            let note = match note {
                Some(n) => Some(bounded_text("note", n, 2000, false)?).filter(|s| !s.is_empty()),
                None => None,
            };
            vec![EventKind::CallbackRecorded {
                satisfaction: *satisfaction,
                note,
                reopened: reopen.then(|| ctx.clock(ctx.spec.reply)),
            }]
        }
        Command::Close => {
            need_role(actor, name, &[Dispatcher, ShiftLead, CallbackAgent])?;
            need_status(o, name, &[S::CallbackDone, S::AwaitingCallback])?;
            if o.status == S::AwaitingCallback {
                // Closing without a callback needs a stated reason (e.g. anonymous caller).
                need_reason(reason, name)?;
            }
            vec![EventKind::Closed {
                note: reason.map(str::to_string),
            }]
        }
        Command::Suspend => {
            need_role(actor, name, REVIEWERS)?;
            need_status(o, name, &[S::Dispatched, S::Signed, S::AwaitingCallback])?;
            need_reason(reason, name)?;
            let mut set = clock_set(o);
            for c in [&mut set.sign, &mut set.reply, &mut set.callback]
                .into_iter()
                .flatten()
            {
                c.pause(ctx.calendar, ctx.now);
            }
            vec![EventKind::Suspended { clocks: set }]
        }
        Command::Resume => {
            need_role(actor, name, REVIEWERS)?;
            if !o.suspended {
                return Err(OrderError::IllegalState {
                    command: name,
                    status: o.status,
                });
            }
            let mut set = clock_set(o);
            for c in [&mut set.sign, &mut set.reply, &mut set.callback]
                .into_iter()
                .flatten()
            {
                c.resume(ctx.calendar, ctx.now);
            }
            vec![EventKind::Resumed { clocks: set }]
        }
        Command::Supervise => {
            need_role(actor, name, &[Supervisor, Dispatcher, ShiftLead, Leader])?;
            need_open(o, name)?;
            vec![EventKind::Supervised {
                note: reason.map(str::to_string),
            }]
        }
        Command::Remind => {
            need_role(actor, name, &[Supervisor, Dispatcher, ShiftLead])?;
            need_status(o, name, &[S::Dispatched, S::Signed, S::ReturnRequested])?;
            vec![EventKind::Reminded {
                auto: false,
                note: reason.map(str::to_string),
            }]
        }
        Command::Merge { into } => {
            need_role(actor, name, DISPATCHERS)?;
            need_status(o, name, &[S::Registered, S::Dispatched])?;
            let target = other(o, ctx, *into, name)?;
            if matches!(target.status, S::Voided | S::Merged) {
                return Err(OrderError::Rule(format!(
                    "order {} is {} and cannot take a duplicate",
                    target.case_number, target.status
                )));
            }
            vec![EventKind::MergedInto {
                target: target.id,
                target_case: target.case_number.clone(),
            }]
        }
        Command::Link { other: id } => {
            need_role(
                actor,
                name,
                &[Agent, ShiftLead, Dispatcher, Supervisor, CallbackAgent],
            )?;
            let target = other(o, ctx, *id, name)?;
            if o.links.contains(&target.id) {
                return Err(OrderError::Rule("the orders are already linked".into()));
            }
            vec![EventKind::Linked {
                other: target.id,
                other_case: target.case_number.clone(),
            }]
        }
        Command::Void => {
            need_role(actor, name, DISPATCHERS)?;
            need_status(o, name, &[S::Registered])?;
            need_reason(reason, name)?;
            vec![EventKind::Voided]
        }
        Command::Supplement { patch } => {
            need_role(actor, name, &[Agent, ShiftLead, Dispatcher, CallbackAgent])?;
            if matches!(o.status, S::Voided | S::Merged) {
                return Err(OrderError::IllegalState {
                    command: name,
                    status: o.status,
                });
            }
            let patch = patch.clone().normalise()?;
            if patch.is_empty() {
                return Err(OrderError::Rule("nothing to supplement".into()));
            }
            vec![EventKind::Supplemented { patch }]
        }
        Command::DeadlineWarning { clock } | Command::DeadlineOverdue { clock } => {
            if !actor.is_system() {
                return Err(OrderError::forbidden(name, actor.role));
            }
            deadline(o, cmd, *clock, ctx)?
        }
    };
    Ok(ev)
}

fn need_open(o: &WorkOrder, cmd: &'static str) -> Result<(), OrderError> {
    if o.status.is_terminal() {
        Err(OrderError::IllegalState {
            command: cmd,
            status: o.status,
        })
    } else {
        Ok(())
    }
}

fn clock_set(o: &WorkOrder) -> ClockSet {
    ClockSet {
        sign: o.sign_clock.clone(),
        reply: o.reply_clock.clone(),
        callback: o.callback_clock.clone(),
    }
}

fn other<'a>(
    o: &WorkOrder,
    ctx: &Ctx<'a>,
    id: crate::ids::OrderId,
    cmd: &'static str,
) -> Result<&'a WorkOrder, OrderError> {
    if id == o.id {
        return Err(OrderError::Rule(format!(
            "{cmd}: an order cannot refer to itself"
        )));
    }
    ctx.other
        .filter(|t| t.id == id)
        .ok_or_else(|| OrderError::Rule(format!("{cmd}: order {id} not found")))
}

/// Who may decide on a return, and where an approved return goes.
fn approver_of_return(
    o: &WorkOrder,
    actor: &Actor,
    org: &OrgTree,
    cmd: &'static str,
) -> Result<Option<DepartmentId>, OrderError> {
    let from_dept = o.dispatched_from.filter(|d| {
        org.get(*d)
            .is_some_and(|d| d.kind != DepartmentKind::Centre)
    });
    match from_dept {
        // Passed down by a district: that district (or the centre) decides,
        // and an approved return goes back to it.
        Some(up) => {
            let dept_admin_ok = actor.has_role(&[DepartmentAdmin])
                && actor
                    .department_id
                    .is_some_and(|mine| org.is_within(up, mine));
            if dept_admin_ok || actor.has_role(REVIEWERS) {
                Ok(Some(up))
            } else {
                Err(OrderError::forbidden(cmd, actor.role))
            }
        }
        None => {
            need_role(actor, cmd, REVIEWERS)?;
            Ok(None)
        }
    }
}

fn dispatch(
    o: &WorkOrder,
    actor: &Actor,
    ctx: &Ctx<'_>,
    main: DepartmentId,
    co: &[DepartmentId],
    instructions: Option<&str>,
) -> Result<Vec<EventKind>, OrderError> {
    const NAME: &str = "dispatch";
    let target = ctx.org.get(main).filter(|d| d.active).ok_or_else(|| {
        OrderError::Rule(format!("department {main} does not exist or is inactive"))
    })?;
    if target.kind == DepartmentKind::Centre {
        return Err(OrderError::Rule(
            "an order is dispatched to a department, not the centre".into(),
        ));
    }
    let mut co_clean: Vec<DepartmentId> = vec![];
    for d in co {
        if *d == main || co_clean.contains(d) {
            continue;
        }
        if !ctx
            .org
            .get(*d)
            .is_some_and(|x| x.active && x.kind != DepartmentKind::Centre)
        {
            return Err(OrderError::Rule(format!(
                "co-handler {d} does not exist or is inactive"
            )));
        }
        co_clean.push(*d);
    }
    let instructions = match instructions {
        Some(i) => Some(bounded_text("instructions", i, 2000, false)?).filter(|s| !s.is_empty()),
        None => None,
    };
    let sign = ctx.clock(ctx.spec.sign);
    if actor.has_role(DEPARTMENT) {
        // 下派: a department admin passes the order down its own subtree.
        need_role(actor, NAME, &[DepartmentAdmin])?;
        need_status(o, NAME, &[Status::Dispatched, Status::Signed])?;
        let mine = actor
            .department_id
            .ok_or(OrderError::OutOfScope { command: NAME })?;
        let current = o
            .main_department
            .ok_or(OrderError::OutOfScope { command: NAME })?;
        if !ctx.org.is_within(current, mine) {
            return Err(OrderError::OutOfScope { command: NAME });
        }
        if main == current
            || !ctx.org.is_within(main, mine)
            || co_clean.iter().any(|d| !ctx.org.is_within(*d, mine))
        {
            return Err(OrderError::Rule(
                "a department passes an order only further down its own tree".into(),
            ));
        }
        return Ok(vec![EventKind::Dispatched {
            main,
            co: co_clean,
            from_department: Some(current),
            instructions,
            sign,
            reply: None,
        }]);
    }
    need_role(actor, NAME, DISPATCHERS)?;
    // From the centre: first dispatch, or re-dispatch (改派) of a dispatched order.
    need_status(
        o,
        NAME,
        &[Status::Registered, Status::Dispatched, Status::Signed],
    )?;
    Ok(vec![EventKind::Dispatched {
        main,
        co: co_clean,
        from_department: actor.department_id,
        instructions,
        sign,
        reply: Some(ctx.clock(ctx.spec.reply)),
    }])
}

/// Warning and overdue events raised by the scheduler, with automatic
/// reminders (催办) to the department for the sign and reply clocks.
fn deadline(
    o: &WorkOrder,
    cmd: &Command,
    clock: Clock,
    ctx: &Ctx<'_>,
) -> Result<Vec<EventKind>, OrderError> {
    let name = cmd.name();
    need_open(o, name)?;
    let state = o
        .clock(clock)
        .filter(|c| c.is_running())
        .ok_or_else(|| OrderError::Rule(format!("the {} clock is not running", clock.as_str())))?;
    let overdue = matches!(cmd, Command::DeadlineOverdue { .. });
    let raised = if overdue { &o.overdue } else { &o.warned };
    if raised.contains(&clock) {
        return Err(OrderError::Rule(format!(
            "the {} clock's event was already raised",
            clock.as_str()
        )));
    }
    let at = if overdue { state.due_at } else { state.warn_at };
    if ctx.now < at {
        return Err(OrderError::Rule(format!(
            "the {} clock has not reached that point",
            clock.as_str()
        )));
    }
    let mut ev = vec![if overdue {
        EventKind::DeadlineOverdue {
            clock,
            due_at: state.due_at,
        }
    } else {
        EventKind::DeadlineWarning {
            clock,
            due_at: state.due_at,
        }
    }];
    if clock != Clock::Callback && (overdue || clock == Clock::Reply) {
        ev.push(EventKind::Reminded {
            auto: true,
            note: Some(format!(
                "{}{}",
                if clock == Clock::Sign {
                    "签收"
                } else {
                    "办理"
                },
                if overdue { "已超期" } else { "即将超期" }
            )),
        });
    }
    Ok(ev)
}
