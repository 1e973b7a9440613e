//! Hidden content: links to affiliate addresses a reader cannot see (a trap for
//! scripted clicks and search engines), and hidden text blocks stuffed with offers
//! (claims or affiliate links in text no reader sees).

use std::collections::HashMap;

use crate::detect::claims::find_claims;
use crate::finding::Finding;
use crate::page::{NodeId, TextScope};

use super::{Context, FindingSpec};

/// Runs the hidden-content detector.
pub fn detect(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for link in &context.links {
        let Some(reason) = link.hidden else {
            continue;
        };
        if !link.is_affiliate_like() {
            continue;
        }
        let page_link = &context.page.links[link.index];
        findings.extend(context.finding(
            "hidden-content/hidden-affiliate-link",
            FindingSpec {
                line: page_link.line,
                column_hint: &page_link.href,
                fields: vec![
                    (
                        "network",
                        link.classification.network_name.clone().unwrap_or_default(),
                    ),
                    ("reason", reason.describe().to_string()),
                ],
                evidence: Some(context.tag_evidence(page_link.node)),
                url: Some(&link.url),
                classification: Some(&link.classification),
                ..FindingSpec::default()
            },
        ));
    }
    let hidden_blocks: Vec<_> = context
        .page
        .blocks_in(TextScope::Text)
        .filter_map(|block| Some((block, context.visibility.hidden_reason(block.node)?)))
        .collect();
    if hidden_blocks.is_empty() {
        // Most pages: no hidden text, so no links to count under it.
        return findings;
    }
    // Affiliate links under each element, counted in one walk up from every link
    // (not once per block and link).
    let mut links_under: HashMap<NodeId, usize> = HashMap::new();
    for link in context.links.iter().filter(|link| link.is_affiliate_like()) {
        for ancestor in context
            .page
            .document
            .ancestors(context.page.links[link.index].node)
        {
            *links_under.entry(ancestor).or_default() += 1;
        }
    }
    for (block, reason) in hidden_blocks {
        let claims = find_claims(&context.library.rules, block);
        let offers = claims.len() + links_under.get(&block.node).copied().unwrap_or(0);
        if offers == 0 {
            continue;
        }
        findings.extend(context.finding(
            "hidden-content/hidden-offer-text",
            FindingSpec {
                line: block.line_at(0),
                column_hint: block.text().split(' ').next().unwrap_or(""),
                fields: vec![
                    ("reason", reason.describe().to_string()),
                    ("count", offers.to_string()),
                ],
                evidence: Some(block.text().to_string()),
                ..FindingSpec::default()
            },
        ));
    }
    findings
}
