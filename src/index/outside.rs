//! Outside topics: machine-learning topics the notes do not cover.
//!
//! Abstention has to tell a covered question from a neighbouring one the
//! notes only brush against ("how does k-means pick k" lands on a note that
//! says "pick k" about retrieval). Evidence about the best note says how well
//! it matches; it cannot say whether something *else* would match better.
//! This list is that something else: short section-title phrases for topics
//! of the field that no note is about, written from the tables of contents
//! of standard textbooks and ML-systems courses (`outside_topics.txt`, one
//! per line, `#` comments). A question much closer to one of them than to
//! any note is probably about it (open-set recognition with known unknowns;
//! Scheirer et al., "Toward Open Set Recognition", TPAMI 2013).
//!
//! The index embeds the list beside the notes (`outside.json`,
//! `outside.f32`), and its hash is part of the index fingerprint, so editing
//! the list rebuilds the index. A topic one of the notes is about must not
//! be on the list; `cram eval --fit-abstention` prints the topics nearest to
//! a note's question to check that.

use super::hash;

/// The list, as shipped.
const LIST: &str = include_str!("outside_topics.txt");

/// The topics, in file order (comments and blank lines dropped).
pub fn topics() -> Vec<&'static str> {
    LIST.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Hash of the topics (part of the index fingerprint).
pub fn list_hash() -> String {
    hash::hex_parts(topics().iter().map(|t| t.as_bytes()))
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
