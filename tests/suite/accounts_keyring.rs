//! Secrets in a real Secret Service (gnome-keyring inside dbus-run-session):
//! stored under the reference's service/account names, readable by other
//! tools, removed by `config rm`; items written the go-keyring way are found.
//! Skipped (with a message) when dbus-run-session / gnome-keyring are missing.

use crate::auth_mock::Mock;
use crate::common::Cec;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Run `script` (bash) inside a private D-Bus session with an unlocked keyring;
/// `$CEC` is the cec binary, run in `cec`'s isolated environment.
fn in_keyring_session(cec: &Cec, script: &str) -> String {
    let base = cec.command();
    let mut c = Command::new("dbus-run-session");
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let full = format!(
        "printf 'pw' | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null 2>&1\n\
         CEC={}\n{script}",
        crate::common::cec_bin().display()
    );
    let out = c.args(["--", "bash", "-c", &full]).output().unwrap();
    let text = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "keyring session failed:\n{text}");
    text
}

fn require_keyring_tools() {
    for tool in [
        "dbus-run-session",
        "dbus-send",
        "gnome-keyring-daemon",
        "secret-tool",
    ] {
        assert!(
            have(tool),
            "{tool} not found: run `make deps` (apt-get install gnome-keyring dbus libsecret-tools)"
        );
    }
}

#[test]
fn secrets_go_to_the_keyring_and_back() {
    require_keyring_tools();
    let m = Mock::start(600);
    let t = m.pat("alice");
    let cec = Cec::new();
    let host = m.url.trim_start_matches("http://").to_string();
    let f = cec.config_file();
    let script = format!(
        r#"
$CEC config check-keyring; echo "CHECK rc=$?"
$CEC config add token --url {url} --token {t}; echo "ADD rc=$?"
echo "FILE $(tr -d '\n\t ' < {file})"
$CEC info; echo "INFO rc=$?"
echo "LOOKUP $(secret-tool lookup service com.pydio.cells-client username '{url}::alice')"
secret-tool search service com.pydio.cells-client username '{url}::alice' 2>&1 | grep '^label' | sed 's/^/ITEM /'
$CEC --skip-keyring config add oauth --url {url} --id-token {t}; echo "OAUTH rc=$?"
echo "REPLACED [$(secret-tool lookup service com.pydio.cells-client username '{url}::alice')]"
$CEC config add oauth --url {url} --id-token {t}; echo "OAUTH2 rc=$?"
echo "OAUTHVALUE [$(secret-tool lookup service com.pydio.cells-client username '{url}::alice')]"
$CEC config rm -f alice@{host}; echo "RM rc=$?"
echo "AFTER [$(secret-tool lookup service com.pydio.cells-client username '{url}::alice')]"
"#,
        url = m.url,
        file = f.display(),
    );
    let out = in_keyring_session(&cec, &script);
    for want in [
        "CHECK rc=0",
        "ADD rc=0",
        "INFO rc=0",
        &format!("LOOKUP {t}"),
        &format!(
            "ITEM label = Password for '{}::alice' on 'com.pydio.cells-client'",
            m.url
        ),
        "REPLACED []",
        "OAUTH2 rc=0",
        &format!("OAUTHVALUE [{t}__//__]"),
        "RM rc=0",
        "AFTER []",
    ] {
        assert!(out.contains(want), "missing {want:?}:\n{out}");
    }
    assert!(out.contains("\"skipKeyring\":false"), "{out}");
    let file_line = out.lines().find(|l| l.starts_with("FILE ")).unwrap();
    assert!(!file_line.contains(&t), "token written in the file: {out}");
    assert!(!out.contains("Could not access local keyring"), "{out}");
}

#[test]
fn items_written_by_the_go_client_are_found() {
    require_keyring_tools();
    let m = Mock::start(600);
    let t = m.pat("bob");
    let cec = Cec::new();
    let host = m.url.trim_start_matches("http://").to_string();
    let f = cec.config_file();
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(
        &f,
        format!(
            r#"{{"ActiveConfigID":"bob@{host}","Configs":{{"bob@{host}":{{"authType":"pat","url":"{url}","user":"bob","skipVerify":false,"useTokenCache":true,"CustomHeaders":null,"label":"bob@127.0.0.1","skipKeyring":false,"createdAtVersion":"4.3.1"}}}}}}"#,
            url = m.url
        ),
    )
    .unwrap();
    // exactly what zalando/go-keyring writes: label + username/service attributes only
    let script = format!(
        r#"
$CEC info; echo "BEFORE rc=$?"
printf '%s' '{t}' | secret-tool store --label="Password for '{url}::bob' on 'com.pydio.cells-client'" username '{url}::bob' service com.pydio.cells-client
$CEC info; echo "INFO rc=$?"
"#,
        url = m.url
    );
    let out = in_keyring_session(&cec, &script);
    assert!(out.contains("BEFORE rc=3"), "{out}");
    assert!(out.contains("INFO rc=0"), "{out}");
    assert!(out.contains("| bob"), "{out}");
}

#[test]
fn oauth_refresh_rotates_the_keyring_value() {
    require_keyring_tools();
    let m = Mock::start(5);
    let (at, rt) = m.grant("carol");
    let cec = Cec::new();
    let host = m.url.trim_start_matches("http://").to_string();
    let f = cec.config_file();
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 5;
    std::fs::write(
        &f,
        format!(
            r#"{{"ActiveConfigID":"carol@{host}","Configs":{{"carol@{host}":{{"authType":"oauth2","url":"{url}","user":"carol","tokenExpiresAt":{exp},"skipVerify":false,"useTokenCache":true,"CustomHeaders":null,"label":"carol@127.0.0.1","skipKeyring":false,"createdAtVersion":"4.3.1"}}}}}}"#,
            url = m.url
        ),
    )
    .unwrap();
    let script = format!(
        r#"
printf '%s' '{at}__//__{rt}' | secret-tool store --label="Password for '{url}::carol' on 'com.pydio.cells-client'" username '{url}::carol' service com.pydio.cells-client
$CEC info; echo "INFO rc=$?"
echo "VALUE [$(secret-tool lookup service com.pydio.cells-client username '{url}::carol')]"
$CEC info; echo "INFO2 rc=$?"
"#,
        url = m.url
    );
    let out = in_keyring_session(&cec, &script);
    assert!(
        out.contains("INFO rc=0") && out.contains("INFO2 rc=0"),
        "{out}"
    );
    let st = m.state.lock().unwrap();
    assert_eq!(st.replays, 0, "{out}");
    let live = st.refresh.keys().next().unwrap().clone();
    drop(st);
    let value = out
        .lines()
        .find(|l| l.starts_with("VALUE ["))
        .unwrap()
        .to_string();
    assert!(value.contains("__//__rt-carol-"), "{out}");
    assert!(
        !value.contains(&format!("__//__{rt}]")),
        "not rotated: {out}"
    );
    let file = std::fs::read_to_string(&f).unwrap();
    assert!(!file.contains("refreshToken"), "secret in file: {file}");
    assert!(!file.contains(&live));
    let v: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert!(
        v["Configs"][format!("carol@{host}")]["tokenExpiresAt"]
            .as_u64()
            .unwrap()
            >= exp
    );
}

/// Login/password accounts: a password cells-client stored (go-keyring: label, `username`
/// and `service` attributes, login collection) logs cec in; the one cec stores is found
/// by go-keyring's own query (SearchItems on the login collection by those two
/// attributes) and by `secret-tool lookup`.
#[test]
fn session_passwords_shared_with_the_reference() {
    require_keyring_tools();
    let m = Mock::start(600);
    let cec = Cec::new();
    let host = m.url.trim_start_matches("http://").to_string();
    let f = cec.config_file();
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(
        &f,
        format!(
            r#"{{"ActiveConfigID":"erin@{host}","Configs":{{"erin@{host}":{{"authType":"session","url":"{url}","user":"erin","skipVerify":false,"useTokenCache":true,"CustomHeaders":null,"label":"erin@127.0.0.1","skipKeyring":false,"createdAtVersion":"4.3.1"}}}}}}"#,
            url = m.url
        ),
    )
    .unwrap();
    let script = format!(
        r#"
$CEC info; echo "BEFORE rc=$?"
printf '%s' 'erin123' | secret-tool store --label="Password for '{url}::erin' on 'com.pydio.cells-client'" username '{url}::erin' service com.pydio.cells-client
$CEC info; echo "INFO rc=$?"
$CEC config add client-auth --url {url} --login dave --password dave123; echo "ADD rc=$?"
echo "FILE $(tr -d '\n\t ' < {file})"
echo "LOOKUP [$(secret-tool lookup service com.pydio.cells-client username '{url}::dave')]"
dbus-send --session --print-reply --dest=org.freedesktop.secrets \
    /org/freedesktop/secrets/collection/login org.freedesktop.Secret.Collection.SearchItems \
    dict:string:string:username,'{url}::dave',service,com.pydio.cells-client |
    grep -c 'object path "/org/freedesktop/secrets/collection/login/' | sed 's/^/GO-KEYRING ITEMS /'
"#,
        url = m.url,
        file = f.display(),
    );
    let out = in_keyring_session(&cec, &script);
    for want in [
        "BEFORE rc=3",
        "INFO rc=0",
        "| erin",
        "ADD rc=0",
        "LOOKUP [dave123]",
        "GO-KEYRING ITEMS 1",
    ] {
        assert!(out.contains(want), "missing {want:?}:\n{out}");
    }
    let file_line = out.lines().find(|l| l.starts_with("FILE ")).unwrap();
    assert!(
        !file_line.contains("dave123"),
        "password in the file: {out}"
    );
    assert!(file_line.contains("\"skipKeyring\":false"), "{out}");
}
