//! The page model: everything detectors need from one page, built once and shared.
//!
//! A [`Page`] holds the parsed document, its text blocks (visible text, title, meta
//! description, Open Graph text, image alt text) with source lines, the links a reader
//! can click, the resources the page loads by itself, and its HTML comments (for inline
//! suppressions). It does not judge anything: detectors do.

pub mod dom;
pub mod refresh;
pub mod text;
pub mod visibility;

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use url::Url;

pub use dom::{Document, Node, NodeId, NodeKind};
pub use text::{TextBlock, TextScope};

use text::{BlockCollector, TextBlockBuilder};

/// A link a reader can follow (`<a href>`, `<area href>`).
#[derive(Debug, Clone)]
pub struct Link {
    /// The element.
    pub node: NodeId,
    /// The `href` attribute as written (entities already decoded by the parser),
    /// trimmed.
    pub href: ElementText,
    /// The href resolved against `<base href>` and the page URL, when it is a valid URL.
    pub url: Option<Url>,
    /// The link text, normalised.
    pub text: ElementText,
    /// The `rel` tokens, lower case.
    pub rel: Vec<ElementText>,
    /// Source line of the element.
    pub line: u32,
}

/// Something the page loads without a click (an image, a frame, a script...).
#[derive(Debug, Clone)]
pub struct Resource {
    /// The element.
    pub node: NodeId,
    /// Tag name of the element, e.g. `iframe`.
    pub element: ElementText,
    /// Attribute that holds the address, e.g. `src`, `srcset`, `data`.
    pub attribute: &'static str,
    /// The address as written.
    pub address: ElementText,
    /// The address resolved against `<base href>` and the page URL, when valid.
    pub url: Option<Url>,
    /// Source line of the element.
    pub line: u32,
}

/// Text the page model copied from an element (a link's href, text and `rel` tokens, a
/// resource's element name and address): a range of one string per page that all of
/// them share, so a page's element texts are one allocation rather than one each. Reads
/// as a `&str`.
#[derive(Clone)]
pub struct ElementText {
    /// The string the text is a range of (shared with the page's other element texts).
    shared: Arc<String>,
    /// Where the text sits in `shared`.
    range: Range<usize>,
}

impl ElementText {
    /// The text.
    pub fn as_str(&self) -> &str {
        self.shared.get(self.range.clone()).unwrap_or_default()
    }
}

impl Deref for ElementText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ElementText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for ElementText {
    /// As the text's own `Debug` (a quoted string).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl fmt::Display for ElementText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl PartialEq for ElementText {
    fn eq(&self, other: &ElementText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ElementText {}

impl PartialEq<str> for ElementText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ElementText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The element texts of one page as the walk copies them: one string, handed out as
/// ranges; [`ElementTextCollector::finish`] gives the page's links and resources the
/// finished string.
#[derive(Debug, Default)]
struct ElementTextCollector {
    /// Every element text so far, one after another.
    text: String,
    /// Stands in for the shared string until it is finished.
    unfinished: Arc<String>,
}

impl ElementTextCollector {
    /// Copies `value` in.
    fn add(&mut self, value: &str) -> ElementText {
        let start = self.text.len();
        self.text.push_str(value);
        ElementText {
            shared: Arc::clone(&self.unfinished),
            range: start..self.text.len(),
        }
    }

    /// Copies `value` in, ASCII letters in lower case.
    fn add_lowercase(&mut self, value: &str) -> ElementText {
        let start = self.text.len();
        self.text.push_str(value);
        // `start` is the end of the text before, a character boundary.
        if let Some(added) = self.text.get_mut(start..) {
            added.make_ascii_lowercase();
        }
        ElementText {
            shared: Arc::clone(&self.unfinished),
            range: start..self.text.len(),
        }
    }

    /// Adds the text of element `id` of `document` normalised: the same as
    /// [`text::normalise`] of its text content, without first joining its text nodes
    /// into one string.
    fn add_normalised_text(&mut self, document: &Document, id: NodeId) -> ElementText {
        let start = self.text.len();
        let mut builder = TextBlockBuilder::appending_to(std::mem::take(&mut self.text));
        push_text_of(&mut builder, document, id);
        self.text = builder.into_string();
        ElementText {
            shared: Arc::clone(&self.unfinished),
            range: start..self.text.len(),
        }
    }

    /// Shares the finished string with the element texts of `links` and `resources`
    /// (all of them came from this collector).
    fn finish(self, links: &mut [Link], resources: &mut [Resource]) {
        let shared = Arc::new(self.text);
        for link in links {
            link.href.shared = Arc::clone(&shared);
            link.text.shared = Arc::clone(&shared);
            for token in &mut link.rel {
                token.shared = Arc::clone(&shared);
            }
        }
        for resource in resources {
            resource.element.shared = Arc::clone(&shared);
            resource.address.shared = Arc::clone(&shared);
        }
    }
}

/// Where a piece of script sits, which decides whether it runs without a click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptPlace {
    /// An inline `<script>` (runs when the page loads).
    Inline,
    /// An `on*` attribute; the event name without `on`, lower case (e.g. `click`).
    EventHandler(String),
    /// A `javascript:` URL in an attribute (`href`, `src`, `action`...), with the
    /// element and attribute it sits in.
    JavascriptUrl {
        /// Tag name of the element.
        element: String,
        /// The attribute.
        attribute: String,
    },
}

/// A piece of JavaScript found in the page (never executed).
#[derive(Debug, Clone)]
pub struct Script {
    /// The element that holds it.
    pub node: NodeId,
    /// Where it sits.
    pub place: ScriptPlace,
    /// The code.
    pub code: String,
    /// Source line of the element (for inline scripts: where the code starts).
    pub line: u32,
}

/// CSS found in the page: a `<style>` block or a `style` attribute.
#[derive(Debug, Clone)]
pub struct Style {
    /// The element that holds it.
    pub node: NodeId,
    /// True for a `style` attribute, false for a `<style>` block.
    pub inline: bool,
    /// The CSS text.
    pub css: String,
    /// Source line of the element.
    pub line: u32,
}

/// A `<meta http-equiv="refresh">` that browsers would act on.
#[derive(Debug, Clone)]
pub struct MetaRefresh {
    /// The meta element.
    pub node: NodeId,
    /// Seconds before the navigation.
    pub delay: f64,
    /// The URL as written; `None` when the page reloads itself.
    pub address: Option<String>,
    /// The URL resolved against the base URL, when it is valid.
    pub url: Option<Url>,
    /// Source line.
    pub line: u32,
}

/// An HTML comment with its source line.
#[derive(Debug, Clone)]
pub struct Comment {
    /// The comment's text, without `<!--` and `-->`.
    pub text: String,
    /// Source line where the comment starts.
    pub line: u32,
}

/// One page, parsed and analysed once, shared by every detector.
#[derive(Debug, Clone)]
pub struct Page {
    /// The parsed document.
    pub document: Document,
    /// The URL the page was fetched from, if any.
    pub url: Option<Url>,
    /// The URL relative addresses resolve against (`<base href>`, else `url`).
    pub base_url: Option<Url>,
    /// Text blocks in document order: title, meta and Open Graph text first, then body
    /// text and alt texts as they appear.
    pub blocks: Vec<TextBlock>,
    /// Links a reader can click.
    pub links: Vec<Link>,
    /// Resources loaded without a click.
    pub resources: Vec<Resource>,
    /// HTML comments.
    pub comments: Vec<Comment>,
    /// JavaScript: inline scripts, event handlers, `javascript:` URLs.
    pub scripts: Vec<Script>,
    /// CSS: `<style>` blocks and `style` attributes.
    pub styles: Vec<Style>,
    /// Meta refresh declarations browsers would act on.
    pub refreshes: Vec<MetaRefresh>,
}

/// What the page walk does with an element, decided once from its tag name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ElementRole {
    /// Its content is never shown as text (`script`, `style`, `head`, `iframe`...).
    non_text: bool,
    /// It starts and ends a text block (`p`, `div`, `li`, `td`...).
    block: bool,
    /// It separates the words on either side (`br`, `img`).
    word_break: bool,
    /// The attributes whose value is an address loaded without a click, in the order
    /// they are recorded.
    resource_attributes: &'static [&'static str],
    /// What else the walk records for it, if anything.
    kind: ElementKind,
}

/// The elements the page walk records something particular for (besides text and
/// resources), so that it compares an element's name once, in [`ElementRole::of`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ElementKind {
    /// None of those below.
    #[default]
    Other,
    /// `<script>`: inline code.
    Script,
    /// `<style>`: a style sheet.
    Style,
    /// `<meta>`: a refresh.
    Meta,
    /// `<img>`: its alt text.
    Image,
    /// `<a>` or `<area>`: a link.
    Hyperlink,
    /// `<link>`: loads its href only for some `rel`s.
    LinkElement,
    /// `<title>`: the title text block (outside `<svg>`).
    Title,
    /// `<base>`: the base URL.
    Base,
}

impl ElementRole {
    /// The role of element `name` (lower case): one match on the name instead of one
    /// per question.
    fn of(name: &str) -> ElementRole {
        let non_text = ElementRole {
            non_text: true,
            ..ElementRole::default()
        };
        let block = ElementRole {
            block: true,
            ..ElementRole::default()
        };
        let loads = |attributes: &'static [&'static str]| ElementRole {
            resource_attributes: attributes,
            ..ElementRole::default()
        };
        match name {
            "a" | "area" => ElementRole {
                kind: ElementKind::Hyperlink,
                ..ElementRole::default()
            },
            "script" => ElementRole {
                non_text: true,
                resource_attributes: &["src"],
                kind: ElementKind::Script,
                ..ElementRole::default()
            },
            "iframe" => ElementRole {
                non_text: true,
                resource_attributes: &["src"],
                ..ElementRole::default()
            },
            "object" => ElementRole {
                non_text: true,
                resource_attributes: &["data"],
                ..ElementRole::default()
            },
            "style" => ElementRole {
                kind: ElementKind::Style,
                ..non_text
            },
            "template" | "noscript" | "head" | "svg" | "math" | "select" | "datalist" => non_text,
            "address" | "article" | "aside" | "blockquote" | "body" | "caption" | "dd"
            | "details" | "dialog" | "div" | "dl" | "dt" | "fieldset" | "figcaption" | "figure"
            | "footer" | "form" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "header" | "hgroup"
            | "hr" | "li" | "main" | "nav" | "ol" | "p" | "pre" | "section" | "summary"
            | "table" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr" | "ul" | "html" => block,
            "img" => ElementRole {
                word_break: true,
                resource_attributes: &["src", "srcset", "data-src"],
                kind: ElementKind::Image,
                ..ElementRole::default()
            },
            "meta" => ElementRole {
                kind: ElementKind::Meta,
                ..ElementRole::default()
            },
            "title" => ElementRole {
                kind: ElementKind::Title,
                ..ElementRole::default()
            },
            "base" => ElementRole {
                kind: ElementKind::Base,
                ..ElementRole::default()
            },
            "br" => ElementRole {
                word_break: true,
                ..ElementRole::default()
            },
            "frame" => loads(&["src"]),
            "link" => ElementRole {
                kind: ElementKind::LinkElement,
                ..loads(&["href"])
            },
            "embed" => loads(&["src"]),
            "source" => loads(&["src", "srcset"]),
            "video" => loads(&["src", "poster"]),
            "audio" => loads(&["src"]),
            "input" => loads(&["src"]),
            _ => ElementRole::default(),
        }
    }
}

impl Page {
    /// Parses `html` and builds the page model. `url` is where the page came from, if it
    /// came from the web; relative addresses resolve against it (or `<base href>`).
    pub fn from_html(html: &str, url: Option<Url>) -> Page {
        let document = Document::parse(html);
        let mut page = Page {
            document,
            url,
            base_url: None,
            blocks: Vec::new(),
            links: Vec::new(),
            resources: Vec::new(),
            comments: Vec::new(),
            scripts: Vec::new(),
            styles: Vec::new(),
            refreshes: Vec::new(),
        };
        // Room for the blocks: about one for every two nodes, and the body text is
        // shorter than the page (estimates: the collector grows as needed).
        let mut blocks = BlockCollector::with_capacity(page.document.nodes().len() / 2, html.len());
        page.collect(&mut blocks);
        page.blocks = blocks.finish();
        page
    }

    /// Text blocks of one scope.
    pub fn blocks_in(&self, scope: TextScope) -> impl Iterator<Item = &TextBlock> {
        self.blocks.iter().filter(move |block| block.scope == scope)
    }

    /// One walk over the document: the title, meta description and Open Graph text
    /// blocks, the base URL, visible text blocks, alt texts, links, resources, scripts,
    /// styles, refreshes and comments. Addresses are resolved at the end, once the base
    /// URL is known (a `<base>` applies to the links before it too).
    fn collect(&mut self, blocks: &mut BlockCollector) {
        /// What ends with an element the walk is inside.
        enum Leave {
            /// A text block.
            Block,
            /// A non-text element (its content is visible again after it); `true` for
            /// an `<svg>` (a `<title>` inside one is not the page's).
            NonText(bool),
        }
        // Borrow the document apart from the rest of the page while filling the page in
        // (no copy of the tree); it is put back at the end.
        let document = std::mem::take(&mut self.document);
        let root = document.root();
        let mut block_owner = vec![root];
        // How many non-text elements (script, style, head...) enclose the current node:
        // their text is not visible, but their elements still load and run things.
        let mut non_text_depth = 0usize;
        // How many `<svg>` elements enclose the current node.
        let mut svg_depth = 0usize;
        // The `href` of the first `<base>` that has one.
        let mut base_href: Option<&str> = None;
        // Nodes are numbered in document order (a pre-order walk), so the walk is a loop
        // over them in order. The elements it is inside whose end matters, innermost
        // last: before each node, those numbered after its parent (not its ancestors)
        // have ended.
        let mut open: Vec<(NodeId, Leave)> = Vec::new();
        let mut element_texts = ElementTextCollector::default();
        let nodes = document.nodes();
        blocks.end_block(root);
        // One step past the last node, where every open element ends.
        for id in 0..=nodes.len() {
            let node = nodes.get(id);
            while let Some((open_id, _)) = open.last()
                && node.is_none_or(|node| node.parent.is_none_or(|parent| *open_id > parent))
                && let Some((_, leaving)) = open.pop()
            {
                match leaving {
                    Leave::NonText(svg) => {
                        non_text_depth = non_text_depth.saturating_sub(1);
                        if svg {
                            svg_depth = svg_depth.saturating_sub(1);
                        }
                    }
                    Leave::Block => {
                        block_owner.pop();
                        let parent = *block_owner.last().unwrap_or(&root);
                        blocks.end_block(parent);
                    }
                }
            }
            let Some(node) = node else {
                break;
            };
            match &node.kind {
                NodeKind::Text(text) => {
                    if non_text_depth == 0 {
                        blocks.push(text, node.line)
                    }
                }
                NodeKind::Comment(text) => self.comments.push(Comment {
                    text: text.clone(),
                    line: node.line,
                }),
                NodeKind::Element { name, .. } => {
                    let role = ElementRole::of(name);
                    match role.kind {
                        ElementKind::Title if svg_depth == 0 => {
                            let text = document.text_content(id);
                            blocks.add_run(TextScope::Title, id, &text, node.line);
                        }
                        ElementKind::Meta => add_meta_block(node, id, blocks),
                        ElementKind::Base if base_href.is_none() => base_href = node.attr("href"),
                        _ => {}
                    }
                    self.record_element(&document, id, name, role, blocks, &mut element_texts);
                    if role.word_break {
                        blocks.push_space();
                    }
                    if role.non_text {
                        non_text_depth += 1;
                        let svg = name == "svg";
                        if svg {
                            svg_depth += 1;
                        }
                        open.push((id, Leave::NonText(svg)));
                    } else if role.block && non_text_depth == 0 {
                        blocks.end_block(id);
                        block_owner.push(id);
                        open.push((id, Leave::Block));
                    }
                }
                NodeKind::Document => {}
            }
        }
        blocks.end_block(root);
        element_texts.finish(&mut self.links, &mut self.resources);
        self.base_url = base_url(base_href, self.url.as_ref());
        self.document = document;
        self.resolve_addresses();
    }

    /// Resolves the addresses of links, resources and refreshes against the base URL.
    fn resolve_addresses(&mut self) {
        let base = self.base_url.as_ref();
        for link in &mut self.links {
            link.url = resolve_address(base, &link.href);
        }
        for resource in &mut self.resources {
            resource.url = resolve_address(base, &resource.address);
        }
        for refresh in &mut self.refreshes {
            refresh.url = refresh
                .address
                .as_deref()
                .and_then(|address| resolve_address(base, address));
        }
    }

    /// Records what an element contributes besides text: alt text, a link, resources,
    /// scripts, styles, a meta refresh (addresses unresolved).
    fn record_element(
        &mut self,
        document: &Document,
        id: NodeId,
        name: &str,
        role: ElementRole,
        blocks: &mut BlockCollector,
        element_texts: &mut ElementTextCollector,
    ) {
        let node = document.node(id);
        self.record_code(document, id, node, name, role.kind);
        if role.kind == ElementKind::Image
            && let Some(alt) = node.attr("alt")
        {
            blocks.add_run(TextScope::Alt, id, alt, node.line);
        }
        if role.kind == ElementKind::Hyperlink
            && let Some(href) = node.attr("href")
        {
            let href = element_texts.add(href.trim());
            let rel = node
                .attr("rel")
                .unwrap_or("")
                .split_ascii_whitespace()
                .map(|token| element_texts.add_lowercase(token))
                .collect();
            let text = element_texts.add_normalised_text(document, id);
            self.links.push(Link {
                node: id,
                url: None,
                href,
                text,
                rel,
                line: node.line,
            });
        }
        for attribute in role.resource_attributes {
            let Some(value) = node.attr(attribute) else {
                continue;
            };
            if role.kind == ElementKind::LinkElement && !link_loads_resource(node) {
                continue;
            }
            if attribute.ends_with("srcset") {
                for address in srcset_addresses(value) {
                    self.push_resource(id, node, name, attribute, address, element_texts);
                }
            } else {
                self.push_resource(id, node, name, attribute, value.trim(), element_texts);
            }
        }
    }

    /// Records `address` (unless empty), found in `attribute` of element `id` (named
    /// `name`), as a resource.
    fn push_resource(
        &mut self,
        id: NodeId,
        node: &Node,
        name: &str,
        attribute: &'static str,
        address: &str,
        element_texts: &mut ElementTextCollector,
    ) {
        if address.is_empty() {
            return;
        }
        self.resources.push(Resource {
            node: id,
            element: element_texts.add(name),
            attribute,
            address: element_texts.add(address),
            url: None,
            line: node.line,
        });
    }
}

impl Page {
    /// Records the scripts, styles and meta refresh of element `id` (named `name`, of
    /// kind `kind`).
    fn record_code(
        &mut self,
        document: &Document,
        id: NodeId,
        node: &Node,
        name: &str,
        kind: ElementKind,
    ) {
        if kind == ElementKind::Script
            && node.attr("src").is_none()
            && is_javascript_type(node.attr("type"))
        {
            let code = document.text_content(id);
            let first_text_line = node
                .children
                .first()
                .map(|&child| document.node(child).line)
                .unwrap_or(node.line);
            if !code.trim().is_empty() {
                self.scripts.push(Script {
                    node: id,
                    place: ScriptPlace::Inline,
                    code,
                    line: first_text_line,
                });
            }
        }
        if kind == ElementKind::Style {
            self.styles.push(Style {
                node: id,
                inline: false,
                css: document.text_content(id),
                line: node.line,
            });
        }
        if kind == ElementKind::Meta
            && node
                .attr("http-equiv")
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("refresh"))
            && let Some(refresh) = node.attr("content").and_then(refresh::parse_refresh)
        {
            self.refreshes.push(MetaRefresh {
                node: id,
                delay: refresh.delay,
                address: refresh.url,
                url: None,
                line: node.line,
            });
        }
        for (attribute, value) in node.attrs() {
            if attribute == "style" {
                self.styles.push(Style {
                    node: id,
                    inline: true,
                    css: value.clone(),
                    line: node.line,
                });
            } else if let Some(event) = attribute.strip_prefix("on") {
                if !value.trim().is_empty() {
                    self.scripts.push(Script {
                        node: id,
                        place: ScriptPlace::EventHandler(event.to_string()),
                        code: value.clone(),
                        line: node.line,
                    });
                }
            } else if let Some(code) = javascript_url_code(value) {
                self.scripts.push(Script {
                    node: id,
                    place: ScriptPlace::JavascriptUrl {
                        element: name.to_string(),
                        attribute: attribute.clone(),
                    },
                    code,
                    line: node.line,
                });
            }
        }
    }
}

/// The meta description or Open Graph text block of `<meta>` element `id`, if it is one.
fn add_meta_block(node: &Node, id: NodeId, blocks: &mut BlockCollector) {
    let key = node
        .attr("name")
        .or_else(|| node.attr("property"))
        .unwrap_or("");
    let scope = if key.eq_ignore_ascii_case("description") {
        TextScope::MetaDescription
    } else if key.eq_ignore_ascii_case("og:title") || key.eq_ignore_ascii_case("og:description") {
        TextScope::Og
    } else {
        return;
    };
    blocks.add_run(scope, id, node.attr("content").unwrap_or(""), node.line);
}

/// True for script `type`s browsers run as JavaScript (none, a JavaScript MIME type, or
/// `module`); JSON-LD and templates are not code.
fn is_javascript_type(script_type: Option<&str>) -> bool {
    let Some(script_type) = script_type else {
        return true;
    };
    let script_type = script_type.trim().to_ascii_lowercase();
    script_type.is_empty()
        || script_type == "module"
        || matches!(
            script_type.as_str(),
            "text/javascript"
                | "application/javascript"
                | "text/ecmascript"
                | "application/ecmascript"
                | "text/jscript"
        )
}

/// The code of a `javascript:` URL (percent-decoded, as browsers run it), if `value` is
/// one. Leading whitespace and control characters, and tabs/newlines inside the scheme,
/// are ignored as URL parsing ignores them.
fn javascript_url_code(value: &str) -> Option<String> {
    const SCHEME: &[u8] = b"javascript";
    // Most values (class names, sizes, addresses) are rejected on their first byte that
    // is not a space or control character: it must be the scheme's `j`. (The bytes the
    // trim below removes are exactly those up to b' '; other characters start with a
    // byte above it.)
    if !matches!(value.bytes().find(|&byte| byte > b' '), Some(b'j' | b'J')) {
        return None;
    }
    let trimmed = value.trim_start_matches(|c: char| c <= ' ');
    // How much of the scheme the value has spelt so far; any other character before the
    // colon means it is not a `javascript:` URL (no allocation for ordinary values).
    let mut matched = 0;
    let mut rest = "";
    for (offset, character) in trimmed.char_indices() {
        if matches!(character, '\t' | '\n' | '\r') {
            continue;
        }
        if character == ':' {
            rest = &trimmed[offset + 1..];
            break;
        }
        if SCHEME.get(matched).map(|&byte| char::from(byte)) != Some(character.to_ascii_lowercase())
        {
            return None;
        }
        matched += 1;
    }
    if matched != SCHEME.len() {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(rest)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// True when a `<link>` element makes the browser fetch its href without a click.
fn link_loads_resource(node: &Node) -> bool {
    let rel = node.attr("rel").unwrap_or("").to_ascii_lowercase();
    rel.split_ascii_whitespace().any(|token| {
        matches!(
            token,
            "stylesheet" | "prefetch" | "prerender" | "preload" | "icon" | "modulepreload"
        )
    })
}

/// The addresses in a `srcset` value (`a.jpg 1x, b.jpg 2x`).
fn srcset_addresses(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .filter_map(|candidate| candidate.split_whitespace().next())
}

/// The base URL: `base_href` (the `href` of the first `<base>` that has one) resolved
/// against the page URL, else the page URL.
fn base_url(base_href: Option<&str>, url: Option<&Url>) -> Option<Url> {
    match base_href {
        Some(href) => resolve_address(url, href).or_else(|| url.cloned()),
        None => url.cloned(),
    }
}

/// The text of element `id` normalised: the same as [`text::normalise`] of its text
/// content, without first joining its text nodes into one string.
#[cfg(test)]
fn normalised_text(document: &Document, id: NodeId) -> String {
    let mut builder = TextBlockBuilder::new(TextScope::Text, id);
    push_text_of(&mut builder, document, id);
    builder.into_text()
}

/// Pushes the text of element `id` of `document` (its text nodes in document order),
/// each piece as if from line 1.
fn push_text_of(builder: &mut TextBlockBuilder, document: &Document, id: NodeId) {
    let nodes = document.nodes();
    if let Some(NodeKind::Text(text)) = nodes.get(id).map(|node| &node.kind) {
        builder.push(text, 1);
    }
    // Nodes are numbered in document order (a pre-order walk), so the descendants of
    // `id` are the nodes right after it, up to the first whose parent comes before `id`:
    // their text in that order without a stack to walk the subtree with.
    for node in nodes.iter().skip(id + 1) {
        if node.parent.is_none_or(|parent| parent < id) {
            break;
        }
        if let NodeKind::Text(text) = &node.kind {
            builder.push(text, 1);
        }
    }
}

/// Resolves an address as a browser would: absolute URLs as they are, protocol-relative
/// (`//host/path`) as https when there is no base, relative ones against `base`.
pub fn resolve_address(base: Option<&Url>, address: &str) -> Option<Url> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    match base {
        Some(base) => base.join(address).ok(),
        None => {
            if let Some(rest) = address.strip_prefix("//") {
                Url::parse(&format!("https://{rest}")).ok()
            } else if !address.contains(':') {
                // No scheme (it would end at a colon), and nothing to resolve a relative
                // address against: `Url::parse` could only fail.
                None
            } else {
                Url::parse(address).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = r#"<!doctype html>
<html><head>
<title>Best phone cases</title>
<meta name="description" content="Our picks">
<meta property="og:description" content="Cases we tested">
<script>var lowestPriceEver = 1;</script>
<style>.x{color:red}</style>
</head>
<body>
<h1>Best cases</h1>
<p>Shipping usually takes
10-20 days.</p>
<p>See <a href="https://www.amazon.com/dp/B01?tag=site-20" rel="sponsored NoFollow">the
case</a> on Amazon.</p>
<img src="/a.jpg" srcset="/a-1x.jpg 1x, /a-2x.jpg 2x" alt="Red case">
<iframe src="//example.com/frame" width="0"></iframe>
<!-- promoscan-disable-next-line claim-price -->
</body></html>"#;

    /// Elements whose content is never shown as text.
    fn is_non_text_element(name: &str) -> bool {
        matches!(
            name,
            "script"
                | "style"
                | "template"
                | "noscript"
                | "head"
                | "iframe"
                | "object"
                | "svg"
                | "math"
                | "select"
                | "datalist"
        )
    }

    /// Elements that start and end a text block.
    fn is_block_element(name: &str) -> bool {
        matches!(
            name,
            "address"
                | "article"
                | "aside"
                | "blockquote"
                | "body"
                | "caption"
                | "dd"
                | "details"
                | "dialog"
                | "div"
                | "dl"
                | "dt"
                | "fieldset"
                | "figcaption"
                | "figure"
                | "footer"
                | "form"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "header"
                | "hgroup"
                | "hr"
                | "li"
                | "main"
                | "nav"
                | "ol"
                | "p"
                | "pre"
                | "section"
                | "summary"
                | "table"
                | "tbody"
                | "td"
                | "tfoot"
                | "th"
                | "thead"
                | "tr"
                | "ul"
                | "html"
        )
    }

    /// The attributes of element `name` whose value is an address loaded without a click,
    /// in the order they are recorded.
    fn resource_attributes(name: &str) -> &'static [&'static str] {
        match name {
            "img" => &["src", "srcset", "data-src"],
            "iframe" => &["src"],
            "frame" => &["src"],
            "script" => &["src"],
            "link" => &["href"],
            "object" => &["data"],
            "embed" => &["src"],
            "source" => &["src", "srcset"],
            "video" => &["src", "poster"],
            "audio" => &["src"],
            "input" => &["src"],
            _ => &[],
        }
    }

    #[test]
    fn element_roles_answer_as_the_separate_questions_did() {
        let mut names: Vec<String> = [
            "script",
            "style",
            "template",
            "noscript",
            "head",
            "iframe",
            "object",
            "svg",
            "math",
            "select",
            "datalist",
            "address",
            "article",
            "aside",
            "blockquote",
            "body",
            "caption",
            "dd",
            "details",
            "dialog",
            "div",
            "dl",
            "dt",
            "fieldset",
            "figcaption",
            "figure",
            "footer",
            "form",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "header",
            "hgroup",
            "hr",
            "li",
            "main",
            "nav",
            "ol",
            "p",
            "pre",
            "section",
            "summary",
            "table",
            "tbody",
            "td",
            "tfoot",
            "th",
            "thead",
            "tr",
            "ul",
            "html",
            "img",
            "frame",
            "link",
            "embed",
            "source",
            "video",
            "audio",
            "input",
            "br",
            "a",
            "area",
            "span",
            "b",
            "meta",
            "title",
            "base",
            "",
            "h7",
            "P",
            "DIV",
            "im",
            "imgs",
            "scrip",
            "foreignobject",
            "caf\u{e9}",
            "\u{130}mg",
        ]
        .iter()
        .map(|name| name.to_string())
        .collect();
        let alphabet = ["a", "d", "i", "v", "p", "h", "1", "r", "t", "\u{e9}", "-"];
        let mut next = crate::test_support::numbers_below(0x5851_F42D_4C95_7F2D);
        for _ in 0..3_000 {
            let mut name = String::new();
            for _ in 0..next(4) + 1 {
                name.push_str(alphabet[next(alphabet.len())]);
            }
            names.push(name);
        }
        names.push("div".repeat(1 << 16));
        for name in &names {
            let role = ElementRole::of(name);
            assert_eq!(role.non_text, is_non_text_element(name), "{name:?}");
            assert_eq!(role.block, is_block_element(name), "{name:?}");
            assert_eq!(role.word_break, name == "br" || name == "img", "{name:?}");
            let kind = match name.as_str() {
                "script" => ElementKind::Script,
                "style" => ElementKind::Style,
                "meta" => ElementKind::Meta,
                "img" => ElementKind::Image,
                "a" | "area" => ElementKind::Hyperlink,
                "link" => ElementKind::LinkElement,
                "title" => ElementKind::Title,
                "base" => ElementKind::Base,
                _ => ElementKind::Other,
            };
            assert_eq!(role.kind, kind, "{name:?}");
            assert_eq!(
                role.resource_attributes,
                resource_attributes(name),
                "{name:?}"
            );
        }
    }

    #[test]
    fn javascript_urls_are_recognised_in_any_case_and_spacing() {
        let code = |value: &str| javascript_url_code(value);
        assert_eq!(code("javascript:go()").as_deref(), Some("go()"));
        assert_eq!(code(" \u{1}JavaScript:a%20b").as_deref(), Some("a b"));
        assert_eq!(code("java\tscr\nipt:x").as_deref(), Some("x"));
        assert_eq!(code("javascript").as_deref(), Some(""));
        assert_eq!(code("JAVASCRIPT:").as_deref(), Some(""));
        for value in [
            "",
            ":",
            "java",
            "javascrip:x",
            "javascripts:x",
            "javascriptx",
            "vbscript:x",
            "https://example.com/javascript:x",
            "card featured",
            "jav\u{e4}script:x",
            "\u{212a}avascript:x",
        ] {
            assert_eq!(code(value), None, "{value:?}");
        }
    }

    /// `javascript_url_code` without its first-byte rejection.
    fn javascript_url_code_by_characters(value: &str) -> Option<String> {
        const SCHEME: &[u8] = b"javascript";
        let trimmed = value.trim_start_matches(|c: char| c <= ' ');
        let mut matched = 0;
        let mut rest = "";
        for (offset, character) in trimmed.char_indices() {
            if matches!(character, '\t' | '\n' | '\r') {
                continue;
            }
            if character == ':' {
                rest = &trimmed[offset + 1..];
                break;
            }
            if SCHEME.get(matched).map(|&byte| char::from(byte))
                != Some(character.to_ascii_lowercase())
            {
                return None;
            }
            matched += 1;
        }
        if matched != SCHEME.len() {
            return None;
        }
        Some(
            percent_encoding::percent_decode_str(rest)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }

    #[test]
    fn the_first_byte_rejection_agrees_with_the_character_walk() {
        let alphabet = [
            "j",
            "J",
            "a",
            "v",
            "s",
            "c",
            "r",
            "i",
            "p",
            "t",
            "T",
            ":",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{0}",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "%61",
            "%",
            "\u{e9}",
            "\u{212a}",
            "\u{a0}",
            "javascript",
            "JavaScript",
            "java\tscript",
            "x",
        ];
        let mut values: Vec<String> = vec![String::new(), "j".repeat(1 << 16)];
        values.push(format!(
            "{}javascript:{}",
            " ".repeat(1 << 12),
            "%41".repeat(1 << 12)
        ));
        let mut next = crate::test_support::numbers_below(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let mut value = String::new();
            for _ in 0..next(8) {
                value.push_str(alphabet[next(alphabet.len())]);
            }
            values.push(value);
        }
        for value in &values {
            assert_eq!(
                javascript_url_code(value),
                javascript_url_code_by_characters(value),
                "{value:?}"
            );
        }
    }

    #[test]
    fn element_text_is_normalised_as_its_joined_text_content() {
        let html = "<p><a id=x href=/a> \u{a0}Save <b>big</b>\n  <i> to</i>day\u{200b} \
                    <span></span>&nbsp;<em>caf\u{e9} </em></a><a href=/b>  </a></p>";
        let document = Document::parse(html);
        let anchors: Vec<NodeId> = (0..document.nodes().len())
            .filter(|&id| document.node(id).element_name() == Some("a"))
            .collect();
        assert_eq!(anchors.len(), 2);
        for id in anchors {
            assert_eq!(
                normalised_text(&document, id),
                text::normalise(&document.text_content(id))
            );
        }
        assert_eq!(
            normalised_text(&document, document.root()),
            "Save big today café"
        );
    }

    #[test]
    fn builds_text_blocks_with_lines_and_scopes() {
        let page = Page::from_html(ARTICLE, None);
        let title: Vec<&str> = page.blocks_in(TextScope::Title).map(|b| b.text()).collect();
        assert_eq!(title, vec!["Best phone cases"]);
        let og: Vec<&str> = page.blocks_in(TextScope::Og).map(|b| b.text()).collect();
        assert_eq!(og, vec!["Cases we tested"]);
        let body: Vec<(&str, u32)> = page
            .blocks_in(TextScope::Text)
            .map(|b| (b.text(), b.line_at(0)))
            .collect();
        assert_eq!(
            body,
            vec![
                ("Best cases", 10),
                ("Shipping usually takes 10-20 days.", 11),
                ("See the case on Amazon.", 13),
            ]
        );
        let alt: Vec<&str> = page.blocks_in(TextScope::Alt).map(|b| b.text()).collect();
        assert_eq!(alt, vec!["Red case"]);
        assert!(
            !page
                .blocks
                .iter()
                .any(|b| b.text().contains("lowestPriceEver"))
        );
    }

    #[test]
    fn collects_links_resources_and_comments() {
        let page = Page::from_html(
            ARTICLE,
            Some(Url::parse("https://blog.example/post/").unwrap()),
        );
        assert_eq!(page.links.len(), 1);
        assert_eq!(page.links[0].text, "the case");
        assert_eq!(page.links[0].rel, vec!["sponsored", "nofollow"]);
        assert_eq!(page.links[0].line, 13);
        let addresses: Vec<String> = page
            .resources
            .iter()
            .map(|r| r.url.as_ref().map(Url::to_string).unwrap_or_default())
            .collect();
        assert_eq!(
            addresses,
            vec![
                "https://blog.example/a.jpg",
                "https://blog.example/a-1x.jpg",
                "https://blog.example/a-2x.jpg",
                "https://example.com/frame",
            ]
        );
        assert_eq!(page.comments.len(), 1);
        assert_eq!(page.comments[0].line, 17);
    }

    #[test]
    fn collects_scripts_styles_and_refreshes() {
        let html = "<meta http-equiv=\"REFRESH\" content=\"3;URL='/next'\">\n<script type=\"application/ld+json\">{\"a\":1}</script>\n<script>\nlocation.href = 'x';</script>\n<body onload=\"go()\"><a href=\"JavaScript:%61lert(1)\" style=\"color:red\">x</a>\n<style>.a{b:c}</style>";
        let page = Page::from_html(
            html,
            Some(Url::parse("https://site.example/post/").unwrap()),
        );
        assert_eq!(page.refreshes.len(), 1);
        assert_eq!(page.refreshes[0].delay, 3.0);
        assert_eq!(
            page.refreshes[0].url.as_ref().unwrap().as_str(),
            "https://site.example/next"
        );
        let places: Vec<(&ScriptPlace, &str, u32)> = page
            .scripts
            .iter()
            .map(|s| (&s.place, s.code.trim(), s.line))
            .collect();
        assert_eq!(
            places,
            vec![
                (&ScriptPlace::Inline, "location.href = 'x';", 3),
                (&ScriptPlace::EventHandler("load".to_string()), "go()", 5),
                (
                    &ScriptPlace::JavascriptUrl {
                        element: "a".to_string(),
                        attribute: "href".to_string()
                    },
                    "alert(1)",
                    5
                ),
            ]
        );
        let styles: Vec<(bool, &str)> = page
            .styles
            .iter()
            .map(|s| (s.inline, s.css.as_str()))
            .collect();
        assert_eq!(styles, vec![(true, "color:red"), (false, ".a{b:c}")]);
    }

    #[test]
    fn addresses_without_a_colon_or_base_resolve_to_nothing_as_url_parsing_says() {
        // The shortcut for relative addresses must agree with `Url::parse`, which it
        // skips: the addresses below, and generated ones with colons, slashes, spaces,
        // tabs, newlines and characters URL parsing maps or rejects.
        let resolve_by_parsing = |address: &str| {
            let address = address.trim();
            if address.is_empty() {
                None
            } else if let Some(rest) = address.strip_prefix("//") {
                Url::parse(&format!("https://{rest}")).ok()
            } else {
                Url::parse(address).ok()
            }
        };
        let mut addresses: Vec<String> = [
            "",
            " ",
            "/",
            "//",
            "///x",
            "/a/b?c#d",
            "a.html",
            "?q=1",
            "#top",
            "https://example.com/a",
            "HTTPS://EXAMPLE.COM",
            "mailto:x@example.com",
            "javascript:void(0)",
            "data:,x",
            "x:",
            ":",
            ":x",
            "1a:b",
            "a1+.-:b",
            "ht\ttps://example.com",
            "h\nttps://example.com",
            "\u{1}https://example.com\u{1f}",
            "https\u{ff1a}//example.com",
            "//example.com\u{3002}org/",
            "\\\\server\\share",
            "www.example.com",
            "example.com:8080",
            "caf\u{e9}.html",
            "%3A",
            "&#58;",
        ]
        .iter()
        .map(|address| address.to_string())
        .collect();
        let alphabet = [
            "a", "h", "t", "p", "s", ":", "/", "\\", "?", "#", ".", "%3a", "1", "+", "-", " ",
            "\t", "\n", "\u{0}", "\u{a0}", "\u{e9}", "\u{ff1a}", "\u{fe13}", "[", "]", "@",
        ];
        let mut next = crate::test_support::numbers_below(0x0123_4567_89AB_CDEF);
        for _ in 0..5_000 {
            let mut address = String::new();
            for _ in 0..next(16) {
                address.push_str(alphabet[next(alphabet.len())]);
            }
            addresses.push(address);
        }
        addresses.push(format!("/{}", "a".repeat(1 << 20)));
        addresses.push(format!("https://example.com/{}", "a:".repeat(1 << 16)));
        for address in &addresses {
            assert_eq!(
                resolve_address(None, address),
                resolve_by_parsing(address),
                "{address:?}"
            );
        }
    }

    #[test]
    fn the_first_base_with_an_href_is_the_base_url() {
        let html = r#"<a href="y">y</a><base target="_top"><base href="https://cdn.example/x/"><base href="https://other.example/">"#;
        let page = Page::from_html(html, Some(Url::parse("https://site.example/").unwrap()));
        assert_eq!(
            page.base_url.as_ref().map(Url::as_str),
            Some("https://cdn.example/x/")
        );
        assert_eq!(
            page.links[0].url.as_ref().unwrap().as_str(),
            "https://cdn.example/x/y"
        );
        let unresolvable = Page::from_html(r#"<base href="x">"#, None);
        assert_eq!(unresolvable.base_url, None);
    }

    #[test]
    fn base_href_changes_resolution() {
        let html = r#"<base href="https://cdn.example/x/"><a href="y">y</a>"#;
        let page = Page::from_html(html, Some(Url::parse("https://site.example/").unwrap()));
        assert_eq!(
            page.links[0].url.as_ref().unwrap().as_str(),
            "https://cdn.example/x/y"
        );
    }

    /// A generated page: random nesting of elements that start blocks, hide text, break
    /// words, link and load things, with text that has non-ASCII characters, runs of
    /// whitespace and newlines, and tags left open (the parser closes them its way).
    /// `next` gives numbers below its argument (`test_support::numbers_below`).
    fn generated_page(next: &mut impl FnMut(usize) -> usize) -> String {
        let opening = [
            "<div>",
            "<p>",
            "<span>",
            "<b>",
            "<li>",
            "<ul>",
            "<table><tr><td>",
            "<h2>",
            "<a href=\"/x\">",
            "<a href=\"https://shop.example/p?tag=a-20\" rel=\"Sponsored\">",
            "<a href=\" caf\u{e9}/\u{130}\t\" rel=\"NoFollow \u{130}X\u{a0}y  UGC\">",
            "<a href=\"\" rel=\"\">",
            "<script>var a = 1;",
            "<style>.a{b:c}",
            "<noscript>",
            "<template>",
            "<svg><title>t</title>",
            "<select><option>o",
            "<iframe src=\"//e.example/f\">",
        ];
        let closing = [
            "</div>",
            "</p>",
            "</span>",
            "</b>",
            "</li>",
            "</ul>",
            "</td>",
            "</table>",
            "</h2>",
            "</a>",
            "</script>",
            "</style>",
            "</noscript>",
            "</template>",
            "</svg>",
            "</select>",
            "</iframe>",
        ];
        let text = [
            "Free shipping",
            " ",
            "\n\n  ",
            "caf\u{e9} \u{201C}deal\u{201D}",
            "\u{a0}x\u{200B}y",
            "word",
            "\t",
            "ends. Next!",
            "<br>",
            "<img src=\"/a.jpg\" srcset=\"/b.jpg 1x, , /c.jpg 2x\" alt=\" Red\ncase \">",
            "<img alt=\"\u{2019}\">",
            "<!-- note -->",
            "<link rel=\"stylesheet\" href=\"/s.css\">",
        ];
        let mut html = String::new();
        for _ in 0..next(60) {
            match next(3) {
                0 => html.push_str(opening[next(opening.len())]),
                1 => html.push_str(closing[next(closing.len())]),
                _ => html.push_str(text[next(text.len())]),
            }
            if next(4) == 0 {
                html.push('\n');
            }
        }
        html
    }

    /// The stack walk the page walk replaced, for the text blocks only (body text and
    /// alt texts, in the order the page adds them).
    fn blocks_by_stack_walk(document: &Document) -> Vec<TextBlock> {
        enum Step {
            Enter(NodeId),
            LeaveBlock,
            LeaveNonText,
        }
        let mut blocks = BlockCollector::default();
        blocks.end_block(document.root());
        let mut block_owner = vec![document.root()];
        let mut non_text_depth = 0usize;
        let mut stack = vec![Step::Enter(document.root())];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(id) => {
                    let node = document.node(id);
                    match &node.kind {
                        NodeKind::Text(text) => {
                            if non_text_depth == 0 {
                                blocks.push(text, node.line)
                            }
                        }
                        NodeKind::Comment(_) => {}
                        NodeKind::Element { name, .. } => {
                            if name == "img"
                                && let Some(alt) = node.attr("alt")
                            {
                                blocks.add_run(TextScope::Alt, id, alt, node.line);
                            }
                            if name == "br" || name == "img" {
                                blocks.push_space();
                            }
                            if is_non_text_element(name) {
                                non_text_depth += 1;
                                stack.push(Step::LeaveNonText);
                            } else if is_block_element(name) && non_text_depth == 0 {
                                blocks.end_block(id);
                                block_owner.push(id);
                                stack.push(Step::LeaveBlock);
                            }
                            stack.extend(node.children.iter().rev().map(|&c| Step::Enter(c)));
                        }
                        NodeKind::Document => {
                            stack.extend(node.children.iter().rev().map(|&c| Step::Enter(c)));
                        }
                    }
                }
                Step::LeaveNonText => non_text_depth = non_text_depth.saturating_sub(1),
                Step::LeaveBlock => {
                    block_owner.pop();
                    let parent = *block_owner.last().unwrap_or(&document.root());
                    blocks.end_block(parent);
                }
            }
        }
        blocks.end_block(document.root());
        blocks.finish()
    }

    /// What a test compares of a block: scope, node, text and the line of every offset.
    fn block_parts(block: &TextBlock) -> (TextScope, usize, String, Vec<u32>) {
        let lines = (0..=block.text().len())
            .map(|offset| block.line_at(offset))
            .collect();
        (block.scope, block.node, block.text().to_string(), lines)
    }

    #[test]
    fn the_page_walk_agrees_with_the_stack_walk_on_generated_pages() {
        let mut next = crate::test_support::numbers_below(0xD1B5_4A32_D192_ED03);
        let mut pages: Vec<String> = (0..400).map(|_| generated_page(&mut next)).collect();
        pages.push(String::new());
        pages.push("<div>".repeat(3_000) + "deep" + &"</div><p>x".repeat(3_000));
        pages.push(ARTICLE.to_string());
        for html in &pages {
            let page = Page::from_html(html, None);
            let walked: Vec<_> = page
                .blocks
                .iter()
                .filter(|block| matches!(block.scope, TextScope::Text | TextScope::Alt))
                .map(block_parts)
                .collect();
            let expected: Vec<_> = blocks_by_stack_walk(&page.document)
                .iter()
                .map(block_parts)
                .collect();
            assert_eq!(walked, expected, "{html:?}");
            // Links, resources and comments in document order, link text as the joined
            // text content normalised.
            for link in &page.links {
                assert_eq!(
                    link.text.as_str(),
                    text::normalise(&page.document.text_content(link.node)),
                    "{html:?}"
                );
            }
            assert!(
                page.links
                    .windows(2)
                    .all(|pair| pair[0].node < pair[1].node)
            );
            // The element texts read as the copies of the attributes they replaced.
            for link in &page.links {
                let element = page.document.node(link.node);
                assert_eq!(link.href, element.attr("href").unwrap_or("").trim());
                let rel: Vec<String> = element
                    .attr("rel")
                    .unwrap_or("")
                    .split_ascii_whitespace()
                    .map(|token| token.to_ascii_lowercase())
                    .collect();
                let copied: Vec<String> = link.rel.iter().map(|token| token.to_string()).collect();
                assert_eq!(copied, rel, "{html:?}");
            }
            for resource in &page.resources {
                let element = page.document.node(resource.node);
                assert_eq!(resource.element, element.element_name().unwrap_or("?"));
                let value = element.attr(resource.attribute).unwrap_or("");
                assert!(!resource.address.is_empty());
                assert!(value.contains(resource.address.as_str()), "{html:?}");
            }
            assert!(
                page.resources
                    .windows(2)
                    .all(|pair| pair[0].node <= pair[1].node)
            );
            let comments = page
                .document
                .nodes()
                .iter()
                .filter(|node| matches!(node.kind, NodeKind::Comment(_)))
                .count();
            assert_eq!(page.comments.len(), comments);
        }
    }

    /// The separate pass over the nodes that the page walk replaced for the head: the
    /// title, meta description and Open Graph blocks, and the `href` of the first
    /// `<base>` that has one.
    fn head_by_separate_pass(document: &Document) -> (Vec<TextBlock>, Option<String>) {
        let inside_svg = |id: NodeId| {
            document
                .ancestors(id)
                .any(|ancestor| document.node(ancestor).element_name() == Some("svg"))
        };
        let mut blocks = BlockCollector::default();
        let mut base_href = None;
        for (id, node) in document.nodes().iter().enumerate() {
            match node.element_name() {
                Some("title") if !inside_svg(id) => {
                    let text = document.text_content(id);
                    blocks.add_run(TextScope::Title, id, &text, node.line);
                }
                Some("meta") => {
                    let key = node
                        .attr("name")
                        .or_else(|| node.attr("property"))
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let scope = match key.as_str() {
                        "description" => TextScope::MetaDescription,
                        "og:title" | "og:description" => TextScope::Og,
                        _ => continue,
                    };
                    blocks.add_run(scope, id, node.attr("content").unwrap_or(""), node.line);
                }
                Some("base") if base_href.is_none() => {
                    base_href = node.attr("href").map(str::to_string)
                }
                _ => {}
            }
        }
        (blocks.finish(), base_href)
    }

    #[test]
    fn the_head_and_the_addresses_agree_with_a_separate_pass_on_generated_pages() {
        let head = [
            "<title>Deal \u{201C}today\u{201D}\n only</title>",
            "<title></title>",
            "<svg><title>icon</title></svg>",
            "<svg><g><title>deep icon</title></g></svg><title>after svg</title>",
            "<meta name=\"Description\" content=\" Only 2\nleft \">",
            "<meta property=\"OG:title\" content=\"caf\u{e9}\">",
            "<meta property=\"og:description\" name=\"x\" content=\"named x\">",
            "<meta name=\"og:description\">",
            "<meta name=\"keywords\" content=\"k\">",
            "<meta http-equiv=\"refresh\" content=\"0; url=next/\">",
            "<base target=\"_top\">",
            "<base href=\"https://b.example/x/\">",
            "<base href=\"sub/\">",
            "<base href=\"\">",
            "<a href=\"rel/a\">rel</a>",
            "<img src=\"i.png\" alt=\"alt text\">",
            "<head>",
            "</head>",
            "<template><title>inert</title><base href=\"https://t.example/\"></template>",
        ];
        let mut next = crate::test_support::numbers_below(0x6A09_E667_F3BC_C909);
        for index in 0..400 {
            let mut html = String::new();
            for _ in 0..next(6) {
                html.push_str(&generated_page(&mut next));
                for _ in 0..next(4) {
                    html.push_str(head[next(head.len())]);
                }
            }
            let url = (index % 3 != 0).then(|| Url::parse("https://site.example/post/").unwrap());
            let page = Page::from_html(&html, url.clone());
            let (expected, base_href) = head_by_separate_pass(&page.document);
            let count = expected.len();
            let head_blocks: Vec<_> = page.blocks.iter().take(count).map(block_parts).collect();
            let expected: Vec<_> = expected.iter().map(block_parts).collect();
            assert_eq!(head_blocks, expected, "{html:?}");
            assert!(
                page.blocks[count..]
                    .iter()
                    .all(|block| matches!(block.scope, TextScope::Text | TextScope::Alt)),
                "{html:?}"
            );
            let base = base_url(base_href.as_deref(), url.as_ref());
            assert_eq!(page.base_url, base, "{html:?}");
            for link in &page.links {
                assert_eq!(link.url, resolve_address(base.as_ref(), &link.href));
            }
            for resource in &page.resources {
                assert_eq!(
                    resource.url,
                    resolve_address(base.as_ref(), &resource.address)
                );
            }
            for refresh in &page.refreshes {
                let address = refresh.address.as_deref().unwrap_or("");
                assert_eq!(refresh.url, resolve_address(base.as_ref(), address));
            }
        }
    }

    #[test]
    fn every_element_text_is_normalised_as_its_joined_text_content() {
        let mut next = crate::test_support::numbers_below(0x2545_F491_4F6C_DD1D);
        for _ in 0..200 {
            let document = Document::parse(&generated_page(&mut next));
            for id in 0..document.nodes().len() {
                assert_eq!(
                    normalised_text(&document, id),
                    text::normalise(&document.text_content(id)),
                );
            }
        }
    }
}
