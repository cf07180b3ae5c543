//! The fault matrix of docs/reliability.md: each fault (cec killed, server killed and
//! restarted, connection cut, burst of 5xx, slow server, token expiry, full disk,
//! read-only target) against each operation, for the cells no other test file covers
//! (the document names those). One test per fault; its cells run in parallel threads,
//! each against servers of its own. `FAULT_CELL=name` runs only the cells whose name
//! contains `name`.
//!
//! The rule checked wherever it applies: nothing corrupt under a final name, and the
//! same command run again completes (or says clearly that the job is already done).

use crate::common::{Cec, Out, Server};
use crate::scp_common::*;
use std::fs;
use std::path::Path;
use std::process::Child;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
/// Small multipart uploads: 10 MiB parts from 10 MiB on.
const MULTIPART: [&str; 4] = ["--multipart-threshold", "10", "--part-size", "10"];

// ------------------------------------------------------------------ the cell runner

type Cell = (&'static str, fn());

/// Run the cells in parallel threads; report each, fail with the names of the failed.
fn run_cells(cells: &[Cell]) {
    let only = std::env::var("FAULT_CELL").ok();
    let picked: Vec<&Cell> = cells
        .iter()
        .filter(|(n, _)| only.as_deref().is_none_or(|o| n.contains(o)))
        .collect();
    let results: Vec<(&str, std::thread::Result<Duration>)> = std::thread::scope(|sc| {
        let running: Vec<_> = picked
            .iter()
            .map(|(name, f)| {
                let h = std::thread::Builder::new()
                    .name(name.to_string())
                    .spawn_scoped(sc, move || {
                        let t = Instant::now();
                        f();
                        t.elapsed()
                    })
                    .unwrap();
                (*name, h)
            })
            .collect();
        running.into_iter().map(|(n, h)| (n, h.join())).collect()
    });
    let mut failed = Vec::new();
    for (name, r) in results {
        match r {
            Ok(d) => eprintln!("cell {name}: ok ({:.1} s)", d.as_secs_f64()),
            Err(_) => failed.push(name),
        }
    }
    assert!(failed.is_empty(), "failed cells (see above): {failed:?}");
}

// ------------------------------------------------------------------ helpers

/// A server (started with `args`) whose common-files also holds `files`, written behind
/// its back and picked up by a restart.
fn seeded(args: &[&str], files: &[(&str, &[u8])]) -> Server {
    let s = Server::start(args);
    s.kill();
    for (rel, bytes) in files {
        let p = server_file(&s, rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    s.restart();
    s
}

/// `n` files of `size` bytes under `dir/` (relative names → contents).
fn tree_files(dir: &str, n: usize, size: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| (format!("{dir}/f{i:02}.bin"), data(size, 1000 + i as u64)))
        .collect()
}

fn as_refs(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect()
}

fn port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Bytes on their way to the server on `port` that it has not read yet (its receive
/// queues plus the clients' send queues, from /proc/net/tcp): a request body in flight.
fn queued_to(port: u16) -> u64 {
    let mut sum = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split_whitespace().collect();
            if c.len() < 5 || c[3] != "01" {
                continue;
            }
            let port_of = |a: &str| {
                a.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            let (tx, rx) = c[4].split_once(':').unwrap_or(("0", "0"));
            let hex = |v: &str| u64::from_str_radix(v, 16).unwrap_or(0);
            if port_of(c[1]) == Some(port) {
                sum += hex(rx);
            } else if port_of(c[2]) == Some(port) {
                sum += hex(tx);
            }
        }
    }
    sum
}

/// Wait (60 s at most) until `cond`, while `child` runs.
fn until(what: &str, child: &mut Child, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "cec ended before {what}"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Wait for `cec` to end: its exit code and stderr (which must hold no panic).
fn ended(child: Child, rx: &Receiver<String>) -> (i32, String) {
    let (code, err) = crate::common::wait_exit(child, rx);
    assert!(
        !err.contains("panicked at") && code != 101,
        "cec panicked: {err}"
    );
    (code, err)
}

fn size_of(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// Finished parts (uploads) or segments (downloads) in the journals of a HOME.
fn journal_done(home: &Path, kind: &str, field: &str) -> usize {
    journals(home, kind)
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|v| v[field].as_object().map_or(0, |m| m.len()))
        .max()
        .unwrap_or(0)
}

/// Staging files the server left (its temporary uploads).
fn staging_left(s: &Server) -> usize {
    count_files(&s.root.join("fronts/s3/tmp"))
}

/// `name` arrived whole in `dl`, and nothing else is there (no partial file).
fn assert_only(dl: &Path, name: &str, want: &[u8]) {
    assert!(fs::read(dl.join(name)).unwrap() == want, "{name} differs");
    assert_eq!(count_files(dl), 1, "left in {}: {:?}", dl.display(), ls(dl));
}

fn ls(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `cec` for `s` with a login and password (session tokens, renewed by cec).
fn session_cec(url: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", url)
        .env("CEC_LOGIN", crate::common::ADMIN.0)
        .env("CEC_PASSWORD", crate::common::ADMIN.1)
        .env("CEC_SKIP_KEYRING", "true")
        .env("CEC_INDEX_TIMEOUT", "20s");
    c
}

/// A `cec` whose saved account is an OAuth login of alice on `s`.
fn oauth_cec(s: &Server) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = crate::auth_mock::oauth_oob(&s.url, &c, crate::common::ALICE, &[]);
    assert_eq!(code, 0, "{err}");
    c
}

fn refresh_token_of(c: &Cec) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(c.config_file()).unwrap()).unwrap();
    let id = v["ActiveConfigID"].as_str().unwrap().to_string();
    v["Configs"][&id]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string()
}

fn log_count(s: &Server, line: &str) -> usize {
    s.log_text().matches(line).count()
}

/// Start `cec cp|mv|rm ...` (with `--log debug`) and wait until the server has answered
/// the request that starts its job (or deletes).
fn start_job(c: &Cec, args: &[&str]) -> (Child, Receiver<String>) {
    let what = match args[0] {
        "cp" => "PUT /a/jobs/user/copy",
        "mv" => "PUT /a/jobs/user/move",
        _ => "POST /a/tree/delete",
    };
    let mut all = args.to_vec();
    all.extend(["--log", "debug"]);
    let (child, rx) = crate::common::spawn(c, &all);
    crate::common::wait_line(&rx, |l| l.contains("<-- 200 ") && l.contains(what));
    (child, rx)
}

/// Put `content` at `common-files/<name>` through the REST API and S3 (a fresh file).
fn put(s: &Server, name: &str, content: &[u8]) {
    upload_new(s, name, content, &[]);
}

/// The lines `key...` the namespace scripts print, e.g. `rc1=0`.
fn field<'a>(out: &'a Out, key: &str) -> &'a str {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} line:\n{out}"))
        .trim()
}

/// Run `script` (sh) in a user and mount namespace of its own (`unshare -rm`: root
/// inside, unprivileged outside), in `c`'s environment, with `$CEC` the cec binary.
/// Mounts made there vanish with it.
fn in_namespace(c: &mut Cec, script: &str) -> Out {
    let full = format!("CEC=$1; shift\n{script}\nexit 0\n");
    c.wrapper(&["unshare", "-rm", "sh", "-c", &full, "ns"]);
    let out = c.run();
    c.wrapper::<&str>(&[]);
    out.assert_no_panic();
    assert_eq!(out.code, 0, "the namespace script failed:\n{out}");
    out
}

/// Shell quoting for paths in scripts.
fn q(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// The stderr of run `n` of a namespace script (between `== n` markers).
fn run_err(out: &Out, n: usize) -> String {
    let start = format!("== {n}\n");
    let from = out
        .stderr
        .find(&start)
        .map(|i| i + start.len())
        .unwrap_or(0);
    let rest = &out.stderr[from..];
    let to = rest.find("\n== ").map(|i| i + 1).unwrap_or(rest.len());
    rest[..to].to_string()
}

// ================================================================== A. cec killed (SIGKILL)

#[test]
fn cec_killed() {
    run_cells(&[
        ("killed_single_upload", killed_single_upload),
        ("killed_small_download", killed_small_download),
        ("killed_tree_upload", killed_tree_upload),
        ("killed_tree_download", killed_tree_download),
        ("killed_copy_move_remove", killed_copy_move_remove),
        ("killed_config_write", killed_config_write),
        ("killed_token_refresh", killed_token_refresh),
    ]);
}

/// SIGKILL while the body of a single PUT is on its way: nothing under the name on the
/// server, and the same command uploads it.
fn killed_single_upload() {
    let s = Server::start(&["--latency-ms", "400"]);
    let tmp = tmpdir();
    let f = tmp.path().join("k1.bin");
    let content = data(24 * MIB, 101);
    fs::write(&f, &content).unwrap();
    let mut c = cec(&s, "admin");
    let args = ["scp", f.to_str().unwrap(), "cells://common-files/"];
    let (mut child, _rx) = crate::common::spawn(&c, &args);
    until("the body on its way", &mut child, || {
        queued_to(port(&s.url)) > 64 * 1024
    });
    kill9(&mut child);
    assert!(stat(&s, "common-files/k1.bin").is_none());
    assert!(!server_file(&s, "k1.bin").exists());
    c.args(args).run().assert_ok();
    assert!(fs::read(server_file(&s, "k1.bin")).unwrap() == content);
    assert_eq!(staging_left(&s), 0);
}

/// SIGKILL in the middle of a download too small for a journal (under 8 MiB): the
/// partial file stays hidden, the same command downloads the file and removes it.
fn killed_small_download() {
    let content = data(6 * MIB + 7, 102);
    let s = seeded(
        &["--latency-ms", "300", "--drop-after-bytes", "1048576"],
        &[("k2.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let mut c = cec(&s, "admin");
    let args = ["scp", "cells://common-files/k2.bin", dl.to_str().unwrap()];
    let (mut child, _rx) = crate::common::spawn(&c, &args);
    let partial = dl.join(".k2.bin.cec-partial");
    until("a partial file", &mut child, || {
        size_of(&partial) >= MIB as u64
    });
    kill9(&mut child);
    assert_eq!(ls(&dl), [".k2.bin.cec-partial"]);
    c.args(args).run().assert_ok();
    assert_only(&dl, "k2.bin", &content);
}

/// SIGKILL in the middle of a tree upload: the files sent are whole, the one in flight
/// is not stored, and the same command sends the rest (no --force needed).
fn killed_tree_upload() {
    let s = Server::start(&["--latency-ms", "100"]);
    let tmp = tmpdir();
    let src = tmp.path().join("ktree");
    fs::create_dir_all(src.join("d")).unwrap();
    for i in 0..24 {
        fs::write(
            src.join(format!("d/f{i:02}.bin")),
            data(40_000 + i, i as u64),
        )
        .unwrap();
    }
    let mut c = cec(&s, "admin");
    let args = [
        "scp",
        "--files-concurrency",
        "2",
        src.to_str().unwrap(),
        "cells://common-files/",
    ];
    let (mut child, _rx) = crate::common::spawn(&c, &args);
    let on_server = server_file(&s, "ktree/d");
    until("6 files on the server", &mut child, || {
        count_files(&on_server) >= 6
    });
    kill9(&mut child);
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&server_file(&s, "ktree"));
    assert!(got.len() < want.len());
    for (name, bytes) in &got {
        assert!(want[name] == *bytes, "{name} is not whole on the server");
    }
    let out = c.args(args).run();
    out.assert_ok();
    out.assert_stderr_contains("already identical");
    assert_eq!(snapshot(&server_file(&s, "ktree")).0, want);
}

/// SIGKILL in the middle of a tree download: what arrived is whole, partial files stay
/// hidden, and the same command completes the tree.
fn killed_tree_download() {
    let files = tree_files("kdown/d", 24, 150_000);
    let s = seeded(&["--latency-ms", "100"], &as_refs(&files));
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let mut c = cec(&s, "admin");
    let args = [
        "scp",
        "--files-concurrency",
        "2",
        "cells://common-files/kdown",
        dl.to_str().unwrap(),
    ];
    let (mut child, _rx) = crate::common::spawn(&c, &args);
    until("6 files downloaded", &mut child, || {
        ls(&dl.join("kdown/d"))
            .iter()
            .filter(|n| !n.starts_with('.'))
            .count()
            >= 6
    });
    kill9(&mut child);
    let (got, _) = snapshot(&dl.join("kdown"));
    for (name, bytes) in &got {
        let full = format!("kdown/{name}");
        if !name.contains(".cec-partial") {
            let want = files.iter().find(|(n, _)| *n == full).unwrap();
            assert!(want.1 == *bytes, "{name} is not whole");
        }
    }
    let out = c.args(args).run();
    out.assert_ok();
    let (got, _) = snapshot(&dl.join("kdown"));
    assert_eq!(got.len(), files.len(), "{:?}", got.keys());
    for (name, bytes) in &files {
        assert!(got[&name["kdown/".len()..]] == *bytes, "{name}");
    }
}

/// SIGKILL while cec waits for a copy, move or delete job: the server finishes the job,
/// and the same command says so (exists: 5; not found: 4).
fn killed_copy_move_remove() {
    let s = Server::start(&["--job-delay-ms", "1000"]);
    put(&s, "km.txt", b"copy me");
    let mut c = cec(&s, "admin");
    let steps: [(&[&str], &str, i32); 3] = [
        (
            &["cp", "common-files/km.txt", "common-files/km-copy.txt"],
            "already exists",
            5,
        ),
        (
            &[
                "mv",
                "common-files/km-copy.txt",
                "common-files/km-moved.txt",
            ],
            "no such file or folder",
            4,
        ),
        (
            &["rm", "-f", "common-files/km-moved.txt"],
            "no such file or folder",
            4,
        ),
    ];
    let done = [
        |s: &Server| stat(s, "common-files/km-copy.txt").is_some(),
        |s: &Server| {
            stat(s, "common-files/km-moved.txt").is_some()
                && stat(s, "common-files/km-copy.txt").is_none()
        },
        |s: &Server| stat(s, "common-files/km-moved.txt").is_none(),
    ];
    for ((args, says, code), done) in steps.iter().zip(done) {
        let (mut child, _rx) = start_job(&c, args);
        kill9(&mut child);
        wait_for("the job to finish on the server", || done(&s));
        let out = c.args(*args).run();
        out.assert_code(*code).assert_stderr_contains(says);
    }
    assert_eq!(
        fs::read(server_file(&s, "km.txt")).unwrap(),
        b"copy me",
        "the source changed"
    );
    assert!(!server_file(&s, "km-copy-1.txt").exists());
}

/// SIGKILL at each step of saving config.json (strace injects it at the syscall: each
/// fsync in turn, the rename). The file is always the old one or the new one, whole; a
/// temporary file killed before its rename stays until the next save removes it; the
/// same command then completes.
fn killed_config_write() {
    let s = Server::start(&[]);
    let (admin, alice) = (s.token("admin"), s.token("alice"));
    let (mut old_kept, mut new_kept) = (0, 0);
    for (set, when) in [
        ("fsync", 1),
        ("fsync", 2),
        ("fsync", 3),
        ("?rename,renameat,renameat2", 1),
    ] {
        let mut c = Cec::new();
        c.env("CEC_URL", &s.url)
            .env("CEC_TOKEN", &admin)
            .env("CEC_SKIP_KEYRING", "true");
        c.args(["config", "add", "token"]).run().assert_ok();
        let old = fs::read(c.config_file()).unwrap();
        c.env("CEC_TOKEN", &alice);
        let trace = format!("trace={set}");
        let inject = format!("inject={set}:signal=SIGKILL:when={when}");
        let strace = ["strace", "-f", "-qq", "-o", "/dev/null", "-e"];
        c.wrapper(&[&strace[..], &[&trace, "-e", &inject]].concat());
        let out = c.args(["config", "add", "token"]).run();
        c.wrapper::<&str>(&[]);
        assert_eq!(out.code, 128 + 9, "not killed at {set} #{when}:\n{out}");
        let now = fs::read(c.config_file()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&now).expect("config.json whole");
        let dir = c.config_dir();
        let temps = || ls(&dir).iter().filter(|n| n.ends_with(".tmp")).count();
        if now == old {
            old_kept += 1;
            assert_eq!(temps(), 1, "killed at {set} #{when}");
        } else {
            new_kept += 1;
            assert_eq!(v["Configs"].as_object().unwrap().len(), 2, "{v}");
            assert_eq!(temps(), 0, "killed at {set} #{when}");
        }
        c.args(["config", "add", "token"]).run().assert_ok();
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(c.config_file()).unwrap()).unwrap();
        assert_eq!(v["Configs"].as_object().unwrap().len(), 2);
        assert_eq!(temps(), 0, "the next save removes what a kill left");
    }
    assert!(
        old_kept >= 2 && new_kept >= 1,
        "{old_kept} old, {new_kept} new"
    );
}

/// SIGKILL after the server spent the refresh token, before cec saved its successor
/// (the window a Ctrl-C waits out, see auth_soak.rs): the session is lost, and the next
/// command says to log in again (exit 3).
fn killed_token_refresh() {
    let s = Server::start(&["--token-lifetime", "30", "--token-delay-ms", "1500"]);
    let mut c = oauth_cec(&s);
    let before = refresh_token_of(&c);
    let (mut child, _rx) = crate::common::spawn(&c, &["info"]);
    until("the token rotated", &mut child, || {
        log_count(&s, "oauth: refresh token rotated") == 1
    });
    kill9(&mut child);
    assert_eq!(refresh_token_of(&c), before, "config.json changed");
    let out = c.args(["info"]).run();
    out.assert_code(3)
        .assert_stderr_contains("run 'cec config relog'");
    assert_eq!(log_count(&s, "oauth: refresh token replayed"), 1);
}

// ================================================================== B. server killed, restarted

#[test]
fn server_restarted() {
    run_cells(&[
        ("restart_single_upload", restart_single_upload),
        ("restart_multipart_upload", restart_multipart_upload),
        ("restart_small_download", restart_small_download),
        ("restart_segmented_download", restart_segmented_download),
        ("restart_tree_download", restart_tree_download),
        ("restart_copy_move_remove", restart_copy_move_remove),
        ("restart_config_write", restart_config_write),
        ("restart_token_refresh", restart_token_refresh),
    ]);
}

/// Flags that let a transfer wait out a server restart (docs/network.md §1).
const RIDE_OUT: [&str; 4] = ["--retry-max-attempts", "10", "--retry-max-backoff", "1s"];

/// Kill the server and start it again on the same root and port.
fn bounce(s: &Server) {
    s.kill();
    s.restart();
}

/// The server dies while a single PUT's body is on its way and comes back: the PUT is
/// sent again and the file arrives whole.
fn restart_single_upload() {
    let s = Server::start(&["--latency-ms", "400"]);
    let tmp = tmpdir();
    let f = tmp.path().join("r1.bin");
    let content = data(24 * MIB, 201);
    fs::write(&f, &content).unwrap();
    let c = cec(&s, "admin");
    let mut args = vec!["scp"];
    args.extend(RIDE_OUT);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let (mut child, rx) = crate::common::spawn(&c, &args);
    until("the body on its way", &mut child, || {
        queued_to(port(&s.url)) > 64 * 1024
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    assert!(fs::read(server_file(&s, "r1.bin")).unwrap() == content);
}

/// The server dies between the parts of a multipart upload and comes back: the upload
/// (kept on the server's disk) goes on with the same upload id.
fn restart_multipart_upload() {
    let s = Server::start(&["--latency-ms", "300"]);
    let tmp = tmpdir();
    let f = tmp.path().join("r2.bin");
    let content = data(35 * MIB + 3, 202);
    fs::write(&f, &content).unwrap();
    let c = cec(&s, "admin");
    let mut args = vec!["scp", "--parts-concurrency", "1"];
    args.extend(MULTIPART);
    args.extend(RIDE_OUT);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let (mut child, rx) = crate::common::spawn(&c, &args);
    let home = c.home().to_path_buf();
    until("a part sent", &mut child, || {
        journal_done(&home, "upload", "parts") >= 1
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    assert!(fs::read(server_file(&s, "r2.bin")).unwrap() == content);
    assert_eq!(
        remote_hash(&s, "common-files/r2.bin").unwrap(),
        cells_hash(&content)
    );
}

/// The server dies in the middle of a download body and comes back: the download goes
/// on from the last byte received.
fn restart_small_download() {
    let content = data(6 * MIB + 11, 203);
    let s = seeded(
        &["--latency-ms", "300", "--drop-after-bytes", "1048576"],
        &[("r3.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let c = cec(&s, "admin");
    let mut args = vec!["scp"];
    args.extend(RIDE_OUT);
    args.extend(["cells://common-files/r3.bin", dl.to_str().unwrap()]);
    let (mut child, rx) = crate::common::spawn(&c, &args);
    until("a partial file", &mut child, || {
        size_of(&dl.join(".r3.bin.cec-partial")) >= MIB as u64
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    assert_only(&dl, "r3.bin", &content);
}

/// The same for a segmented download (64 MiB and more: parallel ranges).
fn restart_segmented_download() {
    let content = data(70 * MIB + 5, 204);
    let s = seeded(
        &["--latency-ms", "300", "--drop-after-bytes", "4194304"],
        &[("r4.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let c = cec(&s, "admin");
    let mut args = vec!["scp", "--part-size", "20", "--parts-concurrency", "2"];
    args.extend(RIDE_OUT);
    args.extend(["cells://common-files/r4.bin", dl.to_str().unwrap()]);
    let (mut child, rx) = crate::common::spawn(&c, &args);
    let home = c.home().to_path_buf();
    until("a segment done", &mut child, || {
        journal_done(&home, "download", "done") >= 1
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    assert_only(&dl, "r4.bin", &content);
}

/// The server dies in the middle of a tree download and comes back: the tree completes.
fn restart_tree_download() {
    let files = tree_files("rdown/d", 24, 150_000);
    let s = seeded(&["--latency-ms", "100"], &as_refs(&files));
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let c = cec(&s, "admin");
    let mut args = vec!["scp", "--files-concurrency", "2"];
    args.extend(RIDE_OUT);
    args.extend(["cells://common-files/rdown", dl.to_str().unwrap()]);
    let (mut child, rx) = crate::common::spawn(&c, &args);
    until("6 files downloaded", &mut child, || {
        count_files(&dl.join("rdown/d")) >= 6
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    let (got, _) = snapshot(&dl.join("rdown"));
    assert_eq!(got.len(), files.len());
    for (name, bytes) in &files {
        assert!(got[&name["rdown/".len()..]] == *bytes, "{name}");
    }
}

/// The server dies while a copy or move job waits in its queue: the server marks the
/// job failed when it comes back, cec says so (exit 1), nothing was done, and the same
/// command then does it. A delete: the dev server moves the item to the recycle bin
/// when asked (its job only reports it); cec checks that the item is gone: exit 0.
fn restart_copy_move_remove() {
    let s = Server::start(&["--job-delay-ms", "1000"]);
    put(&s, "rm.txt", b"move me");
    let mut c = cec(&s, "admin");
    let steps: [(&[&str], &str, &str); 2] = [
        (
            &["cp", "common-files/rm.txt", "common-files/rm-copy.txt"],
            "common-files/rm-copy.txt",
            "common-files/rm.txt",
        ),
        (
            &[
                "mv",
                "common-files/rm-copy.txt",
                "common-files/rm-moved.txt",
            ],
            "common-files/rm-moved.txt",
            "common-files/rm-copy.txt",
        ),
    ];
    for (args, appears, source) in steps {
        let (child, rx) = start_job(&c, args);
        bounce(&s);
        let (code, err) = ended(child, &rx);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("Interrupted by a server restart"), "{err}");
        assert!(stat(&s, appears).is_none(), "{args:?} was done");
        assert!(stat(&s, source).is_some());
        c.args(args).run().assert_ok();
        assert!(stat(&s, appears).is_some());
    }
    assert!(stat(&s, "common-files/rm-copy.txt").is_none(), "not moved");
    let args = ["rm", "-f", "common-files/rm-moved.txt"];
    let (child, rx) = start_job(&c, &args);
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 0, "{err}");
    assert!(stat(&s, "common-files/rm-moved.txt").is_none());
    c.args(args)
        .run()
        .assert_code(4)
        .assert_stderr_contains("no such file or folder");
}

/// `config add` while the server is down: one line, exit 1, nothing written; once it is
/// back, the same command saves the account.
fn restart_config_write() {
    let s = Server::start(&[]);
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token("admin"))
        .env("CEC_SKIP_KEYRING", "true");
    s.kill();
    let out = c.args(["config", "add", "token"]).run();
    out.assert_code(1)
        .assert_stderr_contains("connection refused");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    assert!(!c.config_file().exists());
    s.restart();
    c.args(["config", "add", "token"]).run().assert_ok();
    assert!(c.config_file().exists());
}

/// The server dies after spending the refresh token, before its answer: cec fails
/// (exit 1, the reply was lost), the saved refresh token is the spent one, and the next
/// command says to log in again (exit 3).
fn restart_token_refresh() {
    let s = Server::start(&["--token-lifetime", "30", "--token-delay-ms", "1500"]);
    let mut c = oauth_cec(&s);
    let before = refresh_token_of(&c);
    let (mut child, rx) = crate::common::spawn(&c, &["info"]);
    until("the token rotated", &mut child, || {
        log_count(&s, "oauth: refresh token rotated") == 1
    });
    bounce(&s);
    let (code, err) = ended(child, &rx);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("could not refresh the authentication token"),
        "{err}"
    );
    assert_eq!(refresh_token_of(&c), before);
    c.args(["info"])
        .run()
        .assert_code(3)
        .assert_stderr_contains("run 'cec config relog'");
}

// ================================================================== C. connection cut

#[test]
fn connection_cut() {
    run_cells(&[
        ("cut_single_upload", cut_single_upload),
        ("cut_multipart_upload", cut_multipart_upload),
        ("cut_multipart_complete", cut_multipart_complete),
        ("cut_tree_upload", cut_tree_upload),
        ("cut_tree_download", cut_tree_download),
        ("cut_copy_move_remove", cut_copy_move_remove),
        ("cut_token_refresh", cut_token_refresh),
    ]);
}

/// Fail fast: 2 attempts, short pauses.
const FAIL_FAST: [&str; 4] = ["--retry-max-attempts", "2", "--retry-max-backoff", "100ms"];

/// The body of a single PUT cut after 1 MiB, each time: exit 1, no object; on a healthy
/// server the same command uploads the file. (The cut itself: scp_faults.rs.)
fn cut_single_upload() {
    let mut s = Server::start(&["--drop-after-bytes", "1048576"]);
    let tmp = tmpdir();
    let f = tmp.path().join("c0.bin");
    let content = data(3 * MIB, 300);
    fs::write(&f, &content).unwrap();
    let mut args = vec!["scp"];
    args.extend(FAIL_FAST);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let mut c = cec(&s, "admin");
    c.args(&args).run().assert_code(1);
    assert!(stat(&s, "common-files/c0.bin").is_none());
    s.restart_with(&[]);
    c.args(&args).run().assert_ok();
    assert!(fs::read(server_file(&s, "c0.bin")).unwrap() == content);
    assert_eq!(staging_left(&s), 0);
}

/// Every part body is cut after 3 MiB: exit 1, no object; on a healthy server the same
/// command uploads the file.
fn cut_multipart_upload() {
    let mut s = Server::start(&["--drop-after-bytes", "3145728"]);
    let tmp = tmpdir();
    let f = tmp.path().join("c1.bin");
    let content = data(25 * MIB + 1, 301);
    fs::write(&f, &content).unwrap();
    let mut args = vec!["scp"];
    args.extend(MULTIPART);
    args.extend(FAIL_FAST);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let mut c = cec(&s, "admin");
    let out = c.args(&args).run();
    out.assert_no_panic().assert_code(1);
    assert!(out.stderr.contains("Uploaded 0 of 1 file"), "{out}");
    assert!(
        !server_file(&s, "c1.bin").exists(),
        "a truncated object was stored"
    );
    s.restart_with(&[]);
    c.args(&args).run().assert_ok();
    assert!(fs::read(server_file(&s, "c1.bin")).unwrap() == content);
}

/// The reply to CompleteMultipartUpload is lost (the server completed the upload): the
/// attempt sent again finds no such upload, sees the object is the one it completed,
/// and succeeds. (Regression: it failed with exit 4 "NoSuchUpload".)
fn cut_multipart_complete() {
    let s = Server::start(&["--cut-burst", "1:POST /io/common-files/c2.bin?uploadId="]);
    let tmp = tmpdir();
    let f = tmp.path().join("c2.bin");
    let content = data(25 * MIB + 2, 302);
    fs::write(&f, &content).unwrap();
    let mut args = vec!["scp"];
    args.extend(MULTIPART);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let out = cec(&s, "admin").args(&args).run();
    out.assert_ok();
    assert_eq!(log_count(&s, "injected burst reply cut: POST"), 1);
    assert!(out.stderr.contains("1 retry"), "{out}");
    assert!(fs::read(server_file(&s, "c2.bin")).unwrap() == content);
}

/// Bodies cut after 1 MiB during a tree upload: the small files are stored, the two big
/// ones fail (exit 6) and are not stored; on a healthy server the same command sends
/// only those two.
fn cut_tree_upload() {
    let mut s = Server::start(&["--drop-after-bytes", "1048576"]);
    let tmp = tmpdir();
    let src = tmp.path().join("ctree");
    fs::create_dir_all(&src).unwrap();
    for i in 0..8 {
        fs::write(src.join(format!("s{i}.bin")), data(200_000, 310 + i)).unwrap();
    }
    for i in 0..2 {
        fs::write(src.join(format!("big{i}.bin")), data(3 * MIB, 320 + i)).unwrap();
    }
    let mut args = vec!["scp"];
    args.extend(FAIL_FAST);
    args.extend([src.to_str().unwrap(), "cells://common-files/"]);
    let mut c = cec(&s, "admin");
    let out = c.args(&args).run();
    out.assert_no_panic().assert_code(6);
    assert!(out.stderr.contains("Uploaded 8 of 10 files"), "{out}");
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&server_file(&s, "ctree"));
    assert_eq!(got.len(), 8, "{:?}", got.keys());
    for (name, bytes) in &got {
        assert!(want[name] == *bytes, "{name} is not whole");
    }
    s.restart_with(&[]);
    let out = c.args(&args).run();
    out.assert_ok();
    assert!(out.stderr.contains("8 already identical"), "{out}");
    assert_eq!(snapshot(&server_file(&s, "ctree")).0, want);
}

/// Every body cut after 1 MiB during a tree download: each file resumes where its body
/// was cut; the tree arrives whole.
fn cut_tree_download() {
    let mut files = tree_files("cdown/small", 5, 100_000);
    files.extend(tree_files("cdown/big", 3, 5 * MIB));
    let s = seeded(&["--drop-after-bytes", "1048576"], &as_refs(&files));
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = cec(&s, "admin")
        .args(["scp", "cells://common-files/cdown", dl.to_str().unwrap()])
        .run();
    out.assert_ok();
    let (got, _) = snapshot(&dl.join("cdown"));
    assert_eq!(got.len(), files.len());
    for (name, bytes) in &files {
        assert!(got[&name["cdown/".len()..]] == *bytes, "{name}");
    }
}

/// The reply to the request that starts a copy or move job, or that deletes, is lost
/// (the server did the work): cec is not allowed to send it again (it would copy twice),
/// fails (exit 1) saying the job may have started, and the same command then says the
/// job is done (exists: 5; not found: 4). (Regression: the copy was made twice, exit 0;
/// the move reported a failed job, exit 1.)
fn cut_copy_move_remove() {
    let s = Server::start(&[
        "--cut-burst",
        "1:PUT /a/jobs/user/copy",
        "--cut-burst",
        "1:PUT /a/jobs/user/move",
        "--cut-burst",
        "1:POST /a/tree/delete",
    ]);
    put(&s, "cm.txt", b"copy me once");
    let mut c = cec(&s, "admin");
    let steps: [(&[&str], &str, &str, i32, &str); 3] = [
        (
            &["cp", "common-files/cm.txt", "common-files/cm-copy.txt"],
            "may have started it anyway",
            "common-files/cm-copy.txt",
            5,
            "already exists",
        ),
        (
            &[
                "mv",
                "common-files/cm-copy.txt",
                "common-files/cm-moved.txt",
            ],
            "may have started it anyway",
            "common-files/cm-moved.txt",
            4,
            "no such file or folder",
        ),
        (
            &["rm", "-f", "common-files/cm-moved.txt"],
            "connection to",
            "",
            4,
            "no such file or folder",
        ),
    ];
    for (args, says, appears, code, rerun_says) in steps {
        let out = c.args(args).run();
        out.assert_no_panic()
            .assert_code(1)
            .assert_stderr_contains(says);
        if !appears.is_empty() {
            wait_for(appears, || stat(&s, appears).is_some());
        }
        c.args(args)
            .run()
            .assert_code(code)
            .assert_stderr_contains(rerun_says);
    }
    assert_eq!(log_count(&s, "injected burst reply cut"), 3);
    let common = ls(&server_file(&s, ""));
    assert!(
        !common.iter().any(|n| n.starts_with("cm-")),
        "copies left: {common:?}"
    );
    assert_eq!(
        fs::read(server_file(&s, "cm.txt")).unwrap(),
        b"copy me once"
    );
}

/// The reply of the token endpoint is lost after the server rotated the refresh token:
/// cec fails (exit 1), and the next command says to log in again (exit 3).
fn cut_token_refresh() {
    let mut s = Server::start(&["--token-lifetime", "30"]);
    let mut c = oauth_cec(&s);
    let before = refresh_token_of(&c);
    s.restart_with(&[
        "--token-lifetime",
        "30",
        "--cut-burst",
        "1:POST /oidc/oauth2/token",
    ]);
    let out = c.args(["info"]).run();
    out.assert_no_panic().assert_code(1);
    out.assert_stderr_contains("could not refresh the authentication token");
    assert_eq!(refresh_token_of(&c), before);
    c.args(["info"])
        .run()
        .assert_code(3)
        .assert_stderr_contains("run 'cec config relog'");
}

// ================================================================== D. burst of 5xx

#[test]
fn burst_of_5xx() {
    run_cells(&[
        ("burst_single_upload", burst_single_upload),
        ("burst_multipart_upload", burst_multipart_upload),
        ("burst_small_download", burst_small_download),
        ("burst_segmented_download", burst_segmented_download),
        ("burst_copy_move_remove", burst_copy_move_remove),
        ("burst_config_write", burst_config_write),
        ("burst_token_refresh", burst_token_refresh),
    ]);
}

/// The retries counted in a transfer summary.
fn retries(out: &Out) -> usize {
    out.stderr
        .split(';')
        .find_map(|p| {
            let p = p.trim();
            p.strip_suffix(" retries")
                .or_else(|| p.strip_suffix(" retry"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// 5 injected 503s on one request, 3 attempts per request (the default): the first run
/// fails after 3 (exit 1, nothing under the name), the same command absorbs the last 2.
fn burst_twice(s: &Server, c: &mut Cec, args: &[&str], absent: impl Fn() -> bool) -> Out {
    let out = c.args(args).run();
    out.assert_no_panic().assert_code(1);
    assert!(absent(), "something was left under the final name");
    let out = c.args(args).run();
    out.assert_ok();
    assert_eq!(log_count(s, "injected burst failure"), 5);
    out
}

fn burst_single_upload() {
    let s = Server::start(&["--fail-burst", "5:PUT /io/common-files/b1.bin"]);
    let tmp = tmpdir();
    let f = tmp.path().join("b1.bin");
    let content = data(3 * MIB, 401);
    fs::write(&f, &content).unwrap();
    let mut c = cec(&s, "admin");
    let args = ["scp", f.to_str().unwrap(), "cells://common-files/"];
    let out = burst_twice(&s, &mut c, &args, || {
        stat(&s, "common-files/b1.bin").is_none()
    });
    assert_eq!(retries(&out), 2, "{out}");
    assert!(fs::read(server_file(&s, "b1.bin")).unwrap() == content);
}

fn burst_multipart_upload() {
    let s = Server::start(&["--fail-burst", "5:partNumber=2&"]);
    let tmp = tmpdir();
    let f = tmp.path().join("b2.bin");
    let content = data(25 * MIB + 3, 402);
    fs::write(&f, &content).unwrap();
    let mut c = cec(&s, "admin");
    let mut args = vec!["scp", "-v", "--parts-concurrency", "1"];
    args.extend(MULTIPART);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    let out = burst_twice(&s, &mut c, &args, || {
        stat(&s, "common-files/b2.bin").is_none()
    });
    out.assert_stderr_contains("parts already on the server");
    assert!(fs::read(server_file(&s, "b2.bin")).unwrap() == content);
}

fn burst_small_download() {
    let content = data(3 * MIB + 4, 403);
    let s = seeded(
        &["--fail-burst", "5:GET /io/common-files/b3.bin"],
        &[("b3.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let mut c = cec(&s, "admin");
    let args = ["scp", "cells://common-files/b3.bin", dl.to_str().unwrap()];
    let out = burst_twice(&s, &mut c, &args, || ls(&dl).is_empty());
    assert_eq!(retries(&out), 2, "{out}");
    assert_only(&dl, "b3.bin", &content);
}

fn burst_segmented_download() {
    let content = data(70 * MIB + 5, 404);
    let s = seeded(
        &["--fail-burst", "5:GET /io/common-files/b4.bin"],
        &[("b4.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let mut c = cec(&s, "admin");
    let args = [
        "scp",
        "--part-size",
        "20",
        "--parts-concurrency",
        "1",
        "cells://common-files/b4.bin",
        dl.to_str().unwrap(),
    ];
    let out = burst_twice(&s, &mut c, &args, || !dl.join("b4.bin").exists());
    assert_eq!(retries(&out), 2, "{out}");
    assert_only(&dl, "b4.bin", &content);
}

/// Reads (stat, listings, job polls) are retried; the request that starts a job or
/// deletes is sent once: a 503 there fails the command (exit 1) with nothing done, and
/// the same command then does it.
fn burst_copy_move_remove() {
    let s = seeded(
        &[
            "--fail-burst",
            "2:/a/tree/stat",
            "--fail-burst",
            "1:PUT /a/jobs/user/copy",
            "--fail-burst",
            "1:PUT /a/jobs/user/move",
            "--fail-burst",
            "1:POST /a/tree/delete",
        ],
        &[("bm.txt", b"burst")],
    );
    let mut c = cec(&s, "admin");
    let steps: [(&[&str], &str, &str); 3] = [
        (
            &["cp", "common-files/bm.txt", "common-files/bm-copy.txt"],
            "common-files/bm-copy.txt",
            "",
        ),
        (
            &[
                "mv",
                "common-files/bm-copy.txt",
                "common-files/bm-moved.txt",
            ],
            "common-files/bm-moved.txt",
            "common-files/bm-copy.txt",
        ),
        (
            &["rm", "-f", "common-files/bm-moved.txt"],
            "",
            "common-files/bm-moved.txt",
        ),
    ];
    for (i, (args, appears, goes)) in steps.into_iter().enumerate() {
        let out = c.args(args).run();
        out.assert_no_panic().assert_code(1);
        out.assert_stderr_contains("503 Service Unavailable");
        if i == 0 {
            assert_eq!(out.stderr.matches("retrying in").count(), 2, "{out}");
        }
        if !appears.is_empty() {
            assert!(stat(&s, appears).is_none());
        }
        if !goes.is_empty() {
            assert!(stat(&s, goes).is_some());
        }
        c.args(args).run().assert_ok();
        if !appears.is_empty() {
            assert!(stat(&s, appears).is_some());
        }
        if !goes.is_empty() {
            assert!(stat(&s, goes).is_none());
        }
    }
    assert_eq!(log_count(&s, "injected burst failure"), 5);
}

fn burst_config_write() {
    let s = Server::start(&["--fail-burst", "5:GET /a/frontend/state"]);
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token("admin"))
        .env("CEC_SKIP_KEYRING", "true");
    let file = c.config_file();
    burst_twice(&s, &mut c, &["config", "add", "token"], || !file.exists());
    assert!(c.config_file().exists());
}

/// A 503 from the token endpoint: the refresh is not sent again (it spends a token),
/// cec fails (exit 1, not "log in again": the server did nothing), and the next command
/// refreshes. (Regression: exit 3 and "run 'cec config relog'".)
fn burst_token_refresh() {
    let mut s = Server::start(&["--token-lifetime", "30"]);
    let mut c = oauth_cec(&s);
    let before = refresh_token_of(&c);
    s.restart_with(&[
        "--token-lifetime",
        "30",
        "--fail-burst",
        "1:POST /oidc/oauth2/token",
    ]);
    let out = c.args(["info"]).run();
    out.assert_no_panic().assert_code(1);
    out.assert_stderr_contains("503");
    assert!(!out.stderr.contains("relog"), "{out}");
    assert_eq!(refresh_token_of(&c), before);
    c.args(["info"]).run().assert_ok();
    assert_ne!(refresh_token_of(&c), before);
    assert_eq!(log_count(&s, "oauth: refresh token replayed"), 0);
}

// ================================================================== E. slow server

#[test]
fn slow_server() {
    run_cells(&[
        ("slow_uploads", slow_uploads),
        ("slow_downloads", slow_downloads),
        ("slow_trees", slow_trees),
        ("slow_copy_move_remove", slow_copy_move_remove),
        ("slow_config_write", slow_config_write),
        ("slow_token_refresh", slow_token_refresh),
    ]);
}

/// Every request waits this long before it is answered.
const SLOW: &str = "250";

/// `cec ARGS` must succeed, and take at least `requests` × the latency.
fn slow_ok(c: &mut Cec, args: &[&str], requests: u32) -> Out {
    let out = c.args(args).run();
    out.assert_ok();
    let least = Duration::from_millis(SLOW.parse::<u64>().unwrap() * requests as u64);
    assert!(out.duration >= least, "faster than {least:?}: {out}");
    out
}

/// A single and a multipart upload (10 MiB parts, one at a time).
fn slow_uploads() {
    let s = Server::start(&["--latency-ms", SLOW]);
    let tmp = tmpdir();
    let (one, many) = (data(3 * MIB, 501), data(25 * MIB + 5, 502));
    fs::write(tmp.path().join("e1.bin"), &one).unwrap();
    fs::write(tmp.path().join("e2.bin"), &many).unwrap();
    let mut c = cec(&s, "admin");
    let f1 = tmp.path().join("e1.bin");
    slow_ok(
        &mut c,
        &["scp", f1.to_str().unwrap(), "cells://common-files/"],
        3,
    );
    let f2 = tmp.path().join("e2.bin");
    let mut args = vec!["scp", "--parts-concurrency", "1"];
    args.extend(MULTIPART);
    args.extend([f2.to_str().unwrap(), "cells://common-files/"]);
    slow_ok(&mut c, &args, 6);
    assert!(fs::read(server_file(&s, "e1.bin")).unwrap() == one);
    assert!(fs::read(server_file(&s, "e2.bin")).unwrap() == many);
}

/// A small and a segmented download.
fn slow_downloads() {
    let (small, big) = (data(3 * MIB, 503), data(70 * MIB + 1, 504));
    let s = seeded(
        &["--latency-ms", SLOW],
        &[("e3.bin", &small), ("e4.bin", &big)],
    );
    let tmp = tmpdir();
    let (d1, d2) = (tmp.path().join("d1"), tmp.path().join("d2"));
    fs::create_dir(&d1).unwrap();
    fs::create_dir(&d2).unwrap();
    let mut c = cec(&s, "admin");
    slow_ok(
        &mut c,
        &["scp", "cells://common-files/e3.bin", d1.to_str().unwrap()],
        2,
    );
    slow_ok(
        &mut c,
        &["scp", "cells://common-files/e4.bin", d2.to_str().unwrap()],
        3,
    );
    assert_only(&d1, "e3.bin", &small);
    assert_only(&d2, "e4.bin", &big);
}

/// A tree of 12 files up, and back down elsewhere.
fn slow_trees() {
    let s = Server::start(&["--latency-ms", SLOW]);
    let tmp = tmpdir();
    let src = tmp.path().join("etree");
    fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..12 {
        let d = if i % 2 == 0 { "" } else { "sub/" };
        fs::write(
            src.join(format!("{d}t{i}.bin")),
            data(30_000 + i, 510 + i as u64),
        )
        .unwrap();
    }
    let mut c = cec(&s, "admin");
    slow_ok(
        &mut c,
        &["scp", src.to_str().unwrap(), "cells://common-files/"],
        4,
    );
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    slow_ok(
        &mut c,
        &["scp", "cells://common-files/etree", dl.to_str().unwrap()],
        4,
    );
    let (want, _) = snapshot(&src);
    assert_eq!(snapshot(&server_file(&s, "etree")).0, want);
    assert_eq!(snapshot(&dl.join("etree")).0, want);
}

fn slow_copy_move_remove() {
    let s = seeded(&["--latency-ms", SLOW], &[("em.txt", b"slow")]);
    let mut c = cec(&s, "admin");
    slow_ok(
        &mut c,
        &["cp", "common-files/em.txt", "common-files/em-copy.txt"],
        3,
    );
    slow_ok(
        &mut c,
        &[
            "mv",
            "common-files/em-copy.txt",
            "common-files/em-moved.txt",
        ],
        3,
    );
    slow_ok(&mut c, &["rm", "-f", "common-files/em-moved.txt"], 3);
    assert!(stat(&s, "common-files/em-copy.txt").is_none());
    assert!(stat(&s, "common-files/em-moved.txt").is_none());
    assert_eq!(fs::read(server_file(&s, "em.txt")).unwrap(), b"slow");
}

fn slow_config_write() {
    let s = Server::start(&["--latency-ms", SLOW]);
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token("admin"))
        .env("CEC_SKIP_KEYRING", "true");
    slow_ok(&mut c, &["config", "add", "token"], 1);
    assert!(c.config_file().exists());
}

/// The token endpoint answers 2 s late: the refresh waits for it.
fn slow_token_refresh() {
    let mut s = Server::start(&["--token-lifetime", "30"]);
    let mut c = oauth_cec(&s);
    let before = refresh_token_of(&c);
    s.restart_with(&["--token-lifetime", "30", "--token-delay-ms", "2000"]);
    let out = c.args(["info"]).run();
    out.assert_ok();
    assert!(out.duration >= Duration::from_secs(2), "{out}");
    assert_ne!(refresh_token_of(&c), before);
}

// ================================================================== F. token expiry

#[test]
fn token_expiry() {
    run_cells(&[
        ("expiry_multipart_upload", expiry_multipart_upload),
        ("expiry_small_download", expiry_small_download),
        ("expiry_segmented_download", expiry_segmented_download),
        ("expiry_tree_download", expiry_tree_download),
        ("expiry_copy_move_remove", expiry_copy_move_remove),
        ("expiry_config_write", expiry_config_write),
    ]);
}

/// Session tokens live 2 s here; each command below lasts longer than 2 lifetimes.
const LIFETIME: Duration = Duration::from_secs(2);

fn outlives(out: &Out) {
    out.assert_ok();
    assert!(
        out.duration > 2 * LIFETIME,
        "too fast to test expiry: {out}"
    );
}

fn expiry_multipart_upload() {
    let s = Server::start(&["--token-lifetime", "2", "--latency-ms", "400"]);
    let tmp = tmpdir();
    let f = tmp.path().join("x1.bin");
    let content = data(45 * MIB + 1, 601);
    fs::write(&f, &content).unwrap();
    let mut args = vec!["scp", "--parts-concurrency", "1"];
    args.extend(MULTIPART);
    args.extend([f.to_str().unwrap(), "cells://common-files/"]);
    outlives(&session_cec(&s.url).args(&args).run());
    assert!(fs::read(server_file(&s, "x1.bin")).unwrap() == content);
}

fn expiry_small_download() {
    let content = data(6 * MIB + 2, 602);
    let s = seeded(
        &[
            "--token-lifetime",
            "2",
            "--latency-ms",
            "400",
            "--drop-after-bytes",
            "1048576",
        ],
        &[("x2.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = session_cec(&s.url)
        .args(["scp", "cells://common-files/x2.bin", dl.to_str().unwrap()])
        .run();
    outlives(&out);
    assert_only(&dl, "x2.bin", &content);
}

fn expiry_segmented_download() {
    let content = data(70 * MIB + 3, 603);
    let s = seeded(
        &["--token-lifetime", "2", "--latency-ms", "700"],
        &[("x3.bin", &content)],
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = session_cec(&s.url)
        .args([
            "scp",
            "--part-size",
            "10",
            "--parts-concurrency",
            "1",
            "cells://common-files/x3.bin",
            dl.to_str().unwrap(),
        ])
        .run();
    outlives(&out);
    assert_only(&dl, "x3.bin", &content);
}

fn expiry_tree_download() {
    let files = tree_files("xdown", 12, 50_000);
    let s = seeded(
        &["--token-lifetime", "2", "--latency-ms", "400"],
        &as_refs(&files),
    );
    let tmp = tmpdir();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = session_cec(&s.url)
        .args([
            "scp",
            "--files-concurrency",
            "1",
            "cells://common-files/xdown",
            dl.to_str().unwrap(),
        ])
        .run();
    outlives(&out);
    let (got, _) = snapshot(&dl.join("xdown"));
    assert_eq!(got.len(), files.len());
}

/// Each job waits 2.5 s queued, then 2.5 s running: cec's polls outlive the token.
fn expiry_copy_move_remove() {
    let s = seeded(
        &["--token-lifetime", "2", "--job-delay-ms", "2500"],
        &[("xm.txt", b"expire")],
    );
    let mut c = session_cec(&s.url);
    outlives(
        &c.args(["cp", "common-files/xm.txt", "common-files/xm-copy.txt"])
            .run(),
    );
    outlives(
        &c.args([
            "mv",
            "common-files/xm-copy.txt",
            "common-files/xm-moved.txt",
        ])
        .run(),
    );
    outlives(&c.args(["rm", "-f", "common-files/xm-moved.txt"]).run());
    assert!(stat(&s, "common-files/xm-copy.txt").is_none());
    assert!(stat(&s, "common-files/xm-moved.txt").is_none());
}

/// An expired personal access token: refused (exit 3), nothing saved.
fn expiry_config_write() {
    let s = Server::start(&[]);
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token_expiring("admin", "-1s"))
        .env("CEC_SKIP_KEYRING", "true");
    let out = c.args(["config", "add", "token"]).run();
    out.assert_no_panic().assert_code(3);
    assert!(!c.config_file().exists());
}

// ================================================================== G, H. full disk, read-only

/// How the target folder `$d` is spoiled, and how it is repaired between the two runs.
struct Spoil {
    first: &'static str,
    then: &'static str,
}

const FULL: Spoil = Spoil {
    first: r#"mount -t tmpfs -o size=1m tmpfs "$d""#,
    then: r#"mount -o remount,size=128m "$d""#,
};
const FULL_32M: Spoil = Spoil {
    first: r#"mount -t tmpfs -o size=32m tmpfs "$d""#,
    then: r#"mount -o remount,size=128m "$d""#,
};
const READ_ONLY: Spoil = Spoil {
    first: r#"mount -t tmpfs tmpfs "$d" && mount -o remount,ro "$d""#,
    then: r#"mount -o remount,rw "$d""#,
};

/// `cec scp ARGS <remote> $d/` into a spoiled folder, then again once it is repaired;
/// `$d/<name>` is compared with the server's copy. Prints `rcN=`, `leftN:`, `same2=`.
fn spoiled_download(s: &Server, spoil: &Spoil, args: &[&str], name: &str) -> Out {
    let tmp = tmpdir();
    let d = tmp.path().join("target");
    fs::create_dir(&d).unwrap();
    let mut c = cec(s, "admin");
    let cmd = format!(
        r#""$CEC" scp {} cells://common-files/{name} "$d/""#,
        args.join(" ")
    );
    let script = format!(
        r#"d={d}
{first} || exit 99
echo "== 1" >&2
{cmd}; echo "rc1=$?"
echo "left1: $(ls -A "$d" | tr '\n' ' ')"
{then} || exit 98
echo "== 2" >&2
{cmd}; echo "rc2=$?"
echo "left2: $(ls -A "$d" | tr '\n' ' ')"
diff -r "$d/{name}" {server} >/dev/null && echo "same2=yes""#,
        d = q(&d),
        first = spoil.first,
        then = spoil.then,
        server = q(&server_file(s, name)),
    );
    in_namespace(&mut c, &script)
}

#[test]
fn disk_full() {
    run_cells(&[
        ("full_small_download", full_small_download),
        ("full_journalled_download", full_journalled_download),
        ("full_segmented_download", full_segmented_download),
        ("full_tree_download", full_tree_download),
        ("full_config_write", full_config_write),
        ("full_token_refresh", full_token_refresh),
        ("full_state_multipart_upload", full_state_multipart_upload),
    ]);
}

/// 3 MiB into 1 MiB of space: exit 1 "No space left", nothing left; once there is
/// space, the same command downloads it.
fn full_small_download() {
    let s = seeded(&[], &[("g1.bin", &data(3 * MIB, 701))]);
    let out = spoiled_download(&s, &FULL, &[], "g1.bin");
    assert_eq!(field(&out, "rc1="), "1", "{out}");
    assert!(
        run_err(&out, 1).contains("No space left on device"),
        "{out}"
    );
    assert_eq!(field(&out, "left1:"), "", "{out}");
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert_eq!(field(&out, "left2:"), "g1.bin", "{out}");
    assert_eq!(field(&out, "same2="), "yes", "{out}");
}

/// 12 MiB (a download with a resume journal) into 1 MiB.
fn full_journalled_download() {
    let s = seeded(&[], &[("g2.bin", &data(12 * MIB, 702))]);
    let out = spoiled_download(&s, &FULL, &["-v"], "g2.bin");
    assert_eq!(field(&out, "rc1="), "1", "{out}");
    assert!(
        run_err(&out, 1).contains("No space left on device"),
        "{out}"
    );
    assert_eq!(field(&out, "left1:"), "", "{out}");
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert_eq!(field(&out, "left2:"), "g2.bin", "{out}");
    assert_eq!(field(&out, "same2="), "yes", "{out}");
}

/// 70 MiB (parallel ranges) into 32 MiB.
fn full_segmented_download() {
    let s = seeded(&[], &[("g3.bin", &data(70 * MIB, 703))]);
    let out = spoiled_download(&s, &FULL_32M, &[], "g3.bin");
    assert_eq!(field(&out, "rc1="), "1", "{out}");
    assert!(
        run_err(&out, 1).contains("No space left on device"),
        "{out}"
    );
    // Kept (hidden) with its journal, for the rerun to continue.
    assert_eq!(field(&out, "left1:"), ".g3.bin.cec-partial", "{out}");
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert_eq!(field(&out, "left2:"), "g3.bin", "{out}");
    assert_eq!(field(&out, "same2="), "yes", "{out}");
}

/// 6 files of 300 KB into 1 MiB: 3 arrive, 3 fail (exit 6), no partial file stays;
/// the same command then brings the other 3 (no --force needed).
fn full_tree_download() {
    let files = tree_files("gtree/sub", 6, 300_000);
    let s = seeded(&[], &as_refs(&files));
    let out = spoiled_download(&s, &FULL, &["--files-concurrency", "1"], "gtree");
    assert_eq!(field(&out, "rc1="), "6", "{out}");
    let err1 = run_err(&out, 1);
    assert!(err1.contains("Downloaded 3 of 6 files"), "{out}");
    assert_eq!(err1.matches("No space left on device").count(), 6, "{out}");
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert!(run_err(&out, 2).contains("3 already identical"), "{out}");
    assert_eq!(field(&out, "same2="), "yes", "{out}");
}

/// The config folder of `c` spoiled (`first`, `$d` = the folder), `cec ARGS` run, then
/// the folder repaired (`then`) and `cec ARGS` run again. Prints `rcN=`, `same1=yes`
/// when config.json did not change, `left1:`, and `accounts2:`.
fn spoiled_config(c: &mut Cec, first: &str, then: &str, args: &[&str]) -> Out {
    let cmd = format!(r#""$CEC" {}"#, args.join(" "));
    let script = format!(
        r#"d={d}
cp -a "$d" "$d.orig" || exit 97
{first} || exit 99
echo "== 1" >&2
{cmd}; echo "rc1=$?"
cmp -s "$d/config.json" "$d.orig/config.json" && echo "same1=yes"
echo "left1: $(ls -A "$d" | grep -v '^fill$' | tr '\n' ' ')"
{then} || exit 98
echo "== 2" >&2
{cmd}; echo "rc2=$?"
echo "accounts2: $(grep -o '"authType"' "$d/config.json" | wc -l)""#,
        d = q(&c.config_dir()),
    );
    in_namespace(c, &script)
}

/// A full tmpfs holding a copy of the config folder (and a file filling it).
const CONFIG_FULL: &str = r#"mount -t tmpfs -o size=64k tmpfs "$d" && cp -a "$d.orig/." "$d/" && { dd if=/dev/zero of="$d/fill" bs=4k 2>/dev/null; true; }"#;
const CONFIG_ROOM: &str = r#"rm "$d/fill""#;
const CONFIG_RO: &str = r#"mount --bind "$d" "$d" && mount -o remount,bind,ro "$d""#;
const CONFIG_RW: &str = r#"mount -o remount,bind,rw "$d""#;

/// A `cec` with one saved account (admin, a token) that adds alice's.
fn one_account(s: &Server) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token("admin"))
        .env("CEC_SKIP_KEYRING", "true");
    c.args(["config", "add", "token"]).run().assert_ok();
    c.env("CEC_TOKEN", s.token("alice"));
    c
}

/// No room to save a new account: exit 1 "No space left", config.json unchanged, no
/// temporary file left; with room, the same command saves it.
fn full_config_write() {
    let s = Server::start(&[]);
    let mut c = one_account(&s);
    let out = spoiled_config(
        &mut c,
        CONFIG_FULL,
        CONFIG_ROOM,
        &["config", "add", "token"],
    );
    assert_eq!(field(&out, "rc1="), "1", "{out}");
    assert!(
        run_err(&out, 1).contains("No space left on device"),
        "{out}"
    );
    assert_eq!(field(&out, "same1="), "yes", "{out}");
    assert_eq!(
        field(&out, "left1:"),
        "config.json config.json.lock",
        "{out}"
    );
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert_eq!(field(&out, "accounts2:"), "2", "{out}");
}

/// No room to save the successor of a refresh token: cec fails before it spends the
/// token (exit 1, "No space left"), config.json unchanged; with room, the same command
/// refreshes. (Regression: the token was spent, its successor lost with the session.)
fn full_token_refresh() {
    let s = Server::start(&["--token-lifetime", "30"]);
    let mut c = oauth_cec(&s);
    let out = spoiled_config(&mut c, CONFIG_FULL, CONFIG_ROOM, &["info"]);
    assert_eq!(field(&out, "rc1="), "1", "{out}");
    assert!(
        run_err(&out, 1).contains("No space left on device"),
        "{out}"
    );
    assert_eq!(field(&out, "same1="), "yes", "{out}");
    assert_eq!(
        field(&out, "left1:"),
        "config.json config.json.lock",
        "{out}"
    );
    assert_eq!(field(&out, "rc2="), "0", "{out}");
    assert_eq!(log_count(&s, "oauth: refresh token rotated"), 1);
    assert_eq!(log_count(&s, "oauth: refresh token replayed"), 0);
}

/// An upload only reads the local disk, but a multipart upload writes its resume journal
/// in `$XDG_STATE_HOME`: full, the upload goes on without a journal (exit 0), and
/// leaves no file there. (Regression: empty temporary journal files stayed.)
fn full_state_multipart_upload() {
    let s = Server::start(&[]);
    let tmp = tmpdir();
    let f = tmp.path().join("g4.bin");
    let content = data(25 * MIB + 4, 704);
    fs::write(&f, &content).unwrap();
    let mut c = cec(&s, "admin");
    let state = c.home().join(".local/state");
    fs::create_dir_all(&state).unwrap();
    let script = format!(
        r#"d={d}
mount -t tmpfs -o size=8k tmpfs "$d" || exit 99
dd if=/dev/zero of="$d/fill" bs=4k 2>/dev/null
"$CEC" scp {flags} {f} cells://common-files/; echo "rc1=$?"
echo "files1: $(find "$d" -type f | wc -l)""#,
        d = q(&state),
        flags = MULTIPART.join(" "),
        f = q(&f),
    );
    let out = in_namespace(&mut c, &script);
    assert_eq!(field(&out, "rc1="), "0", "{out}");
    assert_eq!(
        field(&out, "files1:"),
        "1",
        "files left beside the filler: {out}"
    );
    assert!(fs::read(server_file(&s, "g4.bin")).unwrap() == content);
}

#[test]
fn read_only_target() {
    run_cells(&[
        ("ro_small_download", ro_small_download),
        ("ro_segmented_download", ro_segmented_download),
        ("ro_tree_download", ro_tree_download),
        ("ro_config_write", ro_config_write),
        ("ro_token_refresh", ro_token_refresh),
    ]);
}

/// 3 MiB into a read-only folder: exit 1 "Read-only file system", nothing left; once
/// writable, the same command downloads it.
fn ro_small_download() {
    let s = seeded(&[], &[("h1.bin", &data(3 * MIB, 801))]);
    assert_refused_then_done(&spoiled_download(&s, &READ_ONLY, &[], "h1.bin"), "h1.bin");
}

fn ro_segmented_download() {
    let s = seeded(&[], &[("h2.bin", &data(70 * MIB, 802))]);
    assert_refused_then_done(&spoiled_download(&s, &READ_ONLY, &[], "h2.bin"), "h2.bin");
}

fn ro_tree_download() {
    let files = tree_files("htree/sub", 6, 300_000);
    let s = seeded(&[], &as_refs(&files));
    let out = spoiled_download(&s, &READ_ONLY, &[], "htree");
    assert_refused_then_done(&out, "htree");
    assert!(
        run_err(&out, 1).starts_with("Error: cannot create "),
        "{out}"
    );
}

fn assert_refused_then_done(out: &Out, name: &str) {
    assert_eq!(field(out, "rc1="), "1", "{out}");
    assert!(run_err(out, 1).contains("Read-only file system"), "{out}");
    assert_eq!(field(out, "left1:"), "", "{out}");
    assert_eq!(field(out, "rc2="), "0", "{out}");
    assert_eq!(field(out, "left2:"), name, "{out}");
    assert_eq!(field(out, "same2="), "yes", "{out}");
}

/// A read-only config folder: exit 1 "Read-only file system" (its lock file cannot be
/// opened), config.json unchanged; once writable, the same command saves.
fn ro_config_write() {
    let s = Server::start(&[]);
    let mut c = one_account(&s);
    let out = spoiled_config(&mut c, CONFIG_RO, CONFIG_RW, &["config", "add", "token"]);
    assert_ro_then_done(&out);
    assert_eq!(field(&out, "accounts2:"), "2", "{out}");
}

/// The same before a refresh: nothing is asked of the server, the session is kept.
fn ro_token_refresh() {
    let s = Server::start(&["--token-lifetime", "30"]);
    let mut c = oauth_cec(&s);
    let out = spoiled_config(&mut c, CONFIG_RO, CONFIG_RW, &["info"]);
    assert_ro_then_done(&out);
    assert_eq!(log_count(&s, "oauth: refresh token rotated"), 1);
}

fn assert_ro_then_done(out: &Out) {
    assert_eq!(field(out, "rc1="), "1", "{out}");
    let err = run_err(out, 1);
    assert!(err.contains("cannot open lock file"), "{out}");
    assert!(err.contains("Read-only file system"), "{out}");
    assert_eq!(field(out, "same1="), "yes", "{out}");
    assert_eq!(field(out, "rc2="), "0", "{out}");
}
