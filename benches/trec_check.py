"""Checks that cram's metrics equal pytrec_eval's (trec_eval semantics) to 4 decimals.

usage: python trec_check.py BEIR_DIR RUN_DIR   (RUN_DIR holds report.json and <collection>.<method>.run
from `cram eval --beir BEIR_DIR --run-out RUN_DIR --json > RUN_DIR/report.json`). Exit 1 on any mismatch.
"""
import json
import os
import sys

import pytrec_eval


def read_qrels(path):
    qrels = {}
    with open(path) as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if i == 0 and cols[0].startswith("query"):
                continue
            qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    return qrels


def read_run(path, cut=None):
    run = {}
    with open(path) as f:
        for line in f:
            qid, _, doc, rank, score, _ = line.split()
            if cut is None or int(rank) <= cut:
                run.setdefault(qid, {})[doc] = float(score)
    return run


def mean(per_query, measure, qids):
    return sum(per_query.get(q, {}).get(measure, 0.0) for q in qids) / len(qids)


def main(beir_dir, run_dir):
    qrels = read_qrels(os.path.join(beir_dir, "qrels", "test.tsv"))
    report = json.load(open(os.path.join(run_dir, "report.json")))
    qids = sorted(qrels)
    ok = True
    print(f"{'method':16} {'metric':11} {'cram':>8} {'pytrec':>8}")
    for m in report["methods"]:
        path = os.path.join(run_dir, f"{report['collection']}.{m['name']}.run")
        run = read_run(path)
        full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10,100", "map_cut.100"}).evaluate(run)
        top10 = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(read_run(path, cut=10))
        theirs = {
            "ndcg@10": mean(full, "ndcg_cut_10", qids),
            "recall@10": mean(full, "recall_10", qids),
            "recall@100": mean(full, "recall_100", qids),
            "map@100": mean(full, "map_cut_100", qids),
            "mrr@10": mean(top10, "recip_rank", qids),
        }
        for k, v in theirs.items():
            same = round(m[k], 4) == round(v, 4)
            ok &= same
            print(f"{m['name']:16} {k:11} {m[k]:8.4f} {v:8.4f}{'' if same else '  MISMATCH'}")
    print("trec_check: all metrics equal to 4 decimals" if ok else "trec_check: MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
