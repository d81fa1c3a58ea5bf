//! Test harness: sandboxes with their own notes and index, the `cram`
//! command wired to them, and a shared index of the bundled notes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the project (read-only inputs), if present.
pub fn shared() -> Option<PathBuf> {
    let p = root().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// `../shared/model/reference_embeddings.json`, parsed, or `None` after
/// saying the test skips.
pub fn reference_embeddings() -> Option<serde_json::Value> {
    let Some(shared) = shared() else {
        eprintln!("skipping: ../shared/model/reference_embeddings.json not present");
        return None;
    };
    let bytes = std::fs::read(shared.join("model/reference_embeddings.json")).unwrap();
    Some(serde_json::from_slice(&bytes).unwrap())
}

/// A BEIR collection under `../shared/benchmarks/`, or `None` after saying
/// the test skips.
pub fn shared_collection(name: &str) -> Option<PathBuf> {
    let dir = shared()
        .map(|s| s.join("benchmarks").join(name))
        .filter(|p| p.is_dir());
    if dir.is_none() {
        eprintln!("skipping: ../shared/benchmarks/{name} not present");
    }
    dir
}

/// True when the embedding model and ONNX Runtime are provisioned. When they
/// are not, tests that need them print why and skip; under CI (`CI=true`)
/// they fail instead, because CI provisions the model first.
pub fn require_model() -> bool {
    let paths = cram::Paths::defaults();
    let model = std::env::var_os("CRAM_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or(paths.model_dir);
    let ok = model.join("model.json").is_file()
        && cram::index::embed::find_runtime(None).is_ok_and(|p| p.is_file());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the embedding model is not provisioned under CI: run `make setup`");
        }
        eprintln!("skipping: embedding model not provisioned (run `make setup`)");
    }
    ok
}

/// A temporary folder with a notes folder (`corpus/`) and an index folder.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// A sandbox whose notes are a copy of `tests/fixtures/notes`.
    pub fn fixture() -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(s.corpus()).unwrap();
        for e in std::fs::read_dir(root().join("tests/fixtures/notes")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), s.corpus().join(e.file_name())).unwrap();
        }
        s
    }

    pub fn corpus(&self) -> PathBuf {
        self.dir.path().join("corpus")
    }

    /// Adds note `id` as `corpus/<file>` in the bundled notes' format: front
    /// matter, the question as its title, and a "Short answer" of `answer`.
    pub fn add_note(
        &self,
        file: &str,
        id: &str,
        section: &str,
        question: &str,
        tags: &str,
        answer: &str,
    ) {
        std::fs::write(
            self.corpus().join(file),
            format!(
                "---\nid: {id}\nsection: \"{section}\"\nquestion: \"{question}\"\n\
                 tags: [{tags}]\nrelated: []\n---\n# {question}\n\n## Short answer\n{answer}"
            ),
        )
        .unwrap();
    }

    pub fn index(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    /// `cram` pointed at this sandbox's notes, index and drill progress.
    pub fn cram(&self) -> Command {
        let mut c = Command::cargo_bin("cram").unwrap();
        c.env("CRAM_CORPUS", self.corpus())
            .env("CRAM_INDEX", self.index())
            .env("NO_COLOR", "1")
            .env("CRAM_DRILL_PROGRESS", self.dir.path().join("drill.json"))
            .env_remove("CRAM_ORT_LIB");
        c
    }

    /// Creates a folder of the user's own notes next to the bundled ones.
    pub fn user_folder(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir(&p).unwrap();
        p
    }

    /// A folder of the user's own notes, `mine/`, holding one note about the
    /// paged KV cache (a topic the fixture notes do not cover).
    pub fn kv_notes(&self) -> PathBuf {
        let mine = self.user_folder("mine");
        std::fs::write(
            mine.join("kv.md"),
            "# Paged KV cache\n\nvLLM stores the key value cache in fixed-size blocks, like virtual memory pages, so \
             sequences of different lengths share GPU memory without fragmentation.\n",
        )
        .unwrap();
        mine
    }

    /// Writes (or replaces) a file in the notes folder.
    pub fn write_note(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.corpus().join(name), bytes).unwrap();
    }

    /// The live generation's folder.
    pub fn current_gen(&self) -> PathBuf {
        let name = std::fs::read_to_string(self.index().join("CURRENT")).unwrap();
        self.index().join(name.trim())
    }

    /// Builds the index and returns the live generation's folder.
    pub fn build(&self) -> PathBuf {
        self.cram().args(["index", "-q"]).assert().success();
        self.current_gen()
    }
}

/// Paths for an index of the bundled notes, built once per test run.
pub fn bundled_paths() -> &'static cram::Paths {
    static P: OnceLock<cram::Paths> = OnceLock::new();
    P.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let mut p = cram::Paths::defaults();
        if let Some(m) = std::env::var_os("CRAM_MODEL_DIR") {
            p.model_dir = m.into();
        }
        p.index = dir.path().join("index");
        let (_engine, _) =
            cram::Engine::open(&p, &cram::OpenOptions::default(), &mut |_| {}).unwrap();
        p
    })
}

/// The realistic query set (`tests/data/realistic_queries.tsv`).
pub fn realistic() -> Vec<cram::eval::quality::RealQuery> {
    cram::eval::quality::load_realistic(&root().join("tests/data/realistic_queries.tsv")).unwrap()
}

/// Opens an engine on the shared bundled index.
/// A dev question and a realistic follow-up of its note that the bundled
/// notes do not cover alone but answer as its follow-up (found, not fixed,
/// so the tests follow the notes and the models).
pub fn follow_up_pair() -> (String, String) {
    let dev = cram::eval::load_dev_queries(&root().join("tests/data/dev_queries.tsv")).unwrap();
    let mut engine = bundled_engine();
    let p = cram::SearchParams::default();
    realistic()
        .iter()
        .filter(|q| q.kind == "followup")
        .find_map(|q| {
            let d = dev.iter().find(|d| q.ids.contains(&d.expected))?;
            let earlier = cram::Earlier::of(&engine.ask(&d.query, &p).unwrap())?;
            let a = engine.ask_following(&q.query, Some(&earlier), &p).unwrap();
            a.understood
                .after
                .is_some()
                .then(|| (d.query.clone(), q.query.clone()))
        })
        .expect("some follow-up is read as one")
}

pub fn bundled_engine() -> cram::Engine {
    cram::Engine::open(bundled_paths(), &cram::OpenOptions::default(), &mut |_| {})
        .unwrap()
        .0
}

/// Flips one byte in the middle of a file.
pub fn flip_byte(p: &Path) {
    let mut b = std::fs::read(p).unwrap();
    assert!(!b.is_empty(), "{} is empty", p.display());
    let i = b.len() / 2;
    b[i] ^= 0x5a;
    std::fs::write(p, b).unwrap();
}

/// The JSON object a successful command printed on stdout.
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr_of(out));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Standard error as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
