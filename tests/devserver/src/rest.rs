//! The REST API under `/a` (docs/protocol.md §3), protojson encoding (§1.4), Cells JSON errors.
use std::collections::BTreeMap;
use std::fs;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use crate::host::{Denied, Host};
use crate::schema::{self, arr, bool_of, enum_of, int, prune, str_of, strs};
use crate::state::{
    self, is_admin, new_uuid, now_ms, now_secs, parent_of, user, Edition, Entry, Inner, Job,
    Resolved, State, Ws, DATASOURCES, RECYCLE, USERS, WORKSPACES,
};

pub type Resp = Response<Full<Bytes>>;

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub title: String,
    pub detail: &'static str,
}

fn err(status: u16, title: impl Into<String>) -> ApiError {
    let detail = match status {
        400 => "E_BAD_REQUEST",
        401 => "E_UNAUTHORIZED",
        403 => "E_FORBIDDEN",
        404 => "E_NOT_FOUND",
        405 => "E_METHOD_NOT_ALLOWED",
        503 => "E_UNAVAILABLE",
        _ => "E_INTERNAL",
    };
    ApiError {
        status,
        title: title.into(),
        detail,
    }
}

fn denied(d: Denied, what: &str, write: bool) -> ApiError {
    match d {
        Denied::Forbidden if write => err(403, format!("You are not allowed to access {what}")),
        _ => err(404, format!("Cannot find node {what}")),
    }
}

pub fn error_response(status: u16, title: &str, detail: &str) -> Resp {
    let body = json!({"Title": title, "Detail": detail}).to_string();
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn json_resp(mut v: Value) -> Resp {
    prune(&mut v);
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap()
}

fn i64s(v: i64) -> Value {
    if v == 0 {
        Value::Null
    } else {
        Value::String(v.to_string())
    }
}

fn jstr(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn bearer(parts: &http::request::Parts) -> Option<String> {
    let h = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let t = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .to_string()
}

/// Entry point: `parts` + collected body. Runs on a blocking thread.
pub fn handle(st: &Arc<State>, parts: &http::request::Parts, body: &[u8]) -> Resp {
    match route(st, parts, body) {
        Ok(r) => r,
        Err(e) => error_response(e.status, &e.title, e.detail),
    }
}

fn parse_body(body: &[u8], model: &str) -> Result<Value, ApiError> {
    let v: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| err(400, format!("invalid JSON body: {e}")))?
    };
    schema::validate(model, &v).map_err(|e| err(400, format!("proto: {e}")))?;
    Ok(v)
}

fn route(st: &Arc<State>, parts: &http::request::Parts, body: &[u8]) -> Result<Resp, ApiError> {
    let raw = parts.uri.path();
    let path = raw.strip_prefix("/a").unwrap_or(raw);
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let m = &parts.method;

    // Unauthenticated endpoints.
    match (m, path) {
        (&Method::GET, "/frontend/state") => return Ok(front_state(st, parts)),
        (&Method::GET, "/frontend/bootconf") => return Ok(bootconf(st, parts)),
        (&Method::POST, "/frontend/session") => {
            return front_session(st, parse_body(body, "restFrontSessionRequest")?)
        }
        _ => {}
    }
    let login = bearer(parts)
        .and_then(|t| st.user_for_token(&t))
        .ok_or_else(|| err(401, "Unauthorized: missing, invalid or expired token"))?;
    let login = login.as_str();

    if let Some(rest) = path.strip_prefix("/tree/stat/") {
        if m != Method::GET {
            return Err(err(405, "method not allowed"));
        }
        return head_node(st, login, &decode(rest));
    }
    if let Some(name) = path.strip_prefix("/jobs/user/") {
        if m != Method::PUT {
            return Err(err(405, "method not allowed"));
        }
        return create_job(
            st,
            login,
            &decode(name),
            parse_body(body, "RestUserJobRequest")?,
        );
    }
    if let Some(id) = path.strip_prefix("/share/link/") {
        return match *m {
            Method::GET => get_share(st, login, &decode(id)),
            Method::DELETE => delete_share(st, login, &decode(id)),
            _ => Err(err(405, "method not allowed")),
        };
    }
    if let Some(id) = path
        .strip_prefix("/scheduler/jobs/")
        .filter(|_| st.cfg.edition == Edition::Enterprise)
    {
        if m != Method::DELETE {
            return Err(err(405, "method not allowed"));
        }
        return delete_job(st, login, &decode(id));
    }
    match (m.clone(), path) {
        (Method::POST, "/tree/stats") | (Method::POST, "/meta/bulk/get") => {
            bulk(st, login, &parse_body(body, "restGetBulkMetaRequest")?)
        }
        (Method::POST, "/tree/create") => {
            create_nodes(st, login, &parse_body(body, "restCreateNodesRequest")?)
        }
        (Method::POST, "/tree/delete") => {
            delete_nodes(st, login, &parse_body(body, "restDeleteNodesRequest")?)
        }
        (Method::POST, "/jobs/user") => {
            list_jobs(st, login, &parse_body(body, "jobsListJobsRequest")?)
        }
        (Method::PUT, "/share/link") => {
            put_share(st, login, &parse_body(body, "restPutShareLinkRequest")?)
        }
        (Method::POST, "/user") => {
            admin_only(login)?;
            search_users(st, &parse_body(body, "restSearchUserRequest")?)
        }
        (Method::POST, "/role") => {
            admin_only(login)?;
            search_roles(st, &parse_body(body, "restSearchRoleRequest")?)
        }
        (Method::POST, "/workspace") => {
            admin_only(login)?;
            search_workspaces(st, &parse_body(body, "restSearchWorkspaceRequest")?)
        }
        (Method::POST, "/acl") => {
            admin_only(login)?;
            search_acls(st, &parse_body(body, "restSearchACLRequest")?)
        }
        (Method::POST, "/acl/bulk/delete") => {
            admin_only(login)?;
            delete_acl(st, &parse_body(body, "idmACL")?)
        }
        (Method::GET, "/config/datasource") => {
            admin_only(login)?;
            list_datasources(st)
        }
        (Method::GET, "/user-meta/namespace") => Ok(json_resp(json!({"Namespaces": namespaces()}))),
        (Method::PUT, "/user-meta/update") => {
            update_user_meta(st, login, &parse_body(body, "idmUpdateUserMetaRequest")?)
        }
        _ => Err(err(404, format!("no such operation: {} /a{}", m, path))),
    }
}

fn admin_only(login: &str) -> Result<(), ApiError> {
    if is_admin(login) {
        Ok(())
    } else {
        Err(err(403, "This operation requires administrator rights"))
    }
}

// ---------------------------------------------------------------- frontend

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn front_state(st: &State, parts: &http::request::Parts) -> Resp {
    let user_xml = match bearer(parts) {
        None => String::new(),
        Some(t) => match st.user_for_token(&t) {
            None => {
                return error_response(
                    401,
                    "Unauthorized: invalid or expired token",
                    "E_UNAUTHORIZED",
                )
            }
            Some(login) => {
                let mut repos = String::new();
                for ws in WORKSPACES.iter().filter(|w| w.allows(&login)) {
                    repos.push_str(&format!(
                        "<repo id=\"{}\" access_type=\"gateway\" repositorySlug=\"{}\" acl=\"rw\"><label>{}</label><description>{}</description></repo>",
                        ws.uuid,
                        ws.slug,
                        xml_escape(ws.label),
                        xml_escape(ws.description)
                    ));
                }
                format!(
                    "<user id=\"{}\"><active_repo id=\"{}\" write=\"1\" read=\"1\"/><repositories>{}</repositories><preferences/></user>",
                    xml_escape(&login),
                    WORKSPACES[0].uuid,
                    repos
                )
            }
        },
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pydio_registry><actions/><client_configs/>{user_xml}<plugins/></pydio_registry>\n"
    );
    Response::builder()
        .status(200)
        .header("Content-Type", "application/xml; charset=UTF-8")
        .body(Full::new(Bytes::from(xml)))
        .unwrap()
}

fn bootconf(st: &State, parts: &http::request::Parts) -> Resp {
    let logged = bearer(parts).and_then(|t| st.user_for_token(&t)).is_some();
    let (kind, label) = match st.cfg.edition {
        Edition::Enterprise => ("PydioEnterprise", "Pydio Cells Enterprise (devserver)"),
        Edition::Community => ("PydioHome", "Pydio Cells Home Edition (devserver)"),
    };
    let backend = if logged {
        json!({"PackageType":kind,"PackageLabel":label,"Version":"4.4.3",
               "BuildRevision":"devserver","BuildStamp":"2024-06-10T10:03:36","License":"agplv3","ServerOffset":0,
               "PackagingInfo":["cells-devserver"]})
    } else {
        json!({"PackageType":kind,"PackageLabel":label,
               "Version":"9e107d9d372bb6826bd81d3542a419d6","BuildRevision":"","BuildStamp":"","License":"agplv3",
               "ServerOffset":0,"PackagingInfo":null})
    };
    let v = json!({"ENDPOINT_REST_API":"/a","ENDPOINT_S3_GATEWAY":"/io","ENDPOINT_WEBSOCKET":"/ws/event",
        "PUBLIC_BASEURI":"/public","loggedUser":logged,"currentLanguage":"en-us","backend":backend});
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap()
}

fn front_session(st: &State, v: Value) -> Result<Resp, ApiError> {
    if bool_of(&v, "Logout") {
        return Ok(json_resp(json!({})));
    }
    let info = v.get("AuthInfo").cloned().unwrap_or(json!({}));
    let login = str_of(&info, "login");
    let password = str_of(&info, "password");
    let Some(login) = st.check_password(login, password) else {
        return Err(err(401, "Login failed: wrong login or password"));
    };
    let life = st.cfg.token_lifetime;
    let exp = now_secs() + life as i64;
    let jwt = st.issue(&login, "session", Duration::from_secs(life));
    Ok(json_resp(json!({"JWT": jwt, "ExpireTime": exp,
        "Token": {"AccessToken": jwt, "ExpiresAt": exp.to_string()}})))
}

// ---------------------------------------------------------------- nodes

fn mime_of(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

fn node_json(g: &Inner, key: &str, upath: &str, e: &Entry, ws: Option<&Ws>) -> Value {
    let name = upath.rsplit('/').next().unwrap_or(upath);
    let mut ms = Map::new();
    ms.insert("name".into(), Value::String(jstr(name)));
    if !e.dir {
        ms.insert("mime".into(), Value::String(jstr(&mime_of(name))));
        if let Some(h) = &e.hash {
            ms.insert("x-cells-hash".into(), Value::String(jstr(h)));
        }
    }
    for (k, v) in &e.metas {
        ms.insert(k.clone(), Value::String(v.clone()));
    }
    if let Some(ws) = ws {
        ms.insert("ws_scope".into(), Value::String(jstr(ws.scope)));
        ms.insert("ws_uuid".into(), Value::String(jstr(ws.uuid)));
        ms.insert("ws_label".into(), Value::String(jstr(ws.label)));
        ms.insert("ws_description".into(), Value::String(jstr(ws.description)));
        ms.insert("ws_permissions".into(), Value::String(jstr("rw")));
        ms.insert("ws_slug".into(), Value::String(jstr(ws.slug)));
    }
    let size = if e.dir { g.tree_size(key) } else { e.size };
    json!({
        "Uuid": e.uuid,
        "Path": upath,
        "Type": if e.dir { "COLLECTION" } else { "LEAF" },
        "Size": i64s(size as i64),
        "MTime": i64s(e.mtime),
        "Etag": if e.dir { Value::Null } else { json!(e.hash) },
        "Mode": if e.dir { Value::Null } else { json!(436) },
        "MetaStore": ms,
    })
}

fn head_node(st: &State, login: &str, path: &str) -> Result<Resp, ApiError> {
    let r = st
        .resolve(login, path)
        .map_err(|d| denied(d, path, false))?;
    let g = st.lock();
    let e = g
        .visible(&r.key, now_ms())
        .ok_or_else(|| err(404, format!("Cannot find node {path}")))?;
    Ok(json_resp(
        json!({"Node": node_json(&g, &r.key, &r.upath, e, None)}),
    ))
}

fn bulk(st: &State, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let limit = int(req, "Limit").max(0) as usize;
    let offset = int(req, "Offset").max(0) as usize;
    let only = req
        .get("Filters")
        .and_then(|f| f.get("type"))
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .to_string();
    let now = now_ms();
    let g = st.lock();
    let mut nodes = Vec::new();
    let mut pagination = Value::Null;
    for p in strs(req, "NodePaths") {
        let listing = p == "*" || p.ends_with("/*");
        if listing {
            let dir = p.trim_end_matches('*').trim_matches('/').to_string();
            let mut total = 0usize;
            let mut page = Vec::new();
            if dir.is_empty() {
                for ws in WORKSPACES.iter().filter(|w| w.allows(login)) {
                    let rk = ws.root_key(login);
                    if let Some(e) = g.get(&rk) {
                        if total >= offset && (limit == 0 || page.len() < limit) {
                            page.push(node_json(&g, &rk, ws.slug, e, Some(ws)));
                        }
                        total += 1;
                    }
                }
            } else {
                let r = st
                    .resolve(login, &dir)
                    .map_err(|d| denied(d, &dir, false))?;
                let e = g
                    .visible(&r.key, now)
                    .ok_or_else(|| err(404, format!("Cannot find node {dir}")))?;
                let want_dirs = only.is_empty() || only == "COLLECTION";
                let want_files = only.is_empty() || only == "LEAF";
                let names = || {
                    e.dirs
                        .iter()
                        .filter(|_| want_dirs)
                        .chain(e.files.iter().filter(|_| want_files))
                        .filter(|n| !n.starts_with('.'))
                };
                if st.cfg.index_delay_ms == 0 {
                    // Everything indexed is visible: count and skip without lookups.
                    total = names().count();
                    let take = if limit == 0 { usize::MAX } else { limit };
                    for n in names().skip(offset).take(take) {
                        let ck = format!("{}/{}", r.key, n);
                        if let Some(ce) = g.get(&ck) {
                            page.push(node_json(&g, &ck, &format!("{}/{}", r.upath, n), ce, None));
                        }
                    }
                } else {
                    for n in names() {
                        let ck = format!("{}/{}", r.key, n);
                        let Some(ce) = g.visible(&ck, now) else {
                            continue;
                        };
                        if total >= offset && (limit == 0 || page.len() < limit) {
                            page.push(node_json(&g, &ck, &format!("{}/{}", r.upath, n), ce, None));
                        }
                        total += 1;
                    }
                }
            }
            if limit > 0 && total > page.len() {
                let (l, o, t) = (limit as i64, offset as i64, total as i64);
                pagination = json!({
                    "Limit": l,
                    "Total": t,
                    "CurrentPage": o / l + 1,
                    "TotalPages": (t + l - 1) / l,
                    "CurrentOffset": o,
                    "NextOffset": if o + l < t { o + l } else { 0 },
                    "PrevOffset": if o > 0 { (o - l).max(0) } else { 0 },
                });
            }
            nodes.extend(page);
        } else if p.trim_matches('/').is_empty() {
            nodes.push(json!({"Path": "", "Type": "COLLECTION"}));
        } else if let Ok(r) = st.resolve(login, &p) {
            if let Some(e) = g.visible(&r.key, now) {
                nodes.push(node_json(&g, &r.key, &r.upath, e, None));
            }
        }
    }
    Ok(json_resp(json!({"Nodes": nodes, "Pagination": pagination})))
}

fn resolve_w(st: &State, login: &str, path: &str) -> Result<Resolved, ApiError> {
    st.resolve(login, path).map_err(|d| denied(d, path, true))
}

fn create_nodes(st: &State, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let list = arr(req, "Nodes");
    if list.is_empty() {
        return Err(err(400, "Please provide at least one node to create"));
    }
    let mut out = Vec::new();
    let mut g = st.lock();
    for n in list {
        let path = str_of(n, "Path");
        let r = resolve_w(st, login, path)?;
        let leaf = enum_of(n, "Type", "treeNodeType") == "LEAF";
        if !r.is_root() {
            match g.get(&r.key) {
                Some(e) if e.dir != leaf => {}
                Some(_) => {
                    return Err(err(
                        403,
                        format!("A node already exists at {} with another type", r.upath),
                    ))
                }
                None if leaf => {
                    let (parent, _) = parent_of(&r.key);
                    let parent = parent.to_string();
                    st.ensure_dir(&mut g, &parent)
                        .map_err(|e| err(403, format!("cannot create {}: {e}", r.upath)))?;
                    fs::File::create(st.disk(&r.key))
                        .map_err(|e| err(500, format!("cannot create {}: {e}", r.upath)))?;
                    st.index_file(&mut g, &r.key, None)
                        .map_err(|e| err(500, e.to_string()))?;
                }
                None => st
                    .ensure_dir(&mut g, &r.key)
                    .map_err(|e| err(403, format!("cannot create {}: {e}", r.upath)))?,
            }
        }
        let e = g.get(&r.key).cloned().unwrap_or_default();
        out.push(node_json(&g, &r.key, &r.upath, &e, None));
    }
    Ok(json_resp(json!({"Children": out})))
}

fn delete_nodes(st: &Arc<State>, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let permanently = bool_of(req, "RemovePermanently");
    let list = arr(req, "Nodes");
    if list.is_empty() {
        return Err(err(400, "Please provide at least one node to delete"));
    }
    let mut targets = Vec::new();
    {
        let g = st.lock();
        for n in list {
            let path = str_of(n, "Path");
            let r = resolve_w(st, login, path)?;
            if r.is_root() {
                return Err(err(
                    403,
                    format!("Cannot delete workspace root {}", r.upath),
                ));
            }
            if g.get(&r.key).is_none() {
                return Err(err(404, format!("Cannot find node {path}")));
            }
            targets.push(r);
        }
    }
    // Group: permanent deletions, and one move job per recycle bin.
    let mut permanent = Vec::new();
    let mut bins: BTreeMap<String, Vec<Resolved>> = BTreeMap::new();
    for r in targets {
        if permanently || r.in_recycle() {
            permanent.push(r);
        } else {
            bins.entry(r.root_key.clone()).or_default().push(r);
        }
    }
    let mut jobs = Vec::new();
    for (root, items) in bins {
        let bin = format!("{root}/{RECYCLE}");
        let mut g = st.lock();
        st.ensure_dir(&mut g, &bin)
            .map_err(|e| err(500, e.to_string()))?;
        // The recycle bin is visible immediately.
        if let Some(e) = g.nodes.get_mut(&bin) {
            e.visible_at = 0;
        }
        for r in &items {
            if g.get(&r.key).is_none() {
                continue;
            }
            let name = parent_of(&r.key).1.to_string();
            let free = g.free_name(&bin, &name);
            let dest = format!("{bin}/{free}");
            fs::rename(st.disk(&r.key), st.disk(&dest)).map_err(|e| err(500, e.to_string()))?;
            g.rename_tree(&r.key, &dest);
        }
        drop(g);
        let id = format!("copy-move-{}", new_uuid());
        start_job(
            st,
            login,
            &id,
            "Moving files to the recycle bin",
            Box::new(|_| Ok("Moved to recycle bin".into())),
        );
        jobs.push(json!({"Uuid": id, "Label": "Moving files to the recycle bin"}));
    }
    if !permanent.is_empty() {
        let mut g = st.lock();
        for r in &permanent {
            let Some(e) = g.get(&r.key) else { continue };
            let p = st.disk(&r.key);
            let res = if e.dir {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            if let Err(e) = res {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(err(500, format!("cannot delete {}: {e}", r.upath)));
                }
            }
            g.remove_tree(&r.key);
        }
        drop(g);
        let id = format!("delete-{}", new_uuid());
        start_job(
            st,
            login,
            &id,
            "Deleting files",
            Box::new(|_| Ok("Files deleted".into())),
        );
        jobs.push(json!({"Uuid": id, "Label": "Deleting files"}));
    }
    Ok(json_resp(json!({"DeleteJobs": jobs})))
}

// ---------------------------------------------------------------- jobs

type Work = Box<dyn FnOnce(&State) -> Result<String, String> + Send>;

/// Register a job and run `work` in the background: Queued → Running → Finished | Error.
/// Successful jobs are auto-cleaned 2 s after they finish.
pub fn start_job(st: &Arc<State>, owner: &str, id: &str, label: &str, work: Work) {
    let job = Job {
        id: id.to_string(),
        task_id: new_uuid(),
        owner: owner.to_string(),
        label: label.to_string(),
        status: "Queued".into(),
        message: "Queued".into(),
        progress: 0.0,
        created: now_secs(),
        start: 0,
        end: 0,
        auto_clean: true,
        history: Vec::new(),
    };
    st.lock().set_job(job);
    let st = st.clone();
    let id = id.to_string();
    let id2 = id.clone();
    let update = move |st: &State, f: &dyn Fn(&mut Job)| {
        let mut g = st.lock();
        if let Some(j) = g.jobs.get(&id).cloned() {
            let mut j = j;
            f(&mut j);
            g.set_job(j);
        }
    };
    let handle = tokio::runtime::Handle::current();
    handle.spawn(async move {
        let delay = Duration::from_millis(st.cfg.job_delay_ms);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        update(&st, &|j| {
            j.status = "Running".into();
            j.message = "Running".into();
            j.start = now_secs();
            j.progress = 0.5;
        });
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let st2 = st.clone();
        let res = tokio::task::spawn_blocking(move || work(&st2))
            .await
            .unwrap_or_else(|e| Err(format!("job panicked: {e}")));
        let ok = res.is_ok();
        update(&st, &|j| {
            j.end = now_secs();
            match &res {
                Ok(m) => {
                    j.status = "Finished".into();
                    j.message = m.clone();
                    j.progress = 1.0;
                }
                Err(m) => {
                    j.status = "Error".into();
                    j.message = m.clone();
                }
            }
        });
        if ok {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let mut g = st.lock();
            if g.jobs
                .get(&id2)
                .map(|j| j.status == "Finished")
                .unwrap_or(false)
            {
                g.remove_job(&id2);
            }
        }
    });
}

fn create_job(st: &Arc<State>, login: &str, name: &str, req: Value) -> Result<Resp, ApiError> {
    let params_text = str_of(&req, "JsonParameters");
    let params: Value = if params_text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(params_text)
            .map_err(|e| err(400, format!("invalid JsonParameters: {e}")))?
    };
    match name {
        "copy" | "move" => {
            let mv = name == "move";
            let target = str_of(&params, "target").to_string();
            let nodes = strs(&params, "nodes");
            let target_parent = bool_of(&params, "targetParent");
            if target.is_empty() {
                return Err(err(400, "missing target"));
            }
            let names: Vec<&str> = nodes
                .iter()
                .map(|n| n.trim_end_matches('/').rsplit('/').next().unwrap_or(""))
                .collect();
            let label = format!(
                "{} {}",
                if mv { "Moving" } else { "Copying" },
                names.join(", ")
            );
            let id = format!("copy-move-{}", new_uuid());
            let login2 = login.to_string();
            start_job(
                st,
                login,
                &id,
                &label,
                Box::new(move |st| copy_move(st, &login2, &target, &nodes, target_parent, mv)),
            );
            Ok(json_resp(json!({"JobUuid": id})))
        }
        "datasource-resync" => {
            admin_only(login)?;
            let ds = str_of(&params, "dsName").to_string();
            let Some(def) = state::ds_by_name(&ds) else {
                return Err(err(404, format!("Cannot find datasource {ds}")));
            };
            let unreachable = def.s3_host;
            let id = format!("resync-ds-{ds}-{}", new_uuid());
            let ds2 = ds.clone();
            start_job(
                st,
                login,
                &id,
                &format!("Resynchronize datasource {ds}"),
                Box::new(move |st| match unreachable {
                    Some(host) => Err(format!("cannot reach the storage at {host}")),
                    None => st
                        .resync(&ds2)
                        .map(|n| format!("Resynchronized {n} nodes"))
                        .map_err(|e| e.to_string()),
                }),
            );
            Ok(json_resp(json!({"JobUuid": id})))
        }
        _ => Err(err(404, format!("Cannot find job definition {name}"))),
    }
}

fn copy_move(
    st: &State,
    login: &str,
    target: &str,
    nodes: &[String],
    target_parent: bool,
    mv: bool,
) -> Result<String, String> {
    if nodes.is_empty() {
        return Err("no source nodes given".into());
    }
    let tr = st
        .resolve(login, target)
        .map_err(|_| format!("cannot access target {target}"))?;
    let mut done = 0;
    for src in nodes {
        let sr = st
            .resolve(login, src)
            .map_err(|_| format!("cannot access {src}"))?;
        if sr.is_root() {
            return Err(format!(
                "cannot {} a workspace root",
                if mv { "move" } else { "copy" }
            ));
        }
        let (dest_parent, dest_name) = if target_parent {
            (tr.key.clone(), parent_of(&sr.key).1.to_string())
        } else {
            if tr.is_root() {
                return Err(format!("target {target} already exists"));
            }
            let (p, n) = parent_of(&tr.key);
            (p.to_string(), n.to_string())
        };
        let mut g = st.lock();
        if g.get(&sr.key).is_none() {
            return Err(format!("cannot find source {src}"));
        }
        match g.get(&dest_parent) {
            Some(e) if e.dir => {}
            _ => return Err(format!("target folder of {target} does not exist")),
        }
        let mut dest = format!("{dest_parent}/{dest_name}");
        if mv && dest == sr.key {
            continue;
        }
        if dest.starts_with(&format!("{}/", sr.key)) {
            return Err(format!(
                "cannot {} {src} into itself",
                if mv { "move" } else { "copy" }
            ));
        }
        if g.get(&dest).is_some() {
            dest = format!("{dest_parent}/{}", g.free_name(&dest_parent, &dest_name));
        }
        if mv {
            fs::rename(st.disk(&sr.key), st.disk(&dest)).map_err(|e| format!("move {src}: {e}"))?;
            g.rename_tree(&sr.key, &dest);
        } else {
            let items: Vec<(String, Entry)> = g
                .subtree(&sr.key)
                .into_iter()
                .filter_map(|k| g.get(&k).cloned().map(|e| (k, e)))
                .collect();
            drop(g);
            for (k, e) in &items {
                let dk = format!("{dest}{}", &k[sr.key.len()..]);
                if e.dir {
                    fs::create_dir_all(st.disk(&dk)).map_err(|e| format!("copy {src}: {e}"))?;
                } else {
                    fs::copy(st.disk(k), st.disk(&dk)).map_err(|e| format!("copy {src}: {e}"))?;
                }
            }
            let mut g = st.lock();
            for (k, e) in items {
                let dk = format!("{dest}{}", &k[sr.key.len()..]);
                if e.dir {
                    st.ensure_dir(&mut g, &dk).map_err(|e| e.to_string())?;
                } else {
                    st.index_file(&mut g, &dk, e.hash.clone())
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        done += 1;
    }
    Ok(format!(
        "{} {done} node(s)",
        if mv { "Moved" } else { "Copied" }
    ))
}

/// A job and the tasks of `load_tasks` status (`Any`: all), at most `tasks_limit` (0 = no
/// limit) of the most recent ones, oldest first.
fn job_json(j: &Job, load_tasks: &str, tasks_limit: usize) -> Value {
    let mut v = json!({
        "ID": j.id, "Owner": j.owner, "Label": j.label, "AutoStart": true, "AutoClean": j.auto_clean,
        "MaxConcurrency": 1, "CreatedAt": j.created,
    });
    let task = |id: &str, status: &str, msg: &str, progress: f64, start: i64, end: i64| {
        json!({"ID": id, "JobID": j.id, "Status": status, "StatusMessage": msg,
            "HasProgress": true, "Progress": progress, "StartTime": start, "EndTime": end,
            "CanStop": false, "TriggerOwner": j.owner})
    };
    let mut tasks: Vec<Value> = j
        .history
        .iter()
        .map(|r| task(&r.id, &r.status, &r.message, 1.0, r.start, r.end))
        .collect();
    tasks.push(task(
        &j.task_id, &j.status, &j.message, j.progress, j.start, j.end,
    ));
    tasks.retain(|t| match load_tasks {
        "" | "Unknown" => false,
        "Any" => true,
        s => t["Status"] == s,
    });
    if tasks_limit > 0 && tasks.len() > tasks_limit {
        tasks.drain(..tasks.len() - tasks_limit);
    }
    if !tasks.is_empty() {
        v["Tasks"] = Value::Array(tasks);
    }
    v
}

fn list_jobs(st: &State, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let ids = strs(req, "JobIDs");
    let owner = str_of(req, "Owner");
    let owner = if owner == "*" && is_admin(login) {
        None
    } else if !owner.is_empty() && owner != "*" && is_admin(login) {
        Some(owner.to_string())
    } else {
        Some(login.to_string())
    };
    let load = enum_of(req, "LoadTasks", "jobsTaskStatus");
    let limit = int(req, "TasksLimit").max(0) as usize;
    let mut g = st.lock();
    // Auto-clean: successful jobs disappear 2 s after they finished.
    let now = now_secs();
    let stale: Vec<String> = g
        .jobs
        .values()
        .filter(|j| j.auto_clean && j.status == "Finished" && j.end > 0 && now - j.end >= 2)
        .map(|j| j.id.clone())
        .collect();
    for id in stale {
        g.remove_job(&id);
    }
    let mut jobs: Vec<&Job> = g
        .jobs
        .values()
        .filter(|j| ids.is_empty() || ids.contains(&j.id))
        .filter(|j| owner.as_ref().map(|o| &j.owner == o).unwrap_or(true))
        .collect();
    jobs.sort_by_key(|j| j.created);
    let out: Vec<Value> = jobs.iter().map(|j| job_json(j, &load, limit)).collect();
    Ok(json_resp(json!({"Jobs": out})))
}

fn delete_job(st: &State, login: &str, id: &str) -> Result<Resp, ApiError> {
    let mut g = st.lock();
    let j = g
        .jobs
        .get(id)
        .ok_or_else(|| err(404, format!("Cannot find job {id}")))?;
    if j.owner != login && !is_admin(login) {
        return Err(err(403, "You are not allowed to delete this job"));
    }
    g.remove_job(id);
    Ok(json_resp(json!({"Success": true, "DeleteCount": 1})))
}

// ---------------------------------------------------------------- share links

fn share_out(v: &Value) -> Value {
    let mut o = v.clone();
    if let Some(m) = o.as_object_mut() {
        m.retain(|k, _| !k.starts_with('_'));
    }
    o
}

fn put_share(st: &State, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let link = req
        .get("ShareLink")
        .filter(|l| l.is_object())
        .ok_or_else(|| err(400, "missing ShareLink"))?;
    let roots = arr(link, "RootNodes");
    let root = roots
        .first()
        .ok_or_else(|| err(400, "ShareLink.RootNodes is empty"))?;
    let mut g = st.lock();
    let key = match str_of(root, "Uuid") {
        "" => {
            let p = str_of(root, "Path");
            st.resolve(login, p).map_err(|d| denied(d, p, false))?.key
        }
        u => g
            .by_uuid
            .get(u)
            .cloned()
            .ok_or_else(|| err(404, format!("Cannot find node {u}")))?,
    };
    let upath = st
        .user_path(login, &key)
        .ok_or_else(|| err(404, "Cannot find node"))?;
    let node_uuid = g.get(&key).map(|e| e.uuid.clone()).unwrap_or_default();
    let existing = match str_of(link, "Uuid") {
        "" => None,
        u => {
            let old = g
                .shares
                .get(u)
                .cloned()
                .ok_or_else(|| err(404, format!("Cannot find link {u}")))?;
            if str_of(&old, "_owner") != login && !is_admin(login) {
                return Err(err(403, "This link is not yours"));
            }
            Some(old)
        }
    };
    let uuid = existing
        .as_ref()
        .map(|o| str_of(o, "Uuid").to_string())
        .unwrap_or_else(new_uuid);
    let mut hash = existing
        .as_ref()
        .map(|o| str_of(o, "LinkHash").to_string())
        .unwrap_or_else(|| new_uuid().replace('-', "")[..12].to_string());
    let custom = str_of(req, "UpdateCustomHash");
    if !custom.is_empty() {
        if g.shares
            .values()
            .any(|s| str_of(s, "LinkHash") == custom && str_of(s, "Uuid") != uuid)
        {
            return Err(err(403, "This link hash is already used"));
        }
        hash = custom.to_string();
    }
    let mut pw = existing
        .as_ref()
        .map(|o| str_of(o, "_pw").to_string())
        .unwrap_or_default();
    let enabled = bool_of(req, "PasswordEnabled");
    for k in ["CreatePassword", "UpdatePassword"] {
        let p = str_of(req, k);
        if !p.is_empty() {
            pw = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(p.as_bytes()));
        }
    }
    if !enabled {
        pw.clear();
    } else if pw.is_empty() {
        return Err(err(400, "PasswordEnabled requires CreatePassword"));
    }
    let mut perms = strs(link, "Permissions");
    if perms.is_empty() {
        perms = vec!["Preview".into(), "Download".into()];
    }
    let template = match str_of(link, "ViewTemplateName") {
        "" => "pydio_shared_folder",
        t => t,
    };
    let user_uuid = existing
        .as_ref()
        .map(|o| str_of(o, "UserUuid").to_string())
        .unwrap_or_else(new_uuid);
    let current = existing
        .as_ref()
        .map(|o| str_of(o, "CurrentDownloads").to_string())
        .unwrap_or_default();
    let v = json!({
        "Uuid": uuid,
        "LinkHash": hash,
        "LinkUrl": format!("/public/{hash}"),
        "Label": str_of(link, "Label"),
        "Description": str_of(link, "Description"),
        "UserLogin": hash,
        "UserUuid": user_uuid,
        "PasswordRequired": !pw.is_empty(),
        "AccessStart": i64s(int(link, "AccessStart")),
        "AccessEnd": i64s(int(link, "AccessEnd")),
        "MaxDownloads": i64s(int(link, "MaxDownloads")),
        "CurrentDownloads": if current.is_empty() { Value::Null } else { json!(current) },
        "ViewTemplateName": template,
        "Permissions": perms,
        "RestrictToTargetUsers": bool_of(link, "RestrictToTargetUsers"),
        "TargetUsers": link.get("TargetUsers").cloned().unwrap_or(Value::Null),
        "PoliciesContextEditable": true,
        "RootNodes": [{"Uuid": node_uuid, "Path": upath}],
        "_owner": login,
        "_pw": pw,
    });
    g.set_share(&uuid, Some(v.clone()));
    Ok(json_resp(share_out(&v)))
}

fn get_share(st: &State, login: &str, id: &str) -> Result<Resp, ApiError> {
    let g = st.lock();
    let s = g
        .shares
        .get(id)
        .ok_or_else(|| err(404, format!("Cannot find link {id}")))?;
    if str_of(s, "_owner") != login && !is_admin(login) {
        return Err(err(403, "This link is not yours"));
    }
    Ok(json_resp(share_out(s)))
}

fn delete_share(st: &State, login: &str, id: &str) -> Result<Resp, ApiError> {
    let mut g = st.lock();
    let s = g
        .shares
        .get(id)
        .ok_or_else(|| err(404, format!("Cannot find link {id}")))?;
    if str_of(s, "_owner") != login && !is_admin(login) {
        return Err(err(403, "This link is not yours"));
    }
    g.set_share(id, None);
    Ok(json_resp(json!({"Success": true})))
}

// ---------------------------------------------------------------- idm

pub fn glob(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut i, mut j, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while j < t.len() {
        if i < p.len() && (p[i] == t[j] || p[i] == '?') {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(si) = star {
            i = si + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

fn combine(queries: &[&Value], op: &str, test: impl Fn(&Value) -> bool) -> bool {
    if queries.is_empty() {
        return true;
    }
    let mut res = queries.iter().map(|q| {
        let r = test(q);
        if bool_of(q, "not") {
            !r
        } else {
            r
        }
    });
    if op == "AND" {
        res.all(|x| x)
    } else {
        res.any(|x| x)
    }
}

/// Items a search answers without `Limit`, and at most with one (a real server bounds
/// its pages too: clients must follow `Total`).
const SEARCH_DEFAULT_PAGE: usize = 100;
const SEARCH_MAX_PAGE: usize = 500;

fn page<T>(items: Vec<T>, req: &Value) -> Vec<T> {
    let off = int(req, "Offset").max(0) as usize;
    let lim = match int(req, "Limit").max(0) as usize {
        0 => SEARCH_DEFAULT_PAGE,
        n => n.min(SEARCH_MAX_PAGE),
    };
    items.into_iter().skip(off).take(lim).collect()
}

const GROUPS: &[(&str, &str)] = &[("c0a1b2c3-0000-4000-8000-00000000e001", "engineering")];

/// A user as the idm searches see it: the seeded accounts, then the `--seed-users` set.
#[derive(Clone)]
struct IdmUser<'a> {
    login: &'a str,
    uuid: &'a str,
    display: &'a str,
    admin: bool,
    group_path: &'a str,
}

fn idm_users(st: &State) -> impl Iterator<Item = IdmUser<'_>> {
    let fixed = USERS.iter().map(|u| IdmUser {
        login: u.login,
        uuid: u.uuid,
        display: u.display,
        admin: u.admin,
        group_path: "/",
    });
    let seeded = st.extra_users.iter().map(|u| IdmUser {
        login: &u.login,
        uuid: &u.uuid,
        display: &u.display,
        admin: false,
        group_path: &u.group_path,
    });
    fixed.chain(seeded)
}

fn user_roles(u: &IdmUser) -> Value {
    let mut roles = vec![json!({"Uuid":"ROOT_GROUP","Label":"Root Group","GroupRole":true})];
    if u.admin {
        roles.push(json!({"Uuid":"ADMINS","Label":"Administrators"}));
    }
    roles.push(json!({"Uuid": u.uuid, "Label": format!("User {}", u.login), "UserRole": true}));
    Value::Array(roles)
}

/// Users and groups matching the queries; `Offset`/`Limit` page the whole list (groups
/// first), as one search.
fn search_users(st: &State, req: &Value) -> Result<Resp, ApiError> {
    let queries = arr(req, "Queries");
    let op = enum_of(req, "Operation", "serviceOperationType");
    // Matches first, JSON only for the page (10,000 users stay cheap to page through).
    enum Hit<'a> {
        Group(&'a str, &'a str),
        User(IdmUser<'a>),
    }
    let mut found: Vec<Hit> = Vec::new();
    for (uuid, label) in GROUPS {
        let ok = combine(&queries, &op, |q| {
            (str_of(q, "Login").is_empty() || glob(str_of(q, "Login"), label))
                && (str_of(q, "Uuid").is_empty() || str_of(q, "Uuid") == *uuid)
                && enum_of(q, "NodeType", "idmNodeType") != "USER"
                && str_of(q, "HasProfile").is_empty()
        });
        if ok {
            found.push(Hit::Group(uuid, label));
        }
    }
    for u in idm_users(st) {
        let profile = if u.admin { "admin" } else { "standard" };
        let ok = combine(&queries, &op, |q| {
            (str_of(q, "Login").is_empty() || glob(str_of(q, "Login"), u.login))
                && (str_of(q, "Uuid").is_empty() || str_of(q, "Uuid") == u.uuid)
                && (str_of(q, "GroupPath").is_empty() || str_of(q, "GroupPath") == u.group_path)
                && enum_of(q, "NodeType", "idmNodeType") != "GROUP"
                && (str_of(q, "HasProfile").is_empty() || str_of(q, "HasProfile") == profile)
        });
        if ok {
            found.push(Hit::User(u));
        }
    }
    let total = found.len();
    if bool_of(req, "CountOnly") {
        return Ok(json_resp(json!({"Total": total})));
    }
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for hit in page(found, req) {
        match hit {
            Hit::Group(uuid, label) => groups.push(
                json!({"Uuid": uuid, "IsGroup": true, "GroupLabel": label, "GroupPath": "/"}),
            ),
            Hit::User(u) => {
                let profile = if u.admin { "admin" } else { "standard" };
                users.push(
                    json!({"Uuid": u.uuid, "Login": u.login, "GroupPath": u.group_path,
                    "Attributes": {"profile": profile, "displayName": u.display},
                    "Roles": user_roles(&u)}),
                );
            }
        }
    }
    Ok(json_resp(
        json!({"Users": users, "Groups": groups, "Total": total}),
    ))
}

fn all_roles(st: &State) -> Vec<Value> {
    let mut roles = vec![
        json!({"Uuid":"ROOT_GROUP","Label":"Root Group","GroupRole":true}),
        json!({"Uuid":"ADMINS","Label":"Administrators"}),
        json!({"Uuid":"EXTERNAL_USERS","Label":"External Users"}),
    ];
    for (uuid, label) in GROUPS {
        roles.push(json!({"Uuid": uuid, "Label": format!("Group {label}"), "GroupRole": true}));
    }
    for u in idm_users(st) {
        roles.push(json!({"Uuid": u.uuid, "Label": format!("User {}", u.login), "UserRole": true}));
    }
    roles
}

fn search_roles(st: &State, req: &Value) -> Result<Resp, ApiError> {
    let queries = arr(req, "Queries");
    let op = enum_of(req, "Operation", "serviceOperationType");
    let roles: Vec<Value> = all_roles(st)
        .into_iter()
        .filter(|r| {
            combine(&queries, &op, |q| {
                let uuids = strs(q, "Uuid");
                (uuids.is_empty() || uuids.iter().any(|u| u == str_of(r, "Uuid")))
                    && (str_of(q, "Label").is_empty()
                        || glob(str_of(q, "Label"), str_of(r, "Label")))
                    && (!bool_of(q, "IsGroupRole") || bool_of(r, "GroupRole"))
                    && (!bool_of(q, "IsUserRole") || bool_of(r, "UserRole"))
                    && !bool_of(q, "IsTeam")
            })
        })
        .collect();
    let total = roles.len();
    if bool_of(req, "CountOnly") {
        return Ok(json_resp(json!({"Total": total})));
    }
    Ok(json_resp(
        json!({"Roles": page(roles, req), "Total": total}),
    ))
}

fn ws_root_uuid(st: &State, ws: &Ws) -> String {
    if ws.slug == "personal-files" {
        return "my-files".into();
    }
    st.lock()
        .get(&ws.root_key("admin"))
        .map(|e| e.uuid.clone())
        .unwrap_or_default()
}

fn search_workspaces(st: &State, req: &Value) -> Result<Resp, ApiError> {
    let queries = arr(req, "Queries");
    let op = enum_of(req, "Operation", "serviceOperationType");
    let list: Vec<Value> = WORKSPACES
        .iter()
        .filter(|w| {
            combine(&queries, &op, |q| {
                (str_of(q, "slug").is_empty() || glob(str_of(q, "slug"), w.slug))
                    && (str_of(q, "uuid").is_empty() || str_of(q, "uuid") == w.uuid)
                    && (str_of(q, "label").is_empty() || glob(str_of(q, "label"), w.label))
                    && match enum_of(q, "scope", "idmWorkspaceScope").as_str() {
                        "" | "ANY" => true,
                        s => s == w.scope,
                    }
            })
        })
        .map(|w| {
            json!({"UUID": w.uuid, "Slug": w.slug, "Label": w.label, "Description": w.description,
                "Scope": w.scope, "Attributes": "{\"DEFAULT_RIGHTS\":\"rw\"}", "RootUUIDs": [ws_root_uuid(st, w)],
                "PoliciesContextEditable": true})
        })
        .collect();
    let total = list.len();
    Ok(json_resp(
        json!({"Workspaces": page(list, req), "Total": total}),
    ))
}

/// The ACL table, derived from the workspaces (minus deleted entries).
fn all_acls(st: &State) -> Vec<Value> {
    let g = st.lock();
    let mut out = Vec::new();
    let mut n = 0;
    let mut add = |node: &str, role: &str, ws: &str, name: &str, value: &str| {
        n += 1;
        let id = n.to_string();
        if !g.acl_deleted.contains(&id) {
            out.push(
                json!({"ID": id, "NodeID": node, "RoleID": role, "WorkspaceID": ws,
                "Action": {"Name": name, "Value": value}}),
            );
        }
    };
    for ws in WORKSPACES {
        match ws.slug {
            "personal-files" => {
                for u in USERS {
                    let node = g
                        .get(&ws.root_key(u.login))
                        .map(|e| e.uuid.clone())
                        .unwrap_or_default();
                    add(&node, u.uuid, ws.uuid, "read", "1");
                    add(&node, u.uuid, ws.uuid, "write", "1");
                }
            }
            _ => {
                let node = g
                    .get(&ws.root_key("admin"))
                    .map(|e| e.uuid.clone())
                    .unwrap_or_default();
                let roles: Vec<&str> = match ws.members {
                    None => vec!["ROOT_GROUP"],
                    Some(m) => m.iter().filter_map(|l| user(l).map(|u| u.uuid)).collect(),
                };
                for r in roles {
                    add(&node, r, ws.uuid, "read", "1");
                    add(&node, r, ws.uuid, "write", "1");
                }
                add("", "ADMINS", ws.uuid, "workspace-path", ws.slug);
            }
        }
    }
    out
}

fn acl_matches(a: &Value, q: &Value) -> bool {
    let node_ids = strs(q, "NodeIDs");
    let role_ids = strs(q, "RoleIDs");
    let ws_ids = strs(q, "WorkspaceIDs");
    let actions = arr(q, "Actions");
    (node_ids.is_empty() || node_ids.iter().any(|x| x == str_of(a, "NodeID")))
        && (role_ids.is_empty() || role_ids.iter().any(|x| x == str_of(a, "RoleID")))
        && (ws_ids.is_empty() || ws_ids.iter().any(|x| x == str_of(a, "WorkspaceID")))
        && (actions.is_empty()
            || actions.iter().any(|x| {
                let act = a.get("Action").cloned().unwrap_or(json!({}));
                str_of(x, "Name") == str_of(&act, "Name")
                    && (str_of(x, "Value").is_empty()
                        || str_of(x, "Value") == str_of(&act, "Value"))
            }))
}

fn search_acls(st: &State, req: &Value) -> Result<Resp, ApiError> {
    let queries = arr(req, "Queries");
    let op = enum_of(req, "Operation", "serviceOperationType");
    let list: Vec<Value> = all_acls(st)
        .into_iter()
        .filter(|a| combine(&queries, &op, |q| acl_matches(a, q)))
        .collect();
    let total = list.len();
    if bool_of(req, "CountOnly") {
        return Ok(json_resp(json!({"Total": total})));
    }
    Ok(json_resp(json!({"ACLs": page(list, req), "Total": total})))
}

fn delete_acl(st: &State, acl: &Value) -> Result<Resp, ApiError> {
    let mut q = json!({});
    if !str_of(acl, "NodeID").is_empty() {
        q["NodeIDs"] = json!([str_of(acl, "NodeID")]);
    }
    if !str_of(acl, "RoleID").is_empty() {
        q["RoleIDs"] = json!([str_of(acl, "RoleID")]);
    }
    if !str_of(acl, "WorkspaceID").is_empty() {
        q["WorkspaceIDs"] = json!([str_of(acl, "WorkspaceID")]);
    }
    if let Some(a) = acl
        .get("Action")
        .filter(|a| a.is_object() && !str_of(a, "Name").is_empty())
    {
        q["Actions"] = json!([a]);
    }
    if q.as_object().map(|m| m.is_empty()).unwrap_or(true) {
        return Err(err(400, "Refusing to delete ACLs with an empty query"));
    }
    let ids: Vec<String> = all_acls(st)
        .iter()
        .filter(|a| acl_matches(a, &q))
        .map(|a| str_of(a, "ID").to_string())
        .collect();
    let mut g = st.lock();
    for id in &ids {
        g.delete_acl(id);
    }
    Ok(json_resp(
        json!({"Success": true, "NumRows": i64s(ids.len() as i64)}),
    ))
}

fn list_datasources(st: &State) -> Result<Resp, ApiError> {
    let list: Vec<Value> = DATASOURCES
        .iter()
        .map(|ds| match ds.s3_host {
            None => {
                let folder = st.data.join(ds.name);
                json!({"Name": ds.name, "ObjectsBucket": ds.name, "ObjectsBaseFolder": folder.to_string_lossy(),
                    "ObjectsServiceName": "gateway", "StorageConfiguration": {"folder": folder.to_string_lossy(), "normalize": "false"},
                    "VersioningPolicyName": if ds.name == "personal" { "" } else { "default-policy" }})
            }
            Some(host) => json!({"Name": ds.name, "StorageType": "S3", "ObjectsBucket": "cells-archive",
                "ObjectsHost": host, "ObjectsPort": 443, "ObjectsSecure": true, "FlatStorage": true,
                "ApiKey": "archive-key", "ApiSecret": state::ARCHIVE_SECRET,
                "VersioningPolicyName": "default-policy"}),
        })
        .collect();
    let total = list.len();
    Ok(json_resp(json!({"DataSources": list, "Total": total})))
}

// ---------------------------------------------------------------- user metas

fn namespaces() -> Value {
    let defs: &[(&str, &str, &str, i64)] = &[
        ("usermeta-tags", "Tags", "{\"type\":\"tags\"}", 1),
        (
            "usermeta-tag-validation-status",
            "Status",
            "{\"type\":\"choice\",\"data\":{\"items\":[{\"key\":\"Draft\",\"value\":\"Draft\"},{\"key\":\"Validated\",\"value\":\"Validated\"},{\"key\":\"Rejected\",\"value\":\"Rejected\"}]}}",
            2,
        ),
        ("usermeta-comment", "Comment", "{\"type\":\"textarea\"}", 3),
        ("usermeta-description", "Description", "{\"type\":\"string\"}", 4),
        ("usermeta-deadline", "Deadline", "{\"type\":\"date\",\"data\":{\"format\":\"date\",\"display\":\"normal\"}}", 5),
        ("usermeta-rating", "Rating", "{\"type\":\"stars_rate\"}", 6),
        ("usermeta-count", "Count", "{\"type\":\"integer\"}", 7),
        ("usermeta-done", "Done", "{\"type\":\"boolean\"}", 8),
        ("usermeta-color", "Color", "{\"type\":\"css_label\"}", 9),
        ("usermeta-extra", "Extra", "{\"type\":\"json\"}", 10),
    ];
    Value::Array(
        defs.iter()
            .map(|(ns, label, def, order)| {
                json!({"Namespace": ns, "Label": label, "Order": order, "Indexable": true,
                    "JsonDefinition": def, "PoliciesContextEditable": true})
            })
            .collect(),
    )
}

fn update_user_meta(st: &State, login: &str, req: &Value) -> Result<Resp, ApiError> {
    let op = match enum_of(req, "Operation", "UpdateUserMetaRequestUserMetaOp").as_str() {
        "" => "PUT".to_string(),
        s => s.to_string(),
    };
    let known: Vec<String> = namespaces()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| str_of(n, "Namespace").to_string())
        .collect();
    let mut g = st.lock();
    let mut out = Vec::new();
    for md in arr(req, "MetaDatas") {
        let node = str_of(md, "NodeUuid");
        let ns = str_of(md, "Namespace");
        if !known.iter().any(|k| k == ns) {
            return Err(err(404, format!("Cannot find namespace {ns}")));
        }
        let key = g
            .by_uuid
            .get(node)
            .cloned()
            .ok_or_else(|| err(404, format!("Cannot find node {node}")))?;
        if st.user_path(login, &key).is_none() {
            return Err(err(403, format!("You are not allowed to edit node {node}")));
        }
        let value = str_of(md, "JsonValue").to_string();
        if let Some(e) = g.nodes.get_mut(&key) {
            if op == "DELETE" || value.is_empty() || value == "\"\"" {
                e.metas.remove(ns);
            } else {
                e.metas.insert(ns.to_string(), value.clone());
            }
        }
        g.touch(&key);
        out.push(json!({"Uuid": format!("{node}-{ns}"), "NodeUuid": node, "Namespace": ns,
            "JsonValue": if op == "DELETE" { String::new() } else { value }, "PoliciesContextEditable": true}));
    }
    Ok(json_resp(json!({"MetaDatas": out})))
}
