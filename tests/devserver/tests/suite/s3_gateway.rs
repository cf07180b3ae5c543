//! S3 gateway end-to-end with botocore (PyPI) as the independent SigV4 client: put, get,
//! head, ranges, multipart, refusal of a wrong secret, of an unknown/expired token and of
//! requests tampered with after signing. The checks themselves live in `s3_botocore.py`.
//!
//! botocore is installed with pip when missing; the test is skipped (with a message) only
//! when neither python3 nor pip is available.

use std::process::Command;

use crate::support::*;

fn script() -> String {
    format!("{}/tests/s3_botocore.py", env!("CARGO_MANIFEST_DIR"))
}

/// Make sure `python3 -c 'import botocore'` works (`make deps` puts a python3
/// with it first on the PATH); a failure when it cannot be arranged.
fn ensure_botocore() {
    let ok = |args: &[&str]| {
        Command::new("python3")
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if ok(&["-c", "import botocore"]) {
        return;
    }
    assert!(
        ok(&["-m", "pip", "--version"]),
        "python3 with pip is needed to install botocore: run `make deps`"
    );
    let st = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "botocore",
        ])
        .status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "pip install botocore failed"
    );
    assert!(
        ok(&["-c", "import botocore"]),
        "botocore still not importable after pip install"
    );
}

/// Run the botocore script against `srv`; returns its stdout (asserting success).
fn run_script(srv: &Srv, env: &[(&str, &str)]) -> String {
    let admin = srv.token("admin");
    let bob = srv.token("bob");
    let expired = srv.token_expiring("alice", "-1s");
    let out = Command::new("python3")
        .arg(script())
        .args([&srv.url, &admin, &bob, &expired])
        .envs(env.iter().copied())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "botocore checks failed:\n{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    stdout
}

#[test]
fn botocore_checks_over_tls() {
    ensure_botocore();
    let srv = Srv::start("s3-botocore-tls", &["--tls"]);
    assert!(srv.url.starts_with("https://"), "{}", srv.url);
    let ca = srv.root.join("ca.pem");
    run_script(&srv, &[("AWS_CA_BUNDLE", ca.to_str().unwrap())]);
}

#[test]
fn botocore_checks() {
    ensure_botocore();
    let srv = Srv::start("s3-botocore", &[]);
    let admin = srv.token("admin");
    let stdout = run_script(&srv, &[]);

    // What was uploaded through S3 is in the tree the REST API lists.
    let prefix = stdout
        .lines()
        .find_map(|l| l.strip_prefix("prefix: "))
        .expect("prefix line")
        .to_string();
    let stat = post(
        &format!("{}/a/tree/stats", srv.url),
        "application/json",
        &serde_json::json!({"NodePaths": [format!("{prefix}/big.bin")]}).to_string(),
        &[("Authorization", &format!("Bearer {admin}"))],
    );
    assert_eq!(stat.status, 200, "{stat:?}");
    let v = stat.json();
    let node = &v["Nodes"][0];
    assert_eq!(node["Path"], format!("{prefix}/big.bin"), "{v}");
    assert_eq!(node["Size"], (5 * 1024 * 1024 + 1234).to_string(), "{v}");
}

#[test]
fn unsigned_requests_are_refused() {
    let srv = Srv::start("s3-unsigned", &[]);
    let r = get(&format!("{}/io/common-files/welcome.txt", srv.url), &[]);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.contains("<Code>AccessDenied</Code>"), "{}", r.body);
    // A Bearer token is not an S3 signature either.
    let tok = srv.token("admin");
    let r = get(
        &format!("{}/io/common-files/welcome.txt", srv.url),
        &[("Authorization", &format!("Bearer {tok}"))],
    );
    assert!(r.status == 400 || r.status == 403, "{r:?}");
}
