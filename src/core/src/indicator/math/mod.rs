//! The arithmetic of the indicators, on plain slices, one file per category; shared helpers
//! here. Every function returns vectors as long as its input, NaN where the original gives no
//! value (warm-up rows), and matches the original KTRDR's values (its pandas choices: which
//! `ewm`, which `rolling` `min_periods`, which standard deviation), as the reference tables
//! in `src/core/tests/reference/` check.
//!
//! The shared helpers follow pandas step for step where the last bits matter (checked against
//! pandas 3.1 on 200k values, NaN gaps included: the rolling extremes, sums, means and both
//! `ewm`s give the same bits):
//! - [`RollingExtreme`] / [`rolling_max`] / [`rolling_min`] / [`high_low_channel`]:
//!   `rolling(n, min_periods=n).max()/.min()`, also reporting where the extreme is (Aroon),
//!   and several window lengths from one queue (Ichimoku);
//! - [`RollingWindow`] / [`rolling_windows`] / [`rolling_sum`] / [`rolling_mean`]:
//!   `rolling(n, min_periods).sum()/.mean()` (NaN skipped, compensated sums, exact on runs of
//!   equal values); with `min_periods = n` this is also the NaN-poisoning simple average;
//! - [`rolling_std`]: `rolling(n, min_periods=n).std()` (ddof 1; within rounding of pandas,
//!   exactly 0 on a flat window);
//! - [`Ewm`] / [`ewm_mean`] / [`ema_span`]: `ewm(alpha or span, adjust).mean()`, NaN rows
//!   as pandas (the previous value repeated, the old weight still decaying);
//! - [`true_range`], [`diff`], [`pct_change_100`], [`finite_or_nan`], [`flag`].

pub mod momentum;
pub mod trend;
pub mod volatility;
pub mod volume;

const NAN: f64 = f64::NAN;

// ------------------------------------------------------------------------ rolling extremes

/// The running maximum (`MAX = true`) or minimum of the last `n` values, fed one value at a
/// time, as pandas' `rolling(n, min_periods=n).max()` / `.min()`: no value until the window
/// is full, none while a NaN is in the window. On ties the EARLIEST position is the extreme
/// (numpy's argmax/argmin, which Aroon needs).
///
/// A monotonic queue of (value, position) in a ring buffer: O(1) amortized a value, whatever
/// `n`. With `K > 1` ([`nested`](Self::nested)) it answers `K` window lengths over the same
/// values from the one queue (the longest window's), each length keeping its own front.
pub struct RollingExtreme<const MAX: bool, const K: usize = 1> {
    ring: Vec<(f64, usize)>,
    mask: usize,
    /// Free-running index one past the queue's back (`& mask` in `ring`).
    tail: usize,
    /// Each window's length, and the free-running index of its front: the first queued
    /// entry inside that window.
    lens: [usize; K],
    heads: [usize; K],
    /// Which window is the longest (its front is the queue's front).
    longest: usize,
    /// The position of the next value.
    next: usize,
    /// One past the position of the last NaN (0: none yet).
    nan_end: usize,
}

/// [`RollingExtreme`] of the maximum.
pub type RollingMax<const K: usize = 1> = RollingExtreme<true, K>;
/// [`RollingExtreme`] of the minimum.
pub type RollingMin<const K: usize = 1> = RollingExtreme<false, K>;

impl<const MAX: bool> RollingExtreme<MAX, 1> {
    /// A window of `n` values (`n == 0`: never a value).
    pub fn new(n: usize) -> Self {
        Self::nested([n])
    }
}

impl<const MAX: bool, const K: usize> RollingExtreme<MAX, K> {
    /// Windows of each of the lengths `lens` (at least one) over the same values;
    /// [`get`](Self::get)`(k)` answers for `lens[k]`.
    pub fn nested(lens: [usize; K]) -> Self {
        assert!(K > 0, "RollingExtreme needs at least one window");
        let longest = (0..K).max_by_key(|&k| lens[k]).unwrap_or(0);
        let cap = lens
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .max(1)
            .next_power_of_two();
        Self {
            ring: vec![(NAN, 0); cap],
            mask: cap - 1,
            tail: 0,
            lens,
            heads: [0; K],
            longest,
            next: 0,
            nan_end: 0,
        }
    }

    /// Adds the next value; returns [`get`](Self::get)`(0)`.
    #[inline]
    pub fn push(&mut self, v: f64) -> Option<(f64, usize)> {
        let i = self.next;
        self.next += 1;
        // Positions are distinct and each front is its window's oldest: at most one leaves.
        for k in 0..K {
            let head = self.heads[k];
            if head < self.tail && self.ring[head & self.mask].1 + self.lens[k] <= i {
                self.heads[k] = head + 1;
            }
        }
        if v.is_nan() {
            self.nan_end = i + 1;
        } else {
            let front = self.heads[self.longest];
            let mut tail = self.tail;
            while tail > front {
                let back = self.ring[(tail - 1) & self.mask].0;
                // An older equal value stays ahead of the new one.
                let keep = if MAX { back >= v } else { back <= v };
                if keep {
                    break;
                }
                tail -= 1;
            }
            for head in &mut self.heads {
                *head = (*head).min(tail);
            }
            self.ring[tail & self.mask] = (v, i);
            self.tail = tail + 1;
        }
        self.get(0)
    }

    /// The extreme of window `k` ending at the last value pushed and its position (counted
    /// from the first value pushed), or `None` while that window is not full or holds a NaN.
    #[inline]
    pub fn get(&self, k: usize) -> Option<(f64, usize)> {
        let n = self.lens[k];
        // Full and NaN-free: no NaN among the last n positions (nan_end = 0 when none), and
        // then the queue holds at least the last value.
        if n > 0 && self.nan_end + n <= self.next {
            Some(self.ring[self.heads[k] & self.mask])
        } else {
            None
        }
    }
}

fn rolling_extreme<const MAX: bool>(x: &[f64], n: usize) -> Vec<f64> {
    let mut w = RollingExtreme::<MAX>::new(n);
    x.iter()
        .map(|&v| w.push(v).map_or(NAN, |(e, _)| e))
        .collect()
}

/// Rolling maximum over `n` values (pandas `rolling(n, min_periods=n).max()`): NaN until the
/// window is full and while a NaN is in the window.
pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme::<true>(x, n)
}

/// Rolling minimum over `n` values, as [`rolling_max`].
pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    rolling_extreme::<false>(x, n)
}

/// The highest high and lowest low of the last `n` bars at each row, in one pass: `None`
/// where either [`rolling_max`] of `high` or [`rolling_min`] of `low` would be NaN.
pub fn high_low_channel<'a>(
    high: &'a [f64],
    low: &'a [f64],
    n: usize,
) -> impl Iterator<Item = Option<(f64, f64)>> + 'a {
    let (mut hi, mut lo) = (RollingMax::new(n), RollingMin::new(n));
    high.iter()
        .zip(low)
        .map(move |(&h, &l)| match (hi.push(h), lo.push(l)) {
            (Some((hh, _)), Some((ll, _))) => Some((hh, ll)),
            _ => None,
        })
}

// --------------------------------------------------------------------- rolling sum / mean

/// A rolling window's sum as pandas keeps it (`roll_sum` / `roll_mean`), fed by
/// [`remove`](Self::remove) of the value leaving and then [`add`](Self::add) of the value
/// entering (pandas' order): NaN values are skipped (not counted), additions and removals
/// are Kahan-compensated separately, and a run of equal values that fills the window gives
/// exactly `value * count` (sum) or `value` (mean) instead of a rounding residue.
#[derive(Clone, Copy)]
pub struct RollingWindow {
    nobs: usize,
    neg: usize,
    sum: f64,
    comp_add: f64,
    comp_remove: f64,
    /// Length of the run of equal non-NaN values ending at the newest one (NaNs skipped).
    same_run: usize,
    prev: f64,
}

impl RollingWindow {
    /// An empty window; `first` is the series' first value (pandas starts its run of equal
    /// values against it).
    pub fn new(first: f64) -> Self {
        Self {
            nobs: 0,
            neg: 0,
            sum: 0.0,
            comp_add: 0.0,
            comp_remove: 0.0,
            same_run: 0,
            prev: first,
        }
    }

    #[inline]
    pub fn add(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.nobs += 1;
        if v.is_sign_negative() {
            self.neg += 1;
        }
        let y = v - self.comp_add;
        let t = self.sum + y;
        self.comp_add = t - self.sum - y;
        self.sum = t;
        if v == self.prev {
            self.same_run += 1;
        } else {
            self.same_run = 1;
        }
        self.prev = v;
    }

    #[inline]
    pub fn remove(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.nobs -= 1;
        if v.is_sign_negative() {
            self.neg -= 1;
        }
        let y = -v - self.comp_remove;
        let t = self.sum + y;
        self.comp_remove = t - self.sum - y;
        self.sum = t;
    }

    /// pandas' `calc_sum`: 0 for an empty window when `min_periods` is 0, NaN with fewer than
    /// `min_periods` values.
    #[inline]
    pub fn sum(&self, min_periods: usize) -> f64 {
        if self.nobs == 0 && min_periods == 0 {
            0.0
        } else if self.nobs >= min_periods && self.nobs > 0 {
            if self.same_run >= self.nobs {
                self.prev * self.nobs as f64
            } else {
                self.sum
            }
        } else {
            NAN
        }
    }

    /// pandas' `calc_mean`: NaN with fewer than `min_periods` (or no) values; an all-positive
    /// window whose rounded mean came out negative (or the reverse) gives 0.
    #[inline]
    pub fn mean(&self, min_periods: usize) -> f64 {
        if self.nobs >= min_periods && self.nobs > 0 {
            let m = self.sum / self.nobs as f64;
            if self.same_run >= self.nobs {
                self.prev
            } else if self.neg == 0 && m < 0.0 || self.neg == self.nobs && m > 0.0 {
                0.0
            } else {
                m
            }
        } else {
            NAN
        }
    }
}

/// The [`RollingWindow`] of `window` values (0 counts as 1) at each row of `x`, in order.
pub fn rolling_windows(x: &[f64], window: usize) -> impl Iterator<Item = RollingWindow> + '_ {
    let window = window.max(1);
    let mut w = RollingWindow::new(x.first().copied().unwrap_or(NAN));
    (0..x.len()).map(move |i| {
        if i >= window {
            w.remove(x[i - window]);
        }
        w.add(x[i]);
        w
    })
}

/// pandas `rolling(window, min_periods).sum()`.
pub fn rolling_sum(x: &[f64], window: usize, min_periods: usize) -> Vec<f64> {
    rolling_windows(x, window)
        .map(|w| w.sum(min_periods))
        .collect()
}

/// pandas `rolling(window, min_periods).mean()`: the mean of the non-NaN values among the
/// last `window` (NaN when fewer than `min_periods`). With `min_periods = window` this is the
/// NaN-poisoning simple moving average: NaN until the window is full and while a NaN is in
/// it. With `min_periods = 1` the first rows average what they have and a NaN is skipped.
pub fn rolling_mean(x: &[f64], window: usize, min_periods: usize) -> Vec<f64> {
    rolling_windows(x, window)
        .map(|w| w.mean(min_periods))
        .collect()
}

/// Rolling sample standard deviation (ddof = 1) over `n` values, as pandas'
/// `rolling(n, min_periods=n).std()`: NaN until `n` values are in the window and while a NaN
/// is in it. Sliding Welford updates (add one value, remove one; pandas compensates them,
/// so the last bits can differ); a window of `n` identical values gives exactly 0 (pandas 2
/// does the same). `n == 1` gives NaN (ddof = 1 over one value), as pandas.
pub fn rolling_std(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len();
    let mut out = vec![NAN; len];
    if n < 2 {
        return out;
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
            out[i] = if same_run >= n {
                0.0
            } else {
                (m2.max(0.0) / (n - 1) as f64).sqrt()
            };
        }
    }
    out
}

// ------------------------------------------------------------------------------- ewm

/// One running pandas exponentially weighted mean (`Series.ewm(alpha=alpha, adjust=adjust)
/// .mean()`, with `ignore_na=False` and `min_periods=0`), fed a row at a time, step for step
/// as pandas computes it:
/// - before the first non-NaN input the output is NaN;
/// - the old weight decays by `1 - alpha` every row, NaN rows included, and a NaN row repeats
///   the previous output;
/// - `adjust=True`: each new value gets weight 1 and the old weight accumulates, i.e.
///   `y_t = Σ (1-α)^i x_{t-i} / Σ (1-α)^i`;
/// - `adjust=False`: the new value gets weight `alpha` and the old weight is reset to 1 after
///   each observation, i.e. `y_t = (1-α) y_{t-1} + α x_t` without gaps (pandas still divides
///   by `(1-α) + α`, which is skipped here only where it is exactly 1: the same bits).
pub struct Ewm {
    decay: f64,
    new_wt: f64,
    adjust: bool,
    weighted: f64,
    old_wt: f64,
    started: bool,
}

impl Ewm {
    pub fn new(alpha: f64, adjust: bool) -> Self {
        Ewm {
            decay: 1.0 - alpha,
            new_wt: if adjust { 1.0 } else { alpha },
            adjust,
            weighted: NAN,
            old_wt: 1.0,
            started: false,
        }
    }

    /// Adds the next row; returns the average at it.
    #[inline]
    pub fn push(&mut self, cur: f64) -> f64 {
        if !self.started {
            self.started = true;
            self.weighted = cur;
        } else if !self.weighted.is_nan() {
            self.old_wt *= self.decay;
            if !cur.is_nan() {
                // pandas skips the update when the value equals the average (no rounding).
                if self.weighted != cur {
                    let w = self.old_wt * self.weighted + self.new_wt * cur;
                    let total = self.old_wt + self.new_wt;
                    self.weighted = if total == 1.0 { w } else { w / total };
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

/// pandas' `ewm(alpha=alpha, adjust=adjust).mean()` over `x` (see [`Ewm`]).
pub fn ewm_mean(x: &[f64], alpha: f64, adjust: bool) -> Vec<f64> {
    let mut st = Ewm::new(alpha, adjust);
    x.iter().map(|&v| st.push(v)).collect()
}

/// pandas' `ewm(span=span, adjust=adjust).mean()`, alpha = 2 / (span + 1). `adjust=False`
/// is the recursive EMA seeded with the first value (MACD, Keltner, Fisher, CMF's signal);
/// `adjust=True` (pandas' default) the bias-corrected average. No warm-up NaN.
pub fn ema_span(x: &[f64], span: usize, adjust: bool) -> Vec<f64> {
    ewm_mean(x, 2.0 / (span as f64 + 1.0), adjust)
}

// ------------------------------------------------------------------------- small pieces

/// True range of one bar: the max of `high - low`, `|high - prev close|`, `|low - prev
/// close|`, skipping NaN terms (pandas `max(axis=1)`; `f64::max` skips NaN the same way).
#[inline]
pub fn true_range_at(high: f64, low: f64, prev_close: f64) -> f64 {
    (high - low)
        .max((high - prev_close).abs())
        .max((low - prev_close).abs())
}

/// True range as the original computes it ([`true_range_at`]); the first bar's is its
/// `high - low` (no previous close).
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    (0..close.len())
        .map(|i| {
            if i == 0 {
                high[0] - low[0]
            } else {
                true_range_at(high[i], low[i], close[i - 1])
            }
        })
        .collect()
}

/// `x[i] - x[i - n]` (pandas `diff(n)`); NaN for the first `n` rows.
pub fn diff(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| if i < n { NAN } else { x[i] - x[i - n] })
        .collect()
}

/// `(x[i] / x[i - n] - 1) · 100` (pandas `pct_change(n) * 100` without its NaN padding);
/// NaN for the first `n` rows; a zero base gives ±inf (or NaN for 0/0) as in pandas.
pub fn pct_change_100(x: &[f64], n: usize) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i < n {
                NAN
            } else {
                (x[i] / x[i - n] - 1.0) * 100.0
            }
        })
        .collect()
}

/// A value the original's API would send as `null` (NaN, or ±inf from a division by zero)
/// becomes NaN.
#[inline]
pub fn finite_or_nan(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        NAN
    }
}

/// A boolean column as the original's 0/1 values.
#[inline]
pub fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Asserts two series equal within 1e-9, NaN matching NaN (for the math files' tests).
#[cfg(test)]
pub(crate) fn assert_close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
            "at {i}: {x} != {y} ({a:?} vs {b:?})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn rolling_extremes_by_hand() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        assert_close(&rolling_max(&x, 3), &[N, N, 4.0, 4.0, 5.0, 9.0, 9.0, 9.0]);
        assert_close(&rolling_min(&x, 3), &[N, N, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
        // A NaN in the window gives NaN until it leaves the window.
        assert_close(
            &rolling_max(&[1.0, N, 3.0, 2.0, 1.0], 2),
            &[N, N, N, 3.0, 2.0],
        );
        assert_close(&rolling_max(&x, 1), &x);
        assert_close(&rolling_min(&x, 0), &[N; 8]);
        // Windows longer than a power of two wrap the ring.
        let long: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64).collect();
        for n in [1, 2, 3, 4, 5, 8, 9, 17] {
            let want: Vec<f64> = (0..long.len())
                .map(|i| {
                    if i + 1 < n {
                        N
                    } else {
                        long[i + 1 - n..=i].iter().copied().fold(f64::MIN, f64::max)
                    }
                })
                .collect();
            assert_close(&rolling_max(&long, n), &want);
        }
    }

    #[test]
    fn rolling_extreme_reports_the_earliest_tie() {
        let mut w = RollingMax::new(3);
        let got: Vec<_> = [1.0, 2.0, 2.0, 1.0, 0.0]
            .iter()
            .map(|&v| w.push(v))
            .collect();
        assert_eq!(
            got,
            [None, None, Some((2.0, 1)), Some((2.0, 1)), Some((2.0, 2))]
        );
    }

    #[test]
    fn nested_windows_answer_as_single_ones() {
        let x: Vec<f64> = (0..300)
            .map(|i| {
                if i % 97 == 50 {
                    N
                } else {
                    ((i * 37) % 23) as f64 + ((i / 40) % 2) as f64 * 5.0
                }
            })
            .collect();
        let ns = [1, 3, 9, 26, 52, 0];
        let mut both = (RollingMax::nested(ns), RollingMin::nested(ns));
        let mut single: Vec<_> = ns
            .iter()
            .map(|&n| (RollingMax::new(n), RollingMin::new(n)))
            .collect();
        for &v in &x {
            both.0.push(v);
            both.1.push(v);
            for (k, (hi, lo)) in single.iter_mut().enumerate() {
                assert_eq!(hi.push(v), both.0.get(k));
                assert_eq!(lo.push(v), both.1.get(k));
            }
        }
        for n in [3, 26] {
            let want: Vec<f64> = (0..x.len())
                .map(|i| {
                    let w = &x[(i + 1).saturating_sub(n)..=i];
                    if i + 1 < n || w.iter().any(|v| v.is_nan()) {
                        N
                    } else {
                        w.iter().copied().fold(f64::MIN, f64::max)
                    }
                })
                .collect();
            assert_close(&rolling_max(&x, n), &want);
        }
    }

    #[test]
    fn rolling_mean_min_periods_and_flat() {
        assert_close(
            &rolling_mean(&[1.0, 2.0, 3.0, 4.0], 2, 1),
            &[1.0, 1.5, 2.5, 3.5],
        );
        assert_close(
            &rolling_mean(&[1.0, 2.0, 3.0, 4.0, 5.0], 3, 3),
            &[N, N, 2.0, 3.0, 4.0],
        );
        // min_periods = n: a NaN in the window gives NaN until it leaves the window.
        assert_close(
            &rolling_mean(&[1.0, N, 3.0, 4.0, 5.0], 2, 2),
            &[N, N, N, 3.5, 4.5],
        );
        // A flat window gives its value exactly.
        let v = 100.1;
        let m = rolling_mean(&[1.7, v, v, v], 3, 3);
        assert_eq!(m[3], v);
    }

    #[test]
    fn rolling_sum_skips_nan() {
        let x = [1.0, 2.0, N, 4.0, 5.0, 5.0, 5.0];
        let s = rolling_sum(&x, 3, 2);
        assert!(s[0].is_nan());
        assert_eq!(s[1], 3.0);
        assert_eq!(s[2], 3.0);
        assert_eq!(s[3], 6.0);
        assert_eq!(s[6], 15.0);
        let m = rolling_mean(&x, 3, 3);
        assert!(m[3].is_nan());
        assert_eq!(m[5], 14.0 / 3.0);
        assert_eq!(m[6], 5.0);
    }

    #[test]
    fn rolling_std_by_hand() {
        let s = rolling_std(&[1.0, 2.0, 3.0, 5.0, 5.0, 5.0], 3);
        assert_close(&s[..3], &[N, N, 1.0]);
        assert!((s[3] - (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s[5], 0.0);
        let s = rolling_std(&[1.0, N, 3.0, 4.0, 5.0], 2);
        assert_close(&s, &[N, N, N, 0.5f64.sqrt(), 0.5f64.sqrt()]);
        assert_close(&rolling_std(&[1.0, 2.0], 1), &[N, N]);
    }

    #[test]
    fn ewm_by_hand() {
        // span 3: alpha 0.5. 1, 0.5*2+0.5*1 = 1.5, 0.5*3+0.5*1.5 = 2.25, 0.5*4+0.5*2.25 = 3.125
        assert_close(
            &ema_span(&[1.0, 2.0, 3.0, 4.0], 3, false),
            &[1.0, 1.5, 2.25, 3.125],
        );
        // adjusted: 1, (2 + .5)/1.5 = 5/3, (3 + 1 + .25)/1.75
        assert_close(
            &ema_span(&[1.0, 2.0, 3.0], 3, true),
            &[1.0, 5.0 / 3.0, 4.25 / 1.75],
        );
        // A NaN row repeats the previous value and still decays the old weight.
        assert_close(
            &ewm_mean(&[N, 1.0, N, 3.0], 0.5, false),
            &[N, 1.0, 1.0, 1.75 / 0.75],
        );
        let after = (0.25 * 2.25 + 0.5 * 4.0) / 0.75;
        assert_close(
            &ewm_mean(&[N, 1.0, 2.0, 3.0, N, 4.0], 0.5, false),
            &[N, 1.0, 1.5, 2.25, 2.25, after],
        );
    }

    #[test]
    fn true_range_skips_nan_terms() {
        let h = [10.0, 12.0, 11.0, N];
        let l = [8.0, 9.0, 9.0, 12.0];
        let c = [9.0, 11.0, 10.0, 14.0];
        // 2; max(3, 3, 0); max(2, 0, 2); NaN, NaN, |12 - 10| = 2
        assert_close(&true_range(&h, &l, &c), &[2.0, 3.0, 2.0, 2.0]);
    }
}
