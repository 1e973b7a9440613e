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
        // Lower-casing may change a character's byte length (`İ` gives two characters,
        // `ẞ` a shorter one); offsets in the lowered text are only trusted when no
        // character's did, even where the total length happens to come out the same.
        if !lowercase_keeps_offsets(window) {
            return None;
        }
        window.to_lowercase().find(&needle.to_lowercase())?
    } else {
        window.find(needle)?
    };
    let before = window.get(..offset)?;
    Some(u32::try_from(before.chars().count()).unwrap_or(u32::MAX - 1) + 1)
}

/// True when lower-casing `text` leaves every character's byte length unchanged, so a
/// byte offset in the lowered text is the same place in `text`.
fn lowercase_keeps_offsets(text: &str) -> bool {
    text.is_ascii()
        || text.chars().all(|character| {
            character.to_lowercase().map(char::len_utf8).sum::<usize>() == character.len_utf8()
        })
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
    fn lowercasing_that_shifts_offsets_gives_no_column_and_no_panic() {
        // `İ` lowers to a longer `i̇`, `ẞ` to a shorter `ß`: the line's length is the same
        // once lowered, but the offset of `ß` moved into the middle of `ẞ` (this used to
        // panic).
        assert_eq!(column_of("İẞ only", "ß", true), None);
        assert_eq!(column_of("ẞİ ßx only", "ß", true), None);
        assert_eq!(column_of("İ only", "only", true), None);
        assert_eq!(column_of("ẞİ ßx only", "ß", false), Some(4));
        // Same-length letters keep their columns.
        assert_eq!(column_of("Été: ONLY 2", "only", true), Some(6));
        assert_eq!(column_of("ΣΟΦΊΑ only", "only", true), Some(7));
        // Every line from these letters, every needle from its own characters: no panic,
        // and a column found is where the needle starts, case-insensitively.
        let letters = ["ẞ", "İ", "ß", "K", "k", "Σ", "é", "x", " ", "Ω", "ſ"];
        for a in letters {
            for b in letters {
                for c in letters {
                    let line = format!("{a}{b}{c}{a}");
                    for needle in [b, c, "x", "k"] {
                        if let Some(column) = column_of(&line, needle, true) {
                            let rest: String = line.chars().skip(column as usize - 1).collect();
                            assert!(
                                rest.to_lowercase().starts_with(&needle.to_lowercase()),
                                "{line:?} {needle:?} {column}"
                            );
                        }
                    }
                }
            }
        }
    }

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
