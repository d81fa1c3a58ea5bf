//! Sentence embeddings: all-MiniLM-L6-v2 through `fastembed` and ONNX Runtime.
//!
//! Nothing is downloaded here. `scripts/provision.py` (run by `make setup`)
//! places the exported ONNX model, its tokenizer and a `model.json` identity in
//! the model folder, and the ONNX Runtime shared library with an `ort.json`
//! under [`crate::config::cram_home`]. This module loads them, and turns every
//! missing piece into [`Error::ModelMissing`] or [`Error::RuntimeMissing`]
//! instead of the panic that `ort` raises when it cannot find its library.
//!
//! Settings follow the model card: mean pooling over the attention mask,
//! L2-normalised output, at most 256 tokens (longer text is truncated), no
//! query prefix.

use std::path::{Path, PathBuf};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use serde::{Deserialize, Serialize};

use crate::config::cram_home;
use crate::error::{Error, Result};

/// Texts per forward pass. Small batches are as fast as large ones on a
/// 2-core CPU (26.5 passages/s at 4-8 vs 20.8 at fastembed's default 256) and
/// keep peak memory near 450 MB instead of 2 GB (`../shared/MODEL.md`).
pub const BATCH_SIZE: usize = 8;

/// The identity of a provisioned model, read from `model.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Upstream model name, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    pub id: String,
    /// SHA-256 of `model.onnx`.
    pub onnx_sha256: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Token limit; longer text is truncated.
    pub max_length: usize,
    /// Pooling (`mean`).
    pub pooling: String,
}

impl ModelInfo {
    /// Reads `model.json` from a model folder.
    pub fn read(model_dir: &Path) -> Result<ModelInfo> {
        let p = model_dir.join("model.json");
        let missing = |reason: String| Error::ModelMissing {
            path: model_dir.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(&p)
            .map_err(|e| missing(format!("cannot read model.json ({e})")))?;
        let info: ModelInfo =
            serde_json::from_str(&text).map_err(|e| missing(format!("bad model.json ({e})")))?;
        if info.pooling != "mean" || info.dim == 0 || info.max_length == 0 {
            return Err(missing(format!(
                "model.json describes an unsupported model (pooling {}, dim {})",
                info.pooling, info.dim
            )));
        }
        Ok(info)
    }

    /// A short string naming exactly this model and its settings; part of the
    /// index fingerprint and the embedding cache key.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}@{}/{}/max{}",
            self.id,
            &self.onnx_sha256[..self.onnx_sha256.len().min(16)],
            self.pooling,
            self.max_length
        )
    }
}

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
}

impl Embedder {
    /// Loads the model in `model_dir` with the runtime at `ort_lib` (or found by
    /// [`find_runtime`]). Takes about 0.5 s.
    pub fn load(model_dir: &Path, ort_lib: Option<&Path>) -> Result<Embedder> {
        let info = ModelInfo::read(model_dir)?;
        let missing = |reason: String| Error::ModelMissing {
            path: model_dir.to_path_buf(),
            reason,
        };
        let read = |name: &str| {
            std::fs::read(model_dir.join(name))
                .map_err(|e| missing(format!("cannot read {name} ({e})")))
        };
        let onnx = read("model.onnx")?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        init_runtime(&find_runtime(ort_lib)?)?;
        let udm = UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
        let opts = InitOptionsUserDefined::new().with_max_length(info.max_length);
        let model = TextEmbedding::try_new_from_user_defined(udm, opts).map_err(|e| {
            missing(format!(
                "the model does not load ({})",
                one_line(&e.to_string())
            ))
        })?;
        Ok(Embedder { model, info })
    }

    /// The model's identity.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Embeds texts in batches of [`BATCH_SIZE`], calling `progress(done)` after each batch.
    pub fn embed_with_progress<S: AsRef<str> + Send + Sync>(
        &mut self,
        texts: &[S],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH_SIZE) {
            let v = self
                .model
                .embed(batch, Some(BATCH_SIZE))
                .map_err(|e| Error::Embed(one_line(&e.to_string())))?;
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

    /// Embeds texts in batches.
    pub fn embed<S: AsRef<str> + Send + Sync>(&mut self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        self.embed_with_progress(texts, |_| {})
    }

    /// Embeds one question.
    pub fn embed_query(&mut self, q: &str) -> Result<Vec<f32>> {
        Ok(self.embed(&[q])?.pop().unwrap_or_default())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
