//! Politeness per host: at most N requests at a time to one host, a minimum interval
//! between the starts of two requests to it (the per-host rate, or a robots.txt
//! Crawl-delay), and a pause for the whole host after a 429/503 with Retry-After.
//!
//! One [`HostState`] per host name; the map grows with the number of distinct hosts
//! met in a run, never with the number of requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The politeness state of one host.
#[derive(Debug)]
pub struct HostState {
    /// Requests in flight to this host.
    slots: Arc<Semaphore>,
    /// When the next request may start, and the interval between starts.
    schedule: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    next_start: Instant,
    interval: Duration,
}

/// Every host met so far.
#[derive(Debug)]
pub struct Hosts {
    per_host: usize,
    default_interval: Duration,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
}

/// A permission to send one request to a host; dropping it frees the slot.
#[derive(Debug)]
pub struct HostPermit {
    _permit: OwnedSemaphorePermit,
}

impl Hosts {
    /// `per_host` requests at a time per host, starts `interval` apart.
    pub fn new(per_host: usize, interval: Duration) -> Hosts {
        Hosts {
            per_host: per_host.max(1),
            default_interval: interval,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = match self.hosts.lock() {
            Ok(hosts) => hosts,
            Err(poisoned) => poisoned.into_inner(),
        };
        hosts
            .entry(host.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(self.per_host)),
                    schedule: Mutex::new(Schedule {
                        next_start: Instant::now(),
                        interval: self.default_interval,
                    }),
                })
            })
            .clone()
    }

    /// Sets the interval between request starts for `host` (robots.txt Crawl-delay),
    /// when it is longer than the current one.
    pub fn slow_down(&self, host: &str, interval: Duration) {
        let state = self.state(host);
        let mut schedule = lock(&state.schedule);
        if interval > schedule.interval {
            schedule.interval = interval;
        }
    }

    /// Pauses every request to `host` for `pause` (after a 429 or 503).
    pub fn pause(&self, host: &str, pause: Duration) {
        let state = self.state(host);
        let mut schedule = lock(&state.schedule);
        let until = Instant::now() + pause;
        if until > schedule.next_start {
            schedule.next_start = until;
        }
    }

    /// Waits for a free slot on `host` and for its next start time; `None` when that
    /// would pass `deadline`.
    pub async fn acquire(&self, host: &str, deadline: Instant) -> Option<HostPermit> {
        let state = self.state(host);
        let permit = tokio::time::timeout_at(deadline, state.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let start = {
            let mut schedule = lock(&state.schedule);
            let now = Instant::now();
            let start = schedule.next_start.max(now);
            schedule.next_start = start + schedule.interval;
            start
        };
        if start > deadline {
            return None;
        }
        tokio::time::sleep_until(start).await;
        Some(HostPermit { _permit: permit })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_the_interval() {
        let hosts = Hosts::new(4, Duration::from_millis(100));
        let begin = Instant::now();
        let deadline = begin + Duration::from_secs(10);
        let mut starts = Vec::new();
        for _ in 0..3 {
            let permit = hosts.acquire("a.example", deadline).await;
            assert!(permit.is_some());
            starts.push(Instant::now() - begin);
        }
        assert_eq!(
            starts,
            vec![
                Duration::ZERO,
                Duration::from_millis(100),
                Duration::from_millis(200)
            ]
        );
        // Another host is not slowed by the first.
        let other = Instant::now();
        assert!(hosts.acquire("b.example", deadline).await.is_some());
        assert_eq!(Instant::now(), other);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_past_the_deadline_gives_up() {
        let hosts = Hosts::new(1, Duration::ZERO);
        hosts.pause("a.example", Duration::from_secs(60));
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(hosts.acquire("a.example", deadline).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn slots_limit_requests_in_flight() {
        let hosts = Hosts::new(1, Duration::ZERO);
        let deadline = Instant::now() + Duration::from_secs(1);
        let first = hosts.acquire("a.example", deadline).await;
        assert!(first.is_some());
        // The only slot is taken: the second waits until the deadline and gives up.
        assert!(hosts.acquire("a.example", deadline).await.is_none());
        drop(first);
        let later = Instant::now() + Duration::from_secs(1);
        assert!(hosts.acquire("a.example", later).await.is_some());
    }
}
