//! One run at a time per destination: `cec sync` holds an exclusive `flock`
//! on a file of the state directory named after the server, the user and the
//! destination, so that a cron run that starts while the previous one is
//! still going stops at once (exit code 5) instead of racing it. The lock
//! dies with the process (kill -9 included): nothing stale to clean.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Held until dropped.
pub struct DestLock {
    _file: File,
}

/// The lock file of `key` (what identifies the destination).
fn lock_path(key: &str) -> Result<PathBuf> {
    let dir = super::journal::state_dir().ok_or_else(|| {
        Error::failure(
            "no state directory for the sync lock: set HOME, XDG_STATE_HOME or CEC_STATE_DIR",
        )
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let id = &cells_hash::sha256_hex(key.as_bytes())[..32];
    Ok(dir.join(format!("sync-{id}.lock")))
}

/// Take the lock of `key`, or fail with one line naming `shown` (exit 5).
pub fn acquire(key: &str, shown: &str) -> Result<DestLock> {
    let path = lock_path(key)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("cannot open", &path, e))?;
    // SAFETY: a valid open descriptor; flock has no memory effects.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(Error::io("cannot lock", &path, e));
        }
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        let pid = pid.trim();
        let who = if pid.chars().all(|c| c.is_ascii_digit()) && !pid.is_empty() {
            format!(" (process {pid})")
        } else {
            String::new()
        };
        return Err(Error::conflict(format!(
            "another cec sync to {shown} is running{who}; this run does nothing (exit code 5)"
        )));
    }
    // The holder's pid, for the message above.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(DestLock { _file: file })
}
