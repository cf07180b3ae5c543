//! Rendering helpers shared by all commands: tables, IEC/SI sizes, relative dates
//! (docs/compatibility.md §8.1–§8.3), a small `{{.Field}}` template language, terminal
//! detection, the logger (`output::log`) and Ctrl-C handling (`output::interrupt`).
pub mod confirm;
pub mod interrupt;
pub mod listing;
pub mod log;
pub mod table;
pub mod template;
pub mod width;

pub use crate::text::{escape_control, escape_message};
pub use listing::{print_json_lines, print_listing};
pub use table::{Align, Table};
pub use template::Template;

use std::io::{IsTerminal, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// Whether stdout is a terminal (tables fitted to its width, progress displays...).
pub fn is_stdout_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal.
pub fn is_stderr_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether stdin is a terminal (prompts are only allowed then).
pub fn is_stdin_tty() -> bool {
    std::io::stdin().is_terminal()
}

/// Terminal width in columns: `COLUMNS` if set, else the size of the terminal on
/// stdout/stderr, else `None`.
pub fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(c);
    }
    for fd in [1, 2, 0] {
        // SAFETY: TIOCGWINSZ only writes into the provided winsize struct.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
                return Some(ws.ws_col as usize);
            }
        }
    }
    None
}

/// Write text to stdout as is. SIGPIPE is ignored (so that a cut connection is an
/// error, not a kill): a closed pipe (e.g. `| head`) is seen here, and ends the process
/// the way the reader expects, by SIGPIPE.
pub fn print_out(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            die_of_sigpipe();
        }
        std::process::exit(1);
    }
}

/// Ignore SIGPIPE for the whole process (done once at start-up, before any thread):
/// every write to a socket or pipe then fails with EPIPE instead of killing `cec`
/// (`sendfile` has no MSG_NOSIGNAL). Child processes get the default back (std resets it).
pub fn ignore_sigpipe() {
    // SAFETY: setting a signal disposition; no handler runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// End like a Unix tool whose reader went away: killed by SIGPIPE (exit status 141).
pub fn die_of_sigpipe() -> ! {
    // SAFETY: restoring the default disposition and raising a signal at ourselves.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

/// Write a message line to stderr. Never panics (unlike `eprintln!`, which panics when
/// stderr is a closed pipe and SIGPIPE is ignored): a lost message is not worth a crash.
/// Server text inside a message is escaped (line breaks stay: messages may span lines).
pub fn eprint_line(s: &str) {
    eprint_text(&format!("{}\n", escape_message(s)));
}

/// Write text to stderr as is (prompts, progress); never panics, see [`eprint_line`].
pub fn eprint_text(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes()).and_then(|_| err.flush());
}

/// `eprintln!` through [`eprint_line`]: use it for every message on stderr.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::eprint_line("") };
    ($($arg:tt)*) => { $crate::output::eprint_line(&format!($($arg)*)) };
}

/// `eprint!` through [`eprint_text`] (no newline; flushed, for prompts).
#[macro_export]
macro_rules! errprint {
    ($($arg:tt)*) => { $crate::output::eprint_text(&format!($($arg)*)) };
}

/// [`escape_control`] only when stdout is a terminal: piped output keeps exact names,
/// as GNU `ls` does (scripts that need every byte safely use `--json`).
pub fn for_stdout(s: &str) -> std::borrow::Cow<'_, str> {
    static TTY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *TTY.get_or_init(is_stdout_tty) {
        escape_control(s)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Write one line to stdout (see [`print_out`]).
pub fn println_out(s: &str) {
    print_out(&format!("{s}\n"));
}

fn human(n: u64, base: f64, units: &[&str]) -> String {
    if n < 10 {
        return format!("{n} B");
    }
    // e = floor(log_base(n)), computed exactly with integers.
    let b = base as u128;
    let mut e = 0usize;
    let mut p = b;
    while (n as u128) >= p && e < units.len() - 1 {
        e += 1;
        p *= b;
    }
    let v = ((n as f64) / base.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if v < 10.0 {
        format!("{v:.1} {}", units[e])
    } else {
        format!("{v:.0} {}", units[e])
    }
}

/// IEC size (`ls`, docs/compatibility.md §8.2): `9 B`, `1023 B`, `1.5 KiB`, `442 KiB`, `10 MiB`.
pub fn human_size(n: u64) -> String {
    human(n, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"])
}

/// SI size (`tools hash`, docs/compatibility.md §8.2): 10485760 → `10 MB`.
pub fn human_size_si(n: u64) -> String {
    human(n, 1000.0, &["B", "kB", "MB", "GB", "TB", "PB", "EB"])
}

/// Relative date (docs/compatibility.md §8.3): `now`, `3 minutes ago`, `2 days from now`...
pub fn relative_time(unix_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    relative_time_at(unix_secs, now)
}

/// [`relative_time`] with an explicit "now" (for tests).
pub fn relative_time_at(t: i64, now: i64) -> String {
    const MIN: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;
    const WEEK: i64 = 7 * DAY;
    const MONTH: i64 = 30 * DAY;
    const YEAR: i64 = 12 * MONTH;
    const LONG: i64 = 37 * YEAR;
    let (d, label) = if t <= now {
        (now - t, "ago")
    } else {
        (t - now, "from now")
    };
    let text = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} {label}")
        } else {
            format!("{n} {unit}s {label}")
        }
    };
    if d < 1 {
        return "now".into();
    }
    if d < MIN {
        return text(d, "second");
    }
    if d < HOUR {
        return text(d / MIN, "minute");
    }
    if d < DAY {
        return text(d / HOUR, "hour");
    }
    if d < WEEK {
        return text(d / DAY, "day");
    }
    if d < MONTH {
        return text(d / WEEK, "week");
    }
    if d < YEAR {
        return text(d / MONTH, "month");
    }
    if d < 18 * MONTH {
        return text(1, "year");
    }
    if d < 2 * YEAR {
        return text(2, "year");
    }
    if d < LONG {
        return text(d / YEAR, "year");
    }
    "a long while ago".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(9), "9 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(442 * 1024), "442 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_size_si(10_485_760), "10 MB");
        assert_eq!(human_size(u64::MAX), "16 EiB");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1 << 50), "1.0 PiB");
        assert_eq!(human_size(1_000_000_000_000_000), "910 TiB");
        assert_eq!(human_size_si(1_000_000_000_000_000), "1.0 PB");
        assert_eq!(human_size_si(999_999), "1000 kB");
    }

    #[test]
    fn dates() {
        let n = 1_000_000_000;
        assert_eq!(relative_time_at(n, n), "now");
        assert_eq!(relative_time_at(n - 1, n), "1 second ago");
        assert_eq!(relative_time_at(n - 59, n), "59 seconds ago");
        assert_eq!(relative_time_at(n - 60, n), "1 minute ago");
        assert_eq!(relative_time_at(n - 7200, n), "2 hours ago");
        assert_eq!(relative_time_at(n - 86_400, n), "1 day ago");
        assert_eq!(relative_time_at(n - 8 * 86_400, n), "1 week ago");
        assert_eq!(relative_time_at(n - 31 * 86_400, n), "1 month ago");
        assert_eq!(relative_time_at(n - 400 * 86_400, n), "1 year ago");
        assert_eq!(relative_time_at(n - 600 * 86_400, n), "2 years ago");
        assert_eq!(relative_time_at(n - 3 * 360 * 86_400, n), "3 years ago");
        assert_eq!(relative_time_at(n + 3600, n), "1 hour from now");
        assert_eq!(relative_time_at(0, n * 2), "a long while ago");
    }
}
