//! Hashing and writing for a parallel download. Each segment stream reads its
//! body straight into a buffer of its [`Lane`] (an [`s3::Fill`]); a full
//! buffer goes to one hashing thread ([`Hasher::run`]), which hashes every
//! stream's current 10 MiB block on its own md5x8 lane while the bytes are
//! still in user space (they are never read back from the file), and comes
//! back to the stream, which writes it, with `O_DIRECT` where the file system
//! takes it: no copy into the page cache, the disk busy during the transfer
//! rather than at the final fsync, several writes at once without lock
//! contention (the file is allocated first).

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cells_hash::md5x8::{Md5x8, LANES};
use cells_hash::BLOCK_SIZE;

use crate::error::{Error, Result};
use crate::s3;

/// Bytes per buffer (a divisor of the 10 MiB block: buffers never straddle one),
/// and per direct write: each write costs a request to the disk and stalls its
/// stream while it runs, and on a virtual disk the request's cost barely
/// depends on its size (measured: 512 KiB against 320 KiB cut a 1 GiB HTTPS
/// download's wall time by 6–8 %). Two per stream, 8 MiB in all.
pub const BUF: usize = 512 << 10;
/// Alignment of `O_DIRECT` buffers, offsets and lengths.
const ALIGN: usize = 4096;
/// How long the hasher waits for the streams that have nothing queued, so that
/// one md5x8 pass hashes as many lanes as possible.
const GATHER: Duration = Duration::from_millis(20);

/// A buffer whose bytes start on an [`ALIGN`] boundary.
pub struct Buf {
    mem: Vec<u8>,
    start: usize,
}

impl Buf {
    fn new() -> Buf {
        let mem = vec![0u8; BUF + ALIGN];
        let start = mem.as_ptr().align_offset(ALIGN);
        Buf { mem, start }
    }
    fn bytes(&self) -> &[u8] {
        &self.mem[self.start..self.start + BUF]
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.mem[self.start..self.start + BUF]
    }
}

enum Msg {
    /// `len` bytes of `buf` to hash; `block_end`: they end a hash block (10
    /// MiB, or the object's last one).
    Data {
        lane: usize,
        buf: Buf,
        len: usize,
        block_end: bool,
    },
    /// The lane's segment is complete: reply with its block digests.
    End {
        lane: usize,
        reply: SyncSender<Vec<[u8; 16]>>,
    },
    /// The lane's segment failed: forget what it hashed.
    Abort { lane: usize },
}

/// The hashing side.
pub struct Hasher {
    rx: Receiver<Msg>,
    returns: Vec<Sender<Buf>>,
}

/// `n` lanes (at most [`LANES`]), one per stream, writing to `file` (named
/// `path` in messages) of `size` bytes, and the hasher to run on a thread of
/// its own. The hasher ends when every lane is dropped.
pub fn new<'a>(file: &'a File, path: &'a Path, size: u64, n: usize) -> (Vec<Lane<'a>>, Hasher) {
    let n = n.clamp(1, LANES);
    let (tx, rx) = mpsc::sync_channel(n);
    let stopped = Arc::new(AtomicBool::new(false));
    let mut lanes = Vec::new();
    let mut returns = Vec::new();
    for lane in 0..n {
        let (back, free) = mpsc::channel();
        returns.push(back);
        lanes.push(Lane {
            lane,
            size,
            tx: tx.clone(),
            free,
            cur: Some(Buf::new()),
            spare: Some(Buf::new()),
            inflight: None,
            start: 0,
            fill: 0,
            sent: false,
            stopped: stopped.clone(),
            writer: Writer { file, path },
        });
    }
    (lanes, Hasher { rx, returns })
}

/// One stream's way to the hasher and the file: two buffers, one filled while
/// the other is hashed, then written.
pub struct Lane<'a> {
    lane: usize,
    /// The object's size (its end is a block end).
    size: u64,
    tx: SyncSender<Msg>,
    /// Buffers back from the hasher.
    free: Receiver<Buf>,
    /// The buffer being filled, the other one when it is not with the hasher.
    cur: Option<Buf>,
    spare: Option<Buf>,
    /// Offset and length of the buffer with the hasher (written when back).
    inflight: Option<(u64, usize)>,
    /// Object offset of the buffer's first byte, and how much of it is filled.
    start: u64,
    fill: usize,
    /// Bytes of the current segment went to the hasher.
    sent: bool,
    /// A lane failed to write: the others stop too.
    stopped: Arc<AtomicBool>,
    writer: Writer<'a>,
}

impl Lane<'_> {
    fn gone() -> Error {
        Error::failure("the download's hasher stopped")
    }

    /// Send the filled part of the buffer to the hasher, and go on with the
    /// other buffer (written first if it came back from the hasher).
    fn flush(&mut self) -> Result<()> {
        if self.fill == 0 {
            return Ok(());
        }
        let buf = self.cur.take().ok_or_else(Lane::gone)?;
        let end = self.start + self.fill as u64;
        let msg = Msg::Data {
            lane: self.lane,
            buf,
            len: self.fill,
            block_end: end.is_multiple_of(BLOCK_SIZE) || end == self.size,
        };
        self.sent = true;
        self.tx.send(msg).map_err(|_| Lane::gone())?;
        let previous = self.inflight.replace((self.start, self.fill));
        self.start = end;
        self.fill = 0;
        match previous {
            Some(p) => self.write_back(p),
            None => {
                self.cur = self.spare.take();
                Ok(())
            }
        }
    }

    /// The oldest buffer back from the hasher: write it, fill it next.
    fn write_back(&mut self, (pos, len): (u64, usize)) -> Result<()> {
        let mut buf = self.free.recv().map_err(|_| Lane::gone())?;
        let written = self.writer.write(&mut buf, len, pos, self.size);
        self.cur = Some(buf);
        written.inspect_err(|_| self.stopped.store(true, Ordering::Relaxed))
    }

    /// Write the buffer still with the hasher (when it is back).
    fn settle(&mut self) -> Result<()> {
        match self.inflight.take() {
            Some(p) => {
                let filling = self.cur.take();
                self.write_back(p)?;
                self.spare = self.cur.take();
                self.cur = filling;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The segment is complete (every byte filled): its block digests.
    pub fn end(&mut self) -> Result<Vec<[u8; 16]>> {
        self.flush()?;
        self.settle()?;
        self.sent = false;
        let (reply, answer) = mpsc::sync_channel(1);
        let msg = Msg::End {
            lane: self.lane,
            reply,
        };
        self.tx.send(msg).map_err(|_| Lane::gone())?;
        answer.recv().map_err(|_| Lane::gone())
    }

    /// The segment failed: drop what was filled and what was hashed.
    pub fn abort(&mut self) {
        self.fill = 0;
        if self.inflight.take().is_some() {
            // Back from the hasher, not written.
            let filling = self.cur.take();
            self.spare = self.free.recv().ok();
            self.cur = filling;
        }
        if std::mem::take(&mut self.sent) {
            let _ = self.tx.send(Msg::Abort { lane: self.lane });
        }
    }
}

impl s3::Fill for Lane<'_> {
    fn room(&mut self, pos: u64) -> Result<&mut [u8]> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(Lane::gone());
        }
        if self.fill == 0 {
            self.start = pos;
        }
        // Up to the end of the buffer or of the block, whichever comes first.
        let to_block = BLOCK_SIZE - pos % BLOCK_SIZE;
        let room = (BUF - self.fill).min(to_block.min(BUF as u64) as usize);
        let fill = self.fill;
        let buf = self.cur.as_mut().ok_or_else(Lane::gone)?;
        Ok(&mut buf.bytes_mut()[fill..fill + room])
    }

    fn filled(&mut self, n: usize) -> Result<()> {
        self.fill += n;
        let end = self.start + self.fill as u64;
        if self.fill == BUF || end.is_multiple_of(BLOCK_SIZE) || end == self.size {
            self.flush()?;
        }
        Ok(())
    }
}

impl Hasher {
    /// Hash what the lanes send until every lane is gone, one md5x8 pass over
    /// the buffers of as many lanes as possible; every buffer goes back.
    pub fn run(self) {
        let n = self.returns.len();
        let mut md5 = Md5x8::new();
        let mut queues: Vec<VecDeque<Msg>> = (0..n).map(|_| VecDeque::new()).collect();
        let mut digests: Vec<Vec<[u8; 16]>> = vec![Vec::new(); n];
        let mut active = vec![false; n];
        let mut open = true;
        loop {
            if queues.iter().all(VecDeque::is_empty) {
                if !open {
                    return;
                }
                match self.rx.recv() {
                    Ok(m) => queue(&mut queues, m),
                    Err(_) => open = false,
                }
            }
            while let Ok(m) = self.rx.try_recv() {
                queue(&mut queues, m);
            }
            // Wait (a little) for the active lanes that have nothing queued.
            let deadline = Instant::now() + GATHER;
            while open && (0..n).any(|l| active[l] && queues[l].is_empty()) {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.rx.recv_timeout(left) {
                    Ok(m) => queue(&mut queues, m),
                    Err(RecvTimeoutError::Disconnected) => open = false,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            for l in 0..n {
                control(&mut queues[l], &mut digests[l], &mut active[l], &mut md5, l);
            }
            self.round(&mut queues, &mut digests, &mut active, &mut md5);
        }
    }

    /// One md5x8 pass over the first buffer of every lane that has one.
    fn round(
        &self,
        queues: &mut [VecDeque<Msg>],
        digests: &mut [Vec<[u8; 16]>],
        active: &mut [bool],
        md5: &mut Md5x8,
    ) {
        let mut items = Vec::new();
        for (l, q) in queues.iter_mut().enumerate() {
            if let Some(Msg::Data { .. }) = q.front() {
                if let Some(Msg::Data {
                    buf,
                    len,
                    block_end,
                    ..
                }) = q.pop_front()
                {
                    items.push((l, buf, len, block_end));
                    active[l] = true;
                }
            }
        }
        if items.is_empty() {
            return;
        }
        let mut slices: [&[u8]; LANES] = [&[]; LANES];
        for (l, buf, len, _) in &items {
            slices[*l] = &buf.bytes()[..*len];
        }
        md5.update(&slices[..queues.len()]);
        for (l, buf, _, block_end) in items {
            if block_end {
                digests[l].push(md5.finish_lane(l));
            }
            let _ = self.returns[l].send(buf);
        }
    }
}

/// The End and Abort messages at the head of a lane's queue.
fn control(
    q: &mut VecDeque<Msg>,
    digests: &mut Vec<[u8; 16]>,
    active: &mut bool,
    md5: &mut Md5x8,
    lane: usize,
) {
    loop {
        match q.front() {
            Some(Msg::End { .. }) => {
                if let Some(Msg::End { reply, .. }) = q.pop_front() {
                    let _ = reply.send(std::mem::take(digests));
                }
            }
            Some(Msg::Abort { .. }) => {
                q.pop_front();
                md5.finish_lane(lane);
                digests.clear();
            }
            _ => return,
        }
        *active = false;
    }
}

fn queue(queues: &mut [VecDeque<Msg>], m: Msg) {
    let lane = match &m {
        Msg::Data { lane, .. } | Msg::End { lane, .. } | Msg::Abort { lane } => *lane,
    };
    queues[lane].push_back(m);
}

/// Positional writes into the download's file.
struct Writer<'a> {
    file: &'a File,
    path: &'a Path,
}

impl Writer<'_> {
    /// Write `len` bytes of `buf` at `pos`. On a direct file the length is
    /// rounded up to a whole [`ALIGN`] (zeros) and the file cut back to
    /// `size` after the object's last piece; a direct write the file system
    /// refuses is made again without `O_DIRECT`.
    fn write(&self, buf: &mut Buf, len: usize, pos: u64, size: u64) -> Result<()> {
        let err = |e| Error::io("cannot write", self.path, e);
        let direct = is_direct(self.file);
        let padded = if direct {
            let p = len.next_multiple_of(ALIGN);
            buf.bytes_mut()[len..p].fill(0);
            p
        } else {
            len
        };
        match self.file.write_all_at(&buf.bytes()[..padded], pos) {
            Err(e) if direct && e.raw_os_error() == Some(libc::EINVAL) => {
                set_direct(self.file, false);
                return self
                    .file
                    .write_all_at(&buf.bytes()[..len], pos)
                    .map_err(err);
            }
            r => r.map_err(err)?,
        }
        if padded != len {
            self.file.set_len(size).map_err(err)?;
        }
        Ok(())
    }
}

/// Open flags with `O_DIRECT` where there is one.
pub fn direct_flag() -> libc::c_int {
    #[cfg(target_os = "linux")]
    {
        libc::O_DIRECT
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Allocate the file's blocks (where the file system can): direct writes then
/// overwrite allocated blocks, which several writers may do at once.
pub fn allocate(file: &File, size: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fallocate on an open descriptor we own; failure is harmless.
        unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, size as libc::off_t) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, size);
}

fn is_direct(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let flag = direct_flag();
    // SAFETY: F_GETFL on an open descriptor we own.
    flag != 0 && unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) } & flag != 0
}

fn set_direct(file: &File, on: bool) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: F_GETFL/F_SETFL on an open descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            let want = if on {
                flags | direct_flag()
            } else {
                flags & !direct_flag()
            };
            libc::fcntl(fd, libc::F_SETFL, want);
        }
    }
}
