//! `cec info`: the account in use (user, server URL, auth type) and the server
//! version from `/a/frontend/bootconf` when it answers.

use crate::api::frontend::BootConf;
use crate::auth;
use crate::auth::GlobalArgs;
use crate::config::auth_label;
use crate::error::Result;
use crate::output::{Align, Table};

pub fn run(g: &GlobalArgs) -> Result<()> {
    let client = auth::connect(g)?;
    // the login behind the token (also checks the credentials)
    let user = client.session_user()?;
    let version = client
        .get_json::<BootConf>("/a/frontend/bootconf")
        .ok()
        .and_then(|b| b.backend)
        .and_then(|b| b.version)
        .unwrap_or_default();
    let mut t = Table::new(&["Username", "Server URL", "Auth Type", "Server Version"]);
    t.header_left = true;
    t.align = Align::Left;
    t.row(vec![
        user,
        client.base_url().to_string(),
        auth_label(&client.auth_type),
        version,
    ]);
    t.print();
    Ok(())
}
