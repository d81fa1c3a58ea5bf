//! Turning answers and notes into terminal text.
//!
//! Terminal output is for people: citations, wrapped passages, query terms
//! highlighted when colour is on. Note text is untrusted: control characters
//! (including ANSI escape sequences a note might carry) are replaced before
//! anything reaches the terminal. Machine output is `--json`, see [`crate::answer`].

use std::collections::HashSet;
use std::fmt::Write;

use crate::answer::{Answer, Passage, QuestionRef};
use crate::chunk::Fence;
use crate::index::NoteRecord;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Use ANSI colours and bold.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
    /// Show per-passage scores (`--explain`).
    pub explain: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
            explain: false,
        }
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn cite(&self, s: &str) -> String {
        self.wrap("36", s)
    }
    fn mark(&self, s: &str) -> String {
        self.wrap("1;33", s)
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

/// "Searching for: ..." with what changed (framing dropped, typos fixed,
/// short forms expanded).
pub fn understood_line(u: &crate::query::Understood) -> String {
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
        notes.push("interview wording left out".into());
    }
    format!(
        "Searching for: {} ({}; --verbatim searches as typed)",
        sanitize(&u.searched),
        notes.join("; ")
    )
}

/// Renders an answer for the terminal.
pub fn answer(a: &Answer, style: Style) -> String {
    let p = Paint { on: style.color };
    let mut out = String::new();
    if a.understood.changed() {
        let _ = writeln!(out, "{}", p.dim(&understood_line(&a.understood)));
    }
    if a.abstained {
        match &a.mention {
            Some(m) => {
                let _ = writeln!(
                    out,
                    "{}",
                    p.bold("Not covered as a topic in the notes; it is mentioned here:")
                );
                let place = match &m.question_id {
                    Some(id) => format!("{id}, {}", m.heading.join(" › ")),
                    None => m.heading.join(" › "),
                };
                let _ = writeln!(
                    out,
                    "  {} {}",
                    sanitize(&place),
                    p.dim(&format!("({}:{}-{})", m.path, m.lines[0], m.lines[1]))
                );
                if let Some(s) = &m.sentence {
                    let _ = writeln!(out, "  “{}”", sanitize(s));
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "{}",
                    p.bold("Nothing in the notes answers this question closely enough.")
                );
            }
        }
        if !a.questions.is_empty() {
            let _ = writeln!(out, "The nearest interview questions are:");
            for q in &a.questions {
                let _ = writeln!(out, "  {}", question_line(q, &p));
            }
            let _ = writeln!(out, "{}", p.dim("Try `cram show <id>`, or rephrase with the terms you would expect in the answer."));
        }
        return out;
    }
    if let Some(top) = a.questions.first() {
        let _ = writeln!(
            out,
            "{} {}",
            p.bold("Closest question:"),
            question_line(top, &p)
        );
        for q in a.questions.iter().skip(1) {
            let _ = writeln!(
                out,
                "{} {}",
                p.dim("            also:"),
                question_line(q, &p)
            );
        }
        out.push('\n');
    }
    let terms: HashSet<String> = crate::abstain::content_terms(&a.query)
        .into_iter()
        .collect();
    if !a.key_points.is_empty() {
        key_points(&mut out, a, &terms, style, &p);
        out.push('\n');
    }
    for r in &a.results {
        passage(&mut out, r, &terms, style, &p);
    }
    if !a.related.is_empty() {
        let ids: Vec<String> = a
            .related
            .iter()
            .map(|q| format!("{} {}", q.id, sanitize(&q.question)))
            .collect();
        let _ = writeln!(out, "{} {}", p.bold("Related:"), ids.join(" · "));
    }
    out
}

/// The "Key points:" block: one bullet per sentence, with its `[n]`.
fn key_points(out: &mut String, a: &Answer, terms: &HashSet<String>, style: Style, p: &Paint) {
    let _ = writeln!(out, "{}", p.bold("Key points:"));
    let width = style.width.saturating_sub(4).max(20);
    for k in &a.key_points {
        let text = format!("{} [{}]", sanitize(&k.text), k.passage);
        for (i, line) in wrap(&text, width).into_iter().enumerate() {
            let lead = if i == 0 { "  • " } else { "    " };
            let _ = writeln!(out, "{lead}{}", highlight(&line, terms, p));
        }
    }
}

/// The header of a drill question: position, id, section, why it is asked,
/// then the question.
pub fn drill_question(
    n: usize,
    of: usize,
    card: &crate::drill::DeckCard,
    why: &str,
    style: Style,
) -> String {
    let p = Paint { on: style.color };
    format!(
        "{}\n{}\n",
        p.dim(&format!(
            "── {n}/{of} · {} · {} · {why}",
            sanitize(&card.id),
            sanitize(&card.section)
        )),
        p.bold(&sanitize(&card.question))
    )
}

/// What a drill shows after the answer: the note's short answer, key points
/// with `[n]` markers and the sources they cite, and the hint on a typed answer.
pub fn drill_card(
    card: &crate::drill::Card,
    hint: Option<&crate::drill::Hint>,
    style: Style,
) -> String {
    let p = Paint { on: style.color };
    let mut out = String::new();
    let none = HashSet::new();
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!("Short answer ({}):", sanitize(&card.id)))
    );
    block(&mut out, &card.short_answer, "  ", style.width, &none, &p);
    let a = &card.answer;
    if !a.key_points.is_empty() {
        out.push('\n');
        key_points(&mut out, a, &none, style, &p);
        let cited: Vec<usize> = a.key_points.iter().map(|k| k.passage).collect();
        for r in a.results.iter().filter(|r| cited.contains(&r.rank)) {
            let crumb = std::iter::once(r.question_id.as_deref().unwrap_or(&r.path))
                .chain(r.heading.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" › ");
            let _ = writeln!(
                out,
                "    {} {}  {}",
                p.dim(&format!("[{}]", r.rank)),
                sanitize(&crumb),
                p.cite(&format!(
                    "{}:{}-{}",
                    sanitize(&r.path),
                    r.lines[0],
                    r.lines[1]
                ))
            );
        }
    }
    if let Some(h) = hint {
        let total = h.covered.len() + h.missed.len();
        let _ = writeln!(
            out,
            "\n{} {}",
            p.bold(&format!(
                "Your answer used {} of {total} key terms",
                h.covered.len()
            )),
            p.dim("(a hint, not a grade)")
        );
        let list = |v: &[String]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                sanitize(&v.join(", "))
            }
        };
        let _ = writeln!(out, "  used:   {}", list(&h.covered));
        let _ = writeln!(out, "  missed: {}", list(&h.missed));
    }
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!("The whole note: cram show {}", sanitize(&card.id)))
    );
    out
}

/// `cram drill --stats` as a table.
pub fn drill_stats(s: &crate::drill::Stats, style: Style) -> String {
    use crate::schedule::describe_delay;
    let p = Paint { on: style.color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "{:<38} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8} {:>9}",
            "section", "total", "new", "due", "due 7d", "reviews", "recalled", "interval"
        ))
    );
    let row = |out: &mut String, r: &crate::drill::SectionStats| {
        let name: String = sanitize(&r.section).chars().take(38).collect();
        let _ = writeln!(
            out,
            "{:<38} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8} {:>9}",
            name,
            r.questions,
            r.new,
            r.due_now,
            r.due_7d,
            r.reviews,
            r.recalled
                .map_or("—".into(), |x| format!("{:.0}%", x * 100.0)),
            r.mean_interval_days
                .map_or("—".into(), |d| format!("{d:.1} d")),
        );
    };
    for r in &s.sections {
        row(&mut out, r);
    }
    row(&mut out, &s.total);
    if !s.next_due.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("Next due:"));
        for u in &s.next_due {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                describe_delay(u.due, s.now),
                p.bold(&sanitize(&u.id)),
                sanitize(&u.question)
            );
        }
    }
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!(
            "\ndue: due now · recalled: reviews not graded \"again\" · interval: mean days until the next review · progress: {}",
            sanitize(&s.progress_file)
        ))
    );
    out
}

fn question_line(q: &QuestionRef, p: &Paint) -> String {
    let section = q
        .section
        .as_deref()
        .map(|s| format!(" ({})", sanitize(s)))
        .unwrap_or_default();
    format!(
        "{} {}{}",
        p.bold(&q.id),
        sanitize(&q.question),
        p.dim(&section)
    )
}

fn passage(out: &mut String, r: &Passage, terms: &HashSet<String>, style: Style, p: &Paint) {
    let crumb = if r.heading.is_empty() {
        "(intro)".to_string()
    } else {
        sanitize(&r.heading.join(" › "))
    };
    let cite = format!("{}:{}-{}", sanitize(&r.path), r.lines[0], r.lines[1]);
    let _ = writeln!(out, "[{}] {}  {}", r.rank, p.bold(&crumb), p.cite(&cite));
    if style.explain {
        let _ = writeln!(out, "    {}", p.dim(&explain_line(r)));
    }
    block(out, &r.text, "    ", style.width, terms, p);
    out.push('\n');
}

/// Markdown text indented by `indent` and wrapped at `width`: code, tables
/// and blank lines as they are, paragraphs reflowed (notes may be
/// hard-wrapped at any width), list items with a hanging indent, words
/// matching `terms` highlighted.
fn block(
    out: &mut String,
    text: &str,
    indent: &str,
    width: usize,
    terms: &HashSet<String>,
    p: &Paint,
) {
    let width = width.saturating_sub(indent.len()).max(20);
    for (verbatim, line) in reflow(text) {
        let t = line.trim_start();
        if verbatim {
            let _ = writeln!(out, "{indent}{line}");
            continue;
        }
        // Keep list markers' hanging indent.
        let lead: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let hang = if is_list_item(t) { "  " } else { "" };
        for (i, w) in wrap(t, width.saturating_sub(lead.len()).max(20))
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { "" } else { hang };
            let _ = writeln!(out, "{indent}{lead}{pad}{}", highlight(&w, terms, p));
        }
    }
}

fn is_list_item(t: &str) -> bool {
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    t.starts_with("- ")
        || t.starts_with("* ")
        || t.starts_with("+ ")
        || (digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") ")))
}

/// Logical lines of markdown: `(true, line)` for lines shown as they are
/// (code, tables, headings, blank lines), `(false, text)` for a paragraph or
/// list item with its continuation lines joined.
fn reflow(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut open = false; // the last entry is prose that may continue
    for (fenced, line) in fenced_lines(text) {
        let hard_break = line.ends_with("  ");
        let t = line.trim_start();
        if fenced || t.is_empty() || t.starts_with('|') || t.starts_with('#') {
            out.push((true, line));
            open = false;
        } else if open && !is_list_item(t) {
            let last = &mut out.last_mut().expect("open implies an entry").1;
            last.push(' ');
            last.push_str(t.trim_end());
        } else {
            out.push((false, line.trim_end().to_string()));
            open = true;
        }
        // A markdown hard break (two trailing spaces) ends the logical line.
        if hard_break {
            open = false;
        }
    }
    out
}

fn explain_line(r: &Passage) -> String {
    let arm = |name: &str, e: &Option<crate::fuse::ArmEvidence>, prec: usize| match e {
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

/// Greedy word wrap (by characters, which is close enough for note text).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        let len = cur.chars().count();
        if len > 0 && len + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Marks words whose analysed form is a query term.
fn highlight(line: &str, terms: &HashSet<String>, p: &Paint) -> String {
    if !p.on || terms.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let hit = crate::lexical::analyze(word)
            .iter()
            .any(|t| terms.contains(t));
        if hit {
            out.push_str(&p.mark(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in line.chars() {
        if ch.is_alphanumeric() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Renders an answer as a markdown study sheet: the question, the closest
/// interview question, key points with `[n]` citations, the passages with
/// their sources, related questions. Control characters are stripped.
pub fn answer_markdown(a: &Answer) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", sanitize(&a.query));
    if a.abstained {
        let _ = writeln!(
            out,
            "Nothing in the notes answers this question closely enough. Nearest questions:\n"
        );
        for q in &a.questions {
            let _ = writeln!(
                out,
                "- **{}** {} (`{}`)",
                q.id,
                sanitize(&q.question),
                sanitize(&q.path)
            );
        }
        return out;
    }
    for (i, q) in a.questions.iter().enumerate() {
        let label = if i == 0 { "Closest question" } else { "Also" };
        let section = q
            .section
            .as_deref()
            .map(|s| format!(" ({})", sanitize(s)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{label}: **{}** {}{section}  ",
            q.id,
            sanitize(&q.question)
        );
    }
    if !a.key_points.is_empty() {
        let _ = writeln!(out, "\n## Key points\n");
        for k in &a.key_points {
            let _ = writeln!(out, "- {} [{}]", sanitize(&k.text), k.passage);
        }
    }
    let _ = writeln!(out, "\n## Passages");
    for r in &a.results {
        let crumb = if r.heading.is_empty() {
            "(intro)".to_string()
        } else {
            sanitize(&r.heading.join(" › "))
        };
        let _ = writeln!(
            out,
            "\n### [{}] {crumb}\n\nSource: `{}:{}-{}` ({})\n",
            r.rank,
            sanitize(&r.path),
            r.lines[0],
            r.lines[1],
            r.chunk_id
        );
        // Headings inside a passage would break the sheet's outline: bold them instead.
        for (fenced, line) in fenced_lines(&r.text) {
            match line
                .strip_prefix('#')
                .map(|l| l.trim_start_matches('#').trim())
            {
                Some(h) if !fenced && !h.is_empty() => {
                    let _ = writeln!(out, "**{h}**");
                }
                _ => {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
    }
    if !a.related.is_empty() {
        let _ = writeln!(out, "\n## Related questions\n");
        for q in &a.related {
            let _ = writeln!(out, "- **{}** {}", q.id, sanitize(&q.question));
        }
    }
    out
}

/// Renders `cram show --format md`: the note as a self-contained markdown sheet.
pub fn note_markdown(n: &NoteRecord) -> String {
    let mut out = String::new();
    let id = n.question_id.as_deref().unwrap_or(&n.id);
    let _ = writeln!(out, "# {}: {}\n", sanitize(id), sanitize(&n.title));
    let mut meta = vec![format!("Source: `{}`", sanitize(&n.path))];
    if let Some(s) = &n.section {
        meta.push(format!("Section: {}", sanitize(s)));
    }
    if !n.related.is_empty() {
        meta.push(format!("Related: {}", n.related.join(", ")));
    }
    let _ = writeln!(out, "{}\n", meta.join(" · "));
    for (_, line) in body_lines(n) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Sanitised lines of markdown, each flagged when it is inside (or opens or
/// closes) a code fence or display math, by the chunker's own [`Fence`].
fn fenced_lines(text: &str) -> Vec<(bool, String)> {
    let mut fence = Fence::default();
    sanitize(text)
        .lines()
        .map(|l| (fence.step(l), l.to_string()))
        .collect()
}

/// A note's body as [`fenced_lines`], without its `# title` line (callers
/// print the title themselves).
fn body_lines(n: &NoteRecord) -> Vec<(bool, String)> {
    fenced_lines(&n.body)
        .into_iter()
        .filter(|(fenced, l)| *fenced || l.strip_prefix("# ").is_none_or(|t| t.trim() != n.title))
        .collect()
}

/// Renders `cram list`: questions grouped by section, then a user's notes.
pub fn list(notes: &[NoteRecord], style: Style) -> String {
    let p = Paint { on: style.color };
    let mut out = String::new();
    let mut section: Option<&str> = None;
    for n in notes.iter().filter(|n| n.question_id.is_some()) {
        let s = n.section.as_deref().unwrap_or("");
        if section != Some(s) {
            if section.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", p.bold(&sanitize(s)));
            section = Some(s);
        }
        let _ = writeln!(out, "  {}  {}", p.bold(&n.id), sanitize(&n.title));
    }
    let mine: Vec<&NoteRecord> = notes.iter().filter(|n| n.question_id.is_none()).collect();
    if !mine.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("Your notes"));
        for n in mine {
            let _ = writeln!(out, "  {}  {}", sanitize(&n.id), sanitize(&n.title));
        }
    }
    out
}

/// Renders `cram show`: the whole note with its metadata.
pub fn note(n: &NoteRecord, style: Style) -> String {
    let p = Paint { on: style.color };
    let mut out = String::new();
    let id = n.question_id.as_deref().unwrap_or(&n.id);
    let _ = writeln!(
        out,
        "{} {}",
        p.bold(&sanitize(id)),
        p.bold(&sanitize(&n.title))
    );
    let mut meta = vec![p.cite(&sanitize(&n.path))];
    if let Some(s) = &n.section {
        meta.push(sanitize(s));
    }
    if !n.tags.is_empty() {
        meta.push(format!("tags: {}", sanitize(&n.tags.join(", "))));
    }
    if !n.related.is_empty() {
        meta.push(format!("related: {}", n.related.join(", ")));
    }
    let _ = writeln!(out, "{}\n", p.dim(&meta.join(" · ")));
    for (fenced, line) in body_lines(n) {
        if !fenced && line.starts_with('#') {
            let _ = writeln!(out, "{}", p.bold(&line));
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_neutralised() {
        let s = sanitize("ok \x1b]0;pwned\x07 \x1b[2J done\ttab\nline");
        assert!(!s.contains('\x1b') && !s.contains('\x07'));
        assert!(s.contains("\ttab\nline"));
    }

    #[test]
    fn hard_wrapped_paragraphs_reflow_but_code_and_lists_do_not() {
        let text = "A paragraph wrapped\nby hand at a narrow\nwidth.\n\n- item one\n  continues here\n- item two\n\n```\nlet a = 1;\nlet b = 2;\n```\n| a | b |\n";
        let mut out = String::new();
        block(
            &mut out,
            text,
            "",
            80,
            &HashSet::new(),
            &Paint { on: false },
        );
        assert_eq!(
            out,
            "A paragraph wrapped by hand at a narrow width.\n\n- item one continues here\n- item two\n\n```\nlet a = 1;\nlet b = 2;\n```\n| a | b |\n"
        );
    }

    #[test]
    fn wraps_at_width() {
        let w = wrap("one two three four five six", 9);
        assert_eq!(w, vec!["one two", "three", "four five", "six"]);
    }

    #[test]
    fn highlights_stemmed_terms_only_with_color() {
        let terms: HashSet<String> = ["rank".to_string()].into_iter().collect();
        let on = Paint { on: true };
        let s = highlight("Ranking, ranked and rank.", &terms, &on);
        assert_eq!(s.matches("\x1b[1;33m").count(), 3, "{s}");
        assert_eq!(
            highlight("Ranking", &terms, &Paint { on: false }),
            "Ranking"
        );
    }
}
