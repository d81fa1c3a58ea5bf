//! Command-line flags (clap) and their conversion into validated library config.

pub mod drill_loop;
pub mod line;
pub mod repl;
pub mod term;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use cram::{DenseBackend, Fusion, Mode, Paths, SearchParams};

/// Offline study assistant for AI-engineering interviews: ask a question,
/// get cited passages from the reference notes.
#[derive(Debug, Parser)]
#[command(name = "cram", version = cram::index::VERSION_LINE, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// With no command: an interactive session (`cram repl`)
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Bundled notes folder [default: the project's corpus/]
    #[arg(long, global = true, env = "CRAM_CORPUS", value_name = "DIR", help_heading = PATHS)]
    pub corpus: Option<PathBuf>,
    /// Index folder [default: the project's index/, or index/models/<model folder>/ for a model other than
    /// the default]
    #[arg(long, global = true, env = "CRAM_INDEX", value_name = "DIR", help_heading = PATHS)]
    pub index: Option<PathBuf>,
    /// Embedding model: a folder with model.onnx, tokenizer.json and model.json
    /// (README, "Models"), or a provisioned one: int8 (default) or fp32
    #[arg(long = "model", visible_alias = "model-dir", global = true, env = "CRAM_MODEL_DIR", value_name = "DIR", help_heading = PATHS)]
    pub model_dir: Option<PathBuf>,
    /// ONNX Runtime shared library [default: from $CRAM_HOME/onnxruntime/ort.json]
    #[arg(long, global = true, env = "CRAM_ORT_LIB", value_name = "FILE", help_heading = PATHS)]
    pub ort_lib: Option<PathBuf>,
    /// No progress or notices on stderr
    #[arg(short, long, global = true, help_heading = PATHS)]
    pub quiet: bool,
    /// Log what happens on stderr: -v info, -vv debug, -vvv trace
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = PATHS)]
    pub verbose: u8,
    /// Colour: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = SHOW)]
    pub color: ColorChoice,
    /// Wrap text at N columns [default: the terminal's width up to 100; 100 when piped]
    #[arg(long, global = true, value_name = "N", help_heading = SHOW)]
    pub width: Option<usize>,
    /// Print long output directly instead of through $PAGER (or less)
    #[arg(long, global = true, help_heading = SHOW)]
    pub no_pager: bool,
}

/// Help headings: what is shown and how, how retrieval runs, where things are.
const SHOW: &str = "What to show";
const TUNING: &str = "Retrieval tuning";
const PATHS: &str = "Paths and logging";

const ASK_EXAMPLES: &str = "\
Examples:
  Ask in plain words (no quotes needed):
    cram ask why does dropout hurt transformers
  Three whole passages instead of their best sentences:
    cram ask --full -k 3 rrf vs convex fusion
  Machine-readable, for scripts (schema cram.ask/2):
    cram ask --json what is TTFT | jq .key_points";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a question with cited passages from the notes
    Ask(AskArgs),
    /// Build or update the index (only changed passages are embedded)
    Index(IndexArgs),
    /// Print one question's whole note, e.g. `cram show q14`
    Show {
        /// Question id: q14, Q14 or 14
        id: String,
        /// Output format: text or md (a markdown study sheet)
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the interview questions by section
    List,
    /// Interactive session: load once, then ask question after question (also: `cram` alone)
    Repl,
    /// Drill the interview questions in spaced-repetition order, grading yourself
    Drill(DrillArgs),
    /// Check the model, ONNX Runtime, index and notes; exit 1 if anything needs fixing
    Status {
        /// Print JSON (schema cram.status/1)
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script, e.g. `cram completions bash > ~/.local/share/bash-completion/completions/cram`
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `cram man > ~/.local/share/man/man1/cram.1`
    Man,
    /// Measure retrieval quality on the notes: bm25, dense and hybrid side by side
    Eval(Box<EvalArgs>),
    /// Serve the notes to AI assistants over the Model Context Protocol (stdio; logs on stderr)
    Mcp,
    /// A local study page in the browser: search, notes with their math, the drill
    Serve(ServeArgs),
}

const SERVE_EXAMPLES: &str = "\
Examples:
  A free port on 127.0.0.1, opened in the browser:
    cram serve --open
  A fixed port:
    cram serve --port 8765
  Reachable from other machines on your network (read the warning):
    cram serve --listen 0.0.0.0 --port 8765";

#[derive(Debug, Args)]
#[command(after_help = SERVE_EXAMPLES)]
pub struct ServeArgs {
    /// Port to listen on [default: a free one, printed]
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Listen on this address instead of 127.0.0.1 (e.g. 0.0.0.0: every
    /// network this machine is on; anyone there can read your notes)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Open the page in the default browser
    #[arg(long)]
    pub open: bool,
    /// Drill progress file [default: $CRAM_HOME/drill.json]
    #[arg(long, env = "CRAM_DRILL_PROGRESS", value_name = "FILE")]
    pub progress: Option<PathBuf>,
}

impl ServeArgs {
    /// The validated server options.
    pub fn options(&self) -> cram::Result<cram::frontend::serve::Options> {
        let ip: std::net::IpAddr = match &self.listen {
            None => std::net::Ipv4Addr::LOCALHOST.into(),
            Some(a) => a.trim().trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| {
                cram::Error::InvalidParam {
                    name: "--listen",
                    reason: format!(
                        "`{a}` is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1); the port goes in --port"
                    ),
                }
            })?,
        };
        Ok(cram::frontend::serve::Options {
            addr: std::net::SocketAddr::new(ip, self.port.unwrap_or(0)),
            open: self.open,
            progress: self
                .progress
                .clone()
                .unwrap_or_else(cram::study::drill::Progress::default_path),
        })
    }
}

#[derive(Debug, Args)]
#[command(after_help = ASK_EXAMPLES)]
pub struct AskArgs {
    /// The question (several words need no quotes)
    #[arg(required = true, num_args = 1.., value_name = "QUESTION")]
    pub question: Vec<String>,
    /// Passages to show
    #[arg(short, long, default_value_t = 5, help_heading = SHOW)]
    pub k: usize,
    /// Key-point sentences above the passages (0 = none)
    #[arg(long, default_value_t = 5, help_heading = SHOW)]
    pub key_points: usize,
    /// Whole passages instead of their best sentences
    #[arg(long, help_heading = SHOW)]
    pub full: bool,
    /// Show per-passage BM25/dense ranks and scores, fused score, MMR terms
    #[arg(long, help_heading = SHOW)]
    pub explain: bool,
    /// Print one JSON object (schema cram.ask/2) instead of text
    #[arg(long, help_heading = SHOW)]
    pub json: bool,
    /// Output format: text, md (a markdown study sheet) or json (same as --json)
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = SHOW)]
    pub format: Format,
    /// Retrieval arms
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid, help_heading = TUNING)]
    pub mode: ModeArg,
    /// Fusion in hybrid mode
    #[arg(long, value_enum, default_value_t = FusionArg::Convex, help_heading = TUNING)]
    pub fusion: FusionArg,
    /// Convex fusion: weight of the dense arm (1 = dense only, 0 = BM25 only)
    #[arg(long, default_value_t = 0.5, help_heading = TUNING)]
    pub alpha: f32,
    /// RRF constant k (larger = flatter)
    #[arg(long, default_value_t = 60.0, help_heading = TUNING)]
    pub rrf_k: f32,
    /// MMR relevance weight in [0, 1] (1 = pure relevance, lower = more diverse)
    #[arg(long, default_value_t = 0.85, help_heading = TUNING)]
    pub mmr_lambda: f32,
    /// Skip MMR re-ranking (same as --mmr-lambda 1 without its cost)
    #[arg(long, help_heading = TUNING)]
    pub no_mmr: bool,
    /// Search the question exactly as typed: keep interview framing, do not
    /// correct typos or expand acronyms
    #[arg(long, help_heading = TUNING)]
    pub verbatim: bool,
    /// Candidates each arm fetches before fusion
    #[arg(long, default_value_t = 50, help_heading = TUNING)]
    pub fetch_k: usize,
    /// Best fused candidates that MMR re-orders
    #[arg(long, default_value_t = 50, help_heading = TUNING)]
    pub mmr_pool: usize,
    /// Dense search: auto (exact below 10k passages, HNSW above), exact, hnsw
    #[arg(long, value_enum, default_value_t = DenseArg::Auto, help_heading = TUNING)]
    pub dense: DenseArg,
    /// HNSW search breadth (ef)
    #[arg(long, default_value_t = 64, help_heading = TUNING)]
    pub ef: usize,
    #[command(flatten)]
    pub bm25: Bm25Args,
}

/// BM25's parameters (`cram ask` and `cram eval`).
#[derive(Debug, Args)]
pub struct Bm25Args {
    /// BM25 term-frequency saturation k1 (0 = a word counts once; larger = repeats keep adding)
    #[arg(long, default_value_t = cram::index::bm25::TANTIVY_K1, value_name = "K1", help_heading = TUNING)]
    pub bm25_k1: f32,
    /// BM25 length normalisation b (0 = none, 1 = full)
    #[arg(long, default_value_t = cram::index::bm25::TANTIVY_B, value_name = "B", help_heading = TUNING)]
    pub bm25_b: f32,
}

impl Bm25Args {
    /// The parameters, executor chosen per query (validated with the search parameters).
    pub fn params(&self) -> cram::index::bm25::Bm25Params {
        cram::index::bm25::Bm25Params {
            k1: self.bm25_k1,
            b: self.bm25_b,
            ..Default::default()
        }
    }
}

/// Parses `DOCS,TERMS,WEIGHT` for `--rm3` (ranges are checked later).
fn parse_rm3(s: &str) -> Result<cram::retrieval::feedback::Rm3Params, String> {
    match s.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [d, t, w] => Ok(cram::retrieval::feedback::Rm3Params {
            fb_docs: d.parse().map_err(|e| format!("documents `{d}`: {e}"))?,
            fb_terms: t.parse().map_err(|e| format!("terms `{t}`: {e}"))?,
            original_weight: w.parse().map_err(|e| format!("weight `{w}`: {e}"))?,
        }),
        _ => Err("expected DOCS,TERMS,WEIGHT, e.g. 10,10,0.5".into()),
    }
}

/// Parses `DOCS,ALPHA,BETA` for `--rocchio` (ranges are checked later).
fn parse_rocchio(s: &str) -> Result<cram::retrieval::feedback::RocchioParams, String> {
    match s.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [d, a, b] => Ok(cram::retrieval::feedback::RocchioParams {
            fb_docs: d.parse().map_err(|e| format!("documents `{d}`: {e}"))?,
            alpha: a.parse().map_err(|e| format!("alpha `{a}`: {e}"))?,
            beta: b.parse().map_err(|e| format!("beta `{b}`: {e}"))?,
        }),
        _ => Err("expected DOCS,ALPHA,BETA, e.g. 5,0.4,0.6".into()),
    }
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Only these sections: a name, its acronym (rag), initials (ml) or a word
    /// (backend, safety); repeatable or comma-separated
    #[arg(long, value_delimiter = ',', value_name = "SECTION")]
    pub section: Vec<String>,
    /// Questions in this sitting: due ones first, then new ones
    #[arg(long, default_value_t = 10)]
    pub count: usize,
    /// When fewer are due than --count, also review questions not yet due (soonest first)
    #[arg(long)]
    pub ahead: bool,
    /// Show what is due and how each section is going, then exit
    #[arg(long)]
    pub stats: bool,
    /// With --stats: print JSON (schema cram.drill.stats/1)
    #[arg(long, requires = "stats")]
    pub json: bool,
    /// Key-point sentences shown with each answer (0 = none)
    #[arg(long, default_value_t = 5)]
    pub key_points: usize,
    /// Progress file [default: $CRAM_HOME/drill.json]
    #[arg(long, env = "CRAM_DRILL_PROGRESS", value_name = "FILE")]
    pub progress: Option<PathBuf>,
}

impl DrillArgs {
    /// Checks ranges; the sections are resolved against the index later.
    pub fn validate(&self) -> cram::Result<()> {
        let bad = |name: &'static str, reason: String| cram::Error::InvalidParam { name, reason };
        if !(1..=1000).contains(&self.count) {
            return Err(bad(
                "--count",
                format!("{} is out of range 1..=1000", self.count),
            ));
        }
        cram::SearchParams {
            key_points: self.key_points,
            ..Default::default()
        }
        .validate()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Md,
    Json,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Also index your own markdown notes in DIR (repeatable; remembered)
    #[arg(long = "notes", value_name = "DIR")]
    pub notes: Vec<PathBuf>,
    /// Forget remembered folders: index the bundled notes only
    #[arg(long, conflicts_with = "notes")]
    pub only_bundled: bool,
    /// Build a new index even if nothing changed
    #[arg(long)]
    pub force: bool,
    /// Print the build summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Bm25,
    Dense,
    Hybrid,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FusionArg {
    Rrf,
    Convex,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DenseArg {
    Auto,
    Exact,
    Hnsw,
}

impl Global {
    /// Resolves paths: flag, then environment (handled by clap), then defaults.
    pub fn paths(&self) -> Paths {
        let d = Paths::defaults();
        let model_dir = self
            .model_dir
            .as_deref()
            .map_or(d.model_dir, cram::index::model::resolve);
        Paths {
            corpus: self.corpus.clone().unwrap_or(d.corpus),
            index: self
                .index
                .clone()
                .unwrap_or_else(|| Paths::default_index_for(&model_dir)),
            model_dir,
            ort_lib: self.ort_lib.clone(),
        }
    }

    /// The wrap width for this command (asked of the terminal now).
    pub fn width(&self) -> cram::Result<usize> {
        if let Some(w) = self.width
            && !(cram::render::MIN_WIDTH..=1000).contains(&w)
        {
            return Err(cram::Error::InvalidParam {
                name: "--width",
                reason: format!("{w} is out of range {}..=1000", cram::render::MIN_WIDTH),
            });
        }
        Ok(crate::cli::term::width(self.width))
    }

    /// Whether long output may go through the pager.
    pub fn pager(&self) -> bool {
        !self.no_pager
    }

    /// Whether stdout gets colour.
    pub fn color(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

impl AskArgs {
    /// The search parameters (validated by the engine).
    pub fn params(&self) -> SearchParams {
        SearchParams {
            k: self.k,
            mode: match self.mode {
                ModeArg::Bm25 => Mode::Bm25,
                ModeArg::Dense => Mode::Dense,
                ModeArg::Hybrid => Mode::Hybrid,
            },
            fusion: match self.fusion {
                FusionArg::Rrf => Fusion::Rrf,
                FusionArg::Convex => Fusion::Convex,
            },
            alpha: self.alpha,
            rrf_k: self.rrf_k,
            mmr_lambda: if self.no_mmr {
                None
            } else {
                Some(self.mmr_lambda)
            },
            fetch_k: self.fetch_k,
            mmr_pool: self.mmr_pool,
            dense_backend: match self.dense {
                DenseArg::Auto => DenseBackend::Auto,
                DenseArg::Exact => DenseBackend::Exact,
                DenseArg::Hnsw => DenseBackend::Hnsw,
            },
            ef_search: self.ef,
            key_points: self.key_points,
            understand: if self.verbatim {
                cram::retrieval::query::Steps::NONE
            } else {
                cram::retrieval::query::Steps::default()
            },
            bm25: self.bm25.params(),
            rm3: None,
            rocchio: None,
        }
    }

    /// The question: the words joined by spaces.
    pub fn question(&self) -> String {
        self.question.join(" ")
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Evaluate on a BEIR-layout collection (corpus.jsonl, queries.jsonl, qrels/test.tsv)
    /// instead of the bundled notes
    #[arg(long, value_name = "DIR")]
    pub beir: Option<PathBuf>,
    /// BEIR: methods to run, comma-separated; also bm25-taat, bm25-wand,
    /// bm25-exact-len, bm25-rm3, dense-rocchio, hybrid-rm3, hybrid-rocchio, hybrid-prf
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bm25,dense-exact,dense-hnsw,hybrid-rrf,hybrid-convex,hybrid-mmr"
    )]
    pub methods: Vec<String>,
    /// BEIR: compare embedding models side by side (dense and hybrid nDCG@10,
    /// throughput, cold start, sizes), e.g. fp32,int8 or fp32,/path/to/model
    #[arg(long, value_delimiter = ',', value_name = "MODEL", requires = "beir")]
    pub models: Vec<PathBuf>,
    /// BEIR: documents each arm fetches before fusion
    #[arg(long, default_value_t = 1000)]
    pub fetch_k: usize,
    /// Convex fusion weight of the dense arm for hybrid-convex, hybrid-mmr and the feedback hybrids
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f32,
    /// BEIR: also sweep these alphas for convex fusion, e.g. 0,0.1,0.2,...,1
    #[arg(long, value_delimiter = ',')]
    pub alpha_sweep: Vec<f32>,
    /// MMR relevance weight for hybrid-mmr (1 = pure relevance)
    #[arg(long, default_value_t = 0.85)]
    pub mmr_lambda: f32,
    /// BEIR: score only the first N test queries (quick runs)
    #[arg(long, value_name = "N")]
    pub limit_queries: Option<usize>,
    /// BEIR: write TREC run files (one per method) into DIR
    #[arg(long, value_name = "DIR")]
    pub run_out: Option<PathBuf>,
    /// BEIR: write an HTML report with charts to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// BEIR: bootstrap resamples for the paired comparisons
    #[arg(long, default_value_t = 10_000)]
    pub resamples: usize,
    /// Notes: dev queries, `qNN<TAB>query` per line [default: the project's tests/data/dev_queries.tsv]
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// Notes: off-topic queries, one per line [default: the project's tests/data/offtopic.txt]
    #[arg(long, value_name = "FILE")]
    pub offtopic: Option<PathBuf>,
    /// Notes: realistic queries, `kind<TAB>ids<TAB>query` per line [default: the project's tests/data/realistic_queries.tsv]
    #[arg(long, value_name = "FILE")]
    pub realistic: Option<PathBuf>,
    /// Notes: held-out queries in the realistic format, written blind to the other sets and never fitted on;
    /// reported as a second table [default: the project's tests/data/holdout_queries.tsv]
    #[arg(long, value_name = "FILE")]
    pub holdout: Option<PathBuf>,
    /// Notes: assessors' verdicts on the key points shown for the held-out queries, `query<TAB>1|0<TAB>sentence
    /// start` [default: the project's tests/data/holdout_keypoint_judgments.tsv, unless --holdout names another file]
    #[arg(long, value_name = "FILE")]
    pub holdout_judgments: Option<PathBuf>,
    /// Notes: assessors' verdicts on whether key points read on their own, `1|0<TAB>category<TAB>sentence`
    /// [default: the project's tests/data/keypoint_standalone.tsv]
    #[arg(long, value_name = "FILE")]
    pub standalone_judgments: Option<PathBuf>,
    /// Notes: assessors' verdicts on the second closest question answers show ("also:"),
    /// `query<TAB>qNN<TAB>1|0[<TAB>why]` [default: the project's tests/data/also_judgments.tsv]
    #[arg(long, value_name = "FILE")]
    pub also_judgments: Option<PathBuf>,
    /// Notes: answer labels for key points, `qid<TAB>query<TAB>term; term` [default: the project's tests/data/answer_labels.tsv]
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Notes: assessors' judgments of which sentences answer the labelled queries, `qid<TAB>query<TAB>start | start` [default: the project's tests/data/answer_judgments.tsv]
    #[arg(long, value_name = "FILE")]
    pub judgments: Option<PathBuf>,
    /// Notes: fit the abstention model on the labelled queries, print held-out
    /// (five-fold) rates and the weights for src/retrieval/abstain.rs
    #[arg(long)]
    pub fit_abstention: bool,
    /// Notes: fit the key-point model on the answer labels, print held-out
    /// (five-fold) rates and the weights for src/retrieval/keypoints.rs
    #[arg(long)]
    pub fit_key_points: bool,
    /// Notes: fit the closest-question model on the dev and realistic sets, print held-out
    /// (five-fold, by note) closest@1 and the weights for src/retrieval/closest.rs
    #[arg(long)]
    pub fit_closest: bool,
    /// Notes: run only the realistic query set and key-point labels (skip the method table)
    #[arg(long)]
    pub realistic_only: bool,
    /// Notes: with --fit-abstention, also write every labelled query's features to FILE (TSV);
    /// with --fit-key-points, every candidate sentence's; with --fit-closest, every
    /// candidate note's (JSON lines)
    #[arg(long, value_name = "FILE")]
    pub features_out: Option<PathBuf>,
    /// Notes: passages per answer for the default method
    #[arg(short, long, default_value_t = 5)]
    pub k: usize,
    /// Notes: print misses (queries whose note was not in the top 3)
    #[arg(long)]
    pub misses: bool,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bm25: Bm25Args,
    /// RM3 of the *-rm3 and hybrid-prf methods: feedback documents, terms, original query weight
    #[arg(long, value_name = "DOCS,TERMS,WEIGHT", default_value = "10,10,0.5", value_parser = parse_rm3)]
    pub rm3: cram::retrieval::feedback::Rm3Params,
    /// Rocchio of the *-rocchio and hybrid-prf methods: feedback documents, alpha, beta
    #[arg(long, value_name = "DOCS,ALPHA,BETA", default_value = "5,0.4,0.6", value_parser = parse_rocchio)]
    pub rocchio: cram::retrieval::feedback::RocchioParams,
}
