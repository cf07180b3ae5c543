//! `cec update`: what the update server offers, a verified atomic install, the way back.
//!
//! An install: a temporary file is created beside the executable (so a folder we cannot
//! write is refused before anything is downloaded), space is reserved, the binary is
//! streamed into it while hashed, then checked (size, SHA-256, RSA signature with this
//! build's key, a trial `version` run); the current binary is copied to the config folder
//! and the new one renamed over it. Any refusal removes the temporary file: nothing is
//! replaced. Protocol: docs/protocol.md §7.
mod fetch;
pub mod key;
mod replace;
mod semver;
mod server;
mod verify;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::output::human_size;
pub use replace::Exe;
pub use semver::SemVer;
pub use server::{source, Offer, Source};

/// This build's version, as sent to the update server.
pub const CURRENT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// No binary of ours is anywhere near this; a bigger announced size is refused.
const MAX_SIZE: u64 = 1 << 30;

/// The newer versions on offer in `channel` (`stable` or `dev`), oldest first.
pub fn available(src: &Source, channel: &str) -> Result<Vec<Offer>> {
    server::list(src, channel)
}

/// What an install or a rollback did.
#[derive(Debug)]
pub struct Done {
    pub exe: PathBuf,
    /// The version now installed (or that would be, in a dry run).
    pub version: String,
    /// Where the previous binary was kept (install), or which backup was used (rollback).
    pub backup: Option<PathBuf>,
}

fn refuse(label: &str, why: &str) -> Error {
    Error::failure(format!("{label} refused: {why}; nothing replaced"))
}

/// A failure after the temporary file exists: say that nothing was replaced.
fn unchanged(mut e: Error) -> Error {
    if !e.message.ends_with("nothing replaced") {
        e.message.push_str("; nothing replaced");
    }
    e
}

/// The checked facts of an offer: URL, size, checksum, signature.
struct Checked {
    size: u64,
    checksum: Vec<u8>,
    signature: Vec<u8>,
}

fn check_offer(o: &Offer, label: &str) -> Result<Checked> {
    if !o.hash_type.is_empty() && !o.hash_type.eq_ignore_ascii_case("sha256") {
        return Err(refuse(
            label,
            &format!("unknown hash type '{}'", o.hash_type),
        ));
    }
    let size = match o.size.trim().parse::<u64>() {
        Ok(n) if n > 0 && n <= MAX_SIZE => n,
        _ => {
            return Err(refuse(
                label,
                &format!("the update server gave no usable size ('{}')", o.size),
            ))
        }
    };
    let checksum = verify::decode(&o.checksum, "checksum", 32).map_err(|w| refuse(label, &w))?;
    if checksum.len() != 32 {
        return Err(refuse(
            label,
            "the update server's checksum is not a SHA-256",
        ));
    }
    let signature =
        verify::decode(&o.signature, "signature", 1024).map_err(|w| refuse(label, &w))?;
    Ok(Checked {
        size,
        checksum,
        signature,
    })
}

/// Download, verify and install `version` from `channel` (`dry_run`: stop before the
/// backup and the replacement).
pub fn install(src: &Source, channel: &str, version: &str, dry_run: bool) -> Result<Done> {
    let exe = Exe::running()?;
    let (mut file, staged) = exe.stage()?;
    let offers = server::list(src, channel)?;
    let Some(offer) = offers.iter().find(|o| o.version == version) else {
        return Err(not_offered(version, channel, &offers));
    };
    let label = format!("cec {version}");
    let c = check_offer(offer, &label)?;
    let what = format!("{label} ({})", human_size(c.size));
    let write_error = |e| replace::write_error(&exe.dir, &what, e);
    replace::reserve(&file, c.size).map_err(write_error)?;
    let digest =
        fetch::download(&offer.url, c.size, &mut file, &label, &write_error).map_err(unchanged)?;
    file.sync_all().map_err(write_error)?;
    verify::checksum(&digest, &c.checksum).map_err(|w| refuse(&label, &w))?;
    verify::signature(&file, c.size, &src.key, &c.signature).map_err(|w| refuse(&label, &w))?;
    drop(file);
    exe.set_mode(&staged)?;
    verify::starts(&staged.path, version).map_err(|w| refuse(&label, &w))?;
    if dry_run {
        return Ok(Done {
            exe: exe.path,
            version: version.to_string(),
            backup: None,
        });
    }
    let backup = replace::keep_backup(&exe, CURRENT_VERSION)?;
    exe.replace_with(staged)?;
    Ok(Done {
        exe: exe.path,
        version: version.to_string(),
        backup: Some(backup),
    })
}

fn not_offered(version: &str, channel: &str, offers: &[Offer]) -> Error {
    let list: Vec<&str> = offers.iter().map(|o| o.version.as_str()).collect();
    let avail = if list.is_empty() {
        "none is newer than this one".to_string()
    } else {
        format!("available: {}", list.join(", "))
    };
    Error::not_found(format!(
        "version {version} is not offered in the {channel} channel ({avail})"
    ))
}

/// Put back the binary the last update replaced (`dry_run`: check it, change nothing).
pub fn rollback(dry_run: bool) -> Result<Done> {
    let exe = Exe::running()?;
    let Some((backup, version)) = replace::latest_backup()? else {
        return Err(Error::not_found(format!(
            "no previous binary to roll back to in {}",
            replace::backup_dir()?.display()
        )));
    };
    let (mut file, staged) = exe.stage()?;
    let label = format!("the previous binary ({version})");
    replace::copy_into(&backup, &mut file)
        .map_err(|e| replace::write_error(&exe.dir, &label, e))?;
    drop(file);
    exe.set_mode(&staged)?;
    verify::starts(&staged.path, &version).map_err(|w| refuse(&label, &w))?;
    if !dry_run {
        exe.replace_with(staged)?;
        let _ = std::fs::remove_file(&backup);
    }
    Ok(Done {
        exe: exe.path,
        version,
        backup: Some(backup),
    })
}
