//! Blocking S3 client for the Cells gateway (docs/protocol.md §4).
//!
//! - Path-style `{base}/io/{key}`, SigV4 with access key = current token and
//!   secret `gatewaysecret`, region `us-east-1` ([`sign`]).
//! - [`transport`]: one attempt over ureq or the direct HTTP/1.1 path ([`raw`]);
//!   [`request`]: signing and the retry policy shared with the REST client
//!   ([`crate::api::retry`]); operations: [`object`] (HEAD, PUT), [`get`]
//!   (downloads, resumed after cuts), [`multipart`]; [`errors`]: S3 error
//!   bodies as errors of their kind.
//! - Bodies stream from a file region with positional reads: a retry re-reads
//!   the same bytes, it can never send a short or shifted body. Over TLS they
//!   go unsigned ([`payload`]); over plain HTTP the payload SHA-256 is computed
//!   in a first pass over the same region (like the reference's AWS SDK) and
//!   sent in `x-amz-content-sha256`.
//! - Nothing the server sends is trusted: XML replies are capped, sizes and
//!   ranges are checked, redirects are not followed.

mod conn;
pub mod errors;
mod get;
#[cfg(test)]
mod moto_test;
mod multipart;
mod object;
mod payload;
pub mod raw;
mod request;
pub mod sign;
mod tls;
pub mod transport;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use crate::api::retry::Retrier;
use crate::api::Client;
use crate::config::ServerUrl;
use crate::error::{Error, Result};
use transport::Transport;

/// Buffer for positional file reads: small enough to stay in the CPU's L2
/// cache, which makes the kernel's copy into it about twice as cheap.
pub use cells_hash::region::IO_BUF;

/// Largest object size believed from a server (1 PiB): anything larger is a
/// broken or hostile reply.
pub const MAX_OBJECT_SIZE: u64 = 1 << 50;

/// Returns the current access key (token), refreshed when needed.
pub type Credentials = Arc<dyn Fn() -> Result<String> + Send + Sync>;
/// Progress callback: bytes moved (negative when a retry rewinds).
pub type Progress<'a> = &'a (dyn Fn(i64) + Sync);
/// Cancellation check.
pub type Cancel = Arc<dyn Fn() -> bool + Send + Sync>;

/// What HEAD (or a GET's headers) says about an object.
#[derive(Debug, Clone, Default)]
pub struct ObjectInfo {
    pub size: u64,
    /// ETag verbatim (quotes included).
    pub etag: String,
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
    /// A file (named `path` in messages), at the object's own offsets;
    /// plain-HTTP bodies are spliced in without a user-space copy.
    File { file: &'a File, path: &'a Path },
    /// Buffers of the receiver's own, filled in order (no copy).
    Fill(&'a mut dyn Fill),
}

/// A receiver that hands out its own buffers to read a body into
/// ([`Sink::Fill`]): the parallel download's hashing writer.
pub trait Fill {
    /// Where the bytes from object offset `pos` go next (never empty).
    fn room(&mut self, pos: u64) -> Result<&mut [u8]>;
    /// The first `n` bytes of the last room were filled.
    fn filled(&mut self, n: usize) -> Result<()>;
}

/// The file being uploaded got shorter while it was sent.
#[derive(Debug)]
pub struct ShrankError;
impl std::fmt::Display for ShrankError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the file shrank while being uploaded")
    }
}
impl std::error::Error for ShrankError {}

/// The blocking S3 client. Cheap to share between threads (`&S3` / `Arc<S3>`).
pub struct S3 {
    transport: Transport,
    /// `Host` header value exactly as sent and signed.
    host: String,
    bucket: String,
    /// Secret access key (the gateway's fixed `gatewaysecret`).
    secret: String,
    creds: Credentials,
    /// The retry policy and state (shared with the REST client).
    retrier: Arc<Retrier>,
    /// Print canonical requests / string to sign to stderr (never the token).
    debug_signing: bool,
    /// Polled between requests and buffers: `true` stops the operation with
    /// `Error::interrupted()` (Ctrl-C, `--fail-fast`).
    cancel: Option<Cancel>,
    /// Whether bodies may go unsigned (over TLS).
    payload: payload::Payload,
}

impl S3 {
    /// The S3 client of `client`'s server and account: same TLS settings and
    /// custom headers, same token, same retry policy. Requests go through the
    /// direct path ([`raw`], connections kept alive) unless a proxy is set for
    /// the server or `CEC_S3_DIRECT=0`; then through the client's agent.
    pub fn for_client(client: &Client) -> S3 {
        let creds_client = client.clone();
        let server = client.server();
        let transport = direct_transport(client).unwrap_or_else(|| Transport::Agent {
            agent: client.agent().clone(),
            base: server.to_string(),
        });
        S3::with_transport(
            transport,
            server,
            Arc::new(move || creds_client.bearer()),
            client.retrier().clone(),
        )
    }

    fn with_transport(
        transport: Transport,
        server: &ServerUrl,
        creds: Credentials,
        retrier: Arc<Retrier>,
    ) -> S3 {
        S3 {
            host: server.authority(),
            transport,
            bucket: "io".into(),
            secret: sign::GATEWAY_SECRET.into(),
            creds,
            retrier,
            debug_signing: false,
            cancel: None,
            payload: Default::default(),
        }
    }

    pub fn with_cancel(mut self, c: Cancel) -> Self {
        self.cancel = Some(c);
        self
    }

    /// Print each canonical request and string to sign (`scp -w`).
    pub fn with_debug_signing(mut self, on: bool) -> Self {
        self.debug_signing = on;
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

    /// The server refused an unsigned body (over TLS) and took it signed:
    /// worth remembering for the account.
    pub fn needs_signed_payloads(&self) -> bool {
        self.payload.is_refused()
    }

    /// Bodies go unsigned (over TLS, to a server not known to refuse them):
    /// an uploader need not compute their SHA-256.
    pub fn sends_unsigned(&self) -> bool {
        self.payload.unsigned_allowed(self.transport.is_tls())
    }

    /// Download bodies can be spliced from the socket into a file
    /// ([`Sink::File`]): plain connections of the direct path, on Linux.
    pub fn splices_downloads(&self) -> bool {
        cfg!(target_os = "linux") && self.transport.is_direct() && !self.transport.is_tls()
    }

    /// Sign every body (the server is known to refuse unsigned ones).
    pub fn sign_payloads(&self) {
        self.payload.refused(self.transport.base());
    }

    /// Retries so far, REST and S3 (for the transfer summary).
    pub fn retries(&self) -> u64 {
        self.retrier.retries()
    }

    /// Where retry notes go (scp's progress display), `None` for stderr.
    pub fn set_retry_notes(&self, notes: Option<crate::api::retry::Notes>) {
        self.retrier.set_notes(notes);
    }
}

/// The direct path to `client`'s server, when it may be used.
fn direct_transport(client: &Client) -> Option<Transport> {
    let server = client.server();
    let off = std::env::var("CEC_S3_DIRECT").is_ok_and(|v| v == "0" || v == "false");
    if off || crate::api::http::proxy_for(server.scheme(), server.host()).is_some() {
        return None;
    }
    let link = client.link();
    let tls = if server.is_https() {
        let config = crate::api::http::tls_config(link.skip_verify).ok()?;
        Some((config, conn::Target::server_name(server.host()).ok()?))
    } else {
        None
    };
    let target = conn::Target {
        base: server.to_string(),
        addr: server.address(),
        tls,
    };
    Some(Transport::direct(target, link.headers.clone()))
}

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

/// A failure reading the file being uploaded.
pub fn read_error(e: io::Error) -> Error {
    Error::failure(format!("cannot read the file to upload: {e}")).with_kind(
        crate::error::Kind::Io {
            kind: e.kind(),
            path: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_loosely() {
        assert!(same_etag("\"abc\"", "W/\"ABC\""));
        assert!(!same_etag("abc", "abd"));
    }
}
