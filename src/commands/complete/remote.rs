//! Remote path candidates for shell completion: the children of the folder the
//! partial word is in (the workspaces at the root), as `cec ls --raw` prints them
//! (full paths, folders ending with `/`).
//!
//! Made to answer on TAB: the connection never asks anything (`GlobalArgs::quiet`:
//! keyring read without unlocking, no OAuth refresh, one attempt per request, time-outs
//! of [`TIMEOUT`]), and listings are kept [`TTL`] in a small cache file
//! (`$XDG_RUNTIME_DIR/cec/completion-cache.json`, else under the state directory; the
//! folder 0700, the file 0600, written atomically). Cache keys are hashes of the
//! server, the account and the folder: no secret, no account name in the file.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::tree::{self, ListVia};
use crate::api::Client;
use crate::auth::{self, GlobalArgs};
use crate::error::Result;

/// How long a listing is reused.
pub const TTL: Duration = Duration::from_secs(5);
/// Every network time-out of a completion request.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// Listings kept in the cache file.
const MAX_ENTRIES: usize = 16;
/// A folder with more children than this is listed but not cached.
const MAX_ITEMS: usize = 20_000;
/// A bigger cache file is ignored (and replaced).
const MAX_FILE: u64 = 8 << 20;

/// The candidates for the partial remote path `word` (without its `cells//` prefix).
pub fn candidates(g: &GlobalArgs, word: &str) -> Result<Vec<String>> {
    // `/common-files/x` is `common-files/x` (listings have no leading slash).
    let (lead, word) = match word.strip_prefix('/') {
        Some(w) => ("/", w),
        None => ("", word),
    };
    let items = listing(g, &folder_of(word))?;
    Ok(items
        .into_iter()
        .map(|(path, dir)| if dir { format!("{path}/") } else { path })
        .filter(|line| line.starts_with(word))
        .map(|line| format!("{lead}{line}"))
        .collect())
}

/// The folder to list for `word` (the reference's rule): the word itself when it
/// ends with `/` (and is longer than 2 characters), else its parent; `""` is the root.
pub fn folder_of(word: &str) -> String {
    let dir = if word.ends_with('/') && word.len() > 2 {
        word
    } else {
        tree::parent_path(word.trim_end_matches('/'))
    };
    tree::clean_path(dir)
}

/// The children of `dir` as (full path, is a folder), from the cache when fresh.
fn listing(g: &GlobalArgs, dir: &str) -> Result<Vec<(String, bool)>> {
    let client = auth::connect(g)?;
    let key = key(&client, dir)?;
    let file = cache_file();
    if let Some(items) = file.as_ref().and_then(|f| Cache::read(f).get(&key)) {
        return Ok(items);
    }
    let nodes = if dir.is_empty() {
        tree::list_workspaces(&client)?
    } else {
        tree::list_children(&client, dir, ListVia::TreeStats)?
    };
    let items: Vec<(String, bool)> = nodes.iter().map(|n| (n.path.clone(), n.is_dir())).collect();
    if let Some(f) = file.filter(|_| items.len() <= MAX_ITEMS) {
        let mut c = Cache::read(&f);
        c.put(key, items.clone());
        c.write(&f);
    }
    Ok(items)
}

/// Hash of server, auth type, login (or, for a bare token, the token's hash) and folder.
fn key(client: &Client, dir: &str) -> Result<String> {
    let who = if client.user.is_empty() {
        hex(&Sha256::digest(client.bearer()?.as_bytes()))
    } else {
        client.user.clone()
    };
    let id = [client.base_url(), &client.auth_type, &who, dir].join("\0");
    Ok(hex(&Sha256::digest(id.as_bytes())))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `$XDG_RUNTIME_DIR/cec/…` (per-user, in memory), else `${XDG_STATE_HOME:-~/.local/state}/cec/…`.
pub fn cache_file() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = match var("XDG_RUNTIME_DIR").filter(|d| d.is_dir()) {
        Some(d) => d,
        None => var("XDG_STATE_HOME").or_else(|| var("HOME").map(|h| h.join(".local/state")))?,
    };
    Some(base.join("cec").join("completion-cache.json"))
}

#[derive(Default, Serialize, Deserialize)]
struct Cache {
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    /// Unix milliseconds.
    at: u64,
    items: Vec<(String, bool)>,
}

impl Cache {
    /// The cache file, or an empty cache when it is missing, too big, not ours or broken.
    fn read(path: &PathBuf) -> Cache {
        let ours = fs::metadata(path)
            // SAFETY: geteuid has no preconditions.
            .is_ok_and(|m| {
                m.is_file() && m.len() <= MAX_FILE && m.uid() == unsafe { libc::geteuid() }
            });
        if !ours {
            return Cache::default();
        }
        fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn get(&self, key: &str) -> Option<Vec<(String, bool)>> {
        let fresh = now_ms().saturating_sub(TTL.as_millis() as u64);
        self.entries
            .iter()
            .find(|e| e.key == key && e.at >= fresh && e.at <= now_ms() + 1000)
            .map(|e| e.items.clone())
    }

    fn put(&mut self, key: String, items: Vec<(String, bool)>) {
        let fresh = now_ms().saturating_sub(TTL.as_millis() as u64);
        self.entries.retain(|e| e.key != key && e.at >= fresh);
        self.entries.push(Entry {
            key,
            at: now_ms(),
            items,
        });
        let extra = self.entries.len().saturating_sub(MAX_ENTRIES);
        self.entries.drain(..extra);
    }

    /// Atomic replace (a temporary file renamed over it); failures only cost the cache.
    fn write(&self, path: &PathBuf) {
        let Some(dir) = path.parent() else { return };
        if fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .is_err()
        {
            return;
        }
        let mut rnd = [0u8; 6];
        let _ = getrandom::getrandom(&mut rnd);
        let tmp = dir.join(format!(
            ".completion-cache.{}.{}.tmp",
            std::process::id(),
            hex(&rnd)
        ));
        let written = (|| -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&serde_json::to_vec(self).map_err(std::io::Error::other)?)?;
            fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_to_list() {
        assert_eq!(folder_of(""), "");
        assert_eq!(folder_of("com"), "");
        assert_eq!(folder_of("common-files/"), "common-files");
        assert_eq!(folder_of("common-files/d"), "common-files");
        assert_eq!(folder_of("common-files/a/b/"), "common-files/a/b");
        assert_eq!(folder_of("a/"), "");
    }

    #[test]
    fn cache_entries_expire_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/completion-cache.json");
        let mut c = Cache::read(&f);
        for i in 0..(MAX_ENTRIES + 5) {
            c.put(format!("k{i}"), vec![(format!("p{i}"), i % 2 == 0)]);
        }
        c.write(&f);
        let mode = |p: &std::path::Path| fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&f), 0o600);
        assert_eq!(mode(f.parent().unwrap()), 0o700);
        let c = Cache::read(&f);
        assert_eq!(c.entries.len(), MAX_ENTRIES);
        assert_eq!(c.get("k20"), Some(vec![("p20".to_string(), true)]));
        assert_eq!(c.get("k0"), None);
        // Old entries are not used.
        let mut c = c;
        c.entries[0].at = now_ms() - TTL.as_millis() as u64 - 1;
        let k = c.entries[0].key.clone();
        assert_eq!(c.get(&k), None);
        // A broken file is an empty cache.
        fs::write(&f, b"{not json").unwrap();
        assert!(Cache::read(&f).entries.is_empty());
    }
}
