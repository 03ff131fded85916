//! Volatility indicators (and the two multi-purpose ones built on them: Bollinger Band Width
//! and Squeeze Intensity), as the original KTRDR computes them (pandas `rolling(window=n,
//! min_periods=n)` windows, sample standard deviation, its ATR being a plain moving average
//! of the true range). Each is one pass over the input; rolling extremes use a monotonic deque.

use std::collections::VecDeque;

use super::ema;

/// A value the original's API would send as `null` (NaN or ±inf from a division by zero)
/// becomes NaN.
fn finite_or_nan(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::NAN
    }
}

/// Rolling mean and sample standard deviation (ddof = 1) over `n` values, as pandas'
/// `rolling(n, min_periods=n).mean()` / `.std()`: NaN until `n` values are in the window;
/// a NaN input poisons the windows that contain it. Sliding Welford updates (add one value,
/// remove one) keep it O(len) and numerically stable; a window of `n` identical values gives
/// exactly that value and a deviation of exactly 0 (pandas does the same). `n == 1` gives a
/// NaN deviation (ddof = 1 over one value), as pandas.
pub fn rolling_mean_std(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let len = x.len();
    let (mut mean_out, mut std_out) = (vec![f64::NAN; len], vec![f64::NAN; len]);
    if n == 0 {
        return (mean_out, std_out);
    }
    let (mut count, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
    let mut nans = 0usize;
    let mut same_run = 0usize;
    for i in 0..len {
        let v = x[i];
        if v.is_nan() {
            nans += 1;
        } else {
            count += 1;
            let d = v - mean;
            mean += d / count as f64;
            m2 += d * (v - mean);
        }
        same_run = if i > 0 && v == x[i - 1] {
            same_run + 1
        } else {
            1
        };
        if i >= n {
            let old = x[i - n];
            if old.is_nan() {
                nans -= 1;
            } else {
                count -= 1;
                if count == 0 {
                    mean = 0.0;
                    m2 = 0.0;
                } else {
                    let d = old - mean;
                    mean -= d / count as f64;
                    m2 -= d * (old - mean);
                }
            }
        }
        if i + 1 >= n && nans == 0 {
            if same_run >= n {
                mean_out[i] = v;
                std_out[i] = if n > 1 { 0.0 } else { f64::NAN };
            } else {
                mean_out[i] = mean;
                std_out[i] = if n > 1 {
                    (m2.max(0.0) / (n - 1) as f64).sqrt()
                } else {
                    f64::NAN
                };
            }
        }
    }
    (mean_out, std_out)
}

/// Rolling maximum (`want_max`) or minimum over `n` values with a monotonic deque: NaN until
/// `n` values are in the window, and for any window holding a NaN.
fn rolling_extreme(x: &[f64], n: usize, want_max: bool) -> Vec<f64> {
    let len = x.len();
    let mut out = vec![f64::NAN; len];
    if n == 0 {
        return out;
    }
    let mut dq: VecDeque<usize> = VecDeque::with_capacity(n + 1);
    let mut last_nan: Option<usize> = None;
    for i in 0..len {
        let v = x[i];
        if v.is_nan() {
            last_nan = Some(i);
        } else {
            while let Some(&b) = dq.back() {
                let keep = if want_max { x[b] > v } else { x[b] < v };
                if keep {
                    break;
                }
                dq.pop_back();
            }
            dq.push_back(i);
        }
        while let Some(&f) = dq.front() {
            if f + n <= i {
                dq.pop_front();
            } else {
                break;
            }
        }
        if i + 1 >= n && last_nan.is_none_or(|j| j + n <= i) {
            if let Some(&f) = dq.front() {
                out[i] = x[f];
            }
        }
    }
    out
}

/// Rolling maximum over `n` values (pandas `rolling(n, min_periods=n).max()`).
pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme(x, n, true)
}

/// Rolling minimum over `n` values (pandas `rolling(n, min_periods=n).min()`).
pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme(x, n, false)
}

/// True range: max(high - low, |high - prev close|, |low - prev close|); the first bar's is
/// its high - low (the original sets it so).
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    (0..high.len())
        .map(|i| {
            let hl = high[i] - low[i];
            if i == 0 {
                hl
            } else {
                let pc = close[i - 1];
                hl.max((high[i] - pc).abs()).max((low[i] - pc).abs())
            }
        })
        .collect()
}

/// Average true range as the original's `ATRIndicator` computes it: the SIMPLE moving average
/// of the true range over `n` bars (`rolling(n, min_periods=n).mean()`, not Wilder's
/// smoothing), the first bar's true range being its high - low. NaN for the first `n - 1` bars.
pub fn atr_sma(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    rolling_mean_std(&true_range(high, low, close), n).0
}

/// Bollinger Bands (the original's `BollingerBandsIndicator`).
pub struct Bollinger {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// Bollinger Bands: middle = rolling mean over `n`, upper/lower = middle ± `k` · rolling
/// sample standard deviation (ddof 1) over the same window; NaN for the first `n - 1` bars.
pub fn bollinger_bands(x: &[f64], n: usize, k: f64) -> Bollinger {
    let (middle, sd) = rolling_mean_std(x, n);
    let upper = middle.iter().zip(&sd).map(|(m, s)| m + k * s).collect();
    let lower = middle.iter().zip(&sd).map(|(m, s)| m - k * s).collect();
    Bollinger {
        upper,
        middle,
        lower,
    }
}

/// Bollinger Band Width as the original computes it: (upper - lower) / middle where
/// |middle| > 1e-10, otherwise 0.0. Its test is numpy's `where(abs(middle) > 1e-10, ...)`,
/// which is false for NaN: the warm-up rows (first `n - 1`) are 0.0, not NaN.
pub fn bollinger_band_width(x: &[f64], n: usize, k: f64) -> Vec<f64> {
    let b = bollinger_bands(x, n, k);
    (0..x.len())
        .map(|i| {
            let m = b.middle[i];
            if m.abs() > 1e-10 {
                finite_or_nan((b.upper[i] - b.lower[i]) / m)
            } else {
                0.0
            }
        })
        .collect()
}

/// Donchian Channels (the original's `DonchianChannelsIndicator`, columns in its order).
pub struct Donchian {
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    pub middle: Vec<f64>,
    pub width: Vec<f64>,
    pub position: Vec<f64>,
}

/// Donchian Channels over `n` bars: upper = highest high, lower = lowest low, middle = their
/// mean, width = upper - lower, position = (close - lower) / width (NaN where the width is 0,
/// i.e. 0/0). NaN for the first `n - 1` bars.
pub fn donchian(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Donchian {
    let upper = rolling_max(high, n);
    let lower = rolling_min(low, n);
    let len = close.len();
    let (mut middle, mut width, mut position) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
    for i in 0..len {
        middle[i] = (upper[i] + lower[i]) / 2.0;
        width[i] = upper[i] - lower[i];
        position[i] = finite_or_nan((close[i] - lower[i]) / width[i]);
    }
    Donchian {
        upper,
        lower,
        middle,
        width,
        position,
    }
}

/// Keltner Channels (the original's `KeltnerChannelsIndicator`, columns in its order).
pub struct Keltner {
    pub middle: Vec<f64>,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    pub atr: Vec<f64>,
    pub width: Vec<f64>,
    pub position: Vec<f64>,
    pub squeeze: Vec<f64>,
}

/// Keltner Channels: middle = EMA of close (pandas `ewm(span=period, adjust=False)`, seeded
/// with the first close, so no warm-up), atr = [`atr_sma`] over `atr_period` (a simple
/// average of the true range, NaN for `atr_period - 1` bars), upper/lower = middle ±
/// `multiplier` · atr, width = upper - lower, position = (close - lower) / width and
/// squeeze = (high - low) / width; a division by a zero width (NaN or ±inf in the original,
/// sent as null by its API) is NaN.
pub fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    atr_period: usize,
    multiplier: f64,
) -> Keltner {
    let middle = ema(close, period);
    let atr = atr_sma(high, low, close, atr_period);
    let len = close.len();
    let mut k = Keltner {
        middle,
        upper: vec![0.0; len],
        lower: vec![0.0; len],
        atr,
        width: vec![0.0; len],
        position: vec![0.0; len],
        squeeze: vec![0.0; len],
    };
    for i in 0..len {
        let band = multiplier * k.atr[i];
        let (u, l) = (k.middle[i] + band, k.middle[i] - band);
        let w = u - l;
        k.upper[i] = u;
        k.lower[i] = l;
        k.width[i] = w;
        k.position[i] = finite_or_nan((close[i] - l) / w);
        k.squeeze[i] = finite_or_nan((high[i] - low[i]) / w);
    }
    k
}

/// The ATR period the original's Squeeze Intensity gets from Keltner Channels' default.
pub const SQUEEZE_KC_ATR_PERIOD: usize = 10;

/// Squeeze Intensity as the original computes it: Bollinger Bands (`bb_period`,
/// `bb_multiplier`) of `x` inside Keltner Channels of the close (EMA `kc_period`, ATR over a
/// fixed 10 bars, `kc_multiplier`). With r = kc_upper - kc_lower: where |r| > 1e-10,
/// max(0, min((kc_upper - bb_upper) / r, (bb_lower - kc_lower) / r)), else 0.0. Its numpy
/// `where` is false for a NaN r, so the Keltner warm-up rows (first 9) are 0.0; where r is
/// known but the bands are not yet, the result is NaN (numpy's min/max propagate NaN).
#[allow(clippy::too_many_arguments)]
pub fn squeeze_intensity(
    x: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    bb_period: usize,
    bb_multiplier: f64,
    kc_period: usize,
    kc_multiplier: f64,
) -> Vec<f64> {
    let (mean, sd) = rolling_mean_std(x, bb_period);
    let mid = ema(close, kc_period);
    let atr = atr_sma(high, low, close, SQUEEZE_KC_ATR_PERIOD);
    (0..close.len())
        .map(|i| {
            let band = kc_multiplier * atr[i];
            let (ku, kl) = (mid[i] + band, mid[i] - band);
            let r = ku - kl;
            if r.abs() > 1e-10 {
                let (bu, bl) = (
                    mean[i] + bb_multiplier * sd[i],
                    mean[i] - bb_multiplier * sd[i],
                );
                let a = (ku - bu) / r;
                let b = (bl - kl) / r;
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.min(b).max(0.0)
                }
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
                "at {i}: {x} != {y} ({a:?} vs {b:?})"
            );
        }
    }

    #[test]
    fn rolling_mean_std_by_hand() {
        let (m, s) = rolling_mean_std(&[1.0, 2.0, 3.0, 5.0, 5.0, 5.0], 3);
        close(&m, &[N, N, 2.0, 10.0 / 3.0, 13.0 / 3.0, 5.0]);
        close(&s[..3], &[N, N, 1.0]);
        assert!((s[3] - (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s[5], 0.0);
        let (m, _) = rolling_mean_std(&[1.0, N, 3.0, 4.0, 5.0], 2);
        close(&m, &[N, N, N, 3.5, 4.5]);
    }

    #[test]
    fn rolling_extremes_by_hand() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        close(&rolling_max(&x, 3), &[N, N, 4.0, 4.0, 5.0, 9.0, 9.0, 9.0]);
        close(&rolling_min(&x, 3), &[N, N, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
        close(
            &rolling_max(&[1.0, N, 3.0, 2.0, 1.0], 2),
            &[N, N, N, 3.0, 2.0],
        );
    }

    #[test]
    fn atr_is_a_simple_average() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // TR: 2, 3, 2, 5
        close(&atr_sma(&h, &l, &c, 2), &[N, 2.5, 2.5, 3.5]);
    }

    #[test]
    fn squeeze_zero_during_keltner_warm_up() {
        let x: Vec<f64> = (0..30).map(|i| 100.0 + (i as f64 * 0.7).sin()).collect();
        let h: Vec<f64> = x.iter().map(|v| v + 0.5).collect();
        let l: Vec<f64> = x.iter().map(|v| v - 0.5).collect();
        let s = squeeze_intensity(&x, &h, &l, &x, 15, 2.0, 5, 2.0);
        assert!(s[..9].iter().all(|v| *v == 0.0));
        assert!(s[9..14].iter().all(|v| v.is_nan()));
        assert!(s[14..].iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
