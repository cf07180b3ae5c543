//! Shared test harness for cec's integration tests (`crate::common` in tests/suite).
//!
//! - [`Server`]: a `cells-devserver` on a temporary root, optionally behind the
//!   Stoplight Prism validating proxy (when `CEC_PRISM` names the prism binary).
//! - [`Cec`]: runs the real `cec` binary in an isolated environment.
//! - [`Tty`]: drives `cec` inside a detached tmux session (interactive prompts).
//!
//! Environment knobs:
//! - `CELLS_DEVSERVER`: path to a prebuilt `cells-devserver` (else the one under
//!   tests/devserver/target/release, (re)built once under a file lock when missing or stale).
//! - `CEC_PRISM`: path to the `prism` binary; REST calls then go through `prism proxy --errors`.
//! - `CEC_PRISM_SPEC`: an already rewritten spec (else tests/tools/prism-spec.py writes one).
//! - `CEC_PRISM_LENIENT=1`: do not fail the test binary at exit on Prism violations.
//! - `CEC_PRISM_COUNTS`: a file each Prism proxy appends its counts to (`make test`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tempfile::TempDir;

/// Seeded users of the development server: (login, password).
pub const ADMIN: (&str, &str) = ("admin", "admin123");
pub const ALICE: (&str, &str) = ("alice", "alice123");
pub const BOB: (&str, &str) = ("bob", "bob123");

const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
const PRISM_START_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// Paths and helpers
// ---------------------------------------------------------------------------------------------

/// The repository root (where cec's Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `cec` binary under test.
pub fn cec_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cec"))
}

/// The official REST spec (`tests/spec/cells-rest.swagger.json`, or `CEC_SPEC`).
pub fn spec_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CEC_SPEC") {
        return PathBuf::from(p);
    }
    repo_root().join("tests/spec/cells-rest.swagger.json")
}

/// A free loopback TCP port (bound then released: tiny race, good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free loopback port")
        .port()
}

/// Poll `cond` every 50 ms until it returns `Some`, or panic with `what` after `timeout`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut cond: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn tail(s: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let from = lines.len().saturating_sub(max_lines);
    lines[from..].join("\n")
}

fn exit_code(status: ExitStatus) -> i32 {
    match status.code() {
        Some(c) => c,
        None => 128 + status.signal().unwrap_or(0),
    }
}

/// Write a program (mode 0755) for a test to run. A child process writes it: a file this
/// process opened for writing would also be open in the children other test threads fork
/// meanwhile (until they exec), and running it could then fail with "text file busy".
pub fn write_exe(path: &Path, content: &[u8]) {
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("run sh");
    child.stdin.take().unwrap().write_all(content).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "cannot write {}",
        path.display()
    );
}

/// Copy a program for a test to run, with `cp` (see [`write_exe`]).
pub fn copy_exe(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg(from)
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        st.success(),
        "cannot copy {} to {}",
        from.display(),
        to.display()
    );
}

// ---------------------------------------------------------------------------------------------
// Child processes that die with the test process
// ---------------------------------------------------------------------------------------------

/// Long-lived helper processes (servers, proxies) are spawned from one thread that never
/// exits, with PR_SET_PDEATHSIG=SIGKILL: the kernel kills them when that thread (i.e. the
/// test process) dies, even on a crash. (PDEATHSIG fires when the *thread* that forked
/// exits, so spawning from a short-lived test thread would kill them too early.)
fn spawn_daemon(mut cmd: Command) -> std::io::Result<Child> {
    type Req = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Req>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Req>();
        thread::Builder::new()
            .name("harness-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // All senders gone (never happens: the sender is in a static). Park forever
                // so PDEATHSIG children survive until the process exits.
                loop {
                    thread::park();
                }
            })
            .expect("spawn harness thread");
        Mutex::new(tx)
    });
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            // The parent may already be gone (race between fork and prctl).
            if libc::getppid() == 1 {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (rtx, rrx) = mpsc::channel();
    tx.lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, rtx))
        .expect("harness spawner thread is gone");
    rrx.recv().expect("harness spawner thread is gone")
}

/// Spawn a long-lived helper process (a server a test starts itself) that dies with the
/// test process, even on a crash (see `spawn_daemon`).
pub fn spawn_helper(cmd: Command) -> std::io::Result<Child> {
    spawn_daemon(cmd)
}

/// Pids to kill and directories to remove when the test process exits normally
/// (the shared server lives in a static and is never dropped).
static AT_EXIT: Mutex<Vec<AtExit>> = Mutex::new(Vec::new());

enum AtExit {
    Kill(u32),
    Remove(PathBuf),
    CheckPrismLog(PathBuf),
}

fn register_at_exit(item: AtExit) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| unsafe {
        libc::atexit(run_at_exit);
    });
    AT_EXIT.lock().unwrap_or_else(|e| e.into_inner()).push(item);
}

extern "C" fn run_at_exit() {
    let items = std::mem::take(&mut *AT_EXIT.lock().unwrap_or_else(|e| e.into_inner()));
    let mut violations = Vec::new();
    for item in &items {
        match item {
            AtExit::Kill(pid) => unsafe {
                libc::kill(*pid as libc::pid_t, libc::SIGKILL);
            },
            AtExit::CheckPrismLog(log) => {
                record_prism_counts(log);
                violations.extend(prism_violations(log))
            }
            AtExit::Remove(_) => {}
        }
    }
    // Give the killed processes a moment to release files before removing their dirs.
    thread::sleep(Duration::from_millis(50));
    for item in &items {
        if let AtExit::Remove(p) = item {
            let _ = fs::remove_dir_all(p);
        }
    }
    if !violations.is_empty() && std::env::var_os("CEC_PRISM_LENIENT").is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "\nPrism reported {} spec violation(s) on the shared server:\n{}\n\
             FAILING the test binary (set CEC_PRISM_LENIENT=1 to ignore).",
            violations.len(),
            violations.join("\n")
        );
        unsafe { libc::_exit(101) };
    }
}

// ---------------------------------------------------------------------------------------------
// The development server binary
// ---------------------------------------------------------------------------------------------

/// Path of `cells-devserver`: `CELLS_DEVSERVER`, else tests/devserver/target/release, built
/// (once, under a file lock shared by all test binaries) when missing or older than its sources.
pub fn devserver_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("CELLS_DEVSERVER") {
            return PathBuf::from(p);
        }
        let dir = repo_root().join("tests/devserver");
        let bin = dir.join("target/release/cells-devserver");
        if bin.exists() && !devserver_stale(&dir, &bin) {
            return bin;
        }
        fs::create_dir_all(dir.join("target")).expect("create tests/devserver/target");
        let lock = File::create(dir.join("target/.harness-build.lock")).expect("build lock file");
        use std::os::unix::io::AsRawFd;
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        // Someone else may have built it while we waited for the lock.
        if bin.exists() && !devserver_stale(&dir, &bin) {
            return bin;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        eprintln!("[harness] building cells-devserver (release)...");
        let out = Command::new(cargo)
            .args(["build", "--release", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(dir.join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .stdin(Stdio::null())
            .output()
            .expect("run cargo to build cells-devserver");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if bin.exists() {
                eprintln!(
                    "[harness] WARNING: rebuilding cells-devserver failed, using the existing \
                     (older) binary:\n{}",
                    tail(&err, 30)
                );
            } else {
                panic!("could not build cells-devserver:\n{}", tail(&err, 60));
            }
        }
        bin
    })
    .clone()
}

fn devserver_stale(dir: &Path, bin: &Path) -> bool {
    let built = match fs::metadata(bin).and_then(|m| m.modified()) {
        Ok(t) => t,
        Err(_) => return true,
    };
    fn newest(p: &Path, acc: &mut SystemTime) {
        if let Ok(md) = fs::metadata(p) {
            if md.is_dir() {
                if let Ok(rd) = fs::read_dir(p) {
                    for e in rd.flatten() {
                        newest(&e.path(), acc);
                    }
                }
            } else if let Ok(t) = md.modified() {
                if t > *acc {
                    *acc = t;
                }
            }
        }
    }
    let mut latest = SystemTime::UNIX_EPOCH;
    for p in ["src", "Cargo.toml", "Cargo.lock", "build.rs"] {
        newest(&dir.join(p), &mut latest);
    }
    latest > built
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// A running `cells-devserver` (and its Prism proxy, if any). Killed on drop.
pub struct Server {
    /// Direct URL of the server (`http://127.0.0.1:PORT`, https with `--tls`).
    pub url: String,
    /// URL to use for REST calls: the Prism validating proxy when enabled, else `url`.
    pub api_url: String,
    /// The server's root directory (plain files + metadata).
    pub root: PathBuf,
    /// Extra arguments the server was started with (reused by `restart`).
    pub args: Vec<String>,
    /// Server log (stderr, then stdout after the first line).
    pub log: PathBuf,
    child: Mutex<Option<Child>>,
    prism: Option<Prism>,
    tmp: Option<TempDir>,
    /// Violations provoked on purpose (a test of Prism itself): left out of the counts.
    violations_expected: std::sync::atomic::AtomicBool,
}

impl Server {
    /// One seeded server for the test binary, behind Prism when `CEC_PRISM` is set. Never
    /// dropped: the processes die when the test process exits (atexit + PDEATHSIG), and at
    /// exit the binary fails if Prism saw any violation.
    pub fn shared() -> &'static Server {
        static SHARED: OnceLock<Server> = OnceLock::new();
        SHARED.get_or_init(|| Server::launch_shared(&[], true))
    }

    /// Like [`Server::shared`], over HTTPS (`--tls`, never behind Prism).
    pub fn shared_tls() -> &'static Server {
        static SHARED: OnceLock<Server> = OnceLock::new();
        SHARED.get_or_init(|| Server::launch_shared(&["--tls"], false))
    }

    fn launch_shared(extra: &[&str], with_prism: bool) -> Server {
        let mut s = Server::launch(extra, with_prism);
        if let Some(tmp) = s.tmp.take() {
            register_at_exit(AtExit::Remove(tmp.keep()));
        }
        if let Some(pid) = s.child.lock().unwrap().as_ref().map(|c| c.id()) {
            register_at_exit(AtExit::Kill(pid));
        }
        if let Some(p) = &s.prism {
            register_at_exit(AtExit::Kill(p.child.id()));
            register_at_exit(AtExit::CheckPrismLog(p.log.clone()));
        }
        s
    }

    /// A private server (direct, no Prism) with extra `serve` arguments, killed on drop.
    pub fn start(extra: &[&str]) -> Server {
        Server::launch(extra, false)
    }

    /// A private server (direct) on an existing root, e.g. another server's after its
    /// `kill()`, with other `serve` arguments (fault knobs). Killed on drop; the root stays.
    pub fn start_on(root: &Path, extra: &[&str]) -> Server {
        let tmp = tempfile::Builder::new()
            .prefix("cec-devserver-log-")
            .tempdir()
            .expect("tempdir");
        let log = tmp.path().join("server.log");
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, url) = spawn_server(root, &log, "127.0.0.1:0", &args);
        Server {
            api_url: url.clone(),
            url,
            root: root.to_path_buf(),
            args,
            log,
            child: Mutex::new(Some(child)),
            prism: None,
            tmp: Some(tmp),
            violations_expected: Default::default(),
        }
    }

    /// A private server behind Prism when `CEC_PRISM` is set (REST-only tests).
    pub fn start_validated(extra: &[&str]) -> Server {
        Server::launch(extra, true)
    }

    /// Is the Prism proxy in front of this server?
    pub fn validated(&self) -> bool {
        self.prism.is_some()
    }

    fn launch(extra: &[&str], with_prism: bool) -> Server {
        let tmp = tempfile::Builder::new()
            .prefix("cec-devserver-")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().join("root");
        fs::create_dir_all(&root).unwrap();
        let log = tmp.path().join("server.log");
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, url) = spawn_server(&root, &log, "127.0.0.1:0", &args);
        let prism = if with_prism && !args.iter().any(|a| a == "--tls") {
            std::env::var_os("CEC_PRISM")
                .filter(|p| !p.is_empty())
                .map(|bin| Prism::start(Path::new(&bin), &url, tmp.path()))
        } else {
            None
        };
        let api_url = prism.as_ref().map_or(url.clone(), |p| p.url.clone());
        Server {
            url,
            api_url,
            root,
            args,
            log,
            child: Mutex::new(Some(child)),
            prism,
            tmp: Some(tmp),
            violations_expected: Default::default(),
        }
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> String {
        self.url
            .split("://")
            .nth(1)
            .unwrap_or(&self.url)
            .trim_end_matches('/')
            .to_string()
    }

    /// The self-signed CA of a `--tls` server (`ROOT/ca.pem`).
    pub fn ca_pem(&self) -> PathBuf {
        self.root.join("ca.pem")
    }

    /// Started with `--tls` (its URL is https).
    pub fn is_tls(&self) -> bool {
        self.url.starts_with("https://")
    }

    /// A personal access token for `user` (default lifetime).
    pub fn token(&self, user: &str) -> String {
        self.token_with(&["-u", user])
    }

    /// A token with the given lifetime (`"90d"`, `"2s"`, `"-1s"` = already expired).
    pub fn token_expiring(&self, user: &str, lifetime: &str) -> String {
        let e = format!("--expire={lifetime}");
        let out = self.token_cmd(&["-u", user, "-e", lifetime]);
        match out {
            Ok(t) => t,
            // A parser that does not take "-1s" as a value: try the `=` spelling.
            Err(first) => self.token_cmd(&["-u", user, &e]).unwrap_or_else(|second| {
                panic!("cells-devserver token failed:\n{first}\n{second}")
            }),
        }
    }

    fn token_with(&self, args: &[&str]) -> String {
        self.token_cmd(args)
            .unwrap_or_else(|e| panic!("cells-devserver token failed: {e}"))
    }

    fn token_cmd(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(devserver_bin())
            .arg("token")
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cells-devserver: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || stdout.is_empty() {
            return Err(format!(
                "`cells-devserver token {}` exited {}: {}",
                args.join(" "),
                exit_code(out.status),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(stdout.lines().last().unwrap_or_default().trim().to_string())
    }

    /// Stop the server process (SIGKILL); `restart` brings it back on the same root and port.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill (if running) and start again on the same root, port and arguments.
    pub fn restart(&self) {
        self.kill();
        let addr = self.addr();
        let start = Instant::now();
        loop {
            // The port may linger briefly; retry a few times.
            let r =
                std::panic::catch_unwind(|| spawn_server(&self.root, &self.log, &addr, &self.args));
            match r {
                Ok((child, url)) => {
                    assert_eq!(url, self.url, "server came back on another URL");
                    *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
                    return;
                }
                Err(e) if start.elapsed() > Duration::from_secs(10) => std::panic::resume_unwind(e),
                Err(_) => thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Kill (if running) and start again on the same root and port with other arguments
    /// (e.g. a fault knob taken away); later restarts keep them.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|a| a.to_string()).collect();
        self.restart();
    }

    /// The server log so far.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Prism's validation violations so far (empty without Prism).
    /// Waits (up to 5 s) for Prism to finish logging the requests it has received.
    pub fn violations(&self) -> Vec<String> {
        let Some(p) = &self.prism else {
            return Vec::new();
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let log = read_lossy(&p.log);
            let received = log.matches("Request received").count();
            let done = log.matches("Received forward response").count()
                + log.matches("Request terminated").count();
            if done >= received {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        // Warnings are logged just after the forwarded response.
        thread::sleep(Duration::from_millis(150));
        prism_violations(&p.log)
    }

    /// Panic if Prism reported any request or response violation.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "Prism reported {} spec violation(s):\n{}",
            v.len(),
            v.join("\n")
        );
    }

    /// This server's requests provoke violations on purpose (a test of Prism itself):
    /// they stay out of `make test`'s Prism counts.
    pub fn expect_violations(&self) {
        self.violations_expected
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Prism's log (empty without Prism).
    pub fn prism_log(&self) -> String {
        self.prism
            .as_ref()
            .map(|p| read_lossy(&p.log))
            .unwrap_or_default()
    }

    /// A `Cec` with `CEC_URL=api_url` and `CEC_TOKEN` for `user` (PAT, no config file).
    pub fn cec_as(&self, user: &str) -> Cec {
        let mut c = Cec::new();
        c.env("CEC_URL", &self.api_url)
            .env("CEC_TOKEN", self.token(user))
            .env("CEC_SKIP_KEYRING", "true");
        c
    }

    /// `(Authorization header value, url)` helper for raw HTTP calls from tests.
    pub fn bearer(&self, user: &str) -> String {
        format!("Bearer {}", self.token(user))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let expected = self
            .violations_expected
            .load(std::sync::atomic::Ordering::Relaxed);
        if let Some(p) = self.prism.as_ref().filter(|_| !expected) {
            let _ = self.violations(); // waits for Prism to log what it received
            record_prism_counts(&p.log);
        }
        self.kill();
        if let Some(mut p) = self.prism.take() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// Start `cells-devserver serve` and return it with the URL from its first stdout line.
fn spawn_server(root: &Path, log: &Path, listen: &str, extra: &[String]) -> (Child, String) {
    let bin = devserver_bin();
    let logf = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("server log");
    let mut cmd = Command::new(&bin);
    cmd.arg("serve")
        .arg("--root")
        .arg(root)
        .arg("--listen")
        .arg(listen)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(logf.try_clone().unwrap()));
    let mut child =
        spawn_daemon(cmd).unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut first = String::new();
        let _ = r.read_line(&mut first);
        let _ = tx.send(first);
        // Keep draining so the server never blocks (or dies of SIGPIPE) on stdout.
        let mut logf = logf;
        let _ = std::io::copy(&mut r, &mut logf);
    });
    let start = Instant::now();
    let line = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) if !l.trim().is_empty() => break l,
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.kill();
                let st = child.wait().ok();
                panic!(
                    "cells-devserver exited ({:?}) before printing its URL; args {:?}; log:\n{}",
                    st.map(exit_code),
                    extra,
                    tail(&read_lossy(log), 60)
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(st)) = child.try_wait() {
                    // Let the reader thread deliver what it has.
                    if let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
                        if !l.trim().is_empty() {
                            break l;
                        }
                    }
                    panic!(
                        "cells-devserver exited with {} before printing its URL; log:\n{}",
                        exit_code(st),
                        tail(&read_lossy(log), 60)
                    );
                }
                if start.elapsed() > SERVER_START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "cells-devserver printed no URL within {SERVER_START_TIMEOUT:?}; log:\n{}",
                        tail(&read_lossy(log), 60)
                    );
                }
            }
        }
    };
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("unexpected first line from cells-devserver: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (child, url)
}

// ---------------------------------------------------------------------------------------------
// Prism validating proxy
// ---------------------------------------------------------------------------------------------

struct Prism {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prism {
    fn start(bin: &Path, upstream: &str, dir: &Path) -> Prism {
        let spec = prism_spec();
        let log = dir.join("prism.log");
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let logf = File::create(&log).expect("prism log");
            let mut cmd = Command::new(bin);
            cmd.arg("proxy")
                .arg(&spec)
                .arg(upstream)
                .args(["--errors", "-h", "127.0.0.1", "-p"])
                .arg(port.to_string())
                .env("NO_COLOR", "1")
                .env("FORCE_COLOR", "0")
                .env_remove("HTTP_PROXY")
                .env_remove("HTTPS_PROXY")
                .env_remove("http_proxy")
                .env_remove("https_proxy")
                .stdin(Stdio::null())
                .stdout(Stdio::from(logf.try_clone().unwrap()))
                .stderr(Stdio::from(logf));
            let mut child = spawn_daemon(cmd)
                .unwrap_or_else(|e| panic!("cannot start prism {}: {e}", bin.display()));
            let start = Instant::now();
            loop {
                if let Ok(Some(st)) = child.try_wait() {
                    last_err = format!(
                        "prism exited with {}:\n{}",
                        exit_code(st),
                        tail(&read_lossy(&log), 40)
                    );
                    break;
                }
                let up = TcpStream::connect_timeout(
                    &([127, 0, 0, 1], port).into(),
                    Duration::from_millis(200),
                )
                .is_ok();
                if up && read_lossy(&log).contains("Prism is listening") {
                    return Prism {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                        log,
                    };
                }
                if start.elapsed() > PRISM_START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "prism did not answer within {PRISM_START_TIMEOUT:?}; log:\n{}",
                        tail(&read_lossy(&log), 40)
                    );
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not start prism: {last_err}");
    }
}

/// The rewritten spec for Prism: `CEC_PRISM_SPEC`, else written once per test binary by
/// tests/tools/prism-spec.py.
pub fn prism_spec() -> PathBuf {
    static SPEC: OnceLock<PathBuf> = OnceLock::new();
    SPEC.get_or_init(|| {
        if let Some(p) = std::env::var_os("CEC_PRISM_SPEC").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let dir = tempfile::Builder::new()
            .prefix("cec-prism-spec-")
            .tempdir()
            .expect("tempdir")
            .keep();
        register_at_exit(AtExit::Remove(dir.clone()));
        let out = dir.join("cells-rest-prism.json");
        let r = Command::new("python3")
            .arg(repo_root().join("tests/tools/prism-spec.py"))
            .arg(spec_path())
            .arg(&out)
            .output()
            .expect("run python3 tests/tools/prism-spec.py");
        assert!(
            r.status.success(),
            "prism-spec.py failed: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        out
    })
    .clone()
}

/// Violation lines in a Prism log: every request/response validation finding (any
/// severity), plus proxy errors.
fn prism_violations(log: &Path) -> Vec<String> {
    let text = read_lossy(log);
    let mut out = Vec::new();
    let mut last_request = String::new();
    for line in text.lines() {
        // Drop the "[8:28:49 PM] › " time stamp.
        let l = line.split_once('›').map_or(line, |(_, r)| r).trim();
        if l.starts_with("[HTTP SERVER]") && l.contains("Request received") {
            last_request = l
                .trim_start_matches("[HTTP SERVER]")
                .split('ℹ')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            continue;
        }
        // Warnings are logged as "[VALIDATOR] ⚠ warning Violation: ...", errors (with
        // --errors) end the request: "Request terminated with error: ...#VIOLATIONS",
        // "#NO_PATH_MATCHED_ERROR", "#UNPROCESSABLE_ENTITY"...
        if l.contains("Violation:") || l.contains("Request terminated with error") {
            out.push(format!("{l}    [request: {last_request}]"));
        }
    }
    out
}

/// Append one Prism's counts to the file `CEC_PRISM_COUNTS` names (set by `make test`),
/// one line per Prism proxy: `<test binary> <requests validated> <violations>`. The
/// summary of `make test` adds them up over all test binaries.
fn record_prism_counts(log: &Path) {
    let Some(path) = std::env::var_os("CEC_PRISM_COUNTS").filter(|p| !p.is_empty()) else {
        return;
    };
    let requests = read_lossy(log).matches("Request received").count();
    let violations = prism_violations(log).len();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // One short O_APPEND write per line: lines of concurrent binaries do not mix.
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(format!("{exe} {requests} {violations}\n").as_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Running cec
// ---------------------------------------------------------------------------------------------

/// Environment variables never inherited by a `cec` under test (on top of CEC_* and CELLS_*).
const SCRUBBED: &[&str] = &[
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_SYSTEM_BUS_ADDRESS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "BROWSER",
    "XDG_RUNTIME_DIR",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "TMUX",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

fn scrubbed_key(k: &OsStr) -> bool {
    let k = k.to_string_lossy();
    k.starts_with("CEC_") || k.starts_with("CELLS_") || SCRUBBED.contains(&k.as_ref())
}

/// An isolated `cec` invocation: own temporary HOME and XDG_CONFIG_HOME, no inherited
/// CEC_*/CELLS_*/D-Bus/proxy/display variables.
///
/// Builder methods take `&mut self`; `run()` keeps the home and env but clears the args
/// and stdin, so one `Cec` can run several commands against the same config:
/// ```ignore
/// let mut cec = Cec::new();
/// cec.args(["config", "ls"]).run().assert_ok();
/// Cec::new().args(["--version"]).run().assert_ok();
/// ```
pub struct Cec {
    home: TempDir,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
    timeout: Duration,
    keyring: bool,
    exe: Option<PathBuf>,
    wrapper: Vec<OsString>,
}

impl Default for Cec {
    fn default() -> Self {
        Self::new()
    }
}

impl Cec {
    pub fn new() -> Cec {
        let home = tempfile::Builder::new()
            .prefix("cec-home-")
            .tempdir()
            .expect("tempdir");
        fs::create_dir_all(home.path().join(".config")).unwrap();
        let run = home.path().join(".run");
        fs::create_dir_all(&run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
        Cec {
            home,
            args: Vec::new(),
            envs: Vec::new(),
            stdin: None,
            cwd: None,
            timeout: Duration::from_secs(180),
            keyring: false,
            exe: None,
            wrapper: Vec::new(),
        }
    }

    /// Run this binary instead of the `cec` under test (e.g. a copy that may be replaced).
    pub fn exe(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.exe = Some(path.as_ref().to_owned());
        self
    }

    /// Run cec through a command: `wrapper... <cec> <args>` (e.g. `setpriv --reuid=...`).
    pub fn wrapper<S: AsRef<OsStr>>(&mut self, argv: &[S]) -> &mut Self {
        self.wrapper = argv.iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// The temporary HOME.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `$XDG_CONFIG_HOME/pydio/cells-client` (default config directory).
    pub fn config_dir(&self) -> PathBuf {
        self.home().join(".config/pydio/cells-client")
    }

    /// The default config file `$XDG_CONFIG_HOME/pydio/cells-client/config.json`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir().join("config.json")
    }

    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Set an environment variable (kept for later runs of this `Cec`).
    pub fn env(&mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> &mut Self {
        self.envs
            .push((k.as_ref().to_owned(), Some(v.as_ref().to_owned())));
        self
    }

    /// Remove an environment variable (e.g. one the harness sets, like HOME).
    pub fn env_remove(&mut self, k: impl AsRef<OsStr>) -> &mut Self {
        self.envs.push((k.as_ref().to_owned(), None));
        self
    }

    /// Bytes for stdin (else stdin is /dev/null, i.e. not a terminal, immediate EOF).
    pub fn stdin(&mut self, input: impl AsRef<[u8]>) -> &mut Self {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Kill cec and panic if it runs longer than this (default 180 s).
    pub fn timeout(&mut self, t: Duration) -> &mut Self {
        self.timeout = t;
        self
    }

    /// Run cec with a real, unlocked Secret Service (gnome-keyring on a private D-Bus
    /// session, tests/tools/keyring-session.sh). Secrets persist in this Cec's HOME across
    /// runs. Without this, no D-Bus session is reachable (keyring calls must fail fast).
    pub fn keyring(&mut self) -> &mut Self {
        self.keyring = true;
        self
    }

    /// The environment cec runs with (scrubbed, with the temp HOME and the builder's vars).
    fn apply_env(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars_os() {
            if scrubbed_key(&k) {
                cmd.env_remove(k);
            }
        }
        let home = self.home();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_RUNTIME_DIR", home.join(".run"));
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }

    /// A `std::process::Command` for the current args and env (for tests that need to
    /// spawn and signal cec themselves). Does not clear the args.
    pub fn command(&self) -> Command {
        let exe = self.exe.clone().unwrap_or_else(cec_bin);
        let mut cmd = if self.keyring {
            let mut c = Command::new(repo_root().join("tests/tools/keyring-session.sh"));
            c.arg(exe);
            c
        } else if let Some((first, rest)) = self.wrapper.split_first() {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(&self.args);
        self.apply_env(&mut cmd);
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        cmd
    }

    /// Run cec with the args given so far; clears args and stdin afterwards.
    pub fn run(&mut self) -> Out {
        let mut cmd = self.command();
        let args = std::mem::take(&mut self.args);
        let input = self.stdin.take();
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cec");
        if let Some(input) = input {
            let mut w = child.stdin.take().unwrap();
            thread::spawn(move || {
                let _ = w.write_all(&input);
            });
        }
        let mut so = child.stdout.take().unwrap();
        let mut se = child.stderr.take().unwrap();
        let to = thread::spawn(move || {
            let mut b = Vec::new();
            let _ = so.read_to_end(&mut b);
            b
        });
        let te = thread::spawn(move || {
            let mut b = Vec::new();
            let _ = se.read_to_end(&mut b);
            b
        });
        let start = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait cec") {
                break st;
            }
            if start.elapsed() > self.timeout {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait cec");
            }
            thread::sleep(Duration::from_millis(5));
        };
        let out = Out {
            args: args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            code: exit_code(status),
            stdout: String::from_utf8_lossy(&to.join().unwrap_or_default()).into_owned(),
            stderr: String::from_utf8_lossy(&te.join().unwrap_or_default()).into_owned(),
            duration: start.elapsed(),
        };
        if timed_out {
            panic!("cec timed out after {:?} (killed):\n{out}", self.timeout);
        }
        out.assert_no_secrets(&self.known_secrets());
        // A panic is a bug whatever the test expected (docs/reliability.md §4).
        out.assert_no_panic();
        out
    }

    /// The secrets this run knows: the token and password variables given to cec, the
    /// credentials saved in its config file, and those registered with
    /// [`register_secret`]. None may ever appear in what cec prints.
    pub fn known_secrets(&self) -> Vec<String> {
        let mut out = registered_secrets();
        for (k, v) in &self.envs {
            let k = k.to_string_lossy();
            if let (true, Some(v)) = (SECRET_VARS.contains(&k.as_ref()), v) {
                out.push(v.to_string_lossy().into_owned());
            }
        }
        if let Ok(text) = fs::read_to_string(self.config_file()) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                for acc in v["Configs"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    for key in ["idToken", "refreshToken", "password", "clientSecret"] {
                        if let Some(s) = acc[key].as_str() {
                            out.push(s.to_string());
                        }
                    }
                }
            }
        }
        out.retain(|s| s.len() >= 8);
        out
    }

    /// Run the current args inside a terminal (tmux); clears args.
    pub fn tty(&mut self) -> Tty {
        let cmd = self.command();
        self.args.clear();
        self.stdin = None;
        Tty::spawn(cmd)
    }
}

/// Variables whose values are secrets.
const SECRET_VARS: &[&str] = &[
    "CEC_TOKEN",
    "CEC_PASSWORD",
    "CEC_LINK_PASSWORD",
    "CELLS_CLIENT_TARGET_USER_PWD",
];

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Declare a secret (a password, a token, an OAuth code) that no cec output may show.
pub fn register_secret(s: &str) {
    SECRETS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(s.to_string());
}

fn registered_secrets() -> Vec<String> {
    SECRETS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The result of one cec run.
#[derive(Clone)]
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ cec {}\nexit code: {}  ({:?})\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.args.join(" "),
            self.code,
            self.duration,
            self.stdout,
            self.stderr
        )
    }
}

impl fmt::Debug for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// Panic (showing command, code, stdout and stderr) unless the exit code is 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.code == 0, "expected success:\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert!(self.code == code, "expected exit code {code}:\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, s: &str) -> &Self {
        assert!(
            self.stdout.contains(s),
            "stdout should contain {s:?}:\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, s: &str) -> &Self {
        assert!(
            self.stderr.contains(s),
            "stderr should contain {s:?}:\n{self}"
        );
        self
    }

    /// Fails if any of `secrets` appears on stdout or stderr.
    #[track_caller]
    pub fn assert_no_secrets(&self, secrets: &[String]) -> &Self {
        for s in secrets {
            assert!(
                !self.stdout.contains(s.as_str()) && !self.stderr.contains(s.as_str()),
                "a secret ({}…) appears in the output of cec {:?}",
                s.chars().take(4).collect::<String>(),
                self.args
            );
        }
        self
    }

    /// No panic message (cec's panic hook: "internal error … panicked at"), no
    /// backtrace, no exit code of a panic (101) or an abort (134).
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked at")
                && !self.stderr.contains("internal error (this is a bug")
                && !self.stderr.contains("RUST_BACKTRACE"),
            "cec panicked:\n{self}"
        );
        assert!(self.code != 101 && self.code != 134, "cec crashed:\n{self}");
        self
    }

    /// Non-empty stderr lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Non-empty stdout lines.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Terminal sessions
// ---------------------------------------------------------------------------------------------

fn shell_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `cec` running in a detached tmux session (200x50) on a private socket.
/// The pane stays after cec exits; `wait_exit` returns its exit code.
pub struct Tty {
    _dir: TempDir,
    socket: PathBuf,
    exit_file: PathBuf,
}

impl Tty {
    /// Run `cmd` (program, args, env and cwd are taken from it) in a new terminal.
    pub fn spawn(cmd: Command) -> Tty {
        let dir = tempfile::Builder::new()
            .prefix("cec-tty-")
            .tempdir()
            .expect("tempdir");
        let socket = dir.path().join("tmux.sock");
        let exit_file = dir.path().join("exit");
        let mut line = vec![shell_quote(cmd.get_program())];
        line.extend(cmd.get_args().map(shell_quote));
        // `trap : INT`: Ctrl-C goes to cec; the wrapper shell survives it and records the code.
        let script = format!(
            "trap : INT; {}; c=$?; echo $c > {}.tmp; mv {}.tmp {}; printf '\\n[cec exited %s]\\n' $c; exec sleep 3600",
            line.join(" "),
            shell_quote(exit_file.as_os_str()),
            shell_quote(exit_file.as_os_str()),
            shell_quote(exit_file.as_os_str()),
        );
        let mut tmux = Command::new("tmux");
        tmux.arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "cec",
                "-x",
                "200",
                "-y",
                "50",
            ])
            .arg(format!("sh -c {}", shell_quote(OsStr::new(&script))));
        // The tmux server (and so the pane) inherits this environment.
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => tmux.env(k, v),
                None => tmux.env_remove(k),
            };
        }
        tmux.env("SHELL", "/bin/sh").env("TERM", "xterm-256color");
        if let Some(d) = cmd.get_current_dir() {
            tmux.current_dir(d);
        }
        let out = tmux
            .stdin(Stdio::null())
            .output()
            .expect("run tmux (is it installed? `make test` installs it)");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tty {
            _dir: dir,
            socket,
            exit_file,
        }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    /// Type literal text (no Enter).
    pub fn send_keys(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "cec", "-l", text]);
        assert!(out.status.success(), "tmux send-keys: {:?}", out);
    }

    /// Press named keys: "Enter", "C-c", "C-d", "Up", "Down", "Escape", "BSpace"...
    pub fn key(&self, name: &str) {
        let out = self.tmux(&["send-keys", "-t", "cec", name]);
        assert!(out.status.success(), "tmux send-keys: {:?}", out);
    }

    /// Type `text` then Enter.
    pub fn send_line(&self, text: &str) {
        self.send_keys(text);
        self.key("Enter");
    }

    /// The visible screen (plus scrollback), trailing blank lines removed.
    pub fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-J", "-S", "-200", "-t", "cec"]);
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// Wait until the screen contains `text`; returns the screen. Panics with the screen
    /// on timeout.
    #[track_caller]
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {text:?} on the terminal:\n{s}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until `pred` holds for the screen; returns the screen. Panics with `what`
    /// and the screen on timeout.
    #[track_caller]
    pub fn wait_until(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what} on the terminal:\n{s}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The line the cursor is on (the last non-blank line of the screen).
    pub fn last_line(&self) -> String {
        self.screen()
            .lines()
            .last()
            .unwrap_or("")
            .trim_end()
            .to_string()
    }

    /// The exit code, if cec has exited.
    pub fn exit_code(&self) -> Option<i32> {
        fs::read_to_string(&self.exit_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Wait for cec to exit and return its exit code (panics with the screen on timeout).
    #[track_caller]
    pub fn wait_exit(&self, timeout: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(c) = self.exit_code() {
                return c;
            }
            if start.elapsed() > timeout {
                panic!(
                    "cec did not exit within {timeout:?}; terminal:\n{}",
                    self.screen()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

// ------------------------------------------------------------ spawned cec

/// A command running `cec args` in `cec`'s environment.
pub fn cmd_with(cec: &Cec, args: &[&str]) -> Command {
    let base = cec.command();
    let mut c = Command::new(base.get_program());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.args(args);
    c
}

/// Spawn `cec args` with piped stdin/stderr; returns the child and a channel of stderr lines.
pub fn spawn(cec: &Cec, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = cmd_with(cec, args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// The next stderr line matching `pred` (30 s at most).
pub fn wait_line(rx: &mpsc::Receiver<String>, pred: impl Fn(&str) -> bool) -> String {
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("expected a line on stderr");
        if pred(&l) {
            return l;
        }
    }
}

/// Wait (60 s at most) for the child to exit: its code and the remaining stderr lines.
pub fn wait_exit(mut child: Child, rx: &mpsc::Receiver<String>) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            thread::sleep(Duration::from_millis(50));
            let rest: Vec<String> = rx.try_iter().collect();
            return (st.code().unwrap_or(-1), rest.join("\n"));
        }
        assert!(Instant::now() < deadline, "cec did not exit");
        thread::sleep(Duration::from_millis(20));
    }
}

/// The query parameters of a URL.
pub fn query(u: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(u)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}
