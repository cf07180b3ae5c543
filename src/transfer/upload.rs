//! Uploads: a local tree or file to the server. Small files go in one PUT,
//! larger ones in parts hashed ahead of the senders; finished parts are
//! journalled so that a rerun continues the same multipart upload.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cells_hash::region::RegionHash;

use super::journal::{self, DonePart, Journal, UploadJournal};
use super::plan::{self, join_rel, Entry};
use super::pool::{self, FirstError};
use super::verify::{self, Sent};
use super::{display_rel, finish, print_plan, progress, total_size, Ctx, FileDone, Report};
use crate::api::tree::{self, Node};
use crate::error::{Error, Exit, Result};
use crate::output::human_size;
use crate::s3;

/// Upload the local item `source` to the remote path `dest` (the full path
/// the item gets). `existing` is the node already at `dest` (merge mode).
pub fn upload(ctx: &Ctx<'_>, source: &Path, dest: &str, existing: Option<&Node>) -> Result<Report> {
    let root_name = tree::base_name(dest).to_string();
    let entries = walk_source(ctx, source)?;
    let dest_map = match existing {
        Some(node) => existing_items(ctx, node, &entries)?,
        None => HashMap::new(),
    };
    let plan = plan::compare(&entries, &dest_map);
    print_plan(ctx, &plan);
    let mut report = Report {
        files: plan.files.len(),
        ..Report::default()
    };
    ctx.progress.set_totals(plan.files.len(), total_size(&plan));
    report.deleted = remove_other_types(ctx, dest, &plan.delete)?;
    report.folders_created = create_folders(ctx, dest, &plan.create)?;
    let results = ctx.run_files(&plan.files, &|(src, dst)| {
        let remote = join_rel(dest, &src.rel);
        let name = display_rel(&root_name, &src.rel);
        let r = upload_file(ctx, src, &remote, dst.as_ref(), &name);
        (name.clone(), r.map(|d| (name, remote, d)))
    });
    // Wait for the index and verify what the server recorded.
    let mut sent = Vec::new();
    for (name, remote, done) in results.into_iter().flatten().flatten() {
        match done {
            FileDone::Sent { bytes, hash } => {
                report.transferred += 1;
                report.bytes += bytes;
                sent.push(Sent {
                    name,
                    remote,
                    size: bytes,
                    hash,
                });
            }
            FileDone::Skipped => report.skipped += 1,
        }
    }
    if !sent.is_empty() && !ctx.stopped() {
        verify::wait_indexed(ctx, sent);
    }
    Ok(finish(ctx, report))
}

/// The local tree, its warnings shown.
fn walk_source(ctx: &Ctx<'_>, source: &Path) -> Result<Vec<Entry>> {
    let links = if ctx.opts.follow_links {
        plan::Links::Follow
    } else {
        plan::Links::Skip
    };
    let mut warnings = Vec::new();
    let entries = plan::walk_local(source, links, &|_| true, &mut |w| warnings.push(w))?;
    for w in warnings {
        ctx.warn(&w);
    }
    Ok(entries)
}

/// What is already at the destination (merge): only folders that exist on
/// both sides are listed.
fn existing_items(ctx: &Ctx<'_>, node: &Node, entries: &[Entry]) -> Result<HashMap<String, Entry>> {
    let local_dirs: HashSet<&str> = entries
        .iter()
        .filter(|e| e.is_dir)
        .map(|e| e.rel.as_str())
        .collect();
    // Unsafe names at the destination can match no local name: leave them alone.
    let mut ignore = |what: String, _: Error| {
        ctx.warn(&format!(
            "ignoring cells://{what} at the destination: not a valid name"
        ))
    };
    let found = plan::walk_remote(
        ctx.client,
        node,
        &|rel| local_dirs.contains(rel),
        &mut ignore,
    )?;
    Ok(found.into_iter().map(|e| (e.rel.clone(), e)).collect())
}

/// Remove the destination items of the other type, and wait until they are gone.
pub(super) fn remove_other_types(ctx: &Ctx<'_>, dest: &str, delete: &[Entry]) -> Result<usize> {
    if delete.is_empty() {
        return Ok(0);
    }
    let paths: Vec<String> = delete.iter().map(|e| join_rel(dest, &e.rel)).collect();
    for p in &paths {
        ctx.info(&format!("Replacing cells://{p}"));
    }
    let context = "could not remove the items to replace";
    let jobs = tree::delete(ctx.client, &paths, false).map_err(|e| e.context(context))?;
    for r in crate::api::jobs::wait_all(ctx.client, &jobs, Duration::from_secs(120)) {
        r.map_err(|e| e.context(context))?;
    }
    for p in &paths {
        let gone = tree::wait_gone(
            ctx.client,
            p,
            Duration::from_secs(30),
            Duration::from_millis(200),
        )?;
        if !gone {
            return Err(Error::failure(format!(
                "cells://{p} is still there after deleting it; try again later"
            )));
        }
    }
    Ok(paths.len())
}

/// Create the folders (parents first: the walk is depth-first pre-order).
pub(super) fn create_folders(ctx: &Ctx<'_>, dest: &str, create: &[String]) -> Result<usize> {
    if create.is_empty() {
        return Ok(0);
    }
    let paths: Vec<String> = create.iter().map(|r| join_rel(dest, r)).collect();
    tree::create_folders(ctx.client, &paths)
        .map_err(|e| e.context(format!("could not create folders at cells://{dest}")))?;
    ctx.info(&format!("Created {} folders on the server", paths.len()));
    Ok(paths.len())
}

pub(super) fn upload_file(
    ctx: &Ctx<'_>,
    src: &Entry,
    remote: &str,
    existing: Option<&Entry>,
    name: &str,
) -> Result<FileDone> {
    let path = src.local.as_deref().expect("local entry");
    let file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?;
    let size = meta.len();
    // Identical file already at the destination (merge / resume): skip it.
    if let Some(h) = existing.and_then(|d| d.node.as_ref()?.hash().filter(|_| d.size == size)) {
        if cells_hash::hash_file(path).ok().as_deref() == Some(h.as_str()) {
            ctx.progress
                .skipped(size, Some(format!("Skipped {name} (already identical)")));
            return Ok(FileDone::Skipped);
        }
    }
    let active = ctx.progress.begin(name, size);
    let started = Instant::now();
    let prog = |n: i64| ctx.progress.add(&active, n);
    let res = if size > ctx.opts.multipart_threshold {
        let up = Multipart {
            ctx,
            file: &file,
            path,
            key: remote,
            size,
            mtime: journal::mtime_ns(&meta),
        };
        up.run(&prog, &active)
    } else {
        ctx.s3
            .put_object(remote, &file, 0, size, Some(&prog))
            .and_then(|r| {
                verify::check_put_etag(remote, &r)?;
                Ok(cells_hash::of_block_md5s(&r.block_md5s))
            })
    };
    let res = res.and_then(|hash| unchanged_since(path, &meta).map(|()| hash));
    let line = match &res {
        Ok(_) => format!(
            "Uploaded {name} ({}, {})",
            human_size(size),
            progress::fmt_rate(size, started.elapsed())
        ),
        Err(e) => format!("Failed {name}: {e}"),
    };
    let interrupted = matches!(&res, Err(e) if e.exit == Exit::Interrupted);
    ctx.progress
        .end(&active, res.is_ok(), (!interrupted).then_some(line));
    res.map(|hash| FileDone::Sent { bytes: size, hash })
}

/// The local file must not have changed while it was sent.
fn unchanged_since(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let now = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    if now.len() != meta.len() || journal::mtime_ns(&now) != journal::mtime_ns(meta) {
        return Err(Error::failure(format!(
            "{}: the file changed while it was uploaded; run again to send the new version",
            path.display()
        )));
    }
    Ok(())
}

/// One multipart upload of a local file.
struct Multipart<'a> {
    ctx: &'a Ctx<'a>,
    file: &'a File,
    path: &'a Path,
    key: &'a str,
    size: u64,
    mtime: i128,
}

impl Multipart<'_> {
    /// Upload the parts the server does not have yet, complete the upload,
    /// and return the file's Cells hash.
    fn run(&self, prog: &(dyn Fn(i64) + Sync), active: &progress::Active) -> Result<String> {
        let ctx = self.ctx;
        let ps = super::part_size_for(self.size, ctx.opts.part_size, ctx.opts.max_parts);
        let n_parts = self.size.div_ceil(ps) as u32;
        if crate::output::log::debug_enabled() {
            ctx.progress.message(&format!(
                "Multipart upload for {}\n\tSize: {}\n\tPart Size: {}\n\tNumber of parts: {n_parts}",
                self.key,
                human_size(self.size),
                human_size(ps)
            ));
        }
        let jid = journal::upload_id(ctx.client.base_url(), self.key, self.path);
        let journal = match self.resume(&jid, ps, n_parts)? {
            Some(j) => j,
            None => self.start(&jid, ps)?,
        };
        let already: u64 = journal.data.parts.values().map(|p| p.size).sum();
        ctx.progress.add_skipped(active, already);
        let todo: Vec<u32> = (1..=n_parts)
            .filter(|n| !journal.data.parts.contains_key(n))
            .collect();
        let journal = Mutex::new(journal);
        let failed = self.send_parts(&journal, &todo, ps, prog);
        let journal = journal.into_inner().expect("journal lock");
        if let Some(e) = failed {
            if e.exit == Exit::NotFound {
                // The upload vanished on the server: start over next time.
                journal.remove();
            }
            return Err(e);
        }
        if ctx.stopped() || journal.data.parts.len() != n_parts as usize {
            return Err(Error::interrupted());
        }
        self.complete(journal)
    }

    /// The journal of a previous attempt, when it still matches the file and
    /// the server (its parts checked with ListParts).
    fn resume(&self, jid: &str, ps: u64, n_parts: u32) -> Result<Option<Journal<UploadJournal>>> {
        let Some(mut j) = Journal::<UploadJournal>::load("upload", jid) else {
            return Ok(None);
        };
        let d = &j.data;
        if d.key != self.key || d.size != self.size || d.mtime_ns != self.mtime || d.part_size != ps
        {
            if !d.upload_id.is_empty() {
                let _ = self.ctx.s3.abort_multipart(&d.key, &d.upload_id);
            }
            j.remove();
            return Ok(None);
        }
        let server_parts = match self.ctx.s3.list_parts(self.key, &d.upload_id) {
            Ok(p) => p,
            Err(e) if e.exit == Exit::NotFound => {
                j.remove();
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let on_server: HashMap<u32, &s3::PartInfo> =
            server_parts.iter().map(|p| (p.number, p)).collect();
        j.data.parts.retain(|n, p| {
            on_server
                .get(n)
                .is_some_and(|s| s3::same_etag(&s.etag, &p.etag) && s.size == p.size)
        });
        j.save();
        self.ctx.info(&format!(
            "Resuming the upload of {}: {} of {n_parts} parts already on the server",
            self.key,
            j.data.parts.len()
        ));
        Ok(Some(j))
    }

    fn start(&self, jid: &str, ps: u64) -> Result<Journal<UploadJournal>> {
        let upload_id = self.ctx.s3.create_multipart(self.key)?;
        Ok(Journal::create(
            "upload",
            jid,
            UploadJournal {
                key: self.key.to_string(),
                upload_id,
                size: self.size,
                mtime_ns: self.mtime,
                part_size: ps,
                parts: BTreeMap::new(),
            },
        ))
    }

    /// One thread hashes the parts ahead of the senders, in groups read in one
    /// pass (their block MD5s side by side on md5x8's lanes and, when bodies
    /// are signed, their SHA-256s two by two); the first group is small so
    /// that sending starts at once. Returns the first error.
    fn send_parts(
        &self,
        journal: &Mutex<Journal<UploadJournal>>,
        todo: &[u32],
        ps: u64,
        prog: &(dyn Fn(i64) + Sync),
    ) -> Option<Error> {
        let failed = FirstError::default();
        let first_error = &failed;
        let stop = &|| self.ctx.stopped() || first_error.is_set();
        let senders = self.ctx.opts.parts_concurrency.max(1);
        let first = senders.clamp(1, cells_hash::md5x8::LANES).min(todo.len());
        let groups =
            std::iter::once(&todo[..first]).chain(todo[first..].chunks(cells_hash::md5x8::LANES));
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, RegionHash)>(cells_hash::md5x8::LANES);
        let rx = Mutex::new(rx);
        std::thread::scope(|scope| {
            // Moves `tx`: the senders stop when the hasher is done.
            scope.spawn(move || {
                for parts in groups {
                    if stop() || parts.is_empty() {
                        return;
                    }
                    match self.hash_group(parts, ps, &tx, stop) {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => return first_error.set(e),
                    }
                }
            });
            for _ in 0..senders.min(todo.len()) {
                scope.spawn(|| loop {
                    let next = rx.lock().expect("queue lock").recv();
                    let Ok((n, h)) = next else { return };
                    if stop() {
                        return;
                    }
                    if let Err(e) = self.send_part(journal, n, ps, h, prog) {
                        return first_error.set(e);
                    }
                });
            }
        });
        failed.take()
    }

    /// Hash a group of parts and queue them; `Ok(false)` to stop.
    fn hash_group(
        &self,
        parts: &[u32],
        ps: u64,
        tx: &std::sync::mpsc::SyncSender<(u32, RegionHash)>,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<bool> {
        let regions: Vec<(u64, u64)> = parts.iter().map(|&n| self.region(n, ps)).collect();
        let hashes = if self.ctx.s3.sends_unsigned() {
            cells_hash::region::block_md5s(self.file, &regions)
        } else {
            cells_hash::region::hash_regions(self.file, &regions)
        };
        let hashes = hashes.map_err(|e| Error::io("cannot read", self.path, e))?;
        Ok(parts
            .iter()
            .copied()
            .zip(hashes)
            .all(|item| pool::send_unless(tx, item, stop)))
    }

    fn region(&self, n: u32, ps: u64) -> (u64, u64) {
        let offset = (n as u64 - 1) * ps;
        (offset, ps.min(self.size - offset))
    }

    fn send_part(
        &self,
        journal: &Mutex<Journal<UploadJournal>>,
        n: u32,
        ps: u64,
        h: RegionHash,
        prog: &(dyn Fn(i64) + Sync),
    ) -> Result<()> {
        let (offset, len) = self.region(n, ps);
        let upload_id = journal.lock().expect("journal lock").data.upload_id.clone();
        let r = self.ctx.s3.upload_part(
            self.key,
            &upload_id,
            n,
            self.file,
            offset,
            len,
            Some(h),
            Some(prog),
        )?;
        let mut j = journal.lock().expect("journal lock");
        j.data.parts.insert(
            n,
            DonePart {
                etag: r.etag,
                size: len,
                blocks: r.block_md5s.iter().map(|b| cells_hash::hex(b)).collect(),
            },
        );
        j.save();
        Ok(())
    }

    /// Complete the upload; the file's Cells hash from the parts' block
    /// digests (parts are 10 MiB aligned).
    fn complete(&self, journal: Journal<UploadJournal>) -> Result<String> {
        let upload_id = &journal.data.upload_id;
        let parts: Vec<(u32, String)> = journal
            .data
            .parts
            .iter()
            .map(|(n, p)| (*n, p.etag.clone()))
            .collect();
        if let Err(e) = self.ctx.s3.complete_multipart(self.key, upload_id, &parts) {
            if e.exit == Exit::NotFound && self.completed_before(&parts) {
                // An earlier attempt completed it, its reply was lost: done.
            } else {
                if e.exit == Exit::NotFound || e.error_code() == Some("InvalidPart") {
                    let _ = self.ctx.s3.abort_multipart(self.key, upload_id);
                    journal.remove();
                }
                return Err(e);
            }
        }
        let hash = verify::hash_of_blocks(journal.data.parts.values().flat_map(|p| &p.blocks))
            .ok_or_else(|| Error::failure("corrupt upload journal"));
        journal.remove();
        hash
    }

    /// Is the object already the result of completing these parts? Its S3
    /// ETag is then the MD5 of the parts' MD5s, "-", their count.
    fn completed_before(&self, parts: &[(u32, String)]) -> bool {
        let md5s: Option<Vec<[u8; 16]>> = parts
            .iter()
            .map(|(_, etag)| verify::unhex16(etag.trim_matches('"')))
            .collect();
        let Some(md5s) = md5s else {
            return false;
        };
        let want = format!("{}-{}", cells_hash::of_block_md5s(&md5s), md5s.len());
        self.ctx
            .s3
            .head_object(self.key)
            .is_ok_and(|o| o.size == self.size && s3::same_etag(&o.etag, &want))
    }
}
