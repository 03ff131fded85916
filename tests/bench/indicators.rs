//! Indicator speed: every indicator of the registry, with its default parameters, on
//! 1,000,000 one-minute bars (a random walk over NYSE sessions).

use std::time::Instant;

use ktrdr::data::store::{bars_of_frame, to_frame};
use ktrdr_core::bars::Bars;
use ktrdr_core::indicator;

use crate::data::equity_minutes;
use crate::{row, sorted};

/// NYSE minute times with a deterministic random-walk price (xorshift), highs and lows
/// around it and varying volume.
fn random_walk(n: usize) -> Bars {
    let mut bars = equity_minutes(n);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut p = 100.0;
    for i in 0..n {
        let open = p;
        p = (p * (1.0 + (next() - 0.5) * 0.004)).max(1.0);
        bars.open[i] = open;
        bars.close[i] = p;
        bars.high[i] = open.max(p) * (1.0 + next() * 0.001);
        bars.low[i] = open.min(p) * (1.0 - next() * 0.001);
        bars.volume[i] = (100.0 + next() * 10_000.0).round();
    }
    bars
}

pub fn every_indicator(n: usize) {
    let bars = random_walk(n);
    // The training path reads a polars frame's columns into slices first: its cost, once
    // per frame whatever the number of indicators.
    let frame = to_frame(&bars).expect("frame");
    let mut reads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let b = bars_of_frame(&frame).expect("bars");
        reads.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(b.len(), n);
    }
    row(
        &format!(
            "indicator input: {}M bars from a polars frame to slices",
            n / 1_000_000
        ),
        format!("{:.1} ms", sorted(reads)[2]),
        "-",
        "once per frame, shared by every indicator; median of 5",
    );
    let (mut slowest, mut total) = (("", 0.0f64), 0.0);
    for spec in indicator::all() {
        let params = spec.defaults();
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let out = (spec.compute)(&params, &bars);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(out.iter().all(|c| c.len() == n), "{}", spec.id);
        }
        let ms = sorted(times)[1];
        total += ms;
        if ms > slowest.1 {
            slowest = (spec.id, ms);
        }
        row(
            &format!("indicator {} ({}), 1M 1m bars", spec.name, spec.id),
            format!("{ms:.1} ms"),
            "< 100 ms",
            &format!(
                "defaults {}; {} output column(s); median of 3, one thread",
                serde_json::to_string(&params).unwrap_or_default(),
                (spec.columns)(&params).len()
            ),
        );
    }
    row(
        "all indicators, 1M 1m bars",
        format!(
            "{total:.0} ms in all, slowest {} {:.1} ms",
            slowest.0, slowest.1
        ),
        "each < 100 ms",
        &format!(
            "{} indicators with their defaults, one after another",
            indicator::all().count()
        ),
    );
}
