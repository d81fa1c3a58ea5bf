//! The engine: keeps the index fresh and answers questions.
//!
//! [`Engine::open`] loads the notes, compares them with the live index's
//! fingerprint, rebuilds when they differ (embedding only new passages),
//! and opens the index. [`Engine::ask`] runs one question through both
//! arms, fusion, MMR and the abstention check.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use crate::config::{Mode, Paths, SearchParams, validate_query};
use crate::error::{Error, Result};
use crate::index::corpus::{Source, SourceKind};
use crate::index::dense::Flat;
use crate::index::embed::{Embedder, ModelInfo, PendingModel};
use crate::index::{CorpusSnapshot, Generation, IndexDir, Manifest, NoteRecord};
use crate::retrieval::answer::{
    Answer, Coverage, Evidence, IndexUsed, Mention, ParamsUsed, Passage, QuestionRef, SCHEMA,
    Timings,
};
use crate::retrieval::fuse::Fused;
use crate::retrieval::keypoints::{self, KeyPoint, Section};
use crate::retrieval::query::{self, Lexicon};
use crate::retrieval::search::{self, Searcher, ms};
use crate::retrieval::{abstain, closest};

/// The question a session answered last, for reading the next one as its
/// follow-up ([`Engine::ask_following`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    /// What was searched for it.
    pub searched: String,
    /// The note its answer named first.
    pub note: String,
}

impl Earlier {
    /// The topic `a` leaves for the next question: its searched text and
    /// closest note, when it answered on its own (not abstained, and not
    /// itself read as a follow-up, which keeps the topic it followed).
    pub fn of(a: &Answer) -> Option<Earlier> {
        if a.abstained || a.understood.after.is_some() {
            return None;
        }
        Some(Earlier {
            searched: a.understood.searched.clone(),
            note: a.questions.first()?.id.clone(),
        })
    }
}

/// A second closest question is shown ("also:") only when the lower of the
/// two notes' best fused scores is at least this share of the higher.
/// Assessors judged 61.3% of the 75 "also:" lines shown for the four query
/// sets to help (`cram eval`, tests/data/also_judgments.tsv); above this
/// margin the score ratio does not tell the helpful ones apart (BENCHMARKS.md,
/// fourteenth round), so it stays.
pub const ALSO_MARGIN: f32 = 0.9;

/// A passage to show: its ordinal, its place in the fused list (none for a
/// passage neither arm fetched) and what MMR decided about it (none for one
/// MMR did not place first-hand).
#[derive(Debug, Clone, Copy)]
struct Shown {
    ord: usize,
    fused: Option<usize>,
    mmr: Option<crate::retrieval::answer::MmrDetail>,
}

/// A passage key points may come from ([`Engine::key_point_sources`]).
#[derive(Debug, Clone, Copy)]
struct KeyPointSource {
    ord: usize,
    /// Its place in the fused list (none when neither arm fetched it).
    fused: Option<usize>,
    /// Among the shown passages before key points were chosen.
    shown: bool,
}

/// How an answer was reached, for the fits: the key-point sources (passage
/// ordinals) and candidates, and the closest-question candidates.
#[derive(Debug, Default)]
struct Workings {
    key_point_sources: Vec<usize>,
    key_point_candidates: Vec<keypoints::Candidate>,
    closest: Vec<closest::Candidate>,
}

/// What the key points are chosen for (see [`Engine::key_points`]).
struct KeyPointAsk<'a> {
    /// The question's vector.
    qvec: &'a [f32],
    /// Its content terms.
    content: &'a [String],
    /// How many key points are wanted.
    n: usize,
    /// Whether it asks for intuition ([`query::asks_for_intuition`]).
    intuition: bool,
}

/// Coverage of a question's terms by one note (see [`Engine::evidence`]).
#[derive(Debug, Clone, Copy, Default)]
struct NoteEvidence {
    coverage: f32,
    phrase: f32,
    concept: f32,
    spread: f32,
}

impl NoteEvidence {
    fn max(self, o: NoteEvidence) -> NoteEvidence {
        NoteEvidence {
            coverage: self.coverage.max(o.coverage),
            phrase: self.phrase.max(o.phrase),
            concept: self.concept.max(o.concept),
            spread: self.spread.max(o.spread),
        }
    }
}

/// Something worth telling the user while opening or building.
#[derive(Debug, Clone)]
pub enum Event {
    /// A one-line notice (rebuilding, skipped files, ...).
    Notice(String),
    /// Embedding progress: passages done of total.
    Embedding {
        /// Done so far.
        done: usize,
        /// Total to embed.
        total: usize,
    },
}

/// Which user folders to index besides the bundled notes.
#[derive(Debug, Clone, Default)]
pub enum ExtraNotes {
    /// Keep the folders recorded in the live index.
    #[default]
    Keep,
    /// Replace them with these folders (empty = bundled notes only).
    Set(Vec<PathBuf>),
}

/// When to rebuild the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rebuild {
    /// Rebuild when the notes, model or format changed, or the index is damaged.
    #[default]
    IfStale,
    /// Always build a new generation.
    Always,
}

/// Options for [`Engine::open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// User folders.
    pub extra: ExtraNotes,
    /// Rebuild policy.
    pub rebuild: Rebuild,
    /// When the index is stale but another process is building, fail with
    /// [`Error::Locked`] instead of answering from the previous index.
    pub fail_if_locked: bool,
}

/// What [`Engine::open`] did to the index.
#[derive(Debug, Clone)]
pub enum IndexState {
    /// The live index matched the notes.
    Fresh,
    /// A new generation was built (its manifest).
    Built(Box<Manifest>),
    /// The index was stale but another build held the lock: answering from the previous one.
    StaleLocked,
}

/// An open index plus the model, ready to answer.
pub struct Engine {
    paths: Paths,
    generation: Generation,
    embedder: Option<Embedder>,
    /// A model loading on another thread, taken by [`Engine::load_model`].
    pending: Option<PendingModel>,
    lexicon: OnceLock<Lexicon>,
    /// Per note (in `generation.notes` order), its analysed terms.
    note_terms: OnceLock<Vec<OnceLock<NoteTerms>>>,
    /// Per passage (by ordinal), the analysed terms of its headings and of
    /// its key-point sentences.
    chunk_terms: OnceLock<Vec<OnceLock<ChunkTerms>>>,
}

/// A passage's analysed terms, for the key-point features.
struct ChunkTerms {
    heading: HashSet<String>,
    sentences: Vec<HashSet<String>>,
}

/// A note's analysed terms, for the abstention evidence.
struct NoteTerms {
    /// Title, tags and body, in order.
    seq: Vec<String>,
    /// The same as a set.
    set: HashSet<String>,
    /// Its concept vocabulary ([`crate::retrieval::query::concept_text`]).
    concepts: HashSet<String>,
    /// Each passage's terms.
    passages: Vec<HashSet<String>>,
}

impl Engine {
    /// An engine over an opened generation, before the model is loaded.
    fn unloaded(paths: &Paths, generation: Generation) -> Engine {
        Engine {
            paths: paths.clone(),
            generation,
            embedder: None,
            pending: None,
            lexicon: Default::default(),
            note_terms: Default::default(),
            chunk_terms: Default::default(),
        }
    }

    /// Opens (and if needed rebuilds) the index described by `paths`.
    pub fn open(
        paths: &Paths,
        opts: &OpenOptions,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(Engine, IndexState)> {
        let dir = IndexDir::new(&paths.index);
        let model = ModelInfo::read(&paths.model_dir)?;
        let read_current = dir.current_manifest();
        let current = read_current.as_ref().ok().and_then(Option::as_ref);
        let mut sources = vec![Source {
            path: paths.corpus.clone(),
            kind: SourceKind::Bundled,
        }];
        match &opts.extra {
            // A manifest this cram cannot read (another format) still names
            // the user's folders.
            ExtraNotes::Keep => sources.extend(
                current
                    .map_or_else(|| dir.remembered_sources(), |m| m.sources.clone())
                    .into_iter()
                    .filter(|s| s.kind == SourceKind::User),
            ),
            ExtraNotes::Set(v) => sources.extend(v.iter().map(|p| Source {
                path: std::path::absolute(p).unwrap_or_else(|_| p.clone()),
                kind: SourceKind::User,
            })),
        }
        let snapshot = CorpusSnapshot::load(sources)?;
        for w in &snapshot.report.warnings {
            on_event(Event::Notice(w.clone()));
        }
        if !snapshot.report.warnings.is_empty() {
            let n = snapshot.report.warnings.len();
            on_event(Event::Notice(format!(
                "{n} file{} in your notes folders skipped (see above)",
                if n == 1 { "" } else { "s" }
            )));
        }
        let wanted = snapshot.fingerprint(&model, Default::default(), Default::default());
        tracing::info!(
            notes = snapshot.notes.len(),
            index = %paths.index.display(),
            model = %model.fingerprint(),
            "loaded notes"
        );

        let reason = match (current, opts.rebuild) {
            (_, Rebuild::Always) => Some("rebuilding the index".to_string()),
            (None, _) => Some(match &read_current {
                Ok(None) => "no index yet: building it".to_string(),
                Err(Error::IndexCorrupt { reason, .. }) if reason.starts_with("it has format") => {
                    format!(
                        "the index was written by another version of cram ({reason}): rebuilding it"
                    )
                }
                Err(Error::IndexCorrupt { reason, .. }) => {
                    format!("the index is unusable ({reason}): rebuilding it")
                }
                Err(_) | Ok(Some(_)) => "the index is unreadable: rebuilding it".to_string(),
            }),
            (Some(m), _) if m.fingerprint != wanted => Some(describe_change(m, &snapshot, &model)),
            (Some(_), _) => match Generation::open(&dir) {
                Ok(generation) => {
                    return Ok((Engine::unloaded(paths, generation), IndexState::Fresh));
                }
                Err(e @ Error::IndexCorrupt { .. }) => Some(format!("{e}: rebuilding it")),
                Err(e) => return Err(e),
            },
        };
        if let Some(r) = reason {
            tracing::info!(reason = %r, "building a new index generation");
            on_event(Event::Notice(r));
        }
        let lock = match dir.lock() {
            Ok(l) => l,
            Err(e @ Error::Locked(_)) if opts.fail_if_locked => return Err(e),
            Err(e @ Error::Locked(_)) => {
                // Someone else is building: answer from what is there, if anything.
                return match Generation::open(&dir) {
                    Ok(generation) => {
                        on_event(Event::Notice(
                            "another `cram index` is running: answering from the previous index"
                                .into(),
                        ));
                        Ok((Engine::unloaded(paths, generation), IndexState::StaleLocked))
                    }
                    Err(_) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let mut embedder: Option<Embedder> = None;
        let manifest = {
            let mut embed = |texts: &[String],
                             progress: &mut dyn FnMut(usize)|
             -> Result<Vec<Vec<f32>>> {
                if embedder.is_none() {
                    embedder = Some(Embedder::load(&paths.model_dir, paths.ort_lib.as_deref())?);
                }
                embedder
                    .as_mut()
                    .expect("loaded above")
                    .embed_with_progress(texts, progress)
            };
            let mut progress = |done, total| on_event(Event::Embedding { done, total });
            dir.build(&lock, &snapshot, &model, &mut embed, &mut progress)?
        };
        drop(lock);
        let generation = Generation::open(&dir)?;
        let engine = Engine {
            embedder,
            ..Engine::unloaded(paths, generation)
        };
        Ok((engine, IndexState::Built(Box::new(manifest))))
    }

    /// The open index generation.
    pub fn generation(&self) -> &Generation {
        &self.generation
    }

    /// All notes, sorted by id.
    pub fn notes(&self) -> &[NoteRecord] {
        &self.generation.notes
    }

    /// One note by id (`q14`), or [`Error::UnknownQuestion`].
    pub fn note(&self, id: &str) -> Result<&NoteRecord> {
        self.generation
            .note(id)
            .ok_or_else(|| Error::UnknownQuestion(id.to_string()))
    }

    /// Loads the embedding model now (it is otherwise loaded on first use),
    /// or waits for the one started by [`Engine::preload_model`].
    pub fn load_model(&mut self) -> Result<&mut Embedder> {
        if self.embedder.is_none() {
            let loaded = match self.pending.take() {
                Some(p) => p.wait()?,
                None => Embedder::load(&self.paths.model_dir, self.paths.ort_lib.as_deref())?,
            };
            self.embedder = Some(loaded);
        }
        Ok(self.embedder.as_mut().expect("loaded above"))
    }

    /// Starts loading the model of `paths` on another thread, before the
    /// index is opened: a cold `cram ask` then opens the index, analyses the
    /// question and runs BM25 while the model loads. Hand the result to
    /// [`Engine::adopt_model`]. Same model folder and runtime as [`Engine::open`]
    /// with the same `paths` would load.
    pub fn preload_model(paths: &Paths) -> PendingModel {
        Embedder::load_in_background(&paths.model_dir, paths.ort_lib.as_deref())
    }

    /// [`Engine::open`] while the model loads on a second thread, returning
    /// with the model loaded: for sessions and servers, which need it at once.
    pub fn open_loaded(
        paths: &Paths,
        opts: &OpenOptions,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(Engine, IndexState)> {
        let model = Engine::preload_model(paths);
        let (mut engine, state) = Engine::open(paths, opts, on_event)?;
        engine.adopt_model(model);
        engine.load_model()?;
        Ok((engine, state))
    }

    /// Takes a model started by [`Engine::preload_model`] for the same paths;
    /// ignored when a model is already loaded (opening rebuilt the index).
    pub fn adopt_model(&mut self, pending: PendingModel) {
        if self.embedder.is_none() {
            self.pending = Some(pending);
        }
    }

    /// Answers one question.
    pub fn ask(&mut self, question: &str, p: &SearchParams) -> Result<Answer> {
        Ok(self.answer(question, p, false, None)?.0)
    }

    /// `question` asked in a session after `earlier`, the last question it
    /// answered. It is answered alone first. Only when the notes do not
    /// cover it alone, it is not clearly nearer a topic the notes lack
    /// ([`abstain::FOLLOW_UP_MAX_MARGIN`]), and the earlier question's note is
    /// still the first of the nearest it names, is it read as a follow-up ("and why not
    /// batchnorm?"): asked again with the earlier question's words added,
    /// and that answer is kept when it is covered, with `understood.after`
    /// naming the question it followed. A new topic the notes cover, or one
    /// nowhere near the earlier note (an off-topic question), is never bent
    /// toward the last one. Either way, an answer from the earlier question's
    /// note does not move that note's short answer up to lead: the reader
    /// has just read it, and a follow-up asks for a detail.
    pub fn ask_following(
        &mut self,
        question: &str,
        earlier: Option<&Earlier>,
        p: &SearchParams,
    ) -> Result<Answer> {
        let seen = earlier.map(|e| e.note.as_str());
        let alone = self.answer(question, p, false, seen)?.0;
        self.follow_up(alone, earlier, p)
    }

    /// [`Engine::ask_following`] for a question `ask` has already answered
    /// (`alone`), so a caller that needs both answers asks once.
    pub fn follow_up(
        &mut self,
        alone: Answer,
        earlier: Option<&Earlier>,
        p: &SearchParams,
    ) -> Result<Answer> {
        // A question clearly nearer a topic the notes lack than to any note's
        // question names a new topic; a follow-up leans on the earlier one.
        let Some(earlier) = earlier.filter(|e| {
            alone.abstained
                && abstain::outside_margin(&alone.evidence) < abstain::FOLLOW_UP_MAX_MARGIN
                && alone.questions.first().is_some_and(|q| q.id == e.note)
        }) else {
            return Ok(alone);
        };
        let joined = format!("{} {}", alone.query.trim(), earlier.searched);
        if validate_query(&joined).is_err() {
            return Ok(alone);
        }
        let mut followed = self.answer(&joined, p, false, Some(&earlier.note))?.0;
        if followed.abstained {
            return Ok(alone);
        }
        followed.query = alone.query;
        followed.understood.after = Some(earlier.searched.clone());
        Ok(followed)
    }

    /// Every candidate key-point sentence `ask` chose its key points from,
    /// with its features and whether two candidates say the same (for
    /// fitting [`keypoints::WEIGHTS`]); `None` when `ask` abstains.
    pub fn key_point_pool(
        &mut self,
        question: &str,
        p: &SearchParams,
    ) -> Result<Option<keypoints::Pool>> {
        let (a, w) = self.answer(question, p, false, None)?;
        let (cands, ords) = (w.key_point_candidates, w.key_point_sources);
        if a.abstained || cands.is_empty() {
            return Ok(None);
        }
        let g = &self.generation;
        let at = |c: &keypoints::Candidate| g.sentence_vector(ords[c.at.0], c.at.1);
        let sims = cands
            .iter()
            .map(|a| {
                cands
                    .iter()
                    .map(|b| crate::index::dense::dot(at(a), at(b)))
                    .collect()
            })
            .collect();
        let texts = cands
            .iter()
            .map(|c| g.sentences[ords[c.at.0]][c.at.1].clone())
            .collect();
        Ok(Some(keypoints::Pool {
            candidates: cands,
            texts,
            sims,
        }))
    }

    /// The answer `ask` would give if it never abstained (for evaluation:
    /// ranking and abstention are judged separately); `abstained` and
    /// `coverage` still say what `ask` decides.
    pub fn ask_unabstained(&mut self, question: &str, p: &SearchParams) -> Result<Answer> {
        Ok(self.answer(question, p, true, None)?.0)
    }

    /// The question ids of the passages `ask` would show, even when it would
    /// abstain (for evaluation: ranking and abstention are judged separately).
    pub fn ask_ranked(&mut self, question: &str, p: &SearchParams) -> Result<Vec<Option<String>>> {
        let (a, _) = self.answer(question, p, true, None)?;
        Ok(a.results.into_iter().map(|r| r.question_id).collect())
    }

    /// The answer, and how it was reached (for the fits).
    ///
    /// `seen`: in a session, the note the reader was just answered from; its
    /// short answer, already read, does not lead again.
    fn answer(
        &mut self,
        question: &str,
        p: &SearchParams,
        keep_on_abstain: bool,
        seen: Option<&str>,
    ) -> Result<(Answer, Workings)> {
        p.validate()?;
        let q = validate_query(question)?;
        let started = Instant::now();
        let mut t = Timings::default();
        let understood = query::understand(q, self.lexicon(), p.understand);
        let searched = understood.searched.as_str();

        let qvec = self.embed_question(searched, p, &mut t)?;
        let ranking = self.search(searched, qvec.as_deref(), p, &mut t)?;

        // The question's content terms, analysed once for the evidence, the
        // mention and the key points.
        let content = abstain::content_terms(searched);
        // The closest-question model ranks the notes of the fused list; an
        // abstaining answer still names its nearest questions from it.
        let closest = if p.mode == Mode::Hybrid {
            self.closest_candidates(&ranking, &content, qvec.as_deref())
        } else {
            Vec::new()
        };
        // The candidate notes in the model's order, computed once for the
        // evidence, the named questions and passage [1].
        let named: Vec<(&str, f32)> = closest::order(&closest::WEIGHTS, &closest)
            .into_iter()
            .map(|i| (closest[i].note.as_str(), closest[i].best))
            .collect();
        let note = named.first().map(|&(id, _)| id);
        let evidence = self.evidence(searched, &content, qvec.as_deref(), &ranking, note, p)?;
        let abstained = abstain::decide(&evidence);
        let (coverage, mention) = if abstained {
            match self.mention(searched, &content, &ranking) {
                Some(m) => (Coverage::Mentioned, Some(m)),
                None => (Coverage::None, None),
            }
        } else {
            (Coverage::Covered, None)
        };

        let hidden = abstained && !keep_on_abstain;
        let shown: Vec<Shown> = if hidden {
            Vec::new()
        } else {
            self.lead_with_closest(&ranking, note, seen, p.k)
        };

        let (key_points, shown, mut workings) = match (&qvec, abstained) {
            (Some(v), false) if p.key_points > 0 && !shown.is_empty() => {
                let s = Instant::now();
                let ask = KeyPointAsk {
                    qvec: v,
                    content: &content,
                    n: p.key_points,
                    intuition: query::asks_for_intuition(q),
                };
                let out = self.key_points(&ask, shown, note, &ranking.fused);
                t.key_points = ms(s);
                out
            }
            _ => (Vec::new(), shown, Workings::default()),
        };
        let results = self.passages(&ranking.fused, &shown);

        let questions = if hidden {
            let first = mention.as_ref().and_then(|m| m.question_id.as_deref());
            self.nearest_questions(first, &named, qvec.as_deref(), &ranking.fused, 3)
        } else {
            self.top_questions(&ranking.fused, &named)
        };
        let related = self.related(&questions);
        t.total = ms(started);
        tracing::debug!(
            embed_ms = t.embed,
            bm25_ms = t.bm25,
            dense_ms = t.dense,
            fuse_ms = t.fuse,
            mmr_ms = t.mmr,
            abstained,
            covered = ?evidence.covered_probability,
            searched,
            "answered"
        );

        let answer = Answer {
            schema: SCHEMA,
            query: q.to_string(),
            mode: p.mode,
            params: self.params_used(p, ranking.backend),
            index: self.index_used(),
            timings_ms: t,
            understood,
            abstained,
            coverage,
            mention,
            evidence,
            questions,
            key_points,
            results,
            related,
        };
        if !hidden {
            workings.closest = closest;
        }
        Ok((answer, workings))
    }

    /// Both arms, fusion and MMR for the searched text, with their timings
    /// recorded in `t`. MMR picks twice the passages asked for, so that
    /// passages moved down (see `lead_with_closest`) are replaced by the
    /// next choices; MMR is greedy, so its first `k` picks are the same
    /// either way.
    fn search(
        &self,
        searched: &str,
        qvec: Option<&[f32]>,
        p: &SearchParams,
        t: &mut Timings,
    ) -> Result<search::Ranking> {
        let graph = if p.mode != Mode::Bm25
            && search::use_graph(p.dense_backend, self.generation.vectors.len())
        {
            Some(self.generation.graph()?)
        } else {
            None
        };
        let searcher = Searcher {
            lexical: &self.generation.lexical,
            vectors: &self.generation.vectors,
            graph,
        };
        let spare = SearchParams {
            k: p.k.saturating_mul(2),
            ..p.clone()
        };
        let ranking = searcher.rank(searched, qvec, &spare)?;
        t.bm25 = ranking.timings.bm25;
        t.dense = ranking.timings.dense;
        t.fuse = ranking.timings.fuse;
        t.mmr = ranking.timings.mmr;
        Ok(ranking)
    }

    /// The questions the first named question's note lists as related.
    fn related(&self, questions: &[QuestionRef]) -> Vec<QuestionRef> {
        questions
            .first()
            .and_then(|top| self.generation.note(&top.id))
            .map(|n| {
                n.related
                    .iter()
                    .filter_map(|id| self.generation.note(id))
                    .map(question_ref)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The notes' vocabulary, built on first use.
    fn lexicon(&self) -> &Lexicon {
        self.lexicon.get_or_init(|| {
            let s = Instant::now();
            let lex = Lexicon::build(&self.generation.notes, Some(&self.paths.model_dir))
                .with_dictionary(crate::config::words_file());
            tracing::debug!(ms = ms(s), "built the query lexicon");
            lex
        })
    }

    /// The question's vector (None in BM25 mode), loading the model if needed.
    fn embed_question(
        &mut self,
        text: &str,
        p: &SearchParams,
        t: &mut Timings,
    ) -> Result<Option<Vec<f32>>> {
        if p.mode == Mode::Bm25 {
            return Ok(None);
        }
        if self.embedder.is_none() {
            let s = Instant::now();
            self.warm_while_loading();
            self.load_model()?;
            t.model_load = ms(s);
        }
        let s = Instant::now();
        let v = self.load_model()?.embed_query(text)?;
        t.embed = ms(s);
        Ok(Some(v))
    }

    /// While the model is still loading on its thread, analyses the notes
    /// and passages for the evidence and key-point features (caches the
    /// answer would otherwise fill after the embedding, on a cold command's
    /// critical path), one note at a time, stopping as soon as the model is
    /// ready.
    fn warm_while_loading(&self) {
        let g = &self.generation;
        let loading = || self.pending.as_ref().is_some_and(|p| !p.is_ready());
        for n in &g.notes {
            if !loading() {
                return;
            }
            self.note_terms(n);
            for ord in g.passages_of(&n.id) {
                self.chunk_terms(ord);
            }
        }
    }

    /// The evidence the abstention decision weighs (see [`crate::retrieval::abstain`]).
    fn evidence(
        &self,
        q: &str,
        content: &[String],
        qvec: Option<&[f32]>,
        ranking: &search::Ranking,
        closest: Option<&str>,
        p: &SearchParams,
    ) -> Result<Evidence> {
        let g = &self.generation;
        let best_bm25 = match p.mode {
            Mode::Dense => g.lexical.search(q, 1)?,
            _ => ranking.bm25.iter().take(1).copied().collect(),
        };
        let terms_of = |ord: usize| -> HashSet<String> {
            crate::index::lexical::analyze(&g.chunks[ord].context_text())
                .into_iter()
                .collect()
        };
        let best_bm25_terms = best_bm25
            .first()
            .map(|h| terms_of(h.ord as usize))
            .unwrap_or_default();
        let idfs = self.content_idf(content);
        let idf = |t: &str| idfs.get(t).copied().unwrap_or_else(|| g.lexical.idf(t));
        // The notes the evidence could be about: the first shown passage's,
        // the best BM25 passage's, the best dense passage's and the closest
        // question's. Each note feature takes its best value over them.
        let mut candidates: Vec<&str> = Vec::new();
        let firsts = [
            ranking.order.first().map(|&(i, _)| ranking.fused[i].ord),
            best_bm25.first().map(|h| h.ord),
            ranking.dense.first().map(|h| h.ord),
        ];
        let ids = firsts
            .into_iter()
            .flatten()
            .map(|ord| g.chunks[ord as usize].note_id.as_str())
            .chain(closest);
        for id in ids {
            if !candidates.contains(&id) {
                candidates.push(id);
            }
        }
        let mut note = NoteEvidence::default();
        for n in candidates.iter().filter_map(|id| g.note(id)) {
            note = note.max(self.note_evidence(n, content, &idf));
        }
        let n_docs = g.lexical.num_docs();
        let absent: HashSet<String> = content
            .iter()
            .filter(|t| g.lexical.doc_freq(t) == 0 && n_docs > 0)
            .cloned()
            .collect();
        let mut e = Evidence {
            top_cosine: qvec.map(|_| ranking.dense.first().map_or(0.0, |h| h.score)),
            title_cosine: qvec.map(|v| {
                Flat::new(&g.titles)
                    .search(v, 1)
                    .first()
                    .map_or(0.0, |h| h.score)
            }),
            term_coverage: abstain::coverage(content, &best_bm25_terms, idf),
            note_coverage: note.coverage,
            phrase_coverage: note.phrase,
            concept_coverage: note.concept,
            term_spread: note.spread,
            sentence_cosine: qvec.map_or(0.0, |v| {
                self.best_sentence_cosine(v, ranking, abstain::SENTENCE_PASSAGES)
            }),
            arms_agree: f32::from(u8::from(
                matches!((best_bm25.first(), ranking.dense.first()), (Some(a), Some(b))
                    if g.chunks[a.ord as usize].note_id == g.chunks[b.ord as usize].note_id),
            )),
            concentration: concentration(ranking, g, 10),
            unknown_share: abstain::coverage(content, &absent, idf),
            content_terms: content.len(),
            outside_cosine: 0.0,
            outside_topic: None,
            covered_probability: None,
        };
        if let Some(h) = qvec.and_then(|v| Flat::new(&g.outside).search(v, 1).into_iter().next()) {
            e.outside_cosine = h.score;
            if abstain::names_outside_topic(&e) {
                e.outside_topic = Some(g.outside_topics[h.ord as usize].clone());
            }
        }
        e.covered_probability = abstain::probability(&e);
        Ok(e)
    }

    /// Each content word's IDF, looked up once per question: the features
    /// weigh the same few words against many notes, passages and sentences.
    fn content_idf<'a>(&self, content: &'a [String]) -> HashMap<&'a str, f32> {
        content
            .iter()
            .map(|t| (t.as_str(), self.generation.lexical.idf(t)))
            .collect()
    }

    /// How well note `n` covers the content terms (see [`crate::retrieval::abstain`]).
    fn note_evidence(
        &self,
        n: &NoteRecord,
        content: &[String],
        idf: &impl Fn(&str) -> f32,
    ) -> NoteEvidence {
        let terms = self.note_terms(n);
        NoteEvidence {
            coverage: abstain::coverage(content, &terms.set, idf),
            phrase: abstain::phrase_coverage(content, &terms.seq, &terms.set),
            concept: abstain::coverage(content, &terms.concepts, idf),
            spread: abstain::spread(content, &terms.passages, idf),
        }
    }

    /// The analysed terms of passage `ord`'s headings and sentences,
    /// computed once per passage.
    fn chunk_terms(&self, ord: usize) -> &ChunkTerms {
        let g = &self.generation;
        let cache = self
            .chunk_terms
            .get_or_init(|| (0..g.chunks.len()).map(|_| OnceLock::new()).collect());
        cache[ord].get_or_init(|| {
            let set = |t: &str| crate::index::lexical::analyze(t).into_iter().collect();
            ChunkTerms {
                heading: set(&g.chunks[ord].heading.join(" ")),
                sentences: g.sentences[ord].iter().map(|t| set(t)).collect(),
            }
        })
    }

    /// The analysed terms of note `n`, computed on first use.
    fn note_terms(&self, n: &NoteRecord) -> &NoteTerms {
        let g = &self.generation;
        let cache = self
            .note_terms
            .get_or_init(|| (0..g.notes.len()).map(|_| OnceLock::new()).collect());
        let at = g.notes.iter().position(|x| x.id == n.id).unwrap_or(0);
        cache[at].get_or_init(|| {
            let seq = crate::index::lexical::analyze(&format!(
                "{} {} {}",
                n.title,
                n.tags.join(". "),
                n.body
            ));
            NoteTerms {
                set: seq.iter().cloned().collect(),
                seq,
                concepts: crate::index::lexical::analyze(&crate::retrieval::query::concept_text(n))
                    .into_iter()
                    .collect(),
                passages: g
                    .passages_of(&n.id)
                    .map(|ord| {
                        crate::index::lexical::analyze(&g.chunks[ord].text)
                            .into_iter()
                            .collect()
                    })
                    .collect(),
            }
        })
    }

    /// The best cosine between the question and a key-point sentence of the
    /// first `k` fused passages.
    fn best_sentence_cosine(&self, qvec: &[f32], ranking: &search::Ranking, k: usize) -> f32 {
        let g = &self.generation;
        ranking
            .fused
            .iter()
            .take(k)
            .flat_map(|f| {
                let ord = f.ord as usize;
                (0..g.sentences[ord].len()).map(move |j| (ord, j))
            })
            .map(|(ord, j)| crate::index::dense::dot(qvec, g.sentence_vector(ord, j)))
            .fold(0.0, f32::max)
    }

    /// When abstaining: the passage where the notes mention the question's
    /// topic, if any (see [`abstain::mention_weight`]): among the first
    /// [`abstain::MENTION_DEPTH`] BM25 passages, the one holding the largest
    /// weighted share of the question's topic words, when that share is at
    /// least [`abstain::MENTION_SHARE`].
    fn mention(&self, q: &str, content: &[String], ranking: &search::Ranking) -> Option<Mention> {
        let g = &self.generation;
        let hits: Vec<crate::index::lexical::Hit> = if ranking.bm25.is_empty() {
            g.lexical.search(q, abstain::MENTION_DEPTH).ok()?
        } else {
            ranking
                .bm25
                .iter()
                .take(abstain::MENTION_DEPTH)
                .copied()
                .collect()
        };
        let lexicon = self.lexicon();
        let weights: Vec<f32> = content
            .iter()
            .map(|t| abstain::mention_weight(t, lexicon.notes_using(t), g.notes.len()))
            .collect();
        let all: f32 = weights.iter().sum();
        // Words outside everyday vocabulary name a topic on their own.
        let standalone: HashSet<String> = query::words(q)
            .filter(|w| !lexicon.is_everyday(w))
            .flat_map(|w| crate::index::lexical::analyze(&w))
            .collect();
        let (share, hit) = hits
            .iter()
            .map(|h| {
                let text = g.chunks[h.ord as usize].context_text();
                let seq = crate::index::lexical::analyze(&query::without_tex(&text));
                let terms = abstain::terms_in_context(content, &seq, &standalone);
                let held: f32 = content
                    .iter()
                    .zip(&weights)
                    .filter(|(t, _)| terms.contains(t.as_str()))
                    .map(|(_, w)| w)
                    .sum();
                (held / all.max(f32::MIN_POSITIVE), h)
            })
            .fold(None, |best: Option<(f32, _)>, x| match best {
                Some(b) if b.0 >= x.0 => Some(b),
                _ => Some(x),
            })?;
        if share < abstain::MENTION_SHARE {
            return None;
        }
        let c = &g.chunks[hit.ord as usize];
        let idf = self.content_idf(content);
        let sentence = abstain::mention_sentence(&c.text, &idf);
        Some(Mention {
            chunk_id: c.id.clone(),
            question_id: c.question_id.clone(),
            path: c.path.clone(),
            heading: c.heading.clone(),
            lines: [c.line_start, c.line_end],
            sentence,
        })
    }

    /// The passages `shown`, best first, ranked from 1.
    fn passages(&self, fused: &[Fused], shown: &[Shown]) -> Vec<Passage> {
        shown
            .iter()
            .enumerate()
            .map(|(rank, s)| {
                let c = &self.generation.chunks[s.ord];
                let f = s.fused.map(|i| &fused[i]);
                Passage {
                    rank: rank + 1,
                    chunk_id: c.id.clone(),
                    question_id: c.question_id.clone(),
                    path: c.path.clone(),
                    heading: c.heading.clone(),
                    lines: [c.line_start, c.line_end],
                    text: c.text.clone(),
                    score: f.map_or(0.0, |f| f.score),
                    bm25: f.and_then(|f| f.bm25),
                    dense: f.and_then(|f| f.dense),
                    mmr: s.mmr,
                }
            })
            .collect()
    }

    fn params_used(
        &self,
        p: &SearchParams,
        backend: Option<crate::config::DenseBackend>,
    ) -> ParamsUsed {
        ParamsUsed {
            k: p.k,
            fusion: (p.mode == Mode::Hybrid).then_some(p.fusion),
            alpha: p.alpha,
            rrf_k: p.rrf_k,
            mmr_lambda: p.mmr_lambda,
            fetch_k: p.pool(),
            mmr_pool: p.mmr_lambda.map(|_| p.mmr_pool.min(p.pool())),
            key_points: p.key_points,
            dense_backend: backend,
        }
    }

    fn index_used(&self) -> IndexUsed {
        let m = &self.generation.manifest;
        IndexUsed {
            fingerprint: m.fingerprint.clone(),
            chunks: m.chunks,
            notes: m.notes,
            model: m.model.fingerprint(),
        }
    }

    /// The key points for question `q` (its vector, content terms and how
    /// many are wanted), and the passages to show once each key point's
    /// passage is among them (see [`Engine::show_key_point_sources`]);
    /// `note` is the closest question's. Also returns the sources and
    /// candidates (the fits' [`Workings`]).
    fn key_points(
        &self,
        q: &KeyPointAsk<'_>,
        shown: Vec<Shown>,
        note: Option<&str>,
        fused: &[Fused],
    ) -> (Vec<KeyPoint>, Vec<Shown>, Workings) {
        let sources = self.key_point_sources(&shown, note, fused);
        let cands = self.key_point_candidates(q.qvec, q.content, &sources, fused, q.intuition);
        let picked = self.pick_key_points(&cands, &sources, q.n);
        let (points, shown) = self.show_key_point_sources(shown, &sources, &picked, &cands);
        let workings = Workings {
            key_point_sources: sources.iter().map(|s| s.ord).collect(),
            key_point_candidates: cands,
            closest: Vec::new(),
        };
        (points, shown, workings)
    }

    /// Where key points may come from: the shown passages, then the other
    /// passages of `note` (the closest question's; the first passage's when
    /// there is none) in reading order. An answering sentence is often in another
    /// section of the right note than the ones MMR showed: on the labelled
    /// queries, the candidates hold one for 83% instead of 75%
    /// (`cram eval --fit-key-points`).
    fn key_point_sources(
        &self,
        shown: &[Shown],
        note: Option<&str>,
        fused: &[Fused],
    ) -> Vec<KeyPointSource> {
        let g = &self.generation;
        let mut out: Vec<KeyPointSource> = shown
            .iter()
            .map(|s| KeyPointSource {
                ord: s.ord,
                fused: s.fused,
                shown: true,
            })
            .collect();
        let note = note.or_else(|| shown.first().map(|s| g.chunks[s.ord].note_id.as_str()));
        // With one passage shown (`--k 1`) there is no place for another.
        let Some(note) = note.filter(|_| shown.len() > 1) else {
            return out;
        };
        for ord in g.passages_of(note) {
            if !out.iter().any(|s| s.ord == ord) {
                out.push(KeyPointSource {
                    ord,
                    fused: fused.iter().position(|f| f.ord as usize == ord),
                    shown: false,
                });
            }
        }
        out
    }

    /// The candidate key-point sentences of the `sources`, with their
    /// features (see [`keypoints::FEATURES`]; `passage_rank` is the index
    /// in `sources`, so the passages not shown rank after the shown ones). A
    /// behavioural note's sentences are candidates only for a behavioural
    /// question, and an "Intuition" section's only for a question that asks
    /// for intuition (`intuition`); a sentence of a worked example or an example story, or one
    /// without the shape of a statement
    /// ([`crate::index::sentences::has_statement_shape`]), never is: apart
    /// from the example it is a step of, it does not read on its own.
    fn key_point_candidates(
        &self,
        qvec: &[f32],
        content: &[String],
        sources: &[KeyPointSource],
        fused: &[Fused],
        intuition: bool,
    ) -> Vec<keypoints::Candidate> {
        let g = &self.generation;
        let note_of = |ord: usize| g.note(&g.chunks[ord].note_id);
        let top_note = sources.first().map(|s| g.chunks[s.ord].note_id.as_str());
        let behavioural_question = sources
            .first()
            .and_then(|s| note_of(s.ord))
            .is_some_and(|n| n.is_behavioural());
        let at: Vec<(usize, usize)> = sources
            .iter()
            .enumerate()
            .filter(|&(_, s)| {
                behavioural_question || !note_of(s.ord).is_some_and(|n| n.is_behavioural())
            })
            .filter(|&(_, s)| {
                match keypoints::Section::of(g.chunks[s.ord].heading.first().map(String::as_str)) {
                    keypoints::Section::Example => false,
                    keypoints::Section::Intuition => intuition,
                    _ => true,
                }
            })
            .flat_map(|(r, s)| (0..g.sentences[s.ord].len()).map(move |j| (r, j)))
            .filter(|&(r, j)| {
                crate::index::sentences::has_statement_shape(&g.sentences[sources[r].ord][j])
            })
            .collect();
        let idfs = self.content_idf(content);
        let idf = |t: &str| idfs.get(t).copied().unwrap_or_else(|| g.lexical.idf(t));
        // A source's fused score, 0 when neither arm fetched it.
        let score = |s: &KeyPointSource| s.fused.map_or(0.0, |i| fused[i].score);
        let best_score = sources.first().map_or(0.0, score);
        let cos: Vec<f32> = at
            .iter()
            .map(|&(r, j)| crate::index::dense::dot(qvec, g.sentence_vector(sources[r].ord, j)))
            .collect();
        let best_cos = cos.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        at.iter()
            .zip(&cos)
            .map(|(&(r, j), &cosine)| {
                let ord = sources[r].ord;
                let text = &g.sentences[ord][j];
                let terms = self.chunk_terms(ord);
                keypoints::Candidate {
                    at: (r, j),
                    cosine,
                    x: keypoints::Features {
                        cosine,
                        cosine_gap: cosine - best_cos,
                        lexical: abstain::coverage(content, &terms.sentences[j], idf),
                        best_note: Some(g.chunks[ord].note_id.as_str()) == top_note,
                        passage_rank: r,
                        position: j,
                        heading: abstain::coverage(content, &terms.heading, idf),
                        words: text.split_whitespace().count(),
                        passage_score: if best_score > 0.0 {
                            score(&sources[r]) / best_score
                        } else {
                            0.0
                        },
                        section: keypoints::Section::of(
                            g.chunks[ord].heading.first().map(String::as_str),
                        ),
                    }
                    .vector(),
                }
            })
            .collect()
    }

    /// Chooses up to `n` key points among the candidates (see
    /// [`keypoints::choose`]): indexes into `cands`, in reading order.
    fn pick_key_points(
        &self,
        cands: &[keypoints::Candidate],
        sources: &[KeyPointSource],
        n: usize,
    ) -> Vec<usize> {
        let g = &self.generation;
        let at: Vec<(usize, usize)> = cands.iter().map(|c| c.at).collect();
        let relevance: Vec<f32> = cands
            .iter()
            .map(|c| keypoints::relevance(&keypoints::WEIGHTS, &c.x))
            .collect();
        let vec_of = |i: usize| g.sentence_vector(sources[at[i].0].ord, at[i].1);
        let text_of = |i: usize| g.sentences[sources[at[i].0].ord][at[i].1].as_str();
        keypoints::choose(
            &at,
            &relevance,
            n,
            |a, b| crate::index::dense::dot(vec_of(a), vec_of(b)),
            |a, b| keypoints::repeats(text_of(a), text_of(b)),
        )
    }

    /// Makes every key point's passage a shown one: a passage of the
    /// closest note that a key point comes from but MMR did not show takes
    /// the place of the last shown passage no key point cites (never
    /// passage [1]); a key point whose passage finds no place is dropped.
    /// Returns the key points, cited by their passage's final rank and in
    /// reading order, and the passages to show.
    fn show_key_point_sources(
        &self,
        mut shown: Vec<Shown>,
        sources: &[KeyPointSource],
        picked: &[usize],
        cands: &[keypoints::Candidate],
    ) -> (Vec<KeyPoint>, Vec<Shown>) {
        let g = &self.generation;
        let cited = |ord: usize| picked.iter().any(|&i| sources[cands[i].at.0].ord == ord);
        // Unshown sources in the order their first key point appears.
        let mut wanted: Vec<usize> = Vec::new();
        for &i in picked {
            let r = cands[i].at.0;
            if !sources[r].shown && !wanted.contains(&r) {
                wanted.push(r);
            }
        }
        for r in wanted {
            let free = (1..shown.len()).rev().find(|&k| !cited(shown[k].ord));
            let Some(k) = free else { break };
            shown.remove(k);
            shown.push(Shown {
                ord: sources[r].ord,
                fused: sources[r].fused,
                mmr: None,
            });
        }
        let mut points: Vec<(usize, usize, KeyPoint)> = picked
            .iter()
            .filter_map(|&i| {
                let (r, j) = cands[i].at;
                let ord = sources[r].ord;
                let rank = shown.iter().position(|s| s.ord == ord)?;
                let c = &g.chunks[ord];
                Some((
                    rank,
                    j,
                    KeyPoint {
                        text: keypoints::as_shown(
                            &g.sentences[ord][j],
                            c.heading.first().map(String::as_str),
                        ),
                        passage: rank + 1,
                        chunk_id: c.id.clone(),
                        cosine: cands[i].cosine,
                    },
                ))
            })
            .collect();
        points.sort_by_key(|&(rank, j, _)| (rank, j));
        (points.into_iter().map(|(_, _, k)| k).collect(), shown)
    }

    /// The closest questions: in hybrid mode the [`closest`] model's order of
    /// the candidate notes, otherwise the notes of the fused candidates by
    /// their best fused score (never MMR's first pick, which trades relevance
    /// for diversity). The second is kept only when the lower of the two
    /// notes' best passage scores is at least [`ALSO_MARGIN`] of the higher:
    /// at most two.
    fn top_questions<'a>(&'a self, fused: &[Fused], named: &[(&'a str, f32)]) -> Vec<QuestionRef> {
        let g = &self.generation;
        let mut notes: Vec<(&str, f32)> = named.to_vec();
        if notes.is_empty() {
            for f in fused {
                let id = g.chunks[f.ord as usize].note_id.as_str();
                if !notes.iter().any(|(n, _)| *n == id) {
                    notes.push((id, f.score));
                }
            }
        }
        let Some(&(_, first)) = notes.first() else {
            return Vec::new();
        };
        notes
            .iter()
            .take(2)
            .enumerate()
            .filter(|&(i, (_, s))| i == 0 || s.min(first) >= ALSO_MARGIN * s.max(first))
            .filter_map(|(_, (id, _))| g.note(id))
            .map(question_ref)
            .collect()
    }

    /// The shown order with the closest question's best passage first, so
    /// that passage [1] is from the note the answer names: moved up if MMR
    /// chose it, else put first in place of the last one; and that note's
    /// short answer first instead when it scores at least
    /// [`closest::SHORT_ANSWER_LEAD`] of that passage, unless `seen` is that
    /// note; for a technical note, behavioural coaching after every other
    /// passage. Cut to the first `k` of MMR's longer list; only cut without
    /// candidates (abstained, or not hybrid).
    fn lead_with_closest(
        &self,
        ranking: &search::Ranking,
        note: Option<&str>,
        seen: Option<&str>,
        k: usize,
    ) -> Vec<Shown> {
        let shown = |order: Vec<(usize, Option<crate::retrieval::answer::MmrDetail>)>| {
            order
                .into_iter()
                .map(|(i, mmr)| Shown {
                    ord: ranking.fused[i].ord as usize,
                    fused: Some(i),
                    mmr,
                })
                .collect()
        };
        let mut order = ranking.order.clone();
        let Some(note) = note else {
            order.truncate(k);
            return shown(order);
        };
        let g = &self.generation;
        let of_note = |i: usize| g.chunks[ranking.fused[i].ord as usize].note_id == note;
        match order.iter().position(|&(i, _)| of_note(i)) {
            Some(0) => {}
            Some(j) => order[..=j].rotate_right(1),
            None => {
                if let Some(i) = (0..ranking.fused.len()).find(|&i| of_note(i)) {
                    order.pop();
                    order.insert(0, (i, None));
                }
            }
        }
        // A note's short answer is written to answer its question: when it
        // is nearly as relevant as the note's best passage, it comes first,
        // unless the reader has just been answered from this note.
        if let Some(&(lead, _)) = order.first().filter(|_| seen != Some(note)) {
            let short = |i: usize| {
                of_note(i)
                    && Section::of(
                        g.chunks[ranking.fused[i].ord as usize]
                            .heading
                            .first()
                            .map(String::as_str),
                    ) == Section::ShortAnswer
            };
            if !short(lead)
                && let Some(i) = (0..ranking.fused.len()).find(|&i| short(i))
                && ranking.fused[i].score >= closest::SHORT_ANSWER_LEAD * ranking.fused[lead].score
            {
                match order.iter().position(|&(k, _)| k == i) {
                    Some(j) => order[..=j].rotate_right(1),
                    None => {
                        order.pop();
                        order.insert(0, (i, None));
                    }
                }
            }
        }
        // A behavioural note's coaching (what the interviewer probes, how
        // to structure the answer, red flags) is not study material for a
        // technical question: it comes after every other passage. Its
        // example stories stay where they rank, because they are worked
        // technical cases (blind verdicts: BENCHMARKS.md, twelfth round).
        if g.note(note).is_some_and(|n| !n.is_behavioural()) {
            let coaching = |i: usize| {
                let c = &g.chunks[ranking.fused[i].ord as usize];
                g.note(&c.note_id).is_some_and(|n| n.is_behavioural())
                    && Section::of(c.heading.first().map(String::as_str)) != Section::Example
            };
            order.sort_by_key(|&(i, _)| coaching(i));
        }
        order.truncate(k);
        shown(order)
    }

    /// The first notes of the fused list with their evidence for
    /// [`closest`] (arms, phrases, concepts, coverage).
    fn closest_candidates(
        &self,
        ranking: &search::Ranking,
        content: &[String],
        qvec: Option<&[f32]>,
    ) -> Vec<closest::Candidate> {
        let g = &self.generation;
        let passages = ranking.fused.iter().map(|f| {
            (
                g.chunks[f.ord as usize].note_id.as_str(),
                f.score,
                f.bm25.map(|e| (e.rank, e.score)),
                f.dense.map(|e| (e.rank, e.score)),
            )
        });
        let best_dense = ranking.dense.first().map(|h| h.score);
        let title_cos = |id: &str| {
            let i = g.notes.iter().position(|n| n.id == id)?;
            Some(crate::index::dense::dot(qvec?, g.titles.row(i)))
        };
        let mut notes = closest::arm_features(passages, best_dense);
        let best_title = notes
            .iter()
            .filter_map(|(id, _, _)| title_cos(id))
            .fold(f32::NEG_INFINITY, f32::max);
        let sentence_cos = |id: &str| {
            let v = qvec?;
            Some(
                g.passages_of(id)
                    .flat_map(|ord| (0..g.sentences[ord].len()).map(move |j| (ord, j)))
                    .map(|(ord, j)| crate::index::dense::dot(v, g.sentence_vector(ord, j)))
                    .fold(f32::NEG_INFINITY, f32::max),
            )
        };
        let sentences: Vec<Option<f32>> = notes.iter().map(|(id, _, _)| sentence_cos(id)).collect();
        let best_sentence = sentences
            .iter()
            .flatten()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        for ((id, _, f), s) in notes.iter_mut().zip(&sentences) {
            f.title_gap = title_cos(id).map(|c| c - best_title);
            f.sentence_gap = s.map(|c| c - best_sentence);
        }
        let idfs = self.content_idf(content);
        let idf = |t: &str| idfs.get(t).copied().unwrap_or_else(|| g.lexical.idf(t));
        notes
            .into_iter()
            .filter_map(|(id, best, mut f)| {
                let n = g.note(id)?;
                let e = self.note_evidence(n, content, &idf);
                (f.phrase, f.concept, f.coverage) = (e.phrase, e.concept, e.coverage);
                Some(closest::Candidate {
                    note: id.to_string(),
                    best,
                    x: f.vector(),
                })
            })
            .collect()
    }

    /// The candidate notes `ask` named its closest question from, with their
    /// features (for fitting [`closest::WEIGHTS`]); empty when it abstains or
    /// the mode is not hybrid.
    pub fn closest_pool(
        &mut self,
        question: &str,
        p: &SearchParams,
    ) -> Result<Vec<closest::Candidate>> {
        Ok(self.answer(question, p, false, None)?.1.closest)
    }

    /// The `n` questions an abstaining answer names as nearest: the note of
    /// its mention first (`first`), then the closest-question model's order
    /// (`named`, hybrid mode), else the notes by title vector (dense mode) or
    /// by the fused order (BM25 mode).
    fn nearest_questions(
        &self,
        first: Option<&str>,
        named: &[(&str, f32)],
        qvec: Option<&[f32]>,
        fused: &[Fused],
        n: usize,
    ) -> Vec<QuestionRef> {
        let g = &self.generation;
        let rest: Vec<&str> = if !named.is_empty() {
            named.iter().map(|&(id, _)| id).collect()
        } else if let Some(v) = qvec {
            Flat::new(&g.titles)
                .search(v, n)
                .into_iter()
                .map(|h| g.notes[h.ord as usize].id.as_str())
                .collect()
        } else {
            fused
                .iter()
                .map(|f| g.chunks[f.ord as usize].note_id.as_str())
                .collect()
        };
        let mut ids: Vec<&str> = Vec::new();
        for id in first.into_iter().chain(rest) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.into_iter()
            .take(n)
            .filter_map(|id| g.note(id))
            .map(question_ref)
            .collect()
    }
}

/// Share of the first `n` fused passages that come from their most common
/// note: a covered topic fills the list from its note, a passing mention
/// scatters it.
fn concentration(ranking: &search::Ranking, g: &Generation, n: usize) -> f32 {
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    let mut total = 0usize;
    for f in ranking.fused.iter().take(n) {
        *counts
            .entry(g.chunks[f.ord as usize].note_id.as_str())
            .or_default() += 1;
        total += 1;
    }
    counts.values().copied().max().unwrap_or(0) as f32 / total.max(1) as f32
}

fn question_ref(n: &NoteRecord) -> QuestionRef {
    QuestionRef {
        id: n.id.clone(),
        section: n.section.clone(),
        question: n.title.clone(),
        path: n.path.clone(),
    }
}

/// One line saying why the index is stale.
fn describe_change(m: &Manifest, snap: &CorpusSnapshot, model: &ModelInfo) -> String {
    if m.model != *model {
        return "the embedding model changed: rebuilding the index".into();
    }
    if m.sources != snap.sources {
        return "the notes folders changed: rebuilding the index".into();
    }
    if m.corpus_hash != snap.corpus_hash {
        return "the notes changed: updating the index".into();
    }
    "the index was built with other settings: rebuilding it".into()
}
