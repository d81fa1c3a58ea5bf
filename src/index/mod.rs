//! The persisted index: layout, manifest, fingerprint, atomic builds, integrity.
//!
//! ```text
//! index/
//!   CURRENT              name of the live generation (replaced by rename)
//!   LOCK                 held (OS file lock) while a build runs
//!   gen-<id>/            one complete, immutable index
//!     manifest.json      format, fingerprint, model, sources, counts, checksums
//!     notes.json         note metadata and bodies (for `cram show`)
//!     chunks.json        passages with text, breadcrumb, path, line span
//!     embeddings.f32     passage vectors, little-endian f32, row i = passage i
//!     questions.f32      one vector per note title (nearest questions)
//!     sentences.json     key-point candidate sentences, one list per passage
//!     sentences.f32      their vectors, in the same order, flattened
//!     outside.json       listed topics these notes do not cover (see [`outside`])
//!     outside.f32        their vectors, in the same order
//!     lexical/           tantivy BM25 index
//!     hnsw/              hnsw_rs graph dump
//!   tmp-<pid>-<id>/      a build in progress (removed by the next build, or
//!                        by `cram index` when the index is up to date)
//! ```
//!
//! Invariants:
//! * A generation is written completely into `tmp-*`, fsynced, renamed to
//!   `gen-*`, and only then named in `CURRENT` (write `CURRENT.tmp`, rename).
//!   A reader resolves `CURRENT` once, so it sees the old or the new index,
//!   never a mix; a build killed at any point leaves the old one in place.
//! * Builds hold an OS lock on `LOCK`; the OS releases it when the process
//!   dies, so a stale lock never blocks the next build.
//! * The manifest lists every file of the generation with its size and
//!   SHA-256; opening verifies them, so damage is reported, not searched.
//! * Re-indexing embeds only passages (and key-point sentences) whose content
//!   hash is new: vectors of unchanged ones are copied from the live generation.

pub mod bm25;
pub mod cache;
pub mod chunk;
pub mod corpus;
pub mod dense;
pub mod embed;
pub mod hash;
pub mod lexical;
pub mod model;
pub mod outside;
pub mod sentences;

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use self::chunk::{Chunk, ChunkParams};
use self::corpus::{LoadReport, Note, Source};
use self::lexical::Lexical;
use crate::error::{Error, IoContext, Result};
use crate::index::dense::{Graph, GraphParams, Vectors};
use crate::index::embed::ModelInfo;

/// Version of the on-disk layout; a generation with another version is rebuilt.
/// 9: key-point candidates include sentences joined to a neighbour.
/// 10: outside topics and their vectors.
/// 11: BM25 indexes each passage with its note's tags.
/// 12: BM25 indexes the words said for inline math's operators.
/// 13: a key-point candidate saying fewer than six words besides its
/// citations ("Speculative decoding (Leviathan et al. 2023).") is joined to
/// the sentence after it.
/// 14: a list item's first sentence is a candidate after the sentence that
/// introduces its list ("Accuracy is misleading in five situations: ...").
/// 15: not an item that introduces a formula itself ("... is: $n = ...$").
/// 16: a list item that asks a question and answers it is a candidate as
/// the question with its answer ("Follow-up:" labels dropped).
pub const FORMAT_VERSION: u32 = 16;
/// The first format whose vectors were embedded one text at a time. Older
/// generations embedded in batches, which makes an int8 model's vector
/// depend on its batch, so their vectors are not reused.
const VECTORS_ALONE_SINCE: u32 = 8;

/// What `cram --version` prints after the name.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (index format 16; model sentence-transformers/all-MiniLM-L6-v2, ONNX Runtime 1.24)"
);

#[cfg(test)]
mod version_tests {
    #[test]
    fn version_line_names_the_format() {
        assert!(super::VERSION_LINE.contains(&format!("index format {}", super::FORMAT_VERSION)));
    }

    #[test]
    fn tidy_removes_unfinished_builds_unless_one_is_running() {
        let root = tempfile::tempdir().unwrap();
        let dir = super::IndexDir::new(root.path());
        std::fs::create_dir_all(root.path().join("tmp-1-2/lexical")).unwrap();
        std::fs::create_dir_all(root.path().join("gen-3")).unwrap();
        // A build holds the lock: its folder stays.
        let lock = dir.lock().unwrap();
        assert_eq!(dir.tidy().unwrap(), 0);
        assert!(root.path().join("tmp-1-2").exists());
        drop(lock);
        assert_eq!(dir.tidy().unwrap(), 1);
        assert!(!root.path().join("tmp-1-2").exists());
        assert!(root.path().join("gen-3").exists());
    }
}

const CURRENT: &str = "CURRENT";
const LOCK: &str = "LOCK";

/// Size and checksum of one file of a generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// Everything known about a generation without opening its files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// Version of cram that wrote it.
    pub cram_version: String,
    /// Seconds since the Unix epoch when the build finished.
    pub created_unix: u64,
    /// Hash of everything that determines the index's content.
    pub fingerprint: String,
    /// The embedding model.
    pub model: ModelInfo,
    /// Chunker parameters.
    pub chunker: ChunkParams,
    /// HNSW build parameters.
    pub graph: GraphParams,
    /// Basename of the HNSW dump in `hnsw/`.
    pub hnsw_basename: String,
    /// Folders indexed.
    pub sources: Vec<Source>,
    /// Hash of every note's path and bytes.
    pub corpus_hash: String,
    /// Notes indexed.
    pub notes: usize,
    /// Passages indexed.
    pub chunks: usize,
    /// Texts (passages, note titles, key-point sentences) embedded by this
    /// build; the rest came from the previous generation.
    pub embedded: usize,
    /// Wall time of the build.
    pub build_seconds: f64,
    /// Every file of the generation (relative path) with size and checksum.
    pub files: BTreeMap<String, FileSum>,
}

/// What `cram show` and the answer header need to know about a note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoteRecord {
    /// Note id (`qNN` or a path).
    pub id: String,
    /// `qNN` for bundled notes.
    pub question_id: Option<String>,
    /// Section of the question list.
    pub section: Option<String>,
    /// The question, or the note's title.
    pub title: String,
    /// Front-matter tags.
    pub tags: Vec<String>,
    /// Related question ids.
    pub related: Vec<String>,
    /// Cited path.
    pub path: String,
    /// The markdown body.
    pub body: String,
    /// Hash of the title text (keys its cached vector).
    pub title_hash: String,
    /// `behavioural` for personal-experience questions; absent for technical ones.
    #[serde(default)]
    pub format: Option<String>,
}

impl NoteRecord {
    /// True for a behavioural note (`format: behavioural`).
    pub fn is_behavioural(&self) -> bool {
        self.format.as_deref() == Some("behavioural")
    }
}

impl NoteRecord {
    fn from_note(n: &Note) -> NoteRecord {
        NoteRecord {
            id: n.id.clone(),
            question_id: n.question_id().map(str::to_string),
            section: n.meta.as_ref().map(|m| m.section.clone()),
            title: n.title.clone(),
            tags: n.meta.as_ref().map(|m| m.tags.clone()).unwrap_or_default(),
            related: n
                .meta
                .as_ref()
                .map(|m| m.related.clone())
                .unwrap_or_default(),
            path: n.display_path.clone(),
            body: n.body.clone(),
            title_hash: hash::hex(title_text(n).as_bytes()),
            format: n.meta.as_ref().and_then(|m| m.format.clone()),
        }
    }
}

/// The text embedded for a note's "nearest question" vector.
fn title_text(n: &Note) -> String {
    match &n.meta {
        Some(m) if !m.tags.is_empty() => format!("{} ({})", n.title, m.tags.join(", ")),
        _ => n.title.clone(),
    }
}

/// The notes as loaded now, with what an index built from them would hash to.
pub struct CorpusSnapshot {
    /// The folders.
    pub sources: Vec<Source>,
    /// Their notes.
    pub notes: Vec<Note>,
    /// What was skipped.
    pub report: LoadReport,
    /// Hash of every note's path and bytes.
    pub corpus_hash: String,
}

impl CorpusSnapshot {
    /// Loads all sources.
    pub fn load(sources: Vec<Source>) -> Result<CorpusSnapshot> {
        let (notes, report) = corpus::load(&sources)?;
        let mut parts: Vec<Vec<u8>> = Vec::with_capacity(notes.len() * 2);
        for n in &notes {
            parts.push(n.display_path.as_bytes().to_vec());
            parts.push(n.content_hash.as_bytes().to_vec());
        }
        let corpus_hash = hash::hex_parts(parts.iter().map(|p| p.as_slice()));
        Ok(CorpusSnapshot {
            sources,
            notes,
            report,
            corpus_hash,
        })
    }

    /// The fingerprint an index of this snapshot with `model` would carry.
    pub fn fingerprint(
        &self,
        model: &ModelInfo,
        chunker: ChunkParams,
        graph: GraphParams,
    ) -> String {
        let params = serde_json::json!({
            "format": FORMAT_VERSION,
            "model": model.fingerprint(),
            "chunker": chunker,
            "graph": graph,
            "sources": self.sources,
            "corpus": self.corpus_hash,
            "outside": outside::fingerprint(),
        });
        hash::hex(params.to_string().as_bytes())
    }
}

/// How a build gets vectors: `embed(texts, progress)` returns one vector per
/// text and calls `progress(done)` as it goes.
pub type EmbedFn<'a> = dyn FnMut(&[String], &mut dyn FnMut(usize)) -> Result<Vec<Vec<f32>>> + 'a;

/// The index folder: finds, locks, builds and opens generations.
#[derive(Debug, Clone)]
pub struct IndexDir {
    root: PathBuf,
}

/// Held while building; dropping it releases the OS lock.
pub struct BuildLock {
    _file: File,
}

impl IndexDir {
    /// The index folder at `root` (created on first build).
    pub fn new(root: impl Into<PathBuf>) -> IndexDir {
        IndexDir { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Name of the live generation, if any.
    pub fn current(&self) -> Result<Option<String>> {
        let p = self.root.join(CURRENT);
        match fs::read_to_string(&p) {
            Ok(s) => {
                let name = s.trim().to_string();
                if !name.starts_with("gen-") || name.contains(['/', '\\']) || name.contains("..") {
                    return Err(Error::IndexCorrupt {
                        path: p,
                        reason: format!("CURRENT names `{name}`, not a generation"),
                    });
                }
                Ok(Some(name))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", p.display()), e)),
        }
    }

    /// Path of the live generation, or [`Error::IndexMissing`].
    pub fn current_path(&self) -> Result<PathBuf> {
        match self.current()? {
            Some(name) => Ok(self.root.join(name)),
            None => Err(Error::IndexMissing(self.root.clone())),
        }
    }

    /// The live generation's manifest, if there is one and it parses.
    pub fn current_manifest(&self) -> Result<Option<Manifest>> {
        match self.current()? {
            None => Ok(None),
            Some(name) => read_manifest(&self.root.join(name)).map(Some),
        }
    }

    /// The note folders the live generation was built from, read from its
    /// manifest whatever its format (empty if there is none), so that an
    /// index written by an older cram still hands its remembered folders of
    /// the user's notes to the rebuild.
    pub fn remembered_sources(&self) -> Vec<Source> {
        #[derive(Deserialize)]
        struct Sources {
            sources: Vec<Source>,
        }
        let Ok(Some(name)) = self.current() else {
            return Vec::new();
        };
        fs::read(self.root.join(name).join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Sources>(&b).ok())
            .map(|s| s.sources)
            .unwrap_or_default()
    }

    /// Takes the build lock without waiting; [`Error::Locked`] if another
    /// process holds it.
    pub fn lock(&self) -> Result<BuildLock> {
        fs::create_dir_all(&self.root).ctx("creating", &self.root)?;
        let p = self.root.join(LOCK);
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .ctx("opening", &p)?;
        match f.try_lock() {
            Ok(()) => Ok(BuildLock { _file: f }),
            Err(fs::TryLockError::WouldBlock) => Err(Error::Locked(p)),
            Err(fs::TryLockError::Error(e)) => {
                Err(Error::io(format!("locking {}", p.display()), e))
            }
        }
    }

    /// Builds a new generation from `snapshot` and makes it live. `embed` is
    /// called only for passages (and titles) not already embedded in the live
    /// generation with the same model; `progress(done, total)` reports it.
    pub fn build(
        &self,
        _lock: &BuildLock,
        snapshot: &CorpusSnapshot,
        model: &ModelInfo,
        embed: &mut EmbedFn<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Manifest> {
        let started = Instant::now();
        let chunker = ChunkParams::default();
        let graph_params = GraphParams::default();
        let chunks: Vec<Chunk> = snapshot
            .notes
            .iter()
            .flat_map(|n| chunk::chunk_note(n, chunker))
            .collect();
        if chunks.is_empty() {
            let names: Vec<String> = snapshot
                .sources
                .iter()
                .map(|s| s.path.display().to_string())
                .collect();
            return Err(Error::EmptyCorpus(names.join(", ")));
        }
        let records: Vec<NoteRecord> = snapshot.notes.iter().map(NoteRecord::from_note).collect();
        let sentences: Vec<Vec<String>> = chunks
            .iter()
            .map(|c| sentences::passage_sentences(&c.heading, &c.text))
            .collect();

        let e = self.embed_all(
            snapshot, &records, &chunks, &sentences, model, embed, progress,
        )?;

        // Write everything into a private temporary folder.
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = format!("{}{:09}", stamp.as_secs(), stamp.subsec_nanos());
        let tmp = self.root.join(format!("tmp-{}-{id}", std::process::id()));
        fs::create_dir_all(&tmp).ctx("creating", &tmp)?;
        let contents = Contents {
            chunks: &chunks,
            records: &records,
            vectors: &e.vectors,
            titles: &e.titles,
            sentences: &sentences,
            sentence_vectors: &e.sentence_vectors,
            outside_topics: &e.outside_topics,
            outside_vectors: &e.outside_vectors,
        };
        let manifest = match write_generation(
            &tmp,
            &contents,
            |files| Manifest {
                format: FORMAT_VERSION,
                cram_version: env!("CARGO_PKG_VERSION").to_string(),
                created_unix: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs(),
                fingerprint: snapshot.fingerprint(model, chunker, graph_params),
                model: model.clone(),
                chunker,
                graph: graph_params,
                hnsw_basename: files.0,
                sources: snapshot.sources.clone(),
                corpus_hash: snapshot.corpus_hash.clone(),
                notes: records.len(),
                chunks: chunks.len(),
                embedded: e.embedded,
                build_seconds: started.elapsed().as_secs_f64(),
                files: files.1,
            },
            graph_params,
        ) {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };

        let gen_name = self.publish(&tmp, &id)?;
        tracing::info!(generation = %gen_name, seconds = manifest.build_seconds, "published index generation");
        Ok(manifest)
    }

    /// Publishes the finished build in `tmp`: renames the folder to
    /// `gen-<id>`, then points CURRENT at it (each step a rename, so a
    /// reader sees the old generation or the new one), and removes what is
    /// no longer needed. Returns the generation's folder name.
    fn publish(&self, tmp: &Path, id: &str) -> Result<String> {
        let previous = self.current().ok().flatten();
        let gen_name = format!("gen-{id}");
        let gen_path = self.root.join(&gen_name);
        fs::rename(tmp, &gen_path).ctx("publishing", &gen_path)?;
        let cur_tmp = self.root.join("CURRENT.tmp");
        write_file(&cur_tmp, format!("{gen_name}\n").as_bytes())?;
        fs::rename(&cur_tmp, self.root.join(CURRENT))
            .ctx("publishing", &self.root.join(CURRENT))?;
        sync_dir(&self.root);
        self.collect_garbage(&gen_name, previous.as_deref());
        Ok(gen_name)
    }

    /// The vectors of a build: every passage, note question, key-point
    /// sentence and listed outside topic, embedding only what the live
    /// generation (same model) does not already hold; and the outside
    /// topics these notes do not cover.
    #[allow(clippy::too_many_arguments)]
    fn embed_all(
        &self,
        snapshot: &CorpusSnapshot,
        records: &[NoteRecord],
        chunks: &[Chunk],
        sentences: &[Vec<String>],
        model: &ModelInfo,
        embed: &mut EmbedFn<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Embedded> {
        let sentence_keys: Vec<String> = sentences
            .iter()
            .flatten()
            .map(|s| sentences::sentence_key(s))
            .collect();
        // Reuse vectors from the live generation when the model is the same.
        let mut cache = self.vector_cache(model).unwrap_or_default();
        let mut wanted: Vec<(String, String)> = Vec::new(); // (hash, text)
        for c in chunks {
            wanted.push((c.hash.clone(), c.context_text()));
        }
        for (n, r) in snapshot.notes.iter().zip(records) {
            wanted.push((r.title_hash.clone(), title_text(n)));
        }
        for (key, s) in sentence_keys.iter().zip(sentences.iter().flatten()) {
            wanted.push((key.clone(), s.clone()));
        }
        let listed: Vec<String> = outside::topics().into_iter().map(String::from).collect();
        for t in &listed {
            wanted.push((outside::key(t), t.clone()));
        }
        let embedded = embed_missing(&mut cache, wanted, embed, progress)?;
        let rows: Vec<Vec<f32>> = chunks.iter().map(|c| cache[&c.hash].clone()).collect();
        let title_rows: Vec<Vec<f32>> = records
            .iter()
            .map(|r| cache[&r.title_hash].clone())
            .collect();
        let sentence_rows: Vec<Vec<f32>> = sentence_keys.iter().map(|k| cache[k].clone()).collect();
        let vectors = Vectors::from_rows(model.dim, &rows);
        let titles = Vectors::from_rows(model.dim, &title_rows);
        let sentence_vectors = Vectors::from_rows(model.dim, &sentence_rows);
        // Only the listed topics these notes do not cover are outside them.
        let listed_rows: Vec<Vec<f32>> = listed
            .iter()
            .map(|t| cache[&outside::key(t)].clone())
            .collect();
        let keep = outside::uncovered(
            &Vectors::from_rows(model.dim, &listed_rows),
            &titles,
            &vectors,
        );
        let outside_topics: Vec<String> = keep.iter().map(|&i| listed[i].clone()).collect();
        let outside_rows: Vec<Vec<f32>> = keep.iter().map(|&i| listed_rows[i].clone()).collect();
        let outside_vectors = Vectors::from_rows(model.dim, &outside_rows);

        Ok(Embedded {
            vectors,
            titles,
            sentence_vectors,
            outside_topics,
            outside_vectors,
            embedded,
        })
    }

    /// hash -> vector for every passage and title of the live generation, if
    /// it was built with `model` and is intact. An older format's vectors
    /// count too (from [`VECTORS_ALONE_SINCE`] on): a new cram re-embeds only
    /// what it cuts differently.
    fn vector_cache(&self, model: &ModelInfo) -> Option<HashMap<String, Vec<f32>>> {
        /// What reuse needs of a manifest of any format ([`read_manifest`]
        /// accepts only this one).
        #[derive(Deserialize)]
        struct Reusable {
            format: u32,
            model: ModelInfo,
            files: BTreeMap<String, FileSum>,
        }
        let dir = self.current_path().ok()?;
        let m: Reusable =
            serde_json::from_slice(&fs::read(dir.join("manifest.json")).ok()?).ok()?;
        if m.model != *model || m.format < VECTORS_ALONE_SINCE {
            return None;
        }
        verify_files(&dir, &m.files).ok()?;
        let chunks: Vec<Chunk> =
            serde_json::from_slice(&fs::read(dir.join("chunks.json")).ok()?).ok()?;
        let notes: Vec<NoteRecord> =
            serde_json::from_slice(&fs::read(dir.join("notes.json")).ok()?).ok()?;
        let v = Vectors::from_bytes(model.dim, &fs::read(dir.join("embeddings.f32")).ok()?)?;
        let t = Vectors::from_bytes(model.dim, &fs::read(dir.join("questions.f32")).ok()?)?;
        if v.len() != chunks.len() || t.len() != notes.len() {
            return None;
        }
        let mut map = HashMap::with_capacity(chunks.len() + notes.len());
        for (i, c) in chunks.iter().enumerate() {
            map.insert(c.hash.clone(), v.row(i).to_vec());
        }
        for (i, n) in notes.iter().enumerate() {
            map.insert(n.title_hash.clone(), t.row(i).to_vec());
        }
        // Sentence vectors (index format 3 on): a generation without them
        // still lends its passage vectors.
        let sentences = (|| {
            let lists: Vec<Vec<String>> =
                serde_json::from_slice(&fs::read(dir.join("sentences.json")).ok()?).ok()?;
            let v = Vectors::from_bytes(model.dim, &fs::read(dir.join("sentences.f32")).ok()?)?;
            let flat: Vec<String> = lists.into_iter().flatten().collect();
            (flat.len() == v.len()).then_some((flat, v))
        })();
        if let Some((flat, v)) = sentences {
            for (i, s) in flat.iter().enumerate() {
                map.insert(sentences::sentence_key(s), v.row(i).to_vec());
            }
        }
        // Outside topics (index format 10 on).
        let outside = (|| {
            let topics: Vec<String> =
                serde_json::from_slice(&fs::read(dir.join("outside.json")).ok()?).ok()?;
            let v = Vectors::from_bytes(model.dim, &fs::read(dir.join("outside.f32")).ok()?)?;
            (topics.len() == v.len()).then_some((topics, v))
        })();
        if let Some((topics, v)) = outside {
            for (i, t) in topics.iter().enumerate() {
                map.insert(outside::key(t), v.row(i).to_vec());
            }
        }
        Some(map)
    }

    /// Removes what builds killed before they finished left behind (`tmp-*`
    /// folders), when no build is running: `cram index` does it even when
    /// the index is up to date, since a build killed while it cleaned up
    /// can leave one beside a current index. Returns how many it removed.
    pub fn tidy(&self) -> Result<usize> {
        let _lock = match self.lock() {
            Ok(l) => l,
            Err(Error::Locked(_)) => return Ok(0),
            Err(e) => return Err(e),
        };
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Ok(0);
        };
        let mut removed = 0;
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("tmp-")
                && fs::remove_dir_all(e.path()).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes unfinished builds and generations older than the previous one.
    /// Runs under the build lock, so no `tmp-*` folder belongs to a live build.
    fn collect_garbage(&self, live: &str, previous: Option<&str>) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old_gen =
                name.starts_with("gen-") && name != live && Some(name.as_str()) != previous;
            if old_gen || name.starts_with("tmp-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Reads and checks the manifest of a generation folder.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let p = dir.join("manifest.json");
    let corrupt = |reason: String| Error::IndexCorrupt {
        path: dir.to_path_buf(),
        reason,
    };
    let bytes = fs::read(&p).map_err(|e| corrupt(format!("manifest.json: {e}")))?;
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let v: Version = serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(format!("manifest.json does not parse: {e}")))?;
    if v.format != FORMAT_VERSION {
        return Err(corrupt(format!(
            "it has format {}, this cram reads format {FORMAT_VERSION}",
            v.format
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(format!("manifest.json does not parse: {e}")))
}

/// Checks every file listed in the manifest (size, then SHA-256).
pub fn verify(dir: &Path, m: &Manifest) -> Result<()> {
    verify_files(dir, &m.files)
}

/// Checks the listed files of a generation (size, then SHA-256).
fn verify_files(dir: &Path, files: &BTreeMap<String, FileSum>) -> Result<()> {
    for (rel, sum) in files {
        let p = dir.join(rel);
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: dir.to_path_buf(),
            reason: format!("{rel}: {reason}"),
        };
        let meta = fs::metadata(&p).map_err(|e| corrupt(e.to_string()))?;
        if meta.len() != sum.size {
            return Err(corrupt(format!(
                "{} bytes, expected {}",
                meta.len(),
                sum.size
            )));
        }
        if hash::file_hex(&p)? != sum.sha256 {
            return Err(corrupt("checksum mismatch".into()));
        }
    }
    Ok(())
}

fn checksum_tree(root: &Path) -> Result<BTreeMap<String, FileSum>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).ctx("listing", &d)? {
            let e = e.ctx("listing", &d)?;
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().ctx("inspecting", &p)?.is_dir() {
                stack.push(p);
            } else if !name.ends_with(".lock") && name != "manifest.json" {
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let size = fs::metadata(&p).ctx("inspecting", &p)?.len();
                out.insert(
                    rel,
                    FileSum {
                        size,
                        sha256: hash::file_hex(&p)?,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Total bytes of the files below `dir` (0 for a missing folder).
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).ctx("creating", path)?;
    f.write_all(bytes).ctx("writing", path)?;
    f.sync_all().ctx("syncing", path)?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes renames durable on Linux; not supported everywhere.
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A generation opened for search.
pub struct Generation {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Passages; position = ordinal.
    pub chunks: Vec<Chunk>,
    /// Notes, sorted by id.
    pub notes: Vec<NoteRecord>,
    /// Passage vectors.
    pub vectors: Vectors,
    /// Note title vectors, aligned with `notes`.
    pub titles: Vectors,
    /// Key-point candidate sentences, one list per passage.
    pub sentences: Vec<Vec<String>>,
    /// Their vectors, flattened in the same order (see [`Generation::sentence_vector`]).
    sentence_vectors: Vectors,
    /// Row in `sentence_vectors` of each passage's first sentence.
    sentence_start: Vec<usize>,
    /// Topics the notes do not cover (see [`outside`]).
    pub outside_topics: Vec<String>,
    /// Their vectors, aligned with `outside_topics`.
    pub outside: Vectors,
    /// BM25 index.
    pub lexical: Lexical,
    graph: std::sync::OnceLock<Result<Graph, String>>,
}

impl Generation {
    /// Opens the live generation, verifying every file against the manifest.
    pub fn open(dir: &IndexDir) -> Result<Generation> {
        let path = dir.current_path()?;
        Self::open_at(&path)
    }

    /// Opens the generation in `path`.
    pub fn open_at(path: &Path) -> Result<Generation> {
        let started = std::time::Instant::now();
        let manifest = read_manifest(path)?;
        verify(path, &manifest)?;
        tracing::debug!(
            files = manifest.files.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "verified index files"
        );
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let read =
            |name: &str| fs::read(path.join(name)).map_err(|e| corrupt(format!("{name}: {e}")));
        let chunks: Vec<Chunk> = serde_json::from_slice(&read("chunks.json")?)
            .map_err(|e| corrupt(format!("chunks.json: {e}")))?;
        let notes: Vec<NoteRecord> = serde_json::from_slice(&read("notes.json")?)
            .map_err(|e| corrupt(format!("notes.json: {e}")))?;
        let dim = manifest.model.dim;
        let vectors = Vectors::from_bytes(dim, &read("embeddings.f32")?)
            .ok_or_else(|| corrupt("embeddings.f32 has a partial vector".into()))?;
        let titles = Vectors::from_bytes(dim, &read("questions.f32")?)
            .ok_or_else(|| corrupt("questions.f32 has a partial vector".into()))?;
        let sentences: Vec<Vec<String>> = serde_json::from_slice(&read("sentences.json")?)
            .map_err(|e| corrupt(format!("sentences.json: {e}")))?;
        let sentence_vectors = Vectors::from_bytes(dim, &read("sentences.f32")?)
            .ok_or_else(|| corrupt("sentences.f32 has a partial vector".into()))?;
        let mut sentence_start = Vec::with_capacity(sentences.len());
        let mut at = 0;
        for s in &sentences {
            sentence_start.push(at);
            at += s.len();
        }
        if sentences.len() != chunks.len() || at != sentence_vectors.len() {
            return Err(corrupt(format!(
                "sentences disagree: {} lists for {} passages, {at} sentences, {} vectors",
                sentences.len(),
                chunks.len(),
                sentence_vectors.len()
            )));
        }
        let outside_topics: Vec<String> = serde_json::from_slice(&read("outside.json")?)
            .map_err(|e| corrupt(format!("outside.json: {e}")))?;
        let outside = Vectors::from_bytes(dim, &read("outside.f32")?)
            .ok_or_else(|| corrupt("outside.f32 has a partial vector".into()))?;
        if outside.len() != outside_topics.len() {
            return Err(corrupt(format!(
                "outside topics disagree: {} topics, {} vectors",
                outside_topics.len(),
                outside.len()
            )));
        }
        let lexical =
            Lexical::open(&path.join("lexical")).map_err(|e| corrupt(format!("lexical: {e}")))?;
        if vectors.len() != chunks.len()
            || titles.len() != notes.len()
            || lexical.num_docs() != chunks.len() as u64
            || chunks.len() != manifest.chunks
        {
            return Err(corrupt(format!(
                "counts disagree: {} passages, {} vectors, {} BM25 documents",
                chunks.len(),
                vectors.len(),
                lexical.num_docs()
            )));
        }
        Ok(Generation {
            dir: path.to_path_buf(),
            manifest,
            chunks,
            notes,
            vectors,
            titles,
            sentences,
            sentence_vectors,
            sentence_start,
            outside_topics,
            outside,
            lexical,
            graph: std::sync::OnceLock::new(),
        })
    }

    /// The HNSW graph, loaded on first use.
    pub fn graph(&self) -> Result<&Graph> {
        self.graph
            .get_or_init(|| {
                Graph::load(&self.dir.join("hnsw"), &self.manifest.hnsw_basename)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::IndexCorrupt {
                path: self.dir.clone(),
                reason: e.clone(),
            })
    }

    /// The vector of sentence `j` of passage `ord` (see [`Generation::sentences`]).
    pub fn sentence_vector(&self, ord: usize, j: usize) -> &[f32] {
        self.sentence_vectors.row(self.sentence_start[ord] + j)
    }

    /// The ordinals of note `id`'s passages, in order.
    pub fn passages_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.chunks
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.note_id == id)
            .map(|(ord, _)| ord)
    }

    /// The note with id `id`.
    pub fn note(&self, id: &str) -> Option<&NoteRecord> {
        self.notes.iter().find(|n| n.id == id)
    }
}

/// What [`IndexDir::build`] embeds ([`IndexDir::embed_all`]).
struct Embedded {
    /// One row per passage.
    vectors: Vectors,
    /// One row per note question (title and tags).
    titles: Vectors,
    /// One row per key-point sentence, passage by passage.
    sentence_vectors: Vectors,
    /// The listed outside topics no note covers, and their rows.
    outside_topics: Vec<String>,
    outside_vectors: Vectors,
    /// Texts embedded in this build (the rest came from the live generation).
    embedded: usize,
}

/// What a generation holds, written by [`write_generation`].
struct Contents<'a> {
    chunks: &'a [Chunk],
    records: &'a [NoteRecord],
    vectors: &'a Vectors,
    titles: &'a Vectors,
    sentences: &'a [Vec<String>],
    sentence_vectors: &'a Vectors,
    outside_topics: &'a [String],
    outside_vectors: &'a Vectors,
}

/// Embeds the texts of `wanted` (key, text) whose key `cache` lacks, in
/// length order, and adds their vectors to it; returns how many were
/// embedded.
fn embed_missing(
    cache: &mut HashMap<String, Vec<f32>>,
    mut wanted: Vec<(String, String)>,
    embed: &mut EmbedFn<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<usize> {
    let all = wanted.len();
    wanted.retain(|(k, _)| !cache.contains_key(k));
    wanted.sort();
    wanted.dedup_by(|a, b| a.0 == b.0);
    // Shortest first: each text is embedded alone (so the order changes no
    // vector), and an interrupted build has kept the most texts.
    wanted.sort_by_key(|(h, t)| (t.len(), h.clone()));
    let total = wanted.len();
    tracing::info!(texts = all, to_embed = total, "chunked notes");
    if total > 0 {
        let texts: Vec<String> = wanted.iter().map(|(_, t)| t.clone()).collect();
        progress(0, total);
        let vecs = embed(&texts, &mut |done| progress(done, total))?;
        if vecs.len() != total {
            return Err(Error::Embed(format!(
                "asked for {total} vectors, got {}",
                vecs.len()
            )));
        }
        for ((h, _), v) in wanted.into_iter().zip(vecs) {
            cache.insert(h, v);
        }
    }
    Ok(total)
}

/// Writes a generation's files into `tmp` (lexical index and HNSW graph
/// built there) and its manifest, which `manifest` makes from the graph's
/// basename and the files' checksums.
fn write_generation(
    tmp: &Path,
    c: &Contents<'_>,
    manifest: impl FnOnce((String, BTreeMap<String, FileSum>)) -> Manifest,
    graph_params: GraphParams,
) -> Result<Manifest> {
    write_file(
        &tmp.join("chunks.json"),
        &serde_json::to_vec(c.chunks).expect("chunks serialise"),
    )?;
    write_file(
        &tmp.join("notes.json"),
        &serde_json::to_vec(c.records).expect("notes serialise"),
    )?;
    write_file(&tmp.join("embeddings.f32"), &c.vectors.to_bytes())?;
    write_file(&tmp.join("questions.f32"), &c.titles.to_bytes())?;
    write_file(
        &tmp.join("sentences.json"),
        &serde_json::to_vec(c.sentences).expect("sentences serialise"),
    )?;
    write_file(&tmp.join("sentences.f32"), &c.sentence_vectors.to_bytes())?;
    write_file(
        &tmp.join("outside.json"),
        &serde_json::to_vec(c.outside_topics).expect("topics serialise"),
    )?;
    write_file(&tmp.join("outside.f32"), &c.outside_vectors.to_bytes())?;
    let lex = tmp.join("lexical");
    fs::create_dir(&lex).ctx("creating", &lex)?;
    let texts: Vec<String> = c
        .chunks
        .iter()
        .map(|ch| {
            let tags = c
                .records
                .iter()
                .find(|n| n.id == ch.note_id)
                .map_or(&[][..], |n| &n.tags[..]);
            ch.lexical_text(tags)
        })
        .collect();
    lexical::build(&lex, &texts)?;
    let hnsw_dir = tmp.join("hnsw");
    fs::create_dir(&hnsw_dir).ctx("creating", &hnsw_dir)?;
    let graph = Graph::build(c.vectors, graph_params);
    let hnsw_basename = graph.dump(&hnsw_dir)?;
    let files = checksum_tree(tmp)?;
    let manifest = manifest((hnsw_basename, files));
    write_file(
        &tmp.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )?;
    sync_dir(tmp);
    Ok(manifest)
}
