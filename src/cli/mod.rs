//! Command-line parsing with lexopt into the typed commands of `types`.
//!
//! Every flag is defined once in `flags` and every command in `spec`; this
//! module walks the arguments against them (global flags are accepted
//! anywhere, `--flag=value` and `--flag value`, `--` ends the flags), resolves
//! each flag's value (command line > `CEC_*` variable > default) through its
//! definition, and lets the command's builder (`build`) make the typed
//! `Invocation`. Every problem is a usage error (exit code 2) of one line.
mod build;
pub mod complete;
pub mod flags;
pub mod spec;
pub mod types;
#[cfg(test)]
mod walk_test;
pub use types::*;

use crate::auth::GlobalArgs;
use crate::config::ServerUrl;
use crate::error::{Error, Result};
use build::Parsed;
use flags::{Flag, Origin, Takes, Values};
use spec::Cmd;
use std::ffi::OsString;
use std::time::Duration;

/// Parse the process arguments (without argv[0]) with the process environment.
pub fn parse(args: impl Iterator<Item = OsString>) -> Result<Invocation> {
    parse_with_env(args, &|k: &str| std::env::var(k).ok())
}

/// Environment lookup used by the parser (injectable for unit tests).
pub type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The hidden commands of cobra's completion protocol, called by shell scripts.
pub const COMPLETE: &str = "__complete";
pub const COMPLETE_NO_DESC: &str = "__completeNoDesc";

/// Parse `args` with the environment `env`.
pub fn parse_with_env(args: impl Iterator<Item = OsString>, env: EnvFn) -> Result<Invocation> {
    let mut args = args.peekable();
    if let Some(first) = args.peek().and_then(|a| a.to_str()) {
        if first == COMPLETE || first == COMPLETE_NO_DESC {
            // Everything after it is the command line to complete, flags included.
            let descriptions = first == COMPLETE;
            let words = args
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            return Ok(Invocation {
                globals: GlobalArgs::default(),
                command: Command::Complete {
                    words,
                    descriptions,
                },
            });
        }
    }
    let raw = walk(args)?;
    if raw.help {
        // Help wins over every other problem on the line.
        let v = resolve(&raw, env, false)?;
        return Ok(Invocation {
            globals: globals(&raw, &v, env, false).unwrap_or_default(),
            command: Command::Help {
                path: words(raw.cmd.path),
            },
        });
    }
    let command = command(&raw, env)?;
    let needs_url = !command.is_offline()
        || matches!(
            command,
            Command::Config(ConfigCmd::Add(_)) | Command::Config(ConfigCmd::Relog { .. })
        );
    let v = resolve(&raw, env, true)?;
    let globals = globals(&raw, &v, env, needs_url)?;
    Ok(Invocation { globals, command })
}

fn words(path: &str) -> Vec<String> {
    path.split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Result of walking argv against the command tree.
struct Raw {
    cmd: &'static Cmd,
    /// Flags given on the command line with their values, in order
    /// (`"true"`/`"false"` for switches).
    given: Vec<(&'static Flag, String)>,
    args: Vec<String>,
    help: bool,
    version: bool,
}

impl Raw {
    /// The values given on the command line for `f`, in order.
    fn values_of<'a>(&'a self, f: &'a Flag) -> impl Iterator<Item = &'a str> + 'a {
        self.positions_of(f).map(|(_, v)| v)
    }

    /// The values given for `f` with their positions among all the flags given.
    fn positions_of<'a>(&'a self, f: &'a Flag) -> impl Iterator<Item = (usize, &'a str)> + 'a {
        self.given
            .iter()
            .enumerate()
            .filter(move |(_, (g, _))| std::ptr::eq(*g, f))
            .map(|(i, (_, v))| (i, v.as_str()))
    }
}

fn walk(args: impl Iterator<Item = OsString>) -> Result<Raw> {
    use lexopt::Arg;
    let mut p = lexopt::Parser::from_args(args);
    let mut raw = Raw {
        cmd: spec::root(),
        given: Vec::new(),
        args: Vec::new(),
        help: false,
        version: false,
    };
    // Errors found after --help are ignored (help wins), so keep the first one.
    let mut pending: Option<Error> = None;
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => {
                // lexopt errors here are "unexpected value" for `--switch=value`; continue.
                pending.get_or_insert(lexopt_error(raw.cmd.path, e));
                continue;
            }
        };
        let is_long = matches!(arg, Arg::Long(_));
        let (flag, shown) = match arg {
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
                if let Err(e) = positional(&mut raw, v) {
                    pending.get_or_insert(e);
                }
                continue;
            }
        };
        let Some(flag) = flag else {
            pending.get_or_insert(unknown_flag(raw.cmd, &shown));
            // A value attached with `=` to an unknown long flag must not abort the walk.
            if is_long {
                let _ = p.optional_value();
            }
            continue;
        };
        match flag_value(&mut p, raw.cmd, flag, &shown, is_long) {
            Ok(v) => raw.given.push((flag, v)),
            Err(e) => {
                pending.get_or_insert(e);
            }
        }
    }
    match pending {
        Some(e) if !raw.help => Err(e),
        _ => Ok(raw),
    }
}

/// A word that is not a flag: a sub-command while one is expected, else an argument.
fn positional(raw: &mut Raw, v: OsString) -> Result<()> {
    let s = v.into_string().map_err(|v| {
        Error::usage(
            raw.cmd.path,
            format!("argument is not valid UTF-8: {}", v.to_string_lossy()),
        )
    })?;
    // A literal `--` after the first one is an argument, never a sub-command.
    if s != "--" && raw.args.is_empty() && raw.cmd.has_children() {
        if let Some(child) = raw.cmd.child(&s) {
            raw.cmd = child;
            return Ok(());
        }
        if !raw.cmd.runnable() || raw.cmd.max_args == 0 {
            let names: Vec<&str> = raw
                .cmd
                .children()
                .filter(|c| !c.hidden)
                .map(|c| c.name())
                .collect();
            return Err(Error::usage(
                raw.cmd.path,
                format!(
                    "unknown command '{s}' for '{}'{}",
                    raw.cmd.full_name(),
                    suggest(&s, &names, "")
                ),
            ));
        }
    }
    raw.args.push(s);
    Ok(())
}

fn unknown_flag(cmd: &Cmd, shown: &str) -> Error {
    let names: Vec<&str> = cmd
        .all_flags()
        .filter(|f| !f.hidden)
        .map(|f| f.long)
        .collect();
    let hint = match shown.strip_prefix("--") {
        Some(long) => suggest(long, &names, "--"),
        None => String::new(),
    };
    Error::usage(
        cmd.path,
        format!("unknown flag {shown}{}{hint}", for_cmd(cmd)),
    )
}

/// The value of `flag` just seen: the next argument (or `=value`) for value
/// flags, `"true"`/`"false"` for switches.
fn flag_value(
    p: &mut lexopt::Parser,
    cmd: &Cmd,
    flag: &Flag,
    shown: &str,
    is_long: bool,
) -> Result<String> {
    let usage = |m: String| Error::usage(cmd.path, m);
    if let Some(placeholder) = flag.placeholder() {
        let v = p
            .value()
            .map_err(|_| usage(format!("flag {shown} needs a value ({placeholder})")))?;
        return v.into_string().map_err(|v| {
            usage(format!(
                "value of --{} is not valid UTF-8: {}",
                flag.long,
                v.to_string_lossy()
            ))
        });
    }
    if !is_long {
        // A short switch, possibly in a cluster (`-rf FILE`): never takes a value.
        return Ok("true".into());
    }
    // `--switch=false` is accepted for switches.
    match p.optional_value() {
        None => Ok("true".into()),
        Some(v) => match v.to_str().and_then(parse_bool_strict) {
            Some(b) => Ok(b.to_string()),
            None => Err(usage(format!(
                "flag {shown} takes no value (or =true/=false), got '{}'",
                v.to_string_lossy()
            ))),
        },
    }
}

/// The typed command: the sub-command group rules, the positional arguments,
/// then the command's builder.
fn command(raw: &Raw, env: EnvFn) -> Result<Command> {
    let c = raw.cmd;
    let usage = |m: String| Error::usage(c.path, m);
    if raw.version {
        if !c.path.is_empty() || !raw.args.is_empty() {
            return Err(usage("--version cannot be combined with a command".into()));
        }
        return Ok(Command::Version {
            format: None,
            json: false,
        });
    }
    let Some(build) = c.build else {
        if c.needs_sub {
            let subs: Vec<&str> = c
                .children()
                .filter(|c| !c.hidden)
                .map(|c| c.name())
                .collect();
            return Err(usage(format!(
                "missing sub-command, one of: {}",
                subs.join(", ")
            )));
        }
        let global = |f: &Flag| flags::GLOBAL_FLAGS.iter().any(|g| std::ptr::eq(*g, f));
        if !raw.given.iter().all(|(f, _)| global(f)) {
            return Err(usage("missing sub-command".into()));
        }
        return Ok(Command::Help {
            path: words(c.path),
        });
    };
    check_args(raw)?;
    let parsed = Parsed {
        cmd: c,
        args: raw.args.clone(),
        v: resolve(raw, env, true)?,
    };
    build(&parsed)
}

fn check_args(raw: &Raw) -> Result<()> {
    let c = raw.cmd;
    let n = raw.args.len();
    if n < c.min_args {
        let missing = c.args.split(' ').nth(n).unwrap_or("");
        return Err(Error::usage(
            c.path,
            format!(
                "missing argument {} (usage: {} {})",
                missing.trim_end_matches("..."),
                c.full_name(),
                c.args
            ),
        ));
    }
    if n > c.max_args {
        let extra = &raw.args[c.max_args];
        return Err(Error::usage(
            c.path,
            format!("unexpected argument '{extra}'"),
        ));
    }
    Ok(())
}

/// Every flag of the command (and the global ones) through its definition:
/// the command line, else its environment variable, else its default.
/// `strict: false` skips the invalid ones (for help).
fn resolve(raw: &Raw, env: EnvFn, strict: bool) -> Result<Values> {
    let mut v = Values::default();
    for f in raw.cmd.all_flags() {
        match apply(raw, env, f, &mut v) {
            Err(e) if strict => return Err(e),
            _ => {}
        }
    }
    Ok(v)
}

fn apply(raw: &Raw, env: EnvFn, f: &Flag, v: &mut Values) -> Result<()> {
    let typed: Vec<(usize, &str)> = raw.positions_of(f).collect();
    let env_value = f.env.and_then(|name| env(name).filter(|s| !s.is_empty()));
    let (values, from): (Vec<(usize, &str)>, Origin) = if let Some(last) = typed.last() {
        (
            if f.repeat { typed.clone() } else { vec![*last] },
            Origin::Argv,
        )
    } else if let Some(e) = &env_value {
        (vec![(0, e.as_str())], Origin::Env)
    } else {
        (
            f.default.into_iter().map(|d| (0, d)).collect(),
            Origin::Default,
        )
    };
    let usage = |m: String| Error::usage(raw.cmd.path, m);
    if f.required && values.iter().all(|(_, s)| s.is_empty()) {
        let what = match f.words().as_slice() {
            [] => f.placeholder().unwrap_or("").to_string(),
            w => w.join("|"),
        };
        return Err(usage(format!("missing --{} {what}", f.long)));
    }
    for (at, s) in values {
        // Rules made of several flags (sync's --include/--exclude) keep the command-line order.
        v.position = at;
        let src = match from {
            Origin::Argv => format!("--{}", f.long),
            Origin::Env => f.env.unwrap_or("").to_string(),
            Origin::Default => format!("the default of --{}", f.long),
        };
        set(f, v, s, from).map_err(|why| usage(format!("invalid value '{s}' for {src}: {why}")))?;
    }
    Ok(())
}

/// Store one value of `f` (switches: strict on the command line, lenient from the environment).
fn set(f: &Flag, v: &mut Values, s: &str, from: Origin) -> std::result::Result<(), String> {
    match &f.takes {
        Takes::Value(_, parse) => parse.set(v, s, from),
        Takes::Switch(store) => {
            let b = match from {
                Origin::Env => parse_bool_env(s),
                _ => parse_bool_strict(s).ok_or("expected true or false")?,
            };
            store(v, b);
            Ok(())
        }
    }
}

/// The global flags, with the legacy `CELLS_CLIENT_TARGET_*` variables as a
/// last resort. `needs_url`: an invalid server URL is an error (otherwise ignored).
fn globals(raw: &Raw, v: &Values, env: EnvFn, needs_url: bool) -> Result<GlobalArgs> {
    let legacy = |n: &str| env(&format!("CELLS_CLIENT_TARGET_{n}")).filter(|s| !s.is_empty());
    let (url, src) = match &v.url {
        Some(u) if raw.values_of(&flags::URL).next().is_some() => (Some(u.clone()), "--url"),
        Some(u) => (Some(u.clone()), "CEC_URL"),
        None => (
            legacy("URL").map(|s| ServerUrl::parse(&s)),
            "CELLS_CLIENT_TARGET_URL",
        ),
    };
    let url = match url {
        Some(Err(why)) if needs_url => {
            let given = match src {
                "--url" => raw.values_of(&flags::URL).last().map(String::from),
                other => env(other),
            };
            return Err(Error::usage(
                raw.cmd.path,
                format!(
                    "invalid server URL '{}' ({src}): {why}",
                    given.unwrap_or_default()
                ),
            ));
        }
        u => u.and_then(|u| u.ok()),
    };
    let skip_verify = v
        .skip_verify
        .unwrap_or_else(|| legacy("SKIP_VERIFY").is_some_and(|s| parse_bool_env(&s)));
    Ok(GlobalArgs {
        log: v.log,
        config_dir: v.config_dir.clone(),
        url,
        token: v.token.clone(),
        login: v.login.clone().or_else(|| legacy("USER_LOGIN")),
        password: v.password.clone().or_else(|| legacy("USER_PWD")),
        skip_verify,
        skip_keyring: v.skip_keyring,
        no_cache: v.no_cache,
        quiet: false,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::log::LogLevel;
    use std::collections::HashMap;
    use std::path::PathBuf;

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
        assert!(matches!(
            a.command,
            Command::Config(ConfigCmd::Ls { json: false })
        ));
        let b = p(&["config", "ls", "--log=debug"]).unwrap();
        assert_eq!(b.globals.log, LogLevel::Debug);
        let c = p(&["ls", "-u", "https://x.example", "common-files"]).unwrap();
        assert_eq!(c.globals.url.unwrap().to_string(), "https://x.example");
    }

    #[test]
    fn remote_paths_lose_the_scp_prefix() {
        match p(&["ls", "cells://ws/a"]).unwrap().command {
            Command::Ls(l) => assert_eq!(l.path.as_deref(), Some("ws/a")),
            _ => panic!(),
        }
        match p(&["rm", "-f", "cells//ws/a", "ws/b", "cells:/x"])
            .unwrap()
            .command
        {
            Command::Rm(r) => assert_eq!(r.paths, ["ws/a", "ws/b", "cells:/x"]),
            _ => panic!(),
        }
        match p(&["mv", "cells://ws/a", "cells//ws/b"]).unwrap().command {
            Command::Mv(m) => {
                assert_eq!((m.sources, m.target), (vec!["ws/a".into()], "ws/b".into()))
            }
            _ => panic!(),
        }
        match p(&["cat", "cells//ws/a"]).unwrap().command {
            Command::Cat(c) => assert_eq!(c.sources, ["cells://ws/a"]),
            _ => panic!(),
        }
    }

    #[test]
    fn short_clusters() {
        match p(&["tools", "hash", "-rf", "x"]).unwrap().command {
            Command::Tools(ToolsCmd::Hash { file, raw, .. }) => {
                assert!(raw);
                assert_eq!(file, PathBuf::from("x"));
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
        assert_eq!(a.globals.url.unwrap().to_string(), "https://a.example");
        assert_eq!(a.globals.password.as_deref(), Some("pa=ss"));
        let b = p_env(
            &["ls", "--url", "https://c.example"],
            &[("CEC_URL", "https://a.example")],
        )
        .unwrap();
        assert_eq!(b.globals.url.unwrap().to_string(), "https://c.example");
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
            vec!["completion", "powershell"],
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
            Command::Version {
                format: None,
                json: false
            }
        ));
    }

    #[test]
    fn share_password_vs_global() {
        let a = p(&["--password", "g", "share", "x", "--password", "l"]).unwrap();
        assert_eq!(a.globals.password.as_deref(), Some("g"));
        match a.command {
            Command::Share(s) => assert_eq!(s.password, Some(LinkPassword::Argv("l".into()))),
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
                for f in c.all_flags() {
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
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("3"), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
