//! `cec share PATH [--ask-password | --password-file FILE | --password P]
//! [--expire-days N] [--max-downloads N]` (docs/compatibility.md §4.5):
//! creates a public link (download + preview) for a file or folder and prints
//! its absolute URL on stdout (one line, nothing else on stdout; `--json`: one
//! object, see [`json_link`]). A missing
//! PATH is exit 4. The link password comes from a prompt, a file,
//! `CEC_LINK_PASSWORD` or (with a warning: other users can read it) argv.

use std::io::BufRead;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::api::tree::{self, ShareOptions};
use crate::auth::prompt::Prompter;
use crate::auth::GlobalArgs;
use crate::cli::{LinkPassword, ShareArgs};
use crate::error::{Error, Exit, Result};
use crate::output;

const CMD: &str = "share";

pub fn run(globals: &GlobalArgs, args: &ShareArgs) -> Result<()> {
    let path = tree::clean_path(&args.path);
    if !path.contains('/') {
        return Err(Error::usage(
            CMD,
            "give a file or folder inside a workspace, e.g. common-files/report.pdf",
        ));
    }
    let password = args.password.as_ref().map(link_password).transpose()?;
    let client = crate::auth::connect(globals)?;
    let node = tree::stat_existing(&client, &path)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let opts = ShareOptions {
        password,
        expires_at: args.expire_days.map(|d| now + i64::from(d) * 86_400),
        max_downloads: args.max_downloads,
    };
    let link = tree::create_share_link(&client, &node, &opts)
        .map_err(|e| e.context(format!("could not create a public link for {path}")))?;
    let url = tree::absolute_link(client.base_url(), &link);
    if url.trim_end_matches('/').ends_with("/public") || url.is_empty() {
        return Err(Error::failure(format!(
            "the server created no usable link for {path}"
        )));
    }
    if args.json {
        output::println_out(&json_link(&url, &path, &node, &link).to_string());
    } else {
        output::println_out(&url);
    }
    Ok(())
}

/// `share --json`: the link as the server created it.
fn json_link(
    url: &str,
    path: &str,
    node: &tree::Node,
    link: &tree::ShareLink,
) -> serde_json::Value {
    let positive = |n: Option<i64>| n.filter(|n| *n > 0);
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    serde_json::json!({
        "url": url,
        "path": path,
        "node_uuid": text(&node.uuid),
        "link_uuid": text(&link.uuid),
        "link_hash": text(&link.link_hash),
        "expires_at": positive(link.access_end),
        "max_downloads": positive(link.max_downloads),
        "password": link.password_required,
    })
}

/// The link password, from where the user put it.
fn link_password(from: &LinkPassword) -> Result<String> {
    match from {
        LinkPassword::Argv(p) => {
            output::log::warn(
                "other users of this machine can read a password given on the command line; prefer --ask-password, --password-file or CEC_LINK_PASSWORD",
            );
            Ok(p.clone())
        }
        LinkPassword::Env(p) => Ok(p.clone()),
        LinkPassword::File(f) => first_line(f),
        LinkPassword::Prompt => Prompter::new(CMD).secret(
            "Link password",
            "use --password-file FILE or CEC_LINK_PASSWORD",
        ),
    }
}

/// The first line of `f` (at most 4 KiB), without its line ending; never empty.
fn first_line(f: &std::path::Path) -> Result<String> {
    let file = std::fs::File::open(f).map_err(|e| {
        let exit = if e.kind() == std::io::ErrorKind::NotFound {
            Exit::NotFound
        } else {
            Exit::Failure
        };
        Error::new(
            exit,
            format!("cannot read the password file {}: {e}", f.display()),
        )
    })?;
    let mut line = String::new();
    std::io::BufReader::new(std::io::Read::take(file, 4096))
        .read_line(&mut line)
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the password file {}: {e}",
                f.display()
            ))
        })?;
    let pw = line.trim_end_matches(['\n', '\r']);
    if pw.is_empty() {
        return Err(Error::usage(
            CMD,
            format!(
                "the first line of the password file {} is empty",
                f.display()
            ),
        ));
    }
    Ok(pw.to_string())
}
