//! Following links: where a URL really goes, hop by hop. HTTP redirects are read from
//! the `Location` header; meta refresh and JavaScript location changes are found in
//! the HTML of each response by the same page analysis `scan` uses (nothing is
//! executed). Every chain stops: at a page that goes nowhere else, at a dead end, a
//! loop, a refused address, the hop limit or the chain's time limit.
//!
//! Each distinct URL is followed once per run ([`Follower`] keeps a cache keyed by the
//! normalised URL, and callers asking for the same URL at once share one trace).
//!
//! Not for: judging a chain; that is [`crate::detect::redirect_chain`].

pub mod example;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

use crate::detect::loads::collect_script_matches;
use crate::fetch::{BodyWanted, ClientError, FetchError, FetchOptions, Fetcher, Response};
use crate::finding::Hop;
use crate::input;
use crate::library::Library;
use crate::page::{Page, resolve_address};
use crate::signatures::ScriptAction;

/// Limits of one chain, and of the fetcher behind it.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Most redirects followed before giving up (`too-many-hops`).
    pub max_hops: usize,
    /// Time allowed for a whole chain.
    pub chain_timeout: Duration,
    /// HTTP limits.
    pub fetch: FetchOptions,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            max_hops: 15,
            chain_timeout: Duration::from_secs(30),
            fetch: FetchOptions::default(),
        }
    }
}

/// How a hop was reached from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An HTTP redirect (or the first request).
    Http,
    /// A `<meta http-equiv="refresh">`.
    MetaRefresh,
    /// A script changing `location`.
    Javascript,
}

impl Via {
    /// The name in reports (`http`, `meta-refresh`, `javascript`).
    pub fn name(self) -> &'static str {
        match self {
            Via::Http => "http",
            Via::MetaRefresh => "meta-refresh",
            Via::Javascript => "javascript",
        }
    }
}

/// Why a chain stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainEnd {
    /// At a page that leads nowhere else (a 2xx answer, or another status that is not a
    /// redirect or an error).
    Arrived,
    /// The last answer was an HTTP error (4xx/5xx).
    HttpError(u16),
    /// A redirect without a usable `Location`.
    BrokenRedirect(String),
    /// No answer: DNS failure, refused or reset connection, bad response.
    Unreachable(String),
    /// The private-address guard refused the next address.
    Refused(String),
    /// The chain came back to `url`, already visited.
    Loop(String),
    /// Still redirecting after the hop limit.
    TooManyHops(usize),
    /// The chain's time limit ran out.
    TimedOut(String),
    /// The next hop is not an http(s) URL (an app link, `javascript:`...).
    NotHttp(String),
}

/// A followed chain: every hop, from the URL given to where it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The URL followed.
    pub start: Url,
    /// Every request made, in order (the first is `start`).
    pub hops: Vec<Hop>,
    /// Why it stopped.
    pub end: ChainEnd,
    /// The last page's text (decoded), when asked for and the chain arrived at HTML.
    pub page: Option<FetchedPage>,
}

/// A fetched HTML page, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedPage {
    /// Its URL (the chain's final URL).
    pub url: Url,
    /// The decoded text.
    pub text: String,
    /// The encoding guessed when nothing declared one.
    pub guessed_encoding: Option<String>,
    /// Why the body is incomplete, when it is.
    pub truncated: Option<String>,
}

impl FetchedPage {
    /// Decodes a response's body (charset from the header, BOM, `<meta>`, or a guess).
    pub fn decode(response: &Response) -> FetchedPage {
        let decoded = input::decode_http(&response.body, response.charset.as_deref());
        FetchedPage {
            url: response.url.clone(),
            text: decoded.text.into_owned(),
            guessed_encoding: decoded.guessed_encoding,
            truncated: response.truncated.clone(),
        }
    }
}

/// A page as the fetcher would give it with a body cap of `cap` bytes (for rule
/// examples and tests of the truncation note).
pub fn fetched_page(url: Url, body: &[u8], cap: usize) -> FetchedPage {
    let truncated = (body.len() > cap).then(|| crate::fetch::over_cap_note(cap));
    let decoded = input::decode_http(&body[..body.len().min(cap)], None);
    FetchedPage {
        url,
        text: decoded.text.into_owned(),
        guessed_encoding: decoded.guessed_encoding,
        truncated,
    }
}

impl Chain {
    /// The URL of the last request made.
    pub fn final_url(&self) -> Option<&str> {
        self.hops.last().map(|hop| hop.url.as_str())
    }

    /// True when no request got an answer at all.
    pub fn got_no_answer(&self) -> bool {
        self.hops.iter().all(|hop| hop.status.is_none())
    }
}

/// Follows links, each distinct URL once per run. Owns the async runtime the HTTP
/// client runs on; its methods block the calling thread until done.
pub struct Follower {
    runtime: tokio::runtime::Runtime,
    tracer: Arc<Tracer>,
}

/// A shared in-flight or finished trace.
type CacheSlot = Arc<OnceCell<Arc<Chain>>>;

/// The part shared by every trace of a run.
struct Tracer {
    fetcher: Fetcher,
    library: Arc<Library>,
    options: FollowOptions,
    cache: Mutex<HashMap<String, CacheSlot>>,
    /// Pages being decoded and parsed at once (one per core).
    parsing: tokio::sync::Semaphore,
}

/// The follower could not start (runtime or HTTP client set-up).
#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    /// The HTTP client.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The async runtime.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

impl Follower {
    /// A follower with these limits; `library` recognises client-side hops.
    pub fn new(library: Arc<Library>, options: FollowOptions) -> Result<Follower, FollowerError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        // The client's DNS resolver and connector need a runtime context to be built.
        let fetcher = {
            let _context = runtime.enter();
            Fetcher::new(options.fetch.clone())?
        };
        Ok(Follower {
            runtime,
            tracer: Arc::new(Tracer {
                fetcher,
                library,
                options,
                cache: Mutex::new(HashMap::new()),
                parsing: tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, usize::from),
                ),
            }),
        })
    }

    /// The HTTP client (for callers that fetch other things with the same limits).
    pub fn fetcher(&self) -> &Fetcher {
        &self.tracer.fetcher
    }

    /// The runtime the follower runs on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Marks `url` as named by the user: its origin is allowed even when it is a
    /// loopback or private address.
    pub fn allow_user_named(&self, url: &Url) {
        self.tracer.fetcher.guard().allow_user_named(url);
    }

    /// Follows every URL (each distinct one once, in parallel) and returns their chains
    /// in the order given. With `keep_page`, the final page's text is kept (and the
    /// cache is not used: pages are not kept in memory beyond the call). A URL whose
    /// chain was not finished when a stop was asked for ([`crate::interrupt`]) is
    /// `None`.
    pub fn follow_all(&self, urls: &[Url], keep_page: bool) -> Vec<Option<Arc<Chain>>> {
        let tracer = self.tracer.clone();
        let urls = urls.to_vec();
        self.runtime.block_on(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for (index, url) in urls.iter().cloned().enumerate() {
                let tracer = tracer.clone();
                tasks.spawn(async move {
                    let chain = if keep_page {
                        Arc::new(tracer.trace(url, true).await)
                    } else {
                        tracer.follow_cached(url).await
                    };
                    (index, chain)
                });
            }
            let mut chains: Vec<Option<Arc<Chain>>> = vec![None; urls.len()];
            while !tasks.is_empty() {
                if crate::interrupt::requested() {
                    tasks.abort_all();
                    break;
                }
                // Wake up now and then to notice a stop.
                let next = tokio::time::timeout(Duration::from_millis(100), tasks.join_next());
                if let Ok(Some(Ok((index, chain)))) = next.await {
                    chains[index] = Some(chain);
                }
            }
            chains
        })
    }

    /// A handle for async callers (tasks on [`Follower::runtime`]).
    pub fn handle(&self) -> FollowHandle {
        FollowHandle {
            tracer: self.tracer.clone(),
        }
    }
}

/// A cheap, cloneable handle on a [`Follower`] for async tasks.
#[derive(Clone)]
pub struct FollowHandle {
    tracer: Arc<Tracer>,
}

impl FollowHandle {
    /// Follows a link: each distinct URL once per run (cached, in-flight traces
    /// shared).
    pub async fn link(&self, url: Url) -> Arc<Chain> {
        self.tracer.follow_cached(url).await
    }

    /// Fetches a page: its chain, with the final page's text (not cached).
    pub async fn page(&self, url: Url) -> Chain {
        self.tracer.trace(url, true).await
    }

    /// The HTTP client.
    pub fn fetcher(&self) -> &Fetcher {
        &self.tracer.fetcher
    }
}

/// The cache key of a URL: the URL without its fragment.
pub fn cache_key(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.to_string()
}

impl Tracer {
    async fn follow_cached(self: &Arc<Self>, url: Url) -> Arc<Chain> {
        let slot = {
            let mut cache = match self.cache.lock() {
                Ok(cache) => cache,
                Err(poisoned) => poisoned.into_inner(),
            };
            cache.entry(cache_key(&url)).or_default().clone()
        };
        slot.get_or_init(|| async { Arc::new(self.trace(url, false).await) })
            .await
            .clone()
    }

    /// Follows `start` hop by hop until the chain stops.
    async fn trace(&self, start: Url, keep_page: bool) -> Chain {
        let deadline = Instant::now() + self.options.chain_timeout;
        let mut hops: Vec<Hop> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut current = start.clone();
        let mut via = Via::Http;
        let mut delay = None;
        let mut page = None;
        let end = loop {
            if !seen.insert(cache_key(&current)) {
                break ChainEnd::Loop(current.to_string());
            }
            if hops.len() > self.options.max_hops {
                break ChainEnd::TooManyHops(self.options.max_hops);
            }
            if Instant::now() >= deadline {
                break ChainEnd::TimedOut(chain_time_out(&self.options));
            }
            let mut hop = Hop::requested(current.to_string(), via.name(), delay);
            let response = match self.fetcher.get(&current, deadline, BodyWanted::Html).await {
                Ok(response) => response,
                Err(error)
                    if matches!(error, FetchError::NoTurn)
                        || (matches!(error, FetchError::Timeout(_))
                            && Instant::now() >= deadline) =>
                {
                    // The chain's own limit ran out before this request's turn, or cut it
                    // short: say so, not this request's few seconds.
                    let reason = chain_time_out(&self.options);
                    hop.error = Some(reason.clone());
                    hops.push(hop);
                    break ChainEnd::TimedOut(reason);
                }
                Err(error) => {
                    hop.error = Some(error.to_string());
                    hops.push(hop);
                    break match error {
                        FetchError::Refused(refused) => ChainEnd::Refused(refused.to_string()),
                        FetchError::Timeout(_) | FetchError::NoTurn => {
                            ChainEnd::TimedOut(error.to_string())
                        }
                        FetchError::UnsupportedScheme(_) => ChainEnd::NotHttp(current.to_string()),
                        FetchError::Connect(_) | FetchError::Protocol(_) => {
                            ChainEnd::Unreachable(error.to_string())
                        }
                    };
                }
            };
            hop.status = Some(response.status);
            hop.set_cookie = response.set_cookie;
            hop.elapsed_ms = Some(u64::try_from(response.elapsed.as_millis()).unwrap_or(u64::MAX));
            hop.error = response.truncated.clone();
            hops.push(hop);
            // Decoding and parsing a page is CPU work of up to seconds (a body at the
            // cap): off the async workers, so other chains' timers keep running.
            // At most one page per core at once, so memory stays a few pages' worth.
            let library = self.library.clone();
            let next = match is_page(&response) {
                false => Ok(next_hop(&response, &library)),
                true => match self.parsing.acquire().await {
                    Ok(_permit) => {
                        tokio::task::spawn_blocking(move || next_hop(&response, &library)).await
                    }
                    Err(_) => Ok(next_hop(&response, &library)),
                },
            };
            let next = next.unwrap_or_else(|_| {
                Next::Stop(
                    ChainEnd::Unreachable("internal error while reading the page".into()),
                    None,
                )
            });
            match next {
                Next::Redirect(next, next_via, next_delay) => {
                    current = next;
                    via = next_via;
                    delay = next_delay;
                }
                Next::Stop(end, fetched) => {
                    if keep_page {
                        page = fetched;
                    }
                    break end;
                }
                Next::Unsearched(fetched, reason) => {
                    if let Some(last) = hops.last_mut() {
                        last.error = Some(match last.error.take() {
                            Some(truncated) => format!("{truncated}; {reason}"),
                            None => reason,
                        });
                    }
                    if keep_page {
                        page = Some(fetched);
                    }
                    break ChainEnd::Arrived;
                }
            }
        };
        Chain {
            start,
            hops,
            end,
            page,
        }
    }
}

/// Why a chain stopped at its time limit.
fn chain_time_out(options: &FollowOptions) -> String {
    format!(
        "the chain took longer than {} s",
        options.chain_timeout.as_secs_f64()
    )
}

/// What comes after a response.
enum Next {
    /// Another hop.
    Redirect(Url, Via, Option<f64>),
    /// The chain stops (with the page, when it was HTML).
    Stop(ChainEnd, Option<FetchedPage>),
    /// The chain stops at an HTML page that was not searched for client-side hops
    /// (the reason is noted on the hop).
    Unsearched(FetchedPage, String),
}

fn next_hop(response: &Response, library: &Library) -> Next {
    let status = response.status;
    if (300..400).contains(&status) && status != 304 {
        let Some(location) = response.location.as_deref() else {
            return Next::Stop(
                ChainEnd::BrokenRedirect(format!("HTTP {status} without a Location header")),
                None,
            );
        };
        return match response.url.join(location.trim()) {
            Ok(next) if matches!(next.scheme(), "http" | "https") => {
                Next::Redirect(next, Via::Http, None)
            }
            Ok(next) => Next::Stop(ChainEnd::NotHttp(next.to_string()), None),
            Err(error) => Next::Stop(
                ChainEnd::BrokenRedirect(format!("unusable Location '{location}': {error}")),
                None,
            ),
        };
    }
    if status >= 400 {
        return Next::Stop(ChainEnd::HttpError(status), None);
    }
    if !is_page(response) {
        return Next::Stop(ChainEnd::Arrived, None);
    }
    let fetched = FetchedPage::decode(response);
    // The HTML parser takes minutes over 100,000 nested elements, and no deadline can
    // stop it: such a page is not parsed (a scan of it refuses it as too deep).
    if let Some(depth) =
        input::nesting::depth_beyond(&fetched.text, input::nesting::DEFAULT_MAX_DEPTH)
    {
        let reason = format!(
            "the page nests elements {depth} levels deep (limit {}); not searched for client-side hops",
            input::nesting::DEFAULT_MAX_DEPTH
        );
        return Next::Unsearched(fetched, reason);
    }
    let page = Page::from_html(&fetched.text, Some(response.url.clone()));
    let client_side = client_side_hop(&page, library, &response.url);
    match client_side {
        Some((next, via, delay)) if matches!(next.scheme(), "http" | "https") => {
            Next::Redirect(next, via, delay)
        }
        Some((next, _, _)) => Next::Stop(ChainEnd::NotHttp(next.to_string()), Some(fetched)),
        None => Next::Stop(ChainEnd::Arrived, Some(fetched)),
    }
}

/// True for a successful HTML answer with a body: a page to read for client-side hops.
fn is_page(response: &Response) -> bool {
    (200..300).contains(&response.status) && response.is_html() && !response.body.is_empty()
}

/// The page's own navigation, if it has one: a script changing `location` outside a
/// click handler (scripts run while the page loads), else a meta refresh to another
/// address. A refresh of the page itself is a reload, not a hop.
fn client_side_hop(page: &Page, library: &Library, url: &Url) -> Option<(Url, Via, Option<f64>)> {
    let here = cache_key(url);
    let base = page.base_url.as_ref().unwrap_or(url);
    let scripted = collect_script_matches(page, library)
        .into_iter()
        .filter(|found| found.action == ScriptAction::Navigate)
        .filter_map(|found| resolve_address(Some(base), found.url.as_deref()?))
        .find(|next| cache_key(next) != here);
    if let Some(next) = scripted {
        return Some((next, Via::Javascript, None));
    }
    page.refreshes.iter().find_map(|refresh| {
        let next = refresh.url.clone()?;
        (cache_key(&next) != here).then_some((next, Via::MetaRefresh, Some(refresh.delay)))
    })
}
