//! Hidden `cec doc -p DIR [-m MENU]`.
use crate::error::Result;
use std::path::Path;

pub fn run(_dir: &Path, _menu: &str) -> Result<()> {
    Err(crate::error::Error::not_available("doc"))
}
