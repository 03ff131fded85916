//! Momentum indicators: RSI, MACD, Stochastic, Williams %R, CCI, Momentum, ROC, RVI and the
//! Fisher Transform, each as the original computes it (its pandas choices are named on each
//! function). Inputs are plain slices; outputs are as long as the inputs, NaN where the
//! original gives NaN. Every function is one pass (CCI's mean deviation excepted: it is a
//! sum over each window by definition).

use std::collections::VecDeque;

const NAN: f64 = f64::NAN;

/// pandas' `ewm(alpha=alpha, adjust=False).mean()` (`ignore_na=False`, `min_periods=0`),
/// step for step: leading NaNs stay NaN; the first value seeds the average; each next value
/// `v` gives `(w·prev + alpha·v) / (w + alpha)` with `w = 1 - alpha` (`(1 - alpha)^k` after
/// `k - 1` NaNs); a NaN input repeats the previous average.
pub fn ewm_adjust_false(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = vec![NAN; x.len()];
    let mut weighted = NAN;
    let mut old_wt = 1.0;
    for (i, &cur) in x.iter().enumerate() {
        if weighted.is_nan() {
            if !cur.is_nan() {
                weighted = cur;
                old_wt = 1.0;
            }
        } else {
            old_wt *= 1.0 - alpha;
            if !cur.is_nan() {
                if weighted != cur {
                    weighted = (old_wt * weighted + alpha * cur) / (old_wt + alpha);
                }
                old_wt = 1.0;
            }
        }
        out[i] = weighted;
    }
    out
}

/// pandas' `rolling(window=w, min_periods=min_periods).mean()`: the mean of the non-NaN
/// values among the last `w` (NaN when fewer than `min_periods` of them), with pandas'
/// compensated running sum, and exactly the value itself when the last values of the window
/// are all the same (pandas tracks that run so a flat window gives its value, not a rounding
/// residue).
pub fn rolling_mean(x: &[f64], w: usize, min_periods: usize) -> Vec<f64> {
    let w = w.max(1);
    let min_periods = min_periods.max(1);
    let mut out = vec![NAN; x.len()];
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    let mut nobs = 0usize;
    // Length of the run of identical non-NaN values ending at the newest one.
    let mut same_run = 0usize;
    let mut prev = NAN;
    for i in 0..x.len() {
        let v = x[i];
        if !v.is_nan() {
            nobs += 1;
            let y = v - comp;
            let t = sum + y;
            comp = (t - sum) - y;
            sum = t;
            same_run = if v == prev { same_run + 1 } else { 1 };
            prev = v;
        } else {
            same_run = 0;
            prev = NAN;
        }
        if i >= w {
            let old = x[i - w];
            if !old.is_nan() {
                nobs -= 1;
                let y = -old - comp;
                let t = sum + y;
                comp = (t - sum) - y;
                sum = t;
            }
        }
        if nobs == 0 {
            sum = 0.0;
            comp = 0.0;
        }
        if nobs >= min_periods {
            out[i] = if same_run >= nobs {
                prev
            } else {
                sum / nobs as f64
            };
        }
    }
    out
}

/// Rolling maximum (`max = true`) or minimum over `w` bars, pandas'
/// `rolling(window=w, min_periods=w)`: NaN until `w` bars are in, NaN while a NaN is in the
/// window. A monotonic deque: O(n) whatever `w`.
pub fn rolling_extreme(x: &[f64], w: usize, max: bool) -> Vec<f64> {
    let w = w.max(1);
    let mut out = vec![NAN; x.len()];
    let mut dq: VecDeque<usize> = VecDeque::new();
    let mut last_nan: Option<usize> = None;
    for i in 0..x.len() {
        let v = x[i];
        if v.is_nan() {
            last_nan = Some(i);
        } else {
            while let Some(&b) = dq.back() {
                let worse = if max { x[b] <= v } else { x[b] >= v };
                if worse {
                    dq.pop_back();
                } else {
                    break;
                }
            }
            dq.push_back(i);
        }
        while let Some(&f) = dq.front() {
            if f + w <= i {
                dq.pop_front();
            } else {
                break;
            }
        }
        let nan_in = last_nan.is_some_and(|j| j + w > i);
        if i + 1 >= w && !nan_in {
            if let Some(&f) = dq.front() {
                out[i] = x[f];
            }
        }
    }
    out
}

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
    let alpha = |n: usize| 2.0 / (n as f64 + 1.0);
    let f = ewm_adjust_false(x, alpha(fast));
    let s = ewm_adjust_false(x, alpha(slow));
    let line: Vec<f64> = f.iter().zip(&s).map(|(a, b)| a - b).collect();
    let sig = ewm_adjust_false(&line, alpha(signal));
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
    let hh = rolling_extreme(high, k, true);
    let ll = rolling_extreme(low, k, false);
    let raw: Vec<f64> = (0..close.len())
        .map(|i| {
            let v = (close[i] - ll[i]) / (hh[i] - ll[i]) * 100.0;
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
    let hh = rolling_extreme(high, n, true);
    let ll = rolling_extreme(low, n, false);
    (0..close.len())
        .map(|i| {
            let v = (hh[i] - close[i]) / (hh[i] - ll[i]) * -100.0;
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
        let v = (tp[i] - m) / (0.015 * md);
        out[i] = if v.is_finite() { v } else { NAN };
    }
    out
}

/// Momentum: `x[i] - x[i - n]`; NaN for the first `n` bars.
pub fn momentum(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| if i < n { NAN } else { x[i] - x[i - n] })
        .collect()
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
            let v = ((x[i] - x[i - n]) / x[i - n]) * 100.0;
            if v.is_finite() {
                v
            } else {
                NAN
            }
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
    let hh = rolling_extreme(high, period, true);
    let ll = rolling_extreme(low, period, false);
    let normalized: Vec<f64> = (0..len)
        .map(|i| {
            let median = (high[i] + low[i]) / 2.0;
            let range = hh[i] - ll[i];
            let v = if range == 0.0 {
                0.0
            } else {
                2.0 * ((median - ll[i]) / range) - 1.0
            };
            if v.is_nan() {
                v
            } else {
                v.clamp(-0.999, 0.999)
            }
        })
        .collect();
    let raw: Vec<f64> = normalized
        .iter()
        .map(|&v| 0.5 * ((1.0 + v) / (1.0 - v)).ln())
        .collect();
    let fisher = ewm_adjust_false(&raw, 2.0 / (smoothing as f64 + 1.0));
    let mut trigger = vec![NAN; len];
    let mut momentum = vec![NAN; len];
    let mut histogram = vec![NAN; len];
    let mut above_zero = vec![0.0; len];
    let mut below_zero = vec![0.0; len];
    let mut overbought = vec![0.0; len];
    let mut oversold = vec![0.0; len];
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    for i in 0..len {
        let f = fisher[i];
        if i >= 1 {
            trigger[i] = fisher[i - 1];
            histogram[i] = f - fisher[i - 1];
        }
        if i >= 3 {
            momentum[i] = f - fisher[i - 3];
        }
        above_zero[i] = flag(f > 0.0);
        below_zero[i] = flag(f < 0.0);
        overbought[i] = flag(f > 2.0);
        oversold[i] = flag(f < -2.0);
    }
    Fisher {
        fisher,
        trigger,
        raw,
        normalized,
        momentum,
        histogram,
        above_zero,
        below_zero,
        overbought,
        oversold,
    }
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
    fn rolling_extremes_by_hand() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0];
        close(
            &rolling_extreme(&x, 3, true),
            &[N, N, 4.0, 4.0, 5.0, 9.0, 9.0],
        );
        close(
            &rolling_extreme(&x, 3, false),
            &[N, N, 1.0, 1.0, 1.0, 1.0, 2.0],
        );
        close(
            &rolling_extreme(&[1.0, N, 3.0, 4.0], 2, true),
            &[N, N, N, 4.0],
        );
    }

    #[test]
    fn rolling_mean_min_periods_and_flat() {
        close(
            &rolling_mean(&[1.0, 2.0, 3.0, 4.0], 2, 1),
            &[1.0, 1.5, 2.5, 3.5],
        );
        close(
            &rolling_mean(&[1.0, 2.0, 3.0, 4.0], 3, 3),
            &[N, N, 2.0, 3.0],
        );
        // A flat window gives its value exactly.
        let v = 100.1;
        let m = rolling_mean(&[1.7, v, v, v], 3, 3);
        assert_eq!(m[3], v);
    }

    #[test]
    fn ewm_by_hand() {
        // alpha 0.5: 1, 1.5, 2.25; a NaN repeats the last value; the next weighs (0.5^2).
        let got = ewm_adjust_false(&[N, 1.0, 2.0, 3.0, N, 4.0], 0.5);
        let after = (0.25 * 2.25 + 0.5 * 4.0) / 0.75;
        close(&got, &[N, 1.0, 1.5, 2.25, 2.25, after]);
    }

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
