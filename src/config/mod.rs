//! Accounts file `config.json` (docs/config.md §1–§4), compatible with cells-client v4:
//! same keys and order, TAB indentation, no trailing newline.
//!
//! Fixes over the reference: `--config DIR` is honoured by every command; the
//! directory and file are only created when writing; writes are atomic
//! (temp file, fsync, rename, fsync dir) with mode 0600, under an advisory
//! `flock` on `config.json.lock` held across read-modify-write; an empty
//! `Configs` map is never mistaken for the legacy single-account format.
pub mod keyring;
mod url;

pub use url::ServerUrl;

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const AUTH_PAT: &str = "pat";
pub const AUTH_SESSION: &str = "session";
pub const AUTH_OAUTH: &str = "oauth2";
/// Separator of the OAuth keyring value `<access>__//__<refresh>`.
pub const SEP: &str = "__//__";

/// Current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// One account, keys in the reference's serialisation order.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Account {
    #[serde(
        rename = "authType",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub auth_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user: String,
    #[serde(
        rename = "idToken",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub id_token: String,
    #[serde(
        rename = "refreshToken",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub refresh_token: String,
    #[serde(
        rename = "tokenExpiresAt",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub token_expires_at: i64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub password: String,
    #[serde(rename = "skipVerify", default, deserialize_with = "null_default")]
    pub skip_verify: bool,
    #[serde(rename = "useTokenCache", default, deserialize_with = "null_default")]
    pub use_token_cache: bool,
    #[serde(rename = "CustomHeaders", default)]
    pub custom_headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "null_default")]
    pub label: String,
    #[serde(rename = "skipKeyring", default, deserialize_with = "null_default")]
    pub skip_keyring: bool,
    #[serde(
        rename = "createdAtVersion",
        default,
        deserialize_with = "null_default"
    )]
    pub created_at_version: String,
}

impl Account {
    /// `<user>@<hostname>:<port>` (port 80/443 by default).
    pub fn id(&self) -> String {
        match self.server() {
            Ok(u) => account_id(&self.user, &u),
            Err(_) => format!("{}@:", self.user),
        }
    }
    /// `<user>@<hostname>`.
    pub fn compute_label(&self) -> String {
        let host = self
            .server()
            .map(|u| u.host().to_string())
            .unwrap_or_default();
        format!("{}@{host}", self.user)
    }
    /// The server URL of the account (normalised when the file was read).
    pub fn server(&self) -> Result<ServerUrl> {
        ServerUrl::parse(&self.url).map_err(|why| {
            Error::failure(format!(
                "the account {}@{} has an invalid server URL ({why}): remove it with 'cec config rm' and add it again",
                self.user, self.url
            ))
        })
    }
    pub fn keyring_key(&self) -> String {
        keyring::key(&self.url, &self.user)
    }
    /// The secret value stored in the keyring for this auth type.
    pub fn keyring_value(&self) -> String {
        match self.auth_type.as_str() {
            AUTH_OAUTH => format!("{}{SEP}{}", self.id_token, self.refresh_token),
            AUTH_SESSION => self.password.clone(),
            _ => self.id_token.clone(),
        }
    }
    /// Fill the secrets from a keyring value (values without `__//__` are a bare access token).
    pub fn apply_keyring_value(&mut self, v: &str) {
        match self.auth_type.as_str() {
            AUTH_OAUTH => match v.split_once(SEP) {
                Some((a, r)) => {
                    self.id_token = a.to_string();
                    self.refresh_token = r.to_string();
                }
                None => self.id_token = v.to_string(),
            },
            AUTH_SESSION => self.password = v.to_string(),
            _ => self.id_token = v.to_string(),
        }
    }
    pub fn has_secret(&self) -> bool {
        match self.auth_type.as_str() {
            AUTH_SESSION => !self.password.is_empty(),
            _ => !self.id_token.is_empty(),
        }
    }
    pub fn clear_secrets(&mut self) {
        self.id_token.clear();
        self.refresh_token.clear();
        self.password.clear();
    }
}

/// The id of the account of `user` on `server`: `<user>@<hostname>:<port>`.
pub fn account_id(user: &str, server: &ServerUrl) -> String {
    format!("{user}@{}:{}", server.host(), server.port())
}

/// Display label of an auth type (`config ls`, `info`).
pub fn auth_label(t: &str) -> String {
    match t {
        AUTH_OAUTH => "OAuth2".into(),
        AUTH_PAT => "PAT".into(),
        AUTH_SESSION => "Login/Password".into(),
        "Personal Access Token" | "Client Credentials" | "OAuth2" => {
            format!("Unmigrated - {t}")
        }
        _ => "Unknown".into(),
    }
}

/// Top level of config.json.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ConfigFile {
    #[serde(rename = "ActiveConfigID", default, deserialize_with = "null_default")]
    pub active: String,
    #[serde(rename = "Configs", default, deserialize_with = "null_default")]
    pub configs: BTreeMap<String, Account>,
}

impl ConfigFile {
    /// Serialised like Go's `json.MarshalIndent(v, "", "\t")`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        self.serialize(&mut ser).expect("config serialises");
        buf
    }

    /// Parse a file's content (new format, or legacy v2 single account) and
    /// migrate legacy auth types. Returns (config, changed).
    pub fn parse(text: &str, path: &Path) -> Result<(ConfigFile, bool)> {
        let bad = |e: String| {
            Error::failure(format!(
                "cannot read the configuration file {}: {e} (fix or remove it, the file was left untouched)",
                path.display()
            ))
        };
        if text.trim().is_empty() {
            return Ok((ConfigFile::default(), false));
        }
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        let mut changed = false;
        let mut cfg = if obj.contains_key("Configs") || obj.contains_key("ActiveConfigID") {
            serde_json::from_value::<ConfigFile>(v.clone()).map_err(|e| bad(e.to_string()))?
        } else {
            // legacy cec v2: one account at the top level
            let mut acc: Account = serde_json::from_value(v.clone())
                .map_err(|e| bad(format!("unknown config format: {e}")))?;
            if acc.url.is_empty() {
                return Err(bad("unknown config format (no Configs and no url)".into()));
            }
            if let Ok(u) = ServerUrl::parse(&acc.url) {
                acc.url = u.to_string();
            }
            acc.label = acc.compute_label();
            acc.created_at_version = VERSION.into();
            let id = acc.id();
            let mut c = ConfigFile {
                active: id.clone(),
                configs: BTreeMap::new(),
            };
            c.configs.insert(id, acc);
            changed = true;
            c
        };
        for acc in cfg.configs.values_mut() {
            let new = match acc.auth_type.as_str() {
                "Personal Access Token" => AUTH_PAT,
                "Client Credentials" => AUTH_SESSION,
                "OAuth2" => AUTH_OAUTH,
                _ => continue,
            };
            acc.auth_type = new.into();
            acc.created_at_version = VERSION.into();
            changed = true;
        }
        Ok((cfg, changed))
    }

    /// Sorted account ids.
    pub fn ids(&self) -> Vec<String> {
        self.configs.keys().cloned().collect()
    }
}

/// Default directory: `${XDG_CONFIG_HOME:-$HOME/.config}/pydio/cells-client` on Linux.
pub fn default_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    if cfg!(target_os = "macos") {
        let home = home.ok_or_else(|| Error::failure("HOME is not set"))?;
        return Ok(PathBuf::from(home).join("Library/Application Support/Pydio/cells-client"));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(home.ok_or_else(|| {
            Error::failure("cannot locate the configuration directory: HOME is not set")
        })?)
        .join(".config"),
    };
    let vendor = if cfg!(target_os = "linux") {
        "pydio"
    } else {
        "Pydio"
    };
    Ok(base.join(vendor).join("cells-client"))
}

/// The accounts file of this invocation (`--config DIR` or the default).
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
    pub file: PathBuf,
}

/// An exclusive advisory lock on `config.json.lock`; released on drop.
pub struct LockGuard {
    _file: File,
}

/// Room taken for a save ([`Store::reserve`]); removed unless committed.
pub struct Reserved {
    tmp: PathBuf,
    file: File,
    renamed: bool,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Store {
    /// The store in `dir` (`--config`), else in the default directory.
    pub fn new(dir: Option<&Path>) -> Result<Store> {
        let dir = match dir {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => default_dir()?,
        };
        Ok(Store::at(dir))
    }

    pub fn at(dir: PathBuf) -> Store {
        let file = dir.join("config.json");
        Store { dir, file }
    }

    pub fn exists(&self) -> bool {
        self.file.exists()
    }

    fn read_raw(&self) -> Result<(ConfigFile, bool)> {
        match fs::read(&self.file) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::failure(format!(
                        "cannot read the configuration file {}: not UTF-8 text",
                        self.file.display()
                    ))
                })?;
                ConfigFile::parse(&text, &self.file)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok((ConfigFile::default(), false))
            }
            Err(e) => Err(Error::failure(format!(
                "cannot read the configuration file {}: {e}",
                self.file.display()
            ))),
        }
    }

    /// Load the accounts (missing file = no accounts). Legacy formats are
    /// migrated and written back under the lock.
    pub fn load(&self) -> Result<ConfigFile> {
        let (cfg, changed) = self.read_raw()?;
        if !changed {
            return Ok(cfg);
        }
        // persist the migration; a read-only location only costs a warning
        match self.update(|c| Ok(c.clone())) {
            Ok(c) => Ok(c),
            Err(e) => {
                errln!(
                    "Warning: could not save the migrated configuration: {}",
                    e.message
                );
                Ok(cfg)
            }
        }
    }

    /// Take the lock (creating the directory, 0700, if needed). Waits up to 30 s.
    pub fn lock(&self) -> Result<LockGuard> {
        create_dir(&self.dir)?;
        let path = self.dir.join("config.json.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                Error::failure(format!("cannot open lock file {}: {e}", path.display()))
            })?;
        use std::os::unix::io::AsRawFd;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // SAFETY: flock on a valid, owned file descriptor.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r == 0 {
                return Ok(LockGuard { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK)
                && err.kind() != std::io::ErrorKind::Interrupted
            {
                return Err(Error::failure(format!(
                    "cannot lock {}: {err}",
                    path.display()
                )));
            }
            if Instant::now() > deadline {
                return Err(Error::failure(format!(
                    "the configuration {} is locked by another cec process (waited 30 s)",
                    self.file.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Read-modify-write under the lock: re-reads the file, applies `f`, saves
    /// atomically (even if `f` changed nothing, so migrations are persisted).
    pub fn update<R>(&self, f: impl FnOnce(&mut ConfigFile) -> Result<R>) -> Result<R> {
        let guard = self.lock()?;
        let (mut cfg, _) = self.read_raw()?;
        let r = f(&mut cfg)?;
        self.save_locked(&guard, &cfg)?;
        Ok(r)
    }

    /// Re-read the file while holding `guard` (for refresh decisions).
    pub fn read_locked(&self, _guard: &LockGuard) -> Result<ConfigFile> {
        Ok(self.read_raw()?.0)
    }

    /// Atomic write (temp in the same dir, fsync, rename, fsync dir), mode 0600.
    pub fn save_locked(&self, guard: &LockGuard, cfg: &ConfigFile) -> Result<()> {
        let data = cfg.to_json();
        let room = self.reserve(guard, data.len())?;
        self.commit(guard, room, &data)
    }

    /// The temporary file of a save, written and synced with `len` bytes: the room is
    /// taken before a change that cannot be undone (spending a refresh token), so that
    /// a full disk fails before it. (No guarantee on copy-on-write file systems.)
    pub fn reserve(&self, _guard: &LockGuard, len: usize) -> Result<Reserved> {
        let mut rnd = [0u8; 6];
        let _ = getrandom::getrandom(&mut rnd);
        let suffix: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = self
            .dir
            .join(format!(".config.json.{}.{suffix}.tmp", std::process::id()));
        let file = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&vec![b' '; len])?;
            f.sync_all()?;
            Ok(f)
        })();
        match file {
            Ok(file) => Ok(Reserved {
                tmp,
                file,
                renamed: false,
            }),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(self.write_error(e))
            }
        }
    }

    /// Write `data` into the reserved file and rename it over config.json.
    pub fn commit(&self, _guard: &LockGuard, mut room: Reserved, data: &[u8]) -> Result<()> {
        let res = (|| {
            let f = &mut room.file;
            f.seek(SeekFrom::Start(0))?;
            f.write_all(data)?;
            f.set_len(data.len() as u64)?;
            f.sync_all()?;
            fs::set_permissions(&room.tmp, fs::Permissions::from_mode(0o600))?;
            fs::rename(&room.tmp, &self.file)?;
            room.renamed = true;
            if let Ok(d) = File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        res.map_err(|e| self.write_error(e))?;
        self.remove_stale_temps();
        Ok(())
    }

    fn write_error(&self, e: std::io::Error) -> Error {
        Error::failure(format!("cannot write {}: {e}", self.file.display()))
    }

    /// Temporary files of saves killed before their rename (SIGKILL, power loss): every
    /// save holds the lock, so under it any such file is stale. They hold secrets.
    fn remove_stale_temps(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".config.json.") && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// Delete config.json (under the lock). Missing file is fine.
    pub fn remove_file_locked(&self, _guard: &LockGuard) -> Result<()> {
        match fs::remove_file(&self.file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::failure(format!(
                "cannot delete {}: {e}",
                self.file.display()
            ))),
        }
    }
}

pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            Error::failure(format!(
                "cannot create the configuration directory {}: {e}",
                dir.display()
            ))
        })
}

// ------------------------------------------------------------ secrets

/// Warning printed when secrets end up in the file.
pub const KEYRING_WARNING: &str = "⚠ Could not access local keyring: sensitive information like token or password will end up stored in clear text in the client machine.";

/// Fill `acc`'s secrets from the keyring when it does not skip it.
/// Legacy keys (`<url>::ClientCredentials`, `<url>::IdToken`) are only read
/// for accounts whose type needs them, then migrated to the new key.
pub fn load_secrets(store: &Store, acc: &mut Account) -> Result<()> {
    if acc.skip_keyring || acc.has_secret() {
        return Ok(());
    }
    let id = acc.id();
    match keyring::get(&acc.keyring_key()) {
        Ok(v) => {
            acc.apply_keyring_value(&v);
            return Ok(());
        }
        Err(keyring::KrError::NotFound) => {}
        Err(e) => {
            return Err(Error::auth(format!(
                "cannot read the credentials of {id} from the keyring ({e}); run 'cec config relog' or re-add the account with --skip-keyring"
            )))
        }
    }
    // legacy keys, only where they apply
    let legacy = match acc.auth_type.as_str() {
        AUTH_SESSION => Some(("ClientCredentials", true)),
        AUTH_OAUTH => Some(("IdToken", false)),
        _ => None,
    };
    if let Some((suffix, is_session)) = legacy {
        let lkey = format!("{}::{suffix}", acc.url);
        if let Ok(v) = keyring::get(&lkey) {
            match (is_session, v.split_once(SEP)) {
                (true, Some((_, pw))) => acc.password = pw.to_string(),
                (true, None) => acc.password = v.clone(),
                (false, Some((a, r))) => {
                    acc.id_token = a.to_string();
                    acc.refresh_token = r.to_string();
                }
                (false, None) => acc.id_token = v.clone(),
            }
            let migrated = acc.clone();
            store_secret_and_save(store, migrated, false)?;
            let _ = keyring::delete(&lkey);
            return Ok(());
        }
    }
    Err(Error::auth(format!(
        "the credentials of {id} are not in the keyring; run 'cec config relog' to log in again"
    )))
}

/// [`load_secrets`] for shell completion: the keyring is read only if it answers
/// without asking the user (no unlock prompt), and nothing is migrated or written.
pub fn load_secrets_quiet(acc: &mut Account) -> Result<()> {
    if acc.skip_keyring || acc.has_secret() {
        return Ok(());
    }
    let v = keyring::get_unlocked(&acc.keyring_key()).map_err(|e| {
        Error::auth(format!(
            "the credentials of {} cannot be read without asking ({e})",
            acc.id()
        ))
    })?;
    acc.apply_keyring_value(&v);
    Ok(())
}

/// The copy of `acc` to write in config.json: its secret goes to the keyring
/// unless the account skips it; on keyring failure a warning is printed on
/// stderr and the secrets stay in the copy with `skipKeyring: true`.
pub fn prepare_stored(acc: &Account) -> Account {
    let mut stored = acc.clone();
    stored.label = acc.compute_label();
    stored.created_at_version = VERSION.into();
    if !acc.skip_keyring {
        match keyring::set(&acc.keyring_key(), &acc.keyring_value()) {
            Ok(()) => stored.clear_secrets(),
            Err(e) => {
                crate::output::log::debug(&format!("keyring write failed: {e}"));
                errln!("{KEYRING_WARNING}");
                stored.skip_keyring = true;
            }
        }
    }
    stored
}

/// Save an account (docs/config.md §4–§5): [`prepare_stored`], then under the lock
/// insert it and, when `make_active`, make it the active account. Returns the id.
pub fn store_secret_and_save(store: &Store, acc: Account, make_active: bool) -> Result<String> {
    let id = acc.id();
    store.update(|cfg| {
        let stored = prepare_stored(&acc);
        // replacing a keyring-backed entry by a file-backed one: drop the old secret
        if let Some(old) = cfg.configs.get(&id) {
            if !old.skip_keyring && stored.skip_keyring {
                let _ = keyring::delete(&old.keyring_key());
            }
        }
        cfg.configs.insert(id.clone(), stored);
        if make_active || cfg.active.is_empty() || !cfg.configs.contains_key(&cfg.active) {
            cfg.active = id.clone();
        }
        Ok(())
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = "{\n\t\"ActiveConfigID\": \"admin@files.example.com:443\",\n\t\"Configs\": {\n\t\t\"admin@files.example.com:443\": {\n\t\t\t\"authType\": \"oauth2\",\n\t\t\t\"url\": \"https://files.example.com\",\n\t\t\t\"user\": \"admin\",\n\t\t\t\"tokenExpiresAt\": 1736500000,\n\t\t\t\"skipVerify\": false,\n\t\t\t\"useTokenCache\": true,\n\t\t\t\"CustomHeaders\": null,\n\t\t\t\"label\": \"admin@files.example.com\",\n\t\t\t\"skipKeyring\": false,\n\t\t\t\"createdAtVersion\": \"4.3.1\"\n\t\t}\n\t}\n}";

    #[test]
    fn v4_round_trip_is_byte_identical() {
        let (c, changed) = ConfigFile::parse(V4, Path::new("x")).unwrap();
        assert!(!changed);
        assert_eq!(String::from_utf8(c.to_json()).unwrap(), V4);
        assert_eq!(
            c.configs["admin@files.example.com:443"].id(),
            "admin@files.example.com:443"
        );
    }

    #[test]
    fn empty_configs_is_not_legacy() {
        let (c, changed) =
            ConfigFile::parse("{\"ActiveConfigID\":\"\",\"Configs\":{}}", Path::new("x")).unwrap();
        assert!(!changed);
        assert!(c.configs.is_empty());
        let (c, _) = ConfigFile::parse("{\"Configs\":null}", Path::new("x")).unwrap();
        assert!(c.configs.is_empty());
    }

    #[test]
    fn legacy_v2_and_auth_migration() {
        let v2 = r#"{"url":"https://cells.example.com/","authType":"Personal Access Token","idToken":"T","user":"bob","clientKey":"x","skipVerify":true}"#;
        let (c, changed) = ConfigFile::parse(v2, Path::new("x")).unwrap();
        assert!(changed);
        assert_eq!(c.active, "bob@cells.example.com:443");
        let a = &c.configs["bob@cells.example.com:443"];
        assert_eq!(a.auth_type, "pat");
        assert_eq!(a.url, "https://cells.example.com");
        assert_eq!(a.label, "bob@cells.example.com");
        assert!(a.skip_verify);
        let s = String::from_utf8(c.to_json()).unwrap();
        assert!(!s.contains("clientKey"));
    }

    #[test]
    fn corrupt_is_error() {
        assert!(ConfigFile::parse("{not json", Path::new("x")).is_err());
        assert!(ConfigFile::parse("[1]", Path::new("x")).is_err());
    }

    #[test]
    fn keyring_values() {
        let mut a = Account {
            auth_type: AUTH_OAUTH.into(),
            ..Default::default()
        };
        a.apply_keyring_value("acc__//__ref");
        assert_eq!(
            (a.id_token.as_str(), a.refresh_token.as_str()),
            ("acc", "ref")
        );
        assert_eq!(a.keyring_value(), "acc__//__ref");
        a.apply_keyring_value("only");
        assert_eq!(a.id_token, "only");
    }

    #[test]
    fn save_is_0600_and_atomic() {
        let dir = std::env::temp_dir().join(format!("cec-cfg-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::at(dir.join("sub"));
        assert!(store.load().unwrap().configs.is_empty());
        assert!(!store.dir.exists(), "load must not create the directory");
        store
            .update(|c| {
                c.active = "x".into();
                Ok(())
            })
            .unwrap();
        let mode = fs::metadata(&store.file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(store.load().unwrap().active, "x");
        let _ = fs::remove_dir_all(&dir);
    }
}
