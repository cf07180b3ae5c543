//! End-to-end tests of `cec jobs get` / `cec jobs delete` against the development server
//! (an Enterprise edition; REST through Prism when `CEC_PRISM` is set). The server seeds
//! system jobs (`thumbs-job` has three runs, the last one failed) and a failed job of alice;
//! each test deletes only the jobs it owns. The Community edition's refusal is tested in
//! admin_idm.rs (one private server with 10,000 users).

use crate::common::{Cec, Server};
use serde_json::{json, Value};
use std::time::Duration;

fn srv() -> &'static Server {
    Server::shared()
}

fn cec(user: &str) -> Cec {
    srv().cec_as(user)
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// `jobs get --json [--filter F]` as `user`: the job ids.
fn ids(user: &str, filter: Option<&str>) -> Vec<String> {
    let mut c = cec(user);
    c.args(["jobs", "get", "--json"]);
    if let Some(f) = filter {
        c.args(["--filter", f]);
    }
    let out = c.run();
    out.assert_ok();
    json_lines(&out.stdout)
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

fn exists(id: &str) -> bool {
    ids("admin", None).iter().any(|j| j == id)
}

#[test]
fn get_lists_filters_and_formats() {
    let out = cec("admin").args(["jobs", "get", "--json"]).run();
    out.assert_ok();
    let jobs = json_lines(&out.stdout);
    let thumbs = jobs.iter().find(|j| j["id"] == "thumbs-job").unwrap();
    assert_eq!(
        thumbs.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec![
            "end_time",
            "id",
            "label",
            "message",
            "num_tasks",
            "owner",
            "start_time",
            "status",
            "system"
        ]
    );
    assert_eq!(thumbs["num_tasks"], 3);
    // The most recent run failed (the first one listed succeeded).
    assert_eq!(thumbs["status"], "Error");
    assert_eq!(thumbs["message"], "cannot decode image");
    assert_eq!(thumbs["system"], true);
    assert_eq!(thumbs["owner"], "pydio.system.user");

    let errors = ids(
        "admin",
        Some(r#"{"task_status":{"op":"eq","value":"Error"}}"#),
    );
    assert!(errors.contains(&"thumbs-job".to_string()), "{errors:?}");
    assert!(
        errors.contains(&"alice-export-job".to_string()),
        "{errors:?}"
    );
    assert!(
        !errors.contains(&"clean-shares-job".to_string()),
        "{errors:?}"
    );
    let many = ids("admin", Some(r#"{"numtasks":{"op":">","value":1}}"#));
    assert!(many.contains(&"thumbs-job".to_string()), "{many:?}");
    assert!(!many.contains(&"alice-export-job".to_string()));
    let filter =
        r#"{"owner":{"op":"==","value":"alice"},"task_status":{"op":"ne","value":"Finished"}}"#;
    assert_eq!(ids("admin", Some(filter)), vec!["alice-export-job"]);
    // A standard user sees only her own jobs.
    assert_eq!(ids("alice", None), vec!["alice-export-job"]);

    // --format json: the server's job objects, as an array.
    let out = cec("admin").args(["jobs", "get", "--format", "json"]).run();
    out.assert_ok();
    let arr: Value = serde_json::from_str(&out.stdout).unwrap();
    let t = arr
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["ID"] == "thumbs-job")
        .unwrap();
    assert_eq!(t["Tasks"].as_array().unwrap().len(), 3);
    let out = cec("admin")
        .args([
            "jobs",
            "get",
            "--format",
            "json",
            "--filter",
            r#"{"owner":{"op":"eq","value":"nobody"}}"#,
        ])
        .run();
    assert_eq!(out.stdout.trim(), "[]");

    // Rows for pipes; the table on a terminal.
    let out = cec("admin").args(["jobs", "get"]).run();
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "thumbs-job\tGenerate thumbnails\tpydio.system.user\t3\tError"),
        "{out}"
    );
    let t = cec("admin").args(["jobs", "get"]).tty();
    assert_eq!(t.wait_exit(Duration::from_secs(60)), 0, "{}", t.screen());
    assert!(t.screen().contains("LAST TASK STATUS"), "{}", t.screen());

    // Bad filters are usage errors.
    for f in [
        r#"{"state":{"op":"eq","value":"Error"}}"#,
        r#"{"owner":{"op":"gt","value":"a"}}"#,
        r#"{"numtasks":{"op":"~","value":1}}"#,
        "not json",
    ] {
        let out = cec("admin").args(["jobs", "get", "--filter", f]).run();
        out.assert_code(2);
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    }
    cec("admin")
        .args(["jobs", "get", "--json", "--format", "table"])
        .run()
        .assert_code(2);
    srv().assert_no_violations();
}

/// Two failed copy jobs of bob (failed jobs stay listed).
fn failed_jobs_of_bob() -> Vec<String> {
    let s = srv();
    let mut made = Vec::new();
    for i in 0..2 {
        let params = json!({"target":"personal-files","nodes":[format!("personal-files/missing-{i}")],"targetParent":true});
        let r: Value = ureq::put(&format!("{}/a/jobs/user/copy", s.url))
            .set("Authorization", &s.bearer("bob"))
            .send_json(json!({"JsonParameters": params.to_string()}))
            .unwrap()
            .into_json()
            .unwrap();
        made.push(r["JobUuid"].as_str().unwrap().to_string());
    }
    let failed = r#"{"owner":{"op":"eq","value":"bob"},"task_status":{"op":"eq","value":"Error"}}"#;
    crate::common::wait_until(Duration::from_secs(30), "bob's jobs to fail", || {
        (ids("admin", Some(failed)).len() == 2).then_some(())
    });
    made
}

#[test]
fn delete_by_filter_needs_confirmation_and_skips_system_jobs() {
    let made = failed_jobs_of_bob();
    let bob = r#"{"owner":{"op":"eq","value":"bob"}}"#;
    // No terminal, no --force: nothing deleted.
    let out = cec("admin").args(["jobs", "delete", "--filter", bob]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("nothing was deleted"), "{out}");
    // --dry-run shows the selection and deletes nothing.
    let out = cec("admin")
        .args(["jobs", "delete", "--filter", bob, "--dry-run"])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout.matches("done (dry-run)").count(), 2, "{out}");
    assert!(made.iter().all(|id| exists(id)));
    let out = cec("admin")
        .args([
            "jobs", "delete", "--filter", bob, "--force", "--format", "json",
        ])
        .run();
    out.assert_ok();
    let results: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut got: Vec<(String, String)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["JobID"].as_str().unwrap().to_string(),
                r["Result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> =
        made.iter().map(|id| (id.clone(), "done".into())).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(made.iter().all(|id| !exists(id)));

    // System jobs are never deleted in a batch.
    let system_errors = r#"{"owner":{"op":"eq","value":"pydio.system.user"},"task_status":{"op":"eq","value":"Error"}}"#;
    let out = cec("admin")
        .args(["jobs", "delete", "--filter", system_errors, "--force"])
        .run();
    out.assert_code(1);
    assert_eq!(
        out.stdout.matches("skipped: system jobs").count(),
        2,
        "{out}"
    );
    assert!(exists("thumbs-job") && exists("archive-sync-job"));
    srv().assert_no_violations();
}

#[test]
fn delete_one_job_by_id() {
    cec("admin").args(["jobs", "delete"]).run().assert_code(2);
    let out = cec("admin")
        .args(["jobs", "delete", "--job-id", "no-such-job", "--force"])
        .run();
    out.assert_code(4);
    // Alice cannot see (so cannot delete) a system job.
    cec("alice")
        .args(["jobs", "delete", "--job-id", "thumbs-job", "--force"])
        .run()
        .assert_code(4);

    // A system job, on a terminal: "n" keeps it, "y" deletes it.
    let t = cec("admin")
        .args(["jobs", "delete", "--job-id", "versions-prune-job"])
        .tty();
    t.wait_for(
        "Delete system job 'Prune old versions'? [y/N]",
        Duration::from_secs(30),
    );
    t.send_line("n");
    assert_eq!(t.wait_exit(Duration::from_secs(30)), 1, "{}", t.screen());
    assert!(exists("versions-prune-job"));
    let t = cec("admin")
        .args(["jobs", "delete", "--job-id", "versions-prune-job"])
        .tty();
    t.wait_for("[y/N]", Duration::from_secs(30));
    t.send_line("y");
    assert_eq!(t.wait_exit(Duration::from_secs(30)), 0, "{}", t.screen());
    assert!(t.screen().contains("| done"), "{}", t.screen());
    assert!(!exists("versions-prune-job"));

    // --force, a filter that does not match: nothing to delete.
    let out = cec("admin")
        .args([
            "jobs",
            "delete",
            "--job-id",
            "clean-shares-job",
            "--filter",
            r#"{"task_status":{"op":"eq","value":"Error"}}"#,
        ])
        .run();
    out.assert_ok();
    assert!(out.stderr.contains("No job matches"), "{out}");
    let out = cec("admin")
        .args(["jobs", "delete", "--job-id", "clean-shares-job", "--force"])
        .run();
    out.assert_ok();
    assert!(out
        .stdout
        .contains("clean-shares-job\tClean expired share links\tdone"));
    assert!(!exists("clean-shares-job"));
    srv().assert_no_violations();
}
