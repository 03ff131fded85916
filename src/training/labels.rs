//! ZigZag labels: what the price does next, as BUY (0), HOLD (1) or SELL (2).
//!
//! For bar `i`, the next `lookahead` closes are walked in order; the first one that is at least
//! `threshold` above close[i] makes it BUY, the first at least `threshold` below makes it SELL
//! (whichever comes first), and none makes it HOLD. The last `lookahead` bars have no full
//! future and get no label (`None`), so a label never depends on data the split puts elsewhere
//! by accident of the series' end.

pub const BUY: i64 = 0;
pub const HOLD: i64 = 1;
pub const SELL: i64 = 2;
pub const CLASS_NAMES: [&str; 3] = ["BUY", "HOLD", "SELL"];

/// Labels for every bar (see the module docs).
pub fn zigzag(close: &[f64], threshold: f64, lookahead: usize) -> Vec<Option<i64>> {
    let n = close.len();
    (0..n)
        .map(|i| {
            if i + lookahead >= n || !close[i].is_finite() || close[i] <= 0.0 {
                return None;
            }
            let up = close[i] * (1.0 + threshold);
            let down = close[i] * (1.0 - threshold);
            for &c in &close[i + 1..=i + lookahead] {
                if c >= up {
                    return Some(BUY);
                }
                if c <= down {
                    return Some(SELL);
                }
            }
            Some(HOLD)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_on_a_hand_made_series() {
        // 5% threshold, two bars ahead.
        let close = [100.0, 103.0, 106.0, 101.0, 95.0, 96.0, 96.5];
        let got = zigzag(&close, 0.05, 2);
        assert_eq!(
            got,
            vec![
                Some(BUY),  // 106 >= 105 two bars later
                Some(HOLD), // 106 < 108.15 and 101 > 97.85
                Some(SELL), // 106 -> 101 <= 100.7
                Some(SELL), // 101 -> 95 <= 95.95
                Some(HOLD), // 95 -> 96, 96.5: under 99.75
                None,       // no full two-bar future
                None,
            ]
        );
    }

    #[test]
    fn the_first_crossing_decides() {
        // Up 10% first, then down 20%: BUY.
        assert_eq!(zigzag(&[100.0, 110.0, 80.0], 0.05, 2)[0], Some(BUY));
        // Down first: SELL.
        assert_eq!(zigzag(&[100.0, 90.0, 120.0], 0.05, 2)[0], Some(SELL));
    }
}
