//! End-to-end tests of `cec meta get` / `cec meta set` against the development server
//! (REST through Prism when `CEC_PRISM` is set): every namespace type the server defines is
//! set, read back (as the server stores it) and cleared; bad values are refused before
//! anything is sent (exit 2, one line).

use crate::common::{Cec, Server};
use serde_json::{json, Value};
use std::time::Duration;

fn srv() -> &'static Server {
    Server::shared()
}

fn cec(user: &str) -> Cec {
    srv().cec_as(user)
}

/// Raw REST call straight to the server (setup and checks), as admin.
fn rest(method: &str, path: &str, body: Value) -> Value {
    let s = srv();
    let r = ureq::request(method, &format!("{}{}", s.url, path))
        .set("Authorization", &s.bearer("admin"))
        .send_json(body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    r.into_json().unwrap()
}

/// A fresh empty file `common-files/<name>` (deleted first if a previous run left it).
fn fresh_file(name: &str) -> String {
    let path = format!("common-files/{name}");
    rest(
        "POST",
        "/a/tree/create",
        json!({"Nodes":[{"Path": path, "Type": "LEAF"}]}),
    );
    for (ns, _) in stored(&path) {
        if ns.starts_with("usermeta-") {
            let uuid = uuid_of(&path);
            rest(
                "PUT",
                "/a/user-meta/update",
                json!({"Operation":"DELETE","MetaDatas":[{"NodeUuid": uuid, "Namespace": ns}]}),
            );
        }
    }
    path
}

fn node(path: &str) -> Value {
    let v = rest("POST", "/a/meta/bulk/get", json!({"NodePaths": [path]}));
    v["Nodes"][0].clone()
}

fn uuid_of(path: &str) -> String {
    node(path)["Uuid"].as_str().unwrap().to_string()
}

/// The node's `MetaStore` as the server stores it (JSON texts).
fn stored(path: &str) -> Vec<(String, String)> {
    node(path)["MetaStore"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn stored_value(path: &str, ns: &str) -> Option<String> {
    stored(path)
        .into_iter()
        .find(|(k, _)| k == ns)
        .map(|(_, v)| v)
}

fn set(path: &str, args: &[&str]) -> crate::common::Out {
    let mut a = vec!["meta", "set", "-p", path];
    a.extend_from_slice(args);
    cec("admin").args(&a).run()
}

#[test]
fn every_namespace_type_round_trips() {
    let f = fresh_file("meta-types.txt");
    // (namespace, flags, what the server stores)
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "usermeta-description",
            &["-s", r#"a "quoted" \ text"#],
            r#""a \"quoted\" \\ text""#,
        ),
        ("usermeta-comment", &["-s", "two\nlines"], r#""two\nlines""#),
        ("usermeta-color", &["-s", "red"], r#""red""#),
        (
            "usermeta-tag-validation-status",
            &["-s", "Validated"],
            r#""Validated""#,
        ),
        ("usermeta-tags", &["-s", "urgent, q1"], r#""urgent,q1""#),
        (
            "usermeta-deadline",
            &["-s", "2025-06-30 12:00:00"],
            r#""1751284800""#,
        ),
        ("usermeta-rating", &["-r", "5"], r#""5""#),
        ("usermeta-count", &["-r", "-42"], r#""-42""#),
        ("usermeta-done", &["-b"], r#""true""#),
        (
            "usermeta-extra",
            &["-j", r#"{"k":[1,2],"s":"x"}"#],
            r#"{"k":[1,2],"s":"x"}"#,
        ),
    ];
    for (ns, flags, want) in cases {
        let mut args = vec!["-o", "update", "-n", ns];
        args.extend_from_slice(flags);
        let out = set(&f, &args);
        out.assert_ok();
        assert!(out.stdout.is_empty(), "{out}");
        assert_eq!(stored_value(&f, ns).as_deref(), Some(*want), "{ns}: {out}");
    }
    // Tags are added to the current ones; booleans can be set to false; a date alone is midnight UTC.
    set(
        &f,
        &["-o", "update", "-n", "usermeta-tags", "-s", "q2,urgent"],
    )
    .assert_ok();
    assert_eq!(
        stored_value(&f, "usermeta-tags").as_deref(),
        Some(r#""urgent,q1,q2""#)
    );
    set(
        &f,
        &[
            "-o",
            "update",
            "-n",
            "usermeta-done",
            "--boolean-value=false",
        ],
    )
    .assert_ok();
    assert_eq!(
        stored_value(&f, "usermeta-done").as_deref(),
        Some(r#""false""#)
    );
    set(
        &f,
        &[
            "-o",
            "update",
            "-n",
            "usermeta-deadline",
            "-s",
            "2025-06-30",
        ],
    )
    .assert_ok();
    assert_eq!(
        stored_value(&f, "usermeta-deadline").as_deref(),
        Some(r#""1751241600""#)
    );

    // meta get -f json: every value decoded, sorted by name.
    let out = cec("admin")
        .args(["meta", "get", "-p", &f, "-f", "json"])
        .run();
    out.assert_ok();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["usermeta-extra"], json!({"k":[1,2],"s":"x"}));
    assert_eq!(v["usermeta-comment"], "two\nlines");
    assert_eq!(v["usermeta-rating"], "5");
    assert_eq!(v["name"], "meta-types.txt");
    let out = cec("admin")
        .args(["meta", "get", "-p", &f, "-n", "usermeta-tags", "-f", "json"])
        .run();
    assert_eq!(
        out.stdout, "{\"usermeta-tags\":\"urgent,q1,q2\"}\n",
        "{out}"
    );
    // Piped table: name<TAB>value rows, sorted.
    let out = cec("admin").args(["meta", "get", "-p", &f]).run();
    out.assert_ok();
    let names: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(out.stdout.contains("usermeta-rating\t5\n"), "{out}");
    // One line per row: a line break inside a value is written \n.
    assert!(
        out.stdout.contains("usermeta-comment\ttwo\\nlines\n"),
        "{out}"
    );

    // Clearing: tags one at a time, then every type with -o delete.
    set(&f, &["-o", "delete", "-n", "usermeta-tags", "-s", "q1"]).assert_ok();
    assert_eq!(
        stored_value(&f, "usermeta-tags").as_deref(),
        Some(r#""urgent,q2""#)
    );
    for (ns, _, _) in cases {
        let out = set(&f, &["-o", "delete", "-n", ns]);
        out.assert_ok();
        assert!(out.stderr.contains("Cleared"), "{out}");
        assert_eq!(stored_value(&f, ns), None, "{ns} not cleared");
    }
    // A cleared value is not found.
    let out = cec("admin")
        .args(["meta", "get", "-p", &f, "-n", "usermeta-rating"])
        .run();
    out.assert_code(4);
    srv().assert_no_violations();
}

#[test]
fn bad_values_are_refused_before_sending() {
    let f = fresh_file("meta-refused.txt");
    set(&f, &["-o", "update", "-n", "usermeta-rating", "-r", "3"]).assert_ok();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-n", "usermeta-rating", "-r", "6"],
            "a stars rating is 0 to 5",
        ),
        (
            &["-n", "usermeta-rating", "-r", "-1"],
            "a stars rating is 0 to 5",
        ),
        (&["-n", "usermeta-rating", "-s", "4"], "--numeric-value"),
        (
            &["-n", "usermeta-deadline", "-s", "2025-02-30"],
            "is not a date",
        ),
        (
            &["-n", "usermeta-deadline", "-s", "next week"],
            "is not a date",
        ),
        (
            &["-n", "usermeta-tag-validation-status", "-s", "Maybe"],
            "Draft, Validated, Rejected",
        ),
        (&["-n", "usermeta-extra", "-j", "{\"a\":"], "expected JSON"),
        (&["-n", "usermeta-extra", "-s", "text"], "--json-value"),
        (&["-n", "usermeta-done", "-r", "1"], "--boolean-value"),
        (&["-n", "usermeta-count", "-b"], "--numeric-value"),
        (&["-n", "usermeta-tags", "-s", " , "], "no tag given"),
        (&["-n", "usermeta-description", "-s", ""], "empty value"),
        (
            &["-n", "usermeta-nope", "-s", "x"],
            "unknown namespace usermeta-nope",
        ),
    ];
    for (flags, why) in cases {
        let mut args = vec!["-o", "update"];
        args.extend_from_slice(flags);
        let out = set(&f, &args);
        out.assert_code(2);
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.contains(why), "{flags:?}: {out}");
    }
    // Nothing reached the server: the rating is unchanged, no other value appeared.
    let metas: Vec<String> = stored(&f)
        .into_iter()
        .filter(|(k, _)| k.starts_with("usermeta-"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(metas, vec!["usermeta-rating=\"3\""]);
    // Missing node: exit 4.
    let out = set(
        "common-files/no-such-file.txt",
        &["-o", "update", "-n", "usermeta-rating", "-r", "1"],
    );
    out.assert_code(4);
}

#[test]
fn namespaces_and_terminal_tables() {
    let out = cec("alice")
        .args(["meta", "get", "--all", "-f", "json"])
        .run();
    out.assert_ok();
    let ns: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<(&str, &str)> = ns
        .iter()
        .map(|n| {
            (
                n["namespace"].as_str().unwrap(),
                n["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(types.len(), 10, "{out}");
    for t in [
        ("usermeta-tags", "tags"),
        ("usermeta-tag-validation-status", "choice"),
        ("usermeta-comment", "textarea"),
        ("usermeta-description", "string"),
        ("usermeta-deadline", "date"),
        ("usermeta-rating", "stars_rate"),
        ("usermeta-count", "integer"),
        ("usermeta-done", "boolean"),
        ("usermeta-color", "css_label"),
        ("usermeta-extra", "json"),
    ] {
        assert!(types.contains(&t), "{t:?} in {types:?}");
    }
    assert_eq!(ns[1]["definition"]["data"]["items"][0]["key"], "Draft");

    let t = cec("alice").args(["meta", "get", "--all"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(
        t.screen().contains("10 metadata namespaces:"),
        "{}",
        t.screen()
    );
    assert!(t.screen().contains("| usermeta-rating "), "{}", t.screen());

    // A user's own file, on a terminal.
    let out = cec("alice")
        .args([
            "meta",
            "set",
            "-p",
            "personal-files/",
            "-o",
            "update",
            "-n",
            "usermeta-tags",
            "-s",
            "mine",
        ])
        .run();
    out.assert_ok();
    let t = cec("alice")
        .args(["meta", "get", "-p", "personal-files"])
        .tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    let screen = t.screen();
    assert!(screen.contains("Metadata of personal-files:"), "{screen}");
    assert!(screen.contains("| usermeta-tags | mine"), "{screen}");
    srv().assert_no_violations();
}
