//! Hashing shared by `cec` and its dev server.
//!
//! - The Cells content hash (`x-cells-hash`, `cec tools hash`, what `scp`
//!   verifies): the MD5 of the concatenated MD5 digests of consecutive
//!   [`BLOCK_SIZE`] blocks ([`CellsHasher`], [`hash_file`], [`of_block_md5s`]).
//! - [`md5x8`]: MD5 of up to 8 streams at once (AVX2), scalar elsewhere.
//! - [`sha256n`]: SHA-256 of several streams at once (SHA-NI), `sha2` elsewhere.
//! - [`region`]: the SHA-256 and block MD5s of file regions, for uploads.
//!
//! See docs/protocol.md for the hash as the server defines it.

mod cells;
pub mod lanes;
pub mod md5x8;
pub mod region;
pub mod sha256n;

pub use cells::*;

/// Block size of the Cells hash (10 MiB): the unit every content check works in.
pub const BLOCK_SIZE: u64 = 10 * 1024 * 1024;

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}
