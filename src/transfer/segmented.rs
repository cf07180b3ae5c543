//! A large download as parallel ranged GETs of 10 MiB-aligned segments
//! (`parts_concurrency` at a time) written in place into the temporary file.
//! The journal records finished segments (with their block MD5s), so an
//! interrupted download only fetches the missing ones.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::download::Download;
use super::journal::{DownloadJournal, Journal};
use super::pool::{self, FirstError};
use super::{part_size_for, progress, verify, Ctx, MIB};
use crate::error::{Error, Exit, Result};
use crate::s3;

/// Downloads at least this large are fetched as parallel ranges.
const SEGMENTED_MIN: u64 = 64 * MIB;

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

/// Segment size: at least 8 hash blocks (their MD5s fill md5x8's lanes), at
/// most an equal share of the blocks per parallel stream.
fn segment_size(ctx: &Ctx<'_>, size: u64) -> u64 {
    let share = size
        .div_ceil(cells_hash::BLOCK_SIZE)
        .div_ceil(ctx.opts.parts_concurrency.max(1) as u64)
        * cells_hash::BLOCK_SIZE;
    part_size_for(size, ctx.opts.part_size, 10_000)
        .max(cells_hash::md5x8::LANES as u64 * cells_hash::BLOCK_SIZE)
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
    let seg = segment_size(ctx, size);
    let n_seg = size.div_ceil(seg) as u32;
    let mut journal = open_journal(d, info, previous, seg, n_seg);
    journal.data.done.retain(|n, _| *n < n_seg);
    let file = open_temp(d, size)?;
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
    let failed = fetch(d, info, &file, seg, &todo, &journal, prog);
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

/// The temporary file at its full size (segments are written in place).
fn open_temp(d: &Download<'_>, size: u64) -> Result<File> {
    let err = |e| Error::io("cannot write", &d.temp, e);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&d.temp)
        .map_err(err)?;
    file.set_len(size).map_err(err)?;
    Ok(file)
}

/// Fetch the segments `todo` on the pool; the first error stops the others.
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
        match fetch_one(d, info, file, start, end, &count) {
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
fn fetch_one(
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
