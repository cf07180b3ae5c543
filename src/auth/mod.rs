//! Connection set-up: which credentials to use and how to keep them fresh.
//!
//! `connect(&GlobalArgs)` gives an [`api::Client`]:
//! - env/flag mode: `--url` + `--token` → PAT; `--url` + `--login` +
//!   `--password` → session login (`POST /a/frontend/session`); nothing is
//!   read from or written to config.json or the keyring;
//! - otherwise the active account of config.json (secrets from the keyring);
//!   OAuth accounts are refreshed when under 60 s remain, under the config
//!   lock, re-reading the stored account first (another process may have
//!   refreshed), and the rotated refresh token is saved before use.
//! - `GlobalArgs::quiet` (shell completion): the same choice of credentials, but the
//!   keyring is read only if it is unlocked, an OAuth token that needs a refresh is
//!   an error (no refresh, nothing written) and each request is tried once.
pub mod oauth;
pub mod prompt;

use crate::api::retry::Policy;
use crate::api::{self, http, Client, StaticToken, TokenSource};
use crate::config::{self, keyring, Account, ServerUrl, Store, AUTH_OAUTH, AUTH_PAT, AUTH_SESSION};
use crate::error::{Error, Exit, Result};
use crate::output::log::LogLevel;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use ureq::Agent;

/// Seconds of validity below which a token is renewed.
pub const REFRESH_MARGIN: i64 = 60;

/// The global flags: where the accounts are and which credentials to use.
/// Built by `cli` (flag > environment > default); read by `auth` and the commands.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    pub log: LogLevel,
    /// `--config DIR` / `CEC_CONFIG`: directory holding config.json (honoured by every command).
    pub config_dir: Option<PathBuf>,
    /// `--url/-u` / `CEC_URL` / `CELLS_CLIENT_TARGET_URL`. An invalid URL is a usage
    /// error for the commands that use it; the others ignore it (and get `None`).
    pub url: Option<ServerUrl>,
    pub token: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub skip_verify: bool,
    pub skip_keyring: bool,
    pub no_cache: bool,
    /// Shell completion: never ask or wait for anything (keyring read without
    /// unlocking, no OAuth refresh, one attempt per request).
    pub quiet: bool,
}

impl GlobalArgs {
    /// The accounts store (`--config DIR` or the default directory).
    pub fn store(&self) -> Result<Store> {
        Store::new(self.config_dir.as_deref())
    }
}

/// Set up the connection for a connected command (quiet: one attempt per request).
pub fn connect(g: &GlobalArgs) -> Result<Client> {
    let client = connect_any(g)?;
    Ok(if g.quiet {
        client.with_retry(Policy::new(1, std::time::Duration::ZERO))
    } else {
        client
    })
}

fn connect_any(g: &GlobalArgs) -> Result<Client> {
    if let Some(url) = &g.url {
        if let Some(token) = g.token.as_deref() {
            let agent = http::agent_for(url, g.skip_verify)?;
            http::debug(format!("env/flag mode: PAT for {url}"));
            let mut client = Client::new(
                url,
                agent,
                Arc::new(StaticToken(token.to_string())),
                "",
                AUTH_PAT,
            )
            .with_link(http::Link::new(g.skip_verify, &Default::default()));
            client.env_mode = true;
            return Ok(client);
        }
        match (g.login.as_deref(), g.password.as_deref()) {
            (Some(login), Some(password)) => {
                let agent = http::agent_for(url, g.skip_verify)?;
                http::debug(format!("env/flag mode: login/password for {url}"));
                let mut src = SessionToken::new(url, login, password);
                src.no_cache = g.no_cache;
                let mut client = Client::new(url, agent, Arc::new(src), login, AUTH_SESSION)
                    .with_link(http::Link::new(g.skip_verify, &Default::default()));
                client.env_mode = true;
                return Ok(client);
            }
            (Some(_), None) => {
                return Err(Error::usage(
                    "",
                    "--login needs --password (or CEC_PASSWORD)",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::usage("", "--password needs --login (or CEC_LOGIN)"))
            }
            (None, None) => {
                let store = g.store()?;
                return connect_stored_for_url(g, &store, url);
            }
        }
    } else if g.token.as_deref().is_some() || g.login.as_deref().is_some() {
        return Err(Error::usage(
            "",
            "--token and --login need --url (or CEC_URL) to name the server",
        ));
    }
    let store = g.store()?;
    connect_stored(g, &store)
}

/// `--url` without credentials: the stored account for that server (the
/// active one if it matches, else the first by id). None is an error, never
/// a silent switch to an account on another server.
fn connect_stored_for_url(g: &GlobalArgs, store: &Store, url: &ServerUrl) -> Result<Client> {
    let url = url.to_string();
    let cfg = if store.exists() {
        store.load()?
    } else {
        Default::default()
    };
    let pick = match cfg.configs.get(&cfg.active) {
        Some(a) if a.url == url => Some(a.clone()),
        _ => cfg.configs.values().find(|a| a.url == url).cloned(),
    };
    let Some(mut acc) = pick else {
        let mut others: Vec<&str> = cfg.configs.values().map(|a| a.url.as_str()).collect();
        others.sort_unstable();
        others.dedup();
        let saved = match others.as_slice() {
            [] => String::new(),
            o => format!(" (saved accounts are for {})", o.join(", ")),
        };
        return Err(Error::auth(format!(
            "no saved account for {url}{saved}: give --token (or --login and --password) with --url, or add one with 'cec config add'"
        )));
    };
    http::debug(format!(
        "--url without credentials: using stored account {}",
        acc.id()
    ));
    secrets(g, store, &mut acc)?;
    client_for_account(g, store, acc)
}

/// The active account of `store`, with its secrets, as a client.
pub fn connect_stored(g: &GlobalArgs, store: &Store) -> Result<Client> {
    let no_account = || {
        Error::auth(format!(
            "no account configured ({}), run 'cec config add' first (or use --url with --token)",
            store.file.display()
        ))
    };
    if !store.exists() {
        return Err(no_account());
    }
    let cfg = store.load()?;
    if cfg.configs.is_empty() {
        return Err(no_account());
    }
    let mut acc = cfg.configs.get(&cfg.active).cloned().ok_or_else(|| {
        Error::auth(format!(
            "the active account '{}' is not defined in {}; choose one with 'cec config use ID'",
            cfg.active,
            store.file.display()
        ))
    })?;
    secrets(g, store, &mut acc)?;
    client_for_account(g, store, acc)
}

fn secrets(g: &GlobalArgs, store: &Store, acc: &mut Account) -> Result<()> {
    if g.quiet {
        config::load_secrets_quiet(acc)
    } else {
        config::load_secrets(store, acc)
    }
}

/// Build a client for a stored account (OAuth: refreshed now if needed).
pub fn client_for_account(g: &GlobalArgs, store: &Store, acc: Account) -> Result<Client> {
    let server = acc.server()?;
    let skip_verify = acc.skip_verify || g.skip_verify;
    let headers = acc.custom_headers.clone().unwrap_or_default();
    let agent = http::agent_with_headers(&server, skip_verify, &headers)?;
    let id = acc.id();
    http::debug(format!("using account {id} ({})", acc.auth_type));
    let source: Arc<dyn TokenSource> = match acc.auth_type.as_str() {
        AUTH_PAT => Arc::new(StaticToken(acc.id_token.clone())),
        AUTH_SESSION => Arc::new(SessionToken::new(&server, &acc.user, &acc.password)),
        AUTH_OAUTH if g.quiet => {
            if needs_refresh(&acc, REFRESH_MARGIN) {
                return Err(Error::auth(format!(
                    "the login of {id} needs a refresh: run any cec command first"
                )));
            }
            Arc::new(StaticToken(acc.id_token.clone()))
        }
        AUTH_OAUTH => {
            if acc.refresh_token.is_empty() || acc.token_expires_at == 0 {
                Arc::new(StaticToken(acc.id_token.clone()))
            } else {
                Arc::new(OAuthToken {
                    store: store.clone(),
                    id: id.clone(),
                    state: Mutex::new(acc.clone()),
                    lifetime: Mutex::new(None),
                })
            }
        }
        other => {
            return Err(Error::auth(format!(
                "account {id} has an unsupported auth type '{other}'; run 'cec config add' again"
            )))
        }
    };
    let client = Client::new(&server, agent, source, &acc.user, &acc.auth_type)
        .with_link(http::Link::new(skip_verify, &headers));
    if acc.auth_type == AUTH_OAUTH && !g.quiet {
        client
            .bearer()
            .map_err(|e| e.context(format!("login failed for {id}")))?;
    }
    Ok(client)
}

// ------------------------------------------------------------ session

/// Login/password: a JWT from `POST /a/frontend/session`, renewed before expiry.
pub struct SessionToken {
    base: String,
    login: String,
    password: String,
    cache: Mutex<Option<(String, i64)>>,
    /// `--no-cache` (env/flag mode): log in again for every request.
    pub no_cache: bool,
}

impl SessionToken {
    pub fn new(server: &ServerUrl, login: &str, password: &str) -> SessionToken {
        SessionToken {
            base: server.to_string(),
            login: login.to_string(),
            password: password.to_string(),
            cache: Mutex::new(None),
            no_cache: false,
        }
    }
}

impl TokenSource for SessionToken {
    fn token(&self, agent: &Agent) -> Result<String> {
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((jwt, exp)) = c.as_ref().filter(|_| !self.no_cache) {
            if *exp > config::now() + REFRESH_MARGIN / 2 {
                return Ok(jwt.clone());
            }
        }
        http::debug(format!("logging in as {}", self.login));
        let (jwt, exp) =
            api::frontend::session_login(agent, &self.base, &self.login, &self.password)?;
        *c = Some((jwt.clone(), exp));
        Ok(jwt)
    }
    fn invalidate(&self) -> bool {
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        c.take().is_some()
    }
}

// ------------------------------------------------------------ oauth

/// OAuth2 access token, refreshed through the config file (source of truth).
pub struct OAuthToken {
    store: Store,
    id: String,
    state: Mutex<Account>,
    /// Lifetime of the token this process obtained (short-lived tokens are
    /// then renewed at half-life instead of on every request).
    lifetime: Mutex<Option<i64>>,
}

fn needs_refresh(a: &Account, margin: i64) -> bool {
    !a.refresh_token.is_empty()
        && a.token_expires_at != 0
        && a.token_expires_at <= config::now() + margin
}

impl TokenSource for OAuthToken {
    fn token(&self, agent: &Agent) -> Result<String> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut life = self.lifetime.lock().unwrap_or_else(|p| p.into_inner());
        let margin = life.map_or(REFRESH_MARGIN, |l| REFRESH_MARGIN.min(l / 2));
        if !needs_refresh(&st, margin) {
            return Ok(st.id_token.clone());
        }
        http::debug(format!(
            "### token of {} expires soon: checking refresh",
            self.id
        ));
        let guard = self.store.lock()?;
        let mut cfg = self.store.read_locked(&guard)?;
        // the on-disk copy is the source of truth: another process may have refreshed
        let mut disk = match cfg.configs.get(&self.id) {
            Some(a) => {
                let mut a = a.clone();
                if !a.skip_keyring {
                    match keyring::get(&a.keyring_key()) {
                        Ok(v) => a.apply_keyring_value(&v),
                        Err(e) => {
                            http::debug(format!("keyring read during refresh failed: {e}"));
                            a = st.clone();
                        }
                    }
                }
                a
            }
            None => st.clone(),
        };
        if !needs_refresh(&disk, REFRESH_MARGIN) && !disk.id_token.is_empty() {
            http::debug("--> token was already refreshed by another process");
            *st = disk;
            return Ok(st.id_token.clone());
        }
        // Room for the successor before the refresh token is spent: a full disk must
        // fail now, not after (that would lose the session).
        let room = if cfg.configs.contains_key(&self.id) {
            Some(self.store.reserve(&guard, cfg.to_json().len() + 4096)?)
        } else {
            None
        };
        // From the moment the server spends the refresh token until its successor is
        // saved, a Ctrl-C waits: dying in between would lose the session.
        crate::output::interrupt::deferred(|| -> Result<()> {
            let t = oauth::refresh(agent, &disk.url, &disk.refresh_token).map_err(|e| {
                let what = format!("could not refresh the authentication token of {}", self.id);
                if e.exit == Exit::Auth {
                    Error::auth(format!("{what}: {}; run 'cec config relog'", e.message))
                } else {
                    // A 5xx or a lost connection: the session may well be intact.
                    e.context(what)
                }
            })?;
            disk.id_token = t.access;
            disk.refresh_token = t.refresh;
            disk.token_expires_at = t.expires_at;
            *life = (t.expires_at > 0).then(|| t.expires_at - config::now());
            // persist the rotated refresh token before using the new access token
            if let Some(room) = room {
                let stored = config::prepare_stored(&disk);
                if stored.skip_keyring && !disk.skip_keyring {
                    disk.skip_keyring = true;
                }
                cfg.configs.insert(self.id.clone(), stored);
                self.store.commit(&guard, room, &cfg.to_json())?;
            }
            Ok(())
        })?;
        drop(guard);
        http::debug("--> token has been refreshed");
        *st = disk;
        Ok(st.id_token.clone())
    }
}

// ------------------------------------------------------------ account creation

/// Ask the server who the token belongs to, fill `user`, and save the account
/// as the active one. Returns (account id, login).
pub fn save_new_account(store: &Store, mut acc: Account) -> Result<(String, String)> {
    let server = acc.server()?;
    let agent = http::agent_for(&server, acc.skip_verify)?;
    let source: Arc<dyn TokenSource> = match acc.auth_type.as_str() {
        AUTH_SESSION => Arc::new(SessionToken::new(&server, &acc.user, &acc.password)),
        _ => Arc::new(StaticToken(acc.id_token.clone())),
    };
    let client = Client::new(&server, agent, source, &acc.user, &acc.auth_type);
    let user = client.session_user().map_err(|e| {
        e.context("could not connect to the server with the provided parameters, nothing was saved")
    })?;
    acc.user = user.clone();
    acc.use_token_cache = true;
    let id = config::store_secret_and_save(store, acc, true)?;
    Ok((id, user))
}
