//! Runs that go online: `scan` with URL targets or `--follow`, and `follow`. Files are
//! scanned as by [`Scanner::scan_all`]; URL targets are fetched (their redirect chain
//! recorded) and their final page scanned; with link following, every distinct
//! affiliate or shortened link of every scanned page is followed once and its chain
//! findings are attached to each page (and place) that holds it.
//!
//! Not for: HTTP details ([`crate::fetch`]), chain tracing ([`crate::follow`]) or
//! judging chains ([`crate::detect::redirect_chain`]).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use url::Url;

use crate::detect::redirect_chain::{self, ChainSubject};
use crate::finding::{Report, TargetKind, TargetStatus};
use crate::follow::{Chain, ChainEnd, Follower, cache_key};
use crate::input::{InputProblem, Target};
use crate::scan::{Scanner, TargetResult};

/// Scans every target; URL targets are fetched with `follower` (or refused when it is
/// `None`: `--offline`); with `follow_links`, the pages' links are followed too.
pub fn scan(
    scanner: &Scanner<'_>,
    targets: Vec<(Target, Option<InputProblem>)>,
    follower: Option<&Follower>,
    follow_links: bool,
) -> Report {
    let mut results: Vec<Option<TargetResult>> = vec![None; targets.len()];
    let mut urls: Vec<(usize, String, Url)> = Vec::new();
    let mut local: Vec<(usize, Target, Option<InputProblem>)> = Vec::new();
    for (index, (target, problem)) in targets.into_iter().enumerate() {
        match (&target, follower, &problem) {
            (Target::Url(name), Some(_), None) => match Url::parse(name) {
                Ok(url) => urls.push((index, name.clone(), url)),
                Err(error) => {
                    let problem = InputProblem::Unreadable(format!("not a valid URL: {error}"));
                    let outcome = Err(scanner.failure(name, problem));
                    results[index] = Some(TargetResult::from_outcome(
                        name.clone(),
                        TargetKind::Url,
                        outcome,
                    ));
                }
            },
            _ => local.push((index, target, problem)),
        }
    }
    // After Ctrl-C, targets not started are skipped; the others are reported.
    let scanned: Vec<(usize, TargetResult)> = local
        .into_par_iter()
        .filter(|_| !crate::interrupt::requested())
        .map(|(index, target, problem)| (index, scanner.scan_target(&target, problem)))
        .collect();
    for (index, result) in scanned {
        results[index] = Some(result);
    }
    if let Some(follower) = follower {
        for (index, result) in scan_urls(scanner, follower, urls) {
            results[index] = Some(result);
        }
        if follow_links {
            let mut flat: Vec<TargetResult> = results.iter_mut().filter_map(Option::take).collect();
            follow_links_of(scanner, follower, &mut flat);
            results = flat.into_iter().map(Some).collect();
        }
    }
    let mut records = Vec::new();
    let mut findings = Vec::new();
    for result in results.into_iter().flatten() {
        records.push(result.record);
        findings.extend(result.findings);
    }
    Report::new(records, findings)
}

/// How many targets per thread are scanned together before their results are handed
/// over: enough that every core stays busy, few enough that memory stays flat.
const STREAM_BATCH_PER_THREAD: usize = 16;

/// Scans targets without the network (files, folders' files, stdin; a URL target is a
/// failed target, as with `--offline`) and hands each result to `done` as soon as it and
/// the results before it are ready: in the order of the targets' names (stable for equal
/// names), each target's findings sorted, with the target's place in the given order.
/// That is the order of a [`Report`], so a report can be written as the run goes
/// ([`crate::report::stream`]). Only one batch of results is held at a time. After
/// Ctrl-C, targets not started are skipped. Stops at the first error `done` returns.
pub fn scan_streaming(
    scanner: &Scanner<'_>,
    targets: Vec<(Target, Option<InputProblem>)>,
    mut done: impl FnMut(usize, TargetResult) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut pending: Vec<(String, usize, Target, Option<InputProblem>)> = targets
        .into_iter()
        .enumerate()
        .map(|(order, (target, problem))| (target.name(), order, target, problem))
        .collect();
    pending.sort_by(|a, b| a.0.cmp(&b.0));
    let batch_size = STREAM_BATCH_PER_THREAD * rayon::current_num_threads().max(1);
    let mut pending = pending.into_iter().peekable();
    loop {
        let mut batch: Vec<_> = pending.by_ref().take(batch_size).collect();
        // Targets of the same name go in one batch, to be handed over together.
        while let (Some(last), Some(next)) = (batch.last(), pending.peek())
            && last.0 == next.0
        {
            batch.extend(pending.next());
        }
        if batch.is_empty() || crate::interrupt::requested() {
            return Ok(());
        }
        let mut results: Vec<(usize, TargetResult)> = batch
            .into_par_iter()
            .filter(|_| !crate::interrupt::requested())
            .map(|(_, order, target, problem)| (order, scanner.scan_target(&target, problem)))
            .collect();
        // The findings of targets of the same name (one named twice) are sorted together
        // and handed over with the first of them, as a report sorts them.
        let mut first = 0;
        while first < results.len() {
            let name = results[first].1.record.target.clone();
            let same_name = results[first..]
                .iter()
                .take_while(|(_, result)| result.record.target == name)
                .count();
            let mut findings = Vec::new();
            for (_, result) in &mut results[first..first + same_name] {
                findings.append(&mut result.findings);
            }
            findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            results[first].1.findings = findings;
            first += same_name;
        }
        for (order, result) in results {
            done(order, result)?;
        }
    }
}

/// Fetches each URL target (the user named it, so its origin is allowed), records its
/// chain and scans its final page.
fn scan_urls(
    scanner: &Scanner<'_>,
    follower: &Follower,
    urls: Vec<(usize, String, Url)>,
) -> Vec<(usize, TargetResult)> {
    for (_, _, url) in &urls {
        follower.allow_user_named(url);
    }
    let starts: Vec<Url> = urls.iter().map(|(_, _, url)| url.clone()).collect();
    let chains = follower.follow_all(&starts, true);
    urls.into_par_iter()
        .zip(chains)
        .filter_map(|((index, name, _), chain)| {
            // `None`: interrupted before the page arrived; nothing to report.
            let chain = chain?;
            Some((index, scan_url_target(scanner, &name, &chain)))
        })
        .collect()
}

/// The result of one URL target from its chain: the final page scanned, plus the
/// chain's own findings (a redirect into an affiliate link is a forced redirect).
pub fn scan_url_target(scanner: &Scanner<'_>, name: &str, chain: &Chain) -> TargetResult {
    let outcome = match &chain.page {
        Some(page) => scanner.scan_fetched(name, page),
        None => Err(scanner.failure(name, InputProblem::Unreadable(end_problem(chain)))),
    };
    let mut result = TargetResult::from_outcome(name.to_string(), TargetKind::Url, outcome);
    // A redirect to another page that answered but is not HTML is still a page.
    if chain.page.is_none() && chain.end == ChainEnd::Arrived {
        result.record.status = TargetStatus::Scanned;
        result.record.error = None;
        result.findings.clear();
    }
    let subject = ChainSubject {
        target: name,
        is_page: true,
        ..ChainSubject::default()
    };
    let chain_findings = redirect_chain::detect(scanner.library(), chain, &subject);
    result.findings.extend(scanner.apply_policy(chain_findings));
    result.record.final_url = chain.final_url().map(str::to_string);
    result.record.chain = Some(chain.hops.clone());
    result
}

/// Why a URL gave no page to scan.
fn end_problem(chain: &Chain) -> String {
    let at = chain.final_url().unwrap_or(chain.start.as_str());
    match &chain.end {
        ChainEnd::Arrived => format!("{at} is not an HTML page"),
        ChainEnd::HttpError(status) => format!("HTTP {status} at {at}"),
        ChainEnd::BrokenRedirect(reason)
        | ChainEnd::Unreachable(reason)
        | ChainEnd::Refused(reason)
        | ChainEnd::TimedOut(reason) => reason.clone(),
        ChainEnd::Loop(url) => format!("redirect loop back to {url}"),
        ChainEnd::TooManyHops(limit) => format!("still redirecting after {limit} hops"),
        ChainEnd::NotHttp(url) => format!("redirects to {url}, which is not an http(s) URL"),
    }
}

/// Follows every distinct link of every result once and attaches the chain findings
/// at each place the link appears (suppressions and policy applied).
fn follow_links_of(scanner: &Scanner<'_>, follower: &Follower, results: &mut [TargetResult]) {
    let mut distinct: Vec<Url> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for result in results.iter() {
        for link in &result.links {
            if let std::collections::hash_map::Entry::Vacant(entry) =
                position.entry(cache_key(&link.url))
            {
                entry.insert(distinct.len());
                distinct.push(link.url.clone());
            }
        }
    }
    if distinct.is_empty() {
        return;
    }
    let chains = follower.follow_all(&distinct, false);
    let by_key: HashMap<String, Arc<Chain>> = distinct
        .iter()
        .map(cache_key)
        .zip(chains)
        .filter_map(|(key, chain)| Some((key, chain?)))
        .collect();
    for result in results.iter_mut() {
        let found = link_findings(scanner, result, &by_key);
        result.findings.extend(found);
    }
}

/// The chain findings of every followed link of a result, at each place the link
/// appears, suppressions and policy applied. `chains` is keyed by [`cache_key`].
pub fn link_findings(
    scanner: &Scanner<'_>,
    result: &TargetResult,
    chains: &HashMap<String, Arc<Chain>>,
) -> Vec<crate::finding::Finding> {
    let mut found = Vec::new();
    for link in &result.links {
        let Some(chain) = chains.get(&cache_key(&link.url)) else {
            continue;
        };
        let subject = ChainSubject {
            target: &result.record.target,
            location: Some(link.location),
            link_text: Some(&link.text),
            evidence: Some(link.evidence.clone()),
            is_page: false,
        };
        found.extend(redirect_chain::detect(scanner.library(), chain, &subject));
    }
    found.retain(|finding| !result.suppressions.suppresses(finding));
    scanner.apply_policy(found)
}

/// `follow URL...`: each URL's chain and its findings. A URL that got no answer at all
/// is a failed target.
pub fn follow(scanner: &Scanner<'_>, follower: &Follower, names: &[String]) -> Report {
    let mut records = Vec::new();
    let mut findings = Vec::new();
    let mut valid: Vec<(usize, Url)> = Vec::new();
    let mut results: Vec<Option<TargetResult>> = vec![None; names.len()];
    for (index, name) in names.iter().enumerate() {
        match Url::parse(name) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                follower.allow_user_named(&url);
                valid.push((index, url));
            }
            Ok(url) => {
                let problem = InputProblem::Unreadable(format!(
                    "unsupported scheme '{}:' (only http and https are followed)",
                    url.scheme()
                ));
                results[index] = Some(failed_url(scanner, name, problem));
            }
            Err(error) => {
                let problem = InputProblem::Unreadable(format!("not a valid URL: {error}"));
                results[index] = Some(failed_url(scanner, name, problem));
            }
        }
    }
    let starts: Vec<Url> = valid.iter().map(|(_, url)| url.clone()).collect();
    let chains = follower.follow_all(&starts, false);
    for ((index, _), chain) in valid.iter().zip(&chains) {
        let Some(chain) = chain else {
            continue;
        };
        let name = &names[*index];
        // A link that got no answer at all failed; its dead-end finding says why.
        let mut result =
            TargetResult::from_outcome(name.clone(), TargetKind::Url, Ok(Default::default()));
        if chain.got_no_answer() {
            result.record.status = TargetStatus::Failed;
            result.record.error = Some(end_problem(chain));
        }
        let subject = ChainSubject {
            target: name,
            ..ChainSubject::default()
        };
        result
            .findings
            .extend(scanner.apply_policy(redirect_chain::detect(
                scanner.library(),
                chain,
                &subject,
            )));
        result.record.final_url = chain.final_url().map(str::to_string);
        result.record.chain = Some(chain.hops.clone());
        results[*index] = Some(result);
    }
    for result in results.into_iter().flatten() {
        records.push(result.record);
        findings.extend(result.findings);
    }
    Report::new(records, findings)
}

fn failed_url(scanner: &Scanner<'_>, name: &str, problem: InputProblem) -> TargetResult {
    TargetResult::from_outcome(
        name.to_string(),
        TargetKind::Url,
        Err(scanner.failure(name, problem)),
    )
}
