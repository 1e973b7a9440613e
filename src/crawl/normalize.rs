//! URL normalisation, so that a crawl fetches each page once.
//!
//! [`normalize`] maps URLs that every web server treats as the same resource to one
//! URL; [`key`] is that URL as a string, for seen-sets. It only applies rules that are
//! safe for any server (RFC 3986 §6.2.2 and the scheme-based rules of §6.2.3). It does
//! not guess at equivalences a server may not share: `www.` is kept, the query is kept
//! as written (parameter order and empty `?` included), trailing slashes are kept, and
//! path case is kept.
//!
//! What the `url` crate's parser (WHATWG URL) already does for `http(s)` URLs, and the
//! tests pin: lower-case scheme and host, default port removed, empty path becomes `/`,
//! dot segments resolved (`%2e` included), internationalised hosts in punycode. What this
//! module adds: the fragment is dropped, the host's trailing dot is removed, and
//! percent-encoding is normalised in the path and query (hex digits upper case, encoded
//! unreserved characters `A-Z a-z 0-9 - . _ ~` decoded).

use url::{Host, Url};

/// The normalised form of `url` (see the module documentation for the rules).
///
/// URLs that cannot be a base (`mailto:`, `data:`...) only lose their fragment.
pub fn normalize(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    if url.cannot_be_a_base() {
        return url;
    }
    if let Some(Host::Domain(domain)) = url.host()
        && let Some(stripped) = domain.strip_suffix('.')
        && !stripped.is_empty()
    {
        let stripped = stripped.to_string();
        // Cannot fail: a suffix of a valid domain minus its final dot is a valid domain.
        let _ = url.set_host(Some(&stripped));
    }
    let path = normalize_percent_encoding(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    if let Some(query) = url.query() {
        let normalized = normalize_percent_encoding(query);
        if normalized != query {
            url.set_query(Some(&normalized));
        }
    }
    url
}

/// The normalised URL as a string: the key of a seen-set.
pub fn key(url: &Url) -> String {
    normalize(url).into()
}

/// Upper-cases the hex digits of every `%XY` escape and decodes those that encode an
/// unreserved character. Anything else (including a stray `%`) is left as it is.
fn normalize_percent_encoding(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let (Some(&high), Some(&low)) = (bytes.get(index + 1), bytes.get(index + 2))
            && let (Some(high_value), Some(low_value)) = (hex_value(high), hex_value(low))
        {
            let decoded = high_value * 16 + low_value;
            if is_unreserved(decoded) {
                out.push(char::from(decoded));
            } else {
                out.push('%');
                out.push(char::from(high.to_ascii_uppercase()));
                out.push(char::from(low.to_ascii_uppercase()));
            }
            index += 3;
            continue;
        }
        // Copy one whole character (the text is valid UTF-8; `%` escapes are ASCII).
        let Some(character) = text[index..].chars().next() else {
            break;
        };
        out.push(character);
        index += character.len_utf8();
    }
    out
}

/// The value of one hex digit.
fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// RFC 3986 unreserved characters: safe to decode anywhere in a URL.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses, normalises and prints.
    fn normalized(text: &str) -> String {
        let url = Url::parse(text).expect("test URLs are valid");
        normalize(&url).to_string()
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(
            normalized("https://shop.example/a?x=1#reviews"),
            "https://shop.example/a?x=1"
        );
        assert_eq!(
            normalized("https://shop.example/a#"),
            "https://shop.example/a"
        );
    }

    #[test]
    fn default_port_is_removed_by_the_parser() {
        assert_eq!(
            normalized("http://shop.example:80/a"),
            "http://shop.example/a"
        );
        assert_eq!(
            normalized("https://shop.example:443/a"),
            "https://shop.example/a"
        );
        assert_eq!(
            normalized("https://shop.example:8443/a"),
            "https://shop.example:8443/a"
        );
    }

    #[test]
    fn scheme_and_host_are_lower_cased_by_the_parser() {
        assert_eq!(
            normalized("HTTPS://Shop.EXAMPLE/Path/Kept"),
            "https://shop.example/Path/Kept"
        );
    }

    #[test]
    fn hex_digits_of_escapes_are_upper_cased() {
        assert_eq!(
            normalized("https://shop.example/a%2fb?q=%c3%a9%2f"),
            "https://shop.example/a%2Fb?q=%C3%A9%2F"
        );
    }

    #[test]
    fn escaped_unreserved_characters_are_decoded() {
        assert_eq!(
            normalized("https://shop.example/%7Euser/%41%2D%5F%2E?q=%7e"),
            "https://shop.example/~user/A-_.?q=~"
        );
    }

    #[test]
    fn escaped_reserved_characters_stay_escaped() {
        // `%2F` (/), `%3F` (?), `%26` (&) and `%3D` (=) change the meaning if decoded.
        assert_eq!(
            normalized("https://shop.example/a%2Fb?q=a%26b%3Dc"),
            "https://shop.example/a%2Fb?q=a%26b%3Dc"
        );
    }

    #[test]
    fn stray_percent_signs_are_kept() {
        assert_eq!(
            normalized("https://shop.example/100%?q=%zz%4"),
            "https://shop.example/100%?q=%zz%4"
        );
    }

    #[test]
    fn trailing_dot_of_host_is_removed() {
        assert_eq!(
            normalized("https://shop.example./a"),
            "https://shop.example/a"
        );
    }

    #[test]
    fn empty_path_becomes_slash_by_the_parser() {
        assert_eq!(normalized("https://shop.example"), "https://shop.example/");
        assert_eq!(
            normalized("https://shop.example?x=1"),
            "https://shop.example/?x=1"
        );
    }

    #[test]
    fn dot_segments_are_resolved_by_the_parser() {
        assert_eq!(
            normalized("https://shop.example/a/./b/../c"),
            "https://shop.example/a/c"
        );
        assert_eq!(
            normalized("https://shop.example/a/%2e%2E/c"),
            "https://shop.example/c"
        );
        assert_eq!(
            normalized("https://shop.example/../../c"),
            "https://shop.example/c"
        );
    }

    #[test]
    fn query_is_kept_in_order() {
        assert_eq!(
            normalized("https://shop.example/s?b=2&a=1&b=1"),
            "https://shop.example/s?b=2&a=1&b=1"
        );
        assert_eq!(
            normalized("https://shop.example/s?"),
            "https://shop.example/s?"
        );
    }

    #[test]
    fn path_case_and_trailing_slash_are_kept() {
        assert_eq!(
            normalized("https://shop.example/Deals/"),
            "https://shop.example/Deals/"
        );
        assert_ne!(
            key(&Url::parse("https://shop.example/deals/").expect("valid")),
            key(&Url::parse("https://shop.example/deals").expect("valid"))
        );
    }

    #[test]
    fn international_host_is_punycode_by_the_parser() {
        assert_eq!(
            normalized("https://Bücher.example/"),
            "https://xn--bcher-kva.example/"
        );
    }

    #[test]
    fn non_ascii_path_stays_percent_encoded_upper_case() {
        assert_eq!(
            normalized("https://shop.example/café"),
            "https://shop.example/caf%C3%A9"
        );
    }

    #[test]
    fn urls_without_a_base_only_lose_their_fragment() {
        assert_eq!(
            normalized("mailto:Deals@Shop.example#x"),
            "mailto:Deals@Shop.example"
        );
    }

    #[test]
    fn ip_hosts_are_kept() {
        assert_eq!(
            normalized("http://127.0.0.1:8080/a#b"),
            "http://127.0.0.1:8080/a"
        );
        assert_eq!(normalized("http://[::1]:80/"), "http://[::1]/");
    }

    #[test]
    fn equivalent_spellings_share_one_key() {
        let spellings = [
            "HTTPS://Shop.Example.:443/%7euser/./deals?id=%2f#top",
            "https://shop.example/~user/deals?id=%2F",
        ];
        let keys: Vec<String> = spellings
            .iter()
            .map(|text| key(&Url::parse(text).expect("valid")))
            .collect();
        assert_eq!(keys[0], keys[1]);
    }
}
