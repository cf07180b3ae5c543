//! A hostile (or broken) Cells server for the tests that check `cec` never trusts what a
//! server sends: a plain HTTP/1.1 server on 127.0.0.1 whose every answer comes from the
//! test's handler, down to raw bytes on the socket.
//!
//! `Hostile::start(|req| Reply::...)` serves until dropped; `requests()` lists what came
//! in ("METHOD /path"). [`FakeCells`] answers the few calls a download makes (stat,
//! listing, S3 GET/HEAD) from a table of nodes, with listings the test can poison.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without the query, percent-decoded.
    pub fn path(&self) -> String {
        let p = self.target.split('?').next().unwrap_or("");
        percent_decode(p)
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with a request.
pub enum Reply {
    /// A complete response: status, extra headers, body (Content-Length is added).
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// These bytes as they are, then the connection is closed.
    Raw(Vec<u8>),
    /// The handler writes whatever it wants (endless bodies, slow drips...).
    Custom(Box<dyn FnOnce(&mut TcpStream) + Send>),
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply::Full(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            v.to_string().into_bytes(),
        )
    }
    pub fn status(status: u16) -> Reply {
        Reply::Full(status, Vec::new(), Vec::new())
    }
    pub fn not_found() -> Reply {
        Reply::json(404, json!({"Title": "not found", "Code": 404}))
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Hostile {
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (l2, s2) = (log.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, l) = (handler.clone(), l2.clone());
                thread::spawn(move || serve_conn(conn, &*h, &l));
            }
        });
        Hostile { url, log, stop }
    }

    /// Every request so far, as "METHOD /target".
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests started with `prefix` ("POST /a/tree/stats").
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve_conn(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut out = conn;
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        log.lock()
            .unwrap()
            .push(format!("{} {}", req.method, req.target));
        match handler(&req) {
            Reply::Full(status, headers, body) => {
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (k, v) in &headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                let mut all = head.into_bytes();
                if req.method != "HEAD" {
                    all.extend_from_slice(&body);
                }
                if out.write_all(&all).is_err() {
                    return;
                }
            }
            Reply::Raw(bytes) => {
                let _ = out.write_all(&bytes);
                return;
            }
            Reply::Custom(f) => {
                f(&mut out);
                return;
            }
        }
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = get("Content-Length").and_then(|l| l.parse::<usize>().ok()) {
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    } else if get("Transfer-Encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// A fake Cells server for downloads
// ---------------------------------------------------------------------------------------------

/// The children a fake folder lists (given the folder's path).
pub type Lister = dyn Fn(&str) -> Vec<Value> + Send + Sync;

/// A node of the fake tree.
pub fn node(path: &str, uuid: &str, dir: bool, size: usize) -> Value {
    json!({
        "Uuid": uuid,
        "Path": path,
        "Type": if dir { "COLLECTION" } else { "LEAF" },
        "Size": size.to_string(),
        "MTime": "1700000000",
    })
}

/// Answers `GET /a/tree/stat/{path}`, `POST /a/tree/stats` (children of `folder/*`)
/// and S3 `HEAD`/`GET /io/{path}` from `stat` (path → node) and `list` (folder →
/// the children to list, as given: poison them at will). File contents come from
/// `files` (path → bytes).
pub struct FakeCells {
    pub stat: BTreeMap<String, Value>,
    pub list: Box<Lister>,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl FakeCells {
    pub fn start(self) -> Hostile {
        Hostile::start(move |req| self.answer(req))
    }

    fn answer(&self, req: &Request) -> Reply {
        let path = req.path();
        if let Some(p) = path.strip_prefix("/a/tree/stat/") {
            return match self.stat.get(p.trim_matches('/')) {
                Some(n) => Reply::json(200, json!({ "Node": n })),
                None => Reply::not_found(),
            };
        }
        if path == "/a/tree/stats" || path == "/a/meta/bulk/get" {
            let body = req.json();
            let pattern = body["NodePaths"][0].as_str().unwrap_or("");
            let folder = pattern.trim_end_matches("/*").trim_matches('/');
            return Reply::json(200, json!({ "Nodes": (self.list)(folder) }));
        }
        if let Some(key) = path.strip_prefix("/io/") {
            return match self.files.get(key) {
                Some(bytes) => Reply::Full(
                    200,
                    vec![
                        ("ETag".into(), format!("\"{}\"", md5_hex(bytes))),
                        ("Content-Type".into(), "application/octet-stream".into()),
                    ],
                    bytes.clone(),
                ),
                None => Reply::Full(
                    404,
                    vec![("Content-Type".into(), "application/xml".into())],
                    b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
                ),
            };
        }
        Reply::not_found()
    }
}

pub fn md5_hex(b: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Running cec with its peak memory
// ---------------------------------------------------------------------------------------------

/// One cec run: exit code, output, time and peak resident memory.
#[derive(Debug)]
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
    /// Peak resident set size of the cec process (KiB), from the kernel's
    /// accounting of the child (`wait4`'s `ru_maxrss`).
    pub peak_rss_kib: u64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {} in {:?}, peak RSS {} KiB\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.code, self.duration, self.peak_rss_kib, self.stderr, self.stdout
        )
    }
}

/// `cmd` run by `/usr/bin/time -f %M -o rss_file` (same arguments and environment).
fn under_gnu_time(
    cmd: &std::process::Command,
    rss_file: &std::path::Path,
) -> std::process::Command {
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Run `cmd` (e.g. `Cec::command()`) to its end, killed after `timeout` (a
/// failure of the test). Stdin is empty. It runs under GNU time (`/usr/bin/time`,
/// Debian package `time`, installed by `make deps`), which reports the peak
/// resident memory of cec alone: measured from the test process (`wait4`), it
/// would include the test's own memory, which the child shares until it execs.
pub fn run_measured(cmd: std::process::Command, timeout: Duration) -> Measured {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tempdir");
    let rss_file = dir.path().join("rss");
    let mut timed = under_gnu_time(&cmd, &rss_file);
    let start = std::time::Instant::now();
    let mut child = timed
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn /usr/bin/time (apt-get install time)");
    let pgid = child.id() as libc::pid_t;
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            String::from_utf8_lossy(&b).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let done = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let (d, k) = (done.clone(), killed.clone());
    let watchdog = thread::spawn(move || {
        while !d.load(Ordering::Relaxed) {
            if start.elapsed() > timeout {
                k.store(true, Ordering::Relaxed);
                // SAFETY: kill(2) of the process group of our own child.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    let status = child.wait().expect("wait for cec");
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    let code = exit_code(status);
    let rss = std::fs::read_to_string(&rss_file).unwrap_or_default();
    let m = Measured {
        code,
        stdout: out.join().unwrap_or_default(),
        // GNU time adds "Command exited with non-zero status N" to stderr.
        stderr: err
            .join()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("Command exited with non-zero status"))
            .map(|l| format!("{l}\n"))
            .collect(),
        duration: start.elapsed(),
        peak_rss_kib: rss
            .trim()
            .lines()
            .last()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0),
    };
    assert!(
        !killed.load(Ordering::Relaxed),
        "cec ran longer than {timeout:?}: {m}"
    );
    assert!(
        m.peak_rss_kib > 0,
        "no peak RSS from /usr/bin/time: {rss:?} {m}"
    );
    m
}
