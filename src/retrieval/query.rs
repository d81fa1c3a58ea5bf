//! Query understanding: turning what a candidate types into what is searched.
//!
//! Three steps, each shown to the user and each measurable on its own
//! (`cram eval` reports the realistic query set with each step switched off):
//!
//! 1. **Interview framing is not a retrieval term.** "If an interviewer asks
//!    about data leakage, how should I answer?" searches for "data leakage".
//!    Framing phrases ([`FRAMING`]) and meta words ([`META_WORDS`]) are dropped
//!    as long as a content word remains, so a behavioural question ("why
//!    should we hire you") keeps its own words.
//! 2. **Typos of the notes' vocabulary are corrected.** A word of four or
//!    more letters that neither the notes nor the embedding model's WordPiece
//!    vocabulary know as a whole word ("precison", "gradiants") is replaced by
//!    the most frequent notes word within Damerau-Levenshtein distance 1 (2
//!    for words of seven letters or more). A real English word the notes do
//!    not use ("marathon") is never "corrected" into one they do: that would
//!    turn an off-topic question into an on-topic one. A word with no such
//!    neighbour that runs two notes words together ("crossentropy",
//!    "finetuning") is split where the notes write the two side by side;
//!    and two typed words the notes write as one ("layer norm", "batch
//!    norm") are joined, when the notes use the joined word more often than
//!    the pair.
//! 3. **Acronyms and short forms expand** to the long form the notes use
//!    ("gqa" → "grouped-query attention"), appended to the text both arms
//!    search. The table is mined from the notes themselves (a long form
//!    followed by its acronym in parentheses, after Schwartz and Hearst,
//!    PSB 2003) plus a glossary of the field ([`GLOSSARY`], 414 acronyms,
//!    initialisms and clipped words such as "logreg") whose entries are kept
//!    only when every word of the long form occurs in the notes. Another
//!    name for what the notes call something (a product or model-family
//!    name, an everyday phrasing: "chatgpt", "makes things up") adds the
//!    notes' term ("llm", "hallucination") the same way ([`SYNONYMS`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::index::NoteRecord;

/// Interview framing around a question (matched case-insensitively as
/// whole words; apostrophes may be straight or curly).
pub const FRAMING: &[&str] = &[
    r"(?:if|when) (?:an|the|my) interviewers? (?:asks?|asked) (?:me )?(?:about |for )?",
    // What the other side wants: "what do interviewers want to hear about X".
    r"what (?:do|does|would|will) (?:the |an? |my )?(?:interviewers?|hiring managers?|recruiters?) (?:want|expect|look for|like|need)(?: to (?:hear|see|know))?(?: about| in| on| for| from)?",
    r"(?:(?:the|an|my|one) )?interviewers? (?:asks?|asked|asking|wants?|wanted|pushed|pushes|pressed|probed|grilled|quizzed|drilled|showed|shows|claims?|claimed|says?|said|gave|gives|kept|keeps) (?:me |us )?(?:on |about |for |to explain |to |with )?",
    // Other people who ask in an interview, and "they" asking once an
    // interview is the setting ("in my interview they asked about ...").
    r"(?:(?:the|a|my|our) )?(?:hiring managers?|recruiters?|(?:interview |onsite )?panel(?:ists?)?) (?:asks?|asked|asking|wants?|wanted|pushed|pressed|probed|grilled|quizzed|drilled) (?:me |us )?(?:on |about |for |to explain |to |with )?",
    r"(?:they|he|she) (?:asked|pressed|probed|grilled|quizzed|drilled)(?: (?:me|us))?(?: (?:on|about))?",
    r"(?:if|when) (?:i'?m |i am |you'?re |you are )?asked (?:about|for|to explain)",
    r"(?:in|during|at) (?:the|my|an?) (?:onsite|on-site|phone screen|final round|interview loop)",
    // A round of an interview loop named by its kind ("in a behavioural
    // round", "during my system design round").
    r"(?:in|during|at|for) (?:the|my|an?) (?:(?:behaviou?ral|system design|ml design|ml system design|design|technical|coding|hiring manager|screening|take-home) )(?:round|screen|loop)s?",
    r"(?:(?:a|an|the) )?(?:good|strong|best|great|senior|interview) (?:interview )?answers? (?:for|on|to|about)",
    r"i(?: have|'ve got| got) (?:an?|my) (?:(?:technical|system design|ml|ai|coding|final|onsite|phone) )?interviews? (?:tomorrow|today|tonight|soon|next week|this week|on (?:mon|tues|wednes|thurs|fri|satur|sun)day)(?: and| so|,)?",
    r"i (?:was|got|get|am) asked (?:about |to explain )?",
    r"(?:and|but) i (?:froze|blanked|panicked|stumbled|rambled)",
    r"i (?:froze|blanked|panicked)(?: on)?",
    r"(?:how|what) (?:should|do|would|can|could) (?:i|you|one) (?:answer|respond|reply|say)(?: to| about| when asked)?",
    r"(?:how|what) to (?:answer|respond|reply|say)(?: to| about| when asked| if asked)?",
    r"how (?:to|do i|should i|would you|can i) (?:explain|describe|present|talk about|discuss)(?: to an interviewer)?",
    r"what(?:'s| is) (?:a |the )?(?:good|strong|best|senior|great) (?:answer|response|way to answer)(?: to| for| about)?",
    r"(?:in|during|for|at) (?:an?|the|my|a technical|a system design|an ml|an ai) interviews?",
    r"(?:an? )?interview questions? (?:about|on|like)?",
    r"(?:to|for|with) (?:an?|the|my) interviewers?",
    r"(?:can|could) you (?:explain|tell me|walk me through)",
    r"(?:please )?(?:explain|tell me about|walk me through|help me understand)",
    r"(?:like i'?m five|in simple terms|in plain english|eli5|quick question|real quick)",
    // Last, so the longer phrases above win where they start at the same word:
    // "an interview" with what qualifies it, so no "an" or "system design" dangles.
    r"(?:(?:a|an|the|my|your|this|that|next|tomorrow's) )?(?:(?:technical|system design|ml|ai|coding|behaviou?ral|final|onsite|phone) )?interview(?:er)?s?(?: prep(?:aration)?)?",
];

/// Single words that frame a question rather than name its topic. "answer"
/// and "question" are not among them: "answer quality" and "question
/// answering" are topics; the framing phrases catch "how should I answer".
pub const META_WORDS: &[&str] = &[
    "interview",
    "interviews",
    "interviewer",
    "interviewers",
    "interviewing",
    "explain",
    "explaining",
    "please",
    "froze",
];

/// A glossary of the field (`glossary.tsv`): short form, tab, long form per
/// line. Kept only when the long form's words all occur in the notes (see
/// [`Lexicon::build`]).
pub const GLOSSARY: &str = include_str!("glossary.tsv");

/// The entries of [`GLOSSARY`], in file order.
pub fn glossary() -> impl Iterator<Item = (&'static str, &'static str)> {
    GLOSSARY
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
}

/// Other names for what the notes call something (`synonyms.tsv`): a
/// variant a candidate types (a product or model-family name, an everyday
/// phrasing: "chatgpt", "generative ai"), tab, the notes' term ("llm"). See
/// [`Lexicon::synonyms_in`] for when one is used.
pub const SYNONYMS: &str = include_str!("synonyms.tsv");

/// The entries of [`SYNONYMS`] as (variant words, notes term), in file
/// order, parsed once.
pub fn synonyms() -> &'static [(Vec<String>, &'static str)] {
    static TABLE: OnceLock<Vec<(Vec<String>, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        SYNONYMS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(variant, term)| (words(variant).collect(), term))
            .collect()
    })
}

/// Each variant of [`synonyms`] as stems ([`stem`]), in the same order.
fn synonym_stems() -> &'static [Vec<String>] {
    static STEMS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    STEMS.get_or_init(|| {
        synonyms()
            .iter()
            .map(|(v, _)| v.iter().map(|w| stem(w)).collect())
            .collect()
    })
}

/// A lowercased word's stem under the notes' analyzer ("making" -> "make"),
/// or the word itself where the analyzer drops it (a stopword such as "up").
fn stem(word: &str) -> String {
    crate::index::lexical::analyze(word)
        .into_iter()
        .next()
        .unwrap_or_else(|| word.to_string())
}

/// True when `word` (lowercased) is a term of the field cram knows by name:
/// a short form of the glossary (kept or not: "faiss" is a library, not a
/// typo of "fails") or a one-word name in [`SYNONYMS`] ("qdrant").
fn is_field_term(word: &str) -> bool {
    static TERMS: OnceLock<HashSet<String>> = OnceLock::new();
    TERMS
        .get_or_init(|| {
            let shorts = glossary().map(|(short, _)| short.to_string());
            let names = synonyms()
                .iter()
                .filter(|(v, _)| v.len() == 1)
                .map(|(v, _)| v[0].clone());
            shorts.chain(names).collect()
        })
        .contains(word)
}

/// Short forms used by more notes than this are not expanded.
pub const RARE_SHORT_FORM: u32 = 3;

/// A word replaced by a notes word.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correction {
    /// As typed.
    pub from: String,
    /// As searched.
    pub to: String,
}

/// Regular English endings a word may add to a known word and stay a word.
const INFLECTIONS: [&str; 8] = ["ing", "ed", "es", "s", "er", "est", "ly", "d"];

/// A short form expanded to the notes' long form, or another name for a
/// thing expanded to the notes' term ([`SYNONYMS`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expansion {
    /// As typed (lowercased).
    pub short: String,
    /// The long form or term appended to the search text.
    pub long: String,
}

/// What was searched for a question, and why it differs from what was typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Understood {
    /// The text both arms search (and the question vector embeds).
    pub searched: String,
    /// Interview framing dropped from the question.
    pub dropped: Vec<String>,
    /// Typos corrected.
    pub corrections: Vec<Correction>,
    /// Short forms expanded.
    pub expansions: Vec<Expansion>,
    /// In a session: the earlier question this one was read as a follow-up
    /// to (its searched text, added to `searched`), when the question alone
    /// was not covered ([`crate::Engine::ask_following`]); null otherwise
    /// (added within cram.ask/2).
    pub after: Option<String>,
}

/// True when the question asks for intuition rather than the mechanism
/// ("underfit overfit tradeoff intuition", "explain it like I'm five", "in
/// plain words", "to a non-technical interviewer"): only then may key points
/// come from a note's "Intuition" section, whose analogies and scenarios
/// ("A stateless agent is a call centre where every caller must read out the
/// whole case file") do not read on their own as statements (assessors'
/// verdicts: 55% of them did, against 83-90% of the short answers, traps and
/// production notes; BENCHMARKS.md, fifteenth round).
pub fn asks_for_intuition(question: &str) -> bool {
    const WORDS: [&str; 8] = [
        "intuition",
        "intuitive",
        "intuitively",
        "analogy",
        "analogies",
        "eli5",
        "layman",
        "jargon",
    ];
    const PHRASES: [&str; 8] = [
        "like i'm five",
        "like im five",
        "like i am five",
        "plain words",
        "plain english",
        "simple terms",
        "simple words",
        "non-technical",
    ];
    let q = question.to_lowercase().replace('’', "'");
    q.split(|c: char| !c.is_alphanumeric())
        .any(|w| WORDS.contains(&w))
        || PHRASES.iter().any(|p| q.contains(p))
}

impl Understood {
    /// The question searched as typed.
    pub fn verbatim(q: &str) -> Understood {
        Understood {
            searched: q.to_string(),
            ..Default::default()
        }
    }

    /// True when the searched text differs from the question.
    pub fn changed(&self) -> bool {
        !(self.dropped.is_empty()
            && self.corrections.is_empty()
            && self.expansions.is_empty()
            && self.after.is_none())
    }
}

pub use crate::config::Steps;

/// The notes' vocabulary: words with their note frequencies, and short forms.
#[derive(Debug, Default)]
pub struct Lexicon {
    /// Lowercased words of the notes → number of notes using them.
    words: HashMap<String, u32>,
    /// Words by length, for candidate lookup.
    by_len: HashMap<usize, Vec<String>>,
    /// Short form → long form.
    aliases: HashMap<String, String>,
    /// Whole words of the embedding model's WordPiece vocabulary.
    english: HashSet<String>,
    /// An English word list, one word per line (see [`Lexicon::with_dictionary`]).
    dictionary: Option<PathBuf>,
    /// Its words, read on first need.
    dictionary_words: OnceLock<HashSet<String>>,
    /// Each note's words, lowercased, one space apart (for counting the
    /// notes that use a long form).
    texts: Vec<String>,
}

/// `s` with its TeX commands (`\rVert`, `\cup`) blanked out: markup, not
/// words anyone types.
pub fn without_tex(s: &str) -> std::borrow::Cow<'_, str> {
    static TEX: OnceLock<Regex> = OnceLock::new();
    TEX.get_or_init(|| Regex::new(r"\\[A-Za-z]+").expect("valid regex"))
        .replace_all(s, " ")
}

/// Lowercased alphanumeric words of `s` (apostrophes and inner hyphens split).
pub(crate) fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl Lexicon {
    /// Builds the vocabulary of `notes`; `model_dir` supplies the WordPiece
    /// vocabulary (`vocab.txt` or `tokenizer.json`), whose whole words are
    /// never treated as typos. Without it, only the notes' words are known.
    pub fn build(notes: &[NoteRecord], model_dir: Option<&Path>) -> Lexicon {
        let mut lex = Lexicon::default();
        for n in notes {
            // TeX commands are markup, not words a candidate types: without
            // this, "revert" was "corrected" to the `\rVert` of a formula.
            let body = without_tex(&n.body);
            let text = format!("{} {} {}", n.title, n.tags.join(" "), body);
            let ws: Vec<String> = words(&text).collect();
            let mut seen = HashSet::new();
            for w in &ws {
                if seen.insert(w.as_str()) {
                    *lex.words.entry(w.clone()).or_insert(0) += 1;
                }
            }

            lex.texts.push(format!(" {} ", ws.join(" ")));
            for (short, long) in mine_acronyms(&n.body) {
                lex.aliases.entry(short).or_insert(long);
            }
        }
        for w in lex.words.keys() {
            lex.by_len
                .entry(w.chars().count())
                .or_default()
                .push(w.clone());
        }
        // A glossary entry is kept when every word of its long form is a
        // notes word, spelled as the notes spell it ("initialization" for
        // notes that write "initialisation") or in the plural they use.
        for (short, long) in glossary() {
            let spelled: Option<Vec<String>> = long
                .split(' ')
                .map(|part| {
                    let parts: Option<Vec<String>> = part
                        .split('-')
                        .map(|w| {
                            if lex.words.contains_key(w)
                                || crate::retrieval::abstain::is_stopword(w)
                            {
                                Some(w.to_string())
                            } else {
                                // Only the same word: spelled the other
                                // side of the Atlantic, or a plural the
                                // notes use ("perceptrons"). Any word one
                                // letter away was a different word:
                                // "markov" became "malkov", "remote"
                                // "remove".
                                lex.other_spelling(w).or_else(|| {
                                    ["s", "es"]
                                        .iter()
                                        .map(|e| format!("{w}{e}"))
                                        .find(|p| lex.words.contains_key(p))
                                })
                            }
                        })
                        .collect();
                    parts.map(|p| p.join("-"))
                })
                .collect();
            if let Some(s) = spelled {
                lex.aliases
                    .entry(short.to_string())
                    .or_insert_with(|| s.join(" "));
            }
        }
        if let Some(dir) = model_dir {
            lex.english = wordpiece_words(dir);
        }
        lex
    }

    /// Adds an English word list (one lowercased word per line; `cram`
    /// uses `$CRAM_HOME/words/en.txt`, see [`crate::config::words_file`]):
    /// its words are never corrected, like the WordPiece vocabulary's. It
    /// is read the first time a typed word is in neither the notes nor that
    /// vocabulary; a missing or unreadable file adds no word.
    pub fn with_dictionary(mut self, path: PathBuf) -> Lexicon {
        self.dictionary = Some(path);
        self
    }

    /// True when `word` (lowercased) is a whole word of the embedding
    /// model's WordPiece vocabulary: everyday vocabulary of the English text
    /// the model's tokenizer was built from, where "theorem" and "window"
    /// are and "pca", "grpc" and "infonce" are not. Without the model, no
    /// word is.
    pub(crate) fn is_everyday(&self, word: &str) -> bool {
        self.english.contains(word)
    }

    /// True when `word` (lowercased) is a word of the WordPiece vocabulary or
    /// of the English word list.
    fn is_english(&self, word: &str) -> bool {
        self.english.contains(word)
            || self
                .dictionary_words
                .get_or_init(|| {
                    let Some(path) = &self.dictionary else {
                        return HashSet::new();
                    };
                    match std::fs::read_to_string(path) {
                        Ok(text) => text.lines().map(str::to_string).collect(),
                        Err(e) => {
                            tracing::debug!(path = %path.display(), error = %e, "no English word list");
                            HashSet::new()
                        }
                    }
                })
                .contains(word)
    }

    /// The long form of a short form, if known.
    pub fn alias(&self, short: &str) -> Option<&str> {
        self.aliases.get(short).map(String::as_str)
    }

    /// True when the long form of a short form adds evidence: the short
    /// form is used by at most [`RARE_SHORT_FORM`] notes, and the notes call
    /// the thing by its long form at least as often (in as many notes). A
    /// short form the notes use everywhere ("llm", "rag") already matches by
    /// itself, and its long form ("large language model") only adds common
    /// words; one they prefer to the long form ("lstm", "lora") matches the
    /// notes that discuss it, while the long form pulls toward the one note
    /// that spells it out.
    pub fn worth_expanding(&self, short: &str) -> bool {
        let uses = self.words.get(short).copied().unwrap_or(0);
        if uses > RARE_SHORT_FORM {
            return false;
        }
        let Some(long) = self.alias(short) else {
            return false;
        };
        let phrase = format!(" {} ", words(long).collect::<Vec<_>>().join(" "));
        let spelled_out = self.texts.iter().filter(|t| t.contains(&phrase)).count() as u32;
        spelled_out >= uses
    }

    /// The notes' terms for what `text` (lowercased words) calls by another
    /// name ([`SYNONYMS`]), each with the variant as typed: a variant is
    /// used when its words occur together in `text`, the notes' term does
    /// not, and the notes write the term in more notes than the variant (a
    /// name the notes themselves prefer, "xgboost" where several notes
    /// discuss it by name, already matches). Longer variants first; a word
    /// belongs to one variant at most.
    pub fn synonyms_in(&self, text: &str) -> Vec<(String, String)> {
        let typed: Vec<String> = words(text).collect();
        let typed_stems: Vec<String> = typed.iter().map(|w| stem(w)).collect();
        let phrase = |ws: &[String]| format!(" {} ", ws.join(" "));
        let stems_text = phrase(&typed_stems);
        let notes_with = |p: &str| self.texts.iter().filter(|t| t.contains(p)).count();
        let mut entries: Vec<(&[String], &[String], &str)> = synonyms()
            .iter()
            .zip(synonym_stems())
            .filter(|((v, _), st)| !v.is_empty() && stems_text.contains(&phrase(st)))
            .map(|((v, t), st)| (v.as_slice(), st.as_slice(), *t))
            .collect();
        entries.sort_by_key(|(v, _, _)| std::cmp::Reverse(v.len()));
        let mut used: Vec<String> = Vec::new();
        let mut out: Vec<(String, String)> = Vec::new();
        for (variant, variant_stems, term) in entries {
            let term_words: Vec<String> = words(term).collect();
            let term_stems: Vec<String> = term_words.iter().map(|w| stem(w)).collect();
            let vs = phrase(variant_stems);
            if stems_text.contains(&phrase(&term_stems))
                || used
                    .iter()
                    .any(|u| u.contains(&vs) || vs.contains(u.as_str()))
                || out.iter().any(|(_, o)| o == term)
                || notes_with(&phrase(&term_words)) <= notes_with(&phrase(variant))
            {
                continue;
            }
            // Shown as typed ("making things up"), not as the table has it.
            let n = variant_stems.len();
            let as_typed = typed_stems
                .windows(n)
                .position(|w| w == variant_stems)
                .map_or_else(|| variant.join(" "), |i| typed[i..i + n].join(" "));
            used.push(vs);
            out.push((as_typed, term.to_string()));
        }
        out
    }

    /// How many notes use the analysed term `term` in their prose (title,
    /// tags and body, TeX commands aside), in any of its forms: the notes
    /// words sharing its first three letters that analyse to it.
    pub fn notes_using(&self, term: &str) -> usize {
        let prefix: String = term.chars().take(3).collect();
        let forms: Vec<String> = self
            .words
            .keys()
            .filter(|w| w.starts_with(&prefix))
            .filter(|w| crate::index::lexical::analyze(w) == [term])
            .map(|w| format!(" {w} "))
            .collect();
        if forms.is_empty() {
            return 0;
        }
        self.texts
            .iter()
            .filter(|t| forms.iter().any(|f| t.contains(f.as_str())))
            .count()
    }

    /// True when the notes use `word` (lowercased).
    pub fn knows(&self, word: &str) -> bool {
        self.words.contains_key(word)
    }

    /// The notes word `word` is most likely a typo of, if any, or the two
    /// notes words it runs together.
    pub fn correct(&self, word: &str) -> Option<String> {
        let len = word.chars().count();
        if len < 4
            || !word.chars().all(|c| c.is_ascii_alphabetic())
            || self.words.contains_key(word)
            || self.aliases.contains_key(word)
            || is_field_term(word)
        {
            return None;
        }
        // An English word is not a typo, but the notes may spell it the
        // other side of the Atlantic ("summarize", notes "summarise").
        if let Some(other) = self.other_spelling(word) {
            return Some(other);
        }
        if self.is_english(word) {
            return None;
        }
        let Some(near) = self.nearest(word, if len >= 7 { 2 } else { 1 }) else {
            return self.split_compound(word);
        };
        // What an apostrophe leaves of a contraction is no word to correct
        // to ("doesnt" is not "doesn"); and a notes word with two or more
        // letters added at the end is another word derived from it, not a
        // typo of it ("variational", "variation").
        if crate::retrieval::abstain::CONTRACTION_PARTS.contains(&near)
            || word
                .strip_prefix(near)
                .is_some_and(|rest| rest.chars().count() >= 2)
        {
            return None;
        }
        // The notes word nearest may be the typed word inflected
        // ("parallelize" next to "parallelizes", "numeric" next to
        // "numerics"): the same word, which the stemmed arm matches anyway.
        if near
            .strip_prefix(word)
            .is_some_and(|ending| INFLECTIONS.contains(&ending))
        {
            return None;
        }
        // A regular inflection of a known word ("tanked", "tripled": the
        // WordPiece vocabulary keeps only the stem whole) is a word, not a
        // typo: it is corrected only to a form of itself ("overfiting" ->
        // "overfitting"), never to another word ("tanked" -> "talked").
        // Nor is a word that only adds an ending to the notes word it is
        // nearest ("docs" next to "doc"): that is the word, inflected.
        if self.inflects_a_known_word(word) {
            if word
                .strip_prefix(near)
                .is_some_and(|ending| INFLECTIONS.contains(&ending))
            {
                return None;
            }
            let stem = |w: &str| crate::index::lexical::analyze(w).into_iter().next();
            return (stem(near) == stem(word)).then(|| near.to_string());
        }
        Some(near.to_string())
    }

    /// The notes' spelling of `word` when they spell it the other way
    /// between American and British English: -ize/-ise and -yze/-yse
    /// ("summarize", "analyse"), -or/-our ("behavior"), a doubled `l` before
    /// an ending ("labeled", "modelling") and -er/-re at the end ("center").
    /// Only a form the notes use, and only one rewrite.
    fn other_spelling(&self, word: &str) -> Option<String> {
        const SWAPS: [(&str, &str); 10] = [
            ("ize", "ise"),
            ("iza", "isa"),
            ("izi", "isi"),
            ("yze", "yse"),
            ("yzi", "ysi"),
            ("or", "our"),
            ("led", "lled"),
            ("ling", "lling"),
            ("ler", "ller"),
            ("er", "re"),
        ];
        let known = |w: &String| self.words.contains_key(w.as_str());
        for (us, uk) in SWAPS {
            // A short word with a double `l` is no spelling variant:
            // "filled" is not "filed".
            if us.starts_with('l') && word.len() < 7 {
                continue;
            }
            for (from, to) in [(us, uk), (uk, us)] {
                // Within the word for the -ize family; at the end (or
                // before a plural `s`) for -or/-our and -er/-re; before the
                // ending for the doubled `l`.
                let at_end = matches!(us, "or" | "er");
                let candidates: Vec<String> = word
                    .match_indices(from)
                    .filter(|&(i, _)| {
                        let rest = &word[i + from.len()..];
                        !at_end || rest.is_empty() || rest == "s"
                    })
                    .map(|(i, _)| format!("{}{to}{}", &word[..i], &word[i + from.len()..]))
                    .collect();
                if let Some(c) = candidates.into_iter().find(known) {
                    return Some(c);
                }
            }
        }
        None
    }

    /// Two notes words run together ("crossentropy", "kvcache"): the split
    /// into two words the notes use side by side, in the most notes. Both
    /// parts are notes words of two letters or more, and the pair occurs as
    /// such in a note, so a word the notes never write in two ("marathon" =
    /// "mar" + "athon") is not split.
    fn split_compound(&self, word: &str) -> Option<String> {
        let mut best: Option<(usize, String)> = None;
        for (i, _) in word.char_indices().skip(2) {
            let (a, b) = word.split_at(i);
            if b.chars().count() < 2 || !self.words.contains_key(a) || !self.words.contains_key(b) {
                continue;
            }
            let pair = format!(" {a} {b} ");
            let notes = self.texts.iter().filter(|t| t.contains(&pair)).count();
            if notes > 0 && best.as_ref().is_none_or(|(n, _)| notes > *n) {
                best = Some((notes, format!("{a} {b}")));
            }
        }
        best.map(|(_, split)| split)
    }

    /// True when the notes write `a` and `b` (lowercased words) as one word
    /// ("layernorm", "batchnorm"), in more notes than they write them side by
    /// side. Neither part may be a stopword or shorter than two letters, so
    /// "in to" never becomes "into".
    pub fn joins(&self, a: &str, b: &str) -> bool {
        let word = |w: &str| {
            w.len() >= 2
                && w.chars().all(|c| c.is_ascii_alphabetic())
                && !crate::retrieval::abstain::is_stopword(w)
        };
        if !word(a) || !word(b) {
            return false;
        }
        let Some(&joined) = self.words.get(&format!("{a}{b}")) else {
            return false;
        };
        let pair = format!(" {a} {b} ");
        let apart = self.texts.iter().filter(|t| t.contains(&pair)).count() as u32;
        joined > apart
    }

    /// True when `word` is a regular inflection of a whole word of the
    /// model's vocabulary or of the notes.
    fn inflects_a_known_word(&self, word: &str) -> bool {
        let known = |w: &str| w.len() >= 3 && (self.words.contains_key(w) || self.is_english(w));
        for suffix in INFLECTIONS {
            let Some(base) = word.strip_suffix(suffix) else {
                continue;
            };
            if known(base) {
                return true;
            }
            // A suffix that starts with a vowel may have dropped an `e`
            // ("making"), doubled a consonant ("stopped") or turned an `f`
            // into a `v` ("halved"); "-s", "-d" and "-ly" do none of that, so
            // "duplicats" stays a typo of "duplicates".
            if !suffix.starts_with(['i', 'e']) {
                continue;
            }
            let undoubled = base
                .char_indices()
                .last()
                .filter(|&(i, c)| i > 0 && base[..i].ends_with(c))
                .map(|(i, _)| &base[..i]);
            let ve_to_f = base.strip_suffix('v').map(|b| format!("{b}f"));
            if known(&format!("{base}e"))
                || undoubled.is_some_and(known)
                || ve_to_f.as_deref().is_some_and(known)
            {
                return true;
            }
        }
        false
    }

    /// The notes word closest to `word` within `max` edits.
    fn nearest(&self, word: &str, max: usize) -> Option<&str> {
        let len = word.chars().count();
        type Key<'a> = (
            std::cmp::Reverse<usize>,
            usize,
            u32,
            std::cmp::Reverse<&'a str>,
        );
        let mut best: Option<(Key, &String)> = None;
        let mut ws = word.chars();
        let (w0, w1) = (ws.next(), ws.next());
        for l in len.saturating_sub(max)..=len + max {
            for cand in self.by_len.get(&l).into_iter().flatten() {
                // A typo keeps the first letter, or swaps the first two:
                // misspellings rarely start wrong (Kukich, ACM Computing
                // Surveys 1992, after Pollock and Zamora 1984), while a real
                // word a letter or two from a notes word often does ("gini" /
                // "mini", "federated" / "generated").
                let mut cs = cand.chars();
                let (c0, c1) = (cs.next(), cs.next());
                if cand.len() < 3 || (c0 != w0 && (c0 != w1 || c1 != w0)) {
                    continue;
                }
                let d = strsim::damerau_levenshtein(word, cand);
                if d == 0 || d > max {
                    continue;
                }
                // Closest first; then the longest shared prefix (typos are
                // rarer at the start of a word); then the most used word.
                let key = (
                    std::cmp::Reverse(d),
                    common_prefix(word, cand),
                    self.words[cand],
                    std::cmp::Reverse(cand.as_str()),
                );
                if best.as_ref().is_none_or(|(k, _)| key > *k) {
                    best = Some((key, cand));
                }
            }
        }
        best.map(|(_, c)| c.as_str())
    }
}

/// Length of the common prefix of `a` and `b`, in characters.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// A note's concept vocabulary as text: its question, tags, headings, bold
/// terms and the long and short forms of the acronyms it defines.
pub fn concept_text(n: &NoteRecord) -> String {
    static BOLD: OnceLock<Regex> = OnceLock::new();
    let bold = BOLD.get_or_init(|| Regex::new(r"\*\*([^*\n]{2,80})\*\*").expect("valid regex"));
    let mut s = format!("{}. {}.", n.title, n.tags.join(". "));
    for line in n.body.lines() {
        if line.starts_with('#')
            && !crate::index::chunk::is_reference_heading(line.trim_start_matches('#'))
        {
            s.push(' ');
            s.push_str(line.trim_start_matches('#'));
            s.push('.');
        }
    }
    for c in bold.captures_iter(&n.body) {
        s.push(' ');
        s.push_str(&c[1]);
        s.push('.');
    }
    for (short, long) in mine_acronyms(&n.body) {
        s.push_str(&format!(" {short}. {long}."));
    }
    s
}

/// Whole words (no `##` continuation, letters only, 3+ characters) of the
/// model's WordPiece vocabulary.
fn wordpiece_words(dir: &Path) -> HashSet<String> {
    let keep = |w: &str| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase());
    if let Ok(text) = std::fs::read_to_string(dir.join("vocab.txt")) {
        return text
            .lines()
            .filter(|w| keep(w))
            .map(str::to_string)
            .collect();
    }
    #[derive(serde::Deserialize)]
    struct Model {
        vocab: HashMap<String, u32>,
    }
    #[derive(serde::Deserialize)]
    struct Tok {
        model: Model,
    }
    std::fs::read(dir.join("tokenizer.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Tok>(&b).ok())
        .map(|t| t.model.vocab.into_keys().filter(|w| keep(w)).collect())
        .unwrap_or_default()
}

/// Short forms defined in `text` as "long form (ACRONYM)": the acronym's
/// letters must be the initials of the words just before the parenthesis
/// (function words may be skipped, hyphenated words count as several).
pub fn mine_acronyms(text: &str) -> Vec<(String, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\(([A-Z][A-Za-z]{1,6}s?)\)").expect("valid regex"));
    let mut out = Vec::new();
    for cap in re.captures_iter(text) {
        let acro = &cap[1];
        let whole = cap.get(0).expect("match");
        if acro.chars().filter(|c| c.is_ascii_uppercase()).count() < 2 {
            continue;
        }
        let letters: Vec<char> = acro
            .trim_end_matches('s')
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        // The words before the parenthesis, back to the last clause break.
        let before = &text[..whole.start()];
        let clause = before
            .rfind(['.', ',', ';', ':', '(', ')', '\n', '"'])
            .map_or(before, |i| &before[i + 1..]);
        let ws: Vec<&str> = clause
            .split(|c: char| c.is_whitespace() || c == '-')
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(start) = match_initials(&ws, &letters) {
            let long = ws[start..].join(" ").to_lowercase();
            out.push((acro.trim_end_matches('s').to_lowercase(), long));
        }
    }
    out
}

/// Index of the first word of the long form whose initials spell `letters`,
/// matching backwards from the last word.
fn match_initials(ws: &[&str], letters: &[char]) -> Option<usize> {
    const SKIP: &[&str] = &[
        "of", "to", "from", "the", "and", "for", "in", "on", "a", "with", "by",
    ];
    let mut j = letters.len();
    let mut i = ws.len();
    while j > 0 {
        if i == 0 {
            return None;
        }
        i -= 1;
        let w = ws[i].to_lowercase();
        let first = w.chars().next()?;
        if first == letters[j - 1] {
            j -= 1;
        } else if !SKIP.contains(&w.as_str()) {
            return None;
        }
    }
    (letters.len() >= 2).then_some(i)
}

/// Understands `q` with `lex`, running `steps`.
pub fn understand(q: &str, lex: &Lexicon, steps: Steps) -> Understood {
    let mut u = Understood::verbatim(q);
    let mut text = q.to_string();
    if steps.framing {
        text = drop_framing(&text, &mut u.dropped);
    }
    // Word by word: corrections, then short forms.
    let mut out = String::with_capacity(text.len() + 32);
    let mut expansions: Vec<Expansion> = Vec::new();
    let mut last = 0;
    for (start, word) in word_spans(&text) {
        out.push_str(&text[last..start]);
        last = start + word.len();
        let lower = word.to_lowercase();
        let fixed = if steps.typos {
            lex.correct(&lower)
        } else {
            None
        };
        let used = match fixed {
            Some(to) => {
                u.corrections.push(Correction {
                    from: word.to_string(),
                    to: to.clone(),
                });
                out.push_str(&to);
                to
            }
            None => {
                out.push_str(word);
                lower
            }
        };
        if steps.aliases
            && lex.worth_expanding(&used)
            && let Some(long) = lex.alias(&used)
            && !long.split([' ', '-']).any(|w| w == used)
            && !expansions.iter().any(|e| e.short == used)
        {
            expansions.push(Expansion {
                short: used.clone(),
                long: long.to_string(),
            });
        }
    }
    out.push_str(&text[last..]);
    if steps.typos {
        out = join_compounds(&out, lex, &mut u.corrections);
    }
    if steps.aliases {
        for (variant, term) in lex.synonyms_in(&out) {
            // The whole name wins over a short form inside it: "vector db"
            // is a vector database, not "vector" and a "database".
            expansions.retain(|e| !variant.split(' ').any(|w| w == e.short));
            if !expansions
                .iter()
                .any(|e| e.short == variant || e.long == term)
            {
                expansions.push(Expansion {
                    short: variant,
                    long: term,
                });
            }
        }
    }
    let mut searched = out.trim().to_string();
    for e in &expansions {
        searched.push_str(" (");
        searched.push_str(&e.long);
        searched.push(')');
    }
    u.expansions = expansions;
    if searched.trim().is_empty() {
        searched = q.to_string();
    }
    u.searched = searched;
    u
}

/// `s` with each pair of neighbouring words that the notes write as one
/// word ([`Lexicon::joins`]) joined, each join recorded in `corrections`.
/// Only words one space or hyphen apart are joined: "we're" is no pair.
fn join_compounds(s: &str, lex: &Lexicon, corrections: &mut Vec<Correction>) -> String {
    let spans = word_spans(s);
    let mut out = String::with_capacity(s.len());
    let (mut last, mut i) = (0, 0);
    while i < spans.len() {
        let (start, a) = spans[i];
        if let Some(&(next, b)) = spans.get(i + 1)
            && matches!(&s[start + a.len()..next], " " | "-")
            && lex.joins(&a.to_lowercase(), &b.to_lowercase())
        {
            let joined = format!("{a}{b}").to_lowercase();
            out.push_str(&s[last..start]);
            out.push_str(&joined);
            corrections.push(Correction {
                from: s[start..next + b.len()].to_string(),
                to: joined,
            });
            last = next + b.len();
            i += 2;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    out
}

/// Byte offsets and text of the alphanumeric words of `s`.
fn word_spans(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(b)) => {
                out.push((b, &s[b..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(b) = start {
        out.push((b, &s[b..]));
    }
    out
}

/// Removes framing phrases and meta words from `q`, as long as a content word
/// remains; what was removed is pushed to `dropped`.
fn drop_framing(q: &str, dropped: &mut Vec<String>) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        let alts: Vec<String> = FRAMING.iter().map(|p| format!("(?:{p})")).collect();
        Regex::new(&format!(r"(?i)\b(?:{})\b", alts.join("|"))).expect("valid regex")
    });
    let norm = q.replace(['’', '‘'], "'");
    let mut removed: Vec<String> = Vec::new();
    let mut kept = re
        .replace_all(&norm, |c: &regex::Captures| {
            // Part of a hyphenated word is not a phrase of its own: "to a
            // non-technical interviewer" keeps its "technical".
            let m = c.get(0).expect("the whole match");
            if norm[..m.start()].ends_with('-') || norm[m.end()..].starts_with('-') {
                return c[0].to_string();
            }
            removed.push(c[0].trim().to_string());
            " ".to_string()
        })
        .to_string();
    let meta: HashSet<&str> = META_WORDS.iter().copied().collect();
    let rest: Vec<(usize, &str)> = word_spans(&kept);
    let is_meta = |w: &str| meta.contains(w.to_lowercase().as_str());
    let content_left = rest
        .iter()
        .filter(|(_, w)| !is_meta(w) && !crate::retrieval::abstain::is_stopword(&w.to_lowercase()))
        .count();
    if content_left == 0 {
        // Framing only ("how should I answer?"): search what was typed.
        return q.to_string();
    }
    if rest.iter().any(|(_, w)| is_meta(w)) {
        let mut s = String::with_capacity(kept.len());
        let mut last = 0;
        for (start, w) in &rest {
            s.push_str(&kept[last..*start]);
            last = start + w.len();
            if is_meta(w) {
                removed.push(w.to_string());
            } else {
                s.push_str(w);
            }
        }
        s.push_str(&kept[last..]);
        kept = s;
    }
    let tidy = if removed.is_empty() {
        kept.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        tidy_after_removal(&kept)
    };
    dropped.extend(removed);
    tidy
}

/// What removing framing leaves behind, tidied: quote marks around the
/// question that was quoted ("how do I answer \"why not X\""), tokens of
/// punctuation alone ("interview: ..." leaves ":") and separators at either
/// end ("when would I use X, what's a strong answer" leaves "X,").
fn tidy_after_removal(s: &str) -> String {
    let words: Vec<&str> = s
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    words
        .join(" ")
        .trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '-') || c.is_whitespace())
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_question_asks_for_intuition_in_so_many_words() {
        for q in [
            "underfit overfit tradeoff intuition",
            "explain attention like I’m five",
            "underfitting vs overfitting in plain words",
            "how do i explain it to a non-technical interviewer without jargon",
            "ELI5 kv cache",
        ] {
            assert!(super::asks_for_intuition(q), "{q}");
        }
        for q in [
            "why divide by sqrt dk",
            "what is the intuitionistic logic",
            "explain gpt-style vs t5-style models",
        ] {
            assert!(!super::asks_for_intuition(q), "{q}");
        }
    }

    use super::*;

    fn note(id: &str, body: &str) -> NoteRecord {
        NoteRecord {
            id: id.into(),
            question_id: Some(id.into()),
            section: None,
            title: "A question".into(),
            tags: vec!["precision".into()],
            related: vec![],
            path: format!("corpus/{id}.md"),
            body: body.into(),
            title_hash: String::new(),
            format: None,
        }
    }

    fn lex() -> Lexicon {
        let mut l = Lexicon::build(
            &[
                note(
                    "q01",
                    "Grouped-query attention (GQA) shares keys. Time to first token (TTFT) \
                     measures prefill. Precision and recall trade off. Vanishing gradients.",
                ),
                note(
                    "q02",
                    "Precision again, and recall, with data leakage and gradients.",
                ),
            ],
            None,
        );
        l.english = ["marathon", "boil", "egg"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        l
    }

    #[test]
    fn a_typo_keeps_its_first_letter_and_formula_markup_is_no_word() {
        let l = Lexicon::build(
            &[note(
                "q01",
                "A mini batch of size $B$ has norm $\\lVert w \\rVert^2$; recall the precision.",
            )],
            None,
        );
        // One letter from "mini", but a typo rarely changes the first letter.
        assert_eq!(l.correct("gini"), None);
        assert_eq!(l.correct("nini"), None);
        // A swap of the first two letters is still a typo.
        assert_eq!(l.correct("rceall").as_deref(), Some("recall"));
        assert_eq!(l.correct("precison").as_deref(), Some("precision"));
        // `\rVert` is markup: "revert" is not "corrected" to it.
        assert!(!l.knows("rvert") && !l.knows("lvert"));
        assert_eq!(l.correct("revert"), None);
    }

    #[test]
    fn acronyms_are_mined_from_their_definitions() {
        let m = mine_acronyms(
            "We use grouped-query attention (GQA) and reinforcement learning from human \
             feedback (RLHF); but not this (Note) or a (XY) here.",
        );
        assert!(m.contains(&("gqa".into(), "grouped query attention".into())));
        assert!(m.contains(&(
            "rlhf".into(),
            "reinforcement learning from human feedback".into()
        )));
        assert_eq!(m.len(), 2, "{m:?}");
    }

    #[test]
    fn framing_inside_a_hyphenated_word_stays() {
        let mut dropped = Vec::new();
        let kept = drop_framing(
            "how do i explain overfitting to a non-technical interviewer",
            &mut dropped,
        );
        assert_eq!(kept, "overfitting to a non-technical");
        assert_eq!(dropped, ["how do i explain", "interviewer"]);
    }

    #[test]
    fn framing_is_dropped_but_content_stays() {
        let l = lex();
        let u = understand(
            "if an interviewer asks about data leakage how should I answer",
            &l,
            Steps::default(),
        );
        assert_eq!(u.searched, "data leakage");
        assert!(!u.dropped.is_empty());
        let u = understand(
            "the interviewer asked me about TTFT and I froze",
            &l,
            Steps::default(),
        );
        assert!(u.searched.starts_with("TTFT"), "{}", u.searched);
        // Framing after the topic leaves no dangling "to an".
        let u = understand(
            "how do I explain data leakage to an interviewer",
            &l,
            Steps::default(),
        );
        assert_eq!(u.searched, "data leakage");
        // A bare "interviewer" with its verb, a heading such as "interview:",
        // quotes and separators go too; a determiner does not dangle.
        for (typed, searched) in [
            (
                "interviewer asked why you shouldn't train on test data",
                "why you shouldn't train on test data",
            ),
            (
                "interviewer wants three ways to cut data leakage",
                "three ways to cut data leakage",
            ),
            ("system design interview: data leakage", "data leakage"),
            (
                "I have an interview tomorrow about data leakage",
                "about data leakage",
            ),
            (
                "I've got a technical interview on Friday and they'll ask about data leakage",
                "they'll ask about data leakage",
            ),
            (
                "how do I answer \"what is data leakage\"",
                "what is data leakage",
            ),
            (
                "interviewer asked about data leakage, what's a strong answer",
                "data leakage",
            ),
            // Other askers, "they" in an interview, "if asked", the onsite.
            (
                "in my interview they asked about data leakage",
                "data leakage",
            ),
            (
                "the hiring manager grilled me on data leakage",
                "data leakage",
            ),
            (
                "during the onsite the panel asked about data leakage",
                "data leakage",
            ),
            (
                "how would you respond if asked about data leakage",
                "data leakage",
            ),
            // What interviewers want, "how to answer", a round named by its
            // kind, "they asked" alone.
            (
                "what do interviewers want to hear about data leakage",
                "data leakage",
            ),
            (
                "how to answer when data leakage matters",
                "when data leakage matters",
            ),
            (
                "in a behavioural round they asked what data leakage is",
                "what data leakage is",
            ),
            (
                "what to say when asked why data leakage is subtle",
                "why data leakage is subtle",
            ),
        ] {
            assert_eq!(
                understand(typed, &l, Steps::default()).searched,
                searched,
                "{typed}"
            );
        }
        // Only framing: searched as typed.
        let u = understand("how should I answer", &l, Steps::default());
        assert_eq!(u.searched, "how should I answer");
        assert!(u.dropped.is_empty());
    }

    #[test]
    fn typos_are_corrected_to_notes_words_but_english_words_are_not() {
        let l = lex();
        let u = understand("precison recal", &l, Steps::default());
        assert_eq!(u.searched, "precision recall");
        assert_eq!(u.corrections.len(), 2);
        let u = understand("vanishing gradiants", &l, Steps::default());
        assert_eq!(u.searched, "vanishing gradients");
        // A real word the notes do not use stays as typed.
        let u = understand("marathon", &l, Steps::default());
        assert_eq!(u.searched, "marathon");
        assert!(u.corrections.is_empty());
        // Two notes words run together are split where the notes write them
        // side by side, and only there.
        let u = understand("vanishinggradients tradeoff", &l, Steps::default());
        assert_eq!(u.searched, "vanishing gradients trade off");
        assert_eq!(u.corrections.len(), 2);
        assert_eq!(l.correct("gradientsvanishing"), None);
        assert_eq!(l.correct("dataleakage").as_deref(), Some("data leakage"));
    }

    #[test]
    fn two_words_the_notes_write_as_one_are_joined() {
        let l = Lexicon::build(
            &[
                note(
                    "q01",
                    "LayerNorm normalises each token; the layer norm is tiny.",
                ),
                note("q02", "A LayerNorm again. Batch statistics. We're done."),
                note(
                    "q03",
                    "The gradient norm per layer. Trade off, and trade off.",
                ),
            ],
            None,
        );
        let u = understand("what does layer norm do", &l, Steps::default());
        assert_eq!(u.searched, "what does layernorm do");
        assert_eq!(u.corrections[0].from, "layer norm");
        assert_eq!(u.corrections[0].to, "layernorm");
        let u = understand("layer-norm vs batch norm", &l, Steps::default());
        assert_eq!(u.searched, "layernorm vs batch norm");
        // Written apart in as many notes as joined, or with a stopword, or
        // across an apostrophe: left alone.
        assert!(!l.joins("trade", "off") && !l.joins("we", "re"));
        let u = understand("we're done", &l, Steps::default());
        assert_eq!(u.searched, "we're done");
        let u = understand(
            "layer norm",
            &l,
            Steps {
                typos: false,
                ..Steps::default()
            },
        );
        assert_eq!(u.searched, "layer norm");
    }

    #[test]
    fn short_forms_expand_once() {
        let l = lex();
        let u = understand("what is gqa vs GQA", &l, Steps::default());
        assert_eq!(u.expansions.len(), 1);
        assert!(
            u.searched.ends_with("(grouped query attention)"),
            "{}",
            u.searched
        );
        let u = understand("what is gqa", &l, Steps::NONE);
        assert_eq!(u.searched, "what is gqa");
        assert!(!u.changed());
    }

    #[test]
    fn a_glossary_long_form_is_kept_only_in_the_notes_own_words() {
        let l = Lexicon::build(
            &[note(
                "q1",
                "Hidden layers of multilayer perceptrons; the Malkov graph model; normalization.",
            )],
            None,
        );
        // "markov" is one letter from the notes' "malkov", a different word.
        assert_eq!(l.alias("hmm"), None);
        // A plural the notes use is the same word.
        assert_eq!(l.alias("mlp"), Some("multilayer perceptrons"));
    }

    #[test]
    fn a_term_of_the_field_is_not_a_typo() {
        let l = Lexicon::build(
            &[note("q1", "The service fails; it never fails twice.")],
            None,
        );
        // "faiss" is one letter from "fails", and a glossary short form.
        assert_eq!(l.correct("faiss"), None);
        assert_eq!(l.correct("failz").as_deref(), Some("fails"));
        // A word derived from a notes word is no typo of it, and a
        // contraction's piece is no word to correct to.
        let l = Lexicon::build(
            &[note("q1", "The variation doesn't grow; it doesn't.")],
            None,
        );
        assert_eq!(l.correct("variational"), None);
        assert_eq!(l.correct("variatoin").as_deref(), Some("variation"));
        assert_eq!(l.correct("doesnt"), None);
    }

    #[test]
    fn another_name_adds_the_notes_term_when_the_notes_prefer_it() {
        let notes = [
            note(
                "q1",
                "An LLM answers; the LLM cost grows with GPT-4 prompts.",
            ),
            note("q2", "Serve the LLM behind a vector database."),
            note("q3", "A vector database keeps vectors, as Pinecone does."),
            note("q4", "Pinecone and pgvector store vectors."),
        ];
        let l = Lexicon::build(&notes, None);
        // A product name for what the notes call an LLM.
        let u = understand("when not to use chatgpt", &l, Steps::default());
        assert_eq!(u.searched, "when not to use chatgpt (llm)");
        assert_eq!(u.expansions[0].short, "chatgpt");
        // Two words of one name; the short form inside it is not expanded
        // on its own ("db" would add "database").
        let u = understand("which vector db", &l, Steps::default());
        assert_eq!(u.searched, "which vector db (vector database)");
        assert_eq!(u.expansions.len(), 1);
        // Any inflection of the name, shown as typed.
        let u = understand("when not to use language models", &l, Steps::default());
        assert_eq!(u.searched, "when not to use language models (llm)");
        assert_eq!(u.expansions[0].short, "language models");
        // The term is already there: nothing to add.
        let u = understand("chatgpt is an llm", &l, Steps::default());
        assert!(u.expansions.is_empty(), "{u:?}");
        // A name the notes use at least as often as the term stays as typed
        // ("pinecone" and "vector database": two notes each).
        assert!(
            l.synonyms_in("pinecone vs weaviate")
                .iter()
                .all(|(v, _)| v != "pinecone")
        );
        // Switched off with the other alias steps.
        let u = understand("when not to use chatgpt", &l, Steps::NONE);
        assert!(!u.changed());
    }

    #[test]
    fn every_synonym_line_is_one_lowercase_pair() {
        for line in SYNONYMS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (variant, term) = line.split_once('\t').expect("a tab");
            assert!(!term.contains('\t'), "{line}");
            for side in [variant, term] {
                assert_eq!(side, side.to_lowercase(), "{line}");
                assert_eq!(side, side.trim(), "{line}");
                assert!(!side.is_empty(), "{line}");
            }
        }
    }

    #[test]
    fn an_inflected_word_is_corrected_only_to_a_form_of_itself() {
        let mut l = Lexicon::build(
            &[note(
                "q01",
                "The team talked about overfitting: the model can overfit. It parallelizes.",
            )],
            None,
        );
        l.english = ["tank"].iter().map(|s| s.to_string()).collect();
        // "tanked" is "tank" + "ed", one edit from the notes' "talked".
        assert_eq!(l.correct("tanked").as_deref(), None);
        // "overfiting" inflects the notes' "overfit": corrected to its form.
        assert_eq!(l.correct("overfiting").as_deref(), Some("overfitting"));
        // A typo that is no inflection is corrected as before.
        assert_eq!(l.correct("talkde").as_deref(), Some("talked"));
        // A notes word with an ending added is that word, not a typo of it.
        assert_eq!(l.correct("teams").as_deref(), None);
        assert_eq!(l.correct("overfits").as_deref(), None);
        // Nor is a word the notes only use inflected.
        assert_eq!(l.correct("parallelize").as_deref(), None);
        assert_eq!(l.correct("paralelizes").as_deref(), Some("parallelizes"));
    }

    #[test]
    fn a_word_of_the_english_word_list_is_not_corrected() {
        let notes = [note("q01", "Requests share a pool; a chain of calls.")];
        // Without a list, "shard" is one letter from the notes' "share".
        assert_eq!(
            Lexicon::build(&notes, None).correct("shard").as_deref(),
            Some("share")
        );
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("en.txt");
        std::fs::write(&list, "pool\nshard\n").unwrap();
        let l = Lexicon::build(&notes, None).with_dictionary(list);
        assert_eq!(l.correct("shard"), None);
        // "sharding" inflects a listed word: not corrected to "sharing".
        assert_eq!(l.correct("sharding"), None);
        // A word not on the list is still a typo.
        assert_eq!(l.correct("chian").as_deref(), Some("chain"));
        // A missing list adds no word.
        let l = Lexicon::build(&notes, None).with_dictionary(dir.path().join("none.txt"));
        assert_eq!(l.correct("shard").as_deref(), Some("share"));
    }

    #[test]
    fn a_term_counts_the_notes_using_any_of_its_forms_in_prose() {
        let l = Lexicon::build(
            &[
                note(
                    "q01",
                    "Keep the principal components; one component suffices.",
                ),
                note("q02", "A component of the loss, $A \\cup B$."),
                note("q03", "Nothing here."),
            ],
            None,
        );
        let component = crate::index::lexical::analyze("components").remove(0);
        assert_eq!(l.notes_using(&component), 2);
        // `\cup` is TeX, not the word "cup".
        assert_eq!(l.notes_using("cup"), 0);
        assert_eq!(l.notes_using("cricket"), 0);
    }

    #[test]
    fn a_word_spelled_the_other_way_takes_the_notes_spelling() {
        let l = Lexicon::build(
            &[note(
                "q01",
                "Summarise, then analyse the behaviour of labelled data; modeling at the centre.",
            )],
            None,
        )
        .with_dictionary(std::path::PathBuf::from("/nonexistent"));
        assert_eq!(l.correct("summarize").as_deref(), Some("summarise"));
        assert_eq!(l.correct("analyze").as_deref(), Some("analyse"));
        assert_eq!(l.correct("behavior").as_deref(), Some("behaviour"));
        assert_eq!(l.correct("labeled").as_deref(), Some("labelled"));
        assert_eq!(l.correct("modelling").as_deref(), Some("modeling"));
        assert_eq!(l.correct("center").as_deref(), Some("centre"));
        // Words the notes use, or with no other spelling in the notes, stay.
        assert_eq!(l.correct("summarise"), None);
        assert_eq!(l.correct("then"), None);
        let l = Lexicon::build(&[note("q01", "The form was filed.")], None)
            .with_dictionary(std::path::PathBuf::from("/nonexistent"));
        assert_eq!(l.other_spelling("filled"), None);
    }

    #[test]
    fn a_short_form_the_notes_prefer_is_not_expanded() {
        // Two notes say LSTM, one spells out long short-term memory: the
        // short form already finds both. GQA is spelled out wherever it is
        // used: its long form adds evidence.
        let l = Lexicon::build(
            &[
                note(
                    "q01",
                    "A long short-term memory (LSTM) gates its cell. Grouped-query attention (GQA).",
                ),
                note("q02", "The LSTM forget gate keeps gradients alive."),
            ],
            None,
        );
        assert!(!l.worth_expanding("lstm"));
        assert!(l.worth_expanding("gqa"));
        let u = understand("lstm cell state", &l, Steps::default());
        assert!(u.expansions.is_empty(), "{:?}", u.expansions);
    }

    #[test]
    fn every_glossary_line_is_one_lowercase_entry_and_no_short_form_repeats() {
        let mut seen = HashSet::new();
        for line in GLOSSARY.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (short, long) = line.split_once('\t').expect("short<TAB>long");
            assert!(!long.contains('\t') && !long.is_empty(), "{line:?}");
            assert_eq!(line, line.to_lowercase(), "{line:?}");
            assert!(!short.contains(' '), "one word: {short:?}");
            assert!(seen.insert(short), "repeated: {short:?}");
        }
        assert_eq!(seen.len(), glossary().count());
        assert!(seen.len() > 300);
    }
}
