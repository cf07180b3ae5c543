//! `cells-devserver`: a Cells-compatible development server for cec's tests and demo.
//!
//! ```text
//! cells-devserver serve --root DIR [--listen 127.0.0.1:0] [--tls] [--index-delay-ms N]
//!     [--latency-ms N] [--fail-rate F] [--fail-burst N:TEXT] [--cut-burst N:TEXT]
//!     [--drop-after-bytes N] [--token-lifetime SECS] [--require-pkce] [--token-delay-ms N]
//!     [--job-delay-ms N] [--seed N] [--edition enterprise|community] [--seed-users N]
//!     [--refuse-unsigned-payload] [--reset-connections N:M]
//! cells-devserver token --root DIR -u USER [-e 90d]
//! ```
//! See README.md for what is served.
mod host;
mod oauth;
mod rest;
mod s3;
mod schema;
mod state;
#[cfg(has_update)]
mod update;

use std::convert::Infallible;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::host::Host;
use crate::state::{Config, Edition, State};

type StdError = Box<dyn std::error::Error + Send + Sync>;
type Out = Response<BoxBody<Bytes, StdError>>;

const USAGE: &str = "usage:
  cells-devserver serve --root DIR [--listen 127.0.0.1:0] [--tls] [--index-delay-ms N]
      [--latency-ms N] [--fail-rate F] [--fail-burst N:TEXT] [--cut-burst N:TEXT]
      [--drop-after-bytes N] [--token-lifetime SECS] [--require-pkce] [--token-delay-ms N]
      [--job-delay-ms N] [--seed N] [--edition enterprise|community] [--seed-users N]
      [--refuse-unsigned-payload] [--reset-connections N:M]
  cells-devserver token --root DIR -u USER [-e 90d]   (-e: Ns|Nm|Nh|Nd, may be negative)";

fn die(msg: &str) -> ! {
    eprintln!("cells-devserver: {msg}\n{USAGE}");
    std::process::exit(2)
}

fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> T {
    let v = v.unwrap_or_else(|| die(&format!("{flag} needs a value")));
    v.parse()
        .unwrap_or_else(|_| die(&format!("invalid value for {flag}: {v}")))
}

/// One counter per burst.
fn counters(bursts: &[(u64, String)]) -> Vec<AtomicU64> {
    bursts.iter().map(|b| AtomicU64::new(b.0)).collect()
}

/// `N:TEXT` of `--fail-burst` and `--cut-burst`.
fn burst(flag: &str, v: Option<String>) -> (u64, String) {
    let v = v.unwrap_or_else(|| die(&format!("{flag} needs a value")));
    match v.split_once(':') {
        Some((n, text)) if !text.is_empty() => (num(flag, Some(n.to_string())), text.into()),
        _ => die(&format!("{flag} takes N:TEXT, not {v}")),
    }
}

/// `N:M` of `--reset-connections`.
fn window(flag: &str, v: Option<String>) -> (u64, u64) {
    let v = v.unwrap_or_else(|| die(&format!("{flag} needs a value")));
    match v.split_once(':') {
        Some((n, m)) => (num(flag, Some(n.into())), num(flag, Some(m.into()))),
        None => die(&format!("{flag} takes N:M, not {v}")),
    }
}

/// `Ns|Nm|Nh|Nd` (or a bare number of seconds), possibly negative.
fn parse_lifetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (n, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: i64 = n.parse().ok()?;
    let mul = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    Some(n * mul)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_else(|| die("missing subcommand"));
    let rest: Vec<String> = args.collect();
    match cmd.as_str() {
        "serve" => serve(rest),
        "token" => token(rest),
        "-h" | "--help" | "help" => println!("{USAGE}"),
        other => die(&format!("unknown subcommand {other}")),
    }
}

fn token(args: Vec<String>) {
    let mut it = args.into_iter();
    let (mut root, mut login, mut exp) = (None, None, "90d".to_string());
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root" => root = it.next(),
            "-u" | "--user" | "--login" => login = it.next(),
            "-e" | "--expire" | "--expiration" => {
                exp = it.next().unwrap_or_else(|| die("-e needs a value"))
            }
            _ => die(&format!("unknown argument {a}")),
        }
    }
    let root = PathBuf::from(root.unwrap_or_else(|| die("--root is required")));
    let login = login.unwrap_or_else(|| die("-u is required"));
    if state::user(&login).is_none() {
        eprintln!("cells-devserver: unknown user {login}");
        std::process::exit(1);
    }
    let secs = parse_lifetime(&exp).unwrap_or_else(|| die(&format!("invalid lifetime {exp}")));
    let secret = state::load_secret(&root).unwrap_or_else(|e| {
        eprintln!(
            "cells-devserver: cannot read the secret of {}: {e}",
            root.display()
        );
        std::process::exit(1)
    });
    println!(
        "{}",
        state::sign_token(&secret, &login, "pat", state::now_secs() + secs)
    );
}

fn serve(args: Vec<String>) {
    let mut it = args.into_iter();
    let mut cfg = Config {
        root: PathBuf::new(),
        listen: "127.0.0.1:0".into(),
        tls: false,
        index_delay_ms: 0,
        latency_ms: 0,
        fail_rate: 0.0,
        fail_bursts: Vec::new(),
        cut_bursts: Vec::new(),
        drop_after_bytes: None,
        token_lifetime: 3600,
        require_pkce: false,
        token_delay_ms: 0,
        job_delay_ms: 0,
        seed: 42,
        edition: Edition::Enterprise,
        seed_users: 0,
        refuse_unsigned_payload: false,
        reset_connections: None,
    };
    let mut root = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root" => root = it.next(),
            "--listen" => cfg.listen = it.next().unwrap_or_else(|| die("--listen needs a value")),
            "--tls" => cfg.tls = true,
            "--index-delay-ms" => cfg.index_delay_ms = num(&a, it.next()),
            "--latency-ms" => cfg.latency_ms = num(&a, it.next()),
            "--fail-rate" => cfg.fail_rate = num(&a, it.next()),
            "--fail-burst" => cfg.fail_bursts.push(burst(&a, it.next())),
            "--cut-burst" => cfg.cut_bursts.push(burst(&a, it.next())),
            "--drop-after-bytes" => cfg.drop_after_bytes = Some(num(&a, it.next())),
            "--token-lifetime" => cfg.token_lifetime = num(&a, it.next()),
            "--require-pkce" => cfg.require_pkce = true,
            "--token-delay-ms" => cfg.token_delay_ms = num(&a, it.next()),
            "--job-delay-ms" => cfg.job_delay_ms = num(&a, it.next()),
            "--seed" => cfg.seed = num(&a, it.next()),
            "--edition" => {
                cfg.edition = match it.next().as_deref() {
                    Some("enterprise") => Edition::Enterprise,
                    Some("community") => Edition::Community,
                    _ => die("--edition takes enterprise or community"),
                }
            }
            "--seed-users" => cfg.seed_users = num(&a, it.next()),
            "--refuse-unsigned-payload" => cfg.refuse_unsigned_payload = true,
            "--reset-connections" => cfg.reset_connections = Some(window(&a, it.next())),
            _ => die(&format!("unknown argument {a}")),
        }
    }
    cfg.root = PathBuf::from(root.unwrap_or_else(|| die("--root is required")));
    if !(0.0..=1.0).contains(&cfg.fail_rate) {
        die("--fail-rate must be between 0 and 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(cfg)) {
        eprintln!("cells-devserver: {e}");
        std::process::exit(1);
    }
}

struct App {
    st: Arc<State>,
    host: Arc<dyn Host>,
    s3: s3s::service::S3Service,
    rng: Mutex<StdRng>,
    /// Failures left to inject by `--fail-burst`, replies left to cut by `--cut-burst`.
    fail_left: Vec<AtomicU64>,
    cut_left: Vec<AtomicU64>,
}

impl App {
    /// Is this request one of a burst (`--fail-burst`/`--cut-burst`, then logged)?
    fn burst_hit(&self, cut: bool, method: &http::Method, uri: &http::Uri) -> bool {
        let (bursts, left) = if cut {
            (&self.st.cfg.cut_bursts, &self.cut_left)
        } else {
            (&self.st.cfg.fail_bursts, &self.fail_left)
        };
        let line = format!("{method} {uri}");
        let hit = bursts.iter().zip(left).any(|((_, text), left)| {
            line.contains(text.as_str())
                && left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
        });
        if hit {
            let what = if cut { "reply cut" } else { "failure" };
            eprintln!("injected burst {what}: {method} {}", uri.path());
        }
        hit
    }
}

async fn run(cfg: Config) -> Result<(), StdError> {
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
    let port = listener.local_addr()?.port();
    let tls = if cfg.tls {
        Some(tls_acceptor(&cfg.root)?)
    } else {
        None
    };
    let scheme = if cfg.tls { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{port}");
    let seed = cfg.seed;
    let reset = cfg.reset_connections;
    let mut accepted = 0u64;
    let (fail_bursts, cut_bursts) = (cfg.fail_bursts.clone(), cfg.cut_bursts.clone());
    let st = tokio::task::spawn_blocking(move || State::open(cfg)).await??;
    let st = Arc::new(st);
    let _ = st.public_url.set(url.clone());
    let host: Arc<dyn Host> = st.clone();
    let app = Arc::new(App {
        st: st.clone(),
        host: host.clone(),
        s3: s3::service_with_lister(host, st.clone()),
        rng: Mutex::new(StdRng::seed_from_u64(seed)),
        fail_left: counters(&fail_bursts),
        cut_left: counters(&cut_bursts),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {url}")?;
        out.flush()?;
    }
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        accepted += 1;
        if reset.is_some_and(|(n, m)| accepted > n && accepted <= n + m) {
            // A zero linger makes the close a reset: the client's TLS handshake (or
            // request) is cut as by a server going down.
            let _ = stream.set_zero_linger();
            eprintln!("injected connection reset #{accepted}");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(dispatch(app, req).await) }
            });
            let builder = hyper::server::conn::http1::Builder::new();
            let res = match tls {
                Some(acc) => match acc.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), svc).await,
                    Err(_) => return,
                },
                None => builder.serve_connection(TokioIo::new(stream), svc).await,
            };
            let _ = res;
        });
    }
}

/// The TLS acceptor: a test CA and a `localhost`/`127.0.0.1` leaf, made on the
/// first `--tls` start of a root and kept there (`ca.pem`, `tls-leaf.pem`,
/// `tls-key.pem`), so that a restart on the same root serves the same
/// certificate and clients that trust `ca.pem` keep trusting it.
fn tls_acceptor(root: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor, StdError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    std::fs::create_dir_all(root)?;
    let (ca, leaf, key) = (
        root.join("ca.pem"),
        root.join("tls-leaf.pem"),
        root.join("tls-key.pem"),
    );
    if !(ca.exists() && leaf.exists() && key.exists()) {
        make_certificates(root)?;
    }
    let chain = vec![
        CertificateDer::from_pem_file(&leaf)?,
        CertificateDer::from_pem_file(&ca)?,
    ];
    let key = PrivateKeyDer::from_pem_file(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Write a fresh CA (`ca.pem`, last and atomically) and leaf into `root`.
fn make_certificates(root: &std::path::Path) -> Result<(), StdError> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "cells-devserver test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key)?;
    std::fs::write(root.join("tls-leaf.pem"), leaf_cert.pem())?;
    std::fs::write(root.join("tls-key.pem"), leaf_key.serialize_pem())?;
    let tmp = root.join("ca.pem.tmp");
    std::fs::write(&tmp, ca_cert.pem())?;
    std::fs::rename(&tmp, root.join("ca.pem"))?;
    Ok(())
}

fn full(r: Response<Full<Bytes>>) -> Out {
    r.map(|b| b.map_err(|never| match never {}).boxed())
}

fn is_io(path: &str) -> bool {
    path == "/io" || path.starts_with("/io/")
}

/// Requests served, by method and endpoint (`GET /devserver/requests` reads
/// them): tests and the bench count what a client asked for.
static REQUESTS: Mutex<std::collections::BTreeMap<String, u64>> =
    Mutex::new(std::collections::BTreeMap::new());

/// The counter key of a request: S3 calls by method (and multipart step),
/// REST calls by endpoint without the node path.
fn request_kind(method: &http::Method, path: &str, query: &str) -> String {
    if is_io(path) {
        let step = ["partNumber", "uploads", "uploadId", "list-type"]
            .iter()
            .find(|k| query.split('&').any(|q| q.split('=').next() == Some(**k)))
            .map(|k| format!("?{k}"))
            .unwrap_or_default();
        return format!("{method} /io{step}");
    }
    let end = ["/a/tree/stat/", "/a/meta/get/"]
        .iter()
        .find(|p| path.starts_with(**p))
        .map_or(path.len(), |p| p.len() - 1);
    format!("{method} {}", &path[..end])
}

fn counted_requests() -> Response<Full<Bytes>> {
    let map = REQUESTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let total: u64 = map.values().sum();
    let body = serde_json::json!({"total": total, "by": map}).to_string();
    Response::builder()
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("static response")
}

/// Counts the request, then bursts: an injected 503 instead of the work, or the work
/// done and its reply cut.
async fn dispatch(app: Arc<App>, req: Request<Incoming>) -> Out {
    if req.uri().path() == "/devserver/requests" {
        return full(counted_requests());
    }
    {
        let kind = request_kind(
            req.method(),
            req.uri().path(),
            req.uri().query().unwrap_or(""),
        );
        *REQUESTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind)
            .or_default() += 1;
    }
    let path = req.uri().path().to_string();
    if app.burst_hit(false, req.method(), req.uri()) {
        return full(if oauth::is_oauth_path(&path) {
            oauth::unavailable()
        } else {
            injected_failure(!is_io(&path), true)
        });
    }
    let cut = app.burst_hit(true, req.method(), req.uri());
    let resp = route(app, req).await;
    if !cut {
        return resp;
    }
    let never = Arc::new(AtomicBool::new(false));
    resp.map(|b| Dropper::new(b, 0, never, None).boxed())
}

async fn route(app: Arc<App>, req: Request<Incoming>) -> Out {
    let cfg = &app.st.cfg;
    if cfg.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cfg.latency_ms)).await;
    }
    let path = req.uri().path().to_string();
    let rest = (path == "/a" || path.starts_with("/a/")) && !path.starts_with("/a/update-server");
    if cfg.fail_rate > 0.0 && (rest || is_io(&path)) {
        let (fail, pick) = {
            let mut rng = app.rng.lock().unwrap_or_else(|e| e.into_inner());
            (rng.gen::<f64>() < cfg.fail_rate, rng.gen::<bool>())
        };
        if fail {
            return full(injected_failure(rest, pick));
        }
    }
    if is_io(&path) {
        let unsigned = req
            .headers()
            .get("x-amz-content-sha256")
            .is_some_and(|v| v.as_bytes().starts_with(b"UNSIGNED-PAYLOAD"));
        if unsigned && cfg.refuse_unsigned_payload {
            eprintln!("refused UNSIGNED-PAYLOAD: {} {path}", req.method());
            return full(s3_error(
                403,
                "AccessDenied",
                "UNSIGNED-PAYLOAD is not accepted: sign the payload (refused on purpose)",
            ));
        }
        return match cfg.drop_after_bytes {
            None => s3::handle(&app.s3, req).await,
            Some(n) => {
                let tripped = Arc::new(AtomicBool::new(false));
                let req = req.map(|b| {
                    s3s::Body::http_body_unsync(Dropper::new(b, n, tripped.clone(), None))
                });
                let resp = match app.s3.call(req).await {
                    Ok(r) => r.map(|b| b.boxed()),
                    Err(e) => full(s3_error(500, "InternalError", &format!("{e:?}"))),
                };
                resp.map(|b| {
                    Dropper::new(b, n, Arc::new(AtomicBool::new(false)), Some(tripped)).boxed()
                })
            }
        };
    }
    if oauth::is_oauth_path(&path) {
        return full(oauth::handle(app.host.clone(), req).await);
    }
    #[cfg(has_update)]
    if update::is_update_path(&path) {
        return full(update::handle(app.host.clone(), req).await);
    }
    if rest {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, 64 * 1024 * 1024).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return full(rest::error_response(
                    400,
                    "cannot read the request body",
                    "E_BAD_REQUEST",
                ))
            }
        };
        let st = app.st.clone();
        return match tokio::task::spawn_blocking(move || rest::handle(&st, &parts, &body)).await {
            Ok(r) => full(r),
            Err(e) => full(rest::error_response(
                500,
                &format!("internal error: {e}"),
                "E_INTERNAL",
            )),
        };
    }
    if let Some(hash) = path.strip_prefix("/public/") {
        let found = {
            let g = app.st.lock();
            g.shares
                .values()
                .find(|s| s.get("LinkHash").and_then(|h| h.as_str()) == Some(hash))
                .map(|s| {
                    s.get("Label")
                        .and_then(|l| l.as_str())
                        .unwrap_or("")
                        .to_string()
                })
        };
        if let Some(label) = found {
            let html = format!(
                "<!DOCTYPE html><html><head><title>Pydio Cells</title></head><body><h1>Public link</h1><p>{}</p></body></html>",
                label.replace('&', "&amp;").replace('<', "&lt;")
            );
            return full(
                Response::builder()
                    .status(200)
                    .header("Content-Type", "text/html; charset=utf-8")
                    .body(Full::new(Bytes::from(html)))
                    .unwrap(),
            );
        }
    }
    full(rest::error_response(
        404,
        &format!("Not found: {path}"),
        "E_NOT_FOUND",
    ))
}

fn s3_error(status: u16, code: &str, msg: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><Resource>/io</Resource><RequestId>devserver</RequestId></Error>",
        msg.replace('&', "&amp;").replace('<', "&lt;")
    );
    Response::builder()
        .status(status)
        .header("Content-Type", "application/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// A failure injected by `--fail-rate`: REST gets a Cells JSON 503 (or 500), S3 an XML
/// SlowDown 503 (or InternalError 500).
fn injected_failure(rest: bool, pick: bool) -> Response<Full<Bytes>> {
    match (rest, pick) {
        (true, true) => rest::error_response(
            503,
            "Service temporarily unavailable (injected failure)",
            "E_UNAVAILABLE",
        ),
        (true, false) => rest::error_response(
            500,
            "Internal server error (injected failure)",
            "E_INTERNAL",
        ),
        (false, true) => s3_error(
            503,
            "SlowDown",
            "Please reduce your request rate (injected failure).",
        ),
        (false, false) => s3_error(
            500,
            "InternalError",
            "We encountered an internal error, please try again (injected failure).",
        ),
    }
}

/// A body that fails after `limit` bytes (the `--drop-after-bytes` knob): the server then
/// aborts the connection. `trip` is set when this body is cut; a body with `abort_on` set
/// fails at once when that flag is (the response of a cut request).
struct Dropper<B> {
    inner: B,
    left: u64,
    cut: bool,
    trip: Arc<AtomicBool>,
    abort_on: Option<Arc<AtomicBool>>,
}

impl<B> Dropper<B> {
    fn new(inner: B, limit: u64, trip: Arc<AtomicBool>, abort_on: Option<Arc<AtomicBool>>) -> Self {
        Dropper {
            inner,
            left: limit,
            cut: false,
            trip,
            abort_on,
        }
    }
}

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by --drop-after-bytes")
    }
}
impl std::error::Error for Dropped {}

impl<B> Body for Dropper<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<StdError>,
{
    type Data = Bytes;
    type Error = StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StdError>>> {
        let aborted = self
            .abort_on
            .as_ref()
            .map(|f| f.load(Ordering::SeqCst))
            .unwrap_or(false);
        if self.cut || aborted {
            return Poll::Ready(Some(Err(Box::new(Dropped))));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    if data.len() as u64 >= self.left && !data.is_empty() {
                        data.truncate(self.left as usize);
                        self.left = 0;
                        self.cut = true;
                        self.trip.store(true, Ordering::SeqCst);
                        if data.is_empty() {
                            return Poll::Ready(Some(Err(Box::new(Dropped))));
                        }
                    } else {
                        self.left -= data.len() as u64;
                    }
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.cut && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
