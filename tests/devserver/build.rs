//! Optional fronts: `src/update.rs` is compiled in (cfg `has_update`) once it exists.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_update)");
    println!("cargo::rerun-if-changed=src");
    if std::path::Path::new("src/update.rs").exists() {
        println!("cargo::rustc-cfg=has_update");
    }
}
