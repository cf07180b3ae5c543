//! A tiny logger: messages on stderr, filtered by `--log debug|info|warn|error`.
//!
//! Call `log::debug("...")`, `log::info`, `log::warn`, `log::error` (plain `&str`,
//! use `format!` for arguments). Debug lines are prefixed with a UTC timestamp.
//! Never log secrets: pass anything that may hold one through [`redact`] first.

use crate::cli::LogLevel;
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

/// The current level.
pub fn level() -> LogLevel {
    match LEVEL.load(Ordering::Relaxed) {
        0 => LogLevel::Debug,
        1 => LogLevel::Info,
        2 => LogLevel::Warn,
        _ => LogLevel::Error,
    }
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

/// Error message that does not end the program (fatal errors are returned as `Error`).
pub fn error(msg: &str) {
    emit("Error: ", msg, debug_enabled());
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

const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "code",
    "code_verifier",
    "state",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "signature",
    "idtoken",
    "refreshtoken",
    "accesstoken",
    "jwt",
];

fn is_secret_key(k: &str) -> bool {
    let k = k.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    let l = k.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| l == *s) || l.ends_with("token") || l.ends_with("password")
}

/// Mask secrets in a log line: `Bearer <tok>`, `Basic <b64>`, `Authorization: <x>`,
/// `key=value` in URLs/forms and `"key": "value"` in JSON for keys such as
/// token, password, secret, code, state, X-Amz-Signature... Values become `***`.
pub fn redact(s: &str) -> String {
    redact_pairs(&redact_userinfo(s))
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn redact_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let auth_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..auth_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(c) => {
                        out.push_str(&userinfo[..c]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[auth_end..];
    }
    out.push_str(rest);
    out
}

fn redact_pairs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes: Vec<char> = s.chars().collect();
    let mut i = 0;
    let n = bytes.len();
    // Index in `out` where the current word (potential key) started.
    while i < n {
        let c = bytes[i];
        // Bearer / Basic schemes.
        for scheme in ["Bearer ", "bearer ", "Basic ", "basic "] {
            let sl: Vec<char> = scheme.chars().collect();
            if i + sl.len() <= n && bytes[i..i + sl.len()] == sl[..] {
                out.push_str(scheme);
                i += sl.len();
                let start = i;
                while i < n && !bytes[i].is_whitespace() && bytes[i] != '"' && bytes[i] != ',' {
                    i += 1;
                }
                if i > start {
                    out.push_str("***");
                }
                break;
            }
        }
        if i >= n {
            break;
        }
        let c2 = bytes[i];
        if c2 != c {
            continue;
        }
        if c == '=' || c == ':' {
            // Key = the identifier just before.
            let key: String = {
                let mut j = out.len();
                let ob = out.as_bytes();
                while j > 0 {
                    let b = ob[j - 1];
                    if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'"' {
                        j -= 1;
                    } else {
                        break;
                    }
                }
                out[j..].to_string()
            };
            out.push(c);
            i += 1;
            if is_secret_key(&key) {
                // Skip spaces then the value (quoted or bare).
                while i < n && bytes[i] == ' ' {
                    out.push(' ');
                    i += 1;
                }
                if i < n && bytes[i] == '"' {
                    out.push('"');
                    i += 1;
                    while i < n && bytes[i] != '"' {
                        if bytes[i] == '\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    out.push_str("***");
                } else {
                    let start = i;
                    while i < n
                        && !matches!(bytes[i], '&' | ' ' | ',' | ';' | '}' | '\n' | '"' | '\'')
                    {
                        i += 1;
                    }
                    if i > start {
                        out.push_str("***");
                    }
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts() {
        assert_eq!(
            redact("Authorization: Bearer abc.def"),
            "Authorization: Bearer ***"
        );
        assert_eq!(
            redact("GET /x?code=123&state=abc&x=1"),
            "GET /x?code=***&state=***&x=1"
        );
        assert_eq!(
            redact(r#"{"refresh_token": "r1", "ok": "v", "Password":"p\"w"}"#),
            r#"{"refresh_token": "***", "ok": "v", "Password":"***"}"#
        );
        assert_eq!(redact("plain text"), "plain text");
        assert_eq!(
            redact("GET https://bob:pw@h.example:8080/a?b=1 and http://h2/"),
            "GET https://bob:***@h.example:8080/a?b=1 and http://h2/"
        );
        assert_eq!(redact("X-Amz-Signature=abcd"), "X-Amz-Signature=***");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_709_251_199), (2024, 2, 29, 23, 59, 59));
    }
}
