//! `cec config add|ls|use|rm|relog|check-keyring` and the hidden legacy
//! `configure …` (docs/compatibility.md §6.4). Every interactive step has a flag
//! form; without a terminal on stdin a missing answer is a usage error.
//! Status messages go to stderr; `config ls` prints its table on stdout.

use crate::auth::oauth::OAuthOpts;
use crate::auth::GlobalArgs;
use crate::auth::{self, oauth, prompt::stdin_is_tty, prompt::Prompter};
use crate::cli::{AddArgs, AuthKind, ConfigCmd};
use crate::config::{
    self, auth_label, keyring, Account, ServerUrl, Store, AUTH_OAUTH, AUTH_PAT, AUTH_SESSION,
    KEYRING_WARNING,
};
use crate::error::{Error, Result};
use crate::output::{self, Align, Table};

const DEPRECATED: &str =
    "[Warning] this command has been deprecated and will be removed in next major version.";

pub fn run(g: &GlobalArgs, cmd: ConfigCmd) -> Result<()> {
    let store = g.store()?;
    match cmd {
        ConfigCmd::Add(a) => {
            // a broken accounts file is reported before anything is asked or sent
            store.load()?;
            add(g, &store, &a)
        }
        ConfigCmd::Ls { json } => ls(&store, json),
        ConfigCmd::Use { id } => use_account(&store, id.as_deref()),
        ConfigCmd::Rm { id, force } => rm(&store, id.as_deref(), force),
        ConfigCmd::Relog { id, oauth } => relog(g, &store, id.as_deref(), &oauth),
        ConfigCmd::CheckKeyring { deprecated } => check_keyring(deprecated),
    }
}

// ------------------------------------------------------------ add

fn add(g: &GlobalArgs, store: &Store, a: &AddArgs) -> Result<()> {
    if a.deprecated {
        errln!("{DEPRECATED}");
        errln!("Please rather use 'cec config add' that is its new name.");
        errln!();
    }
    let kind = match a.kind {
        Some(k) => k,
        None => {
            let has_url = g.url.is_some();
            if has_url && g.token.is_some() {
                AuthKind::Token
            } else if has_url && g.login.is_some() {
                AuthKind::ClientAuth
            } else {
                let p = Prompter::new("config add");
                let items = vec![
                    "OAuth2 login (requires a browser access)".to_string(),
                    "Personal Access Token (unique token generated server-side)".to_string(),
                    "Client Auth (direct login/password, less secure)".to_string(),
                ];
                match p.select(
                    "Select authentication method",
                    &items,
                    0,
                    "use 'cec config add oauth|token|client-auth'",
                )? {
                    0 => AuthKind::OAuth,
                    1 => AuthKind::Token,
                    _ => AuthKind::ClientAuth,
                }
            }
        }
    };
    let acc = match kind {
        AuthKind::Token => token_account(g, "config add token", None)?,
        AuthKind::ClientAuth => client_auth_account(g, "config add client-auth", None)?,
        AuthKind::OAuth => oauth_account(g, "config add oauth", None, &a.oauth)?,
    };
    finish(store, acc)
}

fn finish(store: &Store, acc: Account) -> Result<()> {
    let url = acc.url.clone();
    let (_id, user) = auth::save_new_account(store, acc)?;
    errln!(
        "✔ Configuration saved. You can now use the Cells Client to interact as {user} with {url}"
    );
    Ok(())
}

/// Server URL from `--url`, else the previous value (non-interactive relog),
/// else a prompt. Returns (url, skip_verify).
fn ask_url(
    g: &GlobalArgs,
    p: &Prompter,
    label: &str,
    prev: Option<&Account>,
) -> Result<(ServerUrl, bool)> {
    if let Some(u) = &g.url {
        let sv = g.skip_verify || prev.is_some_and(|a| a.url == u.to_string() && a.skip_verify);
        return Ok((u.clone(), sv));
    }
    if let Some(a) = prev {
        if !stdin_is_tty() {
            return Ok((a.server()?, a.skip_verify || g.skip_verify));
        }
    }
    let invalid = |s: &str, why| format!("invalid server URL '{s}': {why}");
    let raw = p.text(
        label,
        prev.map(|a| a.url.as_str()),
        "use --url or CEC_URL",
        |s| {
            ServerUrl::parse(s)
                .map(|_| ())
                .map_err(|why| invalid(s, why))
        },
    )?;
    let url = ServerUrl::parse(&raw).map_err(|why| Error::usage(p.cmd, invalid(&raw, why)))?;
    let mut skip_verify = g.skip_verify;
    if url.is_https() && !skip_verify {
        skip_verify = p.confirm(
            "Skip SSL verification? (not recommended)",
            "use --skip-verify",
        )?;
    }
    Ok((url, skip_verify))
}

fn base_account(g: &GlobalArgs, auth_type: &str, url: &ServerUrl, skip_verify: bool) -> Account {
    Account {
        auth_type: auth_type.into(),
        url: url.to_string(),
        skip_verify,
        use_token_cache: true,
        skip_keyring: g.skip_keyring,
        ..Default::default()
    }
}

fn token_account(g: &GlobalArgs, cmd: &'static str, prev: Option<&Account>) -> Result<Account> {
    let p = Prompter::new(cmd);
    let (url, skip_verify) = ask_url(g, &p, "Server URL", prev)?;
    let token = match g.token.clone() {
        Some(t) => t,
        None => p.secret("Token", "use --token or CEC_TOKEN")?,
    };
    let mut acc = base_account(g, AUTH_PAT, &url, skip_verify);
    acc.id_token = token.trim().to_string();
    Ok(acc)
}

fn client_auth_account(
    g: &GlobalArgs,
    cmd: &'static str,
    prev: Option<&Account>,
) -> Result<Account> {
    let p = Prompter::new(cmd);
    let (url, skip_verify) = ask_url(g, &p, "Server Address (provide a valid URL)", prev)?;
    let login = match g.login.clone() {
        Some(l) => l,
        None => match prev {
            Some(a) if !stdin_is_tty() && !a.user.is_empty() => a.user.clone(),
            _ => p.text(
                "User Login",
                prev.map(|a| a.user.as_str()),
                "use --login or CEC_LOGIN",
                |s| {
                    if s.trim().is_empty() {
                        Err("field cannot be empty".into())
                    } else {
                        Ok(())
                    }
                },
            )?,
        },
    };
    let password = match g.password.clone() {
        Some(pw) => pw,
        None => p.secret("User Password", "use --password or CEC_PASSWORD")?,
    };
    let mut acc = base_account(g, AUTH_SESSION, &url, skip_verify);
    acc.user = login.trim().to_string();
    acc.password = password;
    Ok(acc)
}

fn format_time(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = crate::output::log::civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

fn oauth_account(
    g: &GlobalArgs,
    cmd: &'static str,
    prev: Option<&Account>,
    opts: &OAuthOpts,
) -> Result<Account> {
    let p = Prompter::new(cmd);
    let (url, skip_verify) = ask_url(g, &p, "Server Address (provide a valid URL)", prev)?;
    let mut acc = base_account(g, AUTH_OAUTH, &url, skip_verify);
    if let Some(t) = opts.id_token.as_deref() {
        acc.id_token = t.trim().to_string();
        return Ok(acc);
    }
    let agent = crate::api::http::agent_for(&url, skip_verify)?;
    let t = oauth::authorize(&agent, &url, opts)?;
    if t.expires_at > 0 {
        errln!(
            "✔ Successfully received token. It will be refreshed at {}",
            format_time(t.expires_at - auth::REFRESH_MARGIN)
        );
    } else {
        errln!("✔ Successfully received token.");
    }
    acc.id_token = t.access;
    acc.refresh_token = t.refresh;
    acc.token_expires_at = t.expires_at;
    Ok(acc)
}

// ------------------------------------------------------------ ls / use / rm

/// The accounts, sorted by ID: a table on a terminal, tab-separated rows otherwise
/// (the ID tells apart two accounts of one user on one host), or JSON lines.
fn ls(store: &Store, json: bool) -> Result<()> {
    let cfg = store.load()?;
    if json {
        let lines: Vec<serde_json::Value> = cfg
            .configs
            .iter()
            .map(|(id, a)| {
                serde_json::json!({
                    "id": id,
                    "active": *id == cfg.active,
                    "label": a.label,
                    "user": a.user,
                    "url": a.url,
                    "auth_type": a.auth_type,
                    "skip_verify": a.skip_verify,
                    "keyring": !a.skip_keyring,
                })
            })
            .collect();
        output::print_json_lines(&lines);
        return Ok(());
    }
    let mut t = Table::new(&["Active", "ID", "Label", "User", "URL", "Type"]);
    t.align = Align::Left;
    t.wrap = false;
    for (id, a) in &cfg.configs {
        let active = if *id == cfg.active { "✓" } else { "" };
        t.row(vec![
            active.to_string(),
            id.clone(),
            a.label.clone(),
            a.user.clone(),
            a.url.clone(),
            auth_label(&a.auth_type),
        ]);
    }
    if output::is_stdout_tty() {
        t.print();
    } else {
        output::print_out(&output::listing::plain_rows(&t));
    }
    Ok(())
}

/// Resolve an account given by id, or by label when one account has it; a label
/// shared by several accounts (one user on two ports of a host) is a usage error
/// that lists their ids.
fn resolve(cfg: &config::ConfigFile, wanted: &str, cmd: &str) -> Result<String> {
    if cfg.configs.contains_key(wanted) {
        return Ok(wanted.to_string());
    }
    let by_label: Vec<&str> = cfg
        .configs
        .iter()
        .filter(|(_, a)| a.label == wanted)
        .map(|(id, _)| id.as_str())
        .collect();
    match by_label.as_slice() {
        [one] => return Ok(one.to_string()),
        [] => {}
        many => {
            return Err(Error::usage(
                cmd,
                format!(
                    "'{wanted}' is the label of {} accounts: {}; give one of these IDs",
                    many.len(),
                    many.join(", ")
                ),
            ))
        }
    }
    Err(Error::not_found(format!(
        "no account '{wanted}' (known accounts: {})",
        if cfg.configs.is_empty() {
            "none".to_string()
        } else {
            cfg.ids().join(", ")
        }
    )))
}

fn no_accounts() -> Error {
    Error::auth("no account configured, run 'cec config add' first")
}

/// Chosen account id: argument, or an interactive choice.
fn pick(
    p: &Prompter,
    cfg: &config::ConfigFile,
    id: Option<&str>,
    label: &str,
    default_active_when_no_tty: bool,
) -> Result<String> {
    if cfg.configs.is_empty() {
        return Err(no_accounts());
    }
    if let Some(id) = id {
        return resolve(cfg, id, p.cmd);
    }
    if !stdin_is_tty() {
        if default_active_when_no_tty && cfg.configs.contains_key(&cfg.active) {
            return Ok(cfg.active.clone());
        }
        return Err(p.missing("account ID", "give it as argument, see 'cec config ls'"));
    }
    let ids = cfg.ids();
    let cur = ids.iter().position(|i| *i == cfg.active).unwrap_or(0);
    let n = p.select(label, &ids, cur, "give the account ID as argument")?;
    Ok(ids[n].clone())
}

fn use_account(store: &Store, id: Option<&str>) -> Result<()> {
    let p = Prompter::new("config use");
    let cfg = store.load()?;
    let id = pick(&p, &cfg, id, "Select the account you want to use", false)?;
    store.update(|c| {
        if !c.configs.contains_key(&id) {
            return Err(Error::not_found(format!("no account '{id}'")));
        }
        c.active = id.clone();
        Ok(())
    })?;
    errln!("The active configuration is: {id}");
    Ok(())
}

fn delete_secret(a: &Account) {
    if a.skip_keyring {
        return;
    }
    if let Err(e) = keyring::delete(&a.keyring_key()) {
        errln!(
            "Warning: could not delete the keyring entry of {}: {e}",
            a.id()
        );
    }
}

fn rm(store: &Store, id: Option<&str>, force: bool) -> Result<()> {
    let p = Prompter::new("config rm");
    let cfg = store.load()?;
    let id = pick(&p, &cfg, id, "Select a configuration to remove", false)?;
    if !force {
        if !stdin_is_tty() {
            return Err(Error::usage(
                "config rm",
                format!("refusing to remove {id} without --force (stdin is not a terminal)"),
            ));
        }
        let ok = p.confirm(
            &format!(
                "You are about to forget this connection [{id}], are you sure you want to proceed"
            ),
            "use --force",
        )?;
        if !ok {
            errln!("Operation canceled by user, nothing was removed.");
            return Ok(());
        }
    }
    // choose the next active account before touching anything
    let remaining: Vec<String> = cfg.ids().into_iter().filter(|i| *i != id).collect();
    let mut new_active: Option<String> = None;
    if cfg.active == id || !cfg.configs.contains_key(&cfg.active) {
        new_active = match remaining.len() {
            0 => Some(String::new()),
            1 => Some(remaining[0].clone()),
            _ if stdin_is_tty() => {
                let n = p.select(
                    "Please select the new active configuration",
                    &remaining,
                    0,
                    "use 'cec config use ID'",
                )?;
                Some(remaining[n].clone())
            }
            _ => Some(String::new()),
        };
    }
    let removed = store.update(|c| {
        let removed = c.configs.remove(&id);
        if let Some(na) = &new_active {
            c.active = if c.configs.contains_key(na) {
                na.clone()
            } else {
                String::new()
            };
        }
        Ok(removed)
    })?;
    let Some(removed) = removed else {
        return Err(Error::not_found(format!("no account '{id}'")));
    };
    delete_secret(&removed);
    errln!("This connection has been removed: {id}");
    match new_active.as_deref() {
        Some("") if !remaining.is_empty() => {
            errln!("No active configuration any more: choose one with 'cec config use ID'")
        }
        Some("") | None => {}
        Some(na) => errln!("The new active configuration is: {na}"),
    }
    Ok(())
}

// ------------------------------------------------------------ relog

fn relog(g: &GlobalArgs, store: &Store, id: Option<&str>, opts: &OAuthOpts) -> Result<()> {
    let p = Prompter::new("config relog");
    let cfg = store.load()?;
    let id = pick(
        &p,
        &cfg,
        id,
        "Select the account you want to auth against anew",
        true,
    )?;
    let mut prev = cfg.configs[&id].clone();
    if let Err(e) = config::load_secrets(store, &mut prev) {
        crate::api::http::debug(format!("previous secrets unavailable: {}", e.message));
    }
    errln!("Re-run the authentication process for account {id}");
    let mut acc = match prev.auth_type.as_str() {
        AUTH_OAUTH => oauth_account(g, "config relog", Some(&prev), opts)?,
        AUTH_PAT => token_account(g, "config relog", Some(&prev))?,
        AUTH_SESSION => client_auth_account(g, "config relog", Some(&prev))?,
        other => {
            return Err(Error::failure(format!(
                "cannot relog for authentication type: {other}"
            )))
        }
    };
    // keep the keyring choice of the account unless --skip-keyring is given now
    acc.skip_keyring = prev.skip_keyring || g.skip_keyring;
    finish(store, acc)
}

// ------------------------------------------------------------ check-keyring

fn check_keyring(deprecated: bool) -> Result<()> {
    if deprecated {
        errln!("{DEPRECATED}");
        errln!(
            "Please rather use 'cec config check-keyring' that is its new name. Yet, launching the check..."
        );
        errln!();
    }
    errln!("Checking keyring service for {}", keyring::SERVICE);
    let mut rnd = [0u8; 8];
    let _ = getrandom::getrandom(&mut rnd);
    let suffix: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("https://test.example.com::cec-check-{suffix}");
    let value = "A very complicated value !!#%<{}//\\q";
    let res = (|| -> std::result::Result<(), String> {
        keyring::set(&key, value).map_err(|e| e.to_string())?;
        let got = keyring::get(&key).map_err(|e| e.to_string());
        let _ = keyring::delete(&key);
        let got = got?;
        if got != value {
            return Err(format!(
                "keyring seems to be broken in this machine, retrieved value ({got}) differs from the one we stored ({value})"
            ));
        }
        Ok(())
    })();
    match res {
        Ok(()) => {
            errln!("✔ Keyring seems to be here and working.");
            Ok(())
        }
        Err(m) => {
            errln!("{KEYRING_WARNING}");
            Err(Error::failure(m))
        }
    }
}
