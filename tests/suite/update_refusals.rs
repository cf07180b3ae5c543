//! `cec update` refusals, end to end: each one is one clear line, the right exit code, the
//! binary untouched, nothing left beside it and no backup made.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use crate::hostile::{Hostile, Reply};
use crate::update_common::*;
use serde_json::json;

/// Offer version 4.3.2: `signed` is what the dev server signs (its checksum and signature
/// go in the listing), `extra` overrides manifest fields.
fn offer_with(rig: &Rig, signed: &[u8], extra: serde_json::Value) {
    rig.publish("cec-4.3.2", signed);
    let mut entry = json!({"Version": "4.3.2", "File": "cec-4.3.2"});
    for (k, v) in extra.as_object().unwrap() {
        entry[k] = v.clone();
    }
    rig.manifest(json!({"binaries": [entry]}));
}

fn install(rig: &mut Rig) -> crate::common::Out {
    rig.run(&["update", "--version", "4.3.2"])
}

#[test]
fn a_tampered_binary_is_refused() {
    let mut rig = Rig::new();
    rig.publish("tampered", &script("6.6.6"));
    let url = format!("{}/update-binaries/tampered", rig.server.url);
    offer_with(&rig, &script("4.3.2"), json!({"BinaryURL": url}));
    let out = install(&mut rig);
    assert_refused(
        &out,
        1,
        "cec 4.3.2 refused: its SHA-256 checksum does not match",
    );
    out.assert_stderr_contains("nothing replaced");
    rig.assert_untouched(&out);
}

#[test]
fn a_listing_rewritten_for_a_tampered_binary_fails_the_signature() {
    // Whoever changes the binary can change the checksum in the listing, not sign.
    let mut rig = Rig::new();
    let evil = String::from_utf8(script("4.3.2"))
        .unwrap()
        .replace("Cells", "Evil!");
    let evil = evil.into_bytes();
    assert_eq!(
        evil.len(),
        script("4.3.2").len(),
        "same size: only the bytes differ"
    );
    rig.publish("evil", &evil);
    let url = format!("{}/update-binaries/evil", rig.server.url);
    offer_with(
        &rig,
        &script("4.3.2"),
        json!({"BinaryURL": url, "BinaryChecksum": sha256_b64(&evil)}),
    );
    let out = install(&mut rig);
    assert_refused(&out, 1, "its signature does not verify with the update key");
    rig.assert_untouched(&out);
}

#[test]
fn bad_or_missing_signatures_and_checksums_are_refused() {
    let mut rig = Rig::new();
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
    let cases = [
        (
            json!({"BinarySignature": b64(&[7u8; 256])}),
            "signature does not verify",
        ),
        (
            json!({"BinarySignature": ""}),
            "the update server gave no signature",
        ),
        (
            json!({"BinaryChecksum": ""}),
            "the update server gave no checksum",
        ),
        (
            json!({"BinarySignature": "@@not base64@@"}),
            "signature is not valid base64",
        ),
        (
            json!({"BinaryChecksum": b64(b"short")}),
            "checksum is not a SHA-256",
        ),
        (
            json!({"BinaryChecksum": sha256_b64(b"other")}),
            "checksum does not match",
        ),
    ];
    for (extra, what) in cases {
        offer_with(&rig, &script("4.3.2"), extra);
        let out = install(&mut rig);
        assert_refused(&out, 1, what);
        rig.assert_untouched(&out);
    }
}

/// How a hostile server answers a download of these bytes.
type BinaryReply = fn(Vec<u8>) -> Reply;

/// A binary server that answers every GET with `reply(bytes)`.
fn binary_server(bytes: Vec<u8>, reply: BinaryReply) -> Hostile {
    Hostile::start(move |_| reply(bytes.clone()))
}

#[test]
fn truncated_oversized_and_mislabelled_downloads_are_refused() {
    let mut rig = Rig::new();
    let good = script("4.3.2");
    let cases: [(BinaryReply, &str); 4] = [
        // Announces the full length, sends half, closes.
        (
            |b| {
                let mut r =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes();
                r.extend_from_slice(&b[..b.len() / 2]);
                Reply::Raw(r)
            },
            "is truncated: the connection closed after",
        ),
        // No length, more bytes than the listing announced.
        (
            |b| {
                let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                r.extend_from_slice(&b);
                r.extend_from_slice(b"# and more\n");
                Reply::Raw(r)
            },
            "is larger than the",
        ),
        // A Content-Length that is not the listing's size.
        (
            |b| Reply::Full(200, Vec::new(), [&b[..], b"#\n"].concat()),
            "bytes, the update server announced",
        ),
        (
            |_| Reply::not_found(),
            "cannot download cec 4.3.2: the server answered 404",
        ),
    ];
    for (reply, what) in cases {
        let srv = binary_server(good.clone(), reply);
        offer_with(
            &rig,
            &good,
            json!({"BinaryURL": format!("{}/cec", srv.url)}),
        );
        let out = install(&mut rig);
        assert_refused(&out, 1, what);
        rig.assert_untouched(&out);
    }
}

#[test]
fn a_binary_that_does_not_start_is_refused() {
    let mut rig = Rig::new();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let cases = [
        (failing_script(), "the new binary does not start"),
        (garbage, "the new binary does not start"),
        (
            script("9.9.9"),
            "the new binary does not say it is version 4.3.2",
        ),
    ];
    for (bin, what) in cases {
        rig.offer("4.3.2", &bin);
        let out = install(&mut rig);
        assert_refused(&out, 1, what);
        rig.assert_untouched(&out);
    }
}

#[test]
fn unknown_and_non_semver_versions_are_refused() {
    let mut rig = Rig::new();
    rig.offer("4.3.2", &script("4.3.2"));
    let out = rig.run(&["update", "--version", "4.3.3"]);
    assert_refused(
        &out,
        4,
        "version 4.3.3 is not offered in the stable channel (available: 4.3.2)",
    );
    rig.assert_untouched(&out);
    // Checked before any request: the server is unreachable, the answer is still a usage error.
    rig.cec.env(
        "CEC_UPDATE_URL",
        format!("http://127.0.0.1:{}", crate::common::free_port()),
    );
    for v in ["v4.3.2", "4.3", "latest", "4.3.2.1"] {
        let out = rig.run(&["update", "--version", v]);
        assert_refused(&out, 2, "is not a semantic version");
        rig.assert_untouched(&out);
    }
}

#[test]
fn a_server_error_shows_its_title() {
    let mut rig = Rig::new();
    rig.manifest(json!({"binaries": [], "fail": "Maintenance window until 14:00"}));
    for args in [&["update"][..], &["update", "--version", "4.3.2"]] {
        let out = rig.run(args);
        assert_refused(
            &out,
            1,
            "the update server answered 500: Maintenance window until 14:00",
        );
        rig.assert_untouched(&out);
    }
    // Its text cannot drive the terminal.
    rig.manifest(json!({"binaries": [], "fail": "\u{1b}[2Jgone"}));
    let out = rig.run(&["update"]);
    assert_refused(&out, 1, "answered 500: \\x1b[2Jgone");
    assert!(!out.stderr.contains('\u{1b}'), "{out}");
}

type ListingReply = fn() -> Reply;

#[test]
fn broken_listings_are_refused_with_bounded_memory() {
    let mut rig = Rig::new();
    let cases: [(ListingReply, &str); 3] = [
        (
            || Reply::Full(200, Vec::new(), b"<html>not json</html>".to_vec()),
            "unreadable listing",
        ),
        (
            || Reply::json(200, json!({"AvailableBinaries": "nope"})),
            "AvailableBinaries is not a list",
        ),
        // An endless answer: cut at 1 MiB.
        (
            || {
                Reply::Custom(Box::new(|s| {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[");
                    let chunk = vec![b' '; 64 * 1024];
                    while s.write_all(&chunk).is_ok() {}
                }))
            },
            "larger than 1 MiB",
        ),
    ];
    for (reply, what) in cases {
        let srv = Hostile::start(move |_| reply());
        rig.cec.env("CEC_UPDATE_URL", &srv.url);
        let out = rig.run(&["update"]);
        assert_refused(&out, 1, what);
        rig.assert_untouched(&out);
    }
}

#[test]
fn a_folder_that_is_not_writable_is_refused_before_any_request() {
    let mut rig = Rig::new();
    let srv = Hostile::start(|_| Reply::status(500));
    rig.cec.env("CEC_UPDATE_URL", &srv.url);
    let bin = rig.exe.parent().unwrap().to_path_buf();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions: run as nobody then.
    if unsafe { libc::geteuid() } == 0 {
        rig.cec.wrapper(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]);
    }
    let out = rig.run(&["update", "--version", "4.3.2"]);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_refused(
        &out,
        3,
        "installed by root or a package manager: run with sudo or download it yourself",
    );
    out.assert_stderr_contains(&bin.display().to_string());
    rig.assert_untouched(&out);
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
}

#[test]
fn a_full_disk_is_refused() {
    let mut rig = Rig::new();
    // 4 MiB to download into a file system with about 512 KiB free.
    let big: Vec<u8> = (0..4u32 << 20).map(|i| (i % 253) as u8).collect();
    rig.offer("4.3.2", &big);
    let small = rig.dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let size_k = std::fs::metadata(crate::common::cec_bin()).unwrap().len() / 1024 + 512;
    // A private mount namespace: the tmpfs disappears with the process.
    let script = format!(
        r#"d='{}'; orig=$1; shift
mount -t tmpfs -o size={size_k}k tmpfs "$d" || exit 99
cp "$orig" "$d/cec" || exit 98
"$d/cec" "$@"; rc=$?
echo "entries:" $(ls -A "$d")
cmp -s "$orig" "$d/cec" && echo "binary unchanged"
exit $rc"#,
        small.display()
    );
    rig.cec
        .wrapper(&["unshare", "-rm", "sh", "-c", &script, "full-disk"]);
    let out = rig.run(&["update", "--version", "4.3.2"]);
    assert_refused(&out, 1, "not enough space in");
    out.assert_stderr_contains("free some space");
    out.assert_stdout_contains("entries: cec\n");
    out.assert_stdout_contains("binary unchanged");
    assert!(rig.backups().is_empty(), "{out}");
}

#[test]
fn ctrl_c_during_the_download_leaves_nothing_behind() {
    let mut rig = Rig::new();
    let good = script("4.3.2");
    // Sends the headers and a few bytes, then holds the connection open.
    let srv = Hostile::start(|_| {
        Reply::Custom(Box::new(|s| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n#!/bin/sh\n");
            let _ = s.read(&mut [0u8; 16]);
        }))
    });
    rig.publish("cec-4.3.2", &good);
    let mut padded = good.clone();
    padded.resize(60, b'\n');
    rig.publish("cec-4.3.2", &padded);
    rig.manifest(
        json!({"binaries": [{"Version": "4.3.2", "File": "cec-4.3.2",
        "BinaryURL": format!("{}/cec", srv.url)}]}),
    );
    let mut cmd = rig.cec.args(["update", "--version", "4.3.2"]).command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The download has started once the temporary file beside the binary has bytes.
    let bin = rig.exe.parent().unwrap().to_path_buf();
    crate::common::wait_until(Duration::from_secs(30), "the partial download", || {
        std::fs::read_dir(&bin)
            .unwrap()
            .flatten()
            .any(|e| e.file_name() != "cec" && e.metadata().map(|m| m.len() > 0).unwrap_or(false))
            .then_some(())
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // Cleaned up, then ended by the Ctrl-C itself (a shell shows 130).
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{err}");
    assert_eq!(rig.bin_entries(), ["cec"], "{err}");
    assert!(crate::common::cec_bin().exists());
    assert!(crate::update_common::same_file(
        &rig.exe,
        &crate::common::cec_bin()
    ));
    assert!(rig.backups().is_empty());
}
