//! HTTP behaviour against the dev server: TLS (verification, SSL_CERT_FILE,
//! --skip-verify), proxies and NO_PROXY, retries on 5xx, debug logs without
//! secrets, JSON errors as one line.

use crate::common::{Cec, Server};

#[test]
fn tls_verification_cert_file_and_skip_verify() {
    let s = Server::start(&["--tls"]);
    assert!(s.url.starts_with("https://"));
    let t = s.token("alice");
    let mut cec = Cec::new();
    let out = cec.args(["--url", &s.url, "--token", &t, "info"]).run();
    out.assert_code(1);
    assert!(out.stderr.to_lowercase().contains("certificate"), "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    cec.args(["--url", &s.url, "--token", &t, "--skip-verify", "info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    cec.env("SSL_CERT_FILE", s.ca_pem());
    cec.args(["--url", &s.url, "--token", &t, "info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice");
    // a stored account keeps its skipVerify choice
    let mut cec = Cec::new();
    cec.args([
        "--skip-verify",
        "--skip-keyring",
        "config",
        "add",
        "token",
        "--url",
        &s.url,
        "--token",
        &t,
    ])
    .run()
    .assert_ok();
    cec.args(["info"]).run().assert_ok();
}

#[test]
fn proxy_variables_and_no_proxy() {
    let s = Server::shared();
    let t = s.token("bob");
    let dead = format!("http://127.0.0.1:{}", crate::common::free_port());
    let mut cec = Cec::new();
    cec.env("HTTP_PROXY", &dead).env("https_proxy", &dead);
    let out = cec.args(["--url", &s.url, "--token", &t, "info"]).run();
    out.assert_code(1);
    assert!(out.duration.as_secs() < 10, "{out}");
    cec.env("NO_PROXY", "localhost,127.0.0.1");
    cec.args(["--url", &s.url, "--token", &t, "info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
}

#[test]
fn retries_hide_transient_5xx() {
    let s = Server::start(&["--fail-rate", "0.3"]);
    let t = s.token("alice");
    let mut cec = Cec::new();
    for _ in 0..5 {
        cec.args(["--url", &s.url, "--token", &t, "info"])
            .run()
            .assert_ok();
    }
}

#[test]
fn debug_log_redacts_secrets() {
    let s = Server::shared();
    let t = s.token("alice");
    let mut cec = Cec::new();
    let out = cec
        .args(["--url", &s.url, "--token", &t, "--log", "debug", "info"])
        .run();
    out.assert_ok();
    assert!(
        out.stderr.contains("GET") && out.stderr.contains("/a/frontend/state"),
        "{out}"
    );
    assert!(!out.stderr.contains(&t), "token in debug log:\n{out}");
    let out = cec
        .args([
            "--url",
            &s.url,
            "--login",
            "alice",
            "--password",
            "alice123",
            "--log",
            "debug",
            "info",
        ])
        .run();
    out.assert_ok();
    assert!(!out.stderr.contains("alice123"), "{out}");
}

#[test]
fn bad_token_is_one_readable_line() {
    let s = Server::shared();
    let mut cec = Cec::new();
    let out = cec
        .args(["--url", &s.url, "--token", "not-a-token", "info"])
        .run();
    out.assert_code(3);
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    assert!(out.stderr.starts_with("Error: "), "{out}");
}
