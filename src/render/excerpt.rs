//! Compact passages: the best few sentences of a passage for the question,
//! in reading order, with an ellipsis wherever text was left out.
//!
//! A sentence's score is how many of the question's content terms (stemmed,
//! as BM25 sees them) it uses, with a small bonus for a passage's opening
//! sentence, which usually states its point. Sentences already shown as key
//! points are passed over, so the screen does not say the same thing twice.
//! Only prose is quoted; a passage that is all table or code shows its first
//! lines.

use std::collections::HashSet;

use super::markdown::{Block, Layout};
use super::terms::QueryTerms;
use super::text::{self, Line, Span, Sty};

/// One sentence of a passage.
struct Unit {
    spans: Vec<Span>,
    /// Index of its paragraph among the passage's prose paragraphs.
    para: usize,
}

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g.", "i.e.", "et al.", "vs.", "etc.", "cf.", "approx.", "Fig.", "Eq.", "No.", "Dr.", "Mr.",
    "Ms.",
];

/// A key for comparing sentences: lower-case letters and digits only.
pub fn sentence_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits a paragraph's spans into sentences, never inside code or math.
pub fn sentences(spans: &[Span]) -> Vec<Vec<Span>> {
    let plain = text::plain(spans);
    // Byte ranges where a cut is allowed (prose spans only).
    let mut prose: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for s in spans {
        let end = at + s.text.len();
        if !(s.sty.has(Sty::CODE) || s.sty.has(Sty::MATH) || s.sty.has(Sty::TEX)) {
            prose.push((at, end));
        }
        at = end;
    }
    let in_prose = |i: usize| prose.iter().any(|&(a, b)| a <= i && i < b);
    let mut cuts = Vec::new();
    let bytes = plain.as_bytes();
    for (i, c) in plain.char_indices() {
        if !matches!(c, '.' | '?' | '!') || !in_prose(i) {
            continue;
        }
        let next = i + 1;
        if bytes.get(next) != Some(&b' ') {
            continue;
        }
        let after = plain[next..].trim_start().chars().next();
        if after.is_none_or(|a| a.is_lowercase()) {
            continue;
        }
        let head = &plain[..=i];
        let word = head.rsplit(' ').next().unwrap_or("");
        let two = head.rsplitn(3, ' ').take(2).collect::<Vec<_>>();
        let pair = if two.len() == 2 {
            format!("{} {}", two[1], two[0])
        } else {
            String::new()
        };
        let initial = word.len() == 2 && word.starts_with(|c: char| c.is_uppercase());
        if c == '.'
            && (ABBREVIATIONS.contains(&word) || ABBREVIATIONS.contains(&pair.as_str()) || initial)
        {
            continue;
        }
        cuts.push(next);
    }
    cut(spans, &cuts)
}

/// Cuts spans at byte offsets of their plain text, trimming each piece.
fn cut(spans: &[Span], cuts: &[usize]) -> Vec<Vec<Span>> {
    let mut out: Vec<Vec<Span>> = vec![Vec::new()];
    let mut at = 0;
    let mut next = cuts.iter().copied().peekable();
    for s in spans {
        let mut rest = s.text.as_str();
        let mut start = at;
        while let Some(&c) = next.peek() {
            if c >= start + rest.len() {
                break;
            }
            let (a, b) = rest.split_at(c - start);
            if let Some(last) = out.last_mut() {
                text::push(last, a, s.sty);
            }
            out.push(Vec::new());
            rest = b;
            start = c;
            next.next();
        }
        if !rest.is_empty()
            && let Some(last) = out.last_mut()
        {
            text::push(last, rest, s.sty);
        }
        at += s.text.len();
    }
    out.into_iter()
        .map(trim)
        .filter(|s| !text::plain(s).trim().is_empty())
        .collect()
}

fn trim(mut spans: Vec<Span>) -> Vec<Span> {
    if let Some(f) = spans.first_mut() {
        f.text = f.text.trim_start().to_string();
    }
    if let Some(l) = spans.last_mut() {
        l.text = l.text.trim_end().to_string();
    }
    spans.retain(|s| !s.text.is_empty());
    spans
}

/// Prose sentences of a passage in reading order (paragraphs, list items and
/// quotes; not headings, tables, code or display math), and whether the
/// passage's other content: for each such block, how many sentences come
/// before it.
fn units(blocks: &[Block]) -> (Vec<Unit>, Vec<usize>) {
    let mut out = Vec::new();
    let mut other = Vec::new();
    let mut para = 0;
    collect(blocks, &mut out, &mut other, &mut para);
    (out, other)
}

fn collect(blocks: &[Block], out: &mut Vec<Unit>, other: &mut Vec<usize>, para: &mut usize) {
    for b in blocks {
        match b {
            Block::Para(spans) => {
                for s in sentences(spans) {
                    out.push(Unit {
                        spans: s,
                        para: *para,
                    });
                }
                *para += 1;
            }
            Block::List { items, .. } => {
                for item in items {
                    collect(item, out, other, para);
                }
            }
            Block::Quote(inner) => collect(inner, out, other, para),
            Block::Heading(..) => {}
            _ => other.push(out.len()),
        }
    }
}

/// How well a sentence answers: distinct question terms it uses, a bonus
/// for the opening sentence, a penalty for a fragment.
fn score(u: &Unit, i: usize, terms: &QueryTerms) -> f32 {
    let plain = text::plain(&u.spans);
    let hits = terms.count_in(&plain) as f32;
    let words = plain.split_whitespace().count();
    let lead = if i == 0 { 0.5 } else { 0.0 };
    let short = if words < 6 { 1.0 } else { 0.0 };
    hits + lead - short
}

/// The passage shortened to its best sentences, wrapped at `width` in at
/// most `max_lines` lines, and whether anything was left out.
pub fn excerpt(
    blocks: &[Block],
    terms: &QueryTerms,
    skip: &HashSet<String>,
    layout: &Layout,
    width: usize,
    max_lines: usize,
) -> (Vec<Line>, bool) {
    let (units, other) = units(blocks);
    if units.is_empty() {
        // All table or code: its first lines.
        let lines = layout.blocks(blocks, width);
        let cut = lines.len() > max_lines;
        let keep = if cut {
            max_lines.saturating_sub(1).max(1)
        } else {
            max_lines
        };
        let mut lines: Vec<Line> = lines.into_iter().take(keep).collect();
        if cut {
            lines.push(Line::new(vec![Span::new("…", Sty::DIM)]));
        }
        return (lines, cut);
    }
    let mut order: Vec<(f32, usize)> = units
        .iter()
        .enumerate()
        .filter(|(_, u)| !skip.contains(&sentence_key(&text::plain(&u.spans))))
        .map(|(i, u)| (score(u, i, terms), i))
        .collect();
    if order.is_empty() {
        order.push((0.0, 0));
    }
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen = vec![order[0].1];
    for &(_, i) in order.iter().skip(1) {
        let mut trial = chosen.clone();
        trial.push(i);
        trial.sort_unstable();
        if joined_lines(&units, &trial, &other, layout, width).len() <= max_lines {
            chosen = trial;
        } else {
            break;
        }
    }
    let lines = joined_lines(&units, &chosen, &other, layout, width);
    let trimmed = chosen.len() < units.len() || !other.is_empty();
    (truncate(lines, width, max_lines), trimmed)
}

/// The chosen sentences as one paragraph: `…` where text was skipped.
fn joined_lines(
    units: &[Unit],
    chosen: &[usize],
    other: &[usize],
    layout: &Layout,
    width: usize,
) -> Vec<Line> {
    let ell = || Span::new("…", Sty::DIM);
    let mut spans: Vec<Span> = Vec::new();
    // Text left out before: earlier sentences, or a table, code or math.
    let (first, last) = match (chosen.first(), chosen.last()) {
        (Some(&f), Some(&l)) => (f, l),
        _ => return Vec::new(),
    };
    if first > 0 || other.iter().any(|&n| n <= first) {
        spans.push(ell());
        spans.push(Span::plain(" "));
    }
    let mut prev: Option<usize> = None;
    for &i in chosen {
        if let Some(p) = prev {
            if i == p + 1 && units[i].para == units[p].para {
                spans.push(Span::plain(" "));
            } else {
                spans.extend([Span::plain(" "), ell(), Span::plain(" ")]);
            }
        }
        spans.extend(layout.cues(&units[i].spans));
        prev = Some(i);
    }
    if last + 1 < units.len() || other.iter().any(|&n| n > last) {
        spans.extend([Span::plain(" "), ell()]);
    }
    text::wrap(&spans, width)
        .into_iter()
        .map(Line::new)
        .collect()
}

/// At most `max` lines; a cut last line ends with `…`.
fn truncate(mut lines: Vec<Line>, width: usize, max: usize) -> Vec<Line> {
    if lines.len() <= max {
        return lines;
    }
    lines.truncate(max.max(1));
    if let Some(last) = lines.last_mut() {
        // Drop words until " …" fits.
        let mut spans = last.spans.clone();
        while !spans.is_empty() && text::width(&text::plain(&spans)) + 2 > width {
            let t = text::plain(&spans);
            let keep = t.trim_end().rfind(' ').unwrap_or(0);
            spans = cut_at(&spans, keep);
        }
        spans.push(Span::new(" …", Sty::DIM));
        last.spans = spans;
    }
    lines
}

/// The spans' first `n` bytes of plain text.
fn cut_at(spans: &[Span], n: usize) -> Vec<Span> {
    let mut out = Vec::new();
    let mut left = n;
    for s in spans {
        if left == 0 {
            break;
        }
        if s.text.len() <= left {
            out.push(s.clone());
            left -= s.text.len();
        } else {
            let mut k = left;
            while !s.text.is_char_boundary(k) {
                k -= 1;
            }
            out.push(Span::new(&s.text[..k], s.sty));
            left = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::markdown::parse;
    use super::*;

    fn plain_sentences(md: &str) -> Vec<String> {
        match &parse(md)[0] {
            Block::Para(s) => sentences(s).iter().map(|s| text::plain(s)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn splits_sentences_but_not_abbreviations_code_or_math() {
        assert_eq!(
            plain_sentences(
                "One is here, e.g. this. Two has `a. B` in code. Three $x. Y$ too! Four?"
            ),
            [
                "One is here, e.g. this.",
                "Two has a. B in code.",
                "Three x.Y too!",
                "Four?"
            ]
        );
    }

    fn terms(q: &str) -> QueryTerms {
        QueryTerms::new(q)
    }

    #[test]
    fn picks_the_sentences_about_the_question_in_reading_order() {
        let md = "Caching is a broad topic. Batching groups requests. Continuous batching admits new requests at every decode step. Latency is what users feel.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let blocks = parse(md);
        let layout = Layout { color: false };
        let t = terms("continuous batching");
        let (lines, trimmed) = excerpt(&blocks, &t, &HashSet::new(), &layout, 80, 1);
        assert!(trimmed);
        assert_eq!(
            lines[0].text(),
            "… Continuous batching admits new requests at every decode step. …"
        );
        // Room for all of it: the whole paragraph, then `…` for the table.
        let (lines, _) = excerpt(&blocks, &t, &HashSet::new(), &layout, 80, 3);
        let text: Vec<String> = lines.iter().map(Line::text).collect();
        assert_eq!(
            text.join("\n"),
            "Caching is a broad topic. Batching groups requests. Continuous batching admits\nnew requests at every decode step. Latency is what users feel. …"
        );
    }

    #[test]
    fn skips_key_points_and_truncates_long_sentences() {
        let long = "word ".repeat(80);
        let md = format!("Batching is the topic here. Word {long}batching.");
        let blocks = parse(&md);
        let layout = Layout { color: false };
        let skip: HashSet<String> = [sentence_key("Batching is the topic here.")]
            .into_iter()
            .collect();
        let (lines, _) = excerpt(&blocks, &terms("batching"), &skip, &layout, 40, 2);
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].text().starts_with("… Word word"),
            "{:?}",
            lines[0].text()
        );
        assert!(lines[1].text().ends_with(" …") && lines[1].width() <= 40);
    }
}
