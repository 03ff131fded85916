//! Volume indicators: OBV, VWAP, MFI, the Accumulation/Distribution line, Chaikin Money Flow,
//! Volume Ratio and ktrdr's own volume SMA. Each follows the original's pandas choices (noted on
//! each function); rolling sums and means are pandas' ([`RollingWindow`]: NaN skipped,
//! `min_periods`, compensated summation, exact results on runs of equal values).

use std::borrow::Cow;

use super::{
    diff, ema_span, finite_or_nan, flag, pct_change_100, rolling_mean, rolling_windows,
    RollingWindow,
};

/// On-Balance Volume: 0 at the first bar, then the previous value plus the bar's volume when
/// the close rose, minus it when the close fell, unchanged when equal (or when either close
/// is NaN). The original loops bar by bar the same way; no warm-up NaN.
pub fn obv(close: &[f64], volume: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(close.len());
    let mut acc = 0.0;
    for i in 0..close.len() {
        if i > 0 {
            let d = close[i] - close[i - 1];
            if d > 0.0 {
                acc += volume[i];
            } else if d < 0.0 {
                acc -= volume[i];
            }
        }
        out.push(acc);
    }
    out
}

/// Volume-weighted average price over a rolling window of `period` bars
/// (`rolling(period, min_periods=1)`: no warm-up NaN, the first bars use what they have), or
/// cumulative from the first bar when `period` is 0. The price is the typical price
/// (H+L+C)/3, or the close when `typical` is false. The window runs straight across session
/// and day boundaries: the original never resets per day. A window of zero volume is NaN.
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
    typical: bool,
) -> Vec<f64> {
    let n = close.len();
    let price = |i: usize| {
        if typical {
            (high[i] + low[i] + close[i]) / 3.0
        } else {
            close[i]
        }
    };
    let ratio = |a: f64, b: f64| {
        if b == 0.0 {
            f64::NAN
        } else {
            finite_or_nan(a / b)
        }
    };
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    if period == 0 {
        // cumsum: a NaN stays NaN at its position and is skipped by the running sum.
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &v) in volume.iter().enumerate() {
            let pv = price(i) * v;
            if !pv.is_nan() {
                num += pv;
            }
            if !v.is_nan() {
                den += v;
            }
            let a = if pv.is_nan() { f64::NAN } else { num };
            let b = if v.is_nan() { f64::NAN } else { den };
            out.push(ratio(a, b));
        }
        return out;
    }
    let mut num = RollingWindow::new(price(0) * volume[0]);
    let mut den = RollingWindow::new(volume[0]);
    for i in 0..n {
        if i >= period {
            let j = i - period;
            num.remove(price(j) * volume[j]);
            den.remove(volume[j]);
        }
        num.add(price(i) * volume[i]);
        den.add(volume[i]);
        out.push(ratio(num.sum(1), den.sum(1)));
    }
    out
}

/// pandas `cumsum()`: NaN stays NaN at its position and is skipped by the running sum.
fn cumsum(x: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    x.iter()
        .map(|&v| {
            if v.is_nan() {
                f64::NAN
            } else {
                acc += v;
                acc
            }
        })
        .collect()
}

/// Money Flow Index. Typical price tp = (H+L+C)/3, raw money flow = tp * volume; over the
/// `period` bars ending at each bar, flows of bars whose tp rose are positive, fell negative,
/// unchanged ignored (the first bar's change is undefined). MFI = 100 - 100 / (1 + pos/neg),
/// with the original's special cases: no negative flow gives 100 (even when nothing moved),
/// else no positive flow gives 0. NaN for the first `period` bars.
pub fn mfi(high: &[f64], low: &[f64], close: &[f64], volume: &[f64], period: usize) -> Vec<f64> {
    let n = close.len();
    let period = period.max(1);
    let tp = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
    // Bar i's positive and negative flow (0 when not in that direction), for i >= 1.
    let flows = |i: usize| {
        let (t, d) = (tp(i), tp(i) - tp(i - 1));
        let flow = t * volume[i];
        (
            if d > 0.0 { flow } else { 0.0 },
            if d < 0.0 { flow } else { 0.0 },
        )
    };
    if n < 2 {
        return vec![f64::NAN; n];
    }
    let mut out = Vec::with_capacity(n);
    out.push(f64::NAN);
    let (p1, n1) = flows(1);
    let (mut pos, mut neg) = (RollingWindow::new(p1), RollingWindow::new(n1));
    // Counts of bars in the window that add a non-zero flow, so the original's `== 0` tests
    // hold exactly (a rolling sum can leave rounding residue).
    let (mut pos_ct, mut neg_ct) = (0usize, 0usize);
    let nonzero = |v: f64| usize::from(v != 0.0 && !v.is_nan());
    for i in 1..n {
        if i > period {
            let (p, q) = flows(i - period);
            pos.remove(p);
            neg.remove(q);
            pos_ct -= nonzero(p);
            neg_ct -= nonzero(q);
        }
        let (p, q) = flows(i);
        pos.add(p);
        neg.add(q);
        pos_ct += nonzero(p);
        neg_ct += nonzero(q);
        out.push(if i < period {
            f64::NAN
        } else if neg_ct == 0 {
            100.0
        } else if pos_ct == 0 {
            0.0
        } else {
            100.0 - 100.0 / (1.0 + pos.sum(0) / neg.sum(0))
        });
    }
    out
}

/// The money flow multiplier ((C-L) - (H-C)) / (H-L), 0 where H == L (the original's rule),
/// and the money flow volume = multiplier * volume.
fn money_flow(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let multiplier: Vec<f64> = (0..close.len())
        .map(|i| {
            let range = high[i] - low[i];
            if range == 0.0 {
                0.0
            } else {
                ((close[i] - low[i]) - (high[i] - close[i])) / range
            }
        })
        .collect();
    let flow_volume = multiplier.iter().zip(volume).map(|(m, v)| m * v).collect();
    (multiplier, flow_volume)
}

/// The A/D line's outputs, in the original's column order.
pub struct AdLine {
    /// Cumulative sum of the money flow volume (`AD_Line`).
    pub line: Vec<f64>,
    /// `AD_MF_Multiplier`.
    pub mf_multiplier: Vec<f64>,
    /// `AD_MF_Volume` = multiplier * volume.
    pub mf_volume: Vec<f64>,
    /// `AD_Line_SMA_{p}`: `rolling(p, min_periods=p).mean()` of the line, when smoothing.
    pub sma: Option<Vec<f64>>,
    /// `AD_ROC_10`: `pct_change(10) * 100` of the line.
    pub roc_10: Vec<f64>,
    /// `AD_Momentum_21`: line - line 21 bars back.
    pub momentum_21: Vec<f64>,
    /// `AD_Relative_Strength`: (line / `rolling(50, min_periods=20).mean()` - 1) * 100.
    pub relative_strength: Vec<f64>,
}

/// Accumulation/Distribution line and the extra columns the original computes with it.
/// Divisions by zero (ROC against a zero line, relative strength against a zero mean) give
/// pandas ±inf or NaN; both come out NaN here, as the original's API sends them as null.
pub fn ad_line(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    smoothing: Option<usize>,
) -> AdLine {
    let (mf_multiplier, mf_volume) = money_flow(high, low, close, volume);
    let line = cumsum(&mf_volume);
    let sma = smoothing.map(|p| rolling_mean(&line, p, p));
    // pct_change pads NaN forward before dividing (its default fill_method).
    let padded: Cow<[f64]> = if line.iter().any(|v| v.is_nan()) {
        let mut p = line.clone();
        for i in 1..p.len() {
            if p[i].is_nan() {
                p[i] = p[i - 1];
            }
        }
        Cow::Owned(p)
    } else {
        Cow::Borrowed(&line)
    };
    let roc_10 = pct_change_100(&padded, 10)
        .into_iter()
        .map(finite_or_nan)
        .collect();
    let momentum_21 = diff(&line, 21);
    let avg = rolling_mean(&line, 50, 20);
    let relative_strength = line
        .iter()
        .zip(&avg)
        .map(|(l, a)| finite_or_nan((l / a - 1.0) * 100.0))
        .collect();
    AdLine {
        line,
        mf_multiplier,
        mf_volume,
        sma,
        roc_10,
        momentum_21,
        relative_strength,
    }
}

/// Chaikin Money Flow's outputs, in the original's column order.
pub struct Cmf {
    /// `CMF_{p}`: sum of money flow volume / sum of volume over `p` bars (`min_periods=p`);
    /// 0 where the volume sum is 0.
    pub cmf: Vec<f64>,
    pub mf_multiplier: Vec<f64>,
    pub mf_volume: Vec<f64>,
    /// cmf - cmf 5 bars back.
    pub momentum: Vec<f64>,
    /// `ewm(span=9, adjust=False).mean()` of cmf.
    pub signal: Vec<f64>,
    /// cmf - signal.
    pub histogram: Vec<f64>,
    /// 1.0 where cmf > 0, else 0.0 (a boolean column; NaN compares false).
    pub above_zero: Vec<f64>,
    /// 1.0 where cmf < 0, else 0.0.
    pub below_zero: Vec<f64>,
}

/// Chaikin Money Flow over `period` bars and the extra columns the original computes with it.
pub fn cmf(high: &[f64], low: &[f64], close: &[f64], volume: &[f64], period: usize) -> Cmf {
    let (mf_multiplier, mf_volume) = money_flow(high, low, close, volume);
    let cmf: Vec<f64> = rolling_windows(&mf_volume, period)
        .zip(rolling_windows(volume, period))
        .map(|(a, b)| {
            let (a, b) = (a.sum(period), b.sum(period));
            if b == 0.0 {
                0.0
            } else {
                a / b
            }
        })
        .collect();
    let momentum = diff(&cmf, 5);
    let signal = ema_span(&cmf, 9, false);
    let histogram = cmf.iter().zip(&signal).map(|(c, s)| c - s).collect();
    let above_zero = cmf.iter().map(|&c| flag(c > 0.0)).collect();
    let below_zero = cmf.iter().map(|&c| flag(c < 0.0)).collect();
    Cmf {
        cmf,
        mf_multiplier,
        mf_volume,
        momentum,
        signal,
        histogram,
        above_zero,
        below_zero,
    }
}

/// Volume Ratio: volume / `rolling(period, min_periods=period).mean()` of volume. Where that
/// mean is NaN (the first `period - 1` bars) or |mean| <= 1e-10 the original gives 1.0 (its
/// `np.where` default), so there is no warm-up NaN.
pub fn volume_ratio(volume: &[f64], period: usize) -> Vec<f64> {
    let avg = rolling_mean(volume, period, period);
    volume
        .iter()
        .zip(&avg)
        .map(|(&v, &a)| if a.abs() > 1e-10 { v / a } else { 1.0 })
        .collect()
}

/// ktrdr's own volume SMA: `rolling(period, min_periods=period).mean()` of volume.
pub fn volume_sma(volume: &[f64], period: usize) -> Vec<f64> {
    rolling_mean(volume, period, period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obv_by_hand() {
        let o = obv(&[1.0, 2.0, 2.0, 1.0], &[10.0, 20.0, 30.0, 40.0]);
        assert_eq!(o, vec![0.0, 20.0, 20.0, -20.0]);
    }
}
