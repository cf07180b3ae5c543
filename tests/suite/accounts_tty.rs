//! Interactive account set-up through a real terminal (tmux): prompts,
//! hidden secrets, choosers and confirmations.

use crate::auth_mock::Mock;
use crate::common::Cec;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn add_token_interactively_hides_the_token() {
    let m = Mock::start(600);
    let token = m.pat("alice");
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let tty = cec.args(["config", "add", "token"]).tty();
    tty.wait_for("Server URL", T);
    tty.send_line("not a url");
    tty.wait_for("valid", T);
    tty.send_line(&m.url);
    tty.wait_for("Token", T);
    tty.send_line(&token);
    assert_eq!(tty.wait_exit(T), 0, "{}", tty.screen());
    let screen = tty.screen();
    assert!(screen.contains("Configuration saved"), "{screen}");
    assert!(!screen.contains(&token), "token echoed:\n{screen}");
    let v = json(&cec.config_file());
    assert!(v["ActiveConfigID"].as_str().unwrap().starts_with("alice@"));
}

#[test]
fn chooser_then_client_auth_then_use_rm_clear() {
    let m = Mock::start(600);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    let tty = cec.args(["config", "add"]).tty();
    tty.wait_for("Select authentication method", T);
    tty.send_line("3");
    tty.wait_for("Server Address", T);
    tty.send_line(&m.url);
    tty.wait_for("User Login", T);
    tty.send_line("bob");
    tty.wait_for("User Password", T);
    tty.send_line("bob123");
    assert_eq!(tty.wait_exit(T), 0, "{}", tty.screen());
    assert!(!tty.screen().contains("bob123"));
    drop(tty);

    // a second account, non-interactively
    let t = m.pat("alice");
    cec.args(["config", "add", "token", "--url", &m.url, "--token", &t])
        .run()
        .assert_ok();
    let f = cec.config_file();
    let host = m.url.trim_start_matches("http://").to_string();
    assert_eq!(json(&f)["ActiveConfigID"], format!("alice@{host}"));

    // choose bob (ids are sorted: alice, bob)
    let tty = cec.args(["config", "use"]).tty();
    tty.wait_for("Select the account you want to use", T);
    tty.send_line("2");
    assert_eq!(tty.wait_exit(T), 0, "{}", tty.screen());
    drop(tty);
    assert_eq!(json(&f)["ActiveConfigID"], format!("bob@{host}"));

    // rm: refuse first, then accept
    let tty = cec.args(["config", "rm", &format!("bob@{host}")]).tty();
    tty.wait_for("[y/N]", T);
    tty.send_line("n");
    assert_eq!(tty.wait_exit(T), 0);
    drop(tty);
    assert!(json(&f)["Configs"].get(format!("bob@{host}")).is_some());
    let tty = cec.args(["config", "rm", &format!("bob@{host}")]).tty();
    tty.wait_for("[y/N]", T);
    tty.send_line("y");
    assert_eq!(tty.wait_exit(T), 0, "{}", tty.screen());
    drop(tty);
    let v = json(&f);
    assert!(v["Configs"].get(format!("bob@{host}")).is_none());
    assert_eq!(v["ActiveConfigID"], format!("alice@{host}"));

    // clear asks first
    let tty = cec.args(["clear"]).tty();
    tty.wait_for("erase the configuration", T);
    tty.send_line("");
    assert_eq!(tty.wait_exit(T), 0);
    assert!(tty.screen().contains("nothing has been removed"));
    drop(tty);
    assert!(f.exists());
    let tty = cec.args(["clear"]).tty();
    tty.wait_for("erase the configuration", T);
    tty.send_line("y");
    assert_eq!(tty.wait_exit(T), 0);
    drop(tty);
    assert!(!f.exists());
}

#[test]
fn relog_prompts_with_previous_values() {
    let m = Mock::start(600);
    let mut cec = Cec::new();
    cec.env("CEC_SKIP_KEYRING", "1");
    cec.args([
        "config",
        "add",
        "client-auth",
        "--url",
        &m.url,
        "--login",
        "bob",
        "--password",
        "bob123",
    ])
    .run()
    .assert_ok();
    let tty = cec.args(["config", "relog"]).tty();
    tty.wait_for("auth against anew", T);
    tty.send_line("");
    tty.wait_for("Server Address", T);
    tty.send_line("");
    tty.wait_for("User Login [bob]", T);
    tty.send_line("");
    tty.wait_for("User Password", T);
    tty.send_line("bob123");
    assert_eq!(tty.wait_exit(T), 0, "{}", tty.screen());
    cec.args(["info"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob");
}
