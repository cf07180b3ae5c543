//! Command-line parsing with lexopt into the typed commands of `types`.
pub mod types;
pub use types::*;

use crate::error::Result;
use std::ffi::OsString;

pub fn parse(_args: impl Iterator<Item = OsString>) -> Result<Invocation> {
    Err(crate::error::Error::failure("parser not written yet"))
}
