//! The arithmetic of the indicators, on plain slices, one file per category; shared helpers
//! here. Every function returns vectors as long as its input, NaN where the original gives no
//! value (warm-up rows), and matches the original KTRDR's values (its pandas choices: which
//! `ewm`, which `rolling` `min_periods`, which standard deviation), as the reference tables
//! in `src/core/tests/reference/` check.

pub mod momentum;
pub mod trend;
pub mod volatility;
pub mod volume;

/// Simple moving average; NaN until `n` values are in the window. A NaN input poisons the
/// windows that contain it (no silent skipping).
pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut sum = 0.0;
    let mut nans = 0usize;
    for i in 0..x.len() {
        if x[i].is_nan() {
            nans += 1;
        } else {
            sum += x[i];
        }
        if i >= n {
            if x[i - n].is_nan() {
                nans -= 1;
            } else {
                sum -= x[i - n];
            }
        }
        if i + 1 >= n && nans == 0 {
            out[i] = sum / n as f64;
        }
    }
    out
}

/// Exponential moving average as pandas' `ewm(span=n, adjust=False)`: alpha = 2/(n+1),
/// starting at the first non-NaN value.
pub fn ema(x: &[f64], n: usize) -> Vec<f64> {
    ewm(x, 2.0 / (n as f64 + 1.0))
}

fn ewm(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut prev: Option<f64> = None;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        let e = match prev {
            None => v,
            Some(p) => alpha * v + (1.0 - alpha) * p,
        };
        out[i] = e;
        prev = Some(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
                "at {i}: {x} != {y} ({a:?} vs {b:?})"
            );
        }
    }
    const N: f64 = f64::NAN;

    #[test]
    fn sma_by_hand() {
        close(&sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3), &[N, N, 2.0, 3.0, 4.0]);
        // A NaN in the window gives NaN until it leaves the window.
        close(&sma(&[1.0, N, 3.0, 4.0, 5.0], 2), &[N, N, N, 3.5, 4.5]);
    }

    #[test]
    fn ema_by_hand() {
        // span 3: alpha 0.5. 1, 0.5*2+0.5*1 = 1.5, 0.5*3+0.5*1.5 = 2.25, 0.5*4+0.5*2.25 = 3.125
        close(&ema(&[1.0, 2.0, 3.0, 4.0], 3), &[1.0, 1.5, 2.25, 3.125]);
    }
}
