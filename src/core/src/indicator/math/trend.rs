//! Trend indicators (and Distance from MA): moving averages, ZigZag, Parabolic SAR, Ichimoku,
//! Aroon, ADX and SuperTrend, each as the original KTRDR computes it (its pandas calls and its
//! own loops), on plain slices, one pass each.

/// Pandas' exponentially weighted mean (`Series.ewm(alpha=alpha, adjust=adjust).mean()`, with
/// `ignore_na=False` and `min_periods=0`), step for step as pandas computes it:
/// - before the first non-NaN input the output is NaN;
/// - the old weight decays by `1 - alpha` every row, NaN rows included, and a NaN row repeats
///   the previous output;
/// - `adjust=True`: each new value gets weight 1 and the old weight accumulates, i.e.
///   `y_t = Σ (1-α)^i x_{t-i} / Σ (1-α)^i`;
/// - `adjust=False`: the new value gets weight `alpha` and the old weight is reset to 1 after
///   each observation, i.e. `y_t = (1-α) y_{t-1} + α x_t` without gaps.
pub fn ewm_pandas(x: &[f64], alpha: f64, adjust: bool) -> Vec<f64> {
    let mut st = Ewm::new(alpha, adjust);
    x.iter().map(|&v| st.push(v)).collect()
}

/// One running pandas ewm mean (see [`ewm_pandas`]), fed a row at a time.
struct Ewm {
    decay: f64,
    new_wt: f64,
    adjust: bool,
    weighted: f64,
    old_wt: f64,
    started: bool,
}

impl Ewm {
    fn new(alpha: f64, adjust: bool) -> Self {
        Ewm {
            decay: 1.0 - alpha,
            new_wt: if adjust { 1.0 } else { alpha },
            adjust,
            weighted: f64::NAN,
            old_wt: 1.0,
            started: false,
        }
    }

    fn push(&mut self, cur: f64) -> f64 {
        if !self.started {
            self.started = true;
            self.weighted = cur;
        } else if !self.weighted.is_nan() {
            self.old_wt *= self.decay;
            if !cur.is_nan() {
                // pandas skips the update when the value equals the average (no rounding).
                if self.weighted != cur {
                    self.weighted = (self.old_wt * self.weighted + self.new_wt * cur)
                        / (self.old_wt + self.new_wt);
                }
                if self.adjust {
                    self.old_wt += self.new_wt;
                } else {
                    self.old_wt = 1.0;
                }
            }
        } else if !cur.is_nan() {
            self.weighted = cur;
        }
        self.weighted
    }
}

/// Exponential moving average as the original's `ExponentialMovingAverage`:
/// `ewm(span=period, adjust=adjust).mean()`, alpha = 2 / (period + 1). The original defaults
/// to `adjust=True` (the bias-corrected average, `Σ (1-α)^i x_{t-i} / Σ (1-α)^i`), so the first
/// rows are not the recursive form's `x_0`-seeded values. No warm-up NaN.
pub fn ema_span(x: &[f64], period: usize, adjust: bool) -> Vec<f64> {
    ewm_pandas(x, 2.0 / (period as f64 + 1.0), adjust)
}

/// Rolling maximum over `n` bars (pandas `rolling(n, min_periods=n).max()`): NaN until the
/// window is full and while a NaN is in the window. Monotonic deque, O(len).
pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    rolling_extreme(x, n, |a, b| a >= b, |i, f| out[i] = x[f]);
    out
}

/// Rolling minimum over `n` bars, as [`rolling_max`].
pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    rolling_extreme(x, n, |a, b| a <= b, |i, f| out[i] = x[f]);
    out
}

/// Walks the windows of `n` bars and calls `emit(row, position of the extreme)` for every
/// full window without NaN; the position is the FIRST occurrence within the window on ties,
/// as numpy's argmax/argmin. `keep(a, b)`: an older `a` stays ahead of a newer `b`.
fn rolling_extreme(
    x: &[f64],
    n: usize,
    keep: impl Fn(f64, f64) -> bool,
    mut emit: impl FnMut(usize, usize),
) {
    if n == 0 {
        return;
    }
    // A ring buffer of positions (at most n live ones), monotonic from head to tail.
    let cap = n + 1;
    let wrap = |k: usize| if k >= cap { k - cap } else { k };
    let mut ring = vec![0usize; cap];
    let (mut head, mut len) = (0usize, 0usize);
    // The first row whose window holds no NaN.
    let mut clean_from = 0usize;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            clean_from = i + n;
        } else {
            while len > 0 {
                let b = ring[wrap(head + len - 1)];
                if keep(x[b], v) {
                    break;
                }
                len -= 1;
            }
            ring[wrap(head + len)] = i;
            len += 1;
        }
        if len > 0 && ring[head] + n <= i {
            head = wrap(head + 1);
            len -= 1;
        }
        if i + 1 >= n && i >= clean_from && len > 0 {
            emit(i, ring[head]);
        }
    }
}

/// Simple moving average as pandas' `rolling(n).mean()` (min_periods = n): NaN until `n`
/// values are in the window and while a NaN is in it.
pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    super::sma(x, n)
}

/// ZigZag as the original's `ZigZagIndicator` (threshold a fraction, 0.05 = 5%). Row 0 is
/// always a point. Until the first move of at least `threshold` from row 0 no direction is
/// set; the row where it happens becomes a point. In a direction, a new extreme (strictly
/// higher in an up leg, strictly lower in a down leg) replaces the leg's previous point
/// (that row goes back to NaN); a move of at least `threshold` against the leg's extreme,
/// measured as `(price - extreme) / extreme`, marks a reversal point. All other rows are NaN.
pub fn zigzag(x: &[f64], threshold: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    if x.is_empty() {
        return out;
    }
    out[0] = x[0];
    let mut last_idx = 0usize;
    let mut last = x[0];
    let mut dir = 0i8;
    for (i, &p) in x.iter().enumerate().skip(1) {
        let change = (p - last) / last;
        let mark = match dir {
            0 if change.abs() >= threshold => {
                dir = if change > 0.0 { 1 } else { -1 };
                true
            }
            1 if p > last => {
                out[last_idx] = f64::NAN;
                true
            }
            1 if change <= -threshold => {
                dir = -1;
                true
            }
            -1 if p < last => {
                out[last_idx] = f64::NAN;
                true
            }
            -1 if change >= threshold => {
                dir = 1;
                true
            }
            _ => false,
        };
        if mark {
            out[i] = p;
            last_idx = i;
            last = p;
        }
    }
    out
}

/// Parabolic SAR as the original's `ParabolicSARIndicator`. Row 0 is NaN. Row 1 opens an up
/// trend when `close[1] > close[0]` (SAR = `low[0]`, EP = `high[1]`), else a down trend
/// (SAR = `high[0]`, EP = `low[1]`). Then `SAR = SAR_prev + AF (EP - SAR_prev)`; in an up trend a
/// `low <= SAR` reverses (SAR = EP, AF reset, EP = low), otherwise SAR is capped at the two
/// previous lows and a new high raises EP and AF (+step, at most `max_af`); mirrored in a down
/// trend. The original checks the reversal BEFORE capping by the previous two bars (most
/// implementations cap first); kept.
pub fn parabolic_sar(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    initial_af: f64,
    step_af: f64,
    max_af: f64,
) -> Vec<f64> {
    let len = close.len();
    let mut sar = vec![f64::NAN; len];
    if len < 2 {
        return sar;
    }
    let mut af = initial_af;
    let (mut up, mut ep);
    if close[1] > close[0] {
        up = true;
        ep = high[1];
        sar[1] = low[0];
    } else {
        up = false;
        ep = low[1];
        sar[1] = high[0];
    }
    for i in 2..len {
        let mut s = sar[i - 1] + af * (ep - sar[i - 1]);
        if up {
            if low[i] <= s {
                up = false;
                s = ep;
                af = initial_af;
                ep = low[i];
            } else {
                s = s.min(low[i - 1]).min(low[i - 2]);
                if high[i] > ep {
                    ep = high[i];
                    af = (af + step_af).min(max_af);
                }
            }
        } else if high[i] >= s {
            up = true;
            s = ep;
            af = initial_af;
            ep = high[i];
        } else {
            s = s.max(high[i - 1]).max(high[i - 2]);
            if low[i] < ep {
                ep = low[i];
                af = (af + step_af).min(max_af);
            }
        }
        sar[i] = s;
    }
    sar
}

/// Ichimoku lines as the original's `IchimokuIndicator` computes them.
pub struct Ichimoku {
    pub tenkan: Vec<f64>,
    pub kijun: Vec<f64>,
    pub senkou_a: Vec<f64>,
    pub senkou_b: Vec<f64>,
    pub chikou: Vec<f64>,
}

/// Ichimoku: Tenkan = (max high + min low)/2 over `tenkan` bars, Kijun the same over `kijun`,
/// Senkou A = (Tenkan + Kijun)/2, Senkou B = midpoint over `senkou_b` bars, Chikou = close.
/// The original does NOT shift anything by its `displacement` parameter (Senkou spans are not
/// moved forward, Chikou is the unshifted close — its API answers `Chikou_Span` = close);
/// kept as it is, so `displacement` only names the columns.
pub fn ichimoku(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    tenkan: usize,
    kijun: usize,
    senkou_b: usize,
) -> Ichimoku {
    let mid = |n: usize| -> Vec<f64> {
        // (rolling max of high + rolling min of low) / 2, the second pass in place: rows the
        // min pass skips (window not full or holding a NaN) become NaN.
        let mut out = rolling_max(high, n);
        let mut next = 0usize;
        rolling_extreme(
            low,
            n,
            |a, b| a <= b,
            |i, f| {
                out[next..i].fill(f64::NAN);
                out[i] = (out[i] + low[f]) / 2.0;
                next = i + 1;
            },
        );
        out[next..].fill(f64::NAN);
        out
    };
    let t = mid(tenkan);
    let k = mid(kijun);
    let a = t.iter().zip(&k).map(|(x, y)| (x + y) / 2.0).collect();
    Ichimoku {
        tenkan: t,
        kijun: k,
        senkou_a: a,
        senkou_b: mid(senkou_b),
        chikou: close.to_vec(),
    }
}

/// Aroon over a window of `period` bars INCLUDING the current one (the original's window; the
/// textbook one spans period + 1 bars): Up = (period - bars since the highest high) / period
/// · 100, Down the same with the lowest low; on ties the earliest bar counts (numpy argmax).
/// NaN for the first `period - 1` rows. Returns (up, down, oscillator = up - down).
pub fn aroon(high: &[f64], low: &[f64], period: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = period as f64;
    let score = |i: usize, p: usize| (n - (i - p) as f64) / n * 100.0;
    let mut up = vec![f64::NAN; high.len()];
    let mut down = vec![f64::NAN; low.len()];
    rolling_extreme(high, period, |a, b| a >= b, |i, p| up[i] = score(i, p));
    rolling_extreme(low, period, |a, b| a <= b, |i, p| down[i] = score(i, p));
    let osc = up.iter().zip(&down).map(|(a, b)| a - b).collect();
    (up, down, osc)
}

/// True range as the original computes it: the max of `high - low`, `|high - prev close|`,
/// `|low - prev close|`, skipping NaN terms (pandas `max(axis=1)`), so row 0 is `high - low`.
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    (0..close.len())
        .map(|i| {
            let hl = high[i] - low[i];
            if i == 0 {
                return hl;
            }
            [
                hl,
                (high[i] - close[i - 1]).abs(),
                (low[i] - close[i - 1]).abs(),
            ]
            .into_iter()
            .filter(|v| !v.is_nan())
            .fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m })
        })
        .collect()
}

/// `x[i] / x[i - n] - 1` times 100 (pandas `pct_change(n) * 100`); NaN for the first `n` rows;
/// a zero base gives ±inf (or NaN for 0/0) as in pandas.
fn pct_change_100(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i < n {
                f64::NAN
            } else {
                (x[i] / x[i - n] - 1.0) * 100.0
            }
        })
        .collect()
}

/// The eight ADX outputs of the original, in its column order.
pub struct Adx {
    pub adx: Vec<f64>,
    pub di_plus: Vec<f64>,
    pub di_minus: Vec<f64>,
    pub dx: Vec<f64>,
    pub tr: Vec<f64>,
    pub slope: Vec<f64>,
    pub di_spread: Vec<f64>,
    pub momentum: Vec<f64>,
}

/// ADX as the original's `ADXIndicator`:
/// - TR by [`true_range`] (row 0 = high - low); +DM = `high - prev high` when it is > 0 and >
///   `prev low - low`, else 0; -DM mirrored (0 on row 0);
/// - "Wilder smoothing" of TR, +DM, -DM and DX is pandas `ewm(alpha=1/period, adjust=False)`
///   seeded with row 0 (not the textbook sum/mean of the first `period` values), so there is
///   no warm-up: every row has a value;
/// - DI± = 100 · DM±/TR, 0 where smoothed TR is 0; DX = 100 · |DI+ - DI-| / (DI+ + DI-), 0 where
///   the sum is 0;
/// - slope = ADX - ADX 3 rows back; spread = DI+ - DI-; momentum = `pct_change(5) * 100` of ADX
///   (ADX is 0 on row 0, so row 5's momentum is +inf as in the original).
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Adx {
    let len = close.len();
    let alpha = 1.0 / period as f64;
    let nan = || vec![f64::NAN; len];
    let mut o = Adx {
        adx: nan(),
        di_plus: nan(),
        di_minus: nan(),
        dx: nan(),
        tr: nan(),
        slope: nan(),
        di_spread: nan(),
        momentum: nan(),
    };
    let (mut tr_s, mut dp_s, mut dm_s, mut adx_s) = (
        Ewm::new(alpha, false),
        Ewm::new(alpha, false),
        Ewm::new(alpha, false),
        Ewm::new(alpha, false),
    );
    // NaN (from a NaN division) counts as 0, as the original's fillna(0).
    let zero_nan = |v: f64| if v.is_nan() { 0.0 } else { v };
    for i in 0..len {
        let (mut dmp, mut dmm) = (0.0, 0.0);
        let tr = if i == 0 {
            high[0] - low[0]
        } else {
            let up = high[i] - high[i - 1];
            let down = low[i - 1] - low[i];
            if up > down && up > 0.0 {
                dmp = up;
            }
            if down > up && down > 0.0 {
                dmm = down;
            }
            [
                high[i] - low[i],
                (high[i] - close[i - 1]).abs(),
                (low[i] - close[i - 1]).abs(),
            ]
            .into_iter()
            .filter(|v| !v.is_nan())
            .fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m })
        };
        let trs = tr_s.push(tr);
        let dps = dp_s.push(dmp);
        let dms = dm_s.push(dmm);
        let (dip, dim) = if trs != 0.0 {
            (zero_nan(dps / trs * 100.0), zero_nan(dms / trs * 100.0))
        } else {
            (0.0, 0.0)
        };
        let sum = dip + dim;
        let dx = if sum != 0.0 {
            zero_nan((dip - dim).abs() / sum * 100.0)
        } else {
            0.0
        };
        let a = adx_s.push(dx);
        o.tr[i] = tr;
        o.di_plus[i] = dip;
        o.di_minus[i] = dim;
        o.dx[i] = dx;
        o.adx[i] = a;
        o.di_spread[i] = dip - dim;
        if i >= 3 {
            o.slope[i] = a - o.adx[i - 3];
        }
        if i >= 5 {
            o.momentum[i] = (a / o.adx[i - 5] - 1.0) * 100.0;
        }
    }
    o
}

/// The eight SuperTrend outputs of the original, in its column order.
pub struct SuperTrend {
    pub supertrend: Vec<f64>,
    /// 1 up, -1 down.
    pub direction: Vec<f64>,
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
    pub atr: Vec<f64>,
    pub distance: Vec<f64>,
    /// Rows since the direction last changed, counting this one.
    pub strength: Vec<f64>,
    pub slope: Vec<f64>,
}

/// SuperTrend as the original's `SuperTrendIndicator`, with one fix:
/// - ATR = simple mean of [`true_range`] over `period` rows (NaN until full), not Wilder's;
/// - basic bands = (high + low)/2 ± multiplier · ATR;
/// - final upper band = basic upper when it is below the previous final upper or the previous
///   close is above the previous final upper, else the previous final upper (lower band
///   mirrored);
/// - direction starts at 1; in an up trend a close <= final lower turns it down, in a down trend
///   a close >= final upper turns it up; SuperTrend = final lower in up trends, final upper in
///   down trends;
/// - distance = (close - ST)/ST · 100; strength = length of the current direction streak;
///   slope = `pct_change(3) * 100` of ST (NaN where either end is NaN).
///
/// The fix: the original carries the previous final band forward while that band is NaN, so
/// its bands stay NaN from the warm-up on and SuperTrend, bands, distance and slope are NaN on
/// every row (direction stays 1, strength counts rows). Here a NaN previous final band takes
/// the current basic band, which is what the rules mean; warm-up rows are unchanged.
pub fn supertrend(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    multiplier: f64,
) -> SuperTrend {
    let len = close.len();
    let atr = sma(&true_range(high, low, close), period);
    let mut upper = vec![f64::NAN; len];
    let mut lower = vec![f64::NAN; len];
    for i in 0..len {
        let mid = (high[i] + low[i]) / 2.0;
        let bu = mid + multiplier * atr[i];
        let bl = mid - multiplier * atr[i];
        if i == 0 || upper[i - 1].is_nan() || bu < upper[i - 1] || close[i - 1] > upper[i - 1] {
            upper[i] = bu;
        } else {
            upper[i] = upper[i - 1];
        }
        if i == 0 || lower[i - 1].is_nan() || bl > lower[i - 1] || close[i - 1] < lower[i - 1] {
            lower[i] = bl;
        } else {
            lower[i] = lower[i - 1];
        }
    }
    let mut st = vec![f64::NAN; len];
    let mut direction = vec![f64::NAN; len];
    let mut strength = vec![f64::NAN; len];
    let mut up = true;
    let mut streak = 0.0;
    for i in 0..len {
        let was = up;
        if up {
            if close[i] <= lower[i] {
                up = false;
            }
        } else if close[i] >= upper[i] {
            up = true;
        }
        st[i] = if up { lower[i] } else { upper[i] };
        direction[i] = if up { 1.0 } else { -1.0 };
        streak = if i == 0 || was == up {
            streak + 1.0
        } else {
            1.0
        };
        strength[i] = streak;
    }
    let distance = close
        .iter()
        .zip(&st)
        .map(|(c, s)| (c - s) / s * 100.0)
        .collect();
    let slope = pct_change_100(&st, 3);
    SuperTrend {
        supertrend: st,
        direction,
        upper,
        lower,
        atr,
        distance,
        strength,
        slope,
    }
}

/// Distance from a moving average in percent, as the original's `DistanceFromMAIndicator`:
/// `(x - MA) / MA · 100` where the MA is [`sma`] or [`ema_span`] (pandas' default
/// `adjust=True`); NaN where the MA is NaN, 0 where `|MA| <= 1e-10`.
pub fn distance_from_ma(x: &[f64], period: usize, use_ema: bool) -> Vec<f64> {
    let ma = if use_ema {
        ema_span(x, period, true)
    } else {
        sma(x, period)
    };
    x.iter()
        .zip(&ma)
        .map(|(&p, &m)| {
            if m.is_nan() {
                f64::NAN
            } else if m.abs() > 1e-10 {
                (p - m) / m * 100.0
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
                "at {i}: {x} != {y}"
            );
        }
    }
    const N: f64 = f64::NAN;

    #[test]
    fn ewm_adjusted_by_hand() {
        // span 3: alpha 0.5. adjusted: 1, (2 + .5)/1.5 = 5/3, (3 + 1 + .25)/1.75
        same(
            &ema_span(&[1.0, 2.0, 3.0], 3, true),
            &[1.0, 5.0 / 3.0, 4.25 / 1.75],
        );
        same(&ema_span(&[1.0, 2.0, 3.0], 3, false), &[1.0, 1.5, 2.25]);
        // A NaN row repeats the previous value and still decays the old weight.
        same(
            &ewm_pandas(&[N, 1.0, N, 3.0], 0.5, false),
            &[N, 1.0, 1.0, 1.75 / 0.75],
        );
    }

    #[test]
    fn rolling_extremes_by_hand() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        same(&rolling_max(&x, 3), &[N, N, 4.0, 4.0, 5.0, 9.0, 9.0, 9.0]);
        same(&rolling_min(&x, 3), &[N, N, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
        same(
            &rolling_max(&[1.0, N, 3.0, 2.0, 1.0], 2),
            &[N, N, N, 3.0, 2.0],
        );
    }

    #[test]
    fn aroon_prefers_the_earliest_tie() {
        let h = [1.0, 2.0, 2.0, 1.0];
        let (up, _, _) = aroon(&h, &h, 3);
        // windows [1,2,2] -> first max at 1, 1 bar ago -> (3-1)/3; [2,2,1] -> 2 bars ago
        same(&up, &[N, N, 200.0 / 3.0, 100.0 / 3.0]);
    }

    #[test]
    fn zigzag_by_hand() {
        let x = [100.0, 103.0, 106.0, 108.0, 104.0, 101.0, 102.0, 110.0];
        // 106 is +6% -> up leg; 108 replaces it; 101 is -6.5% from 108 -> reversal; 110 is
        // +8.9% from 101 -> reversal.
        same(&zigzag(&x, 0.05), &[100.0, N, N, 108.0, N, 101.0, N, 110.0]);
    }
}
