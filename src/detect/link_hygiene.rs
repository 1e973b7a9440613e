//! Link hygiene: affiliate links without `rel="sponsored"` (or `nofollow`), as search
//! engines and the networks ask; and link text that names one domain while the link
//! goes to another (a reader expecting amazon.com lands on a different shop).

use std::sync::LazyLock;

use regex::Regex;

use crate::finding::Finding;
use crate::networks::registrable_domain;

use super::{Context, FindingSpec};

/// The registrable domains a link text names ("Buy at shop.example.com" names
/// `example.com`), in order. A text without a dot names none, and is not searched.
pub fn domains_named_in(text: &str) -> impl Iterator<Item = String> + '_ {
    // Every domain has a dot: most link texts ("Check the price") are ruled out by one
    // byte search instead of a run of the regex.
    let searched = if memchr::memchr(b'.', text.as_bytes()).is_some() {
        text
    } else {
        ""
    };
    domain_pattern()
        .find_iter(searched)
        .filter_map(|named| registrable_domain(&named.as_str().to_ascii_lowercase()))
}

/// A host name ending in a common public suffix, as a link text spells it.
fn domain_pattern() -> &'static Regex {
    static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|co|io|ru|de|fr|es|it|nl|pl|se|uk|us|ca|au|jp|in|br|mx|tr|ae|sa|sg|info|biz|shop|store)\b")
            .expect("valid domain regex")
    });
    &DOMAIN
}

/// Runs the link-hygiene detector.
pub fn detect(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for link in &context.links {
        if !link.is_affiliate_like() {
            continue;
        }
        let page_link = &context.page.links[link.index];
        if !page_link
            .rel
            .iter()
            .any(|rel| rel == "sponsored" || rel == "nofollow")
        {
            findings.extend(context.finding(
                "link-hygiene/missing-sponsored",
                FindingSpec {
                    line: page_link.line,
                    column_hint: &page_link.href,
                    fields: vec![(
                        "network",
                        link.classification.network_name.clone().unwrap_or_default(),
                    )],
                    evidence: Some(context.tag_evidence(page_link.node)),
                    url: Some(&link.url),
                    classification: Some(&link.classification),
                    ..FindingSpec::default()
                },
            ));
        }
        let merchant_domains = link
            .classification
            .network
            .as_deref()
            .and_then(|id| context.library.networks.network(id))
            .map(|network| network.merchant_domains.as_slice())
            .unwrap_or_default();
        // Most link texts name no domain: the link's own is looked up only when one does.
        let mut href_domain = None;
        for text_domain in domains_named_in(&page_link.text) {
            let href_domain =
                href_domain.get_or_insert_with(|| link.url.host_str().and_then(registrable_domain));
            let same = href_domain.as_deref() == Some(text_domain.as_str())
                || merchant_domains
                    .iter()
                    .any(|domain| domain.eq_ignore_ascii_case(&text_domain));
            if same {
                continue;
            }
            findings.extend(context.finding(
                "link-hygiene/text-domain-mismatch",
                FindingSpec {
                    line: page_link.line,
                    column_hint: &page_link.href,
                    fields: vec![
                        ("named", text_domain.clone()),
                        ("actual", link.url.host_str().unwrap_or("").to_string()),
                    ],
                    evidence: Some(format!("{} → {}", page_link.text, link.url)),
                    url: Some(&link.url),
                    classification: Some(&link.classification),
                    ..FindingSpec::default()
                },
            ));
            break;
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_texts_name_the_registrable_domains_they_spell_out() {
        let named: Vec<String> = domains_named_in("Buy at shop.Example.com or amazon.de").collect();
        assert_eq!(named, ["example.com", "amazon.de"]);
        assert_eq!(domains_named_in("Check the price on AliExpress").count(), 0);
        assert_eq!(domains_named_in("").count(), 0);
    }

    #[test]
    fn the_dot_check_skips_only_texts_the_regex_cannot_match() {
        // Every text the skip applies to (no `.`) is one the domain regex finds nothing in,
        // including look-alike dots that are not U+002E.
        let domain = domain_pattern();
        for text in [
            "example com",
            "example。com",
            "example．com",
            "example\u{2024}com",
            "shop-example-com",
            "Visit Amazon",
            "amazon.com",
            "a.b.c.store",
            "ſhop.example.com",
            "日本.jp",
        ] {
            let regex_finds = domain.find_iter(text).count();
            let dot = text.contains('.');
            assert!(dot || regex_finds == 0, "{text}");
            let expected: Vec<String> = domain
                .find_iter(text)
                .filter_map(|m| registrable_domain(&m.as_str().to_ascii_lowercase()))
                .collect();
            assert_eq!(
                domains_named_in(text).collect::<Vec<_>>(),
                expected,
                "{text}"
            );
        }
    }
}
