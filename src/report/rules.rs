//! Output of the `rules` commands: the rule list (text table or JSON array), a rule's
//! explanation, and the results of running the rules' examples.

use std::io::{self, Write};

use serde::Serialize;

use crate::harness::ExampleOutcome;
use crate::rules::{Example, Rule, RuleSet};

/// One entry of `rules list --format json` (DESIGN §3).
#[derive(Debug, Serialize)]
struct RuleEntry<'a> {
    id: &'a str,
    category: &'a str,
    severity: &'a str,
    confidence: &'a str,
    language: Option<&'a str>,
    message: &'a str,
    help: &'a str,
}

/// Writes every rule as a JSON array.
pub fn write_list_json(rules: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let entries: Vec<RuleEntry<'_>> = rules
        .rules()
        .iter()
        .map(|rule| RuleEntry {
            id: &rule.id,
            category: &rule.category,
            severity: rule.severity.name(),
            confidence: rule.confidence.name(),
            language: rule.language.as_deref(),
            message: &rule.message,
            help: &rule.help,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &entries)?;
    writeln!(out)
}

/// Writes every rule as an aligned table: id, severity, confidence, message.
pub fn write_list_text(rules: &RuleSet, out: &mut dyn Write) -> io::Result<()> {
    let width = rules
        .rules()
        .iter()
        .map(|rule| rule.id.len())
        .max()
        .unwrap_or(0);
    for rule in rules.rules() {
        writeln!(
            out,
            "{:<width$}  {:<7}  {:<6}  {}",
            rule.id,
            rule.severity.name(),
            rule.confidence.name(),
            rule.message
        )?;
    }
    writeln!(out, "{} rules", rules.rules().len())
}

/// Writes everything known about one rule.
pub fn write_explanation(rule: &Rule, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", rule.id)?;
    writeln!(out, "  category:   {}", rule.category)?;
    writeln!(out, "  severity:   {}", rule.severity)?;
    writeln!(out, "  confidence: {}", rule.confidence.name())?;
    if let Some(language) = &rule.language {
        writeln!(out, "  language:   {language}")?;
    }
    writeln!(
        out,
        "  defined in: {}:{}",
        rule.origin.file, rule.origin.line
    )?;
    if !rule.scope.is_empty() {
        let scope: Vec<&str> = rule.scope.iter().map(|scope| scope.name()).collect();
        writeln!(out, "  applies to: {}", scope.join(", "))?;
    }
    writeln!(out)?;
    if let Some(description) = &rule.description {
        writeln!(out, "{description}\n")?;
    }
    writeln!(out, "message: {}", rule.message)?;
    writeln!(out, "help:    {}", rule.help)?;
    if let Some(pattern) = &rule.pattern {
        writeln!(out, "pattern: {}", pattern.as_str())?;
    }
    if let Some(unless) = &rule.unless {
        writeln!(
            out,
            "unless:  {} (within the {}, {})",
            unless.pattern.as_str(),
            match unless.within {
                crate::rules::Within::Sentence => "sentence",
                crate::rules::Within::Block => "block",
            },
            match unless.effect {
                crate::rules::Effect::Suppress => "suppresses the finding",
                crate::rules::Effect::Downgrade => "lowers its severity one step",
            }
        )?;
    }
    for reference in &rule.references {
        writeln!(out, "see:     {reference}")?;
    }
    let lists = [
        ("flagged", &rule.examples.must_match),
        ("not flagged", &rule.examples.ok),
        ("should be flagged (known miss)", &rule.examples.todo_match),
        (
            "should not be flagged (known false alarm)",
            &rule.examples.todo_ok,
        ),
    ];
    for (title, examples) in lists {
        if examples.is_empty() {
            continue;
        }
        writeln!(out, "\nExamples {title}:")?;
        for example in examples {
            match example {
                Example::Text(text) => writeln!(out, "  - {text}")?,
                Example::Snippet(_) => writeln!(out, "  - {}", example.describe())?,
            }
        }
    }
    Ok(())
}

/// Writes the failures (and fixed todos) of an example run and a summary line; returns
/// the number of failures.
pub fn write_test_results(
    rules: &RuleSet,
    outcomes: &[ExampleOutcome],
    out: &mut dyn Write,
) -> io::Result<usize> {
    let mut failures = 0;
    let mut todos = 0;
    for outcome in outcomes {
        if outcome.fails() {
            failures += 1;
            let expectation = match outcome.kind.name() {
                "match" => "should be flagged but is not",
                _ => "should not be flagged but is",
            };
            writeln!(
                out,
                "FAIL {} ({}) {} example {}: {}",
                outcome.rule,
                outcome.origin,
                outcome.kind.name(),
                outcome.example,
                expectation
            )?;
        } else if outcome.kind.is_todo() {
            todos += 1;
            if outcome.behaved {
                writeln!(
                    out,
                    "FIXED {} ({}) {} example {} now behaves: move it out of {}",
                    outcome.rule,
                    outcome.origin,
                    outcome.kind.name(),
                    outcome.example,
                    outcome.kind.name()
                )?;
            }
        }
    }
    writeln!(
        out,
        "{} rules, {} examples: {} passed, {} failed, {} todo",
        rules.rules().len(),
        outcomes.len(),
        outcomes.len() - failures - todos,
        failures,
        todos
    )?;
    Ok(failures)
}
