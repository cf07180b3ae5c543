//! `cec completion bash|zsh`.
use crate::cli::Shell;
use crate::error::Result;

pub fn run(_shell: Shell) -> Result<()> {
    Err(crate::error::Error::not_available("completion"))
}
