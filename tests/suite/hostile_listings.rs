//! A server that lists hostile names must not make `scp` write outside its target,
//! loop forever, or leave temporary files behind (each test is a regression test for
//! a defect found by trying it).

use crate::common::{Cec, Out};
use crate::hostile::{node, FakeCells};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn cec_at(url: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", url)
        .env("CEC_TOKEN", "test-token")
        .env("CEC_SKIP_KEYRING", "true")
        .timeout(Duration::from_secs(60));
    c
}

/// The fake tree: `ws/evil` (a folder) whose listings come from `list`.
fn evil_server(
    list: impl Fn(&str) -> Vec<Value> + Send + Sync + 'static,
    files: &[(&str, &[u8])],
) -> crate::hostile::Hostile {
    let mut stat = BTreeMap::new();
    stat.insert("ws".to_string(), node("ws", "ws-uuid", true, 0));
    stat.insert("ws/evil".to_string(), node("ws/evil", "evil-uuid", true, 0));
    FakeCells {
        stat,
        list: Box::new(list),
        files: files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect(),
    }
    .start()
}

/// `cec scp -n cells://ws/evil <base>/dl/` from a fresh `base`.
fn download(url: &str, base: &Path, extra: &[&str]) -> Out {
    let dl = base.join("dl");
    fs::create_dir_all(&dl).unwrap();
    let mut args = vec!["scp", "-n"];
    args.extend_from_slice(extra);
    let target = format!("{}/", dl.display());
    args.extend(["cells://ws/evil", target.as_str()]);
    cec_at(url).args(args).run()
}

/// Every path under `dir` (links not followed).
fn all_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

fn no_partials(base: &Path) {
    let left: Vec<_> = all_paths(base)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("cec-partial"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn dotdot_folders_cannot_climb_out_of_the_target() {
    // ws/evil lists a folder "..", which lists PWNED.txt: the old walk wrote it next to dl/.
    let srv = evil_server(
        |folder| match folder {
            "ws/evil" => vec![
                node("ws/evil/..", "up-uuid", true, 0),
                node("ws/evil/ok.txt", "ok-uuid", false, 4),
            ],
            _ => vec![node(&format!("{folder}/PWNED.txt"), "pwned-uuid", false, 5)],
        },
        &[
            ("ws/evil/ok.txt", b"fine"),
            ("ws/evil/../PWNED.txt", b"pwned"),
        ],
    );
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    out.assert_no_panic();
    assert_eq!(out.code, 6, "{out}");
    assert_eq!(
        fs::read(base.path().join("dl/evil/ok.txt")).unwrap(),
        b"fine"
    );
    let pwned: Vec<_> = all_paths(base.path())
        .into_iter()
        .filter(|p| p.ends_with("PWNED.txt"))
        .collect();
    assert!(pwned.is_empty(), "written: {pwned:?}");
    assert!(out.stderr.contains("cells://ws/evil/.."), "{out}");
    assert!(out.stderr.contains("not a valid file name"), "{out}");
    // Named in the summary's failure list.
    assert!(
        out.stderr_lines()
            .iter()
            .any(|l| l.starts_with("  #1: ws/evil/..:")),
        "{out}"
    );
    no_partials(base.path());
    // The server was never asked for the content of the refused entry.
    assert_eq!(srv.count("GET /io/ws/evil/../"), 0, "{:?}", srv.requests());
}

#[test]
fn a_chain_of_dotdot_cannot_overwrite_a_file_anywhere() {
    // ~/.bashrc-like victim three levels above the target; every folder lists "..".
    let base = tempfile::tempdir().unwrap();
    let home = base.path().join("home");
    let deep = home.join("a/b");
    fs::create_dir_all(&deep).unwrap();
    fs::write(home.join(".bashrc"), b"original").unwrap();
    let srv = evil_server(
        |folder| {
            let depth = folder.matches("..").count();
            if depth < 4 {
                vec![node(&format!("{folder}/.."), &format!("u{depth}"), true, 0)]
            } else {
                vec![node(&format!("{folder}/.bashrc"), "rc", false, 6)]
            }
        },
        &[],
    );
    let out = download(&srv.url, &deep, &["--force"]);
    assert_eq!(out.code, 6, "{out}");
    assert_eq!(fs::read(home.join(".bashrc")).unwrap(), b"original");
    no_partials(base.path());
}

#[test]
fn a_file_named_dotdot_leaves_nothing_behind() {
    let srv = evil_server(
        |_| {
            vec![
                node("ws/evil/..", "f1", false, 3),
                node("ws/evil/.", "f2", false, 3),
            ]
        },
        &[("ws/evil/..", b"bad"), ("ws/", b"bad")],
    );
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    assert_eq!(out.code, 6, "{out}");
    no_partials(base.path());
    // Only the (empty) target folder was made.
    assert_eq!(
        all_paths(base.path()),
        vec![base.path().join("dl"), base.path().join("dl/evil")]
    );
}

#[test]
fn entries_from_another_folder_or_workspace_are_refused() {
    let srv = evil_server(
        |folder| match folder {
            "ws/evil" => vec![
                node("ws/other/x.txt", "x", false, 1),
                node("otherws/y.txt", "y", false, 1),
                node("ws/evil/sub/z.txt", "z", false, 1),
                node("ws/evilish/w.txt", "w", false, 1),
                node("ws/evil/good.txt", "g", false, 1),
            ],
            _ => vec![],
        },
        &[
            ("ws/other/x.txt", b"x"),
            ("otherws/y.txt", b"y"),
            ("ws/evil/sub/z.txt", b"z"),
            ("ws/evilish/w.txt", b"w"),
            ("ws/evil/good.txt", b"g"),
        ],
    );
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    assert_eq!(out.code, 6, "{out}");
    let files: Vec<_> = all_paths(base.path())
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(files, vec![base.path().join("dl/evil/good.txt")]);
    for bad in [
        "ws/other/x.txt",
        "otherws/y.txt",
        "ws/evil/sub/z.txt",
        "ws/evilish/w.txt",
    ] {
        assert!(
            out.stderr.contains(&format!("refused cells://{bad} ")),
            "{bad} not reported: {out}"
        );
    }
    assert!(out.stderr.contains("4 of 5 files failed"), "{out}");
}

#[test]
fn a_link_inside_the_target_is_replaced_not_followed() {
    let base = tempfile::tempdir().unwrap();
    let outside = base.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim.txt"), b"victim").unwrap();
    let evil = base.path().join("dl/evil");
    fs::create_dir_all(&evil).unwrap();
    std::os::unix::fs::symlink(&outside, evil.join("sub")).unwrap();
    std::os::unix::fs::symlink(outside.join("victim.txt"), evil.join("g.txt")).unwrap();
    let srv = evil_server(
        |folder| match folder {
            "ws/evil" => vec![
                node("ws/evil/sub", "sub", true, 0),
                node("ws/evil/g.txt", "g", false, 3),
            ],
            "ws/evil/sub" => vec![node("ws/evil/sub/victim.txt", "v", false, 3)],
            _ => vec![],
        },
        &[
            ("ws/evil/sub/victim.txt", b"new"),
            ("ws/evil/g.txt", b"new"),
        ],
    );
    let out = download(&srv.url, base.path(), &["--force"]);
    out.assert_ok();
    assert_eq!(fs::read(outside.join("victim.txt")).unwrap(), b"victim");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    for p in [evil.join("sub"), evil.join("g.txt")] {
        assert!(!fs::symlink_metadata(&p).unwrap().is_symlink(), "{p:?}");
    }
    assert_eq!(fs::read(evil.join("sub/victim.txt")).unwrap(), b"new");
    assert_eq!(fs::read(evil.join("g.txt")).unwrap(), b"new");
}

#[test]
fn a_dot_folder_or_an_ancestor_uuid_does_not_loop() {
    // "." (a folder listing itself) and a child carrying the uuid of its ancestor.
    let srv = evil_server(
        |folder| match folder {
            "ws/evil" => vec![
                node("ws/evil/.", "dot", true, 0),
                node("ws/evil/again", "evil-uuid", true, 0),
                node("ws/evil/sub", "sub", true, 0),
            ],
            "ws/evil/sub" => vec![node("ws/evil/sub/back", "sub", true, 0)],
            _ => vec![node(&format!("{folder}/x"), "evil-uuid", true, 0)],
        },
        &[],
    );
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    assert_eq!(out.code, 6, "{out}");
    assert!(out.stderr.contains("listed twice"), "{out}");
    // ws/evil and ws/evil/sub, each listed once.
    assert_eq!(srv.count("POST /a/tree/stats"), 2, "{:?}", srv.requests());
    assert!(base.path().join("dl/evil/sub").is_dir());
}

#[test]
fn endless_nesting_stops_at_the_depth_limit() {
    // Every folder holds one more folder with a fresh uuid, forever.
    let srv = evil_server(
        |folder| {
            let n = folder.matches('/').count();
            vec![node(&format!("{folder}/d"), &format!("d{n}"), true, 0)]
        },
        &[],
    );
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    assert_eq!(out.code, 6, "{out}");
    assert!(
        out.stderr.contains("nested deeper than 256 levels"),
        "{out}"
    );
    let listings = srv.count("POST /a/tree/stats");
    assert!((256..=257).contains(&listings), "{listings} listings");
}

const RED: &str = "esc\x1b[31mred.txt";
const RED_SHOWN: &str = "esc\\x1b[31mred.txt";

fn colourful_server() -> crate::hostile::Hostile {
    let path = format!("ws/evil/{RED}");
    let content: &'static [u8] = b"red";
    let files: Vec<(&str, &[u8])> = vec![(Box::leak(path.clone().into_boxed_str()), content)];
    evil_server(
        move |folder| match folder {
            "ws/evil" => vec![node(&path, "red", false, 3)],
            _ => vec![],
        },
        &files,
    )
}

/// Regression: a node named `esc\x1b[31mred.txt` coloured the terminal in `ls`, and scp's
/// log lines carried the escape too. On a terminal it is shown escaped; piped output and
/// `--json` keep the exact name, the file on disk has it too.
#[test]
fn control_characters_from_the_server_never_reach_the_terminal_raw() {
    let srv = colourful_server();
    // ls on a terminal (tmux): the escape is shown, not interpreted.
    let tty = cec_at(&srv.url).args(["ls", "ws/evil"]).tty();
    let screen = tty.wait_for("Get more info", Duration::from_secs(20));
    assert!(screen.contains(RED_SHOWN), "{screen}");
    assert_eq!(tty.wait_exit(Duration::from_secs(10)), 0);
    // Raw and template listings on a terminal too.
    for args in [
        vec!["ls", "-r", "ws/evil"],
        vec!["ls", "--format", "{{.Name}} end", "ws/evil"],
    ] {
        let tty = cec_at(&srv.url).args(args).tty();
        assert_eq!(tty.wait_exit(Duration::from_secs(20)), 0);
        let screen = tty.screen();
        assert!(screen.contains(RED_SHOWN), "{screen}");
    }
    // Piped: exact bytes, like GNU ls; JSON: exact name, JSON-escaped.
    let out = cec_at(&srv.url).args(["ls", "-r", "ws/evil"]).run();
    assert_eq!(out.stdout, format!("ws/evil/{RED}\n"));
    let out = cec_at(&srv.url).args(["ls", "--json", "ws/evil"]).run();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["name"], RED);
    // scp: log lines escaped, the file has its real name.
    let base = tempfile::tempdir().unwrap();
    let out = download(&srv.url, base.path(), &[]);
    out.assert_ok();
    assert!(!out.stderr.contains('\x1b'), "{out}");
    assert!(
        out.stderr.contains(&format!("Downloaded evil/{RED_SHOWN}")),
        "{out}"
    );
    assert_eq!(
        fs::read(base.path().join("dl/evil").join(RED)).unwrap(),
        b"red"
    );
}

/// Error messages built from server text are escaped too.
#[test]
fn server_error_text_is_escaped() {
    let srv = crate::hostile::Hostile::start(|_| {
        crate::hostile::Reply::json(
            500,
            serde_json::json!({"Title": "boom\x1b]0;pwned\x07\x1b[2J", "Code": 500}),
        )
    });
    let out = cec_at(&srv.url).args(["ls", "ws"]).run();
    assert_eq!(out.code, 1, "{out}");
    assert!(
        !out.stderr.contains('\x1b') && !out.stderr.contains('\x07'),
        "{out}"
    );
    assert!(out.stderr.contains("boom\\x1b]0;pwned\\x07"), "{out}");
}
