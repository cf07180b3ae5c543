//! OAuth2 authorization-code flow and refresh (docs/protocol.md §5),
//! with the reference's weaknesses fixed: loopback server on 127.0.0.1 only,
//! only `/servers/callback` accepted, CSPRNG `state` checked, PKCE S256,
//! timeout, HTTP status of token responses checked.

use crate::api::http::{self, Req};
use crate::config::ServerUrl;
use crate::error::{Error, Exit, Result};
use base64::Engine;
use serde::Deserialize;
use sha2::Digest;
use std::time::{Duration, Instant};
use ureq::Agent;

pub const CLIENT_ID: &str = "cells-client";
pub const SCOPES: &str = "openid email profile pydio offline";

/// Options of the browser flow (`config add oauth`, `config relog`).
#[derive(Debug, Clone)]
pub struct OAuthOpts {
    /// `--id-token` (and hidden legacy `--id_token`): store this token, no flow.
    pub id_token: Option<String>,
    /// `--port`: loopback callback port (never 0).
    pub port: u16,
    /// `--no-pkce`: for servers that reject PKCE.
    pub no_pkce: bool,
    /// `--no-browser`: print the URL and use the copy/paste (oob) flow.
    pub no_browser: bool,
    /// `--timeout SECS` for the browser flow.
    pub timeout: Duration,
}

/// Tokens from the token endpoint.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    /// Absolute Unix seconds (0 when the server gave no `expires_in`).
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    status_code: Option<i64>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b)
        .map_err(|e| Error::failure(format!("no secure random source: {e}")))?;
    Ok(b)
}

/// 16 random ASCII letters from the OS CSPRNG (rejection sampling, no bias).
pub fn random_state() -> Result<String> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = String::new();
    while out.len() < 16 {
        for b in random_bytes(32)? {
            if b < 208 && out.len() < 16 {
                out.push(LETTERS[(b % 52) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// PKCE (verifier, S256 challenge).
pub fn pkce_pair() -> Result<(String, String)> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = b64.encode(random_bytes(32)?);
    let challenge = b64.encode(sha2::Sha256::digest(verifier.as_bytes()));
    Ok((verifier, challenge))
}

/// The authorization URL (parameters sorted by name like Go's `url.Values.Encode`).
pub fn authorize_url(base: &str, redirect: &str, state: &str, challenge: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("state", state),
    ];
    if let Some(c) = challenge {
        pairs.push(("code_challenge", c));
        pairs.push(("code_challenge_method", "S256"));
    }
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("{base}/oidc/oauth2/auth?{}", s.finish())
}

fn token_request(agent: &Agent, base: &str, form: &[(&str, &str)], what: &str) -> Result<Tokens> {
    let req = Req::new("POST", format!("{base}/oidc/oauth2/token"))
        .header("Accept", "application/json")
        .header("Cache-Control", "no-cache")
        .form_body(form)
        .idempotent(false);
    let resp = http::execute(agent, &req).map_err(|e| {
        // The server refused (4xx): auth; a 5xx or no answer: a failure to retry later.
        let exit = match e.status_code() {
            Some(s) if s < 500 => Exit::Auth,
            _ => e.exit,
        };
        Error::new(exit, format!("{what} failed: {}", e.message))
    })?;
    let r: TokenResponse = http::read_json(resp)?;
    if r.status_code.unwrap_or(0) > 299 || r.error.is_some() || r.access_token.is_empty() {
        let why = r
            .error_description
            .or(r.error)
            .unwrap_or_else(|| "no access token in the response".into());
        return Err(Error::auth(format!("{what} failed: {why}")));
    }
    let expires_at = match r.expires_in {
        Some(s) if s > 0 => crate::config::now() + s,
        _ => 0,
    };
    Ok(Tokens {
        access: r.access_token,
        refresh: r.refresh_token,
        expires_at,
    })
}

/// Refresh grant. The old refresh token is spent by this call (rotation).
pub fn refresh(agent: &Agent, base: &str, refresh_token: &str) -> Result<Tokens> {
    let mut t = token_request(
        agent,
        base,
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", SCOPES),
        ],
        "token refresh",
    )?;
    if t.refresh.is_empty() {
        t.refresh = refresh_token.to_string();
    }
    Ok(t)
}

fn browser_possible(opts: &OAuthOpts) -> bool {
    if opts.no_browser {
        return false;
    }
    if cfg!(target_os = "linux") || cfg!(target_os = "freebsd") || cfg!(target_os = "openbsd") {
        ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    } else {
        true
    }
}

const DONE_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Cells Client</title></head><body style=\"font-family:sans-serif;text-align:center;margin-top:20%\"><p>You can now close this window and go back to your shell!</p><script>window.close()</script></body></html>";

fn respond(req: tiny_http::Request, code: u16, body: &str) {
    let ctype =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/html; charset=utf-8"[..])
            .expect("static header");
    let resp = tiny_http::Response::from_string(body)
        .with_status_code(code)
        .with_header(ctype);
    let _ = req.respond(resp);
}

/// Wait for `GET /servers/callback?code=…&state=…` on the loopback server.
fn wait_callback(server: &tiny_http::Server, state: &str, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::auth(format!(
                "timed out after {} s waiting for the browser login (use --timeout SECS, or --no-browser to paste the code)",
                timeout.as_secs()
            )));
        }
        let req = match server.recv_timeout(left.min(Duration::from_millis(500))) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => return Err(Error::failure(format!("callback server failed: {e}"))),
        };
        let full = format!("http://localhost{}", req.url());
        let Ok(u) = url::Url::parse(&full) else {
            respond(req, 400, "bad request");
            continue;
        };
        if u.path() != "/servers/callback" || *req.method() != tiny_http::Method::Get {
            respond(req, 404, "not found");
            continue;
        }
        let q = |k: &str| {
            u.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if q("state") != state {
            http::debug("callback with a wrong state ignored");
            respond(req, 400, "wrong state received");
            continue;
        }
        let err = q("error");
        if !err.is_empty() {
            let desc = q("error_description");
            respond(
                req,
                200,
                "Authentication failed. You can close this window.",
            );
            return Err(Error::auth(format!(
                "the server refused the authorization: {}",
                if desc.is_empty() { err } else { desc }
            )));
        }
        let code = q("code");
        if code.is_empty() {
            respond(req, 400, "empty code received");
            continue;
        }
        respond(req, 200, DONE_PAGE);
        return Ok(code);
    }
}

fn read_pasted_code() -> Result<String> {
    use std::io::{BufRead, Write};
    errprint!("Please paste the code returned to you in the browser: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let n = std::io::stdin().lock().read_line(&mut line)?;
    let code = line.trim().to_string();
    if n == 0 || code.is_empty() {
        return Err(Error::usage(
            "config add oauth",
            "no authorization code was given on stdin",
        ));
    }
    // accept a pasted callback URL too
    if code.contains("code=") {
        if let Ok(u) = url::Url::parse(&code) {
            if let Some((_, v)) = u.query_pairs().find(|(k, _)| k == "code") {
                return Ok(v.into_owned());
            }
        }
    }
    Ok(code)
}

/// Run the authorization-code flow against `base`; returns the tokens.
pub fn authorize(agent: &Agent, server: &ServerUrl, opts: &OAuthOpts) -> Result<Tokens> {
    let base = &server.to_string();
    let (port, timeout) = (opts.port, opts.timeout);
    let state = random_state()?;
    let pkce = if opts.no_pkce {
        None
    } else {
        Some(pkce_pair()?)
    };
    let challenge = pkce.as_ref().map(|p| p.1.as_str());

    let mut server = None;
    if browser_possible(opts) {
        match tiny_http::Server::http(("127.0.0.1", port)) {
            Ok(s) => server = Some(s),
            Err(e) => errln!(
                "Warning: port {port} is not available on 127.0.0.1 ({e}): switching to the copy/paste flow (or choose another port with --port)"
            ),
        }
    }
    let (redirect, code) = if let Some(server) = server {
        let redirect = format!("http://localhost:{port}/servers/callback");
        let url = authorize_url(base, &redirect, &state, challenge);
        errln!("Opening the browser to log in. If it does not open, visit this URL:\n{url}");
        if let Err(e) = webbrowser::open(&url) {
            http::debug(format!("could not open a browser: {e}"));
        }
        errln!(
            "Waiting for the login to complete (up to {} s)...",
            timeout.as_secs()
        );
        let code = wait_callback(&server, &state, timeout)?;
        (redirect, code)
    } else {
        let redirect = format!("{base}/oauth2/oob");
        let url = authorize_url(base, &redirect, &state, challenge);
        errln!("Please copy and paste this URL in a browser:\n{url}");
        (redirect, read_pasted_code()?)
    };
    errln!("✔ Now exchanging the code for a valid token");
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", CLIENT_ID),
        ("code", code.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect.as_str()),
    ];
    if let Some((v, _)) = &pkce {
        form.push(("code_verifier", v.as_str()));
    }
    token_request(agent, base, &form, "code exchange")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_pkce() {
        let s = random_state().unwrap();
        assert_eq!(s.len(), 16);
        assert!(s.chars().all(|c| c.is_ascii_alphabetic()));
        assert_ne!(s, random_state().unwrap());
        let (v, c) = pkce_pair().unwrap();
        assert_eq!(v.len(), 43);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        assert_eq!(c, b64.encode(sha2::Sha256::digest(v.as_bytes())));
    }

    #[test]
    fn auth_url_sorted() {
        let u = authorize_url(
            "https://c.example.com",
            "http://localhost:3000/servers/callback",
            "QwErTyUiOpAsDfGh",
            None,
        );
        assert_eq!(u, "https://c.example.com/oidc/oauth2/auth?client_id=cells-client&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fservers%2Fcallback&response_type=code&scope=openid+email+profile+pydio+offline&state=QwErTyUiOpAsDfGh");
        let u = authorize_url("https://c", "r", "s", Some("CH"));
        assert!(u.contains("&code_challenge=CH&code_challenge_method=S256&redirect_uri"));
    }
}
