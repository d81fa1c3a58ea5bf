#!/usr/bin/env bash
# Cross-checks against Python tools, in a throwaway venv (nothing is installed
# into the project or $CRAM_HOME):
#   1. trec_check.py: cram's metrics equal pytrec_eval's on cram's own run files (4 decimals);
#   2. bm25s_speed.py: BM25 search throughput, one thread, cram vs bm25s on the same machine.
#
# usage: benches/python-baselines.sh [BEIR_DIR]     (default ../shared/benchmarks/scifact)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
coll="${1:-$root/../shared/benchmarks/scifact}"
[ -d "$coll" ] || { echo "python-baselines: no collection at $coll" >&2; exit 1; }
cram="$root/target/release/cram"
[ -x "$cram" ] || (cd "$root" && cargo build --release --locked)
venv="${TMPDIR:-/tmp}/cram-python-baselines"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pytrec-eval-terrier==0.5.11 bm25s==0.3.16 PyStemmer==3.1.0 numpy==2.4.6 scipy==1.17.1
fi
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
echo "== cram eval --beir $coll (run files in $runs)" >&2
"$cram" eval --beir "$coll" --run-out "$runs" --json --resamples 1000 > "$runs/report.json"
"$venv/bin/python" "$here/trec_check.py" "$coll" "$runs"
"$venv/bin/python" "$here/bm25s_speed.py" "$coll" "$runs/report.json"
