//! Positions for messages and findings: byte offsets from the TOML parser turned into
//! 1-based lines (rule files, networks, signatures, config), and the column of a
//! finding on its source line.

/// The 1-based line holding byte `offset` of `source` (offsets past the end count as
/// the last line).
pub fn line_of_offset(source: &str, offset: usize) -> u32 {
    let end = offset.min(source.len());
    let newlines = source.as_bytes()[..end]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count();
    u32::try_from(newlines).unwrap_or(u32::MAX - 1) + 1
}

/// The key of the `key = value` whose value holds byte `offset` of a TOML `source`
/// (quotes removed; `None` when the offset is not in a value on its key's line). TOML
/// errors point at the value (`severity = 3`); this names what was being read.
pub fn toml_key_at(source: &str, offset: usize) -> Option<String> {
    let before = source.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let (key, _) = before[line_start..].split_once('=')?;
    let key = key.trim().trim_matches(['"', '\'']);
    let plain = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    (!key.is_empty() && key.chars().all(plain)).then(|| key.to_string())
}

/// How much of a source line is searched for a finding's column. Minified pages are
/// one long line; searching all of it for every finding would be quadratic.
pub const COLUMN_SEARCH_LIMIT: usize = 4096;

/// The 1-based character column where `needle` first appears in `line` (case-insensitive
/// when asked), looking only at the first [`COLUMN_SEARCH_LIMIT`] bytes; `None` when it
/// is not found there.
pub fn column_of(line: &str, needle: &str, ignore_case: bool) -> Option<u32> {
    if needle.is_empty() {
        return None;
    }
    let mut end = line.len().min(COLUMN_SEARCH_LIMIT);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let window = &line[..end];
    let offset = if ignore_case {
        let lower = window.to_lowercase();
        // Lower-casing may change byte lengths; offsets are only trusted when it did not.
        if lower.len() != window.len() {
            return None;
        }
        lower.find(&needle.to_lowercase())?
    } else {
        window.find(needle)?
    };
    Some(u32::try_from(window[..offset].chars().count()).unwrap_or(u32::MAX - 1) + 1)
}

/// The 1-based column of the first non-blank character of `line`.
pub fn first_non_blank_column(line: &str) -> u32 {
    let blanks = line
        .chars()
        .take(COLUMN_SEARCH_LIMIT)
        .take_while(|c| c.is_whitespace())
        .count();
    u32::try_from(blanks).unwrap_or(u32::MAX - 1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_columns_in_characters_within_the_limit() {
        assert_eq!(column_of("  é Only 2 left", "only", true), Some(5));
        assert_eq!(column_of("  é Only 2 left", "only", false), None);
        assert_eq!(column_of("abc", "", false), None);
        let long = format!("{}needle", "x".repeat(COLUMN_SEARCH_LIMIT));
        assert_eq!(column_of(&long, "needle", false), None);
        assert_eq!(first_non_blank_column("   x"), 4);
    }

    #[test]
    fn counts_lines_and_clamps() {
        let text = "a\nbé\nc";
        assert_eq!(line_of_offset(text, 0), 1);
        assert_eq!(line_of_offset(text, 2), 2);
        assert_eq!(line_of_offset(text, 4), 2, "inside a multi-byte character");
        assert_eq!(line_of_offset(text, 999), 3);
    }

    #[test]
    fn toml_key_of_a_value() {
        let source = "[rule]\nseverity = 3\n\"a/b\" = \"x\"\n";
        assert_eq!(toml_key_at(source, 18).as_deref(), Some("severity"));
        assert_eq!(toml_key_at(source, 29).as_deref(), Some("a/b"));
        assert_eq!(toml_key_at(source, 7), None, "on the key itself");
        assert_eq!(toml_key_at(source, 999), None);
    }
}
