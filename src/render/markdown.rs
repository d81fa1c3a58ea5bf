//! Markdown for the terminal: one pulldown-cmark parse into a small block
//! tree ([`parse`]), then a layout at a given width ([`Layout::blocks`]).
//!
//! Headings keep their `#` marks (bold and coloured on a terminal); bold,
//! italic and links become styles; inline code keeps its backticks when
//! there is no colour to show it; lists get bullets or numbers with a
//! hanging indent; block quotes a bar; tables are aligned, wrapped inside
//! their columns when too wide, or listed row by row when even that does not
//! fit; code blocks are indented and never wrapped. Math goes through
//! [`super::tex`]: converted to Unicode, or left as TeX (marked as such)
//! when it cannot be.
//!
//! The same blocks feed the page writer ([`super::html`]): math spans and
//! blocks keep their TeX source and link words their target ([`Span::src`]),
//! and the ` <url>` a terminal prints after a link is marked [`Sty::CUE`].

use std::sync::Arc;

use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};

use super::tex;
use super::text::{self, Line, MIN_MEASURE, Span, Sty, spaces, wrap_hanging};

/// A block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para(Vec<Span>),
    Heading(usize, Vec<Span>),
    List {
        start: Option<u64>,
        tight: bool,
        items: Vec<Vec<Block>>,
    },
    Quote(Vec<Block>),
    Code(Vec<String>),
    /// Display math: its TeX source, and its Unicode form when it converts.
    Math {
        tex: String,
        unicode: Option<String>,
    },
    Table {
        align: Vec<Alignment>,
        /// The header row first.
        rows: Vec<Vec<Vec<Span>>>,
    },
    Rule,
}

/// Inline math as a span: Unicode when it converts, else the TeX source
/// with its dollars, marked [`Sty::TEX`].
pub fn inline_math(src: &str) -> Span {
    let tex = Some(Arc::from(src));
    match tex::convert(src) {
        Ok(u) => Span::with_src(u, Sty::MATH, tex),
        Err(_) => Span::with_src(format!("${src}$"), Sty::TEX, tex),
    }
}

/// Display math as a block.
pub fn display_math(src: &str) -> Block {
    Block::Math {
        tex: src.to_string(),
        unicode: tex::convert(src).ok(),
    }
}

/// True when "inline math" is prose between two dollar signs used as
/// currency (`$3 per 1M input tokens and $`): outside commands and `\text`
/// groups it has two words of two or more letters in a row, which math
/// written in TeX does not.
pub fn is_prose(src: &str) -> bool {
    let mut plain = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            plain.push(c);
            continue;
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
            name.push(n);
            chars.next();
        }
        plain.push(' ');
        if name.starts_with("text") || name == "mbox" || name == "operatorname" {
            // Skip the braced argument.
            let mut depth = 0;
            for n in chars.by_ref() {
                match n {
                    '{' => depth += 1,
                    '}' if depth <= 1 => break,
                    '}' => depth -= 1,
                    _ => {}
                }
            }
        }
    }
    let word = |w: &str| w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic());
    plain
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",.;:!?()".contains(c)))
        .collect::<Vec<_>>()
        .windows(2)
        .any(|p| word(p[0]) && word(p[1]))
}

/// Display math's TeX on one line, as a terminal shows it when it does not convert.
fn one_line(tex: &str) -> String {
    tex.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The parser options: tables, strikethrough, task lists and `$` math.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
}

/// A container being filled while parsing.
enum Frame {
    Quote(Vec<Block>),
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
        loose: bool,
    },
    Item {
        blocks: Vec<Block>,
        loose: bool,
    },
    Table {
        align: Vec<Alignment>,
        rows: Vec<Vec<Vec<Span>>>,
    },
}

struct Builder {
    root: Vec<Block>,
    stack: Vec<Frame>,
    inline: Vec<Span>,
    sty: Vec<Sty>,
    code: Option<String>,
    link: Vec<Arc<str>>,
}

impl Builder {
    /// The innermost container of blocks (a list or table holds none itself).
    fn current(&mut self) -> &mut Vec<Block> {
        for f in self.stack.iter_mut().rev() {
            match f {
                Frame::Quote(b) | Frame::Item { blocks: b, .. } => return b,
                Frame::List { .. } | Frame::Table { .. } => {}
            }
        }
        &mut self.root
    }

    fn push_block(&mut self, b: Block) {
        self.current().push(b);
    }

    /// Inline text not inside a paragraph (a tight list item) becomes one.
    fn flush(&mut self) {
        if self.inline.iter().any(|s| !s.text.trim().is_empty()) {
            let spans = std::mem::take(&mut self.inline);
            self.push_block(Block::Para(trim_spans(spans)));
        }
        self.inline.clear();
    }

    fn style(&self) -> Sty {
        self.sty.iter().fold(Sty::PLAIN, |a, b| a.with(*b))
    }

    fn text(&mut self, s: &str, extra: Sty) {
        let sty = self.style().with(extra);
        // Words of a link stand for its target.
        let src = self.link.last().filter(|_| sty.has(Sty::LINK));
        text::push_src(&mut self.inline, s, sty, src);
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.flush();
                if let Some(Frame::Item { loose, .. }) = self.stack.last_mut() {
                    *loose = true;
                }
            }
            Tag::Heading { .. } => self.flush(),
            Tag::BlockQuote(_) | Tag::FootnoteDefinition(_) => {
                self.flush();
                self.stack.push(Frame::Quote(Vec::new()));
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.code = Some(String::new());
            }
            Tag::List(start) => {
                self.flush();
                self.stack.push(Frame::List {
                    start,
                    items: Vec::new(),
                    loose: false,
                });
            }
            Tag::Item => self.stack.push(Frame::Item {
                blocks: Vec::new(),
                loose: false,
            }),
            Tag::Table(align) => {
                self.flush();
                self.stack.push(Frame::Table {
                    align,
                    rows: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(Frame::Table { rows, .. }) = self.stack.last_mut() {
                    rows.push(Vec::new());
                }
            }
            Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.sty.push(Sty::ITALIC),
            Tag::Strong => self.sty.push(Sty::BOLD),
            Tag::Strikethrough => self.sty.push(Sty::STRIKE),
            Tag::Link { dest_url, .. } => {
                self.sty.push(Sty::LINK);
                self.link.push(Arc::from(dest_url.as_ref()));
            }
            Tag::Image { .. } => self.text("[image: ", Sty::DIM),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(level) => {
                let spans = trim_spans(std::mem::take(&mut self.inline));
                self.push_block(Block::Heading(level as usize, spans));
            }
            TagEnd::BlockQuote(_) | TagEnd::FootnoteDefinition => {
                self.flush();
                if let Some(Frame::Quote(blocks)) = self.stack.pop() {
                    self.push_block(Block::Quote(blocks));
                }
            }
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                let lines = code.lines().map(|l| l.replace('\t', "    ")).collect();
                self.push_block(Block::Code(lines));
            }
            TagEnd::Item => {
                self.flush();
                if let Some(Frame::Item { blocks, loose }) = self.stack.pop()
                    && let Some(Frame::List {
                        items, loose: l, ..
                    }) = self.stack.last_mut()
                {
                    items.push(blocks);
                    *l |= loose;
                }
            }
            TagEnd::List(_) => {
                if let Some(Frame::List {
                    start,
                    items,
                    loose,
                }) = self.stack.pop()
                {
                    self.push_block(Block::List {
                        start,
                        tight: !loose,
                        items,
                    });
                }
            }
            TagEnd::TableCell => {
                let cell = trim_spans(std::mem::take(&mut self.inline));
                if let Some(Frame::Table { rows, .. }) = self.stack.last_mut()
                    && let Some(row) = rows.last_mut()
                {
                    row.push(cell);
                }
            }
            TagEnd::Table => {
                if let Some(Frame::Table { align, rows }) = self.stack.pop() {
                    self.push_block(Block::Table { align, rows });
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.sty.pop();
            }
            TagEnd::Link => {
                self.sty.pop();
                let url = self.link.pop().unwrap_or_else(|| Arc::from(""));
                let shown = text::plain(&self.inline);
                if !url.is_empty() && !url.starts_with('#') && !shown.ends_with(&*url) {
                    self.text(&format!(" <{url}>"), Sty::DIM.with(Sty::CUE));
                }
            }
            TagEnd::Image => self.text("]", Sty::DIM),
            _ => {}
        }
    }

    fn event(&mut self, e: Event<'_>) {
        match e {
            Event::Start(t) => self.start(t),
            Event::End(t) => self.end(t),
            Event::Text(s) => match &mut self.code {
                Some(code) => code.push_str(&s),
                None => self.text(&s, Sty::PLAIN),
            },
            Event::Code(s) => self.text(&s, Sty::CODE),
            // Two prices on one line (`$3 ... and $15 ...`) are not math.
            Event::InlineMath(s) if is_prose(&s) => self.text(&format!("${s}$"), Sty::PLAIN),
            Event::InlineMath(s) => {
                let span = inline_math(&s);
                let sty = self.style().with(span.sty);
                text::push_src(&mut self.inline, &span.text, sty, span.src.as_ref());
            }
            Event::DisplayMath(s) => {
                // Display math inside a paragraph: the text before it is a
                // paragraph of its own, the math a block.
                self.flush();
                self.push_block(display_math(&s));
            }
            Event::Html(s) | Event::InlineHtml(s) => match &mut self.code {
                Some(code) => code.push_str(&s),
                None => self.text(&s, Sty::DIM),
            },
            Event::SoftBreak => self.text(" ", Sty::PLAIN),
            Event::HardBreak => self.text("\n", Sty::PLAIN),
            Event::Rule => {
                self.flush();
                self.push_block(Block::Rule);
            }
            Event::TaskListMarker(done) => {
                self.text(if done { "[x] " } else { "[ ] " }, Sty::PLAIN)
            }
            Event::FootnoteReference(s) => self.text(&format!("[^{s}]"), Sty::DIM),
        }
    }
}

/// Drops leading and trailing whitespace of a run of spans.
fn trim_spans(mut spans: Vec<Span>) -> Vec<Span> {
    while spans.first().is_some_and(|s| s.text.trim().is_empty()) {
        spans.remove(0);
    }
    while spans.last().is_some_and(|s| s.text.trim().is_empty()) {
        spans.pop();
    }
    if let Some(f) = spans.first_mut() {
        f.text = f.text.trim_start().to_string();
    }
    if let Some(l) = spans.last_mut() {
        l.text = l.text.trim_end().to_string();
    }
    spans
}

/// Parses markdown (already sanitised of control characters) into blocks.
pub fn parse(md: &str) -> Vec<Block> {
    let mut b = Builder {
        root: Vec::new(),
        stack: Vec::new(),
        inline: Vec::new(),
        sty: Vec::new(),
        code: None,
        link: Vec::new(),
    };
    for e in Parser::new_ext(md, options()) {
        b.event(e);
    }
    b.flush();
    // Unclosed frames cannot happen with pulldown-cmark, but fold them in anyway.
    while let Some(f) = b.stack.pop() {
        match f {
            Frame::Quote(blocks) | Frame::Item { blocks, .. } => b.current().extend(blocks),
            Frame::List { start, items, .. } => b.push_block(Block::List {
                start,
                tight: true,
                items,
            }),
            Frame::Table { align, rows } => b.push_block(Block::Table { align, rows }),
        }
    }
    b.root
}

/// Inline markdown (one paragraph's worth, such as a key point) as spans.
pub fn inline(md: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for b in parse(md) {
        if let Block::Para(s) | Block::Heading(_, s) = b {
            if !out.is_empty() {
                out.push(Span::plain(" "));
            }
            text::append(&mut out, s);
        } else if let Block::Math { tex, unicode } = b {
            let src = Some(Arc::from(tex.as_str()));
            out.push(match unicode {
                Some(u) => Span::with_src(u, Sty::MATH, src),
                None => Span::with_src(format!("$${}$$", one_line(&tex)), Sty::TEX, src),
            });
        }
    }
    out
}

/// How to lay blocks out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// ANSI styles will be painted; without them, inline code keeps its
    /// backticks so it still stands out.
    pub color: bool,
}

const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

impl Layout {
    /// Spans as they will show: without colour, code gets its backticks back.
    pub fn cues(&self, spans: &[Span]) -> Vec<Span> {
        if self.color {
            return spans.to_vec();
        }
        spans
            .iter()
            .map(|s| {
                if s.sty.has(Sty::CODE) {
                    Span::new(format!("`{}`", s.text), s.sty)
                } else {
                    s.clone()
                }
            })
            .collect()
    }

    /// Lays out blocks at `width` columns, a blank line between blocks.
    pub fn blocks(&self, blocks: &[Block], width: usize) -> Vec<Line> {
        self.blocks_at(blocks, width, 0, false)
    }

    /// Blocks one after another: a blank line between them, except inside
    /// an item of a tight list.
    fn blocks_at(&self, blocks: &[Block], width: usize, depth: usize, tight: bool) -> Vec<Line> {
        let mut out = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            if i > 0 && !tight {
                out.push(Line::blank());
            }
            out.extend(self.block(b, width, depth));
        }
        out
    }

    fn block(&self, b: &Block, width: usize, depth: usize) -> Vec<Line> {
        match b {
            Block::Para(spans) => wrap_hanging(&self.cues(spans), width, &[], &[]),
            Block::Heading(level, spans) => {
                let marker = format!("{} ", "#".repeat(*level));
                let styled: Vec<Span> = self
                    .cues(spans)
                    .into_iter()
                    .map(|s| Span::new(s.text, s.sty.with(Sty::HEADING)))
                    .collect();
                let n = text::width(&marker);
                wrap_hanging(
                    &styled,
                    width,
                    &[Span::new(marker, Sty::HEADING)],
                    &[spaces(n)],
                )
            }
            Block::List {
                start,
                tight,
                items,
            } => self.list(*start, *tight, items, width, depth),
            Block::Quote(inner) => {
                let bar = Span::new("│ ", Sty::DIM);
                self.blocks_at(
                    inner,
                    width.saturating_sub(2).max(MIN_MEASURE),
                    depth,
                    false,
                )
                .into_iter()
                .map(|l| l.prefixed(std::slice::from_ref(&bar)))
                .collect()
            }
            Block::Code(lines) => lines
                .iter()
                .map(|l| Line {
                    spans: vec![spaces(4), Span::new(l.clone(), Sty::CODE)],
                    verbatim: true,
                })
                .collect(),
            Block::Math { tex, unicode } => {
                let span = match unicode {
                    Some(u) => Span::new(u.clone(), Sty::MATH),
                    None => Span::new(format!("$$ {} $$", one_line(tex)), Sty::TEX),
                };
                wrap_hanging(&[span], width, &[spaces(4)], &[spaces(6)])
            }
            Block::Table { align, rows } => super::table::layout(self, align, rows, width),
            Block::Rule => vec![Line::new(vec![Span::new(
                "─".repeat(width.min(60)),
                Sty::DIM,
            )])],
        }
    }

    fn list(
        &self,
        start: Option<u64>,
        tight: bool,
        items: &[Vec<Block>],
        width: usize,
        depth: usize,
    ) -> Vec<Line> {
        let markers: Vec<String> = match start {
            Some(n) => {
                let last = n.saturating_add(items.len() as u64).saturating_sub(1);
                let w = last.to_string().len();
                (0..items.len() as u64)
                    .map(|i| format!("{:>w$}. ", n.saturating_add(i)))
                    .collect()
            }
            None => vec![BULLETS[depth.min(2)].to_string(); items.len()],
        };
        let mw = markers.iter().map(|m| text::width(m)).max().unwrap_or(2);
        let inner = width.saturating_sub(mw).max(MIN_MEASURE);
        let mut out = Vec::new();
        for (i, (item, marker)) in items.iter().zip(markers).enumerate() {
            if i > 0 && !tight {
                out.push(Line::blank());
            }
            let lines = self.blocks_at(item, inner, depth + 1, tight);
            if lines.is_empty() {
                out.push(Line::new(vec![Span::new(marker.clone(), Sty::DIM)]));
            }
            for (j, l) in lines.into_iter().enumerate() {
                let prefix = if j == 0 {
                    Span::new(marker.clone(), Sty::DIM)
                } else {
                    spaces(mw)
                };
                out.push(l.prefixed(&[prefix]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str, width: usize) -> String {
        let lines = Layout { color: false }.blocks(&parse(md), width);
        let mut s = String::new();
        text::paint(&lines, false, &mut s);
        s
    }

    #[test]
    fn paragraphs_reflow_and_styles_drop_their_markers() {
        let out = render(
            "A paragraph wrapped\nby hand with **bold**,\n*italic* and `code`.",
            80,
        );
        assert_eq!(
            out,
            "A paragraph wrapped by hand with bold, italic and `code`.\n"
        );
    }

    #[test]
    fn headings_lists_and_quotes() {
        let md = "## Intuition\n\n- one item that is long enough to wrap around\n- two\n  1. nested\n  2. more\n\n> quoted text\n";
        let out = render(md, 24);
        assert_eq!(
            out,
            "## Intuition\n\n• one item that is long\n  enough to wrap around\n• two\n  1. nested\n  2. more\n\n│ quoted text\n"
        );
    }

    #[test]
    fn code_blocks_are_verbatim_and_math_converts() {
        let md =
            "Text $x_i^2$ and $\\unknown{y}$.\n\n```python\nx  =  1\n```\n\n$$ \\frac{a+b}{2} $$\n";
        let out = render(md, 80);
        assert_eq!(
            out,
            "Text xᵢ² and $\\unknown{y}$.\n\n    x  =  1\n\n    (a + b)/2\n"
        );
    }

    #[test]
    fn display_math_inside_a_paragraph_gets_its_own_line() {
        let md = "The score is\n$$\n\\sqrt{d_k}\n$$\nper head.\n";
        let out = render(md, 80);
        assert_eq!(out, "The score is\n\n    √dₖ\n\nper head.\n");
    }

    #[test]
    fn links_show_their_target() {
        let out = render("See [the paper](https://arxiv.org/abs/1).", 80);
        assert_eq!(out, "See the paper <https://arxiv.org/abs/1>.\n");
    }

    #[test]
    fn dollar_prices_are_prose_not_math() {
        for prose in [
            "15 per 1M output tokens, 4,167 requests/hour × (2,000 input + 300 output tokens) costs 4,167 × (",
            "0.50 per million input tokens and ",
        ] {
            assert!(is_prose(prose), "{prose}");
        }
        for math in [
            r"\mathrm{softmax}(QK^\top)",
            r"5\text{k} + 10\text{ tokens per hour}",
            r"\log x + \max_a Q(s, a)",
            r"n \times d_{model}",
            r"p \to 0",
            r"f = \operatorname{arg max} x",
        ] {
            assert!(!is_prose(math), "{math}");
        }
        let out = render(
            "At $3 per 1M input and $15 per 1M output tokens, $x^2$.",
            80,
        );
        assert_eq!(
            out,
            "At $3 per 1M input and $15 per 1M output tokens, x².\n"
        );
    }

    #[test]
    fn inline_spans_of_a_key_point() {
        let s = inline("Scores use $\\sqrt{d_k}$ and `top_k`.");
        assert_eq!(text::plain(&s), "Scores use √dₖ and top_k.");
        assert!(s.iter().any(|x| x.sty.has(Sty::CODE)));
    }
}
