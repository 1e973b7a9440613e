//! The CSS visibility model (cascade, selectors, `@media`, inline styles, presentational
//! hints) on arbitrary text, twice: as a whole HTML document, and as a `<style>` sheet
//! and an inline `style=""` applied to a fixed set of elements (so that the fuzzer
//! spends its time in the CSS parser, not in getting out of HTML). It must never panic,
//! hang or run out of memory, and its answers must agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoscan::input::nesting::{DEFAULT_MAX_DEPTH, estimated_depth};
use promoscan::page::visibility::Visibility;
use promoscan::page::{Document, NodeId};

/// Elements of every kind the model treats differently: replaced and not, inline and
/// block, with ids, classes, attributes, languages and nesting for selectors to match.
const BODY: &str = r#"<div id="a" class="x y" lang="en"><p class="x">text <span class="y">s</span>
<a href="https://s.click.aliexpress.com/e/_x" rel="sponsored" data-k="v">link</a></p>
<iframe src="https://www.awin1.com/cread.php?a=1" width="1" height="1"></iframe>
<img class="y" src="https://p.example/i.png" style="STYLE"><ul><li>one</li><li hidden>two</li></ul>
<section style="STYLE"><div class="z"><em>deep</em></div></section><input type="image"></div>"#;

fuzz_target!(|css: &str| {
    // The scanner refuses deeper pages before parsing them (the tree builder is slow
    // on them); the model only ever sees the pages it accepts.
    if estimated_depth(css) > DEFAULT_MAX_DEPTH {
        return;
    }
    check(&Document::parse(css));
    let inline = css.replace('"', "&quot;");
    let page = format!(
        "<!doctype html><html><head><style>{css}</style></head><body>{}</body></html>",
        BODY.replace("STYLE", &inline)
    );
    check(&Document::parse(&page));
});

fn check(document: &Document) {
    let visibility = Visibility::compute(document);
    for index in 0..document.nodes().len() {
        let id: NodeId = index;
        let hidden = visibility.is_hidden(id);
        assert_eq!(hidden, visibility.hidden_reason(id).is_some());
        if visibility.own_reason(id).is_some() {
            assert!(hidden, "a node with its own reason is hidden");
        }
    }
}
