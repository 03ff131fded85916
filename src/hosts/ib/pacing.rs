//! IB's historical-data pacing, enforced in the IB host service for all its callers:
//! at most 60 requests in any 10 minutes, no identical request within 15 s, at most 5 requests
//! for one contract within 2 s (IB counts six or more as a violation), and at most N in
//! flight. Requests wait their turn in arrival order; one cancelled while waiting leaves the
//! queue. The windows can be scaled (tests run IB's rules in seconds).
//!
//! IB times a request when it arrives, somewhere between the moment ktrdr lets it go and the
//! moment its answer comes back; a request let go first may arrive after one let go later.
//! So a request counts in every window from when it is let go until its answer came back plus
//! the window: IB can never see two requests closer together than the rules allow, whatever
//! the delays on the way (the stand-in gateway of the tests caught the looser version, which
//! timed windows from the moment a request was let go).
//!
//! [`PacingState`] is the pure rule book, driven by explicit times so tests control the clock;
//! [`Pacer`] queues async callers on top of it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// The limits.
#[derive(Debug, Clone)]
pub struct PacingRules {
    pub window: Duration,
    pub window_max: usize,
    pub identical_gap: Duration,
    pub contract_window: Duration,
    pub contract_max: usize,
    pub max_in_flight: usize,
}

impl Default for PacingRules {
    /// IB's published limits, 5 in flight.
    fn default() -> Self {
        Self::ib(1.0, 5)
    }
}

impl PacingRules {
    /// IB's limits with each window times `scale` (1: IB's own), and `max_in_flight`
    /// requests at once.
    pub fn ib(scale: f64, max_in_flight: usize) -> Self {
        let scaled = |secs: f64| Duration::from_secs_f64(secs * scale.max(0.0));
        Self {
            window: scaled(600.0),
            window_max: 60,
            identical_gap: scaled(15.0),
            contract_window: scaled(2.0),
            // IB: "six or more historical data requests for the same contract ... within two
            // seconds" is a violation, so five is the most that may go.
            contract_max: 5,
            max_in_flight: max_in_flight.max(1),
        }
    }
}

/// What a request is, for the rules: its contract, and everything that makes two requests
/// identical (contract, bar size, range, what to show).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub contract: String,
    pub request: String,
}

/// When a request may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Now.
    Now,
    /// Not before this time (same clock as `now`).
    At(Duration),
    /// When a request in flight finishes.
    AfterRelease,
}

/// A request let go: when its answer came back (times since the pacer's start); `None` while
/// it is in flight.
#[derive(Debug)]
struct Sent {
    id: u64,
    key: RequestKey,
    done: Option<Duration>,
}

/// Requests sent and requests in flight.
#[derive(Debug, Default)]
pub struct PacingState {
    rules: PacingRules,
    sent: VecDeque<Sent>,
    in_flight: usize,
    next_id: u64,
}

impl PacingState {
    pub fn new(rules: PacingRules) -> Self {
        Self {
            rules,
            sent: VecDeque::new(),
            in_flight: 0,
            next_id: 0,
        }
    }

    /// When `key` may be sent, asked at `now`.
    pub fn admission(&mut self, key: &RequestKey, now: Duration) -> Admission {
        let r = &self.rules;
        // Answers older than every rule's window are no longer needed.
        let keep = r.window.max(r.identical_gap).max(r.contract_window);
        self.sent.retain(|s| s.done.is_none_or(|d| d + keep > now));
        if self.in_flight >= r.max_in_flight {
            return Admission::AfterRelease;
        }
        // When the `nth` latest of these requests leaves a window of `w`: `None` while one of
        // the requests that decide it is in flight (it leaves `w` after its answer).
        fn leaves<'a>(
            sent: impl Iterator<Item = &'a Sent>,
            nth: usize,
            w: Duration,
        ) -> Option<Option<Duration>> {
            let mut done: Vec<Option<Duration>> = sent.map(|s| s.done).collect();
            if done.len() < nth {
                return Some(None);
            }
            // In flight (None) sorts as the latest.
            done.sort_by(|a, b| b.is_none().cmp(&a.is_none()).then(b.cmp(a)));
            done[nth - 1].map(|d| Some(d + w))
        }
        let all = [
            // The 60th latest request must have left the window.
            leaves(self.sent.iter(), r.window_max, r.window),
            leaves(
                self.sent.iter().filter(|s| s.key == *key),
                1,
                r.identical_gap,
            ),
            leaves(
                self.sent.iter().filter(|s| s.key.contract == key.contract),
                r.contract_max,
                r.contract_window,
            ),
        ];
        let mut earliest = now;
        for rule in all {
            match rule {
                None => return Admission::AfterRelease,
                Some(t) => earliest = earliest.max(t.unwrap_or(now)),
            }
        }
        if earliest <= now {
            Admission::Now
        } else {
            Admission::At(earliest)
        }
    }

    /// Records that `key` was let go at `now`; returns its id for [`Self::release`].
    pub fn record(&mut self, key: RequestKey, _now: Duration) -> u64 {
        self.next_id += 1;
        self.sent.push_back(Sent {
            id: self.next_id,
            key,
            done: None,
        });
        self.in_flight += 1;
        self.next_id
    }

    /// Request `id`'s answer came back (or it was given up) at `now`.
    pub fn release(&mut self, id: u64, now: Duration) {
        if let Some(s) = self.sent.iter_mut().find(|s| s.id == id) {
            if s.done.is_none() {
                s.done = Some(now);
                self.in_flight = self.in_flight.saturating_sub(1);
            }
        }
    }
}

/// Async queue over [`PacingState`] (see the module docs).
pub struct Pacer {
    state: Mutex<PacingState>,
    /// Waiting requests by ticket, in arrival order.
    queue: Mutex<VecDeque<u64>>,
    next_ticket: Mutex<u64>,
    changed: Notify,
    start: tokio::time::Instant,
}

/// Holds a request's in-flight slot; dropping it frees the slot.
pub struct PacingPermit<'a> {
    pacer: &'a Pacer,
    id: u64,
    /// How long the request waited for its turn.
    pub waited: Duration,
    /// When it was let through, on the pacer's clock (time since the pacer was made).
    pub sent_at: Duration,
}

impl Drop for PacingPermit<'_> {
    fn drop(&mut self) {
        let now = self.pacer.start.elapsed();
        self.pacer
            .state
            .lock()
            .expect("pacing lock")
            .release(self.id, now);
        self.pacer.changed.notify_waiters();
    }
}

/// Takes a ticket out of the queue when its waiter gives up.
struct Ticket<'a> {
    pacer: &'a Pacer,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.pacer
            .queue
            .lock()
            .expect("pacing lock")
            .retain(|t| *t != self.id);
        self.pacer.changed.notify_waiters();
    }
}

impl Pacer {
    pub fn new(rules: PacingRules) -> Self {
        Self {
            state: Mutex::new(PacingState::new(rules)),
            queue: Mutex::new(VecDeque::new()),
            next_ticket: Mutex::new(0),
            changed: Notify::new(),
            start: tokio::time::Instant::now(),
        }
    }

    /// Requests waiting their turn.
    pub fn queued(&self) -> usize {
        self.queue.lock().expect("pacing lock").len()
    }

    /// Waits until `key` may be sent under the rules and every earlier request has gone.
    pub async fn acquire(&self, key: RequestKey) -> PacingPermit<'_> {
        let arrived = tokio::time::Instant::now();
        let id = {
            let mut n = self.next_ticket.lock().expect("pacing lock");
            *n += 1;
            *n
        };
        self.queue.lock().expect("pacing lock").push_back(id);
        let ticket = Ticket { pacer: self, id };
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let first = self.queue.lock().expect("pacing lock").front() == Some(&id);
            let now = self.start.elapsed();
            let mut permit = None;
            let admission = if first {
                let mut state = self.state.lock().expect("pacing lock");
                let a = state.admission(&key, now);
                if a == Admission::Now {
                    permit = Some(state.record(key.clone(), now));
                }
                a
            } else {
                Admission::AfterRelease
            };
            match (admission, permit) {
                (Admission::Now, Some(id)) => {
                    drop(ticket);
                    return PacingPermit {
                        pacer: self,
                        id,
                        waited: arrived.elapsed(),
                        sent_at: now,
                    };
                }
                (Admission::Now, None) => unreachable!("admitted without a record"),
                (Admission::At(t), _) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(self.start + t) => {}
                        _ = changed => {}
                    }
                }
                (Admission::AfterRelease, _) => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(contract: &str, n: u32) -> RequestKey {
        RequestKey {
            contract: contract.into(),
            request: format!("{contract}/{n}"),
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Sends every request as early as the rules allow; returns the send times.
    fn drive(state: &mut PacingState, keys: &[RequestKey]) -> Vec<Duration> {
        let mut now = Duration::ZERO;
        keys.iter()
            .map(|k| loop {
                match state.admission(k, now) {
                    Admission::Now => {
                        let id = state.record(k.clone(), now);
                        state.release(id, now);
                        break now;
                    }
                    Admission::At(t) => now = t,
                    Admission::AfterRelease => unreachable!("released at once"),
                }
            })
            .collect()
    }

    /// Scaled rules: each window times the scale.
    #[test]
    fn scaled_rules() {
        let r = PacingRules::ib(0.01, 3);
        assert_eq!(r.window, secs(6.0));
        assert_eq!(r.identical_gap, secs(0.15));
        assert_eq!(r.contract_window, secs(0.02));
        assert_eq!((r.window_max, r.contract_max, r.max_in_flight), (60, 5, 3));
    }

    /// No 10-minute window ever holds more than 60 requests.
    #[test]
    fn sixty_per_ten_minutes() {
        let mut s = PacingState::new(PacingRules::default());
        let keys: Vec<RequestKey> = (0..200).map(|i| key(&format!("C{}", i % 40), i)).collect();
        let times = drive(&mut s, &keys);
        for (i, t) in times.iter().enumerate() {
            let in_window = times[..=i]
                .iter()
                .filter(|u| **u + secs(600.0) > *t)
                .count();
            assert!(
                in_window <= 60,
                "{in_window} requests in the window ending {t:?}"
            );
        }
        assert_eq!(
            times[60],
            times[0] + secs(600.0),
            "the 61st waits for the first to age out"
        );
    }

    /// An identical request waits 15 s after the previous one.
    #[test]
    fn identical_within_fifteen_seconds() {
        let mut s = PacingState::new(PacingRules::default());
        let k = key("AAPL", 1);
        let times = drive(&mut s, &[k.clone(), key("AAPL", 2), k.clone()]);
        assert_eq!(times[2], secs(15.0));
        assert_eq!(times[1], Duration::ZERO);
    }

    /// At most 5 requests for one contract in any 2 s (IB counts a sixth as a violation);
    /// other contracts are not held up.
    #[test]
    fn five_per_contract_in_two_seconds() {
        let mut s = PacingState::new(PacingRules::default());
        let mut keys: Vec<RequestKey> = (0..13).map(|i| key("AAPL", i)).collect();
        keys.push(key("MSFT", 0));
        let times = drive(&mut s, &keys);
        assert!(times[..5].iter().all(|t| *t == Duration::ZERO));
        assert_eq!(times[5], secs(2.0));
        assert_eq!(times[10], secs(4.0));
        assert_eq!(times[12], secs(4.0));
        for i in 5..13 {
            assert!(times[i] >= times[i - 5] + secs(2.0));
        }
        assert_eq!(
            times[13],
            secs(4.0),
            "waits its turn behind AAPL's requests"
        );
    }

    /// The in-flight limit holds requests until one finishes.
    #[test]
    fn in_flight_limit() {
        let mut s = PacingState::new(PacingRules {
            max_in_flight: 2,
            ..Default::default()
        });
        let mut ids = Vec::new();
        for i in 0..2 {
            assert_eq!(s.admission(&key("C", i), Duration::ZERO), Admission::Now);
            ids.push(s.record(key("C", i), Duration::ZERO));
        }
        assert_eq!(
            s.admission(&key("C", 9), Duration::ZERO),
            Admission::AfterRelease
        );
        s.release(ids[0], Duration::ZERO);
        assert_eq!(s.admission(&key("C", 9), Duration::ZERO), Admission::Now);
    }

    /// A request counts in the windows until its answer came back plus the window, since IB
    /// may receive it as late as that: an identical request waits for the answer, then 15 s.
    #[test]
    fn windows_run_from_the_answer() {
        let mut s = PacingState::new(PacingRules::default());
        let k = key("AAPL", 1);
        let id = s.record(k.clone(), Duration::ZERO);
        assert_eq!(s.admission(&k, secs(30.0)), Admission::AfterRelease);
        s.release(id, secs(40.0));
        assert_eq!(s.admission(&k, secs(41.0)), Admission::At(secs(55.0)));
        assert_eq!(s.admission(&k, secs(55.0)), Admission::Now);
        // Five for a contract, one still in flight: it may have reached IB as late as now, so
        // it counts, but as the latest; the sixth goes 2 s after the fifth latest's answer.
        let mut s = PacingState::new(PacingRules::default());
        s.record(key("MSFT", 0), Duration::ZERO);
        for i in 1..5 {
            let id = s.record(key("MSFT", i), secs(0.5));
            s.release(id, secs(0.5));
        }
        assert_eq!(
            s.admission(&key("MSFT", 5), secs(1.0)),
            Admission::At(secs(2.5))
        );
    }

    /// 200 requests from several callers at once, with the rules scaled down 1000x so the
    /// test runs in real time (10 min -> 600 ms): the three rules hold on the times the pacer
    /// let each request through, requests go in arrival order, and a caller cancelled while
    /// queued leaves the queue.
    #[actix_web::test]
    async fn burst_from_many_callers_keeps_order_and_rules() {
        let rules = PacingRules {
            window: Duration::from_millis(600),
            window_max: 60,
            identical_gap: Duration::from_millis(15),
            contract_window: Duration::from_millis(2),
            contract_max: 5,
            max_in_flight: 5,
        };
        let pacer = std::sync::Arc::new(Pacer::new(rules.clone()));
        let sent = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (pacer, sent) = (pacer.clone(), sent.clone());
            // Requests 195..199 repeat 0..4: identical requests.
            let k = key(&format!("C{}", i % 7), i % 195);
            tasks.push(actix_web::rt::spawn(async move {
                let permit = pacer.acquire(k.clone()).await;
                sent.lock().unwrap().push((i, permit.sent_at, k));
                tokio::time::sleep(Duration::from_millis(1)).await;
                drop(permit);
            }));
        }
        // Let them queue (each task enqueues on its first poll), then cancel one that is
        // certainly still waiting.
        while pacer.queued() < 150 {
            tokio::task::yield_now().await;
        }
        tasks[150].abort();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.is_err(), i == 150);
        }
        assert_eq!(pacer.queued(), 0);
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 199);
        let order: Vec<u32> = sent.iter().map(|(i, _, _)| *i).collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "not in arrival order"
        );
        for (n, (_, t, k)) in sent.iter().enumerate() {
            let before = &sent[..n];
            let within = |w: Duration| before.iter().filter(move |(_, u, _)| *u + w > *t);
            assert!(within(rules.window).count() < 60);
            assert!(
                within(rules.contract_window)
                    .filter(|(_, _, c)| c.contract == k.contract)
                    .count()
                    < 5
            );
            assert!(within(rules.identical_gap).all(|(_, _, c)| c != k));
        }
        // The 61st request had to wait for the first to leave the window.
        assert!(sent[60].1 >= sent[0].1 + rules.window);
    }
}
