//! REST client for a Cells server: base URL, ureq agent and a token source.
//!
//! Every REST helper takes the absolute request path **including** the `/a`
//! prefix (e.g. `"/a/tree/stats"`); build path parameters with
//! [`escape_segment`] (one segment, `/` → `%2F`, docs/protocol.md §1.5).
//! Errors come back as [`crate::error::Error`] with the exit code of the HTTP
//! status (401/403 → 3, 404 → 4, 409 → 5, other → 1) and their kind; every
//! request follows the client's retry policy ([`retry`]).
//!
//! Other areas add their models in their own files (`pub mod tree;` etc.).
pub mod frontend;
pub mod http;
pub mod idm;
pub mod jobs;
pub mod meta;
pub mod neterr;
pub mod reply;
pub mod retry;
pub mod storage;
pub mod tree;

use crate::config::ServerUrl;
use crate::error::{Error, Exit, Result};
use reply::Reply;
use retry::{Policy, Retrier};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
pub use ureq::Agent;

/// Where the bearer token comes from (PAT, session login, OAuth with refresh).
pub trait TokenSource: Send + Sync {
    /// A token valid for at least the next minute (refreshing / logging in if needed).
    fn token(&self, agent: &Agent) -> Result<String>;
    /// Forget a cached token after the server answered 401 (session re-login).
    /// Returns true when asking again may give a different token.
    fn invalidate(&self) -> bool {
        false
    }
}

/// A fixed token (PAT, or an OAuth token given with `--id-token`).
pub struct StaticToken(pub String);

impl TokenSource for StaticToken {
    fn token(&self, _agent: &Agent) -> Result<String> {
        Ok(self.0.clone())
    }
}

/// Connected REST client. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Client {
    server: ServerUrl,
    /// `server` as text, for building request URLs.
    base: String,
    agent: Agent,
    auth: Arc<dyn TokenSource>,
    /// The retry policy and state, shared with the S3 client built from this one.
    retrier: Arc<Retrier>,
    /// Login of the account (empty in env/flag PAT mode).
    pub user: String,
    /// Auth type as stored in config.json (`pat`, `session`, `oauth2`).
    pub auth_type: String,
    /// Credentials from `--token`/`--login` or `CEC_TOKEN`/`CEC_LOGIN`, not from an
    /// account (a 401 then points at them).
    pub env_mode: bool,
    /// TLS mode and custom headers, for connections made outside the agent (S3).
    link: http::Link,
}

/// Percent-encode one path segment like Go's `url.PathEscape`.
pub fn escape_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'_' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@'
            );
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    pub fn new(
        server: &ServerUrl,
        agent: Agent,
        auth: Arc<dyn TokenSource>,
        user: &str,
        auth_type: &str,
    ) -> Client {
        Client {
            server: server.clone(),
            base: server.to_string(),
            agent,
            auth,
            retrier: Arc::new(Retrier::default()),
            user: user.to_string(),
            auth_type: auth_type.to_string(),
            env_mode: false,
            link: http::Link::default(),
        }
    }

    /// The TLS mode and custom headers the agent was built with (see [`http::Link`]).
    pub fn with_link(mut self, link: http::Link) -> Client {
        self.link = link;
        self
    }

    pub fn link(&self) -> &http::Link {
        &self.link
    }

    /// `scheme://host[:port]` of the server, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// The configured ureq agent (TLS, proxy, time-outs, User-Agent).
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    /// A fresh bearer token (refreshed under the config lock if it expires
    /// within 60 s). Call it before each S3 request of long transfers.
    pub fn bearer(&self) -> Result<String> {
        self.auth.token(&self.agent)
    }

    /// Absolute URL for a path starting with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Every request of this client (and of the S3 client built from it)
    /// follows `policy` (`scp --retry-max-attempts/--retry-max-backoff`).
    pub fn with_retry(mut self, policy: Policy) -> Client {
        self.retrier = Arc::new(Retrier::new(policy));
        self
    }

    /// The retry policy and state shared by this client's requests.
    pub fn retrier(&self) -> &Arc<Retrier> {
        &self.retrier
    }

    /// Send an authenticated request and read its whole reply, retrying as the
    /// policy says; sent once more after a 401/403 when the token source can
    /// renew its token (e.g. an expired session JWT).
    fn send(&self, req: http::Req) -> Result<Reply> {
        let mut call = self.retrier.call(req.idempotent, None);
        let mut renewed = false;
        loop {
            let token = self.bearer()?;
            let mut r = req.clone();
            r.headers
                .push(("Authorization".into(), format!("Bearer {token}")));
            let failed = match reply::fetch_once(&self.agent, &r) {
                Ok(reply) => {
                    call.succeeded();
                    return Ok(reply);
                }
                Err(f) => f,
            };
            let e = failed.error;
            if e.exit == Exit::Auth && !renewed && self.auth.invalidate() {
                renewed = true;
                http::debug("401/403 received: renewing the session token and retrying once");
                continue;
            }
            if e.status_code() == Some(401) {
                return Err(self.with_auth_hint(e));
            }
            call.retry(e, failed.retry_after)?;
        }
    }

    fn with_auth_hint(&self, mut e: Error) -> Error {
        let hint = match self.auth_type.as_str() {
            "session" if self.env_mode => {
                "check CEC_LOGIN and CEC_PASSWORD (or --login and --password)"
            }
            _ if self.env_mode => "the token of CEC_TOKEN (or --token) is expired or wrong",
            "session" => "check the login and password",
            "oauth2" => "run 'cec config relog'",
            _ => "check the token, or run 'cec config relog'",
        };
        e.message.push_str(&format!(" ({hint})"));
        e
    }

    fn json_req<B: Serialize>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&B>,
    ) -> Result<http::Req> {
        let mut r = http::Req::new(method, self.url(path)).header("Accept", "application/json");
        if let Some(b) = body {
            r = r.json_body(b)?;
        }
        Ok(r)
    }

    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let r = self.json_req::<()>("GET", path, None)?;
        reply::decode_json(&self.send(r)?)
    }

    /// POST that changes state: not retried after a connection error.
    pub fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let r = self.json_req("POST", path, Some(body))?;
        reply::decode_json(&self.send(r)?)
    }

    /// POST that only reads (stat, list, search): retried like a GET.
    pub fn post_json_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let r = self.json_req("POST", path, Some(body))?.idempotent(true);
        reply::decode_json(&self.send(r)?)
    }

    pub fn put_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let r = self.json_req("PUT", path, Some(body))?;
        reply::decode_json(&self.send(r)?)
    }

    /// PUT that creates something new each time (a job): not retried after a
    /// connection error, since the server may have acted on it.
    pub fn put_json_once<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let r = self.json_req("PUT", path, Some(body))?.idempotent(false);
        reply::decode_json(&self.send(r)?)
    }

    pub fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let r = self.json_req::<()>("DELETE", path, None)?;
        reply::decode_json(&self.send(r)?)
    }

    /// Authenticated raw GET returning the body as text (e.g. `/a/frontend/state`).
    pub fn get_text(&self, path: &str) -> Result<String> {
        let r = http::Req::new("GET", self.url(path));
        reply::decode_text(&self.send(r)?)
    }

    /// The login of the current token (`GET /a/frontend/state`, docs/protocol.md §3.8).
    pub fn session_user(&self) -> Result<String> {
        let xml = self.get_text("/a/frontend/state")?;
        frontend::user_from_state(&xml).ok_or_else(|| {
            Error::auth(
                "the server did not recognise these credentials (no <user> in /a/frontend/state)",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_like_go_pathescape() {
        assert_eq!(
            escape_segment("common-files/dir/a b.txt"),
            "common-files%2Fdir%2Fa%20b.txt"
        );
        assert_eq!(escape_segment("Eté"), "Et%C3%A9");
        assert_eq!(escape_segment("a$&+:=@~_.-z"), "a$&+:=@~_.-z");
        assert_eq!(escape_segment("x;y,z?%"), "x%3By%2Cz%3F%25");
    }
}
