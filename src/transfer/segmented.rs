//! A large download as parallel ranged GETs of 10 MiB-aligned segments,
//! written in place into the temporary file, in one of two ways:
//! - when the bodies pass through user space anyway (TLS), they are read into
//!   the buffers of one hashing writer ([`super::hashwriter`]: hashed there,
//!   written with `O_DIRECT`); `parts_concurrency` streams at first, up to 8
//!   (one per md5x8 lane: one hashing pass costs the same for 1 lane or 8)
//!   once the bytes arrive fast ([`FAST`]);
//! - on a plain connection, `parts_concurrency` streams splice their bodies
//!   from the socket into the file, and each finished segment's blocks are
//!   hashed from the page cache, 8 side by side (measured cheaper there than
//!   copying the bytes out of the socket: `make bench`).
//!
//! The journal records finished segments (with their block MD5s), so an
//! interrupted download only fetches the missing ones.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::download::Download;
use super::hashwriter;
use super::journal::{DownloadJournal, Journal};
use super::pool::{self, FirstError};
use super::{part_size_for, progress, verify, Ctx, MIB};
use crate::error::{Error, Exit, Result};
use crate::s3;

/// Downloads at least this large are fetched as parallel ranges.
const SEGMENTED_MIN: u64 = 64 * MIB;
/// Most parallel streams: one per md5x8 lane.
const MAX_STREAMS: usize = cells_hash::md5x8::LANES;
/// From this rate on (all streams together) the link counts as fast: every
/// stream is used.
const FAST: f64 = 64.0 * MIB as f64;
/// The rate is judged this long after the first bytes.
const RAMP_AFTER: Duration = Duration::from_millis(50);

/// Whether the object is fetched in segments (not when a sequential download
/// of it is being resumed).
pub fn fits(
    ctx: &Ctx<'_>,
    info: &s3::ObjectInfo,
    previous: Option<&Journal<DownloadJournal>>,
) -> bool {
    let sequential_resume = previous.is_some_and(|j| j.data.segment == 0);
    info.size >= SEGMENTED_MIN
        && ctx.opts.parts_concurrency > 1
        && !info.etag.is_empty()
        && !sequential_resume
}

/// Segment size: the part size (10 MiB blocks), at most an equal share of the
/// blocks per stream when all streams run; spliced, at least 8 blocks (hashed
/// side by side from the file).
fn segment_size(ctx: &Ctx<'_>, size: u64, spliced: bool) -> u64 {
    let streams = if spliced {
        ctx.opts.parts_concurrency.max(1)
    } else {
        MAX_STREAMS
    };
    let share = size
        .div_ceil(cells_hash::BLOCK_SIZE)
        .div_ceil(streams as u64)
        * cells_hash::BLOCK_SIZE;
    let least = if spliced {
        cells_hash::md5x8::LANES as u64 * cells_hash::BLOCK_SIZE
    } else {
        cells_hash::BLOCK_SIZE
    };
    part_size_for(size, ctx.opts.part_size, 10_000)
        .max(least)
        .min(share)
}

/// Fetch the missing segments, check the whole, put it in place; returns the size.
pub fn run(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    previous: Option<Journal<DownloadJournal>>,
    prog: &(dyn Fn(i64) + Sync),
    active: &progress::Active,
) -> Result<u64> {
    let (ctx, size) = (d.ctx, info.size);
    let spliced = ctx.s3.splices_downloads();
    let seg = segment_size(ctx, size, spliced);
    let n_seg = size.div_ceil(seg) as u32;
    let mut journal = open_journal(d, info, previous, seg, n_seg);
    journal.data.done.retain(|n, _| *n < n_seg);
    let file = open_temp(d, size, !spliced)?;
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
    let failed = if spliced {
        fetch_spliced(d, info, &file, seg, &todo, &journal, prog)
    } else {
        fetch(d, info, &file, seg, &todo, &journal, prog)
    };
    let journal = journal.into_inner().expect("journal lock");
    if let Some(e) = failed {
        if e.exit == Exit::Conflict || e.exit == Exit::NotFound {
            d.discard(Some(&journal));
        }
        return Err(e);
    }
    if ctx.stopped() || journal.data.done.len() != n_seg as usize {
        return Err(Error::interrupted());
    }
    let Some(computed) = verify::hash_of_blocks(journal.data.done.values().flatten()) else {
        return Err(d.discard_with(Some(&journal), "corrupt download journal".into()));
    };
    if ctx.opts.verify {
        let listed = (d.listed.0.as_deref(), d.listed.1);
        if let Err(why) = verify::check_download(ctx, &d.key, listed, info, &computed) {
            return Err(d.discard_with(Some(&journal), why));
        }
    }
    d.put_in_place(file)?;
    journal.remove();
    Ok(size)
}

/// The journal of a previous run when it matches (same object, segments and
/// a partial file of full size), else a new one.
fn open_journal(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    previous: Option<Journal<DownloadJournal>>,
    seg: u64,
    n_seg: u32,
) -> Journal<DownloadJournal> {
    let have = std::fs::metadata(&d.temp).map(|m| m.len()).unwrap_or(0);
    if let Some(j) = previous {
        let same = j.data.key == d.key
            && j.data.size == info.size
            && j.data.segment == seg
            && s3::same_etag(&j.data.etag, &info.etag)
            && have == info.size;
        if same {
            d.ctx.info(&format!(
                "Resuming the download of {}: {} of {n_seg} segments already here",
                d.key,
                j.data.done.len()
            ));
            return j;
        }
        j.remove();
    }
    let _ = std::fs::remove_file(&d.temp);
    Journal::create(
        "download",
        &d.jid,
        DownloadJournal {
            key: d.key.clone(),
            etag: info.etag.clone(),
            size: info.size,
            segment: seg,
            done: BTreeMap::new(),
        },
    )
}

/// The temporary file at its full size (segments are written in place),
/// opened for direct I/O (`direct`) where the file system allows it.
fn open_temp(d: &Download<'_>, size: u64, direct: bool) -> Result<File> {
    let err = |e| Error::io("cannot write", &d.temp, e);
    let open = |flags: libc::c_int| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | flags)
            .open(&d.temp)
    };
    let flags = if direct { hashwriter::direct_flag() } else { 0 };
    let file = open(flags).or_else(|_| open(0)).map_err(err)?;
    file.set_len(size).map_err(err)?;
    if direct {
        hashwriter::allocate(&file, size);
    }
    Ok(file)
}

/// How many streams may run: `parts_concurrency` at first, all of them once
/// the bytes arrive at [`FAST`] or more.
struct Ramp {
    allowed: AtomicUsize,
    max: usize,
    /// When the first bytes arrived.
    first: std::sync::OnceLock<Instant>,
    bytes: AtomicU64,
}

impl Ramp {
    fn new(ctx: &Ctx<'_>, max: usize) -> Ramp {
        Ramp {
            allowed: AtomicUsize::new(ctx.opts.parts_concurrency.clamp(1, max)),
            max,
            first: std::sync::OnceLock::new(),
            bytes: AtomicU64::new(0),
        }
    }

    /// `n` more bytes arrived: [`RAMP_AFTER`] after the first ones, a fast
    /// transfer gets every stream.
    fn arrived(&self, n: u64) {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
        let t = self.first.get_or_init(Instant::now).elapsed();
        if t >= RAMP_AFTER && total as f64 / t.as_secs_f64() >= FAST {
            self.allowed.store(self.max, Ordering::Relaxed);
        }
    }

    fn allows(&self, stream: usize) -> bool {
        stream < self.allowed.load(Ordering::Relaxed)
    }
}

/// Fetch the segments `todo` into the hashing writer, each stream taking the
/// next segment; the first error stops the others.
fn fetch(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    file: &File,
    seg: u64,
    todo: &[u32],
    journal: &Mutex<Journal<DownloadJournal>>,
    prog: &(dyn Fn(i64) + Sync),
) -> Option<Error> {
    let failed = FirstError::default();
    let max = MAX_STREAMS.min(todo.len()).max(1);
    let (lanes, hasher) = hashwriter::new(file, &d.temp, info.size, max);
    let max = lanes.len();
    let ramp = Ramp::new(d.ctx, max);
    let next = AtomicUsize::new(0);
    let stop = || d.ctx.stopped() || failed.is_set();
    std::thread::scope(|scope| {
        scope.spawn(|| hasher.run());
        for (stream, mut lane) in lanes.into_iter().enumerate() {
            let (ramp, next, failed, stop) = (&ramp, &next, &failed, &stop);
            scope.spawn(move || {
                while !stop() && next.load(Ordering::Relaxed) < todo.len() {
                    if !ramp.allows(stream) {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    let Some(&n) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let start = n as u64 * seg;
                    let end = (start + seg).min(info.size);
                    let prog = |k: i64| {
                        ramp.arrived(k.max(0) as u64);
                        prog(k)
                    };
                    match fetch_counted(d, info, &mut lane, start, end, &prog) {
                        Ok(blocks) => {
                            let mut j = journal.lock().expect("journal lock");
                            j.data.done.insert(n, blocks);
                            j.save();
                        }
                        Err(e) => failed.set(e),
                    }
                }
                // Dropping the lane (the last one) ends the hasher.
                drop(lane);
            });
        }
    });
    failed.take()
}

/// [`fetch_one`], its progress taken back when it fails.
fn fetch_counted(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    lane: &mut hashwriter::Lane<'_>,
    start: u64,
    end: u64,
    prog: &(dyn Fn(i64) + Sync),
) -> Result<Vec<String>> {
    let counted = AtomicU64::new(0);
    let count = |k: i64| {
        counted.fetch_add(k as u64, Ordering::Relaxed);
        prog(k)
    };
    fetch_one(d, info, lane, start, end, &count).inspect_err(|_| {
        lane.abort();
        prog(-(counted.load(Ordering::Relaxed) as i64));
    })
}

/// One segment through `lane` (hashed and written on the way), then the hex
/// MD5s of its blocks.
fn fetch_one(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    lane: &mut hashwriter::Lane<'_>,
    start: u64,
    end: u64,
    count: &(dyn Fn(i64) + Sync),
) -> Result<Vec<String>> {
    let (_, got) = d.ctx.s3.get_range(
        &d.key,
        start,
        Some(end),
        Some(&info.etag),
        s3::Sink::Fill(lane),
        Some(count),
    )?;
    if start + got != end {
        return Err(Error::failure(format!(
            "{}: short range {start}-{end} (got {got} bytes)",
            d.key
        )));
    }
    let blocks = lane.end()?;
    Ok(blocks.iter().map(|b| cells_hash::hex(b)).collect())
}

/// Fetch the segments `todo` spliced into the file, `parts_concurrency` at a
/// time; the first error stops the others.
fn fetch_spliced(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    file: &File,
    seg: u64,
    todo: &[u32],
    journal: &Mutex<Journal<DownloadJournal>>,
    prog: &(dyn Fn(i64) + Sync),
) -> Option<Error> {
    let failed = FirstError::default();
    let stop = || d.ctx.stopped() || failed.is_set();
    pool::run(todo, d.ctx.opts.parts_concurrency, &stop, &|&n| {
        let start = n as u64 * seg;
        let end = (start + seg).min(info.size);
        // Bytes of this segment counted in the progress, to undo on failure.
        let counted = AtomicU64::new(0);
        let count = |k: i64| {
            counted.fetch_add(k as u64, Ordering::Relaxed);
            prog(k)
        };
        match fetch_spliced_one(d, info, file, start, end, &count) {
            Ok(blocks) => {
                let mut j = journal.lock().expect("journal lock");
                j.data.done.insert(n, blocks);
                j.save();
            }
            Err(e) => {
                prog(-(counted.load(Ordering::Relaxed) as i64));
                failed.set(e);
            }
        }
    });
    failed.take()
}

/// One segment into the file, then the hex MD5s of its blocks (hashed from
/// the file while its pages are still cached, side by side on md5x8's lanes).
fn fetch_spliced_one(
    d: &Download<'_>,
    info: &s3::ObjectInfo,
    file: &File,
    start: u64,
    end: u64,
    count: &(dyn Fn(i64) + Sync),
) -> Result<Vec<String>> {
    let sink = s3::Sink::File {
        file,
        path: &d.temp,
    };
    let (_, got) = d.ctx.s3.get_range(
        &d.key,
        start,
        Some(end),
        Some(&info.etag),
        sink,
        Some(count),
    )?;
    if start + got != end {
        return Err(Error::failure(format!(
            "{}: short range {start}-{end} (got {got} bytes)",
            d.key
        )));
    }
    let blocks = cells_hash::md5x8::file_block_md5s(file, start, got, cells_hash::BLOCK_SIZE)
        .map_err(|e| Error::io("cannot read", &d.temp, e))?;
    Ok(blocks.iter().map(|b| cells_hash::hex(b)).collect())
}
