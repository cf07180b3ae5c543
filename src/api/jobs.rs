//! User jobs (docs/protocol.md §3.5–§3.6): server-side copy / move, and waiting
//! for background jobs (copy, move, delete) with a timeout and their REAL
//! final status.
//!
//! Differences from the reference (docs/compatibility.md §4.8): a job that fails,
//! is interrupted or reports an unknown status is an error; a job that
//! disappears (user jobs are `AutoClean` and vanish once done) is reported
//! as [`JobEnd::Vanished`] so the caller can verify the result itself (e.g.
//! stat the expected target); waiting has a timeout.
//!
//! - [`create_user_job`] / [`copy_move`]: `PUT /a/jobs/user/{name}`.
//! - [`job_state`]: one `POST /a/jobs/user` status query.
//! - [`wait`]: poll one job until it ends (optional progress callback).
//! - [`wait_all`]: wait for several jobs (e.g. the delete jobs of `rm`).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Client;
use crate::error::{Error, Result};

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
/// `JsonParameters` string. Returns the job id.
pub fn create_user_job(client: &Client, name: &str, params: &serde_json::Value) -> Result<String> {
    let req = UserJobRequest {
        json_parameters: params.to_string(),
    };
    let url = format!("/a/jobs/user/{}", super::tree::escape_segment(name));
    let resp: UserJobResponse = client.put_json(&url, &req)?;
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
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Job {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "Tasks", default)]
    pub tasks: Vec<Task>,
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
    Finished,
    /// `Error`, `Interrupted`, `Unknown` or anything unexpected, with the
    /// task's message.
    Failed {
        status: String,
        message: String,
    },
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
    let Some(task) = job
        .tasks
        .iter()
        .enumerate()
        .max_by_key(|(i, t)| (t.start_time, *i))
        .map(|(_, t)| t.clone())
    else {
        return Ok(JobState::Pending);
    };
    Ok(match task.status.as_str() {
        "Idle" => JobState::Pending,
        "Running" | "Queued" | "Paused" => JobState::Running {
            progress: task.has_progress.then_some(task.progress),
            message: task.status_message,
        },
        "Finished" => JobState::Finished,
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
            JobState::Finished => return Ok(JobEnd::Finished),
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
