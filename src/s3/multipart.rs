//! Multipart uploads: create, upload a part, list the parts already there
//! (bounded: a server that lists thousands of fake parts is refused), complete,
//! abort (docs/protocol.md §4.5).

use std::fs::File;

use cells_hash::region::RegionHash;

use super::errors::check_not_error;
use super::request::Op;
use super::transport::{read_small, Body};
use super::{PartInfo, Progress, PutResult, S3};
use crate::error::{Error, Exit, Result};
use crate::text::xml;

/// Most parts an upload can have (S3's limit, docs/protocol.md §4.5).
pub const MAX_PARTS: u32 = 10_000;
/// Parts asked per ListParts page.
const PAGE: u32 = 1000;

impl S3 {
    fn xml_call(&self, op: &Op<'_>, body: Body<'_>) -> Result<(String, String)> {
        let resp = self.send(op, body)?;
        let etag = super::object::info_of(&resp, 0).etag;
        let text = read_small(resp, self.transport.base())?;
        check_not_error(&text, op.key)?;
        Ok((text, etag))
    }

    /// `POST /io/{key}?uploads` → upload id.
    pub fn create_multipart(&self, key: &str) -> Result<String> {
        let op = Op {
            method: "POST",
            key,
            query: &[("uploads", "")],
            extra: &[],
        };
        let (body, _) = self.xml_call(&op, Body::Empty)?;
        xml::first(&body, "UploadId")
            .filter(|s| !s.is_empty() && s.len() <= 1024 && !s.contains(char::is_control))
            .ok_or_else(|| Error::reply(format!("{key}: no valid UploadId in the server's answer")))
    }

    /// `PUT /io/{key}?partNumber=n&uploadId=id` with `len` bytes of `file` from
    /// `offset`; `hashes` when the caller already hashed the region (its
    /// SHA-256 may be left out: it is computed if the body must be signed).
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
        let query = [("partNumber", n.as_str()), ("uploadId", upload_id)];
        self.put_region(key, &query, file, offset, len, hashes, progress)
    }

    /// `GET /io/{key}?uploadId=id` (all pages) → the parts already uploaded,
    /// sorted and unique. Part numbers outside 1..=10000, more parts than an
    /// upload can have, or pages that do not move forward are refused.
    pub fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<PartInfo>> {
        let mut out: Vec<PartInfo> = Vec::new();
        let mut marker = 0u32;
        loop {
            let m = marker.to_string();
            let page = PAGE.to_string();
            let mut query = vec![("uploadId", upload_id), ("max-parts", page.as_str())];
            if marker > 0 {
                query.push(("part-number-marker", m.as_str()));
            }
            let op = Op {
                method: "GET",
                key,
                query: &query,
                extra: &[],
            };
            let (body, _) = self.xml_call(&op, Body::Empty)?;
            parts_of(&body, key, &mut out)?;
            let truncated = xml::first(&body, "IsTruncated").as_deref() == Some("true");
            let next = xml::first(&body, "NextPartNumberMarker")
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(0);
            if !truncated || next <= marker || next >= MAX_PARTS {
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
        let op = Op {
            method: "POST",
            key,
            query: &[("uploadId", upload_id)],
            extra: &[("Content-Type", "application/xml".into())],
        };
        let (text, header_etag) = self.xml_call(&op, Body::Bytes(body.as_bytes()))?;
        Ok(xml::first(&text, "ETag").unwrap_or(header_etag))
    }

    /// `DELETE /io/{key}?uploadId=id`. A missing upload is not an error.
    pub fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let op = Op {
            method: "DELETE",
            key,
            query: &[("uploadId", upload_id)],
            extra: &[],
        };
        match self.send(&op, Body::Empty) {
            Ok(_) => Ok(()),
            Err(e) if e.exit == Exit::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The `<Part>`s of a ListParts page, appended to `out` (checked).
fn parts_of(body: &str, key: &str, out: &mut Vec<PartInfo>) -> Result<()> {
    for p in xml::elements(body, "Part") {
        let number = xml::first(p, "PartNumber")
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|n| (1..=MAX_PARTS).contains(n));
        let size = xml::first(p, "Size").and_then(|s| s.parse::<u64>().ok());
        let (Some(number), Some(size)) = (number, size) else {
            return Err(Error::reply(format!(
                "{key}: the server listed a part with an impossible number or size"
            )));
        };
        let etag = xml::first(p, "ETag").unwrap_or_default();
        out.push(PartInfo { number, etag, size });
        if out.len() > MAX_PARTS as usize {
            return Err(Error::reply(format!(
                "{key}: the server listed more than {MAX_PARTS} parts for one upload"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_parts_are_checked() {
        let mut out = Vec::new();
        let page = "<ListPartsResult><Part><PartNumber>2</PartNumber><ETag>\"e\"</ETag><Size>5</Size></Part></ListPartsResult>";
        parts_of(page, "k", &mut out).unwrap();
        assert_eq!(out[0].number, 2);
        for bad in ["0", "10001", "-1", "x"] {
            let page = format!("<Part><PartNumber>{bad}</PartNumber><Size>1</Size></Part>");
            assert!(parts_of(&page, "k", &mut Vec::new()).is_err(), "{bad}");
        }
        let many = "<Part><PartNumber>1</PartNumber><Size>1</Size></Part>".repeat(10_001);
        assert!(parts_of(&many, "k", &mut Vec::new()).is_err());
    }
}
