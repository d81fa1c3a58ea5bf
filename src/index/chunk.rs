//! Splitting notes into passages.
//!
//! A note is split at its headings into sections; each section keeps its
//! heading path as a breadcrumb. Sections shorter than
//! [`ChunkParams::min_words`] are merged into a neighbour from the same note;
//! sections longer than [`ChunkParams::max_words`] are split at paragraph
//! boundaries. Fenced code blocks (```` ``` ````, `~~~`) and display math
//! (`$$ ... $$`) are never split, and `#` lines inside them are not headings.
//!
//! Chunk ids are stable across rebuilds as long as a note's headings are:
//! `<note id>#<slug of the last heading>`, with `-2`, `-3`, ... appended when a
//! slug repeats within the note.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::index::corpus::Note;

/// Chunker parameters; they are part of the index fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkParams {
    /// Sections with fewer words are merged into a neighbour.
    pub min_words: usize,
    /// Sections with more words are split at paragraph boundaries.
    pub max_words: usize,
}

impl Default for ChunkParams {
    fn default() -> Self {
        ChunkParams {
            min_words: 80,
            max_words: 300,
        }
    }
}

/// One passage: the unit that is indexed, retrieved and cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Stable id: `q14#mechanism` or `mynotes/rag.md#fusion-2`.
    pub id: String,
    /// The note's id.
    pub note_id: String,
    /// `qNN` for bundled notes, `None` for a user's notes.
    pub question_id: Option<String>,
    /// The note's path as cited (e.g. `corpus/q14-dropout.md`).
    pub path: String,
    /// The note's title (its question for bundled notes).
    pub title: String,
    /// Heading path below the title, outermost first.
    pub heading: Vec<String>,
    /// First line of the passage in the file, 1-based.
    pub line_start: usize,
    /// Last line of the passage in the file, 1-based, inclusive.
    pub line_end: usize,
    /// The passage's markdown (headings of merged sections included).
    pub text: String,
    /// Hash of what is embedded (`context_text`); keys the embedding cache.
    pub hash: String,
}

impl Chunk {
    /// The text both arms index: title, breadcrumb and passage.
    pub fn context_text(&self) -> String {
        let mut s = String::with_capacity(self.text.len() + 128);
        s.push_str(&self.title);
        for h in &self.heading {
            s.push_str(" / ");
            s.push_str(h);
        }
        s.push('\n');
        s.push_str(&self.text);
        s
    }

    /// The text BM25 indexes: [`Chunk::context_text`] and the note's tags.
    /// The tags are the note's keywords (as in a library catalogue's subject
    /// field): a question may name a note's topic by a word only its tags
    /// hold ("hiring pitch"), and every passage of the note carries them as
    /// every passage carries the title.
    pub fn lexical_text(&self, tags: &[String]) -> String {
        let mut s = self.context_text();
        s.push('\n');
        s.push_str(&tags.join(", "));
        s
    }

    /// `Short answer › Details`, or the title when the passage is the preamble.
    pub fn breadcrumb(&self) -> String {
        if self.heading.is_empty() {
            self.title.clone()
        } else {
            self.heading.join(" › ")
        }
    }

    /// Word count of the passage.
    pub fn words(&self) -> usize {
        word_count(&self.text)
    }
}

/// Whitespace-separated word count.
pub fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// A run of lines under one heading path, before merging and splitting.
#[derive(Debug, Clone)]
struct Section {
    heading: Vec<String>,
    /// (1-based file line, text) of the body lines (the heading line excluded).
    lines: Vec<(usize, String)>,
    /// The heading line itself, kept when this section is merged into another.
    heading_line: Option<(usize, String)>,
}

impl Section {
    fn words(&self) -> usize {
        self.lines.iter().map(|(_, l)| word_count(l)).sum()
    }
}

/// Splits a note into passages.
pub fn chunk_note(note: &Note, params: ChunkParams) -> Vec<Chunk> {
    let sections = sections(note);
    let pieces = merge_and_split(sections, params);
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(pieces.len());
    for p in pieces {
        let text = trim_blank(&p.lines);
        if text.trim().is_empty() {
            continue;
        }
        let base = p
            .heading
            .last()
            .map(|h| slug(h))
            .unwrap_or_else(|| "intro".into());
        // `#example`, then `#example-2`, ... skipping any id already taken
        // (a heading may itself end in "-2").
        let mut id = format!("{}#{base}", note.id);
        let mut n = 1;
        while used.contains(&id) {
            n += 1;
            id = format!("{}#{base}-{n}", note.id);
        }
        used.insert(id.clone());
        let first = p
            .lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(n, _)| *n);
        let last = p
            .lines
            .iter()
            .rev()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(n, _)| *n);
        let line_start = p
            .heading_line
            .as_ref()
            .map(|(n, _)| *n)
            .or(first)
            .unwrap_or(1);
        let mut c = Chunk {
            id,
            note_id: note.id.clone(),
            question_id: note.question_id().map(str::to_string),
            path: note.display_path.clone(),
            title: note.title.clone(),
            heading: p.heading,
            line_start,
            line_end: last.unwrap_or(line_start),
            text,
            hash: String::new(),
        };
        c.hash = crate::index::hash::hex(c.context_text().as_bytes());
        out.push(c);
    }
    out
}

/// Fence state while scanning markdown lines: feed every line to
/// [`Fence::step`] in order. Shared by the chunker, the key-point sentence
/// splitter and the terminal renderer, so all three agree on what is code or
/// display math.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fence {
    /// Outside any fenced block.
    #[default]
    None,
    /// Inside a code fence opened with this marker (e.g. "```" or "~~~~").
    Code(String),
    /// Inside `$$ ... $$` display math.
    Math,
}

impl Fence {
    /// Updates the state for `line`; returns true when the line is inside (or
    /// opens or closes) a fenced block.
    pub fn step(&mut self, line: &str) -> bool {
        let t = line.trim_start();
        match self {
            Fence::None => {
                if let Some(marker) = fence_marker(t) {
                    *self = Fence::Code(marker);
                    true
                } else if t.starts_with("$$") {
                    // `$$ x $$` on one line opens and closes.
                    if !(t.len() > 2 && t.trim_end().ends_with("$$") && t.trim_end().len() >= 4) {
                        *self = Fence::Math;
                    }
                    true
                } else {
                    false
                }
            }
            Fence::Code(m) => {
                if t.starts_with(m.as_str()) && t[m.len()..].trim().is_empty() {
                    *self = Fence::None;
                }
                true
            }
            Fence::Math => {
                if t.trim_end().ends_with("$$") {
                    *self = Fence::None;
                }
                true
            }
        }
    }
}

fn fence_marker(t: &str) -> Option<String> {
    for ch in ['`', '~'] {
        let n = t.chars().take_while(|&c| c == ch).count();
        if n >= 3 {
            return Some(std::iter::repeat_n(ch, n).collect());
        }
    }
    None
}

/// An ATX heading outside fences: `## Title` -> (2, "Title").
fn heading(line: &str) -> Option<(usize, String)> {
    let t = line
        .strip_prefix("   ")
        .or(line.strip_prefix("  "))
        .or(line.strip_prefix(' '))
        .unwrap_or(line);
    let level = t.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim();
    Some((level, text.to_string()))
}

fn sections(note: &Note) -> Vec<Section> {
    let mut out = Vec::new();
    // (level, text) of the open headings; an H1 equal to the title is dropped
    // from breadcrumbs because the title is shown anyway.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut cur = Section {
        heading: Vec::new(),
        lines: Vec::new(),
        heading_line: None,
    };
    let mut fence = Fence::default();
    // Level of an open reference-list heading: its lines are not passages.
    let mut skipping: Option<usize> = None;
    for (i, line) in note.body.lines().enumerate() {
        let lineno = note.body_first_line + i;
        let fenced = fence.step(line);
        let head = if fenced { None } else { heading(line) };
        if let Some((level, text)) = &head {
            skipping = match skipping {
                Some(l) if *level > l => Some(l),
                _ => is_reference_heading(text).then_some(*level),
            };
        }
        if skipping.is_some() {
            continue;
        }
        if let Some((level, text)) = head {
            out.push(std::mem::replace(
                &mut cur,
                Section {
                    heading: Vec::new(),
                    lines: Vec::new(),
                    heading_line: Some((lineno, line.to_string())),
                },
            ));
            stack.retain(|(l, _)| *l < level);
            if !(level == 1 && text == note.title) {
                stack.push((level, text));
            }
            cur.heading = stack.iter().map(|(_, t)| t.clone()).collect();
            continue;
        }
        cur.lines.push((lineno, line.to_string()));
    }
    out.push(cur);
    out.retain(|s| s.words() > 0);
    out
}

/// True for the heading of a reference list ("References", "Sources",
/// "Further reading"): citations are shown by `cram show`, never retrieved
/// as passages.
pub fn is_reference_heading(h: &str) -> bool {
    let h = h.trim().to_lowercase();
    h.starts_with("references")
        || h.starts_with("sources")
        || h.starts_with("further reading")
        || h.starts_with("bibliography")
}

/// Merges short sections into a neighbour and splits long ones.
fn merge_and_split(sections: Vec<Section>, p: ChunkParams) -> Vec<Section> {
    // Merge: a short section joins the previous piece when the result stays
    // within max_words; otherwise it is carried into the next section.
    let mut merged: Vec<Section> = Vec::new();
    let mut carry: Option<Section> = None;
    for mut s in sections {
        if let Some(c) = carry.take() {
            s = join(c, s);
        }
        let w = s.words();
        if w < p.min_words {
            if let Some(prev) = merged.last_mut()
                && prev.words() + w <= p.max_words
            {
                let prev_taken = std::mem::replace(
                    prev,
                    Section {
                        heading: Vec::new(),
                        lines: Vec::new(),
                        heading_line: None,
                    },
                );
                *prev = join(prev_taken, s);
                continue;
            }
            carry = Some(s);
            continue;
        }
        merged.push(s);
    }
    if let Some(c) = carry {
        match merged.last_mut() {
            Some(prev) => {
                let prev_taken = std::mem::replace(
                    prev,
                    Section {
                        heading: Vec::new(),
                        lines: Vec::new(),
                        heading_line: None,
                    },
                );
                *prev = join(prev_taken, c);
            }
            None => merged.push(c),
        }
    }
    merged
        .into_iter()
        .flat_map(|s| split(s, p.max_words))
        .collect()
}

/// Appends `b` (with its heading line) to `a`; `a` keeps its breadcrumb.
fn join(mut a: Section, b: Section) -> Section {
    if a.lines.is_empty() && a.heading_line.is_none() {
        return b;
    }
    if let Some(h) = b.heading_line {
        a.lines.push(h);
    }
    a.lines.extend(b.lines);
    a
}

/// Splits a section longer than `max` words at blank lines outside fences.
/// A single block longer than `max` (a long code block, a long paragraph) stays whole.
fn split(s: Section, max: usize) -> Vec<Section> {
    if s.words() <= max {
        return vec![s];
    }
    // Paragraphs: runs of lines separated by blank lines outside fences.
    let mut paras: Vec<Vec<(usize, String)>> = vec![Vec::new()];
    let mut fence = Fence::default();
    for (n, l) in s.lines {
        let fenced = fence.step(&l);
        if !fenced && l.trim().is_empty() {
            if !paras.last().unwrap().is_empty() {
                paras.push(Vec::new());
            }
            continue;
        }
        paras.last_mut().unwrap().push((n, l));
    }
    let total: usize = paras
        .iter()
        .map(|p| p.iter().map(|(_, l)| word_count(l)).sum::<usize>())
        .sum();
    // Aim for equal parts no larger than max.
    let parts = total.div_ceil(max);
    let target = total.div_ceil(parts);
    let mut out: Vec<Section> = Vec::new();
    let mut cur: Vec<(usize, String)> = Vec::new();
    let mut cur_words = 0;
    let mut first = true;
    for para in paras.into_iter().filter(|p| !p.is_empty()) {
        let w: usize = para.iter().map(|(_, l)| word_count(l)).sum();
        if cur_words > 0
            && cur_words + w > target.max(1)
            && cur_words + w > max.min(target + target / 4)
        {
            out.push(Section {
                heading: s.heading.clone(),
                lines: std::mem::take(&mut cur),
                heading_line: if first { s.heading_line.clone() } else { None },
            });
            first = false;
            cur_words = 0;
        }
        if !cur.is_empty() {
            cur.push((cur.last().unwrap().0 + 1, String::new()));
        }
        cur.extend(para);
        cur_words += w;
    }
    if !cur.is_empty() {
        out.push(Section {
            heading: s.heading.clone(),
            lines: cur,
            heading_line: if first { s.heading_line } else { None },
        });
    }
    out
}

fn trim_blank(lines: &[(usize, String)]) -> String {
    let texts: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let start = texts
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(texts.len());
    let end = texts
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |e| e + 1);
    texts[start..end].join("\n")
}

/// Lowercase ASCII slug: `Mechanism / math` -> `mechanism-math`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_alphanumeric() {
            out.extend(ch.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "section".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_text_is_the_context_text_and_the_notes_tags() {
        let c = &chunk_note(&note("## Short answer\nBecause.\n"), ChunkParams::default())[0];
        let tags = ["hiring pitch".to_string(), "STAR".to_string()];
        let text = c.lexical_text(&tags);
        assert!(text.starts_with(&c.context_text()), "{text}");
        assert!(text.ends_with("\nhiring pitch, STAR"), "{text}");
    }

    fn note(body: &str) -> Note {
        Note {
            id: "q99".into(),
            meta: None,
            display_path: "corpus/q99-test.md".into(),
            title: "Test question?".into(),
            body: body.into(),
            body_first_line: 1,
            content_hash: String::new(),
        }
    }

    fn words(n: usize, w: &str) -> String {
        vec![w; n].join(" ")
    }

    #[test]
    fn splits_on_headings_with_breadcrumbs_and_lines() {
        let body = format!(
            "# Test question?\n\n## Short answer\n{}\n\n## Mechanism\n\n### Math\n{}\n",
            words(100, "a"),
            words(120, "b")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].id, "q99#short-answer");
        assert_eq!(cs[0].heading, vec!["Short answer"]);
        assert_eq!((cs[0].line_start, cs[0].line_end), (3, 4));
        assert_eq!(cs[1].id, "q99#math");
        assert_eq!(cs[1].heading, vec!["Mechanism", "Math"]);
        assert_eq!((cs[1].line_start, cs[1].line_end), (8, 9));
    }

    #[test]
    fn short_sections_merge_into_previous() {
        let body = format!("## Traps\n{}\n\n## Tiny\nshort.\n", words(100, "t"));
        let cs = chunk_note(&note(&body), ChunkParams::default());
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].heading, vec!["Traps"]);
        assert!(cs[0].text.contains("## Tiny"));
        assert_eq!(cs[0].line_end, 5);
    }

    #[test]
    fn reference_lists_are_not_passages() {
        let body = format!(
            "## Traps\n{}\n\n## References\n- A paper, 2020.\n{}\n\n### More\n{}\n\n## After\n{}\n",
            words(100, "t"),
            words(100, "r"),
            words(100, "m"),
            words(100, "a")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["q99#traps", "q99#after"]);
        assert!(
            cs.iter()
                .all(|c| !c.text.contains("References") && !c.text.contains(" r "))
        );
    }

    #[test]
    fn leading_short_section_is_carried_forward() {
        let body = format!("## Tiny\nshort.\n\n## Big\n{}\n", words(120, "b"));
        let cs = chunk_note(&note(&body), ChunkParams::default());
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].heading, vec!["Tiny"]);
        assert!(cs[0].text.contains("## Big"));
    }

    #[test]
    fn code_blocks_hide_headings_and_are_never_split() {
        let code = (0..200)
            .map(|i| format!("# comment {i} x y"))
            .collect::<Vec<_>>()
            .join("\n");
        let body = format!(
            "## Code\n{}\n\n```python\n{code}\n```\n\n{}\n",
            words(100, "a"),
            words(100, "c")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        // No chunk starts inside the fence and the fence is whole in one chunk.
        let with_fence: Vec<_> = cs.iter().filter(|c| c.text.contains("```")).collect();
        assert_eq!(with_fence.len(), 1);
        assert_eq!(with_fence[0].text.matches("```").count(), 2);
        assert!(cs.iter().all(|c| c.heading == vec!["Code"]));
    }

    #[test]
    fn math_blocks_are_never_split() {
        let math = (0..150)
            .map(|i| format!("x_{i} + y"))
            .collect::<Vec<_>>()
            .join("\n\n");
        let body = format!(
            "## M\n{}\n\n$$\n{math}\n$$\n\n{}\n",
            words(200, "a"),
            words(200, "c")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        let with = cs
            .iter()
            .filter(|c| c.text.contains("$$"))
            .collect::<Vec<_>>();
        assert_eq!(with.len(), 1);
        assert_eq!(with[0].text.matches("$$").count(), 2);
    }

    #[test]
    fn long_sections_split_at_paragraphs_with_unique_ids() {
        let paras = (0..8)
            .map(|_| words(90, "p"))
            .collect::<Vec<_>>()
            .join("\n\n");
        let body = format!("## Long\n{paras}\n");
        let cs = chunk_note(&note(&body), ChunkParams::default());
        assert!(cs.len() >= 3, "{}", cs.len());
        assert!(cs.iter().all(|c| c.words() <= 300));
        let ids: std::collections::HashSet<_> = cs.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids.len(), cs.len());
        assert_eq!(cs[1].id, "q99#long-2");
    }

    #[test]
    fn repeated_headings_get_distinct_ids_and_hashes_follow_text() {
        let body = format!(
            "## Example\n{}\n## Example\n{}\n",
            words(90, "a"),
            words(90, "b")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        assert_eq!(cs[0].id, "q99#example");
        assert_eq!(cs[1].id, "q99#example-2");
        assert_ne!(cs[0].hash, cs[1].hash);
    }

    #[test]
    fn ids_stay_unique_when_a_heading_ends_in_a_number() {
        // Found by the `notes` fuzz target: "X 2" then "X" twice gave `x-2` twice.
        let body = format!(
            "## X 2\n{}\n## X\n{}\n## X\n{}\n",
            words(90, "a"),
            words(90, "b"),
            words(90, "c")
        );
        let cs = chunk_note(&note(&body), ChunkParams::default());
        let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["q99#x-2", "q99#x", "q99#x-3"]);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Mechanism / math"), "mechanism-math");
        assert_eq!(
            slug("  Worked example: KV cache!  "),
            "worked-example-kv-cache"
        );
        assert_eq!(slug("???"), "section");
    }
}
