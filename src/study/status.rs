//! `cram status`: is everything in place, and if not, what fixes it?
//!
//! Each check reports what it found; a failed check carries the command that
//! fixes it. Nothing here changes any file.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::config::Paths;
use crate::index::corpus::{Source, SourceKind};
use crate::index::embed::{ModelInfo, find_runtime, init_runtime};
use crate::index::{CorpusSnapshot, IndexDir, read_manifest, verify};

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked (`model`, `onnxruntime`, `words`, `index`, `notes`, `freshness`, `drill`).
    pub name: &'static str,
    /// True when it is fine.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// How to fix it, when not ok.
    pub fix: Option<String>,
}

/// All checks, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Always `cram.status/1`.
    pub schema: &'static str,
    /// cram's version and index format.
    pub version: String,
    /// The checks.
    pub checks: Vec<Check>,
}

impl Status {
    /// True when every check passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

fn check(name: &'static str, r: Result<String, (String, String)>) -> Check {
    match r {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
            fix: None,
        },
        Err((detail, fix)) => Check {
            name,
            ok: false,
            detail,
            fix: Some(fix),
        },
    }
}

fn ago(unix: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let s = now.saturating_sub(unix);
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7199 => format!("{} min ago", s / 60),
        7200..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The `cram index` command that builds the index `status` looked at: with
/// `--model` when the model is not the default one (its index lives in its
/// own folder, [`Paths::default_index_for`]), so the fix builds the right one.
fn index_command(paths: &Paths) -> String {
    let default = Paths::defaults().model_dir;
    if paths.model_dir == default {
        return "cram index".into();
    }
    let name = crate::index::model::PROVISIONED
        .iter()
        .find(|(short, _)| {
            crate::index::model::resolve(std::path::Path::new(short)) == paths.model_dir
        })
        .map(|(short, _)| short.to_string())
        .unwrap_or_else(|| paths.model_dir.display().to_string());
    format!("cram --model {name} index")
}

/// Runs every check. `verify_model` also hashes `model.onnx` (about 0.3 s).
pub fn status(paths: &Paths, verify_model: bool) -> Status {
    let setup = "run `make setup` (or `python3 scripts/provision.py`)".to_string();
    let model = ModelInfo::read(&paths.model_dir);
    let mut checks = vec![
        check("model", model_check(paths, &model, verify_model, &setup)),
        check("onnxruntime", runtime_check(paths, &setup)),
        check("words", words_check(&setup)),
    ];
    let index_cmd = index_command(paths);
    let (index, manifest) = index_check(paths, &index_cmd);
    checks.push(index);
    checks.extend(notes_checks(
        paths,
        &index_cmd,
        manifest.as_ref(),
        model.as_ref().ok(),
    ));
    checks.push(check("drill", drill_check()));
    Status {
        schema: "cram.status/1",
        version: format!(
            "cram {} (index format {})",
            env!("CARGO_PKG_VERSION"),
            crate::index::FORMAT_VERSION
        ),
        checks,
    }
}

/// The model folder: readable, and (when `verify`) its `model.onnx` is the
/// file its sha256 names.
fn model_check(
    paths: &Paths,
    model: &crate::Result<ModelInfo>,
    verify: bool,
    setup: &str,
) -> Result<String, (String, String)> {
    match model {
        Err(e) => Err((e.to_string(), setup.to_string())),
        // model.onnx and tokenizer.json were checked by ModelInfo::read.
        Ok(m) => {
            let onnx = paths.model_dir.join("model.onnx");
            let at = format!("{} at {}", m.fingerprint(), paths.model_dir.display());
            if !verify {
                return Ok(at);
            }
            match crate::index::hash::file_hex(&onnx) {
                Ok(h) if h == m.onnx_sha256 => Ok(format!("{at} (sha256 verified)")),
                Ok(_) => Err((
                    format!("{} does not match its recorded sha256", onnx.display()),
                    setup.to_string(),
                )),
                Err(e) => Err((e.to_string(), setup.to_string())),
            }
        }
    }
}

/// ONNX Runtime: found and loads.
fn runtime_check(paths: &Paths, setup: &str) -> Result<String, (String, String)> {
    match find_runtime(paths.ort_lib.as_deref()) {
        Err(e) => Err((e.to_string(), setup.to_string())),
        Ok(lib) => match init_runtime(&lib) {
            Ok(()) => {
                let version = lib
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .trim_start_matches("libonnxruntime")
                    .trim_matches(|c: char| !c.is_ascii_digit())
                    .replace(".dylib", "")
                    .to_string();
                Ok(format!("{} (version {version}) loads", lib.display()))
            }
            Err(e) => Err((e.to_string(), setup.to_string())),
        },
    }
}

/// The English word list typo correction leaves alone: present and readable.
fn words_check(setup: &str) -> Result<String, (String, String)> {
    let path = crate::config::words_file();
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(format!(
            "{} English words at {}",
            text.lines().count(),
            path.display()
        )),
        Err(e) => Err((
            format!(
                "{}: {e} (typo correction then takes only the model's vocabulary for English)",
                path.display()
            ),
            setup.to_string(),
        )),
    }
}

/// The current index generation, its files verified; its manifest when it
/// is sound.
fn index_check(paths: &Paths, index_cmd: &str) -> (Check, Option<crate::index::Manifest>) {
    let dir = IndexDir::new(&paths.index);
    let rebuild = format!("run `{index_cmd}` to rebuild it");
    match dir.current() {
        Ok(None) => (
            check(
                "index",
                Err((
                    format!("no index at {}", paths.index.display()),
                    format!("run `{index_cmd}`"),
                )),
            ),
            None,
        ),
        Err(e) => (check("index", Err((e.to_string(), rebuild))), None),
        Ok(Some(name)) => {
            let gen_dir = paths.index.join(&name);
            match read_manifest(&gen_dir).and_then(|m| verify(&gen_dir, &m).map(|()| m)) {
                Ok(m) => (
                    check(
                        "index",
                        Ok(format!(
                            "{} (format {}, fingerprint {}): {} notes, {} passages, {:.1} MB, built {} in {:.1} s; files verified",
                            gen_dir.display(),
                            m.format,
                            &m.fingerprint[..12],
                            m.notes,
                            m.chunks,
                            crate::index::dir_size(&gen_dir) as f64 / 1e6,
                            ago(m.created_unix),
                            m.build_seconds
                        )),
                    ),
                    Some(m),
                ),
                Err(e) => (check("index", Err((e.to_string(), rebuild))), None),
            }
        }
    }
}

/// The notes folders (bundled and the user's the index remembers) load,
/// and the index matches them and the model.
fn notes_checks(
    paths: &Paths,
    index_cmd: &str,
    manifest: Option<&crate::index::Manifest>,
    model: Option<&ModelInfo>,
) -> Vec<Check> {
    let mut sources = vec![Source {
        path: paths.corpus.clone(),
        kind: SourceKind::Bundled,
    }];
    if let Some(m) = manifest {
        sources.extend(
            m.sources
                .iter()
                .filter(|s| s.kind == SourceKind::User)
                .cloned(),
        );
    }
    let snap = match CorpusSnapshot::load(sources) {
        Err(e) => {
            return vec![check(
                "notes",
                Err((e.to_string(), "fix the note named above".into())),
            )];
        }
        Ok(snap) => snap,
    };
    let folders: Vec<String> = snap
        .sources
        .iter()
        .map(|s| s.path.display().to_string())
        .collect();
    let skipped = snap.report.warnings.len();
    let mut checks = vec![check(
        "notes",
        Ok(format!(
            "{} notes in {}{}",
            snap.notes.len(),
            folders.join(", "),
            if skipped > 0 {
                format!(" ({skipped} files skipped)")
            } else {
                String::new()
            }
        )),
    )];
    if let (Some(m), Some(model)) = (manifest, model) {
        let wanted = snap.fingerprint(model, m.chunker, m.graph);
        checks.push(check(
            "freshness",
            if wanted == m.fingerprint {
                Ok("the index matches the notes and the model".into())
            } else if m.model != *model {
                Err((
                    "the index was built with another model".into(),
                    format!("run `{index_cmd}`"),
                ))
            } else {
                Err((
                    "the notes changed since the index was built".into(),
                    format!("run `{index_cmd}` (or just `cram ask`)"),
                ))
            },
        ));
    }
    checks
}

/// The drill's progress file: absent, or readable.
fn drill_check() -> Result<String, (String, String)> {
    let progress_path = crate::study::drill::Progress::default_path();
    if !progress_path.exists() {
        return Ok(format!(
            "no drill yet (progress will be kept in {})",
            progress_path.display()
        ));
    }
    match crate::study::drill::Progress::load(&progress_path) {
        Ok(p) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let due = p.cards().filter(|(_, c)| c.is_due(now)).count();
            Ok(format!(
                "{}: {} questions drilled, {due} due now, {} reviews",
                progress_path.display(),
                p.cards().count(),
                p.log().len()
            ))
        }
        Err(e) => Err((
            e.to_string(),
            format!(
                "move {} aside; `cram drill` then starts afresh",
                progress_path.display()
            ),
        )),
    }
}

/// The status as text, one line per check.
pub fn render(s: &Status) -> String {
    let mut out = format!("{}\n", s.version);
    for c in &s.checks {
        out.push_str(&format!(
            "{:11} {}  {}\n",
            c.name,
            if c.ok { "ok  " } else { "FAIL" },
            crate::render::sanitize(&c.detail)
        ));
        if let Some(f) = &c.fix {
            out.push_str(&format!("{:11}       fix: {f}\n", ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_builds_the_index_of_the_model_in_use() {
        let mut p = Paths::defaults();
        assert_eq!(index_command(&p), "cram index");
        p.model_dir = crate::index::model::resolve(std::path::Path::new("fp32"));
        assert_eq!(index_command(&p), "cram --model fp32 index");
        p.model_dir = "/models/e5-small".into();
        assert_eq!(index_command(&p), "cram --model /models/e5-small index");
    }
}
