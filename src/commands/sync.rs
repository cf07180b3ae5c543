//! `cec sync SOURCE TARGET` (docs/sync.md): make the folder TARGET hold what
//! the folder SOURCE holds, one side local, the other remote.

use std::collections::HashSet;
use std::path::Path;

use super::scp::{self, Direction, Session};
use crate::api::tree::{self, Node};
use crate::auth::GlobalArgs;
use crate::cli::SyncArgs;
use crate::error::{Error, Result};
use crate::transfer::filter::Filter;
use crate::transfer::plan::{self, Entry};
use crate::transfer::sync::{self as sy, Outcome, Rules, SyncPlan};
use crate::transfer::{lock, Ctx};

const CMD: &str = "sync";

pub fn run(globals: &GlobalArgs, a: &SyncArgs) -> Result<()> {
    let dir = scp::direction(&a.scp.sources[0], &a.scp.target).map_err(|e| {
        Error::usage(
            CMD,
            e.message.replace(
                "'cec cp' to copy",
                "'cec cp' to copy (sync needs one local side)",
            ),
        )
    })?;
    for src in &a.scp.sources[1..] {
        scp::direction(src, &a.scp.target)?;
    }
    let rules = rules_of(a, matches!(dir, Direction::Upload { .. }))?;
    let s = scp::session(globals, &a.scp)?;
    crate::output::interrupt::set_graceful(true);
    let res = match dir {
        Direction::Upload { local, remote } if a.scp.sources.len() == 1 => {
            upload(&s, a, &rules, &local, &remote)
        }
        Direction::Upload { remote, .. } => upload_many(&s, a, &rules, &remote),
        Direction::Download { remote, local } => {
            let found = scp::expand_sources(&s.client, &a.scp.sources)?;
            if a.scp.sources.len() == 1 && !found.globbed {
                download(&s, a, &rules, &remote, &local)
            } else {
                download_many(&s, a, &rules, found, &local)
            }
        }
    };
    crate::output::interrupt::set_graceful(false);
    res
}

/// Several sources (or a remote wildcard): each one is synced into
/// TARGET/<its name>, created as needed; TARGET must exist (or `-p`).
fn upload_many(s: &Session, a: &SyncArgs, rules: &Rules, remote: &str) -> Result<()> {
    let folder = scp::remote_folder(s, &a.scp, remote)?;
    let mut each = a.clone();
    each.scp.parents = true;
    let mut items = Vec::new();
    for src in &a.scp.sources {
        let abs = scp::absolute(src)?;
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = upload(s, &each, rules, src, &tree::join(&folder, &name));
        let stop = interrupted(&r);
        items.push((src.clone(), r));
        if stop {
            break;
        }
    }
    scp::all_of(items.len(), items.into_iter())
}

fn download_many(
    s: &Session,
    a: &SyncArgs,
    rules: &Rules,
    found: scp::Found,
    local: &str,
) -> Result<()> {
    let target = scp::absolute(local)?;
    if !local_root(a, &target)? {
        std::fs::create_dir_all(&target).map_err(|e| Error::io("cannot create", &target, e))?;
    }
    let mut each = a.clone();
    each.scp.parents = true;
    let mut items = Vec::new();
    for (arg, paths) in found.items {
        match paths {
            Err(e) => items.push((arg, Err(e))),
            Ok(paths) => {
                for p in paths {
                    let dest = target.join(tree::base_name(&p));
                    let r = download(s, &each, rules, &p, &dest.display().to_string());
                    let stop = interrupted(&r);
                    items.push((format!("cells://{p}"), r));
                    if stop {
                        break;
                    }
                }
            }
        }
    }
    scp::all_of(items.len(), items.into_iter())
}

fn interrupted(r: &Result<()>) -> bool {
    matches!(r, Err(e) if e.exit == crate::error::Exit::Interrupted)
}

fn rules_of(a: &SyncArgs, upload: bool) -> Result<Rules> {
    let mut filter = Filter::default();
    for (action, pat) in &a.rules {
        filter
            .add(*action, pat)
            .map_err(|why| Error::usage(CMD, why))?;
    }
    Ok(Rules {
        compare: a.compare,
        delete: a.delete,
        filter,
        min_mtime: Rules::min_mtime_for(a.max_age),
        upload,
    })
}

/// The lock of a destination: one run per server, user and target.
fn take_lock(s: &Session, a: &SyncArgs, target: &str) -> Result<Option<lock::DestLock>> {
    if a.dry_run {
        return Ok(None);
    }
    let key = format!("{}\n{}\n{target}", s.client.base_url(), s.client.user);
    lock::acquire(&key, target).map(Some)
}

fn upload(s: &Session, a: &SyncArgs, rules: &Rules, local: &str, remote: &str) -> Result<()> {
    let src = scp::absolute(local)?;
    match std::fs::metadata(&src) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::usage(
                CMD,
                format!(
                    "{} is not a folder: sync copies folders (use cec scp for one file)",
                    src.display()
                ),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::not_found(format!(
                "{}: no such folder",
                src.display()
            )))
        }
        Err(e) => return Err(Error::io("cannot read", &src, e)),
    }
    let dest = tree::clean_path(remote);
    if !dest.contains('/') {
        return Err(Error::usage(
            CMD,
            "give a folder inside a workspace as TARGET, e.g. cells://common-files/backup",
        ));
    }
    let shown = format!("cells://{dest}");
    let _lock = take_lock(s, a, &shown)?;
    let root = remote_root(s, a, &dest)?;
    let ctx = Ctx::new(&s.client, &s.s3, &s.opts, "Uploading", s.stop.clone());
    let links = if s.opts.follow_links {
        plan::Links::Follow
    } else {
        plan::Links::Skip
    };
    // The destination is listed while the source is walked: which folders to
    // list is asked of the disk, not of the walk.
    let source_has = |rel: &str| plan::has_local_folder(&src, rel, links);
    let (source, existing) = std::thread::scope(|sc| {
        let walk = sc.spawn(|| sy::walk_local(&ctx, &src, rules, links));
        let existing = match &root {
            Some(node) => {
                let mut ignore = |what: String, _: Error| {
                    ctx.warn(&format!(
                        "ignoring cells://{what} at the destination: not a valid name"
                    ))
                };
                let descend = rules.descend_dest(&source_has);
                plan::walk_remote(&s.client, node, &descend, &mut ignore)
            }
            None => Ok(Vec::new()),
        };
        let source = walk.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (source, existing)
    });
    let (source, existing) = (source?, existing?);
    let existing = sy::by_rel(existing);
    let hashes = sy::local_hashes(rules, &source, &existing, s.opts.files_concurrency);
    let p = sy::plan(rules, &source, &existing, &|e| hashes.get(&e.rel).cloned());
    if finish_dry(a, &p, true) {
        return Ok(());
    }
    if root.is_none() {
        tree::create_folders(&s.client, std::slice::from_ref(&dest))
            .map_err(|e| e.context(format!("could not create {shown}")))?;
    }
    let out = sy::run_upload(&ctx, &p, &dest)?;
    done(a, out, true)
}

fn download(s: &Session, a: &SyncArgs, rules: &Rules, remote: &str, local: &str) -> Result<()> {
    let src = tree::clean_path(remote);
    if src.is_empty() {
        return Err(Error::usage(
            CMD,
            "give a workspace or folder as SOURCE, e.g. cells://common-files/reports",
        ));
    }
    let node = tree::stat(&s.client, &src)?
        .ok_or_else(|| Error::not_found(format!("cannot find cells://{src} on the server")))?;
    if !node.is_dir() {
        return Err(Error::usage(
            CMD,
            format!(
                "cells://{src} is not a folder: sync copies folders (use cec scp for one file)"
            ),
        ));
    }
    let dest = scp::absolute(local)?;
    let shown = dest.display().to_string();
    let exists = local_root(a, &dest)?;
    let _lock = take_lock(s, a, &shown)?;
    let ctx = Ctx::new(&s.client, &s.s3, &s.opts, "Downloading", s.stop.clone());
    let mut rejected: Vec<(String, Error)> = Vec::new();
    let descend = |rel: &str| rules.filter.folder(rel);
    let source = plan::walk_remote(&s.client, &node, &descend, &mut |what, e| {
        ctx.warn(&e.message);
        rejected.push((what, e));
    })?;
    let dirs = folders(&source);
    let source_has = |rel: &str| dirs.contains(rel);
    let existing = if exists {
        plan::walk_local(
            &dest,
            plan::Links::Report,
            &rules.descend_dest(&source_has),
            &mut |_| {},
        )?
    } else {
        Vec::new()
    };
    let existing = sy::by_rel(existing);
    let hashes = sy::local_hashes(rules, &source, &existing, s.opts.files_concurrency);
    let p = sy::plan(rules, &source, &existing, &|e| hashes.get(&e.rel).cloned());
    if finish_dry(a, &p, false) {
        return Ok(());
    }
    if !exists {
        std::fs::create_dir_all(&dest).map_err(|e| Error::io("cannot create", &dest, e))?;
    }
    // Items the server listed under names that cannot be written here: failed
    // items of the run (so nothing is deleted on the strength of that listing).
    for (what, e) in rejected {
        ctx.fail(&what, e);
    }
    let out = sy::run_download(&ctx, &p, &dest)?;
    done(a, out, false)
}

/// The remote TARGET folder, `None` when it is to be created (`-p`).
fn remote_root(s: &Session, a: &SyncArgs, dest: &str) -> Result<Option<Node>> {
    match tree::stat(&s.client, dest)? {
        Some(n) if n.is_dir() => Ok(Some(n)),
        Some(_) => Err(Error::failure(format!(
            "cells://{dest} is a file, not a folder"
        ))),
        None if a.scp.parents || a.dry_run => Ok(None),
        None => Err(Error::not_found(format!(
            "cells://{dest} does not exist (use -p/--parents to create it)"
        ))),
    }
}

/// Whether the local TARGET folder exists (a missing one needs `-p`).
fn local_root(a: &SyncArgs, dest: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(m)
            if m.file_type().is_symlink() && std::fs::metadata(dest).is_ok_and(|t| t.is_dir()) =>
        {
            Ok(true)
        }
        Ok(_) => Err(Error::failure(format!(
            "{} is not a folder",
            dest.display()
        ))),
        Err(_) if a.scp.parents || a.dry_run => Ok(false),
        Err(_) => Err(Error::not_found(format!(
            "{} does not exist (use -p/--parents to create it)",
            dest.display()
        ))),
    }
}

fn folders(entries: &[Entry]) -> HashSet<String> {
    entries
        .iter()
        .filter(|e| e.is_dir)
        .map(|e| e.rel.clone())
        .collect()
}

/// With `--json`, the actions as JSON lines; with `--dry-run`, the plan
/// (and nothing else is done: returns true).
fn finish_dry(a: &SyncArgs, p: &SyncPlan, upload: bool) -> bool {
    let actions = sy::actions(p, upload);
    if a.json {
        for act in &actions {
            crate::output::println_out(&serde_json::to_string(act).unwrap_or_default());
        }
    } else if a.dry_run {
        for act in &actions {
            let size = act
                .size
                .map(|n| format!(" ({})", crate::output::human_size(n)))
                .unwrap_or_default();
            crate::output::println_out(&format!(
                "{} {}{size}",
                act.action,
                crate::output::for_stdout(act.path)
            ));
        }
    }
    if !a.dry_run {
        return false;
    }
    let summary = serde_json::json!({
        "summary": {"dry_run": true, "send": p.files.len(), "unchanged": p.same,
            "mkdir": p.create.len(), "replace": p.replace.len(), "delete": p.delete.len(),
            "excluded": p.excluded}
    });
    if a.json {
        crate::output::println_out(&summary.to_string());
    }
    errln!(
        "Dry run: {} to {}, {} unchanged, {} folders to create, {} to delete; nothing changed",
        p.files.len(),
        if upload { "upload" } else { "download" },
        p.same,
        p.create.len(),
        p.delete.len() + p.replace.len()
    );
    true
}

/// Print the summary (and failures), pick the exit code.
fn done(a: &SyncArgs, out: Outcome, upload: bool) -> Result<()> {
    errln!("{}", sy::summary(&out, upload));
    let r = &out.report;
    if !r.failures.is_empty() {
        errln!("Failures:");
        for (i, (name, e)) in r.failures.iter().enumerate() {
            errln!("  #{}: {name}: {e}", i + 1);
        }
    }
    if a.json {
        let failures: Vec<_> = r
            .failures
            .iter()
            .map(|(n, e)| serde_json::json!({"path": n, "error": e.message}))
            .collect();
        let line = serde_json::json!({"summary": {
            "sent": r.transferred, "bytes": r.bytes, "unchanged": r.skipped,
            "folders_created": r.folders_created, "deleted": out.deleted + r.deleted,
            "failed": r.failures.len(), "failures": failures,
            "seconds": r.duration.as_secs_f64(), "interrupted": r.interrupted,
        }});
        crate::output::println_out(&line.to_string());
    }
    if r.interrupted {
        return Err(Error::interrupted());
    }
    if r.failures.is_empty() {
        return Ok(());
    }
    Err(Error::partial(format!(
        "{} item{} failed (listed above)",
        r.failures.len(),
        if r.failures.len() == 1 { "" } else { "s" }
    )))
}
