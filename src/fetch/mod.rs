//! HTTP for promoscan: one GET at a time per call, redirects never followed by the
//! client (the follower records every hop itself), and a limit on everything a server
//! controls: connect and request timeouts, a body cap applied to the decoded body (so a
//! gzip bomb stops at the cap), a deadline per call, global and per-host concurrency, a
//! per-host rate, and retries with backoff on 429/5xx that honour Retry-After.
//!
//! Not for: deciding what a response means (redirect, meta refresh, dead end): that is
//! [`crate::follow`]. Addresses are checked by the private-address [`guard`].

pub mod guard;
pub mod hosts;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use guard::{AddressGuard, RefusedAddress};
use hosts::Hosts;

/// The limits and politeness of the fetcher (DESIGN §6 defaults).
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time for one request, body included.
    pub request_timeout: Duration,
    /// Largest body read, after decompression; the rest is dropped and noted.
    pub body_cap: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Least time between the starts of two requests to one host.
    pub per_host_interval: Duration,
    /// Retries of a request answered 429, 502, 503 or 504.
    pub retries: u32,
    /// Allow following into loopback/private/link-local addresses.
    pub allow_private: bool,
    /// Host names mapped to an address, instead of DNS (`--resolve HOST:ADDR`, as
    /// curl's): the user chose them, so the guard allows them.
    pub resolve: Vec<(String, std::net::IpAddr)>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            body_cap: 5 * 1024 * 1024,
            concurrency: 16,
            per_host_concurrency: 2,
            per_host_interval: Duration::from_millis(100),
            retries: 2,
            allow_private: false,
            resolve: Vec::new(),
        }
    }
}

/// The `User-Agent` promoscan sends (robots.txt rules for `promoscan` apply to it).
pub const USER_AGENT: &str = concat!("promoscan/", env!("CARGO_PKG_VERSION"));

/// Which response bodies to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyWanted {
    /// Only successful HTML (or untyped, or plain text) bodies: pages to analyse.
    Html,
    /// Every successful body (robots.txt).
    Any,
    /// Every successful body, up to this many bytes or the body cap if that is larger:
    /// files with their own size limit (a sitemap may be 50 MB).
    AnyUpTo(usize),
}

/// A response: status, the headers promoscan uses, and the (capped) body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL requested.
    pub url: Url,
    /// HTTP status code.
    pub status: u16,
    /// The `Location` header, as sent.
    pub location: Option<String>,
    /// The `Content-Type` header's media type, lower-case (`text/html`).
    pub media_type: Option<String>,
    /// The `Content-Type` header's charset parameter.
    pub charset: Option<String>,
    /// True when the response set a cookie.
    pub set_cookie: bool,
    /// The body (decoded from gzip/brotli/deflate), at most the body cap; empty when
    /// not read.
    pub body: Vec<u8>,
    /// Why the body is incomplete, when it is (cap reached, timeout, broken stream).
    pub truncated: Option<String>,
    /// Time from sending the request to the end of the body.
    pub elapsed: Duration,
    /// The `Retry-After` header in seconds, when given.
    pub retry_after: Option<Duration>,
}

impl Response {
    /// True for an HTML (or untyped) response.
    pub fn is_html(&self) -> bool {
        is_html_type(self.media_type.as_deref())
    }
}

fn is_html_type(media_type: Option<&str>) -> bool {
    match media_type {
        None => true,
        Some(media_type) => {
            media_type == "text/html"
                || media_type == "application/xhtml+xml"
                || media_type == "text/plain"
        }
    }
}

/// Why a request gave no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// Not an http(s) URL.
    #[error("unsupported scheme '{0}:' (only http and https are fetched)")]
    UnsupportedScheme(String),
    /// The address is refused by the private-address guard.
    #[error(transparent)]
    Refused(#[from] RefusedAddress),
    /// No answer in time.
    #[error("timed out after {0:.1} s")]
    Timeout(f64),
    /// The caller's deadline came before this request's turn (the run's or the host's
    /// concurrency limit, or the host's rate): nothing was sent.
    #[error("no turn to send the request before the deadline")]
    NoTurn,
    /// DNS failure, refused or reset connection, TLS failure.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server answered with something that is not HTTP.
    #[error("bad response: {0}")]
    Protocol(String),
}

/// The HTTP client: shared by every chain and page of a run.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
    guard: AddressGuard,
    hosts: Hosts,
    in_flight: Arc<Semaphore>,
}

/// The client could not be built (TLS set-up).
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client: {0}")]
pub struct ClientError(String);

impl Fetcher {
    /// A fetcher with these limits.
    pub fn new(options: FetchOptions) -> Result<Fetcher, ClientError> {
        // Another part of the process may have installed a provider already: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let guard = AddressGuard::new(options.allow_private);
        let mut builder = reqwest::Client::builder();
        for (host, address) in &options.resolve {
            guard.allow_pinned_host(host);
            builder = builder.resolve(host, std::net::SocketAddr::new(*address, 0));
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .user_agent(USER_AGENT)
            .dns_resolver(guard.resolver())
            .no_proxy()
            .referer(false)
            .tls_backend_rustls()
            .pool_max_idle_per_host(options.per_host_concurrency)
            .build()
            .map_err(|error| ClientError(error_text(&error)))?;
        Ok(Fetcher {
            client,
            hosts: Hosts::new(options.per_host_concurrency, options.per_host_interval),
            in_flight: Arc::new(Semaphore::new(options.concurrency.max(1))),
            guard,
            options,
        })
    }

    /// The limits in use.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// The private-address guard (to allow the URLs the user names).
    pub fn guard(&self) -> &AddressGuard {
        &self.guard
    }

    /// Per-host politeness (to apply a robots.txt Crawl-delay).
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    /// GETs `url`, giving up at `deadline`. Retries 429/5xx answers and failed
    /// connections with backoff (Retry-After honoured when it fits before the
    /// deadline); the last answer is returned whatever its status.
    pub async fn get(
        &self,
        url: &Url,
        deadline: Instant,
        wanted: BodyWanted,
    ) -> Result<Response, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::UnsupportedScheme(url.scheme().to_string()));
        }
        self.guard.check_before_request(url).await?;
        let host = url.host_str().unwrap_or_default().to_string();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let outcome = self.get_once(url, &host, deadline, wanted, started).await;
            let retry_wait = match &outcome {
                Ok(response) if is_retryable_status(response.status) => {
                    Some(response.retry_after.unwrap_or_else(|| backoff(attempt)))
                }
                _ => None,
            };
            match retry_wait {
                Some(wait)
                    if attempt < self.options.retries && Instant::now() + wait < deadline =>
                {
                    self.hosts.pause(&host, wait);
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    async fn get_once(
        &self,
        url: &Url,
        host: &str,
        deadline: Instant,
        wanted: BodyWanted,
        started: Instant,
    ) -> Result<Response, FetchError> {
        let timed_out = || FetchError::Timeout(started.elapsed().as_secs_f64());
        let _slot = tokio::time::timeout_at(deadline, self.in_flight.acquire())
            .await
            .map_err(|_| FetchError::NoTurn)?
            .map_err(|_| FetchError::NoTurn)?;
        let _host_slot = self
            .hosts
            .acquire(host, deadline)
            .await
            .ok_or(FetchError::NoTurn)?;
        let sent = Instant::now();
        let budget = self
            .options
            .request_timeout
            .min(deadline.saturating_duration_since(sent));
        let request = self.client.get(url.clone()).timeout(budget).send();
        let mut response = match tokio::time::timeout(budget, request).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(error)) => return Err(classify(&error, started)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let (media_type, charset) = content_type(&headers);
        let read_body = (200..300).contains(&status)
            && (wanted != BodyWanted::Html || is_html_type(media_type.as_deref()));
        let body_cap = match wanted {
            BodyWanted::AnyUpTo(limit) => limit.max(self.options.body_cap),
            BodyWanted::Html | BodyWanted::Any => self.options.body_cap,
        };
        let mut body = Vec::new();
        let mut truncated = None;
        if read_body {
            let body_deadline = sent + budget;
            loop {
                let chunk = tokio::time::timeout_at(body_deadline, response.chunk()).await;
                match chunk {
                    Err(_) => {
                        truncated = Some(format!(
                            "the body did not arrive in time (read {} bytes in {:.1} s)",
                            body.len(),
                            sent.elapsed().as_secs_f64()
                        ));
                        break;
                    }
                    Ok(Ok(None)) => break,
                    Ok(Ok(Some(bytes))) => {
                        let room = body_cap - body.len();
                        if bytes.len() > room {
                            body.extend_from_slice(&bytes[..room]);
                            truncated = Some(over_cap_note(body_cap));
                            break;
                        }
                        body.extend_from_slice(&bytes);
                    }
                    Ok(Err(error)) => {
                        truncated = Some(if error.is_timeout() {
                            format!(
                                "the body did not arrive in time (read {} bytes)",
                                body.len()
                            )
                        } else {
                            format!("the body broke off: {}", error_text(&error))
                        });
                        break;
                    }
                }
            }
        }
        Ok(Response {
            url: url.clone(),
            status,
            location: header_text(&headers, header::LOCATION),
            media_type,
            charset,
            set_cookie: headers.contains_key(header::SET_COOKIE),
            body,
            truncated,
            elapsed: sent.elapsed(),
            retry_after: header_text(&headers, header::RETRY_AFTER)
                .and_then(|value| parse_retry_after(&value)),
        })
    }
}

/// The note on a body cut at the cap of `cap` bytes.
pub fn over_cap_note(cap: usize) -> String {
    format!("the body is larger than the {cap} byte cap; the rest was not read")
}

/// 429 Too Many Requests and the 5xx answers that say "try later".
fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Exponential backoff: 0.5 s, 1 s, 2 s...
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6)))
}

/// Retry-After in seconds, capped at five minutes. An HTTP date counts as "not
/// given": the backoff applies.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(300)))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// The media type and charset of a Content-Type header.
fn content_type(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(value) = header_text(headers, header::CONTENT_TYPE) else {
        return (None, None);
    };
    let mut parts = value.split(';');
    let media_type = parts
        .next()
        .map(|media| media.trim().to_ascii_lowercase())
        .filter(|media| !media.is_empty());
    let charset = parts.find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    });
    (media_type, charset)
}

/// The error and every cause, joined: reqwest's own message says little.
fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn classify(error: &reqwest::Error, started: Instant) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RefusedAddress>() {
            return FetchError::Refused(refused.clone());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        FetchError::Timeout(started.elapsed().as_secs_f64())
    } else if error.is_connect() {
        FetchError::Connect(error_text(error))
    } else {
        FetchError::Protocol(error_text(error))
    }
}
