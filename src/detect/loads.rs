//! The page's links and no-click loads, classified once for every detector: which
//! network each address belongs to, whether it is a click URL, a deep link or a
//! shortener, whether the element is hidden, whether the referrer is stripped.
//!
//! Sources of no-click loads: elements that fetch an address (`img`, `iframe`,
//! `script`, `link rel=stylesheet|prefetch|preload|prerender`, `object`, `embed`,
//! `source`...), CSS `url()` in `<style>` blocks and `style` attributes, and scripts
//! that request addresses (`new Image().src`, `fetch`, `sendBeacon`, XHR, injected
//! frames, `document.write`) outside click handlers.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::library::Library;
use crate::networks::{Classification, LinkKind};
use crate::page::visibility::{HiddenReason, Visibility};
use crate::page::{NodeId, Page, ScriptPlace, resolve_address};
use crate::signatures::{ScriptAction, gesture_handler_ranges};

/// A link a reader can click, with its classification.
#[derive(Debug, Clone)]
pub struct ClassifiedLink<'p> {
    /// Index in `page.links`.
    pub index: usize,
    /// The resolved URL (http/https only): the page's own when it resolved the link.
    pub url: Cow<'p, Url>,
    /// What it is.
    pub classification: Classification,
    /// Why the link is hidden, if it is.
    pub hidden: Option<HiddenReason>,
}

impl ClassifiedLink<'_> {
    /// True for affiliate links and shorteners of a known network (they redirect to one).
    pub fn is_affiliate_like(&self) -> bool {
        self.classification.is_affiliate_like()
    }
}

/// How a no-click load happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadVia {
    /// An element attribute (`src`, `srcset`, `href` of `<link>`, `data`...).
    Element {
        /// The attribute.
        attribute: &'static str,
    },
    /// A CSS `url()`.
    CssUrl,
    /// A script (signature id).
    Script {
        /// The signature that matched.
        signature: String,
    },
}

/// An address loaded without a click.
#[derive(Debug, Clone)]
pub struct Load {
    /// The element responsible (the element itself, the `<style>`, or the `<script>`).
    pub node: NodeId,
    /// Its tag name (for scripts: `script`; for injected frames: `iframe`).
    pub element: String,
    /// How.
    pub via: LoadVia,
    /// The address as written.
    pub address: String,
    /// The resolved URL.
    pub url: Url,
    /// What it is.
    pub classification: Classification,
    /// Why the loading element is hidden, if it is.
    pub hidden: Option<HiddenReason>,
    /// True when the load hides the page it came from (`referrerpolicy="no-referrer"`,
    /// `rel="noreferrer"`, or a script writing into an `about:blank`/`data:` frame).
    pub referrer_stripped: bool,
    /// Source line.
    pub line: u32,
}

impl Load {
    /// True for affiliate loads and shorteners of a known network.
    pub fn is_affiliate_like(&self) -> bool {
        self.classification.is_affiliate_like()
    }

    /// True for a generic shortener (the destination is unknown until followed).
    pub fn is_generic_shortener(&self) -> bool {
        self.classification.kind == LinkKind::Shortener && self.classification.network.is_none()
    }
}

/// Classifies every http(s) link of the page.
pub fn classify_links<'p>(
    page: &'p Page,
    library: &Library,
    visibility: &Visibility,
) -> Vec<ClassifiedLink<'p>> {
    page.links
        .iter()
        .enumerate()
        .filter_map(|(index, link)| {
            let url = match &link.url {
                Some(url) => Cow::Borrowed(url),
                None => Cow::Owned(absolute_url(&link.href)?),
            };
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            Some(ClassifiedLink {
                index,
                classification: library.networks.classify(&url),
                hidden: visibility.hidden_reason(link.node),
                url,
            })
        })
        .collect()
}

/// Collects every address the page loads without a click (`script_matches` from
/// [`collect_script_matches`]).
pub fn collect_loads(
    page: &Page,
    library: &Library,
    visibility: &Visibility,
    script_matches: &[ScriptMatch],
) -> Vec<Load> {
    let mut loads = Vec::new();
    // Each address is resolved before anything else is done for it: most resources are
    // relative addresses of a page with no base, which load nothing to report.
    let base = page.base_url.as_ref();
    let mut push = |url: Url,
                    node: NodeId,
                    element: &str,
                    via: LoadVia,
                    address: &str,
                    stripped: bool,
                    line: u32| {
        loads.push(Load {
            node,
            element: element.to_string(),
            via,
            address: address.to_string(),
            classification: library.networks.classify(&url),
            hidden: visibility.hidden_reason(node),
            referrer_stripped: stripped,
            line,
            url,
        });
    };

    for resource in &page.resources {
        let Some(url) = http_load_url(base, &resource.address) else {
            continue;
        };
        let element = page.document.node(resource.node);
        let policy = element
            .attr("referrerpolicy")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let rel_noreferrer = element.attr("rel").is_some_and(|rel| {
            rel.to_ascii_lowercase()
                .split_whitespace()
                .any(|t| t == "noreferrer")
        });
        let stripped = policy == "no-referrer" || rel_noreferrer;
        push(
            url,
            resource.node,
            &resource.element,
            LoadVia::Element {
                attribute: resource.attribute,
            },
            &resource.address,
            stripped,
            resource.line,
        );
    }

    for style in &page.styles {
        let mut lines = LineCounter::new(&style.css, style.line);
        for (address, offset) in css_urls(&style.css) {
            let line = lines.line_at(offset);
            let Some(url) = http_load_url(base, &address) else {
                continue;
            };
            push(
                url,
                style.node,
                if style.inline {
                    element_name(page, style.node)
                } else {
                    "style"
                },
                LoadVia::CssUrl,
                &address,
                false,
                line,
            );
        }
    }

    // Looked up at the first script load that writes into a frame: a walk over every
    // node, which most pages never need.
    let mut blank_frames: Option<bool> = None;
    for found in script_matches {
        if !matches!(
            found.action,
            ScriptAction::Request | ScriptAction::InjectFrame
        ) {
            continue;
        }
        let Some(address) = &found.url else {
            continue;
        };
        let Some(url) = http_load_url(base, address) else {
            continue;
        };
        let script = &page.scripts[found.script];
        let element = if found.action == ScriptAction::InjectFrame || found.creates_frame {
            "iframe"
        } else {
            "script"
        };
        push(
            url,
            script.node,
            element,
            LoadVia::Script {
                signature: library.signatures.all()[found.signature].id.clone(),
            },
            address,
            found.writes_into_frame && *blank_frames.get_or_insert_with(|| has_blank_frame(page)),
            found.line,
        );
    }
    loads
}

/// The http(s) URL an address loads: resolved against the page's base, else read as an
/// absolute address (with no base, both are the same lookup, made once); `None` for
/// other schemes and for addresses that do not resolve.
fn http_load_url(base: Option<&Url>, address: &str) -> Option<Url> {
    let url = match base {
        Some(_) => resolve_address(base, address).or_else(|| absolute_url(address)),
        None => absolute_url(address),
    }?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// True when the page has a frame (`iframe`, `frame`) with no address of its own: no
/// `src`, an empty one, or an `about:` or `data:` one.
fn has_blank_frame(page: &Page) -> bool {
    page.document.nodes().iter().any(|node| {
        matches!(node.element_name(), Some("iframe") | Some("frame"))
            && node.attr("src").is_none_or(|src| {
                let src = src.trim().to_ascii_lowercase();
                src.is_empty() || src.starts_with("about:") || src.starts_with("data:")
            })
    })
}

/// A signature match in a script that runs without a click, outside click handlers:
/// found once per page and shared by the detectors.
#[derive(Debug, Clone)]
pub struct ScriptMatch {
    /// Index in `page.scripts`.
    pub script: usize,
    /// Index in the library's signatures.
    pub signature: usize,
    /// What the code does.
    pub action: ScriptAction,
    /// Byte range of the match in the script's code.
    pub range: std::ops::Range<usize>,
    /// The captured address, JavaScript escapes undone.
    pub url: Option<String>,
    /// Source line of the match.
    pub line: u32,
    /// True when the script creates an iframe (so its `.src` assignments load frames).
    pub creates_frame: bool,
    /// True when the script writes into another frame's document.
    pub writes_into_frame: bool,
}

/// Every signature match in scripts that run without a click, skipping code inside
/// click handlers. Linear in the code: lines and handler ranges are walked once.
pub fn collect_script_matches(page: &Page, library: &Library) -> Vec<ScriptMatch> {
    let mut matches = Vec::new();
    for (index, script) in page.scripts.iter().enumerate() {
        if !runs_without_click(&script.place) {
            continue;
        }
        let code = &script.code;
        let found = library.signatures.find_spans(code);
        // Most scripts match no signature: then nothing below is needed.
        if found.is_empty() {
            continue;
        }
        let gestures = merge_ranges(gesture_handler_ranges(code));
        // Looked up at the first match kept: often every match sits in a click handler.
        let mut frame_use: Option<FrameUse> = None;
        let mut lines = LineCounter::new(code, script.line);
        let mut gesture = 0;
        for found in found {
            let start = found.range.start;
            while gestures
                .get(gesture)
                .is_some_and(|range| range.end <= start)
            {
                gesture += 1;
            }
            if gestures
                .get(gesture)
                .is_some_and(|range| range.contains(&start))
            {
                continue;
            }
            let frames = *frame_use.get_or_insert_with(|| FrameUse::of(code));
            matches.push(ScriptMatch {
                script: index,
                signature: found.signature,
                action: library.signatures.all()[found.signature].action,
                line: lines.line_at(start),
                url: library
                    .signatures
                    .url_of(code, &found)
                    .as_deref()
                    .map(unescape_js),
                range: found.range,
                creates_frame: frames.creates_frame,
                writes_into_frame: frames.writes_into_frame,
            });
        }
    }
    matches
}

/// What a script does with frames, as [`ScriptMatch`] records it.
#[derive(Debug, Clone, Copy)]
struct FrameUse {
    /// The script creates an iframe.
    creates_frame: bool,
    /// The script writes into another frame's document.
    writes_into_frame: bool,
}

impl FrameUse {
    /// What `code` does with frames.
    fn of(code: &str) -> FrameUse {
        FrameUse {
            creates_frame: code.contains("createElement")
                && code.to_ascii_lowercase().contains("iframe"),
            writes_into_frame: code.contains("contentWindow") || code.contains("contentDocument"),
        }
    }
}

/// Sorted, non-overlapping ranges covering the same bytes.
fn merge_ranges(mut ranges: Vec<std::ops::Range<usize>>) -> Vec<std::ops::Range<usize>> {
    ranges.sort_by_key(|range| range.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Source lines of ascending offsets in a text that starts on a known line, counted
/// incrementally (asking for offsets in order costs one pass over the text).
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str, first_line: u32) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: first_line,
        }
    }

    /// The line of `offset`; offsets must not decrease between calls.
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len()).max(self.offset);
        let newlines = self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        self.line = self
            .line
            .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.offset = offset;
        self.line
    }
}

/// True when code in this place runs without the reader clicking: inline scripts,
/// non-gesture event handlers (`onload`, `onerror`, `onmouseover`...), and
/// `javascript:` URLs in attributes that load by themselves (`iframe src`).
pub fn runs_without_click(place: &ScriptPlace) -> bool {
    match place {
        ScriptPlace::Inline => true,
        ScriptPlace::EventHandler(event) => !is_gesture_event(event),
        ScriptPlace::JavascriptUrl { element, attribute } => {
            attribute == "src" && matches!(element.as_str(), "iframe" | "frame" | "embed" | "img")
        }
    }
}

/// Events only a reader's deliberate action fires.
pub fn is_gesture_event(event: &str) -> bool {
    matches!(
        event,
        "click"
            | "dblclick"
            | "auxclick"
            | "mousedown"
            | "mouseup"
            | "pointerdown"
            | "pointerup"
            | "touchstart"
            | "touchend"
            | "submit"
            | "keydown"
            | "keyup"
            | "keypress"
            | "contextmenu"
            | "change"
            | "input"
    )
}

/// An absolute URL from an address with no base (protocol-relative taken as https).
fn absolute_url(address: &str) -> Option<Url> {
    resolve_address(None, address)
}

fn element_name(page: &Page, node: NodeId) -> &str {
    page.document.node(node).element_name().unwrap_or("element")
}

/// Every `url(...)` in CSS (comments removed), with its byte offset.
pub fn css_urls(css: &str) -> Vec<(String, usize)> {
    static URL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)"#)
            .expect("valid CSS url regex")
    });
    static COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)/\*.*?\*/").expect("valid comment regex"));
    // Replace comments by spaces of the same length so offsets stay right.
    let without_comments = COMMENT.replace_all(css, |captures: &regex::Captures<'_>| {
        " ".repeat(captures[0].len())
    });
    URL.captures_iter(&without_comments)
        .filter_map(|captures| {
            let value = captures
                .get(1)
                .or_else(|| captures.get(2))
                .or_else(|| captures.get(3))?;
            let whole = captures.get(0)?;
            Some((value.as_str().trim().to_string(), whole.start()))
        })
        .filter(|(address, _)| !address.is_empty())
        .collect()
}

/// Undoes the JavaScript string escapes used to hide URLs: `\/`, `\xHH`, `\uHHHH`,
/// `\u{H…}`.
pub fn unescape_js(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match chars.next() {
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push_str(&hex),
                }
            }
            Some('u') => {
                let hex: String = if chars.peek() == Some(&'{') {
                    chars.next();
                    chars.by_ref().take_while(|c| *c != '}').take(6).collect()
                } else {
                    chars.by_ref().take(4).collect()
                };
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push_str(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_urls_see_through_quotes_comments_and_case() {
        let css = ".a{background:URL( 'https://x.example/a' )} /* url(https://no.example/) */ .b{background:url(/*c*/\"https://x.example/b\")}";
        let urls: Vec<String> = css_urls(css).into_iter().map(|(u, _)| u).collect();
        assert_eq!(urls, vec!["https://x.example/a", "https://x.example/b"]);
    }

    /// The frames are looked up only for a script load that writes into a frame; the
    /// loads are what looking them up first gave, on generated pages (blank, `about:`,
    /// `data:` and real frames, scripts that write into frames or not, non-ASCII text).
    #[test]
    fn frames_looked_up_late_give_the_same_loads() {
        let library = Library::load(&[]).expect("built-in library");
        let pieces = [
            "<iframe></iframe>",
            "<iframe src=\"\"></iframe>",
            "<iframe src=\" About:blank \"></iframe>",
            "<frame src=\"DATA:text/html,x\">",
            "<iframe src=\"https://frame.example/\"></iframe>",
            "<script>f.contentWindow.document.write('<img src=\"https://a.example/p\">');</script>",
            "<script>new Image().src = 'https://b.example/x';</script>",
            "<script>var d = f.contentDocument; new Image().src = 'https://s.click.aliexpress.com/e/_D';</script>",
            "<p>caf\u{e9} \u{1F642}</p>",
            "",
        ];
        let mut next_below = crate::test_support::numbers_below(0xf4a3);
        for _ in 0..200 {
            let count = next_below(6);
            let html: String = (0..count)
                .map(|_| pieces[next_below(pieces.len())])
                .collect();
            let page = Page::from_html(&html, None);
            let visibility = Visibility::compute(&page.document);
            let matches = collect_script_matches(&page, &library);
            let loads = collect_loads(&page, &library, &visibility, &matches);
            let blank_frames = has_blank_frame(&page);
            let mut script_loads = matches.iter().filter(|found| {
                matches!(
                    found.action,
                    ScriptAction::Request | ScriptAction::InjectFrame
                ) && found.url.is_some()
            });
            for load in loads
                .iter()
                .filter(|load| matches!(load.via, LoadVia::Script { .. }))
            {
                let found = script_loads.next().expect("a match per script load");
                assert_eq!(
                    load.referrer_stripped,
                    blank_frames && found.writes_into_frame,
                    "{html}"
                );
            }
        }
    }

    /// Resolving once gives the URL the former two lookups gave, then the scheme check,
    /// on generated addresses (relative, protocol-relative, other schemes, spaces,
    /// non-ASCII, empty, long), with and without a base.
    #[test]
    fn load_urls_agree_with_resolving_twice() {
        let pieces = [
            "https://a.example/x",
            "http://b.example",
            "//c.example/p?q=1",
            "/img/p1.jpg",
            "img.png",
            "data:image/gif;base64,R0lG",
            "javascript:void(0)",
            "mailto:x@y",
            " ",
            "é",
            "日本",
            "?",
            "#f",
            ":",
            "",
        ];
        let base = Url::parse("https://base.example/dir/page.html").expect("valid");
        let mut next_below = crate::test_support::numbers_below(0x10ad);
        let mut addresses = vec![
            String::new(),
            format!("https://x.example/{}", "é".repeat(5_000)),
        ];
        for _ in 0..1_000 {
            let count = next_below(4);
            addresses.push(
                (0..count)
                    .map(|_| pieces[next_below(pieces.len())])
                    .collect(),
            );
        }
        for address in &addresses {
            for base in [None, Some(&base)] {
                let former = resolve_address(base, address)
                    .or_else(|| absolute_url(address))
                    .filter(|url| matches!(url.scheme(), "http" | "https"));
                assert_eq!(http_load_url(base, address), former, "{address:?}");
            }
        }
    }

    #[test]
    fn js_escapes_are_undone() {
        assert_eq!(
            unescape_js(r"https:\/\/s.click.aliexpress.com\x2fe\u002F_D\u{41}"),
            "https://s.click.aliexpress.com/e/_DA"
        );
    }
}
