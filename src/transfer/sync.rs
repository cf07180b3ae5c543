//! `cec sync`: make a destination folder hold what a source folder holds
//! (docs/sync.md). Walk both trees (the destination only where it is needed),
//! decide per item ([`plan`]), then replace items of the other type, create
//! folders, send files on the transfer pool (the same per-file code as scp,
//! so interrupted files resume from their journals) and, with `--delete`,
//! remove what the source no longer has — only when nothing failed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::filter::Filter;
use super::plan::{self, join_local, join_rel, parent_rel, Entry};
use super::verify::{self, Sent};
use super::{display_rel, download, upload, Ctx, FileDone, Report};
use crate::api::tree::{self, Node};
use crate::error::{Error, Result};

/// How two files are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Sizes and times (see [`differs`]).
    SizeTime,
    /// Sizes and content hashes.
    Checksum,
    SizeOnly,
}

/// The rules of one run.
pub struct Rules {
    pub compare: Compare,
    pub delete: bool,
    pub filter: Filter,
    /// Files modified before this (Unix seconds) are left out, on both sides.
    pub min_mtime: Option<i64>,
    /// Sending to the server (else to the local disk).
    pub upload: bool,
}

impl Rules {
    /// `--max-age`, as the oldest modification time kept.
    pub fn min_mtime_for(age: Option<Duration>) -> Option<i64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        age.map(|a| now.saturating_sub(a.as_secs()) as i64)
    }

    /// Whether a file takes part in the run (filters and age).
    fn keeps_file(&self, e: &Entry) -> bool {
        self.filter.file(&e.rel) && self.min_mtime.is_none_or(|m| e.mtime >= m)
    }

    /// Whether a destination folder missing from the source can go as a whole,
    /// unlisted: no file rule or age could keep something inside it.
    pub fn whole_folders(&self) -> bool {
        self.filter.takes_all_files() && self.min_mtime.is_none()
    }

    /// The destination folders to list: those the source has too (to compare),
    /// and with `--delete` those whose content must be looked at one by one.
    pub fn descend_dest<'a>(
        &'a self,
        source_has: &'a (dyn Fn(&str) -> bool + Sync),
    ) -> impl Fn(&str) -> bool + 'a {
        move |rel: &str| {
            self.filter.folder(rel) && ((self.delete && !self.whole_folders()) || source_has(rel))
        }
    }
}

/// Why an item is acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// Not at the destination.
    New,
    /// The sizes differ.
    Size,
    /// The local file is newer than the server's copy (uploads).
    Newer,
    /// The times differ (downloads).
    Time,
    /// The content hashes differ.
    Hash,
    /// The destination has an item of the other type (or a link).
    Type,
    /// The source no longer has it (`--delete`).
    Gone,
}

/// What to do.
#[derive(Debug, Default)]
pub struct SyncPlan {
    /// Destination items of the other type (or links), removed first.
    pub replace: Vec<Entry>,
    /// Folders to create, parents first.
    pub create: Vec<String>,
    /// Source files to send, with why.
    pub files: Vec<(Entry, Reason)>,
    /// Destination items to delete (the top-most of each deleted subtree).
    pub delete: Vec<Entry>,
    /// Files already the same on both sides.
    pub same: usize,
    /// Source files left out by the filters or the age.
    pub excluded: usize,
}

/// Does `src` need sending over `dst` (two files)? `local_hash` gives the hash
/// of the local side of the pair (checksum mode, only when the sizes are equal).
///
/// Times (whole seconds): the server sets a file's time itself when it
/// receives it (it keeps no client time), so an upload is needed when the
/// local file is newer than the server's copy; downloads set the local
/// file's time to the server's, so a download is needed when they differ.
fn differs(
    rules: &Rules,
    src: &Entry,
    dst: &Entry,
    local_hash: &dyn Fn(&Entry) -> Option<String>,
) -> Option<Reason> {
    if src.size != dst.size {
        return Some(Reason::Size);
    }
    match rules.compare {
        Compare::SizeOnly => None,
        Compare::SizeTime if rules.upload => (src.mtime > dst.mtime).then_some(Reason::Newer),
        Compare::SizeTime => (src.mtime != dst.mtime).then_some(Reason::Time),
        Compare::Checksum => {
            let (local, remote) = if rules.upload { (src, dst) } else { (dst, src) };
            let server = remote.node.as_ref().and_then(Node::hash);
            match (server, local_hash(local)) {
                (Some(a), Some(b)) if a == b => None,
                _ => Some(Reason::Hash),
            }
        }
    }
}

/// Compare the source tree (walked with the folder rules) with what was
/// listed at the destination (relative paths).
pub fn plan(
    rules: &Rules,
    source: &[Entry],
    dest: &HashMap<String, Entry>,
    local_hash: &dyn Fn(&Entry) -> Option<String>,
) -> SyncPlan {
    let mut p = SyncPlan::default();
    let kept: Vec<&Entry> = source
        .iter()
        .filter(|e| !e.rel.is_empty())
        .filter(|e| {
            let keep = if e.is_dir {
                rules.filter.folder(&e.rel)
            } else {
                rules.keeps_file(e)
            };
            if !keep && !e.is_dir {
                p.excluded += 1;
            }
            keep
        })
        .collect();
    let needed = needed_folders(rules, &kept);
    // Folders created or replaced: nothing below them exists at the destination.
    let mut fresh: HashSet<&str> = HashSet::new();
    for e in kept {
        if e.is_dir && !needed.contains(e.rel.as_str()) {
            continue;
        }
        let parent = parent_rel(&e.rel);
        let existing = if fresh.contains(parent) {
            None
        } else {
            dest.get(&e.rel)
        };
        let other_type = existing.filter(|d| d.is_link || d.is_dir != e.is_dir);
        if let Some(d) = other_type {
            p.replace.push(d.clone());
        }
        if e.is_dir {
            if existing.is_none() || other_type.is_some() {
                p.create.push(e.rel.clone());
                fresh.insert(&e.rel);
            }
            continue;
        }
        let why = match existing {
            None => Some(Reason::New),
            Some(_) if other_type.is_some() => Some(Reason::Type),
            Some(d) => differs(rules, e, d, local_hash),
        };
        match why {
            Some(r) => p.files.push((e.clone(), r)),
            None => p.same += 1,
        }
    }
    if rules.delete {
        let all: HashSet<&str> = source.iter().map(|e| e.rel.as_str()).collect();
        p.delete = deletions(rules, &all, dest);
    }
    p
}

/// The source folders that go to the destination: all of those walked, or,
/// when some `--include` selects files, those that hold a file that is sent
/// or checked (no empty folders from a selection).
fn needed_folders<'a>(rules: &Rules, kept: &[&'a Entry]) -> HashSet<&'a str> {
    if rules.filter.keeps_empty_folders() {
        return kept
            .iter()
            .filter(|e| e.is_dir)
            .map(|e| e.rel.as_str())
            .collect();
    }
    let mut out = HashSet::new();
    for e in kept.iter().filter(|e| !e.is_dir) {
        let mut p = parent_rel(&e.rel);
        while !p.is_empty() && out.insert(p) {
            p = parent_rel(p);
        }
    }
    out
}

/// The destination items the source does not have (`all`: every item the
/// source walk met, filtered or not) and that the rules do not leave out; a
/// folder goes as a whole when all it holds goes, else item by item.
fn deletions(rules: &Rules, all: &HashSet<&str>, dest: &HashMap<String, Entry>) -> Vec<Entry> {
    let mut rels: Vec<&String> = dest.keys().filter(|r| !r.is_empty()).collect();
    // Descending order puts every item before its folder.
    rels.sort_unstable_by(|a, b| b.cmp(a));
    let mut blocked: HashSet<&str> = HashSet::new();
    let mut gone: HashSet<&str> = HashSet::new();
    for rel in rels {
        let d = &dest[rel];
        let kept = if d.is_dir {
            rules.filter.folder(rel)
        } else if d.is_link {
            // A link has no time of its own here: only the name rules apply.
            rules.filter.file(rel)
        } else {
            rules.keeps_file(d)
        };
        let candidate = !all.contains(rel.as_str()) && kept;
        if candidate && !(d.is_dir && blocked.contains(rel.as_str())) {
            gone.insert(rel);
        } else {
            blocked.insert(parent_rel(rel));
        }
    }
    let mut out: Vec<Entry> = gone
        .iter()
        .filter(|r| !gone.contains(parent_rel(r)))
        .map(|r| dest[*r].clone())
        .collect();
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// `--checksum`: the Cells hashes of the local files that have a file of the
/// same size on the other side (the only ones compared by hash), computed on
/// `threads` threads. By relative path.
pub fn local_hashes(
    rules: &Rules,
    source: &[Entry],
    dest: &HashMap<String, Entry>,
    threads: usize,
) -> HashMap<String, String> {
    if rules.compare != Compare::Checksum {
        return HashMap::new();
    }
    let todo: Vec<(&str, &Path)> = source
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| {
            let d = dest
                .get(&e.rel)
                .filter(|d| !d.is_dir && !d.is_link && d.size == e.size)?;
            let local = if rules.upload { e } else { d };
            Some((e.rel.as_str(), local.local.as_deref()?))
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out = std::sync::Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, todo.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((rel, path)) = todo.get(i) else {
                    return;
                };
                if crate::output::interrupt::interrupted() {
                    return;
                }
                if let Ok(h) = cells_hash::hash_file(path) {
                    out.lock().expect("hashes lock").insert(rel.to_string(), h);
                }
            });
        }
    });
    out.into_inner().expect("hashes lock")
}

/// One action, for `--dry-run`/`--json` output.
#[derive(Serialize)]
pub struct Action<'a> {
    pub action: &'a str,
    pub path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub reason: Reason,
}

/// Every action of the plan, in the order they run.
pub fn actions<'a>(p: &'a SyncPlan, upload: bool) -> Vec<Action<'a>> {
    let send = if upload { "upload" } else { "download" };
    let mut out = Vec::new();
    for e in &p.replace {
        out.push(Action {
            action: "remove",
            path: &e.rel,
            size: None,
            reason: Reason::Type,
        });
    }
    for r in &p.create {
        out.push(Action {
            action: "mkdir",
            path: r,
            size: None,
            reason: Reason::New,
        });
    }
    for (e, why) in &p.files {
        out.push(Action {
            action: send,
            path: &e.rel,
            size: Some(e.size),
            reason: *why,
        });
    }
    for e in &p.delete {
        out.push(Action {
            action: "delete",
            path: &e.rel,
            size: None,
            reason: Reason::Gone,
        });
    }
    out
}

/// What a run did, beyond the transfer report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub report: Report,
    pub deleted: usize,
}

/// Run an upload plan: `src` local root, `dest` remote root.
pub fn run_upload(ctx: &Ctx<'_>, p: &SyncPlan, dest: &str) -> Result<Outcome> {
    let root = tree::base_name(dest).to_string();
    let mut report = start(ctx, p);
    report.deleted = upload::remove_other_types(ctx, dest, &p.replace)?;
    report.folders_created = upload::create_folders(ctx, dest, &p.create)?;
    let results = ctx.run_files(&p.files, &|(src, _)| {
        let remote = join_rel(dest, &src.rel);
        let name = display_rel(&root, &src.rel);
        let r = upload::upload_file(ctx, src, &remote, None, &name);
        (name.clone(), r.map(|d| (name, remote, d)))
    });
    let mut sent = Vec::new();
    for (name, remote, done) in results.into_iter().flatten().flatten() {
        if let FileDone::Sent { bytes, hash } = done {
            report.transferred += 1;
            report.bytes += bytes;
            sent.push(Sent {
                name,
                remote,
                size: bytes,
                hash,
            });
        }
    }
    if !sent.is_empty() && !ctx.stopped() {
        verify::wait_indexed(ctx, sent);
    }
    let mut out = Outcome {
        report: super::finish(ctx, report),
        ..Outcome::default()
    };
    if deletes_allowed(ctx, &out, p) {
        out.deleted = delete_remote(ctx, dest, &p.delete)?;
    }
    Ok(out)
}

/// Run a download plan: `dest` local root (exists).
pub fn run_download(ctx: &Ctx<'_>, p: &SyncPlan, dest: &Path) -> Result<Outcome> {
    let root = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let top = std::fs::canonicalize(dest).map_err(|e| Error::io("cannot open", dest, e))?;
    let mut report = start(ctx, p);
    for e in &p.replace {
        remove_local(&top, &join_local(&top, &e.rel))?;
        report.deleted += 1;
    }
    for rel in &p.create {
        let d = join_local(&top, rel);
        download::ensure_inside(&top, &d)?;
        std::fs::create_dir(&d).map_err(|e| Error::io("cannot create", &d, e))?;
        report.folders_created += 1;
    }
    let inside = download::Inside::new(top.clone());
    let results = ctx.run_files(&p.files, &|(src, _)| {
        let target = join_local(&top, &src.rel);
        let name = display_rel(&root, &src.rel);
        let r = inside
            .check(&target)
            .and_then(|()| download::download_file(ctx, src, &target, None, &name));
        (name, r)
    });
    for done in results.into_iter().flatten().flatten() {
        if let FileDone::Sent { bytes, .. } = done {
            report.transferred += 1;
            report.bytes += bytes;
        }
    }
    let mut out = Outcome {
        report: super::finish(ctx, report),
        ..Outcome::default()
    };
    if deletes_allowed(ctx, &out, p) {
        for e in &p.delete {
            let path = join_local(&top, &e.rel);
            match remove_local(&top, &path) {
                Ok(()) => out.deleted += 1,
                Err(err) => out.report.failures.push((display_rel(&root, &e.rel), err)),
            }
        }
    }
    Ok(out)
}

fn start(ctx: &Ctx<'_>, p: &SyncPlan) -> Report {
    let bytes = p
        .files
        .iter()
        .fold(0u64, |t, (e, _)| t.saturating_add(e.size));
    ctx.progress.set_totals(p.files.len(), bytes);
    Report {
        files: p.files.len(),
        skipped: p.same,
        ..Report::default()
    }
}

/// Deletions run only after a clean transfer (like rclone: a failed or
/// interrupted run must not delete on the strength of a partial view).
fn deletes_allowed(ctx: &Ctx<'_>, out: &Outcome, p: &SyncPlan) -> bool {
    if p.delete.is_empty() {
        return false;
    }
    if out.report.failures.is_empty() && !out.report.interrupted && !ctx.stopped() {
        return true;
    }
    ctx.warn(&format!(
        "not deleting {} item{} because some transfers failed",
        p.delete.len(),
        if p.delete.len() == 1 { "" } else { "s" }
    ));
    false
}

/// Move the remote items to the recycle bin and wait for the server's jobs.
fn delete_remote(ctx: &Ctx<'_>, dest: &str, items: &[Entry]) -> Result<usize> {
    let paths: Vec<String> = items.iter().map(|e| join_rel(dest, &e.rel)).collect();
    for p in &paths {
        ctx.info(&format!("Deleting cells://{p}"));
    }
    let context = "could not delete what the source no longer has";
    for batch in paths.chunks(500) {
        let jobs = tree::delete(ctx.client, batch, false).map_err(|e| e.context(context))?;
        for r in crate::api::jobs::wait_all(ctx.client, &jobs, Duration::from_secs(300)) {
            r.map_err(|e| e.context(context))?;
        }
    }
    Ok(paths.len())
}

/// Remove one local item inside `top` (canonical): a link is removed itself,
/// never followed; a folder with all it holds. Its folder, links resolved,
/// must lie inside `top`.
fn remove_local(top: &Path, path: &Path) -> Result<()> {
    if path == top || !path.starts_with(top) {
        return Err(Error::failure(format!(
            "refused to delete {}: not inside {}",
            path.display(),
            top.display()
        )));
    }
    download::ensure_inside(top, path)?;
    let r = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    r.map_err(|e| Error::io("cannot delete", path, e))
}

/// The local tree under `root` walked with the folder rules.
pub fn walk_local(
    ctx: &Ctx<'_>,
    root: &Path,
    rules: &Rules,
    links: plan::Links,
) -> Result<Vec<Entry>> {
    let mut warnings = Vec::new();
    let descend = |rel: &str| rules.filter.folder(rel);
    let all = plan::walk_local(root, links, &descend, &mut |w| warnings.push(w))?;
    for w in warnings {
        ctx.warn(&w);
    }
    Ok(all
        .into_iter()
        .filter(|e| e.is_dir || e.is_link || walked_parent(rules, &e.rel))
        .collect())
}

/// A file's folders were all walked (the walk lists an excluded folder itself).
fn walked_parent(rules: &Rules, rel: &str) -> bool {
    let p = parent_rel(rel);
    p.is_empty() || rules.filter.folder(p)
}

/// A map of entries by relative path.
pub fn by_rel(entries: Vec<Entry>) -> HashMap<String, Entry> {
    entries.into_iter().map(|e| (e.rel.clone(), e)).collect()
}

/// The summary line (always printed, on stderr).
pub fn summary(out: &Outcome, upload: bool) -> String {
    let r = &out.report;
    let mut s = format!(
        "Sync: {} {} ({}), {} unchanged",
        r.transferred,
        if upload { "uploaded" } else { "downloaded" },
        crate::output::human_size(r.bytes),
        r.skipped
    );
    if r.folders_created > 0 {
        s.push_str(&format!(", {} folders created", r.folders_created));
    }
    s.push_str(&format!(", {} deleted", out.deleted + r.deleted));
    s.push_str(&format!(
        ", {} failed in {}",
        r.failures.len(),
        super::progress::fmt_duration(r.duration)
    ));
    if r.interrupted {
        s.push_str("; interrupted (run the same command again to resume)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(rel: &str, dir: bool, size: u64, mtime: i64) -> Entry {
        Entry {
            rel: rel.into(),
            is_dir: dir,
            is_link: false,
            size,
            mtime,
            local: None,
            node: None,
        }
    }

    fn rules(upload: bool, delete: bool) -> Rules {
        Rules {
            compare: Compare::SizeTime,
            delete,
            filter: Filter::default(),
            min_mtime: None,
            upload,
        }
    }

    fn rels(v: &[Entry]) -> Vec<&str> {
        v.iter().map(|e| e.rel.as_str()).collect()
    }

    #[test]
    fn size_and_time_rules() {
        let src = vec![
            e("", true, 0, 0),
            e("same", false, 3, 100),
            e("older", false, 3, 90),
            e("newer", false, 3, 200),
            e("size", false, 4, 100),
            e("new", false, 1, 100),
        ];
        let dest = by_rel(vec![
            e("", true, 0, 0),
            e("same", false, 3, 100),
            e("older", false, 3, 100),
            e("newer", false, 3, 100),
            e("size", false, 3, 100),
            e("extra", false, 3, 100),
        ]);
        let up = plan(&rules(true, true), &src, &dest, &|_| None);
        let sent: Vec<_> = up.files.iter().map(|(e, r)| (e.rel.as_str(), *r)).collect();
        assert_eq!(
            sent,
            vec![
                ("newer", Reason::Newer),
                ("size", Reason::Size),
                ("new", Reason::New)
            ]
        );
        assert_eq!(up.same, 2);
        assert_eq!(rels(&up.delete), vec!["extra"]);
        let down = plan(&rules(false, false), &src, &dest, &|_| None);
        let sent: Vec<_> = down
            .files
            .iter()
            .map(|(e, r)| (e.rel.as_str(), *r))
            .collect();
        assert_eq!(
            sent,
            vec![
                ("older", Reason::Time),
                ("newer", Reason::Time),
                ("size", Reason::Size),
                ("new", Reason::New)
            ]
        );
        assert!(down.delete.is_empty());
    }

    #[test]
    fn deletions_go_by_whole_folders_unless_something_stays() {
        let src = vec![e("", true, 0, 0), e("keep", true, 0, 0)];
        let dest = by_rel(vec![
            e("", true, 0, 0),
            e("keep", true, 0, 0),
            e("keep/old.txt", false, 1, 0),
            e("gone", true, 0, 0),
            e("gone/a", false, 1, 0),
            e("gone/sub", true, 0, 0),
            e("gone/sub/b", false, 1, 0),
            e("mixed", true, 0, 0),
            e("mixed/a.log", false, 1, 0),
            e("mixed/b.txt", false, 1, 0),
        ]);
        let mut r = rules(true, true);
        r.filter
            .add(crate::transfer::filter::Action::Exclude, "*.log")
            .unwrap();
        let p = plan(&r, &src, &dest, &|_| None);
        assert_eq!(rels(&p.delete), vec!["gone", "keep/old.txt", "mixed/b.txt"]);
    }

    #[test]
    fn types_are_replaced_and_checksums_compared() {
        let src = vec![
            e("", true, 0, 0),
            e("d", true, 0, 0),
            e("d/f", false, 1, 5),
            e("x", false, 2, 5),
        ];
        let dest = by_rel(vec![
            e("", true, 0, 0),
            e("d", false, 1, 5),
            e("x", false, 2, 5),
        ]);
        let mut r = rules(true, false);
        r.compare = Compare::Checksum;
        let p = plan(&r, &src, &dest, &|_| Some("h".into()));
        assert_eq!(rels(&p.replace), vec!["d"]);
        assert_eq!(p.create, vec!["d"]);
        let sent: Vec<_> = p.files.iter().map(|(e, r)| (e.rel.as_str(), *r)).collect();
        // x: the listing has no hash, so it cannot be proved identical.
        assert_eq!(sent, vec![("d/f", Reason::New), ("x", Reason::Hash)]);
    }

    #[test]
    fn includes_select_files_and_their_folders_only() {
        let src = vec![
            e("", true, 0, 0),
            e("a", true, 0, 0),
            e("a/r.pdf", false, 1, 0),
            e("b", true, 0, 0),
            e("b/x.txt", false, 1, 0),
        ];
        let mut r = rules(true, true);
        r.filter
            .add(crate::transfer::filter::Action::Include, "*.pdf")
            .unwrap();
        let dest = by_rel(vec![
            e("", true, 0, 0),
            e("c.txt", false, 1, 0),
            e("old.pdf", false, 1, 0),
        ]);
        let p = plan(&r, &src, &dest, &|_| None);
        assert_eq!(p.create, vec!["a"]);
        assert_eq!(
            rels(&p.files.iter().map(|f| f.0.clone()).collect::<Vec<_>>()),
            vec!["a/r.pdf"]
        );
        assert_eq!(p.excluded, 1);
        // c.txt is not selected: left alone; old.pdf is gone from the source.
        assert_eq!(rels(&p.delete), vec!["old.pdf"]);
    }

    #[test]
    fn age_limits_both_sides() {
        let src = vec![
            e("", true, 0, 0),
            e("old", false, 1, 10),
            e("young", false, 1, 100),
        ];
        let dest = by_rel(vec![
            e("", true, 0, 0),
            e("gone-old", false, 1, 10),
            e("gone-young", false, 1, 100),
        ]);
        let mut r = rules(true, true);
        r.min_mtime = Some(50);
        let p = plan(&r, &src, &dest, &|_| None);
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.excluded, 1);
        assert_eq!(rels(&p.delete), vec!["gone-young"]);
    }
}
