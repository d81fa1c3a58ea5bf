//! What a user sees first, measured: the realistic query set, answer labels
//! for key points, and the abstention model's fit.
//!
//! `tests/data/realistic_queries.tsv` holds queries typed the way candidates
//! type them, one `kind<TAB>ids<TAB>query` per line: in-scope kinds
//! (`keywords`, `typo`, `acronym`, `subtopic`, `interview`, `rambling`,
//! `followup`) list every acceptable question id; `adjacent` queries are ML
//! topics the notes do not cover (`-`, or `~qNN` when qNN mentions the topic
//! in passing). `tests/data/answer_labels.tsv` lists, for a query, the terms
//! an answering sentence of its note contains (`qid<TAB>query<TAB>a; b`);
//! `tests/data/answer_judgments.tsv` lists, for the same queries, every
//! candidate sentence of the note that independent assessors judged to
//! answer it, each by the start of its text (`qid<TAB>query<TAB>a | b`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::config::SearchParams;
use crate::error::{Error, IoContext, Result};
use crate::eval::DevQuery;
use crate::retrieval::abstain;
use crate::retrieval::answer::{Answer, Coverage};
use crate::retrieval::engine::{Earlier, Engine};
use crate::retrieval::query::Steps;
use crate::retrieval::{closest, keypoints};

/// Kinds of in-scope queries, in report order.
pub const IN_SCOPE_KINDS: &[&str] = &[
    "keywords",
    "typo",
    "acronym",
    "subtopic",
    "interview",
    "rambling",
    "followup",
];

/// The kind of queries the notes do not cover.
pub const ADJACENT: &str = "adjacent";

/// One labelled realistic query.
#[derive(Debug, Clone, Serialize)]
pub struct RealQuery {
    /// Its kind (see [`IN_SCOPE_KINDS`], [`ADJACENT`]).
    pub kind: String,
    /// Acceptable question ids (empty for adjacent queries).
    pub ids: Vec<String>,
    /// For an adjacent query: the notes that mention the topic in passing.
    pub mentioned_in: Vec<String>,
    /// The query.
    pub query: String,
}

impl RealQuery {
    /// True for a query the notes cover.
    pub fn in_scope(&self) -> bool {
        self.kind != ADJACENT
    }
}

/// Terms an answering sentence contains, for one query.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerLabel {
    /// The note that answers it.
    pub expected: String,
    /// The query.
    pub query: String,
    /// Lowercased terms that must all occur in one key point.
    pub terms: Vec<String>,
    /// Lowercased starts of the sentences assessors judged to answer the
    /// query ([`load_judgments`]); empty when it was not judged.
    pub judged: Vec<String>,
}

impl AnswerLabel {
    /// True when `sentence` contains every term (case-insensitive).
    pub fn answered_by(&self, sentence: &str) -> bool {
        self.has_terms(&comparable(sentence))
    }

    /// True when `sentence` is the labelled answer or one the assessors
    /// judged to answer.
    pub fn judged_answered_by(&self, sentence: &str) -> bool {
        let s = comparable(sentence);
        self.has_terms(&s) || self.holds_judged(&s)
    }

    /// True when `passage` holds a sentence the assessors judged to answer.
    pub fn judged_in(&self, passage: &str) -> bool {
        self.holds_judged(&comparable(passage))
    }

    fn holds_judged(&self, comparable: &str) -> bool {
        self.judged.iter().any(|j| comparable.contains(j.as_str()))
    }

    fn has_terms(&self, comparable: &str) -> bool {
        self.terms.iter().all(|t| comparable.contains(t.as_str()))
    }
}

/// A sentence as labels are matched against it: lowercased, `**` removed.
fn comparable(sentence: &str) -> String {
    sentence.to_lowercase().replace("**", "")
}

fn bad_line(path: &Path, n: usize, why: &str) -> Error {
    bad_line_of("--realistic", path, n, why)
}

/// A one-line error naming the file, the line and the flag that gave it.
fn bad_line_of(name: &'static str, path: &Path, n: usize, why: &str) -> Error {
    Error::InvalidParam {
        name,
        reason: format!("{}:{}: {why}", path.display(), n + 1),
    }
}

fn data_lines(path: &Path) -> Result<Vec<(usize, String)>> {
    let text = std::fs::read_to_string(path).ctx("reading", path)?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i, l.to_string()))
        .collect())
}

/// Reads a realistic query file.
pub fn load_realistic(path: &Path) -> Result<Vec<RealQuery>> {
    let mut out = Vec::new();
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, ids, query] = cols[..] else {
            return Err(bad_line(path, n, "expected kind<TAB>ids<TAB>query"));
        };
        let kind = kind.trim().to_string();
        if kind != ADJACENT && !IN_SCOPE_KINDS.contains(&kind.as_str()) {
            return Err(bad_line(path, n, &format!("unknown kind {kind:?}")));
        }
        let (mut list, mut mentioned_in) = (Vec::new(), Vec::new());
        for id in ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "-")
        {
            match id.strip_prefix('~') {
                Some(m) => mentioned_in.push(m.to_string()),
                None => list.push(id.to_string()),
            }
        }
        if (kind == ADJACENT) != list.is_empty() {
            return Err(bad_line(
                path,
                n,
                "adjacent queries list no ids; others list at least one",
            ));
        }
        out.push(RealQuery {
            kind,
            ids: list,
            mentioned_in,
            query: query.trim().to_string(),
        });
    }
    Ok(out)
}

/// Reads an answer-label file.
pub fn load_labels(path: &Path) -> Result<Vec<AnswerLabel>> {
    let mut out = Vec::new();
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.split('\t').collect();
        let [expected, query, terms] = cols[..] else {
            return Err(bad_line_of(
                "--labels",
                path,
                n,
                "expected qid<TAB>query<TAB>term; term",
            ));
        };
        let terms: Vec<String> = terms
            .split(';')
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() {
            return Err(bad_line_of("--labels", path, n, "no terms"));
        }
        out.push(AnswerLabel {
            expected: expected.trim().to_string(),
            query: query.trim().to_string(),
            terms,
            judged: Vec::new(),
        });
    }
    Ok(out)
}

/// Reads a judgment file into the labels of the same note and query; a
/// judgment no label has is an error (the two files are kept together).
pub fn load_judgments(path: &Path, labels: &mut [AnswerLabel]) -> Result<()> {
    let bad = |n: usize, why: &str| bad_line_of("--judgments", path, n, why);
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.split('\t').collect();
        let [expected, query, starts] = cols[..] else {
            return Err(bad(n, "expected qid<TAB>query<TAB>start | start"));
        };
        let (expected, query) = (expected.trim(), query.trim());
        let label = labels
            .iter_mut()
            .find(|l| l.expected == expected && l.query == query)
            .ok_or_else(|| bad(n, "no answer label has this note and query"))?;
        label.judged = starts
            .split(" | ")
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
    }
    Ok(())
}

/// Assessors' verdicts on key points as `ask` showed them: per query, the
/// start of each judged sentence and whether it answers the query.
#[derive(Debug, Clone, Default)]
pub struct ShownJudgments {
    /// Query -> (sentence start, lowercased; answers).
    pub by_query: BTreeMap<String, Vec<(String, bool)>>,
}

/// Reads `query<TAB>1|0<TAB>sentence start` lines (see
/// `tests/data/holdout_keypoint_judgments.tsv`).
pub fn load_shown_judgments(path: &Path) -> Result<ShownJudgments> {
    let bad = |n: usize, why: &str| bad_line_of("--holdout-judgments", path, n, why);
    let mut out = ShownJudgments::default();
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.split('\t').collect();
        let [query, verdict, start] = cols[..] else {
            return Err(bad(n, "expected query<TAB>1 or 0<TAB>sentence start"));
        };
        let answers = match verdict.trim() {
            "1" => true,
            "0" => false,
            _ => return Err(bad(n, "the verdict is 1 (answers) or 0 (does not)")),
        };
        let start = comparable(start.trim());
        if start.is_empty() {
            return Err(bad(n, "empty sentence start"));
        }
        out.by_query
            .entry(query.trim().to_string())
            .or_default()
            .push((start, answers));
    }
    Ok(out)
}

/// Key points against [`ShownJudgments`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShownScore {
    /// Judged queries `ask` answers with key points.
    pub queries: usize,
    /// Share of them whose key points hold one judged to answer.
    pub answered: f64,
    /// Share of the judged key points shown that answer.
    pub precision: f64,
    /// Share of the key points shown that have a verdict (below 1 once
    /// the key points change: those shown now were not all judged).
    pub judged_share: f64,
}

/// Asks every judged query and scores its key points by the verdicts.
pub fn evaluate_shown_judgments(
    engine: &mut Engine,
    j: &ShownJudgments,
    p: &SearchParams,
) -> Result<ShownScore> {
    let (mut queries, mut answered, mut shown, mut judged, mut answering) = (0, 0, 0, 0, 0usize);
    for (query, verdicts) in &j.by_query {
        let a = engine.ask(query, p)?;
        if a.abstained || a.key_points.is_empty() {
            continue;
        }
        queries += 1;
        let mut any = false;
        for kp in &a.key_points {
            let text = comparable(&kp.text);
            shown += 1;
            if let Some((_, answers)) = verdicts.iter().find(|(start, _)| text.starts_with(start)) {
                judged += 1;
                answering += usize::from(*answers);
                any |= *answers;
            }
        }
        answered += usize::from(any);
    }
    Ok(ShownScore {
        queries,
        answered: answered as f64 / queries.max(1) as f64,
        precision: answering as f64 / judged.max(1) as f64,
        judged_share: judged as f64 / shown.max(1) as f64,
    })
}

/// Assessors' verdicts on whether a key point reads on its own, by
/// sentence (`tests/data/keypoint_standalone.tsv`): the reader sees the
/// note's question and the key point, not the paragraph, list, formula or
/// section it was cut from.
#[derive(Debug, Clone, Default)]
pub struct StandaloneJudgments {
    /// Sentence (as [`comparable`]) -> reads on its own.
    by_sentence: std::collections::HashMap<String, bool>,
}

impl StandaloneJudgments {
    /// The verdict on key point `text`, if it was judged.
    pub fn verdict(&self, text: &str) -> Option<bool> {
        self.by_sentence.get(&comparable(text)).copied()
    }
}

/// Reads `1|0<TAB>category<TAB>sentence` lines (see
/// `tests/data/keypoint_standalone.tsv`; the category says why a key point
/// does not read on its own, `-` when it does).
pub fn load_standalone_judgments(path: &Path) -> Result<StandaloneJudgments> {
    let bad = |n: usize, why: &str| bad_line_of("--standalone-judgments", path, n, why);
    let mut out = StandaloneJudgments::default();
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.splitn(3, '\t').collect();
        let [verdict, _category, sentence] = cols[..] else {
            return Err(bad(n, "expected 1 or 0<TAB>category<TAB>sentence"));
        };
        let reads = match verdict.trim() {
            "1" => true,
            "0" => false,
            _ => {
                return Err(bad(
                    n,
                    "the verdict is 1 (reads on its own) or 0 (does not)",
                ));
            }
        };
        let sentence = comparable(sentence.trim());
        if sentence.is_empty() {
            return Err(bad(n, "empty sentence"));
        }
        out.by_sentence.insert(sentence, reads);
    }
    Ok(out)
}

/// Key points shown against [`StandaloneJudgments`] (since
/// cram.eval.notes/8).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StandaloneScore {
    /// Key points shown.
    pub shown: usize,
    /// Share of them that have a verdict (below 1 once the key points
    /// change: those shown now were not all judged).
    pub judged_share: f64,
    /// Share of the judged ones that read on their own.
    pub reads_alone: f64,
}

/// Counts towards a [`StandaloneScore`].
#[derive(Debug, Clone, Copy, Default)]
struct StandaloneTally {
    shown: usize,
    judged: usize,
    alone: usize,
}

impl StandaloneTally {
    fn add(
        &mut self,
        j: &StandaloneJudgments,
        key_points: &[crate::retrieval::keypoints::KeyPoint],
    ) {
        for k in key_points {
            self.shown += 1;
            if let Some(alone) = j.verdict(&k.text) {
                self.judged += 1;
                self.alone += usize::from(alone);
            }
        }
    }

    fn score(self) -> StandaloneScore {
        StandaloneScore {
            shown: self.shown,
            judged_share: self.judged as f64 / self.shown.max(1) as f64,
            reads_alone: self.alone as f64 / self.judged.max(1) as f64,
        }
    }
}

/// Assessors' verdicts on the second closest question an answer showed
/// ("also:"): per query, the second question's id and whether it helps
/// (`tests/data/also_judgments.tsv`).
#[derive(Debug, Clone, Default)]
pub struct AlsoJudgments {
    /// Query -> (second question id, useful).
    pub by_query: BTreeMap<String, (String, bool)>,
}

/// Reads `query<TAB>qNN<TAB>1|0[<TAB>why]` lines.
pub fn load_also_judgments(path: &Path) -> Result<AlsoJudgments> {
    let bad = |n: usize, why: &str| bad_line_of("--also-judgments", path, n, why);
    let mut out = AlsoJudgments::default();
    for (n, line) in data_lines(path)? {
        let cols: Vec<&str> = line.split('\t').collect();
        let (query, id, verdict) = match cols[..] {
            [q, id, v] | [q, id, v, _] => (q.trim(), id.trim(), v.trim()),
            _ => {
                return Err(bad(
                    n,
                    "expected query<TAB>question id<TAB>1 or 0[<TAB>why]",
                ));
            }
        };
        let useful = match verdict {
            "1" => true,
            "0" => false,
            _ => return Err(bad(n, "the verdict is 1 (helps) or 0 (does not)")),
        };
        if query.is_empty() || id.is_empty() {
            return Err(bad(n, "empty query or question id"));
        }
        out.by_query
            .insert(query.to_string(), (id.to_string(), useful));
    }
    Ok(out)
}

/// "also:" lines against [`AlsoJudgments`] (since cram.eval.notes/9).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AlsoScore {
    /// Judged queries.
    pub queries: usize,
    /// Of them, answers that show an "also:" line now.
    pub shown: usize,
    /// Of those, the ones whose second question has a verdict (the same id
    /// as judged).
    pub judged: usize,
    /// Share of the judged ones that help.
    pub useful: f64,
}

/// Asks every judged query and scores the "also:" line it shows.
pub fn evaluate_also(
    engine: &mut Engine,
    j: &AlsoJudgments,
    p: &SearchParams,
) -> Result<AlsoScore> {
    let (mut shown, mut judged, mut useful) = (0, 0, 0);
    for (query, (id, helps)) in &j.by_query {
        let a = engine.ask(query, p)?;
        let Some(second) = a.questions.get(1).filter(|_| !a.abstained) else {
            continue;
        };
        shown += 1;
        if &second.id == id {
            judged += 1;
            useful += usize::from(*helps);
        }
    }
    Ok(AlsoScore {
        queries: j.by_query.len(),
        shown,
        judged,
        useful: useful as f64 / judged.max(1) as f64,
    })
}

/// Scores of one kind of realistic query.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindScore {
    /// The kind (`all in-scope` for the total).
    pub kind: String,
    /// Queries of this kind.
    pub queries: usize,
    /// In scope: share whose closest question (first line of the answer,
    /// abstention aside) is acceptable.
    #[serde(rename = "closest@1")]
    pub closest1: f64,
    /// In scope: share with an acceptable note among the first 3 passages.
    #[serde(rename = "hit@3")]
    pub hit3: f64,
    /// Share abstained on (in scope: wrongly; adjacent: rightly).
    pub abstained: f64,
    /// Adjacent: share answered `mentioned` whose mention is in the labelled note.
    pub mention_right: Option<f64>,
    /// Adjacent: of the topics labelled as mentioned in a note, the share
    /// abstained on with a mention in one of those notes (since
    /// cram.eval.notes/7).
    pub mention_found: Option<f64>,
    /// Adjacent: of the topics no note mentions, the share shown a mention
    /// anyway (since cram.eval.notes/7).
    pub mention_unfounded: Option<f64>,
    /// In scope: of the queries abstained on, the share whose abstention
    /// still points at an acceptable note (the mention or one of the nearest
    /// questions it names), as `ask` shows it (since cram.eval.notes/4).
    pub abstained_pointed: Option<f64>,
    /// Failures: `kind<TAB>query<TAB>what was shown`.
    #[serde(skip)]
    pub misses: Vec<String>,
}

/// The realistic set's report.
#[derive(Debug, Clone, Serialize)]
pub struct RealisticReport {
    /// Per kind, then all in-scope queries, then adjacent, then off-topic.
    pub kinds: Vec<KindScore>,
    /// closest@1 over in-scope queries with one query-understanding step
    /// switched off, by step (`none` = all off), to measure each.
    pub ablation: Vec<(String, f64)>,
    /// The same queries asked in a session, after another question
    /// ([`evaluate_session`]); null until measured (since cram.eval.notes/4).
    pub session: Option<SessionScore>,
    /// ROC AUC of the abstention model's covered probability, in-scope
    /// queries against adjacent topics: how well it separates the two at any
    /// threshold; null in BM25 mode, which has no model (since
    /// cram.eval.notes/5).
    pub abstention_auc: Option<f64>,
    /// Key points of the in-scope queries answered, against assessors'
    /// verdicts on whether each reads on its own; null without verdicts
    /// (since cram.eval.notes/8).
    pub key_points_standalone: Option<StandaloneScore>,
}

/// What a session's follow-up reading ([`Engine::ask_following`]) does, for
/// one kind of turn: the queries asked alone and asked after an earlier
/// question. Right = answered (not abstained) with an acceptable closest
/// question; wrong = answered with another.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TurnScore {
    /// Queries.
    pub queries: usize,
    /// Share answered right, asked alone.
    pub right_alone: f64,
    /// Share answered right in the session.
    pub right: f64,
    /// Share answered wrong, asked alone.
    pub wrong_alone: f64,
    /// Share answered wrong in the session.
    pub wrong: f64,
}

/// The session measurement: follow-ups after a question of their own note,
/// new topics after a question of an unrelated note, off-topic questions
/// after any question.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionScore {
    /// `followup` queries, each asked after the first dev query of its note.
    pub follow_ups: TurnScore,
    /// Every other in-scope query, each asked after the first dev query of
    /// the note seven places on in id order (another topic).
    pub new_topics: TurnScore,
    /// Adjacent topics, each after the first dev query of a note that
    /// mentions it (else of the note seven places on): share abstained on,
    /// alone and in the session.
    pub adjacent_abstained: (f64, f64),
    /// Off-topic questions, each after a dev query: share still abstained
    /// on (null without off-topic questions).
    pub off_topic_abstained: Option<f64>,
}

/// Measures [`Engine::ask_following`] on `queries` (see [`SessionScore`]);
/// `dev` gives each note's earlier question.
pub fn evaluate_session(
    engine: &mut Engine,
    queries: &[RealQuery],
    dev: &[DevQuery],
    offtopic: &[String],
    p: &SearchParams,
) -> Result<SessionScore> {
    // Each note's first dev query, as the session would have searched it.
    let mut earlier: BTreeMap<&str, Earlier> = BTreeMap::new();
    for d in dev {
        if !earlier.contains_key(d.expected.as_str()) {
            let a = engine.ask(&d.query, p)?;
            if let Some(e) = Earlier::of(&a) {
                earlier.insert(d.expected.as_str(), e);
            }
        }
    }
    let notes: Vec<&str> = earlier.keys().copied().collect();
    let mut out = SessionScore::default();
    let mut adjacent = (0usize, 0usize, 0usize);
    for q in queries.iter().filter(|q| !q.in_scope()) {
        let before = q
            .mentioned_in
            .iter()
            .find_map(|id| earlier.get(id.as_str()))
            .or_else(|| {
                notes
                    .get(adjacent.0 * 7 % notes.len().max(1))
                    .map(|n| &earlier[n])
            });
        let alone = engine.ask(&q.query, p)?;
        adjacent.0 += 1;
        adjacent.1 += usize::from(alone.abstained);
        adjacent.2 += usize::from(engine.follow_up(alone, before, p)?.abstained);
    }
    let n = adjacent.0.max(1) as f64;
    out.adjacent_abstained = (adjacent.1 as f64 / n, adjacent.2 as f64 / n);
    for q in queries.iter().filter(|q| q.in_scope()) {
        let Some(at) = notes
            .iter()
            .position(|n| q.ids.first().is_some_and(|id| id == n))
        else {
            continue;
        };
        let (turn, before) = if q.kind == "followup" {
            (&mut out.follow_ups, notes[at])
        } else {
            (&mut out.new_topics, notes[(at + 7) % notes.len()])
        };
        let ok = |a: &Answer| a.questions.first().is_some_and(|x| q.ids.contains(&x.id));
        let alone = engine.ask(&q.query, p)?;
        let after = engine.follow_up(alone.clone(), Some(&earlier[before]), p)?;
        turn.queries += 1;
        for (a, right, wrong) in [
            (&alone, &mut turn.right_alone, &mut turn.wrong_alone),
            (&after, &mut turn.right, &mut turn.wrong),
        ] {
            if !a.abstained {
                *(if ok(a) { right } else { wrong }) += 1.0;
            }
        }
    }
    for t in [&mut out.follow_ups, &mut out.new_topics] {
        let n = t.queries.max(1) as f64;
        for v in [
            &mut t.right_alone,
            &mut t.right,
            &mut t.wrong_alone,
            &mut t.wrong,
        ] {
            *v /= n;
        }
    }
    let mut abstained = 0usize;
    for (i, q) in offtopic.iter().enumerate() {
        let before = notes.get(i % notes.len().max(1)).map(|n| &earlier[n]);
        abstained += usize::from(engine.ask_following(q, before, p)?.abstained);
    }
    out.off_topic_abstained =
        (!offtopic.is_empty()).then(|| abstained as f64 / offtopic.len() as f64);
    Ok(out)
}

/// Runs the realistic set (and the off-topic questions) with `p`.
pub fn evaluate_realistic(
    engine: &mut Engine,
    queries: &[RealQuery],
    offtopic: &[String],
    standalone: Option<&StandaloneJudgments>,
    p: &SearchParams,
) -> Result<RealisticReport> {
    let mut alone = StandaloneTally::default();
    let mut by_kind: BTreeMap<&str, KindScore> = BTreeMap::new();
    let mut total = KindScore {
        kind: "all in-scope".into(),
        ..Default::default()
    };
    let mut adjacent = KindScore {
        kind: ADJACENT.into(),
        ..Default::default()
    };
    let mut mentioned = (0usize, 0usize);
    // Topics some note mentions: (queries, found); topics none does: (queries, mention shown).
    let (mut labelled, mut unlabelled) = ((0usize, 0usize), (0usize, 0usize));
    let mut pointed: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut separation: Vec<(f32, bool)> = Vec::new();
    for q in queries {
        let a = engine.ask_unabstained(&q.query, p)?;
        if let Some(covered) = a.evidence.covered_probability {
            separation.push((covered, q.in_scope()));
        }
        if q.in_scope() {
            let s = by_kind.entry(q.kind.as_str()).or_insert_with(|| KindScore {
                kind: q.kind.clone(),
                ..Default::default()
            });
            score_in_scope(q, &a, s);
            score_in_scope(q, &a, &mut total);
            if let (Some(j), false) = (standalone, a.abstained) {
                alone.add(j, &a.key_points);
            }
            if a.abstained {
                let right = points_at(q, &engine.ask(&q.query, p)?);
                for kind in [q.kind.as_str(), "all in-scope"] {
                    let e = pointed.entry(kind.to_string()).or_default();
                    e.0 += 1;
                    e.1 += usize::from(right);
                }
            }
            // Each miss is listed once, under its kind.
            total.misses.clear();
        } else {
            adjacent.queries += 1;
            if a.abstained {
                adjacent.abstained += 1.0;
            } else {
                adjacent.misses.push(format!(
                    "adjacent\t{}\tanswered as {}",
                    q.query,
                    a.questions.first().map_or("-", |x| x.id.as_str())
                ));
            }
            let mention = match (a.abstained, a.coverage, &a.mention) {
                (true, Coverage::Mentioned, Some(m)) => Some(m),
                _ => None,
            };
            let right = mention.is_some_and(|m| {
                m.question_id
                    .as_ref()
                    .is_some_and(|id| q.mentioned_in.contains(id))
            });
            if mention.is_some() {
                mentioned.0 += 1;
                mentioned.1 += usize::from(right);
            }
            if q.mentioned_in.is_empty() {
                unlabelled.0 += 1;
                unlabelled.1 += usize::from(mention.is_some());
            } else {
                labelled.0 += 1;
                labelled.1 += usize::from(right);
            }
        }
    }
    let mut off = KindScore {
        kind: "off-topic".into(),
        ..Default::default()
    };
    for q in offtopic {
        off.queries += 1;
        if engine.ask(q, p)?.abstained {
            off.abstained += 1.0;
        } else {
            off.misses.push(format!("off-topic\t{q}\tanswered"));
        }
    }
    let mut kinds: Vec<KindScore> = IN_SCOPE_KINDS
        .iter()
        .filter_map(|k| by_kind.remove(k))
        .collect();
    kinds.push(total);
    for k in &mut kinds {
        k.abstained_pointed = pointed
            .get(&k.kind)
            .map(|&(n, right)| right as f64 / n as f64);
    }
    let share = |(n, k): (usize, usize)| (n > 0).then(|| k as f64 / n as f64);
    adjacent.mention_right = share((mentioned.0, mentioned.1));
    adjacent.mention_found = share(labelled);
    adjacent.mention_unfounded = share(unlabelled);
    kinds.push(adjacent);
    if off.queries > 0 {
        kinds.push(off);
    }
    for k in &mut kinds {
        let n = k.queries.max(1) as f64;
        k.closest1 /= n;
        k.hit3 /= n;
        k.abstained /= n;
    }
    let ablation = ablate(engine, queries, p)?;
    Ok(RealisticReport {
        kinds,
        ablation,
        session: None,
        abstention_auc: roc_auc(&separation),
        key_points_standalone: standalone.map(|_| alone.score()),
    })
}

/// ROC AUC of `scores` (score, positive?): the chance that a random positive
/// scores above a random negative, ties counting half (the Mann-Whitney U
/// statistic over the product of the class sizes); null without both classes.
pub fn roc_auc(scores: &[(f32, bool)]) -> Option<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = sorted.iter().filter(|s| s.1).count();
    let negatives = sorted.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the positives' ranks (1-based; a run of equal scores shares the
    // mean of its ranks).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let j = i + sorted[i..]
            .iter()
            .take_while(|s| s.0 == sorted[i].0)
            .count();
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * sorted[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    let u = rank_sum - (positives * (positives + 1)) as f64 / 2.0;
    Some(u / (positives * negatives) as f64)
}

/// True when an abstaining answer points at one of `q`'s acceptable notes:
/// its mention, or one of the nearest questions it names.
fn points_at(q: &RealQuery, a: &Answer) -> bool {
    let ok = |id: &str| q.ids.iter().any(|x| x == id);
    a.mention
        .as_ref()
        .and_then(|m| m.question_id.as_deref())
        .is_some_and(ok)
        || a.questions.iter().any(|x| ok(&x.id))
}

fn score_in_scope(q: &RealQuery, a: &Answer, s: &mut KindScore) {
    s.queries += 1;
    let ok = |id: Option<&str>| id.is_some_and(|id| q.ids.iter().any(|x| x == id));
    let closest = a.questions.first().map(|x| x.id.as_str());
    if ok(closest) {
        s.closest1 += 1.0;
    } else {
        s.misses.push(format!(
            "{}\t{}\tclosest {} (want {})",
            q.kind,
            q.query,
            closest.unwrap_or("-"),
            q.ids.join(",")
        ));
    }
    if a.results
        .iter()
        .take(3)
        .any(|r| ok(r.question_id.as_deref()))
    {
        s.hit3 += 1.0;
    }
    if a.abstained {
        s.abstained += 1.0;
        s.misses.push(format!("{}\t{}\tabstained", q.kind, q.query));
    }
}

/// closest@1 over in-scope queries with each understanding step off.
fn ablate(
    engine: &mut Engine,
    queries: &[RealQuery],
    p: &SearchParams,
) -> Result<Vec<(String, f64)>> {
    let all = Steps::default();
    let variants = [
        ("all steps", all),
        (
            "without framing",
            Steps {
                framing: false,
                ..all
            },
        ),
        (
            "without typos",
            Steps {
                typos: false,
                ..all
            },
        ),
        (
            "without aliases",
            Steps {
                aliases: false,
                ..all
            },
        ),
        ("none (as typed)", Steps::NONE),
    ];
    let scope: Vec<&RealQuery> = queries.iter().filter(|q| q.in_scope()).collect();
    let mut out = Vec::new();
    for (name, steps) in variants {
        let params = SearchParams {
            understand: steps,
            key_points: 0,
            ..p.clone()
        };
        let mut hits = 0usize;
        for q in &scope {
            let a = engine.ask_unabstained(&q.query, &params)?;
            let closest = a.questions.first().map(|x| x.id.as_str());
            hits += usize::from(closest.is_some_and(|c| q.ids.iter().any(|x| x == c)));
        }
        out.push((name.to_string(), hits as f64 / scope.len().max(1) as f64));
    }
    Ok(out)
}

/// Key-point quality over labelled queries.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPointScore {
    /// Labelled queries answered (not abstained).
    pub queries: usize,
    /// Share whose key points contain the labelled answer sentence.
    pub answered: f64,
    /// Share whose key points contain a sentence assessors judged to answer
    /// (or the labelled one), over the judged queries.
    pub judged_answered: f64,
    /// Labelled queries answered that were judged.
    pub judged_queries: usize,
    /// Share of their key points that assessors judged to answer (a lower
    /// bound: only the expected note's sentences were judged) (since
    /// cram.eval.notes/4).
    pub judged_precision: f64,
    /// Share of the judged queries whose first passage holds a sentence
    /// assessors judged to answer (since cram.eval.notes/6).
    pub first_passage: f64,
    /// Share of key points that read on their own (no opening or early
    /// pronoun or back-reference; the same heuristic the extractor applies).
    pub standalone: f64,
    /// The key points against assessors' verdicts on whether each reads on
    /// its own; null without verdicts (since cram.eval.notes/8).
    pub standalone_judged: Option<StandaloneScore>,
    /// Share of key points taken from a behavioural note for a technical
    /// question.
    pub behavioural_leaks: f64,
    /// Labelled queries whose key points miss the answer: `query<TAB>first key point`.
    #[serde(skip)]
    pub misses: Vec<String>,
}

/// Scores key points on the labelled queries.
pub fn evaluate_key_points(
    engine: &mut Engine,
    labels: &[AnswerLabel],
    standalone_judgments: Option<&StandaloneJudgments>,
    p: &SearchParams,
) -> Result<KeyPointScore> {
    let mut alone = StandaloneTally::default();
    let (mut n, mut answered, mut points, mut standalone, mut leaks) = (0, 0, 0, 0, 0);
    let (mut judged, mut judged_answered, mut judged_points, mut judged_yes) = (0, 0, 0, 0);
    let mut first_passage = 0;
    let mut misses = Vec::new();
    for l in labels {
        let a = engine.ask(&l.query, p)?;
        if a.abstained {
            misses.push(format!("{}\t(abstained)", l.query));
            continue;
        }
        n += 1;
        if !l.judged.is_empty() {
            judged += 1;
            let yes = a
                .key_points
                .iter()
                .filter(|k| l.judged_answered_by(&k.text))
                .count();
            judged_answered += usize::from(yes > 0);
            judged_yes += yes;
            judged_points += a.key_points.len();
            first_passage += usize::from(a.results.first().is_some_and(|r| l.judged_in(&r.text)));
        }
        if a.key_points.iter().any(|k| l.answered_by(&k.text)) {
            answered += 1;
        } else {
            misses.push(format!(
                "{}\t{}",
                l.query,
                a.key_points.first().map_or("-", |k| k.text.as_str())
            ));
        }
        if let Some(j) = standalone_judgments {
            alone.add(j, &a.key_points);
        }
        let technical = !engine
            .note(&l.expected)
            .map(|x| x.is_behavioural())
            .unwrap_or(false);
        for k in &a.key_points {
            points += 1;
            standalone += usize::from(crate::index::sentences::reads_on_its_own(&k.text));
            let note = k.chunk_id.split('#').next().unwrap_or("");
            if technical
                && engine
                    .note(note)
                    .map(|x| x.is_behavioural())
                    .unwrap_or(false)
            {
                leaks += 1;
            }
        }
    }
    Ok(KeyPointScore {
        queries: n,
        answered: answered as f64 / n.max(1) as f64,
        judged_answered: judged_answered as f64 / judged.max(1) as f64,
        judged_queries: judged,
        judged_precision: judged_yes as f64 / judged_points.max(1) as f64,
        first_passage: first_passage as f64 / judged.max(1) as f64,
        standalone: standalone as f64 / points.max(1) as f64,
        standalone_judged: standalone_judgments.map(|_| alone.score()),
        behavioural_leaks: leaks as f64 / points.max(1) as f64,
        misses,
    })
}

/// The markdown tables of a realistic report and a key-point score.
pub fn realistic_table(title: &str, r: &RealisticReport, kp: Option<&KeyPointScore>) -> String {
    let mut s = format!(
        "\n{title}:\n\n\
         | kind | queries | closest@1 | hit@3 | abstained |\n|---|---|---|---|---|\n"
    );
    for k in &r.kinds {
        let scope = k.kind != ADJACENT && k.kind != "off-topic";
        let cell = |v: f64| if scope { format!("{v:.3}") } else { "-".into() };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} |\n",
            k.kind,
            k.queries,
            cell(k.closest1),
            cell(k.hit3),
            k.abstained
        ));
    }
    if let Some(all) = r.kinds.iter().find(|k| k.kind == "all in-scope") {
        let n = (all.abstained * all.queries as f64).round();
        if let Some(share) = all.abstained_pointed {
            s.push_str(&format!(
                "\nIn-scope queries abstained on: {n}, of which {:.0} ({:.1}%) still point at an \
                 acceptable note (the mention or the nearest questions named).\n",
                share * n,
                100.0 * share
            ));
        }
    }
    if let Some(adj) = r.kinds.iter().find(|k| k.kind == ADJACENT)
        && let (Some(found), Some(unfounded)) = (adj.mention_found, adj.mention_unfounded)
    {
        s.push_str(&format!(
            "\nMentions, adjacent topics: {:.1}% of those a note mentions are answered \"not covered\" with a \
             mention in such a note; {:.1}% of those no note mentions are shown a mention anyway ({:.1}% of the \
             mentions shown are in a labelled note).\n",
            100.0 * found,
            100.0 * unfounded,
            100.0 * adj.mention_right.unwrap_or(0.0)
        ));
    }
    if let Some(auc) = r.abstention_auc {
        s.push_str(&format!(
            "\nAbstention, in-scope queries against adjacent topics: ROC AUC {auc:.3} (at any threshold).\n"
        ));
    }
    if let Some(x) = &r.session {
        let (f, t) = (&x.follow_ups, &x.new_topics);
        s.push_str(&format!(
            "\nIn a session (`cram repl`; a question the notes do not cover alone is read as a follow-up): \
             {} follow-ups, each after a question of its note, answered right {:.1}% -> {:.1}%, wrong {:.1}% -> \
             {:.1}% (alone -> in the session); {} new topics, each after a question of another note, right \
             {:.1}% -> {:.1}%, wrong {:.1}% -> {:.1}%; adjacent topics after a question of a note that mentions \
             them abstained on {:.1}% -> {:.1}%{}.\n",
            f.queries,
            100.0 * f.right_alone,
            100.0 * f.right,
            100.0 * f.wrong_alone,
            100.0 * f.wrong,
            t.queries,
            100.0 * t.right_alone,
            100.0 * t.right,
            100.0 * t.wrong_alone,
            100.0 * t.wrong,
            100.0 * x.adjacent_abstained.0,
            100.0 * x.adjacent_abstained.1,
            x.off_topic_abstained
                .map(|v| format!("; off-topic questions still abstained on {:.0}%", 100.0 * v))
                .unwrap_or_default()
        ));
    }
    if let Some(k) = r.key_points_standalone {
        s.push_str(&format!(
            "\nKey points of the in-scope answers: {}",
            standalone_sentence(k)
        ));
    }
    s.push_str("\nQuery understanding, closest@1 over in-scope queries: ");
    let parts: Vec<String> = r
        .ablation
        .iter()
        .map(|(n, v)| format!("{n} {v:.3}"))
        .collect();
    s.push_str(&parts.join(", "));
    s.push('\n');
    if let Some(k) = kp {
        s.push_str(&format!(
            "\nKey points on {} labelled queries: {:.1}% contain the labelled answer sentence, {:.1}% one \
             that assessors judged to answer ({} judged; {:.1}% of their key points were judged to answer, \
             and passage [1] holds such a sentence for {:.1}%); \
             {:.1}% pass the extractor's own-reading rule; {:.1}% from a behavioural note for a technical \
             question.\n",
            k.queries,
            100.0 * k.answered,
            100.0 * k.judged_answered,
            k.judged_queries,
            100.0 * k.judged_precision,
            100.0 * k.first_passage,
            100.0 * k.standalone,
            100.0 * k.behavioural_leaks
        ));
        if let Some(j) = k.standalone_judged {
            s.push_str(&format!(
                "Key points of the labelled queries: {}",
                standalone_sentence(j)
            ));
        }
    }
    s
}

/// One line on [`StandaloneScore`].
fn standalone_sentence(k: StandaloneScore) -> String {
    format!(
        "{:.1}% of those judged read on their own, by assessors' verdicts \
         (tests/data/keypoint_standalone.tsv); {:.1}% of the {} shown were judged.\n",
        100.0 * k.reads_alone,
        100.0 * k.judged_share,
        k.shown
    )
}

/// One labelled example for the abstention model.
#[derive(Debug, Clone)]
pub struct Example {
    /// Features ([`abstain::FEATURES`] order).
    pub x: [f32; abstain::N_FEATURES],
    /// 1 = the notes cover it.
    pub covered: bool,
    /// Cross-validation fold.
    pub fold: usize,
    /// The query (for reports).
    pub query: String,
}

/// Collects the abstention features of every labelled query: dev and
/// realistic in-scope queries are covered, adjacent and off-topic ones not.
/// Folds group queries by expected note, so no note is in train and test.
pub fn abstention_examples(
    engine: &mut Engine,
    dev: &[DevQuery],
    realistic: &[RealQuery],
    offtopic: &[String],
    p: &SearchParams,
) -> Result<Vec<Example>> {
    let mut items: Vec<(String, bool, usize)> = Vec::new();
    items.extend(
        dev.iter()
            .map(|d| (d.query.clone(), true, fold_of(&d.expected))),
    );
    for (i, q) in realistic.iter().enumerate() {
        let fold = q.ids.first().map_or(i % FOLDS, |id| fold_of(id));
        items.push((q.query.clone(), q.in_scope(), fold));
    }
    items.extend(
        offtopic
            .iter()
            .enumerate()
            .map(|(i, q)| (q.clone(), false, i % FOLDS)),
    );
    let mut out = Vec::with_capacity(items.len());
    for (query, covered, fold) in items {
        let a = engine.ask(&query, p)?;
        out.push(Example {
            x: abstain::features(&a.evidence),
            covered,
            fold,
            query,
        });
    }
    Ok(out)
}

/// Cross-validation folds.
pub const FOLDS: usize = 5;

/// Fits the logistic regression: class-balanced log loss with a small L2
/// penalty, by gradient descent; weights are held to [`abstain::SIGNS`]
/// (never negative for coverage and cosine features, never positive for
/// `unknown_share`), so more evidence never lowers the probability.
pub fn fit(examples: &[&Example]) -> [f32; abstain::N_FEATURES + 1] {
    let xs: Vec<&[f32]> = examples.iter().map(|e| &e.x[..]).collect();
    let ys: Vec<bool> = examples.iter().map(|e| e.covered).collect();
    let w = fit_logistic(&xs, &ys, &abstain::SIGNS);
    let mut out = [0.0f32; abstain::N_FEATURES + 1];
    out.copy_from_slice(&w);
    out
}

/// Logistic regression by gradient descent on the class-balanced log loss
/// with a small L2 penalty. `signs[j]` holds weight `j + 1` to a sign (`1`
/// never negative, `-1` never positive, `0` free). Returns the intercept,
/// then one weight per feature.
pub fn fit_logistic(xs: &[&[f32]], ys: &[bool], signs: &[i8]) -> Vec<f32> {
    let d = signs.len();
    let pos = ys.iter().filter(|&&y| y).count().max(1) as f32;
    let neg = ys.iter().filter(|&&y| !y).count().max(1) as f32;
    let n = xs.len().max(1) as f32;
    let mut w = vec![0.0f32; d + 1];
    let (rate, l2) = (2.0f32, 1e-4f32);
    let mut g = vec![0.0f32; d + 1];
    for _ in 0..20_000 {
        g.iter_mut().for_each(|v| *v = 0.0);
        for (x, &y) in xs.iter().zip(ys) {
            let z = w[0] + w[1..].iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f32>();
            let p = 1.0 / (1.0 + (-z).exp());
            let weight = if y { n / (2.0 * pos) } else { n / (2.0 * neg) };
            let err = weight * (p - f32::from(u8::from(y)));
            g[0] += err;
            for j in 0..d {
                g[j + 1] += err * x[j];
            }
        }
        for j in 0..=d {
            let reg = if j == 0 { 0.0 } else { l2 * w[j] };
            w[j] -= rate * (g[j] / n + reg);
        }
        for (j, &sign) in signs.iter().enumerate() {
            let wj = &mut w[j + 1];
            *wj = match sign {
                1 => wj.max(0.0),
                -1 => wj.min(0.0),
                _ => *wj,
            };
        }
    }
    w
}

/// One labelled query's key-point candidates and which of them answer it.
#[derive(Debug, Clone)]
pub struct KeyPointExample {
    /// The labelled query.
    pub query: String,
    /// What `ask` chose its key points from.
    pub pool: keypoints::Pool,
    /// Per candidate: the sentence answers the query (has every label term).
    pub answers: Vec<bool>,
    /// Per candidate: it answers or assessors judged it to; `None` when the
    /// query was not judged.
    pub judged: Option<Vec<bool>>,
    /// Cross-validation fold (grouped by the answering note).
    pub fold: usize,
}

/// The key-point pools of the labelled queries `ask` answers.
pub fn key_point_examples(
    engine: &mut Engine,
    labels: &[AnswerLabel],
    p: &SearchParams,
) -> Result<Vec<KeyPointExample>> {
    let mut out = Vec::new();
    for l in labels {
        let Some(pool) = engine.key_point_pool(&l.query, p)? else {
            continue;
        };
        let answers = pool.texts.iter().map(|t| l.answered_by(t)).collect();
        let judged = (!l.judged.is_empty())
            .then(|| pool.texts.iter().map(|t| l.judged_answered_by(t)).collect());
        out.push(KeyPointExample {
            query: l.query.clone(),
            pool,
            answers,
            judged,
            fold: fold_of(&l.expected),
        });
    }
    Ok(out)
}

fn fold_of(id: &str) -> usize {
    id.trim_start_matches('q')
        .parse::<usize>()
        .map_or(0, |n| n % FOLDS)
}

/// Whether the key points chosen with weights `w` contain the labelled
/// answer, and (when judged) one the assessors judged to answer.
fn key_points_answer(w: &[f32], e: &KeyPointExample, n: usize) -> (bool, Option<bool>) {
    let c = &e.pool.candidates;
    let at: Vec<(usize, usize)> = c.iter().map(|c| c.at).collect();
    let rel: Vec<f32> = c.iter().map(|c| keypoints::relevance(w, &c.x)).collect();
    let picked = keypoints::choose(
        &at,
        &rel,
        n,
        |a, b| e.pool.sims[a][b],
        |a, b| keypoints::repeats(&e.pool.texts[a], &e.pool.texts[b]),
    );
    let judged = e.judged.as_ref().map(|j| picked.iter().any(|&i| j[i]));
    (picked.iter().any(|&i| e.answers[i]), judged)
}

/// The key-point model's fit.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPointFit {
    /// Weights fitted on all queries (intercept first).
    pub weights: Vec<f32>,
    /// Queries (answered by `ask`, so with key points).
    pub queries: usize,
    /// Share of them with an answering sentence among the candidates (the ceiling).
    pub reachable: f64,
    /// Share whose key points contain an answer, weights fitted without their fold.
    pub cv_answered: f64,
    /// The same with the weights in use ([`keypoints::WEIGHTS`]).
    pub current_answered: f64,
    /// Judged queries among them.
    pub judged_queries: usize,
    /// Share of those whose key points contain a judged answer, held out.
    pub cv_judged: f64,
    /// The same with the weights in use.
    pub current_judged: f64,
}

/// An outside topic close to a note's question and tags.
#[derive(Debug, Clone, Serialize)]
pub struct OutsideNearNote {
    /// The topic ([`crate::index::outside`]).
    pub topic: String,
    /// The nearest note.
    pub note: String,
    /// Their cosine.
    pub cosine: f32,
}

/// The outside topics nearest to a note's question and tags, nearest first,
/// at cosine `min` or more: the ones to check are not a note's own topic.
pub fn outside_near_notes(g: &crate::index::Generation, min: f32) -> Vec<OutsideNearNote> {
    let titles = crate::index::dense::Flat::new(&g.titles);
    let mut near: Vec<OutsideNearNote> = (0..g.outside.len())
        .filter_map(|i| {
            let h = titles.search(g.outside.row(i), 1).into_iter().next()?;
            (h.score >= min).then(|| OutsideNearNote {
                topic: g.outside_topics[i].clone(),
                note: g.notes[h.ord as usize].id.clone(),
                cosine: h.score,
            })
        })
        .collect();
    near.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
    near
}

/// Five-fold cross-validation of the key-point model, then a fit on all.
pub fn cross_validate_key_points(ex: &[KeyPointExample], n: usize) -> KeyPointFit {
    let fit_on = |train: &[&KeyPointExample]| {
        let mut xs: Vec<&[f32]> = Vec::new();
        let mut ys = Vec::new();
        for e in train {
            for (c, &y) in e.pool.candidates.iter().zip(&e.answers) {
                xs.push(&c.x);
                ys.push(y);
            }
        }
        fit_logistic(&xs, &ys, &keypoints::SIGNS)
    };
    // (labelled answer, judged answer) counts over the held-out folds and
    // with the weights in use.
    let count = |hits: &mut (usize, usize), (a, j): (bool, Option<bool>)| {
        hits.0 += usize::from(a);
        hits.1 += usize::from(j == Some(true));
    };
    let mut held_out = (0, 0);
    for f in 0..FOLDS {
        let train: Vec<&KeyPointExample> = ex.iter().filter(|e| e.fold != f).collect();
        let w = fit_on(&train);
        for e in ex.iter().filter(|e| e.fold == f) {
            count(&mut held_out, key_points_answer(&w, e, n));
        }
    }
    let mut current = (0, 0);
    for e in ex {
        count(&mut current, key_points_answer(&keypoints::WEIGHTS, e, n));
    }
    let q = ex.len().max(1) as f64;
    let judged = ex.iter().filter(|e| e.judged.is_some()).count();
    let j = judged.max(1) as f64;
    let all: Vec<&KeyPointExample> = ex.iter().collect();
    KeyPointFit {
        weights: fit_on(&all),
        queries: ex.len(),
        reachable: ex.iter().filter(|e| e.answers.contains(&true)).count() as f64 / q,
        cv_answered: held_out.0 as f64 / q,
        current_answered: current.0 as f64 / q,
        judged_queries: judged,
        cv_judged: held_out.1 as f64 / j,
        current_judged: current.1 as f64 / j,
    }
}

/// Held-out rates of one fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    /// Weights fitted on all examples (intercept first).
    pub weights: [f32; abstain::N_FEATURES + 1],
    /// Cross-validated share of covered queries abstained on.
    pub cv_covered_abstained: f64,
    /// Cross-validated share of uncovered queries abstained on.
    pub cv_uncovered_abstained: f64,
    /// The same two with the weights in use today ([`abstain::WEIGHTS`]).
    pub current_covered_abstained: f64,
    /// See above.
    pub current_uncovered_abstained: f64,
    /// Examples.
    pub examples: usize,
}

/// Five-fold cross-validation, then a fit on everything.
pub fn cross_validate(examples: &[Example]) -> FitReport {
    let mut wrong_covered = 0usize;
    let mut right_uncovered = 0usize;
    for f in 0..FOLDS {
        let train: Vec<&Example> = examples.iter().filter(|e| e.fold != f).collect();
        let w = fit(&train);
        for e in examples.iter().filter(|e| e.fold == f) {
            let abstains = abstain::probability_with(&w, &e.x) < abstain::THRESHOLD;
            if e.covered && abstains {
                wrong_covered += 1;
            }
            if !e.covered && abstains {
                right_uncovered += 1;
            }
        }
    }
    let all: Vec<&Example> = examples.iter().collect();
    let covered = examples.iter().filter(|e| e.covered).count().max(1) as f64;
    let uncovered = examples.iter().filter(|e| !e.covered).count().max(1) as f64;
    let current = |want: bool| {
        examples
            .iter()
            .filter(|e| e.covered == want)
            .filter(|e| abstain::probability_with(&abstain::WEIGHTS, &e.x) < abstain::THRESHOLD)
            .count() as f64
    };
    FitReport {
        weights: fit(&all),
        cv_covered_abstained: wrong_covered as f64 / covered,
        cv_uncovered_abstained: right_uncovered as f64 / uncovered,
        current_covered_abstained: current(true) / covered,
        current_uncovered_abstained: current(false) / uncovered,
        examples: examples.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_auc_counts_pairs_and_halves_ties() {
        assert_eq!(roc_auc(&[(0.9, true), (0.1, false)]), Some(1.0));
        assert_eq!(roc_auc(&[(0.1, true), (0.9, false)]), Some(0.0));
        assert_eq!(roc_auc(&[(0.5, true), (0.5, false)]), Some(0.5));
        // Pairs: (0.8 > 0.6) (0.8 > 0.2) (0.4 < 0.6) (0.4 > 0.2): 3 of 4.
        let s = [(0.8, true), (0.4, true), (0.6, false), (0.2, false)];
        assert_eq!(roc_auc(&s), Some(0.75));
        assert_eq!(roc_auc(&[(0.3, true)]), None);
    }

    #[test]
    fn labels_match_all_their_terms() {
        let l = AnswerLabel {
            expected: "q18".into(),
            query: "why divide by sqrt dk".into(),
            terms: vec!["variance".into(), "softmax".into()],
            judged: vec!["without the scale, the logits".into()],
        };
        assert!(
            l.answered_by("Dividing keeps unit **variance** so the Softmax does not saturate.")
        );
        assert!(!l.answered_by("The softmax saturates."));
        // A judged sentence answers too, but only for the judged rate.
        let judged = "Worked example. Without the scale, the logits grow with dk.";
        assert!(l.judged_answered_by(judged) && !l.answered_by(judged));
        assert!(l.judged_answered_by("Dividing keeps the variance, so the softmax is fine."));
    }

    #[test]
    fn judgments_attach_to_their_label_or_fail_on_one_line() {
        let label = |q: &str| AnswerLabel {
            expected: "q18".into(),
            query: q.into(),
            terms: vec!["softmax".into()],
            judged: Vec::new(),
        };
        let mut labels = vec![label("why divide by sqrt dk"), label("what is attention")];
        let (dir, path) = scratch(
            "judgments",
            "j.tsv",
            "# comment\nq18\twhy divide by sqrt dk\tThe Scale | keeps it\n",
        );
        load_judgments(&path, &mut labels).unwrap();
        assert_eq!(labels[0].judged, vec!["the scale", "keeps it"]);
        assert!(labels[1].judged.is_empty());
        std::fs::write(&path, "q19\twhy divide by sqrt dk\tthe scale\n").unwrap();
        let e = load_judgments(&path, &mut labels).unwrap_err().to_string();
        assert!(
            e.contains("j.tsv:1") && e.contains("no answer label"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A scratch folder for one test (`cram-<tag>-<pid>` under the temp
    /// directory) holding `name` with `text`; returns the folder and the file.
    fn scratch(tag: &str, name: &str, text: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("cram-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// Writes each of `bad` (one line) to `path` and checks that `load`
    /// fails on line 1, naming the file and `flag`.
    fn each_bad_line_fails<T: std::fmt::Debug>(
        path: &Path,
        bad: &[&str],
        load: impl Fn(&Path) -> Result<T>,
        flag: &str,
    ) {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for line in bad {
            std::fs::write(path, line).unwrap();
            let e = load(path).unwrap_err().to_string();
            assert!(e.contains(&format!("{file}:1")) && e.contains(flag), "{e}");
        }
    }

    #[test]
    fn also_verdicts_read_with_or_without_a_reason_or_fail_on_one_line() {
        let (dir, path) = scratch(
            "also",
            "also.tsv",
            "# c\ntoken pricing\tq36\t1\tsame cost\nkv cache\tq18\t0\n",
        );
        let j = load_also_judgments(&path).unwrap();
        assert_eq!(j.by_query["token pricing"], ("q36".to_string(), true));
        assert_eq!(j.by_query["kv cache"], ("q18".to_string(), false));
        each_bad_line_fails(
            &path,
            &["kv cache\tq18\tyes\n", "kv cache\tq18\n", "\tq18\t1\n"],
            load_also_judgments,
            "--also-judgments",
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn standalone_verdicts_key_on_the_whole_sentence_or_fail_on_one_line() {
        let (dir, path) = scratch(
            "alone",
            "a.tsv",
            "# comment\n1\t-\tThe **KV** cache grows with context.\n0\tR\tIt grows.\n",
        );
        let j = load_standalone_judgments(&path).unwrap();
        assert_eq!(j.verdict("The KV cache grows with context."), Some(true));
        assert_eq!(j.verdict("It grows."), Some(false));
        // A sentence that only starts like a judged one has no verdict.
        assert_eq!(j.verdict("It grows fast."), None);
        let mut tally = StandaloneTally::default();
        let kp = |t: &str| crate::retrieval::keypoints::KeyPoint {
            text: t.into(),
            passage: 1,
            chunk_id: "q01#x".into(),
            cosine: 0.5,
        };
        tally.add(
            &j,
            &[
                kp("It grows."),
                kp("The KV cache grows with context."),
                kp("New."),
            ],
        );
        let s = tally.score();
        assert_eq!((s.shown, s.reads_alone), (3, 0.5));
        assert!((s.judged_share - 2.0 / 3.0).abs() < 1e-9);
        each_bad_line_fails(
            &path,
            &["yes\t-\tThe cache\n", "1\t-\n", "1\t-\t \n"],
            load_standalone_judgments,
            "--standalone-judgments",
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shown_judgments_group_by_query_or_fail_on_one_line() {
        let (dir, path) = scratch(
            "shown",
            "s.tsv",
            "# comment\nkv cache\t1\tThe **KV** cache\nkv cache\t0\tSay so\nrrf\t0\tFusion\n",
        );
        let j = load_shown_judgments(&path).unwrap();
        assert_eq!(
            j.by_query["kv cache"],
            vec![
                ("the kv cache".to_string(), true),
                ("say so".to_string(), false)
            ]
        );
        assert_eq!(j.by_query["rrf"].len(), 1);
        each_bad_line_fails(
            &path,
            &[
                "kv cache\tyes\tThe cache\n",
                "kv cache\t1\n",
                "kv cache\t1\t \n",
            ],
            load_shown_judgments,
            "--holdout-judgments",
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fit_separates_and_stays_monotone() {
        let ex = |x: [f32; abstain::N_FEATURES], covered: bool, fold: usize| Example {
            x,
            covered,
            fold,
            query: String::new(),
        };
        let mut v = Vec::new();
        for i in 0..40 {
            let t = i as f32 / 40.0;
            v.push(ex(
                [
                    0.5 + 0.2 * t,
                    0.5,
                    0.9,
                    1.0,
                    0.8,
                    0.9,
                    0.6,
                    0.7,
                    1.0,
                    0.8,
                    0.0,
                    1.5,
                    -0.2,
                ],
                true,
                i % FOLDS,
            ));
            v.push(ex(
                [
                    0.2 + 0.1 * t,
                    0.2,
                    0.3,
                    0.5,
                    0.1,
                    0.2,
                    0.1,
                    0.3,
                    0.0,
                    0.3,
                    0.4,
                    1.5,
                    0.1,
                ],
                false,
                i % FOLDS,
            ));
        }
        let r = cross_validate(&v);
        assert!(r.cv_covered_abstained < 0.05, "{r:?}");
        assert!(r.cv_uncovered_abstained > 0.95, "{r:?}");
        for (j, sign) in abstain::SIGNS.iter().enumerate() {
            let w = r.weights[j + 1];
            assert!(
                f32::from(*sign) * w >= 0.0,
                "{} = {w}",
                abstain::FEATURES[j]
            );
        }
    }
}

/// One query for fitting the closest-question model: its candidate notes and
/// which of them are acceptable.
#[derive(Debug, Clone)]
pub struct ClosestExample {
    /// The query.
    pub query: String,
    /// Where it comes from: `dev` or a realistic kind.
    pub set: String,
    /// The candidates ([`Engine::closest_pool`]).
    pub cands: Vec<closest::Candidate>,
    /// Per candidate: an acceptable note.
    pub ok: Vec<bool>,
    /// Cross-validation fold (by the first acceptable note).
    pub fold: usize,
}

/// The dev queries and the realistic set's in-scope queries that `ask`
/// answers in hybrid mode, with their candidate notes.
pub fn closest_examples(
    engine: &mut Engine,
    dev: &[DevQuery],
    realistic: &[RealQuery],
    p: &SearchParams,
) -> Result<Vec<ClosestExample>> {
    let queries = dev
        .iter()
        .map(|d| ("dev", std::slice::from_ref(&d.expected), &d.query))
        .chain(
            realistic
                .iter()
                .filter(|r| r.in_scope())
                .map(|r| (r.kind.as_str(), &r.ids[..], &r.query)),
        );
    let mut out = Vec::new();
    for (set, ids, query) in queries {
        let cands = engine.closest_pool(query, p)?;
        if cands.is_empty() || ids.is_empty() {
            continue;
        }
        out.push(ClosestExample {
            query: query.clone(),
            set: set.to_string(),
            ok: cands.iter().map(|c| ids.contains(&c.note)).collect(),
            cands,
            fold: fold_of(&ids[0]),
        });
    }
    Ok(out)
}

/// The closest-question model's fit: closest@1 over the answered queries
/// of each set, in the fused order, held out, and with the weights in use.
#[derive(Debug, Clone, Serialize)]
pub struct ClosestFit {
    /// Weights fitted on all queries (intercept first).
    pub weights: Vec<f32>,
    /// Per set (`dev`, each realistic kind, `realistic`): queries, then
    /// closest@1 in the fused order, held out, and with [`closest::WEIGHTS`].
    pub sets: Vec<(String, usize, f64, f64, f64)>,
}

/// Five-fold cross-validation grouped by note, then a fit on everything.
pub fn cross_validate_closest(ex: &[ClosestExample]) -> ClosestFit {
    let fit_on = |train: &[&ClosestExample]| {
        let (mut xs, mut ys): (Vec<&[f32]>, Vec<bool>) = (Vec::new(), Vec::new());
        for e in train {
            for (c, &y) in e.cands.iter().zip(&e.ok) {
                xs.push(&c.x);
                ys.push(y);
            }
        }
        fit_logistic(&xs, &ys, &closest::SIGNS)
    };
    let first_ok = |w: &[f32], e: &ClosestExample| e.ok[closest::order(w, &e.cands)[0]];
    let mut held_out = vec![false; ex.len()];
    for f in 0..FOLDS {
        let train: Vec<&ClosestExample> = ex.iter().filter(|e| e.fold != f).collect();
        let w = fit_on(&train);
        for (i, e) in ex.iter().enumerate().filter(|(_, e)| e.fold == f) {
            held_out[i] = first_ok(&w, e);
        }
    }
    let mut names: Vec<String> = Vec::new();
    for e in ex {
        if !names.contains(&e.set) {
            names.push(e.set.clone());
        }
    }
    names.push("realistic".into());
    let sets = names
        .into_iter()
        .map(|name| {
            let idx: Vec<usize> = (0..ex.len())
                .filter(|&i| ex[i].set == name || (name == "realistic" && ex[i].set != "dev"))
                .collect();
            let n = idx.len().max(1) as f64;
            let rate =
                |hit: &dyn Fn(usize) -> bool| idx.iter().filter(|&&i| hit(i)).count() as f64 / n;
            (
                name,
                idx.len(),
                rate(&|i| ex[i].ok[0]),
                rate(&|i| held_out[i]),
                rate(&|i| first_ok(&closest::WEIGHTS, &ex[i])),
            )
        })
        .collect();
    let all: Vec<&ClosestExample> = ex.iter().collect();
    ClosestFit {
        weights: fit_on(&all),
        sets,
    }
}
