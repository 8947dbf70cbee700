//! Open311 errors: `[{"code":…,"description":…}]` or
//! `<errors><error><code>…</code><description>…</description></error></errors>`,
//! with the HTTP status the spec asks for (404 for what does not exist, 403
//! for a missing or wrong api_key, 400 for everything else).

use super::format::{Doc, Format, Obj};
use axum::http::StatusCode;
use axum::response::Response;
use rexian_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
}

pub type Open311Result<T> = Result<T, Open311Error>;

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTP method not allowed on this resource",
        )
    }

    /// The spec's "general service error": logged here, never detailed to the client.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "open311: internal error");
        Self::bad_request("General service error; please try again later or notify the operator")
    }

    /// A store error while reading: everything but a missing row is internal.
    pub fn from_store(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(format!("{what} not found")),
            e => Self::internal(e),
        }
    }

    pub fn to_doc(&self) -> Doc {
        Doc::list(
            "errors",
            "error",
            [Obj::new()
                .field("code", i64::from(self.status.as_u16()))
                .field("description", self.description.as_str())],
        )
    }

    pub fn render(&self, fmt: Format) -> Response {
        self.to_doc().respond(fmt, self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_shape() {
        let e = Open311Error::forbidden(
            "Invalid api_key received -- can't proceed with create_request.",
        );
        assert_eq!(
            e.to_doc().render(Format::Json),
            r#"[{"code":403,"description":"Invalid api_key received -- can't proceed with create_request."}]"#
        );
        assert_eq!(
            e.to_doc().render(Format::Xml),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error><code>403</code><description>Invalid api_key received -- can&apos;t proceed with create_request.</description></error></errors>\n"
        );
    }
}
