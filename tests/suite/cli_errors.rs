//! Clear errors for common mistakes, against the development server: what the
//! message says, not only the exit code.

use crate::common::{Cec, Server};

fn srv() -> &'static Server {
    Server::shared()
}

/// A `Cec` whose config.json holds one PAT account for `url` (secret in the file).
fn with_saved_account(url: &str, token: &str) -> Cec {
    let cec = Cec::new();
    let host = url.trim_start_matches("http://");
    let id = format!("admin@{host}");
    let account = serde_json::json!({
        "authType": "pat",
        "url": url,
        "user": "admin",
        "idToken": token,
        "skipVerify": false,
        "useTokenCache": true,
        "CustomHeaders": null,
        "label": "admin@127.0.0.1",
        "skipKeyring": true,
        "createdAtVersion": "4.3.1",
    });
    let config = serde_json::json!({ "ActiveConfigID": id, "Configs": { id.clone(): account } });
    std::fs::create_dir_all(cec.config_dir()).unwrap();
    std::fs::write(cec.config_file(), config.to_string()).unwrap();
    cec
}

#[test]
fn a_401_in_environment_mode_points_at_cec_token() {
    let expired = srv().token_expiring("admin", "-1s");
    let out = Cec::new()
        .env("CEC_URL", &srv().api_url)
        .env("CEC_TOKEN", &expired)
        .args(["ls", "common-files"])
        .run();
    out.assert_code(3);
    assert!(out.stderr.contains("CEC_TOKEN"), "{out}");
    assert!(!out.stderr.contains("relog"), "{out}");
    assert!(!out.stderr.contains(&expired), "token leaked: {out}");

    // The same token in a saved account: relog is the way out.
    let out = with_saved_account(&srv().api_url, &expired)
        .args(["ls", "common-files"])
        .run();
    out.assert_code(3);
    assert!(out.stderr.contains("cec config relog"), "{out}");
    assert!(!out.stderr.contains("CEC_TOKEN"), "{out}");
}

#[test]
fn url_without_credentials_never_switches_to_another_server() {
    let mut cec = with_saved_account(&srv().api_url, &srv().token("admin"));
    // Another server, no token: an error that says so (before, the saved
    // account's server was listed instead, with exit 0).
    let out = cec.args(["ls", "--url", "http://127.0.0.1:1"]).run();
    out.assert_code(3);
    out.assert_stderr_contains("no saved account for http://127.0.0.1:1");
    out.assert_stderr_contains(&srv().api_url);
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    // The saved account's own server: used.
    let out = cec.args(["ls", "--url", &srv().api_url]).run();
    out.assert_ok();
    out.assert_stdout_contains("common-files");
}

#[test]
fn a_star_inside_a_name_explains_wildcards() {
    let mut cec = srv().cec_as("admin");
    cec.args(["mkdir", "common-files/t-wild/images"])
        .run()
        .assert_ok();
    for args in [
        vec![
            "cp",
            "common-files/t-wild/ima*",
            "common-files/t-wild/images",
        ],
        vec![
            "mv",
            "common-files/t-wild/ima*",
            "common-files/t-wild/images",
        ],
        vec!["rm", "-f", "common-files/t-wild/ima*"],
        vec!["cp", "common-files/t-*/images", "common-files/t-wild"],
    ] {
        let out = cec.args(&args).run();
        out.assert_code(4);
        out.assert_stderr_contains("'*' is a wildcard only as the whole last element");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    }
    // A whole last element '*' is the wildcard; a missing plain name has no hint.
    let out = cec.args(["rm", "-f", "common-files/t-wild/nope"]).run();
    out.assert_code(4);
    assert!(!out.stderr.contains("wildcard"), "{out}");
    cec.args(["rm", "-f", "common-files/t-wild/*"])
        .run()
        .assert_ok();
}
