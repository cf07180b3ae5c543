//! Connections of the direct S3 path ([`super::raw`]): plain TCP or TLS
//! (rustls, the same client configuration and session cache as the REST
//! agent), kept open between requests in a small pool (keep-alive), so that a
//! tree of small files costs one TCP and TLS handshake per thread, not per
//! file, and new connections resume the TLS session of earlier ones.
//!
//! Over TLS, rustls makes the handshake and [`super::tls`] the records.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::tls::{self, Tls};

use crate::api::http::{connect_timeout, idle_timeout};
use crate::api::neterr;
use crate::error::Result;

/// Buffer of plain connections (large reads bypass it).
const PLAIN_BUF: usize = 16 * 1024;
/// Idle connections kept per server.
const MAX_IDLE: usize = 16;
/// An idle connection older than this is closed rather than reused (servers
/// close idle connections after a while; a reused one that was closed costs
/// a failed attempt).
const MAX_IDLE_TIME: Duration = Duration::from_secs(20);

/// Where the connections of one server go.
pub struct Target {
    /// `scheme://host[:port]`, for messages.
    pub base: String,
    /// `host:port` to connect to.
    pub addr: String,
    /// TLS settings and the name the certificate must carry (https).
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
}

impl Target {
    /// `host` as a TLS server name (brackets of an IPv6 literal dropped).
    pub fn server_name(host: &str) -> std::result::Result<ServerName<'static>, String> {
        let h = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(h.to_string()).map_err(|e| format!("invalid host name {h}: {e}"))
    }
}

/// One open connection.
pub struct Conn {
    sock: TcpStream,
    tls: Option<Box<Tls>>,
    /// Plain connections: bytes received and not read yet (`buf[pos..end]`).
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Taken from the pool (it may have been closed by the server meanwhile).
    pub reused: bool,
}

impl Conn {
    /// Open a connection (every address the name resolves to, in turn) and
    /// complete the TLS handshake.
    pub fn open(t: &Target) -> Result<Conn> {
        let mut conn = Conn::plain(connect(&t.base, &t.addr)?);
        if let Some((config, name)) = &t.tls {
            let tls = tls::connect(&conn.sock, config.clone(), name.clone())
                .map_err(|e| neterr::of_handshake(&t.base, &timed_out(e)))?;
            conn.tls = Some(Box::new(tls));
        }
        Ok(conn)
    }

    /// A plain connection over an open socket.
    pub fn plain(sock: TcpStream) -> Conn {
        Conn {
            sock,
            tls: None,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            reused: false,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The socket, for sendfile and splice (plain connections only).
    pub fn socket(&self) -> &TcpStream {
        &self.sock
    }

    /// Copy plain bytes received and not read yet into `out` (they come
    /// before the socket's); 0 when there are none (always over TLS).
    pub fn buffered(&mut self, out: &mut [u8]) -> usize {
        if self.tls.is_some() {
            return 0;
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Send all of `data` (encrypted first on TLS).
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.tls {
            Some(tls) => tls.write_all(&self.sock, data),
            None => (&self.sock).write_all(data),
        }
        .map_err(timed_out)
    }

    /// No response bytes waiting, and the server has not closed it: safe to
    /// send a new request on. TLS housekeeping that arrived meanwhile (session
    /// tickets) is taken in.
    fn idle_and_open(&mut self) -> bool {
        if self.sock.set_nonblocking(true).is_err() {
            return false;
        }
        let ok = if let Some(tls) = &mut self.tls {
            tls.idle(&self.sock)
        } else {
            let mut b = [0u8; 1];
            // Nothing to read (WouldBlock) is the only good answer: data or an
            // end of stream means the server is done with this connection.
            self.pos == self.end
                && matches!(self.sock.peek(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
        };
        self.sock.set_nonblocking(false).is_ok() && ok
    }

    /// Read more bytes from the socket into `buf` (it was fully consumed).
    fn fill(&mut self) -> io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = vec![0u8; PLAIN_BUF];
        }
        loop {
            match (&self.sock).read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(timed_out(e)),
            }
        }
    }
}

impl Read for Conn {
    /// Plaintext bytes; `Ok(0)` at the end of the stream.
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if let Some(tls) = &mut self.tls {
            return tls.read(&self.sock, out).map_err(timed_out);
        }
        if self.pos == self.end {
            // Large reads go straight into the caller's buffer.
            if out.len() >= PLAIN_BUF {
                return loop {
                    match (&self.sock).read(out) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => break r.map_err(timed_out),
                    }
                };
            }
            if self.fill()? == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A receive or send time-out (`SO_RCVTIMEO`/`SO_SNDTIMEO` report `WouldBlock`).
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "no data within the time-out")
    } else {
        e
    }
}

/// Open the TCP connection (every address the name resolves to, in turn).
fn connect(base: &str, addr: &str) -> Result<TcpStream> {
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|_| neterr::dns(base))?
        .collect();
    let mut last = io::Error::from(io::ErrorKind::ConnectionRefused);
    for a in addrs {
        match TcpStream::connect_timeout(&a, connect_timeout()) {
            Ok(s) => {
                let setup = s
                    .set_read_timeout(Some(idle_timeout()))
                    .and_then(|()| s.set_write_timeout(Some(idle_timeout())));
                setup.map_err(|e| neterr::of_io(base, &e))?;
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(neterr::of_connect(base, &last))
}

/// The idle connections of one server, newest last.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<(Conn, Instant)>>,
}

impl Pool {
    /// An idle connection that still looks open, else a new one.
    pub fn get(&self, t: &Target) -> Result<Conn> {
        loop {
            let next = self.idle.lock().expect("pool lock").pop();
            let Some((mut c, since)) = next else { break };
            if since.elapsed() < MAX_IDLE_TIME && c.idle_and_open() {
                c.reused = true;
                return Ok(c);
            }
        }
        Conn::open(t)
    }

    /// Keep `c` for the next request (its response was read to the end).
    pub fn put(&self, c: Conn) {
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push((c, Instant::now()));
    }
}

#[cfg(test)]
impl Pool {
    /// Idle connections now.
    pub fn idle(&self) -> usize {
        self.idle.lock().expect("pool lock").len()
    }
}
