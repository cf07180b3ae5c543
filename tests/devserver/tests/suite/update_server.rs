//! Update server (docs/protocol.md §7): version list filtered by channel/platform/version,
//! binaries downloadable, checksum = base64 SHA-256, signature = RSA PKCS#1 v1.5 SHA-256
//! verifiable with testdata/update-test-pub.pem.

use crate::support::*;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

const PUB_PEM: &str = include_str!("../../testdata/update-test-pub.pem");

fn verify(digest: &[u8], sig: &[u8]) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let b64: String = PUB_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let key = rsa::RsaPublicKey::from_pkcs1_der(&B64.decode(b64).unwrap()).unwrap();
    key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), digest, sig)
        .is_ok()
}

fn list(srv: &Srv, body: serde_json::Value) -> Resp {
    post(
        &format!("{}/a/update-server/", srv.url),
        "application/json",
        &body.to_string(),
        &[],
    )
}

fn start_with(tag: &str, manifest: serde_json::Value, files: &[(&str, &[u8])]) -> Srv {
    let root = temp_root(tag);
    // Inside the root, so that the server's clean-up removes it too.
    let dir = root.join("update-src");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in files {
        std::fs::write(dir.join(name), data).unwrap();
    }
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    Srv::start_on(
        root,
        &[],
        &[("CELLS_DEVSERVER_UPDATE_DIR", dir.to_str().unwrap())],
    )
}

#[test]
fn lists_signed_binaries_and_serves_them() {
    let new_bin: &[u8] = b"#!/bin/sh\necho cec 4.3.2\n";
    let manifest = serde_json::json!({"binaries": [
        {"Version": "4.3.2", "File": "cec-4.3.2-linux-amd64", "BinaryOS": "linux", "BinaryArch": "amd64",
         "Description": "Bug fixes", "ReleaseDate": 1735000000},
        {"Version": "4.3.2", "File": "cec-4.3.2-darwin-arm64", "BinaryOS": "darwin", "BinaryArch": "arm64"},
        {"Version": "4.3.0", "File": "cec-4.3.0-linux-amd64", "BinaryOS": "linux", "BinaryArch": "amd64"},
        {"Version": "4.4.0-dev.20250101", "File": "cec-dev", "Channel": "dev", "BinaryOS": "linux", "BinaryArch": "amd64"}
    ]});
    let srv = start_with(
        "update-list",
        manifest,
        &[
            ("cec-4.3.2-linux-amd64", new_bin),
            ("cec-4.3.2-darwin-arm64", b"mac"),
            ("cec-4.3.0-linux-amd64", b"old"),
            ("cec-dev", b"dev"),
        ],
    );
    let req = serde_json::json!({"Channel": "stable", "PackageName": "CellsClient", "CurrentVersion": "4.3.1", "GOOS": "linux", "GOARCH": "amd64"});
    let r = list(&srv, req);
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["Channel"], "stable");
    let bins = v["AvailableBinaries"].as_array().unwrap();
    assert_eq!(
        bins.len(),
        1,
        "only the newer linux/amd64 stable binary: {v}"
    );
    let b = &bins[0];
    assert_eq!(b["Version"], "4.3.2");
    assert_eq!(b["PackageName"], "CellsClient");
    assert_eq!(b["BinaryHashType"], "sha256");
    assert_eq!(b["BinarySize"], new_bin.len().to_string());
    assert_eq!(b["ReleaseDate"], 1735000000);
    assert_eq!(b["Description"], "Bug fixes");

    let url = b["BinaryURL"].as_str().unwrap();
    assert!(url.starts_with(&srv.url), "{url}");
    let dl = ureq::get(url).call().unwrap();
    assert_eq!(dl.status(), 200);
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut dl.into_reader(), &mut data).unwrap();
    assert_eq!(data, new_bin);

    let digest = Sha256::digest(&data);
    assert_eq!(
        B64.decode(b["BinaryChecksum"].as_str().unwrap()).unwrap(),
        digest.to_vec()
    );
    let sig = B64.decode(b["BinarySignature"].as_str().unwrap()).unwrap();
    assert!(
        verify(&digest, &sig),
        "signature must verify with the test public key"
    );
    assert!(!verify(&Sha256::digest(b"something else"), &sig));

    // dev channel
    let r = list(
        &srv,
        serde_json::json!({"Channel": "dev", "PackageName": "CellsClient", "CurrentVersion": "4.3.1", "GOOS": "linux", "GOARCH": "amd64"}),
    );
    let v = r.json();
    assert_eq!(
        v["AvailableBinaries"][0]["Version"], "4.4.0-dev.20250101",
        "{v}"
    );
    // up to date
    let r = list(
        &srv,
        serde_json::json!({"Channel": "stable", "PackageName": "CellsClient", "CurrentVersion": "4.3.2", "GOOS": "linux", "GOARCH": "amd64"}),
    );
    assert_eq!(r.json()["AvailableBinaries"].as_array().unwrap().len(), 0);
    // unknown binary
    assert_eq!(
        get(&format!("{}/update-binaries/nope", srv.url), &[]).status,
        404
    );
    assert_eq!(
        get(&format!("{}/update-binaries/manifest.json", srv.url), &[]).status,
        404
    );
}

#[test]
fn manifest_can_force_bad_signatures_and_failures() {
    let manifest = serde_json::json!({"binaries": [
        {"Version": "9.0.0", "File": "cec-9", "BinarySignature": B64.encode(b"not a signature")}
    ]});
    let srv = start_with("update-bad", manifest, &[("cec-9", b"nine")]);
    let r = list(
        &srv,
        serde_json::json!({"Channel": "stable", "CurrentVersion": "4.3.1"}),
    );
    let b = &r.json()["AvailableBinaries"][0];
    assert_eq!(b["BinarySignature"], B64.encode(b"not a signature"));
    assert_eq!(
        B64.decode(b["BinaryChecksum"].as_str().unwrap()).unwrap(),
        Sha256::digest(b"nine").to_vec()
    );
    drop(srv);

    let srv = start_with(
        "update-fail",
        serde_json::json!({"fail": "maintenance"}),
        &[],
    );
    let r = list(&srv, serde_json::json!({"Channel": "stable"}));
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["Title"], "maintenance");
}

#[test]
fn no_manifest_means_up_to_date() {
    let srv = Srv::start("update-empty", &[]);
    let r = list(
        &srv,
        serde_json::json!({"Channel": "stable", "PackageName": "CellsClient", "CurrentVersion": "4.3.1"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["AvailableBinaries"].as_array().unwrap().len(), 0);
}
