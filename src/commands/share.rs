//! `cec share PATH [--password P] [--expire-days N] [--max-downloads N]`
//! (docs/compatibility.md §4.5): creates a public link
//! (download + preview) for a file or folder and prints its absolute URL on
//! stdout (one line, nothing else on stdout). A missing PATH is exit 4.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::api::tree::{self, ShareOptions};
use crate::auth::GlobalArgs;
use crate::cli::ShareArgs;
use crate::error::{Error, Result};
use crate::output;

pub fn run(globals: &GlobalArgs, args: &ShareArgs) -> Result<()> {
    let path = tree::clean_path(&args.path);
    if !path.contains('/') {
        return Err(Error::usage(
            "share",
            "give a file or folder inside a workspace, e.g. common-files/report.pdf",
        ));
    }
    if matches!(&args.password, Some(p) if p.is_empty()) {
        return Err(Error::usage("share", "--password cannot be empty"));
    }
    let client = crate::auth::connect(globals)?;
    let node = tree::stat_existing(&client, &path)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let opts = ShareOptions {
        password: args.password.clone(),
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
    output::println_out(&url);
    Ok(())
}
