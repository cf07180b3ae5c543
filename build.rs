//! Embeds the git commit and its time, the build time and the rustc version for `cec version`.
//! Works without git, without a .git directory (tarball) and with a shallow clone:
//! missing values become "unknown". `CEC_GIT_COMMIT` and `SOURCE_DATE_EPOCH` in the
//! build environment override the detected values (reproducible builds).
//!
//! Also embeds the update server of this build (README, Updating): `CEC_BUILD_UPDATE_URL`
//! (https) and `CEC_BUILD_UPDATE_KEY` (path to the PEM public key that signs its binaries)
//! go together; the key is checked here, so a bad one fails the build, not `cec update`.
use std::path::Path;
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
fn iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[path = "src/update/key.rs"]
mod key;

/// `CEC_BUILTIN_UPDATE_URL` and `$OUT_DIR/update-key.der` (both empty without a server).
fn update_server() {
    println!("cargo:rerun-if-env-changed=CEC_BUILD_UPDATE_URL");
    println!("cargo:rerun-if-env-changed=CEC_BUILD_UPDATE_KEY");
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (url, der) = match (get("CEC_BUILD_UPDATE_URL"), get("CEC_BUILD_UPDATE_KEY")) {
        (None, None) => (String::new(), Vec::new()),
        (Some(url), Some(file)) => {
            let url = url.trim().to_string();
            let rest = url.strip_prefix("https://").unwrap_or("");
            if rest.is_empty() || rest.starts_with('/') {
                panic!("CEC_BUILD_UPDATE_URL must be an https:// URL, not {url:?}");
            }
            println!("cargo:rerun-if-changed={file}");
            let pem = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("CEC_BUILD_UPDATE_KEY {file}: {e}"));
            let der = key::rsa_public_key_der(&pem)
                .unwrap_or_else(|e| panic!("CEC_BUILD_UPDATE_KEY {file}: {e}"));
            (url, der)
        }
        _ => {
            panic!("CEC_BUILD_UPDATE_URL and CEC_BUILD_UPDATE_KEY go together: set both or neither")
        }
    };
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&out).join("update-key.der"), der).expect("write update-key.der");
    println!("cargo:rustc-env=CEC_BUILTIN_UPDATE_URL={url}");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/update/key.rs");
    update_server();
    println!("cargo:rerun-if-env-changed=CEC_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let git_dir = Path::new(&manifest).join(".git");
    if git_dir.exists() {
        // Rebuild the version info when HEAD moves. Git says where HEAD and its branch
        // are: in a worktree `.git` is a file, and branches live in the main repository.
        let git_path = |p: &str| {
            run("git", &["-C", &manifest, "rev-parse", "--git-path", p])
                .map(|r| Path::new(&manifest).join(r.trim()))
        };
        if let Some(head) = git_path("HEAD") {
            println!("cargo:rerun-if-changed={}", head.display());
            let branch = std::fs::read_to_string(&head).ok();
            if let Some(r) = branch
                .as_deref()
                .and_then(|h| h.trim().strip_prefix("ref: "))
            {
                for p in [git_path(r), git_path("packed-refs")].into_iter().flatten() {
                    if p.exists() {
                        println!("cargo:rerun-if-changed={}", p.display());
                    }
                }
            }
        }
    }
    let commit = std::env::var("CEC_GIT_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            if git_dir.exists() {
                run("git", &["-C", &manifest, "rev-parse", "--short=12", "HEAD"])
            } else {
                None
            }
        })
        .unwrap_or_else(|| "unknown".into());
    // The commit's time, for `version -f '{{.GitTime}}'` (empty when unknown).
    let git_time = std::env::var("CEC_GIT_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .map_or_else(
            || {
                git_dir
                    .exists()
                    .then(|| {
                        run(
                            "git",
                            &["-C", &manifest, "show", "-s", "--format=%ct", "HEAD"],
                        )
                    })
                    .flatten()
            },
            |_| None,
        )
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(iso)
        .unwrap_or_default();
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = run(&rustc, &["--version"])
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CEC_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=CEC_BUILD_TIME={}", iso(secs));
    println!("cargo:rustc-env=CEC_GIT_TIME={git_time}");
    println!("cargo:rustc-env=CEC_RUSTC_VERSION={rustc_version}");
}
