//! Blocking S3 client for the Cells gateway (docs/protocol.md §4).
//!
//! - Path-style `{base}/io/{key}`, SigV4 with access key = current token and
//!   secret `gatewaysecret`, region `us-east-1` ([`sign`]).
//! - Every attempt is signed afresh: new date, access key re-read from the
//!   credentials callback (so an OAuth refresh mid-transfer is picked up).
//! - Bodies stream from a file region with positional reads: a retry re-reads
//!   the same bytes, it can never send a short or shifted body. The payload
//!   SHA-256 is computed in a first pass over the same region (like the
//!   reference's AWS SDK) and sent in `x-amz-content-sha256`.
//! - Errors: S3 XML `<Error>` bodies become [`Error`]s with exit codes
//!   (401/403 → 3, 404 → 4, else 1); transient failures are retried with
//!   exponential back-off and jitter.
#![allow(dead_code)]

#[cfg(test)]
mod moto_test;
pub mod raw;
pub mod sign;
pub mod xml;

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cells_hash::region::{hash_region, read_at_full, sha256_region, RegionHash};

use crate::error::{Error, Exit, Result};

/// Buffer for positional file reads: small enough to stay in the CPU's L2
/// cache, which makes the kernel's copy into it about twice as cheap.
pub use cells_hash::region::IO_BUF;
/// Buffer for socket reads of downloads.
const RECV_BUF: usize = 64 * 1024;

/// Returns the current access key (token), refreshed when needed.
pub type Credentials = Arc<dyn Fn() -> Result<String> + Send + Sync>;
/// Progress callback: bytes moved (negative when a retry rewinds).
pub type Progress<'a> = &'a (dyn Fn(i64) + Sync);

/// Retry policy for S3 requests.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts per request (1 = no retry). 0 is treated as "many" (100).
    pub max_attempts: u32,
    /// Upper bound of the back-off between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            max_backoff: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    fn attempts(&self) -> u32 {
        if self.max_attempts == 0 {
            100
        } else {
            self.max_attempts
        }
    }
    /// Back-off before attempt `n` (n ≥ 1 is the first retry): 250 ms × 2^(n-1),
    /// full jitter in [50%, 100%], capped by `max_backoff`.
    pub fn backoff(&self, n: u32) -> Duration {
        let base = 250u64.saturating_mul(1u64 << (n.saturating_sub(1)).min(16));
        let cap = self.max_backoff.as_millis().max(1) as u64;
        let ms = base.min(cap);
        let jitter = (rand_u64() % (ms / 2 + 1)) as i64;
        Duration::from_millis(ms - jitter as u64)
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        return SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(7);
    }
    u64::from_le_bytes(b)
}

/// What HEAD (or a GET's headers) says about an object.
#[derive(Debug, Clone, Default)]
pub struct ObjectInfo {
    pub size: u64,
    /// ETag verbatim (quotes included).
    pub etag: String,
    pub last_modified: String,
    pub content_type: String,
}

impl ObjectInfo {
    /// ETag without quotes.
    pub fn etag_unquoted(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// One uploaded part (ListParts / UploadPart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    pub number: u32,
    /// Verbatim, quotes included.
    pub etag: String,
    pub size: u64,
}

/// Result of a PUT of a file region.
#[derive(Debug, Clone)]
pub struct PutResult {
    /// ETag verbatim (quotes included), may be empty if the server sent none.
    pub etag: String,
    /// MD5 digests of the region's consecutive 10 MiB blocks (one empty-block
    /// digest for an empty region) — Cells' internal hash material.
    pub block_md5s: Vec<[u8; 16]>,
}

/// Where a download's bytes go.
pub enum Sink<'a> {
    /// Any writer, in order.
    Writer(&'a mut dyn Write),
    /// A file, at the object's own offsets (the segments of a parallel
    /// download); plain-HTTP bodies are spliced in without a user-space copy.
    File(&'a File),
}

/// The S3 error of a failed request.
#[derive(Debug, Clone, Default)]
pub struct S3Error {
    pub status: u16,
    pub code: String,
    pub message: String,
}

enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    Region {
        file: &'a File,
        offset: u64,
        len: u64,
        progress: Option<Progress<'a>>,
    },
}

/// A response from either transport.
pub enum Resp {
    Ureq(Box<ureq::Response>),
    Raw(raw::RawResponse),
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

/// A failed attempt: an HTTP error status (with its response) or a transport error.
enum SendError {
    Status(u16, Resp),
    Transport(String),
}

/// The blocking S3 client. Cheap to share between threads (`&S3` / `Arc<S3>`).
pub struct S3 {
    agent: ureq::Agent,
    /// `scheme://host[:port]`, no trailing slash.
    base: String,
    /// `Host` header value exactly as sent and signed.
    host: String,
    bucket: String,
    /// Secret access key (the gateway's fixed `gatewaysecret`).
    secret: String,
    creds: Credentials,
    user_agent: Option<String>,
    pub retry: RetryPolicy,
    /// Print canonical requests / string to sign to stderr (never the token).
    pub debug_signing: bool,
    /// Print one line per retry to stderr.
    pub debug_retries: bool,
    retries: AtomicU64,
    /// `host:port` for the direct HTTP path (plain http, no proxy), see [`raw`].
    direct: Option<String>,
    /// Polled between requests and buffers: `true` stops the operation with
    /// `Error::interrupted()` (Ctrl-C, `--fail-fast`).
    cancel: Option<Cancel>,
}

/// Cancellation check.
pub type Cancel = Arc<dyn Fn() -> bool + Send + Sync>;

/// `Host` header for a base URL: host, plus `:port` only when not the scheme default.
pub fn host_header(base: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let default = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else {
        ":80"
    };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_ascii_lowercase()
}

impl S3 {
    /// `base` is the server base URL (`scheme://host[:port]`, path ignored).
    pub fn new(agent: ureq::Agent, base: &str, creds: Credentials) -> S3 {
        let trimmed = base.trim().trim_end_matches('/');
        let (scheme, rest) = trimmed.split_once("://").unwrap_or(("http", trimmed));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let base = format!("{scheme}://{authority}");
        S3 {
            host: host_header(&base),
            agent,
            base,
            bucket: "io".into(),
            secret: sign::GATEWAY_SECRET.into(),
            creds,
            user_agent: None,
            retry: RetryPolicy::default(),
            debug_signing: false,
            debug_retries: false,
            retries: AtomicU64::new(0),
            direct: None,
            cancel: None,
        }
    }

    /// Use the direct HTTP/1.1 path of [`raw`] (large reads and writes) when
    /// the server is plain `http://`; the caller checks that no proxy applies.
    pub fn with_direct_http(mut self, on: bool) -> Self {
        self.direct = None;
        if on {
            if let Some(rest) = self.base.strip_prefix("http://") {
                let authority = rest.rsplit('@').next().unwrap_or(rest);
                let has_port = match authority.rfind(']') {
                    Some(i) => authority[i..].contains(':'),
                    None => authority.contains(':'),
                };
                self.direct = Some(if has_port {
                    authority.to_string()
                } else {
                    format!("{authority}:80")
                });
            }
        }
        self
    }

    pub fn with_cancel(mut self, c: Cancel) -> Self {
        self.cancel = Some(c);
        self
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c())
    }

    fn check_cancel(&self) -> Result<()> {
        if self.cancelled() {
            Err(Error::interrupted())
        } else {
            Ok(())
        }
    }

    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = secret.to_string();
        self
    }

    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Total number of retried attempts so far (for the transfer summary).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    // -----------------------------------------------------------------------
    // Operations
    // -----------------------------------------------------------------------

    /// `HEAD /io/{key}`. 404 → exit 4 "not found".
    pub fn head_object(&self, key: &str) -> Result<ObjectInfo> {
        let resp = self.send("HEAD", key, &[], &[], Body::Empty)?;
        Ok(info_of(&resp))
    }

    /// `GET /io/{key}` from byte `start` to the end, streamed into `out`.
    /// When `expect_etag` is set the response's ETag must equal it (the object
    /// did not change since the caller looked). A connection failure mid-body
    /// is resumed with a Range request from the last byte received (the ETag
    /// is checked again). Returns the object info and the bytes written.
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
        let mut pos = start;
        let mut etag: Option<String> = expect_etag.map(|s| s.to_string());
        let mut failures = 0u32;
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            let range = match end {
                Some(e) if e > pos => Some(format!("bytes={pos}-{}", e - 1)),
                Some(_) => return Ok((self.head_object(key)?, pos - start)),
                None if pos > 0 => Some(format!("bytes={pos}-")),
                None => None,
            };
            let mut extra: Vec<(&str, String)> = vec![("Accept-Encoding", "identity".into())];
            if let Some(r) = &range {
                extra.push(("Range", r.clone()));
            }
            let resp = match self.send_ext("GET", key, &[], &extra, Body::Empty) {
                Ok(r) => r,
                // Asking for bytes past the end of an object we already have entirely.
                Err(e) if e.message.contains("InvalidRange") && pos > 0 && end.is_none() => {
                    let i = self.head_object(key)?;
                    if i.size == pos && etag.as_deref().is_none_or(|t| same_etag(t, &i.etag)) {
                        return Ok((i, pos - start));
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            let status = resp.status();
            let mut i = info_of(&resp);
            let mut skip = 0u64;
            if status == 206 {
                // Content-Range: bytes a-b/total
                if let Some(total) = resp
                    .header("Content-Range")
                    .and_then(|v| v.rsplit('/').next())
                    .and_then(|t| t.trim().parse::<u64>().ok())
                {
                    i.size = total;
                }
            } else {
                // Full body (Range ignored): skip what we already have.
                skip = pos;
            }
            if let Some(t) = &etag {
                if !i.etag.is_empty() && !same_etag(t, &i.etag) {
                    return Err(Error::conflict(format!(
                        "{key}: the remote file changed during the download (ETag {} → {})",
                        t, i.etag
                    )));
                }
            } else if !i.etag.is_empty() {
                etag = Some(i.etag.clone());
            }
            let info = i;
            let target = end.unwrap_or(info.size);
            let pos_before = pos;
            let mut resp = resp;
            #[cfg(target_os = "linux")]
            if let (Sink::File(file), 0, Resp::Raw(r)) = (&sink, skip, &mut resp) {
                if let Some(plain) = r.take_plain() {
                    let want = target.saturating_sub(pos).min(plain.len);
                    let mut each = |n: u64| -> io::Result<()> {
                        if self.cancelled() {
                            return Err(io::Error::other("interrupted"));
                        }
                        if let Some(p) = progress {
                            p(n as i64);
                        }
                        Ok(())
                    };
                    let local = |e: io::Error| io::Error::other(LocalWriteError(e.to_string()));
                    let (n, r) = raw::splice_to_file(&plain, file, pos, want, &mut each, &local);
                    pos += n;
                    match self.after_body(key, r, pos, pos_before, target, &info, &mut failures)? {
                        Some(()) => return Ok((info, pos - start)),
                        None => continue,
                    }
                }
            }
            let mut reader = resp.into_reader();
            let res: io::Result<()> = (|| loop {
                if pos >= target && end.is_some() {
                    return Ok(());
                }
                if self.cancelled() {
                    return Err(io::Error::other("interrupted"));
                }
                let n = match reader.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let mut chunk = &buf[..n];
                if skip > 0 {
                    let s = skip.min(chunk.len() as u64) as usize;
                    skip -= s as u64;
                    chunk = &chunk[s..];
                    if chunk.is_empty() {
                        continue;
                    }
                }
                if end.is_some() && pos + chunk.len() as u64 > target {
                    chunk = &chunk[..(target - pos) as usize];
                }
                match &mut sink {
                    Sink::Writer(out) => out.write_all(chunk),
                    Sink::File(file) => file.write_all_at(chunk, pos),
                }
                .map_err(|e| io::Error::other(LocalWriteError(e.to_string())))?;
                pos += chunk.len() as u64;
                if let Some(p) = progress {
                    p(chunk.len() as i64);
                }
            })();
            if self
                .after_body(key, res, pos, pos_before, target, &info, &mut failures)?
                .is_some()
            {
                return Ok((info, pos - start));
            }
        }
    }

    /// After a body was read up to `pos`: `Some` when the range is complete,
    /// `None` after waiting to resume it (a short body or a network error),
    /// `Err` when it cannot be resumed.
    #[allow(clippy::too_many_arguments)]
    fn after_body(
        &self,
        key: &str,
        res: io::Result<()>,
        pos: u64,
        pos_before: u64,
        target: u64,
        info: &ObjectInfo,
        failures: &mut u32,
    ) -> Result<Option<()>> {
        match res {
            Ok(()) if pos >= target => return Ok(Some(())),
            Ok(()) => {
                // Short body: the connection ended early. Resume.
                *failures += 1;
                if *failures >= self.retry.attempts() {
                    return Err(Error::failure(format!(
                        "{key}: download ended early at byte {pos} of {}",
                        info.size
                    )));
                }
            }
            Err(e) => {
                self.check_cancel()?;
                if let Some(inner) = e
                    .get_ref()
                    .and_then(|x| x.downcast_ref::<LocalWriteError>())
                {
                    return Err(Error::failure(format!(
                        "cannot write local file: {}",
                        inner.0
                    )));
                }
                *failures += 1;
                if *failures >= self.retry.attempts() {
                    return Err(Error::failure(format!(
                        "{key}: download failed at byte {pos}: {e}"
                    )));
                }
            }
        }
        if pos > pos_before {
            // Bytes are flowing: only consecutive attempts without progress count.
            *failures = 1;
        }
        self.note_retry("GET", key, *failures, "connection lost mid-body");
        std::thread::sleep(self.retry.backoff(*failures));
        Ok(None)
    }

    /// `PUT /io/{key}` of `len` bytes of `file` from `offset`. Also computes
    /// the 10 MiB block MD5s of the region (first pass, with the SHA-256).
    pub fn put_object(
        &self,
        key: &str,
        file: &File,
        offset: u64,
        len: u64,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        self.put_region(key, &[], file, offset, len, None, progress)
    }

    /// `POST /io/{key}?uploads` → upload id.
    pub fn create_multipart(&self, key: &str) -> Result<String> {
        let resp = self.send("POST", key, &[("uploads", "")], &[], Body::Empty)?;
        let body = read_small(resp)?;
        check_not_error(&body, 200)?;
        xml::first(&body, "UploadId")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::failure(format!("{key}: no UploadId in the server's answer")))
    }

    /// `PUT /io/{key}?partNumber=n&uploadId=id` with `len` bytes of `file` from
    /// `offset`; `hashes` when the caller already hashed the region.
    #[allow(clippy::too_many_arguments)]
    pub fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        file: &File,
        offset: u64,
        len: u64,
        hashes: Option<RegionHash>,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let n = number.to_string();
        self.put_region(
            key,
            &[("partNumber", &n), ("uploadId", upload_id)],
            file,
            offset,
            len,
            hashes,
            progress,
        )
    }

    /// `GET /io/{key}?uploadId=id` (all pages) → the parts already uploaded.
    pub fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<PartInfo>> {
        let mut out = Vec::new();
        let mut marker = String::new();
        for _ in 0..10_000 {
            let mut q: Vec<(&str, &str)> = vec![("uploadId", upload_id), ("max-parts", "1000")];
            if !marker.is_empty() {
                q.push(("part-number-marker", &marker));
            }
            let resp = self.send("GET", key, &q, &[], Body::Empty)?;
            let body = read_small(resp)?;
            check_not_error(&body, 200)?;
            for p in xml::elements(&body, "Part") {
                let number = xml::first(p, "PartNumber")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let etag = xml::first(p, "ETag").unwrap_or_default();
                let size = xml::first(p, "Size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if number > 0 {
                    out.push(PartInfo { number, etag, size });
                }
            }
            let truncated = xml::first(&body, "IsTruncated").as_deref() == Some("true");
            let next = xml::first(&body, "NextPartNumberMarker").unwrap_or_default();
            if !truncated || next.is_empty() || next == marker {
                break;
            }
            marker = next;
        }
        out.sort_by_key(|p| p.number);
        out.dedup_by_key(|p| p.number);
        Ok(out)
    }

    /// `POST /io/{key}?uploadId=id` with the part list → the object's ETag.
    pub fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<String> {
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|p| p.0);
        let mut body = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for (n, etag) in &sorted {
            body.push_str(&format!(
                "<Part><ETag>{}</ETag><PartNumber>{n}</PartNumber></Part>",
                xml::escape(etag)
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let resp = self.send(
            "POST",
            key,
            &[("uploadId", upload_id)],
            &[("Content-Type", "application/xml")],
            Body::Bytes(body.as_bytes()),
        )?;
        let header_etag = resp.header("ETag").unwrap_or("").to_string();
        let text = read_small(resp)?;
        check_not_error(&text, 200)?;
        Ok(xml::first(&text, "ETag").unwrap_or(header_etag))
    }

    /// `DELETE /io/{key}?uploadId=id`. A missing upload is not an error.
    pub fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        match self.send("DELETE", key, &[("uploadId", upload_id)], &[], Body::Empty) {
            Ok(_) => Ok(()),
            Err(e) if e.exit == Exit::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    // -----------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------

    /// The body is hashed first (SHA-256 to sign, block MD5s to verify what
    /// the server stores), then sent; the server checks the signed SHA-256, so
    /// bytes that changed in between are refused, never stored.
    #[allow(clippy::too_many_arguments)]
    fn put_region(
        &self,
        key: &str,
        query: &[(&str, &str)],
        file: &File,
        offset: u64,
        len: u64,
        hashes: Option<RegionHash>,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let RegionHash { sha256, block_md5s } = match hashes {
            Some(h) => h,
            None => hash_region(file, offset, len).map_err(read_error)?,
        };
        let resp = self.send_signed(
            "PUT",
            key,
            query,
            &[("Content-Type", "application/octet-stream".into())],
            Body::Region {
                file,
                offset,
                len,
                progress,
            },
            &sha256,
        )?;
        let etag = resp.header("ETag").unwrap_or("").to_string();
        // Drain (tiny) body so the connection can be reused.
        let _ = read_small(resp);
        Ok(PutResult { etag, block_md5s })
    }

    fn send(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: Body<'_>,
    ) -> Result<Resp> {
        let extra: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.send_ext(method, key, query, &extra, body)
    }

    fn send_ext(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        extra: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<Resp> {
        let hash = match &body {
            Body::Empty => sign::EMPTY_SHA256.to_string(),
            Body::Bytes(b) => cells_hash::sha256_hex(b),
            Body::Region {
                file, offset, len, ..
            } => sha256_region(file, *offset, *len).map_err(read_error)?,
        };
        self.send_signed(method, key, query, extra, body, &hash)
    }

    /// One request with retries; every attempt re-signed with a fresh date and token.
    fn send_signed(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, &str)],
        extra: &[(&str, String)],
        body: Body<'_>,
        payload_hash: &str,
    ) -> Result<Resp> {
        let path = sign::object_path(&self.bucket, key);
        let q = sign::canonical_query(query);
        let url = if q.is_empty() {
            format!("{}{}", self.base, path)
        } else {
            format!("{}{}?{}", self.base, path, q)
        };
        let body_len = match &body {
            Body::Empty => None,
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Region { len, .. } => Some(*len),
        };
        let mut attempt = 0u32;
        let mut auth_retried = false;
        loop {
            attempt += 1;
            self.check_cancel()?;
            let token = (self.creds)()?;
            if token.is_empty() {
                return Err(Error::auth(
                    "cannot provide S3 credentials with an empty token",
                ));
            }
            let (amzdate, _) = sign::amz_dates(SystemTime::now());
            let len_s = body_len.map(|l| l.to_string());
            let mut signed: Vec<(&str, &str)> = vec![
                ("host", self.host.as_str()),
                ("x-amz-content-sha256", payload_hash),
                ("x-amz-date", amzdate.as_str()),
            ];
            if let Some(l) = &len_s {
                signed.push(("content-length", l.as_str()));
            }
            for (k, v) in extra {
                let lk = k.to_ascii_lowercase();
                if matches!(lk.as_str(), "content-type" | "content-md5" | "range") {
                    signed.push((k, v.as_str()));
                }
            }
            let s = sign::sign(
                &sign::Request {
                    method,
                    path: &path,
                    query: &q,
                    headers: &signed,
                    payload_hash,
                },
                &token,
                &self.secret,
                sign::REGION,
                sign::SERVICE,
                &amzdate,
            );
            if self.debug_signing {
                errln!(
                    "[s3 signing] canonical request:\n{}\n[s3 signing] string to sign:\n{}",
                    s.canonical_request,
                    s.string_to_sign
                );
            }
            let mut headers: Vec<(&str, &str)> = vec![
                ("Host", self.host.as_str()),
                ("x-amz-content-sha256", payload_hash),
                ("x-amz-date", amzdate.as_str()),
                ("Authorization", s.authorization.as_str()),
            ];
            for (k, v) in extra {
                headers.push((k, v.as_str()));
            }
            if let Some(l) = &len_s {
                headers.push(("Content-Length", l.as_str()));
            }
            let ua_default;
            match &self.user_agent {
                Some(ua) => headers.push(("User-Agent", ua.as_str())),
                None if self.direct.is_some() => {
                    ua_default = crate::api::http::user_agent();
                    headers.push(("User-Agent", ua_default.as_str()));
                }
                None => {}
            }
            let mut sent = 0u64;
            let result: std::result::Result<Resp, SendError> = match &self.direct {
                Some(addr) => {
                    let path_q = if q.is_empty() {
                        path.clone()
                    } else {
                        format!("{path}?{q}")
                    };
                    let cancel = self.cancel.as_ref();
                    let mut each = |n: u64| -> io::Result<()> {
                        if cancel.is_some_and(|c| c()) {
                            return Err(io::Error::other("interrupted"));
                        }
                        sent += n;
                        if let Body::Region {
                            progress: Some(p), ..
                        } = &body
                        {
                            p(n as i64);
                        }
                        Ok(())
                    };
                    let rb = match &body {
                        Body::Bytes(b) => raw::RawBody::Bytes(b),
                        Body::Region {
                            file, offset, len, ..
                        } => raw::RawBody::File {
                            file,
                            offset: *offset,
                            len: *len,
                            each: &mut each,
                        },
                        Body::Empty => raw::RawBody::None,
                    };
                    match raw::send(addr, method, &path_q, &headers, rb) {
                        Ok(r) if r.status >= 400 => Err(SendError::Status(r.status, Resp::Raw(r))),
                        Ok(r) => Ok(Resp::Raw(r)),
                        Err(e) => Err(SendError::Transport(e.to_string())),
                    }
                }
                None => {
                    let region = match &body {
                        Body::Region {
                            file,
                            offset,
                            len,
                            progress,
                        } => Some(RegionReader {
                            file,
                            pos: *offset,
                            end: offset + len,
                            buf: Vec::new(),
                            buf_pos: 0,
                            progress: *progress,
                            sent: &mut sent,
                            cancel: self.cancel.as_ref(),
                        }),
                        _ => None,
                    };
                    let mut req = self.agent.request(method, &url);
                    for (k, v) in &headers {
                        req = req.set(k, v);
                    }
                    let r = match (&body, region) {
                        (Body::Bytes(b), _) => req.send_bytes(b),
                        (Body::Region { .. }, Some(r)) => req.send(r),
                        _ => req.call(),
                    };
                    match r {
                        Ok(r) => Ok(Resp::Ureq(Box::new(r))),
                        Err(ureq::Error::Status(c, r)) => {
                            Err(SendError::Status(c, Resp::Ureq(Box::new(r))))
                        }
                        Err(ureq::Error::Transport(t)) => Err(SendError::Transport(t.to_string())),
                    }
                }
            };
            let err = match result {
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            // Rewind progress for what was read by this failed attempt.
            if let Body::Region {
                progress: Some(p), ..
            } = &body
            {
                if sent > 0 {
                    p(-(sent as i64));
                }
            }
            self.check_cancel()?;
            let (retryable, error) = classify(err, key);
            let is_auth = error.exit == Exit::Auth;
            let may_retry = if is_auth {
                // A token may just have expired: one more try with a fresh one.
                !auth_retried
            } else {
                retryable && attempt < self.retry.attempts()
            };
            if !may_retry {
                return Err(error);
            }
            if is_auth {
                auth_retried = true;
            }
            self.note_retry(method, key, attempt, &error.message);
            std::thread::sleep(self.retry.backoff(attempt));
        }
    }

    fn note_retry(&self, method: &str, key: &str, attempt: u32, why: &str) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        if self.debug_retries {
            errln!("[s3 retry] {method} {key}: attempt {attempt} failed ({why}), retrying");
        }
    }
}

#[derive(Debug)]
struct LocalWriteError(String);
impl std::fmt::Display for LocalWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for LocalWriteError {}

/// Compare two ETags ignoring quotes and a weak prefix.
pub fn same_etag(a: &str, b: &str) -> bool {
    let n = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_ascii_lowercase()
    };
    n(a) == n(b)
}

fn info_of(resp: &Resp) -> ObjectInfo {
    ObjectInfo {
        size: resp
            .header("Content-Length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
        etag: resp.header("ETag").unwrap_or("").to_string(),
        last_modified: resp.header("Last-Modified").unwrap_or("").to_string(),
        content_type: resp.header("Content-Type").unwrap_or("").to_string(),
    }
}

/// Read a small (XML) response body, capped at 4 MiB.
fn read_small(resp: Resp) -> Result<String> {
    let mut s = String::new();
    resp.into_reader()
        .take(4 * 1024 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| Error::failure(format!("cannot read the server's answer: {e}")))?;
    Ok(s)
}

/// A 200 whose body is an `<Error>` document is a failure.
fn check_not_error(body: &str, status: u16) -> Result<()> {
    if xml::root_name(body) == Some("Error") {
        let e = parse_error(status, body);
        return Err(error_of(&e, ""));
    }
    Ok(())
}

pub fn parse_error(status: u16, body: &str) -> S3Error {
    S3Error {
        status,
        code: xml::first(body, "Code").unwrap_or_default(),
        message: xml::first(body, "Message").unwrap_or_default(),
    }
}

fn error_of(e: &S3Error, key: &str) -> Error {
    let what = match (e.code.is_empty(), e.message.is_empty()) {
        (true, _) => format!("HTTP {}", e.status),
        (false, true) => e.code.clone(),
        (false, false) => format!("{}: {}", e.code, e.message),
    };
    let msg = if key.is_empty() {
        format!("S3 error {what}")
    } else {
        format!("{key}: S3 error {what}")
    };
    let exit = match (e.status, e.code.as_str()) {
        (401, _) | (403, _) | (_, "AccessDenied") | (_, "UnauthorizedAccess") => Exit::Auth,
        (404, _) | (_, "NoSuchKey") | (_, "NoSuchUpload") => Exit::NotFound,
        _ => Exit::Failure,
    };
    let mut err = Error::new(exit, msg);
    if exit == Exit::NotFound && e.code.is_empty() {
        err.message = format!("{key}: not found on the server");
    }
    err
}

/// (retryable?, error) for a failed ureq call.
fn classify(err: SendError, key: &str) -> (bool, Error) {
    match err {
        SendError::Status(status, resp) => {
            let body = read_small(resp).unwrap_or_default();
            let e = parse_error(status, &body);
            let retryable = status >= 500
                || status == 408
                || status == 429
                || matches!(
                    e.code.as_str(),
                    "RequestTimeout"
                        | "SlowDown"
                        | "InternalError"
                        | "ClientDisconnected"
                        | "RequestTimeTooSkewed"
                        | "ExpiredToken"
                        | "IncompleteBody"
                        | "XAmzContentSHA256Mismatch"
                );
            (retryable, error_of(&e, key))
        }
        SendError::Transport(t) => (true, Error::failure(format!("{key}: network error: {t}"))),
    }
}

/// A failure reading the file being uploaded.
pub fn read_error(e: io::Error) -> Error {
    Error::failure(format!("cannot read the file to upload: {e}"))
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
}

impl Read for RegionReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf_pos >= self.buf.len() {
            if self.pos >= self.end {
                return Ok(0);
            }
            if self.cancel.is_some_and(|c| c()) {
                return Err(io::Error::other("interrupted"));
            }
            let want = (self.end - self.pos).min(IO_BUF as u64) as usize;
            self.buf.resize(want, 0);
            let n = read_at_full(self.file, &mut self.buf[..want], self.pos)?;
            if n < want {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while being uploaded",
                ));
            }
            self.pos += n as u64;
            self.buf_pos = 0;
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

    #[test]
    fn host_headers() {
        assert_eq!(host_header("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(
            host_header("https://Cells.Example.com:443/x"),
            "cells.example.com"
        );
        assert_eq!(host_header("http://h:80"), "h");
        assert_eq!(host_header("https://h:80"), "h:80");
        assert_eq!(host_header("http://[::1]:9000"), "[::1]:9000");
    }

    #[test]
    fn backoff_bounds() {
        let p = RetryPolicy {
            max_attempts: 3,
            max_backoff: Duration::from_millis(1000),
        };
        for n in 1..20 {
            let b = p.backoff(n);
            assert!(b <= Duration::from_millis(1000), "{b:?}");
        }
        assert!(p.backoff(1) >= Duration::from_millis(125));
    }

    #[test]
    fn errors_map_to_exit_codes() {
        let e = parse_error(
            403,
            "<Error><Code>AccessDenied</Code><Message>no</Message></Error>",
        );
        assert_eq!(error_of(&e, "k").exit, Exit::Auth);
        let e = parse_error(404, "");
        assert_eq!(error_of(&e, "k").exit, Exit::NotFound);
        let e = parse_error(500, "<Error><Code>InternalError</Code></Error>");
        assert_eq!(error_of(&e, "k").exit, Exit::Failure);
        assert!(check_not_error("<?xml?><Error><Code>X</Code></Error>", 200).is_err());
        assert!(check_not_error("<CompleteMultipartUploadResult/>", 200).is_ok());
    }

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
        };
        let mut got = [0u8; 6];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"marker");
        assert_eq!(sent, 6);
    }
}
