//! Business calendar for work-order deadline arithmetic.
//!
//! A [`BusinessCalendar`] knows
//!
//! * a time zone (an IANA name such as `Asia/Shanghai`, resolved with
//!   `chrono-tz`),
//! * the daily working periods in local wall-clock time, e.g.
//!   `09:00–12:00` and `13:00–18:00`,
//! * per-year data of statutory holidays and adjusted working days (调休),
//!   loaded from TOML text in the format of `calendars/cn-2026.toml`:
//!
//! ```toml
//! year = 2026
//! holidays = [ { name = "元旦", from = "2026-01-01", to = "2026-01-03" } ]
//! workdays = [ "2026-01-04" ]
//! ```
//!
//! A day is a working day if it is not a holiday and it is either an adjusted
//! workday or Monday–Friday. **Years without loaded data fall back to plain
//! Monday–Friday**, i.e. no holidays and no adjusted workdays.
//!
//! Working time is measured in real elapsed time between the instants at which
//! the local working periods begin and end. In zones with daylight saving time
//! a period that spans a clock change is therefore shorter or longer than its
//! nominal length; local times that do not exist (spring-forward gap) are
//! moved forward to the first existing instant, and ambiguous local times
//! (fall-back overlap) use the earlier instant.
//!
//! Day-by-day scans are capped at [`MAX_SCAN_DAYS`] days so that every
//! computation terminates, even for absurd inputs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::Deserialize;

/// Maximum number of days scanned by [`BusinessCalendar::add_working_minutes`]
/// and [`BusinessCalendar::working_minutes_between`] (about ten years).
pub const MAX_SCAN_DAYS: u32 = 3660;

const SECONDS_PER_DAY: u32 = 24 * 60 * 60;

/// Errors building a calendar or loading year data.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The year file is not valid TOML or does not have the expected shape.
    #[error("invalid calendar TOML: {0}")]
    Toml(String),
    /// A date string is not a valid `YYYY-MM-DD` date.
    #[error("invalid date `{0}`: expected YYYY-MM-DD")]
    BadDate(String),
    /// A holiday range ends before it starts.
    #[error("holiday `{name}`: `from` {from} is after `to` {to}")]
    FromAfterTo {
        name: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// A date in the file lies outside the file's `year`.
    #[error("date {date} lies outside the calendar year {year}")]
    YearMismatch { year: i32, date: NaiveDate },
    /// The same date is listed twice (overlapping holidays, duplicate
    /// workday, or both a holiday and a workday).
    #[error("date {date} is listed more than once ({what})")]
    Conflict { date: NaiveDate, what: String },
    /// An adjusted workday that is not a Saturday or Sunday.
    #[error("workday {0} is not a Saturday or Sunday")]
    WorkdayNotWeekend(NaiveDate),
    /// The working hours are malformed, empty, unsorted or overlapping.
    #[error("invalid working hours: {0}")]
    BadHours(String),
    /// The time zone name is not a known IANA time zone.
    #[error("unknown time zone `{0}`")]
    UnknownTimeZone(String),
}

/// Holidays and adjusted workdays of one year.
#[derive(Clone, Debug, Default)]
struct YearData {
    holidays: BTreeMap<NaiveDate, String>,
    workdays: BTreeSet<NaiveDate>,
}

/// A business calendar: time zone, daily working periods and per-year
/// holiday data. See the [module documentation](self) for the rules.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Working periods as `[start, end)` seconds since local midnight;
    /// sorted, non-overlapping, `end` may be 86400 (`24:00`).
    periods: Vec<(u32, u32)>,
    years: BTreeMap<i32, YearData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    #[serde(default)]
    holidays: Vec<HolidayRange>,
    #[serde(default)]
    workdays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayRange {
    name: String,
    from: String,
    to: String,
}

fn parse_date(s: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| CalendarError::BadDate(s.into()))
}

/// Parses `HH:MM` (hour may have one digit) into seconds since midnight.
/// `24:00` is accepted only when `allow_24` is set (period ends).
fn parse_hhmm(s: &str, allow_24: bool) -> Result<u32, CalendarError> {
    let bad = || CalendarError::BadHours(format!("`{s}` is not a time of day in HH:MM form"));
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

fn format_hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

impl BusinessCalendar {
    /// Creates a calendar for time zone `tz` (e.g. `"Asia/Shanghai"`) with
    /// the given daily working periods as `("HH:MM", "HH:MM")` pairs, e.g.
    /// `[("09:00","12:00"),("13:00","18:00")]`. Periods must be non-empty,
    /// sorted and non-overlapping (touching is allowed); an end of `24:00`
    /// is accepted. At least one period is required. No year data is loaded
    /// yet, so every year is plain Monday–Friday until
    /// [`load_year_toml`](Self::load_year_toml) is called.
    pub fn new(tz: &str, hours: &[(String, String)]) -> Result<Self, CalendarError> {
        let tz: Tz = tz
            .trim()
            .parse()
            .map_err(|_| CalendarError::UnknownTimeZone(tz.into()))?;
        if hours.is_empty() {
            return Err(CalendarError::BadHours(
                "at least one working period is required".into(),
            ));
        }
        let mut periods: Vec<(u32, u32)> = Vec::with_capacity(hours.len());
        for (from, to) in hours {
            let start = parse_hhmm(from, false)?;
            let end = parse_hhmm(to, true)?;
            if start >= end {
                return Err(CalendarError::BadHours(format!(
                    "period {from}–{to} does not end after it starts"
                )));
            }
            if let Some(&(prev_start, prev_end)) = periods.last() {
                if start < prev_end {
                    return Err(CalendarError::BadHours(format!(
                        "period {from}–{to} overlaps or precedes period {}–{}",
                        format_hhmm(prev_start),
                        format_hhmm(prev_end)
                    )));
                }
            }
            periods.push((start, end));
        }
        Ok(Self {
            tz,
            periods,
            years: BTreeMap::new(),
        })
    }

    /// Parses one year file's text and merges it in; returns the year.
    /// Loading the same year again replaces that year's data. On error the
    /// calendar is left unchanged.
    pub fn load_year_toml(&mut self, text: &str) -> Result<i32, CalendarError> {
        let file: YearFile =
            toml::from_str(text).map_err(|e| CalendarError::Toml(e.to_string()))?;
        let year = file.year;
        let in_year = |date: NaiveDate| {
            if date.year() == year {
                Ok(date)
            } else {
                Err(CalendarError::YearMismatch { year, date })
            }
        };
        let mut data = YearData::default();
        for h in &file.holidays {
            let from = in_year(parse_date(&h.from)?)?;
            let to = in_year(parse_date(&h.to)?)?;
            if from > to {
                return Err(CalendarError::FromAfterTo {
                    name: h.name.clone(),
                    from,
                    to,
                });
            }
            for date in from.iter_days().take_while(|d| *d <= to) {
                if let Some(other) = data.holidays.insert(date, h.name.clone()) {
                    return Err(CalendarError::Conflict {
                        date,
                        what: format!("holidays `{other}` and `{}`", h.name),
                    });
                }
            }
        }
        for w in &file.workdays {
            let date = in_year(parse_date(w)?)?;
            if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err(CalendarError::WorkdayNotWeekend(date));
            }
            if let Some(name) = data.holidays.get(&date) {
                return Err(CalendarError::Conflict {
                    date,
                    what: format!("holiday `{name}` and workday"),
                });
            }
            if !data.workdays.insert(date) {
                return Err(CalendarError::Conflict {
                    date,
                    what: "duplicate workday".into(),
                });
            }
        }
        self.years.insert(year, data);
        Ok(year)
    }

    /// Years with loaded data, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The calendar's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The working periods as normalised `("HH:MM", "HH:MM")` pairs.
    pub fn hours(&self) -> Vec<(String, String)> {
        self.periods
            .iter()
            .map(|&(s, e)| (format_hhmm(s), format_hhmm(e)))
            .collect()
    }

    /// Holidays (one entry per day) and adjusted workdays of `year`, sorted
    /// by date: `(date, "holiday" | "workday", name)`. Workdays have an empty
    /// name (the file format carries none). Empty if the year is not loaded.
    pub fn year_entries(&self, year: i32) -> Vec<(NaiveDate, &'static str, String)> {
        let Some(data) = self.years.get(&year) else {
            return Vec::new();
        };
        let mut out: Vec<(NaiveDate, &'static str, String)> = data
            .holidays
            .iter()
            .map(|(d, n)| (*d, "holiday", n.clone()))
            .chain(data.workdays.iter().map(|d| (*d, "workday", String::new())))
            .collect();
        out.sort_by_key(|e| e.0);
        out
    }

    /// Whether `d` is a working day: a holiday never is, an adjusted workday
    /// always is, otherwise Monday–Friday. Years without loaded data are
    /// plain Monday–Friday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if let Some(data) = self.years.get(&d.year()) {
            if data.holidays.contains_key(&d) {
                return false;
            }
            if data.workdays.contains(&d) {
                return true;
            }
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Name of the holiday on `d`, if any.
    pub fn holiday_name(&self, d: NaiveDate) -> Option<&str> {
        self.years
            .get(&d.year())
            .and_then(|data| data.holidays.get(&d))
            .map(String::as_str)
    }

    /// Nominal working minutes of a working day (sum of the periods).
    pub fn minutes_per_day(&self) -> i64 {
        self.periods
            .iter()
            .map(|&(s, e)| i64::from(e - s) / 60)
            .sum()
    }

    /// The instant `minutes` working minutes after `start`, counting only
    /// time inside working periods of working days (in the calendar's time
    /// zone). `minutes <= 0` returns `start`. If `start` is outside working
    /// time, counting begins at the next working period start. A result
    /// exactly at a period end is returned as such (11:30 + 30 min = 12:00,
    /// not 13:00). Sub-minute precision of `start` is kept.
    ///
    /// If the target lies beyond [`MAX_SCAN_DAYS`] days, the end of the last
    /// working period scanned is returned (saturating).
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        if minutes <= 0 {
            return start;
        }
        let mut remaining = TimeDelta::try_minutes(minutes).unwrap_or(TimeDelta::MAX);
        let mut cur = start;
        // Start one day early: with DST, a period of the previous local day
        // may (in principle) end after local midnight.
        let first = self.local_date(start).pred_opt().unwrap_or(NaiveDate::MIN);
        for day in first.iter_days().take(MAX_SCAN_DAYS as usize) {
            if !self.is_working_day(day) {
                continue;
            }
            for (s, e) in self.day_intervals(day) {
                if e <= cur {
                    continue;
                }
                let from = s.max(cur);
                let avail = e - from;
                if remaining <= avail {
                    return from.checked_add_signed(remaining).unwrap_or(e);
                }
                remaining -= avail;
                cur = e;
            }
        }
        cur
    }

    /// Working minutes between `a` and `b` (whole minutes, rounded down);
    /// 0 if `b <= a`. Inverse of [`add_working_minutes`](Self::add_working_minutes):
    /// `working_minutes_between(a, add_working_minutes(a, m)) == m` for
    /// `m >= 0` within the scan limit of [`MAX_SCAN_DAYS`] days.
    pub fn working_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b <= a {
            return 0;
        }
        let mut total = TimeDelta::zero();
        let first = self.local_date(a).pred_opt().unwrap_or(NaiveDate::MIN);
        let last = self.local_date(b);
        for day in first
            .iter_days()
            .take_while(|d| *d <= last)
            .take(MAX_SCAN_DAYS as usize)
        {
            if !self.is_working_day(day) {
                continue;
            }
            for (s, e) in self.day_intervals(day) {
                let from = s.max(a);
                let to = e.min(b);
                if to > from {
                    total += to - from;
                }
            }
        }
        total.num_minutes()
    }

    /// Whether instant `t` lies inside a working period of a working day
    /// (periods are half-open: the period end itself is not working time).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let today = self.local_date(t);
        let yesterday = today.pred_opt();
        [yesterday, Some(today)]
            .into_iter()
            .flatten()
            .filter(|d| self.is_working_day(*d))
            .any(|d| self.day_intervals(d).any(|(s, e)| s <= t && t < e))
    }

    /// Local calendar date of `t`; never panics, even at the limits of the
    /// representable range (falls back to the UTC date there).
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let utc = t.naive_utc();
        let offset = self.tz.offset_from_utc_datetime(&utc).fix();
        utc.checked_add_offset(offset).unwrap_or(utc).date()
    }

    /// The working periods of `day` as UTC instants `[start, end)`, sorted,
    /// skipping periods that collapse to nothing (DST gaps).
    fn day_intervals(
        &self,
        day: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let midnight = day.and_time(NaiveTime::MIN);
        self.periods.iter().filter_map(move |&(s, e)| {
            let s = self.local_to_utc(midnight.checked_add_signed(TimeDelta::seconds(s.into()))?);
            let e = self.local_to_utc(midnight.checked_add_signed(TimeDelta::seconds(e.into()))?);
            (s < e).then_some((s, e))
        })
    }

    /// Maps a local wall-clock time to an instant: ambiguous times take the
    /// earlier instant, nonexistent times (DST gap) move forward to the first
    /// existing local time.
    fn local_to_utc(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = naive;
        // Gaps are at most a few hours; probe minute by minute up to a day.
        for _ in 0..=(SECONDS_PER_DAY / 60) {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            match probe.checked_add_signed(TimeDelta::minutes(1)) {
                Some(next) => probe = next,
                None => break,
            }
        }
        // Not reachable with real tz data; treat the wall-clock time as UTC.
        Utc.from_utc_datetime(&naive)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const CN_2026: &str = include_str!("../../../calendars/cn-2026.toml");

    fn hours(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn cal() -> BusinessCalendar {
        let mut c = BusinessCalendar::new(
            "Asia/Shanghai",
            &hours(&[("09:00", "12:00"), ("13:00", "18:00")]),
        )
        .unwrap();
        assert_eq!(c.load_year_toml(CN_2026).unwrap(), 2026);
        c
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Local Shanghai time to UTC.
    fn sh(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .unwrap();
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&naive)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    #[test]
    fn basic_accessors() {
        let c = cal();
        assert_eq!(c.years(), vec![2026]);
        assert_eq!(c.tz(), chrono_tz::Asia::Shanghai);
        assert_eq!(c.hours(), hours(&[("09:00", "12:00"), ("13:00", "18:00")]));
        assert_eq!(c.minutes_per_day(), 480);
        let entries = c.year_entries(2026);
        // 3 + 9 + 3 + 5 + 3 + 3 + 7 holiday days, 6 workdays.
        assert_eq!(entries.len(), 33 + 6);
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            entries[0],
            (date("2026-01-01"), "holiday", "元旦".to_string())
        );
        assert_eq!(entries[3], (date("2026-01-04"), "workday", String::new()));
        assert!(c.year_entries(2027).is_empty());
    }

    #[test]
    fn working_days() {
        let c = cal();
        assert!(c.is_working_day(date("2026-01-04")), "Sunday 调休");
        assert!(!c.is_working_day(date("2026-01-01")));
        assert!(c.is_working_day(date("2026-02-14")), "Saturday 调休");
        assert!(!c.is_working_day(date("2026-03-07")), "ordinary Saturday");
        assert!(!c.is_working_day(date("2026-03-08")), "ordinary Sunday");
        assert!(c.is_working_day(date("2026-03-09")), "ordinary Monday");
        // 国庆节 is 10-01..10-07 in the official 2026 arrangement.
        assert!(!c.is_working_day(date("2026-10-01")));
        assert!(!c.is_working_day(date("2026-10-07")), "Wednesday, 国庆");
        assert!(c.is_working_day(date("2026-10-08")), "Thursday after 国庆");
        assert!(c.is_working_day(date("2026-10-10")), "Saturday 调休");
        assert_eq!(c.holiday_name(date("2026-10-05")), Some("国庆节"));
        assert_eq!(c.holiday_name(date("2026-02-20")), Some("春节"));
        assert_eq!(c.holiday_name(date("2026-10-08")), None);
        // Years without data: plain Monday–Friday.
        assert!(c.is_working_day(date("2027-01-01")), "Friday, no 2027 data");
        assert!(!c.is_working_day(date("2027-01-02")));
        assert_eq!(c.holiday_name(date("2027-01-01")), None);
    }

    #[test]
    fn time_zone_conversion() {
        let c = cal();
        assert_eq!(sh("2026-03-10 09:00"), utc("2026-03-10 01:00"));
        assert!(c.is_working_time(utc("2026-03-10 01:00")));
        assert!(!c.is_working_time(utc("2026-03-10 00:59")));
        assert!(c.is_working_time(utc("2026-03-10 03:59")));
        assert!(!c.is_working_time(utc("2026-03-10 04:00")), "12:00 lunch");
        assert!(c.is_working_time(utc("2026-03-10 05:00")), "13:00");
        assert!(!c.is_working_time(utc("2026-03-10 10:00")), "18:00");
        assert!(!c.is_working_time(sh("2026-10-08 08:59")));
        assert!(c.is_working_time(sh("2026-10-08 09:00")));
        assert!(!c.is_working_time(sh("2026-10-06 10:00")), "holiday");
        assert!(c.is_working_time(sh("2026-10-10 10:00")), "Saturday 调休");
        // Starting 09:00 local = 01:00 UTC.
        assert_eq!(
            c.add_working_minutes(utc("2026-03-10 00:00"), 1),
            utc("2026-03-10 01:01")
        );
    }

    #[test]
    fn add_across_lunch_and_period_end() {
        let c = cal();
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 11:45"), 30),
            sh("2026-03-10 13:15")
        );
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 11:30"), 30),
            sh("2026-03-10 12:00")
        );
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 17:30"), 30),
            sh("2026-03-10 18:00")
        );
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 17:30"), 31),
            sh("2026-03-11 09:01")
        );
        // Lunch-time start snaps to 13:00.
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 12:20"), 10),
            sh("2026-03-10 13:10")
        );
        // Seconds are kept.
        assert_eq!(
            c.add_working_minutes(sh("2026-03-10 11:59:30"), 1),
            sh("2026-03-10 13:00:30")
        );
        // Non-positive minutes return start, even outside working time.
        let t = sh("2026-03-07 03:17:42");
        assert_eq!(c.add_working_minutes(t, 0), t);
        assert_eq!(c.add_working_minutes(t, -5), t);
    }

    #[test]
    fn five_working_days_over_national_day() {
        let c = cal();
        let start = sh("2026-09-30 10:00");
        let end = c.add_working_minutes(start, 5 * c.minutes_per_day());
        // Working days after 09-30: 10-08 (Thu), 10-09 (Fri), 10-10 (Sat 调休),
        // 10-12 (Mon), 10-13 (Tue); 10-01..10-07 and Sunday 10-11 are off.
        assert_eq!(end, sh("2026-10-13 10:00"));
        assert_eq!(end, utc("2026-10-13 02:00"));
        assert_eq!(c.working_minutes_between(start, end), 2400);
        // One day: lands on the first day after the holiday.
        assert_eq!(c.add_working_minutes(start, 480), sh("2026-10-08 10:00"));
        // Three days: counts Saturday 10-10.
        assert_eq!(
            c.add_working_minutes(start, 3 * 480),
            sh("2026-10-10 10:00")
        );
    }

    #[test]
    fn start_on_holiday_snaps_forward() {
        let c = cal();
        assert_eq!(
            c.add_working_minutes(sh("2026-10-03 10:00"), 1),
            sh("2026-10-08 09:01")
        );
        assert_eq!(
            c.add_working_minutes(sh("2026-10-03 10:00"), 60),
            sh("2026-10-08 10:00")
        );
        // Saturday evening before a 调休 Sunday.
        assert_eq!(
            c.add_working_minutes(sh("2026-01-03 20:00"), 30),
            sh("2026-01-04 09:30")
        );
        assert_eq!(
            c.working_minutes_between(sh("2026-10-01 00:00"), sh("2026-10-08 00:00")),
            0
        );
    }

    #[test]
    fn between_basics() {
        let c = cal();
        let a = sh("2026-03-10 10:00");
        assert_eq!(c.working_minutes_between(a, a), 0);
        assert_eq!(c.working_minutes_between(a, sh("2026-03-10 09:00")), 0);
        assert_eq!(
            c.working_minutes_between(a, sh("2026-03-10 14:00")),
            120 + 60
        );
        // Partial minutes are rounded down.
        assert_eq!(c.working_minutes_between(a, sh("2026-03-10 10:00:59")), 0);
        // A whole ordinary week.
        assert_eq!(
            c.working_minutes_between(sh("2026-03-09 00:00"), sh("2026-03-16 00:00")),
            5 * 480
        );
    }

    #[test]
    fn between_is_inverse_of_add() {
        let c = cal();
        let base = sh("2025-12-20 00:00");
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..500 {
            let offset_secs = (next() % (400 * 86_400)) as i64;
            let start = base + TimeDelta::seconds(offset_secs);
            let minutes = (next() % 20_000) as i64;
            let end = c.add_working_minutes(start, minutes);
            assert!(end >= start);
            assert_eq!(
                c.working_minutes_between(start, end),
                minutes,
                "start {start}, minutes {minutes}, end {end}"
            );
            if minutes > 0 {
                assert!(
                    c.is_working_time(end - TimeDelta::seconds(1)),
                    "end {end} must close working time"
                );
            }
        }
    }

    #[test]
    fn huge_minutes_terminate() {
        let c = cal();
        let start = sh("2026-03-10 10:00");
        let end = c.add_working_minutes(start, i64::MAX);
        assert!(end > start);
        let far = c.add_working_minutes(start, 100_000);
        assert_eq!(c.working_minutes_between(start, far), 100_000);
        assert!(c.working_minutes_between(start, DateTime::<Utc>::MAX_UTC) > 0);
        // The limits of the representable range do not panic.
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert!(c.add_working_minutes(max, 10) >= max - TimeDelta::days(2));
        assert!(c.add_working_minutes(min, 10) > min);
        let _ = c.is_working_time(max);
        let _ = c.is_working_time(min);
        assert!(c.working_minutes_between(min, max) > 0);
    }

    #[test]
    fn reload_replaces_year() {
        let mut c = cal();
        let year = c
            .load_year_toml("year = 2026\nworkdays = [\"2026-03-07\"]\n")
            .unwrap();
        assert_eq!(year, 2026);
        assert_eq!(c.years(), vec![2026]);
        assert!(c.is_working_day(date("2026-03-07")));
        assert!(c.is_working_day(date("2026-10-05")), "old holidays gone");
        assert!(!c.is_working_day(date("2026-01-04")), "old workdays gone");
        c.load_year_toml("year = 2027").unwrap();
        assert_eq!(c.years(), vec![2026, 2027]);
    }

    #[test]
    fn bad_year_files() {
        let mut c = cal();
        let err = |c: &mut BusinessCalendar, text: &str| c.load_year_toml(text).unwrap_err();
        assert!(matches!(
            err(&mut c, "year = 2026\nholidays = [{ name = \"x\", from = \"2025-12-31\", to = \"2026-01-01\" }]"),
            CalendarError::YearMismatch { year: 2026, .. }
        ));
        assert!(matches!(
            err(&mut c, "year = 2027\nworkdays = [\"2026-01-04\"]"),
            CalendarError::YearMismatch { year: 2027, .. }
        ));
        // The real 2026 file relabelled as 2025 is rejected.
        assert!(matches!(
            err(&mut c, &CN_2026.replace("year = 2026", "year = 2025")),
            CalendarError::YearMismatch { year: 2025, .. }
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nholidays = [{ name = \"x\", from = \"2026-01-05\", to = \"2026-01-03\" }]"),
            CalendarError::FromAfterTo { .. }
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nworkdays = [\"2026-02-30\"]"),
            CalendarError::BadDate(_)
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nworkdays = [\"tomorrow\"]"),
            CalendarError::BadDate(_)
        ));
        assert!(matches!(err(&mut c, "year = "), CalendarError::Toml(_)));
        assert!(matches!(
            err(&mut c, "holidays = []"),
            CalendarError::Toml(_)
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nholiday = []"),
            CalendarError::Toml(_)
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nworkdays = [\"2026-03-09\"]"),
            CalendarError::WorkdayNotWeekend(_)
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nholidays = [{ name = \"x\", from = \"2026-03-07\", to = \"2026-03-07\" }]\nworkdays = [\"2026-03-07\"]"),
            CalendarError::Conflict { .. }
        ));
        assert!(matches!(
            err(&mut c, "year = 2026\nholidays = [{ name = \"a\", from = \"2026-03-01\", to = \"2026-03-05\" }, { name = \"b\", from = \"2026-03-05\", to = \"2026-03-06\" }]"),
            CalendarError::Conflict { .. }
        ));
        // Failed loads leave the calendar unchanged.
        assert_eq!(c.years(), vec![2026]);
        assert!(!c.is_working_day(date("2026-10-05")));
        // Messages are readable.
        let msg = err(&mut c, "year = 2027\nworkdays = [\"2026-01-04\"]").to_string();
        assert_eq!(msg, "date 2026-01-04 lies outside the calendar year 2027");
    }

    #[test]
    fn bad_hours_and_tz() {
        let new = |tz: &str, h: &[(&str, &str)]| BusinessCalendar::new(tz, &hours(h));
        let bad_hours =
            |h: &[(&str, &str)]| matches!(new("Asia/Shanghai", h), Err(CalendarError::BadHours(_)));
        assert!(bad_hours(&[]));
        assert!(bad_hours(&[("09:00", "09:00")]));
        assert!(bad_hours(&[("18:00", "09:00")]));
        assert!(bad_hours(&[("13:00", "18:00"), ("09:00", "12:00")]));
        assert!(bad_hours(&[("09:00", "12:30"), ("12:00", "18:00")]));
        assert!(bad_hours(&[("25:00", "26:00")]));
        assert!(bad_hours(&[("09:60", "10:00")]));
        assert!(bad_hours(&[("9", "10:00")]));
        assert!(bad_hours(&[("09:00", "10:0")]));
        assert!(bad_hours(&[("-1:00", "10:00")]));
        assert!(bad_hours(&[("24:00", "24:00")]));
        assert!(bad_hours(&[("09:00", "24:30")]));
        assert!(matches!(
            new("Mars/Olympus", &[("09:00", "18:00")]),
            Err(CalendarError::UnknownTimeZone(_))
        ));
        // Touching periods, 24:00 ends and single-digit hours are fine.
        let c = new("UTC", &[("0:00", "9:00"), ("09:00", "24:00")]).unwrap();
        assert_eq!(c.hours(), hours(&[("00:00", "09:00"), ("09:00", "24:00")]));
        assert_eq!(c.minutes_per_day(), 1440);
        // Friday 23:00 + 2h crosses the weekend (no data: plain Mon–Fri).
        assert_eq!(
            c.add_working_minutes(utc("2027-01-01 23:00"), 120),
            utc("2027-01-04 01:00")
        );
    }

    #[test]
    fn dst_zone() {
        // Europe/Berlin springs forward on Sunday 2026-03-29 (02:00 -> 03:00)
        // and falls back on Sunday 2026-10-25 (03:00 -> 02:00); make both
        // working days so the transitions matter.
        let mut c = BusinessCalendar::new(
            "Europe/Berlin",
            &hours(&[("00:00", "01:30"), ("01:30", "02:30"), ("02:30", "24:00")]),
        )
        .unwrap();
        c.load_year_toml("year = 2026\nworkdays = [\"2026-03-29\", \"2026-10-25\"]")
            .unwrap();
        // Spring day has 23 real hours; the 01:30–02:30 period is 30 minutes.
        assert_eq!(
            c.working_minutes_between(utc("2026-03-28 23:00"), utc("2026-03-29 22:00")),
            23 * 60
        );
        // 00:00 CET = 23:00 UTC; 90 + 30 minutes later it is 03:00 CEST.
        assert_eq!(
            c.add_working_minutes(utc("2026-03-28 23:00"), 120),
            utc("2026-03-29 01:00")
        );
        // Autumn day has 25 real hours.
        assert_eq!(
            c.working_minutes_between(utc("2026-10-24 22:00"), utc("2026-10-25 23:00")),
            25 * 60
        );
        // Winter: 09:00 Berlin = 08:00 UTC; summer: 07:00 UTC.
        let c = BusinessCalendar::new("Europe/Berlin", &hours(&[("09:00", "17:00")])).unwrap();
        assert!(c.is_working_time(utc("2026-01-14 08:00")));
        assert!(!c.is_working_time(utc("2026-01-14 07:59")));
        assert!(c.is_working_time(utc("2026-07-15 07:00")));
        assert!(!c.is_working_time(utc("2026-07-15 06:59")));
        // Friday before spring forward to the Monday after.
        assert_eq!(
            c.add_working_minutes(utc("2026-03-27 15:00"), 120),
            utc("2026-03-30 08:00")
        );
    }
}
