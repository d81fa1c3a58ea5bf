//! An on-disk cache of text embeddings, keyed by model fingerprint and text hash.
//!
//! Benchmark collections hold thousands of documents, and embedding them
//! takes minutes on a laptop CPU; the second run of `cram eval` should start
//! searching at once. One append-only file per model:
//!
//! ```text
//! $CRAM_HOME/cache/embeddings/<hash of model fingerprint>.emb
//!   header: b"CRAMEMB2", dim (u32 LE), fingerprint length (u32 LE), fingerprint (UTF-8)
//!   records: SHA-256 of the text (32 bytes), dim f32 LE
//! ```
//!
//! Records are appended and flushed after every batch, so an interrupted run
//! keeps what it embedded; a torn last record is ignored on the next open.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::index::dense::Vectors;
use crate::index::embed::{Embedder, ModelInfo};

/// Format 2: vectors of texts embedded one at a time (format 1 held vectors
/// embedded in batches of 8, which an int8 model makes depend on the batch).
const MAGIC: &[u8; 8] = b"CRAMEMB2";
/// Texts embedded between two appends to the file.
const APPEND_EVERY: usize = 64;

/// Cached vectors for one model.
pub struct EmbeddingCache {
    path: PathBuf,
    dim: usize,
    header_len: usize,
    map: HashMap<[u8; 32], Vec<f32>>,
}

fn key(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl EmbeddingCache {
    /// Opens (or creates) the cache for `model` in `dir`.
    pub fn open(dir: &Path, model: &ModelInfo) -> Result<EmbeddingCache> {
        std::fs::create_dir_all(dir).ctx("creating", dir)?;
        let fp = model.fingerprint();
        let name = crate::index::hash::hex(fp.as_bytes());
        let path = dir.join(format!("{}.emb", &name[..16]));
        let mut header = Vec::new();
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(model.dim as u32).to_le_bytes());
        header.extend_from_slice(&(fp.len() as u32).to_le_bytes());
        header.extend_from_slice(fp.as_bytes());
        let mut cache = EmbeddingCache {
            path,
            dim: model.dim,
            header_len: header.len(),
            map: HashMap::new(),
        };
        let bytes = match File::open(&cache.path) {
            Ok(mut f) => {
                let mut b = Vec::new();
                f.read_to_end(&mut b).ctx("reading", &cache.path)?;
                b
            }
            Err(_) => Vec::new(),
        };
        if bytes.len() < header.len() || bytes[..header.len()] != header[..] {
            // New, foreign or damaged: start over.
            let mut f = File::create(&cache.path).ctx("creating", &cache.path)?;
            f.write_all(&header).ctx("writing", &cache.path)?;
            return Ok(cache);
        }
        let rec = 32 + 4 * cache.dim;
        let body = &bytes[header.len()..];
        let whole = body.len() / rec * rec;
        for r in body[..whole].chunks_exact(rec) {
            let mut k = [0u8; 32];
            k.copy_from_slice(&r[..32]);
            let v = r[32..]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            cache.map.insert(k, v);
        }
        if whole != body.len() {
            // Drop a torn trailing record so appends stay aligned.
            let f = OpenOptions::new()
                .write(true)
                .open(&cache.path)
                .ctx("opening", &cache.path)?;
            f.set_len((cache.header_len + whole) as u64)
                .ctx("truncating", &cache.path)?;
        }
        Ok(cache)
    }

    /// Number of cached vectors.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Vectors for all `texts`, embedding (and caching) the missing ones.
    /// `progress(done, total)` counts only the texts embedded now. Returns the
    /// vectors and how many were embedded.
    pub fn embed_all(
        &mut self,
        texts: &[String],
        embedder: &mut Embedder,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(Vectors, usize)> {
        if embedder.info().dim != self.dim {
            return Err(Error::Embed(format!(
                "cache holds {}-d vectors, model makes {}-d",
                self.dim,
                embedder.info().dim
            )));
        }
        let mut missing: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, t) in texts.iter().enumerate() {
            let k = key(t);
            if !self.map.contains_key(&k) && seen.insert(k) {
                missing.push(i);
            }
        }
        // Shortest first: a batch is padded to its longest text, so batches of
        // similar length waste the least work.
        missing.sort_by_key(|&i| (texts[i].len(), i));
        let total = missing.len();
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .ctx("opening", &self.path)?;
        let mut done = 0;
        if total > 0 {
            progress(0, total);
        }
        for batch in missing.chunks(APPEND_EVERY) {
            let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let vecs = embedder.embed(&batch_texts)?;
            let mut buf = Vec::with_capacity(batch.len() * (32 + 4 * self.dim));
            for (t, v) in batch_texts.iter().zip(vecs) {
                let k = key(t);
                buf.extend_from_slice(&k);
                for x in &v {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                self.map.insert(k, v);
            }
            file.write_all(&buf).ctx("writing", &self.path)?;
            file.flush().ctx("writing", &self.path)?;
            done += batch.len();
            progress(done, total);
        }
        let rows: Vec<Vec<f32>> = texts.iter().map(|t| self.map[&key(t)].clone()).collect();
        Ok((Vectors::from_rows(self.dim, &rows), total))
    }
}
