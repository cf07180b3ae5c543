//! `cec scp SOURCE TARGET` (docs/compatibility.md §5).
//!
//! Exactly one side is remote, marked `cells://` (or `cells//`, for shell
//! completion). TARGET is the folder that receives the item, which keeps its
//! name (`TARGET/<name>`), except:
//! - a single file whose TARGET does not exist but whose parent folder does
//!   is copied under the new name TARGET (like `cp`/`scp`; a trailing `/`
//!   on TARGET asks for a folder instead);
//! - a single file whose TARGET is an existing file replaces it with
//!   `--force` (a conflict otherwise).
//!
//! An existing `TARGET/<name>` is a conflict (exit 5) unless `--force`:
//! then trees are merged (files replaced, identical ones skipped, items of
//! the other type replaced). A run interrupted midway (Ctrl-C, kill, network
//! loss, server restart) is resumed by running the same command again: it
//! continues without `--force`, skips what is complete, continues multipart
//! uploads and partial downloads.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::api::retry::Policy;
use crate::api::tree::{self, Node};
use crate::auth::GlobalArgs;
use crate::cli::ScpArgs;
use crate::error::{Error, Result};
use crate::output::log::LogLevel;
use crate::s3::S3;
use crate::transfer::journal::{self, Journal, RunRecord};
use crate::transfer::progress::Mode;
use crate::transfer::{self, Options, Report};

const CMD: &str = "scp";
const MIB: u64 = 1024 * 1024;

/// Which side is remote, and the two paths without the prefix on the remote side.
#[derive(Debug, PartialEq, Eq)]
pub enum Direction {
    Upload { local: String, remote: String },
    Download { remote: String, local: String },
}

fn remote_part(s: &str) -> Option<&str> {
    s.strip_prefix("cells://")
        .or_else(|| s.strip_prefix("cells//"))
}

/// Direction detection: exactly one side must carry a `cells://`/`cells//` prefix.
pub fn direction(source: &str, target: &str) -> Result<Direction> {
    match (remote_part(source), remote_part(target)) {
        (Some(_), Some(_)) => Err(Error::usage(
            CMD,
            "both paths are on the server: use 'cec cp' to copy on the server side",
        )),
        (None, None) => Err(Error::usage(
            CMD,
            "both paths are on this machine: prefix the server side with cells:// (e.g. cells://common-files/)",
        )),
        (None, Some(r)) => Ok(Direction::Upload {
            local: source.to_string(),
            remote: r.to_string(),
        }),
        (Some(r), None) => Ok(Direction::Download {
            remote: r.to_string(),
            local: target.to_string(),
        }),
    }
}

fn options(a: &ScpArgs) -> (Options, Policy) {
    let log_mode = a.no_progress || a.verbose || a.very_verbose || !crate::output::is_stderr_tty();
    let progress = if log_mode {
        Mode::Log { per_file: !a.quiet }
    } else {
        Mode::Live {
            interval: if a.quiet {
                Duration::from_secs(3)
            } else {
                Duration::from_millis(100)
            },
        }
    };
    let index_timeout = std::env::var("CEC_INDEX_TIMEOUT")
        .ok()
        .and_then(|s| crate::cli::parse_duration(&s))
        .unwrap_or(Duration::from_secs(30));
    (
        Options {
            follow_links: a.follow_links,
            fail_fast: a.fail_fast,
            part_size: a.part_size_mib * MIB,
            max_parts: a.max_parts_number,
            parts_concurrency: a.parts_concurrency,
            files_concurrency: a.files_concurrency,
            multipart_threshold: a.multipart_threshold_mib.saturating_mul(MIB),
            verify: !a.skip_md5,
            progress,
            verbose: a.verbose || a.very_verbose || crate::output::log::debug_enabled(),
            index_timeout,
        },
        Policy::new(a.retry_max_attempts, a.retry_max_backoff),
    )
}

pub fn run(globals: &GlobalArgs, a: &ScpArgs) -> Result<()> {
    let dir = direction(&a.source, &a.target)?;
    let (opts, retry) = options(a);
    if a.very_verbose {
        crate::output::log::set_level(LogLevel::Debug);
    }
    // Every request of the command, REST and S3, follows the retry flags.
    let client = crate::auth::connect(globals)?.with_retry(retry);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_c = stop.clone();
    let s3 = S3::for_client(&client)
        .with_cancel(Arc::new(move || {
            stop_c.load(std::sync::atomic::Ordering::Relaxed)
                || crate::output::interrupt::interrupted()
        }))
        .with_debug_signing(a.very_verbose);

    crate::output::interrupt::set_graceful(true);
    let res = match dir {
        Direction::Upload { local, remote } => {
            upload(&client, &s3, &opts, stop, a.force, &local, &remote)
        }
        Direction::Download { remote, local } => {
            download(&client, &s3, &opts, stop, a.force, &remote, &local)
        }
    };
    crate::output::interrupt::set_graceful(false);
    res
}

fn absolute(p: &str) -> Result<PathBuf> {
    let path = Path::new(p);
    let abs =
        std::path::absolute(path).map_err(|e| Error::failure(format!("invalid path {p}: {e}")))?;
    if abs.file_name().is_none() {
        // `..` or `/`: resolve to get a real name.
        return std::fs::canonicalize(&abs).or(Ok(abs));
    }
    Ok(abs)
}

fn finish(report: Report, verb: &str, run: Option<Journal<RunRecord>>) -> Result<()> {
    errln!("{}", report.summary(verb));
    if report.files > 1 && !report.failures.is_empty() {
        errln!("Failures:");
        for (i, (name, e)) in report.failures.iter().enumerate() {
            errln!("  #{}: {name}: {e}", i + 1);
        }
    }
    if report.failures.is_empty() && !report.interrupted {
        if let Some(r) = run {
            r.remove();
        }
    }
    report.into_result()
}

fn upload(
    client: &crate::api::Client,
    s3: &S3,
    opts: &Options,
    stop: Arc<AtomicBool>,
    force: bool,
    local: &str,
    remote: &str,
) -> Result<()> {
    let src = absolute(local)?;
    let src_meta = std::fs::metadata(&src).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!("{}: no such file or folder", src.display()))
        } else {
            Error::failure(format!("{}: {e}", src.display()))
        }
    })?;
    let src_is_dir = src_meta.is_dir();
    let name = src
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::failure(format!("{}: the name is not valid UTF-8", src.display())))?
        .to_string();
    let wants_folder = remote.ends_with('/');
    let target = tree::clean_path(remote);
    if target.is_empty() {
        return Err(Error::usage(
            CMD,
            "the server path must start with a workspace, e.g. cells://common-files/",
        ));
    }
    let rid = journal::run_id(
        "upload",
        client.base_url(),
        &client.user,
        &src.display().to_string(),
        &target,
    );
    let ctx = transfer::Ctx::new(client, s3, opts, "Uploading", stop);
    // A rerun of an interrupted command continues where it stopped.
    if let Some(run) = journal::load_run(&rid) {
        let dest = run.data.dest.clone();
        let existing = tree::stat(client, &dest)?;
        if opts.verbose {
            errln!("Resuming the upload of {} to cells://{dest}", src.display());
        }
        let report = transfer::upload(&ctx, &src, &dest, existing.as_ref())?;
        return finish(report, "Uploaded", Some(run));
    }
    let (dest, existing, create_target) = match tree::stat(client, &target)? {
        Some(t) if t.is_dir() => {
            let dest = tree::join(&target, &name);
            match tree::stat(client, &dest)? {
                Some(n) if force => (dest, Some(n), false),
                Some(_) => {
                    return Err(Error::conflict(format!(
                        "a file or folder named '{name}' already exists on the server at '{target}' (use --force to merge or overwrite)"
                    )))
                }
                None => (dest, None, false),
            }
        }
        Some(t) => {
            if src_is_dir || wants_folder {
                return Err(Error::failure(format!(
                    "target path cells://{target} is not a folder"
                )));
            }
            if !force {
                return Err(Error::conflict(format!(
                    "cells://{target} already exists (use --force to overwrite it)"
                )));
            }
            (target.clone(), Some(t), false)
        }
        None => {
            let parent = tree::parent_path(&target).to_string();
            if parent.is_empty() {
                return Err(Error::not_found(format!(
                    "workspace '{target}' does not exist on the server (see cec ls)"
                )));
            }
            match tree::stat(client, &parent)? {
                None => {
                    return Err(Error::not_found(format!(
                        "target parent folder cells://{parent} does not exist on the server"
                    )))
                }
                Some(p) if !p.is_dir() => {
                    return Err(Error::failure(format!(
                        "target parent cells://{parent} is not a folder"
                    )))
                }
                Some(_) => {}
            }
            if src_is_dir || wants_folder {
                // TARGET is a new folder that receives the item.
                (tree::join(&target, &name), None, true)
            } else {
                // A single file under a new name.
                (target.clone(), None, false)
            }
        }
    };
    if create_target {
        tree::create_folders(client, std::slice::from_ref(&target))
            .map_err(|e| e.context(format!("could not create cells://{target}")))?;
    }
    if opts.verbose {
        errln!("Uploading {} to cells://{dest}", src.display());
    }
    let run = Journal::create(
        "run",
        &rid,
        RunRecord {
            dest: dest.clone(),
            started: journal::now(),
        },
    );
    let report = transfer::upload(&ctx, &src, &dest, existing.as_ref())?;
    finish(report, "Uploaded", Some(run))
}

fn download(
    client: &crate::api::Client,
    s3: &S3,
    opts: &Options,
    stop: Arc<AtomicBool>,
    force: bool,
    remote: &str,
    local: &str,
) -> Result<()> {
    let src_path = tree::clean_path(remote);
    if src_path.is_empty() {
        return Err(Error::usage(
            CMD,
            "give a workspace, folder or file to download, e.g. cells://common-files/file.txt",
        ));
    }
    let node: Node = tree::stat(client, &src_path)?
        .ok_or_else(|| Error::not_found(format!("cannot find cells://{src_path} on the server")))?;
    let name = tree::base_name(&src_path).to_string();
    let wants_folder = local.ends_with('/');
    let target = absolute(local)?;
    let rid = journal::run_id(
        "download",
        client.base_url(),
        &client.user,
        &src_path,
        &target.display().to_string(),
    );
    let ctx = transfer::Ctx::new(client, s3, opts, "Downloading", stop);
    if let Some(run) = journal::load_run(&rid) {
        let dest = PathBuf::from(&run.data.dest);
        let merge = std::fs::symlink_metadata(&dest).is_ok();
        if opts.verbose {
            errln!(
                "Resuming the download of cells://{src_path} to {}",
                dest.display()
            );
        }
        let report = transfer::download(&ctx, &node, &dest, merge)?;
        return finish(report, "Downloaded", Some(run));
    }
    let (dest, merge) = match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => {
            let dest = target.join(&name);
            if std::fs::symlink_metadata(&dest).is_ok() {
                if !force {
                    return Err(Error::conflict(format!(
                        "a file or folder named '{name}' already exists on your machine at '{}' (use --force to merge or overwrite)",
                        target.display()
                    )));
                }
                (dest, true)
            } else {
                (dest, false)
            }
        }
        Ok(_) => {
            if node.is_dir() || wants_folder {
                return Err(Error::failure(format!(
                    "target path {} is not a folder",
                    target.display()
                )));
            }
            if !force {
                return Err(Error::conflict(format!(
                    "{} already exists (use --force to overwrite it)",
                    target.display()
                )));
            }
            (target.clone(), true)
        }
        Err(_) => {
            let parent = target.parent().map(Path::to_path_buf).unwrap_or_default();
            match std::fs::metadata(&parent) {
                Err(_) => {
                    return Err(Error::not_found(format!(
                        "target parent folder {} does not exist on this machine",
                        parent.display()
                    )))
                }
                Ok(m) if !m.is_dir() => {
                    return Err(Error::failure(format!(
                        "target parent {} is not a folder",
                        parent.display()
                    )))
                }
                Ok(_) => {}
            }
            if node.is_dir() || wants_folder {
                std::fs::create_dir(&target).map_err(|e| {
                    Error::failure(format!("cannot create {}: {e}", target.display()))
                })?;
                (target.join(&name), false)
            } else {
                (target.clone(), false)
            }
        }
    };
    if opts.verbose {
        errln!("Downloading cells://{src_path} to {}", dest.display());
    }
    let run = Journal::create(
        "run",
        &rid,
        RunRecord {
            dest: dest.display().to_string(),
            started: journal::now(),
        },
    );
    let report = transfer::download(&ctx, &node, &dest, merge)?;
    finish(report, "Downloaded", Some(run))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn directions() {
        assert_eq!(
            direction("a", "cells://ws/x").unwrap(),
            Direction::Upload {
                local: "a".into(),
                remote: "ws/x".into()
            }
        );
        assert_eq!(
            direction("cells//ws/f", "./d").unwrap(),
            Direction::Download {
                remote: "ws/f".into(),
                local: "./d".into()
            }
        );
        assert_eq!(direction("a", "b").unwrap_err().exit, Exit::Usage);
        assert_eq!(
            direction("cells://a", "cells//b").unwrap_err().exit,
            Exit::Usage
        );
    }
}
