//! Gap reports in KTRDR's gap-analysis shape: the missing ranges of a stored series over a
//! window, each with a severity, and a summary (coverage, quality score). Pure: the caller
//! reads the stored times.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::calendar::Calendar;
use super::gaps::GapAnalyzer;
use ktrdr_core::mode::LoadMode;
use ktrdr_core::timeframe::Timeframe;

/// One missing range, as KTRDR's `GapInfoModel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapInfo {
    pub start_time: String,
    pub end_time: String,
    pub duration_hours: f64,
    pub gap_type: &'static str,
    /// `minor` (at most 2 bars), `major` (at most 20), `critical` (more).
    pub severity: &'static str,
    /// The range holds trading time of the calendar (always, for a reported gap).
    pub market_hours: bool,
    pub missing_bars: f64,
}

/// KTRDR's `GapAnalysisSummary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapSummary {
    pub total_gaps: usize,
    pub critical_gaps: usize,
    pub major_gaps: usize,
    pub minor_gaps: usize,
    pub total_missing_hours: f64,
    /// Stored bars over the bars the calendar expects in the window, in percent.
    pub coverage_percentage: f64,
    /// The coverage, less a point per critical gap (0-100).
    pub data_quality_score: f64,
    pub expected_bars: f64,
    pub actual_bars: usize,
}

/// The report of a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapReport {
    pub summary: GapSummary,
    pub gaps: Vec<GapInfo>,
}

fn severity(missing_bars: f64) -> &'static str {
    if missing_bars <= 2.0 {
        "minor"
    } else if missing_bars <= 20.0 {
        "major"
    } else {
        "critical"
    }
}

/// The gaps of `stored` (sorted bar times, ms) within `[start, end)`.
pub fn report(
    stored: &[i64],
    timeframe: Timeframe,
    calendar: Calendar,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> GapReport {
    let analyzer = GapAnalyzer::new(timeframe, calendar);
    let analysis = analyzer.analyze(stored, LoadMode::Full, start, end);
    let gaps: Vec<GapInfo> = analysis
        .gaps
        .iter()
        .map(|g| {
            let missing = analyzer.expected_bars(g.start, g.end);
            GapInfo {
                start_time: g.start.to_rfc3339(),
                end_time: g.end.to_rfc3339(),
                duration_hours: (g.end - g.start).num_seconds() as f64 / 3600.0,
                gap_type: "missing",
                severity: severity(missing),
                market_hours: true,
                missing_bars: missing,
            }
        })
        .collect();
    let (lo, hi) = (start.timestamp_millis(), end.timestamp_millis());
    let actual = stored.iter().filter(|&&t| t >= lo && t < hi).count();
    let expected = analyzer.expected_bars(start, end);
    let coverage = if expected > 0.0 {
        (actual as f64 / expected * 100.0).min(100.0)
    } else {
        100.0
    };
    let count = |s: &str| gaps.iter().filter(|g| g.severity == s).count();
    let critical = count("critical");
    GapReport {
        summary: GapSummary {
            total_gaps: gaps.len(),
            critical_gaps: critical,
            major_gaps: count("major"),
            minor_gaps: count("minor"),
            total_missing_hours: gaps.iter().map(|g| g.duration_hours).sum(),
            coverage_percentage: coverage,
            data_quality_score: (coverage - critical as f64).max(0.0),
            expected_bars: expected,
            actual_bars: actual,
        },
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        format!("{s}T00:00:00Z").parse().unwrap()
    }

    /// Daily crypto bars with a 3-day and a 30-day hole: two gaps, major and critical, and
    /// the coverage of what is there.
    #[test]
    fn holes_are_classified_and_covered() {
        let day = 86_400_000;
        let start = utc("2024-01-01");
        let t0 = start.timestamp_millis();
        let stored: Vec<i64> = (0..100)
            .filter(|d| !(10..13).contains(d) && !(50..80).contains(d))
            .map(|d| t0 + d * day)
            .collect();
        let r = report(
            &stored,
            Timeframe::D1,
            Calendar::Crypto,
            start,
            utc("2024-04-10"),
        );
        assert_eq!(r.summary.total_gaps, 2, "{r:?}");
        assert_eq!(r.gaps[0].severity, "major");
        assert_eq!(r.gaps[0].missing_bars, 3.0);
        assert_eq!(r.gaps[1].severity, "critical");
        assert_eq!(r.summary.total_missing_hours, 33.0 * 24.0);
        assert_eq!(r.summary.actual_bars, 67);
        assert_eq!(r.summary.expected_bars, 100.0);
        assert!((r.summary.coverage_percentage - 67.0).abs() < 1e-9);
        let empty = report(
            &[],
            Timeframe::D1,
            Calendar::Crypto,
            start,
            utc("2024-01-11"),
        );
        assert_eq!(empty.summary.coverage_percentage, 0.0);
        assert_eq!(empty.gaps.len(), 1);
    }
}
