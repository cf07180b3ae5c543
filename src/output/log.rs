//! A tiny logger: messages on stderr, filtered by `--log debug|info|warn|error`.
//!
//! Call `log::debug("...")`, `log::info`, `log::warn` (plain `&str`,
//! use `format!` for arguments). Debug lines are prefixed with a UTC timestamp.
//! Never log secrets (request URLs go through `api::http::redact_url`).

/// `--log` level; `scp -w` raises it to `Debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(1);

fn rank(l: LogLevel) -> u8 {
    match l {
        LogLevel::Debug => 0,
        LogLevel::Info => 1,
        LogLevel::Warn => 2,
        LogLevel::Error => 3,
    }
}

/// Set the level (done once by `main` from `--log`; `scp -w` may raise it to debug).
pub fn set_level(l: LogLevel) {
    LEVEL.store(rank(l), Ordering::Relaxed);
}

pub fn enabled(l: LogLevel) -> bool {
    rank(l) >= LEVEL.load(Ordering::Relaxed)
}

pub fn debug_enabled() -> bool {
    enabled(LogLevel::Debug)
}

fn emit(prefix: &str, msg: &str, stamp: bool) {
    let msg = super::escape_message(msg);
    let mut err = std::io::stderr().lock();
    let _ = if stamp {
        writeln!(err, "{} {prefix}{msg}", timestamp())
    } else {
        writeln!(err, "{prefix}{msg}")
    };
}

/// Debug message (only with `--log debug`), timestamped.
pub fn debug(msg: &str) {
    if enabled(LogLevel::Debug) {
        emit("DEBUG ", msg, true);
    }
}

/// Informational message (default level).
pub fn info(msg: &str) {
    if enabled(LogLevel::Info) {
        emit("", msg, debug_enabled());
    }
}

/// Warning, prefixed `Warning: `.
pub fn warn(msg: &str) {
    if enabled(LogLevel::Warn) {
        emit("Warning: ", msg, debug_enabled());
    }
}

/// `2024-05-01T12:00:00.123Z` (UTC).
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (y, mo, d, h, mi, s) = civil(now.as_secs() as i64);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        now.subsec_millis()
    )
}

/// Unix seconds → (year, month, day, hour, minute, second) in UTC.
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_709_251_199), (2024, 2, 29, 23, 59, 59));
    }
}
