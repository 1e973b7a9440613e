//! Cookie stuffing: an affiliate address opened without a reader's click (a hidden or
//! tiny frame, an image, a script, a stylesheet or prefetch, CSS `url()`, a scripted
//! request or injected frame), several networks stuffed on one page view
//! ("scattergun"), and loads that hide the referring page.
//!
//! Legitimate look-alikes stay quiet because the classifier only calls click URLs and
//! deep links affiliate: a network's impression pixel (`cshow.php`, `/image-…`) beside a
//! visible banner, and a visible product widget from an ad host, are plain addresses.

use std::collections::BTreeSet;

use crate::finding::{Confidence, Finding};

use super::{Context, FindingSpec, Load, LoadVia};

/// Runs the cookie-stuffing detector.
pub fn detect(context: &Context<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut networks_seen = BTreeSet::new();
    let mut scattergun_reported = false;
    for load in &context.loads {
        let generic = load.is_generic_shortener();
        if !load.is_affiliate_like() && !generic {
            continue;
        }
        let rule_id = match (&load.via, load.element.as_str(), load.hidden) {
            (LoadVia::Script { .. }, _, _) => "cookie-stuffing/scripted-request",
            (_, "iframe" | "frame", Some(_)) => "cookie-stuffing/hidden-iframe",
            _ => "cookie-stuffing/no-click-load",
        };
        let confidence = if generic {
            Confidence::Low
        } else if load.hidden.is_some() || matches!(load.via, LoadVia::Script { .. }) {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let how = describe_how(load);
        let network_name = load
            .classification
            .network_name
            .clone()
            .unwrap_or_else(|| "an unknown (shortened)".to_string());
        findings.extend(context.finding(
            rule_id,
            FindingSpec {
                line: load.line,
                column_hint: &load.address,
                fields: vec![
                    ("network", network_name.clone()),
                    ("element", load.element.clone()),
                    ("how", how),
                ],
                evidence: Some(evidence(context, load)),
                url: Some(&load.url),
                classification: Some(&load.classification),
                downgrade: u8::from(generic),
                confidence: Some(confidence),
            },
        ));
        if load.referrer_stripped {
            findings.extend(context.finding(
                "cookie-stuffing/referrer-stripped",
                FindingSpec {
                    line: load.line,
                    column_hint: &load.address,
                    fields: vec![("network", network_name)],
                    evidence: Some(evidence(context, load)),
                    url: Some(&load.url),
                    classification: Some(&load.classification),
                    ..FindingSpec::default()
                },
            ));
        }
        if let Some(network) = &load.classification.network {
            networks_seen.insert(network.clone());
            if networks_seen.len() >= 2 && !scattergun_reported {
                scattergun_reported = true;
                let list: Vec<&str> = networks_seen.iter().map(String::as_str).collect();
                findings.extend(context.finding(
                    "cookie-stuffing/scattergun",
                    FindingSpec {
                        line: load.line,
                        column_hint: &load.address,
                        fields: vec![("networks", list.join(", "))],
                        evidence: Some(evidence(context, load)),
                        url: Some(&load.url),
                        classification: Some(&load.classification),
                        ..FindingSpec::default()
                    },
                ));
            }
        }
    }
    findings
}

fn describe_how(load: &Load) -> String {
    let place = match &load.via {
        LoadVia::Element { attribute } => format!("<{} {attribute}>", load.element),
        LoadVia::CssUrl => "a CSS url()".to_string(),
        LoadVia::Script { signature } => format!("a script ({signature})"),
    };
    match load.hidden {
        Some(reason) => format!("{place}; hidden: {}", reason.describe()),
        None => place,
    }
}

fn evidence(context: &Context<'_>, load: &Load) -> String {
    match &load.via {
        LoadVia::Element { .. } => context.tag_evidence(load.node),
        _ => load.address.clone(),
    }
}
