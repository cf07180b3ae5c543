//! The HTTP agent shared by every network call of `cec` (REST, S3, OAuth):
//! one ureq agent per (server, TLS mode), debug logging with secrets redacted,
//! and one request attempt ([`send_once`]) whose failures carry their kind
//! ([`super::neterr`]); retries follow [`super::retry`].
//!
//! Behaviour (docs/protocol.md §1, docs/network.md; differences: docs/compatibility.md §2.7):
//! - TLS: rustls with the embedded web PKI roots, plus every certificate of the
//!   PEM bundle named by `SSL_CERT_FILE`; `--skip-verify` accepts any certificate.
//! - Proxies: `HTTPS_PROXY` (https URLs) / `HTTP_PROXY` (http URLs), then
//!   `ALL_PROXY`, upper or lower case; `NO_PROXY` (comma-separated host
//!   suffixes, `*` = everything) bypasses them. The agent is chosen per host.
//! - Time-outs: connect 10 s; a server that sends nothing for `CEC_TIMEOUT`
//!   (60 s) is given up on; a REST reply must arrive whole within that time.
//! - Redirects are never followed (a bearer token or a signature must not
//!   reach another host): a 3xx is an error that names where it points.

use super::neterr;
use super::retry::Retrier;
use crate::config::ServerUrl;
use crate::error::{Error, Result};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use ureq::{Agent, AgentBuilder};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of `CEC_TIMEOUT`.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a server may send (or take) nothing before cec gives up on the
/// request: `CEC_TIMEOUT` in seconds, 60 by default. REST replies must also
/// arrive whole within this time.
pub fn idle_timeout() -> Duration {
    *IDLE.get_or_init(env_idle_timeout)
}

static IDLE: OnceLock<Duration> = OnceLock::new();

fn env_idle_timeout() -> Duration {
    std::env::var("CEC_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().trim_end_matches('s').parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
        .unwrap_or(IDLE_TIMEOUT)
}

/// Make every time-out of this process `max` at most (shell completion must answer
/// at once or not at all). Call it before the first request.
pub fn limit_timeouts(max: Duration) {
    let _ = IDLE.set(env_idle_timeout().min(max));
}

/// Time allowed to open a connection.
pub fn connect_timeout() -> Duration {
    CONNECT_TIMEOUT.min(idle_timeout())
}

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
    let arch = crate::platform::goarch();
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

/// The rustls client configuration: web PKI roots + `SSL_CERT_FILE`, or
/// accept-all. Built once per mode and shared by every connection of the
/// process (REST agent and S3 direct path), so that they share its TLS
/// session cache: a new connection resumes the session of an earlier one.
pub fn tls_config(skip_verify: bool) -> Result<Arc<rustls::ClientConfig>> {
    static BUILT: std::sync::Mutex<[Option<Arc<rustls::ClientConfig>>; 2]> =
        std::sync::Mutex::new([None, None]);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let slot = &mut built[usize::from(skip_verify)];
    if let Some(c) = slot {
        return Ok(c.clone());
    }
    let c = build_tls_config(skip_verify)?;
    *slot = Some(c.clone());
    Ok(c)
}

fn build_tls_config(skip_verify: bool) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failure(format!("TLS set-up failed: {e}")))?;
    let mut config = if skip_verify {
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
    // The direct S3 path seals and opens its records itself (`s3::tls`):
    // rustls hands over the traffic keys after the handshake.
    config.enable_secret_extraction = true;
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

/// What the direct S3 path ([`crate::s3`]) needs to reach a server the way the
/// agent does: the TLS mode (its configuration comes from [`tls_config`]) and
/// the account's custom headers.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub skip_verify: bool,
    pub headers: Vec<(String, String)>,
}

impl Link {
    pub fn new(skip_verify: bool, headers: &std::collections::BTreeMap<String, String>) -> Link {
        Link {
            skip_verify,
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
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
        .timeout_connect(connect_timeout())
        .timeout_read(idle_timeout())
        .timeout_write(idle_timeout())
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
    /// Safe to send again after it may have reached the server.
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
    /// `GET /a/tree/stat/x` (no host, no query) for messages.
    pub fn what(&self) -> String {
        let path = url::Url::parse(&self.url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        format!("{} {path}", self.method)
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

/// A failed attempt: the error, and the pause the server asked for (`Retry-After`).
#[derive(Debug)]
pub struct Failed {
    pub error: Error,
    pub retry_after: Option<Duration>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed {
            error,
            retry_after: None,
        }
    }
}

fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    let secs: u64 = resp.header("Retry-After")?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Send `req` once. A 2xx is the response; a 3xx (never followed), an error
/// status or a transport failure is an [`Error`] of its kind with one readable
/// line. REST replies must arrive whole within [`idle_timeout`].
pub fn send_once(agent: &Agent, req: &Req) -> std::result::Result<ureq::Response, Failed> {
    let t0 = Instant::now();
    debug(format!("--> {} {}", req.method, redact_url(&req.url)));
    let mut r = agent.request(req.method, &req.url).timeout(idle_timeout());
    for (k, v) in &req.headers {
        r = r.set(k, v);
    }
    let res = match &req.body {
        Some((bytes, ctype)) => r.set("Content-Type", ctype).send_bytes(bytes),
        None => r.call(),
    };
    let took = t0.elapsed().as_millis();
    match res {
        Ok(resp) if resp.status() < 300 => {
            debug(format!("<-- {} {} ({took} ms)", resp.status(), req.what()));
            Ok(resp)
        }
        Ok(resp) => {
            debug(format!("<-- {} {} ({took} ms)", resp.status(), req.what()));
            Err(super::reply::redirect_error(&req.what(), &resp).into())
        }
        Err(ureq::Error::Status(code, resp)) => {
            debug(format!("<-- {code} {} ({took} ms)", req.what()));
            let wait = retry_after(&resp);
            Err(Failed {
                error: super::reply::status_error(&req.what(), &req.url, code, resp),
                retry_after: wait,
            })
        }
        Err(ureq::Error::Transport(t)) => {
            debug(format!("<-- transport error {}: {t}", req.what()));
            Err(neterr::of_transport(&req.url, &t).into())
        }
    }
}

/// Send `req` with the default retry policy (calls made before a command's
/// client exists: login, token refresh).
pub fn execute(agent: &Agent, req: &Req) -> Result<ureq::Response> {
    execute_with(agent, req, &Retrier::default())
}

/// Send `req`, retrying as `retrier`'s policy says.
pub fn execute_with(agent: &Agent, req: &Req, retrier: &Retrier) -> Result<ureq::Response> {
    let mut call = retrier.call(req.idempotent, None);
    loop {
        match send_once(agent, req) {
            Ok(resp) => {
                call.succeeded();
                return Ok(resp);
            }
            Err(f) => call.retry(f.error, f.retry_after)?,
        }
    }
}

/// Read and decode a JSON response (bounded): see [`super::reply::read_json`].
pub use super::reply::read_json;

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
    fn what_names_method_and_path() {
        let r = Req::new("GET", "http://h:1/a/tree/stat/x?y=1");
        assert_eq!(r.what(), "GET /a/tree/stat/x");
    }
}
