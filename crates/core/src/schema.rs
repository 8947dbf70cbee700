//! OpenAPI schemas (feature `openapi`) for the values that travel as strings.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

macro_rules! string_schema {
    ($t:ty, $desc:literal, $example:literal) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($desc))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }
        impl utoipa::ToSchema for $t {}
    };
}

string_schema!(
    crate::values::PhoneNumber,
    "Telephone number, digits with an optional leading +",
    "13812341234"
);
string_schema!(
    crate::values::CaseNumber,
    "Case number: registration date YYYYMMDD and the daily sequence",
    "2026112100042"
);
string_schema!(
    crate::deadline::WorkSpan,
    "Working time: a number and m (minutes), h (hours) or d (working days)",
    "3d"
);
string_schema!(
    crate::citizen::CitizenTag,
    "Citizen tag: elderly, vip, important, disabled, blacklist or free text",
    "vip"
);
