//! The notes' markdown as HTML, for the study page (`cram serve`).
//!
//! This writer consumes the same [`Block`] tree as the terminal layout
//! ([`super::markdown::parse`]): one parse, two outputs. Math is written as
//! MathML by [`super::tex::mathml`] (no script, no web font), or kept as its
//! TeX source in `<code class="tex">` when it cannot be parsed. Query terms
//! marked by [`super::mark`] become `<mark>`.
//!
//! Note text is untrusted (a user's own notes folder may hold anything):
//! every character of text is escaped, raw HTML in a note is shown as text,
//! and a link keeps its target only when it is `http:`, `https:` or
//! `mailto:`, a fragment of the same page, or another note (`q14-*.md`,
//! which becomes `/note/q14`); anything else (`javascript:`, `data:`, a
//! path outside the notes) is shown as plain words.

use std::collections::HashSet;

use pulldown_cmark::Alignment;

use super::markdown::Block;
use super::tex;
use super::text::{Span, Sty};

pub use super::escape_markup as escape;

/// The `href` a link in a note may have, or `None` to show its words only.
pub fn safe_href(url: &str) -> Option<String> {
    // Browsers drop ASCII tabs and newlines anywhere in a URL and spaces
    // around it ("java\tscript:" is javascript:), so judge what they see.
    let seen: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if seen.is_empty() || seen.chars().any(char::is_control) {
        return None;
    }
    if let Some(frag) = seen.strip_prefix('#') {
        return Some(format!("#{frag}"));
    }
    let scheme_end = seen.find(':');
    let path_start = seen.find(['/', '?', '#']).unwrap_or(seen.len());
    match scheme_end {
        Some(i) if i < path_start => {
            let scheme = seen[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(seen)
        }
        // A relative link: only to another note, by its question id.
        _ => note_link(&seen),
    }
}

/// `q14-dropout.md` (or `./q14-dropout.md#traps`) as `/note/q14`.
fn note_link(rel: &str) -> Option<String> {
    let (path, frag) = match rel.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (rel, None),
    };
    let name = path.strip_prefix("./").unwrap_or(path);
    let stem = name.strip_suffix(".md")?;
    let id = stem.split('-').next()?;
    if name.contains('/') || !crate::index::corpus::is_question_id(id) {
        return None;
    }
    let mut href = format!("/note/{id}");
    if let Some(f) = frag.filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')) {
        href.push('#');
        href.push_str(f);
    }
    Some(href)
}

/// Inline spans as HTML.
pub fn spans(spans: &[Span], out: &mut String) {
    let mut i = 0;
    while i < spans.len() {
        let s = &spans[i];
        let link = s.src.as_ref().filter(|_| s.sty.has(Sty::LINK));
        let Some(target) = link else {
            span(s, out);
            i += 1;
            continue;
        };
        // The words of one link.
        let end = spans[i..]
            .iter()
            .position(|x| !x.sty.has(Sty::LINK) || x.src.as_ref() != Some(target))
            .map_or(spans.len(), |n| i + n);
        match safe_href(target) {
            Some(href) => {
                out.push_str("<a href=\"");
                escape(&href, out);
                out.push_str(if href.starts_with("http") {
                    "\" rel=\"noopener noreferrer\">"
                } else {
                    "\">"
                });
                spans[i..end].iter().for_each(|x| span(x, out));
                out.push_str("</a>");
            }
            None => {
                out.push_str("<span class=\"link\">");
                spans[i..end].iter().for_each(|x| span(x, out));
                out.push_str("</span>");
            }
        }
        i = end;
    }
}

/// One span: its text escaped inside the tags of its style.
fn span(s: &Span, out: &mut String) {
    if s.sty.has(Sty::CUE) {
        return;
    }
    if s.sty.has(Sty::MATH) || s.sty.has(Sty::TEX) {
        let tex_src = s.src.as_deref().unwrap_or(&s.text);
        match tex::mathml(tex_src, false) {
            Ok(m) => out.push_str(&m),
            Err(e) => {
                out.push_str("<code class=\"tex\" title=\"TeX (");
                escape(&e.0, out);
                out.push_str(")\">$");
                escape(tex_src, out);
                out.push_str("$</code>");
            }
        }
        return;
    }
    let tags: [(Sty, &str, &str); 6] = [
        (Sty::MARK, "<mark>", "</mark>"),
        (Sty::BOLD, "<strong>", "</strong>"),
        (Sty::ITALIC, "<em>", "</em>"),
        (Sty::STRIKE, "<del>", "</del>"),
        (Sty::CODE, "<code>", "</code>"),
        (Sty::DIM, "<span class=\"dim\">", "</span>"),
    ];
    for (sty, open, _) in &tags {
        if s.sty.has(*sty) {
            out.push_str(open);
        }
    }
    escape(&s.text, out);
    for (sty, _, close) in tags.iter().rev() {
        if s.sty.has(*sty) {
            out.push_str(close);
        }
    }
}

/// How blocks are written.
#[derive(Debug, Default)]
pub struct Options {
    /// Added to every heading's level (a note's `##` under the page's `<h1>`
    /// stays `<h2>` with 0; a passage's headings under its own go deeper).
    pub heading_shift: usize,
    /// When set, every heading gets an `id` (its slug, made unique against
    /// the ids already in the set, which it joins).
    pub ids: Option<HashSet<String>>,
    /// The `id` of the next heading written, instead of its slug (a
    /// passage's anchor on the heading that starts it).
    pub first_heading_id: Option<String>,
}

/// Blocks as HTML.
pub fn blocks(blocks: &[Block], opts: &mut Options, out: &mut String) {
    for b in blocks {
        block(b, opts, out);
    }
}

fn block(b: &Block, opts: &mut Options, out: &mut String) {
    match b {
        Block::Para(s) => {
            out.push_str("<p>");
            spans(s, out);
            out.push_str("</p>\n");
        }
        Block::Heading(level, s) => heading(*level, s, opts, out),
        Block::List {
            start,
            tight,
            items,
        } => {
            let tag = if start.is_some() { "ol" } else { "ul" };
            out.push('<');
            out.push_str(tag);
            if let Some(n) = start.filter(|&n| n != 1) {
                out.push_str(&format!(" start=\"{n}\""));
            }
            out.push_str(if *tight { " class=\"tight\">" } else { ">" });
            for item in items {
                out.push_str("<li>");
                blocks(item, opts, out);
                out.push_str("</li>");
            }
            out.push_str("</");
            out.push_str(tag);
            out.push_str(">\n");
        }
        Block::Quote(inner) => {
            out.push_str("<blockquote>");
            blocks(inner, opts, out);
            out.push_str("</blockquote>\n");
        }
        Block::Code(lines) => {
            out.push_str("<pre><code>");
            escape(&lines.join("\n"), out);
            out.push_str("</code></pre>\n");
        }
        Block::Math { tex, .. } => match tex::mathml(tex, true) {
            Ok(m) => {
                out.push_str("<div class=\"math\">");
                out.push_str(&m);
                out.push_str("</div>\n");
            }
            Err(e) => {
                out.push_str("<pre class=\"tex\" title=\"TeX (");
                escape(&e.0, out);
                out.push_str(")\">$$ ");
                escape(tex.trim(), out);
                out.push_str(" $$</pre>\n");
            }
        },
        Block::Table { align, rows } => table(align, rows, out),
        Block::Rule => out.push_str("<hr>\n"),
    }
}

fn heading(level: usize, s: &[Span], opts: &mut Options, out: &mut String) {
    let n = (level + opts.heading_shift).clamp(1, 6);
    out.push_str(&format!("<h{n}"));
    if let Some(id) = opts.first_heading_id.take() {
        out.push_str(" id=\"");
        escape(&id, out);
        out.push('"');
    } else if let Some(ids) = opts.ids.as_mut() {
        let base = crate::index::chunk::slug(&super::text::plain(s));
        let mut id = base.clone();
        let mut k = 1;
        while ids.contains(&id) {
            k += 1;
            id = format!("{base}-{k}");
        }
        out.push_str(" id=\"");
        escape(&id, out);
        out.push('"');
        ids.insert(id);
    }
    out.push('>');
    spans(s, out);
    out.push_str(&format!("</h{n}>\n"));
}

fn table(align: &[Alignment], rows: &[Vec<Vec<Span>>], out: &mut String) {
    out.push_str("<div class=\"table\"><table>");
    for (r, row) in rows.iter().enumerate() {
        let cell = if r == 0 { "th" } else { "td" };
        if r == 0 {
            out.push_str("<thead>");
        } else if r == 1 {
            out.push_str("<tbody>");
        }
        out.push_str("<tr>");
        for (c, content) in row.iter().enumerate() {
            let class = match align.get(c) {
                Some(Alignment::Right) => " class=\"r\"",
                Some(Alignment::Center) => " class=\"c\"",
                _ => "",
            };
            out.push_str(&format!("<{cell}{class}>"));
            spans(content, out);
            out.push_str(&format!("</{cell}>"));
        }
        out.push_str("</tr>");
        if r == 0 {
            out.push_str("</thead>");
        }
    }
    if rows.len() > 1 {
        out.push_str("</tbody>");
    }
    out.push_str("</table></div>\n");
}

/// Markdown (already free of control characters) as HTML, in one call.
pub fn markdown(md: &str, opts: &mut Options) -> String {
    let mut out = String::with_capacity(md.len() * 2);
    blocks(&super::markdown::parse(md), opts, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(md: &str) -> String {
        markdown(md, &mut Options::default())
    }

    #[test]
    fn text_and_raw_html_are_escaped() {
        let h = page("a <script>alert(1)</script> & \"b\" 'c'\n\n<div onclick=x>hi</div>\n");
        assert!(!h.contains("<script") && !h.contains("<div"), "{h}");
        assert!(h.contains("&lt;script&gt;</span>alert(1)"), "{h}");
        assert!(h.contains("&lt;div onclick=x&gt;hi&lt;/div&gt;"), "{h}");
        assert!(h.contains("&amp; &quot;b&quot; &#39;c&#39;"), "{h}");
    }

    #[test]
    fn only_safe_link_targets_become_hrefs() {
        for (url, want) in [
            ("https://arxiv.org/abs/1", Some("https://arxiv.org/abs/1")),
            ("HTTP://x.org", Some("HTTP://x.org")),
            ("mailto:a@b.c", Some("mailto:a@b.c")),
            ("#traps", Some("#traps")),
            ("q14-dropout.md", Some("/note/q14")),
            ("./q14-dropout.md#mechanism", Some("/note/q14#mechanism")),
            ("javascript:alert(1)", None),
            (" JaVa\tScRiPt:alert(1)", None),
            ("java\nscript:alert(1)", None),
            ("data:text/html,<script>", None),
            ("vbscript:x", None),
            ("../../etc/passwd", None),
            ("/etc/passwd", None),
            ("notes/q14-x.md", None),
        ] {
            assert_eq!(safe_href(url).as_deref(), want, "{url:?}");
        }
        let h = page("[click](javascript:alert(1)) and [paper](https://x.org/\"onmouseover=\"a)");
        assert!(!h.contains("javascript"), "{h}");
        assert!(h.contains("<span class=\"link\">click</span>"), "{h}");
        assert!(
            h.contains("href=\"https://x.org/%22onmouseover=%22a\"")
                || h.contains("href=\"https://x.org/&quot;onmouseover=&quot;a\""),
            "{h}"
        );
        // The terminal's ` <url>` cue is not repeated on the page.
        assert!(!h.contains("&lt;https"), "{h}");
    }

    #[test]
    fn math_becomes_mathml_and_unparsable_tex_stays_visible() {
        let h = page("Scores use $\\sqrt{d_k}$.\n\n$$\\frac{a}{b}$$\n\nBad $\\begin{x}$.\n");
        assert!(h.contains("<math><semantics><mrow><msqrt>"), "{h}");
        assert!(
            h.contains("<div class=\"math\"><math display=\"block\">"),
            "{h}"
        );
        assert!(h.contains("<mfrac>"), "{h}");
        assert!(h.contains("<code class=\"tex\""), "{h}");
        assert!(h.contains("$\\begin{x}$"), "{h}");
    }

    #[test]
    fn blocks_map_to_elements_with_unique_heading_ids() {
        let md = "## Example\n\n- a\n- **b**\n\n## Example\n\n1. x\n\n| h | n |\n|---|--:|\n| a | 1 |\n\n```\nlet x = 1 < 2;\n```\n\n> q\n\n---\n";
        let mut opts = Options {
            heading_shift: 1,
            ids: Some(HashSet::from(["example".to_string()])),
            first_heading_id: None,
        };
        let h = markdown(md, &mut opts).replace('\n', "");
        assert!(h.contains("<h3 id=\"example-2\">Example</h3>"), "{h}");
        assert!(h.contains("<h3 id=\"example-3\">Example</h3>"), "{h}");
        assert!(
            h.contains(
                "<ul class=\"tight\"><li><p>a</p></li><li><p><strong>b</strong></p></li></ul>"
            ),
            "{h}"
        );
        assert!(h.contains("<ol class=\"tight\">"), "{h}");
        assert!(
            h.contains("<th class=\"r\">n</th>") && h.contains("<td class=\"r\">1</td>"),
            "{h}"
        );
        assert!(
            h.contains("<pre><code>let x = 1 &lt; 2;</code></pre>"),
            "{h}"
        );
        assert!(
            h.contains("<blockquote><p>q</p></blockquote>") && h.contains("<hr>"),
            "{h}"
        );
    }

    #[test]
    fn marked_terms_become_mark_elements() {
        let terms = super::super::terms::QueryTerms::new("ranking");
        let s = super::super::mark(
            super::super::markdown::inline("Ranked by **rank** and `rank`"),
            &terms,
        );
        let mut h = String::new();
        spans(&s, &mut h);
        assert_eq!(
            h,
            "<mark>Ranked</mark> by <mark><strong>rank</strong></mark> and <code>rank</code>"
        );
    }
}
