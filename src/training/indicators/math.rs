//! The arithmetic of the indicators, on plain slices (one pass each), checked against
//! hand-computed values. The formulas are the usual ones (pandas' `ewm(span, adjust=False)`
//! for EMA, Wilder's smoothing for RSI and ATR, sample standard deviation for Bollinger Bands).

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

/// Wilder's smoothing: the first value is the mean of the first `n` inputs, then
/// `(prev * (n - 1) + x) / n`. `x[..start]` are skipped (warm-up of the input).
fn wilder(x: &[f64], n: usize, start: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if x.len() < start + n {
        return out;
    }
    let mut avg = x[start..start + n].iter().sum::<f64>() / n as f64;
    out[start + n - 1] = avg;
    for i in start + n..x.len() {
        avg = (avg * (n as f64 - 1.0) + x[i]) / n as f64;
        out[i] = avg;
    }
    out
}

/// Relative strength index (Wilder). 100 when there were no losses, 50 when nothing moved.
pub fn rsi(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len();
    let mut gains = vec![0.0; len];
    let mut losses = vec![0.0; len];
    for i in 1..len {
        let d = x[i] - x[i - 1];
        gains[i] = d.max(0.0);
        losses[i] = (-d).max(0.0);
    }
    let g = wilder(&gains, n, 1);
    let l = wilder(&losses, n, 1);
    g.iter()
        .zip(&l)
        .map(|(&g, &l)| {
            if g.is_nan() || l.is_nan() {
                f64::NAN
            } else if l == 0.0 {
                if g == 0.0 {
                    50.0
                } else {
                    100.0
                }
            } else {
                100.0 - 100.0 / (1.0 + g / l)
            }
        })
        .collect()
}

/// MACD line (EMA fast - EMA slow), its signal line (EMA of the line) and the histogram.
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let f = ema(x, fast);
    let s = ema(x, slow);
    let line: Vec<f64> = f.iter().zip(&s).map(|(a, b)| a - b).collect();
    let sig = ema(&line, signal);
    let hist = line.iter().zip(&sig).map(|(a, b)| a - b).collect();
    (line, sig, hist)
}

pub struct Bands {
    pub middle: Vec<f64>,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    /// (upper - lower) / middle.
    pub width: Vec<f64>,
}

/// Bollinger Bands: SMA(n) ± k · sample standard deviation over the same window.
pub fn bollinger(x: &[f64], n: usize, k: f64) -> Bands {
    let middle = sma(x, n);
    let len = x.len();
    let (mut upper, mut lower, mut width) = (
        vec![f64::NAN; len],
        vec![f64::NAN; len],
        vec![f64::NAN; len],
    );
    for i in 0..len {
        let m = middle[i];
        if m.is_nan() {
            continue;
        }
        let w = &x[i + 1 - n..=i];
        let var = if n > 1 {
            w.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let sd = var.sqrt();
        upper[i] = m + k * sd;
        lower[i] = m - k * sd;
        width[i] = if m != 0.0 {
            (upper[i] - lower[i]) / m
        } else {
            f64::NAN
        };
    }
    Bands {
        middle,
        upper,
        lower,
        width,
    }
}

/// Average true range (Wilder). The first bar's true range is its high - low.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let tr: Vec<f64> = (0..high.len())
        .map(|i| {
            let hl = high[i] - low[i];
            if i == 0 {
                hl
            } else {
                hl.max((high[i] - close[i - 1]).abs())
                    .max((low[i] - close[i - 1]).abs())
            }
        })
        .collect();
    wilder(&tr, n, 0)
}

/// Stochastic oscillator: raw %K over `k` bars, smoothed by an SMA of `smooth`; %D is the SMA of
/// %K over `d`. A flat window (high == low) gives 50.
pub fn stochastic(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    smooth: usize,
    d: usize,
) -> (Vec<f64>, Vec<f64>) {
    let len = close.len();
    let mut raw = vec![f64::NAN; len];
    for i in (k.max(1) - 1)..len {
        let hh = high[i + 1 - k..=i].iter().cloned().fold(f64::MIN, f64::max);
        let ll = low[i + 1 - k..=i].iter().cloned().fold(f64::MAX, f64::min);
        raw[i] = if hh > ll {
            100.0 * (close[i] - ll) / (hh - ll)
        } else {
            50.0
        };
    }
    let kk = sma(&raw, smooth);
    let dd = sma(&kk, d);
    (kk, dd)
}

/// Rate of change in percent over `n` bars.
pub fn roc(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i < n || x[i - n] == 0.0 {
                f64::NAN
            } else {
                100.0 * (x[i] - x[i - n]) / x[i - n]
            }
        })
        .collect()
}

/// Momentum: the change over `n` bars.
pub fn momentum(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| if i < n { f64::NAN } else { x[i] - x[i - n] })
        .collect()
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

    #[test]
    fn rsi_by_hand() {
        // changes: +1, -1, +2, +1 ; n = 2
        // first avg gain = (1 + 0)/2 = 0.5, avg loss = (0 + 1)/2 = 0.5 -> RSI 50 at index 2
        // next: gain (0.5*1 + 2)/2 = 1.25, loss (0.5*1 + 0)/2 = 0.25 -> RS 5 -> 83.333..
        // next: gain (1.25 + 1)/2 = 1.125, loss 0.125 -> RS 9 -> 90
        let got = rsi(&[10.0, 11.0, 10.0, 12.0, 13.0], 2);
        close(&got, &[N, N, 50.0, 100.0 - 100.0 / 6.0, 90.0]);
        // Only gains: 100. Flat: 50.
        assert_eq!(rsi(&[1.0, 2.0, 3.0, 4.0], 2)[3], 100.0);
        assert_eq!(rsi(&[1.0, 1.0, 1.0], 2)[2], 50.0);
    }

    #[test]
    fn macd_from_its_emas() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.3).sin() * 10.0 + 50.0)
            .collect();
        let (line, sig, hist) = macd(&x, 3, 6, 4);
        let (f, s) = (ema(&x, 3), ema(&x, 6));
        for i in 0..x.len() {
            assert!((line[i] - (f[i] - s[i])).abs() < 1e-12);
            assert!((hist[i] - (line[i] - sig[i])).abs() < 1e-12);
        }
        // The signal is the EMA of the line, checked by its recurrence with alpha 2/5.
        for i in 1..x.len() {
            assert!((sig[i] - (0.4 * line[i] + 0.6 * sig[i - 1])).abs() < 1e-12);
        }
    }

    #[test]
    fn bollinger_by_hand() {
        // window [1, 2, 3]: mean 2, sample sd 1 -> 2 ± 2
        let b = bollinger(&[1.0, 2.0, 3.0, 5.0], 3, 2.0);
        close(&b.middle, &[N, N, 2.0, 10.0 / 3.0]);
        close(&b.upper[..3], &[N, N, 4.0]);
        close(&b.lower[..3], &[N, N, 0.0]);
        close(&b.width[..3], &[N, N, 2.0]);
        // window [2, 3, 5]: mean 10/3, var = ((4/3)^2 + (1/3)^2 + (5/3)^2)/2 = 7/3
        let sd = (7.0f64 / 3.0).sqrt();
        assert!((b.upper[3] - (10.0 / 3.0 + 2.0 * sd)).abs() < 1e-12);
    }

    #[test]
    fn atr_by_hand() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // TR: 2, max(3, 3, 0) = 3, max(2, 0, 2) = 2, max(3, 5, 2) = 5
        // n=2: first ATR at 1 = 2.5, then (2.5 + 2)/2 = 2.25, (2.25 + 5)/2 = 3.625
        close(&atr(&h, &l, &c, 2), &[N, 2.5, 2.25, 3.625]);
    }

    #[test]
    fn stochastic_by_hand() {
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // k=2 raw: i1: hh 12 ll 8 -> 75; i2: hh 12 ll 9 -> 33.33; i3: hh 15 ll 9 -> 83.33
        let (k, d) = stochastic(&h, &l, &c, 2, 1, 2);
        close(&k, &[N, 75.0, 100.0 / 3.0, 250.0 / 3.0]);
        close(
            &d,
            &[
                N,
                N,
                (75.0 + 100.0 / 3.0) / 2.0,
                (100.0 / 3.0 + 250.0 / 3.0) / 2.0,
            ],
        );
    }

    #[test]
    fn roc_and_momentum_by_hand() {
        close(&roc(&[10.0, 11.0, 12.1], 1), &[N, 10.0, 10.0]);
        close(&momentum(&[10.0, 11.0, 13.0], 2), &[N, N, 3.0]);
    }
}
