//! The organisation: a tree of units (centre, districts, streets, communities,
//! functional departments), the roles of SPEC §1, and who may see what.

use crate::ids::{DepartmentId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentKind {
    /// The hotline centre itself (市热线中心).
    Centre,
    /// A district government (区).
    District,
    /// A street office or township (街道/镇).
    Street,
    /// A community or village (社区/村).
    Community,
    /// A functional department (水务局, 住建局 …).
    Functional,
}

impl DepartmentKind {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Centre => "centre",
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
            Self::Functional => "functional",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    ShiftLead,
    Dispatcher,
    DepartmentHandler,
    DepartmentAdmin,
    Supervisor,
    CallbackAgent,
    Leader,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Agent,
        Role::ShiftLead,
        Role::Dispatcher,
        Role::DepartmentHandler,
        Role::DepartmentAdmin,
        Role::Supervisor,
        Role::CallbackAgent,
        Role::Leader,
        Role::Admin,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::ShiftLead => "shift_lead",
            Role::Dispatcher => "dispatcher",
            Role::DepartmentHandler => "department_handler",
            Role::DepartmentAdmin => "department_admin",
            Role::Supervisor => "supervisor",
            Role::CallbackAgent => "callback_agent",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Agent => "接线员",
            Role::ShiftLead => "带班班长",
            Role::Dispatcher => "派单员",
            Role::DepartmentHandler => "承办人",
            Role::DepartmentAdmin => "部门管理员",
            Role::Supervisor => "督办员",
            Role::CallbackAgent => "回访员",
            Role::Leader => "领导",
            Role::Admin => "系统管理员",
        }
    }

    /// Department roles work inside their unit's subtree and see masked personal data.
    pub fn is_department(self) -> bool {
        matches!(self, Role::DepartmentHandler | Role::DepartmentAdmin)
    }

    /// Centre roles see every order and unmasked data (except confidential reporters).
    pub fn is_centre(self) -> bool {
        !self.is_department()
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DepartmentId,
    pub parent_id: Option<DepartmentId>,
    pub name: String,
    pub kind: DepartmentKind,
    /// Materialised path of ids, `/1/4/9/`, so a subtree is a prefix.
    pub path: String,
    pub active: bool,
}

/// Who performs a command: a signed-in user or the system itself (scheduler,
/// Open311 intake, IVR).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
    pub role: Option<Role>,
    pub department_id: Option<DepartmentId>,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_string(),
            role: None,
            department_id: None,
        }
    }

    pub fn user(id: UserId, name: &str, role: Role, department_id: DepartmentId) -> Self {
        Self {
            user_id: Some(id),
            name: name.to_string(),
            role: Some(role),
            department_id: Some(department_id),
        }
    }

    pub fn is_system(&self) -> bool {
        self.user_id.is_none()
    }

    pub fn has_role(&self, roles: &[Role]) -> bool {
        self.role.is_some_and(|r| roles.contains(&r))
    }

    /// Centre staff and the system see everything; department staff their subtree.
    pub fn is_centre(&self) -> bool {
        self.role.is_none_or(|r| r.is_centre())
    }
}

/// The department tree held in memory for scope checks and path lookups.
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    depts: HashMap<DepartmentId, Department>,
}

impl OrgTree {
    pub fn new(depts: impl IntoIterator<Item = Department>) -> Self {
        Self {
            depts: depts.into_iter().map(|d| (d.id, d)).collect(),
        }
    }

    pub fn get(&self, id: DepartmentId) -> Option<&Department> {
        self.depts.get(&id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Department> {
        self.depts.values()
    }

    /// True when `inner` is `outer` or lies below it.
    pub fn is_within(&self, inner: DepartmentId, outer: DepartmentId) -> bool {
        match (self.depts.get(&inner), self.depts.get(&outer)) {
            (Some(i), Some(o)) => i.path.starts_with(&o.path),
            _ => false,
        }
    }

    pub fn name(&self, id: DepartmentId) -> String {
        self.depts
            .get(&id)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    pub fn centre(&self) -> Option<&Department> {
        self.depts
            .values()
            .find(|d| d.kind == DepartmentKind::Centre)
    }

    /// Path for a new child of `parent` whose id is `id`.
    pub fn child_path(parent: Option<&Department>, id: DepartmentId) -> String {
        match parent {
            Some(p) => format!("{}{}/", p.path, id),
            None => format!("/{id}/"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(id: i64, parent: Option<i64>, path: &str) -> Department {
        Department {
            id: DepartmentId(id),
            parent_id: parent.map(DepartmentId),
            name: format!("d{id}"),
            kind: DepartmentKind::District,
            path: path.into(),
            active: true,
        }
    }

    #[test]
    fn subtree() {
        let t = OrgTree::new([
            dept(1, None, "/1/"),
            dept(2, Some(1), "/1/2/"),
            dept(3, Some(2), "/1/2/3/"),
            dept(12, Some(1), "/1/12/"),
        ]);
        assert!(t.is_within(DepartmentId(3), DepartmentId(2)));
        assert!(t.is_within(DepartmentId(2), DepartmentId(2)));
        assert!(!t.is_within(DepartmentId(2), DepartmentId(3)));
        assert!(!t.is_within(DepartmentId(12), DepartmentId(2)));
        assert!(!t.is_within(DepartmentId(99), DepartmentId(1)));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::DepartmentHandler.is_department());
        assert!(Role::Dispatcher.is_centre());
    }
}
