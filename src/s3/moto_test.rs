//! The S3 client against an independent S3 implementation: moto's server
//! (PyPI), which re-computes every SigV4 signature with botocore and rejects
//! a mismatch. The core transfer cases run here: single and multipart upload,
//! ranged and parallel download (through ureq and through the direct
//! sendfile/splice path of `raw`), and resume after an interruption (a TCP
//! proxy cuts a body mid-way). `make deps` installs moto into `.tools/py`; a
//! missing moto FAILS these tests.
//!
//! moto cannot check keys that need percent-encoding (it rebuilds the
//! canonical request from the decoded path), so keys here are plain; the
//! encoding is covered by the published vectors and by the devserver's s3s.

use super::*;
use crate::api::retry::Retrier;
use crate::error::Exit;
use std::io::{BufRead, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

const SCRIPT: &str = r#"
import os, sys
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
token, secret = sys.argv[1], sys.argv[2]
from moto.server import ThreadedMotoServer
import boto3
srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
srv.start()
host, port = srv.get_host_and_port()
ep = f"http://{host}:{port}"
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="u")
iam.put_user_policy(UserName="u", PolicyName="all", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
iam.create_access_key(UserName="u")
boto3.client("s3", **kw).create_bucket(Bucket="iox")
from moto.iam.models import iam_backends
for acct in list(iam_backends.keys()):
    for part in iam_backends[acct].values():
        for u in part.users.values():
            for k in u.access_keys:
                k.access_key_id = token
                k.secret_access_key = secret
from moto.s3.models import s3_backends
for acct in list(s3_backends.keys()):
    for part in s3_backends[acct].values():
        if "iox" in part.buckets:
            b = part.buckets.pop("iox"); b.name = "io"; part.buckets["io"] = b
print(f"listening on {ep}", flush=True)
sys.stdin.read()
"#;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";

struct Moto(Child);
impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The venv `make deps` fills (`.tools/py`), else `python3` on PATH.
fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/py/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn start_moto() -> (Moto, String) {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", "import moto.server, boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "moto[server] and boto3 are not installed for {} (run `make deps`)",
        py.display()
    );
    let mut child = Command::new(&py)
        .args(["-c", SCRIPT, TOKEN, sign::GATEWAY_SECRET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let out = child.stdout.take().unwrap();
    let moto = Moto(child);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("moto did not start: {line:?}"))
        .to_string();
    (moto, url)
}

fn client(url: &str, token: &str) -> S3 {
    client_via(url, token, false, 2)
}

/// An S3 client through ureq, or the direct path (`direct`: sendfile bodies,
/// spliced downloads), making at most `attempts` attempts per request.
fn client_via(url: &str, token: &str, direct: bool, attempts: u32) -> S3 {
    let t = token.to_string();
    let server = crate::config::ServerUrl::parse(url).unwrap();
    let base = server.to_string();
    let transport = if direct {
        let target = conn::Target {
            base,
            addr: server.address(),
            tls: None,
        };
        Transport::direct(target, Vec::new())
    } else {
        Transport::Agent {
            agent: ureq::AgentBuilder::new().build(),
            base,
        }
    };
    let policy = crate::api::retry::Policy::new(attempts, std::time::Duration::from_millis(100));
    S3::with_transport(
        transport,
        &server,
        Arc::new(move || Ok(t.clone())),
        Arc::new(Retrier::new(policy)),
    )
}

#[test]
fn signatures_accepted_by_moto() {
    let (_moto, url) = start_moto();
    let s3 = client(&url, TOKEN);
    let dir = std::env::temp_dir().join(format!("cec-moto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("data");
    let big: Vec<u8> = (0..(5 * 1024 * 1024 + 300))
        .map(|i| (i % 253) as u8)
        .collect();
    std::fs::write(&p, &big).unwrap();
    let f = File::open(&p).unwrap();
    single_object(&s3, &f, &big);
    multipart(&s3, &f, &big);
    refusals(&s3, &url, &f);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Single PUT of a region, HEAD, full GET, ranged GET.
fn single_object(s3: &S3, f: &File, big: &[u8]) {
    let r = s3
        .put_object("personal-files/plain.txt", f, 100, 1000, None)
        .unwrap();
    assert_eq!(
        r.etag.trim_matches('"'),
        cells_hash::md5_hex(&big[100..1100])
    );
    let info = s3.head_object("personal-files/plain.txt").unwrap();
    assert_eq!(info.size, 1000);
    let mut out = Vec::new();
    let (_, n) = s3
        .get_object("personal-files/plain.txt", 0, None, &mut out, None)
        .unwrap();
    assert_eq!((n, &out[..]), (1000, &big[100..1100]));
    let mut tail = Vec::new();
    let (i2, n) = s3
        .get_object(
            "personal-files/plain.txt",
            900,
            Some(&info.etag),
            &mut tail,
            None,
        )
        .unwrap();
    assert_eq!((n, i2.size), (100, 1000));
    assert_eq!(&tail[..], &big[1000..1100]);
}

/// Create, two parts, list, complete, read back; abort.
fn multipart(s3: &S3, f: &File, big: &[u8]) {
    let key = "personal-files/dir/multi.bin";
    let id = s3.create_multipart(key).unwrap();
    let part1 = 5 * 1024 * 1024;
    let p1 = s3
        .upload_part(key, &id, 1, f, 0, part1, None, None)
        .unwrap();
    // A part hashed beforehand by the caller (as multipart uploads do).
    let len2 = big.len() as u64 - part1;
    let h2 = cells_hash::region::hash_regions(f, &[(part1, len2)])
        .unwrap()
        .pop();
    let p2 = s3
        .upload_part(key, &id, 2, f, part1, len2, h2, None)
        .unwrap();
    let listed = s3.list_parts(key, &id).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(same_etag(&listed[0].etag, &p1.etag));
    assert_eq!(listed[1].size, 300);
    s3.complete_multipart(key, &id, &[(2, p2.etag), (1, p1.etag)])
        .unwrap();
    let mut all = Vec::new();
    s3.get_object(key, 0, None, &mut all, None).unwrap();
    assert!(all == big, "multipart object differs");
    let id2 = s3.create_multipart("personal-files/aborted.bin").unwrap();
    s3.abort_multipart("personal-files/aborted.bin", &id2)
        .unwrap();
    let e = s3
        .list_parts("personal-files/aborted.bin", &id2)
        .unwrap_err();
    assert_eq!(e.exit, Exit::NotFound, "{}", e.message);
}

/// Missing key → not found; unknown access key or wrong secret → auth error.
fn refusals(s3: &S3, url: &str, f: &File) {
    let e = s3.head_object("personal-files/nope").unwrap_err();
    assert_eq!(e.exit, Exit::NotFound);
    let bad = client(url, "someone-else");
    let e = bad.head_object("personal-files/plain.txt").unwrap_err();
    assert_eq!(e.exit, Exit::Auth);
    let e = bad
        .put_object("personal-files/x", f, 0, 10, None)
        .unwrap_err();
    assert_eq!(e.exit, Exit::Auth, "{}", e.message);
    let mut wrong = client(url, TOKEN);
    wrong.secret = "not-the-secret".into();
    let e = wrong.head_object("personal-files/plain.txt").unwrap_err();
    assert_eq!(e.exit, Exit::Auth);
    let e = wrong
        .put_object("personal-files/plain.txt", f, 0, 10, None)
        .unwrap_err();
    assert_eq!(
        e.error_code(),
        Some("SignatureDoesNotMatch"),
        "{}",
        e.message
    );
}

const MIB: u64 = 1024 * 1024;

/// A local file of `len` bytes of a fixed pattern: (dir guard, open file, bytes).
fn data_file(name: &str, len: u64) -> (tempfile::TempDir, File, Vec<u8>) {
    let dir = tempfile::Builder::new()
        .prefix("cec-moto-")
        .tempdir()
        .unwrap();
    let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let p = dir.path().join(name);
    std::fs::write(&p, &bytes).unwrap();
    let f = File::open(&p).unwrap();
    (dir, f, bytes)
}

/// The whole object, read back through the plain ureq path.
fn read_back(s3: &S3, key: &str) -> Vec<u8> {
    let mut all = Vec::new();
    s3.get_object(key, 0, None, &mut all, None).unwrap();
    all
}

/// A TCP proxy in front of moto that cuts one connection once: the first one whose
/// response (or request) passes `cut_*` bytes is closed at that byte, both ways.
struct CutProxy {
    url: String,
    cut_response: Arc<AtomicU64>,
    cut_request: Arc<AtomicU64>,
    cuts: Arc<AtomicU64>,
}

impl CutProxy {
    fn start(upstream: &str) -> CutProxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let up = upstream.trim_start_matches("http://").to_string();
        let p = CutProxy {
            url,
            cut_response: Arc::new(AtomicU64::new(u64::MAX)),
            cut_request: Arc::new(AtomicU64::new(u64::MAX)),
            cuts: Arc::new(AtomicU64::new(0)),
        };
        let (res, req, cuts) = (
            p.cut_response.clone(),
            p.cut_request.clone(),
            p.cuts.clone(),
        );
        std::thread::spawn(move || {
            for c in l.incoming().map_while(|c| c.ok()) {
                let Ok(u) = TcpStream::connect(&up) else {
                    continue;
                };
                let (c2, u2) = (c.try_clone().unwrap(), u.try_clone().unwrap());
                let (req, res, k1, k2) = (req.clone(), res.clone(), cuts.clone(), cuts.clone());
                std::thread::spawn(move || pump(c, u, &req, &k1));
                std::thread::spawn(move || pump(u2, c2, &res, &k2));
            }
        });
        p
    }
}

/// Copy `from` → `to`; past the one-shot `limit`, cut both connections there.
fn pump(mut from: TcpStream, mut to: TcpStream, limit: &AtomicU64, cuts: &AtomicU64) {
    let mut n = 0u64;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let k = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => k,
        };
        let lim = limit.load(Ordering::SeqCst);
        if n + k as u64 > lim
            && limit
                .compare_exchange(lim, u64::MAX, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            let _ = to.write_all(&buf[..(lim - n) as usize]);
            cuts.fetch_add(1, Ordering::SeqCst);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        if to.write_all(&buf[..k]).is_err() {
            break;
        }
        n += k as u64;
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Single and multipart uploads, ranged and parallel downloads, through ureq and
/// through the direct path (sendfile bodies, spliced downloads).
#[test]
fn transfers_against_moto_both_http_paths() {
    let (_moto, url) = start_moto();
    let (_dir, f, big) = data_file("data", 11 * MIB + 12345);
    for direct in [false, true] {
        let s3 = client_via(&url, TOKEN, direct, 2);
        let key = format!("personal-files/single-{direct}.bin");
        let r = s3.put_object(&key, &f, 0, 3 * MIB, None).unwrap();
        assert_eq!(
            r.etag.trim_matches('"'),
            cells_hash::md5_hex(&big[..3 * MIB as usize])
        );
        assert!(
            read_back(&s3, &key) == big[..3 * MIB as usize],
            "direct={direct}"
        );

        // Multipart in three parts (moto enforces the 5 MiB minimum but for the last).
        let key = format!("personal-files/multi-{direct}.bin");
        let id = s3.create_multipart(&key).unwrap();
        let cuts = [0, 5 * MIB, 10 * MIB, big.len() as u64];
        let mut etags = Vec::new();
        for (i, w) in cuts.windows(2).enumerate() {
            let p = s3
                .upload_part(&key, &id, i as u32 + 1, &f, w[0], w[1] - w[0], None, None)
                .unwrap();
            etags.push((i as u32 + 1, p.etag));
        }
        s3.complete_multipart(&key, &id, &etags).unwrap();
        let info = s3.head_object(&key).unwrap();
        assert_eq!(info.size, big.len() as u64);

        // Parallel ranged download into one file, segments out of order.
        let out_path = &_dir.path().join(format!("down-{direct}"));
        let out = File::create(out_path).unwrap();
        out.set_len(info.size).unwrap();
        let seg = 2 * MIB + 7;
        let starts: Vec<u64> = (0..info.size).step_by(seg as usize).collect();
        std::thread::scope(|sc| {
            for &a in starts.iter().rev() {
                let (s3, out, etag, key) = (&s3, &out, info.etag.as_str(), key.as_str());
                sc.spawn(move || {
                    let b = (a + seg).min(info.size);
                    let (_, n) = s3
                        .get_range(
                            key,
                            a,
                            Some(b),
                            Some(etag),
                            Sink::File {
                                file: out,
                                path: out_path,
                            },
                            None,
                        )
                        .unwrap();
                    assert_eq!(n, b - a);
                });
            }
        });
        assert!(std::fs::read(out_path).unwrap() == big, "direct={direct}");

        // A range in the middle, into a writer.
        let mut mid = Vec::new();
        let (_, n) = s3
            .get_range(
                &key,
                5 * MIB - 10,
                Some(5 * MIB + 10),
                None,
                Sink::Writer(&mut mid),
                None,
            )
            .unwrap();
        assert_eq!(n, 20);
        assert_eq!(
            &mid[..],
            &big[(5 * MIB - 10) as usize..(5 * MIB + 10) as usize]
        );
    }
}

/// A download whose connection is cut mid-body resumes with a Range request
/// (If-Match on the ETag) and yields the whole object.
#[test]
fn download_resumes_after_a_cut_connection() {
    let (_moto, url) = start_moto();
    let (dir, f, big) = data_file("data", 6 * MIB + 99);
    let key = "personal-files/cut-download.bin";
    client(&url, TOKEN)
        .put_object(key, &f, 0, big.len() as u64, None)
        .unwrap();
    let proxy = CutProxy::start(&url);
    for direct in [false, true] {
        let s3 = client_via(&proxy.url, TOKEN, direct, 2);
        let before = proxy.cuts.load(Ordering::SeqCst);
        proxy.cut_response.store(MIB + 333, Ordering::SeqCst);
        let out_path = dir.path().join(format!("down-{direct}"));
        let out = File::create(&out_path).unwrap();
        let (info, n) = s3
            .get_range(
                key,
                0,
                None,
                None,
                Sink::File {
                    file: &out,
                    path: &out_path,
                },
                None,
            )
            .unwrap();
        assert_eq!((n, info.size), (big.len() as u64, big.len() as u64));
        assert_eq!(proxy.cuts.load(Ordering::SeqCst), before + 1, "no cut");
        assert!(s3.retries() >= 1, "direct={direct}: not resumed");
        assert!(std::fs::read(&out_path).unwrap() == big, "direct={direct}");
    }
}

/// An upload interrupted mid-part: the part is retried (re-signed, re-read) when the
/// policy allows; when the process gives up, a later one lists the parts moto kept,
/// uploads only the missing ones and completes the object.
#[test]
fn multipart_upload_resumes_after_an_interruption() {
    let (_moto, url) = start_moto();
    let proxy = CutProxy::start(&url);
    let (_dir, f, big) = data_file("data", 10 * MIB + 4321);
    let key = "personal-files/cut-upload.bin";
    let parts = [(1u32, 0, 5 * MIB), (2, 5 * MIB, big.len() as u64 - 5 * MIB)];

    // First process: part 1 goes through a cut and a retry; part 2 is cut with no retry left.
    let first = client_via(&proxy.url, TOKEN, true, 2);
    let id = first.create_multipart(key).unwrap();
    proxy.cut_request.store(2 * MIB, Ordering::SeqCst);
    let p1 = first
        .upload_part(key, &id, 1, &f, parts[0].1, parts[0].2, None, None)
        .unwrap();
    assert_eq!(proxy.cuts.load(Ordering::SeqCst), 1);
    assert!(first.retries() >= 1);
    // The same process, its retries spent: one attempt left.
    let first = client_via(&proxy.url, TOKEN, true, 1);
    proxy.cut_request.store(MIB, Ordering::SeqCst);
    first
        .upload_part(key, &id, 2, &f, parts[1].1, parts[1].2, None, None)
        .unwrap_err();
    assert_eq!(proxy.cuts.load(Ordering::SeqCst), 2);
    drop(first);

    // The resumed process: moto kept part 1 only, whole and with its ETag.
    let s3 = client(&url, TOKEN);
    let listed = s3.list_parts(key, &id).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].number, listed[0].size), (1, 5 * MIB));
    assert!(same_etag(&listed[0].etag, &p1.etag));
    assert!(same_etag(
        &listed[0].etag,
        &cells_hash::md5_hex(&big[..5 * MIB as usize])
    ));
    let p2 = s3
        .upload_part(key, &id, 2, &f, parts[1].1, parts[1].2, None, None)
        .unwrap();
    s3.complete_multipart(key, &id, &[(1, listed[0].etag.clone()), (2, p2.etag)])
        .unwrap();
    assert!(read_back(&s3, key) == big, "resumed object differs");
}
