//! Multi-buffer MD5: up to 8 independent MD5 computations advanced in lockstep.
//!
//! MD5 is one long serial dependency chain, so a single stream cannot use a
//! modern core's width. Independent streams (the 10 MiB blocks of the Cells
//! hash) can: with AVX2 each `__m256i` carries the same MD5 word of 8 streams,
//! and one pass of the 64 rounds advances all 8 at roughly the cost of one.
//!
//! A scalar compress of its own serves without AVX2 and on other architectures.

use std::fs::File;
use std::io;

/// Number of streams advanced together.
pub const LANES: usize = 8;

/// Bytes per buffer in [`file_block_md5s`]: small so that the 8 buffers stay
/// in L2 (copies out of the page cache into them are ~2x cheaper than into
/// large, cache-cold buffers).
const CHUNK: usize = 64 * 1024;

/// Below this many lanes with whole blocks, the scalar compress per lane is
/// cheaper than one 8-wide pass (measured: one pass ~ 1.3 scalar blocks).
const MIN_SIMD_LANES: usize = 2;

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// Round constants (RFC 1321 T[i], i.e. floor(abs(sin(i + 1)) * 2^32)).
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// The 64 MD5 steps, shared by the scalar and the SIMD compress: each step is
/// `$step!(round fn, a, b, c, d, message word, step index, rotation)`.
macro_rules! md5_steps {
    ($step:ident, $a:ident, $b:ident, $c:ident, $d:ident) => {
        $step!(f, $a, $b, $c, $d, 0, 0, 7);
        $step!(f, $d, $a, $b, $c, 1, 1, 12);
        $step!(f, $c, $d, $a, $b, 2, 2, 17);
        $step!(f, $b, $c, $d, $a, 3, 3, 22);
        $step!(f, $a, $b, $c, $d, 4, 4, 7);
        $step!(f, $d, $a, $b, $c, 5, 5, 12);
        $step!(f, $c, $d, $a, $b, 6, 6, 17);
        $step!(f, $b, $c, $d, $a, 7, 7, 22);
        $step!(f, $a, $b, $c, $d, 8, 8, 7);
        $step!(f, $d, $a, $b, $c, 9, 9, 12);
        $step!(f, $c, $d, $a, $b, 10, 10, 17);
        $step!(f, $b, $c, $d, $a, 11, 11, 22);
        $step!(f, $a, $b, $c, $d, 12, 12, 7);
        $step!(f, $d, $a, $b, $c, 13, 13, 12);
        $step!(f, $c, $d, $a, $b, 14, 14, 17);
        $step!(f, $b, $c, $d, $a, 15, 15, 22);

        $step!(g, $a, $b, $c, $d, 1, 16, 5);
        $step!(g, $d, $a, $b, $c, 6, 17, 9);
        $step!(g, $c, $d, $a, $b, 11, 18, 14);
        $step!(g, $b, $c, $d, $a, 0, 19, 20);
        $step!(g, $a, $b, $c, $d, 5, 20, 5);
        $step!(g, $d, $a, $b, $c, 10, 21, 9);
        $step!(g, $c, $d, $a, $b, 15, 22, 14);
        $step!(g, $b, $c, $d, $a, 4, 23, 20);
        $step!(g, $a, $b, $c, $d, 9, 24, 5);
        $step!(g, $d, $a, $b, $c, 14, 25, 9);
        $step!(g, $c, $d, $a, $b, 3, 26, 14);
        $step!(g, $b, $c, $d, $a, 8, 27, 20);
        $step!(g, $a, $b, $c, $d, 13, 28, 5);
        $step!(g, $d, $a, $b, $c, 2, 29, 9);
        $step!(g, $c, $d, $a, $b, 7, 30, 14);
        $step!(g, $b, $c, $d, $a, 12, 31, 20);

        $step!(h, $a, $b, $c, $d, 5, 32, 4);
        $step!(h, $d, $a, $b, $c, 8, 33, 11);
        $step!(h, $c, $d, $a, $b, 11, 34, 16);
        $step!(h, $b, $c, $d, $a, 14, 35, 23);
        $step!(h, $a, $b, $c, $d, 1, 36, 4);
        $step!(h, $d, $a, $b, $c, 4, 37, 11);
        $step!(h, $c, $d, $a, $b, 7, 38, 16);
        $step!(h, $b, $c, $d, $a, 10, 39, 23);
        $step!(h, $a, $b, $c, $d, 13, 40, 4);
        $step!(h, $d, $a, $b, $c, 0, 41, 11);
        $step!(h, $c, $d, $a, $b, 3, 42, 16);
        $step!(h, $b, $c, $d, $a, 6, 43, 23);
        $step!(h, $a, $b, $c, $d, 9, 44, 4);
        $step!(h, $d, $a, $b, $c, 12, 45, 11);
        $step!(h, $c, $d, $a, $b, 15, 46, 16);
        $step!(h, $b, $c, $d, $a, 2, 47, 23);

        $step!(i, $a, $b, $c, $d, 0, 48, 6);
        $step!(i, $d, $a, $b, $c, 7, 49, 10);
        $step!(i, $c, $d, $a, $b, 14, 50, 15);
        $step!(i, $b, $c, $d, $a, 5, 51, 21);
        $step!(i, $a, $b, $c, $d, 12, 52, 6);
        $step!(i, $d, $a, $b, $c, 3, 53, 10);
        $step!(i, $c, $d, $a, $b, 10, 54, 15);
        $step!(i, $b, $c, $d, $a, 1, 55, 21);
        $step!(i, $a, $b, $c, $d, 8, 56, 6);
        $step!(i, $d, $a, $b, $c, 15, 57, 10);
        $step!(i, $c, $d, $a, $b, 6, 58, 15);
        $step!(i, $b, $c, $d, $a, 13, 59, 21);
        $step!(i, $a, $b, $c, $d, 4, 60, 6);
        $step!(i, $d, $a, $b, $c, 11, 61, 10);
        $step!(i, $c, $d, $a, $b, 2, 62, 15);
        $step!(i, $b, $c, $d, $a, 9, 63, 21);
    };
}

/// Scalar MD5 compress of one 64-byte block (RFC 1321).
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    // Defined here so that `m` is in scope for the macro (hygiene).
    macro_rules! step {
        ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:literal, $j:literal, $s:literal) => {
            $a = $b.wrapping_add(
                $a.wrapping_add(m[$g])
                    .wrapping_add(K[$j])
                    .wrapping_add(round_fn!($f, $b, $c, $d))
                    .rotate_left($s),
            );
        };
    }
    macro_rules! round_fn {
        (f, $b:ident, $c:ident, $d:ident) => {
            $d ^ ($b & ($c ^ $d))
        };
        (g, $b:ident, $c:ident, $d:ident) => {
            $c ^ ($d & ($b ^ $c))
        };
        (h, $b:ident, $c:ident, $d:ident) => {
            $b ^ $c ^ $d
        };
        (i, $b:ident, $c:ident, $d:ident) => {
            $c ^ ($b | !$d)
        };
    }
    md5_steps!(step, a, b, c, d);
    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::K;
    use core::arch::x86_64::*;

    /// Compresses `blocks` consecutive 64-byte blocks of each `data[l]` into
    /// `state[l]`, for all 8 lanes at once.
    ///
    /// Every `data[l]` must hold at least `blocks * 64` bytes (checked).
    /// Callers must make sure that the CPU has AVX2 (hence `unsafe` to call).
    #[target_feature(enable = "avx2")]
    pub fn compress8(state: &mut [[u32; 4]; 8], data: &[&[u8]; 8], blocks: usize) {
        let need = blocks * 64;
        assert!(data.iter().all(|d| d.len() >= need));

        // State in "vertical" form: vector j holds word j of the 8 lanes.
        let mut v = [_mm256_setzero_si256(); 4];
        for (j, vj) in v.iter_mut().enumerate() {
            let w: [u32; 8] = core::array::from_fn(|l| state[l][j]);
            // SAFETY: `w` is 32 readable bytes; loadu has no alignment need.
            *vj = unsafe { _mm256_loadu_si256(w.as_ptr().cast()) };
        }
        let [mut a, mut b, mut c, mut d] = v;
        let ones = _mm256_set1_epi32(-1);

        for blk in 0..blocks {
            let off = blk * 64;
            let m = load_block(data, off);
            let (aa, bb, cc, dd) = (a, b, c, d);

            macro_rules! rotl {
                ($x:expr, $s:literal) => {
                    _mm256_or_si256(
                        _mm256_slli_epi32::<$s>($x),
                        _mm256_srli_epi32::<{ 32 - $s }>($x),
                    )
                };
            }
            // Ordered for a short path from `b` (the newest value, the end of
            // the dependency chain): what needs only a, c, d is done first.
            macro_rules! step {
                ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:literal, $j:literal, $s:literal) => {
                    let t = _mm256_add_epi32(m[$g], _mm256_set1_epi32(K[$j] as i32));
                    let t = add_fn!($f, _mm256_add_epi32($a, t), $b, $c, $d);
                    $a = _mm256_add_epi32($b, rotl!(t, $s));
                };
            }
            // t + round function of (b, c, d).
            macro_rules! add_fn {
                // d ^ (b & (c ^ d))
                (f, $t:expr, $b:ident, $c:ident, $d:ident) => {
                    _mm256_add_epi32(
                        $t,
                        _mm256_xor_si256($d, _mm256_and_si256($b, _mm256_xor_si256($c, $d))),
                    )
                };
                // (b & d) | (c & !d): the two parts have disjoint bits, so they
                // can be added one at a time, the one without `b` first.
                (g, $t:expr, $b:ident, $c:ident, $d:ident) => {
                    _mm256_add_epi32(
                        _mm256_add_epi32($t, _mm256_andnot_si256($d, $c)),
                        _mm256_and_si256($b, $d),
                    )
                };
                // b ^ c ^ d
                (h, $t:expr, $b:ident, $c:ident, $d:ident) => {
                    _mm256_add_epi32($t, _mm256_xor_si256($b, _mm256_xor_si256($c, $d)))
                };
                // c ^ (b | !d)
                (i, $t:expr, $b:ident, $c:ident, $d:ident) => {
                    _mm256_add_epi32(
                        $t,
                        _mm256_xor_si256($c, _mm256_or_si256($b, _mm256_xor_si256($d, ones))),
                    )
                };
            }
            md5_steps!(step, a, b, c, d);

            a = _mm256_add_epi32(a, aa);
            b = _mm256_add_epi32(b, bb);
            c = _mm256_add_epi32(c, cc);
            d = _mm256_add_epi32(d, dd);
        }

        for (j, vj) in [a, b, c, d].into_iter().enumerate() {
            let mut w = [0u32; 8];
            // SAFETY: `w` is 32 writable bytes; storeu has no alignment need.
            unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), vj) };
            for (l, s) in state.iter_mut().enumerate() {
                s[j] = w[l];
            }
        }
    }

    /// Loads the 16 message words of the block at `off` of the 8 lanes, as
    /// 16 vectors (vector g = word g of lanes 0..8), by a 4x4 transpose per
    /// 16-byte quarter: each row pairs lane l (low half) with lane l+4.
    #[target_feature(enable = "avx2")]
    fn load_block(data: &[&[u8]; 8], off: usize) -> [__m256i; 16] {
        let mut m = [_mm256_setzero_si256(); 16];
        for q in 0..4 {
            let at = off + q * 16;
            let row = |l: usize| {
                let lo = &data[l][at..at + 16];
                let hi = &data[l + 4][at..at + 16];
                // SAFETY: both slices are 16 bytes long (bounds-checked above).
                unsafe { _mm256_loadu2_m128i(hi.as_ptr().cast(), lo.as_ptr().cast()) }
            };
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            let t0 = _mm256_unpacklo_epi32(r0, r1);
            let t1 = _mm256_unpackhi_epi32(r0, r1);
            let t2 = _mm256_unpacklo_epi32(r2, r3);
            let t3 = _mm256_unpackhi_epi32(r2, r3);
            m[q * 4] = _mm256_unpacklo_epi64(t0, t2);
            m[q * 4 + 1] = _mm256_unpackhi_epi64(t0, t2);
            m[q * 4 + 2] = _mm256_unpacklo_epi64(t1, t3);
            m[q * 4 + 3] = _mm256_unpackhi_epi64(t1, t3);
        }
        m
    }

    /// [`compress8`] with AVX-512VL on the same 256-bit registers: a rotate
    /// is one instruction instead of three, a round function one ternary
    /// logic instruction instead of two or three (about 40 % fewer
    /// instructions per step). Callers must make sure that the CPU has
    /// AVX-512F and AVX-512VL.
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    pub fn compress8_avx512(state: &mut [[u32; 4]; 8], data: &[&[u8]; 8], blocks: usize) {
        let need = blocks * 64;
        assert!(data.iter().all(|d| d.len() >= need));

        let mut v = [_mm256_setzero_si256(); 4];
        for (j, vj) in v.iter_mut().enumerate() {
            let w: [u32; 8] = core::array::from_fn(|l| state[l][j]);
            // SAFETY: `w` is 32 readable bytes; loadu has no alignment need.
            *vj = unsafe { _mm256_loadu_si256(w.as_ptr().cast()) };
        }
        let [mut a, mut b, mut c, mut d] = v;

        for blk in 0..blocks {
            let off = blk * 64;
            let m = load_block(data, off);
            let (aa, bb, cc, dd) = (a, b, c, d);

            // Ternary logic tables of the round functions of (b, c, d):
            // f = b ? c : d, g = d ? b : c, h = b ^ c ^ d, i = c ^ (b | !d).
            macro_rules! imm {
                (f) => {
                    0xCA
                };
                (g) => {
                    0xE4
                };
                (h) => {
                    0x96
                };
                (i) => {
                    0x39
                };
            }
            macro_rules! step {
                ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $g:literal, $j:literal, $s:literal) => {
                    let t = _mm256_add_epi32(m[$g], _mm256_set1_epi32(K[$j] as i32));
                    let t = _mm256_add_epi32(
                        _mm256_add_epi32($a, t),
                        _mm256_ternarylogic_epi32::<{ imm!($f) }>($b, $c, $d),
                    );
                    $a = _mm256_add_epi32($b, _mm256_rol_epi32::<$s>(t));
                };
            }
            md5_steps!(step, a, b, c, d);

            a = _mm256_add_epi32(a, aa);
            b = _mm256_add_epi32(b, bb);
            c = _mm256_add_epi32(c, cc);
            d = _mm256_add_epi32(d, dd);
        }

        for (j, vj) in [a, b, c, d].into_iter().enumerate() {
            let mut w = [0u32; 8];
            // SAFETY: `w` is 32 writable bytes; storeu has no alignment need.
            unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), vj) };
            for (l, s) in state.iter_mut().enumerate() {
                s[j] = w[l];
            }
        }
    }
}

/// True when the SIMD path is in use on this machine (detected once).
///
/// Not in debug builds: unoptimised, every intrinsic is an out-of-line call
/// and the kernel runs ~5x slower than the scalar code, which would make a
/// debug-built client crawl through big files in the integration tests.
/// (`Md5x8::with_simd(true)` still runs it there, for the unit tests.)
pub fn simd() -> bool {
    simd_available() && !cfg!(debug_assertions)
}

/// True when the CPU can run the SIMD kernel (AVX2), detected once.
fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVX2.get_or_init(|| std::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// True when the CPU has AVX-512F and AVX-512VL (the faster kernel), detected once.
#[cfg(target_arch = "x86_64")]
fn avx512_available() -> bool {
    static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVX512.get_or_init(|| {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
    })
}

/// MD5 for [`crate::lanes`].
pub struct Md5;

impl crate::lanes::BlockHash for Md5 {
    type State = [u32; 4];
    const INIT: [u32; 4] = INIT;
    const BIG_ENDIAN_LENGTH: bool = false;
    fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
        compress(state, block);
    }
}

type Lane = crate::lanes::Lane<Md5>;

/// The digest of a lane, which is reset.
fn digest(lane: &mut Lane) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, w) in out.chunks_exact_mut(4).zip(lane.finish()) {
        o.copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Up to 8 independent MD5 computations advanced together.
#[derive(Clone)]
pub struct Md5x8 {
    lanes: [Lane; LANES],
    use_simd: bool,
}

impl Default for Md5x8 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5x8 {
    /// All 8 lanes empty; the SIMD path is used when [`simd`] says so.
    pub fn new() -> Self {
        Self::with_simd(simd())
    }

    /// Like [`Md5x8::new`], but `use_simd == false` forces the scalar path
    /// (tests, comparisons) and `true` forces SIMD where the CPU has it.
    pub fn with_simd(use_simd: bool) -> Self {
        Md5x8 {
            lanes: [Lane::EMPTY; LANES],
            use_simd: use_simd && simd_available(),
        }
    }

    /// Appends `data[i]` to lane i for `i < data.len()` (at most 8: with more,
    /// nothing is appended). Lengths may differ; an empty slice leaves its
    /// lane untouched. Equal lengths are the fast path: their common whole
    /// 64-byte blocks go through the 8-wide kernel.
    pub fn update(&mut self, data: &[&[u8]]) {
        if data.len() > LANES {
            debug_assert!(false, "Md5x8::update: {} slices > {LANES}", data.len());
            return;
        }
        let mut rest: [&[u8]; LANES] = [&[]; LANES];
        for ((lane, r), d) in self.lanes.iter_mut().zip(&mut rest).zip(data) {
            lane.len = lane.len.wrapping_add(d.len() as u64);
            *r = lane.fill(d);
        }
        if self.use_simd {
            // Unequal lengths: keep going while enough lanes still have blocks.
            loop {
                let mut active = [0usize; LANES];
                let mut n = 0;
                for (l, r) in rest.iter().enumerate() {
                    if r.len() >= 64 {
                        active[n] = l;
                        n += 1;
                    }
                }
                if n < MIN_SIMD_LANES {
                    break;
                }
                let active = &active[..n];
                let blocks = active
                    .iter()
                    .map(|&l| rest[l].len() / 64)
                    .min()
                    .unwrap_or(0);
                self.simd_blocks(&mut rest, active, blocks);
            }
        }
        for (lane, r) in self.lanes.iter_mut().zip(rest) {
            lane.absorb(r);
        }
    }

    /// Runs `blocks` whole blocks of the `active` lanes through the 8-wide
    /// kernel and advances their `rest`. Inactive lanes compute on a copy of
    /// an active lane's data and their results are dropped, so their state is
    /// kept as it was.
    fn simd_blocks(&mut self, rest: &mut [&[u8]; LANES], active: &[usize], blocks: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            let filler = rest[active[0]];
            let data: [&[u8]; LANES] =
                core::array::from_fn(|l| if active.contains(&l) { rest[l] } else { filler });
            let mut state: [[u32; 4]; LANES] = core::array::from_fn(|l| self.lanes[l].state);
            if avx512_available() {
                // SAFETY: AVX-512F and AVX-512VL were detected.
                unsafe { avx2::compress8_avx512(&mut state, &data, blocks) };
            } else {
                // SAFETY: `use_simd` implies that AVX2 was detected (`with_simd`).
                unsafe { avx2::compress8(&mut state, &data, blocks) };
            }
            for &l in active {
                self.lanes[l].state = state[l];
                rest[l] = &rest[l][blocks * 64..];
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            // Never reached (`use_simd` is always false here); stay correct anyway.
            for &l in active {
                let (head, tail) = rest[l].split_at(blocks * 64);
                self.lanes[l].absorb(head);
                rest[l] = tail;
            }
        }
    }

    /// MD5 digest of everything fed to lane `i` since it was last finished;
    /// resets lane `i` to empty. Panics if `i >= LANES`.
    pub fn finish_lane(&mut self, i: usize) -> [u8; 16] {
        digest(&mut self.lanes[i])
    }
}

/// MD5 of `data` with the scalar compress (small inputs, e.g. digest lists).
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut lane = Lane::EMPTY;
    lane.len = data.len() as u64;
    lane.absorb(data);
    digest(&mut lane)
}

/// MD5 digests of consecutive `block`-byte blocks of `len` bytes of `file`
/// starting at `offset` (the last block may be short; `len == 0` gives one
/// digest, of the empty string). Blocks are hashed 8 at a time in lockstep,
/// read positionally in 64 KiB pieces. A file shorter than `offset + len`
/// is an `UnexpectedEof` error.
pub fn file_block_md5s(
    file: &File,
    offset: u64,
    len: u64,
    block: u64,
) -> io::Result<Vec<[u8; 16]>> {
    file_block_md5s_with(file, offset, len, block, simd())
}

fn file_block_md5s_with(
    file: &File,
    offset: u64,
    len: u64,
    block: u64,
    use_simd: bool,
) -> io::Result<Vec<[u8; 16]>> {
    file_ranges_md5s_with(file, &block_ranges(offset, len, block)?, use_simd)
}

/// The `(offset, len)` of the consecutive `block`-byte blocks of `len` bytes
/// from `offset` (one empty range for `len == 0`).
pub fn block_ranges(offset: u64, len: u64, block: u64) -> io::Result<Vec<(u64, u64)>> {
    if block == 0 || offset.checked_add(len).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid block size or range",
        ));
    }
    if len == 0 {
        return Ok(vec![(offset, 0)]);
    }
    let count = len.div_ceil(block);
    Ok((0..count)
        .map(|b| (offset + b * block, block.min(len - b * block)))
        .collect())
}

/// The MD5 of each `(offset, len)` range of `file`, 8 ranges at a time in
/// lockstep (ranges of equal length keep every lane busy), read positionally
/// in 64 KiB pieces. A file shorter than a range is an `UnexpectedEof` error.
pub fn file_ranges_md5s(file: &File, ranges: &[(u64, u64)]) -> io::Result<Vec<[u8; 16]>> {
    file_ranges_md5s_with(file, ranges, simd())
}

fn file_ranges_md5s_with(
    file: &File,
    ranges: &[(u64, u64)],
    use_simd: bool,
) -> io::Result<Vec<[u8; 16]>> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut bufs = vec![0u8; LANES * CHUNK];
    let mut md = Md5x8::with_simd(use_simd);
    for group in ranges.chunks(LANES) {
        let lanes = group.len();
        // Remaining byte range [pos, end) of each lane.
        let mut pos = [0u64; LANES];
        let mut end = [0u64; LANES];
        for (l, &(o, n)) in group.iter().enumerate() {
            pos[l] = o;
            end[l] = o
                .checked_add(n)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "invalid range"))?;
        }
        loop {
            let mut sizes = [0usize; LANES];
            for (l, buf) in bufs.chunks_exact_mut(CHUNK).take(lanes).enumerate() {
                let n = (end[l] - pos[l]).min(CHUNK as u64) as usize;
                read_full_at(file, &mut buf[..n], pos[l])?;
                pos[l] += n as u64;
                sizes[l] = n;
            }
            if sizes.iter().all(|&n| n == 0) {
                break;
            }
            let slices: [&[u8]; LANES] =
                core::array::from_fn(|l| &bufs[l * CHUNK..l * CHUNK + sizes[l]]);
            md.update(&slices[..lanes]);
        }
        out.extend((0..lanes).map(|l| md.finish_lane(l)));
    }
    Ok(out)
}

/// Fills `buf` from `file` at `pos`, retrying interrupted reads.
fn read_full_at(file: &File, mut buf: &mut [u8], mut pos: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, pos) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while being read",
                ))
            }
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_file: &File, _buf: &mut [u8], _pos: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positional reads are not supported on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};
    use std::io::Write;

    use crate::lanes::Rng;

    fn reference(data: &[u8]) -> [u8; 16] {
        Md5::digest(data).into()
    }

    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Both paths where this CPU has SIMD, else only the scalar one.
    fn modes() -> Vec<bool> {
        if simd_available() {
            vec![false, true]
        } else {
            vec![false]
        }
    }

    /// Feeds `streams` to lanes 0..streams.len() in random pieces (each call
    /// gives every unfinished lane a piece of random size, sometimes equal
    /// sizes for all, sometimes nothing) and checks every digest.
    fn check_split(streams: &[Vec<u8>], use_simd: bool, rng: &mut Rng, max_piece: usize) {
        let mut md = Md5x8::with_simd(use_simd);
        let mut pos = vec![0usize; streams.len()];
        while pos.iter().zip(streams).any(|(p, s)| *p < s.len()) {
            let equal = rng.below(3) == 0;
            let common = rng.below(max_piece + 1);
            let pieces: Vec<&[u8]> = streams
                .iter()
                .zip(&mut pos)
                .map(|(s, p)| {
                    let want = if equal {
                        common
                    } else {
                        rng.below(max_piece + 1)
                    };
                    let n = want.min(s.len() - *p);
                    let piece = &s[*p..*p + n];
                    *p += n;
                    piece
                })
                .collect();
            md.update(&pieces);
        }
        for (l, s) in streams.iter().enumerate() {
            assert_eq!(
                hex(&md.finish_lane(l)),
                hex(&reference(s)),
                "lane {l} len {} simd {use_simd}",
                s.len()
            );
        }
    }

    #[test]
    fn md5x8_rfc1321_vectors_on_every_lane() {
        let vectors: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        for use_simd in modes() {
            let mut md = Md5x8::with_simd(use_simd);
            for (text, want) in vectors {
                // The same vector on all lanes, then each lane a different one.
                md.update(&[text.as_bytes(); LANES]);
                for l in 0..LANES {
                    assert_eq!(hex(&md.finish_lane(l)), want, "lane {l} {text:?}");
                }
            }
            let texts: Vec<&[u8]> = (0..LANES).map(|l| vectors[l % 7].0.as_bytes()).collect();
            md.update(&texts);
            for l in 0..LANES {
                assert_eq!(hex(&md.finish_lane(l)), vectors[l % 7].1, "lane {l}");
            }
        }
    }

    /// Both 8-lane kernels (AVX2, and AVX-512VL where the CPU has it) give the
    /// scalar compress's states, block after block (the other tests run
    /// whichever kernel this CPU picks).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn md5x8_kernels_agree_with_the_scalar_compress() {
        if !simd_available() {
            return;
        }
        let mut rng = Rng(0x5eed);
        let data: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(64 * 37)).collect();
        let refs: [&[u8]; LANES] = core::array::from_fn(|l| &data[l][..]);
        let mut want: [[u32; 4]; LANES] =
            core::array::from_fn(|l| [INIT[0], INIT[1], INIT[2] ^ l as u32, INIT[3]]);
        let start = want;
        for (l, st) in want.iter_mut().enumerate() {
            for blk in data[l].chunks_exact(64) {
                compress(st, blk.try_into().unwrap());
            }
        }
        let mut got = start;
        // SAFETY: AVX2 was detected.
        unsafe { avx2::compress8(&mut got, &refs, 37) };
        assert_eq!(got, want, "AVX2 kernel");
        if avx512_available() {
            let mut got = start;
            // SAFETY: AVX-512F and AVX-512VL were detected.
            unsafe { avx2::compress8_avx512(&mut got, &refs, 37) };
            assert_eq!(got, want, "AVX-512VL kernel");
        }
    }

    #[test]
    fn md5x8_random_lengths_and_splits() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for use_simd in modes() {
            for lanes in 1..=LANES {
                for _ in 0..40 {
                    let streams: Vec<Vec<u8>> = (0..lanes)
                        .map(|_| {
                            let n = rng.below(301);
                            rng.bytes(n)
                        })
                        .collect();
                    check_split(&streams, use_simd, &mut rng, 150);
                    // Equal lengths too (the fast path).
                    let n = rng.below(301);
                    let streams: Vec<Vec<u8>> = (0..lanes).map(|_| rng.bytes(n)).collect();
                    check_split(&streams, use_simd, &mut rng, 200);
                }
            }
            // Every length 0..=300 on every lane, in one update.
            for n in 0..=300 {
                let streams: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(n)).collect();
                let mut md = Md5x8::with_simd(use_simd);
                let refs: Vec<&[u8]> = streams.iter().map(|s| s.as_slice()).collect();
                md.update(&refs);
                for (l, s) in streams.iter().enumerate() {
                    assert_eq!(md.finish_lane(l), reference(s), "len {n} lane {l}");
                }
            }
        }
    }

    #[test]
    fn md5x8_large_streams() {
        let mut rng = Rng(42);
        let big = (1 << 20) + 77;
        for use_simd in modes() {
            // Equal lengths, split at odd (equal) boundaries.
            let streams: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(big)).collect();
            let mut md = Md5x8::with_simd(use_simd);
            let mut p = 0;
            for piece in [1, 63, 64, 65, 4095, 65536, 100_001].iter().cycle() {
                if p == big {
                    break;
                }
                let n = (*piece).min(big - p);
                let refs: Vec<&[u8]> = streams.iter().map(|s| &s[p..p + n]).collect();
                md.update(&refs);
                p += n;
            }
            for (l, s) in streams.iter().enumerate() {
                assert_eq!(md.finish_lane(l), reference(s), "lane {l}");
            }
            // Unequal large lengths, random pieces.
            let streams: Vec<Vec<u8>> = (0..5).map(|l| rng.bytes(big - l * 1000 + l)).collect();
            check_split(&streams, use_simd, &mut rng, 70_000);
        }
    }

    #[test]
    fn md5x8_idle_lanes_keep_state_and_lanes_are_reusable() {
        let mut rng = Rng(7);
        for use_simd in modes() {
            let a: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(1000)).collect();
            let b: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(3000)).collect();
            let mut md = Md5x8::with_simd(use_simd);
            let refs: Vec<&[u8]> = a.iter().map(|s| &s[..500]).collect();
            md.update(&refs);
            // Only the even lanes get more; the odd ones must not move.
            let refs: Vec<&[u8]> = (0..LANES)
                .map(|l| if l % 2 == 0 { &a[l][500..] } else { &[][..] })
                .collect();
            md.update(&refs);
            // Only the first 3 lanes (a shorter slice list).
            md.update(&[&b[0][..], &b[1][..], &b[2][..]]);
            for l in 0..LANES {
                let mut want = Md5::new();
                want.update(if l % 2 == 0 { &a[l][..] } else { &a[l][..500] });
                if l < 3 {
                    want.update(&b[l]);
                }
                assert_eq!(
                    md.finish_lane(l),
                    <[u8; 16]>::from(want.finalize()),
                    "lane {l}"
                );
            }
            // Reuse after finish: a fresh stream on every lane.
            let refs: Vec<&[u8]> = b.iter().map(|s| s.as_slice()).collect();
            md.update(&refs);
            md.update(&refs);
            for (l, s) in b.iter().enumerate() {
                let mut want = Md5::new();
                want.update(s);
                want.update(s);
                assert_eq!(
                    md.finish_lane(l),
                    <[u8; 16]>::from(want.finalize()),
                    "lane {l}"
                );
            }
            // More than 8 slices: nothing happens (release) / debug assertion.
            if !cfg!(debug_assertions) {
                md.update(&[&b"x"[..]; LANES + 1]);
                assert_eq!(hex(&md.finish_lane(0)), "d41d8cd98f00b204e9800998ecf8427e");
            }
        }
    }

    fn temp_file(data: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(data).unwrap();
        f.flush().unwrap();
        f
    }

    fn expected_blocks(data: &[u8], offset: usize, len: usize, block: usize) -> Vec<[u8; 16]> {
        let range = &data[offset..offset + len];
        if range.is_empty() {
            return vec![reference(b"")];
        }
        range.chunks(block).map(reference).collect()
    }

    #[test]
    fn md5x8_file_block_md5s_small_blocks() {
        let block = 1000usize;
        let mut rng = Rng(99);
        let data = rng.bytes(20 * block + 123);
        let f = temp_file(&data);
        let lens = [
            0,
            1,
            block - 1,
            block,
            block + 1,
            8 * block,
            9 * block - 1,
            17 * block + 5,
        ];
        for use_simd in modes() {
            for offset in [0usize, 1, 7, 999, 1001] {
                for len in lens {
                    let got = file_block_md5s_with(
                        f.as_file(),
                        offset as u64,
                        len as u64,
                        block as u64,
                        use_simd,
                    )
                    .unwrap();
                    assert_eq!(
                        got,
                        expected_blocks(&data, offset, len, block),
                        "off {offset} len {len}"
                    );
                }
            }
        }
        let got = file_block_md5s(f.as_file(), 3, 17 * 1000 + 5, 1000).unwrap();
        assert_eq!(got, expected_blocks(&data, 3, 17_005, 1000));
        // A block larger than the range: one digest.
        let got = file_block_md5s(f.as_file(), 2, 3000, u64::MAX).unwrap();
        assert_eq!(got, vec![reference(&data[2..3002])]);
        // Past the end of the file: the file "shrank".
        let err = file_block_md5s(f.as_file(), 5, data.len() as u64, 1000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(err.to_string(), "the file shrank while being read");
        // Shrunk after the fact.
        f.as_file().set_len(5000).unwrap();
        let err = file_block_md5s(f.as_file(), 0, data.len() as u64, 1000).unwrap_err();
        assert_eq!(err.to_string(), "the file shrank while being read");
        assert_eq!(
            file_block_md5s(f.as_file(), 0, 10, 0).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn md5x8_file_block_md5s_10mib_blocks() {
        let block = 10 << 20;
        let mut rng = Rng(5);
        let data = rng.bytes(25 * (1 << 20) + 333);
        let f = temp_file(&data);
        for (offset, len) in [
            (0, data.len()),
            (77, data.len() - 77),
            (4096, block),
            (1, block + 1),
            (12345, 2 * block - 1),
        ] {
            let got =
                file_block_md5s(f.as_file(), offset as u64, len as u64, block as u64).unwrap();
            assert_eq!(
                got,
                expected_blocks(&data, offset, len, block),
                "off {offset} len {len}"
            );
        }
    }

    /// `cargo test --release md5x8 -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_md5x8() {
        use std::time::Instant;
        const GIB: usize = 1 << 30;
        let mut rng = Rng(1);
        let lane_len = GIB / LANES;
        let data: Vec<Vec<u8>> = (0..LANES).map(|_| rng.bytes(lane_len)).collect();
        let gbs = |bytes: usize, t: Instant| bytes as f64 / t.elapsed().as_secs_f64() / 1e9;

        let t = Instant::now();
        let mut scalar = Vec::new();
        for d in &data {
            scalar.push(reference(d));
        }
        println!("md-5 crate, scalar, 1 GiB:        {:.2} GB/s", gbs(GIB, t));

        for use_simd in modes() {
            let t = Instant::now();
            let mut md = Md5x8::with_simd(use_simd);
            for p in (0..lane_len).step_by(CHUNK) {
                let refs: Vec<&[u8]> = data.iter().map(|d| &d[p..p + CHUNK]).collect();
                md.update(&refs);
            }
            let digests: Vec<[u8; 16]> = (0..LANES).map(|l| md.finish_lane(l)).collect();
            println!(
                "Md5x8 (simd {use_simd}), 8 x 128 MiB:  {:.2} GB/s",
                gbs(GIB, t)
            );
            assert_eq!(digests, scalar);
        }

        let path = std::path::Path::new("/tmp/md5x8-bench.bin");
        if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) != GIB as u64 {
            let mut f = File::create(path).unwrap();
            for d in &data {
                f.write_all(d).unwrap();
            }
        }
        let f = File::open(path).unwrap();
        // Warm the page cache so that the timing is of hashing, not the disk.
        file_block_md5s(&f, 0, GIB as u64, 10 << 20).unwrap();
        for use_simd in modes() {
            let t = Instant::now();
            let got = file_block_md5s_with(&f, 0, GIB as u64, 10 << 20, use_simd).unwrap();
            println!(
                "file_block_md5s (simd {use_simd}), 1 GiB:  {:.2} GB/s ({} blocks)",
                gbs(GIB, t),
                got.len()
            );
        }
    }
}
