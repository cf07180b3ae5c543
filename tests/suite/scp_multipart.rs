//! Multipart uploads with several part sizes, the max-parts rule, and the
//! content hash agreement with the server (x-cells-hash).

use crate::scp_common::*;
use std::fs;

const MIB: usize = 1024 * 1024;

fn roundtrip_on(net: Net, folder: &str, size: usize, extra: &[&str], expect_parts: usize) {
    let s = net.shared();
    mkdir(s, &format!("common-files/{folder}"));
    let tmp = tmpdir();
    let f = tmp.path().join("big.bin");
    let content = data(size, size as u64);
    fs::write(&f, &content).unwrap();
    let target = format!("cells://common-files/{folder}");
    let mut args: Vec<&str> = vec!["-w", "--multipart-threshold", "10"];
    args.extend_from_slice(extra);
    args.push(f.to_str().unwrap());
    args.push(&target);
    let out = scp(s, &args);
    out.assert_ok();
    assert!(
        out.stderr
            .contains(&format!("Number of parts: {expect_parts}")),
        "{out}"
    );
    // Signing debug output never shows the token.
    assert!(
        !out.stderr.contains(&s.token("admin")[..20]),
        "token leaked"
    );
    // Over TLS the parts go unsigned; over plain HTTP their SHA-256 is signed.
    let unsigned = out.stderr.matches("\nUNSIGNED-PAYLOAD").count();
    let want = if net == Net::Https { expect_parts } else { 0 };
    assert_eq!(
        unsigned, want,
        "canonical requests with UNSIGNED-PAYLOAD:\n{out}"
    );
    let stored = fs::read(server_file(s, &format!("{folder}/big.bin"))).unwrap();
    assert!(stored == content, "server copy differs");
    assert_eq!(
        remote_hash(s, &format!("common-files/{folder}/big.bin")).unwrap(),
        cells_hash(&content),
        "x-cells-hash differs (parts not 10 MiB aligned?)"
    );
    // And back, through one streamed GET.
    let dl = tmp.path().join("dl");
    fs::create_dir(&dl).unwrap();
    scp(s, &[&format!("{target}/big.bin"), dl.to_str().unwrap()]).assert_ok();
    assert!(fs::read(dl.join("big.bin")).unwrap() == content);
    // Multipart journals are removed once complete.
}

crate::over_http_and_tls!(multipart_10mib_parts_on: multipart_10mib_parts, multipart_10mib_parts_over_tls);

fn multipart_10mib_parts_on(net: Net) {
    roundtrip_on(net, "scp-mp10", 25 * MIB + 12345, &["--part-size", "10"], 3);
}

crate::over_http_and_tls!(multipart_20mib_parts_sequential_on: multipart_20mib_parts_sequential, multipart_20mib_parts_sequential_over_tls);

fn multipart_20mib_parts_sequential_on(net: Net) {
    roundtrip_on(
        net,
        "scp-mp20",
        41 * MIB,
        &["--part-size", "20", "--parts-concurrency", "1"],
        3,
    );
}

crate::over_http_and_tls!(multipart_max_parts_enlarges_part_size_on: multipart_max_parts_enlarges_part_size, multipart_max_parts_enlarges_part_size_over_tls);

fn multipart_max_parts_enlarges_part_size_on(net: Net) {
    // 25 MiB with at most 2 parts: 25/2 = 12.5 → 10 + 10 = 20 MiB parts.
    roundtrip_on(
        net,
        "scp-mpmax",
        25 * MIB,
        &["--part-size", "10", "--max-parts-number", "2"],
        2,
    );
}

crate::over_http_and_tls!(exact_threshold_is_a_single_put_on: exact_threshold_is_a_single_put, exact_threshold_is_a_single_put_over_tls);

fn exact_threshold_is_a_single_put_on(net: Net) {
    let s = net.shared();
    mkdir(s, "common-files/scp-thr");
    let tmp = tmpdir();
    let f = tmp.path().join("t.bin");
    let content = data(MIB, 9);
    fs::write(&f, &content).unwrap();
    let out = scp(
        s,
        &[
            "-w",
            "--multipart-threshold",
            "1",
            f.to_str().unwrap(),
            "cells://common-files/scp-thr",
        ],
    );
    out.assert_ok();
    assert!(!out.stderr.contains("Multipart upload"), "{out}");
    assert!(fs::read(server_file(s, "scp-thr/t.bin")).unwrap() == content);
}
