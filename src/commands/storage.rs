//! `cec storage list-datasources [-r|--json]` and `cec storage resync-ds DSNAME
//! [--timeout SECS]` (docs/compatibility.md §7.6).
//!
//! `resync-ds` checks that the datasource exists (exit 4), starts the resync job and waits
//! for its real outcome: exit 0 when it finished, 1 when it failed or the time-out passed.

use std::time::Duration;

use serde_json::{json, Value};

use crate::api::jobs::{self, JobState};
use crate::api::storage::{self, DataSource};
use crate::auth::GlobalArgs;
use crate::cli::StorageCmd;
use crate::error::{Error, Result};
use crate::output::{self, listing::count, Table};

pub fn run(globals: &GlobalArgs, cmd: &StorageCmd) -> Result<()> {
    let client = crate::auth::connect(globals)?;
    match cmd {
        StorageCmd::ListDatasources { raw, json } => {
            let list = storage::list(&client)?;
            print(&list, *raw, *json);
            Ok(())
        }
        StorageCmd::ResyncDs { name, timeout } => resync(&client, name, *timeout),
    }
}

fn print(list: &[DataSource], raw: bool, json: bool) {
    if raw {
        let mut out = String::new();
        for d in list {
            out.push_str(&output::for_stdout(&d.name));
            out.push('\n');
        }
        output::print_out(&out);
        return;
    }
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|d| {
                json!({"name": d.name, "storage_type": d.storage(), "bucket": d.bucket,
                    "base_folder": d.base_folder, "versioning_policy": d.versioning_policy,
                    "disabled": d.disabled, "flat": d.flat})
            })
            .collect();
        output::print_json_lines(&v);
        return;
    }
    let mut t = Table::new(&["Name", "Storage", "Bucket", "Folder", "Versioning"]);
    for d in list {
        t.row(vec![
            d.name.clone(),
            d.storage().to_string(),
            d.bucket.clone(),
            d.base_folder.clone(),
            d.versioning_policy.clone(),
        ]);
    }
    output::print_listing(
        &format!("Found {}:", count(list.len(), "datasource", "datasources")),
        &t,
    );
}

fn resync(client: &crate::api::Client, name: &str, timeout: Duration) -> Result<()> {
    let known = storage::list(client)?;
    if !known.iter().any(|d| d.name == name) {
        let names: Vec<&str> = known.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::not_found(format!(
            "no datasource named {name} (known: {})",
            names.join(", ")
        )));
    }
    let id = storage::resync(client, name)?;
    errln!("Resynchronising datasource {name} (job {id})...");
    let mut done = String::new();
    jobs::wait(client, &id, timeout, |st| {
        if let JobState::Finished { message } = st {
            done.clone_from(message);
        }
    })
    .map_err(|e| e.context(format!("resync of datasource {name}")))?;
    // A job that vanished (AutoClean) ended without error.
    if done.is_empty() {
        errln!("Resync of {name} finished");
    } else {
        errln!("Resync of {name} finished: {done}");
    }
    Ok(())
}
