//! Checks of a downloaded binary: SHA-256 checksum, RSA PKCS#1 v1.5 SHA-256 signature
//! (docs/protocol.md §7.2) and a trial run. Each returns the reason of a refusal.
use std::fs::File;
use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

/// How long the new binary may take to print its version.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Base64 of the listing (standard alphabet, padded) → bytes, at most `max`.
pub fn decode(b64: &str, what: &str, max: usize) -> Result<Vec<u8>, String> {
    if b64.trim().is_empty() {
        return Err(format!("the update server gave no {what}"));
    }
    match B64.decode(b64.trim()) {
        Ok(b) if !b.is_empty() && b.len() <= max => Ok(b),
        _ => Err(format!(
            "the update server's {what} is not valid base64 of the right size"
        )),
    }
}

pub fn checksum(got: &[u8; 32], expected: &[u8]) -> Result<(), String> {
    if got.as_slice() == expected {
        Ok(())
    } else {
        Err("its SHA-256 checksum does not match the one the update server announced".into())
    }
}

/// `signature` over the SHA-256 of the whole file, with `key` (PKCS#1 DER). `ring` wants
/// the message itself: the file is mapped, not read into memory.
pub fn signature(file: &File, len: u64, key: &[u8], signature: &[u8]) -> Result<(), String> {
    let map = Map::new(file, len).map_err(|e| format!("cannot read the download back: {e}"))?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(map.bytes(), signature)
        .map_err(|_| "its signature does not verify with the update key".to_string())
}

/// A read-only private mapping of a whole file, unmapped on drop.
struct Map {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Map {
    fn new(file: &File, len: u64) -> std::io::Result<Map> {
        let len = usize::try_from(len).map_err(std::io::Error::other)?;
        if len == 0 {
            return Err(std::io::Error::other("empty file"));
        }
        // SAFETY: a fresh read-only mapping of a file we own; checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Map { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for the lifetime of `self`; the file is
        // our private temporary, not changed while mapped.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

/// Run `<path> version`: it must exit 0 within [`START_TIMEOUT`] and print `version`.
pub fn starts(path: &Path, version: &str) -> Result<(), String> {
    let mut child = Command::new(path)
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("the new binary does not start ({e})"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(64 * 1024).read_to_end(&mut out);
        let _ = tx.send(out);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() < START_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the new binary did not answer 'version' within {} s",
                    START_TIMEOUT.as_secs()
                ));
            }
        }
    };
    // A background process of the child may keep the pipe open: do not wait for it.
    let out = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "the new binary does not start ('version' failed: {status})"
        ));
    }
    let text = String::from_utf8_lossy(&out);
    if !text.split_whitespace().any(|w| w == version) {
        return Err(format!(
            "the new binary does not say it is version {version}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TEST_PRIVATE: &str = include_str!("../../tests/devserver/testdata/update-test-key.pem");
    const TEST_PUB: &str = include_str!("../../tests/devserver/testdata/update-test-pub.pem");

    /// Sign like the update server: RSA PKCS#1 v1.5, SHA-256, with the test key.
    fn sign(msg: &[u8]) -> Vec<u8> {
        let b64: String = TEST_PRIVATE
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = B64.decode(b64).unwrap();
        let pair = ring::signature::RsaKeyPair::from_der(&der).unwrap();
        let mut sig = vec![0u8; pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .unwrap();
        sig
    }

    fn file_with(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn signatures_of_the_whole_file_verify_and_nothing_else_does() {
        let key = crate::update::key::rsa_public_key_der(TEST_PUB).unwrap();
        let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let sig = sign(&body);
        let f = file_with(&body);
        assert_eq!(signature(&f, body.len() as u64, &key, &sig), Ok(()));
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(signature(&f, body.len() as u64, &key, &bad).is_err());
        let mut tampered = body.clone();
        tampered[123_456] ^= 0x80;
        let f2 = file_with(&tampered);
        assert!(signature(&f2, body.len() as u64, &key, &sig).is_err());
        // A prefix of the file is not the file.
        assert!(signature(&f, body.len() as u64 - 1, &key, &sig).is_err());
    }

    #[test]
    fn base64_fields_are_bounded() {
        assert_eq!(decode("AAEC", "checksum", 32), Ok(vec![0, 1, 2]));
        assert!(decode("", "checksum", 32)
            .unwrap_err()
            .contains("gave no checksum"));
        assert!(decode("AAEC!", "checksum", 32).is_err());
        assert!(decode(&B64.encode([0u8; 33]), "checksum", 32).is_err());
    }
}
