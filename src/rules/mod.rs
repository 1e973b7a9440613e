//! The pattern library: rule files (TOML) parsed, checked and compiled into a [`RuleSet`].
//!
//! A rule is either a text rule (it has a `pattern`, run by the claims engine over
//! sentences) or a detector rule (no pattern: a code detector such as scan errors uses
//! its id, severity, message and help). Every rule carries examples that must and must
//! not produce a finding; [`harness`] runs them. This module does not scan pages.

pub mod builtin;
pub mod literals;
mod load;

use std::collections::HashMap;

use regex_automata::meta;
use regex_syntax::hir::{
    Capture, Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Repetition,
};
use serde::Deserialize;

use crate::finding::{Confidence, Severity};
use crate::page::TextScope;

pub use load::{RuleError, library_files, load_dir, load_str};

/// Largest compiled size of the regex set of one scope (all text rules together).
const REGEX_SET_SIZE_LIMIT: usize = 256 * 1024 * 1024;

/// Cache of the lazy DFA that runs the rule set: large enough that the whole library
/// does not thrash it (a thrashing cache falls back to a much slower engine).
const REGEX_SET_DFA_CACHE: usize = 64 * 1024 * 1024;

/// Largest compiled size of one rule's own pattern or qualifier.
const RULE_PATTERN_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// A rule's pattern (or qualifier): its source text, compiled when the rule is loaded or
/// on first use.
///
/// Compiling every rule's regex was most of the library's load time (docs/benchmarks.md),
/// yet a rule's own pattern only runs on a sentence the library's [`TextRuleSet`] has
/// already matched, and a qualifier only after its pattern matched: in most runs few
/// rules ever run. So the built-in library, whose every pattern the test suite compiles,
/// compiles them on first use; rule files given at run time are compiled at load, so that
/// a pattern too large to compile is an error naming its file and rule before anything is
/// scanned. The regex has no literal prefilter, which would only cost build time on
/// text that is one sentence long. Matching is the same as `regex::Regex`'s:
/// leftmost-first, UTF-8.
#[derive(Debug, Clone)]
pub struct RulePattern {
    source: String,
    compiled: std::sync::OnceLock<Result<meta::Regex, String>>,
}

impl RulePattern {
    /// A pattern compiled on first use, not checked now: for the built-in library,
    /// whose patterns its tests compile.
    pub fn on_first_use(source: &str) -> RulePattern {
        RulePattern {
            source: source.to_string(),
            compiled: std::sync::OnceLock::new(),
        }
    }

    /// A pattern compiled now; the error is the regex crate's message (a syntax error
    /// with its position, or the size limit).
    pub fn compiled_now(source: &str) -> Result<RulePattern, String> {
        let pattern = RulePattern::on_first_use(source);
        pattern.compile().map_err(str::to_string)?;
        Ok(pattern)
    }

    /// Compiles the pattern now (once; later calls return the same outcome).
    pub fn compile(&self) -> Result<&meta::Regex, &str> {
        self.compiled
            .get_or_init(|| build_regex(&self.source))
            .as_ref()
            .map_err(String::as_str)
    }

    /// The pattern as written in the rule file.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The byte range of the leftmost-first match in `haystack`. A pattern that cannot
    /// be compiled matches nothing; [`RulePattern::compile`] reports why (rule files
    /// are compiled at load, the built-in library by its tests).
    pub fn find(&self, haystack: &str) -> Option<std::ops::Range<usize>> {
        let regex = self.compile().ok()?;
        regex.find(haystack).map(|found| found.range())
    }

    /// True when the pattern matches somewhere in `haystack` (never when it cannot be
    /// compiled, as for [`RulePattern::find`]).
    pub fn is_match(&self, haystack: &str) -> bool {
        self.compile().is_ok_and(|regex| regex.is_match(haystack))
    }
}

/// Builds one rule regex as `regex::Regex` would, minus the literal prefilter.
fn build_regex(source: &str) -> Result<meta::Regex, String> {
    let config = meta::Config::new()
        .auto_prefilter(false)
        .nfa_size_limit(Some(RULE_PATTERN_SIZE_LIMIT))
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true);
    meta::Builder::new()
        .configure(config)
        .syntax(regex_automata::util::syntax::Config::new().utf8(true))
        .build(source)
        .map_err(|error| describe_build_error(&error))
}

/// A regex build error in the words `regex::Error` uses: the syntax error with its
/// position, or the size limit.
fn describe_build_error(error: &meta::BuildError) -> String {
    if let Some(limit) = error.size_limit() {
        format!("Compiled regex exceeds size limit of {limit} bytes.")
    } else if let Some(syntax_error) = error.syntax_error() {
        syntax_error.to_string()
    } else {
        error.to_string()
    }
}

/// True when the assertion `look` (named by its `regex_syntax::hir::Look::as_char`)
/// sees a sentence's edges in the rule set's haystack as it sees them in the sentence
/// alone, when the sentence is separated from its neighbours by spaces (see
/// [`TextRuleSet::may_match_in_block`]).
///
/// Word boundaries, whole or half, ASCII or Unicode, do: a space and the end of the
/// haystack are both "not a word character". So do `^` and `$` in the rule set, which
/// is multi-line with the space as line terminator. Haystack anchors (`A`, `z`: `\A`,
/// `\z`, `(?-m)^`) and CRLF anchors (`r`, `R`, which ignore the configured line
/// terminator) do not, and neither does any assertion this list does not know.
fn edges_look_alike(look: char) -> bool {
    matches!(
        look,
        '^' | '$' | 'b' | 'B' | '𝛃' | '𝚩' | '<' | '>' | '〈' | '〉' | '◁' | '▷' | '◀' | '▶'
    )
}

/// `hir` with every character class that holds some non-ASCII character widened to its
/// ASCII part plus every non-ASCII character, for the rule set.
///
/// The set is a filter whose matches each rule's own pattern confirms (see
/// [`TextRuleSet`]), so it may match more than the patterns do, and widening a class
/// only ever adds matches. What it buys is a smaller lazy DFA: the many ranges of
/// Unicode classes (`(?i)` letters, `\w`, `\s`) split the UTF-8 lead and continuation
/// bytes into many byte classes, and the DFA's transition table has one column per
/// class. With the non-ASCII part in one range the built-in library needs at most 128
/// classes instead of about 200, so each state's row is half as long and the table
/// misses the processor's cache far less often. On ASCII text the set matches exactly
/// what it matched before (a test checks both).
fn widen_non_ascii(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => {
            let has_non_ascii = class.ranges().iter().any(|range| range.end() > '\x7F');
            if !has_non_ascii {
                return hir.clone();
            }
            let mut widened = class.clone();
            widened.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7F')]));
            widened.union(&ClassUnicode::new([ClassUnicodeRange::new(
                '\u{80}',
                char::MAX,
            )]));
            Hir::class(Class::Unicode(widened))
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => hir.clone(),
        HirKind::Repetition(repetition) => Hir::repetition(Repetition {
            min: repetition.min,
            max: repetition.max,
            greedy: repetition.greedy,
            sub: Box::new(widen_non_ascii(&repetition.sub)),
        }),
        HirKind::Capture(capture) => Hir::capture(Capture {
            index: capture.index,
            name: capture.name.clone(),
            sub: Box::new(widen_non_ascii(&capture.sub)),
        }),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(widen_non_ascii).collect()),
        HirKind::Alternation(parts) => {
            Hir::alternation(parts.iter().map(widen_non_ascii).collect())
        }
    }
}

/// The schema name rule files must declare.
pub const RULES_SCHEMA: &str = "promoscan-rules/v1";

/// How far a rule's `unless` qualifier looks for an excuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Within {
    /// The sentence that holds the claim.
    Sentence,
    /// The whole block (paragraph, list item...) that holds the claim.
    Block,
}

/// What a qualifier does to a claim it excuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// No finding.
    Suppress,
    /// The finding's severity drops one step (a note is dropped).
    Downgrade,
}

/// A qualifier that excuses or softens a claim.
#[derive(Debug, Clone)]
pub struct Unless {
    /// The qualifier's pattern.
    pub pattern: RulePattern,
    /// Where it is looked for.
    pub within: Within,
    /// What it does.
    pub effect: Effect,
}

/// One rule example: plain text for text rules, or a page snippet for any rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Example {
    /// A sentence or paragraph, scanned as one block of visible text.
    Text(String),
    /// A page snippet run through the whole scanner.
    Snippet(Snippet),
}

/// A page snippet example (exactly one of `html`, `markdown`, `hex`, `path`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    /// HTML source.
    pub html: Option<String>,
    /// Markdown source.
    pub markdown: Option<String>,
    /// Raw bytes, hex encoded (spaces allowed), scanned as a Markdown file.
    pub hex: Option<String>,
    /// A path to scan (for unreadable-target rules).
    pub path: Option<String>,
    /// A file-size limit to scan the snippet with (for size-limit rules).
    pub max_bytes: Option<u64>,
    /// A nesting-depth limit to scan the snippet with (for the depth-limit rule).
    pub max_depth: Option<usize>,
    /// A followed link's redirect chain, one hop per entry (see
    /// [`crate::follow::example`]), judged by the redirect-chain rules.
    pub chain: Option<Vec<String>>,
    /// A page scanned by URL: its own redirect chain.
    pub page_chain: Option<Vec<String>>,
    /// The text of the link whose `chain` this is.
    pub link_text: Option<String>,
    /// Scan the `html` as a page fetched over HTTP whose body cap is this many bytes.
    pub fetched_cap: Option<usize>,
}

impl Snippet {
    /// How many of `html`, `markdown`, `hex`, `path`, `chain`, `page_chain` are set (a
    /// valid snippet has one).
    pub fn sources(&self) -> usize {
        [
            self.html.is_some(),
            self.markdown.is_some(),
            self.hex.is_some(),
            self.path.is_some(),
            self.chain.is_some(),
            self.page_chain.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }
}

impl Example {
    /// The example as a short printable string, as it would be written in a rule file.
    pub fn describe(&self) -> String {
        match self {
            Example::Text(text) => format!("{text:?}"),
            Example::Snippet(snippet) => {
                let mut parts = Vec::new();
                let fields = [
                    ("html", &snippet.html),
                    ("markdown", &snippet.markdown),
                    ("hex", &snippet.hex),
                    ("path", &snippet.path),
                ];
                for (key, value) in fields {
                    if let Some(value) = value {
                        parts.push(format!("{key} = {value:?}"));
                    }
                }
                if let Some(limit) = snippet.max_bytes {
                    parts.push(format!("max_bytes = {limit}"));
                }
                if let Some(limit) = snippet.max_depth {
                    parts.push(format!("max_depth = {limit}"));
                }
                for (key, chain) in [
                    ("chain", &snippet.chain),
                    ("page_chain", &snippet.page_chain),
                ] {
                    if let Some(chain) = chain {
                        parts.push(format!("{key} = {chain:?}"));
                    }
                }
                if let Some(cap) = snippet.fetched_cap {
                    parts.push(format!("fetched_cap = {cap}"));
                }
                if let Some(text) = &snippet.link_text {
                    parts.push(format!("link_text = {text:?}"));
                }
                format!("{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// A rule's examples.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Must produce a finding of this rule.
    #[serde(rename = "match")]
    pub must_match: Vec<Example>,
    /// Must not produce a finding of this rule.
    pub ok: Vec<Example>,
    /// Known misses: reported by `rules test`, not failing.
    #[serde(default)]
    pub todo_match: Vec<Example>,
    /// Known false alarms: reported, not failing.
    #[serde(default)]
    pub todo_ok: Vec<Example>,
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOrigin {
    /// The rule file (a path, or `patterns/...` for the built-in library).
    pub file: String,
    /// 1-based line of the rule's `id`.
    pub line: u32,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `category/slug`, stable forever.
    pub id: String,
    /// One of [`crate::finding::CATEGORIES`].
    pub category: String,
    /// Default severity.
    pub severity: Severity,
    /// How sure a match is.
    pub confidence: Confidence,
    /// Language of a text rule's pattern (`en`...), from the file.
    pub language: Option<String>,
    /// Message template; `{match}` is replaced by the matched text.
    pub message: String,
    /// How to fix a finding.
    pub help: String,
    /// A longer explanation, for `rules explain` and SARIF.
    pub description: Option<String>,
    /// Regulator guidance and program rules.
    pub references: Vec<String>,
    /// Where a text rule applies.
    pub scope: Vec<TextScope>,
    /// A text rule's pattern; `None` for detector rules.
    pub pattern: Option<RulePattern>,
    /// A text rule's qualifier.
    pub unless: Option<Unless>,
    /// Examples in both directions.
    pub examples: Examples,
    /// Where the rule was defined.
    pub origin: RuleOrigin,
}

impl Rule {
    /// The message with `{match}` filled in.
    pub fn message_for(&self, matched: &str) -> String {
        self.message.replace("{match}", matched)
    }
}

/// A compiled library: rules by id plus one regex set of every text rule, so that a
/// sentence is matched against all of them in one pass.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_id: HashMap<String, usize>,
    /// Every text rule's pattern, matched together in one pass.
    text_set: TextRuleSet,
}

/// Every text rule's pattern in one multi-pattern regex (what `regex::RegexSet` is, built
/// without the literal prefilter), so that a sentence is matched against all of them in
/// one pass of the lazy DFA.
///
/// The set is a filter, not the judge: it matches every sentence that some rule's own
/// pattern matches, and possibly more, so a rule it reports is confirmed with the rule's
/// own pattern ([`RulePattern::find`]). The extra matches come from its anchors: the set
/// is built in multi-line mode with the space as line terminator, so `^` and `$` also
/// match next to any space. That makes a sentence's edges look the same to the set
/// whether the sentence stands alone or sits in its block, which is what
/// [`TextRuleSet::may_match_in_block`] needs.
#[derive(Debug, Clone)]
pub struct TextRuleSet {
    regex: meta::Regex,
    /// For each pattern of `regex`, the index of its rule in the library.
    members: Vec<usize>,
    /// True when every pattern's assertions see a sentence's edges in its block as they
    /// see them in the sentence alone (see [`edges_look_alike`]).
    block_check: bool,
    /// True when no pattern has a Unicode word boundary, so that the lazy DFA runs over
    /// a haystack that is not UTF-8 without giving up (see
    /// [`TextRuleSet::blocks_that_may_match`]).
    batch_check: bool,
}

impl TextRuleSet {
    /// True when the library has no text rule.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// True when some text rule may match somewhere in `text` (always true when one
    /// does; see the type's documentation for when it also says true).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// False only when no sentence of `block` can match a text rule, so that a block can
    /// be skipped with one pass instead of being split into sentences and matched one
    /// sentence at a time. `block` is normalised text whose sentences are separated by
    /// spaces, as [`crate::page::text::sentences`] splits it: each sentence starts at the
    /// block's start or after a space, and ends at the block's end or before a space.
    ///
    /// Why a block the set does not match holds no matching sentence: a sentence's
    /// match is found at the same place in the block (its characters are the same), and
    /// the only parts of a pattern that look outside the characters they match are its
    /// assertions. Around a sentence edge, word boundaries see a non-word character
    /// (the space) in the block and nothing in the sentence, which they treat alike; `^`
    /// and `$` match next to a space in this set. Assertions that only match at the
    /// haystack's very edges (`\A`, `\z`, `(?-m)^`) or CRLF line anchors would not, so
    /// a set with any of them says true here and leaves the work to the sentences.
    pub fn may_match_in_block(&self, block: &str) -> bool {
        !self.block_check || self.regex.is_match(block)
    }

    /// For each of `blocks`, what [`TextRuleSet::may_match_in_block`] says of it (true
    /// for some more blocks), found with far fewer passes of the set than one per block:
    /// most blocks are short, and a pass has a fixed cost of its own.
    ///
    /// The blocks are searched as one haystack, each followed by a space, a 0xFF byte
    /// and a space. No pattern matches the 0xFF byte (the patterns match UTF-8 only), so
    /// no match spans two blocks; the spaces make a block's edges look to the set as
    /// the haystack's edges do (as for sentences in a block, see
    /// [`TextRuleSet::may_match_in_block`]). A search from the start of a block finds
    /// the earliest end of a match: blocks before the one holding that end have no
    /// match (it would end sooner), that one is reported, and the search goes on from
    /// the next block. With a Unicode word boundary in some pattern (the lazy DFA would
    /// give up on the 0xFF bytes), or without the block check, each block is checked
    /// on its own.
    pub fn blocks_that_may_match(&self, blocks: &[&str]) -> Vec<bool> {
        if !self.batch_check || !self.block_check {
            return blocks
                .iter()
                .map(|block| self.may_match_in_block(block))
                .collect();
        }
        const SEPARATOR: &[u8] = b" \xFF ";
        let length = blocks
            .iter()
            .map(|block| block.len() + SEPARATOR.len())
            .sum();
        let mut haystack: Vec<u8> = Vec::with_capacity(length);
        let mut starts: Vec<usize> = Vec::with_capacity(blocks.len());
        for block in blocks {
            starts.push(haystack.len());
            haystack.extend_from_slice(block.as_bytes());
            haystack.extend_from_slice(SEPARATOR);
        }
        let mut may_match = vec![false; starts.len()];
        let mut next = 0;
        while let Some(&start) = starts.get(next) {
            let input = regex_automata::Input::new(&haystack)
                .range(start..)
                .earliest(true);
            let Some(found) = self.regex.search_half(&input) else {
                break;
            };
            // The last block that starts at or before the match's end.
            let holder = next
                + starts[next..]
                    .partition_point(|&start| start <= found.offset())
                    .saturating_sub(1);
            if let Some(slot) = may_match.get_mut(holder) {
                *slot = true;
            }
            next = holder + 1;
        }
        may_match
    }

    /// The library index (for [`RuleSet::rule_at`]) of every text rule that may match
    /// somewhere in `text` (as for [`TextRuleSet::is_match`]), in library order.
    pub fn matching_rules(&self, text: &str) -> Vec<usize> {
        let mut matched = regex_automata::PatternSet::new(self.regex.pattern_len());
        self.regex
            .which_overlapping_matches(&regex_automata::Input::new(text), &mut matched);
        matched
            .iter()
            .map(|pattern| self.members[pattern.as_usize()])
            .collect()
    }
}

impl RuleSet {
    /// Builds a set from rules; ids must be unique across all of them.
    pub fn new(rules: Vec<Rule>) -> Result<RuleSet, RuleError> {
        let mut by_id = HashMap::new();
        for (index, rule) in rules.iter().enumerate() {
            if let Some(previous) = by_id.insert(rule.id.clone(), index) {
                let first = &rules[previous].origin;
                return Err(RuleError::invalid(
                    &rule.origin.file,
                    rule.origin.line,
                    Some(&rule.id),
                    format!(
                        "duplicate rule id (first defined at {}:{})",
                        first.file, first.line
                    ),
                ));
            }
        }
        let combine_error = |message: String| {
            RuleError::invalid(
                "(rule set)",
                0,
                None,
                format!("cannot combine patterns: {message}"),
            )
        };
        // Multi-line, so that `^` and `$` match at the line terminator the set is
        // configured with below (sentences hold no line feed, so `.` is unaffected).
        let syntax = regex_automata::util::syntax::Config::new()
            .utf8(true)
            .multi_line(true);
        let mut text_members = Vec::new();
        let mut hirs = Vec::new();
        let mut block_check = true;
        let mut batch_check = true;
        for (index, rule) in rules.iter().enumerate() {
            let Some(pattern) = &rule.pattern else {
                continue;
            };
            let hir = regex_automata::util::syntax::parse_with(pattern.as_str(), &syntax)
                .map_err(|error| combine_error(error.to_string()))?;
            let looks = hir.properties().look_set();
            block_check &= looks.iter().all(|look| edges_look_alike(look.as_char()));
            batch_check &= !looks.contains_word_unicode();
            text_members.push(index);
            hirs.push(widen_non_ascii(&hir));
        }
        // As `regex::RegexSet` configures it, minus the literal prefilter: a library's
        // `(?i)` alternations yield too many literals for one to help, and extracting
        // them was a quarter of the load time.
        let config = meta::Config::new()
            .auto_prefilter(false)
            .match_kind(regex_automata::MatchKind::All)
            .utf8_empty(true)
            // The implicit whole-match group only: enough for `search_half`, which
            // `blocks_that_may_match` needs (with no group at all it finds nothing).
            .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit)
            .nfa_size_limit(Some(REGEX_SET_SIZE_LIMIT))
            .hybrid_cache_capacity(REGEX_SET_DFA_CACHE)
            .line_terminator(b' ');
        let regex = meta::Builder::new()
            .configure(config)
            .build_many_from_hir(&hirs)
            .map_err(|error| combine_error(describe_build_error(&error)))?;
        Ok(RuleSet {
            rules,
            by_id,
            text_set: TextRuleSet {
                regex,
                members: text_members,
                block_check,
                batch_check,
            },
        })
    }

    /// The built-in library merged with rule files from `extra_dirs`.
    pub fn load(extra_dirs: &[std::path::PathBuf]) -> Result<RuleSet, RuleError> {
        let mut rules = builtin::rules()?;
        for dir in extra_dirs {
            rules.extend(load_dir(dir)?);
        }
        RuleSet::new(rules)
    }

    /// Every rule, in library order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&index| &self.rules[index])
    }

    /// True when `name` is a rule id or a category some rule has.
    pub fn knows(&self, name: &str) -> bool {
        self.by_id.contains_key(name) || self.rules.iter().any(|rule| rule.category == name)
    }

    /// Every text rule's pattern, matched together.
    pub fn text_rules(&self) -> &TextRuleSet {
        &self.text_set
    }

    /// The rule at `index` (as given by [`RuleSet::text_rules`]).
    pub fn rule_at(&self, index: usize) -> &Rule {
        &self.rules[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in text rule's pattern, parsed as the rule set parses it.
    fn builtin_text_patterns() -> Vec<(String, Hir)> {
        let syntax = regex_automata::util::syntax::Config::new()
            .utf8(true)
            .multi_line(true);
        builtin::rules()
            .expect("built-in rules load")
            .into_iter()
            .filter_map(|rule| {
                let pattern = rule.pattern?;
                let hir = regex_automata::util::syntax::parse_with(pattern.as_str(), &syntax)
                    .expect("built-in pattern parses");
                Some((rule.id, hir))
            })
            .collect()
    }

    /// Texts to match the patterns against: every text example of the library, each
    /// also with its non-ASCII characters replaced by ASCII look-alikes and by other
    /// non-ASCII characters, and the fixture articles' lines.
    fn haystacks() -> Vec<String> {
        let mut texts = Vec::new();
        for rule in builtin::rules().expect("built-in rules load") {
            let examples = &rule.examples;
            for example in examples.must_match.iter().chain(&examples.ok) {
                if let Example::Text(text) = example {
                    texts.push(text.clone());
                }
            }
        }
        let articles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/articles");
        for entry in std::fs::read_dir(articles).expect("fixtures/articles is readable") {
            let path = entry.expect("directory entry").path();
            let source = std::fs::read_to_string(&path).expect("fixture is UTF-8");
            texts.extend(source.lines().map(str::to_string));
        }
        let mut variants = Vec::new();
        for text in &texts {
            variants.push(
                text.replace(['’', '‘'], "'")
                    .replace(['“', '”'], "\"")
                    .replace('–', "-"),
            );
            variants.push(text.replace(' ', "\u{a0}").replace('e', "é"));
            variants.push(text.to_uppercase());
        }
        texts.extend(variants);
        texts
    }

    #[test]
    fn widened_patterns_match_a_superset_and_the_same_on_ascii() {
        let texts = haystacks();
        let mut ascii_texts = 0;
        for (id, hir) in builtin_text_patterns() {
            let build = |hir: &Hir| {
                meta::Builder::new()
                    .configure(meta::Config::new().utf8_empty(true))
                    .build_from_hir(hir)
                    .expect("pattern builds")
            };
            let original = build(&hir);
            let widened = build(&widen_non_ascii(&hir));
            for text in &texts {
                let before = original.find(text.as_str());
                let after = widened.find(text.as_str());
                if before.is_some() {
                    assert!(after.is_some(), "{id}: widened set misses {text:?}");
                }
                if text.is_ascii() {
                    ascii_texts += 1;
                    assert_eq!(before, after, "{id}: differs on ASCII text {text:?}");
                }
            }
        }
        assert!(
            ascii_texts > 1000,
            "too few ASCII texts checked: {ascii_texts}"
        );
    }

    #[test]
    fn widening_halves_the_rule_sets_alphabet() {
        let alphabet = |hirs: &[Hir]| {
            regex_automata::nfa::thompson::NFA::compiler()
                .configure(
                    regex_automata::nfa::thompson::Config::new()
                        .nfa_size_limit(Some(REGEX_SET_SIZE_LIMIT)),
                )
                .build_many_from_hir(hirs)
                .expect("set builds")
                .byte_classes()
                .alphabet_len()
        };
        let hirs: Vec<Hir> = builtin_text_patterns()
            .into_iter()
            .map(|(_, hir)| hir)
            .collect();
        let widened: Vec<Hir> = hirs.iter().map(widen_non_ascii).collect();
        let before = alphabet(&hirs);
        let after = alphabet(&widened);
        assert!(
            before > 128,
            "the library's alphabet was already small: {before}"
        );
        assert!(
            after <= 128,
            "widening left {after} byte classes (from {before})"
        );
    }

    #[test]
    fn widening_keeps_ascii_classes_and_widens_unicode_ones() {
        let parse = |pattern: &str| regex_syntax::parse(pattern).expect("parses");
        assert_eq!(widen_non_ascii(&parse("[a-z]+")), parse("[a-z]+"));
        assert_eq!(
            widen_non_ascii(&parse("(?i)k")),
            parse("[Kk\\x{80}-\\x{10FFFF}]")
        );
        assert_eq!(
            widen_non_ascii(&parse("a(?:é|[ü-ÿ0-9])?")),
            parse("a(?:é|[0-9\\x{80}-\\x{10FFFF}])?")
        );
    }
}
