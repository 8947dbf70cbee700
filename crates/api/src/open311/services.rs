//! GET services and GET service definition: every active category is a
//! service, its `code` the service_code.

use super::error::{Open311Error, Open311Result};
use super::format::{Doc, Obj, Val};
use rexian_core::category::{Category, CategoryTree};
use rexian_store::Snapshot;

/// The active category with this code, the service behind a service_code.
pub fn service<'a>(snap: &'a Snapshot, code: &str) -> Option<&'a Category> {
    snap.categories.by_code(code).filter(|c| c.active)
}

fn service_obj(tree: &CategoryTree, c: &Category) -> Obj {
    let parent = c.parent_id.and_then(|p| tree.get(p));
    // Synonyms for search: the names along the path, e.g. "供水, 停水".
    let mut names: Vec<&str> = tree
        .chain(Some(c.id))
        .iter()
        .filter_map(|id| tree.get(*id).map(|x| x.name.as_str()))
        .collect();
    names.reverse();
    Obj::new()
        .field("service_code", c.code.as_str())
        .field("service_name", c.name.as_str())
        .field("description", tree.full_name(c.id))
        .field("metadata", false)
        .field("type", "realtime")
        .field("keywords", names.join(", "))
        .field("group", parent.map_or(c.name.as_str(), |p| p.name.as_str()))
}

/// `GET services.{fmt}`
pub fn list(snap: &Snapshot) -> Doc {
    let mut cats: Vec<&Category> = snap.categories.all().filter(|c| c.active).collect();
    cats.sort_by(|a, b| a.code.cmp(&b.code));
    Doc::list(
        "services",
        "service",
        cats.into_iter().map(|c| service_obj(&snap.categories, c)),
    )
}

/// `GET services/{code}.{fmt}`: no service has extra attributes (`metadata`
/// is false), so a known one has an empty attribute list.
pub fn definition(snap: &Snapshot, code: &str) -> Open311Result<Doc> {
    let c = service(snap, code)
        .ok_or_else(|| Open311Error::not_found(format!("service_code {code} was not found")))?;
    Ok(Doc::object(
        "service_definition",
        Obj::new()
            .field("service_code", c.code.as_str())
            .field("attributes", Val::list("attribute", [])),
    ))
}
