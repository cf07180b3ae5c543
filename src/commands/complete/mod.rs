//! Hidden `cec __complete WORD... PARTIAL` and `cec __completeNoDesc ...`: cobra's
//! completion protocol, so that the scripts of `cec completion` and those generated
//! by the reference client complete with this binary.
//!
//! The answer is one candidate per line (`value<TAB>description` for `__complete`),
//! then `:<directive>`, cobra's `ShellCompDirective` bits: 1 error (complete
//! nothing), 2 no space after the candidate, 4 no file completion, 16 directories
//! only; 0 lets the shell complete file names. Candidates come from the command and
//! flag definitions (`cli::spec`, `cli::flags`), remote paths from [`remote`], which
//! never asks anything and answers from a short-lived cache.

pub mod remote;

use crate::cli::complete::{self, Context};
use crate::cli::flags::{self, Complete, Flag};
use crate::cli::spec;
use crate::error::Result;
use crate::output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const ERROR: u32 = 1;
pub const NO_SPACE: u32 = 2;
pub const NO_FILE_COMP: u32 = 4;
pub const FILTER_DIRS: u32 = 16;

/// The remote side of `scp` in a completable form (`cells://` splits words in bash).
const SCP_PREFIX: &str = "cells//";
/// Local names offered at most for one word.
const MAX_LOCAL: usize = 1000;

/// Candidates (value, description) and the directive.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    pub items: Vec<(String, String)>,
    pub directive: u32,
}

impl Answer {
    fn none(directive: u32) -> Answer {
        Answer {
            items: Vec::new(),
            directive,
        }
    }
    fn values(values: Vec<String>, directive: u32) -> Answer {
        Answer {
            items: values.into_iter().map(|v| (v, String::new())).collect(),
            directive,
        }
    }
}

/// The longest a TAB may wait for cec, whatever the server does (endless pages...).
const DEADLINE: Duration = Duration::from_secs(5);

pub fn run(words: &[String], descriptions: bool) -> Result<()> {
    let (partial, before) = match words.split_last() {
        Some((p, b)) => (p.as_str(), b),
        None => ("", &[][..]),
    };
    let mut cx = complete::context(before, &|k| std::env::var(k).ok());
    cx.globals.quiet = true;
    crate::api::http::limit_timeouts(remote::TIMEOUT);
    // Whoever finishes first answers: the completion, or the watchdog with "nothing".
    static ANSWERED: AtomicBool = AtomicBool::new(false);
    std::thread::spawn(|| {
        std::thread::sleep(DEADLINE);
        if !ANSWERED.swap(true, Ordering::SeqCst) {
            errln!("cec: no completion within {} s", DEADLINE.as_secs());
            output::print_out(&render(&Answer::none(ERROR), false));
            std::process::exit(0);
        }
    });
    let text = render(&answer(&cx, partial), descriptions);
    if !ANSWERED.swap(true, Ordering::SeqCst) {
        output::print_out(&text);
    }
    Ok(())
}

/// The protocol's text: candidates (one line each, never a control character), then
/// the directive.
pub fn render(a: &Answer, descriptions: bool) -> String {
    let mut out = String::new();
    for (v, d) in &a.items {
        if v.is_empty() || v.chars().any(char::is_control) {
            continue;
        }
        out.push_str(v);
        let d = d.lines().next().unwrap_or("").trim();
        if descriptions && !d.is_empty() && !d.chars().any(char::is_control) {
            out.push('\t');
            out.push_str(d);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{}\n", a.directive));
    out
}

/// What the partial word completes to.
pub fn answer(cx: &Context, partial: &str) -> Answer {
    if let Some(f) = cx.value_of {
        return flag_value(cx, f, partial, "");
    }
    if !cx.dashdash && partial.starts_with('-') {
        if let Some((name, value)) = partial.strip_prefix("--").and_then(|p| p.split_once('=')) {
            return match complete::find_long(cx.cmd, name) {
                Some(f) if !f.is_switch() => flag_value(cx, f, value, &format!("--{name}=")),
                _ => Answer::none(NO_FILE_COMP),
            };
        }
        return flag_names(cx, partial);
    }
    if cx.cmd.path == "help" {
        return help_topics(cx, partial);
    }
    let mut a = Answer::none(NO_FILE_COMP);
    if cx.args.is_empty() && !cx.dashdash {
        a.items = cx
            .cmd
            .children()
            .filter(|c| !c.hidden && c.name().starts_with(partial))
            .map(|c| (c.name().to_string(), c.short.to_string()))
            .collect();
    }
    if cx.cmd.runnable() && cx.args.len() < cx.cmd.max_args {
        let more = kind(cx, cx.cmd.complete, partial, "");
        if a.items.is_empty() {
            a.directive = more.directive;
        }
        a.items.extend(more.items);
    }
    a
}

fn flag_names(cx: &Context, partial: &str) -> Answer {
    let given = |f: &Flag| cx.given.iter().any(|g| std::ptr::eq(*g, f));
    let items = cx
        .cmd
        .all_flags()
        .chain([&flags::HELP])
        .filter(|f| f.repeat || !given(f))
        .flat_map(|f| {
            super::completion::offered(f)
                .into_iter()
                .filter(|n| n.starts_with(partial))
                .map(|n| (n, f.help_text()))
                .collect::<Vec<_>>()
        })
        .collect();
    Answer {
        items,
        directive: NO_FILE_COMP,
    }
}

/// The value of flag `f`; `prefix` (`--flag=`) is put back in front of each candidate.
fn flag_value(cx: &Context, f: &Flag, partial: &str, prefix: &str) -> Answer {
    let words = f.words();
    if !words.is_empty() {
        let v = words
            .iter()
            .filter(|w| w.starts_with(partial))
            .map(|w| format!("{prefix}{w}"))
            .collect();
        return Answer::values(v, NO_FILE_COMP);
    }
    kind(cx, f.complete, partial, prefix)
}

fn kind(cx: &Context, c: Complete, partial: &str, prefix: &str) -> Answer {
    match c {
        Complete::Nothing => Answer::none(NO_FILE_COMP),
        Complete::Files => Answer::none(0),
        Complete::Dirs => Answer::none(FILTER_DIRS),
        Complete::Remote => remote_answer(cx, partial, prefix),
        Complete::Scp => scp(cx, partial),
    }
}

/// `scp` arguments: remote paths after `cells//` (or `cells://`), else local files;
/// a word that may become `cells//` gets it offered beside the local names.
fn scp(cx: &Context, partial: &str) -> Answer {
    for pre in ["cells://", SCP_PREFIX] {
        if let Some(word) = partial.strip_prefix(pre) {
            return remote_answer(cx, word, pre);
        }
    }
    if partial.is_empty() || !SCP_PREFIX.starts_with(partial) {
        return Answer::none(0);
    }
    let mut v = vec![SCP_PREFIX.to_string()];
    v.extend(local_entries(partial));
    Answer::values(v, NO_SPACE | NO_FILE_COMP)
}

fn remote_answer(cx: &Context, word: &str, prefix: &str) -> Answer {
    match remote::candidates(&cx.globals, word) {
        Ok(found) => Answer::values(
            found.into_iter().map(|c| format!("{prefix}{c}")).collect(),
            NO_SPACE | NO_FILE_COMP,
        ),
        Err(e) => {
            // Scripts discard stderr; someone running it by hand sees why.
            errln!("cec: no remote completion: {e}");
            Answer::none(ERROR)
        }
    }
}

/// `help COMMAND...`: the sub-commands of the path typed so far.
fn help_topics(cx: &Context, partial: &str) -> Answer {
    let mut cmd = spec::root();
    for a in &cx.args {
        match cmd.child(a) {
            Some(c) => cmd = c,
            None => return Answer::none(NO_FILE_COMP),
        }
    }
    let items = cmd
        .children()
        .filter(|c| !c.hidden && c.name().starts_with(partial))
        .map(|c| (c.name().to_string(), c.short.to_string()))
        .collect();
    Answer {
        items,
        directive: NO_FILE_COMP,
    }
}

/// Local names starting with `partial` (folders end with `/`; hidden ones only when
/// asked for with a leading dot), sorted.
fn local_entries(partial: &str) -> Vec<String> {
    let (dir, base) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let Ok(rd) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let wanted =
                name.starts_with(base) && (base.starts_with('.') || !name.starts_with('.'));
            if !wanted {
                return None;
            }
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(format!("{dir}{name}{}", if is_dir { "/" } else { "" }))
        })
        .take(MAX_LOCAL)
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(line: &[&str]) -> Answer {
        let (partial, before) = line.split_last().unwrap();
        let words: Vec<String> = before.iter().map(|s| s.to_string()).collect();
        let cx = complete::context(&words, &|_| None);
        answer(&cx, partial)
    }

    fn values(a: &Answer) -> Vec<&str> {
        a.items.iter().map(|(v, _)| v.as_str()).collect()
    }

    #[test]
    fn commands_flags_and_choices() {
        let a = ask(&["con"]);
        assert_eq!(values(&a), ["config"]);
        assert_eq!(a.directive, NO_FILE_COMP);
        assert!(a.items[0].1.contains("authentication profiles"));
        assert_eq!(values(&ask(&["completion", ""])), ["bash", "fish", "zsh"]);
        let a = ask(&["scp", "--no-p"]);
        assert_eq!(values(&a), ["--no-progress"]);
        let a = ask(&["--log", "d"]);
        assert_eq!((values(&a), a.directive), (vec!["debug"], NO_FILE_COMP));
        assert_eq!(values(&ask(&["ls", "--log=w"])), ["--log=warn"]);
        // A flag already given is not offered again.
        assert!(!values(&ask(&["ls", "--raw", "--r"])).contains(&"--raw"));
        assert_eq!(ask(&["tools", "hash", "-f", ""]).directive, 0);
        assert_eq!(ask(&["doc", "--path", ""]).directive, FILTER_DIRS);
        assert_eq!(ask(&["scp", "--part-size", ""]).directive, NO_FILE_COMP);
        assert_eq!(values(&ask(&["help", "config", "r"])), ["relog", "rm"]);
        // Hidden commands are not offered.
        assert!(values(&ask(&[""]))
            .iter()
            .all(|c| *c != "tools" && *c != "configure"));
    }

    #[test]
    fn scp_words() {
        assert_eq!(ask(&["scp", "./x"]).directive, 0);
        assert_eq!(ask(&["scp", ""]).directive, 0);
        let a = ask(&["scp", "cel"]);
        assert_eq!(values(&a)[0], "cells//");
        assert_eq!(a.directive, NO_SPACE | NO_FILE_COMP);
    }

    #[test]
    fn protocol_text() {
        let a = Answer {
            items: vec![
                ("a".into(), "first\nsecond".into()),
                ("bad\nname".into(), String::new()),
                ("b".into(), String::new()),
            ],
            directive: 6,
        };
        assert_eq!(render(&a, true), "a\tfirst\nb\n:6\n");
        assert_eq!(render(&a, false), "a\nb\n:6\n");
    }
}
