//! S3 error replies as [`Error`]s: the `<Error>` XML body's code and message,
//! the exit code from the status or the code (docs/protocol.md §4.6), and the
//! kind ([`Kind::Status`] with the S3 code) that callers and the retry policy
//! look at.

use crate::error::{Error, Exit, Kind};
use crate::output::escape_control;
use crate::text::xml;

/// The S3 error of a failed request.
#[derive(Debug, Clone, Default)]
pub struct S3Error {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// Code and message of an `<Error>` body (empty when the body is not one).
pub fn parse_error(status: u16, body: &str) -> S3Error {
    let field = |tag: &str| {
        xml::first(body, tag)
            .map(|s| escape_control(&s).chars().take(200).collect())
            .unwrap_or_default()
    };
    S3Error {
        status,
        code: field("Code"),
        message: field("Message"),
    }
}

/// The error for `key` (`""`: no key in the message).
pub fn error_of(e: &S3Error, key: &str) -> Error {
    let what = match (e.code.is_empty(), e.message.is_empty()) {
        (true, _) => format!("HTTP {}", e.status),
        (false, true) => e.code.clone(),
        (false, false) => format!("{}: {}", e.code, e.message),
    };
    let exit = match (e.status, e.code.as_str()) {
        (401, _) | (403, _) | (_, "AccessDenied") | (_, "UnauthorizedAccess") => Exit::Auth,
        (404, _) | (_, "NoSuchKey") | (_, "NoSuchUpload") => Exit::NotFound,
        _ => Exit::Failure,
    };
    let msg = if exit == Exit::NotFound && e.code.is_empty() {
        format!("{key}: not found on the server")
    } else if key.is_empty() {
        format!("S3 error {what}")
    } else {
        format!("{key}: S3 error {what}")
    };
    Error::new(exit, msg).with_kind(Kind::Status {
        status: e.status,
        code: e.code.clone(),
    })
}

/// A 200 whose body is an `<Error>` document is a failure.
pub fn check_not_error(body: &str, key: &str) -> Result<(), Error> {
    if xml::root_name(body) == Some("Error") {
        return Err(error_of(&parse_error(200, body), key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_exit_codes() {
        let e = parse_error(
            403,
            "<Error><Code>AccessDenied</Code><Message>no</Message></Error>",
        );
        assert_eq!(error_of(&e, "k").exit, Exit::Auth);
        let e = parse_error(404, "");
        assert_eq!(error_of(&e, "k").exit, Exit::NotFound);
        assert_eq!(error_of(&e, "k").message, "k: not found on the server");
        let e = error_of(
            &parse_error(500, "<Error><Code>InternalError</Code></Error>"),
            "k",
        );
        assert_eq!(e.exit, Exit::Failure);
        assert_eq!(e.error_code(), Some("InternalError"));
        assert!(check_not_error("<?xml?><Error><Code>X</Code></Error>", "").is_err());
        assert!(check_not_error("<CompleteMultipartUploadResult/>", "").is_ok());
    }

    #[test]
    fn server_text_is_escaped() {
        let e = parse_error(400, "<Error><Code>X\u{1b}[31m</Code></Error>");
        assert!(!e.code.contains('\u{1b}'));
    }
}
