//! Disclosure: a page with affiliate links must tell readers before the first one
//! (FTC 16 CFR 255 "clear and conspicuous", the networks' publisher terms). Reports a
//! page with no disclosure, and one whose first disclosure comes after the first
//! affiliate link (for example only in the footer). Only visible text counts.

use crate::finding::Finding;
use crate::page::TextScope;

use super::{Context, FindingSpec};

/// Runs the disclosure detector.
pub fn detect(context: &Context<'_>) -> Vec<Finding> {
    let Some(first_link) = context
        .links
        .iter()
        .filter(|link| link.is_affiliate_like() && link.hidden.is_none())
        .min_by_key(|link| context.page.links[link.index].node)
    else {
        return Vec::new();
    };
    let page_link = &context.page.links[first_link.index];
    let disclosure = context
        .page
        .blocks_in(TextScope::Text)
        .filter(|block| !context.visibility.is_hidden(block.node))
        .find(|block| context.library.disclosures.is_disclosure(block.text()));
    let spec = |fields| FindingSpec {
        line: page_link.line,
        column_hint: &page_link.href,
        fields,
        evidence: Some(context.tag_evidence(page_link.node)),
        url: Some(&first_link.url),
        classification: Some(&first_link.classification),
        ..FindingSpec::default()
    };
    let network = first_link
        .classification
        .network_name
        .clone()
        .unwrap_or_default();
    match disclosure {
        None => context
            .finding("disclosure/missing", spec(vec![("network", network)]))
            .into_iter()
            .collect(),
        Some(block) if block.node > page_link.node => {
            let in_footer = context
                .page
                .document
                .ancestors(block.node)
                .chain(std::iter::once(block.node))
                .any(|id| context.page.document.node(id).element_name() == Some("footer"));
            let place = if in_footer {
                format!("only in the footer, line {}", block.line_at(0))
            } else {
                format!("line {}", block.line_at(0))
            };
            context
                .finding(
                    "disclosure/late",
                    spec(vec![("network", network), ("place", place)]),
                )
                .into_iter()
                .collect()
        }
        Some(_) => Vec::new(),
    }
}
