//! Download a binary into an open file, hashing it on the way (bounded memory), with a
//! progress display on a terminal and log lines elsewhere.
use std::fs::File;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::server::{agent, check_url};
use crate::api::http;
use crate::error::{Error, Result};
use crate::output::{self, human_size, log};

const MAX_REDIRECTS: usize = 5;

/// Stream `url` into `out`; exactly `size` bytes are accepted. Returns the SHA-256 of
/// what was written. `write_error` words a failed write (a full disk is the caller's).
pub fn download(
    url: &str,
    size: u64,
    out: &mut File,
    label: &str,
    write_error: &dyn Fn(std::io::Error) -> Error,
) -> Result<[u8; 32]> {
    let resp = get(url, label)?;
    if let Some(cl) = resp
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if cl != size {
            return Err(Error::failure(format!(
                "the download of {label} has {cl} bytes, the update server announced {size}"
            )));
        }
    }
    let mut body = resp.into_reader().take(size + 1);
    let mut hasher = Sha256::new();
    let mut meter = Meter::new(label, size);
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                meter.finish();
                return Err(read_error(label, got, size, &e));
            }
        };
        got += n as u64;
        if got > size {
            meter.finish();
            return Err(Error::failure(format!(
                "the download of {label} is larger than the {size} bytes the update server announced"
            )));
        }
        hasher.update(&buf[..n]);
        if let Err(e) = out.write_all(&buf[..n]) {
            meter.finish();
            return Err(write_error(e));
        }
        meter.show(got);
    }
    meter.finish();
    if got < size {
        return Err(truncated(label, got, size));
    }
    Ok(hasher.finalize().into())
}

fn truncated(label: &str, got: u64, size: u64) -> Error {
    Error::failure(format!(
        "the download of {label} is truncated: the connection closed after {got} of {size} bytes"
    ))
}

fn read_error(label: &str, got: u64, size: u64, e: &std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => return truncated(label, got, size),
        // Ctrl-C (a read with a time-out is not restarted after a signal).
        std::io::ErrorKind::Interrupted => return Error::interrupted(),
        _ => {}
    }
    Error::failure(format!(
        "the download of {label} failed after {got} of {size} bytes: {e}"
    ))
}

/// GET with redirects followed by hand, so that each hop passes the URL policy and gets
/// the proxy chosen for its own host.
fn get(url: &str, label: &str) -> Result<ureq::Response> {
    let mut u = check_url(url, "binary")?;
    for _ in 0..=MAX_REDIRECTS {
        http::debug(format!("update: GET {}", http::redact_url(u.as_str())));
        let resp = match agent(&u)?.get(u.as_str()).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => return Err(status(label, code, r)),
            Err(ureq::Error::Transport(t)) => {
                return Err(crate::api::neterr::of_transport(u.as_str(), &t)
                    .context(format!("cannot download {label}")))
            }
        };
        match resp.status() {
            200 => return Ok(resp),
            301 | 302 | 303 | 307 | 308 => {
                let loc = resp.header("Location").unwrap_or("").to_string();
                let next = u.join(&loc).map_err(|e| {
                    Error::failure(format!("cannot download {label}: bad redirect: {e}"))
                })?;
                u = check_url(next.as_str(), "binary")?;
            }
            code => return Err(status(label, code, resp)),
        }
    }
    Err(Error::failure(format!(
        "cannot download {label}: more than {MAX_REDIRECTS} redirects"
    )))
}

fn status(label: &str, code: u16, resp: ureq::Response) -> Error {
    let mut body = String::new();
    let _ = resp.into_reader().take(64 * 1024).read_to_string(&mut body);
    let text = crate::api::reply::error_text(&body);
    let sep = if text.is_empty() { "" } else { ": " };
    Error::failure(format!(
        "cannot download {label}: the server answered {code}{sep}{text}"
    ))
}

/// `Downloading cec 4.3.2: 42% (11 MiB of 27 MiB)`: redrawn in place on a terminal,
/// a log line at every quarter elsewhere.
struct Meter {
    label: String,
    total: u64,
    tty: bool,
    shown: Option<u64>,
    last: Instant,
}

impl Meter {
    fn new(label: &str, total: u64) -> Meter {
        Meter {
            label: label.to_string(),
            total: total.max(1),
            tty: output::is_stderr_tty(),
            shown: None,
            last: Instant::now(),
        }
    }

    fn line(&self, done: u64, pct: u64) -> String {
        format!(
            "Downloading {}: {pct}% ({} of {})",
            self.label,
            human_size(done),
            human_size(self.total)
        )
    }

    fn show(&mut self, done: u64) {
        let pct = done * 100 / self.total;
        if self.tty {
            let due = self.last.elapsed() >= Duration::from_millis(100) || pct == 100;
            if self.shown != Some(pct) && (due || self.shown.is_none()) {
                errprint!("\r{}\x1b[K", self.line(done, pct));
                self.shown = Some(pct);
                self.last = Instant::now();
            }
        } else {
            let quarter = pct / 25 * 25;
            if pct >= 25 && self.shown.is_none_or(|s| s < quarter) {
                log::info(&self.line(done, pct));
                self.shown = Some(quarter);
            }
        }
    }

    fn finish(&mut self) {
        if self.tty && self.shown.is_some() {
            errprint!("\n");
            self.shown = None;
        }
    }
}
