//! The built-in affiliate network library (`patterns/networks.toml`): it loads, every
//! example of every entry classifies as the entry says, and a malformed file is a clear
//! error.

use promoscan::networks::{
    BUILTIN_FILE, Classification, GENERIC_SHORTENER, LinkKind, NetworkError, Networks,
};

fn builtin() -> Networks {
    Networks::builtin().unwrap_or_else(|error| panic!("built-in networks file: {error}"))
}

#[test]
fn builtin_library_has_the_expected_networks() {
    let networks = builtin();
    let ids: Vec<&str> = networks.networks().iter().map(|n| n.id.as_str()).collect();
    assert!(ids.len() >= 16, "only {} networks: {ids:?}", ids.len());
    for id in [
        "aliexpress-portals",
        "admitad",
        "amazon-associates",
        "ebay-partner-network",
        "cj",
        "awin",
        "rakuten-advertising",
        "shareasale",
        "impact",
        "partnerize",
        "skimlinks",
        "sovrn-commerce",
        "clickbank",
        "booking",
        GENERIC_SHORTENER,
    ] {
        assert!(networks.network(id).is_some(), "missing network '{id}'");
    }
}

#[test]
fn every_network_has_at_least_two_examples_each_way() {
    for network in builtin().networks() {
        assert!(
            network.examples.affiliate.len() >= 2 && network.examples.plain.len() >= 2,
            "{BUILTIN_FILE}:{}: network '{}' needs at least 2 affiliate and 2 plain examples",
            network.origin.line,
            network.id
        );
    }
}

#[test]
fn every_affiliate_example_has_its_kind_network_and_id() {
    let networks = builtin();
    let mut failures = Vec::new();
    let mut checked = 0;
    for network in networks.networks() {
        let expected_network = (network.id != GENERIC_SHORTENER).then(|| network.id.clone());
        for example in &network.examples.affiliate {
            checked += 1;
            let got = networks.classify_str(&example.url);
            if got.kind != example.kind
                || got.network != expected_network
                || got.affiliate_id != example.id
            {
                failures.push(format!(
                    "{BUILTIN_FILE}:{}: {}: expected {} of {:?} with id {:?}, got {got}",
                    example.line, example.url, example.kind, expected_network, example.id
                ));
            }
            let should_be_affiliate = matches!(example.kind, LinkKind::Click | LinkKind::DeepLink);
            if got.is_affiliate() != should_be_affiliate {
                failures.push(format!(
                    "{BUILTIN_FILE}:{}: {}: is_affiliate() is {}",
                    example.line,
                    example.url,
                    got.is_affiliate()
                ));
            }
        }
    }
    assert!(checked >= 32, "only {checked} affiliate examples");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_plain_example_is_plain() {
    let networks = builtin();
    let mut failures = Vec::new();
    for network in networks.networks() {
        for example in &network.examples.plain {
            let got = networks.classify_str(&example.url);
            if got.is_affiliate() || got != Classification::plain() {
                failures.push(format!(
                    "{BUILTIN_FILE}:{}: network '{}': {}: expected plain, got {got}",
                    example.line, network.id, example.url
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_library_harness_agrees() {
    let failures: Vec<String> = builtin()
        .check_examples()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn networks_file_on_disk_loads_like_the_embedded_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BUILTIN_FILE);
    let from_disk = Networks::load_file(&path).expect("loads from disk");
    assert_eq!(from_disk.networks().len(), builtin().networks().len());
    let missing = Networks::load_file(std::path::Path::new("no/such/networks.toml"))
        .expect_err("missing file");
    assert!(matches!(missing, NetworkError::Io { .. }));
    assert_eq!(
        missing.to_string(),
        "no/such/networks.toml: cannot read networks file"
    );
}

/// A second copy of one real entry with a typo in a key: the error names the file, the
/// network and the line of the typo.
#[test]
fn malformed_file_names_file_network_and_line() {
    let text = r#"schema = "promoscan-networks/v1"

[[network]]
id = "example-net"
name = "Example"
click_hosts = ["click.example.test"]
id_parm = "id"

[network.examples]
affiliate = [{ url = "https://click.example.test/?id=1", kind = "click", id = "1" }]
plain = ["https://example.test/"]
"#;
    let error = Networks::load_str("my-networks.toml", text).expect_err("typo must fail");
    let message = error.to_string();
    assert!(
        message.starts_with("my-networks.toml:7: network 'example-net': "),
        "{message}"
    );
    assert!(message.contains("id_parm"), "{message}");
    match error {
        NetworkError::Invalid {
            file,
            line,
            network,
            ..
        } => {
            assert_eq!(file, "my-networks.toml");
            assert_eq!(line, 7);
            assert_eq!(network.as_deref(), Some("example-net"));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn invalid_entry_names_file_network_and_line() {
    let text = r#"schema = "promoscan-networks/v1"

[[network]]
id = "example-net"
name = "Example"
click_hosts = ["click.example.test"]
id_path_pattern = '^/c/([0-9]+'

[network.examples]
affiliate = [{ url = "https://click.example.test/c/1", kind = "click", id = "1" }]
plain = ["https://example.test/"]
"#;
    let message = Networks::load_str("my-networks.toml", text)
        .expect_err("bad regex must fail")
        .to_string();
    assert!(
        message.starts_with("my-networks.toml:7: network 'example-net': invalid regex"),
        "{message}"
    );
}
