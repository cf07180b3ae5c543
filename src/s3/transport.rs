//! One S3 request attempt, over one of two paths behind one interface
//! ([`Transport::send`]): the direct HTTP/1.1 path of [`super::raw`] (plain or
//! TLS connections kept alive in a pool, [`super::conn`]; sendfile/splice on
//! plain ones) whenever no proxy is in the way, else the ureq agent.
//! A status of 300 or more comes back as an [`Error`] of its kind; signing and
//! retries are the caller's ([`super::request`]).

use std::fs::File;
use std::io::{self, Read};

use cells_hash::region::{read_at_full, IO_BUF};

use super::conn::{Conn, Pool, Target};
use super::errors::{error_of, parse_error};
use super::raw::{self, RawBody, RawResponse};
use super::{Cancel, Progress, ShrankError};
use crate::api::neterr;
use crate::error::{Error, Exit, Kind, Result};

/// Largest S3 XML reply read into memory (a ListParts page of 1000 parts is ~150 KiB).
pub const MAX_XML: u64 = 4 << 20;

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `len` bytes of `file` from `offset`, read anew by every attempt.
    Region {
        file: &'a File,
        offset: u64,
        len: u64,
        progress: Option<Progress<'a>>,
        /// Hashes the bytes as they are sent (started afresh by every
        /// attempt); only on paths that read the file in user space
        /// ([`Transport::reads_bodies`]).
        tap: Option<&'a Tap>,
    },
}

/// The block MD5s of a body computed while it is sent.
pub type Tap = std::sync::Mutex<cells_hash::BlockHasher>;

fn tap_reset(tap: Option<&Tap>) {
    if let Some(t) = tap {
        *t.lock().expect("tap lock") = cells_hash::BlockHasher::new();
    }
}

fn tap_bytes(tap: Option<&Tap>, bytes: &[u8]) {
    if let Some(t) = tap {
        t.lock().expect("tap lock").update(bytes);
    }
}

impl Body<'_> {
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => None,
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Region { len, .. } => Some(*len),
        }
    }
}

/// A response from either path.
pub enum Resp {
    Ureq(Box<ureq::Response>),
    Raw(RawResponse),
}

impl Resp {
    pub fn status(&self) -> u16 {
        match self {
            Resp::Ureq(r) => r.status(),
            Resp::Raw(r) => r.status,
        }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        match self {
            Resp::Ureq(r) => r.header(name),
            Resp::Raw(r) => r.header(name),
        }
    }
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        match self {
            Resp::Ureq(r) => Box::new((*r).into_reader()),
            Resp::Raw(r) => r.into_reader(),
        }
    }
}

/// Read a small (XML) reply: at most [`MAX_XML`] bytes, else an error.
pub fn read_small(resp: Resp, base: &str) -> Result<String> {
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(MAX_XML + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| neterr::of_io(base, &e).context("reading the server's reply"))?;
    if bytes.len() as u64 > MAX_XML {
        return Err(Error::reply(format!(
            "the server's reply is larger than {} MiB; refusing it",
            MAX_XML >> 20
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// What a body callback stopped a transfer with (kept apart from network errors).
#[derive(Debug)]
pub struct Stopped;
impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}
impl std::error::Error for Stopped {}

/// A file body that could not be read (kept apart from network errors).
#[derive(Debug)]
pub struct ReadFailed(pub io::Error);
impl std::fmt::Display for ReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read the file to upload: {}", self.0)
    }
}
impl std::error::Error for ReadFailed {}

/// The error an I/O failure of a body stands for when it is not the
/// network's: a stop, a file that shrank or could not be read.
pub fn local_cause(e: &io::Error) -> Option<Error> {
    let inner = e.get_ref()?;
    if inner.is::<Stopped>() {
        return Some(Error::interrupted());
    }
    if let Some(s) = inner.downcast_ref::<ShrankError>() {
        return Some(Error::failure(s.to_string()));
    }
    let r = inner.downcast_ref::<ReadFailed>()?;
    Some(Error::failure(r.to_string()).with_kind(Kind::Io {
        kind: r.0.kind(),
        path: None,
    }))
}

/// [`local_cause`], or the I/O error back when it is the network's.
pub fn body_error(e: io::Error) -> std::result::Result<Error, io::Error> {
    local_cause(&e).ok_or(e)
}

/// How requests reach the server.
pub enum Transport {
    /// Through the ureq agent (proxies; custom headers are the agent's).
    Agent { agent: ureq::Agent, base: String },
    /// The direct HTTP/1.1 path: its connections and the custom headers.
    Direct {
        target: Target,
        pool: std::sync::Arc<Pool>,
        headers: Vec<(String, String)>,
    },
}

/// One request, signed.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, as signed.
    pub path_q: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// The object key, for messages.
    pub key: &'a str,
}

impl Transport {
    /// The direct path to `target`, with the account's custom headers.
    pub fn direct(target: Target, headers: Vec<(String, String)>) -> Transport {
        Transport::Direct {
            target,
            pool: Default::default(),
            headers,
        }
    }

    /// `scheme://host[:port]` of the server.
    pub fn base(&self) -> &str {
        match self {
            Transport::Agent { base, .. } => base,
            Transport::Direct { target, .. } => &target.base,
        }
    }

    pub fn is_direct(&self) -> bool {
        matches!(self, Transport::Direct { .. })
    }

    /// The bytes travel encrypted (TLS to the server itself, or through a
    /// proxy's tunnel).
    pub fn is_tls(&self) -> bool {
        self.base().starts_with("https://")
    }

    /// File bodies pass through user space (not sendfile): a [`Tap`] sees them.
    pub fn reads_bodies(&self) -> bool {
        match self {
            Transport::Agent { .. } => true,
            Transport::Direct { target, .. } => target.tls.is_some() || !cfg!(target_os = "linux"),
        }
    }

    /// Send one attempt. `sent` counts the body bytes that left (also when it
    /// fails, so that progress can be rewound); `cancel` is polled between
    /// pieces of the body.
    pub fn send(
        &self,
        req: &Request<'_>,
        body: &Body<'_>,
        sent: &mut u64,
        cancel: Option<&Cancel>,
    ) -> Result<Resp> {
        let resp = match self {
            Transport::Direct {
                target,
                pool,
                headers,
            } => Resp::Raw(send_direct(target, pool, headers, req, body, sent, cancel)?),
            Transport::Agent { agent, base } => send_agent(agent, base, req, body, sent, cancel)?,
        };
        if resp.status() >= 300 {
            return Err(status_error(resp, req.key, self.base()));
        }
        Ok(resp)
    }
}

/// One attempt on a pooled connection. A request that failed before any of
/// the response arrived, on a connection that had been idle in the pool, is
/// sent once more on a new connection (the server may have closed the idle
/// one); its progress is taken back first. Only idempotent methods: a POST
/// (create or complete a multipart upload) may have been carried out, so it
/// goes back to the retry policy, which counts, logs and checks it.
#[allow(clippy::too_many_arguments)]
fn send_direct(
    target: &Target,
    pool: &std::sync::Arc<Pool>,
    custom: &[(String, String)],
    req: &Request<'_>,
    body: &Body<'_>,
    sent: &mut u64,
    cancel: Option<&Cancel>,
) -> Result<RawResponse> {
    let (progress, tap) = match body {
        Body::Region { progress, tap, .. } => (*progress, *tap),
        _ => (None, None),
    };
    let mut headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| !custom.iter().any(|(c, _)| c.eq_ignore_ascii_case(k)))
        .copied()
        .collect();
    headers.extend(custom.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut conn = pool.get(target)?;
    loop {
        let reused = conn.reused;
        let mut each = |n: u64| -> io::Result<()> {
            if cancel.is_some_and(|c| c()) {
                return Err(io::Error::other(Stopped));
            }
            *sent += n;
            if let Some(p) = progress {
                p(n as i64);
            }
            Ok(())
        };
        let rb = match body {
            Body::Empty => RawBody::None,
            Body::Bytes(b) => RawBody::Bytes(b),
            Body::Region {
                file, offset, len, ..
            } => {
                tap_reset(tap);
                RawBody::File {
                    file,
                    offset: *offset,
                    len: *len,
                    each: &mut each,
                    tap,
                }
            }
        };
        let f = match raw::exchange(conn, pool, req.method, req.path_q, &headers, rb) {
            Ok(r) => return Ok(r),
            Err(f) => f,
        };
        let e = match body_error(f.error) {
            Ok(local) => return Err(local),
            Err(e) => e,
        };
        let idempotent = req.method != "POST";
        if !reused || !idempotent || f.answered || e.kind() == io::ErrorKind::InvalidData {
            return Err(neterr::of_io(&target.base, &e));
        }
        if let Some(p) = progress {
            p(-(*sent as i64));
        }
        *sent = 0;
        conn = Conn::open(target)?;
    }
}

fn send_agent(
    agent: &ureq::Agent,
    base: &str,
    req: &Request<'_>,
    body: &Body<'_>,
    sent: &mut u64,
    cancel: Option<&Cancel>,
) -> Result<Resp> {
    let url = format!("{base}{}", req.path_q);
    let mut r = agent.request(req.method, &url);
    for (k, v) in req.headers {
        r = r.set(k, v);
    }
    let res = match body {
        Body::Empty => r.call(),
        Body::Bytes(b) => r.send_bytes(b),
        Body::Region {
            file,
            offset,
            len,
            progress,
            tap,
        } => {
            tap_reset(*tap);
            r.send(RegionReader {
                file,
                pos: *offset,
                end: offset + len,
                buf: Vec::new(),
                buf_pos: 0,
                progress: *progress,
                sent,
                cancel,
                tap: *tap,
            })
        }
    };
    match res {
        Ok(r) => Ok(Resp::Ureq(Box::new(r))),
        Err(ureq::Error::Status(_, r)) => Ok(Resp::Ureq(Box::new(r))),
        Err(ureq::Error::Transport(t)) => {
            let local = std::error::Error::source(&t)
                .and_then(|s| s.downcast_ref::<io::Error>())
                .and_then(local_cause);
            Err(local.unwrap_or_else(|| neterr::of_transport(&url, &t)))
        }
    }
}

/// An error status (3xx included: redirects are never followed, a signature
/// must not reach another host) as the error of its kind.
fn status_error(resp: Resp, key: &str, base: &str) -> Error {
    let status = resp.status();
    if (300..400).contains(&status) {
        let to = crate::output::escape_control(resp.header("Location").unwrap_or(""))
            .chars()
            .take(200)
            .collect::<String>();
        return Error::new(
            Exit::Failure,
            format!("{key}: the server redirects ({status}) to {to}; redirects are not followed (check the URL)"),
        )
        .with_kind(Kind::Reply);
    }
    let body = read_small(resp, base).unwrap_or_default();
    error_of(&parse_error(status, &body), key)
}

/// Streams a file region with positional reads through a bounded buffer.
struct RegionReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_pos: usize,
    progress: Option<Progress<'a>>,
    sent: &'a mut u64,
    cancel: Option<&'a Cancel>,
    tap: Option<&'a Tap>,
}

impl RegionReader<'_> {
    fn refill(&mut self) -> io::Result<()> {
        if self.cancel.is_some_and(|c| c()) {
            return Err(io::Error::other(Stopped));
        }
        let want = (self.end - self.pos).min(IO_BUF as u64) as usize;
        self.buf.resize(want, 0);
        let n = read_at_full(self.file, &mut self.buf[..want], self.pos)
            .map_err(|e| io::Error::other(ReadFailed(e)))?;
        if n < want {
            return Err(io::Error::other(ShrankError));
        }
        tap_bytes(self.tap, &self.buf[..n]);
        self.pos += n as u64;
        self.buf_pos = 0;
        Ok(())
    }
}

impl Read for RegionReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf_pos >= self.buf.len() {
            if self.pos >= self.end {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = out.len().min(self.buf.len() - self.buf_pos);
        out[..n].copy_from_slice(&self.buf[self.buf_pos..self.buf_pos + n]);
        self.buf_pos += n;
        *self.sent += n as u64;
        if let Some(p) = self.progress {
            p(n as i64);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::FileExt;

    /// A region of 4 GiB or more past 4 GiB of a sparse file: a 32-bit
    /// `usize` (armv7, run under emulation) must not truncate its length.
    #[test]
    fn region_reader_past_4_gib() {
        const AT: u64 = (1 << 32) + 4096 + 7;
        let file = tempfile::tempfile().unwrap();
        file.write_all_at(b"marker", AT).unwrap();
        file.set_len(AT + (1 << 32)).unwrap();
        let mut sent = 0;
        let mut r = RegionReader {
            file: &file,
            pos: AT,
            end: AT + (1 << 32),
            buf: Vec::new(),
            buf_pos: 0,
            progress: None,
            sent: &mut sent,
            cancel: None,
            tap: None,
        };
        let mut got = [0u8; 6];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"marker");
        assert_eq!(sent, 6);
    }
}
