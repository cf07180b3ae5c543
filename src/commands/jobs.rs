//! `cec jobs get [--filter F] [--format table|json | --json]` and
//! `cec jobs delete (--job-id ID | --filter F) [--force] [--dry-run] [--format table|json]`
//! (docs/compatibility.md §7.6).
//!
//! - `get`: every job the account may see (all owners for an administrator), filtered;
//!   the last task is the most recent one. `--format json` prints the server's job objects
//!   as an indented array, `--json` one object per line (keys in the README).
//! - `delete`: the selection is the job `--job-id` (exit 4 when unknown) or the jobs
//!   matching `--filter` (`'{}'` = all); both → the job must match. System jobs are deleted
//!   one at a time only (skipped in a batch). Asks for confirmation on a terminal, refuses
//!   without `--force` otherwise. The route exists in Cells Enterprise only: another
//!   edition gets one line and exit 1, nothing deleted. Exit 6 when only some were deleted.

use serde_json::{json, Value};

use crate::api::idm::admin_needed;
use crate::api::jobs::{self, Deleted, JobFilter, Listed, TASKS_LIMIT};
use crate::api::Client;
use crate::auth::GlobalArgs;
use crate::cli::{JobsCmd, TableFormat};
use crate::error::{Error, Result};
use crate::output::{self, listing::count, Table};

pub fn run(globals: &GlobalArgs, cmd: &JobsCmd) -> Result<()> {
    match cmd {
        JobsCmd::Get {
            format,
            filter,
            json,
        } => {
            let filter = parse_filter("jobs get", filter.as_deref())?;
            let client = crate::auth::connect(globals)?;
            let mut list = jobs::list_all(&client)?;
            list.retain(|j| filter.matches(&j.job));
            print_jobs(&list, *format == TableFormat::Json, *json);
            Ok(())
        }
        JobsCmd::Delete {
            format,
            filter,
            job_id,
            force,
            dry_run,
        } => {
            if job_id.is_none() && filter.is_none() {
                return Err(Error::usage(
                    "jobs delete",
                    "give --job-id ID or --filter JSON (--filter '{}' selects every job)",
                ));
            }
            let filter = parse_filter("jobs delete", filter.as_deref())?;
            let client = crate::auth::connect(globals)?;
            let selected = select(&client, job_id.as_deref(), &filter)?;
            let json = *format == TableFormat::Json;
            delete(&client, &selected, *force, *dry_run, json)
        }
    }
}

fn parse_filter(cmd: &str, text: Option<&str>) -> Result<JobFilter> {
    match text {
        None => Ok(JobFilter::default()),
        Some(t) => JobFilter::parse(t)
            .map_err(|e| Error::usage(cmd, format!("invalid --filter '{t}': {e}"))),
    }
}

/// `"12"`, or `"100+"` when the server had more tasks than were loaded.
fn num_tasks(l: &Listed) -> String {
    let n = l.job.tasks.len();
    if n >= TASKS_LIMIT {
        format!("{TASKS_LIMIT}+")
    } else {
        n.to_string()
    }
}

fn job_json(l: &Listed) -> Value {
    let j = &l.job;
    let last = j.last_task();
    json!({"id": j.id, "label": j.label, "owner": j.owner, "system": j.is_system(),
        "num_tasks": j.tasks.len(), "status": last.map(|t| t.status.as_str()),
        "message": last.map(|t| t.status_message.as_str()),
        "start_time": last.map(|t| t.start_time), "end_time": last.map(|t| t.end_time)})
}

fn print_jobs(list: &[Listed], format_json: bool, json_lines: bool) {
    if json_lines {
        output::print_json_lines(&list.iter().map(job_json).collect::<Vec<_>>());
        return;
    }
    if format_json {
        let raw = Value::Array(list.iter().map(|l| l.raw.clone()).collect());
        output::println_out(&serde_json::to_string_pretty(&raw).unwrap_or_default());
        return;
    }
    let mut t = Table::new(&["ID", "Label", "Owner", "Num Tasks", "Last task status"]);
    for l in list {
        t.row(vec![
            l.job.id.clone(),
            l.job.label.clone(),
            l.job.owner.clone(),
            num_tasks(l),
            l.job
                .last_task()
                .map(|t| t.status.clone())
                .unwrap_or_default(),
        ]);
    }
    output::print_listing(&format!("Found {}:", count(list.len(), "job", "jobs")), &t);
}

fn select(client: &Client, job_id: Option<&str>, filter: &JobFilter) -> Result<Vec<Listed>> {
    let mut list = match job_id {
        Some(id) => match jobs::find(client, id)? {
            Some(j) => vec![j],
            None => return Err(Error::not_found(format!("no job with ID {id}"))),
        },
        None => jobs::list_all(client)?,
    };
    list.retain(|j| filter.matches(&j.job));
    Ok(list)
}

fn delete(
    client: &Client,
    selected: &[Listed],
    force: bool,
    dry_run: bool,
    json: bool,
) -> Result<()> {
    if selected.is_empty() {
        errln!("No job matches, nothing to delete");
        return Ok(());
    }
    // System jobs are deleted one at a time only: skipped in a batch.
    let skip = |l: &Listed| selected.len() > 1 && l.job.is_system();
    let todo: Vec<&Listed> = selected.iter().filter(|l| !skip(l)).collect();
    let skipped = selected.len() - todo.len();
    if !dry_run && !todo.is_empty() {
        output::confirm::confirm(
            "jobs delete",
            force,
            &format!("Delete {}?", describe(&todo)),
            "nothing was deleted",
        )?;
    }
    if dry_run {
        errln!("Dry run: no job is deleted");
    }
    let mut results: Vec<(&Listed, String)> = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    for l in selected {
        let outcome = if skip(l) {
            "skipped: system jobs are deleted one at a time (--job-id)".to_string()
        } else if dry_run {
            "done (dry-run)".to_string()
        } else {
            match jobs::delete(client, &l.job.id) {
                Ok(Deleted::Done) => "done".to_string(),
                Ok(Deleted::AlreadyGone) => "done (it was already gone)".to_string(),
                Ok(Deleted::NotServed) if results.iter().all(|(_, r)| !r.starts_with("done")) => {
                    return Err(jobs::enterprise_only())
                }
                Ok(Deleted::NotServed) => {
                    errors.push(jobs::enterprise_only());
                    "failed: the server no longer serves DELETE /a/scheduler/jobs".to_string()
                }
                Err(e) => {
                    let e = admin_needed(e, &format!("cannot delete job {}", l.job.id));
                    let text = format!("failed: {}", e.message);
                    errors.push(e);
                    text
                }
            }
        };
        results.push((l, outcome));
    }
    print_results(&results, json);
    if dry_run {
        return Ok(());
    }
    outcome(selected.len(), skipped, errors)
}

/// "job <label>" or "3 jobs (<label>, <label>, …)".
fn describe(todo: &[&Listed]) -> String {
    let label = |l: &Listed| {
        if l.job.label.is_empty() {
            l.job.id.clone()
        } else {
            l.job.label.clone()
        }
    };
    if let [one] = todo {
        let kind = if one.job.is_system() {
            "system job"
        } else {
            "job"
        };
        return format!("{kind} '{}'", label(one));
    }
    let shown: Vec<String> = todo.iter().take(3).map(|l| label(l)).collect();
    let more = if todo.len() > 3 { ", …" } else { "" };
    format!("{} jobs ({}{more})", todo.len(), shown.join(", "))
}

fn print_results(results: &[(&Listed, String)], json: bool) {
    if json {
        let v: Vec<Value> = results
            .iter()
            .map(|(l, r)| json!({"JobID": l.job.id, "JobLabel": l.job.label, "Result": r}))
            .collect();
        output::println_out(&serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    let mut t = Table::new(&["ID", "Label", "Result"]);
    for (l, r) in results {
        t.row(vec![l.job.id.clone(), l.job.label.clone(), r.clone()]);
    }
    output::print_listing("Deletion results:", &t);
}

/// Exit status: a single job's own error; 1 when nothing was deleted, 6 when some were.
fn outcome(selected: usize, skipped: usize, mut errors: Vec<Error>) -> Result<()> {
    let failed = errors.len() + skipped;
    if failed == 0 {
        return Ok(());
    }
    if selected == 1 {
        if let Some(e) = errors.pop() {
            return Err(e);
        }
    }
    let msg = format!("{failed} of {selected} jobs were not deleted");
    if failed == selected {
        Err(Error::failure(msg))
    } else {
        Err(Error::partial(msg))
    }
}
