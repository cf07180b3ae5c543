//! S3 gateway under `/io` (docs/protocol.md §4): path-style bucket `io`, key = node path
//! (`<workspace-slug>/<path>`), AWS SigV4 verified by the `s3s` crate (an implementation
//! independent of cec's signer) with access key = any token the server accepts and the
//! secret `gatewaysecret`.
//!
//! # Wiring (for the core dispatcher)
//!
//! ```ignore
//! // once, at start-up (cheap to clone: an Arc inside):
//! let s3: s3s::service::S3Service = s3::service(host.clone());
//!
//! // per request, when `path == "/io"` or `path.starts_with("/io/")`:
//! let resp = crate::s3::handle(&s3, req).await;
//! //   -> http::Response<crate::s3::BoxBody>   (never fails; errors become XML 500s)
//! // or, with the raw s3s types:
//! //   hyper::service::Service::call(&s3, req).await
//! //     : Result<http::Response<s3s::Body>, s3s::HttpError>
//! ```
//!
//! `s3s::Body` implements `http_body::Body<Data = Bytes, Error = s3s::StdError>`, so
//! `resp.map(|b| http_body_util::BodyExt::boxed(b))` gives a
//! `BoxBody<Bytes, Box<dyn Error + Send + Sync>>` like [`BoxBody`]. Pass the request
//! untouched (original `Host` header, URI and body): the signature covers them.
//!
//! Operations: PutObject, HeadObject, GetObject (Range → 206), CreateMultipartUpload,
//! UploadPart, ListParts, CompleteMultipartUpload, AbortMultipartUpload, HeadBucket, and
//! ListObjectsV2 / ListObjects (delimiter `/` or none, `encoding-type=url`, pagination)
//! when built with [`service_with_lister`] — `State` implements [`ObjectLister`] in
//! `src/s3/listing.rs`, so the dispatcher only has to call
//! `s3::service_with_lister(host, st.clone())` instead of `s3::service(host)`;
//! with plain [`service`] listing answers 501 NotImplemented. DeleteObject moves the file to
//! the workspace's recycle bin, like the REST delete (so that `rclone sync` and `aws s3 sync
//! --delete` can be measured against `cec sync --delete`). Not implemented: CopyObject.
//!
//! Bytes move in 1 MiB blocks on blocking threads; objects are never held in memory. New content is
//! written to a staging file under `Host::data_dir()/s3/` (a multipart upload's parts: see
//! `parts.rs`) and renamed onto the path from `Host::resolve_object`, then
//! `Host::object_written` is called. Body MD5s are computed by `md5pool.rs`.
//!
//! Refusals: unknown/expired token → `UnauthorizedAccess` (401, like current Cells
//! gateways); bad signature → `SignatureDoesNotMatch` (403); `Denied::Forbidden` →
//! `AccessDenied` (403); `Denied::NotFound` → `NoSuchKey` (404); bucket other than `io`
//! → `NoSuchBucket` (404).
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use s3s::auth::{Credentials, S3Auth, SecretKey};
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::stream::{ByteStream, RemainingLength};
use s3s::validation::NameValidation;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, StdError, S3};
use serde::{Deserialize, Serialize};

use crate::host::{Denied, Host};

mod listing;
mod md5pool;
mod parts;

/// The S3 secret shared by every access key (= token).
pub const GATEWAY_SECRET: &str = "gatewaysecret";
/// The only bucket.
pub const BUCKET: &str = "io";
/// Size of the blocks read from / written to disk.
const BLOCK: usize = 1 << 20;
/// S3 minimum size of every part but the last.
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Objects larger than this get a synthetic ETag when none was recorded at write time
/// (hashing them on a HEAD would be too slow).
const MAX_LAZY_MD5: u64 = 256 * 1024 * 1024;

/// Boxed response body, convenient for a dispatcher that mixes several fronts.
pub type BoxBody = http_body_util::combinators::BoxBody<Bytes, StdError>;

/// Build the S3 service for `host` (see the module docs for how to call it), with
/// ListObjects / ListObjectsV2 served from `lister` (the server
/// state implements [`ObjectLister`] in `s3/listing.rs`: `service_with_lister(host, st)`).
pub fn service_with_lister(host: Arc<dyn Host>, lister: Arc<dyn ObjectLister>) -> S3Service {
    build(host, Some(lister), None)
}

/// One child of a folder, as returned by [`ObjectLister::list_children`].
#[derive(Debug, Clone)]
pub struct ListedNode {
    /// Base name (no slash).
    pub name: String,
    pub is_dir: bool,
    pub size: u64,
    pub modified: SystemTime,
}

/// Optional listing capability of the host, for S3 ListObjects(V2) (used by awscli
/// `s3 cp --recursive`/`s3 ls` and rclone). Without it, listing answers 501.
pub trait ObjectLister: Send + Sync + 'static {
    /// Direct children of folder `dir` as `login` sees them through the REST API (indexing
    /// delay, permissions): `dir` is `""` for the root (the workspaces the user can access,
    /// as folders named by their slug) or `<workspace-slug>[/<path>]` without a trailing
    /// slash. A folder that does not exist or is not visible: `Err(Denied::NotFound)`.
    fn list_children(&self, login: &str, dir: &str) -> Result<Vec<ListedNode>, Denied>;
}

fn build(
    host: Arc<dyn Host>,
    lister: Option<Arc<dyn ObjectLister>>,
    config: Option<s3s::config::S3Config>,
) -> S3Service {
    let mut gw = Gateway::new(host.clone());
    gw.lister = lister;
    gw.sweep();
    let mut b = S3ServiceBuilder::new(gw);
    b.set_auth(TokenAuth { host });
    b.set_validation(IoBucketNames);
    if let Some(c) = config {
        b.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
            c,
        ))));
    }
    b.build()
}

/// Run one request through `svc`, turning transport-level failures into an XML 500.
pub async fn handle(
    svc: &S3Service,
    req: http::Request<hyper::body::Incoming>,
) -> http::Response<BoxBody> {
    use http_body_util::BodyExt;
    match hyper::service::Service::call(svc, req).await {
        Ok(resp) => resp.map(BodyExt::boxed),
        Err(e) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>{}</Message><BucketName>io</BucketName></Error>",
                xml_escape(&format!("{e:?}"))
            );
            http::Response::builder()
                .status(500)
                .header("content-type", "application/xml")
                .body(
                    http_body_util::Full::new(Bytes::from(body))
                        .map_err(|never| match never {})
                        .boxed(),
                )
                .expect("static response")
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

// ---------------------------------------------------------------------------------------
// Authentication and routing helpers

struct TokenAuth {
    host: Arc<dyn Host>,
}

#[async_trait::async_trait]
impl S3Auth for TokenAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if self.host.user_for_token(access_key).is_some() {
            Ok(SecretKey::from(GATEWAY_SECRET))
        } else {
            Err(s3_error!(UnauthorizedAccess, "invalid or expired token"))
        }
    }
}

/// s3s refuses 2-letter bucket names by default (S3 rules say 3–63): accept `io` too.
struct IoBucketNames;

impl NameValidation for IoBucketNames {
    fn validate_bucket_name(&self, name: &str) -> bool {
        name == BUCKET || s3s::path::check_bucket_name(name)
    }
}

fn denied(d: Denied) -> S3Error {
    match d {
        Denied::Forbidden => s3_error!(AccessDenied, "Access Denied"),
        Denied::NotFound => s3_error!(NoSuchKey, "The specified key does not exist."),
    }
}

fn io_err(e: io::Error) -> S3Error {
    if e.kind() == io::ErrorKind::NotFound {
        return s3_error!(NoSuchKey, "The specified key does not exist.");
    }
    S3Error::with_message(S3ErrorCode::InternalError, format!("storage error: {e}"))
}

fn join_err(e: tokio::task::JoinError) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, format!("task failed: {e}"))
}

/// Map an error of the request body stream (client gone, payload hash mismatch...).
fn body_err(e: &StdError) -> S3Error {
    let s = e.to_string();
    if s.contains("Sha256Mismatch") {
        S3Error::with_message(
            S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
        .tap_status(http::StatusCode::BAD_REQUEST)
    } else if s.contains("LengthMismatch") || s.contains("Incomplete") {
        s3_error!(
            IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        )
    } else {
        S3Error::with_message(
            S3ErrorCode::Custom("ClientDisconnected".into()),
            format!("reading the request body: {s}"),
        )
        .tap_status(http::StatusCode::BAD_REQUEST)
    }
}

trait TapStatus {
    fn tap_status(self, s: http::StatusCode) -> Self;
}
impl TapStatus for S3Error {
    fn tap_status(mut self, s: http::StatusCode) -> Self {
        self.set_status_code(s);
        self
    }
}

fn check_bucket(bucket: &str) -> S3Result<()> {
    if bucket == BUCKET {
        Ok(())
    } else {
        Err(s3_error!(
            NoSuchBucket,
            "The specified bucket does not exist"
        ))
    }
}

fn check_key(key: &str) -> S3Result<()> {
    if key.is_empty() || key.split('/').any(|seg| seg == "..") || key.contains('\0') {
        return Err(s3_error!(InvalidArgument, "invalid object key"));
    }
    Ok(())
}

fn content_type_for(key: &str) -> &'static str {
    let ext = key
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "log" | "md") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// `Content-MD5` (base64 of the MD5 digest), when sent, must match the received bytes.
fn content_md5_matches(header: Option<&str>, digest: &[u8; 16]) -> bool {
    use base64::Engine;
    match header {
        None => true,
        Some(h) => base64::engine::general_purpose::STANDARD
            .decode(h.trim())
            .is_ok_and(|d| d == digest),
    }
}

fn bad_digest() -> S3Error {
    s3_error!(
        BadDigest,
        "The Content-MD5 you specified did not match what we received."
    )
}

fn etag(v: String) -> ETag {
    ETag::Strong(v)
}

// ---------------------------------------------------------------------------------------
// Blocking-thread file I/O with big blocks

/// Drain `body` into a new file at `path` (created/truncated) in ≥1 MiB writes.
/// Returns (MD5 digest, byte count). On any error the file is removed.
async fn write_body(body: Option<StreamingBlob>, path: &Path) -> S3Result<([u8; 16], u64)> {
    let p = path.to_owned();
    let out = drain_body(body, u64::MAX, move || std::fs::File::create(&p)).await;
    if out.is_err() {
        let _ = std::fs::remove_file(path);
    }
    out
}

/// Drain `body` into the file `open` returns (already placed where the bytes go), on a
/// blocking thread, refusing more than `limit` bytes. Returns (MD5 digest, byte count).
async fn drain_body(
    body: Option<StreamingBlob>,
    limit: u64,
    open: impl FnOnce() -> io::Result<std::fs::File> + Send + 'static,
) -> S3Result<([u8; 16], u64)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let writer = tokio::task::spawn_blocking(move || -> io::Result<([u8; 16], u64)> {
        let mut f = open()?;
        let mut md5 = md5pool::BodyMd5::new();
        let mut n = 0u64;
        while let Some(b) = rx.blocking_recv() {
            n += b.len() as u64;
            if n > limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "body longer than declared",
                ));
            }
            md5.update(&b);
            f.write_all(&b)?;
        }
        f.flush()?;
        Ok((md5.finish(), n))
    });
    let mut failure: Option<S3Error> = None;
    if let Some(mut body) = body {
        let mut buf = BytesMut::with_capacity(BLOCK * 2);
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(c) => {
                    buf.extend_from_slice(&c);
                    if buf.len() >= BLOCK {
                        if tx.send(buf.split().freeze()).await.is_err() {
                            break; // writer failed: its error is reported below
                        }
                        buf.reserve(BLOCK);
                    }
                }
                Err(e) => {
                    failure = Some(body_err(&e));
                    break;
                }
            }
        }
        if failure.is_none() && !buf.is_empty() {
            let _ = tx.send(buf.freeze()).await;
        }
    }
    drop(tx);
    let res = writer.await.map_err(join_err);
    match (failure, res) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(e),
        (None, Ok(Err(e))) if e.kind() == io::ErrorKind::InvalidData => Err(s3_error!(
            IncompleteBody,
            "The body is longer than its declared length."
        )),
        (None, Ok(Err(e))) => Err(io_err(e)),
        (None, Ok(Ok(v))) => Ok(v),
    }
}

/// A byte stream fed by a blocking reader thread, [`READ_CHUNK`] per item.
struct FileStream {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
}

impl Stream for FileStream {
    type Item = Result<Bytes, StdError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                Poll::Ready(Some(Ok(b)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl ByteStream for FileStream {
    fn remaining_length(&self) -> RemainingLength {
        RemainingLength::new_exact(usize::try_from(self.remaining).unwrap_or(usize::MAX))
    }
}

/// Bytes per item of a [`FileStream`]: small enough to stay in the CPU cache between the
/// file read and the TLS encryption.
const READ_CHUNK: usize = 256 << 10;
/// Read buffers kept for reuse at most (8 MiB).
const POOL_MAX: usize = 32;

/// Buffers of [`FileStream`]s, back once the connection has sent them: a fresh allocation
/// costs a page fault per 4 KiB at its first write, on every read.
static READ_POOL: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// A read buffer that goes back to [`READ_POOL`] when the last `Bytes` of it is dropped.
struct Pooled(Vec<u8>);

impl Pooled {
    fn take() -> Pooled {
        let v = READ_POOL.lock().ok().and_then(|mut p| p.pop());
        let mut v = v.unwrap_or_else(|| Vec::with_capacity(READ_CHUNK));
        v.clear();
        Pooled(v)
    }
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Ok(mut pool) = READ_POOL.lock() {
            if pool.len() < POOL_MAX {
                pool.push(std::mem::take(&mut self.0));
            }
        }
    }
}

/// `n` bytes of `file` from its current offset, in a pooled buffer (its spare capacity: not
/// zeroed first).
fn read_chunk(file: &mut std::fs::File, n: usize) -> io::Result<Bytes> {
    let mut buf = Pooled::take();
    match file.take(n as u64).read_to_end(&mut buf.0) {
        Ok(got) if got == n => Ok(Bytes::from_owner(buf)),
        Ok(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank")),
        Err(e) => Err(e),
    }
}

/// The body of a GET: `len` bytes of `file` from `start`. Up to [`READ_CHUNK`] is read at once
/// (a small file is in the page cache: cheaper than a hand-over to a blocking thread and
/// back, the main cost of a GET of a small file); more is read by a blocking thread.
fn file_stream(mut file: std::fs::File, start: u64, len: u64) -> FileStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    if len <= READ_CHUNK as u64 {
        let item = file
            .seek(SeekFrom::Start(start))
            .and_then(|_| read_chunk(&mut file, len as usize));
        if len > 0 {
            let _ = tx.try_send(item);
        }
        return FileStream { rx, remaining: len };
    }
    tokio::task::spawn_blocking(move || {
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let n = left.min(READ_CHUNK as u64) as usize;
            let item = read_chunk(&mut file, n);
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return; // client went away, or the read failed
            }
            left -= n as u64;
        }
    });
    FileStream { rx, remaining: len }
}

fn md5_file(path: &Path) -> io::Result<[u8; 16]> {
    let mut f = std::fs::File::open(path)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; BLOCK];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    Ok(md5.finalize().into())
}

/// Write `data` to `path` so that readers see the old or the new content, never a part
/// (a temporary name of its own, renamed over `path`).
fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Rename `from` onto `to`; across file systems, copy next to `to` then rename.
fn move_into_place(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(18) /* EXDEV */ => {
            let name = to.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let tmp = to.with_file_name(format!(".{name}.s3part-{}", uuid::Uuid::new_v4().simple()));
            std::fs::copy(from, &tmp)?;
            std::fs::rename(&tmp, to).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

fn mtime_ns(md: &std::fs::Metadata) -> u128 {
    md.modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn sha_hex(s: &str) -> String {
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// The storage backend

#[derive(Serialize, Deserialize)]
struct EtagRecord {
    size: u64,
    mtime_ns: String,
    etag: String,
}

#[derive(Serialize, Deserialize)]
struct UploadMeta {
    key: String,
    login: String,
    initiated: u64,
}

struct Gateway {
    host: Arc<dyn Host>,
    lister: Option<Arc<dyn ObjectLister>>,
}

impl Gateway {
    fn new(host: Arc<dyn Host>) -> Self {
        Self { host, lister: None }
    }

    fn dir(&self, sub: &str) -> io::Result<PathBuf> {
        let d = self.host.data_dir().join("s3").join(sub);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    }

    /// At start-up: drop staging files left by a crash and multipart uploads idle for
    /// more than a week (as a lifecycle rule would).
    fn sweep(&self) {
        let _ = std::fs::remove_dir_all(self.host.data_dir().join("s3").join("tmp"));
        let Ok(mpu) = self.dir("mpu") else { return };
        let week_ago = SystemTime::now() - std::time::Duration::from_secs(7 * 86400);
        for ent in std::fs::read_dir(mpu).into_iter().flatten().flatten() {
            let modified = ent
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::now());
            if modified < week_ago {
                let _ = std::fs::remove_dir_all(ent.path());
            }
        }
    }

    fn login(&self, creds: Option<&Credentials>) -> S3Result<String> {
        let c = creds.ok_or_else(|| s3_error!(AccessDenied, "Signature is required"))?;
        self.host
            .user_for_token(&c.access_key)
            .ok_or_else(|| s3_error!(UnauthorizedAccess, "invalid or expired token"))
    }

    fn staging_file(&self) -> S3Result<PathBuf> {
        Ok(self
            .dir("tmp")
            .map_err(io_err)?
            .join(uuid::Uuid::new_v4().simple().to_string()))
    }

    fn etag_record_path(&self, object: &Path) -> io::Result<PathBuf> {
        Ok(self.dir("etags")?.join(sha_hex(&object.to_string_lossy())))
    }

    fn remember_etag(&self, object: &Path, etag: &str) {
        let Ok(md) = std::fs::metadata(object) else {
            return;
        };
        let rec = EtagRecord {
            size: md.len(),
            mtime_ns: mtime_ns(&md).to_string(),
            etag: etag.to_owned(),
        };
        if let Ok(p) = self.etag_record_path(object) {
            let _ = write_atomic(&p, &serde_json::to_vec(&rec).unwrap_or_default());
        }
    }

    /// The ETag recorded for `object`, when the record matches its size and mtime.
    fn recorded_etag(&self, object: &Path, md: &std::fs::Metadata) -> Option<String> {
        let data = std::fs::read(self.etag_record_path(object).ok()?).ok()?;
        let rec = serde_json::from_slice::<EtagRecord>(&data).ok()?;
        (rec.size == md.len() && rec.mtime_ns == mtime_ns(md).to_string()).then_some(rec.etag)
    }

    /// The recorded ETag of `object` if still valid, else computed (and recorded).
    fn etag_of(&self, object: &Path, md: &std::fs::Metadata) -> String {
        if let Some(e) = self.recorded_etag(object, md) {
            return e;
        }
        let etag = if md.len() <= MAX_LAZY_MD5 {
            match md5_file(object) {
                Ok(d) => hex::encode(d),
                Err(_) => return String::new(),
            }
        } else {
            hex::encode(Md5::digest(
                format!("{}:{}:{}", object.display(), md.len(), mtime_ns(md)).as_bytes(),
            ))
        };
        self.remember_etag(object, &etag);
        etag
    }

    fn resolve(&self, login: &str, key: &str, write: bool) -> S3Result<PathBuf> {
        check_key(key)?;
        self.host.resolve_object(login, key, write).map_err(denied)
    }

    /// Open the object `key` for reading: the file, its metadata and its ETag
    /// (computed off the async threads).
    async fn open_object(
        &self,
        login: &str,
        key: &str,
    ) -> S3Result<(std::fs::File, std::fs::Metadata, String)> {
        let path = self.resolve(login, key, false)?;
        let file = std::fs::File::open(&path).map_err(io_err)?;
        let md = file.metadata().map_err(io_err)?;
        if !md.is_file() {
            return Err(denied(Denied::NotFound));
        }
        // The ETag's record is a small read; hashing a file without one goes to a blocking
        // thread.
        if let Some(e) = self.recorded_etag(&path, &md) {
            return Ok((file, md, e));
        }
        let m = md.clone();
        let host = self.host.clone();
        let e = tokio::task::spawn_blocking(move || Gateway::new(host).etag_of(&path, &m))
            .await
            .map_err(join_err)?;
        Ok((file, md, e))
    }

    fn upload_dir(&self, upload_id: &str, login: &str, key: &str) -> S3Result<PathBuf> {
        let no_such = || {
            s3_error!(
                NoSuchUpload,
                "The specified multipart upload does not exist."
            )
        };
        if upload_id.is_empty()
            || !upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(no_such());
        }
        let d = self.dir("mpu").map_err(io_err)?.join(upload_id);
        let meta: UploadMeta = std::fs::read(d.join("meta.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(no_such)?;
        if meta.login != login || meta.key != key {
            return Err(no_such());
        }
        Ok(d)
    }

    /// Every listed item (files and, with delimiter `/`, common prefixes) under `prefix`,
    /// sorted by key.
    fn list_items(
        &self,
        login: &str,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> S3Result<Vec<Listed>> {
        let lister = self
            .lister
            .as_ref()
            .ok_or_else(|| s3_error!(NotImplemented, "listing is not available on this gateway"))?;
        let by_folder = match delimiter {
            None | Some("") => false,
            Some("/") => true,
            Some(_) => {
                return Err(s3_error!(
                    NotImplemented,
                    "only the '/' delimiter is supported"
                ))
            }
        };
        if prefix.split('/').any(|seg| seg == "..") {
            return Err(s3_error!(InvalidArgument, "invalid prefix"));
        }
        let (dir, name_prefix) = match prefix.rfind('/') {
            Some(i) => (&prefix[..i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        let mut out = Vec::new();
        let children = match lister.list_children(login, dir) {
            Ok(c) => c,
            Err(Denied::NotFound) => return Ok(out),
            Err(Denied::Forbidden) => return Err(denied(Denied::Forbidden)),
        };
        let join = |d: &str, n: &str| {
            if d.is_empty() {
                n.to_owned()
            } else {
                format!("{d}/{n}")
            }
        };
        // Depth-first walk of the folders to expand (without delimiter).
        let mut pending: Vec<String> = Vec::new();
        for c in children
            .into_iter()
            .filter(|c| c.name.starts_with(name_prefix))
        {
            let key = join(dir, &c.name);
            if c.is_dir {
                if by_folder {
                    out.push(Listed::Prefix(format!("{key}/")));
                } else {
                    pending.push(key);
                }
            } else if !dir.is_empty() {
                out.push(Listed::File(key, c.size, c.modified));
            }
        }
        while let Some(d) = pending.pop() {
            let Ok(children) = lister.list_children(login, &d) else {
                continue;
            };
            for c in children {
                let key = join(&d, &c.name);
                if c.is_dir {
                    pending.push(key);
                } else {
                    out.push(Listed::File(key, c.size, c.modified));
                }
            }
        }
        out.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(out)
    }

    /// The recorded ETag of a listed file, if the gateway wrote it (never computed here).
    fn known_etag(&self, login: &str, key: &str) -> Option<String> {
        let path = self.host.resolve_object(login, key, false).ok()?;
        let md = std::fs::metadata(&path).ok()?;
        let rec: EtagRecord =
            serde_json::from_slice(&std::fs::read(self.etag_record_path(&path).ok()?).ok()?)
                .ok()?;
        (rec.size == md.len() && rec.mtime_ns == mtime_ns(&md).to_string()).then_some(rec.etag)
    }

    fn to_object(
        &self,
        login: &str,
        key: &str,
        size: u64,
        modified: SystemTime,
        url: bool,
    ) -> Object {
        Object {
            e_tag: self.known_etag(login, key).map(etag),
            key: Some(if url { url_encode(key) } else { key.to_owned() }),
            last_modified: Some(Timestamp::from(modified)),
            size: Some(size as i64),
            storage_class: Some(ObjectStorageClass::from_static(
                ObjectStorageClass::STANDARD,
            )),
            ..Default::default()
        }
    }

    /// Page through `items` after `after`: (page, truncated).
    fn page(items: Vec<Listed>, after: Option<&str>, max_keys: usize) -> (Vec<Listed>, bool) {
        let mut it = items
            .into_iter()
            .filter(|i| after.is_none_or(|a| i.key() > a))
            .peekable();
        let page: Vec<Listed> = it.by_ref().take(max_keys).collect();
        (page, it.peek().is_some())
    }

    /// Listing shared by ListObjects and ListObjectsV2 (on a blocking thread).
    async fn listing(
        &self,
        login: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        max_keys: usize,
        url: bool,
    ) -> S3Result<(Vec<Object>, Vec<CommonPrefix>, bool, Option<String>)> {
        let this = Gateway {
            host: self.host.clone(),
            lister: self.lister.clone(),
        };
        let (l, p, d, a) = (
            login.to_owned(),
            prefix.to_owned(),
            delimiter.map(str::to_owned),
            after.map(str::to_owned),
        );
        tokio::task::spawn_blocking(move || {
            let items = this.list_items(&l, &p, d.as_deref())?;
            let (page, truncated) = Self::page(items, a.as_deref(), max_keys);
            let last = truncated
                .then(|| page.last().map(|i| i.key().to_owned()))
                .flatten();
            let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
            for i in &page {
                match i {
                    Listed::File(k, size, m) => {
                        contents.push(this.to_object(&l, k, *size, *m, url))
                    }
                    Listed::Prefix(p) => prefixes.push(CommonPrefix {
                        prefix: Some(if url { url_encode(p) } else { p.clone() }),
                    }),
                }
            }
            Ok((contents, prefixes, truncated, last))
        })
        .await
        .map_err(join_err)?
    }

    fn location(&self, key: &str) -> String {
        let enc = percent_encoding::utf8_percent_encode(key, KEY_ENCODE).to_string();
        format!("{}/{}/{}", self.host.public_url(), BUCKET, enc)
    }
}

enum Listed {
    File(String, u64, SystemTime),
    Prefix(String),
}

impl Listed {
    fn key(&self) -> &str {
        match self {
            Listed::File(k, ..) | Listed::Prefix(k) => k,
        }
    }
}

/// `encoding-type=url` answers: keys percent-encoded (botocore decodes with unquote_plus).
fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, KEY_ENCODE).to_string()
}

fn continuation(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn from_continuation(token: &str) -> S3Result<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

const KEY_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn unquote(e: &ETag) -> String {
    e.value().trim_matches('"').to_ascii_lowercase()
}

#[async_trait::async_trait]
impl S3 for Gateway {
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        // Folders are made through the REST API (CreateNodes); a key naming one is refused.
        if input.key.ends_with('/') {
            return Err(s3_error!(
                InvalidArgument,
                "folder keys are not supported, use the REST API"
            ));
        }
        let path = self.resolve(&login, &input.key, true)?;
        if path.is_dir() {
            return Err(s3_error!(InvalidArgument, "the key names a folder"));
        }
        let staging = self.staging_file()?;
        let (digest, size) = write_body(input.body, &staging).await?;
        let cleanup = |e: S3Error| {
            let _ = std::fs::remove_file(&staging);
            e
        };
        if let Some(len) = input.content_length {
            if len >= 0 && len as u64 != size {
                return Err(cleanup(s3_error!(IncompleteBody)));
            }
        }
        if !content_md5_matches(input.content_md5.as_deref(), &digest) {
            return Err(cleanup(bad_digest()));
        }
        let (st, dst) = (staging.clone(), path.clone());
        tokio::task::spawn_blocking(move || move_into_place(&st, &dst))
            .await
            .map_err(join_err)?
            .map_err(|e| cleanup(io_err(e)))?;
        let e = hex::encode(digest);
        self.remember_etag(&path, &e);
        self.host.object_written(&login, &input.key);
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(e)),
            size: Some(size as i64),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        let (host, key) = (self.host.clone(), input.key.clone());
        tokio::task::spawn_blocking(move || host.delete_object(&login, &key))
            .await
            .map_err(join_err)?
            .map_err(denied)?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.login(req.credentials.as_ref())?;
        check_bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some("us-east-1".into()),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let after = match (&input.continuation_token, &input.start_after) {
            (Some(t), _) => Some(from_continuation(t)?),
            (None, Some(s)) => Some(s.clone()),
            (None, None) => None,
        };
        let (contents, prefixes, truncated, last) = self
            .listing(
                &login,
                &prefix,
                input.delimiter.as_deref(),
                after.as_deref(),
                max_keys,
                url,
            )
            .await?;
        let enc = |k: &str| if url { url_encode(k) } else { k.to_owned() };
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(BUCKET.into()),
            prefix: Some(enc(&prefix)),
            delimiter: input.delimiter.as_deref().map(enc),
            max_keys: Some(max_keys as i32),
            key_count: Some((contents.len() + prefixes.len()) as i32),
            continuation_token: input.continuation_token,
            start_after: input.start_after.as_deref().map(enc),
            is_truncated: Some(truncated),
            next_continuation_token: last.as_deref().map(continuation),
            contents: Some(contents),
            common_prefixes: Some(prefixes),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let max_keys = input.max_keys.unwrap_or(1000).clamp(0, 1000) as usize;
        let (contents, prefixes, truncated, last) = self
            .listing(
                &login,
                &prefix,
                input.delimiter.as_deref(),
                input.marker.as_deref(),
                max_keys,
                url,
            )
            .await?;
        let enc = |k: &str| if url { url_encode(k) } else { k.to_owned() };
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(BUCKET.into()),
            prefix: Some(enc(&prefix)),
            delimiter: input.delimiter.as_deref().map(enc),
            marker: Some(input.marker.as_deref().map(enc).unwrap_or_default()),
            max_keys: Some(max_keys as i32),
            is_truncated: Some(truncated),
            next_marker: last.as_deref().map(enc),
            contents: Some(contents),
            common_prefixes: Some(prefixes),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let (_, md, e) = self.open_object(&login, &input.key).await?;
        Ok(S3Response::new(HeadObjectOutput {
            accept_ranges: Some("bytes".into()),
            content_length: Some(md.len() as i64),
            content_type: Some(content_type_for(&input.key).to_owned()),
            e_tag: (!e.is_empty()).then(|| etag(e)),
            last_modified: md.modified().ok().map(Timestamp::from),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let (file, md, e) = self.open_object(&login, &input.key).await?;
        let size = md.len();
        let (start, len, content_range) = match &input.range {
            None => (0, size, None),
            Some(r) => {
                let rg = r.check(size).map_err(|_| {
                    s3_error!(InvalidRange, "The requested range is not satisfiable")
                })?;
                let (s, e) = (rg.start, rg.end);
                (
                    s,
                    e - s,
                    Some(format!("bytes {}-{}/{}", s, e.saturating_sub(1), size)),
                )
            }
        };
        let body = StreamingBlob::new(file_stream(file, start, len));
        Ok(S3Response::new(GetObjectOutput {
            accept_ranges: Some("bytes".into()),
            body: Some(body),
            content_length: Some(len as i64),
            content_range,
            content_type: Some(content_type_for(&input.key).to_owned()),
            e_tag: (!e.is_empty()).then(|| etag(e)),
            last_modified: md.modified().ok().map(Timestamp::from),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let path = self.resolve(&login, &input.key, true)?;
        if path.is_dir() {
            return Err(s3_error!(InvalidArgument, "the key names a folder"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let d = self.dir("mpu").map_err(io_err)?.join(&id);
        std::fs::create_dir_all(&d).map_err(io_err)?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let meta = UploadMeta {
            key: input.key.clone(),
            login,
            initiated: now,
        };
        std::fs::write(
            d.join("meta.json"),
            serde_json::to_vec(&meta).unwrap_or_default(),
        )
        .map_err(io_err)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(BUCKET.into()),
            key: Some(input.key),
            upload_id: Some(id),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        if !(1..=10000).contains(&input.part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        let up = parts::Upload::new(self.upload_dir(&input.upload_id, &login, &input.key)?);
        let n = input.part_number;
        let len = input.content_length.and_then(|l| u64::try_from(l).ok());
        let target = up.target(n, len).map_err(io_err)?;
        let limit = parts::Upload::limit(&target);
        let opened = up.open(&target).map_err(|e| {
            up.release(n, &target);
            io_err(e)
        })?;
        let written = drain_body(input.body, limit, move || Ok(opened)).await;
        let checked = written.and_then(|(digest, size)| {
            if len.is_some_and(|l| l != size) {
                return Err(s3_error!(IncompleteBody));
            }
            if !content_md5_matches(input.content_md5.as_deref(), &digest) {
                return Err(bad_digest());
            }
            Ok(hex::encode(digest))
        });
        let hexd = checked
            .and_then(|h| up.commit(n, &target, &h).map(|()| h).map_err(io_err))
            .inspect_err(|_| up.release(n, &target))?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag(hexd)),
            ..Default::default()
        }))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let up = parts::Upload::new(self.upload_dir(&input.upload_id, &login, &input.key)?);
        let max = input.max_parts.unwrap_or(1000).clamp(1, 1000) as usize;
        let marker = input.part_number_marker.unwrap_or(0);
        let all: Vec<parts::PartInfo> = up
            .parts()
            .map_err(io_err)?
            .into_iter()
            .filter(|p| p.number > marker)
            .collect();
        let truncated = all.len() > max;
        let page: Vec<parts::PartInfo> = all.into_iter().take(max).collect();
        let next = page.last().map(|p| p.number);
        let parts = page
            .into_iter()
            .map(|p| Part {
                e_tag: Some(etag(p.md5_hex)),
                last_modified: Some(Timestamp::from(p.modified)),
                part_number: Some(p.number),
                size: Some(p.size as i64),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(BUCKET.into()),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            max_parts: Some(max as i32),
            part_number_marker: Some(marker),
            next_part_number_marker: next,
            is_truncated: Some(truncated),
            parts: Some(parts),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let d = self.upload_dir(&input.upload_id, &login, &input.key)?;
        let up = parts::Upload::new(d.clone());
        let wanted = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if wanted.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "You must specify at least one part"
            ));
        }
        let have = up.parts().map_err(io_err)?;
        let mut chosen: Vec<parts::PartInfo> = Vec::new();
        let mut last = 0;
        for w in &wanted {
            let n = w.part_number.unwrap_or(0);
            if n <= last {
                return Err(s3_error!(
                    InvalidPartOrder,
                    "The list of parts was not in ascending order."
                ));
            }
            last = n;
            let invalid = || {
                s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found."
                )
            };
            let p = have.iter().find(|p| p.number == n).ok_or_else(invalid)?;
            match &w.e_tag {
                Some(e) if unquote(e) == p.md5_hex => {}
                _ => return Err(invalid()),
            }
            chosen.push(p.clone());
        }
        for p in &chosen[..chosen.len() - 1] {
            if p.size < MIN_PART_SIZE {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size."
                ));
            }
        }
        let path = self.resolve(&login, &input.key, true)?;
        if path.is_dir() {
            return Err(s3_error!(InvalidArgument, "the key names a folder"));
        }
        let mut md5 = Md5::new();
        for p in &chosen {
            md5.update(hex::decode(&p.md5_hex).unwrap_or_default());
        }
        let e = format!("{}-{}", hex::encode(md5.finalize()), chosen.len());
        let staging = self.staging_file()?;
        let (st, dst) = (staging.clone(), path.clone());
        let assembled = tokio::task::spawn_blocking(move || -> io::Result<()> {
            let res = up
                .assemble(&chosen, &st)
                .and_then(|object| move_into_place(&object, &dst));
            if res.is_err() {
                let _ = std::fs::remove_file(&st);
            }
            res
        })
        .await
        .map_err(join_err)?;
        assembled.map_err(io_err)?;
        let _ = std::fs::remove_dir_all(&d);
        self.remember_etag(&path, &e);
        self.host.object_written(&login, &input.key);
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(BUCKET.into()),
            key: Some(input.key.clone()),
            location: Some(self.location(&input.key)),
            e_tag: Some(etag(e)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let login = self.login(req.credentials.as_ref())?;
        let input = req.input;
        check_bucket(&input.bucket)?;
        let d = self.upload_dir(&input.upload_id, &login, &input.key)?;
        std::fs::remove_dir_all(&d).map_err(io_err)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_io_is_accepted() {
        assert!(IoBucketNames.validate_bucket_name("io"));
        assert!(!s3s::path::check_bucket_name("io"));
        assert!(!IoBucketNames.validate_bucket_name("x"));
    }

    #[test]
    fn key_checks() {
        assert!(check_key("personal-files/a b/c.txt").is_ok());
        assert!(check_key("personal-files/../x").is_err());
        assert!(check_key("").is_err());
    }

    struct VectorHost(PathBuf);

    impl Host for VectorHost {
        fn user_for_token(&self, token: &str) -> Option<String> {
            (token == VECTOR_AK).then(|| "admin".to_string())
        }
        fn check_password(&self, _: &str, _: &str) -> Option<String> {
            None
        }
        fn issue_token(&self, _: &str, _: std::time::Duration) -> String {
            String::new()
        }
        fn access_token_lifetime(&self) -> std::time::Duration {
            std::time::Duration::from_secs(60)
        }
        fn require_pkce(&self) -> bool {
            false
        }
        fn public_url(&self) -> String {
            "https://cells.example.com".into()
        }
        fn resolve_object(&self, _: &str, key: &str, write: bool) -> Result<PathBuf, Denied> {
            let p = self.0.join("tree").join(key);
            if write {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            } else if !p.is_file() {
                return Err(Denied::NotFound);
            }
            Ok(p)
        }
        fn object_written(&self, _: &str, _: &str) {}
        fn data_dir(&self) -> PathBuf {
            self.0.join("data")
        }
    }

    const VECTOR_AK: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    async fn send(
        svc: &S3Service,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        signed: &str,
        sig: &str,
        body: &'static [u8],
    ) -> (u16, String) {
        use http_body_util::BodyExt;
        let mut b = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "cells.example.com");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={VECTOR_AK}/20250101/us-east-1/s3/aws4_request, SignedHeaders={signed}, Signature={sig}"
        );
        let req = b
            .header("x-amz-date", "20250101T120000Z")
            .header("authorization", auth)
            .body(s3s::Body::from(Bytes::from_static(body)))
            .unwrap();
        let resp = svc.call(req).await.expect("s3s call");
        let status = resp.status().as_u16();
        let body = BodyExt::collect(resp.into_body())
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// The SigV4 test vectors of docs/protocol.md §4.3 are accepted by s3s (an independent
    /// verifier) — with a clock-skew window wide enough for their fixed 2025 date.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn protocol_vectors_verify() {
        let dir = std::env::temp_dir().join(format!("s3-vectors-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = s3s::config::S3Config::default();
        cfg.presigned_url_max_skew_time_secs = u32::MAX;
        let svc = build(Arc::new(VectorHost(dir.clone())), None, Some(cfg));
        let put_hash = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let put_signed = "content-length;content-type;host;x-amz-content-sha256;x-amz-date";
        let put_headers = [
            ("content-length", "6"),
            ("content-type", "application/octet-stream"),
            ("x-amz-content-sha256", put_hash),
        ];
        // 1. PutObject
        let sig1 = "332f0a0617f83da4f6b65a90bc9a0f6edbffa4bc8877ba1dc66a982acc966b4c";
        let r = send(
            &svc,
            "PUT",
            "/io/personal-files/hello%20world.txt",
            &put_headers,
            put_signed,
            sig1,
            b"hello\n",
        )
        .await;
        assert_eq!(r.0, 200, "{r:?}");
        // The same request with one signature digit changed is refused.
        let bad = sig1.replacen('3', "4", 1);
        let r = send(
            &svc,
            "PUT",
            "/io/personal-files/hello%20world.txt",
            &put_headers,
            put_signed,
            &bad,
            b"hello\n",
        )
        .await;
        assert_eq!(r.0, 403, "{r:?}");
        assert!(r.1.contains("SignatureDoesNotMatch"), "{r:?}");
        let hdrs = [("x-amz-content-sha256", EMPTY)];
        let signed = "host;x-amz-content-sha256;x-amz-date";
        // 2. HeadObject
        let sig2 = "9f158480d49259d8be2b6f4de21c2d1a2692f131b949af8bf9720b9ec5fd16da";
        let r = send(
            &svc,
            "HEAD",
            "/io/personal-files/hello%20world.txt",
            &hdrs,
            signed,
            sig2,
            b"",
        )
        .await;
        assert_eq!(r.0, 200, "{r:?}");
        // 3. GetObject of a missing key: the signature passes, the key is not found.
        let sig3 = "f033af2ea2765b9c04989548524020d53fd74429fb3a0661caee79744e1ad828";
        let r = send(
            &svc,
            "GET",
            "/io/common-files/%C3%89t%C3%A9/report.pdf",
            &hdrs,
            signed,
            sig3,
            b"",
        )
        .await;
        assert_eq!(r.0, 404, "{r:?}");
        assert!(r.1.contains("NoSuchKey"), "{r:?}");
        // 4. CreateMultipartUpload
        let sig4 = "49c330770b0a9c40c8aa31a1928a20b67d3ef6e14ab413b00ac34149e44bca19";
        let r = send(
            &svc,
            "POST",
            "/io/personal-files/big.iso?uploads",
            &hdrs,
            signed,
            sig4,
            b"",
        )
        .await;
        assert_eq!(r.0, 200, "{r:?}");
        assert!(r.1.contains("<UploadId>"), "{r:?}");
        // 5. UploadPart with an unknown upload id: signature fine, upload unknown.
        let sig5 = "ee7398c67b8b506d5afcb3d97deb16cb6c448a8d412e04794af7932bb0266a22";
        let part_hash = "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5";
        let r = send(
            &svc,
            "PUT",
            "/io/personal-files/big.iso?partNumber=1&uploadId=0f3c2a1b-uid",
            &[("content-length", "5"), ("x-amz-content-sha256", part_hash)],
            "content-length;host;x-amz-content-sha256;x-amz-date",
            sig5,
            b"12345",
        )
        .await;
        assert_eq!(r.0, 404, "{r:?}");
        assert!(r.1.contains("NoSuchUpload"), "{r:?}");
        // 6. PutObject with UNSIGNED-PAYLOAD
        let sig6 = "bf62ead69fda54f9f13b19475cde4d00cf8c9c5b2ec035a976fe9ee2fa0d17ff";
        let r = send(
            &svc,
            "PUT",
            "/io/personal-files/hello%20world.txt",
            &[
                ("content-length", "6"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
            "content-length;host;x-amz-content-sha256;x-amz-date",
            sig6,
            b"hello\n",
        )
        .await;
        assert_eq!(r.0, 200, "{r:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    struct FakeLister;

    impl ObjectLister for FakeLister {
        fn list_children(&self, login: &str, dir: &str) -> Result<Vec<ListedNode>, Denied> {
            let n = |name: &str, is_dir: bool| ListedNode {
                name: name.into(),
                is_dir,
                size: 3,
                modified: SystemTime::UNIX_EPOCH,
            };
            Ok(match (login, dir) {
                ("admin", "") => vec![n("personal-files", true), n("common-files", true)],
                ("admin", "common-files") => vec![n("b", true), n("a", true), n("x.txt", false)],
                ("admin", "common-files/a") => {
                    vec![n("2.txt", false), n("1.txt", false), n("sub", true)]
                }
                ("admin", "common-files/a/sub") => vec![n("3.txt", false)],
                ("admin", "common-files/b") | ("admin", "personal-files") => vec![],
                (_, "team-cell") => return Err(Denied::Forbidden),
                _ => return Err(Denied::NotFound),
            })
        }
    }

    #[test]
    fn listing_walks_folders() {
        let gw = Gateway {
            host: Arc::new(VectorHost(std::env::temp_dir().join("s3-listing-unused"))),
            lister: Some(Arc::new(FakeLister)),
        };
        let keys = |prefix: &str, d: Option<&str>| -> Vec<String> {
            gw.list_items("admin", prefix, d)
                .unwrap()
                .iter()
                .map(|i| i.key().to_owned())
                .collect()
        };
        assert_eq!(keys("", Some("/")), ["common-files/", "personal-files/"]);
        assert_eq!(
            keys("common-files/", Some("/")),
            ["common-files/a/", "common-files/b/", "common-files/x.txt"]
        );
        assert_eq!(
            keys("common-files/", None),
            [
                "common-files/a/1.txt",
                "common-files/a/2.txt",
                "common-files/a/sub/3.txt",
                "common-files/x.txt"
            ]
        );
        assert_eq!(
            keys("common-files/a", None),
            [
                "common-files/a/1.txt",
                "common-files/a/2.txt",
                "common-files/a/sub/3.txt"
            ]
        );
        assert_eq!(
            keys("common-files/a/", Some("/")),
            [
                "common-files/a/1.txt",
                "common-files/a/2.txt",
                "common-files/a/sub/"
            ]
        );
        assert_eq!(keys("common-files/x", None), ["common-files/x.txt"]);
        assert!(keys("nothing/here/", None).is_empty());
        assert!(gw.list_items("admin", "team-cell/", None).is_err());
        assert!(gw.list_items("admin", "common-files/", Some("|")).is_err());
        let items = gw.list_items("admin", "common-files/", None).unwrap();
        let (page, more) = Gateway::page(items, Some("common-files/a/1.txt"), 2);
        assert!(more);
        assert_eq!(
            page.iter().map(Listed::key).collect::<Vec<_>>(),
            ["common-files/a/2.txt", "common-files/a/sub/3.txt"]
        );
        let no_lister = Gateway::new(gw.host.clone());
        assert!(no_lister.list_items("admin", "", None).is_err());
    }

    #[test]
    fn location_encoding() {
        let enc =
            percent_encoding::utf8_percent_encode("common-files/Été/report 1.pdf", KEY_ENCODE)
                .to_string();
        assert_eq!(enc, "common-files/%C3%89t%C3%A9/report%201.pdf");
    }
}
