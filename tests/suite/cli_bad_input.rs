//! Table-driven bad-input test: malformed command lines and environments must
//! give the documented exit code, exactly one line on stderr, no panic, and leave
//! the configuration file byte-for-byte unchanged.

use crate::common::Cec;
use std::ffi::OsString;

/// A valid config (PAT account on an unreachable server, secrets in the file).
const CONFIG: &str = "{\n\t\"ActiveConfigID\": \"admin@127.0.0.1:1\",\n\t\"Configs\": {\n\t\t\"admin@127.0.0.1:1\": {\n\t\t\t\"authType\": \"pat\",\n\t\t\t\"url\": \"http://127.0.0.1:1\",\n\t\t\t\"user\": \"admin\",\n\t\t\t\"idToken\": \"secret-token\",\n\t\t\t\"skipVerify\": false,\n\t\t\t\"useTokenCache\": true,\n\t\t\t\"CustomHeaders\": null,\n\t\t\t\"label\": \"admin@127.0.0.1\",\n\t\t\t\"skipKeyring\": true,\n\t\t\t\"createdAtVersion\": \"4.3.1\"\n\t\t}\n\t}\n}";

struct Case {
    args: Vec<OsString>,
    env: Vec<(&'static str, &'static str)>,
    code: i32,
}

fn case(args: &[&str], code: i32) -> Case {
    Case {
        args: args.iter().map(OsString::from).collect(),
        env: vec![],
        code,
    }
}

fn case_env(args: &[&str], env: &[(&'static str, &'static str)], code: i32) -> Case {
    Case {
        args: args.iter().map(OsString::from).collect(),
        env: env.to_vec(),
        code,
    }
}

fn cases() -> Vec<Case> {
    fn scp<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["scp", "./local", "cells://common-files/"];
        v.extend_from_slice(extra);
        v
    }
    let mut v = vec![
        // Unknown commands and flags.
        case(&["nope"], 2),
        case(&["lss"], 2),
        case(&["ls", "--nope"], 2),
        case(&["ls", "-z"], 2),
        case(&["--nope", "ls"], 2),
        case(&["config", "bogus"], 2),
        case(&["config", "add", "bogus"], 2),
        case(&["config", "ls", "--id-token", "x"], 2),
        case(&["idm", "list-everything"], 2),
        case(&["tools", "version", "islarger", "1", "2"], 2),
        case(&["mv", "a", "b", "--bogus"], 2),
        case(&["rm", "-x", "a"], 2),
        // Missing arguments / values.
        case(&["scp"], 2),
        case(&["scp", "a"], 2),
        case(&["cp"], 2),
        case(&["cp", "a"], 2),
        case(&["mv", "a"], 2),
        case(&["rm"], 2),
        case(&["mkdir"], 2),
        case(&["share"], 2),
        case(&["storage", "resync-ds"], 2),
        case(&["tools", "hash"], 2),
        case(&["tools", "hash", "-f"], 2),
        case(&["tools", "version", "isvalid"], 2),
        case(&["tools", "version", "isgreater", "1.0"], 2),
        case(&["doc"], 2),
        case(&["meta", "get"], 2),
        case(&["meta", "set", "-p", "a", "-n", "ns", "-s", "v"], 2),
        case(&["idm", "list-acls"], 2),
        case(&["completion"], 2),
        case(&["ls", "--format"], 2),
        case(&["--log"], 2),
        case(&["--url"], 2),
        case(&["update", "--version"], 2),
        // Extra arguments.
        case(&["ls", "a", "b"], 2),
        case(&["scp", "a", "cells://b", "c"], 2),
        case(&["share", "a", "b"], 2),
        case(&["config", "ls", "extra"], 2),
        case(&["config", "use", "a", "b"], 2),
        case(&["config", "rm", "a", "b"], 2),
        case(&["version", "extra"], 2),
        case(&["info", "extra"], 2),
        case(&["completion", "powershell"], 2),
        case(&["help", "nope"], 2),
        case(&["--version", "ls"], 2),
        // Bad numbers and values.
        case(&scp(&["--part-size", "15"]), 2),
        case(&scp(&["--part-size=abc"]), 2),
        case(&scp(&["--part-size", "0"]), 2),
        case(&scp(&["--part_size", "7"]), 2),
        case(&scp(&["--parts-concurrency", "0"]), 2),
        case(&scp(&["--files-concurrency", "-3"]), 2),
        case(&scp(&["--max-parts-number", "99999999999999999999999"]), 2),
        case(&scp(&["--retry-max-attempts", "many"]), 2),
        case(&scp(&["--retry-max-backoff", "soon"]), 2),
        case(&scp(&["--multipart-debug-flags", "bogus"]), 2),
        case(&scp(&["--force=maybe"]), 2),
        case(&["cp", "a", "b", "--timeout", "0"], 2),
        case(&["mv", "a", "b", "--timeout=ten"], 2),
        case(&["share", "a", "--expire-days", "0"], 2),
        case(&["share", "a", "--max-downloads", "x"], 2),
        case(&["config", "add", "oauth", "--port", "70000"], 2),
        case(&["config", "add", "oauth", "--port", "0"], 2),
        case(&["config", "add", "oauth", "--timeout", "-5"], 2),
        case(&["config", "relog", "--port", "http"], 2),
        case(&["--log", "loud", "version"], 2),
        case(&["rm", "--permanently=perhaps", "a"], 2),
        case(&["jobs", "get", "--format", "xml"], 2),
        case(&["jobs", "delete", "--filter", "{not json"], 2),
        case(
            &["meta", "set", "-p", "a", "-o", "frob", "-n", "x", "-s", "v"],
            2,
        ),
        case(
            &[
                "meta", "set", "-p", "a", "-o", "update", "-n", "x", "-r", "1.5",
            ],
            2,
        ),
        case(&["meta", "get", "-p", "a", "-f", "yaml"], 2),
        case(&["version", "-f", "{{.Nope}}"], 2),
        case(&["version", "-f", "{{.Version"], 2),
        // Conflicting flags.
        case(&["ls", "-d", "-r"], 2),
        case(&["ls", "--json", "--format", "{{.Name}}"], 2),
        case(&["ls", "--exists", "--details", "x"], 2),
        case(
            &[
                "meta", "set", "-p", "a", "-o", "update", "-n", "x", "-s", "v", "-j", "{}",
            ],
            2,
        ),
        // Bad URLs (flags and environment).
        case(&["ls", "--url", "not a url", "--token", "t"], 2),
        case(&["ls", "-u", "ftp://files.example.com", "-t", "t"], 2),
        case(&["info", "--url", "http://host:99999", "--token", "t"], 2),
        case(
            &[
                "config", "add", "token", "--url", "https://", "--token", "t",
            ],
            2,
        ),
        case(
            &[
                "config",
                "add",
                "token",
                "--url=files.example.com",
                "--token",
                "t",
            ],
            2,
        ),
        // Bad environment values.
        case_env(
            &["ls"],
            &[("CEC_URL", "localhost:8080"), ("CEC_TOKEN", "t")],
            2,
        ),
        case_env(
            &["ls"],
            &[
                ("CELLS_CLIENT_TARGET_URL", "files.example.com"),
                ("CEC_TOKEN", "t"),
            ],
            2,
        ),
        case_env(&["version"], &[("CEC_LOG", "verbose")], 2),
        case_env(&scp(&[]), &[("CEC_PART_SIZE", "abc")], 2),
        case_env(&scp(&[]), &[("CEC_PART_SIZE", "25")], 2),
        case_env(&scp(&[]), &[("CEC_PARTS_CONCURRENCY", "lots")], 2),
        case_env(&scp(&[]), &[("CEC_RETRY_MAX_ATTEMPTS", "-1")], 2),
        case_env(&scp(&[]), &[("CEC_RETRY_MAX_BACKOFF", "3 parsecs")], 2),
        case_env(&scp(&[]), &[("CEC_MULTIPART_THRESHOLD", "1e3")], 2),
        // Runtime failures with their documented codes.
        case(&["tools", "hash", "-f", "/"], 2),
        case(&["tools", "hash", "-f", "/nonexistent/file"], 4),
        case(&["tools", "version", "isvalid", "x.y"], 1),
        case(&["tools", "version", "isgreater", "1.0", "2.0"], 1),
        case(&["ls", "--url", "http://127.0.0.1:1", "--token", "t"], 1),
        case(&["ls"], 1),
        case(&["rm", "-f", "common-files/x"], 1),
        // Accounts: unknown ids, and no prompt without a terminal.
        case(&["config", "use", "nope"], 4),
        case(&["config", "rm", "nope", "-f"], 4),
        case(&["config", "relog", "nope"], 4),
        case(&["config", "rm", "admin@127.0.0.1:1"], 2),
        case(&["config", "use"], 2),
        case(&["config", "add"], 2),
        case(&["config", "add", "token"], 2),
        case(
            &[
                "config",
                "add",
                "client-auth",
                "--url",
                "http://127.0.0.1:1",
                "--login",
                "a",
            ],
            2,
        ),
        case(&["clear"], 2),
    ];
    // A non-UTF-8 argument.
    use std::os::unix::ffi::OsStringExt;
    v.push(Case {
        args: vec![
            OsString::from("ls"),
            OsString::from_vec(vec![b'a', 0xff, b'b']),
        ],
        env: vec![],
        code: 2,
    });
    v
}

#[test]
fn malformed_command_lines() {
    let all = cases();
    assert!(all.len() >= 50);
    let mut failures = Vec::new();
    for c in &all {
        let mut cec = Cec::new();
        std::fs::create_dir_all(cec.config_dir()).unwrap();
        std::fs::write(cec.config_file(), CONFIG).unwrap();
        for (k, v) in &c.env {
            cec.env(k, v);
        }
        let o = cec.args(&c.args).run();
        let after = std::fs::read(cec.config_file()).unwrap_or_default();
        let mut why = Vec::new();
        if o.code == 101 || o.code == 134 || o.stderr.contains("panicked") {
            why.push("panic".to_string());
        }
        if o.code != c.code {
            why.push(format!("exit code {} (want {})", o.code, c.code));
        }
        let lines = o.stderr.lines().count();
        if lines != 1 {
            why.push(format!("{lines} lines on stderr"));
        }
        if after != CONFIG.as_bytes() {
            why.push("config file changed".into());
        }
        if c.code == 2 && !o.stderr.contains("--help") {
            why.push("usage error without a help pointer".into());
        }
        if o.stderr.contains("secret-token") {
            why.push("secret leaked".into());
        }
        if !why.is_empty() {
            failures.push(format!("{}\n  => {}", o, why.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn env_and_flag_precedence_and_placement() {
    // Global flags anywhere; --flag=value and --flag value; -- separator.
    for args in [
        vec!["--log", "debug", "version", "-f", "{{.Version}}"],
        vec!["version", "-f", "{{.Version}}", "--log=debug"],
        vec!["version", "--log", "debug", "--format={{.Version}}"],
    ] {
        let o = Cec::new().args(&args).run();
        assert_eq!(o.code, 0, "{o}");
        assert_eq!(o.stdout, env!("CARGO_PKG_VERSION"), "{o}");
    }
    // Lenient env booleans never fail.
    let o = Cec::new()
        .env("CEC_SKIP_VERIFY", "perhaps")
        .env("CEC_NO_CACHE", "T")
        .args(["version"])
        .run();
    assert_eq!(o.code, 0, "{o}");
    // A bad CEC_URL does not matter for offline commands.
    let o = Cec::new().env("CEC_URL", "nope").args(["version"]).run();
    assert_eq!(o.code, 0, "{o}");
}

#[test]
fn corrupt_or_unreadable_config() {
    let commands: &[&[&str]] = &[
        &["ls"],
        &["info"],
        &["config", "ls"],
        &["config", "use", "x"],
        &["config", "rm", "x", "-f"],
        &[
            "config",
            "add",
            "token",
            "--url",
            "http://127.0.0.1:1",
            "--token",
            "t",
        ],
        &["clear", "-f"],
    ];
    let mut failures = Vec::new();
    for content in ["{\"ActiveConfigID\": 5", "not json at all", "[1, 2]"] {
        for args in commands {
            let mut cec = Cec::new();
            std::fs::create_dir_all(cec.config_dir()).unwrap();
            std::fs::write(cec.config_file(), content).unwrap();
            let o = cec.args(*args).run();
            let after = std::fs::read(cec.config_file()).unwrap_or_default();
            if o.code != 1 || o.stderr.lines().count() != 1 || after != content.as_bytes() {
                failures.push(format!("content {content:?}\n{o}"));
            }
        }
    }
    // config.json is a directory: unreadable.
    for args in commands {
        let mut cec = Cec::new();
        std::fs::create_dir_all(cec.config_file()).unwrap();
        let o = cec.args(*args).run();
        if o.code != 1 || o.stderr.lines().count() != 1 || !cec.config_file().is_dir() {
            failures.push(format!("config.json is a directory\n{o}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
