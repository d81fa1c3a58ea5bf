//! Validated configuration: where things live and how a search runs.
//!
//! The binary parses flags once into these types and passes them down; the
//! library never reads flags itself. Every knob states its direction:
//!
//! * `alpha` (convex fusion) is the weight of the **dense** arm: 1.0 = dense only,
//!   0.0 = BM25 only.
//! * `mmr_lambda` is the weight of **relevance** in MMR: 1.0 = pure relevance
//!   (no diversification), 0.0 = pure novelty.
//! * `rrf_k` damps the head of each ranking: larger = flatter fusion.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};

/// Most key points an answer may ask for.
pub const MAX_KEY_POINTS: usize = 10;

/// Longest question accepted, in bytes. A question is a sentence or two; a
/// megabyte of text is a mistake (a pasted file), not a question.
pub const MAX_QUERY_BYTES: usize = 4096;

/// Largest `-k` accepted.
pub const MAX_K: usize = 100;

/// Largest `--fetch-k` accepted.
pub const MAX_FETCH_K: usize = 1000;

/// Below this many passages the dense arm scans every vector exactly; at or
/// above it, it uses the HNSW graph. A flat scan of 384-d vectors was as fast
/// as HNSW up to about 10k vectors on the target machine (`../shared/STACK.md`).
pub const EXACT_SCAN_BELOW: usize = 10_000;

/// Which arms take part in retrieval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 only.
    Bm25,
    /// Dense embeddings only.
    Dense,
    /// Both, fused.
    Hybrid,
}

/// How the two arms' rankings are combined in hybrid mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Reciprocal rank fusion: `sum 1 / (rrf_k + rank)`.
    Rrf,
    /// Convex combination of min-max-normalised scores:
    /// `alpha * dense + (1 - alpha) * bm25`.
    Convex,
}

/// How the dense arm searches its vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DenseBackend {
    /// Exact below [`EXACT_SCAN_BELOW`] passages, HNSW above.
    Auto,
    /// Always scan every vector.
    Exact,
    /// Always use the HNSW graph.
    Hnsw,
}

/// Parameters of one search. Build with [`SearchParams::default`] and adjust;
/// call [`SearchParams::validate`] before use (the engine does).
#[derive(Debug, Clone, Serialize)]
pub struct SearchParams {
    /// Passages to return.
    pub k: usize,
    /// Which arms run.
    pub mode: Mode,
    /// Fusion method in hybrid mode.
    pub fusion: Fusion,
    /// Weight of the dense arm in convex fusion, in [0, 1].
    pub alpha: f32,
    /// RRF's k constant (> 0).
    pub rrf_k: f32,
    /// MMR's relevance weight in [0, 1] (1.0 = pure relevance); `None` disables MMR.
    pub mmr_lambda: Option<f32>,
    /// Candidates each arm fetches before fusion (and the fused list's length).
    pub fetch_k: usize,
    /// How many of the best fused candidates MMR re-orders (at most `fetch_k`).
    pub mmr_pool: usize,
    /// Exact or HNSW search for the dense arm.
    pub dense_backend: DenseBackend,
    /// HNSW search breadth (`ef`); at least `fetch_k` is used.
    pub ef_search: usize,
    /// Key-point sentences to extract above the passages (0 = none; needs
    /// the dense model, so BM25 mode gives none).
    pub key_points: usize,
    /// Query understanding steps (interview framing, typos, short forms);
    /// used by `cram ask`, not by benchmark runs.
    pub understand: Steps,
    /// BM25's k1 and b, and its executor.
    pub bm25: crate::index::bm25::Bm25Params,
    /// RM3 expansion of the BM25 arm's query (`None` = off).
    pub rm3: Option<crate::retrieval::feedback::Rm3Params>,
    /// Rocchio feedback for the dense arm's query vector (`None` = off).
    pub rocchio: Option<crate::retrieval::feedback::RocchioParams>,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            k: 5,
            mode: Mode::Hybrid,
            fusion: Fusion::Convex,
            alpha: 0.5,
            rrf_k: 60.0,
            mmr_lambda: Some(0.85),
            fetch_k: 50,
            mmr_pool: 50,
            dense_backend: DenseBackend::Auto,
            ef_search: 64,
            key_points: 5,
            understand: Steps::default(),
            bm25: crate::index::bm25::Bm25Params::default(),
            rm3: None,
            rocchio: None,
        }
    }
}

impl SearchParams {
    /// Checks every field's range; the error names the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, reason: String| Err(Error::InvalidParam { name, reason });
        if self.k == 0 || self.k > MAX_K {
            return bad("-k", format!("{} is out of range 1..={MAX_K}", self.k));
        }
        if self.fetch_k == 0 || self.fetch_k > MAX_FETCH_K {
            return bad(
                "--fetch-k",
                format!("{} is out of range 1..={MAX_FETCH_K}", self.fetch_k),
            );
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return bad("--alpha", format!("{} is outside [0, 1]", self.alpha));
        }
        if !(self.rrf_k.is_finite() && self.rrf_k > 0.0) {
            return bad(
                "--rrf-k",
                format!("{} must be a positive number", self.rrf_k),
            );
        }
        if let Some(l) = self.mmr_lambda
            && !(0.0..=1.0).contains(&l)
        {
            return bad(
                "--mmr-lambda",
                format!("{l} is outside [0, 1] (1.0 = pure relevance)"),
            );
        }
        if self.mmr_pool == 0 {
            return bad("--mmr-pool", "must be at least 1".into());
        }
        if self.key_points > MAX_KEY_POINTS {
            return bad(
                "--key-points",
                format!("{} is out of range 0..={MAX_KEY_POINTS}", self.key_points),
            );
        }
        if self.ef_search == 0 {
            return bad("--ef", "must be at least 1".into());
        }
        self.bm25.validate()?;
        self.rm3.map_or(Ok(()), |p| p.validate())?;
        self.rocchio.map_or(Ok(()), |p| p.validate())
    }

    /// How many candidates each arm fetches: at least `k`, normally `fetch_k`.
    pub fn pool(&self) -> usize {
        self.fetch_k.max(self.k)
    }
}

/// Checks a question before any work is done on it.
pub fn validate_query(q: &str) -> Result<&str> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(Error::QueryTooLong {
            len: q.len(),
            max: MAX_QUERY_BYTES,
        });
    }
    let t = q.trim();
    if t.is_empty() {
        return Err(Error::EmptyQuery);
    }
    Ok(t)
}

/// Where the notes, the index and the model live.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The bundled notes folder (`corpus/`).
    pub corpus: PathBuf,
    /// The index folder (`index/`).
    pub index: PathBuf,
    /// The embedding model folder (holds `model.onnx`, `tokenizer.json`, `model.json`).
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library; `None` = look it up under [`cram_home`].
    pub ort_lib: Option<PathBuf>,
}

impl Paths {
    /// Defaults: the project's own `corpus/` and `index/` (next to `Cargo.toml`
    /// at build time), and the model under [`cram_home`].
    pub fn defaults() -> Paths {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Paths {
            corpus: root.join("corpus"),
            index: root.join("index"),
            model_dir: crate::index::model::default_dir(),
            ort_lib: None,
        }
    }

    /// The default index folder for an index of `model_dir`: `index/` for the
    /// default model, `index/models/<model folder name>/` for any other, so that
    /// switching models (`--model int8` for one command, `cram mcp --model DIR`
    /// beside `cram ask`) opens that model's own index instead of rebuilding
    /// the shared one each time. An explicit `--index` (or `CRAM_INDEX`) is
    /// used as given.
    pub fn default_index_for(model_dir: &std::path::Path) -> PathBuf {
        let d = Paths::defaults();
        let same = |a: &std::path::Path, b: &std::path::Path| {
            a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        };
        if same(model_dir, &d.model_dir) {
            return d.index;
        }
        let name = model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && n != "." && n != "..")
            .unwrap_or_else(|| "model".to_string());
        d.index.join(MODEL_INDEXES).join(name)
    }
}

/// The folder under the default `index/` that holds the indexes of models
/// other than the default one (see [`Paths::default_index_for`]).
pub const MODEL_INDEXES: &str = "models";

/// Root of the provisioned files: `$CRAM_HOME`, else the platform data folder
/// plus `cram` (`~/.local/share/cram` on Linux,
/// `~/Library/Application Support/cram` on macOS). `scripts/provision.py` uses
/// the same rule.
pub fn cram_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CRAM_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cram")
}

/// The English word list `scripts/provision.py` writes
/// (`<cram_home>/words/en.txt`): typed words it lists are never corrected
/// (see [`crate::retrieval::query::Lexicon::with_dictionary`]).
pub fn words_file() -> PathBuf {
    cram_home().join("words").join("en.txt")
}

/// Which steps of query understanding ([`crate::retrieval::query::understand`]) run (all by default; `cram eval` switches
/// them off one at a time to measure each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Steps {
    /// Drop interview framing.
    pub framing: bool,
    /// Correct typos.
    pub typos: bool,
    /// Expand short forms.
    pub aliases: bool,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            framing: true,
            typos: true,
            aliases: true,
        }
    }
}

impl Steps {
    /// Nothing changes the question.
    pub const NONE: Steps = Steps {
        framing: false,
        typos: false,
        aliases: false,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_model_has_its_own_default_index() {
        let d = Paths::defaults();
        assert_eq!(Paths::default_index_for(&d.model_dir), d.index);
        let fp32 = crate::index::model::resolve(std::path::Path::new("fp32"));
        assert_eq!(
            Paths::default_index_for(&fp32),
            d.index.join(MODEL_INDEXES).join("all-MiniLM-L6-v2")
        );
        assert_eq!(
            Paths::default_index_for(std::path::Path::new("/models/e5-small/")),
            d.index.join(MODEL_INDEXES).join("e5-small")
        );
        assert_eq!(
            Paths::default_index_for(std::path::Path::new("/")),
            d.index.join(MODEL_INDEXES).join("model")
        );
    }

    #[test]
    fn defaults_are_valid() {
        SearchParams::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_their_flag() {
        let cases: Vec<(SearchParams, &str)> = vec![
            (
                SearchParams {
                    k: 0,
                    ..Default::default()
                },
                "-k",
            ),
            (
                SearchParams {
                    k: 101,
                    ..Default::default()
                },
                "-k",
            ),
            (
                SearchParams {
                    fetch_k: 0,
                    ..Default::default()
                },
                "--fetch-k",
            ),
            (
                SearchParams {
                    alpha: 1.5,
                    ..Default::default()
                },
                "--alpha",
            ),
            (
                SearchParams {
                    alpha: f32::NAN,
                    ..Default::default()
                },
                "--alpha",
            ),
            (
                SearchParams {
                    rrf_k: 0.0,
                    ..Default::default()
                },
                "--rrf-k",
            ),
            (
                SearchParams {
                    mmr_lambda: Some(2.0),
                    ..Default::default()
                },
                "--mmr-lambda",
            ),
            (
                SearchParams {
                    mmr_lambda: Some(-0.1),
                    ..Default::default()
                },
                "--mmr-lambda",
            ),
        ];
        for (p, flag) in cases {
            match p.validate() {
                Err(Error::InvalidParam { name, .. }) => assert_eq!(name, flag),
                other => panic!("{flag}: expected InvalidParam, got {other:?}"),
            }
        }
    }

    #[test]
    fn queries_are_checked() {
        assert!(matches!(validate_query("   \n"), Err(Error::EmptyQuery)));
        let big = "a".repeat(MAX_QUERY_BYTES + 1);
        assert!(matches!(
            validate_query(&big),
            Err(Error::QueryTooLong { .. })
        ));
        assert_eq!(validate_query("  what is MMR? ").unwrap(), "what is MMR?");
    }
}
