//! End-to-end tests of `cec idm` and `cec storage` against the development server (REST
//! through Prism when `CEC_PRISM` is set): every list in its three shapes (terminal table,
//! tab-separated rows, `--json`), paging over 10,000 users, ACL deletion with and without
//! confirmation, datasource resync outcomes, and the refusals a non-administrator gets.

use crate::common::{Cec, Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

fn srv() -> &'static Server {
    Server::shared()
}

fn cec_on(s: &Server, user: &str) -> Cec {
    let mut c = Cec::new();
    c.env("CEC_URL", &s.api_url)
        .env("CEC_TOKEN", s.token(user))
        .env("CEC_SKIP_KEYRING", "true");
    c
}

fn cec(user: &str) -> Cec {
    cec_on(srv(), user)
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// `--json` of an admin list command, checked for exit 0 and no Prism violation.
fn list_json(args: &[&str]) -> Vec<Value> {
    let mut a = args.to_vec();
    a.push("--json");
    let out = cec("admin").args(&a).run();
    out.assert_ok();
    json_lines(&out.stdout)
}

/// The uuid of a workspace root as `user` sees it (`ls --json`).
fn ws_root_uuid(user: &str, slug: &str) -> String {
    let out = cec(user).args(["ls", "--json"]).run();
    out.assert_ok();
    json_lines(&out.stdout)
        .into_iter()
        .find(|w| w["name"] == slug)
        .and_then(|w| w["node_uuid"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no workspace {slug}: {out}"))
}

#[test]
fn users_groups_roles_workspaces_as_json() {
    let users = list_json(&["idm", "list-users"]);
    let logins: Vec<&str> = users.iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, vec!["admin", "alice", "bob"]);
    assert_eq!(
        keys(&users[0]),
        vec![
            "display_name",
            "email",
            "group_path",
            "login",
            "profile",
            "uuid"
        ]
    );
    assert_eq!(users[0]["profile"], "admin");
    assert_eq!(users[1]["display_name"], "Alice");
    assert_eq!(users[1]["email"], Value::Null);

    let groups = list_json(&["idm", "list-groups"]);
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["label"], "engineering");
    assert_eq!(keys(&groups[0]), vec!["group_path", "label", "uuid"]);

    let roles = list_json(&["idm", "list-roles"]);
    let kind = |uuid: &str| {
        roles
            .iter()
            .find(|r| r["uuid"] == uuid)
            .map(|r| r["type"].as_str().unwrap().to_string())
    };
    assert_eq!(kind("ROOT_GROUP").as_deref(), Some("group"));
    assert_eq!(kind("ADMINS").as_deref(), Some("role"));
    assert_eq!(roles.iter().filter(|r| r["type"] == "user").count(), 3);

    let ws = list_json(&["idm", "list-workspaces"]);
    let slugs: BTreeSet<&str> = ws.iter().map(|w| w["slug"].as_str().unwrap()).collect();
    assert_eq!(
        slugs,
        BTreeSet::from(["common-files", "personal-files", "team-cell"])
    );
    let cell = ws.iter().find(|w| w["slug"] == "team-cell").unwrap();
    assert_eq!(cell["scope"], "ROOM");
    assert_eq!(cell["label"], "Team Cell");
    assert_eq!(
        keys(cell),
        vec!["description", "label", "scope", "slug", "uuid"]
    );
    srv().assert_no_violations();
}

#[test]
fn rows_for_pipes_and_tables_on_a_terminal() {
    // Piped: one tab-separated row per user, no header, the login first.
    let out = cec("admin").args(["idm", "list-users"]).run();
    out.assert_ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows.iter().all(|r| r.len() == 5), "{out}");
    assert_eq!(rows[1][0], "alice");
    assert!(!out.stdout.contains("LOGIN") && !out.stdout.contains("+--"));

    let out = cec("admin").args(["idm", "list-roles"]).run();
    out.assert_ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "Root Group\tGroup role\tROOT_GROUP"),
        "{out}"
    );

    // A terminal: the legend and the reference's table style.
    let t = cec("admin").args(["idm", "list-users"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    let screen = t.screen();
    assert!(screen.contains("Found 3 users:"), "{screen}");
    assert!(screen.contains("| LOGIN | DISPLAY NAME  |"), "{screen}");
    assert!(screen.contains("| alice "), "{screen}");
    let t = cec("admin").args(["idm", "list-workspaces"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(t.screen().contains("Found 3 workspaces:"), "{}", t.screen());
}

#[test]
fn a_standard_user_is_refused_with_exit_3() {
    for args in [
        vec!["idm", "list-users"],
        vec!["idm", "list-groups", "--json"],
        vec!["idm", "list-roles"],
        vec!["idm", "list-workspaces"],
        vec!["idm", "list-acls", "-n", "some-node"],
        vec!["storage", "list-datasources"],
        vec!["storage", "resync-ds", "common"],
    ] {
        let out = cec("alice").args(&args).run();
        out.assert_code(3);
        assert!(
            out.stderr.contains("this needs an administrator account"),
            "{out}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
}

#[test]
fn acls_of_nodes() {
    let common = ws_root_uuid("admin", "common-files");
    let team = ws_root_uuid("admin", "team-cell");
    let acls = list_json(&["idm", "list-acls", "-n", &common]);
    assert_eq!(acls.len(), 2, "{acls:?}");
    assert_eq!(
        keys(&acls[0]),
        vec![
            "action",
            "id",
            "node_uuid",
            "role_id",
            "value",
            "workspace_id"
        ]
    );
    assert!(acls
        .iter()
        .all(|a| a["node_uuid"] == common.as_str() && a["role_id"] == "ROOT_GROUP"));
    // Several nodes: comma-separated and repeated.
    let both = list_json(&["idm", "list-acls", "-n", &format!("{common},{team}")]);
    assert_eq!(both.len(), 6, "{both:?}");
    let again = list_json(&["idm", "list-acls", "-n", &common, "-n", &team]);
    assert_eq!(again, both);
    // The reference's columns, piped.
    let out = cec("admin").args(["idm", "list-acls", "-n", &team]).run();
    out.assert_ok();
    let first: Vec<&str> = out.stdout.lines().next().unwrap().split('\t').collect();
    assert_eq!(first.len(), 4, "{out}");
    assert_eq!(first[0], team);
    assert_eq!(first[2], "read");
}

#[test]
fn acl_deletion_asks_first() {
    let alice = ws_root_uuid("alice", "personal-files");
    let bob = ws_root_uuid("bob", "personal-files");
    let count = |node: &str| list_json(&["idm", "list-acls", "-n", node]).len();
    assert_eq!(count(&alice), 2);
    assert_eq!(count(&bob), 2);

    // No terminal and no --force: nothing is deleted (exit 2).
    let out = cec("admin")
        .args(["idm", "list-acls", "-n", &alice, "--delete"])
        .stdin("y\n")
        .run();
    out.assert_code(2);
    assert!(out.stderr.contains("nothing was deleted"), "{out}");
    assert_eq!(count(&alice), 2);

    // A terminal: "n" keeps them, "y" deletes them.
    let t = cec("admin")
        .args(["idm", "list-acls", "-n", &alice, "--delete"])
        .tty();
    t.wait_for("Delete these 2 ACLs? [y/N]", Duration::from_secs(30));
    t.send_line("n");
    assert_eq!(t.wait_exit(Duration::from_secs(30)), 1, "{}", t.screen());
    assert!(t.screen().contains("nothing was deleted"), "{}", t.screen());
    assert_eq!(count(&alice), 2);
    let t = cec("admin")
        .args(["idm", "list-acls", "-n", &alice, "--delete"])
        .tty();
    let screen = t.wait_for("[y/N]", Duration::from_secs(30));
    assert!(
        screen.contains("ACTION NAME"),
        "the ACLs are listed first: {screen}"
    );
    t.send_line("y");
    assert_eq!(t.wait_exit(Duration::from_secs(30)), 0, "{}", t.screen());
    assert!(t.screen().contains("Deleted 2 ACLs"), "{}", t.screen());
    assert_eq!(count(&alice), 0);

    // --force deletes without asking.
    let out = cec("admin")
        .args(["idm", "list-acls", "-n", &bob, "--delete", "--force"])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 2, "listed first: {out}");
    assert!(out.stderr.contains("Removed ACL"), "{out}");
    assert_eq!(count(&bob), 0);
    // Nothing left to delete is not an error.
    let out = cec("admin")
        .args(["idm", "list-acls", "-n", &bob, "--delete"])
        .run();
    out.assert_ok();
    assert!(out.stderr.contains("No ACL to delete"), "{out}");
    srv().assert_no_violations();
}

#[test]
fn datasources_listed_without_secrets() {
    // The S3 datasource carries credentials: never printed.
    crate::common::register_secret("archive-secret-5f3b9c1d7e");
    let ds = list_json(&["storage", "list-datasources"]);
    let names: Vec<&str> = ds.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["personal", "common", "cells", "archive"]);
    assert_eq!(
        keys(&ds[0]),
        vec![
            "base_folder",
            "bucket",
            "disabled",
            "flat",
            "name",
            "storage_type",
            "versioning_policy"
        ]
    );
    assert_eq!(ds[1]["storage_type"], "LOCAL");
    assert_eq!(ds[3]["storage_type"], "S3");
    assert_eq!(ds[3]["flat"], true);
    let out = cec("admin")
        .args(["storage", "list-datasources", "-r"])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "personal\ncommon\ncells\narchive\n");
    let out = cec("admin").args(["storage", "list-datasources"]).run();
    out.assert_ok();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("archive\tS3\t")),
        "{out}"
    );
    let t = cec("admin").args(["storage", "list-datasources"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(
        t.screen().contains("Found 4 datasources:"),
        "{}",
        t.screen()
    );
    cec("admin")
        .args(["storage", "list-datasources", "-r", "--json"])
        .run()
        .assert_code(2);
}

#[test]
fn resync_waits_for_the_job_outcome() {
    // A file written behind the server's back appears after a resync of its datasource.
    let name = "resynced-behind-the-back.txt";
    std::fs::write(srv().root.join("data/common").join(name), b"hello").unwrap();
    let path = format!("common-files/{name}");
    cec("admin").args(["ls", "-f", &path]).run().assert_code(4);
    let out = cec("admin").args(["storage", "resync-ds", "common"]).run();
    out.assert_ok();
    assert!(out.stderr.contains("Resync of common finished"), "{out}");
    cec("admin").args(["ls", "-f", &path]).run().assert_ok();

    // A failing job is a failure, with the server's reason.
    let out = cec("admin").args(["storage", "resync-ds", "archive"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("cannot reach the storage"), "{out}");
    // An unknown datasource: exit 4, with the known names.
    let out = cec("admin").args(["storage", "resync-ds", "nope"]).run();
    out.assert_code(4);
    assert!(
        out.stderr.contains("personal, common, cells, archive"),
        "{out}"
    );
    srv().assert_no_violations();
}

#[test]
fn resync_gives_up_after_its_timeout() {
    // Jobs stay queued 5 s here: --timeout 1 gives up, the job goes on.
    let s = Server::start(&["--job-delay-ms", "5000"]);
    let out = cec_on(&s, "admin")
        .args(["storage", "resync-ds", "common", "--timeout", "1"])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("timed out after 1s"), "{out}");
    assert!(
        out.stderr.contains("may still complete on the server"),
        "{out}"
    );
    let out = cec_on(&s, "admin").args(["jobs", "get", "--json"]).run();
    assert!(
        json_lines(&out.stdout)
            .iter()
            .any(|j| j["label"] == "Resynchronize datasource common"),
        "{out}"
    );
}

/// 10,000 users: every list is complete, through the validating proxy; a Community
/// edition refuses job deletion in one line.
#[test]
fn ten_thousand_users_and_a_community_server() {
    let s = Server::start_validated(&["--seed-users", "10000", "--edition", "community"]);
    let out = cec_on(&s, "admin")
        .args(["idm", "list-users", "--json"])
        .run();
    out.assert_ok();
    let users = json_lines(&out.stdout);
    assert_eq!(users.len(), 10_003);
    let logins: BTreeSet<&str> = users.iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins.len(), 10_003, "duplicates");
    assert!(logins.contains("user00001") && logins.contains("user10000"));
    assert_eq!(
        users
            .iter()
            .filter(|u| u["group_path"] == "/engineering")
            .count(),
        1000
    );
    let out = cec_on(&s, "admin").args(["idm", "list-users"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 10_003);
    let out = cec_on(&s, "admin").args(["idm", "list-roles"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 10_003 + 4);

    let out = cec_on(&s, "admin")
        .args(["jobs", "delete", "--job-id", "thumbs-job", "--force"])
        .run();
    out.assert_code(1);
    assert_eq!(
        out.stderr.trim(),
        "Error: deleting jobs needs Cells Enterprise: this server does not serve DELETE /a/scheduler/jobs (no job was deleted)"
    );
    let out = cec_on(&s, "admin").args(["jobs", "get", "--json"]).run();
    assert!(out.stdout.contains("\"thumbs-job\""), "{out}");
    s.assert_no_violations();
}
