//! Text as the detectors see it: whitespace collapsed, typographic quotes made plain,
//! invisible characters removed, with a map back to source lines; and the sentence
//! splitter every text rule (and the rule-example harness) uses.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use smallvec::SmallVec;

/// A block's line marks: most blocks sit on one or two source lines, so two marks are
/// kept without a heap allocation.
type LineMarks = SmallVec<[(usize, u32); 2]>;

/// Where a piece of text came from; text rules choose the places they apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextScope {
    /// Visible body text.
    Text,
    /// The document `<title>`.
    Title,
    /// `<meta name="description">`.
    MetaDescription,
    /// Open Graph `og:title` / `og:description`.
    Og,
    /// Image `alt` text.
    Alt,
}

impl TextScope {
    /// The name used in rule files (`scope = [...]`).
    pub fn name(self) -> &'static str {
        match self {
            TextScope::Text => "text",
            TextScope::Title => "title",
            TextScope::MetaDescription => "meta-description",
            TextScope::Og => "og",
            TextScope::Alt => "alt",
        }
    }

    /// Parses a rule file's scope name.
    pub fn from_name(name: &str) -> Option<TextScope> {
        [
            TextScope::Text,
            TextScope::Title,
            TextScope::MetaDescription,
            TextScope::Og,
            TextScope::Alt,
        ]
        .into_iter()
        .find(|scope| scope.name() == name)
    }
}

/// A block of normalised text (a paragraph, list item, heading, title, alt text...) with
/// the source line of every part of it.
///
/// The blocks of one page share one string (a range of it each), so a page's text is
/// one allocation rather than one per block; [`TextBlock::text`] gives the block's part.
#[derive(Clone)]
pub struct TextBlock {
    /// Where the text came from.
    pub scope: TextScope,
    /// The node the text belongs to (the block element, or the element carrying the
    /// attribute); used by detectors that ask whether the text is hidden.
    pub node: usize,
    /// The string the text is a range of (shared with the page's other blocks).
    shared: Arc<String>,
    /// Where the text sits in `shared`.
    range: Range<usize>,
    /// (byte offset in the text, source line) pairs, ascending: text from that offset on
    /// comes from that line.
    line_marks: LineMarks,
}

impl TextBlock {
    /// The normalised text.
    pub fn text(&self) -> &str {
        self.shared.get(self.range.clone()).unwrap_or_default()
    }

    /// The 1-based source line of the character at byte `offset` of the text.
    pub fn line_at(&self, offset: usize) -> u32 {
        let index = self
            .line_marks
            .partition_point(|(start, _)| *start <= offset);
        if index == 0 {
            self.line_marks.first().map(|(_, line)| *line).unwrap_or(1)
        } else {
            self.line_marks[index - 1].1
        }
    }
}

impl std::fmt::Debug for TextBlock {
    /// As a derived `Debug` of the block with its text as a `String` field would print.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TextBlock")
            .field("scope", &self.scope)
            .field("text", &self.text())
            .field("node", &self.node)
            .field("line_marks", &self.line_marks)
            .finish()
    }
}

/// The text blocks of one page as they are built. The body text goes straight into one
/// string (the block being built is its end), the blocks of single runs (titles, meta
/// and Open Graph text, alt texts) into another; [`BlockCollector::finish`] hands out
/// blocks that share them.
#[derive(Debug)]
pub struct BlockCollector {
    /// The body text block being built, its text the end of the body text so far (the
    /// earlier body blocks' text comes before it).
    current: TextBlockBuilder,
    /// The text of every block of a single run so far (each block's text after the
    /// one before).
    runs: TextBlockBuilder,
    /// Each block so far, its text a range of `current`'s text (body text) or of
    /// `runs`'s (other scopes); until `finish`, their `shared` string is `unfinished`
    /// (empty).
    blocks: Vec<TextBlock>,
    /// Stands in for the shared strings until they are finished.
    unfinished: Arc<String>,
    /// A block other than the head's (title, meta description, Open Graph) was added.
    body_added: bool,
    /// A block of the head came after one of the body (body text, alt text): `finish`
    /// puts the head's first.
    reorder: bool,
}

impl Default for BlockCollector {
    fn default() -> Self {
        BlockCollector::with_capacity(0, 0)
    }
}

impl BlockCollector {
    /// An empty collector with room for `blocks` blocks holding `text_bytes` bytes of
    /// body text (estimates: it grows as needed). The first body block belongs to
    /// `node` 0 until [`BlockCollector::end_block`] says otherwise.
    pub fn with_capacity(blocks: usize, text_bytes: usize) -> Self {
        let mut current = TextBlockBuilder::new(TextScope::Text, 0);
        current.text.reserve(text_bytes);
        BlockCollector {
            current,
            runs: TextBlockBuilder::new(TextScope::Text, 0),
            blocks: Vec::with_capacity(blocks),
            unfinished: Arc::default(),
            body_added: false,
            reorder: false,
        }
    }

    /// Appends a raw run of body text that starts on source line `line` to the block
    /// being built (see [`TextBlockBuilder::push`]).
    #[inline]
    pub fn push(&mut self, raw: &str, line: u32) {
        self.current.push(raw, line);
    }

    /// Marks a word boundary in the block being built (e.g. a `<br>`).
    #[inline]
    pub fn push_space(&mut self) {
        self.current.push_space();
    }

    /// Ends the body text block being built: adds it, if it holds text, and starts an
    /// empty one belonging to `node`.
    #[inline]
    pub fn end_block(&mut self, node: usize) {
        if !self.current.is_empty() {
            self.blocks.push(self.current.take_block(&self.unfinished));
            self.body_added = true;
        }
        self.current.restart(node);
    }

    /// Adds the block of `scope` (not [`TextScope::Text`]) belonging to `node` made of
    /// the single run `raw` from source line `line`, if it holds text. Blocks of the
    /// head (title, meta description, Open Graph) come before the others in
    /// [`BlockCollector::finish`], whatever the order they were added in.
    pub fn add_run(&mut self, scope: TextScope, node: usize, raw: &str, line: u32) {
        let runs = &mut self.runs;
        runs.scope = scope;
        runs.node = node;
        runs.push(raw, line);
        if !runs.is_empty() {
            if is_head_scope(scope) {
                self.reorder |= self.body_added;
            } else {
                self.body_added = true;
            }
            self.blocks.push(runs.take_block(&self.unfinished));
        }
        runs.restart(node);
    }

    /// The blocks, in the order they were added (the head's first), sharing the
    /// collector's two strings.
    pub fn finish(mut self) -> Vec<TextBlock> {
        self.end_block(0);
        let body = Arc::new(self.current.text);
        let runs = Arc::new(self.runs.text);
        for block in &mut self.blocks {
            block.shared = Arc::clone(if block.scope == TextScope::Text {
                &body
            } else {
                &runs
            });
        }
        if self.reorder {
            let (mut head, rest): (Vec<TextBlock>, Vec<TextBlock>) = self
                .blocks
                .into_iter()
                .partition(|block| is_head_scope(block.scope));
            head.extend(rest);
            return head;
        }
        self.blocks
    }
}

/// True for the scopes of the page's head: title, meta description, Open Graph.
fn is_head_scope(scope: TextScope) -> bool {
    matches!(
        scope,
        TextScope::Title | TextScope::MetaDescription | TextScope::Og
    )
}

/// Builds a [`TextBlock`] from raw character runs, normalising as it goes.
#[derive(Debug)]
pub struct TextBlockBuilder {
    scope: TextScope,
    node: usize,
    /// The block's text is `text[start..]` (what comes before is earlier blocks' text,
    /// when a [`BlockCollector`] builds its blocks in one string).
    text: String,
    start: usize,
    /// Line marks, offsets relative to `start`.
    line_marks: LineMarks,
    pending_space: bool,
}

impl TextBlockBuilder {
    /// Starts an empty block of `scope` belonging to `node`.
    pub fn new(scope: TextScope, node: usize) -> Self {
        TextBlockBuilder {
            scope,
            node,
            text: String::new(),
            start: 0,
            line_marks: LineMarks::new(),
            pending_space: false,
        }
    }

    /// Starts an empty block (of body text, belonging to node 0) whose text is added
    /// to the end of `text`: [`TextBlockBuilder::into_string`] gives `text` back with
    /// the block's text after what it held.
    pub(crate) fn appending_to(text: String) -> Self {
        TextBlockBuilder {
            start: text.len(),
            text,
            ..TextBlockBuilder::new(TextScope::Text, 0)
        }
    }

    /// The string the block's text was added to, with it (see
    /// [`TextBlockBuilder::appending_to`]).
    pub(crate) fn into_string(self) -> String {
        self.text
    }

    /// True when nothing but whitespace has been pushed.
    pub fn is_empty(&self) -> bool {
        self.text.len() == self.start
    }

    /// The block built so far (not empty), its text a range of the builder's string
    /// (`shared` stands in for that string until it is finished).
    #[inline]
    fn take_block(&mut self, shared: &Arc<String>) -> TextBlock {
        TextBlock {
            scope: self.scope,
            node: self.node,
            shared: Arc::clone(shared),
            range: self.start..self.text.len(),
            line_marks: std::mem::take(&mut self.line_marks),
        }
    }

    /// Starts an empty block of the same scope belonging to `node`, after the text so
    /// far.
    #[inline]
    fn restart(&mut self, node: usize) {
        self.start = self.text.len();
        self.line_marks.clear();
        self.pending_space = false;
        self.node = node;
    }

    /// Appends a raw run of characters that starts on source line `line`.
    ///
    /// Stretches with nothing to normalise (characters kept as they are, separated by
    /// single spaces, on one line) are copied whole; other characters go one at a time.
    /// Both paths give the same text and line marks as a character-by-character walk (a
    /// test checks it).
    pub fn push(&mut self, raw: &str, line: u32) {
        let mut line = line;
        let mut marked_line = self.line_marks.last().map(|(_, line)| *line);
        let bytes = raw.as_bytes();
        let mut position = 0;
        while position < bytes.len() {
            let byte = bytes[position];
            if is_ascii_whitespace(byte) {
                if byte == b'\n' {
                    line = line.saturating_add(1);
                }
                self.pending_space = true;
                position += 1;
                continue;
            }
            let end = verbatim_end(raw, position);
            if end > position {
                // Room for the rest of `raw` (and a space): at most one reallocation per
                // call, however many stretches it holds; none for whitespace-only runs.
                self.text.reserve(bytes.len() - position + 1);
                self.start_run(line, &mut marked_line);
                self.text.push_str(&raw[position..end]);
                position = end;
                continue;
            }
            let Some(character) = raw[position..].chars().next() else {
                break;
            };
            position += character.len_utf8();
            if character.is_whitespace() {
                self.pending_space = true;
                continue;
            }
            let Some(normalised) = normalise_char(character) else {
                continue;
            };
            self.start_run(line, &mut marked_line);
            self.text.push(normalised);
        }
    }

    /// Before appending visible characters from source line `line`: the pending space,
    /// and a line mark when the line changed.
    #[inline]
    fn start_run(&mut self, line: u32, marked_line: &mut Option<u32>) {
        if self.pending_space && self.text.len() > self.start {
            self.text.push(' ');
        }
        self.pending_space = false;
        if *marked_line != Some(line) {
            self.line_marks.push((self.text.len() - self.start, line));
            *marked_line = Some(line);
        }
    }

    /// Marks a word boundary (e.g. a `<br>`), so words on either side do not run together.
    pub fn push_space(&mut self) {
        self.pending_space = true;
    }

    /// Finishes the block; `None` when it holds no text.
    pub fn finish(self) -> Option<TextBlock> {
        if self.is_empty() {
            return None;
        }
        let range = self.start..self.text.len();
        Some(TextBlock {
            scope: self.scope,
            node: self.node,
            shared: Arc::new(self.text),
            range,
            line_marks: self.line_marks,
        })
    }

    /// The normalised text so far (empty when nothing but whitespace was pushed).
    pub fn into_text(mut self) -> String {
        self.text.drain(..self.start);
        self.text
    }
}

/// The end of the stretch of `raw` from `start` that normalises to itself: characters
/// [`normalise_char`] keeps as they are (no whitespace), joined by single spaces that
/// are followed by such a character. `start` when the character there is not one.
fn verbatim_end(raw: &str, start: usize) -> usize {
    let bytes = raw.as_bytes();
    let mut end = start;
    loop {
        // Most of it: sixteen bytes at a time with SSE2 where the target has it, then
        // eight at a time, while they are plain words (see `plain_words`), then ASCII
        // other than whitespace, one table lookup a byte. Each step only takes bytes
        // that belong to the stretch, so the sizes change the speed, not the end.
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            let (chunks, _) = bytes.get(end..).unwrap_or_default().as_chunks::<16>();
            for &chunk in chunks {
                if !continues_stretch(plain_words_16(chunk, end > start), bytes, end + 16) {
                    break;
                }
                end += 16;
            }
        }
        let (chunks, _) = bytes.get(end..).unwrap_or_default().as_chunks::<8>();
        for &chunk in chunks {
            let words = plain_words(u64::from_le_bytes(chunk), end > start);
            if !continues_stretch(words, bytes, end + 8) {
                break;
            }
            end += 8;
        }
        while let Some(&byte) = bytes.get(end)
            && ASCII_VERBATIM[usize::from(byte)]
        {
            end += 1;
        }
        let at = if end > start && bytes.get(end) == Some(&b' ') {
            end + 1
        } else {
            end
        };
        match verbatim_len(raw, at) {
            Some(length) => end = at + length,
            None => return end,
        }
    }
}

/// Whether a chunk that [`plain_words`] (or [`plain_words_16`]) judged `words`, followed
/// in `bytes` by the byte at `after`, belongs whole to the stretch.
#[inline]
fn continues_stretch(words: PlainWords, bytes: &[u8], after: usize) -> bool {
    match words {
        PlainWords::Yes => true,
        PlainWords::IfVerbatimFollows => bytes
            .get(after)
            .is_some_and(|&next| ASCII_VERBATIM[usize::from(next)]),
        PlainWords::No => false,
    }
}

/// Whether eight bytes belong to a verbatim stretch that continues after them (see
/// [`plain_words`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlainWords {
    /// They do.
    Yes,
    /// They do if the byte after them is ASCII other than whitespace (their last byte
    /// is a space, which must be followed by a verbatim character).
    IfVerbatimFollows,
    /// They do not (or this test cannot tell).
    No,
}

/// Whether the eight bytes in `chunk` (first byte lowest) all belong to a verbatim
/// stretch that continues after them: printable ASCII or single spaces, with no space
/// first unless `after_verbatim`; a space last is reported as
/// [`PlainWords::IfVerbatimFollows`].
///
/// Word tricks, exact once no byte has its high bit set (tested first, together with
/// the classic "has a byte less than 0x20"): adding 0x7F to a byte below 0x80 sets its
/// high bit unless it is zero, so after turning spaces into zero bytes the high bits
/// left clear mark exactly the spaces.
#[inline]
fn plain_words(chunk: u64, after_verbatim: bool) -> PlainWords {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const FIRST_HIGH_BIT: u64 = 0x80;
    const LAST_HIGH_BIT: u64 = 0x80 << 56;
    // A byte of 0x80 or more (not ASCII), or below 0x20 (tab, line feed... or another
    // control character).
    if (chunk | (chunk.wrapping_sub(SPACES) & !chunk)) & HIGH != 0 {
        return PlainWords::No;
    }
    let space_marks = !((chunk ^ SPACES).wrapping_add(LOW)) & HIGH;
    // A space followed by a space (a mark moved down onto the byte before it), or a
    // space first when nothing verbatim comes before the chunk.
    let mut forbidden = space_marks >> 8;
    if !after_verbatim {
        forbidden |= FIRST_HIGH_BIT;
    }
    if space_marks & forbidden != 0 {
        PlainWords::No
    } else if space_marks & LAST_HIGH_BIT != 0 {
        PlainWords::IfVerbatimFollows
    } else {
        PlainWords::Yes
    }
}

/// [`plain_words`] for sixteen bytes (first byte lowest), with SSE2 compares: one mask
/// bit per byte instead of one high bit per byte of a word.
///
/// As signed bytes, 0x20 to 0x7F are exactly those greater than 0x1F (0x80 and above
/// are negative), so one compare finds every byte that is not printable ASCII or a space.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn plain_words_16(chunk: [u8; 16], after_verbatim: bool) -> PlainWords {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    const ALL: i32 = 0xFFFF;
    const LAST: i32 = 1 << 15;
    let bytes = m128i::from(chunk);
    let printable = move_mask_i8_m128i(cmp_gt_mask_i8_m128i(bytes, set_splat_i8_m128i(0x1F)));
    if printable != ALL {
        return PlainWords::No;
    }
    let spaces = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(bytes, set_splat_i8_m128i(0x20)));
    // A space followed by a space (the next byte's bit moved down onto it), or a space
    // first when nothing verbatim comes before the chunk.
    let mut forbidden = spaces >> 1;
    if !after_verbatim {
        forbidden |= 1;
    }
    if spaces & forbidden != 0 {
        PlainWords::No
    } else if spaces & LAST != 0 {
        PlainWords::IfVerbatimFollows
    } else {
        PlainWords::Yes
    }
}

/// The length of the character at `at` when it is not whitespace and normalises to
/// itself; `None` otherwise (or at the end).
#[inline]
fn verbatim_len(raw: &str, at: usize) -> Option<usize> {
    let byte = *raw.as_bytes().get(at)?;
    if byte.is_ascii() {
        return (!is_ascii_whitespace(byte)).then_some(1);
    }
    let character = raw.get(at..)?.chars().next()?;
    (!character.is_whitespace() && normalise_char(character) == Some(character))
        .then(|| character.len_utf8())
}

/// Bytes that are ASCII and not whitespace: characters that normalise to themselves.
static ASCII_VERBATIM: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 128 {
        table[byte] = !is_ascii_whitespace(byte as u8);
        byte += 1;
    }
    table
};

/// The ASCII characters `char::is_whitespace` accepts (tab, line feed, vertical tab, form
/// feed, carriage return, space; `u8::is_ascii_whitespace` leaves out vertical tab).
const fn is_ascii_whitespace(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Normalises one non-whitespace character: typographic quotes become plain quotes,
/// invisible formatting characters (used to split words and dodge filters) vanish.
fn normalise_char(character: char) -> Option<char> {
    match character {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => Some('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => Some('"'),
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => None,
        other => Some(other),
    }
}

/// Normalises a free-standing string the way page text is normalised (used for rule
/// examples and attribute text).
pub fn normalise(raw: &str) -> String {
    let mut builder = TextBlockBuilder::new(TextScope::Text, 0);
    builder.push(raw, 1);
    builder.into_text()
}

/// Words that end in a period without ending a sentence ("est. delivery", "e.g.").
const ABBREVIATIONS: &[&str] = &[
    "approx", "ca", "cf", "dr", "e.g", "est", "etc", "ex", "fig", "i.e", "inc", "incl", "jr",
    "ltd", "max", "min", "mr", "mrs", "ms", "no", "nos", "prof", "sr", "st", "vs",
];

/// Splits normalised text into sentences: a sentence ends after a run of `.`, `!`, `?`
/// or `…` that is followed by a space or the end of the text, except after a common
/// abbreviation ("est.", "e.g.", "approx.") or a single-letter initial ("U.S."). Returns
/// byte ranges (trailing space excluded).
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    const ELLIPSIS: &[u8] = "\u{2026}".as_bytes();
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut start = 0;
    // Only a space right after a terminal character can end a sentence. Terminals are
    // rarer than spaces, so jump from terminal to terminal (`.`, `!` and `?` are ASCII,
    // never part of another character); a text with an ellipsis (three bytes) goes from
    // space to space instead. Either way the spaces tried, and the order, are the same.
    let mut check = |offset: usize, ranges: &mut Vec<Range<usize>>| {
        let ends_sentence = match offset.checked_sub(1).map(|before| bytes[before]) {
            Some(b'!' | b'?') => true,
            Some(b'.') => !ends_with_abbreviation(&text[start..offset - 1]),
            Some(_) => offset >= 3 && &bytes[offset - 3..offset] == ELLIPSIS,
            None => false,
        };
        if ends_sentence {
            if offset > start {
                ranges.push(start..offset);
            }
            start = offset + 1;
        }
    };
    // One searcher for every call (building one per call costs more than the search).
    static ELLIPSIS_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(ELLIPSIS));
    if ELLIPSIS_FINDER.find(bytes).is_none() {
        for terminal in memchr::memchr3_iter(b'.', b'!', b'?', bytes) {
            if bytes.get(terminal + 1) == Some(&b' ') {
                check(terminal + 1, &mut ranges);
            }
        }
    } else {
        for offset in memchr::memchr_iter(b' ', bytes) {
            check(offset, &mut ranges);
        }
    }
    if start < text.len() {
        ranges.push(start..text.len());
    }
    ranges
}

/// True when `before_period` (the text up to a final '.') ends with an abbreviation or a
/// single-letter initial.
fn ends_with_abbreviation(before_period: &str) -> bool {
    // The last word: after the last space, `(`, `"` or `'` (all ASCII, so a byte search
    // finds the same split as a character search).
    let word_start = before_period
        .as_bytes()
        .iter()
        .rposition(|byte| matches!(byte, b' ' | b'(' | b'"' | b'\''))
        .map_or(0, |position| position + 1);
    let word = before_period[word_start..].trim_end_matches('.');
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return true;
    }
    // "U.S" (from "U.S."): letters separated by periods.
    if word.contains('.') && word.split('.').all(|part| part.chars().count() == 1) {
        return true;
    }
    if word.is_ascii() {
        return ABBREVIATIONS
            .iter()
            .any(|abbreviation| abbreviation.eq_ignore_ascii_case(word));
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace_and_tracks_lines() {
        let mut builder = TextBlockBuilder::new(TextScope::Text, 0);
        builder.push("  Free\n   shipping  ", 10);
        builder.push("\u{a0}today", 12);
        let block = builder.finish().expect("text");
        assert_eq!(block.text(), "Free shipping today");
        assert_eq!(block.line_at(0), 10);
        assert_eq!(block.line_at(5), 11);
        assert_eq!(block.line_at(14), 12);
    }

    /// The character-by-character normalisation `push` must agree with.
    fn push_per_character(builder: &mut TextBlockBuilder, raw: &str, line: u32) {
        let mut line = line;
        let mut marked_line = builder.line_marks.last().map(|(_, line)| *line);
        for character in raw.chars() {
            if character == '\n' {
                line = line.saturating_add(1);
            }
            if character.is_whitespace() {
                builder.pending_space = true;
                continue;
            }
            let Some(normalised) = normalise_char(character) else {
                continue;
            };
            if builder.pending_space && !builder.text.is_empty() {
                builder.text.push(' ');
            }
            builder.pending_space = false;
            if marked_line != Some(line) {
                builder.line_marks.push((builder.text.len(), line));
                marked_line = Some(line);
            }
            builder.text.push(normalised);
        }
    }

    #[test]
    fn ascii_runs_normalise_as_single_characters_do() {
        let runs: &[&[&str]] = &[
            &["  Free\n   shipping  ", "\u{a0}today"],
            &["a\u{0B}b\u{0C}c\rd\te", "\u{2028}f\u{85}g\u{3000}h"],
            &[
                "it\u{2019}s \u{201C}fr\u{200B}ee\u{201D}",
                "\u{AD}\u{FEFF}",
                "x",
            ],
            &[
                "\n\n",
                "\u{200B}",
                "\nword\u{20AC}5 caf\u{e9}\n\n\u{201C}q\u{201D}",
            ],
            &["", " ", "\u{1F600}emoji\u{1F600}", "end.\n"],
            &["line\none\ntwo", "\u{a0}\n", "three"],
            &[
                "one two  three",
                " four five ",
                "six\u{e9} \u{e9}seven \u{20AC}5",
            ],
            &["a \u{200B}b c\u{2019} d \u{a0}e f\u{2009}g", "h i\u{AD}j k"],
            &["x ", " y", "z", " ", "w \n v", "\u{201C}u\u{201D} t"],
            &["end. Next one! ok", "\u{2026} more\u{2014}text \u{1F600} x"],
            // Runs long enough for the eight-byte path, ending in each way it stops.
            &[
                "Shipping to Europe usually takes ten days and varies by seller.",
                " Readers asked whether it works with older phones:  yes,\tover\nBluetooth",
            ],
            &[
                "abcdefg hijklmn opqrstu v",
                " abcdefgh\u{7f}ijklmnop\u{1}qrstuvwx",
            ],
            &[
                "abcdefgh ",
                "       x",
                "abcdefg  hijklmnopq",
                "abcdefgh\u{e9}ijklmnop",
            ],
        ];
        for pushes in runs {
            let mut fast = TextBlockBuilder::new(TextScope::Text, 0);
            let mut slow = TextBlockBuilder::new(TextScope::Text, 0);
            for (index, raw) in pushes.iter().enumerate() {
                let line = 3 + index as u32 * 2;
                fast.push(raw, line);
                push_per_character(&mut slow, raw, line);
                if index == 1 {
                    fast.push_space();
                    slow.push_space();
                }
            }
            assert_eq!(fast.text, slow.text, "{pushes:?}");
            assert_eq!(fast.line_marks, slow.line_marks, "{pushes:?}");
            assert_eq!(fast.pending_space, slow.pending_space, "{pushes:?}");
        }
    }

    #[test]
    fn plain_quotes_and_no_invisible_characters() {
        assert_eq!(
            normalise("it\u{2019}s \u{201C}fr\u{200B}ee\u{201D}"),
            "it's \"free\""
        );
    }

    #[test]
    fn splits_sentences_at_terminal_punctuation() {
        let text = "Arrives in 3 days! Terms apply. Version 2.5 is out?! Yes";
        let parts: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            parts,
            vec![
                "Arrives in 3 days!",
                "Terms apply.",
                "Version 2.5 is out?!",
                "Yes"
            ]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_end_sentences() {
        let text = "Est. delivery in 5 days to the U.S. and e.g. Canada. Next one. Plan B. Done";
        let parts: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            parts,
            vec![
                "Est. delivery in 5 days to the U.S. and e.g. Canada.",
                "Next one.",
                "Plan B. Done"
            ]
        );
    }

    /// The character-by-character splitter `sentences` replaced; they must agree.
    fn sentences_per_character(text: &str) -> Vec<Range<usize>> {
        fn abbreviation(before_period: &str) -> bool {
            let word = before_period
                .rsplit([' ', '(', '"', '\''])
                .next()
                .unwrap_or("")
                .trim_end_matches('.');
            if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
                return true;
            }
            if word.contains('.') && word.split('.').all(|part| part.chars().count() == 1) {
                return true;
            }
            ABBREVIATIONS.contains(&word.to_lowercase().as_str())
        }
        let mut ranges = Vec::new();
        let mut start = 0;
        let mut previous: Option<(usize, char)> = None;
        for (offset, character) in text.char_indices() {
            if character == ' '
                && let Some((end, terminal)) = previous
            {
                let ends_sentence = matches!(terminal, '!' | '?' | '\u{2026}')
                    || (terminal == '.' && !abbreviation(&text[start..end]));
                if ends_sentence {
                    if offset > start {
                        ranges.push(start..offset);
                    }
                    start = offset + 1;
                }
            }
            previous = Some((offset, character));
        }
        if start < text.len() {
            ranges.push(start..text.len());
        }
        ranges
    }

    #[test]
    fn sentences_agree_with_the_character_walk() {
        let texts = [
            "",
            " ",
            ". ",
            " . ! ? \u{2026} x",
            "Arrives in 3 days! Terms apply. Version 2.5 is out?! Yes",
            "Est. delivery in 5 days to the U.S. and e.g. Canada. Next one. Plan B. Done",
            "Wait\u{2026} really\u{2026}? Yes\u{2026}  no. EST. ETC. Approx. 5 (ca. 3) \"St. x",
            "Caf\u{e9}. \u{c9}. \u{212a}. \u{130}nc. INC. i.e. I.E. a.b.c. ab.c. x.",
            "\u{20ac}5. \u{2014}! \u{a0}. end.",
            "Trailing space. ",
            "Double  space.  Here",
        ];
        for text in texts {
            assert_eq!(sentences(text), sentences_per_character(text), "{text:?}");
        }
    }

    #[test]
    fn generated_runs_normalise_as_single_characters_do() {
        // Every kind of character the fast paths must stop at, in pseudo-random order
        // (a fixed linear congruential generator, so failures reproduce).
        let alphabet = [
            "a",
            "b",
            "Z",
            "1",
            ".",
            "!",
            " ",
            " ",
            " ",
            "  ",
            "\n",
            "\t",
            "\r",
            "\u{0B}",
            "\u{1}",
            "\u{7f}",
            "\u{a0}",
            "\u{e9}",
            "\u{2019}",
            "\u{200B}",
            "\u{3000}",
            "ab",
            "word",
            "longerword",
        ];
        // Mostly plain words, so that the sixteen- and eight-byte steps run long.
        let plain = [
            "word",
            "longerword",
            " ",
            " ",
            "ab",
            ".",
            "a",
            "\u{e9}",
            "\n",
            "  ",
            "\u{1}",
        ];
        let mut next = crate::test_support::numbers_below(0x2545_F491_4F6C_DD1D);
        for round in 0..4_000 {
            let alphabet: &[&str] = if round % 2 == 0 { &alphabet } else { &plain };
            let mut pushes = Vec::new();
            for _ in 0..3 {
                let mut raw = String::new();
                let length = next(32) * 3;
                for _ in 0..length {
                    raw.push_str(alphabet[next(alphabet.len())]);
                }
                pushes.push(raw);
            }
            let mut fast = TextBlockBuilder::new(TextScope::Text, 0);
            let mut slow = TextBlockBuilder::new(TextScope::Text, 0);
            for (index, raw) in pushes.iter().enumerate() {
                fast.push(raw, index as u32 + 1);
                push_per_character(&mut slow, raw, index as u32 + 1);
            }
            assert_eq!(fast.text, slow.text, "{pushes:?}");
            assert_eq!(fast.line_marks, slow.line_marks, "{pushes:?}");
            assert_eq!(fast.pending_space, slow.pending_space, "{pushes:?}");
        }
    }

    #[test]
    fn plain_words_accepts_exactly_the_stretches_it_promises() {
        use PlainWords::{IfVerbatimFollows, No, Yes};
        let word = |text: &[u8; 8]| u64::from_le_bytes(*text);
        assert_eq!(plain_words(word(b"ab cd ef"), false), Yes);
        assert_eq!(plain_words(word(b" abc def"), true), Yes);
        assert_eq!(plain_words(word(b" abc def"), false), No);
        assert_eq!(plain_words(word(b"abc def "), true), IfVerbatimFollows);
        assert_eq!(plain_words(word(b" bc def "), true), IfVerbatimFollows);
        assert_eq!(plain_words(word(b" bc def "), false), No);
        assert_eq!(plain_words(word(b"abc de  "), true), No);
        assert_eq!(plain_words(word(b"abc  def"), true), No);
        assert_eq!(plain_words(word(b"abc\tdefg"), true), No);
        assert_eq!(plain_words(word(b"abcd\nefg"), true), No);
        assert_eq!(plain_words(word(b"abc\x7f\x80efg"), true), No);
        assert_eq!(plain_words(word(b"~}|{\x7f!\"#"), false), Yes);
        assert_eq!(plain_words(word(b"\x01bcdefgh"), false), No);
        assert_eq!(plain_words(word(b"\x1fbcdefgh"), false), No);
        assert_eq!(plain_words(word(b"abcdefg\xff"), true), No);
        // Every single byte in every position, and every pair of bytes in every pair of
        // positions (from a set with every boundary the tricks depend on), against the
        // rule stated byte by byte.
        let stated = |text: &[u8; 8], after_verbatim: bool| {
            let printable = |byte: u8| (0x20..0x80).contains(&byte);
            if !text.iter().all(|&byte| printable(byte))
                || text.windows(2).any(|pair| pair == b"  ")
                || (text[0] == b' ' && !after_verbatim)
            {
                No
            } else if text[7] == b' ' {
                IfVerbatimFollows
            } else {
                Yes
            }
        };
        for position in 0..8 {
            for byte in 0..=255u8 {
                let mut text = *b"abcdefgh";
                text[position] = byte;
                for after_verbatim in [false, true] {
                    assert_eq!(
                        plain_words(word(&text), after_verbatim),
                        stated(&text, after_verbatim),
                        "{text:?}"
                    );
                }
            }
        }
        let bytes = [
            0x00, 0x01, 0x09, 0x0A, 0x1F, 0x20, 0x21, 0x41, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xC3,
            0xFF,
        ];
        for first in 0..8 {
            for second in first + 1..8 {
                for &one in &bytes {
                    for &other in &bytes {
                        let mut text = *b"abcdefgh";
                        text[first] = one;
                        text[second] = other;
                        for after_verbatim in [false, true] {
                            assert_eq!(
                                plain_words(word(&text), after_verbatim),
                                stated(&text, after_verbatim),
                                "{text:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The sixteen-byte test against the rule stated byte by byte: every single byte in
    /// every position, every pair of bytes (from a set with every boundary the compares
    /// depend on) in every pair of positions, and the eight-byte test on each half.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn plain_words_16_accepts_exactly_the_stretches_it_promises() {
        use PlainWords::{IfVerbatimFollows, No, Yes};
        let stated = |text: &[u8; 16], after_verbatim: bool| {
            let printable = |byte: u8| (0x20..0x80).contains(&byte);
            if !text.iter().all(|&byte| printable(byte))
                || text.windows(2).any(|pair| pair == b"  ")
                || (text[0] == b' ' && !after_verbatim)
            {
                No
            } else if text[15] == b' ' {
                IfVerbatimFollows
            } else {
                Yes
            }
        };
        let check = |text: &[u8; 16]| {
            for after_verbatim in [false, true] {
                let expected = stated(text, after_verbatim);
                assert_eq!(plain_words_16(*text, after_verbatim), expected, "{text:?}");
                // Two eight-byte steps say the same: both halves kept, or not.
                let (first, second) = text.split_at(8);
                let word = |half: &[u8]| u64::from_le_bytes(half.try_into().expect("eight bytes"));
                let halves = match plain_words(word(first), after_verbatim) {
                    Yes => plain_words(word(second), true),
                    IfVerbatimFollows if second[0] != b' ' => plain_words(word(second), true),
                    _ => No,
                };
                assert_eq!(halves, expected, "{text:?}");
            }
        };
        assert_eq!(plain_words_16(*b"ab cd ef gh ij k", false), Yes);
        assert_eq!(
            plain_words_16(*b"abc def ghi jkl ", true),
            IfVerbatimFollows
        );
        assert_eq!(plain_words_16(*b" abc def ghi jkl", false), No);
        assert_eq!(plain_words_16(*b"abcdefg  hijklmn", true), No);
        for position in 0..16 {
            for byte in 0..=255u8 {
                let mut text = *b"abcdefghijklmnop";
                text[position] = byte;
                check(&text);
            }
        }
        let bytes = [
            0x00, 0x01, 0x09, 0x0A, 0x1F, 0x20, 0x21, 0x41, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xC3,
            0xFF,
        ];
        for first in 0..16 {
            for second in first + 1..16 {
                for &one in &bytes {
                    for &other in &bytes {
                        let mut text = *b"abcdefghijklmnop";
                        text[first] = one;
                        text[second] = other;
                        check(&text);
                    }
                }
            }
        }
    }

    #[test]
    fn whitespace_only_block_is_none() {
        let mut builder = TextBlockBuilder::new(TextScope::Text, 0);
        builder.push(" \n\t ", 1);
        assert!(builder.finish().is_none());
    }

    /// What a test compares of a block: everything it holds.
    fn parts(block: &TextBlock) -> (TextScope, usize, String, LineMarks) {
        (
            block.scope,
            block.node,
            block.text().to_string(),
            block.line_marks.clone(),
        )
    }

    #[test]
    fn collected_blocks_are_the_blocks_fresh_builders_finish() {
        // Random sequences of what the page walk does: runs pushed into the current
        // block, word breaks, the block ended (and the next one started), and
        // single-run blocks (titles, meta text, alt texts) in between. The collector,
        // which keeps two builders and two strings, must give what a fresh builder per
        // block gives, the head's blocks (title, meta description, Open Graph) first.
        let alphabet = [
            "a",
            "Zz",
            " ",
            "  ",
            "\n",
            "\t",
            "\u{a0}",
            "\u{e9}",
            "\u{2019}",
            "\u{200B}",
            "\u{3000}",
            "word",
            "\u{1F600}",
            ".",
            "\r\n",
        ];
        let scopes = [
            TextScope::Text,
            TextScope::Title,
            TextScope::MetaDescription,
            TextScope::Og,
            TextScope::Alt,
        ];
        let mut next = crate::test_support::numbers_below(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let mut expected = Vec::new();
            let mut fresh = TextBlockBuilder::new(TextScope::Text, 0);
            let mut collector = BlockCollector::with_capacity(next(3), next(40));
            for step in 0..next(40) {
                let mut raw = String::new();
                for _ in 0..next(12) {
                    raw.push_str(alphabet[next(alphabet.len())]);
                }
                let line = 1 + next(5) as u32 * (step as u32 + 1);
                match next(5) {
                    0 | 1 => {
                        fresh.push(&raw, line);
                        collector.push(&raw, line);
                    }
                    2 => {
                        fresh.push_space();
                        collector.push_space();
                    }
                    3 => {
                        let node = next(100);
                        let finished = std::mem::replace(
                            &mut fresh,
                            TextBlockBuilder::new(TextScope::Text, node),
                        );
                        expected.extend(finished.finish());
                        collector.end_block(node);
                    }
                    _ => {
                        let (scope, node) = (scopes[1 + next(scopes.len() - 1)], next(100));
                        let mut single = TextBlockBuilder::new(scope, node);
                        single.push(&raw, line);
                        expected.extend(single.finish());
                        collector.add_run(scope, node, &raw, line);
                    }
                }
            }
            expected.extend(fresh.finish());
            collector.end_block(0);
            let collected = collector.finish();
            let (mut expected, body): (Vec<TextBlock>, Vec<TextBlock>) = expected
                .into_iter()
                .partition(|block| is_head_scope(block.scope));
            expected.extend(body);
            let expected: Vec<_> = expected.iter().map(parts).collect();
            let collected: Vec<_> = collected.iter().map(parts).collect();
            assert_eq!(collected, expected);
        }
    }

    #[test]
    fn blocks_share_one_string_and_read_as_their_own_text() {
        let mut collector = BlockCollector::default();
        collector.end_block(3);
        collector.push("Ships\nin 3 days.", 7);
        collector.end_block(4);
        collector.add_run(TextScope::Alt, 5, "\u{200B}", 9);
        collector.add_run(TextScope::Title, 1, " Best \u{201C}cases\u{201D} ", 2);
        collector.add_run(TextScope::Alt, 6, "Red case", 9);
        collector.push("caf\u{e9}", 9);
        collector.end_block(0);
        let blocks = collector.finish();
        let texts: Vec<&str> = blocks.iter().map(TextBlock::text).collect();
        assert_eq!(
            texts,
            [
                "Best \"cases\"",
                "Ships in 3 days.",
                "Red case",
                "caf\u{e9}"
            ]
        );
        // Body text blocks share one string, the blocks of single runs another.
        assert!(Arc::ptr_eq(&blocks[1].shared, &blocks[3].shared));
        assert!(Arc::ptr_eq(&blocks[0].shared, &blocks[2].shared));
        assert_eq!(blocks[2].node, 6);
        assert_eq!((blocks[1].line_at(0), blocks[1].line_at(6)), (7, 8));
        assert_eq!((blocks[3].scope, blocks[3].node), (TextScope::Text, 4));
        assert_eq!(
            format!("{:?}", blocks[3]),
            "TextBlock { scope: Text, text: \"caf\u{e9}\", node: 4, line_marks: [(0, 9)] }"
        );
    }
}
