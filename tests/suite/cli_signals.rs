//! Ctrl-C ends cec by SIGINT after its clean-up (a shell sees 130, and a shell
//! loop stops); a closed stdout ends it quietly.

use crate::common::{cec_bin, wait_until, Cec, Server};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Output lines of a child, collected by reader threads.
type Lines = Arc<Mutex<Vec<String>>>;

fn collect(r: impl Read + Send + 'static) -> Lines {
    let lines: Lines = Arc::default();
    let l = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    lines
}

fn has(lines: &Lines, needle: &str) -> bool {
    lines.lock().unwrap().iter().any(|l| l.contains(needle))
}

/// `bash -c SCRIPT` in a process group of its own, with `cec`'s environment
/// and `$CEC` naming the binary: (child, stdout lines, stderr lines).
fn shell(cec: &Cec, script: &str) -> (Child, Lines, Lines) {
    let base = cec.command();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", script])
        .env("CEC", cec_bin())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd.spawn().expect("bash");
    let out = collect(child.stdout.take().unwrap());
    let err = collect(child.stderr.take().unwrap());
    (child, out, err)
}

/// Ctrl-C in a terminal: SIGINT to the whole foreground process group.
fn ctrl_c(group: &Child) {
    // SAFETY: signalling the process group of our own child.
    unsafe {
        libc::kill(-(group.id() as i32), libc::SIGINT);
    }
}

/// Wait until the shell exits, or runs its loop a second time (`run 2`).
fn wait_loop(child: &mut Child, out: &Lines) -> Option<std::process::ExitStatus> {
    let st = wait_until(Duration::from_secs(60), "the shell loop", || {
        match child.try_wait().unwrap() {
            Some(st) => Some(Some(st)),
            None if has(out, "run 2") => Some(None),
            None => None,
        }
    });
    if st.is_none() {
        // SAFETY: ending our own child's process group.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let _ = child.wait();
    }
    st
}

#[track_caller]
fn assert_loop_stopped(st: Option<std::process::ExitStatus>, out: &Lines, err: &Lines) {
    let text = || {
        format!(
            "stdout: {:?}\nstderr: {:?}",
            out.lock().unwrap(),
            err.lock().unwrap()
        )
    };
    let st = st.unwrap_or_else(|| panic!("the loop went on after Ctrl-C\n{}", text()));
    assert_eq!(st.signal(), Some(libc::SIGINT), "{st:?}\n{}", text());
    assert!(has(out, "run 1") && !has(out, "run 2"), "{}", text());
}

#[test]
fn ctrl_c_during_a_listing_stops_the_shell_loop() {
    // Every request waits 60 s: `ls` is in its first request when Ctrl-C comes.
    let s = Server::start(&["--latency-ms", "60000"]);
    let cec = s.cec_as("admin");
    let (mut child, out, err) = shell(
        &cec,
        r#"for i in 1 2 3; do echo "run $i"; "$CEC" --log debug ls common-files; done"#,
    );
    wait_until(Duration::from_secs(30), "the first request", || {
        has(&err, "--> GET").then_some(())
    });
    ctrl_c(&child);
    let st = wait_loop(&mut child, &out);
    assert_loop_stopped(st, &out, &err);
}

#[test]
fn ctrl_c_during_an_upload_cleans_up_then_stops_the_shell_loop() {
    let s = Server::start(&["--latency-ms", "100"]);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..40 {
        std::fs::write(src.join(format!("f{i:02}.txt")), format!("file {i}\n")).unwrap();
    }
    let mut cec = s.cec_as("admin");
    let script = format!(
        r#"for i in 1 2 3; do echo "run $i"; "$CEC" scp --files-concurrency 1 '{}' cells://common-files/; done"#,
        src.display()
    );
    let (mut child, out, err) = shell(&cec, &script);
    let uploaded = s.root.join("data/common/tree");
    wait_until(Duration::from_secs(60), "some uploads", || {
        let n = std::fs::read_dir(&uploaded).map(|d| d.count()).unwrap_or(0);
        (n >= 3).then_some(())
    });
    ctrl_c(&child);
    let st = wait_loop(&mut child, &out);
    assert_loop_stopped(st, &out, &err);
    assert!(has(&err, "interrupted"), "{:?}", err.lock().unwrap());
    // The clean-up ran before the signal: the same command continues the upload.
    let again = cec
        .args(["scp", "--files-concurrency", "1"])
        .arg(&src)
        .arg("cells://common-files/")
        .run();
    again.assert_ok();
    assert!(again.stderr.contains("already identical"), "{again}");
    assert_eq!(std::fs::read_dir(&uploaded).unwrap().count(), 40);
}

/// Whether `pid` catches (`SigCgt`) or ignores (`SigIgn`) SIGINT, from /proc.
fn sigint_in(pid: u32, field: &str) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|m| m & (1 << (libc::SIGINT - 1)) != 0)
}

/// The first child process of `pid`, from /proc.
fn child_of(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn ctrl_c_ends_cec_by_sigint_and_a_shell_sees_130() {
    // Hashing /dev/zero never ends: a long-running command to interrupt.
    let cec = Cec::new();
    let (mut sh, out, err) = shell(&cec, r#""$CEC" tools hash -r -f /dev/zero; echo "rc=$?""#);
    let pid = wait_until(Duration::from_secs(30), "cec's SIGINT handler", || {
        child_of(sh.id()).filter(|p| sigint_in(*p, "SigCgt:"))
    });
    // SAFETY: signalling our own grandchild only (not the shell).
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let st = sh.wait().unwrap();
    wait_until(Duration::from_secs(10), "the shell's output", || {
        has(&out, "rc=").then_some(())
    });
    assert!(st.success(), "{st:?} {:?}", err.lock().unwrap());
    assert!(has(&out, "rc=130"), "{:?}", out.lock().unwrap());

    // Direct child: it died of SIGINT.
    let mut child = cec
        .command()
        .args(["tools", "hash", "-r", "-f", "/dev/zero"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(30), "cec's SIGINT handler", || {
        sigint_in(child.id(), "SigCgt:").then_some(())
    });
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let st = child.wait().unwrap();
    assert_eq!(st.signal(), Some(libc::SIGINT), "{st:?}");
}

#[test]
fn a_background_job_keeps_ignoring_sigint() {
    // A script's background job ignores SIGINT (no job control): cec keeps it so.
    let cec = Cec::new();
    let (mut sh, out, err) = shell(
        &cec,
        r#""$CEC" tools hash -f /dev/zero & echo "pid $!"; wait"#,
    );
    let pid: u32 = wait_until(Duration::from_secs(30), "cec's pid", || {
        let lines = out.lock().unwrap();
        lines
            .iter()
            .find_map(|l| l.strip_prefix("pid ")?.parse().ok())
    });
    // Past start-up (the handler would be installed by now).
    wait_until(Duration::from_secs(30), "hashing", || {
        has(&err, "Starting hashing").then_some(())
    });
    let (caught, ignored) = (sigint_in(pid, "SigCgt:"), sigint_in(pid, "SigIgn:"));
    // SAFETY: ending our own child's process group.
    unsafe {
        libc::kill(-(sh.id() as i32), libc::SIGKILL);
    }
    let _ = sh.wait();
    assert!(
        !caught && ignored,
        "SIGINT caught {caught}, ignored {ignored}"
    );
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
