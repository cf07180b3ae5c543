//! Hidden `cec tools hash` and `cec tools version isvalid|isrelease|isgreater`.
use crate::cli::ToolsCmd;
use crate::error::Result;

pub fn run(_t: ToolsCmd) -> Result<()> {
    Err(crate::error::Error::not_available("tools"))
}
