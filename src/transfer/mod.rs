//! File transfers between the local machine and the server (scp).
//!
//! `upload` / `download` take a resolved source and destination (see
//! `commands::scp` for the target semantics), then:
//! 1. plan: walk the source tree, compare with the destination (merge rules),
//! 2. delete the destination items of the other type (awaited),
//! 3. create folders,
//! 4. transfer files on a pool of `files_concurrency` threads (multipart
//!    parts on `parts_concurrency` more per file), streaming through small
//!    buffers (bounded memory),
//! 5. verify: size always; content against `x-cells-hash` (or a plain-MD5
//!    ETag) unless `--skip-md5`; after uploads, wait (bounded) until the
//!    server has indexed the new nodes.
//!
//! Downloads write `.<name>.cec-partial` in the target folder, verify, fsync
//! and rename it; uploads above the threshold are multipart. Both resume
//! from journals after an interruption (see [`journal`]).
#![allow(dead_code)]

pub mod journal;
pub mod plan;
pub mod progress;

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::api::tree::{self, ListVia, Node};
use crate::api::Client;
use crate::error::{Error, Exit, Result};
use crate::output::human_size;
use crate::s3::{self, S3};
use cells_hash::CellsHasher;

use journal::{DonePart, DownloadJournal, Journal, UploadJournal};
use plan::{join_local, join_rel, Entry, Plan};
use progress::{fmt_duration, fmt_rate, Mode, Progress};

const MIB: u64 = 1024 * 1024;
/// Downloads at least this large keep a resume journal (and start with a HEAD).
const DOWNLOAD_JOURNAL_MIN: u64 = 8 * MIB;

/// Transfer settings (from the scp flags).
#[derive(Debug, Clone)]
pub struct Options {
    pub follow_links: bool,
    pub fail_fast: bool,
    /// Bytes, a multiple of 10 MiB.
    pub part_size: u64,
    pub max_parts: u64,
    pub parts_concurrency: usize,
    pub files_concurrency: usize,
    /// Files strictly larger than this (bytes) use multipart uploads.
    pub multipart_threshold: u64,
    /// Check content hashes (`false` with `--skip-md5`; sizes are always checked).
    pub verify: bool,
    pub progress: Mode,
    /// Print the plan counts and phase messages.
    pub verbose: bool,
    /// Longest wait for the server to index uploaded files.
    pub index_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            follow_links: false,
            fail_fast: false,
            part_size: 50 * MIB,
            max_parts: 5000,
            parts_concurrency: 3,
            files_concurrency: 3,
            multipart_threshold: 100 * MIB,
            verify: true,
            progress: Mode::Log { per_file: true },
            verbose: false,
            index_timeout: Duration::from_secs(30),
        }
    }
}

/// Retry a REST call on transient failures (exit code 1: network, 5xx):
/// up to 6 attempts with back-off. Auth, not-found and conflict errors are
/// returned at once. (The REST client already retries idempotent requests,
/// listings included, within a 10 s budget; this outer loop also covers
/// folder creation and deletes, and rides out longer outages such as a
/// server restart. Folding it into the client is a known follow-up.)
pub fn retry_rest<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match f() {
            Err(e) if e.exit == Exit::Failure && attempt < 6 => {
                if crate::output::interrupt::interrupted() {
                    return Err(Error::interrupted());
                }
                let ms = (250u64 << (attempt - 1).min(3)).min(2000);
                std::thread::sleep(Duration::from_millis(ms));
            }
            other => return other,
        }
    }
}

/// Part size for a multipart upload of `size` bytes (docs/protocol.md §4.5): the
/// requested size (a multiple of 10 MiB) unless that needs `max_parts` parts
/// or more; then `size / max_parts` rounded down to 10 MiB, plus 10 MiB.
pub fn part_size_for(size: u64, requested: u64, max_parts: u64) -> u64 {
    let block = 10 * MIB;
    let max_parts = max_parts.max(1);
    let mut ps = requested.max(block);
    if size / ps >= max_parts {
        ps = size / max_parts;
        ps = ps - ps % block + block;
    }
    ps
}

/// Outcome of a run.
#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub transferred: usize,
    pub skipped: usize,
    pub bytes: u64,
    pub folders_created: usize,
    pub deleted: usize,
    pub failures: Vec<(String, Error)>,
    pub warnings: usize,
    pub retries: u64,
    pub duration: Duration,
    pub interrupted: bool,
}

impl Report {
    /// The summary line (always printed).
    pub fn summary(&self, verb: &str) -> String {
        let mut s = format!(
            "{verb} {} of {} file{}, {} in {} ({})",
            self.transferred,
            self.files,
            if self.files == 1 { "" } else { "s" },
            human_size(self.bytes),
            fmt_duration(self.duration),
            fmt_rate(self.bytes, self.duration)
        );
        if self.skipped > 0 {
            s.push_str(&format!("; {} already identical", self.skipped));
        }
        if self.folders_created > 0 {
            s.push_str(&format!(
                "; {} folder{} created",
                self.folders_created,
                if self.folders_created == 1 { "" } else { "s" }
            ));
        }
        if self.deleted > 0 {
            s.push_str(&format!("; {} replaced items removed", self.deleted));
        }
        s.push_str(&format!(
            "; {} retr{}; {} failed",
            self.retries,
            if self.retries == 1 { "y" } else { "ies" },
            self.failures.len()
        ));
        if self.interrupted {
            s.push_str("; interrupted (run the same command again to resume)");
        }
        s
    }

    /// Ok when everything went well; else the error to exit with: the file's
    /// own error for a single-file run, "partial" (exit 6) otherwise, 130 when
    /// interrupted.
    pub fn into_result(mut self) -> Result<()> {
        if self.interrupted {
            return Err(Error::interrupted());
        }
        if self.failures.is_empty() {
            return Ok(());
        }
        if self.files <= 1 && self.failures.len() == 1 {
            let (_, e) = self.failures.remove(0);
            return Err(e);
        }
        Err(Error::partial(format!(
            "{} of {} files failed",
            self.failures.len(),
            self.files
        )))
    }
}

/// Everything a run shares between its threads.
pub struct Ctx<'a> {
    pub client: &'a Client,
    pub s3: &'a S3,
    pub opts: &'a Options,
    pub progress: Arc<Progress>,
    /// Set by `--fail-fast` after the first failure (and by Ctrl-C).
    pub stop: Arc<AtomicBool>,
    failures: Mutex<Vec<(String, Error)>>,
    warnings: AtomicUsize,
}

impl<'a> Ctx<'a> {
    pub fn new(
        client: &'a Client,
        s3: &'a S3,
        opts: &'a Options,
        verb: &'static str,
        stop: Arc<AtomicBool>,
    ) -> Ctx<'a> {
        Ctx {
            client,
            s3,
            opts,
            progress: Progress::new(opts.progress, verb),
            stop,
            failures: Mutex::new(Vec::new()),
            warnings: AtomicUsize::new(0),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || crate::output::interrupt::interrupted()
    }

    fn warn(&self, msg: &str) {
        self.warnings.fetch_add(1, Ordering::Relaxed);
        self.progress.message(&format!("Warning: {msg}"));
    }

    fn info(&self, msg: &str) {
        if self.opts.verbose {
            self.progress.message(msg);
        }
    }

    /// Run `f` over the planned files on the pool while the progress display
    /// runs; `f` returns the file's display name and its outcome, failures are
    /// recorded under that name. Results in file order (`None` = not run,
    /// `Some(None)` = failed).
    fn run_files<T: Sync, R: Send>(
        &self,
        files: &[T],
        f: &(dyn Fn(&T) -> (String, Result<R>) + Sync),
    ) -> Vec<Option<Option<R>>> {
        let display = self.progress.clone();
        std::thread::scope(|s| {
            let h = s.spawn(|| display.run_display());
            let results = pool(
                files,
                self.opts.files_concurrency,
                &|| self.stopped(),
                &|item| {
                    let (name, r) = f(item);
                    if let Err(e) = &r {
                        self.fail(&name, e.clone_msg());
                    }
                    r.ok()
                },
            );
            self.progress.finish();
            let _ = h.join();
            results
        })
    }

    fn fail(&self, rel: &str, e: Error) {
        if e.exit == Exit::Interrupted {
            return;
        }
        if self.opts.fail_fast {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.failures
            .lock()
            .expect("failures lock")
            .push((rel.to_string(), e));
    }
}

/// What happened to one file.
enum FileDone {
    /// Transferred; the content hash computed on the way (Cells algorithm).
    Sent { bytes: u64, hash: String },
    /// Identical at the destination: nothing sent.
    Skipped,
}

/// Display name of a relative path (`""` = the root item's own name), safe
/// for a terminal or a log (control characters escaped).
fn display_rel(root_name: &str, rel: &str) -> String {
    crate::output::escape_control(&join_rel(root_name, rel)).into_owned()
}

/// Run `f` on every item with `n` threads; stops taking new items when
/// `stop()` says so. Returns the results in item order (`None` = not run).
fn pool<T: Sync, R: Send>(
    items: &[T],
    n: usize,
    stop: &(dyn Fn() -> bool + Sync),
    f: &(dyn Fn(&T) -> R + Sync),
) -> Vec<Option<R>> {
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let workers = n.max(1).min(items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                results.lock().expect("pool lock")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("pool lock")
}

/// Finish a run: stop the display, collect counters.
fn finish(ctx: &Ctx<'_>, mut report: Report) -> Report {
    ctx.progress.finish();
    report.failures = std::mem::take(&mut *ctx.failures.lock().expect("failures lock"));
    report.retries = ctx.s3.retries();
    report.duration = ctx.progress.elapsed();
    report.warnings = ctx.warnings.load(Ordering::Relaxed);
    report.interrupted = crate::output::interrupt::interrupted();
    report
}

fn print_plan(ctx: &Ctx<'_>, plan: &Plan) {
    let n = plan.delete.len() + plan.create.len() + plan.files.len();
    if n > 1 {
        ctx.info(&format!(
            "After walking the tree, found {} nodes to delete, {} to create and {} to transfer",
            plan.delete.len(),
            plan.create.len(),
            plan.files.len()
        ));
    }
}

// ===========================================================================
// Upload
// ===========================================================================

/// Upload the local item `source` to the remote path `dest` (the full path
/// the item gets). `existing` is the node already at `dest` (merge mode).
pub fn upload(ctx: &Ctx<'_>, source: &Path, dest: &str, existing: Option<&Node>) -> Result<Report> {
    let root_name = tree::base_name(dest).to_string();
    let mut walk_warnings = Vec::new();
    let links = if ctx.opts.follow_links {
        plan::Links::Follow
    } else {
        plan::Links::Skip
    };
    let entries = plan::walk_local(source, links, &|_| true, &mut |w| walk_warnings.push(w))?;
    for w in walk_warnings {
        ctx.warn(&w);
    }
    // What is already there (merge): only folders that exist on both sides are listed.
    let mut dest_map: HashMap<String, Entry> = HashMap::new();
    if let Some(node) = existing {
        let local_dirs: std::collections::HashSet<&str> = entries
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
        for e in plan::walk_remote(
            ctx.client,
            node,
            &|rel| local_dirs.contains(rel),
            &mut ignore,
        )? {
            dest_map.insert(e.rel.clone(), e);
        }
    }
    let plan = plan::compare(&entries, &dest_map);
    print_plan(ctx, &plan);
    let mut report = Report {
        files: plan.files.len(),
        ..Report::default()
    };
    let total: u64 = plan.files.iter().map(|(e, _)| e.size).sum();
    ctx.progress.set_totals(plan.files.len(), total);

    // 1. Remove destination items of the other type, and wait until they are gone.
    if !plan.delete.is_empty() {
        let paths: Vec<String> = plan.delete.iter().map(|e| join_rel(dest, &e.rel)).collect();
        for p in &paths {
            ctx.info(&format!("Replacing cells://{p}"));
        }
        let jobs = retry_rest(|| tree::delete(ctx.client, &paths, false))
            .map_err(|e| e.context("could not remove the items to replace"))?;
        for r in crate::api::jobs::wait_all(ctx.client, &jobs, Duration::from_secs(120)) {
            r.map_err(|e| e.context("could not remove the items to replace"))?;
        }
        for p in &paths {
            if !tree::wait_gone(
                ctx.client,
                p,
                Duration::from_secs(30),
                Duration::from_millis(200),
            )? {
                return Err(Error::failure(format!(
                    "cells://{p} is still there after deleting it; try again later"
                )));
            }
        }
        report.deleted = paths.len();
    }
    // 2. Folders (parents first: the walk is depth-first pre-order).
    if !plan.create.is_empty() {
        let paths: Vec<String> = plan.create.iter().map(|r| join_rel(dest, r)).collect();
        retry_rest(|| tree::create_folders(ctx.client, &paths))
            .map_err(|e| e.context(format!("could not create folders at cells://{dest}")))?;
        report.folders_created = paths.len();
        ctx.info(&format!("Created {} folders on the server", paths.len()));
    }
    // 3. Files.
    let disp = ctx.run_files(&plan.files, &|(src, dst)| {
        let remote = join_rel(dest, &src.rel);
        let name = display_rel(&root_name, &src.rel);
        let r = upload_file(ctx, src, &remote, dst.as_ref(), &name);
        (name, r.map(|d| (remote, src.size, d)))
    });
    // 4. Wait for the index and verify what the server recorded.
    let mut to_check = Vec::new();
    for (i, r) in disp.into_iter().enumerate() {
        match r {
            Some(Some((remote, _, FileDone::Sent { bytes, hash }))) => {
                report.transferred += 1;
                report.bytes += bytes;
                let (src, _) = &plan.files[i];
                let name = display_rel(&root_name, &src.rel);
                to_check.push((name, remote, bytes, hash));
            }
            Some(Some((_, _, FileDone::Skipped))) => report.skipped += 1,
            _ => {}
        }
    }
    if !to_check.is_empty() && !ctx.stopped() {
        wait_indexed(ctx, to_check);
    }
    Ok(finish(ctx, report))
}

trait CloneMsg {
    fn clone_msg(&self) -> Error;
}
impl CloneMsg for Error {
    fn clone_msg(&self) -> Error {
        let mut e = Error::new(self.exit, self.message.clone());
        e.help_for = self.help_for.clone();
        e
    }
}

fn upload_file(
    ctx: &Ctx<'_>,
    src: &Entry,
    remote: &str,
    existing: Option<&Entry>,
    name: &str,
) -> Result<FileDone> {
    let path = src.local.as_ref().expect("local entry");
    let file = File::open(path).map_err(|e| Error::failure(format!("{}: {e}", path.display())))?;
    let meta = file.metadata()?;
    let size = meta.len();
    // Identical file already at the destination (merge / resume): skip it.
    if let Some(d) = existing {
        if let Some(h) = d.node.as_ref().and_then(|n| n.hash()) {
            if d.size == size && cells_hash::hash_file(path).ok().as_deref() == Some(h.as_str()) {
                ctx.progress
                    .skipped(size, Some(format!("Skipped {name} (already identical)")));
                return Ok(FileDone::Skipped);
            }
        }
    }
    let active = ctx.progress.begin(name, size);
    let started = Instant::now();
    let prog = |n: i64| ctx.progress.add(&active, n);
    let res = if size > ctx.opts.multipart_threshold {
        upload_multipart(ctx, &file, &meta, path, remote, size, &prog, &active)
    } else {
        ctx.s3
            .put_object(remote, &file, 0, size, Some(&prog))
            .and_then(|r| {
                check_put_etag(remote, &r)?;
                Ok(cells_hash::of_block_md5s(&r.block_md5s))
            })
    };
    let res = res.and_then(|hash| {
        // The local file must not have changed while it was sent.
        let now = std::fs::metadata(path)?;
        if now.len() != size || journal::mtime_ns(&now) != journal::mtime_ns(&meta) {
            return Err(Error::failure(format!(
                "{}: the file changed while it was uploaded; run again to send the new version",
                path.display()
            )));
        }
        Ok(hash)
    });
    let line = match &res {
        Ok(_) => format!(
            "Uploaded {name} ({}, {})",
            human_size(size),
            fmt_rate(size, started.elapsed())
        ),
        Err(e) => format!("Failed {name}: {e}"),
    };
    let interrupted = matches!(&res, Err(e) if e.exit == Exit::Interrupted);
    ctx.progress
        .end(&active, res.is_ok(), (!interrupted).then_some(line));
    res.map(|hash| FileDone::Sent { bytes: size, hash })
}

/// A single PUT's ETag is the MD5 of the body on MinIO-like servers: check it
/// when it looks like one and the body is one hash block (its MD5 is known).
fn check_put_etag(key: &str, r: &s3::PutResult) -> Result<()> {
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

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[allow(clippy::too_many_arguments)]
fn upload_multipart(
    ctx: &Ctx<'_>,
    file: &File,
    meta: &std::fs::Metadata,
    path: &Path,
    key: &str,
    size: u64,
    prog: &(dyn Fn(i64) + Sync),
    active: &progress::Active,
) -> Result<String> {
    let ps = part_size_for(size, ctx.opts.part_size, ctx.opts.max_parts);
    let n_parts = size.div_ceil(ps) as u32;
    let jid = journal::upload_id(ctx.client.base_url(), key, path);
    let mtime = journal::mtime_ns(meta);
    if crate::output::log::debug_enabled() {
        ctx.progress.message(&format!(
            "Multipart upload for {key}\n\tSize: {}\n\tPart Size: {}\n\tNumber of parts: {n_parts}",
            human_size(size),
            human_size(ps)
        ));
    }
    // Resume a previous attempt when the journal still matches the file and the server.
    let mut resumed: Option<Journal<UploadJournal>> = None;
    if let Some(mut j) = Journal::<UploadJournal>::load("upload", &jid) {
        let d = &j.data;
        if d.key == key && d.size == size && d.mtime_ns == mtime && d.part_size == ps {
            match ctx.s3.list_parts(key, &d.upload_id) {
                Ok(server_parts) => {
                    let on_server: HashMap<u32, &s3::PartInfo> =
                        server_parts.iter().map(|p| (p.number, p)).collect();
                    j.data.parts.retain(|n, p| {
                        on_server
                            .get(n)
                            .is_some_and(|s| s3::same_etag(&s.etag, &p.etag) && s.size == p.size)
                    });
                    j.save();
                    ctx.info(&format!(
                        "Resuming the upload of {key}: {} of {n_parts} parts already on the server",
                        j.data.parts.len()
                    ));
                    resumed = Some(j);
                }
                Err(e) if e.exit == Exit::NotFound => j.remove(),
                Err(e) => return Err(e),
            }
        } else {
            if !d.upload_id.is_empty() {
                let _ = ctx.s3.abort_multipart(&d.key, &d.upload_id);
            }
            j.remove();
        }
    }
    let journal = match resumed {
        Some(j) => j,
        None => {
            let upload_id = ctx.s3.create_multipart(key)?;
            Journal::create(
                "upload",
                &jid,
                UploadJournal {
                    key: key.to_string(),
                    upload_id,
                    size,
                    mtime_ns: mtime,
                    part_size: ps,
                    parts: BTreeMap::new(),
                },
            )
        }
    };
    let upload_id = journal.data.upload_id.clone();
    let already: u64 = journal.data.parts.values().map(|p| p.size).sum();
    ctx.progress.add_skipped(active, already);
    let todo: Vec<u32> = (1..=n_parts)
        .filter(|n| !journal.data.parts.contains_key(n))
        .collect();
    let journal = Mutex::new(journal);
    let part_failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let fail = |e: Error| {
        part_failed.store(true, Ordering::Relaxed);
        first_error.lock().expect("error lock").get_or_insert(e);
    };
    let stop = || ctx.stopped() || part_failed.load(Ordering::Relaxed);
    let region = |n: u32| {
        let offset = (n as u64 - 1) * ps;
        (offset, ps.min(size - offset))
    };
    // One thread hashes the parts ahead of the senders, in groups read in one
    // pass (their MD5s side by side on md5x8's lanes, their SHA-256s two by
    // two); the first group is small so that sending starts at once.
    let senders = ctx.opts.parts_concurrency.max(1);
    let first = senders.clamp(1, cells_hash::md5x8::LANES).min(todo.len());
    let groups =
        std::iter::once(&todo[..first]).chain(todo[first..].chunks(cells_hash::md5x8::LANES));
    let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, cells_hash::region::RegionHash)>(
        cells_hash::md5x8::LANES,
    );
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for parts in groups {
                if stop() || parts.is_empty() {
                    return;
                }
                let regions: Vec<(u64, u64)> = parts.iter().map(|&n| region(n)).collect();
                let hashes = match cells_hash::region::hash_regions(file, &regions)
                    .map_err(s3::read_error)
                {
                    Ok(h) => h,
                    Err(e) => return fail(e),
                };
                for item in parts.iter().copied().zip(hashes) {
                    if !send_unless(&tx, item, &stop) {
                        return;
                    }
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
                let (offset, len) = region(n);
                match ctx
                    .s3
                    .upload_part(key, &upload_id, n, file, offset, len, Some(h), Some(prog))
                {
                    Ok(r) => {
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
                    }
                    Err(e) => return fail(e),
                }
            });
        }
    });
    let journal = journal.into_inner().expect("journal lock");
    if let Some(e) = first_error.into_inner().expect("error lock") {
        if e.exit == Exit::NotFound {
            // The upload vanished on the server: start over next time.
            journal.remove();
        }
        return Err(e);
    }
    if ctx.stopped() || journal.data.parts.len() != n_parts as usize {
        return Err(Error::interrupted());
    }
    let parts: Vec<(u32, String)> = journal
        .data
        .parts
        .iter()
        .map(|(n, p)| (*n, p.etag.clone()))
        .collect();
    match ctx.s3.complete_multipart(key, &upload_id, &parts) {
        Ok(_) => {}
        Err(e) => {
            if e.exit == Exit::NotFound || e.message.contains("InvalidPart") {
                let _ = ctx.s3.abort_multipart(key, &upload_id);
                journal.remove();
            }
            return Err(e);
        }
    }
    // Cells hash of the whole file from the parts' block digests (parts are 10 MiB aligned).
    let mut blocks: Vec<[u8; 16]> = Vec::new();
    for p in journal.data.parts.values() {
        for b in &p.blocks {
            blocks.push(unhex16(b).ok_or_else(|| Error::failure("corrupt upload journal"))?);
        }
    }
    journal.remove();
    Ok(cells_hash::of_block_md5s(&blocks))
}

/// Queue `item`, waiting while the queue is full; `false` when `stop()` says
/// the senders are gone or going (so the producer never blocks forever).
fn send_unless<T>(
    tx: &std::sync::mpsc::SyncSender<T>,
    mut item: T,
    stop: &(dyn Fn() -> bool + Sync),
) -> bool {
    use std::sync::mpsc::TrySendError;
    loop {
        match tx.try_send(item) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if stop() {
                    return false;
                }
                item = back;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

fn unhex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Poll the server until every uploaded file is indexed with the expected
/// size and (unless `--skip-md5`) content hash. A hash or size that still
/// differs at the deadline is a failure; a node still missing is a warning.
fn wait_indexed(ctx: &Ctx<'_>, items: Vec<(String, String, u64, String)>) {
    let deadline = Instant::now() + ctx.opts.index_timeout;
    // name, remote, size, hash, last problem
    let mut pending: Vec<(String, String, u64, String, Option<String>)> = items
        .into_iter()
        .map(|(a, b, c, d)| (a, b, c, d, None))
        .collect();
    let mut delay = Duration::from_millis(100);
    loop {
        let mut by_parent: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, p) in pending.iter().enumerate() {
            by_parent
                .entry(tree::parent_path(&p.1).to_string())
                .or_default()
                .push(i);
        }
        let mut found: HashMap<usize, Node> = HashMap::new();
        for (parent, idx) in &by_parent {
            if idx.len() <= 2 {
                for &i in idx {
                    if let Ok(Some(n)) = tree::stat(ctx.client, &pending[i].1) {
                        found.insert(i, n);
                    }
                }
            } else if let Ok(kids) = tree::list_children(ctx.client, parent, ListVia::TreeStats) {
                let by_path: HashMap<String, Node> =
                    kids.into_iter().map(|n| (n.path.clone(), n)).collect();
                for &i in idx {
                    if let Some(n) = by_path.get(&tree::clean_path(&pending[i].1)) {
                        found.insert(i, n.clone());
                    } else if tree::base_name(&pending[i].1).starts_with('.') {
                        // Listings hide dot-files: ask for them one by one.
                        if let Ok(Some(n)) = tree::stat(ctx.client, &pending[i].1) {
                            found.insert(i, n);
                        }
                    }
                }
            }
        }
        let mut still = Vec::new();
        for (i, mut p) in pending.into_iter().enumerate() {
            match found.get(&i) {
                None => {
                    p.4 = None;
                    still.push(p);
                }
                Some(n) => {
                    let size_ok = n.size.unwrap_or(0).max(0) as u64 == p.2;
                    let server_hash = n.hash();
                    let hash_ok =
                        !ctx.opts.verify || server_hash.as_deref().is_none_or(|h| h == p.3);
                    if size_ok && hash_ok {
                        continue;
                    }
                    p.4 = Some(if !size_ok {
                        format!(
                            "size mismatch after upload (server has {} bytes, local file {})",
                            n.size.unwrap_or(0),
                            p.2
                        )
                    } else {
                        format!(
                            "checksum mismatch after upload (server {}, local {})",
                            server_hash.unwrap_or_default(),
                            p.3
                        )
                    });
                    still.push(p);
                }
            }
        }
        pending = still;
        if pending.is_empty() || Instant::now() >= deadline || ctx.stopped() {
            break;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    for (name, remote, _, _, problem) in pending {
        match problem {
            Some(msg) => ctx.fail(&name, Error::failure(format!("{remote}: {msg}"))),
            None => ctx.warn(&format!(
                "cells://{remote} is not visible in the server index yet (waited {}s)",
                ctx.opts.index_timeout.as_secs()
            )),
        }
    }
}

// ===========================================================================
// Download
// ===========================================================================

/// Download the remote item `source` to the local path `dest` (the full path
/// the item gets). `merge`: `dest` exists and is merged into.
pub fn download(ctx: &Ctx<'_>, source: &Node, dest: &Path, merge: bool) -> Result<Report> {
    let root_name = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rejected: Vec<(String, Error)> = Vec::new();
    let entries = plan::walk_remote(ctx.client, source, &|_| true, &mut |what, e| {
        ctx.warn(&e.message);
        rejected.push((what, e));
    })?;
    let mut dest_map: HashMap<String, Entry> = HashMap::new();
    if merge {
        let remote_dirs: std::collections::HashSet<&str> = entries
            .iter()
            .filter(|e| e.is_dir)
            .map(|e| e.rel.as_str())
            .collect();
        // Links at the destination are replaced like files (never followed).
        if let Ok(m) = std::fs::symlink_metadata(dest) {
            if m.file_type().is_symlink() {
                dest_map.insert(
                    String::new(),
                    Entry {
                        rel: String::new(),
                        is_dir: false,
                        is_link: true,
                        size: 0,
                        local: Some(dest.to_path_buf()),
                        node: None,
                    },
                );
            } else {
                let descend = |rel: &str| remote_dirs.contains(rel);
                for e in plan::walk_local(dest, plan::Links::Report, &descend, &mut |_| {})? {
                    dest_map.insert(e.rel.clone(), e);
                }
            }
        }
    }
    let plan = plan::compare(&entries, &dest_map);
    print_plan(ctx, &plan);
    // Refused entries are failed items of the run.
    let mut report = Report {
        files: plan.files.len() + rejected.len(),
        ..Report::default()
    };
    for (what, e) in rejected {
        ctx.fail(&what, e);
    }
    let total: u64 = plan.files.iter().map(|(e, _)| e.size).sum();
    ctx.progress.set_totals(plan.files.len(), total);

    for e in &plan.delete {
        let p = join_local(dest, &e.rel);
        ctx.info(&format!("Replacing {}", p.display()));
        let r = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
            Ok(_) => std::fs::remove_file(&p),
            Err(_) => Ok(()),
        };
        r.map_err(|err| Error::failure(format!("cannot remove {}: {err}", p.display())))?;
        report.deleted += 1;
    }
    for rel in &plan.create {
        let p = join_local(dest, rel);
        std::fs::create_dir_all(&p)
            .map_err(|err| Error::failure(format!("cannot create {}: {err}", p.display())))?;
        report.folders_created += 1;
    }
    // Every file must land inside this folder, links resolved (see `ensure_inside`).
    let top = if source.is_dir() {
        dest
    } else {
        dest.parent().unwrap_or(Path::new("/"))
    };
    let top = std::fs::canonicalize(top)
        .map_err(|e| Error::failure(format!("cannot open {}: {e}", top.display())))?;
    let results = ctx.run_files(&plan.files, &|(src, dst)| {
        let target = join_local(dest, &src.rel);
        let name = display_rel(&root_name, &src.rel);
        let r = ensure_inside(&top, &target)
            .and_then(|()| download_file(ctx, src, &target, dst.as_ref(), &name));
        (name.clone(), r)
    });
    for r in results.into_iter().flatten().flatten() {
        match r {
            FileDone::Sent { bytes, .. } => {
                report.transferred += 1;
                report.bytes += bytes;
            }
            FileDone::Skipped => report.skipped += 1,
        }
    }
    Ok(finish(ctx, report))
}

/// Downloads at least this large are fetched as parallel ranges.
const SEGMENTED_MIN: u64 = 64 * MIB;

/// A large download as parallel ranged GETs of 10 MiB-aligned segments
/// (`parts_concurrency` at a time) written in place into the temporary file.
/// The journal records finished segments (with their block MD5s), so an
/// interrupted download only fetches the missing ones.
#[allow(clippy::too_many_arguments)]
fn download_segmented(
    ctx: &Ctx<'_>,
    key: &str,
    info: &s3::ObjectInfo,
    temp: &Path,
    target: &Path,
    jid: &str,
    previous: Option<Journal<DownloadJournal>>,
    remote_hash: Option<&str>,
    node: &Node,
    prog: &(dyn Fn(i64) + Sync),
    active: &progress::Active,
) -> Result<(u64, u64)> {
    let size = info.size;
    // At least 8 hash blocks per segment, so that its blocks fill md5x8's lanes.
    let seg = part_size_for(size, ctx.opts.part_size, 10_000)
        .max(cells_hash::md5x8::LANES as u64 * cells_hash::BLOCK_SIZE)
        .min(
            size.div_ceil(cells_hash::BLOCK_SIZE)
                .div_ceil(ctx.opts.parts_concurrency.max(1) as u64)
                * cells_hash::BLOCK_SIZE,
        );
    let n_seg = size.div_ceil(seg) as u32;
    let have = std::fs::metadata(temp).map(|m| m.len()).unwrap_or(0);
    let mut journal = match previous {
        Some(j)
            if j.data.key == key
                && j.data.size == size
                && j.data.segment == seg
                && s3::same_etag(&j.data.etag, &info.etag)
                && have == size =>
        {
            ctx.info(&format!(
                "Resuming the download of {key}: {} of {n_seg} segments already here",
                j.data.done.len()
            ));
            j
        }
        other => {
            if let Some(j) = other {
                j.remove();
            }
            let _ = std::fs::remove_file(temp);
            Journal::create(
                "download",
                jid,
                DownloadJournal {
                    key: key.to_string(),
                    etag: info.etag.clone(),
                    size,
                    segment: seg,
                    done: BTreeMap::new(),
                },
            )
        }
    };
    journal.data.done.retain(|n, _| *n < n_seg);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .open(temp)
        .map_err(|e| Error::failure(format!("cannot write {}: {e}", temp.display())))?;
    file.set_len(size)
        .map_err(|e| Error::failure(format!("cannot write {}: {e}", temp.display())))?;
    let already: u64 = journal
        .data
        .done
        .keys()
        .map(|n| seg.min(size - *n as u64 * seg))
        .sum();
    ctx.progress.add_skipped(active, already);
    let todo: Vec<u32> = (0..n_seg)
        .filter(|n| !journal.data.done.contains_key(n))
        .collect();
    let journal = Mutex::new(journal);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let stop = || ctx.stopped() || failed.load(Ordering::Relaxed);
    pool(&todo, ctx.opts.parts_concurrency, &stop, &|&n| {
        let start = n as u64 * seg;
        let end = (start + seg).min(size);
        // Bytes of this segment counted in the progress, to undo on failure.
        let counted = AtomicU64::new(0);
        let count = |n: i64| {
            counted.fetch_add(n as u64, Ordering::Relaxed);
            prog(n)
        };
        let r = ctx
            .s3
            .get_range(
                key,
                start,
                Some(end),
                Some(&info.etag),
                s3::Sink::File(&file),
                Some(&count),
            )
            // Hash what the file now holds (the segment's blocks side by side
            // on md5x8's lanes, while the pages are still cached).
            .and_then(|(_, got)| {
                cells_hash::md5x8::file_block_md5s(&file, start, got, cells_hash::BLOCK_SIZE)
                    .map(|blocks| (got, blocks))
                    .map_err(|e| Error::failure(format!("cannot read {}: {e}", temp.display())))
            });
        match r {
            Ok((got, blocks)) if start + got == end => {
                let mut j = journal.lock().expect("journal lock");
                j.data
                    .done
                    .insert(n, blocks.iter().map(|b| cells_hash::hex(b)).collect());
                j.save();
            }
            Ok((got, _)) => {
                failed.store(true, Ordering::Relaxed);
                first_error
                    .lock()
                    .expect("error lock")
                    .get_or_insert(Error::failure(format!(
                        "{key}: short range {start}-{end} (got {got} bytes)"
                    )));
            }
            Err(e) => {
                // Undo the progress of the unfinished segment.
                prog(-(counted.load(Ordering::Relaxed) as i64));
                failed.store(true, Ordering::Relaxed);
                first_error.lock().expect("error lock").get_or_insert(e);
            }
        }
    });
    let journal = journal.into_inner().expect("journal lock");
    if let Some(e) = first_error.into_inner().expect("error lock") {
        if e.exit == Exit::Conflict || e.exit == Exit::NotFound {
            let _ = std::fs::remove_file(temp);
            journal.remove();
        }
        return Err(e);
    }
    if ctx.stopped() || journal.data.done.len() != n_seg as usize {
        return Err(Error::interrupted());
    }
    let discard = |msg: String| -> Result<(u64, u64)> {
        let _ = std::fs::remove_file(temp);
        journal.remove();
        Err(Error::failure(format!("{key}: {msg}")))
    };
    let mut blocks: Vec<[u8; 16]> = Vec::new();
    for hexes in journal.data.done.values() {
        for h in hexes {
            match unhex16(h) {
                Some(b) => blocks.push(b),
                None => return discard("corrupt download journal".into()),
            }
        }
    }
    let computed = cells_hash::of_block_md5s(&blocks);
    if ctx.opts.verify {
        let expected = match remote_hash {
            Some(h) if node.size.unwrap_or(-1) as u64 == size => Some(h.to_string()),
            Some(_) => retry_rest(|| tree::stat(ctx.client, key))
                .ok()
                .flatten()
                .and_then(|n| n.hash()),
            None => None,
        };
        if let Some(h) = expected {
            if h != computed {
                return discard(format!(
                    "checksum mismatch (server {h}, received {computed})"
                ));
            }
        }
    }
    if let Some(m) = node.mtime.filter(|m| *m > 0) {
        let _ = file.set_modified(UNIX_EPOCH + Duration::from_secs(m as u64));
    }
    file.sync_all()
        .map_err(|e| Error::failure(format!("cannot write {}: {e}", temp.display())))?;
    drop(file);
    std::fs::rename(temp, target)
        .map_err(|e| Error::failure(format!("cannot move {} into place: {e}", target.display())))?;
    journal.remove();
    Ok((size, size - already))
}

/// Refuse to write `target` unless its folder, symbolic links resolved, lies inside
/// `top` (canonical): nothing a server lists may lead a download elsewhere, not even
/// through a link that already exists in the destination.
fn ensure_inside(top: &Path, target: &Path) -> Result<()> {
    let folder = target.parent().unwrap_or(Path::new("/"));
    let real = std::fs::canonicalize(folder)
        .map_err(|e| Error::failure(format!("cannot open {}: {e}", folder.display())))?;
    if real.starts_with(top) {
        Ok(())
    } else {
        Err(Error::partial(format!(
            "refused to write {}: its folder leads outside {} (through a symbolic link)",
            target.display(),
            top.display()
        )))
    }
}

/// Longest file name most file systems take (bytes).
const NAME_MAX: usize = 255;
const PARTIAL_SUFFIX: &str = ".cec-partial";

/// Temporary name of a download in progress: `.<name>.cec-partial` next to the
/// target. When that would exceed [`NAME_MAX`], the name is cut (on a character
/// boundary) and a digest of the full name keeps it unique and stable (resume).
pub fn partial_path(target: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let name = target.file_name().unwrap_or_default();
    let bytes = name.as_bytes();
    let full = 1 + bytes.len() + PARTIAL_SUFFIX.len();
    if full <= NAME_MAX {
        let mut s = std::ffi::OsString::from(".");
        s.push(name);
        s.push(PARTIAL_SUFFIX);
        return target.with_file_name(s);
    }
    let digest = cells_hash::md5_hex(bytes);
    let tag = &digest[..12];
    // "." + cut + "~" + tag + suffix fits in NAME_MAX.
    let room = NAME_MAX - 1 - 1 - tag.len() - PARTIAL_SUFFIX.len();
    let lossy = String::from_utf8_lossy(bytes);
    let mut cut = String::new();
    for c in lossy.chars() {
        if cut.len() + c.len_utf8() > room {
            break;
        }
        cut.push(c);
    }
    target.with_file_name(format!(".{cut}~{tag}{PARTIAL_SUFFIX}"))
}

/// Size of the buffers handed to the download writer thread (at most 4 exist
/// per download: bounded memory).
const PIPE_BUF: usize = 1024 * 1024;

/// Collects received bytes into 1 MiB buffers and hands them to the thread
/// that hashes and writes them; buffers come back for reuse.
struct PipeWriter {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    back: std::sync::mpsc::Receiver<Vec<u8>>,
    cur: Vec<u8>,
}

impl PipeWriter {
    fn send_cur(&mut self) -> std::io::Result<()> {
        if self.cur.is_empty() {
            return Ok(());
        }
        let next = self
            .back
            .try_recv()
            .map(|mut b| {
                b.clear();
                b
            })
            .unwrap_or_else(|_| Vec::with_capacity(PIPE_BUF));
        let full = std::mem::replace(&mut self.cur, next);
        match &self.tx {
            Some(tx) => tx
                .send(full)
                .map_err(|_| std::io::Error::other("the local file writer stopped")),
            None => Err(std::io::Error::other("writer closed")),
        }
    }
    /// Send what is left and close the channel.
    fn finish(&mut self) -> std::io::Result<()> {
        let r = self.send_cur();
        self.tx = None;
        r
    }
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = PIPE_BUF - self.cur.len();
        let n = room.min(buf.len());
        self.cur.extend_from_slice(&buf[..n]);
        if self.cur.len() >= PIPE_BUF {
            self.send_cur()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn download_file(
    ctx: &Ctx<'_>,
    src: &Entry,
    target: &Path,
    existing: Option<&Entry>,
    name: &str,
) -> Result<FileDone> {
    let node = src.node.as_ref().expect("remote entry");
    let key = tree::clean_path(&node.path);
    let remote_hash = node.hash();
    if let (Some(d), Some(h)) = (existing, remote_hash.as_deref()) {
        if d.size == src.size && cells_hash::hash_file(target).ok().as_deref() == Some(h) {
            ctx.progress.skipped(
                src.size,
                Some(format!("Skipped {name} (already identical)")),
            );
            return Ok(FileDone::Skipped);
        }
    }
    let temp = partial_path(target);
    let jid = journal::download_id(ctx.client.base_url(), &key, &temp);
    let active = ctx.progress.begin(name, src.size);
    let started = Instant::now();
    let prog = |n: i64| ctx.progress.add(&active, n);

    let res = (|| -> Result<(u64, u64)> {
        // Resume from a partial file when the remote object is unchanged.
        let mut start = 0u64;
        let mut expect_etag: Option<String> = None;
        let mut journal: Option<Journal<DownloadJournal>> = None;
        if src.size >= DOWNLOAD_JOURNAL_MIN {
            let info = ctx.s3.head_object(&key)?;
            let previous = Journal::<DownloadJournal>::load("download", &jid);
            let sequential_resume = previous.as_ref().is_some_and(|j| j.data.segment == 0);
            if info.size >= SEGMENTED_MIN
                && ctx.opts.parts_concurrency > 1
                && !info.etag.is_empty()
                && !sequential_resume
            {
                return download_segmented(
                    ctx,
                    &key,
                    &info,
                    &temp,
                    target,
                    &jid,
                    previous,
                    remote_hash.as_deref(),
                    node,
                    &prog,
                    &active,
                );
            }
            if let Some(j) = previous {
                let have = std::fs::metadata(&temp).map(|m| m.len()).unwrap_or(0);
                if j.data.key == key
                    && j.data.size == info.size
                    && s3::same_etag(&j.data.etag, &info.etag)
                    && !info.etag.is_empty()
                    && have > 0
                {
                    start = have.min(info.size);
                    ctx.info(&format!(
                        "Resuming the download of {key} at {}",
                        human_size(start)
                    ));
                } else {
                    j.remove();
                }
            }
            if !info.etag.is_empty() {
                expect_etag = Some(info.etag.clone());
                journal = Some(Journal::create(
                    "download",
                    &jid,
                    DownloadJournal {
                        key: key.clone(),
                        etag: info.etag.clone(),
                        size: info.size,
                        segment: 0,
                        done: BTreeMap::new(),
                    },
                ));
            }
        }
        let mut hasher = CellsHasher::new();
        let mut file = if start > 0 {
            let mut f = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&temp)?;
            // Hash what is already there, then append.
            let mut buf = vec![0u8; s3::IO_BUF];
            let mut left = start;
            f.seek(SeekFrom::Start(0))?;
            while left > 0 {
                let want = left.min(buf.len() as u64) as usize;
                f.read_exact(&mut buf[..want])?;
                hasher.update(&buf[..want]);
                left -= want as u64;
            }
            f.set_len(start)?;
            f.seek(SeekFrom::Start(start))?;
            ctx.progress.add_skipped(&active, start);
            f
        } else {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&temp)
                .map_err(|e| Error::failure(format!("cannot write {}: {e}", temp.display())))?
        };
        // Receive on this thread; hash and write on a helper thread.
        let (got, written) = std::thread::scope(|sc| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            let (f, h) = (&mut file, &mut hasher);
            let helper = sc.spawn(move || -> std::io::Result<()> {
                for buf in rx {
                    h.update(&buf);
                    f.write_all(&buf)?;
                    let _ = back_tx.send(buf);
                }
                Ok(())
            });
            let mut w = PipeWriter {
                tx: Some(tx),
                back: back_rx,
                cur: Vec::with_capacity(PIPE_BUF),
            };
            let got = ctx
                .s3
                .get_object(&key, start, expect_etag.as_deref(), &mut w, Some(&prog));
            let flushed = w.finish();
            let written = helper
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("writer thread panicked")))
                .and(flushed);
            (got, written)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            if let Some(j) = &journal {
                j.remove();
            }
            return Err(Error::failure(format!(
                "cannot write {}: {e}",
                temp.display()
            )));
        }
        let (info, n) = match got {
            Ok(x) => x,
            Err(e) => {
                if journal.is_none() || e.exit == Exit::Conflict || e.exit == Exit::NotFound {
                    let _ = std::fs::remove_file(&temp);
                    if let Some(j) = &journal {
                        j.remove();
                    }
                }
                return Err(e);
            }
        };
        let total = start + n;
        let discard = |msg: String| {
            let _ = std::fs::remove_file(&temp);
            if let Some(j) = &journal {
                j.remove();
            }
            Err(Error::failure(format!("{key}: {msg}")))
        };
        if total != info.size {
            return discard(format!(
                "size mismatch (received {total} bytes, expected {})",
                info.size
            ));
        }
        let computed = hasher.finalize();
        if ctx.opts.verify {
            let expected = match remote_hash.as_deref() {
                // Listed before the download: re-read it if the object changed since.
                Some(h) if src.size == info.size => Some(h.to_string()),
                Some(_) => retry_rest(|| tree::stat(ctx.client, &key))
                    .ok()
                    .flatten()
                    .and_then(|n| n.hash()),
                None => None,
            };
            match expected {
                Some(h) if h != computed => {
                    return discard(format!(
                        "checksum mismatch (server {h}, received {computed})"
                    ));
                }
                Some(_) => {}
                None => {
                    // Plain-MD5 ETag of a one-block object: MD5(content) = the block digest,
                    // and the Cells hash is MD5(that digest): compare through it.
                    let etag = info.etag_unquoted();
                    if info.size <= cells_hash::BLOCK_SIZE && is_md5_hex(etag) {
                        let want = unhex16(&etag.to_ascii_lowercase())
                            .map(|b| cells_hash::of_block_md5s(&[b]));
                        if want.as_deref() != Some(computed.as_str()) {
                            return discard(format!("checksum mismatch (ETag {etag})"));
                        }
                    }
                }
            }
        }
        if let Some(m) = node.mtime.filter(|m| *m > 0) {
            let _ = file.set_modified(UNIX_EPOCH + Duration::from_secs(m as u64));
        }
        file.sync_all()
            .map_err(|e| Error::failure(format!("cannot write {}: {e}", temp.display())))?;
        drop(file);
        std::fs::rename(&temp, target).map_err(|e| {
            Error::failure(format!("cannot move {} into place: {e}", target.display()))
        })?;
        if let Some(j) = &journal {
            j.remove();
        }
        Ok((total, n))
    })();
    let line = match &res {
        Ok((total, _)) => format!(
            "Downloaded {name} ({}, {})",
            human_size(*total),
            fmt_rate(*total, started.elapsed())
        ),
        Err(e) => format!("Failed {name}: {e}"),
    };
    let interrupted = matches!(&res, Err(e) if e.exit == Exit::Interrupted);
    ctx.progress
        .end(&active, res.is_ok(), (!interrupted).then_some(line));
    res.map(|(total, _)| FileDone::Sent {
        bytes: total,
        hash: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes() {
        assert_eq!(part_size_for(200 * MIB, 50 * MIB, 5000), 50 * MIB);
        // 5000 parts of 10 MiB is too many: size/5000 rounded down to 10 MiB + 10 MiB.
        let size = 5000 * 10 * MIB;
        assert_eq!(part_size_for(size, 10 * MIB, 5000), 20 * MIB);
        assert_eq!(part_size_for(size - 1, 10 * MIB, 5000), 10 * MIB);
        assert_eq!(part_size_for(100 * MIB, 10 * MIB, 3), 40 * MIB);
    }

    #[test]
    fn partial_names_fit() {
        let p = partial_path(Path::new("/d/file.txt"));
        assert_eq!(p, Path::new("/d/.file.txt.cec-partial"));
        for len in [242, 243, 250, 255] {
            let name = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(name.len(), len);
            let p = partial_path(&Path::new("/d").join(&name));
            let got = p.file_name().unwrap().to_str().unwrap();
            assert!(got.len() <= NAME_MAX, "{len}: {}", got.len());
            assert!(got.starts_with('.') && got.ends_with(PARTIAL_SUFFIX));
            // Stable (resume) and distinct for names that share a long prefix.
            assert_eq!(p, partial_path(&Path::new("/d").join(&name)));
            let other = name.clone() + "";
            let mut other = other.into_bytes();
            *other.last_mut().unwrap() = b'y';
            if let Ok(o) = String::from_utf8(other) {
                assert_ne!(p, partial_path(&Path::new("/d").join(o)));
            }
        }
    }

    #[test]
    fn unhex() {
        let b = unhex16("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(b[15], 15);
        assert!(unhex16("zz").is_none());
    }
}
