//! AWS Signature V4, header-based, single chunk (docs/protocol.md §4.3).
//!
//! Pure functions: the caller provides the date, the headers to sign and the
//! payload hash; `sign` returns the `Authorization` header value. Canonical
//! URI / query encoding helpers live here too so that what is sent and what is
//! signed come from the same code.

use cells_hash::{hex, sha256_hex};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of the empty body, lower-case hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The secret access key of the Cells S3 gateway.
pub const GATEWAY_SECRET: &str = "gatewaysecret";
pub const REGION: &str = "us-east-1";
pub const SERVICE: &str = "s3";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Percent-encode every byte except `A-Z a-z 0-9 - _ . ~` (and `/` when `keep_slash`),
/// upper-case hex. This is the S3 URI encoding (no normalisation, no double encoding).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
        }
    }
    out
}

/// The request path (and canonical URI) for `key` in bucket `bucket`:
/// `/<bucket>/<key encoded, '/' kept>`. A leading `/` of the key is dropped.
pub fn object_path(bucket: &str, key: &str) -> String {
    let key = key.trim_start_matches('/');
    format!("/{}/{}", uri_encode(bucket, false), uri_encode(key, true))
}

/// Canonical query string from raw (unencoded) pairs: both parts encoded with
/// `/` encoded too, sorted by encoded name then value, `name=value` joined by `&`.
/// A value-less parameter is `("uploads", "")` → `uploads=`. Also usable as the
/// query string actually sent (S3 accepts the canonical form).
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut enc: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    enc.sort();
    enc.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trim and collapse inner runs of spaces of a header value (canonical form).
fn canonical_header_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut last_space = false;
    for c in v.trim().chars() {
        if c == ' ' || c == '\t' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out
}

/// `(amzdate, date)` = (`YYYYMMDDThhmmssZ`, `YYYYMMDD`) of a UTC time.
pub fn amz_dates(t: SystemTime) -> (String, String) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d, hh, mm, ss) = crate::output::log::civil(secs as i64);
    let amz = format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z");
    let date = amz[..8].to_string();
    (amz, date)
}

/// Everything that goes into one signature.
pub struct Request<'a> {
    pub method: &'a str,
    /// Canonical URI: the encoded path exactly as sent (see [`object_path`]).
    pub path: &'a str,
    /// Canonical query (see [`canonical_query`]), "" if none.
    pub query: &'a str,
    /// Headers to sign, any case; must include host, x-amz-content-sha256 and x-amz-date.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body or `UNSIGNED-PAYLOAD`.
    pub payload_hash: &'a str,
}

/// Result of signing: the `Authorization` value plus the intermediate strings
/// (for `--very-verbose` signing debug output; they contain no secret).
pub struct Signed {
    pub authorization: String,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Sign `req` at `amzdate` (`YYYYMMDDThhmmssZ`) with `access_key`/`secret` for region/service.
pub fn sign(
    req: &Request<'_>,
    access_key: &str,
    secret: &str,
    region: &str,
    service: &str,
    amzdate: &str,
) -> Signed {
    let date = &amzdate[..8.min(amzdate.len())];
    let mut hs: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), canonical_header_value(v)))
        .collect();
    hs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut canon_headers = String::new();
    for (k, v) in &hs {
        canon_headers.push_str(k);
        canon_headers.push(':');
        canon_headers.push_str(v);
        canon_headers.push('\n');
    }
    let signed_headers = hs
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method, req.path, req.query, canon_headers, signed_headers, req.payload_hash
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amzdate}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_sign = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_sign, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    Signed {
        authorization,
        canonical_request,
        string_to_sign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
    const DATE: &str = "20250101T120000Z";
    const HOST: &str = "cells.example.com";

    fn sig(method: &str, path: &str, query: &str, extra: &[(&str, &str)], ph: &str) -> Signed {
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        h.push(("Host", HOST));
        h.push(("x-amz-content-sha256", ph));
        h.push(("x-amz-date", DATE));
        sign(
            &Request {
                method,
                path,
                query,
                headers: &h,
                payload_hash: ph,
            },
            AK,
            GATEWAY_SECRET,
            REGION,
            SERVICE,
            DATE,
        )
    }

    fn signature(s: &Signed) -> &str {
        s.authorization.rsplit("Signature=").next().unwrap()
    }

    #[test]
    fn vector1_put_with_content_type() {
        let ph = sha256_hex(b"hello\n");
        assert_eq!(
            ph,
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        let path = object_path("io", "personal-files/hello world.txt");
        assert_eq!(path, "/io/personal-files/hello%20world.txt");
        let s = sig(
            "PUT",
            &path,
            "",
            &[
                ("Content-Length", "6"),
                ("Content-Type", "application/octet-stream"),
            ],
            &ph,
        );
        let expected_cr = "PUT\n/io/personal-files/hello%20world.txt\n\ncontent-length:6\ncontent-type:application/octet-stream\nhost:cells.example.com\nx-amz-content-sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\nx-amz-date:20250101T120000Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        assert_eq!(s.canonical_request, expected_cr);
        assert!(s
            .string_to_sign
            .ends_with("\n3a1bb3868796a27c30ac8c3aa9a5618fc1a8440ced143326121ecc6adbb28708"));
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20250101T120000Z\n20250101/us-east-1/s3/aws4_request\n3a1bb3868796a27c30ac8c3aa9a5618fc1a8440ced143326121ecc6adbb28708"
        );
        assert_eq!(
            s.authorization,
            format!("AWS4-HMAC-SHA256 Credential={AK}/20250101/us-east-1/s3/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=332f0a0617f83da4f6b65a90bc9a0f6edbffa4bc8877ba1dc66a982acc966b4c")
        );
    }

    #[test]
    fn vector2_head() {
        let s = sig(
            "HEAD",
            "/io/personal-files/hello%20world.txt",
            "",
            &[],
            EMPTY_SHA256,
        );
        assert!(s
            .authorization
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
        assert_eq!(
            signature(&s),
            "9f158480d49259d8be2b6f4de21c2d1a2692f131b949af8bf9720b9ec5fd16da"
        );
    }

    #[test]
    fn vector3_get_unicode() {
        let path = object_path("io", "common-files/Été/report.pdf");
        assert_eq!(path, "/io/common-files/%C3%89t%C3%A9/report.pdf");
        let s = sig("GET", &path, "", &[], EMPTY_SHA256);
        assert_eq!(
            signature(&s),
            "f033af2ea2765b9c04989548524020d53fd74429fb3a0661caee79744e1ad828"
        );
    }

    #[test]
    fn vector4_post_uploads() {
        let q = canonical_query(&[("uploads", "")]);
        assert_eq!(q, "uploads=");
        let s = sig("POST", "/io/personal-files/big.iso", &q, &[], EMPTY_SHA256);
        assert_eq!(
            signature(&s),
            "49c330770b0a9c40c8aa31a1928a20b67d3ef6e14ab413b00ac34149e44bca19"
        );
    }

    #[test]
    fn vector5_upload_part() {
        let ph = sha256_hex(b"12345");
        assert_eq!(
            ph,
            "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5"
        );
        let q = canonical_query(&[("uploadId", "0f3c2a1b-uid"), ("partNumber", "1")]);
        assert_eq!(q, "partNumber=1&uploadId=0f3c2a1b-uid");
        let s = sig(
            "PUT",
            "/io/personal-files/big.iso",
            &q,
            &[("Content-Length", "5")],
            &ph,
        );
        assert_eq!(
            signature(&s),
            "ee7398c67b8b506d5afcb3d97deb16cb6c448a8d412e04794af7932bb0266a22"
        );
    }

    #[test]
    fn vector6_unsigned_payload() {
        let s = sig(
            "PUT",
            "/io/personal-files/hello%20world.txt",
            "",
            &[("Content-Length", "6")],
            "UNSIGNED-PAYLOAD",
        );
        assert!(s
            .authorization
            .contains("SignedHeaders=content-length;host;x-amz-content-sha256;x-amz-date,"));
        assert_eq!(
            signature(&s),
            "bf62ead69fda54f9f13b19475cde4d00cf8c9c5b2ec035a976fe9ee2fa0d17ff"
        );
    }

    #[test]
    fn encoding_helpers() {
        assert_eq!(uri_encode("a b/c+d~e", true), "a%20b/c%2Bd~e");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(object_path("io", "/x/ü"), "/io/x/%C3%BC");
        assert_eq!(canonical_query(&[]), "");
        assert_eq!(canonical_query(&[("b", "2"), ("a", "x/y")]), "a=x%2Fy&b=2");
        assert_eq!(canonical_header_value("  a   b  "), "a b");
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_735_732_800);
        assert_eq!(amz_dates(t).0, "20250101T120000Z");
        assert_eq!(amz_dates(t).1, "20250101");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(951_827_696); // 2000-02-29T12:34:56Z
        assert_eq!(amz_dates(t).0, "20000229T123456Z");
        assert_eq!(amz_dates(UNIX_EPOCH).0, "19700101T000000Z");
    }
}
