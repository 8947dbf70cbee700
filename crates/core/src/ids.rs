//! Typed identifiers: a department id is never confused with a user id.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A work order's database id (not its case number).
    OrderId
);
id_type!(
    /// A unit of the organisation tree.
    DepartmentId
);
id_type!(
    /// A staff account.
    UserId
);
id_type!(
    /// A node of the category tree.
    CategoryId
);
