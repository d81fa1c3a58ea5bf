//! A question's content terms, matched against the words of a passage the
//! way BM25 sees them (analysed: lower-cased, stemmed), for highlighting and
//! for choosing a passage's best sentences.
//!
//! Analysing every word of five passages costs about a millisecond, so words
//! are first checked against the terms' leading letters: a stem keeps all but
//! the last letter of the word it comes from (the stemmer only rewrites the
//! end), so a word that does not start with one of those prefixes cannot
//! match. Words with non-ASCII letters (which the analyzer may fold) are
//! always analysed.

use std::collections::HashSet;

/// The content terms of a question.
#[derive(Debug, Clone, Default)]
pub struct QueryTerms {
    stems: HashSet<String>,
    /// For each stem: its first letters (all but the last, at most four).
    prefixes: Vec<String>,
}

impl QueryTerms {
    /// The question's content terms (stopwords dropped, stemmed).
    pub fn new(question: &str) -> QueryTerms {
        QueryTerms::from_stems(crate::retrieval::abstain::content_terms(question))
    }

    /// Terms that are already analysed.
    pub fn from_stems(stems: impl IntoIterator<Item = String>) -> QueryTerms {
        let stems: HashSet<String> = stems.into_iter().collect();
        let prefixes = stems
            .iter()
            .map(|s| {
                let n = s.chars().count().saturating_sub(1).clamp(1, 4);
                s.chars().take(n).collect()
            })
            .collect();
        QueryTerms { stems, prefixes }
    }

    pub fn is_empty(&self) -> bool {
        self.stems.is_empty()
    }

    /// The stems of `word` that are query terms.
    fn hits(&self, word: &str) -> Vec<String> {
        if self.stems.is_empty() || word.is_empty() {
            return Vec::new();
        }
        if word.is_ascii() {
            let w = word.as_bytes();
            let starts =
                |p: &String| w.len() >= p.len() && w[..p.len()].eq_ignore_ascii_case(p.as_bytes());
            if !self.prefixes.iter().any(starts) {
                return Vec::new();
            }
        }
        crate::index::lexical::analyze(word)
            .into_iter()
            .filter(|t| self.stems.contains(t))
            .collect()
    }

    /// True when `word` (letters and digits only) is a query term.
    pub fn matches(&self, word: &str) -> bool {
        !self.hits(word).is_empty()
    }

    /// How many distinct query terms `text` uses.
    pub fn count_in(&self, text: &str) -> usize {
        let mut found: HashSet<String> = HashSet::new();
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            found.extend(self.hits(w));
        }
        found.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_word_forms_as_the_analyzer_does() {
        let t = QueryTerms::new("ranking queries with normalization");
        for w in [
            "rank",
            "Ranked",
            "ranking",
            "query",
            "queries",
            "normalization",
        ] {
            assert!(t.matches(w), "{w}");
        }
        for w in ["with", "bank", "quest", ""] {
            assert!(!t.matches(w), "{w}");
        }
        assert_eq!(t.count_in("Queries rank; a query ranks again."), 2);
    }

    #[test]
    fn the_prefix_filter_never_drops_a_match() {
        // Every word of a note that the analyzer maps to a term must pass the
        // filter: compare with analysing every word.
        let text = "Regularization regularizes; studies study studying; happy happiness; \
                    agreed agreement; generalisation generalises general; batching batches batch";
        let stems: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .flat_map(crate::index::lexical::analyze)
            .collect();
        let t = QueryTerms::from_stems(stems.clone());
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            assert!(t.matches(w), "{w}");
        }
    }
}
