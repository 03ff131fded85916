//! Load planning: the segments a load fetches, the request budget that refuses unbounded
//! loads before they start, and the dates a load may ask for. Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};

use super::calendar::Calendar;
use super::gaps::{GapAnalysis, GapAnalyzer};
use super::segments::{segments, Segment};
use ktrdr_core::mode::LoadMode;
use ktrdr_core::timeframe::Timeframe;

/// IB's historical-data pacing: 60 requests per 10 minutes.
pub const IB_REQUESTS_PER_HOUR: f64 = 360.0;

/// The earliest date a load may ask for.
pub fn earliest_date() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1900, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or_default()
}

/// Why a requested date is refused: before 1900 or after the end of `now`'s day (UTC).
pub fn check_date(date: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    let end_of_today = now
        .date_naive()
        .succ_opt()
        .map(|d| d.and_time(Default::default()).and_utc());
    if date < earliest_date() {
        return Err(format!("{} is before 1900-01-01", date.format("%Y-%m-%d")));
    }
    if end_of_today.is_some_and(|e| date > e) {
        return Err(format!(
            "{} is after the end of today ({})",
            date.format("%Y-%m-%d"),
            now.format("%Y-%m-%d")
        ));
    }
    Ok(())
}

/// What a load will fetch.
#[derive(Debug, Clone, Default)]
pub struct LoadPlan {
    pub analysis: GapAnalysis,
    pub segments: Vec<Segment>,
}

/// The plan for `[start, end)` given the stored bar times (sorted, ms).
pub fn plan(
    timeframe: Timeframe,
    calendar: Calendar,
    mode: LoadMode,
    stored: &[i64],
    start: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
) -> LoadPlan {
    let analysis = match start {
        Some(start) if mode != LoadMode::Local => {
            GapAnalyzer::new(timeframe, calendar).analyze(stored, mode, start, end)
        }
        _ => GapAnalysis::default(),
    };
    let segments = segments(&analysis.gaps, timeframe);
    LoadPlan { analysis, segments }
}

/// The most requests a range can take whatever is stored: its span cut at IB's limit.
pub fn max_requests(timeframe: Timeframe, start: DateTime<Utc>, end: DateTime<Utc>) -> usize {
    let span = timeframe.max_request_span().num_seconds().max(1);
    let secs = (end - start).num_seconds().max(0);
    ((secs + span - 1) / span) as usize
}

/// A load whose plan is over the configured number of provider requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this load needs {planned} provider requests, about {} at IB's pacing (60 requests per \
     10 minutes); the limit is {limit} per load: load a shorter range, or raise [data] \
     max_requests_per_load (environment KTRDR_MAX_REQUESTS_PER_LOAD)",
    pacing_time(*planned)
)]
pub struct TooManyRequests {
    pub planned: usize,
    pub limit: usize,
}

/// Refuses a plan of more than `limit` requests.
pub fn check_budget(planned: usize, limit: usize) -> Result<(), TooManyRequests> {
    if planned > limit {
        return Err(TooManyRequests { planned, limit });
    }
    Ok(())
}

/// How long `requests` take at IB's pacing, in words.
pub fn pacing_time(requests: usize) -> String {
    let hours = requests as f64 / IB_REQUESTS_PER_HOUR;
    if hours >= 1.0 {
        format!("{hours:.1} hours")
    } else {
        format!("{:.0} minutes", (hours * 60.0).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A century of 1-minute bars is 36,525 one-day requests, about 101 hours at IB's pacing,
    /// and is refused by the default-sized budget with both numbers in the message.
    #[test]
    fn century_of_minutes_is_refused() {
        let n = max_requests(
            Timeframe::M1,
            utc("1925-01-01T00:00:00Z"),
            utc("2025-01-01T00:00:00Z"),
        );
        assert_eq!(n, 36_525);
        let err = check_budget(n, 1000).unwrap_err().to_string();
        assert!(err.contains("36525 provider requests"), "{err}");
        assert!(err.contains("101.5 hours"), "{err}");
        assert!(err.contains("KTRDR_MAX_REQUESTS_PER_LOAD"), "{err}");
        assert!(check_budget(1000, 1000).is_ok());
        assert_eq!(pacing_time(30), "5 minutes");
    }

    /// A plan over what is stored asks only for the missing ranges.
    #[test]
    fn plan_counts_only_missing_segments() {
        let (start, end) = (utc("2024-01-01T00:00:00Z"), utc("2024-03-01T00:00:00Z"));
        let all = plan(
            Timeframe::H1,
            Calendar::Crypto,
            LoadMode::Full,
            &[],
            Some(start),
            end,
        );
        assert_eq!(all.segments.len(), 2, "60 days in 30-day requests");
        let stored: Vec<i64> = (0..24 * 31)
            .map(|h| start.timestamp_millis() + h * 3_600_000)
            .collect();
        let rest = plan(
            Timeframe::H1,
            Calendar::Crypto,
            LoadMode::Full,
            &stored,
            Some(start),
            end,
        );
        assert_eq!(rest.segments.len(), 1);
        assert_eq!(rest.segments[0].start, utc("2024-02-01T00:00:00Z"));
        assert!(plan(
            Timeframe::H1,
            Calendar::Crypto,
            LoadMode::Local,
            &[],
            Some(start),
            end
        )
        .segments
        .is_empty());
    }

    /// Dates before 1900 and after today are refused; today and 1900-01-01 are fine.
    #[test]
    fn date_bounds() {
        let now = utc("2026-11-23T10:00:00Z");
        assert!(check_date(utc("1900-01-01T00:00:00Z"), now).is_ok());
        assert!(check_date(utc("2026-11-23T23:59:00Z"), now).is_ok());
        assert!(check_date(utc("1899-12-31T00:00:00Z"), now)
            .unwrap_err()
            .contains("before 1900"));
        assert!(check_date(utc("2026-11-25T00:00:00Z"), now)
            .unwrap_err()
            .contains("after the end of today"));
    }
}
