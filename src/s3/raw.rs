//! A minimal HTTP/1.1 client for plain-`http://` S3 requests without a proxy:
//! one connection per request (`Connection: close`), file bodies go straight
//! from the page cache to the socket (sendfile) and download bodies from the
//! socket into the file (splice, [`splice_to_file`]). ureq 2 reads and writes
//! through 8 KiB buffers, a system call per 8 KiB, which halves the
//! throughput of large transfers; this path avoids that. Everything else (TLS,
//! proxies) goes through the ureq agent ([`super::transport`]).
//!
//! The server is not trusted: the status line and headers are capped at 64 KiB
//! and must arrive within the idle time-out, chunk lines are bounded, and a
//! body never yields more bytes than its `Content-Length`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use crate::api::http::{connect_timeout, idle_timeout};
use crate::api::neterr;
use crate::error::Result;

const MAX_HEAD: usize = 64 * 1024;

/// A response whose body is read from the connection on demand.
pub struct RawResponse {
    pub status: u16,
    headers: Vec<(String, String)>,
    body: Box<dyn Read + Send>,
    plain: Option<Plain>,
}

/// A body of known length, not chunked: the bytes read along with the
/// headers, then the rest straight from the socket (for [`splice_to_file`]).
pub struct Plain {
    pub leftover: Vec<u8>,
    pub stream: TcpStream,
    pub len: u64,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        self.body
    }
    /// The body as [`Plain`], when it is one (the reader is then unused).
    pub fn take_plain(&mut self) -> Option<Plain> {
        self.plain.take()
    }
}

/// Bytes per splice call and the pipe's size.
#[cfg(target_os = "linux")]
const SPLICE_PIECE: usize = 1024 * 1024;

/// Move `len` bytes of a plain body into `file` at `pos` without copying
/// them through user space (socket → pipe → file, splice). `each` gets the
/// byte count after every piece and may stop with an error. Errors writing
/// the file are returned wrapped by `local`, so callers can tell them from
/// network errors. Returns how many bytes were written at the error too.
#[cfg(target_os = "linux")]
pub fn splice_to_file(
    plain: &Plain,
    file: &std::fs::File,
    pos: u64,
    len: u64,
    each: &mut dyn FnMut(u64) -> io::Result<()>,
    local: &dyn Fn(io::Error) -> io::Error,
) -> (u64, io::Result<()>) {
    use std::os::unix::fs::FileExt;
    let head = (plain.leftover.len() as u64).min(len) as usize;
    if head > 0 {
        if let Err(e) = file.write_all_at(&plain.leftover[..head], pos) {
            return (0, Err(local(e)));
        }
        if let Err(e) = each(head as u64) {
            return (head as u64, Err(e));
        }
    }
    let mut done = head as u64;
    let pipe = match Pipe::new() {
        Ok(p) => p,
        Err(e) => return (done, Err(e)),
    };
    while done < len {
        let want = (len - done).min(SPLICE_PIECE as u64) as usize;
        let n = match pipe.fill(&plain.stream, want) {
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
    fn fill(&self, sock: &TcpStream, want: usize) -> io::Result<usize> {
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
    },
}

/// Bytes per sendfile call: progress and cancellation are checked between calls.
const SENDFILE_PIECE: usize = 1024 * 1024;

/// Send `len` bytes of `file` from `offset` to `stream`.
#[cfg(target_os = "linux")]
fn send_file(
    stream: &TcpStream,
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
        let want = (end - off as u64).min(SENDFILE_PIECE as u64) as usize;
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

/// Portable fallback: positional reads through a small buffer.
#[cfg(not(target_os = "linux"))]
fn send_file(
    mut stream: &TcpStream,
    file: &std::fs::File,
    offset: u64,
    len: u64,
    each: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = offset;
    while pos < offset + len {
        let want = (offset + len - pos).min(buf.len() as u64) as usize;
        let n = file.read_at(&mut buf[..want], pos)?;
        if n == 0 {
            return Err(io::Error::other(super::ShrankError));
        }
        stream.write_all(&buf[..n])?;
        pos += n as u64;
        each(n as u64)?;
    }
    Ok(())
}

/// Send one request to `addr` (`host:port`) of the server `base` (for
/// messages). Any status is returned as a response; failures are network
/// errors of their kind, or the error `each` stopped the body with.
pub fn send(
    base: &str,
    addr: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: RawBody<'_>,
) -> Result<RawResponse> {
    let stream = connect(base, addr)?;
    let io_err =
        |e: io::Error| super::transport::body_error(e).unwrap_or_else(|e| neterr::of_io(base, &e));
    write_request(&stream, method, path_and_query, headers, body).map_err(io_err)?;
    let (head, leftover) = read_head(&stream).map_err(io_err)?;
    let (status, headers) = parse_head(&head).ok_or_else(|| {
        let start: Vec<u8> = head.bytes().take(8).collect();
        neterr::bad_http(base, &format!("{start:?}"))
    })?;
    response(method, status, headers, leftover, stream).map_err(io_err)
}

/// Open the connection (every address the name resolves to, in turn).
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

fn write_request(
    mut stream: &TcpStream,
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
    head.push_str("Connection: close\r\n\r\n");
    match body {
        RawBody::None => stream.write_all(head.as_bytes())?,
        RawBody::Bytes(b) => {
            let mut all = head.into_bytes();
            all.extend_from_slice(b);
            stream.write_all(&all)?;
        }
        RawBody::File {
            file,
            offset,
            len,
            each,
        } => {
            stream.write_all(head.as_bytes())?;
            send_file(stream, file, offset, len, each)?;
        }
    }
    stream.flush()
}

/// The status line and headers (at most [`MAX_HEAD`] bytes, within the idle
/// time-out as a whole: a server that drips them is given up on), and the body
/// bytes read along with them.
fn read_head(mut stream: &TcpStream) -> io::Result<(String, Vec<u8>)> {
    let deadline = Instant::now() + idle_timeout();
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).into_owned();
            return Ok((head, buf[i + 4..].to_vec()));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server's response headers are larger than 64 KiB",
            ));
        }
        if Instant::now() > deadline {
            return Err(io::Error::from(io::ErrorKind::TimedOut));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Status and headers of an HTTP/1.x head, `None` when it is not one.
fn parse_head(head: &str) -> Option<(u16, Vec<(String, String)>)> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut words = status_line.split_whitespace();
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = words.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some((status, headers))
}

fn response(
    method: &str,
    status: u16,
    headers: Vec<(String, String)>,
    leftover: Vec<u8>,
    stream: TcpStream,
) -> io::Result<RawResponse> {
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let chunked =
        get("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let length = get("Content-Length").and_then(|l| l.trim().parse::<u64>().ok());
    let no_body = method == "HEAD" || status == 204 || status == 304;
    let plain = match length {
        Some(len) if !chunked && !no_body => Some(Plain {
            leftover: leftover.clone(),
            stream: stream.try_clone()?,
            len,
        }),
        _ => None,
    };
    let raw: Box<dyn Read + Send> = Box::new(io::Cursor::new(leftover).chain(stream));
    let body: Box<dyn Read + Send> = match (no_body, chunked, length) {
        (true, _, _) => Box::new(io::empty()),
        (false, true, _) => Box::new(Chunked {
            inner: raw,
            left: 0,
            done: false,
        }),
        (false, false, Some(len)) => Box::new(Exact {
            inner: raw,
            left: len,
        }),
        (false, false, None) => raw,
    };
    Ok(RawResponse {
        status,
        headers,
        body,
        plain,
    })
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Exactly `left` bytes; an early end is an error (a cut connection).
struct Exact {
    inner: Box<dyn Read + Send>,
    left: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        read_left(
            &mut self.inner,
            &mut self.left,
            buf,
            "connection closed before the end of the body",
        )
    }
}

/// Read at most `*left` bytes into `buf`; the stream ending first is an error.
fn read_left(inner: &mut dyn Read, left: &mut u64, buf: &mut [u8], eof: &str) -> io::Result<usize> {
    let want = (*left).min(buf.len() as u64) as usize;
    let n = inner.read(&mut buf[..want])?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            eof.to_string(),
        ));
    }
    *left -= n as u64;
    Ok(n)
}

/// `Transfer-Encoding: chunked` decoder.
struct Chunked {
    inner: Box<dyn Read + Send>,
    left: u64,
    done: bool,
}

impl Chunked {
    fn line(&mut self) -> io::Result<String> {
        let mut s = Vec::new();
        let mut b = [0u8; 1];
        loop {
            if self.inner.read(&mut b)? == 0 {
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
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            self.left = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if self.left == 0 {
                // Trailers until an empty line (each bounded; at most 100 of them).
                for _ in 0..100 {
                    if self.line()?.is_empty() {
                        self.done = true;
                        return Ok(0);
                    }
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad trailers"));
            }
        }
        let n = read_left(
            &mut self.inner,
            &mut self.left,
            buf,
            "connection closed inside a chunk",
        )?;
        if self.left == 0 {
            let _ = self.line()?; // CRLF after the chunk data
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoding() {
        let data = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: v\r\n\r\n";
        let mut c = Chunked {
            inner: Box::new(io::Cursor::new(data.to_vec())),
            left: 0,
            done: false,
        };
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
    }

    #[test]
    fn exact_length_detects_cuts() {
        let mut e = Exact {
            inner: Box::new(io::Cursor::new(b"abc".to_vec())),
            left: 5,
        };
        let mut out = Vec::new();
        assert!(e.read_to_end(&mut out).is_err());
        assert_eq!(out, b"abc");
    }

    #[test]
    fn heads() {
        let (s, h) = parse_head("HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-1/2").unwrap();
        assert_eq!(s, 206);
        assert_eq!(h[0], ("Content-Range".into(), "bytes 0-1/2".into()));
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
        let mut e = Exact {
            inner: Box::new(io::Cursor::new(b"abc".to_vec())),
            left: 1 << 32,
        };
        let mut buf = [0u8; 8];
        assert_eq!(e.read(&mut buf).unwrap(), 3);
        assert_eq!(e.left, (1 << 32) - 3);
        let mut c = Chunked {
            inner: Box::new(io::Cursor::new(b"100000000\r\nabc".to_vec())),
            left: 0,
            done: false,
        };
        assert_eq!(c.read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn send_file_past_4_gib() {
        use std::os::unix::fs::FileExt;
        let data = pattern(3_000_000);
        let file = tempfile::tempfile().unwrap();
        file.write_all_at(&data, PAST_4_GIB).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        let stream = TcpStream::connect(addr).unwrap();
        let mut sent = 0;
        let len = data.len() as u64 - 100;
        send_file(&stream, &file, PAST_4_GIB + 100, len, &mut |n| {
            sent += n;
            Ok(())
        })
        .unwrap();
        drop(stream);
        assert_eq!(sent, len);
        assert!(reader.join().unwrap() == data[100..], "wrong bytes sent");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn splice_to_file_past_4_gib() {
        use std::os::unix::fs::FileExt;
        let data = pattern(3_000_000);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let body = data[10..].to_vec();
        let writer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&body).unwrap();
        });
        let plain = Plain {
            leftover: data[..10].to_vec(),
            stream: TcpStream::connect(addr).unwrap(),
            len: data.len() as u64,
        };
        let file = tempfile::tempfile().unwrap();
        let (done, res) = splice_to_file(
            &plain,
            &file,
            PAST_4_GIB,
            plain.len,
            &mut |_| Ok(()),
            &|e| e,
        );
        res.unwrap();
        writer.join().unwrap();
        assert_eq!(done, plain.len);
        assert_eq!(file.metadata().unwrap().len(), PAST_4_GIB + plain.len);
        let mut back = vec![0u8; data.len()];
        file.read_exact_at(&mut back, PAST_4_GIB).unwrap();
        assert!(back == data, "wrong bytes written");
    }
}
