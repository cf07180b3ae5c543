//! Large trees: 2,000 small files in nested folders, uploaded and downloaded
//! back byte-identical (listing pages, parallel files, index wait).

use crate::scp_common::*;
use std::fs;

crate::over_http_and_tls!(two_thousand_files_both_ways_on: two_thousand_files_both_ways, two_thousand_files_both_ways_over_tls);

fn two_thousand_files_both_ways_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-2000");
    let tmp = tmpdir();
    let src = tmp.path().join("many");
    for d in 0..10 {
        let dir = src.join(format!("dir{d}"));
        fs::create_dir_all(&dir).unwrap();
        for i in 0..200 {
            let n = d * 200 + i;
            let len = 1024 + (n * 37) % (4 * 1024);
            fs::write(dir.join(format!("file {n:04}.txt")), data(len, n as u64)).unwrap();
        }
    }
    fs::create_dir_all(src.join("empty/nested")).unwrap();
    // A dot-file: hidden from server listings, still uploaded and verified.
    fs::write(src.join("dir0/.dotfile"), b"hidden").unwrap();
    let out = scp(
        s,
        &[
            "--files-concurrency",
            "8",
            "-q",
            src.to_str().unwrap(),
            "cells://common-files/scp-2000",
        ],
    );
    out.assert_ok();
    // Quiet log mode: no per-file lines, just the summary.
    assert!(out.stderr_lines().len() < 10, "{out}");
    assert!(out.stderr.contains("Uploaded 2001 of 2001 files"), "{out}");
    let (mut want_files, want_dirs) = snapshot(&src);
    let (got_files, got_dirs) = snapshot(&server_file(s, "scp-2000/many"));
    assert_eq!(got_files.len(), 2001);
    assert!(got_files == want_files, "server tree differs");
    assert_eq!(got_dirs, want_dirs);

    // The server does not list dot-files: they are not part of a download.
    want_files.remove("dir0/.dotfile");
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    let out = scp(
        s,
        &[
            "--files-concurrency",
            "8",
            "cells://common-files/scp-2000/many",
            dl.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    assert!(
        out.stderr.contains("Downloaded 2000 of 2000 files"),
        "{out}"
    );
    assert_eq!(
        out.stderr_lines()
            .iter()
            .filter(|l| l.starts_with("Downloaded "))
            .count(),
        2001
    );
    let (back_files, back_dirs) = snapshot(&dl.join("many"));
    assert!(back_files == want_files, "downloaded tree differs");
    assert_eq!(back_dirs, want_dirs);
}

crate::over_http_and_tls!(files_spread_over_many_folders_are_verified_in_bulk_on: files_spread_over_many_folders_are_verified_in_bulk, files_spread_over_many_folders_are_verified_in_bulk_over_tls);

/// Few new files in each of many folders: once uploaded, they are looked up
/// in the index together (a hundred paths per request), not with one stat
/// each, while the server indexes late. A file named `*` (which as a path
/// would ask for a folder's children) and a dot-file are among them.
fn files_spread_over_many_folders_are_verified_in_bulk_on(net: Net) {
    let s = net.start(&["--index-delay-ms", "300"]);
    let tmp = tmpdir();
    let src = tmp.path().join("spread");
    for d in 0..60 {
        let dir = src.join(format!("d{d:02}"));
        fs::create_dir_all(&dir).unwrap();
        let names = match d {
            0 => ["*".to_string(), "a.txt".to_string()],
            1 => [".hidden".to_string(), "b.txt".to_string()],
            _ => [format!("x{d}.txt"), format!("y{d}.txt")],
        };
        for (i, n) in names.iter().enumerate() {
            fs::write(dir.join(n), data(100 + d * 10 + i, (d * 2 + i) as u64)).unwrap();
        }
    }
    let before = crate::sync_common::requests(&s);
    let out = scp(&s, &["-q", src.to_str().unwrap(), "cells://common-files/"]);
    out.assert_ok();
    assert!(out.stderr.contains("Uploaded 120 of 120 files"), "{out}");
    assert!(!out.stderr.contains("not visible"), "{out}");
    let after = crate::sync_common::requests(&s);
    let n = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    // Two bulk requests (120 paths) per round of lookups, a few rounds while
    // the index catches up, the `*` file alone: far from one stat per file.
    assert!(n("GET /a/tree/stat") < 15, "stats: {after:?}");
    assert!(n("POST /a/tree/stats") < 30, "bulk: {after:?}");
    let (want, _) = snapshot(&src);
    let (got, _) = snapshot(&server_file(&s, "spread"));
    assert!(got == want, "server tree differs");
}
