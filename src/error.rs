//! One error type for the whole binary. Every failure carries the exit code
//! it maps to, so `main` only prints the message and exits with `code()`, and
//! a [`Kind`] that says what failed (an HTTP status, a network failure, an
//! unusable reply, a local file), so callers decide on the kind, never on the
//! message text.

use std::fmt;
use std::path::{Path, PathBuf};

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

impl Exit {
    /// The exit code of an HTTP error status: 401/403 → 3, 404 → 4, 409 → 5, else 1.
    pub fn for_status(status: u16) -> Exit {
        match status {
            401 | 403 => Exit::Auth,
            404 => Exit::NotFound,
            409 => Exit::Conflict,
            _ => Exit::Failure,
        }
    }
}

/// What failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Anything else: usage, configuration, a rule of cec.
    Other,
    /// The server answered with an error status; `code` is the S3 error code
    /// (`NoSuchKey`, `InvalidRange`...) or the Cells error code, when the body had one.
    Status { status: u16, code: String },
    /// The request got no answer.
    Net(Net),
    /// The server answered something cec cannot use: a body that is not the
    /// expected JSON or XML, too large or too slow, sizes or ranges that do not
    /// match the request, a redirect, a page that is not from a Cells server.
    Reply,
    /// A local file operation failed (`path` is the file it concerns).
    Io {
        kind: std::io::ErrorKind,
        path: Option<PathBuf>,
    },
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Nothing listens on the port.
    Refused,
    /// No route to the host, or no answer to the connection attempt.
    Unreachable,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake failed (certificate, or not a TLS port).
    Tls,
    /// The connection was cut during the TLS handshake (a server going down
    /// or restarting): no request was sent on it.
    HandshakeCut,
    /// The server stopped sending (or taking) data for too long.
    Timeout,
    /// The connection was cut (reset, closed early).
    Reset,
    /// Another transport failure.
    Other,
}

impl Net {
    /// Failures where nothing reached the server: the request can be sent again
    /// safely even when it is not idempotent.
    pub fn before_sending(self) -> bool {
        matches!(
            self,
            Net::Refused | Net::Unreachable | Net::Dns | Net::HandshakeCut
        )
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub exit: Exit,
    pub message: String,
    /// For usage errors: the command path to point the user at (`cec <cmd> --help`).
    pub help_for: Option<String>,
    pub kind: Kind,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Error {
            exit,
            message: message.into(),
            help_for: None,
            kind: Kind::Other,
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
    /// An HTTP error status, with its exit code ([`Exit::for_status`]).
    pub fn status(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::status_exit(Exit::for_status(status), status, code, message)
    }
    /// An HTTP error status with an exit code of the caller's choice (S3 codes).
    pub fn status_exit(
        exit: Exit,
        status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(exit, message).with_kind(Kind::Status {
            status,
            code: code.into(),
        })
    }
    /// A request that got no answer (exit 1).
    pub fn net(net: Net, message: impl Into<String>) -> Self {
        Self::failure(message).with_kind(Kind::Net(net))
    }
    /// A reply cec cannot use (exit 1).
    pub fn reply(message: impl Into<String>) -> Self {
        Self::failure(message).with_kind(Kind::Reply)
    }
    /// A failed operation on the local file `path`: "`what` `path`: error"
    /// (e.g. `Error::io("cannot write", &temp, e)`). Exit 1, or 130 for EINTR.
    pub fn io(what: &str, path: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Error::interrupted();
        }
        Self::failure(format!("{what} {}: {e}", path.display())).with_kind(Kind::Io {
            kind: e.kind(),
            path: Some(path.to_path_buf()),
        })
    }
    pub fn with_kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }
    pub fn code(&self) -> i32 {
        self.exit as i32
    }
    /// The HTTP status the server answered, when this is an error status.
    pub fn status_code(&self) -> Option<u16> {
        match &self.kind {
            Kind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// The S3 (or Cells) error code of an error status (`""` when none came).
    pub fn error_code(&self) -> Option<&str> {
        match &self.kind {
            Kind::Status { code, .. } => Some(code),
            _ => None,
        }
    }
    /// The network failure, when the request got no answer.
    pub fn net_kind(&self) -> Option<Net> {
        match &self.kind {
            Kind::Net(n) => Some(*n),
            _ => None,
        }
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
        let msg = crate::text::escape_control(&msg);
        match &self.help_for {
            Some(cmd) if cmd.is_empty() => write!(f, "{msg} (see cec --help)"),
            Some(cmd) => write!(f, "{msg} (see cec {cmd} --help)"),
            None => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// An I/O error without its file (prefer [`Error::io`], which names it).
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Error::interrupted();
        }
        Error::failure(e.to_string()).with_kind(Kind::Io {
            kind: e.kind(),
            path: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_exit_codes() {
        assert_eq!(Error::status(404, "", "x").exit, Exit::NotFound);
        assert_eq!(Error::status(403, "", "x").exit, Exit::Auth);
        assert_eq!(Error::status(409, "", "x").exit, Exit::Conflict);
        assert_eq!(Error::status(503, "", "x").status_code(), Some(503));
        let e = Error::status_exit(Exit::NotFound, 200, "NoSuchUpload", "gone");
        assert_eq!(e.error_code(), Some("NoSuchUpload"));
        assert_eq!(Error::net(Net::Refused, "x").net_kind(), Some(Net::Refused));
        assert!(Net::Dns.before_sending() && !Net::Reset.before_sending());
        assert_eq!(Error::reply("x").kind, Kind::Reply);
    }

    #[test]
    fn io_errors_name_their_file() {
        let e = Error::io(
            "cannot write",
            Path::new("/tmp/x"),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(e.message.starts_with("cannot write /tmp/x: "), "{e}");
        assert_eq!(
            e.kind,
            Kind::Io {
                kind: std::io::ErrorKind::PermissionDenied,
                path: Some(PathBuf::from("/tmp/x"))
            }
        );
        let e = Error::io(
            "x",
            Path::new("/y"),
            std::io::Error::from(std::io::ErrorKind::Interrupted),
        );
        assert_eq!(e.exit, Exit::Interrupted);
    }
}
