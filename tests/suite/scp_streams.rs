//! Streams: `cec scp - cells://…` (standard input, size unknown), `cec scp
//! cells://… -` and `cec cat` (standard output, checked at the end), and their
//! failures midway.

use crate::common::Server;
use crate::scp_common::*;
use crate::sync_common::*;
use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// Run `cec ARGS` with stdout kept as bytes: (exit code, stdout, stderr).
fn run_bytes(c: &mut crate::common::Cec, args: &[&str]) -> (i32, Vec<u8>, String) {
    c.args(args);
    let o = c.command().output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        o.stdout,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn stdin_upload(s: &Server, stdin: &[u8], args: &[&str]) -> crate::common::Out {
    let mut c = cec(s, "admin");
    c.arg("scp").args(args).stdin(stdin).run()
}

crate::over_http_and_tls!(small_stdin_goes_in_one_put_on: small_stdin_goes_in_one_put, small_stdin_goes_in_one_put_over_tls);

fn small_stdin_goes_in_one_put_on(net: Net) {
    let s = net.start(&[]);
    let before = requests(&s);
    stdin_upload(
        &s,
        b"hello from a pipe\n",
        &["-", "cells://common-files/pipe.txt"],
    )
    .assert_ok()
    .assert_stderr_contains("Uploaded standard input to cells://common-files/pipe.txt");
    assert_eq!(
        fs::read(server_file(&s, "pipe.txt")).unwrap(),
        b"hello from a pipe\n"
    );
    let asked = delta(&before, &requests(&s));
    assert_eq!(asked.get("PUT /io"), Some(&1), "{asked:?}");
    assert!(!asked.keys().any(|k| k.contains("uploads")), "{asked:?}");
    // An existing file needs --force; a folder is refused.
    stdin_upload(&s, b"again", &["-", "cells://common-files/pipe.txt"]).assert_code(5);
    stdin_upload(&s, b"again", &["-f", "-", "cells://common-files/pipe.txt"]).assert_ok();
    assert_eq!(fs::read(server_file(&s, "pipe.txt")).unwrap(), b"again");
    stdin_upload(&s, b"x", &["-", "cells://common-files/"]).assert_code(2);
    // Empty input is an empty file.
    stdin_upload(&s, b"", &["-", "cells://common-files/empty.txt"]).assert_ok();
    assert_eq!(fs::metadata(server_file(&s, "empty.txt")).unwrap().len(), 0);
}

crate::over_http_and_tls!(large_stdin_goes_in_parts_and_is_verified_on: large_stdin_goes_in_parts_and_is_verified, large_stdin_goes_in_parts_and_is_verified_over_tls);

fn large_stdin_goes_in_parts_and_is_verified_on(net: Net) {
    let s = net.start(&[]);
    let content = data(35 * MIB + 17, 3);
    let before = requests(&s);
    let args = [
        "--multipart-threshold",
        "10",
        "--part-size",
        "10",
        "-p",
        "-",
        "cells://common-files/new/dir/big.bin",
    ];
    stdin_upload(&s, &content, &args).assert_ok();
    let asked = delta(&before, &requests(&s));
    assert_eq!(asked.get("POST /io?uploads"), Some(&1), "{asked:?}");
    assert_eq!(asked.get("PUT /io?partNumber"), Some(&4), "{asked:?}");
    assert_eq!(
        fs::read(server_file(&s, "new/dir/big.bin")).unwrap(),
        content
    );
    assert_eq!(
        remote_hash(&s, "common-files/new/dir/big.bin").unwrap(),
        cells_hash(&content)
    );
}

crate::over_http_and_tls!(a_cut_connection_stores_nothing_on: a_cut_connection_stores_nothing, a_cut_connection_stores_nothing_over_tls);

fn a_cut_connection_stores_nothing_on(net: Net) {
    let s = net.start(&["--drop-after-bytes", "4000000"]);
    let before = requests(&s);
    let out = stdin_upload(
        &s,
        &data(25 * MIB, 4),
        &[
            "--multipart-threshold",
            "10",
            "--part-size",
            "10",
            "--retry-max-attempts",
            "1",
            "-",
            "cells://common-files/cut.bin",
        ],
    );
    assert!(!out.ok());
    out.assert_stderr_contains("nothing was stored");
    assert!(!server_file(&s, "cut.bin").exists());
    let asked = delta(&before, &requests(&s));
    assert_eq!(asked.get("DELETE /io?uploadId"), Some(&1), "{asked:?}");
    // Below the threshold: one PUT, cut, nothing stored either.
    let out = stdin_upload(
        &s,
        &data(5 * MIB, 4),
        &[
            "--retry-max-attempts",
            "1",
            "-",
            "cells://common-files/cut2.bin",
        ],
    );
    assert!(!out.ok());
    assert!(!server_file(&s, "cut2.bin").exists());
}

crate::over_http_and_tls!(ctrl_c_during_a_stream_upload_aborts_it_on: ctrl_c_during_a_stream_upload_aborts_it, ctrl_c_during_a_stream_upload_aborts_it_over_tls);

fn ctrl_c_during_a_stream_upload_aborts_it_on(net: Net) {
    let s = net.start(&[]);
    let mut c = cec(&s, "admin");
    c.args([
        "scp",
        "--multipart-threshold",
        "10",
        "--part-size",
        "10",
        "-",
        "cells://common-files/stopped.bin",
    ]);
    let mut child = c
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&data(12 * MIB, 8)).unwrap();
    // The multipart upload has started: stop it while standard input is still open.
    wait_for("the multipart upload", || {
        requests(&s).contains_key("POST /io?uploads")
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    drop(stdin);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "cec did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.signal() == Some(libc::SIGINT) || status.code() == Some(130),
        "{status:?}"
    );
    assert!(!server_file(&s, "stopped.bin").exists());
    assert_eq!(requests(&s).get("DELETE /io?uploadId"), Some(&1));
}

crate::over_http_and_tls!(stdout_gets_the_file_and_no_file_named_dash_is_made_on: stdout_gets_the_file_and_no_file_named_dash_is_made, stdout_gets_the_file_and_no_file_named_dash_is_made_over_tls);

fn stdout_gets_the_file_and_no_file_named_dash_is_made_on(net: Net) {
    let s = net.shared();
    let content = data(3 * MIB + 5, 6);
    let tmp = upload_new(s, "to-stdout.bin", &content, &[]);
    let mut c = cec(s, "admin");
    c.current_dir(tmp.path());
    let (code, out, err) = run_bytes(&mut c, &["scp", "cells://common-files/to-stdout.bin", "-"]);
    assert_eq!(code, 0, "{err}");
    assert!(out == content, "stdout differs");
    assert!(
        !tmp.path().join("-").exists(),
        "a file named '-' was created"
    );
    let (code, out, err) = run_bytes(&mut cec(s, "admin"), &["cat", "common-files/to-stdout.bin"]);
    assert_eq!(code, 0, "{err}");
    assert!(out == content, "stdout differs");
    cec(s, "admin")
        .args(["cat", "common-files/no-such-file"])
        .run()
        .assert_code(4);
    cec(s, "admin")
        .args(["cat", "common-files"])
        .run()
        .assert_code(2);
}

crate::over_http_and_tls!(a_cut_download_to_stdout_fails_and_says_so_on: a_cut_download_to_stdout_fails_and_says_so, a_cut_download_to_stdout_fails_and_says_so_over_tls);

fn a_cut_download_to_stdout_fails_and_says_so_on(net: Net) {
    let s = net.start(&[]);
    let content = data(3 * MIB, 7);
    let _tmp = upload_new(&s, "cut-out.bin", &content, &[]);
    s.kill();
    let ds = net.serve_on(&s.root, &["--drop-after-bytes", "1000000"]);
    let args = [
        "scp",
        "--retry-max-attempts",
        "1",
        "cells://common-files/cut-out.bin",
        "-",
    ];
    let (code, out, err) = run_bytes(&mut cec(&ds, "admin"), &args);
    assert_ne!(code, 0);
    assert!(err.contains("the output is incomplete"), "{err}");
    assert!(out.len() < content.len());
}

crate::over_http_and_tls!(a_content_mismatch_fails_after_the_output_on: a_content_mismatch_fails_after_the_output, a_content_mismatch_fails_after_the_output_over_tls);

fn a_content_mismatch_fails_after_the_output_on(net: Net) {
    let s = net.start(&[]);
    let content = data(2 * MIB, 9);
    let _tmp = upload_new(&s, "changed.bin", &content, &[]);
    // Change the bytes behind the server's back, keeping size and time: the
    // server still lists the old hash.
    let f = server_file(&s, "changed.bin");
    let mtime = fs::metadata(&f).unwrap().modified().unwrap();
    let mut bad = content.clone();
    bad[MIB] ^= 0xff;
    fs::write(&f, &bad).unwrap();
    fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (code, out, err) = run_bytes(&mut cec(&s, "admin"), &["cat", "common-files/changed.bin"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not match the server's hash"), "{err}");
    assert!(err.contains("not trustworthy"), "{err}");
    assert_eq!(out.len(), content.len());
}
