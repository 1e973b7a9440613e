//! Reading rule files: TOML → checked, compiled [`Rule`]s, or an error naming the file,
//! the rule id and the line.

use std::path::Path;

use serde::Deserialize;

use super::{
    Effect, Example, Examples, RULES_SCHEMA, Rule, RuleOrigin, RulePattern, Unless, Within,
};
use crate::finding::{CATEGORIES, Confidence, Severity};
use crate::page::TextScope;
use crate::position::{line_of_offset, toml_key_at};

/// A rule file could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file or folder could not be read.
    #[error("{path}: cannot read rule file")]
    Io {
        /// The path that failed.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is readable but wrong.
    #[error("{file}:{line}: {}{message}", rule.as_ref().map(|id| format!("rule '{id}': ")).unwrap_or_default())]
    Invalid {
        /// The rule file.
        file: String,
        /// 1-based line (0 when unknown).
        line: u32,
        /// The rule id, when the problem is in one rule.
        rule: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl RuleError {
    /// An [`RuleError::Invalid`] error.
    pub fn invalid(file: &str, line: u32, rule: Option<&str>, message: String) -> RuleError {
        RuleError::Invalid {
            file: file.to_string(),
            line,
            rule: rule.map(str::to_string),
            message,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: String,
    language: Option<String>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    category: String,
    severity: Severity,
    confidence: Confidence,
    message: String,
    help: String,
    description: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    scope: Option<Vec<String>>,
    pattern: Option<String>,
    unless: Option<RawUnless>,
    examples: Examples,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnless {
    pattern: String,
    #[serde(default = "default_within")]
    within: Within,
    #[serde(default = "default_effect")]
    effect: Effect,
}

fn default_within() -> Within {
    Within::Sentence
}

fn default_effect() -> Effect {
    Effect::Suppress
}

/// When a rule's regexes are compiled (see [`RulePattern`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompileWhen {
    /// At load: a rule file given at run time.
    Now,
    /// On first use, unchecked until then: the built-in library, whose tests compile
    /// every pattern.
    OnFirstUse,
}

/// Parses and checks the rules of one file, compiling every pattern. `file` names it in
/// errors.
pub fn load_str(file: &str, source: &str) -> Result<Vec<Rule>, RuleError> {
    load_str_compiling(file, source, CompileWhen::Now)
}

/// [`load_str`], with the patterns compiled `when` says.
pub(crate) fn load_str_compiling(
    file: &str,
    source: &str,
    when: CompileWhen,
) -> Result<Vec<Rule>, RuleError> {
    let raw: RawFile = toml::from_str(source).map_err(|error| toml_error(file, source, &error))?;
    if raw.schema != RULES_SCHEMA {
        return Err(RuleError::invalid(
            file,
            find_line(source, "schema"),
            None,
            format!("schema is '{}', expected '{RULES_SCHEMA}'", raw.schema),
        ));
    }
    raw.rules
        .into_iter()
        .map(|rule| compile(file, source, raw.language.as_deref(), rule, when))
        .collect()
}

/// Loads every `*.toml` file under `dir` (recursively, sorted by path).
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
    let mut files = Vec::new();
    collect_toml_files(dir, &mut files)?;
    files.sort();
    let mut rules = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(&path).map_err(|source| RuleError::Io {
            path: name.clone(),
            source,
        })?;
        if is_other_library_file(&source) {
            continue;
        }
        rules.extend(load_str(&name, &source)?);
    }
    Ok(rules)
}

/// Every `*.toml` file under `dir` (recursively, sorted) whose `schema` is `schema`:
/// how the other parts of the library (networks...) are found in `--rules` folders.
pub fn library_files(dir: &Path, schema: &str) -> Result<Vec<std::path::PathBuf>, RuleError> {
    let mut files = Vec::new();
    collect_toml_files(dir, &mut files)?;
    files.sort();
    let mut found = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).map_err(|source| RuleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if schema_of(&source).as_deref() == Some(schema) {
            found.push(path);
        }
    }
    Ok(found)
}

fn schema_of(source: &str) -> Option<String> {
    toml::from_str::<toml::Table>(source)
        .ok()
        .and_then(|table| {
            table
                .get("schema")
                .and_then(|value| value.as_str())
                .map(str::to_string)
        })
}

/// The other data files of the pattern library (networks, script signatures,
/// disclosure phrases) live beside rule files; a folder load skips them by their schema.
const OTHER_LIBRARY_SCHEMAS: &[&str] = &[
    "promoscan-networks/v1",
    "promoscan-scripts/v1",
    "promoscan-disclosure/v1",
];

fn is_other_library_file(source: &str) -> bool {
    schema_of(source).is_some_and(|schema| OTHER_LIBRARY_SCHEMAS.contains(&schema.as_str()))
}

fn collect_toml_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), RuleError> {
    let io_error = |source| RuleError::Io {
        path: dir.display().to_string(),
        source,
    };
    if dir.is_file() {
        files.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.is_dir() {
            collect_toml_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            files.push(path);
        }
    }
    Ok(())
}

fn compile(
    file: &str,
    source: &str,
    language: Option<&str>,
    raw: RawRule,
    when: CompileWhen,
) -> Result<Rule, RuleError> {
    let line = find_id_line(source, &raw.id);
    let fail = |message: String| RuleError::invalid(file, line, Some(&raw.id), message);

    if !CATEGORIES.contains(&raw.category.as_str()) {
        return Err(fail(format!(
            "unknown category '{}' (expected one of: {})",
            raw.category,
            CATEGORIES.join(", ")
        )));
    }
    let prefix = format!("{}/", raw.category);
    let slug = raw.id.strip_prefix(&prefix).unwrap_or("");
    if slug.is_empty()
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(fail(format!(
            "id must be '{prefix}<slug>' with a slug of lower-case letters, digits and dashes"
        )));
    }
    let scope = match &raw.scope {
        None if raw.pattern.is_some() => vec![
            TextScope::Text,
            TextScope::Title,
            TextScope::MetaDescription,
            TextScope::Og,
            TextScope::Alt,
        ],
        None => Vec::new(),
        Some(names) => names
            .iter()
            .map(|name| {
                TextScope::from_name(name).ok_or_else(|| {
                    fail(format!(
                        "unknown scope '{name}' (expected text, title, meta-description, og, alt)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let pattern = raw
        .pattern
        .as_deref()
        .map(|pattern| {
            checked_pattern(pattern, when)
                .map_err(|e| fail(format!("invalid regex in pattern: {e}")))
        })
        .transpose()?;
    let unless = match raw.unless {
        None => None,
        Some(unless) => {
            if pattern.is_none() {
                return Err(fail("'unless' needs a 'pattern'".to_string()));
            }
            Some(Unless {
                pattern: checked_pattern(&unless.pattern, when)
                    .map_err(|e| fail(format!("invalid regex in unless.pattern: {e}")))?,
                within: unless.within,
                effect: unless.effect,
            })
        }
    };
    if raw.examples.must_match.is_empty() || raw.examples.ok.is_empty() {
        return Err(fail(
            "every rule needs at least one examples.match and one examples.ok".to_string(),
        ));
    }
    let every_example = raw
        .examples
        .must_match
        .iter()
        .chain(&raw.examples.ok)
        .chain(&raw.examples.todo_match)
        .chain(&raw.examples.todo_ok);
    for example in every_example {
        if let Example::Snippet(snippet) = example {
            if snippet.sources() != 1 {
                return Err(fail(format!(
                    "a snippet example needs exactly one of html, markdown, hex, path, chain, page_chain: {}",
                    example.describe()
                )));
            }
            if let Some(chain) = snippet.chain.as_ref().or(snippet.page_chain.as_ref())
                && let Err(problem) = crate::follow::example::parse_chain(chain)
            {
                return Err(fail(format!("bad chain example: {problem}")));
            }
        }
    }
    if pattern.is_none() {
        let all = raw
            .examples
            .must_match
            .iter()
            .chain(&raw.examples.ok)
            .chain(&raw.examples.todo_match)
            .chain(&raw.examples.todo_ok);
        for example in all {
            if matches!(example, Example::Text(_)) {
                return Err(fail(
                    "a rule without a pattern needs snippet examples ({ html = \"...\" })"
                        .to_string(),
                ));
            }
        }
    }
    Ok(Rule {
        id: raw.id.clone(),
        category: raw.category,
        severity: raw.severity,
        confidence: raw.confidence,
        language: language.map(str::to_string),
        message: raw.message,
        help: raw.help,
        description: raw.description,
        references: raw.references,
        scope,
        pattern,
        unless,
        examples: raw.examples,
        origin: RuleOrigin {
            file: file.to_string(),
            line,
        },
    })
}

/// A pattern compiled (and so checked) now, or left for its first use.
fn checked_pattern(source: &str, when: CompileWhen) -> Result<RulePattern, String> {
    match when {
        CompileWhen::Now => RulePattern::compiled_now(source),
        CompileWhen::OnFirstUse => Ok(RulePattern::on_first_use(source)),
    }
}

/// A TOML or type error as a [`RuleError`]: its line, the rule it is in (the `id` of the
/// enclosing `[[rule]]`, when it has one) and the key whose value is wrong.
fn toml_error(file: &str, source: &str, error: &toml::de::Error) -> RuleError {
    let start = error.span().map(|span| span.start);
    let line = start.map_or(0, |offset| line_of_offset(source, offset));
    let rule = start.and_then(|offset| rule_id_around(source, offset));
    let message = error.message().trim_end();
    let message = match start.and_then(|offset| toml_key_at(source, offset)) {
        Some(key) if !message.contains(&format!("`{key}`")) => format!("`{key}`: {message}"),
        _ => message.to_string(),
    };
    RuleError::invalid(file, line, rule.as_deref(), message)
}

/// The `id` of the `[[rule]]` table that holds byte `offset`, read from the text (the
/// file did not parse, so there is no value to ask).
fn rule_id_around(source: &str, offset: usize) -> Option<String> {
    // A missing key is reported at the table's own header.
    let end = if source.get(offset..)?.starts_with("[[rule]]") {
        offset + "[[rule]]".len()
    } else {
        offset
    };
    let header = source[..end].rfind("[[rule]]")?;
    let table = &source[header + "[[rule]]".len()..];
    let table = &table[..table.find("[[rule]]").unwrap_or(table.len())];
    table.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        if key.trim() != "id" {
            return None;
        }
        let value = value.trim();
        let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        let end = value[1..].find(quote)?;
        Some(value[1..1 + end].to_string())
    })
}

/// The line of the first `key = ...` at the start of a line (0 when absent).
fn find_line(source: &str, key: &str) -> u32 {
    source
        .lines()
        .position(|line| {
            let trimmed = line.trim_start();
            trimmed.starts_with(key) && trimmed[key.len()..].trim_start().starts_with('=')
        })
        .map(|index| index as u32 + 1)
        .unwrap_or(0)
}

/// The line of `id = "<id>"` (0 when not found).
fn find_id_line(source: &str, id: &str) -> u32 {
    source
        .lines()
        .position(|line| {
            let trimmed = line.trim_start();
            trimmed.starts_with("id")
                && (trimmed.contains(&format!("\"{id}\"")) || trimmed.contains(&format!("'{id}'")))
        })
        .map(|index| index as u32 + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"schema = "promoscan-rules/v1"
language = "en"

[[rule]]
id = "claim-price/lowest-ever"
category = "claim-price"
severity = "warning"
confidence = "medium"
message = "Superlative price claim '{match}'"
help = "Name the price and the date."
pattern = '(?i)\blowest\s+price\s+ever\b'

[rule.examples]
match = ["Lowest price ever!"]
ok = ["A low price."]
"#;

    #[test]
    fn loads_a_valid_file() {
        let rules = load_str("en.toml", GOOD).expect("valid");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].origin.line, 5);
        assert_eq!(rules[0].language.as_deref(), Some("en"));
        assert_eq!(rules[0].scope.len(), 5);
    }

    fn error_of(source: &str) -> String {
        load_str("bad.toml", source)
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn invalid_regex_names_file_rule_and_line() {
        let bad = GOOD.replace(r"\blowest\s+price\s+ever\b", r"(unclosed");
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:5: rule 'claim-price/lowest-ever': invalid regex"),
            "{message}"
        );
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let bad = GOOD.replace(
            "confidence = \"medium\"",
            "confidence = \"medium\"\nseverty = \"error\"",
        );
        let message = error_of(&bad);
        assert!(message.starts_with("bad.toml:"), "{message}");
        assert!(message.contains("severty"), "{message}");
    }

    #[test]
    fn id_prefix_must_equal_category() {
        let bad = GOOD.replace(
            "id = \"claim-price/lowest-ever\"",
            "id = \"claim-urgency/lowest-ever\"",
        );
        assert!(error_of(&bad).contains("id must be 'claim-price/<slug>'"));
    }

    #[test]
    fn examples_in_both_directions_are_required() {
        let bad = GOOD.replace("ok = [\"A low price.\"]", "ok = []");
        assert!(error_of(&bad).contains("at least one examples.match and one examples.ok"));
    }

    #[test]
    fn wrong_type_is_an_error() {
        let bad = GOOD.replace("severity = \"warning\"", "severity = 3");
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:7: rule 'claim-price/lowest-ever': `severity`: "),
            "{message}"
        );
    }

    #[test]
    fn toml_errors_name_the_rule_they_are_in() {
        let missing = GOOD.replace("help = \"Name the price and the date.\"\n", "");
        assert_eq!(
            error_of(&missing),
            "bad.toml:4: rule 'claim-price/lowest-ever': missing field `help`"
        );
        let syntax = GOOD.replace("ok = [\"A low price.\"]", "ok = [\"A low price.\"");
        assert!(
            error_of(&syntax).starts_with("bad.toml:15: rule 'claim-price/lowest-ever': "),
            "{}",
            error_of(&syntax)
        );
        let top = GOOD.replace("language = \"en\"", "language = 1");
        assert!(
            error_of(&top).starts_with("bad.toml:2: `language`: "),
            "{}",
            error_of(&top)
        );
    }

    #[test]
    fn catastrophic_backtracking_pattern_compiles_and_runs_in_linear_time() {
        // (a+)+$ is exponential in backtracking engines; the regex crate has none.
        let bad = GOOD.replace(r"\blowest\s+price\s+ever\b", r"(a+)+$");
        let rules = load_str("en.toml", &bad).expect("compiles");
        let subject = format!("{}b", "a".repeat(100_000));
        assert!(!rules[0].pattern.as_ref().unwrap().is_match(&subject));
    }
}
