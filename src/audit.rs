//! `promoscan audit URL`: crawl one site and scan every page, politely.
//!
//! Discovery: robots.txt (respected unless told otherwise; its Crawl-delay slows the
//! host down), sitemaps (from robots.txt, else `/sitemap.xml`; indexes and gzip), and
//! the same-site links of every page, through a [`Frontier`] with page and depth
//! limits. Each page goes through the same page analysis as `scan`; every distinct
//! affiliate link of the whole site is followed once, and its chain findings are
//! attached to every page that holds it.
//!
//! Results stream: each page is handed to the caller as soon as its links are judged,
//! and nothing of the page is kept afterwards. The frontier's queue and seen-set, and
//! the cache of followed links, are what grow with the site.
//!
//! Not for: HTTP ([`crate::fetch`]), chains ([`crate::follow`]), output formats (the
//! caller writes what it is handed).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use crate::config::Policy;
use crate::crawl::frontier::{Entry, Frontier, Limits};
use crate::crawl::resume::{Discovered, Resumed};
use crate::crawl::robots::Robots;
use crate::crawl::scope::{Scope, ScopeError};
use crate::crawl::sitemap::{self, Sitemap};
use crate::fetch::BodyWanted;
use crate::finding::{Finding, Severity, TargetStatus};
use crate::follow::{Chain, FollowHandle, Follower, cache_key};
use crate::library::Library;
use crate::run::{link_findings, scan_url_target};
use crate::scan::{ScanOptions, Scanner, TargetResult};

/// How far and how an audit goes.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Most pages discovered (and so visited).
    pub max_pages: usize,
    /// Most links followed from the start page (sitemap entries are at depth 0).
    pub max_depth: u32,
    /// Only URLs matching one of these patterns (globs, or `re:` regexes).
    pub include: Vec<String>,
    /// No URL matching one of these patterns.
    pub exclude: Vec<String>,
    /// Do not read robots.txt (and so do not obey it).
    pub ignore_robots: bool,
    /// Pages fetched and scanned at once.
    pub concurrency: usize,
    /// Most sitemap files read (indexes included).
    pub max_sitemaps: usize,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            max_pages: 10_000,
            max_depth: 50,
            include: Vec::new(),
            exclude: Vec::new(),
            ignore_robots: false,
            concurrency: 16,
            max_sitemaps: 100,
        }
    }
}

/// A page done: its result (findings included) and the same-site links it holds.
pub struct PageDone<'a> {
    /// The page's target record and findings.
    pub result: &'a TargetResult,
    /// Its links (for `--resume`).
    pub discovered: Discovered,
}

/// Counts of a whole audit.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AuditSummary {
    /// Pages visited in this run and in the resumed one.
    pub pages: usize,
    /// Pages that could not be fetched or scanned.
    pub failed: usize,
    /// Pages discovered (visited, refused by robots.txt, or not reached in time).
    pub discovered: usize,
    /// Pages robots.txt did not allow.
    pub disallowed: usize,
    /// Findings by severity.
    pub severity: BTreeMap<String, usize>,
    /// Findings by category.
    pub categories: BTreeMap<String, usize>,
    /// Affiliate links seen, by network (each place counts).
    pub networks: BTreeMap<String, usize>,
    /// The pages with the most serious findings (errors, then warnings), worst first.
    pub worst_pages: Vec<WorstPage>,
    /// What the user should know (robots.txt, sitemaps, resume notes).
    pub notes: Vec<String>,
    /// True when the audit was interrupted before the frontier was empty.
    pub interrupted: bool,
}

/// One of the worst pages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorstPage {
    /// The page.
    pub target: String,
    /// Its errors.
    pub errors: usize,
    /// Its warnings.
    pub warnings: usize,
}

/// How many worst pages the summary keeps.
const WORST_PAGES: usize = 10;

impl AuditSummary {
    /// Counts one page.
    pub fn add_page(&mut self, target: &str, status: TargetStatus, findings: &[Finding]) {
        self.pages += 1;
        if status == TargetStatus::Failed {
            self.failed += 1;
        }
        let (mut errors, mut warnings) = (0, 0);
        for finding in findings {
            *self
                .severity
                .entry(finding.severity.name().to_string())
                .or_default() += 1;
            *self.categories.entry(finding.category.clone()).or_default() += 1;
            match finding.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Note => {}
            }
        }
        if errors + warnings == 0 {
            return;
        }
        self.worst_pages.push(WorstPage {
            target: target.to_string(),
            errors,
            warnings,
        });
        self.worst_pages.sort_by(|a, b| {
            (b.errors, b.warnings, &a.target).cmp(&(a.errors, a.warnings, &b.target))
        });
        self.worst_pages.truncate(WORST_PAGES);
    }
}

/// The audit could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A bad --include/--exclude pattern or start URL.
    #[error(transparent)]
    Scope(#[from] ScopeError),
}

/// What the pieces of an audit need to scan a page on another thread.
#[derive(Clone)]
pub struct ScanSetup {
    /// The pattern library.
    pub library: Arc<Library>,
    /// Disabled rules and severity overrides.
    pub policy: Policy,
    /// Scan limits.
    pub options: ScanOptions,
}

/// Progress reports, as pages are done.
pub trait Progress {
    /// `done` pages of `discovered`, `failed` of them failed.
    fn update(&self, done: usize, discovered: usize, failed: usize);
}

/// No progress shown.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _done: usize, _discovered: usize, _failed: usize) {}
}

/// What a task hands back to the audit loop.
enum Event {
    /// A page was fetched and scanned.
    Scanned(Entry, Box<TargetResult>, Option<String>),
    /// The affiliate links of a scanned page were followed (`None`: that link's task
    /// failed, so the link has no chain findings).
    Followed(u64, Vec<Option<Arc<Chain>>>),
}

/// What a task of the crawl loop was doing, to recover when it panics.
enum TaskKind {
    /// Fetching and scanning this page.
    Page(Entry),
    /// Following the links of this waiting page.
    Follow(u64),
}

/// A scanned page waiting for its links to be followed.
struct Waiting {
    entry: Entry,
    result: TargetResult,
}

/// Audits the site of `start`. `on_page` is called for every page as it is done. A
/// stop ([`crate::interrupt`], Ctrl-C) ends the audit early: pages in flight are
/// dropped, every page already handed over stays reported.
pub fn audit(
    start: &Url,
    setup: &ScanSetup,
    follower: &Follower,
    options: &AuditOptions,
    resumed: Option<Resumed>,
    progress: &dyn Progress,
    on_page: &mut dyn FnMut(PageDone<'_>) -> std::io::Result<()>,
) -> Result<(AuditSummary, Vec<Finding>), AuditAbort> {
    let scope = Scope::new(start, &options.include, &options.exclude).map_err(AuditError::from)?;
    let mut frontier = Frontier::new(
        scope,
        Limits {
            max_depth: options.max_depth,
            max_pages: options.max_pages,
        },
    );
    follower.allow_user_named(start);
    let handle = follower.handle();
    let mut summary = AuditSummary::default();
    let mut resumed_findings = Vec::new();
    if let Some(resumed) = resumed {
        summary.notes.extend(resumed.notes.iter().cloned());
        let done = resumed.done_urls();
        frontier.seed_done(done.iter());
        for record in &resumed.targets {
            let findings: Vec<Finding> = resumed
                .findings
                .iter()
                .filter(|finding| finding.target == record.target)
                .cloned()
                .collect();
            summary.add_page(&record.target, record.status, &findings);
        }
        resumed_findings = resumed.findings;
        for discovered in &resumed.discovered {
            let Ok(page) = Url::parse(&discovered.target) else {
                continue;
            };
            let entry = Entry {
                url: page,
                depth: discovered.depth,
                referrer: None,
            };
            for link in &discovered.urls {
                if let Ok(link) = Url::parse(link) {
                    frontier.push_link(&entry, &link);
                }
            }
        }
    }
    let robots = follower.runtime().block_on(discover(
        &handle,
        start,
        options,
        &mut frontier,
        &mut summary,
    ));
    frontier.push(start, 0, None);

    let runtime = follower.runtime();
    let mut handled: Result<(), std::io::Error> = Ok(());
    runtime.block_on(async {
        let mut tasks: JoinSet<Event> = JoinSet::new();
        let mut task_kinds: HashMap<tokio::task::Id, TaskKind> = HashMap::new();
        let mut pages_in_flight = 0usize;
        let mut waiting: HashMap<u64, Waiting> = HashMap::new();
        let mut next_id = 0u64;
        let mut seen_links: HashSet<String> = HashSet::new();
        loop {
            if crate::interrupt::requested() {
                summary.interrupted = true;
                tasks.abort_all();
                break;
            }
            while pages_in_flight < options.concurrency.max(1) {
                let Some(entry) = frontier.pop() else { break };
                if !robots.allowed(&entry.url) {
                    summary.disallowed += 1;
                    frontier.mark_done(&entry.url);
                    continue;
                }
                pages_in_flight += 1;
                let handle = handle.clone();
                let setup = setup.clone();
                let task = tasks.spawn(fetch_and_scan(handle, setup, entry.clone()));
                task_kinds.insert(task.id(), TaskKind::Page(entry));
            }
            if tasks.is_empty() {
                break;
            }
            // Wake up now and then to notice `stop`.
            let joined =
                tokio::time::timeout(Duration::from_millis(200), tasks.join_next_with_id()).await;
            let Ok(Some(joined)) = joined else { continue };
            // A task that panicked still ends its page: a failed page, or a page whose
            // links have no chain findings. Nothing is lost and no slot leaks.
            let event = match joined {
                Ok((id, event)) => {
                    task_kinds.remove(&id);
                    event
                }
                Err(failure) => match task_kinds.remove(&failure.id()) {
                    Some(TaskKind::Page(entry)) => {
                        let result = internal_error(&entry);
                        Event::Scanned(entry, Box::new(result), None)
                    }
                    Some(TaskKind::Follow(id)) => Event::Followed(id, Vec::new()),
                    None => continue,
                },
            };
            match event {
                Event::Scanned(entry, result, final_url) => {
                    pages_in_flight -= 1;
                    frontier.mark_done(&entry.url);
                    if let Some(final_url) = final_url.and_then(|url| Url::parse(&url).ok()) {
                        frontier.mark_done(&final_url);
                    }
                    for link in &result.page_links {
                        frontier.push_link(&entry, link);
                    }
                    for link in &result.links {
                        if let Some(network) = &link.network {
                            *summary.networks.entry(network.clone()).or_default() += 1;
                        }
                    }
                    let links: Vec<Url> =
                        result.links.iter().map(|link| link.url.clone()).collect();
                    if links.is_empty() {
                        if let Err(error) = hand_over(&entry, &result, &mut summary, on_page) {
                            handled = Err(error);
                            break;
                        }
                    } else {
                        let id = next_id;
                        next_id += 1;
                        for link in &links {
                            seen_links.insert(cache_key(link));
                        }
                        waiting.insert(
                            id,
                            Waiting {
                                entry,
                                result: *result,
                            },
                        );
                        let handle = handle.clone();
                        let task = tasks.spawn(async move {
                            let mut follows = JoinSet::new();
                            let mut chains: Vec<Option<Arc<Chain>>> = vec![None; links.len()];
                            for (index, link) in links.into_iter().enumerate() {
                                let handle = handle.clone();
                                follows.spawn(async move { (index, handle.link(link).await) });
                            }
                            while let Some(joined) = follows.join_next().await {
                                if let Ok((index, chain)) = joined
                                    && let Some(slot) = chains.get_mut(index)
                                {
                                    *slot = Some(chain);
                                }
                            }
                            Event::Followed(id, chains)
                        });
                        task_kinds.insert(task.id(), TaskKind::Follow(id));
                    }
                }
                Event::Followed(id, chains) => {
                    let Some(Waiting { entry, mut result }) = waiting.remove(&id) else {
                        continue;
                    };
                    let scanner =
                        Scanner::new(&setup.library, setup.policy.clone(), setup.options.clone());
                    let by_key: HashMap<String, Arc<Chain>> = result
                        .links
                        .iter()
                        .map(|link| cache_key(&link.url))
                        .zip(chains)
                        .filter_map(|(key, chain)| Some((key, chain?)))
                        .collect();
                    let found = link_findings(&scanner, &result, &by_key);
                    result.findings.extend(found);
                    if let Err(error) = hand_over(&entry, &result, &mut summary, on_page) {
                        handled = Err(error);
                        break;
                    }
                }
            }
            progress.update(summary.pages, frontier.discovered(), summary.failed);
        }
    });
    handled.map_err(AuditAbort::Output)?;
    summary.discovered = frontier.discovered();
    Ok((summary, resumed_findings))
}

/// Why an audit stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum AuditAbort {
    /// It could not start.
    #[error(transparent)]
    Start(#[from] AuditError),
    /// The output could not be written.
    #[error("cannot write the audit's output: {0}")]
    Output(std::io::Error),
}

/// Hands one finished page to the caller and counts it.
fn hand_over(
    entry: &Entry,
    result: &TargetResult,
    summary: &mut AuditSummary,
    on_page: &mut dyn FnMut(PageDone<'_>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    summary.add_page(
        &result.record.target,
        result.record.status,
        &result.findings,
    );
    let discovered = Discovered {
        target: result.record.target.clone(),
        depth: entry.depth,
        urls: result.page_links.iter().map(Url::to_string).collect(),
    };
    on_page(PageDone { result, discovered })
}

/// Fetches a page and scans it on a blocking thread.
async fn fetch_and_scan(handle: FollowHandle, setup: ScanSetup, entry: Entry) -> Event {
    let chain = handle.page(entry.url.clone()).await;
    let name = entry.url.to_string();
    let final_url = chain.final_url().map(str::to_string);
    let scanned = tokio::task::spawn_blocking(move || {
        let scanner = Scanner::new(&setup.library, setup.policy.clone(), setup.options.clone());
        scan_url_target(&scanner, &name, &chain)
    })
    .await;
    let result = match scanned {
        Ok(result) => result,
        Err(_) => internal_error(&entry),
    };
    Event::Scanned(entry, Box::new(result), final_url)
}

/// The failed result of a page whose fetch or scan panicked.
fn internal_error(entry: &Entry) -> TargetResult {
    TargetResult::from_outcome(
        entry.url.to_string(),
        crate::finding::TargetKind::Url,
        Err((
            crate::input::InputProblem::Unreadable("internal error while scanning".into()),
            Vec::new(),
        )),
    )
}

/// The most bytes of one sitemap file fetched: the protocol's limit (a gzip file is
/// smaller still, and [`sitemap::parse`] limits what it decompresses).
const SITEMAP_BODY_CAP: usize = sitemap::MAX_BYTES as usize;

/// How long reading every sitemap may take, all together.
const SITEMAPS_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Reads robots.txt and the sitemaps, seeding the frontier; returns the robots rules
/// to obey.
async fn discover(
    handle: &FollowHandle,
    start: &Url,
    options: &AuditOptions,
    frontier: &mut Frontier,
    summary: &mut AuditSummary,
) -> Robots {
    let fetcher = handle.fetcher();
    let deadline = || Instant::now() + Duration::from_secs(30);
    let mut robots = Robots::allow_all();
    let mut sitemaps: Vec<Url> = Vec::new();
    if let Ok(robots_url) = start.join("/robots.txt") {
        match fetcher.get(&robots_url, deadline(), BodyWanted::Any).await {
            Ok(response) if (200..300).contains(&response.status) => {
                robots = Robots::parse(&robots_url, &response.body);
            }
            Ok(response) if (400..500).contains(&response.status) => {}
            Ok(response) => {
                summary.notes.push(format!(
                    "{robots_url} answered HTTP {}: nothing is allowed (RFC 9309); use --ignore-robots to audit anyway",
                    response.status
                ));
                robots = Robots::disallow_all();
            }
            Err(error) => {
                summary.notes.push(format!(
                    "{robots_url}: {error}; nothing is allowed (RFC 9309); use --ignore-robots to audit anyway"
                ));
                robots = Robots::disallow_all();
            }
        }
        summary.notes.extend(robots.notes().iter().cloned());
        sitemaps.extend(robots.sitemaps().iter().cloned());
        if let (Some(delay), Some(host)) = (robots.crawl_delay(), start.host_str()) {
            fetcher.hosts().slow_down(host, delay);
        }
    }
    if options.ignore_robots {
        robots = Robots::allow_all();
    }
    if sitemaps.is_empty()
        && let Ok(default) = start.join("/sitemap.xml")
    {
        sitemaps.push(default);
    }
    let mut read = 0;
    let mut queue: std::collections::VecDeque<Url> = sitemaps.into();
    let mut seen: HashSet<String> = HashSet::new();
    // Sitemaps are read one after another before the crawl starts: a slow site must not
    // hold it up for `max_sitemaps` times the time limit of one request.
    let sitemaps_until = Instant::now() + SITEMAPS_TIME_LIMIT;
    while let Some(url) = queue.pop_front() {
        if Instant::now() >= sitemaps_until {
            summary.notes.push(format!(
                "sitemaps took more than {} s; the rest were not read (links are still followed)",
                SITEMAPS_TIME_LIMIT.as_secs()
            ));
            break;
        }
        if read >= options.max_sitemaps {
            summary.notes.push(format!(
                "more than {} sitemaps; the rest were not read",
                options.max_sitemaps
            ));
            break;
        }
        if !seen.insert(url.to_string()) || !frontier.scope().same_site(&url) {
            continue;
        }
        read += 1;
        let response = match fetcher
            .get(
                &url,
                deadline().min(sitemaps_until),
                BodyWanted::AnyUpTo(SITEMAP_BODY_CAP),
            )
            .await
        {
            Ok(response) if (200..300).contains(&response.status) => response,
            // No sitemap at the default address is normal.
            Ok(_) | Err(_) => continue,
        };
        if let Some(why) = &response.truncated {
            summary.notes.push(format!(
                "sitemap {url}: {why}; the entries after the cut were not read"
            ));
        }
        match sitemap::parse(&url, &response.body, sitemap::Limits::default()) {
            Ok(parsed) => {
                summary.notes.extend(parsed.notes);
                match parsed.sitemap {
                    Sitemap::Index(children) => queue.extend(children),
                    Sitemap::Urls(pages) => {
                        for page in pages {
                            frontier.push(&page, 0, None);
                        }
                    }
                }
            }
            Err(error) => summary.notes.push(error.to_string()),
        }
    }
    robots
}
