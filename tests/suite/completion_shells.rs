//! Shell completion for real: bash, zsh and fish run in tmux with the scripts of `cec
//! completion`, and a cobra-style bash script (the shape the reference generates) that
//! asks `cec __complete`; TAB is typed and the command line read back. Remote paths
//! come from the development server (REST through Prism when `CEC_PRISM` is set).
//! Also: `__complete` never prompts or refreshes, caches a few seconds, and answers fast.

use crate::common::{Cec, Server, Tty};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn srv() -> &'static Server {
    Server::shared()
}

fn admin_token() -> String {
    static T: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    T.get_or_init(|| srv().token("admin")).clone()
}

fn rest(method: &str, path: &str, body: Option<Value>) -> u16 {
    let req = ureq::request(method, &format!("{}{}", srv().url, path))
        .timeout(Duration::from_secs(120))
        .set("Authorization", &format!("Bearer {}", admin_token()));
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match res {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

/// `common-files/<name>` holding `remote-doc.txt` and `sub-folder/`, indexed.
fn remote_folder(name: &str) -> String {
    let dir = format!("common-files/{name}");
    rest(
        "POST",
        "/a/tree/delete",
        Some(serde_json::json!({"Nodes":[{"Path": dir}], "RemovePermanently": true})),
    );
    let nodes = serde_json::json!({"Nodes": [
        {"Path": dir, "Type": "COLLECTION"},
        {"Path": format!("{dir}/sub-folder"), "Type": "COLLECTION"},
        {"Path": format!("{dir}/remote-doc.txt"), "Type": "LEAF"},
    ]});
    assert_eq!(rest("POST", "/a/tree/create", Some(nodes)), 200);
    let start = Instant::now();
    while rest("GET", &format!("/a/tree/stat/{dir}/remote-doc.txt"), None) != 200 {
        assert!(start.elapsed() < WAIT, "{dir} not indexed");
        std::thread::sleep(Duration::from_millis(50));
    }
    dir
}

/// A home with a stored account (PAT in config.json) for the shared server, a `cec`
/// on PATH, and a working folder with a local file and folder.
struct Setup {
    cec: Cec,
    bin: PathBuf,
    work: PathBuf,
}

fn setup() -> Setup {
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "true")
        .env("CEC_TOKEN", admin_token())
        .args(["config", "add", "token", "--url", &srv().api_url])
        .run()
        .assert_ok();
    cec.env_remove("CEC_TOKEN").env_remove("CEC_SKIP_KEYRING");
    let bin = cec.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(crate::common::cec_bin(), bin.join("cec")).unwrap();
    let work = cec.home().join("work");
    std::fs::create_dir_all(work.join("local-dir")).unwrap();
    std::fs::write(work.join("local-file-xyz.txt"), b"x").unwrap();
    Setup { cec, bin, work }
}

impl Setup {
    /// `shell args...` in a terminal, in the work folder, with `cec` first on PATH.
    fn shell(&self, program: &str, args: &[&str], extra_env: &[(&str, &Path)]) -> Tty {
        let base = self.cec.command();
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(&self.work);
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap());
        cmd.env("PATH", path);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Tty::spawn(cmd)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.cec.home().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// Type `typed`, press TAB, and wait for the command line to read `want`; then clear it.
fn tab(t: &Tty, prompt: &str, typed: &str, want: &str) {
    t.send_keys(typed);
    t.key("Tab");
    let line = format!("{prompt}{want}");
    t.wait_until(&format!("{line:?}"), WAIT, |_| {
        t.last_line() == line.trim_end()
    });
    t.key("C-u");
    t.wait_until("an empty command line", WAIT, |_| {
        t.last_line() == prompt.trim_end()
    });
}

/// The cases every shell must complete, `dir` being the remote test folder.
fn cases(dir: &str) -> Vec<(String, String)> {
    let c = |typed: &str, want: &str| (typed.to_string(), want.to_string());
    vec![
        // a command name, a flag, a flag's choices
        c("cec con", "cec config "),
        c("cec scp --no-pr", "cec scp --no-progress "),
        c("cec --log de", "cec --log debug "),
        // a local path after scp
        c("cec scp ./local-fi", "cec scp ./local-file-xyz.txt "),
        // remote: a workspace, a folder, a file after cells//; and plain remote paths
        c(
            "cec scp ./x cells//common-f",
            "cec scp ./x cells//common-files/",
        ),
        c(
            &format!("cec scp ./x cells//{dir}/sub"),
            &format!("cec scp ./x cells//{dir}/sub-folder/"),
        ),
        c(
            &format!("cec scp cells//{dir}/rem"),
            &format!("cec scp cells//{dir}/remote-doc.txt"),
        ),
        c("cec ls team-c", "cec ls team-cell/"),
        c(
            &format!("cec rm {dir}/remote-d"),
            &format!("cec rm {dir}/remote-doc.txt"),
        ),
    ]
}

/// Trailing spaces are not visible on the terminal: compare without them.
fn run_cases(t: &Tty, prompt: &str, dir: &str) {
    for (typed, want) in cases(dir) {
        tab(t, prompt, &typed, want.trim_end());
    }
}

#[test]
fn bash_completes_by_tab() {
    let s = setup();
    let dir = remote_folder("t-comp-bash");
    let script = s.file("completion.bash", &s.cec_script("bash"));
    let rc = s.file(
        "bashrc",
        &format!(
            "PS1='$ '\nbind 'set bell-style none'\nsource '{}'\n",
            script.display()
        ),
    );
    let t = s.shell(
        "bash",
        &["--noprofile", "--rcfile", rc.to_str().unwrap(), "-i"],
        &[],
    );
    t.wait_until("the bash prompt", WAIT, |_| t.last_line() == "$");
    run_cases(&t, "$ ", &dir);
    srv().assert_no_violations();
}

#[test]
fn zsh_completes_by_tab() {
    let s = setup();
    let dir = remote_folder("t-comp-zsh");
    let zdot = s.cec.home().join("zdot");
    std::fs::create_dir_all(&zdot).unwrap();
    std::fs::write(zdot.join("_cec"), s.cec_script("zsh")).unwrap();
    std::fs::write(
        zdot.join(".zshrc"),
        format!(
            "PS1='%% '\nunsetopt beep\nfpath=({} $fpath)\nautoload -U compinit\ncompinit -u -D\n",
            zdot.display()
        ),
    )
    .unwrap();
    let t = s.shell("zsh", &["-i"], &[("ZDOTDIR", &zdot)]);
    t.wait_until("the zsh prompt", WAIT, |_| t.last_line() == "%");
    run_cases(&t, "% ", &dir);
    srv().assert_no_violations();
}

#[test]
fn fish_completes_by_tab() {
    let s = setup();
    let dir = remote_folder("t-comp-fish");
    let script = s.file("cec.fish", &s.cec_script("fish"));
    let init = format!(
        "set -g fish_greeting ''; set -g fish_autosuggestion_enabled 0; function fish_prompt; echo -n '> '; end; source '{}'",
        script.display()
    );
    let t = s.shell("fish", &["--no-config", "-i", "-C", &init], &[]);
    t.wait_until("the fish prompt", WAIT, |_| t.last_line() == ">");
    run_cases(&t, "> ", &dir);
    srv().assert_no_violations();
}

/// The shape of the scripts cobra generates: everything comes from `cec __complete`,
/// the last line is the directive.
const COBRA_STYLE_BASH: &str = r#"
__cec_cobra() {
    local cur="${COMP_WORDS[COMP_CWORD]}" out directive comp
    out=$(cec __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
    directive=${out##*:}
    out=${out%:*}
    COMPREPLY=()
    if (( directive & 1 )); then return; fi
    local IFS=$'\n'
    for comp in $out; do
        [ -n "$comp" ] && COMPREPLY+=("${comp%%$'\t'*}")
    done
    if (( directive & 2 )); then compopt -o nospace; fi
    if (( directive & 16 )); then COMPREPLY=($(compgen -d -- "$cur")); return; fi
    if [ ${#COMPREPLY[@]} -eq 0 ] && (( (directive & 4) == 0 )); then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F __cec_cobra cec
"#;

#[test]
fn cobra_style_script_through_complete() {
    let s = setup();
    let dir = remote_folder("t-comp-cobra");
    let script = s.file("cobra.bash", COBRA_STYLE_BASH);
    let rc = s.file(
        "bashrc",
        &format!(
            "PS1='$ '\nbind 'set bell-style none'\nsource '{}'\n",
            script.display()
        ),
    );
    let t = s.shell(
        "bash",
        &["--noprofile", "--rcfile", rc.to_str().unwrap(), "-i"],
        &[],
    );
    t.wait_until("the bash prompt", WAIT, |_| t.last_line() == "$");
    run_cases(&t, "$ ", &dir);
    srv().assert_no_violations();
}

impl Setup {
    fn cec_script(&self, shell: &str) -> String {
        let o = Cec::new().args(["completion", shell]).run();
        o.assert_ok();
        o.stdout
    }
}

// ------------------------------------------------------------ __complete itself

fn complete(cec: &mut Cec, words: &[&str]) -> (Vec<String>, String, Duration) {
    let o = cec.arg("__complete").args(words).run();
    o.assert_ok();
    let mut lines: Vec<String> = o.stdout.lines().map(String::from).collect();
    let directive = lines.pop().unwrap_or_default();
    (lines, directive, o.duration)
}

#[test]
fn complete_protocol_answers() {
    let mut s = setup();
    let (c, d, _) = complete(&mut s.cec, &["con"]);
    assert_eq!(c, ["config\tManage authentication profiles"]);
    assert_eq!(d, ":4");
    let o = s.cec.args(["__completeNoDesc", "co"]).run();
    assert_eq!(o.stdout, "completion\nconfig\n:4\n");
    let (c, d, _) = complete(&mut s.cec, &["ls", ""]);
    assert!(c.contains(&"common-files/".to_string()), "{c:?}");
    assert_eq!(d, ":6");
    // Global flags typed on the line count: another config folder has no account.
    let empty = s.cec.home().join("empty-config");
    let (c, d, _) = complete(&mut s.cec, &["--config", empty.to_str().unwrap(), "ls", ""]);
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(d, ":1");
    srv().assert_no_violations();
}

/// An OAuth login that needs a refresh completes nothing, at once: no browser, no
/// connection to the server (no refresh), the config file untouched. A normal command
/// would refresh (the control at the end).
#[test]
fn complete_never_refreshes_or_prompts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cec = Cec::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = format!("admin@127.0.0.1:{port}");
    let cfg = serde_json::json!({
        "ActiveConfigID": id,
        "Configs": {id.clone(): {
            "authType": "oauth2", "url": format!("http://127.0.0.1:{port}"), "user": "admin",
            "idToken": "expired-access-token", "refreshToken": "single-use-refresh-token",
            "tokenExpiresAt": now - 100, "skipVerify": false, "useTokenCache": true,
            "label": "admin@127.0.0.1", "skipKeyring": true, "createdAtVersion": "4.3.1"
        }}
    });
    let f = cec.config_file();
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(&f, cfg.to_string()).unwrap();
    let marker = cec.home().join("browser-was-opened");
    let browser = cec.home().join("browser.sh");
    crate::common::write_exe(
        &browser,
        format!("#!/bin/sh\ntouch '{}'\n", marker.display()).as_bytes(),
    );
    cec.env("BROWSER", &browser);
    let before = std::fs::read(&f).unwrap();
    let (c, d, took) = complete(&mut cec, &["ls", "common-"]);
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(d, ":1");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(std::fs::read(&f).unwrap(), before, "config.json changed");
    assert!(!marker.exists(), "a browser was opened");
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "completion contacted the server: {accepted:?}"
    );
    // Control: a command tries the refresh (and fails on this fake server).
    let o = cec
        .env("CEC_TIMEOUT", "2")
        .args(["ls"])
        .timeout(Duration::from_secs(90))
        .run();
    assert_ne!(o.code, 0, "{o}");
    assert!(
        listener.accept().is_ok(),
        "the control did not connect: {o}"
    );
}

/// Remote listings are cached a few seconds (file 0600 in `$XDG_RUNTIME_DIR/cec`), then
/// listed again. Prints the latency, cold and warm, against a local server without Prism.
#[test]
fn complete_caches_and_answers_fast() {
    let server = Server::start(&[]);
    let mut cec = Cec::new();
    cec.env("CEC_URL", &server.url)
        .env("CEC_TOKEN", server.token("admin"));
    let put = |path: &str| {
        let status = ureq::post(&format!("{}/a/tree/create", server.url))
            .set(
                "Authorization",
                &format!("Bearer {}", server.token("admin")),
            )
            .send_json(serde_json::json!({"Nodes":[{"Path": path, "Type": "LEAF"}]}))
            .map(|r| r.status())
            .unwrap_or(0);
        assert_eq!(status, 200);
    };
    put("common-files/first.txt");
    let (c, _, cold) = complete(&mut cec, &["ls", "common-files/"]);
    let filled = Instant::now();
    assert!(c.contains(&"common-files/first.txt".to_string()), "{c:?}");
    let cache = cec.home().join(".run/cec/completion-cache.json");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(!text.contains("admin") && !text.contains(&server.token("admin")));

    put("common-files/second.txt");
    let (c, _, warm) = complete(&mut cec, &["ls", "common-files/"]);
    if filled.elapsed() < Duration::from_secs(4) {
        assert!(
            !c.contains(&"common-files/second.txt".to_string()),
            "not from the cache: {c:?}"
        );
    }
    // Once the entry is old, the folder is listed again.
    let start = Instant::now();
    loop {
        let (c, _, _) = complete(&mut cec, &["ls", "common-files/"]);
        if c.contains(&"common-files/second.txt".to_string()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "cache never expires"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Latency: the median of 5 runs each way.
    let mut cold_runs = Vec::new();
    let mut warm_runs = Vec::new();
    for _ in 0..5 {
        std::fs::remove_file(&cache).unwrap();
        cold_runs.push(complete(&mut cec, &["ls", "common-files/"]).2);
        warm_runs.push(complete(&mut cec, &["ls", "common-files/"]).2);
    }
    cold_runs.sort();
    warm_runs.sort();
    eprintln!(
        "remote completion latency (local server, no Prism): first {cold:?}, then {warm:?}; median of 5 without cache {:?}, with cache {:?}",
        cold_runs[2], warm_runs[2]
    );
    // A generous bound that holds on a loaded 2-core machine.
    assert!(cold_runs[2] < Duration::from_secs(2), "{cold_runs:?}");
    assert!(warm_runs[2] < Duration::from_secs(2), "{warm_runs:?}");
}

/// A secret in the keyring is read when the keyring is unlocked; a locked keyring is
/// never unlocked from a TAB (that would be a password prompt): nothing is completed,
/// at once.
#[test]
fn complete_reads_the_keyring_without_unlocking_it() {
    let mut cec = Cec::new();
    cec.keyring()
        .env("CEC_TOKEN", admin_token())
        .args(["config", "add", "token", "--url", &srv().api_url])
        .run()
        .assert_ok();
    cec.env_remove("CEC_TOKEN");
    let stored = std::fs::read_to_string(cec.config_file()).unwrap();
    assert!(
        !stored.contains("idToken"),
        "the token is not in the keyring:\n{stored}"
    );
    let (c, d, _) = complete(&mut cec, &["ls", ""]);
    assert!(c.contains(&"common-files/".to_string()), "{c:?}");
    assert_eq!(d, ":6");

    const LOCK_THEN_COMPLETE: &str = r#"
dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 90
s=$(date +%s%N); "$0" "$@"; rc=$?; e=$(date +%s%N)
echo "elapsed_ms=$(( (e - s) / 1000000 ))" >&2; exit $rc
"#;
    let base = cec.command();
    let mut cmd = Command::new(crate::common::repo_root().join("tests/tools/keyring-session.sh"));
    cmd.args(["sh", "-c", LOCK_THEN_COMPLETE])
        .arg(crate::common::cec_bin())
        .args(["__complete", "ls", ""]);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout, ":1\n", "{stderr}");
    let ms: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ms="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no timing: {stderr}"));
    assert!(ms < 2000, "{ms} ms with a locked keyring: {stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
}

/// A server that pages forever, one that never answers, and names with control
/// characters: TAB still gets an answer within a few seconds, and no name breaks the
/// one-candidate-per-line protocol.
#[test]
fn complete_against_hostile_servers() {
    use crate::hostile::{node, Hostile, Reply};
    let endless = Hostile::start(|req| {
        if req.path() != "/a/tree/stats" {
            return Reply::not_found();
        }
        let offset = req.json()["Offset"].as_i64().unwrap_or(0);
        let nodes: Vec<Value> = (offset..offset + 1000)
            .map(|i| node(&format!("ws/n{i}"), &format!("u{i}"), false, 1))
            .collect();
        Reply::json(
            200,
            serde_json::json!({"Nodes": nodes, "Pagination": {"Limit": 1000, "NextOffset": offset + 1000}}),
        )
    });
    let silent = Hostile::start(|_| {
        Reply::Custom(Box::new(|_| std::thread::sleep(Duration::from_secs(30))))
    });
    let odd = Hostile::start(|req| {
        if req.path() != "/a/tree/stats" {
            return Reply::not_found();
        }
        let nodes: Vec<Value> = [
            "ws/a\nb.txt",
            "ws/ok.txt",
            "ws/t\tab.txt",
            "ws/esc\u{1b}[2J",
        ]
        .iter()
        .enumerate()
        .map(|(i, p)| node(p, &format!("u{i}"), false, 1))
        .collect();
        Reply::json(200, serde_json::json!({ "Nodes": nodes }))
    });
    for (server, within) in [(&endless, 8), (&silent, 5)] {
        let mut cec = Cec::new();
        cec.env("CEC_URL", &server.url)
            .env("CEC_TOKEN", "test-token");
        let (c, d, took) = complete(&mut cec, &["ls", "ws/"]);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(d, ":1");
        assert!(took < Duration::from_secs(within), "{took:?}");
    }
    let mut cec = Cec::new();
    cec.env("CEC_URL", &odd.url).env("CEC_TOKEN", "test-token");
    let (c, d, _) = complete(&mut cec, &["ls", "ws/"]);
    assert_eq!(c, ["ws/ok.txt"]);
    assert_eq!(d, ":6");
}
