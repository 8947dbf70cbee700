//! Deadlines of a work order: three clocks (sign, reply, callback), each with
//! a warning instant and a due instant computed on the business calendar, and
//! the traffic light derived from them.

use crate::calendar::BusinessCalendar;
use crate::ids::CategoryId;
use crate::order::Urgency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// 签收: from dispatch until the department signs for the order.
    Sign,
    /// 办理: from dispatch until the department replies.
    Reply,
    /// 回访: from the centre accepting the reply until the callback.
    Callback,
}

impl Clock {
    pub const ALL: [Clock; 3] = [Clock::Sign, Clock::Reply, Clock::Callback];
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Sign => "sign",
            Clock::Reply => "reply",
            Clock::Callback => "callback",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "green" => Some(Light::Green),
            "yellow" => Some(Light::Yellow),
            "red" => Some(Light::Red),
            _ => None,
        }
    }
}

/// One running (or finished, or paused) deadline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    pub started_at: DateTime<Utc>,
    /// From here on the light is yellow.
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// When the clock stopped because its step was done.
    pub done_at: Option<DateTime<Utc>>,
    /// Working seconds left when the order was suspended.
    pub paused_remaining_secs: Option<i64>,
    /// Working seconds left before the warning when the order was suspended.
    pub paused_warn_secs: Option<i64>,
}

impl ClockState {
    pub fn start(
        cal: &BusinessCalendar,
        now: DateTime<Utc>,
        minutes: i64,
        yellow_percent: u8,
    ) -> Self {
        let warn_minutes = minutes * i64::from(yellow_percent.min(100)) / 100;
        Self {
            started_at: now,
            warn_at: cal.add_working_minutes(now, warn_minutes),
            due_at: cal.add_working_minutes(now, minutes),
            done_at: None,
            paused_remaining_secs: None,
            paused_warn_secs: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.done_at.is_none() && self.paused_remaining_secs.is_none()
    }

    /// Light at `now`; `None` once stopped or while paused.
    pub fn light(&self, now: DateTime<Utc>) -> Option<Light> {
        if !self.is_running() {
            return None;
        }
        Some(if now >= self.due_at {
            Light::Red
        } else if now >= self.warn_at {
            Light::Yellow
        } else {
            Light::Green
        })
    }

    /// Finished after its due instant.
    pub fn was_late(&self) -> bool {
        self.done_at.is_some_and(|d| d > self.due_at)
    }

    pub fn pause(&mut self, cal: &BusinessCalendar, now: DateTime<Utc>) {
        if self.is_running() {
            self.paused_remaining_secs = Some(cal.working_minutes_between(now, self.due_at) * 60);
            self.paused_warn_secs = Some(cal.working_minutes_between(now, self.warn_at) * 60);
        }
    }

    /// Restarts a paused clock: the time left when it was paused is counted again from `now`.
    pub fn resume(&mut self, cal: &BusinessCalendar, now: DateTime<Utc>) {
        if let Some(left) = self.paused_remaining_secs.take() {
            let warn_left = self.paused_warn_secs.take().unwrap_or(0);
            self.due_at = cal.add_working_minutes(now, left / 60);
            self.warn_at = cal.add_working_minutes(now, warn_left / 60);
        }
    }

    /// An approved extension: the due instant moves by `minutes` working minutes
    /// and the warning threshold is recomputed over the new span.
    pub fn extend(&mut self, cal: &BusinessCalendar, minutes: i64, yellow_percent: u8) {
        self.due_at = cal.add_working_minutes(self.due_at, minutes);
        let total = cal.working_minutes_between(self.started_at, self.due_at);
        self.warn_at = cal.add_working_minutes(
            self.started_at,
            total * i64::from(yellow_percent.min(100)) / 100,
        );
    }
}

/// A working-time span written as `30m`, `2h` or `5d` (working days of the calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkSpan {
    pub amount: i64,
    pub unit: SpanUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpanUnit {
    Minutes,
    Hours,
    Days,
}

impl WorkSpan {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        // Split off the last character, not the last byte: input may be any text.
        let cut = s.char_indices().last().map(|(i, _)| i).unwrap_or(0);
        let (num, unit) = s.split_at(cut);
        let unit = match unit {
            "m" => SpanUnit::Minutes,
            "h" => SpanUnit::Hours,
            "d" => SpanUnit::Days,
            _ => return Err(format!("{s:?}: use a number followed by m, h or d")),
        };
        let amount: i64 = num
            .parse()
            .map_err(|_| format!("{s:?}: use a number followed by m, h or d"))?;
        if !(1..=100_000).contains(&amount) {
            return Err(format!("{s:?}: out of range"));
        }
        Ok(Self { amount, unit })
    }

    pub fn minutes(self, cal: &BusinessCalendar) -> i64 {
        match self.unit {
            SpanUnit::Minutes => self.amount,
            SpanUnit::Hours => self.amount * 60,
            SpanUnit::Days => self.amount * cal.minutes_per_day(),
        }
    }
}

impl TryFrom<String> for WorkSpan {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WorkSpan> for String {
    fn from(v: WorkSpan) -> Self {
        let u = match v.unit {
            SpanUnit::Minutes => "m",
            SpanUnit::Hours => "h",
            SpanUnit::Days => "d",
        };
        format!("{}{}", v.amount, u)
    }
}

/// Deadlines for one category (and its subcategories) and urgency; `None`
/// matches any.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    pub category_id: Option<CategoryId>,
    pub urgency: Option<Urgency>,
    pub sign: WorkSpan,
    pub reply: WorkSpan,
    pub callback: WorkSpan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineSpec {
    pub sign: WorkSpan,
    pub reply: WorkSpan,
    pub callback: WorkSpan,
    pub yellow_percent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    pub rules: Vec<DeadlineRule>,
    /// Share of the allowed time after which the light turns yellow.
    pub yellow_percent: u8,
}

const fn span(amount: i64, unit: SpanUnit) -> WorkSpan {
    WorkSpan { amount, unit }
}

/// The catch-all of the defaults (SPEC §4): sign 30 min, reply 5 working
/// days, callback 2; also what applies if a store holds no rule at all.
const CATCH_ALL: (WorkSpan, WorkSpan, WorkSpan) = (
    span(30, SpanUnit::Minutes),
    span(5, SpanUnit::Days),
    span(2, SpanUnit::Days),
);

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self {
            rules: vec![
                DeadlineRule {
                    category_id: None,
                    urgency: None,
                    sign: CATCH_ALL.0,
                    reply: CATCH_ALL.1,
                    callback: CATCH_ALL.2,
                },
                DeadlineRule {
                    category_id: None,
                    urgency: Some(Urgency::Urgent),
                    sign: span(30, SpanUnit::Minutes),
                    reply: span(2, SpanUnit::Hours),
                    callback: span(1, SpanUnit::Days),
                },
            ],
            yellow_percent: 80,
        }
    }
}

impl DeadlinePolicy {
    /// The most specific rule for a category (given with its ancestors, nearest
    /// first) and urgency: category+urgency, then category, walking up the tree,
    /// then urgency alone, then the catch-all.
    pub fn resolve(&self, category_chain: &[CategoryId], urgency: Urgency) -> DeadlineSpec {
        let find = |cat: Option<CategoryId>, urg: Option<Urgency>| {
            self.rules
                .iter()
                .find(|r| r.category_id == cat && r.urgency == urg)
        };
        let mut hit = None;
        for c in category_chain {
            hit = find(Some(*c), Some(urgency)).or_else(|| find(Some(*c), None));
            if hit.is_some() {
                break;
            }
        }
        let rule = hit
            .or_else(|| find(None, Some(urgency)))
            .or_else(|| find(None, None));
        let (sign, reply, callback) = rule.map_or(CATCH_ALL, |r| (r.sign, r.reply, r.callback));
        DeadlineSpec {
            sign,
            reply,
            callback,
            yellow_percent: self.yellow_percent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cal() -> BusinessCalendar {
        let mut c = BusinessCalendar::new(
            "Asia/Shanghai",
            &[
                ("09:00".into(), "12:00".into()),
                ("13:00".into(), "18:00".into()),
            ],
        )
        .unwrap();
        c.load_year_toml(include_str!("../../../calendars/cn-2026.toml"))
            .unwrap();
        c
    }

    fn sh(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn light_thresholds() {
        let c = cal();
        // Monday 2026-11-23 09:00, 100 working minutes, yellow at 80 %.
        let start = sh(2026, 11, 23, 9, 0);
        let clock = ClockState::start(&c, start, 100, 80);
        assert_eq!(clock.warn_at, sh(2026, 11, 23, 10, 20));
        assert_eq!(clock.due_at, sh(2026, 11, 23, 10, 40));
        assert_eq!(clock.light(sh(2026, 11, 23, 10, 19)), Some(Light::Green));
        assert_eq!(clock.light(sh(2026, 11, 23, 10, 20)), Some(Light::Yellow));
        assert_eq!(clock.light(sh(2026, 11, 23, 10, 40)), Some(Light::Red));
        let mut done = clock.clone();
        done.done_at = Some(sh(2026, 11, 23, 10, 0));
        assert_eq!(done.light(sh(2026, 11, 23, 11, 0)), None);
        assert!(!done.was_late());
    }

    #[test]
    fn pause_and_resume_keep_time_left() {
        let c = cal();
        let start = sh(2026, 11, 23, 9, 0);
        let mut clock = ClockState::start(&c, start, 120, 50);
        clock.pause(&c, sh(2026, 11, 23, 10, 0)); // 60 left, warn reached exactly
        assert_eq!(clock.light(sh(2026, 11, 30, 9, 0)), None);
        // Resume Friday 2026-11-27 17:30: 30 minutes today, 30 on Monday.
        clock.resume(&c, sh(2026, 11, 27, 17, 30));
        assert_eq!(clock.due_at, sh(2026, 11, 30, 9, 30));
        assert!(clock.is_running());
    }

    #[test]
    fn extension_moves_due() {
        let c = cal();
        let mut clock = ClockState::start(&c, sh(2026, 11, 23, 9, 0), 60, 80);
        clock.extend(&c, c.minutes_per_day(), 80);
        assert_eq!(clock.due_at, sh(2026, 11, 24, 10, 0));
    }

    #[test]
    fn spans_and_resolution() {
        let c = cal();
        assert_eq!(WorkSpan::parse("5d").unwrap().minutes(&c), 5 * 8 * 60);
        assert_eq!(WorkSpan::parse("2h").unwrap().minutes(&c), 120);
        assert!(WorkSpan::parse("5x").is_err());
        assert!(WorkSpan::parse("d").is_err());
        assert!(WorkSpan::parse("0m").is_err());
        for bad in ["é", "3é", "\u{80}", "", "天d", "1天"] {
            assert!(WorkSpan::parse(bad).is_err(), "{bad:?}");
        }
        let mut p = DeadlinePolicy::default();
        p.rules.push(DeadlineRule {
            category_id: Some(CategoryId(7)),
            urgency: None,
            sign: WorkSpan::parse("10m").unwrap(),
            reply: WorkSpan::parse("3d").unwrap(),
            callback: WorkSpan::parse("1d").unwrap(),
        });
        let s = p.resolve(&[CategoryId(9), CategoryId(7)], Urgency::Normal);
        assert_eq!(s.reply, WorkSpan::parse("3d").unwrap());
        let s = p.resolve(&[CategoryId(1)], Urgency::Urgent);
        assert_eq!(s.reply, WorkSpan::parse("2h").unwrap());
        let s = p.resolve(&[], Urgency::Normal);
        assert_eq!(s.reply, WorkSpan::parse("5d").unwrap());
    }
}
