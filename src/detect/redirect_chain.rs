//! Redirect-chain findings: what a followed chain does. Too many hops, loops, dead
//! ends, refused addresses, hijacking (the affiliate id replaced, or a second network's
//! click inserted), a destination other than the network's store or the shop the link
//! text names, plain-http hops, client-side hops, and cloaking (a general shortener or
//! an unknown redirector in front of an affiliate link). For a page scanned by URL, its
//! own redirect to an affiliate address is a forced redirect.
//!
//! Works on a [`Chain`] only: how it was fetched is [`crate::follow`]'s business, so the
//! same rules run on chains written as data in rule examples.

use url::Url;

use crate::finding::{Finding, Location, Severity};
use crate::follow::{Chain, ChainEnd};
use crate::library::Library;
use crate::networks::{Classification, LinkKind, registrable_domain};

use super::link_hygiene::domains_named_in;

/// Where a followed chain came from.
#[derive(Debug, Clone, Default)]
pub struct ChainSubject<'a> {
    /// The target the findings belong to: the page holding the link, or the URL
    /// itself for `follow`.
    pub target: &'a str,
    /// Where the link is on the page.
    pub location: Option<Location>,
    /// The link's text, when it came from a page.
    pub link_text: Option<&'a str>,
    /// The link's markup, when it came from a page.
    pub evidence: Option<String>,
    /// True when the chain is a scanned page's own (the URL was scanned, not a link on
    /// it): then only forced redirects, loops and the hop limit are reported.
    pub is_page: bool,
}

/// The findings of one chain.
pub fn detect(library: &Library, chain: &Chain, subject: &ChainSubject<'_>) -> Vec<Finding> {
    let hops: Vec<(Option<Url>, Classification)> = chain
        .hops
        .iter()
        .map(|hop| match Url::parse(&hop.url) {
            Ok(url) => {
                let classification = library.networks.classify(&url);
                (Some(url), classification)
            }
            Err(_) => (None, Classification::plain()),
        })
        .collect();
    let reporter = Reporter {
        library,
        chain,
        subject,
        network: hops
            .iter()
            .find(|(_, classification)| classification.is_affiliate_like())
            .and_then(|(_, classification)| classification.network.clone()),
    };
    let mut findings = Vec::new();
    let start = chain.start.as_str();
    match &chain.end {
        ChainEnd::Loop(url) => findings.extend(reporter.finding(
            "redirect-chain/loop",
            &[("url", start.to_string()), ("repeated", url.clone())],
        )),
        ChainEnd::TooManyHops(limit) => findings.extend(reporter.finding(
            "redirect-chain/too-many-hops",
            &[("url", start.to_string()), ("hops", limit.to_string())],
        )),
        _ => {}
    }
    if subject.is_page {
        findings.extend(page_redirect(&reporter, &hops));
        return findings;
    }
    findings.extend(dead_end(&reporter));
    findings.extend(hijack(&reporter, &hops));
    findings.extend(destination_mismatch(&reporter, &hops));
    findings.extend(cloaking(&reporter, &hops));
    if let Some(hop) = chain.hops.iter().find(|hop| hop.url.starts_with("http:")) {
        findings.extend(reporter.finding(
            "redirect-chain/insecure-hop",
            &[("url", start.to_string()), ("hop", hop.url.clone())],
        ));
    }
    if let Some(hop) = chain.hops.iter().find(|hop| hop.via != "http") {
        findings.extend(reporter.finding(
            "redirect-chain/client-side-hop",
            &[
                ("url", start.to_string()),
                ("via", hop.via.clone()),
                ("hop", hop.url.clone()),
            ],
        ));
    }
    findings
}

/// Builds findings for one chain and subject.
struct Reporter<'a> {
    library: &'a Library,
    chain: &'a Chain,
    subject: &'a ChainSubject<'a>,
    /// The network of the chain's first affiliate hop.
    network: Option<String>,
}

impl Reporter<'_> {
    fn finding(&self, rule_id: &str, fields: &[(&str, String)]) -> Option<Finding> {
        self.finding_at(rule_id, fields, 0)
    }

    /// A finding of `rule_id`, `downgrade` steps below the rule's severity.
    fn finding_at(
        &self,
        rule_id: &str,
        fields: &[(&str, String)],
        downgrade: u8,
    ) -> Option<Finding> {
        let rule = self.library.rules.get(rule_id)?;
        let mut message = rule.message.clone();
        for (name, value) in fields {
            message = message.replace(&format!("{{{name}}}"), value);
        }
        let mut severity = Some(rule.severity);
        for _ in 0..downgrade {
            severity = severity.and_then(Severity::downgraded);
        }
        Some(Finding {
            rule: rule.id.clone(),
            category: rule.category.clone(),
            severity: severity?,
            confidence: rule.confidence,
            message,
            target: self.subject.target.to_string(),
            location: self.subject.location,
            evidence: self.subject.evidence.clone(),
            url: Some(self.chain.start.to_string()),
            network: self.network.clone(),
            chain: Some(self.chain.hops.clone()),
            help: rule.help.clone(),
        })
    }
}

/// A page scanned by URL whose own chain passes through an affiliate address.
fn page_redirect(
    reporter: &Reporter<'_>,
    hops: &[(Option<Url>, Classification)],
) -> Option<Finding> {
    let (index, (_, classification)) = hops
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, (_, classification))| classification.is_affiliate_like())?;
    let hop = &reporter.chain.hops[index];
    let how = match hop.via.as_str() {
        "http" => format!(
            "an HTTP {} redirect",
            reporter.chain.hops[index - 1]
                .status
                .map(|status| status.to_string())
                .unwrap_or_default()
        ),
        "meta-refresh" => "a meta refresh".to_string(),
        _ => "a script".to_string(),
    };
    reporter.finding(
        "forced-redirect/http-redirect",
        &[
            (
                "network",
                classification.network_name.clone().unwrap_or_default(),
            ),
            ("destination", hop.url.clone()),
            ("how", how),
        ],
    )
}

/// HTTP errors, no answer, a refused address, a broken redirect. 401/403/429 are
/// reported as blocked (a bot wall or a login), not dead.
fn dead_end(reporter: &Reporter<'_>) -> Option<Finding> {
    let chain = reporter.chain;
    let start = chain.start.to_string();
    let last = chain
        .final_url()
        .unwrap_or(chain.start.as_str())
        .to_string();
    let problem = match &chain.end {
        ChainEnd::HttpError(status @ (401 | 403 | 429)) => {
            return reporter.finding(
                "redirect-chain/blocked",
                &[
                    ("url", start),
                    ("status", status.to_string()),
                    ("hop", last),
                ],
            );
        }
        ChainEnd::Refused(reason) => {
            return reporter.finding(
                "redirect-chain/refused-address",
                &[("url", start), ("reason", reason.clone())],
            );
        }
        ChainEnd::HttpError(status) => format!("HTTP {status} at {last}"),
        ChainEnd::Unreachable(reason) => format!("no answer from {last} ({reason})"),
        ChainEnd::TimedOut(reason) => format!("no answer in time at {last} ({reason})"),
        ChainEnd::BrokenRedirect(reason) => format!("a broken redirect at {last} ({reason})"),
        ChainEnd::Arrived | ChainEnd::Loop(_) | ChainEnd::TooManyHops(_) | ChainEnd::NotHttp(_) => {
            return None;
        }
    };
    reporter.finding(
        "redirect-chain/dead-end",
        &[("url", start), ("end", problem)],
    )
}

/// The affiliate id of the first affiliate hop replaced later by another id of the same
/// network, or a click URL of a second network after the first network's.
fn hijack(reporter: &Reporter<'_>, hops: &[(Option<Url>, Classification)]) -> Option<Finding> {
    let mut first: Option<&Classification> = None;
    let mut first_id: Option<&str> = None;
    for (index, (_, classification)) in hops.iter().enumerate() {
        if !classification.is_affiliate() {
            continue;
        }
        let Some(network) = &classification.network else {
            continue;
        };
        let Some(original) = first else {
            first = Some(classification);
            first_id = classification.affiliate_id.as_deref();
            continue;
        };
        let hop = &reporter.chain.hops[index].url;
        if original.network.as_ref() != Some(network) {
            if classification.kind == LinkKind::Click {
                let detail = format!(
                    "a {} click URL follows the {} link ({hop})",
                    classification.network_name.as_deref().unwrap_or(network),
                    original.network_name.as_deref().unwrap_or_default()
                );
                return reporter.finding(
                    "redirect-chain/hijacked",
                    &[
                        ("url", reporter.chain.start.to_string()),
                        ("detail", detail),
                    ],
                );
            }
            continue;
        }
        match (first_id, classification.affiliate_id.as_deref()) {
            (Some(before), Some(after)) if !before.eq_ignore_ascii_case(after) => {
                let detail =
                    format!("the affiliate id changes from '{before}' to '{after}' ({hop})");
                return reporter.finding(
                    "redirect-chain/hijacked",
                    &[
                        ("url", reporter.chain.start.to_string()),
                        ("detail", detail),
                    ],
                );
            }
            (None, Some(after)) => first_id = Some(after),
            _ => {}
        }
    }
    None
}

/// The chain arrived on a site other than the network's merchant, or other than the
/// one the link text names.
fn destination_mismatch(
    reporter: &Reporter<'_>,
    hops: &[(Option<Url>, Classification)],
) -> Option<Finding> {
    if reporter.chain.end != ChainEnd::Arrived || reporter.chain.hops.len() < 2 {
        return None;
    }
    let final_host = hops.last()?.0.as_ref()?.host_str()?.to_string();
    let final_domain = registrable_domain(&final_host)?;
    let start = reporter.chain.start.to_string();
    let merchant_domains: Vec<String> = reporter
        .network
        .as_deref()
        .and_then(|id| reporter.library.networks.network(id))
        .map(|network| network.merchant_domains.clone())
        .unwrap_or_default();
    let on_merchant = |domain: &str| {
        merchant_domains
            .iter()
            .any(|merchant| merchant.eq_ignore_ascii_case(domain))
    };
    if !merchant_domains.is_empty() && !on_merchant(&final_domain) {
        let expected = format!("the network's store ({})", merchant_domains.join(", "));
        return reporter.finding(
            "redirect-chain/destination-mismatch",
            &[
                ("url", start),
                ("actual", final_domain),
                ("expected", expected),
            ],
        );
    }
    let named = domains_named_in(reporter.subject.link_text.unwrap_or_default()).next()?;
    if named == final_domain || on_merchant(&named) && on_merchant(&final_domain) {
        return None;
    }
    reporter.finding(
        "redirect-chain/destination-mismatch",
        &[
            ("url", start),
            ("actual", final_domain),
            ("expected", format!("{named}, which the link text names")),
        ],
    )
}

/// A general-purpose shortener, or a link of no network, that leads to an affiliate
/// click or deep link.
fn cloaking(reporter: &Reporter<'_>, hops: &[(Option<Url>, Classification)]) -> Option<Finding> {
    let (Some(start), first) = hops.first()? else {
        return None;
    };
    if first.is_affiliate_like() {
        return None;
    }
    let (_, affiliate) = hops[1..]
        .iter()
        .find(|(_, classification)| classification.is_affiliate())?;
    let host = start.host_str().unwrap_or_default();
    let how = if first.kind == LinkKind::Shortener {
        format!("the link shortener {host}")
    } else {
        format!("a redirect on {host}")
    };
    reporter.finding(
        "redirect-chain/cloaked",
        &[
            ("url", reporter.chain.start.to_string()),
            (
                "network",
                affiliate.network_name.clone().unwrap_or_default(),
            ),
            ("how", how),
        ],
    )
}
