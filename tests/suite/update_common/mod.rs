//! Shared set-up of the `cec update` tests (`mod update_common;`): a private dev server whose
//! update front signs with the test key (tests/devserver/src/update.rs), and a COPY of cec in
//! a temporary folder, the binary that updates replace (target/debug/cec is never touched).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::common::{cec_bin, copy_exe, repo_root, Cec, Out, Server};

/// The version of the cec under test (the copies report it).
pub const CURRENT: &str = env!("CARGO_PKG_VERSION");

/// The public half of the dev server's test signing key.
pub fn test_pub_key() -> PathBuf {
    repo_root().join("tests/devserver/testdata/update-test-pub.pem")
}

/// A shell script that answers `version` like cec does, as version `v`: it "starts".
pub fn script(v: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho 'Cells Client (cec)'\nprintf ' Version:\\t%s\\n' '{v}'\n").into_bytes()
}

/// A shell script that fails: a binary that does not start.
pub fn failing_script() -> Vec<u8> {
    b"#!/bin/sh\necho 'broken build' >&2\nexit 1\n".to_vec()
}

/// The cec under test with its version string replaced by `v` (same length) everywhere:
/// a real binary that reports another version (and can run `update --rollback`).
pub fn patched_cec(v: &str) -> Vec<u8> {
    assert_eq!(
        v.len(),
        CURRENT.len(),
        "the patched version must keep the length"
    );
    let mut b = fs::read(cec_bin()).expect("read cec");
    let (from, to) = (CURRENT.as_bytes(), v.as_bytes());
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= b.len() {
        if &b[i..i + from.len()] == from {
            b[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(n > 0, "version string not found in the cec binary");
    b
}

pub fn sha256_b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b))
}

/// Byte-for-byte equality of two files, streamed.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(fa), Ok(fb)) = (fs::File::open(a), fs::File::open(b)) else {
        return false;
    };
    if fa.metadata().map(|m| m.len()).ok() != fb.metadata().map(|m| m.len()).ok() {
        return false;
    }
    let (mut ra, mut rb) = (std::io::BufReader::new(fa), std::io::BufReader::new(fb));
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = ra.read(&mut ba).expect("read");
        if n == 0 {
            return rb.read(&mut bb).expect("read") == 0;
        }
        if rb.read_exact(&mut bb[..n]).is_err() || ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// These tests give cec the test key at run time, which only a build without a key of its
/// own accepts (README, Updating).
pub fn assert_keyless_build() {
    let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    assert!(
        !set(option_env!("CEC_BUILD_UPDATE_URL")) && !set(option_env!("CEC_BUILD_UPDATE_KEY")),
        "the update tests need a cec built without CEC_BUILD_UPDATE_URL/CEC_BUILD_UPDATE_KEY"
    );
}

/// A dev server with an update front, and a copy of cec pointed at it.
pub struct Rig {
    pub server: Server,
    pub dir: TempDir,
    /// The copy of cec that `update` replaces.
    pub exe: PathBuf,
    pub cec: Cec,
}

impl Rig {
    pub fn new() -> Rig {
        Rig::with_server(Server::start(&[]))
    }

    pub fn with_server(server: Server) -> Rig {
        assert_keyless_build();
        let dir = tempfile::Builder::new()
            .prefix("cec-update-")
            .tempdir()
            .expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let exe = bin.join("cec");
        copy_exe(&cec_bin(), &exe);
        let key = dir.path().join("update-pub.pem");
        fs::copy(test_pub_key(), &key).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let mut cec = Cec::new();
        cec.exe(&exe)
            .env("CEC_UPDATE_URL", &server.url)
            .env("CEC_UPDATE_PUBKEY_FILE", &key);
        fs::create_dir_all(server.root.join("fronts/update")).unwrap();
        Rig {
            server,
            dir,
            exe,
            cec,
        }
    }

    pub fn update_dir(&self) -> PathBuf {
        self.server.root.join("fronts/update")
    }

    /// Put a file on the update server (`/update-binaries/<name>`).
    pub fn publish(&self, name: &str, bytes: &[u8]) {
        fs::write(self.update_dir().join(name), bytes).unwrap();
    }

    pub fn manifest(&self, m: Value) {
        fs::write(self.update_dir().join("manifest.json"), m.to_string()).unwrap();
    }

    /// Offer `bytes` as version `v` (stable channel, any platform).
    pub fn offer(&self, v: &str, bytes: &[u8]) {
        let file = format!("cec-{v}");
        self.publish(&file, bytes);
        self.manifest(json!({"binaries": [{"Version": v, "File": file}]}));
    }

    /// `cec <args>` (the copy).
    pub fn run(&mut self, args: &[&str]) -> Out {
        self.cec.args(args).run()
    }

    /// `<config dir>/cec-*.previous` files.
    pub fn backups(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.cec.config_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".previous"))
            .collect();
        v.sort();
        v
    }

    /// Names in the executable's folder.
    pub fn bin_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.exe.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Nothing replaced, nothing left behind, nothing kept.
    #[track_caller]
    pub fn assert_untouched(&self, out: &Out) {
        assert!(
            same_file(&self.exe, &cec_bin()),
            "the binary was changed:\n{out}"
        );
        assert_eq!(
            self.bin_entries(),
            ["cec"],
            "left-overs beside the binary:\n{out}"
        );
        assert!(self.backups().is_empty(), "a backup was made:\n{out}");
    }
}

/// One line on stderr that starts with "Error:" and contains `what`.
#[track_caller]
pub fn assert_refused(out: &Out, code: i32, what: &str) {
    out.assert_code(code);
    let errors: Vec<&str> = out
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line:\n{out}");
    assert!(errors[0].contains(what), "expected {what:?}:\n{out}");
}
