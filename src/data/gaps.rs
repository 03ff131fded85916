//! GapAnalyzer: which ranges of a requested window are missing from the store and worth
//! fetching. Gaps over closed markets (nights, weekends, holidays) are expected and skipped.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::calendar::Calendar;
use ktrdr_core::timeframe::Timeframe;

use ktrdr_core::mode::LoadMode;

/// Where a gap lies relative to the stored bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GapKind {
    /// Before the first stored bar (or the whole range of an empty store).
    Head,
    /// Between two stored bars.
    Internal,
    /// After the last stored bar.
    Tail,
}

/// A range `[start, end)` to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: GapKind,
}

/// The result of an analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GapAnalysis {
    /// Gaps to fetch, in time order.
    pub gaps: Vec<Gap>,
    /// Holes that were examined and found to be closed-market time.
    pub expected: usize,
}

/// Analyses stored bar times (sorted, ms) against a requested window.
pub struct GapAnalyzer {
    pub timeframe: Timeframe,
    pub calendar: Calendar,
}

fn ms(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t).unwrap_or_default()
}

fn day_start(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

impl GapAnalyzer {
    pub fn new(timeframe: Timeframe, calendar: Calendar) -> Self {
        Self {
            timeframe,
            calendar,
        }
    }

    /// True when `[from, to)` holds at least one bar's worth of trading.
    fn is_tradable(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        if to <= from {
            return false;
        }
        match self.timeframe {
            Timeframe::D1 => {
                self.calendar
                    .trading_days(from.date_naive(), to.date_naive())
                    > 0
            }
            Timeframe::W1 => {
                // A week that has a trading day and is not covered by the bars around it.
                let days = self
                    .calendar
                    .trading_days(from.date_naive(), to.date_naive());
                days > 0 && (to - from) >= Duration::days(7)
            }
            Timeframe::MN1 => {
                // A whole month missing: a bar is dated by any day of its month and months
                // are 28-31 days, so shorter holes between bars are the calendar's.
                let days = self
                    .calendar
                    .trading_days(from.date_naive(), to.date_naive());
                days > 0 && (to - from) >= Duration::days(28)
            }
            tf => self.calendar.trading_time(from, to) >= tf.duration(),
        }
    }

    /// Where the bar dated `t` begins: a weekly bar covers its Monday-to-Sunday week and a
    /// monthly bar its whole month, whichever day the vendor dates them by (BTCUSD's monthly
    /// sample uses the month's last day).
    fn bar_start(&self, t: i64) -> DateTime<Utc> {
        let start = ms(t);
        let day = start.date_naive();
        match self.timeframe {
            Timeframe::W1 => day_start(week_monday(day)),
            Timeframe::MN1 => day_start(day.with_day(1).unwrap_or(day)),
            _ => start,
        }
    }

    /// Where the bar that holds the instant `t` starts: midnight of its day for daily bars,
    /// its Monday for weekly ones, the month's first day for monthly ones, the bar-size
    /// boundary for intraday ones. A provider's first-bar time (IB's is a time of day) becomes
    /// the start of a range that holds that bar.
    pub fn start_of_bar_at(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let day = t.date_naive();
        match self.timeframe {
            Timeframe::D1 => day_start(day),
            Timeframe::W1 => day_start(week_monday(day)),
            Timeframe::MN1 => day_start(day.with_day(1).unwrap_or(day)),
            tf => {
                let size = tf.duration().num_milliseconds().max(1);
                let ms_t = t.timestamp_millis();
                ms(ms_t - ms_t.rem_euclid(size))
            }
        }
    }

    /// Where the bar dated `t` ends: midnight after its day for daily bars, the next Monday for
    /// weekly bars, the next month's first day for monthly bars.
    fn bar_end(&self, t: i64) -> DateTime<Utc> {
        let start = ms(t);
        match self.timeframe {
            Timeframe::D1 => day_start(start.date_naive() + Duration::days(1)),
            Timeframe::W1 => day_start(week_monday(start.date_naive()) + Duration::days(7)),
            Timeframe::MN1 => {
                let first = start.date_naive().with_day(1).unwrap_or(start.date_naive());
                day_start(
                    first
                        .checked_add_months(chrono::Months::new(1))
                        .unwrap_or(first),
                )
            }
            tf => start + tf.duration(),
        }
    }

    /// How many bars the calendar expects in `[from, to)`: trading days for daily bars,
    /// trading time over the bar size for intraday ones, calendar weeks and months beyond.
    pub fn expected_bars(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        if to <= from {
            return 0.0;
        }
        match self.timeframe {
            Timeframe::D1 => f64::from(
                self.calendar
                    .trading_days(from.date_naive(), to.date_naive()),
            ),
            Timeframe::W1 => ((to - from).num_days() as f64 / 7.0).ceil(),
            Timeframe::MN1 => ((to - from).num_days() as f64 / 30.44).round().max(1.0),
            tf => {
                let open = self.calendar.trading_time(from, to).num_seconds() as f64;
                (open / tf.duration().num_seconds() as f64).ceil()
            }
        }
    }

    /// Gaps of `times` (sorted bar starts, ms) within `[start, end)` for `mode`.
    pub fn analyze(
        &self,
        times: &[i64],
        mode: LoadMode,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> GapAnalysis {
        let mut out = GapAnalysis::default();
        if mode == LoadMode::Local || end <= start {
            return out;
        }
        let consider = |from: DateTime<Utc>, to: DateTime<Utc>, kind, out: &mut GapAnalysis| {
            let (from, to) = (from.max(start), to.min(end));
            if to <= from {
                return;
            }
            if self.is_tradable(from, to) {
                out.gaps.push(Gap {
                    start: from,
                    end: to,
                    kind,
                });
            } else {
                out.expected += 1;
            }
        };
        let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
            consider(start, end, GapKind::Head, &mut out);
            return out;
        };
        if matches!(mode, LoadMode::Backfill | LoadMode::Full) {
            consider(start, self.bar_start(first), GapKind::Head, &mut out);
        }
        if mode == LoadMode::Full {
            let step = self.timeframe.duration().num_milliseconds();
            let lo = times.partition_point(|&t| t < start.timestamp_millis());
            let hi = times.partition_point(|&t| t < end.timestamp_millis());
            // The pairs that overlap the window: from the bar before it to the bar after it
            // (a window that lies wholly inside a hole has no stored bar of its own).
            for pair in times[lo.saturating_sub(1)..(hi + 1).min(times.len())].windows(2) {
                // Fast path: consecutive bars.
                if pair[1] - pair[0] <= step {
                    continue;
                }
                consider(
                    self.bar_end(pair[0]),
                    self.bar_start(pair[1]),
                    GapKind::Internal,
                    &mut out,
                );
            }
        }
        if matches!(mode, LoadMode::Tail | LoadMode::Full) {
            consider(self.bar_end(last), end, GapKind::Tail, &mut out);
        }
        out
    }
}

/// The Monday of `day`'s week.
fn week_monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Hourly equity bars 09:30..15:30 New York (EDT: 13:30..19:30 UTC) for each trading day.
    fn equity_hours(days: &[&str]) -> Vec<i64> {
        let mut out = Vec::new();
        for d in days {
            for h in 0..7 {
                let t = utc(&format!("{d}T13:30:00Z")) + Duration::hours(h);
                out.push(t.timestamp_millis());
            }
        }
        out
    }

    /// Nights and a weekend between complete days are expected; a missing trading day is not.
    #[test]
    fn full_finds_only_unexpected_internal_gaps() {
        let a = GapAnalyzer::new(Timeframe::H1, Calendar::UsEquity);
        // Thu 2024-06-13, Fri 14, (weekend), Mon 17, Wed 19 is Juneteenth, Thu 20 missing, Fri 21.
        let times = equity_hours(&[
            "2024-06-13",
            "2024-06-14",
            "2024-06-17",
            "2024-06-18",
            "2024-06-21",
        ]);
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-06-13T13:30:00Z"),
            utc("2024-06-21T20:00:00Z"),
        );
        assert_eq!(r.gaps.len(), 1, "{:?}", r.gaps);
        let g = r.gaps[0];
        assert_eq!(g.kind, GapKind::Internal);
        assert_eq!(g.start, utc("2024-06-18T20:30:00Z"));
        assert_eq!(g.end, utc("2024-06-21T13:30:00Z"));
        assert!(r.expected >= 3, "nights and the weekend: {}", r.expected);
    }

    /// Tail: only after the last bar; nothing when the rest is closed-market time.
    #[test]
    fn tail_and_backfill() {
        let a = GapAnalyzer::new(Timeframe::H1, Calendar::UsEquity);
        let times = equity_hours(&["2024-06-14"]); // a Friday
                                                   // Up to Sunday night: nothing to fetch.
        let r = a.analyze(
            &times,
            LoadMode::Tail,
            utc("2024-06-01T00:00:00Z"),
            utc("2024-06-17T00:00:00Z"),
        );
        assert!(r.gaps.is_empty(), "{:?}", r.gaps);
        // Up to Tuesday: Monday and Tuesday are missing.
        let r = a.analyze(
            &times,
            LoadMode::Tail,
            utc("2024-06-01T00:00:00Z"),
            utc("2024-06-19T00:00:00Z"),
        );
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].kind, GapKind::Tail);
        assert_eq!(r.gaps[0].start, utc("2024-06-14T20:30:00Z"));
        // Backfill: from the start to the first bar, the tail ignored.
        let r = a.analyze(
            &times,
            LoadMode::Backfill,
            utc("2024-06-10T00:00:00Z"),
            utc("2024-06-19T00:00:00Z"),
        );
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].kind, GapKind::Head);
        assert_eq!(r.gaps[0].end, utc("2024-06-14T13:30:00Z"));
        // Local never fetches.
        assert!(a
            .analyze(
                &[],
                LoadMode::Local,
                utc("2024-06-10T00:00:00Z"),
                utc("2024-06-19T00:00:00Z")
            )
            .gaps
            .is_empty());
    }

    /// An empty store is one head gap over the whole range.
    #[test]
    fn empty_store_is_one_gap() {
        let a = GapAnalyzer::new(Timeframe::D1, Calendar::UsEquity);
        let r = a.analyze(
            &[],
            LoadMode::Tail,
            utc("2024-01-01T00:00:00Z"),
            utc("2024-02-01T00:00:00Z"),
        );
        assert_eq!(
            r.gaps,
            vec![Gap {
                start: utc("2024-01-01T00:00:00Z"),
                end: utc("2024-02-01T00:00:00Z"),
                kind: GapKind::Head
            }]
        );
    }

    /// Forex: the Friday-to-Sunday close is expected; a hole on Tuesday is not.
    #[test]
    fn forex_weekend_is_expected() {
        let a = GapAnalyzer::new(Timeframe::H1, Calendar::Forex);
        // Hourly bars Fri 2024-03-08 00:00 UTC .. 21:00 UTC (closes 22:00 UTC), then from Sun 21:00 UTC.
        let mut times: Vec<i64> = (0..22)
            .map(|h| (utc("2024-03-08T00:00:00Z") + Duration::hours(h)).timestamp_millis())
            .collect();
        let sunday = utc("2024-03-10T21:00:00Z");
        times.extend(
            (0..48)
                .filter(|h| !(30..33).contains(h))
                .map(|h| (sunday + Duration::hours(h)).timestamp_millis()),
        );
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-03-08T00:00:00Z"),
            sunday + Duration::hours(48),
        );
        assert_eq!(r.gaps.len(), 1, "{:?}", r.gaps);
        assert_eq!(r.gaps[0].start, sunday + Duration::hours(30));
        assert_eq!(r.gaps[0].end, sunday + Duration::hours(33));
        assert_eq!(r.expected, 1);
    }

    /// Monthly bars dated on the month's last day: the months they cover are not gaps, a
    /// missing month is.
    #[test]
    fn monthly_bars_cover_their_month() {
        let a = GapAnalyzer::new(Timeframe::MN1, Calendar::Crypto);
        let t = |s: &str| utc(s).timestamp_millis();
        let times = [
            t("2020-01-31T00:00:00Z"),
            t("2020-02-29T00:00:00Z"),
            t("2020-04-30T00:00:00Z"),
        ];
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2020-01-01T00:00:00Z"),
            utc("2020-05-01T00:00:00Z"),
        );
        assert_eq!(
            r.gaps,
            vec![Gap {
                start: utc("2020-03-01T00:00:00Z"),
                end: utc("2020-04-01T00:00:00Z"),
                kind: GapKind::Internal
            }]
        );
    }

    /// Weekly bars cover their week whichever day dates them; a missing week is a gap.
    #[test]
    fn weekly_bars_cover_their_week() {
        let a = GapAnalyzer::new(Timeframe::W1, Calendar::UsEquity);
        let t = |s: &str| utc(s).timestamp_millis();
        // Fridays; the week of 2024-01-15 is missing.
        let times = [
            t("2024-01-05T00:00:00Z"),
            t("2024-01-12T00:00:00Z"),
            t("2024-01-26T00:00:00Z"),
        ];
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-01-01T00:00:00Z"),
            utc("2024-01-29T00:00:00Z"),
        );
        assert_eq!(
            r.gaps,
            vec![Gap {
                start: utc("2024-01-15T00:00:00Z"),
                end: utc("2024-01-22T00:00:00Z"),
                kind: GapKind::Internal
            }]
        );
    }

    /// Daily bars: holidays and weekends are expected.
    #[test]
    fn daily_holidays_expected() {
        let a = GapAnalyzer::new(Timeframe::D1, Calendar::UsEquity);
        // Thu 2024-03-28, (Good Friday, weekend), Mon 2024-04-01, Tue 2, (Wed 3 missing), Thu 4.
        let times: Vec<i64> = ["2024-03-28", "2024-04-01", "2024-04-02", "2024-04-04"]
            .iter()
            .map(|d| utc(&format!("{d}T00:00:00Z")).timestamp_millis())
            .collect();
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-03-28T00:00:00Z"),
            utc("2024-04-05T00:00:00Z"),
        );
        assert_eq!(r.gaps.len(), 1, "{:?}", r.gaps);
        assert_eq!(r.gaps[0].start, utc("2024-04-03T00:00:00Z"));
        assert_eq!(r.gaps[0].end, utc("2024-04-04T00:00:00Z"));
        assert_eq!(r.expected, 1);
    }

    /// A window wholly inside a hole of the stored series (bars before and after it, none in
    /// it) is a gap, clipped to the window; so is a window that ends inside a hole.
    #[test]
    fn window_inside_a_hole_is_a_gap() {
        let a = GapAnalyzer::new(Timeframe::D1, Calendar::Crypto);
        let day = |d: &str| utc(&format!("{d}T00:00:00Z")).timestamp_millis();
        let times = [day("2024-01-01"), day("2024-01-02"), day("2024-12-01")];
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-03-01T00:00:00Z"),
            utc("2024-04-01T00:00:00Z"),
        );
        assert_eq!(
            r.gaps,
            vec![Gap {
                start: utc("2024-03-01T00:00:00Z"),
                end: utc("2024-04-01T00:00:00Z"),
                kind: GapKind::Internal
            }]
        );
        let r = a.analyze(
            &times,
            LoadMode::Full,
            utc("2024-01-02T00:00:00Z"),
            utc("2024-02-01T00:00:00Z"),
        );
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(
            (r.gaps[0].start, r.gaps[0].end),
            (utc("2024-01-03T00:00:00Z"), utc("2024-02-01T00:00:00Z"))
        );
    }

    /// IB's first-bar time is a time of day: the range starts at the bar that holds it.
    #[test]
    fn start_of_the_bar_holding_an_instant() {
        let at = |tf| GapAnalyzer::new(tf, Calendar::UsEquity);
        let t = utc("2004-08-19T13:30:00Z");
        assert_eq!(
            at(Timeframe::D1).start_of_bar_at(t),
            utc("2004-08-19T00:00:00Z")
        );
        assert_eq!(
            at(Timeframe::W1).start_of_bar_at(t),
            utc("2004-08-16T00:00:00Z")
        );
        assert_eq!(
            at(Timeframe::MN1).start_of_bar_at(t),
            utc("2004-08-01T00:00:00Z")
        );
        assert_eq!(
            at(Timeframe::H1).start_of_bar_at(t),
            utc("2004-08-19T13:00:00Z")
        );
        assert_eq!(at(Timeframe::M5).start_of_bar_at(t), t);
    }
}
