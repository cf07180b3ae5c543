//! Frontend endpoints used for authentication: session login, the XML state
//! registry and bootconf (docs/protocol.md §3.10, §3.8, §3.9).

use super::http::{self, Req};
use crate::error::{Error, Exit, Result};
use serde::{Deserialize, Serialize};
use ureq::Agent;

#[derive(Serialize)]
struct AuthInfo<'a> {
    login: &'a str,
    password: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FrontSessionRequest<'a> {
    auth_info: AuthInfo<'a>,
}

#[derive(Deserialize, Default, Debug)]
pub struct FrontSessionResponse {
    #[serde(rename = "JWT", default)]
    pub jwt: String,
    #[serde(rename = "ExpireTime", default)]
    pub expire_time: i64,
}

/// `POST /a/frontend/session` with login/password. Returns (JWT, absolute expiry).
/// `ExpireTime` values below 1e9 are treated as a duration in seconds.
pub fn session_login(
    agent: &Agent,
    base: &str,
    login: &str,
    password: &str,
) -> Result<(String, i64)> {
    let body = FrontSessionRequest {
        auth_info: AuthInfo {
            login,
            password,
            kind: "credentials",
        },
    };
    let req = Req::new("POST", format!("{base}/a/frontend/session"))
        .header("Accept", "application/json")
        .json_body(&body)?
        .idempotent(true);
    let resp = http::execute(agent, &req).map_err(|e| {
        if e.exit == Exit::Auth || e.exit == Exit::NotFound {
            Error::auth(format!("login failed for user {login}: {}", e.message))
        } else {
            e.context(format!("login failed for user {login}"))
        }
    })?;
    let r: FrontSessionResponse = super::reply::read_json(resp)?;
    if r.jwt.is_empty() {
        return Err(Error::auth(format!(
            "login failed for user {login}: the server returned no token (second factor required?)"
        )));
    }
    let now = crate::config::now();
    let exp = if r.expire_time <= 0 {
        now + 600
    } else if r.expire_time < 1_000_000_000 {
        now + r.expire_time
    } else {
        r.expire_time
    };
    Ok((r.jwt, exp))
}

/// The `id` of the first `<user …>` start element whose first attribute is `id`.
pub fn user_from_state(xml: &str) -> Option<String> {
    let bytes = xml.as_bytes();
    let mut pos = 0;
    while let Some(off) = xml[pos..].find("<user") {
        let start = pos + off + 5;
        pos = start;
        let &next = bytes.get(start)?;
        if !(next as char).is_ascii_whitespace() {
            continue; // <users>, <user_prefs>, <user/>, <user>
        }
        let rest = xml[start..].trim_start();
        let Some(eq) = rest.find('=') else { continue };
        let name = rest[..eq].trim();
        if name != "id" {
            continue;
        }
        let val = rest[eq + 1..].trim_start();
        let quote = val.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let val = &val[1..];
        let end = val.find(quote)?;
        return Some(crate::text::xml::unescape(&val[..end]));
    }
    None
}

#[derive(Deserialize, Default, Debug)]
pub struct BootConf {
    #[serde(default)]
    pub backend: Option<Backend>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Backend {
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_user() {
        let xml = r#"<?xml version="1.0"?><pydio_registry><users x="1"/><user_x id="no"/>
            <user id="al&amp;ice&#33;"><active_repo id="r"/></user></pydio_registry>"#;
        assert_eq!(user_from_state(xml).as_deref(), Some("al&ice!"));
        assert_eq!(user_from_state("<pydio_registry></pydio_registry>"), None);
        assert_eq!(
            user_from_state("<a><user name='x' id='y'/><user  id='bob'/></a>").as_deref(),
            Some("bob")
        );
    }

    #[test]
    fn unescape() {
        assert_eq!(
            crate::text::xml::unescape("a&lt;b&gt;&quot;&apos;&#x41;&bogus;"),
            "a<b>\"'A&bogus;"
        );
    }
}
