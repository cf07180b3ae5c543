//! Interrupted transfers (SIGKILL, Ctrl-C) resumed by running the same
//! command again: multipart uploads keep their upload id and finished parts,
//! downloads continue their partial file, trees skip completed files.

use crate::common::Server;
use crate::scp_common::*;
use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

fn spawn(c: &crate::common::Cec) -> Child {
    c.command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "cec did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn parts_done(home: &std::path::Path) -> usize {
    journals(home, "upload")
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|v| v["parts"].as_object().map_or(0, |m| m.len()))
        .max()
        .unwrap_or(0)
}

crate::over_http_and_tls!(killed_multipart_upload_resumes_from_its_finished_parts_on: killed_multipart_upload_resumes_from_its_finished_parts, killed_multipart_upload_resumes_over_tls);

fn killed_multipart_upload_resumes_from_its_finished_parts_on(net: Net) {
    let s = net.start(&["--latency-ms", "300"]);
    let tmp = tmpdir();
    let f = tmp.path().join("resume.bin");
    let content = data(60 * MIB + 5, 11);
    fs::write(&f, &content).unwrap();
    let mut c = cec(&s, "admin");
    let args = [
        "scp",
        "--multipart-threshold",
        "10",
        "--part-size",
        "10",
        "--parts-concurrency",
        "1",
        f.to_str().unwrap(),
        "cells://common-files/",
    ];
    c.args(args);
    let mut child = spawn(&c);
    let home = c.home().to_path_buf();
    let start = Instant::now();
    while parts_done(&home) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no parts uploaded"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("cec ended before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    wait_exit(&mut child, 10);
    let done_before = parts_done(&home);
    assert!((2..7).contains(&done_before));
    assert!(!s.root.join("data/common/resume.bin").exists());

    // Same command again (same HOME): continues.
    // `command()` left the args in place: add -v and run the same command again.
    let out = c.arg("-v").run();
    out.assert_ok();
    let line = out
        .stderr_lines()
        .into_iter()
        .find(|l| l.contains("parts already on the server"))
        .unwrap_or_else(|| panic!("no resume message:\n{out}"))
        .to_string();
    let already: usize = line
        .split(": ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(already >= 2, "{line}");
    assert!(fs::read(s.root.join("data/common/resume.bin")).unwrap() == content);
    assert_eq!(
        remote_hash(&s, "common-files/resume.bin").unwrap(),
        cells_hash(&content)
    );
    assert!(journals(&home, "upload").is_empty(), "journal left behind");
}

/// Restart the server stopped and slow (4 MiB per response body, 300 ms per
/// request) on the same root; returns it and a new download folder in `tmp`.
fn restart_slow(net: Net, s: &Server, tmp: &std::path::Path) -> (Server, std::path::PathBuf) {
    s.kill();
    let ds = net.serve_on(
        &s.root,
        &["--latency-ms", "300", "--drop-after-bytes", "4194304"],
    );
    let dl = tmp.join("dl");
    fs::create_dir(&dl).unwrap();
    (ds, dl)
}

/// Wait (at most 120 s, `cec` still running) until `ready()`, then SIGKILL `cec`.
fn kill_once(child: &mut Child, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(120), "{what}");
        assert!(child.try_wait().unwrap().is_none(), "cec ended too early");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    wait_exit(child, 10);
}

crate::over_http_and_tls!(killed_download_resumes_from_the_partial_file_on: killed_download_resumes_from_the_partial_file, killed_download_resumes_from_the_partial_file_over_tls);

fn killed_download_resumes_from_the_partial_file_on(net: Net) {
    let s = net.start(&[]);
    let content = data(40 * MIB + 3, 12);
    let tmp = upload_new(&s, "down.bin", &content, &["--multipart-threshold", "10"]);
    let (ds, dl) = restart_slow(net, &s, tmp.path());
    let mut c = cec(&ds, "admin");
    let args = [
        "scp",
        "--retry-max-attempts",
        "5",
        "cells://common-files/down.bin",
        dl.to_str().unwrap(),
    ];
    c.args(args);
    let mut child = spawn(&c);
    let partial = dl.join(".down.bin.cec-partial");
    kill_once(&mut child, "download did not start", || {
        fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) >= 12 * MIB as u64
    });
    assert!(!dl.join("down.bin").exists(), "incomplete file in place");

    // `command()` left the args in place: add -v and run the same command again.
    let out = c.arg("-v").run();
    out.assert_ok();
    assert!(out.stderr.contains("Resuming the download"), "{out}");
    assert!(fs::read(dl.join("down.bin")).unwrap() == content);
    assert!(!partial.exists());
    assert!(journals(c.home(), "download").is_empty());
}

crate::over_http_and_tls!(interrupted_tree_upload_continues_without_force_on: interrupted_tree_upload_continues_without_force, interrupted_tree_upload_continues_without_force_over_tls);

fn interrupted_tree_upload_continues_without_force_on(net: Net) {
    let s = net.start(&["--latency-ms", "100"]);
    let tmp = tmpdir();
    let src = tmp.path().join("ctree");
    fs::create_dir_all(src.join("d")).unwrap();
    for i in 0..40 {
        fs::write(src.join(format!("d/f{i:02}.txt")), data(2000 + i, i as u64)).unwrap();
    }
    let mut c = cec(&s, "admin");
    let args = [
        "scp",
        "--files-concurrency",
        "1",
        src.to_str().unwrap(),
        "cells://common-files/",
    ];
    c.args(args);
    let mut child = spawn(&c);
    wait_for("some uploads", || {
        fs::read_dir(s.root.join("data/common/ctree/d"))
            .map(|d| d.count() >= 8)
            .unwrap_or(false)
    });
    // Ctrl-C: a clean stop, then death by SIGINT (130 for a shell).
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let st = wait_exit(&mut child, 30);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&st),
        Some(libc::SIGINT)
    );

    // `command()` left the args in place: run the same command again.
    let out = c.run();
    out.assert_ok();
    assert!(out.stderr.contains("already identical"), "{out}");
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&s.root.join("data/common/ctree"));
    assert_eq!(got, want);
    // Completed: the same command is a conflict again.
    c.arg("scp").args(&args[1..]).run().assert_code(5);
}

crate::over_http_and_tls!(killed_parallel_download_resumes_its_missing_segments_on: killed_parallel_download_resumes_its_missing_segments, killed_parallel_download_resumes_over_tls);

fn killed_parallel_download_resumes_its_missing_segments_on(net: Net) {
    let s = net.start(&[]);
    let content = data(70 * MIB + 9, 13);
    let tmp = upload_new(&s, "seg.bin", &content, &["--multipart-threshold", "10"]);
    let (ds, dl) = restart_slow(net, &s, tmp.path());
    let mut c = cec(&ds, "admin");
    // 20 MiB segments: 4 ranges, fetched 2 at a time.
    let args = [
        "scp",
        "--part-size",
        "20",
        "--parts-concurrency",
        "2",
        "--retry-max-attempts",
        "5",
        "cells://common-files/seg.bin",
        dl.to_str().unwrap(),
    ];
    c.args(args);
    let mut child = spawn(&c);
    let home = c.home().to_path_buf();
    let done = |home: &std::path::Path| {
        journals(home, "download")
            .iter()
            .filter_map(|p| fs::read(p).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| v["done"].as_object().map_or(0, |m| m.len()))
            .max()
            .unwrap_or(0)
    };
    kill_once(&mut child, "no segment finished", || done(&home) >= 1);
    assert!(done(&home) < 4);
    assert!(!dl.join("seg.bin").exists(), "incomplete file in place");

    let out = c.arg("-v").run();
    out.assert_ok();
    assert!(out.stderr.contains("segments already here"), "{out}");
    assert!(fs::read(dl.join("seg.bin")).unwrap() == content);
    assert!(!dl.join(".seg.bin.cec-partial").exists());
    assert!(journals(c.home(), "download").is_empty());
}
