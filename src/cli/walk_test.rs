//! Walks the whole command table: every command parses; every flag parses its
//! documented forms (long, `=value`, short, aliases, environment variable) to
//! the same result, applies its default, rejects bad values with a one-line
//! usage error naming it, and shows in help, completion and `doc` as defined.

use super::flags::{self, Flag, Takes};
use super::spec::{self, Cmd};
use super::*;
use crate::commands::{completion, doc, help};

type Env<'a> = &'a [(&'a str, &'a str)];

fn parse(args: &[String], env: Env) -> Result<Invocation> {
    let lookup = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    parse_with_env(args.iter().map(OsString::from), &lookup)
}

/// The parsed invocation as text, to compare two command lines.
fn outcome(args: &[String], env: Env) -> String {
    match parse(args, env) {
        Ok(inv) => format!("{inv:?}"),
        Err(e) => panic!("{args:?} {env:?}: {e}"),
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Flags that are accepted and change nothing (documented as such).
fn ignored(f: &Flag) -> bool {
    std::ptr::eq(f, &flags::PARENTS) || std::ptr::eq(f, &flags::MULTIPART_DEBUG_FLAGS)
}

fn samples(f: &Flag) -> (Vec<String>, Vec<String>) {
    match &f.takes {
        Takes::Switch(_) => (vec![], vec![]),
        Takes::Value(_, p) => p.samples(),
    }
}

/// A command line that runs `cmd`: its arguments, its required flags, and
/// what the rules between flags (`cli::build`) need when testing `testing`.
fn base(cmd: &Cmd, testing: &Flag) -> Vec<String> {
    let mut v = words(cmd.path);
    v.extend((0..cmd.min_args).map(|i| format!("arg{i}")));
    for f in cmd.flags.iter().filter(|f| f.required) {
        v.push(format!("--{}", f.long));
        v.push(samples(f).0[0].clone());
    }
    let extra: &[&str] = match (cmd.path, testing.long) {
        ("meta get", _) => &["--path", "p"],
        ("meta set", "operation") => &["--path", "p", "--string-value", "x"],
        ("meta set", _) => &["--path", "p", "--operation", "delete"],
        ("idm list-acls", _) => &["--uuid", "u"],
        _ => &[],
    };
    v.extend(s(extra));
    v
}

fn with(base: &[String], more: &[String]) -> Vec<String> {
    base.iter().chain(more).cloned().collect()
}

#[track_caller]
fn assert_usage(args: &[String], env: Env, names: &str) {
    let e = parse(args, env).expect_err(&format!("{args:?} {env:?} must fail"));
    let msg = e.to_string();
    assert_eq!(e.code(), 2, "{args:?} {env:?}: {msg}");
    assert!(!msg.contains('\n'), "{args:?}: {msg}");
    assert!(
        msg.contains(names),
        "{args:?} {env:?}: '{msg}' does not name {names}"
    );
}

/// The field of the parsed invocation where `before` and `after` first differ.
fn changed_field(before: &str, after: &str) -> String {
    let at = before
        .bytes()
        .zip(after.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(before.len().min(after.len()));
    let head = &after[..at];
    let mut from = head.len();
    while let Some(i) = head[..from].rfind(": ") {
        let ident: String = head[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let before_ident = head[..i - ident.len()].trim_end().chars().last();
        if !ident.is_empty() && matches!(before_ident, Some('{') | Some(',')) {
            return ident.chars().rev().collect();
        }
        from = i;
    }
    String::new()
}

/// A flag sets the field named after it (`--part-size` → `part_size_mib`).
#[track_caller]
fn assert_field(f: &Flag, before: &str, after: &str) {
    let want = match f.long {
        "uuid" => "nodes".to_string(),
        // sync: the two rule flags make one ordered list, the two modes one choice.
        "include" | "exclude" => "rules".into(),
        "checksum" | "size-only" => "compare".into(),
        "password-file" | "ask-password" => "password".into(),
        l if l.ends_with("-value") => "value".into(),
        l => l.replace('-', "_"),
    };
    let got = changed_field(before, after);
    assert!(
        got.starts_with(&want),
        "--{} changed '{got}', not '{want}...'",
        f.long
    );
}

fn check_switch(cmd: &Cmd, f: &Flag) {
    let b = base(cmd, f);
    let on = outcome(&with(&b, &[format!("--{}", f.long)]), &[]);
    if !ignored(f) {
        assert_ne!(
            on,
            outcome(&b, &[]),
            "{} --{} changes nothing",
            cmd.path,
            f.long
        );
        assert_field(f, &outcome(&b, &[]), &on);
    }
    let mut forms = vec![vec![format!("--{}=true", f.long)]];
    forms.extend(f.short.map(|c| vec![format!("-{c}")]));
    forms.extend(f.aliases.iter().map(|a| vec![format!("--{}", a.name)]));
    for form in forms {
        assert_eq!(outcome(&with(&b, &form), &[]), on, "{} {form:?}", cmd.path);
    }
    if let Some(env) = f.env {
        for yes in ["1", "true", "T", "yes"] {
            assert_eq!(outcome(&b, &[(env, yes)]), on, "{env}={yes}");
        }
        assert_eq!(outcome(&b, &[(env, "perhaps")]), outcome(&b, &[]), "{env}");
    }
    let off = outcome(&with(&b, &[format!("--{}=false", f.long)]), &[]);
    if std::ptr::eq(f, &flags::BOOLEAN_VALUE) {
        // The value false, documented in its help.
        assert!(off != on && off != outcome(&b, &[]), "{off}");
    } else {
        assert_eq!(off, outcome(&b, &[]), "{} --{}=false", cmd.path, f.long);
    }
    assert_usage(
        &with(&b, &[format!("--{}=maybe", f.long)]),
        &[],
        &format!("--{}", f.long),
    );
}

fn check_value(cmd: &Cmd, f: &Flag) {
    let b = base(cmd, f);
    let long = format!("--{}", f.long);
    let (good, bad) = samples(f);
    let plain = outcome(&b, &[]);
    let mut changed = false;
    for g in &good {
        let given = outcome(&with(&b, &[long.clone(), g.clone()]), &[]);
        if given != plain {
            changed = true;
            assert_field(f, &plain, &given);
        }
        let mut forms = vec![vec![format!("{long}={g}")]];
        forms.extend(f.short.map(|c| vec![format!("-{c}"), g.clone()]));
        forms.extend(
            f.aliases
                .iter()
                .map(|a| vec![format!("--{}", a.name), g.clone()]),
        );
        for form in forms {
            assert_eq!(
                outcome(&with(&b, &form), &[]),
                given,
                "{} {form:?}",
                cmd.path
            );
        }
        if let Some(env) = f.env {
            // The only flag that tells apart where its value came from.
            let want = given.replace("Argv(", "Env(");
            assert_eq!(outcome(&b, &[(env, g)]), want, "{} {env}={g}", cmd.path);
        }
    }
    assert!(changed || ignored(f), "{} {long} changes nothing", cmd.path);
    for x in &bad {
        assert_usage(&with(&b, &[long.clone(), x.clone()]), &[], &long);
        if let (Some(env), false) = (f.env, x.is_empty()) {
            assert_usage(&b, &[(env, x)], env);
        }
    }
    if let Some(d) = f.default {
        let explicit = outcome(&with(&b, &[long.clone(), d.to_string()]), &[]);
        assert_eq!(explicit, plain, "{} default of {long}", cmd.path);
    }
    if f.required {
        let mut without = b.clone();
        let at = without.iter().position(|a| *a == long).unwrap();
        without.drain(at..at + 2);
        assert_usage(&without, &[], &long);
        assert_usage(&with(&without, &[long.clone(), String::new()]), &[], &long);
    }
    if f.repeat {
        let twice = with(
            &b,
            &[long.clone(), good[0].clone(), long.clone(), "r2".into()],
        );
        assert_ne!(
            outcome(&twice, &[]),
            outcome(&with(&b, &[long, "r2".into()]), &[])
        );
    }
}

/// Whitespace runs as one space (help wraps long lines).
fn squash(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_shown(cmd: &Cmd, f: &Flag) {
    let help = squash(&help::render(cmd));
    let doc = squash(&doc::markdown(cmd));
    for (left, right) in f.rows(false, true) {
        assert!(
            help.contains(&squash(&format!("{left} {right}"))),
            "help of '{}' lacks: {left} {right}",
            cmd.path
        );
    }
    for (left, right) in f.rows(false, false) {
        assert!(
            doc.contains(&squash(&format!("{left} {right}"))),
            "doc of '{}' lacks: {left} {right}",
            cmd.path
        );
    }
    for (left, _) in f.rows(true, true).iter().skip(f.rows(false, true).len()) {
        assert!(!help.contains(&squash(left)), "hidden {left} in help");
    }
    if f.hidden {
        assert!(
            !help.contains(&format!("--{} ", f.long)),
            "hidden --{} in help",
            f.long
        );
    }
    for script in [completion::bash(), completion::zsh()] {
        check_completion(&script, cmd, f);
    }
}

/// The line for `cmd` in one of the `case` tables of a completion script.
fn table_line<'a>(script: &'a str, table: &str, key: &str) -> Option<&'a str> {
    let start = script.find(&format!("{table}() {{"))?;
    let end = script[start..].find("\n}\n")? + start;
    script[start..end]
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{key}\"")))
}

fn check_completion(script: &str, cmd: &Cmd, f: &Flag) {
    let line = table_line(script, "_cec_flags", cmd.path).unwrap_or("");
    let offered: Vec<&str> = line
        .split('"')
        .nth(3)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    for name in completion::offered(f) {
        assert!(
            offered.contains(&name.as_str()),
            "completion of '{}' lacks {name}",
            cmd.path
        );
    }
    for a in f.aliases.iter().filter(|a| !a.shown) {
        let name = format!("--{}", a.name);
        assert!(
            !offered.contains(&name.as_str()),
            "completion offers hidden {name}"
        );
    }
    if f.is_switch() {
        return;
    }
    let key = format!("{}|--{}", cmd.path, f.long);
    let kind = table_line(script, "_cec_flagkind", &key)
        .unwrap_or_else(|| panic!("no completion kind for {key}"));
    let want = format!("echo \"{}\";;", completion::value_kind(f));
    assert!(kind.ends_with(&want), "{kind} (want {want})");
    for a in f.aliases {
        assert!(
            kind.contains(&format!("\"{}|--{}\"", cmd.path, a.name)),
            "{kind}"
        );
    }
}

#[test]
fn every_command_parses() {
    for cmd in spec::COMMANDS {
        let args = base(cmd, &flags::HELP);
        if cmd.needs_sub {
            assert_usage(&args, &[], "missing sub-command");
            continue;
        }
        let out = outcome(&args, &[]);
        if !cmd.runnable() {
            assert!(out.contains("command: Help"), "{out}");
        }
    }
}

#[test]
fn every_flag_of_every_command() {
    let mut checked = 0;
    for cmd in spec::COMMANDS.iter().filter(|c| c.runnable()) {
        for f in cmd.flags {
            if f.is_switch() {
                check_switch(cmd, f);
            } else {
                check_value(cmd, f);
            }
            checked += 1;
        }
    }
    assert!(checked > 80, "only {checked} flags checked");
}

#[test]
fn every_global_flag() {
    let ls = spec::find("ls").unwrap();
    for f in flags::GLOBAL_FLAGS {
        if f.is_switch() {
            check_switch(ls, f);
        } else {
            check_value(ls, f);
        }
    }
}

#[test]
fn every_flag_shown_as_defined() {
    for cmd in spec::COMMANDS {
        for f in cmd.all_flags().chain([&flags::HELP]) {
            check_shown(cmd, f);
        }
    }
}

#[test]
fn flag_names_are_unique_per_command() {
    for cmd in spec::COMMANDS {
        let mut seen: Vec<String> = Vec::new();
        for f in cmd.flags.iter().chain([&&flags::HELP]) {
            let mut names = vec![f.long.to_string()];
            names.extend(f.aliases.iter().map(|a| a.name.to_string()));
            names.extend(f.short.map(String::from));
            for n in names {
                assert!(!seen.contains(&n), "'{}': {n} defined twice", cmd.path);
                seen.push(n);
            }
        }
    }
}
