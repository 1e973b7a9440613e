//! The rule loader (`rules::load_str`: TOML, schema, checks, regex compilation) on
//! arbitrary text, then a rule set built from what loaded. It must never panic, hang or
//! run out of memory: a bad file is an error naming the file, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoscan::rules::{RuleError, RuleSet, load_str};

fuzz_target!(|source: &str| {
    match load_str("fuzz.toml", source) {
        Ok(rules) => {
            if let Err(error) = RuleSet::new(rules) {
                assert_invalid(&error);
            }
        }
        Err(error) => assert_invalid(&error),
    }
});

fn assert_invalid(error: &RuleError) {
    let message = error.to_string();
    assert!(
        message.starts_with("fuzz.toml:") || message.starts_with("(rule set):"),
        "an error that does not name the file: {message}"
    );
}
