//! The pattern library as one value: rules, affiliate networks, script signatures and
//! disclosure phrases, loaded once (embedded defaults plus `--rules` folders) and shared
//! by every scan.

use std::path::PathBuf;

use crate::disclosures::{DisclosureError, Disclosures};
use crate::networks::{NetworkError, Networks};
use crate::rules::{RuleError, RuleSet};
use crate::signatures::{SignatureError, Signatures};

/// Everything detectors know, as data.
#[derive(Debug, Clone)]
pub struct Library {
    /// The rules (claims, detectors, scan errors).
    pub rules: RuleSet,
    /// Affiliate networks and programs.
    pub networks: Networks,
    /// JavaScript signatures.
    pub signatures: Signatures,
    /// Affiliate disclosure phrases.
    pub disclosures: Disclosures,
}

/// A part of the library could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// A rule file.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The networks file.
    #[error(transparent)]
    Networks(#[from] NetworkError),
    /// The script signatures file.
    #[error(transparent)]
    Signatures(#[from] SignatureError),
    /// The disclosure phrases file.
    #[error(transparent)]
    Disclosures(#[from] DisclosureError),
}

impl Library {
    /// The built-in library plus rule files from `extra_rule_dirs`.
    pub fn load(extra_rule_dirs: &[PathBuf]) -> Result<Library, LibraryError> {
        Library::with_rules(RuleSet::load(extra_rule_dirs)?)
    }

    /// The built-in library plus everything in `extra_dirs`: rule files, and network
    /// files (`schema = "promoscan-networks/v1"`), whose networks are added to the
    /// built-in ones.
    pub fn with_rules_and_dirs(
        rules: RuleSet,
        extra_dirs: &[PathBuf],
    ) -> Result<Library, LibraryError> {
        let mut library = Library::with_rules(rules)?;
        for dir in extra_dirs {
            for path in crate::rules::library_files(dir, crate::networks::NETWORKS_SCHEMA)? {
                library.networks.extend(Networks::load_file(&path)?)?;
            }
        }
        Ok(library)
    }

    /// The built-in networks, signatures and disclosures with the given rules.
    pub fn with_rules(rules: RuleSet) -> Result<Library, LibraryError> {
        Ok(Library {
            rules,
            networks: Networks::builtin()?,
            signatures: Signatures::builtin()?,
            disclosures: Disclosures::builtin()?,
        })
    }
}
