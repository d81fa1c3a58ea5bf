//! The engine: keeps the index fresh and answers questions.
//!
//! [`Engine::open`] loads the notes, compares them with the live index's
//! fingerprint, rebuilds when they differ (embedding only new passages),
//! and opens the index. [`Engine::ask`] runs one question through both
//! arms, fusion, MMR and the abstention check.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use crate::abstain;
use crate::answer::{
    Answer, Evidence, IndexUsed, ParamsUsed, Passage, QuestionRef, SCHEMA, Timings,
};
use crate::config::{Mode, Paths, SearchParams, validate_query};
use crate::corpus::{Source, SourceKind};
use crate::dense::Flat;
use crate::embed::{Embedder, ModelInfo};
use crate::error::{Error, Result};
use crate::fuse::Fused;
use crate::index::{CorpusSnapshot, Generation, IndexDir, Manifest, NoteRecord};
use crate::keypoints::{self, KeyPoint};
use crate::search::{self, Searcher, ms};

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
}

impl Engine {
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
                    let engine = Engine {
                        paths: paths.clone(),
                        generation,
                        embedder: None,
                    };
                    return Ok((engine, IndexState::Fresh));
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
                        let engine = Engine {
                            paths: paths.clone(),
                            generation,
                            embedder: None,
                        };
                        Ok((engine, IndexState::StaleLocked))
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
            paths: paths.clone(),
            generation,
            embedder,
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

    /// Loads the embedding model now (it is otherwise loaded on first use).
    pub fn load_model(&mut self) -> Result<&mut Embedder> {
        if self.embedder.is_none() {
            self.embedder = Some(Embedder::load(
                &self.paths.model_dir,
                self.paths.ort_lib.as_deref(),
            )?);
        }
        Ok(self.embedder.as_mut().expect("loaded above"))
    }

    /// Answers one question.
    pub fn ask(&mut self, question: &str, p: &SearchParams) -> Result<Answer> {
        self.answer(question, p, false)
    }

    /// The question ids of the passages `ask` would show, even when it would
    /// abstain (for evaluation: ranking and abstention are judged separately).
    pub fn ask_ranked(&mut self, question: &str, p: &SearchParams) -> Result<Vec<Option<String>>> {
        let a = self.answer(question, p, true)?;
        Ok(a.results.into_iter().map(|r| r.question_id).collect())
    }

    fn answer(
        &mut self,
        question: &str,
        p: &SearchParams,
        keep_on_abstain: bool,
    ) -> Result<Answer> {
        p.validate()?;
        let q = validate_query(question)?;
        let started = Instant::now();
        let mut t = Timings::default();

        let qvec: Option<Vec<f32>> = if p.mode != Mode::Bm25 {
            if self.embedder.is_none() {
                let s = Instant::now();
                self.load_model()?;
                t.model_load = ms(s);
            }
            let s = Instant::now();
            let v = self.load_model()?.embed_query(q)?;
            t.embed = ms(s);
            Some(v)
        } else {
            None
        };
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
        let ranking = searcher.rank(q, qvec.as_deref(), p)?;
        let (bm25, dense, fused, picked, backend) = (
            &ranking.bm25,
            &ranking.dense,
            &ranking.fused,
            &ranking.order,
            ranking.backend,
        );
        t.bm25 = ranking.timings.bm25;
        t.dense = ranking.timings.dense;
        t.fuse = ranking.timings.fuse;
        t.mmr = ranking.timings.mmr;

        // Abstention evidence.
        let content = abstain::content_terms(q);
        let best_bm25 = match p.mode {
            Mode::Dense => self.generation.lexical.search(q, 1)?,
            _ => bm25.iter().take(1).copied().collect(),
        };
        let best_bm25_terms: HashSet<String> = best_bm25
            .first()
            .map(|h| {
                crate::lexical::analyze(&self.generation.chunks[h.ord as usize].context_text())
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default();
        let evidence = Evidence {
            top_cosine: qvec
                .as_ref()
                .map(|_| dense.first().map_or(0.0, |h| h.score)),
            term_coverage: abstain::coverage(&content, &best_bm25_terms, |t| {
                self.generation.lexical.idf(t)
            }),
            content_terms: content.len(),
        };
        let abstained = abstain::decide(&evidence);

        let shown: &[(usize, Option<crate::answer::MmrDetail>)] = if abstained && !keep_on_abstain {
            &[]
        } else {
            picked
        };
        let ords: Vec<usize> = shown.iter().map(|&(i, _)| fused[i].ord as usize).collect();
        let results: Vec<Passage> = shown
            .iter()
            .enumerate()
            .map(|(rank, &(i, mmr))| {
                let f = &fused[i];
                let c = &self.generation.chunks[f.ord as usize];
                Passage {
                    rank: rank + 1,
                    chunk_id: c.id.clone(),
                    question_id: c.question_id.clone(),
                    path: c.path.clone(),
                    heading: c.heading.clone(),
                    lines: [c.line_start, c.line_end],
                    text: c.text.clone(),
                    score: f.score,
                    bm25: f.bm25,
                    dense: f.dense,
                    mmr,
                }
            })
            .collect();

        let key_points = match (&qvec, abstained) {
            (Some(v), false) if p.key_points > 0 => {
                let s = Instant::now();
                let kp = self.key_points(v, &results, &ords, p.key_points);
                t.key_points = ms(s);
                kp
            }
            _ => Vec::new(),
        };

        let questions = if abstained {
            self.nearest_questions(qvec.as_deref(), fused, 3)
        } else {
            self.top_questions(fused, picked.first().map(|&(i, _)| i))
        };
        let related = questions
            .first()
            .and_then(|top| self.generation.note(&top.id))
            .map(|n| {
                n.related
                    .iter()
                    .filter_map(|id| self.generation.note(id))
                    .map(question_ref)
                    .collect()
            })
            .unwrap_or_default();
        t.total = ms(started);
        tracing::debug!(
            embed_ms = t.embed,
            bm25_ms = t.bm25,
            dense_ms = t.dense,
            fuse_ms = t.fuse,
            mmr_ms = t.mmr,
            abstained,
            top_cosine = ?evidence.top_cosine,
            coverage = evidence.term_coverage,
            "answered"
        );

        let m = &self.generation.manifest;
        Ok(Answer {
            schema: SCHEMA,
            query: q.to_string(),
            mode: p.mode,
            params: ParamsUsed {
                k: p.k,
                fusion: (p.mode == Mode::Hybrid).then_some(p.fusion),
                alpha: p.alpha,
                rrf_k: p.rrf_k,
                mmr_lambda: p.mmr_lambda,
                fetch_k: p.pool(),
                mmr_pool: p.mmr_lambda.map(|_| p.mmr_pool.min(p.pool())),
                key_points: p.key_points,
                dense_backend: backend,
            },
            index: IndexUsed {
                fingerprint: m.fingerprint.clone(),
                chunks: m.chunks,
                notes: m.notes,
                model: m.model.fingerprint(),
            },
            timings_ms: t,
            abstained,
            evidence,
            questions,
            key_points,
            results,
            related,
        })
    }

    /// Up to `n` key-point sentences from the shown passages (see
    /// [`crate::keypoints`]); `ords[i]` is the passage ordinal of `results[i]`.
    /// The sentences and their vectors come from the index.
    fn key_points(
        &self,
        qvec: &[f32],
        results: &[Passage],
        ords: &[usize],
        n: usize,
    ) -> Vec<KeyPoint> {
        let g = &self.generation;
        // (result index, position in passage)
        let at: Vec<(usize, usize)> = ords
            .iter()
            .enumerate()
            .flat_map(|(r, &ord)| (0..g.sentences[ord].len()).map(move |j| (r, j)))
            .collect();
        if at.is_empty() {
            return Vec::new();
        }
        let vec_of = |i: usize| g.sentence_vector(ords[at[i].0], at[i].1);
        let cos: Vec<f32> = (0..at.len())
            .map(|i| crate::dense::dot(qvec, vec_of(i)))
            .collect();
        let picked =
            keypoints::choose(&at, &cos, n, |a, b| crate::dense::dot(vec_of(a), vec_of(b)));
        picked
            .into_iter()
            .map(|i| {
                let (r, j) = at[i];
                KeyPoint {
                    text: g.sentences[ords[r]][j].clone(),
                    passage: results[r].rank,
                    chunk_id: results[r].chunk_id.clone(),
                    cosine: cos[i],
                }
            })
            .collect()
    }

    /// The note of the first shown passage (`first` indexes `fused`), then the
    /// notes of the fused order, deduplicated: at most two questions.
    fn top_questions(&self, fused: &[Fused], first: Option<usize>) -> Vec<QuestionRef> {
        let note_of = |f: &Fused| self.generation.chunks[f.ord as usize].note_id.as_str();
        let mut seen: Vec<&str> = Vec::new();
        for id in first
            .map(|i| note_of(&fused[i]))
            .into_iter()
            .chain(fused.iter().map(note_of))
        {
            if !seen.contains(&id) {
                seen.push(id);
            }
            if seen.len() == 2 {
                break;
            }
        }
        seen.into_iter()
            .filter_map(|id| self.generation.note(id))
            .map(question_ref)
            .collect()
    }

    /// Nearest questions by title vector (or by the fused order in BM25 mode).
    fn nearest_questions(
        &self,
        qvec: Option<&[f32]>,
        fused: &[Fused],
        n: usize,
    ) -> Vec<QuestionRef> {
        match qvec {
            Some(v) => Flat::new(&self.generation.titles)
                .search(v, n)
                .into_iter()
                .map(|h| question_ref(&self.generation.notes[h.ord as usize]))
                .collect(),
            None => {
                let mut ids: Vec<&str> = Vec::new();
                for f in fused {
                    let id = self.generation.chunks[f.ord as usize].note_id.as_str();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                ids.into_iter()
                    .take(n)
                    .filter_map(|id| self.generation.note(id))
                    .map(question_ref)
                    .collect()
            }
        }
    }
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
