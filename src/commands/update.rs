//! `cec update [--dev] [--version V] [--dry-run]` and `cec update --rollback [--dry-run]`.
//! The work is in `crate::update`; this file checks the flags and prints.
use crate::cli::UpdateArgs;
use crate::error::{Error, Result};
use crate::output::{for_stdout, Align, Table};
use crate::update::{self, SemVer, CURRENT_VERSION};

pub fn run(a: &UpdateArgs) -> Result<()> {
    if a.rollback {
        if a.version.is_some() || a.dev {
            return Err(Error::usage(
                "update",
                "--rollback takes no --version or --dev: it puts back the previous binary",
            ));
        }
        return rollback(a.dry_run);
    }
    if let Some(v) = &a.version {
        if SemVer::parse(v).is_none() {
            return Err(Error::usage(
                "update",
                format!("--version '{}' is not a semantic version (like 4.3.2)", v),
            ));
        }
    }
    let channel = if a.dev { "dev" } else { "stable" };
    let src = update::source()?;
    match &a.version {
        None => list(&src, channel, a.dev),
        Some(v) => install(&src, channel, v, a.dry_run),
    }
}

fn list(src: &update::Source, channel: &str, dev: bool) -> Result<()> {
    let offers = update::available(src, channel)?;
    if offers.is_empty() {
        errln!("cec {CURRENT_VERSION} is up to date: no newer version in the {channel} channel.");
        return Ok(());
    }
    errln!("Newer versions in the {channel} channel (this is {CURRENT_VERSION}):");
    let mut t = Table::new(&["Version", "Label", "Description"]);
    t.align = Align::Left;
    t.header_left = true;
    for o in &offers {
        t.row(vec![
            o.version.clone(),
            for_stdout(&o.label).into_owned(),
            for_stdout(&o.description).into_owned(),
        ]);
    }
    t.print();
    let dev_flag = if dev { " --dev" } else { "" };
    errln!("Install one with: cec update --version <VERSION>{dev_flag}");
    if dev {
        errln!("Warning: the dev channel carries pre-release builds.");
    }
    Ok(())
}

fn install(src: &update::Source, channel: &str, version: &str, dry_run: bool) -> Result<()> {
    let done = update::install(src, channel, version, dry_run)?;
    match done.backup {
        None => errln!(
            "Dry run: cec {} downloaded and verified (size, checksum, signature, trial run); {} not replaced.",
            done.version,
            done.exe.display()
        ),
        Some(b) => errln!(
            "cec updated to {} ({}); the previous binary ({CURRENT_VERSION}) is kept in {}: 'cec update --rollback' puts it back.",
            done.version,
            done.exe.display(),
            b.display()
        ),
    }
    Ok(())
}

fn rollback(dry_run: bool) -> Result<()> {
    let done = update::rollback(dry_run)?;
    let from = done
        .backup
        .as_ref()
        .map(|b| b.display().to_string())
        .unwrap_or_default();
    if dry_run {
        errln!(
            "Dry run: {from} starts and would replace {}; nothing changed.",
            done.exe.display()
        );
    } else {
        errln!(
            "Rolled back to cec {} ({}).",
            done.version,
            done.exe.display()
        );
    }
    Ok(())
}
