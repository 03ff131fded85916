//! Volatility indicators (and the two multi-purpose ones built on them: Bollinger Band Width
//! and Squeeze Intensity), as the original KTRDR computes them (pandas `rolling(window=n,
//! min_periods=n)` windows, sample standard deviation, its ATR being a plain moving average
//! of the true range). The rolling windows and the EMA are the shared ones of `math`.

use super::{
    ema_span, finite_or_nan, rolling_max, rolling_mean, rolling_min, rolling_std, true_range,
};

/// Average true range as the original's `ATRIndicator` computes it: the SIMPLE moving average
/// of the true range over `n` bars (`rolling(n, min_periods=n).mean()`, not Wilder's
/// smoothing), the first bar's true range being its high - low. NaN for the first `n - 1` bars.
pub fn atr_sma(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    rolling_mean(&true_range(high, low, close), n, n)
}

/// Bollinger Bands (the original's `BollingerBandsIndicator`).
pub struct Bollinger {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// Bollinger Bands: middle = rolling mean over `n`, upper/lower = middle ± `k` · rolling
/// sample standard deviation (ddof 1) over the same window (pandas `rolling(n).mean()` and
/// `.std()`); NaN for the first `n - 1` bars.
pub fn bollinger_bands(x: &[f64], n: usize, k: f64) -> Bollinger {
    let (middle, sd) = (rolling_mean(x, n, n), rolling_std(x, n));
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
    let middle = ema_span(close, period, false);
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
    let (mean, sd) = (
        rolling_mean(x, bb_period, bb_period),
        rolling_std(x, bb_period),
    );
    let mid = ema_span(close, kc_period, false);
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
    use super::super::assert_close as close;
    use super::*;

    const N: f64 = f64::NAN;

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
