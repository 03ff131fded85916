//! DataValidator: KTRDR's quality checks on bars, with severities, a report for the
//! operation's result summary, and a repair for what can be repaired.

use serde::Serialize;

use ktrdr_core::bars::Bars;
use ktrdr_core::timeframe::Timeframe;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One kind of problem found, with how many bars it touched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub check: &'static str,
    pub severity: Severity,
    pub count: usize,
    pub message: String,
    /// What the repair did about it.
    pub action: &'static str,
}

/// What validation found and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValidationReport {
    pub bars_in: usize,
    pub bars_out: usize,
    pub issues: Vec<Issue>,
}

impl ValidationReport {
    fn add(
        &mut self,
        check: &'static str,
        severity: Severity,
        count: usize,
        message: String,
        action: &'static str,
    ) {
        if count > 0 {
            self.issues.push(Issue {
                check,
                severity,
                count,
                message,
                action,
            });
        }
    }

    /// True when an error-level issue was found.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Error)
    }
}

/// Largest close-to-close move before it is reported, by bar size.
fn extreme_move_threshold(tf: Timeframe) -> f64 {
    match tf {
        Timeframe::M1 | Timeframe::M5 | Timeframe::M15 => 0.10,
        Timeframe::M30 | Timeframe::H1 | Timeframe::H2 | Timeframe::H4 => 0.20,
        Timeframe::D1 => 0.40,
        Timeframe::W1 => 0.60,
        Timeframe::MN1 => 1.00,
    }
}

/// Checks `bars` and returns the repaired series with the report. Repairs: rows with missing
/// values or non-positive prices dropped, sorted, duplicates keep the last, negative volume set
/// to 0, high/low widened to cover open and close. Outliers and extreme moves are reported only.
pub fn validate(bars: &Bars, timeframe: Timeframe) -> (Bars, ValidationReport) {
    let mut report = ValidationReport {
        bars_in: bars.len(),
        ..Default::default()
    };
    if !bars.is_consistent() {
        report.add(
            "missing_columns",
            Severity::Error,
            1,
            "columns have different lengths".into(),
            "rejected",
        );
        return (Bars::default(), report);
    }
    if bars.is_empty() {
        report.add("empty", Severity::Warning, 1, "no bars".into(), "none");
        return (Bars::default(), report);
    }
    let n = bars.len();
    let row_ok = |i: usize| {
        [
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i],
        ]
        .iter()
        .all(|v| v.is_finite())
    };
    let missing = (0..n).filter(|&i| !row_ok(i)).count();
    report.add(
        "missing_values",
        Severity::Warning,
        missing,
        format!("{missing} bars with missing values"),
        "dropped",
    );
    let positive = |i: usize| {
        [bars.open[i], bars.high[i], bars.low[i], bars.close[i]]
            .iter()
            .all(|&v| v > 0.0)
    };
    let non_positive = (0..n).filter(|&i| row_ok(i) && !positive(i)).count();
    report.add(
        "non_positive_prices",
        Severity::Error,
        non_positive,
        format!("{non_positive} bars with a price <= 0"),
        "dropped",
    );
    let kept = bars.retain_indices(|i| row_ok(i) && positive(i));

    // Sort (stable, so of equal times the later row stays later), then keep the last of each time.
    let mut order: Vec<usize> = (0..kept.len()).collect();
    let unsorted = kept.time.windows(2).filter(|w| w[1] < w[0]).count();
    report.add(
        "unsorted",
        Severity::Warning,
        unsorted,
        format!("{unsorted} bars out of time order"),
        "sorted",
    );
    if unsorted > 0 {
        order.sort_by_key(|&i| kept.time[i]);
    }
    let mut out = Bars::with_capacity(kept.len());
    let mut duplicates = 0;
    for (k, &i) in order.iter().enumerate() {
        if order
            .get(k + 1)
            .is_some_and(|&next| kept.time[next] == kept.time[i])
        {
            duplicates += 1;
            continue;
        }
        out.push(kept.get(i));
    }
    report.add(
        "duplicate_timestamps",
        Severity::Warning,
        duplicates,
        format!("{duplicates} duplicate timestamps"),
        "kept the last",
    );

    let (mut minus_one, mut negative, mut high_low, mut low_high) = (0, 0, 0, 0);
    for i in 0..out.len() {
        if out.volume[i] == -1.0 {
            minus_one += 1;
            out.volume[i] = 0.0;
        } else if out.volume[i] < 0.0 {
            negative += 1;
            out.volume[i] = 0.0;
        }
        let top = out.open[i].max(out.close[i]);
        if out.high[i] < top {
            high_low += 1;
            out.high[i] = top;
        }
        let bottom = out.open[i].min(out.close[i]);
        if out.low[i] > bottom {
            low_high += 1;
            out.low[i] = bottom;
        }
    }
    report.add(
        "no_volume",
        Severity::Info,
        minus_one,
        format!("{minus_one} bars with volume -1 (IB: not available)"),
        "set to 0",
    );
    report.add(
        "negative_volume",
        Severity::Warning,
        negative,
        format!("{negative} bars with negative volume"),
        "set to 0",
    );
    report.add(
        "high_below_open_close",
        Severity::Warning,
        high_low,
        format!("{high_low} bars with high below open or close"),
        "high raised",
    );
    report.add(
        "low_above_open_close",
        Severity::Warning,
        low_high,
        format!("{low_high} bars with low above open or close"),
        "low lowered",
    );

    // Moves and outliers are reported, never changed: markets do jump.
    let limit = extreme_move_threshold(timeframe);
    let moves = out
        .close
        .windows(2)
        .filter(|w| (w[1] / w[0] - 1.0).abs() > limit)
        .count();
    report.add(
        "extreme_moves",
        Severity::Warning,
        moves,
        format!("{moves} close-to-close moves over {:.0}%", limit * 100.0),
        "none",
    );
    let outliers = count_outliers(&out.close);
    report.add(
        "price_outliers",
        Severity::Warning,
        outliers,
        format!("{outliers} closes far from their neighbours"),
        "none",
    );

    report.bars_out = out.len();
    (out, report)
}

/// Where the bars answering one request may lie: within the requested `[start, end)`, not
/// after `latest` (now plus one bar), and not wholly before the symbol's first available bar
/// (`head`). Times in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub start: i64,
    pub end: i64,
    pub latest: i64,
    pub head: Option<i64>,
    /// The bar's length: a bar counts as after `head` when it ends after it.
    pub bar_ms: i64,
}

fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Drops the bars outside `bounds`, reported as error-level issues (`future`, `out_of_range`,
/// `before_head`; each bar counted once, in that order): a provider that sends them is
/// misbehaving, and storing them would poison the series for every later gap analysis.
pub fn keep_within(bars: &Bars, bounds: &Bounds) -> (Bars, Vec<Issue>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Why {
        Future,
        Outside,
        BeforeHead,
    }
    let why = |t: i64| {
        if t > bounds.latest {
            Some(Why::Future)
        } else if t < bounds.start || t >= bounds.end {
            Some(Why::Outside)
        } else if bounds
            .head
            .is_some_and(|h| t.saturating_add(bounds.bar_ms) <= h)
        {
            Some(Why::BeforeHead)
        } else {
            None
        }
    };
    let reasons: Vec<Option<Why>> = bars.time.iter().map(|&t| why(t)).collect();
    if reasons.iter().all(Option::is_none) {
        return (bars.clone(), Vec::new());
    }
    let mut report = ValidationReport::default();
    for (kind, check, what) in [
        (Why::Future, "future", "in the future".to_owned()),
        (
            Why::Outside,
            "out_of_range",
            format!(
                "outside the requested range {} - {}",
                stamp(bounds.start),
                stamp(bounds.end)
            ),
        ),
        (
            Why::BeforeHead,
            "before_head",
            format!(
                "before the symbol's first available bar ({})",
                stamp(bounds.head.unwrap_or_default())
            ),
        ),
    ] {
        let times: Vec<i64> = (0..bars.len())
            .filter(|&i| reasons[i] == Some(kind))
            .map(|i| bars.time[i])
            .collect();
        if let (Some(lo), Some(hi)) = (times.iter().min(), times.iter().max()) {
            report.add(
                check,
                Severity::Error,
                times.len(),
                format!(
                    "{} bars {what} (dated {} to {})",
                    times.len(),
                    stamp(*lo),
                    stamp(*hi)
                ),
                "dropped",
            );
        }
    }
    (bars.retain_indices(|i| reasons[i].is_none()), report.issues)
}

/// Closes more than 5x away from the median of their 21-bar neighbourhood.
fn count_outliers(close: &[f64]) -> usize {
    const HALF: usize = 10;
    if close.len() < 2 * HALF + 1 {
        return 0;
    }
    let mut window: Vec<f64> = Vec::with_capacity(2 * HALF + 1);
    (HALF..close.len() - HALF)
        .filter(|&i| {
            window.clear();
            window.extend_from_slice(&close[i - HALF..=i + HALF]);
            window.sort_by(|a, b| a.total_cmp(b));
            let median = window[HALF];
            close[i] > median * 5.0 || close[i] < median / 5.0
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_core::bars::Bar;

    fn bar(time: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> Bar {
        Bar {
            time,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        }
    }

    fn series(rows: &[Bar]) -> Bars {
        let mut b = Bars::default();
        rows.iter().for_each(|r| b.push(*r));
        b
    }

    fn issue<'a>(r: &'a ValidationReport, check: &str) -> Option<&'a Issue> {
        r.issues.iter().find(|i| i.check == check)
    }

    /// Each repairable problem is reported with its severity and repaired.
    #[test]
    fn repairs_what_it_can() {
        let input = series(&[
            bar(3, 10.0, 11.0, 9.0, 10.5, 100.0),
            bar(1, 10.0, 9.5, 9.0, 10.0, -1.0), // high below open; IB's -1 volume
            bar(2, 10.0, 11.0, 10.2, 10.1, -5.0), // low above open/close; negative volume
            bar(2, 10.0, 11.0, 9.0, 10.3, 50.0), // duplicate of 2: the later row wins
            bar(4, f64::NAN, 11.0, 9.0, 10.0, 1.0), // missing value
            bar(5, 10.0, 11.0, 0.0, 10.0, 1.0), // non-positive price
        ]);
        let (out, r) = validate(&input, Timeframe::H1);
        assert_eq!(out.time, vec![1, 2, 3]);
        assert_eq!(out.close[1], 10.3, "kept the last duplicate");
        assert_eq!(out.high[0], 10.0);
        assert_eq!(out.volume[0], 0.0);
        assert_eq!(issue(&r, "no_volume").unwrap().severity, Severity::Info);
        assert_eq!(issue(&r, "duplicate_timestamps").unwrap().count, 1);
        assert_eq!(issue(&r, "unsorted").unwrap().count, 1);
        assert_eq!(issue(&r, "missing_values").unwrap().count, 1);
        assert_eq!(
            issue(&r, "non_positive_prices").unwrap().severity,
            Severity::Error
        );
        assert_eq!(issue(&r, "high_below_open_close").unwrap().count, 1);
        assert!(
            issue(&r, "low_above_open_close").is_none(),
            "dropped by the duplicate"
        );
        assert!(
            issue(&r, "negative_volume").is_none(),
            "that row was the replaced duplicate"
        );
        assert_eq!((r.bars_in, r.bars_out), (6, 3));
    }

    /// Clean data passes without issues; an empty series is reported.
    #[test]
    fn clean_and_empty() {
        let clean = series(&[
            bar(1, 10.0, 11.0, 9.0, 10.5, 1.0),
            bar(2, 10.5, 11.0, 10.0, 10.7, 1.0),
        ]);
        let (out, r) = validate(&clean, Timeframe::D1);
        assert_eq!(out, clean);
        assert!(r.issues.is_empty(), "{:?}", r.issues);
        let (_, r) = validate(&Bars::default(), Timeframe::D1);
        assert_eq!(r.issues[0].check, "empty");
    }

    /// A 50% jump is an extreme move for hourly bars; a lone spike is an outlier; neither is changed.
    #[test]
    fn moves_and_outliers_reported_only() {
        let mut rows: Vec<Bar> = (0..30)
            .map(|i| bar(i, 10.0, 10.0, 10.0, 10.0, 1.0))
            .collect();
        rows[15] = bar(15, 100.0, 100.0, 100.0, 100.0, 1.0);
        let (out, r) = validate(&series(&rows), Timeframe::H1);
        assert_eq!(out.close[15], 100.0);
        assert_eq!(issue(&r, "extreme_moves").unwrap().count, 2);
        assert_eq!(issue(&r, "price_outliers").unwrap().count, 1);
    }

    /// A host answering a Jan-Mar 2020 request with bars of 1970 and 2100 and one before the
    /// symbol's first bar: only the honest bar is kept, each bad one reported once.
    #[test]
    fn bars_outside_the_request_are_dropped() {
        let day = 86_400_000;
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        let bounds = Bounds {
            start: t("2020-01-01T00:00:00Z"),
            end: t("2020-04-01T00:00:00Z"),
            latest: t("2026-01-01T00:00:00Z"),
            head: Some(t("2020-02-01T00:00:00Z")),
            bar_ms: day,
        };
        let input = series(&[
            bar(0, 1.0, 1.0, 1.0, 1.0, 1.0),                         // 1970
            bar(t("2020-01-10T00:00:00Z"), 1.0, 1.0, 1.0, 1.0, 1.0), // before the head
            bar(t("2020-01-31T00:00:00Z"), 1.0, 1.0, 1.0, 1.0, 1.0), // ends at the head: dropped
            bar(t("2020-02-03T00:00:00Z"), 2.0, 2.0, 2.0, 2.0, 1.0), // kept
            bar(t("2100-01-01T00:00:00Z"), 1.0, 1.0, 1.0, 1.0, 1.0), // future
        ]);
        let (kept, issues) = keep_within(&input, &bounds);
        assert_eq!(kept.time, vec![t("2020-02-03T00:00:00Z")]);
        let count = |c: &str| issues.iter().find(|i| i.check == c).map(|i| i.count);
        assert_eq!(count("future"), Some(1));
        assert_eq!(count("out_of_range"), Some(1));
        assert_eq!(count("before_head"), Some(2));
        assert!(issues
            .iter()
            .all(|i| i.severity == Severity::Error && i.action == "dropped"));
        let clean = series(&[bar(t("2020-03-02T00:00:00Z"), 1.0, 1.0, 1.0, 1.0, 1.0)]);
        assert_eq!(keep_within(&clean, &bounds), (clean.clone(), vec![]));
    }
}
