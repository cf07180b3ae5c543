//! TLS of the direct S3 path. rustls makes the handshake (its unbuffered
//! API) and then keeps what only it can: the session tickets the server sends
//! (for resumption) and the key schedule (for key updates). The records after
//! the handshake are opened and sealed here, in place, with ring's AEADs:
//! rustls would decrypt each record into a buffer of its own (an allocation
//! and a copy per 16 KiB), then copy it again into the caller's; here the
//! bytes are decrypted where the socket read put them and copied once.
//!
//! Record protection is RFC 8446 §5 (TLS 1.3) and RFC 5288 / RFC 7905 (TLS
//! 1.2 with AES-GCM or ChaCha20-Poly1305, the only TLS 1.2 suites rustls
//! offers). Every record is authenticated before any byte of it is used; a
//! record that fails, is too long, or has an unknown type ends the connection
//! with an error, and so does the end of the stream without the server's
//! `close_notify` (a cut reply is never taken for a short one).

use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::Arc;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::kernel::KernelConnection;
use rustls::pki_types::ServerName;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, InsufficientSizeError, UnbufferedStatus,
};
use rustls::{ClientConfig, ConnectionTrafficSecrets, ProtocolVersion};

/// Socket reads: large reads, few system calls (at least one whole record).
const RECV_BUF: usize = 64 * 1024;
/// A handshake flight (certificate chains) may not fit [`RECV_BUF`].
const MAX_HANDSHAKE_BUF: usize = 1 << 20;
/// Post-handshake messages (session tickets) kept while incomplete.
const MAX_POST_HANDSHAKE: usize = 64 * 1024;
/// From this size on, a caller's buffer takes the socket's bytes itself and
/// its records are decrypted where they are (room for two whole records).
const DIRECT_MIN: usize = 2 * (HEADER + MAX_PLAIN + MAX_EXPANSION_12);
/// Encrypted bytes gathered before a socket write.
const SEND_BATCH: usize = 64 * 1024;

const HEADER: usize = 5;
const TAG: usize = 16;
/// Largest plaintext of a record (2^14), and the largest expansion each
/// version allows on top of it.
const MAX_PLAIN: usize = 1 << 14;
const MAX_EXPANSION_13: usize = 256;
const MAX_EXPANSION_12: usize = 2048;

const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APP_DATA: u8 = 23;
const NEW_SESSION_TICKET: u8 = 4;
const KEY_UPDATE: u8 = 24;
const CLOSE_NOTIFY: u8 = 0;

/// Records sealed under one AES-GCM key before it is replaced (TLS 1.3) or
/// the connection refuses to send more (TLS 1.2): rustls' confidentiality
/// limit for AES-GCM, 2^24 records.
const GCM_LIMIT: u64 = 1 << 24;

/// The keys of one direction.
struct Keys {
    key: LessSafeKey,
    iv: [u8; 12],
    /// Sequence number of the next record.
    seq: u64,
    /// TLS 1.2 AES-GCM: an explicit nonce in each record.
    explicit_nonce: bool,
    /// Records this key may seal.
    limit: u64,
}

impl Keys {
    fn new((seq, secrets): (u64, ConnectionTrafficSecrets), tls13: bool) -> io::Result<Keys> {
        let (alg, key, iv, gcm) = match &secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&aead::AES_128_GCM, key, iv, true),
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&aead::AES_256_GCM, key, iv, true),
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
                (&aead::CHACHA20_POLY1305, key, iv, false)
            }
            _ => return Err(io::Error::other("unsupported TLS cipher suite")),
        };
        let key = UnboundKey::new(alg, key.as_ref())
            .map_err(|_| io::Error::other("bad TLS key length"))?;
        let iv = iv
            .as_ref()
            .try_into()
            .map_err(|_| io::Error::other("bad TLS IV length"))?;
        Ok(Keys {
            key: LessSafeKey::new(key),
            iv,
            seq,
            explicit_nonce: gcm && !tls13,
            limit: if gcm { GCM_LIMIT } else { u64::MAX },
        })
    }

    /// The record's nonce: the IV with the sequence number XORed into its
    /// last 8 bytes (TLS 1.3, TLS 1.2 ChaCha20; TLS 1.2 AES-GCM sends the
    /// last 8 bytes as its explicit nonce).
    fn nonce(&self, seq: u64) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Take the next sequence number.
    fn next(&mut self) -> io::Result<u64> {
        let seq = self.seq;
        self.seq = seq
            .checked_add(1)
            .ok_or_else(|| bad("TLS sequence number exhausted"))?;
        Ok(seq)
    }
}

/// Decrypt the record that starts at `buf[rec]` and ends `buf`, its content
/// written from `buf[dst]` on (`dst <= rec`): its content type, and where its
/// content now is.
fn open_record(
    rx: &mut Keys,
    tls13: bool,
    buf: &mut [u8],
    rec: usize,
    dst: usize,
) -> io::Result<(u8, Range<usize>)> {
    let seq = rx.next()?;
    let mut hdr = [0u8; HEADER];
    hdr.copy_from_slice(&buf[rec..rec + HEADER]);
    let failed = |_| bad("a TLS record failed authentication");
    if tls13 {
        if hdr[0] != APP_DATA {
            return Err(bad("unexpected TLS record type"));
        }
        let nonce = Nonce::assume_unique_for_key(rx.nonce(seq));
        let src = rec + HEADER - dst..;
        let plain = rx
            .key
            .open_within(nonce, Aad::from(hdr), &mut buf[dst..], src)
            .map_err(failed)?;
        // Content, its type, then zero padding.
        let Some(i) = plain.iter().rposition(|&b| b != 0) else {
            return Err(bad("a TLS record without a content type"));
        };
        if i > MAX_PLAIN {
            return Err(bad("TLS record too long"));
        }
        return Ok((plain[i], dst..dst + i));
    }
    let typ = hdr[0];
    let mut body = rec + HEADER;
    let nonce = if rx.explicit_nonce {
        let Some(explicit) = buf.get(body..body + 8) else {
            return Err(bad("TLS record too short"));
        };
        let mut n = rx.iv;
        n[4..].copy_from_slice(explicit);
        body += 8;
        n
    } else {
        rx.nonce(seq)
    };
    let Some(len) = (buf.len() - body)
        .checked_sub(TAG)
        .filter(|&n| n <= MAX_PLAIN)
    else {
        return Err(bad("TLS record of a bad length"));
    };
    let aad = Aad::from(aad12(seq, typ, len));
    let nonce = Nonce::assume_unique_for_key(nonce);
    rx.key
        .open_within(nonce, aad, &mut buf[dst..], body - dst..)
        .map_err(failed)?;
    Ok((typ, dst..dst + len))
}

/// TLS 1.2's additional data: sequence number, type, version, length.
fn aad12(seq: u64, typ: u8, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = typ;
    a[9..11].copy_from_slice(&[3, 3]);
    a[11..].copy_from_slice(&(len as u16).to_be_bytes());
    a
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn tls_err(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A TLS connection after its handshake.
pub struct Tls {
    kernel: KernelConnection<ClientConnectionData>,
    tls13: bool,
    rx: Keys,
    tx: Keys,
    /// Received bytes: `raw[plain]` decrypted and not read yet,
    /// `raw[pos..end]` not decrypted yet.
    raw: Vec<u8>,
    plain: Range<usize>,
    pos: usize,
    end: usize,
    /// An incomplete post-handshake message.
    hs: Vec<u8>,
    /// Records sealed and not sent yet.
    out: Vec<u8>,
    /// The server sent `close_notify`.
    closed: bool,
}

/// Make the handshake on `sock`.
pub fn connect(
    sock: &std::net::TcpStream,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> io::Result<Tls> {
    let mut conn = UnbufferedClientConnection::new(config, name).map_err(tls_err)?;
    let mut raw = vec![0u8; RECV_BUF];
    let mut end = 0;
    let mut out = Vec::new();
    loop {
        let UnbufferedStatus { discard, state } = conn.process_tls_records(&mut raw[..end]);
        let mut done = false;
        let mut more = false;
        match state.map_err(tls_err)? {
            ConnectionState::EncodeTlsData(mut s) => encode(&mut s, &mut out)?,
            ConnectionState::TransmitTlsData(s) => {
                let mut w = sock;
                w.write_all(&out)?;
                out.clear();
                s.done();
            }
            ConnectionState::BlockedHandshake => more = true,
            ConnectionState::WriteTraffic(_) => done = true,
            _ => return Err(bad("unexpected TLS message during the handshake")),
        }
        raw.copy_within(discard..end, 0);
        end -= discard;
        if done {
            break;
        }
        if more {
            if end == raw.len() {
                if raw.len() >= MAX_HANDSHAKE_BUF {
                    return Err(bad("TLS handshake message too large"));
                }
                raw.resize(raw.len() * 2, 0);
            }
            match read_some(sock, &mut raw[end..])? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => end += n,
            }
        }
    }
    let tls13 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3);
    let (secrets, kernel) = conn.dangerous_into_kernel_connection().map_err(tls_err)?;
    Ok(Tls {
        kernel,
        tls13,
        rx: Keys::new(secrets.rx, tls13)?,
        tx: Keys::new(secrets.tx, tls13)?,
        raw,
        plain: 0..0,
        pos: 0,
        end,
        hs: Vec::new(),
        out: Vec::new(),
        closed: false,
    })
}

/// Append a handshake record rustls encodes to `out`.
fn encode(s: &mut EncodeTlsData<'_, ClientConnectionData>, out: &mut Vec<u8>) -> io::Result<()> {
    let start = out.len();
    out.resize(start + 4096, 0);
    loop {
        match s.encode(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                out.resize(start + required_size, 0)
            }
            Err(e) => return Err(io::Error::other(e.to_string())),
        }
    }
}

/// One read from the socket (retried when interrupted).
fn read_some(mut sock: &std::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match sock.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

impl Tls {
    /// Plaintext into `out`; `Ok(0)` once the server has sent `close_notify`.
    pub fn read(&mut self, sock: &std::net::TcpStream, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.plain.is_empty() {
                let n = out.len().min(self.plain.len());
                out[..n].copy_from_slice(&self.raw[self.plain.start..self.plain.start + n]);
                self.plain.start += n;
                return Ok(n);
            }
            if self.closed {
                return Ok(0);
            }
            if self.pos == self.end && out.len() >= DIRECT_MIN {
                match self.read_direct(sock, out)? {
                    0 => continue,
                    n => return Ok(n),
                }
            }
            // With a large buffer, complete only the record cut by the last
            // direct read: the next one goes direct again.
            let want = if out.len() >= DIRECT_MIN {
                self.missing()
            } else {
                usize::MAX
            };
            if !self.open_next(sock)? && self.recv(sock, want)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the TLS connection without close_notify",
                ));
            }
        }
    }

    /// Take in, without blocking, what the socket holds (session tickets,
    /// key updates): `true` when that was all, with no data, no close and no
    /// error. `sock` must be non-blocking.
    pub fn idle(&mut self, sock: &std::net::TcpStream) -> bool {
        loop {
            if !self.plain.is_empty() || self.closed {
                return false;
            }
            match self.open_next(sock) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(_) => return false,
            }
            match self.recv(sock, usize::MAX) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.pos == self.end,
                Ok(n) if n > 0 => {}
                _ => return false,
            }
        }
    }

    /// Bytes missing from the first undecrypted record (or its header).
    fn missing(&self) -> usize {
        let avail = self.end - self.pos;
        if avail < HEADER {
            return HEADER - avail;
        }
        let rec = &self.raw[self.pos..];
        (HEADER + usize::from(u16::from_be_bytes([rec[3], rec[4]]))).saturating_sub(avail)
    }

    /// Read at most `want` more bytes after the undecrypted ones (moved to
    /// the front); 0 at the end of the stream (an error if a record was cut).
    fn recv(&mut self, sock: &std::net::TcpStream, want: usize) -> io::Result<usize> {
        self.raw.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        self.plain = 0..0;
        let free = &mut self.raw[self.end..];
        let take = want.min(free.len());
        let n = read_some(sock, &mut free[..take])?;
        if n == 0 && self.end > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the TLS connection in the middle of a record",
            ));
        }
        self.end += n;
        Ok(n)
    }

    /// Open the next record if it is all here: `false` when it is not.
    fn open_next(&mut self, sock: &std::net::TcpStream) -> io::Result<bool> {
        let avail = self.end - self.pos;
        if avail < HEADER {
            return Ok(false);
        }
        let len = self.record_len(&self.raw[self.pos..self.end])?;
        if avail < HEADER + len {
            return Ok(false);
        }
        let start = self.pos;
        self.pos += HEADER + len;
        let rec = &mut self.raw[..self.pos];
        let (typ, content) = open_record(&mut self.rx, self.tls13, rec, start, start)?;
        if typ == APP_DATA {
            self.plain = content;
        } else {
            let content = self.raw[content].to_vec();
            self.housekeeping(sock, typ, &content)?;
        }
        Ok(true)
    }

    /// Read from the socket straight into `out` and decrypt its whole
    /// records there, each one's content moved up against the previous one's
    /// (ring decrypts from one place to the other in the same pass): the
    /// number of plaintext bytes now at the start of `out`. A record cut by
    /// the end of the read goes to `raw`, to be completed there.
    fn read_direct(&mut self, sock: &std::net::TcpStream, out: &mut [u8]) -> io::Result<usize> {
        let n = read_some(sock, out)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the TLS connection without close_notify",
            ));
        }
        let (mut w, mut r) = (0, 0);
        while !self.closed && n - r >= HEADER {
            let len = self.record_len(&out[r..])?;
            if n - r < HEADER + len {
                break;
            }
            let (typ, content) =
                open_record(&mut self.rx, self.tls13, &mut out[..r + HEADER + len], r, w)?;
            r += HEADER + len;
            if typ == APP_DATA {
                w = content.end;
            } else {
                let content = out[content].to_vec();
                self.housekeeping(sock, typ, &content)?;
            }
        }
        if !self.closed {
            self.raw[..n - r].copy_from_slice(&out[r..n]);
            (self.pos, self.end) = (0, n - r);
        }
        Ok(w)
    }

    /// The length of the record whose header starts `rec`, checked.
    fn record_len(&self, rec: &[u8]) -> io::Result<usize> {
        let len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
        let expansion = if self.tls13 {
            MAX_EXPANSION_13
        } else {
            MAX_EXPANSION_12
        };
        if len > MAX_PLAIN + expansion {
            return Err(bad("TLS record too long"));
        }
        Ok(len)
    }

    /// A record that is not application data.
    fn housekeeping(
        &mut self,
        sock: &std::net::TcpStream,
        typ: u8,
        content: &[u8],
    ) -> io::Result<()> {
        match typ {
            HANDSHAKE if self.tls13 => self.post_handshake(sock, content),
            HANDSHAKE => Err(bad("the server asked for a TLS renegotiation")),
            ALERT => self.alert(content),
            _ => Err(bad("unexpected TLS record type")),
        }
    }

    /// An alert: `close_notify` ends the stream, any other ends the
    /// connection with an error.
    fn alert(&mut self, content: &[u8]) -> io::Result<()> {
        match *content {
            [_, CLOSE_NOTIFY] => {
                self.closed = true;
                Ok(())
            }
            [_, d] => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("the server ended the TLS connection (alert {d})"),
            )),
            _ => Err(bad("malformed TLS alert")),
        }
    }

    /// TLS 1.3 handshake messages after the handshake: session tickets go
    /// to rustls (to resume later connections), key updates change the
    /// receiving key and, when the server asks, the sending one.
    fn post_handshake(&mut self, sock: &std::net::TcpStream, content: &[u8]) -> io::Result<()> {
        self.hs.extend_from_slice(content);
        if self.hs.len() > MAX_POST_HANDSHAKE {
            return Err(bad("TLS handshake message too large"));
        }
        while self.hs.len() >= 4 {
            let len = u32::from_be_bytes([0, self.hs[1], self.hs[2], self.hs[3]]) as usize;
            if self.hs.len() < 4 + len {
                break;
            }
            let msg: Vec<u8> = self.hs.drain(..4 + len).collect();
            match (msg[0], &msg[4..]) {
                (NEW_SESSION_TICKET, body) => self
                    .kernel
                    .handle_new_session_ticket(body)
                    .map_err(tls_err)?,
                (KEY_UPDATE, &[request @ (0 | 1)]) if self.hs.is_empty() => {
                    self.rx = Keys::new(self.kernel.update_rx_secret().map_err(tls_err)?, true)?;
                    if request == 1 {
                        self.update_tx(sock)?;
                    }
                }
                _ => return Err(bad("unexpected TLS handshake message")),
            }
        }
        Ok(())
    }

    /// Send a KeyUpdate (not asking the server for one) under the current
    /// key, then switch to the next.
    fn update_tx(&mut self, sock: &std::net::TcpStream) -> io::Result<()> {
        self.seal(HANDSHAKE, &[KEY_UPDATE, 0, 0, 1, 0])?;
        self.flush(sock)?;
        self.tx = Keys::new(self.kernel.update_tx_secret().map_err(tls_err)?, true)?;
        Ok(())
    }

    /// Send all of `data`.
    pub fn write_all(&mut self, sock: &std::net::TcpStream, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(MAX_PLAIN) {
            if self.tx.seq >= self.tx.limit {
                if !self.tls13 {
                    return Err(io::Error::other(
                        "too many TLS records under one key: the connection must be renewed",
                    ));
                }
                self.update_tx(sock)?;
            }
            self.seal(APP_DATA, chunk)?;
            if self.out.len() >= SEND_BATCH {
                self.flush(sock)?;
            }
        }
        self.flush(sock)
    }

    fn flush(&mut self, mut sock: &std::net::TcpStream) -> io::Result<()> {
        let r = sock.write_all(&self.out);
        self.out.clear();
        r
    }

    /// Append one record of type `typ` holding `data` to `out`. TLS 1.3
    /// sends every record as application data with its type inside, after
    /// the content; TLS 1.2 AES-GCM sends the nonce's last 8 bytes first.
    fn seal(&mut self, typ: u8, data: &[u8]) -> io::Result<()> {
        let seq = self.tx.next()?;
        let nonce = self.tx.nonce(seq);
        let (outer, inner, explicit) = match (self.tls13, self.tx.explicit_nonce) {
            (true, _) => (APP_DATA, 1, 0),
            (false, true) => (typ, 0, 8),
            (false, false) => (typ, 0, 0),
        };
        let len = explicit + data.len() + inner + TAG;
        let [hi, lo] = (len as u16).to_be_bytes();
        let hdr = [outer, 3, 3, hi, lo];
        let aad_12 = aad12(seq, typ, data.len());
        let aad: &[u8] = if self.tls13 { &hdr } else { &aad_12 };
        let start = self.out.len();
        self.out.extend_from_slice(&hdr);
        self.out.extend_from_slice(&nonce[12 - explicit..]);
        self.out.extend_from_slice(data);
        if self.tls13 {
            self.out.push(typ);
        }
        let body = &mut self.out[start + HEADER + explicit..];
        let tag = self
            .tx
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
            .map_err(|_| io::Error::other("TLS encryption failed"))?;
        self.out.extend_from_slice(tag.as_ref());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Against rustls' own server, every suite either version offers, in
    //! both directions; then what a broken or hostile peer can do.
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::{CipherSuite, HandshakeKind, ServerConfig, ServerConnection, StreamOwned};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    type Server = StreamOwned<ServerConnection, TcpStream>;

    struct Pki {
        cert: CertificateDer<'static>,
        key: Vec<u8>,
    }

    fn pki() -> Pki {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        Pki {
            cert: ck.cert.der().clone(),
            key: ck.key_pair.serialize_der(),
        }
    }

    fn provider(suite: CipherSuite) -> Arc<rustls::crypto::CryptoProvider> {
        let mut p = rustls::crypto::ring::default_provider();
        p.cipher_suites.retain(|s| s.suite() == suite);
        assert_eq!(p.cipher_suites.len(), 1, "{suite:?}");
        Arc::new(p)
    }

    fn version(suite: CipherSuite) -> &'static rustls::SupportedProtocolVersion {
        if format!("{suite:?}").starts_with("TLS13") {
            &rustls::version::TLS13
        } else {
            &rustls::version::TLS12
        }
    }

    fn client_config(pki: &Pki, suite: CipherSuite) -> Arc<ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.cert.clone()).unwrap();
        let mut c = ClientConfig::builder_with_provider(provider(suite))
            .with_protocol_versions(&[version(suite)])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        c.enable_secret_extraction = true;
        Arc::new(c)
    }

    /// A server on a thread: each connection it accepts (`conns` of them)
    /// runs `script`, which returns how the handshake went.
    fn serve<F>(
        pki: &Pki,
        suite: CipherSuite,
        conns: usize,
        script: F,
    ) -> (String, thread::JoinHandle<Vec<HandshakeKind>>)
    where
        F: Fn(&mut Server) + Send + 'static,
    {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
        let config = ServerConfig::builder_with_provider(provider(suite))
            .with_protocol_versions(&[version(suite)])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.cert.clone()], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let mut kinds = Vec::new();
            for _ in 0..conns {
                let (sock, _) = listener.accept().unwrap();
                let mut s = StreamOwned::new(ServerConnection::new(config.clone()).unwrap(), sock);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock).unwrap();
                }
                kinds.push(s.conn.handshake_kind().unwrap());
                script(&mut s);
            }
            kinds
        });
        (addr, handle)
    }

    fn open(addr: &str, config: Arc<ClientConfig>) -> (TcpStream, Tls) {
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let tls = connect(&sock, config, name).unwrap();
        (sock, tls)
    }

    fn data(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Read `n` bytes with reads of `chunk` bytes at most.
    fn read_n(sock: &TcpStream, tls: &mut Tls, n: usize, chunk: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk];
        while got.len() < n {
            let k = tls.read(sock, &mut buf).unwrap();
            assert!(k > 0, "early end after {} bytes", got.len());
            got.extend_from_slice(&buf[..k]);
        }
        got
    }

    const SUITES: [CipherSuite; 6] = [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    #[test]
    fn every_suite_carries_data_both_ways_and_ends_on_close_notify() {
        let pki = pki();
        for suite in SUITES {
            // Small reads take the buffered path, large ones the direct one.
            for chunk in [1000, 300 << 10] {
                let (addr, server) = serve(&pki, suite, 1, |s| {
                    let mut got = vec![0u8; 200_000];
                    s.read_exact(&mut got).unwrap();
                    assert_eq!(got, data(200_000, 1));
                    s.write_all(&data(700_000, 2)).unwrap();
                    s.conn.send_close_notify();
                    s.flush().unwrap();
                });
                let (sock, mut tls) = open(&addr, client_config(&pki, suite));
                tls.write_all(&sock, &data(200_000, 1)).unwrap();
                let got = read_n(&sock, &mut tls, 700_000, chunk);
                assert_eq!(got, data(700_000, 2), "{suite:?}, reads of {chunk}");
                assert_eq!(tls.read(&sock, &mut [0u8; 100]).unwrap(), 0, "{suite:?}");
                server.join().unwrap();
            }
        }
    }

    #[test]
    fn key_updates_either_side_asks_for() {
        let pki = pki();
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        let (addr, server) = serve(&pki, suite, 1, |s| {
            let mut x = [0u8; 1];
            s.read_exact(&mut x).unwrap();
            s.write_all(&data(100_000, 3)).unwrap();
            // Asks the client to update its sending key as well.
            s.conn.refresh_traffic_keys().unwrap();
            s.write_all(&data(100_000, 4)).unwrap();
            s.flush().unwrap();
            let mut got = vec![0u8; 300_000];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, data(300_000, 5));
            s.write_all(b"ok").unwrap();
            s.flush().unwrap();
        });
        let (sock, mut tls) = open(&addr, client_config(&pki, suite));
        tls.write_all(&sock, b"x").unwrap();
        assert_eq!(read_n(&sock, &mut tls, 100_000, 4096), data(100_000, 3));
        assert_eq!(read_n(&sock, &mut tls, 100_000, 4096), data(100_000, 4));
        // The server asked: our KeyUpdate went under the old key, then a new
        // key (its numbering starts again).
        assert_eq!(tls.tx.seq, 0);
        // Our own updates: the sending key's record limit, reached twice.
        tls.tx.limit = tls.tx.seq + 7;
        tls.write_all(&sock, &data(300_000, 5)).unwrap();
        assert_eq!(read_n(&sock, &mut tls, 2, 100), b"ok");
        server.join().unwrap();
    }

    #[test]
    fn session_tickets_resume_the_next_connection() {
        let pki = pki();
        for suite in [
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ] {
            let (addr, server) = serve(&pki, suite, 2, |s| {
                let mut b = [0u8; 2];
                s.read_exact(&mut b).unwrap();
                s.write_all(b"pong").unwrap();
                s.flush().unwrap();
            });
            let config = client_config(&pki, suite);
            for _ in 0..2 {
                let (sock, mut tls) = open(&addr, config.clone());
                tls.write_all(&sock, b"hi").unwrap();
                assert_eq!(read_n(&sock, &mut tls, 4, 100), b"pong");
            }
            let kinds = server.join().unwrap();
            assert_eq!(
                kinds,
                [HandshakeKind::Full, HandshakeKind::Resumed],
                "{suite:?}"
            );
        }
    }

    #[test]
    fn idle_takes_in_tickets_and_sees_data_and_closes() {
        let pki = pki();
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = std::sync::Mutex::new(rx);
        let (addr, server) = serve(&pki, suite, 1, move |s| {
            s.write_all(b"reply").unwrap();
            s.flush().unwrap();
            rx.lock().unwrap().recv().unwrap();
            s.write_all(b"unasked").unwrap();
            s.flush().unwrap();
        });
        let (sock, mut tls) = open(&addr, client_config(&pki, suite));
        assert_eq!(read_n(&sock, &mut tls, 5, 100), b"reply");
        sock.set_nonblocking(true).unwrap();
        assert!(tls.idle(&sock), "nothing but tickets arrived");
        tx.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while tls.idle(&sock) {
            assert!(Instant::now() < deadline, "the server's bytes never showed");
            thread::yield_now();
        }
        server.join().unwrap();
    }

    /// What a proxy between the client and the server does to the server's
    /// bytes once the handshake is over.
    #[derive(Clone, Copy)]
    enum Harm {
        /// Flip one bit of the next bytes.
        Flip,
        /// Pass the next bytes but their last 7, then close.
        Cut,
        /// Pass the bytes whole, then close without close_notify.
        Close,
        /// Send these bytes instead of the next ones.
        Forge(&'static [u8]),
    }

    /// A proxy to `server` that harms its replies once `armed` is set.
    fn proxy(server: String, harm: Harm, armed: Arc<AtomicBool>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let upstream = TcpStream::connect(server).unwrap();
            let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
            });
            let (mut up, mut down) = (upstream, client);
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match up.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if !armed.load(Ordering::SeqCst) {
                    down.write_all(&buf[..n]).unwrap();
                    continue;
                }
                match harm {
                    Harm::Flip => {
                        buf[n / 2] ^= 0x10;
                        down.write_all(&buf[..n]).unwrap();
                        continue;
                    }
                    Harm::Cut => down.write_all(&buf[..n.saturating_sub(7)]).unwrap(),
                    Harm::Close => down.write_all(&buf[..n]).unwrap(),
                    Harm::Forge(b) => down.write_all(b).unwrap(),
                }
                let _ = down.shutdown(std::net::Shutdown::Both);
                return;
            }
        });
        addr
    }

    /// The error the client gets reading a 50,000-byte reply harmed so.
    fn harmed(harm: Harm, chunk: usize) -> io::Error {
        let pki = pki();
        let suite = CipherSuite::TLS13_AES_128_GCM_SHA256;
        let (addr, _server) = serve(&pki, suite, 1, |s| {
            let mut b = [0u8; 2];
            if s.read_exact(&mut b).is_ok() {
                let _ = s.write_all(&data(50_000, 6));
                let _ = s.flush();
                let _ = s.read(&mut b);
            }
        });
        let armed = Arc::new(AtomicBool::new(false));
        let addr = proxy(addr, harm, armed.clone());
        let (sock, mut tls) = open(&addr, client_config(&pki, suite));
        armed.store(true, Ordering::SeqCst);
        tls.write_all(&sock, b"go").unwrap();
        let mut buf = vec![0u8; chunk];
        let mut got = 0;
        loop {
            match tls.read(&sock, &mut buf) {
                Ok(0) => panic!("a harmed reply ended cleanly after {got} bytes"),
                Ok(n) => got += n,
                Err(e) => return e,
            }
        }
    }

    #[test]
    fn a_changed_byte_fails_authentication() {
        for chunk in [1000, 300 << 10] {
            let e = harmed(Harm::Flip, chunk);
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
            assert!(e.to_string().contains("failed authentication"), "{e}");
        }
    }

    #[test]
    fn a_cut_record_or_a_close_without_close_notify_is_an_error() {
        for chunk in [1000, 300 << 10] {
            for harm in [Harm::Cut, Harm::Close] {
                let e = harmed(harm, chunk);
                assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
            }
        }
    }

    #[test]
    fn forged_records_are_refused() {
        let cases: [(&'static [u8], &str); 3] = [
            (&[23, 3, 3, 0xff, 0xff], "too long"),
            (
                &[
                    23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                    19, 20,
                ],
                "failed authentication",
            ),
            (&[21, 3, 3, 0, 2, 2, 40], "unexpected TLS record type"),
        ];
        for (bytes, want) in cases {
            for chunk in [1000, 300 << 10] {
                let e = harmed(Harm::Forge(bytes), chunk);
                assert!(e.to_string().contains(want), "{e}: want {want}");
            }
        }
    }
}
