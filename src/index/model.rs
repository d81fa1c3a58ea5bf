//! The model folder contract: what `--model DIR` must hold, read and checked once.
//!
//! A model folder holds three files (README, "Models"):
//!
//! * `model.onnx`: a sentence encoder taking `input_ids` and `attention_mask`
//!   (and `token_type_ids` if it declares it), int64 `[batch, sequence]`, and
//!   returning token states `[batch, sequence, dim]` (`last_hidden_state`, or
//!   the only output) or a pooled `[batch, dim]` (`sentence_embedding`);
//! * `tokenizer.json`: its Hugging Face fast tokenizer;
//! * `model.json`: how to use it (schema `cram.model/1`):
//!
//! ```json
//! {"schema": "cram.model/1", "id": "intfloat/e5-small-v2", "dim": 384, "max_length": 512,
//!  "pooling": "mean", "normalize": true, "query_prefix": "query: ", "passage_prefix": "passage: "}
//! ```
//!
//! `dim`, `max_length` and `pooling` (`mean` or `cls`) are required; `normalize`
//! defaults to true (and must be true: the dense arm ranks by cosine), the
//! prefixes to none, `id` to the folder's name, and `onnx_sha256` (which names
//! the exact weights in the index fingerprint) is computed when absent. Other
//! fields (`source`, `exporter`, `quantization`, ...) are kept for people and
//! ignored here. `config.json`, `tokenizer_config.json` and
//! `special_tokens_map.json` are read when present (the tokenizer's pad token
//! and length limit) and synthesised from `tokenizer.json` when not.
//!
//! Everything wrong with a folder is an [`Error::ModelInvalid`] naming the file
//! or field and the fix, except missing files in the provisioned folders
//! ([`PROVISIONED`]), which are [`Error::ModelMissing`] (`make setup`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::cram_home;
use crate::error::{Error, Result};

/// The schema `model.json` may declare (and `scripts/provision.py` writes).
pub const SCHEMA: &str = "cram.model/1";

/// Longest `max_length` accepted (tokens).
pub const MAX_TOKENS: usize = 8192;

/// Models provisioned by `make setup`: short name and folder under
/// `$CRAM_HOME/models/`. The first is the default: the int8 model ranks
/// like the fp32 one within the confidence intervals on the notes and all
/// four BEIR collections, and answers a question 1.7x sooner from a 4x
/// smaller file (BENCHMARKS.md, "Models"); `fp32` is the reference export,
/// for numbers compared with published ones.
pub const PROVISIONED: &[(&str, &str)] = &[
    ("int8", "all-MiniLM-L6-v2-int8"),
    ("fp32", "all-MiniLM-L6-v2"),
];

/// The identity and settings of a model, as recorded in an index manifest.
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
    /// Pooling: `mean` (over the attention mask) or `cls` (the first token).
    pub pooling: String,
    /// L2-normalise the pooled vector (always true in this version).
    #[serde(default = "yes")]
    pub normalize: bool,
    /// Text put before every question before it is embedded (e5: `query: `).
    #[serde(default)]
    pub query_prefix: String,
    /// Text put before every passage before it is embedded (e5: `passage: `).
    #[serde(default)]
    pub passage_prefix: String,
}

fn yes() -> bool {
    true
}

impl ModelInfo {
    /// Reads and checks `model.json` of a model folder, and that `model.onnx`
    /// and `tokenizer.json` are there.
    pub fn read(model_dir: &Path) -> Result<ModelInfo> {
        if !model_dir.exists() && !is_provisioned(model_dir) {
            return Err(invalid(
                model_dir,
                "not found:",
                "pass --model a folder holding model.onnx, tokenizer.json and model.json, or a provisioned model (fp32, int8; `make setup` provisions them)".into(),
            ));
        }
        for file in ["model.json", "model.onnx", "tokenizer.json"] {
            if !model_dir.join(file).is_file() {
                return Err(missing_file(model_dir, file));
            }
        }
        let path = model_dir.join("model.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| invalid(model_dir, "model.json", format!("cannot be read ({e})")))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            invalid(
                model_dir,
                "model.json",
                format!("is not valid JSON ({e}): fix its syntax"),
            )
        })?;
        let Value::Object(map) = value else {
            return Err(invalid(
                model_dir,
                "model.json",
                "must be a JSON object like {\"dim\": 384, \"max_length\": 256, \"pooling\": \"mean\"}"
                    .into(),
            ));
        };
        from_map(model_dir, &map)
    }

    /// A short string naming exactly this model and its settings; part of the
    /// index fingerprint and the embedding cache key. Models without prefixes
    /// keep the form of earlier versions, so their indexes and caches stay valid.
    pub fn fingerprint(&self) -> String {
        let mut s = format!(
            "{}@{}/{}/max{}",
            self.id,
            &self.onnx_sha256[..self.onnx_sha256.len().min(16)],
            self.pooling,
            self.max_length
        );
        if !self.query_prefix.is_empty() || !self.passage_prefix.is_empty() {
            s.push_str(&format!(
                "/prefix{:?}{:?}",
                self.query_prefix, self.passage_prefix
            ));
        }
        s
    }

    /// Whether the model pools the first token's state.
    pub fn cls_pooling(&self) -> bool {
        self.pooling == "cls"
    }
}

/// Checks the fields of `model.json` one by one.
fn from_map(dir: &Path, map: &Map<String, Value>) -> Result<ModelInfo> {
    let bad = |field: &str, reason: String| invalid(dir, &format!("model.json: {field}"), reason);
    if let Some(s) = map.get("schema")
        && s.as_str() != Some(SCHEMA)
    {
        return Err(bad(
            "schema",
            format!("is {s}, this cram reads \"{SCHEMA}\""),
        ));
    }
    let count = |field: &str, max: usize| -> Result<usize> {
        match map.get(field) {
            None => Err(bad(
                field,
                format!("is missing: add \"{field}\": N (see the model's config)"),
            )),
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
                _ => Err(bad(
                    field,
                    format!("is {v}, expected a whole number in 1..={max}"),
                )),
            },
        }
    };
    let dim = count("dim", 65_536)?;
    let max_length = count("max_length", MAX_TOKENS)?;
    let text = |field: &str| -> Result<Option<String>> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad(field, format!("is {v}, expected a string"))),
        }
    };
    let pooling = match text("pooling")?.as_deref() {
        None => return Err(bad("pooling", "is missing: add \"pooling\": \"mean\" or \"cls\" (sentence-transformers: 1_Pooling/config.json)".into())),
        Some(p @ ("mean" | "cls")) => p.to_string(),
        Some(p) => {
            return Err(bad(
                "pooling",
                format!("\"{p}\" is not supported: use \"mean\" or \"cls\""),
            ));
        }
    };
    let normalize = match map.get("normalize").or_else(|| map.get("normalise")) {
        None => true,
        Some(Value::Bool(true)) => true,
        Some(Value::Bool(false)) => {
            return Err(bad(
                "normalize",
                "false is not supported: cram ranks passages by cosine similarity, so vectors are L2-normalised; set it to true".into(),
            ));
        }
        Some(v) => return Err(bad("normalize", format!("is {v}, expected true"))),
    };
    let onnx_sha256 = match text("onnx_sha256")? {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            h.to_ascii_lowercase()
        }
        Some(h) => {
            return Err(bad(
                "onnx_sha256",
                format!(
                    "\"{h}\" is not 64 hex digits: use `sha256sum model.onnx`, or leave it out"
                ),
            ));
        }
        None => crate::index::hash::file_hex(&dir.join("model.onnx"))?,
    };
    let id = text("id")?.unwrap_or_else(|| {
        dir.file_name()
            .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
    });
    Ok(ModelInfo {
        id,
        onnx_sha256,
        dim,
        max_length,
        pooling,
        normalize,
        query_prefix: text("query_prefix")?.unwrap_or_default(),
        passage_prefix: text("passage_prefix")?.unwrap_or_default(),
    })
}

/// The folder of a provisioned model (`fp32`, `int8`), if `name` is one.
pub fn provisioned_dir(name: &str) -> Option<PathBuf> {
    PROVISIONED
        .iter()
        .find(|(short, folder)| *short == name || *folder == name)
        .map(|(_, folder)| cram_home().join("models").join(folder))
}

/// The default model folder: the int8 all-MiniLM-L6-v2 under `$CRAM_HOME`.
pub fn default_dir() -> PathBuf {
    cram_home().join("models").join(PROVISIONED[0].1)
}

/// Resolves what `--model` was given: a provisioned model's short name (`fp32`,
/// `int8`) or folder name, or any other value as a path.
pub fn resolve(spec: &Path) -> PathBuf {
    spec.to_str()
        .and_then(provisioned_dir)
        .unwrap_or_else(|| spec.to_path_buf())
}

/// Whether `dir` is one of the folders `make setup` provisions.
pub fn is_provisioned(dir: &Path) -> bool {
    PROVISIONED
        .iter()
        .any(|(_, folder)| dir == cram_home().join("models").join(folder))
}

fn missing_file(dir: &Path, file: &str) -> Error {
    if is_provisioned(dir) {
        Error::ModelMissing {
            path: dir.to_path_buf(),
            reason: format!("{file} is missing"),
        }
    } else {
        invalid(
            dir,
            file,
            "is missing: export the model into this folder (README, \"Models\")".into(),
        )
    }
}

/// An [`Error::ModelInvalid`] for `what` (a file, or `model.json: field`).
pub(crate) fn invalid(dir: &Path, what: &str, reason: String) -> Error {
    Error::ModelInvalid {
        path: dir.to_path_buf(),
        what: what.to_string(),
        reason,
    }
}

/// The tokenizer side files fastembed reads, each from the folder when there
/// and synthesised otherwise: `config.json` (`{}`), `special_tokens_map.json`
/// (`{}`) and `tokenizer_config.json` (`model_max_length` = `max_length` and
/// the pad token of `tokenizer.json`'s padding section, else `[PAD]`).
pub fn tokenizer_side_files(
    dir: &Path,
    info: &ModelInfo,
    tokenizer: &[u8],
) -> Result<[Vec<u8>; 3]> {
    let read_or = |name: &str, default: &dyn Fn() -> Vec<u8>| -> Result<Vec<u8>> {
        let p = dir.join(name);
        if !p.is_file() {
            return Ok(default());
        }
        let bytes =
            std::fs::read(&p).map_err(|e| invalid(dir, name, format!("cannot be read ({e})")))?;
        serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| invalid(dir, name, format!("is not valid JSON ({e})")))?;
        Ok(bytes)
    };
    // Only a missing tokenizer_config.json needs the pad token, and finding
    // it parses all of tokenizer.json (about 30 ms of a cold start).
    let tokenizer_config = || {
        let pad = serde_json::from_slice::<Value>(tokenizer)
            .ok()
            .and_then(|t| t["padding"]["pad_token"].as_str().map(str::to_string))
            .unwrap_or_else(|| "[PAD]".into());
        serde_json::json!({"model_max_length": info.max_length, "pad_token": pad})
            .to_string()
            .into_bytes()
    };
    let empty = || b"{}".to_vec();
    Ok([
        read_or("config.json", &empty)?,
        read_or("special_tokens_map.json", &empty)?,
        read_or("tokenizer_config.json", &tokenizer_config)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(json: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("model.onnx"), b"not really onnx").unwrap();
        std::fs::write(d.path().join("tokenizer.json"), b"{}").unwrap();
        std::fs::write(d.path().join("model.json"), json).unwrap();
        d
    }

    fn what(json: &str) -> String {
        let d = dir_with(json);
        match ModelInfo::read(d.path()) {
            Err(Error::ModelInvalid { what, .. }) => what,
            other => panic!("expected ModelInvalid, got {other:?}"),
        }
    }

    #[test]
    fn minimal_model_json_gets_defaults() {
        let d = dir_with(r#"{"dim": 384, "max_length": 256, "pooling": "cls"}"#);
        let m = ModelInfo::read(d.path()).unwrap();
        assert_eq!(m.dim, 384);
        assert!(m.cls_pooling() && m.normalize);
        assert_eq!(
            m.onnx_sha256,
            crate::index::hash::file_hex(&d.path().join("model.onnx")).unwrap()
        );
        assert_eq!(m.id, d.path().file_name().unwrap().to_string_lossy());
        assert_eq!(
            (m.query_prefix.as_str(), m.passage_prefix.as_str()),
            ("", "")
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                r#"{"max_length": 256, "pooling": "mean"}"#,
                "model.json: dim",
            ),
            (
                r#"{"dim": 0, "max_length": 256, "pooling": "mean"}"#,
                "model.json: dim",
            ),
            (
                r#"{"dim": 384, "max_length": "x", "pooling": "mean"}"#,
                "model.json: max_length",
            ),
            (r#"{"dim": 384, "max_length": 256}"#, "model.json: pooling"),
            (
                r#"{"dim": 384, "max_length": 256, "pooling": "max"}"#,
                "model.json: pooling",
            ),
            (
                r#"{"dim": 384, "max_length": 256, "pooling": "mean", "normalize": false}"#,
                "model.json: normalize",
            ),
            (
                r#"{"dim": 384, "max_length": 256, "pooling": "mean", "query_prefix": 3}"#,
                "model.json: query_prefix",
            ),
            (
                r#"{"dim": 384, "max_length": 256, "pooling": "mean", "onnx_sha256": "abc"}"#,
                "model.json: onnx_sha256",
            ),
            (
                r#"{"schema": "cram.model/9", "dim": 384, "max_length": 256, "pooling": "mean"}"#,
                "model.json: schema",
            ),
            (r#"[1, 2]"#, "model.json"),
            (r#"{"dim": 384,"#, "model.json"),
        ];
        for (json, want) in cases {
            assert_eq!(what(json), want, "{json}");
        }
    }

    #[test]
    fn prefixes_change_the_fingerprint_and_none_keep_it() {
        let base = ModelInfo {
            id: "m".into(),
            onnx_sha256: "ab".repeat(32),
            dim: 384,
            max_length: 256,
            pooling: "mean".into(),
            normalize: true,
            query_prefix: String::new(),
            passage_prefix: String::new(),
        };
        assert_eq!(
            base.fingerprint(),
            format!("m@{}/mean/max256", "ab".repeat(8))
        );
        let e5 = ModelInfo {
            query_prefix: "query: ".into(),
            passage_prefix: "passage: ".into(),
            ..base.clone()
        };
        assert_ne!(e5.fingerprint(), base.fingerprint());
        let swapped = ModelInfo {
            query_prefix: "passage: ".into(),
            passage_prefix: "query: ".into(),
            ..base.clone()
        };
        assert_ne!(e5.fingerprint(), swapped.fingerprint());
    }

    #[test]
    fn old_manifests_read_with_defaults() {
        let old = r#"{"id":"m","onnx_sha256":"00","dim":384,"max_length":256,"pooling":"mean"}"#;
        let m: ModelInfo = serde_json::from_str(old).unwrap();
        assert!(m.normalize && m.query_prefix.is_empty());
    }

    #[test]
    fn a_folder_that_does_not_exist_says_so() {
        let err = ModelInfo::read(Path::new("/nonexistent/model")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("model folder /nonexistent/model: not found: pass --model"),
            "{msg}"
        );
        assert!(msg.contains("make setup"), "{msg}");
        assert_eq!(err.exit_code(), 4);
    }

    #[test]
    fn names_resolve_to_provisioned_folders() {
        assert_eq!(
            resolve(Path::new("int8")),
            cram_home().join("models/all-MiniLM-L6-v2-int8")
        );
        assert_eq!(resolve(Path::new("int8")), default_dir());
        assert_eq!(
            resolve(Path::new("fp32")),
            cram_home().join("models/all-MiniLM-L6-v2")
        );
        assert_eq!(resolve(Path::new("/x/int8")), PathBuf::from("/x/int8"));
        assert!(is_provisioned(&default_dir()));
    }

    #[test]
    fn side_files_are_synthesised() {
        let d = dir_with("{}");
        let info: ModelInfo = serde_json::from_str(
            r#"{"id":"m","onnx_sha256":"00","dim":8,"max_length":128,"pooling":"cls"}"#,
        )
        .unwrap();
        let [config, special, tok_config] =
            tokenizer_side_files(d.path(), &info, br#"{"padding": {"pad_token": "<pad>"}}"#)
                .unwrap();
        assert_eq!(
            (config.as_slice(), special.as_slice()),
            (&b"{}"[..], &b"{}"[..])
        );
        let v: Value = serde_json::from_slice(&tok_config).unwrap();
        assert_eq!(
            (v["model_max_length"].as_u64(), v["pad_token"].as_str()),
            (Some(128), Some("<pad>"))
        );
        std::fs::write(d.path().join("config.json"), "{oops").unwrap();
        assert!(matches!(
            tokenizer_side_files(d.path(), &info, b"{}"),
            Err(Error::ModelInvalid { what, .. }) if what == "config.json"
        ));
    }
}
