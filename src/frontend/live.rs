//! An engine kept fresh for a long-running front-end (`cram mcp`, `cram
//! serve`): loaded once, reopened (rebuilding the index as `cram ask` would)
//! when a notes file changes.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::{Engine, Event, OpenOptions, Paths};

/// How often (at most) the notes folders are checked for changes.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// An [`Engine`] and the notes folders' state when it was opened.
pub struct Live {
    engine: Engine,
    paths: Paths,
    checked: Instant,
    signature: u64,
    reopened: u64,
}

impl Live {
    /// Keeps `engine` (opened from `paths`, which are used again to reopen it).
    pub fn new(engine: Engine, paths: Paths) -> Live {
        Live {
            signature: signature(&engine),
            engine,
            paths,
            checked: Instant::now(),
            reopened: 0,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to ask questions.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// How many times the engine was reopened: data derived from the notes
    /// can be cached under this number.
    pub fn generation(&self) -> u64 {
        self.reopened
    }

    /// Reopens the engine (rebuilding the index as `cram ask` would) when a
    /// notes file changed since the last check; checks at most once per
    /// [`WATCH_INTERVAL`]. Notices go to stderr; a failure keeps the old
    /// engine. True when it was reopened.
    pub fn refresh(&mut self) -> bool {
        if self.checked.elapsed() < WATCH_INTERVAL {
            return false;
        }
        let sig = signature(&self.engine);
        self.checked = Instant::now();
        if sig == self.signature {
            return false;
        }
        tracing::info!("notes changed: reopening the index");
        let mut log = |e: Event| {
            if let Event::Notice(n) = e {
                eprintln!("cram: {}", crate::render::sanitize(&n));
            }
        };
        match Engine::open(&self.paths, &OpenOptions::default(), &mut log) {
            Ok((mut engine, _)) => {
                if let Err(e) = engine.load_model() {
                    eprintln!("cram: {e}");
                }
                self.signature = signature(&engine);
                self.engine = engine;
                self.reopened += 1;
                true
            }
            Err(e) => {
                eprintln!("cram: could not reopen the index: {e}");
                false
            }
        }
    }
}

/// A hash of every markdown file's path, size and modification time under
/// the engine's notes folders.
fn signature(engine: &Engine) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for s in &engine.generation().manifest.sources {
        hash_tree(&s.path, &mut h, 0);
    }
    h.finish()
}

fn hash_tree(dir: &Path, h: &mut impl std::hash::Hasher, depth: usize) {
    use std::hash::Hash;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let Ok(md) = e.metadata() else { continue };
        if md.is_dir() && depth < 8 {
            hash_tree(&p, h, depth + 1);
        } else if p.extension().is_some_and(|x| x == "md") {
            p.hash(h);
            md.len().hash(h);
            md.modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .hash(h);
        }
    }
}
