//! POST requests: a submission becomes an ordinary work order from the
//! Open311 channel, registered by the system on behalf of the API key's client.

use super::error::{Open311Error, Open311Result};
use super::format::{Doc, Obj, Val};
use super::params::Params;
use super::requests::{CUSTOM_ADDRESS_ID, CUSTOM_MEDIA_URL};
use super::services;
use crate::AppState;
use chrono::Utc;
use rexian_core::order::{Caller, Channel, GeoPoint, OrderFields, OrderType, Urgency};
use rexian_core::org::Actor;
use rexian_core::values::PhoneNumber;
use rexian_store::{NewOrder, StoreError};
use serde_json::Value;
use std::collections::BTreeMap;

/// The spec limits descriptions to 4,000 characters.
const DESCRIPTION_MAX: usize = 4000;
const TITLE_SNIPPET: usize = 40;
const CUSTOM_ATTRIBUTES: &str = "open311_attributes";
const CUSTOM_DEVICE_ID: &str = "open311_device_id";
const CUSTOM_ACCOUNT_ID: &str = "open311_account_id";
const MAX_ATTRIBUTES: usize = 50;

fn bounded<'a>(p: &'a Params, name: &str, max: usize) -> Open311Result<Option<&'a str>> {
    match p.get(name) {
        Some(v) if v.chars().count() > max => Err(Open311Error::bad_request(format!(
            "{name} must be at most {max} characters"
        ))),
        v => Ok(v),
    }
}

fn number(p: &Params, name: &str) -> Open311Result<Option<f64>> {
    p.get(name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Open311Error::bad_request(format!("{name} must be a number")))
        })
        .transpose()
}

/// `attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`.
fn attributes(p: &Params) -> Open311Result<BTreeMap<String, Value>> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in p.pairs() {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let Some((code, tail)) = rest.split_once(']') else {
            return Err(Open311Error::bad_request(format!(
                "malformed attribute parameter {k}"
            )));
        };
        let v = v.trim();
        if code.is_empty() || code.chars().count() > 100 || v.chars().count() > 1000 {
            return Err(Open311Error::bad_request(format!(
                "malformed attribute parameter {k}"
            )));
        }
        if v.is_empty() {
            continue;
        }
        let multi = tail == "[]";
        match out.get_mut(code) {
            Some(Value::Array(a)) => a.push(Value::from(v)),
            Some(old) => {
                let first = old.take();
                *old = Value::Array(vec![first, Value::from(v)]);
            }
            None if multi => {
                out.insert(code.to_string(), Value::Array(vec![Value::from(v)]));
            }
            None => {
                out.insert(code.to_string(), Value::from(v));
            }
        }
        if out.len() > MAX_ATTRIBUTES {
            return Err(Open311Error::bad_request(format!(
                "at most {MAX_ATTRIBUTES} attributes"
            )));
        }
    }
    Ok(out)
}

fn title(service_name: &str, description: &str) -> String {
    let first_line = description
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first_line.is_empty() {
        return service_name.to_string();
    }
    let mut snippet: String = first_line.chars().take(TITLE_SNIPPET).collect();
    if first_line.chars().count() > TITLE_SNIPPET || description.trim() != first_line {
        snippet.push('…');
    }
    format!("{service_name}: {snippet}")
}

/// `POST requests.{fmt}` with the merged query and form parameters.
pub async fn create(
    st: &AppState,
    p: &Params,
    idempotency_key: Option<&str>,
) -> Open311Result<Doc> {
    let key = p.get("api_key").ok_or_else(|| {
        Open311Error::forbidden("api_key was not provided -- can't proceed with create_request.")
    })?;
    let label = st
        .store
        .check_api_key(key, "open311")
        .await
        .map_err(Open311Error::internal)?
        .ok_or_else(|| {
            Open311Error::forbidden(
                "Invalid api_key received -- can't proceed with create_request.",
            )
        })?;

    let snap = st.store.snapshot();
    let code = p
        .get("service_code")
        .ok_or_else(|| Open311Error::bad_request("service_code was not provided"))?;
    let service = services::service(&snap, code)
        .ok_or_else(|| Open311Error::not_found(format!("service_code {code} was not found")))?;

    let location = match (number(p, "lat")?, number(p, "long")?) {
        (Some(lat), Some(lng)) => Some(
            GeoPoint::parse(lat, lng)
                .map_err(|e| Open311Error::bad_request(format!("{} {}", e.field, e.message)))?,
        ),
        (None, None) => None,
        _ => {
            return Err(Open311Error::bad_request(
                "lat and long must both be provided",
            ))
        }
    };
    let address = bounded(p, "address_string", 500)?;
    let address_id = bounded(p, "address_id", 200)?;
    if location.is_none() && address.is_none() && address_id.is_none() {
        return Err(Open311Error::bad_request(
            "a location is required: lat and long, address_string or address_id",
        ));
    }

    let description = bounded(p, "description", DESCRIPTION_MAX)?.unwrap_or("");
    let phone = p
        .get("phone")
        .map(|v| {
            PhoneNumber::parse(v)
                .map_err(|e| Open311Error::bad_request(format!("phone {}", e.message)))
        })
        .transpose()?;
    let email = bounded(p, "email", 200)?;
    if email.is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(Open311Error::bad_request("email is not an e-mail address"));
    }
    let first = bounded(p, "first_name", 50)?;
    let last = bounded(p, "last_name", 50)?;
    let name = match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l).map(str::to_string),
    };
    let media_url = bounded(p, "media_url", 2000)?;
    if let Some(u) = media_url {
        let lower = u.to_ascii_lowercase();
        let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
        if !scheme_ok || u.contains(char::is_whitespace) {
            return Err(Open311Error::bad_request(
                "media_url must be an http or https URL",
            ));
        }
    }

    let mut custom: BTreeMap<String, Value> = BTreeMap::new();
    let attrs = attributes(p)?;
    if !attrs.is_empty() {
        custom.insert(
            CUSTOM_ATTRIBUTES.into(),
            Value::Object(attrs.into_iter().collect()),
        );
    }
    for (k, v) in [
        (CUSTOM_ADDRESS_ID, address_id),
        (CUSTOM_MEDIA_URL, media_url),
        (CUSTOM_DEVICE_ID, bounded(p, "device_id", 200)?),
        (CUSTOM_ACCOUNT_ID, bounded(p, "account_id", 200)?),
    ] {
        if let Some(v) = v {
            custom.insert(k.into(), Value::from(v));
        }
    }

    let content = if description.is_empty() {
        service.name.as_str()
    } else {
        description
    };
    let fields = OrderFields {
        channel: Channel::Open311,
        order_type: OrderType::Help,
        category_id: Some(service.id),
        urgency: Urgency::Normal,
        title: title(&service.name, description),
        content: content.to_string(),
        caller: Caller {
            phone,
            anonymous: name.is_none(),
            name,
            email: email.map(str::to_string),
            confidential: false,
        },
        address: address.map(str::to_string),
        district_id: None,
        street_id: None,
        location,
        tags: vec![],
        custom,
        call_id: None,
        external_ref: Some(new_token()),
    };
    let actor = Actor::system(&format!("open311:{label}"));
    let (order, _created) = st
        .store
        .create_order(
            &actor,
            NewOrder {
                fields,
                answer: None,
            },
            idempotency_key,
            Utc::now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => Open311Error::bad_request(m),
            StoreError::Order(o) => Open311Error::bad_request(o.to_string()),
            e => Open311Error::internal(e),
        })?;

    // realtime services return the service_request_id (and, per the spec,
    // then no token); `tokens/{token}` still resolves the stored one.
    Ok(Doc::list(
        "service_requests",
        "request",
        [Obj::new()
            .field("service_request_id", order.case_number.as_str())
            .field(
                "service_notice",
                format!(
                    "Registered as case {}. The hotline centre will pass it to the department responsible.",
                    order.case_number
                ),
            )
            .field("account_id", Val::Null)],
    ))
}

/// A fresh random token: 128 bits as hex.
fn new_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(title("停水", ""), "停水");
        assert_eq!(
            title("停水", "  no water since 8am  "),
            "停水: no water since 8am"
        );
        assert_eq!(title("停水", "line one\nline two"), "停水: line one…");
        let long = "x".repeat(100);
        assert_eq!(
            title("停水", &long),
            format!("停水: {}…", "x".repeat(TITLE_SNIPPET))
        );
    }

    #[test]
    fn attribute_parsing() {
        let p = Params::parse(b"attribute[A]=1&attribute[B][]=x&attribute[B][]=y&attribute[C]=p&attribute[C]=q&other=z").unwrap();
        let a = attributes(&p).unwrap();
        assert_eq!(a["A"], Value::from("1"));
        assert_eq!(a["B"], serde_json::json!(["x", "y"]));
        assert_eq!(a["C"], serde_json::json!(["p", "q"]));
        assert_eq!(a.len(), 3);
        assert!(attributes(&Params::parse(b"attribute[=1").unwrap()).is_err());
        assert!(attributes(&Params::parse(b"attribute[]=1").unwrap()).is_err());
    }

    #[test]
    fn tokens_are_hex() {
        let t = new_token();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, new_token());
    }
}
