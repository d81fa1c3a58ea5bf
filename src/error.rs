//! Typed errors of the library, and the exit code each one maps to.
//!
//! Every variant renders as one line that says what went wrong and, where there
//! is one, the command that fixes it. The binary prints that line and exits with
//! [`Error::exit_code`]; the codes are documented in the README.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `cram`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The question was empty or only whitespace.
    #[error("the question is empty: ask something, e.g. cram ask \"what is MMR?\"")]
    EmptyQuery,

    /// The question is longer than [`crate::config::MAX_QUERY_BYTES`].
    #[error("the question is {len} bytes long; the limit is {max} bytes")]
    QueryTooLong {
        /// Length of the question in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },

    /// A search or build parameter is out of its range.
    #[error("invalid {name}: {reason}")]
    InvalidParam {
        /// The parameter, as the user spells it (e.g. `-k`, `--mmr-lambda`).
        name: &'static str,
        /// What is wrong and which values are allowed.
        reason: String,
    },

    /// A notes folder does not exist or is not a folder.
    #[error("notes folder {0} does not exist or is not a folder")]
    CorpusMissing(PathBuf),

    /// A note could not be read or parsed (bad front matter, not UTF-8, ...).
    #[error("{path}: {reason}")]
    Note {
        /// The note's path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Two notes claim the same id.
    #[error("duplicate note id {id}: {first} and {second}")]
    DuplicateId {
        /// The id both notes use.
        id: String,
        /// The first note that uses it.
        first: PathBuf,
        /// The second note that uses it.
        second: PathBuf,
    },

    /// The notes folders hold no passages at all.
    #[error("no notes to index in {0}")]
    EmptyCorpus(String),

    /// `cram show` was asked for a question id the index does not know.
    #[error("no note {0}: ids run q01..q55 (see `cram list`)")]
    UnknownQuestion(String),

    /// The embedding model's files are missing or unreadable.
    #[error("embedding model not usable at {path}: {reason}; run `make setup` to provision it")]
    ModelMissing {
        /// Where the model was looked for.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },

    /// A model folder breaks the contract of `--model DIR` (README, "Models"):
    /// a missing file, `model.json` that does not parse, a field missing or out
    /// of range, or a `dim` that differs from what `model.onnx` returns.
    #[error("model folder {path}: {what} {reason}")]
    ModelInvalid {
        /// The model folder.
        path: PathBuf,
        /// The file or `model.json: field` at fault.
        what: String,
        /// What is wrong, and the fix.
        reason: String,
    },

    /// The ONNX Runtime shared library is missing or could not be loaded.
    #[error("ONNX Runtime not usable: {0}; run `make setup` to provision it")]
    RuntimeMissing(String),

    /// The model failed while embedding text.
    #[error("embedding failed: {0}")]
    Embed(String),

    /// There is no index yet.
    #[error("no index at {0}: run `cram index`")]
    IndexMissing(PathBuf),

    /// The index on disk is damaged or was written by an incompatible version.
    #[error("index at {path} is unusable ({reason}); run `cram index` to rebuild it")]
    IndexCorrupt {
        /// The index generation folder.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },

    /// Another process holds the index build lock.
    #[error("another `cram index` is running (lock {0}); wait for it to finish")]
    Locked(PathBuf),

    /// The dense (HNSW) index failed.
    #[error("dense index error: {0}")]
    Dense(String),

    /// tantivy reported an error.
    #[error("lexical index error: {0}")]
    Lexical(#[from] tantivy::TantivyError),

    /// The drill's progress file cannot be read as progress. It is left as is.
    #[error(
        "drill progress file {path} is unusable ({reason}); it was left untouched: move it aside to start afresh"
    )]
    Progress {
        /// The progress file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// `cram serve` could not listen on its address (the port is taken, or
    /// the address is not one of this machine's).
    #[error(
        "cannot listen on {addr}: {reason}; leave out --port to take a free port, or choose another"
    )]
    Listen {
        /// The address asked for.
        addr: String,
        /// What the system said.
        reason: String,
    },

    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error (see README, "Exit codes").
    ///
    /// | code | meaning |
    /// |---|---|
    /// | 2 | bad input: flags, parameters, question |
    /// | 3 | index missing, damaged or locked |
    /// | 4 | model or ONNX Runtime missing, or a model folder is invalid |
    /// | 5 | notes folder or a note is invalid |
    /// | 6 | the drill's progress file is unreadable (left untouched) |
    /// | 7 | `cram serve` cannot listen on its address |
    /// | 1 | anything else (I/O, internal) |
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::EmptyQuery
            | Error::QueryTooLong { .. }
            | Error::InvalidParam { .. }
            | Error::UnknownQuestion(_) => 2,
            Error::IndexMissing(_)
            | Error::IndexCorrupt { .. }
            | Error::Locked(_)
            | Error::Dense(_)
            | Error::Lexical(_) => 3,
            Error::ModelMissing { .. }
            | Error::ModelInvalid { .. }
            | Error::RuntimeMissing(_)
            | Error::Embed(_) => 4,
            Error::CorpusMissing(_)
            | Error::Note { .. }
            | Error::DuplicateId { .. }
            | Error::EmptyCorpus(_) => 5,
            Error::Progress { .. } => 6,
            Error::Listen { .. } => 7,
            Error::Io { .. } => 1,
        }
    }

    /// Wraps an I/O error with a short description of what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Extension to attach context to `std::io::Result`.
pub(crate) trait IoContext<T> {
    /// Converts the error into [`Error::Io`] with `what` and the path.
    fn ctx(self, what: &str, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(format!("{what} {}", path.display()), e))
    }
}
