//! What is registered about a request: the caller, the place, the matter.

use super::types::{Channel, OrderType, Urgency};
use crate::ids::{CategoryId, DepartmentId};
use crate::values::{bounded_text, PhoneNumber, ValueError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The caller did not give a name.
    #[serde(default)]
    pub anonymous: bool,
    /// Whistleblower report (12309-style): the reporter is hidden from everyone
    /// outside the centre and every read of it is audited.
    #[serde(default)]
    pub confidential: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

impl GeoPoint {
    pub fn parse(lat: f64, lng: f64) -> Result<Self, ValueError> {
        if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
            return Err(ValueError::new("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&lng) || !lng.is_finite() {
            return Err(ValueError::new("long", "must be between -180 and 180"));
        }
        Ok(Self { lat, lng })
    }
}

/// Everything registered about a request; the order's content fields.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderFields {
    pub channel: Channel,
    pub order_type: OrderType,
    pub category_id: Option<CategoryId>,
    pub urgency: Urgency,
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub caller: Caller,
    pub address: Option<String>,
    pub district_id: Option<DepartmentId>,
    pub street_id: Option<DepartmentId>,
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom fields defined per category.
    #[serde(default)]
    pub custom: BTreeMap<String, serde_json::Value>,
    /// The call (and its recording) this order came from.
    pub call_id: Option<String>,
    /// A reference from the channel, e.g. an Open311 token or a WeChat message id.
    pub external_ref: Option<String>,
}

impl OrderFields {
    pub const TITLE_MAX: usize = 200;
    pub const CONTENT_MAX: usize = 20_000;

    /// Trims and bounds the free-text fields; call before registering.
    pub fn normalise(mut self) -> Result<Self, ValueError> {
        self.title = bounded_text("title", &self.title, Self::TITLE_MAX, true)?;
        self.content = bounded_text("content", &self.content, Self::CONTENT_MAX, true)?;
        self.address = opt_text("address", self.address, 500)?;
        self.caller.name = opt_text("caller.name", self.caller.name, 100)?;
        self.caller.email = opt_text("caller.email", self.caller.email, 200)?;
        if let Some(e) = &self.caller.email {
            if !e.contains('@') {
                return Err(ValueError::new("caller.email", "is not an e-mail address"));
            }
        }
        if self.tags.len() > 20 {
            return Err(ValueError::new("tags", "at most 20 tags"));
        }
        for t in &mut self.tags {
            *t = bounded_text("tags", t, 30, true)?;
        }
        if self.custom.len() > 50 {
            return Err(ValueError::new("custom", "at most 50 custom fields"));
        }
        if let Some(g) = self.location {
            self.location = Some(GeoPoint::parse(g.lat, g.lng)?);
        }
        self.call_id = opt_text("call_id", self.call_id, 100)?;
        self.external_ref = opt_text("external_ref", self.external_ref, 200)?;
        Ok(self)
    }
}

fn opt_text(
    field: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, ValueError> {
    match v {
        None => Ok(None),
        Some(s) => {
            let t = bounded_text(field, &s, max, false)?;
            Ok(if t.is_empty() { None } else { Some(t) })
        }
    }
}

/// A later supplement (补填): only the given fields change; `append` is added
/// to the content with a separator rather than replacing it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldPatch {
    pub append: Option<String>,
    pub title: Option<String>,
    pub order_type: Option<OrderType>,
    pub category_id: Option<CategoryId>,
    pub urgency: Option<Urgency>,
    pub address: Option<String>,
    pub district_id: Option<DepartmentId>,
    pub street_id: Option<DepartmentId>,
    pub location: Option<GeoPoint>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<PhoneNumber>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl FieldPatch {
    pub fn is_empty(&self) -> bool {
        *self == FieldPatch::default()
    }

    pub fn normalise(mut self) -> Result<Self, ValueError> {
        self.append = opt_text("append", self.append, OrderFields::CONTENT_MAX)?;
        if let Some(t) = &self.title {
            self.title = Some(bounded_text("title", t, OrderFields::TITLE_MAX, true)?);
        }
        self.address = opt_text("address", self.address, 500)?;
        self.caller_name = opt_text("caller_name", self.caller_name, 100)?;
        for t in &mut self.add_tags {
            *t = bounded_text("add_tags", t, 30, true)?;
        }
        if let Some(g) = self.location {
            self.location = Some(GeoPoint::parse(g.lat, g.lng)?);
        }
        Ok(self)
    }

    pub fn apply_to(&self, f: &mut OrderFields) {
        if let Some(a) = &self.append {
            f.content.push_str("\n【补充】");
            f.content.push_str(a);
        }
        if let Some(v) = &self.title {
            f.title = v.clone();
        }
        if let Some(v) = self.order_type {
            f.order_type = v;
        }
        if let Some(v) = self.category_id {
            f.category_id = Some(v);
        }
        if let Some(v) = self.urgency {
            f.urgency = v;
        }
        if let Some(v) = &self.address {
            f.address = Some(v.clone());
        }
        if let Some(v) = self.district_id {
            f.district_id = Some(v);
        }
        if let Some(v) = self.street_id {
            f.street_id = Some(v);
        }
        if let Some(v) = self.location {
            f.location = Some(v);
        }
        if let Some(v) = &self.caller_name {
            f.caller.name = Some(v.clone());
        }
        if let Some(v) = &self.caller_phone {
            f.caller.phone = Some(v.clone());
        }
        for t in &self.add_tags {
            if !f.tags.contains(t) {
                f.tags.push(t.clone());
            }
        }
        for (k, v) in &self.custom {
            f.custom.insert(k.clone(), v.clone());
        }
    }
}
