//! `cec version [-f TEMPLATE | --json]` and `cec --version`.
use crate::error::Result;
use crate::output::{self, Template};
use crate::platform::{goarch, goos};

/// Build information embedded by build.rs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = env!("CEC_GIT_COMMIT");
/// The commit's time (`YYYY-MM-DDThh:mm:ssZ`), empty when unknown.
pub const GIT_TIME: &str = env!("CEC_GIT_TIME");
pub const BUILT: &str = env!("CEC_BUILD_TIME");
pub const RUST_VERSION: &str = env!("CEC_RUSTC_VERSION");
pub const PACKAGE_LABEL: &str = "Cells Client";

/// Every field: (template name, `--json` key, value). The template names are
/// `cli::flags::VERSION_FIELDS`; `.GoVersion` (the reference's name) holds the
/// Rust version, `.OS` and `.Arch` use Go's names (`linux`, `amd64`, `arm64`).
pub fn fields() -> [(&'static str, &'static str, &'static str); 9] {
    [
        ("PackageLabel", "package_label", PACKAGE_LABEL),
        ("Version", "version", VERSION),
        ("Built", "built", BUILT),
        ("GitCommit", "git_commit", GIT_COMMIT),
        ("GitTime", "git_time", GIT_TIME),
        ("OS", "os", goos()),
        ("Arch", "arch", goarch()),
        ("RustVersion", "rust_version", RUST_VERSION),
        ("GoVersion", "go_version", RUST_VERSION),
    ]
}

fn field(name: &str) -> String {
    fields()
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, v)| v.to_string())
        .unwrap_or_default()
}

pub fn run(format: Option<&Template>, json: bool) -> Result<()> {
    if json {
        // `go_version` would only repeat `rust_version`.
        let obj: serde_json::Map<String, serde_json::Value> = fields()
            .iter()
            .filter(|(n, _, _)| *n != "GoVersion")
            .map(|(_, k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        output::println_out(&serde_json::Value::Object(obj).to_string());
        return Ok(());
    }
    match format {
        Some(t) => output::print_out(&t.render(field)),
        None => output::print_out(&format!(
            "{PACKAGE_LABEL} (cec)\n Version:\t{VERSION}\n Built:\t\t{BUILT}\n Git commit:\t{GIT_COMMIT}\n OS/Arch:\t{}/{}\n Rust version:\t{RUST_VERSION}\n",
            goos(),
            goarch(),
        )),
    }
    Ok(())
}
