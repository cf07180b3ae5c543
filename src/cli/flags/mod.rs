//! Every flag, defined once: names, value type and parser, allowed values,
//! range, default, environment variable, help text and completion. The parser
//! (`cli::parse`), the help (`commands::help`), the completion scripts
//! (`commands::completion`) and `cec doc` all read these definitions.
//!
//! This module holds the mechanism (a [`Flag`], the value parsers, [`Values`]);
//! `defs.rs` holds the flags themselves. A flag stores its parsed value in its
//! own typed field of [`Values`] through a setter, so a misspelled flag or field
//! is a compile error. (Model: ripgrep's `crates/core/flags/defs.rs`; statics
//! instead of one type per flag.)

use crate::config::ServerUrl;
use crate::output::log::LogLevel;
use crate::output::Template;
use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::types::{LinkPassword, MetaOp, TableFormat};
pub use crate::transfer::filter::Action as FilterAction;

mod defs;
pub use defs::*;

/// One flag of a command (or a global flag).
pub struct Flag {
    /// Long name without the leading `--`.
    pub long: &'static str,
    pub short: Option<char>,
    pub help: &'static str,
    pub takes: Takes,
    /// Environment variable read when the flag is not on the command line.
    pub env: Option<&'static str>,
    /// Applied when neither the flag nor its variable is given; parsed like a value.
    pub default: Option<&'static str>,
    /// Other spellings (legacy `part_size`, `--link-password`).
    pub aliases: &'static [Alias],
    /// Hidden flags are only shown in help when `CEC_DISPLAY_HIDDEN_FLAGS` is set.
    pub hidden: bool,
    /// Missing (or empty) is a usage error.
    pub required: bool,
    /// Every occurrence is stored (list flags), not only the last one.
    pub repeat: bool,
    /// What the value completes to (choices complete to themselves).
    pub complete: Complete,
}

/// Another spelling of a flag. Shown in help only when `shown` (or hidden flags are shown).
pub struct Alias {
    pub name: &'static str,
    pub shown: bool,
}

impl Alias {
    /// Help text: legacy underscore spellings, or plain synonyms.
    pub fn help(&self, flag: &Flag) -> String {
        if self.name.contains('_') && !flag.long.contains('_') {
            format!("Legacy spelling of --{}", flag.long)
        } else {
            format!("Same as --{}", flag.long)
        }
    }
}

/// What a flag takes.
pub enum Takes {
    /// A switch: `--x`, `--x=false`; from the environment 1, t, true, y, yes, on mean true.
    Switch(fn(&mut Values, bool)),
    /// A value (placeholder shown in help, e.g. `MIB`) and its parser.
    Value(&'static str, &'static dyn Parse),
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Argv,
    Env,
    Default,
}

/// Parses a flag value and stores it in its field of [`Values`].
pub trait Parse: Sync {
    /// Parse `s` and store it; the error is the reason, to follow
    /// "invalid value 'S' for --flag: ".
    fn set(&self, v: &mut Values, s: &str, from: Origin) -> Result<(), String>;
    /// The allowed words, for help and completion (empty: any value).
    fn words(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// Valid and invalid sample values, for the test that walks every flag.
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>);
}

/// What a positional argument or a flag value completes to in shell completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    /// Local files.
    Files,
    /// Local directories.
    Dirs,
    /// Remote paths (`cec ls --raw`).
    Remote,
    /// `cells//`-prefixed remote paths or local files (scp).
    Scp,
}

impl Flag {
    pub fn is_switch(&self) -> bool {
        matches!(self.takes, Takes::Switch(_))
    }

    /// The value placeholder (`None` for switches).
    pub fn placeholder(&self) -> Option<&'static str> {
        match self.takes {
            Takes::Switch(_) => None,
            Takes::Value(p, _) => Some(p),
        }
    }

    /// Allowed words of a choice flag.
    pub fn words(&self) -> Vec<&'static str> {
        match self.takes {
            Takes::Switch(_) => Vec::new(),
            Takes::Value(_, p) => p.words(),
        }
    }

    /// Whether `name` (without dashes) is this flag's long name or an alias.
    pub fn named(&self, name: &str) -> bool {
        self.long == name || self.aliases.iter().any(|a| a.name == name)
    }

    /// Help text with the choices: "Output format: table or json".
    pub fn help_text(&self) -> String {
        let words = self.words();
        if words.is_empty() {
            self.help.to_string()
        } else {
            format!("{}: {}", self.help, one_of(&words, "or"))
        }
    }

    /// The help rows of this flag and its aliases: (`-s, --long VALUE`, description).
    /// `with_env` adds ` [env VAR]`.
    pub fn rows(&self, show_hidden: bool, with_env: bool) -> Vec<(String, String)> {
        if self.hidden && !show_hidden {
            return Vec::new();
        }
        let mut right = self.help_text();
        if let Some(d) = self.default {
            right.push_str(&format!(" (default {d})"));
        }
        if let (true, Some(env)) = (with_env, self.env) {
            right.push_str(&format!(" [env {env}]"));
        }
        let mut rows = vec![(self.left(self.short, self.long), right)];
        for a in self.aliases.iter().filter(|a| a.shown || show_hidden) {
            rows.push((self.left(None, a.name), a.help(self)));
        }
        rows
    }

    fn left(&self, short: Option<char>, long: &str) -> String {
        let mut left = match short {
            Some(c) => format!("-{c}, --{long}"),
            None => format!("    --{long}"),
        };
        if let Some(p) = self.placeholder() {
            left.push(' ');
            left.push_str(p);
        }
        left
    }
}

/// Store the defaults of `flags` (for a command that runs with another one's defaults).
pub fn apply_defaults(v: &mut Values, flags: &[&Flag]) {
    for f in flags {
        if let (Some(d), Takes::Value(_, parse)) = (f.default, &f.takes) {
            // Every default parses: the walk test checks it.
            let _ = parse.set(v, d, Origin::Default);
        }
    }
}

/// "a, b or c".
pub fn one_of(words: &[&str], last: &str) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., end] => format!("{} {last} {end}", init.join(", ")),
    }
}

/// Every flag value of the command line, typed; filled by the setters of the
/// flag definitions (command line > environment > default), then turned into
/// the command's arguments (`cli::types`) by its builder.
#[derive(Debug, Clone, Default)]
pub struct Values {
    // global
    /// Parsed here; an invalid URL is an error only for the commands that use it.
    pub url: Option<Result<ServerUrl, String>>,
    pub token: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub skip_verify: Option<bool>,
    pub skip_keyring: bool,
    pub no_cache: bool,
    pub config_dir: Option<PathBuf>,
    pub log: LogLevel,
    // shared by several commands
    pub force: bool,
    pub raw: bool,
    pub quiet: bool,
    pub dry_run: bool,
    pub table_format: TableFormat,
    // config add oauth, config relog
    pub id_token: Option<String>,
    pub port: u16,
    pub no_pkce: bool,
    pub no_browser: bool,
    pub login_timeout: Duration,
    // cp, mv
    pub job_timeout: Duration,
    // doc
    pub doc_dir: Option<PathBuf>,
    pub menu: String,
    // idm list-acls
    pub uuids: Vec<String>,
    pub delete: bool,
    // jobs
    pub jobs_get_format: Option<TableFormat>,
    pub filter: Option<String>,
    pub job_id: Option<String>,
    // ls
    pub details: bool,
    pub exists: bool,
    pub ls_format: Option<Template>,
    pub json: bool,
    // meta
    pub meta_path: Option<String>,
    pub all: bool,
    pub namespace: Option<String>,
    pub operation: Option<MetaOp>,
    pub string_value: Option<String>,
    pub json_value: Option<String>,
    pub numeric_value: Option<i64>,
    pub boolean_value: Option<bool>,
    // rm
    pub permanently: bool,
    // share
    pub link_password: Option<LinkPassword>,
    pub password_file: Option<PathBuf>,
    pub ask_password: bool,
    pub expire_days: Option<u32>,
    pub max_downloads: Option<u32>,
    // scp
    pub no_progress: bool,
    pub verbose: bool,
    pub very_verbose: bool,
    pub part_size_mib: u64,
    pub parts_concurrency: usize,
    pub files_concurrency: usize,
    pub multipart_threshold_mib: u64,
    pub max_parts_number: u64,
    pub retry_max_attempts: u32,
    pub retry_max_backoff: Duration,
    pub skip_md5: bool,
    pub follow_links: bool,
    pub fail_fast: bool,
    // scp, sync
    pub parents: bool,
    // sync
    /// Position of the value being set among the flags given (see `cli::apply`).
    pub position: usize,
    /// `--include`/`--exclude` rules with their positions (sorted by the builder).
    pub filter_rules: Vec<(usize, FilterAction, String)>,
    pub sync_delete: bool,
    pub checksum: bool,
    pub size_only: bool,
    pub max_age: Option<Duration>,
    pub bwlimit: Option<u64>,
    // ls
    pub recursive: bool,
    // tools hash
    pub file: Option<PathBuf>,
    // update
    pub update_version: Option<String>,
    pub dev: bool,
    pub rollback: bool,
    // version
    pub version_format: Option<Template>,
}

// ------------------------------------------------------------ value parsers

/// Any text (empty included).
pub struct Text(pub fn(&mut Values, String));

impl Parse for Text {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        (self.0)(v, s.to_string());
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (vec!["x1".into(), "x2".into()], vec![])
    }
}

/// Text; an empty value counts as not given.
pub struct Opt(pub fn(&mut Values, String));

impl Parse for Opt {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        if !s.is_empty() {
            (self.0)(v, s.to_string());
        }
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (vec!["x1".into(), "x2".into()], vec![])
    }
}

/// A server URL, parsed; the parse error is kept for the command to judge.
/// An empty value counts as not given.
pub struct UrlArg(pub fn(&mut Values, Result<ServerUrl, String>));

impl Parse for UrlArg {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        if !s.is_empty() {
            (self.0)(v, ServerUrl::parse(s));
        }
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (
            vec!["https://x.example".into(), "http://127.0.0.1:8080".into()],
            vec![
                "ftp://x".into(),
                "not a url".into(),
                "http://h:99999".into(),
            ],
        )
    }
}

/// A local path; an empty value counts as not given.
pub struct PathArg(pub fn(&mut Values, PathBuf));

impl Parse for PathArg {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        if !s.is_empty() {
            (self.0)(v, PathBuf::from(s));
        }
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (vec!["some/dir".into(), "other/dir".into()], vec![])
    }
}

/// A secret: the setter learns whether it was typed on the command line.
pub struct Secret(pub fn(&mut Values, String, Origin));

impl Parse for Secret {
    fn set(&self, v: &mut Values, s: &str, from: Origin) -> Result<(), String> {
        if s.is_empty() {
            return Err("it cannot be empty".into());
        }
        (self.0)(v, s.to_string(), from);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (vec!["s3cret".into(), "other".into()], vec!["".into()])
    }
}

/// A whole number in `min..=max`, a multiple of `step` when set.
pub struct Num<T: 'static> {
    pub min: T,
    pub max: T,
    pub step: Option<T>,
    pub set: fn(&mut Values, T),
}

impl<T> Parse for Num<T>
where
    T: FromStr + PartialOrd + Display + Copy + Sync + std::ops::Rem<Output = T> + Default,
{
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        let n: T = s
            .trim()
            .parse()
            .map_err(|_| "expected a whole number".to_string())?;
        if n < self.min || n > self.max {
            return Err(format!(
                "expected a number from {} to {}",
                self.min, self.max
            ));
        }
        if let Some(step) = self.step {
            if n % step != T::default() {
                return Err(format!("it must be a multiple of {step}"));
            }
        }
        (self.set)(v, n);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        let n = |t: T| t.to_string().parse::<i128>().unwrap();
        let (min, max) = (n(self.min), n(self.max));
        let mut bad: Vec<String> = vec!["abc".into(), "1.5".into(), "".into()];
        bad.push((min - 1).to_string());
        bad.push((max + 1).to_string());
        if self.step.is_some() {
            bad.push((min + 1).to_string());
        }
        (vec![self.max.to_string(), self.min.to_string()], bad)
    }
}

/// One word of a list; several words may mean the same value (`warn`, `warning`):
/// the first one is the one listed.
pub struct Choice<T: 'static> {
    pub words: &'static [(&'static str, T)],
    /// Case and surrounding spaces ignored.
    pub fold: bool,
    pub set: fn(&mut Values, T),
}

impl<T: Copy + PartialEq + Sync> Parse for Choice<T> {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        let s = if self.fold {
            s.trim().to_ascii_lowercase()
        } else {
            s.to_string()
        };
        match self.words.iter().find(|(w, _)| *w == s) {
            Some((_, t)) => {
                (self.set)(v, *t);
                Ok(())
            }
            None => Err(format!("expected {}", one_of(&self.words(), "or"))),
        }
    }
    fn words(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for (i, (w, t)) in self.words.iter().enumerate() {
            if !self.words[..i].iter().any(|(_, u)| u == t) {
                out.push(w);
            }
        }
        out
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        let good = self.words.iter().map(|(w, _)| w.to_string()).collect();
        (good, vec!["bogus".into(), "".into()])
    }
}

/// A Go-style duration: "3s", "500ms", "1m30s".
pub struct Dur(pub fn(&mut Values, Duration));

impl Parse for Dur {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        let d = super::parse_duration(s)
            .ok_or_else(|| "expected a duration like 3s, 500ms or 1m".to_string())?;
        (self.0)(v, d);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (
            vec!["1m30s".into(), "500ms".into()],
            vec!["soon".into(), "3".into(), "3 parsecs".into()],
        )
    }
}

/// An age: a duration (`90s`, `12h`, `1h30m`) or days and weeks (`7d`, `2w`).
pub struct Age(pub fn(&mut Values, Duration));

/// [`Age`]'s parser.
pub fn parse_age(s: &str) -> Option<Duration> {
    let s = s.trim();
    for (unit, secs) in [('d', 86_400u64), ('w', 7 * 86_400)] {
        if let Some(n) = s.strip_suffix(unit) {
            let n: u64 = n.parse().ok()?;
            return n.checked_mul(secs).map(Duration::from_secs);
        }
    }
    super::parse_duration(s)
}

impl Parse for Age {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        let d =
            parse_age(s).ok_or_else(|| "expected an age like 7d, 12h, 90m or 2w".to_string())?;
        (self.0)(v, d);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (
            vec!["7d".into(), "12h".into(), "2w".into(), "1h30m".into()],
            vec!["soon".into(), "7".into(), "d".into(), "-1d".into()],
        )
    }
}

/// A rate in bytes per second: `500K`, `10M`, `1G` (powers of 1024, a `B`
/// or `/s` may follow), a plain number of bytes; `0` or `off` for no limit.
pub struct Rate(pub fn(&mut Values, Option<u64>));

/// [`Rate`]'s parser (`Some(None)`: no limit).
pub fn parse_rate(s: &str) -> Option<Option<u64>> {
    let t = s.trim().trim_end_matches("/s").trim_end_matches(['B', 'b']);
    if t.eq_ignore_ascii_case("off") || t == "0" {
        return Some(None);
    }
    let (num, mult) = match t.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return None,
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n > 0.0)?;
    let bytes = n * mult as f64;
    (1.0..1e15).contains(&bytes).then_some(Some(bytes as u64))
}

impl Parse for Rate {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        let r = parse_rate(s).ok_or_else(|| {
            "expected a rate like 500K, 10M or 1G (bytes per second), or off".to_string()
        })?;
        (self.0)(v, r);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (
            vec![
                "10M".into(),
                "500K".into(),
                "1.5M".into(),
                "4096".into(),
                "off".into(),
            ],
            vec!["fast".into(), "10X".into(), "-1M".into(), "".into()],
        )
    }
}

/// A filter rule (`--include`/`--exclude`), checked when given.
pub struct Rule(pub FilterAction);

impl Parse for Rule {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        crate::transfer::filter::Filter::default().add(self.0, s)?;
        v.filter_rules.push((v.position, self.0, s.to_string()));
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (
            vec!["*.log".into(), "/cache/".into(), "**/tmp/**".into()],
            vec!["[ab".into(), "/".into()],
        )
    }
}

/// JSON text (a JSON object when `object`), stored as given.
pub struct Json {
    pub object: bool,
    pub set: fn(&mut Values, String),
}

impl Parse for Json {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Object(_)) => {}
            Ok(_) if !self.object => {}
            _ if self.object => {
                return Err(
                    r#"expected a JSON object like {"owner":{"op":"eq","value":"admin"}}"#.into(),
                )
            }
            _ => return Err("expected JSON".into()),
        }
        (self.set)(v, s.to_string());
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        let mut bad = vec!["{not json".to_string(), "".into()];
        if self.object {
            bad.push("[1]".into());
        }
        (vec![r#"{"a":1}"#.into()], bad)
    }
}

/// A template with `{{.Field}}` placeholders among `fields`.
pub struct Tpl {
    pub fields: &'static [&'static str],
    pub set: fn(&mut Values, Template),
}

impl Parse for Tpl {
    fn set(&self, v: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        (self.set)(v, Template::parse(s, self.fields)?);
        Ok(())
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        let good = format!("{{{{.{}}}}}", self.fields[0]);
        (vec![good], vec!["{{.Nope}}".into(), "{{.".into()])
    }
}

/// `|`-separated words from a list, checked and otherwise ignored.
pub struct Ignored(pub &'static [&'static str]);

impl Parse for Ignored {
    fn set(&self, _: &mut Values, s: &str, _: Origin) -> Result<(), String> {
        match s
            .split('|')
            .map(str::trim)
            .find(|w| !w.is_empty() && !self.0.contains(w))
        {
            Some(w) => Err(format!("unknown log category '{w}'")),
            None => Ok(()),
        }
    }
    #[cfg(test)]
    fn samples(&self) -> (Vec<String>, Vec<String>) {
        (vec![self.0[0].into()], vec!["bogus".into()])
    }
}
