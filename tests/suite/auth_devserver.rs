//! Authentication against the development server (tests/devserver): PAT via
//! flags and env, `config add token|client-auth` then `ls/use/rm`, the OAuth
//! code flow driven like a browser (state, PKCE), and refresh by concurrent
//! processes with single-use rotating refresh tokens.

use crate::auth_mock::{browser_login, oauth_oob};
use crate::common::{cmd_with, query, spawn, wait_exit, wait_line, Cec, Server};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

#[test]
fn pat_via_flags_and_env() {
    let s = Server::shared();
    let t = s.token("alice");
    let mut cec = Cec::new();
    cec.args(["--url", &s.api_url, "--token", &t, "info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice")
        .assert_stdout_contains("PAT");
    cec.env("CEC_URL", &s.api_url).env("CEC_TOKEN", &t);
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    let expired = s.token_expiring("alice", "-1s");
    cec.args(["--token", &expired, "info"]).run().assert_code(3);
    cec.args(["--token", "garbage", "info"])
        .run()
        .assert_code(3);
    assert!(!cec.config_dir().exists());
}

#[test]
fn session_login_via_flags() {
    let s = Server::shared();
    let mut cec = Cec::new();
    cec.args([
        "--url",
        &s.api_url,
        "--login",
        "bob",
        "--password",
        "bob123",
        "info",
    ])
    .run()
    .assert_ok()
    .assert_stdout_contains("bob")
    .assert_stdout_contains("Login/Password");
    cec.args([
        "--url",
        &s.api_url,
        "--login",
        "bob",
        "--password",
        "wrong",
        "info",
    ])
    .run()
    .assert_code(3);
}

#[test]
fn add_token_and_client_auth_then_ls_use_rm() {
    let s = Server::shared();
    let mut cec = Cec::new();
    let f = cec.config_file();
    let host = host_of(&s.api_url);
    cec.args([
        "config",
        "add",
        "token",
        "--url",
        &s.api_url,
        "--token",
        &s.token("alice"),
    ])
    .run()
    .assert_ok();
    assert_eq!(mode(&f), 0o600);
    cec.args([
        "config",
        "add",
        "client-auth",
        "--url",
        &s.api_url,
        "--login",
        "admin",
        "--password",
        "admin123",
    ])
    .run()
    .assert_ok();
    assert_eq!(mode(&f), 0o600);
    let v = json(&f);
    assert_eq!(v["ActiveConfigID"], format!("admin@{host}"));
    cec.args(["config", "ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains(&format!("alice@{}", host.split(':').next().unwrap()))
        .assert_stdout_contains("Login/Password");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("admin");
    cec.args(["config", "use", &format!("alice@{host}")])
        .run()
        .assert_ok();
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    cec.args(["config", "rm", "-f", &format!("alice@{host}")])
        .run()
        .assert_ok();
    assert_eq!(json(&f)["ActiveConfigID"], format!("admin@{host}"));
    assert_eq!(mode(&f), 0o600);
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("admin");
}

#[test]
fn oauth_code_flow_with_pkce_then_refresh() {
    let s = Server::start(&["--token-lifetime", "30"]);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = oauth_oob(&s.url, &cec, crate::common::ALICE, &[]);
    assert_eq!(code, 0, "{err}");
    let f = cec.config_file();
    let v = json(&f);
    let id = v["ActiveConfigID"].as_str().unwrap().to_string();
    assert!(id.starts_with("alice@"));
    let a = &v["Configs"][&id];
    assert_eq!(a["authType"], "oauth2");
    let rt0 = a["refreshToken"].as_str().unwrap().to_string();
    assert!(!rt0.is_empty());
    assert_eq!(mode(&f), 0o600);
    // 30 s tokens are always within the 60 s margin: info refreshes first
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice")
        .assert_stdout_contains("OAuth2");
    let rt1 = json(&f)["Configs"][&id]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rt0, rt1, "rotated refresh token saved");
    assert_eq!(mode(&f), 0o600);
}

#[test]
fn oauth_require_pkce_server() {
    let s = Server::start(&["--require-pkce"]);
    let cec = Cec::new();
    let (mut child, rx) = spawn(
        &cec,
        &[
            "config",
            "add",
            "oauth",
            "--url",
            &s.url,
            "--no-browser",
            "--no-pkce",
        ],
    );
    let auth = wait_line(&rx, |l| l.contains("/oidc/oauth2/auth?"));
    // without PKCE the server answers an error (page or error redirect), no login form
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let status = match agent.get(auth.trim()).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    assert!(
        status == 302 || status == 303 || status >= 400,
        "status {status}"
    );
    drop(child.stdin.take());
    let (code, _) = wait_exit(child, &rx);
    assert_ne!(code, 0);
    assert!(!cec.config_file().exists());
    // with PKCE (the default) the same server accepts the flow
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = oauth_oob(&s.url, &cec, crate::common::ALICE, &[]);
    assert_eq!(code, 0, "{err}");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
}

#[test]
fn concurrent_refresh_with_single_use_refresh_tokens() {
    let s = Server::start(&["--token-lifetime", "5"]);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let (code, err) = oauth_oob(&s.url, &cec, crate::common::BOB, &[]);
    assert_eq!(code, 0, "{err}");
    for round in 0..2 {
        let children: Vec<Child> = (0..3)
            .map(|_| {
                let mut c = cmd_with(&cec, &["info"]);
                c.stdout(Stdio::piped()).stderr(Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // the file holds a live refresh token: one more refresh still works
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
    assert_eq!(mode(&cec.config_file()), 0o600);
}

#[test]
fn oauth_loopback_callback_flow() {
    let s = Server::start(&["--require-pkce"]);
    let port = crate::common::free_port();
    let port_s = port.to_string();
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1").env("BROWSER", "true");
    let (child, rx) = spawn(
        &cec,
        &["config", "add", "oauth", "--url", &s.url, "--port", &port_s],
    );
    let auth = wait_line(&rx, |l| l.contains("/oidc/oauth2/auth?"));
    let p = query(auth.trim());
    assert_eq!(
        p["redirect_uri"],
        format!("http://localhost:{port}/servers/callback")
    );
    assert_eq!(p["code_challenge_method"], "S256");
    let loc = browser_login(auth.trim(), crate::common::BOB.0, crate::common::BOB.1);
    assert!(
        loc.starts_with(&format!("http://localhost:{port}/servers/callback?")),
        "{loc}"
    );
    let cb = loc.replace("localhost", "127.0.0.1");
    let agent = ureq::AgentBuilder::new().build();
    let status = |u: &str| match agent.get(u).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status(&format!("http://127.0.0.1:{port}/other")), 404);
    let state = query(&loc)["state"].clone();
    assert_eq!(status(&cb.replace(&state, "ZZZZZZZZZZZZZZZZ")), 400);
    assert_eq!(status(&cb), 200);
    let (code, rest) = wait_exit(child, &rx);
    assert_eq!(code, 0, "{rest}");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob")
        .assert_stdout_contains("OAuth2");
}

/// Every auth mode with `--log debug`, including a refresh and an S3 transfer (whose
/// signature uses the token as access key): no secret in any output (the harness checks
/// every run against the tokens and passwords it gave and those saved in the config).
#[test]
fn debug_logs_never_show_secrets() {
    let s = Server::start(&["--token-lifetime", "30"]);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("secret-test.txt");
    std::fs::write(&f, b"hello").unwrap();
    let up = ["scp", f.to_str().unwrap(), "cells://common-files/"];
    // PAT in environment mode.
    let mut pat = Cec::new();
    pat.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token("admin"))
        .env("CEC_LOG", "debug");
    let out = pat.args(["ls", "common-files"]).run();
    out.assert_ok().assert_stderr_contains("DEBUG");
    pat.args(up).run().assert_ok();
    // Login and password in environment mode.
    let mut session = Cec::new();
    session
        .env("CEC_URL", &s.url)
        .env("CEC_LOGIN", crate::common::ALICE.0)
        .env("CEC_PASSWORD", crate::common::ALICE.1)
        .env("CEC_LOG", "debug");
    session.args(["ls", "common-files"]).run().assert_ok();
    // OAuth: login, then a refresh (30 s tokens are within the refresh margin).
    let mut oauth = Cec::new();
    oauth.env("CEC_SKIP_KEYRING", "1").env("CEC_LOG", "debug");
    let (code, err) = oauth_oob(&s.url, &oauth, crate::common::BOB, &[]);
    assert_eq!(code, 0, "{err}");
    let secrets = oauth.known_secrets();
    assert!(secrets.len() >= 2, "tokens saved: {secrets:?}");
    for s in &secrets {
        assert!(!err.contains(s.as_str()), "secret in the login output");
    }
    let out = oauth.args(["--log", "debug", "info"]).run();
    out.assert_ok()
        .assert_stderr_contains("token has been refreshed");
    out.assert_no_secrets(&secrets);
    oauth
        .args([
            "--log",
            "debug",
            "scp",
            f.to_str().unwrap(),
            "cells://personal-files/",
        ])
        .run()
        .assert_ok();
}
