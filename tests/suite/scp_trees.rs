//! Large trees: 2,000 small files in nested folders, uploaded and downloaded
//! back byte-identical (listing pages, parallel files, index wait).

use crate::common::Server;
use crate::scp_common::*;
use std::fs;

#[test]
fn two_thousand_files_both_ways() {
    let s = Server::shared();
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
