//! Downloads: `GET /io/{key}` of a byte range into a writer or a file, resumed
//! after a cut with a Range request from the last byte received, in the one
//! retry loop of the policy (progress gives the attempts back).
//!
//! The reply is checked before a byte is written: no content encoding, a
//! `Content-Range` that matches the request, a known size within bounds, the
//! same ETag as before. No more bytes than asked are ever written.

use std::io::{Read, Write};
use std::os::unix::fs::FileExt;

use super::object::{info_of, parse_size};
use super::request::Op;
use super::transport::{local_cause, Body, Resp};
use super::{same_etag, sign, ObjectInfo, Progress, Sink, S3};
use crate::api::neterr;
use crate::api::retry::Call;
use crate::error::{Error, Net, Result};

/// Buffer for downloads read in user space (TLS): filled before each write.
const RECV_BUF: usize = 1024 * 1024;

/// A download in progress.
struct Get<'a> {
    key: &'a str,
    /// Next byte to receive.
    pos: u64,
    /// End of the range (exclusive), `None` = the end of the object.
    end: Option<u64>,
    /// The object's ETag, once known: it must not change.
    etag: Option<String>,
    /// The object's size, once known.
    size: Option<u64>,
}

/// How to read one reply's body.
struct Plan {
    info: ObjectInfo,
    /// Bytes of the body to drop (a full body when a range was asked).
    skip: u64,
    /// Stop at this object offset.
    target: u64,
}

impl S3 {
    /// `GET /io/{key}` from byte `start` to the end, streamed into `out`.
    /// When `expect_etag` is set the response's ETag must equal it (the object
    /// did not change since the caller looked). Returns the object info and
    /// the bytes written.
    pub fn get_object(
        &self,
        key: &str,
        start: u64,
        expect_etag: Option<&str>,
        out: &mut dyn Write,
        progress: Option<Progress<'_>>,
    ) -> Result<(ObjectInfo, u64)> {
        self.get_range(key, start, None, expect_etag, Sink::Writer(out), progress)
    }

    /// Like [`S3::get_object`] for the bytes `start..end` (`end` exclusive;
    /// `None` = to the end of the object), into `sink`.
    pub fn get_range(
        &self,
        key: &str,
        start: u64,
        end: Option<u64>,
        expect_etag: Option<&str>,
        mut sink: Sink<'_>,
        progress: Option<Progress<'_>>,
    ) -> Result<(ObjectInfo, u64)> {
        let mut g = Get {
            key,
            pos: start,
            end,
            etag: expect_etag.map(str::to_string),
            size: None,
        };
        let cancel = self
            .cancel
            .as_deref()
            .map(|c| c as &(dyn Fn() -> bool + Sync));
        let mut call = self.retrier.call(true, cancel);
        let mut auth_retried = false;
        loop {
            if end.is_some_and(|e| g.pos >= e) {
                return Ok((self.head_object(key)?, g.pos - start));
            }
            let before = g.pos;
            let err = match self.get_once(&mut g, &mut sink, progress, &mut call) {
                Ok(info) => return Ok((info, g.pos - start)),
                Err(e) => e,
            };
            if err.error_code() == Some("InvalidRange") && g.pos > 0 && end.is_none() {
                return self.past_the_end(&g, err).map(|i| (i, g.pos - start));
            }
            if g.pos > before {
                call.progressed();
            }
            self.retry(&mut call, err, &mut auth_retried)?;
        }
    }

    /// Bytes past the end of an object asked for: fine when we have it all.
    fn past_the_end(&self, g: &Get<'_>, err: Error) -> Result<ObjectInfo> {
        let i = self.head_object(g.key)?;
        if i.size == g.pos && g.etag.as_deref().is_none_or(|t| same_etag(t, &i.etag)) {
            return Ok(i);
        }
        Err(err)
    }

    /// One attempt: request the bytes from `g.pos`, check the reply, receive it.
    fn get_once(
        &self,
        g: &mut Get<'_>,
        sink: &mut Sink<'_>,
        progress: Option<Progress<'_>>,
        call: &mut Call<'_>,
    ) -> Result<ObjectInfo> {
        let mut extra: Vec<(&str, String)> = vec![("Accept-Encoding", "identity".into())];
        match g.end {
            Some(e) => extra.push(("Range", format!("bytes={}-{}", g.pos, e - 1))),
            None if g.pos > 0 => extra.push(("Range", format!("bytes={}-", g.pos))),
            None => {}
        }
        let op = Op {
            method: "GET",
            key: g.key,
            query: &[],
            extra: &extra,
        };
        let resp = self.attempt(&op, &Body::Empty, sign::EMPTY_SHA256, call)?;
        call.succeeded();
        let plan = g.check(&resp)?;
        self.receive(resp, g, &plan, sink, progress)?;
        if g.pos < plan.target {
            return Err(Error::net(
                Net::Reset,
                format!(
                    "{}: download ended early at byte {} of {}",
                    g.key, g.pos, plan.info.size
                ),
            ));
        }
        Ok(plan.info)
    }

    /// Write the body into the sink, from `g.pos` up to `plan.target`.
    fn receive(
        &self,
        resp: Resp,
        g: &mut Get<'_>,
        plan: &Plan,
        sink: &mut Sink<'_>,
        progress: Option<Progress<'_>>,
    ) -> Result<()> {
        #[cfg(target_os = "linux")]
        let mut resp = resp;
        #[cfg(target_os = "linux")]
        if let (Sink::File { file, path }, 0, Resp::Raw(r)) = (&*sink, plan.skip, &mut resp) {
            if let Some(done) = self.splice(r, file, path, g, plan.target, progress) {
                return done;
            }
        }
        let mut reader = resp.into_reader();
        self.discard(&mut *reader, g, plan.skip)?;
        let mut own = Vec::new();
        while g.pos < plan.target {
            self.check_cancel()?;
            // Fill a whole buffer (few, large writes), as far as the body goes.
            let room: &mut [u8] = match sink {
                Sink::Fill(f) => f.room(g.pos)?,
                _ => {
                    // No larger than the body: a tree has many small files.
                    let size = (plan.target - g.pos).min(RECV_BUF as u64) as usize;
                    own.resize(size.max(own.len()), 0);
                    &mut own
                }
            };
            let want = (plan.target - g.pos).min(room.len() as u64) as usize;
            let (n, failed) = read_full(&mut *reader, &mut room[..want]);
            if n > 0 {
                match sink {
                    Sink::Fill(f) => f.filled(n)?,
                    _ => write_chunk(sink, &own[..n], g.pos)?,
                }
                g.pos += n as u64;
                if let Some(p) = progress {
                    p(n as i64);
                }
            }
            if let Some(e) = failed {
                return Err(self.body_failure(g, &e));
            }
            if n < want {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Drop the first `skip` bytes of a body (a whole object sent for a range).
    fn discard(&self, reader: &mut dyn Read, g: &Get<'_>, mut skip: u64) -> Result<()> {
        let mut scratch = vec![0u8; if skip > 0 { 64 * 1024 } else { 0 }];
        while skip > 0 {
            let want = skip.min(scratch.len() as u64) as usize;
            let (n, failed) = read_full(reader, &mut scratch[..want]);
            if let Some(e) = failed {
                return Err(self.body_failure(g, &e));
            }
            if n < want {
                return Ok(());
            }
            skip -= n as u64;
        }
        Ok(())
    }

    /// The plain-HTTP body straight from the socket into the file (splice);
    /// `None` when the body cannot be spliced (TLS, chunked).
    #[cfg(target_os = "linux")]
    fn splice(
        &self,
        resp: &mut super::raw::RawResponse,
        file: &std::fs::File,
        path: &std::path::Path,
        g: &mut Get<'_>,
        target: u64,
        progress: Option<Progress<'_>>,
    ) -> Option<Result<()>> {
        let want = target.saturating_sub(g.pos);
        let mut each = |n: u64| -> std::io::Result<()> {
            if self.cancelled() {
                return Err(std::io::Error::other(super::transport::Stopped));
            }
            if let Some(p) = progress {
                p(n as i64);
            }
            Ok(())
        };
        let local = |e: std::io::Error| std::io::Error::other(LocalWrite(e));
        let (n, r) = resp.splice_into(file, g.pos, want, &mut each, &local)?;
        g.pos += n;
        Some(match r {
            Ok(()) => Ok(()),
            Err(e) => match e.get_ref().and_then(|i| i.downcast_ref::<LocalWrite>()) {
                Some(LocalWrite(w)) => Err(Error::io(
                    "cannot write",
                    path,
                    std::io::Error::new(w.kind(), w.to_string()),
                )),
                None => Err(self.body_failure(g, &e)),
            },
        })
    }

    /// A failure while receiving: interrupted, or a network error to retry.
    fn body_failure(&self, g: &Get<'_>, e: &std::io::Error) -> Error {
        if let Some(local) = local_cause(e) {
            return local;
        }
        neterr::of_io(self.transport.base(), e)
            .context(format!("{}: download failed at byte {}", g.key, g.pos))
    }
}

/// A local write error, kept apart from network errors inside `splice`.
#[derive(Debug)]
struct LocalWrite(std::io::Error);
impl std::fmt::Display for LocalWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for LocalWrite {}

/// Read until `buf` is full or the body ends; an error after some bytes comes
/// with them.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

fn write_chunk(sink: &mut Sink<'_>, chunk: &[u8], pos: u64) -> Result<()> {
    match sink {
        Sink::Writer(out) => out
            .write_all(chunk)
            .map_err(|e| Error::failure(format!("cannot write the downloaded data: {e}"))),
        Sink::File { file, path } => file
            .write_all_at(chunk, pos)
            .map_err(|e| Error::io("cannot write", path, e)),
        Sink::Fill(_) => Ok(()),
    }
}

impl Get<'_> {
    /// Check a reply before its body is used; say how to read it.
    fn check(&mut self, resp: &Resp) -> Result<Plan> {
        if let Some(enc) = resp.header("Content-Encoding") {
            if !enc.trim().is_empty() && !enc.trim().eq_ignore_ascii_case("identity") {
                return Err(Error::reply(format!(
                    "{}: the server sent the file compressed although asked not to",
                    self.key
                )));
            }
        }
        let (size, skip) = match resp.status() {
            206 => (self.check_range(resp.header("Content-Range"))?, 0),
            200 => (self.full_size(resp)?, self.pos),
            s => {
                return Err(Error::reply(format!(
                    "{}: unexpected status {s} for a download",
                    self.key
                )))
            }
        };
        if self.size.is_some_and(|known| known != size) {
            return Err(Error::conflict(format!(
                "{}: the remote file changed during the download (size {} → {size})",
                self.key,
                self.size.unwrap_or(0)
            )));
        }
        self.size = Some(size);
        let info = info_of(resp, size);
        self.check_etag(&info)?;
        let target = match self.end {
            Some(e) if e > size => {
                return Err(Error::conflict(format!(
                    "{}: the remote file is smaller than expected ({size} bytes)",
                    self.key
                )))
            }
            Some(e) => e,
            None => size,
        };
        Ok(Plan { info, skip, target })
    }

    /// `Content-Range: bytes a-b/total` must start where we asked, end within
    /// the range and the object: returns `total`.
    fn check_range(&self, header: Option<&str>) -> Result<u64> {
        let bad = || {
            Error::reply(format!(
                "{}: the server answered a request for bytes {}- with the range {}",
                self.key,
                self.pos,
                crate::output::escape_control(header.unwrap_or("(none)"))
            ))
        };
        let v = header.ok_or_else(bad)?.trim();
        let (range, total) = v
            .strip_prefix("bytes ")
            .and_then(|r| r.split_once('/'))
            .ok_or_else(bad)?;
        let (a, b) = range.split_once('-').ok_or_else(bad)?;
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        let total = parse_size(total, "size", self.key)?;
        let in_request = self.end.is_none_or(|e| b < e);
        if a != self.pos || b < a || b >= total || !in_request {
            return Err(bad());
        }
        Ok(total)
    }

    /// The size of a full (200) reply: its Content-Length, which must be there.
    fn full_size(&self, resp: &Resp) -> Result<u64> {
        match resp.header("Content-Length") {
            Some(v) => parse_size(v, "Content-Length", self.key),
            None => Err(Error::reply(format!(
                "{}: the server did not say how large the file is",
                self.key
            ))),
        }
    }

    /// The ETag must stay what it was (the object did not change).
    fn check_etag(&mut self, info: &ObjectInfo) -> Result<()> {
        match &self.etag {
            Some(t) if !info.etag.is_empty() && !same_etag(t, &info.etag) => {
                Err(Error::conflict(format!(
                    "{}: the remote file changed during the download (ETag {} → {})",
                    self.key, t, info.etag
                )))
            }
            Some(_) => Ok(()),
            None => {
                if !info.etag.is_empty() {
                    self.etag = Some(info.etag.clone());
                }
                Ok(())
            }
        }
    }
}
