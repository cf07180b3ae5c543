//! The live progress display on a terminal (run under `script`, which gives
//! cec a pseudo-terminal and records every byte it draws): redrawn in place,
//! at most 10 times a second, erased at the end, then the summary line.

use crate::common::Server;
use crate::scp_common::*;
use std::fs;
use std::process::Command;
use std::time::Instant;

#[test]
fn live_display_on_a_terminal_is_rate_limited() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("note: `script` (util-linux) not available, test skipped");
        return;
    }
    let s = Server::start(&["--latency-ms", "100"]);
    let tmp = tmpdir();
    let src = tmp.path().join("live");
    fs::create_dir_all(&src).unwrap();
    for i in 0..20 {
        fs::write(src.join(format!("f{i:02}")), data(50_000, i)).unwrap();
    }
    let log = tmp.path().join("typescript");
    let cmdline = format!(
        "{} scp --files-concurrency 1 '{}' cells://common-files/",
        crate::common::cec_bin().display(),
        src.display()
    );
    // The isolated environment of a harness `Cec`, applied to `script` (the
    // arguments go through `script -c`).
    let c = cec(&s, "admin");
    let started = Instant::now();
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &cmdline]).arg(&log);
    for (k, v) in c.command().get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let status = script
        .env("TERM", "xterm")
        .env("COLUMNS", "100")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "{}",
        String::from_utf8_lossy(&fs::read(&log).unwrap())
    );
    let out = String::from_utf8_lossy(&fs::read(&log).unwrap()).into_owned();
    let frames = out.matches("Uploading ").count();
    assert!(frames >= 2, "no live display:\n{out}");
    assert!(
        (frames as f64) <= elapsed * 10.0 + 2.0,
        "{frames} redraws in {elapsed:.1}s"
    );
    assert!(out.contains("\x1b[1A\x1b[2K"), "not redrawn in place");
    assert!(
        out.contains("files 1/20") || out.contains("files 2/20"),
        "{out}"
    );
    assert!(out.contains("Uploaded 20 of 20 files"), "{out}");
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&s.root.join("data/common/live"));
    assert_eq!(got, want);
}
