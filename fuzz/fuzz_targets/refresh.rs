//! The `<meta http-equiv=refresh>` content parser on arbitrary text. It must never panic,
//! and what it returns must be what a browser could act on: a delay that is a number of
//! seconds (not negative, not NaN) and a URL that is trimmed and not empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoscan::page::refresh::parse_refresh;

fuzz_target!(|content: &str| {
    if let Some(refresh) = parse_refresh(content) {
        assert!(
            refresh.delay >= 0.0,
            "delay {} from {content:?}",
            refresh.delay
        );
        if let Some(url) = &refresh.url {
            assert!(!url.is_empty(), "empty URL from {content:?}");
            assert_eq!(
                url.trim_matches(['\t', '\n', '\u{c}', '\r', ' ']),
                url,
                "untrimmed URL from {content:?}"
            );
        }
    }
});
