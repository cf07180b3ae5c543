//! Multi-stream SHA-256: up to 64 independent SHA-256 computations advanced
//! together.
//!
//! With SHA-NI, one SHA-256 stream is latency-bound: every `sha256rnds2`
//! depends on the previous one (~4 cycles each on Zen 3, ~2 cycles/byte), but
//! the unit can start a new one every other cycle. Independent streams (the
//! parts of a file an upload hashes side by side) fill that gap: the kernel
//! here runs the rounds of 2 streams instruction by instruction interleaved,
//! advancing both for about the price of one.
//!
//! Whole blocks that cannot be paired go through `sha2::compress256` (the
//! `compress` feature of the `sha2` crate), which is also the fallback
//! without SHA-NI and on other architectures.

use sha2::digest::generic_array::GenericArray;

/// Most lanes a [`Sha256n`] can have.
pub const MAX_LANES: usize = 64;

/// Streams per interleaved kernel call.
const WAY: usize = 2;

const INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Round constants (FIPS 180-4 §4.2.2), for the SHA-NI kernel.
#[cfg(target_arch = "x86_64")]
const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

#[cfg(target_arch = "x86_64")]
mod shani {
    use super::K;
    use core::arch::x86_64::*;

    /// Compresses `blocks` consecutive 64-byte blocks of each `data[l]` into
    /// `state[l]`, the `N` streams interleaved instruction by instruction
    /// (the single-stream SHA-NI code of the Intel white paper, `N` times).
    ///
    /// # Safety
    /// The CPU must support SHA, SSE2, SSSE3 and SSE4.1, and every `data[l]`
    /// must hold at least `blocks * 64` bytes (checked).
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub unsafe fn compress<const N: usize>(
        state: &mut [[u32; 8]; N],
        data: [&[u8]; N],
        blocks: usize,
    ) {
        let need = blocks * 64;
        assert!(data.iter().all(|d| d.len() >= need));

        // Big-endian words: reverse the bytes of each 32-bit word.
        let bswap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
        // The SHA-NI state layout: words (from the top) a, b, e, f and c, d, g, h.
        let mut abef: [__m128i; N] = core::array::from_fn(|l| {
            let s = state[l].map(|w| w as i32);
            _mm_set_epi32(s[0], s[1], s[4], s[5])
        });
        let mut cdgh: [__m128i; N] = core::array::from_fn(|l| {
            let s = state[l].map(|w| w as i32);
            _mm_set_epi32(s[2], s[3], s[6], s[7])
        });

        for blk in 0..blocks {
            let off = blk * 64;
            let (abef_save, cdgh_save) = (abef, cdgh);
            // Message schedule ring: w[l][i % 4] holds words 4i..4i+4 of lane l.
            let mut w = [[_mm_setzero_si128(); 4]; N];
            for l in 0..N {
                for (j, wj) in w[l].iter_mut().enumerate() {
                    // SAFETY: off + 16 * j + 16 <= blocks * 64 <= data[l].len()
                    // (asserted above); loadu has no alignment need.
                    let v = unsafe { _mm_loadu_si128(data[l].as_ptr().add(off + 16 * j).cast()) };
                    *wj = _mm_shuffle_epi8(v, bswap);
                }
            }

            // Rounds 4i..4i+4 of all lanes; from i = 4 on, first the next
            // 4 schedule words (from words i-4, i-3, i-2, i-1 of the ring).
            macro_rules! quad {
                ($i:literal) => {{
                    if $i >= 4 {
                        for wl in w.iter_mut() {
                            let t = _mm_sha256msg1_epu32(wl[$i % 4], wl[($i + 1) % 4]);
                            let t = _mm_add_epi32(
                                t,
                                _mm_alignr_epi8::<4>(wl[($i + 3) % 4], wl[($i + 2) % 4]),
                            );
                            wl[$i % 4] = _mm_sha256msg2_epu32(t, wl[($i + 3) % 4]);
                        }
                    }
                    let k = _mm_set_epi32(
                        K[4 * $i + 3] as i32,
                        K[4 * $i + 2] as i32,
                        K[4 * $i + 1] as i32,
                        K[4 * $i] as i32,
                    );
                    let mut t = [_mm_setzero_si128(); N];
                    for l in 0..N {
                        t[l] = _mm_add_epi32(w[l][$i % 4], k);
                    }
                    for l in 0..N {
                        cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], t[l]);
                    }
                    for l in 0..N {
                        t[l] = _mm_shuffle_epi32::<0x0e>(t[l]);
                    }
                    for l in 0..N {
                        abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], t[l]);
                    }
                }};
            }
            quad!(0);
            quad!(1);
            quad!(2);
            quad!(3);
            quad!(4);
            quad!(5);
            quad!(6);
            quad!(7);
            quad!(8);
            quad!(9);
            quad!(10);
            quad!(11);
            quad!(12);
            quad!(13);
            quad!(14);
            quad!(15);

            for l in 0..N {
                abef[l] = _mm_add_epi32(abef[l], abef_save[l]);
                cdgh[l] = _mm_add_epi32(cdgh[l], cdgh_save[l]);
            }
        }

        for l in 0..N {
            let (x, y) = (abef[l], cdgh[l]);
            state[l] = [
                _mm_extract_epi32::<3>(x),
                _mm_extract_epi32::<2>(x),
                _mm_extract_epi32::<3>(y),
                _mm_extract_epi32::<2>(y),
                _mm_extract_epi32::<1>(x),
                _mm_extract_epi32::<0>(x),
                _mm_extract_epi32::<1>(y),
                _mm_extract_epi32::<0>(y),
            ]
            .map(|v| v as u32);
        }
    }
}

/// True when the interleaved SHA-NI path is in use on this machine.
///
/// Not in debug builds, like `md5x8`: unoptimised, every intrinsic is an
/// out-of-line call. (`Sha256n::with_simd(n, true)` still runs it there, for
/// the unit tests.)
pub fn simd() -> bool {
    simd_available() && !cfg!(debug_assertions)
}

/// True when the CPU can run the SHA-NI kernel, detected once.
fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static SHA_NI: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *SHA_NI.get_or_init(|| {
            std::is_x86_feature_detected!("sha")
                && std::is_x86_feature_detected!("sse2")
                && std::is_x86_feature_detected!("ssse3")
                && std::is_x86_feature_detected!("sse4.1")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// SHA-256 for [`crate::lanes`].
pub struct Sha256;

impl crate::lanes::BlockHash for Sha256 {
    type State = [u32; 8];
    const INIT: [u32; 8] = INIT;
    const BIG_ENDIAN_LENGTH: bool = true;
    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::compress256(
            state,
            core::slice::from_ref(GenericArray::from_slice(block)),
        );
    }
}

type Lane = crate::lanes::Lane<Sha256>;

/// The digest of a lane, which is reset.
fn digest(lane: &mut Lane) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(lane.finish()) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Up to `n` independent SHA-256 computations advanced together.
#[derive(Clone)]
pub struct Sha256n {
    lanes: Vec<Lane>,
    use_simd: bool,
    /// Streams per kernel call (2..=4; a group may get one more, up to 4).
    way: usize,
}

impl Sha256n {
    /// `n` lanes (at most [`MAX_LANES`]), all empty; the interleaved path is
    /// used when [`simd`] says so.
    pub fn new(n: usize) -> Self {
        Self::with_simd(n, simd())
    }

    /// Like [`Sha256n::new`], but `use_simd == false` forces the per-lane
    /// `sha2` path (tests, comparisons) and `true` forces the interleaved
    /// kernel where the CPU has SHA-NI. Panics if `n > MAX_LANES`.
    pub fn with_simd(n: usize, use_simd: bool) -> Self {
        assert!(n <= MAX_LANES, "Sha256n: {n} lanes > {MAX_LANES}");
        Sha256n {
            lanes: vec![Lane::EMPTY; n],
            use_simd: use_simd && simd_available(),
            way: WAY,
        }
    }

    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Appends `data[i]` to lane i. Lengths may differ; an empty slice leaves
    /// its lane untouched. Equal lengths are the fast path: the common whole
    /// 64-byte blocks of lane pairs go through the interleaved kernel.
    /// Panics if `data.len()` is more than the number of lanes.
    pub fn update(&mut self, data: &[&[u8]]) {
        assert!(
            data.len() <= self.lanes.len(),
            "Sha256n::update: {} slices > {} lanes",
            data.len(),
            self.lanes.len()
        );
        let mut rest: [&[u8]; MAX_LANES] = [&[]; MAX_LANES];
        for ((lane, r), d) in self.lanes.iter_mut().zip(&mut rest).zip(data) {
            lane.len = lane.len.wrapping_add(d.len() as u64);
            *r = lane.fill(d);
        }
        let rest = &mut rest[..data.len()];
        if self.use_simd {
            // Group the lanes that still have whole blocks until fewer than 2
            // have (unequal lengths); every pass exhausts a lane of each group.
            loop {
                let mut active = [0usize; MAX_LANES];
                let mut n = 0;
                for (l, r) in rest.iter().enumerate() {
                    if r.len() >= 64 {
                        active[n] = l;
                        n += 1;
                    }
                }
                if n < 2 {
                    break;
                }
                // `g` groups of 2 to 4 lanes, sizes as even as can be (with
                // 2-way: pairs, and one triple when `n` is odd).
                let g = (n / self.way).max(n.div_ceil(4)).max(1);
                let mut start = 0;
                for i in 0..g {
                    let size = n / g + usize::from(i < n % g);
                    self.simd_blocks(rest, &active[start..start + size]);
                    start += size;
                }
            }
        }
        for (lane, r) in self.lanes.iter_mut().zip(rest.iter()) {
            lane.absorb(r);
        }
    }

    /// Runs the common whole blocks of the `group` lanes (1 to 4 of them)
    /// through the interleaved kernel and advances their `rest`.
    fn simd_blocks(&mut self, rest: &mut [&[u8]], group: &[usize]) {
        let blocks = group.iter().map(|&l| rest[l].len() / 64).min().unwrap_or(0);
        #[cfg(target_arch = "x86_64")]
        {
            fn run<const N: usize>(
                lanes: &mut [Lane],
                rest: &mut [&[u8]],
                group: &[usize],
                blocks: usize,
            ) {
                let group: [usize; N] = group.try_into().expect("N lanes");
                let mut state = group.map(|l| lanes[l].state);
                let data = group.map(|l| rest[l]);
                // SAFETY: only called with `use_simd`, which implies SHA-NI
                // and SSE4.1 were detected (see `with_simd`); every data[l]
                // has >= blocks * 64 bytes (`blocks` is the min).
                unsafe { shani::compress(&mut state, data, blocks) };
                for (&l, s) in group.iter().zip(state) {
                    lanes[l].state = s;
                    rest[l] = &rest[l][blocks * 64..];
                }
            }
            match group.len() {
                1 => run::<1>(&mut self.lanes, rest, group, blocks),
                2 => run::<2>(&mut self.lanes, rest, group, blocks),
                3 => run::<3>(&mut self.lanes, rest, group, blocks),
                4 => run::<4>(&mut self.lanes, rest, group, blocks),
                n => unreachable!("Sha256n: kernel for {n} lanes"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            // Never reached (`use_simd` is always false here); stay correct anyway.
            for &l in group {
                let (head, tail) = rest[l].split_at(blocks * 64);
                self.lanes[l].absorb(head);
                rest[l] = tail;
            }
        }
    }

    /// SHA-256 digest of everything fed to lane `i` since it was last
    /// finished; resets lane `i` to empty. Panics if `i` is not a lane.
    pub fn finish_lane(&mut self, i: usize) -> [u8; 32] {
        digest(&mut self.lanes[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    use crate::lanes::Rng;

    fn reference(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    /// Both paths where the CPU has SHA-NI, else only the fallback.
    fn modes() -> Vec<bool> {
        if simd_available() {
            vec![false, true]
        } else {
            vec![false]
        }
    }

    fn hex(d: &[u8; 32]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256n_nist_vectors() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let two_blocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
        let million = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
        let msg448 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let a = vec![b'a'; 1_000_000];
        for use_simd in modes() {
            let mut h = Sha256n::with_simd(3, use_simd);
            h.update(&[b"abc", msg448, &a]);
            assert_eq!(hex(&h.finish_lane(0)), abc, "simd {use_simd}");
            assert_eq!(hex(&h.finish_lane(1)), two_blocks, "simd {use_simd}");
            assert_eq!(hex(&h.finish_lane(2)), million, "simd {use_simd}");
            // The million 'a' in two equal lanes, in odd pieces.
            let mut h = Sha256n::with_simd(2, use_simd);
            for piece in a.chunks(4099) {
                h.update(&[piece, piece]);
            }
            assert_eq!(hex(&h.finish_lane(0)), million, "simd {use_simd}");
            assert_eq!(hex(&h.finish_lane(1)), million, "simd {use_simd}");
        }
    }

    #[test]
    fn sha256n_empty_and_zero_lanes() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for use_simd in modes() {
            let mut h = Sha256n::with_simd(0, use_simd);
            h.update(&[]);
            assert_eq!(h.lanes(), 0);
            let mut h = Sha256n::with_simd(MAX_LANES, use_simd);
            h.update(&[]);
            h.update(&[b"", b""]);
            for l in 0..MAX_LANES {
                assert_eq!(hex(&h.finish_lane(l)), empty);
            }
        }
    }

    #[test]
    fn sha256n_random_lengths() {
        let mut rng = Rng(0x5eed);
        for use_simd in modes() {
            for lanes in 1..=8 {
                for round in 0..40 {
                    let equal = round % 2 == 0;
                    let common = rng.below(301);
                    let data: Vec<Vec<u8>> = (0..lanes)
                        .map(|_| {
                            let n = if equal { common } else { rng.below(301) };
                            rng.bytes(n)
                        })
                        .collect();
                    let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
                    let mut h = Sha256n::with_simd(lanes, use_simd);
                    h.way = 2 + round % 3;
                    h.update(&refs);
                    for (l, d) in data.iter().enumerate() {
                        assert_eq!(
                            h.finish_lane(l),
                            reference(d),
                            "simd {use_simd} lanes {lanes} lane {l} len {}",
                            d.len()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sha256n_split_updates_and_reuse() {
        let mut rng = Rng(42);
        for use_simd in modes() {
            for lanes in [1, 2, 3, 5, 8] {
                let mut h = Sha256n::with_simd(lanes, use_simd);
                h.way = 2 + lanes % 3;
                // Reuse the same hasher: every lane is finished and fed again.
                for round in 0..4 {
                    let big = (1 << 20) + 1 + rng.below(3000);
                    let data: Vec<Vec<u8>> = (0..lanes)
                        .map(|l| {
                            let n = match (round, l % 3) {
                                (0, _) => big,
                                (_, 0) => big,
                                (_, 1) => big - 64 * rng.below(100) - rng.below(64),
                                _ => rng.below(1000),
                            };
                            rng.bytes(n)
                        })
                        .collect();
                    let mut pos = vec![0usize; lanes];
                    while pos.iter().zip(&data).any(|(&p, d)| p < d.len()) {
                        // Equal-size pieces (the fast path) most of the time,
                        // with odd sizes and skipped lanes now and then.
                        let size = if rng.below(4) == 0 {
                            rng.below(70_000)
                        } else {
                            65_536 + rng.below(2) * 13
                        };
                        let refs: Vec<&[u8]> = (0..lanes)
                            .map(|l| {
                                let n = if rng.below(8) == 0 { 0 } else { size };
                                let end = (pos[l] + n).min(data[l].len());
                                let s = &data[l][pos[l]..end];
                                pos[l] = end;
                                s
                            })
                            .collect();
                        // Sometimes fewer slices than lanes.
                        let k = if rng.below(5) == 0 {
                            rng.below(lanes + 1)
                        } else {
                            lanes
                        };
                        for (l, r) in refs.iter().enumerate().skip(k) {
                            pos[l] -= r.len();
                        }
                        h.update(&refs[..k]);
                    }
                    for (l, d) in data.iter().enumerate() {
                        assert_eq!(
                            h.finish_lane(l),
                            reference(d),
                            "simd {use_simd} lanes {lanes} round {round} lane {l}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sha256n_kernel_widths() {
        // The kernel for each width against sha2, on a few blocks.
        #[cfg(target_arch = "x86_64")]
        if simd_available() {
            let mut rng = Rng(7);
            let data: Vec<Vec<u8>> = (0..4).map(|_| rng.bytes(64 * 5)).collect();
            let expect: Vec<[u32; 8]> = data
                .iter()
                .map(|d| {
                    let mut s = INIT;
                    for b in d.chunks_exact(64) {
                        sha2::compress256(&mut s, &[*GenericArray::from_slice(b)]);
                    }
                    s
                })
                .collect();
            macro_rules! check {
                ($n:literal) => {{
                    let mut st = [INIT; $n];
                    let d: [&[u8]; $n] = core::array::from_fn(|l| data[l].as_slice());
                    // SAFETY: SHA-NI detected; each slice has 5 blocks.
                    unsafe { shani::compress(&mut st, d, 5) };
                    assert_eq!(&st[..], &expect[..$n], "width {}", $n);
                }};
            }
            check!(1);
            check!(2);
            check!(3);
            check!(4);
        }
    }

    /// `cargo test --release sha256n -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_sha256n() {
        use std::time::Instant;
        const GIB: usize = 1 << 30;
        const PIECE: usize = 64 * 1024;
        let mut rng = Rng(1);
        let data = rng.bytes(GIB);
        let gbs = |t: Instant| GIB as f64 / t.elapsed().as_secs_f64() / 1e9;

        let t = Instant::now();
        let single = reference(&data);
        let base = gbs(t);
        println!("sha2 crate, 1 stream, 1 GiB:            {base:.2} GB/s");

        for lanes in [1, 2, 4, 8] {
            let lane_len = GIB / lanes;
            let expect: Vec<[u8; 32]> = data.chunks(lane_len).map(reference).collect();
            for use_simd in modes() {
                let t = Instant::now();
                let mut h = Sha256n::with_simd(lanes, use_simd);
                for p in (0..lane_len).step_by(PIECE) {
                    let refs: Vec<&[u8]> = (0..lanes)
                        .map(|l| &data[l * lane_len + p..l * lane_len + p + PIECE])
                        .collect();
                    h.update(&refs);
                }
                let got: Vec<[u8; 32]> = (0..lanes).map(|l| h.finish_lane(l)).collect();
                let r = gbs(t);
                println!(
                    "Sha256n (simd {use_simd:5}), {lanes} lanes, 1 GiB: {r:.2} GB/s ({:.2}x)",
                    r / base
                );
                assert_eq!(got, expect);
            }
        }
        assert_eq!(single, reference(&data));
    }

    /// Kernel speed without memory traffic: 64 KiB per lane, hashed over
    /// and over, best of 15. `cargo test --release sha256n -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_sha256n_in_cache() {
        const PIECE: usize = 64 * 1024;
        const TOTAL: usize = 16 << 20;
        let mut rng = Rng(3);
        let data: Vec<Vec<u8>> = (0..8).map(|_| rng.bytes(PIECE)).collect();
        // CPU time of this thread: the machine is shared, wall time is noisy.
        let cpu = || {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
        };
        let best = |f: &mut dyn FnMut()| {
            (0..15)
                .map(|_| {
                    let t = cpu();
                    f();
                    TOTAL as f64 / (cpu() - t) / 1e9
                })
                .fold(0.0, f64::max)
        };
        let base = best(&mut || {
            let mut h = Sha256::new();
            for _ in 0..TOTAL / PIECE {
                h.update(&data[0]);
            }
            std::hint::black_box(h.finalize());
        });
        println!("in cache: sha2 1 stream {base:.2} GB/s");
        for way in 2..=4 {
            for lanes in [2, 3, 4, 8] {
                let r = best(&mut || {
                    let mut h = Sha256n::with_simd(lanes, true);
                    h.way = way;
                    let refs: Vec<&[u8]> = data[..lanes].iter().map(|d| d.as_slice()).collect();
                    for _ in 0..TOTAL / PIECE / lanes {
                        h.update(&refs);
                    }
                    std::hint::black_box(h.finish_lane(0));
                });
                println!(
                    "in cache: way {way}, {lanes} lanes: {r:.2} GB/s ({:.2}x)",
                    r / base
                );
            }
        }
    }
}
