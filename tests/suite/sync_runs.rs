//! `cec sync` as cron runs it: the lock per destination, an interrupted run
//! resumed, failed items (exit 6, listed, nothing deleted), --bwlimit.

use crate::common::Server;
use crate::scp_common::*;
use crate::sync_common::*;
use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

fn spawn_sync(s: &Server, state: &Path, args: &[&str]) -> Child {
    let mut c = cec(s, "admin");
    c.env("CEC_STATE_DIR", state).arg("sync").args(args);
    c.command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_exit(child: &mut Child) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "cec did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Files of the state directory whose names start with `prefix`.
fn state_files(state: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    fs::read_dir(state)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}

crate::over_http_and_tls!(a_second_run_for_the_same_target_stops_at_once_on: a_second_run_for_the_same_target_stops_at_once, a_second_run_for_the_same_target_stops_at_once_over_tls);

fn a_second_run_for_the_same_target_stops_at_once_on(net: Net) {
    let s = net.start(&["--latency-ms", "150"]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 2, 10);
    let src_s = src.to_str().unwrap();
    let args = [
        "-p",
        "--files-concurrency",
        "1",
        src_s,
        "cells://common-files/lock",
    ];
    let mut first = spawn_sync(&s, &state, &args);
    // The running sync holds the lock and wrote its pid in it.
    let pid = first.id().to_string();
    wait_for("the lock of the first run", || {
        state_files(&state, "sync-")
            .iter()
            .any(|p| fs::read_to_string(p).unwrap_or_default() == pid)
    });
    let out = sync(&s, &state, &args);
    out.assert_code(5).assert_stderr_contains(&format!(
        "another cec sync to cells://common-files/lock is running (process {pid})"
    ));
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    // Another destination is not blocked.
    sync(&s, &state, &["-p", src_s, "cells://common-files/other"]).assert_ok();
    assert_eq!(wait_exit(&mut first), 0);
    // The lock went with the process.
    sync(&s, &state, &args)
        .assert_ok()
        .assert_stderr_contains("0 uploaded");
}

crate::over_http_and_tls!(a_killed_sync_resumes_its_multipart_upload_on: a_killed_sync_resumes_its_multipart_upload, a_killed_sync_resumes_its_multipart_upload_over_tls);

fn a_killed_sync_resumes_its_multipart_upload_on(net: Net) {
    let s = net.start(&["--latency-ms", "200"]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 1, 3);
    fs::write(src.join("big.bin"), data(40 * MIB + 3, 5)).unwrap();
    let src_s = src.to_str().unwrap();
    let args = [
        "-p",
        "--multipart-threshold",
        "10",
        "--part-size",
        "10",
        "--parts-concurrency",
        "1",
        src_s,
        "cells://common-files/res",
    ];
    let mut first = spawn_sync(&s, &state, &args);
    let parts = |state: &Path| {
        state_files(state, "upload-")
            .iter()
            .filter_map(|p| fs::read(p).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| v["parts"].as_object().map_or(0, |m| m.len()))
            .max()
            .unwrap_or(0)
    };
    wait_for("a finished part", || parts(&state) >= 1);
    first.kill().unwrap();
    let _ = first.wait();
    let done = parts(&state);
    assert!(done < 5, "the upload finished before the kill");
    let before = requests(&s);
    sync(&s, &state, &args).assert_ok();
    let asked = delta(&before, &requests(&s));
    // Only the missing parts were sent again, in the same multipart upload.
    assert_eq!(
        asked.get("PUT /io?partNumber").copied().unwrap_or(0),
        5 - done as u64,
        "{asked:?}"
    );
    assert_eq!(asked.get("POST /io?uploads"), None, "{asked:?}");
    assert_eq!(files(&server_file(&s, "res")), files(&src));
    assert!(state_files(&state, "upload-").is_empty());
}

crate::over_http_and_tls!(failed_items_give_exit_6_are_listed_and_block_deletions_on: failed_items_give_exit_6_are_listed_and_block_deletions, failed_items_give_exit_6_are_listed_and_block_deletions_over_tls);

fn failed_items_give_exit_6_are_listed_and_block_deletions_on(net: Net) {
    let s = net.start(&["--drop-after-bytes", "1000000"]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 1, 2);
    let src_s = src.to_str().unwrap();
    sync(&s, &state, &["-p", src_s, "cells://common-files/fail"]).assert_ok();
    fs::remove_file(src.join("d0/f1.txt")).unwrap();
    fs::write(src.join("big.bin"), data(3 * MIB, 9)).unwrap();
    fs::write(src.join("small.txt"), b"fits").unwrap();
    let out = sync(
        &s,
        &state,
        &[
            "--delete",
            "--json",
            "--retry-max-attempts",
            "1",
            src_s,
            "cells://common-files/fail",
        ],
    );
    out.assert_code(6)
        .assert_stderr_contains("Failures:")
        .assert_stderr_contains("big.bin")
        .assert_stderr_contains("not deleting 1 item because some transfers failed");
    let last: serde_json::Value = serde_json::from_str(out.stdout_lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["failed"], 1, "{last}");
    assert_eq!(last["summary"]["sent"], 1, "{last}");
    assert!(last["summary"]["failures"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("big.bin"));
    assert!(server_file(&s, "fail/small.txt").exists());
    assert!(
        server_file(&s, "fail/d0/f1.txt").exists(),
        "deleted despite a failure"
    );
}

crate::over_http_and_tls!(bwlimit_paces_uploads_and_downloads_on: bwlimit_paces_uploads_and_downloads, bwlimit_paces_uploads_and_downloads_over_tls);

fn bwlimit_paces_uploads_and_downloads_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state, dst) = (
        tmp.path().join("src"),
        tmp.path().join("state"),
        tmp.path().join("dst"),
    );
    fs::create_dir_all(&src).unwrap();
    // 3 MiB in two files at 1 MiB/s, shared: at least ~2.9 s whatever the concurrency.
    fs::write(src.join("a.bin"), data(2 * MIB, 1)).unwrap();
    fs::write(src.join("b.bin"), data(MIB, 2)).unwrap();
    let src_s = src.to_str().unwrap();
    let started = Instant::now();
    sync(
        &s,
        &state,
        &["-p", "--bwlimit", "1M", src_s, "cells://common-files/bw"],
    )
    .assert_ok();
    let up = started.elapsed();
    assert!(up >= Duration::from_millis(2700), "upload took {up:?}");
    let started = Instant::now();
    sync(
        &s,
        &state,
        &[
            "-p",
            "--bwlimit",
            "1M",
            "cells://common-files/bw",
            dst.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let down = started.elapsed();
    assert!(
        down >= Duration::from_millis(2700),
        "download took {down:?}"
    );
    assert_eq!(files(&dst), files(&src));
}
