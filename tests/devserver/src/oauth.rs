//! OAuth2 / OIDC front (docs/protocol.md §5), a small stand-in for the Hydra instance of Cells.
//!
//! # Wiring (for the core dispatcher)
//!
//! ```ignore
//! // every request whose path starts with "/oidc/" or equals "/oauth2/oob":
//! let resp: http::Response<http_body_util::Full<bytes::Bytes>> =
//!     crate::oauth::handle(host.clone(), req).await;
//! ```
//! (`crate::oauth::is_oauth_path(path)` tells whether a path belongs here.)
//!
//! Endpoints:
//! * `GET /oidc/oauth2/auth?client_id=cells-client&redirect_uri=…&response_type=code&scope=…&state=…`
//!   `[&code_challenge=…&code_challenge_method=S256][&nonce=…]` → an HTML login form
//!   (plain form, no JavaScript: fields `login`, `password` and hidden copies of the
//!   query parameters, posted back to `/oidc/oauth2/auth`).
//! * `POST /oidc/oauth2/auth` (the form) → checks the password, issues a single-use
//!   authorization code valid 60 s, bound to client, redirect URI and PKCE challenge, and
//!   answers `302 Location: <redirect_uri>?code=…&scope=…&state=…`. A wrong password
//!   re-renders the form with status 401.
//! * `GET /oauth2/oob?code=…&state=…` → an HTML page showing the code (copy/paste mode)
//!   as `<code id="code">…</code>`.
//! * `POST /oidc/oauth2/token` (form) with `grant_type=authorization_code` (`code`,
//!   `redirect_uri`, `client_id`, `code_verifier` when a challenge was given) or
//!   `grant_type=refresh_token` (`refresh_token`, optional `scope`) → JSON
//!   `{access_token, expires_in, id_token, refresh_token, scope, token_type}`. Refresh
//!   tokens rotate and are single use: presenting a spent one revokes the whole grant
//!   (every refresh token of it), as Hydra does; replaying a code does the same.
//!   Errors: `{"error":…,"error_description":…,"status_code":400|401}` with that HTTP status.
//! * `GET /oidc/.well-known/openid-configuration` → discovery document.
//!
//! Client `cells-client` (public, no secret); accepted redirect URIs:
//! `http://localhost[:port]/servers/callback`, `http://127.0.0.1[:port]/servers/callback`
//! (any port) and `<public_url>/oauth2/oob` (localhost/127.0.0.1 spellings alike).
//! PKCE S256 is optional unless `Host::require_pkce()`. Grants (hashes of refresh tokens
//! only) persist in `Host::data_dir()/oauth/grants.json`, so a restart keeps them.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::host::Host;

pub const CLIENT_ID: &str = "cells-client";
/// Lifetime of an authorization code.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
const ALLOWED_SCOPES: &[&str] = &[
    "openid",
    "email",
    "profile",
    "pydio",
    "offline",
    "offline_access",
];
const MAX_BODY: usize = 64 * 1024;

/// Does `path` belong to this front?
pub fn is_oauth_path(path: &str) -> bool {
    path.starts_with("/oidc/") || path == "/oauth2/oob" || path == "/oauth2/oob/"
}

/// Serve one request of the OAuth2/OIDC front (see the module docs).
pub async fn handle(
    host: Arc<dyn Host>,
    req: http::Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body is too large or unreadable.",
            )
        }
    };
    let is_token = parts.uri.path() == "/oidc/oauth2/token";
    let delay = host.token_delay();
    let resp = handle_parts(host, &parts, body);
    if is_token {
        tokio::time::sleep(delay).await;
    }
    resp
}

/// Same as [`handle`] with the body already read (used by unit tests).
pub fn handle_parts(
    host: Arc<dyn Host>,
    parts: &http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let st = state_for(&host);
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let mut resp = match (&parts.method, path) {
        (&Method::GET, "/oidc/oauth2/auth") => auth_get(&*host, query),
        (&Method::POST, "/oidc/oauth2/auth") => auth_post(&*host, &st, &body),
        (&Method::POST, "/oidc/oauth2/token") => token(&*host, &st, parts, &body),
        (&Method::GET, "/oauth2/oob") | (&Method::GET, "/oauth2/oob/") => oob_page(query),
        (&Method::GET, "/oidc/.well-known/openid-configuration") => discovery(&*host),
        (_, "/oidc/oauth2/auth" | "/oidc/oauth2/token" | "/oauth2/oob") => json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "Method not allowed.",
        ),
        _ => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Unknown OAuth2 endpoint.",
        ),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    resp.headers_mut()
        .insert(header::PRAGMA, "no-cache".parse().expect("static"));
    resp
}

// ---------------------------------------------------------------------------------------
// State

#[derive(Clone)]
struct CodeEntry {
    login: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<String>,
    nonce: Option<String>,
    expires: u64,
    /// Set once exchanged: the grant born from it (revoked if the code is replayed).
    spent_by: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Grant {
    id: String,
    login: String,
    client_id: String,
    scope: String,
    /// SHA-256 (hex) of the currently valid refresh token, if any.
    current: Option<String>,
    /// SHA-256 (hex) of spent refresh tokens (kept to detect replays).
    spent: Vec<String>,
    revoked: bool,
    created: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct Persisted {
    grants: Vec<Grant>,
}

struct OAuthState {
    file: PathBuf,
    id_key: Vec<u8>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, CodeEntry>,
    grants: HashMap<String, Grant>,
    /// refresh-token hash (current or spent) -> grant id
    by_rt: HashMap<String, String>,
}

impl Inner {
    fn index(&mut self, g: &Grant) {
        if let Some(c) = &g.current {
            self.by_rt.insert(c.clone(), g.id.clone());
        }
        for s in &g.spent {
            self.by_rt.insert(s.clone(), g.id.clone());
        }
    }
}

fn state_for(host: &Arc<dyn Host>) -> Arc<OAuthState> {
    static ALL: OnceLock<Mutex<HashMap<PathBuf, Arc<OAuthState>>>> = OnceLock::new();
    let dir = host.data_dir().join("oauth");
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(s) = all.get(&dir) {
        return s.clone();
    }
    let _ = std::fs::create_dir_all(&dir);
    let key_file = dir.join("id_token.key");
    let id_key = match std::fs::read_to_string(&key_file)
        .ok()
        .and_then(|s| hex::decode(s.trim()).ok())
    {
        Some(k) if k.len() >= 32 => k,
        _ => {
            let k = random_bytes(32);
            let _ = std::fs::write(&key_file, hex::encode(&k));
            k
        }
    };
    let file = dir.join("grants.json");
    let mut inner = Inner::default();
    if let Some(p) = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Persisted>(&b).ok())
    {
        for g in p.grants {
            inner.index(&g);
            inner.grants.insert(g.id.clone(), g);
        }
    }
    let s = Arc::new(OAuthState {
        file,
        id_key,
        inner: Mutex::new(inner),
    });
    all.insert(dir, s.clone());
    s
}

impl OAuthState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, g: &Inner) {
        let mut grants: Vec<Grant> = g.grants.values().cloned().collect();
        grants.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        let data = serde_json::to_vec_pretty(&Persisted { grants }).unwrap_or_default();
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, data).is_ok() {
            if let Err(e) = std::fs::rename(&tmp, &self.file) {
                eprintln!("oauth: cannot save grants: {e}");
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::Rng::fill(&mut rand::thread_rng(), &mut b[..]);
    b
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", B64URL.encode(random_bytes(32)))
}

fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// Helpers: forms, responses

/// Parse a form/query string; `Err(name)` when a parameter is repeated (RFC 6749 §3.1).
fn parse_form(s: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    for (k, v) in form_urlencoded::parse(s) {
        if m.insert(k.to_string(), v.to_string()).is_some() {
            return Err(k.to_string());
        }
    }
    Ok(m)
}

fn json_response(status: StatusCode, v: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Full::new(Bytes::from(v.to_string())))
        .expect("valid response")
}

/// A 503 of the token front (`--fail-burst`).
pub fn unavailable() -> Response<Full<Bytes>> {
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "injected failure",
    )
}

fn json_error(status: StatusCode, error: &str, description: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        json!({"error": error, "error_description": description, "status_code": status.as_u16()}),
    )
}

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{t}</title>\n\
<style>body{{font-family:sans-serif;max-width:28em;margin:4em auto}}label{{display:block;margin:.6em 0}}\
input[type=text],input[type=password]{{width:100%}}.error{{color:#b00}}code{{font-size:1.2em;word-break:break-all}}</style>\n\
</head>\n<body>\n<h1>{t}</h1>\n{content}\n</body>\n</html>\n",
        t = esc(title)
    )
}

fn redirect(location: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(format!(
            "<a href=\"{}\">Found</a>.\n",
            esc(location)
        ))))
        .expect("valid response")
}

fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", ser.finish())
}

/// Is `uri` a registered redirect URI of `cells-client`?
pub fn redirect_uri_allowed(public_url: &str, uri: &str) -> bool {
    let base = public_url.trim_end_matches('/');
    if !base.is_empty() {
        // The server's own out-of-band page; `localhost` and `127.0.0.1` are taken as the
        // same host (the server only listens on loopback), the scheme and port must match.
        let alias = if base.contains("://127.0.0.1") {
            base.replacen("://127.0.0.1", "://localhost", 1)
        } else {
            base.replacen("://localhost", "://127.0.0.1", 1)
        };
        if uri == format!("{base}/oauth2/oob") || uri == format!("{alias}/oauth2/oob") {
            return true;
        }
    }
    for host in ["http://localhost", "http://127.0.0.1"] {
        if let Some(rest) = uri.strip_prefix(host) {
            let rest = match rest.strip_prefix(':') {
                Some(r) => {
                    let digits = r.bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0
                        || digits > 5
                        || r[..digits].parse::<u32>().map_or(true, |p| p > 65535)
                    {
                        return false;
                    }
                    &r[digits..]
                }
                None => rest,
            };
            return rest == "/servers/callback";
        }
    }
    false
}

// ---------------------------------------------------------------------------------------
// Authorization endpoint

/// Validated parameters of an authorization request.
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    challenge: Option<String>,
    method: Option<String>,
    nonce: Option<String>,
}

/// `Err(resp)`: the response to send (an error page when the client or redirect URI is bad,
/// else a redirect carrying the error, per RFC 6749 §4.1.2.1).
#[allow(clippy::result_large_err)]
fn validate_auth(
    host: &dyn Host,
    p: &HashMap<String, String>,
) -> Result<AuthRequest, Response<Full<Bytes>>> {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let redirect_uri = get("redirect_uri");
    if client_id != CLIENT_ID {
        return Err(error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed (unknown client).",
        ));
    }
    if !redirect_uri_allowed(&host.public_url(), &redirect_uri) {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.",
        ));
    }
    let state = get("state");
    let fail = |error: &str, desc: &str| {
        Err(redirect(&with_query(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", desc),
                ("state", &state),
            ],
        )))
    };
    if get("response_type") != "code" {
        return fail(
            "unsupported_response_type",
            "The authorization server does not support this response_type (use 'code').",
        );
    }
    if state.len() < 8 {
        return fail(
            "invalid_state",
            "The state is missing or does not have enough characters (at least 8).",
        );
    }
    let scope = get("scope");
    if let Some(bad) = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .find(|s| !ALLOWED_SCOPES.contains(s))
    {
        return fail(
            "invalid_scope",
            &format!("The requested scope '{bad}' is not allowed for this client."),
        );
    }
    let challenge = p.get("code_challenge").filter(|s| !s.is_empty()).cloned();
    let method = p
        .get("code_challenge_method")
        .filter(|s| !s.is_empty())
        .cloned();
    match (&challenge, method.as_deref()) {
        (None, _) if host.require_pkce() => {
            return fail("invalid_request", "Clients must include a code_challenge when performing the authorize code flow (PKCE is required).");
        }
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method given without code_challenge.",
            )
        }
        (Some(c), m) => {
            if m != Some("S256") {
                return fail(
                    "invalid_request",
                    "Only code_challenge_method=S256 is supported.",
                );
            }
            if c.len() < 43
                || c.len() > 128
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return fail(
                    "invalid_request",
                    "The code_challenge is malformed (base64url SHA-256 expected).",
                );
            }
        }
        (None, None) => {}
    }
    let nonce = p.get("nonce").filter(|s| !s.is_empty()).cloned();
    if nonce.as_ref().is_some_and(|n| n.len() < 8) {
        return fail(
            "invalid_request",
            "The nonce must be at least 8 characters long.",
        );
    }
    Ok(AuthRequest {
        client_id,
        redirect_uri,
        scope,
        state,
        challenge,
        method,
        nonce,
    })
}

fn error_page(status: StatusCode, error: &str, desc: &str) -> Response<Full<Bytes>> {
    html(
        status,
        page(
            "Authorization error",
            &format!(
                "<p class=\"error\" id=\"error\">{}</p>\n<p id=\"error_description\">{}</p>",
                esc(error),
                esc(desc)
            ),
        ),
    )
}

fn login_form(a: &AuthRequest, message: Option<&str>) -> String {
    let mut hidden = String::new();
    let mut add = |k: &str, v: &str| {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            esc(k),
            esc(v)
        ));
    };
    add("client_id", &a.client_id);
    add("redirect_uri", &a.redirect_uri);
    add("response_type", "code");
    add("scope", &a.scope);
    add("state", &a.state);
    if let Some(c) = &a.challenge {
        add("code_challenge", c);
    }
    if let Some(m) = &a.method {
        add("code_challenge_method", m);
    }
    if let Some(n) = &a.nonce {
        add("nonce", n);
    }
    let msg = message
        .map(|m| format!("<p class=\"error\" id=\"error\">{}</p>\n", esc(m)))
        .unwrap_or_default();
    page(
        "Sign in to the Cells development server",
        &format!(
            "{msg}<form method=\"post\" action=\"/oidc/oauth2/auth\">\n{hidden}\
<label>Login <input type=\"text\" name=\"login\" autocomplete=\"username\" autofocus></label>\n\
<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\n\
<button type=\"submit\">Sign in</button>\n</form>\n<p>Application <b>{}</b> asks for: {}</p>",
            esc(&a.client_id),
            esc(&a.scope)
        ),
    )
}

fn auth_get(host: &dyn Host, query: &str) -> Response<Full<Bytes>> {
    let p = match parse_form(query.as_bytes()) {
        Ok(p) => p,
        Err(k) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("Parameter '{k}' is repeated."),
            )
        }
    };
    match validate_auth(host, &p) {
        Ok(a) => html(StatusCode::OK, login_form(&a, None)),
        Err(resp) => resp,
    }
}

fn auth_post(host: &dyn Host, st: &OAuthState, body: &[u8]) -> Response<Full<Bytes>> {
    let p = match parse_form(body) {
        Ok(p) => p,
        Err(k) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("Parameter '{k}' is repeated."),
            )
        }
    };
    let a = match validate_auth(host, &p) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let login = p.get("login").map(|s| s.trim()).unwrap_or("");
    let password = p.get("password").map(String::as_str).unwrap_or("");
    let Some(login) = host.check_password(login, password) else {
        return html(
            StatusCode::UNAUTHORIZED,
            login_form(&a, Some("Invalid login or password.")),
        );
    };
    let code = random_token("ory_ac_");
    let entry = CodeEntry {
        login,
        client_id: a.client_id.clone(),
        redirect_uri: a.redirect_uri.clone(),
        scope: a.scope.clone(),
        challenge: a.challenge.clone(),
        nonce: a.nonce.clone(),
        expires: now() + CODE_LIFETIME.as_secs(),
        spent_by: None,
    };
    {
        let mut g = st.lock();
        let t = now();
        // Forget codes that expired long ago (spent ones are kept a while to detect replays).
        g.codes.retain(|_, c| c.expires + 600 > t);
        g.codes.insert(sha_hex(&code), entry);
    }
    redirect(&with_query(
        &a.redirect_uri,
        &[("code", &code), ("scope", &a.scope), ("state", &a.state)],
    ))
}

fn oob_page(query: &str) -> Response<Full<Bytes>> {
    let p: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(err) = p.get("error") {
        let desc = p.get("error_description").cloned().unwrap_or_default();
        return error_page(StatusCode::BAD_REQUEST, err, &desc);
    }
    let code = p.get("code").cloned().unwrap_or_default();
    if code.is_empty() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No authorization code in the URL.",
        );
    }
    html(
        StatusCode::OK,
        page(
            "Authorization code",
            &format!(
                "<p>Copy this code and paste it into the client:</p>\n<p><code id=\"code\">{}</code></p>",
                esc(&code)
            ),
        ),
    )
}

fn discovery(host: &dyn Host) -> Response<Full<Bytes>> {
    let base = host.public_url();
    json_response(
        StatusCode::OK,
        json!({
            "issuer": format!("{base}/oidc/"),
            "authorization_endpoint": format!("{base}/oidc/oauth2/auth"),
            "token_endpoint": format!("{base}/oidc/oauth2/token"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ALLOWED_SCOPES,
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Token endpoint

fn token(
    host: &dyn Host,
    st: &OAuthState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let bad = |e: &str, d: &str| json_error(StatusCode::BAD_REQUEST, e, d);
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return bad(
            "invalid_request",
            "The request must be sent as application/x-www-form-urlencoded.",
        );
    }
    let p = match parse_form(body) {
        Ok(p) => p,
        Err(k) => return bad("invalid_request", &format!("Parameter '{k}' is repeated.")),
    };
    // Client authentication: public client, id in the body or HTTP Basic with an empty secret.
    let mut client_id = p.get("client_id").cloned();
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(b) = auth.strip_prefix("Basic ") {
            let dec = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .unwrap_or_default();
            let s = String::from_utf8_lossy(&dec).to_string();
            let id = s.split(':').next().unwrap_or("");
            let id = percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .to_string();
            client_id = Some(id);
        }
    }
    if client_id.as_deref() != Some(CLIENT_ID) {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).",
        );
    }
    match p.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(host, st, &p),
        Some("refresh_token") => refresh_grant(host, st, &p),
        Some(other) if !other.is_empty() => bad(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ),
        _ => bad(
            "invalid_request",
            "The request is missing the 'grant_type' parameter.",
        ),
    }
}

fn invalid_grant(d: &str) -> Response<Full<Bytes>> {
    json_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        &format!("The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client. {d}"),
    )
}

fn code_grant(
    host: &dyn Host,
    st: &OAuthState,
    p: &HashMap<String, String>,
) -> Response<Full<Bytes>> {
    let code = p.get("code").cloned().unwrap_or_default();
    if code.is_empty() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing the 'code' parameter.",
        );
    }
    let mut g = st.lock();
    let h = sha_hex(&code);
    let Some(entry) = g.codes.get(&h).cloned() else {
        return invalid_grant("The authorization code is unknown.");
    };
    if let Some(grant_id) = &entry.spent_by {
        // Replay of a used code: revoke what it produced.
        if let Some(gr) = g.grants.get_mut(grant_id) {
            gr.revoked = true;
        }
        st.save(&g);
        return invalid_grant(
            "The authorization code has already been used; the tokens issued with it are revoked.",
        );
    }
    if entry.expires <= now() {
        g.codes.remove(&h);
        return invalid_grant("The authorization code has expired.");
    }
    if entry.client_id != CLIENT_ID {
        return invalid_grant("The authorization code was issued to another client.");
    }
    if p.get("redirect_uri").map(String::as_str) != Some(entry.redirect_uri.as_str()) {
        return invalid_grant(
            "The 'redirect_uri' does not match the one of the authorization request.",
        );
    }
    let verifier = p.get("code_verifier").filter(|v| !v.is_empty());
    match (&entry.challenge, verifier) {
        (Some(ch), Some(v)) => {
            if v.len() < 43 || v.len() > 128 {
                return invalid_grant("The PKCE code verifier must be 43 to 128 characters long.");
            }
            if B64URL.encode(Sha256::digest(v.as_bytes())) != *ch {
                return invalid_grant("The PKCE code challenge did not match the code verifier.");
            }
        }
        (Some(_), None) => return invalid_grant("The PKCE code verifier is missing."),
        (None, Some(_)) => {
            return invalid_grant(
                "A code_verifier was given but the authorization request had no code_challenge.",
            )
        }
        (None, None) => {}
    }
    let grant_id = uuid::Uuid::new_v4().to_string();
    let offline = has_offline(&entry.scope);
    let rt = offline.then(|| random_token("ory_rt_"));
    let grant = Grant {
        id: grant_id.clone(),
        login: entry.login.clone(),
        client_id: entry.client_id.clone(),
        scope: entry.scope.clone(),
        current: rt.as_deref().map(sha_hex),
        spent: Vec::new(),
        revoked: false,
        created: now(),
    };
    if let Some(c) = g.codes.get_mut(&h) {
        c.spent_by = Some(grant_id.clone());
    }
    g.index(&grant);
    g.grants.insert(grant_id, grant);
    st.save(&g);
    drop(g);
    token_response(
        host,
        st,
        &entry.login,
        &entry.scope,
        rt,
        entry.nonce.as_deref(),
    )
}

fn has_offline(scope: &str) -> bool {
    scope
        .split(' ')
        .any(|s| s == "offline" || s == "offline_access")
}

fn refresh_grant(
    host: &dyn Host,
    st: &OAuthState,
    p: &HashMap<String, String>,
) -> Response<Full<Bytes>> {
    let rt = p.get("refresh_token").cloned().unwrap_or_default();
    if rt.is_empty() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing the 'refresh_token' parameter.",
        );
    }
    let h = sha_hex(&rt);
    let mut g = st.lock();
    let Some(gid) = g.by_rt.get(&h).cloned() else {
        return invalid_grant("The refresh token is unknown.");
    };
    let Some(grant) = g.grants.get(&gid).cloned() else {
        return invalid_grant("The refresh token is unknown.");
    };
    if grant.revoked {
        return invalid_grant("The refresh token has been revoked.");
    }
    if grant.current.as_deref() != Some(h.as_str()) {
        // A spent token presented again: someone replays it. Revoke the whole grant.
        // (Logged: tests count replays in the server log.)
        eprintln!("oauth: refresh token replayed, grant {gid} revoked");
        if let Some(gr) = g.grants.get_mut(&gid) {
            gr.revoked = true;
            gr.current = None;
        }
        st.save(&g);
        return invalid_grant("The refresh token was already used; the grant has been revoked (token reuse detected).");
    }
    // Optional narrower scope.
    let scope = match p.get("scope").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(req) => {
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            if let Some(bad) = req
                .split(' ')
                .filter(|s| !s.is_empty())
                .find(|s| !granted.contains(s))
            {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    &format!("The requested scope '{bad}' was not granted."),
                );
            }
            grant.scope.clone()
        }
        None => grant.scope.clone(),
    };
    let new_rt = random_token("ory_rt_");
    let nh = sha_hex(&new_rt);
    if let Some(gr) = g.grants.get_mut(&gid) {
        gr.spent.push(h);
        if gr.spent.len() > 1000 {
            let drop_n = gr.spent.len() - 1000;
            gr.spent.drain(..drop_n);
        }
        gr.current = Some(nh.clone());
    }
    g.by_rt.insert(nh, gid);
    st.save(&g);
    drop(g);
    eprintln!("oauth: refresh token rotated");
    token_response(host, st, &grant.login, &scope, Some(new_rt), None)
}

fn token_response(
    host: &dyn Host,
    st: &OAuthState,
    login: &str,
    scope: &str,
    refresh: Option<String>,
    nonce: Option<&str>,
) -> Response<Full<Bytes>> {
    let lifetime = host.access_token_lifetime();
    let access = host.issue_token(login, lifetime);
    let mut v = json!({
        "access_token": access,
        "expires_in": lifetime.as_secs(),
        "scope": scope,
        "token_type": "bearer",
    });
    if scope.split(' ').any(|s| s == "openid") {
        v["id_token"] = json!(id_token(host, st, login, lifetime, nonce));
    }
    if let Some(rt) = refresh {
        v["refresh_token"] = json!(rt);
    }
    json_response(StatusCode::OK, v)
}

fn id_token(
    host: &dyn Host,
    st: &OAuthState,
    login: &str,
    lifetime: Duration,
    nonce: Option<&str>,
) -> String {
    use hmac::{Hmac, Mac};
    let t = now();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "devserver"});
    let mut claims = json!({
        "iss": format!("{}/oidc/", host.public_url()),
        "sub": login,
        "aud": [CLIENT_ID],
        "iat": t,
        "auth_time": t,
        "exp": t + lifetime.as_secs(),
        "name": login,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let signing = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&st.id_key).expect("hmac key");
    mac.update(signing.as_bytes());
    format!("{signing}.{}", B64URL.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        let pu = "http://127.0.0.1:8080";
        assert!(redirect_uri_allowed(
            pu,
            "http://localhost:3000/servers/callback"
        ));
        assert!(redirect_uri_allowed(
            pu,
            "http://127.0.0.1:41234/servers/callback"
        ));
        assert!(redirect_uri_allowed(
            pu,
            "http://localhost/servers/callback"
        ));
        assert!(redirect_uri_allowed(pu, "http://127.0.0.1:8080/oauth2/oob"));
        assert!(!redirect_uri_allowed(
            pu,
            "http://127.0.0.1:9999/oauth2/oob"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "http://localhost:3000/servers/callback/x"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "http://localhost:3000/servers/callback?x=1"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "http://localhost.evil.com/servers/callback"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "http://localhost:99999/servers/callback"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "https://localhost:3000/servers/callback"
        ));
        assert!(!redirect_uri_allowed(
            pu,
            "http://localhost:@evil/servers/callback"
        ));
    }

    #[test]
    fn repeated_params_are_refused() {
        assert!(parse_form(b"a=1&b=2").is_ok());
        assert_eq!(parse_form(b"a=1&a=2").unwrap_err(), "a");
    }

    #[test]
    fn query_building() {
        assert_eq!(
            with_query(
                "http://localhost:3000/servers/callback",
                &[("code", "a b"), ("state", "x/y")]
            ),
            "http://localhost:3000/servers/callback?code=a+b&state=x%2Fy"
        );
    }
}
