//! Trend indicators (and Distance from MA): moving averages, ZigZag, Parabolic SAR, Ichimoku,
//! Aroon, ADX and SuperTrend, each as the original KTRDR computes it (its pandas calls and its
//! own loops), on plain slices, one pass each.

use super::{
    ema_span, pct_change_100, rolling_mean, true_range, true_range_at, Ewm, RollingMax, RollingMin,
};

const NAN: f64 = f64::NAN;

/// ZigZag as the original's `ZigZagIndicator` (threshold a fraction, 0.05 = 5%). Row 0 is
/// always a point. Until the first move of at least `threshold` from row 0 no direction is
/// set; the row where it happens becomes a point. In a direction, a new extreme (strictly
/// higher in an up leg, strictly lower in a down leg) replaces the leg's previous point
/// (that row goes back to NaN); a move of at least `threshold` against the leg's extreme,
/// measured as `(price - extreme) / extreme`, marks a reversal point. All other rows are NaN.
pub fn zigzag(x: &[f64], threshold: f64) -> Vec<f64> {
    let mut out = vec![NAN; x.len()];
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
                out[last_idx] = NAN;
                true
            }
            1 if change <= -threshold => {
                dir = -1;
                true
            }
            -1 if p < last => {
                out[last_idx] = NAN;
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
    let mut sar = vec![NAN; len];
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
    // One pass: one queue of highs and one of lows answer the three window lengths, and each
    // row's four lines are written at once.
    let len = close.len();
    let (mut hi, mut lo) = (
        RollingMax::nested([tenkan, kijun, senkou_b]),
        RollingMin::nested([tenkan, kijun, senkou_b]),
    );
    let mid = |h: Option<(f64, usize)>, l: Option<(f64, usize)>| match (h, l) {
        (Some((h, _)), Some((l, _))) => (h + l) / 2.0,
        _ => NAN,
    };
    let mut o = Ichimoku {
        tenkan: vec![NAN; len],
        kijun: vec![NAN; len],
        senkou_a: vec![NAN; len],
        senkou_b: vec![NAN; len],
        chikou: close.to_vec(),
    };
    for (i, (&h, &l)) in high[..len].iter().zip(&low[..len]).enumerate() {
        hi.push(h);
        lo.push(l);
        let t = mid(hi.get(0), lo.get(0));
        let k = mid(hi.get(1), lo.get(1));
        o.tenkan[i] = t;
        o.kijun[i] = k;
        o.senkou_a[i] = (t + k) / 2.0;
        o.senkou_b[i] = mid(hi.get(2), lo.get(2));
    }
    o
}

/// Aroon over a window of `period` bars INCLUDING the current one (the original's window; the
/// textbook one spans period + 1 bars): Up = (period - bars since the highest high) / period
/// · 100, Down the same with the lowest low; on ties the earliest bar counts (numpy argmax).
/// NaN for the first `period - 1` rows. Returns (up, down, oscillator = up - down).
pub fn aroon(high: &[f64], low: &[f64], period: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = period as f64;
    let score = |i: usize, e: Option<(f64, usize)>| {
        e.map_or(NAN, |(_, p)| (n - (i - p) as f64) / n * 100.0)
    };
    let (mut hi, mut lo) = (RollingMax::new(period), RollingMin::new(period));
    let up: Vec<f64> = high
        .iter()
        .enumerate()
        .map(|(i, &h)| score(i, hi.push(h)))
        .collect();
    let down: Vec<f64> = low
        .iter()
        .enumerate()
        .map(|(i, &l)| score(i, lo.push(l)))
        .collect();
    let osc = up.iter().zip(&down).map(|(a, b)| a - b).collect();
    (up, down, osc)
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
    let nan = || vec![NAN; len];
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
            true_range_at(high[i], low[i], close[i - 1])
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
    let atr = rolling_mean(&true_range(high, low, close), period, period);
    let mut upper = vec![NAN; len];
    let mut lower = vec![NAN; len];
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
    let mut st = vec![NAN; len];
    let mut direction = vec![NAN; len];
    let mut strength = vec![NAN; len];
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
/// `(x - MA) / MA · 100` where the MA is pandas' `rolling(period).mean()` or [`ema_span`]
/// (pandas' default
/// `adjust=True`); NaN where the MA is NaN, 0 where `|MA| <= 1e-10`.
pub fn distance_from_ma(x: &[f64], period: usize, use_ema: bool) -> Vec<f64> {
    let ma = if use_ema {
        ema_span(x, period, true)
    } else {
        rolling_mean(x, period, period)
    };
    x.iter()
        .zip(&ma)
        .map(|(&p, &m)| {
            if m.is_nan() {
                NAN
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
    use super::super::assert_close as same;
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn aroon_prefers_the_earliest_tie() {
        let h = [1.0, 2.0, 2.0, 1.0];
        let (up, _, _) = aroon(&h, &h, 3);
        // windows [1,2,2] -> first max at 1, 1 bar ago -> (3-1)/3; [2,2,1] -> 2 bars ago
        same(&up, &[N, N, 200.0 / 3.0, 100.0 / 3.0]);
    }

    #[test]
    fn ichimoku_midpoints_by_hand() {
        let h = [3.0, 5.0, 4.0, N, 6.0, 7.0];
        let l = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0];
        let c = [2.0; 6];
        let o = ichimoku(&h, &l, &c, 2, 3, 1);
        same(&o.tenkan, &[N, 3.0, 3.5, N, N, 5.5]);
        same(&o.kijun, &[N, N, 3.0, N, N, N]);
        same(&o.senkou_a, &[N, N, 3.25, N, N, N]);
        same(&o.senkou_b, &[2.0, 3.5, 3.0, N, 5.0, 6.0]);
        same(&o.chikou, &c);
    }

    #[test]
    fn zigzag_by_hand() {
        let x = [100.0, 103.0, 106.0, 108.0, 104.0, 101.0, 102.0, 110.0];
        // 106 is +6% -> up leg; 108 replaces it; 101 is -6.5% from 108 -> reversal; 110 is
        // +8.9% from 101 -> reversal.
        same(&zigzag(&x, 0.05), &[100.0, N, N, 108.0, N, 101.0, N, 110.0]);
    }
}
