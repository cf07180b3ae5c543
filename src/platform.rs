//! This platform in Go's words (`linux`, `amd64`, `arm64`, `arm`…): the names the
//! reference client and the Cells update server use, in `version`, the User-Agent and
//! update listings.

/// The OS in Go's words.
pub fn goos() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// The architecture in Go's words.
pub fn goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}
