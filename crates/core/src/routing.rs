//! Routing rules: category × district → the responsible department, suggested
//! at registration and overridable by the dispatcher.

use crate::ids::{CategoryId, DepartmentId};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub id: i64,
    pub category_id: CategoryId,
    /// `None`: any district.
    pub district_id: Option<DepartmentId>,
    pub department_id: DepartmentId,
}

/// The department for a category (given nearest first with its ancestors)
/// in a district: a district-specific rule beats a city-wide one, and a rule
/// on the category itself beats one on its parent.
pub fn suggest(
    rules: &[RoutingRule],
    category_chain: &[CategoryId],
    district: Option<DepartmentId>,
) -> Option<DepartmentId> {
    for cat in category_chain {
        let specific = district.and_then(|d| {
            rules
                .iter()
                .find(|r| r.category_id == *cat && r.district_id == Some(d))
        });
        let general = || {
            rules
                .iter()
                .find(|r| r.category_id == *cat && r.district_id.is_none())
        };
        if let Some(r) = specific.or_else(general) {
            return Some(r.department_id);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_rule_wins() {
        let rules = vec![
            RoutingRule {
                id: 1,
                category_id: CategoryId(1),
                district_id: None,
                department_id: DepartmentId(100),
            },
            RoutingRule {
                id: 2,
                category_id: CategoryId(2),
                district_id: None,
                department_id: DepartmentId(200),
            },
            RoutingRule {
                id: 3,
                category_id: CategoryId(2),
                district_id: Some(DepartmentId(5)),
                department_id: DepartmentId(205),
            },
        ];
        let chain = [CategoryId(2), CategoryId(1)];
        assert_eq!(
            suggest(&rules, &chain, Some(DepartmentId(5))),
            Some(DepartmentId(205))
        );
        assert_eq!(
            suggest(&rules, &chain, Some(DepartmentId(6))),
            Some(DepartmentId(200))
        );
        assert_eq!(suggest(&rules, &chain, None), Some(DepartmentId(200)));
        assert_eq!(
            suggest(&rules, &[CategoryId(3), CategoryId(1)], None),
            Some(DepartmentId(100))
        );
        assert_eq!(suggest(&rules, &[CategoryId(9)], None), None);
    }
}
