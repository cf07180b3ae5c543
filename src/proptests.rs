//! Property tests over the code that meets untrusted input: the argument parser, the
//! template and duration parsers, the decoders of server replies, remote-name
//! validation and terminal escaping. Thousands of generated cases each (`make test`):
//! no panic, and the invariants that keep `cec` safe hold for every input.

use proptest::prelude::*;
use std::ffi::OsString;
use std::path::{Component, Path};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Path-ish text: separators, dots, NUL and control characters are frequent.
fn pathish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("/".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just("\0".to_string()),
            Just("\u{1b}".to_string()),
            "[a-z]{1,3}",
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..12,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    /// For any listing, no local path computed from it leaves the target: a name
    /// accepted by the validation is exactly one normal path component.
    #[test]
    fn accepted_names_stay_inside_the_target(folder in pathish(), child in pathish()) {
        if let Ok(name) = crate::transfer::plan::child_name(&folder, &child) {
            let base = Path::new("/target");
            let joined = crate::transfer::plan::join_local(base, name);
            prop_assert!(joined.starts_with(base));
            let comps: Vec<_> = joined.strip_prefix(base).unwrap().components().collect();
            prop_assert_eq!(comps.len(), 1);
            prop_assert!(matches!(comps[0], Component::Normal(_)));
            prop_assert!(!name.contains('\0'));
        }
    }

    /// Several levels of accepted names never climb out either.
    #[test]
    fn nested_accepted_names_stay_inside(names in proptest::collection::vec(pathish(), 1..6)) {
        let mut remote = "ws/top".to_string();
        let mut rel = String::new();
        for n in &names {
            let child = format!("{remote}/{n}");
            let Ok(name) = crate::transfer::plan::child_name(&remote, &child) else { return Ok(()) };
            rel = crate::transfer::plan::join_rel(&rel, name);
            remote = child;
        }
        let base = Path::new("/target/dir");
        let p = crate::transfer::plan::join_local(base, &rel);
        prop_assert!(p.components().all(|c| !matches!(c, Component::ParentDir)));
        prop_assert!(p.starts_with(base));
    }

    /// Temporary download names fit the 255-byte limit, stay beside the target, and are
    /// hidden files that walks skip.
    #[test]
    fn partial_names_fit(tail in "[^/\0]{1,60}", pad in 0usize..255) {
        // Names of every length up to 255 bytes, multi-byte characters at the end.
        let mut name = "x".repeat(pad);
        for c in tail.chars() {
            if name.len() + c.len_utf8() > 255 {
                break;
            }
            name.push(c);
        }
        prop_assume!(name != "." && name != ".." && !name.is_empty());
        let target = Path::new("/d").join(&name);
        let p = crate::transfer::download::partial_path(&target);
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        prop_assert!(file.len() <= 255, "{} bytes", file.len());
        prop_assert!(file.starts_with('.') && file.ends_with(".cec-partial"));
        prop_assert_eq!(p.parent(), Some(Path::new("/d")));
    }

    /// Escaped text holds no control character and no bidi override; safe text is untouched.
    #[test]
    fn escaping_removes_every_control_character(s in any::<String>()) {
        let unsafe_char =
            |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let e = crate::output::escape_control(&s);
        let clean = !e.chars().any(unsafe_char);
        prop_assert!(clean, "control character left in {:?}", e);
        if !s.chars().any(unsafe_char) {
            prop_assert_eq!(e.as_ref(), s.as_str());
        }
    }

    /// The argument parser never panics, and every failure is a usage or an auth error
    /// with a one-line message.
    #[test]
    fn argument_parser_never_panics(args in proptest::collection::vec(
        prop_oneof![
            "-{1,2}[a-z_-]{0,12}(=[a-z0-9./:]{0,8})?",
            "[a-z-]{0,10}",
            "cells:/{1,2}[a-z/]{0,8}",
            any::<String>(),
        ], 0..8)) {
        let argv = args.iter().map(OsString::from);
        let no_env = |_: &str| None;
        if let Err(e) = crate::cli::parse_with_env(argv, &no_env) {
            prop_assert!(!e.to_string().contains('\n'));
            prop_assert!(!e.message.is_empty());
        }
    }

    /// Durations: no panic; what parses is not negative, and `Ns` reads back as N seconds.
    #[test]
    fn durations_parse_safely(s in "[0-9.a-z]{0,12}", n in 0u32..100_000) {
        let _ = crate::cli::parse_duration(&s);
        prop_assert_eq!(
            crate::cli::parse_duration(&format!("{n}s")),
            Some(std::time::Duration::from_secs(n as u64))
        );
    }

    /// Templates: no panic on any source; what parses renders without panicking; an
    /// error is one line.
    #[test]
    fn templates_parse_safely(src in "([{}.a-zA-Z ]|\\{\\{|\\}\\}){0,30}") {
        check_template(&src)?;
    }

    /// The same with the language's words: if/else/end, printf formats, literals,
    /// parentheses, trim markers and comments, in any order.
    #[test]
    fn template_syntax_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("{{".to_string()), Just("}}".to_string()), Just("{{- ".to_string()),
            Just(" -}}".to_string()), Just("if ".to_string()), Just("else ".to_string()),
            Just("end".to_string()), Just("{{end}}".to_string()), Just("{{else}}".to_string()),
            Just("printf ".to_string()), Just("not ".to_string()), Just("eq ".to_string()),
            Just("ne ".to_string()), Just(".Name ".to_string()), Just(".Size".to_string()),
            Just("(".to_string()), Just(")".to_string()), Just("\"".to_string()),
            Just("`".to_string()), Just("/* ".to_string()), Just(" */".to_string()),
            Just("\\".to_string()), Just("|".to_string()), Just("$".to_string()),
            "\"%[-+0]?[0-9]{0,4}(\\.[0-9]{0,3})?[sdvqx%]?\"",
            "-?[0-9]{1,20}", "[a-z ]{0,4}", any::<char>().prop_map(|c| c.to_string()),
        ], 0..16)) {
        check_template(&parts.concat())?;
    }

    /// Text without actions or escapes comes out as it went in.
    #[test]
    fn template_text_is_kept(text in "[^{\\\\]{0,40}") {
        let t = crate::output::Template::parse(&text, &["Name"]).unwrap();
        prop_assert_eq!(t.render(|_| String::new()), text);
    }

    /// `printf "%-Ns|"` pads any value to N characters at least.
    #[test]
    fn template_printf_pads(width in 0usize..60, name in "\\PC{0,30}") {
        let src = format!("{{{{printf \"%-{width}s|\" .Name}}}}");
        let t = crate::output::Template::parse(&src, &["Name"]).unwrap();
        let out = t.render(|_| name.clone());
        prop_assert!(out.ends_with('|'));
        prop_assert_eq!(out.chars().count() - 1, width.max(name.chars().count()));
        prop_assert!(out.starts_with(name.as_str()));
    }

    /// Any JSON where a node is expected decodes or fails cleanly.
    #[test]
    fn node_decoding_never_panics(v in json_value()) {
        let _ = serde_json::from_value::<crate::api::tree::Node>(v);
    }

    /// XML decoding of S3 replies never panics on any text.
    #[test]
    fn xml_decoding_never_panics(s in "(<[/A-Za-z?!]{0,8}>|[^<>]{0,6}|&[a-z#0-9]{0,5};?){0,20}") {
        let _ = crate::text::xml::root_name(&s);
        let _ = crate::text::xml::elements(&s, "Part");
        let _ = crate::text::xml::first(&s, "Code");
        let _ = crate::text::xml::unescape(&s);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9 ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("Uuid".to_string()),
                    Just("Path".to_string()),
                    Just("Type".to_string()),
                    Just("Size".to_string()),
                    Just("MTime".to_string()),
                    Just("MetaStore".to_string()),
                    "[A-Za-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A template source parses or fails with one line; what parses renders.
fn check_template(src: &str) -> Result<(), TestCaseError> {
    match crate::output::Template::parse(src, &["Name", "Path", "Size"]) {
        Ok(t) => {
            let _ = t.render(|f| format!("<{f}>"));
        }
        Err(e) => prop_assert!(!e.contains('\n'), "{}", e),
    }
    Ok(())
}
