//! The `sarif` format: a [`Report`] as a SARIF 2.1.0 log, for code-scanning dashboards
//! (GitHub, GitLab, Azure DevOps) and editor extensions.
//!
//! The log has one run. `tool.driver.rules` lists every rule of the library the run used
//! (so a dashboard can explain any rule, not just those that fired), plus a descriptor
//! for any finding whose rule is not in the library, so that every result's `ruleIndex`
//! points at its rule. Findings become results; targets that could not be scanned become
//! tool execution notifications. Built with the `serde-sarif` types; this module does
//! not read SARIF.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location as SarifLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use crate::finding::{Finding, Report, Severity, TargetKind, TargetStatus};
use crate::rules::{Rule, RuleSet};

/// Where the SARIF 2.1.0 JSON schema is published (written as `$schema`).
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

/// The tool's home page (`tool.driver.informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/promoscan/promoscan";

/// Writes `report` as a pretty-printed SARIF 2.1.0 log followed by a newline.
pub fn write_report(report: &Report, rules: &RuleSet, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_sarif(report, rules))?;
    out.write_all(b"\n")
}

/// Builds the SARIF log of `report`, describing every rule of `rules`.
pub fn to_sarif(report: &Report, rules: &RuleSet) -> Sarif {
    let mut descriptors: Vec<ReportingDescriptor> =
        rules.rules().iter().map(rule_descriptor).collect();
    let mut index_of_rule: HashMap<&str, usize> = rules
        .rules()
        .iter()
        .enumerate()
        .map(|(index, rule)| (rule.id.as_str(), index))
        .collect();
    for finding in &report.findings {
        if !index_of_rule.contains_key(finding.rule.as_str()) {
            index_of_rule.insert(&finding.rule, descriptors.len());
            descriptors.push(descriptor_from_finding(finding));
        }
    }

    let kind_of_target: HashMap<&str, TargetKind> = report
        .targets
        .iter()
        .map(|target| (target.target.as_str(), target.kind))
        .collect();
    let artifact_location = |target: &str| {
        ArtifactLocation::builder()
            .uri(artifact_uri(target, kind_of_target.get(target).copied()))
            .build()
    };

    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|finding| {
            let rule_index = index_of_rule.get(finding.rule.as_str()).copied();
            sarif_result(finding, rule_index, artifact_location(&finding.target))
        })
        .collect();

    let failures: Vec<Notification> = report
        .targets
        .iter()
        .filter(|target| target.status == TargetStatus::Failed)
        .map(|target| {
            let text = match &target.error {
                Some(error) => format!("cannot scan {}: {error}", target.target),
                None => format!("cannot scan {}", target.target),
            };
            let location = SarifLocation::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(artifact_location(&target.target))
                        .build(),
                )
                .build();
            Notification::builder()
                .level(Value::from(Severity::Error.name()))
                .message(Message::builder().text(text).build())
                .locations(vec![location])
                .build()
        })
        .collect();
    let mut invocation = Invocation::builder().execution_successful(true).build();
    if !failures.is_empty() {
        invocation.tool_execution_notifications = Some(failures);
    }

    let driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .information_uri(INFORMATION_URI)
        .rules(descriptors)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .column_kind(Value::from("unicodeCodePoints"))
        .results(results)
        .build();
    Sarif::builder()
        .schema(SARIF_SCHEMA_URI)
        .version(Value::from(SARIF_VERSION))
        .runs(vec![run])
        .build()
}

/// A plain-text SARIF message string.
fn plain_text(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

/// Rule properties: category, confidence (also as GitHub's `precision`) and the
/// category as a tag.
fn rule_properties(category: &str, confidence: &str) -> PropertyBag {
    let mut properties = BTreeMap::new();
    properties.insert("category".to_string(), Value::from(category));
    properties.insert("confidence".to_string(), Value::from(confidence));
    properties.insert("precision".to_string(), Value::from(confidence));
    PropertyBag::builder()
        .tags(vec![category.to_string()])
        .additional_properties(properties)
        .build()
}

/// The default configuration of a rule of `severity`.
fn default_configuration(severity: Severity) -> ReportingConfiguration {
    ReportingConfiguration::builder()
        .level(Value::from(severity.name()))
        .build()
}

/// The descriptor of one library rule.
fn rule_descriptor(rule: &Rule) -> ReportingDescriptor {
    let mut descriptor = ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(rule.id.clone())
        .short_description(plain_text(&rule.message))
        .full_description(plain_text(
            rule.description.as_deref().unwrap_or(&rule.message),
        ))
        .default_configuration(default_configuration(rule.severity))
        .properties(rule_properties(&rule.category, rule.confidence.name()))
        .build();
    if !rule.help.trim().is_empty() {
        descriptor.help = Some(plain_text(&rule.help));
    }
    descriptor.help_uri = rule
        .references
        .iter()
        .find(|reference| is_web_address(reference))
        .cloned();
    descriptor
}

/// A descriptor made from a finding whose rule is not in the library, so that its
/// result still has a `ruleIndex`.
fn descriptor_from_finding(finding: &Finding) -> ReportingDescriptor {
    let mut descriptor = ReportingDescriptor::builder()
        .id(finding.rule.clone())
        .name(finding.rule.clone())
        .short_description(plain_text(&finding.message))
        .default_configuration(default_configuration(finding.severity))
        .properties(rule_properties(
            &finding.category,
            finding.confidence.name(),
        ))
        .build();
    if !finding.help.trim().is_empty() {
        descriptor.help = Some(plain_text(&finding.help));
    }
    descriptor
}

/// True for an absolute `http(s)` URL (a reference that can be a `helpUri`).
fn is_web_address(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// The SARIF level of a severity.
fn result_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

/// One finding as a SARIF result.
fn sarif_result(
    finding: &Finding,
    rule_index: Option<usize>,
    artifact_location: ArtifactLocation,
) -> SarifResult {
    let mut physical_location = PhysicalLocation::builder()
        .artifact_location(artifact_location)
        .build();
    if let Some(location) = finding.location.filter(|location| location.line >= 1) {
        let mut region = Region::builder()
            .start_line(i64::from(location.line))
            .build();
        if location.column >= 1 {
            region.start_column = Some(i64::from(location.column));
        }
        physical_location.region = Some(region);
    }

    let mut properties = BTreeMap::new();
    properties.insert(
        "category".to_string(),
        Value::from(finding.category.as_str()),
    );
    properties.insert(
        "confidence".to_string(),
        Value::from(finding.confidence.name()),
    );
    let optional_texts = [
        ("evidence", &finding.evidence),
        ("url", &finding.url),
        ("network", &finding.network),
    ];
    for (name, value) in optional_texts {
        if let Some(value) = value {
            properties.insert(name.to_string(), Value::from(value.as_str()));
        }
    }
    if let Some(chain) = &finding.chain
        && let Ok(chain) = serde_json::to_value(chain)
    {
        properties.insert("chain".to_string(), chain);
    }

    let mut result = SarifResult::builder()
        .rule_id(finding.rule.clone())
        .level(result_level(finding.severity))
        .message(Message::builder().text(finding.message.clone()).build())
        .locations(vec![
            SarifLocation::builder()
                .physical_location(physical_location)
                .build(),
        ])
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    result.rule_index = rule_index.and_then(|index| i64::try_from(index).ok());
    result
}

/// The `artifactLocation.uri` of a target: a URL as it is (normalised), a relative file
/// path as a relative URI with forward slashes, an absolute path as a `file:` URI.
/// Standard input stays `-`.
fn artifact_uri(target: &str, kind: Option<TargetKind>) -> String {
    let looks_like_url = target.starts_with("http://") || target.starts_with("https://");
    let kind = kind.unwrap_or(if looks_like_url {
        TargetKind::Url
    } else if target == "-" {
        TargetKind::Stdin
    } else {
        TargetKind::File
    });
    match kind {
        TargetKind::Url => url::Url::parse(target)
            .map(String::from)
            .unwrap_or_else(|_| percent_encoded(target, true)),
        TargetKind::Stdin => "-".to_string(),
        TargetKind::File => file_uri(target),
    }
}

/// A file path as a URI reference: `file:` for absolute paths, relative otherwise.
fn file_uri(path: &str) -> String {
    if Path::new(path).is_absolute()
        && let Ok(url) = url::Url::from_file_path(path)
    {
        return url.into();
    }
    let forward = if std::path::MAIN_SEPARATOR == '/' {
        path.to_string()
    } else {
        path.replace(std::path::MAIN_SEPARATOR, "/")
    };
    let mut relative = forward.as_str();
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest.trim_start_matches('/');
    }
    percent_encoded(relative, false)
}

/// `text` with every byte outside the URI characters percent-encoded. `keep_colon` keeps
/// `:` (URLs); relative paths encode it so that `a:b.html` is not read as a scheme.
fn percent_encoded(text: &str, keep_colon: bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        let allowed = byte.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&byte)
            || (keep_colon && b":?#[]%".contains(&byte));
        if allowed {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn sarif_json(report: &Report, rules: &RuleSet) -> Value {
        let mut bytes = Vec::new();
        write_report(report, rules, &mut bytes).expect("writing to memory cannot fail");
        assert!(bytes.ends_with(b"}\n"));
        serde_json::from_slice(&bytes).expect("SARIF output is JSON")
    }

    /// The official SARIF 2.1.0 schema (tests/data) has a stray `]` in the pattern of
    /// `run.language` / `toolComponent.language`, a known erratum that no ECMA-262
    /// Unicode-mode regex accepts, so draft-07 meta-validation refuses the schema.
    const BROKEN_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

    /// The same pattern with the stray `]` escaped: what it means in non-Unicode mode.
    const ESCAPED_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$";

    /// Replaces every broken language pattern in the in-memory copy of the schema (the file
    /// in tests/data stays verbatim); returns how many were replaced.
    fn escape_broken_patterns(schema: &mut Value) -> usize {
        match schema {
            Value::Object(object) => {
                let mut replaced = 0;
                for (key, value) in object.iter_mut() {
                    if key == "pattern" && value.as_str() == Some(BROKEN_LANGUAGE_PATTERN) {
                        *value = Value::from(ESCAPED_LANGUAGE_PATTERN);
                        replaced += 1;
                    } else {
                        replaced += escape_broken_patterns(value);
                    }
                }
                replaced
            }
            Value::Array(items) => items.iter_mut().map(escape_broken_patterns).sum(),
            _ => 0,
        }
    }

    /// A validator for the official SARIF 2.1.0 schema, formats included. It needs no
    /// network access: the schema refers only to itself and to the draft-07
    /// meta-schema, which the validator ships.
    fn sarif_validator() -> jsonschema::Validator {
        let schema_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        );
        let schema_text =
            std::fs::read_to_string(schema_path).expect("the SARIF schema is in tests/data");
        let mut schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
        assert!(
            escape_broken_patterns(&mut schema) > 0,
            "the erratum is still there"
        );
        jsonschema::options()
            .offline()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles offline")
    }

    fn assert_valid_sarif(log: &Value) {
        let errors: Vec<String> = sarif_validator()
            .iter_errors(log)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "invalid SARIF:\n{}\n{log:#}",
            errors.join("\n")
        );
    }

    #[test]
    fn sample_report_is_valid_sarif_2_1_0() {
        let log = sarif_json(&sample::report(), &sample::rules());
        assert_valid_sarif(&log);
        assert_eq!(log["$schema"], SARIF_SCHEMA_URI);
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["runs"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn an_empty_run_is_valid_sarif_with_an_empty_result_list() {
        let log = sarif_json(&Report::new(Vec::new(), Vec::new()), &sample::rules());
        assert_valid_sarif(&log);
        assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
        assert_eq!(
            log["runs"][0]["invocations"],
            serde_json::json!([{ "executionSuccessful": true }])
        );
    }

    #[test]
    fn the_validator_rejects_invalid_sarif() {
        let mut log = sarif_json(&sample::report(), &sample::rules());
        log["runs"][0]["results"][0]["level"] = "fatal".into();
        let validator = sarif_validator();
        assert!(!validator.is_valid(&log), "unknown level");
        let mut log = sarif_json(&sample::report(), &sample::rules());
        log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "not a uri".into();
        assert!(!validator.is_valid(&log), "formats are checked");
    }

    #[test]
    fn driver_names_the_tool() {
        let log = sarif_json(&sample::report(), &sample::rules());
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "promoscan");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(driver["informationUri"], INFORMATION_URI);
    }

    #[test]
    fn every_library_rule_is_described_even_without_results() {
        let rules = sample::rules();
        let log = sarif_json(&sample::report(), &rules);
        let descriptors = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        for (index, rule) in rules.rules().iter().enumerate() {
            assert_eq!(descriptors[index]["id"], rule.id.as_str());
            assert_eq!(descriptors[index]["name"], rule.id.as_str());
        }
        let urgency = &descriptors[0];
        assert_eq!(
            *urgency,
            serde_json::json!({
                "id": "claim-urgency/only-n-left",
                "name": "claim-urgency/only-n-left",
                "shortDescription": { "text": "Fake scarcity claim '{match}'" },
                "fullDescription": {
                    "text": "Claims of limited stock push readers to buy before they compare."
                },
                "help": { "text": "Show real stock levels or remove the claim." },
                "helpUri": "https://www.ftc.gov/business-guidance",
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "tags": ["claim-urgency"],
                    "category": "claim-urgency",
                    "confidence": "high",
                    "precision": "high"
                }
            })
        );
        let price = &descriptors[1];
        assert_eq!(
            price["fullDescription"]["text"],
            "Superlative price claim '{match}'"
        );
        assert!(price.get("helpUri").is_none(), "no references, no helpUri");
        let disclosure = &descriptors[2];
        assert!(disclosure.get("help").is_none(), "empty help is left out");
        assert_eq!(disclosure["defaultConfiguration"]["level"], "note");
    }

    #[test]
    fn every_result_rule_index_points_at_its_rule() {
        let rules = sample::rules();
        let log = sarif_json(&sample::report(), &rules);
        let descriptors = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        let results = log["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 3);
        for result in results {
            let index = result["ruleIndex"]
                .as_u64()
                .expect("every result has a ruleIndex");
            let index = usize::try_from(index).expect("small");
            assert_eq!(descriptors[index]["id"], result["ruleId"], "{result}");
        }
    }

    #[test]
    fn a_finding_of_an_unknown_rule_gets_a_descriptor_after_the_library() {
        let rules = sample::rules();
        let log = sarif_json(&sample::report(), &rules);
        let descriptors = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        assert_eq!(descriptors.len(), rules.rules().len() + 1);
        let extra = &descriptors[rules.rules().len()];
        assert_eq!(extra["id"], "scan-error/unreachable");
        assert_eq!(extra["defaultConfiguration"]["level"], "error");
        assert_eq!(extra["properties"]["category"], "scan-error");
    }

    #[test]
    fn results_carry_level_message_location_and_properties() {
        let log = sarif_json(&sample::report(), &sample::rules());
        let results = &log["runs"][0]["results"];
        assert_eq!(
            results[0],
            serde_json::json!({
                "ruleId": "claim-urgency/only-n-left",
                "ruleIndex": 0,
                "level": "error",
                "message": { "text": "Fake scarcity claim 'Only 2 left'" },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": "fixtures/articles/x.html" },
                        "region": { "startLine": 42, "startColumn": 3 }
                    }
                }],
                "properties": {
                    "category": "claim-urgency",
                    "confidence": "high",
                    "evidence": "Only 2 left in stock, order now!",
                    "url": "https://s.click.aliexpress.com/e/_dXyZ",
                    "network": "aliexpress"
                }
            })
        );
        assert_eq!(results[1]["level"], "warning");
        let unlocated = &results[2]["locations"][0]["physicalLocation"];
        assert_eq!(
            *unlocated,
            serde_json::json!({
                "artifactLocation": { "uri": "https://shop.example/deals?id=1" }
            })
        );
    }

    #[test]
    fn failed_targets_are_tool_execution_notifications() {
        let log = sarif_json(&sample::report(), &sample::rules());
        let invocations = log["runs"][0]["invocations"]
            .as_array()
            .expect("invocations");
        assert_eq!(invocations.len(), 1);
        assert_eq!(invocations[0]["executionSuccessful"], true);
        assert_eq!(
            invocations[0]["toolExecutionNotifications"],
            serde_json::json!([{
                "level": "error",
                "message": {
                    "text": "cannot scan https://shop.example/deals?id=1: connection refused"
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": "https://shop.example/deals?id=1" }
                    }
                }]
            }])
        );
    }

    #[test]
    fn columns_are_counted_in_characters() {
        let log = sarif_json(&sample::report(), &sample::rules());
        assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    }

    #[test]
    fn relative_paths_become_relative_uris() {
        assert_eq!(
            artifact_uri("content/post.md", Some(TargetKind::File)),
            "content/post.md"
        );
        assert_eq!(artifact_uri("./content/post.md", None), "content/post.md");
        assert_eq!(artifact_uri(".//a.html", None), "a.html");
        assert_eq!(
            artifact_uri("../site/a b#1.html", None),
            "../site/a%20b%231.html"
        );
        assert_eq!(
            artifact_uri("drafts/café:1.md", None),
            "drafts/caf%C3%A9%3A1.md"
        );
    }

    #[cfg(windows)]
    #[test]
    fn windows_paths_use_forward_slashes() {
        assert_eq!(artifact_uri(r"content\post.md", None), "content/post.md");
        assert_eq!(
            artifact_uri(r"C:\site\post.md", None),
            "file:///C:/site/post.md"
        );
    }

    #[cfg(unix)]
    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            artifact_uri("/srv/site/a b.html", None),
            "file:///srv/site/a%20b.html"
        );
    }

    #[test]
    fn urls_and_stdin_keep_their_names() {
        assert_eq!(
            artifact_uri("https://shop.example/a?b=1#c", Some(TargetKind::Url)),
            "https://shop.example/a?b=1#c"
        );
        assert_eq!(
            artifact_uri("https://shop.example", None),
            "https://shop.example/"
        );
        assert_eq!(artifact_uri("-", Some(TargetKind::Stdin)), "-");
        assert_eq!(artifact_uri("-", None), "-");
    }
}
