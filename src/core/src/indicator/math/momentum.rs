//! Momentum indicators: RSI, MACD, Stochastic, Williams %R, CCI, Momentum, ROC, RVI and the
//! Fisher Transform, each as the original computes it (its pandas choices are named on each
//! function). Inputs are plain slices; outputs are as long as the inputs, NaN where the
//! original gives NaN. Every function is one pass (CCI's mean deviation excepted: it is a
//! sum over each window by definition).

use super::{diff, ema_span, finite_or_nan, flag, high_low_channel, rolling_mean};

const NAN: f64 = f64::NAN;

/// Relative Strength Index as the original computes it: changes `d = x[i] - x[i-1]`, gains
/// and losses; the first averages are the plain means of the changes 1..=n and give the first
/// value at bar `n`; then Wilder's smoothing `avg = (avg·(n-1) + g) / n`. RSI =
/// `100 - 100/(1 + gain/loss)`; no losses gives 100, no gains nor losses 50. A series that
/// never moves gives NaN for bars `..n`, then 50. Fewer than `n + 1` bars: all NaN.
pub fn rsi(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len();
    let mut out = vec![NAN; len];
    if n == 0 || len <= n {
        return out;
    }
    let mut gain = vec![NAN; len];
    let mut loss = vec![NAN; len];
    let mut moved = 0.0;
    for i in 1..len {
        let d = x[i] - x[i - 1];
        if !d.is_nan() {
            moved += d.abs();
        }
        // NaN changes stay NaN (pandas' masks leave them alone).
        gain[i] = if d < 0.0 { 0.0 } else { d };
        loss[i] = if d > 0.0 { 0.0 } else { d.abs() };
    }
    if moved == 0.0 {
        for v in &mut out[n..] {
            *v = 50.0;
        }
        return out;
    }
    let mean_skip_nan = |s: &[f64]| {
        let (sum, cnt) = s
            .iter()
            .filter(|v| !v.is_nan())
            .fold((0.0, 0usize), |(a, c), v| (a + v, c + 1));
        if cnt == 0 {
            NAN
        } else {
            sum / cnt as f64
        }
    };
    let mut avg_gain = mean_skip_nan(&gain[1..=n]);
    let mut avg_loss = mean_skip_nan(&loss[1..=n]);
    out[n] = if avg_loss != 0.0 {
        100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    } else if avg_gain > 0.0 {
        100.0
    } else {
        50.0
    };
    let nf = n as f64;
    for i in n + 1..len {
        avg_gain = (avg_gain * (nf - 1.0) + gain[i]) / nf;
        avg_loss = (avg_loss * (nf - 1.0) + loss[i]) / nf;
        out[i] = if avg_loss == 0.0 {
            if avg_gain == 0.0 {
                50.0
            } else {
                100.0
            }
        } else {
            100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        };
    }
    out
}

/// MACD's three lines.
pub struct Macd {
    pub line: Vec<f64>,
    pub signal: Vec<f64>,
    pub histogram: Vec<f64>,
}

/// MACD: line = EMA(fast) - EMA(slow), signal = EMA(signal) of the line, histogram = line -
/// signal; every EMA is pandas' `ewm(span, adjust=False)` seeded by the first value, so there
/// is no warm-up NaN (the first line value is 0).
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> Macd {
    let f = ema_span(x, fast, false);
    let s = ema_span(x, slow, false);
    let line: Vec<f64> = f.iter().zip(&s).map(|(a, b)| a - b).collect();
    let sig = ema_span(&line, signal, false);
    let histogram = line.iter().zip(&sig).map(|(a, b)| a - b).collect();
    Macd {
        line,
        signal: sig,
        histogram,
    }
}

/// Stochastic oscillator as the original computes it: raw %K =
/// `(close - LL_k) / (HH_k - LL_k) · 100` over `k` bars, and then EVERY NaN of it is filled
/// with 50, the warm-up bars included (the original fills after dividing, so the first `k-1`
/// bars read 50, as does a flat window); %K = its rolling mean over `smooth` bars with
/// `min_periods=1` (raw %K itself when `smooth` is 1), %D = the rolling mean of %K over `d`
/// bars, `min_periods=1`. So no output is ever NaN. Returns (%K, %D).
pub fn stochastic(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    smooth: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let raw: Vec<f64> = high_low_channel(high, low, k)
        .zip(close)
        .map(|(hl, &c)| {
            let v = hl.map_or(NAN, |(hh, ll)| (c - ll) / (hh - ll) * 100.0);
            if v.is_nan() {
                50.0
            } else {
                v
            }
        })
        .collect();
    let pk = if smooth > 1 {
        rolling_mean(&raw, smooth, 1)
    } else {
        raw
    };
    let pd = rolling_mean(&pk, d, 1);
    (pk, pd)
}

/// Williams %R as the original computes it: `(HH_n - close) / (HH_n - LL_n) · -100`, then
/// every NaN filled with -50 — the warm-up bars too, like a flat window. Never NaN.
pub fn williams_r(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    high_low_channel(high, low, n)
        .zip(close)
        .map(|(hl, &c)| {
            let v = hl.map_or(NAN, |(hh, ll)| (hh - c) / (hh - ll) * -100.0);
            if v.is_nan() {
                -50.0
            } else {
                v
            }
        })
        .collect()
}

/// Commodity Channel Index: typical price `tp = (high + low + close) / 3`, its SMA over `n`
/// (pandas rolling mean, `min_periods=n`), the mean absolute deviation of the window's `tp`
/// from that SMA, and `CCI = (tp - SMA) / (0.015 · MD)`. NaN for the first `n - 1` bars; a
/// window where `tp` does not move gives 0/0 = NaN (the original does not guard it); a
/// non-zero over a zero deviation would be ±inf, which the original's API sends as null, so
/// it is NaN here too. The deviation is a sum over each window (O(n·period)).
pub fn cci(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let len = close.len();
    let tp: Vec<f64> = (0..len)
        .map(|i| (high[i] + low[i] + close[i]) / 3.0)
        .collect();
    let sma = rolling_mean(&tp, n, n);
    let mut out = vec![NAN; len];
    let n = n.max(1);
    for i in n - 1..len {
        let m = sma[i];
        if m.is_nan() {
            continue;
        }
        let w = &tp[i + 1 - n..=i];
        let md = w.iter().map(|v| (v - m).abs()).sum::<f64>() / n as f64;
        out[i] = finite_or_nan((tp[i] - m) / (0.015 * md));
    }
    out
}

/// Momentum: `x[i] - x[i - n]`; NaN for the first `n` bars.
pub fn momentum(x: &[f64], n: usize) -> Vec<f64> {
    diff(x, n)
}

/// Rate of change in percent: `((x[i] - x[i-n]) / x[i-n]) · 100` (in that order); NaN for
/// the first `n` bars and where the division is by zero (the original turns ±inf into NaN,
/// and 0/0 is NaN).
pub fn roc(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i < n {
                return NAN;
            }
            finite_or_nan(((x[i] - x[i - n]) / x[i - n]) * 100.0)
        })
        .collect()
}

/// Relative Vigor Index as the original computes it: `co = close - open`, `hl = high - low`;
/// from bar 3 on, the weighted sums `(co[i-3] + 2·co[i-2] + 2·co[i-1] + co[i]) / 6` (same for
/// `hl`); their rolling means over `period` (`min_periods=period`, so the first value is at
/// bar `period + 2`); RVI = numerator mean / denominator mean, NaN where the denominator is 0;
/// signal = rolling mean of RVI over `signal_period` (`min_periods=signal_period`).
/// Returns (RVI, signal).
pub fn rvi(
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    signal_period: usize,
) -> (Vec<f64>, Vec<f64>) {
    let len = close.len();
    let co: Vec<f64> = (0..len).map(|i| close[i] - open[i]).collect();
    let hl: Vec<f64> = (0..len).map(|i| high[i] - low[i]).collect();
    let weigh = |s: &[f64]| -> Vec<f64> {
        (0..len)
            .map(|i| {
                if i < 3 {
                    NAN
                } else {
                    (s[i - 3] + 2.0 * s[i - 2] + 2.0 * s[i - 1] + s[i]) / 6.0
                }
            })
            .collect()
    };
    let num = rolling_mean(&weigh(&co), period, period);
    let den = rolling_mean(&weigh(&hl), period, period);
    let r: Vec<f64> = num
        .iter()
        .zip(&den)
        .map(|(&a, &b)| if b != 0.0 && !b.is_nan() { a / b } else { NAN })
        .collect();
    let sig = rolling_mean(&r, signal_period, signal_period);
    (r, sig)
}

/// The Fisher Transform's ten outputs, in the original's column order.
pub struct Fisher {
    pub fisher: Vec<f64>,
    pub trigger: Vec<f64>,
    pub raw: Vec<f64>,
    pub normalized: Vec<f64>,
    pub momentum: Vec<f64>,
    pub histogram: Vec<f64>,
    /// 1.0 where `fisher > 0`, else 0.0 (warm-up rows too: NaN compares false).
    pub above_zero: Vec<f64>,
    pub below_zero: Vec<f64>,
    /// 1.0 where `fisher > 2`.
    pub overbought: Vec<f64>,
    /// 1.0 where `fisher < -2`.
    pub oversold: Vec<f64>,
}

/// Fisher Transform as the original computes it: median price `(high + low) / 2`; the highest
/// high and lowest low over `period` bars (`min_periods=period`); normalized =
/// `2·(median - LL)/(HH - LL) - 1` (0 where the range is 0, NaN in the warm-up), clipped to
/// [-0.999, 0.999]; raw = `0.5·ln((1 + v)/(1 - v))` (no recursive smoothing of the input nor
/// of the output as in Ehlers' text); fisher = `ewm(span=smoothing, adjust=False)` of raw;
/// trigger = fisher one bar back; momentum = fisher - fisher 3 bars back; histogram = fisher -
/// trigger; and four 0/1 flags (`> 0`, `< 0`, `> 2`, `< -2`), 0 on warm-up rows.
pub fn fisher_transform(high: &[f64], low: &[f64], period: usize, smoothing: usize) -> Fisher {
    let len = high.len();
    let normalized: Vec<f64> = high_low_channel(high, low, period)
        .zip(high.iter().zip(low))
        .map(|(hl, (&h, &l))| match hl {
            Some((hh, ll)) => {
                let median = (h + l) / 2.0;
                let range = hh - ll;
                let v = if range == 0.0 {
                    0.0
                } else {
                    2.0 * ((median - ll) / range) - 1.0
                };
                if v.is_nan() {
                    v
                } else {
                    v.clamp(-0.999, 0.999)
                }
            }
            _ => NAN,
        })
        .collect();
    let raw: Vec<f64> = normalized
        .iter()
        .map(|&v| 0.5 * ((1.0 + v) / (1.0 - v)).ln())
        .collect();
    let fisher = ema_span(&raw, smoothing, false);
    // fisher minus (or, with `minus` false, just) fisher `k` rows back; NaN for the first `k`.
    let back = |k: usize, minus: bool| -> Vec<f64> {
        (0..len)
            .map(|i| match (i >= k, minus) {
                (false, _) => NAN,
                (true, true) => fisher[i] - fisher[i - k],
                (true, false) => fisher[i - k],
            })
            .collect()
    };
    let flags = |f: fn(f64) -> bool| fisher.iter().map(|&v| flag(f(v))).collect();
    Fisher {
        trigger: back(1, false),
        raw,
        normalized,
        momentum: back(3, true),
        histogram: back(1, true),
        above_zero: flags(|v| v > 0.0),
        below_zero: flags(|v| v < 0.0),
        overbought: flags(|v| v > 2.0),
        oversold: flags(|v| v < -2.0),
        fisher,
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_close as close;
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn rsi_by_hand() {
        // changes +1, -1, +2, +1 ; n = 2: first avgs 0.5/0.5 -> 50, then 1.25/0.25, 1.125/0.125
        let got = rsi(&[10.0, 11.0, 10.0, 12.0, 13.0], 2);
        close(&got, &[N, N, 50.0, 100.0 - 100.0 / 6.0, 90.0]);
        close(&rsi(&[1.0; 4], 2), &[N, N, 50.0, 50.0]);
        close(&rsi(&[1.0, 2.0, 3.0, 4.0], 2), &[N, N, 100.0, 100.0]);
    }

    #[test]
    fn stochastic_and_williams_fill_the_warm_up() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        let (k, d) = stochastic(&h, &l, &c, 2, 1, 2);
        close(&k, &[50.0, 75.0, 100.0 / 3.0, 250.0 / 3.0]);
        close(
            &d,
            &[
                50.0,
                62.5,
                (75.0 + 100.0 / 3.0) / 2.0,
                (100.0 / 3.0 + 250.0 / 3.0) / 2.0,
            ],
        );
        close(
            &williams_r(&h, &l, &c, 2),
            &[-50.0, -25.0, -200.0 / 3.0, -50.0 / 3.0],
        );
    }

    #[test]
    fn cci_by_hand() {
        // tp = close when high = low = close: window [1, 2, 3] -> sma 2, md 2/3, (3-2)/(0.01)
        let x = [1.0, 2.0, 3.0, 3.0, 3.0, 3.0];
        let got = cci(&x, &x, &x, 3);
        close(&got[..3], &[N, N, 100.0]);
        // [3, 3, 3]: 0/0
        assert!(got[5].is_nan());
    }

    #[test]
    fn roc_momentum_by_hand() {
        close(
            &roc(&[10.0, 11.0, 12.1, 0.0, 5.0], 1),
            &[N, 10.0, 10.0, -100.0, N],
        );
        close(&momentum(&[10.0, 11.0, 13.0], 2), &[N, N, 3.0]);
    }

    #[test]
    fn macd_starts_at_zero() {
        let m = macd(&[10.0, 11.0, 12.0], 2, 3, 2);
        close(&m.line[..1], &[0.0]);
        // fast alpha 2/3: 10.6667; slow alpha 0.5: 10.5 -> line 1/6
        close(&m.line[1..2], &[(10.0 / 3.0 + 22.0 / 3.0) - 10.5]);
    }

    #[test]
    fn rvi_flat_is_nan() {
        let x = [5.0; 10];
        let (r, s) = rvi(&x, &x, &x, &x, 4, 2);
        assert!(r.iter().chain(&s).all(|v| v.is_nan()));
    }

    #[test]
    fn fisher_flat_is_zero_after_warm_up() {
        let x = [5.0; 6];
        let f = fisher_transform(&x, &x, 3, 2);
        close(&f.fisher, &[N, N, 0.0, 0.0, 0.0, 0.0]);
        close(&f.above_zero, &[0.0; 6]);
        close(&f.momentum, &[N, N, N, N, N, 0.0]);
    }
}
