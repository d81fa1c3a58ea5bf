//! Key points: a few sentences from the retrieved passages that answer the
//! question, each cited to its passage.
//!
//! Nothing is generated. Candidate sentences are the prose sentences that
//! read on their own (alone, or joined to the sentence they lean on) of the
//! shown passages and of the closest note's other passages (a passage a key
//! point comes from is then shown), cut and embedded when the index is
//! built ([`crate::index::sentences`]) with the same model as the question,
//! so a question costs only dot products. They are
//! chosen by sentence-level
//! MMR: relevance is a fitted probability that the sentence answers the
//! question ([`relevance`], from its cosine, the question words it shares,
//! its note, passage, headings and kind of section), redundancy the largest cosine to a
//! sentence already chosen; sentences far below the best are dropped first,
//! and of a sentence and its joined form only the more relevant is considered.
//! The chosen sentences are then put back in reading order (passage rank,
//! then position), so the bullets read like the passages below them.

use serde::Serialize;

/// One key point.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPoint {
    /// The sentence, as written in the note (list markers and `**` removed).
    pub text: String,
    /// 1-based rank of the passage it comes from (the `[n]` marker).
    pub passage: usize,
    /// That passage's chunk id.
    pub chunk_id: String,
    /// Cosine between the question and the sentence.
    pub cosine: f32,
}

/// MMR's relevance weight for sentences (1.0 = pure relevance).
pub const LAMBDA: f32 = 0.7;
/// A sentence whose cosine is below this share of the best one is not a key
/// point, unless fewer than [`MIN_POINTS`] sentences clear it.
const RELATIVE_FLOOR: f32 = 0.6;
/// Names of the features a candidate sentence is scored on, in the order of
/// [`Features::vector`] (and of [`WEIGHTS`] after its intercept).
pub const FEATURES: [&str; N_FEATURES] = [
    "cosine",
    "cosine_gap",
    "lexical",
    "best_note",
    "passage_rank",
    "position",
    "heading",
    "length",
    "passage_score",
    "short_answer",
    "mechanism",
    "example",
];
/// Number of features.
pub const N_FEATURES: usize = 12;
/// Sign each weight is held to when fitted: `1` never negative (more of it
/// never makes a sentence less likely to answer), `0` free.
pub const SIGNS: [i8; N_FEATURES] = [1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0];
/// Logistic-regression weights (intercept first) of "this sentence answers
/// the question", fitted by `cram eval --fit-key-points` on the answer
/// labels (tests/data/answer_labels.tsv); that command prints the
/// cross-validated rates next to these weights' own. Candidates are the
/// sentences of the shown passages and of the closest note's other
/// passages, a sentence that cannot stand alone joined to its neighbour. On
/// the 246 labelled queries `ask` answers, the labelled sentence is among
/// them for 94.7%; the key points contain it for 72.0% held out (five folds
/// grouped by note), and one that assessors judged to answer
/// (tests/data/answer_judgments.tsv) for 93.5% (70.3% and 89.8% without
/// the three section features). The choice limits it more than the
/// candidates: the fitted score is linear in a handful of features over
/// one bi-encoder's cosines.
pub const WEIGHTS: [f32; N_FEATURES + 1] = [
    -3.452054, 0.43887445, 5.163922, 4.505245, 0.78616714, 0.08849157, 0.56527704, 2.6230235,
    0.5536565, 2.0457432, 1.8371238, 1.0095117, 0.81454575,
];

/// What is known of one candidate sentence when key points are chosen.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// Cosine between the question and the sentence.
    pub cosine: f32,
    /// That cosine minus the best candidate's (0 for the best, negative below).
    pub cosine_gap: f32,
    /// IDF-weighted share of the question's content words the sentence has.
    pub lexical: f32,
    /// The sentence is from the note of the first passage.
    pub best_note: bool,
    /// 0-based rank of its passage.
    pub passage_rank: usize,
    /// 0-based position among its passage's candidates.
    pub position: usize,
    /// IDF-weighted share of the question's content words in its passage's headings.
    pub heading: f32,
    /// Its words.
    pub words: usize,
    /// Its passage's fused score over the first passage's.
    pub passage_score: f32,
    /// The kind of section its passage sits in.
    pub section: Section,
}

/// The kind of a passage's top-level section, as the bundled notes name
/// them: the assessors' answering sentences come three times as often from
/// a short answer as its share of sentences, half as often from a worked
/// example or story (BENCHMARKS.md). Any other heading (and a user's own
/// notes) is [`Section::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// "Short answer".
    ShortAnswer,
    /// "Mechanism", "Mechanism and math".
    Mechanism,
    /// "Worked example" (with or without a title after a colon: "Worked
    /// example: 1% fraud"), "Example stories".
    Example,
    /// "Intuition": analogies and scenarios, key points only for a question
    /// that asks for intuition ([`crate::retrieval::query::asks_for_intuition`]).
    Intuition,
    /// Any other section.
    Other,
}

impl Section {
    /// The kind of the section headed `top` (a passage's first heading).
    pub fn of(top: Option<&str>) -> Section {
        match top.map(str::to_lowercase).as_deref() {
            Some("short answer") => Section::ShortAnswer,
            Some(h) if h.starts_with("mechanism") => Section::Mechanism,
            Some("example stories") => Section::Example,
            Some(h) if h.starts_with("worked example") => Section::Example,
            Some(h) if h.starts_with("intuition") => Section::Intuition,
            _ => Section::Other,
        }
    }
}

/// A key point as shown: the sentence, labelled "Red flag:" when it comes
/// from a section of that name (a behavioural note's list of what not to
/// say: "Claiming you have never had a model fail in production." read as
/// advice without it).
pub fn as_shown(sentence: &str, top_heading: Option<&str>) -> String {
    match top_heading {
        Some(h) if h.eq_ignore_ascii_case("red flags") => format!("Red flag: {sentence}"),
        _ => sentence.to_string(),
    }
}

/// The key points' texts as a list shows them: a key point that comes after
/// the same list lead-in as the one before it ("Accuracy is misleading in
/// five situations: ...", see [`crate::index::sentences`]) shows only its
/// item, after "… ", so five items of one list do not repeat the lead-in
/// five times. The answer's `text` keeps the whole sentence.
pub fn as_listed(points: &[KeyPoint]) -> Vec<std::borrow::Cow<'_, str>> {
    /// A lead-in names its list: a few words, then ": ".
    const MIN_LEAD_WORDS: usize = 3;
    fn lead(t: &str) -> Option<&str> {
        t.find(": ")
            .map(|i| &t[..i + 2])
            .filter(|l| l.split_whitespace().count() >= MIN_LEAD_WORDS && !l.contains('$'))
    }
    points
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let shared = i
                .checked_sub(1)
                .and_then(|j| lead(&points[j].text))
                .filter(|l| lead(&k.text) == Some(*l));
            match shared {
                Some(l) => std::borrow::Cow::Owned(format!("… {}", &k.text[l.len()..])),
                None => std::borrow::Cow::Borrowed(k.text.as_str()),
            }
        })
        .collect()
}

impl Features {
    /// The features as the model reads them (each about 0..1).
    pub fn vector(&self) -> [f32; N_FEATURES] {
        [
            self.cosine,
            self.cosine_gap,
            self.lexical,
            f32::from(u8::from(self.best_note)),
            1.0 / (self.passage_rank as f32 + 1.0),
            1.0 / (self.position as f32 + 1.0),
            self.heading,
            (self.words.max(1) as f32).ln() / 4.0,
            self.passage_score.clamp(0.0, 1.0),
            f32::from(u8::from(self.section == Section::ShortAnswer)),
            f32::from(u8::from(self.section == Section::Mechanism)),
            f32::from(u8::from(self.section == Section::Example)),
        ]
    }
}

/// One candidate key-point sentence.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// (passage index, position in passage).
    pub at: (usize, usize),
    /// Cosine between the question and the sentence.
    pub cosine: f32,
    /// Its features ([`Features::vector`]).
    pub x: [f32; N_FEATURES],
}

/// Everything key points were chosen from for one question (for fitting).
#[derive(Debug, Clone)]
pub struct Pool {
    /// The candidates.
    pub candidates: Vec<Candidate>,
    /// Their sentences.
    pub texts: Vec<String>,
    /// Cosine between every two candidates.
    pub sims: Vec<Vec<f32>>,
}

/// Probability that a sentence with features `x` answers the question.
pub fn relevance(w: &[f32], x: &[f32]) -> f32 {
    let z = w[0] + w[1..].iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// Key points shown at least (when the passages have that many sentences):
/// below this, the best sentences under the floor fill in.
pub const MIN_POINTS: usize = 3;

/// True when two candidates repeat a sentence: a sentence joined to its
/// neighbour is a candidate beside that sentence alone, and beside the same
/// sentence joined to its other neighbour (see
/// [`crate::index::sentences::sentences`]); only one of them is shown.
pub fn repeats(a: &str, b: &str) -> bool {
    a.contains(b) || b.contains(a) || ends_where_starts(a, b) || ends_where_starts(b, a)
}

/// True when `a`'s last sentences are the start of `b` (the two are runs of
/// neighbouring sentences that overlap). Runs in the time of a scan, with
/// no allocation: it is asked for many pairs of candidates per question.
fn ends_where_starts(a: &str, b: &str) -> bool {
    a.match_indices(' ')
        .any(|(i, _)| a[..i].ends_with(['.', '?', '!', '"', '”']) && b.starts_with(&a[i + 1..]))
}

/// Chooses up to `n` sentences. `cands[i]` is (passage index, position in
/// passage); `cos[i]` its relevance to the question (a cosine or a probability); `sim(i, j)` the cosine of
/// two candidates; `repeat(i, j)` true when they share a sentence ([`repeats`]): of
/// candidates of one passage that do, only the most relevant is considered.
/// Returns candidate indexes in reading order.
pub fn choose(
    cands: &[(usize, usize)],
    cos: &[f32],
    n: usize,
    sim: impl Fn(usize, usize) -> f32,
    repeat: impl Fn(usize, usize) -> bool,
) -> Vec<usize> {
    let mut by_relevance: Vec<usize> = (0..cands.len()).collect();
    by_relevance.sort_by(|&a, &b| cos[b].total_cmp(&cos[a]).then(a.cmp(&b)));
    let mut distinct: Vec<usize> = Vec::with_capacity(cands.len());
    for i in by_relevance {
        if distinct
            .iter()
            .all(|&d| cands[d].0 != cands[i].0 || !repeat(d, i))
        {
            distinct.push(i);
        }
    }
    // `distinct` is in decreasing relevance.
    let best = distinct.first().map_or(f32::NEG_INFINITY, |&i| cos[i]);
    let clear = distinct
        .iter()
        .filter(|&&i| cos[i] >= best * RELATIVE_FLOOR)
        .count();
    let keep = &distinct[..clear.max(MIN_POINTS.min(n)).min(distinct.len())];
    // Relevance is the raw cosine, on the same scale as the redundancy term:
    // min-max over a handful of sentences would exaggerate small differences.
    let rel: Vec<f32> = keep.iter().map(|&i| cos[i]).collect();
    let mut picked: Vec<usize> =
        crate::retrieval::mmr::select_with_relevance(&rel, &rel, n, LAMBDA, |a, b| {
            sim(keep[a], keep[b])
        })
        .into_iter()
        .map(|p| keep[p.index])
        .collect();
    picked.sort_by_key(|&i| cands[i]);
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_one_list_show_its_lead_in_once() {
        let kp = |t: &str| KeyPoint {
            text: t.into(),
            passage: 1,
            chunk_id: "q04#short-answer".into(),
            cosine: 0.5,
        };
        let points = [
            kp("Accuracy is misleading in five situations: one class is rare."),
            kp("Accuracy is misleading in five situations: the errors cost different amounts."),
            kp("Trees split on thresholds: no scaling is needed."),
            kp("Trees split on thresholds: no scaling is needed either way."),
            kp("Note: a short label is no lead-in."),
            kp("Note: a short label is no lead-in either."),
        ];
        let shown = as_listed(&points);
        assert_eq!(shown[0], points[0].text);
        assert_eq!(shown[1], "… the errors cost different amounts.");
        assert_eq!(shown[2], points[2].text);
        assert_eq!(shown[3], "… no scaling is needed either way.");
        // Fewer than three words before the colon: a label, kept whole.
        assert_eq!(shown[5], points[5].text);
    }

    #[test]
    fn a_titled_worked_example_is_an_example() {
        assert_eq!(Section::of(Some("Worked example")), Section::Example);
        assert_eq!(
            Section::of(Some("Worked example: 1% fraud")),
            Section::Example
        );
        assert_eq!(Section::of(Some("Example stories")), Section::Example);
        assert_eq!(Section::of(Some("Short answer")), Section::ShortAnswer);
        assert_eq!(Section::of(Some("Intuition")), Section::Intuition);
        assert_eq!(Section::of(Some("In production")), Section::Other);
    }

    #[test]
    fn a_red_flag_is_shown_as_one() {
        assert_eq!(
            as_shown("Blaming others.", Some("Red flags")),
            "Red flag: Blaming others."
        );
        assert_eq!(
            as_shown("Blaming others.", Some("Short answer")),
            "Blaming others."
        );
        assert_eq!(as_shown("Blaming others.", None), "Blaming others.");
    }

    #[test]
    fn two_joined_forms_of_one_sentence_repeat_it() {
        let lead = "Likelihood. CE equals H(y) + KL(y || p).";
        let leaned = "CE equals H(y) + KL(y || p). Minimizing it minimizes the KL divergence.";
        assert!(repeats(lead, leaned) && repeats(leaned, lead));
        assert!(repeats(leaned, "CE equals H(y) + KL(y || p)."));
        assert!(!repeats(lead, "Minimizing it minimizes the KL divergence."));
    }

    #[test]
    fn chooses_relevant_diverse_and_in_reading_order() {
        // 0 and 1 are near-duplicates; 2 is relevant and different; 3 is off-topic.
        let cands = [(0, 0), (0, 1), (1, 0), (2, 0)];
        let cos = [0.80, 0.79, 0.70, 0.10];
        let sim = |a: usize, b: usize| {
            if a.min(b) == 0 && a.max(b) == 1 {
                0.99
            } else {
                0.2
            }
        };
        let picked = choose(&cands, &cos, 2, sim, |_, _| false);
        assert_eq!(picked, vec![0, 2]);
        // Reading order: by passage, then position, whatever the MMR order was.
        let picked = choose(&[(1, 0), (0, 3)], &[0.9, 0.8], 2, |_, _| 0.0, |_, _| false);
        assert_eq!(picked, vec![1, 0]);
    }

    #[test]
    fn at_least_three_when_the_passages_have_them() {
        // Only the first clears 0.6 x best; the two next best fill in, the worst does not.
        let cands = [(0, 0), (0, 1), (1, 0), (1, 1)];
        let cos = [0.9, 0.3, 0.4, 0.2];
        assert_eq!(
            choose(&cands, &cos, 5, |_, _| 0.0, |_, _| false),
            vec![0, 1, 2]
        );
        // Asking for fewer than three is respected.
        assert_eq!(choose(&cands, &cos, 1, |_, _| 0.0, |_, _| false), vec![0]);
    }

    #[test]
    fn a_sentence_is_shown_once() {
        // 1 is 0 joined to the sentence after it: only the better of the two.
        let texts = [
            "BM25 is lexical.",
            "BM25 is lexical. It wins on codes.",
            "Dense is semantic.",
        ];
        let cands = [(0, 0), (0, 1), (0, 2)];
        let picked = choose(
            &cands,
            &[0.9, 0.95, 0.5],
            3,
            |_, _| 0.0,
            |a, b| repeats(texts[a], texts[b]),
        );
        assert_eq!(picked, vec![1, 2]);
    }
}
