//! Server state: the data tree on disk, an in-memory index of every node (uuid, size, mtime,
//! content hash, user metas, child lists), share links, jobs, deleted ACLs and the token secret.
//!
//! Persistence: `ROOT/meta.json` (snapshot, written atomically) plus `ROOT/meta.journal`
//! (one JSON operation per line, appended on every change, so a killed server loses nothing).
//! At start-up the snapshot and journal are replayed, the disk is rescanned (files added or
//! changed behind the server's back are picked up) and a fresh snapshot is written.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Digest;
use sha2::Sha256;

use crate::host::{Denied, Host};

pub const RECYCLE: &str = "recycle_bin";

pub struct User {
    pub login: &'static str,
    pub password: &'static str,
    pub uuid: &'static str,
    pub admin: bool,
    pub display: &'static str,
}

pub const USERS: &[User] = &[
    User {
        login: "admin",
        password: "admin123",
        uuid: "0a6b3b9e-5c4d-4a1e-9f10-000000000001",
        admin: true,
        display: "Administrator",
    },
    User {
        login: "alice",
        password: "alice123",
        uuid: "0a6b3b9e-5c4d-4a1e-9f10-000000000002",
        admin: false,
        display: "Alice",
    },
    User {
        login: "bob",
        password: "bob123",
        uuid: "0a6b3b9e-5c4d-4a1e-9f10-000000000003",
        admin: false,
        display: "Bob",
    },
];

pub fn user(login: &str) -> Option<&'static User> {
    USERS.iter().find(|u| u.login == login)
}

pub fn is_admin(login: &str) -> bool {
    user(login).map(|u| u.admin).unwrap_or(false)
}

#[derive(Debug)]
pub struct Ws {
    pub slug: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub scope: &'static str,
    pub uuid: &'static str,
    pub members: Option<&'static [&'static str]>,
}

pub const WORKSPACES: &[Ws] = &[
    Ws {
        slug: "personal-files",
        label: "My Files",
        description: "Personal files of each user",
        scope: "ADMIN",
        uuid: "b1e3c0de-0000-4000-8000-000000000001",
        members: None,
    },
    Ws {
        slug: "common-files",
        label: "Common Files",
        description: "Data shared by all users",
        scope: "ADMIN",
        uuid: "b1e3c0de-0000-4000-8000-000000000002",
        members: None,
    },
    Ws {
        slug: "team-cell",
        label: "Team Cell",
        description: "A Cell shared by admin and alice",
        scope: "ROOM",
        uuid: "b1e3c0de-0000-4000-8000-000000000003",
        members: Some(&["admin", "alice"]),
    },
];

/// A datasource: its folder under `DIR/data/` (local ones), or an S3 storage that the
/// dev server cannot reach (its resync jobs fail).
pub struct Ds {
    pub name: &'static str,
    /// `None` for a local datasource; the S3 host otherwise.
    pub s3_host: Option<&'static str>,
}

pub const DATASOURCES: &[Ds] = &[
    Ds {
        name: "personal",
        s3_host: None,
    },
    Ds {
        name: "common",
        s3_host: None,
    },
    Ds {
        name: "cells",
        s3_host: None,
    },
    Ds {
        name: "archive",
        s3_host: Some("s3.archive.invalid"),
    },
];

/// The secret key shown in the `archive` datasource (`ApiSecret`), for tests that check
/// that clients never print it.
pub const ARCHIVE_SECRET: &str = "archive-secret-5f3b9c1d7e";

pub fn ds_by_name(name: &str) -> Option<&'static Ds> {
    DATASOURCES.iter().find(|d| d.name == name)
}

/// Which Cells edition the server plays: the Enterprise API (`DELETE /scheduler/jobs`)
/// is served only by `Enterprise`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edition {
    Enterprise,
    Community,
}

/// A user of the `--seed-users N` set: listed by the idm searches, cannot log in.
#[derive(Clone, Debug)]
pub struct SeedUser {
    pub login: String,
    pub uuid: String,
    pub display: String,
    pub group_path: String,
}

/// `user00001` ... `userN`; every tenth one is in the `engineering` group.
pub fn seed_users(n: usize) -> Vec<SeedUser> {
    (1..=n)
        .map(|i| SeedUser {
            login: format!("user{i:05}"),
            uuid: format!("5eed0000-0000-4000-8000-{i:012}"),
            display: format!("Seeded User {i}"),
            group_path: if i % 10 == 0 { "/engineering" } else { "/" }.to_string(),
        })
        .collect()
}

impl Ws {
    pub fn root_key(&self, login: &str) -> String {
        match self.slug {
            "personal-files" => format!("personal/{login}"),
            "common-files" => "common".to_string(),
            _ => "cells/team-cell".to_string(),
        }
    }
    pub fn allows(&self, login: &str) -> bool {
        user(login).is_some() && self.members.map(|m| m.contains(&login)).unwrap_or(true)
    }
}

pub fn ws_by_slug(slug: &str) -> Option<&'static Ws> {
    WORKSPACES.iter().find(|w| w.slug == slug)
}

/// A user-side path resolved to the index.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Internal key, e.g. `common/a/b.txt`.
    pub key: String,
    /// Normalised user path, e.g. `common-files/a/b.txt`.
    pub upath: String,
    pub root_key: String,
}

impl Resolved {
    pub fn is_root(&self) -> bool {
        self.key == self.root_key
    }
    /// Inside (or equal to) the workspace's recycle bin.
    pub fn in_recycle(&self) -> bool {
        let rb = format!("{}/{}", self.root_key, RECYCLE);
        self.key == rb || self.key.starts_with(&(rb + "/"))
    }
}

/// Normalise a user path: trim slashes, collapse `//`, refuse `.`/`..` components.
pub fn normalize(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" => {}
            "." | ".." => return None,
            c if c.contains('\0') => return None,
            c => out.push(c.to_string()),
        }
    }
    Some(out)
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn parent_of(key: &str) -> (&str, &str) {
    match key.rfind('/') {
        Some(i) => (&key[..i], &key[i + 1..]),
        None => ("", key),
    }
}

pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The Cells content hash of a file (cec's own `cells-hash` crate: the blocks side by
/// side on md5x8's lanes, which matters when the server indexes large uploads).
pub fn cells_hash(path: &Path) -> std::io::Result<String> {
    cells_hash::hash_file(path)
}

#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub uuid: String,
    pub dir: bool,
    /// File size, or for a folder the cumulated size of its files (kept up to date).
    pub size: u64,
    pub mtime: i64,
    pub hash: Option<String>,
    pub metas: BTreeMap<String, String>,
    pub visible_at: u64,
    pub dirs: BTreeSet<String>,
    pub files: BTreeSet<String>,
}

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct PNode {
    u: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    h: Option<String>,
    #[serde(default)]
    hs: u64,
    #[serde(default)]
    hm: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    m: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Job {
    pub id: String,
    pub task_id: String,
    pub owner: String,
    pub label: String,
    pub status: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub progress: f64,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub start: i64,
    #[serde(default)]
    pub end: i64,
    #[serde(default)]
    pub auto_clean: bool,
    /// Earlier runs of the job (oldest first), listed before the current task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<TaskRun>,
}

/// One past run of a job.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct TaskRun {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub message: String,
    pub start: i64,
    pub end: i64,
}

/// The owner of the server's own jobs.
pub const SYSTEM_OWNER: &str = "pydio.system.user";

/// The jobs of a fresh root: system jobs (one with runs that ended in an error) and a
/// failed user job of alice. `jobs delete` tests remove some: each has its own purpose.
fn seeded_jobs(now: i64) -> Vec<Job> {
    let run = |i: usize, status: &str, msg: &str, start: i64| TaskRun {
        id: format!("seed-task-{i}"),
        status: status.into(),
        message: msg.into(),
        start,
        end: start + 5,
    };
    let job = |id: &str, owner: &str, label: &str, status: &str, msg: &str, history| Job {
        id: id.into(),
        task_id: format!("{id}-task"),
        owner: owner.into(),
        label: label.into(),
        status: status.into(),
        message: msg.into(),
        progress: if status == "Finished" { 1.0 } else { 0.0 },
        created: now - 86_400,
        start: now - 600,
        end: now - 590,
        auto_clean: false,
        history,
    };
    vec![
        job(
            "thumbs-job",
            SYSTEM_OWNER,
            "Generate thumbnails",
            "Error",
            "cannot decode image",
            vec![
                run(1, "Finished", "Done", now - 3000),
                run(2, "Finished", "Done", now - 2000),
            ],
        ),
        job(
            "clean-shares-job",
            SYSTEM_OWNER,
            "Clean expired share links",
            "Finished",
            "Removed 0 links",
            vec![run(3, "Finished", "Removed 2 links", now - 4000)],
        ),
        job(
            "archive-sync-job",
            SYSTEM_OWNER,
            "Synchronise the archive",
            "Error",
            "storage unreachable",
            Vec::new(),
        ),
        job(
            "versions-prune-job",
            SYSTEM_OWNER,
            "Prune old versions",
            "Finished",
            "Nothing to prune",
            Vec::new(),
        ),
        job(
            "alice-export-job",
            "alice",
            "Export alice's files",
            "Error",
            "disk full",
            Vec::new(),
        ),
    ]
}

#[derive(Serialize, Deserialize, Default)]
struct Snapshot {
    #[serde(default)]
    nodes: BTreeMap<String, PNode>,
    #[serde(default)]
    shares: BTreeMap<String, Value>,
    #[serde(default)]
    jobs: BTreeMap<String, Job>,
    #[serde(default)]
    acl_deleted: BTreeSet<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op")]
enum Op {
    Node { k: String, v: Option<PNode> },
    Tree { k: String },
    Rename { from: String, to: String },
    Share { k: String, v: Option<Value> },
    Job { k: String, v: Option<Job> },
    AclDel { k: String },
}

fn subtree_keys<V>(map: &BTreeMap<String, V>, k: &str) -> Vec<String> {
    let mut out = Vec::new();
    if map.contains_key(k) {
        out.push(k.to_string());
    }
    let pre = format!("{k}/");
    for (key, _) in map.range(pre.clone()..) {
        if !key.starts_with(&pre) {
            break;
        }
        out.push(key.clone());
    }
    out
}

impl Snapshot {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Node { k, v: Some(v) } => {
                self.nodes.insert(k, v);
            }
            Op::Node { k, v: None } => {
                self.nodes.remove(&k);
            }
            Op::Tree { k } => {
                for key in subtree_keys(&self.nodes, &k) {
                    self.nodes.remove(&key);
                }
            }
            Op::Rename { from, to } => {
                for key in subtree_keys(&self.nodes, &from) {
                    if let Some(v) = self.nodes.remove(&key) {
                        self.nodes.insert(format!("{to}{}", &key[from.len()..]), v);
                    }
                }
            }
            Op::Share { k, v: Some(v) } => {
                self.shares.insert(k, v);
            }
            Op::Share { k, v: None } => {
                self.shares.remove(&k);
            }
            Op::Job { k, v: Some(v) } => {
                self.jobs.insert(k, v);
            }
            Op::Job { k, v: None } => {
                self.jobs.remove(&k);
            }
            Op::AclDel { k } => {
                self.acl_deleted.insert(k);
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub root: PathBuf,
    pub listen: String,
    pub tls: bool,
    pub index_delay_ms: u64,
    pub latency_ms: u64,
    pub fail_rate: f64,
    /// `--fail-burst N:TEXT` (repeatable): the first N requests whose `METHOD URI`
    /// contains TEXT get an injected 503 (a burst of failures at a chosen place).
    pub fail_bursts: Vec<(u64, String)>,
    /// `--cut-burst N:TEXT` (repeatable): the same selection is served, then its reply
    /// is cut (the work is done, the client never hears of it).
    pub cut_bursts: Vec<(u64, String)>,
    pub drop_after_bytes: Option<u64>,
    pub token_lifetime: u64,
    pub require_pkce: bool,
    /// `--token-delay-ms`: the OAuth token endpoint answers this late, after doing its
    /// work (a refresh token is spent before the client hears of its successor).
    pub token_delay_ms: u64,
    pub job_delay_ms: u64,
    pub seed: u64,
    pub edition: Edition,
    /// Extra users listed by the idm searches (`--seed-users N`).
    pub seed_users: usize,
    /// S3 requests with `x-amz-content-sha256: UNSIGNED-PAYLOAD` get 403 AccessDenied.
    pub refuse_unsigned_payload: bool,
    /// `--reset-connections N:M`: after N accepted connections, the next M are
    /// reset at once, before any TLS handshake or request.
    pub reset_connections: Option<(u64, u64)>,
}

pub struct Inner {
    pub nodes: HashMap<String, Entry>,
    pub by_uuid: HashMap<String, String>,
    pub shares: BTreeMap<String, Value>,
    pub jobs: BTreeMap<String, Job>,
    pub acl_deleted: BTreeSet<String>,
    journal: Option<File>,
    journal_lines: usize,
}

pub struct State {
    pub cfg: Config,
    /// The `--seed-users` set.
    pub extra_users: Vec<SeedUser>,
    pub data: PathBuf,
    secret: Vec<u8>,
    pub public_url: OnceLock<String>,
    inner: Mutex<Inner>,
}

fn mtime_of(md: &fs::Metadata) -> i64 {
    md.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Read (or create) the token secret of a root directory.
pub fn load_secret(root: &Path) -> std::io::Result<Vec<u8>> {
    fs::create_dir_all(root)?;
    let p = root.join("secret");
    if let Ok(s) = fs::read_to_string(&p) {
        if let Ok(b) = hex::decode(s.trim()) {
            if b.len() >= 16 {
                return Ok(b);
            }
        }
    }
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::thread_rng(), &mut b[..]);
    let tmp = root.join(format!("secret.tmp{}", std::process::id()));
    fs::write(&tmp, hex::encode(b))?;
    // Do not clobber a secret written concurrently by another process.
    match fs::hard_link(&tmp, &p) {
        Ok(()) => {
            let _ = fs::remove_file(&tmp);
            Ok(b.to_vec())
        }
        Err(_) => {
            let _ = fs::remove_file(&tmp);
            let s = fs::read_to_string(&p)?;
            hex::decode(s.trim())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

pub fn sign_token(secret: &[u8], login: &str, kind: &str, expiry: i64) -> String {
    let mut nonce = [0u8; 6];
    rand::Rng::fill(&mut rand::thread_rng(), &mut nonce[..]);
    let payload = json!({"sub": login, "kind": kind, "exp": expiry, "iat": now_secs(), "jti": hex::encode(nonce)});
    let p = B64.encode(payload.to_string());
    let mut mac = HmacSha256::new_from_slice(secret).expect("hmac key");
    mac.update(p.as_bytes());
    format!("{p}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// Verify a token: (login, kind) when the signature is right and it has not expired.
pub fn verify_token(secret: &[u8], token: &str) -> Option<(String, String)> {
    let (p, s) = token.split_once('.')?;
    let sig = B64.decode(s).ok()?;
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(p.as_bytes());
    mac.verify_slice(&sig).ok()?;
    let v: Value = serde_json::from_slice(&B64.decode(p).ok()?).ok()?;
    let exp = v.get("exp")?.as_i64()?;
    if exp <= now_secs() {
        return None;
    }
    let login = v.get("sub")?.as_str()?.to_string();
    user(&login)?;
    Some((
        login,
        v.get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string(),
    ))
}

/// Seed an empty root: datasource folders and the sample file.
fn seed(data: &Path, fresh: bool) -> std::io::Result<()> {
    for u in USERS {
        fs::create_dir_all(data.join("personal").join(u.login))?;
    }
    fs::create_dir_all(data.join("common"))?;
    fs::create_dir_all(data.join("cells").join("team-cell"))?;
    if fresh {
        fs::write(
            data.join("common").join("welcome.txt"),
            "Welcome to the Cells development server!\nThis file lives in common-files.\n",
        )?;
    }
    Ok(())
}

impl State {
    pub fn open(cfg: Config) -> std::io::Result<State> {
        let root = cfg.root.clone();
        fs::create_dir_all(&root)?;
        let secret = load_secret(&root)?;
        let data = root.join("data");
        // First start on this root (no metadata yet): add the sample content.
        let fresh = !root.join("meta.json").exists();
        seed(&data, fresh)?;
        fs::create_dir_all(root.join("fronts"))?;
        // Load the snapshot and replay the journal.
        let mut snap: Snapshot = match fs::read(root.join("meta.json")) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => Snapshot::default(),
        };
        if let Ok(text) = fs::read_to_string(root.join("meta.journal")) {
            for line in text.lines() {
                if let Ok(op) = serde_json::from_str::<Op>(line) {
                    snap.apply(op);
                }
            }
        }
        if fresh {
            for j in seeded_jobs(now_secs()) {
                snap.jobs.insert(j.id.clone(), j);
            }
        }
        // Jobs interrupted by a restart.
        for j in snap.jobs.values_mut() {
            if matches!(j.status.as_str(), "Queued" | "Running") {
                j.status = "Error".into();
                j.message = "Interrupted by a server restart".into();
                j.end = now_secs();
            }
        }
        let inner = Inner {
            nodes: HashMap::new(),
            by_uuid: HashMap::new(),
            shares: std::mem::take(&mut snap.shares),
            jobs: std::mem::take(&mut snap.jobs),
            acl_deleted: std::mem::take(&mut snap.acl_deleted),
            journal: None,
            journal_lines: 0,
        };
        let st = State {
            extra_users: seed_users(cfg.seed_users),
            cfg,
            data,
            secret,
            public_url: OnceLock::new(),
            inner: Mutex::new(inner),
        };
        let scanned = st.scan("", &|k| snap.nodes.get(k).cloned());
        {
            let mut g = st.lock();
            for (k, e) in scanned {
                g.by_uuid.insert(e.uuid.clone(), k.clone());
                g.nodes.insert(k, e);
            }
            st.compact(&mut g)?;
        }
        Ok(st)
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn disk(&self, key: &str) -> PathBuf {
        if key.is_empty() {
            self.data.clone()
        } else {
            self.data.join(key)
        }
    }

    /// Write a fresh snapshot and truncate the journal.
    pub fn compact(&self, g: &mut Inner) -> std::io::Result<()> {
        let root = &self.cfg.root;
        let snap = Snapshot {
            nodes: g.nodes.iter().map(|(k, e)| (k.clone(), pnode(e))).collect(),
            shares: g.shares.clone(),
            jobs: g.jobs.clone(),
            acl_deleted: g.acl_deleted.clone(),
        };
        let tmp = root.join("meta.json.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(&snap).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, root.join("meta.json"))?;
        let j = OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("meta.journal"))?;
        j.set_len(0)?;
        g.journal = Some(j);
        g.journal_lines = 0;
        Ok(())
    }

    /// Walk the disk under `key` and build index entries; metadata comes from `prior`.
    pub fn scan(&self, key: &str, prior: &dyn Fn(&str) -> Option<PNode>) -> Vec<(String, Entry)> {
        let mut out = Vec::new();
        let mut stack = vec![key.to_string()];
        while let Some(k) = stack.pop() {
            let p = self.disk(&k);
            let md = match fs::metadata(&p) {
                Ok(m) => m,
                Err(_) => continue,
            };
            let pn = prior(&k);
            let mut e = Entry {
                uuid: pn
                    .as_ref()
                    .map(|p| p.u.clone())
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(new_uuid),
                dir: md.is_dir(),
                size: if md.is_dir() { 0 } else { md.len() },
                mtime: mtime_of(&md),
                metas: pn.as_ref().map(|p| p.m.clone()).unwrap_or_default(),
                ..Default::default()
            };
            if e.dir {
                if let Ok(rd) = fs::read_dir(&p) {
                    for de in rd.flatten() {
                        let name = de.file_name().to_string_lossy().to_string();
                        let ck = if k.is_empty() {
                            name.clone()
                        } else {
                            format!("{k}/{name}")
                        };
                        match de.file_type() {
                            Ok(t) if t.is_dir() => {
                                e.dirs.insert(name);
                            }
                            Ok(t) if t.is_file() => {
                                e.files.insert(name);
                            }
                            _ => continue,
                        }
                        stack.push(ck);
                    }
                }
            } else {
                e.hash = match pn {
                    Some(pn) if pn.h.is_some() && pn.hs == e.size && pn.hm == e.mtime => pn.h,
                    _ => cells_hash(&p).ok(),
                };
            }
            out.push((k, e));
        }
        // `out` lists every folder before its descendants: fold sizes bottom-up.
        let pos: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        for i in (0..out.len()).rev() {
            if out[i].0 == key {
                continue;
            }
            let size = out[i].1.size;
            if let Some(&pi) = pos.get(parent_of(&out[i].0).0) {
                out[pi].1.size += size;
            }
        }
        out
    }

    pub fn delay_until(&self) -> u64 {
        if self.cfg.index_delay_ms == 0 {
            0
        } else {
            now_ms() + self.cfg.index_delay_ms
        }
    }

    /// Resolve a user path (`slug/rest`). NotFound for an unknown workspace, Forbidden
    /// when the workspace exists but is not the user's.
    pub fn resolve(&self, login: &str, path: &str) -> Result<Resolved, Denied> {
        let comps = normalize(path).ok_or(Denied::NotFound)?;
        let first = comps.first().ok_or(Denied::NotFound)?;
        let ws = ws_by_slug(first).ok_or(Denied::NotFound)?;
        if !ws.allows(login) {
            return Err(Denied::Forbidden);
        }
        let root_key = ws.root_key(login);
        let mut key = root_key.clone();
        for c in &comps[1..] {
            key.push('/');
            key.push_str(c);
        }
        Ok(Resolved {
            key,
            upath: comps.join("/"),
            root_key,
        })
    }

    /// The user path of an internal key, if one of the user's workspaces contains it.
    pub fn user_path(&self, login: &str, key: &str) -> Option<String> {
        for ws in WORKSPACES {
            if !ws.allows(login) {
                continue;
            }
            let rk = ws.root_key(login);
            if key == rk {
                return Some(ws.slug.to_string());
            }
            if let Some(rest) = key.strip_prefix(&(rk + "/")) {
                return Some(format!("{}/{}", ws.slug, rest));
            }
        }
        None
    }

    pub fn issue(&self, login: &str, kind: &str, lifetime: Duration) -> String {
        sign_token(
            &self.secret,
            login,
            kind,
            now_secs() + lifetime.as_secs() as i64,
        )
    }
}

pub fn pnode(e: &Entry) -> PNode {
    PNode {
        u: e.uuid.clone(),
        h: e.hash.clone(),
        hs: e.size,
        hm: e.mtime,
        m: e.metas.clone(),
    }
}

impl Inner {
    fn log(&mut self, op: Op) {
        if let Some(j) = self.journal.as_mut() {
            let mut line = serde_json::to_string(&op).unwrap_or_default();
            line.push('\n');
            if let Err(e) = j.write_all(line.as_bytes()) {
                eprintln!("journal write failed: {e}");
            }
            self.journal_lines += 1;
        }
    }

    pub fn needs_compaction(&self) -> bool {
        self.journal_lines > 100_000
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.nodes.get(key)
    }

    pub fn visible(&self, key: &str, now: u64) -> Option<&Entry> {
        self.nodes.get(key).filter(|e| e.visible_at <= now)
    }

    /// Insert or replace one node (keeps the child lists of an existing folder).
    pub fn put(&mut self, key: &str, mut e: Entry) {
        let mut old_size = 0u64;
        if let Some(old) = self.nodes.get(key) {
            old_size = old.size;
            if old.dir && e.dir {
                e.dirs = old.dirs.clone();
                e.files = old.files.clone();
                e.size = old.size;
            }
            if old.uuid != e.uuid {
                let u = old.uuid.clone();
                self.by_uuid.remove(&u);
            }
        }
        let (parent, name) = parent_of(key);
        if let Some(p) = self.nodes.get_mut(parent) {
            if e.dir {
                p.files.remove(name);
                p.dirs.insert(name.to_string());
            } else {
                p.dirs.remove(name);
                p.files.insert(name.to_string());
            }
        }
        self.by_uuid.insert(e.uuid.clone(), key.to_string());
        let pn = pnode(&e);
        let delta = e.size as i64 - old_size as i64;
        self.nodes.insert(key.to_string(), e);
        if delta != 0 {
            self.add_size(parent, delta);
        }
        self.log(Op::Node {
            k: key.to_string(),
            v: Some(pn),
        });
    }

    /// Add `delta` to the cumulated size of folder `key` and all its ancestors.
    pub fn add_size(&mut self, key: &str, delta: i64) {
        let mut k = key;
        loop {
            if let Some(e) = self.nodes.get_mut(k) {
                e.size = (e.size as i64 + delta).max(0) as u64;
            }
            if k.is_empty() {
                break;
            }
            k = parent_of(k).0;
        }
    }

    /// Update the persisted metadata of an existing node after an in-place change.
    pub fn touch(&mut self, key: &str) {
        if let Some(e) = self.nodes.get(key) {
            let pn = pnode(e);
            self.log(Op::Node {
                k: key.to_string(),
                v: Some(pn),
            });
        }
    }

    pub fn subtree(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![key.to_string()];
        while let Some(k) = stack.pop() {
            if let Some(e) = self.nodes.get(&k) {
                for c in e.dirs.iter().chain(e.files.iter()) {
                    stack.push(format!("{k}/{c}"));
                }
                out.push(k);
            }
        }
        out
    }

    pub fn remove_tree(&mut self, key: &str) {
        let total = self.nodes.get(key).map(|e| e.size).unwrap_or(0);
        for k in self.subtree(key) {
            if let Some(e) = self.nodes.remove(&k) {
                self.by_uuid.remove(&e.uuid);
            }
        }
        let (parent, name) = parent_of(key);
        if let Some(p) = self.nodes.get_mut(parent) {
            p.dirs.remove(name);
            p.files.remove(name);
        }
        self.add_size(parent, -(total as i64));
        self.log(Op::Tree { k: key.to_string() });
    }

    pub fn rename_tree(&mut self, from: &str, to: &str) {
        let total = self.nodes.get(from).map(|e| e.size).unwrap_or(0) as i64;
        let keys = self.subtree(from);
        let mut moved = Vec::new();
        for k in keys {
            if let Some(e) = self.nodes.remove(&k) {
                moved.push((format!("{to}{}", &k[from.len()..]), e));
            }
        }
        let (parent, name) = parent_of(from);
        if let Some(p) = self.nodes.get_mut(parent) {
            p.dirs.remove(name);
            p.files.remove(name);
        }
        self.add_size(parent, -total);
        let mut is_dir = false;
        for (k, e) in moved {
            if k == to {
                is_dir = e.dir;
            }
            self.by_uuid.insert(e.uuid.clone(), k.clone());
            self.nodes.insert(k, e);
        }
        let (parent, name) = parent_of(to);
        if let Some(p) = self.nodes.get_mut(parent) {
            if is_dir {
                p.dirs.insert(name.to_string());
            } else {
                p.files.insert(name.to_string());
            }
        }
        self.add_size(parent, total);
        self.log(Op::Rename {
            from: from.to_string(),
            to: to.to_string(),
        });
    }

    pub fn set_share(&mut self, k: &str, v: Option<Value>) {
        match &v {
            Some(v) => {
                self.shares.insert(k.to_string(), v.clone());
            }
            None => {
                self.shares.remove(k);
            }
        }
        self.log(Op::Share {
            k: k.to_string(),
            v,
        });
    }

    pub fn set_job(&mut self, j: Job) {
        self.jobs.insert(j.id.clone(), j.clone());
        self.log(Op::Job {
            k: j.id.clone(),
            v: Some(j),
        });
    }

    pub fn remove_job(&mut self, id: &str) -> bool {
        let had = self.jobs.remove(id).is_some();
        if had {
            self.log(Op::Job {
                k: id.to_string(),
                v: None,
            });
        }
        had
    }

    pub fn delete_acl(&mut self, id: &str) {
        self.acl_deleted.insert(id.to_string());
        self.log(Op::AclDel { k: id.to_string() });
    }

    /// Cumulated size of a folder (kept up to date incrementally), or the size of a file.
    pub fn tree_size(&self, key: &str) -> u64 {
        self.nodes.get(key).map(|e| e.size).unwrap_or(0)
    }

    /// A name not yet used in folder `parent`: `name`, then `base-1.ext`, `base-2.ext`...
    pub fn free_name(&self, parent: &str, name: &str) -> String {
        let exists = |n: &str| self.nodes.contains_key(&format!("{parent}/{n}"));
        if !exists(name) {
            return name.to_string();
        }
        let (base, ext) = match name.rfind('.') {
            Some(i) if i > 0 => (&name[..i], &name[i..]),
            _ => (name, ""),
        };
        for i in 1.. {
            let cand = format!("{base}-{i}{ext}");
            if !exists(&cand) {
                return cand;
            }
        }
        unreachable!()
    }
}

impl State {
    /// Make sure folder `key` exists on disk and in the index (creating parents).
    pub fn ensure_dir(&self, g: &mut Inner, key: &str) -> std::io::Result<()> {
        if let Some(e) = g.get(key) {
            if e.dir {
                return Ok(());
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file exists with that name",
            ));
        }
        let (parent, _) = parent_of(key);
        if !parent.is_empty() {
            self.ensure_dir(g, parent)?;
        }
        let p = self.disk(key);
        fs::create_dir_all(&p)?;
        let md = fs::metadata(&p)?;
        g.put(
            key,
            Entry {
                uuid: new_uuid(),
                dir: true,
                mtime: mtime_of(&md),
                visible_at: self.delay_until(),
                ..Default::default()
            },
        );
        Ok(())
    }

    /// Index a file just written on disk (new uuid unless it replaces a file).
    pub fn index_file(
        &self,
        g: &mut Inner,
        key: &str,
        hash: Option<String>,
    ) -> std::io::Result<()> {
        let p = self.disk(key);
        let md = fs::metadata(&p)?;
        let hash = match hash {
            Some(h) => Some(h),
            None => Some(cells_hash(&p)?),
        };
        let (uuid, metas, visible_at) = match g.get(key) {
            Some(old) if !old.dir => (old.uuid.clone(), old.metas.clone(), old.visible_at),
            _ => (new_uuid(), BTreeMap::new(), self.delay_until()),
        };
        g.put(
            key,
            Entry {
                uuid,
                dir: false,
                size: md.len(),
                mtime: mtime_of(&md),
                hash,
                metas,
                visible_at,
                ..Default::default()
            },
        );
        Ok(())
    }

    /// Rescan a subtree from disk (datasource resync).
    pub fn resync(&self, key: &str) -> std::io::Result<usize> {
        let prior: HashMap<String, PNode> = {
            let g = self.lock();
            g.subtree(key)
                .into_iter()
                .filter_map(|k| g.get(&k).map(|e| (k.clone(), pnode(e))))
                .collect()
        };
        let scanned = self.scan(key, &|k| prior.get(k).cloned());
        let n = scanned.len();
        let mut g = self.lock();
        let old_total = g.get(key).map(|e| e.size).unwrap_or(0) as i64;
        for k in g.subtree(key) {
            if let Some(e) = g.nodes.remove(&k) {
                g.by_uuid.remove(&e.uuid);
            }
        }
        for (k, e) in scanned {
            g.by_uuid.insert(e.uuid.clone(), k.clone());
            g.nodes.insert(k, e);
        }
        let new_total = g.get(key).map(|e| e.size).unwrap_or(0) as i64;
        if !key.is_empty() {
            let parent = parent_of(key).0.to_string();
            g.add_size(&parent, new_total - old_total);
        }
        self.compact(&mut g)?;
        Ok(n)
    }
}

impl Host for State {
    fn user_for_token(&self, token: &str) -> Option<String> {
        verify_token(&self.secret, token).map(|(l, _)| l)
    }
    fn check_password(&self, login: &str, password: &str) -> Option<String> {
        let u = user(login)?;
        // Constant-time-ish comparison.
        let a = Sha256::digest(u.password.as_bytes());
        let b = Sha256::digest(password.as_bytes());
        if a == b {
            Some(u.login.to_string())
        } else {
            None
        }
    }
    fn issue_token(&self, login: &str, lifetime: Duration) -> String {
        self.issue(login, "access", lifetime)
    }
    fn access_token_lifetime(&self) -> Duration {
        Duration::from_secs(self.cfg.token_lifetime)
    }
    fn require_pkce(&self) -> bool {
        self.cfg.require_pkce
    }
    fn token_delay(&self) -> Duration {
        Duration::from_millis(self.cfg.token_delay_ms)
    }
    fn public_url(&self) -> String {
        self.public_url.get().cloned().unwrap_or_default()
    }
    fn resolve_object(&self, login: &str, key: &str, write: bool) -> Result<PathBuf, Denied> {
        let r = self.resolve(login, key)?;
        if r.is_root() {
            return Err(if write {
                Denied::Forbidden
            } else {
                Denied::NotFound
            });
        }
        let mut g = self.lock();
        if write {
            if matches!(g.get(&r.key), Some(e) if e.dir) {
                return Err(Denied::Forbidden);
            }
            let (parent, _) = parent_of(&r.key);
            let parent = parent.to_string();
            self.ensure_dir(&mut g, &parent)
                .map_err(|_| Denied::Forbidden)?;
            Ok(self.disk(&r.key))
        } else {
            match g.get(&r.key) {
                Some(e) if !e.dir => Ok(self.disk(&r.key)),
                _ => Err(Denied::NotFound),
            }
        }
    }
    fn object_written(&self, login: &str, key: &str) {
        let Ok(r) = self.resolve(login, key) else {
            return;
        };
        let p = self.disk(&r.key);
        let hash = {
            let compute = || cells_hash(&p).ok();
            match tokio::runtime::Handle::try_current() {
                Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(compute)
                }
                _ => compute(),
            }
        };
        let mut g = self.lock();
        if let Err(e) = self.index_file(&mut g, &r.key, hash) {
            eprintln!("object_written {key}: {e}");
        }
        if g.needs_compaction() {
            let _ = self.compact(&mut g);
        }
    }
    fn data_dir(&self) -> PathBuf {
        self.cfg.root.join("fronts")
    }
    fn delete_object(&self, login: &str, key: &str) -> Result<(), Denied> {
        let r = match self.resolve(login, key) {
            Ok(r) => r,
            Err(Denied::NotFound) => return Ok(()),
            Err(d) => return Err(d),
        };
        if r.is_root() {
            return Err(Denied::Forbidden);
        }
        let mut g = self.lock();
        match g.get(&r.key) {
            None => return Ok(()),
            Some(e) if e.dir => return Err(Denied::Forbidden),
            Some(_) => {}
        }
        if r.in_recycle() {
            let _ = fs::remove_file(self.disk(&r.key));
            g.remove_tree(&r.key);
            return Ok(());
        }
        let bin = format!("{}/{RECYCLE}", r.root_key);
        self.ensure_dir(&mut g, &bin)
            .map_err(|_| Denied::Forbidden)?;
        if let Some(e) = g.nodes.get_mut(&bin) {
            e.visible_at = 0;
        }
        let name = parent_of(&r.key).1.to_string();
        let dest = format!("{bin}/{}", g.free_name(&bin, &name));
        fs::rename(self.disk(&r.key), self.disk(&dest)).map_err(|_| Denied::Forbidden)?;
        g.rename_tree(&r.key, &dest);
        Ok(())
    }
}
