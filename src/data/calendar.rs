//! Trading calendars: when a market is open, so that gaps over weekends, holidays and closed
//! hours are expected and never fetched.
//!
//! - US equities: 09:30-16:00 America/New_York on NYSE trading days (holidays observed as the
//!   NYSE observes them, Good Friday, the special closures since 2001), 13:00 early closes on
//!   July 3rd, the day after Thanksgiving and Christmas Eve.
//! - Forex (24/5): Sunday 17:00 to Friday 17:00 America/New_York.
//! - Crypto: always open.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::America::New_York;
use serde::{Deserialize, Serialize};

/// Which market hours apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    UsEquity,
    Forex,
    Crypto,
}

/// A calendar name outside the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid calendar {0:?}: expected one of us_equity, forex, crypto")]
pub struct CalendarError(pub String);

impl FromStr for Calendar {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "us_equity" | "equity" => Ok(Self::UsEquity),
            "forex" => Ok(Self::Forex),
            "crypto" => Ok(Self::Crypto),
            _ => Err(CalendarError(s.to_owned())),
        }
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UsEquity => "us_equity",
            Self::Forex => "forex",
            Self::Crypto => "crypto",
        })
    }
}

impl Calendar {
    /// The default for a symbol: a pair on a common crypto coin (`BTCUSD`, `ETH.USD`) is crypto,
    /// another dot or six letters (`EUR.USD`, `EURUSD`) is forex, anything else a US equity.
    /// Requests can override it.
    pub fn for_symbol(symbol: &str) -> Self {
        const COINS: [&str; 8] = ["BTC", "ETH", "LTC", "XRP", "SOL", "ADA", "BCH", "DOGE"];
        let six_letters = symbol.len() == 6 && symbol.bytes().all(|b| b.is_ascii_alphabetic());
        let pair = symbol.contains('.') || six_letters;
        if pair && COINS.iter().any(|c| symbol.starts_with(c)) {
            Self::Crypto
        } else if pair {
            Self::Forex
        } else {
            Self::UsEquity
        }
    }

    /// True when the market trades at some time on this (New York) date.
    pub fn is_trading_day(self, date: NaiveDate) -> bool {
        match self {
            Self::Crypto => true,
            Self::Forex => !matches!(date.weekday(), Weekday::Sat),
            Self::UsEquity => is_nyse_trading_day(date),
        }
    }

    /// True when the market trades on this date for the purpose of daily bars (forex daily
    /// bars exist Monday to Friday).
    pub fn has_daily_bar(self, date: NaiveDate) -> bool {
        match self {
            Self::Forex => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
            other => other.is_trading_day(date),
        }
    }

    /// Open intervals (UTC) on a New York date.
    fn sessions(self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let at = |h, m| ny(date, NaiveTime::from_hms_opt(h, m, 0).expect("valid time"));
        let midnight_next = || ny(date + Duration::days(1), NaiveTime::MIN);
        match self {
            Self::Crypto => vec![(ny(date, NaiveTime::MIN), midnight_next())],
            Self::Forex => match date.weekday() {
                Weekday::Sat => vec![],
                Weekday::Sun => vec![(at(17, 0), midnight_next())],
                Weekday::Fri => vec![(ny(date, NaiveTime::MIN), at(17, 0))],
                _ => vec![(ny(date, NaiveTime::MIN), midnight_next())],
            },
            Self::UsEquity => {
                if !is_nyse_trading_day(date) {
                    vec![]
                } else if is_nyse_early_close(date) {
                    vec![(at(9, 30), at(13, 0))]
                } else {
                    vec![(at(9, 30), at(16, 0))]
                }
            }
        }
    }

    /// Whether `t` falls in trading hours: the regular session (US equities 09:30-16:00 New
    /// York, 13:00 on early closes), or with `extended` the pre- and post-market too
    /// (04:00-20:00). Forex and crypto have no extended hours: their whole sessions count.
    pub fn in_trading_hours(self, t: DateTime<Utc>, extended: bool) -> bool {
        let date = t.with_timezone(&New_York).date_naive();
        if self == Self::UsEquity && extended {
            if !is_nyse_trading_day(date) {
                return false;
            }
            let at = |h| ny(date, NaiveTime::from_hms_opt(h, 0, 0).expect("valid time"));
            return at(4) <= t && t < at(20);
        }
        // A session may have begun on the previous New York date (forex from Sunday 17:00).
        [date - Duration::days(1), date]
            .into_iter()
            .flat_map(|d| self.sessions(d))
            .any(|(open, close)| open <= t && t < close)
    }

    /// How long the market is open within `[from, to)`.
    pub fn trading_time(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self == Self::Crypto {
            return to - from;
        }
        let mut total = Duration::zero();
        // Sessions are by New York date; start a day early to catch one that began before.
        let mut date = from.with_timezone(&New_York).date_naive() - Duration::days(1);
        let last = to.with_timezone(&New_York).date_naive();
        while date <= last {
            for (open, close) in self.sessions(date) {
                let (a, b) = (open.max(from), close.min(to));
                if b > a {
                    total += b - a;
                }
            }
            date += Duration::days(1);
        }
        total
    }

    /// Days with a daily bar in `[from, to)` (dates).
    pub fn trading_days(self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            n += u32::from(self.has_daily_bar(d));
            d += Duration::days(1);
        }
        n
    }
}

/// A New York wall-clock time as UTC (the earlier one in the autumn overlap).
fn ny(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = NaiveDateTime::new(date, time);
    match New_York.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        // In the spring gap: an hour later exists.
        chrono::LocalResult::None => New_York
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local)),
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("valid nth weekday")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
        .unwrap_or_else(|| nth_weekday(year, month, weekday, 4))
}

/// Easter Sunday (anonymous Gregorian algorithm).
fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("valid Easter date")
}

/// A fixed-date holiday moved to Friday when on Saturday, to Monday when on Sunday.
fn observed(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date - Duration::days(1),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

/// Closures outside the regular holiday rules (since 2001).
const SPECIAL_CLOSURES: &[(i32, u32, u32)] = &[
    (2001, 9, 11),
    (2001, 9, 12),
    (2001, 9, 13),
    (2001, 9, 14),
    (2004, 6, 11),  // President Reagan's funeral
    (2007, 1, 2),   // President Ford's funeral
    (2012, 10, 29), // Hurricane Sandy
    (2012, 10, 30),
    (2018, 12, 5), // President G. H. W. Bush's funeral
    (2025, 1, 9),  // President Carter's funeral
];

/// NYSE full-day holidays.
pub fn is_nyse_holiday(date: NaiveDate) -> bool {
    let y = date.year();
    let ymd = |m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    // New Year's Day: Sunday -> Monday; on a Saturday the NYSE does not close the Friday before.
    let new_year = ymd(1, 1);
    let new_year_hit = match new_year.weekday() {
        Weekday::Sun => date == ymd(1, 2),
        Weekday::Sat => false,
        _ => date == new_year,
    };
    let mut holidays = vec![
        nth_weekday(y, 2, Weekday::Mon, 3),  // Washington's Birthday
        easter(y) - Duration::days(2),       // Good Friday
        last_weekday(y, 5, Weekday::Mon),    // Memorial Day
        observed(ymd(7, 4)),                 // Independence Day
        nth_weekday(y, 9, Weekday::Mon, 1),  // Labor Day
        nth_weekday(y, 11, Weekday::Thu, 4), // Thanksgiving
        observed(ymd(12, 25)),               // Christmas
    ];
    if y >= 1998 {
        holidays.push(nth_weekday(y, 1, Weekday::Mon, 3)); // Martin Luther King Jr. Day
    }
    if y >= 2022 {
        holidays.push(observed(ymd(6, 19))); // Juneteenth
    }
    new_year_hit
        || holidays.contains(&date)
        || SPECIAL_CLOSURES
            .iter()
            .any(|&(sy, sm, sd)| (sy, sm, sd) == (y, date.month(), date.day()))
}

/// A weekday that is not a holiday.
pub fn is_nyse_trading_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_nyse_holiday(date)
}

/// 13:00 closes: July 3rd (when a trading day before a weekday July 4th), the day after
/// Thanksgiving, Christmas Eve (when a trading day).
pub fn is_nyse_early_close(date: NaiveDate) -> bool {
    if !is_nyse_trading_day(date) {
        return false;
    }
    let y = date.year();
    let (m, d) = (date.month(), date.day());
    let july4 = NaiveDate::from_ymd_opt(y, 7, 4).expect("valid date");
    (m == 7 && d == 3 && !matches!(july4.weekday(), Weekday::Sat | Weekday::Sun))
        || date == nth_weekday(y, 11, Weekday::Thu, 4) + Duration::days(1)
        || (m == 12 && d == 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Holidays of 2024, as the NYSE published them.
    #[test]
    fn nyse_holidays_2024() {
        let holidays = [
            d(2024, 1, 1),
            d(2024, 1, 15),
            d(2024, 2, 19),
            d(2024, 3, 29), // Good Friday
            d(2024, 5, 27),
            d(2024, 6, 19),
            d(2024, 7, 4),
            d(2024, 9, 2),
            d(2024, 11, 28),
            d(2024, 12, 25),
        ];
        let mut found = Vec::new();
        let mut day = d(2024, 1, 1);
        while day <= d(2024, 12, 31) {
            if is_nyse_holiday(day) && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                found.push(day);
            }
            day += Duration::days(1);
        }
        assert_eq!(found, holidays);
    }

    /// Observed days: July 4th on a Saturday closes Friday the 3rd; Christmas on a Sunday closes
    /// Monday the 26th; New Year's on a Saturday closes nothing.
    #[test]
    fn observed_holidays() {
        assert!(is_nyse_holiday(d(2015, 7, 3)));
        assert!(!is_nyse_early_close(d(2015, 7, 2)));
        assert!(is_nyse_holiday(d(2022, 12, 26)));
        assert!(is_nyse_trading_day(d(2021, 12, 31))); // New Year's 2022 was a Saturday
        assert!(is_nyse_holiday(d(2023, 1, 2))); // New Year's 2023 was a Sunday
        assert!(is_nyse_holiday(d(2012, 10, 29))); // Sandy
    }

    /// Early closes at 13:00 New York time.
    #[test]
    fn early_closes() {
        assert!(is_nyse_early_close(d(2024, 7, 3)));
        assert!(is_nyse_early_close(d(2024, 11, 29)));
        assert!(is_nyse_early_close(d(2024, 12, 24)));
        assert!(!is_nyse_early_close(d(2024, 12, 23)));
        let cal = Calendar::UsEquity;
        let day = cal.trading_time(utc("2024-11-29T00:00:00Z"), utc("2024-11-30T00:00:00Z"));
        assert_eq!(day, Duration::minutes(210));
    }

    /// The session is 09:30-16:00 New York on both sides of a DST change (UTC hours move).
    #[test]
    fn equity_session_across_dst() {
        let cal = Calendar::UsEquity;
        // Friday before the March 2024 change (EST, UTC-5): 14:30-21:00 UTC.
        assert_eq!(
            cal.trading_time(utc("2024-03-08T14:00:00Z"), utc("2024-03-08T15:00:00Z")),
            Duration::minutes(30)
        );
        // Monday after (EDT, UTC-4): 13:30-20:00 UTC.
        assert_eq!(
            cal.trading_time(utc("2024-03-11T13:00:00Z"), utc("2024-03-11T14:00:00Z")),
            Duration::minutes(30)
        );
        // The whole DST week: five full sessions.
        assert_eq!(
            cal.trading_time(utc("2024-03-09T00:00:00Z"), utc("2024-03-16T00:00:00Z")),
            Duration::minutes(5 * 390)
        );
        // Autumn change, the week of 2024-11-03.
        assert_eq!(
            cal.trading_time(utc("2024-11-02T00:00:00Z"), utc("2024-11-09T00:00:00Z")),
            Duration::minutes(5 * 390)
        );
    }

    /// Overnight and weekend gaps of an equity have no trading time.
    #[test]
    fn equity_closed_hours() {
        let cal = Calendar::UsEquity;
        assert_eq!(
            cal.trading_time(utc("2024-03-08T21:00:00Z"), utc("2024-03-11T13:30:00Z")),
            Duration::zero()
        );
        // Good Friday 2024 and the weekend after.
        assert_eq!(
            cal.trading_time(utc("2024-03-28T20:00:00Z"), utc("2024-04-01T13:30:00Z")),
            Duration::zero()
        );
    }

    /// Forex closes Friday 17:00 and reopens Sunday 17:00 New York.
    #[test]
    fn forex_weekend() {
        let cal = Calendar::Forex;
        // Friday 2024-03-08 17:00 EST = 22:00 UTC; Sunday 2024-03-10 17:00 EDT = 21:00 UTC.
        assert_eq!(
            cal.trading_time(utc("2024-03-08T22:00:00Z"), utc("2024-03-10T21:00:00Z")),
            Duration::zero()
        );
        assert_eq!(
            cal.trading_time(utc("2024-03-08T21:00:00Z"), utc("2024-03-10T22:00:00Z")),
            Duration::hours(2)
        );
        // Mid-week it is open around the clock.
        assert_eq!(
            cal.trading_time(utc("2024-03-12T00:00:00Z"), utc("2024-03-13T00:00:00Z")),
            Duration::hours(24)
        );
        assert!(!cal.has_daily_bar(d(2024, 3, 10)));
    }

    /// Crypto never closes; default calendars by symbol shape.
    #[test]
    fn crypto_and_defaults() {
        let a = utc("2024-03-09T00:00:00Z");
        assert_eq!(
            Calendar::Crypto.trading_time(a, a + Duration::days(2)),
            Duration::days(2)
        );
        assert_eq!(Calendar::for_symbol("EURUSD"), Calendar::Forex);
        assert_eq!(Calendar::for_symbol("EUR.USD"), Calendar::Forex);
        assert_eq!(Calendar::for_symbol("AAPL"), Calendar::UsEquity);
        assert_eq!(Calendar::for_symbol("GOOG"), Calendar::UsEquity);
        assert_eq!(Calendar::for_symbol("BTCUSD"), Calendar::Crypto);
        assert_eq!(Calendar::for_symbol("ETH.USD"), Calendar::Crypto);
    }

    /// Easter dates known from almanacs.
    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), d(2024, 3, 31));
        assert_eq!(easter(2025), d(2025, 4, 20));
        assert_eq!(easter(2008), d(2008, 3, 23));
    }

    /// Regular hours are 09:30-16:00 New York (EDT here: 13:30-20:00 UTC), extended
    /// 04:00-20:00; nothing on a holiday; forex is open on a Wednesday night.
    #[test]
    fn trading_hours() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let eq = Calendar::UsEquity;
        assert!(eq.in_trading_hours(t("2024-06-12T13:30:00Z"), false));
        assert!(!eq.in_trading_hours(t("2024-06-12T13:29:00Z"), false));
        assert!(!eq.in_trading_hours(t("2024-06-12T20:00:00Z"), false));
        assert!(
            eq.in_trading_hours(t("2024-06-12T08:00:00Z"), true),
            "pre-market"
        );
        assert!(
            eq.in_trading_hours(t("2024-06-12T23:59:00Z"), true),
            "after hours"
        );
        assert!(
            !eq.in_trading_hours(t("2024-06-13T00:00:00Z"), true),
            "20:00 New York"
        );
        assert!(
            !eq.in_trading_hours(t("2024-06-19T15:00:00Z"), true),
            "Juneteenth"
        );
        assert!(Calendar::Forex.in_trading_hours(t("2024-06-13T03:00:00Z"), false));
        assert!(!Calendar::Forex.in_trading_hours(t("2024-06-15T12:00:00Z"), false));
    }
}
