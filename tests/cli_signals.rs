//! Ctrl-C ends cec with exit code 130; a closed stdout ends it quietly.
mod common;

use common::Cec;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn sigint_exits_130() {
    // Hashing /dev/zero never ends: a long-running command to interrupt.
    let mut child = Cec::new()
        .args(["tools", "hash", "-r", "-f", "/dev/zero"])
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert_eq!(st.code(), Some(130), "{st:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "cec ignored SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn closed_stdout_is_quiet() {
    let mut child = Cec::new()
        .args(["completion", "bash"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
}
