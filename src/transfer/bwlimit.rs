//! `--bwlimit`: one token bucket shared by every stream of a run. Transfers
//! report each piece they move to the progress counters (both HTTP paths,
//! sendfile/splice included, call back once per piece of at most 1 MiB), and
//! the bucket paces them there: a piece that would go above the rate waits
//! until its share of time has come.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much may leave at once after an idle moment.
const BURST: Duration = Duration::from_millis(100);
/// Longest sleep between checks for Ctrl-C.
const SLICE: Duration = Duration::from_millis(100);

pub struct Bandwidth {
    /// Bytes per second.
    rate: f64,
    /// When the bytes already granted will have left at the rate.
    next: Mutex<Option<Instant>>,
}

impl Bandwidth {
    pub fn new(bytes_per_sec: u64) -> Bandwidth {
        Bandwidth {
            rate: bytes_per_sec.max(1) as f64,
            next: Mutex::new(None),
        }
    }

    /// Wait until `n` more bytes fit in the rate.
    pub fn take(&self, n: u64) {
        let now = Instant::now();
        let until = {
            let mut next = self.next.lock().expect("bandwidth lock");
            let floor = now.checked_sub(BURST).unwrap_or(now);
            let start = next.map_or(floor, |t| t.max(floor));
            let end = start + Duration::from_secs_f64(n as f64 / self.rate);
            *next = Some(end);
            end.checked_sub(BURST).unwrap_or(end)
        };
        while Instant::now() < until && !crate::output::interrupt::interrupted() {
            std::thread::sleep(until.saturating_duration_since(Instant::now()).min(SLICE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_to_the_rate() {
        let b = Bandwidth::new(1 << 20);
        let start = Instant::now();
        // 1.6 MiB at 1 MiB/s, from 4 threads: about 1.5 s (the first 100 ms are a burst).
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..4 {
                        b.take(100 << 10);
                    }
                });
            }
        });
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1300), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}
