//! Where updates come from and what the update server offers (docs/protocol.md §7.1).
//!
//! The server URL and its public key are this build's (build.rs, from
//! `CEC_BUILD_UPDATE_URL` and `CEC_BUILD_UPDATE_KEY`). At run time `CEC_UPDATE_URL` points
//! elsewhere (a mirror, a test server); `CEC_UPDATE_PUBKEY_FILE` supplies a key only to a
//! build that has none, so no variable can make a packaged cec trust another key.
use crate::platform::{goarch, goos};
use std::io::Read;
use std::path::PathBuf;

use serde_json::{json, Value};
use ureq::{Agent, AgentBuilder};

use super::semver::SemVer;
use super::{key, CURRENT_VERSION};
use crate::api::http;
use crate::error::{Error, Result};
use crate::output::log;

const BUILTIN_URL: &str = env!("CEC_BUILTIN_UPDATE_URL");
const BUILTIN_KEY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/update-key.der"));
/// The listing is a few KiB; anything bigger is not a listing.
const MAX_LISTING: u64 = 1 << 20;
/// `PackageName` of the protocol (kept from the reference).
const PACKAGE: &str = "CellsClient";

/// The update server to ask and the key its binaries must be signed with.
#[derive(Debug, Clone)]
pub struct Source {
    /// The listing endpoint (`<base>/a/update-server/`).
    pub endpoint: String,
    /// PKCS#1 `RSAPublicKey` DER.
    pub key: Vec<u8>,
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The built-in source, or the one named by `CEC_UPDATE_URL` (and `CEC_UPDATE_PUBKEY_FILE`).
pub fn source() -> Result<Source> {
    let env_key = std::env::var_os("CEC_UPDATE_PUBKEY_FILE").filter(|v| !v.is_empty());
    let base = match env_value("CEC_UPDATE_URL") {
        Some(u) => u,
        None if !BUILTIN_URL.is_empty() => BUILTIN_URL.to_string(),
        None => {
            return Err(Error::failure(
                "this build of cec has no update server: update it the way it was installed \
                 (package manager or a new release)",
            ))
        }
    };
    let endpoint = endpoint(&base)?;
    if !BUILTIN_KEY.is_empty() {
        if env_key.is_some() {
            return Err(Error::failure(
                "this build of cec verifies updates with its own key only: unset \
                 CEC_UPDATE_PUBKEY_FILE",
            ));
        }
        return Ok(Source {
            endpoint,
            key: BUILTIN_KEY.to_vec(),
        });
    }
    let Some(file) = env_key.map(PathBuf::from) else {
        return Err(Error::failure(
            "CEC_UPDATE_URL needs CEC_UPDATE_PUBKEY_FILE (the PEM public key that signs that \
             server's binaries): this build of cec has no update key of its own",
        ));
    };
    let key = read_key(&file)?;
    log::warn(&format!(
        "verifying updates with the key in {} (CEC_UPDATE_PUBKEY_FILE)",
        file.display()
    ));
    Ok(Source { endpoint, key })
}

fn read_key(file: &std::path::Path) -> Result<Vec<u8>> {
    let bad = |m: String| Error::failure(format!("CEC_UPDATE_PUBKEY_FILE {}: {m}", file.display()));
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(64 * 1024).read_to_string(&mut text))
        .map_err(|e| bad(e.to_string()))?;
    key::rsa_public_key_der(&text).map_err(bad)
}

/// `<base>/a/update-server/` (a base that already ends with it is kept).
fn endpoint(base: &str) -> Result<String> {
    check_url(base, "update server")?;
    let b = base.trim_end_matches('/');
    if b.ends_with("/a/update-server") {
        Ok(format!("{b}/"))
    } else {
        Ok(format!("{b}/a/update-server/"))
    }
}

/// Only https, except http to this machine (a local test server): a listing seen or
/// changed in transit could hold back updates even though binaries are signed.
pub fn check_url(u: &str, what: &str) -> Result<url::Url> {
    let bad = |why: &str| Error::failure(format!("{what} URL {}: {why}", http::redact_url(u)));
    let parsed = url::Url::parse(u).map_err(|e| bad(&e.to_string()))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(bad("no host")),
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(bad(
            "only https:// is accepted (http:// only for this machine)",
        )),
    }
}

/// An agent for `u`: TLS always verified (whatever `--skip-verify` says),
/// `CELLS_UPDATE_HTTP_PROXY` first, then the usual proxy variables.
pub fn agent(u: &url::Url) -> Result<Agent> {
    let mut b = AgentBuilder::new()
        .tls_config(http::tls_config(false)?)
        .timeout_connect(http::CONNECT_TIMEOUT)
        .timeout_read(http::idle_timeout())
        .timeout_write(http::idle_timeout())
        .user_agent(&http::user_agent())
        .redirects(0);
    let proxy = env_value("CELLS_UPDATE_HTTP_PROXY")
        .or_else(|| http::proxy_for(u.scheme(), u.host_str().unwrap_or("")));
    if let Some(p) = proxy {
        // ureq speaks plain HTTP CONNECT to an "https://" proxy, like most tools.
        let p_norm = match p.strip_prefix("https://") {
            Some(rest) => format!("http://{rest}"),
            None => p.clone(),
        };
        let proxy = ureq::Proxy::new(&p_norm)
            .map_err(|e| Error::failure(format!("invalid proxy {}: {e}", http::redact_url(&p))))?;
        b = b.proxy(proxy);
    }
    Ok(b.build())
}

/// One binary the server offers, as it was sent (checked before use by `install`).
#[derive(Debug, Clone)]
pub struct Offer {
    pub version: String,
    pub semver: SemVer,
    pub label: String,
    pub description: String,
    pub url: String,
    pub checksum: String,
    pub signature: String,
    pub hash_type: String,
    pub size: String,
}

/// A string field, also when the server sends it as a number.
fn field(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The newer versions offered in `channel` for this platform, oldest first.
pub fn list(src: &Source, channel: &str) -> Result<Vec<Offer>> {
    let url = check_url(&src.endpoint, "update server")?;
    let body = json!({
        "Channel": channel,
        "PackageName": PACKAGE,
        "CurrentVersion": CURRENT_VERSION,
        "GOOS": goos(),
        "GOARCH": goarch(),
    });
    http::debug(format!(
        "update: POST {} {body}",
        http::redact_url(url.as_str())
    ));
    let resp = match agent(&url)?
        .post(url.as_str())
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
    {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => return Err(status_error(code, r)),
        Err(ureq::Error::Transport(t)) => {
            return Err(crate::api::neterr::of_transport(url.as_str(), &t).context("update server"))
        }
    };
    if resp.status() != 200 {
        return Err(status_error(resp.status(), resp));
    }
    let mut raw = Vec::new();
    resp.into_reader()
        .take(MAX_LISTING + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::failure(format!("cannot read the update server's answer: {e}")))?;
    if raw.len() as u64 > MAX_LISTING {
        return Err(Error::failure(
            "the update server's answer is larger than 1 MiB: not a listing",
        ));
    }
    let v: Value = serde_json::from_slice(&raw).map_err(|e| {
        Error::failure(format!("the update server sent an unreadable listing: {e}"))
    })?;
    let items = match v.get("AvailableBinaries") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(Error::failure(
                "the update server sent an unreadable listing: AvailableBinaries is not a list",
            ))
        }
    };
    Ok(select(&items))
}

fn status_error(code: u16, resp: ureq::Response) -> Error {
    let mut body = String::new();
    let _ = resp.into_reader().take(64 * 1024).read_to_string(&mut body);
    let text = crate::api::reply::error_text(&body);
    if text.is_empty() {
        Error::failure(format!("the update server answered {code}"))
    } else {
        Error::failure(format!("the update server answered {code}: {text}"))
    }
}

/// Offers for this package and platform, newer than this build, valid semver; sorted.
/// The server is supposed to filter already: this is the client's own check (no
/// downgrade through `update`: `--rollback` is the way back).
fn select(items: &[Value]) -> Vec<Offer> {
    let current = SemVer::parse(CURRENT_VERSION);
    let mut out: Vec<Offer> = Vec::new();
    for it in items {
        let f = |k: &str| field(it, k);
        let mine = |k: &str, ours: &str| f(k).is_empty() || f(k) == ours;
        if !(mine("PackageName", PACKAGE)
            && mine("BinaryOS", goos())
            && mine("BinaryArch", goarch()))
        {
            continue;
        }
        let version = f("Version");
        let Some(semver) = SemVer::parse(&version) else {
            log::warn(&format!(
                "the update server offers '{}', which is not a semantic version: ignored",
                version
            ));
            continue;
        };
        let newer = current
            .as_ref()
            .is_none_or(|c| semver.precedence(c).is_gt());
        if !newer || out.iter().any(|o| o.version == version) {
            continue;
        }
        out.push(Offer {
            version,
            semver,
            label: f("Label"),
            description: f("Description"),
            url: f("BinaryURL"),
            checksum: f("BinaryChecksum"),
            signature: f("BinarySignature"),
            hash_type: f("BinaryHashType"),
            size: f("BinarySize"),
        });
    }
    out.sort_by(|a, b| a.semver.precedence(&b.semver));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_and_url_policy() {
        assert_eq!(
            endpoint("https://u.example.com").unwrap(),
            "https://u.example.com/a/update-server/"
        );
        assert_eq!(
            endpoint("https://u.example.com/cec/a/update-server").unwrap(),
            "https://u.example.com/cec/a/update-server/"
        );
        assert!(endpoint("http://127.0.0.1:8080/").is_ok());
        assert!(endpoint("http://[::1]:8080").is_ok());
        assert!(endpoint("http://localhost").is_ok());
        for bad in [
            "http://u.example.com",
            "ftp://u.example.com",
            "u.example.com",
            "file:///x",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn select_keeps_newer_valid_versions_for_this_platform_sorted() {
        let items = vec![
            json!({"Version": "99.0.0-rc.1"}),
            json!({"Version": "99.0.0", "BinarySize": 12}),
            json!({"Version": "98.1.0", "BinaryOS": goos(), "BinaryArch": goarch()}),
            json!({"Version": "97.0.0", "BinaryArch": "not-this-arch"}),
            json!({"Version": "96.0.0", "PackageName": "Other"}),
            json!({"Version": "v95.0.0"}),
            json!({"Version": "0.0.1"}),
            json!({"Version": CURRENT_VERSION}),
            json!({"Version": "99.0.0"}),
            json!("not an object"),
        ];
        let got: Vec<String> = select(&items).into_iter().map(|o| o.version).collect();
        assert_eq!(got, ["98.1.0", "99.0.0-rc.1", "99.0.0"]);
        assert_eq!(select(&items[1..2])[0].size, "12");
    }
}
