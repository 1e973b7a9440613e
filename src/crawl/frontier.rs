//! The frontier: which pages an audit still has to visit, in discovery order.
//!
//! A FIFO queue of [`Entry`]s (normalised URL, depth, referrer) and a seen-set of URL
//! keys ([`super::normalize::key`]) are the only things that grow with the site, and both
//! are bounded by [`Limits::max_pages`]. Breadth-first order means pages near the start
//! are visited first, so `--max-pages` keeps the most prominent ones.
//!
//! Not for fetching, politeness or robots.txt: the crawler pops an entry, asks robots
//! and the fetcher, and calls [`Frontier::mark_done`] whatever the outcome.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};

use url::Url;

use super::normalize::{key, normalize};
use super::scope::{Scope, Verdict};

/// How far an audit may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest link distance from the start URL visited (the start is depth 0).
    pub max_depth: u32,
    /// Most distinct pages discovered (queued, in flight or done, resumed ones included).
    pub max_pages: usize,
}

/// A page to visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The page, normalised.
    pub url: Url,
    /// Links followed from the start URL to reach it (0 for seeds).
    pub depth: u32,
    /// The page that linked to it (`None` for seeds and sitemap entries).
    pub referrer: Option<Url>,
}

/// What [`Frontier::push`] did with a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Added to the queue.
    Queued,
    /// Already discovered (queued, in flight or done).
    Seen,
    /// Out of scope, with the reason.
    OutOfScope(Verdict),
    /// Deeper than [`Limits::max_depth`].
    TooDeep,
    /// [`Limits::max_pages`] pages are already discovered.
    Full,
}

/// Where a discovered page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Queued or in flight.
    Pending,
    /// Visited (or failed), or done in a previous run.
    Done,
}

/// The queue of pages to visit and the set of pages discovered.
#[derive(Debug)]
pub struct Frontier {
    /// What may be visited.
    scope: Scope,
    /// Depth and page limits.
    limits: Limits,
    /// Pages to visit, oldest first.
    queue: VecDeque<Entry>,
    /// Every page discovered, by normalised key.
    seen: HashMap<String, State>,
    /// How many of `seen` are done.
    done: usize,
}

impl Frontier {
    /// An empty frontier.
    pub fn new(scope: Scope, limits: Limits) -> Frontier {
        Frontier {
            scope,
            limits,
            queue: VecDeque::new(),
            seen: HashMap::new(),
            done: 0,
        }
    }

    /// Queues `url` (normalised) unless it was seen, is out of scope, is deeper than the
    /// limit, or the page limit is reached; says which.
    pub fn push(&mut self, url: &Url, depth: u32, referrer: Option<&Url>) -> Pushed {
        let url = normalize(url);
        let verdict = self.scope.check(&url);
        if verdict != Verdict::InScope {
            return Pushed::OutOfScope(verdict);
        }
        if depth > self.limits.max_depth {
            return Pushed::TooDeep;
        }
        let full = self.seen.len() >= self.limits.max_pages;
        match self.seen.entry(url.to_string()) {
            MapEntry::Occupied(_) => Pushed::Seen,
            MapEntry::Vacant(_) if full => Pushed::Full,
            MapEntry::Vacant(slot) => {
                slot.insert(State::Pending);
                self.queue.push_back(Entry {
                    url,
                    depth,
                    referrer: referrer.cloned(),
                });
                Pushed::Queued
            }
        }
    }

    /// Queues a link found on `page`: one level deeper, with `page` as referrer.
    pub fn push_link(&mut self, page: &Entry, link: &Url) -> Pushed {
        self.push(link, page.depth.saturating_add(1), Some(&page.url))
    }

    /// The next page to visit.
    pub fn pop(&mut self) -> Option<Entry> {
        self.queue.pop_front()
    }

    /// Records that `url` was visited (or failed). A URL not discovered before (the end
    /// of a redirect, say) is recorded too, so it is not visited again. Returns false
    /// when it was already done.
    pub fn mark_done(&mut self, url: &Url) -> bool {
        let state = self.seen.entry(key(url)).or_insert(State::Pending);
        if *state == State::Done {
            return false;
        }
        *state = State::Done;
        self.done += 1;
        true
    }

    /// Marks pages done in a previous run (`--resume`) without visiting them. They count
    /// toward [`Limits::max_pages`]. Their links are not discovered, since they are not
    /// fetched: pages reachable only through them are found only if also linked from
    /// elsewhere (or listed in a sitemap).
    pub fn seed_done<'a>(&mut self, urls: impl IntoIterator<Item = &'a Url>) {
        for url in urls {
            self.mark_done(url);
        }
    }

    /// True when `url` was discovered (queued, in flight or done).
    pub fn is_seen(&self, url: &Url) -> bool {
        self.seen.contains_key(&key(url))
    }

    /// Pages discovered so far (queued, in flight and done).
    pub fn discovered(&self) -> usize {
        self.seen.len()
    }

    /// Pages done.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Pages waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The scope the frontier checks.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URLs are valid")
    }

    fn frontier(max_depth: u32, max_pages: usize) -> Frontier {
        let scope = Scope::new(
            &url("https://shop.example/"),
            &[],
            &["/private/**".to_string()],
        )
        .expect("valid scope");
        Frontier::new(
            scope,
            Limits {
                max_depth,
                max_pages,
            },
        )
    }

    #[test]
    fn pages_come_out_in_discovery_order() {
        let mut frontier = frontier(5, 100);
        let start = url("https://shop.example/");
        assert_eq!(frontier.push(&start, 0, None), Pushed::Queued);
        let page = frontier.pop().expect("the start");
        assert_eq!(page.depth, 0);
        assert_eq!(page.referrer, None);
        frontier.push_link(&page, &url("https://shop.example/a"));
        frontier.push_link(&page, &url("https://shop.example/b"));
        let a = frontier.pop().expect("a");
        assert_eq!(a.url.as_str(), "https://shop.example/a");
        assert_eq!(a.depth, 1);
        assert_eq!(a.referrer.as_ref(), Some(&start));
        assert_eq!(
            frontier.pop().expect("b").url.as_str(),
            "https://shop.example/b"
        );
        assert_eq!(frontier.pop(), None);
    }

    #[test]
    fn seen_urls_are_ignored_after_normalisation() {
        let mut frontier = frontier(5, 100);
        assert_eq!(
            frontier.push(&url("https://shop.example/a#top"), 0, None),
            Pushed::Queued
        );
        assert_eq!(
            frontier.push(&url("HTTPS://SHOP.example:443/%61"), 1, None),
            Pushed::Seen
        );
        assert_eq!(frontier.queued(), 1);
        let entry = frontier.pop().expect("queued");
        assert_eq!(entry.url.as_str(), "https://shop.example/a");
        // Still seen while in flight and after it is done.
        assert_eq!(
            frontier.push(&url("https://shop.example/a"), 1, None),
            Pushed::Seen
        );
        frontier.mark_done(&entry.url);
        assert_eq!(
            frontier.push(&url("https://shop.example/a"), 1, None),
            Pushed::Seen
        );
    }

    #[test]
    fn out_of_scope_urls_are_refused_with_the_reason() {
        let mut frontier = frontier(5, 100);
        assert_eq!(
            frontier.push(&url("https://other.example/"), 0, None),
            Pushed::OutOfScope(Verdict::OtherSite)
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/private/x"), 0, None),
            Pushed::OutOfScope(Verdict::Excluded("/private/**".to_string()))
        );
        assert_eq!(
            frontier.push(&url("mailto:x@shop.example"), 0, None),
            Pushed::OutOfScope(Verdict::NotHttp("mailto".to_string()))
        );
        assert_eq!(frontier.discovered(), 0, "refused URLs are not remembered");
    }

    #[test]
    fn too_deep_urls_are_refused() {
        let mut frontier = frontier(1, 100);
        assert_eq!(
            frontier.push(&url("https://shop.example/"), 0, None),
            Pushed::Queued
        );
        let start = frontier.pop().expect("start");
        assert_eq!(
            frontier.push_link(&start, &url("https://shop.example/1")),
            Pushed::Queued
        );
        let one = frontier.pop().expect("depth 1");
        assert_eq!(
            frontier.push_link(&one, &url("https://shop.example/2")),
            Pushed::TooDeep
        );
        // A page refused as too deep may still be queued later at a shallower depth.
        assert_eq!(
            frontier.push_link(&start, &url("https://shop.example/2")),
            Pushed::Queued
        );
    }

    #[test]
    fn discovery_stops_at_max_pages() {
        let mut frontier = frontier(5, 2);
        assert_eq!(
            frontier.push(&url("https://shop.example/1"), 0, None),
            Pushed::Queued
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/2"), 0, None),
            Pushed::Queued
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/3"), 0, None),
            Pushed::Full
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/1"), 0, None),
            Pushed::Seen
        );
        assert_eq!(frontier.discovered(), 2);
    }

    #[test]
    fn counts_discovered_and_done() {
        let mut frontier = frontier(5, 100);
        frontier.push(&url("https://shop.example/1"), 0, None);
        frontier.push(&url("https://shop.example/2"), 0, None);
        let first = frontier.pop().expect("queued");
        assert!(frontier.mark_done(&first.url));
        assert!(!frontier.mark_done(&first.url), "done once");
        assert_eq!(
            (frontier.discovered(), frontier.done(), frontier.queued()),
            (2, 1, 1)
        );
    }

    #[test]
    fn redirect_targets_marked_done_are_not_visited_again() {
        let mut frontier = frontier(5, 100);
        assert!(frontier.mark_done(&url("https://shop.example/final")));
        assert!(frontier.is_seen(&url("https://shop.example/final#x")));
        assert_eq!(
            frontier.push(&url("https://shop.example/final"), 1, None),
            Pushed::Seen
        );
        assert_eq!((frontier.discovered(), frontier.done()), (1, 1));
    }

    #[test]
    fn resumed_pages_are_done_without_a_visit() {
        let mut frontier = frontier(5, 3);
        let resumed = [url("https://shop.example/"), url("https://shop.example/a")];
        frontier.seed_done(&resumed);
        assert_eq!(
            (frontier.discovered(), frontier.done(), frontier.queued()),
            (2, 2, 0)
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/"), 0, None),
            Pushed::Seen
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/b"), 1, None),
            Pushed::Queued
        );
        assert_eq!(
            frontier.push(&url("https://shop.example/c"), 1, None),
            Pushed::Full,
            "resumed pages count toward max_pages"
        );
    }
}
