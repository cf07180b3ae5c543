//! Update server for `cec update` tests (docs/protocol.md §7), signed with a TEST key.
//!
//! # Wiring (for the core dispatcher)
//!
//! ```ignore
//! // POST /a/update-server/  and  GET /update-binaries/<file>:
//! if crate::update::is_update_path(path) {
//!     let resp: http::Response<http_body_util::Full<bytes::Bytes>> =
//!         crate::update::handle(host.clone(), req).await;
//! }
//! ```
//!
//! # Configuration
//!
//! The update directory is `$CELLS_DEVSERVER_UPDATE_DIR` if set, else
//! `Host::data_dir()/update/`. It holds the binaries and a `manifest.json`:
//!
//! ```json
//! {"binaries": [
//!   {"Version": "4.3.2", "File": "cec-4.3.2", "Channel": "stable",
//!    "BinaryOS": "linux", "BinaryArch": "amd64",
//!    "Label": "Cells Client 4.3.2", "Description": "Bug fixes", "ReleaseDate": 1735000000,
//!    "ChangeLog": "…", "License": "Apache-2.0"}
//! ],
//!  "fail": null}
//! ```
//!
//! Every field but `Version` and `File` is optional (defaults: `PackageName`
//! `CellsClient`, channel `stable`, OS/arch = any). `BinaryChecksum` (base64 SHA-256 of the
//! file) and `BinarySignature` (base64 RSA PKCS#1 v1.5 over that SHA-256 digest, made with
//! `testdata/update-test-key.pem`) are computed unless the manifest gives them (to test bad
//! checksums/signatures). `BinaryURL` defaults to `<public_url>/update-binaries/<File>`.
//! `"fail": "message"` makes the listing answer 500 `{"Title": message, "Detail": …}`.
//! Without a manifest the list is empty ("up to date").
//!
//! The listing keeps binaries of the requested channel, package, GOOS and GOARCH whose
//! version is greater than `CurrentVersion` (semantic versions; unparsable ones are kept).
//!
//! **Test key**: `cec` verifies with the public key built into it; a build without one (the
//! default) takes `CEC_UPDATE_URL=<this server>` and
//! `CEC_UPDATE_PUBKEY_FILE=testdata/update-test-pub.pem` at run time (PEM label
//! `PUBLIC KEY`, PKCS#1 `RSAPublicKey` inside, the same format as the official key). The
//! tests are tests/update_*.rs; a packaged build is tested in tests/suite/update_packager.rs.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::host::Host;

/// The private half of the test signing key (never a real key).
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../testdata/update-test-key.pem");
/// The public key matching [`TEST_PRIVATE_KEY_PEM`], in the reference client's format.
#[cfg(test)]
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("../testdata/update-test-pub.pem");

pub fn is_update_path(path: &str) -> bool {
    path == "/a/update-server/"
        || path == "/a/update-server"
        || path.starts_with("/update-binaries/")
}

/// Serve `POST /a/update-server/` and `GET /update-binaries/<file>`.
pub async fn handle(
    host: Arc<dyn Host>,
    req: http::Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Cannot read request",
                "body too large or unreadable",
            )
        }
    };
    let dir = update_dir(&*host);
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    let host2 = host.clone();
    tokio::task::spawn_blocking(move || handle_sync(&*host2, &dir, &method, &path, &body))
        .await
        .unwrap_or_else(|e| {
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                &e.to_string(),
            )
        })
}

/// The directory holding manifest and binaries.
pub fn update_dir(host: &dyn Host) -> PathBuf {
    match std::env::var_os("CELLS_DEVSERVER_UPDATE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => host.data_dir().join("update"),
    }
}

/// Synchronous core of [`handle`] (also used by unit tests).
pub fn handle_sync(
    host: &dyn Host,
    dir: &Path,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Response<Full<Bytes>> {
    if let Some(name) = path.strip_prefix("/update-binaries/") {
        if method != Method::GET && method != Method::HEAD {
            return problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "use GET",
            );
        }
        return serve_binary(dir, name, method == Method::HEAD);
    }
    if method != Method::POST {
        return problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "use POST",
        );
    }
    list(host, dir, body)
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(
            json!({"Title": title, "Detail": detail}).to_string(),
        )))
        .expect("valid response")
}

fn serve_binary(dir: &Path, name: &str, head: bool) -> Response<Full<Bytes>> {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_string();
    if name.is_empty()
        || name.contains('/')
        || name.contains('\\')
        || name.starts_with('.')
        || name == "manifest.json"
    {
        return problem(StatusCode::NOT_FOUND, "Not found", "no such binary");
    }
    match std::fs::read(dir.join(&name)) {
        Ok(data) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, data.len())
            .body(Full::new(if head {
                Bytes::new()
            } else {
                Bytes::from(data)
            }))
            .expect("valid response"),
        Err(_) => problem(StatusCode::NOT_FOUND, "Not found", "no such binary"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Manifest {
    binaries: Vec<Value>,
    fail: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateRequest {
    #[serde(rename = "Channel")]
    channel: String,
    #[serde(rename = "PackageName")]
    package_name: String,
    #[serde(rename = "CurrentVersion")]
    current_version: String,
    #[serde(rename = "GOOS")]
    goos: String,
    #[serde(rename = "GOARCH")]
    goarch: String,
}

fn list(host: &dyn Host, dir: &Path, body: &[u8]) -> Response<Full<Bytes>> {
    let req: UpdateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        UpdateRequest::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Cannot parse request",
                    &e.to_string(),
                )
            }
        }
    };
    let channel = if req.channel.is_empty() {
        "stable".to_owned()
    } else {
        req.channel.clone()
    };
    let manifest: Manifest = match std::fs::read(dir.join("manifest.json")) {
        Ok(b) => match serde_json::from_slice(&b) {
            Ok(m) => m,
            Err(e) => {
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Invalid manifest",
                    &e.to_string(),
                )
            }
        },
        Err(_) => Manifest::default(),
    };
    if let Some(msg) = manifest.fail.filter(|m| !m.is_empty()) {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            &msg,
            "failure requested by the manifest",
        );
    }
    let mut out = Vec::new();
    for b in &manifest.binaries {
        let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let version = s("Version");
        let file = s("File");
        let b_channel = Some(s("Channel"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "stable".into());
        let package = Some(s("PackageName"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "CellsClient".into());
        if b_channel != channel
            || (!req.package_name.is_empty() && package != req.package_name)
            || (!req.goos.is_empty() && !s("BinaryOS").is_empty() && s("BinaryOS") != req.goos)
            || (!req.goarch.is_empty()
                && !s("BinaryArch").is_empty()
                && s("BinaryArch") != req.goarch)
        {
            continue;
        }
        if !req.current_version.is_empty() {
            if let (Some(v), Some(cur)) =
                (parse_version(&version), parse_version(&req.current_version))
            {
                if v <= cur {
                    continue;
                }
            }
        }
        let path = dir.join(&file);
        let (checksum, signature, size) = match (file.is_empty(), signed(&path)) {
            (false, Ok(v)) => v,
            _ => (String::new(), String::new(), 0),
        };
        let url = Some(s("BinaryURL"))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "{}/update-binaries/{}",
                    host.public_url(),
                    percent_encoding::utf8_percent_encode(
                        &file,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                )
            });
        let keep = |k: &str, dflt: String| Some(s(k)).filter(|v| !v.is_empty()).unwrap_or(dflt);
        out.push(json!({
            "PackageName": package,
            "Version": version,
            "ReleaseDate": b.get("ReleaseDate").and_then(Value::as_i64).unwrap_or(0),
            "Label": keep("Label", format!("Cells Client {version}")),
            "Description": s("Description"),
            "ChangeLog": s("ChangeLog"),
            "License": keep("License", "Apache-2.0".into()),
            "BinaryURL": url,
            "BinaryChecksum": b.get("BinaryChecksum").and_then(Value::as_str).map(str::to_owned).unwrap_or(checksum),
            "BinarySignature": b.get("BinarySignature").and_then(Value::as_str).map(str::to_owned).unwrap_or(signature),
            "BinaryHashType": "sha256",
            "BinarySize": size.to_string(),
            "BinaryOS": s("BinaryOS"),
            "BinaryArch": s("BinaryArch"),
        }));
    }
    let body = json!({"Channel": channel, "AvailableBinaries": out});
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// (base64 SHA-256, base64 signature, size) of a file, cached by size and mtime.
fn signed(path: &Path) -> std::io::Result<(String, String, u64)> {
    type Cache = Mutex<HashMap<PathBuf, (u64, SystemTime, String, String)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let md = std::fs::metadata(path)?;
    let mtime = md.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let cache = CACHE.get_or_init(Default::default);
    if let Some((sz, mt, c, s)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(path) {
        if *sz == md.len() && *mt == mtime {
            return Ok((c.clone(), s.clone(), *sz));
        }
    }
    let data = std::fs::read(path)?;
    let digest = Sha256::digest(&data);
    let sig = sign_digest(&digest).map_err(std::io::Error::other)?;
    let (c, s) = (B64.encode(digest), B64.encode(sig));
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(path.to_owned(), (md.len(), mtime, c.clone(), s.clone()));
    Ok((c, s, md.len()))
}

/// RSA PKCS#1 v1.5 signature of a SHA-256 digest with the test key.
pub fn sign_digest(digest: &[u8]) -> Result<Vec<u8>, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    let key = match KEY.get() {
        Some(k) => k,
        None => {
            let k = rsa::RsaPrivateKey::from_pkcs1_pem(TEST_PRIVATE_KEY_PEM)
                .map_err(|e| e.to_string())?;
            KEY.get_or_init(|| k)
        }
    };
    key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), digest)
        .map_err(|e| e.to_string())
}

/// (major, minor, patch, is_release, pre-release) for ordering; pre-releases sort first.
fn parse_version(v: &str) -> Option<(u64, u64, u64, bool, String)> {
    let v = v.trim().trim_start_matches('v');
    let v = v.split('+').next().unwrap_or(v);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().unwrap_or("0").parse().ok()?;
    let patch = it.next().unwrap_or("0").parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((
        major,
        minor,
        patch,
        pre.is_none(),
        pre.unwrap_or("").to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order() {
        assert!(parse_version("4.3.2") > parse_version("4.3.1"));
        assert!(parse_version("4.3.2-dev.1") < parse_version("4.3.2"));
        assert!(parse_version("4.10.0") > parse_version("4.9.9"));
        assert!(parse_version("nonsense").is_none());
    }

    #[test]
    fn signature_verifies_with_the_public_key() {
        use rsa::pkcs1::DecodeRsaPublicKey;
        let digest = Sha256::digest(b"binary");
        let sig = sign_digest(&digest).unwrap();
        // The PEM says PUBLIC KEY but holds a PKCS#1 RSAPublicKey (like the official key).
        let b64: String = TEST_PUBLIC_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = B64.decode(b64).unwrap();
        let pubkey = rsa::RsaPublicKey::from_pkcs1_der(&der).unwrap();
        pubkey
            .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
            .unwrap();
    }
}
