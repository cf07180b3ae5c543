//! What the server sends back, never trusted: bodies read into memory are
//! capped ([`MAX_REPLY`]) and must arrive within the request's time-out; error
//! bodies become one readable line; redirects, HTML pages and bodies that are
//! not the expected JSON become clear errors ("is this a Cells server?").

use std::io::Read;

use super::http::{debug, Req};
use super::neterr;
use crate::error::{Error, Exit, Kind, Result};
use crate::output::escape_control;

/// Largest REST reply read into memory (a listing page of 1000 nodes is ~1 MiB).
pub const MAX_REPLY: u64 = 16 << 20;
/// Largest error body read (the rest is dropped).
const MAX_ERROR_BODY: u64 = 64 << 10;

/// A complete reply, read into memory.
pub struct Reply {
    /// `GET /a/tree/stat/x`, for messages.
    pub what: String,
    pub url: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Read the body of `resp` into memory: at most `cap` bytes, else an error.
/// A connection cut or a time-out while reading is a network error (retried
/// like any other); gzip is decoded by ureq before the cap applies, so a
/// compressed bomb is stopped at `cap` too.
pub fn read_body(resp: ureq::Response, cap: u64, what: &str) -> Result<Vec<u8>> {
    let url = resp.get_url().to_string();
    if let Some(n) = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if n > cap {
            return Err(too_large(what, cap));
        }
    }
    let mut body = Vec::new();
    resp.into_reader()
        .take(cap + 1)
        .read_to_end(&mut body)
        .map_err(|e| neterr::of_io(&url, &e).context(format!("{what}: reading the reply")))?;
    if body.len() as u64 > cap {
        return Err(too_large(what, cap));
    }
    Ok(body)
}

fn too_large(what: &str, cap: u64) -> Error {
    Error::reply(format!(
        "{what}: the server's reply is larger than {} MiB; refusing it",
        cap >> 20
    ))
}

/// Send `req` once and read the whole 2xx reply (see [`super::http::send_once`]).
pub fn fetch_once(
    agent: &ureq::Agent,
    req: &Req,
) -> std::result::Result<Reply, super::http::Failed> {
    let resp = super::http::send_once(agent, req)?;
    let content_type = resp.content_type().to_string();
    let what = req.what();
    let body = read_body(resp, MAX_REPLY, &what)?;
    Ok(Reply {
        what,
        url: req.url.clone(),
        content_type,
        body,
    })
}

fn looks_like_html(content_type: &str, body: &[u8]) -> bool {
    if content_type.to_ascii_lowercase().contains("html") {
        return true;
    }
    let start: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(14)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    start.starts_with(b"<!doctype html") || start.starts_with(b"<html")
}

/// "is this a Cells server?" for a reply that is not from the Cells API.
fn not_cells(what: &str, url: &str, found: &str) -> Error {
    Error::reply(format!(
        "{what}: the server answered with {found}, not the Cells API: is {} a Cells server? (check the URL; a proxy may ask for a login first)",
        neterr::origin(url)
    ))
}

/// Decode a JSON reply (an empty body is `{}`).
pub fn decode_json<T: serde::de::DeserializeOwned>(r: &Reply) -> Result<T> {
    if looks_like_html(&r.content_type, &r.body) {
        return Err(not_cells(&r.what, &r.url, "an HTML page"));
    }
    let body: &[u8] = if r.body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &r.body
    };
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() && e.line() == 1 && e.column() <= 1 {
            not_cells(&r.what, &r.url, "something that is not JSON")
        } else if e.is_eof() || e.is_syntax() {
            Error::reply(format!(
                "{}: the server's reply is not valid JSON ({e}; cut short?)",
                r.what
            ))
        } else {
            Error::reply(format!("{}: unexpected server response ({e})", r.what))
        }
    })
}

/// The reply as text (XML registries); an HTML page is not the Cells API.
pub fn decode_text(r: &Reply) -> Result<String> {
    if looks_like_html(&r.content_type, &r.body) {
        return Err(not_cells(&r.what, &r.url, "an HTML page"));
    }
    Ok(String::from_utf8_lossy(&r.body).into_owned())
}

/// Read and decode a JSON response (bounded), for callers of `http::execute`.
pub fn read_json<T: serde::de::DeserializeOwned>(resp: ureq::Response) -> Result<T> {
    let url = resp.get_url().to_string();
    let what = format!("reply from {}", neterr::origin(&url));
    let content_type = resp.content_type().to_string();
    let body = read_body(resp, MAX_REPLY, &what)?;
    decode_json(&Reply {
        what,
        url,
        content_type,
        body,
    })
}

/// A 3xx: redirects are never followed (the token or signature must not go to
/// another host); say where it points so the user can fix the URL.
pub fn redirect_error(what: &str, resp: &ureq::Response) -> Error {
    let status = resp.status();
    let to = resp.header("Location").unwrap_or("").trim();
    let shown: String = escape_control(to).chars().take(200).collect();
    let same_host = url::Url::parse(resp.get_url())
        .ok()
        .and_then(|u| u.join(to).ok().map(|t| (u, t)))
        .is_some_and(|(u, t)| u.host_str() == t.host_str() && u.port() == t.port());
    let hint = if same_host {
        "if the server moved, use its new address"
    } else {
        "to another host: nothing was sent there; use the server's real address"
    };
    Error::new(
        Exit::Failure,
        format!("{what}: the server redirects ({status}) to {shown} ({hint})"),
    )
    .with_kind(Kind::Reply)
}

/// One line from a Cells / OAuth JSON error body (or the raw text, trimmed).
pub fn error_text(body: &str) -> String {
    let body = body.trim();
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(body) {
        let s = |k: &str| {
            m.get(k)
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut parts: Vec<String> = Vec::new();
        for k in ["Title", "title", "error_description", "message", "Message"] {
            if let Some(v) = s(k) {
                parts.push(v);
                break;
            }
        }
        for k in ["Detail", "detail", "Code", "error"] {
            if let Some(v) = s(k) {
                if !parts.iter().any(|p| p == &v || p.contains(&v)) {
                    parts.push(v);
                }
                break;
            }
        }
        if !parts.is_empty() {
            let first = parts.remove(0);
            return if parts.is_empty() {
                first
            } else {
                format!("{first} ({})", parts.join(", "))
            };
        }
    }
    if body.starts_with('<') {
        return String::new(); // an HTML error page says nothing useful
    }
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    escape_control(&one).chars().take(200).collect()
}

/// An error status as one line with the status's exit code. A 404 that is an
/// HTML page on an API path means the URL is not a Cells server.
pub fn status_error(what: &str, url: &str, code: u16, resp: ureq::Response) -> Error {
    let reason: String = escape_control(resp.status_text())
        .chars()
        .take(60)
        .collect();
    let html = looks_like_html(resp.content_type(), b"");
    let mut bytes = Vec::new();
    if let Err(e) = resp
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_end(&mut bytes)
    {
        debug(format!("error body of {what} unreadable: {e}"));
    }
    let body = String::from_utf8_lossy(&bytes);
    if code == 404 && (html || looks_like_html("", &bytes)) && what.contains(" /a/") {
        return not_cells(what, url, "a 404 HTML page");
    }
    let text = error_text(&body);
    let msg = if text.is_empty() {
        format!("{what}: {code} {reason}")
    } else if !reason.is_empty() && text.to_lowercase().starts_with(&reason.to_lowercase()) {
        format!("{what}: {code} {text}")
    } else {
        format!("{what}: {code} {reason}: {text}")
    };
    Error::status(code, "", msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_text(r#"{"Title":"Cannot find node","Detail":"E_NOT_FOUND"}"#),
            "Cannot find node (E_NOT_FOUND)"
        );
        assert_eq!(
            error_text(r#"{"Code":"E_UNAUTHORIZED","Title":"E_UNAUTHORIZED"}"#),
            "E_UNAUTHORIZED"
        );
        assert_eq!(
            error_text(
                r#"{"error":"invalid_grant","error_description":"bad code","status_code":400}"#
            ),
            "bad code (invalid_grant)"
        );
        assert_eq!(error_text(""), "");
        assert_eq!(error_text("plain\ntext"), "plain text");
    }

    fn reply(ctype: &str, body: &str) -> Reply {
        Reply {
            what: "GET /a/x".into(),
            url: "http://h:1/a/x".into(),
            content_type: ctype.into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replies_that_are_not_cells_json() {
        let v: serde_json::Value = decode_json(&reply("application/json", " ")).unwrap();
        assert!(v.as_object().unwrap().is_empty());
        for (ct, body) in [
            ("text/html", "<p>login</p>"),
            ("", "<!DOCTYPE html><html>"),
            ("text/plain", "hello"),
        ] {
            let e = decode_json::<serde_json::Value>(&reply(ct, body)).unwrap_err();
            assert!(e.message.contains("is http://h:1 a Cells server?"), "{e}");
            assert_eq!((e.exit, &e.kind), (Exit::Failure, &Kind::Reply));
        }
        let e = decode_json::<serde_json::Value>(&reply("", r#"{"Nodes": ["#)).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
    }
}
