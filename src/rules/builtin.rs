//! The built-in pattern library, embedded in the binary at build time.

use super::load::{CompileWhen, load_str_compiling};
use super::{Rule, RuleError};

/// Every rule file of `patterns/`, by its path in the repository.
pub const FILES: &[(&str, &str)] = &[
    (
        "patterns/claims/en.toml",
        include_str!("../../patterns/claims/en.toml"),
    ),
    (
        "patterns/chains.toml",
        include_str!("../../patterns/chains.toml"),
    ),
    (
        "patterns/page.toml",
        include_str!("../../patterns/page.toml"),
    ),
    (
        "patterns/scan-errors.toml",
        include_str!("../../patterns/scan-errors.toml"),
    ),
];

/// The built-in rules, parsed and checked; their regexes are compiled on first use
/// (`every_builtin_pattern_compiles` compiles them all).
pub fn rules() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (name, source) in FILES {
        rules.extend(load_str_compiling(name, source, CompileWhen::OnFirstUse)?);
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The built-in library is compiled on first use, so this is where a pattern or
    /// qualifier that cannot be compiled (the size limit) is caught.
    #[test]
    fn every_builtin_pattern_compiles() {
        let rules = rules().expect("built-in rules load");
        let mut compiled = 0;
        for rule in &rules {
            let patterns = rule
                .pattern
                .iter()
                .chain(rule.unless.as_ref().map(|unless| &unless.pattern));
            for pattern in patterns {
                if let Err(error) = pattern.compile() {
                    panic!(
                        "{}: {} does not compile: {error}",
                        rule.id,
                        pattern.as_str()
                    );
                }
                compiled += 1;
            }
        }
        assert!(
            compiled > 50,
            "only {compiled} patterns in the built-in library"
        );
    }

    /// A rule file added to patterns/ must also be embedded.
    #[test]
    fn every_rule_file_in_patterns_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        let mut stack = vec![root.join("patterns")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("patterns/ readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    let text = std::fs::read_to_string(&path).expect("readable");
                    if text.contains("promoscan-rules/v1") {
                        let relative = path.strip_prefix(root).expect("under root");
                        on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(name, _)| name.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    /// A Unicode `\b` sends every sentence with a non-ASCII character to the slow
    /// regex engine (docs/benchmarks.md): English rules use the ASCII `(?-u:\b)`.
    #[test]
    fn english_rules_use_ascii_word_boundaries() {
        let (name, source) = FILES
            .iter()
            .find(|(name, _)| *name == "patterns/claims/en.toml")
            .expect("English rules embedded");
        for (index, line) in source.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            let bare = line.replace("(?-u:\\b)", "");
            assert!(
                !bare.contains("\\b") && !bare.contains("\\B"),
                "{name}:{}: write word boundaries as (?-u:\\b), not \\b",
                index + 1
            );
        }
    }

    #[test]
    fn builtin_library_loads() {
        let rules = rules().expect("built-in library is valid");
        assert!(rules.len() >= 40);
    }
}
