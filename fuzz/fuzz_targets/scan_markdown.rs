//! The whole page scanner on arbitrary bytes read as Markdown, through the public
//! `Scanner::scan_bytes` API (binary check, decoding, Markdown rendering with source lines, nesting check, page model, every
//! detector, suppressions). It must never panic, hang or run out of memory, and every
//! finding it returns must point inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoscan::input::SourceFormat;

#[path = "common/scan.rs"]
mod scan;

fuzz_target!(|data: &[u8]| {
    scan::check(SourceFormat::Markdown, data);
});
