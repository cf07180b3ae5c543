//! Authentication end to end against an in-process mock (tests/auth_mock):
//! PAT and login/password in env/flag mode, `config add token|client-auth`,
//! the OAuth code flow (copy/paste and loopback callback, state and PKCE), and
//! token refresh by concurrent processes with single-use refresh tokens.

use crate::auth_mock::{browser_login, Mock};
use crate::common::{cmd_with, query, spawn, wait_exit, wait_line, Cec};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn pat_via_flags_and_env() {
    let m = Mock::start(600);
    let t = m.pat("alice");
    let mut cec = Cec::new();
    cec.args(["--url", &m.url, "--token", &t, "info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice")
        .assert_stdout_contains("PAT")
        .assert_stdout_contains("4.4.9");
    cec.env("CEC_URL", &m.url).env("CEC_TOKEN", &t);
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    cec.args(["--token", "wrong", "info"])
        .run()
        .assert_code(3)
        .assert_stderr_contains("401");
    assert!(
        !cec.config_dir().exists(),
        "env mode must not write anything"
    );
}

#[test]
fn session_via_flags() {
    let m = Mock::start(600);
    let mut cec = Cec::new();
    cec.args([
        "--url",
        &m.url,
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
    cec.env("CEC_URL", &m.url)
        .env("CEC_LOGIN", "bob")
        .env("CEC_PASSWORD", "nope");
    let out = cec.args(["info"]).run();
    out.assert_code(3).assert_stderr_contains("Login failed");
    assert!(!out.stderr.contains("nope"), "password leaked: {out}");
}

#[test]
fn add_token_and_client_auth_then_ls_use_rm() {
    let m = Mock::start(600);
    let t = m.pat("alice");
    let mut cec = Cec::new();
    let f = cec.config_file();
    let out = cec
        .args(["config", "add", "token", "--url", &m.url, "--token", &t])
        .run();
    out.assert_ok()
        .assert_stderr_contains("Could not access local keyring")
        .assert_stderr_contains("as alice with");
    assert_eq!(mode(&f), 0o600);
    let host = m.url.trim_start_matches("http://").to_string();
    let id_alice = format!("alice@{host}");
    let v = json(&f);
    assert_eq!(v["ActiveConfigID"], id_alice.as_str());
    assert_eq!(v["Configs"][&id_alice]["idToken"], t.as_str());
    assert_eq!(v["Configs"][&id_alice]["skipKeyring"], true);
    assert_eq!(v["Configs"][&id_alice]["useTokenCache"], true);
    assert!(v["Configs"][&id_alice]["CustomHeaders"].is_null());

    // client-auth with --skip-keyring: no warning, stored password
    let out = cec
        .args([
            "--skip-keyring",
            "config",
            "add",
            "client-auth",
            "--url",
            &m.url,
            "--login",
            "Bob",
            "--password",
            "bob123",
        ])
        .run();
    out.assert_ok();
    assert!(!out.stderr.contains("keyring"), "{out}");
    assert_eq!(mode(&f), 0o600);
    let id_bob = format!("bob@{host}");
    let v = json(&f);
    assert_eq!(
        v["ActiveConfigID"],
        id_bob.as_str(),
        "new account becomes active"
    );
    assert_eq!(v["Configs"][&id_bob]["authType"], "session");
    assert_eq!(
        v["Configs"][&id_bob]["user"], "bob",
        "login as reported by the server"
    );

    let ls = cec.args(["config", "ls"]).run();
    ls.assert_ok()
        .assert_stdout_contains("PAT")
        .assert_stdout_contains("Login/Password");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
    cec.args(["config", "use", &id_alice]).run().assert_ok();
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    assert_eq!(mode(&f), 0o600);
    cec.args(["config", "rm", "-f", &id_alice])
        .run()
        .assert_ok();
    assert_eq!(json(&f)["ActiveConfigID"], id_bob.as_str());
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
    assert_eq!(mode(&f), 0o600);

    // bad credentials are refused and nothing is saved
    let before = std::fs::read_to_string(&f).unwrap();
    cec.args(["config", "add", "token", "--url", &m.url, "--token", "bad"])
        .run()
        .assert_code(3);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), before);
}

/// Copy/paste flow: URL printed on stderr, code pasted on stdin.
fn oauth_oob(m: &Mock, cec: &mut Cec, user: &str) {
    let (mut child, rx) = spawn(
        cec,
        &["config", "add", "oauth", "--url", &m.url, "--no-browser"],
    );
    let url = wait_line(&rx, |l| l.contains("/oidc/oauth2/auth?"));
    let p = query(url.trim());
    assert_eq!(p["client_id"], "cells-client");
    assert_eq!(p["redirect_uri"], format!("{}/oauth2/oob", m.url));
    assert_eq!(p["state"].len(), 16);
    assert_eq!(p["code_challenge_method"], "S256");
    let loc = browser_login(url.trim(), user, &format!("{user}123"));
    let code = query(&loc)["code"].clone();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    let (code, rest) = wait_exit(child, &rx);
    assert_eq!(code, 0, "oauth oob failed: {rest}");
}

#[test]
fn oauth_copy_paste_flow_with_pkce() {
    let m = Mock::start(600);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "true");
    oauth_oob(&m, &mut cec, "alice");
    let v = json(&cec.config_file());
    let id = v["ActiveConfigID"].as_str().unwrap().to_string();
    let a = &v["Configs"][&id];
    assert_eq!(a["authType"], "oauth2");
    assert!(a["idToken"].as_str().unwrap().starts_with("at-alice"));
    assert!(a["refreshToken"].as_str().unwrap().starts_with("rt-alice"));
    assert!(a["tokenExpiresAt"].as_i64().unwrap() > 0);
    assert_eq!(mode(&cec.config_file()), 0o600);
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice")
        .assert_stdout_contains("OAuth2");
    let s = m.state.lock().unwrap();
    assert!(s.token_requests[0].contains("code_verifier="));
}

#[test]
fn oauth_loopback_callback_checks_path_and_state() {
    let m = Mock::start(600);
    let port = crate::common::free_port();
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "true").env("BROWSER", "true");
    let port_s = port.to_string();
    let (child, rx) = spawn(
        &cec,
        &[
            "config",
            "add",
            "oauth",
            "--url",
            &m.url,
            "--port",
            &port_s,
            "--no-pkce",
        ],
    );
    let url = wait_line(&rx, |l| l.contains("/oidc/oauth2/auth?"));
    let p = query(url.trim());
    assert_eq!(
        p["redirect_uri"],
        format!("http://localhost:{port}/servers/callback")
    );
    assert!(!p.contains_key("code_challenge"), "--no-pkce");
    let loc = browser_login(url.trim(), "bob", "bob123");
    assert!(loc.starts_with(&format!("http://localhost:{port}/servers/callback?")));
    let cb = loc.replace("localhost", "127.0.0.1");
    let agent = ureq::AgentBuilder::new().build();
    let status = |u: &str| match agent.get(u).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    // other paths and forged states are refused, and the flow keeps waiting
    assert_eq!(status(&format!("http://127.0.0.1:{port}/favicon.ico")), 404);
    let state = query(&loc)["state"].clone();
    assert_eq!(status(&cb.replace(&state, "AAAAAAAAAAAAAAAA")), 400);
    assert_eq!(status(&cb), 200);
    let (code, rest) = wait_exit(child, &rx);
    assert_eq!(code, 0, "{rest}");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
}

#[test]
fn oauth_callback_timeout_is_clear() {
    let m = Mock::start(600);
    let port = crate::common::free_port();
    let mut cec = Cec::new();
    cec.env("BROWSER", "true");
    let out = cec
        .args([
            "config",
            "add",
            "oauth",
            "--url",
            &m.url,
            "--port",
            &port.to_string(),
            "--timeout",
            "1",
        ])
        .run();
    out.assert_code(3).assert_stderr_contains("timed out");
    assert!(!cec.config_file().exists());
}

#[test]
fn refresh_by_concurrent_processes_never_replays() {
    // 5 s tokens: every command finds the token within 60 s of expiry and refreshes
    let m = Mock::start(5);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "true");
    oauth_oob(&m, &mut cec, "alice");
    let mut children = Vec::new();
    for _ in 0..4 {
        let mut c = cmd_with(&cec, &["info"]);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        children.push(c.spawn().unwrap());
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("alice"));
    }
    let s = m.state.lock().unwrap();
    assert_eq!(s.replays, 0, "a refresh token was spent twice");
    assert_eq!(s.refresh_calls, 4, "each process refreshed once, in turn");
    let v = json(&cec.config_file());
    let id = v["ActiveConfigID"].as_str().unwrap();
    let rt = v["Configs"][id]["refreshToken"].as_str().unwrap();
    assert!(
        s.refresh.contains_key(rt),
        "the file holds the newest refresh token"
    );
    assert_eq!(s.refresh.len(), 1);
    drop(s);
    assert_eq!(mode(&cec.config_file()), 0o600);
}

#[test]
fn revoked_refresh_token_asks_for_relog() {
    let m = Mock::start(5);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "true");
    oauth_oob(&m, &mut cec, "alice");
    m.state.lock().unwrap().refresh.clear();
    cec.args(["info"])
        .run()
        .assert_code(3)
        .assert_stderr_contains("relog");
}

#[test]
fn concurrent_adds_never_lose_an_account() {
    let m = Mock::start(600);
    let cec = Cec::new();
    let users = ["u1", "u2", "u3", "u4", "u5", "u6"];
    let children: Vec<Child> = users
        .iter()
        .map(|u| {
            let t = m.pat(u);
            let mut c = cmd_with(
                &cec,
                &[
                    "--skip-keyring",
                    "config",
                    "add",
                    "token",
                    "--url",
                    &m.url,
                    "--token",
                    &t,
                ],
            );
            c.stdout(Stdio::null()).stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = json(&cec.config_file());
    let host = m.url.trim_start_matches("http://").to_string();
    for u in users {
        assert!(
            v["Configs"].get(format!("{u}@{host}")).is_some(),
            "{u} lost: {v}"
        );
    }
    assert_eq!(mode(&cec.config_file()), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(cec.config_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn url_alone_selects_the_stored_account_of_that_server() {
    let m1 = Mock::start(600);
    let m2 = Mock::start(600);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    cec.args([
        "config",
        "add",
        "token",
        "--url",
        &m1.url,
        "--token",
        &m1.pat("alice"),
    ])
    .run()
    .assert_ok();
    cec.args([
        "config",
        "add",
        "token",
        "--url",
        &m2.url,
        "--token",
        &m2.pat("bob"),
    ])
    .run()
    .assert_ok();
    let out = cec.args(["--url", &m1.url, "info"]).run();
    out.assert_ok().assert_stdout_contains("alice");
    assert!(!out.stderr.contains("Warning"), "{out}");
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
    // No account for that server: an error, not the active account of another server.
    let out = cec.args(["--url", "http://127.0.0.1:9", "info"]).run();
    out.assert_code(3)
        .assert_stderr_contains("no saved account for http://127.0.0.1:9");
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn custom_headers_of_the_account_are_sent() {
    let m = Mock::start(600);
    let mut cec = Cec::new();
    let f = cec.config_file();
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    let host = m.url.trim_start_matches("http://").to_string();
    std::fs::write(
        &f,
        format!(
            r#"{{"ActiveConfigID":"a@{host}","Configs":{{"a@{host}":{{"authType":"pat","url":"{url}","user":"alice","idToken":"{t}","skipVerify":false,"useTokenCache":true,"CustomHeaders":{{"X-Custom":"hello"}},"label":"a","skipKeyring":true,"createdAtVersion":"4.3.1"}}}}}}"#,
            url = m.url,
            t = m.pat("alice")
        ),
    )
    .unwrap();
    cec.args(["info"]).run().assert_ok();
    assert!(m
        .state
        .lock()
        .unwrap()
        .custom_headers
        .iter()
        .any(|h| h == "hello"));
}
