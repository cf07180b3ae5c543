//! A tiny in-process Cells look-alike for the authentication tests (frontend
//! state/session/bootconf and an OAuth2 provider with PAT-less tokens,
//! single-use codes, PKCE and rotating single-use refresh tokens).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Default)]
pub struct State {
    /// access token -> (user, expiry)
    pub access: HashMap<String, (String, i64)>,
    /// live refresh tokens -> user
    pub refresh: HashMap<String, String>,
    /// spent refresh tokens (replay = error)
    pub spent: Vec<String>,
    /// code -> (user, redirect, challenge)
    pub codes: HashMap<String, (String, String, Option<String>)>,
    pub counter: u64,
    pub token_lifetime: i64,
    pub refresh_calls: u64,
    pub replays: u64,
    pub auth_requests: Vec<String>,
    pub token_requests: Vec<String>,
    /// Values of `X-Custom` request headers seen.
    pub custom_headers: Vec<String>,
}

pub struct Mock {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

fn q(url: &str) -> HashMap<String, String> {
    let u = url::Url::parse(&format!("http://x{url}")).unwrap();
    u.query_pairs().into_owned().collect()
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn b64url_sha256(v: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

impl Mock {
    pub fn start(token_lifetime: i64) -> Mock {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            token_lifetime,
            ..Default::default()
        }));
        let st = state.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let (code, ctype, text, location) = handle(&st, &base, &req, &body);
                let mut resp = tiny_http::Response::from_string(text).with_status_code(code);
                resp.add_header(
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes()).unwrap(),
                );
                if let Some(l) = location {
                    resp.add_header(
                        tiny_http::Header::from_bytes(&b"Location"[..], l.as_bytes()).unwrap(),
                    );
                }
                let _ = req.respond(resp);
            }
        });
        Mock { url, state }
    }

    /// An OAuth grant for `user` as if the code flow had run: (access, refresh).
    pub fn grant(&self, user: &str) -> (String, String) {
        let mut s = self.state.lock().unwrap();
        s.counter += 1;
        let (at, rt) = (
            format!("at-{user}-{}", s.counter),
            format!("rt-{user}-{}", s.counter),
        );
        let life = s.token_lifetime;
        s.access.insert(at.clone(), (user.into(), now() + life));
        s.refresh.insert(rt.clone(), user.into());
        (at, rt)
    }

    /// A long-lived bearer token for `user` (like a PAT).
    pub fn pat(&self, user: &str) -> String {
        let mut s = self.state.lock().unwrap();
        s.counter += 1;
        let t = format!("pat-{user}-{}", s.counter);
        s.access.insert(t.clone(), (user.into(), now() + 86400));
        t
    }
}

type Reply = (u16, String, String, Option<String>);

fn json(code: u16, v: serde_json::Value) -> Reply {
    (code, "application/json".into(), v.to_string(), None)
}

fn handle(st: &Arc<Mutex<State>>, base: &str, req: &tiny_http::Request, body: &str) -> Reply {
    let path = req.url().split('?').next().unwrap_or("").to_string();
    let bearer = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().trim_start_matches("Bearer ").to_string());
    let mut s = st.lock().unwrap();
    if let Some(h) = req.headers().iter().find(|h| h.field.equiv("X-Custom")) {
        s.custom_headers.push(h.value.as_str().to_string());
    }
    let valid_user = bearer.as_ref().and_then(|b| {
        s.access
            .get(b)
            .filter(|(_, exp)| *exp > now())
            .map(|(u, _)| u.clone())
    });
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/a/frontend/state") => match valid_user {
            Some(u) => (
                200,
                "application/xml".into(),
                format!("<?xml version=\"1.0\"?><pydio_registry><user id=\"{u}\"><active_repo id=\"x\"/></user></pydio_registry>"),
                None,
            ),
            None => json(401, serde_json::json!({"Title":"E_UNAUTHORIZED","Code":"E_UNAUTHORIZED"})),
        },
        ("GET", "/a/frontend/bootconf") => match valid_user {
            Some(_) => json(200, serde_json::json!({"backend":{"Version":"4.4.9","PackageLabel":"Mock"}})),
            None => json(200, serde_json::json!({"backend":{"Version":"abcdef"}})),
        },
        ("POST", "/a/frontend/session") => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            let login = v["AuthInfo"]["login"].as_str().unwrap_or("").to_string();
            let pw = v["AuthInfo"]["password"].as_str().unwrap_or("");
            if pw == format!("{}123", login.to_lowercase()) {
                s.counter += 1;
                let t = format!("jwt-{}-{}", login.to_lowercase(), s.counter);
                let exp = now() + 600;
                s.access.insert(t.clone(), (login.to_lowercase(), exp));
                json(200, serde_json::json!({"JWT": t, "ExpireTime": exp}))
            } else {
                json(401, serde_json::json!({"Title":"Login failed","Detail":"E_UNAUTHORIZED"}))
            }
        }
        ("GET", "/oidc/oauth2/auth") => {
            s.auth_requests.push(req.url().to_string());
            let p = q(req.url());
            let hidden: String = p
                .iter()
                .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{v}\">"))
                .collect();
            (
                200,
                "text/html".into(),
                format!("<html><form method=\"post\" action=\"/oidc/login\">{hidden}<input name=\"login\"><input type=\"password\" name=\"password\"></form></html>"),
                None,
            )
        }
        ("POST", "/oidc/login") => {
            let f = form(body);
            let login = f.get("login").cloned().unwrap_or_default();
            if f.get("password").map(String::as_str) != Some(&format!("{login}123")) {
                return (200, "text/html".into(), "bad login".into(), None);
            }
            s.counter += 1;
            let code = format!("code-{}", s.counter);
            let redirect = f.get("redirect_uri").cloned().unwrap_or_default();
            s.codes.insert(
                code.clone(),
                (login, redirect.clone(), f.get("code_challenge").cloned()),
            );
            let state = f.get("state").cloned().unwrap_or_default();
            let loc = format!("{redirect}?code={code}&scope=openid&state={state}");
            (302, "text/plain".into(), String::new(), Some(loc))
        }
        ("GET", "/oauth2/oob") => (200, "text/html".into(), format!("code: {}", q(req.url()).get("code").cloned().unwrap_or_default()), None),
        ("POST", "/oidc/oauth2/token") => {
            s.token_requests.push(body.to_string());
            let f = form(body);
            let user = match f.get("grant_type").map(String::as_str) {
                Some("authorization_code") => {
                    let Some((user, redirect, challenge)) =
                        s.codes.remove(f.get("code").map(String::as_str).unwrap_or(""))
                    else {
                        return json(400, serde_json::json!({"error":"invalid_grant","error_description":"unknown code","status_code":400}));
                    };
                    if f.get("redirect_uri") != Some(&redirect) {
                        return json(400, serde_json::json!({"error":"invalid_grant","error_description":"redirect mismatch"}));
                    }
                    if let Some(c) = challenge {
                        let ok = f.get("code_verifier").map(|v| b64url_sha256(v)) == Some(c);
                        if !ok {
                            return json(400, serde_json::json!({"error":"invalid_grant","error_description":"PKCE failed"}));
                        }
                    }
                    user
                }
                Some("refresh_token") => {
                    s.refresh_calls += 1;
                    let rt = f.get("refresh_token").cloned().unwrap_or_default();
                    match s.refresh.remove(&rt) {
                        Some(u) => {
                            s.spent.push(rt);
                            u
                        }
                        None => {
                            s.replays += 1;
                            return json(400, serde_json::json!({"error":"invalid_grant","error_description":"refresh token already used","status_code":400}));
                        }
                    }
                }
                _ => return json(400, serde_json::json!({"error":"unsupported_grant_type"})),
            };
            s.counter += 1;
            let n = s.counter;
            let at = format!("at-{user}-{n}");
            let rt = format!("rt-{user}-{n}");
            let life = s.token_lifetime;
            s.access.insert(at.clone(), (user.clone(), now() + life));
            s.refresh.insert(rt.clone(), user);
            json(200, serde_json::json!({"access_token":at,"refresh_token":rt,"expires_in":life,"token_type":"bearer","scope":"openid email profile pydio offline"}))
        }
        _ => {
            let _ = base;
            json(404, serde_json::json!({"Title":"Not found"}))
        }
    }
}

/// Act as a browser: open the authorization URL, submit the login form, and
/// return the final redirect URL (callback or oob) without following it.
pub fn browser_login(auth_url: &str, login: &str, password: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let html = agent.get(auth_url).call().unwrap().into_string().unwrap();
    let action_start = html.find("action=\"").unwrap() + 8;
    let action = &html[action_start..action_start + html[action_start..].find('"').unwrap()];
    let base = url::Url::parse(auth_url).unwrap();
    let post_url = base.join(action).unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find("<input") {
        rest = &rest[i + 6..];
        let tag = &rest[..rest.find('>').unwrap()];
        let attr = |n: &str| {
            let k = format!("{n}=\"");
            tag.find(&k).map(|p| {
                let v = &tag[p + k.len()..];
                v[..v.find('"').unwrap()].to_string()
            })
        };
        if let Some(name) = attr("name") {
            let value = match name.as_str() {
                "login" | "username" => login.to_string(),
                "password" => password.to_string(),
                _ => attr("value").unwrap_or_default(),
            };
            fields.push((name, value));
        }
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let resp = match agent.post(post_url.as_str()).send_form(&pairs) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("login POST failed: {e}"),
    };
    assert!(
        (300..400).contains(&resp.status()),
        "login did not redirect: {}",
        resp.status()
    );
    resp.header("Location").unwrap().to_string()
}

/// `config add oauth` in copy/paste mode, logging in like a browser.
pub fn oauth_oob(
    url: &str,
    cec: &crate::common::Cec,
    user: (&str, &str),
    extra: &[&str],
) -> (i32, String) {
    let mut args = vec!["config", "add", "oauth", "--url", url, "--no-browser"];
    args.extend_from_slice(extra);
    let (mut child, rx) = crate::common::spawn(cec, &args);
    let auth = crate::common::wait_line(&rx, |l| l.contains("/oidc/oauth2/auth?"));
    let p = crate::common::query(auth.trim());
    assert_eq!(p["client_id"], "cells-client");
    assert_eq!(p["redirect_uri"], format!("{url}/oauth2/oob"));
    assert_eq!(p["state"].len(), 16);
    assert_eq!(
        p.contains_key("code_challenge"),
        !extra.contains(&"--no-pkce")
    );
    let loc = browser_login(auth.trim(), user.0, user.1);
    let lq = crate::common::query(url::Url::parse(url).unwrap().join(&loc).unwrap().as_str());
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    match lq.get("code") {
        Some(code) => {
            assert_eq!(lq["state"], p["state"]);
            writeln!(stdin, "{code}").unwrap();
        }
        None => writeln!(stdin).unwrap(),
    }
    drop(stdin);
    crate::common::wait_exit(child, &rx)
}
