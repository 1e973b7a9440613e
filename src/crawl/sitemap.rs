//! Sitemaps: the page URLs (or further sitemaps) a site lists in a sitemap file.
//!
//! [`parse`] reads one fetched sitemap body: XML `<urlset>` and `<sitemapindex>` files
//! (sitemaps.org protocol), plain-text sitemaps (one URL per line), either of them
//! gzip-compressed (`.xml.gz`, detected by the gzip magic bytes, not by the name). It
//! does not fetch, follow an index's children, or judge whether a URL is in scope: the
//! crawler does, with [`super::scope`].
//!
//! Hostile input: the body is decompressed and parsed as a stream, never held whole
//! after decompression; reading stops with [`SitemapError::TooLarge`] past
//! [`Limits::max_bytes`] decompressed bytes (a gzip bomb costs at most that much reading
//! and none of it is kept), and entries past [`Limits::max_entries`] are ignored with a
//! note. Malformed XML is an error naming the sitemap and the byte offset. Sitemaps are
//! UTF-8 (the protocol requires it); bytes that are not are malformed XML.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use url::Url;

/// What the sitemap protocol allows in one file: 50,000 entries.
pub const MAX_ENTRIES: usize = 50_000;

/// What the sitemap protocol allows in one file: 50 MB uncompressed.
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// Elements nested deeper than this make the file malformed for our purposes.
const MAX_DEPTH: usize = 64;

/// How much of one sitemap is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries kept; the rest are ignored with a note.
    pub max_entries: usize,
    /// Decompressed bytes read; past this the sitemap is refused.
    pub max_bytes: u64,
}

impl Default for Limits {
    /// The sitemap protocol's limits: [`MAX_ENTRIES`] and [`MAX_BYTES`].
    fn default() -> Limits {
        Limits {
            max_entries: MAX_ENTRIES,
            max_bytes: MAX_BYTES,
        }
    }
}

/// What a sitemap file lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// Pages (`<urlset>`, or a plain-text sitemap).
    Urls(Vec<Url>),
    /// Further sitemaps (`<sitemapindex>`).
    Index(Vec<Url>),
}

/// A parsed sitemap and what the user should be told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The entries.
    pub sitemap: Sitemap,
    /// Entries skipped or ignored (invalid URLs, over the entry limit).
    pub notes: Vec<String>,
}

/// Why a sitemap could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    /// The body starts like gzip but does not decompress.
    #[error("sitemap {url}: not valid gzip: {message}")]
    Gzip {
        /// The sitemap.
        url: Url,
        /// What the decompressor said.
        message: String,
    },
    /// More than [`Limits::max_bytes`] bytes after decompression.
    #[error("sitemap {url}: larger than {limit} bytes uncompressed; refused")]
    TooLarge {
        /// The sitemap.
        url: Url,
        /// The limit.
        limit: u64,
    },
    /// Not well-formed XML.
    #[error("sitemap {url}: malformed XML at byte {position}: {message}")]
    Xml {
        /// The sitemap.
        url: Url,
        /// Byte offset in the (decompressed) body.
        position: u64,
        /// What is wrong.
        message: String,
    },
    /// Well-formed XML whose root is neither `<urlset>` nor `<sitemapindex>` (an HTML
    /// page or a feed served at the sitemap's address, say).
    #[error("sitemap {url}: root element is <{root}>, not <urlset> or <sitemapindex>")]
    NotASitemap {
        /// The sitemap.
        url: Url,
        /// The root element's local name.
        root: String,
    },
}

/// Parses one sitemap body fetched from `url` (which relative entries are resolved
/// against, and errors name). Entries that are not `http(s)` URLs are skipped.
pub fn parse(url: &Url, body: &[u8], limits: Limits) -> Result<Parsed, SitemapError> {
    let gzipped = body.starts_with(&[0x1f, 0x8b]);
    let source: Box<dyn BufRead + '_> = if gzipped {
        Box::new(BufReader::new(MultiGzDecoder::new(body)))
    } else {
        Box::new(body)
    };
    let mut reader = BufReader::new(Capped {
        inner: source,
        remaining: limits.max_bytes,
    });
    let first = first_significant_byte(&mut reader)
        .map_err(|error| read_error(url, gzipped, limits, &error))?;
    let mut collector = Collector::new(url, limits);
    let kind = if first == Some(b'<') {
        parse_xml(url, reader, &mut collector, gzipped, limits)?
    } else {
        parse_text(reader, &mut collector)
            .map_err(|error| read_error(url, gzipped, limits, &error))?;
        Kind::Urls
    };
    Ok(collector.finish(kind))
}

/// Which list a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `<urlset>` or text.
    Urls,
    /// `<sitemapindex>`.
    Index,
}

/// Turns a read error into the sitemap error it stands for.
fn read_error(url: &Url, gzipped: bool, limits: Limits, error: &io::Error) -> SitemapError {
    if error.get_ref().is_some_and(|inner| inner.is::<OverLimit>()) {
        SitemapError::TooLarge {
            url: url.clone(),
            limit: limits.max_bytes,
        }
    } else if gzipped {
        SitemapError::Gzip {
            url: url.clone(),
            message: error.to_string(),
        }
    } else {
        // Reading from memory fails only through the cap or the decompressor.
        SitemapError::Xml {
            url: url.clone(),
            position: 0,
            message: error.to_string(),
        }
    }
}

/// The marker error of [`Capped`].
#[derive(Debug, thiserror::Error)]
#[error("size limit exceeded")]
struct OverLimit;

/// A reader that fails (rather than stops) once more than `remaining` bytes were read,
/// so that a cut-off body is never mistaken for a complete one.
struct Capped<R> {
    /// The decompressed (or plain) body.
    inner: R,
    /// Bytes still allowed.
    remaining: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than allowed, to tell "exactly at the limit" from "over".
        let allowed = usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX);
        let wanted = buffer.len().min(allowed);
        let read = self.inner.read(&mut buffer[..wanted])?;
        let read_u64 = read as u64;
        if read_u64 > self.remaining {
            return Err(io::Error::other(OverLimit));
        }
        self.remaining -= read_u64;
        Ok(read)
    }
}

/// Skips a UTF-8 byte order mark and leading whitespace; returns the next byte.
fn first_significant_byte(reader: &mut impl BufRead) -> io::Result<Option<u8>> {
    let mut at_start = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        if at_start && buffer.starts_with(&[0xef, 0xbb, 0xbf]) {
            reader.consume(3);
            at_start = false;
            continue;
        }
        at_start = false;
        match buffer.iter().position(|byte| !byte.is_ascii_whitespace()) {
            Some(index) => {
                let byte = buffer[index];
                reader.consume(index);
                return Ok(Some(byte));
            }
            None => {
                let length = buffer.len();
                reader.consume(length);
            }
        }
    }
}

/// Collects entries up to the limit and counts what it skips.
struct Collector<'a> {
    /// The sitemap, to resolve against and name.
    base: &'a Url,
    /// Limits.
    limits: Limits,
    /// Entries kept.
    urls: Vec<Url>,
    /// Entries past the limit.
    ignored: usize,
    /// Entries that are not `http(s)` URLs, and the first of them.
    invalid: usize,
    /// The first invalid entry, shortened.
    first_invalid: Option<String>,
}

impl<'a> Collector<'a> {
    fn new(base: &'a Url, limits: Limits) -> Collector<'a> {
        Collector {
            base,
            limits,
            urls: Vec::new(),
            ignored: 0,
            invalid: 0,
            first_invalid: None,
        }
    }

    /// Adds one entry as written (trimmed here).
    fn add(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if self.urls.len() >= self.limits.max_entries {
            self.ignored += 1;
            return;
        }
        match self.base.join(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => self.urls.push(url),
            _ => {
                self.invalid += 1;
                if self.first_invalid.is_none() {
                    self.first_invalid = Some(text.chars().take(200).collect());
                }
            }
        }
    }

    fn finish(self, kind: Kind) -> Parsed {
        let mut notes = Vec::new();
        if let Some(first) = &self.first_invalid {
            notes.push(format!(
                "sitemap {}: {} entries skipped: not http(s) URLs (first: '{first}')",
                self.base, self.invalid
            ));
        }
        if self.ignored > 0 {
            notes.push(format!(
                "sitemap {}: more than {} entries; {} ignored",
                self.base, self.limits.max_entries, self.ignored
            ));
        }
        let sitemap = match kind {
            Kind::Urls => Sitemap::Urls(self.urls),
            Kind::Index => Sitemap::Index(self.urls),
        };
        Parsed { sitemap, notes }
    }
}

/// A plain-text sitemap: one URL per line; blank lines are skipped.
fn parse_text(mut reader: impl BufRead, collector: &mut Collector<'_>) -> io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        match std::str::from_utf8(&line) {
            Ok(text) => collector.add(text),
            Err(_) => collector.add(&String::from_utf8_lossy(&line)),
        }
    }
}

/// An XML sitemap or sitemap index. Entries are the `<loc>` children of `<url>` (or
/// `<sitemap>`) children of the root; namespaces prefixes are ignored, and extension
/// elements such as `<image:loc>` (deeper in the tree) are not entries.
fn parse_xml(
    url: &Url,
    reader: impl BufRead,
    collector: &mut Collector<'_>,
    gzipped: bool,
    limits: Limits,
) -> Result<Kind, SitemapError> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buffer = Vec::new();
    // Local names of the open elements, root first.
    let mut open: Vec<String> = Vec::new();
    let mut kind = None;
    // Text of the `<loc>` being read, when one is open at the entry position.
    let mut loc: Option<String> = None;
    let malformed = |xml: &quick_xml::Reader<_>, message: String| SitemapError::Xml {
        url: url.clone(),
        position: xml.error_position(),
        message,
    };
    loop {
        let event = match xml.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(quick_xml::Error::Io(error)) => {
                return Err(read_error(url, gzipped, limits, &error));
            }
            Err(error) => return Err(malformed(&xml, error.to_string())),
        };
        match event {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_string();
                if open.is_empty() {
                    kind = Some(root_kind(url, &name)?);
                }
                if open.len() >= MAX_DEPTH {
                    return Err(malformed(
                        &xml,
                        format!("elements nested more than {MAX_DEPTH} deep"),
                    ));
                }
                open.push(name);
                if is_entry_loc(&open) {
                    loc = Some(String::new());
                }
            }
            Event::Empty(start) => {
                if open.is_empty() {
                    // A self-closed root: an empty list, if it is a sitemap at all.
                    kind = Some(root_kind(url, start.local_name().as_ref())?);
                }
            }
            Event::End(_) => {
                if is_entry_loc(&open)
                    && let Some(text) = loc.take()
                {
                    collector.add(&text);
                }
                open.pop();
            }
            Event::Text(text) => {
                if let Some(loc) = loc.as_mut() {
                    loc.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(loc) = loc.as_mut() {
                    loc.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(loc) = loc.as_mut() {
                    match reference.resolve_char_ref() {
                        Ok(Some(character)) => loc.push(character),
                        Ok(None) => match resolve_predefined_entity(&reference) {
                            Some(text) => loc.push_str(text),
                            None => {
                                return Err(malformed(
                                    &xml,
                                    format!("unknown entity &{};", &*reference),
                                ));
                            }
                        },
                        Err(error) => return Err(malformed(&xml, error.to_string())),
                    }
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        buffer.clear();
    }
    if !open.is_empty() {
        return Err(SitemapError::Xml {
            url: url.clone(),
            position: xml.buffer_position(),
            message: "unexpected end of file: elements left open".to_string(),
        });
    }
    kind.ok_or_else(|| SitemapError::Xml {
        url: url.clone(),
        position: xml.buffer_position(),
        message: "no root element".to_string(),
    })
}

/// What the root element says the file is.
fn root_kind(url: &Url, name: &str) -> Result<Kind, SitemapError> {
    match name {
        "urlset" => Ok(Kind::Urls),
        "sitemapindex" => Ok(Kind::Index),
        other => Err(SitemapError::NotASitemap {
            url: url.clone(),
            root: other.chars().take(100).collect(),
        }),
    }
}

/// True when the open elements are root / `url` or `sitemap` / `loc`.
fn is_entry_loc(open: &[String]) -> bool {
    matches!(open, [_, entry, loc] if (entry == "url" || entry == "sitemap") && loc == "loc")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn sitemap_url() -> Url {
        Url::parse("https://shop.example/sitemap.xml").expect("valid")
    }

    fn parse_str(body: &str) -> Result<Parsed, SitemapError> {
        parse(&sitemap_url(), body.as_bytes(), Limits::default())
    }

    fn urls(parsed: &Parsed) -> Vec<&str> {
        match &parsed.sitemap {
            Sitemap::Urls(urls) | Sitemap::Index(urls) => urls.iter().map(Url::as_str).collect(),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).expect("in memory");
        encoder.finish().expect("in memory")
    }

    const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://shop.example/deals?a=1&amp;b=2</loc>
    <lastmod>2024-01-01</lastmod>
    <image:image><image:loc>https://cdn.example/photo.jpg</image:loc></image:image>
  </url>
  <url><loc>
      https://shop.example/caf&#xE9;
  </loc></url>
  <url><loc><![CDATA[https://shop.example/cdata]]></loc></url>
</urlset>
"#;

    #[test]
    fn urlset_lists_page_locs_only() {
        let parsed = parse_str(URLSET).expect("valid sitemap");
        assert!(matches!(parsed.sitemap, Sitemap::Urls(_)));
        assert_eq!(
            urls(&parsed),
            [
                "https://shop.example/deals?a=1&b=2",
                "https://shop.example/caf%C3%A9",
                "https://shop.example/cdata"
            ]
        );
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
    }

    #[test]
    fn sitemap_index_lists_sitemaps() {
        let parsed = parse_str(
            r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://shop.example/a.xml</loc></sitemap>
<sitemap><loc>https://shop.example/b.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>
</sitemapindex>"#,
        )
        .expect("valid index");
        assert!(matches!(parsed.sitemap, Sitemap::Index(_)));
        assert_eq!(
            urls(&parsed),
            [
                "https://shop.example/a.xml",
                "https://shop.example/b.xml.gz"
            ]
        );
    }

    #[test]
    fn prefixed_namespace_and_bom_are_accepted() {
        let body = "\u{feff}\n  <sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sm:url><sm:loc>https://shop.example/x</sm:loc></sm:url></sm:urlset>";
        let parsed = parse_str(body).expect("valid sitemap");
        assert_eq!(urls(&parsed), ["https://shop.example/x"]);
    }

    #[test]
    fn empty_urlset_is_an_empty_list() {
        let parsed = parse_str("<urlset/>").expect("valid");
        assert_eq!(parsed.sitemap, Sitemap::Urls(Vec::new()));
        let parsed = parse_str("<urlset></urlset>").expect("valid");
        assert_eq!(parsed.sitemap, Sitemap::Urls(Vec::new()));
    }

    #[test]
    fn relative_and_non_http_entries() {
        let parsed = parse_str(
            "<urlset><url><loc>/relative</loc></url><url><loc>mailto:x@shop.example</loc></url><url><loc>javascript:alert(1)</loc></url></urlset>",
        )
        .expect("valid");
        assert_eq!(urls(&parsed), ["https://shop.example/relative"]);
        assert_eq!(parsed.notes.len(), 1);
        assert!(
            parsed.notes[0].contains("2 entries skipped") && parsed.notes[0].contains("mailto:"),
            "{:?}",
            parsed.notes
        );
    }

    #[test]
    fn plain_text_sitemap() {
        let parsed =
            parse_str("https://shop.example/a\r\n\n  https://shop.example/b  \nnot a url at all\n")
                .expect("text sitemap");
        assert!(matches!(parsed.sitemap, Sitemap::Urls(_)));
        // "not a url at all" resolves as a relative reference: sitemap protocol text files
        // hold absolute URLs, but lenient resolution keeps what a server would serve.
        assert_eq!(
            urls(&parsed),
            [
                "https://shop.example/a",
                "https://shop.example/b",
                "https://shop.example/not%20a%20url%20at%20all"
            ]
        );
    }

    #[test]
    fn empty_body_is_an_empty_text_sitemap() {
        let parsed = parse_str("  \n").expect("empty");
        assert_eq!(parsed.sitemap, Sitemap::Urls(Vec::new()));
    }

    #[test]
    fn gzip_compressed_xml_and_text() {
        let parsed = parse(&sitemap_url(), &gzip(URLSET.as_bytes()), Limits::default())
            .expect("gzip sitemap");
        assert_eq!(urls(&parsed).len(), 3);
        let parsed = parse(
            &sitemap_url(),
            &gzip(b"https://shop.example/a\n"),
            Limits::default(),
        )
        .expect("gzip text sitemap");
        assert_eq!(urls(&parsed), ["https://shop.example/a"]);
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_the_sitemap() {
        let mut body = gzip(URLSET.as_bytes());
        let middle = body.len() / 2;
        body.truncate(middle);
        let error = parse(&sitemap_url(), &body, Limits::default()).expect_err("truncated gzip");
        assert!(matches!(error, SitemapError::Gzip { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains("https://shop.example/sitemap.xml")
        );
    }

    #[test]
    fn gzip_bomb_is_refused() {
        // 100 MB of zeros compress to about 100 KB; written in chunks so the test itself
        // never holds them.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..100 {
            encoder.write_all(&chunk).expect("in memory");
        }
        let bomb = encoder.finish().expect("in memory");
        assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
        let error = parse(&sitemap_url(), &bomb, Limits::default()).expect_err("bomb");
        assert!(
            matches!(
                error,
                SitemapError::TooLarge {
                    limit: MAX_BYTES,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn xml_bomb_of_valid_markup_is_refused_too() {
        let mut body = String::from("<urlset>");
        for index in 0..2_000 {
            body.push_str(&format!(
                "<url><loc>https://shop.example/{index}</loc></url>"
            ));
        }
        body.push_str("</urlset>");
        let limits = Limits {
            max_entries: MAX_ENTRIES,
            max_bytes: 10_000,
        };
        let error = parse(&sitemap_url(), &gzip(body.as_bytes()), limits).expect_err("too big");
        assert!(matches!(error, SitemapError::TooLarge { .. }), "{error}");
        let error = parse(&sitemap_url(), body.as_bytes(), limits).expect_err("too big");
        assert!(matches!(error, SitemapError::TooLarge { .. }), "{error}");
    }

    #[test]
    fn body_exactly_at_the_limit_is_read() {
        let body = "<urlset><url><loc>https://shop.example/a</loc></url></urlset>";
        let limits = Limits {
            max_entries: MAX_ENTRIES,
            max_bytes: body.len() as u64,
        };
        let parsed = parse(&sitemap_url(), body.as_bytes(), limits).expect("at the limit");
        assert_eq!(urls(&parsed), ["https://shop.example/a"]);
    }

    #[test]
    fn entries_past_the_limit_are_ignored_with_a_note() {
        let mut body = String::from("<urlset>");
        for index in 0..5 {
            body.push_str(&format!(
                "<url><loc>https://shop.example/{index}</loc></url>"
            ));
        }
        body.push_str("</urlset>");
        let limits = Limits {
            max_entries: 3,
            max_bytes: MAX_BYTES,
        };
        let parsed = parse(&sitemap_url(), body.as_bytes(), limits).expect("valid");
        assert_eq!(urls(&parsed).len(), 3);
        assert!(parsed.notes[0].contains("2 ignored"), "{:?}", parsed.notes);
    }

    #[test]
    fn malformed_xml_names_the_sitemap_and_the_position() {
        let body = "<urlset>\n<url><loc>https://shop.example/a</loc></uRL>\n</urlset>";
        let error = parse_str(body).expect_err("mismatched end tag");
        let SitemapError::Xml { url, position, .. } = &error else {
            panic!("expected an XML error, got {error}");
        };
        assert_eq!(url, &sitemap_url());
        assert_eq!(*position, body.find("</uRL>").expect("present") as u64);
        assert!(error.to_string().contains("sitemap.xml"), "{error}");
    }

    #[test]
    fn truncated_xml_is_malformed() {
        let error = parse_str("<urlset><url><loc>https://shop.example/a</loc>").expect_err("cut");
        assert!(matches!(error, SitemapError::Xml { .. }), "{error}");
    }

    #[test]
    fn unknown_entity_is_malformed() {
        let error = parse_str("<urlset><url><loc>https://shop.example/&nbsp;</loc></url></urlset>")
            .expect_err("undeclared entity");
        assert!(error.to_string().contains("nbsp"), "{error}");
    }

    #[test]
    fn html_page_is_not_a_sitemap() {
        let error =
            parse_str("<!DOCTYPE html>\n<html><body>Not found</body></html>").expect_err("HTML");
        assert!(
            matches!(&error, SitemapError::NotASitemap { root, .. } if root == "html"),
            "{error}"
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let body = format!("<urlset>{}", "<x>".repeat(10_000));
        let error = parse_str(&body).expect_err("deep");
        assert!(error.to_string().contains("nested"), "{error}");
    }
}
