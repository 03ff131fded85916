//! Exponential backoff with jitter: the one retry schedule of the project (the host-service
//! client's retries, the IB Gateway provider's reconnects).

use std::time::Duration;

use rand::Rng;

/// Waits `base * 2^(attempt-1)`, capped at `max`; with `jitter`, a random value in
/// `[d/2, d]` of that, so clients that failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub jitter: bool,
}

impl Backoff {
    /// The wait before retry number `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let d = exp.min(self.max);
        if self.jitter {
            d.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
        } else {
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles from the base, stops at the cap, and jitter stays within [d/2, d].
    #[test]
    fn doubles_caps_and_jitters() {
        let plain = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(500),
            jitter: false,
        };
        let waits: Vec<u128> = (1..=5).map(|a| plain.delay(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
        assert_eq!(plain.delay(1000), Duration::from_millis(500), "no overflow");
        let jittered = Backoff {
            jitter: true,
            ..plain
        };
        for _ in 0..100 {
            let d = jittered.delay(3);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&d));
        }
    }
}
