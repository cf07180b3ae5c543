//! Single-object operations: HEAD and PUT of a file region (GET: [`super::get`]).

use std::fs::File;

use cells_hash::region::{hash_region, sha256_region, RegionHash};

use super::request::{Op, UNSIGNED_PAYLOAD};
use super::transport::{read_small, Body, Resp, Tap};
use super::{ObjectInfo, Progress, PutResult, MAX_OBJECT_SIZE, S3};
use crate::error::{Error, Result};
use crate::output::escape_control;

/// A size the server sent, checked: a number from 0 to [`MAX_OBJECT_SIZE`].
pub fn parse_size(v: &str, what: &str, key: &str) -> Result<u64> {
    match v.trim().parse::<u64>() {
        Ok(n) if n <= MAX_OBJECT_SIZE => Ok(n),
        _ => Err(Error::reply(format!(
            "{key}: the server sent an impossible {what} ({})",
            escape_control(&v.chars().take(40).collect::<String>())
        ))),
    }
}

/// The ETag of a reply; `size` is the caller's.
pub fn info_of(resp: &Resp, size: u64) -> ObjectInfo {
    let text = |h: &str| {
        escape_control(resp.header(h).unwrap_or(""))
            .chars()
            .take(200)
            .collect()
    };
    ObjectInfo {
        size,
        etag: text("ETag"),
    }
}

impl S3 {
    /// `HEAD /io/{key}`. 404 → exit 4 "not found". The size must be given.
    pub fn head_object(&self, key: &str) -> Result<ObjectInfo> {
        let op = Op {
            method: "HEAD",
            key,
            query: &[],
            extra: &[],
        };
        let resp = self.send(&op, Body::Empty)?;
        let size = match resp.header("Content-Length") {
            Some(v) => parse_size(v, "size", key)?,
            None => {
                return Err(Error::reply(format!(
                    "{key}: the server did not say how large the file is"
                )))
            }
        };
        Ok(info_of(&resp, size))
    }

    /// `PUT /io/{key}` of `len` bytes of `file` from `offset`. Also computes
    /// the 10 MiB block MD5s of the region.
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

    /// PUT a body held in memory (streams from standard input): one object,
    /// or one part with `query`. Returns the ETag and the block MD5s.
    pub fn put_bytes(&self, key: &str, query: &[(&str, &str)], data: &[u8]) -> Result<PutResult> {
        use md5::{Digest, Md5};
        // An empty body is one empty block (as the server hashes it).
        let block_md5s = if data.is_empty() {
            vec![Md5::digest(b"").into()]
        } else {
            data.chunks(cells_hash::BLOCK_SIZE as usize)
                .map(|b| Md5::digest(b).into())
                .collect()
        };
        let op = Op {
            method: "PUT",
            key,
            query,
            extra: &[("Content-Type", "application/octet-stream".into())],
        };
        let resp = self.send(&op, super::transport::Body::Bytes(data))?;
        let etag = info_of(&resp, 0).etag;
        let _ = read_small(resp, self.transport.base());
        Ok(PutResult { etag, block_md5s })
    }

    /// Over TLS the body goes as `UNSIGNED-PAYLOAD` (TLS protects it in
    /// transit; the block MD5s are checked against what the server stores):
    /// one block is hashed while it is sent, more are hashed first, side by
    /// side. A server that refuses unsigned bodies gets the request again,
    /// signed, and signed bodies from then on ([`super::payload`]). A signed
    /// body is hashed first (SHA-256 to sign, block MD5s), then sent; the
    /// server checks the signed SHA-256, so bytes that changed in between are
    /// refused, never stored.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn put_region(
        &self,
        key: &str,
        query: &[(&str, &str)],
        file: &File,
        offset: u64,
        len: u64,
        hashes: Option<RegionHash>,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let op = Op {
            method: "PUT",
            key,
            query,
            extra: &[("Content-Type", "application/octet-stream".into())],
        };
        let region = (file, offset, len);
        if self.payload.unsigned_allowed(self.transport.is_tls()) {
            match self.put_unsigned(&op, region, hashes.as_ref(), progress) {
                Ok(r) => {
                    self.payload.accepted();
                    return Ok(r);
                }
                Err(e) if self.payload.may_be_refusal(&e) => {
                    let r = self.put_signed(&op, region, hashes, progress)?;
                    self.payload.refused(self.transport.base());
                    return Ok(r);
                }
                Err(e) => return Err(e),
            }
        }
        self.put_signed(&op, region, hashes, progress)
    }

    /// The body as `UNSIGNED-PAYLOAD`, its block MD5s computed on the way.
    fn put_unsigned(
        &self,
        op: &Op<'_>,
        (file, offset, len): (&File, u64, u64),
        hashes: Option<&RegionHash>,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let tap = Tap::default();
        let block_md5s = match hashes {
            Some(h) => Some(h.block_md5s.clone()),
            None if len <= cells_hash::BLOCK_SIZE && self.transport.reads_bodies() => None,
            None => Some(
                cells_hash::md5x8::file_block_md5s(file, offset, len, cells_hash::BLOCK_SIZE)
                    .map_err(super::read_error)?,
            ),
        };
        let body = Body::Region {
            file,
            offset,
            len,
            progress,
            tap: block_md5s.is_none().then_some(&tap),
        };
        let resp = self.send_signed(op, body, UNSIGNED_PAYLOAD)?;
        let block_md5s = block_md5s
            .unwrap_or_else(|| std::mem::take(&mut *tap.lock().expect("tap lock")).finish());
        Ok(self.put_result(resp, block_md5s))
    }

    /// The body hashed first, its SHA-256 signed.
    fn put_signed(
        &self,
        op: &Op<'_>,
        (file, offset, len): (&File, u64, u64),
        hashes: Option<RegionHash>,
        progress: Option<Progress<'_>>,
    ) -> Result<PutResult> {
        let (sha256, block_md5s) = match hashes {
            Some(RegionHash {
                sha256: Some(sha),
                block_md5s,
            }) => (sha, block_md5s),
            Some(RegionHash { block_md5s, .. }) => (
                sha256_region(file, offset, len).map_err(super::read_error)?,
                block_md5s,
            ),
            None => {
                let h = hash_region(file, offset, len).map_err(super::read_error)?;
                (h.sha256.unwrap_or_default(), h.block_md5s)
            }
        };
        let body = Body::Region {
            file,
            offset,
            len,
            progress,
            tap: None,
        };
        let resp = self.send_signed(op, body, &sha256)?;
        Ok(self.put_result(resp, block_md5s))
    }

    fn put_result(&self, resp: Resp, block_md5s: Vec<[u8; 16]>) -> PutResult {
        let etag = info_of(&resp, 0).etag;
        // Drain the (tiny) body; what it says does not matter.
        let _ = read_small(resp, self.transport.base());
        PutResult { etag, block_md5s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_the_server_are_checked() {
        assert_eq!(parse_size(" 12 ", "size", "k").unwrap(), 12);
        for bad in [
            "-1",
            "x",
            "",
            "99999999999999999999",
            &(MAX_OBJECT_SIZE + 1).to_string(),
        ] {
            assert!(parse_size(bad, "size", "k").is_err(), "{bad}");
        }
    }
}
