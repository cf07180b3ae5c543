//! `cec version [-f TEMPLATE]` and `cec --version`.
use crate::error::Result;
use crate::output::{self, Template};

/// Build information embedded by build.rs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = env!("CEC_GIT_COMMIT");
pub const BUILT: &str = env!("CEC_BUILD_TIME");
pub const RUST_VERSION: &str = env!("CEC_RUSTC_VERSION");

/// The value of a `--format` field (`cli::flags::VERSION_FIELDS`).
fn field(name: &str) -> String {
    match name {
        "Version" => VERSION.into(),
        "Built" => BUILT.into(),
        "GitCommit" => GIT_COMMIT.into(),
        "OS" => std::env::consts::OS.into(),
        "Arch" => std::env::consts::ARCH.into(),
        "RustVersion" => RUST_VERSION.into(),
        _ => String::new(),
    }
}

pub fn run(format: Option<&Template>) -> Result<()> {
    match format {
        Some(t) => output::print_out(&t.render(field)),
        None => output::print_out(&format!(
            "Cells Client (cec)\n Version:\t{}\n Built:\t\t{}\n Git commit:\t{}\n OS/Arch:\t{}/{}\n Rust version:\t{}\n",
            VERSION,
            BUILT,
            GIT_COMMIT,
            std::env::consts::OS,
            std::env::consts::ARCH,
            RUST_VERSION
        )),
    }
    Ok(())
}
