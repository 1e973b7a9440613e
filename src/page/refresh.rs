//! `<meta http-equiv="refresh">` parsed as the HTML standard's "shared declarative
//! refresh steps" parse it: `content="3; URL='https://…'"`, `content="0,url=/x"`,
//! `content="5"` (reload itself). Quotes, case and whitespace are handled as browsers
//! handle them; a value browsers reject gives `None`.

/// A parsed refresh declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    /// Seconds before the browser navigates.
    pub delay: f64,
    /// The URL as written (unresolved); `None` means the page reloads itself.
    pub url: Option<String>,
}

/// Parses a refresh `content` value; `None` when browsers would ignore it.
pub fn parse_refresh(content: &str) -> Option<Refresh> {
    let chars: Vec<char> = content.chars().collect();
    let mut position = 0;
    let skip_whitespace = |position: &mut usize| {
        while *position < chars.len() && is_ascii_whitespace(chars[*position]) {
            *position += 1;
        }
    };

    skip_whitespace(&mut position);
    let digits_start = position;
    while position < chars.len() && chars[position].is_ascii_digit() {
        position += 1;
    }
    let digits: String = chars[digits_start..position].iter().collect();
    let delay = if digits.is_empty() {
        if chars.get(position) != Some(&'.') {
            return None;
        }
        0.0
    } else {
        digits.parse::<f64>().unwrap_or(f64::MAX)
    };
    while position < chars.len() && (chars[position].is_ascii_digit() || chars[position] == '.') {
        position += 1;
    }
    if position >= chars.len() {
        return Some(Refresh { delay, url: None });
    }
    if !matches!(chars[position], ';' | ',') && !is_ascii_whitespace(chars[position]) {
        return None;
    }
    skip_whitespace(&mut position);
    if matches!(chars.get(position), Some(';') | Some(',')) {
        position += 1;
    }
    skip_whitespace(&mut position);
    if position >= chars.len() {
        return Some(Refresh { delay, url: None });
    }

    let remainder_start = position;
    let url_start = if matches!(chars[position], 'u' | 'U') {
        position += 1;
        if !matches!(chars.get(position), Some('r') | Some('R')) {
            None
        } else {
            position += 1;
            if !matches!(chars.get(position), Some('l') | Some('L')) {
                None
            } else {
                position += 1;
                skip_whitespace(&mut position);
                if chars.get(position) == Some(&'=') {
                    position += 1;
                    skip_whitespace(&mut position);
                    Some(position)
                } else {
                    None
                }
            }
        }
    } else {
        // Not "URL=": the quotes step starts right here.
        Some(position)
    };
    let url: String = match url_start {
        // "U" was not followed by "RL", or "URL" by "=": the whole remainder is the URL.
        None => chars[remainder_start..].iter().collect(),
        Some(start) => {
            let mut start = start;
            let quote = match chars.get(start) {
                Some(&quote @ ('"' | '\'')) => {
                    start += 1;
                    Some(quote)
                }
                _ => None,
            };
            let mut url: String = chars[start..].iter().collect();
            if let Some(quote) = quote
                && let Some(end) = url.find(quote)
            {
                url.truncate(end);
            }
            url
        }
    };
    let url = url.trim_matches(is_ascii_whitespace).to_string();
    Some(Refresh {
        delay,
        url: if url.is_empty() { None } else { Some(url) },
    })
}

fn is_ascii_whitespace(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_of(content: &str) -> Option<String> {
        parse_refresh(content).and_then(|refresh| refresh.url)
    }

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(
            url_of("0; url=https://a.example/"),
            Some("https://a.example/".into())
        );
        assert_eq!(
            url_of("3;URL='https://a.example/x'"),
            Some("https://a.example/x".into())
        );
        assert_eq!(url_of("5 , URL = \"/next\" trailing"), Some("/next".into()));
        assert_eq!(
            url_of("0,https://a.example/"),
            Some("https://a.example/".into())
        );
        assert_eq!(
            url_of("1.5; uRl=https://a.example/"),
            Some("https://a.example/".into())
        );
        assert_eq!(parse_refresh("10").map(|r| r.delay), Some(10.0));
        assert_eq!(url_of("10"), None);
    }

    #[test]
    fn follows_the_standard_on_odd_input() {
        // No digits and no '.': ignored by browsers.
        assert_eq!(parse_refresh("url=https://a.example/"), None);
        assert_eq!(parse_refresh("x; url=https://a.example/"), None);
        // A digit run followed by something other than a separator: ignored.
        assert_eq!(parse_refresh("3a; url=/x"), None);
        // ".5" is a valid time of 0.
        assert_eq!(parse_refresh(".5; url=/x").map(|r| r.delay), Some(0.0));
        // "URL" without "=": the whole remainder is the URL (as browsers do).
        assert_eq!(
            url_of("0; URL https://a.example/"),
            Some("URL https://a.example/".into())
        );
        // An unterminated quote keeps the rest.
        assert_eq!(
            url_of("0; url='https://a.example/"),
            Some("https://a.example/".into())
        );
        assert_eq!(url_of("0; ur=/x"), Some("ur=/x".into()));
    }
}
