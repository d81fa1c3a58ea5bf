//! Sentence cutting: the prose sentences of a passage that can stand as key
//! points, cut once when the index is built ([`passage_sentences`]) and
//! embedded with the passages (see [`crate::retrieval::keypoints`] for how
//! they are chosen per question).
//!
//! Prose only: no headings, tables, code, display math, reference lists or
//! worked-out arithmetic such as `36 + 84 = 120`; no fragments that lean on
//! the sentence before them, and no quoted claim on its own (the notes' trap
//! lists quote wrong answers): a claim comes only with its rebuttal, and a
//! listed question with its answer.

/// Words a candidate sentence must have, at least and at most.
const MIN_WORDS: usize = 6;
const MAX_WORDS: usize = 60;
/// Sentences considered per passage (the first ones), to bound embedding work.
const PER_PASSAGE: usize = 20;

/// Abbreviations after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g.", "i.e.", "et al.", "vs.", "etc.", "cf.", "approx.", "Fig.", "Eq.", "No.",
];

/// Candidate key-point sentences of a passage, in order: its prose
/// sentences that read on their own; each quoted claim of a trap list
/// together with the start of its rebuttal ([`claim_and_rebuttal`]); a
/// sentence that leans on the one before it ("It wins when ...", "So any
/// blocking call ...") together with that one, and a sentence too short to
/// stand alone ("Retries multiply offered load.") together with the one
/// after it ([`joined`]); a sentence that introduces a short display formula
/// ("The sample size per arm is:") with the formula, as inline math.
pub fn sentences(text: &str) -> Vec<String> {
    let paragraphs = prose_paragraphs(text);
    let mut out: Vec<String> = Vec::new();
    // The sentence that introduces the list being read ("Accuracy is
    // misleading in five situations:"), if any.
    let mut lead: Option<String> = None;
    for (i, p) in paragraphs.iter().enumerate() {
        if short_display_math(&p.text).is_some() {
            continue;
        }
        let plain = p.text.replace("**", "");
        let mut sents = split_sentences(if p.item {
            strip_follow_up_label(&plain)
        } else {
            &plain
        });
        if let (Some(last), Some(math)) = (
            sents.last_mut(),
            paragraphs
                .get(i + 1)
                .and_then(|n| short_display_math(&n.text)),
        ) && last.ends_with(':')
        {
            *last = format!("{last} ${math}$");
        }
        if !p.item {
            lead = sents.last().filter(|l| l.ends_with(':')).cloned();
        }
        // A quoted question's answer, like an unquoted one's, also stays a
        // candidate alone when it reads on its own ([`question_and_answer`]);
        // a quoted claim's rebuttal does not ("No. Clipping only caps ...").
        let asks = |c: &str| c.ends_with("?\"") || c.ends_with("?”");
        let (pair, used) = claim_and_rebuttal(&sents)
            .map(|(pair, used)| (pair, if asks(&sents[0]) { 1 } else { used }))
            .or_else(|| p.item.then(|| question_and_answer(&sents)).flatten())
            .map_or((None, 0), |(p, u)| (Some(p), u));
        out.extend(pair);
        let rest = &sents[used..];
        for (j, s) in rest.iter().enumerate() {
            // Not an item that introduces a formula itself ("... is: $n = ...$").
            let with_lead =
                (p.item && j == 0 && used == 0 && !p.text.starts_with("**") && !s.contains(": $"))
                    .then(|| lead.as_deref().map(|l| item_with_lead(l, s)))
                    .flatten()
                    .filter(|w| stands_alone(w));
            if let Some(w) = with_lead {
                out.push(w);
            } else if stands_alone(s) {
                out.push(s.clone());
            } else if let Some(j) = joined(rest, j) {
                out.push(j);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

/// A list item's first sentence after the sentence that introduces the
/// list: out of its list, "Class prevalence in production differs from the
/// test set." says nothing about accuracy; "Accuracy is misleading in five
/// situations: class prevalence in production differs from the test set."
/// does. The item's first word loses its capital unless it is a name or an
/// acronym ("PSI", "vLLM"), and an item that ends the list's sentence with
/// ";" or "," ends with a period.
fn item_with_lead(lead: &str, item: &str) -> String {
    let mut words = item.splitn(2, ' ');
    let first = words.next().unwrap_or("");
    let rest = words.next();
    let mut chars = first.chars();
    let plain_capital = chars.next().is_some_and(char::is_uppercase)
        && chars.clone().count() > 0
        && chars.all(|c| c.is_lowercase() || !c.is_alphabetic());
    let first = if plain_capital {
        let mut c = first.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect::<String>())
            .unwrap_or_default()
    } else {
        first.to_string()
    };
    let item = match rest {
        Some(r) => format!("{first} {r}"),
        None => first,
    };
    let item = match item.strip_suffix([';', ',']) {
        Some(body) => format!("{body}."),
        None => item,
    };
    format!("{lead} {item}")
}

/// Words of a sentence.
fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Words of a sentence without its citations, the parentheses that hold a
/// year: what it says ("Speculative decoding (Leviathan et al. 2023)." says
/// two words; an aside such as "(k1 = 0 makes matching binary)" counts).
fn words_said(s: &str) -> usize {
    static CITATION: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = CITATION.get_or_init(|| {
        regex::Regex::new(r"\([^()]*\b(?:1[89]|20)\d\d[a-z]?\b[^()]*\)").expect("valid regex")
    });
    words(&re.replace_all(s, " "))
}

/// Prose that may be part of a key point: no display math, no worked-out
/// arithmetic, not a lead-in to a list or formula.
fn is_prose(s: &str) -> bool {
    !s.ends_with(':') && !s.contains("$$") && !is_arithmetic(&outside_math(s))
}

/// Sentence `j` of `sents` joined to a neighbour when it cannot stand alone
/// but reads with it: a sentence that leans on context comes after the one
/// before it (if that one does not lean in turn), and a short sentence that
/// does not lean comes before the one after it (if that one does not lean:
/// else it comes with the first rule). `None` when no such pair is prose of
/// key-point length.
fn joined(sents: &[String], j: usize) -> Option<String> {
    let s = &sents[j];
    if !is_prose(s) || quotes_a_claim(s) {
        return None;
    }
    let leads = |t: &String| is_prose(t) && !leans_on_context(t) && !quotes_a_claim(t);
    let pair = if leans_on_context(s) {
        let prev = sents.get(j.checked_sub(1)?)?;
        leads(prev).then(|| format!("{prev} {s}"))?
    } else if words_said(s) < MIN_WORDS {
        let next = sents.get(j + 1)?;
        (leads(s) && leads(next)).then(|| format!("{s} {next}"))?
    } else {
        return None;
    };
    (MIN_WORDS..=MAX_WORDS)
        .contains(&words(&pair))
        .then_some(pair)
}

/// The formula of a one-line display (`$$ ... $$`) short enough to follow
/// its lead-in sentence as inline math.
fn short_display_math(p: &str) -> Option<&str> {
    const MAX_CHARS: usize = 120;
    let inner = p.trim().strip_prefix("$$")?.strip_suffix("$$")?.trim();
    (!inner.is_empty() && inner.len() <= MAX_CHARS && !inner.contains('$')).then_some(inner)
}

/// A prose sentence that can be a key point by itself.
fn stands_alone(s: &str) -> bool {
    (MIN_WORDS..=MAX_WORDS).contains(&words(s))
        && words_said(s) >= MIN_WORDS
        && !s.ends_with('?')
        && is_prose(s)
        && !leans_on_context(after_quote(s))
        && !quotes_a_claim(s)
}

/// The part of a sentence after a quoted phrase it opens with (`"Wrap it in
/// run_in_executor" fixes the loop ...` gives `fixes the loop ...`), or the
/// whole sentence.
fn after_quote(s: &str) -> &str {
    for (open, close) in [('"', '"'), ('“', '”')] {
        if let Some(rest) = s.strip_prefix(open)
            && let Some(end) = rest.find(close)
        {
            return rest[end + close.len_utf8()..]
                .trim_start_matches(|c: char| c == ':' || c == ',' || c.is_whitespace());
        }
    }
    s
}

/// True for a whole sentence in quote marks.
fn is_quoted(s: &str) -> bool {
    (s.starts_with('"') && s.ends_with('"')) || (s.starts_with('“') && s.ends_with('”'))
}

/// True when a key point reads without the text around it: judged by its
/// first sentence (the others of a joined candidate lean on it), or by the
/// quoted claim a trap pair opens with, or by what follows a quoted phrase
/// the sentence opens with.
pub fn reads_on_its_own(s: &str) -> bool {
    let sents = split_sentences(s);
    match sents.first() {
        Some(claim) if sents.len() > 1 && is_quoted(claim) => !leans_on_context(claim),
        Some(first) => !leans_on_context(after_quote(first)),
        None => false,
    }
}

/// True when a candidate sentence has the shape of a statement a reader can
/// take in alone, as a key point: it starts a sentence (not with a
/// lower-case word left over from a formula or a numbered list: "with ε a
/// small constant"), ends one (not at ";", "," or ":", nor where a display
/// formula was cut off: "... the effective per-step success becomes"), and
/// does not set up an example ("Suppose a detector stops 99% ...",
/// "Example: a churn model scored ..."). Assessors judged every sentence
/// of these shapes among the key points shown at 6b204dc not to read on its
/// own (BENCHMARKS.md, fourteenth round; "Say ..." and "Consider ..." are
/// left out: in the notes they open advice more often than an example). Such sentences stay candidates for the sentence-level evidence
/// (`sentence_cosine`, the closest question's nearest sentence); they are
/// not shown as key points.
pub fn has_statement_shape(s: &str) -> bool {
    const SETUPS: &[&str] = &["suppose", "imagine", "example", "assume", "picture"];
    let s = s.trim();
    let first = s.split_whitespace().next().unwrap_or("");
    let lower_start = first.chars().next().is_some_and(|c| c.is_lowercase())
        && first
            .chars()
            .all(|c| c.is_lowercase() || c == ',' || c == '\'');
    let ends = s.ends_with(['.', '!', '?', '"', '”', ')', '$']);
    let setup = SETUPS.contains(
        &first
            .trim_end_matches([',', ':', '.'])
            .to_lowercase()
            .as_str(),
    );
    !s.is_empty() && !lower_start && ends && !setup
}

/// The notes' trap lists quote a wrong claim or an interviewer's follow-up/// The notes' trap lists quote a wrong claim or an interviewer's follow-up
/// and answer it in the same item: `"Clipping fixes vanishing gradients." No.
/// Clipping only caps large norms ...`. Apart, neither half is a key point
/// (the claim is wrong, the rebuttal opens with "No." or "It does not"), but
/// together they read on their own and answer the follow-up a candidate is
/// most likely to type. Returns the claim with the first rebuttal sentence
/// (and the second when the first is a bare verdict such as "Only half
/// right."), verbatim, and how many sentences of `sents` that used; `None`
/// unless `sents` opens with a whole quoted sentence and the pair is prose
/// of key-point length.
fn claim_and_rebuttal(sents: &[String]) -> Option<(String, usize)> {
    let claim = sents.first()?;
    if !is_quoted(claim) || leans_on_context(claim) || sents.len() < 2 {
        return None;
    }
    let used = reply_end(sents);
    let pair = sents[..used].join(" ");
    let prose = sents[1..used].iter().all(|s| is_reply_prose(s));
    ((MIN_WORDS..=MAX_WORDS).contains(&words(&pair)) && prose).then_some((pair, used))
}

/// Where the reply to `sents[0]` (a rebuttal or an answer) ends: after its
/// first sentence, or after its second when the first is a bare verdict
/// ("No.", "Only half right.") and the reason follows. `sents` has at least
/// two sentences.
fn reply_end(sents: &[String]) -> usize {
    /// A first reply sentence this short is a verdict; the reason follows.
    const VERDICT_WORDS: usize = 5;
    if words(&sents[1]) <= VERDICT_WORDS && sents.len() > 2 {
        3
    } else {
        2
    }
}

/// A reply sentence that may be part of a key point: no display math, no
/// worked-out arithmetic, not a lead-in to a list or formula.
fn is_reply_prose(s: &str) -> bool {
    !s.contains("$$") && !is_arithmetic(&outside_math(s)) && !s.ends_with(':')
}

/// A list item's text without the "Follow-up:" label the notes put before
/// an interviewer's follow-up question (`Follow-up: "Why did industry
/// converge on decoder-only?" One simple stack ...`), so that the question
/// pairs with its answer ([`claim_and_rebuttal`], [`question_and_answer`]).
fn strip_follow_up_label(item: &str) -> &str {
    ["Follow-up:", "Follow-up question:"]
        .iter()
        .find_map(|l| item.strip_prefix(l))
        .map_or(item, str::trim_start)
}

/// A list item that asks a question and answers it (`How would you measure
/// variance directly? Bootstrap retraining.`, `Follow-up: why not a
/// cross-encoder instead? A reranker improves relevance order ...`): the
/// question with the first answer sentence (and the second when the first
/// is a bare verdict such as "Yes."), the question's first letter in upper
/// case. Apart, the question is not a statement and the answer leans on it
/// ("One simple stack and objective that trains on every token ..." says
/// what for only after "Why did industry converge on decoder-only?");
/// together they read on their own, and a candidate who types the question
/// finds its answer. Only the question counts as used: an answer that
/// reads on its own stays a candidate of its own too. `None` unless the
/// item opens with a question that reads on its own (not one after a label
/// such as "Depth:", nor one holding display math), an answer follows that
/// is prose, not another question and not a pointer to another note ("See
/// q08."), and the pair is of key-point length; a quoted question is
/// [`claim_and_rebuttal`]'s.
fn question_and_answer(sents: &[String]) -> Option<(String, usize)> {
    let question = sents.first()?;
    // "Depth: can you explain the mechanism behind your fix?" names what an
    // interviewer probes; what follows is about the probe, not an answer.
    if !question.ends_with('?')
        || is_quoted(question)
        || question.contains(": ")
        || question.contains("$$")
        || leans_on_context(question)
        || sents.len() < 2
    {
        return None;
    }
    let answer = &sents[1..reply_end(sents)];
    let pointer = answer[0].starts_with("See q") && words(&answer[0]) <= 3;
    let prose = answer
        .iter()
        .all(|s| is_reply_prose(s) && !s.ends_with('?'));
    let mut chars = question.chars();
    let first = chars.next()?;
    let pair = format!(
        "{}{} {}",
        first.to_uppercase(),
        chars.as_str(),
        answer.join(" ")
    );
    ((MIN_WORDS..=MAX_WORDS).contains(&words(&pair)) && prose && !pointer).then_some((pair, 1))
}

/// `s` without its inline math (`$...$`): inline math is rendered and may
/// hold a definition, but a worked-out equation in prose ("36 + 84 = 120")
/// is arithmetic, not a key point.
fn outside_math(s: &str) -> String {
    s.split('$').step_by(2).collect::<Vec<_>>().join(" ")
}

/// True when prose holds worked-out arithmetic: a number right before an
/// ` = ` ("36 + 84 = 120", "0.95^10 = 0.599"). A symbol being set or defined
/// ("k1 = 0 makes matching binary", "P(slow) = 1 - 0.99^n") is not.
fn is_arithmetic(prose: &str) -> bool {
    let words: Vec<&str> = prose.split_whitespace().collect();
    words.windows(2).any(|w| {
        w[1] == "="
            && w[0].chars().any(|c| c.is_ascii_digit())
            && w[0]
                .chars()
                .all(|c| c.is_ascii_digit() || ".,%^×x)(".contains(c))
    })
}

/// All prose sentences of a passage, in order (no headings, tables, code,
/// display math or reference lists; `**` removed).
pub fn split_prose(text: &str) -> Vec<String> {
    prose_paragraphs(text)
        .iter()
        .filter(|p| short_display_math(&p.text).is_none())
        .flat_map(|p| split_sentences(&p.text.replace("**", "")))
        .collect()
}

/// A prose paragraph of a passage.
struct Paragraph {
    /// Its text, with its `**` still in.
    text: String,
    /// True for a list item.
    item: bool,
}

/// The prose paragraphs of a passage, in order (a list item is a paragraph
/// of its own), with their `**` still in, and each short one-line display
/// formula (`$$ ... $$`) as a paragraph of its own.
fn prose_paragraphs(text: &str) -> Vec<Paragraph> {
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut cur = String::new();
    let mut item = false;
    let mut fence = crate::index::chunk::Fence::default();
    let flush = |cur: &mut String, item: bool, out: &mut Vec<Paragraph>| {
        if !cur.trim().is_empty() {
            out.push(Paragraph {
                text: std::mem::take(cur),
                item,
            });
        }
        cur.clear();
    };
    let mut references = false;
    for line in text.lines() {
        let t = line.trim();
        if fence.step(line) {
            flush(&mut cur, item, &mut paragraphs);
            // A one-line display formula is kept as a paragraph of its own,
            // for the lead-in sentence before it ([`sentences`]).
            if fence == crate::index::chunk::Fence::None && short_display_math(t).is_some() {
                paragraphs.push(Paragraph {
                    text: t.to_string(),
                    item: false,
                });
            }
            continue;
        }
        // A merged "## References" section: citations, not statements.
        if t.starts_with('#') {
            references = crate::index::chunk::is_reference_heading(t.trim_start_matches('#'));
        }
        if references {
            continue;
        }
        if t.is_empty() || t.starts_with('#') || t.starts_with('|') {
            flush(&mut cur, item, &mut paragraphs);
            continue;
        }
        // A list item starts its own paragraph.
        let body = strip_marker(t);
        if body.len() != t.len() {
            flush(&mut cur, item, &mut paragraphs);
            item = true;
        } else if cur.is_empty() {
            item = false;
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(body);
    }
    flush(&mut cur, item, &mut paragraphs);
    paragraphs
}

/// True for a sentence that opens by pointing back ("This ...", "So ...")
/// or leans on a pronoun or demonstrative early on ("Bruch et al. found
/// that it beats RRF", "Leakage is any path that breaks that order"): out
/// of its paragraph it reads as a fragment.
pub fn leans_on_context(s: &str) -> bool {
    const OPENERS: &[&str] = &[
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "so",
        "then",
        "here",
        "there",
        "which",
        "they",
        "their",
        "them",
        "such",
        "both",
        "either",
        "neither",
        "also",
        "but",
        "and",
        "thus",
        "hence",
        "otherwise",
        "instead",
        "again",
    ];
    /// Pronouns whose antecedent is outside the sentence when they come early.
    const EARLY: &[&str] = &[
        "it", "its", "they", "them", "their", "this", "these", "those",
    ];
    let words: Vec<String> = s
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    let Some(first) = words.first() else {
        return true;
    };
    // "There is/are ..." states that something exists; "There, ..." points back.
    let existential = first == "there"
        && words
            .get(1)
            .is_some_and(|w| matches!(w.as_str(), "is" | "are" | "was" | "were" | "has" | "have"));
    if OPENERS.contains(&first.as_str()) && !existential {
        return true;
    }
    // "that"/"this" + a noun used as a back-reference ("that order", "this
    // setting") anywhere, or a bare pronoun among the first five words.
    let back_ref = words.windows(2).any(|w| {
        matches!(w[0].as_str(), "that" | "this" | "these" | "those")
            && matches!(
                w[1].as_str(),
                "order"
                    | "case"
                    | "setting"
                    | "approach"
                    | "way"
                    | "step"
                    | "point"
                    | "one"
                    | "number"
                    | "rule"
                    | "trick"
                    | "effect"
                    | "problem"
                    | "result"
                    | "value"
            )
    });
    back_ref
        || words
            .iter()
            .take(5)
            .skip(1)
            .any(|w| EARLY.contains(&w.as_str()))
}

/// True for a sentence that quotes a claim ("Dropout always hurts." ...) or
/// a follow-up prompt: the notes' trap lists quote wrong answers, which must
/// not come back as key points.
fn quotes_a_claim(s: &str) -> bool {
    /// Words after an opening quote that make it the subject of a statement.
    const STATEMENT_WORDS: usize = 4;
    let opens_with_quote = s.starts_with('"') || s.starts_with('“');
    (opens_with_quote && (after_quote(s) == s || words(after_quote(s)) < STATEMENT_WORDS))
        || s.starts_with("Follow-up")
        || s.starts_with("Trap")
}

fn strip_marker(t: &str) -> &str {
    for m in ["- ", "* ", "+ "] {
        if let Some(rest) = t.strip_prefix(m) {
            return rest.trim_start();
        }
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") ")) {
        return t[digits + 2..].trim_start();
    }
    t
}

/// Splits at `.`, `?` or `!` followed by a space and an upper-case letter,
/// digit, quote or bracket, unless the period ends a known abbreviation.
fn split_sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let b: Vec<(usize, char)> = p.char_indices().collect();
    for i in 0..b.len() {
        let (pos, c) = b[i];
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        // A closing quote right after the mark belongs to the sentence it
        // ends: `"Use F1 everywhere." F1 ignores TN` is two sentences.
        let quote = b.get(i + 1).is_some_and(|&(_, n)| matches!(n, '"' | '”'));
        let skip = usize::from(quote);
        let next_space = b.get(i + 1 + skip).is_some_and(|&(_, n)| n == ' ');
        // After a quoted sentence anything starts a new one: `"GPU
        // utilisation is our efficiency metric." nvidia-smi ...`.
        let next_start = b.get(i + 2 + skip).is_some_and(|&(_, n)| {
            n.is_uppercase()
                || n.is_ascii_digit()
                || matches!(n, '"' | '(' | '“' | '`')
                || (quote && n.is_alphabetic())
        });
        if !(next_space && next_start) {
            continue;
        }
        let end = if quote {
            b[i + 1].0 + b[i + 1].1.len_utf8()
        } else {
            pos + c.len_utf8()
        };
        let candidate = &p[start..end];
        if ABBREVIATIONS.iter().any(|a| candidate.ends_with(a)) {
            continue;
        }
        out.push(candidate.trim().to_string());
        start = end;
    }
    let rest = p[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// The candidate sentences of one passage, as the index stores them (with
/// their vectors): its first prose sentences; none for a reference list,
/// which holds citations, not statements.
pub fn passage_sentences(heading: &[String], text: &str) -> Vec<String> {
    let refs = heading
        .last()
        .is_some_and(|h| h.to_lowercase().starts_with("references"));
    if refs {
        return Vec::new();
    }
    sentences(text).into_iter().take(PER_PASSAGE).collect()
}

/// The key under which a sentence's vector is cached between builds (apart
/// from passage hashes, which hash other text).
pub fn sentence_key(s: &str) -> String {
    crate::index::hash::hex(format!("sentence\0{s}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_question_comes_with_its_answer() {
        let text = "Traps:\n\
                    - Follow-up: \"Why did industry converge on decoder-only?\" One simple stack and \
                    objective that trains on every token.\n\
                    - Follow-up: why not a cross-encoder instead? A reranker improves relevance order \
                    and does nothing about redundancy.\n\
                    - Can sim be lexical? Yes. The paper allows a separate similarity for redundancy.\n\
                    - Which ensembling method reduces which term? See q08.\n\
                    - Depth: can you explain the mechanism behind your fix? Interviewers probe for it.\n\
                    - Why does CE relate to KL divergence? How is it derived?\n";
        let s = sentences(text);
        // Quoted or not, the question leads its answer; a verdict takes the
        // reason after it.
        assert!(s.contains(
            &"\"Why did industry converge on decoder-only?\" One simple stack and objective that \
              trains on every token."
                .to_string()
        ));
        assert!(s.contains(
            &"Why not a cross-encoder instead? A reranker improves relevance order and does nothing \
              about redundancy."
                .to_string()
        ));
        assert!(
            s.contains(
                &"Can sim be lexical? Yes. The paper allows a separate similarity for redundancy."
                    .to_string()
            )
        );
        // An answer that reads on its own stays a candidate alone as well.
        assert!(s.contains(
            &"A reranker improves relevance order and does nothing about redundancy.".to_string()
        ));
        // No pair with a pointer to another note, a labelled probe ("Depth:
        // ...?") or a second question as its answer.
        assert!(!s.iter().any(|c| c.contains("See q08")));
        assert_eq!(
            question_and_answer(&split_sentences(
                "Depth: can you explain the mechanism behind your fix? Interviewers probe for it."
            )),
            None
        );
        assert_eq!(
            question_and_answer(&split_sentences(
                "Why does CE relate to KL divergence? How is it derived?"
            )),
            None
        );
        assert!(!s.iter().any(|c| c.starts_with("Follow-up")));
    }

    #[test]
    fn a_list_item_comes_after_the_sentence_that_introduces_its_list() {
        let text = "Accuracy misleads a team in several distinct situations:\n\
                    - Class prevalence in production differs from the test set.\n\
                    - PSI drift on the inputs moves the metric without any model change;\n\
                    - **Label noise.** Annotators disagree on a tenth of the rows, which caps accuracy.\n";
        let s = sentences(text);
        assert!(s.contains(
            &"Accuracy misleads a team in several distinct situations: class prevalence in production \
              differs from the test set."
                .to_string()
        ));
        // An acronym keeps its capitals, and ";" ends the sentence.
        assert!(s.contains(
            &"Accuracy misleads a team in several distinct situations: PSI drift on the inputs moves \
              the metric without any model change."
                .to_string()
        ));
        // An item that opens with its own bold label keeps it.
        assert!(
            s.iter()
                .any(|x| x.starts_with("Label noise. Annotators disagree")),
            "{s:?}"
        );
        // Prose that does not end with ":" introduces no list.
        let s = sentences(
            "Caching is cheap and it helps latency a lot.\n- Cache keys must include the tenant id always.\n",
        );
        assert!(s.contains(&"Cache keys must include the tenant id always.".to_string()));
    }

    #[test]
    fn a_key_point_has_the_shape_of_a_statement() {
        assert!(has_statement_shape(
            "Dividing by the square root keeps the softmax from saturating."
        ));
        assert!(has_statement_shape("The loss is $L = -\\log p$"));
        assert!(has_statement_shape(
            "vLLM batches requests at every decode step."
        ));
        // Left over from a formula or a numbered list.
        assert!(!has_statement_shape(
            "with ε a small constant. Training updates the mean."
        ));
        // Ends where a list goes on or a display formula was cut.
        assert!(!has_statement_shape(
            "a cross-encoder reranker costs seconds per query;"
        ));
        assert!(!has_statement_shape(
            "the effective per-step success becomes"
        ));
        // Sets up an example; advice that opens with "Say" is kept.
        assert!(!has_statement_shape(
            "Suppose a detector stops 99% of attempts."
        ));
        assert!(!has_statement_shape(
            "Example: a churn model scored AUC 0.87 offline."
        ));
        assert!(has_statement_shape(
            "Say which dependency, and show the arithmetic."
        ));
        // A pointer back at two things named before.
        assert!(leans_on_context("Either is better than a silent crash."));
    }

    #[test]
    fn prose_only_and_no_fragments() {
        let text = "## Heading here that is long enough to count\n\
                    BM25 scores a document by summing term weights over the query terms. Saturation means, e.g. repeated \
                    terms help less and less with each repeat. This sentence leans on the one before it entirely.\n\n\
                    - A list item that is a complete sentence about inverse document frequency weighting.\n\
                    - Short item.\n\n\
                    - \"Dropout always hurts transformers.\" Not in general, and this quoted claim is a trap.\n\
                    ## References\n- Robertson and Zaragoza (2009), The Probabilistic Relevance Framework: BM25 and Beyond.\n\
                    ## Back to prose\n\
                    ```\nlet code = \"is not a sentence at all, even with many many words here\";\n```\n\
                    $$\nx = y + z and more tokens in a display formula block\n$$\n\
                    | table | row with enough words to be a sentence if we were careless |\n\
                    The key steps are as follows, with several words before the colon:\n";
        let s = sentences(text);
        assert_eq!(
            s,
            vec![
                "BM25 scores a document by summing term weights over the query terms.",
                "Saturation means, e.g. repeated terms help less and less with each repeat.",
                "Saturation means, e.g. repeated terms help less and less with each repeat. This sentence leans \
                 on the one before it entirely.",
                "A list item that is a complete sentence about inverse document frequency weighting.",
                "\"Dropout always hurts transformers.\" Not in general, and this quoted claim is a trap.",
            ]
        );
    }

    #[test]
    fn a_quoted_trap_comes_with_its_rebuttal() {
        let text = "- **\"Use F1 everywhere.\"** F1 ignores true negatives and weights precision and recall equally. \
                    Pick the metric from the costs of the two errors instead.\n\
                    - \"Clipping fixes vanishing gradients.\" No. Clipping only caps large norms; it does nothing for small ones. \
                    Residual paths and normalisation are the fix.\n\
                    - Follow-up: \"How do you resume after a crash?\" Checkpoint before and after side effects and make tools idempotent.\n\
                    - \"Dropout always hurts.\" No.";
        assert_eq!(
            sentences(text),
            vec![
                "\"Use F1 everywhere.\" F1 ignores true negatives and weights precision and recall equally.",
                "Pick the metric from the costs of the two errors instead.",
                "\"Clipping fixes vanishing gradients.\" No. Clipping only caps large norms; it does nothing for small ones.",
                "Residual paths and normalisation are the fix.",
                "\"How do you resume after a crash?\" Checkpoint before and after side effects and make tools idempotent.",
                "Checkpoint before and after side effects and make tools idempotent.",
            ]
        );
        // A claim that itself points back ("It ...") stays out, rebuttal and all.
        let text = "- \"It fixes each layer's input distribution.\" It fixes only the mean and variance over the batch.";
        assert!(sentences(text).is_empty());
        assert!(reads_on_its_own(
            "\"Speculative decoding lowers quality.\" It does not: it is exact in distribution."
        ));
        assert!(!reads_on_its_own(
            "It does not: it is exact in distribution."
        ));
    }

    #[test]
    fn a_sentence_that_cannot_stand_alone_comes_with_its_neighbour() {
        // Leaning on the sentence before; a lead that leans in turn is no lead.
        let text = "BM25 is a lexical ranking function over term statistics. It wins when the query carries \
                    rare tokens such as error codes. So it suits identifiers best of all here.";
        assert_eq!(
            sentences(text),
            vec![
                "BM25 is a lexical ranking function over term statistics.",
                "BM25 is a lexical ranking function over term statistics. It wins when the query carries rare \
                 tokens such as error codes.",
            ]
        );
        // Too short on its own: with the sentence after it.
        let text = "Retries multiply offered load. If each failed call is retried up to r times, a failing \
                    dependency sees that many more requests.";
        assert_eq!(
            sentences(text)[0],
            "Retries multiply offered load. If each failed call is retried up to r times, a failing dependency \
             sees that many more requests."
        );
        // A name and its citation say too little: with the sentence after it.
        let text = "- Speculative decoding (Leviathan et al. 2023). A small draft model proposes tokens that \
                    the target model checks in one pass.";
        assert_eq!(
            sentences(text),
            vec![
                "Speculative decoding (Leviathan et al. 2023). A small draft model proposes tokens that the \
                 target model checks in one pass.",
                "A small draft model proposes tokens that the target model checks in one pass.",
            ]
        );
        // "There is" states; it does not point back.
        assert!(!leans_on_context(
            "There is no established result that transformers hallucinate more."
        ));
        assert!(leans_on_context(
            "There the gradient vanishes before it reaches the first layer."
        ));
        // A joined candidate reads on its own by its first sentence.
        assert!(reads_on_its_own(
            "BM25 is a lexical ranking function. It wins when the query carries rare tokens."
        ));
    }

    #[test]
    fn a_lead_in_takes_its_short_formula_and_a_quoted_phrase_can_be_a_subject() {
        let text = "The sample size per arm for the canary comparison is:\n\n$$ n = 2 (z_a + z_b)^2 p (1 - p) / d^2 $$\n\n\
                    A long formula stays out of the lead-in sentence that introduces it:\n\n$$ {} $$";
        let long = "x + ".repeat(40);
        let s = sentences(&text.replace("{}", &long));
        assert_eq!(
            s,
            vec![
                "The sample size per arm for the canary comparison is: $n = 2 (z_a + z_b)^2 p (1 - p) / d^2$"
            ]
        );
        // A quoted phrase as the subject of a statement is prose; a quoted
        // sentence alone is a claim; a quoted sentence ends where its quote
        // does, whatever the case of the next word.
        let text = "- \"Wrap it in `run_in_executor` and it's fixed\" fixes the event loop but not GPU efficiency.\n\
                    - \"GPU utilisation is our efficiency metric.\" nvidia-smi utilisation is the share of time any \
                    kernel is running.";
        assert_eq!(
            sentences(text),
            vec![
                "\"Wrap it in `run_in_executor` and it's fixed\" fixes the event loop but not GPU efficiency.",
                "\"GPU utilisation is our efficiency metric.\" nvidia-smi utilisation is the share of time any \
                 kernel is running.",
            ]
        );
    }

    #[test]
    fn arithmetic_is_not_a_key_point_but_a_setting_is() {
        assert!(is_arithmetic("the total is 36 + 84 = 120 tokens"));
        assert!(is_arithmetic("so 0.95^10 = 0.599 end to end"));
        assert!(!is_arithmetic("k1 = 0 makes matching binary"));
        assert!(!is_arithmetic("the request waits: P(slow) = 1 - 0.99^n"));
        let text = "k1 sets term-frequency saturation (k1 = 0 makes matching binary, large k1 makes it linear).\n\n\
                    Four agents at 0.9 each give 0.9^4 = 0.656 success on the whole chain.";
        assert_eq!(
            sentences(text),
            vec![
                "k1 sets term-frequency saturation (k1 = 0 makes matching binary, large k1 makes it linear)."
            ]
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// Sentences of the shapes the notes use: plain, leaning on the one
        /// before, too short, quoted claims and phrases, lead-ins, arithmetic.
        const PIECES: &[&str] = &[
            "BM25 weighs rare query terms more than common ones in every document.",
            "It saturates repeated terms so the tenth occurrence adds little.",
            "So long documents are penalised through length normalisation here.",
            "Retries multiply offered load.",
            "Dense retrieval maps queries and passages to vectors with one encoder.",
            "\"Dense always beats BM25.\" False, as the BEIR study showed out of domain.",
            "\"Wrap it in a thread\" fixes the event loop but not the GPU memory.",
            "The sample size per arm for the canary is:",
            "$$ n = 2 (z_a + z_b)^2 / d^2 $$",
            "Four agents at 0.9 each give 0.9^4 = 0.656 success on the chain.",
            "There is no established result that either model hallucinates more.",
            "They can beat chain-of-thought prompting on search-heavy puzzles.",
            "Why does the softmax saturate with large logits?",
            "Follow-up: why not a cross-encoder reranker instead?",
        ];

        fn passage() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                (
                    proptest::sample::select(PIECES),
                    proptest::sample::select(&[" ", "\n\n", "\n- "][..]),
                ),
                1..14,
            )
            .prop_map(|parts| {
                parts
                    .into_iter()
                    .map(|(p, sep)| format!("{sep}{p}"))
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn every_candidate_reads_on_its_own_and_is_the_passage_s_own_text(text in passage()) {
                let flat = text
                    .replace("\n- ", " ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let cands = sentences(&text);
                let distinct: std::collections::HashSet<&String> = cands.iter().collect();
                prop_assert_eq!(distinct.len(), cands.len());
                for c in &cands {
                    prop_assert!(reads_on_its_own(c), "{c}");
                    prop_assert!((MIN_WORDS..=MAX_WORDS).contains(&words(c)), "{c}");
                    // Verbatim, but for a lead-in's formula, which follows as
                    // inline math, and a list item after its list's lead-in,
                    // which may lose its first capital and end with a period.
                    let prose = match c.split_once(": $") {
                        Some((lead, _)) => format!("{lead}:"),
                        None => c.clone(),
                    };
                    let item_after_lead = c.match_indices(": ").any(|(i, _)| {
                        let (lead, item) = (&c[..i], &c[i + 2..]);
                        let body = item.trim_end_matches('.').to_lowercase();
                        flat.contains(&format!("{lead}:")) && flat.to_lowercase().contains(&body)
                    });
                    // A listed question may gain its first capital.
                    let mut chars = prose.chars();
                    let uncapitalised = chars
                        .next()
                        .map(|f| f.to_lowercase().chain(chars).collect::<String>())
                        .unwrap_or_default();
                    prop_assert!(
                        flat.contains(&prose) || flat.contains(&uncapitalised) || item_after_lead,
                        "{c}"
                    );
                }
            }
        }
    }
}
