//! A server that answers badly — broken, hostile, or not a Cells server at all — gets a
//! clean one-line error with the documented exit code, in bounded time and memory, and no
//! panic. One test per case; each asserts the exit code, the line, the time and (where a
//! reply could be large) the peak memory of the cec process.

use crate::common::Cec;
use crate::hostile::{node, run_measured, FakeCells, Hostile, Measured, Reply, Request};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;
/// cec reads at most 16 MiB of a REST reply: far below this.
const MAX_RSS_KIB: u64 = 64 * 1024;

fn cec_at(url: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", url)
        .env("CEC_TOKEN", "test-token")
        .env("CEC_SKIP_KEYRING", "true")
        // A server that stops answering is given up on after 2 s.
        .env("CEC_TIMEOUT", "2");
    c
}

/// Run `cec <args>` against `url` (60 s at most).
fn run(url: &str, args: &[&str]) -> Measured {
    let mut c = cec_at(url);
    c.args(args);
    let m = run_measured(c.command(), Duration::from_secs(60));
    eprintln!("case outcome: {args:?}: {m}");
    m
}

/// Exit `code`, one line on stderr (`Error: ...` holding `says`), no panic, done within `secs`.
#[track_caller]
fn assert_clean(m: &Measured, code: i32, says: &str, secs: u64) {
    assert!(
        !m.stderr.contains("panicked at") && !m.stderr.contains("RUST_BACKTRACE"),
        "cec panicked: {m}"
    );
    assert_eq!(m.code, code, "{m}");
    let errors: Vec<&str> = m
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected: {m}");
    assert!(errors[0].contains(says), "expected {says:?}: {m}");
    assert!(m.duration < Duration::from_secs(secs), "too slow: {m}");
}

/// A server answering every request with `reply()`.
fn always(reply: impl Fn() -> Reply + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |_| reply())
}

fn json_bytes(status: u16, body: &[u8]) -> Reply {
    let ct = ("Content-Type".to_string(), "application/json".to_string());
    Reply::Full(status, vec![ct], body.to_vec())
}

// ------------------------------------------------------------------ broken JSON and HTML

#[test]
fn truncated_json() {
    let srv = always(|| json_bytes(200, br#"{"Nodes": [{"Path": "ws", "Ty"#));
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "not valid JSON", 10);
}

#[test]
fn garbage_instead_of_json() {
    let srv = always(|| json_bytes(200, b"\x00\xff\xfe garbage \x1b[31m"));
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, &format!("is {} a Cells server?", srv.url), 10);
    assert!(!m.stderr.contains('\u{1b}'), "{m}");
}

#[test]
fn html_login_page_from_a_proxy() {
    let page = b"<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>";
    let srv = always(|| {
        let ct = (
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        );
        Reply::Full(200, vec![ct], page.to_vec())
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "an HTML page, not the Cells API", 10);
    assert!(m.stderr.contains("a Cells server?"), "{m}");
}

#[test]
fn a_url_that_is_not_a_cells_server() {
    // A web server that knows nothing of /a/...: 404 with its HTML error page.
    let srv = always(|| {
        let ct = ("Content-Type".to_string(), "text/html".to_string());
        Reply::Full(404, vec![ct], b"<html><h1>Not Found</h1></html>".to_vec())
    });
    for args in [
        &["ls"][..],
        &["ls", "ws/dir"],
        &["scp", "cells://ws/f", "."],
    ] {
        let m = run(&srv.url, args);
        assert_clean(&m, 1, "a Cells server?", 10);
        assert!(
            m.stderr
                .contains(&format!("is {} a Cells server?", srv.url)),
            "{m}"
        );
    }
}

#[test]
fn content_length_shorter_than_the_body() {
    let srv = always(|| {
        let body = br#"{"Nodes": [{"Path": "ws", "Type": "COLLECTION"}]}"#;
        let mut raw =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
                .to_vec();
        raw.extend_from_slice(body);
        Reply::Raw(raw)
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "not valid JSON", 10);
}

#[test]
fn content_length_longer_than_the_body() {
    // The connection closes 988 bytes early: a cut, retried, then a clean error.
    let srv = always(|| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"Nodes\":[]}"
                .to_vec(),
        )
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "connection to", 15);
    assert!(m.stderr.contains("lost"), "{m}");
    assert_eq!(
        srv.count("POST /a/meta/bulk/get"),
        3,
        "3 attempts by default"
    );
}

// ------------------------------------------------------------------ huge and endless replies

#[test]
fn huge_headers() {
    let long = always(|| {
        let mut raw = b"HTTP/1.1 200 OK\r\nX-Junk: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 300_000));
        raw.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
        Reply::Raw(raw)
    });
    let m = run(&long.url, &["ls"]);
    assert_clean(&m, 1, "not valid HTTP", 10);
    assert!(m.peak_rss_kib < MAX_RSS_KIB, "{m}");
    let many = always(|| {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..5000 {
            raw.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        Reply::Raw(raw)
    });
    let m = run(&many.url, &["ls"]);
    assert_clean(&m, 1, "not valid HTTP", 10);
}

/// Write `body` as a chunked reply forever (until cec hangs up).
fn endless_chunks(s: &mut TcpStream, headers: &str, chunk: &[u8]) {
    let head = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{headers}\r\n");
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
    piece.extend_from_slice(chunk);
    piece.extend_from_slice(b"\r\n");
    while s.write_all(&piece).is_ok() {}
}

#[test]
fn endless_chunked_body() {
    let srv = Hostile::start(|_| {
        Reply::Custom(Box::new(|s| {
            endless_chunks(s, "Content-Type: application/json\r\n", &[b' '; 65536])
        }))
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "larger than 16 MiB", 20);
    assert!(m.peak_rss_kib < MAX_RSS_KIB, "{m}");
}

/// 1 GiB of zeros once expanded: 64 gzip members of 16 MiB each (about 1 MiB in all).
fn gzip_bomb() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; MIB as usize];
    for _ in 0..16 {
        enc.write_all(&zeros).unwrap();
    }
    let member = enc.finish().unwrap();
    member.repeat(64)
}

#[test]
fn gzip_bomb_of_one_gib() {
    let bomb = Arc::new(gzip_bomb());
    assert!(bomb.len() < 2 * MIB as usize);
    let srv = Hostile::start(move |_| {
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Content-Encoding".to_string(), "gzip".to_string()),
        ];
        Reply::Full(200, headers, bomb.to_vec())
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "larger than 16 MiB", 20);
    assert!(m.peak_rss_kib < MAX_RSS_KIB, "a bomb took memory: {m}");
}

// ------------------------------------------------------------------ redirects

#[test]
fn redirect_to_another_host_is_not_followed() {
    let other = Hostile::start(|_| Reply::json(200, json!({"Nodes": []})));
    let target = other.url.clone();
    let srv = Hostile::start(move |req: &Request| {
        let to = ("Location".to_string(), format!("{target}{}", req.target));
        Reply::Full(302, vec![to], Vec::new())
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "redirects (302) to http://127.0.0.1:", 10);
    assert!(
        m.stderr.contains("to another host: nothing was sent there"),
        "{m}"
    );
    // Neither the token nor anything else reached the other host.
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn s3_redirect_to_another_host_is_not_followed() {
    let other = Hostile::start(|_| Reply::status(200));
    let target = other.url.clone();
    let srv = Hostile::start(move |req: &Request| {
        let path = req.path();
        if path.starts_with("/io/") {
            let to = ("Location".to_string(), format!("{target}{}", req.target));
            return Reply::Full(307, vec![to], Vec::new());
        }
        if path == "/a/tree/stat/ws/f.txt" {
            return Reply::json(200, json!({"Node": node("ws/f.txt", "f", false, 5)}));
        }
        Reply::not_found()
    });
    let dl = tempfile::tempdir().unwrap();
    let m = run(
        &srv.url,
        &["scp", "cells://ws/f.txt", dl.path().to_str().unwrap()],
    );
    assert_clean(&m, 1, "redirects (307)", 10);
    assert!(
        other.requests().is_empty(),
        "a signed request went elsewhere"
    );
    assert_eq!(
        fs::read_dir(dl.path()).unwrap().count(),
        0,
        "a file was left"
    );
}

#[test]
fn redirect_loop() {
    let srv = Hostile::start(|req: &Request| {
        let to = ("Location".to_string(), req.target.clone());
        Reply::Full(301, vec![to], Vec::new())
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "redirects (301)", 10);
    assert_eq!(srv.requests().len(), 1, "{:?}", srv.requests());
}

// ------------------------------------------------------------------ silent and slow servers

#[test]
fn a_server_that_accepts_and_never_answers() {
    let srv = Hostile::start(|_| {
        // Read until cec hangs up; never write.
        Reply::Custom(Box::new(|s| {
            let _ = s.read_to_end(&mut Vec::new());
        }))
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "no answer within 2 s", 20);
}

#[test]
fn a_slow_drip() {
    // Headers, then one byte of the body every 100 ms: never done in time.
    let srv = Hostile::start(|_| {
        Reply::Custom(Box::new(|s| {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
            if s.write_all(head.as_bytes()).is_err() {
                return;
            }
            while s.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }))
    });
    let m = run(&srv.url, &["ls"]);
    assert_clean(&m, 1, "no answer within 2 s", 20);
}

// ------------------------------------------------------------------ sizes from the server

/// A fake tree: `ws/d` lists `kids`; files come from `files`.
fn tree_server(kids: Vec<Value>, files: &[(&str, &[u8])]) -> Hostile {
    let mut stat = BTreeMap::new();
    stat.insert("ws".to_string(), node("ws", "ws-uuid", true, 0));
    stat.insert("ws/d".to_string(), node("ws/d", "d-uuid", true, 0));
    for k in &kids {
        stat.insert(k["Path"].as_str().unwrap().to_string(), k.clone());
    }
    FakeCells {
        stat,
        list: Box::new(move |folder| {
            if folder == "ws/d" {
                kids.clone()
            } else {
                vec![]
            }
        }),
        files: files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect(),
    }
    .start()
}

fn sized(path: &str, size: &str) -> Value {
    let mut n = node(path, path, false, 0);
    n["Size"] = json!(size);
    n
}

#[test]
fn negative_and_absurd_sizes_in_a_listing() {
    let srv = tree_server(
        vec![
            sized("ws/d/neg.bin", "-5"),
            sized("ws/d/huge.bin", "9223372036854775807"),
            sized("ws/d/nan.bin", "lots"),
            node("ws/d/ok.txt", "ok", false, 4),
        ],
        &[("ws/d/ok.txt", b"fine"), ("ws/d/neg.bin", b"x")],
    );
    let dl = tempfile::tempdir().unwrap();
    let m = run(
        &srv.url,
        &["scp", "cells://ws/d", dl.path().to_str().unwrap()],
    );
    assert!(!m.stderr.contains("panicked at"), "{m}");
    assert_eq!(m.code, 6, "{m}");
    assert_eq!(fs::read(dl.path().join("d/ok.txt")).unwrap(), b"fine");
    for name in ["neg.bin", "huge.bin", "nan.bin"] {
        assert!(!dl.path().join("d").join(name).exists());
        assert!(m.stderr.contains(&format!("ws/d/{name}")), "{m}");
    }
    assert!(m.stderr.contains("impossible size (-5)"), "{m}");
    assert_eq!(srv.count("GET /io/ws/d/neg.bin"), 0);
}

#[test]
fn absurd_size_of_a_single_file() {
    let srv = tree_server(vec![sized("ws/d/f.bin", "99999999999999999")], &[]);
    let dl = tempfile::tempdir().unwrap();
    let m = run(
        &srv.url,
        &["scp", "cells://ws/d/f.bin", dl.path().to_str().unwrap()],
    );
    assert_clean(&m, 1, "impossible size", 10);
    assert_eq!(fs::read_dir(dl.path()).unwrap().count(), 0);
}

/// A file listed at `listed` bytes whose S3 replies come from `s3`.
fn s3_server(listed: u64, s3: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |req: &Request| {
        let path = req.path();
        if path.starts_with("/io/") {
            return s3(req);
        }
        match path.as_str() {
            "/a/tree/stat/ws/f.bin" => Reply::json(
                200,
                json!({"Node": node("ws/f.bin", "f", false, listed as usize)}),
            ),
            "/a/tree/stat/ws" => Reply::json(200, json!({"Node": node("ws", "ws", true, 0)})),
            _ => Reply::not_found(),
        }
    })
}

fn download_f(srv: &Hostile, dl: &Path) -> Measured {
    run(&srv.url, &["scp", "cells://ws/f.bin", dl.to_str().unwrap()])
}

#[test]
fn absurd_content_length_of_an_object() {
    // 20 MiB listed: the download starts with a HEAD, which lies.
    let srv = s3_server(20 * MIB, |_| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 99999999999999999999\r\n\r\n"
                .to_vec(),
        )
    });
    let dl = tempfile::tempdir().unwrap();
    let m = download_f(&srv, dl.path());
    assert_clean(&m, 1, "impossible size", 10);
    assert_eq!(fs::read_dir(dl.path()).unwrap().count(), 0);
}

#[test]
fn a_content_range_that_does_not_match_the_request() {
    // The first GET is cut after 50 of 100 bytes; the resumed one (Range: bytes=50-)
    // gets the whole object back as if it were that range.
    let calls = AtomicUsize::new(0);
    let srv = s3_server(100, move |req| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let body = vec![b'x'; 100];
        let mut raw = if n == 0 {
            b"HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 100\r\n\r\n".to_vec()
        } else {
            assert_eq!(req.header("Range"), Some("bytes=50-"));
            b"HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes 0-99/100\r\nContent-Length: 100\r\n\r\n"
                .to_vec()
        };
        raw.extend_from_slice(if n == 0 { &body[..50] } else { &body });
        Reply::Raw(raw)
    });
    let dl = tempfile::tempdir().unwrap();
    let m = download_f(&srv, dl.path());
    assert_clean(&m, 1, "with the range bytes 0-99/100", 15);
    assert_eq!(
        fs::read_dir(dl.path()).unwrap().count(),
        0,
        "a partial file was left"
    );
}

#[test]
fn an_object_body_shorter_than_announced() {
    // Every GET is cut at 40 of 100 bytes: resumed, then refused as cut short.
    let srv = s3_server(100, |req| {
        let start: usize = req
            .header("Range")
            .and_then(|r| r.strip_prefix("bytes=")?.trim_end_matches('-').parse().ok())
            .unwrap_or(0);
        let head = if start == 0 {
            "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 100\r\n\r\n".to_string()
        } else {
            format!(
                "HTTP/1.1 206 Partial Content\r\nETag: \"e\"\r\nContent-Range: bytes {start}-99/100\r\nContent-Length: {}\r\n\r\n",
                100 - start
            )
        };
        let mut raw = head.into_bytes();
        raw.extend(std::iter::repeat_n(b'y', (100 - start).clamp(1, 40) - 1));
        Reply::Raw(raw)
    });
    let dl = tempfile::tempdir().unwrap();
    let m = download_f(&srv, dl.path());
    assert_clean(&m, 1, "download failed at byte 99", 20);
    assert_eq!(fs::read_dir(dl.path()).unwrap().count(), 0);
}

#[test]
fn an_object_body_that_never_ends() {
    let srv = s3_server(100, |_| {
        Reply::Custom(Box::new(|s| {
            endless_chunks(s, "ETag: \"e\"\r\n", &[b'z'; 65536])
        }))
    });
    let dl = tempfile::tempdir().unwrap();
    let m = download_f(&srv, dl.path());
    assert_clean(&m, 1, "did not say how large the file is", 10);
    assert!(m.peak_rss_kib < MAX_RSS_KIB, "{m}");
    assert_eq!(fs::read_dir(dl.path()).unwrap().count(), 0);
}

#[test]
fn garbage_s3_error_body() {
    let srv = s3_server(100, |_| {
        Reply::Full(403, Vec::new(), b"<Error><Code>\x1b[31m\x00<<<".to_vec())
    });
    let dl = tempfile::tempdir().unwrap();
    let m = download_f(&srv, dl.path());
    assert_clean(&m, 3, "S3 error", 10);
    assert!(!m.stderr.contains('\u{1b}'), "{m}");
}

// ------------------------------------------------------------------ S3 XML

/// An upload target `ws` (a folder) whose S3 side answers with `s3`.
fn upload_server(s3: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |req: &Request| {
        let path = req.path();
        if path.starts_with("/io/") {
            return s3(req);
        }
        match path.as_str() {
            "/a/tree/stat/ws" => Reply::json(200, json!({"Node": node("ws", "ws", true, 0)})),
            _ => Reply::not_found(),
        }
    })
}

fn xml(body: &str) -> Reply {
    let ct = ("Content-Type".to_string(), "application/xml".to_string());
    Reply::Full(200, vec![ct], body.as_bytes().to_vec())
}

/// `cec scp --multipart-threshold 1 <2 MiB file> cells://ws/` (a multipart upload).
fn upload_big(c: &mut Cec, dir: &Path) -> std::process::Command {
    let f = dir.join("big.bin");
    fs::write(&f, vec![7u8; 2 * MIB as usize]).unwrap();
    c.args([
        "scp",
        "--multipart-threshold",
        "1",
        f.to_str().unwrap(),
        "cells://ws/",
    ]);
    c.command()
}

fn measured(cmd: std::process::Command) -> Measured {
    let m = run_measured(cmd, Duration::from_secs(60));
    eprintln!("case outcome: upload: {m}");
    m
}

#[test]
fn truncated_xml() {
    let srv = upload_server(|req| match req.method.as_str() {
        "POST" => xml("<InitiateMultipartUploadResult><Bucket>io</Bucket><UploadId>abc"),
        _ => Reply::status(500),
    });
    let tmp = tempfile::tempdir().unwrap();
    let m = measured(upload_big(&mut cec_at(&srv.url), tmp.path()));
    assert_clean(&m, 1, "no valid UploadId", 10);
}

#[test]
fn thousands_of_fake_parts() {
    // Run 1: the upload starts, its part is refused, the journal stays for a rerun.
    // Run 2: the rerun lists the parts already there: 20,000 of them.
    let srv = upload_server(|req| {
        match (req.method.as_str(), req.target.contains("uploadId")) {
        ("POST", false) => xml("<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"),
        ("PUT", true) => Reply::Full(400, Vec::new(), b"<Error><Code>InvalidArgument</Code></Error>".to_vec()),
        ("GET", true) => {
            let mut x = String::from("<ListPartsResult><IsTruncated>false</IsTruncated>");
            for n in 1..=20_000 {
                x.push_str(&format!("<Part><PartNumber>{}</PartNumber><ETag>\"e\"</ETag><Size>1</Size></Part>", n % 9000 + 1));
            }
            xml(&(x + "</ListPartsResult>"))
        }
        _ => Reply::status(500),
    }
    });
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cec_at(&srv.url);
    let first = measured(upload_big(&mut c, tmp.path()));
    assert_clean(&first, 1, "InvalidArgument", 10);
    let m = measured(c.command());
    assert_clean(&m, 1, "more than 10000 parts", 10);
    assert!(m.peak_rss_kib < MAX_RSS_KIB, "{m}");
    assert_eq!(srv.count("GET /io/ws/big.bin?"), 1, "{:?}", srv.requests());
}

// ------------------------------------------------------------------ wrong scheme

#[test]
fn https_to_a_plain_http_port() {
    let s = crate::common::Server::shared();
    let url = s.url.replace("http://", "https://");
    let m = run(&url, &["ls"]);
    assert_clean(
        &m,
        1,
        "does not speak TLS on this port (is the URL http://?)",
        5,
    );
}

#[test]
fn http_to_a_tls_port() {
    let s = crate::common::Server::start(&["--tls"]);
    let url = s.url.replace("https://", "http://");
    let m = run(&url, &["ls"]);
    assert_clean(&m, 1, "speaks TLS on this port (is the URL https://?)", 5);
}
