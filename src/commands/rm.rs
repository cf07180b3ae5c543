//! `cec rm PATH...` (docs/compatibility.md §4.3, §1.4).
//!
//! 1. Every argument is resolved first: a literal path must exist (exit 4,
//!    nothing deleted otherwise); `dir/%` or `dir/*` is ALL children of `dir`
//!    (paged), the recycle bin excepted. Workspace roots are refused (exit 3).
//! 2. Unless `-f/--force`, asks `Delete N item(s)…? [y/N]`; only `y`/`yes`
//!    proceeds. A refusal, EOF or Ctrl-C deletes nothing; when stdin is not a
//!    terminal nothing is deleted and the command fails (exit 2).
//! 3. `POST /a/tree/delete` (recycle bin, or `--permanently`), then waits for
//!    the server's delete jobs and checks that every item is gone: the exit
//!    code reflects the real outcome (1 on failure, 6 when only some items
//!    were deleted).

use std::collections::HashSet;
use std::time::Duration;

use crate::api::{jobs, tree};
use crate::auth::GlobalArgs;
use crate::cli::RmArgs;
use crate::error::{Error, Result};
use crate::output;

/// Upper bound for the delete jobs.
const JOB_TIMEOUT: Duration = Duration::from_secs(600);

pub fn run(globals: &GlobalArgs, args: &RmArgs) -> Result<()> {
    let client = crate::auth::connect(globals)?;

    // 1. Resolve everything before deleting anything.
    let mut targets: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for arg in &args.paths {
        let is_wild = tree::wildcard_dir(arg).is_some();
        let nodes = super::expand(&client, arg)?;
        if is_wild && nodes.is_empty() {
            errln!(
                "{}: folder is empty, nothing to delete there",
                tree::clean_path(arg)
            );
        }
        for n in nodes {
            if !n.path.contains('/') {
                return Err(Error::auth(format!(
                    "{}: a workspace root cannot be deleted",
                    n.path
                )));
            }
            if seen.insert(n.path.clone()) {
                targets.push(n.path);
            }
        }
    }
    // Drop items already covered by a selected parent folder.
    targets.retain(|p| {
        let mut cur = tree::parent_path(p);
        while !cur.is_empty() {
            if seen.contains(cur) {
                return false;
            }
            cur = tree::parent_path(cur);
        }
        true
    });
    if targets.is_empty() {
        errln!("Nothing to delete");
        return Ok(());
    }

    let how = if args.permanently {
        "permanently"
    } else {
        "to the recycle bin"
    };
    // 2. Confirmation.
    let verb = if args.permanently {
        "Delete permanently"
    } else {
        "Move to the recycle bin"
    };
    output::confirm::confirm(
        "rm",
        args.force,
        &format!("{verb} {}?", describe(&targets)),
        "nothing was deleted",
    )?;

    // 3. Delete and wait for the real outcome.
    let mut job_ids = Vec::new();
    for chunk in targets.chunks(500) {
        job_ids.extend(tree::delete(&client, chunk, args.permanently)?);
    }
    let mut job_errors = Vec::new();
    for r in jobs::wait_all(&client, &job_ids, JOB_TIMEOUT) {
        if let Err(e) = r {
            job_errors.push(e.message);
        }
    }
    // Check what is really gone (jobs may vanish when done).
    let mut remaining = still_present(&client, &targets)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !remaining.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        remaining = still_present(&client, &remaining)?;
    }
    let done = targets.len() - remaining.len();
    if done > 0 {
        let noun = if done == 1 { "item" } else { "items" };
        if args.permanently {
            errln!("Deleted {done} {noun} permanently");
        } else {
            errln!("Moved {done} {noun} {how}");
        }
    }
    if remaining.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{} of {} items could not be deleted (first: {})",
        remaining.len(),
        targets.len(),
        remaining[0]
    );
    if let Some(j) = job_errors.first() {
        msg.push_str(&format!("; {j}"));
    }
    if done == 0 {
        Err(Error::failure(msg))
    } else {
        Err(Error::partial(msg))
    }
}

/// "a/b.txt" or "3 items (a, b, c, …)".
fn describe(targets: &[String]) -> String {
    if targets.len() == 1 {
        return targets[0].clone();
    }
    let shown: Vec<&str> = targets.iter().take(5).map(|s| s.as_str()).collect();
    let more = if targets.len() > 5 { ", …" } else { "" };
    format!("{} items ({}{more})", targets.len(), shown.join(", "))
}

/// The paths of `targets` that still exist: a stat each for a few items,
/// one listing per parent folder for many.
pub(crate) fn still_present(
    client: &crate::api::Client,
    targets: &[String],
) -> Result<Vec<String>> {
    if targets.len() <= 20 {
        let mut out = Vec::new();
        for p in targets {
            if tree::stat(client, p)?.is_some() {
                out.push(p.clone());
            }
        }
        return Ok(out);
    }
    let mut parents: Vec<&str> = targets.iter().map(|p| tree::parent_path(p)).collect();
    parents.sort_unstable();
    parents.dedup();
    let mut present = std::collections::HashSet::new();
    for dir in parents {
        match tree::list_children(client, dir, tree::ListVia::TreeStats) {
            Ok(kids) => present.extend(kids.into_iter().map(|n| n.path)),
            Err(e) if e.exit == crate::error::Exit::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(targets
        .iter()
        .filter(|p| present.contains(*p))
        .cloned()
        .collect())
}
