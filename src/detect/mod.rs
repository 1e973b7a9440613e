//! Detectors: functions from a [`Context`] (one page, its visibility, its classified
//! links and no-click loads, and the library) to findings. One module per detector; they
//! share the page model and never re-parse.

pub mod claims;
pub mod cookie_stuffing;
pub mod disclosure;
pub mod forced_redirect;
pub mod hidden_content;
pub mod link_hygiene;
pub mod loads;
pub mod redirect_chain;

use url::Url;

use crate::finding::{Confidence, Finding, Location, Severity};
use crate::library::Library;
use crate::networks::Classification;
use crate::page::visibility::Visibility;
use crate::page::{NodeId, Page};

pub use loads::{ClassifiedLink, Load, LoadVia, ScriptMatch};

/// What every detector sees for one page.
pub struct Context<'a> {
    /// The page.
    pub page: &'a Page,
    /// The library.
    pub library: &'a Library,
    /// Which elements a reader cannot see.
    pub visibility: Visibility,
    /// Links a reader can click, classified.
    pub links: Vec<ClassifiedLink<'a>>,
    /// Addresses the page loads without a click, classified.
    pub loads: Vec<Load>,
    /// What the page's scripts do without a click (signature matches).
    pub script_matches: Vec<ScriptMatch>,
    /// The target's name for findings.
    pub target: &'a str,
    /// The source text the user gave (for columns).
    pub source: &'a str,
    /// Where the source's lines are (for columns and the line count).
    lines: LineTable<'a>,
}

impl<'a> Context<'a> {
    /// Builds the shared context: visibility, classified links and loads.
    pub fn new(
        page: &'a Page,
        library: &'a Library,
        target: &'a str,
        source: &'a str,
    ) -> Context<'a> {
        let visibility = Visibility::compute(&page.document);
        let links = loads::classify_links(page, library, &visibility);
        let script_matches = loads::collect_script_matches(page, library);
        let loads = loads::collect_loads(page, library, &visibility, &script_matches);
        let lines = LineTable::new(source);
        Context {
            page,
            library,
            visibility,
            links,
            loads,
            script_matches,
            target,
            source,
            lines,
        }
    }

    /// Runs every detector.
    pub fn detect_all(&self) -> Vec<Finding> {
        let mut findings = claims::detect(
            self.page,
            &self.library.rules,
            self.target,
            |line| self.source_line(line),
            |node| self.visibility.is_hidden(node),
        );
        findings.extend(cookie_stuffing::detect(self));
        findings.extend(forced_redirect::detect(self));
        findings.extend(hidden_content::detect(self));
        findings.extend(disclosure::detect(self));
        findings.extend(link_hygiene::detect(self));
        findings
    }

    /// A finding of detector rule `rule_id` (its metadata from the library).
    /// `fields` fill the message's `{name}` placeholders. `None` when the rule is not
    /// in the library.
    pub fn finding(&self, rule_id: &str, spec: FindingSpec<'_>) -> Option<Finding> {
        let rule = self.library.rules.get(rule_id)?;
        let mut message = rule.message.clone();
        for (name, value) in spec.fields {
            message = message.replace(&format!("{{{name}}}"), value.as_str());
        }
        let mut severity = Some(rule.severity);
        for _ in 0..spec.downgrade {
            severity = severity.and_then(Severity::downgraded);
        }
        let severity = severity?;
        Some(Finding {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity,
            confidence: spec.confidence.unwrap_or(rule.confidence),
            message,
            target: self.target.to_string(),
            location: Some(self.location(spec.line, spec.column_hint)),
            evidence: spec
                .evidence
                .map(|e| crate::detect::claims::shorten(&e, 240)),
            url: spec.url.map(Url::to_string),
            network: spec.classification.and_then(|c| c.network.clone()),
            chain: None,
            help: rule.help.clone(),
        })
    }

    /// The place of `hint` (e.g. a URL) on source line `line`.
    pub fn location(&self, line: u32, hint: &str) -> Location {
        Location {
            line: line.max(1),
            column: column_of(self.source_line(line), hint),
        }
    }

    /// The number of lines of the source (a source with no newline has one).
    pub fn line_count(&self) -> usize {
        self.lines.line_count()
    }

    /// The text of 1-based source line `line` (empty when out of range).
    fn source_line(&self, line: u32) -> &'a str {
        self.lines.line(line)
    }

    /// The element's start tag as evidence, e.g. `<iframe src="…" width="0">`.
    pub fn tag_evidence(&self, node: NodeId) -> String {
        let element = self.page.document.node(node);
        let mut text = format!("<{}", element.element_name().unwrap_or(""));
        for (name, value) in element.attrs() {
            text.push(' ');
            text.push_str(name);
            text.push_str("=\"");
            text.push_str(value);
            text.push('"');
        }
        text.push('>');
        text
    }
}

/// Bytes per block of a [`LineTable`].
const LINE_TABLE_BLOCK: usize = 4096;

/// A sparse table of a source's lines: the number of newlines before each 4 KB block.
///
/// A page has a newline every ~140 bytes but only a few lines are ever asked for (the
/// lines of findings), so instead of one entry per line (one `memchr` call and one push
/// per newline) the table counts each block's newlines with one vectorised count and
/// finds a line inside its block on demand.
struct LineTable<'a> {
    /// The source text.
    source: &'a str,
    /// `newlines_before[block]`: the newlines in `source[..block * LINE_TABLE_BLOCK]`.
    newlines_before: Vec<usize>,
    /// All the newlines of the source.
    newline_count: usize,
}

impl<'a> LineTable<'a> {
    /// Counts the newlines of `source`, block by block.
    fn new(source: &'a str) -> LineTable<'a> {
        let mut newlines_before = Vec::with_capacity(source.len() / LINE_TABLE_BLOCK + 1);
        let mut newline_count = 0;
        for block in source.as_bytes().chunks(LINE_TABLE_BLOCK) {
            newlines_before.push(newline_count);
            newline_count += memchr::memchr_iter(b'\n', block).count();
        }
        LineTable {
            source,
            newlines_before,
            newline_count,
        }
    }

    /// The number of lines (a source with no newline has one).
    fn line_count(&self) -> usize {
        self.newline_count + 1
    }

    /// The byte offset where 1-based line `line` starts, `None` when out of range.
    fn line_start(&self, line: u32) -> Option<usize> {
        // Line `line` starts after the source's newline number `line - 1` (1-based).
        let newline = (line.saturating_sub(1)) as usize;
        if newline == 0 {
            return Some(0);
        }
        if newline > self.newline_count {
            return None;
        }
        // The last block with fewer newlines before it holds the wanted newline.
        let block = self
            .newlines_before
            .partition_point(|&before| before < newline)
            .checked_sub(1)?;
        let block_start = block * LINE_TABLE_BLOCK;
        let skip = newline - self.newlines_before[block] - 1;
        let bytes = self.source.as_bytes().get(block_start..)?;
        let offset = memchr::memchr_iter(b'\n', bytes).nth(skip)?;
        Some(block_start + offset + 1)
    }

    /// The text of 1-based line `line` without its line break (empty when out of range).
    fn line(&self, line: u32) -> &'a str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        // A line starts after a newline (an ASCII byte) or at 0: a char boundary.
        let Some(rest) = self.source.get(start..) else {
            return "";
        };
        let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        rest[..end].trim_end_matches('\r')
    }
}

/// The details of one finding a detector makes.
#[derive(Default)]
pub struct FindingSpec<'a> {
    /// Source line.
    pub line: u32,
    /// Text to look for on the line to find the column (e.g. the URL).
    pub column_hint: &'a str,
    /// `{name}` placeholders of the message.
    pub fields: Vec<(&'a str, String)>,
    /// Evidence text.
    pub evidence: Option<String>,
    /// The URL involved.
    pub url: Option<&'a Url>,
    /// Its classification (gives the network).
    pub classification: Option<&'a Classification>,
    /// Steps below the rule's severity (a note downgraded is dropped).
    pub downgrade: u8,
    /// Overrides the rule's confidence.
    pub confidence: Option<Confidence>,
}

/// The 1-based column where `hint` (or its first 40 characters) appears on the line
/// `text`, else the column of its first non-blank character.
fn column_of(text: &str, hint: &str) -> u32 {
    crate::position::column_of(text, first_chars(hint, 40), false)
        .unwrap_or_else(|| crate::position::first_non_blank_column(text))
}

/// The first `count` characters of `text` (all of it when shorter), as a slice.
fn first_chars(text: &str, count: usize) -> &str {
    match text.char_indices().nth(count) {
        // A `char_indices` offset is a character boundary.
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::numbers_below;

    /// The slice is what collecting the first characters gave, on generated text
    /// (ASCII, accents, CJK, emoji, empty, long).
    #[test]
    fn first_chars_agree_with_collecting_the_characters() {
        let pieces = ["a", "é", "日本", "🙂", " ", "https://x.example/?q=1", ""];
        let mut next = numbers_below(0x40);
        let mut texts = vec![String::new(), "é".repeat(10_000)];
        for _ in 0..500 {
            let count = next(60);
            texts.push((0..count).map(|_| pieces[next(pieces.len())]).collect());
        }
        for text in &texts {
            for count in [0, 1, 39, 40, 41, 1_000] {
                let collected: String = text.chars().take(count).collect();
                assert_eq!(first_chars(text, count), collected, "{text:?} {count}");
            }
        }
    }

    /// The plain line table this replaces: every line start, then slicing.
    fn plain_line(source: &str, line: u32) -> &str {
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', source.as_bytes()).map(|index| index + 1))
            .collect();
        let index = line.saturating_sub(1) as usize;
        let Some(&start) = starts.get(index) else {
            return "";
        };
        let end = starts
            .get(index + 1)
            .map(|next| next - 1)
            .unwrap_or(source.len());
        source[start..end].trim_end_matches('\r')
    }

    /// Checks every line (and a few past the end) against the plain table.
    fn assert_same_as_plain(source: &str) {
        let table = LineTable::new(source);
        let plain_count = memchr::memchr_iter(b'\n', source.as_bytes()).count() + 1;
        assert_eq!(table.line_count(), plain_count);
        let last = u32::try_from(plain_count).unwrap_or(u32::MAX);
        for line in (0..=last.saturating_add(3)).chain([u32::MAX]) {
            assert_eq!(table.line(line), plain_line(source, line), "line {line}");
        }
    }

    #[test]
    fn line_table_agrees_with_the_plain_table_on_generated_sources() {
        let pieces = [
            "a", "<p>", "\n", "\r\n", "\n\n", "é", "日本", "🙂", " ", "\r", "x\n",
        ];
        let mut next = numbers_below(13);
        for _ in 0..200 {
            let mut source = String::new();
            // Up to ~3 blocks, so lines cross block boundaries.
            let length = next(LINE_TABLE_BLOCK * 3);
            while source.len() < length {
                source.push_str(pieces[next(pieces.len())]);
                // Long runs without a newline, too.
                if next(50) == 0 {
                    source.push_str(&"z".repeat(next(LINE_TABLE_BLOCK * 2)));
                }
            }
            assert_same_as_plain(&source);
        }
    }

    #[test]
    fn line_table_handles_empty_newline_only_and_huge_sources() {
        assert_same_as_plain("");
        assert_same_as_plain("\n");
        assert_same_as_plain("\r\n");
        assert_same_as_plain(&"\n".repeat(LINE_TABLE_BLOCK * 2 + 1));
        assert_same_as_plain(&"é".repeat(LINE_TABLE_BLOCK));
        let huge = "ligne\u{00e9}\n".repeat(100_000);
        let table = LineTable::new(&huge);
        assert_eq!(table.line_count(), 100_001);
        for line in [1, 2, 4095, 4096, 50_000, 99_999, 100_000, 100_001, 100_002] {
            assert_eq!(table.line(line), plain_line(&huge, line), "line {line}");
        }
    }
}
