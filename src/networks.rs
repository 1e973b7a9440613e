//! Affiliate link recognition: which affiliate network a URL belongs to, and whether it
//! is a click URL (opening it sets the affiliate cookie), an affiliate deep link (a
//! merchant URL carrying affiliate parameters), a short link that must be followed to be
//! judged, or a plain link.
//!
//! The knowledge is data, not code: `patterns/networks.toml` (schema
//! `promoscan-networks/v1`), embedded at build time and checked at load time like the
//! rule library (unknown keys, bad regexes, missing examples and overlapping hosts are
//! errors naming the file, the network id and the line). Every entry carries affiliate
//! and plain example URLs; [`Networks::check_examples`] runs them through
//! [`Networks::classify`].
//!
//! This module judges one URL at a time, offline. It does not fetch pages, follow
//! redirects or decide severities: detectors and the chain follower build on it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use toml::Spanned;
use url::{Host, Url};

use crate::position::line_of_offset;

/// The schema name a networks file must declare.
pub const NETWORKS_SCHEMA: &str = "promoscan-networks/v1";

/// The path of the built-in networks file in the repository (used in error messages).
pub const BUILTIN_FILE: &str = "patterns/networks.toml";

/// The built-in networks file, embedded at build time.
const BUILTIN_SOURCE: &str = include_str!("../patterns/networks.toml");

/// The id of the entry listing general-purpose link shorteners (bit.ly, t.co...). Its
/// links classify as [`LinkKind::Shortener`] with no network.
pub const GENERIC_SHORTENER: &str = "generic-shortener";

/// Largest compiled size allowed for one id pattern.
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// A networks file could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The file could not be read.
    #[error("{path}: cannot read networks file")]
    Io {
        /// The path that failed.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is readable but wrong.
    #[error("{file}:{line}: {}{message}", network.as_ref().map(|id| format!("network '{id}': ")).unwrap_or_default())]
    Invalid {
        /// The networks file.
        file: String,
        /// 1-based line (0 when unknown).
        line: u32,
        /// The network id, when the problem is in one entry.
        network: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl NetworkError {
    /// A [`NetworkError::Invalid`] error.
    pub fn invalid(file: &str, line: u32, network: Option<&str>, message: String) -> NetworkError {
        NetworkError::Invalid {
            file: file.to_string(),
            line,
            network: network.map(str::to_string),
            message,
        }
    }
}

/// What kind of link a URL is, as far as affiliate tracking goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A network's click URL: opening it sets the affiliate cookie (then redirects).
    Click,
    /// A merchant URL carrying affiliate parameters (Amazon `tag=`, Booking.com `aid=`).
    DeepLink,
    /// A short link: where it leads (and whether it is affiliate) is only known by
    /// following it.
    Shortener,
    /// Anything else: no affiliate tracking recognised.
    Plain,
}

impl LinkKind {
    /// The name used in data files, reports and serde: `click`, `deep-link`,
    /// `shortener`, `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Click => "click",
            LinkKind::DeepLink => "deep-link",
            LinkKind::Shortener => "shortener",
            LinkKind::Plain => "plain",
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one URL.
///
/// `network` is set for clicks, deep links and a network's own shorteners (amzn.to). It
/// is `None` for plain links (even a merchant URL without affiliate parameters: it is
/// nobody's affiliate link) and for general-purpose shorteners (bit.ly), which belong to
/// no network until followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The network's id.
    pub network: Option<String>,
    /// The network's display name.
    pub network_name: Option<String>,
    /// What kind of link it is.
    pub kind: LinkKind,
    /// The affiliate's id in the link, when the network's data says where to find it
    /// and the link carries it.
    pub affiliate_id: Option<String>,
}

impl Classification {
    /// A plain link of no network.
    pub fn plain() -> Classification {
        Classification {
            network: None,
            network_name: None,
            kind: LinkKind::Plain,
            affiliate_id: None,
        }
    }

    /// True for click URLs and affiliate deep links (not for unfollowed shorteners).
    pub fn is_affiliate(&self) -> bool {
        matches!(self.kind, LinkKind::Click | LinkKind::DeepLink)
    }

    /// True for affiliate links and for a known network's own shortener (`amzn.to`),
    /// which redirects to one: what detectors treat as an affiliate address.
    pub fn is_affiliate_like(&self) -> bool {
        self.is_affiliate() || (self.kind == LinkKind::Shortener && self.network.is_some())
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(network) = &self.network {
            write!(f, " of network '{network}'")?;
        }
        if let Some(id) = &self.affiliate_id {
            write!(f, " with id '{id}'")?;
        }
        Ok(())
    }
}

/// Where a network entry was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkOrigin {
    /// The networks file.
    pub file: String,
    /// The 1-based line of the entry's `id`.
    pub line: u32,
}

/// An example URL that must classify as an affiliate link (or shortener) of its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffiliateExample {
    /// The URL.
    pub url: String,
    /// The kind it must have (never [`LinkKind::Plain`]).
    pub kind: LinkKind,
    /// The affiliate id it must yield; `None` means it must yield none.
    pub id: Option<String>,
    /// The 1-based line of the example.
    pub line: u32,
}

/// An example URL that must classify as a plain link of no network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainExample {
    /// The URL.
    pub url: String,
    /// The 1-based line of the example.
    pub line: u32,
}

/// The examples of one network entry, in both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkExamples {
    /// URLs that must be recognised as this network's (with kind and id).
    pub affiliate: Vec<AffiliateExample>,
    /// URLs that must be plain (look-alike domains, product pages without parameters...).
    pub plain: Vec<PlainExample>,
}

/// One affiliate network (or the generic-shortener list), checked and compiled.
///
/// Host entries (`click_hosts`, `shorteners`) are lower-case ASCII host names. An entry
/// matches that host and every subdomain of it; an entry written `*.example.net` matches
/// only subdomains of `example.net`.
#[derive(Debug, Clone)]
pub struct Network {
    /// Lower-case slug, stable (findings and reports name it).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Hosts whose opening sets the affiliate cookie.
    pub click_hosts: Vec<String>,
    /// When not empty, a URL on a click host is a click URL only if its path starts with
    /// one of these.
    pub click_path_prefixes: Vec<String>,
    /// Paths on click hosts that are not clicks (banner images, impression pixels). A URL
    /// on a click host that is not a click is plain, never a deep link.
    pub not_click_path_prefixes: Vec<String>,
    /// Registrable domains (eTLD+1) of the merchant's own storefronts.
    pub merchant_domains: Vec<String>,
    /// Query parameters (lower-case; compared case-insensitively) whose presence with a
    /// non-empty value makes a merchant URL an affiliate deep link.
    pub affiliate_params: Vec<String>,
    /// Query parameters holding the affiliate id, tried in order (lower-case).
    pub id_params: Vec<String>,
    /// A regex with one capture group over the URL path, tried when no id parameter is
    /// present.
    pub id_path_pattern: Option<Regex>,
    /// A regex with one capture group over the host, tried last.
    pub id_host_pattern: Option<Regex>,
    /// Ids that belong to the merchant itself: a link carrying one is plain.
    pub own_ids: Vec<String>,
    /// Hosts of the network's own short links.
    pub shorteners: Vec<String>,
    /// Example URLs, checked by [`Networks::check_examples`].
    pub examples: NetworkExamples,
    /// Where the entry was defined.
    pub origin: NetworkOrigin,
}

impl Network {
    /// True for the general-purpose shortener list ([`GENERIC_SHORTENER`]).
    pub fn is_generic(&self) -> bool {
        self.id == GENERIC_SHORTENER
    }

    /// True when a URL with this (normalised) host and path is one of this network's
    /// click URLs.
    fn is_click(&self, host: &str, path: &str) -> bool {
        self.click_hosts
            .iter()
            .any(|entry| host_matches(entry, host))
            && (self.click_path_prefixes.is_empty()
                || self
                    .click_path_prefixes
                    .iter()
                    .any(|prefix| path.starts_with(prefix.as_str())))
            && !self
                .not_click_path_prefixes
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()))
    }

    /// True when this (normalised) host is one of this network's shorteners.
    fn is_shortener(&self, host: &str) -> bool {
        self.shorteners
            .iter()
            .any(|entry| host_matches(entry, host))
    }

    /// True when a (normalised) host with this registrable domain is on one of the
    /// merchant's domains: the registrable domains are equal, or the entry sits below the
    /// host's registrable domain because the public suffix list does not know its
    /// second-level suffix (`amazon.com.be`: the list has `be` but not `com.be`).
    fn is_merchant(&self, host: &str, domain: &str) -> bool {
        self.merchant_domains.iter().any(|entry| {
            entry == domain
                || (is_subdomain(entry, domain) && (host == entry || is_subdomain(host, entry)))
        })
    }

    /// True when the URL carries one of the affiliate parameters with a value.
    fn has_affiliate_param(&self, url: &Url) -> bool {
        query_pairs(url).any(|(name, value)| {
            !value.is_empty()
                && self
                    .affiliate_params
                    .iter()
                    .any(|param| name.eq_ignore_ascii_case(param))
        })
    }

    /// The affiliate id in the URL: the first id parameter present, else the path
    /// pattern's capture, else the host pattern's capture.
    fn affiliate_id(&self, url: &Url, host: &str) -> Option<String> {
        for param in &self.id_params {
            let found = query_pairs(url)
                .find(|(name, value)| !value.is_empty() && name.eq_ignore_ascii_case(param));
            if let Some((_, value)) = found {
                return Some(value.into_owned());
            }
        }
        let capture = |pattern: &Option<Regex>, subject: &str| {
            pattern
                .as_ref()
                .and_then(|regex| regex.captures(subject))
                .and_then(|captures| captures.get(1))
                .map(|group| group.as_str().to_string())
                .filter(|id| !id.is_empty())
        };
        capture(&self.id_path_pattern, url.path()).or_else(|| capture(&self.id_host_pattern, host))
    }

    /// The classification of a URL this network claims as `kind` (plain when the id is
    /// one of the merchant's own).
    fn claim(&self, kind: LinkKind, url: &Url, host: &str) -> Classification {
        let affiliate_id = self.affiliate_id(url, host);
        if let Some(id) = &affiliate_id
            && self.own_ids.iter().any(|own| own.eq_ignore_ascii_case(id))
        {
            return Classification::plain();
        }
        Classification {
            network: Some(self.id.clone()),
            network_name: Some(self.name.clone()),
            kind,
            affiliate_id,
        }
    }
}

/// An example whose classification differs from what its entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The network entry holding the example.
    pub network: String,
    /// The networks file.
    pub file: String,
    /// The 1-based line of the example.
    pub line: u32,
    /// The example URL.
    pub url: String,
    /// What the entry expects.
    pub expected: Classification,
    /// What [`Networks::classify`] said.
    pub actual: Classification,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: network '{}': {}: expected {}, got {}",
            self.file, self.line, self.network, self.url, self.expected, self.actual
        )
    }
}

/// The affiliate network library: every network entry, checked, ready to classify URLs.
#[derive(Debug, Clone)]
pub struct Networks {
    networks: Vec<Network>,
    /// Which networks a host can concern, by its last two labels (see [`HostIndex`]).
    index: HostIndex,
}

/// The networks whose host entries (click hosts, shorteners, merchant domains) end in
/// each pair of last labels, so that [`Networks::classify`] checks only those.
///
/// Every host check accepts a host only when it ends with the entry, label by label;
/// such a host has the entry's last two labels. Entries of one label cannot be indexed
/// that way, so their networks are always checked.
#[derive(Debug, Clone, Default)]
struct HostIndex {
    by_last_labels: HashMap<String, Vec<usize>>,
    always: Vec<usize>,
}

impl HostIndex {
    fn new(networks: &[Network]) -> HostIndex {
        let mut index = HostIndex::default();
        for (position, network) in networks.iter().enumerate() {
            let entries = network
                .click_hosts
                .iter()
                .chain(&network.shorteners)
                .chain(&network.merchant_domains);
            for entry in entries {
                let entry = entry.strip_prefix("*.").unwrap_or(entry);
                let list = match last_two_labels(entry) {
                    Some(labels) => index.by_last_labels.entry(labels.to_string()).or_default(),
                    None => &mut index.always,
                };
                if list.last() != Some(&position) {
                    list.push(position);
                }
            }
        }
        index
    }

    /// The networks that can concern `host`, in file order.
    fn candidates(&self, host: &str) -> Cow<'_, [usize]> {
        let indexed = last_two_labels(host)
            .and_then(|labels| self.by_last_labels.get(labels))
            .map(Vec::as_slice)
            .unwrap_or_default();
        if self.always.is_empty() {
            return Cow::Borrowed(indexed);
        }
        let mut candidates: Vec<usize> = indexed.iter().chain(&self.always).copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        Cow::Owned(candidates)
    }
}

/// `b.c` of `a.b.c`; `None` for a name of one label.
fn last_two_labels(host: &str) -> Option<&str> {
    let last_dot = host.rfind('.')?;
    let start = host[..last_dot].rfind('.').map(|dot| dot + 1).unwrap_or(0);
    Some(&host[start..])
}

impl Networks {
    /// The built-in library (`patterns/networks.toml`, embedded at build time).
    pub fn builtin() -> Result<Networks, NetworkError> {
        Networks::load_str(BUILTIN_FILE, BUILTIN_SOURCE)
    }

    /// Parses and checks a networks file. `file_name` names it in errors.
    pub fn load_str(file_name: &str, text: &str) -> Result<Networks, NetworkError> {
        load(file_name, text)
    }

    /// Reads, parses and checks a networks file from disk.
    pub fn load_file(path: &Path) -> Result<Networks, NetworkError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| NetworkError::Io {
            path: name.clone(),
            source,
        })?;
        Networks::load_str(&name, &text)
    }

    /// Adds the networks of another file; an id defined twice is an error naming the
    /// second file and line.
    pub fn extend(&mut self, other: Networks) -> Result<(), NetworkError> {
        for network in other.networks {
            if self.network(&network.id).is_some() {
                return Err(NetworkError::invalid(
                    &network.origin.file,
                    network.origin.line,
                    Some(&network.id),
                    "a network with this id is already defined".to_string(),
                ));
            }
            self.networks.push(network);
        }
        self.index = HostIndex::new(&self.networks);
        Ok(())
    }

    /// Every network entry, in file order.
    pub fn networks(&self) -> &[Network] {
        &self.networks
    }

    /// The network entry with this id.
    pub fn network(&self, id: &str) -> Option<&Network> {
        self.networks.iter().find(|network| network.id == id)
    }

    /// Classifies one URL.
    ///
    /// Only `http:` and `https:` URLs with a domain host can be affiliate; anything else
    /// (other schemes, IP addresses) is plain. Hosts compare as the url crate gives them
    /// (lower-case, percent-decoded, IDNA to punycode), without a trailing dot; ports and
    /// user info are ignored. In order:
    /// 1. a click host (and path) of a network: [`LinkKind::Click`]; any other path on
    ///    a click host (an impression pixel, a banner image) is plain;
    /// 2. a shortener host: [`LinkKind::Shortener`], of that network, or of none for
    ///    [`GENERIC_SHORTENER`];
    /// 3. a merchant domain (compared by registrable domain, so `amazon.co.uk` matches
    ///    and `amazon.com.evil.example` does not; by host for entries such as
    ///    `amazon.com.be` whose suffix the public suffix list lacks) with an affiliate
    ///    parameter: [`LinkKind::DeepLink`];
    /// 4. otherwise [`LinkKind::Plain`], with no network.
    ///
    /// A click or deep link whose affiliate id is one of the network's `own_ids` is
    /// plain.
    pub fn classify(&self, url: &Url) -> Classification {
        let Some(host) = link_host(url) else {
            return Classification::plain();
        };
        // The networks with an entry the host can match (most links: none).
        let candidates = self.index.candidates(&host);
        if candidates.is_empty() {
            return Classification::plain();
        }
        let networks = || candidates.iter().map(|&position| &self.networks[position]);
        if let Some(network) = networks().find(|network| network.is_click(&host, url.path())) {
            return network.claim(LinkKind::Click, url, &host);
        }
        // Other paths on a tracking host (impression pixels, banners) are no storefront.
        if networks().any(|network| {
            network
                .click_hosts
                .iter()
                .any(|entry| host_matches(entry, &host))
        }) {
            return Classification::plain();
        }
        if let Some(network) = networks().find(|network| network.is_shortener(&host)) {
            if network.is_generic() {
                return Classification {
                    kind: LinkKind::Shortener,
                    ..Classification::plain()
                };
            }
            return Classification {
                network: Some(network.id.clone()),
                network_name: Some(network.name.clone()),
                kind: LinkKind::Shortener,
                affiliate_id: None,
            };
        }
        let Some(domain) = psl::domain_str(&host) else {
            return Classification::plain();
        };
        if let Some(network) = networks().find(|network| network.is_merchant(&host, domain))
            && network.has_affiliate_param(url)
        {
            return network.claim(LinkKind::DeepLink, url, &host);
        }
        Classification::plain()
    }

    /// Classifies a URL given as text; text that is not an absolute URL is plain.
    pub fn classify_str(&self, url: &str) -> Classification {
        Url::parse(url.trim())
            .map(|url| self.classify(&url))
            .unwrap_or_else(|_| Classification::plain())
    }

    /// Runs every example of every entry through [`Networks::classify`] and returns the
    /// ones that disagree (empty when all pass).
    ///
    /// An affiliate example must have its kind, its id (or none when it gives none) and
    /// the entry's network (none for [`GENERIC_SHORTENER`]); a plain example must be
    /// plain and of no network.
    pub fn check_examples(&self) -> Vec<ExampleFailure> {
        let mut failures = Vec::new();
        for network in &self.networks {
            let (expected_network, expected_name) = if network.is_generic() {
                (None, None)
            } else {
                (Some(network.id.clone()), Some(network.name.clone()))
            };
            for example in &network.examples.affiliate {
                let expected = Classification {
                    network: expected_network.clone(),
                    network_name: expected_name.clone(),
                    kind: example.kind,
                    affiliate_id: example.id.clone(),
                };
                let actual = self.classify_str(&example.url);
                if actual != expected {
                    failures.push(failure(
                        network,
                        example.line,
                        &example.url,
                        expected,
                        actual,
                    ));
                }
            }
            for example in &network.examples.plain {
                let actual = self.classify_str(&example.url);
                if actual != Classification::plain() {
                    failures.push(failure(
                        network,
                        example.line,
                        &example.url,
                        Classification::plain(),
                        actual,
                    ));
                }
            }
        }
        failures
    }
}

fn failure(
    network: &Network,
    line: u32,
    url: &str,
    expected: Classification,
    actual: Classification,
) -> ExampleFailure {
    ExampleFailure {
        network: network.id.clone(),
        file: network.origin.file.clone(),
        line,
        url: url.to_string(),
        expected,
        actual,
    }
}

/// The registrable domain (eTLD+1, by the public suffix list) of a host: `amazon.co.uk`
/// for `www.amazon.co.uk`, `aliexpress.com` for `s.click.aliexpress.com`.
///
/// The host is parsed as a URL host (so upper case, percent-encoding and Unicode are
/// normalised to lower-case punycode) and a trailing dot is removed. IP addresses,
/// public suffixes themselves (`co.uk`), single labels (`localhost`) and invalid hosts
/// return `None`. Private suffixes count: `user.github.io` is its own registrable domain.
pub fn registrable_domain(host: &str) -> Option<String> {
    match Host::parse(host.trim()).ok()? {
        Host::Domain(domain) => {
            let domain = domain.strip_suffix('.').unwrap_or(&domain);
            psl::domain_str(domain).map(str::to_string)
        }
        Host::Ipv4(_) | Host::Ipv6(_) => None,
    }
}

/// The normalised domain host of an `http:`/`https:` URL (lower case, no trailing dot),
/// or `None` when the URL cannot be an affiliate link.
fn link_host(url: &Url) -> Option<Cow<'_, str>> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let Some(Host::Domain(domain)) = url.host() else {
        return None;
    };
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return None;
    }
    // The URL parser already lowercases http(s) hosts: a copy is made only if not.
    if domain.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Some(Cow::Owned(domain.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(domain))
    }
}

/// The URL's query as decoded name/value pairs, the same as [`Url::query_pairs`], but a
/// pair is decoded only when it has an escape (`%` or `+`): most pairs have none and are
/// returned as slices of the query, without the decoder's work.
fn query_pairs(url: &Url) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    url.query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            if pair.bytes().any(|byte| byte == b'%' || byte == b'+') {
                // The decoder itself: one `&`-free, non-empty pair gives exactly one.
                return url::form_urlencoded::parse(pair.as_bytes()).next();
            }
            // Without escapes, decoding leaves the (UTF-8) text as it is.
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((Cow::Borrowed(name), Cow::Borrowed(value)))
        })
}

/// True when a host entry (`example.com` or `*.example.com`) matches a normalised host.
fn host_matches(entry: &str, host: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(parent) => is_subdomain(host, parent),
        None => host == entry || is_subdomain(host, entry),
    }
}

/// True when `host` is a strict subdomain of `parent`.
fn is_subdomain(host: &str, parent: &str) -> bool {
    host.strip_suffix(parent)
        .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
}

// ---------------------------------------------------------------------------------------
// Loading

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: Spanned<String>,
    #[serde(default, rename = "network")]
    networks: Vec<RawNetwork>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    click_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    click_path_prefixes: Vec<Spanned<String>>,
    #[serde(default)]
    not_click_path_prefixes: Vec<Spanned<String>>,
    #[serde(default)]
    merchant_domains: Vec<Spanned<String>>,
    #[serde(default)]
    affiliate_params: Vec<Spanned<String>>,
    #[serde(default)]
    id_param: Option<OneOrMany>,
    id_path_pattern: Option<Spanned<String>>,
    id_host_pattern: Option<Spanned<String>>,
    #[serde(default)]
    own_ids: Vec<String>,
    #[serde(default)]
    shorteners: Vec<Spanned<String>>,
    examples: RawExamples,
}

/// `id_param = "tag"` or `id_param = ["sk", "aff_fsk"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a query parameter name or a list of names")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(name) => vec![name],
            OneOrMany::Many(names) => names,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    #[serde(default)]
    affiliate: Vec<Spanned<RawAffiliateExample>>,
    #[serde(default)]
    plain: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAffiliateExample {
    url: String,
    kind: LinkKind,
    id: Option<String>,
}

/// A host entry claimed by a network, for the overlap check.
struct ClaimedHost {
    host: String,
    network: String,
}

fn load(file: &str, source: &str) -> Result<Networks, NetworkError> {
    let raw: RawFile = toml::from_str(source).map_err(|error| {
        let offset = error.span().map(|span| span.start);
        let line = offset.map(|o| line_of_offset(source, o)).unwrap_or(0);
        let network = offset.and_then(|o| enclosing_network_id(source, o));
        NetworkError::invalid(file, line, network.as_deref(), error.message().to_string())
    })?;
    if raw.schema.get_ref() != NETWORKS_SCHEMA {
        return Err(NetworkError::invalid(
            file,
            line_of_offset(source, raw.schema.span().start),
            None,
            format!(
                "schema is '{}', expected '{NETWORKS_SCHEMA}'",
                raw.schema.get_ref()
            ),
        ));
    }
    if raw.networks.is_empty() {
        return Err(NetworkError::invalid(
            file,
            0,
            None,
            "no [[network]] entries".to_string(),
        ));
    }
    let mut networks: Vec<Network> = Vec::new();
    let mut hosts: Vec<ClaimedHost> = Vec::new();
    let mut merchants: HashMap<String, String> = HashMap::new();
    for raw_network in raw.networks {
        let network = compile(file, source, raw_network, &mut hosts, &mut merchants)?;
        if let Some(first) = networks.iter().find(|n| n.id == network.id) {
            return Err(NetworkError::invalid(
                file,
                network.origin.line,
                Some(&network.id),
                format!("duplicate id (first defined on line {})", first.origin.line),
            ));
        }
        networks.push(network);
    }
    let index = HostIndex::new(&networks);
    Ok(Networks { networks, index })
}

fn compile(
    file: &str,
    source: &str,
    raw: RawNetwork,
    hosts: &mut Vec<ClaimedHost>,
    merchants: &mut HashMap<String, String>,
) -> Result<Network, NetworkError> {
    let id = raw.id.get_ref().clone();
    let line = line_of_offset(source, raw.id.span().start);
    let fail_at =
        |line: u32, message: String| NetworkError::invalid(file, line, Some(&id), message);
    let fail = |message: String| fail_at(line, message);
    let line_of = |span: std::ops::Range<usize>| line_of_offset(source, span.start);

    if !is_slug(&id) {
        return Err(fail(
            "id must be a slug of lower-case letters, digits and single dashes".to_string(),
        ));
    }
    if raw.name.trim().is_empty() {
        return Err(fail("name is empty".to_string()));
    }

    let mut host_list = |entries: Vec<Spanned<String>>, field: &str| {
        let mut out = Vec::new();
        for entry in entries {
            let entry_line = line_of(entry.span());
            let host = entry.into_inner();
            check_host_entry(&host)
                .map_err(|problem| fail_at(entry_line, format!("{field}: {problem}")))?;
            let base = host.strip_prefix("*.").unwrap_or(&host).to_string();
            if let Some(other) = hosts
                .iter()
                .find(|claimed| claimed.network != id && hosts_overlap(&claimed.host, &base))
            {
                return Err(fail_at(
                    entry_line,
                    format!(
                        "{field}: '{host}' overlaps '{}' of network '{}' (a host belongs to one network)",
                        other.host, other.network
                    ),
                ));
            }
            hosts.push(ClaimedHost {
                host: base,
                network: id.clone(),
            });
            out.push(host);
        }
        Ok::<_, NetworkError>(out)
    };
    let click_hosts = host_list(raw.click_hosts, "click_hosts")?;
    let shorteners = host_list(raw.shorteners, "shorteners")?;

    let mut merchant_domains = Vec::new();
    for entry in raw.merchant_domains {
        let entry_line = line_of(entry.span());
        let domain = entry.into_inner();
        check_host_entry(&domain)
            .and_then(|()| check_merchant_domain(&domain))
            .map_err(|problem| fail_at(entry_line, format!("merchant_domains: {problem}")))?;
        if let Some(other) = merchants.get(&domain)
            && *other != id
        {
            return Err(fail_at(
                entry_line,
                format!(
                    "merchant_domains: '{domain}' is already a merchant domain of network '{other}'"
                ),
            ));
        }
        merchants.insert(domain.clone(), id.clone());
        merchant_domains.push(domain);
    }

    let param_list = |entries: Vec<(String, u32)>, field: &str| {
        entries
            .into_iter()
            .map(|(name, entry_line)| {
                if name.is_empty() || name.contains(['=', '&', '#', '?', ' ']) {
                    Err(fail_at(
                        entry_line,
                        format!("{field}: '{name}' is not a query parameter name"),
                    ))
                } else {
                    Ok(name.to_ascii_lowercase())
                }
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let affiliate_params = param_list(
        raw.affiliate_params
            .into_iter()
            .map(|entry| (entry.get_ref().clone(), line_of(entry.span())))
            .collect(),
        "affiliate_params",
    )?;
    let id_params = param_list(
        raw.id_param
            .map(OneOrMany::into_vec)
            .unwrap_or_default()
            .into_iter()
            .map(|name| (name, line))
            .collect(),
        "id_param",
    )?;

    let prefix_list = |entries: Vec<Spanned<String>>, field: &str| {
        entries
            .into_iter()
            .map(|entry| {
                let entry_line = line_of(entry.span());
                let prefix = entry.into_inner();
                if prefix.starts_with('/') {
                    Ok(prefix)
                } else {
                    Err(fail_at(
                        entry_line,
                        format!("{field}: '{prefix}' must start with '/'"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let click_path_prefixes = prefix_list(raw.click_path_prefixes, "click_path_prefixes")?;
    let not_click_path_prefixes =
        prefix_list(raw.not_click_path_prefixes, "not_click_path_prefixes")?;

    let pattern = |entry: Option<Spanned<String>>, field: &str| {
        entry
            .map(|entry| {
                let entry_line = line_of(entry.span());
                let regex = RegexBuilder::new(entry.get_ref())
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| fail_at(entry_line, format!("invalid regex in {field}: {e}")))?;
                if regex.captures_len() != 2 {
                    return Err(fail_at(
                        entry_line,
                        format!(
                            "{field} needs exactly one capture group (the id), found {}",
                            regex.captures_len() - 1
                        ),
                    ));
                }
                Ok(regex)
            })
            .transpose()
    };
    let id_path_pattern = pattern(raw.id_path_pattern, "id_path_pattern")?;
    let id_host_pattern = pattern(raw.id_host_pattern, "id_host_pattern")?;

    let has_id_source =
        !id_params.is_empty() || id_path_pattern.is_some() || id_host_pattern.is_some();
    if id == GENERIC_SHORTENER {
        if !click_hosts.is_empty()
            || !merchant_domains.is_empty()
            || !affiliate_params.is_empty()
            || has_id_source
            || !raw.own_ids.is_empty()
        {
            return Err(fail(format!(
                "'{GENERIC_SHORTENER}' lists shorteners only (no click hosts, merchants or ids)"
            )));
        }
        if shorteners.is_empty() {
            return Err(fail(format!("'{GENERIC_SHORTENER}' needs shorteners")));
        }
    } else if click_hosts.is_empty() && merchant_domains.is_empty() && shorteners.is_empty() {
        return Err(fail(
            "a network needs click_hosts, merchant_domains or shorteners".to_string(),
        ));
    }
    if merchant_domains.is_empty() != affiliate_params.is_empty() {
        return Err(fail(
            "merchant_domains and affiliate_params go together (deep links need both)".to_string(),
        ));
    }
    if click_hosts.is_empty()
        && (!click_path_prefixes.is_empty() || !not_click_path_prefixes.is_empty())
    {
        return Err(fail("click path prefixes need click_hosts".to_string()));
    }
    if !raw.own_ids.is_empty() && !has_id_source {
        return Err(fail(
            "own_ids need an id_param, id_path_pattern or id_host_pattern".to_string(),
        ));
    }

    let examples = raw.examples;
    if examples.affiliate.is_empty() || examples.plain.is_empty() {
        return Err(fail(
            "every network needs at least one examples.affiliate and one examples.plain"
                .to_string(),
        ));
    }
    let mut affiliate = Vec::new();
    for example in examples.affiliate {
        let example_line = line_of(example.span());
        let example = example.into_inner();
        if example.kind == LinkKind::Plain {
            return Err(fail_at(
                example_line,
                "an affiliate example cannot have kind 'plain' (list it in examples.plain)"
                    .to_string(),
            ));
        }
        check_example_url(&example.url).map_err(|problem| fail_at(example_line, problem))?;
        affiliate.push(AffiliateExample {
            url: example.url,
            kind: example.kind,
            id: example.id,
            line: example_line,
        });
    }
    let mut plain = Vec::new();
    for example in examples.plain {
        let example_line = line_of(example.span());
        let url = example.into_inner();
        check_example_url(&url).map_err(|problem| fail_at(example_line, problem))?;
        plain.push(PlainExample {
            url,
            line: example_line,
        });
    }

    Ok(Network {
        id: id.clone(),
        name: raw.name,
        click_hosts,
        click_path_prefixes,
        not_click_path_prefixes,
        merchant_domains,
        affiliate_params,
        id_params,
        id_path_pattern,
        id_host_pattern,
        own_ids: raw.own_ids,
        shorteners,
        examples: NetworkExamples { affiliate, plain },
        origin: NetworkOrigin {
            file: file.to_string(),
            line,
        },
    })
}

/// Lower-case letters and digits in dash-separated groups.
fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks a host entry: an optional `*.` then a host name exactly as a URL parser
/// writes it (lower case, punycode, no trailing dot) under a registrable domain.
fn check_host_entry(entry: &str) -> Result<(), String> {
    let name = entry.strip_prefix("*.").unwrap_or(entry);
    if name.contains('*') {
        return Err(format!("'{entry}': '*' is only allowed as a leading '*.'"));
    }
    let parsed = match Host::parse(name) {
        Ok(Host::Domain(domain)) => domain,
        Ok(_) => return Err(format!("'{entry}' is an IP address, not a host name")),
        Err(e) => return Err(format!("'{entry}' is not a host name ({e})")),
    };
    if parsed != name || name.ends_with('.') {
        let wildcard = if entry.starts_with("*.") { "*." } else { "" };
        return Err(format!(
            "'{entry}' must be written '{wildcard}{}' (lower case, punycode, no trailing dot)",
            parsed.trim_end_matches('.')
        ));
    }
    if psl::domain_str(name).is_none() {
        return Err(format!(
            "'{entry}' is a public suffix or has no registrable domain"
        ));
    }
    Ok(())
}

/// Second-level labels that registries use like a public suffix even where the public
/// suffix list does not list them (`com.be`).
const UNLISTED_SECOND_LEVEL: &[&str] = &["com", "co", "net", "org"];

/// Checks a merchant domain: a registrable domain, or one label below an unlisted
/// second-level suffix such as `com.be` (so `amazon.com.be` is accepted and
/// `www.amazon.com` is not).
fn check_merchant_domain(domain: &str) -> Result<(), String> {
    if domain.starts_with("*.") {
        return Err(format!("'{domain}': merchant domains take no '*.'"));
    }
    let Some(registrable) = registrable_domain(domain) else {
        return Err(format!("'{domain}' has no registrable domain"));
    };
    if registrable == domain {
        return Ok(());
    }
    let label = &domain[..domain.len() - registrable.len() - 1];
    let suffix_like = registrable
        .split('.')
        .next()
        .is_some_and(|first| UNLISTED_SECOND_LEVEL.contains(&first));
    if suffix_like && !label.contains('.') {
        return Ok(());
    }
    Err(format!(
        "'{domain}' is not a registrable domain (write '{registrable}')"
    ))
}

/// True when one host is the other or a subdomain of it.
fn hosts_overlap(a: &str, b: &str) -> bool {
    a == b || is_subdomain(a, b) || is_subdomain(b, a)
}

/// An example URL must be an absolute URL.
fn check_example_url(url: &str) -> Result<(), String> {
    Url::parse(url)
        .map(|_| ())
        .map_err(|e| format!("example '{url}' is not an absolute URL ({e})"))
}

/// The `id` of the `[[network]]` block holding a byte offset (for parse errors).
fn enclosing_network_id(source: &str, offset: usize) -> Option<String> {
    let mut block_start = None;
    let mut position = 0;
    for line in source.split_inclusive('\n') {
        if position > offset {
            break;
        }
        if line.trim_start().starts_with("[[network]]") {
            block_start = Some(position);
        }
        position += line.len();
    }
    let block = &source[block_start?..];
    let mut lines = block.lines();
    let header = lines.next();
    debug_assert!(header.is_some_and(|h| h.trim_start().starts_with("[[network]]")));
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with("[[network]]") {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix("id")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let value = value.trim();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            return value[1..].split(quote).next().map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Networks {
        Networks::builtin().expect("built-in networks file is valid")
    }

    fn classify(url: &str) -> Classification {
        builtin().classify(&Url::parse(url).expect("test URL parses"))
    }

    fn kind_of(url: &str) -> LinkKind {
        classify(url).kind
    }

    // --- query pairs ---------------------------------------------------------------------

    #[test]
    fn query_pairs_agree_with_the_url_decoder_on_generated_queries() {
        let pieces = [
            "a", "tag", "=", "&", "&&", "%", "%2", "%41", "%C3%A9", "%ff", "+", "é", "日", "🙂",
            "==", "id", "%26", "%3D", " ", "#", "?",
        ];
        let mut next = crate::test_support::numbers_below(29);
        let mut queries = vec![
            String::new(),
            "&".to_string(),
            "=".to_string(),
            "tag=".repeat(10_000),
        ];
        for _ in 0..2_000 {
            let mut query = String::new();
            for _ in 0..next(12) {
                query.push_str(pieces[next(pieces.len())]);
            }
            queries.push(query);
        }
        for query in &queries {
            for url in [
                format!("https://example.com/p?{query}"),
                format!("https://example.com/p?{query}#frag"),
            ] {
                let Ok(url) = Url::parse(&url) else {
                    continue;
                };
                let plain: Vec<_> = url.query_pairs().collect();
                let cheap: Vec<_> = query_pairs(&url).collect();
                assert_eq!(cheap, plain, "{url}");
            }
        }
        let no_query = Url::parse("https://example.com/p").expect("test URL parses");
        assert_eq!(query_pairs(&no_query).count(), 0);
    }

    // --- host index ----------------------------------------------------------------------

    #[test]
    fn last_two_labels_of_host_names() {
        assert_eq!(
            last_two_labels("s.click.aliexpress.com"),
            Some("aliexpress.com")
        );
        assert_eq!(last_two_labels("amzn.to"), Some("amzn.to"));
        assert_eq!(last_two_labels("localhost"), None);
    }

    #[test]
    fn host_index_narrows_to_the_networks_a_host_can_concern() {
        let networks = builtin();
        let names = |host: &str| -> Vec<&str> {
            networks
                .index
                .candidates(host)
                .iter()
                .map(|&position| networks.networks[position].id.as_str())
                .collect()
        };
        assert!(names("www.example.org").is_empty());
        assert!(names("localhost").is_empty());
        assert!(names("s.click.aliexpress.com").contains(&"aliexpress-portals"));
        assert!(names("www.amazon.de").contains(&"amazon-associates"));
        // Every host an entry names leads to its network, and in file order.
        for (position, network) in networks.networks.iter().enumerate() {
            for entry in network.click_hosts.iter().chain(&network.shorteners) {
                let host = entry.replace("*.", "sub.");
                let candidates = networks.index.candidates(&host);
                assert!(candidates.contains(&position), "{host}");
                assert!(
                    candidates.windows(2).all(|pair| pair[0] < pair[1]),
                    "{host}"
                );
            }
        }
    }

    // --- registrable domains -----------------------------------------------------------

    #[test]
    fn registrable_domain_uses_the_public_suffix_list() {
        assert_eq!(
            registrable_domain("www.amazon.co.uk").as_deref(),
            Some("amazon.co.uk")
        );
        assert_eq!(
            registrable_domain("s.click.aliexpress.com").as_deref(),
            Some("aliexpress.com")
        );
        assert_eq!(
            registrable_domain("aliexpress.ru").as_deref(),
            Some("aliexpress.ru")
        );
        assert_eq!(
            registrable_domain("amazon.com.phish.example").as_deref(),
            Some("phish.example")
        );
        assert_eq!(
            registrable_domain("user.github.io").as_deref(),
            Some("user.github.io")
        );
    }

    #[test]
    fn registrable_domain_normalises_case_trailing_dot_and_unicode() {
        assert_eq!(
            registrable_domain("WWW.Amazon.CO.UK.").as_deref(),
            Some("amazon.co.uk")
        );
        assert_eq!(
            registrable_domain(" amazon.de ").as_deref(),
            Some("amazon.de")
        );
        assert_eq!(
            registrable_domain("www.пример.рф").as_deref(),
            Some("xn--e1afmkfd.xn--p1ai")
        );
        assert_eq!(
            registrable_domain("ａｍａｚｏｎ.com").as_deref(),
            Some("amazon.com")
        );
    }

    #[test]
    fn registrable_domain_is_none_for_ips_suffixes_and_junk() {
        for host in [
            "127.0.0.1",
            "[::1]",
            "::1",
            "co.uk",
            "com",
            "localhost",
            "",
            "a b.com",
        ] {
            assert_eq!(registrable_domain(host), None, "{host}");
        }
    }

    // --- look-alikes and host normalisation ------------------------------------------------

    #[test]
    fn merchant_domains_compare_by_registrable_domain() {
        assert_eq!(
            kind_of("https://www.amazon.co.uk/dp/B0?tag=x-21"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://smile.amazon.com/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://de.aliexpress.com/item/1.html?sk=_k"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://aliexpress.ru/item/1.html?sk=_k"),
            LinkKind::DeepLink
        );
    }

    #[test]
    fn merchant_domains_under_unlisted_second_level_suffixes_match_by_host() {
        // The public suffix list has "be" but not "com.be".
        assert_eq!(
            registrable_domain("www.amazon.com.be").as_deref(),
            Some("com.be")
        );
        assert_eq!(
            kind_of("https://www.amazon.com.be/dp/B0?tag=x-21"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://amazon.com.be/dp/B0?tag=x-21"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://evil.com.be/dp/B0?tag=x-21"),
            LinkKind::Plain
        );
        assert_eq!(
            kind_of("https://xamazon.com.be/dp/B0?tag=x-21"),
            LinkKind::Plain
        );
        assert!(check_merchant_domain("amazon.com.be").is_ok());
        assert!(check_merchant_domain("www.amazon.com").is_err());
        assert!(check_merchant_domain("a.b.com.be").is_err());
    }

    #[test]
    fn look_alike_domains_are_plain() {
        for url in [
            "https://evil-aliexpress.com/item/1.html?sk=_k",
            "https://aliexpress.com.evil.example/item/1.html?sk=_k",
            "https://www.amazon.com.phish.example/dp/B0?tag=x-20",
            "https://amazon.co.uk.example/dp/B0?tag=x-20",
            "https://s.click.aliexpress.com.evil.example/e/_k",
            "https://notamzn.to/abc",
            "https://xamzn.to/abc",
        ] {
            assert_eq!(classify(url), Classification::plain(), "{url}");
        }
    }

    #[test]
    fn user_info_and_embedded_urls_do_not_fool_the_host_check() {
        assert_eq!(
            kind_of("https://www.amazon.com@evil.example/dp/B0?tag=x-20"),
            LinkKind::Plain
        );
        assert_eq!(
            kind_of("https://evil.example/r?u=https://www.amazon.com/dp/B0?tag=x-20"),
            LinkKind::Plain
        );
        assert_eq!(
            kind_of("https://evil.example/s.click.aliexpress.com/e/_k"),
            LinkKind::Plain
        );
    }

    #[test]
    fn hosts_and_parameter_names_compare_case_insensitively() {
        let c = classify("HTTPS://WWW.AMAZON.COM/dp/B0?TAG=case-20");
        assert_eq!(c.kind, LinkKind::DeepLink);
        assert_eq!(c.affiliate_id.as_deref(), Some("case-20"));
        assert_eq!(
            kind_of("https://S.Click.AliExpress.com/e/_k"),
            LinkKind::Click
        );
    }

    #[test]
    fn parameter_values_keep_their_case() {
        let c = classify("https://s.click.aliexpress.com/e/_DmAbC");
        assert_eq!(c.affiliate_id.as_deref(), Some("_DmAbC"));
    }

    #[test]
    fn a_trailing_dot_is_ignored() {
        assert_eq!(
            kind_of("https://www.amazon.com./dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://s.click.aliexpress.com./e/_k"),
            LinkKind::Click
        );
        assert_eq!(kind_of("https://bit.ly./abc"), LinkKind::Shortener);
    }

    #[test]
    fn idna_and_percent_encoded_hosts_are_compared_as_parsed() {
        // Full-width letters map to ASCII under IDNA: browsers open amazon.com too.
        assert_eq!(
            kind_of("https://ａｍａｚｏｎ.com/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://%61mazon.com/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        // A Cyrillic 'а' makes a different (punycode) domain.
        assert_eq!(
            kind_of("https://www.аmazon.com/dp/B0?tag=x-20"),
            LinkKind::Plain
        );
    }

    #[test]
    fn percent_encoded_parameter_names_are_decoded() {
        assert_eq!(
            kind_of("https://www.amazon.com/dp/B0?t%61g=x-20"),
            LinkKind::DeepLink
        );
    }

    #[test]
    fn ports_are_ignored() {
        assert_eq!(
            kind_of("https://www.amazon.com:8443/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("http://s.click.aliexpress.com:80/e/_k"),
            LinkKind::Click
        );
    }

    #[test]
    fn only_http_and_https_can_be_affiliate() {
        assert_eq!(
            kind_of("http://www.amazon.com/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        assert_eq!(
            kind_of("https://www.amazon.com/dp/B0?tag=x-20"),
            LinkKind::DeepLink
        );
        for url in [
            "ftp://www.amazon.com/dp/B0?tag=x-20",
            "ws://s.click.aliexpress.com/e/_k",
            "javascript:location='https://s.click.aliexpress.com/e/_k'",
            "mailto:someone@amazon.com?tag=x-20",
            "data:text/html,https://amzn.to/abc",
            "HTTPX://s.click.aliexpress.com/e/_k",
        ] {
            assert_eq!(classify(url), Classification::plain(), "{url}");
        }
    }

    #[test]
    fn ip_hosts_are_plain() {
        assert_eq!(kind_of("http://192.0.2.1/e/_k?tag=x-20"), LinkKind::Plain);
        assert_eq!(
            kind_of("http://[2001:db8::1]/dp/B0?tag=x-20"),
            LinkKind::Plain
        );
    }

    #[test]
    fn unparsable_text_is_plain() {
        let networks = builtin();
        assert_eq!(networks.classify_str("not a url"), Classification::plain());
        assert_eq!(networks.classify_str("/e/_k"), Classification::plain());
        assert_eq!(
            networks.classify_str("  https://amzn.to/abc  ").kind,
            LinkKind::Shortener
        );
    }

    // --- host entries and paths ----------------------------------------------------------

    #[test]
    fn a_host_entry_matches_its_subdomains_and_a_wildcard_only_subdomains() {
        assert!(host_matches("rover.ebay.de", "rover.ebay.de"));
        assert!(host_matches("rover.ebay.de", "m.rover.ebay.de"));
        assert!(!host_matches("rover.ebay.de", "xrover.ebay.de"));
        assert!(!host_matches("rover.ebay.de", "ebay.de"));
        assert!(host_matches("*.sjv.io", "brand.sjv.io"));
        assert!(host_matches("*.sjv.io", "a.brand.sjv.io"));
        assert!(!host_matches("*.sjv.io", "sjv.io"));
        assert!(!host_matches("*.sjv.io", "brandsjv.io"));
        assert_eq!(kind_of("https://sjv.io/c/1/2/3"), LinkKind::Plain);
        assert_eq!(
            kind_of("https://m.rover.ebay.de/rover/1/x/1?campid=1"),
            LinkKind::Click
        );
    }

    #[test]
    fn click_path_prefixes_restrict_click_hosts() {
        assert_eq!(
            kind_of("https://s.click.aliexpress.com/e/_k"),
            LinkKind::Click
        );
        assert_eq!(
            kind_of("https://s.click.aliexpress.com/deep_link.htm?aff_short_key=_k"),
            LinkKind::Click
        );
        // Not a click path; on the merchant's domain, but without affiliate parameters.
        assert_eq!(
            classify("https://s.click.aliexpress.com/help"),
            Classification::plain()
        );
        // Admitad banner images live beside its clicks.
        assert_eq!(kind_of("https://ad.admitad.com/g/abc123/"), LinkKind::Click);
        assert_eq!(kind_of("https://ad.admitad.com/b/abc123/"), LinkKind::Plain);
        // Path prefixes are case-sensitive, like paths.
        assert_eq!(kind_of("https://ad.admitad.com/G/abc123/"), LinkKind::Plain);
    }

    #[test]
    fn other_paths_on_a_click_host_are_plain_even_on_a_merchant_domain() {
        // rover.ebay.com is under ebay.com, a merchant domain, and carries campid=.
        assert_eq!(
            classify("https://rover.ebay.com/roverimp/1/711-1/1?campid=5330000000"),
            Classification::plain()
        );
        assert_eq!(
            kind_of("https://rover.ebay.com/rover/1/711-1/1?campid=5330000000"),
            LinkKind::Click
        );
    }

    #[test]
    fn not_click_path_prefixes_exclude_pixels_and_banners() {
        assert_eq!(kind_of("https://brand.sjv.io/c/1/2/3"), LinkKind::Click);
        assert_eq!(kind_of("https://brand.sjv.io/i/1/2/3"), LinkKind::Plain);
        assert_eq!(
            kind_of("https://www.dpbolvw.net/click-1-2"),
            LinkKind::Click
        );
        assert_eq!(
            kind_of("https://www.dpbolvw.net/image-1-2"),
            LinkKind::Plain
        );
    }

    // --- ids ---------------------------------------------------------------------------

    #[test]
    fn id_params_are_tried_in_order_before_the_path_pattern() {
        let c = classify(
            "https://s.click.aliexpress.com/deep_link.htm?sk=_second&aff_short_key=_first",
        );
        assert_eq!(c.affiliate_id.as_deref(), Some("_first"));
        let c = classify("https://s.click.aliexpress.com/e/_path?sk=_param");
        assert_eq!(c.affiliate_id.as_deref(), Some("_param"));
        let c = classify("https://s.click.aliexpress.com/e/_path?sk=");
        assert_eq!(c.affiliate_id.as_deref(), Some("_path"));
    }

    #[test]
    fn ids_come_from_paths_and_hosts() {
        let c = classify("https://ad.admitad.com/g/2fm4vusamu00/?ulp=x");
        assert_eq!(c.network.as_deref(), Some("admitad"));
        assert_eq!(c.affiliate_id.as_deref(), Some("2fm4vusamu00"));
        let c = classify("https://brand.pxf.io/c/42/7/9?u=x");
        assert_eq!(c.affiliate_id.as_deref(), Some("42"));
        let c = classify("https://someone.vendor.hop.clickbank.net/");
        assert_eq!(c.affiliate_id.as_deref(), Some("someone"));
        let c = classify("https://www.anrdoezrs.net/links/1234/type/dlg/https://x.example/");
        assert_eq!(c.affiliate_id.as_deref(), Some("1234"));
    }

    #[test]
    fn a_click_without_an_id_is_still_a_click() {
        let c = classify("https://brand.sjv.io/vanity");
        assert_eq!(c.kind, LinkKind::Click);
        assert_eq!(c.affiliate_id, None);
    }

    #[test]
    fn empty_affiliate_parameters_do_not_make_a_deep_link() {
        assert_eq!(
            kind_of("https://www.amazon.com/dp/B0?tag="),
            LinkKind::Plain
        );
        assert_eq!(kind_of("https://www.amazon.com/dp/B0?tag"), LinkKind::Plain);
    }

    #[test]
    fn own_ids_are_plain() {
        assert_eq!(
            classify("https://www.booking.com/hotel/x.html?aid=304142"),
            Classification::plain()
        );
        assert_eq!(
            classify("https://www.amazon.com/s?k=x&tag=GOOGHYDR-20"),
            Classification::plain()
        );
        let c = classify("https://www.booking.com/hotel/x.html?aid=42&label=x");
        assert_eq!(c.kind, LinkKind::DeepLink);
        assert_eq!(c.affiliate_id.as_deref(), Some("42"));
    }

    #[test]
    fn a_merchant_url_without_affiliate_parameters_is_plain_of_no_network() {
        assert_eq!(
            classify("https://www.amazon.com/dp/B0?ref=nav&th=1"),
            Classification::plain()
        );
    }

    // --- shorteners --------------------------------------------------------------------

    #[test]
    fn network_shorteners_name_their_network_and_generic_ones_none() {
        let c = classify("https://amzn.to/abc");
        assert_eq!(c.kind, LinkKind::Shortener);
        assert_eq!(c.network.as_deref(), Some("amazon-associates"));
        assert_eq!(c.network_name.as_deref(), Some("Amazon Associates"));
        assert!(!c.is_affiliate());
        let c = classify("https://bit.ly/abc");
        assert_eq!(
            c,
            Classification {
                kind: LinkKind::Shortener,
                ..Classification::plain()
            }
        );
    }

    // --- API ---------------------------------------------------------------------------

    #[test]
    fn classification_names_network_and_kind() {
        let c = classify("https://www.awin1.com/cread.php?awinmid=1&awinaffid=99");
        assert_eq!(c.network.as_deref(), Some("awin"));
        assert_eq!(c.network_name.as_deref(), Some("Awin"));
        assert!(c.is_affiliate());
        assert_eq!(c.to_string(), "click of network 'awin' with id '99'");
        assert_eq!(Classification::plain().to_string(), "plain");
    }

    #[test]
    fn link_kinds_serialise_with_their_data_names() {
        for kind in [
            LinkKind::Click,
            LinkKind::DeepLink,
            LinkKind::Shortener,
            LinkKind::Plain,
        ] {
            let json = serde_json::to_value(kind).expect("serialises");
            assert_eq!(json, serde_json::Value::String(kind.to_string()));
        }
        assert_eq!(LinkKind::DeepLink.to_string(), "deep-link");
        let c = serde_json::to_value(classify("https://www.amazon.de/dp/B0?tag=x-21"))
            .expect("serialises");
        assert_eq!(c["kind"], "deep-link");
        assert_eq!(c["network"], "amazon-associates");
        assert_eq!(c["affiliate_id"], "x-21");
    }

    #[test]
    fn networks_are_listed_and_found_by_id() {
        let networks = builtin();
        assert!(networks.networks().len() >= 16);
        let amazon = networks.network("amazon-associates").expect("present");
        assert_eq!(amazon.name, "Amazon Associates");
        assert!(amazon.merchant_domains.iter().any(|d| d == "amazon.co.jp"));
        assert!(amazon.origin.line > 0);
        assert!(networks.network("no-such-network").is_none());
    }

    // --- loading -----------------------------------------------------------------------

    const GOOD: &str = r#"schema = "promoscan-networks/v1"

[[network]]
id = "example-net"
name = "Example Net"
click_hosts = ["click.example-net.test", "*.track.example"]
click_path_prefixes = ["/go/"]
merchant_domains = ["shop.example"]
affiliate_params = ["Ref"]
id_param = "ref"
id_path_pattern = '^/go/([0-9]+)'

[network.examples]
affiliate = [
  { url = "https://click.example-net.test/go/42", kind = "click", id = "42" },
  { url = "https://www.shop.example/p?ref=7", kind = "deep-link", id = "7" },
]
plain = ["https://shop.example/p", "https://click.example-net.test/about"]
"#;

    fn error_of(source: &str) -> String {
        Networks::load_str("bad.toml", source)
            .expect_err("must fail")
            .to_string()
    }

    #[test]
    fn loads_a_valid_file_and_its_examples_pass() {
        let networks = Networks::load_str("good.toml", GOOD).expect("valid");
        let network = &networks.networks()[0];
        assert_eq!(
            network.origin,
            NetworkOrigin {
                file: "good.toml".into(),
                line: 4
            }
        );
        assert_eq!(network.affiliate_params, ["ref"]);
        assert_eq!(network.examples.affiliate[1].line, 16);
        assert_eq!(networks.check_examples(), []);
        assert_eq!(
            networks.classify_str("https://a.track.example/go/5").kind,
            LinkKind::Click
        );
    }

    #[test]
    fn failing_examples_are_reported_with_file_and_line() {
        let bad = GOOD.replace(
            r#"kind = "click", id = "42""#,
            r#"kind = "click", id = "43""#,
        );
        let networks = Networks::load_str("good.toml", &bad).expect("valid");
        let failures = networks.check_examples();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].to_string(),
            "good.toml:15: network 'example-net': https://click.example-net.test/go/42: \
             expected click of network 'example-net' with id '43', \
             got click of network 'example-net' with id '42'"
        );
    }

    #[test]
    fn unknown_key_names_file_network_and_line() {
        let bad = GOOD.replace(
            "name = \"Example Net\"",
            "name = \"Example Net\"\nclick_host = []",
        );
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:6: network 'example-net': "),
            "{message}"
        );
        assert!(message.contains("click_host"), "{message}");
    }

    #[test]
    fn unknown_key_in_examples_names_the_network() {
        let bad = GOOD.replace(
            "kind = \"deep-link\", id = \"7\"",
            "kind = \"deep-link\", idd = \"7\"",
        );
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:16: network 'example-net': "),
            "{message}"
        );
    }

    #[test]
    fn unknown_kind_is_an_error() {
        let bad = GOOD.replace("kind = \"deep-link\"", "kind = \"deeplink\"");
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:16: network 'example-net': "),
            "{message}"
        );
        assert!(message.contains("deeplink"), "{message}");
    }

    #[test]
    fn invalid_regex_names_its_line() {
        let bad = GOOD.replace("'^/go/([0-9]+)'", "'^/go/([0-9]+'");
        let message = error_of(&bad);
        assert!(
            message.starts_with(
                "bad.toml:11: network 'example-net': invalid regex in id_path_pattern"
            ),
            "{message}"
        );
    }

    #[test]
    fn id_pattern_needs_one_capture_group() {
        let bad = GOOD.replace("'^/go/([0-9]+)'", "'^/go/[0-9]+'");
        assert!(error_of(&bad).contains("exactly one capture group"));
        let bad = GOOD.replace("'^/go/([0-9]+)'", "'^/(go)/([0-9]+)'");
        assert!(error_of(&bad).contains("exactly one capture group"));
    }

    #[test]
    fn duplicate_ids_are_an_error() {
        let second = GOOD
            .split_once("[[network]]")
            .map(|(_, rest)| rest)
            .expect("has a network")
            .replace("click.example-net.test\", \"*.track.example", "other.test")
            .replace("shop.example\"]", "other-shop.example\"]")
            .replace("https://click.example-net.test", "https://other.test")
            .replace("shop.example/p", "other-shop.example/p");
        let bad = format!("{GOOD}\n[[network]]{second}");
        let message = error_of(&bad);
        assert!(
            message.starts_with(
                "bad.toml:21: network 'example-net': duplicate id (first defined on line 4)"
            ),
            "{message}"
        );
    }

    #[test]
    fn overlapping_hosts_across_networks_are_an_error() {
        let second = r#"
[[network]]
id = "other"
name = "Other"
shorteners = ["go.click.example-net.test"]

[network.examples]
affiliate = [{ url = "https://go.click.example-net.test/x", kind = "shortener" }]
plain = ["https://example.test/"]
"#;
        let message = error_of(&format!("{GOOD}{second}"));
        assert!(
            message.starts_with("bad.toml:23: network 'other': shorteners:"),
            "{message}"
        );
        assert!(message.contains("of network 'example-net'"), "{message}");
    }

    #[test]
    fn merchant_domains_must_be_registrable_domains() {
        let bad = GOOD.replace("[\"shop.example\"]", "[\"www.shop.example\"]");
        assert!(
            error_of(&bad)
                .contains("'www.shop.example' is not a registrable domain (write 'shop.example')")
        );
        let bad = GOOD.replace("[\"shop.example\"]", "[\"co.uk\"]");
        assert!(error_of(&bad).contains("public suffix"));
    }

    #[test]
    fn host_entries_must_be_normalised() {
        for (entry, expected) in [
            (
                "Click.Example-Net.test",
                "must be written 'click.example-net.test'",
            ),
            (
                "click.example-net.test.",
                "must be written 'click.example-net.test'",
            ),
            ("click.*.test", "'*' is only allowed"),
            ("https://click.test/", "not a host name"),
            ("192.0.2.1", "IP address"),
            ("*.com", "public suffix"),
        ] {
            let bad = GOOD.replace("\"click.example-net.test\", ", &format!("\"{entry}\", "));
            let message = error_of(&bad);
            assert!(
                message.starts_with("bad.toml:6: network 'example-net': click_hosts: "),
                "{message}"
            );
            assert!(message.contains(expected), "{entry}: {message}");
        }
    }

    #[test]
    fn examples_in_both_directions_are_required() {
        let bad = GOOD.replace(
            "plain = [\"https://shop.example/p\", \"https://click.example-net.test/about\"]",
            "plain = []",
        );
        let message = error_of(&bad);
        assert!(
            message.starts_with("bad.toml:4: network 'example-net': "),
            "{message}"
        );
        assert!(message.contains("at least one examples.affiliate and one examples.plain"));
        let bad = GOOD.replace("[network.examples]", "");
        let bad = bad
            .split("affiliate = [")
            .next()
            .expect("prefix")
            .to_string();
        assert!(error_of(&bad).contains("examples"), "{}", error_of(&bad));
    }

    #[test]
    fn affiliate_examples_cannot_be_plain_and_must_be_urls() {
        let bad = GOOD.replace("kind = \"click\", id = \"42\"", "kind = \"plain\"");
        assert!(error_of(&bad).starts_with(
            "bad.toml:15: network 'example-net': an affiliate example cannot have kind 'plain'"
        ));
        let bad = GOOD.replace("\"https://shop.example/p\", ", "\"shop.example/p\", ");
        assert!(error_of(&bad).starts_with(
            "bad.toml:18: network 'example-net': example 'shop.example/p' is not an absolute URL"
        ));
    }

    #[test]
    fn wrong_schema_and_bad_ids_are_errors() {
        let bad = GOOD.replace("promoscan-networks/v1", "promoscan-rules/v1");
        assert!(error_of(&bad).starts_with("bad.toml:1: schema is 'promoscan-rules/v1'"));
        let bad = GOOD.replace("id = \"example-net\"", "id = \"Example_Net\"");
        assert!(error_of(&bad).starts_with("bad.toml:4: network 'Example_Net': id must be a slug"));
        assert!(
            error_of("schema = \"promoscan-networks/v1\"\n").contains("no [[network]] entries")
        );
    }

    #[test]
    fn structural_rules_are_checked() {
        let bad = GOOD.replace("affiliate_params = [\"Ref\"]\n", "");
        assert!(error_of(&bad).contains("merchant_domains and affiliate_params go together"));
        let bad = GOOD.replace("id = \"example-net\"", "id = \"generic-shortener\"");
        assert!(error_of(&bad).contains("lists shorteners only"));
        let bad = GOOD.replace("[\"/go/\"]", "[\"go/\"]");
        assert!(error_of(&bad).contains("'go/' must start with '/'"));
        let bad = GOOD.replace("id_param = \"ref\"", "id_param = 3");
        assert!(error_of(&bad).contains("a query parameter name or a list of names"));
    }

    #[test]
    fn id_param_takes_a_list() {
        let good = GOOD.replace("id_param = \"ref\"", "id_param = [\"x\", \"REF\"]");
        let networks = Networks::load_str("good.toml", &good).expect("valid");
        assert_eq!(networks.networks()[0].id_params, ["x", "ref"]);
    }

    #[test]
    fn enclosing_network_id_finds_the_block() {
        assert_eq!(
            enclosing_network_id(GOOD, GOOD.find("plain =").unwrap()).as_deref(),
            Some("example-net")
        );
        assert_eq!(enclosing_network_id(GOOD, 0), None);
    }
}
