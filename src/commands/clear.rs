//! `cec clear [-f]`: forget every account (keyring entries and config.json).
//! Without `-f` it asks for confirmation, and refuses when stdin is not a terminal.

use crate::auth::prompt::{stdin_is_tty, Prompter};
use crate::auth::GlobalArgs;
use crate::config::keyring;
use crate::error::{Error, Result};

pub fn run(g: &GlobalArgs, force: bool) -> Result<()> {
    let store = g.store()?;
    if !force {
        if !stdin_is_tty() {
            return Err(Error::usage(
                "clear",
                "refusing to erase the configuration without --force (stdin is not a terminal)",
            ));
        }
        let p = Prompter::new("clear");
        if !p.confirm(
            "Are you sure you wish to erase the configuration",
            "use --force",
        )? {
            errln!("Operation aborted by user, nothing has been removed.");
            return Ok(());
        }
    }
    let cfg = store
        .load()
        .map_err(|e| e.context("could not retrieve the account list, nothing was removed"))?;
    for (id, a) in &cfg.configs {
        if a.skip_keyring {
            continue;
        }
        if let Err(e) = keyring::delete(&a.keyring_key()) {
            errln!("Warning: could not delete the keyring entry of {id}: {e}");
        }
    }
    if store.exists() {
        let guard = store.lock()?;
        store.remove_file_locked(&guard)?;
    }
    errln!("✔ All defined accounts have been erased.");
    Ok(())
}
