//! The pages, as maud templates (compiled; every interpolated string is
//! escaped by maud). Note markdown is written by [`crate::render::html`],
//! which escapes it too; `PreEscaped` only ever wraps that writer's output.

use std::collections::HashSet;

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::note::segments;
use super::{encode, note_href};
use crate::index::NoteRecord;
use crate::index::chunk::Chunk;
use crate::render::html::{self as md_html, Options as MdOptions};
use crate::render::terms::QueryTerms;
use crate::render::{markdown, sanitize};
use crate::retrieval::answer::{Answer, Passage, QuestionRef};
use crate::retrieval::engine::Earlier;
use crate::study::drill::SectionStats;

/// Which part of the site a page belongs to (its header link is marked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    /// The home page (its own big search box; none in the header).
    Home,
    Notes,
    Drill,
    None,
}

/// The frame of every page: header with the search box, the content, footer.
pub(crate) fn layout(title: &str, query: &str, tab: Tab, body: Markup) -> Markup {
    layout_in(title, query, tab, None, body)
}

/// [`layout`] whose search form carries the session's topic (`after`,
/// `after_note`), so the next question can be read as its follow-up, as in
/// `cram repl`.
pub(crate) fn layout_in(
    title: &str,
    query: &str,
    tab: Tab,
    topic: Option<&Earlier>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · cram" }
                link rel="stylesheet" href="/assets/style.css";
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                script src="/assets/cram.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "cram" }
                    @if tab != Tab::Home {
                        form.search action="/ask" method="get" role="search" {
                            input type="search" name="q" value=(query) placeholder="Ask the notes…"
                                aria-label="Question" maxlength="4096" required;
                            @if let Some(t) = topic {
                                input type="hidden" name="after" value=(t.searched);
                                input type="hidden" name="after_note" value=(t.note);
                            }
                            button type="submit" { "Ask" }
                        }
                    }
                    nav {
                        a href="/" aria-current=[matches!(tab, Tab::Home | Tab::Notes).then_some("page")] { "Questions" }
                        a href="/drill" aria-current=[(tab == Tab::Drill).then_some("page")] { "Drill" }
                    }
                }
                main { (body) }
                footer {
                    "cram serves your notes from this computer; nothing leaves it. "
                    span.keys { "Keys: / search" }
                }
            }
        }
    }
}

/// Inline markdown (a question, a key point) as HTML, query terms marked.
pub(crate) fn inline(md: &str, terms: Option<&QueryTerms>) -> Markup {
    let mut spans = markdown::inline(&sanitize(md));
    if let Some(t) = terms {
        spans = crate::render::mark(spans, t);
    }
    let mut out = String::new();
    md_html::spans(&spans, &mut out);
    PreEscaped(out)
}

/// A block of note markdown as HTML, query terms marked.
pub(crate) fn blocks(md: &str, terms: Option<&QueryTerms>, opts: &mut MdOptions) -> Markup {
    let mut b = markdown::parse(&sanitize(md));
    if let Some(t) = terms {
        crate::render::mark_blocks(&mut b, t);
    }
    let mut out = String::new();
    md_html::blocks(&b, opts, &mut out);
    PreEscaped(out)
}

fn question_link(q: &QuestionRef) -> Markup {
    html! {
        a.q href=(note_href(&q.id, None)) {
            span.qid { (q.id) } " " (inline(&q.question, None))
        }
        @if let Some(s) = &q.section { " " span.section { "(" (s) ")" } }
    }
}

/// The home page: the search box, the drill's state, the questions by section.
pub(crate) fn home(notes: &[NoteRecord], due: &Result<SectionStats, String>) -> Markup {
    let mut sections: Vec<(&str, Vec<&NoteRecord>)> = Vec::new();
    for n in notes.iter().filter(|n| n.question_id.is_some()) {
        let s = n.section.as_deref().unwrap_or("");
        match sections.iter_mut().find(|(name, _)| *name == s) {
            Some((_, v)) => v.push(n),
            None => sections.push((s, vec![n])),
        }
    }
    let mine: Vec<&NoteRecord> = notes.iter().filter(|n| n.question_id.is_none()).collect();
    let body = html! {
        section.hero {
            h1 { "What do you want to revise?" }
            form.search.big action="/ask" method="get" role="search" {
                input type="search" name="q" placeholder="e.g. why does dropout hurt transformers"
                    aria-label="Question" maxlength="4096" required autofocus;
                button type="submit" { "Ask" }
            }
            p.drillstate {
                @match due {
                    Ok(t) => {
                        @if t.due_now > 0 {
                            strong { (t.due_now) " drill question" (if t.due_now == 1 { "" } else { "s" }) " due" }
                            ", " (t.new) " new. "
                        } @else {
                            "Nothing due in the drill; " (t.new) " questions are new. "
                        }
                        a.button href="/drill" { "Start a drill" }
                    }
                    Err(e) => { span.error { (e) } }
                }
            }
        }
        @for (section, qs) in &sections {
            section.questions {
                h2 {
                    (section)
                    " " a.small href={ "/drill?new=1&section=" (encode(section, false)) } { "drill this section" }
                }
                ol {
                    @for n in qs {
                        li { a href=(note_href(&n.id, None)) { span.qid { (n.id) } " " span { (inline(&n.title, None)) } } }
                    }
                }
            }
        }
        @if !mine.is_empty() {
            section.questions {
                h2 { "Your notes" }
                ul { @for n in &mine { li { a href=(note_href(&n.id, None)) { (n.title) } " " span.section { (n.path) } } } }
            }
        }
    };
    layout("Questions", "", Tab::Home, body)
}

/// The answer page: what `cram ask` shows, each citation a link into its
/// note; its search form carries `topic` for the next question.
pub(crate) fn answer(a: &Answer, topic: Option<&Earlier>) -> Markup {
    let terms = QueryTerms::new(&a.understood.searched);
    let notes = crate::render::understood_notes(&a.understood);
    let body = html! {
        h1.query { (a.query) }
        @if a.understood.changed() {
            @if crate::render::repeats_searched(&a.understood.searched) {
                p.understood { "Searching for: " strong { (a.understood.searched) } " (" (notes.join("; ")) ")" }
            } @else {
                p.understood { "Searching for the question with changes: " (notes.join("; ")) }
            }
        }
        @if a.abstained {
            (abstained(a))
        } @else {
            @if let Some(top) = a.questions.first() {
                p.closest { span.label { "Closest question:" } " " (question_link(top)) }
                @for q in a.questions.iter().skip(1) {
                    p.closest.also { span.label { "also:" } " " (question_link(q)) }
                }
            }
            @if !a.key_points.is_empty() {
                section.keypoints {
                    h2 { "Key points" }
                    ul {
                        @for (k, text) in a.key_points.iter().zip(crate::retrieval::keypoints::as_listed(&a.key_points)) {
                            li { (inline(&text, Some(&terms))) " " a.ref href={ "#p" (k.passage) } title="the passage it comes from" { "[" (k.passage) "]" } }
                        }
                    }
                }
            }
            @for r in &a.results { (passage(r, &terms)) }
            @if !a.related.is_empty() {
                p.related {
                    span.label { "Related:" }
                    @for q in &a.related { " " a href=(note_href(&q.id, None)) { span.qid { (q.id) } " " (inline(&q.question, None)) } }
                }
            }
        }
        p.timing { "Answered in " (format!("{:.1}", a.timings_ms.total)) " ms from " (a.index.notes) " notes, " (a.index.chunks) " passages." }
    };
    layout_in(&a.query, &a.query, Tab::None, topic, body)
}

fn abstained(a: &Answer) -> Markup {
    html! {
        section.verdict {
            @if let Some(m) = &a.mention {
                p { strong { "Not covered as a topic in the notes; it is mentioned here:" } }
                p {
                    a href=(note_href(m.question_id.as_deref().unwrap_or(&m.path), Some(&m.chunk_id))) {
                        @if let Some(id) = &m.question_id { span.qid { (id) } " " }
                        (m.heading.join(" › "))
                    }
                    " " span.cite { (m.path) ":" (m.lines[0]) "–" (m.lines[1]) }
                }
                @if let Some(s) = &m.sentence { blockquote { (inline(s, None)) } }
            } @else {
                p { strong { "Nothing in the notes answers this question closely enough." } }
            }
            @if let Some(topic) = &a.evidence.outside_topic {
                p.hint { "Closest topic the notes lack: " (topic) }
            }
            @if !a.questions.is_empty() {
                p { "The nearest interview questions are:" }
                ul { @for q in &a.questions { li { (question_link(q)) } } }
                p.hint { "Open one, or rephrase with the words you would expect in the answer." }
            }
        }
    }
}

fn passage(r: &Passage, terms: &QueryTerms) -> Markup {
    let note = r.question_id.as_deref().unwrap_or(&r.path);
    let href = note_href(note, Some(&r.chunk_id));
    let crumb = if r.heading.is_empty() {
        "(intro)".to_string()
    } else {
        r.heading.join(" › ")
    };
    let mut opts = MdOptions {
        heading_shift: 2,
        ..MdOptions::default()
    };
    html! {
        article.passage id={ "p" (r.rank) } {
            header {
                span.rank { "[" (r.rank) "]" }
                " " a.crumb href=(href) { @if let Some(q) = &r.question_id { span.qid { (q) } " " } (crumb) }
                " " a.cite href=(href) { (r.path) ":" (r.lines[0]) "–" (r.lines[1]) }
            }
            div.body { (blocks(&r.text, Some(terms), &mut opts)) }
        }
    }
}

/// The note page: the whole note, an anchor and a line span per passage.
pub(crate) fn note(
    n: &NoteRecord,
    chunks: &[Chunk],
    related: &[(String, Option<String>)],
) -> Markup {
    let segs = segments(n, chunks);
    let anchors: HashSet<String> = segs.iter().filter_map(|s| s.anchor.clone()).collect();
    let mut opts = MdOptions {
        heading_shift: 0,
        ids: Some(anchors),
        first_heading_id: None,
    };
    let mut toc: Vec<(&str, String, [usize; 2])> = Vec::new();
    for s in &segs {
        let Some(a) = s.anchor.as_deref() else {
            continue;
        };
        let Some(c) = chunks
            .iter()
            .find(|c| c.id.split_once('#').map(|x| x.1) == Some(a))
        else {
            continue;
        };
        let mut h = c
            .heading
            .last()
            .cloned()
            .unwrap_or_else(|| "(intro)".into());
        // A long section split in two: the second part says so.
        if toc
            .last()
            .is_some_and(|(_, prev, _)| prev.trim_end_matches(" (continued)") == h)
        {
            h.push_str(" (continued)");
        }
        if let Some(l) = s.lines {
            toc.push((a, h, l));
        }
    }
    // A passage's anchor goes on the heading that starts it, else on the passage.
    let rendered: Vec<(&super::note::Segment, Option<String>, Markup)> = segs
        .iter()
        .map(|s| {
            let (html, on_heading) =
                note_blocks(&s.markdown, &n.title, &mut opts, s.anchor.as_deref());
            (s, s.anchor.clone().filter(|_| !on_heading), html)
        })
        .collect();
    let id = n.question_id.as_deref().unwrap_or(&n.id);
    let body = html! {
        article.note {
            header.notehead {
                @if let Some(s) = &n.section { p.section { (s) } }
                h1 { span.qid { (id) } " " (inline(&n.title, None)) }
                p.meta {
                    code { (n.path) }
                    @if !n.tags.is_empty() { " · " span.tags { (n.tags.join(", ")) } }
                }
                @if !toc.is_empty() {
                    nav.toc aria-label="Passages" {
                        ol {
                            @for (a, h, l) in &toc {
                                li { a href={ "#" (a) } { (h) } " " span.lines { (l[0]) "–" (l[1]) } }
                            }
                        }
                    }
                }
            }
            @for (s, section_id, html) in &rendered {
                @if let Some(anchor) = &s.anchor {
                    section.passage id=[section_id.as_deref()] {
                        @if let Some(l) = s.lines {
                            a.lines href={ "#" (anchor) } title="this passage's lines in the file" { (n.path) ":" (l[0]) "–" (l[1]) }
                        }
                        (html)
                    }
                } @else {
                    div.between { (html) }
                }
            }
            @if !related.is_empty() {
                aside.related {
                    h2 { "Related questions" }
                    ul {
                        @for (rid, title) in related {
                            li { a href=(note_href(rid, None)) { span.qid { (rid) } " " @if let Some(t) = title { (inline(t, None)) } } }
                        }
                    }
                }
            }
        }
    };
    layout(&n.title, "", Tab::Notes, body)
}

/// A note's markdown without the `# title` line the page shows above it,
/// and whether the passage's `anchor` went on its first heading (when it
/// does not start with one, the caller puts it on the passage).
fn note_blocks(
    md: &str,
    title: &str,
    opts: &mut MdOptions,
    anchor: Option<&str>,
) -> (Markup, bool) {
    let mut b = markdown::parse(&sanitize(md));
    b.retain(|x| {
        !matches!(x, markdown::Block::Heading(1, s) if crate::render::text::plain(s).trim() == title.trim())
    });
    let on_heading = anchor.is_some() && matches!(b.first(), Some(markdown::Block::Heading(..)));
    opts.first_heading_id = anchor.filter(|_| on_heading).map(str::to_string);
    let mut out = String::new();
    md_html::blocks(&b, opts, &mut out);
    (PreEscaped(out), on_heading)
}

/// An error page: the status and one line saying what to do.
pub(crate) fn error(status: StatusCode, message: &str) -> Markup {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    layout(
        &title,
        "",
        Tab::None,
        html! {
            section.error {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Back to the questions" } }
            }
        },
    )
}
