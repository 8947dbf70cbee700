//! The demo city (示范市): a complete, plausible configuration and a few
//! dozen work orders in every stage of the lifecycle, seeded into an empty
//! store so that a new installation can be tried at once. The data lives in
//! `demo_city.toml`; this module only feeds it through the store's ordinary
//! API, so every order is a real fold of real events.

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use rexian_core::citizen::CitizenTag;
use rexian_core::deadline::{DeadlineRule, WorkSpan};
use rexian_core::ids::{CategoryId, DepartmentId, OrderId};
use rexian_core::order::{
    Caller, Channel, Command, OrderFields, OrderType, Satisfaction, Urgency, WorkOrder,
};
use rexian_core::org::{Actor, DepartmentKind, Role};
use rexian_core::values::PhoneNumber;
use rexian_store::{CategoryInput, DepartmentInput, NewOrder, Store, User, UserInput};
use serde::Deserialize;
use std::collections::HashMap;

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "rexian-demo";
/// The Open311 API key of the demo city.
pub const DEMO_OPEN311_KEY: &str = "demo-open311-key";

const CITY: &str = include_str!("demo_city.toml");

/// A login of the demo city, to print at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    /// The name of the user's unit, e.g. `东湖区`.
    pub department: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInfo {
    pub logins: Vec<DemoLogin>,
    pub open311_key: String,
}

/// Creates the demo city in an empty store. Idempotent guard: if the store
/// already has any department, returns `Ok(None)` and changes nothing.
pub async fn seed(store: &Store) -> Result<Option<DemoInfo>> {
    if !store.department_codes().await?.is_empty() {
        return Ok(None);
    }
    let city: City = toml::from_str(CITY).context("demo_city.toml")?;
    let mut seeder = Seeder {
        store,
        depts: HashMap::new(),
        cats: HashMap::new(),
        users: vec![],
    };
    seeder.organisation(&city).await?;
    seeder.categories(&city).await?;
    seeder.deadlines(&city.deadlines).await?;
    seeder.users(&city.users).await?;
    seeder.citizens(&city.citizens).await?;
    store
        .insert_api_key(DEMO_OPEN311_KEY, "演示 Open311 客户端", "open311")
        .await?;
    seeder.orders(&city.orders).await?;

    let snap = store.snapshot();
    let logins = seeder
        .users
        .iter()
        .map(|u| DemoLogin {
            username: u.username.clone(),
            role: u.role,
            department: snap.org.name(u.department_id),
        })
        .collect();
    Ok(Some(DemoInfo {
        logins,
        open311_key: DEMO_OPEN311_KEY.to_string(),
    }))
}

// ── The data file ────────────────────────────────────────────────────────────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct City {
    centre: Unit,
    districts: Vec<District>,
    functional: Vec<Unit>,
    categories: Vec<CategoryDef>,
    deadlines: Deadlines,
    users: Vec<UserDef>,
    citizens: Vec<CitizenDef>,
    orders: Vec<OrderDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unit {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct District {
    code: String,
    name: String,
    #[serde(default)]
    streets: Vec<Street>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Street {
    code: String,
    name: String,
    #[serde(default)]
    communities: Vec<Unit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryDef {
    code: String,
    name: String,
    /// City-wide routing to this functional department.
    department: Option<String>,
    /// In each district, route to that district.
    #[serde(default)]
    local: bool,
    #[serde(default)]
    subs: Vec<SubcategoryDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubcategoryDef {
    code: String,
    name: String,
    department: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deadlines {
    yellow_percent: u8,
    rules: Vec<RuleDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    category: Option<String>,
    urgency: Option<Urgency>,
    sign: String,
    reply: String,
    callback: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserDef {
    username: String,
    display_name: String,
    role: Role,
    department: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CitizenDef {
    phone: String,
    name: Option<String>,
    #[serde(default)]
    addresses: Vec<String>,
    note: Option<String>,
    #[serde(default)]
    tags: Vec<TagDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagDef {
    tag: String,
    reason: Option<String>,
}

/// What a demo user does to an order, in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    Dispatch,
    PassDown,
    Sign,
    RequestReturn,
    RequestExtension,
    ApproveExtension,
    Reply,
    Accept,
    Rework,
    Callback,
    Close,
    Supervise,
    Remind,
    Void,
    Merge,
    Link,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderDef {
    hours_ago: f64,
    /// A username, or `system:名称` for a channel acting without a user;
    /// the agent when absent.
    registered_by: Option<String>,
    /// A name for `merge_into` and `link_to` of later orders.
    key: Option<String>,
    channel: Channel,
    #[serde(rename = "type")]
    order_type: OrderType,
    category: Option<String>,
    #[serde(default = "normal")]
    urgency: Urgency,
    title: String,
    content: String,
    caller_phone: Option<String>,
    caller_name: Option<String>,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    confidential: bool,
    address: Option<String>,
    district: Option<String>,
    street: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    external_ref: Option<String>,
    answer: Option<String>,
    #[serde(default)]
    steps: Vec<Step>,
    dispatch_to: Option<String>,
    #[serde(default)]
    co: Vec<String>,
    instructions: Option<String>,
    pass_down_to: Option<String>,
    reply: Option<String>,
    return_reason: Option<String>,
    extension: Option<String>,
    extension_reason: Option<String>,
    rework_reason: Option<String>,
    satisfaction: Option<Satisfaction>,
    callback_note: Option<String>,
    #[serde(default)]
    reopen: bool,
    close_note: Option<String>,
    supervise_note: Option<String>,
    remind_note: Option<String>,
    void_reason: Option<String>,
    merge_into: Option<String>,
    link_to: Option<String>,
}

fn normal() -> Urgency {
    Urgency::Normal
}

fn span(s: &str) -> Result<WorkSpan> {
    WorkSpan::parse(s).map_err(|e| anyhow!("deadline span: {e}"))
}

fn need<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| anyhow!("the step needs `{field}`"))
}

// ── Seeding ──────────────────────────────────────────────────────────────────

struct Seeder<'s> {
    store: &'s Store,
    depts: HashMap<String, DepartmentId>,
    cats: HashMap<String, CategoryId>,
    users: Vec<User>,
}

impl Seeder<'_> {
    async fn dept(
        &mut self,
        parent: Option<DepartmentId>,
        unit: &Unit,
        kind: DepartmentKind,
    ) -> Result<DepartmentId> {
        self.dept_named(parent, &unit.code, &unit.name, kind).await
    }

    async fn dept_named(
        &mut self,
        parent_id: Option<DepartmentId>,
        code: &str,
        name: &str,
        kind: DepartmentKind,
    ) -> Result<DepartmentId> {
        let id = self
            .store
            .create_department(&DepartmentInput {
                parent_id,
                code: code.to_string(),
                name: name.to_string(),
                kind,
            })
            .await
            .with_context(|| format!("department {code}"))?;
        self.depts.insert(code.to_string(), id);
        Ok(id)
    }

    fn dept_id(&self, code: &str) -> Result<DepartmentId> {
        self.depts
            .get(code)
            .copied()
            .ok_or_else(|| anyhow!("unknown department code {code:?}"))
    }

    fn cat_id(&self, code: &str) -> Result<CategoryId> {
        self.cats
            .get(code)
            .copied()
            .ok_or_else(|| anyhow!("unknown category code {code:?}"))
    }

    async fn organisation(&mut self, city: &City) -> Result<()> {
        self.dept(None, &city.centre, DepartmentKind::Centre)
            .await?;
        for d in &city.districts {
            let did = self
                .dept_named(None, &d.code, &d.name, DepartmentKind::District)
                .await?;
            for s in &d.streets {
                let sid = self
                    .dept_named(Some(did), &s.code, &s.name, DepartmentKind::Street)
                    .await?;
                for c in &s.communities {
                    self.dept(Some(sid), c, DepartmentKind::Community).await?;
                }
            }
        }
        for f in &city.functional {
            self.dept(None, f, DepartmentKind::Functional).await?;
        }
        Ok(())
    }

    async fn categories(&mut self, city: &City) -> Result<()> {
        let districts: Vec<DepartmentId> = city
            .districts
            .iter()
            .map(|d| self.dept_id(&d.code))
            .collect::<Result<_>>()?;
        for c in &city.categories {
            let id = self.category(None, &c.code, &c.name).await?;
            if let Some(dept) = &c.department {
                self.store
                    .put_routing_rule(id, None, self.dept_id(dept)?)
                    .await
                    .with_context(|| format!("routing of {}", c.code))?;
            }
            if c.local {
                for d in &districts {
                    self.store
                        .put_routing_rule(id, Some(*d), *d)
                        .await
                        .with_context(|| format!("district routing of {}", c.code))?;
                }
            }
            for s in &c.subs {
                let code = format!("{}.{}", c.code, s.code);
                let sid = self.category(Some(id), &code, &s.name).await?;
                if let Some(dept) = &s.department {
                    self.store
                        .put_routing_rule(sid, None, self.dept_id(dept)?)
                        .await
                        .with_context(|| format!("routing of {code}"))?;
                }
            }
        }
        Ok(())
    }

    async fn category(
        &mut self,
        parent_id: Option<CategoryId>,
        code: &str,
        name: &str,
    ) -> Result<CategoryId> {
        let id = self
            .store
            .create_category(&CategoryInput {
                parent_id,
                code: code.to_string(),
                name: name.to_string(),
            })
            .await
            .with_context(|| format!("category {code}"))?;
        self.cats.insert(code.to_string(), id);
        Ok(id)
    }

    async fn deadlines(&self, d: &Deadlines) -> Result<()> {
        let rules = d
            .rules
            .iter()
            .map(|r| {
                Ok(DeadlineRule {
                    category_id: r.category.as_deref().map(|c| self.cat_id(c)).transpose()?,
                    urgency: r.urgency,
                    sign: span(&r.sign)?,
                    reply: span(&r.reply)?,
                    callback: span(&r.callback)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.store
            .replace_deadline_rules(&rules, d.yellow_percent)
            .await
            .context("deadline rules")?;
        Ok(())
    }

    async fn users(&mut self, defs: &[UserDef]) -> Result<()> {
        for u in defs {
            let user = self
                .store
                .create_user(&UserInput {
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    password: DEMO_PASSWORD.to_string(),
                    role: u.role,
                    department_id: self.dept_id(&u.department)?,
                })
                .await
                .with_context(|| format!("user {}", u.username))?;
            self.users.push(user);
        }
        Ok(())
    }

    /// The demo user holding a centre role.
    fn centre_user(&self, role: Role) -> Result<Actor> {
        self.users
            .iter()
            .find(|u| u.role == role)
            .map(User::actor)
            .ok_or_else(|| anyhow!("the demo city has no {} user", role.as_str()))
    }

    /// The demo user with `role` in the nearest unit at or above `dept`.
    fn department_user(&self, role: Role, dept: Option<DepartmentId>) -> Result<Actor> {
        let dept = dept.ok_or_else(|| anyhow!("the order has no department yet"))?;
        let snap = self.store.snapshot();
        let depth = |id: DepartmentId| snap.org.get(id).map_or(0, |d| d.path.len());
        self.users
            .iter()
            .filter(|u| u.role == role && snap.org.is_within(dept, u.department_id))
            .max_by_key(|u| depth(u.department_id))
            .map(User::actor)
            .ok_or_else(|| {
                anyhow!(
                    "the demo city has no {} for {}",
                    role.as_str(),
                    snap.org.name(dept)
                )
            })
    }

    async fn citizens(&self, defs: &[CitizenDef]) -> Result<()> {
        let admin = self.centre_user(Role::Admin)?;
        for c in defs {
            let phone = PhoneNumber::parse(&c.phone)?;
            self.store
                .put_citizen(
                    &phone,
                    c.name.as_deref(),
                    Some(&c.addresses),
                    c.note.as_deref(),
                )
                .await
                .with_context(|| format!("citizen {}", phone.masked()))?;
            for t in &c.tags {
                self.store
                    .set_citizen_tag(
                        &phone,
                        &CitizenTag::parse(&t.tag)?,
                        &admin,
                        t.reason.as_deref(),
                    )
                    .await
                    .with_context(|| format!("tag {} on {}", t.tag, phone.masked()))?;
            }
        }
        Ok(())
    }

    async fn orders(&self, defs: &[OrderDef]) -> Result<()> {
        let now = Utc::now();
        // Oldest first, so that case numbers follow the time of registration.
        let mut defs: Vec<&OrderDef> = defs.iter().collect();
        defs.sort_by(|a, b| b.hours_ago.total_cmp(&a.hours_ago));
        let mut keys: HashMap<&str, OrderId> = HashMap::new();
        for def in defs {
            let o = self
                .order(def, now, &keys)
                .await
                .with_context(|| format!("demo order {:?}", def.title))?;
            if let Some(k) = &def.key {
                keys.insert(k, o.id);
            }
        }
        Ok(())
    }

    async fn order(
        &self,
        def: &OrderDef,
        now: DateTime<Utc>,
        keys: &HashMap<&str, OrderId>,
    ) -> Result<WorkOrder> {
        if !(0.0..=24.0 * 365.0).contains(&def.hours_ago) {
            bail!("hours_ago must be between 0 and a year");
        }
        // Registered `hours_ago`, the steps evenly spread between then and now.
        let age = Duration::seconds((def.hours_ago * 3600.0) as i64);
        let created = now - age;
        let gap = age / i32::try_from(def.steps.len() + 1).unwrap_or(i32::MAX);

        let registrar = match def.registered_by.as_deref() {
            Some(s) => match s.strip_prefix("system:") {
                Some(name) => Actor::system(name),
                None => self
                    .users
                    .iter()
                    .find(|u| u.username == s)
                    .map(User::actor)
                    .ok_or_else(|| anyhow!("unknown user {s:?}"))?,
            },
            None => self.centre_user(Role::Agent)?,
        };
        let fields = OrderFields {
            channel: def.channel,
            order_type: def.order_type,
            category_id: def
                .category
                .as_deref()
                .map(|c| self.cat_id(c))
                .transpose()?,
            urgency: def.urgency,
            title: def.title.clone(),
            content: def.content.clone(),
            caller: Caller {
                phone: def
                    .caller_phone
                    .as_deref()
                    .map(PhoneNumber::parse)
                    .transpose()?,
                name: def.caller_name.clone(),
                email: None,
                anonymous: def.anonymous,
                confidential: def.confidential,
            },
            address: def.address.clone(),
            district_id: def
                .district
                .as_deref()
                .map(|d| self.dept_id(d))
                .transpose()?,
            street_id: def.street.as_deref().map(|d| self.dept_id(d)).transpose()?,
            location: None,
            tags: def.tags.clone(),
            custom: Default::default(),
            call_id: None,
            external_ref: def.external_ref.clone(),
        };
        let new = NewOrder {
            fields,
            answer: def.answer.clone(),
        };
        let (mut o, _) = self
            .store
            .create_order(&registrar, new, None, created)
            .await?;

        for (i, step) in def.steps.iter().enumerate() {
            let at = created + gap * i32::try_from(i + 1).unwrap_or(i32::MAX);
            let (actor, cmd, reason) = self.step(def, *step, &o, keys)?;
            o = self
                .store
                .execute(o.id, Some(o.version), &actor, &cmd, reason, at)
                .await
                .with_context(|| format!("step {step:?}"))?;
        }
        Ok(o)
    }

    /// Who performs `step` on `o`, the command and its reason.
    fn step<'d>(
        &self,
        def: &'d OrderDef,
        step: Step,
        o: &WorkOrder,
        keys: &HashMap<&str, OrderId>,
    ) -> Result<(Actor, Command, Option<&'d str>)> {
        let order_key = |field: &Option<String>, name: &str| -> Result<OrderId> {
            let k = need(field, name)?;
            keys.get(k)
                .copied()
                .ok_or_else(|| anyhow!("no earlier order has key {k:?}"))
        };
        let handler = || self.department_user(Role::DepartmentHandler, o.main_department);
        Ok(match step {
            Step::Dispatch => {
                let main = match &def.dispatch_to {
                    Some(code) => self.dept_id(code)?,
                    None => o
                        .suggested_department
                        .ok_or_else(|| anyhow!("no routing rule applies: set dispatch_to"))?,
                };
                let co = def
                    .co
                    .iter()
                    .map(|c| self.dept_id(c))
                    .collect::<Result<_>>()?;
                (
                    self.centre_user(Role::Dispatcher)?,
                    Command::Dispatch {
                        main_department_id: main,
                        co_department_ids: co,
                        instructions: def.instructions.clone(),
                    },
                    None,
                )
            }
            Step::PassDown => (
                self.department_user(Role::DepartmentAdmin, o.main_department)?,
                Command::Dispatch {
                    main_department_id: self.dept_id(need(&def.pass_down_to, "pass_down_to")?)?,
                    co_department_ids: vec![],
                    instructions: None,
                },
                None,
            ),
            Step::Sign => (handler()?, Command::Sign, None),
            Step::RequestReturn => (
                handler()?,
                Command::RequestReturn,
                Some(need(&def.return_reason, "return_reason")?),
            ),
            Step::RequestExtension => (
                handler()?,
                Command::RequestExtension {
                    extra: span(need(&def.extension, "extension")?)?,
                },
                Some(need(&def.extension_reason, "extension_reason")?),
            ),
            Step::ApproveExtension => (
                self.centre_user(Role::Dispatcher)?,
                Command::ApproveExtension,
                None,
            ),
            Step::Reply => (
                handler()?,
                Command::Reply {
                    text: need(&def.reply, "reply")?.to_string(),
                },
                None,
            ),
            Step::Accept => (
                self.centre_user(Role::Dispatcher)?,
                Command::AcceptReply,
                None,
            ),
            Step::Rework => (
                self.centre_user(Role::Dispatcher)?,
                Command::OrderRework,
                Some(need(&def.rework_reason, "rework_reason")?),
            ),
            Step::Callback => (
                self.centre_user(Role::CallbackAgent)?,
                Command::RecordCallback {
                    satisfaction: def.satisfaction.unwrap_or(Satisfaction::Satisfied),
                    note: def.callback_note.clone(),
                    reopen: def.reopen,
                },
                None,
            ),
            Step::Close => (
                self.centre_user(Role::CallbackAgent)?,
                Command::Close,
                def.close_note.as_deref(),
            ),
            Step::Supervise => (
                self.centre_user(Role::Supervisor)?,
                Command::Supervise,
                def.supervise_note.as_deref(),
            ),
            Step::Remind => (
                self.centre_user(Role::Supervisor)?,
                Command::Remind,
                def.remind_note.as_deref(),
            ),
            Step::Void => (
                self.centre_user(Role::Dispatcher)?,
                Command::Void,
                Some(need(&def.void_reason, "void_reason")?),
            ),
            Step::Merge => (
                self.centre_user(Role::Dispatcher)?,
                Command::Merge {
                    into: order_key(&def.merge_into, "merge_into")?,
                },
                None,
            ),
            Step::Link => (
                self.centre_user(Role::Agent)?,
                Command::Link {
                    other: order_key(&def.link_to, "link_to")?,
                },
                None,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rexian_core::order::Status;
    use rexian_store::StoreOptions;

    #[tokio::test]
    async fn seeds_the_demo_city_once() {
        let dir = std::env::temp_dir().join(format!(
            "rexian-demo-test-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let store = Store::open(&StoreOptions::sqlite_in(&dir)).await.unwrap();
        let info = seed(&store)
            .await
            .unwrap()
            .expect("a fresh store is seeded");
        assert_eq!(info.open311_key, DEMO_OPEN311_KEY);

        let snap = store.snapshot();
        let count = |k: DepartmentKind| snap.org.all().filter(|d| d.kind == k).count();
        assert_eq!(count(DepartmentKind::Centre), 1);
        assert_eq!(count(DepartmentKind::District), 5);
        assert!(count(DepartmentKind::Street) >= 10);
        assert!(count(DepartmentKind::Community) >= 5);
        assert!(count(DepartmentKind::Functional) >= 15);
        assert!(snap
            .org
            .all()
            .filter(|d| d.kind == DepartmentKind::Functional)
            .all(|d| d.parent_id.is_none()));

        // One login per role, all with the demo password.
        let users = store.users().await.unwrap();
        for role in Role::ALL {
            assert!(users.iter().any(|u| u.role == role), "no {role:?}");
        }
        assert_eq!(info.logins.len(), users.len());
        for l in &info.logins {
            store
                .login(&l.username, DEMO_PASSWORD, Utc::now())
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", l.username));
        }

        // Routing: water to the water authority anywhere, sanitation to the district.
        let codes = store.department_codes().await.unwrap();
        let dept = |code: &str| codes.iter().find(|(_, c)| c == code).map(|(id, _)| *id);
        let cat = |code: &str| snap.categories.by_code(code).map(|c| c.id);
        assert_eq!(
            snap.suggest_department(cat("water.outage"), dept("d3")),
            dept("water")
        );
        assert_eq!(snap.suggest_department(cat("water"), None), dept("water"));
        assert_eq!(
            snap.suggest_department(cat("sanitation.garbage"), dept("d2")),
            dept("d2")
        );
        assert_eq!(
            snap.suggest_department(cat("social.elderly"), None),
            dept("civil")
        );
        assert!(snap.categories.all().count() >= 60);

        // Deadlines: a water outage is replied to within a day.
        let s = snap.deadline_spec(cat("water.outage"), Urgency::Normal);
        assert_eq!(s.reply, WorkSpan::parse("1d").unwrap());
        assert_eq!(s.yellow_percent, 80);
        let s = snap.deadline_spec(cat("market.food"), Urgency::VeryUrgent);
        assert_eq!(s.sign, WorkSpan::parse("15m").unwrap());

        // Citizens and the Open311 key.
        let tagged = |t: &str| {
            let t = CitizenTag::parse(t).unwrap();
            let store = store.clone();
            async move { store.tagged(&t).await.unwrap().len() }
        };
        assert_eq!(tagged("blacklist").await, 1);
        assert_eq!(tagged("vip").await, 1);
        assert_eq!(tagged("elderly").await, 1);
        assert!(store
            .check_api_key(DEMO_OPEN311_KEY, "open311")
            .await
            .unwrap()
            .is_some());

        // Orders in every stage.
        let stats = store.order_stats(Utc::now()).await.unwrap();
        let total: i64 = stats.by_status.values().sum();
        assert!(total >= 20, "{stats:?}");
        for s in [
            Status::Registered,
            Status::Dispatched,
            Status::Signed,
            Status::ReturnRequested,
            Status::Replied,
            Status::AwaitingCallback,
            Status::Closed,
            Status::Voided,
            Status::Merged,
        ] {
            assert!(
                stats.by_status.get(s.as_str()).copied().unwrap_or(0) > 0,
                "no {s} order: {stats:?}"
            );
        }

        // A second run changes nothing.
        assert!(seed(&store).await.unwrap().is_none());
        assert_eq!(store.users().await.unwrap().len(), users.len());
        let again = store.order_stats(Utc::now()).await.unwrap();
        assert_eq!(again.by_status, stats.by_status);

        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
