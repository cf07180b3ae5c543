//! `cec update` end to end against the dev server's update front: listing, install,
//! rollback, dry run, progress, proxies and TLS. Refusals are in update_refusals.rs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::{cec_bin, Cec, Server};
use crate::hostile::{Hostile, Reply};
use crate::update_common::*;
use serde_json::json;

#[test]
fn a_build_without_update_server_says_so_and_contacts_nobody() {
    assert_keyless_build();
    // Every request would have to go through this proxy: it must see none.
    let trap = Hostile::start(|_| Reply::status(500));
    let mut cec = Cec::new();
    for k in [
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "CELLS_UPDATE_HTTP_PROXY",
    ] {
        cec.env(k, &trap.url);
    }
    for args in [
        &["update"][..],
        &["update", "--dev"],
        &["update", "--version", "4.3.2"],
    ] {
        let out = cec.args(args).run();
        assert_refused(&out, 1, "this build of cec has no update server");
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
    }
    assert!(trap.requests().is_empty(), "{:?}", trap.requests());
    // A key alone is not a server.
    cec.env("CEC_UPDATE_PUBKEY_FILE", test_pub_key());
    assert_refused(&cec.args(["update"]).run(), 1, "no update server");
    assert!(trap.requests().is_empty());
}

#[test]
fn a_runtime_url_needs_a_key_and_http_only_for_this_machine() {
    let mut cec = Cec::new();
    cec.env("CEC_UPDATE_URL", "http://127.0.0.1:9");
    assert_refused(&cec.args(["update"]).run(), 1, "CEC_UPDATE_PUBKEY_FILE");
    let bad_key = cec.home().join("bad.pem");
    fs::write(
        &bad_key,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    cec.env("CEC_UPDATE_PUBKEY_FILE", &bad_key);
    assert_refused(
        &cec.args(["update"]).run(),
        1,
        "bad.pem: not an RSA public key",
    );
    cec.env("CEC_UPDATE_PUBKEY_FILE", test_pub_key());
    cec.env("CEC_UPDATE_URL", "http://updates.example.com");
    assert_refused(&cec.args(["update"]).run(), 1, "only https://");
}

#[test]
fn lists_newer_versions_for_this_channel_and_platform_in_order() {
    let mut rig = Rig::new();
    rig.publish("bin", &script("4.3.2"));
    let entry = |v: &str| json!({"Version": v, "File": "bin", "Description": format!("about {v}")});
    rig.manifest(json!({"binaries": [
        entry("4.4.0"), entry("4.3.10"), entry("4.3.2"), entry("4.4.0-rc.1"), entry("not-semver"),
        {"Version": "9.0.0", "File": "bin", "BinaryArch": "no-such-arch"},
        {"Version": "9.0.1", "File": "bin", "BinaryOS": "no-such-os"},
        {"Version": "9.0.2", "File": "bin", "Channel": "dev"},
        {"Version": "4.3.0", "File": "bin"},
    ]}));
    let out = rig.run(&["update"]);
    out.assert_ok();
    let versions: Vec<&str> = out
        .stdout_lines()
        .iter()
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .filter(|c| c.starts_with(|ch: char| ch.is_ascii_digit()))
        .collect();
    assert_eq!(
        versions,
        ["4.3.2", "4.3.10", "4.4.0-rc.1", "4.4.0"],
        "{out}"
    );
    out.assert_stdout_contains("about 4.3.10");
    out.assert_stderr_contains("'not-semver', which is not a semantic version: ignored");
    out.assert_stderr_contains("cec update --version <VERSION>");
    // The dev channel has its own list.
    let out = rig.run(&["update", "--dev"]);
    out.assert_ok().assert_stdout_contains("9.0.2");
    assert!(!out.stdout.contains("4.3.10"), "{out}");
    out.assert_stderr_contains("--dev");
    rig.assert_untouched(&out);
}

#[test]
fn an_empty_list_is_up_to_date() {
    let mut rig = Rig::new();
    let out = rig.run(&["update"]);
    out.assert_ok();
    assert_eq!(out.stdout, "", "{out}");
    out.assert_stderr_contains(&format!("cec {CURRENT} is up to date"));
    // Only older versions on offer: also up to date.
    rig.offer("0.9.0", &script("0.9.0"));
    rig.run(&["update"])
        .assert_ok()
        .assert_stderr_contains("up to date");
}

#[test]
fn install_replaces_the_binary_and_keeps_the_previous_one() {
    let mut rig = Rig::new();
    let new = script("4.3.2");
    rig.offer("4.3.2", &new);
    let out = rig.run(&["update", "--version", "4.3.2"]);
    out.assert_ok();
    out.assert_stderr_contains("cec updated to 4.3.2");
    // Off a terminal the progress is log lines.
    out.assert_stderr_contains("Downloading cec 4.3.2: 100%");
    assert!(!out.stderr.contains('\r'), "{out}");
    assert_eq!(
        fs::read(&rig.exe).unwrap(),
        new,
        "the binary was not replaced"
    );
    let mode = fs::metadata(&rig.exe).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the new binary keeps the old one's mode");
    assert_eq!(rig.bin_entries(), ["cec"], "left-overs beside the binary");
    let backups = rig.backups();
    assert_eq!(
        backups,
        [rig.cec.config_dir().join(format!("cec-{CURRENT}.previous"))],
        "{out}"
    );
    assert!(
        same_file(&backups[0], &cec_bin()),
        "the backup is the previous binary"
    );
}

#[test]
fn a_real_update_then_rollback_and_nothing_more_to_roll_back() {
    let mut rig = Rig::new();
    rig.offer("4.3.2", &patched_cec("4.3.2"));
    let out = rig.run(&["update", "--version", "4.3.2"]);
    out.assert_ok();
    // A big download logs its progress by quarters.
    for pct in ["25%", "50%", "75%", "100%"] {
        out.assert_stderr_contains(&format!("Downloading cec 4.3.2: {pct}"));
    }
    rig.run(&["version"])
        .assert_ok()
        .assert_stdout_contains("4.3.2");
    // The new binary lists from its own version now.
    rig.run(&["update"])
        .assert_ok()
        .assert_stderr_contains("cec 4.3.2 is up to date");

    let out = rig.run(&["update", "--rollback", "--dry-run"]);
    out.assert_ok().assert_stderr_contains("Dry run");
    rig.run(&["version"])
        .assert_ok()
        .assert_stdout_contains("4.3.2");

    let out = rig.run(&["update", "--rollback"]);
    out.assert_ok()
        .assert_stderr_contains(&format!("Rolled back to cec {CURRENT}"));
    assert!(
        same_file(&rig.exe, &cec_bin()),
        "the original binary is back"
    );
    rig.run(&["version"])
        .assert_ok()
        .assert_stdout_contains(CURRENT);
    assert!(rig.backups().is_empty(), "the backup was used up");
    assert_eq!(rig.bin_entries(), ["cec"]);
    assert_refused(&rig.run(&["update", "--rollback"]), 4, "no previous binary");
}

#[test]
fn rollback_refuses_a_backup_that_does_not_start() {
    let mut rig = Rig::new();
    let dir = rig.cec.config_dir();
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("cec-4.2.0.previous"), failing_script()).unwrap();
    let out = rig.run(&["update", "--rollback"]);
    assert_refused(&out, 1, "does not start");
    assert!(same_file(&rig.exe, &cec_bin()), "{out}");
    assert_eq!(rig.bin_entries(), ["cec"]);
    assert!(
        dir.join("cec-4.2.0.previous").exists(),
        "the backup is kept"
    );
    assert_refused(
        &rig.run(&["update", "--rollback", "--version", "1.0.0"]),
        2,
        "--rollback",
    );
}

#[test]
fn dry_run_verifies_and_changes_nothing() {
    let mut rig = Rig::new();
    rig.offer("4.3.2", &script("4.3.2"));
    let out = rig.run(&["update", "--version", "4.3.2", "--dry-run"]);
    out.assert_ok()
        .assert_stderr_contains("Dry run: cec 4.3.2 downloaded and verified");
    rig.assert_untouched(&out);
    for spelling in ["-d", "--dry_run"] {
        let out = rig.run(&["update", "--version", "4.3.2", spelling]);
        out.assert_ok().assert_stderr_contains("Dry run");
        rig.assert_untouched(&out);
    }
}

#[test]
fn a_symlinked_binary_is_replaced_where_it_really_is() {
    let mut rig = Rig::new();
    let real_dir = rig.dir.path().join("real");
    fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("cec-real");
    fs::rename(&rig.exe, &real).unwrap();
    std::os::unix::fs::symlink(&real, &rig.exe).unwrap();
    rig.offer("4.3.2", &script("4.3.2"));
    rig.run(&["update", "--version", "4.3.2"]).assert_ok();
    assert!(fs::symlink_metadata(&rig.exe)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(&real).unwrap(), script("4.3.2"));
}

#[test]
fn progress_is_drawn_in_place_on_a_terminal() {
    let mut rig = Rig::new();
    rig.offer("4.3.2", &patched_cec("4.3.2"));
    let tty = rig.cec.args(["update", "--version", "4.3.2"]).tty();
    assert_eq!(
        tty.wait_exit(Duration::from_secs(120)),
        0,
        "{}",
        tty.screen()
    );
    let screen = tty.screen();
    assert!(screen.contains("Downloading cec 4.3.2: 100%"), "{screen}");
    assert_eq!(
        screen.matches("Downloading").count(),
        1,
        "one line, redrawn:\n{screen}"
    );
    assert!(screen.contains("cec updated to 4.3.2"), "{screen}");
}

/// A forwarding HTTP proxy that records what it forwards.
fn forwarding_proxy() -> Hostile {
    Hostile::start(|req| {
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let r = match agent
            .request(&req.method, &req.target)
            .send_bytes(&req.body)
        {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(_) => return Reply::status(502),
        };
        let status = r.status();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
        Reply::Full(status, Vec::new(), body)
    })
}

#[test]
fn proxies_are_used_for_the_listing_and_the_download() {
    let mut rig = Rig::new();
    rig.offer("4.3.2", &script("4.3.2"));
    let proxy = forwarding_proxy();
    let dead = format!("http://127.0.0.1:{}", crate::common::free_port());
    // The usual variable...
    rig.cec.env("HTTP_PROXY", &proxy.url);
    rig.run(&["update"])
        .assert_ok()
        .assert_stdout_contains("4.3.2");
    let listing = format!("POST {}/a/update-server/", rig.server.url);
    assert_eq!(proxy.count(&listing), 1, "{:?}", proxy.requests());
    // ...and CELLS_UPDATE_HTTP_PROXY before it, for the download too.
    rig.cec
        .env("HTTP_PROXY", &dead)
        .env("CELLS_UPDATE_HTTP_PROXY", &proxy.url);
    rig.run(&["update", "--version", "4.3.2"]).assert_ok();
    assert_eq!(proxy.count(&listing), 2, "{:?}", proxy.requests());
    let download = format!("GET {}/update-binaries/cec", rig.server.url);
    assert_eq!(proxy.count(&download), 1, "{:?}", proxy.requests());
    assert_eq!(fs::read(&rig.exe).unwrap(), script("4.3.2"));
}

#[test]
fn tls_is_verified_even_with_skip_verify() {
    let mut rig = Rig::with_server(Server::start(&["--tls"]));
    assert!(rig.server.url.starts_with("https://"));
    rig.offer("4.3.2", &script("4.3.2"));
    rig.cec.env("CEC_SKIP_VERIFY", "true");
    let out = rig.run(&["--skip-verify", "update"]);
    out.assert_code(1);
    assert!(out.stderr.to_lowercase().contains("certificate"), "{out}");
    rig.assert_untouched(&out);
    // Trusting the server's CA (SSL_CERT_FILE) is the way to a private server.
    rig.cec.env("SSL_CERT_FILE", rig.server.ca_pem());
    rig.run(&["update", "--version", "4.3.2"]).assert_ok();
    assert_eq!(fs::read(&rig.exe).unwrap(), script("4.3.2"));
}
