//! The worker pools of a transfer: files on `files_concurrency` threads, the
//! segments of a parallel download and the parts of a multipart upload on
//! `parts_concurrency` more, and the bounded queue from the part hasher to
//! the part senders.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::Duration;

/// Run `f` on every item with `n` threads; stops taking new items when
/// `stop()` says so. Returns the results in item order (`None` = not run).
pub fn run<T: Sync, R: Send>(
    items: &[T],
    n: usize,
    stop: &(dyn Fn() -> bool + Sync),
    f: &(dyn Fn(&T) -> R + Sync),
) -> Vec<Option<R>> {
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let workers = n.max(1).min(items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                results.lock().expect("pool lock")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("pool lock")
}

/// Queue `item`, waiting while the queue is full; `false` when `stop()` says
/// the consumers are gone or going (so the producer never blocks forever).
pub fn send_unless<T>(tx: &SyncSender<T>, mut item: T, stop: &(dyn Fn() -> bool + Sync)) -> bool {
    loop {
        match tx.try_send(item) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if stop() {
                    return false;
                }
                item = back;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

/// The first error of several workers, and a flag that stops the others.
#[derive(Default)]
pub struct FirstError {
    failed: std::sync::atomic::AtomicBool,
    error: Mutex<Option<crate::error::Error>>,
}

impl FirstError {
    pub fn set(&self, e: crate::error::Error) {
        self.failed.store(true, Ordering::Relaxed);
        self.error.lock().expect("error lock").get_or_insert(e);
    }
    pub fn is_set(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
    pub fn take(self) -> Option<crate::error::Error> {
        self.error.into_inner().expect("error lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_item_order_and_stop() {
        let items: Vec<u32> = (0..50).collect();
        let out = run(&items, 4, &|| false, &|i| i * 2);
        assert_eq!(
            out.iter().flatten().copied().collect::<Vec<_>>(),
            (0..50).map(|i| i * 2).collect::<Vec<_>>()
        );
        let none = run(&items, 4, &|| true, &|i| *i);
        assert!(none.iter().all(Option::is_none));
    }

    #[test]
    fn first_error_wins() {
        let f = FirstError::default();
        f.set(crate::error::Error::failure("a"));
        f.set(crate::error::Error::failure("b"));
        assert!(f.is_set());
        assert_eq!(f.take().unwrap().message, "a");
    }
}
