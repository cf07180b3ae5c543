//! The command line of a shell completion request (`cec __complete WORD... PARTIAL`),
//! walked against the command and flag definitions like the parser does, but
//! leniently: an unknown flag or a bad value does not stop the walk. The result tells
//! what the partial word is (a flag's value, a flag name, a sub-command or an
//! argument) and holds the global flags typed so far (`--config`, `--url`...).

use super::flags::{self, Flag};
use super::spec::{self, Cmd};
use super::{globals, resolve, EnvFn, Raw};
use crate::auth::GlobalArgs;

/// Where the word being completed stands.
pub struct Context {
    /// The (sub-)command the words select.
    pub cmd: &'static Cmd,
    /// The partial word is the value of this flag (`--log <TAB>`, `--log=<TAB>`).
    pub value_of: Option<&'static Flag>,
    /// The flags already on the line.
    pub given: Vec<&'static Flag>,
    /// The positional arguments before the partial word.
    pub args: Vec<String>,
    /// A `--` was seen: the partial word is an argument.
    pub dashdash: bool,
    /// The global flags given (and their environment variables), for a remote listing.
    pub globals: GlobalArgs,
}

/// Walk `words` (the words after `cec`, without the partial one).
pub fn context(words: &[String], env: EnvFn) -> Context {
    let mut cx = Context {
        cmd: spec::root(),
        value_of: None,
        given: Vec::new(),
        args: Vec::new(),
        dashdash: false,
        globals: GlobalArgs::default(),
    };
    let mut values: Vec<(&'static Flag, String)> = Vec::new();
    for w in words {
        if let Some(f) = cx.value_of.take() {
            values.push((f, w.clone()));
        } else if cx.dashdash || w == "-" || !w.starts_with('-') {
            positional(&mut cx, w);
        } else if w == "--" {
            cx.dashdash = true;
        } else if let Some(long) = w.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            if let Some(f) = find_long(cx.cmd, name) {
                cx.given.push(f);
                match (value, f.is_switch()) {
                    (Some(v), false) => values.push((f, v.to_string())),
                    (None, false) => cx.value_of = Some(f),
                    _ => {}
                }
            }
        } else {
            short_cluster(&mut cx, &w[1..], &mut values);
        }
    }
    let raw = Raw {
        cmd: cx.cmd,
        given: values,
        args: Vec::new(),
        help: false,
        version: false,
    };
    // Invalid values are skipped: completion never fails on what was typed before.
    if let Ok(v) = resolve(&raw, env, false) {
        cx.globals = globals(&raw, &v, env, false).unwrap_or_default();
    }
    cx
}

/// `-abc`, `-fFILE`: switches, then at most one flag taking a value.
fn short_cluster(cx: &mut Context, cluster: &str, values: &mut Vec<(&'static Flag, String)>) {
    for (i, c) in cluster.char_indices() {
        let Some(f) = find_short(cx.cmd, c) else {
            return;
        };
        cx.given.push(f);
        if !f.is_switch() {
            let rest = &cluster[i + c.len_utf8()..];
            if rest.is_empty() {
                cx.value_of = Some(f);
            } else {
                values.push((f, rest.trim_start_matches('=').to_string()));
            }
            return;
        }
    }
}

fn positional(cx: &mut Context, w: &str) {
    if cx.args.is_empty() && !cx.dashdash {
        if let Some(child) = cx.cmd.child(w) {
            cx.cmd = child;
            return;
        }
    }
    cx.args.push(w.to_string());
}

/// A long flag of `cmd` (or `--help`), by name or alias.
pub fn find_long(cmd: &Cmd, name: &str) -> Option<&'static Flag> {
    cmd.find_long(name)
        .or_else(|| (name == "help").then_some(&flags::HELP))
}

fn find_short(cmd: &Cmd, c: char) -> Option<&'static Flag> {
    cmd.find_short(c)
        .or_else(|| (c == 'h').then_some(&flags::HELP))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(words: &[&str]) -> Context {
        let w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        context(&w, &|_| None)
    }

    #[test]
    fn walks_like_the_parser() {
        let c = cx(&["--log", "debug", "config", "add"]);
        assert_eq!(c.cmd.path, "config add");
        assert!(c.value_of.is_none());
        let c = cx(&["scp", "-n", "--part-size"]);
        assert_eq!(c.cmd.path, "scp");
        assert_eq!(c.value_of.map(|f| f.long), Some("part-size"));
        let c = cx(&["tools", "hash", "-rf"]);
        assert_eq!(c.value_of.map(|f| f.long), Some("file"));
        let c = cx(&["ls", "--", "config"]);
        assert_eq!((c.cmd.path, c.args.len()), ("ls", 1));
        let c = cx(&["--config", "/tmp/x", "--url=http://h:81", "ls", "a"]);
        assert_eq!(
            c.globals.config_dir.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
        assert_eq!(
            c.globals.url.map(|u| u.to_string()).as_deref(),
            Some("http://h:81")
        );
        assert_eq!(c.args, ["a"]);
        // Nonsense never stops the walk.
        let c = cx(&["--nope", "-zz", "--log=bogus", "mv", "x"]);
        assert_eq!((c.cmd.path, c.args.len()), ("mv", 1));
    }
}
