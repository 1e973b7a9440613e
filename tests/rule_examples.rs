//! `cargo test` runs every example of every built-in rule through the scanner's engine:
//! the same harness as `promoscan rules test`.

use promoscan::harness;
use promoscan::library::Library;
use promoscan::rules::{Example, RuleSet};

#[test]
fn every_builtin_rule_example_behaves() {
    let library = Library::load(&[]).expect("built-in library loads");
    let outcomes = harness::run(&library);
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|outcome| outcome.fails())
        .map(|outcome| {
            format!(
                "{} {} {}",
                outcome.rule,
                outcome.kind.name(),
                outcome.example
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing examples:\n{}",
        failures.join("\n")
    );
    assert!(outcomes.len() > 200);
}

#[test]
fn claim_rules_meet_the_library_floor() {
    let rules = RuleSet::load(&[]).expect("built-in library loads");
    let claims: Vec<_> = rules
        .rules()
        .iter()
        .filter(|rule| rule.category.starts_with("claim-") && rule.pattern.is_some())
        .collect();
    assert!(claims.len() >= 40, "{} claim rules", claims.len());
    for category in [
        "claim-shipping",
        "claim-price",
        "claim-refund",
        "claim-urgency",
        "claim-affiliation",
        "claim-coupon",
    ] {
        assert!(
            claims.iter().any(|rule| rule.category == category),
            "no {category} rule"
        );
    }
    for rule in claims {
        let texts = |examples: &[Example]| {
            examples
                .iter()
                .filter(|e| matches!(e, Example::Text(_)))
                .count()
        };
        assert!(
            texts(&rule.examples.must_match) >= 3,
            "{} has fewer than 3 match examples",
            rule.id
        );
        assert!(
            texts(&rule.examples.ok) >= 3,
            "{} has fewer than 3 ok examples",
            rule.id
        );
        assert!(
            !rule.help.is_empty() && !rule.message.is_empty(),
            "{}",
            rule.id
        );
    }
}
