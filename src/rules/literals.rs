//! Necessary literals: for a regex, a few strings one of which every match contains,
//! so that text holding none of them can be passed over without running the regex.
//!
//! The analysis only ever says less than it could, never something false: when it
//! cannot name such strings for a pattern, [`necessary`] says `None`. Strings are exact
//! bytes (case-sensitive): a case-insensitive letter is a class (`(?i)k` is
//! `[Kk\u{212A}]`, the Kelvin sign included), spelled out as each of its characters.

use std::collections::BTreeSet;

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most strings one part of a pattern may stand for before the analysis stops spelling
/// that part out (and looks at the pattern's other parts instead).
const MAX_STRINGS: usize = 64;

/// Most characters of a class spelled out as strings (a larger one, such as `\s` or
/// `\w`, says nothing).
const MAX_CLASS_CHARACTERS: usize = 16;

/// A set of strings (UTF-8 bytes, or single bytes of a byte class).
type Strings = BTreeSet<Vec<u8>>;

/// What is known about the matches of (part of) a pattern.
enum Facts {
    /// Every match is one of the strings.
    Exactly(Strings),
    /// Every match contains one of the strings, none of which is empty.
    Contains(Strings),
    /// Nothing useful.
    Unknown,
}

/// Strings one of which every match of `hir` contains; `None` when the analysis finds
/// none (e.g. for `\w+`, or a pattern that can match the empty string). An empty set
/// means the pattern never matches.
pub fn necessary(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match facts(hir) {
        Facts::Exactly(strings) | Facts::Contains(strings) if is_useful(&strings) => {
            Some(minimal(&strings))
        }
        _ => None,
    }
}

/// True when no string is empty (every text contains the empty string).
fn is_useful(strings: &Strings) -> bool {
    !strings.contains(&Vec::new())
}

/// The empty string alone: what a look-around assertion or an empty pattern matches.
fn empty() -> Strings {
    BTreeSet::from([Vec::new()])
}

/// The facts about `hir`'s matches.
fn facts(hir: &Hir) -> Facts {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Facts::Exactly(empty()),
        HirKind::Literal(literal) => Facts::Exactly(BTreeSet::from([literal.0.to_vec()])),
        HirKind::Class(class) => class_facts(class),
        HirKind::Capture(capture) => facts(&capture.sub),
        HirKind::Repetition(repetition) => {
            match (repetition.min, repetition.max, facts(&repetition.sub)) {
                (_, _, Facts::Unknown) => Facts::Unknown,
                // `x?`: a match of x, or nothing.
                (0, Some(1), Facts::Exactly(mut strings)) => {
                    strings.insert(Vec::new());
                    Facts::Exactly(strings)
                }
                (0, _, _) => Facts::Unknown,
                (1, Some(1), inner) => inner,
                // At least one x: every match holds a match of x.
                (_, _, Facts::Exactly(strings) | Facts::Contains(strings)) => contains(strings),
            }
        }
        HirKind::Concat(parts) => concat_facts(parts),
        HirKind::Alternation(branches) => {
            let mut all = Strings::new();
            let mut exact = true;
            for branch in branches {
                match facts(branch) {
                    Facts::Exactly(strings) => all.extend(strings),
                    Facts::Contains(strings) => {
                        exact = false;
                        all.extend(strings);
                    }
                    Facts::Unknown => return Facts::Unknown,
                }
            }
            if exact && all.len() <= MAX_STRINGS {
                Facts::Exactly(all)
            } else {
                contains(all)
            }
        }
    }
}

/// `Contains` of `strings`, or `Unknown` when one of them is empty or there are more
/// than a few times [`MAX_STRINGS`].
fn contains(strings: Strings) -> Facts {
    if is_useful(&strings) && strings.len() <= 4 * MAX_STRINGS {
        Facts::Contains(strings)
    } else {
        Facts::Unknown
    }
}

/// A small class is each of its characters (or bytes); a large one says nothing.
fn class_facts(class: &Class) -> Facts {
    let mut strings = Strings::new();
    match class {
        Class::Unicode(class) => {
            let mut count = 0usize;
            for range in class.iter() {
                count += (range.end() as usize).saturating_sub(range.start() as usize) + 1;
                if count > MAX_CLASS_CHARACTERS {
                    return Facts::Unknown;
                }
                for character in range.start()..=range.end() {
                    strings.insert(character.to_string().into_bytes());
                }
            }
        }
        Class::Bytes(class) => {
            let mut count = 0usize;
            for range in class.iter() {
                count += usize::from(range.end()).saturating_sub(usize::from(range.start())) + 1;
                if count > MAX_CLASS_CHARACTERS {
                    return Facts::Unknown;
                }
                for byte in range.start()..=range.end() {
                    strings.insert(vec![byte]);
                }
            }
        }
    }
    Facts::Exactly(strings)
}

/// A concatenation: runs of parts whose matches are spelled out are joined into longer
/// strings (every combination); the best of those runs and of the other parts' own
/// strings (longest shortest string, then fewest strings) is what the whole contains.
fn concat_facts(parts: &[Hir]) -> Facts {
    let mut candidates: Vec<Strings> = Vec::new();
    let mut run = empty();
    let mut spelled_out = true;
    for part in parts {
        match facts(part) {
            Facts::Exactly(strings) => match product(&run, &strings) {
                Some(joined) => run = joined,
                None => {
                    spelled_out = false;
                    candidates.push(std::mem::replace(&mut run, strings));
                }
            },
            Facts::Contains(strings) => {
                spelled_out = false;
                candidates.push(std::mem::replace(&mut run, empty()));
                candidates.push(strings);
            }
            Facts::Unknown => {
                spelled_out = false;
                candidates.push(std::mem::replace(&mut run, empty()));
            }
        }
    }
    if spelled_out {
        return Facts::Exactly(run);
    }
    candidates.push(run);
    candidates
        .into_iter()
        .filter(is_useful)
        .max_by_key(|strings| {
            let shortest = strings.iter().map(Vec::len).min().unwrap_or(usize::MAX);
            (shortest, std::cmp::Reverse(strings.len()))
        })
        .map_or(Facts::Unknown, Facts::Contains)
}

/// Every string of `first` followed by every string of `second`; `None` when that
/// makes more than [`MAX_STRINGS`].
fn product(first: &Strings, second: &Strings) -> Option<Strings> {
    if first.len().saturating_mul(second.len()) > MAX_STRINGS {
        return None;
    }
    let mut joined = Strings::new();
    for head in first {
        for tail in second {
            let mut string = head.clone();
            string.extend_from_slice(tail);
            joined.insert(string);
        }
    }
    Some(joined)
}

/// `strings` without those that contain another of them (text holding the longer one
/// holds the shorter), sorted.
fn minimal(strings: &Strings) -> Vec<Vec<u8>> {
    let mut by_length: Vec<&Vec<u8>> = strings.iter().collect();
    by_length.sort_by_key(|string| string.len());
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for string in by_length {
        if !kept
            .iter()
            .any(|shorter| memchr::memmem::find(string, shorter).is_some())
        {
            kept.push(string.clone());
        }
    }
    kept.sort();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(pattern: &str) -> Option<Vec<String>> {
        let hir = regex_automata::util::syntax::parse(pattern).expect("valid pattern");
        necessary(&hir).map(|strings| {
            strings
                .into_iter()
                .map(|string| String::from_utf8(string).expect("UTF-8"))
                .collect()
        })
    }

    #[test]
    fn literals_of_simple_patterns() {
        assert_eq!(
            literals(r"\bsendBeacon\s*\("),
            Some(vec!["sendBeacon".into()])
        );
        assert_eq!(
            literals(r"\.\s*(?:submit|requestSubmit)\s*\(\s*\)"),
            Some(vec!["requestSubmit".into(), "submit".into()])
        );
        assert_eq!(literals(r"orders?\s+x"), Some(vec!["order".into()]));
        // Case-insensitive letters are spelled out, the Kelvin sign included.
        let mut expected: Vec<String> = ["OK", "Ok", "oK", "ok", "O\u{212A}", "o\u{212A}"]
            .map(String::from)
            .to_vec();
        expected.sort();
        assert_eq!(literals(r"(?i)ok"), Some(expected));
    }

    #[test]
    fn no_literals_when_a_match_needs_none() {
        for pattern in [r"\w+", r"a?", r"(?:abc)*", r"x|\d+", r"[^a]", r"", r"\b"] {
            assert_eq!(literals(pattern), None, "{pattern}");
        }
    }

    /// Every match of each pattern, over many texts, contains one of its literals.
    #[test]
    fn every_match_contains_a_literal() {
        let patterns = [
            r"(?i)\bfree\s+(?:worldwide|global)\s+shipping",
            r"(?x) if \s*\( \s* [\w.$]+ \s* (?:<=|<|===|==) \s* 0 \s* \)",
            r"(?i:iframe|frame)x?",
            r"(?:ab|cd){2}e",
            r"k{1,3}[sS]",
            r"(?i)kiss",
        ];
        let texts = [
            "FREE worldwide shipping",
            "free global   Shipping today",
            "if (x.y <= 0)",
            "if(a===0)",
            "IFRAME frame iFrAmE",
            "abcde cdabe",
            "kkS ks",
            "\u{212A}i\u{17F}\u{17F}",
            "KISS",
        ];
        for pattern in patterns {
            let regex = regex::Regex::new(pattern).expect("valid");
            let strings = literals(pattern).expect("literals");
            let mut matched = 0;
            for text in texts {
                for found in regex.find_iter(text) {
                    matched += 1;
                    assert!(
                        strings
                            .iter()
                            .any(|string| found.as_str().contains(string.as_str())),
                        "{pattern} {:?} {strings:?}",
                        found.as_str()
                    );
                }
            }
            assert!(matched > 0, "{pattern}");
        }
    }
}
