//! One error type for the whole binary. Every failure carries the exit code
//! it maps to, so `main` only prints the message and exits with `code()`.

use std::fmt;

/// Exit codes, documented in the README. Keep this the only place they are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: runtime failure (network, server error, I/O).
    Failure = 1,
    /// 2: usage error (bad flag, missing or extra argument, bad value).
    Usage = 2,
    /// 3: authentication or permission failure (401/403, no account, expired credentials).
    Auth = 3,
    /// 4: not found.
    NotFound = 4,
    /// 5: conflict (target exists and no --force).
    Conflict = 5,
    /// 6: partial failure (some items of a multi-item operation failed).
    Partial = 6,
    /// 130: interrupted (Ctrl-C).
    Interrupted = 130,
}

#[derive(Debug)]
pub struct Error {
    pub exit: Exit,
    pub message: String,
    /// For usage errors: the command path to point the user at (`cec <cmd> --help`).
    pub help_for: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error {
            exit,
            message: message.into(),
            help_for: None,
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Exit::Failure, message)
    }
    /// A usage error for the command `cmd` (e.g. "ls", "config add token", "" for root).
    pub fn usage(cmd: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(Exit::Usage, message);
        e.help_for = Some(cmd.to_string());
        e
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Exit::Auth, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Exit::Conflict, message)
    }
    pub fn partial(message: impl Into<String>) -> Self {
        Self::new(Exit::Partial, message)
    }
    pub fn interrupted() -> Self {
        Self::new(Exit::Interrupted, "interrupted")
    }
    /// Commands owned by later work answer this until they land.
    pub fn not_available(cmd: &str) -> Self {
        Self::failure(format!("'cec {cmd}' is not available yet in this build"))
    }
    pub fn code(&self) -> i32 {
        self.exit as i32
    }
    /// Prefix the message with context ("could not list users: ...").
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    /// One line: the message, plus the help pointer for usage errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, and nothing a server sent can drive the terminal.
        let msg = self.message.replace('\n', " ");
        let msg = crate::output::escape_control(&msg);
        match &self.help_for {
            Some(cmd) if cmd.is_empty() => write!(f, "{msg} (see cec --help)"),
            Some(cmd) => write!(f, "{msg} (see cec {cmd} --help)"),
            None => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Error::interrupted();
        }
        Error::failure(e.to_string())
    }
}
