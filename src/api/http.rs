//! HTTP transport shared by every network call of `cec`: one ureq agent per
//! (server, TLS mode), retries with backoff for idempotent requests, Cells
//! error bodies turned into one readable line, debug logging with secrets
//! redacted.
//!
//! Behaviour (docs/protocol.md §1; differences: docs/compatibility.md §2.7):
//! - TLS: rustls with the embedded web PKI roots, plus every certificate of the
//!   PEM bundle named by `SSL_CERT_FILE`; `--skip-verify` accepts any certificate.
//! - Proxies: `HTTPS_PROXY` (https URLs) / `HTTP_PROXY` (http URLs), then
//!   `ALL_PROXY`, upper or lower case; `NO_PROXY` (comma-separated host
//!   suffixes, `*` = everything) bypasses them. The agent is chosen per host.
//! - Time-outs: connect 10 s, read 60 s.
//! - Retries: idempotent requests are retried on connection errors and on
//!   5xx/429, at most 4 attempts, exponential backoff with jitter, and never
//!   beyond ~10 s in total.

use crate::config::ServerUrl;
use crate::error::{Error, Exit, Result};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::{Agent, AgentBuilder};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_ATTEMPTS: u32 = 4;
const RETRY_BUDGET: Duration = Duration::from_secs(10);

pub fn debug_enabled() -> bool {
    crate::output::log::debug_enabled()
}

/// One debug line on stderr (only with `--log debug`).
pub fn debug(msg: impl AsRef<str>) {
    if debug_enabled() {
        crate::output::log::debug(msg.as_ref());
    }
}

/// `<os>/<arch> rust<version> github.com/pydio/cells-client@v<version>`.
pub fn user_agent() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    // build.rs gives "rustc 1.95.0" → "rust1.95.0" (like Go's "go1.23.9")
    let rust = option_env!("CEC_RUSTC_VERSION")
        .and_then(|v| v.split_whitespace().nth(1))
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("");
    format!(
        "{}/{} rust{} github.com/pydio/cells-client@v{}",
        std::env::consts::OS,
        arch,
        rust,
        env!("CARGO_PKG_VERSION")
    )
}

// ---------------------------------------------------------------- TLS

mod insecure {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    /// `--skip-verify`: accept any certificate and any host name.
    #[derive(Debug)]
    pub struct AcceptAll(pub Vec<SignatureScheme>);

    impl ServerCertVerifier for AcceptAll {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.clone()
        }
    }
}

/// The rustls client configuration: web PKI roots + `SSL_CERT_FILE`, or accept-all.
pub fn tls_config(skip_verify: bool) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failure(format!("TLS set-up failed: {e}")))?;
    let config = if skip_verify {
        let schemes = provider
            .signature_verification_algorithms
            .supported_schemes();
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AcceptAll(schemes)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
            let data = std::fs::read(&file).map_err(|e| {
                Error::failure(format!(
                    "cannot read SSL_CERT_FILE {}: {e}",
                    std::path::Path::new(&file).display()
                ))
            })?;
            let mut added = 0;
            for cert in rustls_pemfile::certs(&mut data.as_slice()).flatten() {
                if roots.add(cert).is_ok() {
                    added += 1;
                }
            }
            debug(format!(
                "added {added} certificate(s) from SSL_CERT_FILE {}",
                std::path::Path::new(&file).display()
            ));
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

// ---------------------------------------------------------------- proxies

fn env_any(names: &[&str]) -> Option<String> {
    for n in names {
        for v in [n.to_string(), n.to_lowercase()] {
            if let Ok(val) = std::env::var(&v) {
                if !val.trim().is_empty() {
                    return Some(val.trim().to_string());
                }
            }
        }
    }
    None
}

/// True when `host` matches a `NO_PROXY` entry (`*`, exact host, domain suffix,
/// `.domain`, optional `:port` ignored).
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_lowercase();
    for entry in no_proxy.split([',', ' ']) {
        let mut e = entry.trim().to_lowercase();
        if e.is_empty() {
            continue;
        }
        if e == "*" {
            return true;
        }
        // drop a port suffix ("host:8080"), but keep IPv6 literals intact
        if let Some((h, p)) = e.rsplit_once(':') {
            if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) {
                e = h.to_string();
            }
        }
        let e = e.trim_start_matches("*.").trim_start_matches('.');
        if host == e || host.ends_with(&format!(".{e}")) {
            return true;
        }
    }
    false
}

/// The proxy URL to use for `scheme://host`, from the environment.
pub fn proxy_for(scheme: &str, host: &str) -> Option<String> {
    let proxy = if scheme == "https" {
        env_any(&["HTTPS_PROXY", "ALL_PROXY"])
    } else {
        env_any(&["HTTP_PROXY", "ALL_PROXY"])
    }?;
    if let Some(np) = env_any(&["NO_PROXY"]) {
        if no_proxy_matches(&np, host) {
            return None;
        }
    }
    Some(proxy)
}

/// Like [`agent_for`], and every request through the agent (REST, S3, OAuth)
/// carries the account's `CustomHeaders` (set after the others, so they win).
#[allow(clippy::result_large_err)] // ureq's middleware signature
pub fn agent_with_headers(
    server: &ServerUrl,
    skip_verify: bool,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<Agent> {
    if headers.is_empty() {
        return agent_for(server, skip_verify);
    }
    let list: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mw = move |mut req: ureq::Request, next: ureq::MiddlewareNext| {
        for (k, v) in &list {
            req = req.set(k, v);
        }
        next.handle(req)
    };
    Ok(builder_for(server, skip_verify)?.middleware(mw).build())
}

/// Build the agent used to talk to `server` (proxy decided for its host).
pub fn agent_for(server: &ServerUrl, skip_verify: bool) -> Result<Agent> {
    Ok(builder_for(server, skip_verify)?.build())
}

fn builder_for(server: &ServerUrl, skip_verify: bool) -> Result<AgentBuilder> {
    let host = server.host();
    let mut b = AgentBuilder::new()
        .tls_config(tls_config(skip_verify)?)
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout_write(READ_TIMEOUT)
        .user_agent(&user_agent())
        .redirects(0);
    if let Some(p) = proxy_for(server.scheme(), host) {
        // ureq understands http://, socks4://, socks5://; "https://" proxies are
        // reached with plain HTTP CONNECT like most tools do.
        let p_norm = p
            .strip_prefix("https://")
            .map(|r| format!("http://{r}"))
            .unwrap_or(p.clone());
        let proxy = ureq::Proxy::new(&p_norm)
            .map_err(|e| Error::failure(format!("invalid proxy {}: {e}", redact_url(&p))))?;
        debug(format!("using proxy {} for {host}", redact_url(&p)));
        b = b.proxy(proxy);
    }
    Ok(b)
}

// ---------------------------------------------------------------- requests

/// One request, resendable (the body is in memory).
#[derive(Debug, Clone)]
pub struct Req {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(Vec<u8>, String)>,
    /// Safe to send again after a connection error or a 5xx/429.
    pub idempotent: bool,
}

impl Req {
    pub fn new(method: &'static str, url: impl Into<String>) -> Self {
        let idempotent = matches!(method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS");
        Req {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            idempotent,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn json_body(mut self, v: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(v)
            .map_err(|e| Error::failure(format!("cannot encode request: {e}")))?;
        self.body = Some((bytes, "application/json".into()));
        Ok(self)
    }
    pub fn form_body(mut self, pairs: &[(&str, &str)]) -> Self {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        self.body = Some((
            s.finish().into_bytes(),
            "application/x-www-form-urlencoded".into(),
        ));
        self
    }
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
}

/// Replace the values of secret-looking query parameters and any user-info.
pub fn redact_url(u: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(u) else {
        return u.to_string();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("REDACTED");
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let kl = k.to_lowercase();
                let secret = [
                    "token",
                    "code",
                    "password",
                    "secret",
                    "state",
                    "verifier",
                    "signature",
                    "credential",
                ]
                .iter()
                .any(|s| kl.contains(s));
                (
                    k.into_owned(),
                    if secret {
                        "REDACTED".into()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

fn jitter_ms(max: u64) -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() || max == 0 {
        return 0;
    }
    u64::from_le_bytes(b) % max
}

/// Backoff before attempt `n` (1-based retry number): 250 ms · 2^(n-1) + jitter, capped at 3 s.
fn backoff(n: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << (n - 1).min(4)).min(3000);
    Duration::from_millis(base + jitter_ms(base / 2 + 1))
}

fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    let secs: u64 = resp.header("Retry-After")?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3)))
}

/// Send `req`, retrying idempotent requests; a non-2xx/3xx status becomes an
/// [`Error`] with the mapped exit code and a one-line message.
pub fn execute(agent: &Agent, req: &Req) -> Result<ureq::Response> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let t0 = Instant::now();
        debug(format!("--> {} {}", req.method, redact_url(&req.url)));
        let mut r = agent.request(req.method, &req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        let res = match &req.body {
            Some((bytes, ctype)) => r.set("Content-Type", ctype).send_bytes(bytes),
            None => r.call(),
        };
        let can_retry =
            req.idempotent && attempt < MAX_ATTEMPTS && started.elapsed() < RETRY_BUDGET;
        match res {
            Ok(resp) => {
                debug(format!(
                    "<-- {} {} {} ({} ms)",
                    resp.status(),
                    req.method,
                    redact_url(&req.url),
                    t0.elapsed().as_millis()
                ));
                return Ok(resp);
            }
            Err(ureq::Error::Status(code, resp)) => {
                debug(format!(
                    "<-- {code} {} {} ({} ms)",
                    req.method,
                    redact_url(&req.url),
                    t0.elapsed().as_millis()
                ));
                if can_retry && (code >= 500 || code == 429) {
                    let wait = retry_after(&resp).unwrap_or_else(|| backoff(attempt));
                    debug(format!(
                        "retrying in {} ms (status {code})",
                        wait.as_millis()
                    ));
                    drain(resp);
                    std::thread::sleep(wait);
                    continue;
                }
                return Err(status_error(req.method, &req.url, code, resp));
            }
            Err(ureq::Error::Transport(t)) => {
                let retryable = matches!(
                    t.kind(),
                    ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Io
                );
                debug(format!(
                    "<-- transport error {} {}: {t}",
                    req.method,
                    redact_url(&req.url)
                ));
                if can_retry && retryable {
                    let wait = backoff(attempt);
                    debug(format!("retrying in {} ms", wait.as_millis()));
                    std::thread::sleep(wait);
                    continue;
                }
                return Err(transport_error(&req.url, &t));
            }
        }
    }
}

fn drain(resp: ureq::Response) {
    let mut sink = Vec::new();
    let _ = resp.into_reader().take(64 * 1024).read_to_end(&mut sink);
}

/// Human readable text for a transport failure (no secrets: URL redacted).
pub fn transport_error(url: &str, t: &ureq::Transport) -> Error {
    let host = url::Url::parse(url)
        .ok()
        .map(|u| {
            let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
            if let Some(p) = u.port() {
                s.push_str(&format!(":{p}"));
            }
            s
        })
        .unwrap_or_default();
    let detail = match t.message() {
        Some(m) => m.to_string(),
        None => t.kind().to_string(),
    };
    let src = std::error::Error::source(t)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    Error::failure(format!("cannot reach server {host}: {detail}{src}"))
}

/// Exit code for an HTTP status.
pub fn exit_for_status(code: u16) -> Exit {
    match code {
        401 | 403 => Exit::Auth,
        404 => Exit::NotFound,
        409 => Exit::Conflict,
        _ => Exit::Failure,
    }
}

/// One line from a Cells / OAuth JSON error body (or the raw text, trimmed).
pub fn error_text(body: &str) -> String {
    let body = body.trim();
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(body) {
        let s = |k: &str| {
            m.get(k)
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut parts: Vec<String> = Vec::new();
        for k in ["Title", "title", "error_description", "message", "Message"] {
            if let Some(v) = s(k) {
                parts.push(v);
                break;
            }
        }
        for k in ["Detail", "detail", "Code", "error"] {
            if let Some(v) = s(k) {
                if !parts.iter().any(|p| p == &v || p.contains(&v)) {
                    parts.push(v);
                }
                break;
            }
        }
        if !parts.is_empty() {
            let first = parts.remove(0);
            return if parts.is_empty() {
                first
            } else {
                format!("{first} ({})", parts.join(", "))
            };
        }
    }
    if body.starts_with('<') {
        return String::new(); // an HTML error page says nothing useful
    }
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(200).collect()
}

fn status_error(method: &str, url: &str, code: u16, resp: ureq::Response) -> Error {
    let reason = resp.status_text().to_string();
    let mut body = String::new();
    let _ = resp.into_reader().take(64 * 1024).read_to_string(&mut body);
    let text = error_text(&body);
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let msg = if text.is_empty() {
        format!("{method} {path}: {code} {reason}")
    } else if !reason.is_empty() && text.to_lowercase().starts_with(&reason.to_lowercase()) {
        format!("{method} {path}: {code} {text}")
    } else {
        format!("{method} {path}: {code} {reason}: {text}")
    };
    Error::new(exit_for_status(code), msg)
}

/// Read a response body as text (bounded to 64 MiB).
pub fn read_text(resp: ureq::Response) -> Result<String> {
    let mut s = String::new();
    resp.into_reader()
        .take(64 << 20)
        .read_to_string(&mut s)
        .map_err(|e| Error::failure(format!("cannot read server response: {e}")))?;
    Ok(s)
}

/// Decode a JSON response body.
pub fn read_json<T: serde::de::DeserializeOwned>(resp: ureq::Response) -> Result<T> {
    let text = read_text(resp)?;
    let text = if text.trim().is_empty() { "{}" } else { &text };
    serde_json::from_str(text)
        .map_err(|e| Error::failure(format!("unexpected server response: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "x.example.com"));
        assert!(no_proxy_matches("example.com", "x.example.com"));
        assert!(no_proxy_matches(".example.com", "x.example.com"));
        assert!(no_proxy_matches("localhost,127.0.0.1:8080", "127.0.0.1"));
        assert!(!no_proxy_matches("example.com", "example.org"));
        assert!(!no_proxy_matches("ample.com", "example.com"));
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_text(r#"{"Title":"Cannot find node","Detail":"E_NOT_FOUND"}"#),
            "Cannot find node (E_NOT_FOUND)"
        );
        assert_eq!(
            error_text(r#"{"Code":"E_UNAUTHORIZED","Title":"E_UNAUTHORIZED"}"#),
            "E_UNAUTHORIZED"
        );
        assert_eq!(
            error_text(
                r#"{"error":"invalid_grant","error_description":"bad code","status_code":400}"#
            ),
            "bad code (invalid_grant)"
        );
        assert_eq!(error_text(""), "");
        assert_eq!(error_text("plain\ntext"), "plain text");
    }

    #[test]
    fn redaction() {
        let r = redact_url("https://u:p@h/x?code=abc&state=s&ws=1");
        assert!(!r.contains("abc") && !r.contains(":p@") && r.contains("ws=1"));
    }

    #[test]
    fn ua_shape() {
        let ua = user_agent();
        assert!(ua.contains(" github.com/pydio/cells-client@v"));
        assert!(ua.contains(" rust"));
        assert!(!ua.contains("rustc"), "{ua}");
    }

    #[test]
    fn backoff_bounded() {
        let total: Duration = (1..MAX_ATTEMPTS).map(backoff).sum();
        assert!(total < Duration::from_secs(6));
    }
}
