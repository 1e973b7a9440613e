//! Detectors: functions from a [`crate::page::Page`] (and the rule set) to findings.
//! One module per detector; they share the page model and never re-parse.

pub mod claims;
