//! Concurrency soak: 8 `cec` processes share one OAuth account whose access tokens live
//! a few seconds, listing and transferring for 2 minutes (`CEC_SOAK_SECS` to change).
//! Every command must succeed, the config file must be valid JSON with mode 0600 at every
//! moment, and the server must see no refresh token spent twice (a replay revokes the
//! whole grant, which would log everyone out).

use crate::common::{cmd_with, Cec, Server};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use std::{fs, thread};

const WORKERS: usize = 8;

fn soak_time() -> Duration {
    let secs = std::env::var("CEC_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

/// Run `cec args` in the shared account; panics with its output unless it succeeds.
fn run_ok(cec: &Cec, args: &[&str], what: &str) {
    let out = cmd_with(cec, args).output().expect("run cec");
    assert!(
        out.status.success(),
        "{what}: cec {args:?} exited {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn eight_processes_share_a_short_lived_oauth_account() {
    let s = Server::start(&["--token-lifetime", "4"]);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1").env("CEC_NO_PROGRESS", "1");
    let (code, err) = crate::auth_mock::oauth_oob(&s.url, &cec, crate::common::ALICE, &[]);
    assert_eq!(code, 0, "{err}");
    let config = cec.config_file();
    let work = tempfile::tempdir().unwrap();
    run_ok(&cec, &["mkdir", "common-files/soak"], "setup");

    let deadline = Instant::now() + soak_time();
    let done = AtomicBool::new(false);
    let commands = AtomicUsize::new(0);
    let checks = AtomicUsize::new(0);
    thread::scope(|sc| {
        // The watcher: the config file, read as another process would, at every moment.
        sc.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Ok(text) = fs::read_to_string(&config) {
                    let v: serde_json::Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("config.json is not valid JSON ({e}):\n{text}"));
                    assert!(v["Configs"].is_object(), "{text}");
                    let mode = fs::metadata(&config).unwrap().permissions().mode() & 0o777;
                    assert_eq!(mode, 0o600, "config.json mode");
                    checks.fetch_add(1, Ordering::Relaxed);
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (cec, work, commands) = (&cec, work.path(), &commands);
                sc.spawn(move || {
                    let dir = work.join(format!("w{w}"));
                    fs::create_dir_all(dir.join("dl")).unwrap();
                    let up = dir.join(format!("up{w}.bin"));
                    let remote = format!("cells://common-files/soak/up{w}.bin");
                    let mut round = 0u64;
                    while Instant::now() < deadline {
                        round += 1;
                        let body: Vec<u8> = (0..(20_000 + w * 1000))
                            .map(|i| (i as u64 * 31 + round) as u8)
                            .collect();
                        fs::write(&up, &body).unwrap();
                        let what = format!("worker {w} round {round}");
                        run_ok(cec, &["ls", "common-files"], &what);
                        let up_s = up.to_str().unwrap();
                        run_ok(
                            cec,
                            &["scp", "-f", up_s, "cells://common-files/soak/"],
                            &what,
                        );
                        let dl = dir.join("dl");
                        run_ok(cec, &["scp", "-f", &remote, dl.to_str().unwrap()], &what);
                        let got = fs::read(dl.join(format!("up{w}.bin"))).unwrap();
                        assert!(got == body, "{what}: downloaded bytes differ");
                        commands.fetch_add(3, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let results: Vec<_> = workers.into_iter().map(|h| h.join()).collect();
        done.store(true, Ordering::Relaxed);
        for r in results {
            if let Err(p) = r {
                std::panic::resume_unwind(p);
            }
        }
    });
    let log = s.log_text();
    let replays = log.matches("oauth: refresh token replayed").count();
    let refreshes = log.matches("oauth: refresh token rotated").count();
    eprintln!(
        "soak: {} commands, {refreshes} refreshes, {replays} replays, {} config checks",
        commands.load(Ordering::Relaxed),
        checks.load(Ordering::Relaxed)
    );
    assert_eq!(replays, 0, "refresh tokens were replayed");
    // Tokens of 4 s over the whole run: the account was refreshed all along.
    assert!(
        refreshes as u64 >= soak_time().as_secs() / 4,
        "{refreshes} refreshes"
    );
    assert!(checks.load(Ordering::Relaxed) > 100);
    run_ok(&cec, &["info"], "after the soak");
}

/// The judge can fail: two copies of one account (two config folders) spend the same
/// refresh token, and the server logs the replay that the soak counts.
#[test]
fn a_replayed_refresh_token_is_counted() {
    let s = Server::start(&["--token-lifetime", "4"]);
    let mut a = Cec::new();
    a.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = crate::auth_mock::oauth_oob(&s.url, &a, crate::common::BOB, &[]);
    assert_eq!(code, 0, "{err}");
    let mut b = Cec::new();
    b.env("CEC_SKIP_KEYRING", "1");
    fs::create_dir_all(b.config_dir()).unwrap();
    fs::copy(a.config_file(), b.config_file()).unwrap();
    run_ok(&a, &["info"], "first copy");
    let out = cmd_with(&b, &["info"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "the second copy must be logged out"
    );
    assert_eq!(
        s.log_text()
            .matches("oauth: refresh token replayed")
            .count(),
        1
    );
}

/// Ctrl-C after the server spent the refresh token but before cec saved its successor
/// must not lose the session: cec finishes saving, then ends by the Ctrl-C.
#[test]
fn ctrl_c_during_a_refresh_keeps_the_session() {
    // The token endpoint answers 1.5 s after rotating: a window to press Ctrl-C in.
    let s = Server::start(&["--token-lifetime", "30", "--token-delay-ms", "1500"]);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = crate::auth_mock::oauth_oob(&s.url, &cec, crate::common::ALICE, &[]);
    assert_eq!(code, 0, "{err}");
    let saved = |cec: &Cec| -> String {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(cec.config_file()).unwrap()).unwrap();
        let id = v["ActiveConfigID"].as_str().unwrap().to_string();
        v["Configs"][&id]["refreshToken"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = saved(&cec);
    // 30 s tokens are within the refresh margin: `info` refreshes first.
    let mut child = cmd_with(&cec, &["info"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::common::wait_until(
        Duration::from_secs(30),
        "the server to rotate the token",
        || {
            s.log_text()
                .contains("oauth: refresh token rotated")
                .then_some(())
        },
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    let after = saved(&cec);
    assert_ne!(
        before, after,
        "the successor of the spent refresh token was not saved"
    );
    run_ok(&cec, &["info"], "after Ctrl-C");
    assert_eq!(
        s.log_text()
            .matches("oauth: refresh token replayed")
            .count(),
        0
    );
}
