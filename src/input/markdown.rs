//! Markdown to HTML with source lines kept: the HTML line of every piece of text equals
//! its line in the Markdown file, so findings point at the Markdown line.
//!
//! pulldown-cmark gives each event its source range; before writing an event we pad the
//! output with newlines until it is on the event's source line. Newlines between tags
//! are harmless in HTML. YAML/TOML front matter is skipped.

use pulldown_cmark::{
    Alignment, CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};

/// Renders Markdown as HTML whose text sits on the same lines as in the source.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(markdown.match_indices('\n').map(|(index, _)| index + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset);

    let mut writer = HtmlWriter::default();
    let mut in_metadata = false;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match &event {
            Event::Start(Tag::MetadataBlock(_)) => {
                in_metadata = true;
                continue;
            }
            Event::End(TagEnd::MetadataBlock(_)) => {
                in_metadata = false;
                continue;
            }
            _ if in_metadata => continue,
            _ => {}
        }
        // End events carry the whole element's range; only starts and leaves move the line.
        if !matches!(event, Event::End(_)) {
            writer.pad_to_line(line_of(range.start));
        }
        writer.event(event);
    }
    writer.out
}

/// A minimal HTML renderer for pulldown-cmark events that tracks its output line.
#[derive(Default)]
struct HtmlWriter {
    out: String,
    line: usize,
    table_alignments: Vec<Alignment>,
    in_table_head: bool,
    in_image_alt: usize,
    image_alt: String,
}

impl HtmlWriter {
    fn pad_to_line(&mut self, line: usize) {
        if self.line == 0 {
            self.line = 1;
        }
        while self.line < line && self.in_image_alt == 0 {
            self.out.push('\n');
            self.line += 1;
        }
    }

    fn raw(&mut self, text: &str) {
        self.line += text.matches('\n').count();
        self.out.push_str(text);
    }

    fn escaped(&mut self, text: &str) {
        if self.in_image_alt > 0 {
            self.image_alt.push_str(text);
            return;
        }
        let mut escaped = String::with_capacity(text.len());
        for character in text.chars() {
            match character {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                '"' => escaped.push_str("&quot;"),
                other => escaped.push(other),
            }
        }
        self.raw(&escaped);
    }

    fn attribute(&mut self, name: &str, value: &str) {
        self.raw(&format!(" {name}=\""));
        let value = value.replace('&', "&amp;").replace('"', "&quot;");
        self.raw(&value);
        self.raw("\"");
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.escaped(&text),
            Event::Code(text) => {
                self.raw("<code>");
                self.escaped(&text);
                self.raw("</code>");
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => self.escaped(&text),
            Event::Html(html) | Event::InlineHtml(html) => {
                if self.in_image_alt == 0 {
                    self.raw(&html)
                }
            }
            Event::FootnoteReference(name) => {
                self.raw("<sup>");
                self.escaped(&name);
                self.raw("</sup>");
            }
            Event::SoftBreak => {
                if self.in_image_alt > 0 {
                    self.image_alt.push(' ');
                } else {
                    self.raw("\n");
                }
            }
            Event::HardBreak => self.raw("<br>\n"),
            Event::Rule => self.raw("<hr>"),
            Event::TaskListMarker(checked) => {
                self.raw(if checked {
                    "<input type=\"checkbox\" disabled checked>"
                } else {
                    "<input type=\"checkbox\" disabled>"
                });
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        if self.in_image_alt > 0 {
            if matches!(tag, Tag::Image { .. }) {
                self.in_image_alt += 1;
            }
            return;
        }
        match tag {
            Tag::Paragraph => self.raw("<p>"),
            Tag::Heading { level, .. } => self.raw(&format!("<{}>", heading_name(level))),
            Tag::BlockQuote(_) => self.raw("<blockquote>"),
            Tag::CodeBlock(kind) => {
                self.raw("<pre><code");
                if let CodeBlockKind::Fenced(info) = kind {
                    let language = info.split_whitespace().next().unwrap_or("");
                    if !language.is_empty() {
                        self.attribute("class", &format!("language-{language}"));
                    }
                }
                self.raw(">");
            }
            Tag::HtmlBlock => {}
            Tag::List(Some(start)) => {
                self.raw("<ol");
                if start != 1 {
                    self.attribute("start", &start.to_string());
                }
                self.raw(">");
            }
            Tag::List(None) => self.raw("<ul>"),
            Tag::Item => self.raw("<li>"),
            Tag::FootnoteDefinition(name) => {
                self.raw("<div class=\"footnote-definition\"");
                self.attribute("id", &name);
                self.raw(">");
            }
            Tag::DefinitionList => self.raw("<dl>"),
            Tag::DefinitionListTitle => self.raw("<dt>"),
            Tag::DefinitionListDefinition => self.raw("<dd>"),
            Tag::Table(alignments) => {
                self.table_alignments = alignments;
                self.raw("<table>");
            }
            Tag::TableHead => {
                self.in_table_head = true;
                self.raw("<thead><tr>");
            }
            Tag::TableRow => self.raw("<tr>"),
            Tag::TableCell => self.raw(if self.in_table_head { "<th>" } else { "<td>" }),
            Tag::Emphasis => self.raw("<em>"),
            Tag::Strong => self.raw("<strong>"),
            Tag::Strikethrough => self.raw("<del>"),
            Tag::Superscript => self.raw("<sup>"),
            Tag::Subscript => self.raw("<sub>"),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                self.raw("<a");
                let href = link_href(link_type, &dest_url);
                self.attribute("href", &href);
                if !title.is_empty() {
                    self.attribute("title", &title);
                }
                self.raw(">");
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                self.raw("<img");
                self.attribute("src", &dest_url);
                if !title.is_empty() {
                    self.attribute("title", &title);
                }
                self.in_image_alt = 1;
                self.image_alt.clear();
            }
            Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        if self.in_image_alt > 0 {
            if matches!(tag, TagEnd::Image) {
                self.in_image_alt -= 1;
                if self.in_image_alt == 0 {
                    let alt = std::mem::take(&mut self.image_alt);
                    self.attribute("alt", &alt);
                    self.raw(">");
                }
            }
            return;
        }
        match tag {
            TagEnd::Paragraph => self.raw("</p>"),
            TagEnd::Heading(level) => self.raw(&format!("</{}>", heading_name(level))),
            TagEnd::BlockQuote(_) => self.raw("</blockquote>"),
            TagEnd::CodeBlock => self.raw("</code></pre>"),
            TagEnd::HtmlBlock => {}
            TagEnd::List(true) => self.raw("</ol>"),
            TagEnd::List(false) => self.raw("</ul>"),
            TagEnd::Item => self.raw("</li>"),
            TagEnd::FootnoteDefinition => self.raw("</div>"),
            TagEnd::DefinitionList => self.raw("</dl>"),
            TagEnd::DefinitionListTitle => self.raw("</dt>"),
            TagEnd::DefinitionListDefinition => self.raw("</dd>"),
            TagEnd::Table => self.raw("</tbody></table>"),
            TagEnd::TableHead => {
                self.in_table_head = false;
                self.raw("</tr></thead><tbody>");
            }
            TagEnd::TableRow => self.raw("</tr>"),
            TagEnd::TableCell => self.raw(if self.in_table_head { "</th>" } else { "</td>" }),
            TagEnd::Emphasis => self.raw("</em>"),
            TagEnd::Strong => self.raw("</strong>"),
            TagEnd::Strikethrough => self.raw("</del>"),
            TagEnd::Superscript => self.raw("</sup>"),
            TagEnd::Subscript => self.raw("</sub>"),
            TagEnd::Link => self.raw("</a>"),
            TagEnd::Image | TagEnd::MetadataBlock(_) => {}
        }
    }
}

fn heading_name(level: HeadingLevel) -> &'static str {
    match level {
        HeadingLevel::H1 => "h1",
        HeadingLevel::H2 => "h2",
        HeadingLevel::H3 => "h3",
        HeadingLevel::H4 => "h4",
        HeadingLevel::H5 => "h5",
        HeadingLevel::H6 => "h6",
    }
}

fn link_href<'a>(link_type: LinkType, dest_url: &'a CowStr<'a>) -> String {
    match link_type {
        LinkType::Email => format!("mailto:{dest_url}"),
        _ => dest_url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{Page, TextScope};

    #[test]
    fn text_keeps_its_markdown_line() {
        let markdown = "---\ntitle: Deals\ndate: 2026-11-01\n---\n\n# Heading\n\nFirst paragraph\ncontinues here.\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| cell | x |\n";
        let html = to_html(markdown);
        let page = Page::from_html(&html, None);
        let lines: Vec<(String, u32)> = page
            .blocks_in(TextScope::Text)
            .map(|block| (block.text().to_string(), block.line_at(0)))
            .collect();
        assert!(lines.contains(&("Heading".to_string(), 6)), "{lines:?}");
        assert!(lines.contains(&("First paragraph continues here.".to_string(), 8)));
        assert!(lines.contains(&("item two".to_string(), 12)));
        assert!(lines.contains(&("cell".to_string(), 16)));
        assert!(!lines.iter().any(|(text, _)| text.contains("title: Deals")));
    }

    #[test]
    fn second_line_of_a_paragraph_keeps_its_line() {
        let html = to_html("intro\n\nalpha beta\ngamma delta\n");
        let page = Page::from_html(&html, None);
        let block = page
            .blocks_in(TextScope::Text)
            .find(|block| block.text().starts_with("alpha"))
            .expect("paragraph");
        let offset = block.text().find("gamma").expect("gamma");
        assert_eq!(block.line_at(offset), 4);
    }

    #[test]
    fn links_images_and_raw_html_survive() {
        let markdown = "Intro\n\n[Buy *now*](https://amzn.to/abc \"t\")\n\n![A red \"case\"](/img.png)\n\n<iframe src=\"https://x.example/\" width=\"0\"></iframe>\n";
        let page = Page::from_html(&to_html(markdown), None);
        assert_eq!(page.links[0].href, "https://amzn.to/abc");
        assert_eq!(page.links[0].text, "Buy now");
        assert_eq!(page.links[0].line, 3);
        let alt: Vec<&str> = page.blocks_in(TextScope::Alt).map(|b| b.text()).collect();
        assert_eq!(alt, vec!["A red \"case\""]);
        let iframe = page
            .resources
            .iter()
            .find(|r| r.element == "iframe")
            .expect("iframe");
        assert_eq!(iframe.line, 7);
    }
}
