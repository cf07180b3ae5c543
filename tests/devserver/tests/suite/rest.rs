//! REST API of the development server (docs/protocol.md §3): every endpoint, permission
//! refusals, pagination, recycle bin, job lifecycle, token expiry, restart persistence and
//! the realism knobs. Each test starts its own server on port 0 with a private root.
use std::time::{Duration, Instant};

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{bin, temp_root, token_for, Srv};

use serde_json::{json, Value};

impl Srv {
    fn call(
        &self,
        method: &str,
        path: &str,
        tok: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (code, text) = self.raw(method, path, tok, body.map(|b| b.to_string()));
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    fn raw(
        &self,
        method: &str,
        path: &str,
        tok: Option<&str>,
        body: Option<String>,
    ) -> (u16, String) {
        let mut req = ureq::request(method, &format!("{}{}", self.url, path));
        if let Some(t) = tok {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let res = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(&b),
            None => req.call(),
        };
        match res {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap()),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }
    fn post(&self, path: &str, tok: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(tok), Some(body))
    }
    fn list(&self, tok: &str, paths: &[&str]) -> Vec<Value> {
        let (c, v) = self.post("/a/meta/bulk/get", tok, json!({"NodePaths": paths}));
        assert_eq!(c, 200, "{v}");
        v["Nodes"].as_array().cloned().unwrap_or_default()
    }
    fn stat(&self, tok: &str, path: &str) -> (u16, Value) {
        self.call(
            "GET",
            &format!("/a/tree/stat/{}", enc(path)),
            Some(tok),
            None,
        )
    }
    fn mkdir(&self, tok: &str, path: &str) {
        let (c, v) = self.post(
            "/a/tree/create",
            tok,
            json!({"Nodes":[{"Path": path, "Type": "COLLECTION"}]}),
        );
        assert_eq!(c, 200, "{v}");
    }
    fn touch(&self, tok: &str, path: &str) {
        let (c, v) = self.post(
            "/a/tree/create",
            tok,
            json!({"Nodes":[{"Path": path, "Type": "LEAF"}]}),
        );
        assert_eq!(c, 200, "{v}");
    }
    fn job(&self, tok: &str, id: &str) -> Option<Value> {
        let (c, v) = self.post(
            "/a/jobs/user",
            tok,
            json!({"JobIDs":[id],"LoadTasks":"Any"}),
        );
        assert_eq!(c, 200, "{v}");
        v["Jobs"].as_array().and_then(|a| a.first().cloned())
    }
    fn wait_job(&self, tok: &str, id: &str) -> String {
        let t0 = Instant::now();
        loop {
            let st = match self.job(tok, id) {
                None => return "Gone".into(),
                Some(j) => j["Tasks"][0]["Status"]
                    .as_str()
                    .unwrap_or("Unknown")
                    .to_string(),
            };
            if !matches!(st.as_str(), "Queued" | "Running") {
                return st;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "job {id} stuck");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Go's url.PathEscape, like cec.
fn enc(p: &str) -> String {
    let mut s = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$&+:=@".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn names(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n["Path"].as_str().unwrap_or("").to_string())
        .collect()
}

fn block_hash(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    let mut outer = Md5::new();
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(10 * 1024 * 1024).collect()
    };
    for c in chunks {
        outer.update(Md5::digest(c));
    }
    hex::encode(outer.finalize())
}

#[test]
fn frontend_state_bootconf_session() {
    let s = Srv::start("front", &[]);
    let alice = s.token("alice");
    let (c, xml) = s.raw("GET", "/a/frontend/state", Some(&alice), None);
    assert_eq!(c, 200);
    assert!(xml.contains("<user id=\"alice\">"), "{xml}");
    let (c, xml) = s.raw("GET", "/a/frontend/state", None, None);
    assert_eq!(c, 200);
    assert!(!xml.contains("<user "), "{xml}");
    let (c, _) = s.raw("GET", "/a/frontend/state", Some("bogus.token"), None);
    assert_eq!(c, 401);

    let (c, v) = s.call("GET", "/a/frontend/bootconf", Some(&alice), None);
    assert_eq!(c, 200);
    assert_eq!(v["backend"]["Version"], "4.4.3");

    let (c, v) = s.call(
        "POST",
        "/a/frontend/session",
        None,
        Some(json!({"AuthInfo":{"login":"bob","password":"bob123","type":"credentials"}})),
    );
    assert_eq!(c, 200, "{v}");
    let jwt = v["JWT"].as_str().unwrap().to_string();
    let exp = v["ExpireTime"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        exp > now + 60 && exp < now + 7200,
        "absolute ExpireTime {exp}"
    );
    assert!(v["Token"]["ExpiresAt"].is_string());
    let (_, xml) = s.raw("GET", "/a/frontend/state", Some(&jwt), None);
    assert!(xml.contains("<user id=\"bob\">"));
    let (c, v) = s.call(
        "POST",
        "/a/frontend/session",
        None,
        Some(json!({"AuthInfo":{"login":"bob","password":"nope","type":"credentials"}})),
    );
    assert_eq!(c, 401);
    assert!(v["Title"].is_string());
}

#[test]
fn tokens_expire_and_are_checked() {
    let s = Srv::start("tok", &[]);
    let expired = token_for(&s.root, "alice", Some("-1s"));
    let (c, v) = s.stat(&expired, "common-files/welcome.txt");
    assert_eq!(c, 401, "{v}");
    let (c, _) = s.stat("garbage", "common-files/welcome.txt");
    assert_eq!(c, 401);
    let (c, _) = s.call("GET", "/a/tree/stat/common-files", None, None);
    assert_eq!(c, 401);
    // Tampered payload.
    let good = s.token("alice");
    let (p, sig) = good.split_once('.').unwrap();
    let mut p = p.to_string();
    p.replace_range(0..1, if p.starts_with('e') { "f" } else { "e" });
    let (c, _) = s.stat(&format!("{p}.{sig}"), "common-files");
    assert_eq!(c, 401);
    let out = Command::new(bin())
        .args(["token", "--root"])
        .arg(&s.root)
        .args(["-u", "mallory"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let (c, _) = s.stat(&good, "common-files");
    assert_eq!(c, 200);
}

#[test]
fn stat_nodes_and_errors() {
    let s = Srv::start("stat", &[]);
    let t = s.token("alice");
    let (c, v) = s.stat(&t, "common-files/welcome.txt");
    assert_eq!(c, 200, "{v}");
    let n = &v["Node"];
    let data = std::fs::read(s.root.join("data/common/welcome.txt")).unwrap();
    assert_eq!(n["Path"], "common-files/welcome.txt");
    assert_eq!(n["Type"], "LEAF");
    assert_eq!(n["Size"], data.len().to_string());
    assert!(n["MTime"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(
        n["MetaStore"]["x-cells-hash"],
        format!("\"{}\"", block_hash(&data))
    );
    assert_eq!(n["MetaStore"]["name"], "\"welcome.txt\"");
    // Literal slashes work too.
    let (c, _) = s.call(
        "GET",
        "/a/tree/stat/common-files/welcome.txt",
        Some(&t),
        None,
    );
    assert_eq!(c, 200);
    let (c, v) = s.stat(&t, "common-files");
    assert_eq!(c, 200);
    assert_eq!(v["Node"]["Type"], "COLLECTION");
    let (c, v) = s.stat(&t, "common-files/nope.txt");
    assert_eq!(c, 404);
    assert!(v["Title"].is_string() && v["Detail"].is_string(), "{v}");
    let (c, _) = s.stat(&t, "no-such-ws/x");
    assert_eq!(c, 404);
    let (c, _) = s.stat(&t, "common-files/../personal-files");
    assert_eq!(c, 404);
    // Unknown request fields are rejected.
    let (c, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"NodePaths":["common-files"],"Bogus":true}),
    );
    assert_eq!(c, 400, "{v}");
    assert!(v["Title"].as_str().unwrap().contains("Bogus"));
    // int64 as strings in requests are accepted, nulls too.
    let (c, _) = s.post("/a/tree/create", &t, json!({"Nodes":[{"Path":"common-files/x","Type":"COLLECTION","Size":"0","AppearsIn":null}]}));
    assert_eq!(c, 200);
    let (c, _) = s.call("GET", "/a/no/such/op", Some(&t), None);
    assert_eq!(c, 404);
}

#[test]
fn workspaces_and_permissions() {
    let s = Srv::start("perm", &[]);
    let (alice, bob, admin) = (s.token("alice"), s.token("bob"), s.token("admin"));
    let root = s.list(&alice, &["", "/*"]);
    assert_eq!(
        names(&root),
        vec!["", "personal-files", "common-files", "team-cell"]
    );
    assert_eq!(root[3]["MetaStore"]["ws_scope"], "\"ROOM\"");
    assert_eq!(root[2]["MetaStore"]["ws_scope"], "\"ADMIN\"");
    for k in [
        "ws_uuid",
        "ws_label",
        "ws_description",
        "ws_permissions",
        "ws_slug",
    ] {
        assert!(root[1]["MetaStore"][k].is_string(), "{k}");
    }
    let root = s.list(&bob, &["", "/*"]);
    assert_eq!(names(&root), vec!["", "personal-files", "common-files"]);
    // bob cannot see or touch the cell.
    assert_eq!(s.stat(&bob, "team-cell").0, 404);
    let (c, _) = s.post(
        "/a/meta/bulk/get",
        &bob,
        json!({"NodePaths":["team-cell/*"]}),
    );
    assert_eq!(c, 404);
    let (c, v) = s.post(
        "/a/tree/create",
        &bob,
        json!({"Nodes":[{"Path":"team-cell/x","Type":"COLLECTION"}]}),
    );
    assert_eq!(c, 403, "{v}");
    // Personal files are per user.
    s.touch(&alice, "personal-files/alice-only.txt");
    assert_eq!(s.stat(&alice, "personal-files/alice-only.txt").0, 200);
    assert_eq!(s.stat(&bob, "personal-files/alice-only.txt").0, 404);
    assert!(s.root.join("data/personal/alice/alice-only.txt").exists());
    // Admin-only endpoints.
    for (m, p, b) in [
        ("POST", "/a/user", Some(json!({"Queries":[{"Login":"*"}]}))),
        ("POST", "/a/role", Some(json!({}))),
        ("POST", "/a/workspace", Some(json!({}))),
        ("POST", "/a/acl", Some(json!({}))),
        ("GET", "/a/config/datasource", None),
    ] {
        let (c, v) = s.call(m, p, Some(&bob), b.clone());
        assert_eq!(c, 403, "{p}: {v}");
        let (c, v) = s.call(m, p, Some(&admin), b);
        assert_eq!(c, 200, "{p}: {v}");
    }
    // Jobs: a user cannot resync datasources.
    let (c, _) = s.call(
        "PUT",
        "/a/jobs/user/datasource-resync",
        Some(&bob),
        Some(json!({"JsonParameters":"{\"dsName\":\"common\"}"})),
    );
    assert_eq!(c, 403);
    let (c, _) = s.call(
        "PUT",
        "/a/jobs/user/no-such-job",
        Some(&bob),
        Some(json!({"JsonParameters":"{}"})),
    );
    assert_eq!(c, 404);
}

#[test]
fn listing_pagination_and_hidden_files() {
    let s = Srv::start("page", &[]);
    let t = s.token("alice");
    s.mkdir(&t, "common-files/big");
    let nodes: Vec<Value> = (0..250)
        .map(|i| json!({"Path": format!("common-files/big/f{i:03}.txt"), "Type": "LEAF"}))
        .collect();
    let (c, _) = s.post("/a/tree/create", &t, json!({"Nodes": nodes}));
    assert_eq!(c, 200);
    s.touch(&t, "common-files/big/.hidden");
    s.mkdir(&t, "common-files/big/sub");
    // Whole listing: folder first, then the children (folders first), no hidden file.
    let all = s.list(&t, &["common-files/big", "common-files/big/*"]);
    assert_eq!(all.len(), 252);
    assert_eq!(all[0]["Path"], "common-files/big");
    assert_eq!(all[1]["Path"], "common-files/big/sub");
    assert!(!names(&all).iter().any(|n| n.contains(".hidden")));
    // The folder is included only when asked for.
    assert_eq!(s.list(&t, &["common-files/big/*"]).len(), 251);
    let (c, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":100,"NodePaths":["common-files/big/*"]}),
    );
    assert_eq!(c, 200);
    assert_eq!(v["Nodes"].as_array().unwrap().len(), 100);
    assert_eq!(
        v["Pagination"],
        json!({"Limit":100,"Total":251,"CurrentPage":1,"TotalPages":3,"NextOffset":100})
    );
    let (_, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":100,"Offset":100,"NodePaths":["common-files/big/*"]}),
    );
    assert_eq!(
        v["Pagination"],
        json!({"Limit":100,"Total":251,"CurrentPage":2,"TotalPages":3,"CurrentOffset":100,"NextOffset":200})
    );
    let (_, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":100,"Offset":200,"NodePaths":["common-files/big/*"]}),
    );
    assert_eq!(v["Nodes"].as_array().unwrap().len(), 51);
    assert_eq!(
        v["Pagination"],
        json!({"Limit":100,"Total":251,"CurrentPage":3,"TotalPages":3,"CurrentOffset":200,"PrevOffset":100})
    );
    // A page that holds everything has no Pagination.
    let (_, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":1000,"NodePaths":["common-files/big/*"]}),
    );
    assert!(v.get("Pagination").is_none());
    // Missing folder for /* → 404; missing plain path → silently omitted.
    let (c, _) = s.post(
        "/a/tree/stats",
        &t,
        json!({"NodePaths":["common-files/nope/*"]}),
    );
    assert_eq!(c, 404);
    let (c, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"NodePaths":["common-files/nope","common-files/welcome.txt"]}),
    );
    assert_eq!(c, 200);
    assert_eq!(
        names(v["Nodes"].as_array().unwrap()),
        vec!["common-files/welcome.txt"]
    );
    // Folder sizes are aggregates; int64 are strings; zero values omitted.
    let f = &all[2];
    assert!(f.get("Size").is_none(), "empty file has no Size: {f}");
    assert_eq!(f["Type"], "LEAF");
}

#[test]
fn large_folder_lists_fast() {
    let root = temp_root("bigdir");
    let dir = root.join("data/common/many");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..25_000 {
        std::fs::write(dir.join(format!("file-{i:05}.txt")), b"x").unwrap();
    }
    let s = Srv::start_on(root, &[], &[]);
    let t = s.token("alice");
    let t0 = Instant::now();
    let all = s.list(&t, &["common-files/many/*"]);
    assert_eq!(all.len(), 25_000);
    let (_, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":100,"Offset":24_900,"NodePaths":["common-files/many/*"]}),
    );
    assert_eq!(v["Nodes"][99]["Path"], "common-files/many/file-24999.txt");
    assert_eq!(v["Pagination"]["Total"], 25_000);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "listing took {:?}",
        t0.elapsed()
    );
}

#[test]
fn create_and_delete_with_recycle_bin() {
    let s = Srv::start("del", &[]);
    let t = s.token("alice");
    let (c, v) = s.post(
        "/a/tree/create",
        &t,
        json!({"Nodes":[{"Path":"common-files/a","Type":"COLLECTION"},{"Path":"common-files/a/b","Type":"COLLECTION"}]}),
    );
    assert_eq!(c, 200);
    assert_eq!(v["Children"].as_array().unwrap().len(), 2);
    s.touch(&t, "common-files/a/b/file.txt");
    // Creating an existing folder is fine; an empty list is refused.
    s.mkdir(&t, "common-files/a");
    assert_eq!(s.post("/a/tree/create", &t, json!({"Nodes":[]})).0, 400);
    // Delete to the recycle bin.
    let (c, v) = s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/a"}]}),
    );
    assert_eq!(c, 200, "{v}");
    let jobs = v["DeleteJobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let id = jobs[0]["Uuid"].as_str().unwrap();
    assert!(id.starts_with("copy-move-"));
    assert_ne!(s.wait_job(&t, id), "Error");
    assert_eq!(s.stat(&t, "common-files/a").0, 404);
    assert_eq!(s.stat(&t, "common-files/recycle_bin/a/b/file.txt").0, 200);
    // Same name again goes next to it.
    s.mkdir(&t, "common-files/a");
    s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/a"}]}),
    );
    assert_eq!(s.stat(&t, "common-files/recycle_bin/a-1").0, 200);
    // Deleting from the recycle bin is permanent.
    let (_, v) = s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/recycle_bin/a"}]}),
    );
    assert!(v["DeleteJobs"][0]["Uuid"]
        .as_str()
        .unwrap()
        .starts_with("delete-"));
    assert_eq!(s.stat(&t, "common-files/recycle_bin/a").0, 404);
    assert!(!s.root.join("data/common/recycle_bin/a").exists());
    // Permanent delete + recycle in one call: two jobs.
    s.touch(&t, "common-files/p.txt");
    s.touch(&t, "personal-files/q.txt");
    let (_, v) = s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/p.txt"}],"RemovePermanently":true}),
    );
    assert!(v["DeleteJobs"][0]["Uuid"]
        .as_str()
        .unwrap()
        .starts_with("delete-"));
    assert!(!s.root.join("data/common/p.txt").exists());
    let (_, v) = s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"personal-files/q.txt"}]}),
    );
    assert_eq!(v["DeleteJobs"].as_array().unwrap().len(), 1);
    assert_eq!(s.stat(&t, "personal-files/recycle_bin/q.txt").0, 200);
    // Refusals.
    assert_eq!(
        s.post(
            "/a/tree/delete",
            &t,
            json!({"Nodes":[{"Path":"common-files"}]})
        )
        .0,
        403
    );
    assert_eq!(
        s.post(
            "/a/tree/delete",
            &t,
            json!({"Nodes":[{"Path":"common-files/none"}]})
        )
        .0,
        404
    );
    let bob = s.token("bob");
    assert_eq!(
        s.post(
            "/a/tree/delete",
            &bob,
            json!({"Nodes":[{"Path":"team-cell/x"}]})
        )
        .0,
        403
    );
}

#[test]
fn job_lifecycle_copy_move_resync() {
    let s = Srv::start("jobs", &["--job-delay-ms", "300"]);
    let t = s.token("alice");
    s.mkdir(&t, "common-files/dst");
    s.mkdir(&t, "common-files/src/inner");
    s.touch(&t, "common-files/src/inner/f.txt");
    let params =
        json!({"target":"common-files/dst","nodes":["common-files/src"],"targetParent":true})
            .to_string();
    let (c, v) = s.call(
        "PUT",
        "/a/jobs/user/copy",
        Some(&t),
        Some(json!({"JsonParameters": params})),
    );
    assert_eq!(c, 200, "{v}");
    let id = v["JobUuid"].as_str().unwrap().to_string();
    let j = s.job(&t, &id).unwrap();
    assert_eq!(j["Owner"], "alice");
    assert_eq!(j["AutoClean"], true);
    assert_eq!(j["Tasks"][0]["Status"], "Queued");
    assert_eq!(j["Tasks"][0]["JobID"], id.as_str());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(s.job(&t, &id).unwrap()["Tasks"][0]["Status"], "Running");
    assert_eq!(s.wait_job(&t, &id), "Finished");
    let j = s.job(&t, &id).unwrap();
    assert_eq!(j["Tasks"][0]["Progress"], 1.0);
    assert!(j["Tasks"][0]["EndTime"].as_i64().unwrap() > 0);
    assert_eq!(s.stat(&t, "common-files/dst/src/inner/f.txt").0, 200);
    assert_eq!(s.stat(&t, "common-files/src/inner/f.txt").0, 200);
    // Without LoadTasks, no tasks.
    let (_, v) = s.post("/a/jobs/user", &t, json!({"JobIDs":[id]}));
    assert!(v["Jobs"][0].get("Tasks").is_none());
    // Auto-clean removes successful jobs.
    std::thread::sleep(Duration::from_millis(2300));
    assert!(s.job(&t, &id).is_none());

    // Move (rename) keeps the uuid.
    let uuid = s.stat(&t, "common-files/src/inner/f.txt").1["Node"]["Uuid"].clone();
    let params = json!({"target":"common-files/renamed.txt","nodes":["common-files/src/inner/f.txt"],"targetParent":false}).to_string();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/move",
        Some(&t),
        Some(json!({"JsonParameters": params})),
    );
    assert_eq!(s.wait_job(&t, v["JobUuid"].as_str().unwrap()), "Finished");
    assert_eq!(
        s.stat(&t, "common-files/renamed.txt").1["Node"]["Uuid"],
        uuid
    );
    assert_eq!(s.stat(&t, "common-files/src/inner/f.txt").0, 404);

    // A failing job ends in Error and stays.
    let params =
        json!({"target":"common-files/dst","nodes":["common-files/missing"],"targetParent":true})
            .to_string();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/copy",
        Some(&t),
        Some(json!({"JsonParameters": params})),
    );
    let bad = v["JobUuid"].as_str().unwrap().to_string();
    assert_eq!(s.wait_job(&t, &bad), "Error");
    assert!(s.job(&t, &bad).unwrap()["Tasks"][0]["StatusMessage"]
        .as_str()
        .unwrap()
        .contains("missing"));

    // Owner "*" is honoured for admins only.
    let bob = s.token("bob");
    let (_, v) = s.post("/a/jobs/user", &bob, json!({"Owner":"*","LoadTasks":"Any"}));
    assert!(v.get("Jobs").is_none(), "{v}");
    let admin = s.token("admin");
    let (_, v) = s.post(
        "/a/jobs/user",
        &admin,
        json!({"Owner":"*","LoadTasks":"Any","TasksLimit":100}),
    );
    assert!(v["Jobs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["ID"] == bad.as_str()));
    // Enterprise DeleteJob.
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/a/scheduler/jobs/{bad}"),
            Some(&bob),
            None
        )
        .0,
        403
    );
    let (c, v) = s.call(
        "DELETE",
        &format!("/a/scheduler/jobs/{bad}"),
        Some(&t),
        None,
    );
    assert_eq!(c, 200);
    assert_eq!(v, json!({"Success":true,"DeleteCount":1}));
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/a/scheduler/jobs/{bad}"),
            Some(&t),
            None
        )
        .0,
        404
    );

    // Datasource resync picks up files written behind the server's back.
    std::fs::write(s.root.join("data/common/outside.txt"), b"hello").unwrap();
    assert_eq!(s.stat(&admin, "common-files/outside.txt").0, 404);
    let (c, v) = s.call(
        "PUT",
        "/a/jobs/user/datasource-resync",
        Some(&admin),
        Some(json!({"JsonParameters":"{\"dsName\":\"common\"}"})),
    );
    assert_eq!(c, 200);
    assert_eq!(
        s.wait_job(&admin, v["JobUuid"].as_str().unwrap()),
        "Finished"
    );
    assert_eq!(s.stat(&admin, "common-files/outside.txt").0, 200);
    // Copy onto an existing name gets a new name.
    let params =
        json!({"target":"common-files","nodes":["common-files/outside.txt"],"targetParent":true})
            .to_string();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/copy",
        Some(&admin),
        Some(json!({"JsonParameters": params})),
    );
    assert_eq!(
        s.wait_job(&admin, v["JobUuid"].as_str().unwrap()),
        "Finished"
    );
    assert_eq!(s.stat(&admin, "common-files/outside-1.txt").0, 200);
}

#[test]
fn share_links() {
    let s = Srv::start("share", &[]);
    let t = s.token("alice");
    let uuid = s.stat(&t, "common-files/welcome.txt").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (c, v) = s.call(
        "PUT",
        "/a/share/link",
        Some(&t),
        Some(json!({"ShareLink":{"Label":"welcome.txt","RootNodes":[{"Uuid": uuid}],
            "Permissions":["Download","Preview"],"ViewTemplateName":"pydio_shared_folder","PoliciesContextEditable":true}})),
    );
    assert_eq!(c, 200, "{v}");
    let hash = v["LinkHash"].as_str().unwrap();
    assert_eq!(v["LinkUrl"], format!("/public/{hash}"));
    assert_eq!(v["RootNodes"][0]["Path"], "common-files/welcome.txt");
    assert!(v.get("PasswordRequired").is_none());
    let link = v["Uuid"].as_str().unwrap().to_string();
    assert_eq!(s.raw("GET", &format!("/public/{hash}"), None, None).0, 200);
    // Password, expiry and download limit.
    let (c, v) = s.call(
        "PUT",
        "/a/share/link",
        Some(&t),
        Some(json!({"ShareLink":{"Uuid": link,"Label":"w","RootNodes":[{"Uuid": uuid}],"AccessEnd":"1900000000","MaxDownloads":"3"},
            "PasswordEnabled":true,"CreatePassword":"s3cret","UpdateCustomHash":"my-link"})),
    );
    assert_eq!(c, 200, "{v}");
    assert_eq!(v["PasswordRequired"], true);
    assert_eq!(v["AccessEnd"], "1900000000");
    assert_eq!(v["MaxDownloads"], "3");
    assert_eq!(v["LinkUrl"], "/public/my-link");
    assert!(!v.to_string().contains("s3cret"));
    let (c, v) = s.call("GET", &format!("/a/share/link/{link}"), Some(&t), None);
    assert_eq!((c, v["Label"].clone()), (200, json!("w")));
    let bob = s.token("bob");
    assert_eq!(
        s.call("GET", &format!("/a/share/link/{link}"), Some(&bob), None)
            .0,
        403
    );
    // bob cannot share alice's personal file.
    s.touch(&t, "personal-files/mine.txt");
    let mine = s.stat(&t, "personal-files/mine.txt").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (c, _) = s.call(
        "PUT",
        "/a/share/link",
        Some(&bob),
        Some(json!({"ShareLink":{"RootNodes":[{"Uuid": mine}]}})),
    );
    assert_eq!(c, 404);
    let (c, v) = s.call("DELETE", &format!("/a/share/link/{link}"), Some(&t), None);
    assert_eq!((c, v), (200, json!({"Success":true})));
    assert_eq!(
        s.call("GET", &format!("/a/share/link/{link}"), Some(&t), None)
            .0,
        404
    );
}

#[test]
fn idm_users_roles_workspaces_acls_datasources() {
    let s = Srv::start("idm", &[]);
    let a = s.token("admin");
    let (_, v) = s.post("/a/user", &a, json!({"Queries":[{"Login":"*"}]}));
    let logins: Vec<&str> = v["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, vec!["admin", "alice", "bob"]);
    assert_eq!(v["Groups"][0]["GroupLabel"], "engineering");
    assert_eq!(v["Total"], 4);
    let (_, v) = s.post(
        "/a/user",
        &a,
        json!({"Queries":[{"Login":"al*"}],"Limit":"10","Offset":"0"}),
    );
    assert_eq!(v["Users"].as_array().unwrap().len(), 1);
    let (_, v) = s.post("/a/role", &a, json!({}));
    assert!(v["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Uuid"] == "ROOT_GROUP" && r["GroupRole"] == true));
    assert!(v["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["UserRole"] == true));
    let (_, v) = s.post("/a/workspace", &a, json!({"CountOnly":true}));
    let ws = v["Workspaces"].as_array().unwrap();
    assert_eq!(ws.len(), 3);
    assert!(ws
        .iter()
        .any(|w| w["Slug"] == "team-cell" && w["Scope"] == "ROOM" && w["UUID"].is_string()));
    // ACLs of the common-files root, then delete one.
    let node = s.stat(&a, "common-files").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, v) = s.post("/a/acl", &a, json!({"Queries":[{"NodeIDs":[node]}]}));
    let acls = v["ACLs"].as_array().unwrap().clone();
    assert_eq!(acls.len(), 2, "{v}");
    let (c, v) = s.post("/a/acl/bulk/delete", &a, acls[0].clone());
    assert_eq!(c, 200, "{v}");
    assert_eq!(v, json!({"Success":true,"NumRows":"1"}));
    let (_, v) = s.post("/a/acl", &a, json!({"Queries":[{"NodeIDs":[node]}]}));
    assert_eq!(v["ACLs"].as_array().unwrap().len(), 1);
    let (_, v) = s.call("GET", "/a/config/datasource", Some(&a), None);
    let ds: Vec<&str> = v["DataSources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Name"].as_str().unwrap())
        .collect();
    assert_eq!(ds, vec!["personal", "common", "cells", "archive"]);
    // Deleted ACLs stay deleted after a restart.
    let root = s.stop();
    let s = Srv::start_on(root, &[], &[]);
    let (_, v) = s.post("/a/acl", &a, json!({"Queries":[{"NodeIDs":[node]}]}));
    assert_eq!(v["ACLs"].as_array().unwrap().len(), 1);
}

#[test]
fn seeded_users_editions_and_system_jobs() {
    let s = Srv::start("admin", &["--seed-users", "2500", "--edition", "community"]);
    let a = s.token("admin");
    // Users page over the whole set (3 accounts + 2500 seeded), groups apart; pages are
    // capped at 500 items (100 without Limit).
    let mut logins: Vec<String> = Vec::new();
    while logins.len() < 2503 {
        let (c, v) = s.post(
            "/a/user",
            &a,
            json!({"Queries":[{"Login":"*","NodeType":"USER"}],"Offset": logins.len().to_string(),"Limit":"1000"}),
        );
        assert_eq!(c, 200, "{v}");
        assert_eq!(v["Total"], 2503);
        assert!(v.get("Groups").is_none(), "{v}");
        let page = v["Users"].as_array().cloned().unwrap_or_default();
        assert_eq!(page.len(), 500.min(2503 - logins.len()));
        logins.extend(
            page.iter()
                .map(|u| u["Login"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(logins[3], "user00001");
    let (_, v) = s.post("/a/user", &a, json!({}));
    assert_eq!(v["Users"].as_array().unwrap().len() + 1, 100);
    let (_, v) = s.post("/a/user", &a, json!({"Queries":[{"NodeType":"GROUP"}]}));
    assert_eq!(v["Groups"][0]["GroupLabel"], "engineering");
    assert!(v.get("Users").is_none());
    let (_, v) = s.post("/a/role", &a, json!({"Limit":"10","Offset":"2500"}));
    assert_eq!(v["Total"], 2503 + 4);
    assert_eq!(v["Roles"].as_array().unwrap().len(), 7);
    // Community edition: no Enterprise job deletion, Home in bootconf.
    let (c, _) = s.call("DELETE", "/a/scheduler/jobs/thumbs-job", Some(&a), None);
    assert_eq!(c, 404);
    let (_, v) = s.call("GET", "/a/frontend/bootconf", Some(&a), None);
    assert_eq!(v["backend"]["PackageType"], "PydioHome");
    // Seeded system jobs with their past runs; TasksLimit keeps the most recent tasks.
    let (_, v) = s.post(
        "/a/jobs/user",
        &a,
        json!({"Owner":"*","LoadTasks":"Any","TasksLimit":100}),
    );
    let thumbs = v["Jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["ID"] == "thumbs-job")
        .cloned()
        .unwrap();
    assert_eq!(thumbs["Owner"], "pydio.system.user");
    let st: Vec<&str> = thumbs["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Status"].as_str().unwrap())
        .collect();
    assert_eq!(st, vec!["Finished", "Finished", "Error"]);
    let (_, v) = s.post(
        "/a/jobs/user",
        &a,
        json!({"JobIDs":["thumbs-job"],"Owner":"*","LoadTasks":"Any","TasksLimit":1}),
    );
    assert_eq!(v["Jobs"][0]["Tasks"].as_array().unwrap().len(), 1);
    assert_eq!(v["Jobs"][0]["Tasks"][0]["Status"], "Error");
    // Alice sees her own jobs only.
    let (_, v) = s.post(
        "/a/jobs/user",
        &s.token("alice"),
        json!({"Owner":"*","LoadTasks":"Any"}),
    );
    let ids: Vec<&str> = v["Jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["ID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["alice-export-job"]);
    // The S3 datasource cannot be reached: its resync fails.
    let (c, v) = s.call(
        "PUT",
        "/a/jobs/user/datasource-resync",
        Some(&a),
        Some(json!({"JsonParameters":"{\"dsName\":\"archive\"}"})),
    );
    assert_eq!(c, 200, "{v}");
    assert_eq!(s.wait_job(&a, v["JobUuid"].as_str().unwrap()), "Error");
}

#[test]
fn user_metas() {
    let s = Srv::start("meta", &[]);
    let t = s.token("alice");
    let (c, v) = s.call("GET", "/a/user-meta/namespace", Some(&t), None);
    assert_eq!(c, 200);
    let ns = v["Namespaces"].as_array().unwrap();
    assert!(ns.iter().any(|n| n["Namespace"] == "usermeta-tags"
        && n["JsonDefinition"].as_str().unwrap().contains("tags")));
    let uuid = s.stat(&t, "common-files/welcome.txt").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (c, v) = s.call(
        "PUT",
        "/a/user-meta/update",
        Some(&t),
        Some(json!({"Operation":"PUT","MetaDatas":[{"Namespace":"usermeta-tags","NodeUuid": uuid,"JsonValue":"\"a,b\""}]})),
    );
    assert_eq!(c, 200, "{v}");
    assert_eq!(v["MetaDatas"][0]["JsonValue"], "\"a,b\"");
    let (_, v) = s.post(
        "/a/meta/bulk/get",
        &t,
        json!({"NodePaths":["common-files/welcome.txt"],"AllMetaProviders":true}),
    );
    assert_eq!(v["Nodes"][0]["MetaStore"]["usermeta-tags"], "\"a,b\"");
    // Unknown namespace / node.
    let (c, _) = s.call(
        "PUT",
        "/a/user-meta/update",
        Some(&t),
        Some(json!({"MetaDatas":[{"Namespace":"usermeta-nope","NodeUuid": uuid,"JsonValue":"1"}]})),
    );
    assert_eq!(c, 404);
    let (c, _) = s.call(
        "PUT",
        "/a/user-meta/update",
        Some(&t),
        Some(
            json!({"MetaDatas":[{"Namespace":"usermeta-tags","NodeUuid":"nope","JsonValue":"1"}]}),
        ),
    );
    assert_eq!(c, 404);
    // bob cannot edit metas of alice's personal files.
    s.touch(&t, "personal-files/p.txt");
    let p = s.stat(&t, "personal-files/p.txt").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = s.token("bob");
    let (c, _) = s.call(
        "PUT",
        "/a/user-meta/update",
        Some(&bob),
        Some(
            json!({"MetaDatas":[{"Namespace":"usermeta-tags","NodeUuid": p,"JsonValue":"\"x\""}]}),
        ),
    );
    assert_eq!(c, 403);
    // DELETE removes it.
    let (c, _) = s.call("PUT", "/a/user-meta/update", Some(&t),
        Some(json!({"Operation":"DELETE","MetaDatas":[{"Namespace":"usermeta-tags","NodeUuid": uuid}]})));
    assert_eq!(c, 200);
    let (_, v) = s.stat(&t, "common-files/welcome.txt");
    assert!(v["Node"]["MetaStore"].get("usermeta-tags").is_none());
}

#[test]
fn restart_keeps_everything() {
    let s = Srv::start("restart", &[]);
    let t = s.token("alice");
    s.mkdir(&t, "common-files/keep");
    s.touch(&t, "common-files/keep/f.txt");
    let uuid = s.stat(&t, "common-files/keep/f.txt").1["Node"]["Uuid"].clone();
    let wuuid = s.stat(&t, "common-files").1["Node"]["Uuid"].clone();
    s.call("PUT", "/a/user-meta/update", Some(&t),
        Some(json!({"MetaDatas":[{"Namespace":"usermeta-comment","NodeUuid": uuid,"JsonValue":"\"hi\""}]})));
    let (_, link) = s.call(
        "PUT",
        "/a/share/link",
        Some(&t),
        Some(json!({"ShareLink":{"RootNodes":[{"Uuid": uuid}]}})),
    );
    s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/welcome.txt"}]}),
    );
    let root = s.stop(); // SIGKILL: the journal must be enough.
    let s = Srv::start_on(root, &[], &[]);
    assert_eq!(
        s.stat(&t, "common-files/keep/f.txt").1["Node"]["Uuid"],
        uuid,
        "token and uuid survive"
    );
    assert_eq!(s.stat(&t, "common-files").1["Node"]["Uuid"], wuuid);
    assert_eq!(
        s.stat(&t, "common-files/keep/f.txt").1["Node"]["MetaStore"]["usermeta-comment"],
        "\"hi\""
    );
    assert_eq!(
        s.call(
            "GET",
            &format!("/a/share/link/{}", link["Uuid"].as_str().unwrap()),
            Some(&t),
            None
        )
        .0,
        200
    );
    assert_eq!(
        s.stat(&t, "common-files/welcome.txt").0,
        404,
        "seed not recreated"
    );
    assert_eq!(s.stat(&t, "common-files/recycle_bin/welcome.txt").0, 200);
}

#[test]
fn index_delay_hides_new_nodes() {
    let s = Srv::start("delay", &["--index-delay-ms", "600"]);
    let t = s.token("alice");
    s.mkdir(&t, "common-files/slow");
    assert_eq!(s.stat(&t, "common-files/slow").0, 404);
    assert!(!names(&s.list(&t, &["common-files/*"])).contains(&"common-files/slow".to_string()));
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(s.stat(&t, "common-files/slow").0, 200);
}

#[test]
fn fail_rate_latency_and_tls_knobs() {
    let s = Srv::start("fail", &["--fail-rate", "1", "--latency-ms", "100"]);
    let t = s.token("alice");
    let t0 = Instant::now();
    let (c, v) = s.stat(&t, "common-files");
    assert!(t0.elapsed() >= Duration::from_millis(100));
    assert!(c == 503 || c == 500, "{c}");
    assert!(v["Title"].is_string());
    let (c, body) = s.raw("GET", "/io/common-files/welcome.txt", None, None);
    assert!(c == 503 || c == 500);
    assert!(
        body.contains("<Code>SlowDown</Code>") || body.contains("<Code>InternalError</Code>"),
        "{body}"
    );
    // Half the requests fail, deterministically for a given seed.
    let run = || {
        let s = Srv::start("fail-half", &["--fail-rate", "0.5", "--seed", "7"]);
        let t = s.token("alice");
        (0..20)
            .map(|_| s.stat(&t, "common-files").0)
            .collect::<Vec<u16>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.contains(&200) && a.iter().any(|c| *c != 200));

    let tls = Srv::start("tls", &["--tls"]);
    assert!(tls.url.starts_with("https://127.0.0.1:"), "{}", tls.url);
    assert!(std::fs::read_to_string(tls.root.join("ca.pem"))
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
}

// ------------------------------------------------------------------ spec conformance

/// The official spec (`tests/spec/cells-rest.swagger.json` in cec's repository), or `CEC_SPEC`.
fn spec() -> Option<Value> {
    let p = std::env::var("CEC_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/cells-rest.swagger.json")
        });
    let text = std::fs::read_to_string(&p).ok()?;
    serde_json::from_str(&text).ok()
}

/// Strict check of a response against a definition: only declared fields, protojson types
/// (int64 as strings, int32 as numbers, enum names), no nulls.
fn conforms(spec: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => &spec["definitions"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    if let Some(en) = schema.get("enum").and_then(|e| e.as_array()) {
        if !en.contains(v) {
            errs.push(format!("{at}: {v} not in enum"));
        }
        return;
    }
    let ty = schema
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("object");
    let fmt = schema.get("format").and_then(|t| t.as_str()).unwrap_or("");
    match (ty, v) {
        ("object", Value::Object(m)) => {
            if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
                for (k, fv) in m {
                    match props.get(k) {
                        Some(fs) => conforms(spec, fs, fv, &format!("{at}.{k}"), errs),
                        None => errs.push(format!("{at}: undeclared field {k}")),
                    }
                }
            } else if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (k, fv) in m {
                    conforms(spec, ap, fv, &format!("{at}[{k}]"), errs);
                }
            }
        }
        ("array", Value::Array(a)) => {
            for (i, it) in a.iter().enumerate() {
                conforms(spec, &schema["items"], it, &format!("{at}[{i}]"), errs);
            }
        }
        ("string", Value::String(s)) if fmt == "int64" || fmt == "uint64" => {
            if s.parse::<i64>().is_err() {
                errs.push(format!("{at}: {s} is not an int64 string"));
            }
        }
        ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("number", Value::Number(_)) => {}
        ("integer", Value::Number(n)) if n.is_i64() => {}
        _ => errs.push(format!("{at}: {v} is not a {ty}/{fmt}")),
    }
}

fn check(spec: &Option<Value>, def: &str, v: &Value) {
    let Some(spec) = spec else { return };
    let mut errs = Vec::new();
    conforms(
        spec,
        &json!({"$ref": format!("#/definitions/{def}")}),
        v,
        def,
        &mut errs,
    );
    assert!(errs.is_empty(), "{def} violations: {errs:?}\nin {v}");
}

#[test]
fn responses_conform_to_the_spec() {
    let spec = spec();
    if spec.is_none() {
        eprintln!("official spec not found (tests/spec or CEC_SPEC): conformance checks skipped");
    }
    let s = Srv::start("spec", &["--job-delay-ms", "50"]);
    let (a, t) = (s.token("admin"), s.token("alice"));
    let (_, v) = s.stat(&t, "common-files/welcome.txt");
    check(&spec, "restHeadNodeResponse", &v);
    let (_, v) = s.post("/a/meta/bulk/get", &t, json!({"NodePaths":["","/*"]}));
    check(&spec, "restBulkMetaResponse", &v);
    let (_, v) = s.post("/a/tree/create", &t, json!({"Nodes":[{"Path":"common-files/d","Type":"COLLECTION"},{"Path":"common-files/d/e.txt","Type":"LEAF"}]}));
    check(&spec, "restNodesCollection", &v);
    let (_, v) = s.post(
        "/a/tree/stats",
        &t,
        json!({"Limit":1,"Offset":1,"NodePaths":["common-files","common-files/*"]}),
    );
    check(&spec, "restBulkMetaResponse", &v);
    assert!(v["Pagination"].is_object());
    let (_, v) = s.call("PUT", "/a/jobs/user/copy", Some(&t),
        Some(json!({"JsonParameters": json!({"target":"common-files/d","nodes":["common-files/welcome.txt"],"targetParent":true}).to_string()})));
    check(&spec, "restUserJobResponse", &v);
    let id = v["JobUuid"].as_str().unwrap().to_string();
    let (_, v) = s.post("/a/jobs/user", &t, json!({"JobIDs":[id],"LoadTasks":"Any"}));
    check(&spec, "restUserJobsCollection", &v);
    s.wait_job(&t, &id);
    let (_, v) = s.post(
        "/a/jobs/user",
        &a,
        json!({"Owner":"*","LoadTasks":"Any","TasksLimit":100}),
    );
    check(&spec, "restUserJobsCollection", &v);
    let (_, v) = s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"common-files/d"}]}),
    );
    check(&spec, "restDeleteNodesResponse", &v);
    let uuid = s.stat(&t, "common-files/welcome.txt").1["Node"]["Uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, v) = s.call("PUT", "/a/share/link", Some(&t), Some(json!({"ShareLink":{"Label":"w","RootNodes":[{"Uuid": uuid}],
        "Permissions":["Download","Preview"],"ViewTemplateName":"pydio_shared_folder","PoliciesContextEditable":true,
        "MaxDownloads":"2","TargetUsers":{"bob":{"Display":"Bob","DownloadCount":1}}},"PasswordEnabled":true,"CreatePassword":"x"})));
    check(&spec, "restShareLink", &v);
    let (_, v) = s.call(
        "DELETE",
        &format!("/a/share/link/{}", v["Uuid"].as_str().unwrap()),
        Some(&t),
        None,
    );
    check(&spec, "restDeleteShareLinkResponse", &v);
    let (_, v) = s.post("/a/user", &a, json!({"Queries":[{"Login":"*"}]}));
    check(&spec, "restUsersCollection", &v);
    let (_, v) = s.post("/a/role", &a, json!({}));
    check(&spec, "restRolesCollection", &v);
    let (_, v) = s.post("/a/workspace", &a, json!({"CountOnly":true}));
    check(&spec, "restWorkspaceCollection", &v);
    let (_, v) = s.post("/a/acl", &a, json!({}));
    check(&spec, "restACLCollection", &v);
    let acl = v["ACLs"][0].clone();
    let (_, v) = s.post("/a/acl/bulk/delete", &a, acl);
    check(&spec, "restDeleteResponse", &v);
    let (_, v) = s.call("GET", "/a/config/datasource", Some(&a), None);
    check(&spec, "restDataSourceCollection", &v);
    let (_, v) = s.call("GET", "/a/user-meta/namespace", Some(&t), None);
    check(&spec, "restUserMetaNamespaceCollection", &v);
    let (_, v) = s.call("PUT", "/a/user-meta/update", Some(&t),
        Some(json!({"Operation":"PUT","MetaDatas":[{"Namespace":"usermeta-tags","NodeUuid": uuid,"JsonValue":"\"a\""}]})));
    check(&spec, "idmUpdateUserMetaResponse", &v);
    let (_, v) = s.call(
        "POST",
        "/a/frontend/session",
        None,
        Some(json!({"AuthInfo":{"login":"alice","password":"alice123","type":"credentials"}})),
    );
    check(&spec, "restFrontSessionResponse", &v);
    for (m, p, b) in [
        ("GET", "/a/tree/stat/common-files%2Fnope", None),
        ("POST", "/a/config/datasource", None),
        ("POST", "/a/tree/stats", Some(json!({"Nope":1}))),
    ] {
        let (c, v) = s.call(m, p, Some(&t), b);
        assert!(c >= 400);
        check(&spec, "restError", &v);
    }
}

#[test]
fn drop_after_bytes_cuts_s3_bodies() {
    let s = Srv::start("drop", &["--drop-after-bytes", "10"]);
    // Unsigned request: the S3 front answers an XML error longer than 10 bytes, which the
    // knob cuts, aborting the connection.
    let res = ureq::get(&format!("{}/io/common-files/welcome.txt", s.url)).call();
    let cut = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let mut buf = Vec::new();
            let read = std::io::Read::read_to_end(&mut r.into_reader(), &mut buf);
            read.is_err() || buf.len() <= 10
        }
        Err(_) => true,
    };
    assert!(cut, "the response body was not cut");
    // REST is not affected.
    let t = s.token("alice");
    assert_eq!(s.stat(&t, "common-files/welcome.txt").0, 200);
}

#[test]
fn folder_sizes_are_cumulated() {
    let root = temp_root("sizes");
    std::fs::create_dir_all(root.join("data/common/top/sub")).unwrap();
    std::fs::write(root.join("data/common/top/a.bin"), vec![1u8; 1000]).unwrap();
    std::fs::write(root.join("data/common/top/sub/b.bin"), vec![2u8; 500]).unwrap();
    let s = Srv::start_on(root, &[], &[]);
    let t = s.token("admin");
    let size = |p: &str| -> u64 {
        let (c, v) = s.stat(&t, p);
        assert_eq!(c, 200, "{p}: {v}");
        v["Node"]["Size"]
            .as_str()
            .map(|x| x.parse().unwrap())
            .unwrap_or(0)
    };
    let welcome = size("common-files/welcome.txt");
    assert_eq!(size("common-files/top"), 1500);
    assert_eq!(size("common-files/top/sub"), 500);
    assert_eq!(size("common-files"), 1500 + welcome);
    // copy sub into top/sub (as sub-1? no: into top) then move, delete.
    let p = json!({"target":"common-files","nodes":["common-files/top/sub"],"targetParent":true})
        .to_string();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/copy",
        Some(&t),
        Some(json!({"JsonParameters": p})),
    );
    assert_eq!(s.wait_job(&t, v["JobUuid"].as_str().unwrap()), "Finished");
    assert_eq!(size("common-files"), 2000 + welcome);
    let p =
        json!({"target":"personal-files/moved","nodes":["common-files/top"],"targetParent":false})
            .to_string();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/move",
        Some(&t),
        Some(json!({"JsonParameters": p})),
    );
    assert_eq!(s.wait_job(&t, v["JobUuid"].as_str().unwrap()), "Finished");
    assert_eq!(size("common-files"), 500 + welcome);
    assert_eq!(size("personal-files"), 1500);
    s.post(
        "/a/tree/delete",
        &t,
        json!({"Nodes":[{"Path":"personal-files/moved/a.bin"}],"RemovePermanently":true}),
    );
    assert_eq!(size("personal-files/moved"), 500);
    assert_eq!(size("personal-files"), 500);
    // Resync sees a file grown on disk.
    std::fs::write(
        s.root.join("data/personal/admin/moved/sub/b.bin"),
        vec![3u8; 800],
    )
    .unwrap();
    let (_, v) = s.call(
        "PUT",
        "/a/jobs/user/datasource-resync",
        Some(&t),
        Some(json!({"JsonParameters":"{\"dsName\":\"personal\"}"})),
    );
    assert_eq!(s.wait_job(&t, v["JobUuid"].as_str().unwrap()), "Finished");
    assert_eq!(size("personal-files"), 800);
    // And after a restart.
    let root = s.stop();
    let s = Srv::start_on(root, &[], &[]);
    let (_, v) = s.stat(&t, "personal-files");
    assert_eq!(v["Node"]["Size"], "800");
}

#[test]
fn block_hash_of_multi_block_files() {
    let root = temp_root("hash");
    std::fs::create_dir_all(root.join("data/common")).unwrap();
    let mib10 = 10 * 1024 * 1024;
    let data: Vec<u8> = (0..mib10 + 1).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("data/common/exact.bin"), &data[..mib10]).unwrap();
    std::fs::write(root.join("data/common/plus1.bin"), &data).unwrap();
    std::fs::write(root.join("data/common/empty.bin"), b"").unwrap();
    let s = Srv::start_on(root, &[], &[]);
    let t = s.token("alice");
    for (name, bytes) in [
        ("exact.bin", &data[..mib10]),
        ("plus1.bin", &data[..]),
        ("empty.bin", &data[..0]),
    ] {
        let (_, v) = s.stat(&t, &format!("common-files/{name}"));
        let want = block_hash(bytes);
        assert_eq!(
            v["Node"]["MetaStore"]["x-cells-hash"],
            format!("\"{want}\""),
            "{name}"
        );
        assert_eq!(v["Node"]["Etag"], want.as_str());
    }
    // md5(md5("")) for the empty file.
    let (_, v) = s.stat(&t, "common-files/empty.bin");
    assert_eq!(v["Node"]["Etag"], "59adb24ef3cdbe0297f05b395827453f");
}
