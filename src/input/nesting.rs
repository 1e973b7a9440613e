//! A linear pre-check of how deeply a page nests its elements.
//!
//! The HTML tree builder does work proportional to the depth of open elements for each
//! new tag, so a hostile page of 100,000 nested `<div>`s takes minutes to parse. Real
//! pages nest a few dozen levels. This scan estimates the depth in one pass over the
//! bytes, so such a page is refused (a `scan-error/too-deep` finding) instead of hanging
//! the run. Elements whose end tag is optional (`p`, `li`, `td`...) and void elements
//! (`img`, `br`...) are not counted, so sloppy but ordinary HTML is never refused;
//! comments and the contents of `script`, `style`, `textarea` and `title` are skipped.

/// Default deepest nesting scanned.
pub const DEFAULT_MAX_DEPTH: usize = 4096;

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "frame",
];

/// Elements whose end tag may be left out (closed implicitly by the parser).
const OPTIONAL_END: &[&str] = &[
    "html", "head", "body", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
    "option", "optgroup", "rb", "rt", "rtc", "rp", "colgroup", "caption",
];

/// Elements whose content is raw text: skipped to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// Longest name in [`VOID`], [`OPTIONAL_END`] and [`RAW_TEXT`]: a longer name is an
/// ordinary element.
const LONGEST_LISTED_NAME: usize = 8;

/// The estimated deepest nesting of elements in `html`.
///
/// Jumps from one `<` to the next with `memchr` (SIMD), so text, comments and raw text
/// cost little more than a memory scan; no allocation per tag.
pub fn estimated_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut deepest = 0;
    let mut position = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[position..]) {
        let start = position + offset + 1;
        position = start;
        if bytes[start..].starts_with(b"!--") {
            position = memchr::memmem::find(&bytes[start + 3..], b"-->")
                .map(|end| start + 3 + end + 3)
                .unwrap_or(bytes.len());
            continue;
        }
        let closing = bytes.get(start) == Some(&b'/');
        let name_start = if closing { start + 1 } else { start };
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
            .map(|length| name_start + length)
            .unwrap_or(bytes.len());
        if name_end == name_start || !bytes[name_start].is_ascii_alphabetic() {
            continue;
        }
        let raw_name = &bytes[name_start..name_end];
        let mut buffer = [0u8; LONGEST_LISTED_NAME];
        let listed = raw_name.len() <= LONGEST_LISTED_NAME;
        let name = if listed {
            let name = &mut buffer[..raw_name.len()];
            name.copy_from_slice(raw_name);
            name.make_ascii_lowercase();
            &*name
        } else {
            &[][..]
        };
        let is = |list: &[&str]| listed && list.iter().any(|entry| entry.as_bytes() == name);
        if is(VOID) || is(OPTIONAL_END) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        if is(RAW_TEXT) {
            position = find_end_tag(bytes, name_end, name).unwrap_or(bytes.len());
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

/// The estimated depth of `html` when it is deeper than `limit`; `None` otherwise.
///
/// Every element opens with a `<`, so a page with no more than `limit` of them cannot
/// nest deeper: such pages (most pages under a few hundred KB) are answered by one
/// SIMD count of `<` instead of the tag-by-tag walk of [`estimated_depth`].
pub fn depth_beyond(html: &str, limit: usize) -> Option<usize> {
    if memchr::memchr_iter(b'<', html.as_bytes()).count() <= limit {
        return None;
    }
    let depth = estimated_depth(html);
    (depth > limit).then_some(depth)
}

/// Where `</name` (any case) first starts at or after `from`; `name` is lower case.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut position = from;
    while let Some(offset) = memchr::memchr(b'<', bytes.get(position..)?) {
        let at = position + offset;
        let rest = &bytes[at + 1..];
        if rest.first() == Some(&b'/')
            && rest.len() > name.len()
            && rest[1..=name.len()].eq_ignore_ascii_case(name)
        {
            return Some(at);
        }
        position = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_real_nesting() {
        assert_eq!(estimated_depth("<div><section><p>x</div></section>"), 2);
        assert_eq!(estimated_depth(&"<div>".repeat(100_000)), 100_000);
    }

    #[test]
    fn depth_beyond_agrees_with_the_estimate_on_both_sides_of_the_count_shortcut() {
        // 3 tags: the count alone answers for limits of 3 and more.
        assert_eq!(depth_beyond("<div><div><div>", 3), None);
        assert_eq!(depth_beyond("<div><div><div>", 2), Some(3));
        // Many `<` that are not nesting: the count does not settle it, the walk does.
        let flat = "<p>x".repeat(50);
        assert_eq!(depth_beyond(&flat, 10), None);
        let deep = "<div>".repeat(50);
        assert_eq!(depth_beyond(&deep, 49), Some(50));
        assert_eq!(depth_beyond(&deep, 50), None);
        let text_with_less_than_signs = format!("{}{}", "a < b ".repeat(100), "<div>".repeat(20));
        assert_eq!(depth_beyond(&text_with_less_than_signs, 19), Some(20));
        assert_eq!(depth_beyond(&text_with_less_than_signs, 20), None);
    }

    #[test]
    fn sloppy_but_ordinary_html_stays_shallow() {
        let html = format!(
            "<ul>{}</ul><table>{}</table><p>{}",
            "<li>item".repeat(10_000),
            "<tr><td>x<td>y".repeat(10_000),
            "<img src=x><br>".repeat(10_000)
        );
        assert!(estimated_depth(&html) <= 2);
    }

    /// The byte-at-a-time version `estimated_depth` replaced; they must agree.
    fn reference_depth(html: &str) -> usize {
        fn find(bytes: &[u8], from: usize, needle: &[u8], fold: bool) -> Option<usize> {
            if from >= bytes.len() {
                return None;
            }
            bytes[from..]
                .windows(needle.len())
                .position(|w| {
                    if fold {
                        w.eq_ignore_ascii_case(needle)
                    } else {
                        w == needle
                    }
                })
                .map(|offset| from + offset)
        }
        let bytes = html.as_bytes();
        let (mut depth, mut deepest, mut position) = (0usize, 0, 0);
        while let Some(offset) = bytes[position..].iter().position(|&b| b == b'<') {
            let start = position + offset + 1;
            position = start;
            if bytes[start..].starts_with(b"!--") {
                position = find(bytes, start + 3, b"-->", false)
                    .map(|end| end + 3)
                    .unwrap_or(bytes.len());
                continue;
            }
            let closing = bytes.get(start) == Some(&b'/');
            let name_start = if closing { start + 1 } else { start };
            let name_end = bytes[name_start..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
                .map(|length| name_start + length)
                .unwrap_or(bytes.len());
            if name_end == name_start || !bytes[name_start].is_ascii_alphabetic() {
                continue;
            }
            let name = html[name_start..name_end].to_ascii_lowercase();
            if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) {
                continue;
            }
            if closing {
                depth = depth.saturating_sub(1);
                continue;
            }
            if RAW_TEXT.contains(&name.as_str()) {
                let end_tag = format!("</{name}");
                position = find(bytes, name_end, end_tag.as_bytes(), true).unwrap_or(bytes.len());
                continue;
            }
            depth += 1;
            deepest = deepest.max(depth);
        }
        deepest
    }

    #[test]
    fn agrees_with_the_byte_at_a_time_version() {
        let cases = [
            "",
            "<",
            "<<<",
            "</",
            "<!--",
            "<!-- x -->",
            "<!--->",
            "<!---->",
            "<div><!-- <div> --><div></div>",
            "<DIV><Section><P>x</DIV>",
            "<script>if (a <b) {}</SCRIPT><div>",
            "<script>x</scrip",
            "<script>x</script",
            "<script>x</",
            "<style>",
            "<TextArea><div></textarea><div>",
            "<noframes><div></NOFRAMES><div><div>",
            "<verylongname-element><another-custom-element></another-custom-element><x>",
            "<scriptx><stylez><div>",
            "<1div><-div><div-><div9>",
            "<img><br/><IMG SRC=x><div/><div>",
            "<title>a<div></title><div>\u{e9}<div>\u{20ac}</div>",
            "<li><li><li><ul><ul></ul>",
            "<iframe src=x></iframe><div><iframe>",
        ];
        for case in cases {
            assert_eq!(estimated_depth(case), reference_depth(case), "{case:?}");
        }
    }

    #[test]
    fn comments_and_raw_text_are_skipped() {
        let html = format!(
            "<!-- {} --><script>var s = '{}';</script><div>x</div>",
            "<div>".repeat(1000),
            "<div>".repeat(1000)
        );
        assert_eq!(estimated_depth(&html), 1);
    }
}
