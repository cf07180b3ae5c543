//! `cec cp SOURCE... TARGET` and, through [`copy_or_move`], `cec mv`
//! (docs/compatibility.md §4.1, §4.2, §4.9).
//!
//! Target rule (does not depend on a trailing `/`):
//! - TARGET exists and is a folder → the sources go INTO it
//!   (`TARGET/<source name>`);
//! - otherwise → TARGET is the new full path of the single SOURCE
//!   (copy-as / rename); its parent folder must exist. Several sources (or a
//!   wildcard) need an existing target folder.
//!
//! Sources: each must exist (exit 4); `dir/*` (and `dir/%`) means ALL
//! children of `dir`, paged. An existing destination is refused (exit 5)
//! unless `--force`, which first moves it to the recycle bin and then
//! copies/moves. The server job is awaited (progress line on a terminal,
//! `--timeout`, default 3600 s); a failed job is an error, and the result is
//! checked (destinations present, and for `mv` sources gone), so a job that
//! vanished without doing its work is an error too.

use std::time::{Duration, Instant};

use crate::api::jobs::{self, CopyMove, JobState};
use crate::api::tree::{self, Node};
use crate::api::Client;
use crate::auth::GlobalArgs;
use crate::cli::CpMvArgs;
use crate::error::{Error, Result};
use crate::output;

pub fn run(globals: &GlobalArgs, args: &CpMvArgs) -> Result<()> {
    copy_or_move(globals, args, CopyMove::Copy)
}

pub(crate) fn copy_or_move(globals: &GlobalArgs, args: &CpMvArgs, kind: CopyMove) -> Result<()> {
    let cmd = match kind {
        CopyMove::Copy => "cp",
        CopyMove::Move => "mv",
    };
    let target = tree::clean_path(&args.target);
    if target.is_empty() {
        return Err(Error::usage(
            cmd,
            "TARGET must be a path inside a workspace, e.g. common-files/folder",
        ));
    }
    let timeout = args.timeout;
    let client = crate::auth::connect(globals)?;

    // Sources.
    let mut sources: Vec<Node> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut wildcard = false;
    for s in &args.sources {
        wildcard |= tree::wildcard_dir(s).is_some();
        for n in super::expand(&client, s)? {
            if !n.path.contains('/') {
                return Err(Error::auth(format!(
                    "{}: a workspace root cannot be copied or moved",
                    n.path
                )));
            }
            if seen.insert(n.path.clone()) {
                sources.push(n);
            }
        }
    }
    if sources.is_empty() {
        errln!(
            "Nothing to {}: the folder is empty",
            verb(kind).to_lowercase()
        );
        return Ok(());
    }

    // Target.
    let multi = sources.len() > 1 || wildcard;
    let into = match tree::stat(&client, &target)? {
        Some(t) if t.is_dir() => true,
        Some(_) if multi => {
            return Err(Error::failure(format!(
                "{target} is a file: several sources need an existing target folder"
            )))
        }
        Some(_) => false,
        None if multi => {
            return Err(Error::not_found(format!(
                "target folder {target} does not exist (several sources need an existing folder)"
            )))
        }
        None => {
            let parent = tree::parent_path(&target);
            if parent.is_empty() {
                return Err(Error::not_found(format!(
                    "workspace {target} not found (run 'cec ls' to see your workspaces)"
                )));
            }
            match tree::stat(&client, parent)? {
                Some(p) if p.is_dir() => false,
                Some(_) => return Err(Error::failure(format!("{parent} is a file, not a folder"))),
                None => {
                    return Err(Error::not_found(format!(
                        "target folder {parent} does not exist"
                    )))
                }
            }
        }
    };
    let dests: Vec<String> = if into {
        sources
            .iter()
            .map(|s| tree::join(&target, s.name()))
            .collect()
    } else {
        vec![target.clone()]
    };

    // Sanity: not onto itself, not into itself.
    for (s, d) in sources.iter().zip(&dests) {
        if &s.path == d {
            return Err(Error::failure(format!(
                "{} and {d} are the same item",
                s.path
            )));
        }
        if s.is_dir() && d.starts_with(&format!("{}/", s.path)) {
            return Err(Error::failure(format!(
                "cannot {} folder {} into itself ({d})",
                cmd_word(kind),
                s.path
            )));
        }
    }

    // Conflicts.
    let existing = crate::commands::rm::still_present(&client, &dests)?;
    if !existing.is_empty() {
        if !args.force {
            let msg = if existing.len() == 1 {
                format!("{} already exists (use --force to replace it)", existing[0])
            } else {
                format!(
                    "{} destinations already exist (first: {}); use --force to replace them",
                    existing.len(),
                    existing[0]
                )
            };
            return Err(Error::conflict(msg));
        }
        let ids = tree::delete(&client, &existing, false)?;
        for r in jobs::wait_all(&client, &ids, timeout) {
            r.map_err(|e| e.context("could not remove the existing destination"))?;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut left = crate::commands::rm::still_present(&client, &existing)?;
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            left = crate::commands::rm::still_present(&client, &left)?;
        }
        if let Some(l) = left.first() {
            return Err(Error::failure(format!(
                "could not remove the existing destination {l}"
            )));
        }
    }

    // Run the job.
    let src_paths: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
    let job_target = if into {
        target.clone()
    } else {
        dests[0].clone()
    };
    let job = jobs::copy_move(&client, kind, &src_paths, &job_target, into)
        .map_err(|e| e.context(format!("could not start the {} job", cmd_word(kind))))?;
    let what = if src_paths.len() == 1 {
        src_paths[0].clone()
    } else {
        format!("{} items", src_paths.len())
    };
    let show = output::is_stderr_tty();
    let started = Instant::now();
    let res = jobs::wait(&client, &job, timeout, |st| {
        if !show {
            return;
        }
        let pct = match st {
            JobState::Running {
                progress: Some(p), ..
            } => format!(" {:>3.0}%", (p * 100.0).clamp(0.0, 100.0)),
            _ => String::new(),
        };
        errprint!(
            "\r\x1b[2K{} {what} to {target}…{pct} ({}s)",
            verb(kind),
            started.elapsed().as_secs()
        );
    });
    if show {
        errprint!("\r\x1b[2K");
    }
    res?;

    // Check the result (an AutoClean job vanishes when done, successful or not).
    verify(&client, kind, &src_paths, &dests)?;
    let n = src_paths.len();
    errln!(
        "{} {} to {target}",
        past(kind),
        if n == 1 {
            src_paths[0].clone()
        } else {
            format!("{n} items")
        }
    );
    Ok(())
}

fn verify(client: &Client, kind: CopyMove, sources: &[String], dests: &[String]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let present: std::collections::HashSet<String> =
            crate::commands::rm::still_present(client, dests)?
                .into_iter()
                .collect();
        let missing: Vec<&String> = dests.iter().filter(|d| !present.contains(*d)).collect();
        let left = if kind == CopyMove::Move && missing.is_empty() {
            crate::commands::rm::still_present(client, sources)?
        } else {
            Vec::new()
        };
        if missing.is_empty() && left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            if let Some(m) = missing.first() {
                return Err(Error::failure(format!(
                    "the server job ended but {m} is not there ({} of {} missing)",
                    missing.len(),
                    dests.len()
                )));
            }
            return Err(Error::failure(format!(
                "the server job ended but {} is still in its old place",
                left[0]
            )));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn verb(kind: CopyMove) -> &'static str {
    match kind {
        CopyMove::Copy => "Copying",
        CopyMove::Move => "Moving",
    }
}

fn past(kind: CopyMove) -> &'static str {
    match kind {
        CopyMove::Copy => "Copied",
        CopyMove::Move => "Moved",
    }
}

fn cmd_word(kind: CopyMove) -> &'static str {
    match kind {
        CopyMove::Copy => "copy",
        CopyMove::Move => "move",
    }
}
