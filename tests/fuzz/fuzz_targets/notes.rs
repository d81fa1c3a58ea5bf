//! Fuzz target: the markdown / front-matter parser and the chunker.
//! Any bytes must give a note or an error (never a panic), and every chunk
//! must have a unique id, a line span inside the file, and text from the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

use cram::index::chunk::{chunk_note, ChunkParams};
use cram::index::corpus::{parse_note, SourceKind};

fuzz_target!(|data: &[u8]| {
    for kind in [SourceKind::Bundled, SourceKind::User] {
        let Ok(note) = parse_note(data, "fuzz/note.md", kind) else { continue };
        let lines = String::from_utf8_lossy(data).replace("\r\n", "\n").lines().count().max(1);
        for params in [ChunkParams::default(), ChunkParams { min_words: 1, max_words: 5 }] {
            let chunks = chunk_note(&note, params);
            let mut ids = std::collections::HashSet::new();
            for c in &chunks {
                assert!(ids.insert(c.id.clone()), "duplicate chunk id {}", c.id);
                assert!(c.line_start >= 1 && c.line_start <= c.line_end, "{}: {}-{}", c.id, c.line_start, c.line_end);
                assert!(c.line_end <= lines + 1, "{}: line {} past {}", c.id, c.line_end, lines);
                assert!(!c.text.trim().is_empty());
            }
        }
    }
});
