//! Smoke tests of the shared test harness (tests/common): the development server starts,
//! tokens work, REST goes through Prism when `CEC_PRISM` is set, cec runs isolated, and
//! the tmux terminal driver captures screens and exit codes.

use crate::common::{Cec, Server, Tty};
use std::process::Command;
use std::time::Duration;

fn get(url: &str, bearer: Option<&str>) -> (u16, String, String) {
    let mut req = ureq::get(url).timeout(Duration::from_secs(30));
    if let Some(t) = bearer {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => {
            let ct = r.content_type().to_string();
            (r.status(), ct, r.into_string().unwrap_or_default())
        }
        Err(ureq::Error::Status(code, r)) => {
            let ct = r.content_type().to_string();
            (code, ct, r.into_string().unwrap_or_default())
        }
        Err(e) => panic!("GET {url}: {e}"),
    }
}

#[test]
fn shared_server_answers_authenticated_rest() {
    let s = Server::shared();
    assert!(s.url.starts_with("http://127.0.0.1:"), "url {}", s.url);
    assert!(s.root.is_dir());
    if std::env::var_os("CEC_PRISM").is_some_and(|p| !p.is_empty()) {
        assert!(
            s.validated(),
            "CEC_PRISM is set: the shared server must be behind Prism"
        );
        assert_ne!(s.api_url, s.url);
    }
    let token = s.token("admin");
    assert!(!token.is_empty() && !token.contains(char::is_whitespace));

    let (code, _, body) = get(&format!("{}/a/frontend/bootconf", s.api_url), Some(&token));
    assert_eq!(code, 200, "bootconf: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("bootconf is JSON");
    assert!(v.is_object(), "bootconf: {body}");

    let (code, ct, body) = get(&format!("{}/a/frontend/state", s.api_url), Some(&token));
    assert_eq!(code, 200, "state: {body}");
    assert!(ct.contains("xml"), "state content type {ct}");
    assert!(body.contains("<user id=\"admin\""), "state: {body}");

    let (code, _, body) = get(
        &format!("{}/a/tree/stat/common-files%2Fwelcome.txt", s.api_url),
        Some(&token),
    );
    assert_eq!(code, 200, "stat: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["Node"]["Type"], "LEAF", "stat: {body}");

    let (code, _, body) = get(
        &format!("{}/a/tree/stat/common-files%2Fno-such-file", s.api_url),
        Some(&token),
    );
    assert_eq!(code, 404, "missing node: {body}");

    s.assert_no_violations();
}

#[test]
fn tokens_expire_and_users_are_distinct() {
    let s = Server::shared();
    let expired = s.token_expiring("alice", "-1s");
    let (code, _, body) = get(
        &format!("{}/a/tree/stat/common-files%2Fwelcome.txt", s.api_url),
        Some(&expired),
    );
    assert_eq!(code, 401, "expired token must be refused: {body}");
    let (code, _, body) = get(
        &format!("{}/a/frontend/state", s.api_url),
        Some(&s.token("bob")),
    );
    assert_eq!(code, 200);
    assert!(body.contains("<user id=\"bob\""), "state: {body}");
    s.assert_no_violations();
}

#[test]
fn private_server_restarts_on_same_root_and_port() {
    let s = Server::start(&[]);
    assert_eq!(s.api_url, s.url, "private servers are direct");
    let token = s.token("admin");
    let stat = format!("{}/a/tree/stat/common-files%2Fwelcome.txt", s.url);
    assert_eq!(get(&stat, Some(&token)).0, 200);
    s.restart();
    // Tokens are stateless (server secret kept in the root): still valid after a restart.
    assert_eq!(get(&stat, Some(&token)).0, 200);
    let url = s.url.clone();
    drop(s);
    assert!(
        ureq::get(&format!("{url}/a/frontend/bootconf"))
            .timeout(Duration::from_secs(2))
            .call()
            .is_err(),
        "server must be gone after drop"
    );
}

#[test]
fn prism_reports_violations() {
    assert!(
        std::env::var_os("CEC_PRISM").is_some_and(|p| !p.is_empty()),
        "CEC_PRISM is not set: run the tests with `make test` (it installs Prism and sets it)"
    );
    let s = Server::start_validated(&[]);
    s.expect_violations();
    assert!(s.validated());
    let token = s.token("admin");
    // A literal '/' in {Node} does not match the spec's single-segment path parameter
    // (clients must send %2F, docs/protocol.md §1.5); Prism refuses it.
    let (code, _, _) = get(
        &format!("{}/a/tree/stat/common-files/welcome.txt", s.api_url),
        Some(&token),
    );
    assert_eq!(code, 404);
    let v = s.violations();
    assert!(
        v.iter().any(|l| l.contains("NO_PATH_MATCHED")),
        "violations: {v:?}\nlog:\n{}",
        s.prism_log()
    );
}

#[test]
fn cec_runs_isolated() {
    let mut cec = Cec::new();
    let out = cec
        .env("CEC_URL", "http://127.0.0.1:9")
        .args(["--version"])
        .run();
    out.assert_no_panic();
    // The isolated environment: HOME and XDG_CONFIG_HOME point into a temp dir.
    assert!(cec.home().starts_with(std::env::temp_dir()));
    assert!(cec
        .config_file()
        .ends_with(".config/pydio/cells-client/config.json"));
    let env = cec
        .command()
        .get_envs()
        .fold(Vec::new(), |mut acc, (k, v)| {
            acc.push((k.to_owned(), v.map(|v| v.to_owned())));
            acc
        });
    for (k, v) in &env {
        let k = k.to_string_lossy();
        if k == "DBUS_SESSION_BUS_ADDRESS" || (k.starts_with("CELLS_") && v.is_some()) {
            panic!("{k} must be removed");
        }
    }
}

#[test]
fn tty_drives_a_terminal() {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "[ -t 0 ] && echo stdin-is-a-tty; printf 'Name? '; read x; echo \"hello $x\"; exit 3",
    ]);
    let t = Tty::spawn(cmd);
    t.wait_for("Name?", Duration::from_secs(10));
    assert!(t.screen().contains("stdin-is-a-tty"));
    t.send_line("world");
    t.wait_for("hello world", Duration::from_secs(10));
    assert_eq!(t.wait_exit(Duration::from_secs(10)), 3);
}

#[test]
fn tty_ctrl_c_reaches_the_program() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo ready; exec sleep 30"]);
    let t = Tty::spawn(cmd);
    t.wait_for("ready", Duration::from_secs(10));
    t.key("C-c");
    assert_eq!(t.wait_exit(Duration::from_secs(10)), 130);
}

#[test]
fn keyring_session_wrapper_gives_a_secret_service() {
    let cec = Cec::new();
    let script = crate::common::repo_root().join("tests/tools/keyring-session.sh");
    let run = |sh: &str| {
        let base = cec.command();
        let mut cmd = Command::new(&script);
        cmd.args(["sh", "-c", sh]);
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.output().expect("run keyring-session.sh")
    };
    let out = run("printf s3cret | secret-tool store --label=t service cec-infra account a");
    assert!(out.status.success(), "store: {out:?}");
    // A second session on the same HOME sees the secret (persisted keyring).
    let out = run("secret-tool lookup service cec-infra account a");
    assert!(out.status.success(), "lookup: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "s3cret");
    assert!(out.stderr.is_empty(), "no bus noise on stderr: {out:?}");
}
