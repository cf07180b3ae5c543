//! One file per command; `run` dispatches the parsed invocation.
use crate::cli::Invocation;
use crate::error::Result;

pub fn run(_inv: Invocation) -> Result<()> {
    Ok(())
}
