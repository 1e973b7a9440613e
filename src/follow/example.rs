//! Chains written as data, for rule examples (`{ chain = [...] }` in `patterns/`) and
//! tests: each entry is one hop, `"[VIA[:DELAY]] STATUS URL"`.
//!
//! - VIA is `http` (the default), `meta-refresh` or `javascript`; DELAY is seconds.
//! - STATUS is an HTTP status, or how the chain ended at that URL without an answer:
//!   `unreachable`, `refused`, `timeout`, `not-http`; or `loop URL` (the chain came back
//!   to URL, which is not requested again).
//! - A chain whose last hop is a redirect (3xx) ran out of hops.
//!
//! Example: `["301 https://bit.ly/x", "302 https://s.click.aliexpress.com/e/_A",
//! "200 https://www.aliexpress.com/item/1.html"]`.

use url::Url;

use super::{Chain, ChainEnd, Via};
use crate::finding::Hop;

/// Builds a chain from its written form; `Err` says which entry is wrong and why.
pub fn parse_chain(entries: &[String]) -> Result<Chain, String> {
    let mut hops = Vec::new();
    let mut end = None;
    for (index, entry) in entries.iter().enumerate() {
        if end.is_some() {
            return Err(format!(
                "entry {}: nothing may follow the chain's end",
                index + 1
            ));
        }
        let mut words: Vec<&str> = entry.split_whitespace().collect();
        let (via, delay) = match words.first().map(|word| parse_via(word)) {
            Some(Some(found)) => {
                words.remove(0);
                found
            }
            _ => (Via::Http, None),
        };
        let [status, address] = words[..] else {
            return Err(format!(
                "entry {} '{entry}': expected '[VIA] STATUS URL'",
                index + 1
            ));
        };
        let url = Url::parse(address)
            .map_err(|error| format!("entry {} '{entry}': bad URL: {error}", index + 1))?;
        if status == "loop" {
            end = Some(ChainEnd::Loop(url.to_string()));
            continue;
        }
        let mut hop = Hop::requested(url.to_string(), via.name(), delay);
        match status {
            "unreachable" => end = Some(ChainEnd::Unreachable("unreachable".into())),
            "refused" => end = Some(ChainEnd::Refused(format!("{url} is refused"))),
            "timeout" => end = Some(ChainEnd::TimedOut("timed out".into())),
            "not-http" => end = Some(ChainEnd::NotHttp(url.to_string())),
            number => {
                let code: u16 = number
                    .parse()
                    .ok()
                    .filter(|code| (100..600).contains(code))
                    .ok_or_else(|| {
                        format!("entry {} '{entry}': bad status '{number}'", index + 1)
                    })?;
                hop.status = Some(code);
            }
        }
        if end.is_some() {
            hop.error = Some(status.to_string());
        }
        hops.push(hop);
    }
    let start = match hops.first() {
        Some(hop) => Url::parse(&hop.url).map_err(|error| error.to_string())?,
        None => return Err("a chain needs at least one hop".to_string()),
    };
    let end = match end {
        Some(end) => end,
        None => match hops.last().and_then(|hop| hop.status) {
            Some(status) if (300..400).contains(&status) => ChainEnd::TooManyHops(hops.len() - 1),
            Some(status) if status >= 400 => ChainEnd::HttpError(status),
            _ => ChainEnd::Arrived,
        },
    };
    Ok(Chain {
        start,
        hops,
        end,
        page: None,
    })
}

fn parse_via(word: &str) -> Option<(Via, Option<f64>)> {
    let (name, delay) = match word.split_once(':') {
        Some((name, delay)) => (name, Some(delay.parse().ok()?)),
        None => (word, None),
    };
    let via = match name {
        "http" => Via::Http,
        "meta-refresh" => Via::MetaRefresh,
        "javascript" => Via::Javascript,
        _ => return None,
    };
    Some((via, delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(entries: &[&str]) -> Result<Chain, String> {
        parse_chain(&entries.iter().map(ToString::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn a_written_chain_becomes_hops_and_an_end() {
        let parsed = chain(&[
            "301 https://bit.ly/x",
            "meta-refresh:2 200 https://shop.example/",
        ])
        .expect("valid");
        assert_eq!(parsed.hops.len(), 2);
        assert_eq!(parsed.hops[1].via, "meta-refresh");
        assert_eq!(parsed.hops[1].delay, Some(2.0));
        assert_eq!(parsed.end, ChainEnd::Arrived);
        let looped = chain(&["302 https://a.example/", "loop https://a.example/"]).expect("valid");
        assert_eq!(looped.hops.len(), 1);
        assert!(matches!(looped.end, ChainEnd::Loop(_)));
        let dead = chain(&["302 https://a.example/", "404 https://b.example/"]).expect("valid");
        assert_eq!(dead.end, ChainEnd::HttpError(404));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(chain(&[]).is_err());
        assert!(chain(&["200"]).unwrap_err().contains("entry 1"));
        assert!(
            chain(&["999 https://a.example/"])
                .unwrap_err()
                .contains("bad status")
        );
        assert!(chain(&["unreachable https://a.example/", "200 https://b.example/"]).is_err());
    }
}
