//! The contract between the server core (state, users, tokens, tree) and the
//! protocol fronts that live in their own modules (S3 gateway, OAuth2, update).
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    NotFound,
    Forbidden,
}

pub trait Host: Send + Sync + 'static {
    /// A valid, unexpired token (PAT, OAuth access token, session JWT) -> user login.
    fn user_for_token(&self, token: &str) -> Option<String>;
    /// Login/password check for the OAuth login form and /a/frontend/session.
    fn check_password(&self, login: &str, password: &str) -> Option<String>;
    /// Mint an access token for `login` valid for `lifetime`.
    fn issue_token(&self, login: &str, lifetime: Duration) -> String;
    /// Lifetime of OAuth access tokens (`--token-lifetime`).
    fn access_token_lifetime(&self) -> Duration;
    /// `--require-pkce`: the OAuth front must refuse an authorization request without S256 PKCE.
    fn require_pkce(&self) -> bool;
    /// How late the token endpoint answers, after its work (`--token-delay-ms`).
    fn token_delay(&self) -> Duration {
        Duration::ZERO
    }
    /// The server's public base URL, e.g. `http://127.0.0.1:PORT` (no trailing slash).
    fn public_url(&self) -> String;
    /// Map an S3 key (`<workspace-slug>/<path>`) to the file holding its bytes, if
    /// `login` may read (or, with `write`, create/replace) it. Parent folders of a
    /// writable key are created by this call.
    fn resolve_object(&self, login: &str, key: &str, write: bool) -> Result<PathBuf, Denied>;
    /// Called after an object has been completely written at the path given by
    /// `resolve_object`: index it (uuid, etag, mtime, x-cells-hash), honouring the indexing delay.
    fn object_written(&self, login: &str, key: &str);
    /// A private directory for the fronts' own state (multipart staging, OAuth grants).
    fn data_dir(&self) -> PathBuf;
    /// S3 DeleteObject of the file `key`: to its workspace's recycle bin, like the
    /// REST delete (a key that does not exist is fine; a folder or a root is refused).
    fn delete_object(&self, _login: &str, _key: &str) -> Result<(), Denied> {
        Err(Denied::Forbidden)
    }
}
