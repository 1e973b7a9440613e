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

/// The estimated deepest nesting of elements in `html`.
pub fn estimated_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut deepest = 0;
    let mut position = 0;
    while let Some(offset) = memchr_lt(&bytes[position..]) {
        let start = position + offset + 1;
        position = start;
        if bytes[start..].starts_with(b"!--") {
            position = find(bytes, start + 3, b"-->")
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
            position = find_ignore_case(bytes, name_end, end_tag.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
        .map(|offset| from + offset)
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
    fn sloppy_but_ordinary_html_stays_shallow() {
        let html = format!(
            "<ul>{}</ul><table>{}</table><p>{}",
            "<li>item".repeat(10_000),
            "<tr><td>x<td>y".repeat(10_000),
            "<img src=x><br>".repeat(10_000)
        );
        assert!(estimated_depth(&html) <= 2);
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
