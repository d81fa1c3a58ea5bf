//! Fusion of the BM25 and dense rankings into one.
//!
//! Both methods work on passage ordinals (stable ids within an index), never
//! on text, and keep each passage's per-arm rank and score for `--explain`.
//!
//! * [`rrf`]: reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009):
//!   `score(d) = Σ_arm 1 / (k + rank_arm(d))`, ranks from 1; an arm that did
//!   not return `d` adds nothing. Scores are ignored, so the arms' scales do
//!   not matter; larger `k` flattens the head.
//! * [`convex`]: a convex combination of min-max-normalised scores (Bruch,
//!   Gai & Ingber, ACM TOIS 2023): `score(d) = α · dense'(d) + (1 − α) · bm25'(d)`,
//!   where `x' = (x − min) / (max − min)` over that arm's candidate list and an
//!   arm that did not return `d` contributes 0. `α` is the **dense** weight.

use std::collections::HashMap;

use serde::Serialize;

use crate::index::lexical::Hit;

/// One arm's evidence for a passage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArmEvidence {
    /// 1-based rank in the arm's list.
    pub rank: usize,
    /// The arm's raw score (BM25, or cosine).
    pub score: f32,
}

/// A fused candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fused {
    /// Passage ordinal.
    pub ord: u32,
    /// The fused score (higher is better).
    pub score: f32,
    /// BM25 evidence, if the BM25 arm returned the passage.
    pub bm25: Option<ArmEvidence>,
    /// Dense evidence, if the dense arm returned the passage.
    pub dense: Option<ArmEvidence>,
}

fn collect(bm25: &[Hit], dense: &[Hit]) -> Vec<Fused> {
    let mut by_ord: HashMap<u32, Fused> = HashMap::with_capacity(bm25.len() + dense.len());
    for (i, h) in bm25.iter().enumerate() {
        by_ord.entry(h.ord).or_insert_with(|| empty(h.ord)).bm25 = Some(ArmEvidence {
            rank: i + 1,
            score: h.score,
        });
    }
    for (i, h) in dense.iter().enumerate() {
        by_ord.entry(h.ord).or_insert_with(|| empty(h.ord)).dense = Some(ArmEvidence {
            rank: i + 1,
            score: h.score,
        });
    }
    by_ord.into_values().collect()
}

fn empty(ord: u32) -> Fused {
    Fused {
        ord,
        score: 0.0,
        bm25: None,
        dense: None,
    }
}

/// Sorts by fused score, then ordinal, so equal scores rank reproducibly.
fn sorted(mut v: Vec<Fused>) -> Vec<Fused> {
    v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ord.cmp(&b.ord)));
    v
}

/// Reciprocal rank fusion with constant `k` (60 in the paper and by default).
pub fn rrf(bm25: &[Hit], dense: &[Hit], k: f32) -> Vec<Fused> {
    let mut v = collect(bm25, dense);
    for f in &mut v {
        f.score = [f.bm25, f.dense]
            .iter()
            .flatten()
            .map(|e| 1.0 / (k + e.rank as f32))
            .sum();
    }
    sorted(v)
}

/// Min-max normaliser over one arm's candidate scores. When all scores are
/// equal (or there is one candidate) every candidate normalises to 1.
#[derive(Debug, Clone, Copy)]
pub struct MinMax {
    min: f32,
    max: f32,
}

impl MinMax {
    /// Fits to the scores of `hits`.
    pub fn fit(scores: impl IntoIterator<Item = f32>) -> MinMax {
        let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
        for s in scores {
            min = min.min(s);
            max = max.max(s);
        }
        MinMax { min, max }
    }

    /// Maps `x` into [0, 1].
    pub fn apply(&self, x: f32) -> f32 {
        let span = self.max - self.min;
        if !(span.is_finite() && span > 0.0) {
            1.0
        } else {
            ((x - self.min) / span).clamp(0.0, 1.0)
        }
    }
}

/// Convex combination of min-max-normalised scores; `alpha` weighs the dense arm.
pub fn convex(bm25: &[Hit], dense: &[Hit], alpha: f32) -> Vec<Fused> {
    let nb = MinMax::fit(bm25.iter().map(|h| h.score));
    let nd = MinMax::fit(dense.iter().map(|h| h.score));
    let mut v = collect(bm25, dense);
    for f in &mut v {
        let b = f.bm25.map_or(0.0, |e| nb.apply(e.score));
        let d = f.dense.map_or(0.0, |e| nd.apply(e.score));
        f.score = alpha * d + (1.0 - alpha) * b;
    }
    sorted(v)
}

/// A single arm's list as fused candidates (for `--mode bm25|dense`).
pub fn single(hits: &[Hit], is_dense: bool) -> Vec<Fused> {
    hits.iter()
        .enumerate()
        .map(|(i, h)| {
            let e = Some(ArmEvidence {
                rank: i + 1,
                score: h.score,
            });
            Fused {
                ord: h.ord,
                score: h.score,
                bm25: if is_dense { None } else { e },
                dense: if is_dense { e } else { None },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(v: &[(u32, f32)]) -> Vec<Hit> {
        v.iter().map(|&(ord, score)| Hit { ord, score }).collect()
    }

    #[test]
    fn rrf_by_hand() {
        // bm25: 1, 2, 3   dense: 3, 1
        let f = rrf(
            &hits(&[(1, 9.0), (2, 5.0), (3, 1.0)]),
            &hits(&[(3, 0.9), (1, 0.8)]),
            60.0,
        );
        let s = |o| f.iter().find(|x| x.ord == o).unwrap().score;
        assert!((s(1) - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-7);
        assert!((s(2) - 1.0 / 62.0).abs() < 1e-7);
        assert!((s(3) - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-7);
        assert_eq!(f.iter().map(|x| x.ord).collect::<Vec<_>>(), vec![1, 3, 2]);
        let one = f.iter().find(|x| x.ord == 1).unwrap();
        assert_eq!(one.bm25.unwrap().rank, 1);
        assert_eq!(one.dense.unwrap().rank, 2);
    }

    #[test]
    fn convex_by_hand_and_alpha_direction() {
        let b = hits(&[(1, 10.0), (2, 6.0), (3, 2.0)]);
        let d = hits(&[(3, 0.9), (2, 0.5)]);
        let f = convex(&b, &d, 0.5);
        let s = |o| f.iter().find(|x| x.ord == o).unwrap().score;
        // bm25': 1 -> 1, 2 -> 0.5, 3 -> 0 ; dense': 3 -> 1, 2 -> 0
        assert!((s(1) - 0.5).abs() < 1e-6);
        assert!((s(2) - 0.25).abs() < 1e-6);
        assert!((s(3) - 0.5).abs() < 1e-6);
        // alpha = 1 is dense only, alpha = 0 is BM25 only.
        assert_eq!(convex(&b, &d, 1.0)[0].ord, 3);
        assert_eq!(convex(&b, &d, 0.0)[0].ord, 1);
    }

    #[test]
    fn empty_arms_and_constant_scores() {
        assert!(rrf(&[], &[], 60.0).is_empty());
        let f = convex(&hits(&[(4, 3.0)]), &[], 0.5);
        assert_eq!(f.len(), 1);
        assert!((f[0].score - 0.5).abs() < 1e-6);
        let f = convex(&hits(&[(1, 2.0), (2, 2.0)]), &hits(&[(1, 0.3)]), 0.5);
        assert!(f.iter().all(|x| x.score.is_finite()));
        assert_eq!(f[0].ord, 1);
    }
}

#[cfg(test)]
mod properties {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    /// A ranked arm: distinct ordinals below 40 with descending scores.
    fn arm() -> impl Strategy<Value = Vec<Hit>> {
        (
            proptest::collection::hash_set(0u32..40, 0..25),
            proptest::collection::vec(-50.0f32..50.0, 25),
        )
            .prop_map(|(ords, mut scores)| {
                scores.sort_by(|a, b| b.total_cmp(a));
                ords.into_iter()
                    .zip(scores)
                    .map(|(ord, score)| Hit { ord, score })
                    .collect()
            })
    }

    fn check(out: &[Fused], a: &[Hit], b: &[Hit]) -> Result<(), TestCaseError> {
        let cands: HashSet<u32> = a.iter().chain(b).map(|h| h.ord).collect();
        let seen: HashSet<u32> = out.iter().map(|f| f.ord).collect();
        prop_assert_eq!(seen.len(), out.len(), "duplicates");
        prop_assert_eq!(&seen, &cands, "not exactly the candidates");
        prop_assert!(out.iter().all(|f| f.score.is_finite()));
        prop_assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
        Ok(())
    }

    proptest! {
        #[test]
        fn fused_lists_are_the_candidates_once_each(a in arm(), b in arm(), alpha in 0.0f32..=1.0, k in 1.0f32..100.0) {
            check(&rrf(&a, &b, k), &a, &b)?;
            let c = convex(&a, &b, alpha);
            check(&c, &a, &b)?;
            prop_assert!(c.iter().all(|f| (0.0..=1.0 + 1e-6).contains(&f.score)));
        }

        #[test]
        fn rrf_is_monotone_in_each_arms_rank(a in arm(), b in arm(), pos in 1usize..25) {
            prop_assume!(pos < a.len());
            // Move the passage at `pos` one place up in the BM25 arm.
            let mut better = a.clone();
            better.swap(pos - 1, pos);
            let d = a[pos].ord;
            let before = rrf(&a, &b, 60.0).into_iter().find(|f| f.ord == d).unwrap().score;
            let after = rrf(&better, &b, 60.0).into_iter().find(|f| f.ord == d).unwrap().score;
            prop_assert!(after > before);
        }
    }
}
