//! User jobs (docs/protocol.md §3.5–§3.6): server-side copy / move, and waiting
//! for background jobs (copy, move, delete) with a timeout and their REAL
//! final status.
//!
//! Differences from the reference (docs/compatibility.md §4.9): a job that fails,
//! is interrupted or reports an unknown status is an error; a job that
//! disappears (user jobs are `AutoClean` and vanish once done) is reported
//! as [`JobEnd::Vanished`] so the caller can verify the result itself (e.g.
//! stat the expected target); waiting has a timeout.
//!
//! - [`create_user_job`] / [`copy_move`]: `PUT /a/jobs/user/{name}`.
//! - [`job_state`]: one `POST /a/jobs/user` status query.
//! - [`wait`]: poll one job until it ends (optional progress callback).
//! - [`wait_all`]: wait for several jobs (e.g. the delete jobs of `rm`).
//! - [`list_all`] / [`find`]: every job the user may see (all owners for an
//!   administrator), with their tasks, for `jobs get` / `jobs delete`.
//! - [`JobFilter`]: the `--filter` of `jobs get` / `jobs delete`.
//! - [`delete`]: `DELETE /a/scheduler/jobs/{id}`, a Cells Enterprise route
//!   (docs/protocol.md §3.11); another edition gets [`enterprise_only`].

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Client;
use crate::error::{Error, Exit, Result};

/// How often a running job is polled.
pub const POLL_EVERY: Duration = Duration::from_millis(300);

/// A job that stays without a running task (no task yet, or `Idle`) this
/// long is reported as not started.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize)]
struct UserJobRequest {
    #[serde(rename = "JsonParameters")]
    json_parameters: String,
}

#[derive(Debug, Default, Deserialize)]
struct UserJobResponse {
    #[serde(rename = "JobUuid", default)]
    job_uuid: String,
}

/// `PUT /a/jobs/user/{name}` with `params` serialised as the
/// `JsonParameters` string. Returns the job id. Each call starts a new job, so
/// a call whose reply was lost is not sent again (a copy would be made twice).
pub fn create_user_job(client: &Client, name: &str, params: &serde_json::Value) -> Result<String> {
    let req = UserJobRequest {
        json_parameters: params.to_string(),
    };
    let url = format!("/a/jobs/user/{}", super::tree::escape_segment(name));
    let resp: UserJobResponse = client.put_json_once(&url, &req).map_err(|mut e| {
        if e.net_kind().is_some_and(|k| !k.before_sending()) {
            e.message
                .push_str("; the server may have started it anyway: check before running again");
        }
        e
    })?;
    if resp.job_uuid.is_empty() {
        return Err(Error::failure(format!(
            "the server did not start the {name} job (no job id returned)"
        )));
    }
    Ok(resp.job_uuid)
}

/// Which server-side transfer to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMove {
    Copy,
    Move,
}

/// Start a `copy` or `move` job. `into_folder = true` (`targetParent`):
/// `target` is an existing folder and the sources go inside it; `false`:
/// `target` is the full new path of the single source (copy-as / rename).
pub fn copy_move(
    client: &Client,
    kind: CopyMove,
    sources: &[String],
    target: &str,
    into_folder: bool,
) -> Result<String> {
    let params = serde_json::json!({
        "target": target,
        "nodes": sources,
        "targetParent": into_folder,
    });
    let name = match kind {
        CopyMove::Copy => "copy",
        CopyMove::Move => "move",
    };
    create_user_job(client, name, &params)
}

#[derive(Debug, Serialize)]
struct ListJobsRequest<'a> {
    #[serde(rename = "JobIDs")]
    job_ids: Vec<&'a str>,
    #[serde(rename = "LoadTasks")]
    load_tasks: &'static str,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Task {
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "StatusMessage", default)]
    pub status_message: String,
    #[serde(rename = "HasProgress", default)]
    pub has_progress: bool,
    #[serde(rename = "Progress", default)]
    pub progress: f64,
    #[serde(rename = "StartTime", default)]
    pub start_time: i64,
    #[serde(rename = "EndTime", default)]
    pub end_time: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Job {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "Label", default)]
    pub label: String,
    #[serde(rename = "Owner", default)]
    pub owner: String,
    #[serde(rename = "Tasks", default)]
    pub tasks: Vec<Task>,
}

/// Owner of the server's own jobs (thumbnails, clean-ups, ...).
pub const SYSTEM_OWNER: &str = "pydio.system.user";

impl Job {
    /// The most recent task: latest `StartTime`, ties → last in the list.
    pub fn last_task(&self) -> Option<&Task> {
        self.tasks
            .iter()
            .enumerate()
            .max_by_key(|(i, t)| (t.start_time, *i))
            .map(|(_, t)| t)
    }

    /// A job of the server itself (deleted only one at a time, with confirmation).
    pub fn is_system(&self) -> bool {
        self.owner == SYSTEM_OWNER
    }
}

#[derive(Debug, Default, Deserialize)]
struct JobsCollection {
    #[serde(rename = "Jobs", default)]
    jobs: Vec<Job>,
}

/// The state of a job at one point in time.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// The server no longer knows the job (finished AutoClean job, or never existed).
    Vanished,
    /// Known but not started: no task yet, or its task is `Idle`.
    Pending,
    /// Last task status `Running`, `Queued` or `Paused`;
    /// progress 0..1 when the task reports one, and its message.
    Running {
        progress: Option<f64>,
        message: String,
    },
    /// `Finished`, with the task's message.
    Finished { message: String },
    /// `Error`, `Interrupted`, `Unknown` or anything unexpected, with the
    /// task's message.
    Failed { status: String, message: String },
}

/// One status query: `POST /a/jobs/user {"JobIDs":[id],"LoadTasks":"Any"}`;
/// the status is that of the most recent task (latest `StartTime`, ties →
/// last in the list).
pub fn job_state(client: &Client, id: &str) -> Result<JobState> {
    let req = ListJobsRequest {
        job_ids: vec![id],
        load_tasks: "Any",
    };
    let resp: JobsCollection = client.post_json_idempotent("/a/jobs/user", &req)?;
    let Some(job) = resp
        .jobs
        .into_iter()
        .find(|j| j.id == id || j.id.is_empty())
    else {
        return Ok(JobState::Vanished);
    };
    let Some(task) = job.last_task().cloned() else {
        return Ok(JobState::Pending);
    };
    Ok(match task.status.as_str() {
        "Idle" => JobState::Pending,
        "Running" | "Queued" | "Paused" => JobState::Running {
            progress: task.has_progress.then_some(task.progress),
            message: task.status_message,
        },
        "Finished" => JobState::Finished {
            message: task.status_message,
        },
        "" => JobState::Failed {
            status: "Unknown".into(),
            message: task.status_message,
        },
        other => JobState::Failed {
            status: other.to_string(),
            message: task.status_message,
        },
    })
}

/// How a waited-for job ended (failures are errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    /// The last task reported `Finished`.
    Finished,
    /// The job disappeared before a final status was seen (AutoClean). The
    /// caller must check the expected result to decide success.
    Vanished,
}

/// Poll job `id` every [`POLL_EVERY`] until it ends or `timeout` elapses.
/// `on_progress(state)` is called after every poll (for a progress line).
/// Errors: task `Error`/`Interrupted`/`Unknown` → exit 1 with the task's
/// message; not started within [`START_TIMEOUT`] → exit 1; `timeout` → exit
/// 1 "timed out after N s waiting for job …" (the job keeps running on the
/// server).
pub fn wait(
    client: &Client,
    id: &str,
    timeout: Duration,
    mut on_progress: impl FnMut(&JobState),
) -> Result<JobEnd> {
    let start = Instant::now();
    let mut pending_since: Option<Instant> = None;
    loop {
        let st = job_state(client, id)?;
        on_progress(&st);
        match st {
            JobState::Finished { .. } => return Ok(JobEnd::Finished),
            JobState::Vanished => return Ok(JobEnd::Vanished),
            JobState::Failed { status, message } => {
                let what = match status.as_str() {
                    "Interrupted" => "was interrupted".to_string(),
                    "Error" => "failed".to_string(),
                    s => format!("ended with status {s}"),
                };
                return Err(if message.is_empty() {
                    Error::failure(format!("server job {id} {what}"))
                } else {
                    Error::failure(format!("server job {id} {what}: {message}"))
                });
            }
            JobState::Pending => {
                let since = *pending_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= START_TIMEOUT {
                    return Err(Error::failure(format!(
                        "server job {id} did not start within {}s",
                        START_TIMEOUT.as_secs()
                    )));
                }
            }
            JobState::Running { .. } => pending_since = None,
        }
        if start.elapsed() >= timeout {
            return Err(Error::failure(format!(
                "timed out after {}s waiting for server job {id} (it may still complete on the server)",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Wait for every job of `ids` (sequentially; they run in parallel on the
/// server anyway). Returns one result per job, in order.
pub fn wait_all(client: &Client, ids: &[String], timeout: Duration) -> Vec<Result<JobEnd>> {
    let start = Instant::now();
    ids.iter()
        .map(|id| {
            let left = timeout.saturating_sub(start.elapsed());
            wait(client, id, left.max(Duration::from_secs(1)), |_| {})
        })
        .collect()
}

// ---------------------------------------------------------------- listing and deletion

/// Tasks loaded per job when listing (`jobs get` shows `100+` when a job has more).
pub const TASKS_LIMIT: usize = 100;

#[derive(Debug, Serialize)]
struct SearchJobs<'a> {
    #[serde(rename = "JobIDs", skip_serializing_if = "Vec::is_empty")]
    job_ids: Vec<&'a str>,
    #[serde(rename = "Owner")]
    owner: &'static str,
    #[serde(rename = "LoadTasks")]
    load_tasks: &'static str,
    #[serde(rename = "TasksLimit")]
    tasks_limit: usize,
}

/// A listed job: the fields cec reads, and the object as the server sent it (for
/// `jobs get --format json`).
#[derive(Debug, Clone)]
pub struct Listed {
    pub job: Job,
    pub raw: Value,
}

fn search(client: &Client, ids: Vec<&str>) -> Result<Vec<Listed>> {
    let req = SearchJobs {
        job_ids: ids,
        owner: "*",
        load_tasks: "Any",
        tasks_limit: TASKS_LIMIT,
    };
    let resp: Value = client
        .post_json_idempotent("/a/jobs/user", &req)
        .map_err(|e| e.context("cannot list jobs"))?;
    let jobs = match resp.get("Jobs") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(Error::failure(
                "cannot list jobs: unexpected server response (Jobs is not a list)",
            ))
        }
    };
    jobs.iter()
        .map(|raw| {
            let job: Job = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::failure(format!("cannot list jobs: unexpected server response: {e}"))
            })?;
            Ok(Listed {
                job,
                raw: raw.clone(),
            })
        })
        .collect()
}

/// Every job the account may see: all owners for an administrator (the server limits
/// other accounts to their own jobs), each with up to [`TASKS_LIMIT`] tasks.
pub fn list_all(client: &Client) -> Result<Vec<Listed>> {
    let mut jobs = search(client, Vec::new())?;
    jobs.retain(|j| !j.job.id.is_empty());
    Ok(jobs)
}

/// The job `id`, if the server knows it (and the account may see it).
pub fn find(client: &Client, id: &str) -> Result<Option<Listed>> {
    Ok(search(client, vec![id])?
        .into_iter()
        .find(|j| j.job.id == id))
}

/// The error for a server that does not serve the Enterprise job deletion route.
pub fn enterprise_only() -> Error {
    Error::failure(
        "deleting jobs needs Cells Enterprise: this server does not serve DELETE /a/scheduler/jobs (no job was deleted)",
    )
}

/// How a deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Done,
    /// The job was gone already (e.g. an AutoClean job that finished meanwhile).
    AlreadyGone,
    /// The server does not serve the route (not Cells Enterprise): see [`enterprise_only`].
    NotServed,
}

/// `DELETE /a/scheduler/jobs/{id}`. A 404 for a job that still exists, a 405 or a 501
/// mean the route is not served.
pub fn delete(client: &Client, id: &str) -> Result<Deleted> {
    let url = format!("/a/scheduler/jobs/{}", super::escape_segment(id));
    match client.delete_json::<Value>(&url) {
        Ok(_) => Ok(Deleted::Done),
        Err(e) if matches!(e.status_code(), Some(405 | 501)) => Ok(Deleted::NotServed),
        Err(e) if e.exit == Exit::NotFound => match find(client, id)? {
            Some(_) => Ok(Deleted::NotServed),
            None => Ok(Deleted::AlreadyGone),
        },
        Err(e) => Err(e),
    }
}

/// The `--filter` of `jobs get` / `jobs delete`: a JSON object of conditions, all of which
/// must hold, e.g. `{"owner":{"op":"eq","value":"admin"},"numtasks":{"op":">","value":3}}`.
/// Fields: `owner`, `numtasks` (tasks loaded, at most [`TASKS_LIMIT`]), `task_status` (of
/// the most recent task, `""` without task; compared without regard to case). Operators:
/// `eq`/`==`, `ne`/`!=`, and for `numtasks` also `gt`/`>`, `lt`/`<`.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    conds: Vec<Cond>,
}

#[derive(Debug, Clone)]
enum Cond {
    Owner(bool, String),
    Status(bool, String),
    NumTasks(std::cmp::Ordering, bool, f64),
}

impl JobFilter {
    /// Parse the filter text; the error says what is wrong (a usage error for the caller).
    pub fn parse(text: &str) -> std::result::Result<JobFilter, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let obj = v.as_object().ok_or("expected a JSON object")?;
        let mut conds = Vec::new();
        for (field, c) in obj {
            let op = c.get("op").and_then(Value::as_str).unwrap_or("");
            let value = c.get("value").unwrap_or(&Value::Null);
            conds.push(cond(field, op, value)?);
        }
        Ok(JobFilter { conds })
    }

    pub fn matches(&self, job: &Job) -> bool {
        let status = job.last_task().map_or("", |t| t.status.as_str());
        self.conds.iter().all(|c| match c {
            Cond::Owner(eq, v) => (job.owner == *v) == *eq,
            Cond::Status(eq, v) => status.eq_ignore_ascii_case(v) == *eq,
            Cond::NumTasks(ord, eq, v) => {
                let n = job.tasks.len() as f64;
                (n.partial_cmp(v) == Some(*ord)) == *eq
            }
        })
    }
}

fn cond(field: &str, op: &str, value: &Value) -> std::result::Result<Cond, String> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let (ord, eq) = match op {
        "eq" | "==" => (Equal, true),
        "ne" | "!=" => (Equal, false),
        "gt" | ">" => (Greater, true),
        "lt" | "<" => (Less, true),
        _ => {
            return Err(format!(
                "unknown operator '{op}' for {field}: use eq, ne, gt or lt"
            ))
        }
    };
    let text = || match value {
        Value::String(s) if ord == Equal => Ok(s.clone()),
        Value::String(_) => Err(format!("{field} is compared with eq or ne only")),
        _ => Err(format!("{field} needs a text value")),
    };
    match field {
        "owner" => Ok(Cond::Owner(eq, text()?)),
        "task_status" => Ok(Cond::Status(eq, text()?)),
        "numtasks" => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("numtasks needs a number, not {value}"))?;
            Ok(Cond::NumTasks(ord, eq, n))
        }
        other => Err(format!(
            "unknown filter field '{other}': use owner, numtasks or task_status"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(owner: &str, statuses: &[(&str, i64)]) -> Job {
        Job {
            id: "j".into(),
            owner: owner.into(),
            tasks: statuses
                .iter()
                .map(|(s, t)| Task {
                    status: s.to_string(),
                    start_time: *t,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn last_task_is_the_most_recent() {
        let j = job("a", &[("Error", 30), ("Finished", 10), ("Running", 30)]);
        assert_eq!(j.last_task().unwrap().status, "Running");
        assert!(job("a", &[]).last_task().is_none());
    }

    #[test]
    fn filters() {
        let j = job(SYSTEM_OWNER, &[("Finished", 1), ("Error", 2)]);
        let f = |t: &str| JobFilter::parse(t).unwrap().matches(&j);
        assert!(f(r#"{"task_status":{"op":"eq","value":"error"}}"#));
        assert!(!f(r#"{"task_status":{"op":"!=","value":"Error"}}"#));
        assert!(f(
            r#"{"owner":{"op":"==","value":"pydio.system.user"},"numtasks":{"op":">","value":1}}"#
        ));
        assert!(!f(r#"{"numtasks":{"op":"lt","value":"2"}}"#));
        assert!(f(r#"{"numtasks":{"op":"ne","value":3}}"#));
        assert!(f("{}"));
        for bad in [
            r#"{"nope":{"op":"eq","value":1}}"#,
            r#"{"owner":{"op":"gt","value":"a"}}"#,
            r#"{"owner":{"op":"~","value":"a"}}"#,
            r#"{"numtasks":{"op":"gt","value":"x"}}"#,
            r#"[1]"#,
        ] {
            assert!(JobFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
