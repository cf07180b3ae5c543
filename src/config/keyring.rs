//! OS keyring access (docs/config.md §5) that never hangs a command.
//!
//! Service `com.pydio.cells-client`, account `<url>::<user>`, like the Go
//! client (zalando/go-keyring). On Linux the Secret Service item gets the label
//! `Password for '<account>' on '<service>'` and the attributes `service` and
//! `username` (the keyring crate also adds `target=default` and
//! `application=rust-keyring`; lookups by `service`+`username` — what
//! go-keyring does — still find our items, and we find go-keyring's items
//! through the crate's fallback search of the default collection).
//!
//! Every call fails fast: without `DBUS_SESSION_BUS_ADDRESS` the keyring is
//! unavailable at once; otherwise the call runs on a helper thread and is
//! abandoned after 3 s. After one "unavailable" answer the process does not
//! try again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

pub const SERVICE: &str = "com.pydio.cells-client";
const TIMEOUT: Duration = Duration::from_secs(3);

static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KrError {
    /// No keyring answers (no D-Bus session, time-out, no Secret Service).
    Unavailable(String),
    /// The keyring works but holds no such entry.
    NotFound,
    /// Any other keyring failure.
    Other(String),
}

impl std::fmt::Display for KrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KrError::Unavailable(m) => write!(f, "keyring unavailable: {m}"),
            KrError::NotFound => write!(f, "secret not found in keyring"),
            KrError::Other(m) => write!(f, "keyring error: {m}"),
        }
    }
}

/// Keyring account key for an account: `<url>::<user>`.
pub fn key(url: &str, user: &str) -> String {
    format!("{url}::{user}")
}

fn entry(account: &str) -> keyring::Result<keyring::Entry> {
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    {
        let mut cred =
            keyring::secret_service::SsCredential::new_with_target(None, SERVICE, account)?;
        cred.label = format!("Password for '{account}' on '{SERVICE}'");
        Ok(keyring::Entry::new_with_credential(Box::new(cred)))
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
    {
        keyring::Entry::new(SERVICE, account)
    }
}

fn map_err(e: keyring::Error) -> KrError {
    match e {
        keyring::Error::NoEntry => KrError::NotFound,
        keyring::Error::PlatformFailure(m) | keyring::Error::NoStorageAccess(m) => {
            let s = m.to_string();
            // no Secret Service on the bus, or no bus at all
            if s.contains("ServiceUnknown")
                || s.contains("org.freedesktop.secrets")
                || s.contains("not provided by any .service")
                || s.contains("connect")
                || s.contains("D-Bus")
                || s.contains("dbus")
            {
                KrError::Unavailable(s)
            } else {
                KrError::Other(s)
            }
        }
        other => KrError::Other(other.to_string()),
    }
}

fn call<T: Send + 'static>(
    f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, KrError> {
    call_within(TIMEOUT, f)
}

fn call_within<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, KrError> {
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return Err(KrError::Unavailable("no keyring answered earlier".into()));
    }
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty())
        && !user_bus_exists()
    {
        UNAVAILABLE.store(true, Ordering::Relaxed);
        return Err(KrError::Unavailable(
            "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)".into(),
        ));
    }
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        return Err(KrError::Other(e.to_string()));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let e = map_err(e);
            if matches!(e, KrError::Unavailable(_)) {
                UNAVAILABLE.store(true, Ordering::Relaxed);
            }
            Err(e)
        }
        Err(_) => {
            UNAVAILABLE.store(true, Ordering::Relaxed);
            Err(KrError::Unavailable(format!(
                "the keyring did not answer within {:.1} s",
                timeout.as_secs_f64()
            )))
        }
    }
}

/// libdbus also finds a systemd user bus at `$XDG_RUNTIME_DIR/bus` without
/// `DBUS_SESSION_BUS_ADDRESS`.
fn user_bus_exists() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .and_then(|d| std::fs::metadata(std::path::Path::new(&d).join("bus")).ok())
        .is_some_and(|m| m.file_type().is_socket())
}

pub fn get(account: &str) -> Result<String, KrError> {
    let account = account.to_string();
    call(move || entry(&account)?.get_password()).map(|v| decode_go_value(&v))
}

/// The secret of `account` if the keyring can give it without asking the user
/// (shell completion): an item in a locked collection is not unlocked (that would
/// pop up a prompt), it is an error; the answer must come within 1 s.
pub fn get_unlocked(account: &str) -> Result<String, KrError> {
    let account = account.to_string();
    call_within(Duration::from_secs(1), move || read_unlocked(&account))
        .map(|v| decode_go_value(&v))
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn read_unlocked(account: &str) -> keyring::Result<String> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let failed = |e: dbus_secret_service::Error| keyring::Error::PlatformFailure(Box::new(e));
    let ss = SecretService::connect(EncryptionType::Dh).map_err(failed)?;
    // The attributes go-keyring looks items up by: ours and the reference's.
    let attrs = std::collections::HashMap::from([("service", SERVICE), ("username", account)]);
    let found = ss.search_items(attrs).map_err(failed)?;
    match (found.unlocked.first(), found.locked.is_empty()) {
        (Some(item), _) => {
            let bytes = item.get_secret().map_err(failed)?;
            String::from_utf8(bytes).map_err(|e| keyring::Error::BadEncoding(e.into_bytes()))
        }
        (None, true) => Err(keyring::Error::NoEntry),
        (None, false) => Err(keyring::Error::NoStorageAccess(Box::new(
            std::io::Error::other("the keyring is locked"),
        ))),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
fn read_unlocked(account: &str) -> keyring::Result<String> {
    // Other keyrings may prompt: never from shell completion.
    let _ = account;
    Err(keyring::Error::NoStorageAccess(Box::new(
        std::io::Error::other("the keyring may ask for a password"),
    )))
}

/// go-keyring on macOS stores `go-keyring-base64:<b64>` (or, in old versions,
/// `go-keyring-encoded:<hex>`); other values are taken as they are.
pub fn decode_go_value(v: &str) -> String {
    use base64::Engine;
    if let Some(b) = v.strip_prefix("go-keyring-base64:") {
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b.trim()) {
            if let Ok(s) = String::from_utf8(bytes) {
                return s;
            }
        }
    }
    if let Some(h) = v.strip_prefix("go-keyring-encoded:") {
        let h = h.trim();
        if h.len() % 2 == 0 {
            let bytes: Option<Vec<u8>> = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                .collect();
            if let Some(s) = bytes.and_then(|b| String::from_utf8(b).ok()) {
                return s;
            }
        }
    }
    v.to_string()
}

pub fn set(account: &str, value: &str) -> Result<(), KrError> {
    let account = account.to_string();
    let value = value.to_string();
    call(move || entry(&account)?.set_password(&value))
}

/// Delete an entry; a missing entry is not an error.
pub fn delete(account: &str) -> Result<(), KrError> {
    let account = account.to_string();
    match call(move || entry(&account)?.delete_credential()) {
        Err(KrError::NotFound) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_encodings() {
        use super::decode_go_value as d;
        assert_eq!(d("go-keyring-base64:YWJjX18vL19fZGVm"), "abc__//__def");
        assert_eq!(d("go-keyring-encoded:616263"), "abc");
        assert_eq!(d("plain"), "plain");
    }
}
