//! The claims detector: text rules from the pattern library run over every text block
//! of a page, one sentence at a time, with their `unless` qualifiers.
//!
//! All text rules are matched together with one pass of the rule set over the whole
//! block, which rules out most blocks at once; in a block it may match, one pass per
//! sentence, and only the rules the set reports are run again, with their own patterns,
//! to confirm the match and find its position.

use crate::finding::{Finding, Location, Severity};
use crate::page::text::sentences;
use crate::page::{Page, TextBlock};
use crate::rules::{Effect, RuleSet, Within};

/// Longest matched text quoted in a message.
const MAX_QUOTED_MATCH: usize = 80;
/// Longest evidence (the sentence) kept in a finding.
const MAX_EVIDENCE: usize = 240;

/// One text rule matching in one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMatch {
    /// Index of the rule in the rule set.
    pub rule_index: usize,
    /// Byte range of the match in the block's text.
    pub matched: std::ops::Range<usize>,
    /// Byte range of the sentence holding it.
    pub sentence: std::ops::Range<usize>,
    /// Severity after the rule's qualifier (never below `note`: dropped instead).
    pub severity: Severity,
}

/// Runs every text rule that applies to the block's scope over the block, sentence by
/// sentence. At most one match per rule and sentence.
pub fn find_claims(rules: &RuleSet, block: &TextBlock) -> Vec<ClaimMatch> {
    let set = rules.text_rules();
    // Most blocks match no rule: one pass over the whole block rules them out without
    // splitting them into sentences.
    if set.is_empty() || !set.may_match_in_block(block.text()) {
        return Vec::new();
    }
    find_claims_in_sentences(rules, block)
}

/// [`find_claims`] without the block check: for a block that check let through.
fn find_claims_in_sentences(rules: &RuleSet, block: &TextBlock) -> Vec<ClaimMatch> {
    let set = rules.text_rules();
    let mut found = Vec::new();
    for sentence in sentences(block.text()) {
        let sentence_text = &block.text()[sentence.clone()];
        // Most sentences of a block that may match match no rule: the plain "any
        // match?" search is much cheaper than asking which rules match (an overlapping
        // search over every pattern). The set may also report rules that do not match
        // (see `TextRuleSet`): each rule's own pattern decides.
        if !set.is_match(sentence_text) {
            continue;
        }
        for rule_index in set.matching_rules(sentence_text) {
            let rule = rules.rule_at(rule_index);
            if !rule.scope.contains(&block.scope) {
                continue;
            }
            let Some(pattern) = &rule.pattern else {
                continue;
            };
            let Some(matched) = pattern.find(sentence_text) else {
                continue;
            };
            let mut severity = Some(rule.severity);
            if let Some(unless) = &rule.unless {
                let window = match unless.within {
                    Within::Sentence => sentence_text,
                    Within::Block => block.text(),
                };
                if unless.pattern.is_match(window) {
                    severity = match unless.effect {
                        Effect::Suppress => None,
                        Effect::Downgrade => rule.severity.downgraded(),
                    };
                }
            }
            if let Some(severity) = severity {
                found.push(ClaimMatch {
                    rule_index,
                    matched: sentence.start + matched.start..sentence.start + matched.end,
                    sentence: sentence.clone(),
                    severity,
                });
            }
        }
    }
    found
}

/// The claims detector over a whole page. `source_line` gives the text of a 1-based line
/// of the file the user gave, empty when out of range (used to find the column of a
/// match on its line). Blocks for which `is_hidden` says
/// true are skipped: claims are judged in what readers see (hidden offer text is the
/// hidden-content detector's).
pub fn detect<'s>(
    page: &Page,
    rules: &RuleSet,
    target: &str,
    source_line: impl Fn(u32) -> &'s str,
    is_hidden: impl Fn(usize) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let shown: Vec<&TextBlock> = page
        .blocks
        .iter()
        .filter(|block| !(block.scope == crate::page::TextScope::Text && is_hidden(block.node)))
        .collect();
    // Most blocks match no rule: one pass of the rule set over all of them together
    // rules them out (the block check of `find_claims`), leaving the few that may match.
    let texts: Vec<&str> = shown.iter().map(|block| block.text()).collect();
    let may_match = if rules.text_rules().is_empty() {
        vec![false; texts.len()]
    } else {
        rules.text_rules().blocks_that_may_match(&texts)
    };
    for (block, _) in shown.into_iter().zip(may_match).filter(|(_, may)| *may) {
        for claim in find_claims_in_sentences(rules, block) {
            let rule = rules.rule_at(claim.rule_index);
            let matched = &block.text()[claim.matched.clone()];
            let line = block.line_at(claim.matched.start);
            let column = column_of(source_line(line), matched);
            findings.push(Finding {
                rule: rule.id.clone(),
                category: rule.category.clone(),
                severity: claim.severity,
                confidence: rule.confidence,
                message: rule.message_for(&shorten(matched, MAX_QUOTED_MATCH)),
                target: target.to_string(),
                location: Some(Location { line, column }),
                evidence: Some(shorten(&block.text()[claim.sentence.clone()], MAX_EVIDENCE)),
                url: None,
                network: None,
                chain: None,
                help: rule.help.clone(),
            });
        }
    }
    findings
}

/// The 1-based character column of `matched` on the source line `source_line`: where its
/// first word appears on that line (case-insensitive), else 1. Source lines hold markup
/// and entities, so this is a best effort that is right for ordinary prose.
fn column_of(source_line: &str, matched: &str) -> u32 {
    let first_word = matched.split(' ').next().unwrap_or("");
    fast_column_of(source_line, first_word)
        .unwrap_or_else(|| crate::position::column_of(source_line, first_word, true))
        .unwrap_or(1)
}

/// What `crate::position::column_of(line, needle, true)` gives, with the searched part
/// of `line` lower-cased a chunk at a time: a chunk of ASCII text in one go, others a
/// character at a time (`str::to_lowercase` goes a character at a time after the
/// first non-ASCII one). `None` when the part holds a capital sigma, the one character
/// whose lower case depends on its neighbours.
fn fast_column_of(line: &str, needle: &str) -> Option<Option<u32>> {
    /// Bytes lower-cased in one go when they are all ASCII.
    const CHUNK: usize = 32;
    if needle.is_empty() {
        return Some(None);
    }
    let mut end = line.len().min(crate::position::COLUMN_SEARCH_LIMIT);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let window = &line[..end];
    // The common case, an ASCII needle: no lowered copy. When no character changes its
    // byte length, lower-casing maps ASCII bytes to ASCII bytes and other characters to
    // non-ASCII ones at the same offsets, so the needle matches the lowered window
    // exactly where it matches the window with ASCII case ignored.
    if needle.is_ascii() {
        if let Some(unusual) = first_unusual_lowering(window) {
            return match unusual {
                UnusualLowering::CapitalSigma => None,
                UnusualLowering::LengthChanges => Some(None),
            };
        }
        let column = find_ignoring_ascii_case(window.as_bytes(), needle.as_bytes())
            .and_then(|offset| window.get(..offset))
            .map(|before| u32::try_from(before.chars().count()).unwrap_or(u32::MAX - 1) + 1);
        return Some(column);
    }
    let mut lower = String::with_capacity(window.len());
    let mut start = 0;
    while start < window.len() {
        let mut stop = (start + CHUNK).min(window.len());
        while !window.is_char_boundary(stop) {
            stop -= 1;
        }
        let chunk = &window[start..stop];
        if chunk.is_ascii() {
            let from = lower.len();
            lower.push_str(chunk);
            lower[from..].make_ascii_lowercase();
        } else {
            for character in chunk.chars() {
                if character == '\u{3A3}' {
                    return None;
                }
                let from = lower.len();
                lower.extend(character.to_lowercase());
                // As `position::column_of`: offsets are only trusted when no character
                // changed its byte length (`İ`, `ẞ`).
                if lower.len() - from != character.len_utf8() {
                    return Some(None);
                }
            }
        }
        start = stop;
    }
    let Some(offset) = lower.find(&needle.to_lowercase()) else {
        return Some(None);
    };
    let Some(before) = window.get(..offset) else {
        return Some(None);
    };
    Some(Some(
        u32::try_from(before.chars().count()).unwrap_or(u32::MAX - 1) + 1,
    ))
}

/// A character whose lower case [`fast_column_of`] cannot search in place.
enum UnusualLowering {
    /// `Σ`, whose lower case depends on its neighbours.
    CapitalSigma,
    /// A character whose lower case has another byte length (`İ`, `ẞ`, `K`).
    LengthChanges,
}

/// The first character of `text` whose lower case is unusual, `None` when there is
/// none. ASCII is skipped eight bytes at a time (no ASCII character is unusual).
fn first_unusual_lowering(text: &str) -> Option<UnusualLowering> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let bytes = text.as_bytes();
    let mut position = 0;
    while position < bytes.len() {
        if let Some(chunk) = bytes.get(position..position + 8)
            && let Ok(chunk) = <[u8; 8]>::try_from(chunk)
            && u64::from_le_bytes(chunk) & HIGH_BITS == 0
        {
            position += 8;
            continue;
        }
        let character = text.get(position..)?.chars().next()?;
        position += character.len_utf8();
        if character.is_ascii() {
            continue;
        }
        if character == '\u{3A3}' {
            return Some(UnusualLowering::CapitalSigma);
        }
        let lowered: usize = character.to_lowercase().map(char::len_utf8).sum();
        if lowered != character.len_utf8() {
            return Some(UnusualLowering::LengthChanges);
        }
    }
    None
}

/// Where `needle` first appears in `haystack`, ASCII letters compared case-blind;
/// `None` when it does not (or is empty). Jumps between the places where the needle's
/// first byte appears in either case.
fn find_ignoring_ascii_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let last_start = haystack.len().checked_sub(needle.len())?;
    let candidates = &haystack[..=last_start];
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        candidates,
    )
    .find(|&start| haystack[start..start + needle.len()].eq_ignore_ascii_case(needle))
}

/// `text` cut to at most `limit` characters, with an ellipsis when cut.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Confidence;
    use crate::page::TextScope;
    use crate::page::text::TextBlockBuilder;
    use crate::rules::{Example, Examples, Rule, RuleOrigin, RulePattern};

    /// A text rule set of `patterns`, in order, every rule applying to every scope.
    fn rule_set(patterns: &[&str]) -> RuleSet {
        let rules = patterns
            .iter()
            .enumerate()
            .map(|(index, pattern)| Rule {
                id: format!("claim-test/rule-{index}"),
                category: "claim-test".to_string(),
                severity: Severity::Warning,
                confidence: Confidence::Medium,
                language: Some("en".to_string()),
                message: "{match}".to_string(),
                help: String::new(),
                description: None,
                references: Vec::new(),
                scope: vec![
                    TextScope::Text,
                    TextScope::Title,
                    TextScope::MetaDescription,
                    TextScope::Og,
                    TextScope::Alt,
                ],
                pattern: Some(RulePattern::compiled_now(pattern).expect("test pattern")),
                unless: None,
                examples: Examples::default(),
                origin: RuleOrigin {
                    file: "test.toml".to_string(),
                    line: 1,
                },
            })
            .collect();
        RuleSet::new(rules).expect("unique ids")
    }

    fn block(text: &str) -> TextBlock {
        let mut builder = TextBlockBuilder::new(TextScope::Text, 0);
        builder.push(text, 1);
        builder.finish().expect("some text")
    }

    /// What `find_claims` must return, found the slow way: every text rule's own
    /// pattern run over every sentence, with no rule set and no block check.
    fn claims_sentence_by_sentence(rules: &RuleSet, block: &TextBlock) -> Vec<ClaimMatch> {
        let mut found = Vec::new();
        for sentence in sentences(block.text()) {
            let sentence_text = &block.text()[sentence.clone()];
            for (rule_index, rule) in rules.rules().iter().enumerate() {
                let Some(pattern) = &rule.pattern else {
                    continue;
                };
                if !rule.scope.contains(&block.scope) {
                    continue;
                }
                let Some(matched) = pattern.find(sentence_text) else {
                    continue;
                };
                let mut severity = Some(rule.severity);
                if let Some(unless) = &rule.unless {
                    let window = match unless.within {
                        Within::Sentence => sentence_text,
                        Within::Block => block.text(),
                    };
                    if unless.pattern.is_match(window) {
                        severity = match unless.effect {
                            Effect::Suppress => None,
                            Effect::Downgrade => rule.severity.downgraded(),
                        };
                    }
                }
                if let Some(severity) = severity {
                    found.push(ClaimMatch {
                        rule_index,
                        matched: sentence.start + matched.start..sentence.start + matched.end,
                        sentence: sentence.clone(),
                        severity,
                    });
                }
            }
        }
        found
    }

    /// Checking many blocks together rules out only blocks that the check of each block
    /// alone rules out, with the built-in library and with anchored rules, on the
    /// library's examples and on blocks made of several sentences.
    #[test]
    fn blocks_checked_together_are_checked_as_alone() {
        let builtin = RuleSet::load(&[]).expect("built-in library");
        let mut texts: Vec<String> = Vec::new();
        for rule in builtin.rules() {
            let examples = &rule.examples;
            for example in examples.must_match.iter().chain(&examples.ok) {
                if let Example::Text(text) = example {
                    texts.push(text.clone());
                }
            }
        }
        for first in SENTENCES {
            for second in SENTENCES {
                texts.push(format!("{first} {second}"));
            }
        }
        texts.push("Nothing to see here.".to_string());
        texts.push("caf\u{e9} \u{212A}elvin".to_string());
        for rules in [builtin, rule_set(ANCHORED)] {
            let set = rules.text_rules();
            let alone: Vec<bool> = texts
                .iter()
                .map(|text| set.may_match_in_block(text))
                .collect();
            let all: Vec<&str> = texts.iter().map(String::as_str).collect();
            let together = set.blocks_that_may_match(&all);
            assert_eq!(together, alone);
            // Every third block alone, so that neighbours differ.
            let some: Vec<&str> = texts.iter().step_by(3).map(String::as_str).collect();
            let alone: Vec<bool> = some
                .iter()
                .map(|text| set.may_match_in_block(text))
                .collect();
            assert_eq!(set.blocks_that_may_match(&some), alone);
            assert!(alone.iter().any(|may| *may) && alone.iter().any(|may| !*may));
        }
    }

    /// The column search by chunks gives what `position::column_of` does, on ASCII and
    /// non-ASCII lines, and leaves lines with a capital sigma to it.
    #[test]
    fn chunked_columns_are_the_unicode_columns() {
        let limit = crate::position::COLUMN_SEARCH_LIMIT;
        let long = format!("{}Deal here", "x".repeat(limit - 4));
        let long_accented = format!("{}\u{e9}Deal here", "x".repeat(limit - 5));
        let lines = [
            "<p>Only 2 LEFT in stock</p>",
            "<p>only only ONLY</p>",
            "",
            "no match on this line",
            long.as_str(),
            long_accented.as_str(),
            "kelvin k and K",
            "Caf\u{e9} \u{c9}T\u{c9} \u{2014} ONLY today, na\u{ef}ve Deal",
            "\u{130}stanbul only \u{1e9e}X deal",
            "\u{1e9e}\u{130} \u{df}x only",
            "\u{2018}Only\u{2019} \u{201c}2 left\u{201d} \u{20ac}5 DEAL \u{212a}",
        ];
        let needles = [
            "only",
            "Only",
            "LEFT",
            "",
            "deal",
            "Deal",
            "\u{212A}",
            "k",
            "caf\u{e9}",
            "x",
            "\u{c9}t\u{e9}",
            "\u{df}",
            "i\u{307}stanbul",
            "\u{20ac}5",
        ];
        for line in lines {
            for needle in needles {
                let expected = crate::position::column_of(line, needle, true);
                assert_eq!(
                    fast_column_of(line, needle),
                    Some(expected),
                    "{line:?} {needle:?}"
                );
            }
        }
        assert_eq!(fast_column_of("\u{3a3}\u{3a3} only", "only"), None);
        // Generated ASCII lines, some with one non-ASCII character (some of them with an
        // unusual lower case), and needles with or without one, against the plain search.
        let alphabet = ["a", "B", "ab", "Ab", "aB", " ", "<", "z", "AB", "\u{e9}"];
        let mut next = crate::test_support::numbers_below(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3_000 {
            let mut line = String::new();
            for _ in 0..next(40) {
                line.push_str(alphabet[next(alphabet.len() - 1)]);
            }
            if next(3) == 0 {
                let special = ["\u{e9}", "\u{130}", "\u{3a3}", "\u{1e9e}", "\u{212a}"];
                let at = next(line.len() + 1);
                line.insert_str(at, special[next(special.len())]);
            }
            let mut needle = String::new();
            for _ in 0..next(4) {
                needle.push_str(alphabet[next(alphabet.len())]);
            }
            let expected = crate::position::column_of(&line, &needle, true);
            // `None` (leave it to the plain search) only for a capital sigma.
            let fast = fast_column_of(&line, &needle);
            let sigma = line.contains('\u{3a3}');
            assert!(
                fast == Some(expected) || (sigma && fast.is_none()),
                "{line:?} {needle:?}: {fast:?}, expected {expected:?}"
            );
        }
        assert_eq!(column_of("\u{3a3}\u{3a3} only", "Only here"), 4);
        assert_eq!(column_of("caf\u{e9} only", "Only here"), 6);
        assert_eq!(column_of("<b>Only</b> 2 left", "only 2 left"), 4);
    }

    /// Sentences that start or end with what anchored rules look for, with abbreviations,
    /// initials and an ellipsis (which do and do not end a sentence).
    const SENTENCES: &[&str] = &[
        "Free shipping on every order.",
        "Hurry, the deal ends today!",
        "Is it really free?",
        "Save approx. 80% on U.S. orders.",
        "-80% off, e.g. on cables.",
        "Wait… free returns",
        "We are Amazon",
        "only today",
        "Deal",
    ];

    /// Patterns with every kind of assertion the block check accepts, at a sentence's
    /// start and end.
    const ANCHORED: &[&str] = &[
        r"^Free shipping",
        r"(?i)^deal$",
        r"today!$",
        r"free\?$",
        r"(?m)^Hurry\b",
        r"\bfree returns$",
        r"(?:^|[\s(])-[7-9]\d\s?%",
        r"(?i)only\s+today\s*(?:[.!?]|$)",
        r"(?i)\bwe\s+are\s+amazon\s*(?:[.!,;]|$)",
        r"approx\. 80% on U\.S\. orders\.$",
        r"(?-u:\b)on\s+cables\.",
        r"\b(?:ends|every)\b",
        r"(?i)\bwai\B",
    ];

    #[test]
    fn the_block_check_keeps_every_match_at_sentence_edges() {
        let rules = rule_set(ANCHORED);
        let mut checked = 0;
        for first in SENTENCES {
            for second in SENTENCES {
                for third in ["", "Deal", "Nothing to see here."] {
                    let text = format!("{first} {second} {third}");
                    let block = block(&text);
                    let expected = claims_sentence_by_sentence(&rules, &block);
                    assert_eq!(find_claims(&rules, &block), expected, "{text:?}");
                    if !expected.is_empty() {
                        assert!(rules.text_rules().may_match_in_block(block.text()));
                        checked += 1;
                    }
                }
            }
        }
        // Most of the blocks hold some match, so the comparison above means something.
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn anchored_rules_match_in_the_middle_of_a_block() {
        let rules = rule_set(&[r"^Free shipping", r"today!$"]);
        let block = block("Read on. Free shipping on all orders. Ends today! Really.");
        let found = find_claims(&rules, &block);
        let matched: Vec<&str> = found
            .iter()
            .map(|claim| &block.text()[claim.matched.clone()])
            .collect();
        assert_eq!(matched, ["Free shipping", "today!"]);
        // Neither pattern matches the block as one haystack: the rule set's own anchors
        // (multi-line, at spaces) are what let the block check through.
        assert!(
            rules
                .rule_at(0)
                .pattern
                .as_ref()
                .unwrap()
                .find(block.text())
                .is_none()
        );
        assert!(
            rules
                .rule_at(1)
                .pattern
                .as_ref()
                .unwrap()
                .find(block.text())
                .is_none()
        );
        assert!(rules.text_rules().may_match_in_block(block.text()));
    }

    #[test]
    fn haystack_anchors_turn_the_block_check_off() {
        let block = block("Read on. Free shipping on all orders.");
        for pattern in [
            r"\AFree shipping",
            r"(?-m)^Free shipping",
            r"Read on\.\z",
            r"(?mR)^Free shipping",
            r"(?R)(?m:Read on\.$)",
        ] {
            let rules = rule_set(&[pattern]);
            // Off: says "may match" even for a block no sentence of which matches.
            assert!(
                rules.text_rules().may_match_in_block("Nothing here."),
                "{pattern}"
            );
            let found = find_claims(&rules, &block);
            assert_eq!(found.len(), 1, "{pattern}");
            assert_eq!(found, claims_sentence_by_sentence(&rules, &block));
        }
    }

    #[test]
    fn a_block_with_no_match_is_ruled_out() {
        let rules = rule_set(ANCHORED);
        assert!(
            !rules
                .text_rules()
                .may_match_in_block("Nothing to see here. Move on.")
        );
        let builtin = RuleSet::load(&[]).expect("built-in library");
        assert!(
            !builtin
                .text_rules()
                .may_match_in_block("Nothing to see here. Move on.")
        );
    }

    /// The block check relies on sentences being separated by spaces.
    #[test]
    fn sentences_start_and_end_at_spaces_or_the_block_edges() {
        for first in SENTENCES {
            for second in SENTENCES {
                let text = format!("{first} {second} Etc. and so on... U.S. A. B. end");
                let bytes = text.as_bytes();
                for sentence in sentences(&text) {
                    assert!(sentence.start == 0 || bytes[sentence.start - 1] == b' ');
                    assert!(sentence.end == text.len() || bytes[sentence.end] == b' ');
                }
            }
        }
    }

    /// The built-in library's text examples, alone and in the middle of a block, give
    /// what matching sentence by sentence with every rule's own pattern gives.
    #[test]
    fn builtin_examples_are_found_as_sentence_by_sentence() {
        let rules = RuleSet::load(&[]).expect("built-in library");
        let mut texts = Vec::new();
        for rule in rules.rules() {
            let examples = &rule.examples;
            for example in examples
                .must_match
                .iter()
                .chain(&examples.ok)
                .chain(&examples.todo_match)
                .chain(&examples.todo_ok)
            {
                if let Example::Text(text) = example {
                    texts.push(text.clone());
                }
            }
        }
        assert!(texts.len() > 300, "{}", texts.len());
        let mut found = 0;
        for text in &texts {
            for text in [text.clone(), format!("Read on. {text} (And more) then.")] {
                let block = block(&text);
                let expected = claims_sentence_by_sentence(&rules, &block);
                assert_eq!(find_claims(&rules, &block), expected, "{text:?}");
                found += expected.len();
            }
        }
        assert!(found > 300, "{found}");
    }
}
