//! Deciding that the notes do not cover a question.
//!
//! A retriever always returns *something*; `cram` should instead say plainly
//! when a question is off-topic ("how long do I boil an egg?") and, harder,
//! when it is a neighbouring ML topic the notes only brush against ("how does
//! beam search work" matches "searched greedily ... with a beam of width ef"
//! in the HNSW passage). Corpus-level similarity cannot tell those apart, so
//! the decision looks at the evidence about the *best note*:
//!
//! * `top_cosine`: the best question-passage cosine (dense);
//! * `title_cosine`: the best cosine to a note's question and tags;
//! * `term_coverage`: the IDF-weighted share of the question's content words
//!   in the best BM25 passage;
//! * `note_coverage`: the same share over the whole note of the first passage;
//! * `phrase_coverage`: the share of neighbouring content-word pairs of the
//!   question that occur close together in that note (a phrase such as
//!   "beam search" or "mixture of experts" is a concept; its words alone are
//!   not);
//! * `concept_coverage`: the same share over the note's concept vocabulary:
//!   its question, tags, headings, bold terms and defined acronyms;
//! * `term_spread`: how many of the note's passages use the question's
//!   words (IDF-weighted mean share): a topic runs through its note, a
//!   passing mention sits in one passage;
//! * `sentence_cosine`: the best cosine between the question and one sentence
//!   of the first passages (a passage's vector dilutes a one-line mention
//!   and a one-line answer alike; a sentence does not);
//! * `arms_agree`: 1 when the best BM25 and the best dense passage come from
//!   the same note;
//! * `concentration`: the share of the first ten fused passages from their
//!   most common note (a topic fills the list from its note; a mention
//!   scatters it);
//! * `unknown_share`: the IDF-weighted share of content words no passage has;
//! * `log_terms`: the log of the number of the question's content words;
//! * `outside_margin`: how much closer the question is to a topic of the
//!   field that no note is about ([`crate::index::outside`]) than to the
//!   nearest note's question and tags (`outside_cosine - title_cosine`): the
//!   other features say how well the best note matches, this says whether
//!   something the notes lack matches better. A margin, not the raw cosine:
//!   an off-topic question ("how do tides work") is far from both, and a raw
//!   cosine would count that distance as evidence of coverage.
//!
//! The note features take their best value over the notes of the first
//! shown passage, the best BM25 passage, the best dense passage and the
//! closest question (the note the answer would name).
//!
//! A logistic regression over these thirteen features gives the probability that
//! the notes cover the question; below [`THRESHOLD`] `cram` abstains. The
//! weights are fitted by `cram eval --fit-abstention` on the labelled query
//! sets in `tests/data/` (dev and realistic in-scope queries: covered;
//! adjacent ML topics and off-topic questions: not covered), which also
//! prints held-out numbers from five-fold cross-validation grouped by note.
//! BM25-only mode has no cosine and keeps a term rule ([`MIN_COVERAGE`]).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// Number of features.
pub const N_FEATURES: usize = 13;

/// Names of the model's features, in [`features`] order.
pub const FEATURES: [&str; N_FEATURES] = [
    "top_cosine",
    "title_cosine",
    "term_coverage",
    "note_coverage",
    "phrase_coverage",
    "concept_coverage",
    "term_spread",
    "sentence_cosine",
    "arms_agree",
    "concentration",
    "unknown_share",
    "log_terms",
    "outside_margin",
];

/// The sign each weight is held to in the fit: `1` never negative (more
/// evidence never lowers the probability), `-1` never positive
/// (`unknown_share`, `outside_margin`), `0` free (`log_terms`, which only lets the other
/// features mean something different for a three-word query and a
/// forty-word one: a long question leaves more of its words outside any
/// note whether or not the note covers it).
pub const SIGNS: [i8; N_FEATURES] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 0, -1];

/// Intercept and one weight per feature, fitted by `cram eval
/// --fit-abstention` (see the module doc); refit after changing the notes,
/// the model or the features.
pub const WEIGHTS: [f32; N_FEATURES + 1] = [
    -6.319131, 0.0, 0.0, 0.0, 0.0, 0.44580877, 4.8582296, 3.083803, 4.735188, 0.84237164,
    0.25140223, -2.9000783, 1.6807534, -9.752575,
];

/// Probability below which `cram` abstains. The fit balances the two
/// classes, so 0.5 would weigh a wrongly hidden answer and a wrongly given
/// one alike; a candidate loses more from the first, so the cut sits lower,
/// where the dev set's on-topic queries are abstained on at most 2% of the
/// time (5 of 251). Every cut from 0.31 to 0.39 holds that; 0.35 sits in the
/// middle, 0.04 or more in probability from the nearest dev query on either
/// side, since the int8 model's vectors move a little from one CPU to
/// another. Five-fold held-out rates (`cram eval --fit-abstention`): 4.8% of
/// covered queries abstained on and 87.4% of uncovered ones (before
/// `outside_margin`, at 0.25: 6.3% and 75.8%).
pub const THRESHOLD: f32 = 0.35;

/// The first fused passages whose sentences `sentence_cosine` reads: the
/// passages an answer shows by default, where the model was fitted. Fixed,
/// not the `k` asked for, so how many passages a reader wants shown never
/// changes whether the notes cover the question (it did: "what is weight
/// tying in transformers" was answered with `-k 3` and more, not covered
/// with `-k 1` or `-k 2`).
pub const SENTENCE_PASSAGES: usize = 5;

/// In BM25-only mode, answer only when the best BM25 passage contains at
/// least this share of the question's content words.
pub const MIN_COVERAGE: f32 = 0.5;

/// When abstaining, a passage holding at least this share of the weight of
/// the question's topic words ([`mention_weight`]) is shown as where the
/// topic is mentioned (`coverage: mentioned`).
pub const MENTION_SHARE: f32 = 0.5;

/// The BM25 passages searched for a mention.
pub const MENTION_DEPTH: usize = 10;

/// A word that more notes than this use names no topic (of the 55 bundled
/// notes: "model", "cost", "keep", "components").
pub const MENTION_NOTES: usize = 4;

/// What an apostrophe leaves of a contraction ("doesn't", "what's"):
/// rare in the notes, and never a topic.
pub(crate) const CONTRACTION_PARTS: [&str; 20] = [
    "s", "t", "d", "ll", "m", "re", "ve", "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn",
    "haven", "isn", "shouldn", "wasn", "weren", "wouldn",
];

/// How much an analysed question word `term` says about where the notes
/// mention the question's topic, given the number of the `of` notes that
/// use it: the note-level IDF ln((of + 1) / (notes + 0.5)) of a topic word,
/// and 0 for a word more than [`MENTION_NOTES`] notes use, a number (a
/// year, a count) or a piece of a contraction. A word no note uses weighs
/// most, so a question whose topic the notes never name ("rules of cricket
/// for beginners") finds no mention in a passage that holds only its
/// incidental word ("beginner's mistake").
pub fn mention_weight(term: &str, notes: usize, of: usize) -> f32 {
    if notes > MENTION_NOTES
        || term.chars().all(|c| c.is_ascii_digit())
        || CONTRACTION_PARTS.contains(&term)
    {
        return 0.0;
    }
    ((of as f32 + 1.0) / (notes as f32 + 0.5)).ln()
}

/// Neighbouring content terms within this many analysed terms of each other
/// in a note count as the question's phrase.
pub const PHRASE_WINDOW: usize = 3;

/// The terms of `seq` within [`PHRASE_WINDOW`] of position `i` (itself
/// included).
fn near(seq: &[String], i: usize) -> &[String] {
    &seq[i.saturating_sub(PHRASE_WINDOW)..(i + PHRASE_WINDOW + 1).min(seq.len())]
}

/// Share of neighbouring pairs of `terms` (analysed content terms of the
/// question, in order) that occur within [`PHRASE_WINDOW`] terms of each
/// other in `seq` (a note's analysed terms, in order; `set` the same as a
/// set). A one-term question scores 1 when the note has the term.
pub fn phrase_coverage(terms: &[String], seq: &[String], set: &HashSet<String>) -> f32 {
    if terms.len() < 2 {
        return terms
            .first()
            .map_or(0.0, |t| f32::from(u8::from(set.contains(t))));
    }
    let pairs: Vec<(&str, &str)> = terms
        .windows(2)
        .map(|w| (w[0].as_str(), w[1].as_str()))
        .filter(|(a, b)| a != b)
        .collect();
    if pairs.is_empty() {
        return f32::from(u8::from(set.contains(&terms[0])));
    }
    let found = pairs
        .iter()
        .filter(|(a, b)| {
            set.contains(*a)
                && set.contains(*b)
                && seq
                    .iter()
                    .enumerate()
                    .any(|(i, t)| t == a && near(seq, i).iter().any(|u| u == b))
        })
        .count();
    found as f32 / pairs.len() as f32
}

/// The question's content `terms` that a passage (its analysed terms `seq`,
/// in order) holds *in context*: next to another of the question's terms,
/// within [`PHRASE_WINDOW`] terms. A topic is named by its words together:
/// a passage with "theorem" alone does not mention "cap theorem", nor one
/// with "card index" "model cards". A term in `standalone` (a word outside
/// everyday vocabulary: "pca", "grpc", "infonce") names a topic on its own,
/// and so does the only term of a one-term question.
pub fn terms_in_context<'a>(
    terms: &'a [String],
    seq: &[String],
    standalone: &HashSet<String>,
) -> HashSet<&'a str> {
    let distinct: HashSet<&str> = terms.iter().map(String::as_str).collect();
    if distinct.len() < 2 {
        return distinct
            .into_iter()
            .filter(|t| seq.iter().any(|u| u == t))
            .collect();
    }
    let mut held = HashSet::new();
    for (i, t) in seq.iter().enumerate() {
        let Some(&t) = distinct.get(t.as_str()) else {
            continue;
        };
        if standalone.contains(t)
            || near(seq, i)
                .iter()
                .any(|u| u != t && distinct.contains(u.as_str()))
        {
            held.insert(t);
        }
    }
    held
}

/// IDF-weighted mean over `terms` of the share of `passages` containing the
/// term (0 when there are no passages or terms).
pub fn spread(terms: &[String], passages: &[HashSet<String>], idf: impl Fn(&str) -> f32) -> f32 {
    if passages.is_empty() {
        return 0.0;
    }
    let (mut sum, mut all) = (0.0f32, 0.0f32);
    for t in terms {
        let w = idf(t);
        let share =
            passages.iter().filter(|p| p.contains(t)).count() as f32 / passages.len() as f32;
        sum += w * share;
        all += w;
    }
    if all > 0.0 { sum / all } else { 0.0 }
}

/// The model's inputs, in [`FEATURES`] order.
pub fn features(e: &Evidence) -> [f32; N_FEATURES] {
    [
        e.top_cosine.unwrap_or(0.0),
        e.title_cosine.unwrap_or(0.0),
        e.term_coverage,
        e.note_coverage,
        e.phrase_coverage,
        e.concept_coverage,
        e.term_spread,
        e.sentence_cosine,
        e.arms_agree,
        e.concentration,
        e.unknown_share,
        (e.content_terms.max(1) as f32).ln(),
        outside_margin(e),
    ]
}

/// How much nearer the question is to a topic the notes lack than to the
/// nearest note's question (the `outside_margin` feature).
pub fn outside_margin(e: &Evidence) -> f32 {
    e.outside_cosine - e.title_cosine.unwrap_or(0.0)
}

/// The evidence names the nearest outside topic (`outside_topic`, shown by
/// an abstaining answer) only from this cosine on, and only when it is nearer
/// than every note's question: below it the nearest topic is noise (an
/// off-topic question's nearest outside topic sits at 0.14-0.29, an adjacent
/// one's usually above 0.5).
pub const NAME_OUTSIDE_TOPIC: f32 = 0.5;

/// True when the evidence's nearest outside topic is worth naming (see
/// [`NAME_OUTSIDE_TOPIC`]).
pub fn names_outside_topic(e: &Evidence) -> bool {
    e.outside_cosine >= NAME_OUTSIDE_TOPIC && outside_margin(e) > 0.0
}

/// A question the notes do not cover alone is read as a follow-up of the
/// session's topic only when its [`outside_margin`] is below this: a
/// question clearly nearer a topic the notes lack is a new topic. On the
/// realistic set, abstained follow-ups have margins up to 0.13 (90th
/// percentile), abstained adjacent topics a median of 0.29.
pub const FOLLOW_UP_MAX_MARGIN: f32 = 0.15;

/// The probability that the notes cover the question, under `weights`
/// (intercept first).
pub fn probability_with(weights: &[f32; N_FEATURES + 1], x: &[f32; N_FEATURES]) -> f32 {
    let z = weights[0] + weights[1..].iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// The probability that the notes cover the question (null in BM25 mode).
pub fn probability(e: &Evidence) -> Option<f32> {
    e.top_cosine
        .map(|_| probability_with(&WEIGHTS, &features(e)))
}

/// True when the evidence says the notes do not cover the question.
pub fn decide(e: &Evidence) -> bool {
    if e.content_terms == 0 && e.top_cosine.is_none() {
        return true;
    }
    match probability(e) {
        Some(p) => p < THRESHOLD,
        None => e.term_coverage < MIN_COVERAGE,
    }
}

/// Common English function words, left out of `term_coverage` so that "what
/// is the" does not count as evidence, and words that say what kind of
/// answer is wanted ("example", "pitfalls", "checklist"). Matched after
/// lowercasing, before stemming.
pub const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "get",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "like",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "use",
    "very",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "best",
    "good",
    "make",
    "really",
    "vs",
    "versus",
    "explain",
    "difference",
    "tell",
    "give",
    "example",
    "work",
    "works",
    "thing",
    "things",
    // What kind of answer is wanted, not what it is about: "gotchas with
    // batch norm at inference" asks about batch norm, and a word no note
    // uses weighs most in the coverage features.
    "basics",
    "caveats",
    "cheatsheet",
    "checklist",
    "gotcha",
    "gotchas",
    "nutshell",
    "overview",
    "pitfall",
    "pitfalls",
    "practices",
    "takeaways",
    "tips",
    "tricks",
];

/// True for a word of [`STOPWORDS`] (lowercased).
pub fn is_stopword(w: &str) -> bool {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect())
        .contains(w)
}

/// Content terms of a question: analysed terms of the words that are not stopwords.
pub fn content_terms(question: &str) -> Vec<String> {
    let stop: HashSet<&str> = STOPWORDS.iter().copied().collect();
    let mut out: Vec<String> = Vec::new();
    for w in question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if stop.contains(w.to_lowercase().as_str()) {
            continue;
        }
        for t in crate::index::lexical::analyze(w) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// IDF-weighted share of `terms` present in `passage_terms`: a rare word
/// the notes never use ("marathon") weighs more than a common one they use
/// everywhere ("train"), so matching only the common words is weak evidence.
pub fn coverage(
    terms: &[String],
    passage_terms: &HashSet<String>,
    idf: impl Fn(&str) -> f32,
) -> f32 {
    let (mut hit, mut all) = (0.0f32, 0.0f32);
    for t in terms {
        let w = idf(t);
        all += w;
        if passage_terms.contains(t) {
            hit += w;
        }
    }
    if all > 0.0 { hit / all } else { 0.0 }
}

/// The sentence of a mentioning passage's `text` to quote: the one that
/// holds the most of the question's content words (`idf`: term -> IDF),
/// weighed by IDF as [`coverage`] is (a rare "adam" counts for more than a
/// common "optim"), the shorter of two alike. None when no sentence holds one.
pub fn mention_sentence(text: &str, idf: &HashMap<&str, f32>) -> Option<String> {
    crate::index::sentences::split_prose(text)
        .into_iter()
        .map(|s| {
            let hits: HashSet<String> = crate::index::lexical::analyze(&s)
                .into_iter()
                .filter(|t| idf.contains_key(t.as_str()))
                .collect();
            (hits.iter().map(|t| idf[t.as_str()]).sum::<f32>(), s)
        })
        .filter(|(w, _)| *w > 0.0)
        .max_by(|(a, s), (b, t)| a.total_cmp(b).then(t.len().cmp(&s.len())))
        .map(|(_, s)| s)
}

/// What the abstention decision looked at (see the module doc).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// Best cosine between the question and any passage (null in BM25 mode).
    pub top_cosine: Option<f32>,
    /// Best cosine between the question and a note's question (with its
    /// tags), null in BM25 mode (since cram.ask/2).
    pub title_cosine: Option<f32>,
    /// IDF-weighted share of the question's content words (stopwords
    /// removed) that occur in the best BM25 passage, in [0, 1].
    pub term_coverage: f32,
    /// IDF-weighted share of the content words that occur anywhere in the
    /// note of the first passage, in [0, 1] (since cram.ask/2).
    pub note_coverage: f32,
    /// Share of neighbouring content-word pairs of the question that occur
    /// within three words of each other in that note, in [0, 1]: a phrase
    /// ("beam search") is covered, not just its words (since cram.ask/2).
    pub phrase_coverage: f32,
    /// IDF-weighted share of the content words in that note's concept
    /// vocabulary: question, tags, headings, bold terms, defined acronyms
    /// (since cram.ask/2).
    pub concept_coverage: f32,
    /// IDF-weighted mean, over the content words, of the share of that
    /// note's passages that contain the word (since cram.ask/2).
    pub term_spread: f32,
    /// Best cosine between the question and a key-point sentence of the
    /// first passages (since cram.ask/2).
    pub sentence_cosine: f32,
    /// 1 when the best BM25 and best dense passages are from one note, else 0
    /// (since cram.ask/2).
    pub arms_agree: f32,
    /// Share of the first ten fused passages from their most common note
    /// (since cram.ask/2).
    pub concentration: f32,
    /// IDF-weighted share of the content words that no passage contains
    /// (since cram.ask/2).
    pub unknown_share: f32,
    /// Content words in the question.
    pub content_terms: usize,
    /// Best cosine between the question and a topic the notes do not cover
    /// (0 in BM25 mode) (added within cram.ask/2).
    pub outside_cosine: f32,
    /// That topic, when the question is closer to it than to any note's
    /// question, at cosine 0.5 or more (added within cram.ask/2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside_topic: Option<String>,
    /// The abstention model's probability that the notes cover the question
    /// (null in BM25 mode, which uses the term rule) (since cram.ask/2).
    pub covered_probability: Option<f32>,
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_mention_weighs_topic_words_only() {
        // A word two of 55 notes use names a topic; one used by most notes,
        // a year and a piece of a contraction do not.
        let rare = mention_weight("pca", 2, 55);
        assert!((rare - (56.0f32 / 2.5).ln()).abs() < 1e-6);
        assert_eq!(mention_weight("model", 40, 55), 0.0);
        assert_eq!(mention_weight("2018", 1, 55), 0.0);
        assert_eq!(mention_weight("doesn", 1, 55), 0.0);
        // A word no note uses weighs most: the notes do not name that topic.
        assert!(mention_weight("cricket", 0, 55) > rare);
    }
    use super::*;

    #[test]
    fn a_mention_quotes_the_sentence_with_the_rarest_words() {
        let text = "The loss is the same whatever the optimizer. Under Adam it is not, since decay is \
                    decoupled from the gradient. Bayesian optimization tunes the rest.";
        let idf = HashMap::from([("adam", 4.0), ("optim", 1.5)]);
        let s = mention_sentence(text, &idf).unwrap();
        assert!(s.starts_with("Under Adam"), "{s}");
        // Alike weight: the shorter.
        let idf = HashMap::from([("optim", 1.5)]);
        let s = mention_sentence(text, &idf).unwrap();
        assert!(s.starts_with("Bayesian"), "{s}");
        assert_eq!(
            mention_sentence(text, &HashMap::from([("zebra", 2.0)])),
            None
        );
    }

    #[test]
    fn content_terms_drop_stopwords_and_stem() {
        assert_eq!(
            content_terms("What is the difference between ranking models?"),
            vec!["rank", "model"]
        );
        assert!(content_terms("what is the").is_empty());
        // What kind of answer is wanted is not what it is about.
        assert_eq!(
            content_terms("gotchas and tips: batchnorm checklist"),
            content_terms("batchnorm")
        );
    }

    #[test]
    fn a_mention_holds_the_topic_words_together_unless_one_names_it_alone() {
        let t = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let seq = t("dinh show sharp chang by reparameter theorem hold pca leak");
        let none = HashSet::new();
        // "theorem" far from "cap": no mention of the cap theorem.
        assert!(terms_in_context(&t("cap theorem"), &seq, &none).is_empty());
        // Together within the window: both count.
        let pair = t("sharp reparameter");
        let held = terms_in_context(&pair, &seq, &none);
        assert_eq!(held, ["sharp", "reparameter"].into_iter().collect());
        // A word outside everyday vocabulary stands alone; its everyday
        // neighbour does not.
        let pca: HashSet<String> = ["pca".to_string()].into_iter().collect();
        let question = t("pca compon");
        let held = terms_in_context(&question, &seq, &pca);
        assert_eq!(held, ["pca"].into_iter().collect());
        assert!(terms_in_context(&t("pca compon"), &seq, &none).is_empty());
        // A one-term question needs only its term.
        assert_eq!(
            terms_in_context(&t("theorem"), &seq, &none),
            ["theorem"].into_iter().collect()
        );
    }

    #[test]
    fn phrases_need_their_words_close_together() {
        let seq: Vec<String> = "graph search greedi beam width ef recal"
            .split(' ')
            .map(String::from)
            .collect();
        let set: HashSet<String> = seq.iter().cloned().collect();
        let t = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(phrase_coverage(&t("beam width"), &seq, &set), 1.0);
        assert_eq!(phrase_coverage(&t("graph recal"), &seq, &set), 0.0);
        assert_eq!(phrase_coverage(&t("beam"), &seq, &set), 1.0);
        assert_eq!(phrase_coverage(&t("kmean"), &seq, &set), 0.0);
    }

    #[test]
    fn decision_follows_the_evidence() {
        let e = |c: Option<f32>, cov: f32| Evidence {
            top_cosine: c,
            title_cosine: c,
            term_coverage: cov,
            note_coverage: cov,
            phrase_coverage: cov,
            concept_coverage: cov,
            term_spread: cov,
            sentence_cosine: c.unwrap_or(0.0),
            arms_agree: cov,
            concentration: cov,
            unknown_share: 1.0 - cov,
            content_terms: 3,
            outside_cosine: c.map_or(0.0, |c| c - 0.2),
            outside_topic: None,
            covered_probability: None,
        };
        assert!(!decide(&e(Some(0.7), 1.0)));
        // A topic the notes lack, nearer than the note, lowers it.
        let covered = e(Some(0.6), 0.9);
        let elsewhere = Evidence {
            outside_cosine: 0.8,
            ..covered.clone()
        };
        assert!(probability(&elsewhere).unwrap() < probability(&covered).unwrap());
        assert!(decide(&e(Some(0.1), 0.0)));
        assert!(decide(&e(None, 0.0)));
        assert!(!decide(&e(None, 0.8)));
        // More evidence never lowers the probability.
        let lo = probability(&e(Some(0.3), 0.3)).unwrap();
        let hi = probability(&e(Some(0.5), 0.9)).unwrap();
        assert!(hi > lo);
    }
}
