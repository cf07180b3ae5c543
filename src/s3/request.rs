//! Signed S3 requests under the retry policy ([`crate::api::retry`]): every
//! attempt is signed afresh (new date, access key re-read from the credentials
//! callback, so an OAuth refresh mid-transfer is picked up) and re-reads its
//! body from the file, so a retry can never send a short or shifted body.

use std::time::SystemTime;

use cells_hash::region::sha256_region;

use super::transport::{Body, Request, Resp};
use super::{sign, S3};
use crate::api::retry::Call;
use crate::error::{Error, Exit, Result};

/// A request to send: method, object key, query and extra headers.
pub struct Op<'a> {
    pub method: &'a str,
    pub key: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub extra: &'a [(&'a str, String)],
}

/// Headers that are signed when present.
const SIGNED_EXTRA: [&str; 3] = ["content-type", "content-md5", "range"];

/// `x-amz-content-sha256` of a body sent unsigned (over TLS only).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The SHA-256 of a body (hex), as signed in `x-amz-content-sha256`.
pub fn payload_hash(body: &Body<'_>) -> Result<String> {
    Ok(match body {
        Body::Empty => sign::EMPTY_SHA256.to_string(),
        Body::Bytes(b) => cells_hash::sha256_hex(b),
        Body::Region {
            file, offset, len, ..
        } => sha256_region(file, *offset, *len).map_err(super::read_error)?,
    })
}

impl S3 {
    /// Hash the body, then send it with retries.
    pub(super) fn send(&self, op: &Op<'_>, body: Body<'_>) -> Result<Resp> {
        let hash = payload_hash(&body)?;
        self.send_signed(op, body, &hash)
    }

    /// One request, retried as the policy says (one loop).
    pub(super) fn send_signed(&self, op: &Op<'_>, body: Body<'_>, hash: &str) -> Result<Resp> {
        let cancel = self
            .cancel
            .as_deref()
            .map(|c| c as &(dyn Fn() -> bool + Sync));
        let mut call = self.retrier.call(true, cancel);
        let mut auth_retried = false;
        loop {
            match self.attempt(op, &body, hash, &mut call) {
                Ok(r) => {
                    call.succeeded();
                    return Ok(r);
                }
                Err(e) => self.retry(&mut call, e, &mut auth_retried)?,
            }
        }
    }

    /// After a failed attempt: an auth failure gets one more attempt at once
    /// (a token may just have expired), anything else what the policy says.
    pub(super) fn retry(
        &self,
        call: &mut Call<'_>,
        e: Error,
        auth_retried: &mut bool,
    ) -> Result<()> {
        self.check_cancel()?;
        if e.exit == Exit::Auth && !*auth_retried {
            *auth_retried = true;
            return Ok(());
        }
        call.retry(e, None)
    }

    /// One signed attempt. Progress counted for a body that did not make it
    /// is taken back.
    pub(super) fn attempt(
        &self,
        op: &Op<'_>,
        body: &Body<'_>,
        hash: &str,
        call: &mut Call<'_>,
    ) -> Result<Resp> {
        self.check_cancel()?;
        let path = sign::object_path(&self.bucket, op.key);
        let q = sign::canonical_query(op.query);
        let path_q = if q.is_empty() {
            path.clone()
        } else {
            format!("{path}?{q}")
        };
        let headers = self.signed_headers(op, &path, &q, body.len(), hash)?;
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = Request {
            method: op.method,
            path_q: &path_q,
            headers: &pairs,
            key: op.key,
        };
        let mut sent = 0u64;
        let res = self
            .transport
            .send(&req, body, &mut sent, self.cancel.as_ref());
        if res.is_err() && sent > 0 {
            call.moved();
            if let Body::Region {
                progress: Some(p), ..
            } = body
            {
                p(-(sent as i64));
            }
        }
        res
    }

    /// The request headers with a fresh SigV4 `Authorization`.
    fn signed_headers(
        &self,
        op: &Op<'_>,
        path: &str,
        q: &str,
        body_len: Option<u64>,
        hash: &str,
    ) -> Result<Vec<(String, String)>> {
        let token = (self.creds)()?;
        if token.is_empty() {
            return Err(Error::auth(
                "cannot provide S3 credentials with an empty token",
            ));
        }
        let (amzdate, _) = sign::amz_dates(SystemTime::now());
        let len = body_len.map(|l| l.to_string());
        let mut signed: Vec<(&str, &str)> = vec![
            ("host", self.host.as_str()),
            ("x-amz-content-sha256", hash),
            ("x-amz-date", amzdate.as_str()),
        ];
        if let Some(l) = &len {
            signed.push(("content-length", l.as_str()));
        }
        for (k, v) in op.extra {
            if SIGNED_EXTRA.contains(&k.to_ascii_lowercase().as_str()) {
                signed.push((k, v.as_str()));
            }
        }
        let s = sign::sign(
            &sign::Request {
                method: op.method,
                path,
                query: q,
                headers: &signed,
                payload_hash: hash,
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
        let mut out: Vec<(String, String)> = vec![
            ("Host".into(), self.host.clone()),
            ("x-amz-content-sha256".into(), hash.into()),
            ("x-amz-date".into(), amzdate.clone()),
            ("Authorization".into(), s.authorization),
        ];
        out.extend(op.extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        if let Some(l) = len {
            out.push(("Content-Length".into(), l));
        }
        if self.transport.is_direct() {
            out.push(("User-Agent".into(), crate::api::http::user_agent()));
        }
        Ok(out)
    }
}
