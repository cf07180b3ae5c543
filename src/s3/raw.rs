//! A minimal HTTP/1.1 client for S3 requests without a proxy, over the
//! connections of [`super::conn`] (plain or TLS, kept alive in a pool). On
//! plain connections file bodies go straight from the page cache to the socket
//! (sendfile) and download bodies from the socket into the file (splice,
//! [`RawResponse::splice_into`]); over TLS, bodies move through one large
//! buffer per request. ureq 2 reads and writes through 8 KiB buffers (and its
//! rustls stream reads 4 KiB per system call), which halves the throughput of
//! large transfers; this path avoids that. Proxies go through the ureq agent
//! ([`super::transport`]).
//!
//! The server is not trusted: the status line and headers are capped at 64 KiB
//! and must arrive within the idle time-out, chunk lines are bounded, and a
//! body never yields more bytes than its `Content-Length`.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use super::conn::{Conn, Pool};
use super::transport::Tap;
use crate::api::http::idle_timeout;

const MAX_HEAD: usize = 64 * 1024;

/// A response whose body is read from the connection on demand; the
/// connection goes back to the pool once the body was read to its end.
pub struct RawResponse {
    pub status: u16,
    headers: Vec<(String, String)>,
    body: BodyReader,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_of(&self.headers, name)
    }
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        Box::new(self.body)
    }

    /// Move up to `len` bytes of the body into `file` at `pos` without copying
    /// them through user space (socket → pipe → file, splice), when the body
    /// is a plain one of known length; `None` otherwise (read it instead).
    /// `each` gets the byte count after every piece and may stop with an
    /// error; errors writing the file come back wrapped by `local`, so callers
    /// can tell them from network errors. Returns how many bytes were written
    /// (at an error too).
    #[cfg(target_os = "linux")]
    pub fn splice_into(
        &mut self,
        file: &std::fs::File,
        pos: u64,
        len: u64,
        each: &mut dyn FnMut(u64) -> io::Result<()>,
        local: &dyn Fn(io::Error) -> io::Error,
    ) -> Option<(u64, io::Result<()>)> {
        let Framing::Length(left) = self.body.framing else {
            return None;
        };
        let conn = self.body.conn.as_mut().filter(|c| !c.is_tls())?;
        let want = len.min(left);
        let r = splice_to_file(conn, file, pos, want, each, local);
        self.body.framing = Framing::Length(left - r.0);
        if left - r.0 == 0 {
            self.body.release();
        }
        Some(r)
    }
}

fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Bytes per splice call and the pipe's size.
#[cfg(target_os = "linux")]
const SPLICE_PIECE: usize = 1024 * 1024;

/// Move `len` bytes of a plain body into `file` at `pos` (the bytes already
/// received first, then socket → pipe → file).
#[cfg(target_os = "linux")]
fn splice_to_file(
    conn: &mut Conn,
    file: &std::fs::File,
    pos: u64,
    len: u64,
    each: &mut dyn FnMut(u64) -> io::Result<()>,
    local: &dyn Fn(io::Error) -> io::Error,
) -> (u64, io::Result<()>) {
    use std::os::unix::fs::FileExt;
    let mut done = 0u64;
    // Bytes received along with the headers go in with a plain write.
    while done < len {
        let mut head = [0u8; 16 * 1024];
        let want = (len - done).min(head.len() as u64) as usize;
        let n = conn.buffered(&mut head[..want]);
        if n == 0 {
            break;
        }
        if let Err(e) = file.write_all_at(&head[..n], pos + done) {
            return (done, Err(local(e)));
        }
        done += n as u64;
        if let Err(e) = each(n as u64) {
            return (done, Err(e));
        }
    }
    if done == len {
        return (done, Ok(()));
    }
    let pipe = match Pipe::new() {
        Ok(p) => p,
        Err(e) => return (done, Err(e)),
    };
    while done < len {
        let want = (len - done).min(SPLICE_PIECE as u64) as usize;
        let n = match pipe.fill(conn.socket(), want) {
            Ok(n) => n,
            Err(e) => return (done, Err(e)),
        };
        if let Err(e) = pipe.drain_to(file, pos + done, n) {
            return (done, Err(local(e)));
        }
        done += n as u64;
        if let Err(e) = each(n as u64) {
            return (done, Err(e));
        }
    }
    (done, Ok(()))
}
/// A kernel pipe between the socket and the file.
#[cfg(target_os = "linux")]
struct Pipe {
    rd: std::os::fd::OwnedFd,
    wr: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl Pipe {
    fn new() -> io::Result<Pipe> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 returns.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: both descriptors are open and ours alone.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A larger pipe: fewer system calls (best effort, 1 MiB is the usual limit).
        // SAFETY: plain fcntl on a descriptor we own.
        unsafe {
            libc::fcntl(
                wr.as_raw_fd(),
                libc::F_SETPIPE_SZ,
                SPLICE_PIECE as libc::c_int,
            )
        };
        Ok(Pipe { rd, wr })
    }

    /// Move up to `want` bytes from the socket into the pipe.
    fn fill(&self, sock: &std::net::TcpStream, want: usize) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        loop {
            // SAFETY: valid descriptors; null offsets (socket and pipe have none).
            let n = unsafe {
                libc::splice(
                    sock.as_raw_fd(),
                    std::ptr::null_mut(),
                    self.wr.as_raw_fd(),
                    std::ptr::null_mut(),
                    want,
                    libc::SPLICE_F_MOVE,
                )
            };
            if n > 0 {
                return Ok(n as usize);
            }
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the end of the body",
                ));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                // SO_RCVTIMEO expired.
                io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "receiving timed out",
                    ))
                }
                _ => return Err(e),
            }
        }
    }

    /// Move `n` bytes from the pipe into `file` at `pos`.
    fn drain_to(&self, file: &std::fs::File, pos: u64, n: usize) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut left = n;
        let mut off = pos as libc::loff_t;
        while left > 0 {
            // SAFETY: valid descriptors; `off` is a valid pointer the kernel advances.
            let k = unsafe {
                libc::splice(
                    self.rd.as_raw_fd(),
                    std::ptr::null_mut(),
                    file.as_raw_fd(),
                    &mut off,
                    left,
                    libc::SPLICE_F_MOVE,
                )
            };
            if k < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if k == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the file took no bytes",
                ));
            }
            left -= k as usize;
        }
        Ok(())
    }
}

/// The request body.
pub enum RawBody<'a> {
    None,
    Bytes(&'a [u8]),
    /// Exactly `len` bytes of `file` from `offset`, sent by the kernel
    /// (sendfile: no copy through user space). `each` is called with the
    /// byte count after every piece and may stop the request with an error.
    File {
        file: &'a std::fs::File,
        offset: u64,
        len: u64,
        each: &'a mut dyn FnMut(u64) -> io::Result<()>,
        /// Hashes the bytes (they then pass through user space, not sendfile).
        tap: Option<&'a Tap>,
    },
}

/// Bytes per sendfile call or per read of a body sent over TLS: progress and
/// cancellation are checked between them.
const FILE_PIECE: usize = 256 * 1024;

/// Send `len` bytes of `file` from `offset`: by the kernel on a plain Linux
/// connection, else read into a buffer and written (encrypted over TLS).
fn send_file(
    conn: &mut Conn,
    file: &std::fs::File,
    offset: u64,
    len: u64,
    each: &mut dyn FnMut(u64) -> io::Result<()>,
    tap: Option<&Tap>,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if !conn.is_tls() && tap.is_none() {
        return sendfile(conn.socket(), file, offset, len, each);
    }
    let mut buf = vec![0u8; FILE_PIECE.min(len as usize)];
    let mut pos = offset;
    while pos < offset + len {
        let want = (offset + len - pos).min(buf.len() as u64) as usize;
        let n = cells_hash::region::read_at_full(file, &mut buf[..want], pos)
            .map_err(|e| io::Error::other(super::transport::ReadFailed(e)))?;
        if n < want {
            return Err(io::Error::other(super::ShrankError));
        }
        if let Some(t) = tap {
            t.lock().expect("tap lock").update(&buf[..n]);
        }
        conn.write_all(&buf[..n])?;
        pos += n as u64;
        each(n as u64)?;
    }
    Ok(())
}

/// Send `len` bytes of `file` from `offset` to `stream` (sendfile: no copy
/// through user space).
#[cfg(target_os = "linux")]
fn sendfile(
    stream: &std::net::TcpStream,
    file: &std::fs::File,
    offset: u64,
    len: u64,
    each: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // 32-bit glibc's plain `off_t`/`sendfile` cannot reach past 2 GiB.
    #[cfg(target_env = "gnu")]
    use libc::{off64_t as off_t, sendfile64 as sendfile};
    #[cfg(not(target_env = "gnu"))]
    use libc::{off_t, sendfile};
    let end = offset + len;
    let mut off = offset as off_t;
    while (off as u64) < end {
        let want = (end - off as u64).min(FILE_PIECE as u64 * 4) as usize;
        // SAFETY: both descriptors are open for the duration of the call and
        // `off` is a valid pointer; the kernel advances it by the bytes sent.
        let n = unsafe { sendfile(stream.as_raw_fd(), file.as_raw_fd(), &mut off, want) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                // SO_SNDTIMEO expired.
                io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "sending timed out"))
                }
                _ => return Err(e),
            }
        }
        if n == 0 {
            return Err(io::Error::other(super::ShrankError));
        }
        each(n as u64)?;
    }
    Ok(())
}

/// Why an exchange failed, and whether any of the response had arrived (a
/// request that failed before it, on a connection taken from the pool, may
/// have met a connection the server had closed: it is sent again on a new one).
pub struct Failed {
    pub error: io::Error,
    pub answered: bool,
}

impl From<io::Error> for Failed {
    fn from(error: io::Error) -> Failed {
        Failed {
            error,
            answered: false,
        }
    }
}

/// Send one request on `conn` and read the response head. Any status is a
/// response; the connection goes back to `pool` when its body has been read.
pub fn exchange(
    mut conn: Conn,
    pool: &Arc<Pool>,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: RawBody<'_>,
) -> Result<RawResponse, Failed> {
    let mut early = false;
    if let Err(e) = write_request(&mut conn, method, path_and_query, headers, body) {
        // A server may answer (an error) before it took the whole body, and
        // close: that answer is worth more than the broken pipe.
        let gone = matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
        );
        if !gone {
            return Err(e.into());
        }
        early = true;
    }
    let head = read_head(&mut conn)?;
    let Some(Head {
        status,
        keep_alive,
        headers,
    }) = parse_head(&head)
    else {
        let start: Vec<u8> = head.bytes().take(8).collect();
        return Err(Failed {
            error: io::Error::new(io::ErrorKind::InvalidData, format!("{start:?}")),
            answered: true,
        });
    };
    let framing = framing(method, status, &headers).map_err(|error| Failed {
        error,
        answered: true,
    })?;
    let mut body = BodyReader {
        conn: Some(conn),
        framing,
        pool: (keep_alive && !early).then(|| pool.clone()),
        chunk_left: 0,
    };
    if matches!(body.framing, Framing::Done) {
        body.release();
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// The head and the body of a request, in as few writes as possible.
fn write_request(
    conn: &mut Conn,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: RawBody<'_>,
) -> io::Result<()> {
    let mut head = format!("{method} {path_and_query} HTTP/1.1\r\n");
    for (k, v) in headers {
        if v.contains(['\r', '\n']) || k.contains(['\r', '\n', ':']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid header value",
            ));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    match body {
        RawBody::None => conn.write_all(head.as_bytes()),
        RawBody::Bytes(b) => {
            let mut all = head.into_bytes();
            all.extend_from_slice(b);
            conn.write_all(&all)
        }
        RawBody::File {
            file,
            offset,
            len,
            each,
            tap,
        } => {
            conn.write_all(head.as_bytes())?;
            send_file(conn, file, offset, len, each, tap)
        }
    }
}

/// The status line and headers (at most [`MAX_HEAD`] bytes, within the idle
/// time-out as a whole: a server that drips them is given up on). Reads byte
/// by byte from the connection's buffer, so the body stays in it.
fn read_head(conn: &mut Conn) -> Result<String, Failed> {
    let deadline = Instant::now() + idle_timeout();
    let mut buf = Vec::with_capacity(1024);
    let mut b = [0u8; 1];
    loop {
        if buf.ends_with(b"\r\n\r\n") {
            buf.truncate(buf.len() - 4);
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
        let answered = !buf.is_empty();
        let fail = |error| Failed { error, answered };
        if buf.len() > MAX_HEAD {
            return Err(fail(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server's response headers are larger than 64 KiB",
            )));
        }
        if Instant::now() > deadline {
            return Err(fail(io::Error::from(io::ErrorKind::TimedOut)));
        }
        match conn.read(&mut b) {
            Ok(0) => {
                return Err(fail(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the response",
                )))
            }
            Ok(_) => buf.push(b[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e)),
        }
    }
}

/// A parsed response head.
struct Head {
    status: u16,
    /// The connection may serve another request.
    keep_alive: bool,
    headers: Vec<(String, String)>,
}

/// Status, keep-alive and headers of an HTTP/1.x head, `None` when it is not one.
fn parse_head(head: &str) -> Option<Head> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut words = status_line.split_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = words.next()?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let close = header_of(&headers, "Connection")
        .is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
    let keep_alive = version == "HTTP/1.1" && !close;
    Some(Head {
        status,
        keep_alive,
        headers,
    })
}

/// How the body of a response ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Framing {
    /// Read to its end.
    Done,
    /// This many bytes left.
    Length(u64),
    /// Chunks, until the last one.
    Chunked,
    /// Until the server closes the connection.
    Close,
}

fn framing(method: &str, status: u16, headers: &[(String, String)]) -> io::Result<Framing> {
    if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Framing::Done);
    }
    let chunked = header_of(headers, "Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return Ok(Framing::Chunked);
    }
    match header_of(headers, "Content-Length") {
        Some(l) => match l.trim().parse::<u64>() {
            Ok(0) => Ok(Framing::Done),
            Ok(n) => Ok(Framing::Length(n)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "invalid Content-Length",
            )),
        },
        None => Ok(Framing::Close),
    }
}

/// A response body: no more bytes than its framing says; an early end is an
/// error (a cut connection). At its end the connection goes back to the pool
/// (unless the server said it would close it).
struct BodyReader {
    conn: Option<Conn>,
    framing: Framing,
    /// Where the connection goes at the end; `None`: not reusable.
    pool: Option<Arc<Pool>>,
    /// Bytes left in the current chunk (chunked bodies).
    chunk_left: u64,
}

impl BodyReader {
    /// The body is done: give the connection back when it can serve another request.
    fn release(&mut self) {
        self.framing = Framing::Done;
        if let (Some(conn), Some(pool)) = (self.conn.take(), self.pool.take()) {
            pool.put(conn);
        }
    }

    fn conn(&mut self) -> io::Result<&mut Conn> {
        self.conn
            .as_mut()
            .ok_or_else(|| io::Error::other("the connection is gone"))
    }

    /// Read at most `*left` bytes; the stream ending first is an error.
    fn read_left(&mut self, buf: &mut [u8], left: u64, eof: &str) -> io::Result<usize> {
        let want = left.min(buf.len() as u64) as usize;
        let n = self.conn()?.read(&mut buf[..want])?;
        if n == 0 {
            self.conn = None;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                eof.to_string(),
            ));
        }
        Ok(n)
    }

    /// One line of the chunked framing (bounded).
    fn line(&mut self) -> io::Result<String> {
        let mut s = Vec::new();
        let mut b = [0u8; 1];
        loop {
            if self.conn()?.read(&mut b)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a chunked body",
                ));
            }
            if b[0] == b'\n' {
                break;
            }
            if s.len() > 1024 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad chunk"));
            }
            s.push(b[0]);
        }
        Ok(String::from_utf8_lossy(&s).trim().to_string())
    }

    fn read_chunked(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.chunk_left == 0 {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            self.chunk_left = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if self.chunk_left == 0 {
                // Trailers until an empty line (each bounded; at most 100 of them).
                for _ in 0..100 {
                    if self.line()?.is_empty() {
                        self.release();
                        return Ok(0);
                    }
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad trailers"));
            }
        }
        let n = self.read_left(buf, self.chunk_left, "connection closed inside a chunk")?;
        self.chunk_left -= n as u64;
        if self.chunk_left == 0 {
            let _ = self.line()?; // CRLF after the chunk data
        }
        Ok(n)
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.framing {
            Framing::Done => Ok(0),
            Framing::Length(left) => {
                let n =
                    self.read_left(buf, left, "connection closed before the end of the body")?;
                self.framing = Framing::Length(left - n as u64);
                if left == n as u64 {
                    self.release();
                }
                Ok(n)
            }
            Framing::Chunked => self.read_chunked(buf),
            Framing::Close => self.conn()?.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    /// A connection to a server that sends `reply` once it has read a
    /// request head (or at once when `wait_request` is false), then keeps the
    /// connection open until the client closes it (or closes at once: `close`).
    fn served(reply: Vec<u8>, wait_request: bool, close: bool) -> Conn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            if wait_request {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
                    head.push(b[0]);
                }
            }
            s.write_all(&reply).unwrap();
            if !close {
                let _ = s.read_to_end(&mut Vec::new());
            }
        });
        Conn::plain(TcpStream::connect(addr).unwrap())
    }

    fn body(conn: Conn, framing: Framing, pool: &Arc<Pool>) -> BodyReader {
        BodyReader {
            conn: Some(conn),
            framing,
            pool: Some(pool.clone()),
            chunk_left: 0,
        }
    }

    #[test]
    fn chunked_decoding_and_keep_alive() {
        let data = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: v\r\n\r\n".to_vec();
        let pool = Arc::new(Pool::default());
        let mut c = body(served(data, false, false), Framing::Chunked, &pool);
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        assert_eq!(pool.idle(), 1, "the connection is back in the pool");
    }

    #[test]
    fn exact_length_detects_cuts() {
        let pool = Arc::new(Pool::default());
        let mut e = body(
            served(b"abc".to_vec(), false, true),
            Framing::Length(5),
            &pool,
        );
        let mut out = Vec::new();
        assert!(e.read_to_end(&mut out).is_err());
        assert_eq!(out, b"abc");
        drop(e);
        assert_eq!(pool.idle(), 0, "a cut connection is not reused");
    }

    #[test]
    fn heads() {
        let h = parse_head("HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-1/2").unwrap();
        assert_eq!((h.status, h.keep_alive), (206, true));
        assert_eq!(h.headers[0], ("Content-Range".into(), "bytes 0-1/2".into()));
        let close = parse_head("HTTP/1.1 200 OK\r\nConnection: Close").unwrap();
        assert!(!close.keep_alive);
        assert!(!parse_head("HTTP/1.0 200 OK").unwrap().keep_alive);
        assert!(parse_head("\u{15}\u{3}\u{3}\0\u{2}\u{2}2").is_none());
        assert!(parse_head("HTTP/1.1 abc").is_none());
    }

    // Sizes and offsets past 4 GiB: a 32-bit `usize` or `off_t` (armv7, run
    // under emulation by `make test`) must not truncate them.
    const PAST_4_GIB: u64 = (1 << 32) + 4096 + 7;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n as u32).map(|i| (i * 31 + i / 997) as u8).collect()
    }

    #[test]
    fn lengths_of_4_gib_and_more() {
        let pool = Arc::new(Pool::default());
        let mut e = body(
            served(b"abc".to_vec(), false, false),
            Framing::Length(1 << 32),
            &pool,
        );
        let mut buf = [0u8; 8];
        assert_eq!(e.read(&mut buf).unwrap(), 3);
        assert_eq!(e.framing, Framing::Length((1 << 32) - 3));
        let chunk = b"100000000\r\nabc".to_vec();
        let mut c = body(served(chunk, false, false), Framing::Chunked, &pool);
        assert_eq!(c.read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(c.chunk_left, (1 << 32) - 3);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn send_file_past_4_gib() {
        use std::os::unix::fs::FileExt;
        let data = pattern(3_000_000);
        let file = tempfile::tempfile().unwrap();
        file.write_all_at(&data, PAST_4_GIB).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        let mut conn = Conn::plain(TcpStream::connect(addr).unwrap());
        let mut sent = 0;
        let len = data.len() as u64 - 100;
        let each = &mut |n| {
            sent += n;
            Ok(())
        };
        send_file(&mut conn, &file, PAST_4_GIB + 100, len, each, None).unwrap();
        drop(conn);
        assert_eq!(sent, len);
        assert!(reader.join().unwrap() == data[100..], "wrong bytes sent");
    }

    /// A whole exchange: request, head, the body spliced in (the bytes that
    /// came with the head first), the connection back in the pool.
    #[cfg(target_os = "linux")]
    #[test]
    fn splice_into_file_past_4_gib() {
        use std::os::unix::fs::FileExt;
        let data = pattern(3_000_000);
        let mut reply =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", data.len()).into_bytes();
        reply.extend_from_slice(&data);
        let pool = Arc::new(Pool::default());
        let conn = served(reply, true, false);
        let mut resp = exchange(conn, &pool, "GET", "/x", &[("Host", "h")], RawBody::None)
            .map_err(|f| f.error)
            .unwrap();
        assert_eq!(resp.status, 200);
        let file = tempfile::tempfile().unwrap();
        let len = data.len() as u64;
        let (done, res) = resp
            .splice_into(&file, PAST_4_GIB, len, &mut |_| Ok(()), &|e| e)
            .expect("a plain body of known length");
        res.unwrap();
        assert_eq!(done, len);
        assert_eq!(file.metadata().unwrap().len(), PAST_4_GIB + len);
        let mut back = vec![0u8; data.len()];
        file.read_exact_at(&mut back, PAST_4_GIB).unwrap();
        assert!(back == data, "wrong bytes written");
        assert_eq!(pool.idle(), 1, "the connection is back in the pool");
    }
}
