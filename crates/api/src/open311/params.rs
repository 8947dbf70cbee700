//! Request parameters: `application/x-www-form-urlencoded` decoding (query
//! strings and POST bodies alike, so a bad one is an Open311 400 and never a
//! framework error) and the W3C date-times of `start_date` / `end_date`.

use super::error::{Open311Error, Open311Result};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Decoded `name=value` pairs in their original order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Open311Result<Self> {
        let mut out = vec![];
        for pair in raw.split(|b| *b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Self(out))
    }

    /// Adds `other`'s pairs after this one's (later pairs win in [`Params::get`]).
    pub fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// The last non-empty (trimmed) value of `name`. Per the spec an empty
    /// parameter is the same as a missing one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of a parameter that "can be declared multiple times, comma
    /// delimited", split and trimmed, empties dropped.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `+` is a space, `%XX` a byte; a `%` not followed by two hex digits stays
/// as it is (as browsers do). The result must be UTF-8.
fn decode(raw: &[u8]) -> Open311Result<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => match (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    bytes.push(h * 16 + l);
                    i += 2;
                }
                _ => bytes.push(b'%'),
            },
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| Open311Error::bad_request("parameters must be UTF-8 text"))
}

/// How a parsed time bounds a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The first instant included; a bare date is its midnight.
    From,
    /// The first instant excluded after the given time (which is included);
    /// a bare date includes the whole day.
    Until,
}

/// A W3C date-time ("1994-11-05T08:15:30-05:00", "…Z", fractional seconds,
/// without seconds, or a bare date) as a range bound. Values without an
/// offset are read in the server's time zone `tz`.
pub fn parse_datetime<Z: TimeZone>(raw: &str, tz: &Z, bound: Bound) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let exact = |t: DateTime<Utc>| match bound {
        Bound::From => Some(t),
        Bound::Until => t.checked_add_signed(Duration::milliseconds(1)),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return exact(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(raw, f) {
            return exact(t.with_timezone(&Utc));
        }
    }
    let local = |n: NaiveDateTime| {
        tz.from_local_datetime(&n)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(raw, f) {
            return exact(local(n)?);
        }
    }
    let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let d = match bound {
        Bound::From => d,
        Bound::Until => d.succ_opt()?,
    };
    local(d.and_hms_opt(0, 0, 0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn decodes_forms() {
        let p = Params::parse(b"api_key=xyz&lat=37.76&address_string=1234+5th+street&email=smit333%40sfgov.edu&attribute[WHISPAWN]=123&empty=&flag&pct=100%&zh=%E4%BE%9B%E6%B0%B4").unwrap();
        assert_eq!(p.get("api_key"), Some("xyz"));
        assert_eq!(p.get("address_string"), Some("1234 5th street"));
        assert_eq!(p.get("email"), Some("smit333@sfgov.edu"));
        assert_eq!(p.get("attribute[WHISPAWN]"), Some("123"));
        assert_eq!(p.get("empty"), None);
        assert_eq!(p.get("flag"), None);
        assert_eq!(p.get("pct"), Some("100%"));
        assert_eq!(p.get("zh"), Some("供水"));
        assert!(Params::parse(b"a=%FF%FE").is_err());
        let s = Params::parse(b"status=open&status=closed,%20open&status=").unwrap();
        assert_eq!(s.list("status"), vec!["open", "closed", "open"]);
    }

    #[test]
    fn w3c_datetimes() {
        let tz = FixedOffset::east_opt(8 * 3600).unwrap();
        let at = |s: &str| parse_datetime(s, &tz, Bound::From).map(|t| t.to_rfc3339());
        assert_eq!(
            at("1994-11-05T08:15:30-05:00").as_deref(),
            Some("1994-11-05T13:15:30+00:00")
        );
        assert_eq!(
            at("1994-11-05T13:15:30Z").as_deref(),
            Some("1994-11-05T13:15:30+00:00")
        );
        assert_eq!(
            at("1994-11-05T13:15:30.5Z").as_deref(),
            Some("1994-11-05T13:15:30.500+00:00")
        );
        assert_eq!(
            at("1994-11-05T13:15Z").as_deref(),
            Some("1994-11-05T13:15:00+00:00")
        );
        assert_eq!(
            at("1994-11-05T08:00:00").as_deref(),
            Some("1994-11-05T00:00:00+00:00")
        );
        assert_eq!(
            at("1994-11-05").as_deref(),
            Some("1994-11-04T16:00:00+00:00")
        );
        let until = |s: &str| parse_datetime(s, &tz, Bound::Until).map(|t| t.to_rfc3339());
        assert_eq!(
            until("1994-11-05").as_deref(),
            Some("1994-11-05T16:00:00+00:00")
        );
        assert_eq!(
            until("1994-11-05T13:15:30Z").as_deref(),
            Some("1994-11-05T13:15:30.001+00:00")
        );
        assert_eq!(at("yesterday"), None);
        assert_eq!(at("2010-13-01T00:00:00Z"), None);
    }
}
