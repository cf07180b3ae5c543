//! `cec sync` end to end against the dev server: what is sent, what a second
//! run asks for, --delete (recycle bin remotely, never outside TARGET locally),
//! comparison modes, filters, --max-age, --dry-run and --json.

use crate::scp_common::*;
use crate::sync_common::*;
use std::fs;

crate::over_http_and_tls!(upload_then_a_second_run_sends_nothing_and_only_lists_on: upload_then_a_second_run_sends_nothing_and_only_lists, upload_then_a_second_run_sends_nothing_and_only_lists_over_tls);

fn upload_then_a_second_run_sends_nothing_and_only_lists_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 3, 4);
    sync(
        &s,
        &state,
        &["-p", src.to_str().unwrap(), "cells://common-files/bk"],
    )
    .assert_ok()
    .assert_stderr_contains("13 uploaded");
    assert_eq!(files(&server_file(&s, "bk")), files(&src));

    let before = requests(&s);
    let out = sync(
        &s,
        &state,
        &[src.to_str().unwrap(), "cells://common-files/bk"],
    );
    out.assert_ok()
        .assert_stderr_contains("0 uploaded (0 B), 13 unchanged");
    let asked = delta(&before, &requests(&s));
    // One stat of TARGET, one listing per folder (bk, d0, d1, d2); nothing else.
    assert_eq!(asked.get("GET /a/tree/stat"), Some(&1), "{asked:?}");
    assert_eq!(asked.get("POST /a/tree/stats"), Some(&4), "{asked:?}");
    assert_eq!(asked.values().sum::<u64>(), 5, "{asked:?}");
}

crate::over_http_and_tls!(changes_are_found_by_size_time_checksum_as_asked_on: changes_are_found_by_size_time_checksum_as_asked, changes_are_found_by_size_time_checksum_as_asked_over_tls);

fn changes_are_found_by_size_time_checksum_as_asked_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 1, 3);
    let src_s = src.to_str().unwrap();
    sync(&s, &state, &["-p", src_s, "cells://common-files/m"]).assert_ok();
    // Same size, new content, time older than the server's copy: only --checksum sees it.
    let f0 = src.join("d0/f0.txt");
    let old = fs::read(&f0).unwrap();
    let mut new = old.clone();
    new[0] ^= 1;
    fs::write(&f0, &new).unwrap();
    set_mtime(&f0, -7200);
    sync(&s, &state, &[src_s, "cells://common-files/m"])
        .assert_ok()
        .assert_stderr_contains("0 uploaded");
    sync(
        &s,
        &state,
        &["--size-only", src_s, "cells://common-files/m"],
    )
    .assert_ok()
    .assert_stderr_contains("0 uploaded");
    sync(&s, &state, &["--checksum", src_s, "cells://common-files/m"])
        .assert_ok()
        .assert_stderr_contains("1 uploaded");
    assert_eq!(fs::read(server_file(&s, "m/d0/f0.txt")).unwrap(), new);
    // A newer local time: sent by default, not with --size-only.
    let f1 = src.join("d0/f1.txt");
    set_mtime(&f1, 3600);
    sync(
        &s,
        &state,
        &["--size-only", src_s, "cells://common-files/m"],
    )
    .assert_ok()
    .assert_stderr_contains("0 uploaded");
    sync(&s, &state, &[src_s, "cells://common-files/m"])
        .assert_ok()
        .assert_stderr_contains("1 uploaded");
    // A new size is always seen.
    fs::write(src.join("top.txt"), b"longer top").unwrap();
    set_mtime(&src.join("top.txt"), -7200);
    sync(
        &s,
        &state,
        &["--size-only", src_s, "cells://common-files/m"],
    )
    .assert_ok()
    .assert_stderr_contains("1 uploaded");
}

crate::over_http_and_tls!(delete_sends_remote_items_to_the_recycle_bin_on: delete_sends_remote_items_to_the_recycle_bin, delete_sends_remote_items_to_the_recycle_bin_over_tls);

fn delete_sends_remote_items_to_the_recycle_bin_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 2, 2);
    let src_s = src.to_str().unwrap();
    sync(&s, &state, &["-p", src_s, "cells://common-files/del"]).assert_ok();
    fs::remove_dir_all(src.join("d1")).unwrap();
    fs::remove_file(src.join("d0/f1.txt")).unwrap();
    // Without --delete nothing goes.
    sync(&s, &state, &[src_s, "cells://common-files/del"]).assert_ok();
    assert!(server_file(&s, "del/d1/f0.txt").exists());
    let out = sync(&s, &state, &["--delete", src_s, "cells://common-files/del"]);
    out.assert_ok().assert_stderr_contains("2 deleted");
    assert!(!server_file(&s, "del/d1").exists());
    assert!(!server_file(&s, "del/d0/f1.txt").exists());
    assert_eq!(files(&server_file(&s, "del")), files(&src));
    // In the recycle bin, not gone.
    let bin = files(&server_file(&s, "recycle_bin"));
    assert!(bin.keys().any(|k| k.ends_with("f1.txt")), "{bin:?}");
}

crate::over_http_and_tls!(download_with_delete_never_leaves_target_on: download_with_delete_never_leaves_target, download_with_delete_never_leaves_target_over_tls);

fn download_with_delete_never_leaves_target_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state, dst) = (
        tmp.path().join("src"),
        tmp.path().join("state"),
        tmp.path().join("dst"),
    );
    make_tree(&src, 2, 2);
    sync(
        &s,
        &state,
        &["-p", src.to_str().unwrap(), "cells://common-files/dl"],
    )
    .assert_ok();
    // Outside TARGET: must survive whatever TARGET's links say.
    let outside = tmp.path().join("outside");
    fs::create_dir_all(outside.join("d0")).unwrap();
    fs::write(outside.join("keep.txt"), b"precious").unwrap();
    fs::write(outside.join("d0/f9.txt"), b"precious too").unwrap();
    fs::create_dir_all(&dst).unwrap();
    // A link where the server has a folder, a link and a file the server does not have.
    std::os::unix::fs::symlink(&outside, dst.join("d0")).unwrap();
    std::os::unix::fs::symlink(&outside, dst.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.join("keep.txt"), dst.join("keep-link")).unwrap();
    fs::write(dst.join("extra.txt"), b"x").unwrap();
    let dst_s = dst.to_str().unwrap();
    sync(&s, &state, &["--delete", "cells://common-files/dl", dst_s]).assert_ok();
    assert_eq!(files(&dst), files(&src));
    for l in ["escape", "keep-link", "extra.txt"] {
        assert!(
            fs::symlink_metadata(dst.join(l)).is_err(),
            "{l} still there"
        );
    }
    assert!(!fs::symlink_metadata(dst.join("d0"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(outside.join("keep.txt")).unwrap(), b"precious");
    assert_eq!(
        fs::read(outside.join("d0/f9.txt")).unwrap(),
        b"precious too"
    );
    assert!(!outside.join("d0/f0.txt").exists());
    // Downloaded files carry the server's time: a second run sends nothing.
    let before = requests(&s);
    sync(&s, &state, &["--delete", "cells://common-files/dl", dst_s])
        .assert_ok()
        .assert_stderr_contains("0 downloaded (0 B), 5 unchanged, 0 deleted");
    let asked = delta(&before, &requests(&s));
    assert!(!asked.keys().any(|k| k.contains("/io")), "{asked:?}");
    // A local change is undone (the server's copy wins).
    fs::write(dst.join("d1/f0.txt"), b"edited").unwrap();
    sync(&s, &state, &["cells://common-files/dl", dst_s])
        .assert_ok()
        .assert_stderr_contains("1 downloaded");
    assert_eq!(files(&dst), files(&src));
}

crate::over_http_and_tls!(filters_select_and_protect_on: filters_select_and_protect, filters_select_and_protect_over_tls);

fn filters_select_and_protect_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 2, 1);
    for rel in [
        "a.log",
        "d0/b.log",
        "cache/c.txt",
        "d1/cache/e.txt",
        "notes.pdf",
    ] {
        let p = src.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, rel).unwrap();
    }
    let src_s = src.to_str().unwrap();
    let out = sync(
        &s,
        &state,
        &[
            "-p",
            "--exclude",
            "*.log",
            "--exclude",
            "/cache/",
            src_s,
            "cells://common-files/flt",
        ],
    );
    out.assert_ok();
    let got: Vec<String> = files(&server_file(&s, "flt")).into_keys().collect();
    assert_eq!(
        got,
        [
            "d0/f0.txt",
            "d1/cache/e.txt",
            "d1/f0.txt",
            "notes.pdf",
            "top.txt"
        ]
    );
    // An excluded file is not deleted by --delete, even when the source lost it.
    let old = tmp.path().join("old.log");
    fs::write(&old, b"server only").unwrap();
    scp(&s, &[old.to_str().unwrap(), "cells://common-files/flt/"]).assert_ok();
    let out = sync(
        &s,
        &state,
        &[
            "--delete",
            "--exclude",
            "*.log",
            "--exclude",
            "/cache/",
            src_s,
            "cells://common-files/flt",
        ],
    );
    out.assert_ok();
    assert!(server_file(&s, "flt/old.log").exists());
    // Includes: only what matches, first match wins; folders without a match are not created.
    let dst = tmp.path().join("only-pdf");
    sync(
        &s,
        &state,
        &[
            "-p",
            "--exclude",
            "d1/**",
            "--include",
            "*.txt",
            "--include",
            "*.pdf",
            "cells://common-files/flt",
            dst.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let got: Vec<String> = files(&dst).into_keys().collect();
    assert_eq!(got, ["d0/f0.txt", "notes.pdf", "top.txt"]);
    assert!(!dst.join("d1").exists());
}

crate::over_http_and_tls!(max_age_dry_run_and_json_on: max_age_dry_run_and_json, max_age_dry_run_and_json_over_tls);

fn max_age_dry_run_and_json_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let (src, state) = (tmp.path().join("src"), tmp.path().join("state"));
    make_tree(&src, 1, 2);
    set_mtime(&src.join("d0/f1.txt"), -30 * 86_400);
    let src_s = src.to_str().unwrap();
    let before = requests(&s);
    let out = sync(
        &s,
        &state,
        &[
            "-p",
            "--dry-run",
            "--json",
            "--max-age",
            "7d",
            src_s,
            "cells://common-files/age",
        ],
    );
    out.assert_ok();
    let lines: Vec<serde_json::Value> = out
        .stdout_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let uploads: Vec<&str> = lines
        .iter()
        .filter(|v| v["action"] == "upload")
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert_eq!(uploads, ["d0/f0.txt", "top.txt"]);
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["excluded"], 1);
    // A dry run changes nothing: no upload, no folder.
    let asked = delta(&before, &requests(&s));
    assert!(
        !asked
            .keys()
            .any(|k| k.contains("/io") || k.contains("create")),
        "{asked:?}"
    );
    assert!(!server_file(&s, "age").exists());
    let out = sync(
        &s,
        &state,
        &[
            "-p",
            "--json",
            "--max-age",
            "7d",
            src_s,
            "cells://common-files/age",
        ],
    );
    out.assert_ok();
    let last: serde_json::Value = serde_json::from_str(out.stdout_lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["sent"], 2, "{last}");
    assert_eq!(last["summary"]["failed"], 0);
    assert!(!server_file(&s, "age/d0/f1.txt").exists());
}

crate::over_http_and_tls!(refusals_are_clear_on: refusals_are_clear, refusals_are_clear_over_tls);

fn refusals_are_clear_on(net: Net) {
    let s = net.shared();
    let tmp = tmpdir();
    let state = tmp.path().join("state");
    let f = tmp.path().join("file.txt");
    fs::write(&f, b"x").unwrap();
    let f_s = f.to_str().unwrap();
    sync(s, &state, &[f_s, "cells://common-files/x"])
        .assert_code(2)
        .assert_stderr_contains("not a folder");
    sync(
        s,
        &state,
        &[tmp.path().to_str().unwrap(), "cells://common-files/no/such"],
    )
    .assert_code(4)
    .assert_stderr_contains("-p/--parents");
    sync(
        s,
        &state,
        &["--checksum", "--size-only", "a", "cells://common-files/x"],
    )
    .assert_code(2);
    sync(
        s,
        &state,
        &["--exclude", "[ab", "a", "cells://common-files/x"],
    )
    .assert_code(2);
    sync(s, &state, &["a", "b"]).assert_code(2);
}

crate::over_http_and_tls!(several_sources_and_remote_wildcards_go_each_into_its_own_folder_on: several_sources_and_remote_wildcards_go_each_into_its_own_folder, several_sources_and_remote_wildcards_go_each_into_its_own_folder_over_tls);

fn several_sources_and_remote_wildcards_go_each_into_its_own_folder_on(net: Net) {
    let s = net.start(&[]);
    let tmp = tmpdir();
    let state = tmp.path().join("state");
    let (a, b) = (tmp.path().join("alpha"), tmp.path().join("beta"));
    make_tree(&a, 1, 1);
    make_tree(&b, 1, 2);
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    sync(&s, &state, &[a_s, b_s, "cells://common-files/many"]).assert_code(4);
    sync(&s, &state, &["-p", a_s, b_s, "cells://common-files/many"]).assert_ok();
    assert_eq!(files(&server_file(&s, "many/alpha")), files(&a));
    assert_eq!(files(&server_file(&s, "many/beta")), files(&b));
    let dst = tmp.path().join("back");
    sync(
        &s,
        &state,
        &["-p", "cells://common-files/many/*a", dst.to_str().unwrap()],
    )
    .assert_ok();
    assert_eq!(files(&dst.join("alpha")), files(&a));
    assert_eq!(files(&dst.join("beta")), files(&b));
    // Again: nothing to send.
    let out = sync(
        &s,
        &state,
        &["cells://common-files/many/*", dst.to_str().unwrap()],
    );
    out.assert_ok();
    assert_eq!(
        out.stderr.matches("0 downloaded (0 B)").count(),
        2,
        "{}",
        out.stderr
    );
}
