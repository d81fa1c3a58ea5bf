//! Sentence embeddings through `fastembed` and ONNX Runtime.
//!
//! Nothing is downloaded here. `scripts/provision.py` (run by `make setup`)
//! places the exported ONNX models (all-MiniLM-L6-v2 in fp32, and the same
//! dynamically quantised to int8), their tokenizer and a `model.json` in each
//! model folder, and the ONNX Runtime shared library with an `ort.json` under
//! [`crate::config::cram_home`]; any other folder that keeps the contract of
//! [`crate::index::model`] works too. This module loads them, and turns every missing
//! piece into [`Error::ModelMissing`], [`Error::ModelInvalid`] or
//! [`Error::RuntimeMissing`] instead of the panic that `ort` raises when it
//! cannot find its library.
//!
//! Settings come from `model.json`: mean or CLS pooling, L2-normalised output,
//! the token limit (longer text is truncated), and the prefixes put before
//! questions and passages (none for MiniLM; `query: ` / `passage: ` for e5).

use std::path::{Path, PathBuf};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use serde::Deserialize;

use crate::config::cram_home;
use crate::error::{Error, Result};

/// ONNX Runtime's session option: whether its worker threads busy-wait
/// for the next operator instead of sleeping.
const ALLOW_SPINNING: &str = "session.intra_op.allow_spinning";

/// `"0"` unless `$CRAM_ORT_SPIN` is `1`. A laptop shares its cores with
/// everything else the user runs; a spinning worker then burns a core the
/// other worker needs, and a query embedding on 2 cores with the second
/// one busy took twice as long with spinning as without (BENCHMARKS.md,
/// "Speed"). `CRAM_ORT_SPIN=1` restores ONNX Runtime's default, for a
/// machine left to `cram` alone or to compare the two.
fn spinning() -> &'static str {
    match std::env::var("CRAM_ORT_SPIN").as_deref() {
        Ok("1") => "1",
        _ => "0",
    }
}

/// Texts per forward pass: one, so that a text's vector depends on the text
/// alone. With a dynamically quantised model (the int8 default) each
/// layer's activations are scaled by the range of the whole batch, padding
/// included, so in batches of 8 a passage's vector shifted with whatever
/// else was embedded beside it: a full and an incremental build of the same
/// notes could disagree, and adding sentences to the index moved dev dense
/// hit@1 by a query with no passage changed. Alone, every text is embedded
/// the way a question is. It costs nothing on this 2-core CPU (one text at
/// a time wastes no padding:
/// SciFact documents, int8 28.5 docs/s alone against 24.3 in batches of 8,
/// fp32 19.8 against 16.9; the notes' index 34 s either way) and keeps peak
/// memory low (`../shared/MODEL.md`: 2 GB at fastembed's default of 256).
pub const BATCH_SIZE: usize = 1;

pub use crate::index::model::ModelInfo;

/// Where the ONNX Runtime library is: `CRAM_ORT_LIB`, else `ORT_DYLIB_PATH`,
/// else the library named by `$CRAM_HOME/onnxruntime/ort.json`.
pub fn find_runtime(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    for var in ["CRAM_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
    }
    let dir = cram_home().join("onnxruntime");
    let manifest = dir.join("ort.json");
    #[derive(Deserialize)]
    struct OrtJson {
        library: String,
    }
    let text = std::fs::read_to_string(&manifest)
        .map_err(|_| Error::RuntimeMissing(format!("{} not found", manifest.display())))?;
    let o: OrtJson = serde_json::from_str(&text)
        .map_err(|e| Error::RuntimeMissing(format!("bad {} ({e})", manifest.display())))?;
    Ok(dir.join(o.library))
}

/// Loads the ONNX Runtime library once per process. Safe to call repeatedly.
pub fn init_runtime(lib: &Path) -> Result<()> {
    if !lib.is_file() {
        return Err(Error::RuntimeMissing(format!(
            "{} does not exist",
            lib.display()
        )));
    }
    // Loading the library is all we need; fastembed creates the environment.
    let _builder = ort::init_from(lib).map_err(|e| {
        Error::RuntimeMissing(format!(
            "cannot load {} ({})",
            lib.display(),
            one_line(&e.to_string())
        ))
    })?;
    Ok(())
}

/// A loaded embedding model.
pub struct Embedder {
    model: TextEmbedding,
    info: ModelInfo,
    dir: PathBuf,
}

/// A model being loaded on another thread ([`Embedder::load_in_background`]),
/// so that a cold command opens its index while the model loads. Dropping it
/// waits for the thread: no load is ever left running inside ONNX Runtime
/// while the process exits (an error path, or a model nobody took).
pub struct PendingModel(Option<std::thread::JoinHandle<Result<Embedder>>>);

impl PendingModel {
    /// True when the load has finished (with the model or an error), so
    /// [`PendingModel::wait`] returns at once.
    pub fn is_ready(&self) -> bool {
        self.0.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits for the load: the model, or the error [`Embedder::load`] gave.
    pub fn wait(mut self) -> Result<Embedder> {
        let handle = self.0.take().expect("a pending model is waited for once");
        handle.join().unwrap_or_else(|_| {
            Err(Error::Embed(
                "loading the model panicked (a bug in cram or ONNX Runtime; see stderr)".into(),
            ))
        })
    }
}

impl Drop for PendingModel {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

impl Embedder {
    /// Starts [`Embedder::load`] on its own thread. Loading is most of a cold
    /// `cram ask` (0.3-0.6 s) and needs nothing from the index.
    pub fn load_in_background(model_dir: &Path, ort_lib: Option<&Path>) -> PendingModel {
        let (dir, lib) = (model_dir.to_path_buf(), ort_lib.map(Path::to_path_buf));
        PendingModel(Some(std::thread::spawn(move || {
            Embedder::load(&dir, lib.as_deref())
        })))
    }

    /// Loads the model in `model_dir` with the runtime at `ort_lib` (or found by
    /// [`find_runtime`]). Takes about 0.2 s for the int8 MiniLM, 0.5 s for fp32.
    pub fn load(model_dir: &Path, ort_lib: Option<&Path>) -> Result<Embedder> {
        let info = ModelInfo::read(model_dir)?;
        let read = |name: &str| {
            std::fs::read(model_dir.join(name)).map_err(|e| {
                crate::index::model::invalid(model_dir, name, format!("cannot be read ({e})"))
            })
        };
        let onnx = read("model.onnx")?;
        let tokenizer = read("tokenizer.json")?;
        let [config, special, tokenizer_config] =
            crate::index::model::tokenizer_side_files(model_dir, &info, &tokenizer)?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: tokenizer,
            config_file: config,
            special_tokens_map_file: special,
            tokenizer_config_file: tokenizer_config,
        };
        init_runtime(&find_runtime(ort_lib)?)?;
        let pooling = if info.cls_pooling() {
            Pooling::Cls
        } else {
            Pooling::Mean
        };
        let udm = UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(pooling);
        let opts = InitOptionsUserDefined::new()
            .with_max_length(info.max_length)
            .with_session_config(ALLOW_SPINNING, spinning());
        let model = TextEmbedding::try_new_from_user_defined(udm, opts).map_err(|e| {
            crate::index::model::invalid(
                model_dir,
                "model.onnx",
                format!(
                    "does not load ({}): check that it is an ONNX export of the model and that tokenizer.json is its tokenizer",
                    one_line(&e.to_string())
                ),
            )
        })?;
        Ok(Embedder {
            model,
            info,
            dir: model_dir.to_path_buf(),
        })
    }

    /// The model's identity.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Embeds passages [`BATCH_SIZE`] at a time, each after the model's
    /// passage prefix, calling `progress(done)` after each batch.
    pub fn embed_with_progress<S: AsRef<str> + Send + Sync>(
        &mut self,
        texts: &[S],
        progress: impl FnMut(usize),
    ) -> Result<Vec<Vec<f32>>> {
        let prefix = self.info.passage_prefix.clone();
        self.embed_prefixed(&prefix, texts, progress)
    }

    /// Embeds passages (titles, sentences, documents).
    pub fn embed<S: AsRef<str> + Send + Sync>(&mut self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_progress(texts, |_| {})
    }

    /// Embeds one question, after the model's query prefix.
    pub fn embed_query(&mut self, q: &str) -> Result<Vec<f32>> {
        let prefix = self.info.query_prefix.clone();
        Ok(self
            .embed_prefixed(&prefix, &[q], |_| {})?
            .pop()
            .unwrap_or_default())
    }

    fn embed_prefixed<S: AsRef<str> + Send + Sync>(
        &mut self,
        prefix: &str,
        texts: &[S],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH_SIZE) {
            let v = if prefix.is_empty() {
                self.model.embed(batch, Some(BATCH_SIZE))
            } else {
                let with: Vec<String> = batch
                    .iter()
                    .map(|t| format!("{prefix}{}", t.as_ref()))
                    .collect();
                self.model.embed(&with, Some(BATCH_SIZE))
            }
            .map_err(|e| Error::Embed(one_line(&e.to_string())))?;
            if let Some(first) = v.first()
                && first.len() != self.info.dim
            {
                return Err(crate::index::model::invalid(
                    &self.dir,
                    "model.json: dim",
                    format!(
                        "is {}, but model.onnx returns {}-d vectors: set \"dim\": {}",
                        self.info.dim,
                        first.len(),
                        first.len()
                    ),
                ));
            }
            out.extend(v);
            progress(out.len());
        }
        if let Some(bad) = out
            .iter()
            .find(|v| v.len() != self.info.dim || v.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::Embed(format!(
                "the model returned a vector of length {} (expected {}) or a non-finite value",
                bad.len(),
                self.info.dim
            )));
        }
        Ok(out)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
