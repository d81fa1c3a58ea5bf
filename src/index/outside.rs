//! Outside topics: machine-learning topics the notes do not cover.
//!
//! Abstention has to tell a covered question from a neighbouring one the
//! notes only brush against ("how does k-means pick k" lands on a note that
//! says "pick k" about retrieval). Evidence about the best note says how well
//! it matches; it cannot say whether something *else* would match better.
//! This list is that something else: short section-title phrases for topics
//! of the field that no note is about, written from the tables of contents
//! of standard textbooks, ML-systems courses and course syllabi
//! (`outside_topics.txt`, one per line, `#` comments). A question much closer to one of them than to
//! any note is probably about it (open-set recognition with known unknowns;
//! Scheirer et al., "Toward Open Set Recognition", TPAMI 2013).
//!
//! The index embeds the list beside the notes (`outside.json`,
//! `outside.f32`), and its hash is part of the index fingerprint, so editing
//! the list rebuilds the index. A topic one of the notes is about must not
//! be on the list; `cram eval --fit-abstention` prints the topics nearest to
//! a note's question to check that. The list is written for the bundled
//! notes, so the index keeps only the topics the notes it indexes do not
//! cover ([`uncovered`]): with a user's own note on k-means, k-means is no
//! longer outside.

use super::dense::{Vectors, dot};
use super::hash;

/// A topic is covered, and left out of the index, when a note's question
/// and tags ...
pub const TITLE_COVERS: f32 = 0.6;
/// ... or one passage is at least this close to it. The bundled notes come
/// nearest at 0.50 (a title) and 0.62 (a passage), so they keep every topic.
pub const PASSAGE_COVERS: f32 = 0.65;

/// Indexes of the topics (rows of `topics`) that no title of `titles` and no
/// passage of `passages` covers (see [`TITLE_COVERS`], [`PASSAGE_COVERS`]).
pub fn uncovered(topics: &Vectors, titles: &Vectors, passages: &Vectors) -> Vec<usize> {
    let near =
        |v: &[f32], rows: &Vectors, at: f32| (0..rows.len()).any(|j| dot(v, rows.row(j)) >= at);
    (0..topics.len())
        .filter(|&i| {
            let v = topics.row(i);
            !near(v, titles, TITLE_COVERS) && !near(v, passages, PASSAGE_COVERS)
        })
        .collect()
}

/// The list, as shipped.
const LIST: &str = include_str!("outside_topics.txt");

/// The topics, in file order (comments and blank lines dropped).
pub fn topics() -> Vec<&'static str> {
    LIST.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Hash of the topics and of the bars that decide which the notes cover
/// (part of the index fingerprint).
pub fn fingerprint() -> String {
    let bars = format!("{TITLE_COVERS} {PASSAGE_COVERS}");
    hash::hex_parts(
        topics()
            .iter()
            .map(|t| t.as_bytes())
            .chain([bars.as_bytes()]),
    )
}

/// The cache key of a topic's vector (the same text always has the same
/// vector, so the key is the text's hash, as for note titles).
pub fn key(topic: &str) -> String {
    hash::hex(topic.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_a_note_covers_are_left_out() {
        let unit = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            vec![x / n, y / n]
        };
        let topics = Vectors::from_rows(2, &[unit(1.0, 0.0), unit(0.0, 1.0), unit(1.0, 1.0)]);
        // A title right on the first topic, a passage right on the second;
        // the third sits at cosine 0.71 from both, above both bars.
        let titles = Vectors::from_rows(2, &[unit(1.0, 0.0)]);
        let passages = Vectors::from_rows(2, &[unit(0.0, 1.0)]);
        assert_eq!(uncovered(&topics, &titles, &passages), Vec::<usize>::new());
        let far = Vectors::from_rows(2, &[unit(-1.0, 0.2)]);
        assert_eq!(uncovered(&topics, &far, &far), vec![0, 1, 2]);
    }

    #[test]
    fn the_list_is_clean() {
        let t = topics();
        assert!(t.len() >= 100, "{} topics", t.len());
        let mut seen = std::collections::HashSet::new();
        for topic in &t {
            assert!(seen.insert(topic.to_lowercase()), "listed twice: {topic}");
            assert!(topic.split_whitespace().count() <= 16, "too long: {topic}");
        }
    }
}
