//! A 25,000-entry folder is listed completely (ls paging) and a wildcard over
//! it sees every child. Separate binary: it is the slowest remote test.

use crate::common::Server;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const N: usize = 25_000;

fn rest(s: &Server, method: &str, path: &str, body: Value) -> (u16, String) {
    let url = format!("{}{}", s.url, path);
    match ureq::request(method, &url)
        .timeout(Duration::from_secs(300))
        .set("Authorization", &s.bearer("admin"))
        .send_json(body)
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

#[test]
fn ls_lists_25000_entries() {
    let s = Server::shared();
    let dir = "common-files/big25k";
    let (code, body) = rest(
        s,
        "POST",
        "/a/tree/create",
        serde_json::json!({"Nodes":[{"Path": dir, "Type":"COLLECTION"}]}),
    );
    assert_eq!(code, 200, "{body}");
    let names: Vec<String> = (0..N).map(|i| format!("f{i:05}.txt")).collect();
    for chunk in names.chunks(1000) {
        let nodes: Vec<Value> = chunk
            .iter()
            .map(|n| serde_json::json!({"Path": format!("{dir}/{n}"), "Type": "LEAF"}))
            .collect();
        let (code, body) = rest(
            s,
            "POST",
            "/a/tree/create",
            serde_json::json!({"Nodes": nodes}),
        );
        assert_eq!(code, 200, "{body}");
    }

    let out = s
        .cec_as("admin")
        .args(["ls", "--raw", dir])
        .timeout(Duration::from_secs(600))
        .run();
    out.assert_ok();
    let got: BTreeSet<&str> = out.stdout_lines().into_iter().collect();
    assert_eq!(got.len(), N, "ls --raw listed {} entries", got.len());
    assert!(got.contains(format!("{dir}/f24999.txt").as_str()));

    let out = s
        .cec_as("admin")
        .args(["ls", "--json", dir])
        .timeout(Duration::from_secs(600))
        .run();
    out.assert_ok();
    let uuids: BTreeSet<String> = out
        .stdout_lines()
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["uuid"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(uuids.len(), N, "distinct entries in ls --json");

    // the default (plain) listing has the "." row plus every child
    let out = s
        .cec_as("admin")
        .args(["ls", dir])
        .timeout(Duration::from_secs(600))
        .run();
    out.assert_ok();
    assert_eq!(out.stdout_lines().len(), N + 1);

    // a wildcard sees every child too (paged): delete them all
    let out = s
        .cec_as("admin")
        .args(["rm", "-f", "--permanently", &format!("{dir}/*")])
        .timeout(Duration::from_secs(900))
        .run();
    out.assert_ok();
    assert!(out.stderr.contains(&format!("Deleted {N} items")), "{out}");
    let out = s.cec_as("admin").args(["ls", "--raw", dir]).run();
    out.assert_ok();
    assert_eq!(out.stdout, "", "folder should be empty");
}
