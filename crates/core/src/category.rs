//! The category tree (供水 → 停水 …).

use crate::ids::CategoryId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub code: String,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    by_id: HashMap<CategoryId, Category>,
}

impl CategoryTree {
    pub fn new(cats: impl IntoIterator<Item = Category>) -> Self {
        Self {
            by_id: cats.into_iter().map(|c| (c.id, c)).collect(),
        }
    }

    pub fn get(&self, id: CategoryId) -> Option<&Category> {
        self.by_id.get(&id)
    }

    pub fn by_code(&self, code: &str) -> Option<&Category> {
        self.by_id.values().find(|c| c.code == code)
    }

    pub fn all(&self) -> impl Iterator<Item = &Category> {
        self.by_id.values()
    }

    /// The category and its ancestors, nearest first (cycle-safe).
    pub fn chain(&self, id: Option<CategoryId>) -> Vec<CategoryId> {
        let mut out = vec![];
        let mut cur = id;
        while let Some(c) = cur.and_then(|c| self.by_id.get(&c)) {
            if out.contains(&c.id) {
                break;
            }
            out.push(c.id);
            cur = c.parent_id;
        }
        out
    }

    /// "供水 / 停水"
    pub fn full_name(&self, id: CategoryId) -> String {
        let mut names: Vec<&str> = self
            .chain(Some(id))
            .iter()
            .filter_map(|c| self.by_id.get(c).map(|c| c.name.as_str()))
            .collect();
        names.reverse();
        names.join(" / ")
    }
}
