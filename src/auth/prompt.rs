//! Minimal terminal prompts on stderr (answers read from stdin).
//!
//! When stdin is not a terminal no prompt is shown: the caller gets a usage
//! error naming the flag that would have given the answer, so scripts never hang.

use crate::error::{Error, Result};
use std::io::{BufRead, Write};

pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

/// Prompts for one command (`cmd` is the command path used in usage errors).
pub struct Prompter {
    pub cmd: &'static str,
}

fn read_line() -> Result<Option<String>> {
    let mut s = String::new();
    let n = std::io::stdin().lock().read_line(&mut s)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(s.trim_end_matches(['\n', '\r']).to_string()))
}

fn aborted() -> Error {
    Error::failure("operation aborted by user")
}

impl Prompter {
    pub fn new(cmd: &'static str) -> Prompter {
        Prompter { cmd }
    }

    /// Error for a missing answer when stdin is not a terminal.
    pub fn missing(&self, what: &str, hint: &str) -> Error {
        Error::usage(
            self.cmd,
            format!("missing {what} ({hint}; stdin is not a terminal, cannot prompt)"),
        )
    }

    fn require_tty(&self, what: &str, hint: &str) -> Result<()> {
        if stdin_is_tty() {
            Ok(())
        } else {
            Err(self.missing(what, hint))
        }
    }

    /// A text answer; `validate` returns an error message to show before asking again.
    pub fn text(
        &self,
        label: &str,
        default: Option<&str>,
        hint: &str,
        validate: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        self.require_tty(label, hint)?;
        loop {
            match default.filter(|d| !d.is_empty()) {
                Some(d) => errprint!("{label} [{d}]: "),
                None => errprint!("{label}: "),
            }
            let _ = std::io::stderr().flush();
            let line = read_line()?.ok_or_else(aborted)?;
            let ans = if line.trim().is_empty() {
                default.unwrap_or("").to_string()
            } else {
                line
            };
            match validate(&ans) {
                Ok(()) => return Ok(ans),
                Err(m) => errln!("✗ {m}"),
            }
        }
    }

    /// A secret, not echoed. Must not be empty.
    pub fn secret(&self, label: &str, hint: &str) -> Result<String> {
        self.require_tty(label, hint)?;
        loop {
            errprint!("{label}: ");
            let _ = std::io::stderr().flush();
            let v = rpassword::read_password().map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    aborted()
                } else {
                    Error::from(e)
                }
            })?;
            if !v.trim().is_empty() {
                return Ok(v);
            }
            errln!("✗ field cannot be empty");
        }
    }

    /// Choose one item; returns its index. `default` is used on an empty answer.
    pub fn select(
        &self,
        label: &str,
        items: &[String],
        default: usize,
        hint: &str,
    ) -> Result<usize> {
        self.require_tty(label, hint)?;
        errln!("{label}");
        for (i, it) in items.iter().enumerate() {
            let mark = if i == default { '>' } else { ' ' };
            errln!(" {mark} {}) {it}", i + 1);
        }
        loop {
            errprint!("Enter a number [{}]: ", default + 1);
            let _ = std::io::stderr().flush();
            let line = read_line()?.ok_or_else(aborted)?;
            let t = line.trim();
            if t.is_empty() {
                return Ok(default);
            }
            match t.parse::<usize>() {
                Ok(n) if n >= 1 && n <= items.len() => return Ok(n - 1),
                _ => errln!("✗ please enter a number between 1 and {}", items.len()),
            }
        }
    }

    /// `label [y/N]`: only `y`/`Y` (or `yes`) confirm.
    pub fn confirm(&self, label: &str, hint: &str) -> Result<bool> {
        self.require_tty(label, hint)?;
        errprint!("{label} [y/N]: ");
        let _ = std::io::stderr().flush();
        let line = read_line()?.unwrap_or_default();
        Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
    }
}
