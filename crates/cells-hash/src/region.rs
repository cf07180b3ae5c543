//! Hashes of file regions for uploads: the SHA-256 that signs a request body
//! (when the body is signed: not over TLS) and the MD5s of its 10 MiB blocks
//! (the Cells hash), read with positional reads so that several threads can
//! share one open file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::{hex, BLOCK_SIZE};

/// Bytes per read.
pub const IO_BUF: usize = 64 * 1024;

/// What an upload needs to know of a file region before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionHash {
    /// Lower-case hex SHA-256: the signed payload hash (`None`: not computed,
    /// the body goes unsigned over TLS).
    pub sha256: Option<String>,
    /// MD5 digests of the region's consecutive 10 MiB blocks.
    pub block_md5s: Vec<[u8; 16]>,
}

/// SHA-256 and 10 MiB block MD5s of `len` bytes of `file` from `offset`.
/// A region of several blocks is read twice: once for the SHA-256, once for
/// the block MD5s side by side on md5x8's lanes (cheaper than one serial MD5).
pub fn hash_region(file: &File, offset: u64, len: u64) -> io::Result<RegionHash> {
    if len <= BLOCK_SIZE {
        return hash_region_serial(file, offset, len);
    }
    let sha256 = Some(sha256_region(file, offset, len)?);
    let block_md5s = crate::md5x8::file_block_md5s(file, offset, len, BLOCK_SIZE)?;
    Ok(RegionHash { sha256, block_md5s })
}

/// The 10 MiB block MD5s of several regions of `file` (no SHA-256): every
/// block of every region on its own md5x8 lane, 8 blocks at a time.
pub fn block_md5s(file: &File, regions: &[(u64, u64)]) -> io::Result<Vec<RegionHash>> {
    let mut ranges = Vec::new();
    let mut counts = Vec::with_capacity(regions.len());
    for &(offset, len) in regions {
        let r = crate::md5x8::block_ranges(offset, len, BLOCK_SIZE)?;
        counts.push(r.len());
        ranges.extend(r);
    }
    let mut digests = crate::md5x8::file_ranges_md5s(file, &ranges)?.into_iter();
    Ok(counts
        .into_iter()
        .map(|n| RegionHash {
            sha256: None,
            block_md5s: digests.by_ref().take(n).collect(),
        })
        .collect())
}

/// SHA-256 and block MD5s of several regions of `file` in one pass: the
/// regions are read side by side, each region's MD5 on its own md5x8 lane and
/// the SHA-256s two by two through the SHA unit (sha256n).
pub fn hash_regions(file: &File, regions: &[(u64, u64)]) -> io::Result<Vec<RegionHash>> {
    // One or two regions would leave most lanes idle: hashing each region's
    // own blocks side by side costs less, even with a second read.
    if regions.len() < 3 {
        return regions
            .iter()
            .map(|&(offset, len)| hash_region(file, offset, len))
            .collect();
    }
    let mut out = Vec::with_capacity(regions.len());
    for group in regions.chunks(crate::md5x8::LANES) {
        out.extend(hash_lanes(file, group)?);
    }
    Ok(out)
}

/// [`hash_regions`] for at most [`crate::md5x8::LANES`] regions.
fn hash_lanes(file: &File, regions: &[(u64, u64)]) -> io::Result<Vec<RegionHash>> {
    let n = regions.len();
    let mut shas = crate::sha256n::Sha256n::new(n);
    let mut blocks: Vec<Vec<[u8; 16]>> = vec![Vec::new(); n];
    let mut done = vec![0u64; n];
    let mut bufs = vec![vec![0u8; IO_BUF]; n];
    let mut lanes = crate::md5x8::Md5x8::new();
    loop {
        let mut got = [0usize; crate::md5x8::LANES];
        for (i, &(offset, len)) in regions.iter().enumerate() {
            // Never cross a block boundary: a lane's block ends with the read.
            let want = (len - done[i])
                .min(BLOCK_SIZE - done[i] % BLOCK_SIZE)
                .min(IO_BUF as u64) as usize;
            if want == 0 {
                continue;
            }
            let r = read_at_full(file, &mut bufs[i][..want], offset + done[i])?;
            if r < want {
                return Err(shrank(len));
            }
            got[i] = want;
        }
        if got.iter().all(|&g| g == 0) {
            break;
        }
        let slices: Vec<&[u8]> = (0..n).map(|i| &bufs[i][..got[i]]).collect();
        shas.update(&slices);
        lanes.update(&slices);
        for i in 0..n {
            done[i] += got[i] as u64;
            if got[i] > 0 && (done[i].is_multiple_of(BLOCK_SIZE) || done[i] == regions[i].1) {
                blocks[i].push(lanes.finish_lane(i));
            }
        }
    }
    Ok(blocks
        .into_iter()
        .enumerate()
        .map(|(i, mut b)| {
            if b.is_empty() {
                b.push(Md5::digest(b"").into());
            }
            RegionHash {
                sha256: Some(hex(&shas.finish_lane(i))),
                block_md5s: b,
            }
        })
        .collect())
}

/// The region ends past the end of the file.
fn shrank(len: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the file shrank while being read (expected {len} bytes)"),
    )
}

/// One pass computing both hashes: for regions of at most one block.
fn hash_region_serial(file: &File, offset: u64, len: u64) -> io::Result<RegionHash> {
    let mut sha = Sha256::new();
    let mut blocks = Vec::with_capacity((len / BLOCK_SIZE + 1) as usize);
    let mut md5 = Md5::new();
    let mut in_block = 0u64;
    let mut buf = vec![0u8; IO_BUF];
    let mut pos = offset;
    let end = offset + len;
    while pos < end {
        let want = (end - pos).min(buf.len() as u64).min(BLOCK_SIZE - in_block) as usize;
        let n = read_at_full(file, &mut buf[..want], pos)?;
        if n == 0 {
            return Err(shrank(len));
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        in_block += n as u64;
        pos += n as u64;
        if in_block == BLOCK_SIZE {
            blocks.push(md5.finalize_reset().into());
            in_block = 0;
        }
    }
    if in_block > 0 || blocks.is_empty() {
        blocks.push(md5.finalize().into());
    }
    Ok(RegionHash {
        sha256: Some(hex(&sha.finalize())),
        block_md5s: blocks,
    })
}

/// SHA-256 (hex) of `len` bytes of `file` from `offset`.
pub fn sha256_region(file: &File, offset: u64, len: u64) -> io::Result<String> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; IO_BUF];
    let mut pos = offset;
    let end = offset + len;
    while pos < end {
        let want = (end - pos).min(buf.len() as u64) as usize;
        let n = read_at_full(file, &mut buf[..want], pos)?;
        if n == 0 {
            return Err(shrank(len));
        }
        sha.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(hex(&sha.finalize()))
}

/// Read until `buf` is full or the file ends; returns the bytes read.
pub fn read_at_full(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], pos + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_hashes() {
        let dir = std::env::temp_dir().join(format!("cells-hash-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, b"xxhello\nyy").unwrap();
        let f = File::open(&p).unwrap();
        let h = hash_region(&f, 2, 6).unwrap();
        assert_eq!(
            h.sha256.as_deref(),
            Some("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        );
        assert_eq!(h.block_md5s.len(), 1);
        assert_eq!(hex(&h.block_md5s[0]), "b1946ac92492d2347c6235b4d2611184");
        let h0 = hash_region(&f, 0, 0).unwrap();
        assert_eq!(
            h0.sha256.as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        // md5(md5("")) is the hash of an empty file.
        assert_eq!(
            crate::of_block_md5s(&h0.block_md5s),
            "59adb24ef3cdbe0297f05b395827453f"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The reference: sha2 and md-5 over the slice, block by block.
    fn expected(data: &[u8]) -> RegionHash {
        let mut blocks: Vec<[u8; 16]> = data
            .chunks(BLOCK_SIZE as usize)
            .map(|c| Md5::digest(c).into())
            .collect();
        if blocks.is_empty() {
            blocks.push(Md5::digest(b"").into());
        }
        RegionHash {
            sha256: Some(hex(&Sha256::digest(data))),
            block_md5s: blocks,
        }
    }

    #[test]
    fn multi_block_regions_hash_like_one_serial_pass() {
        let b = BLOCK_SIZE as usize;
        let mut data = vec![0u8; 2 * b + b / 2 + 37];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for v in data.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x as u8;
        }
        let dir = std::env::temp_dir().join(format!("cells-hash-lanes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, &data).unwrap();
        let f = File::open(&p).unwrap();
        let n = data.len() as u64;
        let regions = [
            (0, 2 * BLOCK_SIZE),
            (2 * BLOCK_SIZE, n - 2 * BLOCK_SIZE),
            (5, BLOCK_SIZE + 3),
            (0, 0),
            (7, 65_536 * 3 + 1),
            (1, n - 1),
            (0, BLOCK_SIZE),
            (BLOCK_SIZE - 1, 2),
            (3, 4),
        ];
        let got = hash_regions(&f, &regions).unwrap();
        let md5s = block_md5s(&f, &regions).unwrap();
        assert_eq!(got.len(), regions.len());
        assert_eq!(md5s.len(), regions.len());
        for ((&(o, l), g), m) in regions.iter().zip(&got).zip(&md5s) {
            let want = expected(&data[o as usize..(o + l) as usize]);
            assert_eq!(*g, want, "region {o}+{l}");
            assert_eq!(hash_region(&f, o, l).unwrap(), want, "region {o}+{l}");
            assert_eq!((&m.sha256, &m.block_md5s), (&None, &want.block_md5s));
        }
        // A region past the end of the file: the file shrank.
        assert!(hash_regions(&f, &[(0, 10), (n - 5, 10)]).is_err());
        assert!(block_md5s(&f, &[(0, 10), (n - 5, 10)]).is_err());
        assert!(hash_region(&f, 1, n).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Regions past 4 GiB of a sparse file: offsets must not go through a
    /// 32-bit `usize` or `off_t` (armv7 runs this under emulation).
    #[test]
    fn regions_past_4_gib() {
        const AT: u64 = (1 << 32) + 4096 + 7;
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let f = tempfile::tempfile().unwrap();
        f.write_all_at(&data, AT).unwrap();
        let regions = [
            (AT, 1000),
            (AT + 1000, 65_536 * 2 + 5),
            (AT + 3, data.len() as u64 - 3),
        ];
        let got = hash_regions(&f, &regions).unwrap();
        for (&(o, l), g) in regions.iter().zip(&got) {
            let s = (o - AT) as usize;
            let want = expected(&data[s..s + l as usize]);
            assert_eq!(*g, want, "region {o}+{l}");
            assert_eq!(hash_region(&f, o, l).unwrap(), want, "region {o}+{l}");
        }
        let md5s = crate::md5x8::file_block_md5s(&f, AT + 10, 5000, 1024).unwrap();
        let want: Vec<[u8; 16]> = data[10..5010]
            .chunks(1024)
            .map(|c| Md5::digest(c).into())
            .collect();
        assert_eq!(md5s, want);
        assert!(hash_region(&f, AT + 1, data.len() as u64).is_err());
    }
}
