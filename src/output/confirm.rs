//! Confirmation before a destructive action (`rm`, `idm list-acls --delete`,
//! `jobs delete`), docs/compatibility.md §1.4: only `y`/`yes` proceeds; without a
//! terminal nothing is done unless the command was given `--force`.

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Exit, Result};

/// Ask `question [y/N]` on stderr unless `force`. `Ok(())` means go ahead. Errors (nothing
/// done, `nothing` says so, e.g. "nothing was deleted"): stdin is not a terminal → usage
/// error for `cmd` (exit 2) naming `--force`; a refusal or end of input → exit 1; Ctrl-C →
/// exit 130.
pub fn confirm(cmd: &str, force: bool, question: &str, nothing: &str) -> Result<()> {
    if force {
        return Ok(());
    }
    if !super::is_stdin_tty() {
        return Err(Error::usage(
            cmd,
            format!("refusing to delete without confirmation: stdin is not a terminal and --force was not given; {nothing}"),
        ));
    }
    // The question may name things the server sent (labels, paths).
    crate::errprint!("{} [y/N] ", super::escape_control(question));
    let _ = std::io::stderr().flush();
    match read_answer() {
        Answer::Yes => Ok(()),
        Answer::No => Err(Error::failure(format!("aborted by user, {nothing}"))),
        Answer::Eof => {
            crate::errln!();
            Err(Error::failure(format!(
                "no answer (end of input), {nothing}"
            )))
        }
        Answer::Interrupted => {
            crate::errln!();
            Err(Error::new(
                Exit::Interrupted,
                format!("interrupted, {nothing}"),
            ))
        }
    }
}

enum Answer {
    Yes,
    No,
    Eof,
    Interrupted,
}

/// Read one answer line; only `y`/`yes` (any case) confirm. Ctrl-C is caught
/// (graceful mode) so the command can say that nothing was done.
fn read_answer() -> Answer {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let n = std::io::stdin().lock().read_line(&mut line).unwrap_or(0);
        let _ = tx.send((n, line));
    });
    super::interrupt::set_graceful(true);
    let answer = loop {
        if super::interrupt::interrupted() {
            break Answer::Interrupted;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok((0, _)) => break Answer::Eof,
            Ok((_, line)) if matches!(line.trim().to_lowercase().as_str(), "y" | "yes") => {
                break Answer::Yes
            }
            Ok(_) => break Answer::No,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Answer::Eof,
        }
    };
    super::interrupt::set_graceful(false);
    answer
}
