//! A deterministic corpus of publisher articles for the benchmarks: each page is realistic
//! affiliate-publisher HTML (30-150 KB: nested layout markup, a `<style>` sheet, inline
//! scripts, navigation, product cards, spec tables, 10-60 links, images with alt text)
//! and the same article as Markdown (front matter, headings, lists, pipe tables, links).
//! About one page in four plants findings (claims, a hidden affiliate pixel, a link
//! without `rel`), so every detector has work to do.
//!
//! Page `i` of seed `s` depends only on `(s, i)`: pages can be generated one at a time
//! (the whole-process script writes 10,000 of them without holding them in memory), and
//! the same seed always gives the same bytes. Not for tests: nothing here is checked.

#![allow(dead_code)] // each bench or example uses part of it

use std::fmt::Write as _;

/// The seed the benchmarks and the whole-process script use unless told otherwise.
pub const DEFAULT_SEED: u64 = 0x5eed_2026;

/// One generated article in both formats.
pub struct Article {
    /// File stem, e.g. `article-00042`.
    pub name: String,
    /// The article as a full HTML page.
    pub html: String,
    /// The same article as Markdown.
    pub markdown: String,
    /// True when the page carries planted findings.
    pub planted: bool,
}

/// Pages `0..count` of `seed`.
pub fn generate(seed: u64, count: usize) -> Vec<Article> {
    (0..count).map(|index| article(seed, index)).collect()
}

/// Writes pages `0..count` of `seed` into `dir` as `NAME.html` and/or `NAME.md`;
/// returns the bytes written.
pub fn write(
    dir: &std::path::Path,
    seed: u64,
    count: usize,
    html: bool,
    markdown: bool,
) -> std::io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut bytes = 0u64;
    for index in 0..count {
        let page = article(seed, index);
        if html {
            std::fs::write(dir.join(format!("{}.html", page.name)), &page.html)?;
            bytes += page.html.len() as u64;
        }
        if markdown {
            std::fs::write(dir.join(format!("{}.md", page.name)), &page.markdown)?;
            bytes += page.markdown.len() as u64;
        }
    }
    Ok(bytes)
}

/// splitmix64: small, fast and good enough to pick words; no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One element of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }
}

const PRODUCTS: &[&str] = &[
    "wireless earbuds",
    "phone case",
    "smart watch",
    "air fryer",
    "cast-iron skillet",
    "robot vacuum",
    "standing desk",
    "mechanical keyboard",
    "espresso machine",
    "travel backpack",
    "LED desk lamp",
    "power bank",
    "electric toothbrush",
    "hiking boots",
    "noise-cancelling headphones",
    "crêpe pan",
    "café grinder",
    "Bluetooth speaker",
    "USB-C hub",
    "kitchen scale",
];

const BRANDS: &[&str] = &[
    "Anker",
    "Soundcore",
    "Xiaomi",
    "Lodge",
    "Tefal",
    "Philips",
    "Ugreen",
    "Baseus",
    "Keychron",
    "Bialetti",
    "Osprey",
    "Braun",
    "Müller",
    "Nordström",
    "Škoda Home",
    "JBL",
];

const MERCHANTS: &[&str] = &["Amazon", "AliExpress", "eBay", "Temu", "Walmart", "Etsy"];

/// Ordinary editorial sentences (`{p}` product, `{b}` brand, `{m}` merchant, `{n}` number,
/// `{price}` a price). Some carry non-ASCII punctuation, as real copy does.
const SENTENCES: &[&str] = &[
    "We tested the {b} {p} for {n} weeks in a small flat and a noisy office.",
    "The {p} arrived well packed, and setting it up took about {n} minutes.",
    "At the time of writing, the {b} {p} costs {price} on {m}; prices change often.",
    "Battery life in our test was {n} hours, a little under the figure on the box.",
    "It is not the cheapest {p} we tried, but it is the one we kept using.",
    "If you only need the basics, the cheaper model does the job just as well.",
    "Shipping to Europe usually takes {n} to {n} days and varies by seller.",
    "The build quality is solid: the hinge, the buttons and the seams all feel tight.",
    "Our main complaint is the app, which asks for an account before it does anything.",
    "Returns are accepted within {n} days on most items; read the seller’s terms first.",
    "We bought this unit with our own money; the maker did not see this review.",
    "Compared with last year’s model, the {p} is lighter and a little quieter.",
    "The manual is short — two pages — but the online guide covers everything.",
    "Readers asked whether the {p} works with older phones: yes, over Bluetooth 5.0.",
    "Après two weeks the coating still looked new, which surprised us.",
    "The {b} version costs about €{n} more and adds a charging case.",
    "Prices on {m} moved between {price} and {price} over the last month.",
    "We would skip the extended warranty; the standard one covers {n} months.",
    "Cleaning is simple: the tray comes out and goes in the dishwasher.",
    "The colour options are black, white and a sage green that photographs badly.",
    "In a blind test, {n} of our {n} testers preferred the {b} over its rival.",
    "Customs charges depend on your country and the value of the parcel.",
    "The seller answered our question within a day, in clear English.",
    "For a naïve first-time buyer, the entry model is the safer choice.",
    "Noise was about {n} dB at arm’s length, quieter than a fridge.",
    "We link to {m} because that is where we bought ours; other shops sell it too.",
    "The {p} weighs {n}0 g, so it fits in a jacket pocket without pulling.",
    "Some listings use stock photos of a different model; check the item number.",
    "This page is updated when prices or stock change in a way that matters.",
    "After a month of daily use, nothing has come loose or stopped working.",
];

/// Planted claims: each one triggers a built-in text rule.
const CLAIMS: &[&str] = &[
    "Only 2 left in stock — order now!",
    "Lowest price ever on the {b} {p}!",
    "Free worldwide shipping on every order!",
    "Arrives in 3 days guaranteed.",
    "100% money back, no questions asked.",
    "We are an official {m} partner.",
    "Secret 100% working coupon inside.",
    "Was $199 now $19 — today only!",
    "Up to 90% off everything this week.",
    "Ends tonight at midnight.",
];

const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "tempor",
    "incididunt",
    "labore",
    "magna",
    "aliqua",
    "veniam",
    "nostrud",
    "ullamco",
    "laboris",
    "commodo",
    "consequat",
];

fn fill(rng: &mut Rng, template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or(rest.len() - 1);
        match &rest[start + 1..end] {
            "p" => out.push_str(rng.pick(PRODUCTS)),
            "b" => out.push_str(rng.pick(BRANDS)),
            "m" => out.push_str(rng.pick(MERCHANTS)),
            "n" => {
                let _ = write!(out, "{}", rng.range(2, 60));
            }
            "price" => {
                let _ = write!(out, "${}.{:02}", rng.range(9, 399), rng.range(0, 99));
            }
            other => out.push_str(other),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A paragraph of 2-6 editorial sentences; `claim` plants one claim in it.
fn paragraph(rng: &mut Rng, claim: bool) -> String {
    let count = rng.range(2, 6);
    let at = rng.range(0, count - 1);
    let mut sentences = Vec::with_capacity(count + 1);
    for index in 0..count {
        if claim && index == at {
            let template = rng_pick_claim(rng);
            sentences.push(fill(rng, template));
        }
        let template = rng.pick(SENTENCES);
        sentences.push(fill(rng, template));
    }
    sentences.join(" ")
}

fn rng_pick_claim(rng: &mut Rng) -> &'static str {
    CLAIMS[rng.range(0, CLAIMS.len() - 1)]
}

/// An affiliate or plain link target.
fn link_url(rng: &mut Rng, affiliate: bool) -> String {
    if !affiliate {
        return match rng.range(0, 3) {
            0 => format!("/reviews/{}-{}/", rng.pick(WORDS), rng.range(1, 999)),
            1 => format!("https://en.wikipedia.org/wiki/{}", rng.pick(WORDS)),
            2 => format!(
                "https://www.{}.example/{}",
                rng.pick(WORDS),
                rng.pick(WORDS)
            ),
            _ => format!("/tag/{}/", rng.pick(WORDS)),
        };
    }
    match rng.range(0, 4) {
        0 => format!(
            "https://www.amazon.com/dp/B0{:08X}?tag=bench-20",
            rng.next_u64() as u32
        ),
        1 => format!(
            "https://s.click.aliexpress.com/e/_D{:06x}",
            rng.next_u64() as u32 & 0xff_ffff
        ),
        2 => format!("https://amzn.to/{:x}", rng.next_u64() as u32),
        3 => format!(
            "https://www.ebay.com/itm/{}?mkcid=1&mkrid=711-53200-19255-0&campid=5338{:06}&toolid=10001",
            rng.range(100_000_000, 999_999_999),
            rng.range(0, 999_999)
        ),
        _ => format!(
            "https://www.booking.com/hotel/fr/{}.html?aid={}",
            rng.pick(WORDS),
            rng.range(100_000, 999_999)
        ),
    }
}

/// The article's content, rendered to both formats by one walk.
enum Block {
    Heading(u8, String),
    Paragraph(String),
    /// (text, url, sponsored) links inside a paragraph, after the text.
    LinkParagraph(String, Vec<(String, String, bool)>),
    List(Vec<String>),
    /// Header row, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
    Image(String, String),
    /// A product card: name, text, image alt, link, sponsored.
    Card(String, String, String, String, bool),
}

const CSS_PROPS: &[&str] = &[
    "margin:0 auto",
    "padding:8px 12px",
    "display:flex",
    "color:#333",
    "font-size:15px",
    "line-height:1.6",
    "border-radius:6px",
    "background:#f7f7f7",
    "box-shadow:0 1px 3px rgba(0,0,0,.12)",
    "text-decoration:none",
    "font-weight:600",
    "max-width:760px",
];

fn stylesheet(rng: &mut Rng, rules: usize) -> String {
    let mut css = String::new();
    for index in 0..rules {
        let selector = match rng.range(0, 3) {
            0 => format!(".c-{}-{index}", rng.pick(WORDS)),
            1 => format!(".site-{} .{}", rng.pick(WORDS), rng.pick(WORDS)),
            2 => format!("#w{index} > p"),
            _ => format!("article .card-{index} a:hover"),
        };
        let props: Vec<&str> = (0..rng.range(2, 6)).map(|_| rng.pick(CSS_PROPS)).collect();
        let _ = writeln!(css, "{selector}{{{}}}", props.join(";"));
    }
    css
}

fn script(rng: &mut Rng, lines: usize) -> String {
    let mut js = String::from("(function(){\n  'use strict';\n");
    for index in 0..lines {
        let _ = match rng.range(0, 4) {
            0 => writeln!(
                js,
                "  var el{index} = document.querySelector('.c-{}');",
                rng.pick(WORDS)
            ),
            1 => writeln!(
                js,
                "  if (el{} && el{}.dataset) {{ el{}.dataset.n = '{}'; }}",
                index.saturating_sub(1),
                index.saturating_sub(1),
                index.saturating_sub(1),
                rng.range(0, 99)
            ),
            2 => writeln!(
                js,
                "  window.dataLayer = window.dataLayer || []; dataLayer.push({{event: '{}', v: {}}});",
                rng.pick(WORDS),
                rng.range(0, 999)
            ),
            3 => writeln!(
                js,
                "  document.addEventListener('click', function (e) {{ if (e.target.matches('a.out')) {{ navigator.sendBeacon('/api/out', e.target.href); }} }});"
            ),
            _ => writeln!(
                js,
                "  // {} {} {}",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS)
            ),
        };
    }
    js.push_str("})();\n");
    js
}

/// Page `index` of `seed`.
pub fn article(seed: u64, index: usize) -> Article {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let planted = rng.chance(25);
    let product = rng.pick(PRODUCTS);
    let brand = rng.pick(BRANDS);
    let title = format!("{brand} {product} review: {} weeks later", rng.range(2, 12));
    let target_size = rng.range(30_000, 150_000);
    let link_budget = rng.range(10, 60);

    // Head and chrome (navigation, sidebar, footer) are HTML only; the article body is
    // shared by both formats.
    let rules = rng.range(40, 160);
    let css = stylesheet(&mut rng, rules);
    let lines = rng.range(10, 40);
    let analytics = script(&mut rng, lines);
    let lines = rng.range(20, 120);
    let widget = script(&mut rng, lines);

    let mut blocks = Vec::new();
    let mut links_used = 0usize;
    blocks.push(Block::Paragraph(
        "Disclosure: we earn a commission when you buy through links on this page, at no cost to you."
            .to_string(),
    ));
    // Body: sections until the HTML is near the target size (estimated as we go).
    let mut estimated = 4_000 + css.len() + analytics.len() + widget.len();
    let mut section = 0;
    while estimated < target_size {
        section += 1;
        let heading = format!("{section}. {}", fill(&mut rng, "The {b} {p}"));
        estimated += heading.len() + 60;
        blocks.push(Block::Heading(2, heading));
        for _ in 0..rng.range(2, 5) {
            let claim = planted && rng.chance(15);
            let text = paragraph(&mut rng, claim);
            estimated += text.len() + 40;
            blocks.push(Block::Paragraph(text));
        }
        if links_used < link_budget {
            let count = rng.range(1, 3).min(link_budget - links_used);
            let links: Vec<(String, String, bool)> = (0..count)
                .map(|_| {
                    let affiliate = rng.chance(60);
                    let sponsored = affiliate && !(planted && rng.chance(30));
                    let text = fill(&mut rng, "the {b} {p} on {m}");
                    (text, link_url(&mut rng, affiliate), sponsored)
                })
                .collect();
            links_used += count;
            let text = paragraph(&mut rng, false);
            estimated += text.len() + 200 * count;
            blocks.push(Block::LinkParagraph(text, links));
        }
        match rng.range(0, 3) {
            0 => {
                let header: Vec<String> = ["Model", "Price", "Weight", "Battery", "Verdict"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let rows: Vec<Vec<String>> = (0..rng.range(4, 10))
                    .map(|_| {
                        vec![
                            fill(&mut rng, "{b} {p}"),
                            fill(&mut rng, "{price}"),
                            format!("{} g", rng.range(50, 900)),
                            format!("{} h", rng.range(4, 40)),
                            rng.pick(&["good value", "our pick", "skip it", "fine", "très bien"])
                                .to_string(),
                        ]
                    })
                    .collect();
                estimated += rows.len() * 260;
                blocks.push(Block::Table(header, rows));
            }
            1 => {
                let items: Vec<String> = (0..rng.range(3, 8))
                    .map(|_| {
                        let template = rng_pick_list(&mut rng);
                        fill(&mut rng, template)
                    })
                    .collect();
                estimated += items.len() * 80;
                blocks.push(Block::List(items));
            }
            2 if links_used < link_budget => {
                links_used += 1;
                let affiliate = rng.chance(80);
                let sponsored = affiliate && !(planted && rng.chance(30));
                let name = fill(&mut rng, "{b} {p}");
                let claim = planted && rng.chance(20);
                let text = paragraph(&mut rng, claim);
                let alt = fill(&mut rng, "Photo of the {b} {p} on a desk");
                estimated += text.len() + 900;
                blocks.push(Block::Card(
                    name,
                    text,
                    alt,
                    link_url(&mut rng, affiliate),
                    sponsored,
                ));
            }
            _ => {
                let alt = fill(&mut rng, "The {p} next to a {p} for scale");
                estimated += 200;
                blocks.push(Block::Image(
                    format!("/img/{}-{section}.jpg", rng.pick(WORDS)),
                    alt,
                ));
            }
        }
    }
    let pixel = planted && rng.chance(40);
    let name = format!("article-{index:05}");
    let html = render_html(&mut rng, &title, &css, &analytics, &widget, &blocks, pixel);
    let markdown = render_markdown(&title, &blocks);
    Article {
        name,
        html,
        markdown,
        planted,
    }
}

fn rng_pick_list(rng: &mut Rng) -> &'static str {
    const ITEMS: &[&str] = &[
        "Pros: light, quiet, {n}-hour battery",
        "Cons: the app wants an account",
        "Best for: small kitchens and shared flats",
        "Skip if: you already own a {p}",
        "In the box: cable, manual, {n} spare tips",
        "Warranty: {n} months from the maker",
        "Works with: {b} and most USB-C chargers",
    ];
    ITEMS[rng.range(0, ITEMS.len() - 1)]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_html(
    rng: &mut Rng,
    title: &str,
    css: &str,
    analytics: &str,
    widget: &str,
    blocks: &[Block],
    pixel: bool,
) -> String {
    let mut out = String::with_capacity(160_000);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<meta name=\"description\" content=\"{t}: what we liked, what we did not, and where to buy it.\">\n<meta property=\"og:title\" content=\"{t}\">\n<link rel=\"stylesheet\" href=\"/assets/site.css\">\n<style>\n{css}</style>\n<script>\n{analytics}</script>\n</head>\n<body class=\"post\">\n",
        t = escape(title)
    );
    out.push_str("<header class=\"site-header\"><div class=\"wrap\"><a class=\"logo\" href=\"/\">GadgetDesk</a>\n<nav><ul>");
    for section in [
        "Reviews", "Deals", "Kitchen", "Travel", "Tech", "Guides", "About",
    ] {
        let _ = write!(
            out,
            "<li class=\"nav-item\"><a href=\"/{}/\">{section}</a></li>",
            section.to_lowercase()
        );
    }
    out.push_str("</ul></nav></div></header>\n<div class=\"layout\"><main id=\"content\"><article class=\"entry\">\n");
    let _ = writeln!(out, "<h1 class=\"entry-title\">{}</h1>", escape(title));
    let _ = writeln!(
        out,
        "<div class=\"byline\"><span class=\"author\">By <a href=\"/authors/sam/\">Sam Reviewer</a></span> <time datetime=\"2026-03-{:02}\">March {}, 2026</time></div>",
        rng.range(1, 28),
        rng.range(1, 28)
    );
    for (index, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level} id=\"s{index}\">{}</h{level}>", escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", escape(text));
            }
            Block::LinkParagraph(text, links) => {
                let _ = write!(out, "<p>{} ", escape(text));
                for (position, (link_text, url, sponsored)) in links.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    let rel = if *sponsored {
                        " rel=\"sponsored nofollow\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "see <a class=\"out\" href=\"{}\"{rel}>{}</a>",
                        escape(url),
                        escape(link_text)
                    );
                }
                out.push_str(".</p>\n");
            }
            Block::List(items) => {
                out.push_str("<ul class=\"facts\">\n");
                for item in items {
                    let _ = writeln!(out, "  <li><span>{}</span></li>", escape(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(header, rows) => {
                out.push_str("<div class=\"table-wrap\"><table class=\"compare\">\n<thead><tr>");
                for cell in header {
                    let _ = write!(out, "<th scope=\"col\">{}</th>", escape(cell));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for (column, cell) in row.iter().enumerate() {
                        if column == 0 {
                            let _ = write!(out, "<th scope=\"row\">{}</th>", escape(cell));
                        } else {
                            let _ = write!(
                                out,
                                "<td data-label=\"{}\">{}</td>",
                                header[column],
                                escape(cell)
                            );
                        }
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table></div>\n");
            }
            Block::Image(src, alt) => {
                let _ = writeln!(
                    out,
                    "<figure class=\"wp-block-image\"><img src=\"{src}\" srcset=\"{src} 1x, {src}?w=2 2x\" alt=\"{}\" loading=\"lazy\" width=\"760\" height=\"428\"><figcaption>{}</figcaption></figure>",
                    escape(alt),
                    escape(alt)
                );
            }
            Block::Card(name, text, alt, url, sponsored) => {
                let rel = if *sponsored {
                    " rel=\"sponsored nofollow\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<div class=\"card\" id=\"w{index}\"><div class=\"card-inner\"><div class=\"card-media\"><img src=\"/img/p{index}.jpg\" alt=\"{alt}\" width=\"240\" height=\"240\"></div>\n<div class=\"card-body\"><h3 class=\"card-title\">{name}</h3>\n<p>{text}</p>\n<div class=\"card-actions\"><span class=\"badge\">Our pick</span> <a class=\"btn out\" href=\"{url}\"{rel}>Check price</a></div></div></div></div>\n",
                    alt = escape(alt),
                    name = escape(name),
                    text = escape(text),
                    url = escape(url),
                );
            }
        }
    }
    out.push_str("</article>\n<section class=\"comments\"><h2>Comments</h2>\n");
    for _ in 0..rng.range(2, 8) {
        let text = paragraph(rng, false);
        let _ = writeln!(
            out,
            "<div class=\"comment\"><div class=\"comment-meta\"><b>{}</b> <small>{} days ago</small></div><div class=\"comment-body\"><p>{}</p></div></div>",
            rng.pick(WORDS),
            rng.range(1, 90),
            escape(&text)
        );
    }
    out.push_str("</section></main>\n<aside class=\"sidebar\"><h2>Popular</h2><ol>\n");
    for _ in 0..6 {
        let _ = writeln!(
            out,
            "<li><a href=\"/reviews/{}-{}/\">{}</a></li>",
            rng.pick(WORDS),
            rng.range(1, 999),
            escape(&fill(rng, "The best {p} in 2026"))
        );
    }
    out.push_str("</ol></aside></div>\n");
    if pixel {
        out.push_str("<img src=\"https://s.click.aliexpress.com/e/_DpIxEl1\" width=\"1\" height=\"1\" style=\"position:absolute;left:-9999px\" alt=\"\">\n");
    }
    out.push_str("<footer class=\"site-footer\"><p>&copy; 2026 GadgetDesk. <a href=\"/privacy/\">Privacy</a> · <a href=\"/affiliate-disclosure/\">How we make money</a></p></footer>\n<script>\n");
    out.push_str(widget);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn render_markdown(title: &str, blocks: &[Block]) -> String {
    let mut out = String::with_capacity(64_000);
    let _ = write!(
        out,
        "---\ntitle: \"{}\"\nauthor: Sam Reviewer\ntags: [reviews]\n---\n\n# {title}\n\n",
        title.replace('"', "'")
    );
    for (index, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(*level as usize));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::LinkParagraph(text, links) => {
                out.push_str(text);
                for (link_text, url, sponsored) in links {
                    if *sponsored {
                        let _ = write!(
                            out,
                            " See <a href=\"{url}\" rel=\"sponsored\">{link_text}</a>."
                        );
                    } else {
                        let _ = write!(out, " See [{link_text}]({url}).");
                    }
                }
                out.push_str("\n\n");
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {item}");
                }
                out.push('\n');
            }
            Block::Table(header, rows) => {
                let _ = writeln!(out, "| {} |", header.join(" | "));
                let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
                for row in rows {
                    let _ = writeln!(out, "| {} |", row.join(" | "));
                }
                out.push('\n');
            }
            Block::Image(src, alt) => {
                let _ = writeln!(out, "![{alt}]({src})\n");
            }
            Block::Card(name, text, alt, url, sponsored) => {
                let _ = writeln!(out, "### {name}\n\n![{alt}](/img/p{index}.jpg)\n\n{text}\n");
                if *sponsored {
                    let _ = writeln!(out, "<a href=\"{url}\" rel=\"sponsored\">Check price</a>\n");
                } else {
                    let _ = writeln!(out, "[Check price]({url})\n");
                }
            }
        }
    }
    out
}
