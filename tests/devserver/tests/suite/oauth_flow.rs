//! OAuth2 front end-to-end: the authorization-code flow driven like a browser (GET the
//! authorization URL, fill in the HTML form, follow the redirect), PKCE, single-use codes,
//! rotating refresh tokens with replay revocation, token expiry and persistence.

use crate::support::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use sha2::{Digest, Sha256};

const CALLBACK: &str = "http://localhost:3000/servers/callback";
const SCOPE: &str = "openid email profile pydio offline";
const STATE: &str = "QwErTyUiOpAsDfGh";

fn auth_url(base: &str, redirect: &str, extra: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("client_id", "cells-client");
    s.append_pair("redirect_uri", redirect);
    s.append_pair("response_type", "code");
    s.append_pair("scope", SCOPE);
    s.append_pair("state", STATE);
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    format!("{base}/oidc/oauth2/auth?{}", s.finish())
}

/// Like a browser: open the URL, fill the login form, submit it; returns the final response
/// of the form POST (a 302 on success).
fn browser_login(srv: &Srv, url: &str, login: &str, password: &str) -> Resp {
    let page = get(url, &[]);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    let form = parse_form(&page.body);
    assert_eq!(form.method.to_ascii_lowercase(), "post");
    let mut fields: Vec<(String, String)> = form
        .fields
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "login" => (k, login.to_string()),
            "password" => (k, password.to_string()),
            _ => (k, v),
        })
        .collect();
    assert!(
        fields.iter().any(|(k, _)| k == "login") && fields.iter().any(|(k, _)| k == "password"),
        "{fields:?}"
    );
    fields.sort();
    let f: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    post_form(&absolute(&srv.url, &form.action), &f)
}

/// Full login through the callback redirect: returns the code.
fn login_code(srv: &Srv, redirect: &str, extra: &[(&str, &str)], login: &str) -> String {
    let r = browser_login(
        srv,
        &auth_url(&srv.url, redirect, extra),
        login,
        &format!("{login}123"),
    );
    assert_eq!(r.status, 302, "{r:?}");
    let loc = r.location.expect("Location");
    assert!(loc.starts_with(&format!("{redirect}?")), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q.get("state").map(String::as_str), Some(STATE));
    q.get("code").cloned().expect("code in the redirect")
}

fn exchange(srv: &Srv, code: &str, redirect: &str, verifier: Option<&str>) -> Resp {
    let mut f = vec![
        ("client_id", "cells-client"),
        ("code", code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect),
    ];
    if let Some(v) = verifier {
        f.push(("code_verifier", v));
    }
    post_form(&format!("{}/oidc/oauth2/token", srv.url), &f)
}

fn refresh(srv: &Srv, rt: &str) -> Resp {
    post(
        &format!("{}/oidc/oauth2/token", srv.url),
        "application/x-www-form-urlencoded",
        &format!(
            "client_id=cells-client&grant_type=refresh_token&refresh_token={}&scope=openid+email+profile+pydio+offline",
            form_urlencoded::byte_serialize(rt.as_bytes()).collect::<String>()
        ),
        &[("Cache-Control", "no-cache")],
    )
}

fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{r:?}");
    let v = r.json();
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["status_code"], status, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{v}"
    );
}

/// The login the server associates with an access token (REST `/a/frontend/state`).
fn whoami(srv: &Srv, token: &str) -> Option<String> {
    let r = get(
        &format!("{}/a/frontend/state", srv.url),
        &[("Authorization", &format!("Bearer {token}"))],
    );
    if r.status != 200 {
        return None;
    }
    let i = r.body.find("<user id=\"")? + 10;
    let j = r.body[i..].find('"')? + i;
    Some(r.body[i..j].to_string())
}

fn pkce() -> (String, String) {
    let verifier = B64URL.encode(rand::random::<[u8; 32]>());
    let challenge = B64URL.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[test]
fn code_flow_like_a_browser() {
    let srv = Srv::start("oauth-flow", &[]);
    // A wrong password re-displays the form.
    let r = browser_login(&srv, &auth_url(&srv.url, CALLBACK, &[]), "alice", "wrong");
    assert_eq!(r.status, 401, "{r:?}");
    assert!(
        r.body.contains("<form") && r.body.contains("Invalid login or password"),
        "{}",
        r.body
    );

    let code = login_code(&srv, CALLBACK, &[], "alice");
    assert!(code.len() >= 20);
    let r = exchange(&srv, &code, CALLBACK, None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.content_type.starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["scope"], SCOPE);
    assert!(v["expires_in"].as_u64().unwrap() > 0, "{v}");
    assert!(
        v["id_token"].as_str().unwrap().split('.').count() == 3,
        "{v}"
    );
    let access = v["access_token"].as_str().unwrap();
    assert!(v["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(whoami(&srv, access).as_deref(), Some("alice"));

    // Any port of the loopback callback works; 127.0.0.1 too.
    for cb in [
        "http://localhost:41234/servers/callback",
        "http://127.0.0.1:3000/servers/callback",
    ] {
        let code = login_code(&srv, cb, &[], "bob");
        let r = exchange(&srv, &code, cb, None);
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(
            whoami(&srv, r.json()["access_token"].as_str().unwrap()).as_deref(),
            Some("bob")
        );
    }
}

#[test]
fn out_of_band_page_shows_the_code() {
    let srv = Srv::start("oauth-oob", &[]);
    let oob = format!("{}/oauth2/oob", srv.url);
    let r = browser_login(&srv, &auth_url(&srv.url, &oob, &[]), "admin", "admin123");
    assert_eq!(r.status, 302, "{r:?}");
    let loc = r.location.unwrap();
    assert!(loc.starts_with(&format!("{oob}?")), "{loc}");
    let page = get(&loc, &[]);
    assert_eq!(page.status, 200);
    let code = query_of(&loc)["code"].clone();
    assert!(page.body.contains(&code), "{}", page.body);
    let r = exchange(&srv, &code, &oob, None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        whoami(&srv, r.json()["access_token"].as_str().unwrap()).as_deref(),
        Some("admin")
    );
}

#[test]
fn bad_authorization_requests() {
    let srv = Srv::start("oauth-bad", &[]);
    // Unknown client, unregistered redirect URI: an error page, never a redirect.
    let mut u =
        auth_url(&srv.url, CALLBACK, &[]).replace("client_id=cells-client", "client_id=evil");
    let r = get(&u, &[]);
    assert_eq!(r.status, 401, "{r:?}");
    assert!(r.location.is_none());
    for bad in [
        "http://evil.example.com/servers/callback",
        "http://localhost:3000/other",
        "http://127.0.0.1:1/oauth2/oob",
    ] {
        u = auth_url(&srv.url, bad, &[]);
        let r = get(&u, &[]);
        assert_eq!(r.status, 400, "{bad}: {r:?}");
        assert!(r.location.is_none());
    }
    // Other errors go back to the client through the redirect.
    let r = get(
        &auth_url(&srv.url, CALLBACK, &[]).replace("response_type=code", "response_type=token"),
        &[],
    );
    assert_eq!(r.status, 302);
    assert_eq!(
        query_of(r.location.as_deref().unwrap())["error"],
        "unsupported_response_type"
    );
    let r = get(
        &auth_url(&srv.url, CALLBACK, &[]).replace(STATE, "short"),
        &[],
    );
    assert_eq!(
        query_of(r.location.as_deref().unwrap())["error"],
        "invalid_state"
    );
    let r = get(
        &auth_url(&srv.url, CALLBACK, &[]).replace("pydio+offline", "pydio+admin"),
        &[],
    );
    assert_eq!(
        query_of(r.location.as_deref().unwrap())["error"],
        "invalid_scope"
    );
    let r = get(
        &auth_url(
            &srv.url,
            CALLBACK,
            &[
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
        ),
        &[],
    );
    assert_eq!(
        query_of(r.location.as_deref().unwrap())["error"],
        "invalid_request"
    );
}

#[test]
fn token_endpoint_errors() {
    let srv = Srv::start("oauth-token-errors", &[]);
    let t = format!("{}/oidc/oauth2/token", srv.url);
    assert_oauth_error(
        &post_form(
            &t,
            &[("client_id", "cells-client"), ("grant_type", "password")],
        ),
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &post_form(&t, &[("client_id", "cells-client")]),
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &post_form(
            &t,
            &[
                ("client_id", "other"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
            ],
        ),
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &post_form(&t, &[("grant_type", "authorization_code"), ("code", "x")]),
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &post_form(
            &t,
            &[
                ("client_id", "cells-client"),
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", CALLBACK),
            ],
        ),
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &post_form(
            &t,
            &[
                ("client_id", "cells-client"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "ory_rt_nope"),
            ],
        ),
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &post(&t, "application/json", "{}", &[]),
        400,
        "invalid_request",
    );
    // A code is bound to its redirect URI.
    let code = login_code(&srv, CALLBACK, &[], "alice");
    assert_oauth_error(
        &exchange(&srv, &code, "http://localhost:3001/servers/callback", None),
        400,
        "invalid_grant",
    );
}

#[test]
fn code_is_single_use_and_replay_revokes() {
    let srv = Srv::start("oauth-code-once", &[]);
    let code = login_code(&srv, CALLBACK, &[], "alice");
    let first = exchange(&srv, &code, CALLBACK, None);
    assert_eq!(first.status, 200);
    let rt = first.json()["refresh_token"].as_str().unwrap().to_string();
    assert_oauth_error(&exchange(&srv, &code, CALLBACK, None), 400, "invalid_grant");
    // The grant born from the replayed code is revoked.
    assert_oauth_error(&refresh(&srv, &rt), 400, "invalid_grant");
}

#[test]
fn pkce_is_checked_when_used() {
    let srv = Srv::start("oauth-pkce", &[]);
    let (verifier, challenge) = pkce();
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // Missing verifier.
    let code = login_code(&srv, CALLBACK, &extra, "alice");
    assert_oauth_error(&exchange(&srv, &code, CALLBACK, None), 400, "invalid_grant");
    // Wrong verifier.
    let code = login_code(&srv, CALLBACK, &extra, "alice");
    let (other, _) = pkce();
    assert_oauth_error(
        &exchange(&srv, &code, CALLBACK, Some(&other)),
        400,
        "invalid_grant",
    );
    // Right verifier.
    let code = login_code(&srv, CALLBACK, &extra, "alice");
    let r = exchange(&srv, &code, CALLBACK, Some(&verifier));
    assert_eq!(r.status, 200, "{r:?}");
    // A verifier without a challenge is refused too.
    let code = login_code(&srv, CALLBACK, &[], "alice");
    assert_oauth_error(
        &exchange(&srv, &code, CALLBACK, Some(&verifier)),
        400,
        "invalid_grant",
    );
    // Without --require-pkce a plain request is fine.
    let code = login_code(&srv, CALLBACK, &[], "alice");
    assert_eq!(exchange(&srv, &code, CALLBACK, None).status, 200);
}

#[test]
fn pkce_can_be_required() {
    let srv = Srv::start("oauth-pkce-required", &["--require-pkce"]);
    let r = get(&auth_url(&srv.url, CALLBACK, &[]), &[]);
    assert_eq!(r.status, 302, "{r:?}");
    let q = query_of(r.location.as_deref().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], STATE);
    assert!(q["error_description"].contains("PKCE"), "{q:?}");
    let (verifier, challenge) = pkce();
    let code = login_code(
        &srv,
        CALLBACK,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
        "bob",
    );
    let r = exchange(&srv, &code, CALLBACK, Some(&verifier));
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn refresh_tokens_rotate_and_replay_revokes_the_grant() {
    let srv = Srv::start("oauth-refresh", &[]);
    let code = login_code(&srv, CALLBACK, &[], "alice");
    let v = exchange(&srv, &code, CALLBACK, None).json();
    let rt1 = v["refresh_token"].as_str().unwrap().to_string();

    let r = refresh(&srv, &rt1);
    assert_eq!(r.status, 200, "{r:?}");
    let v2 = r.json();
    let rt2 = v2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "refresh tokens rotate");
    assert_eq!(
        whoami(&srv, v2["access_token"].as_str().unwrap()).as_deref(),
        Some("alice")
    );

    let r = refresh(&srv, &rt2);
    assert_eq!(r.status, 200, "{r:?}");
    let rt3 = r.json()["refresh_token"].as_str().unwrap().to_string();

    // Replaying a spent token fails and revokes the grant: the newest token dies too.
    assert_oauth_error(&refresh(&srv, &rt1), 400, "invalid_grant");
    assert_oauth_error(&refresh(&srv, &rt3), 400, "invalid_grant");

    // Another login is unaffected.
    let code = login_code(&srv, CALLBACK, &[], "alice");
    let rt = exchange(&srv, &code, CALLBACK, None).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(refresh(&srv, &rt).status, 200);
}

#[test]
fn access_tokens_expire_and_refresh_gives_new_ones() {
    let srv = Srv::start("oauth-expiry", &["--token-lifetime", "5"]);
    let code = login_code(&srv, CALLBACK, &[], "bob");
    let v = exchange(&srv, &code, CALLBACK, None).json();
    assert_eq!(v["expires_in"], 5, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(whoami(&srv, &access).as_deref(), Some("bob"));
    // Lifetimes have a one-second granularity: wait past the expiry for sure.
    std::thread::sleep(std::time::Duration::from_millis(6100));
    assert_eq!(
        whoami(&srv, &access),
        None,
        "expired access token must be refused"
    );
    let r = refresh(&srv, v["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "{r:?}");
    let fresh = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(whoami(&srv, &fresh).as_deref(), Some("bob"));
}

#[test]
fn grants_survive_a_restart() {
    let srv = Srv::start("oauth-restart", &[]);
    let code = login_code(&srv, CALLBACK, &[], "alice");
    let rt = exchange(&srv, &code, CALLBACK, None).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let root = srv.stop();
    let srv = Srv::start_on(root, &[], &[]);
    let r = refresh(&srv, &rt);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        whoami(&srv, r.json()["access_token"].as_str().unwrap()).as_deref(),
        Some("alice")
    );
    // The spent token is still recognised as spent after the restart.
    let root = srv.stop();
    let srv = Srv::start_on(root, &[], &[]);
    assert_oauth_error(&refresh(&srv, &rt), 400, "invalid_grant");
    let _ = std::fs::remove_dir_all(&srv.root);
}

#[test]
fn discovery_document() {
    let srv = Srv::start("oauth-discovery", &[]);
    let r = get(
        &format!("{}/oidc/.well-known/openid-configuration", srv.url),
        &[],
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["token_endpoint"],
        format!("{}/oidc/oauth2/token", srv.url)
    );
    assert_eq!(
        v["authorization_endpoint"],
        format!("{}/oidc/oauth2/auth", srv.url)
    );
}
