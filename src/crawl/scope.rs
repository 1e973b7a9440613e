//! What an audit may visit: pages of the site it started on, narrowed by `--include` and
//! `--exclude` patterns, skipping addresses that are not web pages.
//!
//! Not for robots.txt ([`super::robots`]), depth and page limits ([`super::frontier`]),
//! or the private-address guard (the fetcher's): a URL in scope may still not be fetched.
//!
//! - Same site: the URL's registrable domain (public suffix list) equals the start URL's,
//!   so `www.shop.example` and `blog.shop.example` are one site, `http` and `https`
//!   alike. A host without a registrable domain (an IP address, `localhost`) is its own
//!   site, port included, so two test servers on loopback are two sites.
//! - Patterns: a glob (`globset` syntax) or, written `re:...`, a regular expression
//!   (`regex` syntax, unanchored). A glob with a `/` is matched against the URL path
//!   (`/blog/**`; `*` stays within one segment, `**` crosses them); a glob without one
//!   against the last path segment (`*.pdf`), as in `.gitignore`. A regex is matched
//!   against the path and query (`/search?q=x`). Paths are matched as they appear in the
//!   URL (percent-encoded).
//! - A URL is in scope when it matches some `--include` pattern (or none are given) and no
//!   `--exclude` pattern; an exclude wins.
//! - Not pages: schemes other than `http`/`https` (`mailto:`, `javascript:`, `tel:`,
//!   `data:`...) and paths ending in a known non-HTML extension ([`NON_PAGE_EXTENSIONS`]).

use std::fmt;

use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;
use url::{Host, Url};

use crate::networks::registrable_domain;

/// Path extensions of files that are not HTML pages (compared without case).
pub const NON_PAGE_EXTENSIONS: &[&str] = &[
    // images
    "jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "heic",
    // documents and data
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "csv", "json", "xml", "rss",
    "atom", "txt", // archives and programs
    "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "exe", "msi", "dmg", "apk", "iso",
    "bin", // audio and video
    "mp3", "m4a", "wav", "ogg", "flac", "aac", "mp4", "m4v", "webm", "avi", "mov", "mkv",
    // page assets
    "css", "js", "mjs", "map", "woff", "woff2", "ttf", "otf", "eot",
];

/// A bad `--include` / `--exclude` pattern.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// The glob does not parse.
    #[error("pattern '{pattern}' is not a valid glob: {message}")]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// The regular expression (after `re:`) does not compile.
    #[error("pattern '{pattern}' is not a valid regular expression: {message}")]
    Regex {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// The start URL is not an `http(s)` URL with a host.
    #[error("'{url}' cannot start an audit: it is not an http(s) URL with a host")]
    Start {
        /// The URL.
        url: String,
    },
}

/// One `--include` / `--exclude` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as the user wrote it.
    text: String,
    /// How it matches.
    matcher: Matcher,
}

/// The compiled form of a [`Pattern`].
#[derive(Debug, Clone)]
enum Matcher {
    /// A glob matched against the whole path.
    Path(GlobMatcher),
    /// A glob matched against the last path segment.
    FileName(GlobMatcher),
    /// A regex matched against path and query.
    Regex(Regex),
}

impl Pattern {
    /// Compiles a pattern: `re:` then a regex, or a glob.
    pub fn parse(text: &str) -> Result<Pattern, ScopeError> {
        let matcher = if let Some(expression) = text.strip_prefix("re:") {
            Matcher::Regex(Regex::new(expression).map_err(|error| ScopeError::Regex {
                pattern: text.to_string(),
                message: error.to_string(),
            })?)
        } else {
            let glob = |builder: &mut GlobBuilder<'_>| {
                builder
                    .literal_separator(true)
                    .build()
                    .map(|glob: Glob| glob.compile_matcher())
                    .map_err(|error| ScopeError::Glob {
                        pattern: text.to_string(),
                        message: error.kind().to_string(),
                    })
            };
            if text.contains('/') {
                Matcher::Path(glob(&mut GlobBuilder::new(text))?)
            } else {
                Matcher::FileName(glob(&mut GlobBuilder::new(text))?)
            }
        };
        Ok(Pattern {
            text: text.to_string(),
            matcher,
        })
    }

    /// True when the pattern matches `url`.
    pub fn matches(&self, url: &Url) -> bool {
        match &self.matcher {
            Matcher::Path(glob) => glob.is_match(url.path()),
            Matcher::FileName(glob) => glob.is_match(last_segment(url)),
            Matcher::Regex(regex) => {
                let target = match url.query() {
                    Some(query) => format!("{}?{query}", url.path()),
                    None => url.path().to_string(),
                };
                regex.is_match(&target)
            }
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

/// Why a URL is in scope or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The audit may visit it.
    InScope,
    /// Not an `http(s)` URL (`mailto:`, `javascript:`, `tel:`, `data:`...): the scheme.
    NotHttp(String),
    /// A file that is not a page (`.pdf`, `.jpg`...): the extension, lower case.
    NotAPage(String),
    /// Another site.
    OtherSite,
    /// Matches this `--exclude` pattern.
    Excluded(String),
    /// Matches no `--include` pattern.
    NotIncluded,
}

/// The site an audit covers and its patterns.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The start URL's site.
    site: Site,
    /// `--include` patterns (empty: everything on the site).
    include: Vec<Pattern>,
    /// `--exclude` patterns.
    exclude: Vec<Pattern>,
}

/// What "the same site" means for one start URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Site {
    /// Hosts with this registrable domain.
    Registrable(String),
    /// Exactly this host and port (IP addresses, `localhost`, other single-label hosts).
    Origin(String, Option<u16>),
}

impl Site {
    /// The site of a URL, `None` when it has no host.
    fn of(url: &Url) -> Option<Site> {
        let host = url.host()?;
        if let Host::Domain(domain) = &host
            && let Some(registrable) = registrable_domain(domain)
        {
            return Some(Site::Registrable(registrable));
        }
        let host = match host {
            Host::Domain(domain) => domain.trim_end_matches('.').to_ascii_lowercase(),
            other => other.to_string(),
        };
        Some(Site::Origin(host, url.port_or_known_default()))
    }
}

impl Scope {
    /// The scope of an audit starting at `start`, with `--include` and `--exclude`
    /// patterns as the user wrote them.
    pub fn new(start: &Url, include: &[String], exclude: &[String]) -> Result<Scope, ScopeError> {
        let not_a_start = || ScopeError::Start {
            url: start.to_string(),
        };
        if !matches!(start.scheme(), "http" | "https") {
            return Err(not_a_start());
        }
        let site = Site::of(start).ok_or_else(not_a_start)?;
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|text| Pattern::parse(text))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Scope {
            site,
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    /// Decides one URL, giving the first reason it is out of scope.
    pub fn check(&self, url: &Url) -> Verdict {
        if !matches!(url.scheme(), "http" | "https") {
            return Verdict::NotHttp(url.scheme().to_string());
        }
        if Site::of(url).as_ref() != Some(&self.site) {
            return Verdict::OtherSite;
        }
        if let Some(extension) = non_page_extension(url) {
            return Verdict::NotAPage(extension);
        }
        if let Some(pattern) = self.exclude.iter().find(|pattern| pattern.matches(url)) {
            return Verdict::Excluded(pattern.text.clone());
        }
        if !self.include.is_empty() && !self.include.iter().any(|pattern| pattern.matches(url)) {
            return Verdict::NotIncluded;
        }
        Verdict::InScope
    }

    /// True when the audit may visit `url`.
    pub fn allows(&self, url: &Url) -> bool {
        self.check(url) == Verdict::InScope
    }

    /// True when `url` is on the audited site (patterns and page-ness aside): the test
    /// for "internal link".
    pub fn same_site(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") && Site::of(url).as_ref() == Some(&self.site)
    }
}

/// The last segment of the URL's path (`""` for a path ending in `/`).
fn last_segment(url: &Url) -> &str {
    url.path().rsplit('/').next().unwrap_or("")
}

/// The lower-case extension of the last path segment when it is a known non-page one.
fn non_page_extension(url: &Url) -> Option<String> {
    let (_, extension) = last_segment(url).rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    NON_PAGE_EXTENSIONS
        .contains(&extension.as_str())
        .then_some(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URLs are valid")
    }

    fn scope(include: &[&str], exclude: &[&str]) -> Scope {
        let owned = |patterns: &[&str]| patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        Scope::new(
            &url("https://www.shop.example/"),
            &owned(include),
            &owned(exclude),
        )
        .expect("valid scope")
    }

    #[test]
    fn same_registrable_domain_is_the_same_site() {
        let scope = scope(&[], &[]);
        assert!(scope.allows(&url("https://www.shop.example/deals")));
        assert!(scope.allows(&url("https://blog.shop.example/post")));
        assert!(scope.allows(&url("http://shop.example/")));
        assert!(scope.allows(&url("https://SHOP.example./x")));
        assert_eq!(
            scope.check(&url("https://shop.example.net/")),
            Verdict::OtherSite
        );
        assert_eq!(
            scope.check(&url("https://s.click.aliexpress.com/e/_x")),
            Verdict::OtherSite
        );
    }

    #[test]
    fn public_suffix_hosts_are_separate_sites() {
        let scope = Scope::new(&url("https://alice.github.io/"), &[], &[]).expect("valid");
        assert!(scope.allows(&url("https://alice.github.io/post")));
        assert_eq!(
            scope.check(&url("https://bob.github.io/")),
            Verdict::OtherSite
        );
    }

    #[test]
    fn ip_and_localhost_sites_are_host_and_port() {
        let scope = Scope::new(&url("http://127.0.0.1:8080/"), &[], &[]).expect("valid");
        assert!(scope.allows(&url("http://127.0.0.1:8080/page")));
        assert_eq!(
            scope.check(&url("http://127.0.0.1:9090/page")),
            Verdict::OtherSite
        );
        assert_eq!(
            scope.check(&url("http://127.0.0.2:8080/page")),
            Verdict::OtherSite
        );
        let scope = Scope::new(&url("http://localhost:3000/"), &[], &[]).expect("valid");
        assert!(scope.allows(&url("http://LOCALHOST:3000/a")));
        assert!(!scope.allows(&url("http://localhost:3001/a")));
    }

    #[test]
    fn non_http_schemes_are_not_visited() {
        let scope = scope(&[], &[]);
        for (text, scheme) in [
            ("mailto:deals@shop.example", "mailto"),
            ("javascript:void(0)", "javascript"),
            ("tel:+15551234", "tel"),
            ("data:text/html,<p>x</p>", "data"),
            ("ftp://shop.example/file", "ftp"),
        ] {
            assert_eq!(
                scope.check(&url(text)),
                Verdict::NotHttp(scheme.to_string())
            );
        }
    }

    #[test]
    fn binary_files_are_not_pages() {
        let scope = scope(&[], &[]);
        assert_eq!(
            scope.check(&url("https://shop.example/img/Photo.JPG")),
            Verdict::NotAPage("jpg".to_string())
        );
        assert_eq!(
            scope.check(&url("https://shop.example/terms.pdf?v=2")),
            Verdict::NotAPage("pdf".to_string())
        );
        assert!(scope.allows(&url("https://shop.example/page.html")));
        assert!(scope.allows(&url("https://shop.example/index.php?id=1")));
        assert!(scope.allows(&url("https://shop.example/v1.2/")));
        assert!(scope.allows(&url("https://shop.example/no-extension")));
    }

    #[test]
    fn glob_with_a_slash_matches_the_path() {
        let scope = scope(&["/blog/**"], &[]);
        assert!(scope.allows(&url("https://shop.example/blog/2024/post")));
        assert_eq!(
            scope.check(&url("https://shop.example/shop/item")),
            Verdict::NotIncluded
        );
        let one_level = scope_with_include("/blog/*");
        assert!(one_level.allows(&url("https://shop.example/blog/post")));
        assert!(!one_level.allows(&url("https://shop.example/blog/2024/post")));
    }

    fn scope_with_include(pattern: &str) -> Scope {
        scope(&[pattern], &[])
    }

    #[test]
    fn glob_without_a_slash_matches_the_file_name() {
        let scope = scope(&[], &["*.php", "print-*"]);
        assert_eq!(
            scope.check(&url("https://shop.example/deep/dir/cart.php?x=1")),
            Verdict::Excluded("*.php".to_string())
        );
        assert_eq!(
            scope.check(&url("https://shop.example/a/print-page")),
            Verdict::Excluded("print-*".to_string())
        );
        assert!(scope.allows(&url("https://shop.example/php/index")));
    }

    #[test]
    fn regex_matches_path_and_query() {
        let scope = scope(&[], &["re:[?&]page=\\d+", "re:^/tag/"]);
        assert_eq!(
            scope.check(&url("https://shop.example/list?sort=a&page=3")),
            Verdict::Excluded("re:[?&]page=\\d+".to_string())
        );
        assert!(!scope.allows(&url("https://shop.example/tag/phones")));
        assert!(scope.allows(&url("https://shop.example/blog/tag/phones")));
    }

    #[test]
    fn exclude_wins_over_include() {
        let scope = scope(&["/blog/**"], &["/blog/drafts/**"]);
        assert!(scope.allows(&url("https://shop.example/blog/post")));
        assert_eq!(
            scope.check(&url("https://shop.example/blog/drafts/x")),
            Verdict::Excluded("/blog/drafts/**".to_string())
        );
    }

    #[test]
    fn bad_patterns_are_errors_naming_them() {
        let start = url("https://shop.example/");
        let error = Scope::new(&start, &["/blog/[".to_string()], &[]).expect_err("bad glob");
        assert!(error.to_string().contains("'/blog/['"), "{error}");
        let error = Scope::new(&start, &[], &["re:(".to_string()]).expect_err("bad regex");
        assert!(error.to_string().contains("'re:('"), "{error}");
    }

    #[test]
    fn start_must_be_an_http_url() {
        assert!(Scope::new(&url("mailto:x@shop.example"), &[], &[]).is_err());
        assert!(Scope::new(&url("file:///tmp/x.html"), &[], &[]).is_err());
    }

    #[test]
    fn same_site_ignores_patterns_and_extensions() {
        let scope = scope(&["/blog/**"], &[]);
        assert!(scope.same_site(&url("https://shop.example/logo.png")));
        assert!(!scope.same_site(&url("https://other.example/")));
    }
}
