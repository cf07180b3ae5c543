//! The administration commands against a hostile or broken server: paging ends even when
//! the server ignores `Offset` or lies in `Total`, malformed replies give one clean error,
//! ACLs nobody asked for are never shown nor deleted, job ids are escaped in URLs, and
//! names with control characters cannot drive the terminal.

use crate::common::Cec;
use crate::hostile::{Hostile, Reply};
use serde_json::{json, Value};
use std::time::Duration;

fn cec_at(url: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", url)
        .env("CEC_TOKEN", "test-token")
        .env("CEC_SKIP_KEYRING", "true")
        .timeout(Duration::from_secs(60));
    c
}

fn user(i: usize) -> Value {
    json!({"Uuid": format!("u-{i}"), "Login": format!("login{i}")})
}

#[test]
fn paging_ends_when_the_server_ignores_offset() {
    // Always the same short page, with a Total that promises more.
    let h = Hostile::start(|_| {
        Reply::json(
            200,
            json!({"Users": [user(1), user(2), user(3)], "Total": 1000}),
        )
    });
    let out = cec_at(&h.url).args(["idm", "list-users"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 3, "{out}");
    assert_eq!(h.count("POST /a/user"), 2, "{:?}", h.requests());

    // Always the same full page of 1000 (Offset and Limit ignored).
    let page: Vec<Value> = (0..1000).map(user).collect();
    let h = Hostile::start(move |_| Reply::json(200, json!({"Users": page, "Total": 5})));
    let out = cec_at(&h.url).args(["idm", "list-users", "--json"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 1000);
    assert_eq!(h.count("POST /a/user"), 2, "{:?}", h.requests());

    // Pages that follow Offset, with a Total smaller than the truth: full pages go on.
    let h = Hostile::start(|req| {
        let off: usize = req.json()["Offset"].as_str().unwrap().parse().unwrap();
        let n = 2500usize.saturating_sub(off).min(1000);
        let users: Vec<Value> = (off..off + n).map(user).collect();
        Reply::json(200, json!({"Users": users, "Total": 1000}))
    });
    let out = cec_at(&h.url).args(["idm", "list-users"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 2500);
}

#[test]
fn malformed_replies_are_one_clean_error() {
    for body in [
        json!({"Users": "everyone"}),
        json!({"Users": [{"Login": 42}]}),
        json!({"Users": [{"Attributes": ["not", "a", "map"]}]}),
    ] {
        let b = body.clone();
        let h = Hostile::start(move |_| Reply::json(200, b.clone()));
        let out = cec_at(&h.url).args(["idm", "list-users"]).run();
        out.assert_code(1);
        out.assert_no_panic();
        assert_eq!(out.stderr.lines().count(), 1, "{body}: {out}");
        assert!(out.stderr.contains("unexpected server response"), "{out}");
    }
    let h = Hostile::start(|_| Reply::json(200, json!({"Jobs": {"ID": "x"}})));
    let out = cec_at(&h.url).args(["jobs", "get"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("Jobs is not a list"), "{out}");
    // Not JSON at all.
    let h = Hostile::start(|_| Reply::Full(200, Vec::new(), b"<html>oops</html>".to_vec()));
    let out = cec_at(&h.url).args(["storage", "list-datasources"]).run();
    out.assert_code(1);
    out.assert_no_panic();
}

#[test]
fn only_the_acls_asked_for_are_listed_and_deleted() {
    let h = Hostile::start(|req| match req.path().as_str() {
        "/a/acl" => Reply::json(
            200,
            json!({"ACLs": [
                {"ID": "1", "NodeID": "mine", "RoleID": "r1", "Action": {"Name": "read", "Value": "1"}},
                {"ID": "2", "NodeID": "someone-else", "RoleID": "r1", "Action": {"Name": "read", "Value": "1"}},
                {"ID": "3", "NodeID": "mine"}
            ]}),
        ),
        "/a/acl/bulk/delete" => Reply::json(200, json!({"Success": true, "NumRows": "1"})),
        _ => Reply::not_found(),
    });
    let out = cec_at(&h.url)
        .args(["idm", "list-acls", "-n", "mine", "--json"])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 2, "{out}");
    assert!(!out.stdout.contains("someone-else"), "{out}");
    let out = cec_at(&h.url)
        .args(["idm", "list-acls", "-n", "mine", "--delete", "--force"])
        .run();
    // ACL 3 has no role nor action: deleting it would match other ACLs.
    out.assert_code(6);
    assert!(out.stderr.contains("Could not delete ACL 3"), "{out}");
    assert_eq!(h.count("POST /a/acl/bulk/delete"), 1, "{:?}", h.requests());
}

#[test]
fn job_ids_are_escaped_and_a_missing_route_is_named() {
    let id = "odd/id with spaces";
    let job = json!({"ID": id, "Label": "odd", "Owner": "admin"});
    let h = Hostile::start(
        move |req| match (req.method.as_str(), req.path().as_str()) {
            ("POST", "/a/jobs/user") => Reply::json(200, json!({"Jobs": [job.clone()]})),
            _ => Reply::json(404, json!({"Title": "page not found"})),
        },
    );
    let out = cec_at(&h.url)
        .args(["jobs", "delete", "--job-id", id, "--force"])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("needs Cells Enterprise"), "{out}");
    assert!(
        h.requests()
            .contains(&"DELETE /a/scheduler/jobs/odd%2Fid%20with%20spaces".to_string()),
        "{:?}",
        h.requests()
    );
}

#[test]
fn control_characters_cannot_drive_the_terminal() {
    let h = Hostile::start(|_| {
        Reply::json(
            200,
            json!({"Users": [{"Uuid": "u1", "Login": "evil\u{1b}[2Jname", "Attributes": {"displayName": "x\u{202e}y"}}]}),
        )
    });
    let t = cec_at(&h.url).args(["idm", "list-users"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(30)), 0, "{}", t.screen());
    let screen = t.screen();
    assert!(screen.contains("evil\\x1b[2Jname"), "{screen}");
    assert!(screen.contains("x\\u{202e}y"), "{screen}");
    // JSON keeps the exact value, safely encoded.
    let out = cec_at(&h.url).args(["idm", "list-users", "--json"]).run();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["login"], "evil\u{1b}[2Jname");
}
