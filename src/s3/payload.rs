//! Unsigned bodies over TLS. Over HTTPS a body is sent as `UNSIGNED-PAYLOAD`
//! (like botocore does): TLS protects it in transit and the block MD5s are
//! checked end to end against what the server stores, so a SHA-256 pass over
//! every byte (client and server) buys nothing. A server that refuses unsigned
//! bodies (a 400, 403 or 501 to the first one, where the same request signed
//! succeeds) gets signed bodies from then on; the transfer layer remembers it
//! per account ([`crate::transfer`]).

use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::Error;

const UNKNOWN: u8 = 0;
const ACCEPTED: u8 = 1;
const REFUSED: u8 = 2;

/// What the server does with unsigned bodies, as far as known.
#[derive(Default)]
pub struct Payload {
    state: AtomicU8,
}

impl Payload {
    /// Send bodies unsigned (only over TLS, unless the server refused them).
    pub fn unsigned_allowed(&self, tls: bool) -> bool {
        tls && self.state.load(Ordering::Relaxed) != REFUSED
    }

    /// An unsigned body was taken: no fallback from now on.
    pub fn accepted(&self) {
        let _ =
            self.state
                .compare_exchange(UNKNOWN, ACCEPTED, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// `e` may be the server refusing an unsigned body: worth trying signed.
    pub fn may_be_refusal(&self, e: &Error) -> bool {
        self.state.load(Ordering::Relaxed) == UNKNOWN
            && matches!(e.status_code(), Some(400 | 403 | 501))
    }

    /// The same body went through signed: sign every body from now on.
    pub fn refused(&self, base: &str) {
        if self.state.swap(REFUSED, Ordering::Relaxed) != REFUSED {
            crate::api::http::debug(format!(
                "{base} refuses unsigned S3 bodies (UNSIGNED-PAYLOAD): signing every body"
            ));
        }
    }

    pub fn is_refused(&self) -> bool {
        self.state.load(Ordering::Relaxed) == REFUSED
    }
}
