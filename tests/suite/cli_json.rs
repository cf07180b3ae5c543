//! `--json` on `version`, `info`, `share`, `config ls` and `tools hash`; the template
//! language of `version -f` and `ls --format`; one workspace UUID everywhere; `config
//! ls`/`config use` with two accounts of one user on one host. Against the development
//! server (REST through Prism when `CEC_PRISM` is set).

use crate::common::{Cec, Server};
use serde_json::Value;
use std::time::{Duration, Instant};

fn srv() -> &'static Server {
    Server::shared()
}

fn token(user: &str) -> String {
    static TOKENS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut t = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, tok)) = t.iter().find(|(u, _)| u == user) {
        return tok.clone();
    }
    let tok = srv().token(user);
    t.push((user.to_string(), tok.clone()));
    tok
}

fn cec(user: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", &srv().api_url)
        .env("CEC_TOKEN", token(user))
        .env("CEC_SKIP_KEYRING", "true");
    c
}

fn run(args: &[&str]) -> crate::common::Out {
    Cec::new().args(args).run()
}

/// Raw REST call as admin, straight to the server (setup and checks).
fn rest(method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req = ureq::request(method, &format!("{}{}", srv().url, path))
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

/// A fresh folder `common-files/<name>` holding the given empty files.
fn folder_with(name: &str, files: &[&str]) -> String {
    let dir = format!("common-files/{name}");
    rest(
        "POST",
        "/a/tree/delete",
        Some(serde_json::json!({"Nodes":[{"Path": dir}], "RemovePermanently": true})),
    );
    let mut nodes = vec![serde_json::json!({"Path": dir, "Type": "COLLECTION"})];
    for f in files {
        nodes.push(serde_json::json!({"Path": format!("{dir}/{f}"), "Type": "LEAF"}));
    }
    let (code, body) = rest(
        "POST",
        "/a/tree/create",
        Some(serde_json::json!({ "Nodes": nodes })),
    );
    assert_eq!(code, 200, "{body}");
    let last = format!("{dir}/{}", files.last().copied().unwrap_or(""));
    let start = Instant::now();
    while rest("GET", &format!("/a/tree/stat/{last}"), None).0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{last} not indexed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    dir
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn one_json(out: &crate::common::Out) -> Value {
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1, "one object expected:\n{out}");
    lines.into_iter().next().unwrap()
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

// ------------------------------------------------------------ version

#[test]
fn version_fields_and_json() {
    let o = run(&["version", "--json"]);
    o.assert_ok();
    let v = one_json(&o);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "arch",
            "built",
            "git_commit",
            "git_time",
            "os",
            "package_label",
            "rust_version",
            "version"
        ]
    );
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["arch"], go_arch());
    assert_eq!(v["os"], "linux");
    assert_eq!(v["package_label"], "Cells Client");
    assert!(v["rust_version"].as_str().unwrap().starts_with("rustc 1."));

    // Every field of the reference, plus ours, with the same values as --json.
    let tpl = "{{.PackageLabel}}|{{.Version}}|{{.GitCommit}}|{{.GitTime}}|{{.OS}}|{{.Arch}}|{{.GoVersion}}|{{.Built}}|{{.RustVersion}}";
    let o = run(&["version", "-f", tpl]);
    o.assert_ok();
    let want = [
        "package_label",
        "version",
        "git_commit",
        "git_time",
        "os",
        "arch",
        "rust_version",
        "built",
        "rust_version",
    ]
    .map(|k| v[k].as_str().unwrap().to_string())
    .join("|");
    assert_eq!(o.stdout, want);

    // The template language scripts use.
    let o = run(&[
        "version",
        "-f",
        r#"{{printf "%-14s|" .PackageLabel}}{{if .GitTime}}t{{else}}-{{end}}{{if eq .Arch "amd64" "arm64" "arm" "386"}} go-arch{{end}}\n"#,
    ]);
    o.assert_ok();
    let t = if v["git_time"].as_str().unwrap().is_empty() {
        "-"
    } else {
        "t"
    };
    assert_eq!(o.stdout, format!("Cells Client  |{t} go-arch\n"));
    // The human form uses Go's names too.
    run(&["version"])
        .assert_ok()
        .assert_stdout_contains(&format!("linux/{}", go_arch()));
    // --json and --format together: a usage error.
    let o = run(&["version", "--json", "-f", "{{.Version}}"]);
    o.assert_code(2);
}

#[test]
fn template_errors_are_one_line_usage_errors() {
    for (tpl, word) in [
        ("{{range .Name}}{{end}}", "'range'"),
        ("{{.Name | printf \"%s\"}}", "pipelines"),
        ("{{$x := 1}}", "variables"),
        ("{{printf \"%x\" .Name}}", "'%x'"),
        ("{{if .Name}}open", "{{end}}"),
        ("{{.Nope}}", "unknown field '.Nope'"),
        ("{{index .Name 1}}", "'index'"),
    ] {
        let o = run(&["ls", "--format", tpl]);
        o.assert_code(2);
        let lines = o.stderr_lines();
        assert_eq!(lines.len(), 1, "{o}");
        assert!(
            lines[0].contains("template error") && lines[0].contains(word),
            "{o}"
        );
        assert!(o.stdout.is_empty(), "{o}");
        let o = run(&["version", "-f", tpl.replace("Name", "Version").as_str()]);
        if !tpl.contains("Nope") {
            o.assert_code(2).assert_stderr_contains(word);
        }
    }
}

#[test]
fn ls_format_conditions_and_printf() {
    let dir = folder_with("t-json-format", &["a.txt", "long-name.bin"]);
    rest(
        "POST",
        "/a/tree/create",
        Some(serde_json::json!({"Nodes":[{"Path": format!("{dir}/sub"), "Type": "COLLECTION"}]})),
    );
    let o = cec("admin")
        .args([
            "ls",
            &dir,
            "--format",
            r#"{{printf "%-14s" .Name}}|{{if eq .Type "Folder"}}dir{{else}}{{printf "%3d" .SizeBytes}}{{end}}|{{if not .Hash}}-{{else}}h{{end}}"#,
        ])
        .run();
    o.assert_ok();
    let mut lines: Vec<&str> = o.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "a.txt         |  0|h",
            "long-name.bin |  0|h",
            "sub           |dir|-"
        ],
        "{o}"
    );
}

// ------------------------------------------------------------ workspace UUID

#[test]
fn workspace_uuid_is_one_value() {
    let admin = || cec("admin");
    // ls -d at the root, piped: tab-separated rows Type, Uuid, Name, ...
    let o = admin().args(["ls", "-d"]).run();
    o.assert_ok();
    let from_details: Vec<(String, String)> = o
        .stdout
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[2].to_string(), c[1].to_string())
        })
        .collect();
    let o = admin().args(["ls", "--json"]).run();
    o.assert_ok();
    let from_json: Vec<(String, String)> = json_lines(&o.stdout)
        .iter()
        .map(|v| {
            assert!(v["node_uuid"].is_string(), "{v}");
            (
                v["name"].as_str().unwrap().to_string(),
                v["uuid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let o = admin()
        .args(["ls", "--format", "{{.Name}}\t{{.Uuid}}"])
        .run();
    o.assert_ok();
    let from_format: Vec<(String, String)> = o
        .stdout
        .lines()
        .map(|l| {
            let (n, u) = l.split_once('\t').unwrap();
            (n.to_string(), u.to_string())
        })
        .collect();
    assert!(from_details.len() >= 3, "{from_details:?}");
    assert_eq!(from_details, from_json);
    assert_eq!(from_details, from_format);
    // ... and it is the workspace's UUID, the one of `idm list-workspaces`.
    let o = admin().args(["idm", "list-workspaces", "--json"]).run();
    o.assert_ok();
    let ws = json_lines(&o.stdout);
    for (name, uuid) in &from_details {
        assert!(
            ws.iter()
                .any(|w| w["slug"] == name.as_str() && w["uuid"] == uuid.as_str()),
            "{name} {uuid} not in idm list-workspaces:\n{o}"
        );
    }
    srv().assert_no_violations();
}

// ------------------------------------------------------------ info, share, tools hash

#[test]
fn info_json_env_mode() {
    let o = cec("alice").args(["info", "--json"]).run();
    o.assert_ok();
    let v = one_json(&o);
    assert_eq!(v["user"], "alice");
    assert_eq!(v["url"], srv().api_url.trim_end_matches('/'));
    assert_eq!(v["auth_type"], "pat");
    assert!(v["account"].is_null(), "{v}");
    assert!(v["server_version"].is_string(), "{v}");
    assert!(o.stderr.is_empty(), "{o}");
}

#[test]
fn share_json_reports_the_link() {
    let dir = folder_with("t-json-share", &["doc.txt"]);
    let f = format!("{dir}/doc.txt");
    let o = cec("admin")
        .env("CEC_LINK_PASSWORD", "Link-Secret-42")
        .args([
            "share",
            &f,
            "--json",
            "--expire-days",
            "3",
            "--max-downloads",
            "5",
        ])
        .run();
    o.assert_ok();
    let v = one_json(&o);
    let url = v["url"].as_str().unwrap();
    let hash = v["link_hash"].as_str().unwrap();
    assert!(url.ends_with(&format!("/public/{hash}")), "{v}");
    assert_eq!(v["path"], f.as_str());
    assert_eq!(v["max_downloads"], 5);
    assert_eq!(v["password"], true);
    let exp = v["expires_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((exp - (now + 3 * 86_400)).abs() < 600, "{v}");
    // The server holds that link, on that node.
    let (code, link) = rest(
        "GET",
        &format!("/a/share/link/{}", v["link_uuid"].as_str().unwrap()),
        None,
    );
    assert_eq!(code, 200, "{link}");
    assert_eq!(link["LinkHash"], hash);
    assert_eq!(link["RootNodes"][0]["Uuid"], v["node_uuid"]);
    // Without options: nulls and false.
    let o = cec("admin").args(["share", &f, "--json"]).run();
    o.assert_ok();
    let v = one_json(&o);
    assert!(
        v["expires_at"].is_null() && v["max_downloads"].is_null(),
        "{v}"
    );
    assert_eq!(v["password"], false);
    srv().assert_no_violations();
}

#[test]
fn tools_hash_json() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.bin");
    std::fs::write(&f, b"hello cells").unwrap();
    let raw = run(&["tools", "hash", "-r", "-f", f.to_str().unwrap()]);
    raw.assert_ok();
    let o = run(&["tools", "hash", "--json", "-f", f.to_str().unwrap()]);
    o.assert_ok();
    let v = one_json(&o);
    assert_eq!(v["hash"], raw.stdout.trim());
    assert_eq!(v["size"], 11);
    assert_eq!(v["file"], f.to_str().unwrap());
    assert!(o.stderr.is_empty(), "{o}");
    run(&["tools", "hash", "--json", "-r", "-f", f.to_str().unwrap()]).assert_code(2);
}

// ------------------------------------------------------------ config ls / use

#[test]
fn two_accounts_of_one_user_on_one_host() {
    let other = Server::start(&[]);
    let mut c = Cec::new();
    c.env("CEC_SKIP_KEYRING", "true");
    for (url, tok) in [
        (srv().api_url.clone(), token("admin")),
        (other.url.clone(), other.token("admin")),
    ] {
        c.args(["config", "add", "token", "--url", &url])
            .env("CEC_TOKEN", tok)
            .run()
            .assert_ok();
    }
    c.env_remove("CEC_TOKEN");
    let port = |u: &str| {
        u.rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string()
    };
    let ids: Vec<String> = [&srv().api_url, &other.url]
        .iter()
        .map(|u| format!("admin@127.0.0.1:{}", port(u)))
        .collect();

    let o = c.args(["config", "ls", "--json"]).run();
    o.assert_ok();
    let accounts = json_lines(&o.stdout);
    assert_eq!(accounts.len(), 2, "{o}");
    let mut seen: Vec<String> = accounts
        .iter()
        .map(|a| {
            assert_eq!(a["label"], "admin@127.0.0.1");
            assert_eq!(a["auth_type"], "pat");
            assert_eq!(a["keyring"], false);
            let id = a["id"].as_str().unwrap().to_string();
            assert!(a["url"].as_str().unwrap().ends_with(&port(&id)), "{a}");
            id
        })
        .collect();
    seen.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(seen, want);
    // The last added is active.
    assert!(accounts
        .iter()
        .any(|a| a["active"] == true && a["id"] == ids[1].as_str()));

    // Piped table: one row per account with its ID and full URL.
    let o = c.args(["config", "ls"]).run();
    o.assert_ok();
    for id in &ids {
        let row = o.stdout.lines().find(|l| l.contains(id.as_str())).unwrap();
        assert!(
            row.contains(&format!("http://127.0.0.1:{}", port(id))),
            "{o}"
        );
    }

    // An ambiguous label: exit 2, the IDs listed, nothing changed.
    let before = std::fs::read(c.config_file()).unwrap();
    let o = c.args(["config", "use", "admin@127.0.0.1"]).run();
    o.assert_code(2);
    for id in &ids {
        o.assert_stderr_contains(id);
    }
    assert_eq!(o.stderr_lines().len(), 1, "{o}");
    assert_eq!(std::fs::read(c.config_file()).unwrap(), before);

    // The ID picks one; `info --json` then names it.
    c.args(["config", "use", &ids[0]]).run().assert_ok();
    let o = c.args(["info", "--json"]).run();
    o.assert_ok();
    let v = one_json(&o);
    assert_eq!(v["account"], ids[0].as_str());
    assert_eq!(v["user"], "admin");
    srv().assert_no_violations();
}
