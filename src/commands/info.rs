//! `cec info [--json]`: the account in use (user, server URL, auth type) and the
//! server version from `/a/frontend/bootconf` when it answers.

use crate::api::frontend::BootConf;
use crate::auth;
use crate::auth::GlobalArgs;
use crate::config::{account_id, auth_label};
use crate::error::Result;
use crate::output::{self, Align, Table};

pub fn run(g: &GlobalArgs, json: bool) -> Result<()> {
    let client = auth::connect(g)?;
    // the login behind the token (also checks the credentials)
    let user = client.session_user()?;
    let version = client
        .get_json::<BootConf>("/a/frontend/bootconf")
        .ok()
        .and_then(|b| b.backend)
        .and_then(|b| b.version)
        .filter(|v| !v.is_empty());
    if json {
        let account = (!client.env_mode).then(|| account_id(&client.user, client.server()));
        let v = serde_json::json!({
            "user": user,
            "url": client.base_url(),
            "auth_type": client.auth_type,
            "account": account,
            "server_version": version,
        });
        output::println_out(&v.to_string());
        return Ok(());
    }
    let mut t = Table::new(&["Username", "Server URL", "Auth Type", "Server Version"]);
    t.header_left = true;
    t.align = Align::Left;
    t.row(vec![
        user,
        client.base_url().to_string(),
        auth_label(&client.auth_type),
        version.unwrap_or_default(),
    ]);
    t.print();
    Ok(())
}
