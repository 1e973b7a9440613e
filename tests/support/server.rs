//! A real HTTP/1.1 server on 127.0.0.1 for tests, started inside the test process: each
//! request is answered by a handler from its path, with a [`Reply`] that may be a
//! normal response or a deliberately broken one (slow, slow headers, dripping,
//! endless, reset, malformed, a wrong Content-Length). It counts requests per path.
//! Nothing here mocks the client: the real binary or library connects over loopback.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal response: status, headers, body (Content-Length is added).
    Response {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// These bytes as they are, then the connection is closed.
    Raw(Vec<u8>),
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
    /// Headers, then one body byte per interval, `total` bytes in all.
    Drip {
        /// Time between two bytes.
        interval: Duration,
        /// Bytes to send.
        total: usize,
    },
    /// Headers, then body bytes without end (until the client goes away or 60 s pass).
    Endless,
    /// Headers announcing `announced` bytes, `sent` bytes of body, then a reset.
    ResetMidBody {
        /// Content-Length announced.
        announced: usize,
        /// Bytes sent before the reset.
        sent: usize,
    },
    /// Close the connection without answering (a reset).
    Reset,
    /// The reply's status line and headers trickled one byte per interval (a server
    /// that never finishes its headers in time), then the rest of the reply.
    SlowHeaders {
        /// Time between two header bytes.
        interval: Duration,
        /// The reply whose head is trickled.
        reply: Box<Reply>,
    },
    /// A response whose Content-Length is not the body's length: `announced` bytes
    /// promised, `body` sent, then the connection is held open for `hold` (a longer
    /// announcement leaves the client waiting) and closed, or kept for the next
    /// request when `hold` is zero (a shorter announcement leaves the rest of the body
    /// in the connection, where the next response should be).
    WrongLength {
        /// Content-Length announced.
        announced: usize,
        /// Body bytes sent.
        body: Vec<u8>,
        /// How long to keep the connection open after the body (zero: serve on).
        hold: Duration,
    },
}

impl Reply {
    /// 200 with an HTML body.
    pub fn html(body: &str) -> Reply {
        Reply::Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Response {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// A bare status with a short text body.
    pub fn status(status: u16) -> Reply {
        Reply::Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("status {status}").into_bytes(),
        }
    }

    /// A response with headers and a body.
    pub fn with(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        Reply::Response {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body,
        }
    }
}

/// The handler: from the request path (with query) to a reply.
pub type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A running server; stops when dropped.
pub struct TestServer {
    address: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    load: Arc<Mutex<Load>>,
}

/// Requests being answered at once: now, and the most seen.
#[derive(Debug, Default)]
struct Load {
    now: usize,
    most: usize,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (a free port) answering with `handler`.
    pub fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let load: Arc<Mutex<Load>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        {
            let hits = hits.clone();
            let stop = stop.clone();
            let load = load.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = handler.clone();
                    let hits = hits.clone();
                    let stop = stop.clone();
                    let load = load.clone();
                    thread::spawn(move || serve(stream, &handler, &hits, &stop, &load));
                }
            });
        }
        TestServer {
            address,
            hits,
            stop,
            load,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// How many requests `path` (with query) received.
    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .map(|hits| hits.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.load.lock().map(|load| load.most).unwrap_or(0)
    }

    /// Every path requested, with its count.
    pub fn all_hits(&self) -> HashMap<String, usize> {
        self.hits
            .lock()
            .map(|hits| hits.clone())
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// Serves requests on one connection (keep-alive until the client closes).
fn serve(
    mut stream: TcpStream,
    handler: &Handler,
    hits: &Mutex<HashMap<String, usize>>,
    stop: &AtomicBool,
    load: &Mutex<Load>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buffer = Vec::new();
    loop {
        let Some(path) = read_request(&mut stream, &mut buffer) else {
            return;
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(mut hits) = hits.lock() {
            *hits.entry(path.clone()).or_default() += 1;
        }
        if let Ok(mut load) = load.lock() {
            load.now += 1;
            load.most = load.most.max(load.now);
        }
        let keep_open = answer(&mut stream, handler(&path), stop);
        if let Ok(mut load) = load.lock() {
            load.now -= 1;
        }
        if !keep_open {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Reads one request head; returns its path. `None` when the client closed.
fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            let line = head.lines().next()?;
            let mut parts = line.split_whitespace();
            let _method = parts.next()?;
            return parts.next().map(str::to_string);
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Writes a reply; returns true when the connection may serve another request.
fn answer(stream: &mut TcpStream, reply: Reply, stop: &AtomicBool) -> bool {
    match reply {
        reply @ Reply::Response { .. } => stream.write_all(&reply_bytes(reply)).is_ok(),
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
            false
        }
        Reply::Delayed(delay, reply) => {
            sleep_unless_stopped(delay, stop);
            answer(stream, *reply, stop)
        }
        Reply::Drip { interval, total } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {total}\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).is_err() {
                return false;
            }
            for _ in 0..total {
                if stop.load(Ordering::SeqCst) || stream.write_all(b"a").is_err() {
                    return false;
                }
                thread::sleep(interval);
            }
            false
        }
        Reply::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>";
            if stream.write_all(head.as_bytes()).is_err() {
                return false;
            }
            let chunk = "<p>more and more</p>\n".repeat(512);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(60) && !stop.load(Ordering::SeqCst) {
                if stream.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
            }
            false
        }
        Reply::ResetMidBody { announced, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {announced}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&vec![b'x'; sent]);
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(50));
            false
        }
        Reply::Reset => false,
        Reply::SlowHeaders { interval, reply } => {
            let bytes = reply_bytes(*reply);
            let head_end = find(&bytes, b"\r\n\r\n").map_or(bytes.len(), |end| end + 4);
            for byte in &bytes[..head_end] {
                if stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                    return false;
                }
                thread::sleep(interval);
            }
            let _ = stream.write_all(&bytes[head_end..]);
            false
        }
        Reply::WrongLength {
            announced,
            body,
            hold,
        } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {announced}\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
                return false;
            }
            if hold.is_zero() {
                return true;
            }
            sleep_unless_stopped(hold, stop);
            false
        }
    }
}

/// The bytes of a plain reply (`Response` or `Raw`); other replies have none.
fn reply_bytes(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Response {
            status,
            headers,
            body,
        } => {
            let mut bytes = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
            for (name, value) in &headers {
                bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            bytes.extend_from_slice(&body);
            bytes
        }
        Reply::Raw(bytes) => bytes,
        _ => Vec::new(),
    }
}

fn sleep_unless_stopped(delay: Duration, stop: &AtomicBool) {
    let started = Instant::now();
    while started.elapsed() < delay && !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(20));
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
