//! The update public key: PEM text → the DER `RSAPublicKey` (PKCS#1) that `ring` verifies
//! with. Accepts the reference's odd format (label `PUBLIC KEY`, PKCS#1 content,
//! docs/protocol.md §7.2), a plain SPKI `PUBLIC KEY` and an `RSA PUBLIC KEY`.
//!
//! Shared with build.rs (`#[path]`), which checks a packager's key at build time: so this
//! file uses only std and `base64` (a dependency and a build-dependency).
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// `ring`'s `RSA_PKCS1_2048_8192_SHA256` bounds.
const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 8192;
/// DER of the rsaEncryption OID (1.2.840.113549.1.1.1).
const RSA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 `RSAPublicKey` DER of the first public key in `pem`.
pub fn rsa_public_key_der(pem: &str) -> Result<Vec<u8>, String> {
    let der = pem_body(pem)?;
    let pkcs1 = match spki_content(&der) {
        Some(inner) => inner.to_vec(),
        None => der,
    };
    let bits = modulus_bits(&pkcs1)?;
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(format!(
            "an RSA key of {bits} bits (expected {MIN_BITS} to {MAX_BITS})"
        ));
    }
    Ok(pkcs1)
}

/// Base64-decoded body of the `PUBLIC KEY` / `RSA PUBLIC KEY` block.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let mut lines = pem.lines().map(str::trim);
    let label = lines
        .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or("no PEM block (-----BEGIN PUBLIC KEY-----)")?;
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(format!("a PEM block '{label}', not a PUBLIC KEY"));
    }
    let end = format!("-----END {label}-----");
    let mut b64 = String::new();
    for l in lines {
        if l == end {
            return STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| format!("bad base64 in the PEM block: {e}"));
        }
        b64.push_str(l);
    }
    Err(format!("no '{end}' line"))
}

/// One DER element: (tag, content, rest). Definite lengths of at most 4 bytes.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
        b = &b[n..];
        len
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// The `RSAPublicKey` inside an SPKI `SEQUENCE { SEQUENCE { rsaEncryption, .. }, BIT STRING }`.
fn spki_content(der: &[u8]) -> Option<&[u8]> {
    let (0x30, seq, []) = tlv(der)? else {
        return None;
    };
    let (0x30, alg, rest) = tlv(seq)? else {
        return None;
    };
    let (0x06, oid, _) = tlv(alg)? else {
        return None;
    };
    let (0x03, bits, []) = tlv(rest)? else {
        return None;
    };
    match bits.split_first() {
        Some((0, key)) if oid == RSA_OID => Some(key),
        _ => None,
    }
}

/// Size of the modulus of a PKCS#1 `SEQUENCE { INTEGER n, INTEGER e }`.
fn modulus_bits(der: &[u8]) -> Result<usize, String> {
    let bad = || "not an RSA public key (PKCS#1 RSAPublicKey or SPKI)".to_string();
    let (0x30, seq, []) = tlv(der).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x02, n, rest) = tlv(seq).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x02, e, []) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    if e.is_empty() || e.len() > 8 {
        return Err(bad());
    }
    let n = match n.iter().position(|&x| x != 0) {
        Some(i) => &n[i..],
        None => return Err(bad()),
    };
    Ok(n.len() * 8 - n[0].leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key cells-client v4.3.1 embeds (docs/protocol.md §7.2): PKCS#1 under `PUBLIC KEY`.
    const REFERENCE: &str = "-----BEGIN PUBLIC KEY-----
MIIBCgKCAQEAwh/ofjZTITlQc4h/qDZMR3RquBxlG7UTunDKLG85JQwRtU7EL90v
lWxamkpSQsaPeqho5Q6OGkhJvZkbWsLBJv6LZg+SBhk6ZSPxihD+Kfx8AwCcWZ46
DTpKpw+mYnkNH1YEAedaSfJM8d1fyU1YZ+WM3P/j1wTnUGRgebK9y70dqZEo2dOK
n98v3kBP7uEN9eP/wig63RdmChjCpPb5gK1/WKnY4NFLQ60rPAOBsXurxikc9N/3
EvbIB/1vQNqm7yEwXk8LlOC6Fp8W/6A0DIxr2BnZAJntMuH2ulUfhJgw0yJalMNF
DR0QNzGVktdLOEeSe8BSrASe9uZY2SDbTwIDAQAB
-----END PUBLIC KEY-----
";
    const TEST_PUB: &str = include_str!("../../tests/devserver/testdata/update-test-pub.pem");
    /// TEST_PUB as a standard SPKI (`openssl rsa -RSAPublicKey_in -pubout`).
    const TEST_PUB_SPKI: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofLcGpsJYzajbYZdL2WN
NHux3BaLki0y1RfPyE8GZku8gNUCGRm0zDJbFi44vQhsx8mq3HwR0WpieRNm5iuc
1voOV7jzSpFFz8DS7ci3UYDfPgkb9OwMoa6KSM5A9e2BOKpLMa1QFz6e4t1vnehC
vB7vAVMG8kCYw+yx+WGYJlo+D64t8VxMWLqyuS6TNvnSMH7y6fcUu0W39pSI/Cy6
p2wI6khTjasDKLN4LxNwqXortcg3/EIel1+hjfVI6OnN4Ga6PgIz8EZe1q0QqXFJ
EdwzKaWej4ATFNxDl7OWVn5P4bxtK94tvXz9WUw5CwJ2rsh1BuWS4ZNcyCt3Eal5
FQIDAQAB
-----END PUBLIC KEY-----
";
    /// An RSA-1024 key: too small for the verifier.
    const SMALL: &str = "-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBAKiGFDlGcEg2oVc3tTKXRXVuEuZOw3r+2Ay3JhW/GxkU+MKpwAl3X6Nd
i/+BrCNDSj5N1vsSkZeqSQrUU9jw+lnErMMEmBVG/2hErrdhXQ4fVE43WnKeQDHD
2S95Ja8Y65bHM/GIPAdPAWjsZioiL8eKXR1vAnRB8I709x92sBt/AgMBAAE=
-----END RSA PUBLIC KEY-----
";

    #[test]
    fn pkcs1_and_spki_give_the_same_key() {
        let der = rsa_public_key_der(REFERENCE).unwrap();
        assert_eq!(der.len(), 270, "a 2048-bit PKCS#1 RSAPublicKey");
        let pkcs1 = rsa_public_key_der(TEST_PUB).unwrap();
        assert_eq!(rsa_public_key_der(TEST_PUB_SPKI).unwrap(), pkcs1);
        let as_rsa = TEST_PUB.replace("PUBLIC KEY", "RSA PUBLIC KEY");
        assert_eq!(rsa_public_key_der(&as_rsa).unwrap(), pkcs1);
    }

    #[test]
    fn bad_keys_are_explained() {
        let err = |pem: &str| rsa_public_key_der(pem).unwrap_err();
        assert!(err(SMALL).contains("1024 bits"), "{}", err(SMALL));
        assert!(err("").contains("no PEM block"));
        assert!(err(&TEST_PUB.replace("PUBLIC KEY", "CERTIFICATE")).contains("not a PUBLIC KEY"));
        assert!(err(&TEST_PUB.replace("-----END PUBLIC KEY-----", "")).contains("no '-----END"));
        assert!(err(&TEST_PUB.replace("MIIB", "M!IB")).contains("bad base64"));
        // The first 4 lines of base64 only: a DER cut short.
        let mut lines: Vec<&str> = TEST_PUB.lines().collect();
        lines.drain(5..lines.len() - 1);
        assert!(err(&lines.join("\n")).contains("not an RSA public key"));
        assert!(
            err("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----")
                .contains("not an RSA")
        );
    }
}
