//! The visibility model: which elements of a page a reader cannot see, and why.
//!
//! Detectors ask it whether an element that loads an affiliate URL, or a piece of text,
//! is hidden (cookie stuffing, hidden claims). It reads what a browser would read from the
//! page itself: the `hidden` attribute, `width`/`height` attributes, inline `style=""`
//! declarations and `<style>` blocks (parsed with `simplecss`), applies the CSS cascade
//! (`!important`, origin, specificity, source order) and inheritance, and names one
//! [`HiddenReason`] per hidden node. It does not judge anything: detectors decide what a
//! hidden element means.
//!
//! # What counts as hidden
//! - the `hidden` attribute, unless an author `display` value overrides it (browsers show
//!   `<div hidden style="display:block">`); `<input type=hidden>` always;
//! - `display:none`; `visibility:hidden|collapse`; `opacity` of 0.01 or less, also when
//!   the opacities of nested elements multiply to that;
//! - a width or height of 0-1px from the `width`/`height` attributes of embedded content
//!   (`iframe`, `img`, `embed`, `object`, `video`, `canvas`, `svg`, `input type=image`) or
//!   from CSS `width`/`height`/`max-width`/`max-height` (a `min-*` above 1px undoes it).
//!   For replaced elements (frames, images...) that is enough; other elements only lose
//!   their content when they also clip it (`overflow` other than `visible`) and have no
//!   padding in that direction, since `height:0` alone lets content overflow visibly
//!   (the common `height:0; padding-bottom:56%` video wrapper is not hidden);
//! - off-screen: `position:absolute|fixed|relative` with `left`/`top` (or `right`/`bottom`
//!   when the opposite side is `auto`) at -1000px or beyond, `margin-left` at -1000px or
//!   beyond, `text-indent` at -999px or beyond, a `translate` of -1000px or beyond;
//! - clipped: `clip: rect(...)` with no area on an absolutely positioned element,
//!   `clip-path` `inset()` of 50% or more per axis, `circle(0)`, `ellipse(0 ...)`,
//!   `rect()`/`xywh()` with no area;
//! - scaled to zero: `transform` `scale(0)`, `scaleX(0)`, `scale3d(0, ...)`, a matrix
//!   with no area, the `scale` property (factors of 0.01 or less).
//!
//! Inline non-replaced boxes (a plain `<span>`, `<a>`) ignore sizes, transforms and
//! `text-indent`, as browsers do, unless `position:absolute|fixed`, `float` or a flex or
//! grid parent turns them into blocks.
//!
//! A node is hidden when it or any ancestor is. The one exception is `visibility`, which
//! is inherited: a child that sets `visibility:visible` inside a `visibility:hidden`
//! parent is shown (still hidden by any other reason of its ancestors).
//!
//! # Cascade and selectors
//! Presentational hints (`width="0"`) come first, then `<style>` rules by specificity and
//! source order, then inline styles; `!important` stylesheet declarations beat inline
//! ones and inline `!important` beats everything. Declarations a browser would drop
//! (`display:blah`) do not take part; values we cannot evaluate (`calc()` of mixed units,
//! `var()`) take part and count as not hiding. Selectors are what `simplecss` tokenizes:
//! type, universal, `#id`, `.class`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr|=v]`,
//! descendant, `>` and `+` combinators, `:first-child`, `:lang()`, plus `:last-child`,
//! `:only-child`, `:root`, `:empty`, `:link`/`:any-link`; state pseudo-classes
//! (`:hover`, `:focus`...) never match. CSS escapes (`.md\:block`) are decoded. A selector
//! we cannot parse (`:not()`, `:nth-child()`, `~`, `^=`, pseudo-elements) is dropped on
//! its own; the rest of its selector list still applies. Type selectors are
//! case-insensitive, classes and ids case-sensitive (standards mode).
//!
//! `@media` blocks and `<style media>` apply when a query names `screen` or `all` or no
//! media type (`print`, `speech`, `not screen` do not); media features such as
//! `(max-width: 600px)` are not evaluated: every such block applies, as if the page were
//! read at every width at once and later rules win. `@layer` blocks apply in source
//! order (layer precedence is not modelled). `@supports`, `@container`, `@keyframes`,
//! `@font-face` and every other at-rule are skipped whole, braces and all.
//!
//! # Limits (hostile pages)
//! The walk is iterative (100,000 nested elements are fine), at most [`MAX_RULES`]
//! selectors that set a property we track are kept, `@media` nesting is followed
//! [`MAX_AT_RULE_DEPTH`] levels deep, selectors of more than [`MAX_COMPOUNDS`] parts are
//! dropped, and selector matching stops after [`MAX_MATCH_STEPS`] steps (later nodes then
//! only see attributes and inline styles); [`Visibility::is_incomplete`] says when a cap
//! was hit. Rules are indexed by the id, class, tag or attribute name of their rightmost
//! part, so an element only tries the rules that could match it, and a count of the ids,
//! classes, tags and attribute names of the current ancestors rejects most descendant
//! selectors without walking up the tree. Matching a selector is linear in the depth of
//! the tree (Servo's early-exit scheme), never exponential.
//!
//! # Out of reach
//! - computed layout: elements pushed off-screen or covered by their parents' sizes,
//!   `overflow:hidden` ancestors smaller than their content, z-index stacking behind other
//!   elements, percentages and viewport sizes (`vw`/`vh` count as 10px, `em`/`rem` as
//!   16px), media features;
//! - colour on colour, `font-size:0`, `content-visibility`, closed `<details>` and
//!   `<dialog>`, `<noscript>`, elements a browser never renders (`<head>`, `<script>`);
//! - CSS from external stylesheets (`<link rel=stylesheet>`, `@import`), CSS variables,
//!   CSS nesting, `@supports` and `@container` conditions, cascade layers' precedence;
//! - `:not()`, `:is()`, `:nth-child()` and other pseudo-classes `simplecss` cannot parse,
//!   sibling combinator `~`, substring attribute selectors, quirks-mode case-insensitive
//!   classes;
//! - styles set by scripts.

use std::borrow::Cow;
use std::collections::HashMap;

/// The rule index's symbol table: names borrowed from the rules' selectors, each with
/// its interned number. Hashed with foldhash (seeded per process, so a hostile page
/// cannot choose colliding names ahead of time; its key count is bounded by
/// `MAX_RULES` anyway), which costs a fraction of std's SipHash on short names.
type SymbolMap<'r> = HashMap<&'r str, u32, foldhash::fast::RandomState>;
use std::collections::hash_map::Entry;
use std::fmt::{self, Write as _};
use std::ops::Range;

use simplecss::{AttributeOperator, DeclarationTokenizer, SelectorToken, SelectorTokenizer};

use super::dom::{Document, Node, NodeId, NodeKind};

/// At most this many selectors (each selector of a selector list counts once) that set a
/// property this module reads are kept from a page's `<style>` blocks; the rest are
/// ignored and [`Visibility::is_incomplete`] is set.
pub const MAX_RULES: usize = 10_000;

/// Selector matching gives up after this many steps (a step is one compound selector
/// tested against one element, or one ancestor filter check); from then on only
/// attributes and inline styles count.
pub const MAX_MATCH_STEPS: u64 = 20_000_000;

/// `@media`/`@layer` blocks nested deeper than this are skipped.
pub const MAX_AT_RULE_DEPTH: usize = 8;

/// Selectors with more compound parts than this (`a b c ...`) are dropped.
pub const MAX_COMPOUNDS: usize = 32;

/// Opacity at or below this hides (0.01, with room for rounding of products).
const OPACITY_LIMIT: f64 = 0.01 + 1e-9;

/// A scale factor at or below this (in absolute value) hides.
const SCALE_LIMIT: f64 = 0.01 + 1e-9;

/// Offsets at or beyond this many pixels to the left or top put a box off-screen.
const OFF_SCREEN_PX: f64 = -1000.0;

/// `text-indent` at or beyond this pushes text off-screen.
const TEXT_INDENT_PX: f64 = -999.0;

/// Why an element is hidden from a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HiddenReason {
    /// The `hidden` attribute (not overridden by an author `display`), or
    /// `<input type=hidden>`.
    HiddenAttribute,
    /// `display:none`.
    DisplayNone,
    /// `visibility:hidden` or `visibility:collapse`.
    VisibilityHidden,
    /// `opacity` of 0.01 or less (on the element, or multiplied down nested elements).
    OpacityZero,
    /// A width or height of 0-1px, from attributes or CSS.
    ZeroSize,
    /// Positioned, indented or translated 1000px or more off the page.
    OffScreen,
    /// Clipped to nothing (`clip: rect(0 0 0 0)`, `clip-path: inset(50%)`, `circle(0)`).
    Clipped,
    /// Transformed to nothing (`transform: scale(0)`, `scaleX(0)`, the `scale` property).
    ScaledToZero,
}

impl HiddenReason {
    /// A short description for messages, e.g. `display:none`.
    pub fn describe(&self) -> &'static str {
        match self {
            HiddenReason::HiddenAttribute => "hidden attribute",
            HiddenReason::DisplayNone => "display:none",
            HiddenReason::VisibilityHidden => "visibility:hidden",
            HiddenReason::OpacityZero => "opacity:0",
            HiddenReason::ZeroSize => "zero size (0-1px)",
            HiddenReason::OffScreen => "positioned off-screen",
            HiddenReason::Clipped => "clipped to nothing",
            HiddenReason::ScaledToZero => "scaled to zero",
        }
    }
}

impl fmt::Display for HiddenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Which nodes of one [`Document`] a reader cannot see, and why; computed once per page.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// Per node: why it is hidden.
    reasons: Vec<NodeReasons>,
    /// True when a cap on rules or matching work was hit.
    incomplete: bool,
}

/// Why one node is hidden.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct NodeReasons {
    /// Why the node itself is hidden.
    own: Option<HiddenReason>,
    /// The nearest reason, the node's own or an ancestor's.
    hidden: Option<HiddenReason>,
}

/// A node of the walk's chain of ancestors.
struct Ancestor {
    id: NodeId,
    /// Where its symbols start in the walk's stack of symbols.
    symbols: usize,
    state: NodeState,
}

impl Visibility {
    /// Computes the visibility of every node of `document`. Never panics, whatever the
    /// markup or CSS; its cost is bounded by the caps in the module documentation.
    pub fn compute(document: &Document) -> Visibility {
        Visibility::compute_within(document, MAX_MATCH_STEPS)
    }

    /// [`Visibility::compute`] with a matching budget of `budget` steps.
    fn compute_within(document: &Document, budget: u64) -> Visibility {
        let nodes = document.nodes();
        let sheet = Sheet::collect(document);
        let index = RuleIndex::new(&sheet.rules, &sheet.selectors);
        // Sibling tables cost a pass over the document: made only when a rule reads them.
        let siblings = if sheet
            .rules
            .iter()
            .any(|rule| sheet.selectors.reads_siblings(&rule.selector))
        {
            Siblings::new(document)
        } else {
            Siblings::none()
        };
        let mut matcher = Matcher {
            nodes,
            siblings: &siblings,
            selectors: &sheet.selectors,
            budget,
        };
        let mut reasons: Vec<NodeReasons> = Vec::with_capacity(nodes.len());
        // The chain of ancestors, each with its state and where its symbols start in
        // `symbol_stack` (one flat vector for every ancestor's symbols, not a vector each).
        let mut ancestors: Vec<Ancestor> = Vec::new();
        let mut symbol_stack: Vec<u32> = Vec::new();
        // One count more than there are symbols: the last, always 1, is the
        // [`Candidate::first`] of rules that need no ancestor.
        let mut counts = vec![0u32; index.symbol_count() + 1];
        if let Some(always) = counts.last_mut() {
            *always = 1;
        }
        // The hints and inline declarations of the current element (memory reused).
        let mut own_declarations = Declarations::default();
        let mut tags = TagCache::default();
        for (id, node) in nodes.iter().enumerate() {
            // Keep `ancestors` the chain from the root to this node's parent (nodes come
            // in document order, so the parent is always on the stack, and on top once
            // the nodes that are not its ancestors are gone).
            while ancestors
                .last()
                .is_some_and(|top| Some(top.id) != node.parent)
            {
                if let Some(top) = ancestors.pop() {
                    for symbol in symbol_stack.drain(top.symbols.min(symbol_stack.len())..) {
                        if let Some(count) = counts.get_mut(symbol as usize) {
                            *count = count.saturating_sub(1);
                        }
                    }
                }
            }
            let parent = ancestors.last().map_or(&NodeState::ROOT, |top| &top.state);
            let from = symbol_stack.len();
            let state = match &node.kind {
                NodeKind::Element { name, .. } => {
                    let attributes = WalkAttributes::of(node);
                    index.node_symbols(node, &attributes, &mut tags, &mut symbol_stack);
                    let symbols = &symbol_stack[from..];
                    own_declarations.clear();
                    let hints = presentational_hints(node, name, &mut own_declarations);
                    let inline = attributes
                        .style
                        .map(|style| own_declarations.parse_list(&strip_comments(style)))
                        .unwrap_or_default();
                    // Made on the first declaration that applies: most elements have none.
                    let mut style: Option<Style> = None;
                    if !hints.is_empty() {
                        let hints = own_declarations.iter(hints);
                        for (position, (declaration, value)) in hints.enumerate() {
                            style.get_or_insert_default().apply(
                                declaration,
                                value,
                                Priority::hint(position),
                            );
                        }
                    }
                    // The rules that could match: those keyed by one of the element's
                    // symbols, then those with no key.
                    let (keys, universal) = if matcher.budget > 0 {
                        (symbols, index.universal.as_slice())
                    } else {
                        (&[][..], &[][..])
                    };
                    let runs = keys
                        .iter()
                        .map(|&symbol| index.keyed_by(symbol))
                        .chain([universal]);
                    // Candidates turned away by their first required ancestor symbol
                    // (most of them: every `#wN > p` on each `<p>`) cost one load each;
                    // the step each would have spent is spent in bulk before the next
                    // candidate that gets further (or at the end), which leaves the
                    // budget, and what it allows, as one step per candidate would.
                    let mut skipped = 0u64;
                    for run in runs {
                        for candidate in run {
                            if counts
                                .get(candidate.first as usize)
                                .is_none_or(|count| *count == 0)
                            {
                                skipped += 1;
                                continue;
                            }
                            let steps = skipped + 1;
                            skipped = 0;
                            if !matcher.ancestors_may_match_spending(
                                steps,
                                index.required(candidate),
                                &counts,
                            ) {
                                continue;
                            }
                            let Some(rule) = sheet.rules.get(candidate.rule as usize) else {
                                continue;
                            };
                            if !matcher.matches(&rule.selector, id) {
                                continue;
                            }
                            let block = sheet.declarations.iter(rule.block.clone());
                            for (position, (declaration, value)) in block.enumerate() {
                                let priority =
                                    Priority::rule(declaration.important, rule, position);
                                style
                                    .get_or_insert_default()
                                    .apply(declaration, value, priority);
                            }
                        }
                    }
                    matcher.spend(skipped);
                    if !inline.is_empty() {
                        let inline = own_declarations.iter(inline);
                        for (position, (declaration, value)) in inline.enumerate() {
                            let priority = Priority::inline(declaration, position);
                            style
                                .get_or_insert_default()
                                .apply(declaration, value, priority);
                        }
                    }
                    match style {
                        // Most elements: no CSS at all, nothing to read (a test checks
                        // that `interpret` says the same).
                        None if !may_hide_without_css(name, attributes.hidden) => {
                            parent.inherited()
                        }
                        style => NodeState::combine(
                            &interpret(
                                node,
                                name,
                                &style.unwrap_or_default(),
                                parent.blockifies_children,
                            ),
                            parent,
                        ),
                    }
                }
                // Text, comments, the document: no styles of their own.
                _ => parent.inherited(),
            };
            reasons.push(NodeReasons {
                own: state.own,
                hidden: state.hidden,
            });
            // Only a node whose next node is its child goes on `ancestors`: any other
            // (text, most leaves) would be popped again at the next node, its symbols
            // uncounted, before anything read them.
            if nodes
                .get(id + 1)
                .is_some_and(|next| next.parent == Some(id))
            {
                for &symbol in &symbol_stack[from..] {
                    if let Some(count) = counts.get_mut(symbol as usize) {
                        *count = count.saturating_add(1);
                    }
                }
                ancestors.push(Ancestor {
                    id,
                    symbols: from,
                    state,
                });
            } else {
                symbol_stack.truncate(from);
            }
        }
        Visibility {
            reasons,
            incomplete: sheet.truncated || matcher.budget == 0,
        }
    }

    /// Why this node itself is hidden (own attributes, inline style, `<style>` rules), if
    /// it is. An inherited `visibility:hidden` is not the node's own reason.
    pub fn own_reason(&self, id: NodeId) -> Option<HiddenReason> {
        self.reasons.get(id).and_then(|reasons| reasons.own)
    }

    /// Why this node is hidden, itself or through an ancestor (the nearest reason), if it
    /// is. A node that sets `visibility:visible` escapes its ancestors'
    /// `visibility:hidden`, but no other ancestor reason.
    pub fn hidden_reason(&self, id: NodeId) -> Option<HiddenReason> {
        self.reasons.get(id).and_then(|reasons| reasons.hidden)
    }

    /// True when the node, or an ancestor, is hidden from a reader.
    pub fn is_hidden(&self, id: NodeId) -> bool {
        self.hidden_reason(id).is_some()
    }

    /// True when the page hit a cap ([`MAX_RULES`], [`MAX_MATCH_STEPS`]) and some
    /// stylesheet rules were not applied: a hidden element may be reported visible.
    pub fn is_incomplete(&self) -> bool {
        self.incomplete
    }
}

// ---------------------------------------------------------------------------------------
// Per-node results and inheritance
// ---------------------------------------------------------------------------------------

/// What a node's own attributes and styles say.
struct Own {
    /// The node's own reason, `visibility` included.
    reason: Option<HiddenReason>,
    /// The node's own reason, `visibility` left out (the reasons children cannot undo).
    structural: Option<HiddenReason>,
    /// The node's `visibility`, as specified.
    visibility: VisibilitySpec,
    /// The node's own opacity, 0 to 1.
    opacity: f64,
    /// True when the node is a flex or grid container (its children become blocks).
    blockifies_children: bool,
}

impl Own {
    /// A node without styles (text, comments, the document); the walk gives such nodes
    /// [`NodeState::inherited`] instead, which a test checks is the same.
    #[cfg(test)]
    const NONE: Own = Own {
        reason: None,
        structural: None,
        visibility: VisibilitySpec::Inherit,
        opacity: 1.0,
        blockifies_children: false,
    };
}

/// A specified `visibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VisibilitySpec {
    /// `visible` or `initial`.
    Visible,
    /// `hidden` or `collapse`.
    Hidden,
    /// Not set, `inherit`, `unset`, or something we cannot evaluate.
    Inherit,
}

/// What is known of a node once its ancestors are done.
#[derive(Debug, Clone, Copy)]
struct NodeState {
    /// The node's own reason.
    own: Option<HiddenReason>,
    /// The nearest reason, own or inherited.
    hidden: Option<HiddenReason>,
    /// The nearest reason that a child's `visibility:visible` cannot undo.
    structural: Option<HiddenReason>,
    /// The computed `visibility` is `hidden`.
    visibility_hidden: bool,
    /// The product of the opacities from the root to this node.
    opacity: f64,
    /// The node is a flex or grid container.
    blockifies_children: bool,
}

impl NodeState {
    /// The state above the root.
    const ROOT: NodeState = NodeState {
        own: None,
        hidden: None,
        structural: None,
        visibility_hidden: false,
        opacity: 1.0,
        blockifies_children: false,
    };

    /// The state of a node without styles (what [`NodeState::combine`] gives a node whose
    /// own attributes and styles say nothing).
    fn inherited(&self) -> NodeState {
        NodeState {
            own: None,
            blockifies_children: false,
            ..*self
        }
    }

    /// The state of a node from its own styles and its parent's state.
    fn combine(own: &Own, parent: &NodeState) -> NodeState {
        let visibility_hidden = match own.visibility {
            VisibilitySpec::Hidden => true,
            VisibilitySpec::Visible => false,
            VisibilitySpec::Inherit => parent.visibility_hidden,
        };
        let opacity = parent.opacity * own.opacity;
        // Opacities multiply: 0.1 inside 0.1 is as invisible as 0.01.
        let faded = (opacity <= OPACITY_LIMIT && parent.opacity > OPACITY_LIMIT)
            .then_some(HiddenReason::OpacityZero);
        let structural = own.structural.or(faded).or(parent.structural);
        let hidden = own.reason.or(faded).or({
            if own.visibility == VisibilitySpec::Visible && parent.visibility_hidden {
                // The one inheritance a child can undo: `visibility:visible` inside
                // `visibility:hidden` is shown, unless something else hides it.
                parent.structural
            } else {
                parent.hidden
            }
        });
        NodeState {
            own: own.reason,
            hidden,
            structural,
            visibility_hidden,
            opacity,
            blockifies_children: own.blockifies_children,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties, declarations and the cascade
// ---------------------------------------------------------------------------------------

/// The CSS properties (longhands) this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    Display,
    Visibility,
    Opacity,
    Position,
    Float,
    Width,
    Height,
    MinWidth,
    MinHeight,
    MaxWidth,
    MaxHeight,
    Top,
    Right,
    Bottom,
    Left,
    MarginLeft,
    TextIndent,
    Clip,
    ClipPath,
    Transform,
    Translate,
    Scale,
    OverflowX,
    OverflowY,
    PaddingTop,
    PaddingRight,
    PaddingBottom,
    PaddingLeft,
}

/// Number of [`Property`] variants.
const PROPERTY_COUNT: usize = 28;
const _: () = assert!(Property::PaddingLeft as usize + 1 == PROPERTY_COUNT);
// `keep_winners` gives each (property, importance) one bit of a `u64`.
const _: () = assert!(PROPERTY_COUNT * 2 <= 64);

/// One declaration of a tracked longhand. Its value, lower-cased, is the range `value` of
/// the [`Declarations`] it was read into.
#[derive(Debug, Clone)]
struct Declaration {
    property: Property,
    value: Range<usize>,
    important: bool,
}

/// Declarations of one or more blocks, their values side by side in one string (no
/// allocation per value).
#[derive(Debug, Default)]
struct Declarations {
    /// The declarations, block after block.
    items: Vec<Declaration>,
    /// The lower-cased values; each declaration names its range.
    values: String,
}

impl Declarations {
    /// Forgets every declaration, keeping the memory.
    fn clear(&mut self) {
        self.items.clear();
        self.values.clear();
    }

    /// The declarations of `range` (as returned by the `parse_list` and `push` calls that
    /// added them), each with its value.
    fn iter(&self, range: Range<usize>) -> impl Iterator<Item = (&Declaration, &str)> {
        self.items
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|declaration| {
                let value = self.values.get(declaration.value.clone()).unwrap_or("");
                (declaration, value)
            })
    }

    /// Reads a declaration list (`a:b; c:d !important`) and appends its tracked longhands.
    /// Comments must already be gone. Returns the range of the appended declarations:
    /// only the last declaration of each property (per importance) can win, so only those
    /// are kept, which bounds the work per matched element whatever the block's length.
    fn parse_list(&mut self, text: &str) -> Range<usize> {
        let start = self.items.len();
        let mut position = 0;
        while position <= text.len() {
            let scan = scan_declaration(text, position);
            let chunk = &text[position..scan.stop];
            // Quotes and escapes hide bytes from the scan: then the chunk is searched whole.
            let (brace, colon, escaped) = if scan.unusual {
                (chunk.contains('{'), chunk.find(':'), chunk.contains('\\'))
            } else {
                (scan.brace, scan.colon.map(|colon| colon - position), false)
            };
            position = scan.stop + 1;
            // A nested rule (CSS nesting) is not a declaration.
            if brace {
                continue;
            }
            match quick_declaration(chunk, colon, escaped) {
                Quick::NotTracked => {}
                Quick::Read(name, value, important) => self.push(name, value, important),
                Quick::Unsure => {
                    if let Some((name, value, important)) = parse_declaration(chunk) {
                        self.push(name, &value, important);
                    }
                }
            }
        }
        self.keep_winners(start);
        start..self.items.len()
    }

    /// Appends the valid longhands of one declaration of a [`TRACKED`] name.
    fn push(&mut self, name: &str, value: &str, important: bool) {
        let from = self.values.len();
        self.values.push_str(value);
        let lowered = &mut self.values[from..];
        lowered.make_ascii_lowercase();
        let lowered = &self.values[from..];
        for (property, range) in expand(name, lowered).iter() {
            if is_valid(property, &lowered[range.clone()]) {
                self.items.push(Declaration {
                    property,
                    value: from + range.start..from + range.end,
                    important,
                });
            }
        }
    }

    /// Drops every declaration from `start` on that a later one of the same property and
    /// importance overrides, keeping the order of the others.
    fn keep_winners(&mut self, start: usize) {
        // Most blocks set each property once: nothing to drop, found with one bit per
        // (property, importance) instead of the table below.
        let mut seen = 0u64;
        let mut repeated = false;
        for declaration in self.items.iter().skip(start) {
            let bit =
                1u64 << (declaration.property as usize * 2 + usize::from(declaration.important));
            repeated |= seen & bit != 0;
            seen |= bit;
        }
        if !repeated {
            return;
        }
        let mut last = [[usize::MAX; 2]; PROPERTY_COUNT];
        for (index, declaration) in self.items.iter().enumerate().skip(start) {
            last[declaration.property as usize][usize::from(declaration.important)] = index;
        }
        let mut kept = start;
        for index in start..self.items.len() {
            let declaration = &self.items[index];
            if last[declaration.property as usize][usize::from(declaration.important)] == index {
                self.items.swap(kept, index);
                kept += 1;
            }
        }
        self.items.truncate(kept);
    }

    /// Removes everything from `items` and `values` on (undoes the last additions).
    fn truncate(&mut self, items: usize, values: usize) {
        self.items.truncate(items);
        self.values.truncate(values);
    }
}

/// Where a declaration stands in the cascade; the greatest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Priority {
    important: bool,
    inline: bool,
    specificity: [u32; 3],
    order: u32,
    position: usize,
}

impl Priority {
    /// A presentational hint (`width="0"`): below every author rule.
    fn hint(position: usize) -> Priority {
        Priority {
            important: false,
            inline: false,
            specificity: [0; 3],
            order: 0,
            position,
        }
    }

    /// A declaration of a stylesheet rule.
    fn rule(important: bool, rule: &StyleRule, position: usize) -> Priority {
        Priority {
            important,
            inline: false,
            specificity: rule.selector.specificity,
            order: rule.order,
            position,
        }
    }

    /// A declaration of the `style` attribute.
    fn inline(declaration: &Declaration, position: usize) -> Priority {
        Priority {
            important: declaration.important,
            inline: true,
            specificity: [0; 3],
            order: 0,
            position,
        }
    }
}

/// The winning value of each tracked property for one element.
#[derive(Default)]
struct Style<'a> {
    slots: [Option<(Priority, &'a str)>; PROPERTY_COUNT],
}

impl<'a> Style<'a> {
    fn apply(&mut self, declaration: &Declaration, value: &'a str, priority: Priority) {
        let slot = &mut self.slots[declaration.property as usize];
        if slot.is_none_or(|(current, _)| priority >= current) {
            *slot = Some((priority, value));
        }
    }

    fn get(&self, property: Property) -> Option<&'a str> {
        self.slots[property as usize].map(|(_, value)| value)
    }
}

/// Parses a declaration list into tracked longhands (see [`Declarations::parse_list`]).
#[cfg(test)]
fn parse_declaration_list(text: &str) -> Vec<Declaration> {
    let mut declarations = Declarations::default();
    declarations.parse_list(text);
    declarations.items
}

/// What [`quick_declaration`] made of one declaration.
#[derive(Debug, PartialEq)]
enum Quick<'t> {
    /// Malformed, or a property we do not read: nothing to keep.
    NotTracked,
    /// (name from [`TRACKED`], value as written, important).
    Read(&'static str, &'t str, bool),
    /// Escapes, strings or other characters only [`parse_declaration`] reads right.
    Unsure,
}

/// Reads one declaration without allocating, when that is sure to give what
/// [`parse_declaration`] gives: the text has no escapes, and the part that `simplecss`
/// would read is plain ASCII (letters, digits, spaces and `-_.,%#+():`), for which its
/// verdict comes down to [`simplecss_reads_a_term`]. `colon` is where the chunk's first
/// `:` is, `escaped` whether it has a `\` (the caller knows both from its scan).
fn quick_declaration(chunk: &str, colon: Option<usize>, escaped: bool) -> Quick<'_> {
    if escaped {
        return Quick::Unsure;
    }
    // The first colon of the chunk ends the name (a trailing `!important` has none).
    let Some(colon) = colon else {
        return Quick::NotTracked;
    };
    // Most declarations (`color`, `font`...) name a property we do not read: they are
    // refused here, before anything else is looked at.
    let Some(name) = tracked_name(trim(&chunk[..colon])) else {
        return Quick::NotTracked;
    };
    let text = trim(chunk);
    let (body, important) = split_important(text);
    if !body.bytes().all(|byte| PLAIN[usize::from(byte)]) {
        return Quick::Unsure;
    }
    let Some(colon) = body.find(':') else {
        return Quick::Unsure;
    };
    let value = &body[colon + 1..];
    if !simplecss_reads_a_term(value) {
        return Quick::NotTracked;
    }
    let value = value.trim();
    if value.is_empty() {
        return Quick::NotTracked;
    }
    Quick::Read(name, value, important)
}

/// The bytes [`quick_declaration`] reads itself: ASCII letters, digits, spaces and
/// `-_.,%#+():`.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let others = b" \t\n\r\x0c-_.,%#+():";
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let mut index = 0;
    while index < others.len() {
        table[others[index] as usize] = true;
        index += 1;
    }
    table
};

/// What [`scan_declaration`] saw of one declaration of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeclarationScan {
    /// Where the declaration ends: what `scan_until(text, start, b";")` gives.
    stop: usize,
    /// The first `:` outside strings (an index into the whole text).
    colon: Option<usize>,
    /// A `{` outside strings.
    brace: bool,
    /// A quote or a `\\`: bytes the scan skipped over may hold a `:`, `{` or `\\`.
    unusual: bool,
}

/// The bytes [`scan_declaration`] looks at: those of [`scan_until`] for `;`, and `:`.
const DECLARATION_SPECIAL: [bool; 256] = {
    let mut table = SCAN_SPECIAL;
    table[b';' as usize] = true;
    table[b':' as usize] = true;
    table
};

/// Finds the end of the declaration starting at `start` as `scan_until(text, start,
/// b";")` does, noting on the way what [`Declarations::parse_list`] needs to know of it,
/// so that most declarations are read in one pass over their bytes.
fn scan_declaration(text: &str, start: usize) -> DeclarationScan {
    let bytes = text.as_bytes();
    let mut scan = DeclarationScan {
        stop: bytes.len(),
        colon: None,
        brace: false,
        unusual: false,
    };
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        while i < bytes.len() && !DECLARATION_SPECIAL[usize::from(bytes[i])] {
            i += 1;
        }
        let Some(&byte) = bytes.get(i) else {
            break;
        };
        match byte {
            b';' if depth == 0 => {
                scan.stop = i;
                return scan;
            }
            b':' => {
                scan.colon.get_or_insert(i);
            }
            b'"' | b'\'' => {
                scan.unusual = true;
                i = skip_string(bytes, i);
                continue;
            }
            b'\\' => {
                scan.unusual = true;
                i += 2;
                continue;
            }
            b'{' => {
                scan.brace = true;
                depth += 1;
            }
            b'(' | b'[' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    scan
}

/// `text.trim()`, without its call when `text` starts and ends with visible ASCII (most
/// names and values), which `trim` leaves alone.
fn trim(text: &str) -> &str {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// `!important` in any case and spacing (`! IMPORTANT`) at the end of a trimmed
/// declaration: (the declaration without it, whether it was there).
fn split_important(text: &str) -> (&str, bool) {
    // Text that ends with a visible ASCII character other than `t` cannot end with
    // `important` (trimming leaves such a character alone): most values (`flex`, `0`,
    // `760px`) are settled without looking for a `!`.
    if let Some(&last) = text.as_bytes().last()
        && last.is_ascii_graphic()
        && !last.eq_ignore_ascii_case(&b't')
    {
        return (text, false);
    }
    match text.rfind('!') {
        Some(bang) if text[bang + 1..].trim().eq_ignore_ascii_case("important") => {
            (text[..bang].trim_end(), true)
        }
        _ => (text, false),
    }
}

/// Whether `simplecss` accepts a declaration whose name is fine and whose value (what
/// follows the colon) is plain ASCII as [`quick_declaration`] defines it, without `!`:
/// it does when it can read a first term of the value (a number, a hash, a comma, an
/// identifier, or a function call with a closing parenthesis somewhere after it).
fn simplecss_reads_a_term(value: &str) -> bool {
    let value = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    match value.as_bytes().first() {
        Some(b'#' | b'+' | b'-' | b'0'..=b'9' | b'.' | b',') => true,
        Some(b'_' | b'a'..=b'z' | b'A'..=b'Z') => {
            let rest = value
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            rest.strip_prefix('(').is_none_or(|args| args.contains(')'))
        }
        _ => false,
    }
}

/// One declaration: (lower-case name, lower-case value, important). `None` when it is
/// malformed or names a property we do not read.
fn parse_declaration(chunk: &str) -> Option<(&'static str, String, bool)> {
    let decoded = decode_escapes(chunk, false);
    let text = decoded.trim();
    let (body, important) = split_important(text);
    let colon = body.find(':')?;
    let name = body[..colon].trim();
    // Most declarations (`color`, `font`...) name a property we do not read: they are
    // refused here, before anything is allocated for them.
    let name = tracked_name(name)?;
    // simplecss checks the name is an identifier and the value is there; the value text
    // itself is taken whole, since simplecss stops at nested parentheses (`calc((...))`).
    let parsed = DeclarationTokenizer::from(body).next()?;
    if !parsed.name.eq_ignore_ascii_case(name) {
        return None;
    }
    let value = body[colon + 1..].trim().to_ascii_lowercase();
    if value.is_empty() {
        return None;
    }
    Some((name, value, important || parsed.important))
}

/// Property names we read, shorthands and prefixed aliases included (lower case): the
/// names [`expand`] knows (a test keeps the two lists together).
const TRACKED: &[&str] = &[
    "display",
    "visibility",
    "opacity",
    "position",
    "float",
    "width",
    "height",
    "min-width",
    "min-height",
    "max-width",
    "max-height",
    "top",
    "right",
    "bottom",
    "left",
    "margin-left",
    "margin-inline-start",
    "text-indent",
    "clip",
    "clip-path",
    "-webkit-clip-path",
    "transform",
    "-webkit-transform",
    "-moz-transform",
    "-ms-transform",
    "-o-transform",
    "translate",
    "scale",
    "overflow-x",
    "overflow-y",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "overflow",
    "margin",
    "padding",
    "inset",
];

/// Longest name in [`TRACKED`].
const LONGEST_TRACKED: usize = 19;

/// At most this many names of [`TRACKED`] have the same length.
const MOST_OF_ONE_LENGTH: usize = 6;

/// For each length, the indices in [`TRACKED`] of the names of that length, then
/// `u8::MAX`: a name is compared with those few only.
const TRACKED_BY_LENGTH: [[u8; MOST_OF_ONE_LENGTH]; LONGEST_TRACKED + 1] = {
    let mut table = [[u8::MAX; MOST_OF_ONE_LENGTH]; LONGEST_TRACKED + 1];
    let mut index = 0;
    while index < TRACKED.len() {
        let length = TRACKED[index].len();
        let mut slot = 0;
        while table[length][slot] != u8::MAX {
            slot += 1;
        }
        table[length][slot] = index as u8;
        index += 1;
    }
    table
};

/// For each length, one bit per first letter (`byte.to_ascii_lowercase() % 32`) of the
/// [`TRACKED`] names of that length: most untracked names (`color`, `font-size`) fail
/// this one test.
const FIRST_BYTES_BY_LENGTH: [u32; LONGEST_TRACKED + 1] = {
    let mut table = [0u32; LONGEST_TRACKED + 1];
    let mut index = 0;
    while index < TRACKED.len() {
        let name = TRACKED[index].as_bytes();
        table[name.len()] |= 1 << (name[0].to_ascii_lowercase() % 32);
        index += 1;
    }
    table
};

/// The [`TRACKED`] name that `name` is in any ASCII case, if any. Allocates nothing.
fn tracked_name(name: &str) -> Option<&'static str> {
    let first = name.as_bytes().first()?.to_ascii_lowercase();
    if FIRST_BYTES_BY_LENGTH.get(name.len())? & (1 << (first % 32)) == 0 {
        return None;
    }
    let same_length = TRACKED_BY_LENGTH.get(name.len())?;
    same_length
        .iter()
        .take_while(|index| **index != u8::MAX)
        .filter_map(|index| TRACKED.get(usize::from(*index)))
        .find(|tracked| tracked.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
        .copied()
}

/// The longhands one declaration sets (at most four), each with the range of its value
/// within the declaration's value.
#[derive(Debug, Default)]
struct Longhands {
    items: [Option<(Property, Range<usize>)>; 4],
}

impl Longhands {
    /// The given longhands (the first four).
    fn of(pairs: impl IntoIterator<Item = (Property, Range<usize>)>) -> Longhands {
        let mut longhands = Longhands::default();
        for (slot, pair) in longhands.items.iter_mut().zip(pairs) {
            *slot = Some(pair);
        }
        longhands
    }

    /// True when the declaration sets nothing we read.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.items.iter().all(Option::is_none)
    }

    fn iter(&self) -> impl Iterator<Item = (Property, Range<usize>)> + '_ {
        self.items.iter().flatten().cloned()
    }
}

/// Expands a declaration into the tracked longhands it sets.
fn expand(name: &str, value: &str) -> Longhands {
    let single = |property: Property| Longhands::of([(property, 0..value.len())]);
    match name {
        "display" => single(Property::Display),
        "visibility" => single(Property::Visibility),
        "opacity" => single(Property::Opacity),
        "position" => single(Property::Position),
        "float" => single(Property::Float),
        "width" => single(Property::Width),
        "height" => single(Property::Height),
        "min-width" => single(Property::MinWidth),
        "min-height" => single(Property::MinHeight),
        "max-width" => single(Property::MaxWidth),
        "max-height" => single(Property::MaxHeight),
        "top" => single(Property::Top),
        "right" => single(Property::Right),
        "bottom" => single(Property::Bottom),
        "left" => single(Property::Left),
        "margin-left" | "margin-inline-start" => single(Property::MarginLeft),
        "text-indent" => single(Property::TextIndent),
        "clip" => single(Property::Clip),
        "clip-path" | "-webkit-clip-path" => single(Property::ClipPath),
        "transform" | "-webkit-transform" | "-moz-transform" | "-ms-transform" | "-o-transform" => {
            single(Property::Transform)
        }
        "translate" => single(Property::Translate),
        "scale" => single(Property::Scale),
        "overflow-x" => single(Property::OverflowX),
        "overflow-y" => single(Property::OverflowY),
        "padding-top" => single(Property::PaddingTop),
        "padding-right" => single(Property::PaddingRight),
        "padding-bottom" => single(Property::PaddingBottom),
        "padding-left" => single(Property::PaddingLeft),
        "overflow" => {
            let mut parts = value_ranges(value);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(both), None, None) => Longhands::of([
                    (Property::OverflowX, both.clone()),
                    (Property::OverflowY, both),
                ]),
                (Some(x), Some(y), None) => {
                    Longhands::of([(Property::OverflowX, x), (Property::OverflowY, y)])
                }
                _ => Longhands::default(),
            }
        }
        "margin" => match four_sides(value) {
            Some([_, _, _, left]) => Longhands::of([(Property::MarginLeft, left)]),
            None => Longhands::default(),
        },
        "padding" => sides(
            value,
            [
                Property::PaddingTop,
                Property::PaddingRight,
                Property::PaddingBottom,
                Property::PaddingLeft,
            ],
        ),
        "inset" => sides(
            value,
            [
                Property::Top,
                Property::Right,
                Property::Bottom,
                Property::Left,
            ],
        ),
        _ => Longhands::default(),
    }
}

/// A four-sides shorthand (`padding`, `inset`) into its longhands.
fn sides(value: &str, properties: [Property; 4]) -> Longhands {
    match four_sides(value) {
        Some(ranges) => Longhands::of(properties.into_iter().zip(ranges)),
        None => Longhands::default(),
    }
}

/// 1-4 values as the ranges of (top, right, bottom, left), CSS shorthand style.
fn four_sides(value: &str) -> Option<[Range<usize>; 4]> {
    let mut parts = value_ranges(value);
    let first = parts.next()?;
    let (second, third, fourth) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    Some(match (second, third, fourth) {
        (None, _, _) => [first.clone(), first.clone(), first.clone(), first],
        (Some(horizontal), None, _) => [first.clone(), horizontal.clone(), first, horizontal],
        (Some(horizontal), Some(bottom), None) => [first, horizontal.clone(), bottom, horizontal],
        (Some(right), Some(bottom), Some(left)) => [first, right, bottom, left],
    })
}

/// `inherit`, `initial` and the other keywords every property accepts.
fn is_global(value: &str) -> bool {
    matches!(
        value,
        "inherit" | "initial" | "unset" | "revert" | "revert-layer"
    )
}

/// Values a browser would throw away do not take part in the cascade, so
/// `.x{display:none} #y{display:blah}` still hides `#y.x`.
fn is_valid(property: Property, value: &str) -> bool {
    if is_global(value) || value.contains("var(") {
        return true;
    }
    match property {
        Property::Display => {
            let mut words = value.split_ascii_whitespace();
            let single = match (words.next(), words.next()) {
                (Some(word), None) => Some(word),
                _ => None,
            };
            matches!(single, Some("none" | "contents"))
                || value
                    .split_ascii_whitespace()
                    .all(|word| DISPLAY_KEYWORDS.contains(&word))
        }
        Property::Visibility => matches!(value, "visible" | "hidden" | "collapse"),
        Property::Position => matches!(
            value,
            "static" | "relative" | "absolute" | "fixed" | "sticky" | "-webkit-sticky"
        ),
        Property::Opacity => number_or_percent(value).is_some() || value.starts_with("calc("),
        Property::OverflowX | Property::OverflowY => {
            matches!(
                value,
                "visible" | "hidden" | "clip" | "scroll" | "auto" | "overlay"
            ) || value.starts_with("-moz-")
        }
        Property::Width
        | Property::Height
        | Property::MinWidth
        | Property::MinHeight
        | Property::MaxWidth
        | Property::MaxHeight
        | Property::PaddingTop
        | Property::PaddingRight
        | Property::PaddingBottom
        // Only a minus sign makes a length negative: most values need no reading.
        | Property::PaddingLeft => {
            !value.contains('-') || !length_px(value).is_some_and(|px| px < 0.0)
        }
        _ => true,
    }
}

/// Display keywords (single or multi-keyword syntax, legacy prefixed boxes).
const DISPLAY_KEYWORDS: &[&str] = &[
    "block",
    "inline",
    "run-in",
    "flow",
    "flow-root",
    "table",
    "flex",
    "grid",
    "ruby",
    "math",
    "list-item",
    "inline-block",
    "inline-table",
    "inline-flex",
    "inline-grid",
    "inline-list-item",
    "table-row-group",
    "table-header-group",
    "table-footer-group",
    "table-row",
    "table-cell",
    "table-column-group",
    "table-column",
    "table-caption",
    "ruby-base",
    "ruby-text",
    "ruby-base-container",
    "ruby-text-container",
    "-webkit-box",
    "-webkit-inline-box",
    "-moz-box",
    "-moz-inline-box",
    "-webkit-flex",
    "-webkit-inline-flex",
    "-ms-flexbox",
    "-ms-inline-flexbox",
    "-ms-grid",
    "-ms-inline-grid",
];

/// `width`/`height` attributes become CSS lengths on embedded content (presentational
/// hints, overridden by any author CSS).
fn presentational_hints(node: &Node, name: &str, out: &mut Declarations) -> Range<usize> {
    let maps_size = match name {
        "iframe" | "img" | "embed" | "object" | "video" | "canvas" | "svg" => true,
        "input" => node
            .attr("type")
            .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("image")),
        _ => false,
    };
    let start = out.items.len();
    if !maps_size {
        return start..start;
    }
    for (attribute, property) in [("width", Property::Width), ("height", Property::Height)] {
        let from = out.values.len();
        if node
            .attr(attribute)
            .is_some_and(|value| dimension_attribute(value, &mut out.values))
        {
            out.items.push(Declaration {
                property,
                value: from..out.values.len(),
                important: false,
            });
        }
    }
    start..out.items.len()
}

/// HTML's rules for dimension values: leading digits (a fraction allowed), `%` for a
/// percentage, anything after ignored (`"1px"` is 1). The CSS length is appended to `out`;
/// false (and nothing appended) when there is no number.
fn dimension_attribute(value: &str, out: &mut String) -> bool {
    let value = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let unit = if value[end..].starts_with('%') {
        "%"
    } else {
        "px"
    };
    let digits = &value[..end];
    // The usual case, a whole number of up to 15 digits: exact in an `f64`, whose
    // `Display` writes it without leading zeros, fraction or exponent.
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let significant = digits.trim_start_matches('0');
        out.push_str(if significant.is_empty() {
            "0"
        } else {
            significant
        });
        out.push_str(unit);
        return true;
    }
    let Ok(number) = value[..end].trim_end_matches('.').parse::<f64>() else {
        return false;
    };
    if !number.is_finite() {
        return false;
    }
    // Writing to a `String` cannot fail.
    let _ = write!(out, "{number}{unit}");
    true
}

// ---------------------------------------------------------------------------------------
// Reading the winning values
// ---------------------------------------------------------------------------------------

/// Elements whose content box is the content (frames, images, media): a zero size hides
/// them whatever their `overflow`.
fn is_replaced(name: &str) -> bool {
    matches!(
        name,
        "img"
            | "iframe"
            | "embed"
            | "object"
            | "video"
            | "audio"
            | "canvas"
            | "svg"
            | "input"
            | "textarea"
            | "select"
    )
}

/// Elements that are inline boxes unless CSS says otherwise.
fn is_default_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "acronym"
            | "b"
            | "bdi"
            | "bdo"
            | "big"
            | "cite"
            | "code"
            | "data"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "kbd"
            | "label"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
    )
}

/// True when the element can be hidden without any CSS: the `hidden` attribute, or an
/// `<input>` (`type="hidden"`). Without either and without CSS, [`interpret`] finds
/// nothing: the element's state is [`NodeState::inherited`].
/// `hidden` says whether the element has the `hidden` attribute.
fn may_hide_without_css(name: &str, hidden: bool) -> bool {
    name == "input" || hidden
}

/// The attributes the walk reads of every element, found in one pass over its
/// attributes; each is the first of its name, as [`Node::attr`] gives it.
#[derive(Debug, Default)]
struct WalkAttributes<'n> {
    /// `id`.
    id: Option<&'n str>,
    /// `class`.
    class: Option<&'n str>,
    /// `style`.
    style: Option<&'n str>,
    /// Whether `hidden` is there.
    hidden: bool,
}

impl<'n> WalkAttributes<'n> {
    /// The attributes of `node` (none for a non-element).
    fn of(node: &'n Node) -> WalkAttributes<'n> {
        let mut found = WalkAttributes::default();
        for (name, value) in node.attrs() {
            let slot = match name.as_str() {
                "id" => &mut found.id,
                "class" => &mut found.class,
                "style" => &mut found.style,
                "hidden" => {
                    found.hidden = true;
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(value.as_str());
        }
        found
    }
}

/// The element's own hiding reasons from its winning values.
fn interpret(node: &Node, name: &str, style: &Style<'_>, parent_blockifies: bool) -> Own {
    let keyword = |property: Property| {
        style
            .get(property)
            .filter(|value| !is_global(value) && !value.contains("var("))
    };
    let display = style.get(Property::Display);
    let display_keyword = keyword(Property::Display);
    let position = keyword(Property::Position).unwrap_or("static");
    let floated = keyword(Property::Float).is_some_and(|value| value != "none");
    let blockified = parent_blockifies || floated || matches!(position, "absolute" | "fixed");
    let replaced = is_replaced(name);
    let inline_box = match display_keyword {
        Some("inline") | Some("inline flow") => true,
        Some(_) => false,
        None => is_default_inline(name),
    };
    // Boxes that ignore sizes, transforms and text-indent.
    let no_geometry =
        display_keyword == Some("contents") || (inline_box && !replaced && !blockified);

    let hidden_attribute = (node.attr("hidden").is_some()
        && display.is_none_or(|value| value == "revert" || value == "revert-layer"))
        || (name == "input"
            && node
                .attr("type")
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("hidden")));
    let display_none = display_keyword == Some("none");
    let visibility = match style.get(Property::Visibility) {
        Some("hidden") | Some("collapse") => VisibilitySpec::Hidden,
        Some("visible") | Some("initial") => VisibilitySpec::Visible,
        _ => VisibilitySpec::Inherit,
    };
    let opacity = keyword(Property::Opacity)
        .and_then(number_or_percent)
        .map_or(1.0, |value| value.clamp(0.0, 1.0));

    let zero_size = !no_geometry && zero_size(style, replaced);
    let (scaled_to_zero, translated_away) = if no_geometry {
        (false, false)
    } else {
        let (transform_zero, transform_away) =
            keyword(Property::Transform).map_or((false, false), transform_effects);
        let scale_zero = keyword(Property::Scale).is_some_and(|value| {
            split_values(value)
                .iter()
                .any(|factor| number_or_percent(factor).is_some_and(|f| f.abs() <= SCALE_LIMIT))
        });
        let translate_away = keyword(Property::Translate).is_some_and(|value| {
            split_values(value)
                .iter()
                .take(2)
                .any(|offset| length_px(offset).is_some_and(|px| px <= OFF_SCREEN_PX))
        });
        (
            transform_zero || scale_zero,
            transform_away || translate_away,
        )
    };
    let far = |property: Property| {
        keyword(property)
            .and_then(length_px)
            .is_some_and(|px| px <= OFF_SCREEN_PX)
    };
    let auto = |property: Property| {
        style
            .get(property)
            .is_none_or(|v| v == "auto" || is_global(v))
    };
    let positioned_away = matches!(position, "absolute" | "fixed" | "relative")
        && (far(Property::Left)
            || (auto(Property::Left) && far(Property::Right))
            || far(Property::Top)
            || (auto(Property::Top) && far(Property::Bottom)));
    let indented_away = !no_geometry
        && keyword(Property::TextIndent)
            .and_then(length_px)
            .is_some_and(|px| px <= TEXT_INDENT_PX);
    let off_screen =
        positioned_away || far(Property::MarginLeft) || indented_away || translated_away;
    let clipped = (matches!(position, "absolute" | "fixed")
        && keyword(Property::Clip).is_some_and(|value| {
            value
                .strip_prefix("rect(")
                .is_some_and(|args| rect_is_empty(args.trim_end_matches(')')))
        }))
        || keyword(Property::ClipPath).is_some_and(clip_path_is_empty);

    let structural = [
        (hidden_attribute, HiddenReason::HiddenAttribute),
        (display_none, HiddenReason::DisplayNone),
        (opacity <= OPACITY_LIMIT, HiddenReason::OpacityZero),
        (zero_size, HiddenReason::ZeroSize),
        (off_screen, HiddenReason::OffScreen),
        (clipped, HiddenReason::Clipped),
        (scaled_to_zero, HiddenReason::ScaledToZero),
    ]
    .into_iter()
    .find_map(|(applies, reason)| applies.then_some(reason));
    let reason = match structural {
        Some(HiddenReason::HiddenAttribute | HiddenReason::DisplayNone) => structural,
        _ if visibility == VisibilitySpec::Hidden => Some(HiddenReason::VisibilityHidden),
        _ => structural,
    };
    let blockifies_children = display_keyword.is_some_and(|value| {
        value.split_ascii_whitespace().any(|word| {
            matches!(
                word,
                "flex"
                    | "grid"
                    | "inline-flex"
                    | "inline-grid"
                    | "-webkit-box"
                    | "-webkit-inline-box"
                    | "-webkit-flex"
                    | "-webkit-inline-flex"
                    | "-ms-flexbox"
                    | "-ms-inline-flexbox"
                    | "-ms-grid"
                    | "-ms-inline-grid"
            )
        })
    });
    Own {
        reason,
        structural,
        visibility,
        opacity,
        blockifies_children,
    }
}

/// A width or height of 0-1px. Either one is enough: a 1x300 frame still loads its URL
/// unseen (a stuffing vector), as does a 300x1 one.
fn zero_size(style: &Style<'_>, replaced: bool) -> bool {
    let tiny = |property: Property| {
        style
            .get(property)
            .and_then(length_px)
            .is_some_and(|px| (0.0..=1.0).contains(&px))
    };
    let roomy = |property: Property| {
        style
            .get(property)
            .and_then(length_px)
            .is_some_and(|px| px > 1.0)
    };
    let thin_x = (tiny(Property::Width) || tiny(Property::MaxWidth)) && !roomy(Property::MinWidth);
    let thin_y =
        (tiny(Property::Height) || tiny(Property::MaxHeight)) && !roomy(Property::MinHeight);
    if replaced {
        return thin_x || thin_y;
    }
    // A non-replaced box of no size only hides its content when it clips it, and only
    // when no padding gives the content room.
    let (clips_x, clips_y) = overflow_clips(style);
    let no_padding = |a: Property, b: Property| {
        let px = |property: Property| match style.get(property) {
            None => Some(0.0),
            Some(value) if is_global(value) => Some(0.0),
            Some(value) => length_px(value),
        };
        matches!((px(a), px(b)), (Some(a), Some(b)) if a + b <= 1.0)
    };
    (thin_x && clips_x && no_padding(Property::PaddingLeft, Property::PaddingRight))
        || (thin_y && clips_y && no_padding(Property::PaddingTop, Property::PaddingBottom))
}

/// Whether the box clips its content horizontally and vertically. `visible` on one axis
/// computes to `auto` when the other axis scrolls or hides.
fn overflow_clips(style: &Style<'_>) -> (bool, bool) {
    let value = |property: Property| match style.get(property) {
        Some(value) if !is_global(value) => value,
        _ => "visible",
    };
    let x = value(Property::OverflowX);
    let y = value(Property::OverflowY);
    let scrolls = |v: &str| v != "visible" && v != "clip";
    let clips = |v: &str, other: &str| v != "visible" || scrolls(other);
    (clips(x, y), clips(y, x))
}

/// Effects of a `transform` list: (scales to nothing, translates 1000px+ off-screen).
fn transform_effects(value: &str) -> (bool, bool) {
    let mut zero = false;
    let mut away = false;
    let factor_zero = |arg: Option<&&str>| {
        arg.and_then(|a| number_or_percent(a))
            .is_some_and(|f| f.abs() <= SCALE_LIMIT)
    };
    let far = |arg: Option<&&str>| {
        arg.and_then(|a| length_px(a))
            .is_some_and(|px| px <= OFF_SCREEN_PX)
    };
    for (name, args) in functions(value) {
        match name {
            "scale" => {
                zero |= factor_zero(args.first()) || factor_zero(args.get(1));
            }
            "scale3d" => zero |= factor_zero(args.first()) || factor_zero(args.get(1)),
            "scalex" | "scaley" => zero |= factor_zero(args.first()),
            "matrix" => {
                let numbers: Vec<f64> = args.iter().filter_map(|a| number(a)).collect();
                if let [a, b, c, d, e, f] = numbers[..] {
                    zero |= (a * d - b * c).abs() <= SCALE_LIMIT * SCALE_LIMIT;
                    away |= e <= OFF_SCREEN_PX || f <= OFF_SCREEN_PX;
                }
            }
            "translate" | "translate3d" => away |= far(args.first()) || far(args.get(1)),
            "translatex" | "translatey" => away |= far(args.first()),
            _ => {}
        }
    }
    (zero, away)
}

/// True when `rect(top, right, bottom, left)` arguments enclose no area.
fn rect_is_empty(args: &str) -> bool {
    let values: Vec<Option<f64>> = split_values(args).iter().map(|v| length_px(v)).collect();
    match values[..] {
        [top, right, bottom, left] => {
            matches!((top, bottom), (Some(t), Some(b)) if b <= t)
                || matches!((left, right), (Some(l), Some(r)) if r <= l)
        }
        _ => false,
    }
}

/// True when a `clip-path` leaves nothing: `inset()` of 50%+ per axis, `circle(0)`,
/// `ellipse(0 ...)`, `rect()` or `xywh()` without area.
fn clip_path_is_empty(value: &str) -> bool {
    let Some((name, args)) = functions(value).into_iter().next() else {
        return false;
    };
    let shape: Vec<&str> = args
        .iter()
        .copied()
        .take_while(|arg| *arg != "round" && *arg != "at")
        .collect();
    let zero = |arg: Option<&&str>| arg.and_then(|a| length_px(a)) == Some(0.0);
    match name {
        "inset" => {
            // Percentages of the box; a zero length is 0% of it too.
            let fraction = |arg: &str| match arg.strip_suffix('%') {
                Some(_) => number_or_percent(arg),
                None => (length_px(arg) == Some(0.0)).then_some(0.0),
            };
            let [top, right, bottom, left] = match shape[..] {
                [all] => [all, all, all, all],
                [v, h] => [v, h, v, h],
                [t, h, b] => [t, h, b, h],
                [t, r, b, l] => [t, r, b, l],
                _ => return false,
            };
            let covers = |a: &str, b: &str| matches!((fraction(a), fraction(b)), (Some(a), Some(b)) if a + b >= 1.0);
            covers(top, bottom) || covers(left, right)
        }
        "circle" => zero(shape.first()),
        "ellipse" => zero(shape.first()) || zero(shape.get(1)),
        "rect" => rect_is_empty(&shape.join(" ")),
        "xywh" => zero(shape.get(2)) || zero(shape.get(3)),
        _ => false,
    }
}

/// The functions of a value, e.g. `scale(0) translate(1px, 2px)` gives
/// `[("scale", ["0"]), ("translate", ["1px", "2px"])]`. At most 64.
fn functions(value: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out = Vec::new();
    let mut rest = value;
    while out.len() < 64 {
        let Some(open) = rest.find('(') else {
            break;
        };
        let name = rest[..open]
            .rsplit(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or("");
        let close = scan_until(rest, open + 1, &CLOSE_PAREN);
        let args = &rest[open + 1..close];
        out.push((name, split_values(args)));
        if close >= rest.len() {
            break;
        }
        rest = &rest[close + 1..];
    }
    out
}

/// A length in CSS pixels, if we can tell: `px`, unitless numbers (quirks mode),
/// absolute units, `em`/`rem` as 16px, `ex`/`ch` as 8px, viewport units as 10px (a
/// 1000px viewport), `0%`; `calc()` of one term. `None` for `auto`, percentages and
/// anything else.
fn length_px(value: &str) -> Option<f64> {
    let mut value = value.trim();
    for prefix in ["calc(", "-webkit-calc(", "-moz-calc("] {
        if let Some(inner) = value.strip_prefix(prefix) {
            value = inner.strip_suffix(')')?.trim();
        }
    }
    let (number, unit) = split_number(value)?;
    let factor = match unit {
        "" | "px" => 1.0,
        "em" | "rem" => 16.0,
        "ex" | "ch" => 8.0,
        "pt" => 4.0 / 3.0,
        "pc" => 16.0,
        "in" => 96.0,
        "cm" => 96.0 / 2.54,
        "mm" => 96.0 / 25.4,
        "q" => 96.0 / 101.6,
        "vw" | "vh" | "vmin" | "vmax" | "vi" | "vb" | "svw" | "svh" | "lvw" | "lvh" | "dvw"
        | "dvh" => 10.0,
        "%" if number == 0.0 => 0.0,
        _ => return None,
    };
    let px = number * factor;
    px.is_finite().then_some(px)
}

/// A plain number.
fn number(value: &str) -> Option<f64> {
    match split_number(value.trim())? {
        (number, "") => Some(number),
        _ => None,
    }
}

/// A number, or a percentage as a fraction (`50%` is 0.5).
fn number_or_percent(value: &str) -> Option<f64> {
    match split_number(value.trim())? {
        (number, "") => Some(number),
        (number, "%") => Some(number / 100.0),
        _ => None,
    }
}

/// Splits `-1.5e2px` into (-150.0, "px").
fn split_number(text: &str) -> Option<(f64, &str)> {
    let bytes = text.as_bytes();
    let digits_from = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut end = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let integer_end = digits_from(end);
    let mut has_digits = integer_end > end;
    end = integer_end;
    if bytes.get(end) == Some(&b'.') {
        let fraction_end = digits_from(end + 1);
        if fraction_end > end + 1 {
            has_digits = true;
            end = fraction_end;
        }
    }
    if !has_digits {
        return None;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        let exponent_end = digits_from(exponent);
        if exponent_end > exponent {
            end = exponent_end;
        }
    }
    let number: f64 = text[..end].parse().ok()?;
    number.is_finite().then_some((number, &text[end..]))
}

// ---------------------------------------------------------------------------------------
// Stylesheets
// ---------------------------------------------------------------------------------------

/// One selector of a rule, with the rule's declarations.
#[derive(Debug)]
struct StyleRule {
    selector: Selector,
    /// The rule's declarations in [`Sheet::declarations`].
    block: Range<usize>,
    /// Source order of the rule across all `<style>` blocks (from 1).
    order: u32,
}

/// Every rule of the page's `<style>` blocks that sets a property we read.
#[derive(Debug, Default)]
struct Sheet {
    rules: Vec<StyleRule>,
    /// The rules' selectors.
    selectors: Selectors,
    /// The declarations of every rule, block after block.
    declarations: Declarations,
    order: u32,
    truncated: bool,
}

impl Sheet {
    /// Reads every `<style>` element (in document order: they apply to the whole page
    /// wherever they are) whose `type` is CSS and whose `media` applies.
    fn collect(document: &Document) -> Sheet {
        let mut sheet = Sheet::default();
        for (id, node) in document.nodes().iter().enumerate() {
            if node.element_name() != Some("style") {
                continue;
            }
            if sheet.truncated {
                break;
            }
            let is_css = node.attr("type").is_none_or(|kind| {
                let kind = kind.trim();
                kind.is_empty() || kind.eq_ignore_ascii_case("text/css")
            });
            if !is_css || !node.attr("media").is_none_or(media_applies) {
                continue;
            }
            let css = document.text_content(id);
            sheet.parse_rules(&strip_comments(&css), 0);
        }
        sheet
    }

    /// Reads a list of rules (a stylesheet or an applicable `@media` block's contents).
    fn parse_rules(&mut self, text: &str, depth: usize) {
        let bytes = text.as_bytes();
        let mut position = 0;
        while position < bytes.len() && !self.truncated {
            if bytes[position].is_ascii_whitespace() || bytes[position] == b'}' {
                // Whitespace, or a stray `}` (skipped as recovery).
                position += 1;
                continue;
            }
            if bytes[position] == b'@' {
                let stop = scan_until(text, position, &AT_RULE_END);
                if stop >= bytes.len() {
                    break;
                }
                if bytes[stop] == b';' {
                    // `@import`, `@charset`, `@layer a, b;`: nothing to apply.
                    position = stop + 1;
                    continue;
                }
                let close = scan_until(text, stop + 1, &CLOSE_BRACE);
                let prelude = &text[position + 1..stop];
                let name_end = prelude
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(prelude.len());
                let name = prelude[..name_end].to_ascii_lowercase();
                let applies = match name.as_str() {
                    "media" => media_applies(&prelude[name_end..]),
                    "layer" => true,
                    _ => false,
                };
                if applies && depth < MAX_AT_RULE_DEPTH {
                    self.parse_rules(&text[stop + 1..close], depth + 1);
                }
                position = close + 1;
            } else {
                let stop = scan_until(text, position, &OPEN_BRACE);
                if stop >= bytes.len() {
                    break;
                }
                let close = scan_until(text, stop + 1, &CLOSE_BRACE);
                self.add_rule(&text[position..stop], &text[stop + 1..close]);
                position = close + 1;
            }
        }
    }

    /// Adds one qualified rule, one [`StyleRule`] per selector of its list.
    fn add_rule(&mut self, prelude: &str, block: &str) {
        let values = self.declarations.values.len();
        let declarations = self.declarations.parse_list(block);
        if declarations.is_empty() {
            self.declarations.truncate(declarations.start, values);
            return;
        }
        self.order = self.order.saturating_add(1);
        let mut added = false;
        for text in split_top_level(prelude, &COMMA) {
            if self.rules.len() >= MAX_RULES {
                self.truncated = true;
                break;
            }
            // Each selector stands alone: one we cannot parse (`:not(...)`) does not take
            // the others of its list down with it.
            if let Some(selector) = self.selectors.parse(text) {
                self.rules.push(StyleRule {
                    selector,
                    block: declarations.clone(),
                    order: self.order,
                });
                added = true;
            }
        }
        if !added {
            self.declarations.truncate(declarations.start, values);
        }
    }
}

/// True when a media query list applies to a screen: some query names `screen`, `all`
/// or no media type (features are not evaluated), and is not negated.
fn media_applies(list: &str) -> bool {
    if list.trim().is_empty() {
        return true;
    }
    split_top_level(list, &COMMA).any(|query| {
        let query = query.trim().to_ascii_lowercase();
        let mut words = query.split_ascii_whitespace().peekable();
        let negated = words.next_if_eq(&"not").is_some();
        words.next_if_eq(&"only");
        let matches = match words.next() {
            None => return false,
            Some(word) if word.starts_with('(') => true,
            Some(word) => word == "screen" || word == "all",
        };
        matches != negated
    })
}

// ---------------------------------------------------------------------------------------
// CSS text: comments, escapes, blocks
// ---------------------------------------------------------------------------------------

/// Removes `/* comments */` (a space in their place) and the `<!--`/`-->` wrappers of old
/// pages, leaving strings alone.
fn strip_comments(css: &str) -> Cow<'_, str> {
    if !css.contains("/*") && !css.contains("<!--") && !css.contains("-->") {
        return Cow::Borrowed(css);
    }
    let bytes = css.as_bytes();
    let mut out = String::with_capacity(css.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let skip = match bytes[i] {
            b'"' | b'\'' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'\\' => {
                i += 2;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => css[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |end| i + 2 + end + 2),
            b'<' if css[i..].starts_with("<!--") => i + 4,
            b'-' if css[i..].starts_with("-->") => i + 3,
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&css[copied..i]);
        out.push(' ');
        i = skip;
        copied = skip;
    }
    if copied < bytes.len() {
        out.push_str(&css[copied..]);
    }
    Cow::Owned(out)
}

/// The index just after the string starting at `start` (its closing quote, an unescaped
/// newline, or the end).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            byte if byte == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The bytes [`scan_until`] always looks at: quotes, the escape and brackets.
const SCAN_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let specials = b"\"'\\()[]{}";
    let mut index = 0;
    while index < specials.len() {
        table[specials[index] as usize] = true;
        index += 1;
    }
    table
};

/// The stop bytes of a [`scan_until`], with the table of every byte it must look at
/// (quotes, escapes, brackets and the stops), made once rather than at each call.
struct Stops {
    /// The bytes to stop at.
    bytes: &'static [u8],
    /// [`SCAN_SPECIAL`] with the stops added.
    special: [bool; 256],
}

impl Stops {
    /// The stops `bytes`.
    const fn new(bytes: &'static [u8]) -> Stops {
        let mut special = SCAN_SPECIAL;
        let mut index = 0;
        while index < bytes.len() {
            special[bytes[index] as usize] = true;
            index += 1;
        }
        Stops { bytes, special }
    }
}

/// Stops at `;` (the reference reader splits declaration lists with it).
#[cfg(test)]
const SEMICOLON: Stops = Stops::new(b";");
/// Stops at `,`.
const COMMA: Stops = Stops::new(b",");
/// Stops at `{`.
const OPEN_BRACE: Stops = Stops::new(b"{");
/// Stops at `}`.
const CLOSE_BRACE: Stops = Stops::new(b"}");
/// Stops at `)`.
const CLOSE_PAREN: Stops = Stops::new(b")");
/// Stops at `;` or `{` (the end of an at-rule's prelude).
const AT_RULE_END: Stops = Stops::new(b";{");
/// Stops at whitespace and `,` (between the parts of a value).
const VALUE_SEPARATORS: Stops = Stops::new(b" \t\n\r\x0c,");

/// The index of the first of `stops` at nesting level 0 from `start` (strings, escapes
/// and `()`, `[]`, `{}` skipped), or the text's length. Always a char boundary.
fn scan_until(text: &str, start: usize, stops: &Stops) -> usize {
    // Bytes that need a look: quotes, escapes, brackets and the stops; the others are
    // skipped with one table lookup each.
    let special = &stops.special;
    let stops = stops.bytes;
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        while i < bytes.len() && !special[usize::from(bytes[i])] {
            i += 1;
        }
        let Some(&byte) = bytes.get(i) else {
            break;
        };
        if depth == 0 && stops.contains(&byte) {
            return i;
        }
        match byte {
            b'"' | b'\'' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'\\' => {
                i += 2;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Splits at `separator` on nesting level 0.
fn split_top_level<'t>(text: &'t str, separator: &'t Stops) -> impl Iterator<Item = &'t str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start > text.len() {
            return None;
        }
        let stop = scan_until(text, start, separator);
        let part = &text[start..stop];
        start = stop + 1;
        Some(part)
    })
}

/// Splits a value at whitespace and commas on nesting level 0 (`rect(0, 0 0 0)`,
/// `0 0 0 -9999px`), keeping `calc(1px + 2px)` whole.
fn split_values(text: &str) -> Vec<&str> {
    value_ranges(text).map(|range| &text[range]).collect()
}

/// The ranges of the parts [`split_values`] gives.
fn value_ranges(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < text.len() {
            let stop = scan_until(text, start, &VALUE_SEPARATORS);
            let range = start..stop;
            start = stop + 1;
            if !range.is_empty() {
                return Some(range);
            }
        }
        None
    })
}

/// First code point of the private range that stands in for escaped ASCII characters
/// while simplecss tokenizes a selector (it does not decode escapes itself).
const PROTECTED_BASE: u32 = 0xF0000;

/// Decodes CSS escapes (`\3a `, `\:`). With `protect`, escaped ASCII characters become
/// private-use stand-ins (see [`unprotect`]) so that `.md\:block` stays one class name.
fn decode_escapes(text: &str, protect: bool) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.peek().copied() {
            None => '\u{FFFD}',
            Some('\n' | '\r' | '\u{c}') => {
                chars.next();
                continue;
            }
            Some(first) if first.is_ascii_hexdigit() => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 6 {
                    let Some(digit) = chars.peek().and_then(|c| c.to_digit(16)) else {
                        break;
                    };
                    value = value * 16 + digit;
                    digits += 1;
                    chars.next();
                }
                match chars.peek() {
                    Some(' ' | '\t' | '\n' | '\u{c}') => {
                        chars.next();
                    }
                    Some('\r') => {
                        chars.next();
                        chars.next_if_eq(&'\n');
                    }
                    _ => {}
                }
                char::from_u32(value)
                    .filter(|c| *c != '\0')
                    .unwrap_or('\u{FFFD}')
            }
            Some(other) => {
                chars.next();
                other
            }
        };
        match char::from_u32(PROTECTED_BASE + decoded as u32) {
            Some(stand_in) if protect && decoded.is_ascii() => out.push(stand_in),
            _ => out.push(decoded),
        }
    }
    Cow::Owned(out)
}

/// [`unprotect`], then lower-cased (ASCII), in one string.
fn unprotect_lowercase(text: &str) -> String {
    let mut lowered = unprotect(text);
    lowered.make_ascii_lowercase();
    lowered
}

/// Turns the stand-ins of [`decode_escapes`] back into the characters they stand for.
fn unprotect(text: &str) -> String {
    // The stand-ins are not ASCII: most names have none.
    if text.is_ascii() {
        return text.to_string();
    }
    text.chars().map(unprotect_char).collect()
}

/// The character a stand-in of [`decode_escapes`] stands for; any other character itself.
fn unprotect_char(c: char) -> char {
    match (c as u32).checked_sub(PROTECTED_BASE) {
        Some(ascii) if ascii < 0x80 => char::from_u32(ascii).unwrap_or(c),
        _ => c,
    }
}

// ---------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------

/// A run of one of the arrays of [`Selectors`], or of its `names`: `start..end`. A sheet's
/// selectors never hold four billion of anything (a selector that would is dropped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// An empty run at `at`.
    fn at(at: u32) -> Span {
        Span { start: at, end: at }
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
}

/// The length of `items` as the start of a [`Span`], if it fits in one.
fn span_start<T>(items: &[T]) -> Option<u32> {
    u32::try_from(items.len())
        .ok()
        .filter(|len| *len < u32::MAX)
}

/// Every selector of a sheet in flat arrays: a selector is a run of `compounds`, a
/// compound has runs of `ids`, `classes`, `attributes` and `pseudo_classes`, and each name
/// is a run of `names`. Nothing is allocated per selector, compound or name, and nothing
/// is freed one by one.
#[derive(Debug, Default)]
struct Selectors {
    /// Every name (tags and attribute names lower-cased, escapes decoded), side by side.
    names: String,
    compounds: Vec<Compound>,
    ids: Vec<Span>,
    classes: Vec<Span>,
    attributes: Vec<(Span, AttributeTest)>,
    pseudo_classes: Vec<Pseudo>,
}

/// A selector: a run of [`Selectors::compounds`], left to right.
#[derive(Debug, Clone, Copy)]
struct Selector {
    compounds: Span,
    /// (ids, classes + attributes + pseudo-classes, types).
    specificity: [u32; 3],
}

/// A compound selector, `div.ad#x[hidden]:first-child`: runs of the arrays of its
/// [`Selectors`].
#[derive(Debug, Clone, Copy, Default)]
struct Compound {
    /// How it relates to the compound on its left (`None` for the leftmost).
    combinator: Option<Combinator>,
    /// Lower-case type, `None` for `*`.
    tag: Option<Span>,
    ids: Span,
    classes: Span,
    attributes: Span,
    pseudo_classes: Span,
}

/// An attribute selector test; the value is a name of the [`Selectors`].
#[derive(Debug, Clone, Copy)]
enum AttributeTest {
    Exists,
    Equals(Span),
    Includes(Span),
    DashMatch(Span),
}

/// A pseudo-class we can decide on a static page.
#[derive(Debug, Clone, Copy)]
enum Pseudo {
    FirstChild,
    LastChild,
    OnlyChild,
    Root,
    Empty,
    Link,
    /// The language, a name of the [`Selectors`].
    Lang(Span),
    /// A state a reader must act to reach (`:hover`, `:focus`...): never on page load, so
    /// a selector with one is dropped when read.
    Never,
}

/// How two compounds relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combinator {
    Descendant,
    Child,
    NextSibling,
}

impl Pseudo {
    /// The pseudo-class `name` (as simplecss gives it: escaped characters still stand-ins)
    /// names, in any ASCII case; `None` for one we cannot match.
    fn named(name: &str) -> Option<Pseudo> {
        // An ASCII name has no stand-ins (they are not ASCII): compared as it is, in any
        // case, without the two strings `unprotect` and lower-casing would allocate.
        let lowered;
        let name = if name.is_ascii() {
            name
        } else {
            lowered = unprotect_lowercase(name);
            lowered.as_str()
        };
        const NAMES: &[(&str, Pseudo)] = &[
            ("first-child", Pseudo::FirstChild),
            ("last-child", Pseudo::LastChild),
            ("only-child", Pseudo::OnlyChild),
            ("root", Pseudo::Root),
            ("empty", Pseudo::Empty),
            ("link", Pseudo::Link),
            ("any-link", Pseudo::Link),
            ("hover", Pseudo::Never),
            ("active", Pseudo::Never),
            ("focus", Pseudo::Never),
            ("focus-within", Pseudo::Never),
            ("focus-visible", Pseudo::Never),
            ("visited", Pseudo::Never),
            ("target", Pseudo::Never),
        ];
        NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, pseudo)| *pseudo)
    }
}

/// Where each array of a [`Selectors`] ended, to undo what a failed read added.
struct SelectorsMark {
    names: usize,
    compounds: usize,
    ids: usize,
    classes: usize,
    attributes: usize,
    pseudo_classes: usize,
}

impl Selectors {
    /// The text of a name.
    fn name(&self, name: Span) -> &str {
        self.names.get(name.range()).unwrap_or_default()
    }

    fn compounds(&self, selector: &Selector) -> &[Compound] {
        self.compounds
            .get(selector.compounds.range())
            .unwrap_or_default()
    }

    fn ids(&self, compound: &Compound) -> &[Span] {
        self.ids.get(compound.ids.range()).unwrap_or_default()
    }

    fn classes(&self, compound: &Compound) -> &[Span] {
        self.classes
            .get(compound.classes.range())
            .unwrap_or_default()
    }

    fn attributes(&self, compound: &Compound) -> &[(Span, AttributeTest)] {
        self.attributes
            .get(compound.attributes.range())
            .unwrap_or_default()
    }

    fn pseudo_classes(&self, compound: &Compound) -> &[Pseudo] {
        self.pseudo_classes
            .get(compound.pseudo_classes.range())
            .unwrap_or_default()
    }

    /// True when matching the selector may ask for an element's siblings (`+`,
    /// `:first-child`, `:last-child`, `:only-child`).
    fn reads_siblings(&self, selector: &Selector) -> bool {
        self.compounds(selector).iter().any(|compound| {
            compound.combinator == Some(Combinator::NextSibling)
                || self.pseudo_classes(compound).iter().any(|pseudo| {
                    matches!(
                        pseudo,
                        Pseudo::FirstChild | Pseudo::LastChild | Pseudo::OnlyChild
                    )
                })
        })
    }

    /// What a compound is indexed by: its first id, else its first class, else its tag,
    /// else its first attribute name.
    fn key(&self, compound: &Compound) -> Option<(KeyKind, &str)> {
        if let Some(id) = self.ids(compound).first() {
            Some((KeyKind::Id, self.name(*id)))
        } else if let Some(class) = self.classes(compound).first() {
            Some((KeyKind::Class, self.name(*class)))
        } else if let Some(tag) = compound.tag {
            Some((KeyKind::Tag, self.name(tag)))
        } else {
            self.attributes(compound)
                .first()
                .map(|(name, _)| (KeyKind::Attribute, self.name(*name)))
        }
    }

    /// Reads one selector (no commas) with simplecss's tokenizer and adds it. `None` (and
    /// nothing added) when simplecss cannot read it, it uses what we cannot match, or it
    /// can never match (`:hover`).
    fn parse(&mut self, text: &str) -> Option<Selector> {
        let mark = SelectorsMark {
            names: self.names.len(),
            compounds: self.compounds.len(),
            ids: self.ids.len(),
            classes: self.classes.len(),
            attributes: self.attributes.len(),
            pseudo_classes: self.pseudo_classes.len(),
        };
        let selector = self.read(text, mark.compounds);
        if selector.is_none() {
            self.names.truncate(mark.names);
            self.compounds.truncate(mark.compounds);
            self.ids.truncate(mark.ids);
            self.classes.truncate(mark.classes);
            self.attributes.truncate(mark.attributes);
            self.pseudo_classes.truncate(mark.pseudo_classes);
        }
        selector
    }

    /// [`Selectors::parse`] without the undoing: its compounds start at `first`.
    fn read(&mut self, text: &str, first: usize) -> Option<Selector> {
        let prepared = decode_escapes(text.trim(), true);
        let mut pending: Option<Combinator> = None;
        for token in SelectorTokenizer::from(prepared.as_ref()) {
            let token = token.ok()?;
            let starts_compound = matches!(
                token,
                SelectorToken::UniversalSelector | SelectorToken::TypeSelector(_)
            );
            let combinator = match token {
                SelectorToken::DescendantCombinator => Some(Combinator::Descendant),
                SelectorToken::ChildCombinator => Some(Combinator::Child),
                SelectorToken::AdjacentCombinator => Some(Combinator::NextSibling),
                _ => None,
            };
            let empty = self.compounds.len() == first;
            if let Some(combinator) = combinator {
                if empty || pending.is_some() {
                    return None;
                }
                pending = Some(combinator);
                continue;
            }
            if starts_compound || pending.is_some() || empty {
                if starts_compound && pending.is_none() && !empty {
                    return None;
                }
                let compound = Compound {
                    combinator: pending.take(),
                    tag: None,
                    ids: Span::at(span_start(&self.ids)?),
                    classes: Span::at(span_start(&self.classes)?),
                    attributes: Span::at(span_start(&self.attributes)?),
                    pseudo_classes: Span::at(span_start(&self.pseudo_classes)?),
                };
                span_start(&self.compounds)?;
                self.compounds.push(compound);
                if self.compounds.len() - first > MAX_COMPOUNDS {
                    return None;
                }
            }
            match token {
                SelectorToken::UniversalSelector => {}
                SelectorToken::TypeSelector(name) => {
                    let tag = self.push_name(name, true)?;
                    self.compounds.last_mut()?.tag = Some(tag);
                }
                SelectorToken::ClassSelector(name) => {
                    let class = self.push_name(name, false)?;
                    span_start(&self.classes)?;
                    self.classes.push(class);
                    self.compounds.last_mut()?.classes.end += 1;
                }
                SelectorToken::IdSelector(name) => {
                    let id = self.push_name(name, false)?;
                    span_start(&self.ids)?;
                    self.ids.push(id);
                    self.compounds.last_mut()?.ids.end += 1;
                }
                SelectorToken::AttributeSelector(name, operator) => {
                    let name = self.push_name(name, true)?;
                    let test = match operator {
                        AttributeOperator::Exists => AttributeTest::Exists,
                        AttributeOperator::Matches(v) => {
                            AttributeTest::Equals(self.push_name(v, false)?)
                        }
                        AttributeOperator::Contains(v) => {
                            AttributeTest::Includes(self.push_name(v, false)?)
                        }
                        AttributeOperator::StartsWith(v) => {
                            AttributeTest::DashMatch(self.push_name(v, false)?)
                        }
                    };
                    span_start(&self.attributes)?;
                    self.attributes.push((name, test));
                    self.compounds.last_mut()?.attributes.end += 1;
                }
                SelectorToken::PseudoClass(name) => {
                    let pseudo = match Pseudo::named(name)? {
                        // Never matches: neither does the selector.
                        Pseudo::Never => return None,
                        pseudo => pseudo,
                    };
                    span_start(&self.pseudo_classes)?;
                    self.pseudo_classes.push(pseudo);
                    self.compounds.last_mut()?.pseudo_classes.end += 1;
                }
                SelectorToken::LangPseudoClass(lang) => {
                    let lang = self.push_name(lang, false)?;
                    span_start(&self.pseudo_classes)?;
                    self.pseudo_classes.push(Pseudo::Lang(lang));
                    self.compounds.last_mut()?.pseudo_classes.end += 1;
                }
                SelectorToken::DescendantCombinator
                | SelectorToken::ChildCombinator
                | SelectorToken::AdjacentCombinator => {}
            }
        }
        if self.compounds.len() == first || pending.is_some() {
            return None;
        }
        let mut specificity = [0u32; 3];
        for compound in &self.compounds[first..] {
            let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            specificity[0] = specificity[0].saturating_add(count(compound.ids.len()));
            specificity[1] = specificity[1].saturating_add(count(
                compound.classes.len() + compound.attributes.len() + compound.pseudo_classes.len(),
            ));
            specificity[2] = specificity[2].saturating_add(u32::from(compound.tag.is_some()));
        }
        Some(Selector {
            compounds: Span {
                start: u32::try_from(first).ok()?,
                end: u32::try_from(self.compounds.len()).ok()?,
            },
            specificity,
        })
    }

    /// Appends `text` to the names, stand-ins of escaped characters turned back into
    /// them ([`unprotect`]), lower-cased (ASCII) with `lowercase`.
    fn push_name(&mut self, text: &str, lowercase: bool) -> Option<Span> {
        let start = self.names.len();
        // The stand-ins are not ASCII: most names have none, and are copied as they are.
        if text.is_ascii() {
            self.names.push_str(text);
        } else {
            self.names.extend(text.chars().map(unprotect_char));
        }
        if lowercase {
            self.names[start..].make_ascii_lowercase();
        }
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(self.names.len()).ok()?,
        })
    }
}

/// What a rule is indexed by: the id, else a class, else the tag, else the first
/// attribute name of a compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyKind {
    Id,
    Class,
    Tag,
    Attribute,
}

/// Rules indexed by the key of their rightmost compound, and for each rule the keys its
/// ancestor compounds need (checked against counts of the current ancestors).
#[derive(Debug, Default)]
struct RuleIndex<'r> {
    /// Interned ids, classes, tags and attribute names (indexed by [`KeyKind`]), borrowed
    /// from the rules' selectors.
    symbols: [SymbolMap<'r>; 4],
    /// Number of symbols.
    symbol_count: usize,
    /// Rules by the symbol of their rightmost compound's key: symbol `s`'s rules are
    /// `keyed[starts[s]..starts[s + 1]]` (flat arrays: nothing allocated per symbol).
    starts: Vec<u32>,
    keyed: Vec<Candidate>,
    /// Rules whose rightmost compound has no id, class, tag or attribute.
    universal: Vec<Candidate>,
    /// The symbols some ancestor must carry for a rule to match, rule after rule (each
    /// [`Candidate`] has its run).
    required: Vec<u32>,
    /// The interned names of each [`KeyKind`] in a filter, so that most names no rule
    /// uses (an element's classes, say) are turned away without hashing them.
    filters: [NameFilter; 4],
}

/// A rule to try on an element, with the run of [`RuleIndex::required`] that some
/// ancestor must carry for it to match (read before the rule itself).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule: u32,
    required: Span,
    /// The first symbol of `required`, or, when it is empty, the symbol count (the index
    /// of the walk's count that is always 1): one load turns away most candidates.
    first: u32,
}

/// A set of names that may say "maybe" for a name not in it but never "no" for one in it:
/// one bit per (length, first byte, last byte) bucket.
#[derive(Debug, Default)]
struct NameFilter {
    bits: [u64; 4],
}

impl NameFilter {
    fn bucket(name: &str) -> usize {
        let bytes = name.as_bytes();
        let first = usize::from(bytes.first().copied().unwrap_or(0));
        let last = usize::from(bytes.last().copied().unwrap_or(0));
        (bytes.len().wrapping_mul(31) ^ first.wrapping_mul(7) ^ last.wrapping_mul(131)) % 256
    }

    fn insert(&mut self, name: &str) {
        let bucket = NameFilter::bucket(name);
        self.bits[bucket / 64] |= 1 << (bucket % 64);
    }

    /// False when `name` was certainly never inserted.
    fn may_contain(&self, name: &str) -> bool {
        let bucket = NameFilter::bucket(name);
        self.bits[bucket / 64] & (1 << (bucket % 64)) != 0
    }
}

impl<'r> RuleIndex<'r> {
    fn new(rules: &[StyleRule], selectors: &'r Selectors) -> RuleIndex<'r> {
        let mut index = RuleIndex::default();
        // Room for every key of each kind up front (some are repeats): no rehashing as
        // the maps grow.
        let mut keys_of_kind = [0usize; 4];
        let mut compounds = 0;
        for rule in rules {
            let parts = selectors.compounds(&rule.selector);
            compounds += parts.len();
            for (kind, _) in parts.iter().filter_map(|part| selectors.key(part)) {
                keys_of_kind[kind as usize] += 1;
            }
        }
        for (map, keys) in index.symbols.iter_mut().zip(keys_of_kind) {
            map.reserve(keys);
        }
        // Each rule as a candidate, with the symbol of its rightmost key (`u32::MAX` for
        // none).
        let mut keys: Vec<(u32, Candidate)> = Vec::with_capacity(rules.len());
        index
            .required
            .reserve(compounds.saturating_sub(rules.len()));
        for (rule, style_rule) in rules.iter().enumerate() {
            let compounds = selectors.compounds(&style_rule.selector);
            let key = compounds
                .last()
                .and_then(|compound| selectors.key(compound))
                .map_or(u32::MAX, |key| index.intern(key));
            let start = index.required.len() as u32;
            // A compound is matched against an ancestor when a descendant or child
            // combinator stands somewhere to its right.
            for (position, compound) in compounds.iter().enumerate() {
                let is_ancestor = compounds
                    .get(position + 1..)
                    .unwrap_or_default()
                    .iter()
                    .any(|right| right.combinator != Some(Combinator::NextSibling));
                if position + 1 < compounds.len()
                    && is_ancestor
                    && let Some(key) = selectors.key(compound)
                {
                    let symbol = index.intern(key);
                    index.required.push(symbol);
                }
            }
            let required = Span {
                start,
                end: index.required.len() as u32,
            };
            keys.push((
                key,
                Candidate {
                    rule: rule as u32,
                    required,
                    first: u32::MAX,
                },
            ));
        }
        // Count the rules of each symbol, then place them (in rule order within each).
        let mut starts = vec![0u32; index.symbol_count + 1];
        for &(key, _) in &keys {
            if let Some(count) = starts.get_mut(key as usize + 1) {
                *count += 1;
            }
        }
        for symbol in 0..index.symbol_count {
            starts[symbol + 1] += starts[symbol];
        }
        let mut next = starts.clone();
        let placeholder = Candidate {
            rule: 0,
            required: Span::default(),
            first: 0,
        };
        let symbol_count = index.symbol_count as u32;
        for (_, candidate) in &mut keys {
            candidate.first = index
                .required
                .get(candidate.required.range())
                .and_then(|required| required.first().copied())
                .unwrap_or(symbol_count);
        }
        index.keyed = vec![placeholder; starts.last().map_or(0, |&total| total as usize)];
        for &(key, candidate) in &keys {
            match next.get_mut(key as usize) {
                Some(slot) if key != u32::MAX => {
                    if let Some(place) = index.keyed.get_mut(*slot as usize) {
                        *place = candidate;
                    }
                    *slot += 1;
                }
                _ => index.universal.push(candidate),
            }
        }
        index.starts = starts;
        index
    }

    fn intern(&mut self, (kind, name): (KeyKind, &'r str)) -> u32 {
        let symbol = self.symbol_count as u32;
        match self.symbols[kind as usize].entry(name) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(slot) => {
                slot.insert(symbol);
                self.filters[kind as usize].insert(name);
                self.symbol_count += 1;
                symbol
            }
        }
    }

    fn symbol_count(&self) -> usize {
        self.symbol_count
    }

    /// The rules whose rightmost compound's key is `symbol`.
    fn keyed_by(&self, symbol: u32) -> &[Candidate] {
        let symbol = symbol as usize;
        match (self.starts.get(symbol), self.starts.get(symbol + 1)) {
            (Some(&start), Some(&end)) => self
                .keyed
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// The symbols some ancestor must carry for `candidate` to match.
    fn required(&self, candidate: &Candidate) -> &[u32] {
        self.required
            .get(candidate.required.range())
            .unwrap_or_default()
    }

    /// The symbols an element carries (its tag, id, classes and attribute names that some
    /// rule uses),
    /// sorted and without duplicates, appended to `symbols`. Tags are looked up through
    /// `tags`.
    fn node_symbols(
        &self,
        node: &Node,
        attributes: &WalkAttributes<'_>,
        tags: &mut TagCache,
        symbols: &mut Vec<u32>,
    ) {
        if self.symbol_count == 0 {
            return;
        }
        let from = symbols.len();
        let tag_symbols = &self.symbols[KeyKind::Tag as usize];
        if let Some(name) = node.element_name()
            && self.filters[KeyKind::Tag as usize].may_contain(name)
            && let Some(symbol) = tags.symbol(name, tag_symbols)
        {
            symbols.push(symbol);
        }
        let mut lookup = |kind: KeyKind, name: &str| {
            if !self.filters[kind as usize].may_contain(name) {
                return;
            }
            if let Some(symbol) = self.symbols[kind as usize].get(name) {
                symbols.push(*symbol);
            }
        };
        if let Some(id) = attributes.id {
            lookup(KeyKind::Id, id);
        }
        if let Some(classes) = attributes.class {
            for class in classes.split_ascii_whitespace() {
                lookup(KeyKind::Class, class);
            }
        }
        if !self.symbols[KeyKind::Attribute as usize].is_empty() {
            for (name, _) in node.attrs() {
                lookup(KeyKind::Attribute, name);
            }
        }
        let added = &mut symbols[from..];
        added.sort_unstable();
        // Remove duplicates from the appended part only.
        let mut kept = from;
        for index in from..symbols.len() {
            if kept == from || symbols[kept - 1] != symbols[index] {
                symbols[kept] = symbols[index];
                kept += 1;
            }
        }
        symbols.truncate(kept);
    }

    /// The rules worth trying on an element with these symbols, in that order.
    #[cfg(test)]
    fn candidates(&self, symbols: &[u32], out: &mut Vec<Candidate>) {
        out.clear();
        for &symbol in symbols {
            out.extend_from_slice(self.keyed_by(symbol));
        }
        out.extend_from_slice(&self.universal);
    }
}

/// Number of entries of a [`TagCache`].
const TAG_CACHE_SLOTS: usize = 16;

/// Recent lookups of tag names in the rule index: pages repeat a few tag names (`div`,
/// `p`, `a`), and comparing a short name costs less than hashing it.
#[derive(Debug, Default)]
struct TagCache {
    /// (tag name, its symbol if some rule uses it), at a slot chosen by the name.
    slots: [Option<(String, Option<u32>)>; TAG_CACHE_SLOTS],
}

impl TagCache {
    /// The symbol of tag `name`: the cached answer, or else `tags`'s (then cached).
    fn symbol(&mut self, name: &str, tags: &SymbolMap<'_>) -> Option<u32> {
        let bytes = name.as_bytes();
        let first = usize::from(bytes.first().copied().unwrap_or(0));
        let last = usize::from(bytes.last().copied().unwrap_or(0));
        let slot = &mut self.slots[(bytes.len() + 7 * first + last) % TAG_CACHE_SLOTS];
        if let Some((cached, symbol)) = slot
            && cached == name
        {
            return *symbol;
        }
        let symbol = tags.get(name).copied();
        match slot {
            Some((cached, cached_symbol)) => {
                cached.clear();
                cached.push_str(name);
                *cached_symbol = symbol;
            }
            None => *slot = Some((name.to_string(), symbol)),
        }
        symbol
    }
}

/// Previous and next element siblings of every node, as node indexes (`u32`, a quarter
/// of the memory of `Option<usize>` to fill and read; [`Siblings::NONE`] for none).
struct Siblings {
    previous: Vec<u32>,
    next: Vec<u32>,
}

impl Siblings {
    /// No sibling. A node whose index does not fit below it (a document of four billion
    /// nodes cannot be held in memory) is never anyone's sibling.
    const NONE: u32 = u32::MAX;

    /// Tables that give no sibling to any node, for pages whose rules never ask.
    fn none() -> Siblings {
        Siblings {
            previous: Vec::new(),
            next: Vec::new(),
        }
    }

    fn new(document: &Document) -> Siblings {
        let nodes = document.nodes();
        let mut previous = vec![Siblings::NONE; nodes.len()];
        let mut next = vec![Siblings::NONE; nodes.len()];
        for node in nodes {
            let mut last = Siblings::NONE;
            for &child in &node.children {
                if child >= nodes.len() || nodes[child].element_name().is_none() {
                    continue;
                }
                let Ok(index) = u32::try_from(child) else {
                    continue;
                };
                if index == Siblings::NONE {
                    continue;
                }
                previous[child] = last;
                if let Some(slot) = next.get_mut(last as usize) {
                    *slot = index;
                }
                last = index;
            }
        }
        Siblings { previous, next }
    }

    /// The previous element sibling of `id`.
    fn previous(&self, id: NodeId) -> Option<NodeId> {
        Siblings::read(&self.previous, id)
    }

    /// The next element sibling of `id`.
    fn next(&self, id: NodeId) -> Option<NodeId> {
        Siblings::read(&self.next, id)
    }

    fn read(table: &[u32], id: NodeId) -> Option<NodeId> {
        match table.get(id).copied() {
            Some(Siblings::NONE) | None => None,
            Some(index) => Some(index as NodeId),
        }
    }
}

/// How a match attempt failed, so that the search can stop early (the scheme of
/// Servo's selector matching: linear instead of exponential on deep trees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Matched,
    RestartFromClosestLaterSibling,
    RestartFromClosestDescendant,
    NotMatchedGlobally,
}

/// Matches selectors against elements within a work budget.
struct Matcher<'d> {
    nodes: &'d [Node],
    siblings: &'d Siblings,
    /// The selectors' compounds and names.
    selectors: &'d Selectors,
    budget: u64,
}

impl Matcher<'_> {
    fn spend(&mut self, steps: u64) -> bool {
        if self.budget < steps {
            self.budget = 0;
            return false;
        }
        self.budget -= steps;
        true
    }

    /// False when some ancestor compound needs a tag, id or class no ancestor carries.
    #[cfg(test)]
    fn ancestors_may_match(&mut self, required: &[u32], counts: &[u32]) -> bool {
        self.ancestors_may_match_spending(1, required, counts)
    }

    /// [`Matcher::ancestors_may_match`] spending `steps` steps (those of candidates
    /// turned away before it, and its own).
    fn ancestors_may_match_spending(
        &mut self,
        steps: u64,
        required: &[u32],
        counts: &[u32],
    ) -> bool {
        self.spend(steps)
            && required
                .iter()
                .all(|&symbol| counts.get(symbol as usize).is_some_and(|count| *count > 0))
    }

    fn matches(&mut self, selector: &Selector, id: NodeId) -> bool {
        let compounds = self.selectors.compounds(selector);
        match compounds.len().checked_sub(1) {
            Some(last) => self.match_from(compounds, last, id) == Outcome::Matched,
            None => false,
        }
    }

    /// Matches `compounds[..=index]` with `compounds[index]` on `id`. Recursion depth is
    /// bounded by [`MAX_COMPOUNDS`], not by the document.
    fn match_from(&mut self, compounds: &[Compound], index: usize, id: NodeId) -> Outcome {
        if !self.spend(1) {
            return Outcome::NotMatchedGlobally;
        }
        let Some(compound) = compounds.get(index) else {
            return Outcome::NotMatchedGlobally;
        };
        if !self.compound_matches(compound, id) {
            return Outcome::RestartFromClosestLaterSibling;
        }
        let Some(left) = index.checked_sub(1) else {
            return Outcome::Matched;
        };
        // Every compound but the leftmost has one.
        let Some(combinator) = compound.combinator else {
            return Outcome::NotMatchedGlobally;
        };
        let not_found = match combinator {
            Combinator::NextSibling => Outcome::RestartFromClosestDescendant,
            Combinator::Descendant | Combinator::Child => Outcome::NotMatchedGlobally,
        };
        let mut next = self.step(id, combinator);
        loop {
            let Some(candidate) = next else {
                return not_found;
            };
            let outcome = self.match_from(compounds, left, candidate);
            match (outcome, combinator) {
                (Outcome::Matched | Outcome::NotMatchedGlobally, _)
                | (_, Combinator::NextSibling) => return outcome,
                (_, Combinator::Child) => return Outcome::RestartFromClosestDescendant,
                (_, Combinator::Descendant) => {}
            }
            next = self.step(candidate, combinator);
        }
    }

    fn step(&self, id: NodeId, combinator: Combinator) -> Option<NodeId> {
        match combinator {
            Combinator::Descendant | Combinator::Child => self.parent_element(id),
            Combinator::NextSibling => self.siblings.previous(id),
        }
    }

    fn parent_element(&self, id: NodeId) -> Option<NodeId> {
        let parent = self.nodes.get(id)?.parent?;
        self.nodes.get(parent)?.element_name().map(|_| parent)
    }

    fn compound_matches(&mut self, compound: &Compound, id: NodeId) -> bool {
        let Some(node) = self.nodes.get(id) else {
            return false;
        };
        let Some(name) = node.element_name() else {
            return false;
        };
        let selectors = self.selectors;
        if compound.tag.is_some_and(|tag| selectors.name(tag) != name) {
            return false;
        }
        if selectors
            .ids(compound)
            .iter()
            .any(|id| node.attr("id") != Some(selectors.name(*id)))
        {
            return false;
        }
        let classes = selectors.classes(compound);
        if !classes.is_empty() {
            let list = node.attr("class").unwrap_or("");
            // Long class lists cost in proportion.
            if !self.spend(1 + list.len() as u64 / 64) {
                return false;
            }
            let has = |class: &Span| {
                let class = selectors.name(*class);
                list.split_ascii_whitespace().any(|c| c == class)
            };
            if !classes.iter().all(has) {
                return false;
            }
        }
        let attributes = selectors.attributes(compound);
        if !attributes.is_empty() && !self.spend(1 + node.attrs().len() as u64 / 8) {
            return false;
        }
        for (attribute, test) in attributes {
            let attribute = selectors.name(*attribute);
            let Some(value) = node.attr(attribute) else {
                return false;
            };
            let matched = match *test {
                AttributeTest::Exists => true,
                AttributeTest::Equals(expected) if CASE_INSENSITIVE_VALUES.contains(&attribute) => {
                    value.eq_ignore_ascii_case(selectors.name(expected))
                }
                AttributeTest::Equals(expected) => value == selectors.name(expected),
                AttributeTest::Includes(expected) => {
                    let expected = selectors.name(expected);
                    value.split_ascii_whitespace().any(|word| word == expected)
                }
                AttributeTest::DashMatch(expected) => {
                    let expected = selectors.name(expected);
                    value == expected
                        || value
                            .strip_prefix(expected)
                            .is_some_and(|rest| rest.starts_with('-'))
                }
            };
            if !matched {
                return false;
            }
        }
        selectors
            .pseudo_classes(compound)
            .iter()
            .all(|pseudo| self.pseudo_matches(pseudo, id, node, name))
    }

    fn pseudo_matches(&mut self, pseudo: &Pseudo, id: NodeId, node: &Node, name: &str) -> bool {
        let previous = self.siblings.previous(id);
        let next = self.siblings.next(id);
        match pseudo {
            Pseudo::FirstChild => previous.is_none(),
            Pseudo::LastChild => next.is_none(),
            Pseudo::OnlyChild => previous.is_none() && next.is_none(),
            Pseudo::Root => node
                .parent
                .and_then(|parent| self.nodes.get(parent))
                .is_some_and(|parent| parent.kind == NodeKind::Document),
            Pseudo::Empty => {
                self.spend(1 + node.children.len() as u64 / 8)
                    && node.children.iter().all(|&child| {
                        matches!(
                            self.nodes.get(child).map(|child| &child.kind),
                            Some(NodeKind::Comment(_))
                        )
                    })
            }
            Pseudo::Link => matches!(name, "a" | "area") && node.attr("href").is_some(),
            Pseudo::Lang(lang) => {
                let lang = self.selectors.name(*lang);
                let mut current = Some(id);
                while let Some(at) = current {
                    if !self.spend(1) {
                        return false;
                    }
                    let Some(at_node) = self.nodes.get(at) else {
                        return false;
                    };
                    if let Some(value) = at_node.attr("lang") {
                        let value = value.to_ascii_lowercase();
                        let lang = lang.to_ascii_lowercase();
                        return value == lang
                            || value
                                .strip_prefix(lang.as_str())
                                .is_some_and(|rest| rest.starts_with('-'));
                    }
                    current = at_node.parent;
                }
                false
            }
            Pseudo::Never => false,
        }
    }
}

/// Attributes whose values HTML compares case-insensitively in selectors.
const CASE_INSENSITIVE_VALUES: &[&str] = &[
    "type", "dir", "lang", "method", "align", "valign", "scope", "target", "rel",
];

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::HiddenReason::*;
    use super::*;
    use crate::test_support::numbers_below;

    /// The node with `id="<id>"`.
    fn element(document: &Document, id: &str) -> NodeId {
        document
            .nodes()
            .iter()
            .position(|node| node.attr("id") == Some(id))
            .expect("an element with that id")
    }

    /// Why the element `id="t"` of `html` is hidden.
    fn reason(html: &str) -> Option<HiddenReason> {
        reason_of(html, "t")
    }

    fn reason_of(html: &str, id: &str) -> Option<HiddenReason> {
        let document = Document::parse(html);
        Visibility::compute(&document).hidden_reason(element(&document, id))
    }

    /// `#t` styled by a `<style>` block.
    fn styled(css: &str, body: &str) -> Option<HiddenReason> {
        reason(&format!("<style>{css}</style>{body}"))
    }

    /// `<div id=t>` with an inline style.
    fn inline(style: &str) -> Option<HiddenReason> {
        reason(&format!("<div id=t style=\"{style}\">x</div>"))
    }

    // --- one test per technique: attribute, inline, stylesheet ---

    #[test]
    fn hidden_attribute_hides_unless_author_display_overrides_it() {
        assert_eq!(reason("<div hidden id=t>x</div>"), Some(HiddenAttribute));
        assert_eq!(
            reason("<p hidden=until-found id=t>x</p>"),
            Some(HiddenAttribute)
        );
        // Browsers show it: [hidden] is only a UA-level display:none.
        assert_eq!(
            reason("<div hidden id=t style='display:block'>x</div>"),
            None
        );
        assert_eq!(
            styled(".x{display:flex}", "<div hidden class=x id=t>x</div>"),
            None
        );
        assert_eq!(
            styled("#t{display:none}", "<div hidden id=t>x</div>"),
            Some(DisplayNone)
        );
    }

    #[test]
    fn input_type_hidden_is_hidden_whatever_the_css() {
        assert_eq!(reason("<input type=hidden id=t>"), Some(HiddenAttribute));
        assert_eq!(
            reason("<input type=HIDDEN id=t style='display:block !important'>"),
            Some(HiddenAttribute)
        );
        assert_eq!(reason("<input type=text id=t>"), None);
    }

    #[test]
    fn aria_hidden_alone_does_not_hide() {
        assert_eq!(reason("<div aria-hidden=true id=t>x</div>"), None);
    }

    #[test]
    fn display_none_inline_and_stylesheet() {
        assert_eq!(inline("display:none"), Some(DisplayNone));
        assert_eq!(
            styled("#t{display:none}", "<div id=t>x</div>"),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(".ad{display:none}", "<a class=ad id=t>x</a>"),
            Some(DisplayNone)
        );
        assert_eq!(inline("display:contents"), None);
    }

    #[test]
    fn visibility_hidden_and_collapse() {
        assert_eq!(inline("visibility:hidden"), Some(VisibilityHidden));
        assert_eq!(inline("visibility:collapse"), Some(VisibilityHidden));
        assert_eq!(
            styled("div{visibility:hidden}", "<div id=t>x</div>"),
            Some(VisibilityHidden)
        );
        assert_eq!(inline("visibility:visible"), None);
    }

    #[test]
    fn opacity_of_one_percent_or_less() {
        for value in ["0", "0.0", "0%", ".01", "0.009", "1%", "-1"] {
            assert_eq!(
                inline(&format!("opacity:{value}")),
                Some(OpacityZero),
                "{value}"
            );
        }
        for value in ["0.5", ".02", "50%", "1", "calc(1)"] {
            assert_eq!(inline(&format!("opacity:{value}")), None, "{value}");
        }
        assert_eq!(
            styled(".o{opacity:0}", "<img class=o id=t>"),
            Some(OpacityZero)
        );
    }

    #[test]
    fn opacities_multiply_down_the_tree() {
        let html = "<div style='opacity:.1'><p id=p style='opacity:.1'><a id=t>x</a></p></div>";
        let document = Document::parse(html);
        let visibility = Visibility::compute(&document);
        let p = element(&document, "p");
        assert_eq!(visibility.own_reason(p), None);
        assert_eq!(visibility.hidden_reason(p), Some(OpacityZero));
        assert_eq!(
            visibility.hidden_reason(element(&document, "t")),
            Some(OpacityZero)
        );
        assert_eq!(
            reason("<div style='opacity:.5'><p style='opacity:.5'><a id=t>x</a></p></div>"),
            None
        );
    }

    #[test]
    fn zero_size_from_attributes_on_embedded_content() {
        assert_eq!(
            reason("<iframe id=t src=x width=0 height=0></iframe>"),
            Some(ZeroSize)
        );
        // Either dimension is enough: a 1x300 frame still loads its page unseen.
        assert_eq!(
            reason("<iframe id=t src=x width=1 height=300></iframe>"),
            Some(ZeroSize)
        );
        assert_eq!(
            reason("<img id=t src=x width='1' height='1'>"),
            Some(ZeroSize)
        );
        assert_eq!(reason("<img id=t src=x height=' 0px'>"), Some(ZeroSize));
        assert_eq!(reason("<img id=t src=x width=0%>"), Some(ZeroSize));
        assert_eq!(reason("<iframe id=t width=100 height=100></iframe>"), None);
        assert_eq!(reason("<img id=t src=x width=10%>"), None);
        // Browsers ignore width/height attributes on a div.
        assert_eq!(reason("<div id=t width=0 height=0>x</div>"), None);
        // Author CSS overrides the attribute.
        assert_eq!(
            reason("<iframe id=t width=0 style='width:300px'></iframe>"),
            None
        );
    }

    #[test]
    fn zero_size_from_css() {
        for style in [
            "width:0;height:0",
            "width:1px",
            "height:0em",
            "max-height:0",
            "width:0.5px",
            "height:calc(0px)",
            "width:0 !important",
        ] {
            assert_eq!(
                reason(&format!("<iframe id=t src=x style='{style}'></iframe>")),
                Some(ZeroSize),
                "{style}"
            );
        }
        assert_eq!(
            styled(".f{width:0px;height:0px}", "<iframe class=f id=t></iframe>"),
            Some(ZeroSize)
        );
        assert_eq!(
            reason("<img id=t style='width:0;min-width:20px'>"),
            None,
            "min-width wins over width"
        );
        assert_eq!(
            reason("<iframe id=t style='width:2px;height:2px'></iframe>"),
            None
        );
    }

    #[test]
    fn zero_size_boxes_hide_content_only_when_they_clip_it() {
        // Content overflows a zero-height box visibly.
        assert_eq!(inline("height:0"), None);
        assert_eq!(inline("height:0;overflow:hidden"), Some(ZeroSize));
        assert_eq!(
            inline("width:1px;height:1px;overflow:hidden"),
            Some(ZeroSize)
        );
        assert_eq!(inline("max-height:0;overflow-y:hidden"), Some(ZeroSize));
        // overflow-x:hidden makes overflow-y auto: still clipped.
        assert_eq!(inline("height:0;overflow-x:hidden"), Some(ZeroSize));
        // The classic responsive video wrapper is not hidden.
        assert_eq!(
            inline("position:relative;height:0;padding-bottom:56.25%;overflow:hidden"),
            None
        );
        assert_eq!(inline("height:0;padding:10px 0;overflow:hidden"), None);
        // Width and height do not apply to a plain inline box.
        assert_eq!(
            reason("<span id=t style='width:0;height:0;overflow:hidden'>x</span>"),
            None
        );
        assert_eq!(
            reason(
                "<span id=t style='position:absolute;width:1px;height:1px;overflow:hidden'>x</span>"
            ),
            Some(ZeroSize)
        );
    }

    #[test]
    fn off_screen_positioning() {
        for style in [
            "position:absolute;left:-9999px",
            "position:fixed;top:-2000px",
            "position:absolute;left:-100em",
            "position:absolute;right:-5000px",
            "position:relative;left:-10000px",
            "position:absolute;inset:-9999px auto auto -9999px",
            "position:absolute;left:calc(-9999px)",
            "margin-left:-9999px",
            "margin:0 0 0 -3000px",
            "text-indent:-9999px",
            "text-indent:-999px",
            "transform:translateX(-9999px)",
            "transform:translate(0, -5000px)",
            "translate:-2000px",
        ] {
            assert_eq!(inline(style), Some(OffScreen), "{style}");
        }
        for style in [
            "left:-9999px",
            "position:static;left:-9999px",
            "position:absolute;left:-500px",
            "position:absolute;left:0;right:-5000px",
            "text-indent:-20px",
            "margin-left:-20px",
            "transform:translateX(-50%)",
        ] {
            assert_eq!(inline(style), None, "{style}");
        }
        assert_eq!(
            styled(
                ".sr{position:absolute;left:-10000px}",
                "<a class=sr id=t>x</a>"
            ),
            Some(OffScreen)
        );
        // text-indent does not apply to an inline box.
        assert_eq!(
            reason("<span id=t style='text-indent:-9999px'>x</span>"),
            None
        );
    }

    #[test]
    fn clipped_to_nothing() {
        for style in [
            "position:absolute;clip:rect(0 0 0 0)",
            "position:absolute;clip:rect(0,0,0,0)",
            "position:fixed;clip:rect(1px, 1px, 1px, 1px)",
            "position:absolute;clip:rect(0px 0px 0px 0px)",
            "clip-path:inset(50%)",
            "clip-path:inset(100% 0 0 0)",
            "clip-path:circle(0)",
            "clip-path:circle(0px at 50% 50%)",
            "-webkit-clip-path:inset(50%)",
            "clip-path:ellipse(0 10px)",
        ] {
            assert_eq!(inline(style), Some(Clipped), "{style}");
        }
        for style in [
            "clip:rect(0 0 0 0)",
            "position:absolute;clip:rect(0, 100px, 100px, 0)",
            "position:absolute;clip:auto",
            "clip-path:inset(10%)",
            "clip-path:circle(50%)",
        ] {
            assert_eq!(inline(style), None, "{style}");
        }
        let sr_only = ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;\
                       overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}";
        assert!(styled(sr_only, "<span class=sr-only id=t>x</span>").is_some());
    }

    #[test]
    fn scaled_to_zero() {
        for style in [
            "transform:scale(0)",
            "transform:scale(0,0)",
            "transform:scale(0, 1)",
            "transform:scaleX(0)",
            "transform:scaleY(0.00)",
            "transform:rotate(45deg) scale(0)",
            "transform:scale3d(0, 0, 1)",
            "transform:matrix(0, 0, 0, 0, 0, 0)",
            "-webkit-transform:scale(0)",
            "scale:0",
            "scale:1 0",
        ] {
            assert_eq!(inline(style), Some(ScaledToZero), "{style}");
        }
        for style in [
            "transform:scale(0.5)",
            "transform:none",
            "scale:1",
            "transform:matrix(1,0,0,1,0,0)",
        ] {
            assert_eq!(inline(style), None, "{style}");
        }
        // Transforms do not apply to inline boxes, unless they become blocks.
        assert_eq!(
            reason("<span id=t style='transform:scale(0)'>x</span>"),
            None
        );
        assert_eq!(
            reason("<span id=t style='display:inline-block;transform:scale(0)'>x</span>"),
            Some(ScaledToZero)
        );
        assert_eq!(
            reason(
                "<div style='display:flex'><span id=t style='transform:scale(0)'>x</span></div>"
            ),
            Some(ScaledToZero)
        );
    }

    // --- inheritance ---

    #[test]
    fn a_hidden_ancestor_hides_its_descendants() {
        let html = "<div id=root style='display:none'><p><a id=t href=x>link</a></p></div>";
        let document = Document::parse(html);
        let visibility = Visibility::compute(&document);
        let link = element(&document, "t");
        assert_eq!(visibility.own_reason(link), None);
        assert_eq!(visibility.hidden_reason(link), Some(DisplayNone));
        assert!(visibility.is_hidden(link));
        let text = document.node(link).children[0];
        assert_eq!(visibility.hidden_reason(text), Some(DisplayNone));
        assert_eq!(
            visibility.own_reason(element(&document, "root")),
            Some(DisplayNone)
        );
        // The nearest reason wins.
        assert_eq!(
            reason("<div style='display:none'><div style='opacity:0'><a id=t>x</a></div></div>"),
            Some(OpacityZero)
        );
    }

    #[test]
    fn visibility_visible_undoes_an_inherited_visibility_hidden_only() {
        let html = "<div style='visibility:hidden'><p id=a>x</p>\
                    <p id=t style='visibility:visible'><span id=c>y</span></p></div>";
        assert_eq!(reason_of(html, "a"), Some(VisibilityHidden));
        assert_eq!(reason_of(html, "t"), None);
        assert_eq!(reason_of(html, "c"), None);
        // own_reason of an inheriting child is none: the reason is its parent's.
        let document = Document::parse(html);
        let visibility = Visibility::compute(&document);
        assert_eq!(visibility.own_reason(element(&document, "a")), None);
        // display:none, opacity and the like cannot be undone.
        assert_eq!(
            reason("<div style='display:none'><p id=t style='visibility:visible'>x</p></div>"),
            Some(DisplayNone)
        );
        assert_eq!(
            reason("<div style='opacity:0'><p id=t style='visibility:visible'>x</p></div>"),
            Some(OpacityZero)
        );
        assert_eq!(
            reason(
                "<div style='display:none'><div style='visibility:hidden'>\
                 <p id=t style='visibility:visible'>x</p></div></div>"
            ),
            Some(DisplayNone)
        );
        // From a stylesheet, and `inherit` keeps the parent's.
        assert_eq!(
            styled(
                ".h{visibility:hidden} .h .v{visibility:visible}",
                "<div class=h><p class=v id=t>x</p></div>"
            ),
            None
        );
        assert_eq!(
            reason("<div style='visibility:hidden'><p id=t style='visibility:inherit'>x</p></div>"),
            Some(VisibilityHidden)
        );
    }

    // --- cascade ---

    #[test]
    fn specificity_beats_source_order_both_ways() {
        let body = "<div id=t class=x>x</div>";
        assert_eq!(styled(".x{display:none} #t{display:block}", body), None);
        assert_eq!(styled("#t{display:block} .x{display:none}", body), None);
        assert_eq!(
            styled("#t{display:none} .x{display:block}", body),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(".x{display:block} #t{display:none}", body),
            Some(DisplayNone)
        );
        assert_eq!(
            styled("div.x{display:none} .x{display:block}", body),
            Some(DisplayNone)
        );
        assert_eq!(
            styled("body .x{display:block} .x{display:none}", body),
            None
        );
    }

    #[test]
    fn later_rules_win_at_equal_specificity() {
        let body = "<div id=t class='x y'>x</div>";
        assert_eq!(styled(".x{display:none} .y{display:block}", body), None);
        assert_eq!(
            styled(".y{display:block} .x{display:none}", body),
            Some(DisplayNone)
        );
        // Across style blocks too, and a style block later in the body still applies.
        assert_eq!(
            reason(
                "<style>.x{display:block}</style><div id=t class=x>x</div><style>.x{display:none}</style>"
            ),
            Some(DisplayNone)
        );
        assert_eq!(
            reason(
                "<style>.x{display:none}</style><style>.x{display:block}</style><div id=t class=x>x</div>"
            ),
            None
        );
        // Within one block, the last declaration wins.
        assert_eq!(
            styled("#t{display:none;display:block}", "<p id=t>x</p>"),
            None
        );
        assert_eq!(inline("display:block;display:none"), Some(DisplayNone));
    }

    #[test]
    fn important_and_inline_styles() {
        let body = |style: &str| format!("<div id=t class=x style='{style}'>x</div>");
        assert_eq!(styled("#t{display:none}", &body("display:block")), None);
        assert_eq!(
            styled("#t{display:none !important}", &body("display:block")),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(
                ".x{display:block !important}",
                &body("display:none !important")
            ),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(".x{display:none !important} #t{display:block}", &body("")),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(
                ".x{display:none !important} #t{display:block !important}",
                &body("")
            ),
            None
        );
        assert_eq!(
            styled("#t{display:block}", &body("display:none")),
            Some(DisplayNone)
        );
    }

    #[test]
    fn without_css_an_element_is_hidden_only_by_attributes() {
        let html = r#"<div id=a></div><span id=b></span><img id=c src=x><iframe id=d></iframe>
            <p id=e hidden></p><input id=f type=hidden><input id=g type=text><svg id=h></svg>"#;
        let document = Document::parse(html);
        for (id, node) in document.nodes().iter().enumerate() {
            let Some(name) = node.element_name() else {
                continue;
            };
            for parent_blockifies in [false, true] {
                let own = interpret(node, name, &Style::default(), parent_blockifies);
                if may_hide_without_css(name, node.attr("hidden").is_some()) {
                    continue;
                }
                assert_eq!(own.reason, None, "{name} {id}");
                assert_eq!(own.structural, None, "{name} {id}");
                assert_eq!(own.visibility, VisibilitySpec::Inherit, "{name} {id}");
                assert_eq!(own.opacity, 1.0, "{name} {id}");
                assert!(!own.blockifies_children, "{name} {id}");
            }
        }
        assert!(reason_of(html, "e").is_some());
        assert!(reason_of(html, "f").is_some());
        assert!(reason_of(html, "g").is_none());
    }

    #[test]
    fn scan_until_agrees_with_the_byte_at_a_time_version() {
        fn reference(text: &str, start: usize, stops: &[u8]) -> usize {
            let bytes = text.as_bytes();
            let mut depth = 0usize;
            let mut i = start;
            while i < bytes.len() {
                let byte = bytes[i];
                if depth == 0 && stops.contains(&byte) {
                    return i;
                }
                match byte {
                    b'"' | b'\'' => {
                        i = skip_string(bytes, i);
                        continue;
                    }
                    b'\\' => {
                        i += 2;
                        continue;
                    }
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        let texts = [
            "",
            "a:b;c:d",
            "a:url(x;y);b:c",
            "content:\"a;b\";x:y",
            "content:'a\\';b';x",
            "x\\;y;z",
            "x\\",
            "a{b;c}d;e",
            "a]]]);b",
            "caf\u{e9};\u{20ac}{;}x;y",
            "\"unterminated;x",
            "'line\nbreak';x",
            "0 0 0 -9999px",
            "rect(0, 0 0 0), x",
        ];
        let stops: [&[u8]; 6] = [b";", b"{", b"}", b";{", b",", b" \t\n\r\x0c,"];
        for text in texts {
            for stop in stops {
                for start in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                    assert_eq!(
                        scan_until(text, start, &Stops::new(stop)),
                        reference(text, start, stop),
                        "{text:?} {start} {stop:?}"
                    );
                }
            }
        }
    }

    /// The declarations `parse_list` reads from `text`, as the reference gives them.
    fn read_list(text: &str) -> Vec<reference::Read> {
        let mut declarations = Declarations::default();
        let range = declarations.parse_list(text);
        declarations
            .iter(range)
            .map(|(declaration, value)| {
                (
                    declaration.property,
                    value.to_string(),
                    declaration.important,
                )
            })
            .collect()
    }

    #[test]
    fn declaration_lists_read_as_the_reference_reads_them() {
        use reference::{TRICKY_IMPORTANT, TRICKY_NAMES, TRICKY_VALUES};
        let mut count = 0;
        for name in TRICKY_NAMES {
            for value in TRICKY_VALUES {
                for important in TRICKY_IMPORTANT {
                    for text in [
                        format!("{name}:{value}{important}"),
                        format!(" {name} : {value} {important} "),
                        format!("{name}:{value}{important};{name}:1px;{name}:{value}"),
                        format!("x:y;{name}:{value}{important};;"),
                    ] {
                        assert_eq!(
                            read_list(&text),
                            reference::parse_declaration_list(&text),
                            "{text:?}"
                        );
                        count += 1;
                    }
                }
            }
        }
        assert!(count > 10_000);
        let long = "display:none;".repeat(50)
            + "opacity:0 !important;margin:0 0 0 -9999px;padding:1px 2px;display:block;\
               opacity:1;inset:0 1px 2px;overflow:hidden auto;padding-left:0 !important";
        assert_eq!(read_list(&long), reference::parse_declaration_list(&long));
    }

    /// Texts made of fragments that CSS readers get wrong, picked by a fixed pseudo-random
    /// sequence: `count` texts of up to `parts` fragments each.
    fn hostile_texts(count: usize, parts: usize) -> Vec<String> {
        const FRAGMENTS: &[&str] = &[
            ":",
            ";",
            ";",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            "\"",
            "'",
            "\\",
            "\\3a ",
            "!",
            "!important",
            " ! IMPORTANT",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "é",
            "€",
            "display",
            "DISPLAY",
            "Display",
            "disp",
            "lay",
            "margin",
            "padding",
            "inset",
            "overflow",
            "opacity",
            "color",
            "font-size",
            "-webkit-transform",
            "width",
            "max-width",
            "none",
            "0",
            "1px",
            "auto",
            "-9999px",
            "0 0 0 -9999px",
            "hidden scroll",
            "url(x;y)",
            "calc(1px + 2px)",
            "var(--x)",
            "scale(0)",
            "#fff",
            ",",
            "%",
            "*",
            "/",
            "-",
            "_x",
            "a(b",
            "a\\:b",
        ];
        let mut next = numbers_below(0x2545_f491_4f6c_dd1du64);
        (0..count)
            .map(|_| {
                let length = next(parts + 1);
                (0..length)
                    .map(|_| FRAGMENTS[next(FRAGMENTS.len())])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn hostile_declaration_lists_read_as_the_reference_reads_them() {
        for text in hostile_texts(40_000, 12) {
            assert_eq!(
                read_list(&text),
                reference::parse_declaration_list(&text),
                "{text:?}"
            );
        }
        // Plausible lists too: most fragments are declarations.
        for text in hostile_texts(20_000, 6) {
            let text = text.replace(';', ":0;display:none;");
            assert_eq!(
                read_list(&text),
                reference::parse_declaration_list(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn declaration_scans_agree_with_scan_until_and_searches() {
        let mut texts = hostile_texts(20_000, 10);
        texts.extend(
            reference::TRICKY_VALUES
                .iter()
                .map(|value| format!("a:{value};b:c")),
        );
        for text in &texts {
            for start in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let scan = scan_declaration(text, start);
                assert_eq!(scan.stop, scan_until(text, start, &SEMICOLON), "{text:?}");
                let chunk = &text[start..scan.stop];
                let plain = !chunk.contains(['"', '\'', '\\']);
                if plain {
                    assert!(!scan.unusual, "{text:?} {start}");
                }
                if !scan.unusual {
                    assert!(plain, "{text:?} {start}");
                    assert_eq!(scan.brace, chunk.contains('{'), "{text:?} {start}");
                    assert_eq!(
                        scan.colon.map(|colon| colon - start),
                        chunk.find(':'),
                        "{text:?} {start}"
                    );
                }
            }
        }
    }

    #[test]
    fn tracked_names_pass_the_first_byte_filter_in_any_case() {
        let slow = |name: &str| {
            TRACKED
                .iter()
                .find(|tracked| tracked.eq_ignore_ascii_case(name))
                .copied()
        };
        let mut names: Vec<String> = TRACKED
            .iter()
            .flat_map(|name| [name.to_string(), name.to_ascii_uppercase()])
            .collect();
        names.extend(reference::TRICKY_NAMES.iter().map(|name| name.to_string()));
        names.extend(hostile_texts(5_000, 3));
        for name in [
            "color",
            "font-size",
            "line-height",
            "\u{e9}top",
            "Top",
            "-",
            "",
        ] {
            names.push(name.to_string());
        }
        for name in &names {
            assert_eq!(tracked_name(name), slow(name), "{name:?}");
        }
    }

    /// Pages of random nesting, classes, ids, attributes, inline styles and rules (all
    /// combinators and pseudo-classes), from a fixed pseudo-random sequence.
    fn random_pages(count: usize) -> Vec<String> {
        const CLASSES: &[&str] = &["a", "b", "c", "ad", "x"];
        const TAGS: &[&str] = &[
            "div", "p", "span", "a", "section", "img", "input", "ul", "li",
        ];
        const SELECTORS: &[&str] = &[
            ".a",
            ".b .c",
            "div > .a",
            ".a + p",
            "p:first-child",
            "li:last-child",
            "span:only-child",
            "#i1",
            "#i2 .b",
            "[hidden]",
            "[data-x=y]",
            "*",
            "div *",
            ".x:hover",
            "section .ad span",
            ":root",
            ":empty",
            "a:link",
            ".c:lang(en)",
            "ul li + li",
            "img[width]",
        ];
        const DECLARATIONS: &[&str] = &[
            "display:none",
            "display:block",
            "visibility:hidden",
            "visibility:visible",
            "opacity:0",
            "width:0;height:0;overflow:hidden",
            "position:absolute;left:-9999px",
            "display:flex",
            "color:red",
            "margin:0 auto",
            "transform:scale(0)",
        ];
        let mut next = numbers_below(0x9e37_79b9_7f4a_7c15u64);
        (0..count)
            .map(|_| {
                let mut html = String::from("<style>");
                for _ in 0..next(8) {
                    let selector = SELECTORS[next(SELECTORS.len())];
                    let declaration = DECLARATIONS[next(DECLARATIONS.len())];
                    html.push_str(&format!("{selector}{{{declaration}}}"));
                }
                html.push_str("</style><body lang=en>");
                let mut open = Vec::new();
                for index in 0..next(40) {
                    match next(4) {
                        0 if !open.is_empty() => {
                            html.push_str(&format!("</{}>", open.pop().unwrap_or("div")));
                        }
                        1 => html.push_str("text "),
                        _ => {
                            let tag = TAGS[next(TAGS.len())];
                            let mut attributes = format!(" id=i{index}");
                            if next(2) == 0 {
                                let class = CLASSES[next(CLASSES.len())];
                                attributes.push_str(&format!(" class=\"{class} b\""));
                            }
                            if next(6) == 0 {
                                let declaration = DECLARATIONS[next(DECLARATIONS.len())];
                                attributes.push_str(&format!(" style=\"{declaration}\""));
                            }
                            if next(8) == 0 {
                                attributes.push_str(" hidden data-x=y width=0");
                            }
                            html.push_str(&format!("<{tag}{attributes}>"));
                            open.push(tag);
                        }
                    }
                }
                html
            })
            .collect()
    }

    #[test]
    fn the_walk_agrees_with_the_walk_that_pushed_every_node() {
        for html in random_pages(3_000) {
            let document = Document::parse(&html);
            for budget in [MAX_MATCH_STEPS, 0, 1, 3, 10, 30] {
                let fast = Visibility::compute_within(&document, budget);
                let slow = reference::compute_within(&document, budget);
                assert_eq!(fast.reasons, slow.reasons, "{html:?} {budget}");
                assert_eq!(fast.incomplete, slow.incomplete, "{html:?} {budget}");
            }
        }
    }

    #[test]
    fn split_important_agrees_with_looking_for_the_bang() {
        fn by_bang(text: &str) -> (&str, bool) {
            match text.rfind('!') {
                Some(bang) if text[bang + 1..].trim().eq_ignore_ascii_case("important") => {
                    (text[..bang].trim_end(), true)
                }
                _ => (text, false),
            }
        }
        let pieces = [
            "!",
            "important",
            "IMPORTANT",
            "Important",
            " ",
            "\t",
            "t",
            "T",
            "x",
            "0",
            "\u{a0}",
            "\u{3000}",
            "é",
            "imp",
            "ant",
            ";",
            "\n",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|text| pieces.iter().map(move |piece| format!("{text}{piece}")))
                .collect();
            texts.extend(longer);
        }
        for text in &texts {
            assert_eq!(split_important(text), by_bang(text), "{text:?}");
        }
    }

    #[test]
    fn walk_attributes_are_what_attr_gives() {
        let html = "<div id=a class='x y' style='display:none' hidden id=b class=z style=x \
                    hidden=no></div><p ID=C Class=D STYLE=e></p><span></span>\
                    <img style hidden=''>";
        let document = Document::parse(html);
        for node in document.nodes() {
            let found = WalkAttributes::of(node);
            assert_eq!(found.id, node.attr("id"));
            assert_eq!(found.class, node.attr("class"));
            assert_eq!(found.style, node.attr("style"));
            assert_eq!(found.hidden, node.attr("hidden").is_some());
        }
    }

    #[test]
    fn trim_is_str_trim() {
        let mut texts = hostile_texts(5_000, 4);
        texts
            .extend(["", " ", "a", " a", "a ", "\u{a0}a", "a\u{a0}", "\u{2003}"].map(String::from));
        for text in &texts {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn lengths_without_a_minus_sign_are_never_negative() {
        let values = reference::TRICKY_VALUES.iter().copied().chain([
            "calc(-1px)",
            "-0",
            "-.5em",
            "1e-5px",
            "+-1px",
            "-moz-calc(-2px)",
            "1E+3PX",
        ]);
        for value in values {
            let value = value.to_ascii_lowercase();
            let negative = length_px(&value).is_some_and(|px| px < 0.0);
            assert!(value.contains('-') || !negative, "{value:?}");
            for property in [Property::Width, Property::MaxHeight, Property::PaddingLeft] {
                let expected = is_global(&value) || value.contains("var(") || !negative;
                assert_eq!(is_valid(property, &value), expected, "{value:?}");
            }
        }
    }

    #[test]
    fn dimension_attributes_read_as_the_float_reader_reads_them() {
        // The reader before the whole-number shortcut.
        fn reference(value: &str) -> Option<String> {
            let value = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let end = value
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(value.len());
            let number = value[..end].trim_end_matches('.').parse::<f64>().ok()?;
            if !number.is_finite() {
                return None;
            }
            let unit = if value[end..].starts_with('%') {
                "%"
            } else {
                "px"
            };
            Some(format!("{number}{unit}"))
        }
        for value in [
            "",
            "0",
            "00",
            "007",
            "1",
            " 10",
            "10px",
            "10%",
            "10 %",
            "1.",
            "1.5",
            ".5",
            ".",
            "..",
            "1..2",
            "0.0",
            "x",
            "-1",
            "+1",
            "999999999999999",
            "0000000000000001",
            "1234567890123456",
            "12345678901234567890",
            "1e3",
            "\t42%x",
            "00.%",
            "3,5",
        ] {
            let mut out = String::from("keep");
            let read = dimension_attribute(value, &mut out);
            let expected = reference(value);
            assert_eq!(read, expected.is_some(), "{value:?}");
            assert_eq!(
                out,
                format!("keep{}", expected.unwrap_or_default()),
                "{value:?}"
            );
        }
    }

    #[test]
    fn siblings_are_the_element_siblings() {
        let document =
            Document::parse("<div id=a><p id=b></p>text<!--c--><p id=c></p><p id=d></p></div>");
        let siblings = Siblings::new(&document);
        let (a, b, c, d) = (
            element(&document, "a"),
            element(&document, "b"),
            element(&document, "c"),
            element(&document, "d"),
        );
        assert_eq!(siblings.previous(b), None);
        assert_eq!(siblings.next(b), Some(c));
        assert_eq!(siblings.previous(c), Some(b));
        assert_eq!(siblings.next(c), Some(d));
        assert_eq!(siblings.previous(d), Some(c));
        assert_eq!(siblings.next(d), None);
        assert_eq!(siblings.next(a), None);
        assert_eq!(siblings.previous(usize::MAX), None);
    }

    #[test]
    fn name_filters_never_turn_away_an_inserted_name() {
        let mut filter = NameFilter::default();
        let names = [
            "a",
            "ad",
            "sponsored",
            "x-1",
            "",
            "w12",
            "é",
            "disclosure-box",
        ];
        for name in names {
            filter.insert(name);
        }
        for name in names {
            assert!(filter.may_contain(name), "{name}");
        }
        assert!(!NameFilter::default().may_contain("ad"));
    }

    #[test]
    fn unprotect_undoes_the_stand_ins_of_decode_escapes() {
        for text in [".md\\:block", "a\\.b", "plain", "caf\u{e9}", "\\31 23", ""] {
            let decoded = decode_escapes(text, true);
            let slow: String = decoded
                .chars()
                .map(|c| match (c as u32).checked_sub(PROTECTED_BASE) {
                    Some(ascii) if ascii < 0x80 => char::from_u32(ascii).unwrap_or(c),
                    _ => c,
                })
                .collect();
            assert_eq!(unprotect(&decoded), slow, "{text:?}");
        }
        assert_eq!(unprotect(&decode_escapes(".md\\:block", true)), ".md:block");
    }

    /// The pseudo-class reading before [`Pseudo::named`]: the name unprotected and
    /// lower-cased (two strings), then matched.
    fn pseudo_named_by_lowering(name: &str) -> Option<Pseudo> {
        Some(match unprotect(name).to_ascii_lowercase().as_str() {
            "first-child" => Pseudo::FirstChild,
            "last-child" => Pseudo::LastChild,
            "only-child" => Pseudo::OnlyChild,
            "root" => Pseudo::Root,
            "empty" => Pseudo::Empty,
            "link" | "any-link" => Pseudo::Link,
            "hover" | "active" | "focus" | "focus-within" | "focus-visible" | "visited"
            | "target" => Pseudo::Never,
            _ => return None,
        })
    }

    #[test]
    fn pseudo_class_names_read_as_unprotecting_and_lowering_reads_them() {
        let known = [
            "first-child",
            "last-child",
            "only-child",
            "root",
            "empty",
            "link",
            "any-link",
            "hover",
            "active",
            "focus",
            "focus-within",
            "focus-visible",
            "visited",
            "target",
        ];
        let fragments = [
            "ho",
            "ver",
            "HOVER",
            "-",
            "child",
            "First",
            "\\:",
            "\\68 over",
            "\\48",
            "\u{130}",
            "\u{17f}",
            "k",
            "K",
            "\u{212a}",
            "",
            " ",
            "lang(en)",
            "nth-child(2)",
        ];
        let mut names: Vec<String> = Vec::new();
        for name in known {
            names.push(name.to_string());
            names.push(name.to_ascii_uppercase());
        }
        let mut next = numbers_below(0x5eed_0ddc_0ffe_e123);
        for _ in 0..4000 {
            let mut name = String::new();
            if next(2) == 0 {
                // A known name in mixed case, perhaps with a piece spliced in.
                for c in known[next(known.len())].chars() {
                    name.push(if next(2) == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    });
                }
            }
            for _ in 0..next(3) {
                name.push_str(fragments[next(fragments.len())]);
            }
            names.push(name);
        }
        names.push("hover".repeat(10_000));
        for name in &names {
            // As simplecss would hand it over: escapes turned into stand-ins.
            let prepared = decode_escapes(name, true);
            assert_eq!(
                format!("{:?}", Pseudo::named(&prepared)),
                format!("{:?}", pseudo_named_by_lowering(&prepared)),
                "{name:?}"
            );
            assert_eq!(
                unprotect_lowercase(&prepared),
                unprotect(&prepared).to_ascii_lowercase()
            );
        }
        assert!(matches!(
            Pseudo::named(&decode_escapes("h\\6fVER", true)),
            Some(Pseudo::Never)
        ));
    }

    /// A selector of `selectors` as [`reference::parse_selector`] writes one.
    fn render_selector(selectors: &Selectors, selector: &Selector) -> String {
        let names = |spans: &[Span]| -> Vec<String> {
            spans
                .iter()
                .map(|span| selectors.name(*span).to_string())
                .collect()
        };
        let mut out = format!("{:?}", selector.specificity);
        for compound in selectors.compounds(selector) {
            let attributes: Vec<(String, String)> = selectors
                .attributes(compound)
                .iter()
                .map(|(name, test)| {
                    let test = match *test {
                        AttributeTest::Exists => "exists".to_string(),
                        AttributeTest::Equals(v) => format!("equals {}", selectors.name(v)),
                        AttributeTest::Includes(v) => format!("includes {}", selectors.name(v)),
                        AttributeTest::DashMatch(v) => {
                            format!("dash-match {}", selectors.name(v))
                        }
                    };
                    (selectors.name(*name).to_string(), test)
                })
                .collect();
            let pseudo_classes: Vec<String> = selectors
                .pseudo_classes(compound)
                .iter()
                .map(|pseudo| match pseudo {
                    Pseudo::FirstChild => "first-child".to_string(),
                    Pseudo::LastChild => "last-child".to_string(),
                    Pseudo::OnlyChild => "only-child".to_string(),
                    Pseudo::Root => "root".to_string(),
                    Pseudo::Empty => "empty".to_string(),
                    Pseudo::Link => "link".to_string(),
                    Pseudo::Lang(lang) => format!("lang {}", selectors.name(*lang)),
                    Pseudo::Never => "never".to_string(),
                })
                .collect();
            out.push_str(&reference::render_compound(
                compound.combinator,
                compound.tag.map(|tag| selectors.name(tag)),
                &names(selectors.ids(compound)),
                &names(selectors.classes(compound)),
                &attributes,
                &pseudo_classes,
            ));
        }
        out
    }

    /// Selectors from pieces that are easy to get wrong: escapes, case, non-ASCII names,
    /// every kind of simple selector, combinators, pseudo-classes we cannot match, junk.
    fn generated_selectors(count: usize) -> Vec<String> {
        const PIECES: &[&str] = &[
            "div",
            "DIV",
            "a",
            "*",
            "p",
            "h\\31",
            "Sp\\61n",
            ".a",
            ".md\\:block",
            ".\\31 23",
            ".\\31 23 ",
            ".é",
            ".A",
            ".c-word-12",
            "#x",
            "#w3",
            "#X\\:y",
            "[hidden]",
            "[data-x=y]",
            "[DATA-X=Y]",
            "[lang|=en]",
            "[class~=\"a b\"]",
            "[x='q']",
            "[a^=b]",
            "[a$=b]",
            "[a*=b]",
            ":first-child",
            ":LAST-CHILD",
            ":only-child",
            ":root",
            ":empty",
            ":link",
            ":any-link",
            ":hover",
            ":HOVER",
            ":focus-within",
            ":h\\6fVER",
            ":lang(en)",
            ":lang(EN-us)",
            ":not(.a)",
            ":nth-child(2)",
            "::before",
            ":unknown",
            " ",
            "  ",
            " > ",
            ">",
            "+",
            " + ",
            "~",
            " ~ ",
            ",",
            "$",
            "\\",
            "\"",
            "(",
            ")",
            "[",
            "]",
            "\u{130}",
            "\u{212a}",
            "\t",
        ];
        let mut next = numbers_below(0x5e1e_c7ed_5e1e_c7edu64);
        let mut texts: Vec<String> = (0..count)
            .map(|_| {
                (0..1 + next(8))
                    .map(|_| PIECES[next(PIECES.len())])
                    .collect()
            })
            .collect();
        texts.push(vec!["a"; MAX_COMPOUNDS].join(" "));
        texts.push(vec!["a"; MAX_COMPOUNDS + 1].join(" "));
        texts.push(vec![".b"; MAX_COMPOUNDS + 1].join(" > "));
        texts.push(".x".repeat(10_000));
        texts
    }

    #[test]
    fn selectors_read_as_the_reader_of_one_vec_per_selector_read_them() {
        let mut selectors = Selectors::default();
        let mut read = Vec::new();
        for text in generated_selectors(20_000) {
            let lengths = |selectors: &Selectors| {
                (
                    selectors.names.len(),
                    selectors.compounds.len(),
                    selectors.ids.len(),
                    selectors.classes.len(),
                    selectors.attributes.len(),
                    selectors.pseudo_classes.len(),
                )
            };
            let before = lengths(&selectors);
            let selector = selectors.parse(&text);
            // Selectors with a pseudo-class that never matches are dropped now.
            let expected = reference::parse_selector(&text)
                .filter(|(_, never)| !never)
                .map(|(rendered, _)| rendered);
            match selector {
                Some(selector) => read.push((text, selector, expected)),
                None => {
                    assert_eq!(expected, None, "{text:?}");
                    // Nothing of a selector that could not be read stays behind.
                    assert_eq!(lengths(&selectors), before, "{text:?}");
                }
            }
        }
        assert!(read.len() > 2_000, "{}", read.len());
        // Read last, after every other selector was added to the same arrays.
        for (text, selector, expected) in &read {
            assert_eq!(
                Some(render_selector(&selectors, selector)),
                *expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_node_without_styles_inherits_what_combine_gives_it() {
        let reasons = [
            None,
            Some(DisplayNone),
            Some(VisibilityHidden),
            Some(OpacityZero),
        ];
        let opacities = [1.0, 0.5, 0.1, 0.0101, 0.01, 0.005, 0.0, f64::NAN];
        for own in reasons {
            for hidden in reasons {
                for structural in reasons {
                    for visibility_hidden in [false, true] {
                        for opacity in opacities {
                            for blockifies_children in [false, true] {
                                let parent = NodeState {
                                    own,
                                    hidden,
                                    structural,
                                    visibility_hidden,
                                    opacity,
                                    blockifies_children,
                                };
                                assert_eq!(
                                    format!("{:?}", parent.inherited()),
                                    format!("{:?}", NodeState::combine(&Own::NONE, &parent)),
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn split_values_agrees_with_the_reference() {
        for value in reference::TRICKY_VALUES {
            for text in [value.to_string(), format!(" {value}, {value} ")] {
                assert_eq!(
                    split_values(&text),
                    reference::split_values(&text),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn tracked_names_are_the_names_expand_knows() {
        for name in TRACKED {
            assert!(!expand(name, "0").is_empty(), "{name}");
            assert_eq!(tracked_name(&name.to_ascii_uppercase()), Some(*name));
        }
        assert_eq!(
            TRACKED.iter().map(|name| name.len()).max(),
            Some(LONGEST_TRACKED)
        );
        for name in [
            "color",
            "font",
            "margin-right",
            "overflow-wrap",
            "-webkit-box",
            "",
        ] {
            assert!(expand(name, "0").is_empty(), "{name}");
            assert_eq!(tracked_name(name), None, "{name}");
        }
        // Every arm of `expand` is in the list: count the quoted names in its source.
        let source = include_str!("visibility.rs");
        let body = source
            .split("fn expand(name: &str, value: &str)")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("expand's source");
        let arms: Vec<&str> = body
            .lines()
            .filter(|line| line.contains("=>") && line.trim_start().starts_with('"'))
            .flat_map(|line| line.split("=>").next().unwrap_or("").split('|'))
            .map(|name| name.trim().trim_matches('"'))
            .collect();
        assert_eq!(arms.len(), TRACKED.len(), "{arms:?}");
        for arm in arms {
            assert!(TRACKED.contains(&arm), "{arm}");
        }
    }

    #[test]
    fn declarations_a_browser_drops_do_not_override() {
        let body = "<div id=t class=x>x</div>";
        assert_eq!(
            styled(".x{display:none} #t{display:blah}", body),
            Some(DisplayNone)
        );
        assert_eq!(
            styled(".x{display:none} #t{display:}", body),
            Some(DisplayNone)
        );
        assert_eq!(
            inline("display:none; display:none block"),
            Some(DisplayNone)
        );
        // A value we cannot evaluate still wins (and counts as visible).
        assert_eq!(styled(".x{display:none} #t{display:var(--d)}", body), None);
        assert_eq!(styled(".x{display:none} #t{display:initial}", body), None);
        // A broken declaration does not take the following ones down.
        assert_eq!(inline("color:; display:none"), Some(DisplayNone));
        assert_eq!(inline("foo; display:none"), Some(DisplayNone));
    }

    // --- at-rules ---

    #[test]
    fn media_blocks_for_print_do_not_apply() {
        let body = "<div id=t>x</div>";
        assert_eq!(styled("@media print{#t{display:none}}", body), None);
        assert_eq!(styled("@media speech{#t{display:none}}", body), None);
        assert_eq!(styled("@media not screen{#t{display:none}}", body), None);
        assert_eq!(
            reason("<style media=print>#t{display:none}</style><div id=t>x</div>"),
            None
        );
        assert_eq!(
            reason("<style type=text/less>#t{display:none}</style><div id=t>x</div>"),
            None
        );
        for media in [
            "screen",
            "all",
            "SCREEN",
            "only screen and (max-width: 600px)",
            "(min-width:768px)",
            "print, screen",
            "not print",
        ] {
            assert_eq!(
                styled(&format!("@media {media} {{ #t {{ display:none }} }}"), body),
                Some(DisplayNone),
                "{media}"
            );
        }
        assert_eq!(
            reason(
                "<style media='screen and (min-width:1px)'>#t{display:none}</style><div id=t>x</div>"
            ),
            Some(DisplayNone)
        );
        assert_eq!(
            styled("@media screen{@media print{#t{display:none}}}", body),
            None
        );
        assert_eq!(
            styled("@media screen{@media all{#t{display:none}}}", body),
            Some(DisplayNone)
        );
    }

    #[test]
    fn other_at_rules_are_skipped_safely() {
        let body = "<div id=t>x</div>";
        assert_eq!(
            styled("@supports (display:grid){#t{display:none}}", body),
            None
        );
        assert_eq!(
            styled(
                "@keyframes k{from{opacity:0}to{opacity:1}} #t{color:red}",
                body
            ),
            None
        );
        assert_eq!(
            styled(
                "@import url(x.css); @charset \"utf-8\"; @font-face{font-family:x;src:url(y)}\
                 @keyframes k{0%{opacity:0}} @-webkit-keyframes k{0%{opacity:0}} #t{display:none}",
                body
            ),
            Some(DisplayNone)
        );
        assert_eq!(
            styled("@layer base{#t{display:none}}", body),
            Some(DisplayNone)
        );
    }

    // --- disguises ---

    #[test]
    fn whitespace_comments_case_and_escapes_do_not_defeat_it() {
        let body = "<div id=t>x</div>";
        for css in [
            "#t { display : none }",
            "#t{/* x */display:none}",
            "#t{display:/* x */none}",
            "/* a */ #t /* b */ { display:none }",
            "DIV#t{DISPLAY:NONE}",
            "#t{Display: None !IMPORTANT}",
            "#t{display:none ! important}",
            "#t{\n\tdisplay\n:\nnone\n}",
            "<!-- #t{display:none} -->",
            "#t{dis\\play:n\\6f ne}",
            "#t{display:\\6e\\6f\\6e\\65}",
            "#t{display:none",
        ] {
            assert_eq!(styled(css, body), Some(DisplayNone), "{css}");
        }
        assert_eq!(styled("/* #t{display:none} */", body), None);
        assert_eq!(styled("#t{content:'/*'; color:red} /* */", body), None);
        for style in [
            "DISPLAY:NONE",
            "display : none",
            "/* x */display:none",
            "display:none!important",
            "color:red;/*;*/display:none",
            "opacity:\\30",
        ] {
            assert!(inline(style).is_some(), "{style}");
        }
    }

    // --- selectors ---

    #[test]
    fn selectors_simplecss_supports() {
        let cases: &[(&str, &str, bool)] = &[
            ("* {display:none}", "<p id=t>x</p>", true),
            (
                ".w *{display:none}",
                "<div class=w><p id=t>x</p></div>",
                true,
            ),
            ("p{display:none}", "<p id=t>x</p>", true),
            ("P{display:none}", "<p id=t>x</p>", true),
            ("#t{display:none}", "<p id=t>x</p>", true),
            ("#T{display:none}", "<p id=t>x</p>", false),
            (".a.b{display:none}", "<p id=t class='b a'>x</p>", true),
            (".a.b{display:none}", "<p id=t class=a>x</p>", false),
            ("p.ad#t{display:none}", "<p id=t class=ad>x</p>", true),
            ("div.ad#t{display:none}", "<p id=t class=ad>x</p>", false),
            (
                ".w a{display:none}",
                "<div class=w><p><a id=t>x</a></p></div>",
                true,
            ),
            (
                ".w > a{display:none}",
                "<div class=w><p><a id=t>x</a></p></div>",
                false,
            ),
            (
                ".w>p>a{display:none}",
                "<div class=w><p><a id=t>x</a></p></div>",
                true,
            ),
            ("[data-x]{display:none}", "<p id=t data-x>x</p>", true),
            (
                "[data-x=stuff]{display:none}",
                "<p id=t data-x=stuff>x</p>",
                true,
            ),
            (
                "[data-x='stuff']{display:none}",
                "<p id=t data-x=other>x</p>",
                false,
            ),
            (
                "[rel~=sponsored]{display:none}",
                "<a id=t rel='nofollow sponsored'>x</a>",
                true,
            ),
            ("[lang|=en]{display:none}", "<p id=t lang=en-GB>x</p>", true),
            (
                "[type=HIDDEN]{opacity:0}",
                "<p id=t type=hidden>x</p>",
                true,
            ),
            ("h2 + p{display:none}", "<h2>a</h2><p id=t>x</p>", true),
            (
                "h2 + p{display:none}",
                "<h2>a</h2><div></div><p id=t>x</p>",
                false,
            ),
            (
                "p:first-child{display:none}",
                "<div><p id=t>x</p><p>y</p></div>",
                true,
            ),
            (
                "p:first-child{display:none}",
                "<div><p>y</p><p id=t>x</p></div>",
                false,
            ),
            (
                "p:last-child{display:none}",
                "<div><p>y</p><p id=t>x</p></div>",
                true,
            ),
            ("a:hover{display:none}", "<a id=t>x</a>", false),
            ("a:link{display:none}", "<a id=t href=x>x</a>", true),
            (
                "p:lang(de){display:none}",
                "<div lang=de-AT><p id=t>x</p></div>",
                true,
            ),
            (
                ".md\\:hidden{display:none}",
                "<p id=t class='md:hidden'>x</p>",
                true,
            ),
            (".\\31 0{display:none}", "<p id=t class='10'>x</p>", true),
            // One selector simplecss cannot read does not drop its neighbours.
            (".x:not(.y), #t{display:none}", "<p id=t>x</p>", true),
            (".x:not(.y){display:none}", "<p id=t class=x>x</p>", false),
            ("p::before{display:none}", "<p id=t>x</p>", false),
            ("p ~ p{display:none}", "<p>a</p><p id=t>x</p>", false),
        ];
        for (css, body, hidden) in cases {
            assert_eq!(styled(css, body).is_some(), *hidden, "{css} on {body}");
        }
    }

    #[test]
    fn tailwind_responsive_classes_are_read() {
        // Media features are not evaluated: later rules win, as on a wide screen.
        let css = ".hidden{display:none} @media (min-width:768px){.md\\:block{display:block}}";
        assert_eq!(
            styled(css, "<div id=t class='hidden md:block'>x</div>"),
            None
        );
        assert_eq!(
            styled(css, "<div id=t class='hidden'>x</div>"),
            Some(DisplayNone)
        );
    }

    // --- looks hidden, is not ---

    #[test]
    fn things_that_look_hidden_but_are_not() {
        assert_eq!(
            reason("<div style='display:none'>a</div><div id=t>x</div>"),
            None,
            "a hidden sibling"
        );
        assert_eq!(reason("<iframe id=t width=100 height=250></iframe>"), None);
        assert_eq!(inline("opacity:0.5"), None);
        assert_eq!(inline("visibility:visible"), None);
        assert_eq!(
            styled(".ad{display:none}", "<div id=t class=ads>x</div>"),
            None
        );
        assert_eq!(
            styled(".ad{display:none}", "<div id=t class=bad-ad>x</div>"),
            None
        );
        assert_eq!(
            reason("<div id=t title='display:none' data-style='display:none'>x</div>"),
            None
        );
        assert_eq!(
            styled("#t{content:'display:none'}", "<div id=t>x</div>"),
            None
        );
        assert_eq!(
            styled(
                ".a .b{display:none}",
                "<div class=b id=t><p class=a>x</p></div>"
            ),
            None
        );
        assert_eq!(inline("display: nonee"), None);
        assert_eq!(
            inline("width:0"),
            None,
            "a div's width alone does not hide text"
        );
        assert_eq!(inline("position:absolute;left:-9999px;left:10px"), None);
    }

    // --- hostile input ---

    #[test]
    fn deep_nesting_under_a_hidden_root_is_walked_iteratively() {
        // 100,000 nested elements. Pure `<div>` nesting makes html5ever's own tree
        // building quadratic (scope checks walk the open-element stack), so every other
        // level is an `<object>`, which ends those walks.
        let depth = 50_000;
        let html = format!(
            "<style>.nope div{{display:block}} div div div p{{opacity:1}} object > div{{color:red}}\
             </style><div id=root style='display:none'>{}<p id=t>deep</p>",
            "<div><object>".repeat(depth)
        );
        let document = Document::parse(&html);
        assert!(document.nodes().len() > 2 * depth);
        let visibility = Visibility::compute(&document);
        let root = element(&document, "root");
        assert_eq!(visibility.own_reason(root), Some(DisplayNone));
        assert!(
            (root..document.nodes().len()).all(|id| visibility.is_hidden(id)),
            "everything under the root is hidden"
        );
        assert_eq!(
            visibility.hidden_reason(element(&document, "t")),
            Some(DisplayNone)
        );
        assert!(!visibility.is_incomplete());
    }

    #[test]
    fn too_many_rules_are_capped_and_reported() {
        let css: String = (0..MAX_RULES + 10)
            .map(|i| format!(".c{i}{{display:none}}"))
            .collect();
        let html = format!(
            "<style>{css}</style><p id=a class=c1>x</p><p id=b class=c{}>y</p>",
            MAX_RULES + 5
        );
        let document = Document::parse(&html);
        let visibility = Visibility::compute(&document);
        assert!(visibility.is_incomplete());
        assert!(visibility.is_hidden(element(&document, "a")));
        assert!(!visibility.is_hidden(element(&document, "b")));
    }

    #[test]
    fn matching_stops_when_the_budget_is_spent() {
        let html = "<style>[data-a]{display:none}</style><p id=a data-a>x</p><p id=b data-a>y</p>";
        let document = Document::parse(html);
        let full = Visibility::compute(&document);
        assert!(full.is_hidden(element(&document, "b")));
        assert!(!full.is_incomplete());
        let starved = Visibility::compute_within(&document, 3);
        assert!(starved.is_incomplete());
        assert!(!starved.is_hidden(element(&document, "b")));
    }

    #[test]
    fn long_declaration_blocks_keep_the_winning_declarations() {
        let block = "display:none;".repeat(10_000) + "display:block;opacity:0 !important;opacity:1";
        assert_eq!(
            styled(&format!("#t{{{block}}}"), "<p id=t>x</p>"),
            Some(OpacityZero)
        );
        assert_eq!(parse_declaration_list(&block).len(), 3);
    }

    #[test]
    fn malformed_css_never_panics() {
        let nasty = [
            "",
            "\\",
            "@",
            "{",
            "}",
            "}}}{{{",
            "@media",
            "@media{",
            "a{",
            "a{b:",
            "a{b:c",
            "\"",
            "'",
            "/*",
            "*/",
            "<!--",
            "-->",
            "a{display:none\\",
            "\\é",
            ".é\\",
            "#\\",
            "[",
            "[a",
            "[a=",
            "[a='",
            "a[b=\"c\\\"]{display:none}",
            ":",
            "::",
            ":lang(",
            ":lang()",
            "a > > b{x:y}",
            "> a{display:none}",
            "a +{display:none}",
            ",,,{display:none}",
            "@media screen{@media screen{@media screen{@media screen{@media screen{@media screen{\
             @media screen{@media screen{@media screen{@media screen{#t{display:none}",
            "a{transform:scale(}",
            "a{transform:)))(((}",
            "a{clip:rect(}",
            "a{clip-path:inset(}",
            "a{width:1e999px}",
            "a{width:-1e999px}",
            "a{opacity:nan}",
            "a{margin:1 2 3 4 5}",
            "\u{10FFFF}{\u{10FFFF}:\u{10FFFF}}",
            "a{display:\\110000}",
            "a{display:\\0}",
        ];
        for css in nasty {
            for html in [
                format!("<style>{css}</style><a id=t>x</a>"),
                format!("<a id=t style=\"{}\">x</a>", css.replace('"', "&quot;")),
            ] {
                let document = Document::parse(&html);
                let _ = Visibility::compute(&document);
            }
        }
        // Pseudo-random CSS from a small alphabet of meaningful pieces.
        let pieces = [
            "a",
            "#t",
            ".x",
            " ",
            ">",
            "+",
            "*",
            "{",
            "}",
            ";",
            ":",
            "(",
            ")",
            "[",
            "]",
            "=",
            "\"",
            "'",
            "\\",
            "/*",
            "*/",
            "@media ",
            "display",
            "none",
            "!important",
            "0",
            "-9999px",
            "scale(",
            "rect(",
            ",",
            "é",
            "\u{F0041}",
            "\n",
            "@supports",
            "inset(",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..1_500 {
            let mut css = String::new();
            for _ in 0..24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                css.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let html = format!(
                "<style>{css}</style><div class=x><a id=t style=\"{}\">x</a></div>",
                css.replace('"', "")
            );
            let _ = Visibility::compute(&Document::parse(&html));
        }
    }

    #[test]
    fn out_of_range_ids_are_not_hidden() {
        let document = Document::parse("<p>x</p>");
        let visibility = Visibility::compute(&document);
        assert_eq!(visibility.hidden_reason(1_000_000), None);
        assert_eq!(visibility.own_reason(1_000_000), None);
        assert!(!visibility.is_hidden(1_000_000));
    }

    #[test]
    fn reasons_describe_themselves() {
        assert_eq!(DisplayNone.describe(), "display:none");
        assert_eq!(OpacityZero.to_string(), "opacity:0");
    }
}
