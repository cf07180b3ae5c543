//! Cells' internal file hash (the `x-cells-hash` metadata, `cec tools hash`):
//! MD5 of the concatenation of the raw MD5 digests of consecutive 10 MiB blocks.
//! An empty input has one empty block (`md5(md5(""))`); k×10 MiB gives k blocks.
//!
//! Streaming: feed bytes in any chunking to [`CellsHasher::update`], then
//! [`CellsHasher::finalize`]; or use [`hash_reader`] / [`hash_file`].

use md5::{Digest, Md5};
use std::io::Read;
use std::path::Path;

use crate::{hex, BLOCK_SIZE};

/// Incremental Cells hash.
#[derive(Clone)]
pub struct CellsHasher {
    block: Md5,
    in_block: u64,
    outer: Md5,
    blocks: u64,
}

impl Default for CellsHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl CellsHasher {
    pub fn new() -> Self {
        CellsHasher {
            block: Md5::new(),
            in_block: 0,
            outer: Md5::new(),
            blocks: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (BLOCK_SIZE - self.in_block) as usize;
            let take = room.min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take as u64;
            data = &data[take..];
            if self.in_block == BLOCK_SIZE {
                let d = std::mem::take(&mut self.block).finalize();
                self.outer.update(d);
                self.blocks += 1;
                self.in_block = 0;
            }
        }
    }

    /// Lower-case hex digest.
    pub fn finalize(mut self) -> String {
        if self.in_block > 0 || self.blocks == 0 {
            let d = self.block.finalize();
            self.outer.update(d);
        }
        hex(&self.outer.finalize())
    }
}

/// The MD5s of consecutive [`BLOCK_SIZE`] blocks of a stream fed in any
/// chunking (what an upload hashes while the bytes pass by).
#[derive(Clone, Default)]
pub struct BlockHasher {
    block: Md5,
    in_block: u64,
    blocks: Vec<[u8; 16]>,
}

impl BlockHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = ((BLOCK_SIZE - self.in_block) as usize).min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take as u64;
            data = &data[take..];
            if self.in_block == BLOCK_SIZE {
                self.blocks
                    .push(std::mem::take(&mut self.block).finalize().into());
                self.in_block = 0;
            }
        }
    }

    /// The block digests (one, of the empty string, for an empty stream).
    pub fn finish(mut self) -> Vec<[u8; 16]> {
        if self.in_block > 0 || self.blocks.is_empty() {
            self.blocks.push(self.block.finalize().into());
        }
        self.blocks
    }
}

/// Hash everything `r` yields (1 MiB reads). Interrupted reads are retried.
pub fn hash_reader<R: Read>(mut r: R) -> std::io::Result<String> {
    let mut h = CellsHasher::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(h.finalize())
}

/// Hash a local file.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    hash_open_file(std::fs::File::open(path)?)
}

/// Hash an open file. A regular file has its blocks hashed side by side
/// (md5x8: several times cheaper than one serial MD5); anything else (a pipe,
/// a device) is streamed.
pub fn hash_open_file(f: std::fs::File) -> std::io::Result<String> {
    let meta = f.metadata()?;
    if !meta.is_file() {
        return hash_reader(f);
    }
    let blocks = crate::md5x8::file_block_md5s(&f, 0, meta.len(), BLOCK_SIZE)?;
    Ok(of_block_md5s(&blocks))
}

/// Hex MD5 of a short byte string (names, ids).
pub fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

/// The hash from the MD5 digests of the blocks: hex(MD5(their concatenation)).
pub fn of_block_md5s(blocks: &[[u8; 16]]) -> String {
    let mut outer = Md5::new();
    for b in blocks {
        outer.update(b);
    }
    hex(&outer.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5hex(b: &[u8]) -> String {
        hex(&Md5::digest(b))
    }

    #[test]
    fn empty_is_md5_of_md5() {
        let inner = Md5::digest(b"");
        assert_eq!(hash_reader(&b""[..]).unwrap(), md5hex(&inner));
    }

    #[test]
    fn blocks_and_chunking() {
        let data: Vec<u8> = (0..(BLOCK_SIZE as usize * 2 + 5))
            .map(|i| (i % 251) as u8)
            .collect();
        let b = BLOCK_SIZE as usize;
        let mut cat = Vec::new();
        cat.extend_from_slice(&Md5::digest(&data[..b]));
        cat.extend_from_slice(&Md5::digest(&data[b..2 * b]));
        cat.extend_from_slice(&Md5::digest(&data[2 * b..]));
        let want = md5hex(&cat);
        assert_eq!(hash_reader(&data[..]).unwrap(), want);
        let mut h = CellsHasher::new();
        for c in data.chunks(777_777) {
            h.update(c);
        }
        assert_eq!(h.finalize(), want);
        let mut bh = BlockHasher::new();
        for c in data.chunks(999_983) {
            bh.update(c);
        }
        assert_eq!(of_block_md5s(&bh.finish()), want);
        assert_eq!(
            BlockHasher::new().finish(),
            vec![<[u8; 16]>::from(Md5::digest(b""))]
        );
        // Exactly one block: no extra empty block.
        let one = &data[..b];
        assert_eq!(hash_reader(one).unwrap(), md5hex(&Md5::digest(one)));
        // A regular file (blocks side by side) hashes the same.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &data).unwrap();
        assert_eq!(hash_file(&p).unwrap(), want);
        std::fs::write(&p, one).unwrap();
        assert_eq!(hash_file(&p).unwrap(), md5hex(&Md5::digest(one)));
        std::fs::write(&p, b"").unwrap();
        assert_eq!(hash_file(&p).unwrap(), md5hex(&Md5::digest(b"")));
    }
}
