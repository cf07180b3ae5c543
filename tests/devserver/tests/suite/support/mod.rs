//! Shared helpers of the dev server's tests (REST, S3, OAuth, update front): start `cells-devserver` on a
//! private root, mint tokens, and a tiny HTTP client that does not follow redirects.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cells-devserver")
}

/// A fresh empty directory under the system temp dir.
pub fn temp_root(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir()
        .join("cells-devserver-tests")
        .join(format!(
            "{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running server, killed on drop (its root is removed unless `keep_root`).
pub struct Srv {
    pub url: String,
    pub root: PathBuf,
    child: Child,
    pub keep_root: bool,
}

impl Srv {
    /// Start on a new root with extra `serve` flags.
    pub fn start(tag: &str, args: &[&str]) -> Srv {
        Srv::start_on(temp_root(tag), args, &[])
    }

    /// Start on `root` (kept or created) with extra flags and environment.
    pub fn start_on(root: PathBuf, args: &[&str], env: &[(&str, &str)]) -> Srv {
        let log = std::fs::File::create(root.with_extension("log")).unwrap();
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .arg("--root")
            .arg(&root)
            .args(["--listen", "127.0.0.1:0"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start cells-devserver");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).expect("read first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    root.with_extension("log").display()
                )
            })
            .to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Srv {
            url,
            root,
            child,
            keep_root: false,
        }
    }

    pub fn token(&self, user: &str) -> String {
        token_for(&self.root, user, None)
    }

    pub fn token_expiring(&self, user: &str, e: &str) -> String {
        token_for(&self.root, user, Some(e))
    }

    /// Stop the server and keep its root (for restart tests).
    pub fn stop(mut self) -> PathBuf {
        self.keep_root = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.root.clone()
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_root && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
            let _ = std::fs::remove_file(self.root.with_extension("log"));
        }
    }
}

pub fn token_for(root: &Path, user: &str, e: Option<&str>) -> String {
    let mut cmd = Command::new(bin());
    cmd.arg("token").arg("--root").arg(root).args(["-u", user]);
    if let Some(e) = e {
        cmd.args(["-e", e]);
    }
    let out = cmd.output().expect("run cells-devserver token");
    assert!(
        out.status.success(),
        "token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(60))
        .build()
}

fn reduce(r: Result<ureq::Response, ureq::Error>) -> Resp {
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    Resp {
        status: r.status(),
        location: r.header("location").map(str::to_owned),
        content_type: r.header("content-type").unwrap_or("").to_owned(),
        body: r.into_string().unwrap_or_default(),
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    reduce(req.call())
}

pub fn post_form(url: &str, form: &[(&str, &str)]) -> Resp {
    reduce(agent().post(url).send_form(form))
}

pub fn post(url: &str, content_type: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().post(url).set("Content-Type", content_type);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    reduce(req.send_string(body))
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// An HTML form as a browser sees it: method, action and the named `<input>` fields.
#[derive(Debug)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let j = tag[i..].find('"')? + i;
    Some(html_unescape(&tag[i..j]))
}

/// Parse the first `<form>` of a page (plain HTML, as served by the OAuth front).
pub fn parse_form(html: &str) -> Form {
    let start = html.find("<form").expect("a <form> in the page");
    let end = html[start..]
        .find("</form>")
        .map(|e| e + start)
        .expect("</form>");
    let form_tag = &html[start..html[start..].find('>').unwrap() + start];
    let mut fields = Vec::new();
    let mut rest = &html[start..end];
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i..tag_end];
        if let Some(n) = attr(tag, "name") {
            fields.push((n, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    Form {
        method: attr(form_tag, "method").unwrap_or_else(|| "get".into()),
        action: attr(form_tag, "action").unwrap_or_default(),
        fields,
    }
}

/// Resolve a form action or Location against the server URL.
pub fn absolute(base: &str, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        target.to_owned()
    } else {
        format!("{}{}", base.trim_end_matches('/'), target)
    }
}
