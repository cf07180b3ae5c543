//! The S3 client against an independent S3 implementation: moto's server
//! (PyPI), which re-computes every SigV4 signature with botocore and rejects
//! a mismatch. Skipped (with a note) when python3 + moto are not installed.
//!
//! moto cannot check keys that need percent-encoding (it rebuilds the
//! canonical request from the decoded path), so keys here are plain; the
//! encoding is covered by the published vectors and by the devserver's s3s.

use super::*;
use crate::api::retry::Retrier;
use crate::error::Exit;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

fn start_moto() -> Option<(Moto, String)> {
    let ok = Command::new("python3")
        .args(["-c", "import moto.server, boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: python3 with moto[server] and boto3 not available, moto test skipped");
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, TOKEN, sign::GATEWAY_SECRET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).ok()?;
    let url = line.trim().strip_prefix("listening on ")?.to_string();
    Some((Moto(child), url))
}

fn client(url: &str, token: &str) -> S3 {
    let t = token.to_string();
    let server = crate::config::ServerUrl::parse(url).unwrap();
    let transport = Transport::Agent {
        agent: ureq::AgentBuilder::new().build(),
        base: server.to_string(),
    };
    let policy = crate::api::retry::Policy::new(2, std::time::Duration::from_millis(100));
    S3::with_transport(
        transport,
        &server,
        Arc::new(move || Ok(t.clone())),
        Arc::new(Retrier::new(policy)),
    )
}

#[test]
fn signatures_accepted_by_moto() {
    let Some((_moto, url)) = start_moto() else {
        return;
    };
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
