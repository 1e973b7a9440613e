//! The network-free building blocks of `audit`'s crawler (DESIGN §6): URL normalisation
//! ([`normalize`]), robots.txt ([`robots`]), sitemaps ([`sitemap`]), what the audit may
//! visit ([`scope`]), the queue of pages to visit ([`frontier`]) and reading a previous
//! run's JSONL output to resume it ([`resume`]).
//!
//! Nothing here fetches anything, sleeps or spawns: each piece takes bytes or URLs and
//! answers. Fetching, politeness and the crawl loop that ties these together live with
//! the HTTP client.

pub mod frontier;
pub mod normalize;
pub mod resume;
pub mod robots;
pub mod scope;
pub mod sitemap;
