//! Command-line parsing with lexopt into the typed commands of `types`.
//!
//! One definition per flag and command lives in `spec`; this module walks the
//! arguments against it (global flags are accepted anywhere, `--flag=value` and
//! `--flag value`, `--` ends the flags), merges the `CEC_*` and legacy
//! `CELLS_CLIENT_TARGET_*` environment variables and builds the typed
//! `Invocation`. Every problem is a usage error (exit code 2) of one line.
// Shared API: parts are used only by some commands (or later ones).
#![allow(dead_code)]
pub mod spec;
pub mod types;
pub use types::*;

use crate::error::{Error, Result};
use spec::{Cmd, Flag};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Parse the process arguments (without argv[0]) with the process environment.
pub fn parse(args: impl Iterator<Item = OsString>) -> Result<Invocation> {
    parse_with_env(args, &|k: &str| std::env::var(k).ok())
}

/// Environment lookup used by the parser (injectable for unit tests).
pub type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Parse `args` with the environment `env`.
pub fn parse_with_env(args: impl Iterator<Item = OsString>, env: EnvFn) -> Result<Invocation> {
    let raw = walk(args)?;
    let ctx = Ctx { raw, env };
    if ctx.raw.help {
        let path = ctx
            .raw
            .cmd
            .path
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        return Ok(Invocation {
            globals: ctx.globals(false).unwrap_or_default(),
            command: Command::Help { path },
        });
    }
    let command = ctx.build()?;
    let needs_url = !command.is_offline()
        || matches!(
            command,
            Command::Config(ConfigCmd::Add(_)) | Command::Config(ConfigCmd::Relog { .. })
        );
    let globals = ctx.globals(needs_url)?;
    Ok(Invocation { globals, command })
}

/// Result of walking argv against the command tree.
struct Raw {
    cmd: &'static Cmd,
    /// Values given on the command line, by canonical flag key, in order.
    vals: HashMap<&'static str, Vec<String>>,
    args: Vec<String>,
    help: bool,
    version: bool,
}

fn flag_display(f: &Flag) -> String {
    format!("--{}", f.long)
}

fn walk(args: impl Iterator<Item = OsString>) -> Result<Raw> {
    use lexopt::Arg;
    let mut p = lexopt::Parser::from_args(args);
    let mut raw = Raw {
        cmd: spec::root(),
        vals: HashMap::new(),
        args: Vec::new(),
        help: false,
        version: false,
    };
    // Errors found after --help are ignored (help wins), so keep the first one.
    let mut pending: Option<Error> = None;
    let mut after_dashdash = false;
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => {
                let cmd = raw.cmd.path;
                pending.get_or_insert(lexopt_error(cmd, e));
                // lexopt errors here are "unexpected value" for `--switch=value`; continue.
                continue;
            }
        };
        let is_long = matches!(arg, Arg::Long(_));
        let (flag, shown): (Option<&'static Flag>, String) = match arg {
            Arg::Long("help") | Arg::Short('h') => {
                raw.help = true;
                continue;
            }
            Arg::Long("version") if raw.cmd.path.is_empty() && raw.args.is_empty() => {
                raw.version = true;
                continue;
            }
            Arg::Long(name) => (raw.cmd.find_long(name), format!("--{name}")),
            Arg::Short(c) => (raw.cmd.find_short(c), format!("-{c}")),
            Arg::Value(v) => {
                let s = match v.into_string() {
                    Ok(s) => s,
                    Err(v) => {
                        pending.get_or_insert(Error::usage(
                            raw.cmd.path,
                            format!("argument is not valid UTF-8: {}", v.to_string_lossy()),
                        ));
                        continue;
                    }
                };
                if s == "--" {
                    // Only reached through raw handling; lexopt swallows the first `--`.
                    after_dashdash = true;
                }
                if !after_dashdash && raw.args.is_empty() && raw.cmd.has_children() {
                    if let Some(child) = raw.cmd.child(&s) {
                        raw.cmd = child;
                        continue;
                    }
                    if !raw.cmd.runnable || raw.cmd.max_args == 0 {
                        let what = if raw.cmd.path.is_empty() {
                            "cec".to_string()
                        } else {
                            format!("cec {}", raw.cmd.path)
                        };
                        let names: Vec<&str> = raw
                            .cmd
                            .children()
                            .filter(|c| !c.hidden)
                            .map(|c| c.name())
                            .collect();
                        pending.get_or_insert(Error::usage(
                            raw.cmd.path,
                            format!(
                                "unknown command '{s}' for '{what}'{}",
                                suggest(&s, &names, "")
                            ),
                        ));
                        continue;
                    }
                }
                raw.args.push(s);
                continue;
            }
        };
        let Some(flag) = flag else {
            let names: Vec<&str> = raw
                .cmd
                .flags
                .iter()
                .chain(spec::GLOBAL_FLAGS.iter())
                .filter(|f| !f.hidden)
                .map(|f| f.long)
                .collect();
            let hint = match shown.strip_prefix("--") {
                Some(long) => suggest(long, &names, "--"),
                None => String::new(),
            };
            pending.get_or_insert(Error::usage(
                raw.cmd.path,
                format!("unknown flag {shown}{}{hint}", for_cmd(raw.cmd)),
            ));
            // A value attached with `=` to an unknown long flag must not abort the walk.
            if is_long {
                let _ = p.optional_value();
            }
            continue;
        };
        let value = if flag.value.is_some() {
            match p.value() {
                Ok(v) => match v.into_string() {
                    Ok(s) => s,
                    Err(v) => {
                        pending.get_or_insert(Error::usage(
                            raw.cmd.path,
                            format!(
                                "value of {} is not valid UTF-8: {}",
                                flag_display(flag),
                                v.to_string_lossy()
                            ),
                        ));
                        continue;
                    }
                },
                Err(_) => {
                    pending.get_or_insert(Error::usage(
                        raw.cmd.path,
                        format!(
                            "flag {} needs a value ({})",
                            shown,
                            flag.value.unwrap_or("")
                        ),
                    ));
                    continue;
                }
            }
        } else if !is_long {
            // A short switch, possibly in a cluster (`-rf FILE`): never takes a value.
            "true".to_string()
        } else {
            // `--switch=false` is accepted for switches.
            match p.optional_value() {
                None => "true".to_string(),
                Some(v) => match v.to_str().and_then(parse_bool_strict) {
                    Some(b) => b.to_string(),
                    None => {
                        pending.get_or_insert(Error::usage(
                            raw.cmd.path,
                            format!(
                                "flag {} takes no value (or =true/=false), got '{}'",
                                shown,
                                v.to_string_lossy()
                            ),
                        ));
                        continue;
                    }
                },
            }
        };
        raw.vals.entry(flag.key()).or_default().push(value);
    }
    if raw.help {
        return Ok(raw);
    }
    if let Some(e) = pending {
        return Err(e);
    }
    Ok(raw)
}

/// " (did you mean 'x'?)" for the closest of `names` within 2 edits, else "".
fn suggest(word: &str, names: &[&str], prefix: &str) -> String {
    let best = names
        .iter()
        .map(|n| (edit_distance(word, n), *n))
        .filter(|(d, n)| *d <= 2 && *d < n.len())
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, n)) if prefix.is_empty() => format!(" (did you mean '{n}'?)"),
        Some((_, n)) => format!(" (did you mean {prefix}{n}?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn for_cmd(cmd: &Cmd) -> String {
    if cmd.path.is_empty() {
        String::new()
    } else {
        format!(" for 'cec {}'", cmd.path)
    }
}

fn lexopt_error(cmd: &str, e: lexopt::Error) -> Error {
    let msg = match e {
        lexopt::Error::UnexpectedValue { option, value } => format!(
            "flag {option} takes no value, got '{}'",
            value.to_string_lossy()
        ),
        other => other.to_string(),
    };
    Error::usage(cmd, msg)
}

/// `true/false/1/0/t/f/yes/no` (case-insensitive) for `--switch=VALUE`.
fn parse_bool_strict(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "f" | "false" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// Lenient boolean of environment variables (docs/config.md §6): 1, t, true, y, yes, on → true.
pub fn parse_bool_env(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "yes" | "y" | "on"
    )
}

/// Parse a Go-style duration ("3s", "500ms", "1m30s", "1h", "2.5s"). `None` if malformed.
/// Used for `--retry-max-backoff`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * factor;
    }
    if !total.is_finite() || total > 1e12 {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

/// Check that `s` is an absolute http(s) URL with a host; returns it trimmed.
/// `what` names the source ("--url", "CEC_URL") for the message.
pub fn check_url(s: &str) -> std::result::Result<String, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &t[8..]
    } else if lower.starts_with("http://") {
        &t[7..]
    } else {
        return Err("it must start with http:// or https://".into());
    };
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains spaces or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        match stripped.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err("bad IPv6 address".into()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host name".into());
    }
    if !hostport.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return Err(format!("'{host}' is not a valid host name"));
    }
    if let Some(p) = port {
        if !p.is_empty() && p.parse::<u16>().map(|n| n == 0).unwrap_or(true) {
            return Err(format!("'{p}' is not a valid port"));
        }
    }
    Ok(t.to_string())
}

struct Ctx<'a> {
    raw: Raw,
    env: EnvFn<'a>,
}

/// Where a value came from (for messages).
enum Src {
    Flag(String),
    Env(String),
}

impl std::fmt::Display for Src {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Src::Flag(s) => write!(f, "{s}"),
            Src::Env(s) => write!(f, "{s}"),
        }
    }
}

impl Ctx<'_> {
    fn path(&self) -> &'static str {
        self.raw.cmd.path
    }

    fn usage(&self, msg: impl Into<String>) -> Error {
        Error::usage(self.path(), msg)
    }

    fn def(&self, key: &str) -> Option<&'static Flag> {
        self.raw
            .cmd
            .flags
            .iter()
            .chain(spec::GLOBAL_FLAGS.iter())
            .find(|f| f.long == key && f.alias_of.is_empty())
    }

    fn env_get(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }

    /// Last value from the command line, else from `CEC_<KEY>` when the flag is env-bound.
    fn value(&self, key: &str) -> Option<(String, Src)> {
        if let Some(v) = self.raw.vals.get(key).and_then(|v| v.last()) {
            return Some((v.clone(), Src::Flag(format!("--{key}"))));
        }
        let f = self.def(key)?;
        let name = f.env_name()?;
        self.env_get(&name).map(|v| (v, Src::Env(name)))
    }

    fn string(&self, key: &str) -> Option<String> {
        self.value(key).map(|(v, _)| v)
    }

    fn given(&self, key: &str) -> bool {
        self.raw.vals.contains_key(key)
    }

    fn switch(&self, key: &str) -> bool {
        match self.value(key) {
            Some((v, Src::Flag(_))) => v == "true",
            Some((v, Src::Env(_))) => parse_bool_env(&v),
            None => false,
        }
    }

    fn num<T>(&self, key: &str, min: T, max: T) -> Result<Option<T>>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some((v, src)) = self.value(key) else {
            return Ok(None);
        };
        match v.trim().parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(Some(n)),
            Ok(_) => Err(self.usage(format!(
                "invalid value '{v}' for {src}: expected a number from {min} to {max}"
            ))),
            Err(_) => Err(self.usage(format!(
                "invalid value '{v}' for {src}: expected a whole number"
            ))),
        }
    }

    fn check_args(&self) -> Result<()> {
        let c = self.raw.cmd;
        let n = self.raw.args.len();
        if n < c.min_args {
            let missing: Vec<&str> = c.args.split(' ').skip(n).collect();
            return Err(self.usage(format!(
                "missing argument {} (usage: {} {})",
                missing
                    .first()
                    .copied()
                    .unwrap_or("")
                    .trim_end_matches("..."),
                c.full_name(),
                c.args
            )));
        }
        if n > c.max_args {
            let extra = &self.raw.args[c.max_args];
            return Err(self.usage(format!("unexpected argument '{extra}'")));
        }
        Ok(())
    }

    fn globals(&self, check: bool) -> Result<GlobalArgs> {
        let legacy = |n: &str| self.env_get(&format!("CELLS_CLIENT_TARGET_{n}"));
        let log = match self.value("log") {
            None => LogLevel::Info,
            Some((v, src)) => match v.trim().to_ascii_lowercase().as_str() {
                "debug" => LogLevel::Debug,
                "info" => LogLevel::Info,
                "warn" | "warning" => LogLevel::Warn,
                "error" => LogLevel::Error,
                _ => {
                    return Err(self.usage(format!(
                        "invalid value '{v}' for {src}: expected debug, info, warn or error"
                    )))
                }
            },
        };
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let url = nonempty(self.string("url")).or_else(|| legacy("URL"));
        if check {
            if let Some(u) = &url {
                if let Err(why) = check_url(u) {
                    let src = if self.given("url") {
                        "--url".to_string()
                    } else if self.env_get("CEC_URL").is_some() {
                        "CEC_URL".into()
                    } else {
                        "CELLS_CLIENT_TARGET_URL".into()
                    };
                    return Err(self.usage(format!("invalid server URL '{u}' ({src}): {why}")));
                }
            }
        }
        let skip_verify = if self.value("skip-verify").is_some() {
            self.switch("skip-verify")
        } else {
            legacy("SKIP_VERIFY").is_some_and(|v| parse_bool_env(&v))
        };
        Ok(GlobalArgs {
            log,
            config_dir: nonempty(self.string("config")).map(PathBuf::from),
            url: url.map(|u| u.trim().to_string()),
            token: nonempty(self.string("token")),
            login: nonempty(self.string("login")).or_else(|| legacy("USER_LOGIN")),
            password: nonempty(self.string("password")).or_else(|| legacy("USER_PWD")),
            skip_verify,
            skip_keyring: self.switch("skip-keyring"),
            no_cache: self.switch("no-cache"),
        })
    }

    fn oauth_opts(&self) -> Result<OAuthOpts> {
        Ok(OAuthOpts {
            id_token: self.string("id-token").filter(|s| !s.is_empty()),
            port: self.num::<u16>("port", 1, u16::MAX)?.unwrap_or(3000),
            no_pkce: self.switch("no-pkce"),
            no_browser: self.switch("no-browser"),
            timeout_secs: self.num::<u64>("timeout", 1, 86_400)?.unwrap_or(300),
        })
    }

    fn add(&self, kind: Option<AuthKind>, deprecated: bool) -> Result<Command> {
        Ok(Command::Config(ConfigCmd::Add(AddArgs {
            kind,
            oauth: self.oauth_opts()?,
            deprecated,
        })))
    }

    fn build(&self) -> Result<Command> {
        if self.raw.version {
            if !self.path().is_empty() || !self.raw.args.is_empty() {
                return Err(self.usage("--version cannot be combined with a command"));
            }
            return Ok(Command::Version { format: None });
        }
        let c = self.raw.cmd;
        if !c.runnable {
            if c.needs_sub {
                let subs: Vec<&str> = c
                    .children()
                    .filter(|c| !c.hidden)
                    .map(|c| c.name())
                    .collect();
                return Err(self.usage(format!("missing sub-command, one of: {}", subs.join(", "))));
            }
            if !self.raw.vals.is_empty() && !self.raw.vals.keys().all(|k| self.is_global(k)) {
                return Err(self.usage("missing sub-command"));
            }
            return Ok(Command::Help {
                path: c
                    .path
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            });
        }
        self.check_args()?;
        let a = &self.raw.args;
        let arg = |i: usize| a.get(i).cloned().unwrap_or_default();
        let cmd = match c.path {
            "help" => {
                let mut cur = spec::root();
                for w in a {
                    cur = cur.child(w).ok_or_else(|| {
                        self.usage(format!("unknown help topic '{}'", a.join(" ")))
                    })?;
                }
                Command::Help { path: a.clone() }
            }
            "version" => Command::Version {
                format: self.string("format"),
            },
            "clear" => Command::Clear {
                force: self.switch("force"),
            },
            "completion bash" => Command::Completion { shell: Shell::Bash },
            "completion zsh" => Command::Completion { shell: Shell::Zsh },
            "config add" => self.add(None, false)?,
            "config add oauth" => self.add(Some(AuthKind::OAuth), false)?,
            "config add token" => self.add(Some(AuthKind::Token), false)?,
            "config add client-auth" => self.add(Some(AuthKind::ClientAuth), false)?,
            "configure" => self.add(None, true)?,
            "configure oauth" => self.add(Some(AuthKind::OAuth), true)?,
            "configure token" => self.add(Some(AuthKind::Token), true)?,
            "configure client-auth" => self.add(Some(AuthKind::ClientAuth), true)?,
            "configure check-keyring" => {
                Command::Config(ConfigCmd::CheckKeyring { deprecated: true })
            }
            "config check-keyring" => {
                Command::Config(ConfigCmd::CheckKeyring { deprecated: false })
            }
            "config ls" => Command::Config(ConfigCmd::Ls),
            "config use" => Command::Config(ConfigCmd::Use {
                id: a.first().cloned(),
            }),
            "config rm" => Command::Config(ConfigCmd::Rm {
                id: a.first().cloned(),
                force: self.switch("force"),
            }),
            "config relog" => Command::Config(ConfigCmd::Relog {
                id: a.first().cloned(),
                oauth: self.oauth_opts()?,
            }),
            "cp" | "mv" => {
                let args = CpMvArgs {
                    sources: a[..a.len() - 1].to_vec(),
                    target: a[a.len() - 1].clone(),
                    force: self.switch("force"),
                    timeout_secs: self.num::<u64>("timeout", 1, 30 * 86_400)?,
                };
                if c.path == "cp" {
                    Command::Cp(args)
                } else {
                    Command::Mv(args)
                }
            }
            "doc" => {
                let path = self
                    .string("path")
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| self.usage("missing --path DIR"))?;
                Command::Doc {
                    path: PathBuf::from(path),
                    menu: self
                        .string("menu")
                        .unwrap_or_else(|| "menu-admin-guide-v7".into()),
                }
            }
            "idm list-users" => Command::Idm(IdmCmd::ListUsers),
            "idm list-groups" => Command::Idm(IdmCmd::ListGroups),
            "idm list-roles" => Command::Idm(IdmCmd::ListRoles),
            "idm list-workspaces" => Command::Idm(IdmCmd::ListWorkspaces),
            "idm list-acls" => {
                let nodes: Vec<String> = self
                    .raw
                    .vals
                    .get("uuid")
                    .into_iter()
                    .flatten()
                    .flat_map(|v| v.split(','))
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if nodes.is_empty() {
                    return Err(self.usage("give at least one node UUID with --uuid/-n"));
                }
                Command::Idm(IdmCmd::ListAcls {
                    nodes,
                    delete: self.switch("delete"),
                })
            }
            "info" => Command::Info,
            "jobs get" => Command::Jobs(JobsCmd::Get {
                format: self.format_choice()?,
                filter: self.filter()?,
            }),
            "jobs delete" => Command::Jobs(JobsCmd::Delete {
                format: self.format_choice()?,
                filter: self.filter()?,
                job_id: self.string("job-id").filter(|s| !s.is_empty()),
                force: self.switch("force"),
                dry_run: self.switch("dry-run"),
            }),
            "ls" => {
                let l = LsArgs {
                    path: a.first().cloned(),
                    details: self.switch("details"),
                    raw: self.switch("raw"),
                    exists: self.switch("exists"),
                    format: self.string("format"),
                    json: self.switch("json"),
                };
                let n = [l.details, l.raw, l.exists, l.format.is_some(), l.json]
                    .iter()
                    .filter(|b| **b)
                    .count();
                if n > 1 {
                    return Err(self.usage(
                        "use at most one of --details, --raw, --exists, --format and --json",
                    ));
                }
                Command::Ls(l)
            }
            "meta get" => {
                let all = self.switch("all");
                let path = self.string("path").unwrap_or_default();
                if !all && path.is_empty() {
                    return Err(self.usage("missing --path PATH (or --all)"));
                }
                let format = self.string("format").unwrap_or_else(|| "table".into());
                if format != "table" && format != "json" {
                    return Err(self.usage(format!(
                        "invalid value '{format}' for --format: expected table or json"
                    )));
                }
                Command::Meta(MetaCmd::Get {
                    path,
                    format,
                    all,
                    namespace: self.string("namespace").filter(|s| !s.is_empty()),
                })
            }
            "meta set" => self.meta_set()?,
            "mkdir" => Command::Mkdir(MkdirArgs {
                paths: a.clone(),
                parents: self.switch("parents"),
            }),
            "rm" => Command::Rm(RmArgs {
                paths: a.clone(),
                force: self.switch("force"),
                permanently: self.switch("permanently"),
            }),
            "share" => Command::Share(ShareArgs {
                path: arg(0),
                password: self.string("link-password"),
                expire_days: self.num::<u32>("expire-days", 1, 36_500)?,
                max_downloads: self.num::<u32>("max-downloads", 1, u32::MAX)?,
            }),
            "scp" => Command::Scp(self.scp()?),
            "storage list-datasources" => Command::Storage(StorageCmd::ListDatasources {
                raw: self.switch("raw"),
            }),
            "storage resync-ds" => Command::Storage(StorageCmd::ResyncDs { name: arg(0) }),
            "tools hash" => {
                let file = self
                    .string("file")
                    .filter(|f| !f.is_empty())
                    .ok_or_else(|| self.usage("missing --file FILE"))?;
                Command::Tools(ToolsCmd::Hash {
                    file: Some(PathBuf::from(file)),
                    raw: self.switch("raw"),
                })
            }
            "tools version isvalid" | "version isvalid" => {
                Command::Tools(ToolsCmd::VersionIsValid {
                    version: arg(0),
                    quiet: self.switch("quiet"),
                    deprecated: c.path.starts_with("version"),
                })
            }
            "tools version isrelease" | "version isrelease" => {
                Command::Tools(ToolsCmd::VersionIsRelease {
                    version: arg(0),
                    quiet: self.switch("quiet"),
                    deprecated: c.path.starts_with("version"),
                })
            }
            "tools version isgreater" | "version isgreater" => {
                Command::Tools(ToolsCmd::VersionIsGreater {
                    a: arg(0),
                    b: arg(1),
                    quiet: self.switch("quiet"),
                    deprecated: c.path.starts_with("version"),
                })
            }
            "update" => Command::Update(UpdateArgs {
                version: self.string("version").filter(|s| !s.is_empty()),
                dry_run: self.switch("dry_run"),
                dev: self.switch("dev"),
                rollback: self.switch("rollback"),
            }),
            other => {
                return Err(Error::failure(format!(
                    "internal: no builder for '{other}'"
                )))
            }
        };
        Ok(cmd)
    }

    fn is_global(&self, key: &str) -> bool {
        spec::GLOBAL_FLAGS.iter().any(|f| f.key() == key)
    }

    fn format_choice(&self) -> Result<Option<String>> {
        match self.string("format") {
            None => Ok(None),
            Some(f) if f == "table" || f == "json" => Ok(Some(f)),
            Some(f) => Err(self.usage(format!(
                "invalid value '{f}' for --format: expected table or json"
            ))),
        }
    }

    fn filter(&self) -> Result<Option<String>> {
        match self.string("filter") {
            None => Ok(None),
            Some(f) => match serde_json::from_str::<serde_json::Value>(&f) {
                Ok(serde_json::Value::Object(_)) => Ok(Some(f)),
                _ => Err(self.usage(format!(
                    "invalid --filter '{f}': expected a JSON object like {{\"owner\":{{\"op\":\"eq\",\"value\":\"admin\"}}}}"
                ))),
            },
        }
    }

    fn meta_set(&self) -> Result<Command> {
        let path = self.string("path").unwrap_or_default();
        if path.is_empty() {
            return Err(self.usage("missing --path PATH"));
        }
        let operation = self.string("operation").unwrap_or_default();
        if operation != "update" && operation != "delete" {
            return Err(self.usage(if operation.is_empty() {
                "missing --operation update|delete".to_string()
            } else {
                format!("invalid value '{operation}' for --operation: expected update or delete")
            }));
        }
        let namespace = self.string("namespace").unwrap_or_default();
        if namespace.is_empty() {
            return Err(self.usage("missing --namespace NS"));
        }
        let mut values: Vec<(MetaValueKind, String)> = Vec::new();
        if let Some(s) = self.string("string-value") {
            values.push((MetaValueKind::String, s));
        }
        if let Some(j) = self.string("json-value") {
            if serde_json::from_str::<serde_json::Value>(&j).is_err() {
                return Err(self.usage(format!("invalid JSON for --json-value: '{j}'")));
            }
            values.push((MetaValueKind::Json, j));
        }
        if let Some(n) = self.num::<i64>("numeric-value", i64::MIN, i64::MAX)? {
            values.push((MetaValueKind::Rate, n.to_string()));
        }
        if self.given("boolean-value") {
            values.push((
                MetaValueKind::Bool,
                self.switch("boolean-value").to_string(),
            ));
        }
        if values.len() > 1 {
            return Err(self.usage(
                "give only one of --string-value, --json-value, --numeric-value and --boolean-value",
            ));
        }
        let (value_kind, value) = match values.pop() {
            Some((k, v)) => (k, Some(v)),
            None if operation == "update" => {
                return Err(self.usage(
                    "update needs a value: --string-value, --json-value, --numeric-value or --boolean-value",
                ))
            }
            None => (MetaValueKind::String, None),
        };
        Ok(Command::Meta(MetaCmd::Set {
            path,
            operation,
            namespace,
            value,
            value_kind,
        }))
    }

    fn scp(&self) -> Result<ScpArgs> {
        let d = ScpArgs::default();
        let a = &self.raw.args;
        if let Some(flags) = self.string("multipart-debug-flags") {
            const CATS: &[&str] = &[
                "signing",
                "retries",
                "request",
                "request_with_body",
                "response",
                "response_with_body",
                "deprecated_usage",
                "request_event_message",
                "response_event_message",
            ];
            for cat in flags.split('|').map(str::trim).filter(|s| !s.is_empty()) {
                if !CATS.contains(&cat) {
                    return Err(self.usage(format!(
                        "unknown log category '{cat}' in --multipart-debug-flags"
                    )));
                }
            }
        }
        let part = self
            .num::<u64>("part-size", 10, 5 * 1024)?
            .unwrap_or(d.part_size_mib);
        if part % 10 != 0 {
            return Err(self.usage(format!(
                "invalid value '{part}' for --part-size: it must be a multiple of 10 (MiB)"
            )));
        }
        let backoff = self
            .value("retry-max-backoff")
            .map(|(v, src)| {
                if parse_duration(&v).is_none() {
                    Err(self.usage(format!(
                        "invalid value '{v}' for {src}: expected a duration like 3s, 500ms or 1m"
                    )))
                } else {
                    Ok(v)
                }
            })
            .transpose()?
            .unwrap_or(d.retry_max_backoff.clone());
        Ok(ScpArgs {
            source: a[0].clone(),
            target: a[1].clone(),
            force: self.switch("force"),
            no_progress: self.switch("no-progress"),
            quiet: self.switch("quiet"),
            verbose: self.switch("verbose"),
            very_verbose: self.switch("very-verbose"),
            part_size_mib: part,
            parts_concurrency: self
                .num::<usize>("parts-concurrency", 1, 64)?
                .unwrap_or(d.parts_concurrency),
            files_concurrency: self
                .num::<usize>("files-concurrency", 1, 64)?
                .unwrap_or(d.files_concurrency),
            multipart_threshold_mib: self
                .num::<u64>("multipart-threshold", 0, 5 * 1024 * 1024)?
                .unwrap_or(d.multipart_threshold_mib),
            max_parts_number: self
                .num::<u64>("max-parts-number", 1, 10_000)?
                .unwrap_or(d.max_parts_number),
            retry_max_attempts: self
                .num::<u32>("retry-max-attempts", 0, 100)?
                .unwrap_or(d.retry_max_attempts),
            retry_max_backoff: backoff,
            skip_md5: self.switch("skip-md5"),
            follow_links: self.switch("follow-links"),
            fail_fast: self.switch("fail-fast"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation> {
        p_env(args, &[])
    }
    fn p_env(args: &[&str], env: &[(&str, &str)]) -> Result<Invocation> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_with_env(args.iter().map(OsString::from), &|k| env.get(k).cloned())
    }

    #[test]
    fn globals_anywhere() {
        let a = p(&["--log", "debug", "config", "ls"]).unwrap();
        assert_eq!(a.globals.log, LogLevel::Debug);
        assert!(matches!(a.command, Command::Config(ConfigCmd::Ls)));
        let b = p(&["config", "ls", "--log=debug"]).unwrap();
        assert_eq!(b.globals.log, LogLevel::Debug);
        let c = p(&["ls", "-u", "https://x.example", "common-files"]).unwrap();
        assert_eq!(c.globals.url.as_deref(), Some("https://x.example"));
    }

    #[test]
    fn short_clusters() {
        match p(&["tools", "hash", "-rf", "x"]).unwrap().command {
            Command::Tools(ToolsCmd::Hash { file, raw }) => {
                assert!(raw);
                assert_eq!(file, Some(PathBuf::from("x")));
            }
            _ => panic!(),
        }
        match p(&["scp", "-fnq", "a", "cells://b"]).unwrap().command {
            Command::Scp(s) => assert!(s.force && s.no_progress && s.quiet),
            _ => panic!(),
        }
        match p(&["rm", "-fp", "a"]).unwrap().command {
            Command::Rm(r) => assert!(r.force && r.permanently),
            _ => panic!(),
        }
        assert_eq!(p(&["rm", "-fz", "a"]).unwrap_err().code(), 2);
    }

    #[test]
    fn dashdash() {
        let a = p(&["rm", "-f", "--", "-weird", "--also"]).unwrap();
        match a.command {
            Command::Rm(r) => {
                assert_eq!(r.paths, vec!["-weird", "--also"]);
                assert!(r.force);
            }
            _ => panic!(),
        }
    }

    #[test]
    fn env_precedence() {
        let a = p_env(
            &["ls"],
            &[
                ("CEC_URL", "https://a.example"),
                ("CELLS_CLIENT_TARGET_URL", "https://b.example"),
                ("CELLS_CLIENT_TARGET_USER_PWD", "pa=ss"),
            ],
        )
        .unwrap();
        assert_eq!(a.globals.url.as_deref(), Some("https://a.example"));
        assert_eq!(a.globals.password.as_deref(), Some("pa=ss"));
        let b = p_env(
            &["ls", "--url", "https://c.example"],
            &[("CEC_URL", "https://a.example")],
        )
        .unwrap();
        assert_eq!(b.globals.url.as_deref(), Some("https://c.example"));
        let s = p_env(
            &["scp", "a", "cells://b"],
            &[("CEC_PART_SIZE", "20"), ("CEC_FORCE", "T")],
        )
        .unwrap();
        match s.command {
            Command::Scp(s) => {
                assert_eq!(s.part_size_mib, 20);
                assert!(s.force);
            }
            _ => panic!(),
        }
        assert!(p_env(&["scp", "a", "cells://b"], &[("CEC_PART_SIZE", "x")]).is_err());
    }

    #[test]
    fn bad_inputs() {
        for bad in [
            vec!["nope"],
            vec!["ls", "--nope"],
            vec!["ls", "a", "b"],
            vec!["ls", "-d", "-r"],
            vec!["scp", "a"],
            vec!["scp", "a", "b", "--part-size", "15"],
            vec!["scp", "a", "b", "--part-size=abc"],
            vec!["config", "add", "oauth", "--port", "70000"],
            vec!["rm"],
            vec!["ls", "--url", "ftp://x"],
            vec!["completion"],
            vec!["completion", "fish"],
            vec!["ls", "--format"],
            vec!["rm", "-f=maybe", "x"],
        ] {
            let e = p(&bad).expect_err(&format!("{bad:?}"));
            assert_eq!(e.code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn help_forms() {
        for h in [
            vec![],
            vec!["help"],
            vec!["--help"],
            vec!["ls", "--help"],
            vec!["ls", "-h", "--bogus"],
        ] {
            assert!(
                matches!(p(&h).unwrap().command, Command::Help { .. }),
                "{h:?}"
            );
        }
        match p(&["help", "config", "add", "oauth"]).unwrap().command {
            Command::Help { path } => assert_eq!(path, vec!["config", "add", "oauth"]),
            _ => panic!(),
        }
        assert!(matches!(
            p(&["--version"]).unwrap().command,
            Command::Version { format: None }
        ));
    }

    #[test]
    fn share_password_vs_global() {
        let a = p(&["--password", "g", "share", "x", "--password", "l"]).unwrap();
        assert_eq!(a.globals.password.as_deref(), Some("g"));
        match a.command {
            Command::Share(s) => assert_eq!(s.password.as_deref(), Some("l")),
            _ => panic!(),
        }
        let b = p_env(&["share", "x"], &[("CEC_PASSWORD", "e")]).unwrap();
        assert_eq!(b.globals.password.as_deref(), Some("e"));
        match b.command {
            Command::Share(s) => assert_eq!(s.password, None),
            _ => panic!(),
        }
    }

    /// Random command lines from a vocabulary of commands, flags and values: never panic,
    /// and every error is a one-line usage error.
    #[test]
    fn fuzz_no_panic() {
        let vocab: Vec<String> = {
            let mut v: Vec<String> = spec::COMMANDS
                .iter()
                .flat_map(|c| c.path.split(' '))
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            for c in spec::COMMANDS {
                for f in c.flags.iter().chain(spec::GLOBAL_FLAGS) {
                    v.push(format!("--{}", f.long));
                    v.push(format!("--{}=", f.long));
                    v.push(format!("--{}=x", f.long));
                    if let Some(s) = f.short {
                        v.push(format!("-{s}"));
                        v.push(format!("-{s}x"));
                    }
                }
            }
            for w in [
                "--",
                "-",
                "",
                "x",
                "0",
                "-1",
                "10",
                "99999999999999999999",
                "http://a",
                "{{.Name}}",
                "{{",
                "cells://a",
                "é",
                "--=",
                "-=",
                "---",
                "=",
                "-h",
                "--help",
                "--version",
            ] {
                v.push(w.to_string());
            }
            v
        };
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let n = (next() % 7) as usize;
            let args: Vec<String> = (0..n)
                .map(|_| vocab[(next() % vocab.len() as u64) as usize].clone())
                .collect();
            let r = std::panic::catch_unwind(|| {
                parse_with_env(args.iter().map(OsString::from), &|_| None)
            });
            match r {
                Err(_) => panic!("panic on {args:?}"),
                Ok(Err(e)) => {
                    assert!(!e.to_string().contains('\n'), "{args:?}: {e}");
                    assert!(
                        e.code() == 2,
                        "{args:?}: non-usage error {e} ({})",
                        e.code()
                    );
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), None);
        assert_eq!(parse_duration("s"), None);
    }
}
