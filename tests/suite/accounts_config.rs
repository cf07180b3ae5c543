//! Accounts file handling without a server: legacy/v4 formats, corrupt files,
//! `--config`, `config use/rm`, `clear`, permissions.

use crate::common::Cec;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const V4: &str = "{\n\t\"ActiveConfigID\": \"admin@files.example.com:443\",\n\t\"Configs\": {\n\t\t\"admin@files.example.com:443\": {\n\t\t\t\"authType\": \"oauth2\",\n\t\t\t\"url\": \"https://files.example.com\",\n\t\t\t\"user\": \"admin\",\n\t\t\t\"tokenExpiresAt\": 1736500000,\n\t\t\t\"skipVerify\": false,\n\t\t\t\"useTokenCache\": true,\n\t\t\t\"CustomHeaders\": null,\n\t\t\t\"label\": \"admin@files.example.com\",\n\t\t\t\"skipKeyring\": false,\n\t\t\t\"createdAtVersion\": \"4.3.1\"\n\t\t},\n\t\t\"bob@127.0.0.1:8080\": {\n\t\t\t\"authType\": \"pat\",\n\t\t\t\"url\": \"http://127.0.0.1:8080\",\n\t\t\t\"user\": \"bob\",\n\t\t\t\"idToken\": \"secret-token\",\n\t\t\t\"skipVerify\": false,\n\t\t\t\"useTokenCache\": true,\n\t\t\t\"CustomHeaders\": null,\n\t\t\t\"label\": \"bob@127.0.0.1\",\n\t\t\t\"skipKeyring\": true,\n\t\t\t\"createdAtVersion\": \"4.3.1\"\n\t\t}\n\t}\n}";

fn write(p: &Path, s: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, s).unwrap();
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn v4_file_from_reference_is_read_and_left_alone() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    write(&f, V4);
    let out = cec.args(["config", "ls"]).run();
    out.assert_ok();
    assert!(out.stdout.contains("admin@files.example.com"), "{out}");
    assert!(
        out.stdout.contains("OAuth2") && out.stdout.contains("PAT"),
        "{out}"
    );
    assert!(out.stdout.contains("✓"), "{out}");
    assert_eq!(
        fs::read_to_string(&f).unwrap(),
        V4,
        "reading must not rewrite"
    );
    // a write keeps the exact reference layout (TAB indent, key order, no newline)
    cec.args(["config", "use", "bob@127.0.0.1:8080"])
        .run()
        .assert_ok();
    let after = fs::read_to_string(&f).unwrap();
    assert_eq!(
        after,
        V4.replace(
            "\"ActiveConfigID\": \"admin@files.example.com:443\"",
            "\"ActiveConfigID\": \"bob@127.0.0.1:8080\""
        )
    );
    assert_eq!(mode(&f), 0o600);
}

#[test]
fn legacy_v2_file_is_migrated() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    write(
        &f,
        r#"{"url":"https://cells.example.com/","authType":"Personal Access Token","idToken":"T0k","user":"alice","clientKey":"cells-front","clientSecret":"x","skipVerify":false,"skipKeyring":true}"#,
    );
    cec.args(["config", "ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("alice@cells.example.com")
        .assert_stdout_contains("PAT");
    let v = json(&f);
    assert_eq!(v["ActiveConfigID"], "alice@cells.example.com:443");
    let a = &v["Configs"]["alice@cells.example.com:443"];
    assert_eq!(a["authType"], "pat");
    assert_eq!(a["idToken"], "T0k");
    assert!(a.get("clientKey").is_none());
    assert_eq!(mode(&f), 0o600);
}

#[test]
fn legacy_auth_type_names_are_migrated() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    write(
        &f,
        r#"{"ActiveConfigID":"u@h:443","Configs":{"u@h:443":{"authType":"Client Credentials","url":"https://h","user":"u","password":"p","skipKeyring":true,"label":"u@h"}}}"#,
    );
    cec.args(["config", "ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("Login/Password");
    assert_eq!(json(&f)["Configs"]["u@h:443"]["authType"], "session");
}

#[test]
fn empty_configs_is_not_a_legacy_file() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    let text = "{\"ActiveConfigID\":\"\",\"Configs\":{}}";
    write(&f, text);
    cec.args(["config", "ls"]).run().assert_ok();
    assert_eq!(fs::read_to_string(&f).unwrap(), text);
    let out = cec.args(["info"]).run();
    out.assert_code(3).assert_stderr_contains("config add");
}

#[test]
fn corrupt_file_is_an_error_and_untouched() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    let text = "{\"ActiveConfigID\": \"x\", \"Configs\": {";
    write(&f, text);
    for args in [
        vec!["config", "ls"],
        vec!["config", "use", "x"],
        vec!["config", "rm", "x", "-f"],
        vec!["info"],
        vec!["clear", "-f"],
        vec![
            "config",
            "add",
            "token",
            "--url",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
    ] {
        let out = cec.args(&args).run();
        out.assert_no_panic();
        assert_eq!(out.code, 1, "{out}");
        assert!(out.stderr.contains("config.json"), "{out}");
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
        assert_eq!(
            fs::read_to_string(&f).unwrap(),
            text,
            "{args:?} changed the file"
        );
    }
}

#[test]
fn nothing_is_created_by_reading_commands() {
    let mut cec = Cec::new();
    cec.args(["config", "ls"]).run().assert_ok();
    cec.args(["info"]).run().assert_code(3);
    cec.args(["--help"]).run();
    assert!(!cec.config_dir().exists());
}

#[test]
fn config_dir_flag_is_honoured_everywhere() {
    let mut cec = Cec::new();
    let other = cec.home().join("elsewhere");
    write(&other.join("config.json"), V4);
    let d = other.to_str().unwrap().to_string();
    cec.args(["--config", &d, "config", "ls"])
        .run()
        .assert_ok()
        .assert_stdout_contains("bob@127.0.0.1");
    cec.args(["config", "ls"]).run().assert_ok();
    cec.env("CEC_CONFIG", &d);
    cec.args(["config", "use", "bob@127.0.0.1:8080"])
        .run()
        .assert_ok();
    assert_eq!(
        json(&other.join("config.json"))["ActiveConfigID"],
        "bob@127.0.0.1:8080"
    );
    cec.args(["clear", "-f"]).run().assert_ok();
    assert!(!other.join("config.json").exists());
    assert!(!cec.config_file().exists());
}

#[test]
fn use_and_rm_by_id() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    write(&f, V4);
    cec.args(["config", "use", "nobody@x:1"])
        .run()
        .assert_code(4);
    // interactive forms refuse without a terminal
    cec.args(["config", "use"]).run().assert_code(2);
    cec.args(["config", "rm", "bob@127.0.0.1:8080"])
        .run()
        .assert_code(2);
    assert_eq!(fs::read_to_string(&f).unwrap(), V4);
    // by label works too
    cec.args(["config", "use", "bob@127.0.0.1"])
        .run()
        .assert_ok();
    assert_eq!(json(&f)["ActiveConfigID"], "bob@127.0.0.1:8080");
    let out = cec.args(["config", "rm", "-f", "bob@127.0.0.1:8080"]).run();
    out.assert_ok()
        .assert_stderr_contains("removed: bob@127.0.0.1:8080")
        .assert_stderr_contains("new active configuration is: admin@files.example.com:443");
    let v = json(&f);
    assert_eq!(v["ActiveConfigID"], "admin@files.example.com:443");
    assert!(v["Configs"].get("bob@127.0.0.1:8080").is_none());
    assert_eq!(mode(&f), 0o600);
    cec.args(["config", "rm", "-f", "admin@files.example.com:443"])
        .run()
        .assert_ok();
    let v = json(&f);
    assert_eq!(v["ActiveConfigID"], "");
    assert_eq!(v["Configs"], serde_json::json!({}));
    cec.args(["config", "rm", "-f", "x"]).run().assert_code(3);
}

#[test]
fn clear_needs_force_without_terminal() {
    let mut cec = Cec::new();
    let f = cec.config_file();
    write(&f, V4);
    cec.args(["clear"]).run().assert_code(2);
    assert!(f.exists());
    cec.args(["clear", "--force"])
        .run()
        .assert_ok()
        .assert_stderr_contains("erased");
    assert!(!f.exists());
    // clearing nothing is fine
    cec.args(["clear", "-f"]).run().assert_ok();
}

#[test]
fn env_mode_validates_urls_and_pairs() {
    let mut cec = Cec::new();
    for (url, code) in [("files.example.com", 2), ("ftp://x", 2), ("http://", 2)] {
        let out = cec.args(["--url", url, "--token", "t", "info"]).run();
        out.assert_no_panic();
        assert_eq!(out.code, code, "{out}");
    }
    cec.args(["--url", "http://127.0.0.1:9", "--login", "x", "info"])
        .run()
        .assert_code(2);
    // unreachable server: a quick, clear failure
    let out = cec
        .args(["--url", "http://127.0.0.1:9", "--token", "t", "info"])
        .run();
    out.assert_code(1).assert_stderr_contains("127.0.0.1:9");
    assert!(out.duration.as_secs() < 10, "{out}");
}

#[test]
fn add_without_answers_is_a_usage_error() {
    let mut cec = Cec::new();
    for args in [
        vec!["config", "add"],
        vec!["config", "add", "token"],
        vec!["config", "add", "token", "--url", "http://127.0.0.1:9"],
        vec![
            "config",
            "add",
            "client-auth",
            "--url",
            "http://127.0.0.1:9",
            "--login",
            "a",
        ],
        vec!["config", "add", "token", "--url", "nope", "--token", "x"],
    ] {
        let out = cec.args(&args).run();
        out.assert_no_panic();
        assert_eq!(out.code, 2, "{out}");
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
    }
    assert!(!cec.config_file().exists());
}

#[test]
fn check_keyring_without_dbus_fails_fast() {
    let mut cec = Cec::new();
    let out = cec.args(["config", "check-keyring"]).run();
    out.assert_code(1).assert_stderr_contains("keyring");
    assert!(out.duration.as_secs() < 5, "{out}");
}
