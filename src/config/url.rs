//! The server URL, parsed once where it enters (flag, environment, prompt,
//! config file) and passed down as a [`ServerUrl`].
//!
//! Normalised like cells-client (docs/protocol.md §1.1): `scheme://host[:port]`,
//! path, query, fragment and user info dropped, host in lower case, the
//! scheme's default port left out.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    https: bool,
    /// Lower-case domain, IPv4 address, or IPv6 address in brackets.
    host: String,
    /// The port; `None` for the scheme's default.
    port: Option<u16>,
}

impl ServerUrl {
    /// Parse a user-supplied URL. The error is the reason, to follow
    /// "invalid server URL 'X': ".
    pub fn parse(raw: &str) -> Result<ServerUrl, String> {
        let t = raw.trim();
        let lower = t.to_ascii_lowercase();
        if !lower.starts_with("https://") && !lower.starts_with("http://") {
            return Err("it must start with http:// or https://".into());
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("it contains spaces or control characters".into());
        }
        let u = url::Url::parse(t).map_err(|e| e.to_string())?;
        let host = match u.host() {
            None => return Err("it has no host name".into()),
            Some(url::Host::Domain(d)) if !d.chars().all(host_char) => {
                return Err(format!("'{d}' is not a valid host name"))
            }
            Some(h) => h.to_string(),
        };
        if host.is_empty() {
            return Err("it has no host name".into());
        }
        if u.port() == Some(0) {
            return Err("port 0 is not valid".into());
        }
        Ok(ServerUrl {
            https: u.scheme() == "https",
            host: match u.host() {
                Some(url::Host::Ipv6(a)) => format!("[{a}]"),
                _ => host,
            },
            port: u.port(),
        })
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The host name or address (IPv6 in brackets), without port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, the scheme's default when none was given.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `host[:port]`, the port only when not the default: the HTTP `Host`
    /// header (signed by SigV4) and the authority of every request URL.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// `host:port`, the port always given: an address to connect to.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port())
    }
}

fn host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
}

impl fmt::Display for ServerUrl {
    /// `scheme://host[:port]`, no trailing slash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn normalised() {
        assert_eq!(
            ok(" https://H.Example.com/x/y?q#f ").to_string(),
            "https://h.example.com"
        );
        assert_eq!(
            ok("http://127.0.0.1:8080/").to_string(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(ok("HTTP://u:p@h:80").to_string(), "http://h");
        assert_eq!(ok("https://h:80").to_string(), "https://h:80");
        assert_eq!(ok("http://[::1]:9000/x").to_string(), "http://[::1]:9000");
        assert_eq!(ok("http://ex_ample.com").host(), "ex_ample.com");
    }

    #[test]
    fn parts() {
        let u = ok("https://Cells.Example.com:443/x");
        assert_eq!(
            (u.scheme(), u.host(), u.port()),
            ("https", "cells.example.com", 443)
        );
        assert_eq!(u.authority(), "cells.example.com");
        assert_eq!(u.address(), "cells.example.com:443");
        let u = ok("http://[::1]:9000");
        assert_eq!((u.host(), u.port()), ("[::1]", 9000));
        assert_eq!(u.authority(), "[::1]:9000");
        assert_eq!(ok("http://h").address(), "h:80");
        assert_eq!(ok("http://127.0.0.1:8080").authority(), "127.0.0.1:8080");
        assert!(!ok("http://h").is_https());
    }

    #[test]
    fn rejected() {
        for bad in [
            "",
            "files.example.com",
            "localhost:8080",
            "ftp://x",
            "https://",
            "http://",
            "not a url",
            "http://exa mple.com",
            "http://host:99999",
            "http://host:0",
            "http://host:x",
            "http://a!b.com",
            "http://[::1",
            "http://h\u{7}x",
        ] {
            let e = ServerUrl::parse(bad).expect_err(bad);
            assert!(!e.is_empty() && !e.contains('\n'), "{bad}: {e}");
        }
    }
}
