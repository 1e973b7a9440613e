//! Earlier, simpler versions of routines the visibility model has since made faster, kept
//! to test that the fast versions give the same results. Test code only.

use simplecss::{AttributeOperator, DeclarationTokenizer, SelectorToken, SelectorTokenizer};

use super::super::dom::{Document, NodeId, NodeKind};
use super::{
    Declarations, Matcher, NodeReasons, NodeState, Own, Priority, RuleIndex, Sheet, Siblings,
    Style, TagCache, Visibility, WalkAttributes, interpret, may_hide_without_css,
    presentational_hints, strip_comments,
};

use super::{
    Combinator, MAX_COMPOUNDS, Property, SEMICOLON, VALUE_SEPARATORS, decode_escapes, is_valid,
    scan_until, split_top_level, tracked_name, unprotect,
};

/// One declaration as the reference reads it: (property, lower-case value, important).
pub(super) type Read = (Property, String, bool);

/// The declaration list reader before values were kept in one string: a `String` per
/// value, a `Vec` per shorthand, `simplecss` asked about every tracked declaration.
pub(super) fn parse_declaration_list(text: &str) -> Vec<Read> {
    let mut declarations = Vec::new();
    for chunk in split_top_level(text, &SEMICOLON) {
        if chunk.contains('{') {
            continue;
        }
        if let Some((name, value, important)) = parse_declaration(chunk) {
            for (property, value) in expand(name, &value) {
                if is_valid(property, &value) {
                    declarations.push((property, value, important));
                }
            }
        }
    }
    let mut seen = [[false; 2]; super::PROPERTY_COUNT];
    let mut kept: Vec<Read> = declarations
        .into_iter()
        .rev()
        .filter(|(property, _, important)| {
            let seen = &mut seen[*property as usize][usize::from(*important)];
            !std::mem::replace(seen, true)
        })
        .collect();
    kept.reverse();
    kept
}

fn parse_declaration(chunk: &str) -> Option<(&'static str, String, bool)> {
    let decoded = decode_escapes(chunk, false);
    let text = decoded.trim();
    let (body, important) = match text.rfind('!') {
        Some(bang) if text[bang + 1..].trim().eq_ignore_ascii_case("important") => {
            (text[..bang].trim_end(), true)
        }
        _ => (text, false),
    };
    let colon = body.find(':')?;
    let name = tracked_name(body[..colon].trim())?;
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

fn expand(name: &str, value: &str) -> Vec<(Property, String)> {
    let single = |property: Property| vec![(property, value.to_string())];
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
        "overflow" => match split_values(value).as_slice() {
            [both] => vec![
                (Property::OverflowX, both.to_string()),
                (Property::OverflowY, both.to_string()),
            ],
            [x, y] => vec![
                (Property::OverflowX, x.to_string()),
                (Property::OverflowY, y.to_string()),
            ],
            _ => Vec::new(),
        },
        "margin" => match four_sides(value) {
            Some([_, _, _, left]) => vec![(Property::MarginLeft, left)],
            None => Vec::new(),
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
        _ => Vec::new(),
    }
}

fn sides(value: &str, properties: [Property; 4]) -> Vec<(Property, String)> {
    match four_sides(value) {
        Some(values) => properties.into_iter().zip(values).collect(),
        None => Vec::new(),
    }
}

fn four_sides(value: &str) -> Option<[String; 4]> {
    let parts = split_values(value);
    let [top, right, bottom, left] = match parts.as_slice() {
        [all] => [*all, *all, *all, *all],
        [vertical, horizontal] => [*vertical, *horizontal, *vertical, *horizontal],
        [top, horizontal, bottom] => [*top, *horizontal, *bottom, *horizontal],
        [top, right, bottom, left] => [*top, *right, *bottom, *left],
        _ => return None,
    };
    Some([top, right, bottom, left].map(str::to_string))
}

/// The value splitter before it was built on ranges.
pub(super) fn split_values(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let stop = scan_until(text, start, &VALUE_SEPARATORS);
        if stop > start {
            parts.push(&text[start..stop]);
        }
        start = stop + 1;
    }
    parts
}

/// Names, values and `!important` spellings that are easy to get wrong, for tests to
/// combine.
pub(super) const TRICKY_NAMES: &[&str] = &[
    "display",
    "DISPLAY",
    " display ",
    "\u{a0}display",
    "display\u{a0}",
    "*display",
    "dis play",
    "-webkit-transform",
    "margin",
    "padding",
    "inset",
    "overflow",
    "width",
    "opacity",
    "clip-path",
    "color",
    "disp\\lay",
    "",
];

/// See [`TRICKY_NAMES`].
pub(super) const TRICKY_VALUES: &[&str] = &[
    "",
    " ",
    "none",
    "NONE",
    " none ",
    "\u{a0}none",
    "none\u{a0}",
    "0",
    "0 0",
    "1px 2px 3px",
    "1px 2px 3px 4px",
    "1 2 3 4 5",
    "0\t0\n0\r0",
    "0\u{b}0",
    "calc(",
    "calc(1px",
    "calc(1px)",
    "calc((1px + 2px) * 3)",
    "(1px)",
    ")",
    "%",
    "50%",
    "-9999px",
    ".5",
    "+1",
    "#fff",
    "#",
    ",",
    ",0",
    "a(b",
    "a(b)c",
    "rect(0,0,0,0)",
    "rect(0 0 0 0)",
    "inset(50%)",
    "\"x\"",
    "'x'",
    "\"x",
    "a/*b",
    "a/b",
    "a*b",
    "var(--x)",
    "inherit",
    "url(x;y)",
    "\\3a",
    "a\\:b",
    "no\\ne",
    "1px!ie",
    "!",
    "_x",
    "-",
    "--",
    "-x",
    "-webkit-box",
    "scale(0)",
    "translate(-50%, -50%)",
    "é",
    "auto:auto",
    "hidden scroll",
    "hidden scroll auto",
    "a b c",
    "{",
    "}",
    "a;b",
    "0 0 0 -9999px",
];

/// See [`TRICKY_NAMES`].
pub(super) const TRICKY_IMPORTANT: &[&str] = &[
    "",
    "!important",
    " ! important",
    "!IMPORTANT",
    "!imp",
    "!important!important",
    " !important x",
];

/// The walk of [`Visibility::compute_within`] before it skipped leaves and sibling tables
/// no rule reads: every node pushed on the ancestor stack, siblings always tabled.
pub(super) fn compute_within(document: &Document, budget: u64) -> Visibility {
    let nodes = document.nodes();
    let sheet = Sheet::collect(document);
    let index = RuleIndex::new(&sheet.rules, &sheet.selectors);
    let siblings = Siblings::new(document);
    let mut matcher = Matcher {
        nodes,
        siblings: &siblings,
        selectors: &sheet.selectors,
        budget,
    };
    let mut states: Vec<NodeState> = Vec::with_capacity(nodes.len());
    // The chain of ancestors, each with where its symbols start in `symbol_stack`
    // (one flat vector for every ancestor's symbols, not a vector each).
    let mut ancestors: Vec<(NodeId, usize)> = Vec::new();
    let mut symbol_stack: Vec<u32> = Vec::new();
    let mut counts = vec![0u32; index.symbol_count()];
    let mut candidates = Vec::new();
    // The hints and inline declarations of the current element (memory reused).
    let mut own_declarations = Declarations::default();
    let mut tags = TagCache::default();
    for (id, node) in nodes.iter().enumerate() {
        // Keep `ancestors` the chain from the root to this node's parent (nodes come
        // in document order, so the parent is always on the stack).
        while ancestors
            .last()
            .is_some_and(|(top, _)| Some(*top) != node.parent)
        {
            if let Some((_, from)) = ancestors.pop() {
                for symbol in symbol_stack.drain(from.min(symbol_stack.len())..) {
                    if let Some(count) = counts.get_mut(symbol as usize) {
                        *count = count.saturating_sub(1);
                    }
                }
            }
        }
        let parent = node
            .parent
            .and_then(|parent| states.get(parent))
            .copied()
            .unwrap_or(NodeState::ROOT);
        let from = symbol_stack.len();
        let own = match &node.kind {
            NodeKind::Element { name, .. } => {
                let attributes = WalkAttributes::of(node);
                index.node_symbols(node, &attributes, &mut tags, &mut symbol_stack);
                let symbols = &symbol_stack[from..];
                own_declarations.clear();
                let hints = presentational_hints(node, name, &mut own_declarations);
                let inline = node
                    .attr("style")
                    .map(|style| own_declarations.parse_list(&strip_comments(style)))
                    .unwrap_or_default();
                // Made on the first declaration that applies: most elements have none.
                let mut style: Option<Style> = None;
                for (position, (declaration, value)) in own_declarations.iter(hints).enumerate() {
                    style.get_or_insert_default().apply(
                        declaration,
                        value,
                        Priority::hint(position),
                    );
                }
                if matcher.budget > 0 {
                    index.candidates(symbols, &mut candidates);
                } else {
                    candidates.clear();
                }
                for candidate in &candidates {
                    let Some(rule) = sheet.rules.get(candidate.rule as usize) else {
                        continue;
                    };
                    if !matcher.ancestors_may_match(index.required(candidate), &counts)
                        || !matcher.matches(&rule.selector, id)
                    {
                        continue;
                    }
                    let block = sheet.declarations.iter(rule.block.clone());
                    for (position, (declaration, value)) in block.enumerate() {
                        let priority = Priority::rule(declaration.important, rule, position);
                        style
                            .get_or_insert_default()
                            .apply(declaration, value, priority);
                    }
                }
                for (position, (declaration, value)) in own_declarations.iter(inline).enumerate() {
                    let priority = Priority::inline(declaration, position);
                    style
                        .get_or_insert_default()
                        .apply(declaration, value, priority);
                }
                match style {
                    // Most elements: no CSS at all, nothing to read (a test checks
                    // that `interpret` says the same).
                    None if !may_hide_without_css(name, node.attr("hidden").is_some()) => Own::NONE,
                    style => interpret(
                        node,
                        name,
                        &style.unwrap_or_default(),
                        parent.blockifies_children,
                    ),
                }
            }
            _ => Own::NONE,
        };
        states.push(NodeState::combine(&own, &parent));
        for &symbol in &symbol_stack[from..] {
            if let Some(count) = counts.get_mut(symbol as usize) {
                *count = count.saturating_add(1);
            }
        }
        ancestors.push((id, from));
    }
    Visibility {
        reasons: states
            .iter()
            .map(|state| NodeReasons {
                own: state.own,
                hidden: state.hidden,
            })
            .collect(),
        incomplete: sheet.truncated || matcher.budget == 0,
    }
}

/// The selector reader before selectors were kept in flat arrays of their sheet: a
/// `Vec` of compounds per selector and a `String` per name. Gives the selector as text
/// (its specificity, then each compound as [`render_compound`] writes it), so that it can
/// be compared with the flat reader's, and whether it has a pseudo-class that never
/// matches (`:hover`; such selectors were kept then, and are dropped now).
pub(super) fn parse_selector(text: &str) -> Option<(String, bool)> {
    let prepared = decode_escapes(text.trim(), true);
    let mut compounds: Vec<Compound> = Vec::with_capacity(4);
    let mut combinators: Vec<Combinator> = Vec::new();
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
        if let Some(combinator) = combinator {
            if compounds.is_empty() || pending.is_some() {
                return None;
            }
            pending = Some(combinator);
            continue;
        }
        if starts_compound || pending.is_some() || compounds.is_empty() {
            if starts_compound && pending.is_none() && !compounds.is_empty() {
                return None;
            }
            if let Some(combinator) = pending.take() {
                combinators.push(combinator);
            }
            compounds.push(Compound::default());
            if compounds.len() > MAX_COMPOUNDS {
                return None;
            }
        }
        let compound = compounds.last_mut()?;
        match token {
            SelectorToken::UniversalSelector => {}
            SelectorToken::TypeSelector(name) => {
                compound.tag = Some(unprotect(name).to_ascii_lowercase());
            }
            SelectorToken::ClassSelector(name) => compound.classes.push(unprotect(name)),
            SelectorToken::IdSelector(name) => compound.ids.push(unprotect(name)),
            SelectorToken::AttributeSelector(name, operator) => {
                let test = match operator {
                    AttributeOperator::Exists => "exists".to_string(),
                    AttributeOperator::Matches(v) => format!("equals {}", unprotect(v)),
                    AttributeOperator::Contains(v) => format!("includes {}", unprotect(v)),
                    AttributeOperator::StartsWith(v) => format!("dash-match {}", unprotect(v)),
                };
                compound
                    .attributes
                    .push((unprotect(name).to_ascii_lowercase(), test));
            }
            SelectorToken::PseudoClass(name) => {
                let pseudo = match unprotect(name).to_ascii_lowercase().as_str() {
                    "first-child" => "first-child",
                    "last-child" => "last-child",
                    "only-child" => "only-child",
                    "root" => "root",
                    "empty" => "empty",
                    "link" | "any-link" => "link",
                    "hover" | "active" | "focus" | "focus-within" | "focus-visible" | "visited"
                    | "target" => "never",
                    _ => return None,
                };
                compound.pseudo_classes.push(pseudo.to_string());
            }
            SelectorToken::LangPseudoClass(lang) => {
                compound
                    .pseudo_classes
                    .push(format!("lang {}", unprotect(lang)));
            }
            SelectorToken::DescendantCombinator
            | SelectorToken::ChildCombinator
            | SelectorToken::AdjacentCombinator => {}
        }
    }
    if compounds.is_empty() || pending.is_some() {
        return None;
    }
    let mut specificity = [0u32; 3];
    for compound in &compounds {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        specificity[0] = specificity[0].saturating_add(count(compound.ids.len()));
        specificity[1] = specificity[1].saturating_add(count(
            compound.classes.len() + compound.attributes.len() + compound.pseudo_classes.len(),
        ));
        specificity[2] = specificity[2].saturating_add(u32::from(compound.tag.is_some()));
    }
    let never = compounds.iter().any(|compound| {
        compound
            .pseudo_classes
            .iter()
            .any(|pseudo| pseudo == "never")
    });
    let mut out = format!("{specificity:?}");
    for (index, compound) in compounds.iter().enumerate() {
        let combinator = index
            .checked_sub(1)
            .and_then(|left| combinators.get(left))
            .copied();
        out.push_str(&render_compound(
            combinator,
            compound.tag.as_deref(),
            &compound.ids,
            &compound.classes,
            &compound.attributes,
            &compound.pseudo_classes,
        ));
    }
    Some((out, never))
}

/// One compound selector of the old reader.
#[derive(Default)]
struct Compound {
    tag: Option<String>,
    ids: Vec<String>,
    classes: Vec<String>,
    attributes: Vec<(String, String)>,
    pseudo_classes: Vec<String>,
}

/// A compound as text: the combinator to its left, then its parts.
pub(super) fn render_compound(
    combinator: Option<Combinator>,
    tag: Option<&str>,
    ids: &[String],
    classes: &[String],
    attributes: &[(String, String)],
    pseudo_classes: &[String],
) -> String {
    format!(
        " {combinator:?} tag {tag:?} ids {ids:?} classes {classes:?} attributes {attributes:?} \
         pseudo-classes {pseudo_classes:?};"
    )
}
