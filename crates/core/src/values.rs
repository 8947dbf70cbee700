//! Domain values that parse on construction: a handler never sees an unchecked string.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValueError {
    pub field: &'static str,
    pub message: String,
}

impl ValueError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A telephone number: digits only, optionally with a leading `+`, 3–20 digits.
/// Separators (spaces, dashes, brackets) are stripped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let mut out = String::with_capacity(raw.len());
        for (i, c) in raw.trim().chars().enumerate() {
            match c {
                '0'..='9' => out.push(c),
                '+' if i == 0 => out.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(ValueError::new("phone", format!("invalid character {c:?}"))),
            }
        }
        let digits = out.trim_start_matches('+').len();
        if !(3..=20).contains(&digits) {
            return Err(ValueError::new("phone", "must have 3 to 20 digits"));
        }
        // One citizen, one number: a mainland number written with the
        // country code (+86 / 0086) is stored as dialled at home.
        for prefix in ["+86", "0086"] {
            if let Some(rest) = out.strip_prefix(prefix) {
                // Mobiles are 11 digits from 1; landlines take the trunk 0.
                if rest.len() == 11 && rest.starts_with('1') {
                    return Ok(Self(rest.to_string()));
                }
                if rest.len() >= 9 {
                    return Ok(Self(format!("0{rest}")));
                }
            }
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `13812341234` → `138****1234`; short numbers keep their first and last digit.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks any phone-like string the way hotline staff outside the centre see it.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n >= 7 {
        let keep_tail = 4;
        let keep_head = 3.min(n - keep_tail);
        let mut out: String = chars[..keep_head].iter().collect();
        out.push_str(&"*".repeat(n - keep_head - keep_tail));
        out.extend(&chars[n - keep_tail..]);
        out
    } else if n >= 3 {
        let mut out = String::new();
        out.push(chars[0]);
        out.push_str(&"*".repeat(n - 2));
        out.push(chars[n - 1]);
        out
    } else {
        "*".repeat(n)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A case number: the registration date `YYYYMMDD` followed by the daily
/// sequence, zero-padded to at least five digits (`2026112100042`), so an IVR
/// can read it back digit by digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    pub const SEQ_DIGITS: usize = 5;

    pub fn new(date: NaiveDate, seq: i64) -> Result<Self, ValueError> {
        if seq < 1 {
            return Err(ValueError::new("case_number", "sequence starts at 1"));
        }
        Ok(Self(format!(
            "{}{:0width$}",
            date.format("%Y%m%d"),
            seq,
            width = Self::SEQ_DIGITS
        )))
    }

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let raw = raw.trim();
        if raw.len() < 8 + Self::SEQ_DIGITS || raw.len() > 8 + 9 {
            return Err(ValueError::new("case_number", "must be 13 to 17 digits"));
        }
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValueError::new("case_number", "must be digits only"));
        }
        NaiveDate::parse_from_str(&raw[..8], "%Y%m%d")
            .map_err(|_| ValueError::new("case_number", "must start with a valid date"))?;
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[..8], "%Y%m%d").ok()
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CaseNumber> for String {
    fn from(value: CaseNumber) -> Self {
        value.0
    }
}

impl std::fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trimmed text with a maximum length in characters; empty allowed only where
/// the field is optional (use `Option<BoundedText>`).
pub fn bounded_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, ValueError> {
    let t = raw.trim();
    if required && t.is_empty() {
        return Err(ValueError::new(field, "must not be empty"));
    }
    if t.chars().count() > max_chars {
        return Err(ValueError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_parse_and_mask() {
        let p = PhoneNumber::parse("138-1234 1234").unwrap();
        assert_eq!(p.as_str(), "13812341234");
        assert_eq!(p.masked(), "138****1234");
        assert_eq!(
            PhoneNumber::parse("+86 10 1234 5678").unwrap().as_str(),
            "01012345678"
        );
        assert!(PhoneNumber::parse("12a").is_err());
        assert!(PhoneNumber::parse("12").is_err());
        assert!(PhoneNumber::parse("1+2345").is_err());
        assert_eq!(mask_phone("12345"), "1***5");
    }

    #[test]
    fn country_code_is_one_number() {
        let home = PhoneNumber::parse("13812341234").unwrap();
        assert_eq!(PhoneNumber::parse("+86 138 1234 1234").unwrap(), home);
        assert_eq!(PhoneNumber::parse("0086-13812341234").unwrap(), home);
        assert_eq!(
            PhoneNumber::parse("+1 415 555 0100").unwrap().as_str(),
            "+14155550100"
        );
    }

    #[test]
    fn case_numbers() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let c = CaseNumber::new(d, 42).unwrap();
        assert_eq!(c.as_str(), "2026112100042");
        assert_eq!(CaseNumber::parse("2026112100042").unwrap(), c);
        assert_eq!(c.date(), Some(d));
        assert!(CaseNumber::parse("2026133100042").is_err());
        assert!(CaseNumber::parse("20261121x0042").is_err());
        assert!(CaseNumber::parse("202611210004").is_err());
        assert_eq!(
            CaseNumber::new(d, 123456).unwrap().as_str(),
            "20261121123456"
        );
    }

    #[test]
    fn bounded() {
        assert_eq!(bounded_text("t", "  hi ", 5, true).unwrap(), "hi");
        assert!(bounded_text("t", "   ", 5, true).is_err());
        assert!(bounded_text("t", "你好你好你好", 5, false).is_err());
    }
}
