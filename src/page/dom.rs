//! The parsed HTML document: html5ever's tree builder writing into an arena, then
//! flattened into an owned, index-based tree that every detector can share.
//!
//! Each node remembers the source line the parser was on when it created the node, so
//! findings can point at the line in the file the user gave. This module knows nothing of
//! affiliate links or claims; it only parses.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::ptr;

use html5ever::interface::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, QualName, parse_document};

/// Index of a node in a [`Document`].
pub type NodeId = usize;

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// The document root (also the root of a `<template>`'s contents, which are dropped).
    Document,
    /// An element with its lower-case local name and attributes in source order.
    Element {
        /// Lower-case tag name, e.g. `a`, `iframe`.
        name: String,
        /// Attributes as (lower-case name, value) pairs.
        attrs: Vec<(String, String)>,
    },
    /// A run of character data.
    Text(String),
    /// An HTML comment (used for inline suppressions).
    Comment(String),
}

/// One node of the document tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// The parent node; `None` for the root.
    pub parent: Option<NodeId>,
    /// Children in document order.
    pub children: Vec<NodeId>,
    /// 1-based source line where the parser created this node.
    pub line: u32,
}

impl Node {
    /// The element's tag name, or `None` for a non-element.
    pub fn element_name(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Element { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The value of attribute `name` (lower case), if this is an element that has it.
    pub fn attr(&self, name: &str) -> Option<&str> {
        match &self.kind {
            NodeKind::Element { attrs, .. } => attrs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str()),
            _ => None,
        }
    }

    /// All attributes of an element (empty for other nodes).
    pub fn attrs(&self) -> &[(String, String)] {
        match &self.kind {
            NodeKind::Element { attrs, .. } => attrs,
            _ => &[],
        }
    }
}

/// A parsed HTML document: nodes in document order, the root at index 0.
#[derive(Debug, Clone)]
pub struct Document {
    nodes: Vec<Node>,
}

impl Default for Document {
    /// An empty document (just the root).
    fn default() -> Self {
        Document {
            nodes: vec![Node {
                kind: NodeKind::Document,
                parent: None,
                children: Vec::new(),
                line: 1,
            }],
        }
    }
}

impl Document {
    /// Parses `html` as the HTML standard's parser does (html5ever). Never fails: any
    /// input gives some tree.
    pub fn parse(html: &str) -> Document {
        let arena = typed_arena::Arena::new();
        let sink = ArenaSink {
            arena: &arena,
            document: arena.alloc(ArenaNode::new(ArenaData::Document, 1)),
            current_line: Cell::new(1),
        };
        let root = parse_document(sink, Default::default()).one(html);
        let mut nodes = Vec::new();
        flatten(root, None, &mut nodes);
        Document { nodes }
    }

    /// The root node's id.
    pub fn root(&self) -> NodeId {
        0
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// All nodes, in document order (a pre-order walk).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Ids of the ancestors of `id`, nearest first (not including `id`).
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let mut current = self.nodes[id].parent;
        std::iter::from_fn(move || {
            let this = current?;
            current = self.nodes[this].parent;
            Some(this)
        })
    }

    /// The concatenated text of the node and its descendants.
    pub fn text_content(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.for_each_text(id, |text| out.push_str(text));
        out
    }

    /// Calls `visit` with each text node's text under `id` (inclusive), in document
    /// order: the pieces [`Document::text_content`] joins.
    pub fn for_each_text<'d>(&'d self, id: NodeId, mut visit: impl FnMut(&'d str)) {
        let mut stack = vec![id];
        while let Some(current) = stack.pop() {
            let node = &self.nodes[current];
            if let NodeKind::Text(text) = &node.kind {
                visit(text);
            }
            stack.extend(node.children.iter().rev());
        }
    }
}

/// Copies the arena tree into the flat vector, iteratively (deep documents must not
/// overflow the stack).
fn flatten(root: &ArenaNode<'_>, parent: Option<NodeId>, nodes: &mut Vec<Node>) {
    let mut stack: Vec<(&ArenaNode<'_>, Option<NodeId>)> = vec![(root, parent)];
    while let Some((node, parent)) = stack.pop() {
        let kind = match &node.data {
            ArenaData::Document => NodeKind::Document,
            ArenaData::Element { name, attrs, .. } => NodeKind::Element {
                name: lower_case(&name.local),
                attrs: attrs
                    .borrow()
                    .iter()
                    .map(|attr| (lower_case(&attr.name.local), String::from(&*attr.value)))
                    .collect(),
            },
            ArenaData::Text(text) => NodeKind::Text(String::from(&**text.borrow())),
            ArenaData::Comment(text) => NodeKind::Comment(String::from(&**text)),
            ArenaData::Other => continue,
        };
        let id = nodes.len();
        nodes.push(Node {
            kind,
            parent,
            children: Vec::new(),
            line: node.line.get(),
        });
        if let Some(parent) = parent {
            nodes[parent].children.push(id);
        }
        let mut children = Vec::new();
        let mut child = node.first_child.get();
        while let Some(current) = child {
            children.push(current);
            child = current.next_sibling.get();
        }
        for child in children.into_iter().rev() {
            stack.push((child, Some(id)));
        }
    }
}

/// A tag or attribute name in lower case. The tokenizer already lower-cases HTML names;
/// SVG and MathML ones (`foreignObject`, `viewBox`) keep their case and are lowered here.
/// A plain copy, not `to_string()` (which goes through the formatting machinery).
fn lower_case(name: &str) -> String {
    if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
        name.to_ascii_lowercase()
    } else {
        String::from(name)
    }
}

/// Arena node used only while parsing.
struct ArenaNode<'arena> {
    parent: Cell<Option<&'arena ArenaNode<'arena>>>,
    next_sibling: Cell<Option<&'arena ArenaNode<'arena>>>,
    previous_sibling: Cell<Option<&'arena ArenaNode<'arena>>>,
    first_child: Cell<Option<&'arena ArenaNode<'arena>>>,
    last_child: Cell<Option<&'arena ArenaNode<'arena>>>,
    line: Cell<u32>,
    data: ArenaData<'arena>,
}

enum ArenaData<'arena> {
    Document,
    Element {
        name: QualName,
        attrs: RefCell<Vec<Attribute>>,
        /// For `<template>`: its inert contents, a detached fragment never flattened.
        template_contents: Option<&'arena ArenaNode<'arena>>,
    },
    Text(RefCell<StrTendril>),
    Comment(StrTendril),
    /// Processing instructions and template fragments: kept out of the output.
    Other,
}

impl<'arena> ArenaNode<'arena> {
    fn new(data: ArenaData<'arena>, line: u32) -> Self {
        ArenaNode {
            parent: Cell::new(None),
            next_sibling: Cell::new(None),
            previous_sibling: Cell::new(None),
            first_child: Cell::new(None),
            last_child: Cell::new(None),
            line: Cell::new(line),
            data,
        }
    }

    fn detach(&self) {
        let parent = self.parent.take();
        let previous = self.previous_sibling.take();
        let next = self.next_sibling.take();
        match next {
            Some(next) => next.previous_sibling.set(previous),
            None => {
                if let Some(parent) = parent {
                    parent.last_child.set(previous);
                }
            }
        }
        match previous {
            Some(previous) => previous.next_sibling.set(next),
            None => {
                if let Some(parent) = parent {
                    parent.first_child.set(next);
                }
            }
        }
    }

    fn append(&'arena self, child: &'arena Self) {
        child.detach();
        child.parent.set(Some(self));
        match self.last_child.take() {
            Some(last) => {
                child.previous_sibling.set(Some(last));
                last.next_sibling.set(Some(child));
            }
            None => self.first_child.set(Some(child)),
        }
        self.last_child.set(Some(child));
    }

    fn insert_before(&'arena self, sibling: &'arena Self) {
        sibling.detach();
        sibling.parent.set(self.parent.get());
        sibling.next_sibling.set(Some(self));
        match self.previous_sibling.take() {
            Some(previous) => {
                sibling.previous_sibling.set(Some(previous));
                previous.next_sibling.set(Some(sibling));
            }
            None => {
                if let Some(parent) = self.parent.get() {
                    parent.first_child.set(Some(sibling));
                }
            }
        }
        self.previous_sibling.set(Some(sibling));
    }
}

struct ArenaSink<'arena> {
    arena: &'arena typed_arena::Arena<ArenaNode<'arena>>,
    document: &'arena ArenaNode<'arena>,
    current_line: Cell<u32>,
}

impl<'arena> ArenaSink<'arena> {
    fn new_node(&self, data: ArenaData<'arena>) -> &'arena ArenaNode<'arena> {
        self.arena
            .alloc(ArenaNode::new(data, self.current_line.get()))
    }

    fn append_common(
        &self,
        child: NodeOrText<&'arena ArenaNode<'arena>>,
        previous: Option<&'arena ArenaNode<'arena>>,
        insert: impl FnOnce(&'arena ArenaNode<'arena>),
    ) {
        let node = match child {
            NodeOrText::AppendText(text) => {
                if let Some(ArenaNode {
                    data: ArenaData::Text(contents),
                    ..
                }) = previous
                {
                    contents.borrow_mut().push_tendril(&text);
                    return;
                }
                // The tokenizer reports the line where a character run ends; count back
                // over the run's own newlines to get the line where it starts.
                let newlines = text.bytes().filter(|byte| *byte == b'\n').count() as u32;
                let node = self.new_node(ArenaData::Text(RefCell::new(text)));
                let start = node.line.get().saturating_sub(newlines).max(1);
                node.line.set(start);
                node
            }
            NodeOrText::AppendNode(node) => node,
        };
        insert(node)
    }
}

impl<'arena> TreeSink for ArenaSink<'arena> {
    type Handle = &'arena ArenaNode<'arena>;
    type Output = &'arena ArenaNode<'arena>;
    type ElemName<'a>
        = &'a QualName
    where
        Self: 'a;

    fn finish(self) -> Self::Output {
        self.document
    }

    fn parse_error(&self, _message: Cow<'static, str>) {}

    fn get_document(&self) -> Self::Handle {
        self.document
    }

    fn elem_name<'a>(&'a self, target: &'a Self::Handle) -> Self::ElemName<'a> {
        match &target.data {
            ArenaData::Element { name, .. } => name,
            // The tree builder only asks for element names; answer something harmless
            // rather than panic if that ever changes.
            _ => &PLACEHOLDER_NAME,
        }
    }

    fn create_element(
        &self,
        name: QualName,
        attrs: Vec<Attribute>,
        flags: ElementFlags,
    ) -> Self::Handle {
        let template_contents = flags.template.then(|| self.new_node(ArenaData::Other));
        self.new_node(ArenaData::Element {
            name,
            attrs: RefCell::new(attrs),
            template_contents,
        })
    }

    fn create_comment(&self, text: StrTendril) -> Self::Handle {
        self.new_node(ArenaData::Comment(text))
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Self::Handle {
        self.new_node(ArenaData::Other)
    }

    fn append(&self, parent: &Self::Handle, child: NodeOrText<Self::Handle>) {
        let parent = *parent;
        self.append_common(child, parent.last_child.get(), |node| parent.append(node))
    }

    fn append_based_on_parent_node(
        &self,
        element: &Self::Handle,
        prev_element: &Self::Handle,
        child: NodeOrText<Self::Handle>,
    ) {
        if element.parent.get().is_some() {
            self.append_before_sibling(element, child)
        } else {
            self.append(prev_element, child)
        }
    }

    fn append_doctype_to_document(
        &self,
        _name: StrTendril,
        _public_id: StrTendril,
        _system_id: StrTendril,
    ) {
    }

    fn get_template_contents(&self, target: &Self::Handle) -> Self::Handle {
        // Template contents are inert (never rendered): they go into a detached node
        // that is not part of the flattened document.
        match &target.data {
            ArenaData::Element {
                template_contents: Some(contents),
                ..
            } => contents,
            _ => self.new_node(ArenaData::Other),
        }
    }

    fn same_node(&self, x: &Self::Handle, y: &Self::Handle) -> bool {
        ptr::eq::<ArenaNode<'_>>(*x, *y)
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Self::Handle, new_node: NodeOrText<Self::Handle>) {
        let sibling = *sibling;
        self.append_common(new_node, sibling.previous_sibling.get(), |node| {
            sibling.insert_before(node)
        })
    }

    fn add_attrs_if_missing(&self, target: &Self::Handle, attrs: Vec<Attribute>) {
        if let ArenaData::Element {
            attrs: existing, ..
        } = &target.data
        {
            let mut existing = existing.borrow_mut();
            let names: HashSet<QualName> = existing.iter().map(|attr| attr.name.clone()).collect();
            existing.extend(attrs.into_iter().filter(|attr| !names.contains(&attr.name)));
        }
    }

    fn remove_from_parent(&self, target: &Self::Handle) {
        target.detach()
    }

    fn reparent_children(&self, node: &Self::Handle, new_parent: &Self::Handle) {
        let mut child = node.first_child.get();
        while let Some(current) = child {
            child = current.next_sibling.get();
            new_parent.append(current)
        }
    }

    fn set_current_line(&self, line_number: u64) {
        self.current_line
            .set(u32::try_from(line_number).unwrap_or(u32::MAX));
    }
}

static PLACEHOLDER_NAME: std::sync::LazyLock<QualName> = std::sync::LazyLock::new(|| {
    QualName::new(None, html5ever::ns!(html), html5ever::local_name!("span"))
});

#[cfg(test)]
mod tests {
    use super::*;

    fn find_element<'a>(document: &'a Document, name: &str) -> &'a Node {
        document
            .nodes()
            .iter()
            .find(|node| node.element_name() == Some(name))
            .expect("element present")
    }

    #[test]
    fn records_source_lines_of_elements_and_text() {
        let html = "<!doctype html>\n<html>\n<body>\n<p>first\nsecond</p>\n\n<a href=\"x\">link</a>\n</body></html>";
        let document = Document::parse(html);
        assert_eq!(find_element(&document, "p").line, 4);
        assert_eq!(find_element(&document, "a").line, 7);
        let text = document
            .nodes()
            .iter()
            .find(|node| matches!(&node.kind, NodeKind::Text(text) if text.starts_with("first")))
            .expect("text node");
        assert_eq!(text.line, 4);
    }

    #[test]
    fn lower_cases_tags_and_attributes() {
        let document = Document::parse("<IFRAME SRC='u' WIDTH=0></IFRAME>");
        let iframe = find_element(&document, "iframe");
        assert_eq!(iframe.attr("src"), Some("u"));
        assert_eq!(iframe.attr("width"), Some("0"));
    }

    #[test]
    fn template_contents_are_not_in_the_document() {
        let document = Document::parse("<template><p>inert</p></template><p>live</p>");
        let texts: Vec<String> = document
            .nodes()
            .iter()
            .filter_map(|node| match &node.kind {
                NodeKind::Text(text) => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["live".to_string()]);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(5_000);
        let document = Document::parse(&html);
        assert!(document.nodes().len() > 5_000);
    }
}
