//! Checking what arrived: an uploaded file against what the server indexed
//! (size and Cells hash), a single PUT against a plain-MD5 ETag, a download
//! against the listed hash (or a plain-MD5 ETag).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::Ctx;
use crate::api::tree::{self, ListVia, Node};
use crate::error::{Error, Result};
use crate::s3;

/// An uploaded file, to be seen in the server's index.
pub struct Sent {
    /// Display name.
    pub name: String,
    pub remote: String,
    pub size: u64,
    /// Cells hash computed while sending.
    pub hash: String,
}

/// Poll the server until every uploaded file is indexed with the expected
/// size and (unless `--skip-md5`) content hash. A hash or size that still
/// differs at the deadline is a failure; a node still missing is a warning.
pub fn wait_indexed(ctx: &Ctx<'_>, items: Vec<Sent>) {
    let deadline = Instant::now() + ctx.opts.index_timeout;
    // Each file with the last problem seen (None: not indexed yet).
    let mut pending: Vec<(Sent, Option<String>)> = items.into_iter().map(|s| (s, None)).collect();
    let mut delay = Duration::from_millis(100);
    loop {
        let found = find_indexed(ctx, &pending);
        pending = pending
            .into_iter()
            .enumerate()
            .filter_map(|(i, (s, _))| match found.get(&i) {
                None => Some((s, None)),
                Some(n) => problem(ctx, &s, n).map(|p| (s, Some(p))),
            })
            .collect();
        if pending.is_empty() || Instant::now() >= deadline || ctx.stopped() {
            break;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    for (s, problem) in pending {
        match problem {
            Some(msg) => ctx.fail(&s.name, Error::failure(format!("{}: {msg}", s.remote))),
            None => ctx.warn(&format!(
                "cells://{} is not visible in the server index yet (waited {}s)",
                s.remote,
                ctx.opts.index_timeout.as_secs()
            )),
        }
    }
}

/// The indexed nodes of the pending files, by index: the files of folders
/// with few of them asked for together (a hundred per request), else one
/// listing of the folder.
fn find_indexed(ctx: &Ctx<'_>, pending: &[(Sent, Option<String>)]) -> HashMap<usize, Node> {
    let mut by_parent: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (s, _)) in pending.iter().enumerate() {
        by_parent
            .entry(tree::parent_path(&s.remote))
            .or_default()
            .push(i);
    }
    let (few, groups): (Vec<_>, Vec<_>) = by_parent
        .into_iter()
        .partition(|(_, idx): &(&str, Vec<usize>)| idx.len() <= 2);
    let few: Vec<usize> = few.into_iter().flat_map(|(_, idx)| idx).collect();
    // The folders are looked at a few at a time (many small uploads: many folders).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found = std::sync::Mutex::new(stat_in_bulk(ctx, pending, &few));
    std::thread::scope(|s| {
        for _ in 0..LOOKUPS.min(groups.len()) {
            s.spawn(|| loop {
                let g = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((parent, idx)) = groups.get(g) else {
                    return;
                };
                let got = find_in(ctx, pending, parent, idx);
                found.lock().expect("found lock").extend(got);
            });
        }
    });
    found.into_inner().expect("found lock")
}

/// Folders looked at at once after uploads.
const LOOKUPS: usize = 4;
/// Paths asked for in one request.
const BULK: usize = 100;

/// The indexed nodes of the pending files `idx`, [`BULK`] per request.
fn stat_in_bulk(
    ctx: &Ctx<'_>,
    pending: &[(Sent, Option<String>)],
    idx: &[usize],
) -> HashMap<usize, Node> {
    let mut found = HashMap::new();
    for chunk in idx.chunks(BULK) {
        let paths: Vec<String> = chunk
            .iter()
            .map(|&i| tree::clean_path(&pending[i].0.remote))
            .collect();
        let Ok(nodes) = tree::stat_many(ctx.client, &paths) else {
            continue;
        };
        let by_path: HashMap<&str, &Node> = nodes.iter().map(|n| (n.path.as_str(), n)).collect();
        for (&i, p) in chunk.iter().zip(&paths) {
            if let Some(n) = by_path.get(p.as_str()) {
                found.insert(i, (*n).clone());
            }
        }
    }
    found
}

/// The indexed nodes of the pending files `idx` of one folder, from its listing.
fn find_in(
    ctx: &Ctx<'_>,
    pending: &[(Sent, Option<String>)],
    parent: &str,
    idx: &[usize],
) -> Vec<(usize, Node)> {
    let stat = |i: usize| tree::stat(ctx.client, &pending[i].0.remote).ok().flatten();
    let Ok(kids) = tree::list_children(ctx.client, parent, ListVia::TreeStats) else {
        return Vec::new();
    };
    let by_path: HashMap<String, Node> = kids.into_iter().map(|n| (n.path.clone(), n)).collect();
    let mut found = Vec::new();
    for &i in idx {
        let remote = &pending[i].0.remote;
        if let Some(n) = by_path.get(&tree::clean_path(remote)) {
            found.push((i, n.clone()));
        } else if tree::base_name(remote).starts_with('.') {
            // Listings hide dot-files: ask for them one by one.
            if let Some(n) = stat(i) {
                found.push((i, n));
            }
        }
    }
    found
}

/// What is wrong with an indexed upload, if anything.
fn problem(ctx: &Ctx<'_>, s: &Sent, n: &Node) -> Option<String> {
    let size_ok = n.size.unwrap_or(0).max(0) as u64 == s.size;
    let server_hash = n.hash();
    let hash_ok = !ctx.opts.verify || server_hash.as_deref().is_none_or(|h| h == s.hash);
    if !size_ok {
        Some(format!(
            "size mismatch after upload (server has {} bytes, local file {})",
            n.size.unwrap_or(0),
            s.size
        ))
    } else if !hash_ok {
        Some(format!(
            "checksum mismatch after upload (server {}, local {})",
            server_hash.unwrap_or_default(),
            s.hash
        ))
    } else {
        None
    }
}

/// A single PUT's ETag is the MD5 of the body on MinIO-like servers: check it
/// when it looks like one and the body is one hash block (its MD5 is known).
pub fn check_put_etag(key: &str, r: &s3::PutResult) -> Result<()> {
    let etag = r.etag.trim_matches('"');
    if r.block_md5s.len() == 1 && is_md5_hex(etag) {
        let ours = cells_hash::hex(&r.block_md5s[0]);
        if !etag.eq_ignore_ascii_case(&ours) {
            return Err(Error::failure(format!(
                "{key}: checksum mismatch after upload (server ETag {etag}, local MD5 {ours})"
            )));
        }
    }
    Ok(())
}

/// Check a downloaded object's Cells hash `computed`: against the listed hash
/// (asked again when the object's size changed since it was listed), else a
/// plain-MD5 ETag of a one-block object. `Err`: the mismatch, for the message.
pub fn check_download(
    ctx: &Ctx<'_>,
    key: &str,
    listed: (Option<&str>, u64),
    info: &s3::ObjectInfo,
    computed: &str,
) -> std::result::Result<(), String> {
    let expected = match listed.0 {
        Some(h) if listed.1 == info.size => Some(h.to_string()),
        Some(_) => tree::stat(ctx.client, key)
            .ok()
            .flatten()
            .and_then(|n| n.hash()),
        None => None,
    };
    match expected {
        Some(h) if h != computed => Err(format!(
            "checksum mismatch (server {h}, received {computed})"
        )),
        Some(_) => Ok(()),
        None => check_md5_etag(info, computed),
    }
}

/// A plain-MD5 ETag of a one-block object: MD5(content) is the block digest,
/// and the Cells hash is MD5 of that digest: compare through it.
fn check_md5_etag(info: &s3::ObjectInfo, computed: &str) -> std::result::Result<(), String> {
    let etag = info.etag_unquoted();
    if info.size > cells_hash::BLOCK_SIZE || !is_md5_hex(etag) {
        return Ok(());
    }
    let want = unhex16(&etag.to_ascii_lowercase()).map(|b| cells_hash::of_block_md5s(&[b]));
    if want.as_deref() == Some(computed) {
        Ok(())
    } else {
        Err(format!("checksum mismatch (ETag {etag})"))
    }
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 16 bytes from 32 hex digits.
pub fn unhex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The Cells hash of a file from the hex MD5s of its 10 MiB blocks (journals).
pub fn hash_of_blocks<'a>(hexes: impl Iterator<Item = &'a String>) -> Option<String> {
    let blocks: Option<Vec<[u8; 16]>> = hexes.map(|h| unhex16(h)).collect();
    blocks.map(|b| cells_hash::of_block_md5s(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhex() {
        let b = unhex16("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(b[15], 15);
        assert!(unhex16("zz").is_none());
        assert!(hash_of_blocks(["zz".to_string()].iter()).is_none());
    }

    #[test]
    fn md5_etags_of_one_block_objects() {
        let content = b"hello";
        let md5 = cells_hash::md5_hex(content);
        let mut block = [0u8; 16];
        block.copy_from_slice(&unhex16(&md5).unwrap());
        let cells = cells_hash::of_block_md5s(&[block]);
        let info = s3::ObjectInfo {
            size: 5,
            etag: format!("\"{md5}\""),
        };
        assert!(check_md5_etag(&info, &cells).is_ok());
        assert!(check_md5_etag(&info, "other").is_err());
    }
}
