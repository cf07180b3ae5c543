//! Small local journals that make interrupted transfers resumable.
//!
//! They live in `$CEC_STATE_DIR` or `$XDG_STATE_HOME/cec/transfers` or
//! `~/.local/state/cec/transfers`, one JSON file per item, written atomically
//! (temp file + rename). Names are the SHA-256 of what identifies the item.
//!
//! - Run records: "this scp command (direction, server, source, target) was
//!   started and has not completed". A rerun of the same command finds it and
//!   continues in merge mode (files already identical at the target are
//!   skipped) instead of refusing because the target now exists.
//! - Upload journals: the multipart upload id of one local file → remote key,
//!   with the local file's size and mtime and the finished parts (checked
//!   against ListParts on resume).
//! - Download journals: the remote object's ETag and size that the partial
//!   file (a temporary name in the target folder) was started from.
//! - Signed bodies: "this account's server refuses unsigned S3 bodies over
//!   TLS" (see `s3::payload`), so that later runs sign from the start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cells_hash::sha256_hex;

/// The journal directory (created on demand).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CEC_STATE_DIR").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(d).join("cec").join("transfers"));
    }
    let home = std::env::var_os("HOME").filter(|s| !s.is_empty())?;
    Some(
        PathBuf::from(home)
            .join(".local")
            .join("state")
            .join("cec")
            .join("transfers"),
    )
}

fn path_for(kind: &str, id: &str) -> Option<PathBuf> {
    Some(state_dir()?.join(format!("{kind}-{}.json", &sha256_hex(id.as_bytes())[..32])))
}

fn load<T: for<'de> Deserialize<'de>>(p: &Path) -> Option<T> {
    let text = std::fs::read(p).ok()?;
    serde_json::from_slice(&text).ok()
}

fn save<T: Serialize>(p: &Path, v: &T) {
    let Some(dir) = p.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
    let Ok(bytes) = serde_json::to_vec(v) else {
        return;
    };
    // Best effort (no journal, no resume), but never a temporary file left (a full disk).
    if std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, p))
        .is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A journal entry stored under `id`.
pub struct Journal<T> {
    path: Option<PathBuf>,
    pub data: T,
}

impl<T: Serialize + for<'de> Deserialize<'de>> Journal<T> {
    /// Load the journal `kind`/`id`, if any.
    pub fn load(kind: &str, id: &str) -> Option<Journal<T>> {
        let path = path_for(kind, id)?;
        let data = load(&path)?;
        Some(Journal {
            path: Some(path),
            data,
        })
    }
    pub fn create(kind: &str, id: &str, data: T) -> Journal<T> {
        let j = Journal {
            path: path_for(kind, id),
            data,
        };
        j.save();
        j
    }
    pub fn save(&self) {
        if let Some(p) = &self.path {
            save(p, &self.data);
        }
    }
    pub fn remove(&self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A started scp command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The resolved destination of the source item (remote path or local path).
    pub dest: String,
    /// When the run started (Unix seconds); records older than a week are ignored.
    #[serde(default)]
    pub started: i64,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A run record still worth resuming from.
pub fn load_run(id: &str) -> Option<Journal<RunRecord>> {
    let j = Journal::<RunRecord>::load("run", id)?;
    if now() - j.data.started > 7 * 86_400 {
        j.remove();
        return None;
    }
    Some(j)
}

/// An account whose server refused unsigned S3 bodies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedPayloads {
    /// When it was seen (Unix seconds); after 30 days unsigned bodies are tried again.
    pub since: i64,
}

/// Identity of an account for [`SignedPayloads`]: server and user.
fn account_id(base: &str, user: &str) -> String {
    format!("{base}\n{user}")
}

/// Does the account's server refuse unsigned bodies (seen in the last 30 days)?
pub fn signed_payloads(base: &str, user: &str) -> bool {
    let Some(j) = Journal::<SignedPayloads>::load("signed", &account_id(base, user)) else {
        return false;
    };
    if now() - j.data.since > 30 * 86_400 {
        j.remove();
        return false;
    }
    true
}

/// Remember that the account's server refuses unsigned bodies.
pub fn remember_signed_payloads(base: &str, user: &str) {
    Journal::create(
        "signed",
        &account_id(base, user),
        SignedPayloads { since: now() },
    );
}

/// One multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadJournal {
    pub key: String,
    pub upload_id: String,
    pub size: u64,
    pub mtime_ns: i128,
    pub part_size: u64,
    /// Part number → finished part.
    pub parts: BTreeMap<u32, DonePart>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DonePart {
    pub etag: String,
    pub size: u64,
    /// Hex MD5 digests of the part's 10 MiB blocks (for the final hash check).
    pub blocks: Vec<String>,
}

/// A partial download (data in `<target dir>/.<name>.cec-partial`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DownloadJournal {
    pub key: String,
    pub etag: String,
    pub size: u64,
    /// Segmented (parallel) download: the segment size, 0 for a sequential one.
    #[serde(default)]
    pub segment: u64,
    /// Segmented download: finished segment → hex MD5s of its 10 MiB blocks.
    #[serde(default)]
    pub done: BTreeMap<u32, Vec<String>>,
}

/// Identity of a run: direction, server, user and both arguments as resolved.
pub fn run_id(direction: &str, base: &str, user: &str, source: &str, target: &str) -> String {
    format!("{direction}\n{base}\n{user}\n{source}\n{target}")
}

/// Identity of an upload: server, key and local file.
pub fn upload_id(base: &str, key: &str, local: &Path) -> String {
    format!("{base}\n{key}\n{}", local.display())
}

/// Identity of a download: the temporary file it writes.
pub fn download_id(base: &str, key: &str, temp: &Path) -> String {
    format!("{base}\n{key}\n{}", temp.display())
}

/// Modification time of a file in nanoseconds since the epoch.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128
}
