//! SegmentManager: splits gaps into requests no longer than IB serves for the bar size.
//! Tail segments come first, newest first (recent data matters most); head and internal
//! segments follow, oldest first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::gaps::{Gap, GapKind};
use ktrdr_core::timeframe::Timeframe;

/// One request `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: GapKind,
}

/// Segments for `gaps`, in fetch order.
pub fn segments(gaps: &[Gap], timeframe: Timeframe) -> Vec<Segment> {
    let span = timeframe.max_request_span();
    let split = |g: &Gap| {
        let mut parts = Vec::new();
        let mut s = g.start;
        while s < g.end {
            let e = (s + span).min(g.end);
            parts.push(Segment {
                start: s,
                end: e,
                kind: g.kind,
            });
            s = e;
        }
        parts
    };
    let mut tail: Vec<Segment> = gaps
        .iter()
        .filter(|g| g.kind == GapKind::Tail)
        .flat_map(split)
        .collect();
    tail.reverse();
    let rest = gaps
        .iter()
        .filter(|g| g.kind != GapKind::Tail)
        .flat_map(split);
    tail.into_iter().chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Every segment fits IB's limit, they tile the gap exactly, tail newest first.
    #[test]
    fn split_respects_limits_and_order() {
        for tf in Timeframe::ALL {
            let start = utc("2023-01-01T00:00:00Z");
            let end = start + tf.max_request_span() * 3 + Duration::hours(5);
            let tail = segments(
                &[Gap {
                    start,
                    end,
                    kind: GapKind::Tail,
                }],
                tf,
            );
            assert_eq!(tail.len(), 4, "{tf}");
            assert!(tail
                .iter()
                .all(|s| s.end - s.start <= tf.max_request_span()));
            assert_eq!(tail[0].end, end, "newest first");
            assert_eq!(tail.last().unwrap().start, start);
            assert!(
                tail.windows(2).all(|w| w[1].end == w[0].start),
                "contiguous"
            );
            let head = segments(
                &[Gap {
                    start,
                    end,
                    kind: GapKind::Head,
                }],
                tf,
            );
            assert_eq!(head[0].start, start, "oldest first");
        }
    }

    /// Tail segments are fetched before head and internal ones.
    #[test]
    fn tail_first() {
        let g = |s: &str, e: &str, kind| Gap {
            start: utc(s),
            end: utc(e),
            kind,
        };
        let segs = segments(
            &[
                g(
                    "2024-01-01T00:00:00Z",
                    "2024-01-02T00:00:00Z",
                    GapKind::Head,
                ),
                g(
                    "2024-02-01T00:00:00Z",
                    "2024-02-02T00:00:00Z",
                    GapKind::Internal,
                ),
                g(
                    "2024-03-01T00:00:00Z",
                    "2024-03-02T00:00:00Z",
                    GapKind::Tail,
                ),
            ],
            Timeframe::H1,
        );
        let kinds: Vec<GapKind> = segs.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![GapKind::Tail, GapKind::Head, GapKind::Internal]);
    }
}
