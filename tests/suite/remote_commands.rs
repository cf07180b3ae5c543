//! End-to-end tests of the remote file commands (ls, mkdir, rm, cp, mv, share)
//! against the development server (through Prism when `CEC_PRISM` is set).
//! Every test works in its own folder of `common-files` (tests run in parallel).

use crate::common::{Cec, Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn srv() -> &'static Server {
    Server::shared()
}

/// A token for `user` on the shared server (cached).
fn token(user: &str) -> String {
    static TOKENS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut t = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    match t.iter().find(|(u, _)| u == user) {
        Some((_, tok)) => tok.clone(),
        None => {
            let tok = srv().token(user);
            t.push((user.to_string(), tok.clone()));
            tok
        }
    }
}

/// A `Cec` for `user` against the shared server (REST through Prism when enabled).
fn cec(user: &str) -> Cec {
    let token = token(user);
    let mut c = Cec::new();
    c.env("CEC_URL", &srv().api_url)
        .env("CEC_TOKEN", token)
        .env("CEC_SKIP_KEYRING", "true");
    c
}

/// Raw REST call (setup and checks), straight to the server.
fn rest(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let s = srv();
    let url = format!("{}{}", s.url, path);
    let req = ureq::request(method, &url)
        .timeout(Duration::from_secs(120))
        .set("Authorization", &format!("Bearer {}", token("admin")));
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let (code, text) = match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {path}: {e}"),
    };
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn esc(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Does `path` exist (admin's view)?
fn exists(path: &str) -> bool {
    let (code, _) = rest("GET", &format!("/a/tree/stat/{}", esc(path)), None);
    code == 200
}

fn wait_exists(path: &str, want: bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if exists(path) == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Create folders (parents first) and empty files, as admin, and wait until visible.
fn setup(folders: &[&str], files: &[&str]) {
    let mut nodes: Vec<Value> = folders
        .iter()
        .map(|p| serde_json::json!({"Path": p, "Type": "COLLECTION"}))
        .collect();
    nodes.extend(
        files
            .iter()
            .map(|p| serde_json::json!({"Path": p, "Type": "LEAF"})),
    );
    for chunk in nodes.chunks(500) {
        let (code, body) = rest(
            "POST",
            "/a/tree/create",
            Some(serde_json::json!({"Nodes": chunk})),
        );
        assert_eq!(code, 200, "tree/create: {body}");
    }
    for p in folders.iter().chain(files.iter()).take(3) {
        assert!(wait_exists(p, true), "{p} not visible after setup");
    }
}

/// A fresh, empty test folder `common-files/<name>`.
fn fresh(name: &str) -> String {
    let dir = format!("common-files/{name}");
    if exists(&dir) {
        let (code, body) = rest(
            "POST",
            "/a/tree/delete",
            Some(serde_json::json!({"Nodes":[{"Path": dir}], "RemovePermanently": true})),
        );
        assert_eq!(code, 200, "cleanup: {body}");
        assert!(wait_exists(&dir, false));
    }
    setup(&[&dir], &[]);
    dir
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn names_of(v: &[Value]) -> BTreeSet<String> {
    v.iter()
        .map(|o| o["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn ls_names(dir: &str) -> BTreeSet<String> {
    let out = cec("admin").args(["ls", "--json", dir]).run();
    out.assert_ok();
    names_of(&json_lines(&out.stdout))
}

// ------------------------------------------------------------------------------------ ls

#[test]
fn ls_root_lists_workspaces() {
    let out = cec("admin").args(["ls"]).run();
    out.assert_ok().assert_no_panic();
    assert!(out.stdout.contains("common-files"), "{out}");
    // Plain output (not a terminal): no legend, no table borders.
    assert!(!out.stdout.contains("+--"), "{out}");
    assert!(!out.stdout.contains("Listing"), "{out}");

    let out = cec("admin").args(["ls", "--json"]).run();
    out.assert_ok();
    let ws = json_lines(&out.stdout);
    let common = ws
        .iter()
        .find(|o| o["path"] == "common-files")
        .expect("common-files");
    assert_eq!(common["type"], "workspace", "{out}");
    let cell = ws
        .iter()
        .find(|o| o["path"] == "team-cell")
        .expect("team-cell for admin");
    assert_eq!(cell["type"], "cell", "{out}");
    for o in &ws {
        for k in [
            "type", "uuid", "name", "path", "size", "mtime", "hash", "label",
        ] {
            assert!(o.get(k).is_some(), "missing {k} in {o}");
        }
    }
    // bob does not see the cell.
    let out = cec("bob").args(["ls", "--raw"]).run();
    out.assert_ok();
    assert!(!out.stdout.contains("team-cell"), "{out}");
    assert!(out.stdout.contains("common-files/"), "{out}");

    let out = cec("admin").args(["ls", "-d"]).run();
    out.assert_ok();
    assert!(out.stdout.contains("common-files"), "{out}");
}

#[test]
fn ls_folder_file_and_modes() {
    let dir = fresh("t-ls");
    setup(
        &[&format!("{dir}/sub")],
        &[&format!("{dir}/a.txt"), &format!("{dir}/sub/inner.txt")],
    );

    // default (plain because stdout is a pipe): "." row + children.
    let out = cec("admin").args(["ls", &dir]).run();
    out.assert_ok();
    let lines = out.stdout_lines();
    assert!(lines.contains(&"Folder\t."), "{out}");
    assert!(lines.contains(&"File\ta.txt"), "{out}");
    assert!(lines.contains(&"Folder\tsub"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");

    // leading/trailing slashes are ignored
    let out2 = cec("admin").args(["ls", &format!("/{dir}/")]).run();
    out2.assert_ok();
    assert_eq!(out2.stdout, out.stdout);

    // details
    let out = cec("admin").args(["ls", "-d", &dir]).run();
    out.assert_ok();
    let row = out
        .stdout_lines()
        .into_iter()
        .find(|l| l.contains("a.txt"))
        .unwrap()
        .to_string();
    let cols: Vec<&str> = row.split('\t').collect();
    assert_eq!(cols.len(), 6, "{row}");
    assert_eq!(cols[0], "File");
    assert!(!cols[1].is_empty(), "uuid: {row}");
    assert!(cols[3].ends_with('B'), "size: {row}");
    assert!(cols[4].contains("ago") || cols[4] == "now", "date: {row}");

    // raw: full paths, folders with a trailing slash, no "." row
    let out = cec("admin").args(["ls", "--raw", &dir]).run();
    out.assert_ok();
    let got: BTreeSet<&str> = out.stdout_lines().into_iter().collect();
    let want: BTreeSet<String> = [format!("{dir}/a.txt"), format!("{dir}/sub/")].into();
    assert_eq!(
        got,
        want.iter().map(|s| s.as_str()).collect::<BTreeSet<_>>(),
        "{out}"
    );

    // template
    let out = cec("admin")
        .args([
            "ls",
            "--format",
            "{{.Name}}|{{.Type}}|{{.SizeBytes}}|{{.Path}}",
            &dir,
        ])
        .run();
    out.assert_ok();
    assert!(
        out.stdout_lines()
            .iter()
            .any(|l| l.starts_with("a.txt|File|")
                && l.ends_with(&format!("|{dir}/a.txt"))
                && l.split('|').nth(2).unwrap().parse::<u64>().is_ok()),
        "{out}"
    );
    for f in ["Uuid", "HumanSize", "TimeStamp", "Date", "Hash"] {
        cec("admin")
            .args(["ls", "--format", &format!("{{{{.{f}}}}}"), &dir])
            .run()
            .assert_ok();
    }
    let bad = cec("admin")
        .args(["ls", "--format", "{{.Nope}}", &dir])
        .run();
    bad.assert_code(2);
    assert_eq!(bad.stdout, "");
    cec("admin")
        .args(["ls", "--format", "{{.Name", &dir])
        .run()
        .assert_code(2);

    // json: children only, stable fields
    let out = cec("admin").args(["ls", "--json", &dir]).run();
    out.assert_ok();
    let v = json_lines(&out.stdout);
    assert_eq!(v.len(), 2, "{out}");
    let a = v.iter().find(|o| o["name"] == "a.txt").unwrap();
    assert_eq!(a["type"], "file");
    assert_eq!(a["path"], format!("{dir}/a.txt"));
    assert!(a["size"].as_u64().is_some(), "{a}");
    assert!(a["mtime"].as_i64().unwrap() > 1_600_000_000);
    assert!(a["uuid"].as_str().is_some_and(|u| !u.is_empty()));
    let sub = v.iter().find(|o| o["name"] == "sub").unwrap();
    assert_eq!(sub["type"], "folder");
    assert_eq!(sub["hash"], Value::Null);

    // a file's own row
    let out = cec("admin")
        .args(["ls", "--json", &format!("{dir}/a.txt")])
        .run();
    out.assert_ok();
    let v = json_lines(&out.stdout);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["name"], "a.txt");
    let out = cec("admin").args(["ls", &format!("{dir}/a.txt")]).run();
    out.assert_ok();
    assert_eq!(out.stdout_lines(), vec!["File\ta.txt"], "{out}");

    // exists
    let out = cec("admin")
        .args(["ls", "-f", &format!("{dir}/a.txt")])
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout, "true\n");
    let out = cec("admin")
        .args(["ls", "--exists", &format!("{dir}/nope.txt")])
        .run();
    out.assert_code(4);
    assert_eq!(out.stdout, "false\n");

    // missing path: exit 4, one line
    let out = cec("admin").args(["ls", &format!("{dir}/nope")]).run();
    out.assert_code(4).assert_no_panic();
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");

    // modifiers are exclusive
    cec("admin")
        .args(["ls", "-d", "-r", &dir])
        .run()
        .assert_code(2);
    cec("admin")
        .args(["ls", "--json", "-f", &dir])
        .run()
        .assert_code(2);
}

#[test]
fn ls_terminal_table_fits() {
    let dir = fresh("t-ls-tty");
    let long = "a-very-long-file-name-that-goes-on-and-on-and-on-forever-and-ever.txt";
    setup(&[], &[&format!("{dir}/{long}")]);
    let mut c = cec("admin");
    c.env("COLUMNS", "100").args(["ls", "-d", &dir]);
    let t = c.tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    let screen = t.screen();
    assert!(screen.contains("Found 2 nodes at"), "{screen}");
    assert!(screen.contains("+--"), "{screen}");
    for l in screen
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('|'))
    {
        assert!(
            l.chars().count() <= 100,
            "line wider than the terminal: {l}\n{screen}"
        );
    }
}

// ------------------------------------------------------------------------------------ mkdir

#[test]
fn mkdir_parents_trim_exists() {
    let dir = fresh("t-mkdir");
    let out = cec("admin")
        .args(["mkdir", &format!("/{dir}/a/b/c/")])
        .run();
    out.assert_ok();
    assert!(exists(&format!("{dir}/a/b/c")), "{out}");
    assert_eq!(out.stdout, "");

    // already exists: reported, not an error
    let out = cec("admin").args(["mkdir", &format!("{dir}/a/b")]).run();
    out.assert_ok().assert_stderr_contains("already exists");

    // -p accepted, several paths
    cec("admin")
        .args(["mkdir", "-p", &format!("{dir}/x"), &format!("{dir}/y/z")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/x")) && exists(&format!("{dir}/y/z")));

    // a file on the way
    setup(&[], &[&format!("{dir}/f.txt")]);
    cec("admin")
        .args(["mkdir", &format!("{dir}/f.txt/sub")])
        .run()
        .assert_code(5);

    // missing workspace / workspace only
    cec("admin")
        .args(["mkdir", "no-such-ws/a"])
        .run()
        .assert_code(4);
    cec("admin")
        .args(["mkdir", "common-files"])
        .run()
        .assert_code(2);
}

/// scp's spellings of a remote path, `cells://ws/dir` and `cells//ws/dir`, work in every
/// command that takes one, and mean the same as `ws/dir`.
#[test]
fn remote_paths_take_the_scp_prefix() {
    let dir = fresh("t-prefix");
    let (a, b) = (format!("cells://{dir}/a"), format!("cells//{dir}/b"));
    cec("admin").args(["mkdir", &a, &b]).run().assert_ok();
    assert!(exists(&format!("{dir}/a")) && exists(&format!("{dir}/b")));
    assert_eq!(ls_names(&format!("cells://{dir}")), ls_names(&dir));
    assert_eq!(ls_names(&format!("cells//{dir}")), ls_names(&dir));
    assert!(ls_names(&dir).contains("a"), "{:?}", ls_names(&dir));
    cec("admin")
        .args(["ls", "--exists", &format!("cells://{dir}/a")])
        .run()
        .assert_ok();
    cec("admin")
        .args(["cp", &a, &format!("cells://{dir}/b")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/b/a")));
    cec("admin")
        .args([
            "mv",
            &format!("cells://{dir}/b/a"),
            &format!("cells//{dir}/moved"),
        ])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/moved")) && !exists(&format!("{dir}/b/a")));
    let out = cec("admin")
        .args(["share", "--json", &format!("cells://{dir}/moved")])
        .run();
    out.assert_ok();
    assert!(out.stdout.contains("/public/"), "{out}");
    cec("admin")
        .args(["rm", "-f", "-p", &a, &format!("cells//{dir}/moved")])
        .run()
        .assert_ok();
    assert!(!exists(&format!("{dir}/a")) && !exists(&format!("{dir}/moved")));
    // a path that is not there still says so, without the prefix
    cec("admin")
        .args(["rm", "-f", &format!("cells://{dir}/gone")])
        .run()
        .assert_code(4)
        .assert_stderr_contains(&format!("{dir}/gone: no such file or folder"));
}

// ------------------------------------------------------------------------------------ rm

#[test]
fn rm_recycle_bin_and_permanent() {
    let dir = fresh("t-rm");
    let a = format!("{dir}/a.txt");
    let b = format!("{dir}/b.txt");
    let c = format!("{dir}/c.txt");
    setup(&[], &[&a, &b, &c]);

    // default: recycle bin
    cec("admin").args(["rm", "-f", &a]).run().assert_ok();
    assert!(!exists(&a));
    let bin = ls_names("common-files/recycle_bin");
    assert!(bin.contains("a.txt"), "recycle bin: {bin:?}");

    // permanent, several paths at once
    let out = cec("admin").args(["rm", "-f", "-p", &b, &c]).run();
    out.assert_ok();
    assert!(!exists(&b) && !exists(&c));
    let bin = ls_names("common-files/recycle_bin");
    assert!(!bin.contains("b.txt") && !bin.contains("c.txt"), "{bin:?}");
}

#[test]
fn rm_checks_everything_first() {
    let dir = fresh("t-rm-missing");
    let a = format!("{dir}/a.txt");
    setup(&[], &[&a]);
    let out = cec("admin")
        .args(["rm", "-f", &a, &format!("{dir}/missing.txt")])
        .run();
    out.assert_code(4);
    assert!(out.stderr.contains("missing.txt"), "{out}");
    assert!(exists(&a), "nothing must be deleted when a path is missing");
}

#[test]
fn rm_refuses_without_terminal() {
    let dir = fresh("t-rm-notty");
    let a = format!("{dir}/a.txt");
    setup(&[], &[&a]);
    let out = cec("admin").args(["rm", &a]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("nothing was deleted"), "{out}");
    // even "y" on a non-terminal stdin does not count
    let out = cec("admin").args(["rm", &a]).stdin("y\n").run();
    out.assert_code(2);
    assert!(exists(&a));
}

#[test]
fn rm_prompt_on_terminal() {
    let dir = fresh("t-rm-tty");
    let a = format!("{dir}/a.txt");
    setup(&[], &[&a]);

    for (answer, key) in [
        ("n", None),
        ("", Some("C-d")),
        ("", Some("C-c")),
        ("yess", None),
    ] {
        let t = cec("admin").args(["rm", &a]).tty();
        t.wait_for("[y/N]", Duration::from_secs(30));
        match key {
            Some(k) => t.key(k),
            None => t.send_line(answer),
        }
        let code = t.wait_exit(Duration::from_secs(30));
        assert_ne!(code, 0, "answer {answer:?}/{key:?}: {}", t.screen());
        assert!(
            t.screen().contains("nothing was deleted"),
            "answer {answer:?}/{key:?}: {}",
            t.screen()
        );
        if key == Some("C-c") {
            assert_eq!(code, 130, "{}", t.screen());
        }
        assert!(exists(&a), "answer {answer:?}/{key:?} must not delete");
    }
    let t = cec("admin").args(["rm", &a]).tty();
    t.wait_for("[y/N]", Duration::from_secs(30));
    t.send_line("yes");
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(!exists(&a));
}

#[test]
fn rm_wildcards_over_all_children() {
    let dir = fresh("t-rm-wild");
    let files: Vec<String> = (0..150).map(|i| format!("{dir}/p/f{i:03}.txt")).collect();
    let pfolder = format!("{dir}/p");
    setup(
        &[&pfolder],
        &files.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    assert_eq!(ls_names(&pfolder).len(), 150);
    cec("admin")
        .args(["rm", "-f", &format!("{pfolder}/%")])
        .run()
        .assert_ok();
    assert!(ls_names(&pfolder).is_empty());
    assert!(exists(&pfolder), "the folder itself stays");

    let files: Vec<String> = (0..130).map(|i| format!("{dir}/q/g{i:03}.txt")).collect();
    let q = format!("{dir}/q");
    setup(&[&q], &files.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let out = cec("admin")
        .args(["rm", "-f", "--permanently", &format!("{q}/*")])
        .run();
    out.assert_ok();
    assert!(ls_names(&q).is_empty(), "{out}");

    // a '*' or '%' inside a name is literal
    setup(&[], &[&format!("{dir}/50%"), &format!("{dir}/a*")]);
    cec("admin")
        .args(["rm", "-f", &format!("{dir}/50%")])
        .run()
        .assert_ok();
    assert!(!exists(&format!("{dir}/50%")));
    assert!(exists(&format!("{dir}/a*")));
}

// ------------------------------------------------------------------------------------ cp / mv

#[test]
fn cp_into_folder_and_rename() {
    let dir = fresh("t-cp");
    let src = format!("{dir}/src.txt");
    let dst = format!("{dir}/dst");
    setup(&[&dst], &[&src]);

    // into an existing folder, with or without trailing slash
    cec("admin").args(["cp", &src, &dst]).run().assert_ok();
    assert!(exists(&format!("{dst}/src.txt")));
    assert!(exists(&src));
    // same again: conflict
    let out = cec("admin").args(["cp", &src, &format!("{dst}/")]).run();
    out.assert_code(5);
    assert!(out.stderr.contains("--force"), "{out}");
    cec("admin")
        .args(["cp", "--force", &src, &format!("{dst}/")])
        .run()
        .assert_ok();
    assert_eq!(ls_names(&dst), BTreeSet::from(["src.txt".to_string()]));

    // copy-as (rename) to a new name, trailing slash irrelevant
    cec("admin")
        .args(["cp", &src, &format!("{dir}/copy.txt/")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/copy.txt")));
    // existing file target: refused, then replaced with --force
    cec("admin")
        .args(["cp", &src, &format!("{dir}/copy.txt")])
        .run()
        .assert_code(5);
    cec("admin")
        .args(["cp", "--force", &src, &format!("{dir}/copy.txt")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/copy.txt")));

    // folders are copied recursively
    setup(&[], &[&format!("{dst}/deep.txt")]);
    cec("admin")
        .args(["cp", &dst, &format!("{dir}/dst2")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/dst2/deep.txt")));

    // missing source / missing target parent / into itself
    cec("admin")
        .args(["cp", &format!("{dir}/nope.txt"), &dst])
        .run()
        .assert_code(4);
    cec("admin")
        .args(["cp", &src, &format!("{dir}/no/such/place.txt")])
        .run()
        .assert_code(4);
    cec("admin")
        .args(["cp", &dst, &format!("{dst}/inner")])
        .run()
        .assert_code(1);
    // several sources need an existing folder
    cec("admin")
        .args([
            "cp",
            &src,
            &format!("{dir}/copy.txt"),
            &format!("{dir}/newdir"),
        ])
        .run()
        .assert_code(4);
}

#[test]
fn cp_mv_wildcards_beyond_100() {
    let dir = fresh("t-cp-wild");
    let from = format!("{dir}/from");
    let to = format!("{dir}/to");
    let moved = format!("{dir}/moved");
    let files: Vec<String> = (0..120).map(|i| format!("{from}/f{i:03}.txt")).collect();
    setup(
        &[&from, &to, &moved],
        &files.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    cec("admin")
        .args(["cp", "--timeout", "600", &format!("{from}/*"), &to])
        .run()
        .assert_ok();
    assert_eq!(ls_names(&to).len(), 120);
    cec("admin")
        .args(["mv", &format!("{to}/*"), &moved])
        .run()
        .assert_ok();
    assert_eq!(ls_names(&moved).len(), 120);
    assert!(ls_names(&to).is_empty());
    // a wildcard into a non-folder target is refused
    cec("admin")
        .args(["mv", &format!("{moved}/*"), &format!("{dir}/nowhere")])
        .run()
        .assert_code(4);
}

#[test]
fn mv_rename_into_and_force() {
    let dir = fresh("t-mv");
    let a = format!("{dir}/a.txt");
    let b = format!("{dir}/b.txt");
    let sub = format!("{dir}/sub");
    setup(&[&sub], &[&a, &b]);

    // rename
    cec("admin")
        .args(["mv", &a, &format!("{dir}/renamed.txt")])
        .run()
        .assert_ok();
    assert!(!exists(&a) && exists(&format!("{dir}/renamed.txt")));
    // into folder (no trailing slash needed)
    cec("admin").args(["mv", &b, &sub]).run().assert_ok();
    assert!(!exists(&b) && exists(&format!("{sub}/b.txt")));
    // onto an existing file: refused unless --force
    setup(&[], &[&a]);
    cec("admin")
        .args(["mv", &a, &format!("{dir}/renamed.txt")])
        .run()
        .assert_code(5);
    assert!(exists(&a));
    cec("admin")
        .args(["mv", "--force", &a, &format!("{dir}/renamed.txt")])
        .run()
        .assert_ok();
    assert!(!exists(&a) && exists(&format!("{dir}/renamed.txt")));
    // folder rename
    cec("admin")
        .args(["mv", &sub, &format!("{dir}/sub2")])
        .run()
        .assert_ok();
    assert!(exists(&format!("{dir}/sub2/b.txt")));
    // missing source
    cec("admin")
        .args(["mv", &format!("{dir}/ghost"), &sub])
        .run()
        .assert_code(4);
}

// ------------------------------------------------------------------------------------ share

#[test]
fn share_prints_link() {
    let dir = fresh("t-share");
    let f = format!("{dir}/doc.txt");
    setup(&[], &[&f]);
    let out = cec("admin").args(["share", &f]).run();
    out.assert_ok();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].starts_with("http"), "{out}");
    assert!(lines[0].contains("/public/"), "{out}");

    let out = cec("admin")
        .args([
            "share",
            &dir,
            "--password",
            "s3cret",
            "--expire-days",
            "3",
            "--max-downloads",
            "5",
        ])
        .run();
    out.assert_ok();
    assert!(out.stdout.contains("/public/"), "{out}");
    assert!(!out.stdout.contains("s3cret") && !out.stderr.contains("s3cret"));

    // the link works and carries the options (checked in the server's journal)
    let url = out.stdout.trim();
    let hash = url.rsplit('/').next().unwrap();
    let public = format!("{}/public/{hash}", srv().url);
    let code = match ureq::get(&public).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{public}: {e}"),
    };
    assert_eq!(code, 200, "{public}");
    let journal = std::fs::read_to_string(srv().root.join("meta.journal")).unwrap_or_default();
    if let Some(line) = journal.lines().rev().find(|l| l.contains(hash)) {
        let v: Value = serde_json::from_str(line).unwrap();
        let link = &v["v"];
        assert_eq!(link["PasswordRequired"], true, "{line}");
        assert_eq!(link["MaxDownloads"], "5", "{line}");
        let end: i64 = link["AccessEnd"].as_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((end - now - 3 * 86_400).abs() < 600, "{line}");
    }

    cec("admin")
        .args(["share", &format!("{dir}/missing")])
        .run()
        .assert_code(4);
    cec("admin")
        .args(["share", &dir, "--password", ""])
        .run()
        .assert_code(2);
}

/// The stored password hash (hex SHA-256) of the link `url`, from the server's journal.
fn link_password_hash(url: &str) -> String {
    let hash = url.trim().rsplit('/').next().unwrap().to_string();
    let journal = std::fs::read_to_string(srv().root.join("meta.journal")).unwrap();
    let line = journal
        .lines()
        .rev()
        .find(|l| l.contains(&hash))
        .unwrap_or_else(|| panic!("link {hash} not in the server's journal"));
    let v: Value = serde_json::from_str(line).unwrap();
    v["v"]["_pw"].as_str().unwrap_or_default().to_string()
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const ARGV_WARNING: &str = "other users of this machine can read a password";

#[test]
fn share_link_password_from_prompt_file_variable_or_argv() {
    let dir = fresh("t-share-pw");
    let f = format!("{dir}/doc.txt");
    setup(&[], &[&f]);

    // 1. Typed at the prompt (not echoed).
    let t = cec("admin").args(["share", &f, "--ask-password"]).tty();
    t.wait_for("Link password:", Duration::from_secs(30));
    t.send_line("typed-Secret1");
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    let screen = t.screen();
    assert!(!screen.contains("typed-Secret1"), "echoed: {screen}");
    assert!(!screen.contains(ARGV_WARNING), "{screen}");
    let url = screen
        .split_whitespace()
        .find(|w| w.contains("/public/"))
        .unwrap_or_else(|| panic!("no link: {screen}"));
    assert_eq!(link_password_hash(url), sha256_hex("typed-Secret1"));

    // 2. From CEC_LINK_PASSWORD; 3. from the first line of a file.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pw");
    std::fs::write(&file, "file-Secret2\nsecond line\n").unwrap();
    for (mut c, pw) in [
        {
            let mut c = cec("admin");
            c.env("CEC_LINK_PASSWORD", "env-Secret3")
                .args(["share", &f]);
            (c, "env-Secret3")
        },
        {
            let mut c = cec("admin");
            c.args(["share", &f, "--password-file"]).arg(&file);
            (c, "file-Secret2")
        },
    ] {
        let out = c.run();
        out.assert_ok();
        assert!(!out.stderr.contains(ARGV_WARNING), "{out}");
        assert!(
            !out.stdout.contains(pw) && !out.stderr.contains(pw),
            "{out}"
        );
        assert_eq!(link_password_hash(&out.stdout), sha256_hex(pw), "{out}");
    }

    // 4. On the command line: works, with a one-line warning.
    let out = cec("admin")
        .args(["share", &f, "--link-password", "argv-Secret4"])
        .run();
    out.assert_ok();
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    out.assert_stderr_contains(ARGV_WARNING);
    assert!(!out.stderr.contains("argv-Secret4"), "{out}");
    assert_eq!(link_password_hash(&out.stdout), sha256_hex("argv-Secret4"));

    // A flag wins over the variable; two flags, an empty file or a prompt
    // without a terminal are usage errors.
    let out = cec("admin")
        .env("CEC_LINK_PASSWORD", "env-Secret3")
        .args(["share", &f, "--password-file"])
        .arg(&file)
        .run();
    out.assert_ok();
    assert_eq!(link_password_hash(&out.stdout), sha256_hex("file-Secret2"));
    std::fs::write(tmp.path().join("empty"), "\n").unwrap();
    for args in [
        vec!["--ask-password", "--password", "x"],
        vec!["--ask-password"],
        vec![
            "--password-file",
            tmp.path().join("empty").to_str().unwrap(),
        ],
    ] {
        cec("admin")
            .args(["share", &f])
            .args(&args)
            .run()
            .assert_code(2);
    }
}

// ------------------------------------------------------------------------------------ errors

#[test]
fn permission_refusals_for_other_users_space() {
    // team-cell belongs to admin and alice: bob is refused (3) or does not see it (4).
    setup(&[], &[]);
    let (code, _) = rest("GET", "/a/tree/stat/team-cell", None);
    assert_eq!(code, 200);
    for args in [
        vec!["ls", "team-cell"],
        vec!["mkdir", "team-cell/bobdir"],
        vec!["rm", "-f", "team-cell/anything"],
        vec!["cp", "common-files/welcome.txt", "team-cell"],
        vec!["share", "team-cell/anything"],
    ] {
        let out = cec("bob").args(&args).run();
        out.assert_no_panic();
        assert!(
            out.code == 3 || out.code == 4,
            "bob {args:?} must be refused with 3 or 4:\n{out}"
        );
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
    }
    assert!(!exists("team-cell/bobdir"));
    // workspace roots cannot be deleted or moved
    cec("admin")
        .args(["rm", "-f", "common-files"])
        .run()
        .assert_code(3);
    cec("admin")
        .args(["mv", "common-files", "personal-files"])
        .run()
        .assert_code(3);
    assert!(exists("common-files/welcome.txt"));
}

#[test]
fn invalid_token_is_auth_error() {
    let mut c = Cec::new();
    c.env("CEC_URL", &srv().api_url)
        .env("CEC_TOKEN", "not-a-valid-token")
        .env("CEC_SKIP_KEYRING", "true");
    let out = c.args(["ls", "common-files"]).run();
    out.assert_code(3).assert_no_panic();
}

#[test]
fn unreachable_server_fails_fast() {
    let port = crate::common::free_port();
    for args in [
        vec!["ls", "common-files"],
        vec!["rm", "-f", "common-files/x"],
        vec!["cp", "common-files/a", "common-files/b"],
        vec!["mkdir", "common-files/a"],
    ] {
        let mut c = Cec::new();
        c.env("CEC_URL", format!("http://127.0.0.1:{port}"))
            .env("CEC_TOKEN", "x")
            .env("CEC_SKIP_KEYRING", "true");
        let out = c.args(&args).timeout(Duration::from_secs(60)).run();
        out.assert_no_panic();
        assert_ne!(out.code, 0, "{out}");
        assert_ne!(out.code, 4, "unreachable is not 'not found':\n{out}");
        assert!(
            out.duration < Duration::from_secs(20),
            "took {:?}:\n{out}",
            out.duration
        );
    }
}

#[test]
fn odd_names() {
    let dir = fresh("t-odd");
    let names = [
        "with space.txt",
        "ünïcødé 日本.txt",
        "50% off.txt",
        "hash#tag.txt",
        "what?.txt",
        "it's \"quoted\".txt",
        "-dash.txt",
        "plus+amp&eq=.txt",
    ];
    let paths: Vec<String> = names.iter().map(|n| format!("{dir}/{n}")).collect();
    let sub = format!("{dir}/sub folder");
    setup(
        &[&sub],
        &paths.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );

    let got = ls_names(&dir);
    for n in names {
        assert!(got.contains(n), "{n} missing from {got:?}");
    }
    for p in &paths {
        let out = cec("admin").args(["ls", "-f", p]).run();
        out.assert_ok();
        assert_eq!(out.stdout, "true\n");
        let out = cec("admin").args(["ls", "--json", p]).run();
        out.assert_ok();
        assert_eq!(json_lines(&out.stdout)[0]["path"], p.as_str());
    }
    // copy every odd name into a folder with a space, then move back under new names
    for p in &paths {
        cec("admin").args(["cp", "--", p, &sub]).run().assert_ok();
    }
    assert_eq!(ls_names(&sub).len(), names.len());
    for n in names {
        let from = format!("{sub}/{n}");
        let to = format!("{dir}/moved {n}");
        cec("admin")
            .args(["mv", "--", &from, &to])
            .run()
            .assert_ok();
        assert!(exists(&to), "{to}");
    }
    let out = cec("admin").args(["share", &paths[4]]).run();
    out.assert_ok();
    // delete with a leading dash and a quote, via "--"
    cec("admin")
        .args(["rm", "-f", "--", &paths[6], &paths[5]])
        .run()
        .assert_ok();
    assert!(!exists(&paths[6]) && !exists(&paths[5]));
    // mkdir with odd names
    let odd_dir = format!("{dir}/new #1 ? 100% \"q\" ü");
    cec("admin").args(["mkdir", &odd_dir]).run().assert_ok();
    assert!(exists(&odd_dir));
}

// ------------------------------------------------------------------------------------ slow server

/// Indexing and job delays: mkdir waits until visible, cp/mv/rm wait for their
/// jobs, `--timeout` is honoured, and a job that fails on the server is an error.
#[test]
fn slow_index_and_jobs() {
    let s = Server::start(&["--index-delay-ms", "1500", "--job-delay-ms", "1500"]);
    let token = s.token("admin");
    let run = |args: &[&str]| {
        let mut c = Cec::new();
        c.env("CEC_URL", &s.url)
            .env("CEC_TOKEN", &token)
            .env("CEC_SKIP_KEYRING", "true");
        c.args(args).run()
    };
    let visible = |args: &[&str]| run(&[&["ls", "-f"], args].concat()).code == 0;

    // mkdir returns only once the folder is visible
    run(&["mkdir", "common-files/slow/a"]).assert_ok();
    assert!(visible(&["common-files/slow/a"]));

    // cp waits for the job and for the copy to show up
    let out = run(&["cp", "common-files/welcome.txt", "common-files/slow"]);
    out.assert_ok();
    assert!(out.duration >= Duration::from_millis(2500), "{out}");
    assert!(visible(&["common-files/slow/welcome.txt"]));

    // on a terminal, a progress line shows while the job runs
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", &token)
        .env("CEC_SKIP_KEYRING", "true")
        .args([
            "cp",
            "common-files/welcome.txt",
            "common-files/slow/tty.txt",
        ]);
    let t = c.tty();
    t.wait_for("Copying common-files/welcome.txt", Duration::from_secs(30));
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(visible(&["common-files/slow/tty.txt"]));

    // --timeout: the job takes ~3 s
    let out = run(&[
        "cp",
        "--timeout",
        "1",
        "common-files/welcome.txt",
        "common-files/slow/late.txt",
    ]);
    out.assert_code(1).assert_stderr_contains("timed out");

    // mv waits, source gone and target there right after
    run(&["mv", "common-files/slow/welcome.txt", "common-files/slow/a"]).assert_ok();
    assert!(visible(&["common-files/slow/a/welcome.txt"]));
    assert!(!visible(&["common-files/slow/welcome.txt"]));

    // rm waits for its delete job
    run(&["rm", "-f", "common-files/slow/a/welcome.txt"]).assert_ok();
    assert!(!visible(&["common-files/slow/a/welcome.txt"]));

    // a job failing on the server (its target folder disappears meanwhile) is an error
    run(&["mkdir", "common-files/doomed"]).assert_ok();
    let mut c = Cec::new();
    c.env("CEC_URL", &s.url)
        .env("CEC_TOKEN", &token)
        .env("CEC_SKIP_KEYRING", "true")
        .env("CEC_LOG", "debug");
    let (child, lines) = crate::common::spawn(
        &c,
        &[
            "cp",
            "common-files/welcome.txt",
            "common-files/doomed/copy.txt",
        ],
    );
    // The server accepted the copy job: now remove its target folder.
    crate::common::wait_line(&lines, |l| {
        l.contains("<-- 200") && l.contains("/a/jobs/user")
    });
    run(&["rm", "-f", "-p", "common-files/doomed"]).assert_ok();
    let (code, err) = crate::common::wait_exit(child, &lines);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}
