//! Several sources for scp (`cec scp a b dir/ cells://ws/x/`), shell-style
//! wildcards in remote sources, `-p/--parents`, and `ls --recursive`.

use crate::scp_common::*;
use std::fs;

crate::over_http_and_tls!(several_local_sources_go_into_one_remote_folder_on: several_local_sources_go_into_one_remote_folder, several_local_sources_go_into_one_remote_folder_over_tls);

fn several_local_sources_go_into_one_remote_folder_on(net: Net) {
    let s = net.shared();
    let tmp = tmpdir();
    let (a, b, d) = (
        tmp.path().join("a.txt"),
        tmp.path().join("b.txt"),
        tmp.path().join("dir"),
    );
    fs::write(&a, b"A").unwrap();
    fs::write(&b, b"B").unwrap();
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("sub/c.txt"), b"C").unwrap();
    let srcs = [
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        d.to_str().unwrap(),
    ];
    let mut args = srcs.to_vec();
    args.push("cells://common-files/multi/in/");
    // The target folder must exist, or -p.
    scp(s, &args)
        .assert_code(4)
        .assert_stderr_contains("-p/--parents");
    let mut with_p = vec!["-p"];
    with_p.extend(&args);
    scp(s, &with_p).assert_ok();
    assert_eq!(fs::read(server_file(s, "multi/in/a.txt")).unwrap(), b"A");
    assert_eq!(fs::read(server_file(s, "multi/in/b.txt")).unwrap(), b"B");
    assert_eq!(
        fs::read(server_file(s, "multi/in/dir/sub/c.txt")).unwrap(),
        b"C"
    );
    // Again: each existing item is a conflict, listed; exit 6.
    scp(s, &args)
        .assert_code(6)
        .assert_stderr_contains("3 of 3 sources failed");
    // A file as the target of several sources.
    scp(
        s,
        &[srcs[0], srcs[1], "cells://common-files/multi/in/a.txt"],
    )
    .assert_code(2);
}

crate::over_http_and_tls!(remote_wildcards_pick_names_in_their_folder_on: remote_wildcards_pick_names_in_their_folder, remote_wildcards_pick_names_in_their_folder_over_tls);

fn remote_wildcards_pick_names_in_their_folder_on(net: Net) {
    let s = net.shared();
    let tmp = tmpdir();
    let src = tmp.path().join("glob");
    fs::create_dir_all(src.join("sub.pdf")).unwrap();
    for n in [
        "r1.pdf",
        "r2.pdf",
        "r10.pdf",
        "x.txt",
        "[odd].txt",
        "sub.pdf/in.txt",
    ] {
        fs::write(src.join(n), n).unwrap();
    }
    scp(s, &[src.to_str().unwrap(), "cells://common-files/"]).assert_ok();
    let get = |pattern: &str, dst: &str| {
        let d = tmp.path().join(dst);
        let out = scp(s, &["-p", pattern, &format!("{}/", d.display())]);
        (out, d)
    };
    let (out, d) = get("cells://common-files/glob/*.pdf", "pdf");
    out.assert_ok();
    let (files, _) = snapshot(&d);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    // Folders match too (and come whole).
    assert_eq!(names, ["r1.pdf", "r10.pdf", "r2.pdf", "sub.pdf/in.txt"]);
    let (out, d) = get("cells://common-files/glob/r?.pdf", "one");
    out.assert_ok();
    assert_eq!(
        snapshot(&d).0.keys().collect::<Vec<_>>(),
        ["r1.pdf", "r2.pdf"]
    );
    let (out, d) = get("cells://common-files/glob/r[!2]*", "class");
    out.assert_ok();
    assert_eq!(
        snapshot(&d).0.keys().collect::<Vec<_>>(),
        ["r1.pdf", "r10.pdf"]
    );
    // A name that exists is itself, even with wildcard characters in it.
    let (out, d) = get("cells://common-files/glob/[odd].txt", "literal");
    out.assert_ok();
    assert_eq!(snapshot(&d).0.keys().collect::<Vec<_>>(), ["[odd].txt"]);
    let (out, _) = get("cells://common-files/glob/*.doc", "none");
    out.assert_code(4)
        .assert_stderr_contains("no file or folder matches");
    // Several remote sources, one of them a pattern.
    let d = tmp.path().join("mixed");
    scp(
        s,
        &[
            "-p",
            "cells://common-files/glob/x.txt",
            "cells://common-files/glob/r1*",
            d.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(
        snapshot(&d).0.keys().collect::<Vec<_>>(),
        ["r1.pdf", "r10.pdf", "x.txt"]
    );
    // cp keeps its own rule: only a whole '*' element is a wildcard.
    cec(s, "admin")
        .args(["cp", "common-files/glob/*.pdf", "common-files/"])
        .run()
        .assert_code(4);
}

crate::over_http_and_tls!(parents_create_the_missing_target_folder_on: parents_create_the_missing_target_folder, parents_create_the_missing_target_folder_over_tls);

fn parents_create_the_missing_target_folder_on(net: Net) {
    let s = net.shared();
    let tmp = tmpdir();
    let f = tmp.path().join("p.txt");
    fs::write(&f, b"P").unwrap();
    scp(s, &[f.to_str().unwrap(), "cells://common-files/par/a/b/"]).assert_code(4);
    scp(
        s,
        &["-p", f.to_str().unwrap(), "cells://common-files/par/a/b/"],
    )
    .assert_ok();
    assert_eq!(fs::read(server_file(s, "par/a/b/p.txt")).unwrap(), b"P");
    let d = tmp.path().join("x/y/");
    scp(
        s,
        &[
            "-p",
            "cells://common-files/par/a/b/p.txt",
            d.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(fs::read(tmp.path().join("x/y/p.txt")).unwrap(), b"P");
}

crate::over_http_and_tls!(ls_recursive_lists_the_whole_tree_on: ls_recursive_lists_the_whole_tree, ls_recursive_lists_the_whole_tree_over_tls);

fn ls_recursive_lists_the_whole_tree_on(net: Net) {
    let s = net.shared();
    let tmp = tmpdir();
    let src = tmp.path().join("lsr");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("a/b/deep.txt"), b"d").unwrap();
    fs::write(src.join("top.txt"), b"t").unwrap();
    scp(s, &[src.to_str().unwrap(), "cells://common-files/"]).assert_ok();
    let out = cec(s, "admin").args(["ls", "-R", "common-files/lsr"]).run();
    out.assert_ok();
    assert_eq!(
        out.stdout_lines(),
        [
            "common-files/lsr/a/",
            "common-files/lsr/a/b/",
            "common-files/lsr/a/b/deep.txt",
            "common-files/lsr/top.txt"
        ]
    );
    let out = cec(s, "admin")
        .args(["ls", "--recursive", "--json", "common-files/lsr"])
        .run();
    out.assert_ok();
    let paths: Vec<String> = out
        .stdout_lines()
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["path"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(paths.len(), 4);
    assert!(paths.contains(&"common-files/lsr/a/b/deep.txt".to_string()));
    // -r stays "raw" (one level).
    let out = cec(s, "admin").args(["ls", "-r", "common-files/lsr"]).run();
    assert_eq!(
        out.stdout_lines(),
        ["common-files/lsr/a/", "common-files/lsr/top.txt"]
    );
    cec(s, "admin")
        .args(["ls", "-R", "-d", "common-files/lsr"])
        .run()
        .assert_code(2);
}
