//! Tree primitives shared by the remote file commands (`ls`, `mkdir`, `rm`,
//! `cp`, `mv`, `share`) and `scp`: the `TreeNode` model and the operations of
//! docs/protocol.md §3.1–§3.4 and §3.7.
//!
//! Conventions (all functions):
//! - Remote paths are `<workspace-slug>/<path>`, without leading or trailing
//!   `/`; pass user input through [`clean_path`] first.
//! - Errors come from `api::Client` already mapped to exit codes (401/403 → 3,
//!   404 → 4, network/other → 1). [`stat`] turns a 404 into `Ok(None)`; every
//!   other failure is returned as is (never retried into "not found", unlike
//!   the reference, docs/compatibility.md §2.7).
//! - Listings page through the folder completely ([`list_children`]); nothing
//!   is limited to the first 100 children (docs/compatibility.md §4.2).
//!
//! Summary:
//! - [`stat`] / [`stat_existing`]: `GET /a/tree/stat/{path}`.
//! - [`list_children`]: every child of a folder, paged and de-duplicated
//!   (`POST /a/tree/stats` or `/a/meta/bulk/get`, see [`ListVia`]).
//! - [`list_workspaces`]: the workspaces (and cells) the user can see.
//! - [`expand`]: resolve a user argument that may end with a `*` / `%`
//!   wildcard element into nodes (ALL children of the folder).
//! - [`create_folders`]: `POST /a/tree/create` (batches of 100).
//! - [`delete`]: `POST /a/tree/delete`, returns the delete job ids
//!   (wait for them with `api::jobs::wait_all`).
//! - [`wait_visible`] / [`wait_gone`]: poll `stat` until the index shows
//!   (or no longer shows) a node.
//! - [`create_share_link`]: `PUT /a/share/link`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

use super::Client;
use crate::error::{Error, Exit, Result};

/// Page size used for children listings. The server accepts any int32;
/// 1000 keeps responses small while a 25,000-entry folder needs 25 calls.
pub const PAGE_SIZE: i32 = 1000;

/// Name of the per-workspace recycle bin folder (never a wildcard match).
pub const RECYCLE_BIN: &str = "recycle_bin";

// ---------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------

/// A `treeNode` as returned by the server (protojson: every field optional,
/// int64 values as strings).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Node {
    #[serde(rename = "Uuid", default)]
    pub uuid: String,
    #[serde(rename = "Path", default)]
    pub path: String,
    /// `LEAF`, `COLLECTION`, or empty (= `UNKNOWN`).
    #[serde(rename = "Type", default)]
    pub node_type: String,
    /// Bytes (aggregate for folders). An absent `Size` is 0 (protojson omits
    /// zero values); `None` only when the value is unparsable.
    #[serde(rename = "Size", default = "zero", deserialize_with = "de_i64_opt")]
    pub size: Option<i64>,
    /// Modification time, Unix seconds.
    #[serde(rename = "MTime", default, deserialize_with = "de_i64_opt")]
    pub mtime: Option<i64>,
    #[serde(rename = "Etag", default)]
    pub etag: String,
    /// Values are JSON literals (`"\"text\""`, `true`, …); read them with [`Node::meta`].
    #[serde(rename = "MetaStore", default)]
    pub meta_store: BTreeMap<String, String>,
}

/// What a node is, as displayed by `ls` (docs/compatibility.md §8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Cell,
    Workspace,
    Folder,
    File,
}

impl NodeKind {
    /// Table label: `Cell`, `Workspace`, `Folder`, `File`.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Cell => "Cell",
            NodeKind::Workspace => "Workspace",
            NodeKind::Folder => "Folder",
            NodeKind::File => "File",
        }
    }
    /// Stable lower-case name used in `ls --json`.
    pub fn json_name(self) -> &'static str {
        match self {
            NodeKind::Cell => "cell",
            NodeKind::Workspace => "workspace",
            NodeKind::Folder => "folder",
            NodeKind::File => "file",
        }
    }
}

impl Node {
    /// A folder (or workspace root): `Type == COLLECTION`.
    pub fn is_dir(&self) -> bool {
        self.node_type == "COLLECTION"
    }
    /// Last element of the path (the display name).
    pub fn name(&self) -> &str {
        base_name(&self.path)
    }
    /// A `MetaStore` value decoded: JSON strings are unquoted, other JSON
    /// literals are returned as their text. `None` when absent or empty.
    pub fn meta(&self, key: &str) -> Option<String> {
        let raw = self.meta_store.get(key)?;
        let v = match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(serde_json::Value::Null) => String::new(),
            _ => raw.trim_matches('"').to_string(),
        };
        if v.is_empty() {
            None
        } else {
            Some(v)
        }
    }
    /// `Cell` when `ws_scope` is `ROOM`, `Workspace` for any other
    /// `ws_scope`, otherwise `Folder`/`File` from the node type.
    pub fn kind(&self) -> NodeKind {
        match self.meta("ws_scope").as_deref() {
            Some("ROOM") => NodeKind::Cell,
            Some(_) => NodeKind::Workspace,
            None if self.is_dir() => NodeKind::Folder,
            None => NodeKind::File,
        }
    }
    /// The UUID cec shows for this node (`ls -d`, `ls --json`, `ls --format
    /// '{{.Uuid}}'`): a workspace's or cell's own UUID (`ws_uuid`, the one of `idm
    /// list-workspaces`), else the node's.
    pub fn shown_uuid(&self) -> String {
        match self.kind() {
            NodeKind::Workspace | NodeKind::Cell => {
                self.meta("ws_uuid").unwrap_or_else(|| self.uuid.clone())
            }
            _ => self.uuid.clone(),
        }
    }
    /// The server's content hash (`x-cells-hash`) for files, else `None`.
    pub fn hash(&self) -> Option<String> {
        if self.is_dir() {
            return None;
        }
        self.meta("x-cells-hash")
    }
}

fn zero() -> Option<i64> {
    Some(0)
}

fn de_i64_opt<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        _ => None,
    })
}

/// A node in a request body: only the fields the server needs.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRef {
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub node_type: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
struct HeadNodeResponse {
    #[serde(rename = "Node")]
    node: Option<Node>,
}

#[derive(Debug, Serialize)]
struct BulkRequest<'a> {
    #[serde(rename = "NodePaths")]
    node_paths: Vec<&'a str>,
    #[serde(rename = "Limit", skip_serializing_if = "Option::is_none")]
    limit: Option<i32>,
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    offset: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
struct Pagination {
    #[serde(rename = "Limit", default)]
    limit: i32,
    #[serde(rename = "Total", default)]
    total: i32,
    #[serde(rename = "NextOffset", default)]
    next_offset: i32,
}

#[derive(Debug, Default, Deserialize)]
struct BulkResponse {
    #[serde(rename = "Nodes", default)]
    nodes: Vec<Node>,
    #[serde(rename = "Pagination", default)]
    pagination: Option<Pagination>,
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/// Normalise a user-typed remote path: strip leading/trailing `/`, collapse
/// repeated `/`. `""` is the root (the list of workspaces).
pub fn clean_path(p: &str) -> String {
    p.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The path after scp's remote prefix `cells://` (or `cells//`, the spelling shells
/// complete), or `None` for a path without one.
pub fn remote_part(s: &str) -> Option<&str> {
    s.strip_prefix("cells://")
        .or_else(|| s.strip_prefix("cells//"))
}

/// Last path element (`""` for the root).
pub fn base_name(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    p.rsplit('/').next().unwrap_or(p)
}

/// Parent path (`""` for a workspace or the root).
pub fn parent_path(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    match p.rfind('/') {
        Some(i) => &p[..i],
        None => "",
    }
}

/// Join a folder path and a child name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Escape a path as ONE URL path segment, like Go's `url.PathEscape`
/// (docs/protocol.md §1.5): `/` becomes `%2F`, non-ASCII bytes are encoded.
pub use super::escape_segment;

/// A wildcard argument: `dir/*` or `dir/%` (a standalone last element).
/// Returns the folder part (cleaned) when `p` is one.
pub fn wildcard_dir(p: &str) -> Option<String> {
    let t = p.trim_end_matches('/');
    let last = base_name(t);
    if last == "*" || last == "%" {
        Some(clean_path(parent_path(t)))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

/// `GET /a/tree/stat/{path}`. `Ok(None)` when the node does not exist (404);
/// permission (exit 3) and network errors are returned as errors.
/// The root (`""`) has no node: it returns a synthetic folder.
pub fn stat(client: &Client, path: &str) -> Result<Option<Node>> {
    let path = clean_path(path);
    if path.is_empty() {
        return Ok(Some(Node {
            node_type: "COLLECTION".into(),
            ..Node::default()
        }));
    }
    let url = format!("/a/tree/stat/{}", escape_segment(&path));
    match client.get_json::<HeadNodeResponse>(&url) {
        Ok(r) => Ok(r.node.map(|mut n| {
            if n.path.is_empty() {
                n.path = path.clone();
            }
            n.path = clean_path(&n.path);
            n
        })),
        Err(e) if e.exit == Exit::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The existing nodes among `paths`, in one `POST /a/tree/stats` (a path that
/// does not exist is left out). A path ending in `/*` would ask for a folder's
/// children: such a one is asked for alone, with [`stat`].
pub fn stat_many(client: &Client, paths: &[String]) -> Result<Vec<Node>> {
    let (alone, plain): (Vec<&String>, Vec<&String>) =
        paths.iter().partition(|p| *p == "*" || p.ends_with("/*"));
    let mut out = Vec::new();
    if !plain.is_empty() {
        let req = BulkRequest {
            node_paths: plain.iter().map(|p| p.as_str()).collect(),
            limit: None,
            offset: None,
        };
        let resp: BulkResponse =
            client.post_json_idempotent(ListVia::TreeStats.endpoint(), &req)?;
        out.extend(resp.nodes.into_iter().map(|mut n| {
            n.path = clean_path(&n.path);
            n
        }));
    }
    for p in alone {
        out.extend(stat(client, p)?);
    }
    Ok(out)
}

/// Like [`stat`] but a missing node is an error: `"<path>: no such file or
/// folder"` (exit 4).
pub fn stat_existing(client: &Client, path: &str) -> Result<Node> {
    match stat(client, path)? {
        Some(n) => Ok(n),
        None => Err(not_found(path)),
    }
}

/// The standard one-line "not found" error (exit 4).
pub fn not_found(path: &str) -> Error {
    Error::not_found(format!("{}: no such file or folder", clean_path(path)))
}

/// Which bulk endpoint to list with (same server implementation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVia {
    /// `POST /a/tree/stats` (TreeService.BulkStatNodes).
    TreeStats,
    /// `POST /a/meta/bulk/get` (MetaService.GetBulkMeta): nodes enriched with metadata.
    MetaBulk,
}

impl ListVia {
    fn endpoint(self) -> &'static str {
        match self {
            ListVia::TreeStats => "/a/tree/stats",
            ListVia::MetaBulk => "/a/meta/bulk/get",
        }
    }
}

/// Every child of folder `dir` (`""` = the workspaces), in server order.
///
/// Paging (docs/protocol.md §3.2): request `Limit =
/// PAGE_SIZE` from `Offset = 0`; advance `Offset` (to `NextOffset`, else by
/// the page size) until `Pagination` is absent, the next offset reaches
/// `Pagination.Total` (when the server gives one; otherwise until a page
/// returns fewer children than asked), or a page brings nothing new. Children are de-duplicated by `Uuid` (or `Path`
/// when the server sends no uuid), and the folder itself is never included.
/// A missing `dir` is an error (exit 4).
pub fn list_children(client: &Client, dir: &str, via: ListVia) -> Result<Vec<Node>> {
    let dir = clean_path(dir);
    let pattern = if dir.is_empty() {
        "/*".to_string()
    } else {
        format!("{dir}/*")
    };
    let mut out: Vec<Node> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut offset: i32 = 0;
    // Safety net against a server that keeps answering with full pages.
    let mut pages = 0usize;
    loop {
        let req = BulkRequest {
            node_paths: vec![pattern.as_str()],
            limit: Some(PAGE_SIZE),
            offset: if offset > 0 { Some(offset) } else { None },
        };
        let resp: BulkResponse = client.post_json_idempotent(via.endpoint(), &req)?;
        let got = resp.nodes.len();
        let mut new_items = 0usize;
        for mut n in resp.nodes {
            n.path = clean_path(&n.path);
            if n.path == dir {
                continue;
            }
            let key = if n.uuid.is_empty() {
                format!("p:{}", n.path)
            } else {
                format!("u:{}", n.uuid)
            };
            if seen.insert(key) {
                new_items += 1;
                out.push(n);
            }
        }
        pages += 1;
        // No pagination block: the server sent everything that was left.
        let Some(p) = resp.pagination else { break };
        let limit = if p.limit > 0 { p.limit } else { PAGE_SIZE };
        // No progress (empty or fully repeated page), or a runaway server.
        if got == 0 || new_items == 0 || pages > 100_000 {
            break;
        }
        let next = if p.next_offset > offset {
            p.next_offset
        } else {
            offset + limit
        };
        if p.total > 0 {
            // A known total: go on until it is reached (a short page may only
            // mean that hidden files were filtered out of it).
            if next >= p.total {
                break;
            }
        } else if got < limit as usize {
            break;
        }
        offset = next;
    }
    Ok(out)
}

/// The workspaces and cells visible to the user (children of the root).
pub fn list_workspaces(client: &Client) -> Result<Vec<Node>> {
    let req = BulkRequest {
        node_paths: vec!["/*"],
        limit: None,
        offset: None,
    };
    let resp: BulkResponse = client.post_json_idempotent(ListVia::MetaBulk.endpoint(), &req)?;
    Ok(resp
        .nodes
        .into_iter()
        .map(|mut n| {
            n.path = clean_path(&n.path);
            n
        })
        .filter(|n| !n.path.is_empty())
        .collect())
}

/// Resolve one command-line argument into nodes:
/// - `dir/*` or `dir/%` → ALL children of `dir` (paged), except the
///   `recycle_bin` folder; `dir` must exist (exit 4) and be a folder.
/// - anything else → the node itself (must exist, exit 4). `*` or `%`
///   inside a name (`a*.txt`, `50%`) is literal.
pub fn expand(client: &Client, arg: &str) -> Result<Vec<Node>> {
    match wildcard_dir(arg) {
        Some(dir) => {
            let d = stat_existing(client, &dir)?;
            if !d.is_dir() {
                return Err(Error::failure(format!(
                    "{dir}: not a folder (wildcard needs a folder)"
                )));
            }
            let kids = list_children(client, &dir, ListVia::TreeStats)?;
            Ok(kids
                .into_iter()
                .filter(|n| n.name() != RECYCLE_BIN)
                .collect())
        }
        None => Ok(vec![stat_existing(client, arg)?]),
    }
}

#[derive(Debug, Serialize)]
struct CreateRequest {
    #[serde(rename = "Nodes")]
    nodes: Vec<NodeRef>,
}

/// `POST /a/tree/create` for folders (parents before children, batches of
/// 100). Paths are used as given (clean them first). Creating a folder that
/// exists is not an error (docs/protocol.md §3.3), so the request is retried
/// like a read.
pub fn create_folders(client: &Client, paths: &[String]) -> Result<()> {
    for chunk in paths.chunks(100) {
        let req = CreateRequest {
            nodes: chunk
                .iter()
                .map(|p| NodeRef {
                    path: p.clone(),
                    node_type: Some("COLLECTION"),
                })
                .collect(),
        };
        let _: serde_json::Value = client.post_json_idempotent("/a/tree/create", &req)?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct DeleteRequest {
    #[serde(rename = "Nodes")]
    nodes: Vec<NodeRef>,
    #[serde(
        rename = "RemovePermanently",
        skip_serializing_if = "std::ops::Not::not"
    )]
    remove_permanently: bool,
}

#[derive(Debug, Default, Deserialize)]
struct DeleteJob {
    #[serde(rename = "Uuid", default)]
    uuid: String,
}

#[derive(Debug, Default, Deserialize)]
struct DeleteResponse {
    #[serde(rename = "DeleteJobs", default)]
    delete_jobs: Vec<DeleteJob>,
}

/// `POST /a/tree/delete`: move `paths` to their workspace recycle bin, or
/// delete them for good with `permanently`. Returns the background job ids
/// (wait for them with `api::jobs::wait_all`). An empty list sends nothing.
pub fn delete(client: &Client, paths: &[String], permanently: bool) -> Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let req = DeleteRequest {
        nodes: paths
            .iter()
            .map(|p| NodeRef {
                path: p.clone(),
                node_type: None,
            })
            .collect(),
        remove_permanently: permanently,
    };
    let resp: DeleteResponse = client.post_json("/a/tree/delete", &req)?;
    Ok(resp
        .delete_jobs
        .into_iter()
        .map(|j| j.uuid)
        .filter(|u| !u.is_empty())
        .collect())
}

/// Poll [`stat`] until `path` exists (the index is asynchronous), every
/// `every` until `timeout`. Returns the node, or `Ok(None)` on timeout.
pub fn wait_visible(
    client: &Client,
    path: &str,
    timeout: Duration,
    every: Duration,
) -> Result<Option<Node>> {
    let start = Instant::now();
    loop {
        if let Some(n) = stat(client, path)? {
            return Ok(Some(n));
        }
        if start.elapsed() >= timeout {
            return Ok(None);
        }
        std::thread::sleep(every);
    }
}

/// Poll [`stat`] until `path` no longer exists. `true` when gone in time.
pub fn wait_gone(client: &Client, path: &str, timeout: Duration, every: Duration) -> Result<bool> {
    let start = Instant::now();
    loop {
        if stat(client, path)?.is_none() {
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            return Ok(false);
        }
        std::thread::sleep(every);
    }
}

// ---------------------------------------------------------------------------
// Public links
// ---------------------------------------------------------------------------

/// Options of a public link (`cec share`).
#[derive(Debug, Clone, Default)]
pub struct ShareOptions {
    /// Require this password to open the link.
    pub password: Option<String>,
    /// Link expires at this Unix time (seconds).
    pub expires_at: Option<i64>,
    /// Link stops working after this many downloads.
    pub max_downloads: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ShareRootNode {
    #[serde(rename = "Uuid")]
    uuid: String,
}

#[derive(Debug, Serialize)]
struct ShareLinkBody {
    #[serde(rename = "Label")]
    label: String,
    #[serde(rename = "RootNodes")]
    root_nodes: Vec<ShareRootNode>,
    #[serde(rename = "Permissions")]
    permissions: Vec<&'static str>,
    #[serde(rename = "ViewTemplateName")]
    view_template_name: &'static str,
    #[serde(rename = "PoliciesContextEditable")]
    policies_context_editable: bool,
    #[serde(rename = "AccessEnd", skip_serializing_if = "Option::is_none")]
    access_end: Option<String>,
    #[serde(rename = "MaxDownloads", skip_serializing_if = "Option::is_none")]
    max_downloads: Option<String>,
    #[serde(
        rename = "PasswordRequired",
        skip_serializing_if = "std::ops::Not::not"
    )]
    password_required: bool,
}

#[derive(Debug, Serialize)]
struct PutShareLinkRequest {
    #[serde(rename = "ShareLink")]
    share_link: ShareLinkBody,
    #[serde(rename = "PasswordEnabled", skip_serializing_if = "std::ops::Not::not")]
    password_enabled: bool,
    #[serde(rename = "CreatePassword", skip_serializing_if = "Option::is_none")]
    create_password: Option<String>,
}

/// The server's answer to a link creation (subset of `restShareLink`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShareLink {
    #[serde(rename = "Uuid", default)]
    pub uuid: String,
    #[serde(rename = "LinkHash", default)]
    pub link_hash: String,
    #[serde(rename = "LinkUrl", default)]
    pub link_url: String,
    /// Unix seconds; absent or 0 when the link does not expire.
    #[serde(rename = "AccessEnd", default, deserialize_with = "de_i64_opt")]
    pub access_end: Option<i64>,
    /// Absent or 0 when unlimited.
    #[serde(rename = "MaxDownloads", default, deserialize_with = "de_i64_opt")]
    pub max_downloads: Option<i64>,
    #[serde(rename = "PasswordRequired", default)]
    pub password_required: bool,
}

/// `PUT /a/share/link` for `node` (from [`stat`]): a Download+Preview public
/// link labelled with the node name; files use the file viewer template,
/// folders the folder one. Returns the server answer; the absolute URL is
/// [`absolute_link`]`(client.base_url(), &link)`.
pub fn create_share_link(client: &Client, node: &Node, opts: &ShareOptions) -> Result<ShareLink> {
    let template = if node.is_dir() {
        "pydio_shared_folder"
    } else {
        "pydio_unique_dl"
    };
    let req = PutShareLinkRequest {
        share_link: ShareLinkBody {
            label: node.name().to_string(),
            root_nodes: vec![ShareRootNode {
                uuid: node.uuid.clone(),
            }],
            permissions: vec!["Download", "Preview"],
            view_template_name: template,
            policies_context_editable: true,
            access_end: opts.expires_at.map(|t| t.to_string()),
            max_downloads: opts.max_downloads.map(|m| m.to_string()),
            password_required: opts.password.is_some(),
        },
        password_enabled: opts.password.is_some(),
        create_password: opts.password.clone(),
    };
    client.put_json("/a/share/link", &req)
}

/// The link URL as an absolute URL: server-relative `LinkUrl` values
/// (`/public/…`) are prefixed with the account's base URL.
pub fn absolute_link(base_url: &str, link: &ShareLink) -> String {
    let u = if link.link_url.is_empty() && !link.link_hash.is_empty() {
        format!("/public/{}", link.link_hash)
    } else {
        link.link_url.clone()
    };
    if u.starts_with("http://") || u.starts_with("https://") {
        u
    } else {
        format!(
            "{}/{}",
            base_url.trim_end_matches('/'),
            u.trim_start_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a//b/c/"), "a/b/c");
        assert_eq!(clean_path("/"), "");
        assert_eq!(base_name("a/b/c"), "c");
        assert_eq!(parent_path("a/b/c"), "a/b");
        assert_eq!(parent_path("a"), "");
        assert_eq!(wildcard_dir("ws/d/*").as_deref(), Some("ws/d"));
        assert_eq!(wildcard_dir("ws/d/%").as_deref(), Some("ws/d"));
        assert_eq!(wildcard_dir("ws/d/a*"), None);
        assert_eq!(wildcard_dir("ws/50%"), None);
        assert_eq!(
            escape_segment("common-files/Photos/Eté 2024.jpg"),
            "common-files%2FPhotos%2FEt%C3%A9%202024.jpg"
        );
    }

    #[test]
    fn node_model() {
        let n: Node = serde_json::from_str(
            r#"{"Uuid":"u","Path":"ws/a.txt","Type":"LEAF","Size":"452608","MTime":"1718026114",
            "MetaStore":{"x-cells-hash":"\"abc\"","ws_scope":"\"ROOM\""}}"#,
        )
        .unwrap();
        assert_eq!(n.size, Some(452608));
        assert_eq!(n.mtime, Some(1718026114));
        assert_eq!(n.hash().as_deref(), Some("abc"));
        assert_eq!(n.kind(), NodeKind::Cell);
        let n: Node = serde_json::from_str(r#"{"Path":"ws/d","Type":"COLLECTION"}"#).unwrap();
        assert_eq!(n.kind(), NodeKind::Folder);
        assert_eq!(n.size, Some(0));
        assert_eq!(n.mtime, None);
    }

    #[test]
    fn links() {
        let l = ShareLink {
            link_url: "/public/abc".into(),
            ..Default::default()
        };
        assert_eq!(absolute_link("http://h:1/", &l), "http://h:1/public/abc");
    }
}
