//! Network failures as errors of their kind ([`Net`]) with one clear line each:
//! "cannot connect to http://127.0.0.1:9: connection refused (is the server
//! running? check the URL)". Used for ureq (REST, S3 over TLS or a proxy) and
//! for the direct HTTP path of S3 (plain `std::io` errors).

use std::io;

use super::http::{connect_timeout, idle_timeout};
use crate::error::{Error, Net};

/// `scheme://host[:port]` of a URL (the whole text when it does not parse).
pub fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
            if let Some(p) = u.port() {
                s.push_str(&format!(":{p}"));
            }
            s
        }
        Err(_) => url.to_string(),
    }
}

fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// The `std::io::Error` under a ureq transport failure, if any.
fn io_source(t: &ureq::Transport) -> Option<&io::Error> {
    std::error::Error::source(t).and_then(|s| s.downcast_ref::<io::Error>())
}

/// A ureq transport failure for a request to `url`.
pub fn of_transport(url: &str, t: &ureq::Transport) -> Error {
    let io = io_source(t);
    match t.kind() {
        ureq::ErrorKind::Dns => dns(url),
        ureq::ErrorKind::ConnectionFailed => match io {
            Some(e) if in_handshake(url, e) => tls(url, e),
            Some(e) => of_connect(url, e),
            None => Error::net(
                Net::Other,
                format!("cannot connect to {}: {t}", origin(url)),
            ),
        },
        ureq::ErrorKind::Io => match io {
            Some(e) => of_io(url, e),
            None => Error::net(Net::Other, format!("{}: {t}", origin(url))),
        },
        ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
            bad_http(url, t.message().unwrap_or("broken status line or header"))
        }
        ureq::ErrorKind::ProxyConnect | ureq::ErrorKind::ProxyUnauthorized => Error::net(
            Net::Refused,
            format!(
                "cannot connect to {} through the proxy: {t} (check HTTPS_PROXY/HTTP_PROXY)",
                origin(url)
            ),
        ),
        _ => Error::net(Net::Other, format!("{}: {t}", origin(url))),
    }
}

/// An unknown host.
pub fn dns(url: &str) -> Error {
    Error::net(
        Net::Dns,
        format!(
            "cannot connect to {}: unknown host {} (check the URL)",
            origin(url),
            host(url)
        ),
    )
}

/// A failure to open the connection.
pub fn of_connect(url: &str, e: &io::Error) -> Error {
    let o = origin(url);
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Error::net(
            Net::Refused,
            format!(
                "cannot connect to {o}: connection refused (is the server running? check the URL)"
            ),
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::net(
            Net::Unreachable,
            format!(
                "cannot connect to {o}: no answer within {} s (check the URL and the network)",
                connect_timeout().as_secs_f64().round()
            ),
        ),
        _ => Error::net(
            Net::Unreachable,
            format!("cannot connect to {o}: {e} (check the URL and the network)"),
        ),
    }
}

/// A connection failure of an https URL after the TCP connection was open.
fn in_handshake(url: &str, e: &io::Error) -> bool {
    tls_error(e).is_some()
        || (url.starts_with("https:")
            && matches!(
                e.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ))
}

fn tls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
}

/// A failed TLS handshake on a connection opened without ureq: a TLS error of
/// its own, or the server closing or answering in plain text.
pub fn of_handshake(url: &str, e: &io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => of_io(url, e),
        _ => tls(url, e),
    }
}

/// A failed TLS handshake, with the likely cause.
fn tls(url: &str, e: &io::Error) -> Error {
    let o = origin(url);
    let msg = match tls_error(e) {
        Some(rustls::Error::InvalidMessage(_)) => format!(
            "cannot connect to {o}: the server does not speak TLS on this port (is the URL http://?)"
        ),
        Some(c @ rustls::Error::InvalidCertificate(_)) => format!(
            "cannot connect to {o}: TLS handshake failed: {c} (set SSL_CERT_FILE to the server's CA certificate, or use --skip-verify)"
        ),
        Some(other) => format!("cannot connect to {o}: TLS handshake failed: {other}"),
        None if e.kind() == io::ErrorKind::UnexpectedEof => format!(
            "cannot connect to {o}: TLS handshake failed: the server closed the connection (does it speak TLS on this port? is the URL http://?)"
        ),
        None => format!("cannot connect to {o}: TLS handshake failed: {e}"),
    };
    Error::net(handshake_kind(e), msg)
}

/// A handshake cut short without a TLS error may be a server going down or
/// restarting: worth retrying where the server has answered before.
fn handshake_kind(e: &io::Error) -> Net {
    let cut = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    );
    if cut && tls_error(e).is_none() {
        Net::HandshakeCut
    } else {
        Net::Tls
    }
}

/// A reply that is not valid HTTP (not retried: the server will not answer
/// better). TLS bytes on an `http://` URL (ureq shows the bytes it could not
/// parse: an alert or handshake record starts 21 or 22, then 3) say why.
pub fn bad_http(url: &str, detail: &str) -> Error {
    let o = origin(url);
    if detail.contains("[21, 3, ") || detail.contains("[22, 3, ") {
        return Error::reply(format!(
            "{o}: the server speaks TLS on this port (is the URL https://?)"
        ));
    }
    let detail: String = crate::output::escape_control(detail)
        .chars()
        .take(120)
        .collect();
    Error::reply(format!(
        "{o}: the server's answer is not valid HTTP ({detail})"
    ))
}

/// A failure while sending a request or reading its reply.
pub fn of_io(url: &str, e: &io::Error) -> Error {
    let o = origin(url);
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::net(
            Net::Timeout,
            format!(
                "{o}: no answer within {} s (time-out, see CEC_TIMEOUT)",
                idle_timeout().as_secs_f64()
            ),
        ),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => {
            Error::net(Net::Reset, format!("connection to {o} lost ({e})"))
        }
        io::ErrorKind::ConnectionRefused => of_connect(url, e),
        _ if tls_error(e).is_some() => tls(url, e),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
            bad_http(url, &e.to_string())
        }
        _ => Error::net(Net::Other, format!("network error with {o}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_failures_read_well() {
        let e = of_connect(
            "http://127.0.0.1:9/a/x",
            &io::Error::from(io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(e.net_kind(), Some(Net::Refused));
        assert_eq!(
            e.message,
            "cannot connect to http://127.0.0.1:9: connection refused (is the server running? check the URL)"
        );
        assert_eq!(dns("http://nowhere.invalid").net_kind(), Some(Net::Dns));
        let cut = of_io(
            "https://h",
            &io::Error::from(io::ErrorKind::ConnectionReset),
        );
        assert_eq!(cut.net_kind(), Some(Net::Reset));
        let slow = of_io("https://h", &io::Error::from(io::ErrorKind::WouldBlock));
        assert_eq!(slow.net_kind(), Some(Net::Timeout));
    }

    #[test]
    fn a_handshake_cut_short_is_not_a_certificate_problem() {
        let url = "https://127.0.0.1:1/io/x";
        let reset = of_handshake(url, &io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(reset.net_kind(), Some(Net::HandshakeCut));
        assert!(Net::HandshakeCut.before_sending());
        let cert = io::Error::other(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert_eq!(of_handshake(url, &cert).net_kind(), Some(Net::Tls));
    }
}
