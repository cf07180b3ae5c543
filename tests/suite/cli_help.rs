//! CLI engineer's tests: help for every command, version, tools, completion, doc.

use crate::common::Cec;

fn run(args: &[&str]) -> crate::common::Out {
    Cec::new().args(args).run()
}

/// Every command path (visible and hidden) as listed by the help texts of the tree.
fn all_commands() -> Vec<Vec<String>> {
    let mut out = vec![vec![]];
    let mut i = 0;
    while i < out.len() {
        let path = out[i].clone();
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let o = run(&args);
        assert_eq!(o.code, 0, "{o}");
        let mut in_cmds = false;
        for line in o.stdout.lines() {
            if line == "Commands:" {
                in_cmds = true;
                continue;
            }
            if in_cmds {
                if line.trim().is_empty() {
                    break;
                }
                let name = line.split_whitespace().next().unwrap().to_string();
                let mut p = path.clone();
                p.push(name);
                out.push(p);
            }
        }
        i += 1;
    }
    out
}

#[test]
fn help_for_every_command() {
    let cmds = all_commands();
    assert!(cmds.len() > 35, "only {} commands found", cmds.len());
    for path in &cmds {
        let joined = path.join(" ");
        for form in 0..3 {
            let mut args: Vec<&str> = Vec::new();
            match form {
                0 => {
                    args.push("help");
                    args.extend(path.iter().map(String::as_str));
                }
                1 => {
                    args.extend(path.iter().map(String::as_str));
                    args.push("--help");
                }
                _ => {
                    args.extend(path.iter().map(String::as_str));
                    args.push("-h");
                }
            }
            let o = run(&args);
            assert_eq!(o.code, 0, "{o}");
            assert!(o.stderr.is_empty(), "{o}");
            let want = if joined.is_empty() {
                "cec".to_string()
            } else {
                format!("cec {joined}")
            };
            assert!(o.stdout.contains("Usage:\n  "), "{o}");
            assert!(o.stdout.contains(&want), "{o}");
            assert!(o.stdout.contains("Flags:"), "{o}");
            assert!(o.stdout.contains("--help"), "{o}");
            assert!(
                o.stdout.contains("Examples:"),
                "no examples for '{joined}':\n{o}"
            );
        }
    }
}

#[test]
fn root_help_explains_config_env_and_exit_codes() {
    for args in [vec![], vec!["help"], vec!["--help"], vec!["-h"]] {
        let o = run(&args);
        assert_eq!(o.code, 0, "{o}");
        for needle in [
            "config add",
            "config.json",
            "CEC_URL",
            "CEC_TOKEN",
            "CEC_",
            "EXIT CODES",
            "130",
            "--log",
        ] {
            assert!(o.stdout.contains(needle), "missing {needle}:\n{o}");
        }
        assert!(
            !o.stdout.contains("--skip_verify"),
            "hidden flag shown:\n{o}"
        );
    }
}

#[test]
fn hidden_flags_only_on_request() {
    let o = run(&["scp", "--help"]);
    assert!(!o.stdout.contains("--part_size"), "{o}");
    assert!(o.stdout.contains("--part-size"), "{o}");
    assert!(o.stdout.contains("CEC_PART_SIZE"), "{o}");
    let o = Cec::new()
        .env("CEC_DISPLAY_HIDDEN_FLAGS", "1")
        .args(["scp", "--help"])
        .run();
    assert!(o.stdout.contains("--part_size"), "{o}");
    assert!(o.stdout.contains("--skip_verify"), "{o}");
}

#[test]
fn groups_without_subcommand_print_help() {
    for g in [
        "config",
        "idm",
        "jobs",
        "meta",
        "storage",
        "tools",
        "tools version",
    ] {
        let args: Vec<&str> = g.split(' ').collect();
        let o = run(&args);
        assert_eq!(o.code, 0, "{o}");
        assert!(o.stdout.contains("Commands:"), "{o}");
    }
}

#[test]
fn version_outputs() {
    let o = run(&["version"]);
    assert_eq!(o.code, 0, "{o}");
    for l in [
        "Version:",
        "Built:",
        "Git commit:",
        "OS/Arch:",
        "Rust version:",
    ] {
        assert!(o.stdout.contains(l), "{o}");
    }
    assert!(o.stdout.contains(env!("CARGO_PKG_VERSION")), "{o}");
    let o2 = run(&["--version"]);
    assert_eq!(o2.code, 0);
    assert_eq!(o.stdout, o2.stdout);
    let o = run(&["version", "-f", "{{.Version}}"]);
    assert_eq!(o.stdout, env!("CARGO_PKG_VERSION"));
    let o = run(&[
        "version",
        "--format={{.OS}}/{{ .Arch }} {{.RustVersion}} {{.GitCommit}} {{.Built}}",
    ]);
    assert_eq!(o.code, 0, "{o}");
    // Go's names, like the reference: linux/amd64, linux/arm64, linux/arm.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert!(
        o.stdout
            .starts_with(&format!("{}/{arch} rustc ", std::env::consts::OS)),
        "{o}"
    );
}

#[test]
fn tools_hash() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.bin");
    // 10 MiB + 3 bytes: two blocks.
    let data: Vec<u8> = (0..10 * 1024 * 1024 + 3).map(|i| (i % 253) as u8).collect();
    std::fs::write(&f, &data).unwrap();
    let o = run(&["tools", "hash", "-f", f.to_str().unwrap(), "-r"]);
    assert_eq!(o.code, 0, "{o}");
    use md5::{Digest, Md5};
    let mut cat = Vec::new();
    cat.extend_from_slice(&Md5::digest(&data[..10 * 1024 * 1024]));
    cat.extend_from_slice(&Md5::digest(&data[10 * 1024 * 1024..]));
    let want: String = Md5::digest(&cat)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(o.stdout.trim(), want);
    let o = run(&["tools", "hash", "--file", f.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains(&format!("Final MD5 is '{want}'")), "{o}");
    assert!(o.stdout.contains("10 MB"), "{o}");
    // Empty file: md5(md5("")).
    let e = dir.path().join("empty");
    std::fs::write(&e, b"").unwrap();
    let o = run(&["tools", "hash", "-r", "-f", e.to_str().unwrap()]);
    let inner = Md5::digest(b"");
    let want: String = Md5::digest(inner)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(o.stdout.trim(), want);
}

#[test]
fn tools_version() {
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["tools", "version", "isvalid", "4.1.1-dev.20240425"],
            0,
            "",
        ),
        (&["tools", "version", "isvalid", "v1.04"], 0, ""),
        (&["tools", "version", "isvalid", "foo"], 1, ""),
        (&["tools", "version", "isvalid", "-q", "foo"], 0, "0\n"),
        (&["tools", "version", "isvalid", "-q", "1.0rc1"], 0, "1\n"),
        (&["tools", "version", "isrelease", "4.3.1"], 0, ""),
        (&["tools", "version", "isrelease", "4.3.1-rc1"], 1, ""),
        (
            &["tools", "version", "isrelease", "--quiet", "4.3.1-rc1"],
            0,
            "0\n",
        ),
        (
            &[
                "tools",
                "version",
                "isgreater",
                "4.3.1",
                "4.1.1-dev.20240425",
            ],
            0,
            "",
        ),
        (
            &["tools", "version", "isgreater", "1.0.0-rc.1", "1.0.0-rc"],
            0,
            "",
        ),
        (
            &["tools", "version", "isgreater", "1.0.0-rc.a", "1.0.0-rc"],
            1,
            "",
        ),
        (&["tools", "version", "isgreater", "1.2", "1.2.0.0"], 1, ""),
        (
            &["tools", "version", "isgreater", "-q", "1.0", "2.0"],
            0,
            "0\n",
        ),
        (
            &["tools", "version", "isgreater", "-q", "2.0", "1.0"],
            0,
            "1\n",
        ),
        (&["version", "isgreater", "-q", "2.0", "1.0"], 0, "1\n"),
        (&["version", "isvalid", "1.0"], 0, ""),
    ];
    for (args, code, out) in cases {
        let o = run(args);
        assert_eq!(o.code, *code, "{o}");
        assert_eq!(o.stdout, *out, "{o}");
        if *code != 0 {
            assert_eq!(o.stderr.lines().count(), 1, "{o}");
        }
    }
    let o = run(&["version", "isvalid", "1.0"]);
    assert!(o.stderr.contains("deprecated"), "{o}");
}

#[test]
fn completion_scripts() {
    let o = run(&["completion", "bash"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("complete -F _cec cec"), "{o}");
    assert!(o.stdout.contains("cec __completeNoDesc"), "{o}");
    assert!(o.stdout.contains("--parts-concurrency"), "{o}");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("c.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    // Syntax check and a few completions with a fake `cec` answering `__completeNoDesc`
    // (the real one is driven through real shells in tests/suite/completion_shells.rs).
    let fake = dir.path().join("cec");
    crate::common::write_exe(
        &fake,
        b"#!/bin/sh\n[ \"$1\" = __completeNoDesc ] || exit 1\nfor last; do :; done\ncase \"$last\" in cells//*) p=cells//;; *) p=;; esac\nfor l in common-files/ common-files/doc.txt personal-files/; do echo \"$p$l\"; done\necho :6\n",
    );
    let probe = format!(
        r#"source {}
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMPREPLY=(); _cec; echo "${{COMPREPLY[*]}}"; }}
t cec con
t cec --log debug config a
t cec ls common-files/d
t cec scp ./x cells//pers
t cec config add oauth --no-b
"#,
        script.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&probe)
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "config",
            "add",
            "common-files/doc.txt",
            "cells//personal-files/",
            "--no-browser"
        ],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = run(&["completion", "fish"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.contains("command cec __complete $words"), "{o}");
    assert!(
        o.stdout
            .contains("complete -c cec -f -a '(__cec_complete)'"),
        "{o}"
    );
    let o = run(&["completion", "zsh"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(o.stdout.starts_with("#compdef cec"), "{o}");
    // The completion function with compadd/_files stubbed (zsh: `make deps` installs it).
    let zsh = std::process::Command::new("zsh")
        .arg("-fc")
        .arg("true")
        .status();
    assert!(
        zsh.is_ok_and(|s| s.success()),
        "zsh is missing: run make deps"
    );
    let zscript = dir.path().join("_cec");
    std::fs::write(&zscript, &o.stdout).unwrap();
    let probe = format!(
        r#"compdef() {{ :; }}
source {}
compadd() {{ print -r -- "compadd $*"; }}
_files() {{ print -r -- "_files $*"; }}
t() {{ words=("$@"); CURRENT=$#words; _cec; }}
t cec con
t cec --log debug config a
t cec ls common-files/d
t cec scp ./x cells//pers
t cec tools hash -f ""
"#,
        zscript.display()
    );
    let out = std::process::Command::new("zsh")
        .arg("-fc")
        .arg(&probe)
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        5,
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines[0].contains(" config ") && lines[0].contains(" scp "),
        "{text}"
    );
    assert!(
        lines[1].contains(" add ") && lines[1].contains(" use"),
        "{text}"
    );
    assert!(lines[2].contains("common-files/doc.txt"), "{text}");
    assert!(
        lines[3].contains("cells//personal-files/") && !lines[3].contains("cells//common"),
        "{text}"
    );
    assert!(lines[4].starts_with("_files"), "{text}");
}

#[test]
fn doc_generation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("docs");
    let o = run(&["doc", "-p", d.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o}");
    for f in [
        "cec.md",
        "cec.yaml",
        "cec_ls.md",
        "cec_config_add_oauth.md",
        "cec_help.md",
    ] {
        assert!(d.join(f).exists(), "{f} missing");
    }
    assert!(
        !d.join("cec_tools.md").exists(),
        "hidden command documented"
    );
    let md = std::fs::read_to_string(d.join("cec_scp.md")).unwrap();
    assert!(
        md.contains("### Examples") && md.contains("--part-size"),
        "{md}"
    );
    let y = std::fs::read_to_string(d.join("cec.yaml")).unwrap();
    assert!(
        y.contains("weight: 1") && y.contains("menu_name: menu-admin-guide-v7"),
        "{y}"
    );
}
