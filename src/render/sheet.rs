//! Markdown study sheets (`--format md`): the notes' markdown passed through
//! as written (TeX included), with citations. Control characters are
//! stripped; nothing else is changed.

use std::fmt::Write;

use super::sanitize;
use crate::index::NoteRecord;
use crate::index::chunk::Fence;
use crate::retrieval::answer::Answer;

/// Renders an answer as a markdown study sheet: the question, the closest
/// interview question, key points with `[n]` citations, the passages with
/// their sources, related questions. Control characters are stripped.
pub fn answer_markdown(a: &Answer) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", sanitize(&a.query));
    if a.abstained {
        match &a.mention {
            Some(m) => {
                let place = match &m.question_id {
                    Some(id) => format!("**{id}**, {}", m.heading.join(" › ")),
                    None => m.heading.join(" › "),
                };
                let _ = writeln!(
                    out,
                    "Not covered as a topic in the notes; it is mentioned in {} (`{}:{}-{}`).\n",
                    sanitize(&place),
                    sanitize(&m.path),
                    m.lines[0],
                    m.lines[1]
                );
                if let Some(sentence) = &m.sentence {
                    let _ = writeln!(out, "> {}\n", sanitize(sentence));
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "Nothing in the notes answers this question closely enough.\n"
                );
            }
        }
        if let Some(topic) = &a.evidence.outside_topic {
            let _ = writeln!(out, "Closest topic the notes lack: {}.\n", sanitize(topic));
        }
        let _ = writeln!(out, "Nearest questions:\n");
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
        let listed = crate::retrieval::keypoints::as_listed(&a.key_points);
        for (k, text) in a.key_points.iter().zip(&listed) {
            let _ = writeln!(out, "- {} [{}]", sanitize(text), k.passage);
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
pub(super) fn body_lines(n: &NoteRecord) -> Vec<(bool, String)> {
    fenced_lines(&n.body)
        .into_iter()
        .filter(|(fenced, l)| *fenced || l.strip_prefix("# ").is_none_or(|t| t.trim() != n.title))
        .collect()
}
