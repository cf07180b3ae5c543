//! Streams (`cec scp - cells://…`, `cec scp cells://… -`, `cec cat`).
//!
//! Upload of standard input, size unknown: what arrives before the multipart
//! threshold is passed goes in one PUT; past it, a multipart upload with
//! parts of `--part-size` read in turn and sent by `--parts-concurrency`
//! threads (memory: the threshold, then at most parts-concurrency + 1 parts).
//! Any failure aborts the multipart upload: nothing is stored. There is no
//! resume (standard input cannot be read twice).
//!
//! Download to standard output: the bytes are written as they come (a cut
//! connection continues with a Range request) and hashed on the way; the
//! size and the Cells hash are checked against the listing at the end. A
//! mismatch fails the command, with a message that what was written cannot
//! be trusted (it already went out).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use cells_hash::CellsHasher;

use super::bwlimit::Bandwidth;
use super::pool::FirstError;
use super::Options;
use crate::api::tree::Node;
use crate::error::{Error, Result};
use crate::s3::S3;

/// What was stored.
pub struct Stored {
    pub size: u64,
    /// The Cells hash of the bytes sent.
    pub hash: String,
}

/// Read until `buf` holds `want` bytes or the input ends.
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> Result<()> {
    let missing = want.saturating_sub(buf.len()) as u64;
    input
        .take(missing)
        .read_to_end(buf)
        .map_err(|e| Error::failure(format!("cannot read standard input: {e}")))?;
    Ok(())
}

/// Upload everything `input` gives to `key`. A failed multipart upload is
/// aborted through `aborter` (an S3 client that a Ctrl-C does not stop).
pub fn upload(
    s3: &S3,
    aborter: &S3,
    opts: &Options,
    limit: Option<&Bandwidth>,
    key: &str,
    input: &mut dyn Read,
) -> Result<Stored> {
    let threshold = opts.multipart_threshold as usize;
    let mut head = Vec::new();
    fill(input, &mut head, threshold.saturating_add(1))?;
    crate::output::interrupt::check()?;
    if head.len() <= threshold {
        if let Some(b) = limit {
            b.take(head.len() as u64);
        }
        let r = s3.put_bytes(key, &[], &head)?;
        super::verify::check_put_etag(key, &r)?;
        return Ok(Stored {
            size: head.len() as u64,
            hash: cells_hash::of_block_md5s(&r.block_md5s),
        });
    }
    let upload_id = s3.create_multipart(key)?;
    let up = Multipart {
        s3,
        opts,
        limit,
        key,
        upload_id: &upload_id,
    };
    match up.run(head, input) {
        Ok(stored) => Ok(stored),
        Err(e) => {
            let _ = aborter.abort_multipart(key, &upload_id);
            Err(e.context("nothing was stored"))
        }
    }
}

/// A part sent: its ETag and block MD5s.
type Part = (String, Vec<[u8; 16]>);

struct Multipart<'a> {
    s3: &'a S3,
    opts: &'a Options,
    limit: Option<&'a Bandwidth>,
    key: &'a str,
    upload_id: &'a str,
}

impl Multipart<'_> {
    /// Cut the input into parts (`head` first) and send them; complete.
    fn run(&self, head: Vec<u8>, input: &mut dyn Read) -> Result<Stored> {
        let ps = self.opts.part_size as usize;
        let max_parts = self.opts.max_parts.min(10_000) as u32;
        let done: Mutex<BTreeMap<u32, Part>> = Mutex::new(BTreeMap::new());
        let failed = FirstError::default();
        let workers = self.opts.parts_concurrency.max(1);
        let (tx, rx) = sync_channel::<(u32, Vec<u8>)>(0);
        let rx = Arc::new(Mutex::new(rx));
        let mut size = 0u64;
        let read: Result<()> = std::thread::scope(|s| {
            for _ in 0..workers {
                let rx = rx.clone();
                let (done, failed) = (&done, &failed);
                s.spawn(move || loop {
                    let next = rx.lock().expect("queue lock").recv();
                    let Ok((n, data)) = next else { return };
                    match self.send_part(n, &data) {
                        Ok(r) => {
                            done.lock().expect("parts lock").insert(n, r);
                        }
                        Err(e) => return failed.set(e),
                    }
                });
            }
            // Only the workers hold the queue: when they all stop, sending fails.
            drop(rx);
            // The reader: this thread.
            let mut buf = head;
            let mut n = 0u32;
            let r = loop {
                if buf.len() < ps {
                    if let Err(e) = fill(input, &mut buf, ps) {
                        break Err(e);
                    }
                }
                let rest = if buf.len() > ps {
                    buf.split_off(ps)
                } else {
                    Vec::new()
                };
                let last = buf.len() < ps;
                if buf.is_empty() && n > 0 {
                    break Ok(());
                }
                n += 1;
                if n > max_parts {
                    break Err(Error::failure(format!(
                        "standard input is larger than {max_parts} parts of {} MiB: use a larger --part-size",
                        ps >> 20
                    )));
                }
                size += buf.len() as u64;
                if failed.is_set() || crate::output::interrupt::interrupted() {
                    break Ok(());
                }
                if tx.send((n, std::mem::replace(&mut buf, rest))).is_err() {
                    break Ok(());
                }
                if last && buf.is_empty() {
                    break Ok(());
                }
            };
            drop(tx);
            r
        });
        read?;
        if let Some(e) = failed.take() {
            return Err(e);
        }
        crate::output::interrupt::check()?;
        let done = done.into_inner().expect("parts lock");
        let parts: Vec<(u32, String)> = done.iter().map(|(n, (e, _))| (*n, e.clone())).collect();
        self.s3
            .complete_multipart(self.key, self.upload_id, &parts)?;
        let blocks: Vec<[u8; 16]> = done.into_values().flat_map(|(_, b)| b).collect();
        Ok(Stored {
            size,
            hash: cells_hash::of_block_md5s(&blocks),
        })
    }

    fn send_part(&self, n: u32, data: &[u8]) -> Result<Part> {
        if let Some(b) = self.limit {
            b.take(data.len() as u64);
        }
        let num = n.to_string();
        let query = [("partNumber", num.as_str()), ("uploadId", self.upload_id)];
        let r = self.s3.put_bytes(self.key, &query, data)?;
        Ok((r.etag, r.block_md5s))
    }
}

/// Hashes and counts what goes through to `inner`.
struct Tee<W: Write> {
    inner: W,
    hasher: CellsHasher,
    n: u64,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write the remote file `node` (at `key`) to `out`, then check it.
pub fn download(
    s3: &S3,
    opts: &Options,
    limit: Option<&Bandwidth>,
    key: &str,
    node: &Node,
    out: &mut dyn Write,
) -> Result<u64> {
    let listed =
        super::plan::file_size(node).map_err(|why| Error::reply(format!("{key}: {why}")))?;
    let mut tee = Tee {
        inner: std::io::BufWriter::with_capacity(256 * 1024, out),
        hasher: CellsHasher::new(),
        n: 0,
    };
    let pace = |n: i64| {
        if let (Some(b), true) = (limit, n > 0) {
            b.take(n as u64);
        }
    };
    let got = s3.get_object(key, 0, None, &mut tee, Some(&pace));
    let flushed = tee.flush();
    let (info, _) = got.map_err(|e| e.context("the output is incomplete"))?;
    flushed.map_err(|e| Error::failure(format!("cannot write to standard output: {e}")))?;
    let untrusted = "the output already written is not trustworthy";
    if tee.n != info.size || tee.n != listed {
        return Err(Error::failure(format!(
            "{key}: received {} bytes, the server lists {listed}: {untrusted}",
            tee.n
        )));
    }
    if opts.verify {
        let computed = tee.hasher.finalize();
        if let Some(h) = node.hash() {
            if h != computed {
                return Err(Error::failure(format!(
                    "{key}: the content received does not match the server's hash ({computed} instead of {h}): {untrusted}"
                )));
            }
        }
    }
    Ok(tee.n)
}

/// [`upload`] from a run's context, then wait until the server has indexed
/// the file and check its size and hash (like every scp upload).
pub fn upload_checked(ctx: &super::Ctx<'_>, key: &str, input: &mut dyn Read) -> Result<Stored> {
    let limit = ctx.progress.limit();
    let aborter = S3::for_client(ctx.client);
    let stored = upload(ctx.s3, &aborter, ctx.opts, limit.as_deref(), key, input)?;
    let sent = super::verify::Sent {
        name: key.to_string(),
        remote: key.to_string(),
        size: stored.size,
        hash: stored.hash.clone(),
    };
    super::verify::wait_indexed(ctx, vec![sent]);
    let report = super::finish(ctx, super::Report::default());
    match report.failures.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(stored),
    }
}
