//! The one retry policy of every request `cec` sends, REST and S3 alike
//! (docs/network.md): how many attempts, how long to pause between them, how
//! long a call may go on, and which failures are worth another attempt.
//!
//! A [`Retrier`] is shared by the REST client and the S3 client of a command;
//! each request runs one [`Call`] in one loop (no retry loop inside another).
//! Failures to connect (refused, unknown host, TLS) end the command at once
//! while the server has not answered yet: it is down or the URL is wrong. Once
//! it has answered, they mean an outage (a restart) and are retried like cuts,
//! time-outs, 5xx and 429.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Net, Result};

/// Attempts per request (`scp --retry-max-attempts`).
pub const DEFAULT_ATTEMPTS: u32 = 3;
/// Longest pause between two attempts (`scp --retry-max-backoff`).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(3);
/// What `--retry-max-attempts 0` means.
const MANY_ATTEMPTS: u32 = 100;
/// First pause; each next one doubles, up to the maximum.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// A call's budget beyond its pauses: time for attempts that fail fast.
const BUDGET_SLACK: Duration = Duration::from_secs(10);
/// On a terminal, at most one retry note per this long.
const TTY_NOTE_EVERY: Duration = Duration::from_secs(5);

/// S3 error codes worth another attempt (docs/protocol.md §4.7).
const RETRY_CODES: &[&str] = &[
    "RequestTimeout",
    "SlowDown",
    "InternalError",
    "ClientDisconnected",
    "RequestTimeTooSkewed",
    "ExpiredToken",
    "IncompleteBody",
    "XAmzContentSHA256Mismatch",
];

/// Attempts and pauses. The time budget of a call follows from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per request (1 = no retry, 0 = many).
    pub attempts: u32,
    /// Upper bound of the pause between two attempts.
    pub max_backoff: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            attempts: DEFAULT_ATTEMPTS,
            max_backoff: DEFAULT_MAX_BACKOFF,
        }
    }
}

impl Policy {
    pub fn new(attempts: u32, max_backoff: Duration) -> Policy {
        Policy {
            attempts,
            max_backoff,
        }
    }

    pub fn max_attempts(&self) -> u32 {
        if self.attempts == 0 {
            MANY_ATTEMPTS
        } else {
            self.attempts
        }
    }

    /// Longest pause before retry `n` (1 = the first retry): 250 ms × 2^(n−1),
    /// capped by `max_backoff`.
    fn pause_cap(&self, n: u32) -> Duration {
        let doubled = FIRST_BACKOFF.saturating_mul(1u32 << n.saturating_sub(1).min(16));
        doubled.min(self.max_backoff)
    }

    /// The pause before retry `n`: [`Policy::pause_cap`] with jitter (50–100 %).
    pub fn backoff(&self, n: u32) -> Duration {
        let cap = self.pause_cap(n).as_millis() as u64;
        Duration::from_millis(cap - jitter(cap / 2 + 1))
    }

    /// How long a call may go on retrying (from its first attempt, or from the
    /// last byte a transfer moved): every pause the policy allows, plus 10 s.
    pub fn budget(&self) -> Duration {
        let pauses: Duration = (1..self.max_attempts()).map(|n| self.pause_cap(n)).sum();
        pauses + BUDGET_SLACK
    }

    /// Whether `e` is worth another attempt. `contacted`: the server has
    /// answered before; `idempotent`: the request may be applied twice.
    pub fn retryable(e: &Error, contacted: bool, idempotent: bool) -> bool {
        let transient = match &e.kind {
            Kind::Status { status, code } => {
                *status >= 500
                    || *status == 408
                    || *status == 429
                    || RETRY_CODES.contains(&code.as_str())
            }
            Kind::Net(Net::Tls) => false,
            Kind::Net(n) if n.before_sending() => contacted,
            Kind::Net(_) => true,
            Kind::Reply | Kind::Io { .. } | Kind::Other => false,
        };
        let safe = idempotent || e.net_kind().is_some_and(Net::before_sending);
        transient && safe
    }
}

fn jitter(max: u64) -> u64 {
    let mut b = [0u8; 8];
    if max == 0 || getrandom::getrandom(&mut b).is_err() {
        return 0;
    }
    u64::from_le_bytes(b) % max
}

/// Where retry notes go instead of stderr (scp's progress display).
pub type Notes = Box<dyn Fn(&str) + Send + Sync>;

/// What the requests of one command share: the policy, whether the server has
/// answered yet, the number of retries, and where retry notes go.
pub struct Retrier {
    pub policy: Policy,
    contacted: AtomicBool,
    retries: AtomicU64,
    notes: Mutex<Option<Notes>>,
    last_note: Mutex<Option<Instant>>,
}

impl Default for Retrier {
    fn default() -> Self {
        Retrier::new(Policy::default())
    }
}

impl Retrier {
    pub fn new(policy: Policy) -> Retrier {
        Retrier {
            policy,
            contacted: AtomicBool::new(false),
            retries: AtomicU64::new(0),
            notes: Mutex::new(None),
            last_note: Mutex::new(None),
        }
    }

    /// Start one request. `idempotent`: it may be sent again after it may have
    /// reached the server. `cancel` is polled during pauses.
    pub fn call<'a>(
        &'a self,
        idempotent: bool,
        cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
    ) -> Call<'a> {
        Call {
            r: self,
            idempotent,
            failed: 0,
            since: Instant::now(),
            cancel,
        }
    }

    /// Retries so far (for a transfer's summary).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Send retry notes to `notes` (`None`: back to stderr).
    pub fn set_notes(&self, notes: Option<Notes>) {
        *self.notes.lock().unwrap_or_else(|p| p.into_inner()) = notes;
    }

    /// The server answered (any status): it is up and the URL is right.
    pub fn answered(&self) {
        self.contacted.store(true, Ordering::Relaxed);
    }

    fn contacted(&self) -> bool {
        self.contacted.load(Ordering::Relaxed)
    }

    /// One line per retry on a log; on a terminal at most one per few seconds.
    fn note(&self, wait: Duration, e: &Error) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let line = format!("retrying in {}: {e}", fmt_wait(wait));
        crate::output::log::debug(&line);
        if crate::output::log::debug_enabled() {
            return;
        }
        if crate::output::is_stderr_tty() {
            let mut last = self.last_note.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < TTY_NOTE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        match &*self.notes.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(f) => f(&line),
            None => crate::output::log::info(&line),
        }
    }
}

/// `0.3 s`, `2 s`.
fn fmt_wait(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 || s.fract() >= 0.05 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

/// The state of one request across its attempts.
pub struct Call<'a> {
    r: &'a Retrier,
    idempotent: bool,
    /// Failed attempts since the start or the last progress.
    failed: u32,
    /// Start of the budget: the first attempt, or the last progress.
    since: Instant,
    cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl Call<'_> {
    /// Bytes of a body moved: the time budget starts again (a long transfer
    /// that fails late still gets its retries).
    pub fn moved(&mut self) {
        self.since = Instant::now();
    }

    /// A download went further than before: the attempt count starts again too
    /// (only consecutive attempts without progress count).
    pub fn progressed(&mut self) {
        self.moved();
        self.failed = 0;
    }

    /// An attempt succeeded.
    pub fn succeeded(&self) {
        self.r.answered();
    }

    /// An attempt failed with `e`. When another attempt is allowed, pause
    /// (`retry_after` when the server asked, capped by the policy) and return
    /// `Ok`; otherwise return the error to report.
    pub fn retry(&mut self, e: Error, retry_after: Option<Duration>) -> Result<()> {
        if e.status_code().is_some() {
            self.r.answered();
        }
        self.failed += 1;
        let p = self.r.policy;
        let wait = match retry_after {
            Some(w) => w.min(p.max_backoff),
            None => p.backoff(self.failed),
        };
        let allowed = Policy::retryable(&e, self.r.contacted(), self.idempotent)
            && self.failed < p.max_attempts()
            && self.since.elapsed() + wait <= p.budget();
        if !allowed {
            return Err(e);
        }
        if self.cancelled() {
            return Err(Error::interrupted());
        }
        self.r.note(wait, &e);
        self.pause(wait)
    }

    fn cancelled(&self) -> bool {
        crate::output::interrupt::interrupted() || self.cancel.is_some_and(|c| c())
    }

    /// Sleep `wait`, waking up for Ctrl-C and cancellation.
    fn pause(&self, wait: Duration) -> Result<()> {
        let end = Instant::now() + wait;
        loop {
            if self.cancelled() {
                return Err(Error::interrupted());
            }
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = Policy::new(3, Duration::from_millis(1000));
        for n in 1..20 {
            assert!(p.backoff(n) <= Duration::from_millis(1000));
        }
        assert!(p.backoff(1) >= Duration::from_millis(125));
        assert!(p.backoff(1) <= Duration::from_millis(250));
        assert_eq!(Policy::new(0, p.max_backoff).max_attempts(), MANY_ATTEMPTS);
    }

    #[test]
    fn budget_follows_the_policy() {
        // 250 ms + 500 ms of pauses, plus the slack.
        assert_eq!(
            Policy::default().budget(),
            Duration::from_millis(750) + BUDGET_SLACK
        );
        let long = Policy::new(20, Duration::from_secs(1));
        assert!(long.budget() >= Duration::from_secs(27));
        assert_eq!(Policy::new(1, Duration::ZERO).budget(), BUDGET_SLACK);
    }

    #[test]
    fn what_is_retried() {
        let r = |e: &Error, contacted, idem| Policy::retryable(e, contacted, idem);
        let s503 = Error::status(503, "", "busy");
        assert!(r(&s503, false, true));
        assert!(!r(&s503, true, false), "a POST that may have run");
        assert!(r(&Error::status(429, "", "x"), false, true));
        assert!(r(
            &Error::status_exit(Exit::Failure, 400, "ExpiredToken", "x"),
            true,
            true
        ));
        assert!(!r(&Error::status(404, "", "x"), true, true));
        assert!(!r(&Error::status(401, "", "x"), true, true));
        let refused = Error::net(Net::Refused, "x");
        assert!(
            !r(&refused, false, true),
            "a server that is down fails at once"
        );
        assert!(
            r(&refused, true, true),
            "a server that went away is waited for"
        );
        assert!(
            r(&refused, true, false),
            "nothing was sent: safe to send again"
        );
        assert!(!r(&Error::net(Net::Tls, "x"), true, true));
        let cut = Error::net(Net::HandshakeCut, "x");
        assert!(r(&cut, true, false), "a restarting server is waited for");
        assert!(!r(&cut, false, true), "a first contact fails at once");
        assert!(r(&Error::net(Net::Reset, "x"), false, true));
        assert!(r(&Error::net(Net::Timeout, "x"), false, true));
        assert!(!r(&Error::reply("garbage"), true, true));
    }

    #[test]
    fn a_call_stops_at_its_attempts() {
        let rt = Retrier::new(Policy::new(2, Duration::ZERO));
        let mut c = rt.call(true, None);
        assert!(c.retry(Error::net(Net::Reset, "cut"), None).is_ok());
        let e = c.retry(Error::net(Net::Reset, "cut"), None).unwrap_err();
        assert_eq!(e.message, "cut");
        assert_eq!(rt.retries(), 1);
        // Progress gives a download its attempts back.
        c.progressed();
        assert!(c.retry(Error::net(Net::Reset, "cut"), None).is_ok());
    }

    #[test]
    fn waits_read_well() {
        assert_eq!(fmt_wait(Duration::from_millis(300)), "0.3 s");
        assert_eq!(fmt_wait(Duration::from_secs(2)), "2 s");
        assert_eq!(fmt_wait(Duration::from_millis(2500)), "2.5 s");
    }
}
