"""The best hybrid these pieces reach, chosen without looking at the test queries of the collection
it is reported on: leave one collection out.

usage: python tune_hybrid.py CRAM_BINARY OUT_DIR BEIR_DIR...

1. Grid: for every BM25 k1 in K1S and b in BS (or the pairs in $TUNE_BM25), one `cram eval --beir DIR --json` per collection with
   the convex hybrids (hybrid-convex, hybrid-rm3, hybrid-rocchio, hybrid-prf; RM3 and Rocchio at
   their defaults) and `--alpha-sweep` over ALPHAS. Each run's JSON is kept in OUT_DIR (a rerun
   reuses it), so the grid can be stopped and resumed.
2. Selection: for each collection T, the configuration (k1, b, method, alpha) with the best mean
   nDCG@10 over the *other* collections; T's own nDCG@10 and R@100 at that configuration are
   what is reported for T. The configuration best on T itself is printed too, labelled as tuned
   on T's test queries (a ceiling, not a result).
3. Paired comparison on each collection: the configuration chosen for it against the default
   (hybrid-convex, alpha 0.5, k1 1.2, b 0.75), per query, from TREC run files scored with
   pytrec_eval; mean difference with a 95% percentile-bootstrap interval (10,000 resamples).
"""
import json
import os
import random
import subprocess
import sys

import pytrec_eval

K1S = [0.9, 1.2, 1.5, 2.0]
BS = [0.4, 0.75, 0.9]
# TUNE_BM25="0.9,0.4;1.2,0.75" runs only these (k1, b) pairs instead of K1S x BS (an ArguAna run
# takes minutes on a loaded 2-core machine, mostly embedding its 1,406 long queries one at a time).
BM25 = ([tuple(float(x) for x in pair.split(",")) for pair in os.environ["TUNE_BM25"].split(";")]
        if os.environ.get("TUNE_BM25") else [(k1, b) for k1 in K1S for b in BS])
ALPHAS = [0.3, 0.4, 0.5, 0.6, 0.7]
METHODS = ["hybrid-convex", "hybrid-rm3", "hybrid-rocchio", "hybrid-prf"]


def run_eval(binary, beir, k1, b, extra, out_path):
    if os.path.exists(out_path):
        return json.load(open(out_path))
    cmd = [binary, "eval", "--beir", beir, "--bm25-k1", str(k1), "--bm25-b", str(b), "--resamples", "0",
           "--json", "-q"] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    with open(out_path + ".tmp", "w") as f:
        f.write(out)
    os.replace(out_path + ".tmp", out_path)
    return json.loads(out)


def grid(binary, out_dir, dirs):
    """{collection: {(k1, b, method, alpha): (ndcg, r100)}}"""
    table = {}
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        for k1, b in BM25:
            path = os.path.join(out_dir, f"{name}.k1_{k1}.b_{b}.json")
            r = run_eval(binary, d, k1, b, ["--methods", ",".join(METHODS), "--alpha-sweep",
                                            ",".join(map(str, ALPHAS))], path)
            for alpha, ndcg, r100 in r["alpha_sweep"]:
                table.setdefault(name, {})[(k1, b, "hybrid-convex", round(alpha, 2))] = (ndcg, r100)
            for p in r["feedback_alpha_sweep"]:
                key = (k1, b, p["method"], round(p["alpha"], 2))
                table[name][key] = (p["ndcg@10"], p["recall@100"])
            print(f"{name} k1 {k1} b {b}: done", file=sys.stderr)
    return table


def per_query(beir, run_path):
    qrels = {}
    with open(os.path.join(beir, "qrels", "test.tsv")) as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if i == 0 and cols[0].startswith("query"):
                continue
            qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    run = {}
    for line in open(run_path):
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, {})[doc] = float(score)
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(run)
    qids = sorted(qrels)
    return ([ev.get(q, {}).get("ndcg_cut_10", 0.0) for q in qids],
            [ev.get(q, {}).get("recall_100", 0.0) for q in qids])


def paired(a, b, resamples=10_000, seed=0x5EED):
    d = [y - x for x, y in zip(a, b)]
    rng = random.Random(seed)
    n = len(d)
    means = sorted(sum(d[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return sum(d) / n, means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def config_run(binary, beir, out_dir, k1, b, method, alpha):
    name = os.path.basename(os.path.normpath(beir))
    run_dir = os.path.join(out_dir, f"runs.{name}.k1_{k1}.b_{b}.{method}.a_{alpha}")
    os.makedirs(run_dir, exist_ok=True)
    run_eval(binary, beir, k1, b, ["--methods", method, "--alpha", str(alpha), "--run-out", run_dir],
             os.path.join(run_dir, "report.json"))
    return per_query(beir, os.path.join(run_dir, f"{name}.{method}.run"))


def main(binary, out_dir, dirs):
    os.makedirs(out_dir, exist_ok=True)
    table = grid(binary, out_dir, dirs)
    names = [os.path.basename(os.path.normpath(d)) for d in dirs]
    keys = set.intersection(*(set(table[n]) for n in names))
    print(f"grid: (k1, b) {BM25} x {METHODS} x alpha {ALPHAS} ({len(keys)} configurations)\n")
    print("| collection | chosen on the other collections (k1, b, method, alpha) | nDCG@10 | R@100 "
          "| default hybrid-convex | diff [95% CI] | R@100 diff [95% CI] | best on its own test queries (ceiling) |")
    print("|---|---|---|---|---|---|---|---|")
    for t, d in zip(names, dirs):
        others = [n for n in names if n != t]
        chosen = max(sorted(keys), key=lambda k: sum(table[n][k][0] for n in others) / len(others))
        own = max(sorted(keys), key=lambda k: table[t][k][0])
        k1, b, method, alpha = chosen
        nd, r100 = table[t][chosen]
        base = table[t][(1.2, 0.75, "hybrid-convex", 0.5)]
        qa = config_run(binary, d, out_dir, 1.2, 0.75, "hybrid-convex", 0.5)
        qb = config_run(binary, d, out_dir, k1, b, method, alpha)
        dn, lo, hi = paired(qa[0], qb[0])
        dr, rlo, rhi = paired(qa[1], qb[1])
        print(f"| {t} | {k1}, {b}, {method}, {alpha} | {nd:.4f} | {r100:.4f} | {base[0]:.4f} "
              f"| {dn:+.4f} [{lo:+.4f}, {hi:+.4f}] | {dr:+.4f} [{rlo:+.4f}, {rhi:+.4f}] "
              f"| {own[0]}, {own[1]}, {own[2]}, {own[3]}: {table[t][own][0]:.4f} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
