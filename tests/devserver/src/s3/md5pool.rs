//! The MD5 of every body being received, several bodies at a time.
//!
//! MD5 is one serial chain: one body hashes at about 600 MB/s a core, and that was
//! this server's largest cost when receiving (more than TLS and the file writes
//! together). Bodies received at once (the parts of a multipart upload, the files of a
//! tree) are independent chains, so one thread advances up to 8 of them in lockstep
//! with the 8-lane kernel of `cells_hash::md5x8`, as S3 servers do (MinIO's md5-simd).
//! A body that finds the 8 lanes taken is hashed on its own thread, as before.
use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use cells_hash::md5x8::{Md5x8, LANES};
use md5::{Digest, Md5};

/// Most bytes queued for hashing; a body that gets further ahead waits (its sender
/// blocks), so memory stays bounded whatever the clients send.
const MAX_QUEUED: usize = 16 << 20;

enum Msg {
    Data(usize, Bytes),
    /// The lane's digest, once its queue is hashed; the lane is then free.
    Finish(usize, SyncSender<[u8; 16]>),
    /// The body was abandoned: drop its queue and free the lane.
    Drop(usize),
}

struct Pool {
    tx: Mutex<SyncSender<Msg>>,
    free: Mutex<[bool; LANES]>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel(16);
        std::thread::Builder::new()
            .name("md5-lanes".into())
            .spawn(move || run(rx))
            .expect("spawn the MD5 thread");
        Pool {
            tx: Mutex::new(tx),
            free: Mutex::new([true; LANES]),
        }
    })
}

/// The MD5 of one body, fed in order.
pub(super) struct BodyMd5(Inner);

enum Inner {
    Lane {
        lane: usize,
        tx: SyncSender<Msg>,
        done: bool,
    },
    Alone(Md5),
}

impl BodyMd5 {
    /// A lane of the shared thread if one is free, else a hasher of its own.
    pub fn new() -> Self {
        let p = pool();
        let mut free = p.free.lock().unwrap_or_else(|e| e.into_inner());
        match free.iter().position(|&f| f) {
            Some(lane) => {
                free[lane] = false;
                let tx = p.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
                BodyMd5(Inner::Lane {
                    lane,
                    tx,
                    done: false,
                })
            }
            None => BodyMd5(Inner::Alone(Md5::new())),
        }
    }

    pub fn update(&mut self, b: &Bytes) {
        match &mut self.0 {
            Inner::Lane { lane, tx, .. } => {
                let _ = tx.send(Msg::Data(*lane, b.clone()));
            }
            Inner::Alone(m) => m.update(b),
        }
    }

    pub fn finish(mut self) -> [u8; 16] {
        match &mut self.0 {
            Inner::Lane { lane, tx, done } => {
                let (rtx, rrx) = mpsc::sync_channel(1);
                *done = true;
                let _ = tx.send(Msg::Finish(*lane, rtx));
                // The thread only stops with the process.
                rrx.recv().unwrap_or_default()
            }
            Inner::Alone(m) => m.clone().finalize().into(),
        }
    }
}

impl Drop for BodyMd5 {
    fn drop(&mut self) {
        if let Inner::Lane {
            lane,
            tx,
            done: false,
        } = &self.0
        {
            let _ = tx.send(Msg::Drop(*lane));
        }
    }
}

/// What the thread holds for one lane.
#[derive(Default)]
struct Queue {
    chunks: VecDeque<Bytes>,
    /// Bytes of the front chunk already hashed.
    front_done: usize,
    end: Option<End>,
}

enum End {
    Finish(SyncSender<[u8; 16]>),
    Drop,
}

fn run(rx: Receiver<Msg>) {
    let mut md5 = Md5x8::new();
    let mut queues: [Queue; LANES] = Default::default();
    let mut queued = 0usize;
    let take = |m: Msg, queues: &mut [Queue; LANES], queued: &mut usize| match m {
        Msg::Data(l, b) => {
            *queued += b.len();
            queues[l].chunks.push_back(b);
        }
        Msg::Finish(l, r) => queues[l].end = Some(End::Finish(r)),
        Msg::Drop(l) => {
            // Nothing left to hash: the lane is freed at the end of this round.
            let q = &mut queues[l];
            *queued -= q.chunks.iter().map(Bytes::len).sum::<usize>() - q.front_done;
            q.chunks.clear();
            q.front_done = 0;
            q.end = Some(End::Drop);
        }
    };
    loop {
        let idle = queues
            .iter()
            .all(|q| q.chunks.is_empty() && q.end.is_none());
        if idle {
            match rx.recv() {
                Ok(m) => take(m, &mut queues, &mut queued),
                Err(_) => return, // every sender is gone
            }
        }
        // Whatever else has arrived, so that lanes are hashed together.
        while queued < MAX_QUEUED {
            match rx.try_recv() {
                Ok(m) => take(m, &mut queues, &mut queued),
                Err(_) => break,
            }
        }
        hash_round(&mut md5, &mut queues, &mut queued);
    }
}

/// Hash the same number of bytes of every lane that has some (the shortest front
/// chunk), then end the lanes whose bodies are complete.
fn hash_round(md5: &mut Md5x8, queues: &mut [Queue; LANES], queued: &mut usize) {
    let step = queues
        .iter()
        .filter_map(|q| q.chunks.front().map(|c| c.len() - q.front_done))
        .min();
    if let Some(step) = step {
        let slices: [&[u8]; LANES] = std::array::from_fn(|l| {
            let q = &queues[l];
            q.chunks
                .front()
                .map_or(&[][..], |c| &c[q.front_done..q.front_done + step])
        });
        md5.update(&slices);
        let hashed = slices.iter().filter(|s| !s.is_empty()).count();
        for q in queues.iter_mut() {
            let Some(c) = q.chunks.front() else { continue };
            q.front_done += step;
            if q.front_done == c.len() {
                q.chunks.pop_front();
                q.front_done = 0;
            }
        }
        *queued -= step * hashed;
    }
    for (l, q) in queues.iter_mut().enumerate() {
        if !q.chunks.is_empty() {
            continue;
        }
        let Some(end) = q.end.take() else { continue };
        let digest = md5.finish_lane(l);
        // Freed before the reply, so that a body which got its digest finds its lane free.
        pool().free.lock().unwrap_or_else(|e| e.into_inner())[l] = true;
        if let End::Finish(r) = end {
            let _ = r.send(digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64: reproducible chunk sizes and bytes.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// More bodies at once than lanes, of uneven chunks, some abandoned half-way: each
    /// finished one gets the MD5 of its bytes, and every lane is free afterwards.
    #[test]
    fn concurrent_bodies_get_their_own_digest() {
        let threads: Vec<_> = (0..12u64)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut rng = Rng(t + 1);
                    for round in 0..6 {
                        let mut h = BodyMd5::new();
                        let mut whole = Md5::new();
                        for _ in 0..rng.below(12) {
                            let len = rng.below(300_000);
                            let chunk = Bytes::from(rng.bytes(len));
                            whole.update(&chunk);
                            h.update(&chunk);
                        }
                        if (t + round) % 5 == 0 {
                            drop(h); // abandoned
                            continue;
                        }
                        let want: [u8; 16] = whole.finalize().into();
                        assert_eq!(h.finish(), want, "thread {t} round {round}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // The hashing thread frees the lanes of the abandoned bodies once it has taken
        // their last message (other tests of this binary may hold lanes meanwhile).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let free = *pool().free.lock().unwrap();
            if free.iter().all(|&f| f) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "lanes still taken: {free:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut h = BodyMd5::new();
        h.update(&Bytes::from_static(b"abc"));
        assert_eq!(hex::encode(h.finish()), "900150983cd24fb0d6963f7d28e17f72");
    }
}
