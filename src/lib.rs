//! promoscan: a compliance scanner for affiliate promo pages and links.
//!
//! Data flows one way: [`input`] (files, folders, stdin, Markdown) → [`page`] (the page
//! model, built once) → [`detect`] (one module per detector, driven by the [`library`]:
//! [`rules`], [`networks`], [`signatures`], [`disclosures`]) → [`finding`]s (filtered by [`suppress`] and [`config`]) → [`report`]ers
//! (JSON, JSONL, SARIF, text). [`scan`] ties the stages together; [`harness`] runs every
//! rule's examples through the same engine.

pub mod audit;
pub mod config;
pub mod crawl;
pub mod detect;
pub mod disclosures;
pub mod fetch;
pub mod finding;
pub mod follow;
pub mod harness;
pub mod input;
pub mod interrupt;
pub mod library;
pub mod networks;
pub mod page;
pub mod position;
pub mod report;
pub mod rules;
pub mod run;
pub mod scan;
pub mod signatures;
pub mod suppress;

/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_support;
