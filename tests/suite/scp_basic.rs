//! scp end to end against the development server: single files, renames,
//! conflicts and --force, trees (empty folders, zero-byte files, unicode and
//! spaces, symlinks), merges with conflicting types, errors and exit codes,
//! log output. Each test works in its own folder of common-files.

use crate::common::Server;
use crate::scp_common::*;
use std::fs;

fn srv() -> &'static Server {
    Server::shared()
}

crate::over_http_and_tls!(single_file_upload_download_and_renames_on: single_file_upload_download_and_renames, single_file_upload_download_and_renames_over_tls);

fn single_file_upload_download_and_renames_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-single");
    let tmp = tmpdir();
    let f = tmp.path().join("hello world é.txt");
    let content = data(70_000, 1);
    fs::write(&f, &content).unwrap();

    // Into an existing folder: keeps its name.
    let out = scp(s, &[f.to_str().unwrap(), "cells://common-files/scp-single"]);
    out.assert_ok();
    assert_plain(&out);
    assert!(out.stderr.contains("Uploaded hello world é.txt"), "{out}");
    assert!(out.stderr.contains("Uploaded 1 of 1 file"), "{out}");
    assert_eq!(
        fs::read(server_file(s, "scp-single/hello world é.txt")).unwrap(),
        content
    );
    assert_eq!(
        remote_hash(s, "common-files/scp-single/hello world é.txt").unwrap(),
        cells_hash(&content)
    );

    // Target does not exist but its parent does: renamed (cells// prefix too).
    scp(
        s,
        &[
            f.to_str().unwrap(),
            "cells//common-files/scp-single/renamed.txt",
        ],
    )
    .assert_ok();
    assert_eq!(
        fs::read(server_file(s, "scp-single/renamed.txt")).unwrap(),
        content
    );
    // Trailing slash: a new folder that receives the file.
    scp(
        s,
        &[
            f.to_str().unwrap(),
            "cells://common-files/scp-single/newdir/",
        ],
    )
    .assert_ok();
    assert_eq!(
        fs::read(server_file(s, "scp-single/newdir/hello world é.txt")).unwrap(),
        content
    );

    // Download into a folder, and under a new name.
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = scp(
        s,
        &[
            "cells://common-files/scp-single/renamed.txt",
            dl.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    assert!(out.stderr.contains("Downloaded renamed.txt"), "{out}");
    assert_eq!(fs::read(dl.join("renamed.txt")).unwrap(), content);
    let other = dl.join("other.bin");
    scp(
        s,
        &[
            "cells://common-files/scp-single/renamed.txt",
            other.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(fs::read(&other).unwrap(), content);
    // No temporary files left behind.
    let names: Vec<_> = fs::read_dir(&dl)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("cec-partial")),
        "{names:?}"
    );
}

crate::over_http_and_tls!(conflicts_and_force_overwrite_with_shorter_files_on: conflicts_and_force_overwrite_with_shorter_files, conflicts_and_force_overwrite_with_shorter_files_over_tls);

fn conflicts_and_force_overwrite_with_shorter_files_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-force");
    let tmp = tmpdir();
    let f = tmp.path().join("f.txt");
    fs::write(&f, b"a long first version of the file\n").unwrap();
    scp(s, &[f.to_str().unwrap(), "cells://common-files/scp-force"]).assert_ok();

    // Exists: conflict (exit 5) without --force, nothing changed.
    fs::write(&f, b"short\n").unwrap();
    let out = scp(s, &[f.to_str().unwrap(), "cells://common-files/scp-force"]);
    out.assert_code(5);
    assert!(out.stderr.contains("already exists"), "{out}");
    assert_eq!(
        fs::read(server_file(s, "scp-force/f.txt")).unwrap(),
        b"a long first version of the file\n"
    );
    // --force: replaced by the shorter content, no trailing garbage.
    scp(
        s,
        &["-f", f.to_str().unwrap(), "cells://common-files/scp-force"],
    )
    .assert_ok();
    assert_eq!(
        fs::read(server_file(s, "scp-force/f.txt")).unwrap(),
        b"short\n"
    );
    // Same content again with --force: skipped as identical.
    let out = scp(
        s,
        &["-f", f.to_str().unwrap(), "cells://common-files/scp-force"],
    );
    out.assert_ok();
    assert!(out.stderr.contains("already identical"), "{out}");

    // Download over a longer local file: exact content afterwards.
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    fs::write(dl.join("f.txt"), vec![b'x'; 10_000]).unwrap();
    let out = scp(
        s,
        &["cells://common-files/scp-force/f.txt", dl.to_str().unwrap()],
    );
    out.assert_code(5);
    assert_eq!(fs::read(dl.join("f.txt")).unwrap().len(), 10_000);
    scp(
        s,
        &[
            "--force",
            "cells://common-files/scp-force/f.txt",
            dl.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(fs::read(dl.join("f.txt")).unwrap(), b"short\n");
    // An existing file as TARGET: replaced with --force only.
    let target = tmp.path().join("existing.txt");
    fs::write(&target, vec![b'y'; 5000]).unwrap();
    scp(
        s,
        &[
            "cells://common-files/scp-force/f.txt",
            target.to_str().unwrap(),
        ],
    )
    .assert_code(5);
    scp(
        s,
        &[
            "-f",
            "cells://common-files/scp-force/f.txt",
            target.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(fs::read(&target).unwrap(), b"short\n");
}

fn make_tree(root: &std::path::Path) {
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    fs::create_dir_all(root.join("dir with spaces/ünïcødé 名前")).unwrap();
    fs::write(root.join("zero.bin"), b"").unwrap();
    fs::write(root.join("a/one.txt"), b"1\n").unwrap();
    fs::write(root.join("a/b/c/deep.bin"), data(123_457, 2)).unwrap();
    fs::write(
        root.join("dir with spaces/ünïcødé 名前/fïlé 1.txt"),
        data(999, 3),
    )
    .unwrap();
    fs::write(root.join("dir with spaces/plain"), b"plain").unwrap();
}

crate::over_http_and_tls!(tree_roundtrip_with_empty_folders_zero_bytes_unicode_on: tree_roundtrip_with_empty_folders_zero_bytes_unicode, tree_roundtrip_with_empty_folders_zero_bytes_unicode_over_tls);

fn tree_roundtrip_with_empty_folders_zero_bytes_unicode_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-tree");
    let tmp = tmpdir();
    let src = tmp.path().join("tree");
    make_tree(&src);
    let out = scp(
        s,
        &[
            "--files-concurrency",
            "2",
            src.to_str().unwrap(),
            "cells://common-files/scp-tree",
        ],
    );
    out.assert_ok();
    assert_plain(&out);
    assert!(out.stderr.contains("Uploaded 5 of 5 files"), "{out}");
    let (want_files, want_dirs) = snapshot(&src);
    let (got_files, got_dirs) = snapshot(&server_file(s, "scp-tree/tree"));
    assert_eq!(got_files, want_files);
    assert_eq!(got_dirs, want_dirs);
    assert!(stat(s, "common-files/scp-tree/tree/empty").is_some());

    // Download the tree back into a new folder (TARGET is created, the tree keeps its name).
    let dl = tmp.path().join("down");
    let out = scp(
        s,
        &["cells://common-files/scp-tree/tree", dl.to_str().unwrap()],
    );
    out.assert_ok();
    assert!(out.stderr.contains("Downloaded 5 of 5 files"), "{out}");
    let (f2, d2) = snapshot(&dl.join("tree"));
    assert_eq!(f2, want_files);
    assert_eq!(d2, want_dirs);

    // Again into the same place: conflict, then --force merges (everything identical).
    scp(
        s,
        &["cells://common-files/scp-tree/tree", dl.to_str().unwrap()],
    )
    .assert_code(5);
    let out = scp(
        s,
        &[
            "-f",
            "cells://common-files/scp-tree/tree",
            dl.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    assert!(out.stderr.contains("5 already identical"), "{out}");
}

crate::over_http_and_tls!(symlinks_skipped_by_default_followed_on_request_without_loops_on: symlinks_skipped_by_default_followed_on_request_without_loops, symlinks_skipped_by_default_followed_on_request_without_loops_over_tls);

fn symlinks_skipped_by_default_followed_on_request_without_loops_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-links");
    let tmp = tmpdir();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("real")).unwrap();
    fs::write(src.join("real/file.txt"), b"content").unwrap();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, b"outside").unwrap();
    std::os::unix::fs::symlink(&outside, src.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&src, src.join("real/loop")).unwrap();

    let out = scp(
        s,
        &[src.to_str().unwrap(), "cells://common-files/scp-links"],
    );
    out.assert_ok();
    assert!(out.stderr.contains("--follow-links"), "{out}");
    assert!(server_file(s, "scp-links/src/real/file.txt").exists());
    assert!(!server_file(s, "scp-links/src/link.txt").exists());
    assert!(!server_file(s, "scp-links/src/real/loop").exists());

    mkdir(s, "common-files/scp-links/follow");
    let out = scp(
        s,
        &[
            "--follow-links",
            src.to_str().unwrap(),
            "cells://common-files/scp-links/follow",
        ],
    );
    out.assert_ok();
    assert!(out.stderr.contains("loop"), "{out}");
    assert_eq!(
        fs::read(server_file(s, "scp-links/follow/src/link.txt")).unwrap(),
        b"outside"
    );
    assert!(!server_file(s, "scp-links/follow/src/real/loop").exists());
}

crate::over_http_and_tls!(force_merge_with_conflicting_types_both_ways_on: force_merge_with_conflicting_types_both_ways, force_merge_with_conflicting_types_both_ways_over_tls);

fn force_merge_with_conflicting_types_both_ways_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-merge");
    let tmp = tmpdir();
    // Remote side: m/{x (file), y/ (folder with inner), keep.txt, same.txt}
    let first = tmp.path().join("first/m");
    fs::create_dir_all(first.join("y")).unwrap();
    fs::write(first.join("x"), b"x was a file").unwrap();
    fs::write(first.join("y/inner.txt"), b"inner").unwrap();
    fs::write(first.join("keep.txt"), b"keep me").unwrap();
    fs::write(first.join("same.txt"), b"same").unwrap();
    scp(
        s,
        &[first.to_str().unwrap(), "cells://common-files/scp-merge"],
    )
    .assert_ok();

    // Local side: m/{x/ (folder), y (file), new.txt, same.txt}
    let second = tmp.path().join("second/m");
    fs::create_dir_all(second.join("x")).unwrap();
    fs::write(second.join("x/now-a-folder.txt"), b"folder now").unwrap();
    fs::write(second.join("y"), b"y is a file now").unwrap();
    fs::write(second.join("new.txt"), b"new").unwrap();
    fs::write(second.join("same.txt"), b"same").unwrap();
    scp(
        s,
        &[second.to_str().unwrap(), "cells://common-files/scp-merge"],
    )
    .assert_code(5);
    let out = scp(
        s,
        &[
            "--force",
            "-v",
            second.to_str().unwrap(),
            "cells://common-files/scp-merge",
        ],
    );
    out.assert_ok();
    let m = server_file(s, "scp-merge/m");
    assert!(m.join("x").is_dir(), "{out}");
    assert_eq!(
        fs::read(m.join("x/now-a-folder.txt")).unwrap(),
        b"folder now"
    );
    assert_eq!(fs::read(m.join("y")).unwrap(), b"y is a file now");
    assert_eq!(fs::read(m.join("new.txt")).unwrap(), b"new");
    // Not part of the upload: untouched (a merge, not a mirror).
    assert_eq!(fs::read(m.join("keep.txt")).unwrap(), b"keep me");
    assert_eq!(fs::read(m.join("same.txt")).unwrap(), b"same");
    assert!(out.stderr.contains("1 already identical"), "{out}");

    // Download merge: local m has x as a file and y as a folder → replaced by the server's types.
    let dl = tmp.path().join("dl");
    fs::create_dir_all(dl.join("m/y/sub")).unwrap();
    fs::write(dl.join("m/x"), b"local file x").unwrap();
    fs::write(dl.join("m/y/sub/old.txt"), b"old").unwrap();
    fs::write(dl.join("m/local-only.txt"), b"mine").unwrap();
    scp(
        s,
        &["cells://common-files/scp-merge/m", dl.to_str().unwrap()],
    )
    .assert_code(5);
    scp(
        s,
        &[
            "-f",
            "cells://common-files/scp-merge/m",
            dl.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert!(dl.join("m/x").is_dir());
    assert_eq!(
        fs::read(dl.join("m/x/now-a-folder.txt")).unwrap(),
        b"folder now"
    );
    assert_eq!(fs::read(dl.join("m/y")).unwrap(), b"y is a file now");
    assert_eq!(fs::read(dl.join("m/keep.txt")).unwrap(), b"keep me");
    assert_eq!(fs::read(dl.join("m/local-only.txt")).unwrap(), b"mine");
}

#[test]
fn errors_and_exit_codes() {
    let s = srv();
    mkdir(s, "common-files/scp-errors");
    let tmp = tmpdir();
    let f = tmp.path().join("f.txt");
    fs::write(&f, b"x").unwrap();
    let fs_ = f.to_str().unwrap();
    // Usage errors (exit 2).
    let out = scp(s, &[fs_, tmp.path().to_str().unwrap()]);
    out.assert_code(2);
    assert!(out.stderr.contains("cells://"), "{out}");
    scp(s, &["cells://common-files/a", "cells//common-files/b"]).assert_code(2);
    scp(
        s,
        &["--part-size", "15", fs_, "cells://common-files/scp-errors"],
    )
    .assert_code(2);
    scp(
        s,
        &[
            "--retry-max-backoff",
            "soon",
            fs_,
            "cells://common-files/scp-errors",
        ],
    )
    .assert_code(2);
    // Not found (exit 4).
    let missing = tmp.path().join("missing");
    scp(
        s,
        &[missing.to_str().unwrap(), "cells://common-files/scp-errors"],
    )
    .assert_code(4);
    scp(s, &[fs_, "cells://common-files/scp-errors/no/such/parent"]).assert_code(4);
    scp(s, &[fs_, "cells://no-such-workspace"]).assert_code(4);
    scp(
        s,
        &[
            "cells://common-files/scp-errors/nothing",
            tmp.path().to_str().unwrap(),
        ],
    )
    .assert_code(4);
    let nowhere = tmp.path().join("no/such/dir");
    scp(
        s,
        &[
            "cells://common-files/welcome.txt",
            nowhere.to_str().unwrap(),
        ],
    )
    .assert_code(4);
    // Bad token: exit 3.
    let mut c = crate::common::Cec::new();
    let out = c
        .env("CEC_URL", &s.url)
        .env("CEC_TOKEN", "not-a-token")
        .args(["scp", fs_, "cells://common-files/scp-errors"])
        .run();
    out.assert_code(3);
    // bob cannot write into alice's cell: exit 3 or 4, never 0.
    let mut c = cec(s, "bob");
    let out = c.args(["scp", fs_, "cells://team-cell/"]).run();
    assert!(out.code == 3 || out.code == 4, "{out}");
}

#[test]
fn expired_token_is_an_auth_error() {
    let s = srv();
    let tmp = tmpdir();
    let f = tmp.path().join("f.txt");
    fs::write(&f, b"x").unwrap();
    let mut c = crate::common::Cec::new();
    let out = c
        .env("CEC_URL", &s.url)
        .env("CEC_TOKEN", s.token_expiring("admin", "-1s"))
        .args(["scp", f.to_str().unwrap(), "cells://common-files/"])
        .run();
    out.assert_code(3);
}

crate::over_http_and_tls!(tree_roundtrip_through_the_ureq_transport_on: tree_roundtrip_through_the_ureq_transport, tree_roundtrip_through_the_ureq_transport_over_tls);

fn tree_roundtrip_through_the_ureq_transport_on(net: Net) {
    // CEC_S3_DIRECT=0: every S3 request goes through the shared ureq agent
    // (the path used for https and proxies) instead of the direct HTTP path.
    let s = net.shared();
    mkdir(s, "common-files/scp-ureq");
    let tmp = tmpdir();
    let src = tmp.path().join("tree");
    make_tree(&src);
    let mut c = cec(s, "admin");
    c.env("CEC_S3_DIRECT", "0");
    c.args([
        "scp",
        src.to_str().unwrap(),
        "cells://common-files/scp-ureq",
    ])
    .run()
    .assert_ok();
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&server_file(s, "scp-ureq/tree"));
    assert_eq!(got, want);
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    c.args([
        "scp",
        "cells://common-files/scp-ureq/tree",
        dl.to_str().unwrap(),
    ])
    .run()
    .assert_ok();
    let (back, _) = snapshot(&dl.join("tree"));
    assert_eq!(back, want);
}

crate::over_http_and_tls!(names_up_to_255_bytes_download_on: names_up_to_255_bytes_download, names_up_to_255_bytes_download_over_tls);

/// Regression: names of 243–255 bytes could not be downloaded, because the
/// temporary name `.NAME.cec-partial` went over the 255-byte limit.
fn names_up_to_255_bytes_download_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-long-names");
    let tmp = tmpdir();
    let up = tmp.path().join("up");
    fs::create_dir(&up).unwrap();
    let mut names = Vec::new();
    for len in [243usize, 250, 255] {
        // Multi-byte characters too, so that the cut lands inside one.
        let name = format!("{}{}", "é".repeat(20), "n".repeat(len - 40));
        assert_eq!(name.len(), len);
        fs::write(up.join(&name), data(1000 + len, len as u64)).unwrap();
        names.push(name);
    }
    // A large one takes the resumable, parallel path.
    let big = format!("{}.bin", "b".repeat(251));
    fs::write(up.join(&big), data(70 * 1024 * 1024, 3)).unwrap();
    names.push(big);
    scp(
        s,
        &[up.to_str().unwrap(), "cells://common-files/scp-long-names/"],
    )
    .assert_ok();
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = scp(
        s,
        &[
            "cells://common-files/scp-long-names/up",
            dl.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    for name in &names {
        assert_eq!(
            fs::read(dl.join("up").join(name)).unwrap(),
            fs::read(up.join(name)).unwrap(),
            "{}",
            name.len()
        );
    }
    let (files, _) = snapshot(&dl);
    assert_eq!(files.len(), names.len(), "{:?}", files.keys());
}
