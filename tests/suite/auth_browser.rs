//! `cec config add oauth` in a real browser: Debian's headless Chromium (driven by
//! tests/tools/browser-login.mjs through `BROWSER`) logs in at a certified OpenID provider
//! (npm `oidc-provider`, configured like Cells' Hydra by tests/tools/oidc-provider.mjs) and at
//! the dev server's own login page. Then the provider judges the refresh, a replayed refresh
//! token and a revoked grant. `make deps` installs chromium and the npm packages; a missing
//! one fails these tests. On failure the browser's last page is saved as
//! target/test-logs/<test>-browser.png (with the driver's log beside it).

use crate::common::{free_port, repo_root, Cec, Out, Server};
use serde_json::Value;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

const DONE_TEXT: &str = "You can now close this window and go back to your shell!";
const FAILED_TEXT: &str = "Authentication failed. You can close this window.";

fn node_modules() -> PathBuf {
    let dir = std::env::var_os("CEC_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/browser/node_modules"));
    for pkg in ["oidc-provider", "playwright-core"] {
        assert!(
            dir.join(pkg).join("package.json").exists(),
            "npm package {pkg} is not in {} (run `make deps`)",
            dir.display()
        );
    }
    dir
}

fn chromium() -> PathBuf {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.exists(),
        "{} not found (run `make deps`: Debian package chromium)",
        p.display()
    );
    p
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// tests/tools/oidc-provider.mjs in front of a dev server: /oidc/* is the provider, the
/// rest goes to the dev server with the provider's access tokens checked and swapped.
struct Front {
    url: String,
    log: PathBuf,
    child: Child,
    _dir: TempDir,
}

impl Front {
    fn start(dev: &Server, callback_port: u16, access_ttl: u64) -> Front {
        let dir = tempfile::Builder::new()
            .prefix("cec-oidc-")
            .tempdir()
            .unwrap();
        let users: serde_json::Map<String, Value> = [crate::common::ALICE, crate::common::BOB]
            .iter()
            .map(|(u, pw)| {
                let v = serde_json::json!({"password": pw, "token": dev.token(u)});
                (u.to_string(), v)
            })
            .collect();
        let cfg = serde_json::json!({
            "upstream": dev.url,
            "redirect_uris": [format!("http://localhost:{callback_port}/servers/callback")],
            "access_token_ttl": access_ttl,
            "users": users,
        });
        let cfg_file = dir.path().join("config.json");
        fs::write(&cfg_file, cfg.to_string()).unwrap();
        let log = dir.path().join("oidc.log");
        let mut cmd = Command::new("node");
        cmd.arg(repo_root().join("tests/tools/oidc-provider.mjs"))
            .arg(&cfg_file)
            .env("CEC_NODE_MODULES", node_modules())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).unwrap());
        let mut child = crate::common::spawn_helper(cmd).expect("start node (run `make deps`)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = match line.trim().strip_prefix("listening on ") {
            Some(u) => u.to_string(),
            None => panic!(
                "oidc-provider.mjs did not start: {line:?}\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            ),
        };
        Front {
            url,
            log,
            child,
            _dir: dir,
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// POST a form to the provider; (status, JSON body).
    fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = ureq::post(&format!("{}/oidc{path}", self.url)).send_form(form);
        let (status, resp) = match r {
            Ok(r) => (r.status(), r),
            Err(ureq::Error::Status(c, r)) => (c, r),
            Err(e) => panic!("POST {path}: {e}"),
        };
        let body = resp.into_string().unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// RFC 7009 revocation of a refresh token (the provider then revokes its grant).
    fn revoke(&self, refresh_token: &str) {
        let (status, body) = self.post(
            "/oauth2/revoke",
            &[
                ("client_id", "cells-client"),
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
            ],
        );
        assert_eq!(status, 200, "revocation refused: {body}");
    }

    /// The provider's answer to a refresh grant.
    fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.post(
            "/oauth2/token",
            &[
                ("client_id", "cells-client"),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
    }

    /// Does the REST API behind the front take this access token for `user`?
    fn accepts(&self, access_token: &str, user: &str) -> bool {
        let r = ureq::get(&format!("{}/a/frontend/state", self.url))
            .set("Authorization", &format!("Bearer {access_token}"))
            .call();
        match r {
            Ok(r) => r
                .into_string()
                .unwrap_or_default()
                .contains(&format!("<user id=\"{user}\"")),
            Err(_) => false,
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- oidc-provider.mjs log ---\n{}", self.log_text());
        }
    }
}

/// The browser `cec` opens: its output directory, copied to target/test-logs on failure.
struct Browser {
    name: &'static str,
    out: TempDir,
}

impl Browser {
    fn new(name: &'static str) -> Browser {
        chromium();
        node_modules();
        let out = tempfile::Builder::new()
            .prefix("cec-browser-")
            .tempdir()
            .unwrap();
        Browser { name, out }
    }

    /// Make `cec` open this browser, logging in as `user`.
    fn give_to(&self, cec: &mut Cec, user: (&str, &str)) {
        crate::common::register_secret(user.1);
        let script = repo_root().join("tests/tools/browser-login.mjs");
        cec.env("BROWSER", format!("node {}", script.display()))
            .env("BROWSER_LOGIN", user.0)
            .env("BROWSER_PASSWORD", user.1)
            .env("BROWSER_OUT", self.out.path())
            .env("CHROMIUM", chromium())
            .env("CEC_NODE_MODULES", node_modules());
    }

    /// The driver's result.json, once it has written it (it outlives `cec`).
    fn result(&self) -> Value {
        let f = self.out.path().join("result.json");
        let text =
            crate::common::wait_until(Duration::from_secs(120), "the browser driver", || {
                fs::read_to_string(&f).ok()
            });
        serde_json::from_str(&text).unwrap()
    }

    /// The driver reached cec's callback page: its text.
    #[track_caller]
    fn callback_text(&self, callback_port: u16) -> String {
        let r = self.result();
        assert_eq!(r["ok"], true, "the browser failed: {r:#}");
        let url = r["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!(
                "http://localhost:{callback_port}/servers/callback?"
            )),
            "{r:#}"
        );
        r["text"].as_str().unwrap_or_default().trim().to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        // The driver outlives cec: give it time to take its screenshot (no panic here).
        let done = self.out.path().join("result.json");
        let start = std::time::Instant::now();
        while !done.exists() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let logs = repo_root().join("target/test-logs");
        let _ = fs::create_dir_all(&logs);
        for (from, to) in [("page.png", "browser.png"), ("driver.log", "browser.log")] {
            let dest = logs.join(format!("{}-{to}", self.name));
            if fs::copy(self.out.path().join(from), &dest).is_ok() {
                eprintln!("browser {from} saved as {}", dest.display());
            }
        }
    }
}

/// `cec config add oauth --url URL --port PORT` with the browser; tokens in the file.
fn add_oauth(cec: &mut Cec, url: &str, port: u16, extra: &[&str]) -> Out {
    let port = port.to_string();
    cec.env("CEC_SKIP_KEYRING", "1")
        .args(["config", "add", "oauth", "--url", url, "--port", &port])
        .args(["--timeout", "120"])
        .args(extra)
        .timeout(Duration::from_secs(150))
        .run()
}

/// The active account of cec's config file.
fn account(cec: &Cec) -> Value {
    let v: Value = serde_json::from_str(&fs::read_to_string(cec.config_file()).unwrap()).unwrap();
    let id = v["ActiveConfigID"].as_str().unwrap().to_string();
    v["Configs"][&id].clone()
}

fn tokens(cec: &Cec) -> (String, String) {
    let a = account(cec);
    (
        a["idToken"].as_str().unwrap_or_default().to_string(),
        a["refreshToken"].as_str().unwrap_or_default().to_string(),
    )
}

/// Log alice in at the provider through the browser and check what cec saved.
fn login_at_provider(front: &Front, cec: &mut Cec, port: u16, browser: &Browser) {
    browser.give_to(cec, crate::common::ALICE);
    let out = add_oauth(cec, &front.url, port, &[]);
    out.assert_ok();
    let (at, rt) = tokens(cec);
    assert!(
        front.accepts(&at, "alice"),
        "the provider does not know {at:?}"
    );
    assert!(!rt.is_empty(), "no refresh token saved");
    assert!(
        !out.stderr.contains(&at) && !out.stderr.contains(&rt),
        "{out}"
    );
    assert_eq!(browser.callback_text(port), DONE_TEXT);
    let visited = browser.result()["visited"].to_string();
    assert!(
        visited.contains(&format!("{}/interaction/", front.url)),
        "the provider's login page was not shown: {visited}"
    );
    let a = account(cec);
    assert_eq!(a["authType"], "oauth2");
    assert_eq!(a["user"], "alice");
}

#[test]
fn provider_login_in_chromium_then_ls_and_revoked_grant() {
    let dev = Server::start(&[]);
    let port = free_port();
    let front = Front::start(&dev, port, 600);
    let browser = Browser::new("provider_login_in_chromium");
    let mut cec = Cec::new();
    login_at_provider(&front, &mut cec, port, &browser);
    let exp = account(&cec)["tokenExpiresAt"].as_i64().unwrap();
    assert!((exp - now() - 600).abs() <= 30, "tokenExpiresAt {exp}");
    cec.args(["ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("personal-files");

    // The grant is revoked at the provider (RFC 7009): its tokens die with it.
    let (at, rt) = tokens(&cec);
    front.revoke(&rt);
    assert!(!front.accepts(&at, "alice"));
    let out = cec.args(["ls"]).run();
    out.assert_code(3)
        .assert_stderr_contains("cec config relog");
    assert_eq!(tokens(&cec).1, rt, "a refused refresh token was replaced");
}

#[test]
fn provider_refresh_then_replayed_refresh_token_revokes_the_grant() {
    let dev = Server::start(&[]);
    let port = free_port();
    // Short enough to wait for, long enough for a loaded machine to finish the login.
    let front = Front::start(&dev, port, 15);
    let browser = Browser::new("provider_refresh_and_replay");
    let mut cec = Cec::new();
    login_at_provider(&front, &mut cec, port, &browser);
    let saved = fs::read(cec.config_file()).unwrap();
    let (at0, rt0) = tokens(&cec);

    // The access token expires at the provider; cec refreshes before using it.
    crate::common::wait_until(
        Duration::from_secs(30),
        "the access token to expire",
        || (!front.accepts(&at0, "alice")).then_some(()),
    );
    cec.args(["ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("personal-files");
    let (at1, rt1) = tokens(&cec);
    assert_ne!(at1, at0);
    assert_ne!(rt1, rt0, "the rotated refresh token was not saved");

    // An old copy of the config presents the spent refresh token: the provider revokes
    // the grant (the live token too) and cec asks for a new login.
    fs::write(cec.config_file(), &saved).unwrap();
    let out = cec.args(["ls"]).run();
    out.assert_code(3)
        .assert_stderr_contains("cec config relog");
    assert!(
        front.log_text().contains("grant.revoked"),
        "{}",
        front.log_text()
    );
    let (status, body) = front.refresh(&rt1);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[test]
fn provider_refuses_a_login_without_pkce() {
    let dev = Server::start(&[]);
    let port = free_port();
    let front = Front::start(&dev, port, 600);
    let browser = Browser::new("provider_without_pkce");
    let mut cec = Cec::new();
    browser.give_to(&mut cec, crate::common::ALICE);
    let out = add_oauth(&mut cec, &front.url, port, &["--no-pkce"]);
    out.assert_code(3)
        .assert_stderr_contains("the server refused the authorization");
    assert_eq!(browser.callback_text(port), FAILED_TEXT);
    assert!(!cec.config_file().exists());
}

#[test]
fn devserver_login_page_in_chromium() {
    let dev = Server::start(&["--require-pkce"]);
    let port = free_port();
    let browser = Browser::new("devserver_login_page");
    let mut cec = Cec::new();
    browser.give_to(&mut cec, crate::common::BOB);
    add_oauth(&mut cec, &dev.url, port, &[]).assert_ok();
    assert_eq!(browser.callback_text(port), DONE_TEXT);
    let a = account(&cec);
    assert_eq!(
        (a["authType"].as_str(), a["user"].as_str()),
        (Some("oauth2"), Some("bob"))
    );
    cec.args(["ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("personal-files");
}
