//! Turning answers and notes into terminal text.
//!
//! Terminal output is for people: notes are parsed as markdown ([`markdown`],
//! one pulldown-cmark parse), their math turned into Unicode ([`tex`]), and
//! everything wrapped to the width the caller asks for, counted in display
//! columns ([`text`]). Colour (bold, headings, citations, query terms) is
//! painted only when [`Style::color`] says so; without it the text is the
//! same minus the escape codes. A default answer is compact: each passage
//! trimmed to its best sentences ([`excerpt`]); [`Style::full`] shows them
//! whole. Note text is untrusted: control characters (including ANSI escape
//! sequences a note might carry) are replaced before anything is parsed.
//! Machine output is `--json` ([`crate::retrieval::answer`]) and `--format md`
//! ([`answer_markdown`], [`note_markdown`]), which keep the notes' TeX as written.

pub mod excerpt;
pub mod html;
pub mod markdown;
mod sheet;
mod table;
pub mod terms;
pub mod tex;
pub mod text;

use std::collections::HashSet;

use crate::index::NoteRecord;
use crate::retrieval::answer::{Answer, Passage, QuestionRef};
use markdown::{Block, Layout};
use terms::QueryTerms;
use text::{Line, Span, Sty, spaces, wrap_hanging};

pub use sheet::{answer_markdown, note_markdown};

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Use ANSI colours and bold.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
    /// Show per-passage scores (`--explain`).
    pub explain: bool,
    /// Show whole passages instead of their best sentences (`--full`).
    pub full: bool,
    /// Rendering for the interactive session (hints name `:full`, not `--full`).
    pub session: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: DEFAULT_WIDTH,
            explain: false,
            full: false,
            session: false,
        }
    }
}

/// The width when there is no terminal to ask (a pipe), and the widest a
/// terminal's width is used up to: longer lines are hard to read.
pub const DEFAULT_WIDTH: usize = 100;

/// The narrowest width accepted.
pub const MIN_WIDTH: usize = 20;

/// Lines of text a compact passage shows at most.
pub const EXCERPT_LINES: usize = 3;

/// Appends `s` with `& < > " '` escaped, safe in HTML and MathML text and in
/// quoted attributes (the page's writer and the TeX module's MathML share it).
pub fn escape_markup(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Replaces control characters (other than newline and tab) so text from a
/// note cannot move the cursor, change colours or retitle the terminal.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Searched words from which the first line no longer repeats them: a
/// long question's searched text fills two or three lines above the answer
/// and differs from what the reader typed by a few words, which the notes
/// after it name ("left out “I have an interview tomorrow and”").
pub const ECHO_WORDS: usize = 12;

/// True when the first line may repeat `searched` (at most [`ECHO_WORDS`]
/// words); every writer asks this.
pub fn repeats_searched(searched: &str) -> bool {
    searched.split_whitespace().count() <= ECHO_WORDS
}

/// "Searching for: ..." with what changed (framing dropped, typos fixed,
/// short forms expanded); for a question of more than [`ECHO_WORDS`]
/// searched words, only what changed ("Searching for the question with
/// changes: ...").
/// The hint names `--verbatim`, or `:verbatim on` in the session. A
/// follow-up's own words are shown; the earlier question it was joined
/// to is named in the note after them.
pub fn understood_line(u: &crate::retrieval::query::Understood, session: bool) -> String {
    let own = u
        .after
        .as_deref()
        .and_then(|prev| u.searched.strip_suffix(prev))
        .map_or(u.searched.as_str(), str::trim_end);
    let notes = understood_notes(u).join("; ");
    let hint = if session {
        ":verbatim on"
    } else {
        "--verbatim"
    };
    if repeats_searched(own) {
        format!(
            "Searching for: {} ({notes}; {hint} searches as typed)",
            sanitize(own)
        )
    } else {
        format!("Searching for the question with changes: {notes} ({hint} searches as typed)")
    }
}

/// What query understanding changed, one phrase per kind of change
/// (`corrected precison → precision`, `gqa = grouped-query attention`,
/// `left out the interview wording “how should I answer”`).
pub fn understood_notes(u: &crate::retrieval::query::Understood) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    if !u.corrections.is_empty() {
        let fixes: Vec<String> = u
            .corrections
            .iter()
            .map(|c| format!("{} → {}", c.from, c.to))
            .collect();
        notes.push(format!("corrected {}", fixes.join(", ")));
    }
    if !u.expansions.is_empty() {
        let ex: Vec<String> = u
            .expansions
            .iter()
            .map(|e| format!("{} = {}", e.short, e.long))
            .collect();
        notes.push(ex.join(", "));
    }
    if !u.dropped.is_empty() {
        let quoted: Vec<String> = u
            .dropped
            .iter()
            .map(|d| format!("“{}”", sanitize(d)))
            .collect();
        notes.push(format!(
            "left out the interview wording {}",
            quoted.join(", ")
        ));
    }
    if let Some(prev) = &u.after {
        notes.push(format!("read as a follow-up to “{prev}”"));
    }
    notes
}

fn bold(s: impl Into<String>) -> Span {
    Span::new(s, Sty::BOLD)
}

fn dim(s: impl Into<String>) -> Span {
    Span::new(s, Sty::DIM)
}

/// Output being built: lines, painted at the end.
struct Out {
    lines: Vec<Line>,
    style: Style,
}

impl Out {
    fn new(style: Style) -> Out {
        let style = Style {
            width: style.width.max(MIN_WIDTH),
            ..style
        };
        Out {
            lines: Vec::new(),
            style,
        }
    }

    fn layout(&self) -> Layout {
        Layout {
            color: self.style.color,
        }
    }

    fn blank(&mut self) {
        self.lines.push(Line::blank());
    }

    /// Spans wrapped at the width with a hanging indent as wide as `first`.
    fn hanging(&mut self, spans: &[Span], first: Vec<Span>) {
        let n = text::width(&text::plain(&first));
        self.indented(spans, first, spaces(n));
    }

    fn indented(&mut self, spans: &[Span], first: Vec<Span>, rest: Span) {
        let spans = self.layout().cues(spans);
        self.lines
            .extend(wrap_hanging(&spans, self.style.width, &first, &[rest]));
    }

    /// Blocks laid out under an indent of `indent` columns.
    fn blocks(&mut self, blocks: &[Block], indent: usize) {
        let width = self.style.width.saturating_sub(indent);
        let pad = spaces(indent);
        for l in self.layout().blocks(blocks, width) {
            let l = if l.spans.is_empty() {
                l
            } else {
                l.prefixed(std::slice::from_ref(&pad))
            };
            self.lines.push(l);
        }
    }

    fn finish(self) -> String {
        let mut s = String::new();
        text::paint(&self.lines, self.style.color, &mut s);
        s
    }
}

/// `q39 How do you batch ...? (Performance)`.
fn question_spans(q: &QuestionRef) -> Vec<Span> {
    let mut v = vec![bold(q.id.as_str()), Span::plain(" ")];
    v.extend(markdown::inline(&sanitize(&q.question)));
    if let Some(s) = &q.section {
        v.push(dim(format!(" ({})", sanitize(s))));
    }
    v
}

/// Marks words whose analysed form is a query term (colour only; never in
/// code or math).
pub(crate) fn mark(spans: Vec<Span>, terms: &QueryTerms) -> Vec<Span> {
    if terms.is_empty() {
        return spans;
    }
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        if s.sty.has(Sty::CODE) || s.sty.has(Sty::MATH) || s.sty.has(Sty::TEX) {
            out.push(s);
            continue;
        }
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut Vec<Span>| {
            if word.is_empty() {
                return;
            }
            let hit = terms.matches(word);
            let sty = if hit { s.sty.with(Sty::MARK) } else { s.sty };
            text::push_src(out, word, sty, s.src.as_ref());
            word.clear();
        };
        for ch in s.text.chars() {
            if ch.is_alphanumeric() {
                word.push(ch);
            } else {
                flush(&mut word, &mut out);
                text::push_src(&mut out, ch.encode_utf8(&mut [0; 4]), s.sty, s.src.as_ref());
            }
        }
        flush(&mut word, &mut out);
    }
    out
}

/// [`mark`] over every paragraph, heading, list item, quote and table cell.
pub(crate) fn mark_blocks(blocks: &mut [Block], terms: &QueryTerms) {
    for b in blocks {
        match b {
            Block::Para(s) | Block::Heading(_, s) => *s = mark(std::mem::take(s), terms),
            Block::List { items, .. } => {
                for item in items {
                    mark_blocks(item, terms);
                }
            }
            Block::Quote(inner) => mark_blocks(inner, terms),
            Block::Table { rows, .. } => {
                for cell in rows.iter_mut().flatten() {
                    *cell = mark(std::mem::take(cell), terms);
                }
            }
            _ => {}
        }
    }
}

/// Renders an answer for the terminal.
pub fn answer(a: &Answer, style: Style) -> String {
    let mut o = Out::new(style);
    if a.understood.changed() {
        o.indented(
            &[dim(understood_line(&a.understood, style.session))],
            vec![],
            Span::plain(""),
        );
    }
    if a.abstained {
        match &a.mention {
            Some(m) => {
                o.lines.push(Line::new(vec![bold(
                    "Not covered as a topic in the notes; it is mentioned here:",
                )]));
                let place = match &m.question_id {
                    Some(id) => format!("{id}, {}", m.heading.join(" › ")),
                    None => m.heading.join(" › "),
                };
                o.hanging(
                    &[
                        Span::plain(sanitize(&place)),
                        dim(format!(" ({}:{}-{})", m.path, m.lines[0], m.lines[1])),
                    ],
                    vec![spaces(2)],
                );
                if let Some(sentence) = &m.sentence {
                    let spans = markdown::inline(&format!("“{}”", sanitize(sentence)));
                    o.hanging(&spans, vec![spaces(2)]);
                }
            }
            None => o.lines.push(Line::new(vec![bold(
                "Nothing in the notes answers this question closely enough.",
            )])),
        }
        if let Some(topic) = &a.evidence.outside_topic {
            o.hanging(
                &[Span::plain(sanitize(topic))],
                vec![dim("Closest topic the notes lack: ")],
            );
        }
        if !a.questions.is_empty() {
            o.lines.push(Line::new(vec![Span::plain(
                "The nearest interview questions are:",
            )]));
            for q in &a.questions {
                let mut spans = question_spans(q);
                let lead: Vec<Span> = [spaces(2)].into_iter().chain(spans.drain(..2)).collect();
                o.hanging(&spans, lead);
            }
            o.indented(
                &[dim("Try `cram show <id>`, or rephrase with the terms you would expect in the answer.")],
                vec![],
                Span::plain(""),
            );
        }
        return o.finish();
    }
    if let Some(top) = a.questions.first() {
        o.hanging(&question_spans(top), vec![bold("Closest question: ")]);
        for q in a.questions.iter().skip(1) {
            o.hanging(&question_spans(q), vec![dim("            also: ")]);
        }
        o.blank();
    }
    let query_terms = QueryTerms::new(&a.understood.searched);
    // Highlighting is colour only.
    let none = QueryTerms::default();
    let terms = if style.color { &query_terms } else { &none };
    if !a.key_points.is_empty() {
        key_points(&mut o, a, terms);
        o.blank();
    }
    // The sentences the key points quote whole, which passage excerpts skip.
    let shown: HashSet<String> = a
        .key_points
        .iter()
        .map(|k| excerpt::sentence_key(&text::plain(&markdown::inline(&sanitize(&k.text)))))
        .collect();
    let mut trimmed = false;
    for r in &a.results {
        trimmed |= passage(&mut o, r, terms, &query_terms, &shown);
    }
    if !a.related.is_empty() {
        let mut spans = Vec::new();
        for (i, q) in a.related.iter().enumerate() {
            if i > 0 {
                spans.push(dim(" · "));
            }
            spans.push(bold(q.id.as_str()));
            spans.push(Span::plain(" "));
            spans.extend(markdown::inline(&sanitize(&q.question)));
        }
        o.hanging(&spans, vec![bold("Related: ")]);
    }
    if trimmed {
        let hint = if style.session {
            "(trimmed: :full on shows whole passages)"
        } else {
            "(trimmed: --full shows whole passages)"
        };
        o.indented(&[dim(hint)], vec![], Span::plain(""));
    }
    o.finish()
}

/// The "Key points:" block: one bullet per sentence, with its `[n]`; items
/// of one list show its lead-in once ([`keypoints::as_listed`]).
fn key_points(o: &mut Out, a: &Answer, terms: &QueryTerms) {
    o.lines.push(Line::new(vec![bold("Key points:")]));
    let listed = crate::retrieval::keypoints::as_listed(&a.key_points);
    for (k, text) in a.key_points.iter().zip(&listed) {
        let mut spans = mark(markdown::inline(&sanitize(text)), terms);
        // A no-break space keeps the marker with the last word.
        spans.push(dim(format!("\u{A0}[{}]", k.passage)));
        o.indented(&spans, vec![Span::plain("  • ")], spaces(4));
    }
}

/// One passage: its header, then its best sentences (or all of it with
/// `--full`). Returns true when text was left out.
fn passage(
    o: &mut Out,
    r: &Passage,
    terms: &QueryTerms,
    query_terms: &QueryTerms,
    shown: &HashSet<String>,
) -> bool {
    let crumb = if r.heading.is_empty() {
        "(intro)".to_string()
    } else {
        sanitize(&r.heading.join(" › "))
    };
    let cite = format!("{}:{}-{}", sanitize(&r.path), r.lines[0], r.lines[1]);
    let header = [bold(crumb), Span::plain("  "), Span::new(cite, Sty::CITE)];
    let lead = format!("[{}] ", r.rank);
    let n = text::width(&lead).max(4);
    o.indented(&header, vec![Span::plain(format!("{lead:<n$}"))], spaces(n));
    if o.style.explain {
        o.indented(&[dim(explain_line(r))], vec![spaces(4)], spaces(4));
    }
    let mut blocks = markdown::parse(&sanitize(&r.text));
    mark_blocks(&mut blocks, terms);
    let trimmed = if o.style.full {
        o.blocks(&blocks, 4);
        false
    } else {
        let width = o.style.width.saturating_sub(4);
        let (lines, trimmed) = excerpt::excerpt(
            &blocks,
            query_terms,
            shown,
            &o.layout(),
            width,
            EXCERPT_LINES,
        );
        let pad = spaces(4);
        o.lines.extend(
            lines
                .into_iter()
                .map(|l| l.prefixed(std::slice::from_ref(&pad))),
        );
        trimmed
    };
    o.blank();
    trimmed
}

fn explain_line(r: &Passage) -> String {
    use std::fmt::Write;
    let arm = |name: &str, e: &Option<crate::retrieval::fuse::ArmEvidence>, prec: usize| match e {
        Some(e) => format!("{name} #{} ({:.prec$})", e.rank, e.score),
        None => format!("{name} —"),
    };
    let mut s = format!(
        "{} · {} · fused {:.4}",
        arm("bm25", &r.bm25, 2),
        arm("dense", &r.dense, 3),
        r.score
    );
    if let Some(m) = &r.mmr {
        let _ = write!(
            s,
            " · mmr relevance {:.3}, redundancy {:.3}, score {:.3}",
            m.relevance, m.redundancy, m.score
        );
    }
    s
}

/// The header of a drill question: position, id, section, why it is asked,
/// then the question.
pub fn drill_question(
    n: usize,
    of: usize,
    card: &crate::study::drill::DeckCard,
    why: &str,
    style: Style,
) -> String {
    let mut o = Out::new(style);
    let head = format!(
        "── {n}/{of} · {} · {} · {why}",
        sanitize(&card.id),
        sanitize(&card.section)
    );
    o.indented(&[dim(head)], vec![], spaces(3));
    let q: Vec<Span> = markdown::inline(&sanitize(&card.question))
        .into_iter()
        .map(|s| Span::new(s.text, s.sty.with(Sty::BOLD)))
        .collect();
    o.indented(&q, vec![], Span::plain(""));
    o.finish()
}

/// What a drill shows after the answer: the note's short answer, key points
/// with `[n]` markers and the sources they cite, and the hint on a typed answer.
pub fn drill_card(
    card: &crate::study::drill::Card,
    hint: Option<&crate::study::drill::Hint>,
    style: Style,
) -> String {
    let mut o = Out::new(style);
    o.lines.push(Line::new(vec![bold(format!(
        "Short answer ({}):",
        sanitize(&card.id)
    ))]));
    o.blocks(&markdown::parse(&sanitize(&card.short_answer)), 2);
    let a = &card.answer;
    if !a.key_points.is_empty() {
        o.blank();
        key_points(&mut o, a, &QueryTerms::default());
        let cited: Vec<usize> = a.key_points.iter().map(|k| k.passage).collect();
        for r in a.results.iter().filter(|r| cited.contains(&r.rank)) {
            let crumb = std::iter::once(r.question_id.as_deref().unwrap_or(&r.path))
                .chain(r.heading.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" › ");
            let cite = format!("{}:{}-{}", sanitize(&r.path), r.lines[0], r.lines[1]);
            let spans = [
                dim(format!("[{}]", r.rank)),
                Span::plain(format!(" {}  ", sanitize(&crumb))),
                Span::new(cite, Sty::CITE),
            ];
            o.indented(&spans, vec![spaces(4)], spaces(8));
        }
    }
    if let Some(h) = hint {
        let total = h.covered.len() + h.missed.len();
        o.blank();
        let head = [
            bold(format!(
                "Your answer used {} of {total} key terms",
                h.covered.len()
            )),
            dim(" (a hint, not a grade)"),
        ];
        o.indented(&head, vec![], Span::plain(""));
        let list = |v: &[String]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                sanitize(&v.join(", "))
            }
        };
        o.hanging(
            &[Span::plain(list(&h.covered))],
            vec![Span::plain("  used:   ")],
        );
        o.hanging(
            &[Span::plain(list(&h.missed))],
            vec![Span::plain("  missed: ")],
        );
    }
    o.lines.push(Line::new(vec![dim(format!(
        "The whole note: cram show {}",
        sanitize(&card.id)
    ))]));
    o.finish()
}

/// `s` cut or padded to exactly `w` display columns (cut with `…`).
fn fit(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    if text::width(s) > w {
        for c in s.chars() {
            let cw = text::width(c.encode_utf8(&mut [0; 4]));
            if used + cw + 1 > w {
                break;
            }
            out.push(c);
            used += cw;
        }
        out.push('…');
        used += 1;
    } else {
        out.push_str(s);
        used = text::width(s);
    }
    out.push_str(&" ".repeat(w.saturating_sub(used)));
    out
}

/// `cram drill --stats` as a table.
pub fn drill_stats(s: &crate::study::drill::Stats, style: Style) -> String {
    use crate::study::schedule::describe_delay;
    let mut o = Out::new(style);
    // The numeric columns take 50 columns; the section name what is left (up to 38).
    let name_w = o.style.width.saturating_sub(51).clamp(12, 38);
    let header = format!(
        "{} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8} {:>9}",
        fit("section", name_w),
        "total",
        "new",
        "due",
        "due 7d",
        "reviews",
        "recalled",
        "interval"
    );
    o.lines.push(Line::new(vec![bold(header)]));
    let row = |r: &crate::study::drill::SectionStats| {
        format!(
            "{} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8} {:>9}",
            fit(&sanitize(&r.section), name_w),
            r.questions,
            r.new,
            r.due_now,
            r.due_7d,
            r.reviews,
            r.recalled
                .map_or("—".into(), |x| format!("{:.0}%", x * 100.0)),
            r.mean_interval_days
                .map_or("—".into(), |d| format!("{d:.1} d")),
        )
    };
    for r in s.sections.iter().chain(std::iter::once(&s.total)) {
        o.lines.push(Line::new(vec![Span::plain(row(r))]));
    }
    if !s.next_due.is_empty() {
        o.blank();
        o.lines.push(Line::new(vec![bold("Next due:")]));
        for u in &s.next_due {
            let lead = vec![
                Span::plain(format!("  {:<8} ", describe_delay(u.due, s.now))),
                bold(sanitize(&u.id)),
                Span::plain("  "),
            ];
            o.hanging(&markdown::inline(&sanitize(&u.question)), lead);
        }
    }
    o.blank();
    let foot = format!(
        "due: due now · recalled: reviews not graded \"again\" · interval: mean days until the next review · progress: {}",
        sanitize(&s.progress_file)
    );
    o.indented(&[dim(foot)], vec![], Span::plain(""));
    o.finish()
}

/// Renders `cram list`: questions grouped by section, then a user's notes.
pub fn list(notes: &[NoteRecord], style: Style) -> String {
    let mut o = Out::new(style);
    let mut section: Option<&str> = None;
    for n in notes.iter().filter(|n| n.question_id.is_some()) {
        let s = n.section.as_deref().unwrap_or("");
        if section != Some(s) {
            if section.is_some() {
                o.blank();
            }
            o.lines.push(Line::new(vec![bold(sanitize(s))]));
            section = Some(s);
        }
        let lead = vec![spaces(2), bold(sanitize(&n.id)), Span::plain("  ")];
        o.hanging(&markdown::inline(&sanitize(&n.title)), lead);
    }
    let mine: Vec<&NoteRecord> = notes.iter().filter(|n| n.question_id.is_none()).collect();
    if !mine.is_empty() {
        o.blank();
        o.lines.push(Line::new(vec![bold("Your notes")]));
        for n in mine {
            let lead = vec![Span::plain(format!("  {}  ", sanitize(&n.id)))];
            o.hanging(&[Span::plain(sanitize(&n.title))], lead);
        }
    }
    o.finish()
}

/// Renders `cram show`: the whole note with its metadata, as markdown laid
/// out for the terminal.
pub fn note(n: &NoteRecord, style: Style) -> String {
    let mut o = Out::new(style);
    let id = n.question_id.as_deref().unwrap_or(&n.id);
    let mut title = vec![bold(sanitize(id)), Span::plain(" ")];
    title.extend(
        markdown::inline(&sanitize(&n.title))
            .into_iter()
            .map(|s| Span::new(s.text, s.sty.with(Sty::BOLD))),
    );
    o.indented(&title, vec![], Span::plain(""));
    let mut meta = vec![Span::new(sanitize(&n.path), Sty::CITE)];
    let mut more = Vec::new();
    if let Some(s) = &n.section {
        more.push(sanitize(s));
    }
    if !n.tags.is_empty() {
        more.push(format!("tags: {}", sanitize(&n.tags.join(", "))));
    }
    if !n.related.is_empty() {
        more.push(format!("related: {}", sanitize(&n.related.join(", "))));
    }
    for m in more {
        meta.push(dim(format!(" · {m}")));
    }
    o.indented(&meta, vec![], Span::plain(""));
    o.blank();
    let mut blocks = markdown::parse(&sanitize(&n.body));
    // The `# title` line repeats the header above.
    blocks
        .retain(|b| !matches!(b, Block::Heading(1, s) if text::plain(s).trim() == n.title.trim()));
    o.blocks(&blocks, 0);
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_shows_its_own_words_and_names_the_earlier_question() {
        let u = crate::retrieval::query::Understood {
            searched: "and why not batchnorm layer norm in transformers".into(),
            after: Some("layer norm in transformers".into()),
            ..Default::default()
        };
        let line = understood_line(&u, true);
        assert!(
            line.starts_with("Searching for: and why not batchnorm (read as a follow-up to"),
            "{line}"
        );
        assert!(line.contains("“layer norm in transformers”; :verbatim on searches as typed)"));
        assert!(understood_line(&u, false).ends_with("--verbatim searches as typed)"));
    }

    #[test]
    fn the_first_line_names_what_was_left_out_and_repeats_only_a_short_question() {
        let short = crate::retrieval::query::Understood {
            searched: "data leakage".into(),
            dropped: vec![
                "if an interviewer asks about".into(),
                "how should I answer".into(),
            ],
            ..Default::default()
        };
        assert_eq!(
            understood_line(&short, false),
            "Searching for: data leakage (left out the interview wording “if an interviewer asks \
             about”, “how should I answer”; --verbatim searches as typed)"
        );
        // A long question is not repeated: only what changed is named.
        let long = crate::retrieval::query::Understood {
            searched: "My validation loss starts climbing after the second epoch while training \
                       loss keeps dropping. What do I check first?"
                .into(),
            dropped: vec!["I have an interview tomorrow and".into()],
            corrections: vec![crate::retrieval::query::Correction {
                from: "valdation".into(),
                to: "validation".into(),
            }],
            ..Default::default()
        };
        let line = understood_line(&long, true);
        assert_eq!(
            line,
            "Searching for the question with changes: corrected valdation → validation; left out \
             the interview wording “I have an interview tomorrow and” (:verbatim on searches as typed)"
        );
        assert!(!line.contains("climbing"));
    }

    #[test]
    fn control_sequences_are_neutralised() {
        let s = sanitize("ok \x1b]0;pwned\x07 \x1b[2J done\ttab\nline");
        assert!(!s.contains('\x1b') && !s.contains('\x07'));
        assert!(s.contains("\ttab\nline"));
    }

    #[test]
    fn highlights_stemmed_terms_outside_code() {
        let terms = QueryTerms::from_stems(["rank".to_string()]);
        let spans = mark(
            vec![
                Span::plain("Ranking, ranked and rank."),
                Span::new("rank", Sty::CODE),
            ],
            &terms,
        );
        let marked: Vec<&str> = spans
            .iter()
            .filter(|s| s.sty.has(Sty::MARK))
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(marked, ["Ranking", "ranked", "rank"]);
    }

    #[test]
    fn fit_cuts_and_pads_by_display_width() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdefgh", 5), "abcd…");
        assert_eq!(text::width(&fit("漢字漢字漢字", 7)), 7);
    }
}
