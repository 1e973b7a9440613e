//! Positions in data files (rule files, networks, signatures, config) for error
//! messages: byte offsets from the TOML parser turned into 1-based lines.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_clamps() {
        let text = "a\nbé\nc";
        assert_eq!(line_of_offset(text, 0), 1);
        assert_eq!(line_of_offset(text, 2), 2);
        assert_eq!(line_of_offset(text, 4), 2, "inside a multi-byte character");
        assert_eq!(line_of_offset(text, 999), 3);
    }
}
