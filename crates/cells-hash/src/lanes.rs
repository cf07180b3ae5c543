//! What the multi-stream hashers (`md5x8`, `sha256n`) share: one stream's
//! buffering of partial 64-byte blocks, and the Merkle–Damgård padding that
//! ends it.

/// A hash built on a compression function of 64-byte blocks.
pub trait BlockHash {
    type State: Copy;
    const INIT: Self::State;
    /// Byte order of the bit length in the padding (SHA-2: big, MD5: little).
    const BIG_ENDIAN_LENGTH: bool;
    fn compress(state: &mut Self::State, block: &[u8; 64]);
}

/// One stream: chaining state, a partial block, and the total length.
pub struct Lane<H: BlockHash> {
    pub state: H::State,
    buf: [u8; 64],
    buf_len: usize,
    /// Bytes fed so far (the caller adds them, so that whole blocks can be
    /// compressed elsewhere, e.g. by a SIMD kernel).
    pub len: u64,
}

impl<H: BlockHash> Clone for Lane<H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: BlockHash> Copy for Lane<H> {}

impl<H: BlockHash> Lane<H> {
    pub const EMPTY: Self = Lane {
        state: H::INIT,
        buf: [0; 64],
        buf_len: 0,
        len: 0,
    };

    /// Tops up a partial buffered block from `data` (compressing it once
    /// full) and returns the rest of `data`, which then starts on a block
    /// boundary of the stream unless it is empty.
    pub fn fill<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        if self.buf_len == 0 {
            return data;
        }
        let take = (64 - self.buf_len).min(data.len());
        self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
        self.buf_len += take;
        if self.buf_len == 64 {
            let block = self.buf;
            H::compress(&mut self.state, &block);
            self.buf_len = 0;
        }
        &data[take..]
    }

    /// Scalar path: whole blocks compressed here, the tail buffered.
    pub fn absorb(&mut self, data: &[u8]) {
        let data = self.fill(data);
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            H::compress(&mut self.state, block.try_into().expect("64-byte chunk"));
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            // fill() left the buffer empty, or consumed all of `data`.
            self.buf[..tail.len()].copy_from_slice(tail);
            self.buf_len = tail.len();
        }
    }

    /// Pads, returns the final state, and resets the lane.
    pub fn finish(&mut self) -> H::State {
        let bits = self.len.wrapping_mul(8);
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        // 1..=64 bytes of padding so that buf_len + pad + 8 is a multiple of 64.
        let pad_len = 64 - (self.buf_len + 8) % 64;
        let pad_len = if pad_len == 0 { 64 } else { pad_len };
        let length = if H::BIG_ENDIAN_LENGTH {
            bits.to_be_bytes()
        } else {
            bits.to_le_bytes()
        };
        pad[pad_len..pad_len + 8].copy_from_slice(&length);
        self.absorb(&pad[..pad_len + 8]);
        debug_assert_eq!(self.buf_len, 0);
        let state = self.state;
        *self = Self::EMPTY;
        state
    }
}

/// Deterministic test data for the hashers' tests (xorshift64*).
#[cfg(test)]
pub struct Rng(pub u64);

#[cfg(test)]
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        for c in v.chunks_mut(8) {
            c.copy_from_slice(&self.next_u64().to_le_bytes()[..c.len()]);
        }
        v
    }
}
