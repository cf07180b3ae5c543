//! A packager's build of cec (README, Updating): the update server and its key given at
//! build time. Builds cec once more into target/packager (incremental after the first
//! time) with the dev server's test key built in.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{repo_root, Server};
use crate::update_common::*;

/// The built-in URL: nothing listens there, so a run that uses it fails to connect.
const BUILTIN_URL: &str = "https://localhost:1";

fn cargo_build(envs: &[(&str, String)]) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--bin", "cec", "--target-dir"])
        .arg(repo_root().join("target/packager"))
        .current_dir(repo_root())
        .env_remove("CEC_BUILD_UPDATE_URL")
        .env_remove("CEC_BUILD_UPDATE_KEY")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run cargo")
}

fn packaged_cec() -> PathBuf {
    let key = test_pub_key().display().to_string();
    let out = cargo_build(&[
        ("CEC_BUILD_UPDATE_URL", BUILTIN_URL.into()),
        ("CEC_BUILD_UPDATE_KEY", key),
    ]);
    assert!(
        out.status.success(),
        "packager build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo_root().join("target/packager/debug/cec")
}

#[test]
fn a_packaged_build_uses_its_own_server_and_trusts_only_its_own_key() {
    let built = packaged_cec();
    let mut rig = Rig::with_server(Server::start(&["--tls"]));
    crate::common::copy_exe(&built, &rig.exe);
    rig.offer("4.3.2", &script("4.3.2"));
    // No variable: the built-in server is asked.
    rig.cec
        .env_remove("CEC_UPDATE_URL")
        .env_remove("CEC_UPDATE_PUBKEY_FILE");
    let out = rig.run(&["update"]);
    out.assert_code(1).assert_stderr_contains("localhost:1");
    // No variable can swap the key.
    rig.cec.env("CEC_UPDATE_PUBKEY_FILE", test_pub_key());
    let out = rig.run(&["update"]);
    assert_refused(&out, 1, "verifies updates with its own key only");
    // A mirror (CEC_UPDATE_URL) is verified with the built-in key: here the right one.
    rig.cec
        .env_remove("CEC_UPDATE_PUBKEY_FILE")
        .env("CEC_UPDATE_URL", &rig.server.url)
        .env("SSL_CERT_FILE", rig.server.ca_pem());
    let out = rig.run(&["update", "--version", "4.3.2"]);
    out.assert_ok()
        .assert_stderr_contains("cec updated to 4.3.2");
    assert!(!out.stderr.contains("CEC_UPDATE_PUBKEY_FILE"), "{out}");
    assert_eq!(std::fs::read(&rig.exe).unwrap(), script("4.3.2"));
}

#[test]
fn a_packager_build_with_a_bad_setting_fails() {
    let key = test_pub_key().display().to_string();
    let private = repo_root()
        .join("tests/devserver/testdata/update-test-key.pem")
        .display()
        .to_string();
    let cases = [
        (
            vec![("CEC_BUILD_UPDATE_URL", BUILTIN_URL.to_string())],
            "go together",
        ),
        (
            vec![
                ("CEC_BUILD_UPDATE_URL", "http://updates.example.com".into()),
                ("CEC_BUILD_UPDATE_KEY", key),
            ],
            "must be an https:// URL",
        ),
        (
            vec![
                ("CEC_BUILD_UPDATE_URL", BUILTIN_URL.into()),
                ("CEC_BUILD_UPDATE_KEY", private),
            ],
            "not a PUBLIC KEY",
        ),
    ];
    for (envs, what) in cases {
        let out = cargo_build(&envs);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(what),
            "{what}:\n{err}"
        );
    }
}
