//! Helpers shared by the sync_* and scp_stream* tests (on top of tests/common and
//! tests/scp_common).

use crate::common::{Out, Server};
use crate::scp_common::cec;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// `cec sync ARGS...` as admin, with the given state directory (journals, locks).
pub fn sync(srv: &Server, state: &Path, args: &[&str]) -> Out {
    let mut c = cec(srv, "admin");
    c.env("CEC_STATE_DIR", state).arg("sync").args(args).run()
}

/// The dev server's request counters (`GET /devserver/requests`), by kind.
pub fn requests(srv: &Server) -> BTreeMap<String, u64> {
    let v = crate::scp_common::get_json(srv, "/devserver/requests");
    v["by"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

/// What was asked between two counts (kinds with zero left out).
pub fn delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Set a file's modification time to `secs` from now (negative: in the past).
pub fn set_mtime(p: &Path, secs: i64) {
    let now = SystemTime::now();
    let t = if secs >= 0 {
        now + Duration::from_secs(secs as u64)
    } else {
        now - Duration::from_secs((-secs) as u64)
    };
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// A tree of `folders` folders (`d0`…) holding `per` small files each (`f0.txt`…),
/// plus `top.txt`; files get a time in the past (before any upload).
pub fn make_tree(root: &Path, folders: usize, per: usize) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("top.txt"), b"top").unwrap();
    set_mtime(&root.join("top.txt"), -3600);
    for d in 0..folders {
        let dir = root.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..per {
            let p = dir.join(format!("f{f}.txt"));
            std::fs::write(&p, format!("content of d{d}/f{f}")).unwrap();
            set_mtime(&p, -3600);
        }
    }
}

/// The files under `dir` (relative path → content).
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::scp_common::snapshot(dir).0
}
