//! robots.txt: may `promoscan` fetch this URL, how long to wait between requests, and
//! which sitemaps the site lists.
//!
//! Not for fetching robots.txt or deciding what an HTTP status means; the caller picks
//! the constructor (RFC 9309 §2.3.1): a 2xx body goes to [`Robots::parse`], a 4xx means
//! "no rules" ([`Robots::allow_all`]), and a 5xx or an unreachable server means "crawl
//! nothing for now" ([`Robots::disallow_all`]).
//!
//! Parsing uses the `texting_robots` crate. It was chosen over `robotstxt` (the port of
//! Google's C++ parser): `texting_robots` is tested against robots.txt files from
//! millions of real sites and has a fuzz suite, works on bytes (so a file that is not
//! UTF-8 is still read), and reads `Crawl-delay` and `Sitemap` lines itself; `robotstxt`
//! exposes neither (a callback handler would have to collect them) and has an open,
//! unfixed panic on non-ASCII input (slicing inside a UTF-8 character), which a crawler
//! of other people's sites cannot afford.
//!
//! Hostile input: a body over [`MAX_ROBOTS_BYTES`] is cut at the last line break before
//! the limit (the rest is ignored, as Google does past 500 KiB), and a body the parser
//! rejects means allow-all, with a note: a broken robots.txt expresses no rule we could
//! honour. A `Crawl-delay` is capped at [`MAX_CRAWL_DELAY`].

use std::time::Duration;

use texting_robots::Robot;
use url::Url;

/// The product token promoscan looks for in `User-agent` lines.
pub const USER_AGENT_TOKEN: &str = "promoscan";

/// The most of a robots.txt body that is read (512 KiB); the rest is ignored.
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// The longest crawl delay honoured: a site asking for more gets this.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

/// The rules of one site's robots.txt for `promoscan`.
#[derive(Debug)]
pub struct Robots {
    /// What decides each URL.
    rules: Rules,
    /// `Crawl-delay`, capped.
    crawl_delay: Option<Duration>,
    /// `Sitemap` lines that are absolute `http(s)` URLs (or relative to robots.txt).
    sitemaps: Vec<Url>,
    /// What the caller should tell the user about this file (truncation, parse failure).
    notes: Vec<String>,
}

/// What decides whether a URL may be fetched.
#[derive(Debug)]
enum Rules {
    /// Everything may be fetched.
    AllowAll,
    /// Nothing may be fetched.
    DisallowAll,
    /// The parsed file decides.
    Parsed(Box<Robot>),
}

impl Robots {
    /// Parses a robots.txt body fetched from `robots_url` (used to resolve relative
    /// `Sitemap` lines and to name the file in notes). Never fails: see the module
    /// documentation for oversized and unparsable bodies.
    pub fn parse(robots_url: &Url, body: &[u8]) -> Robots {
        let mut notes = Vec::new();
        let body = if body.len() > MAX_ROBOTS_BYTES {
            notes.push(format!(
                "{robots_url}: larger than {MAX_ROBOTS_BYTES} bytes; only the first {MAX_ROBOTS_BYTES} were read"
            ));
            cut_at_line_break(&body[..MAX_ROBOTS_BYTES])
        } else {
            body
        };
        let robot = match Robot::new(USER_AGENT_TOKEN, body) {
            Ok(robot) => robot,
            Err(error) => {
                // The parser's message quotes the offending rule, which may be huge.
                let reason: String = format!("{error:#}").chars().take(200).collect();
                notes.push(format!(
                    "{robots_url}: could not be parsed ({reason}...); every URL is allowed"
                ));
                return Robots {
                    rules: Rules::AllowAll,
                    crawl_delay: None,
                    sitemaps: Vec::new(),
                    notes,
                };
            }
        };
        let crawl_delay = robot.delay.and_then(capped_delay);
        if let Some(seconds) = robot.delay
            && crawl_delay == Some(MAX_CRAWL_DELAY)
            && seconds > MAX_CRAWL_DELAY.as_secs_f32()
        {
            notes.push(format!(
                "{robots_url}: Crawl-delay of {seconds} s capped at {} s",
                MAX_CRAWL_DELAY.as_secs()
            ));
        }
        let sitemaps = robot
            .sitemaps
            .iter()
            .filter_map(|text| robots_url.join(text.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .collect();
        Robots {
            rules: Rules::Parsed(Box::new(robot)),
            crawl_delay,
            sitemaps,
            notes,
        }
    }

    /// No rules: every URL may be fetched (robots.txt missing, or a 4xx).
    pub fn allow_all() -> Robots {
        Robots {
            rules: Rules::AllowAll,
            crawl_delay: None,
            sitemaps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Nothing may be fetched (robots.txt answered 5xx or could not be reached).
    pub fn disallow_all() -> Robots {
        Robots {
            rules: Rules::DisallowAll,
            crawl_delay: None,
            sitemaps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// True when `promoscan` may fetch `url` (its path and query are matched; the
    /// caller makes sure the URL is on the host this robots.txt came from).
    pub fn allowed(&self, url: &Url) -> bool {
        match &self.rules {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }

    /// The `Crawl-delay` for `promoscan` (or `*`), capped at [`MAX_CRAWL_DELAY`].
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }

    /// The sitemaps the file lists (for every user agent), as absolute `http(s)` URLs.
    pub fn sitemaps(&self) -> &[Url] {
        &self.sitemaps
    }

    /// Notes for the user: the file was truncated, could not be parsed, or asked for a
    /// crawl delay over the cap.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// A `Crawl-delay` in seconds as a duration capped at [`MAX_CRAWL_DELAY`]; `None` for a
/// negative or not-a-number value.
fn capped_delay(seconds: f32) -> Option<Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    if seconds >= MAX_CRAWL_DELAY.as_secs_f32() {
        return Some(MAX_CRAWL_DELAY);
    }
    Duration::try_from_secs_f32(seconds).ok()
}

/// The bytes up to and including the last line break, or all of them when there is none.
fn cut_at_line_break(bytes: &[u8]) -> &[u8] {
    match bytes.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &bytes[..=end],
        None => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robots_url() -> Url {
        Url::parse("https://shop.example/robots.txt").expect("valid")
    }

    fn url(path: &str) -> Url {
        robots_url().join(path).expect("valid path")
    }

    fn parse(text: &str) -> Robots {
        Robots::parse(&robots_url(), text.as_bytes())
    }

    #[test]
    fn our_group_wins_over_the_star_group() {
        let robots =
            parse("User-agent: *\nDisallow: /\n\nUser-agent: promoscan\nDisallow: /private/\n");
        assert!(robots.allowed(&url("/deals")));
        assert!(!robots.allowed(&url("/private/x")));
    }

    #[test]
    fn user_agent_match_ignores_case() {
        let robots = parse("User-agent: PromoScan\nDisallow: /x\n");
        assert!(!robots.allowed(&url("/x")));
    }

    #[test]
    fn star_group_applies_when_we_are_not_named() {
        let robots =
            parse("User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /cart\n");
        assert!(robots.allowed(&url("/deals")));
        assert!(!robots.allowed(&url("/cart?item=1")));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let robots = parse("User-agent: *\nDisallow: /blog/\nAllow: /blog/public\n");
        assert!(!robots.allowed(&url("/blog/secret")));
        assert!(robots.allowed(&url("/blog/public/post")));
    }

    #[test]
    fn wildcards_and_end_anchors() {
        let robots = parse("User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?sessionid=\n");
        assert!(!robots.allowed(&url("/files/a.pdf")));
        assert!(robots.allowed(&url("/files/a.pdf.html")));
        assert!(!robots.allowed(&url("/p?sessionid=1")));
    }

    #[test]
    fn query_is_part_of_the_match() {
        let robots = parse("User-agent: *\nDisallow: /search?\n");
        assert!(!robots.allowed(&url("/search?q=x")));
        assert!(robots.allowed(&url("/search")));
    }

    #[test]
    fn empty_file_allows_everything() {
        let robots = parse("");
        assert!(robots.allowed(&url("/anything")));
        assert_eq!(robots.crawl_delay(), None);
        assert!(robots.sitemaps().is_empty());
        assert!(robots.notes().is_empty());
    }

    #[test]
    fn crawl_delay_of_our_group() {
        let robots = parse("User-agent: promoscan\nCrawl-delay: 2.5\nDisallow:\n");
        assert_eq!(robots.crawl_delay(), Some(Duration::from_millis(2500)));
    }

    #[test]
    fn huge_crawl_delay_is_capped_with_a_note() {
        let robots = parse("User-agent: *\nCrawl-delay: 86400\n");
        assert_eq!(robots.crawl_delay(), Some(MAX_CRAWL_DELAY));
        assert!(robots.notes()[0].contains("capped"), "{:?}", robots.notes());
    }

    #[test]
    fn odd_crawl_delay_values_never_panic() {
        assert_eq!(capped_delay(1e30), Some(MAX_CRAWL_DELAY));
        assert_eq!(capped_delay(f32::INFINITY), Some(MAX_CRAWL_DELAY));
        assert_eq!(capped_delay(f32::NAN), None);
        assert_eq!(capped_delay(-1.0), None);
        assert_eq!(capped_delay(0.0), Some(Duration::ZERO));
    }

    #[test]
    fn sitemaps_are_listed_for_every_agent_and_resolved() {
        let robots = parse(
            "Sitemap: https://shop.example/sitemap.xml\nUser-agent: googlebot\nDisallow: /\nSitemap: /news.xml.gz\nSitemap: ftp://shop.example/x.xml\n",
        );
        let sitemaps: Vec<&str> = robots.sitemaps().iter().map(Url::as_str).collect();
        assert_eq!(
            sitemaps,
            [
                "https://shop.example/sitemap.xml",
                "https://shop.example/news.xml.gz"
            ]
        );
    }

    #[test]
    fn robots_txt_itself_is_always_allowed() {
        let robots = parse("User-agent: *\nDisallow: /\n");
        assert!(!robots.allowed(&url("/")));
        assert!(robots.allowed(&url("/robots.txt")));
    }

    #[test]
    fn oversized_file_is_cut_at_a_line_break_with_a_note() {
        let mut body = String::from("User-agent: *\nDisallow: /early\n");
        while body.len() < MAX_ROBOTS_BYTES - 10 {
            body.push_str("# filler comment line\n");
        }
        // This rule straddles the limit: it must be dropped whole, not cut to `/`.
        body.push_str("Disallow: /late-rule-past-the-limit\n");
        let robots = Robots::parse(&robots_url(), body.as_bytes());
        assert!(!robots.allowed(&url("/early")));
        assert!(robots.allowed(&url("/late-rule-past-the-limit")));
        assert!(robots.allowed(&url("/other")));
        assert!(
            robots.notes()[0].contains("larger than"),
            "{:?}",
            robots.notes()
        );
    }

    #[test]
    fn binary_and_non_utf8_garbage_does_not_panic() {
        let mut body: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
        body.extend_from_slice(b"\nUser-agent: *\nDisallow: /caf\xe9\n\xff\xfe\x00Disallow: /x\n");
        let robots = Robots::parse(&robots_url(), &body);
        // Whatever the parser made of it, asking is safe.
        let _ = robots.allowed(&url("/x"));
        let _ = robots.allowed(&url("/café"));
    }

    #[test]
    fn unparsable_file_allows_everything_with_a_short_note() {
        // A wildcard rule whose regex is too large to compile makes the parser fail.
        let mut body = String::from("User-agent: *\nDisallow: /private\nDisallow: /");
        body.push_str(&"a*".repeat(10_000));
        body.push_str("$\n");
        let robots = parse(&body);
        assert!(robots.allowed(&url("/private")));
        assert_eq!(robots.notes().len(), 1);
        assert!(
            robots.notes()[0].contains("every URL is allowed"),
            "{:?}",
            robots.notes()
        );
        assert!(robots.notes()[0].len() < 400, "the note stays short");
    }

    #[test]
    fn allow_all_and_disallow_all() {
        assert!(Robots::allow_all().allowed(&url("/x")));
        assert!(!Robots::disallow_all().allowed(&url("/x")));
    }
}
