//! Link hygiene: affiliate links without `rel="sponsored"` (or `nofollow`), as search
//! engines and the networks ask; and link text that names one domain while the link
//! goes to another (a reader expecting amazon.com lands on a different shop).

use std::sync::LazyLock;

use regex::Regex;

use crate::finding::Finding;
use crate::networks::registrable_domain;

use super::{Context, FindingSpec};

/// The registrable domains a link text names ("Buy at shop.example.com" names
/// `example.com`), in order.
pub fn domains_named_in(text: &str) -> impl Iterator<Item = String> + '_ {
    static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|co|io|ru|de|fr|es|it|nl|pl|se|uk|us|ca|au|jp|in|br|mx|tr|ae|sa|sg|info|biz|shop|store)\b")
            .expect("valid domain regex")
    });
    DOMAIN
        .find_iter(text)
        .filter_map(|named| registrable_domain(&named.as_str().to_ascii_lowercase()))
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
