//! `cec mkdir PATH...` (docs/compatibility.md §4.4).
//!
//! For each PATH (leading/trailing/repeated `/` ignored): the workspace must
//! exist (exit 4 otherwise); missing parents are created with the folder
//! (always, `-p` is accepted for compatibility); an existing folder is
//! reported as "already exists" and not recreated; an existing FILE on the
//! way is an error (exit 5). After creation the command waits until the new
//! folder is visible (the server indexes asynchronously).
//! Messages go to stderr; nothing is printed on stdout.

use std::time::Duration;

use crate::api::tree;
use crate::auth::GlobalArgs;
use crate::cli::MkdirArgs;
use crate::error::{Error, Exit, Result};

/// How long to wait for a new folder to show up in the index.
const VISIBLE_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(globals: &GlobalArgs, args: &MkdirArgs) -> Result<()> {
    let mut paths = Vec::new();
    for p in &args.paths {
        let c = tree::clean_path(p);
        if c.is_empty() {
            return Err(Error::usage("mkdir", "empty folder path"));
        }
        if !c.contains('/') {
            return Err(Error::usage(
                "mkdir",
                format!("'{c}' is a workspace: give a folder path inside a workspace, e.g. {c}/new-folder"),
            ));
        }
        paths.push(c);
    }
    let client = crate::auth::connect(globals)?;
    let mut errors: Vec<Error> = Vec::new();
    for p in &paths {
        if let Err(e) = make_one(&client, p) {
            if paths.len() == 1 {
                return Err(e);
            }
            errln!("Error: {e}");
            errors.push(e);
        }
    }
    match errors.len() {
        0 => Ok(()),
        n if n == paths.len() => {
            let exit = errors[0].exit;
            Err(Error::new(exit, format!("no folder created ({n} failed)")))
        }
        n => Err(Error::partial(format!(
            "{n} of {} folders could not be created",
            paths.len()
        ))),
    }
}

/// Create `path` (cleaned, `<ws>/...`) and its missing parents.
fn make_one(client: &crate::api::Client, path: &str) -> Result<()> {
    let parts: Vec<&str> = path.split('/').collect();
    let ws = parts[0];
    match tree::stat(client, ws)? {
        Some(_) => {}
        None => {
            return Err(Error::not_found(format!(
                "workspace '{ws}' not found (run 'cec ls' to see your workspaces)"
            )))
        }
    }
    let mut to_create: Vec<String> = Vec::new();
    let mut cur = ws.to_string();
    for part in &parts[1..] {
        cur = tree::join(&cur, part);
        if !to_create.is_empty() {
            // A parent is missing: everything below is missing too.
            to_create.push(cur.clone());
            continue;
        }
        match tree::stat(client, &cur)? {
            Some(n) if n.is_dir() => {}
            Some(_) => {
                return Err(Error::new(
                    Exit::Conflict,
                    format!("{cur} exists and is a file, not a folder"),
                ))
            }
            None => to_create.push(cur.clone()),
        }
    }
    if to_create.is_empty() {
        errln!("{path}: already exists");
        return Ok(());
    }
    tree::create_folders(client, &to_create)?;
    match tree::wait_visible(client, path, VISIBLE_TIMEOUT, Duration::from_millis(250))? {
        Some(_) => {
            errln!("Created folder {path}");
            Ok(())
        }
        None => Err(Error::failure(format!(
            "{path} was created but is still not visible after {}s (server indexing is slow)",
            VISIBLE_TIMEOUT.as_secs()
        ))),
    }
}
