//! Helpers shared by the scp_* integration tests (on top of tests/common).

use crate::common::{Cec, Out, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The transports the transfer tests run over: every scp and sync case that
/// moves data through the S3 gateway runs over both (the HTTPS one as
/// `*_over_tls` or a name of its own). Over plain HTTP only: the cases about
/// signing it, usage and authentication errors, a server that is down, the terminal
/// display and the fake servers of the hostile tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    Http,
    Https,
}

impl Net {
    /// `extra` with `--tls` added for HTTPS.
    pub fn args<'a>(self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = extra.to_vec();
        if self == Net::Https {
            v.push("--tls");
        }
        v
    }

    /// A private server (see [`Server::start`]).
    pub fn start(self, extra: &[&str]) -> Server {
        Server::start(&self.args(extra))
    }

    /// The shared server of this transport.
    pub fn shared(self) -> &'static Server {
        match self {
            Net::Http => Server::shared(),
            Net::Https => Server::shared_tls(),
        }
    }

    /// A server on an existing root (see [`Server::start_on`]).
    pub fn serve_on(self, root: &Path, extra: &[&str]) -> Server {
        Server::start_on(root, &self.args(extra))
    }
}

/// `#[test] fn $http` over plain HTTP and `#[test] fn $tls` over HTTPS, both
/// running `$body(Net)`.
#[macro_export]
macro_rules! over_http_and_tls {
    ($body:ident: $http:ident, $tls:ident) => {
        #[test]
        fn $http() {
            $body(Net::Http)
        }
        #[test]
        fn $tls() {
            $body(Net::Https)
        }
    };
}

/// A `cec` talking DIRECTLY to `srv` (S3 traffic cannot go through Prism) as
/// `user`, trusting its CA when it speaks TLS.
pub fn cec(srv: &Server, user: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", &srv.url)
        .env("CEC_TOKEN", srv.token(user))
        .env("CEC_SKIP_KEYRING", "true")
        .env("CEC_INDEX_TIMEOUT", "20s");
    if srv.is_tls() {
        c.env("SSL_CERT_FILE", srv.ca_pem());
    }
    c
}

/// A ureq agent for raw calls to `url`, trusting the CA in `ca_pem` for https.
fn agent(url: &str, ca_pem: &Path) -> ureq::Agent {
    let b = ureq::AgentBuilder::new().timeout(Duration::from_secs(60));
    if !url.starts_with("https://") {
        return b.build();
    }
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca_pem).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    b.tls_config(std::sync::Arc::new(config)).build()
}

/// GET `path` of `srv` without credentials (the dev server's own counters), as JSON.
pub fn get_json(srv: &Server, path: &str) -> Value {
    let (code, body) = call(srv, "GET", path, None, None);
    assert_eq!(code, 200, "GET {path}: {body}");
    body
}

/// Run `cec scp ARGS...` as admin with a fresh isolated HOME.
pub fn scp(srv: &Server, args: &[&str]) -> Out {
    let mut c = cec(srv, "admin");
    c.arg("scp").args(args).run()
}

/// Percent-encode a REST path parameter.
pub fn esc(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Raw REST call to the server as admin.
pub fn rest(srv: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(srv, method, path, Some(&srv.bearer("admin")), body)
}

/// One request to `srv` (over either transport): its status and JSON body.
fn call(
    srv: &Server,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{}", srv.url, path);
    let mut req = agent(&url, &srv.ca_pem()).request(method, &url);
    if let Some(a) = auth {
        req = req.set("Authorization", a);
    }
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let (code, text) = match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {path}: {e}"),
    };
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Create a remote folder (and wait until it is visible).
pub fn mkdir(srv: &Server, path: &str) {
    let (code, body) = rest(
        srv,
        "POST",
        "/a/tree/create",
        Some(serde_json::json!({"Nodes":[{"Path": path, "Type":"COLLECTION"}]})),
    );
    assert_eq!(code, 200, "mkdir {path}: {body}");
    wait_for(&format!("folder {path}"), || stat(srv, path).is_some());
}

/// `GET /a/tree/stat/{path}` → the node, if any.
pub fn stat(srv: &Server, path: &str) -> Option<Value> {
    let (code, body) = rest(srv, "GET", &format!("/a/tree/stat/{}", esc(path)), None);
    if code == 200 {
        body.get("Node").cloned()
    } else {
        None
    }
}

/// The x-cells-hash of a remote file (unquoted).
pub fn remote_hash(srv: &Server, path: &str) -> Option<String> {
    let n = stat(srv, path)?;
    let raw = n
        .get("MetaStore")?
        .get("x-cells-hash")?
        .as_str()?
        .to_string();
    Some(raw.trim_matches('"').to_string())
}

/// Where the devserver keeps the bytes of `common-files/<rel>`.
pub fn server_file(srv: &Server, common_rel: &str) -> PathBuf {
    srv.root.join("data/common").join(common_rel)
}

pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > Duration::from_secs(20) {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Cells hash of bytes (10 MiB blocks), for comparisons.
pub fn cells_hash(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    let mut outer = Md5::new();
    let block = 10 * 1024 * 1024;
    if bytes.is_empty() {
        outer.update(Md5::digest(b""));
    }
    for c in bytes.chunks(block) {
        outer.update(Md5::digest(c));
    }
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// All files under `dir` (relative path → content), and all folders.
pub fn snapshot(dir: &Path) -> (std::collections::BTreeMap<String, Vec<u8>>, Vec<String>) {
    let mut files = std::collections::BTreeMap::new();
    let mut dirs = Vec::new();
    fn walk(
        base: &Path,
        d: &Path,
        files: &mut std::collections::BTreeMap<String, Vec<u8>>,
        dirs: &mut Vec<String>,
    ) {
        let mut ents: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap()).collect();
        ents.sort_by_key(|e| e.file_name());
        for e in ents {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                dirs.push(rel);
                walk(base, &p, files, dirs);
            } else if m.is_file() {
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut files, &mut dirs);
    (files, dirs)
}

/// Write `content` as `name` in a new temporary folder and upload it to
/// `common-files/` with `flags` (the upload must succeed). Returns the folder.
pub fn upload_new(srv: &Server, name: &str, content: &[u8], flags: &[&str]) -> tempfile::TempDir {
    let tmp = tmpdir();
    let f = tmp.path().join(name);
    std::fs::write(&f, content).unwrap();
    let mut args = flags.to_vec();
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    scp(srv, &args).assert_ok();
    tmp
}

pub fn tmpdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cec-scp-")
        .tempdir()
        .unwrap()
}

/// The stderr must be plain text (no ANSI escapes) when not on a terminal.
pub fn assert_plain(out: &Out) {
    assert!(
        !out.stderr.contains('\x1b'),
        "ANSI escape in non-terminal output:\n{}",
        out.stderr
    );
}

/// Journals of a Cec's HOME (resume state).
pub fn journals(home: &Path, kind: &str) -> Vec<PathBuf> {
    let dir = home.join(".local/state/cec/transfers");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{kind}-")) && n.ends_with(".json"))
        })
        .collect()
}
