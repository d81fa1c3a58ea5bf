//! The dense arm: nearest passages by cosine similarity of unit vectors.
//!
//! Two searchers over the same vectors:
//! * [`Flat`]: an exact scan (dot products with every vector). It is the
//!   default below [`crate::config::EXACT_SCAN_BELOW`] passages, where it is as
//!   fast as a graph and never misses.
//! * [`Graph`]: an `hnsw_rs` HNSW graph, for larger collections. It uses
//!   [`DistUnitDot`], `max(0, 1 - a·b)`: hnsw_rs's own `DistDot` asserts
//!   `1 - a·b >= 0` and panics when rounding puts a unit vector's self-dot
//!   above 1.
//!
//! hnsw_rs prints some errors with `println!`; every call into it runs under
//! [`StdoutToStderr`] so `--json` output on stdout stays clean.

use std::path::Path;

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::Hnsw;
use hnsw_rs::hnswio::HnswIo;

use crate::error::{Error, Result};
use crate::index::lexical::Hit;

/// Cosine distance for unit vectors, clamped at 0: `max(0, 1 - a·b)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DistUnitDot;

impl Distance<f32> for DistUnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// Dot product, written so the compiler vectorises it (4 independent sums).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks = n / 8;
    for i in 0..chunks {
        for j in 0..8 {
            acc[j] += a[i * 8 + j] * b[i * 8 + j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for i in chunks * 8..n {
        s += a[i] * b[i];
    }
    s
}

/// Row-major matrix of unit vectors: vector `i` is passage ordinal `i`.
#[derive(Debug, Clone, Default)]
pub struct Vectors {
    /// Dimension of each vector.
    pub dim: usize,
    /// `len * dim` values.
    pub data: Vec<f32>,
}

impl Vectors {
    /// Builds from rows; all rows must have `dim` values.
    pub fn from_rows(dim: usize, rows: &[Vec<f32>]) -> Vectors {
        let mut data = Vec::with_capacity(rows.len() * dim);
        for r in rows {
            debug_assert_eq!(r.len(), dim);
            data.extend_from_slice(r);
        }
        Vectors { dim, data }
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// True when there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vector `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Little-endian f32 bytes, as stored in `embeddings.f32`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.data.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Parses little-endian f32 bytes; `None` when the length does not fit `dim`.
    pub fn from_bytes(dim: usize, bytes: &[u8]) -> Option<Vectors> {
        if dim == 0 || !bytes.len().is_multiple_of(4 * dim) {
            return None;
        }
        let data = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Vectors { dim, data })
    }
}

/// Exact nearest-neighbour search by scanning every vector.
pub struct Flat<'a> {
    vectors: &'a Vectors,
}

impl<'a> Flat<'a> {
    /// Wraps a set of vectors.
    pub fn new(vectors: &'a Vectors) -> Self {
        Flat { vectors }
    }

    /// The `k` most similar vectors to `q`, best first; score = cosine.
    pub fn search(&self, q: &[f32], k: usize) -> Vec<Hit> {
        let n = self.vectors.len();
        let mut all: Vec<Hit> = (0..n)
            .map(|i| Hit {
                ord: i as u32,
                score: dot(q, self.vectors.row(i)),
            })
            .collect();
        let k = k.min(n);
        if k == 0 {
            return Vec::new();
        }
        let by_score = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord));
        if k < n {
            all.select_nth_unstable_by(k - 1, by_score);
            all.truncate(k);
        }
        all.sort_by(by_score);
        all
    }
}

/// HNSW build parameters.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct GraphParams {
    /// Links per node and layer (`M`).
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
}

impl Default for GraphParams {
    fn default() -> Self {
        GraphParams {
            m: 16,
            ef_construction: 200,
        }
    }
}

/// An HNSW graph over unit vectors.
pub struct Graph {
    hnsw: Hnsw<'static, f32, DistUnitDot>,
}

impl Graph {
    /// Builds a graph over all vectors (parallel insertion).
    pub fn build(vectors: &Vectors, p: GraphParams) -> Graph {
        let _quiet = StdoutToStderr::new();
        let n = vectors.len();
        let layers = 16;
        let hnsw = Hnsw::<f32, DistUnitDot>::new(
            p.m.min(256),
            n.max(1),
            layers,
            p.ef_construction,
            DistUnitDot,
        );
        let rows: Vec<(&[f32], usize)> = (0..n).map(|i| (vectors.row(i), i)).collect();
        hnsw.parallel_insert_slice(&rows);
        let mut g = Graph { hnsw };
        g.hnsw.set_searching_mode(true);
        g
    }

    /// The `k` nearest vectors to `q`, best first; score = cosine.
    pub fn search(&self, q: &[f32], k: usize, ef: usize) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .hnsw
            .search(q, k, ef.max(k))
            .into_iter()
            .map(|n| Hit {
                ord: n.d_id as u32,
                score: 1.0 - n.distance,
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
        hits
    }

    /// Writes the graph into `dir` (which must exist and should be empty, e.g.
    /// a fresh build folder). Returns the basename hnsw_rs actually used: it
    /// picks a new one rather than overwrite existing files.
    pub fn dump(&self, dir: &Path) -> Result<String> {
        if !dir.is_dir() {
            return Err(Error::Dense(format!("{} is not a folder", dir.display())));
        }
        let _quiet = StdoutToStderr::new();
        self.hnsw
            .file_dump(dir, "dense")
            .map_err(|e| Error::Dense(format!("writing the HNSW graph: {e}")))
    }

    /// Loads a graph written by [`Graph::dump`].
    pub fn load(dir: &Path, basename: &str) -> Result<Graph> {
        for ext in ["hnsw.graph", "hnsw.data"] {
            let f = dir.join(format!("{basename}.{ext}"));
            if !f.is_file() {
                return Err(Error::Dense(format!("{} is missing", f.display())));
            }
        }
        let _quiet = StdoutToStderr::new();
        // hnsw_rs returns a graph that borrows its loader. The loader is small
        // and a process loads at most a few graphs, so it is leaked to give
        // the graph a 'static lifetime.
        let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, basename)));
        let mut slot = Some(io);
        let hnsw = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            load_leaked(slot.take().expect("called once"))
        }))
        .map_err(|_| Error::Dense("the HNSW files are damaged (the loader panicked)".into()))?
        .map_err(|e| Error::Dense(format!("reading the HNSW graph: {e}")))?;
        let mut g = Graph { hnsw };
        g.hnsw.set_searching_mode(true);
        Ok(g)
    }

    /// Number of points in the graph.
    pub fn len(&self) -> usize {
        self.hnsw.get_nb_point()
    }

    /// True when the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn load_leaked(io: &'static mut HnswIo) -> anyhow::Result<Hnsw<'static, f32, DistUnitDot>> {
    io.load_hnsw::<f32, DistUnitDot>()
}

/// Recall@k of HNSW against the exact scan, averaged over `queries`.
pub fn recall_at_k(
    vectors: &Vectors,
    graph: &Graph,
    queries: &[&[f32]],
    k: usize,
    ef: usize,
) -> f64 {
    if queries.is_empty() {
        return 1.0;
    }
    let flat = Flat::new(vectors);
    let mut sum = 0.0;
    for q in queries {
        let truth: std::collections::HashSet<u32> =
            flat.search(q, k).iter().map(|h| h.ord).collect();
        let got = graph.search(q, k, ef);
        let found = got.iter().filter(|h| truth.contains(&h.ord)).count();
        sum += found as f64 / truth.len().max(1) as f64;
    }
    sum / queries.len() as f64
}

/// While alive, file descriptor 1 points at stderr, so a library's `println!`
/// cannot corrupt machine-readable output on stdout. Restores stdout on drop.
pub struct StdoutToStderr {
    #[cfg(unix)]
    saved: Option<i32>,
}

impl StdoutToStderr {
    /// Redirects stdout to stderr until the guard drops.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        {
            // SAFETY: dup/dup2 on the process's own standard descriptors.
            let saved = unsafe { libc::dup(1) };
            if saved >= 0 && unsafe { libc::dup2(2, 1) } >= 0 {
                return StdoutToStderr { saved: Some(saved) };
            }
            if saved >= 0 {
                unsafe { libc::close(saved) };
            }
            StdoutToStderr { saved: None }
        }
        #[cfg(not(unix))]
        StdoutToStderr {}
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        if let Some(fd) = self.saved.take() {
            // SAFETY: restores the descriptor saved in `new`.
            unsafe {
                libc::dup2(fd, 1);
                libc::close(fd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random unit vectors in clusters.
    pub(crate) fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vectors {
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        let centers: Vec<Vec<f32>> = (0..8).map(|_| (0..dim).map(|_| next()).collect()).collect();
        let rows: Vec<Vec<f32>> = (0..n)
            .map(|i| {
                let c = &centers[i % 8];
                let v: Vec<f32> = c.iter().map(|x| x + 0.5 * next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect();
        Vectors::from_rows(dim, &rows)
    }

    #[test]
    fn distance_is_clamped_on_self() {
        let v = unit_vectors(50, 384, 7);
        for i in 0..v.len() {
            let d = DistUnitDot.eval(v.row(i), v.row(i));
            assert!((0.0..1e-5).contains(&d), "{d}");
        }
    }

    #[test]
    fn flat_finds_itself_first() {
        let v = unit_vectors(200, 64, 3);
        let f = Flat::new(&v);
        for i in [0, 17, 199] {
            let hits = f.search(v.row(i), 5);
            assert_eq!(hits[0].ord, i as u32);
            assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        }
        assert_eq!(f.search(v.row(0), 1000).len(), 200);
    }

    #[test]
    fn graph_matches_exact_and_survives_dump_and_load() {
        let v = unit_vectors(600, 64, 11);
        let g = Graph::build(&v, GraphParams::default());
        let qs: Vec<&[f32]> = (0..50).map(|i| v.row(i * 7)).collect();
        let r = recall_at_k(&v, &g, &qs, 10, 64);
        assert!(r >= 0.99, "recall {r}");
        let d = tempfile::tempdir().unwrap();
        let base = g.dump(d.path()).unwrap();
        let g2 = Graph::load(d.path(), &base).unwrap();
        assert_eq!(g2.len(), 600);
        assert_eq!(g.search(v.row(5), 10, 64), g2.search(v.row(5), 10, 64));
        assert!(matches!(
            Graph::load(d.path(), "nope"),
            Err(Error::Dense(_))
        ));
        assert!(g.dump(&d.path().join("missing")).is_err());
    }

    #[test]
    fn vectors_round_trip_bytes() {
        let v = unit_vectors(3, 8, 1);
        let w = Vectors::from_bytes(8, &v.to_bytes()).unwrap();
        assert_eq!(v.data, w.data);
        assert!(Vectors::from_bytes(8, &[0u8; 5]).is_none());
    }
}
