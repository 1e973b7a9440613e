//! Forced redirects: the page sends the reader somewhere without a click — a meta
//! refresh to another site, a script changing `location`, a scripted click or form
//! submission, a window opened on load (pop-up/pop-under). Severity is the rule's
//! (error) when the destination is an affiliate address; one step lower for another
//! site or an address the scanner cannot see (a variable); a same-site destination is
//! not reported. Code inside click handlers is a reader's choice and is skipped.

use url::Url;

use crate::finding::{Confidence, Finding};
use crate::networks::registrable_domain;
use crate::signatures::ScriptAction;

use super::{Context, FindingSpec};

/// Where a forced navigation goes, as far as the scanner can tell.
#[derive(Clone)]
enum Destination {
    /// An affiliate address (or a network's shortener).
    Affiliate(Url),
    /// One of the page's own affiliate links (a scripted click whose target the
    /// scanner cannot pin down).
    PageAffiliateLinks,
    /// Another site.
    External(Url),
    /// The same site: not reported.
    SameSite,
    /// Not visible statically (a variable, a run-time string).
    Unknown,
}

/// Runs the forced-redirect detector.
pub fn detect(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for refresh in &context.page.refreshes {
        let Some(address) = &refresh.address else {
            continue;
        };
        let destination = destination_of(context, Some(address));
        findings.extend(report(
            context,
            "forced-redirect/meta-refresh",
            &destination,
            refresh.line,
            address,
            context.tag_evidence(refresh.node),
            vec![("delay", format_delay(refresh.delay))],
        ));
    }

    let page_has_affiliate_links = context.links.iter().any(|link| link.is_affiliate_like());
    // Where a scripted submit leads depends on the page's forms, not on the call: look
    // once, and only when some script submits.
    let submits = context
        .script_matches
        .iter()
        .any(|found| found.action == ScriptAction::Submit);
    let submit_destination = if submits {
        form_destination(context)
    } else {
        Destination::Unknown
    };
    for found in &context.script_matches {
        if matches!(
            found.action,
            ScriptAction::Request | ScriptAction::InjectFrame
        ) {
            continue;
        }
        let line = found.line;
        let code = &context.page.scripts[found.script].code;
        let snippet = snippet_around(code, found.range.clone());
        let address = found.url.clone();
        let (rule_id, destination) = match found.action {
            ScriptAction::Navigate => (
                "forced-redirect/script-location",
                destination_of(context, address.as_deref()),
            ),
            ScriptAction::OpenWindow => (
                "forced-redirect/popunder",
                destination_of(context, address.as_deref()),
            ),
            ScriptAction::Click => (
                "forced-redirect/auto-click",
                if page_has_affiliate_links {
                    Destination::PageAffiliateLinks
                } else {
                    Destination::Unknown
                },
            ),
            ScriptAction::Submit => ("forced-redirect/auto-submit", submit_destination.clone()),
            ScriptAction::CountdownReset => {
                findings.extend(context.finding(
                    "claim-urgency/resetting-countdown",
                    FindingSpec {
                        line,
                        column_hint: &snippet,
                        evidence: Some(snippet.clone()),
                        ..FindingSpec::default()
                    },
                ));
                continue;
            }
            ScriptAction::Request | ScriptAction::InjectFrame => continue,
        };
        findings.extend(report(
            context,
            rule_id,
            &destination,
            line,
            address.as_deref().unwrap_or(&snippet),
            snippet.clone(),
            vec![("delay", String::new())],
        ));
    }
    findings
}

fn report(
    context: &Context<'_>,
    rule_id: &str,
    destination: &Destination,
    line: u32,
    column_hint: &str,
    evidence: String,
    mut fields: Vec<(&str, String)>,
) -> Option<Finding> {
    let (url, downgrade, target, confidence) = match destination {
        Destination::SameSite => return None,
        Destination::Affiliate(url) => (Some(url), 0, "an affiliate link".to_string(), None),
        Destination::PageAffiliateLinks => {
            (None, 0, "a page with affiliate links".to_string(), None)
        }
        Destination::External(url) => (
            Some(url),
            1,
            url.host_str().unwrap_or("another site").to_string(),
            None,
        ),
        Destination::Unknown => (
            None,
            1,
            "an address built at run time".to_string(),
            Some(Confidence::Low),
        ),
    };
    let classification = url.map(|url| context.library.networks.classify(url));
    let target = match classification
        .as_ref()
        .and_then(|c| c.network_name.as_ref())
    {
        Some(name) => format!("the {name} affiliate link"),
        None => target,
    };
    fields.push(("destination", target));
    context.finding(
        rule_id,
        FindingSpec {
            line,
            column_hint,
            fields,
            evidence: Some(evidence),
            url,
            classification: classification.as_ref(),
            downgrade,
            confidence,
        },
    )
}

fn destination_of(context: &Context<'_>, address: Option<&str>) -> Destination {
    let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) else {
        return Destination::Unknown;
    };
    let resolved = crate::page::resolve_address(context.page.base_url.as_ref(), address)
        .or_else(|| crate::page::resolve_address(None, address));
    let Some(url) = resolved else {
        // A relative address on a page read from a file: the same site.
        return if address.contains("://") || address.starts_with("//") {
            Destination::Unknown
        } else {
            Destination::SameSite
        };
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Destination::SameSite;
    }
    let classification = context.library.networks.classify(&url);
    if classification.is_affiliate_like() {
        return Destination::Affiliate(url);
    }
    let page_domain = context
        .page
        .url
        .as_ref()
        .and_then(|page| page.host_str())
        .and_then(registrable_domain);
    let target_domain = url.host_str().and_then(registrable_domain);
    if page_domain.is_some() && page_domain == target_domain {
        Destination::SameSite
    } else {
        Destination::External(url)
    }
}

/// The destination of a scripted form submission: the first form whose action is an
/// affiliate address, else the first form's action, else unknown.
fn form_destination(context: &Context<'_>) -> Destination {
    let actions: Vec<&str> = context
        .page
        .document
        .nodes()
        .iter()
        .filter(|node| node.element_name() == Some("form"))
        .filter_map(|node| node.attr("action"))
        .collect();
    let mut fallback = Destination::Unknown;
    for action in actions {
        match destination_of(context, Some(action)) {
            Destination::Affiliate(url) => return Destination::Affiliate(url),
            other => {
                if matches!(fallback, Destination::Unknown) {
                    fallback = other;
                }
            }
        }
    }
    fallback
}

fn format_delay(delay: f64) -> String {
    if delay == 0.0 {
        "at once".to_string()
    } else {
        format!("after {delay} s")
    }
}

/// The source line holding the match, trimmed and cut to 160 characters. Looks at most
/// 200 bytes either side, so minified one-line scripts cost no more than short ones.
fn snippet_around(code: &str, range: std::ops::Range<usize>) -> String {
    const WINDOW: usize = 200;
    let mut window_start = range.start.saturating_sub(WINDOW);
    while !code.is_char_boundary(window_start) {
        window_start -= 1;
    }
    let mut window_end = (range.start + WINDOW).min(code.len());
    while !code.is_char_boundary(window_end) {
        window_end += 1;
    }
    let line_start = code[window_start..range.start]
        .rfind('\n')
        .map(|i| window_start + i + 1)
        .unwrap_or(window_start);
    let line_end = code[range.start..window_end]
        .find('\n')
        .map(|i| range.start + i)
        .unwrap_or(window_end);
    crate::detect::claims::shorten(code[line_start..line_end].trim(), 160)
}
