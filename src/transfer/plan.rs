//! Building the work lists: walk the source tree (local or remote), look at
//! what already exists at the destination, and decide what to delete, what
//! folders to create and what files to transfer (merge rules:
//! docs/compatibility.md §5.2).
//!
//! Paths are kept relative to the destination item: `""` is the copied item
//! itself, `"sub"`, `"sub/file"`… below it, always with `/` separators.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::api::tree::{self, ListVia, Node};
use crate::api::Client;
use crate::error::{Error, Result};

/// Most folder levels a remote walk goes down; deeper is refused (a loop that the
/// server hides behind fresh ids, or a hostile server).
pub const MAX_DEPTH: usize = 256;
/// Most items one remote walk takes in (bounded memory against endless listings).
pub const MAX_ENTRIES: usize = 10_000_000;

/// One item of a tree, local or remote.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the tree root (`""` = the root item).
    pub rel: String,
    pub is_dir: bool,
    /// A symbolic link (local destination trees): replaced, never followed or merged into.
    pub is_link: bool,
    pub size: u64,
    /// Modification time, Unix seconds (0 when unknown).
    pub mtime: i64,
    /// Local absolute path (local trees).
    pub local: Option<PathBuf>,
    /// Remote node (remote trees).
    pub node: Option<Node>,
}

/// Join a relative path to a base (local or remote), `""` = the base itself.
pub fn join_rel(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_string()
    } else if base.is_empty() {
        rel.to_string()
    } else {
        format!("{}/{rel}", base.trim_end_matches('/'))
    }
}

pub fn join_local(base: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        base.to_path_buf()
    } else {
        base.join(rel)
    }
}

/// What a local walk does with the symbolic links inside the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Skip them, with a warning (uploads by default).
    Skip,
    /// Follow them (`--follow-links`); a link back to a folder on the current path is skipped.
    Follow,
    /// List them as links (`Entry::is_link`), never followed: a destination tree, where a
    /// link must be replaced, not written through.
    Report,
}

/// Walk a local tree from `root`, depth first, children sorted by name.
/// Symbolic links inside the tree are handled as `links` says. The root itself
/// is always followed (it was named on the command line). Names that are not
/// UTF-8 are reported through `warn`. `descend(rel)` decides whether to list a
/// folder's children.
pub fn walk_local(
    root: &Path,
    links: Links,
    descend: &dyn Fn(&str) -> bool,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<Entry>> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io("cannot read", root, e))?;
    let mut out = Vec::new();
    let mut ancestors: Vec<(u64, u64)> = Vec::new();
    visit(
        root,
        String::new(),
        meta,
        links,
        descend,
        warn,
        &mut ancestors,
        &mut out,
    )?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn visit(
    path: &Path,
    rel: String,
    meta: std::fs::Metadata,
    links: Links,
    descend: &dyn Fn(&str) -> bool,
    warn: &mut dyn FnMut(String),
    ancestors: &mut Vec<(u64, u64)>,
    out: &mut Vec<Entry>,
) -> Result<()> {
    if meta.is_file() {
        out.push(Entry {
            rel,
            is_dir: false,
            is_link: false,
            size: meta.len(),
            mtime: meta.mtime(),
            local: Some(path.to_path_buf()),
            node: None,
        });
        return Ok(());
    }
    if !meta.is_dir() {
        warn(format!(
            "skipping {}: not a regular file or folder",
            path.display()
        ));
        return Ok(());
    }
    let id = (meta.dev(), meta.ino());
    if ancestors.contains(&id) {
        warn(format!("skipping {}: symbolic link loop", path.display()));
        return Ok(());
    }
    out.push(Entry {
        rel: rel.clone(),
        is_dir: true,
        is_link: false,
        size: 0,
        mtime: meta.mtime(),
        local: Some(path.to_path_buf()),
        node: None,
    });
    if !descend(&rel) {
        return Ok(());
    }
    let kids = list_dir(path, warn)?;
    ancestors.push(id);
    for (name, p) in kids {
        let child_rel = join_rel(&rel, &name);
        if let Some(m) = child_meta(&p, &child_rel, links, warn, out) {
            visit(&p, child_rel, m, links, descend, warn, ancestors, out)?;
        }
    }
    ancestors.pop();
    Ok(())
}

/// Whether the walk of `root` meets a folder at `rel` (its parent folders
/// being walked): found without the walk, so that the destination can be
/// listed while the source is walked.
pub fn has_local_folder(root: &Path, rel: &str, links: Links) -> bool {
    if rel.is_empty() {
        return true;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name.starts_with('.') && name.ends_with(".cec-partial") {
        return false;
    }
    let p = root.join(rel);
    let meta = match links {
        Links::Follow => std::fs::metadata(&p),
        Links::Skip | Links::Report => std::fs::symlink_metadata(&p),
    };
    meta.is_ok_and(|m| m.is_dir())
}

/// The children of a local folder, sorted by name; leftovers of interrupted
/// downloads are never copied, names that are not UTF-8 are reported.
fn list_dir(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Vec<(String, PathBuf)>> {
    let mut kids: Vec<(String, PathBuf)> = Vec::new();
    let rd = std::fs::read_dir(path).map_err(|e| Error::io("cannot list", path, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| Error::io("cannot list", path, e))?;
        let p = ent.path();
        match ent.file_name().into_string() {
            Ok(name) if name.starts_with('.') && name.ends_with(".cec-partial") => {}
            Ok(name) => kids.push((name, p)),
            Err(_) => warn(format!(
                "skipping {}: the name is not valid UTF-8",
                p.display()
            )),
        }
    }
    kids.sort();
    Ok(kids)
}

/// The metadata to walk a child with (a followed link: its target's), or
/// `None` when it is skipped or reported as a link.
fn child_meta(
    p: &Path,
    child_rel: &str,
    links: Links,
    warn: &mut dyn FnMut(String),
    out: &mut Vec<Entry>,
) -> Option<std::fs::Metadata> {
    let lmeta = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => {
            warn(format!("skipping {}: {e}", p.display()));
            return None;
        }
    };
    if !lmeta.file_type().is_symlink() {
        return Some(lmeta);
    }
    match links {
        Links::Skip => {
            warn(format!(
                "skipping symbolic link {} (use --follow-links to follow links)",
                p.display()
            ));
            None
        }
        Links::Report => {
            out.push(Entry {
                rel: child_rel.to_string(),
                is_dir: false,
                is_link: true,
                size: 0,
                mtime: 0,
                local: Some(p.to_path_buf()),
                node: None,
            });
            None
        }
        Links::Follow => match std::fs::metadata(p) {
            Ok(m) => Some(m),
            Err(e) => {
                warn(format!("skipping broken link {}: {e}", p.display()));
                None
            }
        },
    }
}

/// Folders listed at once by a remote walk (each listing is one request or a few).
const LIST_CONCURRENCY: usize = 4;

/// Walk a remote tree from the node `root`, children sorted by name, in depth
/// first order. `descend(rel)` decides whether to list a folder's children.
/// The folders of one level are listed [`LIST_CONCURRENCY`] at a time. The
/// recycle bin of a workspace root is not part of a copy.
///
/// The server is not trusted: a child whose name could not be a local file name
/// or whose path is not `folder/name` ([`child_name`]), a node met twice (a
/// loop), and anything nested deeper than [`MAX_DEPTH`] are left out and handed
/// to `reject` with the error to report (exit 6, "partial"); so is a file
/// whose size is negative, unreadable or absurd ([`file_size`]).
pub fn walk_remote(
    client: &Client,
    root: &Node,
    descend: &dyn Fn(&str) -> bool,
    reject: &mut dyn FnMut(String, Error),
) -> Result<Vec<Entry>> {
    let mut seen: HashSet<String> = HashSet::new();
    if !root.uuid.is_empty() {
        seen.insert(root.uuid.clone());
    }
    let root_size = file_size(root).map_err(|why| {
        Error::reply(format!(
            "cells://{}: {why}",
            crate::output::escape_control(&root.path)
        ))
    })?;
    let mut out = vec![remote_entry(String::new(), root.clone(), root_size)];
    // The folders of the current level to list: (index in `out`, depth).
    let mut level: Vec<usize> = Vec::new();
    if root.is_dir() && descend("") {
        level.push(0);
    }
    let mut depth = 1;
    while !level.is_empty() {
        crate::output::interrupt::check()?;
        let listed = list_all(client, &out, &level)?;
        let mut next = Vec::new();
        for (i, mut kids) in level.iter().copied().zip(listed) {
            let path = tree::clean_path(&out[i].node.as_ref().expect("remote entry").path);
            let rel = out[i].rel.clone();
            let ws_root = !path.contains('/');
            kids.retain(|k| !(ws_root && k.name() == tree::RECYCLE_BIN));
            kids.sort_by(|a, b| a.name().cmp(b.name()));
            for k in kids {
                if let Some(why) = refusal(&path, &k, depth, &mut seen) {
                    let shown = crate::output::escape_control(&k.path).into_owned();
                    reject(
                        shown.clone(),
                        Error::partial(format!(
                            "refused cells://{shown} from the listing of {}: {why}",
                            crate::output::escape_control(&path)
                        )),
                    );
                    continue;
                }
                let child_rel = join_rel(&rel, k.name());
                let size = file_size(&k).unwrap_or(0);
                let dir = k.is_dir();
                out.push(remote_entry(child_rel.clone(), k, size));
                if out.len() > MAX_ENTRIES {
                    return Err(Error::failure(format!(
                        "cells://{}: the server listed more than {MAX_ENTRIES} items; stopping (is the server broken?)",
                        crate::output::escape_control(&path)
                    )));
                }
                if dir && descend(&child_rel) {
                    next.push(out.len() - 1);
                }
            }
        }
        level = next;
        depth += 1;
    }
    // Depth-first order: parents before children, names sorted.
    out.sort_by(|a, b| a.rel.split('/').cmp(b.rel.split('/')));
    Ok(out)
}

fn remote_entry(rel: String, node: Node, size: u64) -> Entry {
    Entry {
        rel,
        is_dir: node.is_dir(),
        is_link: false,
        size,
        mtime: node.mtime.unwrap_or(0),
        local: None,
        node: Some(node),
    }
}

/// The children of the folders `out[i]` for `i` in `level`, in that order,
/// [`LIST_CONCURRENCY`] listings at a time; the first error stops the walk.
fn list_all(client: &Client, out: &[Entry], level: &[usize]) -> Result<Vec<Vec<Node>>> {
    let paths: Vec<String> = level
        .iter()
        .map(|&i| tree::clean_path(&out[i].node.as_ref().expect("remote entry").path))
        .collect();
    if paths.len() == 1 {
        return Ok(vec![tree::list_children(
            client,
            &paths[0],
            ListVia::TreeStats,
        )?]);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Vec<Node>>>>> =
        paths.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..LIST_CONCURRENCY.min(paths.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= paths.len() || failed.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let r = tree::list_children(client, &paths[i], ListVia::TreeStats);
                if r.is_err() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                *results[i].lock().expect("listing lock") = Some(r);
            });
        }
    });
    let mut all = Vec::with_capacity(paths.len());
    for r in results {
        match r.into_inner().expect("listing lock") {
            Some(Ok(kids)) => all.push(kids),
            Some(Err(e)) => return Err(e),
            // Not listed: an earlier error stopped the walk.
            None => continue,
        }
    }
    if all.len() != paths.len() {
        return Err(Error::failure("a folder listing failed"));
    }
    Ok(all)
}

/// Why the child `k` of `folder` (at `depth`) is left out of a walk, if it is:
/// a bad name or path, a node already met (a loop), too deep, an impossible size.
fn refusal(folder: &str, k: &Node, depth: usize, seen: &mut HashSet<String>) -> Option<String> {
    match child_name(folder, &k.path) {
        Err(why) => Some(why),
        Ok(_) if !k.uuid.is_empty() && !seen.insert(k.uuid.clone()) => {
            Some("listed twice in the tree (a loop?)".to_string())
        }
        Ok(_) if depth > MAX_DEPTH => Some(format!("nested deeper than {MAX_DEPTH} levels")),
        Ok(_) => file_size(k).err(),
    }
}

/// The size of a listed file, when it is one a file can have (0 to
/// [`crate::s3::MAX_OBJECT_SIZE`]); folders count 0 (their size is an aggregate).
pub fn file_size(node: &Node) -> std::result::Result<u64, String> {
    if node.is_dir() {
        return Ok(0);
    }
    match node.size {
        Some(n) if (0..=crate::s3::MAX_OBJECT_SIZE as i64).contains(&n) => Ok(n as u64),
        Some(n) => Err(format!("the server gives it an impossible size ({n})")),
        None => Err("the server gives it no readable size".into()),
    }
}

/// The name of a listed child, when it can safely become one local path
/// component: its path must be exactly `folder + "/" + name` (not in another
/// folder or workspace), and the name must not be empty, `.` or `..`, nor hold
/// `/` or NUL. Otherwise the reason, for the user.
pub fn child_name<'a>(folder: &str, child_path: &'a str) -> std::result::Result<&'a str, String> {
    let name = if folder.is_empty() {
        Some(child_path)
    } else {
        child_path
            .strip_prefix(folder)
            .and_then(|r| r.strip_prefix('/'))
    };
    match name {
        None => Err("its path lies outside the listed folder".into()),
        Some("") | Some(".") | Some("..") => Err("not a valid file name".into()),
        Some(n) if n.contains('/') => Err("its path lies outside the listed folder".into()),
        Some(n) if n.contains('\0') => Err("the name holds a NUL byte".into()),
        Some(n) => Ok(n),
    }
}

/// What to do.
#[derive(Debug, Default)]
pub struct Plan {
    /// Destination items (relative) of the other type, removed first.
    pub delete: Vec<Entry>,
    /// Folders to create (relative), parents first.
    pub create: Vec<String>,
    /// Files to transfer: the source entry and the destination entry it
    /// replaces, if any (used to skip identical files).
    pub files: Vec<(Entry, Option<Entry>)>,
}

/// Compare the source tree with what exists at the destination (`dest`,
/// relative paths; empty when the destination does not exist) — merge rules,
/// applied top-down:
/// - file over nothing → transfer; over a file → transfer (replace; skipped
///   later when identical); over a folder → delete the folder, transfer.
/// - folder over nothing → create, and everything below is new; over a
///   folder → merge into it; over a file → delete the file, create the
///   folder, everything below is new.
///
/// Destination items without a source counterpart are left alone.
pub fn compare(source: &[Entry], dest: &HashMap<String, Entry>) -> Plan {
    let mut plan = Plan::default();
    let mut fresh: HashSet<String> = HashSet::new();
    for e in source {
        let parent_fresh = !e.rel.is_empty() && fresh.contains(parent_rel(&e.rel));
        let existing = if parent_fresh { None } else { dest.get(&e.rel) };
        match (e.is_dir, existing) {
            // A link is replaced by what the source has, never written through.
            (true, Some(d)) if d.is_link => {
                plan.delete.push(d.clone());
                plan.create.push(e.rel.clone());
                fresh.insert(e.rel.clone());
            }
            (false, Some(d)) if d.is_link => {
                plan.delete.push(d.clone());
                plan.files.push((e.clone(), None));
            }
            (true, None) => {
                plan.create.push(e.rel.clone());
                fresh.insert(e.rel.clone());
            }
            (true, Some(d)) if d.is_dir => {}
            (true, Some(d)) => {
                plan.delete.push(d.clone());
                plan.create.push(e.rel.clone());
                fresh.insert(e.rel.clone());
            }
            (false, None) => plan.files.push((e.clone(), None)),
            (false, Some(d)) if d.is_dir => {
                plan.delete.push(d.clone());
                plan.files.push((e.clone(), None));
            }
            (false, Some(d)) => plan.files.push((e.clone(), Some(d.clone()))),
        }
    }
    plan
}

/// `"a/b/c"` → `"a/b"`, `"a"` → `""`.
pub fn parent_rel(rel: &str) -> &str {
    match rel.rfind('/') {
        Some(i) => &rel[..i],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(rel: &str, dir: bool) -> Entry {
        Entry {
            rel: rel.into(),
            is_dir: dir,
            is_link: false,
            size: 0,
            mtime: 0,
            local: None,
            node: None,
        }
    }

    #[test]
    fn merge_rules() {
        let src = vec![
            e("", true),
            e("a", true),
            e("a/x", false),
            e("b", true),
            e("b/y", false),
            e("c", false),
            e("d", false),
            e("f", true),
            e("f/z", false),
        ];
        let mut dest = HashMap::new();
        for d in [
            e("", true),
            e("a", true),
            e("a/x", false),
            e("b", false),
            e("b/y", true),
            e("c", true),
            e("d", false),
            e("g", false),
        ] {
            dest.insert(d.rel.clone(), d);
        }
        let p = compare(&src, &dest);
        let del: Vec<_> = p.delete.iter().map(|d| d.rel.as_str()).collect();
        assert_eq!(del, vec!["b", "c"]);
        assert_eq!(p.create, vec!["b", "f"]);
        let files: Vec<_> = p
            .files
            .iter()
            .map(|(s, d)| (s.rel.as_str(), d.is_some()))
            .collect();
        // b/y is new (its parent was recreated), c replaces a folder, a/x and d replace files.
        assert_eq!(
            files,
            vec![
                ("a/x", true),
                ("b/y", false),
                ("c", false),
                ("d", true),
                ("f/z", false)
            ]
        );
    }

    #[test]
    fn sizes_from_listings_are_checked() {
        let file = |size| Node {
            node_type: "LEAF".into(),
            size,
            ..Node::default()
        };
        assert_eq!(file_size(&file(Some(5))), Ok(5));
        assert!(file_size(&file(Some(-1))).is_err());
        assert!(file_size(&file(Some(i64::MAX))).is_err());
        assert!(file_size(&file(None)).is_err());
        let dir = Node {
            node_type: "COLLECTION".into(),
            size: Some(-7),
            ..Node::default()
        };
        assert_eq!(file_size(&dir), Ok(0));
    }

    #[test]
    fn child_names_checked() {
        assert_eq!(child_name("ws/d", "ws/d/a.txt"), Ok("a.txt"));
        assert_eq!(child_name("ws/d", "ws/d/..a"), Ok("..a"));
        assert_eq!(child_name("", "ws"), Ok("ws"));
        for bad in [
            "ws/d/..",
            "ws/d/.",
            "ws/d/",
            "ws/d",
            "ws/d/x/y",
            "ws/other/x",
            "other/d/x",
            "ws/dx",
            "ws/d/a\0b",
            "",
        ] {
            assert!(child_name("ws/d", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn links_at_the_destination_are_replaced() {
        let src = vec![
            e("", true),
            e("sub", true),
            e("sub/f", false),
            e("g", false),
        ];
        let mut dest = HashMap::new();
        dest.insert(String::new(), e("", true));
        for rel in ["sub", "g"] {
            let mut l = e(rel, false);
            l.is_link = true;
            dest.insert(rel.to_string(), l);
        }
        let p = compare(&src, &dest);
        let del: Vec<_> = p.delete.iter().map(|d| d.rel.as_str()).collect();
        assert_eq!(del, vec!["sub", "g"]);
        assert_eq!(p.create, vec!["sub"]);
        assert!(p.files.iter().all(|(_, d)| d.is_none()));
    }

    #[test]
    fn local_walk_reports_links() {
        let dir = std::env::temp_dir().join(format!("cec-walk-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::os::unix::fs::symlink("/", dir.join("d/up")).unwrap();
        let got = walk_local(&dir, Links::Report, &|_| true, &mut |_| {}).unwrap();
        let up = got.iter().find(|e| e.rel == "d/up").expect("link listed");
        assert!(up.is_link && !up.is_dir);
        assert_eq!(got.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn local_walk_sorted_no_links() {
        let dir = std::env::temp_dir().join(format!("cec-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/empty")).unwrap();
        std::fs::write(dir.join("b/f2"), b"12").unwrap();
        std::fs::write(dir.join("a"), b"1").unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
        let mut warnings = Vec::new();
        let got = walk_local(&dir, Links::Skip, &|_| true, &mut |w| warnings.push(w)).unwrap();
        let rels: Vec<_> = got.iter().map(|e| e.rel.as_str()).collect();
        assert_eq!(rels, vec!["", "a", "b", "b/empty", "b/f2"]);
        assert_eq!(warnings.len(), 1);
        warnings.clear();
        let got = walk_local(&dir, Links::Follow, &|_| true, &mut |w| warnings.push(w)).unwrap();
        assert_eq!(got.len(), 5);
        assert!(warnings[0].contains("loop"), "{warnings:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn local_folders_are_found_as_the_walk_finds_them() {
        let dir = std::env::temp_dir().join(format!("cec-has-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::create_dir_all(dir.join("a/.x.cec-partial")).unwrap();
        std::fs::write(dir.join("a/f"), b"1").unwrap();
        std::os::unix::fs::symlink(dir.join("a"), dir.join("link")).unwrap();
        for links in [Links::Skip, Links::Report, Links::Follow] {
            let walked: HashSet<String> = walk_local(&dir, links, &|_| true, &mut |_| {})
                .unwrap()
                .into_iter()
                .filter(|e| e.is_dir)
                .map(|e| e.rel)
                .collect();
            let rels = [
                "",
                "a",
                "a/b",
                "a/f",
                "a/.x.cec-partial",
                "link",
                "link/b",
                "none",
            ];
            // Asked only of folders whose parent the walk entered.
            let parent = |rel: &'static str| rel.rsplit_once('/').map_or("", |(p, _)| p);
            for rel in rels.into_iter().filter(|r| walked.contains(parent(r))) {
                assert_eq!(
                    has_local_folder(&dir, rel, links),
                    walked.contains(rel),
                    "{rel} with {links:?}"
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
