//! File transfers between the local machine and the server (scp).
//!
//! `upload` / `download` take a resolved source and destination (see
//! `commands::scp` for the target semantics), then:
//! 1. plan: walk the source tree, compare with the destination (merge rules,
//!    [`plan`]),
//! 2. delete the destination items of the other type (awaited),
//! 3. create folders,
//! 4. transfer files on a pool of `files_concurrency` threads ([`pool`];
//!    multipart parts on `parts_concurrency` more per file), streaming through
//!    small buffers (bounded memory): [`upload`], [`download`], [`segmented`],
//! 5. verify ([`verify`]): size always; content against `x-cells-hash` (or a
//!    plain-MD5 ETag) unless `--skip-md5`; after uploads, wait (bounded) until
//!    the server has indexed the new nodes.
//!
//! Downloads write `.<name>.cec-partial` in the target folder, verify, fsync
//! and rename it (one thread places the finished files of a pool, [`place`]);
//! uploads above the threshold are multipart. Both resume
//! from journals after an interruption (see [`journal`]).

pub mod bwlimit;
pub(crate) mod download;
pub mod filter;
mod hashwriter;
pub mod journal;
pub mod lock;
mod place;
pub mod plan;
mod pool;
pub mod progress;
mod segmented;
pub mod stream;
pub mod sync;
mod upload;
mod verify;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::Client;
use crate::error::{Error, Exit, Result};
use crate::output::human_size;
use crate::s3::S3;

pub use download::download;
pub use upload::upload;

use plan::{join_rel, Plan};
use progress::{fmt_duration, fmt_rate, Mode, Progress};

const MIB: u64 = 1024 * 1024;

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
    /// `--bwlimit`, bytes per second for all transfers together.
    pub bwlimit: Option<u64>,
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
    /// Finished downloads on their way to their final names.
    placer: place::Placer,
}

impl<'a> Ctx<'a> {
    pub fn new(
        client: &'a Client,
        s3: &'a S3,
        opts: &'a Options,
        verb: &'static str,
        stop: Arc<AtomicBool>,
    ) -> Ctx<'a> {
        let progress = Progress::new(opts.progress, verb);
        if journal::signed_payloads(client.base_url(), &client.user) {
            s3.sign_payloads();
        }
        progress.set_limit(opts.bwlimit.map(|r| Arc::new(bwlimit::Bandwidth::new(r))));
        // Retry notes go above the live display, not through it.
        let p = progress.clone();
        s3.set_retry_notes(Some(Box::new(move |line: &str| p.message(line))));
        Ctx {
            client,
            s3,
            opts,
            progress,
            stop,
            failures: Mutex::new(Vec::new()),
            warnings: AtomicUsize::new(0),
            placer: place::Placer::default(),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || crate::output::interrupt::interrupted()
    }

    pub fn warn(&self, msg: &str) {
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
            let queue = self.placer.open();
            let placing = s.spawn(move || self.placer.serve(queue, &|name, e| self.fail(name, e)));
            let results = pool::run(
                files,
                self.opts.files_concurrency,
                &|| self.stopped(),
                &|item| {
                    let (name, r) = f(item);
                    if let Err(e) = &r {
                        self.fail(&name, e.clone());
                    }
                    r.ok()
                },
            );
            self.placer.close();
            let _ = placing.join();
            self.progress.finish();
            let _ = h.join();
            results
        })
    }

    pub fn fail(&self, rel: &str, e: Error) {
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

/// Finish a run: stop the display, collect counters.
fn finish(ctx: &Ctx<'_>, mut report: Report) -> Report {
    ctx.progress.finish();
    if ctx.s3.needs_signed_payloads() {
        journal::remember_signed_payloads(ctx.client.base_url(), &ctx.client.user);
    }
    ctx.s3.set_retry_notes(None);
    let (unplaced, bytes) = ctx.placer.unplaced();
    report.transferred = report.transferred.saturating_sub(unplaced);
    report.bytes = report.bytes.saturating_sub(bytes);
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

/// Total bytes of the planned files (saturating: sizes come from the server).
fn total_size(plan: &Plan) -> u64 {
    plan.files
        .iter()
        .fold(0u64, |t, (e, _)| t.saturating_add(e.size))
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
}
