//! GeoReport v2 documents and their two renderings. A document is built once
//! as a small tree and written either as JSON or, by the spec's "Spark
//! convention", as XML: a root element wrapping the list items
//! (`<services><service>…`) or the object's fields (`<service_definition>…`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

/// The response format, chosen by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }

    /// A best guess for error responses on paths without a usable extension:
    /// XML, the spec's required format, unless the path ends in `.json`.
    pub fn guess(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Xml
        }
    }
}

/// `"services.json"` → `("services", Json)`; `"water.outage.xml"` →
/// `("water.outage", Xml)`. `None` for a missing or unknown extension.
pub fn split_ext(file: &str) -> Option<(&str, Format)> {
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    let fmt = if ext.eq_ignore_ascii_case("json") {
        Format::Json
    } else if ext.eq_ignore_ascii_case("xml") {
        Format::Xml
    } else {
        return None;
    };
    Some((stem, fmt))
}

/// A value in a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Str(String),
    Num(f64),
    Int(i64),
    Bool(bool),
    Obj(Obj),
    /// A JSON array; in XML a wrapper whose children are each named `item`.
    List {
        item: &'static str,
        items: Vec<Val>,
    },
}

impl Val {
    pub fn list(item: &'static str, items: impl IntoIterator<Item = Obj>) -> Val {
        Val::List {
            item,
            items: items.into_iter().map(Val::Obj).collect(),
        }
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Str(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Str(v.to_string())
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Self {
        if v.is_finite() {
            Val::Num(v)
        } else {
            Val::Null
        }
    }
}

impl From<Obj> for Val {
    fn from(v: Obj) -> Self {
        Val::Obj(v)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// An object whose fields keep the order they were added in (the spec's order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj(Vec<(&'static str, Val)>);

impl Obj {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(mut self, name: &'static str, v: impl Into<Val>) -> Self {
        self.0.push((name, v.into()));
        self
    }
}

/// A whole response: the XML root element's name and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub root: &'static str,
    pub body: Val,
}

impl Doc {
    /// A list document: `[…]` / `<root><item>…</item>…</root>`.
    pub fn list(
        root: &'static str,
        item: &'static str,
        items: impl IntoIterator<Item = Obj>,
    ) -> Self {
        Self {
            root,
            body: Val::list(item, items),
        }
    }

    /// An object document: `{…}` / `<root>fields…</root>`.
    pub fn object(root: &'static str, obj: Obj) -> Self {
        Self {
            root,
            body: Val::Obj(obj),
        }
    }

    pub fn render(&self, fmt: Format) -> String {
        let mut out = String::new();
        match fmt {
            Format::Json => json(&mut out, &self.body),
            Format::Xml => {
                out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
                out.push('\n');
                element(&mut out, self.root, &self.body);
                out.push('\n');
            }
        }
        out
    }

    pub fn respond(&self, fmt: Format, status: StatusCode) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, fmt.content_type())],
            self.render(fmt),
        )
            .into_response()
    }
}

fn number(out: &mut String, n: f64) {
    // `Display` for f64 is the shortest exact form and never uses exponents.
    let _ = write!(out, "{n}");
}

fn json(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        Val::Num(n) if n.is_finite() => number(out, *n),
        Val::Num(_) => out.push_str("null"),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Obj(o) => {
            out.push('{');
            for (i, (k, v)) in o.0.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String((*k).to_string()).to_string());
                out.push(':');
                json(out, v);
            }
            out.push('}');
        }
        Val::List { items, .. } => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(out, v);
            }
            out.push(']');
        }
    }
}

/// `<name>content</name>`, or `<name/>` for null.
fn element(out: &mut String, name: &str, v: &Val) {
    if *v == Val::Null {
        let _ = write!(out, "<{name}/>");
        return;
    }
    let _ = write!(out, "<{name}>");
    match v {
        Val::Null => {}
        Val::Str(s) => escape_into(out, s),
        Val::Num(n) if n.is_finite() => number(out, *n),
        Val::Num(_) => {}
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Obj(o) => {
            for (k, v) in &o.0 {
                element(out, k, v);
            }
        }
        Val::List { item, items } => {
            for v in items {
                element(out, item, v);
            }
        }
    }
    let _ = write!(out, "</{name}>");
}

/// XML-escapes text: `& < > " '` become entities, and characters XML 1.0
/// cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are dropped so the
/// document stays well-formed whatever was typed into an order.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
pub fn escape(s: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(split_ext("services.json"), Some(("services", Format::Json)));
        assert_eq!(split_ext("services.XML"), Some(("services", Format::Xml)));
        assert_eq!(
            split_ext("water.outage.xml"),
            Some(("water.outage", Format::Xml))
        );
        assert_eq!(split_ext("services.html"), None);
        assert_eq!(split_ext("services"), None);
        assert_eq!(split_ext(".json"), None);
    }

    #[test]
    fn escaping() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("x\u{0}y\u{1b}z\n"), "xyz\n");
        assert_eq!(escape("供水 / 停水"), "供水 / 停水");
    }

    #[test]
    fn renders_both_formats() {
        let doc = Doc::list(
            "service_requests",
            "request",
            [Obj::new()
                .field("service_request_id", "2026010100001")
                .field("account_id", Val::Null)
                .field("lat", 39.9)
                .field("ok", true)
                .field("note", "a<b")],
        );
        assert_eq!(
            doc.render(Format::Json),
            r#"[{"service_request_id":"2026010100001","account_id":null,"lat":39.9,"ok":true,"note":"a<b"}]"#
        );
        assert_eq!(
            doc.render(Format::Xml),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests><request><service_request_id>2026010100001</service_request_id><account_id/><lat>39.9</lat><ok>true</ok><note>a&lt;b</note></request></service_requests>\n"
        );
        let def = Doc::object(
            "service_definition",
            Obj::new()
                .field("service_code", "x")
                .field("attributes", Val::list("attribute", [])),
        );
        assert_eq!(
            def.render(Format::Json),
            r#"{"service_code":"x","attributes":[]}"#
        );
        assert!(def
            .render(Format::Xml)
            .contains("<service_definition><service_code>x</service_code><attributes></attributes></service_definition>"));
    }
}
