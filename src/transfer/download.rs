//! Downloads: a remote tree or file to the local disk. Each file is written to
//! a temporary name beside its target (`.<name>.cec-partial`), checked, fsynced
//! and renamed; a large one keeps a journal so that a rerun continues it, and
//! from 64 MiB it is fetched as parallel ranges ([`super::segmented`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use cells_hash::CellsHasher;

use super::journal::{self, DownloadJournal, Journal};
use super::place;
use super::plan::{self, join_local, Entry};
use super::{display_rel, finish, print_plan, progress, total_size, Ctx, FileDone, Report, MIB};
use crate::api::tree::{self, Node};
use crate::error::{Error, Exit, Result};
use crate::output::human_size;
use crate::s3;

/// Downloads at least this large keep a resume journal (and start with a HEAD).
const DOWNLOAD_JOURNAL_MIN: u64 = 8 * MIB;

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
    let dest_map = if merge {
        existing_items(dest, &entries)?
    } else {
        HashMap::new()
    };
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
    ctx.progress.set_totals(plan.files.len(), total_size(&plan));
    report.deleted = remove_other_types(ctx, dest, &plan.delete)?;
    for rel in &plan.create {
        let p = join_local(dest, rel);
        std::fs::create_dir_all(&p).map_err(|e| Error::io("cannot create", &p, e))?;
        report.folders_created += 1;
    }
    let top = Inside::new(top_folder(source, dest)?);
    let results = ctx.run_files(&plan.files, &|(src, dst)| {
        let target = join_local(dest, &src.rel);
        let name = display_rel(&root_name, &src.rel);
        let r = top
            .check(&target)
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

/// What is already at the destination (merge): only folders that exist on
/// both sides are walked; links are replaced like files (never followed).
fn existing_items(dest: &Path, entries: &[Entry]) -> Result<HashMap<String, Entry>> {
    let remote_dirs: HashSet<&str> = entries
        .iter()
        .filter(|e| e.is_dir)
        .map(|e| e.rel.as_str())
        .collect();
    let Ok(m) = std::fs::symlink_metadata(dest) else {
        return Ok(HashMap::new());
    };
    if m.file_type().is_symlink() {
        let link = Entry {
            rel: String::new(),
            is_dir: false,
            is_link: true,
            size: 0,
            mtime: 0,
            local: Some(dest.to_path_buf()),
            node: None,
        };
        return Ok(HashMap::from([(String::new(), link)]));
    }
    let descend = |rel: &str| remote_dirs.contains(rel);
    let found = plan::walk_local(dest, plan::Links::Report, &descend, &mut |_| {})?;
    Ok(found.into_iter().map(|e| (e.rel.clone(), e)).collect())
}

/// Remove the local items of the other type.
pub(super) fn remove_other_types(ctx: &Ctx<'_>, dest: &Path, delete: &[Entry]) -> Result<usize> {
    for e in delete {
        let p = join_local(dest, &e.rel);
        ctx.info(&format!("Replacing {}", p.display()));
        let r = match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p),
            Ok(_) => std::fs::remove_file(&p),
            Err(_) => Ok(()),
        };
        r.map_err(|e| Error::io("cannot remove", &p, e))?;
    }
    Ok(delete.len())
}

/// The folder every file must land in, links resolved (see [`ensure_inside`]).
fn top_folder(source: &Node, dest: &Path) -> Result<PathBuf> {
    let top = if source.is_dir() {
        dest
    } else {
        dest.parent().unwrap_or(Path::new("/"))
    };
    std::fs::canonicalize(top).map_err(|e| Error::io("cannot open", top, e))
}

/// Refuse to write `target` unless its folder, symbolic links resolved, lies inside
/// `top` (canonical): nothing a server lists may lead a download elsewhere, not even
/// through a link that already exists in the destination.
pub(super) fn ensure_inside(top: &Path, target: &Path) -> Result<()> {
    let folder = target.parent().unwrap_or(Path::new("/"));
    let real = std::fs::canonicalize(folder).map_err(|e| Error::io("cannot open", folder, e))?;
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

/// [`ensure_inside`] for the many files of a tree: a folder found inside
/// `top` once is not resolved again (a tree has many files per folder).
pub(super) struct Inside {
    top: PathBuf,
    seen: std::sync::Mutex<HashSet<PathBuf>>,
}

impl Inside {
    pub fn new(top: PathBuf) -> Inside {
        Inside {
            top,
            seen: Default::default(),
        }
    }

    pub fn check(&self, target: &Path) -> Result<()> {
        let folder = target.parent().unwrap_or(Path::new("/"));
        if self.seen.lock().expect("seen lock").contains(folder) {
            return Ok(());
        }
        ensure_inside(&self.top, target)?;
        self.seen
            .lock()
            .expect("seen lock")
            .insert(folder.to_path_buf());
        Ok(())
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

pub(super) fn download_file(
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
    let active = ctx.progress.begin(name, src.size);
    let started = Instant::now();
    let prog = |n: i64| ctx.progress.add(&active, n);
    let job = Download {
        ctx,
        jid: journal::download_id(ctx.client.base_url(), &key, &temp),
        key,
        listed: (remote_hash, src.size),
        node,
        temp,
        target,
        name,
    };
    let res = job.run(&prog, &active);
    let line = match &res {
        Ok(total) => format!(
            "Downloaded {name} ({}, {})",
            human_size(*total),
            progress::fmt_rate(*total, started.elapsed())
        ),
        Err(e) => format!("Failed {name}: {e}"),
    };
    let interrupted = matches!(&res, Err(e) if e.exit == Exit::Interrupted);
    ctx.progress
        .end(&active, res.is_ok(), (!interrupted).then_some(line));
    res.map(|total| FileDone::Sent {
        bytes: total,
        hash: String::new(),
    })
}

/// One file to download.
pub struct Download<'a> {
    pub ctx: &'a Ctx<'a>,
    pub key: String,
    /// The listed hash and size (what the download must match).
    pub listed: (Option<String>, u64),
    pub node: &'a Node,
    pub temp: PathBuf,
    pub target: &'a Path,
    /// Journal id.
    pub jid: String,
    /// Display name.
    pub name: &'a str,
}

/// Where a sequential download starts.
#[derive(Default)]
struct Start {
    at: u64,
    etag: Option<String>,
    journal: Option<Journal<DownloadJournal>>,
}

impl Download<'_> {
    /// Download, check and put in place; returns the file's size.
    fn run(&self, prog: &(dyn Fn(i64) + Sync), active: &progress::Active) -> Result<u64> {
        let mut start = Start::default();
        if self.listed.1 >= DOWNLOAD_JOURNAL_MIN {
            let info = self.ctx.s3.head_object(&self.key)?;
            let previous = Journal::<DownloadJournal>::load("download", &self.jid);
            if super::segmented::fits(self.ctx, &info, previous.as_ref()) {
                return super::segmented::run(self, &info, previous, prog, active);
            }
            start = self.start_point(&info, previous);
        }
        let (mut file, mut hasher) = self.open_temp(start.at, active)?;
        let got = self.receive(&mut file, &mut hasher, &start, prog);
        let (info, n) = match got {
            Ok(x) => x,
            Err(e) => {
                // A cut keeps the partial file for the next run (when journalled).
                let keep = start.journal.is_some()
                    && !matches!(e.exit, Exit::Conflict | Exit::NotFound)
                    && !matches!(e.kind, crate::error::Kind::Io { .. });
                if !keep {
                    self.discard(start.journal.as_ref());
                }
                return Err(e);
            }
        };
        let total = start.at + n;
        if total != info.size {
            return Err(self.discard_with(
                start.journal.as_ref(),
                format!(
                    "size mismatch (received {total} bytes, expected {})",
                    info.size
                ),
            ));
        }
        if self.ctx.opts.verify {
            let computed = hasher.finalize();
            let listed = (self.listed.0.as_deref(), self.listed.1);
            if let Err(why) =
                super::verify::check_download(self.ctx, &self.key, listed, &info, &computed)
            {
                return Err(self.discard_with(start.journal.as_ref(), why));
            }
        }
        match &start.journal {
            // Placed before its journal goes.
            Some(j) => {
                self.put_in_place(file)?;
                j.remove();
            }
            None => self.ctx.placer.place(self.finished(file, total))?,
        }
        Ok(total)
    }

    /// Resume from the partial file when the remote object is unchanged; keep
    /// a journal of where this download started.
    fn start_point(
        &self,
        info: &s3::ObjectInfo,
        previous: Option<Journal<DownloadJournal>>,
    ) -> Start {
        let mut at = 0;
        if let Some(j) = previous {
            let have = std::fs::metadata(&self.temp).map(|m| m.len()).unwrap_or(0);
            let same = j.data.key == self.key
                && j.data.size == info.size
                && s3::same_etag(&j.data.etag, &info.etag)
                && !info.etag.is_empty();
            if same && have > 0 {
                at = have.min(info.size);
                self.ctx.info(&format!(
                    "Resuming the download of {} at {}",
                    self.key,
                    human_size(at)
                ));
            } else {
                j.remove();
            }
        }
        if info.etag.is_empty() {
            return Start {
                at,
                ..Start::default()
            };
        }
        let journal = Journal::create(
            "download",
            &self.jid,
            DownloadJournal {
                key: self.key.clone(),
                etag: info.etag.clone(),
                size: info.size,
                segment: 0,
                done: BTreeMap::new(),
            },
        );
        Start {
            at,
            etag: Some(info.etag.clone()),
            journal: Some(journal),
        }
    }

    /// The temporary file, fresh or holding `start` bytes already (hashed
    /// again, then appended to).
    fn open_temp(&self, start: u64, active: &progress::Active) -> Result<(File, CellsHasher)> {
        let temp = &self.temp;
        let err = |e| Error::io("cannot write", temp, e);
        let mut hasher = CellsHasher::new();
        if start == 0 {
            let f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(temp)
                .map_err(err)?;
            return Ok((f, hasher));
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(temp)
            .map_err(err)?;
        let mut buf = vec![0u8; s3::IO_BUF];
        let mut left = start;
        f.seek(SeekFrom::Start(0)).map_err(err)?;
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            f.read_exact(&mut buf[..want]).map_err(err)?;
            hasher.update(&buf[..want]);
            left -= want as u64;
        }
        f.set_len(start).map_err(err)?;
        f.seek(SeekFrom::Start(start)).map_err(err)?;
        self.ctx.progress.add_skipped(active, start);
        Ok((f, hasher))
    }

    /// Receive on this thread; hash and write on a helper thread, or here
    /// when the body fits in one buffer (a tree's many small files).
    fn receive(
        &self,
        file: &mut File,
        hasher: &mut CellsHasher,
        start: &Start,
        prog: &(dyn Fn(i64) + Sync),
    ) -> Result<(s3::ObjectInfo, u64)> {
        if self.listed.1.saturating_sub(start.at) <= PIPE_BUF as u64 {
            return self.receive_here(file, hasher, start, prog);
        }
        let (got, written) = std::thread::scope(|sc| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            let helper = sc.spawn(move || -> std::io::Result<()> {
                for buf in rx {
                    hasher.update(&buf);
                    file.write_all(&buf)?;
                    let _ = back_tx.send(buf);
                }
                Ok(())
            });
            let mut w = PipeWriter::new(tx, back_rx);
            let got = self.get_into(&mut w, start, prog);
            let flushed = w.finish();
            let written = helper
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("writer thread panicked")))
                .and(flushed);
            (got, written)
        });
        // A local write failure explains a failed receive: report it first.
        written.map_err(|e| Error::io("cannot write", &self.temp, e))?;
        got
    }

    /// The object from `start` on, into `w`.
    fn get_into(
        &self,
        w: &mut dyn Write,
        start: &Start,
        prog: &(dyn Fn(i64) + Sync),
    ) -> Result<(s3::ObjectInfo, u64)> {
        let etag = start.etag.as_deref();
        self.ctx
            .s3
            .get_object(&self.key, start.at, etag, w, Some(prog))
    }

    /// [`Download::receive`] without a helper thread: each received buffer
    /// is hashed and written as it comes.
    fn receive_here(
        &self,
        file: &mut File,
        hasher: &mut CellsHasher,
        start: &Start,
        prog: &(dyn Fn(i64) + Sync),
    ) -> Result<(s3::ObjectInfo, u64)> {
        let mut w = HashingFile {
            file,
            hasher,
            failed: None,
        };
        let got = self.get_into(&mut w, start, prog);
        // A local write failure explains a failed receive: report it first.
        if let Some(e) = w.failed {
            return Err(Error::io("cannot write", &self.temp, e));
        }
        got
    }

    /// Set the mtime, fsync and rename the temporary file into place, now.
    pub fn put_in_place(&self, file: File) -> Result<()> {
        let bytes = self.listed.1;
        self.finished(file, bytes).place()
    }

    fn finished(&self, file: File, bytes: u64) -> place::Finished {
        place::Finished {
            file,
            temp: self.temp.clone(),
            target: self.target.to_path_buf(),
            mtime: self.node.mtime,
            name: self.name.to_string(),
            bytes,
        }
    }

    /// Drop the partial file and its journal.
    pub fn discard(&self, journal: Option<&Journal<DownloadJournal>>) {
        let _ = std::fs::remove_file(&self.temp);
        if let Some(j) = journal {
            j.remove();
        }
    }

    /// [`Download::discard`], and the error that explains why.
    pub fn discard_with(&self, journal: Option<&Journal<DownloadJournal>>, why: String) -> Error {
        self.discard(journal);
        Error::failure(format!("{}: {why}", self.key))
    }
}

/// Size of the buffers handed to the download writer thread (at most 4 exist
/// per download: bounded memory).
const PIPE_BUF: usize = 1024 * 1024;

/// Collects received bytes into 1 MiB buffers and hands them to the thread
/// that hashes and writes them; buffers come back for reuse.
struct PipeWriter {
    tx: Option<SyncSender<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
    cur: Vec<u8>,
}

impl PipeWriter {
    fn new(tx: SyncSender<Vec<u8>>, back: Receiver<Vec<u8>>) -> PipeWriter {
        PipeWriter {
            tx: Some(tx),
            back,
            cur: Vec::with_capacity(PIPE_BUF),
        }
    }

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

/// Hashes and writes what it is given; keeps a write error for the caller.
struct HashingFile<'a> {
    file: &'a mut File,
    hasher: &'a mut CellsHasher,
    failed: Option<std::io::Error>,
}

impl Write for HashingFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.file.write_all(buf) {
            let again = std::io::Error::new(e.kind(), e.to_string());
            self.failed = Some(e);
            return Err(again);
        }
        self.hasher.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let mut other = name.clone().into_bytes();
            *other.last_mut().unwrap() = b'y';
            if let Ok(o) = String::from_utf8(other) {
                assert_ne!(p, partial_path(&Path::new("/d").join(o)));
            }
        }
    }
}
