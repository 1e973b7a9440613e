//! Text as the detectors see it: whitespace collapsed, typographic quotes made plain,
//! invisible characters removed, with a map back to source lines; and the sentence
//! splitter every text rule (and the rule-example harness) uses.

use std::ops::Range;

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
#[derive(Debug, Clone)]
pub struct TextBlock {
    /// Where the text came from.
    pub scope: TextScope,
    /// The normalised text.
    pub text: String,
    /// The node the text belongs to (the block element, or the element carrying the
    /// attribute); used by detectors that ask whether the text is hidden.
    pub node: usize,
    /// (byte offset in `text`, source line) pairs, ascending: text from that offset on
    /// comes from that line.
    line_marks: Vec<(usize, u32)>,
}

impl TextBlock {
    /// The 1-based source line of the character at byte `offset` of `text`.
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

/// Builds a [`TextBlock`] from raw character runs, normalising as it goes.
#[derive(Debug)]
pub struct TextBlockBuilder {
    scope: TextScope,
    node: usize,
    text: String,
    line_marks: Vec<(usize, u32)>,
    pending_space: bool,
}

impl TextBlockBuilder {
    /// Starts an empty block of `scope` belonging to `node`.
    pub fn new(scope: TextScope, node: usize) -> Self {
        TextBlockBuilder {
            scope,
            node,
            text: String::new(),
            line_marks: Vec::new(),
            pending_space: false,
        }
    }

    /// True when nothing but whitespace has been pushed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends a raw run of characters that starts on source line `line`.
    ///
    /// Runs of ASCII without whitespace (nothing in them to normalise) are copied whole;
    /// other characters go one at a time. Both paths give the same text and line marks as
    /// a character-by-character walk (a test checks it).
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
            } else if byte.is_ascii() {
                let end = bytes[position..]
                    .iter()
                    .position(|&b| !b.is_ascii() || is_ascii_whitespace(b))
                    .map_or(bytes.len(), |length| position + length);
                // Room for the rest of `raw` (and a space): at most one reallocation per
                // call, however many words it holds; none for whitespace-only runs.
                self.text.reserve(bytes.len() - position + 1);
                self.start_run(line, &mut marked_line);
                self.text.push_str(&raw[position..end]);
                position = end;
            } else {
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
    }

    /// Before appending visible characters from source line `line`: the pending space,
    /// and a line mark when the line changed.
    fn start_run(&mut self, line: u32, marked_line: &mut Option<u32>) {
        if self.pending_space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.pending_space = false;
        if *marked_line != Some(line) {
            self.line_marks.push((self.text.len(), line));
            *marked_line = Some(line);
        }
    }

    /// Marks a word boundary (e.g. a `<br>`), so words on either side do not run together.
    pub fn push_space(&mut self) {
        self.pending_space = true;
    }

    /// Finishes the block; `None` when it holds no text.
    pub fn finish(self) -> Option<TextBlock> {
        if self.text.is_empty() {
            return None;
        }
        Some(TextBlock {
            scope: self.scope,
            text: self.text,
            node: self.node,
            line_marks: self.line_marks,
        })
    }
}

/// The ASCII characters `char::is_whitespace` accepts (tab, line feed, vertical tab, form
/// feed, carriage return, space; `u8::is_ascii_whitespace` leaves out vertical tab).
fn is_ascii_whitespace(byte: u8) -> bool {
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
    builder.finish().map(|block| block.text).unwrap_or_default()
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
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut previous: Option<(usize, char)> = None;
    for (offset, character) in text.char_indices() {
        if character == ' '
            && let Some((end, terminal)) = previous
        {
            let ends_sentence = matches!(terminal, '!' | '?' | '…')
                || (terminal == '.' && !ends_with_abbreviation(&text[start..end]));
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

/// True when `before_period` (the text up to a final '.') ends with an abbreviation or a
/// single-letter initial.
fn ends_with_abbreviation(before_period: &str) -> bool {
    let word = before_period
        .rsplit([' ', '(', '"', '\''])
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return true;
    }
    // "U.S" (from "U.S."): letters separated by periods.
    if word.contains('.') && word.split('.').all(|part| part.chars().count() == 1) {
        return true;
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
        assert_eq!(block.text, "Free shipping today");
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

    #[test]
    fn whitespace_only_block_is_none() {
        let mut builder = TextBlockBuilder::new(TextScope::Text, 0);
        builder.push(" \n\t ", 1);
        assert!(builder.finish().is_none());
    }
}
