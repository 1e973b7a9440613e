//! Affiliate disclosure phrases (`patterns/disclosure.toml`): what counts as telling the
//! reader that links earn the publisher money. Data, with examples both ways.

use regex::RegexSet;
use serde::Deserialize;

/// The schema name of the disclosure file.
pub const DISCLOSURE_SCHEMA: &str = "promoscan-disclosure/v1";

const BUILTIN: &str = include_str!("../patterns/disclosure.toml");

/// The disclosure file is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DisclosureError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: String,
    #[allow(dead_code)]
    language: String,
    phrases: Vec<String>,
    examples: RawExamples,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    disclosure: Vec<String>,
    not_disclosure: Vec<String>,
}

/// The disclosure phrases, compiled.
#[derive(Debug, Clone)]
pub struct Disclosures {
    phrases: RegexSet,
    disclosure_examples: Vec<String>,
    not_disclosure_examples: Vec<String>,
}

impl Disclosures {
    /// The built-in phrases.
    pub fn builtin() -> Result<Disclosures, DisclosureError> {
        Disclosures::load_str("patterns/disclosure.toml", BUILTIN)
    }

    /// Parses and checks a disclosure file.
    pub fn load_str(file: &str, source: &str) -> Result<Disclosures, DisclosureError> {
        let error = |line: u32, message: String| DisclosureError {
            file: file.to_string(),
            line,
            message,
        };
        let raw: RawFile = toml::from_str(source).map_err(|e| {
            let line = e
                .span()
                .map(|span| crate::position::line_of_offset(source, span.start))
                .unwrap_or(0);
            error(line, e.message().to_string())
        })?;
        if raw.schema != DISCLOSURE_SCHEMA {
            return Err(error(0, format!("schema must be '{DISCLOSURE_SCHEMA}'")));
        }
        let phrases = RegexSet::new(&raw.phrases)
            .map_err(|e| error(0, format!("invalid phrase regex: {e}")))?;
        if raw.examples.disclosure.is_empty() || raw.examples.not_disclosure.is_empty() {
            return Err(error(
                0,
                "needs examples.disclosure and examples.not_disclosure".to_string(),
            ));
        }
        Ok(Disclosures {
            phrases,
            disclosure_examples: raw.examples.disclosure,
            not_disclosure_examples: raw.examples.not_disclosure,
        })
    }

    /// True when the (normalised) text discloses affiliate relationships.
    pub fn is_disclosure(&self, text: &str) -> bool {
        self.phrases.is_match(text)
    }

    /// Runs the file's examples; returns each one that misbehaves.
    pub fn check_examples(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for example in &self.disclosure_examples {
            if !self.is_disclosure(example) {
                failures.push(format!("should count as a disclosure: {example:?}"));
            }
        }
        for example in &self.not_disclosure_examples {
            if self.is_disclosure(example) {
                failures.push(format!("should not count as a disclosure: {example:?}"));
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_phrases_pass_their_examples() {
        let disclosures = Disclosures::builtin().expect("valid");
        assert_eq!(disclosures.check_examples(), Vec::<String>::new());
    }
}
