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

/// Direction detection: exactly one side must carry a `cells://`/`cells//` prefix.
pub fn direction(source: &str, target: &str) -> Result<Direction> {
    match (tree::remote_part(source), tree::remote_part(target)) {
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

pub(crate) fn options(a: &ScpArgs) -> (Options, Policy) {
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
            bwlimit: a.bwlimit,
        },
        Policy::new(a.retry_max_attempts, a.retry_max_backoff),
    )
}

/// What every transfer command sets up: the client and S3 gateway (both
/// following the retry flags), the options, and the stop flag.
pub(crate) struct Session {
    pub client: crate::api::Client,
    pub s3: S3,
    pub opts: Options,
    pub stop: Arc<AtomicBool>,
}

pub(crate) fn session(globals: &GlobalArgs, a: &ScpArgs) -> Result<Session> {
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
    Ok(Session {
        client,
        s3,
        opts,
        stop,
    })
}

pub fn run(globals: &GlobalArgs, a: &ScpArgs) -> Result<()> {
    if a.target == "-" || a.sources.iter().any(|s| s == "-") {
        return streams(globals, a);
    }
    let dirs = a
        .sources
        .iter()
        .map(|s| direction(s, &a.target))
        .collect::<Result<Vec<_>>>()?;
    let s = session(globals, a)?;
    crate::output::interrupt::set_graceful(true);
    let res = match dirs.into_iter().next().expect("one source at least") {
        Direction::Upload { local, remote } if a.sources.len() == 1 => {
            parents_upload(&s, a, &remote).and_then(|()| {
                upload(
                    &s.client,
                    &s.s3,
                    &s.opts,
                    s.stop.clone(),
                    a.force,
                    &local,
                    &remote,
                )
            })
        }
        Direction::Upload { remote, .. } => upload_many(&s, a, &remote),
        Direction::Download { remote, local } => {
            let found = expand_sources(&s.client, &a.sources)?;
            if a.sources.len() == 1 && !found.globbed {
                parents_download(a, &local).and_then(|()| {
                    download(
                        &s.client,
                        &s.s3,
                        &s.opts,
                        s.stop.clone(),
                        a.force,
                        &remote,
                        &local,
                    )
                })
            } else {
                download_many(&s, a, found, &local)
            }
        }
    };
    crate::output::interrupt::set_graceful(false);
    res
}

/// `-p` for one upload: the missing folder that is to receive the item.
fn parents_upload(s: &Session, a: &ScpArgs, remote: &str) -> Result<()> {
    let target = tree::clean_path(remote);
    if !a.parents || !target.contains('/') || tree::stat(&s.client, &target)?.is_some() {
        return Ok(());
    }
    let folder = if remote.ends_with('/') {
        target.clone()
    } else {
        tree::parent_path(&target).to_string()
    };
    if folder.contains('/') && tree::stat(&s.client, &folder)?.is_none() {
        tree::create_folders(&s.client, std::slice::from_ref(&folder))
            .map_err(|e| e.context(format!("could not create cells://{folder}")))?;
    }
    Ok(())
}

/// `-p` for one download: the missing local folder that is to receive the item.
fn parents_download(a: &ScpArgs, local: &str) -> Result<()> {
    let target = absolute(local)?;
    if !a.parents || std::fs::symlink_metadata(&target).is_ok() {
        return Ok(());
    }
    let folder = if local.ends_with('/') {
        target.clone()
    } else {
        target.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    std::fs::create_dir_all(&folder).map_err(|e| Error::io("cannot create", &folder, e))
}

/// The folder that receives several sources: it must exist (or `-p`).
pub(crate) fn remote_folder(s: &Session, a: &ScpArgs, remote: &str) -> Result<String> {
    let target = tree::clean_path(remote);
    match tree::stat(&s.client, &target)? {
        Some(n) if n.is_dir() => Ok(target),
        Some(_) => Err(Error::usage(
            CMD,
            format!("with several sources the target must be a folder; cells://{target} is a file"),
        )),
        None if a.parents && target.contains('/') => {
            tree::create_folders(&s.client, std::slice::from_ref(&target))
                .map_err(|e| e.context(format!("could not create cells://{target}")))?;
            Ok(target)
        }
        None => Err(Error::not_found(format!(
            "target folder cells://{target} does not exist (use -p/--parents to create it)"
        ))),
    }
}

/// Upload several local sources into one remote folder; each one as scp does.
fn upload_many(s: &Session, a: &ScpArgs, remote: &str) -> Result<()> {
    let folder = format!("{}/", remote_folder(s, a, remote)?);
    let each = a.sources.iter().map(|src| {
        let r = upload(
            &s.client,
            &s.s3,
            &s.opts,
            s.stop.clone(),
            a.force,
            src,
            &folder,
        );
        (src.clone(), r)
    });
    all_of(a.sources.len(), each)
}

/// Run every item; exit 6 (listed) when some failed, stop at an interruption.
pub(crate) fn all_of(n: usize, items: impl Iterator<Item = (String, Result<()>)>) -> Result<()> {
    let mut failed: Vec<(String, Error)> = Vec::new();
    for (what, r) in items {
        match r {
            Ok(()) => {}
            Err(e) if e.exit == crate::error::Exit::Interrupted => return Err(e),
            Err(e) => {
                if n > 1 {
                    errln!("Error: {}", e.message);
                }
                failed.push((what, e));
            }
        }
    }
    match failed.len() {
        0 => Ok(()),
        1 if n == 1 => Err(failed.remove(0).1),
        k => Err(Error::partial(format!(
            "{k} of {n} sources failed (listed above)"
        ))),
    }
}

/// Remote sources with their shell-style wildcards resolved.
pub(crate) struct Found {
    /// (argument, the remote paths it names, or why not).
    pub items: Vec<(String, Result<Vec<String>>)>,
    /// Some argument was a wildcard pattern.
    pub globbed: bool,
}

/// Resolve each remote source: a path that exists is itself; else a last
/// element with `*`, `?` or `[...]` matches the names of its folder.
pub(crate) fn expand_sources(client: &crate::api::Client, sources: &[String]) -> Result<Found> {
    let mut found = Found {
        items: Vec::new(),
        globbed: false,
    };
    for src in sources {
        let path = tree::clean_path(tree::remote_part(src).unwrap_or(src));
        let name = tree::base_name(&path);
        let glob = crate::transfer::filter::Glob::new(name)
            .ok()
            .filter(|g| g.has_wildcard() && path.contains('/'));
        let r = match glob {
            Some(g) if tree::stat(client, &path)?.is_none() => {
                found.globbed = true;
                matches(client, &path, &g)
            }
            _ => Ok(vec![path.clone()]),
        };
        found.items.push((src.clone(), r));
    }
    Ok(found)
}

/// The children of `pattern`'s folder whose names match `g` (sorted).
fn matches(
    client: &crate::api::Client,
    pattern: &str,
    g: &crate::transfer::filter::Glob,
) -> Result<Vec<String>> {
    let folder = tree::parent_path(pattern);
    let kids = tree::list_children(client, folder, tree::ListVia::TreeStats)?;
    let mut out: Vec<String> = kids
        .iter()
        .filter_map(|k| crate::transfer::plan::child_name(folder, &k.path).ok())
        .filter(|n| *n != tree::RECYCLE_BIN && g.matches(n))
        .map(|n| tree::join(folder, n))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(Error::not_found(format!(
            "cells://{pattern}: no file or folder matches"
        )));
    }
    Ok(out)
}

/// Download several remote sources (wildcards resolved) into one local folder.
fn download_many(s: &Session, a: &ScpArgs, found: Found, local: &str) -> Result<()> {
    let target = absolute(local)?;
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::usage(
                CMD,
                format!(
                    "with several sources the target must be a folder; {} is a file",
                    target.display()
                ),
            ))
        }
        Err(_) if a.parents => {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("cannot create", &target, e))?
        }
        Err(_) => {
            return Err(Error::not_found(format!(
                "target folder {} does not exist (use -p/--parents to create it)",
                target.display()
            )))
        }
    }
    let folder = format!("{}/", target.display());
    let mut items: Vec<(String, Result<()>)> = Vec::new();
    for (arg, paths) in found.items {
        match paths {
            Err(e) => items.push((arg, Err(e))),
            Ok(paths) => {
                for p in paths {
                    let r = download(
                        &s.client,
                        &s.s3,
                        &s.opts,
                        s.stop.clone(),
                        a.force,
                        &p,
                        &folder,
                    );
                    let interrupted =
                        matches!(&r, Err(e) if e.exit == crate::error::Exit::Interrupted);
                    items.push((format!("cells://{p}"), r));
                    if interrupted {
                        break;
                    }
                }
            }
        }
    }
    all_of(items.len(), items.into_iter())
}

/// `-` as SOURCE (standard input) or TARGET (standard output).
fn streams(globals: &GlobalArgs, a: &ScpArgs) -> Result<()> {
    if a.sources.len() != 1 {
        return Err(Error::usage(
            CMD,
            "'-' (a stream) goes with one source and one target only",
        ));
    }
    let source = &a.sources[0];
    if source == "-" && a.target == "-" {
        return Err(Error::usage(
            CMD,
            "one side must be on the server (cells://...)",
        ));
    }
    if source == "-" {
        let Some(remote) = tree::remote_part(&a.target) else {
            return Err(Error::usage(
                CMD,
                "'-' uploads standard input: the target must be a file on the server (cells://...)",
            ));
        };
        let s = session(globals, a)?;
        return stream_in(&s, a, remote);
    }
    let Some(remote) = tree::remote_part(source) else {
        return Err(Error::usage(CMD, "'-' writes a file of the server to standard output: the source must start with cells://"));
    };
    let s = session(globals, a)?;
    stream_out(&s, remote)
}

fn stream_in(s: &Session, a: &ScpArgs, remote: &str) -> Result<()> {
    let key = tree::clean_path(remote);
    if remote.ends_with('/') || !key.contains('/') {
        return Err(Error::usage(
            CMD,
            "give the name of the file to create, e.g. cells://common-files/backup.tar.gz",
        ));
    }
    match tree::stat(&s.client, &key)? {
        Some(n) if n.is_dir() => {
            return Err(Error::failure(format!(
                "cells://{key} is a folder: give the name of the file to create inside it"
            )))
        }
        Some(_) if !a.force => {
            return Err(Error::conflict(format!(
                "cells://{key} already exists (use --force to overwrite it)"
            )))
        }
        Some(_) => {}
        None => {
            parents_upload(s, a, remote)?;
            let parent = tree::parent_path(&key);
            if parent.contains('/') && tree::stat(&s.client, parent)?.is_none() {
                return Err(Error::not_found(format!(
                    "target parent folder cells://{parent} does not exist on the server (use -p/--parents to create it)"
                )));
            }
        }
    }
    let ctx = transfer::Ctx::new(&s.client, &s.s3, &s.opts, "Uploading", s.stop.clone());
    crate::output::interrupt::set_graceful(true);
    let r = transfer::stream::upload_checked(&ctx, &key, &mut std::io::stdin().lock());
    crate::output::interrupt::set_graceful(false);
    let stored = r?;
    errln!(
        "Uploaded standard input to cells://{} ({})",
        crate::output::escape_control(&key),
        crate::output::human_size(stored.size)
    );
    Ok(())
}

fn stream_out(s: &Session, remote: &str) -> Result<()> {
    let key = tree::clean_path(remote);
    let node = tree::stat(&s.client, &key)?
        .ok_or_else(|| Error::not_found(format!("cannot find cells://{key} on the server")))?;
    if node.is_dir() {
        return Err(Error::usage(
            CMD,
            format!("cells://{key} is a folder: only a file can be written to standard output"),
        ));
    }
    let limit = s.opts.bwlimit.map(transfer::bwlimit::Bandwidth::new);
    let mut out = StdoutPipe(std::io::stdout().lock());
    crate::output::interrupt::set_graceful(true);
    let r = transfer::stream::download(&s.s3, &s.opts, limit.as_ref(), &key, &node, &mut out);
    crate::output::interrupt::set_graceful(false);
    r.map(|_| ())
}

/// Standard output for file contents: a reader that went away (`| head`)
/// ends the process as it expects (SIGPIPE), not with an error message.
struct StdoutPipe<'a>(std::io::StdoutLock<'a>);

impl std::io::Write for StdoutPipe<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                crate::output::die_of_sigpipe();
            }
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                crate::output::die_of_sigpipe();
            }
        })
    }
}

pub(crate) fn absolute(p: &str) -> Result<PathBuf> {
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
