//! Loading notes: the bundled reference notes and a user's own markdown folders.
//!
//! A bundled note is `corpus/qNN-slug.md` with YAML front matter (`id`,
//! `section`, `question`, `tags`, `related`); anything wrong with one is an
//! error, because the bundled notes are the product. A user's folder is
//! walked leniently: front matter is optional (the note id is then the path),
//! and unreadable, binary or huge files are skipped with a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// Largest note file read, in bytes; larger files in a user's folder are skipped.
pub const MAX_NOTE_BYTES: u64 = 4 * 1024 * 1024;

/// How strictly a folder of notes is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The bundled reference notes: front matter required, any problem is an error.
    Bundled,
    /// A user's folder: front matter optional, problems are warnings.
    User,
}

/// A folder of notes to index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The folder.
    pub path: PathBuf,
    /// How strictly it is read.
    pub kind: SourceKind,
}

/// The front matter of a bundled note.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// `qNN`.
    pub id: String,
    /// The section of the question list (e.g. "Deep Learning").
    pub section: String,
    /// The interview question, verbatim.
    pub question: String,
    /// Search terms, synonyms, abbreviations.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Ids of notes that share material.
    #[serde(default)]
    pub related: Vec<String>,
    /// `behavioural` for personal-experience questions; absent for technical ones.
    #[serde(default)]
    pub format: Option<String>,
}

/// One loaded note.
#[derive(Debug, Clone)]
pub struct Note {
    /// Stable id: `qNN` for bundled notes, the path (with its folder's name) for a user's.
    pub id: String,
    /// Front matter, when the note has one.
    pub meta: Option<FrontMatter>,
    /// Path shown in citations: relative to the folder's parent (e.g. `corpus/q14-dropout.md`).
    pub display_path: String,
    /// The title: the question, else the first `# ` heading, else the file stem.
    pub title: String,
    /// Markdown after the front matter.
    pub body: String,
    /// 1-based line number of the body's first line in the file.
    pub body_first_line: usize,
    /// Hash of the file's bytes (hex), for freshness checks.
    pub content_hash: String,
}

impl Note {
    /// The question id (`qNN`) for bundled notes, `None` for a user's notes.
    pub fn question_id(&self) -> Option<&str> {
        self.meta.as_ref().map(|m| m.id.as_str())
    }
}

/// What a load skipped, for the user to see.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// One line per skipped file or folder.
    pub warnings: Vec<String>,
}

/// Loads every source, checks that ids are unique, and returns notes sorted by id.
pub fn load(sources: &[Source]) -> Result<(Vec<Note>, LoadReport)> {
    let mut report = LoadReport::default();
    let mut notes = Vec::new();
    for s in sources {
        notes.extend(load_source(s, &mut report)?);
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for n in &notes {
        if let Some(first) = seen.insert(n.id.clone(), PathBuf::from(&n.display_path)) {
            return Err(Error::DuplicateId {
                id: n.id.clone(),
                first,
                second: PathBuf::from(&n.display_path),
            });
        }
    }
    notes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((notes, report))
}

fn load_source(src: &Source, report: &mut LoadReport) -> Result<Vec<Note>> {
    if !src.path.is_dir() {
        return Err(Error::CorpusMissing(src.path.clone()));
    }
    let mut files = Vec::new();
    walk(&src.path, &mut files, report, 0);
    files.sort();
    let base = src.path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(base).unwrap_or(&f);
        let display = rel.to_string_lossy().replace('\\', "/");
        match read_note(&f, &display, src.kind) {
            Ok(n) => out.push(n),
            Err(e) if src.kind == SourceKind::User => report.warnings.push(format!("skipped {e}")),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Collects `*.md` files below `dir`, not following symlinked folders (so a
/// symlink loop cannot trap the walk), skipping hidden entries.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, report: &mut LoadReport, depth: usize) {
    if depth > 32 {
        report
            .warnings
            .push(format!("skipped {}: nested too deep", dir.display()));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report
                .warnings
                .push(format!("skipped {}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, out, report, depth + 1);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        {
            if ft.is_symlink() && !path.is_file() {
                report
                    .warnings
                    .push(format!("skipped {}: broken symlink", path.display()));
                continue;
            }
            out.push(path);
        }
    }
}

/// Reads and parses one note file.
pub fn read_note(path: &Path, display: &str, kind: SourceKind) -> Result<Note> {
    let note_err = |reason: String| Error::Note {
        path: PathBuf::from(display),
        reason,
    };
    let meta = std::fs::metadata(path).ctx("reading", path)?;
    if meta.len() > MAX_NOTE_BYTES {
        return Err(note_err(format!(
            "{} bytes is larger than the {} byte limit for a note",
            meta.len(),
            MAX_NOTE_BYTES
        )));
    }
    let bytes = std::fs::read(path).ctx("reading", path)?;
    parse_note(&bytes, display, kind)
}

/// Parses a note from its bytes; `display` is the path shown in citations and
/// errors. No file is touched (the fuzz targets call this directly).
pub fn parse_note(bytes: &[u8], display: &str, kind: SourceKind) -> Result<Note> {
    let note_err = |reason: String| Error::Note {
        path: PathBuf::from(display),
        reason,
    };
    if bytes.len() as u64 > MAX_NOTE_BYTES {
        return Err(note_err(format!(
            "larger than the {MAX_NOTE_BYTES} byte limit for a note"
        )));
    }
    let bytes = bytes.to_vec();
    if bytes.contains(&0) {
        return Err(note_err("looks binary (contains NUL bytes)".into()));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        note_err(format!(
            "not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let content_hash = crate::index::hash::hex(text.as_bytes());
    let text = text.replace("\r\n", "\n");
    let (fm, body, body_first_line) = split_front_matter(&text).map_err(note_err)?;
    let meta = match (fm, kind) {
        (Some(y), _) => Some(parse_front_matter(y, kind).map_err(note_err)?),
        (None, SourceKind::Bundled) => {
            return Err(note_err(
                "no front matter: a bundled note starts with a `---` block holding id, section, question, tags, related".into(),
            ));
        }
        (None, SourceKind::User) => None,
    };
    let meta = meta.flatten();
    let id = match &meta {
        Some(m) => m.id.clone(),
        None => display.to_string(),
    };
    let title = match &meta {
        Some(m) => m.question.clone(),
        None => first_h1(body).unwrap_or_else(|| {
            Path::new(display)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| display.to_string())
        }),
    };
    Ok(Note {
        id,
        meta,
        display_path: display.to_string(),
        title,
        body: body.to_string(),
        body_first_line,
        content_hash,
    })
}

/// Splits `---\n yaml \n---\n body`. Returns the YAML (if any), the body and
/// the body's 1-based first line.
fn split_front_matter(text: &str) -> std::result::Result<(Option<&str>, &str, usize), String> {
    let Some(rest) = text.strip_prefix("---\n") else {
        return Ok((None, text, 1));
    };
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((Some(yaml), body, i + 3));
        }
        offset += line.len();
    }
    Err("front matter opened with `---` is never closed".into())
}

/// Parses front matter. Bundled notes must have every field and an id `qNN`;
/// a user's note with front matter that does not describe a question is kept
/// without metadata.
fn parse_front_matter(
    yaml: &str,
    kind: SourceKind,
) -> std::result::Result<Option<FrontMatter>, String> {
    let parsed: std::result::Result<FrontMatter, _> = serde_yaml_ng::from_str(yaml);
    match (parsed, kind) {
        (Ok(fm), SourceKind::Bundled) => {
            if !is_question_id(&fm.id) {
                return Err(format!(
                    "front matter id `{}` is not of the form qNN",
                    fm.id
                ));
            }
            for (name, v) in [("section", &fm.section), ("question", &fm.question)] {
                if v.trim().is_empty() {
                    return Err(format!("front matter field `{name}` is empty"));
                }
            }
            if let Some(bad) = fm.related.iter().find(|r| !is_question_id(r)) {
                return Err(format!("related id `{bad}` is not of the form qNN"));
            }
            Ok(Some(fm))
        }
        (Err(e), SourceKind::Bundled) => {
            Err(format!("bad front matter: {}", one_line(&e.to_string())))
        }
        (Ok(fm), SourceKind::User) if is_question_id(&fm.id) => Ok(Some(fm)),
        (_, SourceKind::User) => Ok(None),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `14`, `q4`, `Q14` -> `q14`, `q04`, `q14`; anything else (a path, a user
/// note's id) unchanged, trimmed.
pub fn normalize_id(s: &str) -> String {
    let t = s.trim();
    let digits = t.strip_prefix(['q', 'Q']).unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!("q{:02}", digits.parse::<u32>().unwrap_or(0))
    } else {
        t.to_string()
    }
}

/// True for `q` followed by two or more digits.
pub fn is_question_id(s: &str) -> bool {
    s.len() >= 3 && s.starts_with('q') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn first_h1(body: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const GOOD: &str = "---\nid: q07\nsection: \"Machine Learning\"\nquestion: \"How does regularization work?\"\ntags: [L2, weight decay]\nrelated: [q02]\n---\n# How does regularization work?\n\n## Short answer\nIt adds a penalty.\n";

    #[test]
    fn parses_front_matter_and_body_lines() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "q07-reg.md", GOOD.as_bytes());
        let n = read_note(&p, "corpus/q07-reg.md", SourceKind::Bundled).unwrap();
        assert_eq!(n.id, "q07");
        assert_eq!(n.question_id(), Some("q07"));
        assert_eq!(n.meta.as_ref().unwrap().tags, vec!["L2", "weight decay"]);
        assert_eq!(n.title, "How does regularization work?");
        assert_eq!(n.body_first_line, 8);
        assert!(n.body.starts_with("# How does"));
    }

    #[test]
    fn bundled_note_without_front_matter_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "x.md", b"# Title\n\ntext\n");
        let e = read_note(&p, "corpus/x.md", SourceKind::Bundled).unwrap_err();
        assert!(e.to_string().contains("no front matter"), "{e}");
    }

    #[test]
    fn user_note_without_front_matter_uses_path_as_id() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "x.md", b"# My title\n\ntext\n");
        let n = read_note(&p, "mine/x.md", SourceKind::User).unwrap();
        assert_eq!(n.id, "mine/x.md");
        assert_eq!(n.question_id(), None);
        assert_eq!(n.title, "My title");
    }

    #[test]
    fn invalid_utf8_and_binary_are_rejected() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "bad.md", b"---\nid: q01\n---\nabc \xff\xfe def\n");
        let e = read_note(&p, "corpus/bad.md", SourceKind::Bundled).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let p = write(d.path(), "bin.md", b"abc\0def");
        let e = read_note(&p, "corpus/bin.md", SourceKind::User).unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
    }

    #[test]
    fn bad_front_matter_is_one_line() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "q01.md",
            b"---\nid: q01\nsection: [unclosed\n---\nbody\n",
        );
        let e = read_note(&p, "corpus/q01.md", SourceKind::Bundled).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        let p = write(
            d.path(),
            "q02.md",
            b"---\nid: 7\nsection: s\nquestion: q\n---\nbody\n",
        );
        assert!(read_note(&p, "corpus/q02.md", SourceKind::Bundled).is_err());
    }

    #[test]
    fn duplicate_ids_are_an_error() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "q07-a.md", GOOD.as_bytes());
        write(d.path(), "q07-b.md", GOOD.as_bytes());
        let src = Source {
            path: d.path().to_path_buf(),
            kind: SourceKind::Bundled,
        };
        assert!(matches!(load(&[src]), Err(Error::DuplicateId { .. })));
    }

    #[test]
    fn user_folder_skips_bad_files_with_warnings() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "good.md", b"# Good\n\nsome text\n");
        write(d.path(), "bad.md", b"\xff\xfe");
        write(d.path(), "ignored.txt", b"not markdown");
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.path(), d.path().join("loop")).unwrap();
        let src = Source {
            path: d.path().to_path_buf(),
            kind: SourceKind::User,
        };
        let (notes, report) = load(&[src]).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    }
}
