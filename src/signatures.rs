//! JavaScript signatures (`patterns/scripts.toml`): what a script does that matters for
//! affiliate compliance — navigating away, clicking or submitting by itself, opening
//! windows, requesting URLs, injecting frames, resetting a countdown. Data, not code:
//! each signature is a regex with examples, tested like rules.
//!
//! Scripts are never executed. A signature sees the code as written; URLs built at run
//! time (`'https://s.click.' + 'aliexpress.com'`) or fetched from elsewhere are out of
//! reach, and so is minified code that renames `location`.

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet, meta};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use serde::Deserialize;
use std::sync::OnceLock;

/// The schema name of `patterns/scripts.toml`.
pub const SIGNATURES_SCHEMA: &str = "promoscan-scripts/v1";

/// Largest compiled size of one signature regex.
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// What a script does when a signature matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptAction {
    /// Changes the page's location (`location = …`, `.replace(…)`, `.assign(…)`).
    Navigate,
    /// Clicks an element by script (`el.click()`, `dispatchEvent(new MouseEvent('click'))`).
    Click,
    /// Submits a form by script.
    Submit,
    /// Opens a window or tab (`window.open`).
    OpenWindow,
    /// Requests a URL in the background (`new Image().src`, `fetch`, `sendBeacon`, XHR).
    Request,
    /// Creates a frame and points it at a URL, or writes one into the document.
    InjectFrame,
    /// Restarts a countdown on every visit (`Date.now() + 15*60*1000`, reset at zero).
    CountdownReset,
}

impl ScriptAction {
    /// The name used in the signature file.
    pub fn name(self) -> &'static str {
        match self {
            ScriptAction::Navigate => "navigate",
            ScriptAction::Click => "click",
            ScriptAction::Submit => "submit",
            ScriptAction::OpenWindow => "open-window",
            ScriptAction::Request => "request",
            ScriptAction::InjectFrame => "inject-frame",
            ScriptAction::CountdownReset => "countdown-reset",
        }
    }
}

/// One compiled signature.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Stable id, e.g. `location-assign`.
    pub id: String,
    /// What the script does.
    pub action: ScriptAction,
    /// The pattern; a group named `url` (or `url2`, `url3`…) captures the address.
    pub pattern: Regex,
    /// Code that must match.
    pub must_match: Vec<String>,
    /// Code that must not match.
    pub ok: Vec<String>,
}

/// One match of a signature in a piece of code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureMatch {
    /// Index of the signature in [`Signatures::all`].
    pub signature: usize,
    /// Byte range of the match in the code.
    pub range: std::ops::Range<usize>,
    /// The captured address, if the signature captures one.
    pub url: Option<String>,
}

/// Where a signature matches in a piece of code, without the address it captures (see
/// [`Signatures::url_of`]): most matches are dropped (they sit in click handlers) before
/// anyone needs the address, and finding the groups costs more than finding the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSpan {
    /// Index of the signature in [`Signatures::all`].
    pub signature: usize,
    /// Byte range of the match in the code.
    pub range: std::ops::Range<usize>,
}

/// How many signatures may be run over a piece of code, once their literals are found
/// in it, before the code is first passed through the ASCII filter instead: a signature
/// runs with its own literal prefilter, much faster per byte than the filter, which
/// only pays off when many signatures are left.
const MAX_UNFILTERED: usize = 4;

/// The signature library.
#[derive(Debug, Clone)]
pub struct Signatures {
    signatures: Vec<Signature>,
    /// For each signature, a searcher for strings one of which its every match contains
    /// ([`crate::rules::literals::necessary`]): code holding none of them cannot match
    /// it. `None` for a signature with no such strings. Each is built on first use
    /// ([`Signatures::gate`]): loading the library stays quick.
    gates: Vec<OnceLock<Option<Gate>>>,
    /// For each signature, its pattern compiled with a prefilter on its first two or three
    /// bytes, when its own prefilter looks for one byte only ([`prefix_searcher`]);
    /// `None` to search with the pattern itself. Built on first use, like the gates.
    prefix_searchers: Vec<OnceLock<Option<meta::Regex>>>,
    /// Every signature's pattern in one regex that says which of them match ASCII code
    /// (see [`ascii_filter`]); `None` when the patterns cannot be compiled that way.
    ascii_filter: Option<meta::Regex>,
    /// For each signature, the indices of its groups named `url…`, in group order: the
    /// first of them that takes part in a match holds the address.
    url_groups: Vec<Vec<usize>>,
}

/// The signature file is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {}{message}", signature.as_ref().map(|id| format!("signature '{id}': ")).unwrap_or_default())]
pub struct SignatureError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// The signature id, when the problem is in one signature.
    pub signature: Option<String>,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: String,
    #[serde(rename = "signature")]
    signatures: Vec<RawSignature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    id: String,
    action: ScriptAction,
    description: Option<String>,
    pattern: String,
    examples: RawExamples,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    #[serde(rename = "match")]
    must_match: Vec<String>,
    ok: Vec<String>,
}

const BUILTIN: &str = include_str!("../patterns/scripts.toml");

impl Signatures {
    /// The built-in library.
    pub fn builtin() -> Result<Signatures, SignatureError> {
        Signatures::load_str("patterns/scripts.toml", BUILTIN)
    }

    /// Parses and checks a signature file.
    pub fn load_str(file: &str, source: &str) -> Result<Signatures, SignatureError> {
        let error = |line: u32, signature: Option<&str>, message: String| SignatureError {
            file: file.to_string(),
            line,
            signature: signature.map(str::to_string),
            message,
        };
        let raw: RawFile = toml::from_str(source).map_err(|e| {
            let line = e
                .span()
                .map(|span| crate::position::line_of_offset(source, span.start))
                .unwrap_or(0);
            error(line, None, e.message().to_string())
        })?;
        if raw.schema != SIGNATURES_SCHEMA {
            return Err(error(
                0,
                None,
                format!("schema must be '{SIGNATURES_SCHEMA}'"),
            ));
        }
        let mut signatures: Vec<Signature> = Vec::new();
        for raw_signature in raw.signatures {
            let line = source
                .lines()
                .position(|l| {
                    l.trim_start().starts_with("id")
                        && l.contains(&format!("\"{}\"", raw_signature.id))
                })
                .map(|i| i as u32 + 1)
                .unwrap_or(0);
            let id = raw_signature.id.clone();
            if signatures.iter().any(|s| s.id == id) {
                return Err(error(line, Some(&id), "duplicate signature id".to_string()));
            }
            let _ = raw_signature.description;
            let pattern = RegexBuilder::new(&raw_signature.pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| error(line, Some(&id), format!("invalid regex: {e}")))?;
            if raw_signature.examples.must_match.is_empty() || raw_signature.examples.ok.is_empty()
            {
                return Err(error(
                    line,
                    Some(&id),
                    "needs examples.match and examples.ok".to_string(),
                ));
            }
            signatures.push(Signature {
                id,
                action: raw_signature.action,
                pattern,
                must_match: raw_signature.examples.must_match,
                ok: raw_signature.examples.ok,
            });
        }
        let patterns: Vec<&str> = signatures
            .iter()
            .map(|signature| signature.pattern.as_str())
            .collect();
        let gates = patterns.iter().map(|_| OnceLock::new()).collect();
        let prefix_searchers = patterns.iter().map(|_| OnceLock::new()).collect();
        let ascii_filter = ascii_filter(&patterns);
        let url_groups = signatures
            .iter()
            .map(|signature| {
                let names = signature.pattern.capture_names().enumerate();
                names
                    .filter(|(_, name)| name.is_some_and(|name| name.starts_with("url")))
                    .map(|(group, _)| group)
                    .collect()
            })
            .collect();
        Ok(Signatures {
            signatures,
            gates,
            prefix_searchers,
            ascii_filter,
            url_groups,
        })
    }

    /// Every signature.
    pub fn all(&self) -> &[Signature] {
        &self.signatures
    }

    /// Every match of every signature in `code`, in code order, with the address each
    /// captures.
    pub fn find(&self, code: &str) -> Vec<SignatureMatch> {
        self.find_spans(code)
            .into_iter()
            .map(|span| SignatureMatch {
                url: self.url_of(code, &span),
                signature: span.signature,
                range: span.range,
            })
            .collect()
    }

    /// Where every signature matches in `code`, in code order (the addresses are left
    /// for [`Signatures::url_of`]).
    ///
    /// Most code matches few signatures or none: only the signatures whose literals the
    /// code holds are run; when that leaves many and the code is ASCII (most code is),
    /// one pass of the filter says which of them match, and only those are run.
    pub fn find_spans(&self, code: &str) -> Vec<SignatureSpan> {
        let mut selected: Vec<bool> = (0..self.signatures.len())
            .map(|index| self.gate(index).is_none_or(|gate| gate.is_match(code)))
            .collect();
        if selected.iter().filter(|&&selected| selected).count() > MAX_UNFILTERED
            && let Some(matching) = self.matching_in_ascii(code)
        {
            for (slot, matches) in selected.iter_mut().zip(matching) {
                *slot &= matches;
            }
        }
        self.spans_among(code, Some(&selected))
    }

    /// The address captured by the match `span` of [`Signatures::find_spans`] in the
    /// same `code`, if its signature captures one there.
    pub fn url_of(&self, code: &str, span: &SignatureSpan) -> Option<String> {
        let groups = self.url_groups.get(span.signature)?;
        if groups.is_empty() {
            return None;
        }
        let pattern = &self.signatures.get(span.signature)?.pattern;
        // The search from the match's start finds that same match (the leftmost from
        // there; `\b` still sees the code before it), this time with its groups.
        let captures = pattern.captures_at(code, span.range.start)?;
        groups
            .iter()
            .find_map(|&group| captures.get(group))
            .map(|found| found.as_str().to_string())
    }

    /// The gate of signature `index`, built the first time it is asked for; `None` when
    /// the signature has none (then it always runs).
    fn gate(&self, index: usize) -> Option<&Gate> {
        let signature = self.signatures.get(index)?;
        self.gates
            .get(index)?
            .get_or_init(|| Gate::new(signature.pattern.as_str()))
            .as_ref()
    }

    /// The searcher of signature `index` with a longer prefilter, built the first time it
    /// is asked for; `None` when the signature's own pattern searches as well.
    fn prefix_searcher(&self, index: usize) -> Option<&meta::Regex> {
        let signature = self.signatures.get(index)?;
        self.prefix_searchers
            .get(index)?
            .get_or_init(|| prefix_searcher(signature.pattern.as_str()))
            .as_ref()
    }

    /// For each signature, whether it matches `code`; `None` when there is no filter or
    /// `code` is not ASCII (the filter is only exact on ASCII text).
    fn matching_in_ascii(&self, code: &str) -> Option<Vec<bool>> {
        let filter = self.ascii_filter.as_ref()?;
        if !code.is_ascii() {
            return None;
        }
        let mut matched = PatternSet::new(filter.pattern_len());
        filter.which_overlapping_matches(&Input::new(code), &mut matched);
        let mut selected = vec![false; self.signatures.len()];
        for pattern in matched.iter() {
            if let Some(slot) = selected.get_mut(pattern.as_usize()) {
                *slot = true;
            }
        }
        Some(selected)
    }

    /// Where the signatures `selected` says true for (all of them when `None`) match in
    /// `code`, in code order.
    fn spans_among(&self, code: &str, selected: Option<&[bool]>) -> Vec<SignatureSpan> {
        let mut found = Vec::new();
        for (index, signature) in self.signatures.iter().enumerate() {
            if selected.is_some_and(|selected| !selected.get(index).copied().unwrap_or(true)) {
                continue;
            }
            if let Some(searcher) = self.prefix_searcher(index) {
                for whole in searcher.find_iter(code) {
                    found.push(SignatureSpan {
                        signature: index,
                        range: whole.range(),
                    });
                }
                continue;
            }
            for whole in signature.pattern.find_iter(code) {
                found.push(SignatureSpan {
                    signature: index,
                    range: whole.range(),
                });
            }
        }
        found.sort_by_key(|m| (m.range.start, m.signature));
        found
    }

    /// Runs every signature's examples; returns a description of each misbehaving one.
    pub fn check_examples(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (index, signature) in self.signatures.iter().enumerate() {
            for code in &signature.must_match {
                if !self.find(code).iter().any(|m| m.signature == index) {
                    failures.push(format!("{}: should match: {code:?}", signature.id));
                }
            }
            for code in &signature.ok {
                if self.find(code).iter().any(|m| m.signature == index) {
                    failures.push(format!("{}: should not match: {code:?}", signature.id));
                }
            }
        }
        failures
    }
}

/// A search for the strings one of which every match of a signature contains
/// ([`crate::rules::literals::necessary`]): code holding none of them cannot match it.
#[derive(Debug, Clone)]
enum Gate {
    /// Several strings searched together with SIMD (Teddy), much faster than an
    /// automaton whose strings start with common letters.
    Packed(aho_corasick::packed::Searcher),
    /// One string (searched with `memmem`), or strings Teddy cannot take.
    Automaton(AhoCorasick),
}

impl Gate {
    /// The gate of `pattern`; `None` when it has no necessary strings or does not parse
    /// (then the signature always runs).
    fn new(pattern: &str) -> Option<Gate> {
        let hir = syntax::parse(pattern).ok()?;
        let strings = crate::rules::literals::necessary(&hir)?;
        if strings.len() > 1
            && let Some(searcher) = aho_corasick::packed::Config::new()
                .builder()
                .extend(&strings)
                .build()
        {
            return Some(Gate::Packed(searcher));
        }
        AhoCorasick::new(&strings).ok().map(Gate::Automaton)
    }

    /// True when `code` holds one of the strings.
    fn is_match(&self, code: &str) -> bool {
        match self {
            Gate::Packed(searcher) => searcher.find(code).is_some(),
            Gate::Automaton(automaton) => automaton.is_match(code),
        }
    }
}

/// Longest prefix, in bytes, that [`prefix_searcher`] looks for.
const PREFIX_LENGTH: usize = 3;

/// Most characters a class may have for [`prefix_searcher`] to spell it out (`\s` has 25).
const PREFIX_CLASS_LIMIT: usize = 32;

/// Most prefixes [`prefix_searcher`] looks for (beyond that, the prefilter slows down).
const PREFIX_COUNT_LIMIT: usize = 64;

/// `pattern` compiled with a prefilter on the first two or three bytes of its matches,
/// when the regex crate's own choice looks for single bytes; `None` otherwise.
///
/// The regex crate stops its prefix literals at a class it deems too large: for
/// `\.\s*click\s*\(` it looks for every `.` of the code and starts the automaton there,
/// and code has a `.` every twenty-odd bytes. Spelling the class out (`.` then each
/// space character, or `.cl`) gives prefixes that are rare in code. Every match starts
/// with one of them, so the search finds the same matches, only faster.
fn prefix_searcher(pattern: &str) -> Option<meta::Regex> {
    let hir = syntax::parse(pattern).ok()?;
    let own = Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &hir);
    if own.is_some_and(|prefilter| prefilter.max_needle_len() > 1) {
        return None;
    }
    let mut prefixes = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(PREFIX_CLASS_LIMIT)
        .limit_literal_len(PREFIX_LENGTH)
        .limit_total(PREFIX_COUNT_LIMIT)
        .extract(&hir);
    prefixes.dedup();
    // A finite set only (an infinite one means "any text"), none shorter than two bytes.
    let literals = prefixes.literals()?;
    if literals.is_empty() || literals.iter().any(|literal| literal.as_bytes().len() < 2) {
        return None;
    }
    let prefilter = Prefilter::new(MatchKind::LeftmostFirst, literals)?;
    let config = meta::Config::new()
        .prefilter(Some(prefilter))
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT));
    meta::Builder::new().configure(config).build(pattern).ok()
}

/// Every pattern in one multi-pattern regex compiled without Unicode (ASCII classes and
/// word boundaries, matching bytes), which on ASCII code matches exactly where the
/// patterns compiled with Unicode do: there every character is ASCII, and Unicode and
/// ASCII classes, case folding and word boundaries agree on ASCII characters. It only
/// says which patterns match (no positions, no captures), in one pass of the lazy DFA;
/// with no Unicode word boundary it never gives up on the way. `None` when some pattern
/// needs Unicode (`\p{…}`) or the set cannot be built.
fn ascii_filter(patterns: &[&str]) -> Option<meta::Regex> {
    let config = meta::Config::new()
        .match_kind(MatchKind::All)
        .which_captures(WhichCaptures::None)
        .auto_prefilter(false)
        .utf8_empty(false)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT));
    meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build_many(patterns)
        .ok()
}

/// Byte ranges of `code` that run only after a user gesture: bodies of handlers
/// registered for click-like events (`addEventListener('click', …)`, `.onclick = …`,
/// jQuery `.click(…)` / `.on('click', …)`). Found by brace matching, so braces inside
/// strings can confuse it; it errs towards "not a gesture" (reporting more).
pub fn gesture_handler_ranges(code: &str) -> Vec<std::ops::Range<usize>> {
    let registrations: Vec<regex::Match<'_>> = registration_pattern().find_iter(code).collect();
    if registrations.is_empty() {
        return Vec::new();
    }
    // Each handler's body is found from its registration: the next block, if no
    // statement ends first (a handler given by name, `addEventListener('click', go);`,
    // has no body here), up to the `}` that closes it. Handlers are short, so this
    // reads a small part of the code; should their bodies add up to more than the code
    // (nested or unclosed handlers), one pass over the whole code finds every block
    // instead, so the time stays linear.
    let mut budget = code.len();
    let mut ranges = Vec::with_capacity(registrations.len());
    for registration in &registrations {
        match handler_body(code, registration.end(), &mut budget) {
            Some(Some(end)) => ranges.push(registration.start()..end),
            Some(None) => {}
            None => return ranges_from_blocks(code, &registrations),
        }
    }
    ranges
}

/// The end of the handler body after a registration ending at `from`: just after the
/// `}` that closes the first `{` after `from`, or the code's end when none does.
/// `Some(None)` when there is no such `{`, or a `;` comes before it. `None` when that
/// would read more than `budget` bytes (what it reads is taken off `budget`).
fn handler_body(code: &str, from: usize, budget: &mut usize) -> Option<Option<usize>> {
    let bytes = code.as_bytes();
    let rest = bytes.get(from..).unwrap_or_default();
    let Some(found) = memchr::memchr2(b'{', b';', rest) else {
        *budget = budget.checked_sub(rest.len())?;
        return Some(None);
    };
    let open = from + found;
    if bytes[open] == b';' {
        *budget = budget.checked_sub(found)?;
        return Some(None);
    }
    let mut depth = 0usize;
    for offset in memchr::memchr2_iter(b'{', b'}', &bytes[open..]) {
        if bytes[open + offset] == b'{' {
            depth += 1;
        } else {
            depth -= 1;
            if depth == 0 {
                *budget = budget.checked_sub(found + offset)?;
                return Some(Some(open + offset + 1));
            }
        }
    }
    *budget = budget.checked_sub(rest.len())?;
    Some(Some(code.len()))
}

/// [`gesture_handler_ranges`] by one pass over the code: every block with the last
/// `;` before it, so that each registration is a lookup.
fn ranges_from_blocks(
    code: &str,
    registrations: &[regex::Match<'_>],
) -> Vec<std::ops::Range<usize>> {
    let blocks = blocks_of(code);
    let mut ranges = Vec::new();
    for registration in registrations {
        let index = blocks.partition_point(|block| block.open < registration.end());
        let Some(block) = blocks.get(index) else {
            continue;
        };
        if block
            .last_semicolon_before
            .is_some_and(|at| at >= registration.end())
        {
            continue;
        }
        ranges.push(registration.start()..block.end);
    }
    ranges
}

/// The start of a handler registration for a click-like event ([`gesture_handler_ranges`]).
fn registration_pattern() -> &'static Regex {
    static REGISTRATION: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r#"(?i)(?:addEventListener\s*\(\s*["'`](?:click|mousedown|mouseup|pointerdown|pointerup|touchstart|touchend|submit|keydown|keyup|keypress|dblclick|auxclick|contextmenu)["'`]\s*,|\.on(?:click|mousedown|mouseup|pointerdown|pointerup|touchstart|touchend|submit|keydown|keyup|dblclick)\s*=|\.(?:click|submit|mousedown|touchstart)\s*\(\s*(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)|\.on\s*\(\s*["'`](?:click|submit|touchstart|mousedown)["'`]\s*,)"#,
        )
        .unwrap_or_else(|_| Regex::new("$^").expect("empty regex"))
    });
    &REGISTRATION
}

/// A `{…}` block of code, found by brace matching.
struct Block {
    /// Offset of its `{`.
    open: usize,
    /// Offset just after its matching `}` (the code's length when it has none).
    end: usize,
    /// Offset of the last `;` before its `{`.
    last_semicolon_before: Option<usize>,
}

/// Every block of `code`, in the order of their `{`, in one pass.
fn blocks_of(code: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut unclosed = Vec::new();
    let mut last_semicolon = None;
    for offset in memchr::memchr3_iter(b'{', b'}', b';', code.as_bytes()) {
        match code.as_bytes()[offset] {
            b'{' => {
                unclosed.push(blocks.len());
                blocks.push(Block {
                    open: offset,
                    end: code.len(),
                    last_semicolon_before: last_semicolon,
                });
            }
            b'}' => {
                if let Some(block) = unclosed.pop().and_then(|index| blocks.get_mut(index)) {
                    block.end = offset + 1;
                }
            }
            b';' => last_semicolon = Some(offset),
            _ => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain way to find matches, kept to check [`Signatures::find`]: every
    /// signature run over the code with its groups, the address read from the first
    /// `url…` group that took part.
    fn every_match_with_captures(signatures: &Signatures, code: &str) -> Vec<SignatureMatch> {
        let mut found = Vec::new();
        for (index, signature) in signatures.all().iter().enumerate() {
            for captures in signature.pattern.captures_iter(code) {
                let Some(whole) = captures.get(0) else {
                    continue;
                };
                let url = signature
                    .pattern
                    .capture_names()
                    .flatten()
                    .filter(|name| name.starts_with("url"))
                    .find_map(|name| captures.name(name))
                    .map(|m| m.as_str().to_string());
                found.push(SignatureMatch {
                    signature: index,
                    range: whole.range(),
                    url,
                });
            }
        }
        found.sort_by_key(|m| (m.range.start, m.signature));
        found
    }

    /// Finding the spans first and the addresses after gives what running every
    /// signature with its groups gives, on generated code: pieces of every example,
    /// quotes, braces, handlers, non-ASCII text, matches next to each other; also empty
    /// and large code.
    #[test]
    fn spans_then_addresses_match_the_plain_search() {
        let signatures = Signatures::builtin().expect("valid");
        let mut pieces: Vec<String> = Vec::new();
        for signature in signatures.all() {
            pieces.extend(signature.must_match.iter().cloned());
            pieces.extend(signature.ok.iter().cloned());
        }
        pieces.extend(
            [
                "",
                " ",
                "\n",
                "{",
                "}",
                "'",
                "\"",
                "`",
                ";",
                "\u{a0}",
                "caf\u{e9}",
                "\u{212A}",
                "location",
                "location.href=",
                "= '",
                "src=",
                ".src = \"",
                "https://amzn.to/x",
                "btn.addEventListener('click', function () {",
                "window.open(",
                "fetch('",
                "sendBeacon(`",
                "\\x2f",
                "if (t <= 0) t = 9",
                ". click()",
                ".\u{a0}click ( )",
                ".\u{2003}click()",
                ".\u{3000}submit()",
                ".\u{17f}ubmit()",
                ".\n\tsrc = 'https://a'",
                ". open('GET', 'https://a')",
                ".\u{85}write('<img src=https://a>')",
                "..click()",
                ".cl",
                ".",
            ]
            .map(String::from),
        );
        // The same pieces every run.
        let mut next_below = crate::test_support::numbers_below(0x5eed);
        let mut codes = vec![String::new()];
        for _ in 0..300 {
            let count = next_below(12);
            let code: String = (0..count)
                .map(|_| pieces[next_below(pieces.len())].as_str())
                .collect();
            codes.push(code);
        }
        codes.push(pieces.join("").repeat(40));
        for code in &codes {
            assert_eq!(
                signatures.find(code),
                every_match_with_captures(&signatures, code),
                "{code}"
            );
        }
    }

    /// The searchers with a longer prefilter find what the patterns find, on generated
    /// code (pieces of every example, every space character after a `.`, non-ASCII text),
    /// empty code and large code; the signatures that start with `\.\s*` get one.
    #[test]
    fn prefix_searchers_find_what_the_patterns_find() {
        let signatures = Signatures::builtin().expect("valid");
        let with_searcher: Vec<&str> = (0..signatures.all().len())
            .filter(|&index| signatures.prefix_searcher(index).is_some())
            .map(|index| signatures.all()[index].id.as_str())
            .collect();
        assert!(
            with_searcher.contains(&"element-click"),
            "{with_searcher:?}"
        );
        assert!(
            !with_searcher.contains(&"location-assign"),
            "{with_searcher:?}"
        );
        let mut pieces: Vec<String> = Vec::new();
        for signature in signatures.all() {
            pieces.extend(signature.must_match.iter().cloned());
            pieces.extend(signature.ok.iter().cloned());
        }
        let spaces = [
            " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}",
            "\u{200a}", "\u{2028}", "\u{202f}", "\u{205f}", "\u{3000}",
        ];
        pieces.extend(spaces.iter().map(|space| format!(".{space}")));
        pieces.extend(
            [
                ".",
                "click",
                "()",
                "(",
                ")",
                "submit",
                "src = 'https://a'",
                "open('GET', 'x')",
                "write('<iframe src=\"https://a\">')",
                "\u{17f}ubmit",
                "CLICK",
                "é",
                "日本",
                "",
            ]
            .map(String::from),
        );
        let mut next_below = crate::test_support::numbers_below(0x7a11);
        let mut codes = vec![String::new()];
        for _ in 0..2_000 {
            let count = next_below(10);
            codes.push(
                (0..count)
                    .map(|_| pieces[next_below(pieces.len())].as_str())
                    .collect(),
            );
        }
        codes.push(pieces.concat().repeat(50));
        for (index, signature) in signatures.all().iter().enumerate() {
            let Some(searcher) = signatures.prefix_searcher(index) else {
                continue;
            };
            for code in &codes {
                let fast: Vec<_> = searcher.find_iter(code).map(|m| m.range()).collect();
                let plain: Vec<_> = signature
                    .pattern
                    .find_iter(code)
                    .map(|m| m.range())
                    .collect();
                assert_eq!(fast, plain, "{}: {code:?}", signature.id);
            }
        }
    }

    #[test]
    fn builtin_signatures_pass_their_examples() {
        let signatures = Signatures::builtin().expect("valid");
        assert!(signatures.all().len() >= 10);
        let failures = signatures.check_examples();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// The filter changes nothing: each example alone, all of them in one script, and
    /// the same with a non-ASCII character (no filter), match as every signature run
    /// over the code does.
    #[test]
    fn the_ascii_filter_keeps_every_match() {
        let signatures = Signatures::builtin().expect("valid");
        assert!(signatures.ascii_filter.is_some());
        let mut examples: Vec<String> = Vec::new();
        for signature in signatures.all() {
            examples.extend(signature.must_match.iter().cloned());
            examples.extend(signature.ok.iter().cloned());
        }
        let everything = examples.join("\n");
        examples.push(everything.clone());
        examples.push(format!("// caf\u{e9}\n{everything}"));
        examples.push("var x = 1;".to_string());
        for code in &examples {
            assert_eq!(
                signatures.find(code),
                every_match_with_captures(&signatures, code),
                "{code}"
            );
        }
        assert!(signatures.find(&everything).len() > 20);
        // Unicode `\s` matches a no-break space, ASCII `\s` does not: code that is not
        // ASCII runs every signature.
        let spaced = "window.location\u{a0}= 'https://amzn.to/x';";
        let found = signatures.find(spaced);
        assert_eq!(found, every_match_with_captures(&signatures, spaced));
        assert_eq!(signatures.all()[found[0].signature].id, "location-assign");
        let ascii = signatures.matching_in_ascii("var x = 1;").expect("ASCII");
        assert!(ascii.iter().all(|matched| !matched));
        assert!(signatures.matching_in_ascii("// caf\u{e9}").is_none());
    }

    /// Every built-in signature has literals, and every match of it in its examples
    /// holds one of them: code without them is rightly passed over.
    #[test]
    fn every_signature_match_holds_a_literal_of_its_gate() {
        let signatures = Signatures::builtin().expect("valid");
        for (index, signature) in signatures.all().iter().enumerate() {
            let gate = signatures
                .gate(index)
                .expect("literals for every built-in signature");
            for code in signature.must_match.iter().chain(&signature.ok) {
                for found in signature.pattern.find_iter(code) {
                    assert!(gate.is_match(found.as_str()), "{}: {code}", signature.id);
                }
            }
        }
        // Code with no literal runs no signature; code with a few runs only those.
        assert!(signatures.find("var x = 1; y(x);").is_empty());
        let code = "navigator.sendBeacon('/api/out', e); if (a && b) {}";
        assert_eq!(
            signatures.find(code),
            every_match_with_captures(&signatures, code)
        );
        assert_eq!(signatures.find(code).len(), 1);
    }

    /// The former way to find handler bodies, kept to check [`gesture_handler_ranges`]:
    /// every '{' with its '}', and every ';' in a list of its own.
    fn gesture_handler_ranges_with_semicolon_list(code: &str) -> Vec<std::ops::Range<usize>> {
        let registrations: Vec<regex::Match<'_>> = registration_pattern().find_iter(code).collect();
        let mut opens = Vec::new();
        let mut closes = Vec::new();
        let mut semicolons = Vec::new();
        let mut stack = Vec::new();
        for offset in memchr::memchr3_iter(b'{', b'}', b';', code.as_bytes()) {
            match code.as_bytes()[offset] {
                b'{' => {
                    stack.push(opens.len());
                    opens.push(offset);
                    closes.push(code.len());
                }
                b'}' => {
                    if let Some(index) = stack.pop() {
                        closes[index] = offset + 1;
                    }
                }
                b';' => semicolons.push(offset),
                _ => {}
            }
        }
        let mut ranges = Vec::new();
        for registration in registrations {
            let index = opens.partition_point(|&open| open < registration.end());
            let Some(&open) = opens.get(index) else {
                continue;
            };
            let first_semicolon = semicolons.partition_point(|&at| at < registration.end());
            if semicolons.get(first_semicolon).is_some_and(|&at| at < open) {
                continue;
            }
            ranges.push(registration.start()..closes[index]);
        }
        ranges
    }

    /// Blocks with the last ';' before each give the handler bodies the list of every
    /// ';' gave, on generated code (handlers by body and by name, stray and missing
    /// braces, non-ASCII text), empty code and long code.
    #[test]
    fn handler_bodies_match_the_semicolon_list_search() {
        let pieces = [
            "",
            " ",
            "\n",
            "{",
            "}",
            ";",
            "'",
            "caf\u{e9}",
            "\u{212A}",
            "x = 1",
            "btn.addEventListener('click', function () ",
            "a.addEventListener('click', go)",
            "el.onclick = ",
            "$('#b').click(function () ",
            ".on('submit', ",
            "() => ",
            "location.href = 'https://a'",
            "window.onload = function () ",
        ];
        let mut next_below = crate::test_support::numbers_below(0x9e37);
        let mut codes = vec![String::new()];
        for _ in 0..500 {
            let count = next_below(16);
            codes.push(
                (0..count)
                    .map(|_| pieces[next_below(pieces.len())])
                    .collect(),
            );
        }
        codes.push(pieces.concat().repeat(300));
        let mut fallbacks = 0;
        for code in &codes {
            let expected = gesture_handler_ranges_with_semicolon_list(code);
            assert_eq!(gesture_handler_ranges(code), expected, "{code}");
            // Both ways on their own: from each registration (with no limit), and by
            // one pass over every block.
            let registrations: Vec<regex::Match<'_>> =
                registration_pattern().find_iter(code).collect();
            assert_eq!(ranges_from_blocks(code, &registrations), expected, "{code}");
            let mut unlimited = usize::MAX;
            let mut budget = code.len();
            let mut from_registrations = Vec::new();
            for registration in &registrations {
                if handler_body(code, registration.end(), &mut budget).is_none() {
                    fallbacks += 1;
                }
                if let Some(Some(end)) = handler_body(code, registration.end(), &mut unlimited) {
                    from_registrations.push(registration.start()..end);
                }
            }
            assert_eq!(from_registrations, expected, "{code}");
        }
        assert!(fallbacks > 0, "some codes read past the limit");
    }

    #[test]
    fn gesture_ranges_cover_click_handlers_only() {
        let code = "btn.addEventListener('click', function () { location.href = 'https://a'; });\nlocation.href = 'https://b';";
        let ranges = gesture_handler_ranges(code);
        assert_eq!(ranges.len(), 1);
        let first = code.find("https://a").unwrap();
        let second = code.find("https://b").unwrap();
        assert!(ranges[0].contains(&first));
        assert!(!ranges[0].contains(&second));
    }

    #[test]
    fn a_scripted_click_or_a_url_is_not_a_handler() {
        let code = "document.querySelector('a.deal').click();\nnew Image().src = 'https://s.click.aliexpress.com/e/_D';\nwindow.onload = function () { window.open('https://x'); };";
        assert!(gesture_handler_ranges(code).is_empty());
        let jquery = "$('#buy').click(function () { location.href = 'https://a'; });";
        assert_eq!(gesture_handler_ranges(jquery).len(), 1);
        let named =
            "btn.addEventListener('click', go);\nfunction later() { location.href = 'https://b'; }";
        assert!(gesture_handler_ranges(named).is_empty());
    }

    #[test]
    fn many_unclosed_handlers_stay_linear() {
        let code = "a.addEventListener('click', function () {".repeat(50_000);
        let ranges = gesture_handler_ranges(&code);
        assert_eq!(ranges.len(), 50_000);
        assert!(ranges.iter().all(|range| range.end == code.len()));
    }

    #[test]
    fn bad_file_names_file_and_signature() {
        let text = "schema = \"promoscan-scripts/v1\"\n[[signature]]\nid = \"x\"\naction = \"navigate\"\npattern = '(open'\n[signature.examples]\nmatch = [\"a\"]\nok = [\"b\"]\n";
        let message = Signatures::load_str("s.toml", text)
            .expect_err("bad regex")
            .to_string();
        assert!(
            message.starts_with("s.toml:3: signature 'x': invalid regex"),
            "{message}"
        );
    }
}
