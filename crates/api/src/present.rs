//! How an order looks to whoever asks: lights computed for now, department
//! names, personal data masked outside the centre, confidential reporters
//! hidden from everyone outside the centre (and each centre read audited).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::AppState;
use chrono::Utc;
use rexian_core::deadline::Clock;
use rexian_core::deadline::Light;
use rexian_core::ids::DepartmentId;
use rexian_core::order::{Event, WorkOrder};
use rexian_core::values::mask_phone;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// Masks a name to its first character: 张先生 → 张**.
fn mask_name(n: &str) -> String {
    let mut chars = n.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().min(4))),
        None => String::new(),
    }
}

/// Rewrites a caller object (`phone`, `name`, `email`, `confidential`) in place.
fn mask_caller(caller: &mut Map<String, Value>, confidential: bool, centre: bool) {
    if confidential && !centre {
        for k in ["phone", "name", "email"] {
            caller.insert(k.into(), Value::Null);
        }
        caller.insert("hidden".into(), Value::Bool(true));
        return;
    }
    if !centre {
        if let Some(Value::String(p)) = caller.get("phone") {
            let m = mask_phone(p);
            caller.insert("phone".into(), Value::String(m));
        }
        if let Some(Value::String(n)) = caller.get("name") {
            let m = mask_name(n);
            caller.insert("name".into(), Value::String(m));
        }
        caller.insert("email".into(), Value::Null);
    }
}

/// For lists: confidential reporters are hidden from everyone (open the
/// order to see them, which is audited).
pub fn order_summary(state: &AppState, o: &WorkOrder, viewer: &Auth) -> Box<RawValue> {
    render(
        state,
        o,
        viewer.is_centre() && !o.fields.caller.confidential,
    )
}

/// One order in full; a centre read of a confidential reporter is audited.
pub async fn order_detail(
    state: &AppState,
    o: &WorkOrder,
    viewer: &Auth,
) -> ApiResult<Box<RawValue>> {
    if o.fields.caller.confidential && viewer.is_centre() {
        state
            .store
            .audit(
                &viewer.actor(),
                "confidential_read",
                &format!("order:{}", o.case_number),
                None,
            )
            .await?;
    }
    Ok(render(state, o, viewer.is_centre()))
}

/// Light of each clock now; null when the clock is stopped, paused or not
/// started.
#[derive(Serialize, ToSchema)]
pub struct Lights {
    sign: Option<Light>,
    reply: Option<Light>,
    callback: Option<Light>,
}

/// What the API adds to an order: lights for now, labels and names.
#[derive(Serialize, ToSchema)]
pub struct Extras {
    lights: Lights,
    /// The worst of `lights`.
    light: Option<Light>,
    /// The status in Chinese (待签收 …).
    status_label: &'static str,
    main_department_name: Option<String>,
    district_name: Option<String>,
    category_name: Option<String>,
}

/// An order as the API returns it (documentation of the rendered JSON).
/// For department staff `caller.phone` and `caller.name` are masked; for
/// confidential orders outside the centre they are null and `caller.hidden`
/// is true.
#[derive(Serialize, ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    order: WorkOrder,
    #[serde(flatten)]
    extras: Extras,
}

/// A page of orders, newest first.
#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    items: Vec<OrderView>,
    page: i64,
    per_page: i64,
    has_more: bool,
    /// Only with `count=true`; at most 1000.
    total: Option<i64>,
    total_capped: bool,
}

#[derive(Serialize)]
struct Rendered<'a> {
    #[serde(flatten)]
    order: &'a WorkOrder,
    #[serde(flatten)]
    extras: Extras,
}

fn render(state: &AppState, o: &WorkOrder, show_reporter: bool) -> Box<RawValue> {
    let now = Utc::now();
    let snap = state.store.snapshot();
    let name = |d: Option<DepartmentId>| d.map(|d| snap.org.name(d));
    let out = Rendered {
        order: o,
        extras: Extras {
            lights: Lights {
                sign: o.clock_light(Clock::Sign, now),
                reply: o.clock_light(Clock::Reply, now),
                callback: o.clock_light(Clock::Callback, now),
            },
            light: o.light(now),
            status_label: o.status.label_zh(),
            main_department_name: name(o.main_department),
            district_name: name(o.fields.district_id),
            category_name: o.fields.category_id.map(|c| snap.categories.full_name(c)),
        },
    };
    let needs_mask = !show_reporter || o.fields.caller.confidential;
    let json = if needs_mask
        && (o.fields.caller.phone.is_some()
            || o.fields.caller.name.is_some()
            || o.fields.caller.email.is_some()
            || o.fields.caller.confidential)
    {
        // Rare path: rewrite the caller in a JSON tree.
        let mut v = serde_json::to_value(&out).unwrap_or(Value::Null);
        if let Some(Value::Object(c)) = v.get_mut("caller") {
            mask_caller(c, o.fields.caller.confidential, show_reporter);
        }
        serde_json::to_string(&v)
    } else {
        serde_json::to_string(&out)
    };
    json.ok()
        .and_then(|j| RawValue::from_string(j).ok())
        .unwrap_or_else(|| RawValue::from_string("null".into()).unwrap_or_default())
}

/// History with the same masking applied to registration and supplement payloads.
pub async fn history(
    state: &AppState,
    o: &WorkOrder,
    events: &[Event],
    viewer: &Auth,
) -> ApiResult<Value> {
    let centre = viewer.is_centre();
    let confidential = o.fields.caller.confidential;
    if confidential && centre {
        state
            .store
            .audit(
                &viewer.actor(),
                "confidential_read",
                &format!("order:{}:history", o.case_number),
                None,
            )
            .await?;
    }
    let mut out = vec![];
    for e in events {
        let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
        if let Some(obj) = v.as_object_mut() {
            if let Some(Value::Object(fields)) = obj.get_mut("fields") {
                if let Some(Value::Object(c)) = fields.get_mut("caller") {
                    mask_caller(c, confidential, centre);
                }
            }
            if let Some(Value::Object(patch)) = obj.get_mut("patch") {
                if !centre {
                    if let Some(Value::String(p)) = patch.get("caller_phone") {
                        let m = mask_phone(p);
                        patch.insert("caller_phone".into(), json!(m));
                    }
                    if let Some(Value::String(n)) = patch.get("caller_name") {
                        let m = mask_name(n);
                        patch.insert("caller_name".into(), json!(m));
                    }
                }
                if confidential && !centre {
                    patch.insert("caller_phone".into(), Value::Null);
                    patch.insert("caller_name".into(), Value::Null);
                }
            }
            // Department staff do not see which centre employee did what.
            if !centre {
                if let Some(Value::Object(actor)) = obj.get_mut("actor") {
                    actor.remove("user_id");
                }
            }
        }
        out.push(v);
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_name("张先生"), "张**");
        let mut c = serde_json::from_value::<Map<String, Value>>(
            json!({"phone":"13812341234","name":"张三","email":"a@b.c"}),
        )
        .unwrap();
        mask_caller(&mut c, false, false);
        assert_eq!(c["phone"], "138****1234");
        assert_eq!(c["name"], "张*");
        assert_eq!(c["email"], Value::Null);
        let mut c = serde_json::from_value::<Map<String, Value>>(
            json!({"phone":"13812341234","name":"张三"}),
        )
        .unwrap();
        mask_caller(&mut c, true, false);
        assert_eq!(c["phone"], Value::Null);
        let mut c =
            serde_json::from_value::<Map<String, Value>>(json!({"phone":"13812341234"})).unwrap();
        mask_caller(&mut c, true, true);
        assert_eq!(c["phone"], "13812341234");
    }
}
