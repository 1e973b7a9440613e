//! The private-address guard (DESIGN §6): addresses reached by following (a redirect,
//! a discovered link) in loopback, private, link-local and other non-public ranges are
//! refused, unless the user named that origin or passed `--allow-private`. The check
//! runs after DNS resolution and before connecting: IP literals are checked before the
//! request, host names inside the resolver reqwest uses, so a name that resolves to a
//! private address is never connected to (DNS rebinding included).
//!
//! Not for: blocking public sites. This guard protects the scanning machine's network,
//! not the reader.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Why an address is refused, or `None` when it is a public address.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(mapped) = ip.to_ipv4_mapped() {
                return refused_v4(mapped);
            }
            refused_v6(ip)
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (carrier-grade NAT)")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("multicast, broadcast or reserved")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private (unique local)")
    } else if ip.is_multicast() {
        Some("multicast, broadcast or reserved")
    } else if let Some(embedded) = ip.to_ipv4() {
        // IPv4-compatible addresses (::a.b.c.d) reach the IPv4 address.
        refused_v4(embedded)
    } else {
        None
    }
}

/// A refused address: the error the guard gives, findable in an error's source chain.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{host} resolves to {address}, a {range} address; following it is refused (use --allow-private to allow it)"
)]
pub struct RefusedAddress {
    /// The host name or IP literal.
    pub host: String,
    /// The refused address.
    pub address: IpAddr,
    /// The kind of range it is in.
    pub range: &'static str,
}

/// The origins and hosts the user named, which are always allowed.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    inner: Arc<GuardState>,
}

#[derive(Debug, Default)]
struct GuardState {
    allow_private: bool,
    /// `scheme://host:port` of every URL the user named.
    origins: RwLock<HashSet<String>>,
    /// Host names of those URLs (the resolver sees names, not ports).
    hosts: RwLock<HashSet<String>>,
    /// Hosts the user mapped to an address (`--resolve`): allowed on every port.
    pinned: RwLock<HashSet<String>>,
}

impl AddressGuard {
    /// A guard; with `allow_private` it allows everything.
    pub fn new(allow_private: bool) -> AddressGuard {
        AddressGuard {
            inner: Arc::new(GuardState {
                allow_private,
                ..GuardState::default()
            }),
        }
    }

    /// Allows `url`'s origin: the user named it.
    pub fn allow_user_named(&self, url: &Url) {
        if let Ok(mut origins) = self.inner.origins.write() {
            origins.insert(origin_key(url));
        }
        if let (Some(host), Ok(mut hosts)) = (url.host_str(), self.inner.hosts.write()) {
            hosts.insert(host.to_ascii_lowercase());
        }
    }

    /// Allows `host` on every port: the user mapped it to an address (`--resolve`).
    pub fn allow_pinned_host(&self, host: &str) {
        let host = host.to_ascii_lowercase();
        if let Ok(mut hosts) = self.inner.hosts.write() {
            hosts.insert(host.clone());
        }
        if let Ok(mut pinned) = self.inner.pinned.write() {
            pinned.insert(host);
        }
    }

    /// True when `url`'s origin was named by the user (or everything is allowed).
    pub fn is_user_named(&self, url: &Url) -> bool {
        self.inner.allow_private
            || self
                .inner
                .origins
                .read()
                .is_ok_and(|origins| origins.contains(&origin_key(url)))
            || url.host_str().is_some_and(|host| {
                self.inner
                    .pinned
                    .read()
                    .is_ok_and(|pinned| pinned.contains(&host.to_ascii_lowercase()))
            })
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.inner.allow_private
            || self
                .inner
                .hosts
                .read()
                .is_ok_and(|hosts| hosts.contains(&host.to_ascii_lowercase()))
    }

    /// Checks a URL before it is requested: an IP literal is checked here, and a host
    /// name the user named on another port is resolved and checked here (other names
    /// are checked by the resolver).
    pub async fn check_before_request(&self, url: &Url) -> Result<(), RefusedAddress> {
        if self.is_user_named(url) {
            return Ok(());
        }
        let Some(host) = url.host() else {
            return Ok(());
        };
        let ips: Vec<IpAddr> = match host {
            url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
            url::Host::Domain(name) => {
                if !self.host_allowed(name) {
                    // The resolver checks it.
                    return Ok(());
                }
                let port = url.port_or_known_default().unwrap_or(80);
                match tokio::net::lookup_host((name, port)).await {
                    Ok(addresses) => addresses.map(|address| address.ip()).collect(),
                    // Resolution failures surface when the request is made.
                    Err(_) => return Ok(()),
                }
            }
        };
        let host_text = url.host_str().unwrap_or_default().to_string();
        for ip in ips {
            if let Some(range) = refused_range(ip) {
                return Err(RefusedAddress {
                    host: host_text,
                    address: ip,
                    range,
                });
            }
        }
        Ok(())
    }

    /// The DNS resolver reqwest uses: it refuses names that resolve to a refused
    /// address, unless the user named the host.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }
}

/// `scheme://host:port`, the port made explicit.
fn origin_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A resolver that applies the guard after resolution, before any connection.
#[derive(Debug)]
pub struct GuardedResolver {
    guard: AddressGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !guard.host_allowed(&host) {
                for address in &resolved {
                    if let Some(range) = refused_range(address.ip()) {
                        let refused = RefusedAddress {
                            host: host.clone(),
                            address: address.ip(),
                            range,
                        };
                        return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
                    }
                }
            }
            let addresses: Addrs = Box::new(resolved.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<&'static str> {
        refused_range(text.parse().expect("an IP address"))
    }

    #[test]
    fn non_public_ranges_are_refused() {
        // Only parsed, never connected to.
        for address in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(refused(address).is_some(), "{address} should be refused");
        }
    }

    #[test]
    fn public_ranges_are_allowed() {
        for address in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
            assert_eq!(refused(address), None, "{address} should be allowed");
        }
    }

    #[tokio::test]
    async fn user_named_origins_are_allowed_and_others_refused() {
        let guard = AddressGuard::new(false);
        let named = Url::parse("http://127.0.0.1:8080/start").expect("url");
        guard.allow_user_named(&named);
        assert!(guard.check_before_request(&named).await.is_ok());
        let same_origin = Url::parse("http://127.0.0.1:8080/other").expect("url");
        assert!(guard.check_before_request(&same_origin).await.is_ok());
        for other in [
            "http://127.0.0.1:9/",
            "http://127.0.0.2:8080/",
            "http://[::1]:8080/",
        ] {
            let url = Url::parse(other).expect("url");
            assert!(guard.check_before_request(&url).await.is_err(), "{other}");
        }
        let everything = AddressGuard::new(true);
        let url = Url::parse("http://127.0.0.2:8080/").expect("url");
        assert!(everything.check_before_request(&url).await.is_ok());
    }
}
