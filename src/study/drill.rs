//! The drill: the interview questions asked back in spaced-repetition order.
//!
//! A drill session picks questions ([`plan`]): those due first (most overdue
//! first), then questions never drilled (taking the sections in turn, so a
//! session mixes topics), up to a count. For each, the user recalls or types
//! an answer, sees the material ([`card`]: key points from the retrieved
//! passages, with citations, and the note's short answer), and grades
//! themselves; [`crate::study::schedule`] turns the grade into the next due date.
//!
//! If the user typed an answer, [`hint`] shows which of the note's key terms
//! it used and which it missed. Key terms are BM25 analyzer terms (stemmed, so
//! "regularised" covers "regularization") of the note's short answer, minus
//! the question's own words, ranked by tf-idf at the level of notes
//! ([`NoteTerms`]): `tf * ln(N / df)`, with tf counted over the whole note
//! (references excluded) and df over the N notes. Passage-level BM25 idf
//! was tried first and ranked one-off names ("Magesh", "German") above the
//! note's concepts; a dampened `1 + ln tf` still let cited authors in
//! ("Hui", "Belkin" for the cross-entropy question). Raw tf keeps what the
//! note keeps coming back to ("logits", "softmax", "gradient"). It is a
//! hint, not a grade: a good answer can use other words.
//!
//! Progress lives in one JSON file ([`Progress`], schema [`SCHEMA`]), by
//! default `$CRAM_HOME/drill.json`. Every grade is saved at once: the file is
//! re-read under a lock, updated, written to a temporary file, synced and
//! renamed over the old one, so an interrupted session or two sessions at
//! once lose nothing. A file that cannot be parsed is never overwritten.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::SearchParams;
use crate::error::{Error, IoContext, Result};
use crate::index::NoteRecord;
use crate::retrieval::answer::Answer;
use crate::retrieval::engine::Engine;
use crate::study::schedule::{CardState, DAY, Grade};

/// Name and version of the progress file's schema.
pub const SCHEMA: &str = "cram.drill/1";
/// Name and version of `cram drill --stats --json`.
pub const STATS_SCHEMA: &str = "cram.drill.stats/1";
/// Key terms shown in a hint.
pub const KEY_TERMS: usize = 10;

/// One question of the deck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckCard {
    /// `qNN`.
    pub id: String,
    /// Its section.
    pub section: String,
    /// The question.
    pub question: String,
}

/// The bundled questions of the chosen sections, in id order.
pub fn deck(notes: &[NoteRecord], sections: &[String]) -> Result<Vec<DeckCard>> {
    let all: Vec<DeckCard> = notes
        .iter()
        .filter_map(|n| {
            Some(DeckCard {
                id: n.question_id.clone()?,
                section: n.section.clone()?,
                question: n.title.clone(),
            })
        })
        .collect();
    if sections.is_empty() {
        return Ok(all);
    }
    let mut names: Vec<String> = Vec::new();
    for c in &all {
        if !names.contains(&c.section) {
            names.push(c.section.clone());
        }
    }
    let chosen: HashSet<String> = sections
        .iter()
        .map(|w| resolve_section(&names, w))
        .collect::<Result<_>>()?;
    Ok(all
        .into_iter()
        .filter(|c| chosen.contains(&c.section))
        .collect())
}

/// The one section `wanted` names: its full name, the acronym in brackets
/// (`rag`), its initials (`ml`), the start of one of its words (`backend`,
/// `safety`) or a word with the same stem (`agents` for "Agentic"). Tried in
/// that order; the first rule that matches decides, and must match one section.
pub fn resolve_section(names: &[String], wanted: &str) -> Result<String> {
    let w = wanted.trim().to_lowercase();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let acronym = |s: &str| -> Option<String> {
        let inner = s.split_once('(')?.1.split_once(')')?.0;
        Some(inner.trim().to_lowercase())
    };
    let initials = |s: &str| -> String {
        words(s)
            .iter()
            .filter_map(|t| t.chars().next())
            .filter(|c| c.is_alphabetic())
            .collect()
    };
    let wanted_stems = crate::index::lexical::analyze(&w);
    let rules: [&dyn Fn(&str) -> bool; 5] = [
        &|s| s.to_lowercase() == w,
        &|s| acronym(s).as_deref() == Some(w.as_str()),
        &|s| initials(s) == w,
        &|s| w.len() >= 3 && words(s).iter().any(|t| t.starts_with(&w)),
        &|s| {
            !wanted_stems.is_empty()
                && crate::index::lexical::analyze(s)
                    .iter()
                    .any(|t| wanted_stems.contains(t))
        },
    ];
    let bad = |reason: String| Error::InvalidParam {
        name: "--section",
        reason,
    };
    if w.is_empty() {
        return Err(bad(format!("empty; sections: {}", names.join("; "))));
    }
    for rule in rules {
        let hits: Vec<&String> = names.iter().filter(|s| rule(s)).collect();
        match hits.as_slice() {
            [] => continue,
            [one] => return Ok((*one).clone()),
            many => {
                let list: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                return Err(bad(format!(
                    "`{wanted}` matches {}: say which",
                    list.join("; ")
                )));
            }
        }
    }
    Err(bad(format!(
        "`{wanted}` matches no section; sections: {}",
        names.join("; ")
    )))
}

/// The clock: `$CRAM_NOW` (Unix seconds, for scripted sittings and tests)
/// or the system time.
pub fn now() -> Result<i64> {
    match std::env::var("CRAM_NOW") {
        Ok(s) => s.trim().parse().map_err(|_| Error::InvalidParam {
            name: "CRAM_NOW",
            reason: format!("`{s}` is not a number of Unix seconds"),
        }),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)),
    }
}

/// Why question `id` is asked now, in a few words: `new`, `due 2 d ago`,
/// `again` (graded again and back within the sitting) or `early, due in 3 d`.
pub fn why(progress: &Progress, id: &str, now: i64) -> String {
    use crate::study::schedule::describe_delay;
    match progress.card(id) {
        None => "new".to_string(),
        Some(s) if s.is_due(now) => format!("due {}", describe_delay(s.due, now)),
        Some(s) if s.last_grade == Some(Grade::Again) => "again".to_string(),
        Some(s) => format!("early, due {}", describe_delay(s.due, now)),
    }
}

/// The questions to ask, in order: due ones (most overdue first), then new
/// ones (sections in turn), then, with `ahead`, ones not yet due (soonest
/// first); at most `count`.
pub fn plan(
    deck: &[DeckCard],
    progress: &Progress,
    now: i64,
    count: usize,
    ahead: bool,
) -> Vec<String> {
    let mut due: Vec<(&DeckCard, &CardState)> = Vec::new();
    let mut later: Vec<(&DeckCard, &CardState)> = Vec::new();
    let mut new_by_section: Vec<(String, VecDeque<&DeckCard>)> = Vec::new();
    for c in deck {
        match progress.card(&c.id) {
            Some(s) if s.is_due(now) => due.push((c, s)),
            Some(s) => later.push((c, s)),
            None => match new_by_section.iter_mut().find(|(s, _)| *s == c.section) {
                Some((_, q)) => q.push_back(c),
                None => new_by_section.push((c.section.clone(), VecDeque::from([c]))),
            },
        }
    }
    due.sort_by_key(|(c, s)| (s.due, c.id.clone()));
    later.sort_by_key(|(c, s)| (s.due, c.id.clone()));
    let mut out: Vec<String> = due.iter().map(|(c, _)| c.id.clone()).collect();
    // Interleave sections: one new question from each in turn.
    while new_by_section.iter().any(|(_, q)| !q.is_empty()) {
        for (_, q) in new_by_section.iter_mut() {
            if let Some(c) = q.pop_front() {
                out.push(c.id.clone());
            }
        }
    }
    if ahead {
        out.extend(later.iter().map(|(c, _)| c.id.clone()));
    }
    out.truncate(count);
    out
}

/// The queue of one sitting. A question graded "again" comes back once more
/// at the end of the sitting.
#[derive(Debug, Default)]
pub struct Session {
    queue: VecDeque<String>,
    requeued: HashSet<String>,
    /// Grades given so far, indexed like [`Grade::ALL`].
    pub tally: [usize; 4],
}

impl Session {
    /// A sitting over `plan`.
    pub fn new(plan: Vec<String>) -> Session {
        Session {
            queue: plan.into(),
            ..Session::default()
        }
    }

    /// The next question, if any.
    pub fn next_question(&mut self) -> Option<String> {
        self.queue.pop_front()
    }

    /// Questions still queued.
    pub fn remaining(&self) -> usize {
        self.queue.len()
    }

    /// Records a grade: "again" requeues the question (once per sitting).
    pub fn graded(&mut self, id: &str, grade: Grade) {
        let i = Grade::ALL.iter().position(|g| *g == grade).unwrap_or(0);
        self.tally[i] += 1;
        if grade == Grade::Again && self.requeued.insert(id.to_string()) {
            self.queue.push_back(id.to_string());
        }
    }

    /// Reviews graded so far.
    pub fn reviewed(&self) -> usize {
        self.tally.iter().sum()
    }
}

/// One review, as logged in the progress file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// `qNN`.
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// The grade given.
    pub grade: Grade,
    /// Key terms the typed answer covered, and how many there were (null
    /// when nothing was typed).
    pub covered: Option<[usize; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProgressFile {
    schema: String,
    cards: BTreeMap<String, CardState>,
    log: Vec<Review>,
}

impl Default for ProgressFile {
    fn default() -> Self {
        ProgressFile {
            schema: SCHEMA.to_string(),
            cards: BTreeMap::new(),
            log: Vec::new(),
        }
    }
}

/// The drill's progress file.
#[derive(Debug)]
pub struct Progress {
    path: PathBuf,
    data: ProgressFile,
}

impl Progress {
    /// `$CRAM_DRILL_PROGRESS` if set, else `$CRAM_HOME/drill.json`.
    pub fn default_path() -> PathBuf {
        match std::env::var_os("CRAM_DRILL_PROGRESS") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => crate::config::cram_home().join("drill.json"),
        }
    }

    /// Reads `path`; a missing file is an empty progress.
    pub fn load(path: &Path) -> Result<Progress> {
        Ok(Progress {
            path: path.to_path_buf(),
            data: read(path)?,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A question's schedule, if it was ever drilled.
    pub fn card(&self, id: &str) -> Option<&CardState> {
        self.data.cards.get(id)
    }

    /// Every question drilled so far, by id, with its schedule.
    pub fn cards(&self) -> impl Iterator<Item = (&String, &CardState)> {
        self.data.cards.iter()
    }

    /// All reviews, oldest first.
    pub fn log(&self) -> &[Review] {
        &self.data.log
    }

    /// Applies a grade and saves at once. The file is re-read under a lock
    /// first, so grades saved meanwhile by another session are kept.
    pub fn record(
        &mut self,
        id: &str,
        grade: Grade,
        now: i64,
        covered: Option<[usize; 2]>,
    ) -> Result<CardState> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        fs::create_dir_all(&dir).ctx("creating", &dir)?;
        let lock_path = self.path.with_extension("lock");
        let lock = File::create(&lock_path).ctx("creating", &lock_path)?;
        lock.lock().ctx("locking", &lock_path)?;
        let mut data = read(&self.path)?;
        let state = data
            .cards
            .get(id)
            .cloned()
            .unwrap_or_else(|| CardState::new(now))
            .review(grade, now);
        data.cards.insert(id.to_string(), state.clone());
        data.log.push(Review {
            id: id.to_string(),
            at: now,
            grade,
            covered,
        });
        let bytes = serde_json::to_vec_pretty(&data).expect("progress serialises");
        let mut tmp = tempfile::Builder::new()
            .prefix(".drill-")
            .tempfile_in(&dir)
            .ctx("creating a temporary file in", &dir)?;
        tmp.write_all(&bytes).ctx("writing", tmp.path())?;
        tmp.as_file().sync_all().ctx("syncing", tmp.path())?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io(format!("replacing {}", self.path.display()), e.error))?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        drop(lock);
        self.data = data;
        Ok(state)
    }
}

fn read(path: &Path) -> Result<ProgressFile> {
    let bad = |reason: String| Error::Progress {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ProgressFile::default()),
        Err(e) => return Err(bad(e.to_string())),
    };
    let data: ProgressFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if data.schema != SCHEMA {
        return Err(bad(format!(
            "schema is `{}`, this cram reads `{SCHEMA}`",
            data.schema
        )));
    }
    Ok(data)
}

/// How one section (or the whole deck) is going.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SectionStats {
    /// Section name ("all" for the total).
    pub section: String,
    /// Questions in it.
    pub questions: usize,
    /// Never drilled.
    pub new: usize,
    /// Drilled and due now.
    pub due_now: usize,
    /// Drilled and due within 7 days (due now included).
    pub due_7d: usize,
    /// Reviews logged.
    pub reviews: usize,
    /// Share of reviews not graded "again", in [0, 1] (null without reviews).
    pub recalled: Option<f64>,
    /// Mean scheduled interval in days over drilled questions: how long the
    /// section's answers are expected to stick (null if none drilled).
    pub mean_interval_days: Option<f64>,
    /// Lapses: learned questions forgotten later.
    pub lapses: u32,
}

/// A drilled question and when it is due.
#[derive(Debug, Clone, Serialize)]
pub struct Upcoming {
    /// `qNN`.
    pub id: String,
    /// The question.
    pub question: String,
    /// Unix seconds.
    pub due: i64,
}

/// `cram drill --stats`: the JSON contract [`STATS_SCHEMA`].
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Always [`STATS_SCHEMA`].
    pub schema: &'static str,
    /// The clock used, Unix seconds.
    pub now: i64,
    /// The progress file.
    pub progress_file: String,
    /// One row per section, in question order.
    pub sections: Vec<SectionStats>,
    /// All sections together.
    pub total: SectionStats,
    /// The next drilled questions to come due, soonest first (at most 5).
    pub next_due: Vec<Upcoming>,
}

/// Statistics over `deck`.
pub fn stats(deck: &[DeckCard], progress: &Progress, now: i64) -> Stats {
    let mut rows: Vec<SectionStats> = Vec::new();
    let mut total = SectionStats {
        section: "all".into(),
        ..Default::default()
    };
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for c in deck {
        let i = match rows.iter().position(|r| r.section == c.section) {
            Some(i) => i,
            None => {
                rows.push(SectionStats {
                    section: c.section.clone(),
                    ..Default::default()
                });
                sums.push((0.0, 0));
                rows.len() - 1
            }
        };
        by_id.insert(c.id.as_str(), i);
        let r = &mut rows[i];
        r.questions += 1;
        match progress.card(&c.id) {
            None => r.new += 1,
            Some(s) => {
                r.due_now += usize::from(s.is_due(now));
                r.due_7d += usize::from(s.due <= now + 7 * DAY);
                r.lapses += s.lapses;
                sums[i].0 += s.interval_days;
                sums[i].1 += 1;
            }
        }
    }
    let mut recalled: Vec<usize> = vec![0; rows.len()];
    for rv in progress.log() {
        if let Some(&i) = by_id.get(rv.id.as_str()) {
            rows[i].reviews += 1;
            recalled[i] += usize::from(rv.grade != Grade::Again);
        }
    }
    let (mut all_sum, mut all_n, mut all_recalled) = (0.0, 0, 0);
    for (i, r) in rows.iter_mut().enumerate() {
        r.recalled = (r.reviews > 0).then(|| recalled[i] as f64 / r.reviews as f64);
        r.mean_interval_days = (sums[i].1 > 0).then(|| sums[i].0 / sums[i].1 as f64);
        total.questions += r.questions;
        total.new += r.new;
        total.due_now += r.due_now;
        total.due_7d += r.due_7d;
        total.reviews += r.reviews;
        total.lapses += r.lapses;
        all_sum += sums[i].0;
        all_n += sums[i].1;
        all_recalled += recalled[i];
    }
    total.recalled = (total.reviews > 0).then(|| all_recalled as f64 / total.reviews as f64);
    total.mean_interval_days = (all_n > 0).then(|| all_sum / all_n as f64);
    let mut next_due: Vec<Upcoming> = deck
        .iter()
        .filter_map(|c| {
            let s = progress.card(&c.id)?;
            Some(Upcoming {
                id: c.id.clone(),
                question: c.question.clone(),
                due: s.due,
            })
        })
        .collect();
    next_due.sort_by_key(|u| (u.due, u.id.clone()));
    next_due.truncate(5);
    Stats {
        schema: STATS_SCHEMA,
        now,
        progress_file: progress.path().display().to_string(),
        sections: rows,
        total,
        next_due,
    }
}

/// A key term of a note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyTerm {
    /// The analyzer's term (lowercased, stemmed), as matched.
    pub term: String,
    /// The word as the note writes it most often (lowercased), as shown.
    pub word: String,
    /// Its weight (see [`note_key_terms`]).
    pub weight: f32,
}

/// The `n` heaviest terms of `text` that are not in `question`, by
/// `weight(term)`; ties go to the term seen first.
pub fn key_terms(
    text: &str,
    question: &str,
    weight: impl Fn(&str) -> f32,
    n: usize,
) -> Vec<KeyTerm> {
    let asked: HashSet<String> = crate::index::lexical::analyze(question)
        .into_iter()
        .collect();
    // term -> (first position, surface form counts in order of appearance)
    let mut seen: HashMap<String, (usize, Vec<(String, usize)>)> = HashMap::new();
    let mut pos = 0;
    for piece in text.split_whitespace().filter(|p| !p.contains("://")) {
        let compound = piece.contains('-');
        for word in piece.split(|c: char| !c.is_alphanumeric()) {
            let len = word.chars().count();
            // "pre" of "pre-activation" or "non" of "non-linear" is not a term.
            if len < 3 || (compound && len < 4) || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let lower = word.to_lowercase();
            for term in crate::index::lexical::analyze(&lower) {
                if asked.contains(&term) {
                    continue;
                }
                let e = seen.entry(term).or_insert((pos, Vec::new()));
                match e.1.iter_mut().find(|(w, _)| *w == lower) {
                    Some((_, c)) => *c += 1,
                    None => e.1.push((lower.clone(), 1)),
                }
                pos += 1;
            }
        }
    }
    let mut terms: Vec<(KeyTerm, usize)> = seen
        .into_iter()
        .map(|(term, (first, forms))| {
            // Most frequent form; the first seen on ties.
            let word = forms
                .iter()
                .fold(None::<&(String, usize)>, |best, f| match best {
                    Some(b) if b.1 >= f.1 => Some(b),
                    _ => Some(f),
                })
                .map(|f| f.0.clone())
                .unwrap_or_default();
            let weight = weight(&term);
            (KeyTerm { term, word, weight }, first)
        })
        .collect();
    terms.sort_by(|a, b| b.0.weight.total_cmp(&a.0.weight).then(a.1.cmp(&b.1)));
    terms.into_iter().take(n).map(|(t, _)| t).collect()
}

/// Which key terms a typed answer used, and which it missed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hint {
    /// Words of the key terms the answer used, heaviest first.
    pub covered: Vec<String>,
    /// Words of the key terms it did not use, heaviest first.
    pub missed: Vec<String>,
}

/// Compares a typed answer with the key terms (after the BM25 analyzer, so
/// word forms and case do not matter).
pub fn hint(terms: &[KeyTerm], typed: &str) -> Hint {
    let used: HashSet<String> = crate::index::lexical::analyze(typed).into_iter().collect();
    let (covered, missed): (Vec<&KeyTerm>, Vec<&KeyTerm>) =
        terms.iter().partition(|t| used.contains(&t.term));
    Hint {
        covered: covered.iter().map(|t| t.word.clone()).collect(),
        missed: missed.iter().map(|t| t.word.clone()).collect(),
    }
}

/// The text under a note's `## Short answer` heading (or its first paragraph).
pub fn short_answer(body: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut inside = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("## ") || t.starts_with("# ") {
            if inside {
                break;
            }
            inside = t
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("short answer");
            continue;
        }
        if inside {
            out.push(line);
        }
    }
    let text = out.join("\n").trim().to_string();
    if !text.is_empty() {
        return text;
    }
    body.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
        .to_string()
}

/// What a drill shows after the user answers.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    /// `qNN`.
    pub id: String,
    /// Section.
    pub section: String,
    /// The question.
    pub question: String,
    /// The note's short answer.
    pub short_answer: String,
    /// `cram ask` for the question: key points (minus those the short answer
    /// already says) and the cited passages.
    pub answer: Answer,
    /// The note's key terms, heaviest first.
    pub key_terms: Vec<KeyTerm>,
}

/// Term statistics over whole notes, for [`key_terms`].
#[derive(Debug, Clone, Default)]
pub struct NoteTerms {
    notes: usize,
    df: HashMap<String, usize>,
}

impl NoteTerms {
    /// Counts, for every analyzer term, the notes that use it.
    pub fn new(notes: &[NoteRecord]) -> NoteTerms {
        let mut df: HashMap<String, usize> = HashMap::new();
        for n in notes {
            let terms: HashSet<String> =
                crate::index::lexical::analyze(without_references(&n.body))
                    .into_iter()
                    .collect();
            for t in terms {
                *df.entry(t).or_default() += 1;
            }
        }
        NoteTerms {
            notes: notes.len(),
            df,
        }
    }

    /// `ln(N / df)`: 0 for a term every note uses.
    pub fn idf(&self, term: &str) -> f32 {
        let df = self.df.get(term).copied().unwrap_or(1).max(1);
        (self.notes.max(df) as f32 / df as f32).ln()
    }
}

/// A note's body up to its `## References` heading.
fn without_references(body: &str) -> &str {
    let lower = body.to_ascii_lowercase();
    match lower.find("\n## references") {
        Some(i) => &body[..i],
        None => body,
    }
}

/// The key terms of a note: terms of its short answer, weighted by
/// `tf * idf` with tf over the note and idf over notes.
pub fn note_key_terms(note: &NoteRecord, stats: &NoteTerms, n: usize) -> Vec<KeyTerm> {
    let mut tf: HashMap<String, usize> = HashMap::new();
    for t in crate::index::lexical::analyze(without_references(&note.body)) {
        *tf.entry(t).or_default() += 1;
    }
    let short = short_answer(&note.body);
    key_terms(
        &short,
        &note.title,
        |t| {
            // The short answer is part of the note, so tf >= 1.
            tf.get(t).copied().unwrap_or(1) as f32 * stats.idf(t)
        },
        n,
    )
}

/// The material for question `id`.
pub fn card(
    engine: &mut Engine,
    id: &str,
    params: &SearchParams,
    stats: &NoteTerms,
) -> Result<Card> {
    let note = engine.note(id)?.clone();
    let short = short_answer(&note.body);
    // Key points repeating the short answer (shown anyway) are dropped: ask
    // for a few more, keep the others.
    let wanted = params.key_points;
    let mut p = params.clone();
    if wanted > 0 {
        p.key_points = (wanted + 5).min(crate::config::MAX_KEY_POINTS);
    }
    let mut answer = engine.ask(&note.title, &p)?;
    let flat = |s: &str| {
        s.replace("**", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let short_flat = flat(&short);
    answer
        .key_points
        .retain(|k| !short_flat.contains(&flat(&k.text)));
    answer.key_points.truncate(wanted);
    Ok(Card {
        id: id.to_string(),
        section: note.section.clone().unwrap_or_default(),
        question: note.title.clone(),
        short_answer: short,
        answer,
        key_terms: note_key_terms(&note, stats, KEY_TERMS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn sections() -> Vec<String> {
        [
            "Fundamentals",
            "Machine Learning",
            "Deep Learning",
            "NLP & LLMs",
            "Retrieval-Augmented Generation (RAG)",
            "Agentic AI & Systems",
            "Backend & Infrastructure",
            "Performance, Cost & Scaling",
            "Failure & Debugging",
            "Ethics, Safety & Reality Checks",
            "Brutal Closing Questions",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn sections_resolve_by_name_acronym_initials_word_or_stem() {
        let s = sections();
        for (w, want) in [
            ("rag", "Retrieval-Augmented Generation (RAG)"),
            ("RAG", "Retrieval-Augmented Generation (RAG)"),
            ("ml", "Machine Learning"),
            ("dl", "Deep Learning"),
            ("nlp", "NLP & LLMs"),
            ("llm", "NLP & LLMs"),
            ("backend", "Backend & Infrastructure"),
            ("cost", "Performance, Cost & Scaling"),
            ("safety", "Ethics, Safety & Reality Checks"),
            ("debug", "Failure & Debugging"),
            ("agents", "Agentic AI & Systems"),
            ("deep learning", "Deep Learning"),
        ] {
            assert_eq!(resolve_section(&s, w).unwrap(), want, "{w}");
        }
        let err = resolve_section(&s, "learning").unwrap_err().to_string();
        assert!(err.contains("Machine Learning; Deep Learning"), "{err}");
        let err = resolve_section(&s, "cooking").unwrap_err().to_string();
        assert!(err.contains("matches no section") && err.contains("Fundamentals"));
        assert!(resolve_section(&s, " ").is_err());
    }

    fn card(id: &str, section: &str) -> DeckCard {
        DeckCard {
            id: id.into(),
            section: section.into(),
            question: format!("question {id}"),
        }
    }

    fn progress_in(dir: &Path) -> Progress {
        Progress::load(&dir.join("drill.json")).unwrap()
    }

    #[test]
    fn plan_puts_due_first_then_new_sections_in_turn() {
        let d = tempfile::tempdir().unwrap();
        let mut p = progress_in(d.path());
        let deck = vec![
            card("q01", "A"),
            card("q02", "A"),
            card("q03", "A"),
            card("q04", "B"),
            card("q05", "B"),
            card("q06", "C"),
        ];
        assert_eq!(
            plan(&deck, &p, T0, 10, false),
            ["q01", "q04", "q06", "q02", "q05", "q03"]
        );
        // q02 reviewed long ago (due), q05 just now (not due).
        p.record("q02", Grade::Good, T0 - 10 * DAY, None).unwrap();
        p.record("q03", Grade::Hard, T0 - 5 * DAY, None).unwrap();
        p.record("q05", Grade::Good, T0, None).unwrap();
        assert_eq!(
            plan(&deck, &p, T0, 10, false),
            ["q02", "q03", "q01", "q04", "q06"]
        );
        assert_eq!(plan(&deck, &p, T0, 2, false), ["q02", "q03"]);
        assert_eq!(plan(&deck, &p, T0, 10, true).last().unwrap(), "q05");
    }

    #[test]
    fn again_comes_back_once_per_sitting() {
        let mut s = Session::new(vec!["q01".into(), "q02".into()]);
        assert_eq!(s.next_question().as_deref(), Some("q01"));
        s.graded("q01", Grade::Again);
        assert_eq!(s.next_question().as_deref(), Some("q02"));
        s.graded("q02", Grade::Good);
        assert_eq!(s.next_question().as_deref(), Some("q01"));
        s.graded("q01", Grade::Again);
        assert_eq!(s.next_question(), None);
        assert_eq!(s.tally, [2, 0, 1, 0]);
        assert_eq!(s.reviewed(), 3);
    }

    #[test]
    fn progress_survives_reload_and_concurrent_writers() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("sub").join("drill.json");
        let mut a = Progress::load(&path).unwrap();
        let mut b = Progress::load(&path).unwrap();
        a.record("q01", Grade::Good, T0, Some([3, 10])).unwrap();
        // b never saw a's grade; saving must not drop it.
        b.record("q02", Grade::Easy, T0 + 1, None).unwrap();
        let c = Progress::load(&path).unwrap();
        assert_eq!(c.card("q01").unwrap().interval_days, 2.0);
        assert_eq!(c.card("q02").unwrap().interval_days, 4.0);
        assert_eq!(c.log().len(), 2);
        assert_eq!(c.log()[0].covered, Some([3, 10]));
        // No temporary files left behind.
        let names: Vec<String> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with(".drill-")), "{names:?}");
    }

    #[test]
    fn a_damaged_progress_file_is_reported_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("drill.json");
        fs::write(&path, b"{\"schema\": \"cram.drill/1\", \"cards\": {").unwrap();
        let err = Progress::load(&path).unwrap_err();
        assert_eq!(err.exit_code(), 6);
        assert!(err.to_string().contains("drill.json"), "{err}");
        fs::write(&path, br#"{"schema":"cram.drill/9","cards":{},"log":[]}"#).unwrap();
        let err = Progress::load(&path).unwrap_err().to_string();
        assert!(err.contains("cram.drill/9"), "{err}");
        // A writer that finds it damaged does not overwrite it either.
        let mut p = Progress {
            path: path.clone(),
            data: ProgressFile::default(),
        };
        assert!(p.record("q01", Grade::Good, T0, None).is_err());
        assert!(fs::read_to_string(&path).unwrap().contains("cram.drill/9"));
    }

    #[test]
    fn stats_count_per_section() {
        let d = tempfile::tempdir().unwrap();
        let mut p = progress_in(d.path());
        let deck = vec![card("q01", "A"), card("q02", "A"), card("q03", "B")];
        p.record("q01", Grade::Again, T0 - DAY, None).unwrap();
        p.record("q01", Grade::Good, T0 - DAY, None).unwrap(); // due T0 + 1 d
        p.record("q03", Grade::Easy, T0 - 10 * DAY, None).unwrap(); // due T0 - 6 d
        let s = stats(&deck, &p, T0);
        assert_eq!(s.schema, STATS_SCHEMA);
        let a = &s.sections[0];
        assert_eq!(
            (a.questions, a.new, a.due_now, a.due_7d, a.reviews),
            (2, 1, 0, 1, 2)
        );
        assert_eq!(a.recalled, Some(0.5));
        assert_eq!(a.mean_interval_days, Some(2.0));
        let b = &s.sections[1];
        assert_eq!((b.new, b.due_now, b.reviews), (0, 1, 1));
        assert_eq!(
            (s.total.questions, s.total.due_now, s.total.reviews),
            (3, 1, 3)
        );
        assert_eq!(s.total.mean_interval_days, Some(3.0));
        let ids: Vec<&str> = s.next_due.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["q03", "q01"]);
    }

    fn record(id: &str, body: &str) -> NoteRecord {
        NoteRecord {
            id: id.into(),
            question_id: Some(id.into()),
            section: Some("S".into()),
            title: "What does dropout do?".into(),
            tags: vec![],
            related: vec![],
            path: format!("{id}.md"),
            body: body.into(),
            title_hash: String::new(),
            format: None,
        }
    }

    #[test]
    fn key_terms_are_what_the_note_repeats_and_other_notes_do_not() {
        let q = record(
            "q01",
            "## Short answer\n\nDropout zeroes activations at random, like an ensemble of \
             thinned networks (Srivastava), non-linear. See https://example.org/dropout-2014.\n\n\
             ## Mechanism\n\nEach ensemble member is a thinned network; activations are \
             rescaled by the keep probability.\n\n## References\n\n- Srivastava, Srivastava, Srivastava.\n",
        );
        let others = [
            record(
                "q02",
                "## Short answer\n\nActivations and networks, at random.\n",
            ),
            record("q03", "## Short answer\n\nNetworks learn activations.\n"),
        ];
        let mut all = vec![q.clone()];
        all.extend(others);
        let stats = NoteTerms::new(&all);
        let terms = note_key_terms(&q, &stats, 3);
        let words: Vec<&str> = terms.iter().map(|t| t.word.as_str()).collect();
        // "ensemble" and "thinned" recur in the note and nowhere else;
        // "activations" is in every note; "dropout" is the question's word;
        // the name counts only once outside the references.
        assert_eq!(words[..2], ["ensemble", "thinned"], "{words:?}");
        assert!(!words.contains(&"activations") && !words.contains(&"dropout"));
        assert!(
            !words.iter().any(|w| w.contains("example")),
            "URLs are skipped"
        );
        let all = note_key_terms(&q, &stats, 50);
        assert!(
            all.iter().all(|t| t.word != "non") && all.iter().any(|t| t.word == "linear"),
            "prefixes of compounds are skipped: {all:?}"
        );
        let h = hint(&terms, "It is an ENSEMBLE of Thinned nets");
        assert_eq!(h.covered, ["ensemble", "thinned"]);
        assert_eq!(h.missed.len(), 1);
    }

    #[test]
    fn short_answer_is_the_section_or_the_first_paragraph() {
        let body = "# Title\n\n## Short answer\n\nIt is X.\nAnd Y.\n\n## Intuition\n\nZ.\n";
        assert_eq!(short_answer(body), "It is X.\nAnd Y.");
        assert_eq!(short_answer("# T\n\nFirst para.\n\nSecond."), "First para.");
    }
}
