//! `cec sync` from a server that lists hostile names: nothing is written outside
//! TARGET, the refused items are failures (exit 6, listed), and no local file is
//! deleted on the strength of such a listing.

use crate::common::Cec;
use crate::hostile::{node, FakeCells};
use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

#[test]
fn refused_names_fail_the_run_and_block_deletions() {
    let mut stat = BTreeMap::new();
    stat.insert("ws".to_string(), node("ws", "ws-uuid", true, 0));
    stat.insert("ws/evil".to_string(), node("ws/evil", "evil-uuid", true, 0));
    let srv = FakeCells {
        stat,
        list: Box::new(|folder| match folder {
            "ws/evil" => vec![
                node("ws/evil/..", "up-uuid", true, 0),
                node("ws/other/stolen.txt", "other-uuid", false, 3),
                node("ws/evil/ok.txt", "ok-uuid", false, 4),
            ],
            _ => vec![node(&format!("{folder}/PWNED.txt"), "pwned-uuid", false, 5)],
        }),
        files: [("ws/evil/ok.txt", b"fine".to_vec())]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
    .start();
    let base = tempfile::tempdir().unwrap();
    let dst = base.path().join("dst");
    fs::create_dir_all(dst.join("keep")).unwrap();
    fs::write(dst.join("extra.txt"), b"local only").unwrap();
    fs::write(dst.join("keep/old.txt"), b"local only").unwrap();
    let mut c = Cec::new();
    c.env("CEC_URL", &srv.url)
        .env("CEC_TOKEN", "test-token")
        .env("CEC_SKIP_KEYRING", "true")
        .env("CEC_STATE_DIR", base.path().join("state"))
        .timeout(Duration::from_secs(60));
    let out = c
        .args(["sync", "--delete", "cells://ws/evil", dst.to_str().unwrap()])
        .run();
    out.assert_no_panic();
    assert_eq!(out.code, 6, "{out}");
    assert_eq!(fs::read(dst.join("ok.txt")).unwrap(), b"fine");
    assert!(out.stderr.contains("not deleting 2 items"), "{out}");
    assert!(dst.join("extra.txt").exists() && dst.join("keep/old.txt").exists());
    assert!(out.stderr.contains("cells://ws/evil/.."), "{out}");
    assert!(out.stderr.contains("cells://ws/other/stolen.txt"), "{out}");
    let mut stack = vec![base.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            assert!(
                !p.ends_with("PWNED.txt") && !p.ends_with("stolen.txt"),
                "{p:?}"
            );
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}
