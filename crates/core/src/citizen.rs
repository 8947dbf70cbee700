//! Citizens (CRM): tags on a profile that other parts act on.

use crate::values::ValueError;
use serde::{Deserialize, Serialize};

/// A tag on a citizen profile. The well-known ones drive behaviour: calls
/// from `blacklist` numbers are rejected, `vip` callers skip the IVR.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenTag(String);

impl CitizenTag {
    pub const ELDERLY: &'static str = "elderly";
    pub const VIP: &'static str = "vip";
    pub const IMPORTANT: &'static str = "important";
    pub const DISABLED: &'static str = "disabled";
    pub const BLACKLIST: &'static str = "blacklist";
    pub const KNOWN: [&'static str; 5] = [
        Self::ELDERLY,
        Self::VIP,
        Self::IMPORTANT,
        Self::DISABLED,
        Self::BLACKLIST,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let t = raw.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 20 {
            return Err(ValueError::new("tag", "must be 1 to 20 characters"));
        }
        if t.chars().any(|c| c.is_control() || c == ',' || c == '/') {
            return Err(ValueError::new("tag", "contains a forbidden character"));
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn label_zh(&self) -> &str {
        match self.0.as_str() {
            Self::ELDERLY => "老年人",
            Self::VIP => "VIP",
            Self::IMPORTANT => "重要来电人",
            Self::DISABLED => "残障人士",
            Self::BLACKLIST => "黑名单",
            other => other,
        }
    }
}

impl TryFrom<String> for CitizenTag {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CitizenTag> for String {
    fn from(v: CitizenTag) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(CitizenTag::parse(" VIP ").unwrap().as_str(), "vip");
        assert_eq!(CitizenTag::parse("blacklist").unwrap().label_zh(), "黑名单");
        assert!(CitizenTag::parse("").is_err());
        assert!(CitizenTag::parse("a,b").is_err());
        assert_eq!(CitizenTag::parse("低保户").unwrap().as_str(), "低保户");
    }
}
