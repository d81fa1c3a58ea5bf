//! IR metrics, computed the way `trec_eval` (and `pytrec_eval`, which BEIR
//! uses) computes them, so numbers can sit next to a paper's table.
//!
//! For one query with judgments `qrels` (document id -> graded relevance; a
//! grade > 0 is relevant) and a ranked list of document ids:
//!
//! * `nDCG@k` = DCG@k / IDCG@k with gain = the grade and discount
//!   `log2(rank + 1)`; IDCG ranks *all* judged relevant documents by grade
//!   (trec_eval `ndcg_cut`).
//! * `Recall@k` = relevant retrieved in the top k / all relevant.
//! * `MRR@k` = 1 / rank of the first relevant document in the top k, else 0.
//! * `MAP@k` = sum of precision@r over the ranks r <= k holding a relevant
//!   document, divided by the number of relevant documents (trec_eval `map_cut`).
//!
//! A query whose relevant documents are all missing from the corpus still
//! counts, with zeros. Ranking order is the caller's: [`trec_order`] sorts a
//! scored run the way trec_eval does (score descending, ties by document id
//! descending).

use std::collections::HashMap;

use serde::Serialize;

/// Judgments for one query: document id -> grade.
pub type Qrels = HashMap<String, i32>;

/// Metrics of one query (or their mean over queries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Scores {
    /// nDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg10: f64,
    /// Recall@10.
    #[serde(rename = "recall@10")]
    pub recall10: f64,
    /// Recall@100.
    #[serde(rename = "recall@100")]
    pub recall100: f64,
    /// MRR@10.
    #[serde(rename = "mrr@10")]
    pub mrr10: f64,
    /// MAP@100.
    #[serde(rename = "map@100")]
    pub map100: f64,
}

impl Scores {
    /// The mean of each metric over `all` (zeros for an empty slice).
    pub fn mean(all: &[Scores]) -> Scores {
        let n = all.len().max(1) as f64;
        let mut m = Scores::default();
        for s in all {
            m.ndcg10 += s.ndcg10;
            m.recall10 += s.recall10;
            m.recall100 += s.recall100;
            m.mrr10 += s.mrr10;
            m.map100 += s.map100;
        }
        m.ndcg10 /= n;
        m.recall10 /= n;
        m.recall100 /= n;
        m.mrr10 /= n;
        m.map100 /= n;
        m
    }
}

/// All metrics of one ranked list.
pub fn score(ranked: &[&str], qrels: &Qrels) -> Scores {
    Scores {
        ndcg10: ndcg(ranked, qrels, 10),
        recall10: recall(ranked, qrels, 10),
        recall100: recall(ranked, qrels, 100),
        mrr10: mrr(ranked, qrels, 10),
        map100: average_precision(ranked, qrels, 100),
    }
}

fn grade(qrels: &Qrels, doc: &str) -> i32 {
    qrels.get(doc).copied().unwrap_or(0)
}

fn relevant_count(qrels: &Qrels) -> usize {
    qrels.values().filter(|&&g| g > 0).count()
}

/// nDCG@k with graded gains and log2 discount.
pub fn ndcg(ranked: &[&str], qrels: &Qrels, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| grade(qrels, d).max(0) as f64 / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<i32> = qrels.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &g)| g as f64 / ((i + 2) as f64).log2())
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Recall@k.
pub fn recall(ranked: &[&str], qrels: &Qrels, k: usize) -> f64 {
    let rel = relevant_count(qrels);
    if rel == 0 {
        return 0.0;
    }
    ranked
        .iter()
        .take(k)
        .filter(|d| grade(qrels, d) > 0)
        .count() as f64
        / rel as f64
}

/// MRR@k.
pub fn mrr(ranked: &[&str], qrels: &Qrels, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|d| grade(qrels, d) > 0)
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// Average precision cut at k, over all relevant documents.
pub fn average_precision(ranked: &[&str], qrels: &Qrels, k: usize) -> f64 {
    let rel = relevant_count(qrels);
    if rel == 0 {
        return 0.0;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (i, d) in ranked.iter().take(k).enumerate() {
        if grade(qrels, d) > 0 {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    sum / rel as f64
}

/// Sorts `(doc id, score)` pairs as trec_eval does before scoring: by score
/// descending, ties by document id descending.
pub fn trec_order(run: &mut [(String, f32)]) {
    run.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
}

/// Paired comparison of two methods over the same queries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Paired {
    /// Mean of `b - a`.
    pub mean_diff: f64,
    /// 2.5th percentile of the bootstrap distribution of the mean difference.
    pub ci_low: f64,
    /// 97.5th percentile.
    pub ci_high: f64,
    /// Queries where b scored higher.
    pub wins: usize,
    /// Queries where b scored lower.
    pub losses: usize,
    /// Queries with equal scores.
    pub ties: usize,
}

/// Wins/losses and a percentile-bootstrap 95% confidence interval of the
/// mean per-query difference `b - a` (`resamples` resamples of the queries
/// with replacement, fixed seed so runs are reproducible).
pub fn paired_bootstrap(a: &[f64], b: &[f64], resamples: usize, seed: u64) -> Paired {
    assert_eq!(a.len(), b.len());
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let n = d.len();
    let eps = 1e-12;
    let wins = d.iter().filter(|&&x| x > eps).count();
    let losses = d.iter().filter(|&&x| x < -eps).count();
    let (ci_low, ci_high) = bootstrap_mean_ci(&d, resamples, seed);
    Paired {
        mean_diff: d.iter().sum::<f64>() / n.max(1) as f64,
        ci_low,
        ci_high,
        wins,
        losses,
        ties: n - wins - losses,
    }
}

/// Percentile-bootstrap 95% confidence interval of the mean of `v`
/// (`resamples` resamples with replacement; fixed `seed`, so reproducible).
pub fn bootstrap_mean_ci(v: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    let n = v.len();
    if n == 0 || resamples == 0 {
        return (0.0, 0.0);
    }
    let mut s = seed.max(1);
    let mut next = || {
        // xorshift64*: small, fast, good enough to resample indexes.
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut means = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut sum = 0.0;
        for _ in 0..n {
            sum += v[(next() % n as u64) as usize];
        }
        means.push(sum / n as f64);
    }
    means.sort_by(f64::total_cmp);
    let pick =
        |p: f64| means[((p * (means.len() - 1) as f64).round() as usize).min(means.len() - 1)];
    (pick(0.025), pick(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels(v: &[(&str, i32)]) -> Qrels {
        v.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn ndcg_by_hand() {
        // Relevant: a (2), b (1), c (1, never retrieved). Ranking: x, a, b.
        let q = qrels(&[("a", 2), ("b", 1), ("c", 1), ("z", 0)]);
        let dcg = 2.0 / 3f64.log2() + 1.0 / 4f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        close(ndcg(&["x", "a", "b"], &q, 10), dcg / idcg);
        // Perfect ranking is 1; cut at 1 sees only the first document.
        close(ndcg(&["a", "b", "c"], &q, 10), 1.0);
        close(ndcg(&["b", "a"], &q, 1), 1.0 / 2.0);
        // No relevant documents: 0, not NaN.
        close(ndcg(&["a"], &qrels(&[("a", 0)]), 10), 0.0);
    }

    #[test]
    fn recall_mrr_map_by_hand() {
        let q = qrels(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)]);
        let run = ["x", "a", "y", "b"];
        close(recall(&run, &q, 10), 0.5);
        close(recall(&run, &q, 2), 0.25);
        close(mrr(&run, &q, 10), 0.5);
        close(mrr(&run, &q, 1), 0.0);
        // AP: hits at ranks 2 and 4 -> (1/2 + 2/4) / 4 relevant.
        close(average_precision(&run, &q, 100), (0.5 + 0.5) / 4.0);
        close(average_precision(&run, &q, 3), 0.5 / 4.0);
    }

    #[test]
    fn trec_eval_tie_order() {
        let mut run = vec![
            ("d1".to_string(), 1.0),
            ("d3".to_string(), 2.0),
            ("d2".to_string(), 1.0),
        ];
        trec_order(&mut run);
        let ids: Vec<&str> = run.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(ids, ["d3", "d2", "d1"]);
    }

    #[test]
    fn bootstrap_brackets_the_mean_and_counts() {
        let a = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.5];
        let b = vec![0.2, 0.3, 0.3, 0.6, 0.4, 0.9];
        let p = paired_bootstrap(&a, &b, 2000, 7);
        assert_eq!((p.wins, p.losses, p.ties), (4, 1, 1));
        close(p.mean_diff, (0.1 + 0.1 + 0.0 + 0.2 - 0.1 + 0.4) / 6.0);
        assert!(p.ci_low <= p.mean_diff && p.mean_diff <= p.ci_high);
        // Identical systems: a zero-width interval at 0.
        let z = paired_bootstrap(&a, &a, 100, 1);
        assert_eq!((z.ci_low, z.ci_high, z.ties), (0.0, 0.0, 6));
    }
}
