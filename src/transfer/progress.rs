//! Transfer progress on stderr.
//!
//! - Live mode (stderr is a terminal, no `--no-progress`): a small block of
//!   lines redrawn in place at most 10 times a second (every 3 s with
//!   `--quiet`): overall bytes, rate, ETA, files done/total, and the files in
//!   flight.
//! - Log mode (not a terminal, `--no-progress`, `-v`, `-w`): one plain line
//!   per finished file with its size and rate (none with `--quiet`), no ANSI
//!   codes, suitable for cron logs.
//!
//! Both modes end with the summary line printed by the caller.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::bwlimit::Bandwidth;
use crate::output::human_size;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Redraw in place every `interval`.
    Live { interval: Duration },
    /// One line per finished file (when `per_file`), plain text.
    Log { per_file: bool },
}

/// Counters of a file in flight (shared with its worker).
pub struct Active {
    id: u64,
    name: String,
    size: u64,
    pub done: AtomicI64,
}

pub struct Progress {
    mode: Mode,
    start: Instant,
    verb: &'static str,
    total_bytes: AtomicU64,
    done_bytes: AtomicI64,
    files_total: AtomicUsize,
    files_done: AtomicUsize,
    next_id: AtomicU64,
    active: Mutex<Vec<Arc<Active>>>,
    /// Lines currently drawn by the live display (to erase them).
    drawn: Mutex<usize>,
    finished: AtomicBool,
    limit: Mutex<Option<Arc<Bandwidth>>>,
}

/// Seconds formatted like `3.2s`, `1m05s`, `1h02m`.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s as u64) % 60)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as u64, ((s as u64) / 60) % 60)
    }
}

/// `12 MiB/s`.
pub fn fmt_rate(bytes: u64, d: Duration) -> String {
    let secs = d.as_secs_f64().max(0.001);
    format!("{}/s", human_size((bytes as f64 / secs) as u64))
}

impl Progress {
    pub fn new(mode: Mode, verb: &'static str) -> Arc<Progress> {
        Arc::new(Progress {
            mode,
            start: Instant::now(),
            verb,
            total_bytes: AtomicU64::new(0),
            done_bytes: AtomicI64::new(0),
            files_total: AtomicUsize::new(0),
            files_done: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            active: Mutex::new(Vec::new()),
            drawn: Mutex::new(0),
            finished: AtomicBool::new(false),
            limit: Mutex::new(None),
        })
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn set_totals(&self, files: usize, bytes: u64) {
        self.files_total.store(files, Ordering::Relaxed);
        self.total_bytes.store(bytes, Ordering::Relaxed);
    }

    /// Pace every transfer of the run to the shared `--bwlimit` bucket.
    pub fn set_limit(&self, limit: Option<Arc<Bandwidth>>) {
        *self.limit.lock().expect("limit lock") = limit;
    }

    /// The shared bucket, if any (for transfers that do not report pieces here).
    pub fn limit(&self) -> Option<Arc<Bandwidth>> {
        self.limit.lock().expect("limit lock").clone()
    }

    /// Bytes moved (negative when a retry rewinds); waits for the bandwidth limit.
    pub fn add(&self, active: &Active, n: i64) {
        self.count(active, n);
        if n > 0 {
            if let Some(b) = self.limit() {
                b.take(n as u64);
            }
        }
    }

    fn count(&self, active: &Active, n: i64) {
        active.done.fetch_add(n, Ordering::Relaxed);
        self.done_bytes.fetch_add(n, Ordering::Relaxed);
    }

    /// Count bytes that did not need to move (resumed parts, skipped prefix).
    pub fn add_skipped(&self, active: &Active, n: u64) {
        self.count(active, n as i64);
    }

    pub fn begin(&self, name: &str, size: u64) -> Arc<Active> {
        let a = Arc::new(Active {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            name: crate::output::escape_control(name).into_owned(),
            size,
            done: AtomicI64::new(0),
        });
        self.active.lock().expect("progress lock").push(a.clone());
        a
    }

    /// A file ended. Its byte count is corrected to `size` on success (and
    /// removed on failure) so the overall counter stays exact.
    pub fn end(&self, a: &Arc<Active>, ok: bool, line: Option<String>) {
        let done = a.done.load(Ordering::Relaxed);
        let target = if ok { a.size as i64 } else { 0 };
        self.done_bytes.fetch_add(target - done, Ordering::Relaxed);
        self.active
            .lock()
            .expect("progress lock")
            .retain(|x| x.id != a.id);
        if ok {
            self.files_done.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(l) = line {
            match self.mode {
                Mode::Log { per_file: true } => errln!("{l}"),
                Mode::Log { per_file: false } => {}
                Mode::Live { .. } if !ok => self.message(&l),
                Mode::Live { .. } => {}
            }
        }
    }

    /// A file that needed no transfer (already identical at the target).
    pub fn skipped(&self, size: u64, line: Option<String>) {
        self.done_bytes.fetch_add(size as i64, Ordering::Relaxed);
        self.files_done.fetch_add(1, Ordering::Relaxed);
        if let (Mode::Log { per_file: true }, Some(l)) = (self.mode, line) {
            errln!("{l}");
        }
    }

    /// Print a message line (above the live display when there is one).
    pub fn message(&self, msg: &str) {
        let mut drawn = self.drawn.lock().expect("progress lock");
        let mut err = std::io::stderr().lock();
        if *drawn > 0 {
            let _ = write!(err, "{}", erase(*drawn));
            *drawn = 0;
        }
        let _ = writeln!(err, "{}", crate::output::escape_message(msg));
    }

    /// Run the live display until [`Progress::finish`]; call from its own thread.
    pub fn run_display(&self) {
        let Mode::Live { interval } = self.mode else {
            return;
        };
        let tick = Duration::from_millis(50).min(interval);
        let mut last = Instant::now() - interval;
        while !self.finished.load(Ordering::Relaxed) {
            if last.elapsed() >= interval {
                self.draw();
                last = Instant::now();
            }
            std::thread::sleep(tick);
        }
    }

    /// Stop the live display and erase it.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::Relaxed);
        if let Mode::Live { .. } = self.mode {
            let mut drawn = self.drawn.lock().expect("progress lock");
            if *drawn > 0 {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "{}", erase(*drawn));
                let _ = err.flush();
                *drawn = 0;
            }
        }
    }

    fn draw(&self) {
        let width = crate::output::terminal_width().unwrap_or(80).max(20);
        let total = self.total_bytes.load(Ordering::Relaxed);
        let done = self.done_bytes.load(Ordering::Relaxed).max(0) as u64;
        let el = self.start.elapsed();
        let rate = done as f64 / el.as_secs_f64().max(0.001);
        let pct = (done * 100).checked_div(total).unwrap_or(100).min(100);
        let eta = if rate > 1.0 && total > done {
            format!(
                " ETA {}",
                fmt_duration(Duration::from_secs_f64((total - done) as f64 / rate))
            )
        } else {
            String::new()
        };
        let mut lines = vec![format!(
            "{} {:>3}% {} / {}  {}/s{}  files {}/{}  {}",
            self.verb,
            pct,
            human_size(done),
            human_size(total),
            human_size(rate as u64),
            eta,
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            fmt_duration(el)
        )];
        let active = self.active.lock().expect("progress lock").clone();
        for a in active.iter().take(8) {
            let d = a.done.load(Ordering::Relaxed).max(0) as u64;
            let p = (d * 100).checked_div(a.size).unwrap_or(100).min(100);
            lines.push(format!("  {:>3}% {}", p, a.name));
        }
        if active.len() > 8 {
            lines.push(format!("  … and {} more", active.len() - 8));
        }
        let mut out = String::new();
        let mut drawn = self.drawn.lock().expect("progress lock");
        out.push_str(&erase(*drawn));
        for l in &lines {
            out.push_str(&truncate(l, width - 1));
            out.push('\n');
        }
        *drawn = lines.len();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(out.as_bytes());
        let _ = err.flush();
    }
}

/// ANSI: move up `n` lines, clearing each.
fn erase(n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        s.push_str("\x1b[1A\x1b[2K");
    }
    s.push('\r');
    s
}

fn truncate(s: &str, w: usize) -> String {
    if crate::output::width::str_width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut cur = 0;
    for c in s.chars() {
        let cw = crate::output::width::char_width(c);
        if cur + cw + 1 > w {
            break;
        }
        out.push(c);
        cur += cw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(3200)), "3.2s");
        assert_eq!(fmt_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(fmt_duration(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn byte_accounting() {
        let p = Progress::new(Mode::Log { per_file: false }, "Uploading");
        p.set_totals(2, 30);
        let a = p.begin("a", 10);
        p.add(&a, 7);
        p.add(&a, -7);
        p.add(&a, 10);
        p.end(&a, true, None);
        let b = p.begin("b", 20);
        p.add(&b, 5);
        p.end(&b, false, None);
        assert_eq!(p.done_bytes.load(Ordering::Relaxed), 10);
        assert_eq!(p.files_done.load(Ordering::Relaxed), 1);
    }
}
