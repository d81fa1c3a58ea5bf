//! A note cut at its passages, so the page can give each passage an anchor
//! (its chunk id's part after `#`) and its line span in the file.
//!
//! The index keeps, per passage, its text and its first and last line in
//! the file; the note keeps its body without front matter. Each passage's
//! text is found in the body (it is a run of the body's lines), which gives
//! where it starts in the body and the offset between body and file lines.

use crate::index::NoteRecord;
use crate::index::chunk::Chunk;

/// A run of the note's body: a passage (with its anchor) or the text
/// between passages (a title, a reference list).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The passage id's anchor (`mechanism-and-math`), for a passage.
    pub anchor: Option<String>,
    /// First and last line in the file, when known.
    pub lines: Option<[usize; 2]>,
    /// The markdown of these lines.
    pub markdown: String,
}

/// Where passage `c`'s text sits in `body` (0-based index of its first
/// line), searching from line `from`.
fn find(body: &[&str], c: &Chunk, from: usize) -> Option<usize> {
    let text: Vec<&str> = c.text.lines().collect();
    if text.is_empty() || text.len() > body.len() {
        return None;
    }
    (from..=body.len() - text.len()).find(|&k| body[k..k + text.len()] == text[..])
}

/// The note's body cut at its passages (`chunks`: the note's passages, in any order).
pub fn segments(note: &NoteRecord, chunks: &[Chunk]) -> Vec<Segment> {
    let body: Vec<&str> = note.body.lines().collect();
    let mut ordered: Vec<&Chunk> = chunks.iter().filter(|c| c.note_id == note.id).collect();
    ordered.sort_by_key(|c| c.line_start);
    // (start, end) in body lines, 0-based, end exclusive; anchor; file lines.
    let mut found: Vec<(usize, usize, &Chunk)> = Vec::new();
    let mut offset: Option<isize> = None;
    let mut cursor = 0;
    for c in ordered {
        let n = c.text.lines().count();
        let Some(k) = find(&body, c, cursor) else {
            continue;
        };
        // File line of body line k (1-based file lines, 0-based body index).
        let first_text_line = c.line_end + 1 - n;
        let off = first_text_line as isize - k as isize;
        offset.get_or_insert(off);
        // The passage begins at its heading, above its text.
        let lead = first_text_line.saturating_sub(c.line_start);
        let start = k.saturating_sub(lead).max(cursor);
        found.push((start, k + n, c));
        cursor = k + n;
    }
    let file_lines = |a: usize, b: usize| -> Option<[usize; 2]> {
        let off = offset?;
        let first = usize::try_from(a as isize + off).ok()?;
        let last = usize::try_from(b as isize - 1 + off).ok()?;
        Some([first, last])
    };
    let mut out = Vec::new();
    let mut at = 0;
    let gap = |a: usize, b: usize, out: &mut Vec<Segment>| {
        let md = body[a..b].join("\n");
        if !md.trim().is_empty() {
            out.push(Segment {
                anchor: None,
                lines: file_lines(a, b),
                markdown: md,
            });
        }
    };
    for (start, end, c) in found {
        gap(at, start, &mut out);
        out.push(Segment {
            anchor: c.id.split_once('#').map(|(_, a)| a.to_string()),
            lines: Some([c.line_start, c.line_end]),
            markdown: body[start..end].join("\n"),
        });
        at = end;
    }
    gap(at, body.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::chunk::{ChunkParams, chunk_note};
    use crate::index::corpus::{SourceKind, parse_note};

    fn record(n: &crate::index::corpus::Note) -> NoteRecord {
        NoteRecord {
            id: n.id.clone(),
            question_id: Some(n.id.clone()),
            section: Some("S".into()),
            title: n.title.clone(),
            tags: vec![],
            related: vec![],
            path: n.display_path.clone(),
            body: n.body.clone(),
            title_hash: String::new(),
            format: None,
        }
    }

    #[test]
    fn passages_get_their_anchor_heading_and_file_lines() {
        let words = |w: &str, n: usize| vec![w; n].join(" ");
        let text = format!(
            "---\nid: q07\nsection: S\nquestion: \"Why?\"\ntags: [a]\nrelated: []\n---\n# Why?\n\n## Short answer\n\n{}\n\n## Mechanism\n\n{}\n\n{}\n\n## References\n\n- A paper.\n",
            words("alpha", 90),
            words("beta", 200),
            words("gamma", 200),
        );
        let note = parse_note(text.as_bytes(), "corpus/q07-why.md", SourceKind::Bundled).unwrap();
        let chunks = chunk_note(&note, ChunkParams::default());
        let ids: Vec<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["q07#short-answer", "q07#mechanism", "q07#mechanism-2"]
        );
        let segs = segments(&record(&note), &chunks);
        let anchors: Vec<Option<&str>> = segs.iter().map(|s| s.anchor.as_deref()).collect();
        assert_eq!(
            anchors,
            [
                None,
                Some("short-answer"),
                Some("mechanism"),
                Some("mechanism-2"),
                None
            ]
        );
        // Line numbers are the file's (front matter included).
        let lines = text.lines().collect::<Vec<_>>();
        assert_eq!(segs[0].lines, Some([8, 9]));
        assert_eq!(lines[7], "# Why?");
        let short = &segs[1];
        assert!(
            short.markdown.starts_with("## Short answer"),
            "{}",
            short.markdown
        );
        assert_eq!(lines[short.lines.unwrap()[0] - 1], "## Short answer");
        assert!(segs[3].markdown.starts_with("gamma"));
        assert!(segs[4].markdown.contains("## References"));
        // Nothing is lost or repeated.
        let joined: String = segs
            .iter()
            .map(|s| s.markdown.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(squeeze(&joined), squeeze(&note.body));
    }

    #[test]
    fn a_passage_not_found_in_the_body_is_left_to_the_text_around_it() {
        let note = parse_note(b"# T\n\nSome text here.\n", "mine/t.md", SourceKind::User).unwrap();
        let mut chunks = chunk_note(&note, ChunkParams::default());
        for c in &mut chunks {
            c.text = "not in the note".into();
        }
        let segs = segments(&record(&note), &chunks);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].anchor, None);
        assert!(segs[0].markdown.contains("Some text here."));
    }
}
