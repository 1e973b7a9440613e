//! The affiliate link classifier (`Networks::classify_str`, the built-in networks) on
//! arbitrary text, and `registrable_domain` on the host it parses to. It must never
//! panic, and an affiliate classification must name a network it knows.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use promoscan::networks::{Networks, registrable_domain};

static NETWORKS: LazyLock<Networks> =
    LazyLock::new(|| Networks::builtin().expect("the built-in networks load"));

fuzz_target!(|text: &str| {
    let classification = NETWORKS.classify_str(text);
    if let Some(network) = &classification.network {
        assert!(
            NETWORKS.network(network).is_some(),
            "unknown network {network} for {text:?}"
        );
    }
    if classification.is_affiliate() {
        assert!(
            classification.network.is_some(),
            "affiliate of no network: {text:?}"
        );
    }
    // Relative links are resolved against a page before they are classified.
    if let Ok(base) = url::Url::parse("https://blog.example/posts/") {
        if let Ok(url) = base.join(text) {
            let _ = NETWORKS.classify(&url);
            if let Some(host) = url.host_str() {
                let _ = registrable_domain(host);
            }
        }
    }
    let _ = registrable_domain(text);
});
