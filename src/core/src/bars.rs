//! OHLCV bars in columns: `time` is the bar's start, milliseconds since the epoch, UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Bars of one symbol and timeframe, in columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bars {
    /// Bar start, ms since the epoch (UTC). Sorted and unique once validated.
    pub time: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

/// One bar, for building and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bars {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            time: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn push(&mut self, b: Bar) {
        self.time.push(b.time);
        self.open.push(b.open);
        self.high.push(b.high);
        self.low.push(b.low);
        self.close.push(b.close);
        self.volume.push(b.volume);
    }

    pub fn get(&self, i: usize) -> Bar {
        Bar {
            time: self.time[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }

    /// True when all columns have the same length.
    pub fn is_consistent(&self) -> bool {
        let n = self.time.len();
        [&self.open, &self.high, &self.low, &self.close, &self.volume]
            .iter()
            .all(|c| c.len() == n)
    }

    pub fn first_time(&self) -> Option<DateTime<Utc>> {
        self.time
            .first()
            .and_then(|&t| DateTime::from_timestamp_millis(t))
    }

    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        self.time
            .last()
            .and_then(|&t| DateTime::from_timestamp_millis(t))
    }

    /// Keeps the rows whose index passes `keep`.
    pub fn retain_indices(&self, keep: impl Fn(usize) -> bool) -> Bars {
        let mut out = Bars::with_capacity(self.len());
        for i in (0..self.len()).filter(|&i| keep(i)) {
            out.push(self.get(i));
        }
        out
    }

    /// Bars with `start <= time < end` (sorted input).
    pub fn slice_range(&self, start: Option<i64>, end: Option<i64>) -> Bars {
        let lo = start.map_or(0, |s| self.time.partition_point(|&t| t < s));
        let hi = end.map_or(self.len(), |e| self.time.partition_point(|&t| t < e));
        let hi = hi.max(lo);
        Bars {
            time: self.time[lo..hi].to_vec(),
            open: self.open[lo..hi].to_vec(),
            high: self.high[lo..hi].to_vec(),
            low: self.low[lo..hi].to_vec(),
            close: self.close[lo..hi].to_vec(),
            volume: self.volume[lo..hi].to_vec(),
        }
    }

    /// Merges two sorted, unique series; on equal times `newer` wins.
    pub fn merge(older: &Bars, newer: &Bars) -> Bars {
        let mut out = Bars::with_capacity(older.len() + newer.len());
        let (mut i, mut j) = (0, 0);
        while i < older.len() || j < newer.len() {
            let take_newer = match (older.time.get(i), newer.time.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    true
                }
                (Some(a), Some(b)) => b < a,
                (None, Some(_)) => true,
                _ => false,
            };
            if take_newer {
                out.push(newer.get(j));
                j += 1;
            } else {
                out.push(older.get(i));
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(times: &[i64], price: f64) -> Bars {
        let mut b = Bars::default();
        for &t in times {
            b.push(Bar {
                time: t,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: 1.0,
            });
        }
        b
    }

    /// Merge interleaves, and the newer series wins where both have a bar.
    #[test]
    fn merge_keeps_newest_and_sorts() {
        let old = bars(&[1, 2, 3, 5], 1.0);
        let new = bars(&[3, 4, 6], 2.0);
        let m = Bars::merge(&old, &new);
        assert_eq!(m.time, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(m.close, vec![1.0, 1.0, 2.0, 2.0, 1.0, 2.0]);
        assert!(m.is_consistent());
    }

    /// Range slicing is half-open.
    #[test]
    fn slice_is_half_open() {
        let b = bars(&[10, 20, 30, 40], 1.0);
        assert_eq!(b.slice_range(Some(20), Some(40)).time, vec![20, 30]);
        assert_eq!(b.slice_range(None, Some(5)).time, Vec::<i64>::new());
        assert_eq!(b.slice_range(Some(35), None).time, vec![40]);
    }
}
